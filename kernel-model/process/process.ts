import type { Cpu, GuestThread } from '../../emulator/cpu/cpu.js';
import { EBADF, EINVAL, EMFILE } from '../base/errno.js';
import type { File } from '../vfs/file.js';
import { AddressSpace } from './mm.js';
import type { MemoryHost } from './pages.js';

export const RLIM_INFINITY = Number.MAX_SAFE_INTEGER;

export interface FdEntry {
  file: File;
  cloexec: boolean;
}

export interface ProcessOptions {
  name?: string;
  uid?: number;
  /** CAP_IPC_LOCK: locked-memory limit does not apply (root has it by default) */
  capIpcLock?: boolean;
  /** RLIMIT_NOFILE (default 1024) */
  nofile?: number;
  /** RLIMIT_MEMLOCK in bytes (default 64 KiB) */
  memlock?: number;
  /** open fds 0, 1, 2 on the console (reads: EOF; writes captured in stdout/stderr) */
  stdio?: boolean;
}

/** A process: pid, credentials, limits, fd table, address space, threads. */
export class Process {
  /** the command name (comm; execve sets it to the file's base name) */
  name: string;
  /** current working directory (an absolute, canonical path; chdir/fchdir in the ARM ABI) */
  cwd = '/';
  uid: number;
  capIpcLock: boolean;
  rlimitNofile: number;
  rlimitMemlock: number;
  readonly mm: AddressSpace;
  private fds: (FdEntry | null)[] = [];
  readonly threads: GuestThread[] = [];
  exitCode: number | null = null;
  alive = true;
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
    this.uid = opts.uid ?? 0;
    this.capIpcLock = opts.capIpcLock ?? this.uid === 0;
    this.rlimitNofile = opts.nofile ?? 1024;
    this.rlimitMemlock = opts.memlock ?? 64 * 1024;
    this.mm = new AddressSpace(host, cpu);
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
  }
}
