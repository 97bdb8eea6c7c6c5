import { describe, expect, it } from 'vitest';
import type { GuestProgram } from '../../emulator/cpu/stub.js';
import { makeMachine } from '../syscall/testing/machine.js';
import { EEXIST, EINVAL, EISDIR, ENOENT, ENOSPC, ENOTDIR, ENOTEMPTY, ENXIO } from '../base/errno.js';
import { KERNEL_3_14, MAINLINE } from '../profile.js';
import { MAP_ANONYMOUS, MAP_PRIVATE, O_CREAT, O_RDONLY, O_RDWR, O_WRONLY, PROT_READ, PROT_WRITE, type Sys } from '../uapi/index.js';
import { TMPFS_MAX_BYTES, TmpfsFile } from './tmpfs.js';

const sizeOf = (r: unknown): number => ((r as { node: unknown }).node as TmpfsFile).size;
const O_EXCL = 0o200, O_TRUNC = 0o1000, O_APPEND = 0o2000;

function* scratch(sys: Sys): GuestProgram<number> {
  return yield* sys.mmap(0, 4 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
}

describe('tmpfs at /tmp', () => {
  it('create, write, append, seek to the end, truncate, O_EXCL; an unlinked file stays readable through its fd', () => {
    const m = makeMachine();
    const out: unknown[] = [];
    m.run(function* (sys) {
      const b = yield* scratch(sys);
      out.push(yield* sys.open('/tmp/a', O_RDONLY)); // -ENOENT
      const fd = yield* sys.open('/tmp/a', O_CREAT | O_RDWR);
      sys.mem.writeCString(b, 'hello');
      out.push(yield* sys.write(fd, b, 5));
      out.push(yield* sys.lseek(fd, 0, 2)); // SEEK_END: 5
      out.push(yield* sys.lseek(fd, 1, 0));
      out.push(yield* sys.read(fd, b + 100, 100), sys.mem.readCString(b + 100, 4));
      out.push(yield* sys.open('/tmp/a', O_CREAT | O_EXCL | O_WRONLY));
      const ap = yield* sys.open('/tmp/a', O_WRONLY | O_APPEND);
      out.push(yield* sys.write(ap, b, 2)); // "he" at the end
      out.push(sizeOf(m.vfs.walk('/tmp/a', true)));
      const tr = yield* sys.open('/tmp/a', O_WRONLY | O_TRUNC);
      out.push(sizeOf(m.vfs.walk('/tmp/a', true)), tr >= 0);
      sys.mem.writeCString(b, 'kept');
      out.push(yield* sys.write(tr, b, 4));
      out.push(m.vfs.remove('/tmp/a', false), m.vfs.walk('/tmp/a', true));
      out.push(yield* sys.lseek(fd, 0, 0), yield* sys.read(fd, b + 200, 100), sys.mem.readCString(b + 200, 4));
      return 0;
    });
    expect(out).toEqual([-ENOENT, 5, 5, 1, 4, 'ello', -EEXIST, 2, 7, 0, true, 4, 0, -ENOENT, 0, 4, 'kept']);
    expect(m.vfs.tmp.used).toBe(0);
  });

  it('mkdir, rmdir, unlink: EEXIST, ENOTEMPTY, EISDIR, ENOTDIR; nothing created outside tmpfs', () => {
    const m = makeMachine();
    const v = m.vfs;
    expect(v.mkdir('/tmp/d', 0o755)).toBe(0);
    expect(v.mkdir('/tmp/d', 0o755)).toBe(-EEXIST);
    expect(v.mkdir('/tmp/x/y', 0o755)).toBe(-ENOENT);
    m.run(function* (sys) {
      return yield* sys.open('/tmp/d/f', O_CREAT | O_WRONLY);
    });
    expect(v.remove('/tmp/d', true)).toBe(-ENOTEMPTY);
    expect(v.remove('/tmp/d', false)).toBe(-EISDIR);
    expect(v.remove('/tmp/d/f', true)).toBe(-ENOTDIR);
    expect(v.remove('/tmp/d/f', false)).toBe(0);
    expect(v.remove('/tmp/d', true)).toBe(0);
    expect(v.mkdir('/proc/new', 0o755)).toBeLessThan(0);
    expect(v.walk('/proc/new', true)).toBe(-ENOENT);
  });

  it('the mount is small: writes past its capacity are -ENOSPC', () => {
    const m = makeMachine();
    const out: number[] = [];
    m.run(function* (sys) {
      const b = yield* scratch(sys);
      const fd = yield* sys.open('/tmp/big', O_CREAT | O_WRONLY);
      out.push(yield* sys.lseek(fd, TMPFS_MAX_BYTES - 8, 0));
      out.push(yield* sys.write(fd, b, 8));
      out.push(yield* sys.write(fd, b, 1));
      return 0;
    });
    expect(out).toEqual([TMPFS_MAX_BYTES - 8, 8, -ENOSPC]);
    expect(m.vfs.tmp.used).toBe(TMPFS_MAX_BYTES);
  });

  it('lseek as shmem_file_llseek: up to the kernel\'s MAX_LFS_FILESIZE (3.14 2^43 - 1, v6.12 2^44 - 4096), SEEK_DATA and SEEK_HOLE', () => {
    const run = (caps: typeof KERNEL_3_14): unknown[] => {
      const m = makeMachine({ maxLfsFilesize: caps.maxLfsFilesize, shmemSeekNegative: caps.shmemSeekNegative });
      const out: unknown[] = [];
      m.run(function* (sys) {
        const b = yield* scratch(sys);
        const fd = yield* sys.open('/tmp/s', O_CREAT | O_RDWR);
        out.push(yield* sys.write(fd, b, 100));
        out.push(yield* sys.lseek(fd, 2 ** 43 - 1, 0), yield* sys.lseek(fd, 2 ** 43, 0));
        out.push(yield* sys.lseek(fd, 2 ** 44 - 4096, 0), yield* sys.lseek(fd, 2 ** 44 - 4095, 0));
        // a refused position leaves the file where it was; SEEK_CUR by 0 answers it unchecked
        out.push(yield* sys.lseek(fd, 0, 1));
        out.push(yield* sys.lseek(fd, 10, 3), yield* sys.lseek(fd, 10, 4), yield* sys.lseek(fd, 100, 3), yield* sys.lseek(fd, 100, 4), yield* sys.lseek(fd, -1, 3));
        return 0;
      });
      return out;
    };
    expect(KERNEL_3_14.maxLfsFilesize).toBe(2 ** 43 - 1);
    expect(MAINLINE.maxLfsFilesize).toBe(2 ** 44 - 4096);
    // the last: SEEK_DATA at -1, -EINVAL in 3.14 and -ENXIO in v6.12 (`shmemSeekNegative`)
    expect(run(KERNEL_3_14)).toEqual([100, 2 ** 43 - 1, -EINVAL, -EINVAL, -EINVAL, 2 ** 43 - 1, 10, 100, -ENXIO, -ENXIO, -EINVAL]);
    expect(run(MAINLINE)).toEqual([100, 2 ** 43 - 1, 2 ** 43, 2 ** 44 - 4096, -EINVAL, 2 ** 44 - 4096, 10, 100, -ENXIO, -ENXIO, -ENXIO]);
  });
});
