/**
 * The syscalls that wait for events or time, with their timeouts: poll and select
 * (fs/select.c) and nanosleep (kernel/time/hrtimer.c). A call that must wait returns
 * -ERESTARTSYS after queueing the task on the wait queues of the files it polls; the
 * syscall layer blocks the thread until a wake-up or the deadline kept in the task, then
 * runs the call again (`t.restarting`).
 */
import { EBADF, EFAULT, EINVAL } from '../base/errno.js';
import { POLLERR, POLLHUP, POLLIN, POLLNVAL, POLLOUT, POLLPRI, POLLRDBAND, POLLRDNORM, POLLWRBAND, POLLWRNORM } from '../uapi/constants.js';
import { ERESTARTSYS } from '../vfs/file.js';

/** include/linux/errno.h: a signal ended the wait (restart only when no handler runs) */
const ERESTARTNOHAND = 514;
import type { ThreadTask } from './task.js';
import { copyRemaining, timeLeftRecord } from './select-time.js';

const POLLIN_SET = POLLRDNORM | POLLRDBAND | POLLIN | POLLHUP | POLLERR;
const POLLOUT_SET = POLLWRBAND | POLLWRNORM | POLLOUT | POLLERR;
const POLLEX_SET = POLLPRI;

/** sets t.deadline on the first execution; true when the (restarted) call has timed out */
function timedOut(t: ThreadTask, now: number, timeoutNs: number | null): boolean {
  if (!t.restarting) t.deadline = timeoutNs === null ? null : now + timeoutNs;
  return t.deadline !== null && now >= t.deadline;
}

/**
 * poll(2) for `timeoutMs` (negative: no timeout), or, with `end` given, do_restart_poll's poll
 * until that absolute end (null: none) that a signal's restart kept (read in 3.14.4 and 6.12.19
 * fs/select.c; kernel-model/exec/signal-restart.ts)
 */
export function sysPoll(t: ThreadTask, clock: () => number, fds: number, nfds: number, timeoutMs: number, end?: number | null): number {
  if (nfds > t.proc.rlimitNofile) return -EINVAL;
  const buf = new Uint8Array(nfds * 8);
  const r0 = t.mm.copyFromUser(buf, 0, fds, buf.length);
  if (r0 < 0) return r0;
  const dv = new DataView(buf.buffer);
  let expired: boolean;
  if (end === undefined) expired = timedOut(t, clock(), timeoutMs < 0 ? null : timeoutMs * 1_000_000);
  else {
    if (!t.restarting) t.deadline = end;
    expired = end !== null && clock() >= end;
  }
  const mayWait = (end !== undefined || timeoutMs !== 0) && !expired && t.canBlock;
  let ready = 0;
  for (let i = 0; i < nfds; i++) {
    const fd = dv.getInt32(i * 8, true);
    const events = dv.getInt16(i * 8 + 4, true) & 0xffff;
    let rev = 0;
    if (fd >= 0) {
      const f = t.proc.fdget(fd);
      if (f === null) rev = POLLNVAL;
      else {
        const m = f.ops.poll ? f.ops.poll(f, mayWait && ready === 0 ? t : null) : POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM;
        rev = m & (events | POLLERR | POLLHUP);
      }
    }
    dv.setInt16(i * 8 + 6, rev, true);
    if (rev !== 0) ready++;
  }
  // do_poll: with no fd ready, a pending signal ends the call before it sleeps, whatever the
  // timeout, a zero one included (3.14's -EINTR, v6.12's -ERESTARTNOHAND: the caller, sys_poll
  // or do_restart_poll, turns either into -ERESTART_RESTARTBLOCK; read in 3.14.4 and 6.12.19
  // fs/select.c); ready fds are reported rather than the signal
  if (ready === 0 && t.signalPending) {
    t.unqueue();
    return -ERESTARTNOHAND;
  }
  if (ready === 0 && mayWait) return -ERESTARTSYS;
  t.unqueue();
  const r = t.mm.copyToUser(fds, buf, 0, buf.length);
  return r < 0 ? r : ready;
}

/**
 * select(2). `timeoutNsArg` (optional, for pselect6 from register-based backends, which
 * decode their own timespec): used instead of a timeval when tvp is 0; undefined keeps
 * the select semantics (tvp 0 = wait forever).
 */
export function sysSelect(t: ThreadTask, clock: () => number, n: number, rp: number, wp: number, ep: number, tvp: number, timeoutNsArg?: number | null, closedFd: 'skip' | 'ready' = 'skip'): number {
  let timeoutNs: number | null = tvp === 0 && timeoutNsArg !== undefined ? timeoutNsArg : null;
  // the timeval first (sys_select / kern_select), then core_sys_select's checks
  if (tvp !== 0) {
    const b = new Uint8Array(8);
    const r = t.mm.copyFromUser(b, 0, tvp, 8);
    if (r < 0) return r;
    const dv = new DataView(b.buffer);
    const sec = dv.getInt32(0, true);
    const usec = dv.getInt32(4, true);
    if (sec < 0 || usec < 0) return -EINVAL;
    timeoutNs = sec * 1e9 + usec * 1e3;
  }
  // select(2) itself (not pselect6, whose caller passes its timespec): the time left goes back
  // into the timeval at every end from here (select-time.ts)
  if (timeoutNsArg !== undefined) return doSelect(t, clock, n, rp, wp, ep, timeoutNs, closedFd);
  if (!t.restarting) t.timeLeft = tvp !== 0 ? timeLeftRecord(tvp, 'timeval', 'select', clock(), timeoutNs!) : null;
  const r = doSelect(t, clock, n, rp, wp, ep, timeoutNs, closedFd);
  if (r === -ERESTARTSYS) return r;
  const rec = t.timeLeft;
  t.timeLeft = null;
  return copyRemaining(t.mm, clock(), rec, r);
}

