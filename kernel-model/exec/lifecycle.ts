import { UC_ARM_REG_C13_C0_3 } from '../../emulator/cpu/unicorn/native.js';
import { UnicornEngine } from '../../emulator/cpu/unicorn/engine.js';
import { GuestTrap } from '../../emulator/cpu/stub.js';
import { BLOCK, UnicornThread, type SyscallResult } from '../../emulator/cpu/unicorn/thread.js';
import { EBUSY, ECHILD, EFAULT, EINVAL, ELOOP, ENAMETOOLONG, ENOENT, ENOMEM, ENOSYS, ETXTBSY } from '../base/errno.js';
import { AT_FDCWD, resolveAt } from '../syscall/stat.js';
import { pathNameText } from '../vfs/vfs.js';
import type { File } from '../vfs/file.js';
import { isScript, parseScriptLine } from './binfmt-script.js';
import { openExec, type ExecImage, type OpenExecEnv } from './open-exec.js';
import type { LinuxAbi } from './linux-abi.js';
import { ET_EXEC, readExecElf } from './elf-exec.js';
import { argBudget, argStringsFit, emptyArgv, readArgStrings } from './exec-args.js';
import { execAuxOptions } from './auxv.js';
import { ExecLateError, loadExecImage, type DynLoad } from './load.js';
import { SIG_IGN, SIGCHLD, SIGKILL, SIGSEGV } from './signal.js';
import { ProcessGuestSpace } from './space.js';
import { rseqExec, rseqFork } from './rseq.js';
import { membarrierExec, membarrierFork } from './sched-calls.js';
import { CLONE_PARENT_SETTID, CLONE_PIDFD, CLONE_THREAD, CLONE_VM, cloneFlagsValid } from './clone-flags.js';

/**
 * How the processes and threads of an ARM program on the Unicorn backend begin, change their
 * image and end: clone of a thread and fork/vfork/clone of a process (kernel/fork.c
 * kernel_clone, copy_process), execve (fs/exec.c do_execveat_common, fs/binfmt_elf.c
 * load_elf_binary), the end of a thread and of the process (kernel/exit.c do_exit,
 * do_group_exit, exit_notify; kernel/fork.c mm_release for CLONE_CHILD_CLEARTID) and
 * wait4/waitid (kernel/exit.c do_wait). Each function works on the calling process `p`
 * (the kernel's `current`): these calls read or replace every part of it.
 */

const CLONE_PARENT = 0x8000, CLONE_SETTLS = 0x80000;
const CLONE_CHILD_CLEARTID = 0x200000, CLONE_CHILD_SETTID = 0x1000000;
/** wait4/waitid option bits (include/uapi/linux/wait.h) */
const WNOHANG = 1, WEXITED = 4, WNOWAIT = 0x01000000;
const P_ALL = 0, P_PID = 1, P_PGID = 2;
/** siginfo si_code for SIGCHLD (include/uapi/asm-generic/siginfo.h) */
const CLD_EXITED = 1, CLD_KILLED = 2;

/**
 * clone(flags, newsp, parent_tidptr, tls, child_tidptr): a thread of `p` with CLONE_VM|CLONE_THREAD
 * (SETTLS, PARENT_SETTID, CHILD_SETTID, CHILD_CLEARTID honoured); without CLONE_THREAD a new
 * process (sysFork). The thread's tid comes from the pid space (SyscallLayer.allocPid).
 */
