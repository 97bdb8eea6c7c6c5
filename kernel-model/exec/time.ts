import type { Cpu } from '../../emulator/cpu/cpu.js';
import { decodeTimespec, encodeTimespec, TIMER_ABSTIME } from '../../emulator/cpu/unicorn/abi.js';
import { BLOCK, type SyscallResult, type UnicornThread } from '../../emulator/cpu/unicorn/thread.js';
import type { Scheduler, SimEvent } from '../../emulator/scheduler.js';
import { WIDE_FIELD_INIT } from '../../emulator/time.js';
import { EFAULT, EINVAL, EOPNOTSUPP, EPERM } from '../base/errno.js';
import { capRaised } from '../process/cred.js';
import { ERESTARTNOHAND } from './signal.js';
import type { RestartBlocks } from './signal-restart.js';
import type { AddressSpace } from '../process/mm.js';

/**
 * The clocks, sleeps and the real interval timer of an ARM process on the Unicorn backend,
 * all in virtual time: the clock ids of clock_gettime/clock_getres/clock_nanosleep
 * (kernel/time/posix-timers.c, kernel/time/posix-cpu-timers.c), clock_nanosleep
 * (kernel/time/hrtimer.c hrtimer_nanosleep) and ITIMER_REAL (kernel/time/itimer.c).
 */

/** CLOCK_REALTIME = this fixed epoch + virtual time (2014-05-13, the RFC's date): deterministic */
export const REALTIME_EPOCH_NS = 1_399_939_200 * 1e9;
/**
 * The epoch offset of a clock id, or null for an id clock_gettime refuses with -EINVAL
 * (kernel/time/posix-timers.c clockid_to_kclock: the posix_clocks[] table; a negative id is
 * a CPU-time clock of kernel/time/posix-cpu-timers.c, CPUCLOCK_WHICH 3 is invalid and the pid
 * must be the caller's (0 = self) or, CPUCLOCK_PERTHREAD, one of its threads).
 * REALTIME (0), REALTIME_COARSE (5), REALTIME_ALARM (8) and TAI (11, tai offset 0 as on a
 * machine where no one set it) carry the epoch; MONOTONIC (1), MONOTONIC_RAW (4),
 * MONOTONIC_COARSE (6), BOOTTIME (7), BOOTTIME_ALARM (9) are time since boot; 10
 * (CLOCK_SGI_CYCLE, removed) and ids past 11 are invalid.
 * Choice: the CPU-time clocks (2, 3 and the negative ids) read the time since boot too, and the
 * coarse clocks are as exact as the others (no tick: every clock is derived from virtual time).
 */
export function clockEpochOffset(id: number, pid: number, isOwnTid: (tid: number) => boolean): number | null {
  if (id < 0) {
    if ((id & 3) === 3) return null;
    const who = ~(id >> 3);
    if (who === 0) return 0;
    if ((id & 4) !== 0) return isOwnTid(who) ? 0 : null;
    return who === pid ? 0 : null;
  }
  switch (id) {
    case 0: case 5: case 8: case 11: return REALTIME_EPOCH_NS;
    case 1: case 2: case 3: case 4: case 6: case 7: case 9: return 0;
    default: return null;
  }
}

/** The process's clock ids (clockEpochOffset with its pid and threads). */
export interface ProcessClocks {
  clockOffset(id: number): number | null;
}

/** What clock_nanosleep needs of its process besides its clocks (LinuxAbi). */
export interface SleepingProcess extends ProcessClocks {
  readonly proc: { readonly capEffective: bigint };
  readonly signals: { sigpending(t: UnicornThread): boolean; readonly restart: RestartBlocks };
  /** capability `nanosleepRestartReset` (signal-restart.ts) */
  readonly nanosleepRestartReset: boolean;
}

/** include/uapi/linux/capability.h */
const CAP_WAKE_ALARM = 35;

/**
 * clock_gettime(2), clock_gettime64 (kernel/time/posix-timers.c): the clock's time (virtual
 * time plus its epoch offset) written to user memory as a timespec (the 32-bit one, or the
 * 64-bit one of the _time64 call); an invalid id -EINVAL, a buffer that cannot be written
 * -EFAULT
 */
export function sysClockGettime(clocks: ProcessClocks, mm: AddressSpace, t: UnicornThread, a: Uint32Array, time64: boolean): number {
  const off = clocks.clockOffset(a[0]! | 0);
  if (off === null) return -EINVAL;
  const b = encodeTimespec(t.nowNs() + off, time64);
  return mm.copyToUser(a[1]!, b, 0, b.length) === 0 ? 0 : -EFAULT;
}

/** clock_getres(2): 1 ns for every valid id (every clock is virtual time); a NULL buffer only checks the id */
export function sysClockGetres(clocks: ProcessClocks, mm: AddressSpace, a: Uint32Array): number {
  if (clocks.clockOffset(a[0]! | 0) === null) return -EINVAL;
  if (a[1] === 0) return 0;
  const b = encodeTimespec(1, false);
  return mm.copyToUser(a[1]!, b, 0, b.length) === 0 ? 0 : -EFAULT;
}

