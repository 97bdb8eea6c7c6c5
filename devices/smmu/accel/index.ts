/**
 * The SMMU's accelerators (emulator/accel.ts): installed on an Smmu built with
 * `accel: true`, they add the optional bulk-DMA hooks of TranslationStage
 * (emulator/master.ts: quietLookup, translateHits, translateCopyRun) and a translate() that
 * replays the walk quietLookup has just made for the same access. They only read the
 * reference model's state and perform, in bulk, what its translate() would do; removing
 * this folder and the one call in the Smmu constructor leaves a correct, slower SMMU.
 */
import type { Smmu } from '../smmu.js';
import { CopyRunner } from './copy-run.js';
import { QuietPath, type TranslateFn } from './quiet.js';

export function installAccel(smmu: Smmu): void {
  // the reference translate (the prototype's method), called by the replaying one
  const ref = smmu.translate as TranslateFn;
  const quiet = new QuietPath(smmu, ref);
  const copy = new CopyRunner(smmu, quiet);
  smmu.translate = (va, attrs, out) => quiet.translate(va, attrs, out);
  smmu.quietLookup = (va, attrs, out, avoidLo, avoidHi) => quiet.quietLookup(va, attrs, out, avoidLo, avoidHi);
  smmu.translateHits = (va, attrs, count, out) => quiet.translateHits(va, attrs, count, out);
  smmu.translateCopyRun = (run) => copy.translateCopyRun(run);
}
