/**
 * The arm-smmu driver's register traffic per kernel, as the SMMU sees it on the bus: the
 * context bank programming (capability `smmuCbProgramming`: 3.14 arm_smmu_init_context_bank /
 * v6.12 arm_smmu_write_context_bank), the TLB maintenance of unmaps and of a destroyed context
 * (`smmuTlbInvalidation`: 3.14 TLBIASID + global sync / v6.12 TLBIVAL + context sync), v6.12's
 * hardware iova_to_phys (ATS1PR, ARM_SMMU_FEAT_TRANS_OPS) with which type1 finds its runs, and
 * v6.12 type1's fine-grained-superpage probe of a new domain (`type1FgspProbe`).
 */
import { describe, expect, it } from 'vitest';
import { System } from '../../tools/system/system.js';
import type { Domain } from '../iommu/core.js';
import { BOOTARGS } from '../iommu/iommufd/testing/ifd-user.js';
import { MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE, VFIO_DMA_MAP_FLAG_READ, VFIO_DMA_MAP_FLAG_WRITE } from '../uapi/index.js';
import { PL330, User, bindToVfio, openDevice } from '../vfio/platform/testing/user.js';
import { ArmSmmu } from './arm-smmu.js';

const P = 4096;
const RW = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE;

interface Access {
  op: 'R' | 'W';
  reg: string;
  value: number;
}

/** a system whose SMMU register accesses are recorded (by register name), the PL330 bound to VFIO */
function boot(profile: string): { sys: System; u: User; log: Access[] } {
  const log: Access[] = [];
  const sys = new System({
    profile,
    bootargs: BOOTARGS,
    onMachine: (m) => {
      m.bus.mmioObserver = (region, offset, _size, write, value) => {
        if (region.name.includes('iommu')) log.push({ op: write ? 'W' : 'R', reg: region.device.regName?.(offset) ?? `0x${offset.toString(16)}`, value: value >>> 0 });
      };
    },
  });
  const u = new User(sys);
  expect(bindToVfio(u, PL330)).toBeGreaterThan(0);
  return { sys, u, log };
}

const regs = (log: Access[]): string[] => log.map((a) => `${a.op} ${a.reg}`);

function domainOf(sys: System): Domain {
  return sys.kernel.iommu.groups().find((g) => g.devices.some((d) => d.name === PL330))!.domain as Domain;
}

describe('context bank programming at the first attach (smmuCbProgramming)', () => {
  it('3.14 arm_smmu_init_context_bank: CBAR, TTBR0 low then high (ASID), TTBCR, MAIR0 (no MAIR1), SCTLR with CFCFG', () => {
    const { u, log } = boot('rfc-v4');
    log.length = 0;
    openDevice(u, PL330);
    const cb = log.filter((a) => a.reg.startsWith('CB0.') || a.reg.startsWith('CBAR'));
    expect(regs(cb)).toEqual(['W CBAR[0]', 'W CB0.TTBR0_LO', 'W CB0.TTBR0_HI', 'W CB0.TTBCR', 'W CB0.MAIR0', 'W CB0.SCTLR']);
    // EAE | SH0 IS | ORGN0/IRGN0 WBWA | SL0 level 1 (3.14 writes SL0 for stage 1 too; no EPD1)
    expect(cb[3]!.value).toBe(0x80003540);
    expect(cb[5]!.value & 0x80).toBe(0x80); // SCTLR.CFCFG: stall
  });

  it('v6.12 arm_smmu_write_context_bank: CBAR, TCR (T0SZ 32 in the 6-bit field), TTBR0 and TTBR1 high word first, MAIR0/1, SCTLR without CFCFG', () => {
    const { sys, u, log } = boot('mainline');
    log.length = 0;
    openDevice(u, PL330);
    const cb = log.filter((a) => a.reg.startsWith('CB0.') || a.reg.startsWith('CBAR'));
    expect(regs(cb).slice(0, 9)).toEqual(['W CBAR[0]', 'W CB0.TTBCR', 'W CB0.TTBR0_HI', 'W CB0.TTBR0_LO', 'W CB0.TTBR1_HI', 'W CB0.TTBR1_LO', 'W CB0.MAIR0', 'W CB0.MAIR1', 'W CB0.SCTLR']);
    const v = cb.map((a) => a.value);
    expect(v[1]).toBe(0x80803520); // EAE | EPD1 | SH0 IS | ORGN0/IRGN0 WBWA | T0SZ 0x20
    expect(v[3]).toBe(ArmSmmu.pgtableOf(domainOf(sys))!.pgd);
    expect([v[2], v[4], v[5]]).toEqual([0, 0, 0]); // ASID 0 (cbndx 0) in TTBR0/1[63:48]
    expect(v[6]).toBe(0xf404ff44);
    expect(v[8]).toBe(0x1067); // CFIE | CFRE | AFE | TRE | M | S1_ASIDPNE
  });
});

