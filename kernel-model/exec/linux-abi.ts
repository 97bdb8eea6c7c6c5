import type { Cpu } from '../../emulator/cpu/cpu.js';
import { GuestExit, GuestTrap } from '../../emulator/cpu/stub.js';
import { UC_ARM_REG_C13_C0_3 } from '../../emulator/cpu/unicorn/native.js';
import { BLOCK, type GuestFault, type UnicornThread, type SyscallBridge, type SyscallResult } from '../../emulator/cpu/unicorn/thread.js';
import type { Prng } from '../../emulator/prng.js';
import type { Tracer } from '../../emulator/trace.js';
import type { PhysicalBus } from '../../emulator/bus.js';
import { EINTR, EINVAL, ENOSYS } from '../base/errno.js';
import type { KernelLog } from '../base/klog.js';
import type { Process } from '../process/process.js';
import type { SyscallLayer } from '../syscall/syscalls.js';
import type { ThreadTask } from '../syscall/task.js';
import { sysFstat } from '../syscall/stat.js';
import { NR as UNR } from '../uapi/constants.js';
import { ERESTARTSYS } from '../vfs/file.js';
import { ARM_NR, ENOSYS_EXPECTED, ROUTED } from './arm-nr.js';
import { sysChdir, sysGetcwd, sysLlseek, sysMkdirUnlink, sysOpen, sysPpoll, sysPselect6, sysReadlink, sysStat, sysWritev } from './fs-calls.js';
import { sysAccess } from './access.js';
import { sysChmod, sysLink, sysRename, sysSymlink, sysTruncate, sysUmask } from './fs-ops.js';
import { sysFallocate } from './fallocate.js';
import { FutexTable } from './futex.js';
import { userFault } from './user-fault.js';
import { clearChildTid, sysClone, sysExecve, sysFork, sysWait, sysWaitid, threadExited } from './lifecycle.js';
import { ERESTARTNOHAND, SIGALRM, SIGCHLD, SignalState } from './signal.js';
import { restoreSavedSigmask, signalEndedCall } from './signal-usermask.js';
import { ERESTART_RESTARTBLOCK } from './signal-restart.js';
import { sysNanosleepCall, sysPollCall, sysRestartSyscall, sysSelectCall } from './sleep-calls.js';
import { sysSigaction, sysSigprocmask } from './signal-calls.js';
import { sysKillCall } from './kill.js';
import { sysSigpending, sysSigtimedwait } from './signal-wait.js';
import { sysCapget, sysCapset } from './capability.js';
import { sysGetresid, sysPrctl, sysPrlimit64, sysSetrlimit, sysSetuid, sysUgetrlimit, sysUname } from './sys.js';
import type { ProcessGuestSpace } from './space.js';
import type { TmpfsFile } from '../vfs/tmpfs.js';
import { sysGetrandom } from '../char/random.js';
import { sysCacheflush, sysMsync } from '../process/filemap.js';
import type { ExecFsFile } from './image-file.js';
import type { File } from '../vfs/file.js';
import { ClockSleeps, clockEpochOffset, RealTimer, sysClockGetres, sysClockGettime } from './time.js';
import { serveSched } from './sched-calls.js';
import { sysBrk, sysMmCall } from './mm-calls.js';
import { absentSyscalls, TABLE_3_14 } from './syscall-era.js';

