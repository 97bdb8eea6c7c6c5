import { describe, expect, it } from 'vitest';
import type { GuestProgram } from '../../emulator/cpu/stub.js';
import { makeMachine, writeNewFile } from '../syscall/testing/machine.js';
import { EACCES, EINVAL, EROFS } from '../base/errno.js';
import { MAP_ANONYMOUS, MAP_PRIVATE, MAP_SHARED, O_RDONLY, O_RDWR, O_WRONLY, PROT_READ, PROT_WRITE, type Sys } from '../uapi/index.js';
import { procMaps } from './procfs.js';
import { TmpfsFile } from './tmpfs.js';

const PAGE = 4096;
const nodeAt = (m: ReturnType<typeof makeMachine>, path: string): TmpfsFile => (m.vfs.walk(path, true) as unknown as { node: TmpfsFile }).node;

function* scratch(sys: Sys): GuestProgram<number> {
  return yield* sys.mmap(0, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
}

/** a /tmp file of `n` bytes, byte i = (i * 7) & 0xff; its fd (O_RDWR) */
const mkfile = (sys: Sys, b: number, path: string, n: number): GuestProgram<number> => writeNewFile(sys, b, path, n, (i) => (i * 7) & 0xff);

describe('mmap of a tmpfs file (mm/shmem.c shmem_mmap / shmem_fault)', () => {
  it('MAP_SHARED: stores are what read() returns and what another mapping sees; write() shows through the mappings', () => {
    const m = makeMachine();
    const out: unknown[] = [];
    m.run(function* (sys) {
      const b = yield* scratch(sys);
      const fd = yield* mkfile(sys, b, '/tmp/s', 6000);
      const a1 = yield* sys.mmap(0, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
      const a2 = yield* sys.mmap(0, PAGE, PROT_READ, MAP_SHARED, fd, PAGE);
      out.push(sys.mem.read8(a1 + 3), sys.mem.read8(a2 + 10)); // the file's bytes
      sys.mem.write8(a1 + PAGE + 10, 0xab); // a store through the first mapping
      out.push(sys.mem.read8(a2 + 10)); // seen by the second
      yield* sys.pread(fd, b, 1, PAGE + 10);
      out.push(sys.mem.read8(b)); // and by read()
      sys.mem.write8(b, 0x5a);
      yield* sys.pwrite(fd, b, 1, 20); // write() into a mapped page
      out.push(sys.mem.read8(a1 + 20));
      // the partial last page reads zeros past the end of the file (6000 bytes)
      out.push(sys.mem.read8(a1 + 5999), sys.mem.read8(a1 + 6000), sys.mem.read8(a1 + 2 * PAGE - 1));
      // unmapped: the stores stay in the file
      yield* sys.munmap(a1, 2 * PAGE);
      yield* sys.munmap(a2, PAGE);
      yield* sys.pread(fd, b, 1, PAGE + 10);
      out.push(sys.mem.read8(b));
      return 0;
    });
    expect(out).toEqual([21, (PAGE + 10) * 7 & 0xff, 0xab, 0xab, 0x5a, (5999 * 7) & 0xff, 0, 0, 0xab]);
    // the frames went back to the allocator with the last mapping
    expect(nodeAt(m, '/tmp/s').cache).toBeNull();
  });

  it('MAP_PRIVATE: reads see the file until the page is written; a write is the mapping\'s own', () => {
    const m = makeMachine();
    const out: unknown[] = [];
    m.run(function* (sys) {
      const b = yield* scratch(sys);
      const fd = yield* mkfile(sys, b, '/tmp/p', 2 * PAGE);
      const p = yield* sys.mmap(0, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
      const s = yield* sys.mmap(0, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
      out.push(sys.mem.read8(p + 1));
      sys.mem.write8(s + 1, 0x11); // the file changes: the private page not yet written sees it
      out.push(sys.mem.read8(p + 1));
      sys.mem.write8(p + 2, 0x22); // copy on write
      sys.mem.write8(s + 1, 0x33); // the file changes again: the private copy does not see it
      out.push(sys.mem.read8(p + 1), sys.mem.read8(p + 2), sys.mem.read8(s + 2));
      yield* sys.pread(fd, b, 1, 2);
      out.push(sys.mem.read8(b)); // the file keeps its byte
      out.push(sys.mem.read8(p + PAGE + 1)); // the other page: still the file's
      sys.mem.write8(b, 0x44);
      yield* sys.pwrite(fd, b, 1, PAGE + 1);
      out.push(sys.mem.read8(p + PAGE + 1));
      return 0;
    });
    expect(out).toEqual([7, 0x11, 0x11, 0x22, 14, 14, (PAGE + 1) * 7 & 0xff, 0x44]);
  });

  it('do_mmap access checks: EACCES for O_WRONLY and for MAP_SHARED+PROT_WRITE on O_RDONLY; an unaligned offset EINVAL; mprotect cannot make a read-only shared mapping writable', () => {
    const m = makeMachine();
    const out: unknown[] = [];
    m.run(function* (sys) {
      const b = yield* scratch(sys);
      const fd = yield* mkfile(sys, b, '/tmp/c', PAGE);
      const ro = yield* sys.open('/tmp/c', O_RDONLY);
      const wo = yield* sys.open('/tmp/c', O_WRONLY);
      out.push(yield* sys.mmap(0, PAGE, PROT_READ, MAP_SHARED, wo, 0));
      out.push(yield* sys.mmap(0, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, ro, 0));
      out.push(yield* sys.mmap(0, PAGE, PROT_READ, MAP_SHARED, fd, 100));
      const r = yield* sys.mmap(0, PAGE, PROT_READ, MAP_SHARED, ro, 0);
      out.push(yield* sys.mprotect(r, PAGE, PROT_READ | PROT_WRITE));
      // a private mapping of the read-only fd may be written (its own copy)
      const p = yield* sys.mmap(0, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, ro, 0);
      sys.mem.write8(p, 9);
      out.push(sys.mem.read8(p), sys.mem.read8(r));
      return 0;
    });
    expect(out).toEqual([-EACCES, -EACCES, -EINVAL, -EACCES, 9, 0]);
  });

  it('SIGBUS on a page wholly past the end of the file', () => {
    const m = makeMachine();
    const r = m.run(function* (sys) {
      const b = yield* scratch(sys);
      const fd = yield* mkfile(sys, b, '/tmp/e', 100);
      const a = yield* sys.mmap(0, 2 * PAGE, PROT_READ, MAP_SHARED, fd, 0);
      sys.mem.read8(a + 200); // the partial page: 0
      sys.mem.read8(a + PAGE); // past the end
      return 0;
    });
    expect(r.thread.exit!.trap!.signal).toBe('SIGBUS');
    expect(r.thread.exit!.trap!.address).toBe(0x40000000 + 4 * PAGE + PAGE);
  });

  it('truncate shrinking a mapped file: the pages past the new end are SIGBUS, the partial page is zeroed past it', () => {
    const m = makeMachine();
    const out: unknown[] = [];
    const r = m.run(function* (sys) {
      const b = yield* scratch(sys);
      const fd = yield* mkfile(sys, b, '/tmp/t', 2 * PAGE);
      const a = yield* sys.mmap(0, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
      const p = yield* sys.mmap(0, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
      sys.mem.write8(p + PAGE, 1); // a private copy of the second page
      out.push(sys.mem.read8(a + 50), sys.mem.read8(a + PAGE + 1));
      out.push(m.vfs.truncate(nodeAt(m, '/tmp/t'), '/tmp/t', 40));
      out.push(sys.mem.read8(a + 39), sys.mem.read8(a + 50), sys.mem.read8(p + 50));
      sys.mem.read8(p + PAGE); // the private copy went too (even_cows): SIGBUS
      return 0;
    });
    expect(out).toEqual([50 * 7 & 0xff, (PAGE + 1) * 7 & 0xff, 0, (39 * 7) & 0xff, 0, 0]);
    expect(r.thread.exit!.trap!.signal).toBe('SIGBUS');
  });

  it('/proc/<pid>/maps names the file, its inode and the offset; the capacity counts the faulted pages', () => {
    const m = makeMachine();
    let maps = '';
    let ino = 0;
    m.run(function* (sys) {
      const b = yield* scratch(sys);
      const fd = yield* mkfile(sys, b, '/tmp/m', 3 * PAGE);
      ino = nodeAt(m, '/tmp/m').ino;
      yield* sys.mmap(0, PAGE, PROT_READ, MAP_SHARED, fd, 2 * PAGE);
      yield* sys.mmap(0, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
      maps = procMaps(m.sys.processes.get(100)!, (f) => ((f.priv as TmpfsFile).ino ?? 0));
      return 0;
    });
    const lines = maps.split('\n');
    expect(lines[1]).toBe(`40004000-40005000 r--s 00002000 00:00 ${ino}`.padEnd(49) + '/tmp/m');
    expect(lines[2]).toBe(`40005000-40007000 rw-p 00000000 00:00 ${ino}`.padEnd(49) + '/tmp/m');
  });

  it('the read-only rootfs: O_RDWR is EROFS at open, MAP_SHARED+PROT_WRITE of the O_RDONLY fd EACCES; mappings share its pages', () => {
    const m = makeMachine();
    const bytes = new Uint8Array(5000).map((_, i) => i & 0xff);
    m.vfs.mountRootfs((p) => (p === '/' ? { kind: 'dir', mode: 0o755, names: ['f'] } : p === '/f' ? { kind: 'file', mode: 0o755, bytes: () => bytes } : null));
    const out: unknown[] = [];
    m.run(function* (sys) {
      out.push(yield* sys.open('/f', O_RDWR));
      const fd = yield* sys.open('/f', O_RDONLY);
      out.push(yield* sys.mmap(0, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0));
      const a = yield* sys.mmap(0, 2 * PAGE, PROT_READ, MAP_SHARED, fd, 0);
      const p = yield* sys.mmap(0, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
      out.push(sys.mem.read8(a + 4097), sys.mem.read8(p + 4097), sys.mem.read8(a + 4999), sys.mem.read8(a + 5000));
      sys.mem.write8(p + 1, 0xee);
      out.push(sys.mem.read8(p + 1), sys.mem.read8(a + 1));
      return 0;
    });
    expect(out).toEqual([-EROFS, -EACCES, 1, 1, 4999 & 0xff, 0, 0xee, 1]);
  });
});
