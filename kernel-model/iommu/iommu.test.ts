import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { EBUSY, EEXIST, EINVAL, ENODEV, ERANGE } from '../base/errno.js';
import { ArmSmmu, CB_TLBIASID, CB_TLBIVA, CB_TLBSYNC, GR0_sTLBGSYNC } from '../drivers/arm-smmu.js';
import { bootWithFakes } from '../testing/fixtures.js';
import { Domain, IommuCoreImpl } from './core.js';
import { KernelLog } from '../base/klog.js';
import { Sysfs } from '../sysfs/sysfs.js';
import { fakeDevice } from '../vfio/testing/fake-iommu.js';
import {
  PTE_AF, PTE_AP_RDONLY, PTE_AP_UNPRIV, PTE_HI_CONT, PTE_HI_PXN, PTE_HI_XN, PTE_NG, PTE_SH_IS, type SmmuPgtable,
} from './io-pgtable-arm.js';
import {
  IOMMU_CACHE, IOMMU_CAP_INTR_REMAP, IOMMU_EXEC, IOMMU_MMIO, IOMMU_NOEXEC, IOMMU_PRIV, IOMMU_READ, IOMMU_RESV_RESERVED, IOMMU_RESV_SW_MSI, IOMMU_WRITE,
} from './types.js';

const RW = IOMMU_READ | IOMMU_WRITE;
const P = 0x1000;
const CONT = PTE_HI_CONT;
const XN = PTE_HI_XN | PTE_HI_PXN;

type Booted = ReturnType<typeof bootWithFakes>;

/**
 * a domain of the profile's arm-smmu, attached to group 0 unless `attach` is false (mainline
 * has no page table before the first attach)
 */
function domainOn(profile: string, attach = true): { d: Domain; pt: SmmuPgtable; k: Booted['k']; smmu: Booted['smmu'] } {
  const { k, smmu } = bootWithFakes(profile);
  const d = k.iommu.domainAlloc('platform');
  if (typeof d === 'number') throw new Error(`domainAlloc ${d}`);
  if (attach) expect(k.iommu.attachGroup(d, k.iommu.groups()[0]!)).toBe(0);
  return { d: d as Domain, pt: ArmSmmu.pgtableOf(d as Domain)!, k, smmu };
}

/** walk the tables straight from RAM (independent of the io-pgtable code): the entry that ends the walk */
function walkRam(k: Booted['k'], pgd: number, iova: number): { lvl: number; lo: number; hi: number } | null {
  const bus = k.machine.bus;
  let table = pgd;
  const shifts = [30, 21, 12];
  for (let lvl = 1; lvl <= 3; lvl++) {
    const idx = Math.floor(iova / 2 ** shifts[lvl - 1]!) & (lvl === 1 ? 3 : 511);
    const lo = bus.read(table + idx * 8, 4, 0);
    const hi = bus.read(table + idx * 8 + 4, 4, 0);
    if ((lo & 1) === 0) return { lvl, lo, hi };
    if (lvl === 3 || (lo & 3) === 1) return { lvl, lo, hi };
    table = (hi & 0xff) * 2 ** 32 + ((lo & 0xfffff000) >>> 0);
  }
  return null;
}

/** the level-3 entry of iova (the 3.14 writer writes nothing else), read from RAM */
function pte(k: Booted['k'], pgd: number, iova: number): { lo: number; hi: number; addr: number } {
  const e = walkRam(k, pgd, iova)!;
  expect(e.lvl).toBe(3);
  return { lo: e.lo >>> 0, hi: e.hi >>> 0, addr: (e.lo & 0xfffff000) >>> 0 };
}

const FAULT_LO = PTE_AF | PTE_SH_IS | PTE_AP_UNPRIV | PTE_NG;

