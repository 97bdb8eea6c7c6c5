import type { Cpu } from '../../emulator/cpu/cpu.js';
import { GuestExit, GuestTrap } from '../../emulator/cpu/stub.js';
import {
  decodeTimespec, encodeRlimit64, encodeTimespec, encodeUtsname, RLIM_INFINITY,
} from '../../emulator/cpu/unicorn/abi.js';
import { UC_ARM_REG_C13_C0_3 } from '../../emulator/cpu/unicorn/native.js';
import { BLOCK, UnicornThread, type SyscallBridge, type SyscallResult } from '../../emulator/cpu/unicorn/thread.js';
import type { Prng } from '../../emulator/prng.js';
import type { Tracer } from '../../emulator/trace.js';
import type { KernelLog } from '../base/klog.js';
import { MAP_PRIVATE, PROT_READ, PROT_WRITE } from '../process/mm.js';
import { PAGE_SIZE } from '../process/pages.js';
import type { Process } from '../process/process.js';
import type { SyscallLayer, ThreadTask } from '../syscall/syscalls.js';
import { AT_SYMLINK_NOFOLLOW, resolveAt, sysFstat, sysStatAt } from '../syscall/stat.js';
import { NR as UNR } from '../uapi/constants.js';
import type { PhysicalBus } from '../../emulator/bus.js';
import { ElfError, parseElf } from '../../emulator/cpu/unicorn/elf.js';
import { UnicornEngine } from '../../emulator/cpu/unicorn/engine.js';
import { DEFAULT_ENVP, loadElfImage } from './load.js';
import { ProcessGuestSpace } from './space.js';
import { ARM_NR, ENOSYS_EXPECTED, ROUTED } from './arm-nr.js';

import { FutexTable } from './futex.js';
import { SIGALRM, SIGCHLD, SignalState, sysKill } from './signal.js';
import { ClockSleeps, clockEpochOffset, RealTimer } from './time.js';

export { ARM_NR } from './arm-nr.js';
export { clockEpochOffset, REALTIME_EPOCH_NS } from './time.js';

const ENOENT = 2, EBADF = 9, EBUSY = 16, EACCES = 13, ENOTDIR = 20, ERANGE = 34;
const EPERM = 1, EFAULT = 14, EINVAL = 22, ENOSYS = 38, ENOMEM = 12;
const ERESTARTSYS = 512;
const AT_FDCWD = -100;
const MAP_ANONYMOUS = 0x20;
const MAP_FIXED = 0x10;
const CLONE_VM = 0x100, CLONE_THREAD = 0x10000, CLONE_SETTLS = 0x80000, CLONE_PARENT_SETTID = 0x100000;
const CLONE_CHILD_CLEARTID = 0x200000, CLONE_CHILD_SETTID = 0x1000000;
const SIGNO: Record<GuestTrap['signal'], number> = { SIGILL: 4, SIGABRT: 6, SIGBUS: 7, SIGKILL: 9, SIGSEGV: 11 };

export interface LinuxAbiOptions {
  layer: SyscallLayer;
  proc: Process;
  space: ProcessGuestSpace;
  cpu: Cpu;
  prng: Prng;
  /** /proc/self/exe */
  exe: string;
  brk: number;
  log?: KernelLog | null;
  tracer?: Tracer | null;
  /** first tid for threads created by clone (the main thread's tid is the pid) */
  firstTid?: number;
  /** the board's bus (fork attaches the child's engine to it); without it fork answers -ENOSYS */
  bus?: PhysicalBus | null;
  /** the running image's bytes (execve of /proc/self/exe, busybox's applet re-exec) */
  exeBytes?: Uint8Array | null;
  /** the executables execve() can run */
  execFs?: ExecFs | null;
  /** the parent process (fork); null for a process started by the board */
  parent?: LinuxAbi | null;
}

/**
 * The file system execve() reads programs from: the bytes of the file at an absolute guest
 * path, or a negative errno (-ENOENT, -EACCES).
 */
export type ExecFs = (path: string) => Uint8Array | number;

