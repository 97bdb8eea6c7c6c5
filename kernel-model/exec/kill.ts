import type { UnicornThread } from '../../emulator/cpu/unicorn/thread.js';
import { E2BIG, EFAULT, EINVAL, EPERM, ESRCH } from '../base/errno.js';
import { CAP_KILL, capRaised } from '../process/cred.js';
import type { Process } from '../process/process.js';
import type { SyscallLayer } from '../syscall/syscalls.js';
import { ARM_NR } from './arm-nr.js';
import type { SignalState } from './signal.js';
import { SI_TKILL, SI_USER, type SendInfo } from './sigqueue.js';
import { findTaskByVpid } from './sys.js';

/**
 * kill, tgkill, tkill, rt_sigqueueinfo and rt_tgsigqueueinfo of the ARM processes of one run
 * (kernel/signal.c). A pid names a task (sys.ts findTaskByVpid): a process's pid its leader,
 * a thread's tid (from the same allocator, SyscallLayer.allocPid) that thread; kill and
 * rt_sigqueueinfo signal the task's thread group (SignalState.post), tgkill, tkill and
 * rt_tgsigqueueinfo the thread alone (SignalState.postThread). Signals 1-64 (valid_signal).
 *
 * Sources, kernel/signal.c: read in public copies (a 3.x one with struct siginfo, a 5.x/6.x one
 * with kernel_siginfo; commit ids not checked): sys_tgkill (-EINVAL for pid <= 0 or
 * tgid <= 0), sys_tkill (-EINVAL for pid <= 0, then do_tkill(0, ...)), do_send_specific
 * (find_task_by_vpid, -ESRCH unless tgid <= 0 or task_tgid_vnr matches, then
 * check_kill_permission, signal 0 a probe, do_send_sig_info's -ESRCH turned into 0), do_tkill's
 * siginfo (SI_TKILL, si_pid = task_tgid_vnr(current), si_uid = current_uid) and sys_kill's
 * (SI_USER, the same si_pid and si_uid); v6.9+ builds both in prepare_kill_siginfo(sig, info,
 * type) (SI_TKILL for PIDTYPE_PID), the same fields, so the eras agree. kill_pid_info (the task
 * by pid_task(pid, PIDTYPE_PID), -ESRCH without one, then group_send_sig_info:
 * check_kill_permission's valid_signal, the group's pending set); do_rt_sigqueueinfo and
 * do_rt_tgsigqueueinfo (the siginfo copied in first, -EFAULT, v6.12 -E2BIG too: readSiginfo;
 * rt_tgsigqueueinfo's ids <= 0 -EINVAL; a si_code >= 0 or SI_TKILL only to the caller's own
 * task id, task_pid_vnr(current), else -EPERM: "not even root can pretend to send signals from
 * the kernel"; the 3.x copy also has a WARN_ON_ONCE for a negative si_code there, a kernel log
 * line not modelled), then kill_proc_info / do_send_specific with the caller's siginfo
 * (si_signo set to the signal).
 */

/** kill, tgkill, tkill, rt_sigqueueinfo, rt_tgsigqueueinfo (ARM 37, 268, 238, 178, 363) from `self`'s thread `t` with registers `a` */
export function sysKillCall(tree: readonly SignalTarget[], self: SignalTarget, t: UnicornThread, nr: number, a: Uint32Array): number {
  if (nr === ARM_NR.kill) return sysKill(tree, self, a[0]! | 0, a[1]! | 0);
  if (nr === ARM_NR.tgkill) return sysTgkill(tree, self, a[0]! | 0, a[1]! | 0, a[2]! | 0, false);
  if (nr === ARM_NR.tkill) return sysTgkill(tree, self, 0, a[0]! | 0, a[1]! | 0, true);
  const tg = nr === ARM_NR.rt_tgsigqueueinfo;
  const pid = a[tg ? 1 : 0]! | 0;
  const sig = a[tg ? 2 : 1]! | 0;
  const info = readSiginfo(self.proc, a[tg ? 3 : 2]!, sig, self.layer.host.siginfoFromUser ?? 'whole');
  if (typeof info === 'number') return info;
  if (tg && (pid <= 0 || (a[0]! | 0) <= 0)) return -EINVAL;
  if ((info.code >= 0 || info.code === SI_TKILL) && pid !== t.tid) return -EPERM;
  return tg ? sysTgkill(tree, self, a[0]! | 0, pid, sig, false, info) : sysKill(tree, self, pid, sig, info);
}

/** SI_MAX_SIZE, the user's siginfo_t; KSIGINFO, the 32-bit kernel's struct kernel_siginfo */
const SI_MAX_SIZE = 128, KSIGINFO = 32;

