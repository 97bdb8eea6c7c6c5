import { UserCounts } from '../process/user-counts.js';
import type { Cpu, GuestThread } from '../../emulator/cpu/cpu.js';
import { GuestExit, GuestTrap, PREEMPT, StubThread, type Block, type GuestProgram } from '../../emulator/cpu/stub.js';
import { EBADF, EINVAL, ENODEV, ENOSYS, ENOTTY, EOVERFLOW, EACCES } from '../base/errno.js';
import type { KernelLog } from '../base/klog.js';
import { KernelOops, oopsReport } from '../base/oops.js';
import { EventfdIda, sysEventfd } from '../eventfd/eventfd.js';
import { MAP_PRIVATE, MAP_SHARED, PROT_EXEC, PROT_READ, PROT_WRITE, TASK_SIZE } from '../process/mm.js';
import { UserMemory } from '../process/user-memory.js';
import type { MemoryHost } from '../process/pages.js';
import { PAGE_MASK, PAGE_SHIFT, PAGE_SIZE } from '../process/pages.js';
import { Process, type ProcessOptions } from '../process/process.js';
import { MAP_ANONYMOUS, MAP_FIXED, MAP_GROWSDOWN, NR, O_CLOEXEC, O_NONBLOCK, type SyscallName } from '../uapi/constants.js';
import type { Sys, SysCall, GuestMain } from '../uapi/sys.js';
import { MADVISE_ADVICE_3_14 } from '../profile.js';
import { ERESTARTSYS, File as FileCls, FMODE_READ, FMODE_WRITE, type File } from '../vfs/file.js';
import type { PathName, Vfs } from '../vfs/vfs.js';
import { nanosleepUntil, sysNanosleep, sysPoll, sysSelect } from './wait.js';
import { sysGetdents64, sysLseek, sysRead, sysReadlink, sysWrite } from './rw.js';
import { sysDup, sysDup3, sysFcntl, sysPipe2 } from './fd-calls.js';
import type { ProcFdAnonOpen, ProcFdinfo } from '../vfs/procfs.js';
import { consoleFops } from './console.js';
import { ThreadTask } from './task.js';

const FIONCLEX = 0x5450;
const FIOCLEX = 0x5451;
const FIONBIO = 0x5421;

