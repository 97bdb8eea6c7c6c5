import type { Scheduler, SimEvent } from '../scheduler.js';
import type { Tracer } from '../trace.js';
import { Clock, WIDE_FIELD_INIT, type Ns } from '../time.js';

/**
 * The CPU core, independent of how guest code is executed.
 *
 * One core runs guest threads (user programs and kernel threads) in virtual time. A
 * backend supplies the threads: the deterministic stub runs TypeScript generator
 * functions (stub.ts); the Unicorn backend runs ARM machine code. Devices and the
 * kernel model see only this class: they charge cycles, block and wake threads, and
 * receive interrupts through the IRQ entry hook.
 *
 * Time: work done during one step (a thread's run between two yield points, or one IRQ
 * entry) is charged in CPU cycles through `charge()`; the next step starts when those
 * cycles have elapsed. Effects of a step (MMIO stores) happen at the step's start time.
 * Interrupts are taken at step boundaries, before any thread runs, while the CPU's IRQ
 * input is asserted and IRQs are unmasked.
 */
export type ThreadState = 'runnable' | 'blocked' | 'exited';

/**
 * Why a thread stopped running in a step. 'continue': the thread stopped only so that the
 * scheduler could run an event due now (or because of a host-side batching limit) and has
 * not used up its time slice: it stays at the head of the run queue (docs/TIMING.md).
 */
export type RunOutcome = 'yield' | 'blocked' | 'exited' | 'continue';

export interface GuestThread {
  readonly tid: number;
  readonly name: string;
  state: ThreadState;
  /** Run until the next yield point. Must not throw for guest-caused conditions. */
  run(cpu: Cpu): RunOutcome;
  /** called when a timed wait expires or the thread is woken */
  onWake?(reason: 'woken' | 'timeout'): void;
}

/**
 * A wait queue: threads sleep on it until it is woken (an eventfd being written, a
 * device interrupt). The waiters are kept in arrival order.
 */
export class WaitQueue {
  private waiters: GuestThread[] = [];
  constructor(readonly name: string) {}

  add(t: GuestThread): void {
    if (!this.waiters.includes(t)) this.waiters.push(t);
  }

  remove(t: GuestThread): void {
    const i = this.waiters.indexOf(t);
    if (i >= 0) this.waiters.splice(i, 1);
  }

  get size(): number {
    return this.waiters.length;
  }

  /** wake every waiter (they re-check their condition when they run) */
  wakeAll(cpu: Cpu): void {
    const ws = this.waiters;
    this.waiters = [];
    for (const t of ws) cpu.wake(t, 'woken');
  }
}

/** The documented cost table (cycles at the CPU clock); see docs/TIMING.md. */
export interface CpuCosts {
  /** syscall entry + exit */
  syscall: number;
  /** IRQ exception entry and return (vector, register save/restore) */
  irqEntry: number;
  /** one load/store to device memory (uncached, through the interconnect) */
  mmioAccess: number;
  /** one 32-bit load/store to normal (cached) memory from a guest program */
  memAccess: number;
  /** per 64 bytes copied by copy_{from,to}_user or memcpy-like bulk guest helpers */
  copyPer64: number;
  /** context switch between threads */
  contextSwitch: number;
}

export const DEFAULT_CPU_COSTS: CpuCosts = {
  syscall: 300,
  irqEntry: 200,
  mmioAccess: 40,
  memAccess: 2,
  copyPer64: 16,
  contextSwitch: 500,
};

export interface CpuOptions {
  hz?: number;
  costs?: Partial<CpuCosts>;
}

export class Cpu {
  readonly clock: Clock;
  readonly costs: CpuCosts;
  private runQueue: GuestThread[] = [];
  private current: GuestThread | null = null;
  private stepEvent: SimEvent | null = null;
  private timers = new Map<GuestThread, SimEvent>();
  private charged = 0;
  private irqLevel = false;
  /** CPSR.I analogue: while true, IRQs are not taken */
  irqMasked = false;
  private irqEntry: (() => void) | null = null;
  private lastThread: GuestThread | null = null;
  /** virtual time until which the core is busy with the last step's cycles */
  private busyUntil: Ns = WIDE_FIELD_INIT;

  /** statistics */
  irqEntries = 0;
  userSteps = 0;
  /** IRQ entries since a guest thread last ran (storm detection input) */
  irqEntriesSinceThreadRan = 0;
  /** cycles consumed in total */
  totalCycles = WIDE_FIELD_INIT;

  constructor(
    readonly scheduler: Scheduler,
    readonly tracer: Tracer | null = null,
    opts: CpuOptions = {},
  ) {
    this.clock = new Clock('cpu', opts.hz ?? 1_000_000_000);
    // frozen: a constant table (the fuzzer's snapshot does not record frozen objects)
    this.costs = Object.freeze({ ...DEFAULT_CPU_COSTS, ...(opts.costs ?? {}) });
    this.busyUntil = 0;
    this.totalCycles = 0;
  }

