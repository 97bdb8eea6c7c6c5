/**
 * Issue 17 (type1 as today): VFIO_DMA_MAP_FLAG_VADDR / VFIO_DMA_UNMAP_FLAG_VADDR, the
 * VFIO_UPDATE_VADDR and VFIO_DMA_CC_IOMMU extensions and the reserved regions (the SMMU's
 * software MSI window) as drivers/vfio/vfio_iommu_type1.c and drivers/iommu/arm/arm-smmu/arm-smmu.c
 * of today's kernel decide them; the 2014 profiles keep 3.14's answers. Every row goes through
 * real ioctls with the C structs (struct vfio_iommu_type1_dma_map: argsz, flags, vaddr, iova,
 * size; struct vfio_iommu_type1_dma_unmap: argsz, flags, iova, size) in the process's memory and
 * names the kernel function deciding it.
 */
import { describe, expect, it } from 'vitest';
import type { GuestProgram } from '../../emulator/cpu/stub.js';
import { System } from '../../tools/system/system.js';
import { IOMMU_RESV_SW_MSI } from '../iommu/types.js';
import {
  EBUSY, EINVAL, ENOENT, ENOMEM, MAP_ANONYMOUS, MAP_PRIVATE, O_RDONLY, O_RDWR, PROT_READ, PROT_WRITE,
  VFIO_CHECK_EXTENSION, VFIO_DMA_CC_IOMMU, VFIO_DMA_MAP_FLAG_READ as R, VFIO_DMA_MAP_FLAG_WRITE as W, VFIO_GROUP_SET_CONTAINER,
  VFIO_IOMMU_GET_INFO, VFIO_IOMMU_MAP_DMA, VFIO_IOMMU_UNMAP_DMA, VFIO_SET_IOMMU, VFIO_TYPE1_IOMMU, VFIO_TYPE1v2_IOMMU,
  VFIO_UPDATE_VADDR, type Sys,
} from '../uapi/index.js';
import { PL330, User, bindToVfio } from './platform/testing/user.js';
import { fakeDevice, fakeDriver } from './testing/fake-iommu.js';
import { makeFixture } from './testing/fixture.js';
import type { Type1Iommu } from './type1.js';

const P = 4096;
const VADDR = 1 << 2; // VFIO_DMA_MAP_FLAG_VADDR / VFIO_DMA_UNMAP_FLAG_VADDR
const ALL = 1 << 1; // VFIO_DMA_UNMAP_FLAG_ALL
const DIRTY = 1 << 0; // VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP
const MSI = 0x800_0000;

/** the PL330 bound to vfio-platform, its group in a container with the IOMMU set, 16 pages of anonymous memory */
class Box {
  readonly u: User;
  readonly c: number;
  readonly g: number;
  readonly buf: number;
  readonly setIommu: number;
  constructor(profile: string, type = VFIO_TYPE1v2_IOMMU) {
    this.u = new User(new System({ profile }));
    expect(bindToVfio(this.u, PL330)).toBeGreaterThan(0);
    this.c = this.u.open('/dev/vfio/vfio');
    this.g = this.u.open('/dev/vfio/0');
    this.buf = this.u.call('mmap2', [0, 16 * P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0]);
    expect(this.buf).toBeGreaterThan(0);
    this.u.mem.write32(this.u.page, this.c);
    expect(this.u.ioctl(this.g, VFIO_GROUP_SET_CONTAINER, this.u.page)).toBe(0);
    this.setIommu = this.u.ioctl(this.c, VFIO_SET_IOMMU, type);
  }

  get it(): Type1Iommu {
    return this.u.sys.vfio.containerStates()[0]!.data as Type1Iommu;
  }

  map(flags: number, vaddr: number, iova: number, size: number): number {
    return this.u.mapDma(this.c, flags, vaddr, iova, size);
  }

  /** [return value, the size field after the call] */
  unmap(iova: number, size: number, flags = 0, argsz = 24): [number, number] {
    const a = this.u.page + 0x200;
    const m = this.u.mem;
    m.write32(a, argsz);
    m.write32(a + 4, flags);
    m.write64(a + 8, BigInt(iova));
    m.write64(a + 16, BigInt(size));
    const r = this.u.ioctl(this.c, VFIO_IOMMU_UNMAP_DMA, a);
    return [r, Number(m.read64(a + 16))];
  }

