import { EINTR } from '../base/errno.js';
import type { AddressSpace } from '../process/mm.js';

/**
 * The time left that select, pselect6 and ppoll write back into the caller's timeout (fs/select.c:
 * read in 3.14.4 poll_select_copy_remaining, called by sys_select, do_pselect and sys_ppoll; read
 * in 6.12.19 poll_select_finish, called by kern_select, do_pselect, sys_ppoll(_time32)). Both
 * eras, at every return after the timeout was read and found valid (the call's result, an error
 * of the fd sets, a signal's -ERESTARTNOHAND alike):
 * - no timeout pointer: nothing; the STICKY_TIMEOUTS personality: nothing written, but
 *   -ERESTARTNOHAND becomes -EINTR (the model has no personality(2): the personality is PER_LINUX,
 *   `sticky` false, kept for the rule);
 * - a zero timeout (poll_select_set_timeout leaves end_time zero): nothing;
 * - otherwise end_time less the monotonic clock now, negative as zero, written as the call's
 *   type: select's struct timeval (tv_usec = the nanoseconds / 1000, truncated), the 32-bit
 *   struct timespec (3.14's struct timespec, v6.12's old_timespec32: pselect6 / ppoll) or the
 *   64-bit __kernel_timespec (v6.12 pselect6_time64 / ppoll_time64: put_timespec64, s64 tv_sec
 *   and a 64-bit tv_nsec); a write that faults (a read-only timeout) is not an error, but the
 *   call, whose timeout is now stale, cannot be restarted: -ERESTARTNOHAND becomes -EINTR.
 * Plain poll writes nothing back (its milliseconds are by value).
 */
export type PollTimeType = 'timeval' | 'timespec32' | 'timespec64';

/** what a call in progress remembers to write back (ThreadTask.timeLeft) */
export interface TimeLeft {
  /** the user's timeout */
  readonly ptr: number;
  readonly type: PollTimeType;
  /** end_time in virtual nanoseconds; null: a zero timeout */
  readonly end: number | null;
  /** the calling syscall: 3.14's pselect6 writes before it decides on the mask (signal-usermask.ts finishPollWait) */
  readonly call: 'select' | 'pselect' | 'ppoll';
}

/** include/linux/errno.h */
const ERESTARTNOHAND = 514;

const out = new Uint8Array(16);

/** poll_select_set_timeout's end_time for a valid timeout of `ns` at `now` (a zero one: null) */
export function timeLeftRecord(ptr: number, type: PollTimeType, call: TimeLeft['call'], now: number, ns: number): TimeLeft {
  return { ptr, type, call, end: ns === 0 ? null : now + ns };
}

/** poll_select_copy_remaining / poll_select_finish's write for `rec` at `now`: the call's result `ret`, or -EINTR for a -ERESTARTNOHAND it cannot restart */
export function copyRemaining(mm: AddressSpace, now: number, rec: TimeLeft | null, ret: number, sticky = false): number {
  if (rec === null) return ret;
  if (!sticky) {
    if (rec.end === null) return ret;
    const left = Math.max(0, rec.end - now);
    const sec = Math.floor(left / 1e9);
    const nsec = left - sec * 1e9;
    const dv = new DataView(out.buffer);
    let n = 8;
    if (rec.type === 'timespec64') {
      dv.setBigInt64(0, BigInt(sec), true);
      dv.setBigInt64(8, BigInt(nsec), true);
      n = 16;
    } else {
      dv.setInt32(0, sec, true);
      dv.setInt32(4, rec.type === 'timeval' ? Math.floor(nsec / 1000) : nsec, true);
    }
    if (mm.copyToUser(rec.ptr, out, 0, n) === 0) return ret;
  }
  return ret === -ERESTARTNOHAND ? -EINTR : ret;
}