/**
 * The Linux ARM EABI syscall entry of a process on the Unicorn backend (LinuxAbi, below): the
 * class that adopts its threads, the dispatch of the ARM numbers, the glue to the kernel
 * model's SyscallLayer and the small calls served in place (set_tls, set_tid_address, the ids,
 * getrandom). The rest
 * is in modules of its own, each after its part of Linux:
 *   arm-nr.ts        the ARM syscall numbers (arch/arm/tools/syscall.tbl)
 *   syscall-era.ts   which kernel first has each number (3.14 or later)
 *   sched-calls.ts   sched_getaffinity, getcpu, membarrier; rseq.ts, clone3.ts
 *   mm-calls.ts      mmap2, munmap, mprotect, madvise (the CPU mirror's updates), brk
 *                    (mm/mmap.c, mm/mprotect.c, mm/madvise.c)
 *   fs-calls.ts      file calls decoded before the layer (fs/open.c, fs/namei.c, fs/stat.c,
 *                    fs/read_write.c, fs/select.c)
 *   fs-ops.ts        rename, link, symlink, the chmod and truncate families, umask (fs/namei.c,
 *                    fs/open.c, kernel/sys.c)
 *   sys.ts           uname, the rlimit calls, setuid, getresuid, prctl (kernel/sys.c)
 *   capability.ts    capget, capset (kernel/capability.c, security/commoncap.c)
 *   lifecycle.ts     clone, fork, execve, exit, wait (kernel/fork.c, fs/exec.c, kernel/exit.c)
 *   signal.ts        signal state, posting, delivery, sigaction/sigprocmask/sigsuspend, kill
 *                    (kernel/signal.c)
 *   signal-frame.ts  the ARM signal frame and sigreturn (arch/arm/kernel/signal.c)
 *   user-fault.ts    a CPU fault as the signal the fault handlers force (arch/arm/mm/fault.c)
 *   futex.ts         FUTEX_WAIT/WAKE (kernel/futex)
 *   time.ts          clock ids, clock_gettime/getres, clock_nanosleep, ITIMER_REAL (kernel/time)
 */

export { ARM_NR } from './arm-nr.js';
export { clockEpochOffset, REALTIME_EPOCH_NS } from './time.js';

const SIGNO: Record<GuestTrap['signal'], number> = { SIGILL: 4, SIGABRT: 6, SIGBUS: 7, SIGKILL: 9, SIGSEGV: 11 };

export interface LinuxAbiOptions {
  layer: SyscallLayer;
  proc: Process;
  space: ProcessGuestSpace;
  cpu: Cpu;
  prng: Prng;
  /** mm->exe_file of a new image (execElf's; the reference goes to Process.setExeFile); absent: the process's is kept (fork's) */
  exeFile?: File | null;
  brk: number;
  log?: KernelLog | null;
  tracer?: Tracer | null;
  /** the board's bus (fork attaches the child's engine to it); without it fork answers -ENOSYS */
  bus?: PhysicalBus | null;
  /** the running image's bytes (execve of /proc/self/exe, busybox's applet re-exec) */
  exeBytes?: Uint8Array | null;
  /** the executables execve() can run */
  execFs?: ExecFs | null;
  /** the parent process (fork; CLONE_PARENT: the caller's parent); null for a process started by the board */
  parent?: LinuxAbi | null;
  /** the process this one was forked from (its tree; an engine of its own), when that is not `parent` */
  forkedFrom?: LinuxAbi | null;
  /** the exec file system's images as files (image-file.ts), shared by the run's processes */
  execImages?: Map<string, ExecFsFile>;
}

/**
 * The file system execve() reads programs from: the bytes of the file at an absolute guest
 * path, or a negative errno (-ENOENT, -EACCES).
 */
export type ExecFs = (path: string) => Uint8Array | number;

/** How the ARM process ended. */
export interface ArmProcessExit {
  status: number;
  code: number | null;
  /** one line: "prog: SIGSEGV (read of unmapped address) at address 0x0 pc 0x10430; exit status 139" */
  report: string;
  thread: UnicornThread;
}

