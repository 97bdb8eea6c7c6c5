import { UserCounts } from './user-counts.js';
import { dentryPath, dirDPath, isNamedDir, namedDirPath, type Dentry } from '../vfs/dentry.js';
import type { DirRef } from '../vfs/vfs.js';
import type { Cpu, GuestThread } from '../../emulator/cpu/cpu.js';
import { EBADF, EINVAL, EMFILE } from '../base/errno.js';
import type { File } from '../vfs/file.js';
import type { StackGuard } from './stack-grow.js';
import { CAP_IPC_LOCK, CAP_LAST_CAP_3_14, capBit, capFullSet, initialRlimits, newCredRef, RLIMIT_MEMLOCK, RLIMIT_NOFILE, RLIMIT_STACK, rlimValue, type Rlimit } from './cred.js';
import { AddressSpace } from './mm.js';
import type { MemoryHost } from './pages.js';

export { RLIM_INFINITY } from './cred.js';

/** TASK_COMM_LEN (include/linux/sched.h, 3.14 and v6.12): comm holds at most 15 characters and a NUL */
export const TASK_COMM_LEN = 16;

/** CAP_IPC_LOCK's bit in the low word of the effective set */
const IPC_LOCK_BIT = 1 << CAP_IPC_LOCK;

export interface FdEntry {
  file: File;
  cloexec: boolean;
}

export interface ProcessOptions {
  name?: string;
  uid?: number;
  /**
   * CAP_IPC_LOCK in the effective set (the locked-memory limit does not apply; root has every
   * capability by default): false clears it from the effective set only (a root process keeps
   * it permitted and can capset it back, the fuzzer's P1); true raises it in the permitted and
   * effective sets (a non-root process granted it)
   */
  capIpcLock?: boolean;
  /** RLIMIT_NOFILE, soft and hard (default 1024) */
  nofile?: number;
  /** RLIMIT_MEMLOCK in bytes, soft and hard (default 64 KiB) */
  memlock?: number;
  /** open fds 0, 1, 2 on the console (reads: EOF; writes captured in stdout/stderr) */
  stdio?: boolean;
  /** the kernel's CAP_LAST_CAP (the profile's `capLastCap`; SyscallLayer.createProcess passes it; default 3.14's 36) */
  capLastCap?: number;
  /** whether the kernel's cred has an ambient set (the profile's `capAmbient`, v4.3+; SyscallLayer.createProcess passes it) */
  capAmbient?: boolean;
  /** the run's per-user counters (SyscallLayer.createProcess passes its own; default: a new one) */
  users?: UserCounts;
  /** the stack's guard (the profile's `stackGuard`; SyscallLayer.createProcess passes it; default 3.14's 'guard-page') */
  stackGuard?: StackGuard;
}

/** /proc/<pid>/status's signal sets (fs/proc/array.c task_sig), signal n at bit n - 1 */
export interface TaskSigMasks {
  pending: bigint;
  shared: bigint;
  blocked: bigint;
  ignored: bigint;
  caught: bigint;
}

