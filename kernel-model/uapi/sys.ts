import type { GuestProgram, GuestYield, WakeReason } from '../../emulator/cpu/stub.js';

/**
 * The syscall API a guest program sees. Every call is a generator (`yield* sys.x(...)`)
 * that yields at syscall entry (interrupts may be taken there) and blocks in virtual
 * time when it must wait. Results are Linux's: >= 0 or -errno. Pointers are user
 * virtual addresses (numbers) in the process's address space.
 */
export type SysCall<R = number> = Generator<GuestYield, R, WakeReason>;

/**
 * User-memory accessors for guest code (what a load/store instruction does). An access
 * to an unmapped or forbidden address raises a GuestTrap (SIGSEGV with the address and
 * reason) that ends the thread; device (VM_PFNMAP) mappings become uncached MMIO bus
 * accesses with user attributes (a bus error is SIGBUS).
 */
export interface UserMem {
  read8(va: number): number;
  read16(va: number): number;
  read32(va: number): number;
  read64(va: number): bigint;
  write8(va: number, v: number): void;
  write16(va: number, v: number): void;
  write32(va: number, v: number): void;
  write64(va: number, v: bigint): void;
  readBytes(va: number, len: number): Uint8Array;
  writeBytes(va: number, data: Uint8Array): void;
  fill(va: number, byte: number, len: number): void;
  /** reads up to max bytes, stopping at NUL */
  readCString(va: number, max?: number): string;
  /** writes the string and a terminating NUL */
  writeCString(va: number, s: string): void;
}

export interface Sys {
  readonly mem: UserMem;
  /** path: a C string pointer, or a JS string (copied into the kernel the same way) */
  open(path: string | number, flags: number, mode?: number): SysCall;
  close(fd: number): SysCall;
  read(fd: number, buf: number, count: number): SysCall;
  write(fd: number, buf: number, count: number): SysCall;
  pread(fd: number, buf: number, count: number, offset: number): SysCall;
  pwrite(fd: number, buf: number, count: number, offset: number): SysCall;
  lseek(fd: number, offset: number, whence: number): SysCall;
  ioctl(fd: number, request: number, arg?: number): SysCall;
  mmap(addr: number, length: number, prot: number, flags: number, fd: number, offset: number): SysCall;
  munmap(addr: number, length: number): SysCall;
  mprotect(addr: number, length: number, prot: number): SysCall;
  eventfd(initval: number, flags: number): SysCall;
  /** fds: pointer to struct pollfd[nfds]; timeout in ms, < 0 = forever */
  poll(fds: number, nfds: number, timeoutMs: number): SysCall;
  /** fd_set pointers (0 = NULL); timeout: pointer to struct timeval or 0 (forever) */
  select(nfds: number, readfds: number, writefds: number, exceptfds: number, timeout: number): SysCall;
  /** req/rem: pointers to struct timespec */
  nanosleep(req: number, rem: number): SysCall;
  readlink(path: string | number, buf: number, bufsiz: number): SysCall;
  getdents64(fd: number, dirp: number, count: number): SysCall;
  getpid(): SysCall;
  /** ends the process; never returns */
  exit(code: number): SysCall<never>;
}

export type GuestMain = (sys: Sys) => GuestProgram;