/**
 * The Linux ARM EABI system call entry of one process running on the Unicorn backend
 * (the SyscallBridge for its threads).
 *
 * Everything the kernel model's SyscallLayer implements is routed to `layer.invoke()`:
 * open, close, read, write, lseek, ioctl (VFIO structs read from guest memory by the
 * same sys_* code the stub CPU uses), mmap2 (pgoff in pages), munmap, mprotect, poll,
 * _newselect, nanosleep, readlink, getdents64, eventfd2, pread64/pwrite64. A call that
 * must wait returns -ERESTARTSYS after the layer blocked the thread; this bridge answers
 * BLOCK, and the thread re-presents the same call when it runs again (Linux's restart).
 *
 * What a static glibc program and pthreads need beyond that is implemented on the kernel
 * side, here and in the modules listed above: brk, set_tls, set_tid_address,
 * set_robust_list, uname, getrandom (seeded Prng; -ENOSYS in 3.14, ../char/random.ts), prlimit64/setrlimit/ugetrlimit, capget/capset,
 * setuid(32), getresuid32/getresgid32, readlinkat, openat,
 * writev, clock_gettime(64) (virtual time), clock_nanosleep(64), ppoll, clone (threads:
 * CLONE_VM|CLONE_THREAD; without CLONE_THREAD a process), fork/vfork, execve, wait4/waitid,
 * futex WAIT/WAKE(_BITSET), exit (thread) and exit_group (process), the signal calls and
 * kill/tgkill/tkill (kill.ts), sched_getaffinity, getcpu, membarrier, rseq, clone3
 * (sched-calls.ts). A number the era's kernel lacks answers -ENOSYS first (syscall-era.ts,
 * capability `syscallTable`), not counted. Any other unknown number answers -ENOSYS and
 * is counted in `unknown`.
 */
export class LinuxAbi implements SyscallBridge {
  readonly layer: SyscallLayer;
  readonly proc: Process;
  readonly space: ProcessGuestSpace;
  readonly cpu: Cpu;
  /** unknown syscall numbers -> count (answered -ENOSYS) */
  readonly unknown = new Map<number, number>();
  /** every syscall number -> count */
  readonly counts = new Map<number, number>();
  brkStart: number;
  brk: number;
  threads: UnicornThread[] = [];
  exit: ArmProcessExit | null = null;
  onProcessExit: ((x: ArmProcessExit) => void) | null = null;
  /** called when the process ends, before its files are closed and its memory released */
  onBeforeTeardown: ((x: ArmProcessExit) => void) | null = null;
  /** on the tree's first process: called when any process of the tree ends, before its teardown */
  onTreeTeardown: ((p: LinuxAbi) => void) | null = null;
  /** signal actions, masks, pending signals, delivery (signal.ts) */
  readonly signals: SignalState;
  /** FUTEX_WAIT queues (futex.ts) */
  readonly futex: FutexTable;
  /** threads in clock_nanosleep (time.ts) */
  readonly sleeps: ClockSleeps;
  /** ITIMER_REAL (time.ts) */
  readonly itimer: RealTimer;
  /** CLONE_CHILD_CLEARTID / set_tid_address: the tid word each thread's exit clears (lifecycle.ts clearChildTid) */
  readonly clearTid = new Map<UnicornThread, number>();
  /** the parent (null: started by the board, or reparented to init when the parent ended) */
  parent: LinuxAbi | null;
  /**
   * signal->flags & SIGNAL_UNKILLABLE: the process is the init of its pid namespace (copy_process
   * refuses it CLONE_PARENT). No process of a run is: the board starts programs as children of
   * init (getppid 1); tests set it.
   */
  signalUnkillable = false;
  /** children not yet reaped, in fork order (the zombies have `exit` set) */
  readonly children: LinuxAbi[] = [];
  /** every process of this tree (the board-started one and its descendants), in creation order */
  readonly tree: LinuxAbi[];
  /** threads blocked in wait4/waitid (re-presented when a child changes state) */
  readonly waiting = new Set<UnicornThread>();
  // ---- read and changed by fork, execve and exit (lifecycle.ts) ----
  /** the whole process is ending (exit_group, a fatal signal): the next thread exit ends it */
  groupExit = false;
  /** /proc/<pid>/exe (the process's `exe`) and the running image's bytes (execve of /proc/self/exe, busybox's applet re-exec) */
  get exe(): string {
    return this.proc.exe ?? '';
  }
  exeBytes: Uint8Array | null;
  /**
   * the running image's and ELF interpreter's tmpfs inodes, whose writing this process denies while it runs when
   * the profile's `execDenyWrite` says so (3.14: their VM_DENYWRITE mappings; lifecycle.ts)
   */
  exeNode: TmpfsFile | null = null;
  interpNode: TmpfsFile | null = null;
  /** mm->exe_file, the file the image's segments are mapped from (image-file.ts): Process.exeFile, /proc/<pid>/exe's source too */
  get exeFile(): File | null {
    return this.proc.exeFile;
  }
  /** the executables execve() can run, and those images as files, one set for the processes of a run */
  readonly execFs: ExecFs | null;
  readonly execImages: Map<string, ExecFsFile>;
  /** the board's bus (fork attaches the child's engine to it); null: fork answers -ENOSYS */
  readonly bus: PhysicalBus | null;
  /** getrandom's bytes; forked for each execve (AT_RANDOM) and each forked child */
  readonly prng: Prng;
  readonly log: KernelLog | null;
  /** this process was created by fork(): its engine is its own and closes when it ends */
  readonly forked: boolean;
  /** execve() calls so far (each one's Prng is forked with the count) */
  execs = 0;
  private forks = 0;
  private readonly tracer: Tracer | null;
  /** the numbers the era's kernel lacks (capability `syscallTable`, syscall-era.ts) */
  private readonly absent: ReadonlySet<number>;

