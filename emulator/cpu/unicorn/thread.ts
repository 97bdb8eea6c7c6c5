import type { Cpu, GuestThread, RunOutcome, ThreadState } from '../cpu.js';
import type { Tracer } from '../../trace.js';
import { WIDE_FIELD_INIT } from '../../time.js';
import { REGION_LIMIT, UnicornEngine, type ContextOwner, type HookClient } from './engine.js';
import { busErrorFault, faultFromError, pinFault, SIGNAL_NUMBERS, type GuestFault } from './faults.js';
import {
  UC_ARM_REG_C13_C0_3, UC_ARM_REG_CPSR, UC_ARM_REG_D0, UC_ARM_REG_FPSCR, UC_ARM_REG_LR, UC_ARM_REG_R0, UC_ARM_REG_SP, UC_ERR_OK,
  UC_MEM_FETCH_PROT, UC_MEM_FETCH_UNMAPPED, UC_MEM_WRITE_PROT, UC_MEM_WRITE_UNMAPPED,
  type NativePtr,
} from './native.js';

/**
 * A guest thread executing ARM machine code on Unicorn.
 *
 * Time model: instructions are counted with a UC_HOOK_BLOCK hook that adds the
 * instruction count of every translation block (TB) entered (ARM: size/4; Thumb: 16/32-bit
 * encodings decoded once per TB and cached). This counts instructions ARCHITECTURALLY
 * executed, including those that fail their condition code (inside IT blocks), as the
 * Cortex-A15 PMU event INST_RETIRED does; Unicorn's own uc_emu_start count (a code hook)
 * skips condition-failed instructions, so mixing both is inexact: the count is not used.
 * A step ends in the block hook (uc_emu_stop there keeps that TB from executing, so a step
 * ends exactly on a TB boundary) when the TB would exceed the host batching limit `quantum`
 * (default 10,000 instructions), when the thread's time at the TB's start has reached the
 * next pending scheduler event, or when the TB would exceed the thread's time slice
 * (`timeslice`, virtual: instructions). Only the last one changes which thread runs; the
 * first two end the step with 'continue' (the event runs, the thread goes on), so what a
 * program observes does not depend on `quantum` (docs/TIMING.md). An svc always ends a TB, so the
 * count at a syscall is exact; a fault in the middle of a TB counts the whole TB (the
 * thread dies there anyway). Each instruction costs `cpi` CPU cycles (default 1: a
 * Cortex-A15 at 1 GHz retiring about one instruction per cycle on integer code);
 * syscalls add `cpu.costs.syscall`, device accesses `cpu.costs.mmioAccess`. Virtual time
 * inside a step, as a syscall sees it, is the step's start time plus the cycles charged
 * so far (`nowNs()`, the TB in progress included); before a syscall and before a device
 * access the scheduler's clock is moved to that time (capped at the next pending event),
 * so the effects happen at their virtual time.
 *
 * Syscalls: `svc #0` raises UC_HOOK_INTR intno 2; the hook reads r7 and r0-r6 and calls
 * the SyscallBridge. A numeric result goes to r0 and execution continues in the same
 * quantum. BLOCK stops the engine: the bridge has parked the thread (cpu.block with a
 * deadline, or a wait queue); when it is woken the SAME syscall is presented to the
 * bridge again (it re-checks its condition, like a restarted Linux wait) before any
 * further instruction runs, unless the waker delivered the result with
 * `completeSyscall(value)`.
 */
export const BLOCK = 'block' as const;
export type SyscallResult = number | typeof BLOCK;

export interface SyscallBridge {
  /**
   * Serve syscall `nr` with register arguments `args` (r0-r6, unsigned 32-bit). Return the
   * value for r0 (negative errno as a negative number), or BLOCK after parking the thread
   * (cpu.block / WaitQueue.add). To end the thread or process call `t.exit(status)`.
   */
  syscall(t: UnicornThread, nr: number, args: Uint32Array): SyscallResult;
  /** called before each step of `t` (its registers are live): pending signals are delivered here */
  beforeResume?(t: UnicornThread): void;
  /**
   * `t` took a fault whose instruction is known (`f.precise`): its registers are those before
   * that instruction and its PC is on it (an asynchronous abort, `f.asynchronous`: those after
   * it, the PC on the next one). True: the bridge delivered a signal to a handler (the thread
   * goes on there); false: the thread dies of the fault (the default action).
   */
  onFault?(t: UnicornThread, f: GuestFault): boolean;
}

