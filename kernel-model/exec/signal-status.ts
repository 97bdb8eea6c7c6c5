/**
 * What /proc/<pid>/status's task_sig (fs/proc/array.c) reads of a process's signals, for
 * kernel-model/process/proc-status.ts: the thread's own pending set (p->pending.signal), the
 * process's (signal->shared_pending.signal), the thread's blocked mask, and
 * collect_sigign_sigcatch's sets over the actions: SIG_IGN in `ignored`, any handler in
 * `caught` (SIG_DFL in neither, whatever the default; collect_sigign_sigcatch read in 3.14.4 and
 * 6.12.19, the same loop, docs/KERNEL.md "Kernel trees read").
 */
import type { TaskSigMasks } from '../process/process.js';
import type { SignalProcess, SignalState } from './signal.js';
import { sigmask } from './sigqueue.js';

const SIG_DFL = 0, SIG_IGN = 1;

/** hook `p.proc.sigMasks` to `s` (SignalState's constructor) */
export function attachSigStatus(p: SignalProcess, s: SignalState): void {
  p.proc.sigMasks = (tid: number): TaskSigMasks => {
    const t = tid === p.proc.pid ? p.threads[0] : p.threads.find((th) => th.tid === tid);
    let ignored = 0n, caught = 0n;
    for (let sig = 1; sig <= 64; sig++) {
      const h = s.actions[sig]!.handler;
      if (h === SIG_IGN) ignored |= sigmask(sig);
      else if (h !== SIG_DFL) caught |= sigmask(sig);
    }
    return {
      pending: t === undefined ? 0n : s.ownPendingOf(t),
      shared: s.shared.set,
      blocked: t === undefined ? 0n : s.blockedOf(t),
      ignored,
      caught,
    };
  };
}