  constructor(o: LinuxAbiOptions) {
    this.layer = o.layer;
    this.proc = o.proc;
    this.space = o.space;
    this.cpu = o.cpu;
    this.prng = o.prng;
    if (o.exeFile !== undefined) o.proc.setExeFile(o.exeFile);
    this.brkStart = this.brk = o.brk;
    this.mm.startBrk = this.mm.brk = o.brk;
    this.log = o.log ?? null;
    this.bus = o.bus ?? null;
    this.exeBytes = o.exeBytes ?? null;
    this.execFs = o.execFs ?? null;
    this.execImages = o.execImages ?? o.forkedFrom?.execImages ?? o.parent?.execImages ?? new Map();
    this.tracer = o.tracer ?? null;
    this.absent = absentSyscalls(o.layer.host.syscallTable ?? TABLE_3_14);
    this.parent = o.parent ?? null;
    const from = o.forkedFrom ?? this.parent;
    this.forked = from !== null;
    this.tree = from !== null ? from.tree : [];
    this.tree.push(this);
    this.signals = new SignalState(this, o.layer, o.cpu);
    this.futex = new FutexTable(o.proc.mm, o.cpu);
    this.sleeps = new ClockSleeps(o.proc.mm, o.cpu, this);
    this.itimer = new RealTimer(o.cpu.scheduler, o.proc.mm, `itimer ${o.proc.pid}`, () => this.exit !== null, () => this.signals.post(SIGALRM));
  }

  /** Register a thread of this process (the main thread and clone children). */
  adopt(t: UnicornThread): void {
    this.threads.push(t);
    this.proc.threads.push(t);
    t.onExit = (th) => threadExited(this, th);
  }

  /**
   * The process object of a child forked from this one (lifecycle.ts sysFork): this one's
   * layer, CPU, bus, log, tracer, executables, image and break, a Prng of its own; its parent
   * is `parent` (this one, or with CLONE_PARENT this one's parent).
   */
  forkChild(proc: Process, space: ProcessGuestSpace, parent: LinuxAbi | null): LinuxAbi {
    return new LinuxAbi({
      layer: this.layer, proc, space, cpu: this.cpu, prng: this.prng.fork(0x464f524b + (++this.forks)), brk: this.brk,
      log: this.log, tracer: this.tracer, bus: this.bus, exeBytes: this.exeBytes, execFs: this.execFs, parent, forkedFrom: this,
    });
  }

  get mm() {
    return this.proc.mm;
  }

  /** v6.12's nanosleep / clock_nanosleep reset restart_block (capability `nanosleepRestartReset`, sleep-calls.ts) */
  get nanosleepRestartReset(): boolean { return this.layer.host.nanosleepRestartReset ?? false; }