export interface SyscallHost {
  readonly cpu: Cpu;
  readonly vfs: Vfs;
  readonly memory: MemoryHost;
  readonly log: KernelLog | null;
  /** select() re-scan of an fd closed while the caller sleeps (profile.caps.selectClosedFd; default 'skip', 3.14) */
  readonly selectClosedFd?: 'skip' | 'ready';
  /** FMODE_LSEEK of anonymous-inode files (profile.caps.anonInodeLseek; default 'never', 3.14) */
  readonly anonInodeLseek?: 'never' | 'with-llseek';
  /** writev's vector checks (profile.caps.iovecImport; default 'rw-copy-check-uvector', 3.14) */
  readonly iovecImport?: 'rw-copy-check-uvector' | 'import-iovec';
  /** CAP_LAST_CAP (profile.caps.capLastCap; default 36, 3.14): root's full capability sets, capset's mask */
  readonly capLastCap?: number;
  /** the cred's ambient set (profile.caps.capAmbient; default false, 3.14) */
  readonly capAmbient?: boolean;
  /** do_prlimit's RLIMIT_CPU soft limit of 0 (profile.caps.rlimitCpuZero; default 'one-second', 3.14) */
  readonly rlimitCpuZero?: 'one-second' | 'zero';
  /** what fork does with a pinned page (profile.caps.forkPinnedPages; default 'copy') */
  readonly forkPinnedPages?: 'cow-shared' | 'copy';
  /** the madvise advice accepted (profile.caps.madviseAdvice; default 3.14's) */
  readonly madviseAdvice?: readonly number[];
  /** sigaltstack's SS_AUTODISARM (profile.caps.sigaltstackAutodisarm; default false, 3.14) */
  readonly sigaltstackAutodisarm?: boolean;
  /** prepare_signal after SIGNAL_GROUP_EXIT (profile.caps.signalsAfterGroupExit; default 'queued', 3.14) */
  readonly signalsAfterGroupExit?: 'queued' | 'dropped';
  /** a user-space SIGKILL's queue entry (profile.caps.sigkillEntry; default 'queued', 3.14) */
  readonly sigkillEntry?: 'queued' | 'none';
  /** copy_process's clone flag checks (profile.caps.cloneFlagChecks; default '3.14') */
  readonly cloneFlagChecks?: '3.14' | '6.12';
  /** SIGNAL_GROUP_EXIT at the last thread's exit (profile.caps.groupExitOnLastThread; default false, 3.14) */
  readonly groupExitOnLastThread?: boolean;
  /** rt_sigqueueinfo's copy of the siginfo (profile.caps.siginfoFromUser; default 'whole', 3.14) */
  readonly siginfoFromUser?: 'whole' | 'checked-tail';
  /** the kernel whose ARM syscall table LinuxAbi serves (profile.caps.syscallTable; default [3, 14]), kernel-model/exec/syscall-era.ts */
  readonly syscallTable?: readonly [number, number];
  /** ftruncate's length type (profile.caps.ftruncateLength; default 'unsigned-long', 3.14) */
  readonly ftruncateLength?: 'unsigned-long' | 'off-t';
  /** where fallocate refuses the modes tmpfs lacks (profile.caps.fallocateModes; default 'vfs-mask', 3.14) */
  readonly fallocateModes?: 'vfs-mask' | 'shmem';
  /** linkat AT_EMPTY_PATH's check (profile.caps.linkatEmptyPath; default 'cap-dac-read-search', 3.14) */
  readonly linkatEmptyPath?: 'cap-dac-read-search' | 'opener-cred-or-cap';
  /** getdents64's buffer check (profile.caps.getdentsAccess; default 'access-ok-first', 3.14) */
  readonly getdentsAccess?: 'access-ok-first' | 'per-record';
  /** MADV_REMOVE's access test (profile.caps.madviseRemoveAccess; default 'vm-write', 3.14) */
  readonly madviseRemoveAccess?: 'vm-write' | 'vm-maywrite';
  /** what an open of /proc/<pid>/fd/N of an anonymous inode does (profile.caps.procFdAnonOpen; default 3.14's), kernel-model/vfs/procfs.ts */
  readonly procFdAnonOpen?: ProcFdAnonOpen;
  /** what /proc/<pid>/fdinfo/N prints (profile.caps.procFdinfo; default 3.14's), kernel-model/vfs/procfs.ts */
  readonly procFdinfo?: ProcFdinfo;
  /** /proc/thread-self exists (profile.caps.procThreadSelf; default false, 3.14), kernel-model/vfs/procfs.ts */
  readonly procThreadSelf?: boolean;
  /** proc_fd_access_allowed's ptrace check (profile.caps.procPtraceAccess; default 'read-realcreds', 3.14), kernel-model/vfs/procfs-access.ts */
  readonly procPtraceAccess?: 'read-realcreds' | 'read-fscreds';
  /** do_DataAbort's "Unhandled fault" report (profile.caps.dataAbortReport; default '3.14'), kernel-model/exec/fsr.ts */
  readonly dataAbortReport?: '3.14' | '6.12';
  /** execve's open of a file that is not regular (profile.caps.execOpenCheck; default 'open-then-isreg', 3.14), kernel-model/exec/open-exec.ts */
  readonly execOpenCheck?: 'open-then-isreg' | 'may-open';
  /** how execve parses a "#!" line (profile.caps.binfmtScript; default 'buf128-truncate', 3.14), kernel-model/exec/binfmt-script.ts */
  readonly binfmtScript?: 'buf128-truncate' | 'buf256-enoexec';
  /** whether a running image denies writing, -ETXTBSY (profile.caps.execDenyWrite; default true, 3.14), kernel-model/exec/lifecycle.ts */
  readonly execDenyWrite?: boolean;
  /** the signal after a late exec failure (profile.caps.execMapFailure; default 'sigkill', 3.14) */
  readonly execMapFailure?: 'sigkill' | 'sigsegv';
  /** the generation of load_elf_binary (profile.caps.execElfLoad; default 'inline', 3.14), kernel-model/exec/elf-exec.ts */
  readonly execElfLoad?: 'inline' | 'elf-load';
  /** the stack VMA's guard page or gap (profile.caps.stackGuard; default 'guard-page', 3.14), kernel-model/process/stack-grow.ts */
  readonly stackGuard?: 'guard-page' | 'guard-gap';
  /** pselect6's time-left write against its mask's restore (profile.caps.pselectTimeLeft; default 'copy-first', 3.14), kernel-model/exec/signal-usermask.ts finishPollWait */
  readonly pselectTimeLeft?: 'copy-first' | 'mask-first';
  /** nanosleep / clock_nanosleep set restart_block.fn = do_no_restart_syscall (profile.caps.nanosleepRestartReset; default false, 3.14), kernel-model/exec/signal-restart.ts */
  readonly nanosleepRestartReset?: boolean;
  /** the initial stack's auxiliary vector (profile.caps.execAuxv; default '3.14'), kernel-model/exec/load.ts auxOptions */
  readonly execAuxv?: '3.14' | '6.12';
  /** the limit of execve's strings (profile.caps.execArgLimit; default 'arg-pages', 3.14), kernel-model/exec/exec-args.ts */
  readonly execArgLimit?: 'arg-pages' | 'stack-limits';
  /** execve with an empty argv (profile.caps.execEmptyArgv; default 'argc-zero', 3.14), kernel-model/exec/exec-args.ts */
  readonly execEmptyArgv?: 'argc-zero' | 'empty-string';
}