export function sysClone(p: LinuxAbi, t: UnicornThread, a: Uint32Array, samePidfdParentTid = true): SyscallResult {
  const flags = a[0]!;
  // copy_process's (and v6.12 kernel_clone's) flag checks, shared with clone3 (clone-flags.ts)
  const era = p.layer.host.cloneFlagChecks ?? '3.14';
  const bad = cloneFlagsValid(era, flags, samePidfdParentTid);
  if (bad !== 0) return bad;
  // the model's choice: no pidfds (v6.12 CLONE_PIDFD; clone3.ts answers the same)
  if (era === '6.12' && (flags & CLONE_PIDFD) !== 0) return -EINVAL;
  // a new process: fork-style clone (glibc's fork: CLONE_CHILD_SETTID|CLONE_CHILD_CLEARTID|SIGCHLD),
  // or CLONE_VM without CLONE_THREAD (posix_spawn's CLONE_VM|CLONE_VFORK) served as a fork
  if ((flags & CLONE_THREAD) === 0) return sysFork(p, t, flags, a);
  // copy_process -> alloc_pid: the tid is the next number of the pid space the processes' pids
  // come from (kernel/pid.c; 3.14 and v6.12), so no later process gets it as its pid
  const tid = p.layer.allocPid();
  const tls = (flags & CLONE_SETTLS) !== 0 ? a[3]! : null;
  const child = UnicornThread.clone(t, tid, `${p.proc.name}:${tid}`, a[1]!, tls);
  // dup_task_struct: the new thread's comm is the creating thread's (3.14 and v6.12)
  p.proc.setComm(tid, p.proc.comm(t.tid));
  // dup_task_struct copies task->blocked too, and copy_process leaves it for CLONE_THREAD:
  // the thread starts with its creator's mask (kernel/fork.c, 3.14 and v6.12)
  const mask = p.signals.blockedOf(t);
  if (mask !== 0n) p.signals.blocked.set(child, mask);
  const tidBytes = new Uint8Array(4);
  new DataView(tidBytes.buffer).setUint32(0, tid, true);
  if ((flags & CLONE_PARENT_SETTID) !== 0) p.mm.copyToUser(a[2]!, tidBytes, 0, tidBytes.length);
  if ((flags & CLONE_CHILD_SETTID) !== 0) p.mm.copyToUser(a[4]!, tidBytes, 0, tidBytes.length);
  if ((flags & CLONE_CHILD_CLEARTID) !== 0) p.clearTid.set(child, a[4]!);
  p.adopt(child);
  p.cpu.addThread(child);
  return tid;
}

/**
 * fork / vfork / clone without CLONE_THREAD (kernel/fork.c kernel_clone -> copy_process): a
 * new process with a copy of the address space (AddressSpace.forkInto: copying, except the
 * pinned pages 3.14 shares copy-on-write, `forkPinnedPages`), the fd table (dup_fd), cwd, credentials and limits (copy_creds,
 * copy_signal: Process.copyCredsTo), and one thread with the caller's registers and r0 = 0
 * on its own Unicorn engine. It joins the CPU's run queue like any thread (same timeslice
 * rule, deterministic order). ARM clone arguments are (flags, newsp, parent_tidptr, tls,
 * child_tidptr) (CONFIG_CLONE_BACKWARDS).
 * CLONE_PARENT (copy_process, 3.14 and v6.12): -EINVAL from a process the kernel treats as
 * init (signal->flags & SIGNAL_UNKILLABLE, LinuxAbi.signalUnkillable); otherwise the child's
 * real_parent is the caller's real_parent, so the caller's parent waits for it (wait4,
 * waitid) and gets its SIGCHLD, and the caller cannot (-ECHILD). A caller the model gives no
 * parent (started by the board, or orphaned: its real parent is init, getppid 1) gives its
 * CLONE_PARENT child to init too: getppid 1, and nothing in the run can wait for it (init
 * reaps it when it ends, as any orphan here).
 * Choices: vfork is a fork (the parent is not suspended until the child execs or exits;
 * a vfork child that only execs or _exits, as POSIX requires, cannot tell); CLONE_VM
 * without CLONE_THREAD (posix_spawn) is a fork too, with the child on `newsp`; the exit
 * signal is always SIGCHLD (CSIGNAL is not read; CLONE_PARENT's exit_signal, the group
 * leader's, is SIGCHLD here as well).
 */
