/**
 * The arm-smmu driver on SMMUs with stage 2 (device: docs/SMMU.md "Translation stages"), per
 * kernel: which stage a domain's context gets (capability `smmuStageChoice`: 3.14 and v6.12
 * arm_smmu_init_domain_context), the stage-2 context bank programming (3.14
 * arm_smmu_init_context_bank's stage-2 branch; v6.12 arm_smmu_init_context_bank +
 * arm_smmu_write_context_bank with arm_smmu_lpae_vtcr), the stage-2 page-table entries (3.14
 * arm_smmu_alloc_init_pte stage 2; v6.12 ARM_32_LPAE_S2, arm_lpae_prot_to_pte) as the SMMU walks
 * them, and the stage-2 TLB maintenance of an unmap (TLBIVMID: 3.14 arm_smmu_tlb_inv_context,
 * v6.12 arm_smmu_tlb_add_page_s2_v1 + arm_smmu_iotlb_sync's global sync).
 */
import { describe, expect, it } from 'vitest';
import { makeAttrs } from '../../emulator/attrs.js';
import { loadBoardSource } from '../../emulator/machine.js';
import type { Smmu, SmmuStages } from '../../devices/smmu/index.js';
import * as R from '../../devices/smmu/regs.js';
import { System } from '../../tools/system/system.js';
import type { Domain } from '../iommu/core.js';
import { LpaeS2Pgtable, PTE_HAP_READ, PTE_HAP_WRITE } from '../iommu/io-pgtable-arm.js';
import { BOOTARGS } from '../iommu/iommufd/testing/ifd-user.js';
import { MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE, VFIO_DMA_MAP_FLAG_READ, VFIO_DMA_MAP_FLAG_WRITE } from '../uapi/index.js';
import { PL330, User, bindToVfio, openDevice } from '../vfio/platform/testing/user.js';
import { ArmSmmu } from './arm-smmu.js';

const P = 4096;
const RW = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE;
const SMMU = '2b400000.iommu';

/** the default board with the SMMU's stages (and NUMS2CB) set */
function board(stages: SmmuStages, nS2?: number): { text: string; file: string } {
  const { text } = loadBoardSource('vexpress-vfio');
  const extra = `\t\tvfio-arm-emu,translation-stages = "${stages}";\n` + (nS2 === undefined ? '' : `\t\tvfio-arm-emu,num-s2-context-banks = <${nS2}>;\n`);
  const at = '\t\tarm,num-smrs = <8>;\n';
  expect(text).toContain(at);
  return { text: text.replace(at, at + extra), file: `s2-${stages}.dts` };
}

interface Access {
  op: 'R' | 'W';
  reg: string;
  value: number;
}

function boot(profile: string, stages: SmmuStages, nS2?: number): { sys: System; u: User; log: Access[]; smmu: Smmu } {
  const log: Access[] = [];
  const sys = new System({
    profile,
    bootargs: BOOTARGS,
    boardSource: board(stages, nS2),
    onMachine: (m) => {
      m.bus.mmioObserver = (region, offset, _size, write, value) => {
        if (region.name.includes('iommu')) log.push({ op: write ? 'W' : 'R', reg: region.device.regName?.(offset) ?? `0x${offset.toString(16)}`, value: value >>> 0 });
      };
    },
  });
  const u = new User(sys);
  expect(bindToVfio(u, PL330)).toBeGreaterThan(0);
  return { sys, u, log, smmu: sys.machine.deviceByName(SMMU)!.mmio[0] as unknown as Smmu };
}

function domainOf(sys: System): Domain {
  return sys.kernel.iommu.groups().find((g) => g.devices.some((d) => d.name === PL330))!.domain as Domain;
}

/** [bank, CBAR.TYPE] of the context the PL330's domain got */
function context(sys: System, smmu: Smmu): [number, number] {
  const cb = ArmSmmu.contextBankOf(domainOf(sys));
  return [cb, (smmu.cbar[cb]! >>> R.CBAR_TYPE_SHIFT) & 3];
}

