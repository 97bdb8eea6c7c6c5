/**
 * Stage-2 contexts (CBAR.TYPE 0): the configuration (sIDR0/sIDR1, which CBAR types a bank
 * takes), the stage-2 LPAE walk (VTCR-format TTBCR: T0SZ, S, SL0; 40-bit IPA), the stage-2
 * descriptor permissions (HAP, XN), access-flag / translation / permission faults with their
 * syndrome, and the TLB maintenance of stage-2 entries (TLBIVMID, TLBIALLNSNH).
 */
import { describe, expect, it } from 'vitest';
import { makeAttrs } from '../../emulator/attrs.js';
import { BUS_OK, BUS_TRANSLATION_FAULT } from '../../emulator/bus.js';
import { newTranslationResult } from '../../emulator/master.js';
import * as R from './regs.js';
import { ent, makeRig, RAM_BASE, type Desc, type Rig } from './testing/rig.js';
import type { SmmuStages } from './types.js';
import { S2_AF, S2_HAP_READ, S2_HAP_WRITE, S2_HI_XN, s2Geometry } from './walk-s2.js';

const SID = 3;
const RD = makeAttrs({ streamId: SID, priv: false });
const WR = makeAttrs({ streamId: SID, priv: false, write: true });
const IF = makeAttrs({ streamId: SID, priv: false, instr: true });
const PRD = makeAttrs({ streamId: SID, priv: true });
const PWR = makeAttrs({ streamId: SID, priv: true, write: true });
const PIF = makeAttrs({ streamId: SID, priv: true, instr: true });

/** the VTCR v6.12 writes for a 40-bit IPA (T0SZ = 64 - 40 = 24 in a 6-bit field, SL0 = 1) and 3.14's (T0SZ 0, SL0 1) */
const VTCR_40 = (1 << 31) | (1 << 6) | 24;
const VTCR_32_L1 = (1 << 31) | (1 << 6);
const VTCR_32_L2 = 1 << 31;

const split = (pa: number): [number, number] => [pa % 2 ** 32, Math.floor(pa / 2 ** 32)];
function s2Leaf(pa: number, level: number, o: { r?: boolean; w?: boolean; xn?: boolean; af?: boolean; memattr?: number } = {}): Desc {
  const [lo, hi] = split(pa);
  let l = ((o.memattr ?? 0xf) << 2) | (3 << 8) | (level === 3 ? 3 : 1);
  if (o.r ?? true) l |= S2_HAP_READ;
  if (o.w ?? true) l |= S2_HAP_WRITE;
  if (o.af ?? true) l |= S2_AF;
  return [((lo & (level === 1 ? 0xc0000000 : level === 2 ? 0xffe00000 : 0xfffff000)) | l) >>> 0, ((hi & 0xff) | (o.xn ? S2_HI_XN : 0)) >>> 0];
}
const s2Table = (pa: number): Desc => [((pa % 2 ** 32) | 3) >>> 0, Math.floor(pa / 2 ** 32) & 0xff];

/** a zeroed, `align`-aligned region of RAM for a (concatenated) first-level table */
function tableAt(rig: Rig, off: number, size: number): number {
  rig.ram.fill(off, 0, size);
  return RAM_BASE + off;
}

/** program bank `cb` as a stage-2 context (3.14 arm_smmu_init_context_bank's stage-2 branch) and route SID to it */
function attachS2(rig: Rig, cb: number, pgd: number, vtcr: number, vmid: number, sctlrExtra = 0): void {
  rig.w(0x1000 + 4 * cb, (R.CBAR_TYPE_S2 << R.CBAR_TYPE_SHIFT) | vmid | (cb << R.CBAR_IRPTNDX_SHIFT));
  rig.cbw(cb, R.CB_TTBR0_LO, pgd % 2 ** 32);
  rig.cbw(cb, R.CB_TTBR0_HI, Math.floor(pgd / 2 ** 32));
  rig.cbw(cb, R.CB_TTBCR, vtcr);
  rig.cbw(cb, R.CB_SCTLR, R.SCTLR_M | R.SCTLR_CFRE | R.SCTLR_CFIE | sctlrExtra);
  rig.w(R.GR0_SMR + 4 * cb, R.SMR_VALID | SID);
  rig.w(R.GR0_S2CR + 4 * cb, (R.S2CR_TYPE_TRANS << R.S2CR_TYPE_SHIFT) | cb);
}