  /** [iova/P, size/P, vaddr offset in buf/P, vaddr invalid] per mapping */
  maps(): [number, number, number, boolean][] {
    return this.it.mappings().map((d) => [d.iova / P, d.size / P, (d.vaddr - this.buf) / P, d.vaddrInvalid]);
  }

  /** the SMMU page tables still translate iova (device DMA keeps working) */
  translates(iova: number): boolean {
    return this.it.domain.iovaToPhys(iova) !== null;
  }

  read(path: string): string | number {
    return this.u.cat(path);
  }
}

type Row = [what: string, profile: string, type: number, body: (b: Box) => unknown[], want: unknown[], fn: string];

const rows: Row[] = [
  // ---- UNMAP_DMA with VFIO_DMA_UNMAP_FLAG_VADDR
  ['UNMAP VADDR invalidates whole mappings; pages stay pinned and mapped', 'mainline', VFIO_TYPE1v2_IOMMU, (b) => {
    b.map(R | W, b.buf, 0, 2 * P);
    b.map(R | W, b.buf + 2 * P, 2 * P, 2 * P);
    const pinned = b.it.pinnedPages;
    return [...b.unmap(0, 4 * P, VADDR), b.maps(), b.it.vaddrInvalidCount, b.it.pinnedPages === pinned, b.translates(0), b.translates(3 * P)];
  }, [0, 4 * P, [[0, 2, 0, true], [2, 2, 2, true]], 2, true, true, true], 'vfio_dma_do_unmap (invalidate_vaddr)'],
  ['UNMAP VADDR|ALL invalidates every mapping', 'mainline', VFIO_TYPE1v2_IOMMU, (b) => {
    b.map(R | W, b.buf, 0, 2 * P);
    b.map(R | W, b.buf + 4 * P, 8 * P, P);
    return [...b.unmap(0, 0, VADDR | ALL), b.it.vaddrInvalidCount];
  }, [0, 3 * P, 2], 'vfio_dma_do_unmap (unmap_all + invalidate_vaddr)'],
  ['UNMAP VADDR|ALL with an iova -EINVAL', 'mainline', VFIO_TYPE1v2_IOMMU, (b) => {
    b.map(R | W, b.buf, 0, 2 * P);
    return [b.unmap(P, 0, VADDR | ALL)[0], b.it.vaddrInvalidCount];
  }, [-EINVAL, 0], 'vfio_dma_do_unmap (unmap_all needs iova = size = 0)'],
  ['UNMAP VADDR reaching an invalidated mapping -EINVAL; this call\'s marks undone', 'mainline', VFIO_TYPE1v2_IOMMU, (b) => {
    b.map(R | W, b.buf, 0, 2 * P);
    b.map(R | W, b.buf + 2 * P, 2 * P, 2 * P);
    const first = b.unmap(2 * P, 2 * P, VADDR)[0];
    return [first, b.unmap(0, 4 * P, VADDR)[0], b.maps().map((m) => m[3]), b.it.vaddrInvalidCount];
  }, [0, -EINVAL, [false, true], 1], 'vfio_dma_do_unmap (dma->vaddr_invalid: undo from first_n, -EINVAL)'],
  ['UNMAP VADDR|GET_DIRTY_BITMAP -EINVAL', 'mainline', VFIO_TYPE1v2_IOMMU, (b) => {
    b.map(R | W, b.buf, 0, 2 * P);
    return [b.unmap(0, 2 * P, VADDR | DIRTY, 48)[0], b.it.vaddrInvalidCount];
  }, [-EINVAL, 0], 'vfio_iommu_type1_unmap_dma (GET_DIRTY_BITMAP with ALL or VADDR)'],
  ['UNMAP GET_DIRTY_BITMAP alone -EINVAL (dirty tracking never started)', 'mainline', VFIO_TYPE1v2_IOMMU, (b) => {
    b.map(R | W, b.buf, 0, 2 * P);
    return [b.unmap(0, 2 * P, DIRTY, 24)[0], b.unmap(0, 2 * P, DIRTY, 48)[0], b.maps().length];
  }, [-EINVAL, -EINVAL, 1], 'vfio_iommu_type1_unmap_dma (argsz < minsz + sizeof(bitmap)) / vfio_dma_do_unmap (!dirty_page_tracking)'],
  ['v2: UNMAP VADDR that would split a mapping -EINVAL', 'mainline', VFIO_TYPE1v2_IOMMU, (b) => {
    b.map(R | W, b.buf, 0, 4 * P);
    return [b.unmap(P, 3 * P, VADDR)[0], b.unmap(0, P, VADDR)[0], b.it.vaddrInvalidCount];
  }, [-EINVAL, -EINVAL, 0], 'vfio_dma_do_unmap (v2: no split)'],
  ['v1: UNMAP VADDR starting inside a mapping: size 0, nothing invalidated', 'mainline', VFIO_TYPE1_IOMMU, (b) => {
    b.map(R | W, b.buf, 0, 4 * P);
    b.map(R | W, b.buf + 4 * P, 4 * P, P);
    return [...b.unmap(P, 8 * P, VADDR), b.it.vaddrInvalidCount];
  }, [0, 0, 0], 'vfio_dma_do_unmap (v1: stop at a mapping starting before iova)'],
  ['v1: UNMAP VADDR covering a first IOVA invalidates the whole mapping', 'mainline', VFIO_TYPE1_IOMMU, (b) => {
    b.map(R | W, b.buf, 0, 4 * P);
    return [...b.unmap(0, P, VADDR), b.maps()];
  }, [0, 4 * P, [[0, 4, 0, true]]], 'vfio_dma_do_unmap (v1)'],
  ['2014: UNMAP flags must be 0 (VADDR -EINVAL)', 'rfc-v4', VFIO_TYPE1_IOMMU, (b) => {
    b.map(R | W, b.buf, 0, 2 * P);
    return [b.unmap(0, 2 * P, VADDR)[0]];
  }, [-EINVAL], '3.14 vfio_iommu_type1_ioctl (unmap.flags)'],

  // ---- MAP_DMA with VFIO_DMA_MAP_FLAG_VADDR
  ['MAP VADDR restores an invalidated mapping\'s vaddr', 'mainline', VFIO_TYPE1v2_IOMMU, (b) => {
    b.map(R | W, b.buf, 0, 2 * P);
    b.unmap(0, 2 * P, VADDR);
    return [b.map(VADDR, b.buf + 8 * P, 0, 2 * P), b.maps(), b.it.vaddrInvalidCount];
  }, [0, [[0, 2, 8, false]], 0], 'vfio_dma_do_map (set_vaddr)'],
  ['MAP VADDR where no mapping overlaps -ENOENT', 'mainline', VFIO_TYPE1v2_IOMMU, (b) => {
    b.map(R | W, b.buf, 0, 2 * P);
    b.unmap(0, 2 * P, VADDR);
    return [b.map(VADDR, b.buf, 4 * P, 2 * P)];
  }, [-ENOENT], 'vfio_dma_do_map (vfio_find_dma finds nothing)'],
  ['MAP VADDR on a mapping whose vaddr is valid -EINVAL', 'mainline', VFIO_TYPE1v2_IOMMU, (b) => {
    b.map(R | W, b.buf, 0, 2 * P);
    return [b.map(VADDR, b.buf + 8 * P, 0, 2 * P), b.maps()];
  }, [-EINVAL, [[0, 2, 0, false]]], 'vfio_dma_do_map (!dma->vaddr_invalid)'],
  ['MAP VADDR not matching the mapping\'s iova and size -EINVAL', 'mainline', VFIO_TYPE1v2_IOMMU, (b) => {
    b.map(R | W, b.buf, 0, 4 * P);
    b.unmap(0, 4 * P, VADDR);
    return [b.map(VADDR, b.buf, 0, 2 * P), b.map(VADDR, b.buf, P, 3 * P), b.map(VADDR, b.buf, 0, 8 * P), b.it.vaddrInvalidCount];
  }, [-EINVAL, -EINVAL, -EINVAL, 1], 'vfio_dma_do_map (dma->iova != iova || dma->size != size)'],
  ['MAP VADDR with READ or WRITE -EINVAL', 'mainline', VFIO_TYPE1v2_IOMMU, (b) => {
    b.map(R | W, b.buf, 0, 2 * P);
    b.unmap(0, 2 * P, VADDR);
    return [b.map(VADDR | R, b.buf, 0, 2 * P), b.map(VADDR | W, b.buf, 0, 2 * P), b.it.vaddrInvalidCount];
  }, [-EINVAL, -EINVAL, 1], 'vfio_dma_do_map (prot && set_vaddr)'],
  ['MAP VADDR with an unaligned or wrapping vaddr -EINVAL', 'mainline', VFIO_TYPE1v2_IOMMU, (b) => {
    b.map(R | W, b.buf, 0, 2 * P);
    b.unmap(0, 2 * P, VADDR);
    return [b.map(VADDR, b.buf + 0x800, 0, 2 * P), b.map(VADDR, 2 ** 32 - P, 0, 2 * P), b.it.vaddrInvalidCount];
  }, [-EINVAL, -EINVAL, 1], 'vfio_dma_do_map ((size | iova | vaddr) & (pgsize - 1); vaddr + size - 1 < vaddr)'],
  ['MAP of a new range while another vaddr is invalid: pinned through its own vaddr', 'mainline', VFIO_TYPE1v2_IOMMU, (b) => {
    b.map(R | W, b.buf, 0, 2 * P);
    b.unmap(0, 2 * P, VADDR);
    return [b.map(R | W, b.buf + 4 * P, 4 * P, 2 * P), b.translates(4 * P), b.it.vaddrInvalidCount];
  }, [0, true, 1], 'vfio_dma_do_map (no vaddr_invalid_count check)'],
  ['plain UNMAP of an invalidated mapping removes it and its pins', 'mainline', VFIO_TYPE1v2_IOMMU, (b) => {
    b.map(R | W, b.buf, 0, 2 * P);
    b.unmap(0, 2 * P, VADDR);
    return [...b.unmap(0, 2 * P), b.maps(), b.it.vaddrInvalidCount, b.it.pinnedPages, b.u.proc.mm.pinnedThrough];
  }, [0, 2 * P, [], 0, 0, 0], 'vfio_dma_do_unmap -> vfio_remove_dma (vaddr_invalid_count--)'],

  // ---- CHECK_EXTENSION
  ['CHECK_EXTENSION UPDATE_VADDR: 1 once the container has its IOMMU', 'mainline', VFIO_TYPE1v2_IOMMU, (b) => [b.u.ioctl(b.c, VFIO_CHECK_EXTENSION, VFIO_UPDATE_VADDR)], [1], 'vfio_iommu_type1_check_extension (iommu && !vfio_iommu_has_emulated)'],
  ['CHECK_EXTENSION DMA_CC: 0 (arm-smmu enforces no cache coherency; the MMU-400 walk is not coherent)', 'mainline', VFIO_TYPE1v2_IOMMU, (b) => [b.u.ioctl(b.c, VFIO_CHECK_EXTENSION, VFIO_DMA_CC_IOMMU)], [0], 'vfio_domains_have_enforce_cache_coherency; arm_smmu_capable(IOMMU_CAP_CACHE_COHERENCY)'],
  ['2014: CHECK_EXTENSION UPDATE_VADDR and DMA_CC 0', 'rfc-v4', VFIO_TYPE1_IOMMU, (b) => [b.u.ioctl(b.c, VFIO_CHECK_EXTENSION, VFIO_UPDATE_VADDR), b.u.ioctl(b.c, VFIO_CHECK_EXTENSION, VFIO_DMA_CC_IOMMU)], [0, 0], '3.14 vfio_iommu_type1_ioctl (TYPE1 only)'],

  // ---- reserved regions: arm-smmu's software MSI window
  ['reserved_regions in sysfs: the SW MSI window', 'mainline', VFIO_TYPE1v2_IOMMU, (b) => [b.read('/sys/kernel/iommu_groups/0/reserved_regions')], ['0x0000000008000000 0x00000000080fffff msi\n'], 'arm_smmu_get_resv_regions, iommu_group_show_resv_regions'],
  ['2014: no reserved_regions attribute', 'rfc-v4', VFIO_TYPE1_IOMMU, (b) => [b.read('/sys/kernel/iommu_groups/0/reserved_regions')], [-ENOENT], '3.14 drivers/iommu/iommu.c (no attribute)'],
  ['MAP_DMA touching the MSI window -EINVAL; around it 0', 'mainline', VFIO_TYPE1v2_IOMMU, (b) => [
    b.map(R | W, b.buf, MSI, P), b.map(R | W, b.buf, MSI + 0xff000, P), b.map(R | W, b.buf, MSI - P, 2 * P), b.map(R | W, b.buf, MSI - 0x1000, 0x102000),
    b.map(R | W, b.buf, MSI - P, P), b.map(R | W, b.buf + P, MSI + 0x100000, P),
  ], [-EINVAL, -EINVAL, -EINVAL, -EINVAL, 0, 0], 'vfio_dma_do_map -> vfio_iommu_iova_dma_valid (vfio_iommu_resv_exclude at attach)'],
  ['2014: the MSI window is an ordinary IOVA', 'rfc-v4', VFIO_TYPE1_IOMMU, (b) => [b.map(R | W, b.buf, MSI, P)], [0], '3.14 vfio_dma_do_map (no IOVA list)'],
  ['GET_INFO: the IOVA ranges split around the MSI window, argsz raised to 120', 'mainline', VFIO_TYPE1v2_IOMMU, (b) => {
    const a = b.u.page + 0x400;
    const m = b.u.mem;
    m.write32(a, 104);
    const r1 = b.u.ioctl(b.c, VFIO_IOMMU_GET_INFO, a);
    const raised = m.read32(a);
    m.write32(a, 120);
    const r2 = b.u.ioctl(b.c, VFIO_IOMMU_GET_INFO, a);
    // IOVA-range capability at 72: header (id 1, version 1, next 0), nr_iovas, then (start, end) pairs
    return [r1, raised, r2, m.read32(a + 72) & 0xffff, m.read32(a + 76), m.read32(a + 80), m.read64(a + 88), m.read64(a + 96), m.read64(a + 104), m.read64(a + 112)];
  }, [0, 120, 0, 1, 0, 2, 0n, 0x7ffffffn, 0x8100000n, 0xffffffffn], 'vfio_iommu_type1_get_info -> vfio_iommu_iova_build_caps'],
];

