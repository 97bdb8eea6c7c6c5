import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { GuestProgram } from '../../emulator/cpu/stub.js';
import { IOMMU_EXEC, IOMMU_READ, IOMMU_WRITE } from '../iommu/types.js';
import {
  EEXIST, EFAULT, EINVAL, ENOMEM, EBUSY, ENOSPC, VFIO_CHECK_EXTENSION, VFIO_IOMMU_GET_INFO, VFIO_TYPE1v2_IOMMU, VFIO_UNMAP_ALL,
  MAP_ANONYMOUS, MAP_PRIVATE, MAP_SHARED, O_RDWR, PROT_READ, PROT_WRITE,
  VFIO_DMA_MAP_FLAG_EXEC, VFIO_DMA_MAP_FLAG_READ as R, VFIO_DMA_MAP_FLAG_WRITE as W,
  VFIO_GROUP_SET_CONTAINER, VFIO_IOMMU_MAP_DMA, VFIO_IOMMU_UNMAP_DMA, VFIO_SET_IOMMU, VFIO_TYPE1_IOMMU,
  EACCES, ENOENT, ENOTTY, VFIO_IOMMU_DIRTY_PAGES,
  type Sys,
} from '../uapi/index.js';
import type { FakeDomain } from './testing/fake-iommu.js';
import { makeFixture, type Fixture } from './testing/fixture.js';
import type { Type1Iommu } from './type1.js';

const P = 4096;

interface Ctx {
  sys: Sys;
  c: number;
  g: number;
  /** scratch page for ioctl structs */
  s: number;
  /** 16 pages of anonymous memory to map */
  buf: number;
}