export function sysFork(p: LinuxAbi, t: UnicornThread, flags: number, a: Uint32Array): SyscallResult {
  if (p.bus === null) return -ENOSYS;
  // siblings of init would stay zombies: "prevent global and container-inits from creating siblings"
  if ((flags & CLONE_PARENT) !== 0 && p.signalUnkillable) return -EINVAL;
  // only the calling thread is copied into the child, as in Linux
  const parentProc = p.proc;
  // dup_task_struct: the child's comm is the calling thread's
  const proc = p.layer.createProcess({ name: parentProc.comm(t.tid) });
  parentProc.copyCredsTo(proc);
  proc.cwdAt = parentProc.cwdAt;
  proc.umask = parentProc.umask;
  // dup_mm copies mm->flags, the dumpability with them
  proc.dumpable = parentProc.dumpable;
  if (p.mm.forkInto(proc.mm, p.layer.host.forkPinnedPages) < 0) {
    proc.teardown();
    p.layer.processes.delete(proc.pid);
    return -ENOMEM;
  }
  parentProc.copyFdsTo(proc);
  const space = new ProcessGuestSpace(proc.mm);
  const engine = UnicornEngine.obtain(proc, t.engine.arch);
  engine.attach(space, p.bus);
  // real_parent: current->real_parent with CLONE_PARENT, else current
  const parent = (flags & CLONE_PARENT) !== 0 ? p.parent : p;
  const child = p.forkChild(proc, space, parent);
  // 3.14 dup_mmap: the image's VM_DENYWRITE mappings deny writing for the child too
  if (p.exeNode !== null) {
    child.exeNode = p.exeNode;
    p.exeNode.writecount--;
  }
  if (p.interpNode !== null) {
    child.interpNode = p.interpNode;
    p.interpNode.writecount--;
  }
  // dup_mm_exe_file: the child's mm holds another reference to the parent's exe_file
  proc.setExeFile(parentProc.exeFile?.get() ?? null);
  child.brkStart = p.brkStart;
  // dup_mmap copies the mm_struct: start_brk, brk and start_stack with it
  proc.mm.startBrk = p.mm.startBrk;
  proc.mm.startStack = p.mm.startStack;
  const th = UnicornThread.forkInto(t, engine, child, proc.pid, proc.name);
  // rseq_fork: without CLONE_VM the child keeps the registration; dup_mm: membarrier_state
  if ((flags & CLONE_VM) === 0) rseqFork(t, th);
  membarrierFork(p.mm, proc.mm);
  // copy_sighand: the actions; the thread's blocked mask; pending signals and timers are not inherited
  p.signals.forkInto(child.signals, t, th);
  const newsp = a[1]!;
  if (newsp !== 0) engine.setReg(engine.arch.spReg, newsp);
  if ((flags & CLONE_SETTLS) !== 0) engine.setReg(UC_ARM_REG_C13_C0_3, a[3]!);
  child.adopt(th);
  // copy_process: *parent_tidptr in the parent, *child_tidptr in the child (its own copy)
  if ((flags & CLONE_PARENT_SETTID) !== 0) p.mm.putUser32(a[2]!, proc.pid);
  if ((flags & CLONE_CHILD_SETTID) !== 0) child.mm.putUser32(a[4]!, proc.pid);
  if ((flags & CLONE_CHILD_CLEARTID) !== 0) child.clearTid.set(th, a[4]!);
  parent?.children.push(child);
  p.cpu.addThread(th);
  return proc.pid;
}

/**
 * execve (fs/exec.c do_execveat_common, fs/binfmt_elf.c load_elf_binary) of a static ARM
 * ELF: the image is found and checked by open-exec.ts openExec (the path walked as the
 * caller from its cwd: search permission, then may_open's MAY_EXEC and the profile's
 * `execOpenCheck`; a tmpfs or rootfs file's bytes, else the run's `execFs`; /proc/<pid>/exe is
 * the file procfs's link names, the caller's own the running image); a file that is not an
 * ARM ELF gives -ENOEXEC before anything changes. A "#!" file is run by its interpreter
 * (fs/binfmt_script.c load_script: binfmt-script.ts, the profile's binfmtScript), nested up to
 * five levels (3.14 search_binary_handler / v6.12 exec_binprm: depth > 5 -ELOOP); with the
 * profile's execDenyWrite (3.14) each file opened denies writing (deny_write_access: -ETXTBSY
 * when open for writing), the scripts' released, the image's kept while it runs. Past
 * the point of no return: every mapping goes, the new image and stack are loaded,
 * close-on-exec fds close, the program break, comm and /proc/<pid>/exe follow the new file,
 * and the thread restarts at the entry point.
 * Choice: only from a single-threaded process (de_thread's killing of the other threads is
 * not modelled): -EBUSY otherwise.
 */