/** wait4/waitid option bits (include/uapi/linux/wait.h) */
const WNOHANG = 1, WEXITED = 4, WNOWAIT = 0x01000000;
const P_ALL = 0, P_PID = 1, P_PGID = 2;
const ECHILD = 10, ENOEXEC = 8, E2BIG = 7;
/** siginfo si_code for SIGCHLD (include/uapi/asm-generic/siginfo.h) */
const CLD_EXITED = 1, CLD_KILLED = 2;

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
 * What a static glibc program and pthreads need beyond that is implemented here, on the
 * kernel side: brk, set_tls, set_tid_address, set_robust_list, uname, getrandom (seeded
 * Prng), prlimit64/ugetrlimit, readlinkat, openat, writev, clock_gettime(64) (virtual
 * time), clock_nanosleep(64), ppoll, clone (threads only: CLONE_VM|CLONE_THREAD), futex
 * WAIT/WAKE(_BITSET), exit (thread) and exit_group (process), tgkill/kill (default action
 * only). rseq, pselect6_time64, ppoll_time64, clone3 answer
 * -ENOSYS on purpose (glibc falls back or tolerates it); any other unknown number answers
 * -ENOSYS and is counted in `unknown`.
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
  private readonly prng: Prng;
  private exe: string;
  private readonly log: KernelLog | null;
  private nextTid: number;
  /** the whole process is ending (exit_group, a fatal signal): the next thread exit ends it */
  groupExit = false;
  /** FUTEX_WAIT queues (futex.ts) */
  private readonly futex: FutexTable;
  readonly clearTid = new Map<UnicornThread, number>();
  private scratch8 = new Uint8Array(8);
  private readonly bus: PhysicalBus | null;
  private exeBytes: Uint8Array | null;
  private readonly execFs: ExecFs | null;
  private readonly tracer: Tracer | null;
  /** the parent (null: started by the board, or reparented to init when the parent ended) */
  parent: LinuxAbi | null;
  /** children not yet reaped, in fork order (the zombies have `exit` set) */
  readonly children: LinuxAbi[] = [];
  /** every process of this tree (the board-started one and its descendants), in creation order */
  readonly tree: LinuxAbi[];
  /** threads blocked in wait4/waitid (re-presented when a child changes state) */
  private waiting = new Set<UnicornThread>();
  /** this process was created by fork(): its engine is its own and closes when it ends */
  private readonly forked: boolean;
  private execs = 0;
  private forks = 0;
  /** signal actions, masks, pending signals, delivery (signal.ts) */
  readonly signals: SignalState;
  /** threads in clock_nanosleep (time.ts) */
  private readonly sleeps: ClockSleeps;
  /** ITIMER_REAL (time.ts) */
  private readonly itimer: RealTimer;

  constructor(o: LinuxAbiOptions) {
    this.layer = o.layer;
    this.proc = o.proc;
    this.space = o.space;
    this.cpu = o.cpu;
    this.prng = o.prng;
    this.exe = o.exe;
    this.brkStart = this.brk = o.brk;
    this.log = o.log ?? null;
    this.nextTid = o.firstTid ?? o.proc.pid * 10 + 1;
    this.bus = o.bus ?? null;
    this.exeBytes = o.exeBytes ?? null;
    this.execFs = o.execFs ?? null;
    this.tracer = o.tracer ?? null;
    this.parent = o.parent ?? null;
    this.forked = this.parent !== null;
    this.tree = this.parent !== null ? this.parent.tree : [];
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
    t.onExit = (th) => this.threadExited(th);
  }

  get mm() {
    return this.proc.mm;
  }

  /** the kernel layer, with its blocking protocol and faults mapped to the thread */
  private kernel(t: UnicornThread, nr: number, args: readonly number[]): SyscallResult {
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
  private restartable(t: UnicornThread, fn: (task: ThreadTask) => number): SyscallResult {
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

  private readIn(va: number, b: Uint8Array): boolean {
    return this.mm.copyFromUser(b, 0, va, b.length) === 0;
  }

  private writeOut(va: number, b: Uint8Array): boolean {
    return this.mm.copyToUser(va, b, 0, b.length) === 0;
  }

  syscall(t: UnicornThread, nr: number, a: Uint32Array): SyscallResult {
    const r = this.serve(t, nr, a);
    // signal delivery at syscall return (arch/arm/kernel/signal.c do_work_pending)
    if (r === BLOCK || this.signals.pending === 0 || t.exitInfo !== null) return r;
    const d = this.signals.deliver(t, r, true);
    return d ?? r;
  }

  /** signal delivery between quanta (and after a sleeping call completed by its waker) */
  beforeResume(t: UnicornThread): void {
    // the common case without a register read: nothing pending, no interrupted call
    const s = this.signals;
    if (s.pending === 0 && (s.interrupted.size === 0 || !s.interrupted.has(t))) return;
    s.resume(t);
  }

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
      if (!ROUTED.has(nr)) t.charge(this.cpu.costs.syscall);
    }
    switch (nr) {
      // ---------------- routed to the kernel model's syscall layer ----------------
      case N.read: case N.write: case N.close: case N.ioctl: case N.poll: case N._newselect: case N.nanosleep:
      case N.eventfd2: case UNR.lseek: case UNR.getdents64: case UNR.pread64: case UNR.pwrite64: case UNR.eventfd:
        return this.kernel(t, nr, a as unknown as number[]);
      case N.open:
      case N.openat: {
        // absolute paths go to the layer as they are; a relative one is resolved against the
        // dirfd or the cwd first (fs/namei.c path_init)
        const at = nr === N.openat;
        const pathPtr = at ? a[1]! : a[0]!;
        const flags = at ? a[2]! : a[1]!;
        const p = this.mm.strndupUser(pathPtr, 4096);
        if (typeof p === 'string' && p.length > 0 && !p.startsWith('/')) {
          const abs = resolveAt(this.layer.taskOf(this.proc, t), at ? a[0]! | 0 : AT_FDCWD, p);
          if (typeof abs === 'number') return abs;
          return this.restartable(t, (task) => this.layer.sysOpen(task, abs, flags));
        }
        return this.kernel(t, UNR.open, [pathPtr, flags, at ? a[3]! : a[2]!]);
      }
      case N.getcwd: {
        // sys_getcwd: the length including the NUL, -ERANGE when it does not fit
        const b = new TextEncoder().encode(this.proc.cwd + '\0');
        if (b.length > a[1]!) return -ERANGE;
        return this.writeOut(a[0]!, b) ? b.length : -EFAULT;
      }
      case N.chdir:
      case N.fchdir: {
        let abs: string | number;
        if (nr === N.chdir) {
          const p = this.mm.strndupUser(a[0]!, 4096);
          if (typeof p === 'number') return p;
          abs = p.length === 0 ? -ENOENT : resolveAt(this.layer.taskOf(this.proc, t), AT_FDCWD, p);
        } else {
          const f = this.proc.fdget(a[0]! | 0);
          abs = f === null ? -EBADF : f.path;
        }
        if (typeof abs === 'number') return abs;
        const r = this.layer.host.vfs.walk(abs, true);
        if (typeof r === 'number') return r;
        if (r.node.kind !== 'dir') return -ENOTDIR;
        this.proc.cwd = r.path;
        return 0;
      }
      case N.mkdir:
      case N.mkdirat:
      case N.unlink:
      case N.unlinkat:
      case N.rmdir: {
        // fs/namei.c do_mkdirat / do_unlinkat / do_rmdir over the VFS (only tmpfs takes changes);
        // unlinkat's AT_REMOVEDIR (0x200) makes it rmdir, other flags are -EINVAL
        const at = nr === N.mkdirat || nr === N.unlinkat;
        const p = this.mm.strndupUser(at ? a[1]! : a[0]!, 4096);
        if (typeof p === 'number') return p;
        if (p.length === 0) return -ENOENT;
        const abs = resolveAt(this.layer.taskOf(this.proc, t), at ? a[0]! | 0 : AT_FDCWD, p);
        if (typeof abs === 'number') return abs;
        const vfs = this.layer.host.vfs;
        if (nr === N.mkdir || nr === N.mkdirat) return vfs.mkdir(abs, (at ? a[2]! : a[1]!) & ~0o022);
        if (nr === N.unlinkat && (a[2]! & ~0x200) !== 0) return -EINVAL;
        return vfs.remove(abs, nr === N.rmdir || (nr === N.unlinkat && (a[2]! & 0x200) !== 0));
      }
      case N.access:
      case N.faccessat:
      case N.faccessat2: {
        // root: every existing file passes (fs/open.c do_faccessat with CAP_DAC_OVERRIDE;
        // X_OK on a file without any x bit would fail, and no file here has one but dirs)
        const at = nr !== N.access;
        const p = this.mm.strndupUser(at ? a[1]! : a[0]!, 4096);
        if (typeof p === 'number') return p;
        const abs = resolveAt(this.layer.taskOf(this.proc, t), at ? a[0]! | 0 : AT_FDCWD, p);
        if (typeof abs === 'number') return abs;
        const r = this.layer.host.vfs.walk(abs, true);
        if (typeof r === 'number') return r;
        const mode = at ? a[2]! : a[1]!;
        if ((mode & 1) !== 0 && r.node.kind !== 'dir') return -EACCES;
        return 0;
      }
      case N.readlink:
      case N.readlinkat: {
        const pathPtr = nr === N.readlink ? a[0]! : a[1]!;
        const buf = nr === N.readlink ? a[1]! : a[2]!;
        const size = nr === N.readlink ? a[2]! : a[3]!;
        const p = this.mm.strndupUser(pathPtr, 4096);
        if (typeof p === 'number') return p;
        if (p === '/proc/self/exe') {
          if ((size | 0) <= 0) return -EINVAL;
          const b = new TextEncoder().encode(this.exe).subarray(0, size);
          return this.writeOut(buf, b) ? b.length : -EFAULT;
        }
        if (p.length > 0 && !p.startsWith('/')) {
          const abs = resolveAt(this.layer.taskOf(this.proc, t), nr === N.readlinkat ? a[0]! | 0 : AT_FDCWD, p);
          if (typeof abs === 'number') return abs;
          return this.layer.sysReadlink(this.layer.taskOf(this.proc, t), abs, buf, size);
        }
        return this.kernel(t, UNR.readlink, [pathPtr, buf, size]);
      }
      case N.mmap2: {
        const r = this.kernel(t, nr, a as unknown as number[]);
        if (typeof r === 'number' && r >= 0) this.space.changed(r, r + a[1]!);
        else if ((a[3]! & MAP_FIXED) !== 0) this.space.changed(a[0]!, a[0]! + a[1]!);
        return r;
      }
      case N.munmap:
      case N.mprotect: {
        const r = this.kernel(t, nr, a as unknown as number[]);
        this.space.changed(a[0]!, a[0]! + a[1]!);
        return r;
      }
      case N._llseek: {
        // _llseek(fd, offset_high, offset_low, loff_t *result, whence): the files here are small
        if (a[1] !== 0) return -EINVAL;
        const r = this.kernel(t, UNR.lseek, [a[0]!, a[2]!, a[4]!]);
        if (typeof r !== 'number' || r < 0) return r;
        const b = new Uint8Array(8);
        new DataView(b.buffer).setUint32(0, r, true);
        return this.writeOut(a[3]!, b) ? 0 : -EFAULT;
      }
      case N.writev: {
        const cnt = a[2]!;
        if (cnt > 1024) return -EINVAL;
        const iov = new Uint8Array(cnt * 8);
        if (!this.readIn(a[1]!, iov)) return -EFAULT;
        const dv = new DataView(iov.buffer);
        let total = 0;
        for (let i = 0; i < cnt; i++) {
          const len = dv.getUint32(i * 8 + 4, true);
          if (len === 0) continue;
          const r = this.kernel(t, N.write, [a[0]!, dv.getUint32(i * 8, true), len]);
          if (r === BLOCK) {
            if (total === 0) return BLOCK;
            this.layer.taskOf(this.proc, t).finish();
            this.cpu.wake(t);
            return total;
          }
          if (r < 0) return total > 0 ? total : r;
          total += r;
          if (r < len) break;
        }
        return total;
      }
      case N.pselect6:
      case N.pselect6_time64: {
        if (nr === N.pselect6_time64) break; // -ENOSYS: glibc falls back to pselect6
        // pselect6(n, inp, outp, exp, struct timespec *tsp, sigmask-pack): no signals here, the
        // mask is ignored; the timeout is decoded here and given to the layer's select code
        let ns: number | null = null;
        if (a[4] !== 0) {
          if (!this.readIn(a[4]!, this.scratch8)) return -EFAULT;
          ns = decodeTimespec(this.scratch8, false);
          if (ns === null) return -EINVAL;
        }
        return this.restartable(t, (task) => this.layer.sysSelect(task, a[0]! | 0, a[1]!, a[2]!, a[3]!, 0, ns));
      }
      case N.ppoll:
      case N.ppoll_time64: {
        if (nr === N.ppoll_time64) break; // -ENOSYS: glibc falls back to ppoll
        let ms = -1;
        if (a[2] !== 0) {
          if (!this.readIn(a[2]!, this.scratch8)) return -EFAULT;
          const ns = decodeTimespec(this.scratch8, false);
          if (ns === null) return -EINVAL;
          ms = Math.ceil(ns / 1e6);
        }
        return this.kernel(t, N.poll, [a[0]!, a[1]!, ms]);
      }

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
      case N.statx: {
        const at = nr === N.fstatat64 || nr === N.statx;
        const p = this.mm.strndupUser(at ? a[1]! : a[0]!, 4096);
        if (typeof p === 'number') return p;
        const flags = nr === N.lstat64 ? AT_SYMLINK_NOFOLLOW : at ? a[nr === N.statx ? 2 : 3]! | 0 : 0;
        const buf = nr === N.statx ? a[4]! : at ? a[2]! : a[1]!;
        return sysStatAt(this.layer.taskOf(this.proc, t), this.layer.host.vfs, at ? a[0]! | 0 : AT_FDCWD, p, flags, buf, nr === N.statx ? 'statx' : 'stat64');
      }
      case N.fstat64:
        return sysFstat(this.layer.taskOf(this.proc, t), this.layer.host.vfs, a[0]! | 0, a[1]!);

      // ---------------- process, memory, identity ----------------
      case N.exit: {
        this.clearChildTid(t);
        t.exit(a[0]!);
        return 0;
      }
      case N.exit_group:
        this.groupExit = true;
        t.exit(a[0]!);
        return 0;
      case N.brk:
        return this.sysBrk(a[0]!);
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
        return this.sysFork(t, SIGCHLD, a);
      case N.execve:
        return this.sysExecve(t, a);
      case N.wait4:
        return this.sysWait(t, a[0]! | 0, a[1]!, a[2]! | 0, a[3]!, null);
      case N.waitid: {
        // waitid(idtype, id, infop, options, rusage)
        const idtype = a[0]!;
        const opts = a[3]! | 0;
        if ((opts & WEXITED) === 0) return -EINVAL;
        const pid = idtype === P_ALL ? -1 : idtype === P_PID ? a[1]! | 0 : idtype === P_PGID ? -1 : null;
        if (pid === null || (idtype === P_PID && pid <= 0)) return -EINVAL;
        return this.sysWait(t, pid, 0, opts, a[4]!, a[2]!);
      }
      case N.prctl: {
        // kernel/sys.c: PR_SET_NAME (15) / PR_GET_NAME (16) on the comm (16 bytes); the other
        // options are not modelled: -EINVAL
        if (a[0] === 15) return 0;
        if (a[0] === 16) {
          const b = new Uint8Array(16);
          b.set(new TextEncoder().encode(this.proc.name).subarray(0, 15));
          return this.writeOut(a[1]!, b) ? 0 : -EFAULT;
        }
        return -EINVAL;
      }
      case N.sendfile64:
        // Choice: no file here has splice_read (Linux: do_splice_direct fails -EINVAL for such
        // files); callers (busybox cat, coreutils) fall back to read/write
        return -EINVAL;
      case N.getuid: case N.getgid: case N.geteuid: case N.getegid:
      case N.getuid32: case N.getgid32: case N.geteuid32: case N.getegid32:
        return nr === N.getuid || nr === N.getuid32 || nr === N.geteuid || nr === N.geteuid32 ? this.proc.uid : 0;
      case N.rt_sigaction:
        return this.signals.sysSigaction(a[0]! | 0, a[1]!, a[2]!, a[3]!);
      case N.rt_sigprocmask:
        return this.signals.sysSigprocmask(t, a[0]! | 0, a[1]!, a[2]!, a[3]!);
      case N.rt_sigreturn:
      case N.sigreturn:
        return this.signals.sysSigreturn(t, nr === N.rt_sigreturn);
      case N.rt_sigsuspend:
      case N.pause:
        return this.signals.sysSigsuspend(t, nr === N.pause ? null : a[0]!, nr === N.pause ? 8 : a[1]!);
      case N.setitimer:
        return this.itimer.sysSetitimer(a[0]! | 0, a[1]!, a[2]!);
      case N.getitimer:
        return this.itimer.sysSetitimer(a[0]! | 0, 0, a[1]!);
      case N.madvise: case N.sigaltstack: case N.set_robust_list:
      case N.ARM_cacheflush: case N.sched_yield:
        return 0;
      case N.uname: {
        const u = encodeUtsname({ sysname: 'Linux', nodename: 'vfio-arm-emu', release: '3.17.0-rc1-vfio', version: '#1 SMP PREEMPT', machine: 'armv7l', domainname: '(none)' });
        return this.writeOut(a[0]!, u) ? 0 : -EFAULT;
      }
      case N.getrandom: {
        const n = Math.min(a[1]!, 1 << 20);
        const buf = new Uint8Array(n);
        this.prng.fill(buf);
        return this.writeOut(a[0]!, buf) ? n : -EFAULT;
      }
      case N.prlimit64: {
        if (a[0] !== 0 && a[0] !== this.proc.pid) return -EPERM;
        if (a[2] !== 0) return -EPERM; // setting limits is not supported
        if (a[3] !== 0) {
          const res = a[1]!;
          const lim = res === 3 /* STACK */ ? encodeRlimit64(8n << 20n, RLIM_INFINITY)
            : res === 7 /* NOFILE */ ? encodeRlimit64(BigInt(this.proc.rlimitNofile), BigInt(this.proc.rlimitNofile))
              : res === 8 /* MEMLOCK */ ? encodeRlimit64(BigInt(this.proc.rlimitMemlock), BigInt(this.proc.rlimitMemlock))
                : encodeRlimit64(RLIM_INFINITY, RLIM_INFINITY);
          if (!this.writeOut(a[3]!, lim)) return -EFAULT;
        }
        return 0;
      }
      case N.ugetrlimit: {
        const b = new Uint8Array(8);
        const dv = new DataView(b.buffer);
        const res = a[0]!;
        const v = res === 3 ? 8 << 20 : res === 7 ? this.proc.rlimitNofile : res === 8 ? this.proc.rlimitMemlock : 0xffffffff;
        dv.setUint32(0, v, true);
        dv.setUint32(4, res === 3 ? 0xffffffff : v, true);
        return this.writeOut(a[1]!, b) ? 0 : -EFAULT;
      }
      case N.tgkill:
      case N.kill:
        return sysKill(this.tree, this, a[0]! | 0, nr === N.tgkill ? a[2]! | 0 : a[1]! | 0, nr === N.tgkill);

      // ---------------- time ----------------
      case N.clock_gettime:
      case N.clock_gettime64: {
        const off = this.clockOffset(a[0]! | 0);
        if (off === null) return -EINVAL;
        return this.writeOut(a[1]!, encodeTimespec(t.nowNs() + off, nr === N.clock_gettime64)) ? 0 : -EFAULT;
      }
      case N.clock_getres: {
        if (this.clockOffset(a[0]! | 0) === null) return -EINVAL;
        if (a[1] === 0) return 0;
        return this.writeOut(a[1]!, encodeTimespec(1, false)) ? 0 : -EFAULT;
      }
      case N.clock_nanosleep:
      case N.clock_nanosleep_time64:
        return this.sleeps.sysClockNanosleep(t, nr === N.clock_nanosleep_time64, a);

      // ---------------- threads ----------------
      case N.clone:
        return this.sysClone(t, a);
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

  private sysBrk(addr: number): number {
    if (addr < this.brkStart) return this.brk;
    const oldTop = Math.ceil(this.brk / PAGE_SIZE) * PAGE_SIZE;
    const newTop = Math.ceil(addr / PAGE_SIZE) * PAGE_SIZE;
    if (newTop > oldTop) {
      // the new heap range must be free (Linux: find_vma_intersection)
      for (const v of this.mm.mappings) if (v.start < newTop && v.end > oldTop) return this.brk;
      const r = this.mm.mapRegion(oldTop, newTop - oldTop, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, true);
      if (typeof r === 'number') return this.brk;
      this.space.changed(oldTop, newTop);
    } else if (newTop < oldTop) {
      this.mm.munmap(newTop, oldTop - newTop);
      this.space.changed(newTop, oldTop);
    }
    this.brk = addr;
    return addr;
  }

  private sysClone(t: UnicornThread, a: Uint32Array): SyscallResult {
    const flags = a[0]!;
    // a new process: fork-style clone (glibc's fork: CLONE_CHILD_SETTID|CLONE_CHILD_CLEARTID|SIGCHLD),
    // or CLONE_VM without CLONE_THREAD (posix_spawn's CLONE_VM|CLONE_VFORK) served as a fork
    if ((flags & CLONE_THREAD) === 0) return this.sysFork(t, flags, a);
    if ((flags & CLONE_VM) === 0) return -EINVAL;
    const tid = this.nextTid++;
    const tls = (flags & CLONE_SETTLS) !== 0 ? a[3]! : null;
    const child = UnicornThread.clone(t, tid, `${this.proc.name}:${tid}`, a[1]!, tls);
    const tidBytes = new Uint8Array(4);
    new DataView(tidBytes.buffer).setUint32(0, tid, true);
    if ((flags & CLONE_PARENT_SETTID) !== 0) this.writeOut(a[2]!, tidBytes);
    if ((flags & CLONE_CHILD_SETTID) !== 0) this.writeOut(a[4]!, tidBytes);
    if ((flags & CLONE_CHILD_CLEARTID) !== 0) this.clearTid.set(child, a[4]!);
    this.adopt(child);
    this.cpu.addThread(child);
    return tid;
  }

  /**
   * fork / vfork / clone without CLONE_THREAD (kernel/fork.c kernel_clone -> copy_process): a
   * new process with a copy of the address space (AddressSpace.forkInto: copying, not
   * copy-on-write), the fd table (dup_fd), cwd, credentials and limits, and one thread with
   * the caller's registers and r0 = 0 on its own Unicorn engine. It joins the CPU's run queue
   * like any thread (same timeslice rule, deterministic order). ARM clone arguments are
   * (flags, newsp, parent_tidptr, tls, child_tidptr) (CONFIG_CLONE_BACKWARDS).
   * Choices: vfork is a fork (the parent is not suspended until the child execs or exits;
   * a vfork child that only execs or _exits, as POSIX requires, cannot tell); CLONE_VM
   * without CLONE_THREAD (posix_spawn) is a fork too, with the child on `newsp`; the exit
   * signal is always SIGCHLD.
   */
  private sysFork(t: UnicornThread, flags: number, a: Uint32Array): SyscallResult {
    if (this.bus === null) return -ENOSYS;
    // only the calling thread is copied into the child, as in Linux
    const parentProc = this.proc;
    const proc = this.layer.createProcess({ name: parentProc.name, uid: parentProc.uid, capIpcLock: parentProc.capIpcLock, nofile: parentProc.rlimitNofile, memlock: parentProc.rlimitMemlock });
    proc.cwd = parentProc.cwd;
    if (this.mm.forkInto(proc.mm) < 0) {
      proc.teardown();
      this.layer.processes.delete(proc.pid);
      return -ENOMEM;
    }
    parentProc.copyFdsTo(proc);
    const space = new ProcessGuestSpace(proc.mm);
    const engine = new UnicornEngine(t.engine.arch);
    engine.attach(space, this.bus);
    const child = new LinuxAbi({
      layer: this.layer, proc, space, cpu: this.cpu, prng: this.prng.fork(0x464f524b + (++this.forks)), exe: this.exe, brk: this.brk,
      log: this.log, tracer: this.tracer, bus: this.bus, exeBytes: this.exeBytes, execFs: this.execFs, parent: this,
    });
    child.brkStart = this.brkStart;
    const th = UnicornThread.forkInto(t, engine, child, proc.pid, proc.name);
    // copy_sighand: the actions; the thread's blocked mask; pending signals and timers are not inherited
    this.signals.forkInto(child.signals, t, th);
    const newsp = a[1]!;
    if (newsp !== 0) engine.setReg(engine.arch.spReg, newsp);
    if ((flags & CLONE_SETTLS) !== 0) engine.setReg(UC_ARM_REG_C13_C0_3, a[3]!);
    child.adopt(th);
    // copy_process: *parent_tidptr in the parent, *child_tidptr in the child (its own copy)
    if ((flags & CLONE_PARENT_SETTID) !== 0) this.mm.putUser32(a[2]!, proc.pid);
    if ((flags & CLONE_CHILD_SETTID) !== 0) child.mm.putUser32(a[4]!, proc.pid);
    if ((flags & CLONE_CHILD_CLEARTID) !== 0) child.clearTid.set(th, a[4]!);
    this.children.push(child);
    this.cpu.addThread(th);
    return proc.pid;
  }

  /** read a NULL-terminated array of string pointers (argv/envp), or a negative errno */
  private readStrings(ptr: number): string[] | number {
    const out: string[] = [];
    if (ptr === 0) return out;
    let bytes = 0;
    for (let i = 0; ; i++) {
      // choice: 128 KiB of strings in all (Linux: MAX_ARG_STRLEN per string, a quarter of the stack limit in all)
      if (bytes > 128 * 1024) return -E2BIG;
      const p = this.mm.getUser32(ptr + 4 * i);
      if (p < 0) return -EFAULT;
      if (p === 0) return out;
      const str = this.mm.strndupUser(p >>> 0, 128 * 1024);
      if (typeof str === 'number') return str;
      bytes += str.length + 1;
      out.push(str);
    }
  }

  /**
   * execve (fs/exec.c do_execveat_common, fs/binfmt_elf.c load_elf_binary) of a static ARM
   * ELF: the path is resolved against the cwd and read from `execFs` (/proc/self/exe is the
   * running image); a file that is not an ARM ELF gives -ENOEXEC (the shell then runs it as
   * a script) before anything changes. Past the point of no return: every mapping goes, the
   * new image and stack are loaded, close-on-exec fds close, the program break, comm and
   * /proc/self/exe follow the new file, and the thread restarts at the entry point.
   * Choice: only from a single-threaded process (de_thread's killing of the other threads is
   * not modelled): -EBUSY otherwise.
   */
  private sysExecve(t: UnicornThread, a: Uint32Array): SyscallResult {
    const path = this.mm.strndupUser(a[0]!, 4096);
    if (typeof path === 'number') return path;
    if (path.length === 0) return -ENOENT;
    const argv = this.readStrings(a[1]!);
    if (typeof argv === 'number') return argv;
    const envp = this.readStrings(a[2]!);
    if (typeof envp === 'number') return envp;
    let abs: string;
    let bytes: Uint8Array | number;
    if (path === '/proc/self/exe') {
      abs = this.exe;
      bytes = this.exeBytes ?? -ENOENT;
    } else {
      const r = path.startsWith('/') ? path : resolveAt(this.layer.taskOf(this.proc, t), AT_FDCWD, path);
      if (typeof r === 'number') return r;
      abs = r;
      bytes = this.execFs === null ? -ENOENT : this.execFs(abs);
    }
    if (typeof bytes === 'number') return bytes;
    try {
      parseElf(bytes);
    } catch (e) {
      if (e instanceof ElfError) return -ENOEXEC;
      throw e;
    }
    if (this.threads.some((th) => th !== t && th.state !== 'exited')) return -EBUSY;
    // the point of no return
    const old = this.space.ranges();
    this.mm.unmapAll();
    const loaded = loadElfImage(this.mm, bytes, argv.length > 0 ? argv : [abs], envp.length > 0 || a[2] !== 0 ? envp : DEFAULT_ENVP, this.prng.fork(0x45584543 + (++this.execs)));
    for (const [s0, e0] of old) this.space.changed(s0, e0);
    for (const [s0, e0] of this.space.ranges()) this.space.changed(s0, e0);
    this.brkStart = this.brk = loaded.brk;
    this.exe = abs;
    this.exeBytes = bytes;
    this.proc.name = abs.slice(abs.lastIndexOf('/') + 1).slice(0, 15);
    this.proc.closeOnExec();
    this.clearTid.delete(t);
    this.signals.flushHandlers();
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
  private sysWait(t: UnicornThread, pid: number, statusPtr: number, options: number, rusage: number, infop: number | null): SyscallResult {
    this.waiting.delete(t);
    const match = (c: LinuxAbi): boolean => pid <= 0 || c.proc.pid === pid;
    if (!this.children.some(match)) return -ECHILD;
    const z = this.children.find((c) => match(c) && c.exit !== null);
    if (z === undefined) {
      if ((options & WNOHANG) !== 0) {
        if (infop !== null && infop !== 0 && !this.writeOut(infop, new Uint8Array(128))) return -EFAULT;
        return 0;
      }
      this.waiting.add(t);
      this.cpu.block(t);
      return BLOCK;
    }
    const x = z.exit!;
    const signo = x.code === null ? (x.status - 128) & 0x7f : 0;
    if (infop === null) {
      if (statusPtr !== 0 && this.mm.putUser32(statusPtr, x.code !== null ? (x.code & 0xff) << 8 : signo) < 0) return -EFAULT;
    } else if (infop !== 0) {
      const b = new Uint8Array(128);
      const dv = new DataView(b.buffer);
      dv.setInt32(0, SIGCHLD, true);
      dv.setInt32(8, x.code !== null ? CLD_EXITED : CLD_KILLED, true);
      dv.setInt32(12, z.proc.pid, true);
      dv.setInt32(16, z.proc.uid, true);
      dv.setInt32(20, x.code !== null ? x.code & 0xff : signo, true);
      if (!this.writeOut(infop, b)) return -EFAULT;
    }
    if (rusage !== 0 && !this.writeOut(rusage, new Uint8Array(72))) return -EFAULT;
    if ((options & WNOWAIT) === 0 || infop === null) this.children.splice(this.children.indexOf(z), 1);
    // wait4 returns the pid; waitid returns 0 (kernel/exit.c kernel_waitid)
    return infop === null ? z.proc.pid : 0;
  }

  /** release the native engine of a forked process still running when the run ends (its owner closes the first one) */
  closeEngine(): void {
    if (this.forked) this.threads[0]?.engine.close();
  }

  /** a child ended (do_notify_parent): SIGCHLD pending, waiters re-present their wait */
  private childEnded(): void {
    this.signals.post(SIGCHLD);
    for (const w of [...this.waiting]) {
      this.waiting.delete(w);
      if (w.state !== 'exited') this.cpu.wake(w);
    }
  }

  /** CLONE_CHILD_CLEARTID / set_tid_address: *ctid = 0 and a futex wake (pthread_join) */
  private clearChildTid(t: UnicornThread): void {
    const ctid = this.clearTid.get(t);
    if (ctid === undefined) return;
    this.clearTid.delete(t);
    if (this.mm.putUser32(ctid, 0) === 0) this.futex.wake(ctid, 1);
  }

  private threadExited(t: UnicornThread): void {
    this.layer.taskOf(this.proc, t).finish();
    this.futex.unqueue(t);
    this.sleeps.cancel(t);
    if (this.exit !== null) return;
    const x = t.exitInfo!;
    const ends = this.groupExit || x.fault !== null || x.hostError !== null || this.threads.every((th) => th.state === 'exited');
    if (!ends) return;
    for (const th of this.threads) {
      if (th === t || th.state === 'exited') continue;
      th.exit(x.status);
      this.layer.taskOf(this.proc, th).finish();
      this.futex.unqueue(th);
      this.cpu.exitThread(th);
    }
    const report = t.describeExit();
    if (x.fault !== null || x.hostError !== null) this.log?.info('', `${this.proc.name}[${this.proc.pid}]: ${report}`);
    this.exit = { status: x.status, code: x.code, report, thread: t };
    this.proc.exitCode = x.status;
    this.layer.exits.push({
      pid: this.proc.pid,
      name: this.proc.name,
      status: x.status,
      code: x.code,
      trap: x.fault ? new GuestTrap(x.fault.signal === 'SIGBUS' ? 'SIGBUS' : x.fault.signal === 'SIGILL' ? 'SIGILL' : 'SIGSEGV', x.fault.address, x.fault.reason) : null,
      hostError: x.hostError,
    });
    this.onBeforeTeardown?.(this.exit);
    this.tree[0]!.onTreeTeardown?.(this);
    this.proc.teardown();
    this.layer.processes.delete(this.proc.pid);
    this.waiting.clear();
    this.itimer.cancel();
    // kernel/exit.c exit_notify: the children go to init (reaped by it: no zombie is kept),
    // the parent is notified
    for (const c of this.children) c.parent = null;
    this.children.length = 0;
    this.parent?.childEnded();
    if (this.forked) t.engine.close();
    this.onProcessExit?.(this.exit);
  }
}

export { ENOMEM };