/**
 * the siginfo rt_sigqueueinfo copies in (capability `siginfoFromUser`): 'whole' (3.14:
 * copy_from_user of the 128-byte siginfo_t) or 'checked-tail' (v6.12 __copy_siginfo_from_user:
 * copy_from_user of the 32-byte kernel_siginfo, then post_copy_siginfo_from_user: for an si_code
 * known_siginfo_layout does not know, the other 96 bytes are copied too and any nonzero one is
 * -E2BIG) (kernel/signal.c read in 3.14.4 and 6.12.19, docs/KERNEL.md "Kernel trees read").
 * si_errno, si_code, si_pid, si_uid, si_value as the caller wrote them; a number: -EFAULT or -E2BIG
 */
function readSiginfo(proc: Process, ptr: number, sig: number, mode: 'whole' | 'checked-tail'): SendInfo | number {
  const b = new Uint8Array(SI_MAX_SIZE);
  if (proc.mm.copyFromUser(b, 0, ptr, mode === 'whole' ? SI_MAX_SIZE : KSIGINFO) !== 0) return -EFAULT;
  const dv = new DataView(b.buffer);
  const code = dv.getInt32(8, true);
  if (mode === 'checked-tail' && !knownSiginfoLayout(sig, code)) {
    if (proc.mm.copyFromUser(b, KSIGINFO, (ptr + KSIGINFO) >>> 0, SI_MAX_SIZE - KSIGINFO) !== 0) return -EFAULT;
    for (let i = KSIGINFO; i < SI_MAX_SIZE; i++) if (b[i] !== 0) return -E2BIG;
  }
  return { errno: dv.getInt32(4, true), code, pid: dv.getInt32(12, true), uid: dv.getUint32(16, true), value: dv.getUint32(20, true) };
}

/**
 * the highest si_code with a layout of its own per signal (v6.12 sig_sicodes over
 * SIG_SPECIFIC_SICODES_MASK, the uapi NSIG* counts: SIGILL 11, SIGTRAP 6, SIGBUS 5, SIGFPE 15,
 * SIGSEGV 10, SIGCHLD 6, SIGPOLL 6, SIGSYS 2; ARM has no SIGEMT)
 */
const SICODE_LIMIT: Readonly<Record<number, number>> = { 4: 11, 5: 6, 7: 5, 8: 15, 11: 10, 17: 6, 29: 6, 31: 2 };
const SI_KERNEL = 0x80, SI_DETHREAD = -7, SI_ASYNCNL = -60, NSIGPOLL = 6;

/** v6.12 known_siginfo_layout (kernel/signal.c): whether `code` has a layout the kernel knows for `sig` */
function knownSiginfoLayout(sig: number, code: number): boolean {
  if (code === SI_KERNEL) return true;
  if (code > SI_USER) {
    const limit = SICODE_LIMIT[sig];
    return limit !== undefined ? code <= limit : code <= NSIGPOLL;
  }
  return code >= SI_DETHREAD || code === SI_ASYNCNL;
}

/** A process kill() can address: one of the run's tree. */
export interface SignalTarget {
  readonly proc: Process;
  /** set when the process ended: a zombie until its parent reaps it (still in `layer.zombies`) */
  readonly exit: object | null;
  readonly layer: SyscallLayer;
  readonly signals: SignalState;
  readonly threads: readonly UnicornThread[];
}

/**
 * the task `id` names (find_task_by_vpid, sys.ts) as the process of the tree that holds it and
 * its thread (null for a zombie process); null for none, or for a process of another CPU (the
 * model signals the Unicorn tree's processes only)
 */
function findTask(tree: readonly SignalTarget[], self: SignalTarget, id: number): { p: SignalTarget; th: UnicornThread | null } | null {
  const task = findTaskByVpid(self.layer, id);
  const p = task === null ? undefined : tree.find((x) => x.proc === task.proc);
  if (p === undefined) return null;
  return { p, th: p.threads.find((x) => x === task!.thread) ?? null };
}

/**
 * the process's task is still hashed: live, or a zombie its parent has not reaped (release_task
 * unhashes it). A zombie is found and may be signalled (kill answers 0, as group_send_sig_info
 * does for a task whose sighand is still there); SignalState.send queues the signal on it or
 * drops it (capability `signalsAfterGroupExit`), and no thread ever takes it.
 */
function exists(p: SignalTarget): boolean {
  return p.exit === null || p.layer.zombies.get(p.proc.pid) === p.proc;
}

/** include/uapi/asm-generic/signal.h */
const SIGCONT = 18;

/**
 * check_kill_permission after valid_signal (kernel/signal.c, the same in 3.14 and v6.12): a
 * signal from user space (si_code <= 0, SI_FROMUSER) to another thread group needs
 * kill_ok_by_cred (the caller's euid or uid equal to the target's suid or uid, or CAP_KILL in
 * the caller's effective set; the model's one uid per process stands for all four), else
 * -EPERM, except SIGCONT within the caller's session (the model has no sessions: every process
 * of a run is in one, so SIGCONT passes). Signal 0 is checked too (kill(pid, 0) of another
 * user's process: -EPERM).
 */