/** core_sys_select: the fd sets read, polled, written back; -ERESTARTSYS to wait */
function doSelect(t: ThreadTask, clock: () => number, n: number, rp: number, wp: number, ep: number, timeoutNs: number | null, closedFd: 'skip' | 'ready'): number {
  if (n < 0) return -EINVAL;
  n = Math.min(n, t.proc.rlimitNofile);
  const words = Math.ceil(n / 32);
  const bytes = words * 4;
  const ins: Uint32Array[] = [];
  for (const p of [rp, wp, ep]) {
    const a = new Uint32Array(words);
    if (p !== 0 && bytes > 0) {
      const r = t.mm.copyFromUser(new Uint8Array(a.buffer), 0, p, bytes);
      if (r < 0) return r;
    }
    ins.push(a);
  }
  const outs = [new Uint32Array(words), new Uint32Array(words), new Uint32Array(words)];
  const expired = timedOut(t, clock(), timeoutNs);
  const mayWait = timeoutNs !== 0 && !expired && t.canBlock;
  let ready = 0;
  for (let fd = 0; fd < n; fd++) {
    const w = fd >>> 5;
    const bit = 1 << (fd & 31);
    const want = ((ins[0]![w]! & bit) !== 0 ? 1 : 0) | ((ins[1]![w]! & bit) !== 0 ? 2 : 0) | ((ins[2]![w]! & bit) !== 0 ? 4 : 0);
    if (want === 0) continue;
    const f = t.proc.fdget(fd);
    if (f === null) {
      // the fds are checked on entry only (do_select -> max_select_fd: -EBADF); an fd closed
      // by another thread while this call slept is met again on the re-scan after a wake-up
      if (!t.restarting) {
        t.unqueue();
        return -EBADF;
      }
      if (closedFd === 'skip') continue;
      // mainline: EPOLLNVAL is in every result set
      for (let k = 0; k < 3; k++) if (want & (1 << k)) { outs[k]![w]! |= bit; ready++; }
      continue;
    }
    const m = f.ops.poll ? f.ops.poll(f, mayWait && ready === 0 ? t : null) : POLLIN_SET | POLLOUT_SET;
    if ((want & 1) && (m & POLLIN_SET)) { outs[0]![w]! |= bit; ready++; }
    if ((want & 2) && (m & POLLOUT_SET)) { outs[1]![w]! |= bit; ready++; }
    if ((want & 4) && (m & POLLEX_SET)) { outs[2]![w]! |= bit; ready++; }
  }
  // do_select breaks out of its loop on a pending signal before it sleeps (a zero timeout
  // too), and core_sys_select makes "none ready" -ERESTARTNOHAND (read in 3.14.4 and 6.12.19
  // fs/select.c); the fd sets are not written back
  if (ready === 0 && t.signalPending) {
    t.unqueue();
    return -ERESTARTNOHAND;
  }
  if (ready === 0 && mayWait) return -ERESTARTSYS;
  t.unqueue();
  const ps = [rp, wp, ep];
  for (let k = 0; k < 3; k++) {
    if (ps[k] !== 0 && bytes > 0) {
      const r = t.mm.copyToUser(ps[k]!, new Uint8Array(outs[k]!.buffer), 0, bytes);
      if (r < 0) return r;
    }
  }
  return ready;
}

/**
 * nanosleep(req, rem) (kernel/hrtimer.c, v6.12 kernel/time/hrtimer.c: sys_nanosleep /
 * sys_nanosleep_time32 -> hrtimer_nanosleep): req read (-EFAULT) and checked (timespec_valid:
 * -EINVAL), then a sleep until now + req on CLOCK_MONOTONIC, -ERESTARTSYS while it lasts. A
 * pending signal ends it before it sleeps (do_nanosleep: schedule() returns at once in
 * TASK_INTERRUPTIBLE with a signal pending): -ERESTARTNOHAND, which the caller that models
 * signals turns into hrtimer_nanosleep's end (rem written, restart_block:
 * kernel-model/exec/signal-restart.ts). `rem` is written only there, never at a normal end.
 */
export function sysNanosleep(t: ThreadTask, clock: () => number, req: number, _rem: number): number {
  if (!t.restarting) {
    const b = new Uint8Array(8);
    const r = t.mm.copyFromUser(b, 0, req, 8);
    if (r < 0) return r === -EFAULT ? r : -EFAULT;
    const dv = new DataView(b.buffer);
    const sec = dv.getInt32(0, true);
    const nsec = dv.getInt32(4, true);
    if (sec < 0 || nsec < 0 || nsec > 999_999_999) return -EINVAL;
    if (timedOut(t, clock(), sec * 1e9 + nsec)) return 0;
    if (t.signalPending) return -ERESTARTNOHAND;
    return t.canBlock ? -ERESTARTSYS : 0;
  }
  return nanosleepUntil(t, clock, t.deadline ?? 0);
}

/**
 * A sleep until the absolute `end` (hrtimer_nanosleep_restart's do_nanosleep in
 * HRTIMER_MODE_ABS, the restart of a sleep a signal ended): 0 once reached, -ERESTARTNOHAND
 * for a pending signal, else -ERESTARTSYS to wait
 */
export function nanosleepUntil(t: ThreadTask, clock: () => number, end: number): number {
  if (!t.restarting) t.deadline = end;
  if (clock() >= end) return 0;
  if (t.signalPending) return -ERESTARTNOHAND;
  return t.canBlock ? -ERESTARTSYS : 0;
}