describe('3.14 arm-smmu page tables (arm_smmu_handle_mapping, drivers/iommu/arm-smmu.c)', () => {
  it('pgsize_bitmap SECTION_SIZE | ARM_SMMU_PTE_CONT_SIZE | PAGE_SIZE; a read/write page: PAGE, AF, SH IS, AP_UNPRIV, nG, XN|PXN unless IOMMU_EXEC', () => {
    const { d, pt, k } = domainOn('rfc-v4');
    expect(d.pgsizeBitmap).toBe(0x00211000);
    expect(d.map(0x10000000, 0x81000000, P, RW)).toBe(0);
    const e = pte(k, pt.pgd, 0x10000000);
    expect(e.lo & 3).toBe(3);
    expect(e.lo & (PTE_AF | PTE_NG | PTE_AP_UNPRIV | PTE_SH_IS)).toBe(PTE_AF | PTE_NG | PTE_AP_UNPRIV | PTE_SH_IS);
    expect(e.lo & PTE_AP_RDONLY).toBe(0);
    expect((e.lo & 0x1c) >> 2).toBe(0);
    expect(e.addr).toBe(0x81000000);
    expect(e.hi & (XN | CONT)).toBe(XN);

    expect(d.map(0x10001000, 0x81001000, P, IOMMU_READ | IOMMU_EXEC | IOMMU_CACHE)).toBe(0);
    const x = pte(k, pt.pgd, 0x10001000);
    expect(x.hi & XN).toBe(0);
    expect(x.lo & PTE_AP_RDONLY).toBe(PTE_AP_RDONLY);
    expect((x.lo >> 2) & 7).toBe(1);
    // s1_output_size is min(32, IAS) on a 32-bit kernel: an output address above 4 GiB -ERANGE
    expect(d.map(0x10002000, 0x1_0000_0000, P, RW)).toBe(-ERANGE);
  });

  it('no block descriptors: 2 MiB is 512 level-3 pages, 64 KiB 16; the contiguous hint on every aligned 64 KiB run', () => {
    const { d, pt, k } = domainOn('rfc-v4');
    const tables0 = pt.tablePages;
    // iommu_map splits 2 MiB + 64 KiB + 4 KiB into one call of each size
    expect(d.map(0x200000, 0x80400000, 0x200000 + 0x10000 + P, RW)).toBe(0);
    expect(pt.tablePages).toBe(tables0 + 3); // a pmd table and two pte tables
    for (const iova of [0x200000, 0x2ff000, 0x3ff000, 0x400000, 0x40f000]) {
      const e = pte(k, pt.pgd, iova);
      expect(e.lo & 3).toBe(3);
      expect(e.addr).toBe(0x80400000 + iova - 0x200000);
      expect(e.hi & CONT).toBe(CONT);
    }
    expect(pte(k, pt.pgd, 0x410000).hi & CONT).toBe(0);
    expect(d.iovaToPhys(0x3ff123)).toBe(0x805ff123);
    // 128 KiB at a 2 MiB-aligned IOVA from a 64 KiB-aligned PA: two 64 KiB calls, both hinted
    expect(d.map(0x600000, 0x80810000, 0x20000, RW)).toBe(0);
    expect(pte(k, pt.pgd, 0x61f000).hi & CONT).toBe(CONT);
  });

  it('unmap writes faulting entries (address counting up from 0 within the call, the hint on aligned runs), frees no table and returns the size even over a hole', () => {
    const { d, pt, k, smmu } = domainOn('rfc-v4');
    expect(d.map(0x10000, 0x81000000, 0x10000, RW)).toBe(0);
    const tables = pt.tablePages;
    smmu.writes.length = 0;
    // one iommu_unmap of 64 KiB: one arm_smmu_unmap call of 64 KiB
    expect(d.unmap(0x10000, 0x10000)).toBe(0x10000);
    for (let i = 0; i < 16; i++) {
      const e = pte(k, pt.pgd, 0x10000 + i * P);
      expect(e.lo & 0xfff).toBe(FAULT_LO);
      expect(e.addr).toBe(i * P);
      expect(e.hi).toBe(XN | CONT);
    }
    expect(smmu.writes.map(([o]) => o)).toEqual([0x8000 + CB_TLBIASID, GR0_sTLBGSYNC]);
    expect(pt.tablePages).toBe(tables);
    // arm_smmu_iova_to_phys: only an all-zero pte is "none"; the first page reads 0, the others their address field
    expect(d.iovaToPhys(0x10000)).toBeNull();
    expect(d.iovaToPhys(0x10004)).toBe(4);
    expect(d.iovaToPhys(0x13000)).toBe(0x3000);
    // a hole: the writer allocates the tables it needs for the faulting entries, arm_smmu_unmap returns the size
    expect(d.unmap(0x40000000, P)).toBe(P);
    expect(pt.tablePages).toBe(tables + 2);
    expect(pte(k, pt.pgd, 0x40000000).lo & 0xfff).toBe(FAULT_LO);
    // a map over anything is written: "re-mapping ... without first unmapping it is not supported" (no -EEXIST)
    expect(d.map(0x10000, 0x82000000, P, RW)).toBe(0);
    expect(d.map(0x10000, 0x83000000, P, RW)).toBe(0);
    expect(d.iovaToPhys(0x10000)).toBe(0x83000000);
  });

  it('a page written inside a contiguous run first clears the hint from all 16 entries of the run', () => {
    const { d, pt, k } = domainOn('rfc-v4');
    expect(d.map(0x20000, 0x81000000, 0x10000, RW)).toBe(0);
    expect(d.unmap(0x23000, P)).toBe(P);
    for (let i = 0; i < 16; i++) {
      const e = pte(k, pt.pgd, 0x20000 + i * P);
      expect(e.hi & CONT).toBe(0);
      if (i === 3) {
        expect(e.lo & 0xfff).toBe(FAULT_LO);
        expect(e.addr).toBe(0);
      } else {
        expect(e.lo & 3).toBe(3);
        expect(e.addr).toBe(0x81000000 + i * P);
      }
    }
    expect(d.iovaToPhys(0x23000)).toBeNull();
    expect(d.iovaToPhys(0x24000)).toBe(0x81004000);
  });

  it('no-access mappings: a faulting entry; IOMMU_EXEC alone (issue 16 item 3) a VALID page with AP_RDONLY and XN clear', () => {
    const a = domainOn('rfc-v4');
    expect(a.d.map(0x4000, 0x81000000, P, 0)).toBe(0);
    const e = pte(a.k, a.pt.pgd, 0x4000);
    expect(e.lo & 3).toBe(0);
    expect(e.lo & PTE_AF).toBe(PTE_AF);
    // the address field is the page's, so iova_to_phys reads it back
    expect(a.d.iovaToPhys(0x4000)).toBe(0x81000000);
    expect(a.d.map(0x6000, 0x81000000, P, IOMMU_EXEC)).toBe(0);
    const x = pte(a.k, a.pt.pgd, 0x6000);
    expect(x.lo & 3).toBe(3);
    expect(x.lo & PTE_AP_RDONLY).toBe(0);
    expect(x.hi & XN).toBe(0);
    expect(a.d.iovaToPhys(0x6000)).toBe(0x81000000);
    // EXEC|CACHE alone too; CACHE alone (no READ/WRITE/EXEC) stays a faulting entry
    expect(a.d.map(0x7000, 0x81001000, P, IOMMU_EXEC | IOMMU_CACHE)).toBe(0);
    expect(pte(a.k, a.pt.pgd, 0x7000).lo & 3).toBe(3);
    expect(a.d.map(0x8000, 0x81002000, P, IOMMU_CACHE)).toBe(0);
    expect(pte(a.k, a.pt.pgd, 0x8000).lo & 3).toBe(0);
  });

  it('agrees with a reference model of the writer under random map/unmap, split as iommu_map / iommu_unmap split (property)', () => {
    const sizes = [0x200000, 0x10000, P];
    /** 3.14 iommu_unmap's iommu_pgsize(domain, iova, size): the largest supported size the IOVA's alignment and the remaining length allow */
    const split = (iova: number, len: number): [number, number][] => {
      const out: [number, number][] = [];
      for (let done = 0; done < len; ) {
        const s = sizes.find((z) => z <= len - done && (iova + done) % z === 0)!;
        out.push([iova + done, s]);
        done += s;
      }
      return out;
    };
    fc.assert(
      fc.property(
        fc.array(fc.record({ map: fc.boolean(), page: fc.integer({ min: 0, max: 40 }), n: fc.integer({ min: 1, max: 20 }), pa: fc.integer({ min: 0, max: 63 }) }), { maxLength: 25 }),
        (ops) => {
          const { d } = domainOn('rfc-v4', false);
          // page -> what its pte's address field holds (the page's pa, or a faulting entry's)
          const ref = new Map<number, number>();
          const base = 0x1f0000;
          for (const o of ops) {
            const iova = base + o.page * P;
            const pa = 0x88000000 + o.pa * 0x10000;
            if (o.map) {
              expect(d.map(iova, pa, o.n * P, RW)).toBe(0);
              for (let i = 0; i < o.n; i++) ref.set(o.page + i, pa + i * P);
            } else {
              expect(d.unmap(iova, o.n * P)).toBe(o.n * P);
              for (const [at, s] of split(iova, o.n * P)) for (let i = 0; i < s / P; i++) ref.set((at - base) / P + i, i * P);
            }
          }
          for (let p = 0; p < 64; p++) expect(d.iovaToPhys(base + p * P + 4)).toBe(ref.has(p) ? ref.get(p)! + 4 : null);
        },
      ),
      { numRuns: 40 },
    );
  });
});

