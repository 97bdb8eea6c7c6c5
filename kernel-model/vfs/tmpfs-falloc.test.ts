import { describe, expect, it } from 'vitest';
import type { UnicornThread } from '../../emulator/cpu/unicorn/thread.js';
import type { GuestProgram } from '../../emulator/cpu/stub.js';
import { EACCES, EBADF, EFBIG, EINVAL, ENODEV, ENOSPC, ENXIO, EOPNOTSUPP } from '../base/errno.js';
import { sysFallocate } from '../exec/fallocate.js';
import type { LayerEntry } from '../exec/fs-calls.js';
import { MADV_REMOVE } from '../process/vma.js';
import type { Process } from '../process/process.js';
import { makeMachine, writeNewFile, type Machine } from '../syscall/testing/machine.js';
import { MAP_ANONYMOUS, MAP_PRIVATE, MAP_SHARED, O_CREAT, O_RDONLY, O_RDWR, PROT_READ, PROT_WRITE, type Sys } from '../uapi/index.js';
import { FALLOC_FL_KEEP_SIZE as KEEP, FALLOC_FL_PUNCH_HOLE as PUNCH, TMPFS_MAX_BYTES, TmpfsFile } from './tmpfs.js';

/**
 * fallocate(2) on tmpfs (exec/fallocate.ts vfs_fallocate's checks, vfs/tmpfs.ts
 * shmem_fallocate) and MADV_REMOVE on a MAP_SHARED tmpfs mapping (process/madvise.ts), from a
 * stub process: the ARM entry's decoding (r2:r3 offset, r4:r5 length) included.
 */
const PAGE = 4096;
const SEEK_DATA = 3, SEEK_HOLE = 4;
const nodeAt = (m: Machine, path: string): TmpfsFile => (m.vfs.walk(path, true) as unknown as { node: TmpfsFile }).node;

/** run `body` in a stub process with `fa(fd, mode, offset, len)`: the ARM fallocate entry */
function withFalloc(m: Machine, body: (sys: Sys, fa: (fd: number, mode: number, off: number, len: number) => number, proc: () => Process) => GuestProgram<number>): void {
  let proc: Process | null = null;
  const fa = (fd: number, mode: number, off: number, len: number): number => {
    const x = { layer: m.sys, proc: proc!, cpu: m.cpu } as unknown as LayerEntry;
    const a = new Uint32Array([fd >>> 0, mode >>> 0, off >>> 0, Math.floor(off / 2 ** 32) >>> 0, len >>> 0, Math.floor(len / 2 ** 32) >>> 0, 0]);
    return sysFallocate(x, null as unknown as UnicornThread, 352, a);
  };
  const started = m.start((sys) => body(sys, fa, () => proc!));
  proc = started.proc;
  m.sched.runUntilPredicate(() => started.thread.exit !== null, { within: 1_000_000_000 });
  expect(started.thread.exit?.trap ?? null).toBe(null);
}

const filled = (sys: Sys, b: number, path: string, n: number, v: number): GuestProgram<number> => writeNewFile(sys, b, path, n, () => v);

