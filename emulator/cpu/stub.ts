import type { Cpu, GuestThread, RunOutcome, ThreadState } from './cpu.js';

/**
 * The deterministic stub CPU backend: guest threads are TypeScript generator functions.
 *
 * A guest program never touches the machine directly. It calls its syscall API, whose
 * operations are generators too (`const fd = yield* sys.open(...)`). An operation yields
 *  - PREEMPT at a point where the CPU may take interrupts or switch threads (every
 *    syscall entry), the thread stays runnable;
 *  - a Block object when it must sleep (the thread is parked on wait queues by the
 *    kernel before yielding, and re-checks its condition when resumed).
 * The value the generator receives back from a yield is the wake reason.
 *
 * A synchronous guest trap (a segmentation fault in a user-memory access) is modelled by
 * the accessor throwing a GuestTrap, which unwinds the guest program; the thread ends
 * with that trap recorded, and the machine stays usable.
 */
export const PREEMPT = Symbol('preempt');

export interface Block {
  readonly block: true;
  /** absolute virtual-time deadline (ns), or null for none */
  readonly deadline: number | null;
}

export type GuestYield = typeof PREEMPT | Block;
export type WakeReason = 'woken' | 'timeout' | 'start';
export type GuestProgram<R = number> = Generator<GuestYield, R, WakeReason>;

/**
 * An Error for a modelled event (a guest's signal, a kernel Oops, a thread's exit), not a
 * host failure: it records no host stack. Capturing one walks the host's call stack (the
 * fuzzer's generators and fast-check frames included) on every construction, ~2 % of a
 * fuzz run for the few hundred traps and Oopses a thousand runs raise; what a report shows
 * of these events is their own fields (signal, address, the Oops's modelled backtrace).
 * A host exception (any other Error) keeps its stack.
 */
export class ModelEvent extends Error {
  constructor(message: string) {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(message);
    Error.stackTraceLimit = limit;
  }
}

/** A synchronous trap raised by a user-memory access or an illegal operation. */
export class GuestTrap extends ModelEvent {
  constructor(
    readonly signal: 'SIGSEGV' | 'SIGBUS' | 'SIGILL' | 'SIGKILL' | 'SIGABRT',
    readonly address: number | null,
    readonly reason: string,
  ) {
    super(`${signal}${address !== null ? ` at 0x${address.toString(16)}` : ''}: ${reason}`);
  }
}

/**
 * Thrown by the syscall layer's exit(): ends the thread with an exit code (not a trap).
 * Guest code never catches it on purpose; a generator's finally blocks still run.
 */
export class GuestExit extends ModelEvent {
  constructor(readonly code: number) {
    super(`exit(${code})`);
  }
}

export interface ThreadExit {
  /** exit status as a shell shows it: code, or 128 + signal number */
  status: number;
  code: number | null;
  trap: GuestTrap | null;
  /** a host exception escaping guest code: a bug in the model, reported, never rethrown */
  hostError: Error | null;
}

const SIGNO: Record<GuestTrap['signal'], number> = { SIGILL: 4, SIGABRT: 6, SIGBUS: 7, SIGKILL: 9, SIGSEGV: 11 };

export class StubThread implements GuestThread {
  state: ThreadState = 'runnable';
  exit: ThreadExit | null = null;
  private wakeReason: WakeReason = 'start';
  private started = false;
  onExit: ((t: StubThread) => void) | null = null;

  constructor(
    readonly tid: number,
    readonly name: string,
    private readonly gen: GuestProgram,
  ) {}

  onWake(reason: 'woken' | 'timeout'): void {
    this.wakeReason = reason;
  }

  /** Kill from outside (process exit, fatal signal): the generator is closed. */
  kill(trap: GuestTrap): void {
    if (this.exit) return;
    try {
      this.gen.return(0);
    } catch {
      // finally blocks of guest code may throw; the thread is dead either way
    }
    this.finish({ status: 128 + SIGNO[trap.signal], code: null, trap, hostError: null });
  }

  run(cpu: Cpu): RunOutcome {
    if (this.exit) return 'exited';
    this.started = true;
    let r: IteratorResult<GuestYield, number>;
    try {
      r = this.gen.next(this.wakeReason);
    } catch (e) {
      if (e instanceof GuestExit) {
        const code = e.code & 0xff;
        this.finish({ status: code, code, trap: null, hostError: null });
      } else if (e instanceof GuestTrap) {
        this.finish({ status: 128 + SIGNO[e.signal], code: null, trap: e, hostError: null });
      } else {
        const err = e instanceof Error ? e : new Error(String(e));
        this.finish({ status: 134, code: null, trap: null, hostError: err });
      }
      cpu.exitThread(this);
      return 'exited';
    }
    this.wakeReason = 'woken';
    if (r.done) {
      const code = (r.value ?? 0) & 0xff;
      this.finish({ status: code, code, trap: null, hostError: null });
      cpu.exitThread(this);
      return 'exited';
    }
    const y = r.value;
    if (y === PREEMPT) return 'yield';
    cpu.block(this, y.deadline);
    return 'blocked';
  }

  get hasStarted(): boolean {
    return this.started;
  }

  private finish(x: ThreadExit): void {
    if (this.exit) return;
    this.exit = x;
    this.state = 'exited';
    this.onExit?.(this);
  }
}