describe('type1 as today: VADDR, extensions, reserved regions (issue 17)', () => {
  it.each(rows.map((r) => [r[0], r[5], r] as const))('%s (%s)', (_n, _fn, row) => {
    const [, profile, type, body, want] = row;
    const b = new Box(profile, type);
    expect(b.setIommu).toBe(0);
    expect(body(b)).toEqual(want);
  });

  it('CHECK_EXTENSION UPDATE_VADDR before SET_IOMMU: 0 (iommu == NULL) (vfio_iommu_type1_check_extension)', () => {
    const u = new User(new System({ profile: 'mainline' }));
    const c = u.open('/dev/vfio/vfio');
    expect([u.ioctl(c, VFIO_CHECK_EXTENSION, VFIO_UPDATE_VADDR), u.ioctl(c, VFIO_CHECK_EXTENSION, VFIO_DMA_CC_IOMMU)]).toEqual([0, 0]);
  });

  it('closing the container with invalidated vaddrs unpins everything (vfio_iommu_type1_release -> vfio_remove_dma)', () => {
    const b = new Box('mainline');
    b.map(R | W, b.buf, 0, 4 * P);
    expect(b.unmap(0, 0, VADDR | ALL)).toEqual([0, 4 * P]);
    expect(b.u.proc.mm.pinnedThrough).toBe(4);
    b.u.call('close', [b.g]);
    b.u.call('close', [b.c]);
    expect(b.u.sys.vfio.containerStates()).toEqual([]);
    expect(b.u.proc.mm.pinnedThrough).toBe(0);
  });
});