const S1 = R.CBAR_TYPE_S1_S2BYPASS;
const S2 = R.CBAR_TYPE_S2;

describe('the stage of a domain (smmuStageChoice, arm_smmu_init_domain_context)', () => {
  it.each([
    // stages, NUMS2CB, 3.14, v6.12
    ['s1', undefined, [0, S1], [0, S1]],
    ['s2', undefined, [0, S2], [0, S2]],
    // S1TS | S2TS without NTS: 3.14 takes the stage-2 branch ("else if TRANS_S2"), v6.12 stage 1
    ['s1+s2', undefined, [0, S2], [0, S1]],
    ['s1+s2', 2, [0, S2], [2, S1]],
    // NTS: 3.14 stage 1 with S2 bypass, from bank NUMS2CB up; v6.12 stage 1 likewise
    ['s1+s2+nested', 1, [1, S1], [1, S1]],
  ] as const)('%s (NUMS2CB %s): 3.14 %j, v6.12 %j', (stages, nS2, old, now) => {
    for (const [profile, want] of [['rfc-v4', old], ['mainline', now]] as const) {
      const { sys, u, smmu } = boot(profile, stages, nS2);
      openDevice(u, PL330);
      expect(context(sys, smmu), profile).toEqual(want);
    }
  });
});

describe('stage-2 context bank programming', () => {
  it('3.14: CBAR (type 0, IRPTNDX, VMID cbndx + 1), TTBR0 low then high (no ASID), TTBCR EAE | SH0 IS | WBWA | SL0 1, no MAIR, SCTLR with CFCFG, without ASIDPNE', () => {
    const { sys, u, log } = boot('rfc-v4', 's2');
    log.length = 0;
    openDevice(u, PL330);
    const cb = log.filter((a) => a.reg.startsWith('CB0.') || a.reg.startsWith('CBAR'));
    expect(cb.map((a) => `${a.op} ${a.reg}`)).toEqual(['W CBAR[0]', 'W CB0.TTBR0_LO', 'W CB0.TTBR0_HI', 'W CB0.TTBCR', 'W CB0.SCTLR']);
    const v = cb.map((a) => a.value);
    expect(v[0]).toBe((1 << 24) | 1); // IRPTNDX 1, type 0, VMID 1
    expect(v[1]).toBe(ArmSmmu.pgtableOf(domainOf(sys))!.pgd);
    expect(v[2]).toBe(0);
    expect(v[3]).toBe(0x80003540);
    expect(v[4]).toBe(0xe7); // CFCFG | CFIE | CFRE | AFE | TRE | M
  });

  it('v6.12: CBAR, TCR = the ARM_32_LPAE_S2 VTCR (T0SZ 64 - 40, SL0 1, PS 40 bits, coherent walk), TTBR0 high word first, no TTBR1/MAIR, SCTLR without CFCFG and ASIDPNE', () => {
    const { sys, u, log } = boot('mainline', 's2');
    log.length = 0;
    openDevice(u, PL330);
    const cb = log.filter((a) => a.reg.startsWith('CB0.') || a.reg.startsWith('CBAR'));
    expect(cb.map((a) => `${a.op} ${a.reg}`).slice(0, 5)).toEqual(['W CBAR[0]', 'W CB0.TTBCR', 'W CB0.TTBR0_HI', 'W CB0.TTBR0_LO', 'W CB0.SCTLR']);
    const v = cb.map((a) => a.value);
    expect(v[0]).toBe((1 << 24) | 1);
    expect(v[1]).toBe(0x80023558);
    const pt = ArmSmmu.pgtableOf(domainOf(sys))!;
    expect(pt).toBeInstanceOf(LpaeS2Pgtable);
    expect(v[3]).toBe(pt.pgd);
    expect(pt.pgd % 8192).toBe(0); // the concatenated 1024-entry level-1 table, 8 KiB aligned
    expect(v[4]).toBe(0x67);
  });
});

