/**
 * The per-user counters the kernel keeps outside any one process: the number of queued signals
 * (struct sigqueue) charged to a user, 3.14's user_struct->sigpending (kernel/signal.c
 * __sigqueue_alloc: atomic_inc(&user->sigpending), the user of the TARGET task's cred) and
 * v6.12's ucounts UCOUNT_RLIMIT_SIGPENDING (inc_rlimit_get_ucounts(task_ucounts(t), ...)), the
 * same count: one per uid of the run (the model has one user namespace). /proc/<pid>/status
 * prints it as SigQ's first number. One per SyscallLayer (every process of a run shares it).
 */
export class UserCounts {
  constructor() {
    // every field is readonly: frozen, so that the fuzzer's snapshot (tools/fuzz/snapshot.ts) need not record it
    Object.freeze(this);
  }

  private readonly sigpending = new Map<number, number>();

  /** queued signals charged to `uid` */
  sigPending(uid: number): number {
    return this.sigpending.get(uid) ?? 0;
  }

  /**
   * __sigqueue_alloc's charge: the count goes up, then, unless `override` (override_rlimit),
   * a count above `limit` (the target's RLIMIT_SIGPENDING soft limit) takes it back down and
   * refuses the entry (false)
   */
  chargeSig(uid: number, limit: number, override: boolean): boolean {
    const n = this.sigPending(uid) + 1;
    if (!override && n > limit) return false;
    this.sigpending.set(uid, n);
    return true;
  }

  /** __sigqueue_free: an entry charged to `uid` is freed */
  unchargeSig(uid: number): void {
    const n = this.sigPending(uid) - 1;
    if (n <= 0) this.sigpending.delete(uid);
    else this.sigpending.set(uid, n);
  }
}
