import { NR as UNR } from '../uapi/constants.js';

/**
 * The Linux ARM EABI syscall numbers LinuxAbi serves (arch/arm/tools/syscall.tbl; the ARM
 * private calls are __ARM_NR_BASE 0x0f0000 + n, arch/arm/include/uapi/asm/unistd.h), and the
 * two tables the dispatch keys on them: the calls answered -ENOSYS on purpose, and the calls
 * whose cost the kernel model's syscall layer charges.
 */
export const ARM_NR = {
  restart_syscall: 0, exit: 1, read: 3, write: 4, open: 5, close: 6, getpid: 20, getuid: 24, kill: 37, brk: 45,
  getgid: 47, geteuid: 49, getegid: 50, ioctl: 54, readlink: 85, munmap: 91, uname: 122, mprotect: 125, msync: 144,
  _llseek: 140, _newselect: 142, writev: 146, sched_yield: 158, nanosleep: 162, poll: 168, rt_sigaction: 174,
  rt_sigprocmask: 175, sigaltstack: 186, ugetrlimit: 191, mmap2: 192, fstat64: 197, getuid32: 199, getgid32: 200,
  geteuid32: 201, getegid32: 202, madvise: 220, gettid: 224, futex: 240, sched_getaffinity: 242, exit_group: 248,
  set_tid_address: 256, clock_gettime: 263, clock_getres: 264, clock_nanosleep: 265, tgkill: 268, tkill: 238, openat: 322,
  fstatat64: 327, readlinkat: 332, pselect6: 335, ppoll: 336, set_robust_list: 338, eventfd2: 356, pipe2: 359,
  prlimit64: 369, getcpu: 345, getrandom: 384, membarrier: 389, statx: 397, rseq: 398, clock_gettime64: 403,
  clock_nanosleep_time64: 407, pselect6_time64: 413, ppoll_time64: 414, futex_time64: 422, clone: 120, clone3: 435,
  prctl: 172, getppid: 64, setitimer: 104, getitimer: 105, sigreturn: 119, rt_sigreturn: 173, rt_sigsuspend: 179, pause: 29, fork: 2, vfork: 190, execve: 11, wait4: 114, waitid: 280, sendfile64: 239, stat64: 195, lstat64: 196, getcwd: 183, chdir: 12, fchdir: 133, access: 33, faccessat: 334, faccessat2: 439, pipe: 42, dup: 41, dup2: 63, dup3: 358, fcntl: 55, fcntl64: 221,
  mkdir: 39, mkdirat: 323, unlink: 10, unlinkat: 328, rmdir: 40,
  rename: 38, renameat: 329, renameat2: 382, link: 9, linkat: 330, symlink: 83, symlinkat: 331,
  chmod: 15, fchmod: 94, fchmodat: 333, fchmodat2: 452, truncate: 92, ftruncate: 93, truncate64: 193, ftruncate64: 194,
  umask: 60, fallocate: 352,
  rt_sigpending: 176, rt_sigtimedwait: 177, rt_sigqueueinfo: 178, rt_tgsigqueueinfo: 363, rt_sigtimedwait_time64: 421,
  capget: 184, capset: 185, setuid: 23, setuid32: 213, getresuid32: 209, getresgid32: 211, setrlimit: 75,
  ARM_cacheflush: 0xf0002, ARM_set_tls: 0xf0005,
} as const;

/**
 * Syscalls the era's kernel has that the model answers -ENOSYS on purpose: not "unknown". None
 * now (pselect6_time64 and ppoll_time64, the last ones, are served in v6.12: fs-calls.ts). The
 * numbers an era's kernel lacks answer -ENOSYS through the era table (syscall-era.ts), not
 * through this set.
 */
export const ENOSYS_EXPECTED: ReadonlySet<number> = new Set<number>();

/** numbers whose cost the kernel layer charges (layer.invoke / restartable) */
export const ROUTED = new Set<number>([
  ARM_NR.restart_syscall,
  ARM_NR.read, ARM_NR.write, ARM_NR.close, ARM_NR.ioctl, ARM_NR.poll, ARM_NR._newselect, ARM_NR.nanosleep, ARM_NR.eventfd2,
  UNR.lseek, UNR.getdents64, UNR.pread64, UNR.pwrite64, UNR.eventfd, ARM_NR.open, ARM_NR.openat, ARM_NR.mmap2,
  ARM_NR.munmap, ARM_NR.mprotect, ARM_NR.madvise, ARM_NR.ppoll, ARM_NR.pselect6, ARM_NR.ppoll_time64, ARM_NR.pselect6_time64,
]);