export function sysExecve(p: LinuxAbi, t: UnicornThread, a: Uint32Array): SyscallResult {
  // getname: a name without a NUL within PATH_MAX bytes, -ENAMETOOLONG (fs/namei.c, both eras)
  const path = p.mm.strndupUser(a[0]!, 4096);
  if (typeof path === 'number') return path === -EINVAL ? -ENAMETOOLONG : path;
  if (path.length === 0) return -ENOENT;
  const task = p.layer.taskOf(p.proc, t);
  const host = p.layer.host;
  const vfs = host.vfs;
  const name = resolveAt(task, AT_FDCWD, path, vfs);
  if (typeof name === 'number') return name;
  const env: OpenExecEnv = {
    vfs, task, check: host.execOpenCheck ?? 'open-then-isreg', execFs: p.execFs,
    running: p.exe !== null && p.exeBytes !== null ? { path: p.exe, bytes: p.exeBytes, node: p.exeNode, file: p.exeFile } : null,
    images: p.execImages,
  };
  const deny = host.execDenyWrite ?? true;
  let img = openExec(env, name);
  if (typeof img === 'number') return img;
  // 3.14 do_execve_common / v6.12 do_execveat_common (alloc_bprm): the file is opened before
  // argv and envp are counted and copied (exec-args.ts; the profile's execArgLimit)
  const budget = argBudget(p);
  const argv = readArgStrings(p, a[1]!, budget);
  if (typeof argv === 'number') return argv;
  // an empty argv: argc 0 (3.14) or one "" (v6.12), capability execEmptyArgv
  const given0 = emptyArgv(p, host.execEmptyArgv ?? 'argc-zero', path, argv);
  // count() of a NULL envp is 0 (both eras): an empty environment
  const envp = readArgStrings(p, a[2]!, budget);
  if (typeof envp === 'number') return envp;
  const fits = argStringsFit(p, host.execArgLimit ?? 'arg-pages', path, argv, envp);
  if (fits < 0) return fits;
  let args = given0;
  // bprm->interp: the name as given, the script path binfmt_script puts in argv
  let interp = path;
  for (let depth = 0; ; depth++) {
    // 3.14 do_open_exec / v6.12 do_open_execat before 2a010c412853: deny_write_access, -ETXTBSY
    // for a file open for writing (the profile's execDenyWrite)
    if (deny && img.node !== null && img.node.denyWrite() < 0) return -ETXTBSY;
    const release = (x: ExecImage): void => {
      if (deny) x.node?.allowWrite();
    };
    // 3.14 search_binary_handler / v6.12 exec_binprm: "4 levels of binfmt rewrites", depth > 5 -ELOOP
    if (depth > 5) {
      release(img);
      return -ELOOP;
    }
    if (!isScript(img.bytes)) break;
    // fs/binfmt_script.c load_script: the "#!" line (binfmt-script.ts, the profile's binfmtScript)
    const line = parseScriptLine(img.bytes, host.binfmtScript ?? 'buf128-truncate');
    // the script's own file is released (3.14 load_script: allow_write_access, fput; v6.12 exec_binprm)
    release(img);
    if (typeof line === 'number') return line;
    // remove_arg_zero, then the script's name, the optional argument and the interpreter in front
    args = [line.interp, ...(line.arg !== null ? [line.arg] : []), interp, ...args.slice(1)];
    // bprm_change_interp; open_exec(i_name): the same walk and checks, from the cwd
    interp = line.interp;
    const iname = resolveAt(task, AT_FDCWD, line.interp, vfs);
    if (typeof iname === 'number') return iname;
    const next = openExec(env, iname);
    if (typeof next === 'number') return next;
    img = next;
  }
  const image = img;
  const bytes = image.bytes;
  // the interpreter open_exec opened, its denial of writing held (3.14)
  let interpImage: ExecImage | null = null;
  const fail = (e: number): number => {
    if (deny) {
      image.node?.allowWrite();
      // out_free_dentry: allow_write_access(interpreter)
      (interpImage as ExecImage | null)?.node?.allowWrite();
    }
    return e;
  };
  // load_elf_binary's checks before the point of no return (elf-exec.ts; the profile's
  // execElfLoad): an errno, the caller's image intact. PT_INTERP's interpreter is opened as
  // open_exec does (the same walk and checks as the image's, from the cwd)
  const rules = host.execElfLoad ?? 'inline';
  const elf = readExecElf(bytes, rules, (ipath) => {
    if (ipath.length === 0) return -ENOENT;
    const iname = resolveAt(task, AT_FDCWD, ipath, vfs);
    if (typeof iname === 'number') return iname;
    const it = openExec(env, iname);
    if (typeof it === 'number') return it;
    // open_exec(elf_interpreter) is the image's do_open_exec: deny_write_access, -ETXTBSY for an
    // interpreter open for writing (3.14 fs/exec.c; read in 3.14.4; the profile's execDenyWrite)
    if (deny && it.node !== null && it.node.denyWrite() < 0) return -ETXTBSY;
    interpImage = it;
    return it.bytes;
  });
  if (typeof elf === 'number') return fail(elf);
  if (p.threads.some((th) => th !== t && th.state !== 'exited')) return fail(-EBUSY);
  // bprm->file: the segments are mapped from it (load.ts mapFromFile)
  const file = image.open();
  if (typeof file === 'number') return fail(file);
  // the interpreter open_exec opened (bprm->interpreter): its segments are mapped from it
  let dyn: DynLoad | null = null;
  if (elf.interp !== null || elf.type !== ET_EXEC) {
    const ii = interpImage as ExecImage | null;
    const ifile = elf.interp !== null && ii !== null ? ii.open() : null;
    if (typeof ifile === 'number') {
      file.put();
      return fail(ifile);
    }
    dyn = { type: elf.type, interp: ifile !== null ? { bytes: elf.interp!.bytes, from: { file: ifile, task } } : null };
  }
  // the point of no return
  const old = p.space.ranges();
  p.mm.unmapAll();
  // rseq_execve, membarrier_exec_mmap: the registrations go with the old image
  rseqExec(t);
  membarrierExec(p.mm);
  // comm: kbasename(bprm->filename), the name as given (3.14 setup_new_exec set_task_comm, v6.12
  // begin_new_exec __set_task_comm, both before the segments are mapped): "exe" for an exec of
  // /proc/self/exe, not the target's name
  const given = pathNameText(name);
  p.proc.execComm(given.slice(given.lastIndexOf('/') + 1));
  let loaded: ReturnType<typeof loadExecImage>;
  try {
    // AT_EXECFN: bprm->filename, the name as given (create_elf_tables' bprm->exec)
    loaded = loadExecImage(p.mm, elf, args, envp, p.prng.fork(0x45584543 + (++p.execs)), { file, task }, rules, path, dyn, execAuxOptions(host.execAuxv ?? '3.14', p.proc));
  } catch (e) {
    if (!(e instanceof ExecLateError)) throw e;
    execFailedLate(p, file, old, fail, e.sig314);
    return e.errno;
  }
  // mm->exe_file (set_mm_exe_file): this reference, the old one's goes; /proc/<pid>/exe
  // follows it (its f_path: the name found, links resolved; under tmpfs or devtmpfs its
  // dentry, so the link follows a rename and shows " (deleted)" after an unlink)
  p.proc.setExeFile(file);
  for (const [s0, e0] of old) p.space.changed(s0, e0);
  for (const [s0, e0] of p.space.ranges()) p.space.changed(s0, e0);
  p.brkStart = p.brk = loaded.brk;
  p.mm.startBrk = p.mm.brk = loaded.brk;
  p.exeBytes = bytes;
  // the old image's denial ends with its mappings; the new one's is kept while it runs
  if (deny) {
    p.exeNode?.allowWrite();
    p.exeNode = image.node;
    // 3.14: load_elf_interp maps the interpreter MAP_DENYWRITE, so its mappings keep a denial
    // while the process runs (load_elf_binary's allow_write_access(interpreter) drops the open's)
    p.interpNode?.allowWrite();
    p.interpNode = (interpImage as ExecImage | null)?.node ?? null;
  }
  p.proc.closeOnExec();
  // install_exec_creds: the capability sets after an exec (Process.execCaps)
  p.proc.execCaps();
  // SUID_DUMP_USER: the euid is the uid (3.14 setup_new_exec, v6.12 begin_new_exec)
  p.proc.dumpable = true;
  p.clearTid.delete(t);
  p.signals.flushHandlers();
  p.signals.resetAltstack(t);
  t.restartAt(loaded.img.entry, loaded.sp);
  return 0;
}