describe('mainline io-pgtable-arm (drivers/iommu/io-pgtable-arm.c, ARM_32_LPAE_S1)', () => {
  it('arm_lpae_prot_to_pte: SH inner-shareable only with IOMMU_CACHE (outer otherwise), AttrIndx device for IOMMU_MMIO, AP_UNPRIV unless IOMMU_PRIV, XN only with IOMMU_NOEXEC', () => {
    const { d, pt, k } = domainOn('mainline');
    expect(d.pgsizeBitmap).toBe(0x40201000);
    const at = (iova: number, prot: number) => {
      expect(d.map(iova, 0x81000000 + iova, P, prot)).toBe(0);
      const e = walkRam(k, pt.pgd, iova)!;
      expect(e.lvl).toBe(3);
      return { sh: (e.lo >> 8) & 3, idx: (e.lo >> 2) & 7, unpriv: (e.lo & PTE_AP_UNPRIV) !== 0, ro: (e.lo & PTE_AP_RDONLY) !== 0, xn: e.hi & XN, af: (e.lo & PTE_AF) !== 0, ng: (e.lo & PTE_NG) !== 0 };
    };
    expect(at(0x1000, RW)).toEqual({ sh: 2, idx: 0, unpriv: true, ro: false, xn: 0, af: true, ng: true });
    expect(at(0x2000, RW | IOMMU_CACHE)).toEqual({ sh: 3, idx: 1, unpriv: true, ro: false, xn: 0, af: true, ng: true });
    expect(at(0x3000, RW | IOMMU_MMIO | IOMMU_CACHE)).toEqual({ sh: 3, idx: 2, unpriv: true, ro: false, xn: 0, af: true, ng: true });
    expect(at(0x4000, IOMMU_READ | IOMMU_PRIV)).toEqual({ sh: 2, idx: 0, unpriv: false, ro: true, xn: 0, af: true, ng: true });
    expect(at(0x5000, RW | IOMMU_NOEXEC)).toEqual({ sh: 2, idx: 0, unpriv: true, ro: false, xn: XN, af: true, ng: true });
  });

  it('arm_lpae_map_pages: neither READ nor WRITE is -EINVAL, nothing written (NOEXEC alone too)', () => {
    const { d, pt, k } = domainOn('mainline');
    const tables = pt.tablePages;
    expect(d.map(0x4000, 0x81000000, P, 0)).toBe(-EINVAL);
    expect(d.map(0x6000, 0x81000000, P, IOMMU_NOEXEC | IOMMU_CACHE)).toBe(-EINVAL);
    expect(walkRam(k, pt.pgd, 0x4000)!.lvl).toBe(1); // no lower-level table was even created
    expect(pt.tablePages).toBe(tables);
    expect(pt.iovaToPhys(0x6000)).toBeNull();
  });

  it('uses 2 MiB and 1 GiB blocks when size and alignment allow', () => {
    const { d, pt, k } = domainOn('mainline');
    expect(d.map(0x40000000, 0x80000000, 0x40000000 + 0x200000 + P, RW)).toBe(0);
    expect(walkRam(k, pt.pgd, 0x40000000)).toMatchObject({ lvl: 1 });
    expect(walkRam(k, pt.pgd, 0x80000000)).toMatchObject({ lvl: 2 });
    expect(walkRam(k, pt.pgd, 0x80200000)).toMatchObject({ lvl: 3 });
    expect(walkRam(k, pt.pgd, 0x40000000)!.lo & 3).toBe(1);
    expect(pt.iovaToPhys(0x40123456)).toBe(0x80123456);
    expect(pt.iovaToPhys(0x80200234)).toBe(0xc0200234);
    expect(pt.iovaToPhys(0x80201000)).toBeNull();
  });

  it('arm_lpae_init_pte: a block where a table is (emptied, or not) unmaps and frees the table, flushes the walk, installs the block', () => {
    const { d, pt, k, smmu } = domainOn('mainline');
    expect(d.map(0x201000, 0x81000000, P, RW)).toBe(0);
    const withTable = pt.tablePages;
    const free = k.mm.pages.nrFree;
    expect(d.unmap(0x201000, P)).toBe(P);
    expect(pt.tablePages).toBe(withTable); // the emptied level-3 table stays
    smmu.writes.length = 0;
    expect(d.map(0x200000, 0x80400000, 0x200000, RW)).toBe(0);
    expect(walkRam(k, pt.pgd, 0x201000)).toMatchObject({ lvl: 2 });
    expect(walkRam(k, pt.pgd, 0x201000)!.lo & 3).toBe(1);
    expect(pt.iovaToPhys(0x201234)).toBe(0x80401234);
    expect(pt.tablePages).toBe(withTable - 1);
    expect(k.mm.pages.nrFree).toBe(free + 1);
    // v6.12 arm_smmu_tlb_inv_walk_s1: TLBIVA of each 4 KiB granule of the table's 2 MiB (page
    // address | ASID 0), then the context's sync (TLBSYNC = QCOM_DUMMY_VAL)
    const want: [number, number][] = [];
    for (let i = 0; i < 512; i++) want.push([0x8000 + CB_TLBIVA, 0x200000 + i * P]);
    want.push([0x8000 + CB_TLBSYNC, 0xffffffff]);
    expect(smmu.writes.map(([o, v]) => [o, v >>> 0])).toEqual(want);
    // a table still holding pages goes the same way
    expect(d.map(0x401000, 0x81000000, P, RW)).toBe(0);
    expect(d.map(0x400000, 0x80600000, 0x200000, RW)).toBe(0);
    expect(pt.iovaToPhys(0x401000)).toBe(0x80601000);
    // a block there already: -EEXIST ("We require an unmap first")
    expect(d.map(0x400000, 0x80800000, 0x200000, RW)).toBe(-EEXIST);
  });

  it('arm_smmu_map_pages / unmap_pages / iova_to_phys before the first attach: no page table (-ENODEV, 0, 0); it comes with the attach', () => {
    const { d, k } = domainOn('mainline', false);
    expect(ArmSmmu.pgtableOf(d)).toBeNull();
    expect(d.map(0x1000, 0x81000000, P, RW)).toBe(-ENODEV);
    expect(d.unmap(0x1000, P)).toBe(0);
    expect(d.iovaToPhys(0x1000)).toBeNull();
    const free = k.mm.pages.nrFree;
    expect(k.iommu.attachGroup(d, k.iommu.groups()[0]!)).toBe(0);
    expect(k.mm.pages.nrFree).toBe(free - 1);
    expect(ArmSmmu.pgtableOf(d)!.pgd).toBeGreaterThan(0);
    expect(d.map(0x1000, 0x81000000, P, RW)).toBe(0);
    // 3.14 arm_smmu_domain_init allocates the pgd with the domain
    expect(ArmSmmu.pgtableOf(domainOn('rfc-v4', false).d)!.pgd).toBeGreaterThan(0);
  });
});

