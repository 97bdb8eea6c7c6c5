import { latin1 } from '../base/text.js';
import { encodeUtsname } from '../../emulator/cpu/unicorn/abi.js';
import { EFAULT, EINVAL, EPERM, ESRCH } from '../base/errno.js';
import { CAP_SETUID, CAP_SYS_RESOURCE, capRaised, newCredRef, RLIM_INFINITY, RLIM_NLIMITS, RLIMIT_CPU, RLIMIT_NOFILE, SYSCTL_NR_OPEN, type Rlimit } from '../process/cred.js';
import type { Process } from '../process/process.js';
import type { GuestThread } from '../../emulator/cpu/cpu.js';
import type { SyscallLayer } from '../syscall/syscalls.js';
import type { LinuxAbi } from './linux-abi.js';

/**
 * The kernel/sys.c calls of the ARM entry on the process's or the system's settings: uname
 * (sys_newuname); the resource limits, prlimit64, setrlimit and ugetrlimit (do_prlimit); the
 * user id, setuid/setuid32 with security/commoncap.c's capability rules, getresuid32 and
 * getresgid32; and prctl's comm (PR_SET_NAME, PR_GET_NAME). `a` are the call's registers. The
 * credentials and limits themselves are kernel-model/process/cred.ts.
 */

/** uname(struct new_utsname *) */
export function sysUname(proc: Process, a: Uint32Array): number {
  const u = encodeUtsname({ sysname: 'Linux', nodename: 'vfio-arm-emu', release: '3.17.0-rc1-vfio', version: '#1 SMP PREEMPT', machine: 'armv7l', domainname: '(none)' });
  return proc.mm.copyToUser(a[0]!, u, 0, u.length) === 0 ? 0 : -EFAULT;
}

/** what find_task_by_vpid returns: a task, as its process and its thread (null for a process the model runs no thread for) */
export interface FoundTask {
  proc: Process;
  thread: GuestThread | null;
}

/**
 * find_task_by_vpid (kernel/pid.c; the one pid lookup of kill, tgkill, rt_sigqueueinfo,
 * prlimit64, capget/capset): the task a pid names among the processes the model knows (the
 * syscall layer's, both CPUs'). A process's pid names its leader: the process, live or a zombie
 * its parent has not reaped (its task stays hashed until release_task: its credentials and
 * limits stay readable, as 3.14 do_prlimit's tsk->sighand check and capget's security_capget
 * find them), with the thread of that tid even when it has ended (a zombie leader whose group
 * still runs stays hashed too); else the live process one of whose threads not yet ended
 * (release_task unhashes an ended thread at once) has that id.
 */
export function findTaskByVpid(layer: SyscallLayer, pid: number): FoundTask | null {
  const p = layer.processes.get(pid) ?? layer.zombies.get(pid);
  if (p !== undefined) return { proc: p, thread: p.threads.find((th) => th.tid === pid) ?? null };
  for (const q of layer.processes.values()) {
    const th = q.threads.find((x) => x.tid === pid && x.state !== 'exited');
    if (th !== undefined) return { proc: q, thread: th };
  }
  return null;
}

/** rlim64_is_infinity / rlim64_to_rlim on a 32-bit kernel: a value from ULONG_MAX up is RLIM_INFINITY */
const fromRlim64 = (v: bigint): number => (v >= BigInt(RLIM_INFINITY) ? RLIM_INFINITY : Number(v));
/** rlim_to_rlim64: RLIM_INFINITY becomes RLIM64_INFINITY */
const toRlim64 = (v: number): bigint => (v === RLIM_INFINITY ? 0xffffffffffffffffn : BigInt(v));

/**
 * do_prlimit(tsk, resource, new_rlim, old_rlim) (kernel/sys.c, 3.14 and v6.12): resource past
 * RLIM_NLIMITS -EINVAL; a new soft limit above its hard one -EINVAL; an RLIMIT_NOFILE maximum
 * above sysctl_nr_open -EPERM; raising the hard limit without CAP_SYS_RESOURCE in the caller's
 * effective set (capable(), in init_user_ns) -EPERM; then the old limits are read and the new
 * ones stored. 3.14 stores an RLIMIT_CPU soft limit of 0 as 1 second (capability
 * `rlimitCpuZero`). The model stores every resource and enforces NOFILE and MEMLOCK only (no
 * CPU time accounting: update_rlimit_cpu's timer is not modelled). `old` receives the limits
 * before the change.
 */