/** A process: pid, credentials, limits, fd table, address space, threads. */
export class Process {
  /**
   * task->comm of the group leader (the thread whose tid is the pid): at most TASK_COMM_LEN - 1
   * = 15 characters; execve sets it to the base name of the name given, fork copies the calling
   * thread's, prctl(PR_SET_NAME) and a write of /proc/<pid>/comm change it. Also the name in
   * kernel messages. The other threads' comms are `comm(tid)`.
   */
  name: string;
  /**
   * task->comm of the group's other threads, by tid (clone copies the creating thread's:
   * dup_task_struct; 3.14 and v6.12): a thread's PR_SET_NAME or a write of
   * /proc/<pid>/task/<tid>/comm changes its own only
   */
  private readonly threadComms = new Map<number, string>();
  /** the comm of the thread `tid` of this process (the leader's for the pid or a tid it does not know) */
  comm(tid: number): string {
    // `name` may be longer (a name given to createProcess): the comm is its first 15
    return (tid === this.pid ? this.name : this.threadComms.get(tid) ?? this.name).slice(0, TASK_COMM_LEN - 1);
  }
  /**
   * set the comm of the thread `tid` (__set_task_comm: strscpy into the TASK_COMM_LEN array, so
   * at most 15 characters; the model's comm is a JS string with one character per byte,
   * latin1, as /proc/<pid>/comm and prctl exchange it)
   */
  setComm(tid: number, comm: string): void {
    const c = comm.slice(0, TASK_COMM_LEN - 1);
    if (tid === this.pid) this.name = c;
    else this.threadComms.set(tid, c);
  }
  /** execve (de_thread: the caller is the only thread left, as the leader): the comm of the new image, the others' forgotten */
  execComm(comm: string): void {
    this.threadComms.clear();
    this.name = comm.slice(0, TASK_COMM_LEN - 1);
  }
  /**
   * mm->exe_file (3.14 and v6.12): the file the running image was opened as, one reference
   * held. The ARM ABI's exec sets it (set_mm_exe_file), fork gives the child another reference
   * (dup_mm_exe_file), exit drops it (exit_mmap / mmput). null: no executable (a stub-CPU
   * program, a zombie): /proc/<pid>/exe's readlink and follow are -ENOENT (proc_exe_link).
   * The single source of /proc/<pid>/exe's text and of the mapping's file (LinuxAbi.exeFile).
   */
  exeFile: File | null = null;
  /** a new mm->exe_file (set_mm_exe_file): takes over the caller's reference, drops the old one */
  setExeFile(file: File | null): void {
    const old = this.exeFile;
    this.exeFile = file;
    old?.put();
  }
  /**
   * /proc/<pid>/exe's text (proc_exe_link -> d_path of mm->exe_file's f_path): a file opened by
   * a name that can change (tmpfs, devtmpfs: its dentry) that name now, " (deleted)" once it
   * went; else the path it was opened at
   */
  get exe(): string | null {
    const f = this.exeFile;
    if (f === null) return null;
    return f.dentry !== null ? dentryPath(f.dentry) : f.path;
  }
  /** mm->exe_file's dentry (its f_path) when the executable was found under tmpfs or devtmpfs, whose names change (dentry.ts) */
  get exeDentry(): Dentry | null {
    return this.exeFile?.dentry ?? null;
  }
  /**
   * fs->pwd: the current directory, held as the directory itself (a struct path), so that a
   * renamed cwd stays the same directory and a removed one stays reachable as "."; null is the
   * namespace's root (init_fs's pwd). chdir/fchdir set it, fork copies it (copy_fs).
   */
  cwdAt: DirRef | null = null;
  /** the cwd's d_path (fs/d_path.c d_path: the directory's current path, " (deleted)" once removed): /proc/<pid>/cwd's text */
  get cwd(): string {
    return this.cwdAt === null ? '/' : dirDPath(this.cwdAt.node, this.cwdAt.path);
  }
  /**
   * what getcwd(2) answers (3.14 fs/dcache.c and v6.12 fs/d_path.c sys_getcwd): the cwd's path,
   * or null once the directory was removed (d_unlinked: the syscall's -ENOENT)
   */
  get cwdPath(): string | null {
    const at = this.cwdAt;
    if (at === null) return '/';
    if (!isNamedDir(at.node)) return at.path;
    const p = namedDirPath(at.node);
    return p === null ? at.path : p.unlinked ? null : p.path;
  }
  /**
   * mm->flags' dumpability (include/linux/sched/coredump.h): true is SUID_DUMP_USER, false
   * SUID_DUMP_DISABLE (suid_dumpable's default, 0). execve makes it SUID_DUMP_USER (the model's
   * uid is its euid: 3.14 setup_new_exec, v6.12 begin_new_exec; v6.12's would_dump of an
   * unreadable image is not modelled), commit_creds clears it when the euid changes (setuid),
   * prctl PR_SET_DUMPABLE sets it, fork copies it (dup_mm). __ptrace_may_access reads it
   * (procfs.ts procAccess)
   */
  dumpable = true;
  /**
   * fs->umask (fs/fs_struct.c; init_fs's 0022): the bits creations leave out (open O_CREAT,
   * mkdir: fs/namei.c); umask(2) sets it, fork copies it (copy_fs)
   */
  umask = 0o022;
  /**
   * The identity of the current struct cred: a new object whenever the credentials change
   * (setuid, capset, fork's copy_creds; commit_creds): v6.12 linkat(AT_EMPTY_PATH) compares a
   * file's f_cred with current_cred() by pointer
   */
  credRef: object = newCredRef();
  /**
   * The user id. Linux has real, effective, saved and fs uids (struct cred uid, euid, suid,
   * fsuid); the model keeps one per process (the model's choice: exact because nothing here
   * makes them differ: setuid as root sets all four, setuid without CAP_SETUID can only name the
   * current one, and there is no setreuid/setresuid, set-user-ID file or fsuid call).
   */
  uid: number;
  /** the capability sets of the cred (cred.ts): inheritable, permitted, bounding; the effective set below */
  capInheritable = 0n;
  capPermitted: bigint;
  capBounding: bigint;
  /** cred->cap_ambient (v4.3+, the profile's `capAmbient`): always empty here (no PR_CAP_AMBIENT); null where the kernel has none (3.14) */
  capAmbient: bigint | null;
  /** the effective set as the two u32 words of 3.14's kernel_cap_t (cap[0], cap[1]): `capIpcLock` reads one bit of the first */
  private capEff0 = 0;
  private capEff1 = 0;
  /**
   * signal->rlim: the soft and hard limit of each resource, at 2r and 2r + 1 (cred.ts
   * initialRlimits; `rlimit(r)` reads one as a struct; `rlimitNofile` and `rlimitMemlock` are
   * the soft limits)
   */
  readonly rlim: Uint32Array;
  readonly mm: AddressSpace;
  private fds: (FdEntry | null)[] = [];
  readonly threads: GuestThread[] = [];
  exitCode: number | null = null;
  alive = true;
  /**
   * task_sig's signal sets for thread `tid` (/proc/<pid>/status; kernel-model/exec/signal-status.ts
   * hooks it); null: a process the model keeps no signals for (all sets empty)
   */
  sigMasks: ((tid: number) => TaskSigMasks) | null = null;
  /** the per-user counters of the run this process belongs to (queued signals: SigQ) */
  readonly users: UserCounts;
  /** what the program wrote to fds 1 and 2 when they are the console */
  stdout = '';
  stderr = '';