function s2Rig(stages: SmmuStages = 's2', numS2ContextBanks?: number): Rig {
  const rig = makeRig({ stages, ...(numS2ContextBanks === undefined ? {} : { numS2ContextBanks }) });
  rig.driverReset();
  return rig;
}

function tr(rig: Rig, va: number, attrs: number) {
  const out = newTranslationResult();
  rig.smmu.translate(va, attrs, out);
  return out;
}

/** a 40-bit IPA chain: pgd (1024 entries, 8 KiB aligned) -> L2 -> L3 for `ipa`; returns the L3 table */
function chain40(rig: Rig, ipa: number): { pgd: number; l3: number } {
  const pgd = tableAt(rig, 0x0200_0000, 0x2000);
  const l2 = rig.page();
  const l3 = rig.page();
  rig.wr64(ent(pgd, Math.floor(ipa / 2 ** 30)), s2Table(l2));
  rig.wr64(ent(l2, Math.floor(ipa / 2 ** 21) % 512), s2Table(l3));
  return { pgd, l3 };
}

describe('SMMU translation stages: ID registers and context types', () => {
  it('advertises the configured stages in sIDR0 and NUMS2CB in sIDR1 (the default is unchanged: S1 only)', () => {
    const id = (st?: SmmuStages, n?: number) => {
      const rig = makeRig(st === undefined ? {} : { stages: st, ...(n === undefined ? {} : { numS2ContextBanks: n }) });
      const i0 = rig.r(R.GR0_SIDR0);
      return [(i0 & R.SIDR0_S1TS) !== 0, (i0 & R.SIDR0_S2TS) !== 0, (i0 & R.SIDR0_NTS) !== 0, (rig.r(R.GR0_SIDR1) >>> 16) & 0xff];
    };
    expect(id()).toEqual([true, false, false, 0]);
    expect(id('s1')).toEqual([true, false, false, 0]);
    expect(id('s2')).toEqual([false, true, false, 4]);
    expect(id('s1+s2')).toEqual([true, true, false, 0]);
    expect(id('s1+s2+nested', 2)).toEqual([true, true, true, 2]);
    expect(() => makeRig({ stages: 's1+s2', numS2ContextBanks: 5 })).toThrow(RangeError);
  });

  it('takes CBAR type 0 only with S2TS, type 1 only with S1TS above NUMS2CB, type 2 with both stages, type 3 with NTS', () => {
    const kind = (stages: SmmuStages, cb: number, type: number, nS2?: number) => {
      const rig = s2Rig(stages, nS2);
      const pgd = tableAt(rig, 0x0200_0000, 0x4000);
      attachS2(rig, cb, pgd, VTCR_32_L2, 1);
      rig.w(0x1000 + 4 * cb, (type << R.CBAR_TYPE_SHIFT) | 1);
      tr(rig, 0x1000, RD);
      return rig.smmu.faults().at(-1)?.type ?? 'none';
    };
    // an empty table: a valid context faults with a translation fault, an invalid one with ICF
    expect(kind('s1', 0, 0)).toBe('invalid-context');
    expect(kind('s2', 0, 0)).toBe('translation');
    expect(kind('s2', 0, 1)).toBe('invalid-context');
    expect(kind('s1+s2', 0, 0)).toBe('translation');
    expect(kind('s1+s2', 0, 1)).toBe('translation');
    expect(kind('s1+s2', 1, 1, 2)).toBe('invalid-context'); // bank 1 < NUMS2CB: stage 2 only
    expect(kind('s1+s2', 2, 1, 2)).toBe('translation');
    // TYPE 3 (nested) needs NTS and a stage-1 bank; TYPE 2 (S1 + S2 fault) both stages (nested.test.ts)
    expect(kind('s1+s2', 2, 3, 2)).toBe('invalid-context');
    expect(kind('s1+s2+nested', 1, 3, 2)).toBe('invalid-context');
    expect(kind('s1+s2+nested', 2, 3, 2)).toBe('translation');
    expect(kind('s1', 2, 2)).toBe('invalid-context');
    expect(kind('s1+s2+nested', 2, 2)).toBe('translation');
  });
});