/** How a process ended, for reports. */
export interface ProcessExitReport {
  pid: number;
  name: string;
  status: number;
  code: number | null;
  trap: GuestTrap | null;
  hostError: Error | null;
  /** virtual time of the exit (ns) */
  t?: number;
}

/**
 * The syscall layer: process creation, the generator syscall API (Sys) of the stub CPU
 * and the plain `invoke` entry for register-based CPU backends. Both go through the
 * same sys_* methods below; blocking is Linux's restart model: a call that must wait
 * parks the thread on wait queues and returns -ERESTARTSYS, and is executed again
 * from the start when woken (its deadline is kept in the thread's task).
 */
export class SyscallLayer {
  readonly processes = new Map<number, Process>();
  /**
   * exited ARM-ABI processes their parent has not reaped yet (EXIT_ZOMBIE: kernel/exit.c
   * exit_notify keeps the task until wait4's release_task): their /proc/<pid> stays, empty of
   * fds and mappings (exec/lifecycle.ts threadExited adds, sysWait and the parent's exit remove)
   */
  readonly zombies = new Map<number, Process>();
  /** the per-user counters of the run (user_struct / ucounts: queued signals) */
  readonly users = new UserCounts();
  readonly exits: ProcessExitReport[] = [];
  /**
   * the pid space (kernel/pid.c alloc_pid: v6.12 idr_alloc_cyclic from idr_get_cursor, 3.14
   * alloc_pidmap from pid_ns->last_pid): one counter for processes and for the ARM ABI's clone
   * threads (copy_process calls alloc_pid for every task; a thread's tgid is its leader's pid),
   * so a tid never equals a pid; the stub CPU's threads (`spawn`) too. It only grows: a run never reaches pid_max, so the wrap back to
   * RESERVED_PIDS and the skipping of numbers still in use never happen and no number is reused.
   */
  private nextPid = 100;
  private tasks = new Map<GuestThread, ThreadTask>();
  private noThreadTasks = new Map<Process, ThreadTask>();
  /** syscalls executed (statistics) */
  count = 0;
  /** the kernel's *_once messages already printed this boot (pr_warn_once and the like), by site */
  readonly printedOnce = new Set<string>();
  /**
   * Linux's `current`: the process whose syscall (any entry: invoke, the stub CPU's Sys, the
   * ARM ABI's `syscall`) or exit is running, null outside them (interrupt handlers, timers).
   * Code that charges the caller rather than an object's owner reads it (3.14 type1's
   * vfio_lock_acct on current->mm, `type1LockAcct`).
   */
  current: Process | null = null;
  /** the thread of `current` whose call runs, when the entry knows it (invoke, the ARM ABI's `syscall`): /proc/thread-self */
  currentThread: GuestThread | null = null;
  /** fs/eventfd.c eventfd_ida: this kernel's eventfd ids (v6.12 fdinfo "eventfd-id:") */
  readonly eventfdIda = new EventfdIda();

  constructor(readonly host: SyscallHost) {
    // procfs's /proc/<pid> and /proc/self come from this layer's processes and `current`
    host.vfs.bindProcesses(
      // frozen: constant (the fuzzer's snapshot does not record frozen objects)
      Object.freeze({ processes: () => [...this.processes.values(), ...this.zombies.values()], current: () => this.current, currentThread: () => this.currentThread }),
      host.procFdAnonOpen ?? 'anon-inode-fops',
      host.procFdinfo ?? 'pos-flags',
      host.procThreadSelf ?? false,
      host.procPtraceAccess ?? 'read-realcreds',
    );
  }

  get cpu(): Cpu {
    return this.host.cpu;
  }
  /** virtual time for the wait family (wait.ts) */
  private readonly clock = (): number => this.host.cpu.scheduler.now;

  /** alloc_pid: the next number of the pid space (a process's pid or a clone thread's tid) */
  allocPid(): number {
    return this.nextPid++;
  }

  createProcess(opts: ProcessOptions = {}): Process {
    // every option named in one literal of a fixed shape (Process reads each with `??` or `!== undefined`,
    // so an absent option and an undefined one are the same): a spread of the caller's object,
    // whose shape varies, cost more than the rest of the process's creation (docs/PERFORMANCE.md, round 17)
    const h = this.host;
    const o: ProcessOptions = { name: opts.name, uid: opts.uid, capIpcLock: opts.capIpcLock, nofile: opts.nofile, memlock: opts.memlock, capLastCap: h.capLastCap, capAmbient: h.capAmbient, users: this.users, stackGuard: h.stackGuard };
    const p = new Process(this.allocPid(), h.memory, h.cpu, o);
    this.processes.set(p.pid, p);
    if (opts.stdio) {
      const fops = consoleFops(p);
      p.fdInstall(new FileCls(fops, 0, 0, '/dev/console'), false);
      p.fdInstall(new FileCls(fops, 1, 1, '/dev/console'), false);
      p.fdInstall(new FileCls(fops, 2, 1, '/dev/console'), false);
    }
    return p;
  }