describe('stage-2 page tables and their TLB maintenance', () => {
  /** map a read-write and a read-only page; the SMMU's answers for them (stream 1, unprivileged) */
  function mapAndTranslate(profile: string) {
    const b = boot(profile, 's2');
    const { container } = openDevice(b.u, PL330);
    const buf = b.u.call('mmap2', [0, 2 * P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0]);
    b.u.mem.write32(buf, 1);
    b.u.mem.write32(buf + P, 2);
    expect(b.u.mapDma(container, RW, buf, 0x10000, P)).toBe(0);
    expect(b.u.mapDma(container, VFIO_DMA_MAP_FLAG_READ, buf + P, 0x11000, P)).toBe(0);
    const pt = ArmSmmu.pgtableOf(domainOf(b.sys))!;
    const t = (iova: number, write: boolean, instr = false) => b.smmu.translateNoSideEffects(1, iova, makeAttrs({ write, instr }));
    return { ...b, container, pt, t };
  }

  it.each(['rfc-v4', 'mainline'])('%s: HAP from the map flags: a read-write page, a read-only page (a write is a stage-2 permission fault), nothing else', (profile) => {
    const { pt, t } = mapAndTranslate(profile);
    expect(t(0x10010, false)).toMatchObject({ ok: true, pa: pt.iovaToPhys(0x10010) });
    expect(t(0x10010, true)).toMatchObject({ ok: true });
    expect(t(0x11010, false)).toMatchObject({ ok: true, pa: pt.iovaToPhys(0x11010) });
    expect(t(0x11010, true)).toMatchObject({ ok: false, fault: 'permission', level: 3 });
    expect(t(0x12000, false)).toMatchObject({ ok: false, fault: 'translation' });
    if (pt instanceof LpaeS2Pgtable) {
      const w = pt.walk(0x10000)!;
      expect(w.lvl).toBe(3);
      expect(w.lo & (PTE_HAP_READ | PTE_HAP_WRITE)).toBe(PTE_HAP_READ | PTE_HAP_WRITE);
      expect(w.lo & (1 << 11)).toBe(0); // no nG at stage 2
      expect(pt.walk(0x11000)!.lo & (PTE_HAP_READ | PTE_HAP_WRITE)).toBe(PTE_HAP_READ);
    }
  });

  it('3.14: unmap invalidates by VMID (GR0 TLBIVMID = cbndx + 1) and a global sync, per page', () => {
    const { u, container, log } = mapAndTranslate('rfc-v4');
    log.length = 0;
    expect(u.unmapDma(container, 0x10000, 2 * P)).toBe(0);
    const one = ['W TLBIVMID', 'W sTLBGSYNC', 'R sTLBGSTATUS'];
    expect(log.map((a) => `${a.op} ${a.reg}`)).toEqual([...one, ...one]);
    expect(log.filter((a) => a.reg === 'TLBIVMID').map((a) => a.value)).toEqual([1, 1]);
  });

  it('v6.12: unmap walks its own tables (no ATS1PR for stage 2), TLBIVMID per cleared leaf (arm_smmu_tlb_add_page_s2_v1), one global sync (arm_smmu_iotlb_sync)', () => {
    const { u, container, log } = mapAndTranslate('mainline');
    log.length = 0;
    expect(u.unmapDma(container, 0x10000, 2 * P)).toBe(0);
    const names = log.map((a) => `${a.op} ${a.reg}`);
    expect(names.filter((n) => n.includes('ATS'))).toEqual([]);
    expect(names.filter((n) => n === 'W TLBIVMID')).toHaveLength(2);
    expect(names.at(-2)).toBe('W sTLBGSYNC');
    expect(names.at(-1)).toBe('R sTLBGSTATUS');
    expect(log.filter((a) => a.reg === 'TLBIVMID').every((a) => a.value === 1)).toBe(true);
  });
});
