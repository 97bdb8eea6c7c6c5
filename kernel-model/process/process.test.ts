import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { makeAttrs, isPriv } from '../../emulator/attrs.js';
import { BUS_DECODE_ERROR, BUS_OK, type MmioDevice } from '../../emulator/bus.js';
import type { GuestProgram } from '../../emulator/cpu/stub.js';
import { makeMachine } from '../syscall/testing/machine.js';
import {
  EBADF, EFAULT, EINVAL, EMFILE, ENOMEM, ENODEV, EACCES,
  MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, MAP_SHARED, O_CLOEXEC, O_RDONLY, O_RDWR, PROT_NONE, PROT_READ, PROT_WRITE,
  type Sys,
} from '../uapi/index.js';
import { File, type FileOps } from '../vfs/file.js';

const P = 4096;
const ANON = MAP_PRIVATE | MAP_ANONYMOUS;

function* anon(sys: Sys, pages = 1, prot = PROT_READ | PROT_WRITE): GuestProgram<number> {
  return yield* sys.mmap(0, pages * P, prot, ANON, -1, 0);
}

describe('address space', () => {
  it('anonymous pages are zero-filled and allocated on first touch; munmap frees them', () => {
    const m = makeMachine();
    const out: unknown[] = [];
    m.run(function* (sys) {
      const a = yield* anon(sys, 8);
      out.push(m.mem.pages.allocatedPages);
      out.push(sys.mem.read32(a + 5 * P));
      sys.mem.write32(a + 5 * P + 4, 0x12345678);
      sys.mem.write64(a + 2 * P - 4, 0x1122334455667788n); // crosses a page
      out.push(m.mem.pages.allocatedPages, sys.mem.read64(a + 2 * P - 4), sys.mem.read16(a + 5 * P + 5));
      out.push(yield* sys.munmap(a + 2 * P, 4 * P));
      out.push(m.mem.pages.allocatedPages);
      out.push(yield* sys.munmap(a + 1, P), yield* sys.munmap(a, 0));
      return 0;
    });
    expect(out).toEqual([0, 0, 3, 0x1122334455667788n, 0x3456, 0, 1, -EINVAL, -EINVAL]);
    expect(m.mem.pages.allocatedPages).toBe(0); // exit released the rest
  });

  it('mmap argument errors and MAP_FIXED', () => {
    const m = makeMachine();
    const out: unknown[] = [];
    m.run(function* (sys) {
      out.push(yield* sys.mmap(0, 0, PROT_READ, ANON, -1, 0));
      out.push(yield* sys.mmap(0, P, PROT_READ, MAP_ANONYMOUS, -1, 0));
      out.push(yield* sys.mmap(0, P, PROT_READ, ANON, -1, 100));
      out.push(yield* sys.mmap(0x50001000, P, PROT_READ, ANON | MAP_FIXED, -1, 0));
      out.push(yield* sys.mmap(0x50001001, P, PROT_READ, ANON | MAP_FIXED, -1, 0));
      out.push(yield* sys.mmap(0, P, PROT_READ, MAP_PRIVATE, 55, 0));
      out.push(yield* sys.mmap(0, 0xd0000000, PROT_READ, ANON, -1, 0));
      return 0;
    });
    expect(out).toEqual([-EINVAL, -EINVAL, -EINVAL, 0x50001000, -EINVAL, -EBADF, -ENOMEM]);
  });

  it('a segfault is reported with address and reason; the machine stays usable', () => {
    const m = makeMachine();
    const bad = m.run(function* (sys) {
      const a = yield* anon(sys, 1, PROT_READ);
      sys.mem.read32(a); // fine
      sys.mem.write32(a, 1); // read-only: SIGSEGV
      return 0;
    });
    expect(bad.thread.exit!.trap!.signal).toBe('SIGSEGV');
    expect(bad.thread.exit!.status).toBe(139);
    expect(bad.thread.exit!.trap!.address).toBe(0x40000000);
    expect(bad.thread.exit!.trap!.reason).toMatch(/write not permitted.*r--/);
    const bad2 = m.run(function* (sys) {
      sys.mem.read8(0xdead0);
      return 0;
    });
    expect(bad2.thread.exit!.trap!.address).toBe(0xdead0);
    expect(bad2.thread.exit!.trap!.reason).toMatch(/unmapped/);
    expect(m.log.lines().some((l) => /SIGSEGV at 0xdead0/.test(l))).toBe(true);
    // the process was torn down; a new program runs normally
    expect(m.sys.processes.has(bad.proc.pid)).toBe(false);
    const good = m.run(function* (sys) {
      const e = yield* sys.eventfd(0, 0);
      return e === 0 ? 7 : 1;
    });
    expect(good.thread.exit).toMatchObject({ code: 7, trap: null });
  });

  it('mprotect changes protections of part of a mapping; PROT_NONE faults on read', () => {
    const m = makeMachine();
    const r = m.run(function* (sys) {
      const a = yield* anon(sys, 4);
      if ((yield* sys.mprotect(a + P, P, PROT_NONE)) !== 0) return 2;
      if ((yield* sys.mprotect(a + 100, P, PROT_READ)) !== -EINVAL) return 3;
      if ((yield* sys.mprotect(0x7000_0000, P, PROT_READ)) !== -ENOMEM) return 4;
      sys.mem.write32(a, 1);
      sys.mem.write32(a + 2 * P, 1);
      sys.mem.read32(a + P + 8);
      return 0;
    });
    expect(r.thread.exit!.trap!.address).toBe(0x40000000 + P + 8);
  });

  it('a page the user accessors used before follows mprotect, munmap and a new mapping at its address', () => {
    // the accessors' translation cache (mm.ts, tlbPage0/1) must not outlive a change of the mappings
    const m = makeMachine();
    const seen: number[] = [];
    const ro = m.run(function* (sys) {
      const a = yield* anon(sys, 2);
      sys.mem.write32(a, 0x11);
      sys.mem.write32(a + P, 0x22); // both pages cached
      seen.push(sys.mem.read32(a), sys.mem.read32(a + P));
      if ((yield* sys.munmap(a + P, P)) !== 0) return 2;
      if ((yield* sys.mmap(a + P, P, PROT_READ | PROT_WRITE, ANON | MAP_FIXED, -1, 0)) !== a + P) return 3;
      seen.push(sys.mem.read32(a + P)); // a fresh zero page, not the old frame
      if ((yield* sys.mprotect(a, P, PROT_READ)) !== 0) return 4;
      seen.push(sys.mem.read32(a));
      sys.mem.write32(a, 1); // read-only now: SIGSEGV
      return 0;
    });
    expect(seen).toEqual([0x11, 0x22, 0, 0x11]);
    expect(ro.thread.exit!.trap!.reason).toMatch(/write not permitted.*r--/);
    const gone = m.run(function* (sys) {
      const a = yield* anon(sys, 1);
      sys.mem.write32(a, 5);
      if ((yield* sys.munmap(a, P)) !== 0) return 2;
      sys.mem.read32(a); // unmapped: SIGSEGV
      return 0;
    });
    expect(gone.thread.exit!.trap!.reason).toMatch(/unmapped/);
  });

  it('kernel copies fault with -EFAULT instead of killing the process', () => {
    const m = makeMachine();
    const out: unknown[] = [];
    m.run(function* (sys) {
      const e = yield* sys.eventfd(1, 0);
      out.push(yield* sys.read(e, 0x1000, 8), yield* sys.write(e, 0x1000, 8));
      out.push(yield* sys.open(0x1000, O_RDONLY));
      return 0;
    });
    expect(out).toEqual([-EFAULT, -EFAULT, -EFAULT]);
  });

  it('device (VM_PFNMAP) mappings turn guest accesses into user-mode bus accesses', () => {
    const m = makeMachine();
    const log: string[] = [];
    const dev: MmioDevice = {
      name: 'regs',
      accessSizes: 4,
      read: (off, _s, attrs) => {
        log.push(`r${off.toString(16)} ${isPriv(attrs) ? 'priv' : 'user'}`);
        return (0xab000000 | off) >>> 0;
      },
      write: (off, _s, v) => {
        log.push(`w${off.toString(16)}=${v.toString(16)}`);
        return off >= 0x800 ? BUS_DECODE_ERROR : BUS_OK;
      },
    };
    m.mem.bus.addMmio('regs', 0x2c0a0000, P, dev);
    const fops: FileOps = {
      name: 'fake-dev',
      mmap: (_f, task, vma) => {
        if ((vma.flags & MAP_SHARED) === 0) return -EINVAL;
        task.mm.remapPfnRange(vma, 0x2c0a0000);
        return 0;
      },
    };
    let released = 0;
    fops.release = () => void released++;
    m.vfs.addDevNode('/dev/fake', 0o666, (flags, _t, path) => new File(fops, null, flags, path));
    const r = m.run(function* (sys) {
      const fd = yield* sys.open('/dev/fake', O_RDWR);
      if ((yield* sys.mmap(0, P, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0)) !== -EINVAL) return 2;
      const a = yield* sys.mmap(0, P, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
      yield* sys.close(fd);
      if (released !== 0) return 3; // the mapping holds the file
      const v = sys.mem.read32(a + 0x10);
      if (v !== 0xab000010) return 4;
      sys.mem.write32(a + 0x20, 5);
      sys.mem.write32(a + 0x800, 5); // bus error: SIGBUS
      return 0;
    });
    expect(log).toEqual(['r10 user', 'w20=5', 'w800=5']);
    expect(r.thread.exit!.trap!.signal).toBe('SIGBUS');
    expect(released).toBe(1); // released with the address space
    expect(makeAttrs({}) & 4).toBe(0);
    const r2 = m.run(function* (sys) {
      const fd = yield* sys.open('/dev/fake', O_RDONLY);
      return -(yield* sys.mmap(0, P, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0));
    });
    expect(r2.thread.exit!.code).toBe(EACCES);
    const r3 = m.run(function* (sys) {
      const e = yield* sys.eventfd(0, 0);
      return -(yield* sys.mmap(0, P, PROT_READ, MAP_SHARED, e, 0));
    });
    expect(r3.thread.exit!.code).toBe(ENODEV);
  });

  it('pinned pages stay allocated after munmap until unpinned', () => {
    const m = makeMachine();
    const proc = m.sys.createProcess();
    const v = proc.mm.mapRegion(0, 2 * P, PROT_READ | PROT_WRITE, ANON, false);
    if (typeof v === 'number') throw new Error('map');
    const pin = { pa: 0, reserved: false };
    expect(proc.mm.pinUserPage(v.start + P, true, pin)).toBe(0);
    expect(m.mem.pages.pinCount(pin.pa)).toBe(1);
    proc.mm.munmap(v.start, 2 * P);
    expect(m.mem.pages.allocatedPages).toBe(1);
    expect(proc.mm.pinUserPage(v.start, false, { pa: 0, reserved: false })).toBe(-EFAULT);
    proc.mm.unpinPage(pin);
    expect(m.mem.pages.allocatedPages).toBe(0);
  });
});

describe('fd table', () => {
  it('lowest free fd, O_CLOEXEC kept, EBADF, EMFILE at RLIMIT_NOFILE', () => {
    const m = makeMachine();
    const out: unknown[] = [];
    const { proc } = m.start(function* (sys) {
      const a = yield* sys.open('/dev/vfio-none', O_RDONLY);
      out.push(a);
      const fds: number[] = [];
      for (let i = 0; i < 5; i++) fds.push(yield* sys.eventfd(0, i === 1 ? O_CLOEXEC : 0));
      out.push(fds);
      out.push(yield* sys.close(1), yield* sys.close(1), yield* sys.close(-3));
      out.push(yield* sys.eventfd(0, 0));
      out.push([0, 1, 2].map((fd) => proc.fdEntry(fd)!.cloexec));
      return 0;
    }, { nofile: 4 });
    m.sched.runUntilIdle();
    expect(out).toEqual([-2, [0, 1, 2, 3, -EMFILE], 0, -EBADF, -EBADF, 1, [false, false, false]]);
    const out2: unknown[] = [];
    const { proc: p2 } = m.start(function* (sys) {
      const e0 = yield* sys.eventfd(0, O_CLOEXEC);
      out2.push(p2.fdEntry(e0)!.cloexec);
      out2.push(yield* sys.ioctl(e0, 0x5450), p2.fdEntry(e0)!.cloexec); // FIONCLEX
      out2.push(yield* sys.ioctl(e0, 0x3b64), yield* sys.ioctl(9, 0x5451));
      return 0;
    });
    m.sched.runUntilIdle();
    expect(out2).toEqual([true, 0, false, -25, -EBADF]);
  });
});

describe('exit', () => {
  it('exit(code) ends the program with that status and releases its files', () => {
    const m = makeMachine();
    let released = 0;
    m.vfs.addDevNode('/dev/counted', 0o666, (flags, _t, path) => new File({ name: 'c', release: () => void released++ }, null, flags, path));
    const after: string[] = [];
    const r = m.run(function* (sys) {
      yield* sys.open('/dev/counted', O_RDONLY);
      yield* sys.open('/dev/counted', O_RDONLY);
      try {
        yield* sys.exit(3);
      } finally {
        after.push('finally ran');
      }
      after.push('not reached');
      return 0;
    });
    expect(r.thread.exit).toMatchObject({ code: 3, status: 3, trap: null, hostError: null });
    expect(released).toBe(2);
    expect(after).toEqual(['finally ran']);
    expect(m.sys.exits.at(-1)).toMatchObject({ pid: r.proc.pid, status: 3 });
  });
});

describe('kernel Oops in process context', () => {
  it('is logged, kills the calling process and leaves the machine usable', async () => {
    const { KernelOops } = await import('../base/oops.js');
    const m = makeMachine();
    m.vfs.addDevNode('/dev/oops', 0o666, (flags, _t, path) => new File({
      name: 'oops',
      ioctl: () => {
        throw new KernelOops('external-abort', 0x2c0a0100, 'read32 decode-error');
      },
    }, null, flags, path));
    const r = m.run(function* (sys) {
      const fd = yield* sys.open('/dev/oops', O_RDWR);
      yield* sys.ioctl(fd, 1, 0);
      return 0;
    });
    expect(r.thread.exit!.trap!.reason).toMatch(/Oops/);
    expect(m.log.records.some((x) => x.level === 'alert' && /2c0a0100/.test(x.msg))).toBe(true);
    expect(m.run(function* (sys) {
      return yield* sys.getpid();
    }).thread.exit!.code).toBe(101);
  });
});

describe('threads', () => {
  it('a segfault in one thread kills its blocked siblings and releases the process', () => {
    const m = makeMachine();
    const { proc, thread: main } = m.start(function* (sys) {
      const e = yield* sys.eventfd(0, 0);
      const b = yield* anon(sys);
      yield* sys.read(e, b, 8); // blocks forever
      return 0;
    });
    m.sched.runUntil(1_000_000);
    const t2 = m.sys.spawn(proc, function* (sys) {
      yield* sys.getpid();
      sys.mem.read32(0x10);
      return 0;
    });
    m.sched.runUntilIdle();
    expect(t2.exit!.trap!.signal).toBe('SIGSEGV');
    expect(main.exit!.trap!.signal).toBe('SIGKILL');
    expect(proc.alive).toBe(false);
    expect(m.sys.exits.at(-1)).toMatchObject({ pid: proc.pid, status: 139 });
    expect(m.mem.pages.allocatedPages).toBe(0);
  });
});

describe('strndup_user', () => {
  /**
   * The reference: strndupUser as a copy_from_user of one byte at a time (what the model
   * charged and answered before it read whole page runs): every byte examined is one copy.
   */
  function byteAtATime(mm: { copyFromUser(d: Uint8Array, o: number, va: number, n: number): number }, va: number, n: number): string | number {
    const bytes: number[] = [];
    const one = new Uint8Array(1);
    for (let i = 0; i < n; i++) {
      const r = mm.copyFromUser(one, 0, va + i, 1);
      if (r < 0) return r;
      if (one[0] === 0) return String.fromCharCode(...bytes);
      bytes.push(one[0]!);
    }
    return -EINVAL;
  }

  const BASE = 0x40000000;
  const TOP = 0xbf000000; // TASK_SIZE
  /**
   * A process with: two anon pages at BASE (filled with `fill`, zeros where it has them), a
   * read-only page, a hole, a device page (VM_PFNMAP over registers that answer their offset's
   * low byte, 0 every 0x40 bytes, and log each read), and two anon pages right below TASK_SIZE
   * (the upper one never touched: it reads as zeros when faulted in).
   */
  function world(fill: Uint8Array, top: Uint8Array) {
    const m = makeMachine();
    const reads: number[] = [];
    const dev: MmioDevice = { name: 'regs', accessSizes: 1, read: (off) => (reads.push(off), off % 0x40 === 0x3f ? 0 : (off & 0xff) | 1), write: () => BUS_OK };
    m.mem.bus.addMmio('regs', 0x2c0a0000, P, dev);
    const proc = m.sys.createProcess();
    const map = (at: number, pages: number, prot: number) => {
      const v = proc.mm.mapRegion(at, pages * P, prot, ANON, true);
      if (typeof v === 'number') throw new Error(`map 0x${at.toString(16)}: ${v}`);
      return v;
    };
    map(BASE, 2, PROT_READ | PROT_WRITE);
    expect(proc.mm.copyToUser(BASE, fill, 0, fill.length)).toBe(0);
    map(BASE + 2 * P, 1, PROT_NONE);
    proc.mm.remapPfnRange(map(BASE + 4 * P, 1, PROT_READ | PROT_WRITE), 0x2c0a0000);
    map(TOP - 2 * P, 2, PROT_READ | PROT_WRITE);
    expect(proc.mm.copyToUser(TOP - 2 * P, top, 0, top.length)).toBe(0);
    return { m, proc, reads };
  }

  it('reading page runs answers and charges exactly as a copy per byte, RAM, holes, devices and TASK_SIZE alike', () => {
    const starts = [BASE, BASE + P - 3, BASE + 2 * P - 5, BASE + 4 * P, BASE + 4 * P + 0x30, TOP - 2 * P + 7, TOP - P - 2, TOP - 1, TOP, 0xfffffff0, 0x1000];
    let charged = 0;
    const kinds = new Set<string>();
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 0, maxLength: 2 * P }),
        fc.uint8Array({ minLength: 0, maxLength: P }),
        fc.constantFrom(...starts),
        fc.integer({ min: 0, max: 40 }),
        fc.constantFrom(1, 2, 7, 64, 4096, 9000, 128 * 1024),
        (fill, top, start, skew, n) => {
          // mostly non-zero bytes, so that strings cross pages
          for (let i = 0; i < fill.length; i++) if (fill[i] === 0 && i % 97 !== 0) fill[i] = 0x41;
          for (let i = 0; i < top.length; i++) if (top[i] === 0) top[i] = 0x42;
          const va = start + (start >= TOP ? 0 : skew);
          const a = world(fill, top);
          const b = world(fill, top);
          const c0 = a.m.cpu.stepCycles;
          const want = byteAtATime(a.proc.mm, va, n);
          const c1 = b.m.cpu.stepCycles;
          const got = b.proc.mm.strndupUser(va, n);
          expect(got).toEqual(want);
          expect(b.m.cpu.stepCycles - c1).toBe(a.m.cpu.stepCycles - c0);
          expect(b.reads).toEqual(a.reads);
          expect(b.m.mem.pages.allocatedPages).toBe(a.m.mem.pages.allocatedPages);
          charged += a.m.cpu.stepCycles - c0;
          kinds.add(typeof want === 'string' ? (a.reads.length > 0 ? 'device string' : 'string') : String(want));
        },
      ),
      { seed: 7, numRuns: 300 },
    );
    // the samples met every answer: strings from RAM and from the device, -EFAULT, -EINVAL
    expect([...kinds].sort()).toEqual([String(-EFAULT), String(-EINVAL), 'device string', 'string'].sort());
    expect(charged).toBeGreaterThan(0);
  });

  it('charges its byte copies one by one when a cost of the table is not an integer (the sums would round differently)', () => {
    // 0.1 added 40 times is not 0.1 * 40 in binary floating point: one charge of the sum would
    // move virtual time by a different amount than the per-byte copies
    const costs = { copyPer64: 0.1, syscall: 300.3 };
    const text = new Uint8Array(41).fill(0x61);
    text[40] = 0;
    for (const va of [BASE, BASE + P - 7]) {
      const a = makeMachine({ costs });
      const b = makeMachine({ costs });
      const pa = a.sys.createProcess();
      const pb = b.sys.createProcess();
      for (const [m, p] of [[a, pa], [b, pb]] as const) {
        expect(typeof p.mm.mapRegion(BASE, 2 * P, PROT_READ | PROT_WRITE, ANON, true)).not.toBe('number');
        expect(p.mm.copyToUser(va, text, 0, text.length)).toBe(0);
        m.cpu.charge(0.7);
      }
      const c0 = a.cpu.stepCycles;
      expect(byteAtATime(pa.mm, va, 100)).toBe('a'.repeat(40));
      const c1 = b.cpu.stepCycles;
      expect(pb.mm.strndupUser(va, 100)).toBe('a'.repeat(40));
      expect(b.cpu.stepCycles - c1).toBe(a.cpu.stepCycles - c0);
      expect(b.cpu.stepCycles).toBe(a.cpu.stepCycles);
    }
  });
});