export { SIGNAL_NUMBERS, type GuestFault, type GuestSignal } from './faults.js';

export interface UnicornExit {
  /** status as a shell shows it: exit code, or 128 + signal number */
  status: number;
  code: number | null;
  fault: GuestFault | null;
  /** a host exception (a model bug) that ended the thread; never rethrown */
  hostError: Error | null;
}

export interface UnicornThreadOptions {
  /**
   * host batching limit: instructions per uc_emu_start at most (default 10,000). Invisible to
   * the program (the thread continues after it); a host-speed knob only.
   */
  quantum?: number;
  /**
   * time slice in instructions (default 10,000): a thread that has run this many
   * instructions since it was last dispatched yields to the other runnable threads
   */
  timeslice?: number;
  /** CPU cycles per instruction (default 1) */
  cpi?: number;
  tracer?: Tracer | null;
  /**
   * charge `cpu.costs.syscall` for every syscall presentation (default true). A bridge that
   * charges syscalls itself (the kernel model's layer charges once per call, not per
   * restart) passes false.
   */
  chargeSyscalls?: boolean;
}

/** registers fork() copies with single reads (r0-r12, SP, LR, CPSR, FPSCR, TPIDRURO); D0-D31 are 64-bit */
const FORK_REGS: readonly number[] = [UC_ARM_REG_CPSR, ...Array.from({ length: 13 }, (_, i) => UC_ARM_REG_R0 + i), UC_ARM_REG_SP, UC_ARM_REG_LR, UC_ARM_REG_FPSCR, UC_ARM_REG_C13_C0_3];

const hex = (v: number): string => '0x' + (v >>> 0).toString(16);

export class UnicornThread implements GuestThread, HookClient, ContextOwner {
  /** saved registers while another thread of the engine runs (engine-managed) */
  ctx: NativePtr | null = null;
  state: ThreadState = 'runnable';
  exitInfo: UnicornExit | null = null;
  onExit: ((t: UnicornThread) => void) | null = null;
  readonly quantum: number;
  readonly timeslice: number;
  readonly cpi: number;
  readonly chargeSyscalls: boolean;
  /** statistics (instructions: a double from the start, time.ts WIDE_FIELD_INIT) */
  instructions = WIDE_FIELD_INIT;
  syscalls = 0;
  quanta = 0;
  private cpu: Cpu | null = null;
  private readonly tracer: Tracer | null;
  private readonly traceSrc: string;
  private readonly args = new Uint32Array(7);
  private readonly syscallRegs: Int32Array;
  private pendingNr = -1;
  private pendingArgs = new Uint32Array(7);
  /** result delivered by a waker for the blocked syscall (completeSyscall), or null */
  private pendingResult: number | null = null;
  /** instructions counted by the block hook in the current quantum */
  private blockSum = 0;
  /** virtual time (ns) at the step's start (a double from the start: time.ts WIDE_FIELD_INIT) */
  private stepStart = WIDE_FIELD_INIT;
  private chargedInStep = 0;
  private stopReason: 'quantum' | 'event' | 'slice' | 'block' | 'exit' | 'fault' | null = null;
  /** instructions run in the current time slice before this step */
  private sliceUsed = 0;
  /**
   * cycles since the step's start at which the next pending event is due (Infinity: none;
   * -Infinity: an IRQ is pending, stop at the next TB)
   */
  private limitCycles = Infinity;
  private fault: GuestFault | null = null;
  private readonly icount: Map<number, number>;
  private readonly scratch = new Uint8Array(4096);
  /** the translation block entered last (onBlock) */
  private blockStart = 0;
  private blockSize = 0;

