import { describe, expect, it } from 'vitest';
import { makeAttrs } from '../../emulator/attrs.js';
import { BUS_OK, BUS_TRANSLATION_FAULT } from '../../emulator/bus.js';
import { BUS_STALLED, newTranslationResult } from '../../emulator/master.js';
import * as R from './regs.js';
import { blockDesc, ent, makeRig, pageDesc, tableDesc, type Rig } from './testing/rig.js';

const SID = 1;
const RD = makeAttrs({ streamId: SID, priv: false });
const WR = makeAttrs({ streamId: SID, priv: false, write: true });
const IF = makeAttrs({ streamId: SID, priv: false, instr: true });
const PRD = makeAttrs({ streamId: SID, priv: true });
const PWR = makeAttrs({ streamId: SID, priv: true, write: true });
const PIF = makeAttrs({ streamId: SID, priv: true, instr: true });

/** rig with stream 1 attached to context bank 0; returns [rig, pgd] */
function setup(opts: Parameters<Rig['attach']>[3] = {}): { rig: Rig; pgd: number } {
  const rig = makeRig();
  rig.driverReset();
  const pgd = rig.page();
  rig.attach(SID, 0, pgd, opts);
  return { rig, pgd };
}

function tr(rig: Rig, va: number, attrs: number) {
  const out = newTranslationResult();
  rig.smmu.translate(va, attrs, out);
  return out;
}

/** build pgd[l1] -> L2 table -> L3 table, return the L3 table address */
function l3For(rig: Rig, pgd: number, va: number, t1 = {}, t2 = {}): number {
  const l2 = rig.page();
  const l3 = rig.page();
  rig.wr64(ent(pgd, Math.floor(va / 2 ** 30)), tableDesc(l2, t1));
  rig.wr64(ent(l2, Math.floor(va / 2 ** 21) & 511), tableDesc(l3, t2));
  return l3;
}

