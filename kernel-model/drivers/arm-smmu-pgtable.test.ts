/**
 * The arm-smmu page tables as user space reaches them: the 3.14 driver's own writer
 * (arm-smmu-pgtable.ts) under 3.14 type1, mainline io-pgtable-arm under mainline type1 and
 * iommufd (capabilities `smmuPgtable`, `smmuPgtableAlloc`, `iommuNoAccessPte`, `type1UnmapChunk`, `type1MapCache`).
 * The writers' descriptor rules in isolation are in kernel-model/iommu/iommu.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { System } from '../../tools/system/system.js';
import type { Domain } from '../iommu/core.js';
import { PTE_HI_CONT, PTE_HI_XN, type SmmuPgtable } from '../iommu/io-pgtable-arm.js';
import { BOOTARGS, IfdUser } from '../iommu/iommufd/testing/ifd-user.js';
import { IOMMU_IOAS_MAP_FIXED_IOVA as F, IOMMU_IOAS_MAP_READABLE as R, IOMMU_IOAS_MAP_WRITEABLE as W } from '../iommu/iommufd/uapi.js';
import { iommufdDeviceAttach } from '../iommu/iommufd/index.js';
import {
  MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE, VFIO_DMA_MAP_FLAG_READ, VFIO_DMA_MAP_FLAG_WRITE, VFIO_IOMMU_GET_INFO, VFIO_IOMMU_UNMAP_DMA,
  vfio_iommu_type1_info,
} from '../uapi/index.js';
import { PL330, User, bindToVfio, openDevice } from '../vfio/platform/testing/user.js';
import { ArmSmmu, CB_MAIR0, CB_MAIR1 } from './arm-smmu.js';
import { bootWithFakes } from '../testing/fixtures.js';
import type { AddressSpace } from '../process/mm.js';

const P = 4096;

/** the physical page behind a faulted-in user address (-1: none) */
function userPa(mm: AddressSpace, va: number): number {
  const v = mm.find(va);
  const pa = v?.pages ? v.pages[Math.floor((va - v.start) / P)]! : -1;
  return pa < 0 ? -1 : pa + (va % P);
}
const RW = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE;

/** PL330 on VFIO, a type1 container; the domain of its group */
function type1(profile: string, extraArgs = ''): { sys: System; u: User; container: number; domain: Domain; pt: SmmuPgtable } {
  const sys = new System({ profile, bootargs: `${BOOTARGS}${extraArgs}` });
  const u = new User(sys);
  expect(bindToVfio(u, PL330)).toBeGreaterThan(0);
  const { container } = openDevice(u, PL330);
  const domain = sys.kernel.iommu.groups().find((g) => g.devices.some((d) => d.name === PL330))!.domain as Domain;
  return { sys, u, container, domain, pt: ArmSmmu.pgtableOf(domain)! };
}

/** the level-3 descriptor of iova, read from RAM over the bus: [lo, hi], or null where the walk ends earlier */
function l3(sys: System, pgd: number, iova: number): [number, number] | null {
  const bus = sys.machine.bus;
  let t = pgd;
  for (const [shift, mask] of [[30, 3], [21, 511]] as const) {
    const lo = bus.read(t + ((iova >>> shift) & mask) * 8, 4, 0);
    const hi = bus.read(t + ((iova >>> shift) & mask) * 8 + 4, 4, 0);
    if ((lo & 3) !== 3) return null;
    t = (hi & 0xff) * 2 ** 32 + ((lo & 0xfffff000) >>> 0);
  }
  return [bus.read(t + ((iova >>> 12) & 511) * 8, 4, 0) >>> 0, bus.read(t + ((iova >>> 12) & 511) * 8 + 4, 4, 0) >>> 0];
}

describe('VFIO_IOMMU_GET_INFO iova_pgsizes: the domain\'s pgsize_bitmap', () => {
  it.each([
    // 3.14 vfio_iommu_type1_ioctl: flags 0, iova_pgsizes = arm_smmu_ops.pgsize_bitmap (SECTION | CONT | PAGE)
    ['rfc-v4', 0, 0x00211000],
    // vfio_iommu_type1_get_info: VFIO_IOMMU_INFO_PGSIZES (|CAPS), io-pgtable-arm's 4K | 2M | 1G
    ['mainline', 3, 0x40201000],
  ])('%s', (profile, flags, pgsizes) => {
    const { u, container } = type1(profile);
    u.mem.write32(u.page + vfio_iommu_type1_info.argsz, vfio_iommu_type1_info.minsz);
    expect(u.ioctl(container, VFIO_IOMMU_GET_INFO, u.page)).toBe(0);
    expect(u.mem.read32(u.page + vfio_iommu_type1_info.flags)).toBe(flags);
    expect(u.mem.read32(u.page + vfio_iommu_type1_info.iova_pgsizes)).toBe(pgsizes);
    expect(u.mem.read32(u.page + vfio_iommu_type1_info.iova_pgsizes + 4)).toBe(0);
  });
});

