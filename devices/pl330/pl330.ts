import { ATTR_INSTR, ATTR_NS, ATTR_PRIV, STREAM_MASK, STREAM_SHIFT, type Attrs } from '../../emulator/attrs.js';
import { BUS_OK, SIZE_4, ramWritten, type MmioDevice, type RamRegion } from '../../emulator/bus.js';
import type { IrqLine } from '../../emulator/irq.js';
import type { CopyRun, MasterPort, TranslationResult, TranslationStage } from '../../emulator/master.js';
import type { Scheduler, SimEvent } from '../../emulator/scheduler.js';
import type { Tracer } from '../../emulator/trace.js';
import * as C from './constants.js';

/** Static configuration (what the device tree / CR0-CR4 / CRD describe). */
export interface Pl330Config {
  channels: number; // 1..8
  events: number; // 1..32 (event/IRQ numbers)
  periphReqs: number; // 0..32
  dataWidthBits: 32 | 64 | 128;
  mfifoDepth: number; // MFIFO lines of data width (1..1024)
  rdCap: number;
  wrCap: number;
  rdQueueDepth: number;
  wrQueueDepth: number;
  icacheLines: number;
  icacheLineWords: number; // 4, 8, 16 or 32
  revision: number; // periph id revision ([23:20] of the combined id)
  clockHz: number;
  mgrNsAtReset: boolean;
  bootEn: boolean;
  bootAddr: number;
  /** CR3: bit n = event/irq n is non-secure (default: all non-secure) */
  irqNs: number;
  /** CR4: bit n = peripheral n is non-secure (default: all non-secure) */
  periphNs: number;
  /** SMMU stream id carried in every transaction's attributes */
  streamId: number;
  /** allow bulk execution of load/store loop bodies (equivalent to step execution) */
  fastPath: boolean;
  /** fast path: at most this many source bytes per bulk chunk (one scheduler event) */
  bulkChunkBytes: number;
  /** emit one 'pl330-insn' trace event per executed instruction (off by default) */
  traceInstructions: boolean;
}

export const DEFAULT_PL330_CONFIG: Pl330Config = {
  channels: 8,
  events: 16,
  periphReqs: 4,
  dataWidthBits: 128,
  mfifoDepth: 256,
  rdCap: 8,
  wrCap: 8,
  rdQueueDepth: 16,
  wrQueueDepth: 16,
  icacheLines: 16,
  icacheLineWords: 4,
  revision: 2,
  clockHz: 100_000_000,
  mgrNsAtReset: true,
  bootEn: false,
  bootAddr: 0,
  irqNs: 0xffffffff,
  periphNs: 0xffffffff,
  streamId: 0,
  fastPath: true,
  bulkChunkBytes: 65536,
  traceInstructions: false,
};

/**
 * Timing model (cycles of the DMAC clock; see docs/PL330.md).
 */
export const TIMING = {
  /** every instruction: decode/execute */
  insnCycles: 1,
  /** an instruction-cache line fill: address phase + latency, plus one cycle per bus beat */
  icacheMissBaseCycles: 2,
  /** DMALD/DMAST/DMASTZ: AXI address phase + response latency, plus one cycle per beat */
  axiLatencyCycles: 2,
  /** DBGCMD: the debug interface is busy this many cycles before the instruction runs */
  debugCycles: 1,
  /** a stalled DMALD (MFIFO full with another channel's data) retries after this many cycles */
  stallRetryCycles: 16,
  /** watchdog: a thread stalled this long without progress is locked up */
  watchdogCycles: 1024,
} as const;

/** A peripheral attached to one of the DMAC's request interfaces. */
export interface Pl330PeripheralPort {
  /** DMALDP/DMASTP acknowledged the current request (kind 'single' or 'burst') */
  ack?(kind: 'single' | 'burst', last: boolean): void;
  /** DMAFLUSHP: the DMAC cleared its request state; the peripheral should re-send */
  flush?(): void;
}

/** Per-iteration shape of a pure copy loop (batched page-run segments). */
interface SegmentShape {
  /** cycles of one iteration: DMALPEND + body */
  cyc: number;
  srcPer: number;
  dstPer: number;
  nLd: number;
  nSt: number;
}