/**
 * wait4 / waitid (kernel/exit.c do_wait): a child matching `pid` (-1 or a process group:
 * any child; > 0: that child) that has ended is reaped (unless WNOWAIT) and its status
 * written: wait4's int status (exit code << 8, or the signal number), waitid's siginfo
 * (SIGCHLD, CLD_EXITED/CLD_KILLED, pid, uid, status). No matching child: -ECHILD;
 * WNOHANG with none ended: 0 (waitid: a zeroed siginfo). Otherwise the thread sleeps until
 * a child ends and the call is presented again. Resource usage is reported as zero.
 */
export function sysWait(p: LinuxAbi, t: UnicornThread, pid: number, statusPtr: number, options: number, rusage: number, infop: number | null): SyscallResult {
  p.waiting.delete(t);
  const match = (c: LinuxAbi): boolean => pid <= 0 || c.proc.pid === pid;
  if (!p.children.some(match)) return -ECHILD;
  const z = p.children.find((c) => match(c) && c.exit !== null);
  if (z === undefined) {
    if ((options & WNOHANG) !== 0) {
      if (infop !== null && infop !== 0 && p.mm.copyToUser(infop, new Uint8Array(128), 0, 128) !== 0) return -EFAULT;
      return 0;
    }
    p.waiting.add(t);
    p.cpu.block(t);
    return BLOCK;
  }
  const x = z.exit!;
  const signo = x.code === null ? (x.status - 128) & 0x7f : 0;
  if (infop === null) {
    if (statusPtr !== 0 && p.mm.putUser32(statusPtr, x.code !== null ? (x.code & 0xff) << 8 : signo) < 0) return -EFAULT;
  } else if (infop !== 0) {
    const b = new Uint8Array(128);
    const dv = new DataView(b.buffer);
    dv.setInt32(0, SIGCHLD, true);
    dv.setInt32(8, x.code !== null ? CLD_EXITED : CLD_KILLED, true);
    dv.setInt32(12, z.proc.pid, true);
    dv.setInt32(16, z.proc.uid, true);
    dv.setInt32(20, x.code !== null ? x.code & 0xff : signo, true);
    if (p.mm.copyToUser(infop, b, 0, b.length) !== 0) return -EFAULT;
  }
  if (rusage !== 0 && p.mm.copyToUser(rusage, new Uint8Array(72), 0, 72) !== 0) return -EFAULT;
  if ((options & WNOWAIT) === 0 || infop === null) {
    p.children.splice(p.children.indexOf(z), 1);
    releaseTask(z);
  }
  // wait4 returns the pid; waitid returns 0 (kernel/exit.c kernel_waitid)
  return infop === null ? z.proc.pid : 0;
}