function killPermitted(self: SignalTarget, t: SignalTarget, sig: number, info: SendInfo): boolean {
  if (t === self || sig === SIGCONT || info.code > 0) return true;
  return self.proc.uid === t.proc.uid || capRaised(self.proc.capEffective, CAP_KILL);
}

/** valid_signal: 0 (a probe) to _NSIG = 64 */
function badSignal(sig: number): boolean {
  return sig < 0 || sig > 64;
}

/**
 * kill (kernel/signal.c sys_kill -> kill_something_info) from process `self`: pid > 0 the task
 * it names (kill_proc_info -> kill_pid_info: a thread's tid as well as a process's pid, and
 * group_send_sig_info signals the thread GROUP, any thread not blocking it takes it); 0 and -1
 * every process of the tree (one process group, by choice; -1 leaves the caller out); -ESRCH
 * when none, then -EINVAL for a bad signal; signal 0 checks existence only. The siginfo: SI_USER, si_pid = the caller's tgid,
 * si_uid its uid; rt_sigqueueinfo's (`given`) goes the same way (kill_proc_info), to pid > 0
 * only (find_vpid of 0 or less finds nothing: -ESRCH), its -EAGAIN (over RLIMIT_SIGPENDING)
 * answered. Each target must pass check_kill_permission (killPermitted): -EPERM.
 */
export function sysKill(tree: readonly SignalTarget[], self: SignalTarget, pid: number, sig: number, given?: SendInfo): number {
  let targets: { p: SignalTarget; th: UnicornThread | null }[];
  if (pid > 0) {
    const task = findTask(tree, self, pid);
    targets = task === null ? [] : [task];
  } else if (given !== undefined) targets = [];
  else targets = tree.filter((p) => exists(p) && (pid !== -1 || p !== self)).map((p) => ({ p, th: p.threads[0] ?? null }));
  if (targets.length === 0) return -ESRCH;
  // the target first, then the signal (kill_pid_info / kill_something_info: -ESRCH before
  // group_send_sig_info's -EINVAL)
  if (badSignal(sig)) return -EINVAL;
  const info = given ?? { code: SI_USER, pid: self.proc.pid, uid: self.proc.uid };
  // pid > 0: kill_pid_info's one answer; 0 (__kill_pgrp_info): 0 when any was signalled, else
  // the last error; -1 (kill_something_info): -EPERM answers are not counted as errors, so 0
  let ok = false;
  let err = 0;
  for (const { p, th } of targets) {
    if (!killPermitted(self, p, sig, info)) continue;
    ok = true;
    // a zombie too: send's prepare_signal decides (queued in 3.14, dropped after a group exit in v6.12)
    if (sig !== 0) err = p.signals.send(sig, info, th ?? p.threads[0] ?? null, true) || err;
  }
  if (pid > 0 && err !== 0) return err;
  return ok || pid === -1 ? 0 : -EPERM;
}

/**
 * tgkill (sys_tgkill: -EINVAL for tid <= 0 or tgid <= 0) and tkill (sys_tkill: -EINVAL for
 * tid <= 0; `tgid` 0 here) -> do_tkill -> do_send_specific: the task `tid` names, -ESRCH when
 * there is none or `tgid` > 0 is not its thread group's id; only then the signal's validity
 * (check_kill_permission -> valid_signal: -EINVAL); signal 0 probes existence; otherwise the
 * signal goes to that thread alone (do_send_sig_info(..., PIDTYPE_PID): SignalState.postThread)
 * with SI_TKILL, si_pid = the caller's tgid and si_uid its uid, or rt_tgsigqueueinfo's siginfo
 * (`given`). A leader that has ended while its group runs is still found (a zombie task, still
 * hashed) and the answer is 0, but no thread takes the signal: __send_signal queues it on the
 * dead leader's own list (charged to its user: SigQ counts it) and complete_signal tells nobody
 * (wants_signal is false for a PF_EXITING task, and a thread-directed signal goes to no other
 * thread); even SIGKILL ends nothing. Over RLIMIT_SIGPENDING a real-time signal is -EAGAIN
 * (SI_TKILL is not SI_USER).
 */
export function sysTgkill(tree: readonly SignalTarget[], self: SignalTarget, tgid: number, tid: number, sig: number, tkill: boolean, given?: SendInfo): number {
  if (tid <= 0 || (!tkill && tgid <= 0)) return -EINVAL;
  const task = findTask(tree, self, tid);
  if (task === null || (tgid > 0 && task.p.proc.pid !== tgid)) return -ESRCH;
  if (badSignal(sig)) return -EINVAL;
  const info = given ?? { code: SI_TKILL, pid: self.proc.pid, uid: self.proc.uid };
  if (!killPermitted(self, task.p, sig, info)) return -EPERM;
  // a zombie process's pid names its ended leader (still hashed until release_task)
  const th = task.th ?? (task.p.exit !== null ? task.p.threads[0] ?? null : null);
  if (sig === 0 || th === null) return 0;
  return task.p.signals.postThread(th, sig, info);
}