describe('fallocate(2) on tmpfs', () => {
  it('mode 0 grows the size and counts the pages; KEEP_SIZE counts without growing; -ENOSPC leaves all as it was', () => {
    const m = makeMachine();
    const out: unknown[] = [];
    withFalloc(m, function* (sys, fa) {
      const fd = yield* sys.open('/tmp/g', O_CREAT | O_RDWR);
      out.push(fa(fd, 0, 100, 5000), nodeAt(m, '/tmp/g').size, m.vfs.tmp.used);
      // past the end without growing: page 3 counted, page 2 (skipped) a hole
      out.push(fa(fd, KEEP, 3 * PAGE, PAGE), nodeAt(m, '/tmp/g').size, m.vfs.tmp.used);
      // a fallocated page is a hole to SEEK_DATA / SEEK_HOLE until written
      out.push(yield* sys.lseek(fd, 0, SEEK_DATA), yield* sys.lseek(fd, 0, SEEK_HOLE));
      const used = m.vfs.tmp.used;
      out.push(fa(fd, 0, 0, TMPFS_MAX_BYTES + PAGE), nodeAt(m, '/tmp/g').size, m.vfs.tmp.used === used);
      // a page far past the data: the pages skipped are holes, not counted
      const fd2 = yield* sys.open('/tmp/h', O_CREAT | O_RDWR);
      out.push(fa(fd2, 0, 10 * PAGE, 1), m.vfs.tmp.used - used, nodeAt(m, '/tmp/h').size);
      return 0;
    });
    expect(out).toEqual([0, 5100, 2 * PAGE, 0, 5100, 3 * PAGE, -ENXIO, 0, -ENOSPC, 5100, true, 0, PAGE, 10 * PAGE + 1]);
  });

  it('PUNCH_HOLE|KEEP_SIZE: whole pages freed, partial ones zeroed, seen by read() and SEEK_HOLE; a write fills the hole again', () => {
    const m = makeMachine();
    const out: unknown[] = [];
    withFalloc(m, function* (sys, fa) {
      const b = yield* sys.mmap(0, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      const fd = yield* filled(sys, b, '/tmp/p', 4 * PAGE, 0x5a);
      out.push(m.vfs.tmp.used);
      out.push(fa(fd, PUNCH | KEEP, PAGE - 10, PAGE + 20)); // 10 bytes of page 0, page 1, 10 bytes of page 2
      out.push(nodeAt(m, '/tmp/p').size, m.vfs.tmp.used);
      yield* sys.pread(fd, b, 4 * PAGE, 0);
      out.push(sys.mem.read8(b + PAGE - 11), sys.mem.read8(b + PAGE - 10), sys.mem.read8(b + PAGE + 100), sys.mem.read8(b + 2 * PAGE + 9), sys.mem.read8(b + 2 * PAGE + 10));
      out.push(yield* sys.lseek(fd, 0, SEEK_HOLE), yield* sys.lseek(fd, PAGE, SEEK_DATA), yield* sys.lseek(fd, PAGE + 5, SEEK_HOLE));
      // the last page punched: the stored data ends before it
      out.push(fa(fd, PUNCH | KEEP, 3 * PAGE, PAGE), m.vfs.tmp.used, yield* sys.lseek(fd, 2 * PAGE, SEEK_HOLE));
      sys.mem.write8(b, 7);
      yield* sys.pwrite(fd, b, 1, PAGE + 1);
      out.push(m.vfs.tmp.used, yield* sys.lseek(fd, 0, SEEK_HOLE));
      return 0;
    });
    expect(out).toEqual([
      4 * PAGE, 0, 4 * PAGE, 3 * PAGE,
      0x5a, 0, 0, 0, 0x5a,
      PAGE, 2 * PAGE, PAGE + 5,
      0, 2 * PAGE, 3 * PAGE,
      3 * PAGE, 3 * PAGE,
    ]);
  });

  it('a fallocated page becomes data when written or faulted in (PageUptodate)', () => {
    const m = makeMachine();
    const out: unknown[] = [];
    withFalloc(m, function* (sys, fa) {
      const b = yield* sys.mmap(0, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      const fd = yield* sys.open('/tmp/u', O_CREAT | O_RDWR);
      out.push(fa(fd, 0, 0, 3 * PAGE), yield* sys.lseek(fd, 0, SEEK_DATA));
      yield* sys.pwrite(fd, b, 1, PAGE + 3);
      out.push(yield* sys.lseek(fd, 0, SEEK_DATA), yield* sys.lseek(fd, PAGE, SEEK_HOLE));
      const s = yield* sys.mmap(0, 3 * PAGE, PROT_READ, MAP_SHARED, fd, 0);
      out.push(sys.mem.read8(s + 2 * PAGE), yield* sys.lseek(fd, 2 * PAGE, SEEK_DATA), m.vfs.tmp.used);
      return 0;
    });
    expect(out).toEqual([0, -ENXIO, PAGE, 2 * PAGE, 0, 2 * PAGE, 3 * PAGE]);
  });

  it('far into a file only the pages asked are counted (none stored); a truncate below them frees them', () => {
    const m = makeMachine();
    const out: unknown[] = [];
    withFalloc(m, function* (sys, fa) {
      const fd = yield* sys.open('/tmp/f', O_CREAT | O_RDWR);
      out.push(fa(fd, 0, 2 ** 40, 2 * PAGE), m.vfs.tmp.used, nodeAt(m, '/tmp/f').size === 2 ** 40 + 2 * PAGE, nodeAt(m, '/tmp/f').backed);
      out.push(nodeAt(m, '/tmp/f').dataEnd); // no data: SEEK_DATA finds none
      out.push(fa(fd, KEEP, 0, TMPFS_MAX_BYTES + 1), m.vfs.tmp.used); // more pages than the mount holds
      out.push(m.vfs.truncate(nodeAt(m, '/tmp/f'), '/tmp/f', 100), m.vfs.tmp.used);
      return 0;
    });
    expect(out).toEqual([0, 2 * PAGE, true, 0, 0, -ENOSPC, 2 * PAGE, 0, 0]);
  });

  it('the errors of vfs_fallocate', () => {
    const m = makeMachine();
    const out: unknown[] = [];
    withFalloc(m, function* (sys, fa) {
      const fd = yield* sys.open('/tmp/e', O_CREAT | O_RDWR);
      const ro = yield* sys.open('/tmp/e', O_RDONLY);
      out.push(fa(fd, 0, 0, 0), fa(fd, 0, -1, 1), fa(fd, 0, 0, -1));
      out.push(fa(fd, PUNCH, 0, 1), fa(fd, 0x10, 0, 1), fa(fd, 0x08, 0, 1), fa(fd, 0x100, 0, 1));
      out.push(fa(ro, 0, 0, 1), fa(99, 0, 0, 1));
      out.push(fa(fd, 0, 2 ** 43 - 1, 2));
      const efd = yield* sys.eventfd(0, 0); // an anonymous inode: not a regular file
      out.push(fa(efd, 0, 0, 1));
      return 0;
    });
    expect(out).toEqual([-EINVAL, -EINVAL, -EINVAL, -EOPNOTSUPP, -EOPNOTSUPP, -EOPNOTSUPP, -EOPNOTSUPP, -EBADF, -EBADF, -EFBIG, -ENODEV]);
  });
});

describe('the modes tmpfs lacks, in each era (capability fallocateModes)', () => {
  for (const [modes, ro, rw, collapseKeep] of [['vfs-mask', -EOPNOTSUPP, -EOPNOTSUPP, -EOPNOTSUPP], ['shmem', -EBADF, -EOPNOTSUPP, -EOPNOTSUPP]] as const) {
    it(`${modes}: ZERO_RANGE on a read-only fd ${ro}, on a writable one ${rw}`, () => {
      const m = makeMachine({ host: { fallocateModes: modes } });
      const out: unknown[] = [];
      withFalloc(m, function* (sys, fa) {
        const fd = yield* sys.open('/tmp/z', O_CREAT | O_RDWR);
        const r = yield* sys.open('/tmp/z', O_RDONLY);
        out.push(fa(r, 0x10, 0, 1), fa(fd, 0x10 | KEEP, 0, 1), fa(r, 0x08 | KEEP, 0, 1), fa(r, 0x04, 0, 1), fa(r, 0x40, 0, 1));
        return 0;
      });
      expect(out).toEqual([ro, rw, collapseKeep, -EOPNOTSUPP, ro]);
    });
  }
});

describe('punching a mapped tmpfs file; MADV_REMOVE on a shared file mapping', () => {
  it('a shared mapping reads zeros after the punch; a private copy stays (no even_cows); the frames are freed', () => {
    const m = makeMachine();
    const out: unknown[] = [];
    withFalloc(m, function* (sys, fa) {
      const b = yield* sys.mmap(0, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      const fd = yield* filled(sys, b, '/tmp/m', 3 * PAGE, 0x33);
      const s = yield* sys.mmap(0, 3 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
      const p = yield* sys.mmap(0, 3 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
      sys.mem.write8(p + PAGE, 0x44); // a private copy of page 1
      out.push(sys.mem.read8(s + PAGE + 5), sys.mem.read8(p + 2 * PAGE));
      const frames = nodeAt(m, '/tmp/m').cache!.frames.size;
      out.push(fa(fd, PUNCH | KEEP, PAGE, 2 * PAGE - 100));
      out.push(frames - nodeAt(m, '/tmp/m').cache!.frames.size); // page 1's frame left the cache
      out.push(sys.mem.read8(s + PAGE + 5), sys.mem.read8(s + 3 * PAGE - 101), sys.mem.read8(s + 3 * PAGE - 100));
      out.push(sys.mem.read8(p + PAGE), sys.mem.read8(p + PAGE + 5), sys.mem.read8(p + 2 * PAGE));
      return 0;
    });
    expect(out).toEqual([0x33, 0x33, 0, 1, 0, 0, 0x33, 0x44, 0x33, 0]);
  });

  it('MADV_REMOVE: punches at the mapping\'s file offset; EACCES for a private or read-only mapping', () => {
    const m = makeMachine();
    const out: unknown[] = [];
    withFalloc(m, function* (sys, _fa, proc) {
      const b = yield* sys.mmap(0, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      const fd = yield* filled(sys, b, '/tmp/r', 4 * PAGE, 0x66);
      const s = yield* sys.mmap(0, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 2 * PAGE);
      const p = yield* sys.mmap(0, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
      const ro = yield* sys.open('/tmp/r', O_RDONLY);
      const r = yield* sys.mmap(0, PAGE, PROT_READ, MAP_SHARED, ro, 0);
      const used = m.vfs.tmp.used;
      out.push(proc().mm.madvise(s + PAGE, PAGE, MADV_REMOVE, 'vm-write'));
      out.push(m.vfs.tmp.used - used, yield* sys.lseek(fd, 0, SEEK_HOLE));
      yield* sys.pread(fd, b, 1, 3 * PAGE + 7);
      out.push(sys.mem.read8(b), sys.mem.read8(s + PAGE), sys.mem.read8(s));
      // the read fault allocated the page again (shmem_fault): no hole now
      out.push(m.vfs.tmp.used - used, yield* sys.lseek(fd, 0, SEEK_HOLE));
      out.push(proc().mm.madvise(p, PAGE, MADV_REMOVE, 'vm-write'), proc().mm.madvise(r, PAGE, MADV_REMOVE, 'vm-maywrite'));
      // 3.14 asks VM_WRITE: a shared mapping made read-only by mprotect
      yield* sys.mprotect(s, PAGE, PROT_READ);
      out.push(proc().mm.madvise(s, PAGE, MADV_REMOVE, 'vm-write'), proc().mm.madvise(s, PAGE, MADV_REMOVE, 'vm-maywrite'), sys.mem.read8(s));
      return 0;
    });
    expect(out).toEqual([0, -PAGE, 3 * PAGE, 0, 0, 0x66, 0, 4 * PAGE, -EACCES, -EACCES, -EACCES, 0, 0]);
  });
});
