/**
 * proc_fd_access_allowed (fs/proc/base.c, 3.14 and v6.12): before the readlink
 * (proc_pid_readlink) or the following (3.14 proc_pid_follow_link, v6.12 proc_pid_get_link)
 * of /proc/<pid>/cwd, root, exe and fd/N, "may we ptrace it": ptrace_may_access(task,
 * PTRACE_MODE_READ) in 3.14, PTRACE_MODE_READ_FSCREDS in v6.12 (caf70a3ae0a4, v4.5); refused,
 * the link answers -EACCES before its proc_get_link runs. kernel/ptrace.c __ptrace_may_access:
 *   1. the caller's own thread group: allowed;
 *   2. the caller's uid (3.14 the real uid, v6.12 the fsuid: the model's one uid) equal to the
 *      target's uid, euid and suid (and the gids: all 0 here), or CAP_SYS_PTRACE in the
 *      caller's effective set (ptrace_has_cap); else refused;
 *   3. dumpability: a target whose mm is not SUID_DUMP_USER (Process.dumpable: setuid cleared
 *      it, or PR_SET_DUMPABLE 0) needs CAP_SYS_PTRACE. A target without an mm (a zombie): 3.14
 *      keeps dumpable = 0 and refuses it without CAP_SYS_PTRACE; v6.12 tests "mm && ..." and
 *      lets it through;
 *   4. security_ptrace_access_check -> cap_ptrace_access_check (security/commoncap.c): the
 *      target's permitted set within the caller's permitted set (3.14) or, with FSCREDS, its
 *      effective set (v6.12), else CAP_SYS_PTRACE. No other LSM (Yama) is modelled.
 * Verified: the v4.5+ and v5.8+ bodies of __ptrace_may_access and cap_ptrace_access_check,
 * the post-CVE-2013-2929 3.x body (dumpable = 0 without an mm), and in 3.14.4 (docs/KERNEL.md
 * "Kernel trees read") __ptrace_may_access comparing cred->uid (the real uid) with the target's
 * uid, euid and suid, and cap_ptrace_access_check's cap_permitted subset.
 */
import { capRaised, CAP_SYS_PTRACE } from '../process/cred.js';
import type { Process } from '../process/process.js';

/** the profile's procPtraceAccess */
export type ProcPtraceAccess = 'read-realcreds' | 'read-fscreds';

/** ptrace_may_access(target, PTRACE_MODE_READ[_FSCREDS]) for `caller` (null: no current, the model's own lookups: allowed) */
export function procAccessAllowed(caller: Process | null, target: Process, mode: ProcPtraceAccess): boolean {
  if (caller === null || caller === target) return true;
  const ptraceCap = capRaised(caller.capEffective, CAP_SYS_PTRACE);
  if (caller.uid !== target.uid && !ptraceCap) return false;
  // a zombie has no mm (exit_mm)
  const hasMm = target.alive;
  if (hasMm ? !target.dumpable : mode === 'read-realcreds') {
    if (!ptraceCap) return false;
  }
  const callerCaps = mode === 'read-fscreds' ? caller.capEffective : caller.capPermitted;
  if ((target.capPermitted & ~callerCaps) === 0n) return true;
  return ptraceCap;
}