  constructor(
    readonly pid: number,
    host: MemoryHost,
    cpu: Cpu | null,
    opts: ProcessOptions = {},
  ) {
    this.name = opts.name ?? `proc${pid}`;
    this.users = opts.users ?? new UserCounts();
    this.uid = opts.uid ?? 0;
    // root starts with every capability (init's CAP_FULL_SET, kept across root's execs by
    // cap_bprm_set_creds / cap_bprm_creds_from_file: pP' = bset | pI, pE' = pP'); another user
    // with none but the bounding set, which every process inherits from init
    const full = capFullSet(opts.capLastCap ?? CAP_LAST_CAP_3_14);
    this.capBounding = full;
    this.capPermitted = this.uid === 0 ? full : 0n;
    this.capEffective = this.capPermitted;
    this.capAmbient = opts.capAmbient === true ? 0n : null;
    if (opts.capIpcLock !== undefined) this.capIpcLock = opts.capIpcLock;
    this.rlim = initialRlimits(opts.nofile ?? 1024, opts.memlock ?? 64 * 1024);
    this.mm = new AddressSpace(host, cpu);
    // the stack grows within this process's RLIMIT_STACK soft limit (stack-grow.ts)
    this.mm.stackGuard = opts.stackGuard ?? 'guard-page';
    this.mm.stackLimit = () => this.rlim[2 * RLIMIT_STACK]!;
  }

