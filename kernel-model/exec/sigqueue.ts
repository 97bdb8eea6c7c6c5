import type { UserCounts } from '../process/user-counts.js';

/**
 * Pending signals as kernel/signal.c keeps them (struct sigpending: a signal set and a list of
 * struct sigqueue, each with its siginfo and the user it is charged to), for one thread
 * (task->pending) or one process (signal->shared_pending), with 64 signals (ARM _NSIG = 64,
 * two words). Read in kernel/signal.c (a public 2.6-era copy, torvalds/linux 0083fc2c, and
 * excerpts of later ones: the 3.x siginfo_t and the 6.x kernel_siginfo_t versions of
 * __send_signal(_locked), do_rt_sigqueueinfo, do_send_specific; the behaviour below is the
 * same in all): legacy_queue (a signal below SIGRTMIN = 32 already pending is not queued
 * again), __sigqueue_alloc's RLIMIT_SIGPENDING rule, collect_signal (the first entry of the
 * signal leaves; the bit stays while another entry of it remains; a bit without an entry, a
 * signal sent over the limit, gives a zeroed siginfo: si_code SI_USER, si_pid 0, si_uid 0),
 * next_signal (the first word's synchronous signals first, SYNCHRONOUS_MASK, then the lowest
 * number: every standard signal 1-31 before the real-time ones), flush_sigqueue.
 */

/** include/uapi/asm-generic/signal.h SIGRTMIN; glibc keeps 32 and 33 for itself (its SIGRTMIN is 34) */
export const SIGRTMIN = 32;
export const NSIG = 64;

/** the bit of signal `sig` in a sigset (sigmask) */
export const sigmask = (sig: number): bigint => 1n << BigInt(sig - 1);
/** every signal 1-64 */
export const ALL_SIGNALS = (1n << 64n) - 1n;

/** SIGSEGV, SIGBUS, SIGILL, SIGTRAP, SIGFPE, SIGSYS: next_signal's SYNCHRONOUS_MASK (3.14 and v6.12) */
const SYNCHRONOUS_MASK = sigmask(11) | sigmask(7) | sigmask(4) | sigmask(5) | sigmask(8) | sigmask(31);

/** the lowest signal of `set`, 0 for none */
function lowest(set: bigint): number {
  const lo = Number(set & 0xffffffffn);
  if (lo !== 0) return 32 - Math.clz32(lo & -lo);
  const hi = Number((set >> 32n) & 0xffffffffn);
  return hi !== 0 ? 64 - Math.clz32(hi & -hi) : 0;
}

/** next_signal(pending, mask) on the signals `ready` (pending and not blocked): the first word's synchronous ones first */
export function nextSignal(ready: bigint): number {
  const lo = ready & 0xffffffffn;
  if (lo !== 0n) return lowest((lo & SYNCHRONOUS_MASK) !== 0n ? lo & SYNCHRONOUS_MASK : lo);
  return lowest(ready);
}

/**
 * What a siginfo of a sent signal carries (include/uapi/asm-generic/siginfo.h, 32-bit: si_signo
 * at 0, si_errno 4, si_code 8, then the union: si_pid 12, si_uid 16, si_value 20 for _kill /
 * _rt). kill's SI_USER, tkill's SI_TKILL (si_pid = the sender's tgid, si_uid its uid);
 * rt_sigqueueinfo's caller-made one (si_code, si_errno, si_pid, si_uid, si_value as given).
 */
export interface SendInfo {
  code: number;
  pid: number;
  uid: number;
  /** si_value (sival_int), rt_sigqueueinfo's */
  value?: number;
  /** si_errno, rt_sigqueueinfo's */
  errno?: number;
}

/** include/uapi/asm-generic/siginfo.h si_code values */
export const SI_USER = 0, SI_QUEUE = -1, SI_TKILL = -6;

interface QueuedSignal {
  sig: number;
  /** undefined: a kernel-sent signal without a sender (the model's SIGCHLD, SIGALRM): si_code 0 */
  info: SendInfo | undefined;
  /** the uid the entry is charged to (q->user / q->ucounts) */
  uid: number;
}

export class SigPending {
  /** pending->signal */
  set = 0n;
  /** pending->list, oldest first */
  private readonly list: QueuedSignal[] = [];

  constructor(private readonly users: UserCounts) {}

  /** legacy_queue: a standard signal already pending is not queued again */
  legacy(sig: number): boolean {
    return sig < SIGRTMIN && (this.set & sigmask(sig)) !== 0n;
  }

  /**
   * __send_signal's queueing: an entry charged to `uid` (the target's user) unless
   * __sigqueue_alloc refuses it (over `limit` without `override`); false then, and the caller
   * decides (-EAGAIN, or the bit alone); a SIGKILL without an entry (v6.12 always, 3.14 a
   * kernel-internal one: capability `sigkillEntry`) is not queued here, the bit alone
   */
  queue(sig: number, info: SendInfo | undefined, uid: number, limit: number, override: boolean): boolean {
    if (!this.users.chargeSig(uid, limit, override)) return false;
    this.list.push({ sig, info, uid });
    return true;
  }

  /** sigaddset(&pending->signal, sig) */
  add(sig: number): void {
    this.set |= sigmask(sig);
  }

  /**
   * collect_signal: take `sig`'s first entry (its siginfo; a zeroed one, si_code 0, when it
   * has none); the bit goes unless another entry of `sig` remains
   */
  collect(sig: number): SendInfo | undefined {
    const i = this.list.findIndex((q) => q.sig === sig);
    const more = i >= 0 && this.list.findIndex((q, j) => j > i && q.sig === sig) >= 0;
    if (!more) this.set &= ~sigmask(sig);
    if (i < 0) return undefined;
    const q = this.list.splice(i, 1)[0]!;
    this.users.unchargeSig(q.uid);
    return q.info ?? { code: SI_USER, pid: 0, uid: 0 };
  }

  /** flush_sigqueue_mask / flush_sigqueue: drop the signals of `mask` with their entries */
  flush(mask: bigint = ALL_SIGNALS): void {
    if ((this.set & mask) === 0n && !this.list.some((q) => (sigmask(q.sig) & mask) !== 0n)) return;
    this.set &= ~mask;
    for (let i = this.list.length - 1; i >= 0; i--) {
      const q = this.list[i]!;
      if ((sigmask(q.sig) & mask) === 0n) continue;
      this.list.splice(i, 1);
      this.users.unchargeSig(q.uid);
    }
  }
}