/** waitid(idtype, id, infop, options, rusage): P_ALL, P_PID, P_PGID (any child, one group by choice); WEXITED required */
export function sysWaitid(p: LinuxAbi, t: UnicornThread, a: Uint32Array): SyscallResult {
  const idtype = a[0]!;
  const opts = a[3]! | 0;
  if ((opts & WEXITED) === 0) return -EINVAL;
  const pid = idtype === P_ALL ? -1 : idtype === P_PID ? a[1]! | 0 : idtype === P_PGID ? -1 : null;
  if (pid === null || (idtype === P_PID && pid <= 0)) return -EINVAL;
  return sysWait(p, t, pid, 0, opts, a[4]!, a[2]!);
}

/**
 * release_task (kernel/exit.c) of a zombie: its /proc/<pid> goes and __exit_signal frees its
 * queued signals (flush_sigqueue), uncharging its user
 */
function releaseTask(z: LinuxAbi): void {
  z.layer.zombies.delete(z.proc.pid);
  z.signals.flushAll();
}

/** sa_flags' SA_NOCLDWAIT (arch/arm/include/uapi/asm/signal.h) */
const SA_NOCLDWAIT = 2;

/**
 * the child `c` of `p` ended (kernel/signal.c do_notify_parent, kernel/exit.c exit_notify): SIGCHLD
 * pending, waiters re-present their wait. Autoreap (3.14 and v6.12 alike, do_notify_parent read in
 * a 3.x copy and in a recent mainline one): when `p`'s SIGCHLD action is SIG_IGN or carries
 * SA_NOCLDWAIT, do_notify_parent returns autoreap, exit_notify makes the child EXIT_DEAD and
 * release_task reaps it at once: no zombie, no /proc/<pid>, its queued signals freed. SIG_IGN
 * also sends no SIGCHLD (sig = 0); SA_NOCLDWAIT with a handler still sends it. The parent's
 * waiters are woken either way (__wake_up_parent) and find one child fewer: with none left
 * do_wait answers -ECHILD (kernel/exit.c: notask_error starts as -ECHILD at each scan and only
 * an eligible child clears it; 3.14 do_wait's repeat loop, v6.12 __do_wait under do_wait's loop;
 * read in 3.14.4 and 6.12.19, docs/KERNEL.md "Kernel trees read").
 */