// the domain's own iova_to_phys asks the SMMU (v6.12 arm_smmu_iova_to_phys_hard, ATS1PR): these
// fakes have no translation unit, so the tables are read with io-pgtable-arm's
// arm_lpae_iova_to_phys; the hardware path runs on the device model in arm-smmu-pgtable.test.ts
describe('iommu_map / iommu_unmap / iova_to_phys (mainline writer)', () => {
  it('maps, translates, refuses overlaps and bad alignment, unmaps', () => {
    const { d, pt } = domainOn('mainline');
    expect(d.map(0x1000, 0x81000000, 0x3000, RW)).toBe(0);
    expect(pt.iovaToPhys(0x2abc)).toBe(0x81001abc);
    expect(d.map(0x2000, 0x82000000, P, RW)).toBe(-EEXIST);
    expect(d.map(0x1800, 0x82000000, P, RW)).toBe(-EINVAL);
    expect(d.map(0xfffff000, 0x82000000, 0x2000, RW)).toBe(-ERANGE);
    expect(d.unmap(0x2000, P)).toBe(P);
    expect(pt.iovaToPhys(0x2000)).toBeNull();
    expect(pt.iovaToPhys(0x3000)).toBe(0x81002000);
    // unmap stops at the first hole
    expect(d.unmap(0x1000, 0x3000)).toBe(P);
    expect(d.unmap(0x3000, P)).toBe(P);
    expect(d.unmap(0x3000, P)).toBe(0);
  });

  it('a failing map leaves nothing behind', () => {
    const { d, pt } = domainOn('mainline');
    d.map(0x5000, 0x81000000, P, RW);
    expect(d.map(0x3000, 0x82000000, 0x4000, RW)).toBe(-EEXIST);
    expect(pt.iovaToPhys(0x3000)).toBeNull();
    expect(pt.iovaToPhys(0x4000)).toBeNull();
    expect(pt.iovaToPhys(0x5000)).toBe(0x81000000);
  });

  it('unmapping a page inside a 2 MiB block splits the block', () => {
    const { d, pt } = domainOn('mainline');
    d.map(0x200000, 0x80400000, 0x200000, RW);
    expect(d.unmap(0x201000, P)).toBe(P);
    expect(pt.iovaToPhys(0x201000)).toBeNull();
    expect(pt.iovaToPhys(0x200000)).toBe(0x80400000);
    expect(pt.iovaToPhys(0x3ff000)).toBe(0x805ff000);
  });

  it('agrees with a reference model under random map/unmap (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ map: fc.boolean(), page: fc.integer({ min: 0, max: 63 }), n: fc.integer({ min: 1, max: 4 }), pa: fc.integer({ min: 0, max: 255 }) }), { maxLength: 30 }),
        (ops) => {
          const { d, k, pt } = domainOn('mainline');
          const ref = new Map<number, number>();
          const free0 = k.mm.pages.nrFree;
          for (const o of ops) {
            const iova = 0x100000 + o.page * P;
            if (o.map) {
              const clash = [...Array(o.n).keys()].some((i) => ref.has(o.page + i));
              const r = d.map(iova, 0x88000000 + o.pa * P, o.n * P, RW);
              expect(r).toBe(clash ? -EEXIST : 0);
              if (!clash) for (let i = 0; i < o.n; i++) ref.set(o.page + i, 0x88000000 + (o.pa + i) * P);
            } else {
              let exp = 0;
              while (exp < o.n && ref.has(o.page + exp)) exp++;
              expect(d.unmap(iova, o.n * P)).toBe(exp * P);
              for (let i = 0; i < exp; i++) ref.delete(o.page + i);
            }
          }
          for (let p = 0; p < 68; p++) expect(pt.iovaToPhys(0x100000 + p * P + 4)).toBe(ref.has(p) ? ref.get(p)! + 4 : null);
          k.iommu.domainFree(d);
          expect(k.mm.pages.nrFree).toBe(free0 + 1); // the pgd goes too
        },
      ),
      { numRuns: 40 },
    );
  });
});

