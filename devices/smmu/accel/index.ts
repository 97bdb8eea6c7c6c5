/**
 * The SMMU's accelerators (emulator/accel.ts): installed on an Smmu built with
 * `accel: true`, they add the optional bulk-DMA hooks of TranslationStage
 * (emulator/master.ts: quietLookup, translateHits, translateCopyRun) and a translate() that
 * replays the walk quietLookup has just made for the same access. They only read the
 * reference model's state and perform, in bulk, what its translate() would do; removing
 * this folder and the one call in the Smmu constructor leaves a correct, slower SMMU.
 *
 * The installed methods are the same function objects for every instance (their state
 * hangs off the instance), so a master's call site stays monomorphic.
 */
import type { Attrs } from '../../../emulator/attrs.js';
import type { CopyRun, TranslationResult } from '../../../emulator/master.js';
import type { Smmu } from '../smmu.js';
import { CopyRunner } from './copy-run.js';
import { QuietPath } from './quiet.js';

type TranslateFn = (this: Smmu, va: number, attrs: Attrs, out: TranslationResult) => void;
type Accelerated = Smmu & { accelQuiet: QuietPath; accelCopy: CopyRunner };

/** the reference translate (Smmu.prototype.translate), taken at the first installation */
// host-only: a function (Smmu.prototype.translate), the same for every SMMU
let reference: TranslateFn | null = null;

function translate(this: Smmu, va: number, attrs: Attrs, out: TranslationResult): void {
  const q = (this as Accelerated).accelQuiet;
  q.version++;
  if (q.qValid && q.replay(va, attrs, out)) return;
  reference!.call(this, va, attrs, out);
}

function quietLookup(this: Smmu, va: number, attrs: Attrs, out?: TranslationResult, avoidLo?: number, avoidHi?: number): boolean {
  const q = (this as Accelerated).accelQuiet;
  q.version++;
  return q.quietLookup(va, attrs, out, avoidLo, avoidHi);
}

function translateHits(this: Smmu, va: number, attrs: Attrs, count: number, out: TranslationResult): boolean {
  const q = (this as Accelerated).accelQuiet;
  q.version++;
  return q.translateHits(va, attrs, count, out);
}

function translateCopyRun(this: Smmu, run: CopyRun): void {
  const a = this as Accelerated;
  // the copy runner also drives the quiet path
  a.accelCopy.version++;
  a.accelQuiet.version++;
  a.accelCopy.translateCopyRun(run);
}

/**
 * The accelerators' state, for the fuzzer's snapshot guards (tools/fuzz/snapshot.ts): each
 * part counts its changes in its own `version`, which the four hooks above count on entry
 * (nothing else calls into the accelerators). None for an SMMU without accelerators.
 */
export function accelParts(smmu: Smmu): { owner: { readonly version: number }; root: object }[] {
  if (!smmu.accel) return [];
  const a = smmu as Accelerated;
  return [
    { owner: a.accelQuiet, root: a.accelQuiet },
    { owner: a.accelCopy, root: a.accelCopy },
  ];
}

export function installAccel(smmu: Smmu): void {
  reference ??= smmu.translate as TranslateFn;
  const a = smmu as Accelerated;
  a.accelQuiet = new QuietPath(smmu);
  a.accelCopy = new CopyRunner(smmu, a.accelQuiet);
  smmu.translate = translate;
  smmu.quietLookup = quietLookup;
  smmu.translateHits = translateHits;
  smmu.translateCopyRun = translateCopyRun;
}