describe('SMMU stage-2 LPAE walker', () => {
  it('walks a 40-bit IPA from level 1 (T0SZ = -8, SL0 = 1, a 1024-entry concatenated table) and caches it untagged by ASID', () => {
    const rig = s2Rig();
    const ipa = 0x12_3456_7890;
    const { pgd, l3 } = chain40(rig, ipa);
    rig.wr64(ent(l3, Math.floor(ipa / 4096) % 512), s2Leaf(0x8765_4000, 3));
    attachS2(rig, 0, pgd, VTCR_40, 7);
    const o = tr(rig, ipa, WR);
    expect(o.status).toBe(BUS_OK);
    expect(o.pa).toBe(0x8765_4890);
    expect(o.extent).toBe(0x1000 - 0x890);
    expect(o.costNs).toBe(2 + 3 * 60);
    expect(rig.smmu.dumpTlb()).toEqual([{ cb: 0, asid: -1, va: ipa - 0x890, size: 4096, pa: 0x8765_4000, level: 3, perms: 'rwx/rwx' }]);
    expect(tr(rig, ipa + 4, RD).costNs).toBe(2);
  });

  it('decodes T0SZ / S / SL0 and their limits (B3.6.6: SL0 0 -> level 2, T0SZ -2..7; SL0 1 -> level 1, T0SZ -8..1)', () => {
    const g = (t0sz: number, sl0: number, s = t0sz < 0) => {
      const v = s2Geometry(((t0sz + 16) % 16) | (s ? 1 << 4 : 0) | (sl0 << 6));
      return v === 0 ? null : [v >>> 2, v & 3];
    };
    expect(g(0, 0)).toEqual([32, 2]);
    expect(g(7, 0)).toEqual([25, 2]);
    expect(g(-2, 0)).toEqual([34, 2]);
    expect(g(-3, 0)).toBeNull();
    expect(g(-8, 1)).toEqual([40, 1]);
    expect(g(1, 1)).toEqual([31, 1]);
    expect(g(2, 1)).toBeNull();
    expect(g(0, 2)).toBeNull();
    expect(g(0, 3)).toBeNull();
    expect(g(-8, 1, false)).toBeNull(); // S must equal T0SZ[3]
    expect(g(3, 0, true)).toBeNull();
    // v6.12's 6-bit T0SZ field for a 40-bit IPA (24 = 0b011000) is T0SZ -8 with S set
    expect(s2Geometry(VTCR_40)).toBe(40 * 4 + 1);
  });

  it('starts at level 2 with SL0 = 0 (four concatenated level-2 tables for a 32-bit IPA) and at level 1 with 3.14\'s SL0 = 1', () => {
    const rig = s2Rig();
    const ipa = 0xc012_3000; // level-2 index 0x600: the fourth concatenated table
    const pgd = tableAt(rig, 0x0200_0000, 0x4000);
    const l3 = rig.page();
    rig.wr64(ent(pgd, Math.floor(ipa / 2 ** 21)), s2Table(l3));
    rig.wr64(ent(l3, 0x123 % 512), s2Leaf(0x8100_0000, 3));
    attachS2(rig, 0, pgd + 0x10, VTCR_32_L2, 1); // TTBR bits below the 16 KiB alignment are ignored
    const o = tr(rig, ipa, RD);
    expect([o.status, o.pa, o.costNs]).toEqual([BUS_OK, 0x8100_0000, 2 + 2 * 60]);
    // SL0 = 1, T0SZ 0: a 4-entry level-1 table
    const rig2 = s2Rig();
    const pgd2 = tableAt(rig2, 0x0200_0000, 0x1000);
    const l2 = rig2.page();
    rig2.wr64(ent(pgd2, 3), s2Table(l2));
    rig2.wr64(ent(l2, 0), s2Leaf(0x8020_0000, 2)); // a 2 MiB block
    attachS2(rig2, 0, pgd2, VTCR_32_L1, 1);
    const o2 = tr(rig2, 0xc001_2345, RD);
    expect([o2.status, o2.pa, o2.extent, o2.costNs]).toEqual([BUS_OK, 0x8021_2345, 0x20_0000 - 0x1_2345, 2 + 2 * 60]);
    // a 1 GiB block at level 1 of a 40-bit IPA
    const rig3 = s2Rig();
    const pgd3 = tableAt(rig3, 0x0200_0000, 0x2000);
    rig3.wr64(ent(pgd3, 0x3ff), s2Leaf(0x40_0000_0000, 1));
    attachS2(rig3, 0, pgd3, VTCR_40, 1);
    const o3 = tr(rig3, 0xff_c000_1000, RD);
    expect([o3.status, o3.pa, o3.costNs]).toEqual([BUS_OK, 0x40_0000_1000, 2 + 60]);
  });

  it('faults an IPA beyond the input size and an inconsistent VTCR as a level-1 translation fault, without a walk', () => {
    const rig = s2Rig();
    const pgd = tableAt(rig, 0x0200_0000, 0x4000);
    attachS2(rig, 0, pgd, VTCR_32_L2, 1);
    const o = tr(rig, 2 ** 32, RD);
    expect(o.status).toBe(BUS_TRANSLATION_FAULT);
    expect(rig.smmu.faults().at(-1)).toMatchObject({ type: 'translation', level: 1, cb: 0 });
    expect(rig.smmu.stats.walks).toBe(0);
    rig.cbw(0, R.CB_FSR, rig.cbr(0, R.CB_FSR));
    rig.cbw(0, R.CB_TTBCR, (1 << 6) | 2); // SL0 = 1 with T0SZ 2
    expect(tr(rig, 0x1000, RD).status).toBe(BUS_TRANSLATION_FAULT);
    expect(rig.smmu.stats.walks).toBe(0);
  });

  it('applies HAP and XN: every combination, the same for privileged and unprivileged accesses', () => {
    for (const r of [false, true]) {
      for (const w of [false, true]) {
        for (const xn of [false, true]) {
          const rig = s2Rig();
          const { pgd, l3 } = chain40(rig, 0x5000);
          rig.wr64(ent(l3, 5), s2Leaf(0x8123_4000, 3, { r, w, xn }));
          attachS2(rig, 0, pgd, VTCR_40, 1, R.SCTLR_HUPCF);
          const ok = (a: number) => {
            const st = tr(rig, 0x5008, a).status;
            rig.cbw(0, R.CB_FSR, rig.cbr(0, R.CB_FSR));
            return st === BUS_OK;
          };
          const want = [r, w, r && !xn];
          expect([ok(RD), ok(WR), ok(IF)], `r=${r} w=${w} xn=${xn}`).toEqual(want);
          expect([ok(PRD), ok(PWR), ok(PIF)], `priv r=${r} w=${w} xn=${xn}`).toEqual(want);
        }
      }
    }
  });

  it('records a permission fault (write to a read-only page) in FSR/FAR/FSYNR0 as for stage 1, from the TLB too', () => {
    const rig = s2Rig();
    const ipa = 0x1_0000_3010;
    const { pgd, l3 } = chain40(rig, ipa);
    rig.wr64(ent(l3, 3), s2Leaf(0x8000_3000, 3, { w: false }));
    attachS2(rig, 2, pgd, VTCR_40, 9);
    expect(tr(rig, ipa, RD).status).toBe(BUS_OK);
    const o = tr(rig, ipa, WR);
    expect(o.status).toBe(BUS_TRANSLATION_FAULT);
    expect(rig.cbr(2, R.CB_FSR)).toBe(R.FSR_PF);
    expect([rig.cbr(2, R.CB_FAR_LO), rig.cbr(2, R.CB_FAR_HI)]).toEqual([0x3010, 1]);
    // PLVL 3, WNR, PNU (unprivileged), NSATTR; S1CBNDX [23:16] is 0 (no nested stage 1)
    const fsynr0 = rig.cbr(2, R.CB_FSYNR0);
    expect(fsynr0 & 3).toBe(3);
    expect(fsynr0 & R.FSYNR0_WNR).toBe(R.FSYNR0_WNR);
    expect(fsynr0 & R.FSYNR0_PNU).toBe(R.FSYNR0_PNU);
    expect(fsynr0 & R.FSYNR0_IND).toBe(0);
    expect((fsynr0 >>> 16) & 0xff).toBe(0);
    expect(rig.smmu.faults().at(-1)).toMatchObject({ type: 'permission', scope: 'context', cb: 2, level: 3, va: ipa, streamId: SID });
    expect(rig.ctxIrqs[2]!.level).toBe(true);
  });

  it('records translation faults at their level and access-flag faults unless SCTLR.AFFD; external aborts set PTWF', () => {
    const rig = s2Rig();
    const ipa = 0x2_0040_0000;
    const { pgd, l3 } = chain40(rig, ipa);
    attachS2(rig, 0, pgd, VTCR_40, 1);
    tr(rig, ipa, IF);
    expect([rig.cbr(0, R.CB_FSR), rig.cbr(0, R.CB_FSYNR0) & 3, rig.cbr(0, R.CB_FSYNR0) & R.FSYNR0_IND]).toEqual([R.FSR_TF, 3, R.FSYNR0_IND]);
    rig.cbw(0, R.CB_FSR, R.FSR_ALL);
    rig.wr64(ent(l3, 0), s2Leaf(0x8000_0000, 3, { af: false }));
    tr(rig, ipa, RD);
    expect([rig.cbr(0, R.CB_FSR), rig.cbr(0, R.CB_FSYNR0) & 3]).toEqual([R.FSR_AFF, 3]);
    rig.cbw(0, R.CB_FSR, R.FSR_ALL);
    rig.cbw(0, R.CB_SCTLR, rig.cbr(0, R.CB_SCTLR) | R.SCTLR_AFFD);
    expect(tr(rig, ipa, RD).status).toBe(BUS_OK);
    // an unmapped level-1 entry: a level-1 translation fault; a table outside RAM: external abort
    tr(rig, 0x40_0000, RD);
    expect([rig.cbr(0, R.CB_FSR), rig.cbr(0, R.CB_FSYNR0) & 3]).toEqual([R.FSR_TF, 1]);
    rig.cbw(0, R.CB_FSR, R.FSR_ALL);
    rig.wr64(ent(pgd, 5), s2Table(0x1000_0000));
    tr(rig, 5 * 2 ** 30, RD);
    expect([rig.cbr(0, R.CB_FSR), rig.cbr(0, R.CB_FSYNR0) & 3, rig.cbr(0, R.CB_FSYNR0) & R.FSYNR0_PTWF]).toEqual([R.FSR_EF, 2, R.FSYNR0_PTWF]);
  });

  it('keeps stage-2 entries until TLBIVMID of the bank\'s VMID (not another VMID, not TLBIASID) or TLBIALLNSNH and a sync', () => {
    const rig = s2Rig();
    const ipa = 0x3000;
    const { pgd, l3 } = chain40(rig, ipa);
    rig.wr64(ent(l3, 3), s2Leaf(0x8000_3000, 3));
    attachS2(rig, 1, pgd, VTCR_40, 0x42);
    expect(tr(rig, ipa, RD).pa).toBe(0x8000_3000);
    rig.wr64(ent(l3, 3), s2Leaf(0x8000_9000, 3));
    const pa = () => tr(rig, ipa, RD).pa;
    expect(pa()).toBe(0x8000_3000); // stale until invalidated
    rig.cbw(1, R.CB_TLBIASID, 0x42);
    rig.w(R.GR0_TLBIVMID, 0x41);
    rig.w(R.GR0_STLBGSYNC, 0);
    expect(pa()).toBe(0x8000_3000);
    rig.w(R.GR0_TLBIVMID, 0x42);
    expect(pa()).toBe(0x8000_3000); // queued until the sync
    rig.w(R.GR0_STLBGSYNC, 0);
    expect(pa()).toBe(0x8000_9000);
    rig.wr64(ent(l3, 3), s2Leaf(0x8000_a000, 3));
    rig.w(R.GR0_TLBIALLNSNH, 0);
    rig.w(R.GR0_STLBGSYNC, 0);
    expect(pa()).toBe(0x8000_a000);
  });
});
