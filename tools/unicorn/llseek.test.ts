import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { guestBinary, shouldSkipUnicornTests } from '../../emulator/cpu/unicorn/testing/guest-build.js';
import { Prng } from '../../emulator/prng.js';
import { EBADF, EFAULT, EINVAL } from '../../kernel-model/base/errno.js';
import { execElf } from '../../kernel-model/exec/exec.js';
import { ARM_NR } from '../../kernel-model/exec/linux-abi.js';
import { O_CREAT, O_RDWR } from '../../kernel-model/uapi/constants.js';
import { System } from '../system/system.js';

/**
 * _llseek through the ARM entry (kernel-model/exec/fs-calls.ts sysLlseek), as
 * SYSCALL_DEFINE5(llseek) in fs/read_write.c: the fd is checked first, then whence, then the
 * 64-bit signed offset goes to the file (glibc's lseek64(fd, -1, SEEK_END) passes
 * 0xffffffff:0xffffffff), and the position comes back as a loff_t.
 */
it.skipIf(shouldSkipUnicornTests())('_llseek: check order, a negative 64-bit offset, a position past 4 GiB, an unwritable result', () => {
  const system = new System({ profile: 'rfc-v4', seed: 3 });
  const proc = system.syscalls.createProcess({ name: 'llseek', stdio: true });
  const arm = execElf({ layer: system.syscalls, proc, cpu: system.cpu, bus: system.machine.bus, elf: new Uint8Array(readFileSync(guestBinary('hello'))), argv: ['llseek'], prng: new Prng(3) });
  try {
    const t = arm.main;
    const task = system.syscalls.taskOf(proc, t);
    const fd = system.syscalls.sysOpen(task, '/tmp/f', O_CREAT | O_RDWR);
    task.finish();
    expect(fd).toBeGreaterThanOrEqual(0);
    // a page of the process for the buffer and the result
    const page = arm.abi.syscall(t, ARM_NR.mmap2, Uint32Array.from([0, 4096, 3, 0x22, 0xffffffff, 0, 0]));
    expect(page).toBeGreaterThan(0);
    expect(proc.mm.copyToUser(page, new Uint8Array(100).fill(0x61), 0, 100)).toBe(0);
    expect(arm.abi.syscall(t, ARM_NR.write, Uint32Array.from([fd, page, 100, 0, 0, 0, 0]))).toBe(100);
    const res = page + 0x800;
    const llseek = (f: number, hi: number, lo: number, result: number, whence: number): number => arm.abi.syscall(t, ARM_NR._llseek, Uint32Array.from([f, hi, lo, result, whence, 0, 0])) as number;
    const result = (): number => {
      const b = new Uint8Array(8);
      expect(proc.mm.copyFromUser(b, 0, res, 8)).toBe(0);
      const dv = new DataView(b.buffer);
      return dv.getUint32(4, true) * 2 ** 32 + dv.getUint32(0, true);
    };
    // the fd before anything else, whence before the offset
    expect(llseek(77, 1, 0, res, 0)).toBe(-EBADF);
    expect(llseek(fd, 1, 0, res, 9)).toBe(-EINVAL);
    // lseek64(fd, -1, SEEK_END): 99
    expect(llseek(fd, 0xffffffff, 0xffffffff, res, 2)).toBe(0);
    expect(result()).toBe(99);
    // lseek64(fd, -200, SEEK_CUR): before the start of the file
    expect(llseek(fd, 0xffffffff, (2 ** 32 - 200) >>> 0, res, 1)).toBe(-EINVAL);
    // 8 GiB + 5: a position past 4 GiB, both words of the loff_t
    expect(llseek(fd, 2, 5, res, 0)).toBe(0);
    expect(result()).toBe(2 * 2 ** 32 + 5);
    // the result cannot be written: -EFAULT, the position has moved (as in Linux)
    expect(llseek(fd, 0, 7, 0x10, 0)).toBe(-EFAULT);
    expect(llseek(fd, 0, 0, res, 1)).toBe(0);
    expect(result()).toBe(7);
  } finally {
    arm.engine.close();
  }
});