  constructor(
    readonly tid: number,
    readonly name: string,
    readonly engine: UnicornEngine,
    readonly bridge: SyscallBridge,
    entry: number,
    sp: number,
    opts: UnicornThreadOptions = {},
  ) {
    this.instructions = 0;
    this.stepStart = 0;
    this.quantum = opts.quantum ?? 10_000;
    this.timeslice = opts.timeslice ?? 10_000;
    this.cpi = opts.cpi ?? 1;
    this.tracer = opts.tracer ?? null;
    this.chargeSyscalls = opts.chargeSyscalls ?? true;
    this.traceSrc = `cpu.${name}`;
    this.icount = engine.icount;
    this.syscallRegs = Int32Array.from([engine.arch.syscallNrReg, ...engine.arch.argRegs]);
    engine.installHooks();
    // Take over the live registers (the previous owner's are saved); a new thread starts
    // from them, which is exactly what clone() needs, and then gets its own SP and PC.
    engine.switchTo(this);
    const a = engine.arch;
    engine.setReg(a.spReg, sp);
    // Thumb entry: Unicorn's PC write takes bit 0 as the T bit (writing CPSR.T has no effect)
    engine.setReg(a.pcReg, entry >>> 0);
  }

  /**
   * clone() for pthread_create: a new thread of the same process (same engine), with the
   * parent's registers except r0 = 0, SP = `childSp` (when non-zero) and TPIDRURO = `tls`
   * (CLONE_SETTLS). Call it from the parent's syscall (its registers are live); the child
   * resumes after the parent's svc. The caller adds the child to the Cpu.
   */
  static clone(parent: UnicornThread, tid: number, name: string, childSp: number, tls: number | null, opts: UnicornThreadOptions = {}): UnicornThread {
    const e = parent.engine;
    if (!e.owns(parent)) throw new Error('clone: the parent must be the running thread');
    const resume = e.arch.resumeAddress(e);
    const sp = childSp !== 0 ? childSp : e.reg(e.arch.spReg);
    const child = new UnicornThread(tid, name, e, parent.bridge, resume, sp, { quantum: parent.quantum, timeslice: parent.timeslice, cpi: parent.cpi, tracer: parent.tracer, chargeSyscalls: parent.chargeSyscalls, ...opts });
    e.setReg(e.arch.retReg, 0);
    if (tls !== null) e.setReg(UC_ARM_REG_C13_C0_3, tls);
    e.switchTo(parent);
    return child;
  }

  /**
   * fork(): the first thread of a new process on its own engine (`engine`, already attached
   * to the child's copy of the address space), with every user register of `parent` (r0-r12,
   * SP, LR, CPSR, FPSCR, D0-D31, TPIDRURO) except r0 = 0; it resumes after the parent's svc
   * (kernel/fork.c copy_thread of arch/arm/kernel/process.c: childregs = parent's, ARM_r0 = 0).
   * Call it from the parent's syscall (its registers are live). The caller adds it to the Cpu.
   */
  static forkInto(parent: UnicornThread, engine: UnicornEngine, bridge: SyscallBridge, tid: number, name: string): UnicornThread {
    const pe = parent.engine;
    if (!pe.owns(parent)) throw new Error('fork: the parent must be the running thread');
    const resume = pe.arch.resumeAddress(pe);
    const regs = FORK_REGS.map((id) => pe.reg(id));
    const d = new Uint32Array(64);
    const d2 = new Uint32Array(2);
    for (let i = 0; i < 32; i++) {
      pe.check('uc_reg_read', pe.api.uc_reg_read(pe.uc, UC_ARM_REG_D0 + i, d2));
      d[2 * i] = d2[0]!;
      d[2 * i + 1] = d2[1]!;
    }
    const child = new UnicornThread(tid, name, engine, bridge, resume, pe.reg(pe.arch.spReg), { quantum: parent.quantum, timeslice: parent.timeslice, cpi: parent.cpi, tracer: parent.tracer, chargeSyscalls: parent.chargeSyscalls });
    FORK_REGS.forEach((id, i) => engine.setReg(id, regs[i]!));
    for (let i = 0; i < 32; i++) {
      d2[0] = d[2 * i]!;
      d2[1] = d[2 * i + 1]!;
      engine.check('uc_reg_write', engine.api.uc_reg_write(engine.uc, UC_ARM_REG_D0 + i, d2));
    }
    engine.setReg(engine.arch.retReg, 0);
    engine.setReg(engine.arch.pcReg, resume);
    return child;
  }

  /**
   * execve(): the thread continues at `entry` with stack pointer `sp`, r0-r12 and LR zero and
   * no TLS (start_thread, arch/arm/include/asm/processor.h); the engine stops after the
   * current syscall so the next step starts from the new image.
   */
  restartAt(entry: number, sp: number): void {
    const e = this.engine;
    if (!e.owns(this)) throw new Error('exec: the thread must be the running one');
    for (let i = 0; i < 13; i++) e.setReg(UC_ARM_REG_R0 + i, 0);
    e.setReg(UC_ARM_REG_LR, 0);
    e.setReg(UC_ARM_REG_C13_C0_3, 0);
    e.setReg(e.arch.spReg, sp);
    e.setReg(e.arch.pcReg, entry >>> 0);
    this.requestStop();
  }

