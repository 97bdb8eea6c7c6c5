/**
 * The PL330 (CoreLink DMA-330) reference model: DMA-330 TRM, ARM DDI 0424.
 *
 * Where things live (docs/PL330.md): the register table in regs.ts, the instruction set
 * (encodings, sizes, executors, disassembly) in isa.ts, thread state and the MFIFO in
 * thread.ts, the instruction cache in icache.ts, cycle costs in timing.ts, bursts (DMALD/DMAST,
 * AXI realignment, stalled accesses) in transfer.ts, the wait for an access a stalling SMMU
 * holds in stall.ts, the debug interface (DBGCMD, DBGINST0/1) in debug.ts. This file runs the
 * threads: fetch, execute, events, peripherals, faults.
 * Each thread runs as scheduler events in virtual time, one event per instruction, so an
 * endless DMA program only consumes virtual time and event budget.
 *
 * The accelerators (accel/) plug in at one point, `loopAccel` (a counted DMALPEND about to
 * jump back); without them the model is complete and gives the same results, only slower.
 */
import { ATTR_INSTR, ATTR_NS, ATTR_PRIV, STREAM_MASK, STREAM_SHIFT, type Attrs } from '../../emulator/attrs.js';
import { BUS_OK, SIZE_4, type MmioDevice } from '../../emulator/bus.js';
import type { IrqLine } from '../../emulator/irq.js';
import type { MasterPort } from '../../emulator/master.js';
import type { RegisterMap } from '../../emulator/regmap.js';
import type { Scheduler, SimEvent } from '../../emulator/scheduler.js';
import type { Tracer } from '../../emulator/trace.js';
import { createPl330Accel } from './accel/index.js';
import { DEFAULT_PL330_CONFIG, PL330_WIDE_BEAT_MODES, type Pl330Config, type Pl330Deps, type Pl330InsnObserver, type Pl330PeripheralPort } from './config.js';
import * as C from './constants.js';
import { Icache } from './icache.js';
import { DECODE, disassemble, INSN_SIZE, Next, type Pl330Core } from './isa.js';
import { pl330RegisterMap } from './regs.js';
import { ByteFifo, Mfifo, Pl330Thread } from './thread.js';
import { icacheFillCycles, TIMING } from './timing.js';
import { awaitStall } from './stall.js';
import { beatBytes, loadBurst, storeBurst } from './transfer.js';

export { DEFAULT_PL330_CONFIG } from './config.js';
export type { Pl330Config, Pl330WideBeat, Pl330Deps, Pl330InsnObserver, Pl330PeripheralPort } from './config.js';
export { TIMING } from './timing.js';
export { Pl330Thread } from './thread.js';
export { pl330InsnSize } from './isa.js';

/** A speed-up of counted loops (accel/): runs iterations in bulk, same results as stepping. */
export interface Pl330LoopAccel {
  /**
   * At a counted, unconditional DMALPEND about to jump back (LC = lc > 0, not yet
   * decremented): run some iterations and schedule the thread's next step, returning true,
   * or change nothing and return false (the DMALPEND then executes normally).
   */
  loop(t: Pl330Thread, jump: number, lc1: boolean): boolean;
}

export class Pl330 implements MmioDevice, Pl330Core {
  readonly name: string;
  /** write barrier, not device state: each way in that may change the controller counts here (tools/fuzz/snapshot.ts `guards`) */
  version = 0;
  readonly accessSizes = SIZE_4;
  readonly cfg: Pl330Config;
  readonly manager: Pl330Thread;
  readonly channels: Pl330Thread[];
  readonly periodNs: number;
  readonly busBytes: number;
  readonly mfifoBytes: number;
  /** the register file (regs.ts): dispatch, names, reset, guest-error reports */
  readonly regs: RegisterMap<Pl330>;
  /** optional instruction-level observer (tests, tracing) */
  insnObserver: Pl330InsnObserver | null = null;
  /** the loop accelerator (accel/), null with `accel: false` */
  readonly loopAccel: Pl330LoopAccel | null;

