import type { UnicornThread } from '../../emulator/cpu/unicorn/thread.js';
import { ARM_NR } from './arm-nr.js';

/**
 * Plain poll(2)'s restart through the thread's restart_block, both eras (read in 3.14.4 and in
 * 6.12.19: fs/select.c sys_poll / do_restart_poll, kernel/signal.c sys_restart_syscall /
 * do_no_restart_syscall, arch/arm/kernel/signal.c do_signal / do_work_pending /
 * sys_(rt_)sigreturn, arch/arm/kernel/entry-common.S ret_fast_syscall):
 * - a signal that ends poll's sleep (do_sys_poll: 3.14's -EINTR, v6.12's -ERESTARTNOHAND) makes
 *   sys_poll store ufds, nfds and the absolute end time (has_timeout 0 for a negative timeout)
 *   in the restart_block, with fn = do_restart_poll, and return -ERESTART_RESTARTBLOCK;
 * - a handler runs: do_signal makes it -EINTR (SA_RESTART or not);
 * - no handler runs: do_signal returns the restart to do_work_pending, and ret_fast_syscall
 *   re-enters with scno = __NR_restart_syscall and r0-r6 reloaded, PC after the svc: the model
 *   puts the PC back over the svc and serves the re-executed svc as restart_syscall (`enter`);
 * - sys_restart_syscall runs restart_block.fn: do_restart_poll polls until the stored end time,
 *   so the restarted call waits only for the time left; interrupted again, it sets fn again and
 *   returns -ERESTART_RESTARTBLOCK with the same fields;
 * - sigreturn and rt_sigreturn set fn to do_no_restart_syscall (-EINTR); nothing else resets it,
 *   so a restart_syscall(2) of the user's own after a completed restarted poll polls again.
 */
export const ERESTART_RESTARTBLOCK = 516;

/** restart_block.poll */
export interface PollRestart {
  readonly ufds: number;
  readonly nfds: number;
  /** the absolute end in virtual nanoseconds; null: has_timeout 0 */
  readonly end: number | null;
}

export class RestartBlocks {
  /** each thread's restart_block whose fn is do_restart_poll (absent: do_no_restart_syscall) */
  private readonly blocks = new Map<UnicornThread, PollRestart>();
  /** threads whose re-executed svc is restart_syscall (ret_fast_syscall's scno change) */
  private readonly entering = new Set<UnicornThread>();

  /** a syscall that must block on a signal with -ERESTART_RESTARTBLOCK: plain poll, or its restart */
  isPoll(th: UnicornThread): boolean {
    const nr = th.blockedSyscall;
    return nr === ARM_NR.poll || nr === ARM_NR.restart_syscall || this.entering.has(th);
  }

  /** a signal ended `th`'s sleep in poll whose end time is `end`: sys_poll fills the block (do_restart_poll keeps it) */
  interrupted(th: UnicornThread, end: number | null): void {
    const again = th.blockedSyscall === ARM_NR.restart_syscall || this.entering.delete(th);
    if (!again) this.blocks.set(th, { ufds: th.blockedArg(0) >>> 0, nfds: th.blockedArg(1) >>> 0, end });
  }

  /** do_signal without a handler: the svc re-executed enters restart_syscall */
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

  get(th: UnicornThread): PollRestart | undefined {
    return this.blocks.get(th);
  }

  /** sys_(rt_)sigreturn: fn = do_no_restart_syscall */
  clear(th: UnicornThread): void {
    if (this.blocks.size !== 0) this.blocks.delete(th);
  }
}
