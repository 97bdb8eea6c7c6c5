import type { UnicornThread } from '../../emulator/cpu/unicorn/thread.js';
import { EFAULT } from '../base/errno.js';
import type { AddressSpace } from '../process/mm.js';
import { ARM_NR } from './arm-nr.js';

/**
 * The thread's restart_block, both eras, for plain poll(2) and the sleeps of nanosleep(2) /
 * clock_nanosleep(2) (read in 3.14.4 and in 6.12.19: fs/select.c sys_poll / do_restart_poll,
 * kernel/hrtimer.c (v6.12: kernel/time/hrtimer.c) hrtimer_nanosleep / do_nanosleep /
 * hrtimer_nanosleep_restart, kernel/signal.c sys_restart_syscall / do_no_restart_syscall,
 * arch/arm/kernel/signal.c do_signal / do_work_pending / sys_(rt_)sigreturn,
 * arch/arm/kernel/entry-common.S ret_fast_syscall):
 * - a signal that ends poll's wait (do_poll's signal_pending: 3.14's -EINTR, v6.12's
 *   -ERESTARTNOHAND) makes sys_poll store ufds, nfds and the absolute end time (has_timeout 0
 *   for a negative timeout) with fn = do_restart_poll, and return -ERESTART_RESTARTBLOCK;
 * - a signal that ends a relative sleep (do_nanosleep with the timer still armed) makes
 *   hrtimer_nanosleep write the time left to rmtp when there is one (update_rmtp / v6.12's
 *   nanosleep_copyout: a write that faults is -EFAULT, no restart; no time left is 0), store
 *   the absolute expiry with fn = hrtimer_nanosleep_restart, and return -ERESTART_RESTARTBLOCK;
 *   an absolute one (clock_nanosleep TIMER_ABSTIME) is -ERESTARTNOHAND, nothing written nor
 *   stored (time.ts);
 * - a handler runs: do_signal makes it -EINTR (SA_RESTART or not);
 * - no handler runs: do_signal returns the restart to do_work_pending, and ret_fast_syscall
 *   re-enters with scno = __NR_restart_syscall and r0-r6 reloaded, PC after the svc: the model
 *   puts the PC back over the svc and serves the re-executed svc as restart_syscall (`enter`);
 * - sys_restart_syscall runs restart_block.fn: do_restart_poll polls until the stored end
 *   time, hrtimer_nanosleep_restart sleeps until the stored expiry, so the restarted call waits
 *   only for the time left; interrupted again, it writes rmtp again (nanosleep) and returns
 *   -ERESTART_RESTARTBLOCK with the same fields;
 * - sigreturn and rt_sigreturn set fn to do_no_restart_syscall (-EINTR); v6.12's nanosleep and
 *   clock_nanosleep also do, once their arguments are checked (capability
 *   `nanosleepRestartReset`; 3.14's do not), nothing else resets it, so a restart_syscall(2) of
 *   the user's own after a completed restarted call runs it again.
 */
export const ERESTART_RESTARTBLOCK = 516;

/** restart_block.poll (fn = do_restart_poll) */
export interface PollRestart {
  readonly fn: 'poll';
  readonly ufds: number;
  readonly nfds: number;
  /** the absolute end in virtual nanoseconds; null: has_timeout 0 */
  readonly end: number | null;
}

/** restart_block.nanosleep (fn = hrtimer_nanosleep_restart) */
export interface NanosleepRestart {
  readonly fn: 'nanosleep';
  /** the absolute expiry in virtual nanoseconds */
  readonly expires: number;
  /** rmtp (0: none, v6.12's TT_NONE) */
  readonly rmtp: number;
  /** how rmtp is written: the 32-bit struct timespec (3.14's, v6.12's TT_COMPAT old_timespec32) or v6.12's TT_NATIVE __kernel_timespec */
  readonly time64: boolean;
}

export type RestartBlock = PollRestart | NanosleepRestart;

const rmt = new Uint8Array(16);

export class RestartBlocks {
  /** each thread's restart_block whose fn is not do_no_restart_syscall (absent: do_no_restart_syscall) */
  private readonly blocks = new Map<UnicornThread, RestartBlock>();
  /** threads whose re-executed svc is restart_syscall (ret_fast_syscall's scno change) */
  private readonly entering = new Set<UnicornThread>();