  // ---- state shared with the executors (isa.ts) and the accelerators (accel/)
  readonly sched: Scheduler;
  readonly port: MasterPort;
  readonly mfifo: Mfifo;
  readonly icache: Icache<Pl330Thread>;
  readonly periphPending = new Uint8Array(32); // 0 none, 1 single, 2 burst
  readonly periphLast = new Uint8Array(32);
  /** INT_EVENT_RIS */
  ris = 0;
  /** cycles the current step has consumed so far (fetch, bus) */
  cycles = 0;
  /**
   * While set, fault() records the fault bits in `deferredFault` instead of raising them: a
   * caller executing instructions ahead of virtual time delivers them at the right time.
   */
  deferFaults = false;
  deferredFault = 0;
  debugBusy = false;
  /** one burst's bytes (transfer.ts) */
  readonly burst = new Uint8Array(256);

  private readonly eventIrqs: IrqLine[];
  private readonly abortIrq: IrqLine | null;
  readonly tracer: Tracer | null;
  /** the debug instruction waiting for its latency (debug.ts) */
  dbgEv: SimEvent | null = null;
  /** watchdog irq-only lockup indication (WD.wd_irq_only = 1) */
  private lockupIrq = false;
  private readonly periphPorts: (Pl330PeripheralPort | null)[] = new Array<Pl330PeripheralPort | null>(32).fill(null);
  /** the instruction being executed: fetched (step) or latched by the debug interface (debug.ts) */
  readonly insn = new Uint8Array(6);
  private readonly sInten: number;
  private readonly sWd: number;
  /** the DBGINST0/DBGINST1 register slots (debug.ts) */
  readonly sDbg0: number;
  readonly sDbg1: number;

  constructor(cfg: Partial<Pl330Config>, deps: Pl330Deps) {
    const c: Pl330Config = { ...DEFAULT_PL330_CONFIG, ...cfg, accel: cfg.accel ?? cfg.fastPath ?? DEFAULT_PL330_CONFIG.accel };
    delete c.fastPath;
    const clampInt = (v: number, lo: number, hi: number): number => Math.max(lo, Math.min(hi, Math.floor(v)));
    c.channels = clampInt(c.channels, 1, 8);
    c.events = clampInt(c.events, 1, 32);
    c.periphReqs = clampInt(c.periphReqs, 0, 32);
    c.mfifoDepth = clampInt(c.mfifoDepth, 1, 1024);
    c.icacheLines = clampInt(c.icacheLines, 1, 16);
    // CR1 icache_len encodes 4, 8, 16 or 32 words (TRM 3.4 CR1); anything else is not a PL330
    if (![4, 8, 16, 32].includes(c.icacheLineWords)) throw new RangeError(`icache line of ${c.icacheLineWords} words: CR1 encodes 4, 8, 16 or 32`);
    if (!PL330_WIDE_BEAT_MODES.includes(c.wideBeat)) throw new RangeError(`wide-beat mode '${String(c.wideBeat)}'`);
    if (![32, 64, 128].includes(c.dataWidthBits)) c.dataWidthBits = 64;
    // never written after construction (frozen: the fuzzer's snapshot leaves it alone)
    this.cfg = Object.freeze(c);
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
    this.mfifo = new Mfifo(this.mfifoBytes);
    this.manager = new Pl330Thread(-1, null);
    this.channels = [];
    for (let i = 0; i < c.channels; i++) this.channels.push(new Pl330Thread(i, new ByteFifo(this.mfifoBytes)));
    this.icache = new Icache<Pl330Thread>(c.icacheLines, c.icacheLineWords, (t, la, buf, off, len) => {
      const st = this.port.readBlock(la, buf, off, len, this.fetchAttrs(t));
      this.cycles += icacheFillCycles(len, this.busBytes);
      return st === BUS_OK;
    });
    this.regs = pl330RegisterMap(this.name, c.channels, this.tracer);
    this.sInten = this.regs.slot('INTEN');
    this.sWd = this.regs.slot('WD');
    this.sDbg0 = this.regs.slot('DBGINST0');
    this.sDbg1 = this.regs.slot('DBGINST1');
    this.loopAccel = c.accel ? createPl330Accel(this) : null;
    this.reset();
  }