  /** The kernel installs its IRQ exception entry here. */
  setIrqEntry(fn: () => void): void {
    this.irqEntry = fn;
  }

  /** The interrupt controller's output to the CPU (nIRQ, active high here). */
  irqInput = (level: boolean): void => {
    this.irqLevel = level;
    if (level) this.kick();
  };

  get irqAsserted(): boolean {
    return this.irqLevel;
  }

  /** an IRQ would be taken at the next step boundary (asserted, unmasked, entry installed) */
  get irqPending(): boolean {
    return this.irqLevel && !this.irqMasked && this.irqEntry !== null;
  }

  /** cycles charged to the running step so far (a backend's view of its own time) */
  get stepCycles(): number {
    return this.charged;
  }

  /** Charge cycles to the current step. */
  charge(cycles: number): void {
    this.charged += cycles;
  }

  get currentThread(): GuestThread | null {
    return this.current;
  }

  addThread(t: GuestThread): void {
    t.state = 'runnable';
    this.runQueue.push(t);
    this.kick();
  }

  /** Block the running (or any) thread until woken or until `deadline` (absolute ns). */
  block(t: GuestThread, deadline: Ns | null = null): void {
    t.state = 'blocked';
    const q = this.runQueue.indexOf(t);
    if (q >= 0) this.runQueue.splice(q, 1);
    this.cancelTimer(t);
    if (deadline !== null) {
      const at = Math.max(deadline, this.scheduler.now);
      this.timers.set(t, this.scheduler.scheduleAt(at, () => {
        this.timers.delete(t);
        this.wake(t, 'timeout');
      }, `timeout ${t.name}`));
    }
  }

  wake(t: GuestThread, reason: 'woken' | 'timeout' = 'woken'): void {
    if (t.state !== 'blocked') return;
    this.cancelTimer(t);
    t.state = 'runnable';
    t.onWake?.(reason);
    this.runQueue.push(t);
    this.kick();
  }

  exitThread(t: GuestThread): void {
    t.state = 'exited';
    this.cancelTimer(t);
    const q = this.runQueue.indexOf(t);
    if (q >= 0) this.runQueue.splice(q, 1);
  }

  private cancelTimer(t: GuestThread): void {
    const ev = this.timers.get(t);
    if (ev) {
      this.scheduler.cancel(ev);
      this.timers.delete(t);
    }
  }

  /** true when a thread can run or an IRQ can be taken */
  get hasWork(): boolean {
    return this.runQueue.length > 0 || (this.irqLevel && !this.irqMasked && this.irqEntry !== null);
  }

  /** Make sure a step is scheduled if there is work (idempotent). */
  kick(): void {
    // inside a step (an IRQ re-asserted by an EOI, a thread woken by a handler) the
    // end of the step schedules the next one; scheduling here too would start a
    // second, cost-free step chain
    if (this.inStep) return;
    if (this.stepEvent !== null && this.stepEvent.pending) return;
    if (!this.hasWork) return;
    const at = Math.max(this.busyUntil, this.scheduler.now);
    this.stepEvent = this.scheduler.scheduleAt(at, this.step, 'cpu');
  }

  private inStep = false;

  private readonly step = (): void => {
    this.stepEvent = null;
    this.inStep = true;
    try {
      this.runStep();
    } finally {
      this.inStep = false;
    }
    if (this.hasWork) {
      this.stepEvent = this.scheduler.scheduleAt(this.busyUntil, this.step, 'cpu');
    }
  };

  private runStep(): void {
    // A backend running guest code may move the scheduler's clock forward inside the step
    // (Scheduler.advanceTo, up to the next pending event): the step's cycles count from its start.
    const start = this.scheduler.now;
    this.charged = 0;
    if (this.irqLevel && !this.irqMasked && this.irqEntry !== null) {
      this.irqEntries++;
      this.irqEntriesSinceThreadRan++;
      this.charged += this.costs.irqEntry;
      this.irqEntry();
    } else {
      const t = this.runQueue.shift();
      if (t === undefined) return;
      if (this.lastThread !== null && this.lastThread !== t) this.charged += this.costs.contextSwitch;
      this.lastThread = t;
      this.current = t;
      this.userSteps++;
      this.irqEntriesSinceThreadRan = 0;
      const outcome = t.run(this);
      this.current = null;
      if (outcome === 'yield' && t.state === 'runnable') this.runQueue.push(t);
      else if (outcome === 'continue' && t.state === 'runnable') this.runQueue.unshift(t);
      else if (outcome === 'exited') this.exitThread(t);
    }
    const c = this.charged;
    this.charged = 0;
    this.totalCycles += c;
    this.busyUntil = start + this.clock.cycles(c);
  }
}