function childEnded(p: LinuxAbi, c: LinuxAbi): void {
  const act = p.signals.actions[SIGCHLD]!;
  const ignored = act.handler === SIG_IGN;
  if (ignored || (act.flags & SA_NOCLDWAIT) !== 0) {
    const i = p.children.indexOf(c);
    if (i >= 0) p.children.splice(i, 1);
    c.parent = null;
    releaseTask(c);
  }
  // the waiters first: do_wait, woken, scans its children again before it looks at
  // signal_pending, so it reaps the zombie (or finds none left: -ECHILD) although the SIGCHLD's
  // handler is about to run (the handler runs after the call returns)
  for (const w of [...p.waiting]) {
    p.waiting.delete(w);
    if (w.state !== 'exited') p.cpu.wake(w);
  }
  if (!ignored) p.signals.post(SIGCHLD);
}

/** CLONE_CHILD_CLEARTID / set_tid_address at a thread's exit (mm_release): *ctid = 0 and a futex wake (pthread_join) */
export function clearChildTid(p: LinuxAbi, t: UnicornThread): void {
  const ctid = p.clearTid.get(t);
  if (ctid === undefined) return;
  p.clearTid.delete(t);
  if (p.mm.putUser32(ctid, 0) === 0) p.futex.wake(ctid, 1);
}

/**
 * load_elf_binary failed after the point of no return (load.ts ExecLateError: a segment elf_map
 * cannot map, a segment beyond TASK_SIZE or with p_filesz > p_memsz, padzero's fault, a bad
 * entry point, the stack): the old image is gone, so the process cannot go back to it and dies
 * by a signal (capability `execMapFailure`). 3.14 (fs/binfmt_elf.c, verified in a 3.x copy):
 * load_elf_binary's own signal at the failure (`sig314`: send_sig(SIGKILL) for most,
 * send_sig(SIGSEGV) after padzero, force_sig(SIGSEGV) for the entry point), then
 * search_binary_handler's force_sigsegv(SIGSEGV) ("we got to flush_old_exec() and failed after
 * it"); a SIGKILL's complete_signal already set SIGNAL_GROUP_EXIT with group_exit_code SIGKILL,
 * so although the synchronous SIGSEGV is dequeued first, do_group_exit keeps SIGKILL as the
 * exit code (kernel/signal.c and kernel/exit.c read in 3.14.4: next_signal takes a
 * SYNCHRONOUS_MASK signal, SIGSEGV among them, before the others of the thread's own pending
 * set, and do_group_exit uses group_exit_code once SIGNAL_GROUP_EXIT is set): the
 * parent's wait sees signal 9, or 11 where only SIGSEGVs were sent. v6.12: no signal from
 * load_elf_binary; bprm_execve's force_fatal_sig(SIGSEGV) "if past the point of no return"
 * (fs/exec.c, verified): signal 11 (no core file: the model has none). The image's file
 * reference and write denial go (free_bprm); the mirror drops the old image's ranges.
 */
function execFailedLate(p: LinuxAbi, file: File, old: readonly (readonly [number, number])[], release: (e: number) => number, sig314: number): void {
  for (const [s0, e0] of old) p.space.changed(s0, e0);
  for (const [s0, e0] of p.space.ranges()) p.space.changed(s0, e0);
  file.put();
  release(0);
  p.signals.terminate((p.layer.host.execMapFailure ?? 'sigkill') === 'sigkill' ? sig314 : SIGSEGV);
}

