import { decodeTimespec } from '../../emulator/cpu/unicorn/abi.js';
import type { Cpu } from '../../emulator/cpu/cpu.js';
import { BLOCK, type SyscallResult, type UnicornThread } from '../../emulator/cpu/unicorn/thread.js';
import { EAGAIN, EFAULT, EINTR, EINVAL } from '../base/errno.js';
import type { AddressSpace } from '../process/mm.js';
import { UNBLOCKABLE, type SignalState } from './signal.js';
import { ALL_SIGNALS, type SendInfo } from './sigqueue.js';

/**
 * The calls that read pending signals rather than deliver them (kernel/signal.c, 3.14 and
 * v6.12): rt_sigtimedwait / rt_sigtimedwait_time64 (do_sigtimedwait) and rt_sigpending
 * (do_sigpending).
 */

/** the 32-bit siginfo_t rt_sigtimedwait copies out (copy_siginfo_to_user): 128 bytes */
const SIGINFO_SIZE = 128;

/** a taken signal's siginfo as copy_siginfo_to_user writes it: si_signo, si_errno, si_code, si_pid, si_uid, si_value */
function encodeSiginfo(sig: number, info: SendInfo | undefined): Uint8Array {
  const b = new Uint8Array(SIGINFO_SIZE);
  const dv = new DataView(b.buffer);
  dv.setInt32(0, sig, true);
  dv.setInt32(4, info?.errno ?? 0, true);
  dv.setInt32(8, info?.code ?? 0, true);
  dv.setInt32(12, info?.pid ?? 0, true);
  dv.setUint32(16, (info?.uid ?? 0) >>> 0, true);
  dv.setUint32(20, (info?.value ?? 0) >>> 0, true);
  return b;
}

/**
 * rt_sigtimedwait(these, info, timeout, sigsetsize) (ARM 177; rt_sigtimedwait_time64, 421,
 * with a 64-bit timespec: served in both eras, as the model's other time64 calls; glibc 2.36
 * tries it first): sigsetsize other than 8 -EINVAL, the set then the timeout copied in (-EFAULT),
 * an invalid timeout -EINVAL (timespec_valid). do_sigtimedwait: SIGKILL and SIGSTOP leave the
 * set; dequeue_signal takes a signal of the set, blocked or not, from the thread's own list
 * then the process's (its queued siginfo, sigqueue.ts); none and a zero timeout: -EAGAIN; else
 * the thread sleeps with the set unblocked (its real mask is kept: task->real_blocked) until
 * one of them comes (complete_signal picks it: SignalState.wants), another signal it does not
 * block interrupts it (-EINTR: not restarted; the handler runs at the return), or the timeout
 * passes (-EAGAIN; virtual time, the deadline exactly: 3.14 rounds up to jiffies and adds a
 * tick, v6.12 uses an hrtimer with the task's slack; neither is modelled). The siginfo is
 * copied out when `info` is not NULL (-EFAULT then, the signal taken).
 */
export function sysSigtimedwait(s: SignalState, mm: AddressSpace, cpu: Cpu, t: UnicornThread, a: Uint32Array, time64: boolean): SyscallResult {
  const w = s.waiters.get(t);
  if (w !== undefined) {
    // presented again: woken by a signal, or at the deadline
    const got = s.dequeue(t, w.set);
    if (got !== null) {
      s.waiters.delete(t);
      return taken(mm, got.sig, got.info, w.info);
    }
    if (w.deadline !== null && cpu.scheduler.now >= w.deadline) {
      s.waiters.delete(t);
      return -EAGAIN;
    }
    if ((s.pendingFor(t) & ~s.blockedOf(t)) !== 0n) {
      s.waiters.delete(t);
      return -EINTR;
    }
    cpu.block(t, w.deadline);
    return BLOCK;
  }
  if (a[3] !== 8) return -EINVAL;
  const b = new Uint8Array(8);
  if (mm.copyFromUser(b, 0, a[0]!, 8) !== 0) return -EFAULT;
  const set = new DataView(b.buffer).getBigUint64(0, true) & ~UNBLOCKABLE & ALL_SIGNALS;
  let timeout: number | null = null;
  if (a[2] !== 0) {
    const ts = new Uint8Array(time64 ? 16 : 8);
    if (mm.copyFromUser(ts, 0, a[2]!, ts.length) !== 0) return -EFAULT;
    timeout = decodeTimespec(ts, time64);
    if (timeout === null) return -EINVAL;
  }
  const got = s.dequeue(t, set);
  if (got !== null) return taken(mm, got.sig, got.info, a[1]!);
  if (timeout === 0) return -EAGAIN;
  const deadline = timeout === null ? null : t.nowNs() + timeout;
  s.waiters.set(t, { set, info: a[1]!, deadline });
  cpu.block(t, deadline);
  return BLOCK;
}

/** the signal taken: its number, with the siginfo copied to `infoPtr` when not NULL */
function taken(mm: AddressSpace, sig: number, info: SendInfo | undefined, infoPtr: number): number {
  if (infoPtr === 0) return sig;
  const b = encodeSiginfo(sig, info);
  return mm.copyToUser(infoPtr, b, 0, b.length) === 0 ? sig : -EFAULT;
}

/**
 * rt_sigpending(set, sigsetsize) (ARM 176; do_sigpending): the signals pending for the thread
 * (its own and the process's) that it blocks; a sigsetsize above 8 -EINVAL, that many bytes
 * copied out (-EFAULT)
 */
export function sysSigpending(s: SignalState, mm: AddressSpace, t: UnicornThread, setPtr: number, size: number): number {
  if (size > 8) return -EINVAL;
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, s.pendingFor(t) & s.blockedOf(t), true);
  return mm.copyToUser(setPtr, b, 0, size) === 0 ? 0 : -EFAULT;
}