  /** cred->cap_effective */
  get capEffective(): bigint {
    return BigInt(this.capEff0 >>> 0) | (BigInt(this.capEff1 >>> 0) << 32n);
  }

  set capEffective(v: bigint) {
    this.capEff0 = Number(v & 0xffffffffn) | 0;
    this.capEff1 = Number((v >> 32n) & 0xffffffffn) | 0;
  }

  /** capable(CAP_IPC_LOCK): the bit in the effective set (the locked-memory limit does not apply) */
  get capIpcLock(): boolean {
    return (this.capEff0 & IPC_LOCK_BIT) !== 0;
  }

  /** false: cleared from the effective set only; true: raised in the permitted and effective sets */
  set capIpcLock(v: boolean) {
    if (v) {
      this.capPermitted |= capBit(CAP_IPC_LOCK);
      this.capEff0 |= IPC_LOCK_BIT;
    } else this.capEff0 &= ~IPC_LOCK_BIT;
  }

  /** rlimit(RLIMIT_NOFILE): the soft limit */
  get rlimitNofile(): number {
    return this.rlim[2 * RLIMIT_NOFILE]!;
  }

  /** set the soft limit (a test fixture's shortcut; the hard one is raised to it if below) */
  set rlimitNofile(v: number) {
    this.setSoftLimit(RLIMIT_NOFILE, v);
  }

  /** rlimit(RLIMIT_MEMLOCK) in bytes: the soft limit */
  get rlimitMemlock(): number {
    return this.rlim[2 * RLIMIT_MEMLOCK]!;
  }

  set rlimitMemlock(v: number) {
    this.setSoftLimit(RLIMIT_MEMLOCK, v);
  }

  private setSoftLimit(res: number, v: number): void {
    const r = this.rlim;
    r[2 * res] = rlimValue(v);
    if (r[2 * res + 1]! < r[2 * res]!) r[2 * res + 1] = r[2 * res]!;
  }

  /** one resource's limits as a struct rlimit (a copy) */
  rlimit(res: number): Rlimit {
    return { cur: this.rlim[2 * res]!, max: this.rlim[2 * res + 1]! };
  }

  /** store one resource's limits (do_prlimit's write) */
  setRlimit(res: number, cur: number, max: number): void {
    this.rlim[2 * res] = cur;
    this.rlim[2 * res + 1] = max;
  }

  /**
   * fork (kernel/fork.c copy_process -> copy_creds, copy_signal): `child` gets this process's
   * credentials (uid, every capability set) and resource limits
   */
  copyCredsTo(child: Process): void {
    child.uid = this.uid;
    child.capInheritable = this.capInheritable;
    child.capPermitted = this.capPermitted;
    child.capEffective = this.capEffective;
    child.capBounding = this.capBounding;
    child.capAmbient = this.capAmbient;
    child.rlim.set(this.rlim);
  }

  /**
   * execve of a file without file capabilities or set-user-ID bit (3.14 security/commoncap.c
   * cap_bprm_set_creds, v6.12 cap_bprm_creds_from_file with handle_privileged_root): root gets
   * pP' = bset | pI and pE' = pP'; any other user pP' = pA' and pE' = pA', the ambient set
   * (empty here; 3.14 has none: both cleared)
   */
  execCaps(): void {
    this.credRef = newCredRef(); // the exec's bprm->cred is committed
    if (this.uid === 0) this.capPermitted = this.capBounding | this.capInheritable;
    else this.capPermitted = this.capAmbient ?? 0n;
    this.capEffective = this.uid === 0 ? this.capPermitted : this.capAmbient ?? 0n;
  }

  /** fdget: the file or null */
  fdget(fd: number): File | null {
    if (!Number.isInteger(fd) || fd < 0 || fd >= this.fds.length) return null;
    return this.fds[fd]?.file ?? null;
  }