function doPrlimit(layer: SyscallLayer, caller: Process, tsk: Process, resource: number, nw: Rlimit | null, old: Rlimit | null): number {
  if (resource >= RLIM_NLIMITS) return -EINVAL;
  const rlim = tsk.rlimit(resource);
  if (nw !== null) {
    if (nw.cur > nw.max) return -EINVAL;
    if (resource === RLIMIT_NOFILE && nw.max > SYSCTL_NR_OPEN) return -EPERM;
    if (nw.max > rlim.max && !capRaised(caller.capEffective, CAP_SYS_RESOURCE)) return -EPERM;
    // security_task_setrlimit: no LSM in the model
    if (resource === RLIMIT_CPU && nw.cur === 0 && (layer.host.rlimitCpuZero ?? 'one-second') === 'one-second') nw.cur = 1;
  }
  if (old !== null) {
    old.cur = rlim.cur;
    old.max = rlim.max;
  }
  if (nw !== null) tsk.setRlimit(resource, nw.cur, nw.max);
  return 0;
}

/**
 * check_prlimit_permission (kernel/sys.c): the caller itself, a process whose uids all equal
 * the caller's uid (the gids, all 0 here, likewise), or any process with CAP_SYS_RESOURCE in
 * the caller's effective set; else -EPERM (v6.12's security_task_prlimit: no LSM in the model)
 */
function checkPrlimitPermission(caller: Process, tsk: Process): number {
  if (tsk === caller || tsk.uid === caller.uid) return 0;
  return capRaised(caller.capEffective, CAP_SYS_RESOURCE) ? 0 : -EPERM;
}

/**
 * prlimit64(pid, resource, new_rlim, old_rlim) (kernel/sys.c SYSCALL_DEFINE4(prlimit64)): the
 * new struct rlimit64 is copied in first (-EFAULT) and narrowed to the 32-bit kernel's
 * unsigned long; the target is the caller (pid 0) or find_task_by_vpid(pid) (-ESRCH) and must
 * pass check_prlimit_permission; do_prlimit; the old limits are copied out last, as rlimit64
 * (-EFAULT then, with the new limits already stored).
 */
export function sysPrlimit64(p: LinuxAbi, a: Uint32Array): number {
  const mm = p.mm;
  let nw: Rlimit | null = null;
  if (a[2] !== 0) {
    const b = new Uint8Array(16);
    if (mm.copyFromUser(b, 0, a[2]!, 16) < 0) return -EFAULT;
    const dv = new DataView(b.buffer);
    nw = { cur: fromRlim64(dv.getBigUint64(0, true)), max: fromRlim64(dv.getBigUint64(8, true)) };
  }
  const pid = a[0]! | 0;
  const tsk = pid === 0 ? p.proc : (findTaskByVpid(p.layer, pid)?.proc ?? null);
  if (tsk === null) return -ESRCH;
  const perm = checkPrlimitPermission(p.proc, tsk);
  if (perm < 0) return perm;
  const old: Rlimit | null = a[3] !== 0 ? { cur: 0, max: 0 } : null;
  const r = doPrlimit(p.layer, p.proc, tsk, a[1]!, nw, old);
  if (r < 0 || old === null) return r;
  const b = new Uint8Array(16);
  const dv = new DataView(b.buffer);
  dv.setBigUint64(0, toRlim64(old.cur), true);
  dv.setBigUint64(8, toRlim64(old.max), true);
  return mm.copyToUser(a[3]!, b, 0, 16) === 0 ? 0 : -EFAULT;
}

/** setrlimit(resource, struct rlimit *) (SYSCALL_DEFINE2(setrlimit)): the 32-bit struct copied in first (-EFAULT), then do_prlimit on the caller */
export function sysSetrlimit(p: LinuxAbi, a: Uint32Array): number {
  const b = new Uint8Array(8);
  if (p.mm.copyFromUser(b, 0, a[1]!, 8) < 0) return -EFAULT;
  const dv = new DataView(b.buffer);
  return doPrlimit(p.layer, p.proc, p.proc, a[0]!, { cur: dv.getUint32(0, true), max: dv.getUint32(4, true) }, null);
}

/** ugetrlimit(resource, struct rlimit *) (SYSCALL_DEFINE2(getrlimit)): do_prlimit's read (-EINVAL past RLIM_NLIMITS), then the 32-bit struct (RLIM_INFINITY 0xffffffff) */
export function sysUgetrlimit(p: LinuxAbi, a: Uint32Array): number {
  const old: Rlimit = { cur: 0, max: 0 };
  const r = doPrlimit(p.layer, p.proc, p.proc, a[0]!, null, old);
  if (r < 0) return r;
  const b = new Uint8Array(8);
  const dv = new DataView(b.buffer);
  dv.setUint32(0, old.cur, true);
  dv.setUint32(4, old.max, true);
  return p.mm.copyToUser(a[1]!, b, 0, b.length) === 0 ? 0 : -EFAULT;
}

