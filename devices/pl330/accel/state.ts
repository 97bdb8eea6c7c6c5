/**
 * The PL330 accelerator: its scratch state (all of it here, preallocated: no allocation per
 * chunk) and its entry point. The algorithms are in loop.ts (eligibility, block copy,
 * batched stepping), translated.ts (translation-level bursts, page-run segments, the
 * held-back RAM copy) and copy-run.ts (copy runs through TranslationStage.translateCopyRun).
 */
import type { RamRegion } from '../../../emulator/bus.js';
import type { CopyRun, TranslationResult } from '../../../emulator/master.js';
import type { Pl330LoopAccel } from '../pl330.js';
import type { Pl330Thread } from '../thread.js';
import type { AccelHost } from './host.js';
import { tryBulk } from './loop.js';

const result = (): TranslationResult => ({ status: 0, pa: 0, extent: 0, costNs: 0 });

export class Pl330Accel implements Pl330LoopAccel {
  /** one-instruction buffer for the reference executor (loads/stores of a batch) */
  readonly insn = new Uint8Array(6);
  /** the loop body's first bytes, read from the instruction cache once per batch */
  readonly bodyOps: number[] = [];
  // translation-level bursts: loads translated and not yet stored (pa, region), FIFO order
  xPending = 0;
  xHead = 0;
  readonly xPa: number[] = [];
  readonly xRegion: RamRegion[] = [];
  readonly xOut: TranslationResult = result();
  readonly xTr: TranslationResult = result();
  // the held-back RAM copy (translated.ts addCopy/flushCopy): source and destination
  // region, offsets and length of bytes still to be written
  cPend = false;
  cSr: RamRegion | null = null;
  cDr: RamRegion | null = null;
  cSo = 0;
  cDo = 0;
  cLen = 0;
  /** translation cost of the last segment (ns) */
  segCost = 0;
  readonly segSrc: TranslationResult = result();
  readonly segDst: TranslationResult = result();
  /** in/out block of translateCopyRun */
  readonly cRun: CopyRun = {
    srcVa: 0, srcAttrs: 0, dstVa: 0, dstAttrs: 0, burst: 0, iterations: 0, limitNs: Infinity, iterNs: 0, done: 0, costNs: 0,
    srcPa: new Float64Array(0), dstPa: new Float64Array(0),
  };

  constructor(readonly h: AccelHost) {}

  loop(t: Pl330Thread, jump: number, lc1: boolean): boolean {
    return tryBulk(this, t, jump, lc1);
  }
}