/**
 * A thread of `p` has ended (its onExit). The process ends with it when it called exit_group,
 * died of a fault or a host error, was ended by a signal (groupExit), or was the last one:
 * the other threads are ended, the exit is reported (`p.exit`, `layer.exits`, a kernel log
 * line for faults), the teardown hooks run, the files close and the memory goes
 * (proc.teardown), the interval timer stops; the process stays a zombie (layer.zombies: its
 * /proc/<pid>) until its parent reaps it; kernel/exit.c exit_notify: the children go to init
 * (reaped by it: their zombies go), the parent is notified.
 */
export function threadExited(p: LinuxAbi, t: UnicornThread): void {
  p.layer.taskOf(p.proc, t).finish();
  p.futex.unqueue(t);
  p.sleeps.cancel(t);
  p.signals.threadGone(t);
  if (p.exit !== null) return;
  const x = t.exitInfo!;
  const ends = p.groupExit || x.fault !== null || x.hostError !== null || p.threads.every((th) => th.state === 'exited');
  if (!ends) return;
  for (const th of p.threads) {
    if (th === t || th.state === 'exited') continue;
    th.exit(x.status);
    p.layer.taskOf(p.proc, th).finish();
    p.futex.unqueue(th);
    p.cpu.exitThread(th);
  }
  // every thread left by exit(2) (no group exit, no fault), the leader before `t`: 3.14 has no
  // SIGNAL_GROUP_EXIT then and wait_task_zombie reports the leader's own exit_code; v6.12's
  // do_exit sets the flag at the last thread's exit, by exit(2) too, with group_exit_code that
  // thread's code (synchronize_group_exit, d80f7d7b2c75 "signal: Guarantee that
  // SIGNAL_GROUP_EXIT is set on process exit", v6.1; kernel/exit.c read in 3.14.4 and 6.12.19;
  // capability `groupExitOnLastThread`)
  const leader = p.threads[0]!;
  const lastThread = p.layer.host.groupExitOnLastThread ?? false;
  const by = !p.groupExit && !lastThread && leader !== t && leader.exitInfo !== null && x.fault === null && x.hostError === null ? leader : t;
  const xs = by.exitInfo!;
  const report = by.describeExit();
  if (x.fault !== null || x.hostError !== null) p.log?.info('', `${p.proc.name}[${p.proc.pid}]: ${report}`);
  p.exit = { status: xs.status, code: xs.code, report, thread: t };
  // do_group_exit / get_signal's fatal path set SIGNAL_GROUP_EXIT for a fault too, and v6.12 at
  // every process exit (above): prepare_signal reads it (capability `signalsAfterGroupExit`)
  if (x.fault !== null || x.hostError !== null || lastThread) p.groupExit = true;
  p.proc.exitCode = xs.status;
  p.layer.exits.push({
    pid: p.proc.pid,
    name: p.proc.name,
    status: xs.status,
    code: xs.code,
    trap: x.fault ? new GuestTrap(x.fault.signal === 'SIGBUS' ? 'SIGBUS' : x.fault.signal === 'SIGILL' ? 'SIGILL' : 'SIGSEGV', x.fault.address, x.fault.reason) : null,
    hostError: x.hostError,
  });
  p.onBeforeTeardown?.(p.exit);
  p.tree[0]!.onTreeTeardown?.(p);
  // exit_mmap: the image's VM_DENYWRITE mappings go, and their denial of writing
  p.exeNode?.allowWrite();
  p.exeNode = null;
  p.interpNode?.allowWrite();
  p.interpNode = null;
  p.proc.setExeFile(null);
  p.proc.teardown();
  p.layer.processes.delete(p.proc.pid);
  // EXIT_ZOMBIE until the parent reaps it (its /proc/<pid> stays, its queued signals too); an
  // orphan init reaps at once (release_task: __exit_signal frees the queued signals)
  if (p.parent !== null) p.layer.zombies.set(p.proc.pid, p.proc);
  else p.signals.flushAll();
  p.waiting.clear();
  p.itimer.cancel();
  // kernel/exit.c exit_notify: the children go to init (reaped by it: no zombie is kept),
  // the parent is notified
  for (const c of p.children) {
    c.parent = null;
    if (c.exit !== null) releaseTask(c);
  }
  p.children.length = 0;
  if (p.parent !== null) childEnded(p.parent, p);
  if (p.forked) t.engine.release(p.proc);
  p.onProcessExit?.(p.exit);
}