  /** end the current step after the running syscall (signal delivery, exec): the thread continues next step */
  requestStop(): void {
    if (this.engine.running !== this) return;
    if (this.stopReason === null) this.stopReason = 'quantum';
    this.engine.api.uc_emu_stop(this.engine.uc);
  }

  /** Charge CPU cycles to the running step (visible to nowNs()). */
  charge(cycles: number): void {
    this.chargedInStep += cycles;
  }

  /**
   * Virtual time now, inside the running step: step start + every cycle charged to the step
   * so far (the core's: context switch, kernel-layer charges; this thread's: instructions
   * of the TBs entered, syscalls, device accesses).
   */
  nowNs(): number {
    const cpu = this.cpu;
    if (cpu === null) return this.stepStart;
    return this.stepStart + cpu.clock.cycles(cpu.stepCycles + this.chargedInStep + this.blockSum * this.cpi);
  }

  /**
   * Bring the scheduler's clock to this thread's time (capped at the next pending event:
   * the clock never passes an event that has not run), before a syscall or a device access.
   */
  private syncClock(cpu: Cpu): void {
    const sch = cpu.scheduler;
    const next = sch.peekTime();
    const t = this.nowNs();
    sch.advanceTo(next === undefined || t < next ? t : next);
  }

  /** Recompute where the step must stop for the next event (after anything that may schedule one). */
  private refreshLimit(cpu: Cpu): void {
    if (cpu.irqPending) {
      this.limitCycles = -Infinity;
      return;
    }
    const next = cpu.scheduler.peekTime();
    this.limitCycles = next === undefined ? Infinity : (next - this.stepStart) / cpu.clock.periodNs;
  }

  get currentCpu(): Cpu | null {
    return this.cpu;
  }

  /** End the thread (exit/exit_group from the bridge). */
  exit(status: number): void {
    if (this.exitInfo !== null) return;
    this.exitInfo = { status: status & 0xff, code: status & 0xff, fault: null, hostError: null };
    this.stopReason = 'exit';
    // only stop the engine if this thread is the one inside it (exit_group from a sibling
    // marks this thread; it leaves the run queue when it is next picked)
    if (this.engine.running === this) this.engine.api.uc_emu_stop(this.engine.uc);
  }

  /**
   * Complete the syscall this thread is blocked in with `result` (for r0), instead of
   * having it re-presented to the bridge when the thread runs again. The caller still
   * wakes the thread (cpu.wake / WaitQueue.wakeAll).
   */
  completeSyscall(result: number): void {
    if (this.pendingNr < 0) throw new Error(`${this.name}: completeSyscall without a blocked syscall`);
    this.pendingResult = result >>> 0;
  }

  /** r0 as the last blocked syscall received it (ARM's ORIG_r0: a restarted call gets it back) */
  get blockedArg0(): number {
    return this.pendingArgs[0]!;
  }

  /** argument `i` (r0-r6) of the syscall this thread is blocked in */
  blockedArg(i: number): number {
    return this.pendingArgs[i]!;
  }

  /** the syscall number this thread is blocked in, or -1 */
  get blockedSyscall(): number {
    return this.pendingNr;
  }

  /** End the thread by a signal whose default action terminates (tgkill(SIGABRT) from abort()). */
  exitSignal(signo: number): void {
    if (this.exitInfo !== null) return;
    this.exitInfo = { status: 128 + (signo & 0x7f), code: null, fault: null, hostError: null };
    this.stopReason = 'exit';
    if (this.engine.running === this) this.engine.api.uc_emu_stop(this.engine.uc);
  }

