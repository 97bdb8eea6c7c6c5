import { describe, expect, it } from 'vitest';
import { makeAttrs } from '../../emulator/attrs.js';
import { BUS_OK, BUS_TRANSLATION_FAULT } from '../../emulator/bus.js';
import { newTranslationResult } from '../../emulator/master.js';
import * as R from './regs.js';
import { blockDesc, ent, makeRig, type Rig } from './testing/rig.js';

const rd = (sid: number) => makeAttrs({ streamId: sid });

function tr(rig: Rig, va: number, attrs: number) {
  const out = newTranslationResult();
  rig.smmu.translate(va, attrs, out);
  return out;
}

describe('SMMU stream matching and global configuration', () => {
  it('CLIENTPD (reset state) bypasses every stream', () => {
    const rig = makeRig();
    expect(rig.r(R.GR0_SCR0) & R.SCR0_CLIENTPD).toBe(R.SCR0_CLIENTPD);
    const o = tr(rig, 0x8000_1234, rd(7));
    expect(o.status).toBe(BUS_OK);
    expect(o.pa).toBe(0x8000_1234);
    // also with a translating S2CR in place
    rig.driverReset();
    const pgd = rig.page();
    rig.attach(7, 0, pgd);
    expect(tr(rig, 0x1234, rd(7)).status).toBe(BUS_TRANSLATION_FAULT);
    rig.w(R.GR0_SCR0, rig.r(R.GR0_SCR0) | R.SCR0_CLIENTPD);
    expect(tr(rig, 0x1234, rd(7))).toMatchObject({ status: BUS_OK, pa: 0x1234 });
  });

  it('a context fault records the stream id in GR1 CBFRSYNRAn (IHI 0062)', () => {
    const rig = makeRig();
    rig.driverReset();
    rig.attach(7, 2, rig.page());
    expect(rig.r(0x1000 + R.GR1_CBFRSYNRA + 4 * 2)).toBe(0);
    expect(tr(rig, 0x4000, rd(7)).status).toBe(BUS_TRANSLATION_FAULT);
    expect(rig.r(0x1000 + R.GR1_CBFRSYNRA + 4 * 2)).toBe(7);
    // another bank is untouched
    expect(rig.r(0x1000 + R.GR1_CBFRSYNRA + 4 * 1)).toBe(0);
  });

  it('unmatched stream: USFCFG=0 bypasses, USFCFG=1 is an unidentified-stream global fault', () => {
    const rig = makeRig();
    rig.driverReset();
    expect(tr(rig, 0x8000_0040, rd(9))).toMatchObject({ status: BUS_OK, pa: 0x8000_0040 });
    expect(rig.r(R.GR0_SGFSR)).toBe(0);
    rig.w(R.GR0_SCR0, rig.r(R.GR0_SCR0) | R.SCR0_USFCFG);
    const wr = makeAttrs({ streamId: 9, write: true, priv: false });
    expect(tr(rig, 0x8000_0040, wr).status).toBe(BUS_TRANSLATION_FAULT);
    expect(rig.r(R.GR0_SGFSR)).toBe(R.GFSR_USF);
    expect(rig.r(R.GR0_SGFAR_LO)).toBe(0x8000_0040);
    expect(rig.r(R.GR0_SGFSYNR1)).toBe(9);
    const syn = rig.r(R.GR0_SGFSYNR0);
    expect(syn & (R.GFSYNR0_WNR | R.GFSYNR0_PNU | R.GFSYNR0_IND)).toBe(R.GFSYNR0_WNR | R.GFSYNR0_PNU);
    expect(rig.globalIrq.level).toBe(true);
    expect(rig.smmu.faults().at(-1)).toMatchObject({ scope: 'global', type: 'unidentified-stream', streamId: 9 });
    // second global fault: MULTI
    tr(rig, 0x10, rd(10));
    expect(rig.r(R.GR0_SGFSR)).toBe((R.GFSR_USF | R.GFSR_MULTI) >>> 0);
    expect(rig.r(R.GR0_SGFSYNR1)).toBe(9);
    // the Linux handler writes sGFSR back: W1C, line drops
    rig.w(R.GR0_SGFSR, rig.r(R.GR0_SGFSR));
    expect(rig.r(R.GR0_SGFSR)).toBe(0);
    expect(rig.globalIrq.level).toBe(false);
  });

  it('global interrupt only with GFIE', () => {
    const rig = makeRig();
    rig.driverReset();
    rig.w(R.GR0_SCR0, (rig.r(R.GR0_SCR0) | R.SCR0_USFCFG) & ~(R.SCR0_GFIE | R.SCR0_GCFGFIE));
    tr(rig, 0, rd(3));
    expect(rig.r(R.GR0_SGFSR)).toBe(R.GFSR_USF);
    expect(rig.globalIrq.level).toBe(false);
    rig.w(R.GR0_SCR0, rig.r(R.GR0_SCR0) | R.SCR0_GFIE);
    expect(rig.globalIrq.level).toBe(true);
  });

  it('S2CR type fault faults, type bypass bypasses', () => {
    const rig = makeRig();
    rig.driverReset();
    rig.w(R.GR0_SMR + 4 * 2, R.SMR_VALID | 5);
    rig.w(R.GR0_S2CR + 4 * 2, R.S2CR_TYPE_FAULT << R.S2CR_TYPE_SHIFT);
    expect(tr(rig, 0x100, rd(5)).status).toBe(BUS_TRANSLATION_FAULT);
    expect(rig.r(R.GR0_SGFSR)).not.toBe(0);
    expect(rig.smmu.faults().at(-1)?.type).toBe('s2cr-fault');
    expect(rig.smmu.translateNoSideEffects(5, 0x100, 0)).toMatchObject({ ok: false, fault: 's2cr-fault' });
    rig.w(R.GR0_S2CR + 4 * 2, R.S2CR_TYPE_BYPASS << R.S2CR_TYPE_SHIFT);
    expect(tr(rig, 0x100, rd(5))).toMatchObject({ status: BUS_OK, pa: 0x100 });
  });

  it('SMR MASK bits are ignored in the comparison; two matching SMRs are a stream-match conflict', () => {
    const rig = makeRig();
    rig.driverReset();
    const pgd = rig.page();
    rig.wr64(ent(pgd, 0), blockDesc(0x8000_0000));
    rig.attach(0x10, 0, pgd);
    rig.w(R.GR0_SMR, R.SMR_VALID | (0x3 << R.SMR_MASK_SHIFT) | 0x10); // matches 0x10..0x13
    expect(tr(rig, 0x20, rd(0x13)).pa).toBe(0x8000_0020);
    expect(tr(rig, 0x20, rd(0x14))).toMatchObject({ status: BUS_OK, pa: 0x20 }); // unmatched: bypass
    rig.w(R.GR0_SMR + 4, R.SMR_VALID | 0x12);
    expect(tr(rig, 0x20, rd(0x12)).status).toBe(BUS_TRANSLATION_FAULT);
    expect(rig.r(R.GR0_SGFSR)).toBe(R.GFSR_SMCF);
    expect(rig.globalIrq.level).toBe(true);
    expect(tr(rig, 0x20, rd(0x11)).pa).toBe(0x8000_0020);
    // invalidating an SMR removes it from matching
    rig.w(R.GR0_SMR + 4, ~R.SMR_VALID);
    expect(tr(rig, 0x20, rd(0x12)).pa).toBe(0x8000_0020);
  });

  it('S2CR pointing at an unimplemented context bank is an UCBF global fault', () => {
    const rig = makeRig();
    rig.driverReset();
    rig.w(R.GR0_SMR, R.SMR_VALID | 1);
    rig.w(R.GR0_S2CR, 9);
    expect(tr(rig, 0, rd(1)).status).toBe(BUS_TRANSLATION_FAULT);
    expect(rig.r(R.GR0_SGFSR)).toBe(R.GFSR_UCBF);
  });

  it('S2CR.PRIVCFG / INSTCFG override the incoming attributes', () => {
    const rig = makeRig();
    rig.driverReset();
    const pgd = rig.page();
    rig.wr64(ent(pgd, 0), blockDesc(0x8000_0000, { unpriv: false, xn: true }));
    rig.attach(1, 0, pgd);
    expect(tr(rig, 0x10, rd(1)).status).toBe(BUS_TRANSLATION_FAULT); // unprivileged
    rig.cbw(0, R.CB_FSR, R.FSR_ALL);
    rig.w(R.GR0_S2CR, rig.r(R.GR0_S2CR) | (3 << R.S2CR_PRIVCFG_SHIFT));
    expect(tr(rig, 0x10, rd(1)).status).toBe(BUS_OK);
    rig.w(R.GR0_S2CR, rig.r(R.GR0_S2CR) | (3 << R.S2CR_INSTCFG_SHIFT));
    expect(tr(rig, 0x10, rd(1)).status).toBe(BUS_TRANSLATION_FAULT);
    expect(rig.cbr(0, R.CB_FSYNR0) & R.FSYNR0_IND).toBe(R.FSYNR0_IND);
  });

  it('a context bank of a non-stage-1 CBAR type is an invalid context (ICF)', () => {
    const rig = makeRig();
    rig.driverReset();
    rig.attach(1, 0, rig.page());
    rig.w(0x1000, R.CBAR_TYPE_S2 << R.CBAR_TYPE_SHIFT);
    expect(tr(rig, 0, rd(1)).status).toBe(BUS_TRANSLATION_FAULT);
    expect(rig.r(R.GR0_SGFSR)).toBe(R.GFSR_ICF);
  });
});