  taskOf(proc: Process, thread: GuestThread | null): ThreadTask {
    if (thread === null) {
      let t = this.noThreadTasks.get(proc);
      if (!t) this.noThreadTasks.set(proc, (t = new ThreadTask(proc, null)));
      return t;
    }
    let t = this.tasks.get(thread);
    if (!t) this.tasks.set(thread, (t = new ThreadTask(proc, thread)));
    return t;
  }

  /**
   * Start a guest program as a new thread of `proc` on the stub CPU. Its id is a tid as Linux
   * gives it: the first thread of a process is its leader, whose tid is the pid; a further one
   * takes the next number of the pid space (copy_process -> alloc_pid), as the ARM ABI's clone
   * threads do. The stub CPU has no gettid: the ids show in /proc/<pid>/task, /proc/<tid> and
   * kill/capget's pid lookup (exec/sys.ts findTaskByVpid), not in traces (the trace's tids are
   * its own track numbers, emulator/trace.ts) nor in any regression scenario's output (each
   * runs one thread per process).
   */
  spawn(proc: Process, main: GuestMain, name = proc.name): StubThread {
    const holder: { t: StubThread | null } = { t: null };
    const sys = this.makeSys(proc, () => holder.t);
    const th = new StubThread(proc.threads.length === 0 ? proc.pid : this.allocPid(), name, main(sys));
    holder.t = th;
    proc.threads.push(th);
    th.onExit = (t) => this.threadExited(proc, t);
    this.host.cpu.addThread(th);
    return th;
  }

  /**
   * A thread ended. The process ends when its main thread ends (return from main or exit():
   * exit_group) or when any thread dies of a signal; its other threads are then killed.
   * Another thread returning normally just ends that thread.
   */
  private threadExited(proc: Process, t: StubThread): void {
    const task = this.tasks.get(t);
    task?.finish();
    this.tasks.delete(t);
    const x = t.exit!;
    if (x.trap) {
      this.host.log?.info('', `${proc.name}[${proc.pid}]: ${x.trap.signal} ${x.trap.address !== null ? `at 0x${(x.trap.address >>> 0).toString(16)}` : ''} (${x.trap.reason})`);
    }
    if (x.hostError) this.host.log?.err('', `${proc.name}[${proc.pid}]: model error escaped guest code: ${x.hostError.message}`);
    if (!proc.alive || proc.exitCode !== null) return;
    const ends = t === proc.threads[0] || x.trap !== null || x.hostError !== null || proc.threads.every((th) => th.state === 'exited');
    if (!ends) return;
    proc.exitCode = x.status;
    for (const th of proc.threads) {
      if (th !== t && th.state !== 'exited' && th instanceof StubThread) {
        th.kill(new GuestTrap('SIGKILL', null, `process ${proc.pid} exiting`));
        this.cpu.exitThread(th);
      }
    }
    this.exits.push({ pid: proc.pid, name: proc.name, status: x.status, code: x.code, trap: x.trap, hostError: x.hostError, t: this.cpu.scheduler.now });
    this.exitProcess(proc);
  }

  /** do_exit: release every file and the address space */
  exitProcess(proc: Process): void {
    if (!proc.alive) return;
    // current is the exiting process while its files are released. Linux releases them
    // after exit_mm (do_exit: exit_mm, then exit_files, the last fput deferred to
    // exit_task_work), so current->mm is NULL there and 3.14's vfio_lock_acct returns early;
    // the mm is freed right after, so its locked_vm cannot be seen either way. The model
    // closes the files before the mm is released and lets the exiting mm be uncharged: its
    // counts then balance to zero, which the fuzzer checks (tools/fuzz/harness.ts leak-locked-vm).
    this.guard(proc, () => {
      proc.teardown();
      return 0;
    });
    this.processes.delete(proc.pid);
  }

  /** run kernel code as `proc` (current); a KernelOops is logged and kills the calling process (the model keeps running) */
  private guard(proc: Process, fn: () => number, thread: GuestThread | null = null): number {
    const prev = this.current;
    const prevThread = this.currentThread;
    this.current = proc;
    this.currentThread = thread;
    try {
      return fn();
    } catch (e) {
      return this.oops(proc, e);
    } finally {
      this.current = prev;
      this.currentThread = prevThread;
    }
  }

  private oops(proc: Process, e: unknown): never {
    if (e instanceof KernelOops) {
      this.host.log?.log('alert', '', `${e.message} (process ${proc.name}[${proc.pid}])`);
      // the call chain, when the faulting code knows it (process context: the Oops kills
      // the caller, the machine runs on; arch/arm/kernel/traps.c oops_end -> do_exit)
      if (e.backtrace.length > 0) for (const l of oopsReport(e, 1).slice(1)) this.host.log?.log('alert', '', l);
      throw new GuestTrap('SIGSEGV', null, `killed by kernel Oops: ${e.message}`);
    }
    throw e;
  }

