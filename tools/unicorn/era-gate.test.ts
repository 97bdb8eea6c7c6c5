import { expect, it } from 'vitest';
import { shouldSkipUnicornTests } from '../../emulator/cpu/unicorn/testing/guest-build.js';
import { ENOSYS } from '../../kernel-model/base/errno.js';
import { ARM_NR } from '../../kernel-model/exec/linux-abi.js';
import { armProcess } from './testing/arm-process.js';

/**
 * The era gate of the ARM entry (LinuxAbi.serve, kernel-model/exec/syscall-era.ts): a number
 * the era's kernel lacks answers -ENOSYS before its arguments are read, is counted among the
 * calls but not as unknown; a number neither kernel has (as the entry knows them) is unknown.
 */
it.skipIf(shouldSkipUnicornTests())('3.14: statx, clock_gettime64, clone3 -ENOSYS, not unknown; v6.12 serves them', () => {
  const old = armProcess('rfc-v4');
  const cur = armProcess('mainline');
  try {
    // a good path and buffer: v6.12 answers 0, 3.14 -ENOSYS without reading anything
    const path = old.page + 0x100;
    for (const x of [old, cur]) expect(x.proc.mm.copyToUser(path, new TextEncoder().encode('/\0'), 0, 2)).toBe(0);
    const statx = (x: typeof old): unknown => x.call(ARM_NR.statx, -100, path, 0, 0x7ff, x.page + 0x200);
    expect(statx(old)).toBe(-ENOSYS);
    expect(statx(cur)).toBe(0);
    expect(old.call(ARM_NR.clock_gettime64, 1, old.page)).toBe(-ENOSYS);
    expect(cur.call(ARM_NR.clock_gettime64, 1, cur.page)).toBe(0);
    // clone3 with a NULL struct: -ENOSYS in 3.14 before the struct is read; v6.12 -EFAULT
    expect(old.call(ARM_NR.clone3, 0, 64)).toBe(-ENOSYS);
    expect(cur.call(ARM_NR.clone3, 0, 64)).toBe(-14);
    expect(old.arm.abi.unknown.size).toBe(0);
    expect(old.arm.abi.counts.get(ARM_NR.statx)).toBe(1);
    // a number neither table has, as far as the entry knows: unknown in both
    expect(old.call(1000)).toBe(-ENOSYS);
    expect(cur.call(1000)).toBe(-ENOSYS);
    expect([...old.arm.abi.unknown]).toEqual([[1000, 1]]);
    expect([...cur.arm.abi.unknown]).toEqual([[1000, 1]]);
  } finally {
    old.arm.engine.close();
    cur.arm.engine.close();
  }
});