/**
 * How clock_nanosleep sleeps on a clock id, both eras (read in 3.14.4 kernel/posix-timers.c
 * clockid_to_kclock, init_posix_timers, kernel/posix-cpu-timers.c, kernel/time/alarmtimer.c; read
 * in 6.12.19 kernel/time/posix-timers.c posix_clocks[], posix-cpu-timers.c, alarmtimer.c):
 * 'invalid' (no k_clock: -EINVAL), 'none' (a k_clock without nsleep: -EOPNOTSUPP, 3.14's
 * ENANOSLEEP_NOTSUP, the same 95 on ARM), 'hrtimer' (common_nsleep: REALTIME, MONOTONIC,
 * BOOTTIME, TAI), 'alarm' (REALTIME_ALARM, BOOTTIME_ALARM: alarm_timer_nsleep, CAP_WAKE_ALARM)
 * or 'cpu' (posix_cpu_nsleep: CLOCK_PROCESS_CPUTIME_ID and the negative CPU-time ids).
 * CLOCK_THREAD_CPUTIME_ID, MONOTONIC_RAW and the coarse clocks have no nsleep; a negative id
 * with CPUCLOCK_WHICH 3 and no per-thread bit is a dynamic (fd) clock, clock_posix_dynamic,
 * with no nsleep either.
 */
export function nsleepKind(id: number): 'invalid' | 'none' | 'hrtimer' | 'alarm' | 'cpu' {
  if (id < 0) return (id & 7) === 3 ? 'none' : 'cpu';
  switch (id) {
    case 0: case 1: case 7: case 11: return 'hrtimer';
    case 8: case 9: return 'alarm';
    case 2: return 'cpu';
    case 3: case 4: case 5: case 6: return 'none';
    default: return 'invalid';
  }
}

/** one thread's sleep in clock_nanosleep: the absolute deadline (virtual time), TIMER_ABSTIME, rmtp and its layout */
interface ClockSleep {
  readonly deadline: number;
  readonly abs: boolean;
  readonly rmtp: number;
  readonly time64: boolean;
}

/**
 * The threads of one process asleep in clock_nanosleep(_time64): each one's sleep. The call
 * blocks until its deadline and is presented again when the thread runs; a presentation at or
 * after the deadline completes it with 0. A signal ends it as hrtimer_nanosleep does
 * (`signalled`: signal-restart.ts), also when it is already pending as the call starts
 * (do_nanosleep's schedule() returns at once).
 * Choices: the CPU-time clocks sleep on virtual time as they read it (clockEpochOffset), their
 * restart (posix_cpu_nsleep_restart) is modelled as the hrtimer one; the alarm clocks are
 * modelled with an RTC (clock_gettime reads them), so only CAP_WAKE_ALARM is checked, and not
 * v6.12's -EINVAL for flags other than TIMER_ABSTIME on them.
 */
export class ClockSleeps {
  private readonly sleeping = new Map<UnicornThread, ClockSleep>();
  private readonly scratch8 = new Uint8Array(8);
  private readonly scratch16 = new Uint8Array(16);

  constructor(
    private readonly mm: AddressSpace,
    private readonly cpu: Cpu,
    private readonly p: SleepingProcess,
  ) {}

  /** `t` is asleep in clock_nanosleep */
  has(t: UnicornThread): boolean {
    return this.sleeping.has(t);
  }

  /** forget `t`'s sleep (the thread ended); false if it had none */
  cancel(t: UnicornThread): boolean {
    return this.sleeping.delete(t);
  }

  /** a signal ends `t`'s sleep: the call's result (null: `t` is not asleep here) */
  signalled(t: UnicornThread, restart: RestartBlocks): number | null {
    const s = this.sleeping.get(t);
    if (s === undefined) return null;
    this.sleeping.delete(t);
    return this.ended(t, s, restart);
  }

  /**
   * hrtimer_nanosleep's end by a signal: the timer expired (no time left) 0; an absolute sleep
   * -ERESTARTNOHAND, nothing written (3.14: "Absolute timers do not update the rmtp value and
   * restart"; v6.12 clears rmtp for TIMER_ABSTIME); a relative one writes rmtp and stores the
   * restart_block (signal-restart.ts)
   */
  private ended(t: UnicornThread, s: ClockSleep, restart: RestartBlocks): number {
    const now = this.cpu.scheduler.now;
    if (now >= s.deadline) return 0;
    if (s.abs) return -ERESTARTNOHAND;
    return restart.nanosleepInterrupted(t, this.mm, now, { expires: s.deadline, rmtp: s.rmtp, time64: s.time64 });
  }