describe('TLB maintenance of an unmap (smmuTlbInvalidation) and v6.12 hardware iova_to_phys', () => {
  /**
   * 4 pages at 0x10000 from fresh memory, faulted in as pages 0, 1, 3, then another buffer's
   * page, then 2 (so pages 1 and 2 and pages 2 and 3 are not consecutive frames), mapped and
   * unmapped: the SMMU traffic of the unmap and the pages' frames
   */
  function unmapTraffic(profile: string): { log: Access[]; pa: number[] } {
    const { sys, u, log } = boot(profile);
    const { container } = openDevice(u, PL330);
    const buf = u.call('mmap2', [0, 4 * P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0]);
    const other = u.call('mmap2', [0, P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0]);
    for (const i of [0, 1, 3]) u.mem.write32(buf + i * P, i);
    u.mem.write32(other, 9);
    u.mem.write32(buf + 2 * P, 2);
    expect(u.mapDma(container, RW, buf, 0x10000, 4 * P)).toBe(0);
    const pt = ArmSmmu.pgtableOf(domainOf(sys))!;
    const pa = [0, 1, 2, 3].map((i) => pt.iovaToPhys(0x10000 + i * P)!);
    log.length = 0;
    expect(u.unmapDma(container, 0x10000, 4 * P)).toBe(0);
    return { log, pa };
  }

  it('3.14: per page, TLBIASID of the context and a global sync (sTLBGSYNC 0, sTLBGSTATUS)', () => {
    const { log } = unmapTraffic('rfc-v4');
    const one = ['W CB0.TLBIASID', 'W sTLBGSYNC', 'R sTLBGSTATUS'];
    expect(regs(log)).toEqual([...one, ...one, ...one, ...one]);
    expect(log.filter((a) => a.reg === 'sTLBGSYNC').map((a) => a.value)).toEqual([0, 0, 0, 0]);
  });

  it('v6.12: runs of physically consecutive pages found with ATS1PR (vfio_unmap_unpin), each unmapped with TLBIVAL per page, one context sync at the end', () => {
    const { log, pa } = unmapTraffic('mainline');
    expect(pa[2]! - pa[1]!).not.toBe(P);
    expect(pa[3]! - pa[2]!).not.toBe(P);
    // the kernel's walk over these frames: from each page, look up the next ones while they follow
    const want: string[] = [];
    const vals: number[] = [];
    const ats = (i: number): void => {
      want.push('W CB0.ATS1PR', 'R CB0.ATSR', 'R CB0.PAR_HI', 'R CB0.PAR_LO');
      vals.push(0x10000 + i * P);
    };
    for (let i = 0; i < 4; ) {
      ats(i);
      let len = 1;
      for (; i + len < 4; len++) {
        ats(i + len);
        if (pa[i + len] !== pa[i]! + len * P) break;
      }
      for (let j = 0; j < len; j++) {
        want.push('W CB0.TLBIVAL');
        vals.push(0x10000 + (i + j) * P);
      }
      i += len;
    }
    want.push('W CB0.TLBSYNC', 'R CB0.TLBSTATUS');
    expect(regs(log)).toEqual(want);
    expect(log.filter((a) => a.reg === 'CB0.ATS1PR' || a.reg === 'CB0.TLBIVAL').map((a) => a.value)).toEqual(vals);
    expect(log.find((a) => a.reg === 'CB0.TLBSYNC')!.value).toBe(0xffffffff);
  });

  it('v6.12 arm_smmu_iova_to_phys_hard: PAR gives the address; an unmapped IOVA logs "translation fault!" and the PAR, and reads as none', () => {
    const { sys, u, log } = boot('mainline');
    const { container } = openDevice(u, PL330);
    const buf = u.call('mmap2', [0, P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0]);
    expect(u.mapDma(container, RW, buf, 0x10000, P)).toBe(0);
    const d = domainOf(sys);
    const sw = ArmSmmu.pgtableOf(d)!.iovaToPhys(0x10abc);
    log.length = 0;
    expect(d.iovaToPhys(0x10abc)).toBe(sw);
    expect(regs(log)).toEqual(['W CB0.ATS1PR', 'R CB0.ATSR', 'R CB0.PAR_HI', 'R CB0.PAR_LO']);
    expect(log[0]!.value).toBe(0x10000);
    const before = sys.kernel.log.lines().length;
    expect(d.iovaToPhys(0x20000)).toBeNull();
    const lines = sys.kernel.log.lines().slice(before).map((l) => l.replace(/^\[[ .0-9]+\] /, ''));
    expect(lines[0]).toMatch(/arm-smmu .*: translation fault!$/);
    expect(lines[1]).toMatch(/arm-smmu .*: PAR = 0x[0-9a-f]*[13579bdf]$/); // PAR.F set
  });
});