  // ---------------- entries ----------------

  /**
   * Plain syscall entry for register-based backends: `nr` is an ARM EABI number or a
   * name; args are register values. Returns the result, or -ERESTARTSYS after blocking
   * the thread on the CPU (the backend re-issues the same syscall when the thread runs
   * again). Pointers are user addresses.
   */
  invoke(proc: Process, thread: GuestThread | null, nr: number | SyscallName, a: readonly number[]): number {
    const task = this.taskOf(proc, thread);
    if (!task.restarting) {
      this.cpu.charge(this.cpu.costs.syscall);
      this.count++;
    } else task.unqueue();
    let r: number;
    const prev = this.current;
    const prevThread = this.currentThread;
    this.current = proc;
    this.currentThread = thread;
    try {
      r = this.dispatch(task, typeof nr === 'number' ? nr : NR_BY_NAME.get(nr)!, a);
    } catch (e) {
      this.oops(proc, e);
    } finally {
      this.current = prev;
      this.currentThread = prevThread;
    }
    if (r === -ERESTARTSYS && thread !== null) {
      task.restarting = true;
      this.cpu.block(thread, task.deadline);
      return r;
    }
    task.finish();
    return r;
  }

  private dispatch(t: ThreadTask, nr: number, a: readonly number[]): number {
    switch (nr) {
      case NR.exit:
      case NR.exit_group:
        throw new GuestExit(((a[0] ?? 0) | 0));
      case NR.read: return this.sysRead(t, ((a[0] ?? 0) | 0), ((a[1] ?? 0) >>> 0), ((a[2] ?? 0) >>> 0), -1);
      case NR.write: return this.sysWrite(t, ((a[0] ?? 0) | 0), ((a[1] ?? 0) >>> 0), ((a[2] ?? 0) >>> 0), -1);
      case NR.open: {
        const p = t.mm.strndupUser(((a[0] ?? 0) >>> 0), 4096);
        return typeof p === 'number' ? p : this.sysOpen(t, p, ((a[1] ?? 0) | 0), a.length > 2 ? ((a[2] ?? 0) >>> 0) : 0o666);
      }
      case NR.close: return this.sysClose(t, ((a[0] ?? 0) | 0));
      // the fd-table calls, as the ARM ABI serves them (exec/linux-abi.ts): what a raw call of the
      // fuzzer's (tools/fuzz harness) reaches, so a dup'd fd is there as it is on the guest
      case NR.dup: return this.sysDup(t, ((a[0] ?? 0) | 0));
      case NR.dup2:
      case NR.dup3: return this.sysDup3(t, ((a[0] ?? 0) | 0), ((a[1] ?? 0) | 0), nr === NR.dup2 ? 0 : ((a[2] ?? 0) | 0), nr === NR.dup2);
      case NR.fcntl:
      case NR.fcntl64: return this.sysFcntl(t, ((a[0] ?? 0) | 0), ((a[1] ?? 0) | 0), (a[2] ?? 0) >>> 0);
      case NR.lseek: {
        // sys_lseek's off_t is 32 bits here: a position it cannot return (one _llseek set past
        // 2^31 - 1) is -EOVERFLOW, the file moved all the same (fs/read_write.c, 3.14 and v6.12)
        const r = this.sysLseek(t, ((a[0] ?? 0) | 0), ((a[1] ?? 0) | 0), ((a[2] ?? 0) | 0));
        return r > 0x7fffffff ? -EOVERFLOW : r;
      }
      case NR.getpid: return t.proc.pid;
      case NR.ioctl: return this.sysIoctl(t, ((a[0] ?? 0) | 0), ((a[1] ?? 0) >>> 0), ((a[2] ?? 0) >>> 0));
      case NR.readlink: {
        const p = t.mm.strndupUser(((a[0] ?? 0) >>> 0), 4096);
        return typeof p === 'number' ? p : this.sysReadlink(t, p, ((a[1] ?? 0) >>> 0), ((a[2] ?? 0) | 0));
      }
      case NR.munmap: return t.mm.munmap(((a[0] ?? 0) >>> 0), ((a[1] ?? 0) >>> 0));
      case NR.mprotect: return t.mm.mprotect(((a[0] ?? 0) >>> 0), ((a[1] ?? 0) >>> 0), ((a[2] ?? 0) | 0));
      case NR.madvise: return this.sysMadvise(t, ((a[0] ?? 0) >>> 0), ((a[1] ?? 0) >>> 0), ((a[2] ?? 0) | 0));
      case NR._newselect: return this.sysSelect(t, ((a[0] ?? 0) | 0), ((a[1] ?? 0) >>> 0), ((a[2] ?? 0) >>> 0), ((a[3] ?? 0) >>> 0), ((a[4] ?? 0) >>> 0));
      case NR.nanosleep: return this.sysNanosleep(t, ((a[0] ?? 0) >>> 0), ((a[1] ?? 0) >>> 0));
      case NR.poll: return this.sysPoll(t, ((a[0] ?? 0) >>> 0), ((a[1] ?? 0) >>> 0), ((a[2] ?? 0) | 0));
      // EABI passes 64-bit offsets in an even register pair (r4:r5)
      case NR.pread64:
      case NR.pwrite64: {
        // sys_pread64/sys_pwrite64: a negative loff_t is -EINVAL before the fd is looked up
        const lo = (a[4] ?? 0) >>> 0;
        const hi = (a[5] ?? 0) >>> 0;
        if (hi >= 0x80000000) return -EINVAL;
        const count = (a[2] ?? 0) >>> 0;
        // rw_verify_area's (loff_t)(pos + count) < 0, exact: only the top 32 bits can carry
        const ends = hi === 0x7fffffff && lo + count > 0xffffffff;
        const pos = lo + hi * 2 ** 32;
        return nr === NR.pread64
          ? this.sysRead(t, ((a[0] ?? 0) | 0), ((a[1] ?? 0) >>> 0), count, pos, ends)
          : this.sysWrite(t, ((a[0] ?? 0) | 0), ((a[1] ?? 0) >>> 0), count, pos, ends);
      }
      case NR.mmap2: return this.sysMmap(t, ((a[0] ?? 0) >>> 0), ((a[1] ?? 0) >>> 0), ((a[2] ?? 0) | 0), ((a[3] ?? 0) | 0), ((a[4] ?? 0) | 0), ((a[5] ?? 0) >>> 0) * PAGE_SIZE);
      case NR.getdents64: return this.sysGetdents64(t, ((a[0] ?? 0) | 0), ((a[1] ?? 0) >>> 0), ((a[2] ?? 0) >>> 0));
      case NR.eventfd: return sysEventfd(t.proc, this.cpu, ((a[0] ?? 0) >>> 0), 0, this.host.anonInodeLseek, this.eventfdIda);
      case NR.eventfd2: return sysEventfd(t.proc, this.cpu, ((a[0] ?? 0) >>> 0), ((a[1] ?? 0) | 0), this.host.anonInodeLseek, this.eventfdIda);
      default: return -ENOSYS;
    }
  }