describe('3.14 type1 on the 3.14 arm-smmu writer', () => {
  it('UNMAP_DMA unmaps page by page (vfio_unmap_unpin): each page a faulting entry with address 0, so the IOVA can be mapped again', () => {
    const { sys, u, container, pt } = type1('rfc-v4');
    const buf = u.call('mmap2', [0, 16 * P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0]);
    expect(u.mapDma(container, RW, buf, 0x10000, 16 * P)).toBe(0);
    const mapped = l3(sys, pt.pgd, 0x13000)!;
    expect(mapped[0] & 3).toBe(3);
    expect(mapped[1] & PTE_HI_XN).toBe(PTE_HI_XN);
    u.mem.write32(u.page + 0x100, 24);
    u.mem.write32(u.page + 0x104, 0);
    u.mem.write64(u.page + 0x108, 0x10000n);
    u.mem.write64(u.page + 0x110, BigInt(16 * P));
    expect(u.ioctl(container, VFIO_IOMMU_UNMAP_DMA, u.page + 0x100)).toBe(0);
    for (let i = 0; i < 16; i++) {
      const [lo, hi] = l3(sys, pt.pgd, 0x10000 + i * P)!;
      // arm_smmu_unmap of PAGE_SIZE: type bits clear, pfn 0, no contiguous hint
      expect(lo & 3).toBe(0);
      expect((lo & 0xfffff000) >>> 0).toBe(0);
      expect(hi & PTE_HI_CONT).toBe(0);
    }
    // vfio_dma_do_map's "already mapped?" check (iommu_iova_to_phys) reads 0: the map goes through
    expect(u.mapDma(container, RW, buf, 0x10000, 16 * P)).toBe(0);
  });
});

/**
 * `pages` pages of fresh anonymous memory, faulted in in order; the address of the first page
 * whose frame is `align`-aligned and starts `run` physically consecutive frames (-1: none)
 */
function contiguousRun(u: User, pages: number, align: number, run: number): number {
  const buf = u.call('mmap2', [0, pages * P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0]);
  for (let i = 0; i < pages; i++) u.mem.write32(buf + i * P, i);
  for (let i = 0; i + run <= pages; i++) {
    const pa = userPa(u.proc.mm, buf + i * P);
    if (pa % align !== 0) continue;
    let ok = true;
    for (let j = 1; j < run && ok; j++) ok = userPa(u.proc.mm, buf + (i + j) * P) === pa + j * P;
    if (ok) return buf + i * P;
  }
  return -1;
}

/** the level-2 descriptor of iova: [lo, hi] */
function l2(sys: System, pgd: number, iova: number): [number, number] {
  const bus = sys.machine.bus;
  const lo1 = bus.read(pgd + ((iova >>> 30) & 3) * 8, 4, 0);
  const hi1 = bus.read(pgd + ((iova >>> 30) & 3) * 8 + 4, 4, 0);
  const t = (hi1 & 0xff) * 2 ** 32 + ((lo1 & 0xfffff000) >>> 0);
  return [bus.read(t + ((iova >>> 21) & 511) * 8, 4, 0) >>> 0, bus.read(t + ((iova >>> 21) & 511) * 8 + 4, 4, 0) >>> 0];
}

describe('type1 maps a physically contiguous chunk with one iommu_map (`type1PinChunk`; vfio_iommu_type1.disable_hugepages)', () => {
  it('3.14 (vfio_pin_pages): a 64 KiB-aligned run of 16 frames gets the contiguous hint; with disable_hugepages=1 every page is its own chunk, no hint', () => {
    for (const [args, hint] of [['', PTE_HI_CONT], [' vfio_iommu_type1.disable_hugepages=1', 0]] as const) {
      const { sys, u, container, pt, domain } = type1('rfc-v4', args);
      const va = contiguousRun(u, 48, 16 * P, 16);
      expect(va).toBeGreaterThan(0);
      expect(u.mapDma(container, RW, va, 0x10000, 16 * P)).toBe(0);
      for (let i = 0; i < 16; i++) {
        const [lo, hi] = l3(sys, pt.pgd, 0x10000 + i * P)!;
        expect(lo & 3).toBe(3);
        expect(hi & PTE_HI_CONT).toBe(hint);
      }
      expect(domain.iovaToPhys(0x1f123)).toBe(userPa(u.proc.mm, va + 15 * P) + 0x123);
    }
  });

  it('mainline (vfio_pin_pages_remote): a 2 MiB-aligned run of 512 frames becomes a level-2 block; with disable_hugepages=1 level-3 pages', () => {
    for (const [args, block] of [['', true], [' vfio_iommu_type1.disable_hugepages=1', false]] as const) {
      const { sys, u, container, pt, domain } = type1('mainline', args);
      const va = contiguousRun(u, 1024, 2 << 20, 512);
      expect(va).toBeGreaterThan(0);
      expect(u.mapDma(container, RW, va, 0x400000, 2 << 20)).toBe(0);
      const [lo] = l2(sys, pt.pgd, 0x400000);
      expect(lo & 3).toBe(block ? 1 : 3);
      expect(l3(sys, pt.pgd, 0x5ff000) === null).toBe(block);
      expect(domain.iovaToPhys(0x5ff123)).toBe(userPa(u.proc.mm, va + 511 * P) + 0x123);
      // UNMAP_DMA takes the whole mapping away
      u.mem.write32(u.page + 0x200, 24);
      u.mem.write32(u.page + 0x204, 0);
      u.mem.write64(u.page + 0x208, 0x400000n);
      u.mem.write64(u.page + 0x210, BigInt(2 << 20));
      expect(u.ioctl(container, VFIO_IOMMU_UNMAP_DMA, u.page + 0x200)).toBe(0);
      expect(domain.iovaToPhys(0x400000)).toBeNull();
      expect(domain.iovaToPhys(0x5ff000)).toBeNull();
    }
  });
});