/**
 * Two groups in one container (the board has one, so the fake IOMMU of kernel-model/vfio/testing):
 * the attach of a second group while a vaddr is invalid, a reserved region conflicting with an
 * existing mapping, and the IOVA list refreshed when a group leaves.
 */
describe('a second group (vfio_iommu_type1_attach_group / detach_group)', () => {
  function* setup(sys: Sys): GuestProgram<{ s: number; c: number; g0: number; g1: number; buf: number }> {
    const s = yield* sys.mmap(0, P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    const buf = yield* sys.mmap(0, 16 * P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    const c = yield* sys.open('/dev/vfio/vfio', O_RDWR);
    const g0 = yield* sys.open('/dev/vfio/0', O_RDWR);
    const g1 = yield* sys.open('/dev/vfio/1', O_RDWR);
    sys.mem.write32(s, c);
    expect(yield* sys.ioctl(g0, VFIO_GROUP_SET_CONTAINER, s)).toBe(0);
    expect(yield* sys.ioctl(c, VFIO_SET_IOMMU, VFIO_TYPE1_IOMMU)).toBe(0);
    return { s, c, g0, g1, buf };
  }
  function* map(sys: Sys, s: number, c: number, flags: number, vaddr: number, iova: number, size: number): GuestProgram<number> {
    sys.mem.write32(s + 256, 32);
    sys.mem.write32(s + 260, flags);
    sys.mem.write64(s + 264, BigInt(vaddr));
    sys.mem.write64(s + 272, BigInt(iova));
    sys.mem.write64(s + 280, BigInt(size));
    return yield* sys.ioctl(c, VFIO_IOMMU_MAP_DMA, s + 256);
  }
  function* unmap(sys: Sys, s: number, c: number, iova: number, size: number, flags: number): GuestProgram<number> {
    sys.mem.write32(s + 512, 24);
    sys.mem.write32(s + 516, flags);
    sys.mem.write64(s + 520, BigInt(iova));
    sys.mem.write64(s + 528, BigInt(size));
    return yield* sys.ioctl(c, VFIO_IOMMU_UNMAP_DMA, s + 512);
  }
  function twoGroups(profile: string, resv1: { start: number; length: number }[] = []) {
    const fx = makeFixture(profile);
    const dev = fakeDevice('2c0b0000.dma');
    dev.driver = fakeDriver('vfio-platform');
    fx.iommu.addGroup(1, [dev]);
    fx.iommu.resv.set(1, resv1.map((r) => ({ ...r, prot: 0, type: IOMMU_RESV_SW_MSI })));
    fx.vfio.addGroupDev(dev, fx.bus, { dev });
    return fx;
  }

  it('attaching a group while a vaddr is invalid -EBUSY; after MAP VADDR restores it, 0', () => {
    const fx = twoGroups('mainline');
    const out: number[] = [];
    const { thread } = fx.run(function* (sys) {
      const x = yield* setup(sys);
      out.push(yield* map(sys, x.s, x.c, R | W, x.buf, 0, 2 * P));
      out.push(yield* unmap(sys, x.s, x.c, 0, 2 * P, VADDR));
      sys.mem.write32(x.s, x.c);
      out.push(yield* sys.ioctl(x.g1, VFIO_GROUP_SET_CONTAINER, x.s));
      out.push(yield* map(sys, x.s, x.c, VADDR, x.buf + 4 * P, 0, 2 * P));
      sys.mem.write32(x.s, x.c);
      out.push(yield* sys.ioctl(x.g1, VFIO_GROUP_SET_CONTAINER, x.s));
      return 0;
    });
    expect(thread.exit?.hostError ?? null).toBeNull();
    expect(out).toEqual([0, 0, -EBUSY, 0, 0]);
  });

  it('a reserved region of the new group over an existing mapping -EINVAL (vfio_iommu_resv_conflict); no conflict: the region leaves the IOVA list until the group goes (vfio_iommu_resv_exclude / vfio_iommu_resv_refresh)', () => {
    const fx = twoGroups('mainline', [{ start: 0x10000, length: 0x10000 }]);
    const out: unknown[] = [];
    const { thread } = fx.run(function* (sys) {
      const x = yield* setup(sys);
      const it = fx.type1!.instances[0]!;
      out.push(yield* map(sys, x.s, x.c, R | W, x.buf, 0x18000, P));
      sys.mem.write32(x.s, x.c);
      out.push(yield* sys.ioctl(x.g1, VFIO_GROUP_SET_CONTAINER, x.s));
      out.push(yield* unmap(sys, x.s, x.c, 0x18000, P, 0));
      sys.mem.write32(x.s, x.c);
      out.push(yield* sys.ioctl(x.g1, VFIO_GROUP_SET_CONTAINER, x.s));
      out.push(it.iovaList.map(([s, e]) => [s, e]));
      out.push(yield* map(sys, x.s, x.c, R | W, x.buf, 0x18000, P));
      out.push(yield* sys.close(x.g1));
      out.push(it.iovaList.map(([s, e]) => [s, e]));
      out.push(yield* map(sys, x.s, x.c, R | W, x.buf, 0x18000, P));
      return 0;
    });
    expect(thread.exit?.hostError ?? null).toBeNull();
    expect(out).toEqual([0, -EINVAL, 0, 0, [[0, 0xffff], [0x20000, 2 ** 32 - 1]], -EINVAL, 0, [[0, 2 ** 32 - 1]], 0]);
  });

  it('DMA_CC answers the domains\' enforce_cache_coherency: 1 when every domain enforces it; 2014 knows no DMA_CC (0)', () => {
    for (const [profile, want] of [['mainline', 1], ['rfc-v4', 0]] as const) {
      const fx = twoGroups(profile);
      fx.iommu.enforceCacheCoherency = () => true;
      let got = -1;
      fx.run(function* (sys) {
        const x = yield* setup(sys);
        got = yield* sys.ioctl(x.c, VFIO_CHECK_EXTENSION, VFIO_DMA_CC_IOMMU);
        return 0;
      });
      expect(got).toBe(want);
    }
  });
});


describe('vfio_change_dma_owner: a vaddr restored from another mm (a fork child holding the container fd)', () => {
  /** a second process with the parent's fds (as fork copies them), no CAP_IPC_LOCK, 64 KiB RLIMIT_MEMLOCK */
  function child(b: Box): { u: User; buf: number } {
    const u = new User(b.u.sys, 'child', { capIpcLock: false, memlock: 16 * P });
    b.u.proc.copyFdsTo(u.proc);
    const buf = u.call('mmap2', [0, 16 * P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0]);
    return { u, buf };
  }
  const mapAs = (u: User, c: number, flags: number, vaddr: number, iova: number, size: number): number => u.mapDma(c, flags, vaddr, iova, size);

  it('the locked pages move to the caller\'s mm (charged against its RLIMIT_MEMLOCK: -ENOMEM and nothing moves when over it)', () => {
    const b = new Box('mainline');
    expect(b.map(R | W, b.buf, 0, 16 * P)).toBe(0);
    const parentMm = b.u.proc.mm;
    expect(parentMm.lockedVm).toBe(16);
    const { u, buf } = child(b);
    // the child's own 16 pages fill its 64 KiB limit
    expect(mapAs(u, b.c, R | W, buf, 0x100000, 16 * P)).toBe(0);
    expect(u.proc.mm.lockedVm).toBe(16);
    expect(b.unmap(0, 16 * P, VADDR)[0]).toBe(0);
    expect(mapAs(u, b.c, VADDR, buf, 0, 16 * P)).toBe(-ENOMEM);
    expect([parentMm.lockedVm, u.proc.mm.lockedVm, b.maps()[0]![3]]).toEqual([16, 16, true]);
    // without its own mapping the child can take them over
    u.mem.write32(u.page + 0x200, 24);
    u.mem.write32(u.page + 0x204, 0);
    u.mem.write64(u.page + 0x208, 0x100000n);
    u.mem.write64(u.page + 0x210, BigInt(16 * P));
    expect(u.ioctl(b.c, VFIO_IOMMU_UNMAP_DMA, u.page + 0x200)).toBe(0);
    expect(u.proc.mm.lockedVm).toBe(0);
    expect(mapAs(u, b.c, VADDR, buf, 0, 16 * P)).toBe(0);
    expect([parentMm.lockedVm, u.proc.mm.lockedVm]).toEqual([0, 16]);
    // the parent's limit is free again; unmapping charges the child's mm back down
    expect(b.map(R | W, b.buf, 0x200000, 16 * P)).toBe(0);
    expect(b.unmap(0, 16 * P)[0]).toBe(0);
    expect([parentMm.lockedVm, u.proc.mm.lockedVm, u.proc.mm.pinnedThrough]).toEqual([16, 0, 0]);
  });
});