  /** the kernel layer, with its blocking protocol and faults mapped to the thread */
  kernel(t: UnicornThread, nr: number, args: readonly number[]): SyscallResult {
    let r: number;
    try {
      r = this.layer.invoke(this.proc, t, nr, args);
    } catch (e) {
      if (e instanceof GuestExit) {
        this.groupExit = true;
        t.exit(e.code);
        return 0;
      }
      if (e instanceof GuestTrap) {
        this.log?.info('', `${this.proc.name}[${this.proc.pid}]: ${e.signal} (${e.reason})`);
        t.exitSignal(SIGNO[e.signal]);
        this.groupExit = true;
        return 0;
      }
      throw e;
    }
    if (r === -ERESTARTSYS) return BLOCK;
    return r;
  }

  /**
   * A layer sys_* method called directly, with the same restart protocol as
   * SyscallLayer.invoke (deadline kept across restarts, -ERESTARTSYS -> blocked).
   */
  restartable(t: UnicornThread, fn: (task: ThreadTask) => number): SyscallResult {
    const task = this.layer.taskOf(this.proc, t);
    if (!task.restarting) {
      this.cpu.charge(this.cpu.costs.syscall);
      this.layer.count++;
    } else task.unqueue();
    const r = fn(task);
    if (r === -ERESTARTSYS) {
      task.restarting = true;
      this.cpu.block(t, task.deadline);
      return BLOCK;
    }
    task.finish();
    return r;
  }

  syscall(t: UnicornThread, nr: number, a: Uint32Array): SyscallResult {
    const layer = this.layer;
    const prev = layer.current;
    const prevThread = layer.currentThread;
    layer.current = this.proc;
    layer.currentThread = t;
    let r: SyscallResult;
    const a0 = a[0]!;
    try {
      // an svc re-executed for poll's -ERESTART_RESTARTBLOCK enters restart_syscall (signal-restart.ts)
      r = this.serve(t, this.signals.restart.entry(t, nr), a);
    } finally {
      layer.current = prev;
      layer.currentThread = prevThread;
    }
    // signal delivery at syscall return (arch/arm/kernel/signal.c do_work_pending)
    if (r === BLOCK) return r;
    this.signals.restart.done(t);
    if (t.exitInfo !== null) return r;
    if (r === -ERESTARTNOHAND || r === -ERESTART_RESTARTBLOCK) return signalEndedCall(this.signals, t, a0, r);
    if (!this.signals.anyPending) return r;
    const d = this.signals.deliver(t, r, true);
    // no handler ran: do_signal's restore_saved_sigmask (a pselect6/ppoll that returns -EINTR
    // with the mask still saved, signal-usermask.ts finishPollWait)
    if (d === null && t.exitInfo === null) restoreSavedSigmask(this.signals, t);
    return d ?? r;
  }

  /**
   * A fault whose instruction is known (UnicornThread.pinFault): SIGSEGV (arch/arm/mm/fault.c
   * do_page_fault: SEGV_MAPERR where no VMA holds the address, SEGV_ACCERR where one does but
   * refuses the access; trap_no 14, error_code the FSR) or SIGILL (traps.c do_undefinstr:
   * ILL_ILLOPC at the instruction, trap_no 6) or a device access's SIGBUS (fault.c
   * do_DataAbort -> arm_notify_die: the fsr_info entry's si_code, si_addr the DFAR, trap_no 0,
   * error_code the FSR; fsr.ts) goes to the process's handler when it has one
   * (SignalState.forceFault). False: the default action (the thread dies, as before).
   */
  onFault(t: UnicornThread, f: GuestFault): boolean {
    return userFault(this.signals, this.mm, t, f, this.layer.host.dataAbortReport ?? '3.14', this.log);
  }

  /** signal delivery between quanta (and after a sleeping call completed by its waker) */
  beforeResume(t: UnicornThread): void {
    // the common case without a register read: nothing pending, no interrupted call
    const s = this.signals;
    if (!s.anyPending && (s.interrupted.size === 0 || !s.interrupted.has(t))) return;
    s.resume(t);
  }