/**
 * setuid32(uid) and the 16-bit setuid(uid) (kernel/sys.c sys_setuid / v6.12 __sys_setuid;
 * setuid16's low2highuid makes 0xffff -1): uid -1 is no valid kuid (make_kuid in init_user_ns)
 * -EINVAL; with CAP_SETUID in the effective set every uid becomes `uid` (set_user's
 * RLIMIT_NPROC check only flags the task, it never fails); without it only the current uid
 * (or the saved one, the same here) is accepted, else -EPERM. Then cap_task_fix_setuid ->
 * cap_emulate_setxuid (security/commoncap.c; no SECURE_NO_SETUID_FIXUP or SECURE_KEEP_CAPS
 * here): from root to a non-root uid the permitted and effective sets are cleared (v6.12: the
 * ambient set too); from a non-root uid to root the effective set becomes the permitted one.
 * The model has one uid where Linux has real, effective and saved ones (Process.uid says why
 * that is exact); the checks of the three collapse to one.
 */
export function sysSetuid(p: LinuxAbi, uid: number): number {
  if (uid === 0xffffffff) return -EINVAL;
  const proc = p.proc;
  const old = proc.uid;
  if (!capRaised(proc.capEffective, CAP_SETUID) && uid !== old) return -EPERM;
  // commit_creds: a changed euid (or fsuid) makes the mm non-dumpable (set_dumpable(mm,
  // suid_dumpable), 0 by default; 3.14 and v6.12)
  if (uid !== old) proc.dumpable = false;
  proc.uid = uid;
  proc.credRef = newCredRef(); // __sys_setuid: prepare_creds / commit_creds
  if (old === 0 && uid !== 0) {
    proc.capPermitted = 0n;
    proc.capEffective = 0n;
    if (proc.capAmbient !== null) proc.capAmbient = 0n;
  } else if (old !== 0 && uid === 0) proc.capEffective = proc.capPermitted;
  return 0;
}

/**
 * getresuid32 / getresgid32(ruid *, euid *, suid *) (kernel/sys.c SYSCALL_DEFINE3(getresuid)):
 * put_user of the real, effective and saved id in that order, stopping at the first -EFAULT;
 * the three uids are the process's one uid, every gid is 0
 */
export function sysGetresid(p: LinuxAbi, id: number, a: Uint32Array): number {
  for (let i = 0; i < 3; i++) if (p.mm.putUser32(a[i]!, id) < 0) return -EFAULT;
  return 0;
}

/**
 * prctl(option, arg2, ...) (kernel/sys.c, 3.14 and v6.12 alike): PR_SET_NAME (15) copies at most
 * 15 bytes of the string at arg2 (strncpy_from_user: up to its NUL; a fault before it, -EFAULT)
 * and makes it the calling thread's comm (set_task_comm(me, ...)); PR_GET_NAME (16) writes the
 * calling thread's comm as 16 bytes, NUL-padded (get_task_comm). `tid` is the calling thread's
 * (Process.comm / setComm: the leader's is the process's `name`, also the name in kernel
 * messages). PR_GET_DUMPABLE (3) answers the mm's dumpability (1 SUID_DUMP_USER, 0 disabled)
 * and PR_SET_DUMPABLE (4) sets it, arg2 0 or 1 only, else -EINVAL (SUID_DUMP_ROOT is refused
 * since v2.6.19, 3.14 and v6.12 alike). The other options are not modelled: -EINVAL.
 */
export function sysPrctl(proc: Process, tid: number, a: Uint32Array): number {
  if (a[0] === 15) {
    const b = new Uint8Array(16);
    let n = 0;
    for (; n < 15; n++) {
      if (proc.mm.copyFromUser(b, n, a[1]! + n, 1) < 0) return -EFAULT;
      if (b[n] === 0) break;
    }
    proc.setComm(tid, latin1(b.subarray(0, n)));
    return 0;
  }
  if (a[0] === 3) return proc.dumpable ? 1 : 0;
  if (a[0] === 4) {
    if (a[1] !== 0 && a[1] !== 1) return -EINVAL;
    proc.dumpable = a[1] === 1;
    return 0;
  }
  if (a[0] === 16) {
    // the comm's bytes (one character per byte, as /proc/<pid>/comm holds them), NUL-padded
    const c = proc.comm(tid);
    const b = new Uint8Array(16);
    for (let i = 0; i < c.length && i < 15; i++) b[i] = c.charCodeAt(i) & 0xff;
    return proc.mm.copyToUser(a[1]!, b, 0, b.length) === 0 ? 0 : -EFAULT;
  }
  return -EINVAL;
}