/** Byte FIFO: one channel's share of the MFIFO. */
class ByteFifo {
  buf: Uint8Array;
  head = 0;
  len = 0;
  constructor(cap: number) {
    this.buf = new Uint8Array(cap);
  }
  push(src: Uint8Array, off: number, n: number): void {
    const cap = this.buf.length;
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
    const cap = this.buf.length;
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

/** One DMA thread: the manager (id -1) or a channel. */
export class Pl330Thread {
  state = C.ST_STOPPED;
  pc = 0;
  ns = true;
  ftr = 0;
  wakeup = 0;
  sar = 0;
  dar = 0;
  ccr = C.CCR_RESET;
  lc0 = 0;
  lc1 = 0;
  /** request_type flag: false single, true burst */
  reqBurst = false;
  /** the peripheral flagged its last request (DMALPFE exits) */
  reqLast = false;
  wfpBurstNs = false;
  wfpPeriph = false;
  ev: SimEvent | null = null;
  stallCycles = 0;
  /** 4 KiB pages of the last successful load / store burst (-1: none) */
  lastSrcPage = -1;
  lastDstPage = -1;
  /** per-transfer statistics (since DMAGO) */
  startNs = 0;
  bytesLoaded = 0;
  bytesStored = 0;
  instructions = 0;
  constructor(
    readonly id: number,
    readonly fifo: ByteFifo | null,
  ) {}
  get isManager(): boolean {
    return this.id < 0;
  }
}

export type Pl330InsnObserver = (thread: number, pc: number, bytes: Uint8Array, len: number) => void;

/** Result of one instruction's execution. */
const enum Next {
  Advance, // pc += size, continue
  Jumped, // pc already updated, continue
  Block, // waiting (event/peripheral/stall): do not schedule
  Stop, // stopped/faulted
  Scheduled, // the handler scheduled the next step itself
}

/** Instruction sizes by first byte (0 = undefined encoding). */
const INSN_SIZE = new Uint8Array(256);
(() => {
  const set = (b: number, n: number): void => {
    INSN_SIZE[b] = n;
  };
  set(0x00, 1); // END
  set(0x01, 1); // KILL
  for (const b of [0x04, 0x05, 0x07, 0x08, 0x09, 0x0b, 0x0c, 0x12, 0x13, 0x18]) set(b, 1);
  for (const b of [0x20, 0x22, 0x25, 0x27, 0x29, 0x2b, 0x30, 0x31, 0x32, 0x34, 0x35, 0x36]) set(b, 2);
  for (const b of [0x28, 0x2c, 0x2d, 0x2f, 0x38, 0x39, 0x3b, 0x3c, 0x3d, 0x3f]) set(b, 2);
  for (const b of [0x54, 0x56, 0x5c, 0x5e]) set(b, 3);
  set(0xa0, 6);
  set(0xa2, 6);
  set(0xbc, 6);
})();
export function pl330InsnSize(b0: number): number {
  return INSN_SIZE[b0 & 0xff]!;
}

export interface Pl330Deps {
  scheduler: Scheduler;
  port: MasterPort;
  /** event interrupt lines irq[0..n) (missing lines: the event still sets INT_EVENT_RIS) */
  eventIrqs: IrqLine[];
  abortIrq: IrqLine | null;
  tracer?: Tracer | null;
  name?: string;
}

/**
 * The PL330 DMA controller model. Each thread runs as scheduler events in virtual time:
 * one event per instruction (or per bulk chunk on the fast path), so an endless DMA
 * program only consumes virtual time and event budget.
 */
export class Pl330 implements MmioDevice {
  readonly name: string;
  readonly accessSizes = SIZE_4;
  readonly cfg: Pl330Config;
  readonly manager: Pl330Thread;
  readonly channels: Pl330Thread[];
  readonly periodNs: number;
  readonly busBytes: number;
  readonly mfifoBytes: number;
  /** optional instruction-level observer (tests, tracing) */
  insnObserver: Pl330InsnObserver | null = null;

  private readonly sched: Scheduler;
  private readonly port: MasterPort;
  private readonly eventIrqs: IrqLine[];
  private readonly abortIrq: IrqLine | null;
  private readonly tracer: Tracer | null;
  private inten = 0;
  private ris = 0;
  private wd = 0;
  private dbgInst0 = 0;
  private dbgInst1 = 0;
  private dbgBusy = false;
  private dbgEv: SimEvent | null = null;
  /** watchdog irq-only lockup indication (WD.wd_irq_only = 1) */
  private lockupIrq = false;
  private mfifoUsed = 0;
  private readonly periphPending: Uint8Array; // 0 none, 1 single, 2 burst
  private readonly periphLast: Uint8Array;
  private readonly periphPorts: (Pl330PeripheralPort | null)[];
  // icache
  private readonly icLineBytes: number;
  private readonly icTags: Float64Array;
  private readonly icData: Uint8Array;
  private icVictim = 0;
  private icLast = 0;
  // scratch
  private readonly insn = new Uint8Array(6);
  private readonly burst = new Uint8Array(256);
  private cycles = 0;
  private deferFaults = false;
  private deferredFault = 0;

  constructor(cfg: Partial<Pl330Config>, deps: Pl330Deps) {
    const c: Pl330Config = { ...DEFAULT_PL330_CONFIG, ...cfg };
    const clampInt = (v: number, lo: number, hi: number): number => Math.max(lo, Math.min(hi, Math.floor(v)));
    c.channels = clampInt(c.channels, 1, 8);
    c.events = clampInt(c.events, 1, 32);
    c.periphReqs = clampInt(c.periphReqs, 0, 32);
    c.mfifoDepth = clampInt(c.mfifoDepth, 1, 1024);
    c.icacheLines = clampInt(c.icacheLines, 1, 16);
    if (![4, 8, 16, 32].includes(c.icacheLineWords)) c.icacheLineWords = 4;
    if (![32, 64, 128].includes(c.dataWidthBits)) c.dataWidthBits = 64;
    this.cfg = c;
    this.name = deps.name ?? 'pl330';
    this.sched = deps.scheduler;
    this.port = deps.port;
    this.eventIrqs = deps.eventIrqs;
    this.abortIrq = deps.abortIrq;
    this.tracer = deps.tracer ?? null;
    const period = 1e9 / c.clockHz;
    this.periodNs = Number.isInteger(period) && period > 0 ? period : 10;
    this.busBytes = c.dataWidthBits / 8;
    this.mfifoBytes = c.mfifoDepth * this.busBytes;
    this.manager = new Pl330Thread(-1, null);
    this.channels = [];
    for (let i = 0; i < c.channels; i++) this.channels.push(new Pl330Thread(i, new ByteFifo(this.mfifoBytes)));
    this.periphPending = new Uint8Array(32);
    this.periphLast = new Uint8Array(32);
    this.periphPorts = new Array<Pl330PeripheralPort | null>(32).fill(null);
    this.icLineBytes = c.icacheLineWords * 4;
    this.icTags = new Float64Array(c.icacheLines).fill(-1);
    this.icData = new Uint8Array(c.icacheLines * this.icLineBytes);
    this.reset();
  }

  // ------------------------------------------------------------------ reset / config

  reset(): void {
    for (const t of [this.manager, ...this.channels]) {
      this.sched.cancel(t.ev);
      t.ev = null;
      t.state = C.ST_STOPPED;
      t.pc = 0;
      t.ftr = 0;
      t.wakeup = 0;
      t.sar = t.dar = t.lc0 = t.lc1 = 0;
      t.ccr = C.CCR_RESET;
      t.reqBurst = false;
      t.reqLast = false;
      t.stallCycles = 0;
      t.fifo?.clear();
    }
    this.manager.ns = this.cfg.mgrNsAtReset;
    this.inten = this.ris = this.wd = 0;
    this.dbgInst0 = this.dbgInst1 = 0;
    this.dbgBusy = false;
    this.sched.cancel(this.dbgEv);
    this.dbgEv = null;
    this.lockupIrq = false;
    this.mfifoUsed = 0;
    this.periphPending.fill(0);
    this.periphLast.fill(0);
    this.icTags.fill(-1);
    this.updateIrqs();
    if (this.cfg.bootEn) {
      // boot: the manager starts executing at boot_addr out of reset
      this.manager.pc = this.cfg.bootAddr >>> 0;
      this.manager.state = C.ST_EXECUTING;
      this.kick(this.manager, 0);
    }
  }

  /** CR0..CR4, CRD as the TRM lays them out. */
  configRegister(off: number): number {
    const c = this.cfg;
    switch (off) {
      case C.REG_CR0:
        return (
          ((c.periphReqs > 0 ? 1 : 0) |
            (c.bootEn ? 2 : 0) |
            (c.mgrNsAtReset ? 4 : 0) |
            ((c.channels - 1) << 4) |
            (((Math.max(c.periphReqs, 1) - 1) & 0x1f) << 12) |
            (((c.events - 1) & 0x1f) << 17)) >>> 0
        );
      case C.REG_CR1:
        return (31 - Math.clz32(c.icacheLineWords)) | ((c.icacheLines - 1) << 4);
      case C.REG_CR2:
        return c.bootAddr >>> 0;
      case C.REG_CR3:
        return c.irqNs >>> 0;
      case C.REG_CR4:
        return c.periphNs >>> 0;
      case C.REG_CRD: {
        const dw = 31 - Math.clz32(this.busBytes);
        return (
          (dw |
            ((c.wrCap - 1) & 7) << 4 |
            ((c.wrQueueDepth - 1) & 0xf) << 8 |
            ((c.rdCap - 1) & 7) << 12 |
            ((c.rdQueueDepth - 1) & 0xf) << 16 |
            ((c.mfifoDepth - 1) & 0x3ff) << 20) >>> 0
        );
      }
    }
    return 0;
  }

  // ------------------------------------------------------------------ MMIO

  read(off: number, _size: number, _attrs: Attrs): number {
    const n = this.channels.length;
    if (off >= C.REG_FTR0 && off < 0x100) {
      const ch = (off - C.REG_FTR0) >> 2;
      return ch < n && (off & 3) === 0 ? this.channels[ch]!.ftr >>> 0 : 0;
    }
    if (off >= 0x100 && off < 0x200) {
      const ch = (off - 0x100) >> 3;
      if (ch >= n || (off & 3) !== 0) return 0;
      const t = this.channels[ch]!;
      return (off & 4) === 0 ? this.csr(t) : t.pc >>> 0;
    }
    if (off >= 0x400 && off < 0x500) {
      const ch = (off - 0x400) >> 5;
      if (ch >= n) return 0;
      const t = this.channels[ch]!;
      switch (off & 0x1f) {
        case 0x00: return t.sar >>> 0;
        case 0x04: return t.dar >>> 0;
        case 0x08: return t.ccr >>> 0;
        case 0x0c: return t.lc0;
        case 0x10: return t.lc1;
      }
      return 0;
    }
    if (off >= C.REG_CR0 && off <= C.REG_CRD) return this.configRegister(off);
    if (off >= C.REG_PERIPH_ID0 && off < 0x1000) return this.idRegister(off);
    switch (off) {
      case C.REG_DSR: {
        const m = this.manager;
        return (m.state | (m.wakeup << 4) | (m.ns ? 1 << 9 : 0)) >>> 0;
      }
      case C.REG_DPC: return this.manager.pc >>> 0;
      case C.REG_INTEN: return this.inten >>> 0;
      case C.REG_INT_EVENT_RIS: return this.ris >>> 0;
      case C.REG_INTMIS: return (this.ris & this.inten) >>> 0;
      case C.REG_FSRD: return this.manager.state === C.ST_FAULTING ? 1 : 0;
      case C.REG_FSRC: return this.fsrc();
      case C.REG_FTRD: return this.manager.ftr >>> 0;
      case C.REG_DBGSTATUS: return this.dbgBusy ? 1 : 0;
      case C.REG_WD: return this.wd;
    }
    // write-only (INTCLR, DBGCMD, DBGINST0/1) and reserved offsets read as zero
    return 0;
  }

  write(off: number, _size: number, value: number, _attrs: Attrs): number {
    value >>>= 0;
    switch (off) {
      case C.REG_INTEN:
        this.inten = (value & this.eventMask()) >>> 0;
        this.updateIrqs();
        break;
      case C.REG_INTCLR:
        // write 1 clears the interrupt (only events routed to interrupts)
        this.ris = (this.ris & ~(value & this.inten)) >>> 0;
        this.updateIrqs();
        break;
      case C.REG_DBGINST0:
        this.dbgInst0 = value;
        break;
      case C.REG_DBGINST1:
        this.dbgInst1 = value;
        break;
      case C.REG_DBGCMD:
        // 0b00: execute; other values are reserved and ignored. A command issued while
        // the interface is busy is ignored (software must poll DBGSTATUS first).
        if ((value & 3) === 0 && !this.dbgBusy) {
          this.dbgBusy = true;
          const i0 = this.dbgInst0;
          const i1 = this.dbgInst1;
          this.dbgEv = this.sched.schedule(TIMING.debugCycles * this.periodNs, () => this.debugExec(i0, i1), `${this.name}:dbg`);
        }
        break;
      case C.REG_WD:
        this.wd = value & 1;
        break;
      default:
        // read-only registers: writes ignored
        break;
    }
    return BUS_OK;
  }

  private idRegister(off: number): number {
    const ids = [0x30, 0x13, 0x04 | ((this.cfg.revision & 0xf) << 4), 0x00, 0x0d, 0xf0, 0x05, 0xb1];
    if ((off & 3) !== 0) return 0;
    return ids[(off - C.REG_PERIPH_ID0) >> 2] ?? 0;
  }

  private csr(t: Pl330Thread): number {
    return (t.state | (t.wakeup << 4) | (t.wfpBurstNs ? 1 << 14 : 0) | (t.wfpPeriph ? 1 << 15 : 0) | (t.ns ? 1 << 21 : 0)) >>> 0;
  }

  private fsrc(): number {
    let r = 0;
    for (const t of this.channels) if (t.state === C.ST_FAULTING || t.state === C.ST_FAULT_COMPLETING) r |= 1 << t.id;
    return r >>> 0;
  }

  private eventMask(): number {
    return this.cfg.events >= 32 ? 0xffffffff : (1 << this.cfg.events) - 1;
  }

  private updateIrqs(): void {
    const mis = this.ris & this.inten;
    for (let i = 0; i < this.eventIrqs.length; i++) this.eventIrqs[i]!.set(((mis >>> i) & 1) !== 0);
    if (this.abortIrq) this.abortIrq.set(this.manager.state === C.ST_FAULTING || this.fsrc() !== 0 || this.lockupIrq);
  }

  // ------------------------------------------------------------------ public helpers

  /** DMAC-level view for tests/tools: is any thread still doing something? */
  get busy(): boolean {
    if (this.manager.state !== C.ST_STOPPED && this.manager.state !== C.ST_FAULTING) return true;
    return this.channels.some((t) => t.state !== C.ST_STOPPED && t.state !== C.ST_FAULTING);
  }

  /** bytes currently held in the MFIFO (all channels) */
  get mfifoLevel(): number {
    return this.mfifoUsed;
  }

  attachPeripheral(n: number, port: Pl330PeripheralPort): void {
    if (n >= 0 && n < 32) this.periphPorts[n] = port;
  }

  /** A peripheral asserts its DMA request (drtype single/burst, drlast). */
  peripheralRequest(n: number, kind: 'single' | 'burst', last = false): void {
    if (n < 0 || n >= this.cfg.periphReqs) return;
    this.periphPending[n] = kind === 'burst' ? 2 : 1;
    this.periphLast[n] = last ? 1 : 0;
    for (const t of this.channels) {
      if (t.state === C.ST_WFP && t.wakeup === n) {
        t.state = C.ST_EXECUTING;
        this.kick(t, 0);
      }
    }
  }

  /** Start a channel directly (as a manager DMAGO would), for tools/benchmarks. */
  startChannel(ch: number, pc: number, ns = true): boolean {
    const t = this.channels[ch];
    if (!t || t.state !== C.ST_STOPPED) return false;
    this.go(t, pc, ns);
    return true;
  }

  // ------------------------------------------------------------------ debug interface

  private debugExec(i0: number, i1: number): void {
    this.dbgBusy = false;
    this.dbgEv = null;
    const toChannel = (i0 & 1) !== 0;
    const chn = (i0 >>> 8) & 7;
    const b = this.insn;
    b[0] = (i0 >>> 16) & 0xff;
    b[1] = (i0 >>> 24) & 0xff;
    b[2] = i1 & 0xff;
    b[3] = (i1 >>> 8) & 0xff;
    b[4] = (i1 >>> 16) & 0xff;
    b[5] = (i1 >>> 24) & 0xff;
    let t: Pl330Thread;
    if (toChannel) {
      const c = this.channels[chn];
      if (!c) return; // no such channel: nothing to address
      t = c;
    } else t = this.manager;
    const op = b[0]!;
    // allowed: manager DMAGO, DMASEV, DMAKILL; channel DMAKILL
    const allowed = op === 0x01 || (!toChannel && (op === 0xa0 || op === 0xa2 || op === 0x34));
    if (this.tracer?.enabled) this.tracer.emit(this.name, 'pl330-dbg', { thread: t.id, op, allowed });
    if (!allowed) {
      this.fault(t, t.isManager ? C.FTD_UNDEF_INSTR | C.FTD_DBG_INSTR : C.FT_UNDEF_INSTR | C.FT_DBG_INSTR);
      return;
    }
    if (op !== 0x01 && (t.state === C.ST_FAULTING || t.state === C.ST_FAULT_COMPLETING)) return;
    this.cycles = 0;
    const r = this.exec(t, b, true);
    if (r === Next.Stop && (t.state === C.ST_FAULTING) && op !== 0x01) {
      t.ftr |= t.isManager ? C.FTD_DBG_INSTR : C.FT_DBG_INSTR;
    }
  }

  // ------------------------------------------------------------------ thread control

  private kick(t: Pl330Thread, delayNs: number): void {
    this.sched.cancel(t.ev);
    t.ev = this.sched.schedule(delayNs, () => this.step(t), t.isManager ? `${this.name}:mgr` : `${this.name}:ch${t.id}`);
  }

  private go(t: Pl330Thread, pc: number, ns: boolean): void {
    t.pc = pc >>> 0;
    t.ns = ns;
    t.ftr = 0;
    t.state = C.ST_EXECUTING;
    t.reqBurst = false;
    t.reqLast = false;
    t.stallCycles = 0;
    t.wfpBurstNs = t.wfpPeriph = false;
    t.startNs = this.sched.now;
    t.lastSrcPage = t.lastDstPage = -1;
    t.bytesLoaded = t.bytesStored = t.instructions = 0;
    // Choice: the instruction cache is invalidated on DMAGO, so a program rewritten at the
    // same address (as Linux does per request) is never executed stale.
    this.icTags.fill(-1);
    this.kick(t, 0);
  }

  private discardFifo(t: Pl330Thread): void {
    if (t.fifo) {
      this.mfifoUsed -= t.fifo.len;
      t.fifo.clear();
    }
  }

  private stop(t: Pl330Thread): void {
    this.sched.cancel(t.ev);
    t.ev = null;
    t.state = C.ST_STOPPED;
    this.discardFifo(t);
  }

  private fault(t: Pl330Thread, bits: number): void {
    if (this.deferFaults) {
      // batched stepping: the caller delivers the fault at the right virtual time
      this.deferredFault = (this.deferredFault | bits) >>> 0;
      return;
    }
    this.sched.cancel(t.ev);
    t.ev = null;
    t.ftr = (t.ftr | bits) >>> 0;
    t.state = C.ST_FAULTING;
    if (this.tracer?.enabled) {
      this.tracer.emit(this.name, 'pl330-fault', { thread: t.id, pc: t.pc, ftr: t.ftr });
    }
    this.updateIrqs();
  }

  private kill(t: Pl330Thread): void {
    // DMAKILL: killing -> stopped; clears the thread's fault and MFIFO data
    t.state = C.ST_KILLING;
    this.stop(t);
    t.ftr = 0;
    t.wfpBurstNs = t.wfpPeriph = false;
    if (t.isManager) this.lockupIrq = false;
    this.updateIrqs();
  }

  // ------------------------------------------------------------------ instruction fetch

  private fetchAttrs(t: Pl330Thread): Attrs {
    // Choice: instruction fetches are privileged instruction accesses with the thread's
    // security (AxPROT = {instr, ns, priv}).
    return (ATTR_INSTR | ATTR_PRIV | (t.ns ? ATTR_NS : 0) | ((this.cfg.streamId & STREAM_MASK) << STREAM_SHIFT)) >>> 0;
  }

  private dataAttrs(prot: number, write: boolean): Attrs {
    return (
      (write ? 1 : 0) |
      ((prot & 1) !== 0 ? ATTR_PRIV : 0) |
      ((prot & 2) !== 0 ? ATTR_NS : 0) |
      ((prot & 4) !== 0 ? ATTR_INSTR : 0) |
      ((this.cfg.streamId & STREAM_MASK) << STREAM_SHIFT)
    ) >>> 0;
  }

  /** byte at addr through the instruction cache; negative on a fetch error */
  private icByte(t: Pl330Thread, addr: number): number {
    const lb = this.icLineBytes;
    const la = addr - (addr % lb);
    let idx = -1;
    if (this.icTags[this.icLast] === la) idx = this.icLast;
    else {
      for (let i = 0; i < this.icTags.length; i++) if (this.icTags[i] === la) { idx = i; break; }
    }
    if (idx < 0) {
      idx = this.icVictim;
      this.icVictim = (this.icVictim + 1) % this.icTags.length;
      this.icTags[idx] = -1;
      const st = this.port.readBlock(la, this.icData, idx * lb, lb, this.fetchAttrs(t));
      this.cycles += TIMING.icacheMissBaseCycles + Math.ceil(lb / this.busBytes);
      if (st !== BUS_OK) return -1;
      this.icTags[idx] = la;
    }
    this.icLast = idx;
    return this.icData[idx * lb + (addr - la)]!;
  }

  private icHas(addr: number): boolean {
    const la = addr - (addr % this.icLineBytes);
    for (let i = 0; i < this.icTags.length; i++) if (this.icTags[i] === la) return true;
    return false;
  }

  /** fetch the instruction at t.pc into this.insn; returns its size, 0 undefined, -1 fetch error */
  private fetch(t: Pl330Thread): number {
    const b0 = this.icByte(t, t.pc);
    if (b0 < 0) return -1;
    this.insn[0] = b0;
    const n = INSN_SIZE[b0]!;
    for (let i = 1; i < n; i++) {
      const b = this.icByte(t, (t.pc + i) >>> 0);
      if (b < 0) return -1;
      this.insn[i] = b;
    }
    return n;
  }

  // ------------------------------------------------------------------ execution

  private step(t: Pl330Thread): void {
    t.ev = null;
    if (t.state !== C.ST_EXECUTING) return;
    this.cycles = 0;
    this.port.takeCost();
    const n = this.fetch(t);
    if (n < 0) {
      this.fault(t, t.isManager ? C.FTD_INSTR_FETCH_ERR : C.FT_INSTR_FETCH_ERR);
      return;
    }
    if (n === 0) {
      this.fault(t, t.isManager ? C.FTD_UNDEF_INSTR : C.FT_UNDEF_INSTR);
      return;
    }
    t.instructions++;
    if (this.insnObserver) this.insnObserver(t.id, t.pc, this.insn, n);
    if (this.cfg.traceInstructions && this.tracer?.enabled) this.tracer.emit(this.name, 'pl330-insn', { thread: t.id, pc: t.pc, op: this.insn[0]! });
    const r = this.exec(t, this.insn, false);
    switch (r) {
      case Next.Advance:
      case Next.Jumped:
        if (r === Next.Advance) t.pc = (t.pc + n) >>> 0;
        this.cycles += TIMING.insnCycles;
        this.kick(t, this.cycles * this.periodNs + this.port.takeCost());
        return;
      default:
        return;
    }
  }

  /**
   * Execute one instruction for thread t. For debug instructions `dbg` is true (the PC
   * is not involved). Returns what to do next.
   */
  private exec(t: Pl330Thread, b: Uint8Array, dbg: boolean): Next {
    const op = b[0]!;
    const mgr = t.isManager;
    const undef = (): Next => {
      this.fault(t, mgr ? C.FTD_UNDEF_INSTR : C.FT_UNDEF_INSTR);
      return Next.Stop;
    };
    const badOperand = (): Next => {
      this.fault(t, mgr ? C.FTD_OPERAND_INVALID : C.FT_OPERAND_INVALID);
      return Next.Stop;
    };
    switch (op) {
      case 0x00: // DMAEND
        this.endThread(t);
        return Next.Stop;
      case 0x01: // DMAKILL
        this.kill(t);
        return Next.Stop;
      case 0x18: // DMANOP
        return Next.Advance;
      case 0x12: // DMARMB
      case 0x13: // DMAWMB
        // transfers complete synchronously in this model: barriers only cost their cycle
        return mgr ? undef() : Next.Advance;
      case 0x34: { // DMASEV
        const ev = b[1]! >>> 3;
        if ((b[1]! & 7) !== 0 || ev >= this.cfg.events) return badOperand();
        if (t.ns && ((this.cfg.irqNs >>> ev) & 1) === 0) {
          this.fault(t, mgr ? C.FTD_MGR_EVNT_ERR : C.FT_CH_EVNT_ERR);
          return Next.Stop;
        }
        this.signalEvent(ev);
        return dbg ? Next.Stop : Next.Advance;
      }
      case 0x36: { // DMAWFE
        const ev = b[1]! >>> 3;
        if ((b[1]! & 5) !== 0 || ev >= this.cfg.events) return badOperand();
        if (t.ns && ((this.cfg.irqNs >>> ev) & 1) === 0) {
          this.fault(t, mgr ? C.FTD_MGR_EVNT_ERR : C.FT_CH_EVNT_ERR);
          return Next.Stop;
        }
        if ((b[1]! & 2) !== 0) this.icTags.fill(-1);
        if (((this.inten >>> ev) & 1) === 0 && ((this.ris >>> ev) & 1) !== 0) {
          this.ris &= ~(1 << ev);
          return Next.Advance;
        }
        t.pc = (t.pc + 2) >>> 0; // resumes after the DMAWFE
        t.state = C.ST_WFE;
        t.wakeup = ev;
        return Next.Block;
      }
      case 0xa0:
      case 0xa2: { // DMAGO
        if (!mgr) return undef();
        const ch = b[1]! & 7;
        if ((b[1]! & 0xf8) !== 0 || ch >= this.channels.length) return badOperand();
        const ns = (op & 2) !== 0;
        if (t.ns && !ns) {
          this.fault(t, C.FTD_DMAGO_ERR);
          return Next.Stop;
        }
        const target = this.channels[ch]!;
        // Choice: a DMAGO to a channel that is not stopped has no effect.
        if (target.state === C.ST_STOPPED) {
          this.go(target, b[2]! | (b[3]! << 8) | (b[4]! << 16) | (b[5]! << 24), ns);
        }
        return dbg ? Next.Stop : Next.Advance;
      }
    }
    if (mgr) {
      // DMAFLUSHP is the only other manager instruction
      if (op === 0x35) {
        const p = b[1]! >>> 3;
        if ((b[1]! & 7) !== 0 || p >= this.cfg.periphReqs) return badOperand();
        this.flushPeriph(p);
        return Next.Advance;
      }
      return undef();
    }
    switch (op) {
      case 0x04: case 0x05: case 0x07: // DMALD[S|B]
        if (!this.condOk(t, op)) return Next.Advance;
        return this.load(t);
      case 0x08: case 0x09: case 0x0b: // DMAST[S|B]
        if (!this.condOk(t, op)) return Next.Advance;
        return this.store(t, false);
      case 0x0c: // DMASTZ
        return this.store(t, true);
      case 0x25: case 0x27: case 0x29: case 0x2b: { // DMALDP / DMASTP
        const p = b[1]! >>> 3;
        if ((b[1]! & 7) !== 0 || p >= this.cfg.periphReqs) return badOperand();
        if (t.ns && ((this.cfg.periphNs >>> p) & 1) === 0) {
          this.fault(t, C.FT_CH_PERIPH_ERR);
          return Next.Stop;
        }
        if (t.reqBurst !== ((op & 2) !== 0)) return Next.Advance;
        const r = op < 0x28 ? this.load(t) : this.store(t, false);
        if (r === Next.Advance) this.ackPeriph(p, t.reqBurst);
        return r;
      }
      case 0x30: case 0x31: case 0x32: { // DMAWFP
        const p = b[1]! >>> 3;
        if ((b[1]! & 7) !== 0 || p >= this.cfg.periphReqs) return badOperand();
        if (t.ns && ((this.cfg.periphNs >>> p) & 1) === 0) {
          this.fault(t, C.FT_CH_PERIPH_ERR);
          return Next.Stop;
        }
        const pend = this.periphPending[p]!;
        t.wfpPeriph = op === 0x31;
        t.wfpBurstNs = op === 0x32;
        if (pend === 0) {
          t.state = C.ST_WFP;
          t.wakeup = p;
          return Next.Block; // re-executes the DMAWFP when the request arrives
        }
        t.reqBurst = op === 0x30 ? false : op === 0x32 ? true : pend === 2;
        if (this.periphLast[p]) t.reqLast = true;
        return Next.Advance;
      }
      case 0x35: { // DMAFLUSHP
        const p = b[1]! >>> 3;
        if ((b[1]! & 7) !== 0 || p >= this.cfg.periphReqs) return badOperand();
        if (t.ns && ((this.cfg.periphNs >>> p) & 1) === 0) {
          this.fault(t, C.FT_CH_PERIPH_ERR);
          return Next.Stop;
        }
        this.flushPeriph(p);
        return Next.Advance;
      }
      case 0x20: case 0x22: { // DMALP
        if (op === 0x20) t.lc0 = b[1]!;
        else t.lc1 = b[1]!;
        return Next.Advance;
      }
      case 0x28: case 0x2c: case 0x2d: case 0x2f: // DMALPFE
      case 0x38: case 0x39: case 0x3b: case 0x3c: case 0x3d: case 0x3f: // DMALPEND
        return this.loopEnd(t, op, b[1]!);
      case 0x54: case 0x56: case 0x5c: case 0x5e: { // DMAADDH / DMAADNH
        const neg = (op & 8) !== 0;
        if (neg && this.cfg.revision < 1) return undef(); // DMAADNH appeared in r1p0
        const imm = b[1]! | (b[2]! << 8);
        const add = neg ? (0xffff0000 | imm) >>> 0 : imm;
        if ((op & 2) === 0) t.sar = (t.sar + add) >>> 0;
        else t.dar = (t.dar + add) >>> 0;
        return Next.Advance;
      }
      case 0xbc: { // DMAMOV
        const v = (b[2]! | (b[3]! << 8) | (b[4]! << 16) | (b[5]! << 24)) >>> 0;
        switch (b[1]) {
          case 0: t.sar = v; return Next.Advance;
          case 2: t.dar = v; return Next.Advance;
          case 1:
            // a non-secure channel may not program secure reads or writes
            if (t.ns && (((v >>> 9) & 1) === 0 || ((v >>> 23) & 1) === 0)) {
              this.fault(t, C.FT_CH_RDWR_ERR);
              return Next.Stop;
            }
            t.ccr = v;
            return Next.Advance;
        }
        return badOperand();
      }
    }
    return undef();
  }

  private condOk(t: Pl330Thread, op: number): boolean {
    if ((op & 1) === 0) return true;
    return ((op & 2) !== 0) === t.reqBurst;
  }

  private endThread(t: Pl330Thread): void {
    if (!t.isManager && this.tracer?.enabled) {
      this.tracer.emit(
        this.name,
        'pl330-xfer',
        { ch: t.id, loaded: t.bytesLoaded, stored: t.bytesStored, insns: t.instructions },
        this.sched.now - t.startNs,
      );
    }
    t.state = C.ST_COMPLETING;
    this.stop(t);
  }

  private signalEvent(ev: number): void {
    if (((this.inten >>> ev) & 1) !== 0) {
      this.ris = (this.ris | (1 << ev)) >>> 0;
      this.updateIrqs();
      return;
    }
    let woke = false;
    for (const w of [this.manager, ...this.channels]) {
      if (w.state === C.ST_WFE && w.wakeup === ev) {
        w.state = C.ST_EXECUTING;
        woke = true;
        this.kick(w, 0);
      }
    }
    // with nobody waiting the event stays pending until a DMAWFE consumes it
    if (!woke) this.ris = (this.ris | (1 << ev)) >>> 0;
  }

  private flushPeriph(p: number): void {
    this.periphPending[p] = 0;
    this.periphLast[p] = 0;
    this.periphPorts[p]?.flush?.();
  }

  private ackPeriph(p: number, burst: boolean): void {
    const last = this.periphLast[p] !== 0;
    this.periphPending[p] = 0;
    this.periphLast[p] = 0;
    this.periphPorts[p]?.ack?.(burst ? 'burst' : 'single', last);
  }

  private loopEnd(t: Pl330Thread, op: number, jump: number): Next {
    const forever = (op & 0x10) === 0;
    if ((op & 1) !== 0 && ((op & 2) !== 0) !== t.reqBurst) return Next.Advance; // condition false: NOP
    if (forever) {
      // DMALPFE: loops until the peripheral flagged its last request
      if (t.reqLast) {
        t.reqLast = false;
        return Next.Advance;
      }
      t.pc = (t.pc - jump) >>> 0;
      return Next.Jumped;
    }
    const lc1 = (op & 4) !== 0;
    const lc = lc1 ? t.lc1 : t.lc0;
    if (lc === 0) return Next.Advance;
    // instruction-level observation (trace or observer) sees every instruction: no fast path then
    const observed = this.insnObserver !== null || (this.cfg.traceInstructions && this.tracer?.enabled === true);
    if ((op & 1) === 0 && this.cfg.fastPath && !observed && this.tryBulk(t, jump, lc1)) return Next.Scheduled;
    if (lc1) t.lc1 = lc - 1;
    else t.lc0 = lc - 1;
    t.pc = (t.pc - jump) >>> 0;
    return Next.Jumped;
  }

  // ------------------------------------------------------------------ data transfers

  /** burst geometry check: a beat wider than the data bus is an invalid operand */
  private load(t: Pl330Thread): Next {
    const size = 1 << C.ccrSrcSize(t.ccr);
    const len = C.ccrSrcLen(t.ccr);
    if (C.ccrSrcSize(t.ccr) > 4 || size > this.busBytes) {
      // TRM: a beat may not be wider than the AXI data bus. Choice: the instruction that
      // would issue such a burst faults with operand_invalid (precise, PC at the DMALD).
      this.fault(t, C.FT_OPERAND_INVALID);
      return Next.Stop;
    }
    const n = size * len;
    const fifo = t.fifo!;
    if (n > this.mfifoBytes - this.mfifoUsed) {
      const others = this.mfifoUsed - fifo.len;
      if (others === 0 || n > this.mfifoBytes - fifo.len) {
        this.fault(t, C.FT_MFIFO_ERR);
        return Next.Stop;
      }
      return this.stall(t);
    }
    t.stallCycles = 0;
    const attrs = this.dataAttrs(C.ccrSrcProt(t.ccr), false);
    let st: number;
    if (C.ccrSrcInc(t.ccr)) st = this.port.readBlock(t.sar, this.burst, 0, n, attrs);
    else {
      st = BUS_OK;
      for (let i = 0; i < len && st === BUS_OK; i++) st = this.port.readBlock(t.sar, this.burst, i * size, size, attrs);
    }
    this.cycles += TIMING.axiLatencyCycles + len;
    if (st !== BUS_OK) {
      this.fault(t, C.FT_DATA_READ_ERR);
      return Next.Stop;
    }
    fifo.push(this.burst, 0, n);
    this.mfifoUsed += n;
    t.bytesLoaded += n;
    t.lastSrcPage = Math.floor(t.sar / 4096) === Math.floor((t.sar + n - 1) / 4096) ? Math.floor(t.sar / 4096) : -1;
    if (C.ccrSrcInc(t.ccr)) t.sar = (t.sar + n) >>> 0;
    return Next.Advance;
  }

  private store(t: Pl330Thread, zero: boolean): Next {
    const sz = C.ccrDstSize(t.ccr);
    const size = 1 << sz;
    const len = C.ccrDstLen(t.ccr);
    if (sz > 4 || size > this.busBytes) {
      this.fault(t, C.FT_OPERAND_INVALID);
      return Next.Stop;
    }
    const n = size * len;
    const fifo = t.fifo!;
    const buf = this.burst;
    if (zero) buf.fill(0, 0, n);
    else {
      if (fifo.len < n) {
        // the program stores more than it loaded
        this.fault(t, C.FT_ST_DATA_UNAVAILABLE);
        return Next.Stop;
      }
      fifo.pop(buf, 0, n);
      this.mfifoUsed -= n;
      const es = C.ccrEndianSwap(t.ccr);
      if (es >= 1 && es <= 4) {
        const g = 1 << es;
        for (let i = 0; i + g <= n; i += g) buf.subarray(i, i + g).reverse();
      }
    }
    const attrs = this.dataAttrs(C.ccrDstProt(t.ccr), true);
    let st: number;
    if (C.ccrDstInc(t.ccr)) st = this.port.writeBlock(t.dar, buf, 0, n, attrs);
    else {
      st = BUS_OK;
      for (let i = 0; i < len && st === BUS_OK; i++) st = this.port.writeBlock(t.dar, buf, i * size, size, attrs);
    }
    this.cycles += TIMING.axiLatencyCycles + len;
    if (st !== BUS_OK) {
      this.fault(t, C.FT_DATA_WRITE_ERR);
      return Next.Stop;
    }
    t.bytesStored += n;
    t.lastDstPage = Math.floor(t.dar / 4096) === Math.floor((t.dar + n - 1) / 4096) ? Math.floor(t.dar / 4096) : -1;
    if (C.ccrDstInc(t.ccr)) t.dar = (t.dar + n) >>> 0;
    return Next.Advance;
  }

  /** MFIFO full with other channels' data: retry later; the watchdog detects lockup. */
  private stall(t: Pl330Thread): Next {
    t.stallCycles += TIMING.stallRetryCycles;
    if (t.stallCycles >= TIMING.watchdogCycles) {
      t.stallCycles = 0;
      if (this.wd & 1) {
        // wd_irq_only: signal the abort interrupt but do not abort the thread
        this.lockupIrq = true;
        this.updateIrqs();
      } else {
        this.fault(t, C.FT_LOCKUP_ERR);
        return Next.Stop;
      }
    }
    this.kick(t, (this.cycles + TIMING.stallRetryCycles) * this.periodNs + this.port.takeCost());
    return Next.Scheduled;
  }

  // ------------------------------------------------------------------ fast path

  /**
   * Bulk execution of a counted loop whose body is only DMALD/DMAST/barriers/DMANOP.
   * Called at a DMALPEND that is about to jump back (LC = lc > 0). Executes k <= lc
   * iterations (LPEND + body each) in one event when the result is provably identical
   * to step execution: no translation stage, every other thread idle, this channel's
   * MFIFO empty, the body cached, bursts legal, source and destination contiguous RAM
   * that do not overlap, and the body's MFIFO balance is zero.
   */
  private tryBulk(t: Pl330Thread, jump: number, lc1: boolean): boolean {
    if (t.fifo!.len !== 0) return false;
    for (const o of this.channels) if (o !== t && o.state !== C.ST_STOPPED && o.state !== C.ST_FAULTING) return false;
    if (this.manager.state !== C.ST_STOPPED && this.manager.state !== C.ST_FAULTING) return false;
    const lpend = t.pc;
    const start = (lpend - jump) >>> 0;
    if (jump === 0 || start > lpend) return false;
    for (let a = start; a < lpend + 2; a += this.icLineBytes) if (!this.icHas(a)) return false;
    if (!this.icHas(lpend + 1)) return false;
    const ccr = t.ccr;
    const sSize = C.ccrSrcSize(ccr);
    const dSize = C.ccrDstSize(ccr);
    const srcBurst = (1 << sSize) * C.ccrSrcLen(ccr);
    const dstBurst = (1 << dSize) * C.ccrDstLen(ccr);
    const free = this.mfifoBytes - this.mfifoUsed;
    let level = 0;
    let cyc = TIMING.insnCycles; // the DMALPEND itself
    let srcPer = 0;
    let dstPer = 0;
    let nLd = 0;
    let nSt = 0;
    // pure: the loop is a plain block copy (legal incrementing bursts, no swap)
    let pure = true;
    for (let a = start; a < lpend; a++) {
      const op = this.peekCached(a);
      const isLd = op === 0x04 || op === 0x05 || op === 0x07;
      const isSt = op === 0x08 || op === 0x09 || op === 0x0b;
      cyc += TIMING.insnCycles;
      if (isLd || isSt) {
        if (!this.condOk(t, op)) continue;
        if (isLd) {
          if (sSize > 4 || (1 << sSize) > this.busBytes || !C.ccrSrcInc(ccr)) pure = false;
          level += srcBurst;
          if (level > free) return false; // would stall: step path
          srcPer += srcBurst;
          nLd++;
          cyc += TIMING.axiLatencyCycles + C.ccrSrcLen(ccr);
        } else {
          if (dSize > 4 || (1 << dSize) > this.busBytes || !C.ccrDstInc(ccr) || C.ccrEndianSwap(ccr) !== 0) pure = false;
          if (level < dstBurst) return false;
          level -= dstBurst;
          dstPer += dstBurst;
          nSt++;
          cyc += TIMING.axiLatencyCycles + C.ccrDstLen(ccr);
        }
      } else if (op !== 0x12 && op !== 0x13 && op !== 0x18) return false;
    }
    if (level !== 0) return false;
    if (pure && this.port.translator === null && this.bulkCopy(t, start, lpend, lc1, cyc, srcPer, dstPer)) return true;
    const seg: SegmentShape | null = pure && srcPer > 0 ? { cyc, srcPer, dstPer, nLd, nSt } : null;
    return this.inlineLoop(t, start, lpend, lc1, srcBurst, dstBurst, seg);
  }

  /** The whole chunk as one RAM block copy (bare bus only: no translation cost to account). */
  private bulkCopy(t: Pl330Thread, start: number, lpend: number, lc1: boolean, cyc: number, srcPer: number, dstPer: number): boolean {
    const lc = lc1 ? t.lc1 : t.lc0;
    const per = Math.max(srcPer, 1);
    let k = Math.min(lc, Math.max(1, Math.floor(Math.max(1, this.cfg.bulkChunkBytes) / per)));
    const srcTotal = k * srcPer;
    const dstTotal = k * dstPer;
    if (srcTotal > 0) {
      if (t.sar + srcTotal > 0x100000000 || t.dar + dstTotal > 0x100000000) return false;
      const bus = this.port.bus;
      const sr = bus.ramAt(t.sar, srcTotal);
      const dr = bus.ramAt(t.dar, dstTotal);
      if (!sr || !dr) return false;
      if (t.sar < t.dar + dstTotal && t.dar < t.sar + srcTotal) return false;
      const so = t.sar - sr.base;
      // same region: copyWithin is a plain memmove (ranges are disjoint anyway)
      if (sr === dr) dr.bytes.copyWithin(t.dar - dr.base, so, so + srcTotal);
      else dr.bytes.set(sr.bytes.subarray(so, so + srcTotal), t.dar - dr.base);
      if (dr.dirty) ramWritten(dr, t.dar - dr.base, srcTotal);
      this.port.bytes += srcTotal + dstTotal;
      t.sar = (t.sar + srcTotal) >>> 0;
      t.dar = (t.dar + dstTotal) >>> 0;
      t.bytesLoaded += srcTotal;
      t.bytesStored += dstTotal;
      t.lastSrcPage = Math.floor((t.sar - 1) / 4096);
      t.lastDstPage = Math.floor((t.dar - 1) / 4096);
    } else if (k > 4096) k = 4096;
    if (lc1) t.lc1 = lc - k;
    else t.lc0 = lc - k;
    // every accepted body instruction is one byte long: k x (DMALPEND + body), minus the
    // DMALPEND already counted by step()
    t.instructions += k * (1 + (lpend - start)) - 1;
    // pc stays at the DMALPEND, which runs next
    this.kick(t, (this.cycles + k * cyc) * this.periodNs + this.port.takeCost());
    return true;
  }

  /**
   * Batched stepping: run the loop's instructions one after the other inside this event,
   * through the same load/store code (same port accesses, same translations and costs, in
   * the same order), summing each instruction's time exactly as step() would schedule it.
   *
   * Behind a translation stage that offers the bulk hooks (quietLookup/translateHits, the
   * SMMU does) the batch:
   * - copies whole page runs at once ("segments", pure copy loops only): when the current
   *   source and destination pages are both pure TLB hits, every burst of the next k
   *   iterations that stays inside those pages is a hit too (a hit changes no TLB state), so
   *   the k x loads/stores lookups are accounted with one translateHits() per side, the
   *   bytes move with one copyWithin/set in RAM, and the time is k x (loop cycles) plus the
   *   per-lookup costs, exactly what step execution charges;
   * - runs any other burst (a page change: TLB miss and walk) through the exact load/store
   *   code, but only when quietLookup() says that translation leaves no time-stamped trace
   *   (no fault, no traced walk); otherwise it stops and the step path executes that
   *   instruction at its exact virtual time (faults and traced walks happen only there).
   * Behind a stage without the hooks a batch stays inside the 4 KiB source/destination
   * pages the previous bursts were translated in.
   * A bus error inside a batch is delivered at the time step execution would raise it.
   */
  private inlineLoop(t: Pl330Thread, start: number, lpend: number, lc1: boolean, srcBurst: number, dstBurst: number, seg: SegmentShape | null): boolean {
    const r = this.inlineLoopBody(t, start, lpend, lc1, srcBurst, dstBurst, seg);
    // every exit: the held-back RAM copy is written before the event ends
    this.flushCopy();
    return r;
  }

  private inlineLoopBody(t: Pl330Thread, start: number, lpend: number, lc1: boolean, srcBurst: number, dstBurst: number, seg: SegmentShape | null): boolean {
    const xl = this.port.translator;
    const tr = xl !== null;
    const quiet = xl !== null && typeof xl.quietLookup === 'function';
    const segments = seg !== null && xl !== null && typeof xl.translateHits === 'function';
    // translation-level bursts: pure copy loops whose j-th store takes exactly the j-th
    // load's bytes (same burst size, as many stores as loads)
    const xfast = segments && quiet && seg.nLd === seg.nSt && srcBurst === dstBurst;
    this.xPending = this.xHead = 0;
    // the body's opcodes, read from the instruction cache once (tryBulk checked they are cached)
    const ops = this.bodyOps;
    for (let a = start; a < lpend; a++) ops[a - start] = this.peekCached(a);
    const P = 4096;
    const inPage = (addr: number, n: number, page: number): boolean => Math.floor(addr / P) === page && Math.floor((addr + n - 1) / P) === page;
    if (tr && !quiet && (t.lastSrcPage < 0 || t.lastDstPage < 0)) return false;
    const period = this.periodNs;
    // the DMALPEND being executed: its fetch cost plus its own cycle
    let delay = (this.cycles + TIMING.insnCycles) * period + this.port.takeCost();
    let lc = lc1 ? t.lc1 : t.lc0;
    let moved = 0;
    const limit = Math.max(1, this.cfg.bulkChunkBytes);
    let first = true;
    const b = this.insn;
    const bodyLen = lpend - start;
    const srcAttrs = this.dataAttrs(C.ccrSrcProt(t.ccr), false);
    const dstAttrs = this.dataAttrs(C.ccrDstProt(t.ccr), true);
    if (xfast && typeof xl.translateCopyRun === 'function' && seg.nLd === 1 && seg.nSt === 1 && lc > 0 &&
      this.copyRun(t, xl, start, lpend, lc1, lc, seg, srcBurst, srcAttrs, dstAttrs, delay, limit)) return true;
    // after a segment the next iteration starts a new page on one side at least: run it
    // burst by burst (its first lookups miss) rather than probing for a segment first
    let trySeg = true;
    for (;;) {
      if (segments && (trySeg || !xfast)) {
        const k = this.segment(t, seg, xl, lc, Math.max(1, Math.floor((limit - moved) / seg.srcPer)), srcAttrs, dstAttrs);
        if (k > 0) {
          // k x (DMALPEND + body); the first DMALPEND is the one being executed (counted)
          const lpends = first ? k - 1 : k;
          t.instructions += lpends + k * bodyLen;
          delay += (k * seg.cyc - (first ? TIMING.insnCycles : 0)) * period + this.segCost;
          first = false;
          lc -= k;
          if (lc1) t.lc1 = lc;
          else t.lc0 = lc;
          moved += k * seg.srcPer;
          t.pc = lpend;
          if (lc === 0 || moved >= limit) break;
          trySeg = false;
          continue;
        }
      }
      trySeg = true;
      // DMALPEND jumps back
      if (!first) {
        t.instructions++;
        delay += TIMING.insnCycles * period;
      }
      first = false;
      lc--;
      if (lc1) t.lc1 = lc;
      else t.lc0 = lc;
      for (let a = start; a < lpend; a++) {
        const op = ops[a - start]!;
        const isLd = op === 0x04 || op === 0x05 || op === 0x07;
        const isSt = op === 0x08 || op === 0x09 || op === 0x0b;
        if (xfast && (isLd || isSt) && this.condOk(t, op)) {
          // translation-level execution of one burst (see xAccess)
          const d = this.xAccess(t, xl, isLd, isLd ? srcBurst : dstBurst, isLd ? srcAttrs : dstAttrs);
          if (d < 0) {
            this.xMaterialize(t);
            t.pc = a;
            if (d === -2) {
              // cannot happen with a stage honouring quietLookup; deliver as a bus error
              // at the instruction's exact time
              const bits = isLd ? C.FT_DATA_READ_ERR : C.FT_DATA_WRITE_ERR;
              t.instructions++;
              this.sched.cancel(t.ev);
              t.ev = this.sched.schedule(delay, () => {
                t.ev = null;
                this.fault(t, bits);
              }, `${this.name}:ch${t.id}:fault`);
              return true;
            }
            this.kick(t, delay);
            return true;
          }
          t.instructions++;
          moved += isLd ? srcBurst : 0;
          delay += (TIMING.axiLatencyCycles + (isLd ? C.ccrSrcLen(t.ccr) : C.ccrDstLen(t.ccr)) + TIMING.insnCycles) * period + d;
          continue;
        }
        if (xfast && (op === 0x12 || op === 0x13 || op === 0x18 || isLd || isSt)) {
          // barrier, DMANOP, or a load/store whose condition is false: one cycle
          t.instructions++;
          delay += TIMING.insnCycles * period;
          continue;
        }
        if (tr && (isLd || isSt) && this.condOk(t, op)) {
          let ok: boolean;
          if (quiet) {
            const addr = isLd ? t.sar : t.dar;
            const n = isLd ? srcBurst : dstBurst;
            ok = Math.floor(addr / P) === Math.floor((addr + n - 1) / P) && xl.quietLookup!(addr, isLd ? srcAttrs : dstAttrs);
          } else ok = isLd ? inPage(t.sar, srcBurst, t.lastSrcPage) : inPage(t.dar, dstBurst, t.lastDstPage);
          if (!ok) {
            // leave the rest to the step path, from this instruction at its exact time
            t.pc = a;
            this.kick(t, delay);
            return true;
          }
        }
        t.pc = a;
        t.instructions++;
        this.cycles = 0;
        b[0] = op;
        const before = delay;
        this.deferredFault = 0;
        this.deferFaults = true;
        this.flushCopy();
        const r = this.exec(t, b, false);
        this.deferFaults = false;
        if (r !== Next.Advance) {
          const bits = this.deferredFault;
          if (bits !== 0) {
            // the fault happens when step execution would have executed this instruction
            this.port.takeCost();
            this.sched.cancel(t.ev);
            t.ev = this.sched.schedule(before, () => {
              t.ev = null;
              this.fault(t, bits);
            }, `${this.name}:ch${t.id}:fault`);
            return true;
          }
          // not expected for these instructions; fall back to stepping from here
          this.kick(t, before);
          return true;
        }
        moved += isLd ? srcBurst : 0;
        delay += (this.cycles + TIMING.insnCycles) * period + this.port.takeCost();
      }
      t.pc = lpend;
      if (lc === 0 || moved >= limit) break;
    }
    this.kick(t, delay);
    return true;
  }

  private readonly cRun: CopyRun = {
    srcVa: 0, srcAttrs: 0, dstVa: 0, dstAttrs: 0, burst: 0, iterations: 0, done: 0, costNs: 0,
    srcPa: new Float64Array(0), dstPa: new Float64Array(0),
  };

  /**
   * Copy loops with one load then one store of the same burst per iteration, behind a stage
   * with translateCopyRun (the SMMU): the translations of up to a chunk of iterations in one
   * call (the stage stops before any access that is not quiet), then the data moved RAM to
   * RAM in step order (merged into one copy per run of pages that continue each other on
   * both sides, burst by burst where a piece's source and destination overlap). Time =
   * iterations x loop cycles + the sum of the lookups' costs, as step execution charges.
   * A run ending between the load and the store leaves the loaded bytes in the MFIFO and
   * the PC after the load. Returns false (nothing changed) when the stage did nothing.
   */
  private copyRun(t: Pl330Thread, xl: TranslationStage, start: number, lpend: number, lc1: boolean, lc: number, seg: SegmentShape,
    B: number, srcAttrs: Attrs, dstAttrs: Attrs, delay: number, limit: number): boolean {
    const ops = this.bodyOps;
    const bodyLen = lpend - start;
    let posLd = -1;
    let posSt = -1;
    for (let i = 0; i < bodyLen; i++) {
      const op = ops[i]!;
      if (!this.condOk(t, op)) continue;
      if (op === 0x04 || op === 0x05 || op === 0x07) posLd = i;
      else if (op === 0x08 || op === 0x09 || op === 0x0b) posSt = i;
    }
    if (posLd < 0 || posSt < posLd) return false;
    // nested loops: an inner loop on LC0 directly inside an outer counted loop on LC1 whose
    // body is just DMALP LC0 + this loop (DMALPEND LC0 at lpend, DMALPEND LC1 right after,
    // jumping back to the DMALP right before the body, all cached): when the inner loop
    // ends, the run continues through DMALPEND (not taken), DMALPEND LC1 (taken), DMALP
    // (one cycle and one instruction each) into the next inner loop's first iteration
    let imm = -1;
    if (!lc1 && t.lc1 > 0 && this.peekCached(lpend) === 0x38 && this.peekCached(lpend + 1) === lpend - start &&
      this.peekCached(lpend + 2) === 0x3c) {
      const j2 = this.peekCached(lpend + 3);
      if (j2 >= 0 && lpend + 2 - j2 === start - 2 && this.peekCached(start - 2) === 0x20) imm = this.peekCached(start - 1);
    }
    const avail = imm >= 0 ? lc + t.lc1 * (imm + 1) : lc;
    let iters = Math.min(avail, Math.max(1, Math.floor(limit / B)));
    // SAR/DAR wrap at 4 GiB: never run a batch across the wrap
    iters = Math.min(iters, Math.floor((0x100000000 - t.sar) / B), Math.floor((0x100000000 - t.dar) / B));
    if (iters < 1) return false;
    const run = this.cRun;
    const pages = Math.floor((iters * B) / 4096) + 2;
    if (run.srcPa.length < pages) {
      run.srcPa = new Float64Array(pages);
      run.dstPa = new Float64Array(pages);
    }
    this.flushCopy();
    run.srcVa = t.sar;
    run.dstVa = t.dar;
    run.srcAttrs = srcAttrs;
    run.dstAttrs = dstAttrs;
    run.burst = B;
    run.iterations = iters;
    xl.translateCopyRun!(run);
    const done = run.done;
    if (done === 0) return false;
    const m = done >>> 1;
    const partial = (done & 1) !== 0;
    // ---- data, in step order ----
    const bus = this.port.bus;
    const sPage0 = Math.floor(t.sar / 4096);
    const dPage0 = Math.floor(t.dar / 4096);
    let sVa = t.sar;
    let dVa = t.dar;
    let left = m * B;
    // pieces split at page boundaries of either side; consecutive pieces that continue each
    // other on both sides form one run, copied at once when its source and destination do
    // not overlap (then every burst reads memory no burst of the run writes)
    let runPs = -1;
    let runPd = -1;
    let runLen = 0;
    while (left > 0) {
      const so = sVa % 4096;
      const dOff = dVa % 4096;
      let n = Math.min(4096 - so, 4096 - dOff, left);
      n -= n % B; // whole bursts (each burst lies inside one page on both sides)
      const ps = run.srcPa[Math.floor(sVa / 4096) - sPage0]! + so;
      const pd = run.dstPa[Math.floor(dVa / 4096) - dPage0]! + dOff;
      if (runLen > 0 && ps === runPs + runLen && pd === runPd + runLen) runLen += n;
      else {
        if (runLen > 0) this.copyPieces(runPs, runPd, runLen, B);
        runPs = ps;
        runPd = pd;
        runLen = n;
      }
      sVa += n;
      dVa += n;
      left -= n;
    }
    if (runLen > 0) this.copyPieces(runPs, runPd, runLen, B);
    this.flushCopy();
    const bytes = m * B;
    t.sar = (t.sar + bytes) >>> 0;
    t.dar = (t.dar + bytes) >>> 0;
    t.bytesLoaded += bytes;
    t.bytesStored += bytes;
    this.port.bytes += 2 * bytes;
    const period = this.periodNs;
    // m x (DMALPEND + body) (+ DMALPEND, DMALPEND LC1, DMALP at each inner-loop change);
    // the first DMALPEND is the one being executed (already counted)
    delay += run.costNs;
    // the m iterations in closed form: the first min(m, lc) decrement LC0; each later group
    // of imm + 1 iterations starts with an inner-loop change (LC1 decremented, LC0 = imm)
    // whose iteration adds DMALPEND LC1 and DMALP (two instructions and cycles more)
    let l0 = lc;
    let l1 = t.lc1;
    let changes = 0;
    if (m <= lc) l0 = lc - m;
    else {
      const r = m - lc; // > 0 only with a nested loop (imm >= 0: iters <= avail)
      const g = imm + 1;
      changes = Math.ceil(r / g);
      l0 = imm - (r - (changes - 1) * g - 1);
      l1 -= changes;
    }
    let insns = m * (1 + bodyLen) + 2 * changes;
    let cyc = m * seg.cyc + changes * 2 * TIMING.insnCycles;
    if (m > 0) {
      insns--;
      cyc -= TIMING.insnCycles;
    }
    if (partial) {
      // the next iteration's loop instructions (unless it is the DMALPEND being executed),
      // the body up to and including the load; its bytes wait in the MFIFO for the store
      if (l0 > 0) {
        l0--;
        if (m > 0) {
          insns++;
          cyc += TIMING.insnCycles;
        }
      } else {
        l1--;
        l0 = imm;
        insns += 3;
        cyc += 3 * TIMING.insnCycles;
      }
      insns += posLd + 1;
      cyc += posLd + TIMING.insnCycles + TIMING.axiLatencyCycles + C.ccrSrcLen(t.ccr);
      const ps = run.srcPa[Math.floor(t.sar / 4096) - sPage0]! + (t.sar % 4096);
      const sr = bus.ramAt(ps, B)!;
      t.fifo!.push(sr.bytes, ps - sr.base, B);
      this.mfifoUsed += B;
      t.lastSrcPage = Math.floor(t.sar / 4096);
      t.sar = (t.sar + B) >>> 0;
      t.bytesLoaded += B;
      this.port.bytes += B;
      t.pc = start + posLd + 1;
    } else {
      t.pc = lpend;
      if (m > 0) t.lastSrcPage = Math.floor((t.sar - 1) / 4096);
    }
    if (m > 0) t.lastDstPage = Math.floor((t.dar - 1) / 4096);
    t.instructions += insns;
    t.stallCycles = 0;
    if (lc1) t.lc1 = l0;
    else {
      t.lc0 = l0;
      t.lc1 = l1;
    }
    this.kick(t, delay + cyc * period);
    return true;
  }

  /** Copy `len` bytes of bursts of B bytes from physical ps to pd exactly as in step order. */
  private copyPieces(ps: number, pd: number, len: number, B: number): void {
    const bus = this.port.bus;
    const sr = bus.ramAt(ps, len);
    const dr = sr === null ? null : bus.ramAt(pd, len);
    if (sr === null || dr === null || (sr === dr && ps < pd + len && pd < ps + len)) {
      // across RAM regions, or source and destination overlap: burst by burst, each burst
      // seeing the previous bursts' stores (every burst lies in RAM: the stage checked)
      this.flushCopy();
      for (let x = 0; x < len; x += B) {
        const s1 = bus.ramAt(ps + x, B)!;
        const d1 = bus.ramAt(pd + x, B)!;
        if (s1 === d1) d1.bytes.copyWithin(pd + x - d1.base, ps + x - s1.base, ps + x - s1.base + B);
        else d1.bytes.set(s1.bytes.subarray(ps + x - s1.base, ps + x - s1.base + B), pd + x - d1.base);
      }
      return;
    }
    this.addCopy(sr, ps - sr.base, dr, pd - dr.base, len);
  }

  private readonly bodyOps: number[] = [];
  // translation-level bursts: loads translated and not yet stored (pa, region), FIFO order
  private xPending = 0;
  private xHead = 0;
  private readonly xPa: number[] = [];
  private readonly xRegion: RamRegion[] = [];
  private readonly xOut: TranslationResult = { status: 0, pa: 0, extent: 0, costNs: 0 };
  private readonly xTr: TranslationResult = { status: 0, pa: 0, extent: 0, costNs: 0 };

  /**
   * One incrementing burst of a pure copy loop at translation level: the same translate()
   * call the load/store code would make (only when quietLookup() says it leaves no
   * time-stamped trace and the burst is one page of RAM), the data moved RAM to RAM when the
   * matching store runs. Returns the translation cost (ns, >= 0), -1 when the burst must run
   * on the step path (nothing changed), -2 on an (unexpected) translation mismatch after the
   * lookup was made.
   */
  private xAccess(t: Pl330Thread, xl: TranslationStage, isLd: boolean, n: number, attrs: Attrs): number {
    const va = isLd ? t.sar : t.dar;
    if (Math.floor(va / 4096) !== Math.floor((va + n - 1) / 4096) || va + n > 0x100000000) return -1;
    const o = this.xOut;
    let q: boolean;
    if (this.cPend) {
      // a walk must not read memory the held-back copy is still to write
      const lo = this.cDr!.base + this.cDo;
      q = xl.quietLookup!(va, attrs, o, lo, lo + this.cLen);
      if (!q) {
        this.flushCopy();
        q = xl.quietLookup!(va, attrs, o);
      }
    } else q = xl.quietLookup!(va, attrs, o);
    if (!q || o.extent < n) return -1;
    const bus = this.port.bus;
    const r = bus.ramAt(o.pa, n);
    if (r === null) return -1;
    const pa = o.pa;
    if (!isLd) {
      if (this.xPending - this.xHead < 1) return -1;
      // a store must not overwrite bytes a later pending load still has to deliver
      for (let i = this.xHead + 1; i < this.xPending; i++) {
        const lp = this.xPa[i]!;
        if (pa < lp + n && lp < pa + n) return -1;
      }
    }
    const tr = this.xTr;
    xl.translate(va, attrs, tr);
    if (tr.status !== BUS_OK || tr.pa !== pa) return -2;
    this.port.bytes += n;
    if (isLd) {
      this.xPa[this.xPending] = pa;
      this.xRegion[this.xPending] = r;
      this.xPending++;
      t.sar = (t.sar + n) >>> 0;
      t.bytesLoaded += n;
      t.lastSrcPage = Math.floor(va / 4096);
    } else {
      const sp = this.xPa[this.xHead]!;
      const sr = this.xRegion[this.xHead]!;
      this.xHead++;
      if (this.xHead === this.xPending) this.xHead = this.xPending = 0;
      this.addCopy(sr, sp - sr.base, r, pa - r.base, n);
      t.dar = (t.dar + n) >>> 0;
      t.bytesStored += n;
      t.lastDstPage = Math.floor(va / 4096);
    }
    return tr.costNs;
  }

  // the held-back RAM copy of translation-level execution: consecutive bursts and page runs
  // that continue each other on both sides are written as one copy. Exact because nothing
  // reads memory inside a batch except the batch's own loads (the run's source never
  // overlaps its destination) and table walks (quietLookup's avoid range); it is written
  // before anything else could look (batch end, exec path, MFIFO fill).
  private cPend = false;
  private cSr: RamRegion | null = null;
  private cDr: RamRegion | null = null;
  private cSo = 0;
  private cDo = 0;
  private cLen = 0;

  private addCopy(sr: RamRegion, so: number, dr: RamRegion, dOff: number, n: number): void {
    if (this.cPend && sr === this.cSr && dr === this.cDr && this.cSo + this.cLen === so && this.cDo + this.cLen === dOff) {
      const len = this.cLen + n;
      if (sr !== dr || this.cSo + len <= this.cDo || this.cDo + len <= this.cSo) {
        this.cLen = len;
        return;
      }
    }
    this.flushCopy();
    if (sr === dr && so < dOff + n && dOff < so + n) {
      // a burst overlapping itself: memmove of the loaded bytes, now
      dr.bytes.copyWithin(dOff, so, so + n);
      if (dr.dirty) ramWritten(dr, dOff, n);
      return;
    }
    this.cPend = true;
    this.cSr = sr;
    this.cDr = dr;
    this.cSo = so;
    this.cDo = dOff;
    this.cLen = n;
  }

  private flushCopy(): void {
    if (!this.cPend) return;
    this.cPend = false;
    const sr = this.cSr!;
    const dr = this.cDr!;
    if (sr === dr) dr.bytes.copyWithin(this.cDo, this.cSo, this.cSo + this.cLen);
    else dr.bytes.set(sr.bytes.subarray(this.cSo, this.cSo + this.cLen), this.cDo);
    if (dr.dirty) ramWritten(dr, this.cDo, this.cLen);
  }

  /** Leaving translation-level execution mid-iteration: loaded bytes go into the MFIFO. */
  private xMaterialize(t: Pl330Thread): void {
    this.flushCopy();
    for (let i = this.xHead; i < this.xPending; i++) {
      const r = this.xRegion[i]!;
      const n = C.ccrSrcLen(t.ccr) << C.ccrSrcSize(t.ccr);
      const off = this.xPa[i]! - r.base;
      t.fifo!.push(r.bytes, off, n);
      this.mfifoUsed += n;
    }
    this.xHead = this.xPending = 0;
  }

  /** translation cost of the last segment (ns) */
  private segCost = 0;
  private readonly segSrc: TranslationResult = { status: 0, pa: 0, extent: 0, costNs: 0 };
  private readonly segDst: TranslationResult = { status: 0, pa: 0, extent: 0, costNs: 0 };

  /**
   * One page-run segment of a pure copy loop behind a translation stage: when the current
   * source and destination addresses are pure hits, the number k (1..maxIter, <= maxChunk)
   * of whole iterations whose bursts stay inside both hit ranges is copied RAM to RAM at
   * once and its k x nLd / k x nSt lookups accounted (translateHits). Returns k, or 0 when no
   * segment applies (then nothing changed). Updates SAR/DAR, byte counters, port bytes and
   * this.segCost (total lookup cost); the caller updates LC, PC, instructions and time.
   */
  private segment(t: Pl330Thread, seg: SegmentShape, xl: TranslationStage, maxIter: number, maxChunk: number, srcAttrs: Attrs, dstAttrs: Attrs): number {
    const so = this.segSrc;
    const d = this.segDst;
    if (!xl.translateHits!(t.sar, srcAttrs, 0, so)) return 0;
    if (seg.dstPer > 0 && !xl.translateHits!(t.dar, dstAttrs, 0, d)) return 0;
    let k = Math.min(maxIter, maxChunk, Math.floor(so.extent / seg.srcPer));
    if (seg.dstPer > 0) k = Math.min(k, Math.floor(d.extent / seg.dstPer));
    if (!(k >= 1)) return 0;
    const sLen = k * seg.srcPer;
    const dLen = k * seg.dstPer;
    if (t.sar + sLen > 0x100000000 || t.dar + dLen > 0x100000000) return 0;
    const bus = this.port.bus;
    const sr = bus.ramAt(so.pa, sLen);
    const dr = bus.ramAt(d.pa, dLen);
    if (sr === null || dr === null) return 0;
    // overlapping source and destination: step order matters (memmove would differ)
    if (so.pa < d.pa + dLen && d.pa < so.pa + sLen) return 0;
    // account the lookups exactly as k iterations of single translations would
    xl.translateHits!(t.sar, srcAttrs, k * seg.nLd, so);
    if (seg.nSt > 0) xl.translateHits!(t.dar, dstAttrs, k * seg.nSt, d);
    this.segCost = k * seg.nLd * so.costNs + k * seg.nSt * d.costNs;
    this.addCopy(sr, so.pa - sr.base, dr, d.pa - dr.base, sLen);
    this.port.bytes += sLen + dLen;
    t.sar = (t.sar + sLen) >>> 0;
    t.dar = (t.dar + dLen) >>> 0;
    t.bytesLoaded += sLen;
    t.bytesStored += dLen;
    t.lastSrcPage = Math.floor((t.sar - 1) / 4096);
    t.lastDstPage = Math.floor((t.dar - 1) / 4096);
    return k;
  }

  private peekCached(addr: number): number {
    const lb = this.icLineBytes;
    const la = addr - (addr % lb);
    for (let i = 0; i < this.icTags.length; i++) if (this.icTags[i] === la) return this.icData[i * lb + (addr - la)]!;
    return -1;
  }
}