describe('IOMMU core', () => {
  it('present/capable per bus; domains need an IOMMU on the bus', () => {
    const { k } = bootWithFakes('rfc-v4');
    expect(k.iommu.present('platform')).toBe(true);
    expect(k.iommu.present('pci')).toBe(false);
    expect(k.iommu.domainAlloc('pci')).toBe(-ENODEV);
    // IOMMU_CAP_INTR_REMAP: 3.14 arm_smmu_domain_has_cap answers CACHE_COHERENCY only;
    // mainline arm_smmu_capable has no INTR_REMAP case (isolation is the MSI domain's)
    expect(k.iommu.capable('platform', IOMMU_CAP_INTR_REMAP)).toBe(false);
    expect(bootWithFakes('mainline').k.iommu.capable('platform', IOMMU_CAP_INTR_REMAP)).toBe(false);
  });

  it('attach/detach group: busy when attached elsewhere', () => {
    const { k } = bootWithFakes('rfc-v4');
    const g = k.iommu.groups()[0]!;
    const a = k.iommu.domainAlloc('platform') as Domain;
    const b = k.iommu.domainAlloc('platform') as Domain;
    expect(k.iommu.attachGroup(a, g)).toBe(0);
    expect(k.iommu.attachGroup(b, g)).toBe(-EBUSY);
    k.iommu.detachGroup(a, g);
    expect(k.iommu.attachGroup(b, g)).toBe(0);
    k.iommu.domainFree(b);
    expect(k.iommu.attachGroup(a, g)).toBe(0);
  });
});

