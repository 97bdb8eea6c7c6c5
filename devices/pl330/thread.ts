/**
 * PL330 threads and the MFIFO (DMA-330 TRM, ARM DDI 0424: chapter 2, operating states and
 * the MFIFO).
 *
 * A thread is the manager (id -1) or a DMA channel. Its state machine (TRM chapter 2, state
 * encodings in DSR/CSR [3:0], TRM 3.4):
 *
 *   Stopped --DMAGO--> Executing --DMAEND--> (Completing) --> Stopped
 *   Executing --DMAWFE--> Waiting for event --DMASEV/event--> Executing
 *   Executing --DMAWFP--> Waiting for peripheral --request--> Executing
 *   any --fault--> Faulting --DMAKILL--> (Killing) --> Stopped
 *
 * The transient states (cache miss, updating PC, barrier, queue busy, killing, completing,
 * faulting completing) take no time in this model and are never observed. The scheduling part
 * of the transitions (events on the scheduler, interrupts) is in pl330.ts; this file holds the
 * thread's architectural state and the MFIFO the channels share.
 */
import type { MasterFault } from '../../emulator/master.js';
import type { SimEvent } from '../../emulator/scheduler.js';
import { WIDE_FIELD_INIT, type Ns } from '../../emulator/time.js';
import * as C from './constants.js';

const NO_BYTES = new Uint8Array(0);

/** Byte FIFO: one channel's in-order share of the MFIFO. */
export class ByteFifo {
  /** allocated on the first push (issue 19, lean boot: most channels never move data) */
  private buf: Uint8Array = NO_BYTES;
  head = 0;
  len = 0;
  constructor(readonly cap: number) {}
  push(src: Uint8Array, off: number, n: number): void {
    const cap = this.cap;
    if (this.buf.length !== cap) this.buf = new Uint8Array(cap);
    let tail = (this.head + this.len) % cap;
    for (let i = 0; i < n; ) {
      const k = Math.min(n - i, cap - tail);
      this.buf.set(src.subarray(off + i, off + i + k), tail);
      i += k;
      tail = (tail + k) % cap;
    }
    this.len += n;
  }
  pop(dst: Uint8Array, off: number, n: number): void {
    const cap = this.cap;
    for (let i = 0; i < n; ) {
      const k = Math.min(n - i, cap - this.head);
      dst.set(this.buf.subarray(this.head, this.head + k), off + i);
      i += k;
      this.head = (this.head + k) % cap;
    }
    this.len -= n;
  }
  clear(): void {
    this.head = 0;
    this.len = 0;
  }
}

/**
 * The MFIFO (TRM chapter 2): one buffer of `mfifo-depth x data-width/8` bytes shared by all
 * channels, each channel's data kept in order. Accounting is by bytes (docs/PL330.md,
 * simplifications).
 */
export class Mfifo {
  /** bytes held by all channels */
  used = 0;
  constructor(readonly bytes: number) {}
  get free(): number {
    return this.bytes - this.used;
  }
  push(t: Pl330Thread, src: Uint8Array, off: number, n: number): void {
    t.fifo!.push(src, off, n);
    this.used += n;
  }
  pop(t: Pl330Thread, dst: Uint8Array, off: number, n: number): void {
    t.fifo!.pop(dst, off, n);
    this.used -= n;
  }
  /** DMAEND/DMAKILL/fault: the thread's leftover data is discarded */
  discard(t: Pl330Thread): void {
    if (t.fifo) {
      this.used -= t.fifo.len;
      t.fifo.clear();
    }
  }
  reset(): void {
    this.used = 0;
  }
}