  /** The generator API of a process for the stub CPU. */
  makeSys(proc: Process, thread: () => GuestThread | null): Sys {
    const self = this;
    const mem = new UserMemory(proc.mm);
    let task: ThreadTask | null = null;
    const T = (): ThreadTask => (task ??= self.taskOf(proc, thread()));
    function* call(fn: (t: ThreadTask) => number): SysCall {
      yield PREEMPT;
      const t = T();
      self.cpu.charge(self.cpu.costs.syscall);
      self.count++;
      for (;;) {
        const r = self.guard(proc, () => fn(t), t.thread);
        if (r !== -ERESTARTSYS) {
          t.finish();
          return r;
        }
        t.restarting = true;
        const b: Block = { block: true, deadline: t.deadline };
        yield b;
        t.unqueue();
      }
    }
    const path = (t: ThreadTask, p: string | number): string | number => (typeof p === 'string' ? p : t.mm.strndupUser(p, 4096));
    return {
      mem,
      // the stub API's open without a mode creates as open(path, flags, 0666) would
      open: (p, flags, mode = 0o666) => call((t) => {
        const s = path(t, p);
        return typeof s === 'number' ? s : self.sysOpen(t, s, flags, mode);
      }),
      close: (fd) => call((t) => self.sysClose(t, fd)),
      read: (fd, buf, count) => call((t) => self.sysRead(t, fd, buf >>> 0, count >>> 0, -1)),
      write: (fd, buf, count) => call((t) => self.sysWrite(t, fd, buf >>> 0, count >>> 0, -1)),
      pread: (fd, buf, count, off) => call((t) => (off < 0 ? -EINVAL : self.sysRead(t, fd, buf >>> 0, count >>> 0, off))),
      pwrite: (fd, buf, count, off) => call((t) => (off < 0 ? -EINVAL : self.sysWrite(t, fd, buf >>> 0, count >>> 0, off))),
      lseek: (fd, off, whence) => call((t) => self.sysLseek(t, fd, off, whence)),
      ioctl: (fd, req, arg = 0) => call((t) => self.sysIoctl(t, fd, req >>> 0, arg >>> 0)),
      mmap: (addr, len, prot, flags, fd, off) => call((t) => self.sysMmap(t, addr >>> 0, len >>> 0, prot, flags, fd, off)),
      munmap: (addr, len) => call((t) => t.mm.munmap(addr >>> 0, len >>> 0)),
      mprotect: (addr, len, prot) => call((t) => t.mm.mprotect(addr >>> 0, len >>> 0, prot)),
      eventfd: (init, flags) => call((t) => sysEventfd(t.proc, self.cpu, init, flags, self.host.anonInodeLseek, self.eventfdIda)),
      poll: (fds, nfds, timeout) => call((t) => self.sysPoll(t, fds >>> 0, nfds >>> 0, timeout | 0)),
      select: (n, r, w, e, tv) => call((t) => self.sysSelect(t, n | 0, r >>> 0, w >>> 0, e >>> 0, tv >>> 0)),
      nanosleep: (req, rem) => call((t) => self.sysNanosleep(t, req >>> 0, rem >>> 0)),
      readlink: (p, buf, size) => call((t) => {
        const s = path(t, p);
        return typeof s === 'number' ? s : self.sysReadlink(t, s, buf >>> 0, size | 0);
      }),
      getdents64: (fd, dirp, count) => call((t) => self.sysGetdents64(t, fd, dirp >>> 0, count >>> 0)),
      getpid: () => call((t) => t.proc.pid),
      exit: function* (code: number): SysCall<never> {
        yield PREEMPT;
        throw new GuestExit(code);
      },
    };
  }