  /**
   * clock_nanosleep(clockid, flags, request, remain) (3.14 and v6.12 sys_clock_nanosleep; v6.12's
   * ARM 265 is sys_clock_nanosleep_time32, 407 sys_clock_nanosleep with __kernel_timespec): the
   * clock (-EINVAL, -EOPNOTSUPP), then request read (-EFAULT) and checked (-EINVAL), v6.12's
   * restart_block reset, then the clock's nsleep: posix_cpu_nsleep refuses the caller's own
   * thread clock (-EINVAL), alarm_timer_nsleep wants CAP_WAKE_ALARM (-EPERM)
   */
  sysClockNanosleep(t: UnicornThread, time64: boolean, a: Uint32Array): SyscallResult {
    const pending = this.sleeping.get(t);
    if (pending !== undefined) {
      if (this.cpu.scheduler.now < pending.deadline) {
        this.cpu.block(t, pending.deadline);
        return BLOCK;
      }
      this.sleeping.delete(t);
      return 0;
    }
    const id = a[0]! | 0;
    const kind = nsleepKind(id);
    if (kind === 'invalid') return -EINVAL;
    if (kind === 'none') return -EOPNOTSUPP;
    const b = time64 ? this.scratch16 : this.scratch8;
    if (this.mm.copyFromUser(b, 0, a[2]!, b.length) !== 0) return -EFAULT;
    const d = decodeTimespec(b, time64);
    if (d === null) return -EINVAL;
    const restart = this.p.signals.restart;
    if (this.p.nanosleepRestartReset) restart.clear(t);
    // posix_cpu_nsleep: CPUCLOCK_PERTHREAD with pid 0 or the caller's own tid
    if (kind === 'cpu' && (id & 4) !== 0 && (~(id >> 3) === 0 || ~(id >> 3) === t.tid)) return -EINVAL;
    if (kind === 'alarm' && !capRaised(this.p.proc.capEffective, CAP_WAKE_ALARM)) return -EPERM;
    const abs = (a[1]! & TIMER_ABSTIME) !== 0;
    const clockOff = this.p.clockOffset(id);
    if (clockOff === null) return -EINVAL;
    const deadline = abs ? d - clockOff : t.nowNs() + d;
    if (deadline <= this.cpu.scheduler.now) return 0;
    const s: ClockSleep = { deadline, abs, rmtp: a[3]!, time64 };
    // a signal already pending: do_nanosleep does not sleep
    if (this.p.signals.sigpending(t)) return this.ended(t, s, restart);
    this.sleeping.set(t, s);
    this.cpu.block(t, deadline);
    return BLOCK;
  }
}

/**
 * setitimer / getitimer ITIMER_REAL (kernel/time/itimer.c): SIGALRM at the expiry, again
 * every interval; glibc's alarm() is setitimer on ARM EABI. A virtual-time event on the
 * board's scheduler: deterministic. ITIMER_VIRTUAL/PROF are not modelled (-EINVAL).
 */
export class RealTimer {
  private event: SimEvent | null = null;
  /** (a virtual time: a double from the start, emulator/time.ts WIDE_FIELD_INIT) */
  private at = WIDE_FIELD_INIT;
  private interval = 0;

  /**
   * @param label the scheduler event's label
   * @param ended the process has ended (an expiry then does nothing)
   * @param alarm post SIGALRM to the process
   */
  constructor(
    private readonly scheduler: Scheduler,
    private readonly mm: AddressSpace,
    private readonly label: string,
    private readonly ended: () => boolean,
    private readonly alarm: () => void,
  ) {
    this.at = 0;
  }

  /** setitimer(which, value, ovalue); getitimer(which, curr) is setitimer(which, 0, curr) */
  sysSetitimer(which: number, value: number, ovalue: number): number {
    if (which !== 0) return -EINVAL;
    const now = this.scheduler.now;
    if (ovalue !== 0) {
      const left = this.event !== null && this.event.pending ? Math.max(0, this.at - now) : 0;
      const b = new Uint8Array(16);
      const dv = new DataView(b.buffer);
      const us = (ns: number): [number, number] => {
        const u = Math.ceil(ns / 1000);
        return [Math.floor(u / 1e6), u % 1e6];
      };
      const [is, iu] = us(this.interval);
      const [vs, vu] = us(left);
      dv.setUint32(0, is, true); dv.setUint32(4, iu, true); dv.setUint32(8, vs, true); dv.setUint32(12, vu, true);
      if (this.mm.copyToUser(ovalue, b, 0, b.length) !== 0) return -EFAULT;
    }
    if (value === 0) return 0;
    const b = new Uint8Array(16);
    if (this.mm.copyFromUser(b, 0, value, b.length) !== 0) return -EFAULT;
    const dv = new DataView(b.buffer);
    const ns = (sec: number, usec: number): number | null => (usec < 0 || usec >= 1e6 || sec < 0 ? null : sec * 1e9 + usec * 1000);
    const interval = ns(dv.getInt32(0, true), dv.getInt32(4, true));
    const val = ns(dv.getInt32(8, true), dv.getInt32(12, true));
    if (interval === null || val === null) return -EINVAL;
    this.scheduler.cancel(this.event);
    this.event = null;
    this.interval = interval;
    if (val > 0) this.arm(now + val);
    return 0;
  }

  /** the process ended: no more expiries */
  cancel(): void {
    this.scheduler.cancel(this.event);
    this.event = null;
  }

  private arm(at: number): void {
    this.at = at;
    this.event = this.scheduler.scheduleAt(at, () => {
      this.event = null;
      if (this.ended()) return;
      if (this.interval > 0) this.arm(this.at + this.interval);
      this.alarm();
    }, this.label);
  }
}
