/**
 * What the accelerators need from the DMAC (implemented by `Pl330`, pl330.ts) and the
 * instruction knowledge they use (derived from the ISA table, isa.ts).
 */
import type { Attrs } from '../../../emulator/attrs.js';
import type { MasterPort } from '../../../emulator/master.js';
import type { Scheduler } from '../../../emulator/scheduler.js';
import type { Pl330Config } from '../config.js';
import type { Icache } from '../icache.js';
import { DECODE, insn, type Next } from '../isa.js';
import type { Mfifo, Pl330Thread } from '../thread.js';

export interface AccelHost {
  readonly cfg: Pl330Config;
  readonly name: string;
  readonly channels: readonly Pl330Thread[];
  readonly manager: Pl330Thread;
  readonly port: MasterPort;
  readonly sched: Scheduler;
  readonly mfifo: Mfifo;
  readonly mfifoBytes: number;
  readonly busBytes: number;
  readonly periodNs: number;
  readonly icache: Icache<Pl330Thread>;
  /** cycles the current step has consumed so far (the DMALPEND's fetch) */
  cycles: number;
  deferFaults: boolean;
  deferredFault: number;
  kick(t: Pl330Thread, delayNs: number): void;
  fault(t: Pl330Thread, bits: number): void;
  /** the reference executor: one instruction through the ISA table */
  execute(t: Pl330Thread, b: Uint8Array, dbg: boolean): Next;
  dataAttrs(prot: number, write: boolean): Attrs;
}

/** Per-iteration shape of a pure copy loop (batched page-run segments). */
export interface SegmentShape {
  /** cycles of one iteration: DMALPEND + body */
  cyc: number;
  srcPer: number;
  dstPer: number;
  nLd: number;
  nSt: number;
}

/**
 * Loop-body instructions the accelerators run in bulk, by first byte (ISA classes; all are
 * one byte long): 1 DMALD[S|B], 2 DMAST[S|B], 3 one cycle and no effect here (DMARMB,
 * DMAWMB, DMANOP), 0 anything else (the loop then runs on the reference executor).
 */
const BODY_KIND: Uint8Array = Uint8Array.from(DECODE, (e) => {
  if (e === null || e.size !== 1) return 0;
  return e.cls === 'load' ? 1 : e.cls === 'store' ? 2 : e.cls === 'barrier' || e.cls === 'nop' ? 3 : 0;
});

/** op: a first byte, or -1 (not cached) */
export const isLoadOp = (op: number): boolean => op >= 0 && BODY_KIND[op] === 1;
export const isStoreOp = (op: number): boolean => op >= 0 && BODY_KIND[op] === 2;
export const isOneCycleOp = (op: number): boolean => op >= 0 && BODY_KIND[op] === 3;

/** unconditional DMALPEND on LC0 / LC1, and DMALP LC0 (nested-loop recognition in copy runs) */
export const LPEND_LC0 = insn('DMALPEND').enc;
export const LPEND_LC1 = insn('DMALPEND').enc | 4;
export const LP_LC0 = insn('DMALP').enc;

/**
 * What a batch that moved `src` bytes from SAR and `dst` bytes to DAR leaves behind, as the
 * same DMALD/DMAST steps would (transfer.ts): addresses advanced, the thread's and the port's
 * byte counts, and the last page each side touched.
 */
export function advanceBatch(h: AccelHost, t: Pl330Thread, src: number, dst: number): void {
  h.port.bytes += src + dst;
  t.sar = (t.sar + src) >>> 0;
  t.dar = (t.dar + dst) >>> 0;
  t.bytesLoaded += src;
  t.bytesStored += dst;
  t.lastSrcPage = Math.floor((t.sar - 1) / 4096);
  t.lastDstPage = Math.floor((t.dar - 1) / 4096);
}
