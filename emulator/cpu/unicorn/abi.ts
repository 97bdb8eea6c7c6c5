/**
 * Linux ARM EABI (AArch32) user ABI: syscall numbers, errno values and struct layouts,
 * as pure encoders/decoders over byte arrays. The kernel model's syscall layer reuses
 * these to translate between guest registers/memory and its own calls; the test shim in
 * testing/ is one user. Numbers are from arch/arm/tools/syscall.tbl (EABI).
 */
export const NR = {
  exit: 1,
  read: 3,
  write: 4,
  open: 5,
  close: 6,
  getpid: 20,
  kill: 37,
  tgkill: 268,
  ioctl: 54,
  brk: 45,
  readlink: 85,
  munmap: 91,
  uname: 122,
  mprotect: 125,
  writev: 146,
  nanosleep: 162,
  rt_sigaction: 174,
  rt_sigprocmask: 175,
  ugetrlimit: 191,
  mmap2: 192,
  fstat64: 197,
  madvise: 220,
  gettid: 224,
  futex: 240,
  exit_group: 248,
  set_tid_address: 256,
  clock_gettime: 263,
  clock_nanosleep: 265,
  openat: 322,
  fstatat64: 327,
  readlinkat: 332,
  set_robust_list: 338,
  eventfd2: 356,
  prlimit64: 369,
  getrandom: 384,
  statx: 397,
  rseq: 398,
  clock_gettime64: 403,
  clock_nanosleep_time64: 407,
  /** ARM private syscalls (__ARM_NR_BASE 0x0f0000) */
  ARM_cacheflush: 0xf0002,
  ARM_set_tls: 0xf0005,
} as const;

export const ERRNO = {
  EPERM: 1, ENOENT: 2, EINTR: 4, EBADF: 9, ENOMEM: 12, EFAULT: 14, EINVAL: 22, ENOTTY: 25, ENODEV: 19, ENOSYS: 38,
} as const;

export const MAP_SHARED = 0x01;
export const MAP_PRIVATE = 0x02;
export const MAP_FIXED = 0x10;
export const MAP_ANONYMOUS = 0x20;
export const TIMER_ABSTIME = 1;
export const CLOCK_REALTIME = 0;
export const CLOCK_MONOTONIC = 1;
export const RLIM_INFINITY = 0xffffffffffffffffn;

/** r0 value for a result: errors are -errno, returned as the unsigned 32-bit register value */
export const toReg = (v: number): number => v >>> 0;
/** signed view of a 32-bit register argument */
export const sreg = (v: number): number => v | 0;

/** struct timespec (32-bit time_t): { i32 tv_sec; i32 tv_nsec } = 8 bytes */
export const TIMESPEC32_SIZE = 8;
/** struct __kernel_timespec (time64 calls): { i64 tv_sec; i64 tv_nsec } = 16 bytes */
export const TIMESPEC64_SIZE = 16;

export function encodeTimespec(ns: number, time64: boolean): Uint8Array {
  const sec = Math.floor(ns / 1e9);
  const nsec = ns - sec * 1e9;
  const b = new Uint8Array(time64 ? 16 : 8);
  const dv = new DataView(b.buffer);
  if (time64) {
    dv.setBigInt64(0, BigInt(sec), true);
    dv.setBigInt64(8, BigInt(nsec), true);
  } else {
    dv.setInt32(0, sec, true);
    dv.setInt32(4, nsec, true);
  }
  return b;
}

/**
 * decode a timespec to ns, or null if tv_nsec is out of range (EINVAL). `time64`: a struct
 * __kernel_timespec as get_timespec64 reads it on a 32-bit kernel: tv_sec the 64-bit time64_t,
 * tv_nsec the low word of its 64-bit field as the long ("In 32-bit mode, this drops the
 * padding", kernel/time/time.c, read in 6.12.19): the padding word is ignored.
 */
export function decodeTimespec(b: Uint8Array, time64: boolean): number | null {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const sec = time64 ? Number(dv.getBigInt64(0, true)) : dv.getInt32(0, true);
  const nsec = dv.getInt32(time64 ? 8 : 4, true);
  if (sec < 0 || nsec < 0 || nsec >= 1e9) return null;
  return sec * 1e9 + nsec;
}

/** struct utsname: six NUL-padded 65-byte fields = 390 bytes */
export const UTSNAME_SIZE = 390;
export interface Utsname {
  sysname: string;
  nodename: string;
  release: string;
  version: string;
  machine: string;
  domainname: string;
}
export function encodeUtsname(u: Utsname): Uint8Array {
  const b = new Uint8Array(UTSNAME_SIZE);
  const enc = new TextEncoder();
  [u.sysname, u.nodename, u.release, u.version, u.machine, u.domainname].forEach((s, i) => {
    b.set(enc.encode(s).subarray(0, 64), i * 65);
  });
  return b;
}

/** struct rlimit64 { u64 rlim_cur; u64 rlim_max } */
export function encodeRlimit64(cur: bigint, max: bigint): Uint8Array {
  const b = new Uint8Array(16);
  const dv = new DataView(b.buffer);
  dv.setBigUint64(0, cur, true);
  dv.setBigUint64(8, max, true);
  return b;
}

/** struct iovec (32-bit): { u32 iov_base; u32 iov_len } */
export const IOVEC_SIZE = 8;
export function decodeIovecs(b: Uint8Array, count: number): { base: number; len: number }[] {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const out: { base: number; len: number }[] = [];
  for (let i = 0; i < count; i++) out.push({ base: dv.getUint32(i * 8, true), len: dv.getUint32(i * 8 + 4, true) });
  return out;
}

/** Guest memory access used by syscall translation (the engine, or the kernel's process). */
export interface UserMemory {
  read(va: number, dst: Uint8Array): boolean;
  write(va: number, src: Uint8Array): boolean;
}

/** Read a NUL-terminated string of at most `max` bytes; null on a fault. */
export function readCString(m: UserMemory, va: number, max = 4096): string | null {
  const out: number[] = [];
  const one = new Uint8Array(1);
  for (let i = 0; i < max; i++) {
    if (!m.read(va + i, one)) return null;
    if (one[0] === 0) return new TextDecoder().decode(Uint8Array.from(out));
    out.push(one[0]!);
  }
  return null;
}