  fdEntry(fd: number): FdEntry | null {
    if (!Number.isInteger(fd) || fd < 0 || fd >= this.fds.length) return null;
    return this.fds[fd] ?? null;
  }

  /** get_unused_fd_flags alone, without installing: whether a free fd exists (0) or -EMFILE at RLIMIT_NOFILE */
  fdAvailable(): number {
    let fd = 0;
    while (fd < this.fds.length && this.fds[fd] !== null) fd++;
    return fd >= this.rlimitNofile ? -EMFILE : 0;
  }

  /** get_unused_fd_flags without the install: the lowest free fd (fdInstall's choice while nothing else is installed), or -EMFILE */
  unusedFd(): number {
    let fd = 0;
    while (fd < this.fds.length && this.fds[fd] !== null) fd++;
    return fd >= this.rlimitNofile ? -EMFILE : fd;
  }

  /** get_unused_fd + fd_install: lowest free fd, or -EMFILE at RLIMIT_NOFILE. Takes over the caller's reference. */
  fdInstall(file: File, cloexec: boolean): number {
    let fd = 0;
    while (fd < this.fds.length && this.fds[fd] !== null) fd++;
    if (fd >= this.rlimitNofile) return -EMFILE;
    const e: FdEntry = { file, cloexec };
    if (fd === this.fds.length) this.fds.push(e);
    else this.fds[fd] = e;
    return fd;
  }

  /**
   * dup2/dup3/F_DUPFD: install `file` (the caller's reference) at the lowest free fd >= `min`
   * (exact = false) or at `min` itself, closing what was there (exact = true, do_dup2:
   * -EBADF past RLIMIT_NOFILE for the target, -EINVAL for F_DUPFD past it, -EMFILE when full).
   */
  fdInstallFrom(file: File, min: number, cloexec: boolean, exact: boolean): number {
    if (min >= this.rlimitNofile) return exact ? -EBADF : -EINVAL;
    let fd = min;
    if (!exact) while (fd < this.fds.length && this.fds[fd] !== null) fd++;
    if (fd >= this.rlimitNofile) return -EMFILE;
    while (this.fds.length <= fd) this.fds.push(null);
    const old = this.fds[fd];
    this.fds[fd] = { file, cloexec };
    old?.file.put();
    return fd;
  }

  close(fd: number): number {
    const e = this.fdEntry(fd);
    if (e === null) return -EBADF;
    this.fds[fd] = null;
    while (this.fds.length > 0 && this.fds[this.fds.length - 1] === null) this.fds.pop();
    e.file.put();
    return 0;
  }

  /** one past the highest open fd (fdget(i) for i below it: the open fds without a list) */
  get fdLimit(): number {
    return this.fds.length;
  }

  get openFds(): number[] {
    const out: number[] = [];
    this.fds.forEach((e, i) => {
      if (e) out.push(i);
    });
    return out;
  }

  /**
   * fork (kernel/fork.c copy_files -> dup_fd): `child` (with no fds yet) gets the same
   * table, every open file with one more reference, close-on-exec flags kept.
   */
  copyFdsTo(child: Process): void {
    child.fds = this.fds.map((e) => {
      if (e === null) return null;
      e.file.get();
      return { file: e.file, cloexec: e.cloexec };
    });
  }

  /** execve (fs/exec.c do_close_on_exec): close the fds marked close-on-exec, in fd order */
  closeOnExec(): void {
    for (const fd of this.openFds) if (this.fds[fd]!.cloexec) this.close(fd);
  }

  /** exit: close every fd (in fd order), then tear down the address space */
  teardown(): void {
    if (!this.alive) return;
    this.alive = false;
    for (const fd of this.openFds) this.close(fd);
    this.mm.releaseAll();
    // mmput: mm->exe_file goes with the mm (the ARM ABI's exit drops it earlier, lifecycle.ts)
    this.setExeFile(null);
  }
}