  // ------------------------------------------------------------------ reset / registers

  reset(): void {
    this.version++;
    for (const t of [this.manager, ...this.channels]) {
      this.sched.cancel(t.ev);
      t.ev = null;
      t.resetState();
      // a wait for a stalled access ends with the reset (its resolution is ignored)
      t.stalledOn = 0;
      t.stallGen++;
      t.replayStore = null;
      t.stallRetry = false;
      t.razwiDone.length = 0;
    }
    this.manager.ns = this.cfg.mgrNsAtReset;
    this.regs.reset();
    this.ris = 0;
    this.debugBusy = false;
    this.sched.cancel(this.dbgEv);
    this.dbgEv = null;
    this.lockupIrq = false;
    this.mfifo.reset();
    this.periphPending.fill(0);
    this.periphLast.fill(0);
    this.icache.invalidate();
    this.updateIrqs();
    if (this.cfg.bootEn) {
      // boot: the manager starts executing at boot_addr out of reset
      this.manager.pc = this.cfg.bootAddr >>> 0;
      this.manager.state = C.ST_EXECUTING;
      this.kick(this.manager, 0);
    }
  }

  read(off: number, size: number, attrs: Attrs): number {
    this.version++;
    return this.regs.read(this, off, size, attrs);
  }

  write(off: number, size: number, value: number, attrs: Attrs): number {
    this.version++;
    return this.regs.write(this, off, size, value, attrs);
  }

  /** register name for MMIO traces (emulator/bus.ts MmioDevice.regName) */
  regName(off: number): string | null {
    return this.regs.nameAt(off);
  }

  /** INTEN */
  get inten(): number {
    return this.regs.store[this.sInten]!;
  }

  /** INTEN write: events beyond the configured count stay disabled */
  writeInten(v: number): void {
    this.regs.store[this.sInten] = (v & this.eventMask()) >>> 0;
    this.updateIrqs();
  }

  /** INTCLR write: a 1 clears the interrupt (only events routed to interrupts) */
  clearInterrupts(v: number): void {
    this.ris = (this.ris & ~(v & this.inten)) >>> 0;
    this.updateIrqs();
  }

  /** FSRC: one bit per faulting channel */
  faultingChannels(): number {
    let r = 0;
    for (const t of this.channels) if (t.faulted) r |= 1 << t.id;
    return r >>> 0;
  }

  /** CR0..CR4, CRD as the TRM lays them out (the register table's values) */
  configRegister(off: number): number {
    return off >= C.REG_CR0 && off <= C.REG_CRD ? this.regs.read(this, off, 4, 0) : 0;
  }

  private eventMask(): number {
    return this.cfg.events >= 32 ? 0xffffffff : (1 << this.cfg.events) - 1;
  }

  /** the event interrupts and the abort interrupt from RIS, INTEN and the threads' faults (also stall.ts) */
  updateIrqs(): void {
    const mis = this.ris & this.inten;
    for (let i = 0; i < this.eventIrqs.length; i++) this.eventIrqs[i]!.set(((mis >>> i) & 1) !== 0);
    if (this.abortIrq) this.abortIrq.set(this.manager.state === C.ST_FAULTING || this.faultingChannels() !== 0 || this.lockupIrq);
  }

  // ------------------------------------------------------------------ public helpers

  /** DMAC-level view for tests/tools: is any thread still doing something? */
  get busy(): boolean {
    return !this.manager.idle || this.channels.some((t) => !t.idle);
  }

  /** bytes currently held in the MFIFO (all channels) */
  get mfifoLevel(): number {
    return this.mfifo.used;
  }

  attachPeripheral(n: number, port: Pl330PeripheralPort): void {
    this.version++;
    if (n >= 0 && n < 32) this.periphPorts[n] = port;
  }

  /** A peripheral asserts its DMA request (drtype single/burst, drlast). */
  peripheralRequest(n: number, kind: 'single' | 'burst', last = false): void {
    this.version++;
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
    this.version++;
    const t = this.channels[ch];
    if (!t || t.state !== C.ST_STOPPED) return false;
    this.go(t, pc, ns);
    return true;
  }

