import type { SyscallResult, UnicornThread } from '../../emulator/cpu/unicorn/thread.js';
import { EFAULT, EINVAL } from '../base/errno.js';
import type { AddressSpace } from '../process/mm.js';
import { ERESTARTNOHAND, type SignalState } from './signal.js';
import { restartSyscall } from './signal-frame.js';
import { ERESTART_RESTARTBLOCK } from './signal-restart.js';
import { copyRemaining, type TimeLeft } from '../syscall/select-time.js';

/**
 * The signal mask pselect6 and ppoll (and their _time64 forms) wait with. Both eras (read in
 * 3.14.4 fs/select.c do_pselect / sys_ppoll, and 6.12.19 kernel/signal.c set_user_sigmask,
 * fs/select.c do_pselect / sys_ppoll(_time32) / poll_select_finish, include/linux/sched/signal.h
 * restore_saved_sigmask_unless) do the same, after the timeout is read and checked: a non-NULL
 * mask pointer with a size other than sizeof(sigset_t), 8 on ARM, is -EINVAL; an unreadable
 * mask -EFAULT; otherwise the caller's mask is kept as current->saved_sigmask (3.14:
 * sigprocmask(SIG_SETMASK)'s old set) and the given one (less SIGKILL and SIGSTOP:
 * sigdelsetmask in 3.14, set_current_blocked in v6.12) blocks signals during the wait. When
 * the wait ends without -ERESTARTNOHAND (ready fds, the timeout, an error) the caller's mask
 * comes back at once, so a signal the call's mask let through but the caller blocks stays
 * pending. When a signal ends it (-ERESTARTNOHAND; 3.14 ppoll turns do_poll's -EINTR into it)
 * the mask stays until the return to user space (set_restore_sigmask): a handler's frame saves
 * the caller's mask (sigmask_to_save: saved_sigmask) and the handler runs with the call's mask
 * plus sa_mask and the signal (signal_delivered on current->blocked); without a handler
 * (arch/arm/kernel/signal.c do_signal) restore_saved_sigmask puts it back and the call restarts.
 * SignalState keeps the saved mask (`saved`), deliver() and resume() use it.
 */
export function setUserSigmask(s: SignalState, mm: AddressSpace, t: UnicornThread, ptr: number, size: number): number {
  if (ptr === 0) return 0;
  if (size !== 8) return -EINVAL;
  const b = new Uint8Array(8);
  if (mm.copyFromUser(b, 0, ptr, 8) !== 0) return -EFAULT;
  s.saved.set(t, s.blockedOf(t));
  s.setBlocked(t, new DataView(b.buffer).getBigUint64(0, true));
  return 0;
}

/** restore_saved_sigmask (poll_select_finish, do_signal without a handler): the caller's mask back */
export function restoreSavedSigmask(s: SignalState, t: UnicornThread): void {
  const m = s.saved.get(t);
  if (m === undefined) return;
  s.saved.delete(t);
  s.setBlocked(t, m);
}

/** signal_pending(current) at the call's start: a pending signal the mask it waits with lets through */
export function signalLetThrough(s: SignalState, t: UnicornThread): boolean {
  return (s.pendingFor(t) & ~s.blockedOf(t)) !== 0n;
}

/**
 * A call that a pending signal ended at once with -ERESTARTNOHAND (pselect6/ppoll whose mask let
 * a pending signal through: fs-calls.ts withSigmask; select, an absolute clock_nanosleep) or
 * -ERESTART_RESTARTBLOCK (poll, a relative nanosleep / clock_nanosleep: sleep-calls.ts, time.ts),
 * at its return (LinuxAbi.syscall): a handler makes it -EINTR; without one (do_signal: the signal
 * was ignored) the saved mask comes back and the call restarts (PC back over the svc, r0 =
 * ORIG_r0, `a0`), -ERESTART_RESTARTBLOCK as restart_syscall (signal-restart.ts)
 */
export function signalEndedCall(s: SignalState, t: UnicornThread, a0: number, code = -ERESTARTNOHAND): SyscallResult {
  const d = s.deliver(t, code, true);
  if (d !== null || t.exitInfo !== null) return d ?? 0;
  restoreSavedSigmask(s, t);
  restartSyscall(t, a0);
  if (code === -ERESTART_RESTARTBLOCK) s.restart.enter(t);
  return a0;
}

/**
 * The end of select / pselect6 / ppoll with result `r` (not a wait; a signal's -ERESTARTNOHAND
 * included): the time left written into the caller's timeout (select-time.ts copyRemaining, at
 * `now`) and the caller's mask restored unless the call ends with -ERESTARTNOHAND, in the era's
 * order (capability `pselectTimeLeft`): 3.14's pselect6 writes first, so a write that faults
 * (-ERESTARTNOHAND made -EINTR) restores the mask at once (read in 3.14.4 fs/select.c
 * do_pselect); 3.14's ppoll (sys_ppoll) and v6.12's poll_select_finish decide on the mask with
 * the call's own result, then write (read in 6.12.19 fs/select.c). The result, maybe -EINTR.
 */
export function finishPollWait(s: SignalState, mm: AddressSpace, t: UnicornThread, rec: TimeLeft | null, now: number, r: number, order: 'copy-first' | 'mask-first'): number {
  if (order === 'copy-first' && rec !== null && rec.call === 'pselect') {
    const c = copyRemaining(mm, now, rec, r);
    if (c !== -ERESTARTNOHAND) restoreSavedSigmask(s, t);
    return c;
  }
  if (r !== -ERESTARTNOHAND) restoreSavedSigmask(s, t);
  return copyRemaining(mm, now, rec, r);
}