function* open(sys: Sys, bufPages = 16, type = VFIO_TYPE1_IOMMU): GuestProgram<Ctx> {
  const s = yield* sys.mmap(0, P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  const buf = yield* sys.mmap(0, bufPages * P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  const c = yield* sys.open('/dev/vfio/vfio', O_RDWR);
  const g = yield* sys.open('/dev/vfio/0', O_RDWR);
  sys.mem.write32(s, c);
  yield* sys.ioctl(g, VFIO_GROUP_SET_CONTAINER, s);
  const r = yield* sys.ioctl(c, VFIO_SET_IOMMU, type);
  if (r !== 0) throw new Error(`SET_IOMMU ${r}`);
  return { sys, c, g, s, buf };
}

function* map(x: Ctx, flags: number, vaddr: number | bigint, iova: number | bigint, size: number | bigint, argsz = 32): GuestProgram<number> {
  const m = x.sys.mem;
  m.write32(x.s + 256, argsz);
  m.write32(x.s + 260, flags);
  m.write64(x.s + 264, BigInt(vaddr));
  m.write64(x.s + 272, BigInt(iova));
  m.write64(x.s + 280, BigInt(size));
  return yield* x.sys.ioctl(x.c, VFIO_IOMMU_MAP_DMA, x.s + 256);
}

/** returns [ret, written-back size] */
function* unmap(x: Ctx, iova: number | bigint, size: number | bigint, flags = 0, argsz = 24): GuestProgram<[number, number]> {
  const m = x.sys.mem;
  m.write32(x.s + 512, argsz);
  m.write32(x.s + 516, flags);
  m.write64(x.s + 520, BigInt(iova));
  m.write64(x.s + 528, BigInt(size));
  const r = yield* x.sys.ioctl(x.c, VFIO_IOMMU_UNMAP_DMA, x.s + 512);
  return [r, Number(m.read64(x.s + 528))];
}

function curProc(fx: Fixture) {
  return fx.sys.processes.values().next().value!;
}

function iommuOf(fx: Fixture): Type1Iommu {
  return fx.type1!.instances[0]!;
}

function runGuest(fx: Fixture, body: (x: Ctx, o: unknown[]) => GuestProgram<void>, opts = {}): unknown[] {
  const out: unknown[] = [];
  const { thread } = fx.run(function* (sys) {
    const x = yield* open(sys);
    yield* body(x, out);
    return 0;
  }, opts);
  expect(thread.exit?.hostError ?? null).toBeNull();
  expect(thread.exit?.trap ?? null).toBeNull();
  return out;
}

describe('MAP_DMA argument checks (2014 type1)', () => {
  const cases: [string, (x: Ctx) => [number, number | bigint, number | bigint, number | bigint, number?], number][] = [
    ['read+write page', (x) => [R | W, x.buf, 0, P], 0],
    ['read only', (x) => [R, x.buf, 0, P], 0],
    ['no READ/WRITE', (x) => [0, x.buf, 0, P], -EINVAL],
    ['unknown flag bit 3', (x) => [R | 8, x.buf, 0, P], -EINVAL],
    ['argsz < minsz', (x) => [R | W, x.buf, 0, P, 31], -EINVAL],
    ['argsz larger accepted', (x) => [R | W, x.buf, 0, P, 64], 0],
    ['size 0', (x) => [R | W, x.buf, 0, 0], -EINVAL],
    ['unaligned size', (x) => [R | W, x.buf, 0, 100], -EINVAL],
    ['unaligned iova', (x) => [R | W, x.buf, 0x800, P], -EINVAL],
    ['unaligned vaddr', (x) => [R | W, x.buf + 4, 0, P], -EINVAL],
    ['iova wrap', (x) => [R | W, x.buf, 0xfffffffffffff000n, 2 * P], -EINVAL],
    ['vaddr wrap', (_x) => [R | W, 0xfffff000, 0, 2 * P], -EINVAL],
    ['vaddr beyond 32 bits', (_x) => [R | W, 0x100000000n, 0, P], -EINVAL],
    ['unmapped vaddr', (_x) => [R | W, 0x10000, 0, P], -EFAULT],
    ['partly unmapped vaddr', (x) => [R | W, x.buf + 15 * P, 0, 2 * P], -EFAULT],
  ];
  it.each(cases)('%s', (_name, args, want) => {
    const fx = makeFixture('patches:1-3');
    const out = runGuest(fx, function* (x, o) {
      const [f, v, i, s, a] = args(x);
      o.push(yield* map(x, f, v, i, s, a));
      o.push(iommuOf(fx).dmas.length, fx.mem.pages.pinnedPages, curProc(fx).mm.lockedVm);
    });
    // on failure nothing is mapped, pinned or accounted
    expect(out).toEqual(want === 0 ? [0, 1, out[2], out[2]] : [want, 0, 0, 0]);
  });

  it('unmappable vaddr fails atomically: pages pinned before the hole are released', () => {
    const fx = makeFixture();
    let mid: [number, number, number] = [0, 0, 0];
    runGuest(fx, function* (x, o) {
      yield* x.sys.munmap(x.buf + 8 * P, P);
      o.push(yield* map(x, R | W, x.buf, 0, 16 * P));
      mid = [fx.mem.pages.pinnedPages, curProc(fx).mm.lockedVm, (fx.iommu.domains[0] as FakeDomain).pages.size];
    });
    expect(mid).toEqual([0, 0, 0]);
  });

  it('overlap -EEXIST in every geometry; -EBUSY when the IOVA is already in the IOMMU', () => {
    const fx = makeFixture();
    const out = runGuest(fx, function* (x, o) {
      o.push(yield* map(x, R | W, x.buf, 4 * P, 4 * P));
      o.push(yield* map(x, R | W, x.buf + 8 * P, 4 * P, P)); // same start
      o.push(yield* map(x, R | W, x.buf + 8 * P, 2 * P, 4 * P)); // covers head
      o.push(yield* map(x, R | W, x.buf + 8 * P, 7 * P, 2 * P)); // covers tail
      o.push(yield* map(x, R | W, x.buf + 8 * P, 5 * P, P)); // inside
      o.push(yield* map(x, R | W, x.buf + 8 * P, 0, 12 * P)); // around
      o.push(yield* map(x, R | W, x.buf + 8 * P, 8 * P, P)); // adjacent: ok
      (fx.iommu.domains[0] as FakeDomain).map(12 * P, 0x80000000, P, IOMMU_READ);
      o.push(yield* map(x, R | W, x.buf + 12 * P, 12 * P, P));
    });
    expect(out).toEqual([0, -EEXIST, -EEXIST, -EEXIST, -EEXIST, -EEXIST, 0, -EBUSY]);
    expect(fx.mem.pages.pinnedPages).toBe(0);
  });

  it('RLIMIT_MEMLOCK: -ENOMEM with nothing left pinned; CAP_IPC_LOCK bypasses it', () => {
    const fx = makeFixture();
    let seen: number[] = [];
    const out = runGuest(fx, function* (x, o) {
      o.push(yield* map(x, R | W, x.buf, 0, 2 * P)); // 8 KiB of the 16 KiB limit
      o.push(yield* map(x, R | W, x.buf + 2 * P, 0x10000, 4 * P)); // would need 6 pages > 4
      const p = curProc(fx);
      seen = [p.mm.lockedVm, fx.mem.pages.pinnedPages];
      o.push(yield* map(x, R | W, x.buf + 2 * P, 0x10000, 2 * P)); // exactly at the limit
    }, { capIpcLock: false, memlock: 4 * P + 1 });
    expect(out).toEqual([0, -ENOMEM, 0]);
    expect(seen).toEqual([2, 2]);
    // 3.14 vfio_pin_pages: pr_warn with __func__, the limit in whole pages. The second MAP_DMA's
    // pages are consecutive frames: the first chunk stops at its third page (the warning), is
    // mapped, and the next chunk's first page fails the limit (the warning again, -ENOMEM)
    expect(fx.log.lines().filter((l) => l.includes('RLIMIT_MEMLOCK')).map((l) => l.replace(/^\[[ .0-9]+\] /, ''))).toEqual(['vfio_pin_pages: RLIMIT_MEMLOCK (16384) exceeded', 'vfio_pin_pages: RLIMIT_MEMLOCK (16384) exceeded']);
    // mainline vfio_pin_pages_remote: the page past the limit fails the call, one warning
    const fxm = makeFixture('mainline');
    const outm = runGuest(fxm, function* (x, o) {
      o.push(yield* map(x, R | W, x.buf, 0, 2 * P));
      o.push(yield* map(x, R | W, x.buf + 2 * P, 0x10000, 4 * P));
      o.push(yield* map(x, R | W, x.buf + 2 * P, 0x10000, 2 * P));
    }, { capIpcLock: false, memlock: 4 * P + 1 });
    expect(outm).toEqual([0, -ENOMEM, 0]);
    expect(fxm.log.lines().filter((l) => l.includes('RLIMIT_MEMLOCK')).map((l) => l.replace(/^\[[ .0-9]+\] /, ''))).toEqual(['vfio_pin_pages_remote: RLIMIT_MEMLOCK (16384) exceeded']);
    const fx2 = makeFixture();
    const out2 = runGuest(fx2, function* (x, o) {
      o.push(yield* map(x, R | W, x.buf, 0, 16 * P));
    }, { memlock: 4 * P, capIpcLock: true });
    expect(out2).toEqual([0]);
  });

  it('one iommu_map per physically contiguous chunk: frames faulted out of order split it (3.14 vfio_pin_pages and mainline vfio_pin_pages_remote alike)', () => {
    for (const profile of ['rfc-v4', 'mainline']) {
      const fx = makeFixture(profile);
      const pas: number[] = [];
      let calls: [number, number, number][] = [];
      const out = runGuest(fx, function* (x, o) {
        // fault pages 0-3 in order, then 6, then 4, 5, 7: frames f, f+1, f+2, f+3, f+5, f+6, f+4, f+7
        for (const i of [0, 1, 2, 3, 6, 4, 5, 7]) x.sys.mem.write32(x.buf + i * P, i);
        o.push(yield* map(x, R | W, x.buf, 0x100000, 8 * P));
        const d = fx.iommu.domains.at(-1) as FakeDomain;
        for (let i = 0; i < 8; i++) pas.push(d.iovaToPhys(0x100000 + i * P)!);
        calls = d.calls.filter((c) => c[0] >= 0x100000);
      });
      expect(out).toEqual([0]);
      const f = pas[0]!;
      expect(pas.map((pa) => (pa - f) / P)).toEqual([0, 1, 2, 3, 5, 6, 4, 7]);
      // chunks: pages 0-3, 4-5 (frames f+5, f+6), 6 (f+4), 7 (f+7)
      expect(calls).toEqual([[0x100000, f, 4 * P], [0x104000, f + 5 * P, 2 * P], [0x106000, f + 4 * P, P], [0x107000, f + 7 * P, P]]);
    }
  });

  it('a WRITE mapping of read-only memory is -EFAULT; READ-only is fine', () => {
    const fx = makeFixture();
    const out = runGuest(fx, function* (x, o) {
      yield* x.sys.mprotect(x.buf, 4 * P, PROT_READ);
      o.push(yield* map(x, R | W, x.buf, 0, P));
      o.push(yield* map(x, R, x.buf, 0, P));
    });
    expect(out).toEqual([-EFAULT, 0]);
  });

  it('mappings hit the IOMMU with the pinned pages, and the device sees what the program wrote', () => {
    const fx = makeFixture();
    runGuest(fx, function* (x) {
      x.sys.mem.write32(x.buf + P + 8, 0xcafef00d);
      yield* map(x, R | W, x.buf, 0x100000, 2 * P);
      const d = fx.iommu.domains[0] as FakeDomain;
      const pa = d.iovaToPhys(0x100000 + P + 8)!;
      expect(fx.mem.bus.read(pa, 4, 0)).toBe(0xcafef00d);
      expect(d.pages.get(0x100000)!.prot).toBe(IOMMU_READ | IOMMU_WRITE);
    });
  });
});

describe('merge, unmap trimming and splitting', () => {
  it('adjacent mappings with contiguous vaddr and same prot merge; others do not', () => {
    const fx = makeFixture();
    runGuest(fx, function* (x) {
      yield* map(x, R | W, x.buf + P, P, P);
      yield* map(x, R | W, x.buf, 0, P); // left neighbour
      yield* map(x, R | W, x.buf + 2 * P, 2 * P, P); // right neighbour
      expect(iommuOf(fx).mappings()).toEqual([{ iova: 0, size: 3 * P, vaddr: x.buf, prot: IOMMU_READ | IOMMU_WRITE, vaddrInvalid: false }]);
      yield* map(x, R, x.buf + 3 * P, 3 * P, P); // different prot
      yield* map(x, R | W, x.buf + 8 * P, 4 * P, P); // vaddr not contiguous
      expect(iommuOf(fx).mappings().length).toBe(3);
    });
  });

  it('UNMAP checks and written-back sizes', () => {
    const fx = makeFixture();
    const out = runGuest(fx, function* (x, o) {
      yield* map(x, R | W, x.buf, 0x10000, 8 * P);
      o.push(yield* unmap(x, 0x10000, 0)); // size 0
      o.push(yield* unmap(x, 0x10800, P)); // unaligned iova
      o.push(yield* unmap(x, 0x10000, 100)); // unaligned size
      o.push(yield* unmap(x, 0x10000, P, 1)); // flags
      o.push(yield* unmap(x, 0x10000, P, 0, 23)); // argsz
      o.push(yield* unmap(x, 0x100000, P)); // nothing mapped: 0 bytes
      o.push(yield* unmap(x, 0x10000 + 2 * P, 2 * P)); // split in the middle
      o.push(iommuOf(fx).mappings().map((m) => [m.iova, m.size]));
      o.push(yield* unmap(x, 0x10000, P)); // trim head
      o.push(yield* unmap(x, 0x10000 + 7 * P, 4 * P)); // trim tail, range beyond
      o.push(iommuOf(fx).mappings().map((m) => [m.iova, m.size, m.vaddr - x.buf]));
      o.push(yield* unmap(x, 0, 0x100000)); // everything left
      o.push(fx.mem.pages.pinnedPages);
    });
    expect(out).toEqual([
      [-EINVAL, 0], [-EINVAL, P], [-EINVAL, 100], [-EINVAL, P], [-EINVAL, P],
      [0, 0],
      [0, 2 * P],
      [[0x10000, 2 * P], [0x10000 + 4 * P, 4 * P]],
      [0, P],
      [0, P],
      [[0x10000 + P, P, P], [0x10000 + 4 * P, 3 * P, 4 * P]],
      [0, 4 * P],
      0,
    ]);
  });
});

describe('patch 02: VFIO_DMA_MAP_FLAG_EXEC', () => {
  it.each([
    ['patches:1,3-10 (no 02): rejected', 'patches:1,3-10', -EINVAL],
    ['rfc-v4: accepted', 'rfc-v4', 0],
    ['patches:2-3: accepted', 'patches:2-3', 0],
  ])('%s', (_n, profile, want) => {
    const fx = makeFixture(profile);
    const out = runGuest(fx, function* (x, o) {
      o.push(yield* map(x, R | W | VFIO_DMA_MAP_FLAG_EXEC, x.buf, 0x2000, P));
      o.push(yield* map(x, R | W, x.buf + P, 0x3000, P));
      o.push(yield* map(x, VFIO_DMA_MAP_FLAG_EXEC, x.buf + 2 * P, 0x5000, P));
    });
    expect(out).toEqual([want, 0, want]);
    const d = fx.iommu.attached.values().next().value as FakeDomain | undefined;
    // (the container is gone after exit; check through a fresh run below)
    expect(d).toBeUndefined();
  });

  it('with 02 the EXEC mapping is passed as IOMMU_EXEC (no XN); without EXEC it keeps XN', () => {
    const fx = makeFixture('rfc-v4');
    runGuest(fx, function* (x) {
      yield* map(x, R | W | VFIO_DMA_MAP_FLAG_EXEC, x.buf, 0x2000, P);
      yield* map(x, R | W, x.buf + 4 * P, 0x8000, P);
      const d = fx.iommu.domains[0] as FakeDomain;
      expect(d.pages.get(0x2000)!.prot).toBe(IOMMU_READ | IOMMU_WRITE | IOMMU_EXEC);
      expect(d.xn(0x2000)).toBe(false);
      expect(d.xn(0x8000)).toBe(true);
    });
  });

  it('mainline: bit 2 is VADDR, not EXEC: READ/WRITE with it -EINVAL, the mapping stays executable (no IOMMU_NOEXEC); the VADDR protocol is in type1-vaddr.test.ts', () => {
    const fx = makeFixture('mainline');
    const out = runGuest(fx, function* (x, o) {
      o.push(yield* map(x, R | W, x.buf, 0, 2 * P));
      o.push(yield* map(x, R | W | 4, x.buf + 4 * P, 0, 2 * P));
      const d = fx.iommu.domains[0] as FakeDomain;
      o.push(d.pages.get(0)!.prot & IOMMU_EXEC);
    });
    expect(out).toEqual([0, -EINVAL, 0]);
  });
});

/**
 * issue 17: mainline type1 (drivers/vfio/vfio_iommu_type1.c). Each row: the profile, the
 * container type, the operations, the expected results and the kernel function deciding them;
 * the 2014 rows keep 3.14's answers.
 */
describe('mainline type1 rules (issue 17)', () => {
  type Row = [string, string, number, (x: Ctx) => GuestProgram<unknown[]>, unknown[], string];
  const mapsOf = (fx: Fixture) => iommuOf(fx).mappings().map((m) => [m.iova / P, m.size / P]);
  const rows = (fx: () => Fixture): Row[] => [
    ['SET_IOMMU(TYPE1v2) accepted', 'mainline', VFIO_TYPE1v2_IOMMU, function* () { return [iommuOf(fx()).v2]; }, [true], 'vfio_iommu_type1_open'],
    ['CHECK_EXTENSION TYPE1, TYPE1v2, UNMAP_ALL', 'mainline', VFIO_TYPE1_IOMMU, function* (x) {
      return [yield* x.sys.ioctl(x.c, VFIO_CHECK_EXTENSION, VFIO_TYPE1_IOMMU), yield* x.sys.ioctl(x.c, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU), yield* x.sys.ioctl(x.c, VFIO_CHECK_EXTENSION, VFIO_UNMAP_ALL)];
    }, [1, 1, 1], 'vfio_iommu_type1_check_extension'],
    ['v6.12: VFIO_TYPE1_NESTING_IOMMU (6) offered; SET_IOMMU(6) opens a v2 container (a split unmap -EINVAL)', 'mainline', 6, function* (x) {
      yield* map(x, R | W, x.buf, 0, 4 * P);
      return [yield* x.sys.ioctl(x.c, VFIO_CHECK_EXTENSION, 6), iommuOf(fx()).v2, (yield* unmap(x, P, P))[0]];
    }, [1, true, -EINVAL], 'vfio_iommu_type1_check_extension / vfio_iommu_type1_open (nesting falls through to v2)'],
    ['2014: CHECK_EXTENSION(6) 0', 'rfc-v4', VFIO_TYPE1_IOMMU, function* (x) { return [yield* x.sys.ioctl(x.c, VFIO_CHECK_EXTENSION, 6)]; }, [0], '3.14 vfio_iommu_type1_ioctl'],
    ['2014: CHECK_EXTENSION UNMAP_ALL 0', 'rfc-v4', VFIO_TYPE1_IOMMU, function* (x) { return [yield* x.sys.ioctl(x.c, VFIO_CHECK_EXTENSION, VFIO_UNMAP_ALL)]; }, [0], '3.14 vfio_iommu_type1_ioctl'],
    ['adjacent mappings stay separate', 'mainline', VFIO_TYPE1_IOMMU, function* (x) {
      return [yield* map(x, R | W, x.buf, 0, P), yield* map(x, R | W, x.buf + P, P, P), mapsOf(fx())];
    }, [0, 0, [[0, 1], [1, 1]]], 'vfio_dma_do_map / vfio_link_dma'],
    ['2014: adjacent mappings merged', 'rfc-v4', VFIO_TYPE1_IOMMU, function* (x) {
      return [yield* map(x, R | W, x.buf, 0, P), yield* map(x, R | W, x.buf + P, P, P), mapsOf(fx())];
    }, [0, 0, [[0, 2]]], '3.14 vfio_dma_do_map'],
    ['v1: unmap covering the first IOVA removes the whole mapping', 'mainline', VFIO_TYPE1_IOMMU, function* (x) {
      yield* map(x, R | W, x.buf, 0, 4 * P);
      return [...(yield* unmap(x, 0, P)), mapsOf(fx()), fx().mem.pages.pinnedPages];
    }, [0, 4 * P, [], 0], 'vfio_dma_do_unmap (v1)'],
    ['v1: unmap starting inside a mapping returns size 0', 'mainline', VFIO_TYPE1_IOMMU, function* (x) {
      yield* map(x, R | W, x.buf, 0, 4 * P);
      yield* map(x, R | W, x.buf + 4 * P, 4 * P, P);
      return [...(yield* unmap(x, P, 8 * P)), mapsOf(fx())];
    }, [0, 0, [[0, 4], [4, 1]]], 'vfio_dma_do_unmap (v1)'],
    ['2014: unmap inside a mapping splits it', 'rfc-v4', VFIO_TYPE1_IOMMU, function* (x) {
      yield* map(x, R | W, x.buf, 0, 4 * P);
      return [...(yield* unmap(x, P, P)), mapsOf(fx())];
    }, [0, P, [[0, 1], [2, 2]]], '3.14 vfio_dma_do_unmap'],
    ['v2: unmap splitting a mapping at its start -EINVAL', 'mainline', VFIO_TYPE1v2_IOMMU, function* (x) {
      yield* map(x, R | W, x.buf, 0, 4 * P);
      return [(yield* unmap(x, P, 3 * P))[0], mapsOf(fx())];
    }, [-EINVAL, [[0, 4]]], 'vfio_dma_do_unmap (v2)'],
    ['v2: unmap splitting a mapping at its end -EINVAL', 'mainline', VFIO_TYPE1v2_IOMMU, function* (x) {
      yield* map(x, R | W, x.buf, 0, 4 * P);
      return [(yield* unmap(x, 0, P))[0], mapsOf(fx())];
    }, [-EINVAL, [[0, 4]]], 'vfio_dma_do_unmap (v2)'],
    ['v2: unmap of whole mappings and holes', 'mainline', VFIO_TYPE1v2_IOMMU, function* (x) {
      yield* map(x, R | W, x.buf, 0, 2 * P);
      yield* map(x, R | W, x.buf + 2 * P, 4 * P, 2 * P);
      return [...(yield* unmap(x, 0, 16 * P)), mapsOf(fx())];
    }, [0, 4 * P, []], 'vfio_dma_do_unmap (v2)'],
    ['UNMAP_FLAG_ALL removes everything', 'mainline', VFIO_TYPE1v2_IOMMU, function* (x) {
      yield* map(x, R | W, x.buf, 0, 2 * P);
      yield* map(x, R | W, x.buf + 2 * P, 8 * P, P);
      return [...(yield* unmap(x, 0, 0, 2)), mapsOf(fx())];
    }, [0, 3 * P, []], 'vfio_dma_do_unmap (VFIO_DMA_UNMAP_FLAG_ALL)'],
    ['UNMAP_FLAG_ALL with iova or size -EINVAL', 'mainline', VFIO_TYPE1_IOMMU, function* (x) {
      yield* map(x, R | W, x.buf, 0, 2 * P);
      return [(yield* unmap(x, 0, P, 2))[0], (yield* unmap(x, P, 0, 2))[0], mapsOf(fx())];
    }, [-EINVAL, -EINVAL, [[0, 2]]], 'vfio_dma_do_unmap'],
    ['UNMAP of 4 GiB or more -EINVAL: size is a size_t (32 bits)', 'mainline', VFIO_TYPE1_IOMMU, function* (x) {
      yield* map(x, R | W, x.buf, 0, 2 * P);
      return [(yield* unmap(x, 0, 2 ** 32))[0], (yield* unmap(x, 0, 2 ** 32 - P))[0], mapsOf(fx())];
    }, [-EINVAL, 0, []], 'vfio_dma_do_unmap: size > SIZE_MAX'],
    ['2014: UNMAP flags must be 0', 'rfc-v4', VFIO_TYPE1_IOMMU, function* (x) { return [(yield* unmap(x, 0, 0, 2))[0]]; }, [-EINVAL], '3.14 vfio_iommu_type1_ioctl'],
    ['MAP_DMA beyond the aperture -EINVAL', 'mainline', VFIO_TYPE1_IOMMU, function* (x) {
      return [yield* map(x, R | W, x.buf, 2 ** 32, P), yield* map(x, R | W, x.buf, 2 ** 32 - P, 2 * P), yield* map(x, R | W, x.buf, 2 ** 32 - P, P)];
    }, [-EINVAL, -EINVAL, 0], 'vfio_dma_do_map -> vfio_iommu_iova_dma_valid'],
    ['an IOVA far beyond the aperture (2^52): VADDR -ENOENT, no entry left -ENOSPC, else -EINVAL, in the kernel\'s order', 'mainline', VFIO_TYPE1v2_IOMMU, function* (x) {
      const far = 2n ** 52n;
      const out = [yield* map(x, 4, x.buf, far, P), yield* map(x, R | W, x.buf, far, P)];
      iommuOf(fx()).dmaAvail = 0;
      out.push(yield* map(x, R | W, x.buf, far, P));
      return out;
    }, [-ENOENT, -EINVAL, -ENOSPC], 'vfio_dma_do_map: vfio_find_dma, dma_avail, vfio_iommu_iova_dma_valid'],
    ['2014: no aperture check', 'rfc-v4', VFIO_TYPE1_IOMMU, function* (x) { return [yield* map(x, R | W, x.buf, 2 ** 32, P)]; }, [0], '3.14 vfio_dma_do_map'],
  ];
  let cur: Fixture | null = null;
  const get = (): Fixture => cur!;
  it.each(rows(get).map((r) => [r[0], r[5], r] as const))('%s (%s)', (_n, _fn, row) => {
    const [, prof, type, body, want] = row;
    const fx = makeFixture(prof);
    cur = fx;
    const out: unknown[] = [];
    const { thread } = fx.run(function* (sys) {
      const x = yield* open(sys, 16, type);
      out.push(...(yield* body(x)));
      return 0;
    });
    expect(thread.exit?.hostError ?? null).toBeNull();
    expect(out).toEqual(want);
  });

  it('dma_entry_limit: the 65536th MAP_DMA is -ENOSPC; an unmap frees an entry (vfio_dma_do_map)', () => {
    const fx = makeFixture('mainline');
    const out = runGuest(fx, function* (x, o) {
      iommuOf(fx).dmaAvail = 1; // as if 65534 mappings existed
      o.push(yield* map(x, R | W, x.buf, 0, P));
      o.push(yield* map(x, R | W, x.buf + P, P, P));
      o.push((yield* unmap(x, 0, P))[0]);
      o.push(yield* map(x, R | W, x.buf + P, P, P));
    });
    expect(out).toEqual([0, -ENOSPC, 0, 0]);
    const fresh = makeFixture('mainline');
    runGuest(fresh, function* () { expect(iommuOf(fresh).dmaAvail).toBe(65535); });
  });

  it('GET_INFO: capability chain (migration, DMA-avail, IOVA ranges), CAPS flag, cap_offset; argsz raised (vfio_iommu_type1_get_info)', () => {
    const fx = makeFixture('mainline');
    const res: unknown[] = [];
    runGuest(fx, function* (x) {
      const m = x.sys.mem;
      const a = x.s + 1024;
      m.write32(a, 24);
      m.write32(a + 16, 0xdead);
      m.write32(a + 20, 0xbeef);
      res.push(yield* x.sys.ioctl(x.c, VFIO_IOMMU_GET_INFO, a), m.read32(a), m.read32(a + 4), m.read32(a + 16), m.read32(a + 20));
      // argsz 18: 18 bytes copied back, half of cap_offset (min(argsz, sizeof(info)))
      m.write32(a, 18);
      m.write32(a + 16, 0xdeadbeef);
      res.push(yield* x.sys.ioctl(x.c, VFIO_IOMMU_GET_INFO, a), m.read32(a + 16));
      m.write32(a, 104);
      res.push(yield* x.sys.ioctl(x.c, VFIO_IOMMU_GET_INFO, a), m.read32(a + 4), m.read32(a + 16));
      // chain: migration @24 -> DMA-avail @56 -> IOVA ranges @72
      // the migration capability: pgsize_bitmap is the smallest page size alone (vfio_iommu_migration_build_caps)
      res.push([m.read32(a + 24) & 0xffff, m.read32(a + 28), m.read64(a + 40), m.read64(a + 48)], [m.read32(a + 56) & 0xffff, m.read32(a + 60), m.read32(a + 64)]);
      res.push([m.read32(a + 72) & 0xffff, m.read32(a + 76), m.read32(a + 80), m.read64(a + 88), m.read64(a + 96)]);
    });
    expect(res).toEqual([0, 104, 3, 0, 0, 0, 0xdead0000, 0, 3, 24, [2, 56, 4096n, 2n ** 28n], [3, 72, 65535], [1, 0, 1, 0n, 2n ** 32n - 1n]]);
    const old = makeFixture('rfc-v4');
    runGuest(old, function* (x) {
      x.sys.mem.write32(x.s + 1024, 24);
      x.sys.mem.write32(x.s + 1040, 0xdead);
      expect(yield* x.sys.ioctl(x.c, VFIO_IOMMU_GET_INFO, x.s + 1024)).toBe(0);
      expect([x.sys.mem.read32(x.s + 1024), x.sys.mem.read32(x.s + 1028), x.sys.mem.read32(x.s + 1040)]).toEqual([24, 0, 0xdead]);
    });
  });
});

describe('dirty page tracking (mainline, type1-dirty.ts)', () => {
  const START = 1;
  const STOP = 2;
  const GET = 4;
  /** the bitmap's page in the scratch page: 8 bytes of bitmap, then a canary */
  const BM = 2048;
  function* dirty(x: Ctx, flags: number, argsz = 8): GuestProgram<number> {
    x.sys.mem.write32(x.s + 1024, argsz);
    x.sys.mem.write32(x.s + 1028, flags);
    return yield* x.sys.ioctl(x.c, VFIO_IOMMU_DIRTY_PAGES, x.s + 1024);
  }
  /** GET_BITMAP of [iova, iova + size) into `bytes` bytes at x.s + BM (pgsize P unless given) */
  function* getBitmap(x: Ctx, iova: number, size: number, bytes: number, pgsize = P, data = x.s + BM, argsz = 48): GuestProgram<number> {
    const m = x.sys.mem;
    m.write64(x.s + 1032, BigInt(iova));
    m.write64(x.s + 1040, BigInt(size));
    m.write64(x.s + 1048, BigInt(pgsize));
    m.write64(x.s + 1056, BigInt(bytes));
    m.write64(x.s + 1064, BigInt(data));
    return yield* dirty(x, GET, argsz);
  }
  /** UNMAP_DMA with GET_DIRTY_BITMAP: [ret, size written back] */
  function* unmapDirty(x: Ctx, iova: number, size: number, bytes: number, pgsize = P, argsz = 48): GuestProgram<[number, number]> {
    const m = x.sys.mem;
    m.write64(x.s + 536, BigInt(pgsize));
    m.write64(x.s + 544, BigInt(bytes));
    m.write64(x.s + 552, BigInt(x.s + BM));
    return yield* unmap(x, iova, size, 1, argsz);
  }
  const hex = (x: Ctx, n: number): string => [...x.sys.mem.readBytes(x.s + BM, n)].map((b) => b.toString(16).padStart(2, '0')).join('');
  function run(profile: string, type: number, body: (x: Ctx, fx: Fixture) => GuestProgram<void>): void {
    const fx = makeFixture(profile);
    const { thread } = fx.run(function* (sys) {
      yield* body(yield* open(sys, 64, type), fx);
      return 0;
    });
    expect(thread.exit?.hostError ?? null).toBeNull();
    expect(thread.exit?.trap ?? null).toBeNull();
  }

  it('2014: no such request (-ENOTTY); mainline TYPE1 (v1) -EACCES before reading anything; flag rules', () => {
    run('rfc-v4', VFIO_TYPE1_IOMMU, function* (x) {
      expect(yield* dirty(x, START)).toBe(-ENOTTY);
    });
    run('mainline', VFIO_TYPE1_IOMMU, function* (x) {
      expect(yield* x.sys.ioctl(x.c, VFIO_IOMMU_DIRTY_PAGES, 0)).toBe(-EACCES);
    });
    run('mainline', VFIO_TYPE1v2_IOMMU, function* (x) {
      expect(yield* x.sys.ioctl(x.c, VFIO_IOMMU_DIRTY_PAGES, 0)).toBe(-EFAULT);
      expect([yield* dirty(x, START, 7), yield* dirty(x, 8), yield* dirty(x, START | STOP), yield* dirty(x, 0)]).toEqual([-EINVAL, -EINVAL, -EINVAL, -EINVAL]);
      expect([yield* dirty(x, START), yield* dirty(x, START), yield* dirty(x, STOP), yield* dirty(x, STOP)]).toEqual([0, 0, 0, 0]);
    });
  });

  it('GET_BITMAP reports every page of a pinned and mapped mapping dirty, every time; START allocates, STOP frees, a MAP during tracking gets its bitmap', () => {
    run('mainline', VFIO_TYPE1v2_IOMMU, function* (x, fx) {
      expect(yield* map(x, R | W, x.buf, 0, 3 * P)).toBe(0);
      // tracking off: -EINVAL
      expect(yield* getBitmap(x, 0, 4 * P, 8)).toBe(-EINVAL);
      expect(yield* dirty(x, START)).toBe(0);
      expect(iommuOf(fx).dmas.map((d) => d.bitmap?.length)).toEqual([4]);
      for (let k = 0; k < 2; k++) {
        x.sys.mem.writeBytes(x.s + BM, new Uint8Array(16).fill(0xaa));
        expect(yield* getBitmap(x, 0, 4 * P, 8)).toBe(0);
        expect(hex(x, 16)).toBe('0700000000000000aaaaaaaaaaaaaaaa');
      }
      expect(yield* map(x, R | W, x.buf + 8 * P, 8 * P, 2 * P)).toBe(0);
      expect(yield* getBitmap(x, 8 * P, 2 * P, 8)).toBe(0);
      expect(hex(x, 8)).toBe('0300000000000000');
      expect(yield* dirty(x, STOP)).toBe(0);
      expect(iommuOf(fx).dmas.map((d) => d.bitmap)).toEqual([null, null]);
      expect(yield* getBitmap(x, 0, 4 * P, 8)).toBe(-EINVAL);
    });
  });

  it('GET_BITMAP argument checks (vfio_iommu_type1_dirty_pages, verify_bitmap_size, vfio_iova_dirty_bitmap): each -EINVAL', () => {
    run('mainline', VFIO_TYPE1v2_IOMMU, function* (x) {
      expect(yield* map(x, R | W, x.buf, 4 * P, 4 * P)).toBe(0);
      expect(yield* dirty(x, START)).toBe(0);
      const got = [
        yield* getBitmap(x, 4 * P, 4 * P, 8, P, x.s + BM, 47), // argsz leaves no room for the range
        yield* getBitmap(x, 4 * P, 4 * P, 8, 2 * P), // not the smallest page size
        yield* getBitmap(x, 4 * P + 1, 4 * P, 8), // unaligned iova
        yield* getBitmap(x, 4 * P, 4 * P + 1, 8), // unaligned size
        yield* getBitmap(x, 4 * P, 0, 8), // no pages
        yield* getBitmap(x, 4 * P, 4 * P, 0), // no bitmap
        yield* getBitmap(x, 4 * P, 2 ** 28 * 8 * P, 2 ** 28 + 8), // bitmap over DIRTY_BITMAP_SIZE_MAX
        yield* getBitmap(x, 4 * P, 65 * 4 * P, 8), // 260 pages need 40 bytes
        yield* getBitmap(x, 4 * P, 4 * P, 8, P, 0xbffffffc), // the bitmap reaches TASK_SIZE (access_ok)
        yield* getBitmap(x, 0, 6 * P, 8), // ends inside the mapping
        yield* getBitmap(x, 5 * P, 4 * P, 8), // starts inside it
        yield* getBitmap(x, 4 * P, 4 * P, 8, 0), // pgsize 0: __ffs(0), no pages
      ];
      expect(got).toEqual(Array(got.length).fill(-EINVAL));
      expect(yield* getBitmap(x, 0, 16 * P, 8)).toBe(0);
      expect(hex(x, 8)).toBe('f000000000000000');
    });
  });

  it('32-bit kernel: a mapping 32 or more pages after the base is written at twice its offset (copy_offset in longs, the pointer in u64): its bits are lost and the bytes past the bitmap overwritten', () => {
    run('mainline', VFIO_TYPE1v2_IOMMU, function* (x) {
      expect(yield* map(x, R | W, x.buf, 0, 32 * P)).toBe(0);
      expect(yield* map(x, R | W, x.buf + 32 * P, 32 * P, P)).toBe(0);
      expect(yield* dirty(x, START)).toBe(0);
      // 33 pages need 8 bytes; the 8 after them are the caller's canary
      x.sys.mem.writeBytes(x.s + BM, new Uint8Array(24).fill(0xaa));
      expect(yield* getBitmap(x, 0, 33 * P, 8)).toBe(0);
      // a 64-bit kernel writes ffffffff01000000 and leaves the canary; this one writes the
      // first mapping's word and zeroes, then the second mapping's bit at byte 8
      expect(hex(x, 24)).toBe('ffffffff00000000' + '0100000000000000' + 'aaaaaaaaaaaaaaaa');
      // a mapping less than 32 pages from the base shares the first word: merged with the
      // leftover word, correct
      x.sys.mem.writeBytes(x.s + BM, new Uint8Array(24).fill(0));
      expect(yield* getBitmap(x, 31 * P, 2 * P, 8)).toBe(-EINVAL); // bisects the first mapping
    });
    run('mainline', VFIO_TYPE1v2_IOMMU, function* (x) {
      expect(yield* map(x, R | W, x.buf, 0, 4 * P)).toBe(0);
      expect(yield* map(x, R | W, x.buf + 4 * P, 8 * P, 2 * P)).toBe(0);
      expect(yield* dirty(x, START)).toBe(0);
      x.sys.mem.writeBytes(x.s + BM, new Uint8Array(16).fill(0));
      expect(yield* getBitmap(x, 0, 16 * P, 8)).toBe(0);
      expect(hex(x, 16)).toBe('0f03000000000000' + '0000000000000000');
    });
  });

  it('UNMAP_DMA with GET_DIRTY_BITMAP: refused while tracking is off or with another pgsize; with tracking, each mapping is reported, then removed', () => {
    run('mainline', VFIO_TYPE1v2_IOMMU, function* (x, fx) {
      expect(yield* map(x, R | W, x.buf, 0, 2 * P)).toBe(0);
      expect(yield* map(x, R | W, x.buf + 2 * P, 4 * P, 3 * P)).toBe(0);
      expect((yield* unmapDirty(x, 0, 8 * P, 8))[0]).toBe(-EINVAL);
      expect(yield* dirty(x, START)).toBe(0);
      expect([(yield* unmapDirty(x, 0, 8 * P, 8, P, 47))[0], (yield* unmapDirty(x, 0, 8 * P, 8, 2 * P))[0], (yield* unmapDirty(x, 0, 8 * P, 0))[0]]).toEqual([-EINVAL, -EINVAL, -EINVAL]);
      x.sys.mem.writeBytes(x.s + BM, new Uint8Array(8));
      expect(yield* unmapDirty(x, 0, 8 * P, 8)).toEqual([0, 5 * P]);
      expect(hex(x, 8)).toBe('7300000000000000');
      expect(iommuOf(fx).dmas).toEqual([]);
    });
  });
});

describe('release', () => {
  it('closing every fd unmaps and unpins everything; pinned pages outlive munmap until then', () => {
    const fx = makeFixture();
    let afterMunmap = -1;
    runGuest(fx, function* (x) {
      yield* map(x, R | W, x.buf, 0, 4 * P);
      yield* x.sys.munmap(x.buf, 16 * P);
      afterMunmap = fx.mem.pages.pinnedPages;
      expect(fx.mem.pages.allocatedPages).toBeGreaterThanOrEqual(4);
      yield* x.sys.close(x.g);
    });
    expect(afterMunmap).toBe(4);
    expect(fx.mem.pages.pinnedPages).toBe(0);
    expect(fx.mem.pages.allocatedPages).toBe(0);
    expect(fx.iommu.domains.length).toBe(0);
  });

  it('property: random MAP/UNMAP/close sequences leave zero pinned pages and zero locked_vm', () => {
    const op = fc.oneof(
      fc.record({ k: fc.constant('map' as const), v: fc.integer({ min: 0, max: 15 }), i: fc.integer({ min: 0, max: 31 }), n: fc.integer({ min: 1, max: 4 }), f: fc.constantFrom(R, W, R | W, R | W | 4) }),
      fc.record({ k: fc.constant('unmap' as const), i: fc.integer({ min: 0, max: 31 }), n: fc.integer({ min: 1, max: 8 }) }),
      fc.record({ k: fc.constant('munmap' as const), v: fc.integer({ min: 0, max: 15 }) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 25 }), fc.boolean(), fc.constantFrom(0, 1, 2), fc.constantFrom('rfc-v4', 'mainline'), (ops, limited, closeOrder, prof) => {
        const fx = makeFixture(prof);
        let lockedDuring = 0;
        let pinnedDuring = 0;
        let mmRef: { lockedVm: number } | null = null;
        const { thread } = fx.run(function* (sys) {
          const x = yield* open(sys);
          const proc = curProc(fx);
          for (const o of ops) {
            if (o.k === 'map') yield* map(x, o.f, x.buf + o.v * P, o.i * P, Math.min(o.n, 16 - o.v) * P);
            else if (o.k === 'unmap') yield* unmap(x, o.i * P, o.n * P);
            else yield* sys.munmap(x.buf + o.v * P, P);
            // invariant: locked_vm equals the pages the container holds pinned
            const it = fx.type1!.instances[0]!;
            if (it.pinnedPages !== proc.mm.lockedVm) throw new Error(`locked_vm ${proc.mm.lockedVm} != pinned ${it.pinnedPages}`);
            if (fx.mem.pages.totalPins !== it.pinnedPages) throw new Error('allocator pins disagree');
          }
          lockedDuring = proc.mm.lockedVm;
          pinnedDuring = fx.mem.pages.totalPins;
          mmRef = proc.mm;
          if (closeOrder === 0) { yield* sys.close(x.c); yield* sys.close(x.g); }
          else if (closeOrder === 1) { yield* sys.close(x.g); yield* sys.close(x.c); }
          // 2: leave it to process exit
          return 0;
        }, limited ? { capIpcLock: false, memlock: 8 * P } : {});
        expect(thread.exit!.trap).toBeNull();
        expect(thread.exit!.hostError).toBeNull();
        expect(lockedDuring).toBe(pinnedDuring);
        expect(fx.mem.pages.pinnedPages).toBe(0);
        expect(mmRef!.lockedVm).toBe(0);
        expect(fx.mem.pages.allocatedPages).toBe(0);
        expect(fx.iommu.domains.length).toBe(0);
      }),
      { numRuns: 150 },
    );
  });
});

export { MAP_SHARED };