describe('mainline', () => {
  it('type1 maps with IOMMU_CACHE (vfio_iommu_map): write-back AttrIndx, inner-shareable', () => {
    const { sys, u, container, pt } = type1('mainline');
    const buf = u.call('mmap2', [0, P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0]);
    expect(u.mapDma(container, RW, buf, 0x10000, P)).toBe(0);
    const [lo] = l3(sys, pt.pgd, 0x10000)!;
    expect((lo >> 2) & 7).toBe(1);
    expect((lo >> 8) & 3).toBe(3);
  });

  it('MAIR0 is io-pgtable-arm\'s (index 3 inner-non-cacheable/outer-WB), 3.14 the driver\'s own', () => {
    for (const [profile, mair0] of [['mainline', 0xf404ff44], ['rfc-v4', 0x0004ff44]] as const) {
      const { k, smmu } = bootWithFakes(profile);
      const d = k.iommu.domainAlloc('platform') as Domain;
      expect(k.iommu.attachGroup(d, k.iommu.groups()[0]!)).toBe(0);
      const cb = 0x8000 + ArmSmmu.contextBankOf(d) * 0x1000;
      expect(smmu.get(cb + CB_MAIR0) >>> 0).toBe(mair0);
      expect(smmu.get(cb + CB_MAIR1)).toBe(0);
    }
  });

  it('iommufd: a 2 MiB IOAS_MAP where an emptied level-3 table is becomes a block (arm_lpae_init_pte frees the table)', () => {
    const sys = new System({ profile: 'mainline', bootargs: BOOTARGS });
    const u = new IfdUser(sys, 'ifd');
    expect(bindToVfio(u, PL330)).toBeGreaterThan(0);
    expect(u.openIommufd()).toBeGreaterThanOrEqual(0);
    const ioas = u.ioasAlloc();
    const b = u.bind(PL330);
    if (typeof b === 'number') throw new Error(`bind ${b}`);
    const hwpt = iommufdDeviceAttach(b.idev, ioas);
    expect(hwpt).toBeGreaterThan(0);
    const domain = sys.kernel.iommu.groups().find((g) => g.devices.some((d) => d.name === PL330))!.domain as Domain;
    const pt = ArmSmmu.pgtableOf(domain)!;
    // 4 MiB of memory, faulted in in order: a 2 MiB-aligned physically contiguous run inside it
    const buf = u.mmap(4 << 20);
    for (let o = 0; o < 4 << 20; o += P) u.mem.write32(buf + o, o);
    let va = -1;
    for (let o = 0; o + (2 << 20) <= 4 << 20 && va < 0; o += P) {
      const pa = userPa(u.proc.mm, buf + o);
      if (pa % (2 << 20) !== 0) continue;
      let ok = true;
      for (let i = 1; i < 512 && ok; i++) ok = userPa(u.proc.mm, buf + o + i * P) === pa + i * P;
      if (ok) va = buf + o;
    }
    expect(va).toBeGreaterThan(0);
    // a page inside the 2 MiB region, mapped and unmapped: its level-3 table stays, empty
    const one = u.mmap(P);
    expect(u.map(ioas, R | W | F, one, P, 0x401000)).toBe(0x401000);
    expect(u.unmap(ioas, 0x401000, P)).toEqual([0, P]);
    const tables = pt.tablePages;
    expect(l3(sys, pt.pgd, 0x401000)).toEqual([0, 0]);
    // batch_to_domain: one iommu_map of the contiguous run -> a 2 MiB block at level 2
    expect(u.map(ioas, R | W | F, va, 2 << 20, 0x400000)).toBe(0x400000);
    expect(l3(sys, pt.pgd, 0x401000)).toBeNull();
    expect(pt.tablePages).toBe(tables - 1);
    expect(domain.iovaToPhys(0x401234)).toBe(userPa(u.proc.mm, va) + 0x1234);
  });
});