  run(cpu: Cpu): RunOutcome {
    if (this.exitInfo !== null) {
      // ended by a sibling (exit_group) while runnable: report it like any exit
      this.cpu = cpu;
      return this.finish(cpu, 'exited');
    }
    this.cpu = cpu;
    this.engine.switchTo(this);
    this.engine.running = this;
    this.stepStart = cpu.scheduler.now;
    this.chargedInStep = 0;
    this.blockSum = 0;
    this.stopReason = null;
    try {
      if (this.pendingNr >= 0 && this.pendingResult !== null) {
        // the waker delivered the result: no re-presentation
        this.engine.setReg(this.engine.arch.retReg, this.pendingResult);
        this.pendingNr = -1;
        this.pendingResult = null;
      }
      if (this.pendingNr >= 0) {
        // re-present the syscall that blocked
        this.syncClock(cpu);
        const r = this.bridge.syscall(this, this.pendingNr, this.pendingArgs);
        if (this.chargeSyscalls) this.chargedInStep += cpu.costs.syscall;
        if (this.exitInfo !== null) return this.finish(cpu, 'exited');
        if (r === BLOCK) return this.finish(cpu, this.state === 'blocked' ? 'blocked' : 'yield');
        this.pendingNr = -1;
        this.engine.setReg(this.engine.arch.retReg, r);
      }
      if (this.bridge.beforeResume !== undefined) {
        // signal delivery between quanta (the bridge may redirect the thread to a handler or end it)
        this.bridge.beforeResume(this);
        if (this.exitInfo !== null) return this.finish(cpu, 'exited');
      }
      this.refreshLimit(cpu);
      this.quanta++;
      const e = this.engine;
      let err = e.api.uc_emu_start(e.uc, e.arch.resumeAddress(e), 0xffffffff, 0, 0);
      // the engine stopped after a write to a copy-on-write page (cowWrite, stopped in the next
      // block's hook): break the sharing, and go on with the quantum
      while (e.hasCowWrites) {
        e.applyCowWrites();
        if (err !== UC_ERR_OK || this.stopReason !== null || this.exitInfo !== null) break;
        err = e.api.uc_emu_start(e.uc, e.arch.resumeAddress(e), 0xffffffff, 0, 0);
      }
      const executed = this.blockSum;
      this.blockSum = 0;
      this.instructions += executed;
      this.chargedInStep += executed * this.cpi;
      if (this.exitInfo !== null) return this.finish(cpu, 'exited');
      if (err !== UC_ERR_OK || this.stopReason === 'fault') {
        const f = this.fault ?? faultFromError(this.engine, err);
        if (this.bridge.onFault !== undefined && pinFault(this.engine, f, this.blockStart, this.blockSize) && this.bridge.onFault(this, f)) {
          // delivered to a handler: the thread goes on there
          this.fault = null;
          this.stopReason = null;
          if (this.exitInfo !== null) return this.finish(cpu, 'exited');
          return this.finish(cpu, 'yield');
        }
        this.die(f);
        return this.finish(cpu, 'exited');
      }
      if (this.stopReason === 'block') return this.finish(cpu, this.state === 'blocked' ? 'blocked' : 'yield');
      if (this.stopReason === 'quantum' || this.stopReason === 'event') {
        this.sliceUsed += executed;
        return this.finish(cpu, 'continue');
      }
      return this.finish(cpu, 'yield');
    } catch (ex) {
      // a host exception is a model bug: end the thread, report it, never rethrow
      this.exitInfo = { status: 128 + 6, code: null, fault: null, hostError: ex as Error };
      return this.finish(cpu, 'exited');
    }
  }

  private finish(cpu: Cpu, outcome: RunOutcome): RunOutcome {
    this.engine.running = null;
    if (outcome !== 'continue') this.sliceUsed = 0;
    cpu.charge(this.chargedInStep);
    this.chargedInStep = 0;
    if (outcome === 'exited') {
      this.state = 'exited';
      if (this.tracer?.enabled) {
        const x = this.exitInfo!;
        this.tracer.emit(this.traceSrc, 'exit', { status: x.status, insns: this.instructions, sig: x.fault?.signal ?? null, addr: x.fault?.address ?? null, pc: x.fault?.pc ?? null });
      }
      this.onExit?.(this);
    }
    this.cpu = null;
    return outcome;
  }

  private die(f: GuestFault): void {
    this.fault = f;
    this.exitInfo = { status: 128 + SIGNAL_NUMBERS[f.signal], code: null, fault: f, hostError: null };
  }

