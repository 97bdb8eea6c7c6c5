/**
 * A process's credentials and resource limits as the kernel keeps them: the capability sets of
 * struct cred (include/linux/cred.h: cap_inheritable, cap_permitted, cap_effective, cap_bset
 * and, since v4.3, cap_ambient) and signal->rlim[RLIM_NLIMITS] (include/linux/sched.h
 * signal_struct). The sets are 64-bit masks (kernel_cap_t: two u32 words in 3.14, one u64 in
 * v6.12; the same bits); a limit is the 32-bit kernel's unsigned long, RLIM_INFINITY ~0UL.
 * kernel-model/process/process.ts holds them; the calls that read and change them are in
 * kernel-model/exec/capability.ts (capget, capset) and kernel-model/exec/sys.ts (setuid, the
 * rlimit calls).
 */

/** include/uapi/linux/capability.h */
export const CAP_KILL = 5;
export const CAP_SETUID = 7;
export const CAP_SETPCAP = 8;
export const CAP_IPC_LOCK = 14;
export const CAP_SYS_PTRACE = 19;
export const CAP_SYS_RESOURCE = 24;
/** CAP_LAST_CAP of 3.14 (CAP_BLOCK_SUSPEND; v6.12: 40, CAP_CHECKPOINT_RESTORE): the profile's `capLastCap` */
export const CAP_LAST_CAP_3_14 = 36;

/** one capability's bit in a set */
export const capBit = (cap: number): bigint => 1n << BigInt(cap);

// host-only: a cache of capFullSet's constants per CAP_LAST_CAP (36 or 40), not model state
const fullSets: bigint[] = [];
/** CAP_FULL_SET / CAP_VALID_MASK: every capability up to CAP_LAST_CAP (bits above it are never set) */
export const capFullSet = (lastCap: number): bigint => (fullSets[lastCap] ??= (1n << BigInt(lastCap + 1)) - 1n);

/**
 * A new identity for a struct cred (prepare_creds / commit_creds): only compared by
 * reference (Process.credRef, File.cred), never written, so frozen (a fuzz snapshot leaves
 * frozen objects alone)
 */
export const newCredRef = (): object => Object.freeze({});

/** cap_raised(set, cap) */
export const capRaised = (set: bigint, cap: number): boolean => (set & capBit(cap)) !== 0n;

/** cap_issubset(a, b) */
export const capIsSubset = (a: bigint, b: bigint): boolean => (a & ~b) === 0n;

/** include/uapi/asm-generic/resource.h: the resources this model gives a meaning to */
export const RLIMIT_CPU = 0;
export const RLIMIT_STACK = 3;
export const RLIMIT_NOFILE = 7;
export const RLIMIT_MEMLOCK = 8;
/** the queued signals a user may have (kernel/signal.c __sigqueue_alloc; SigQ in /proc/<pid>/status) */
export const RLIMIT_SIGPENDING = 11;
/** RLIM_NLIMITS: 16 in both eras (RLIMIT_RTTIME = 15 is the last) */
export const RLIM_NLIMITS = 16;
/** the 32-bit kernel's RLIM_INFINITY (~0UL); rlimit64's is ~0ULL (kernel/sys.c rlim_to_rlim64) */
export const RLIM_INFINITY = 0xffffffff;
/** fs/file.c sysctl_nr_open (NR_OPEN = 1024 * 1024): the highest RLIMIT_NOFILE maximum (do_prlimit) */
export const SYSCTL_NR_OPEN = 1024 * 1024;

/** one resource's limits (struct rlimit): soft and hard, as 32-bit values */
export interface Rlimit {
  cur: number;
  max: number;
}

/** a limit as the 32-bit kernel stores it: what does not fit an unsigned long is RLIM_INFINITY */
export const rlimValue = (v: number): number => (v >= RLIM_INFINITY ? RLIM_INFINITY : Math.max(0, Math.floor(v)));

/**
 * The limits of a process the board starts (the model's choice; Linux's come from init's
 * INIT_RLIMITS as changed by the system's set-up, pam_limits, systemd): RLIMIT_STACK 8 MiB
 * soft and unlimited hard (_STK_LIM), RLIMIT_NOFILE and RLIMIT_MEMLOCK the given values for
 * both (1024 and 64 KiB = 3.14's MLOCK_LIMIT by default), every other resource unlimited. Only
 * NOFILE (fd allocation) and MEMLOCK (the VFIO and iommufd pins) are enforced; the others are
 * stored, inherited and read back.
 *
 * Stored as the 32-bit values signal->rlim holds, soft then hard per resource: element 2r is
 * rlim[r].rlim_cur and 2r + 1 rlim[r].rlim_max. One typed array rather than sixteen small
 * objects: a process is created per fuzz run and its state is snapshotted and restored on
 * every run (docs/PERFORMANCE.md, "The fuzzer's per-run records, 2026-12-07").
 */
export function initialRlimits(nofile: number, memlock: number): Uint32Array {
  const r = new Uint32Array(2 * RLIM_NLIMITS).fill(RLIM_INFINITY);
  r[2 * RLIMIT_STACK] = 8 << 20;
  r[2 * RLIMIT_NOFILE] = r[2 * RLIMIT_NOFILE + 1] = rlimValue(nofile);
  r[2 * RLIMIT_MEMLOCK] = r[2 * RLIMIT_MEMLOCK + 1] = rlimValue(memlock);
  return r;
}

/** "%016x" of a set, as fs/proc/array.c render_cap_t prints it (the two words high first in 3.14: the same digits) */
export const capHex = (set: bigint): string => set.toString(16).padStart(16, '0');
