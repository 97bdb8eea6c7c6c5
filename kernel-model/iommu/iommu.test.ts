import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { EBUSY, EEXIST, EINVAL, ENODEV, ERANGE } from '../base/errno.js';
import { ArmSmmu } from '../drivers/arm-smmu.js';
import { bootWithFakes } from '../testing/fixtures.js';
import { Domain, IommuCoreImpl } from './core.js';
import { KernelLog } from '../base/klog.js';
import { Sysfs } from '../sysfs/sysfs.js';
import { fakeDevice } from '../vfio/testing/fake-iommu.js';
import {
  LpaeS1Pgtable, PTE_AF, PTE_AP_RDONLY, PTE_AP_UNPRIV, PTE_HI_PXN, PTE_HI_XN, PTE_NG, PTE_SH_IS,
} from './io-pgtable-arm.js';
import { IOMMU_CACHE, IOMMU_CAP_INTR_REMAP, IOMMU_EXEC, IOMMU_NOEXEC, IOMMU_READ, IOMMU_RESV_RESERVED, IOMMU_RESV_SW_MSI, IOMMU_WRITE } from './types.js';

const RW = IOMMU_READ | IOMMU_WRITE;

function domainOn(profile: string): { d: Domain; pt: LpaeS1Pgtable; k: ReturnType<typeof bootWithFakes>['k'] } {
  const { k } = bootWithFakes(profile);
  const d = k.iommu.domainAlloc('platform');
  if (typeof d === 'number') throw new Error(`domainAlloc ${d}`);
  return { d: d as Domain, pt: ArmSmmu.pgtableOf(d as Domain)!, k };
}

