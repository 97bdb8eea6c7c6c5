import type { UnicornThread } from '../../emulator/cpu/unicorn/thread.js';
import { EINVAL, EPERM, ESRCH } from '../base/errno.js';
import { CAP_KILL, capRaised } from '../process/cred.js';
import type { Process } from '../process/process.js';
import { ARM_NR } from './arm-nr.js';
import type { SignalState } from './signal.js';

/**
 * kill, tgkill and tkill of the ARM processes of one run (kernel/signal.c). A pid names a
 * task: a process's pid its leader, a thread's tid (from the same allocator,
 * SyscallLayer.allocPid) that thread; kill signals the task's thread group, tgkill/tkill the
 * thread alone (SignalState.postThread).
 *
 * Sources, kernel/signal.c: read in public copies (a 3.x one with struct siginfo, a 5.x/6.x one
 * with kernel_siginfo; commit ids not checked): sys_tgkill (-EINVAL for pid <= 0 or
 * tgid <= 0), sys_tkill (-EINVAL for pid <= 0, then do_tkill(0, ...)), do_send_specific
 * (find_task_by_vpid, -ESRCH unless tgid <= 0 or task_tgid_vnr matches, then
 * check_kill_permission, signal 0 a probe, do_send_sig_info's -ESRCH turned into 0), do_tkill's
 * siginfo (SI_TKILL, si_pid = task_tgid_vnr(current), si_uid = current_uid) and sys_kill's
 * (SI_USER, the same si_pid and si_uid); v6.9+ builds both in prepare_kill_siginfo(sig, info,
 * type) (SI_TKILL for PIDTYPE_PID), the same fields, so the eras agree. From memory:
 * kill_pid_info (the task by pid_task(pid, PIDTYPE_PID), -ESRCH without one, then
 * group_send_sig_info: check_kill_permission's valid_signal, the group's pending set),
 * __send_signal_locked's choice of task->pending for PIDTYPE_PID and complete_signal.
 */

/** kill(pid, sig), tgkill(tgid, tid, sig) and tkill(tid, sig) (ARM 37, 268, 238) from `self`'s registers `a` */
export function sysKillCall(tree: readonly SignalTarget[], self: SignalTarget, nr: number, a: Uint32Array): number {
  if (nr === ARM_NR.kill) return sysKill(tree, self, a[0]! | 0, a[1]! | 0);
  if (nr === ARM_NR.tgkill) return sysTgkill(tree, self, a[0]! | 0, a[1]! | 0, a[2]! | 0, false);
  return sysTgkill(tree, self, 0, a[0]! | 0, a[1]! | 0, true);
}

/** si_code of a signal sent by kill / tgkill (include/uapi/asm-generic/siginfo.h) */
export const SI_USER = 0, SI_TKILL = -6;

/** A process kill() can address: one of the run's tree. */
export interface SignalTarget {
  readonly proc: Process;
  /** set when the process ended: a zombie until its parent reaps it (still in `layer.zombies`) */
  readonly exit: object | null;
  readonly layer: { readonly zombies: ReadonlyMap<number, Process> };
  readonly signals: SignalState;
  readonly threads: readonly UnicornThread[];
}

/**
 * find_task_by_vpid: the task `id` names, a process (`th` its thread of that tid, the leader,
 * null when the leader has already ended: the zombie leader still holds the pid while the
 * group lives) or a live thread of one; null for none
 */
function findTask(tree: readonly SignalTarget[], id: number): { p: SignalTarget; th: UnicornThread | null } | null {
  for (const p of tree) {
    if (!exists(p)) continue;
    const th = p.threads.find((x) => x.tid === id && x.state !== 'exited' && x.exitInfo === null) ?? null;
    if (p.proc.pid === id || th !== null) return { p, th };
  }
  return null;
}

/**
 * the process's task is still hashed: live, or a zombie its parent has not reaped (release_task
 * unhashes it). A zombie is found and may be signalled (kill answers 0, as group_send_sig_info
 * does for a task whose sighand is still there) but takes nothing.
 */
function exists(p: SignalTarget): boolean {
  return p.exit === null || p.layer.zombies.get(p.proc.pid) === p.proc;
}

/** include/uapi/asm-generic/signal.h */
const SIGCONT = 18;