describe('SMMU stage-1 LPAE walker', () => {
  it('translates a level-1 block (1 GiB)', () => {
    const { rig, pgd } = setup();
    rig.wr64(ent(pgd, 1), blockDesc(0x80000000));
    const o = tr(rig, 0x4012_3456, RD);
    expect(o.status).toBe(BUS_OK);
    expect(o.pa).toBe(0x8012_3456);
    expect(o.extent).toBe(0x8000_0000 - 0x4012_3456);
    expect(o.costNs).toBe(2 + 60);
  });

  it('translates a level-2 block (2 MiB) with a 40-bit output address', () => {
    const { rig, pgd } = setup();
    const l2 = rig.page();
    rig.wr64(ent(pgd, 0), tableDesc(l2));
    rig.wr64(ent(l2, 3), blockDesc(0xab_c020_0000));
    const o = tr(rig, 0x0060_1234, RD);
    expect(o.status).toBe(BUS_OK);
    expect(o.pa).toBe(0xab_c020_1234);
    expect(o.extent).toBe(0x0080_0000 - 0x0060_1234);
    expect(o.costNs).toBe(2 + 2 * 60);
  });

  it('translates a level-3 page and reports the extent to the end of the page', () => {
    const { rig, pgd } = setup();
    const l3 = l3For(rig, pgd, 0x1234_5000);
    rig.wr64(ent(l3, 0x145), pageDesc(0x8765_4000));
    const o = tr(rig, 0x1234_5ff0, WR);
    expect(o.status).toBe(BUS_OK);
    expect(o.pa).toBe(0x8765_4ff0);
    expect(o.extent).toBe(0x10);
    expect(o.costNs).toBe(2 + 3 * 60);
  });

  for (const level of [1, 2, 3]) {
    it(`an invalid entry at level ${level} is a translation fault with PLVL=${level}, FAR and FSYNR0`, () => {
      const { rig, pgd } = setup();
      const va = 0x4a5b_6c7d;
      if (level > 1) {
        const l2 = rig.page();
        rig.wr64(ent(pgd, 1), tableDesc(l2));
        if (level > 2) rig.wr64(ent(l2, (va >>> 21) & 511), tableDesc(rig.page()));
      }
      const o = tr(rig, va, WR);
      expect(o.status).toBe(BUS_TRANSLATION_FAULT);
      expect(o.extent).toBe(0);
      expect(rig.cbr(0, R.CB_FSR)).toBe(R.FSR_TF);
      expect(rig.cbr(0, R.CB_FAR_LO)).toBe(va);
      expect(rig.cbr(0, R.CB_FAR_HI)).toBe(0);
      const syn = rig.cbr(0, R.CB_FSYNR0);
      expect(syn & 3).toBe(level);
      expect(syn & R.FSYNR0_WNR).toBe(R.FSYNR0_WNR);
      expect(syn & R.FSYNR0_PNU).toBe(R.FSYNR0_PNU);
      expect(syn & R.FSYNR0_IND).toBe(0);
      expect(syn & R.FSYNR0_NSATTR).toBe(R.FSYNR0_NSATTR);
      expect(rig.smmu.faults().at(-1)).toMatchObject({ type: 'translation', va, level, cb: 0, scope: 'context', streamId: SID });
    });
  }

  it('a reserved 0b01 entry at level 3 is a translation fault', () => {
    const { rig, pgd } = setup();
    const l3 = l3For(rig, pgd, 0x1000);
    rig.wr64(ent(l3, 1), blockDesc(0x8000_0000)); // type bits 0b01
    expect(tr(rig, 0x1000, RD).status).toBe(BUS_TRANSLATION_FAULT);
    expect(rig.cbr(0, R.CB_FSYNR0) & 3).toBe(3);
  });

  it('XN: a data read of an XN page succeeds, an instruction fetch is a permission fault with IND', () => {
    const { rig, pgd } = setup();
    const l3 = l3For(rig, pgd, 0x2000);
    rig.wr64(ent(l3, 2), pageDesc(0x8800_0000, { xn: true, pxn: true }));
    expect(tr(rig, 0x2010, RD).status).toBe(BUS_OK);
    expect(tr(rig, 0x2010, PRD).status).toBe(BUS_OK);
    const o = tr(rig, 0x2020, IF);
    expect(o.status).toBe(BUS_TRANSLATION_FAULT);
    expect(rig.cbr(0, R.CB_FSR)).toBe(R.FSR_PF);
    expect(rig.cbr(0, R.CB_FAR_LO)).toBe(0x2020);
    const syn = rig.cbr(0, R.CB_FSYNR0);
    expect(syn & R.FSYNR0_IND).toBe(R.FSYNR0_IND);
    expect(syn & R.FSYNR0_WNR).toBe(0);
    expect(syn & 3).toBe(3);
  });

  it('PXN only forbids privileged instruction fetches', () => {
    const { rig, pgd } = setup();
    const l3 = l3For(rig, pgd, 0x3000);
    rig.wr64(ent(l3, 3), pageDesc(0x8800_0000, { pxn: true }));
    expect(tr(rig, 0x3000, IF).status).toBe(BUS_OK);
    expect(tr(rig, 0x3000, PIF).status).toBe(BUS_TRANSLATION_FAULT);
    expect(rig.cbr(0, R.CB_FSR)).toBe(R.FSR_PF);
  });

  it('a read-only page faults on write (WNR set) and allows reads', () => {
    const { rig, pgd } = setup();
    const l3 = l3For(rig, pgd, 0x5000);
    rig.wr64(ent(l3, 5), pageDesc(0x8800_0000, { ro: true }));
    expect(tr(rig, 0x5004, RD).status).toBe(BUS_OK);
    expect(tr(rig, 0x5008, PWR).status).toBe(BUS_TRANSLATION_FAULT);
    expect(rig.cbr(0, R.CB_FSR)).toBe(R.FSR_PF);
    const syn = rig.cbr(0, R.CB_FSYNR0);
    expect(syn & (R.FSYNR0_WNR | R.FSYNR0_PNU)).toBe(R.FSYNR0_WNR);
  });

  it('a privileged-only page (AP[1]=0) faults for unprivileged access with PNU', () => {
    const { rig, pgd } = setup();
    const l3 = l3For(rig, pgd, 0x6000);
    rig.wr64(ent(l3, 6), pageDesc(0x8800_0000, { unpriv: false }));
    expect(tr(rig, 0x6000, PWR).status).toBe(BUS_OK);
    expect(tr(rig, 0x6000, RD).status).toBe(BUS_TRANSLATION_FAULT);
    expect(rig.cbr(0, R.CB_FSYNR0) & R.FSYNR0_PNU).toBe(R.FSYNR0_PNU);
  });

  it('APTable[1] in a level-1 table makes a writable level-3 page read-only', () => {
    const { rig, pgd } = setup();
    const l3 = l3For(rig, pgd, 0x7000, { noWrite: true });
    rig.wr64(ent(l3, 7), pageDesc(0x8800_0000));
    expect(tr(rig, 0x7000, RD).status).toBe(BUS_OK);
    expect(tr(rig, 0x7000, WR).status).toBe(BUS_TRANSLATION_FAULT);
    expect(rig.cbr(0, R.CB_FSR)).toBe(R.FSR_PF);
    expect(rig.cbr(0, R.CB_FSYNR0) & 3).toBe(3);
  });

  it('APTable[0] in a level-2 table removes unprivileged access below', () => {
    const { rig, pgd } = setup();
    const l3 = l3For(rig, pgd, 0x8000, {}, { noUnpriv: true });
    rig.wr64(ent(l3, 8), pageDesc(0x8800_0000));
    expect(tr(rig, 0x8000, PRD).status).toBe(BUS_OK);
    expect(tr(rig, 0x8000, RD).status).toBe(BUS_TRANSLATION_FAULT);
    expect(rig.cbr(0, R.CB_FSR)).toBe(R.FSR_PF);
  });

  it('XNTable and PXNTable restrict execution below', () => {
    const { rig, pgd } = setup();
    const l3 = l3For(rig, pgd, 0x9000, { xnTable: true });
    rig.wr64(ent(l3, 9), pageDesc(0x8800_0000));
    expect(tr(rig, 0x9000, RD).status).toBe(BUS_OK);
    expect(tr(rig, 0x9000, IF).status).toBe(BUS_TRANSLATION_FAULT);
    expect(rig.cbr(0, R.CB_FSYNR0) & R.FSYNR0_IND).toBe(R.FSYNR0_IND);

    const s2 = setup();
    const l3b = l3For(s2.rig, s2.pgd, 0x9000, {}, { pxnTable: true });
    s2.rig.wr64(ent(l3b, 9), pageDesc(0x8800_0000));
    expect(tr(s2.rig, 0x9000, IF).status).toBe(BUS_OK);
    expect(tr(s2.rig, 0x9000, PIF).status).toBe(BUS_TRANSLATION_FAULT);
  });

  it('AF=0 is an access-flag fault unless SCTLR.AFFD', () => {
    const { rig, pgd } = setup();
    const l3 = l3For(rig, pgd, 0xa000);
    rig.wr64(ent(l3, 10), pageDesc(0x8800_0000, { af: false }));
    expect(tr(rig, 0xa000, RD).status).toBe(BUS_TRANSLATION_FAULT);
    expect(rig.cbr(0, R.CB_FSR)).toBe(R.FSR_AFF);
    expect(rig.cbr(0, R.CB_FSYNR0) & 3).toBe(3);
    // AF faults are not cached: set AFFD and the same access succeeds
    rig.cbw(0, R.CB_FSR, R.FSR_ALL);
    rig.cbw(0, R.CB_SCTLR, rig.cbr(0, R.CB_SCTLR) | R.SCTLR_AFFD);
    expect(tr(rig, 0xa000, RD).status).toBe(BUS_OK);
  });

  it('a walk that hits nothing on the bus is an external abort at that level', () => {
    const { rig, pgd } = setup();
    rig.wr64(ent(pgd, 0), tableDesc(0x1000_0000)); // nothing decodes at 0x10000000
    expect(tr(rig, 0x1234, RD).status).toBe(BUS_TRANSLATION_FAULT);
    expect(rig.cbr(0, R.CB_FSR)).toBe(R.FSR_EF);
    expect(rig.cbr(0, R.CB_FSYNR0) & 3).toBe(2);
    expect(rig.cbr(0, R.CB_FSYNR0) & R.FSYNR0_PTWF).toBe(R.FSYNR0_PTWF);
    expect(rig.smmu.faults().at(-1)?.type).toBe('external');
  });

  it('HUPCF = 1: a second fault before clearing sets MULTI and keeps the first syndrome; writing FSR back clears', () => {
    const { rig } = setup({ sctlrExtra: R.SCTLR_HUPCF });
    expect(rig.ctxIrqs[0]!.level).toBe(false);
    tr(rig, 0x1000, RD);
    expect(rig.ctxIrqs[0]!.level).toBe(true);
    tr(rig, 0x2000, WR);
    expect(rig.cbr(0, R.CB_FSR)).toBe((R.FSR_TF | R.FSR_MULTI) >>> 0);
    expect(rig.cbr(0, R.CB_FAR_LO)).toBe(0x1000);
    expect(rig.cbr(0, R.CB_FSYNR0) & R.FSYNR0_WNR).toBe(0);
    expect(rig.smmu.faults().map((f) => f.multi)).toEqual([false, true]);
    rig.cbw(0, R.CB_FSR, rig.cbr(0, R.CB_FSR));
    expect(rig.cbr(0, R.CB_FSR)).toBe(0);
    expect(rig.ctxIrqs[0]!.level).toBe(false);
    tr(rig, 0x3000, RD);
    expect(rig.cbr(0, R.CB_FAR_LO)).toBe(0x3000);
  });

  it('HUPCF = 0, terminate model: while FSR holds the fault, later transactions of the context (valid ones too) get the error untranslated and record nothing; writing FSR back ends it', () => {
    const { rig, pgd } = setup();
    const l3 = l3For(rig, pgd, 0x5000);
    rig.wr64(ent(l3, 5), pageDesc(0x8000_5000));
    expect(tr(rig, 0x5000, RD).status).toBe(BUS_OK);
    expect(tr(rig, 0x1000, RD).status).toBe(BUS_TRANSLATION_FAULT);
    const walks = rig.smmu.stats.walks;
    const held = tr(rig, 0x5000, RD);
    expect(held.status).toBe(BUS_TRANSLATION_FAULT);
    expect(tr(rig, 0x2000, WR).status).toBe(BUS_TRANSLATION_FAULT);
    expect(rig.cbr(0, R.CB_FSR)).toBe(R.FSR_TF); // no MULTI: nothing more was recorded
    expect(rig.cbr(0, R.CB_FAR_LO)).toBe(0x1000);
    expect(rig.smmu.faults().length).toBe(1);
    expect(rig.smmu.stats.heldUnderFault).toBe(2);
    expect(rig.smmu.stats.walks).toBe(walks);
    // the tables' own answer is unchanged (inspection does not follow the fault model)
    expect(rig.smmu.translateNoSideEffects(SID, 0x5000, RD).ok).toBe(true);
    rig.cbw(0, R.CB_FSR, R.FSR_TF);
    expect(tr(rig, 0x5000, RD).status).toBe(BUS_OK);
  });

  it('HUPCF = 0, stall model: while SS is set, later transactions of the context are held with the faulting one and the RESUME gives them the same outcome', () => {
    const { rig, pgd } = setup({ stall: true });
    const l3 = l3For(rig, pgd, 0x5000);
    rig.wr64(ent(l3, 5), pageDesc(0x8000_5000));
    const got: string[] = [];
    expect(tr(rig, 0x1000, RD).status).toBe(BUS_STALLED);
    rig.smmu.onStallResolved((x) => got.push(`fault:${x}`));
    expect(tr(rig, 0x5000, WR).status).toBe(BUS_STALLED);
    rig.smmu.onStallResolved((x) => got.push(`valid:${x}`));
    expect(rig.cbr(0, R.CB_FSR)).toBe((R.FSR_TF | R.FSR_SS) >>> 0);
    // the driver's order: FSR written back (SS stays), then RESUME; still held until RESUME
    rig.cbw(0, R.CB_FSR, rig.cbr(0, R.CB_FSR));
    expect(tr(rig, 0x5000, RD).status).toBe(BUS_STALLED);
    rig.smmu.onStallResolved((x) => got.push(`valid2:${x}`));
    rig.cbw(0, R.CB_RESUME, 0);
    expect(got).toEqual(['fault:retry', 'valid:retry', 'valid2:retry']);
    expect(rig.smmu.stats.heldUnderFault).toBe(2);
    expect(tr(rig, 0x5000, RD).status).toBe(BUS_OK);
  });

  it('HUPCF = 1: a valid transaction translates while the fault is outstanding (hit under fault)', () => {
    const { rig, pgd } = setup({ stall: true, sctlrExtra: R.SCTLR_HUPCF });
    const l3 = l3For(rig, pgd, 0x5000);
    rig.wr64(ent(l3, 5), pageDesc(0x8000_5000));
    expect(tr(rig, 0x1000, RD).status).toBe(BUS_STALLED);
    rig.smmu.onStallResolved(() => {});
    expect(tr(rig, 0x5000, RD).status).toBe(BUS_OK);
    expect(rig.smmu.stats.heldUnderFault).toBe(0);
  });

  it('context interrupt goes to the line named by CBAR.IRPTNDX, only with CFIE', () => {
    const { rig } = setup({ irptndx: 2 });
    tr(rig, 0x1000, RD);
    expect(rig.ctxIrqs.map((l) => l.level)).toEqual([false, false, true, false]);
    const s2 = setup({ cfie: false });
    tr(s2.rig, 0x1000, RD);
    expect(s2.rig.cbr(0, R.CB_FSR)).toBe(R.FSR_TF);
    expect(s2.rig.ctxIrqs.some((l) => l.level)).toBe(false);
  });

  it('stall mode (CFCFG): the transaction is held (SS, FAR, FSYNR0), RESUME with TnR=1 terminates it, TnR=0 retries it', () => {
    const { rig, pgd } = setup({ stall: true, sctlrExtra: R.SCTLR_HUPCF });
    const o = tr(rig, 0x1234, WR);
    expect(o.status).toBe(BUS_STALLED);
    expect(rig.cbr(0, R.CB_FSR)).toBe((R.FSR_TF | R.FSR_SS) >>> 0);
    expect(rig.cbr(0, R.CB_FAR_LO)).toBe(0x1234);
    expect(rig.cbr(0, R.CB_FSYNR0) & R.FSYNR0_WNR).toBe(R.FSYNR0_WNR);
    const got: string[] = [];
    rig.smmu.onStallResolved((x) => got.push(x));
    // clearing FSR does not release it: SS stays and so does the interrupt
    rig.cbw(0, R.CB_FSR, rig.cbr(0, R.CB_FSR));
    expect(rig.cbr(0, R.CB_FSR)).toBe(R.FSR_SS >>> 0);
    expect(rig.ctxIrqs[0]!.level).toBe(true);
    expect(got).toEqual([]);
    rig.cbw(0, R.CB_RESUME, R.RESUME_TERMINATE);
    expect(got).toEqual(['terminate']);
    expect(rig.cbr(0, R.CB_FSR)).toBe(0);
    expect(rig.ctxIrqs[0]!.level).toBe(false);
    // a second RESUME has nothing to resolve
    rig.cbw(0, R.CB_RESUME, 0);
    expect(got).toEqual(['terminate']);
    // retry: two transactions held (the second sets MULTI), one RESUME retries both
    expect(tr(rig, 0x5000, RD).status).toBe(BUS_STALLED);
    rig.smmu.onStallResolved((x) => got.push(`a:${x}`));
    expect(tr(rig, 0x6000, RD).status).toBe(BUS_STALLED);
    rig.smmu.onStallResolved((x) => got.push(`b:${x}`));
    expect(rig.cbr(0, R.CB_FSR)).toBe((R.FSR_TF | R.FSR_SS | R.FSR_MULTI) >>> 0);
    expect(rig.cbr(0, R.CB_FAR_LO)).toBe(0x5000);
    const l3 = l3For(rig, pgd, 0x5000);
    rig.wr64(ent(l3, 5), pageDesc(0x8000_5000));
    rig.cbw(0, R.CB_FSR, rig.cbr(0, R.CB_FSR));
    rig.cbw(0, R.CB_RESUME, 0);
    expect(got).toEqual(['terminate', 'a:retry', 'b:retry']);
    expect(tr(rig, 0x5010, RD).pa).toBe(0x8000_5010);
    expect(rig.smmu.fault.stalled.length).toBe(0);
    expect([rig.smmu.fault.stalls, rig.smmu.fault.retries, rig.smmu.fault.terminations]).toEqual([3, 2, 1]);
  });

  it('terminate mode (CFCFG clear): a context fault answers the master at once', () => {
    const { rig } = setup({});
    expect(tr(rig, 0x1000, RD).status).toBe(BUS_TRANSLATION_FAULT);
    expect(rig.cbr(0, R.CB_FSR)).toBe(R.FSR_TF);
    expect(rig.smmu.fault.stalled.length).toBe(0);
  });

  it('TTBR1 region selection with T0SZ=1 and the 32-bit input limit', () => {
    const rig = makeRig();
    rig.driverReset();
    const pgd0 = rig.page();
    const pgd1 = rig.page();
    rig.attach(SID, 0, pgd0, { ttbcr: (R.TTBCR_EAE | 1) >>> 0 });
    rig.cbw(0, R.CB_TTBR1_LO, pgd1);
    rig.wr64(ent(pgd0, 1), blockDesc(0x8000_0000));
    rig.wr64(ent(pgd1, 2), blockDesc(0xc000_0000));
    expect(tr(rig, 0x4000_0010, RD).pa).toBe(0x8000_0010);
    expect(tr(rig, 0x8000_0010, RD).pa).toBe(0xc000_0010);
    expect(tr(rig, 0x1_0000_0000, RD).status).toBe(BUS_TRANSLATION_FAULT);
  });

  it('SCTLR.M=0 passes the address through', () => {
    const { rig } = setup();
    rig.cbw(0, R.CB_SCTLR, 0);
    const o = tr(rig, 0x8123_4567, RD);
    expect(o.status).toBe(BUS_OK);
    expect(o.pa).toBe(0x8123_4567);
  });

  it('big-endian walks (SCTLR.E) read byte-swapped descriptors', () => {
    const { rig, pgd } = setup({ sctlrExtra: R.SCTLR_E });
    const [lo, hi] = blockDesc(0x8000_0000);
    const sw = (x: number) => (((x & 0xff) << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | (x >>> 24)) >>> 0;
    rig.wr64(ent(pgd, 0), [sw(hi), sw(lo)]);
    expect(tr(rig, 0x10, RD).pa).toBe(0x8000_0010);
  });

  it('ATS1PR / ATS1PW fill PAR without touching FSR', () => {
    const { rig, pgd } = setup();
    const l3 = l3For(rig, pgd, 0xb000);
    rig.wr64(ent(l3, 11), pageDesc(0x8_8765_4000, { ro: true, attrIndx: 1 }));
    rig.cbw(0, R.CB_ATS1PR, 0xb123);
    expect(rig.cbr(0, R.CB_ATSR)).toBe(0);
    expect(rig.cbr(0, R.CB_PAR_LO) & 1).toBe(0);
    expect((rig.cbr(0, R.CB_PAR_LO) & 0xfffff000) >>> 0).toBe(0x8765_4000);
    expect(rig.cbr(0, R.CB_PAR_HI) & 0xff).toBe(0x08);
    expect(rig.cbr(0, R.CB_PAR_HI) >>> 24).toBe(0xff); // MAIR0 attr index 1
    rig.cbw(0, R.CB_ATS1PW, 0xb123);
    expect(rig.cbr(0, R.CB_PAR_LO)).toBe(1 | R.FSR_PF);
    expect(rig.cbr(0, R.CB_PAR_HI) & 3).toBe(3);
    expect(rig.cbr(0, R.CB_FSR)).toBe(0);
    expect(rig.smmu.faults()).toHaveLength(0);
  });

  it('translateNoSideEffects walks without touching FSR, the TLB, the fault log or the stats', () => {
    const { rig, pgd } = setup();
    const l3 = l3For(rig, pgd, 0xc000);
    rig.wr64(ent(l3, 12), pageDesc(0x8800_0000, { xn: true }));
    const stats = { ...rig.smmu.stats };
    expect(rig.smmu.translateNoSideEffects(SID, 0xc010, RD)).toEqual({ ok: true, pa: 0x8800_0010, extent: 0xff0, bypass: false, cb: 0, level: 3 });
    expect(rig.smmu.translateNoSideEffects(SID, 0xc010, IF)).toEqual({ ok: false, fault: 'permission', cb: 0, level: 3 });
    expect(rig.smmu.translateNoSideEffects(SID, 0xd000, RD)).toEqual({ ok: false, fault: 'translation', cb: 0, level: 3 });
    expect(rig.smmu.translateNoSideEffects(9, 0xd000, RD)).toMatchObject({ ok: true, bypass: true, pa: 0xd000 });
    expect(rig.cbr(0, R.CB_FSR)).toBe(0);
    expect(rig.smmu.dumpTlb()).toEqual([]);
    expect(rig.smmu.faults()).toEqual([]);
    expect(rig.smmu.stats).toEqual(stats);
    expect(rig.ctxIrqs[0]!.level).toBe(false);
  });
});
