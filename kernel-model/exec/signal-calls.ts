import type { UnicornThread } from '../../emulator/cpu/unicorn/thread.js';
import { EFAULT, EINVAL } from '../base/errno.js';
import type { AddressSpace } from '../process/mm.js';
import { SIGKILL, SIGSTOP, UNBLOCKABLE, type SignalState } from './signal.js';

/**
 * The calls that read and set a process's signal actions and a thread's mask (kernel/signal.c,
 * 3.14 and v6.12): rt_sigaction and rt_sigprocmask, over SignalState (signal.ts).
 */

const scratch8 = new Uint8Array(8);

/** rt_sigaction (kernel/signal.c do_sigaction; ARM struct sigaction: handler, flags, restorer, mask[2]) */
export function sysSigaction(s: SignalState, mm: AddressSpace, sig: number, act: number, oact: number, setsize: number): number {
  if (setsize !== 8) return -EINVAL;
  if (sig < 1 || sig > 64) return -EINVAL;
  const cur = s.actions[sig]!;
  if (oact !== 0) {
    const b = new Uint8Array(20);
    const dv = new DataView(b.buffer);
    dv.setUint32(0, cur.handler, true);
    dv.setUint32(4, cur.flags, true);
    dv.setUint32(8, cur.restorer, true);
    dv.setBigUint64(12, cur.mask, true);
    if (mm.copyToUser(oact, b, 0, b.length) !== 0) return -EFAULT;
  }
  if (act !== 0) {
    if (sig === SIGKILL || sig === SIGSTOP) return -EINVAL;
    const b = new Uint8Array(20);
    if (mm.copyFromUser(b, 0, act, b.length) !== 0) return -EFAULT;
    const dv = new DataView(b.buffer);
    cur.handler = dv.getUint32(0, true);
    cur.flags = dv.getUint32(4, true);
    cur.restorer = dv.getUint32(8, true);
    cur.mask = dv.getBigUint64(12, true) & ~UNBLOCKABLE;
    // POSIX: setting SIG_IGN (or SIG_DFL of an ignored-by-default signal) discards it pending,
    // the process's and every thread's (do_sigaction: flush_sigqueue_mask on shared_pending
    // and on each thread's pending)
    if (s.ignoredAction(sig)) s.discardPending(sig);
  }
  return 0;
}

/**
 * rt_sigprocmask (SIG_BLOCK 0, SIG_UNBLOCK 1, SIG_SETMASK 2; both words of the sigset);
 * SIGKILL and SIGSTOP cannot be blocked. A signal it unblocks is delivered at the call's
 * return (recalc_sigpending).
 */
export function sysSigprocmask(s: SignalState, mm: AddressSpace, t: UnicornThread, how: number, set: number, oset: number, setsize: number): number {
  if (setsize !== 8) return -EINVAL;
  const cur = s.blockedOf(t);
  let next = cur;
  if (set !== 0) {
    if (mm.copyFromUser(scratch8, 0, set, scratch8.length) !== 0) return -EFAULT;
    const m = new DataView(scratch8.buffer).getBigUint64(0, true);
    if (how === 0) next = cur | m;
    else if (how === 1) next = cur & ~m;
    else if (how === 2) next = m;
    else return -EINVAL;
  }
  if (oset !== 0) {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, cur, true);
    if (mm.copyToUser(oset, b, 0, b.length) !== 0) return -EFAULT;
  }
  if (set !== 0) s.setBlocked(t, next);
  return 0;
}