/** One DMA thread: the manager (id -1) or a channel. */
export class Pl330Thread {
  state = C.ST_STOPPED;
  pc = WIDE_FIELD_INIT;
  /** CSR.CNS / DSR.DNS: set by DMAGO (channel) or boot_manager_ns (manager); 0 at reset */
  ns = false;
  ftr = 0;
  /** event (DMAWFE) or peripheral (DMAWFP) the thread waits for: DSR/CSR [8:4] */
  wakeup = 0;
  /** (pc, sar, dar: 32-bit addresses, doubles from the start: emulator/time.ts WIDE_FIELD_INIT) */
  sar = WIDE_FIELD_INIT;
  dar = WIDE_FIELD_INIT;
  ccr = C.CCR_RESET;
  lc0 = 0;
  lc1 = 0;
  /** request_type flag: false single, true burst */
  reqBurst = false;
  /** the peripheral flagged its last request (DMALPFE exits) */
  reqLast = false;
  wfpBurstNs = false;
  wfpPeriph = false;
  /** the thread's next scheduler event */
  ev: SimEvent | null = null;
  stallCycles = 0;
  /** 4 KiB pages of the last successful load / store burst (-1: none) */
  lastSrcPage = -1;
  lastDstPage = -1;
  /** per-transfer statistics (since DMAGO); startNs a double from the start (emulator/time.ts WIDE_FIELD_INIT) */
  startNs: Ns = WIDE_FIELD_INIT;
  bytesLoaded = 0;
  bytesStored = 0;
  instructions = 0;
  /**
   * Stall model (an access held by the translation stage, emulator/master.ts BUS_STALLED):
   * the FTR bit the held access takes if it is terminated (0: not waiting), a generation
   * bumped when the thread stops (a later resolution of an old wait is ignored), whether
   * the next step retries an instruction already counted, the burst a stalled store
   * had taken from the MFIFO (issued again on retry), and the held accesses of the current
   * instruction that ended as RAZ/WI (StallOutcome 'razwi': completed as RAZ/WI whenever the
   * instruction is issued again, until it completes; stall.ts awaitStall).
   */
  stalledOn = 0;
  stallGen = 0;
  stallRetry = false;
  replayStore: Uint8Array | null = null;
  razwiDone: MasterFault[] = [];
  constructor(
    readonly id: number,
    readonly fifo: ByteFifo | null,
  ) {
    this.pc = this.sar = this.dar = this.startNs = 0;
  }

  get isManager(): boolean {
    return this.id < 0;
  }

  /** stopped or faulting: the thread issues nothing */
  get idle(): boolean {
    return this.state === C.ST_STOPPED || this.state === C.ST_FAULTING;
  }

  get faulted(): boolean {
    return this.state === C.ST_FAULTING || this.state === C.ST_FAULT_COMPLETING;
  }

  /**
   * reset values (TRM 3.4: CSR/CPC/SAR/DAR/LC0/LC1 0, CCR 0x00800200). CSR's reset value 0
   * includes CNS (bit 21): a channel that never ran reads secure; the manager's DSR.DNS
   * comes from boot_manager_ns (Pl330.reset sets it after this).
   */
  resetState(): void {
    this.state = C.ST_STOPPED;
    this.ns = false;
    this.wfpBurstNs = this.wfpPeriph = false;
    this.pc = 0;
    this.ftr = 0;
    this.wakeup = 0;
    this.sar = this.dar = this.lc0 = this.lc1 = 0;
    this.ccr = C.CCR_RESET;
    this.reqBurst = false;
    this.reqLast = false;
    this.stallCycles = 0;
    this.fifo?.clear();
  }

  /** DMAGO (TRM 4.3 DMAGO): the channel starts at `pc` with security `ns`, request flag single */
  begin(pc: number, ns: boolean, now: number): void {
    this.pc = pc >>> 0;
    this.ns = ns;
    this.ftr = 0;
    this.state = C.ST_EXECUTING;
    this.reqBurst = false;
    this.reqLast = false;
    this.stallCycles = 0;
    this.wfpBurstNs = this.wfpPeriph = false;
    this.startNs = now;
    this.lastSrcPage = this.lastDstPage = -1;
    this.bytesLoaded = this.bytesStored = this.instructions = 0;
  }

  /** DSR (manager) or CSR (channel), TRM 3.4 */
  statusRegister(): number {
    if (this.isManager) return (this.state | (this.wakeup << 4) | (this.ns ? 1 << 9 : 0)) >>> 0;
    return (this.state | (this.wakeup << 4) | (this.wfpBurstNs ? 1 << 14 : 0) | (this.wfpPeriph ? 1 << 15 : 0) | (this.ns ? 1 << 21 : 0)) >>> 0;
  }
}