describe('SMMU register file', () => {
  it('sIDR0-2 and PIDR2 reflect the configuration; ID registers are read-only', () => {
    const rig = makeRig();
    const id0 = rig.r(R.GR0_SIDR0);
    expect(id0 & R.SIDR0_S1TS).toBe(R.SIDR0_S1TS);
    expect(id0 & (R.SIDR0_S2TS | R.SIDR0_NTS)).toBe(0);
    expect(id0 & R.SIDR0_SMS).toBe(R.SIDR0_SMS);
    expect((id0 >>> 16) & 0xff).toBe(4); // context interrupts
    expect(id0 & 0xff).toBe(8); // SMRs
    expect((id0 >>> 24) & 3).toBe(1); // PTFS: AArch32 long descriptors only (no short: bit 24)
    const id1 = rig.r(R.GR0_SIDR1);
    expect(id1 >>> 31).toBe(0); // 4 KiB pages
    expect((id1 >>> 28) & 7).toBe(2); // 2^(2+1) = 8 global pages -> 64 KiB
    expect((id1 >>> 16) & 0xff).toBe(0);
    expect(id1 & 0xff).toBe(4);
    expect(rig.r(R.GR0_SIDR2)).toBe(0x22); // IAS = OAS = 40 bits
    expect((rig.r(0xfe8) >>> 4) & 0xf).toBe(0); // SMMUv1
    rig.w(R.GR0_SIDR0, 0);
    rig.w(R.GR0_SIDR1, 0);
    expect(rig.r(R.GR0_SIDR0)).toBe(id0);
    expect(rig.r(R.GR0_SIDR1)).toBe(id1);
    const small = makeRig({ numContextBanks: 2, numSmrs: 3, ias: 32, oas: 36 });
    expect(small.r(R.GR0_SIDR0) & 0xff).toBe(3);
    expect(small.r(R.GR0_SIDR1) & 0xff).toBe(2);
    expect(small.r(R.GR0_SIDR2)).toBe(0x10);
  });

  it('SMR stores the full ID and MASK (the driver probe writes all ones and reads back)', () => {
    const rig = makeRig();
    rig.w(R.GR0_SMR, 0x7fff7fff);
    expect(rig.r(R.GR0_SMR)).toBe(0x7fff7fff);
  });

  it('FSR and sGFSR are write-1-to-clear; FAR, FSYNR0 and sGFAR are read/write (IHI 0062: software may save and restore them)', () => {
    const rig = makeRig();
    rig.driverReset();
    // HUPCF: later transactions still translate (and fault) while the first fault is outstanding
    rig.attach(1, 0, rig.page(), { sctlrExtra: R.SCTLR_HUPCF });
    tr(rig, 0x4000, rd(1));
    tr(rig, 0x5000, rd(1));
    expect(rig.cbr(0, R.CB_FSR)).toBe((R.FSR_TF | R.FSR_MULTI) >>> 0);
    rig.cbw(0, R.CB_FSR, R.FSR_MULTI);
    expect(rig.cbr(0, R.CB_FSR)).toBe(R.FSR_TF);
    rig.cbw(0, R.CB_FSR, 0);
    expect(rig.cbr(0, R.CB_FSR)).toBe(R.FSR_TF);
    expect(rig.cbr(0, R.CB_FAR_LO)).toBe(0x4000);
    expect(rig.cbr(0, R.CB_FSYNR0) & 3).toBe(1);
    rig.cbw(0, R.CB_FAR_LO, 0x1111);
    rig.cbw(0, R.CB_FSYNR0, 0x3);
    expect(rig.cbr(0, R.CB_FAR_LO)).toBe(0x1111);
    expect(rig.cbr(0, R.CB_FSYNR0)).toBe(0x3);
    // a further fault while FSR holds one sets MULTI only: the written syndrome stays
    tr(rig, 0x6000, rd(1));
    expect(rig.cbr(0, R.CB_FAR_LO)).toBe(0x1111);
    rig.cbw(0, R.CB_FSR, (R.FSR_TF | R.FSR_MULTI) >>> 0);
    expect(rig.cbr(0, R.CB_FSR)).toBe(0);
    // sGFSR
    rig.w(R.GR0_SCR0, rig.r(R.GR0_SCR0) | R.SCR0_USFCFG);
    tr(rig, 0, rd(2));
    rig.w(R.GR0_SGFSR, R.GFSR_SMCF);
    expect(rig.r(R.GR0_SGFSR)).toBe(R.GFSR_USF);
    rig.w(R.GR0_SGFAR_LO, 0x55);
    expect(rig.r(R.GR0_SGFAR_LO)).toBe(0x55);
    rig.w(R.GR0_SGFSR, R.GFSR_USF);
    expect(rig.r(R.GR0_SGFSR)).toBe(0);
  });

  it('registers program through the bus like the driver: round-trip of CB registers', () => {
    const rig = makeRig();
    rig.cbw(3, R.CB_TTBR0_LO, 0x8012_3000);
    rig.cbw(3, R.CB_TTBR0_HI, 0x0003_0000);
    rig.cbw(3, R.CB_MAIR0, 0x0004ff44);
    rig.w(0x1000 + 12, 0x0301_0000);
    expect(rig.cbr(3, R.CB_TTBR0_LO)).toBe(0x8012_3000);
    expect(rig.cbr(3, R.CB_TTBR0_HI)).toBe(0x0003_0000);
    expect(rig.cbr(3, R.CB_MAIR0)).toBe(0x0004ff44);
    expect(rig.r(0x1000 + 12)).toBe(0x0301_0000);
    // 1- and 2-byte accesses are refused by the bus (slave error), not thrown
    expect(rig.bus.read(0x2b400000, 2, 0)).toBeLessThan(0);
  });
});