  /** One-line report as a shell/kernel log would show it. */
  describeExit(): string {
    const x = this.exitInfo;
    if (x === null) return `${this.name}: running`;
    if (x.hostError) return `${this.name}: host error: ${x.hostError.message}`;
    if (x.code === null && !x.fault) return `${this.name}: killed by signal ${x.status - 128}; exit status ${x.status}`;
    if (x.fault) {
      const f = x.fault;
      return `${this.name}: ${f.signal} (${f.reason}) ${f.address !== null ? `at address ${hex(f.address)} ` : ''}pc ${hex(f.pc)}; exit status ${x.status}`;
    }
    return `${this.name}: exited with status ${x.status}`;
  }

  // ------------------------------------------------------------------ native hooks

  /** a device access through a user mapping answered with a bus error: an external abort (faults.ts busErrorFault) */
  onBusError(va: number, write: boolean, status: number, size?: number): void {
    if (this.fault !== null) return;
    this.fault = busErrorFault(this.engine, va, write, status, size);
    this.stopReason = 'fault';
    this.engine.api.uc_emu_stop(this.engine.uc);
  }

  onMmio(): void {
    const cpu = this.cpu;
    if (cpu === null) return;
    this.chargedInStep += cpu.costs.mmioAccess;
    // no device event while a write to a copy-on-write page sits in the shared frame (cowWrite):
    // the clock catches up at the next access or at the end of the block
    if (!this.engine.hasCowWrites) this.syncClock(cpu);
  }

  /** after a device access: its side effects may have scheduled an event or raised an IRQ */
  afterMmio(): void {
    const cpu = this.cpu;
    if (cpu !== null) this.refreshLimit(cpu);
  }

  readonly onIntr = (intno: number): void => {
    const e = this.engine;
    // a system call sees the process's memory as the kernel has it (cowWrite)
    if (e.hasCowWrites) e.applyCowWrites();
    if (intno !== e.arch.svcIntno) {
      // QEMU's AArch32 exception numbers: 1 UDEF, 3 prefetch abort, 4 data abort, 7 BKPT
      const pc = e.reg(e.arch.pcReg);
      if (intno === 1) this.fault = { signal: 'SIGILL', address: null, pc, access: 'exec', reason: 'undefined instruction' };
      else if (intno === 7) this.fault = { signal: 'SIGTRAP', address: null, pc, access: 'exec', reason: 'breakpoint' };
      else this.fault = { signal: 'SIGSEGV', address: null, pc, access: intno === 3 ? 'fetch' : 'read', reason: `exception ${intno}` };
      this.stopReason = 'fault';
      e.api.uc_emu_stop(e.uc);
      return;
    }
    const cpu = this.cpu!;
    try {
      // one batch read: the syscall number register, then the argument registers
      const v = e.readRegs(this.syscallRegs);
      const nr = v[0]!;
      const a = this.args;
      for (let i = 0; i < 7; i++) a[i] = v[i + 1]!;
      this.syscalls++;
      this.syncClock(cpu);
      const r = this.bridge.syscall(this, nr, a);
      this.refreshLimit(cpu);
      if (this.chargeSyscalls) this.chargedInStep += cpu.costs.syscall;
      if (this.tracer !== null && this.tracer.enabled) {
        this.tracer.emit(this.traceSrc, 'syscall', { nr, a0: a[0]!, a1: a[1]!, a2: a[2]!, ret: r === BLOCK ? 'block' : r | 0, insns: this.instructions + this.blockSum });
      }
      if (this.exitInfo !== null) return; // exit() already stopped the engine
      if (r === BLOCK) {
        this.pendingNr = nr;
        this.pendingArgs.set(a);
        this.stopReason = 'block';
        e.api.uc_emu_stop(e.uc);
        return;
      }
      e.setReg(e.arch.retReg, r);
    } catch (ex) {
      this.exitInfo = { status: 128 + 6, code: null, fault: null, hostError: ex as Error };
      this.stopReason = 'exit';
      e.api.uc_emu_stop(e.uc);
    }
  };