describe('a freed domain\'s context bank', () => {
  it('3.14 disables it and invalidates its ASID (TLBIASID, global sync); v6.12 only disables it', () => {
    for (const [profile, want] of [
      ['rfc-v4', ['W CB0.SCTLR', 'W CB0.TLBIASID', 'W sTLBGSYNC', 'R sTLBGSTATUS']],
      ['mainline', ['W CB0.SCTLR']],
    ] as const) {
      const { u, log } = boot(profile);
      const { container, group, device } = openDevice(u, PL330);
      log.length = 0;
      for (const fd of [device, group, container]) expect(u.call('close', [fd])).toBe(0);
      const cb = log.filter((a) => a.reg.startsWith('CB0.') || a.reg.startsWith('sTLBG'));
      expect(regs(cb)).toEqual(want);
      expect(cb[0]!.value).toBe(0);
    }
  });
});

describe('v6.12 vfio_test_domain_fgsp at the first attach (type1FgspProbe)', () => {
  it('two pages mapped at IOVA 0 with one iommu_map, unmapped one by one (TLBIVAL and a sync each); 3.14 has no probe', () => {
    for (const [profile, want] of [
      ['rfc-v4', []],
      ['mainline', ['W CB0.TLBIVAL', 'W CB0.TLBSYNC', 'R CB0.TLBSTATUS', 'W CB0.TLBIVAL', 'W CB0.TLBSYNC', 'R CB0.TLBSTATUS']],
    ] as const) {
      const { sys, u, log } = boot(profile);
      log.length = 0;
      openDevice(u, PL330);
      const tlbi = log.filter((a) => a.reg.includes('TLBI') || a.reg.includes('TLBSYNC') || a.reg.includes('TLBSTATUS'));
      expect(regs(tlbi)).toEqual(want);
      if (profile === 'mainline') {
        expect(tlbi.filter((a) => a.reg === 'CB0.TLBIVAL').map((a) => a.value)).toEqual([0, P]);
        // nothing stays mapped; the tables the probe made for IOVA 0 stay (io-pgtable frees none on unmap)
        const pt = ArmSmmu.pgtableOf(domainOf(sys))!;
        expect(pt.iovaToPhys(0)).toBeNull();
        expect(pt.iovaToPhys(P)).toBeNull();
        expect(pt.tablePages).toBeGreaterThanOrEqual(2);
      }
    }
  });
});
