import { NR as UNR } from '../uapi/constants.js';
import { ARM_NR } from './arm-nr.js';

/**
 * Which kernel first has each ARM syscall number the entry knows: the era table. A profile's
 * capability `syscallTable` names the kernel whose table the entry serves (3.14 or 6.12); a
 * number whose first kernel is later answers -ENOSYS there (the table's sys_ni_syscall, or a
 * number past NR_syscalls: arch/arm/kernel/entry-common.S), before any decoding, and is not
 * counted as unknown: it is the era's answer, not a gap of the model.
 *
 * Read against the two trees (docs/KERNEL.md "Kernel trees read"): 3.14.4's
 * arch/arm/kernel/calls.S (382 entries, the last 381 sched_getattr; every number of ARM_NR
 * below 382 is a real entry there, none OBSOLETE() or sys_ni_syscall) and 6.12.19's
 * arch/arm/tools/syscall.tbl (every number of ARM_NR is "common" there, none oabi-only). The
 * versions of the calls added after 3.14 are those of the commits that wired them up for ARM
 * (from memory where no commit id is given; the 3.14 answer, which is what the model reads,
 * was checked in calls.S).
 */
export type KernelVersion = readonly [major: number, minor: number];

/** in 3.14's calls.S already (whenever it came: the model's oldest era, so "at most 3.14") */
const OLD: KernelVersion = [3, 14];

/** every ARM_NR name: the first kernel whose ARM table has it */
export const SYSCALL_SINCE: { readonly [K in keyof typeof ARM_NR]: KernelVersion } = {
  restart_syscall: OLD, exit: OLD, read: OLD, write: OLD, open: OLD, close: OLD, getpid: OLD, getuid: OLD, kill: OLD, brk: OLD,
  getgid: OLD, geteuid: OLD, getegid: OLD, ioctl: OLD, readlink: OLD, munmap: OLD, uname: OLD, mprotect: OLD, msync: OLD,
  _llseek: OLD, _newselect: OLD, writev: OLD, sched_yield: OLD, nanosleep: OLD, poll: OLD, rt_sigaction: OLD,
  rt_sigprocmask: OLD, sigaltstack: OLD, ugetrlimit: OLD, mmap2: OLD, fstat64: OLD, getuid32: OLD, getgid32: OLD,
  geteuid32: OLD, getegid32: OLD, madvise: OLD, gettid: OLD, futex: OLD, sched_getaffinity: OLD, exit_group: OLD,
  set_tid_address: OLD, clock_gettime: OLD, clock_getres: OLD, clock_nanosleep: OLD, tgkill: OLD, tkill: OLD, openat: OLD,
  fstatat64: OLD, readlinkat: OLD, pselect6: OLD, ppoll: OLD, set_robust_list: OLD, eventfd2: OLD, pipe2: OLD,
  prlimit64: OLD, getcpu: OLD, clone: OLD, prctl: OLD, getppid: OLD, setitimer: OLD, getitimer: OLD, sigreturn: OLD,
  rt_sigreturn: OLD, rt_sigsuspend: OLD, pause: OLD, fork: OLD, vfork: OLD, execve: OLD, wait4: OLD, waitid: OLD,
  sendfile64: OLD, stat64: OLD, lstat64: OLD, getcwd: OLD, chdir: OLD, fchdir: OLD, access: OLD, faccessat: OLD, pipe: OLD,
  dup: OLD, dup2: OLD, dup3: OLD, fcntl: OLD, fcntl64: OLD, mkdir: OLD, mkdirat: OLD, unlink: OLD, unlinkat: OLD, rmdir: OLD,
  rename: OLD, renameat: OLD, link: OLD, linkat: OLD, symlink: OLD, symlinkat: OLD, chmod: OLD, fchmod: OLD, fchmodat: OLD,
  truncate: OLD, ftruncate: OLD, truncate64: OLD, ftruncate64: OLD, umask: OLD, fallocate: OLD, rt_sigpending: OLD,
  rt_sigtimedwait: OLD, rt_sigqueueinfo: OLD, rt_tgsigqueueinfo: OLD, capget: OLD, capset: OLD, setuid: OLD, setuid32: OLD,
  getresuid32: OLD, getresgid32: OLD, setrlimit: OLD, ARM_cacheflush: OLD, ARM_set_tls: OLD,
  // fs/namei.c "vfs: add renameat2 syscall", 520c8b16505236fc82daa352e6c5e73cd9870cff
  renameat2: [3, 15],
  // drivers/char/random.c "random: introduce getrandom(2) system call", c6e9d6f38894
  getrandom: [3, 17],
  // kernel/membarrier.c "sys_membarrier(): system-wide memory barrier (generic, x86)", with the ARM wiring
  membarrier: [4, 3],
  // fs/stat.c "statx: Add a system call to make enhanced file info available"
  statx: [4, 11],
  // kernel/rseq.c "rseq: Introduce restartable sequences system call" and "arm: Add restartable sequences support"
  rseq: [4, 18],
  // "y2038: add 64-bit time_t syscalls to all 32-bit architectures" (Arnd Bergmann): numbers 403-423
  clock_gettime64: [5, 1], clock_nanosleep_time64: [5, 1], pselect6_time64: [5, 1], ppoll_time64: [5, 1],
  futex_time64: [5, 1], rt_sigtimedwait_time64: [5, 1],
  // kernel/fork.c "fork: add clone3" and "arch: wire-up clone3() syscall"
  clone3: [5, 3],
  // fs/open.c "vfs: add faccessat2 syscall"
  faccessat2: [5, 8],
  // fs/open.c "fs: Add fchmodat2()", 09da082b07bbae1c11d9560c8502800039aebcea
  fchmodat2: [6, 6],
};

/** the kernels the profiles model (capability `syscallTable`) */
export const TABLE_3_14: KernelVersion = [3, 14];
export const TABLE_6_12: KernelVersion = [6, 12];

/** a <= b */
export function versionAtMost(a: KernelVersion, b: KernelVersion): boolean {
  return a[0] < b[0] || (a[0] === b[0] && a[1] <= b[1]);
}

const SINCE_BY_NR = new Map<number, KernelVersion>();
for (const k of Object.keys(ARM_NR) as (keyof typeof ARM_NR)[]) SINCE_BY_NR.set(ARM_NR[k], SYSCALL_SINCE[k]);
// the generic numbers the layer serves as they are (uapi/constants.ts NR; all in 3.14's calls.S)
for (const n of [UNR.lseek, UNR.getdents64, UNR.pread64, UNR.pwrite64, UNR.eventfd]) if (!SINCE_BY_NR.has(n)) SINCE_BY_NR.set(n, OLD);

/** the first kernel of number `nr`, or null for a number the entry does not know */
export function syscallSince(nr: number): KernelVersion | null {
  return SINCE_BY_NR.get(nr) ?? null;
}

const absentCache = new Map<string, ReadonlySet<number>>();

/**
 * The known numbers the kernel `table` does not have (answered -ENOSYS, not counted as
 * unknown), in ascending order; one set per kernel, computed once.
 */
export function absentSyscalls(table: KernelVersion): ReadonlySet<number> {
  const key = `${table[0]}.${table[1]}`;
  let s = absentCache.get(key);
  if (s === undefined) {
    const out: number[] = [];
    for (const [nr, since] of SINCE_BY_NR) if (!versionAtMost(since, table)) out.push(nr);
    s = new Set(out.sort((x, y) => x - y));
    absentCache.set(key, s);
  }
  return s;
}