  readonly onBlock = (a: number, size: number): void => {
    // the block a data fault happens in (locate.ts finds its instruction)
    this.blockStart = a;
    this.blockSize = size;
    const key = a + size * 0x1_0000_0000;
    let n = this.icount.get(key);
    if (n === undefined) {
      n = this.countInstructions(a, size);
      this.icount.set(key, n);
    }
    // the previous block wrote a copy-on-write page (UnicornEngine.cowWrite): stop before this
    // one, so that the step's loop breaks the sharing before the program goes on
    if (this.engine.hasCowWrites) {
      this.engine.api.uc_emu_stop(this.engine.uc);
      return;
    }
    // Stopping in the block hook keeps this block from executing: a step ends exactly on a
    // translation-block boundary. The three tests are made on the same values whether or not
    // the previous step ended right before this block, so their outcome does not depend on
    // the host batching limit (docs/TIMING.md).
    const sum = this.blockSum;
    let stop: 'quantum' | 'event' | 'slice' | null = null;
    if (sum > 0 && sum + n > this.quantum) stop = 'quantum';
    else if (this.sliceUsed + sum > 0 && this.sliceUsed + sum + n > this.timeslice) stop = 'slice';
    else if (this.cpu!.stepCycles + this.chargedInStep + sum * this.cpi >= this.limitCycles) stop = 'event';
    if (stop !== null) {
      this.stopReason = stop;
      this.engine.api.uc_emu_stop(this.engine.uc);
      return;
    }
    this.blockSum = sum + n;
  };

  /** Instruction count of a translation block: ARM = size/4; Thumb decodes 16/32-bit encodings. */
  private countInstructions(address: number, size: number): number {
    const e = this.engine;
    if ((e.reg(UC_ARM_REG_CPSR) & (1 << 5)) === 0) return size >>> 2;
    const buf = size <= this.scratch.length ? this.scratch.subarray(0, size) : new Uint8Array(size);
    if (!e.read(address, buf)) return Math.max(1, size >>> 1);
    let n = 0;
    for (let i = 0; i + 1 < size;) {
      const hw = buf[i]! | (buf[i + 1]! << 8);
      i += (hw >>> 11) >= 0x1d ? 4 : 2;
      n++;
    }
    return n;
  }

  /** The translation-block instruction-count cache must be dropped when code pages change. */
  invalidateCode(): void {
    this.engine.icount.clear();
  }

  readonly onBadMem = (type: number, address: number | bigint): boolean => {
    const e = this.engine;
    const addr = Number(BigInt.asUintN(32, BigInt(address)));
    const access = type === UC_MEM_WRITE_UNMAPPED || type === UC_MEM_WRITE_PROT ? 'write' : type === UC_MEM_FETCH_UNMAPPED || type === UC_MEM_FETCH_PROT ? 'fetch' : 'read';
    const unmapped = type === UC_MEM_WRITE_UNMAPPED || type === UC_MEM_FETCH_UNMAPPED || type === 19;
    // demand paging: a page the process has mapped but never touched is materialised here;
    // a write to a page mirrored read-only because it is shared copy-on-write breaks the sharing
    if (unmapped && e.demandFault(addr, access)) return true;
    // a store to a page mirrored read-only because it is shared copy-on-write: see cowWrite
    if (type === UC_MEM_WRITE_PROT && e.cowWrite(addr)) return true;
    const pc = e.reg(e.arch.pcReg);
    // short-descriptor FSR: page translation fault 0b00111 or page permission fault 0b01111, WnR for a store
    const fsr = (unmapped ? 0x7 : 0xf) | (access === 'write' ? 0x800 : 0);
    this.fault = { signal: 'SIGSEGV', address: addr, pc: access === 'fetch' ? addr : pc, access, reason: unmapped ? `${access} of unmapped address` : `${access} not permitted`, fsr };
    if (type === UC_MEM_FETCH_PROT) this.fault.reason = 'fetch from non-executable page';
    if (unmapped && e.busFault) {
      // the kernel's fault path answered VM_FAULT_SIGBUS (arch/arm/mm/fault.c do_page_fault:
      // SIGBUS, BUS_ADRERR, through __do_user_fault like a SIGSEGV)
      this.fault.signal = 'SIGBUS';
      this.fault.reason = `${access} of a page the fault handler refused (VM_FAULT_SIGBUS: a mapped file past its end, or a stack guard page)`;
      this.fault.pageFault = true;
    }
    if (unmapped && e.regionLimitHit) {
      // a host limit, not the program's fault: no handler gets it (pinFault), and the report says so
      this.fault.reason = `${access} of a page the Unicorn mirror could not map: it holds ${REGION_LIMIT} regions, Unicorn 2.0's limit`;
      this.fault.hostLimit = true;
    }
    this.stopReason = 'fault';
    return false;
  };
}