describe('reserved regions (mainline iommu_get_group_resv_regions, iommu_group_show_resv_regions)', () => {
  it('regions of a group\'s devices sorted by start, overlapping or touching ones of one type merged; the sysfs attribute lists them', () => {
    const sysfs = new Sysfs();
    const core = new IommuCoreImpl(sysfs, new KernelLog(() => 0), 32, true);
    const per: Record<string, { start: number; length: number; prot: number; type: number }[]> = {
      a: [{ start: 0x800_0000, length: 0x10_0000, prot: 0, type: IOMMU_RESV_SW_MSI }, { start: 0x1000, length: 0x1000, prot: 0, type: IOMMU_RESV_RESERVED }],
      b: [{ start: 0x80f_0000, length: 0x2_0000, prot: 0, type: IOMMU_RESV_SW_MSI }, { start: 0x2000, length: 0x1000, prot: 0, type: IOMMU_RESV_RESERVED }],
    };
    const ops = { getResvRegions: (dev: { name: string }) => per[dev.name] ?? [] } as unknown as Parameters<typeof core.busSetIommu>[1];
    expect(core.busSetIommu('platform', ops)).toBe(0);
    const g = core.groupAlloc();
    core.groupAddDevice(g, fakeDevice('a'));
    core.groupAddDevice(g, fakeDevice('b'));
    expect(core.getGroupResvRegions(g).map((r) => [r.start, r.length, r.type])).toEqual([[0x1000, 0x2000, IOMMU_RESV_RESERVED], [0x800_0000, 0x11_0000, IOMMU_RESV_SW_MSI]]);
    const e = sysfs.lookup(`kernel/iommu_groups/${g.id}/reserved_regions`);
    expect(e?.kind === 'file' ? e.attr.show?.() : null).toBe('0x0000000000001000 0x0000000000002fff reserved\n0x0000000008000000 0x000000000810ffff msi\n');
    const plain = new IommuCoreImpl(new Sysfs(), new KernelLog(() => 0), 32, false);
    const g2 = plain.groupAlloc();
    expect(plain.sysfs.lookup(`kernel/iommu_groups/${g2.id}/reserved_regions`)).toBeNull();
  });
});