  /** a signal ends `t`'s sleep in clock_nanosleep (time.ts): the call's result, null if it is in none */
  signalSleep(t: UnicornThread): number | null { return this.sleeps.signalled(t, this.signals.restart); }

  /** end `t`'s sleep in wait4/waitid, clock_nanosleep or FUTEX_WAIT without completing it (a signal); false if it is in none */
  cancelSleep(t: UnicornThread): boolean {
    if (this.waiting.has(t)) {
      this.waiting.delete(t);
      return true;
    }
    if (this.sleeps.cancel(t)) return true;
    if (this.futex.has(t)) {
      this.futex.unqueue(t);
      return true;
    }
    return false;
  }

  private serve(t: UnicornThread, nr: number, a: Uint32Array): SyscallResult {
    const N = ARM_NR;
    // Cost model: one cpu.costs.syscall per call, as on the stub CPU. The layer charges the
    // calls routed to it (once, not per restart); the calls served here are charged on
    // their first presentation (a restarted futex/clock_nanosleep is not charged again).
    if (!this.futex.has(t) && !this.sleeps.has(t) && !this.waiting.has(t) && !this.signals.isSuspended(t) && !this.layer.taskOf(this.proc, t).restarting) {
      this.counts.set(nr, (this.counts.get(nr) ?? 0) + 1);
      // (a routed number the era lacks, pselect6_time64/ppoll_time64 in 3.14, never reaches the layer)
      if (!ROUTED.has(nr) || this.absent.has(nr)) t.charge(this.cpu.costs.syscall);
    }
    // a number the era's kernel lacks (syscall-era.ts): -ENOSYS, the era's answer, not unknown
    if (this.absent.size !== 0 && this.absent.has(nr)) return -ENOSYS;
    switch (nr) {
      // ---------------- routed to the kernel model's syscall layer ----------------
      case N.read: case N.write: case N.close: case N.ioctl:
      case N.eventfd2: case UNR.lseek: case UNR.getdents64: case UNR.pread64: case UNR.pwrite64: case UNR.eventfd:
        return this.kernel(t, nr, a as unknown as number[]);
      // poll, select, nanosleep, restart_syscall: the layer's waits with signal_pending and the
      // restart_block (sleep-calls.ts, signal-restart.ts)
      case N.poll: return sysPollCall(this, t, a);
      case N._newselect: return sysSelectCall(this, t, nr, a);
      case N.nanosleep: return sysNanosleepCall(this, t, a);
      case N.restart_syscall: return sysRestartSyscall(this, t);
      case N.open:
      case N.openat:
        return sysOpen(this, t, nr, a);
      case N.getcwd:
        return sysGetcwd(this, a);
      case N.chdir:
      case N.fchdir:
        return sysChdir(this, t, nr, a);
      case N.mkdir: case N.mkdirat:
      case N.unlink: case N.unlinkat:
      case N.rmdir:
        return sysMkdirUnlink(this, t, nr, a);
      case N.rename: case N.renameat: case N.renameat2:
        return sysRename(this, t, nr, a);
      case N.link: case N.linkat:
        return sysLink(this, t, nr, a);
      case N.symlink: case N.symlinkat:
        return sysSymlink(this, t, nr, a);
      case N.chmod: case N.fchmod: case N.fchmodat: case N.fchmodat2:
        return sysChmod(this, t, nr, a);
      case N.truncate: case N.ftruncate: case N.truncate64: case N.ftruncate64:
        return sysTruncate(this, t, nr, a);
      case N.umask:
        return sysUmask(this.proc, a[0]!);
      case N.fallocate:
        return sysFallocate(this, t, nr, a);
      case N.access: case N.faccessat: case N.faccessat2:
        return sysAccess(this, t, nr, a);
      case N.readlink:
      case N.readlinkat:
        return sysReadlink(this, t, nr, a);
      case N.mmap2: case N.munmap: case N.mprotect: case N.madvise:
        return sysMmCall(this, t, nr, a);
      case N._llseek:
        return sysLlseek(this, t, a);
      case N.writev:
        return sysWritev(this, t, a);
      case N.pselect6: case N.pselect6_time64:
        return sysPselect6(this, t, a, nr === N.pselect6_time64);
      case N.ppoll: case N.ppoll_time64:
        return sysPpoll(this, t, a, nr === N.ppoll_time64);

      // ---------------- file descriptors (served by the layer; none of them blocks) ----------------
      case N.pipe:
      case N.pipe2:
        return this.layer.sysPipe2(this.layer.taskOf(this.proc, t), a[0]!, nr === N.pipe ? 0 : a[1]! | 0);
      case N.dup:
        return this.layer.sysDup(this.layer.taskOf(this.proc, t), a[0]! | 0);
      case N.dup2:
      case N.dup3:
        return this.layer.sysDup3(this.layer.taskOf(this.proc, t), a[0]! | 0, a[1]! | 0, nr === N.dup2 ? 0 : a[2]! | 0, nr === N.dup2);
      case N.fcntl:
      case N.fcntl64:
        return this.layer.sysFcntl(this.layer.taskOf(this.proc, t), a[0]! | 0, a[1]! | 0, a[2]!);

      case N.stat64:
      case N.lstat64:
      case N.fstatat64:
      case N.statx:
        return sysStat(this, t, nr, a);
      case N.fstat64:
        return sysFstat(this.layer.taskOf(this.proc, t), this.layer.host.vfs, a[0]! | 0, a[1]!);

      // ---------------- process, memory, identity ----------------
      case N.exit: {
        clearChildTid(this, t);
        t.exit(a[0]!);
        return 0;
      }
      case N.exit_group:
        this.groupExit = true;
        t.exit(a[0]!);
        return 0;
      case N.brk:
        return sysBrk(this, a[0]!);
      case N.msync:
        return sysMsync(this.mm.mappings, a[0]!, a[1]!, a[2]! | 0);
      case N.ARM_set_tls:
        t.engine.setReg(UC_ARM_REG_C13_C0_3, a[0]!);
        return 0;
      case N.set_tid_address:
        if (a[0] !== 0) this.clearTid.set(t, a[0]!);
        else this.clearTid.delete(t);
        return t.tid;
      case N.gettid:
        return t.tid;
      case N.getpid:
        return this.proc.pid;
      case N.getppid:
        // sys_getppid: the parent's pid; a process started by the board, or whose parent has
        // ended (reparented, kernel/exit.c forget_original_parent), has init's (1)
        return this.parent?.proc.pid ?? 1;
      case N.fork:
      case N.vfork:
        return sysFork(this, t, SIGCHLD, a);
      case N.execve:
        return sysExecve(this, t, a);
      case N.wait4:
        return sysWait(this, t, a[0]! | 0, a[1]!, a[2]! | 0, a[3]!, null);
      case N.waitid:
        return sysWaitid(this, t, a);
      case N.prctl:
        return sysPrctl(this.proc, t.tid, a);
      case N.sendfile64:
        // Choice: no file here has splice_read (Linux: do_splice_direct fails -EINVAL for such
        // files); callers (busybox cat, coreutils) fall back to read/write
        return -EINVAL;
      case N.getuid32: case N.geteuid32:
        return this.proc.uid;
      case N.getuid: case N.geteuid:
        // kernel/uid16.c high2lowuid: a uid that needs more than 16 bits is overflowuid (65534)
        return this.proc.uid > 0xffff ? 65534 : this.proc.uid;
      case N.getgid: case N.getegid: case N.getgid32: case N.getegid32:
        return 0;
      case N.getresuid32:
      case N.getresgid32:
        return sysGetresid(this, nr === N.getresuid32 ? this.proc.uid : 0, a);
      case N.setuid32:
        return sysSetuid(this, a[0]!);
      case N.setuid:
        // setuid16: low2highuid, (old_uid_t)-1 is -1
        return sysSetuid(this, (a[0]! & 0xffff) === 0xffff ? 0xffffffff : a[0]! & 0xffff);
      case N.capget:
        return sysCapget(this, t, a);
      case N.capset:
        return sysCapset(this, t, a);
      case N.rt_sigaction:
        return sysSigaction(this.signals, this.mm, a[0]! | 0, a[1]!, a[2]!, a[3]!);
      case N.rt_sigprocmask:
        return sysSigprocmask(this.signals, this.mm, t, a[0]! | 0, a[1]!, a[2]!, a[3]!);
      case N.rt_sigreturn: case N.sigreturn:
        return this.signals.sysSigreturn(t, nr === N.rt_sigreturn);
      case N.rt_sigsuspend: case N.pause:
        return this.signals.sysSigsuspend(t, nr === N.pause ? null : a[0]!, nr === N.pause ? 8 : a[1]!);
      case N.rt_sigtimedwait: case N.rt_sigtimedwait_time64:
        return sysSigtimedwait(this.signals, this.mm, this.cpu, t, a, nr === N.rt_sigtimedwait_time64);
      case N.rt_sigpending:
        return sysSigpending(this.signals, this.mm, t, a[0]!, a[1]!);
      case N.setitimer:
        return this.itimer.sysSetitimer(a[0]! | 0, a[1]!, a[2]!);
      case N.getitimer:
        return this.itimer.sysSetitimer(a[0]! | 0, 0, a[1]!);
      case N.sigaltstack:
        return this.signals.sysSigaltstack(t, a[0]!, a[1]!);
      case N.set_robust_list: case N.sched_yield:
        return 0;
      case N.ARM_cacheflush: // the CPU's translations of the range go (filemap.ts)
        return sysCacheflush(this.mm, a[0]!, a[1]!, a[2]! | 0);
      case N.uname:
        return sysUname(this.proc, a);
      case N.getrandom: // the bytes from this process's Prng (kernel-model/char/random.ts says why)
        return sysGetrandom(this.mm, (b) => this.prng.fill(b), a[0]!, a[1]!, a[2]!);
      case N.prlimit64:
        return sysPrlimit64(this, a);
      case N.setrlimit:
        return sysSetrlimit(this, a);
      case N.ugetrlimit:
        return sysUgetrlimit(this, a);
      case N.kill: case N.tgkill: case N.tkill: case N.rt_sigqueueinfo: case N.rt_tgsigqueueinfo:
        return sysKillCall(this.tree, this, t, nr, a);

      // ---------------- time ----------------
      case N.clock_gettime:
      case N.clock_gettime64:
        return sysClockGettime(this, this.mm, t, a, nr === N.clock_gettime64);
      case N.clock_getres:
        return sysClockGetres(this, this.mm, a);
      case N.clock_nanosleep:
      case N.clock_nanosleep_time64:
        return this.sleeps.sysClockNanosleep(t, nr === N.clock_nanosleep_time64, a);

      // ---------------- threads ----------------
      case N.clone:
        return sysClone(this, t, a);
      case N.clone3: case N.rseq: case N.sched_getaffinity: case N.getcpu: case N.membarrier:
        return serveSched(this, t, nr, a);
      case N.futex:
      case N.futex_time64:
        return this.futex.sysFutex(t, nr === N.futex_time64, a);
    }
    if (!ENOSYS_EXPECTED.has(nr)) this.unknown.set(nr, (this.unknown.get(nr) ?? 0) + 1);
    return -ENOSYS;
  }

  // ------------------------------------------------------------------ implementations

  /** the epoch offset of clock `id` for this process (time.ts clockEpochOffset), null: -EINVAL */
  clockOffset(id: number): number | null {
    return clockEpochOffset(id, this.proc.pid, (tid) => this.threads.some((th) => th.tid === tid && th.state !== 'exited'));
  }

  /** release the native engine of a forked process still running when the run ends (its owner closes the first one) */
  closeEngine(): void {
    if (this.forked) this.threads[0]?.engine.release(this.proc);
  }
}