  // ---------------- implementations ----------------

  /**
   * open(2): `mode` (open's third argument) for a file O_CREAT makes, less the umask; a
   * relative text starts at the process's cwd (path_init)
   */
  sysOpen(t: ThreadTask, path: PathName, flags: number, mode = 0o666): number {
    const f = this.host.vfs.open(t, fromCwd(t, path), flags, mode);
    if (typeof f === 'number') return f;
    f.cred = t.proc.credRef;
    const fd = t.proc.fdInstall(f, (flags & O_CLOEXEC) !== 0);
    if (fd < 0) f.put();
    return fd;
  }

  sysClose(t: ThreadTask, fd: number): number {
    return t.proc.close(fd);
  }

  // pipe2, dup, dup2/dup3, fcntl: fd-calls.ts (fs/pipe.c, fs/file.c, fs/fcntl.c)
  sysPipe2(t: ThreadTask, fdsPtr: number, flags: number): number {
    return sysPipe2(this.host, t, fdsPtr, flags);
  }

  sysDup(t: ThreadTask, fd: number): number {
    return sysDup(t, fd);
  }

  sysDup3(t: ThreadTask, oldfd: number, newfd: number, flags: number, isDup2: boolean): number {
    return sysDup3(t, oldfd, newfd, flags, isDup2);
  }

  sysFcntl(t: ThreadTask, fd: number, cmd: number, arg: number): number {
    return sysFcntl(t, fd, cmd, arg);
  }

  // read, write, pread64, pwrite64, lseek, readlink, getdents64: rw.ts (fs/read_write.c, fs/stat.c, fs/readdir.c)

  /** read(2) (pos -1: at the file position) and pread64 (pos >= 0): rw.ts sysRead (sys_read, sys_pread64, vfs_read) */
  sysRead(t: ThreadTask, fd: number, buf: number, count: number, pos: number, posEndOverflows?: boolean): number {
    return sysRead(t, fd, buf, count, pos, posEndOverflows);
  }

  /** write(2) and pwrite64: rw.ts sysWrite (sys_write, sys_pwrite64, vfs_write) */
  sysWrite(t: ThreadTask, fd: number, buf: number, count: number, pos: number, posEndOverflows?: boolean): number {
    return sysWrite(t, fd, buf, count, pos, posEndOverflows);
  }

  /** lseek(2): rw.ts sysLseek (sys_lseek, vfs_llseek) */
  sysLseek(t: ThreadTask, fd: number, off: number, whence: number): number {
    return sysLseek(t, fd, off, whence);
  }

  sysIoctl(t: ThreadTask, fd: number, cmd: number, arg: number): number {
    const e = t.proc.fdEntry(fd);
    if (e === null) return -EBADF;
    switch (cmd) {
      case FIOCLEX: e.cloexec = true; return 0;
      case FIONCLEX: e.cloexec = false; return 0;
      case FIONBIO: {
        const v = t.mm.getUser32(arg);
        if (v < 0) return v;
        e.file.flags = v !== 0 ? e.file.flags | O_NONBLOCK : e.file.flags & ~O_NONBLOCK;
        return 0;
      }
    }
    const f = e.file;
    if (!f.ops.ioctl) return -ENOTTY;
    return f.ops.ioctl(f, t, cmd, arg);
  }

  /**
   * madvise (mm/madvise.c): advice outside madvise_behavior_valid is -EINVAL before the range
   * is looked at (capability `madviseAdvice`, default 3.14's); the rest is VmaSpace.madvise
   * (MADV_REMOVE's access test: `madviseRemoveAccess`).
   */
  sysMadvise(t: ThreadTask, addr: number, len: number, advice: number): number {
    if (!(this.host.madviseAdvice ?? MADVISE_ADVICE_3_14).includes(advice)) return -EINVAL;
    return t.mm.madvise(addr, len, advice, this.host.madviseRemoveAccess ?? 'vm-write');
  }