/**
 * check_kill_permission after valid_signal (kernel/signal.c, the same in 3.14 and v6.12): a
 * signal from user space to another thread group needs kill_ok_by_cred (the caller's euid or
 * uid equal to the target's suid or uid, or CAP_KILL in the caller's effective set; the model's
 * one uid per process stands for all four), else -EPERM, except SIGCONT within the caller's
 * session (the model has no sessions: every process of a run is in one, so SIGCONT passes).
 * Signal 0 is checked too (kill(pid, 0) of another user's process: -EPERM).
 */
function killPermitted(self: SignalTarget, t: SignalTarget, sig: number): boolean {
  if (t === self || sig === SIGCONT) return true;
  return self.proc.uid === t.proc.uid || capRaised(self.proc.capEffective, CAP_KILL);
}

/** the 32 signals the model queues, or -EINVAL (valid_signal; real-time ones refused, a choice: not queued) */
function badSignal(sig: number): boolean {
  return sig < 0 || sig > 64 || sig > 32;
}

/**
 * kill (kernel/signal.c sys_kill -> kill_something_info) from process `self`: pid > 0 the task
 * it names (kill_proc_info -> kill_pid_info: a thread's tid as well as a process's pid, and
 * group_send_sig_info signals the thread GROUP, any thread not blocking it takes it); 0 and -1
 * every process of the tree (one process group, by choice; -1 leaves the caller out); -ESRCH
 * when none, then -EINVAL for a bad signal; signal 0 checks existence only. The siginfo: SI_USER, si_pid = the caller's tgid,
 * si_uid its uid. Each target must pass check_kill_permission (killPermitted): -EPERM.
 */
export function sysKill(tree: readonly SignalTarget[], self: SignalTarget, pid: number, sig: number): number {
  let targets: SignalTarget[];
  if (pid > 0) {
    const task = findTask(tree, pid);
    targets = task === null ? [] : [task.p];
  } else targets = tree.filter((p) => exists(p) && (pid !== -1 || p !== self));
  if (targets.length === 0) return -ESRCH;
  // the target first, then the signal (kill_pid_info / kill_something_info: -ESRCH before
  // group_send_sig_info's -EINVAL)
  if (badSignal(sig)) return -EINVAL;
  const info = { code: SI_USER, pid: self.proc.pid, uid: self.proc.uid };
  // pid > 0: kill_pid_info's one answer; 0 (__kill_pgrp_info): 0 when any was signalled, else
  // the last error; -1 (kill_something_info): -EPERM answers are not counted as errors, so 0
  let ok = false;
  for (const p of targets) {
    if (!killPermitted(self, p, sig)) continue;
    ok = true;
    if (sig !== 0 && p.exit === null) p.signals.post(sig, info);
  }
  return ok || pid === -1 ? 0 : -EPERM;
}

/**
 * tgkill (sys_tgkill: -EINVAL for tid <= 0 or tgid <= 0) and tkill (sys_tkill: -EINVAL for
 * tid <= 0; `tgid` 0 here) -> do_tkill -> do_send_specific: the task `tid` names, -ESRCH when
 * there is none or `tgid` > 0 is not its thread group's id; only then the signal's validity
 * (check_kill_permission -> valid_signal: -EINVAL; real-time ones refused, the model's choice);
 * signal 0 probes existence; otherwise the signal goes to that thread alone
 * (do_send_sig_info(..., PIDTYPE_PID): SignalState.postThread) with SI_TKILL, si_pid = the
 * caller's tgid and si_uid its uid.
 */
export function sysTgkill(tree: readonly SignalTarget[], self: SignalTarget, tgid: number, tid: number, sig: number, tkill: boolean): number {
  if (tid <= 0 || (!tkill && tgid <= 0)) return -EINVAL;
  const task = findTask(tree, tid);
  if (task === null || (tgid > 0 && task.p.proc.pid !== tgid)) return -ESRCH;
  if (badSignal(sig)) return -EINVAL;
  if (!killPermitted(self, task.p, sig)) return -EPERM;
  if (sig === 0 || task.th === null) return 0;
  task.p.signals.postThread(task.th, sig, { code: SI_TKILL, pid: self.proc.pid, uid: self.proc.uid });
  return 0;
}