  // ------------------------------------------------------------------ thread control

  kick(t: Pl330Thread, delayNs: number): void {
    this.sched.cancel(t.ev);
    t.ev = this.sched.schedule(delayNs, () => this.step(t), t.isManager ? `${this.name}:mgr` : `${this.name}:ch${t.id}`);
  }

  go(t: Pl330Thread, pc: number, ns: boolean): void {
    t.begin(pc, ns, this.sched.now);
    // Choice: the instruction cache is invalidated on DMAGO, so a program rewritten at the
    // same address (as Linux does per request) is never executed stale.
    this.icache.invalidate();
    this.kick(t, 0);
  }

  invalidateIcache(): void {
    this.icache.invalidate();
  }

  /** the thread stops: its event, MFIFO data and stall wait go (also stall.ts) */
  stop(t: Pl330Thread): void {
    this.sched.cancel(t.ev);
    t.ev = null;
    t.state = C.ST_STOPPED;
    this.mfifo.discard(t);
    t.stalledOn = 0;
    t.stallGen++;
    t.replayStore = null;
    t.stallRetry = false;
    t.razwiDone.length = 0;
  }

  fault(t: Pl330Thread, bits: number): void {
    this.version++;
    if (this.deferFaults) {
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

  kill(t: Pl330Thread): void {
    // DMAKILL: killing -> stopped; clears the thread's fault and MFIFO data
    t.state = C.ST_KILLING;
    if (t.stalledOn !== 0) {
      // an AXI transaction is outstanding (held in the SMMU): the thread stays Killing until
      // it completes (DMA-330 TRM 3.3, thread states: Killing waits for outstanding
      // transactions), then stops (awaitStall)
      this.sched.cancel(t.ev);
      t.ev = null;
      t.ftr = 0;
      t.wfpBurstNs = t.wfpPeriph = false;
      if (t.isManager) this.lockupIrq = false;
      this.updateIrqs();
      return;
    }
    this.stop(t);
    t.ftr = 0;
    t.wfpBurstNs = t.wfpPeriph = false;
    if (t.isManager) this.lockupIrq = false;
    this.updateIrqs();
  }

  endThread(t: Pl330Thread): void {
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

  // ------------------------------------------------------------------ bus attributes

  private fetchAttrs(t: Pl330Thread): Attrs {
    // Choice: instruction fetches are privileged instruction accesses with the thread's
    // security (AxPROT = {instr, ns, priv}).
    return (ATTR_INSTR | ATTR_PRIV | (t.ns ? ATTR_NS : 0) | ((this.cfg.streamId & STREAM_MASK) << STREAM_SHIFT)) >>> 0;
  }

  /** data access attributes from CCR's AxPROT bits (TRM 3.4 CCR: bit0 privileged, bit1 non-secure, bit2 instruction) */
  dataAttrs(prot: number, write: boolean): Attrs {
    return (
      (write ? 1 : 0) |
      ((prot & 1) !== 0 ? ATTR_PRIV : 0) |
      ((prot & 2) !== 0 ? ATTR_NS : 0) |
      ((prot & 4) !== 0 ? ATTR_INSTR : 0) |
      ((this.cfg.streamId & STREAM_MASK) << STREAM_SHIFT)
    ) >>> 0;
  }

  // ------------------------------------------------------------------ fetch / execute

  /** fetch the instruction at t.pc into this.insn; returns its size, 0 undefined, -1 fetch error */
  private fetch(t: Pl330Thread): number {
    const b0 = this.icache.byte(t.pc, t);
    if (b0 < 0) return -1;
    this.insn[0] = b0;
    const n = INSN_SIZE[b0]!;
    for (let i = 1; i < n; i++) {
      const b = this.icache.byte((t.pc + i) >>> 0, t);
      if (b < 0) return -1;
      this.insn[i] = b;
    }
    return n;
  }

  /** one instruction of thread t (a scheduler event; stall.ts runs it again after a stall) */
  step(t: Pl330Thread): void {
    this.version++;
    t.ev = null;
    if (t.state !== C.ST_EXECUTING) return;
    this.cycles = 0;
    this.port.takeCost();
    const retry = t.stallRetry;
    t.stallRetry = false;
    const n = this.fetch(t);
    if (n < 0) {
      const bits = t.isManager ? C.FTD_INSTR_FETCH_ERR : C.FT_INSTR_FETCH_ERR;
      if (this.port.stalled !== null) awaitStall(this, t, bits, retry);
      else this.fault(t, bits);
      return;
    }
    if (n === 0) {
      this.fault(t, t.isManager ? C.FTD_UNDEF_INSTR : C.FT_UNDEF_INSTR);
      return;
    }
    if (!retry) {
      t.instructions++;
      if (this.insnObserver) this.insnObserver(t.id, t.pc, this.insn, n);
      if (this.cfg.traceInstructions && this.tracer?.enabled) {
        this.tracer.emit(this.name, 'pl330-insn', { thread: t.id, pc: t.pc, op: this.insn[0]!, dis: disassemble(this.insn) });
      }
    }
    const r = this.execute(t, this.insn, false);
    if (r === Next.Advance || r === Next.Jumped) {
      if (r === Next.Advance) t.pc = (t.pc + n) >>> 0;
      this.cycles += TIMING.insnCycles;
      this.kick(t, this.cycles * this.periodNs + this.port.takeCost());
    }
  }

  /**
   * Execute one instruction (b[0..size)) for thread t through the ISA table. For debug
   * instructions `dbg` is true (the PC is not involved). Returns what to do next.
   */
  execute(t: Pl330Thread, b: Uint8Array, dbg: boolean): Next {
    const d = DECODE[b[0]!];
    if (!d || !(t.isManager ? d.mgr : d.chan)) {
      this.fault(t, t.isManager ? C.FTD_UNDEF_INSTR : C.FT_UNDEF_INSTR);
      return Next.Stop;
    }
    return d.exec(this, t, b, dbg);
  }

  // ------------------------------------------------------------------ events, peripherals, loops

  signalEvent(ev: number): void {
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

  flushPeriph(p: number): void {
    this.periphPending[p] = 0;
    this.periphLast[p] = 0;
    this.periphPorts[p]?.flush?.();
  }

  ackPeriph(p: number, burst: boolean): void {
    const last = this.periphLast[p] !== 0;
    this.periphPending[p] = 0;
    this.periphLast[p] = 0;
    this.periphPorts[p]?.ack?.(burst ? 'burst' : 'single', last);
  }

  /** DMALPEND / DMALPFE (TRM 4.3): op is the first byte, jump the backward distance */
  loopEnd(t: Pl330Thread, op: number, jump: number): Next {
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
    // instruction-level observation (trace or observer) sees every instruction: no accelerator then
    if (this.loopAccel !== null && (op & 1) === 0 && this.insnObserver === null && !(this.cfg.traceInstructions && this.tracer?.enabled === true)) {
      if (this.loopAccel.loop(t, jump, lc1)) return Next.Scheduled;
    }
    if (lc1) t.lc1 = lc - 1;
    else t.lc0 = lc - 1;
    t.pc = (t.pc - jump) >>> 0;
    return Next.Jumped;
  }

  // ------------------------------------------------------------------ data transfers (transfer.ts)

  /** the beat of CCR size field `sz` in bytes, or -1 (operand_invalid): transfer.ts beatBytes */
  beatBytes(sz: number): number {
    return beatBytes(this, sz);
  }

  /** DMALD (TRM 4.3): transfer.ts loadBurst */
  load(t: Pl330Thread): Next {
    return loadBurst(this, t);
  }

  /** DMAST / DMASTZ (TRM 4.3): transfer.ts storeBurst */
  store(t: Pl330Thread, zero: boolean): Next {
    return storeBurst(this, t, zero);
  }

  /** MFIFO full with other channels' data: retry later; the watchdog detects lockup (TRM 3.4 WD). */
  mfifoWait(t: Pl330Thread): Next {
    t.stallCycles += TIMING.stallRetryCycles;
    if (t.stallCycles >= TIMING.watchdogCycles) {
      t.stallCycles = 0;
      if (this.regs.store[this.sWd]! & 1) {
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
}
