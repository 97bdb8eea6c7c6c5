import { expect, it } from 'vitest';
import { shouldSkipUnicornTests } from '../../emulator/cpu/unicorn/testing/guest-build.js';
import { EBADF, EFAULT, EINVAL, EOVERFLOW } from '../../kernel-model/base/errno.js';
import { ARM_NR } from '../../kernel-model/exec/linux-abi.js';
import { NR as UNR, O_CREAT, O_RDONLY, O_RDWR } from '../../kernel-model/uapi/constants.js';
import { armProcess } from './testing/arm-process.js';

/**
 * _llseek through the ARM entry (kernel-model/exec/fs-calls.ts sysLlseek), as
 * SYSCALL_DEFINE5(llseek) in fs/read_write.c: the fd is checked first, then whence, then the
 * 64-bit signed offset goes to the file (glibc's lseek64(fd, -1, SEEK_END) passes
 * 0xffffffff:0xffffffff), and the position comes back as a loff_t.
 */
it.skipIf(shouldSkipUnicornTests())('_llseek: check order, a negative 64-bit offset, a position past 4 GiB, an unwritable result', () => {
  const { proc, arm, t, open, page } = armProcess();
  try {
    const fd = open('/tmp/f', O_CREAT | O_RDWR);
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
    // the 32-bit lseek cannot return that position: -EOVERFLOW, and the file moved all the same
    expect(arm.abi.syscall(t, UNR.lseek, Uint32Array.from([fd, 1, 1, 0, 0, 0, 0]))).toBe(-EOVERFLOW);
    expect(llseek(fd, 0, 0, res, 1)).toBe(0);
    expect(result()).toBe(2 * 2 ** 32 + 6);
    // 3.14's MAX_LFS_FILESIZE (2^43 - 1), tmpfs's s_maxbytes, is the last position (vfs_setpos)
    expect(llseek(fd, 0x800, 0, res, 0)).toBe(-EINVAL);
    expect(llseek(fd, 0x7ff, 0xffffffff, res, 0)).toBe(0);
    expect(result()).toBe(2 ** 43 - 1);
    // the result cannot be written: -EFAULT, the position has moved (as in Linux)
    expect(llseek(fd, 0, 7, 0x10, 0)).toBe(-EFAULT);
    expect(llseek(fd, 0, 0, res, 1)).toBe(0);
    expect(result()).toBe(7);
  } finally {
    arm.engine.close();
  }
});

/**
 * writev through the ARM entry (sysWritev), as 3.14's do_writev / vfs_writev /
 * rw_copy_check_uvector: the fd and its mode first, then the vector, every segment's length and
 * range checked before any is written; an unmapped pointer below TASK_SIZE passes the range
 * check and ends the call short at its segment.
 */
it.skipIf(shouldSkipUnicornTests())('writev: fd and mode before the vector, every segment checked before the first write', () => {
  const { system, proc, arm, t, open, page, writev: writevAt } = armProcess();
  try {
    const fd = open('/tmp/w', O_CREAT | O_RDWR);
    const ro = open('/tmp/w', O_RDONLY);
    expect(proc.mm.copyToUser(page, new Uint8Array(64).fill(0x62), 0, 64)).toBe(0);
    const writev = (f: number, segs: [number, number][], cnt = segs.length): number => writevAt(f, page + 0x800, segs, cnt);
    const size = (): number => {
      const st = system.syscalls.taskOf(proc, t);
      const r = system.syscalls.sysLseek(st, fd, 0, 2);
      st.finish();
      return r;
    };
    expect(writev(77, [], 0)).toBe(-EBADF);
    expect(writev(ro, [[page, 4]])).toBe(-EBADF);
    expect(writev(fd, [], 0)).toBe(0);
    expect(writev(fd, [], 1025)).toBe(-EINVAL);
    // a later segment past TASK_SIZE, or with a negative length: nothing is written
    expect(writev(fd, [[page, 10], [0xbeffff00, 0x1000]])).toBe(-EFAULT);
    expect(writev(fd, [[page, 10], [page, 0x80000000]])).toBe(-EINVAL);
    expect(size()).toBe(0);
    // an unmapped pointer below TASK_SIZE: the first segment is written, the call ends short
    expect(writev(fd, [[page, 10], [0x1000, 5]])).toBe(10);
    expect(writev(fd, [[page, 3], [page, 0], [page + 3, 4]])).toBe(7);
    expect(size()).toBe(17);
    // 3.14 checks segment by segment: the bad range of the first before the negative length of the second
    expect(writev(fd, [[0xbeffff00, 0x1000], [page, 0x80000000]])).toBe(-EFAULT);
    // and copies the whole array first: an unreadable second element is -EFAULT before the first's negative length
    expect(writevAt(fd, page + 0xff8, [[page, 0x80000000]], 2)).toBe(-EFAULT);
  } finally {
    arm.engine.close();
  }
});

/**
 * writev's vector in v6.12 (import_iovec, lib/iov_iter.c; capability `iovecImport`): every
 * segment's length while the array is copied in, element by element, then every range
 */
it.skipIf(shouldSkipUnicornTests())('writev (mainline): every length before any range, the array read element by element', () => {
  const { arm, open, page, writev: writevAt } = armProcess('mainline');
  try {
    const fd = open('/tmp/w', O_CREAT | O_RDWR);
    const writev = (vec: number, segs: [number, number][], cnt = segs.length): number => writevAt(fd, vec, segs, cnt);
    // the negative length of the second segment before the bad range of the first (3.14: -EFAULT)
    expect(writev(page + 0x800, [[0xbeffff00, 0x1000], [page, 0x80000000]])).toBe(-EINVAL);
    // a negative length in the last element of the page, the next element unreadable: -EINVAL
    // (3.14 copies the whole array first: -EFAULT)
    expect(writev(page + 0xff8, [[page, 0x80000000]], 2)).toBe(-EINVAL);
    // a readable array of good lengths with a bad range: -EFAULT; nothing was written
    expect(writev(page + 0x800, [[page, 4], [0xbeffff00, 0x1000]])).toBe(-EFAULT);
    expect(writev(page + 0x800, [[page, 4]])).toBe(4);
  } finally {
    arm.engine.close();
  }
});