/** walk the tables straight from RAM (independent of the io-pgtable code) */
function walkRam(k: ReturnType<typeof bootWithFakes>['k'], pgd: number, iova: number): { lvl: number; lo: number; hi: number } | null {
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

describe('io-pgtable (LPAE stage 1) descriptors in RAM', () => {
  it('2014: a read/write page has AF, SH, AP_UNPRIV, nG and XN|PXN unless IOMMU_EXEC', () => {
    const { d, pt, k } = domainOn('rfc-v4');
    expect(d.map(0x10000000, 0x81000000, 0x1000, RW)).toBe(0);
    const e = walkRam(k, pt.pgd, 0x10000000)!;
    expect(e.lvl).toBe(3);
    expect(e.lo & 3).toBe(3);
    expect(e.lo & (PTE_AF | PTE_NG | PTE_AP_UNPRIV | PTE_SH_IS)).toBe(PTE_AF | PTE_NG | PTE_AP_UNPRIV | PTE_SH_IS);
    expect(e.lo & PTE_AP_RDONLY).toBe(0);
    expect((e.lo & 0x1c) >> 2).toBe(0);
    expect((e.lo & 0xfffff000) >>> 0).toBe(0x81000000);
    expect(e.hi & (PTE_HI_XN | PTE_HI_PXN)).toBe(PTE_HI_XN | PTE_HI_PXN);

    expect(d.map(0x10001000, 0x81001000, 0x1000, IOMMU_READ | IOMMU_EXEC | IOMMU_CACHE)).toBe(0);
    const x = walkRam(k, pt.pgd, 0x10001000)!;
    expect(x.hi & (PTE_HI_XN | PTE_HI_PXN)).toBe(0);
    expect(x.lo & PTE_AP_RDONLY).toBe(PTE_AP_RDONLY);
    expect((x.lo >> 2) & 7).toBe(1);
  });

  it('mainline: XN only with IOMMU_NOEXEC', () => {
    const { d, pt, k } = domainOn('mainline');
    d.map(0x2000, 0x81000000, 0x1000, RW);
    expect(walkRam(k, pt.pgd, 0x2000)!.hi & PTE_HI_XN).toBe(0);
    d.map(0x3000, 0x81000000, 0x1000, RW | IOMMU_NOEXEC);
    expect(walkRam(k, pt.pgd, 0x3000)!.hi & (PTE_HI_XN | PTE_HI_PXN)).toBe(PTE_HI_XN | PTE_HI_PXN);
  });

  it('no-access mappings: 2014 writes a faulting entry, mainline nothing', () => {
    const a = domainOn('rfc-v4');
    expect(a.d.map(0x4000, 0x81000000, 0x1000, 0)).toBe(0);
    const e = walkRam(a.k, a.pt.pgd, 0x4000)!;
    expect(e.lvl).toBe(3);
    expect(e.lo & 3).toBe(0);
    expect(e.lo & PTE_AF).toBe(PTE_AF);
    expect(a.d.iovaToPhys(0x4000)).toBeNull();
    const b = domainOn('mainline');
    expect(b.d.map(0x4000, 0x81000000, 0x1000, 0)).toBe(0);
    expect(walkRam(b.k, b.pt.pgd, 0x4000)!.lvl).toBe(1); // no lower-level table was even created
  });

  it('issue 16 item 3: 2014 EXEC alone is a VALID page (AP_RDONLY and XN clear); mainline NOEXEC alone maps nothing', () => {
    const a = domainOn('rfc-v4');
    expect(a.d.map(0x6000, 0x81000000, 0x1000, IOMMU_EXEC)).toBe(0);
    const e = walkRam(a.k, a.pt.pgd, 0x6000)!;
    expect(e.lvl).toBe(3);
    expect(e.lo & 3).toBe(3);
    expect(e.lo & PTE_AP_RDONLY).toBe(0);
    expect(e.hi & (PTE_HI_XN | PTE_HI_PXN)).toBe(0);
    expect(a.d.iovaToPhys(0x6000)).toBe(0x81000000);
    // EXEC|CACHE alone too; CACHE alone (no READ/WRITE/EXEC) stays a faulting entry
    expect(a.d.map(0x7000, 0x81001000, 0x1000, IOMMU_EXEC | IOMMU_CACHE)).toBe(0);
    expect(walkRam(a.k, a.pt.pgd, 0x7000)!.lo & 3).toBe(3);
    expect(a.d.map(0x8000, 0x81002000, 0x1000, IOMMU_CACHE)).toBe(0);
    expect(walkRam(a.k, a.pt.pgd, 0x8000)!.lo & 3).toBe(0);
    const b = domainOn('mainline');
    expect(b.d.map(0x6000, 0x81000000, 0x1000, IOMMU_NOEXEC)).toBe(0);
    expect(b.d.iovaToPhys(0x6000)).toBeNull();
  });

  it('uses 2 MiB and 1 GiB blocks when size and alignment allow', () => {
    const { d, pt, k } = domainOn('rfc-v4');
    expect(d.map(0x40000000, 0x80000000, 0x40000000 + 0x200000 + 0x1000, RW)).toBe(0);
    expect(walkRam(k, pt.pgd, 0x40000000)).toMatchObject({ lvl: 1 });
    expect(walkRam(k, pt.pgd, 0x80000000)).toMatchObject({ lvl: 2 });
    expect(walkRam(k, pt.pgd, 0x80200000)).toMatchObject({ lvl: 3 });
    expect(walkRam(k, pt.pgd, 0x40000000)!.lo & 3).toBe(1);
    expect(d.iovaToPhys(0x40123456)).toBe(0x80123456);
    expect(d.iovaToPhys(0x80200234)).toBe(0xc0200234);
    expect(d.iovaToPhys(0x80201000)).toBeNull();
  });
});

describe('iommu_map / iommu_unmap / iova_to_phys', () => {
  it('maps, translates, refuses overlaps and bad alignment, unmaps', () => {
    const { d } = domainOn('rfc-v4');
    expect(d.pgsizeBitmap).toBe(0x1000 | 0x200000 | 0x40000000);
    expect(d.map(0x1000, 0x81000000, 0x3000, RW)).toBe(0);
    expect(d.iovaToPhys(0x2abc)).toBe(0x81001abc);
    expect(d.map(0x2000, 0x82000000, 0x1000, RW)).toBe(-EEXIST);
    expect(d.map(0x1800, 0x82000000, 0x1000, RW)).toBe(-EINVAL);
    expect(d.map(0xfffff000, 0x82000000, 0x2000, RW)).toBe(-ERANGE);
    expect(d.unmap(0x2000, 0x1000)).toBe(0x1000);
    expect(d.iovaToPhys(0x2000)).toBeNull();
    expect(d.iovaToPhys(0x3000)).toBe(0x81002000);
    // unmap stops at the first hole
    expect(d.unmap(0x1000, 0x3000)).toBe(0x1000);
    expect(d.unmap(0x3000, 0x1000)).toBe(0x1000);
    expect(d.unmap(0x3000, 0x1000)).toBe(0);
  });

  it('a failing map leaves nothing behind', () => {
    const { d } = domainOn('rfc-v4');
    d.map(0x5000, 0x81000000, 0x1000, RW);
    expect(d.map(0x3000, 0x82000000, 0x4000, RW)).toBe(-EEXIST);
    expect(d.iovaToPhys(0x3000)).toBeNull();
    expect(d.iovaToPhys(0x4000)).toBeNull();
    expect(d.iovaToPhys(0x5000)).toBe(0x81000000);
  });

  it('unmapping a page inside a 2 MiB block splits the block', () => {
    const { d } = domainOn('rfc-v4');
    d.map(0x200000, 0x80400000, 0x200000, RW);
    expect(d.unmap(0x201000, 0x1000)).toBe(0x1000);
    expect(d.iovaToPhys(0x201000)).toBeNull();
    expect(d.iovaToPhys(0x200000)).toBe(0x80400000);
    expect(d.iovaToPhys(0x3ff000)).toBe(0x805ff000);
  });

  it('agrees with a reference model under random map/unmap (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ map: fc.boolean(), page: fc.integer({ min: 0, max: 63 }), n: fc.integer({ min: 1, max: 4 }), pa: fc.integer({ min: 0, max: 255 }) }), { maxLength: 30 }),
        (ops) => {
          const { d, k } = domainOn('rfc-v4');
          const ref = new Map<number, number>();
          const free0 = k.mm.pages.nrFree;
          for (const o of ops) {
            const iova = 0x100000 + o.page * 0x1000;
            if (o.map) {
              const clash = [...Array(o.n).keys()].some((i) => ref.has(o.page + i));
              const r = d.map(iova, 0x88000000 + o.pa * 0x1000, o.n * 0x1000, RW);
              expect(r).toBe(clash ? -EEXIST : 0);
              if (!clash) for (let i = 0; i < o.n; i++) ref.set(o.page + i, 0x88000000 + (o.pa + i) * 0x1000);
            } else {
              let exp = 0;
              while (exp < o.n && ref.has(o.page + exp)) exp++;
              expect(d.unmap(iova, o.n * 0x1000)).toBe(exp * 0x1000);
              for (let i = 0; i < exp; i++) ref.delete(o.page + i);
            }
          }
          for (let p = 0; p < 68; p++) expect(d.iovaToPhys(0x100000 + p * 0x1000 + 4)).toBe(ref.has(p) ? ref.get(p)! + 4 : null);
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