  sysMmap(t: ThreadTask, addr: number, len: number, prot: number, flags: number, fd: number, off: number): number {
    if (len === 0) return -EINVAL;
    if ((off & PAGE_MASK) !== 0) return -EINVAL;
    const type = flags & 3;
    if (type !== MAP_SHARED && type !== MAP_PRIVATE) return -EINVAL;
    if ((prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC)) !== 0) return -EINVAL;
    const plen = Math.ceil(len / PAGE_SIZE) * PAGE_SIZE;
    if (plen > TASK_SIZE) return -12;
    const fixed = (flags & MAP_FIXED) !== 0;
    if (fixed && (addr & PAGE_MASK) !== 0) return -EINVAL;
    let f: File | null = null;
    if ((flags & MAP_ANONYMOUS) === 0) {
      f = t.proc.fdget(fd);
      if (f === null) return -EBADF;
      if (!f.ops.mmap) return -ENODEV;
      if ((f.mode & FMODE_READ) === 0) return -EACCES;
      if (type === MAP_SHARED && (prot & PROT_WRITE) !== 0 && (f.mode & FMODE_WRITE) === 0) return -EACCES;
    }
    // MAP_GROWSDOWN (calc_vm_flag_bits: VM_GROWSDOWN) is for private anonymous memory only: a
    // file mapping or a shared anonymous one is -EINVAL (read in 3.14.4 mm/mmap.c
    // do_mmap_pgoff, 6.12.19 do_mmap, after the file's access checks and before the mapping is
    // made); the VMA then grows on faults below it as the [stack] does (stack-grow.ts,
    // capability `stackGuard`)
    const growsDown = (flags & MAP_GROWSDOWN) !== 0;
    if (growsDown && (f !== null || type === MAP_SHARED)) return -EINVAL;
    const v = t.mm.mapRegion(addr, plen, prot, flags, fixed, off / PAGE_SIZE);
    if (typeof v === 'number') return v;
    if (growsDown) v.growsDown = true;
    if (f !== null) {
      const r = f.ops.mmap!(f, t, v);
      if (r < 0) {
        t.mm.munmap(v.start, plen);
        return r;
      }
      const file = f;
      file.get();
      v.ref = { get: () => void file.get(), put: () => file.put() };
      v.file = file;
      // do_mmap: a shared mapping of a file not opened for writing loses VM_SHARED and VM_MAYWRITE
      if ((file.mode & FMODE_WRITE) === 0) v.vmShared = false;
    }
    return v.start;
  }

  /** readlink(2): rw.ts sysReadlink */
  sysReadlink(t: ThreadTask, path: PathName, buf: number, bufsiz: number): number {
    return sysReadlink(t, this.host.vfs, fromCwd(t, path), buf, bufsiz);
  }

  /** getdents64 (fs/readdir.c): rw.ts sysGetdents64, with the capability `getdentsAccess` (default 3.14's 'access-ok-first') */
  sysGetdents64(t: ThreadTask, fd: number, dirp: number, count: number): number {
    return sysGetdents64(t, this.host.getdentsAccess ?? 'access-ok-first', fd, dirp, count);
  }

  // poll, select and nanosleep: wait.ts (fs/select.c, kernel/time/hrtimer.c)

  sysPoll(t: ThreadTask, fds: number, nfds: number, timeoutMs: number, end?: number | null): number {
    return sysPoll(t, this.clock, fds, nfds, timeoutMs, end);
  }

  /** select(2); `timeoutNsArg` as in wait.ts sysSelect (pselect6 from register-based backends) */
  sysSelect(t: ThreadTask, n: number, rp: number, wp: number, ep: number, tvp: number, timeoutNsArg?: number | null): number {
    return sysSelect(t, this.clock, n, rp, wp, ep, tvp, timeoutNsArg, this.host.selectClosedFd ?? 'skip');
  }

  sysNanosleep(t: ThreadTask, req: number, rem: number): number {
    return sysNanosleep(t, this.clock, req, rem);
  }

  /** a sleep until the absolute `end`: a restarted nanosleep (wait.ts nanosleepUntil) */
  sysNanosleepUntil(t: ThreadTask, end: number): number {
    return nanosleepUntil(t, this.clock, end);
  }
}

export { PAGE_SHIFT };
export type { GuestProgram };

/**
 * NR by name, as a Map: `NR[name]` with the names a caller passes in turn is a megamorphic
 * keyed load (about 100 ns on Node 20), a Map lookup a hash probe (about 30 ns)
 */
const NR_BY_NAME: ReadonlyMap<string, number> = new Map(Object.entries(NR));

/** a relative text given by a program starts at its cwd (fs/namei.c path_init: current->fs->pwd) */
function fromCwd(t: ThreadTask, path: PathName): PathName {
  if (typeof path !== 'string' || path.startsWith('/') || t.proc.cwdAt === null) return path;
  return { at: t.proc.cwdAt, name: path };
}
