import { describe, expect, it } from 'vitest';
import { KERNEL_3_14, MAINLINE, NAMED_PROFILES, parseProfile } from '../profile.js';
import { ARM_NR, ENOSYS_EXPECTED, ROUTED } from './arm-nr.js';
import { absentSyscalls, SYSCALL_SINCE, syscallSince, TABLE_3_14, TABLE_6_12, versionAtMost } from './syscall-era.js';

/**
 * The era table (syscall-era.ts): which ARM numbers each modelled kernel lacks, read against
 * 3.14.4's arch/arm/kernel/calls.S and 6.12.19's arch/arm/tools/syscall.tbl.
 */
describe('the syscall era table', () => {
  it('3.14 lacks exactly the calls added after it; v6.12 has every number the entry knows', () => {
    // calls.S of 3.14.4 ends at 381 (sched_getattr): every later number, and none before
    expect([...absentSyscalls(TABLE_3_14)]).toEqual([
      ARM_NR.renameat2, ARM_NR.getrandom, ARM_NR.membarrier, ARM_NR.statx, ARM_NR.rseq, ARM_NR.clock_gettime64,
      ARM_NR.clock_nanosleep_time64, ARM_NR.pselect6_time64, ARM_NR.ppoll_time64, ARM_NR.rt_sigtimedwait_time64,
      ARM_NR.futex_time64, ARM_NR.clone3, ARM_NR.faccessat2, ARM_NR.fchmodat2,
    ]);
    expect([...absentSyscalls(TABLE_3_14)]).toEqual([382, 384, 389, 397, 398, 403, 407, 413, 414, 421, 422, 435, 439, 452]);
    for (const nr of Object.values(ARM_NR)) if (nr < 382 || nr >= 0xf0000) expect(absentSyscalls(TABLE_3_14).has(nr), String(nr)).toBe(false);
    expect(absentSyscalls(TABLE_6_12).size).toBe(0);
    // an intermediate kernel: what came by v5.1 is there, clone3 (v5.3) is not
    const v51 = absentSyscalls([5, 1]);
    expect([v51.has(ARM_NR.statx), v51.has(ARM_NR.clock_gettime64), v51.has(ARM_NR.clone3), v51.has(ARM_NR.fchmodat2)]).toEqual([false, false, true, true]);
  });

  it('every number of ARM_NR has its first kernel; unknown numbers have none', () => {
    for (const k of Object.keys(ARM_NR) as (keyof typeof ARM_NR)[]) expect(SYSCALL_SINCE[k], k).toBeDefined();
    expect(syscallSince(ARM_NR.statx)).toEqual([4, 11]);
    expect(syscallSince(ARM_NR.clone3)).toEqual([5, 3]);
    expect(syscallSince(ARM_NR.read)).toEqual([3, 14]);
    expect(syscallSince(9999)).toBeNull();
    expect(versionAtMost([3, 15], [3, 14])).toBe(false);
    expect(versionAtMost([3, 14], [6, 12])).toBe(true);
    expect(versionAtMost([6, 13], [6, 12])).toBe(false);
  });

  it('the profiles read it as capability syscallTable (renameat2, fchmodat2 and getrandom: absent in 3.14 only)', () => {
    expect(KERNEL_3_14.syscallTable).toEqual([3, 14]);
    expect(MAINLINE.syscallTable).toEqual([6, 12]);
    for (const name of [...Object.keys(NAMED_PROFILES), 'patches:1-3']) {
      const c = parseProfile(name).caps;
      const has = (nr: number): boolean => !absentSyscalls(c.syscallTable).has(nr);
      const old = c.syscallTable[0] === 3;
      expect([has(ARM_NR.renameat2), has(ARM_NR.fchmodat2), has(ARM_NR.getrandom)], name).toEqual([!old, !old, !old]);
    }
  });

  it('the calls the layer charges are in v6.12 (two of them not in 3.14), and -ENOSYS on purpose is only for calls the era has', () => {
    for (const nr of ROUTED) expect(absentSyscalls(TABLE_6_12).has(nr), String(nr)).toBe(false);
    // the routed numbers 3.14 lacks (charged at the entry there: linux-abi.ts serve)
    expect([...ROUTED].filter((nr) => absentSyscalls(TABLE_3_14).has(nr)).sort((x, y) => x - y)).toEqual([ARM_NR.pselect6_time64, ARM_NR.ppoll_time64]);
    for (const nr of ENOSYS_EXPECTED) expect(absentSyscalls(TABLE_6_12).has(nr), String(nr)).toBe(false);
    // the calls this table gave to the eras are no longer -ENOSYS on purpose
    for (const nr of [ARM_NR.rseq, ARM_NR.clone3, ARM_NR.sched_getaffinity, ARM_NR.membarrier]) expect(ENOSYS_EXPECTED.has(nr), String(nr)).toBe(false);
  });
});