  /**
   * the restart a sleep of the syscall layer that `th` is in takes when a signal ends it: plain
   * poll's or nanosleep's, or, in restart_syscall, its block's; null for any other call
   */
  kind(th: UnicornThread): RestartBlock['fn'] | null {
    const nr = th.blockedSyscall;
    if (nr === ARM_NR.restart_syscall || this.entering.has(th)) return this.blocks.get(th)?.fn ?? null;
    return nr === ARM_NR.poll ? 'poll' : nr === ARM_NR.nanosleep ? 'nanosleep' : null;
  }

  /** `th` in restart_syscall (its re-executed svc, or its own call) */
  private restarting(th: UnicornThread): boolean {
    return th.blockedSyscall === ARM_NR.restart_syscall || this.entering.has(th);
  }

  /**
   * A signal ended `th`'s sleep in the syscall layer whose deadline is `deadline` at `now`, in a
   * call whose `kind` is not null: poll's -ERESTART_RESTARTBLOCK with its block (do_restart_poll's
   * kept), or nanosleep's end (hrtimer_nanosleep, or its restart; ARM's 162: the 32-bit timespec)
   */
  signalled(th: UnicornThread, mm: AddressSpace, now: number, deadline: number | null): number {
    const kind = this.kind(th);
    const again = this.restarting(th);
    // the call ends here (its result given to the thread): the scno change is over
    this.entering.delete(th);
    if (kind === 'poll') {
      if (!again) this.setPoll(th, th.blockedArg(0) >>> 0, th.blockedArg(1) >>> 0, deadline);
      return -ERESTART_RESTARTBLOCK;
    }
    return this.nanosleepInterrupted(th, mm, now, again ? null : { expires: deadline ?? 0, rmtp: th.blockedArg(1) >>> 0, time64: false });
  }

  /** sys_poll's block: fn = do_restart_poll */
  setPoll(th: UnicornThread, ufds: number, nfds: number, end: number | null): void {
    this.blocks.set(th, { fn: 'poll', ufds, nfds, end });
  }

  /**
   * A signal ended `th`'s relative sleep at `now` (hrtimer_nanosleep, or, `sleep` null, its
   * restart hrtimer_nanosleep_restart with the block's fields): no time left is 0; the time left
   * goes to rmtp (a faulting write: -EFAULT), then the block is stored: -ERESTART_RESTARTBLOCK
   */
  nanosleepInterrupted(th: UnicornThread, mm: AddressSpace, now: number, sleep: Omit<NanosleepRestart, 'fn'> | null): number {
    const b = sleep === null ? this.blocks.get(th) : { fn: 'nanosleep' as const, ...sleep };
    if (b === undefined || b.fn !== 'nanosleep') return 0;
    const rem = b.expires - now;
    if (rem <= 0) return 0;
    if (b.rmtp !== 0) {
      // ktime_to_timespec(64): whole seconds and the nanoseconds left
      const sec = Math.floor(rem / 1e9);
      const nsec = Math.floor(rem - sec * 1e9);
      const dv = new DataView(rmt.buffer);
      if (b.time64) {
        dv.setBigInt64(0, BigInt(sec), true);
        dv.setBigInt64(8, BigInt(nsec), true);
      } else {
        dv.setInt32(0, sec, true);
        dv.setInt32(4, nsec, true);
      }
      if (mm.copyToUser(b.rmtp, rmt, 0, b.time64 ? 16 : 8) !== 0) return -EFAULT;
    }
    if (sleep !== null) this.blocks.set(th, b);
    return -ERESTART_RESTARTBLOCK;
  }

  /** do_no_restart_syscall's -ERESTART_RESTARTBLOCK from do_signal without a handler: the svc re-executed enters restart_syscall */
  enter(th: UnicornThread): void {
    this.entering.add(th);
  }

  /** the syscall number `nr` of an svc of `th`, restart_syscall while a restart is in progress */
  entry(th: UnicornThread, nr: number): number {
    return this.entering.has(th) ? ARM_NR.restart_syscall : nr;
  }

  /** `th`'s call ended (not blocked): the scno change is over */
  done(th: UnicornThread): void {
    if (this.entering.size !== 0) this.entering.delete(th);
  }

  get(th: UnicornThread): RestartBlock | undefined {
    return this.blocks.get(th);
  }

  /** sys_(rt_)sigreturn, v6.12's nanosleep / clock_nanosleep: fn = do_no_restart_syscall */
  clear(th: UnicornThread): void {
    if (this.blocks.size !== 0) this.blocks.delete(th);
  }
}
