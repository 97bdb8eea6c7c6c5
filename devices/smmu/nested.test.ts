/**
 * Nested contexts (CBAR.TYPE 3, walk-nested.ts) and "stage 1 with stage 2 fault" contexts
 * (TYPE 2), programmed by MMIO as a hypervisor would (neither Linux era creates them): the
 * two-stage walk, combined permissions, where stage-1 and stage-2 faults are recorded (FSR,
 * FAR, FSYNR0.PTWF / S1CBNDX, which interrupt), the TLB maintenance of combined entries
 * (stage-1 ops of the bank and stage-2 ops of the bank they depend on), the accelerators
 * against the reference model, and the small seams (sCR0.GSE, the TTBR address size check).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { makeAttrs } from '../../emulator/attrs.js';
import { BUS_OK, BUS_TRANSLATION_FAULT } from '../../emulator/bus.js';
import { BUS_STALLED, newTranslationResult, type CopyRun, type TranslationResult } from '../../emulator/master.js';
import { Tracer } from '../../emulator/trace.js';
import * as R from './regs.js';
import { ent, makeRig, pageDesc, RAM_BASE, tableDesc, type LeafOpts, type Rig } from './testing/rig.js';
import type { SmmuConfig } from './types.js';
import { S2_AF, S2_HAP_READ, S2_HAP_WRITE, S2_HI_XN } from './walk-s2.js';

const SID = 3;
const RD = makeAttrs({ streamId: SID, priv: false });
const WR = makeAttrs({ streamId: SID, priv: false, write: true });
const IF = makeAttrs({ streamId: SID, priv: false, instr: true });
/** stage-2 bank, nested stage-1 bank, their VMIDs and the stage-1 ASID */
const S2CB = 0;
const S1CB = 2;
const VMID = 5;
const ASID = 9;
/** a stage-1 table page at PA p has the IPA p + IPA_OFF (stage 2 maps it back) */
const IPA_OFF = 0x4000_0000 - RAM_BASE;
const ipaOf = (pa: number): number => pa + IPA_OFF;
/** VTCR of a 32-bit IPA starting at level 1 (T0SZ 0, SL0 1) */
const VTCR_32_L1 = (1 << 31) | (1 << 6);

type S2Opts = { r?: boolean; w?: boolean; xn?: boolean; af?: boolean };
function s2Leaf(pa: number, o: S2Opts = {}): [number, number] {
  let l = (0xf << 2) | (3 << 8) | 3;
  if (o.r ?? true) l |= S2_HAP_READ;
  if (o.w ?? true) l |= S2_HAP_WRITE;
  if (o.af ?? true) l |= S2_AF;
  return [((pa % 2 ** 32) & 0xfffff000 | l) >>> 0, ((Math.floor(pa / 2 ** 32) & 0xff) | (o.xn ? S2_HI_XN : 0)) >>> 0];
}

interface Nest {
  rig: Rig;
  s2pgd: number;
  s1pgd: number;
  /** stage 2: map the 4 KiB IPA page of `ipa` to the PA page of `pa` (or unmap it: null) */
  s2map(ipa: number, pa: number | null, o?: S2Opts): void;
  /** stage 1: map the VA page of `va` to the IPA page of `ipa` (or unmap it: null); tables mapped at stage 2 */
  s1map(va: number, ipa: number | null, o?: LeafOpts): void;
  /** PA of the stage-1 table at `level` (2 or 3) for va */
  s1table(va: number, level: 2 | 3): number;
  /** the address of the level-3 stage-2 descriptor of ipa (its table is built if missing) */
  s2desc(ipa: number): number;
}

/** the stage-2 bank (0, VMID 5) and the nested stage-1 bank (2, ASID 9, CBNDX 0) routed from SID */
function nest(cfg: Partial<SmmuConfig> = {}, o: { s2sctlr?: number; s1sctlr?: number } = {}): Nest {
  const rig = makeRig({ stages: 's1+s2+nested', numS2ContextBanks: 1, ...cfg });
  rig.driverReset();
  const s2pgd = rig.page();
  const s1pgd = rig.page();
  const s2tables = new Map<number, number>();
  const s2table = (t: number, idx: number, key: number): number => {
    let p = s2tables.get(key);
    if (p === undefined) {
      p = rig.page();
      s2tables.set(key, p);
      rig.wr64(ent(t, idx), tableDesc(p));
    }
    return p;
  };
  const s2desc = (ipa: number): number => {
    const l2 = s2table(s2pgd, Math.floor(ipa / 2 ** 30), -1 - Math.floor(ipa / 2 ** 30));
    const l3 = s2table(l2, Math.floor(ipa / 2 ** 21) % 512, Math.floor(ipa / 2 ** 21));
    return ent(l3, Math.floor(ipa / 4096) % 512);
  };
  const s2map = (ipa: number, pa: number | null, so: S2Opts = {}): void => rig.wr64(s2desc(ipa), pa === null ? [0, 0] : s2Leaf(pa, so));
  const s1tables = new Map<string, number>();
  const s1table = (t: number, idx: number, key: string): number => {
    let p = s1tables.get(key);
    if (p === undefined) {
      p = rig.page();
      s2map(ipaOf(p), p);
      s1tables.set(key, p);
      rig.wr64(ent(t, idx), tableDesc(ipaOf(p)));
    }
    return p;
  };
  const tbl = (va: number, level: 2 | 3): number => {
    const l2 = s1table(s1pgd, Math.floor(va / 2 ** 30), `2:${Math.floor(va / 2 ** 30)}`);
    return level === 2 ? l2 : s1table(l2, Math.floor(va / 2 ** 21) % 512, `3:${Math.floor(va / 2 ** 21)}`);
  };
  const s1map = (va: number, ipa: number | null, lo: LeafOpts = {}): void => rig.wr64(ent(tbl(va, 3), Math.floor(va / 4096) % 512), ipa === null ? [0, 0] : pageDesc(ipa, lo));
  s2map(ipaOf(s1pgd), s1pgd);
  // stage-2 bank: CBAR type 0 with the VMID, its own interrupt (line 0)
  rig.w(R.GR1_CBAR + 0x1000 + 4 * S2CB, (R.CBAR_TYPE_S2 << R.CBAR_TYPE_SHIFT) | VMID | (S2CB << R.CBAR_IRPTNDX_SHIFT));
  rig.cbw(S2CB, R.CB_TTBR0_LO, s2pgd);
  rig.cbw(S2CB, R.CB_TTBR0_HI, 0);
  rig.cbw(S2CB, R.CB_TTBCR, VTCR_32_L1);
  rig.cbw(S2CB, R.CB_SCTLR, o.s2sctlr ?? (R.SCTLR_M | R.SCTLR_CFRE | R.SCTLR_CFIE));
  // nested stage-1 bank: CBAR type 3, CBNDX = the stage-2 bank, interrupt line 2
  rig.w(0x1000 + 4 * S1CB, (R.CBAR_TYPE_NESTED << R.CBAR_TYPE_SHIFT) | (S2CB << R.CBAR_CBNDX_SHIFT) | (S1CB << R.CBAR_IRPTNDX_SHIFT));
  rig.cbw(S1CB, R.CB_TTBR0_LO, ipaOf(s1pgd));
  rig.cbw(S1CB, R.CB_TTBR0_HI, ASID << 16);
  rig.cbw(S1CB, R.CB_TTBCR, R.TTBCR_EAE);
  rig.cbw(S1CB, R.CB_SCTLR, o.s1sctlr ?? (R.SCTLR_M | R.SCTLR_CFRE | R.SCTLR_CFIE));
  rig.w(R.GR0_SMR, R.SMR_VALID | SID);
  rig.w(R.GR0_S2CR, (R.S2CR_TYPE_TRANS << R.S2CR_TYPE_SHIFT) | S1CB);
  return { rig, s2pgd, s1pgd, s2map, s1map, s1table: tbl, s2desc };
}

function tr(rig: Rig, va: number, attrs: number): TranslationResult {
  const out = newTranslationResult();
  rig.smmu.translate(va, attrs, out);
  return out;
}

/** VA 0x1000 -> IPA 0x6000_1000 -> PA RAM_BASE + 0x0300_1000 */
const VA = 0x1000;
const IPA = 0x6000_1000;
const PA = RAM_BASE + 0x0300_1000;

describe('SMMU nested contexts (CBAR.TYPE 3): the two-stage walk', () => {
  it('translates VA -> IPA -> PA: every stage-1 descriptor address and the output through the CBNDX bank, then a combined TLB hit', () => {
    const n = nest();
    n.s1map(VA, IPA);
    n.s2map(IPA, PA);
    const o = tr(n.rig, VA + 0x123, RD);
    expect([o.status, o.pa, o.extent]).toEqual([BUS_OK, PA + 0x123, 0x1000 - 0x123]);
    // 3 stage-1 fetches; 4 stage-2 lookups (3 table pages + the output), each a 3-level walk
    expect(o.costNs).toBe(2 + 3 * 60 + 4 * (2 + 3 * 60));
    const st = n.rig.smmu.stats;
    expect([st.translations, st.misses, st.hits, st.walks, st.descriptorFetches]).toEqual([1, 1, 0, 5, 15]);
    const tlb = n.rig.smmu.dumpTlb();
    expect(tlb.filter((e) => e.cb === S2CB)).toHaveLength(4);
    expect(tlb.find((e) => e.cb === S1CB)).toEqual({
      cb: S1CB, asid: ASID, va: VA, size: 4096, pa: PA, level: 3, perms: 'rwx/rwx', nested: { s2cb: S2CB, ipa: IPA, level2: 3, perms1: 'rwx/rwx' },
    });
    // the combined entry answers at the cost of one lookup
    const h = tr(n.rig, VA + 8, WR);
    expect([h.status, h.pa, h.costNs]).toEqual([BUS_OK, PA + 8, 2]);
    // another page of the same stage-1 table: the table pages' stage-2 entries hit
    n.s1map(VA + 0x1000, IPA + 0x5000);
    n.s2map(IPA + 0x5000, PA + 0x9000);
    const o2 = tr(n.rig, VA + 0x1000, RD);
    expect([o2.pa, o2.costNs]).toEqual([PA + 0x9000, 2 + 3 * 60 + 3 * 2 + (2 + 3 * 60)]);
  });

  it('combines permissions: both stages must allow, XN from either; each stage\'s refusal is recorded in its own bank', () => {
    const cases: { s1: LeafOpts; s2: S2Opts; a: number; ok: boolean; bank: number }[] = [
      { s1: {}, s2: {}, a: WR, ok: true, bank: -1 },
      { s1: { ro: true }, s2: {}, a: WR, ok: false, bank: S1CB },
      { s1: {}, s2: { w: false }, a: WR, ok: false, bank: S2CB },
      { s1: {}, s2: { w: false }, a: RD, ok: true, bank: -1 },
      { s1: {}, s2: { r: false }, a: RD, ok: false, bank: S2CB },
      { s1: { xn: true }, s2: {}, a: IF, ok: false, bank: S1CB },
      { s1: {}, s2: { xn: true }, a: IF, ok: false, bank: S2CB },
      { s1: {}, s2: {}, a: IF, ok: true, bank: -1 },
      { s1: { unpriv: false }, s2: {}, a: RD, ok: false, bank: S1CB },
    ];
    for (const c of cases) {
      for (const warm of [false, true]) {
        const n = nest();
        n.s1map(VA, IPA, c.s1);
        n.s2map(IPA, PA, c.s2);
        // warm: the combined entry is cached first (a permission fault then comes from it)
        if (warm) {
          tr(n.rig, VA, makeAttrs({ streamId: SID, priv: true }));
          for (const cb of [S2CB, S1CB]) n.rig.cbw(cb, R.CB_FSR, R.FSR_ALL);
          n.rig.w(R.GR1_CBFRSYNRA + 0x1000, 0);
        }
        const o = tr(n.rig, VA + 4, c.a);
        const what = `${JSON.stringify(c)} warm=${warm}`;
        expect(o.status === BUS_OK, what).toBe(c.ok);
        const fsr = [n.rig.cbr(S2CB, R.CB_FSR), n.rig.cbr(S1CB, R.CB_FSR)];
        if (c.ok) {
          expect(fsr, what).toEqual([0, 0]);
          continue;
        }
        expect(fsr, what).toEqual(c.bank === S2CB ? [R.FSR_PF, 0] : [0, R.FSR_PF]);
        expect(n.rig.ctxIrqs.map((l) => l.level), what).toEqual([c.bank === S2CB, false, c.bank === S1CB, false]);
        const f = n.rig.cbr(c.bank, R.CB_FSYNR0);
        expect(f & 3, what).toBe(3);
        if (c.bank === S2CB) {
          // stage 2: FAR = the IPA, S1CBNDX = the stage-1 bank, not a walk fault
          expect([n.rig.cbr(S2CB, R.CB_FAR_LO), (f >>> 16) & 0xff, f & R.FSYNR0_PTWF], what).toEqual([IPA + 4, S1CB, 0]);
        } else {
          expect([n.rig.cbr(S1CB, R.CB_FAR_LO), (f >>> 16) & 0xff], what).toEqual([VA + 4, 0]);
        }
        expect(n.rig.smmu.faults().at(-1), what).toMatchObject({ type: 'permission', cb: c.bank, va: VA + 4, level: 3 });
      }
    }
  });

  it('records a stage-2 fault on a stage-1 descriptor fetch in the stage-2 bank: FAR = the descriptor IPA, PTWF, S1CBNDX, its interrupt', () => {
    const n = nest();
    n.s1map(VA, IPA);
    n.s2map(IPA, PA);
    const l3 = n.s1table(VA, 3);
    n.s2map(ipaOf(l3), null); // the level-3 table's IPA page is not mapped at stage 2
    const o = tr(n.rig, VA, WR);
    expect(o.status).toBe(BUS_TRANSLATION_FAULT);
    expect([n.rig.cbr(S2CB, R.CB_FSR), n.rig.cbr(S1CB, R.CB_FSR)]).toEqual([R.FSR_TF, 0]);
    expect(n.rig.cbr(S2CB, R.CB_FAR_LO)).toBe(ipaOf(l3) + 8); // entry 1 of the level-3 table
    const f = n.rig.cbr(S2CB, R.CB_FSYNR0);
    expect([f & 3, f & R.FSYNR0_PTWF, (f >>> 16) & 0xff, f & R.FSYNR0_WNR]).toEqual([3, R.FSYNR0_PTWF, S1CB, R.FSYNR0_WNR]);
    expect(n.rig.r(R.GR1_CBFRSYNRA + 0x1000 + 4 * S2CB)).toBe(SID);
    expect(n.rig.ctxIrqs.map((l) => l.level)).toEqual([true, false, false, false]);
    expect(n.rig.smmu.faults().at(-1)).toMatchObject({ type: 'translation', scope: 'context', cb: S2CB, level: 3 });
    expect(n.rig.smmu.dumpTlb().filter((e) => e.cb === S1CB)).toEqual([]); // nothing combined cached
    // an access-flag fault at stage 2 on the walk is recorded the same way
    n.rig.cbw(S2CB, R.CB_FSR, R.FSR_ALL);
    n.s2map(ipaOf(l3), l3, { af: false });
    tr(n.rig, VA, RD);
    expect([n.rig.cbr(S2CB, R.CB_FSR), n.rig.cbr(S2CB, R.CB_FSYNR0) & R.FSYNR0_PTWF]).toEqual([R.FSR_AFF, R.FSYNR0_PTWF]);
  });

  it('records a stage-2 fault on the stage-1 output in the stage-2 bank without PTWF; a stage-1 fault stays in the stage-1 bank', () => {
    const n = nest();
    n.s1map(VA, IPA);
    const o = tr(n.rig, VA + 0x10, RD); // the output IPA's 2 MiB region has no stage-2 table: level 2
    expect(o.status).toBe(BUS_TRANSLATION_FAULT);
    expect([n.rig.cbr(S2CB, R.CB_FSR), n.rig.cbr(S2CB, R.CB_FAR_LO), n.rig.cbr(S2CB, R.CB_FSYNR0)]).toEqual([R.FSR_TF, IPA + 0x10, 2 | (S1CB << 16) | R.FSYNR0_PNU | R.FSYNR0_NSATTR | R.FSYNR0_NSSTATE]);
    expect(n.rig.cbr(S1CB, R.CB_FSR)).toBe(0);
    // while the stage-2 bank's fault is outstanding (HUPCF = 0), the nested context is not translated
    expect(tr(n.rig, VA + 0x3000, RD).status).toBe(BUS_TRANSLATION_FAULT);
    expect([n.rig.cbr(S1CB, R.CB_FSR), n.rig.smmu.stats.heldUnderFault]).toEqual([0, 1]);
    n.rig.cbw(S2CB, R.CB_FSR, R.FSR_ALL);
    // a stage-1 translation fault (no leaf): the stage-1 bank, FAR = the VA
    n.s1map(VA + 0x3000, null);
    tr(n.rig, VA + 0x3000, RD);
    expect([n.rig.cbr(S1CB, R.CB_FSR), n.rig.cbr(S1CB, R.CB_FAR_LO), n.rig.cbr(S1CB, R.CB_FSYNR0) & 3]).toEqual([R.FSR_TF, VA + 0x3000, 3]);
    // an external abort reading a stage-1 descriptor at its PA is a stage-1 fault (PTWF)
    n.rig.cbw(S1CB, R.CB_FSR, R.FSR_ALL);
    n.s2map(ipaOf(n.s1table(VA, 3)), 0x1000_0000); // the table's IPA maps to no RAM
    n.rig.w(R.GR0_TLBIVMID, VMID); // its stage-2 entry was cached by the walks above
    n.rig.w(R.GR0_STLBGSYNC, 0);
    tr(n.rig, VA, RD);
    expect([n.rig.cbr(S1CB, R.CB_FSR), n.rig.cbr(S1CB, R.CB_FSYNR0) & R.FSYNR0_PTWF, n.rig.cbr(S2CB, R.CB_FSR) & R.FSR_EF]).toEqual([R.FSR_EF, R.FSYNR0_PTWF, 0]);
  });

  it('faults a CBNDX that names no stage-2 context: ICF (or UCBF beyond NUMCB) with sGFSYNR0.Nested', () => {
    const n = nest();
    n.s1map(VA, IPA);
    n.s2map(IPA, PA);
    const cbar = (cbndx: number) => n.rig.w(0x1000 + 4 * S1CB, (R.CBAR_TYPE_NESTED << R.CBAR_TYPE_SHIFT) | (cbndx << R.CBAR_CBNDX_SHIFT) | (S1CB << R.CBAR_IRPTNDX_SHIFT));
    n.rig.w(0x1000 + 4 * 3, R.CBAR_TYPE_S1_S2BYPASS << R.CBAR_TYPE_SHIFT); // bank 3: a stage-1 context
    for (const [cbndx, bit, type] of [[3, R.GFSR_ICF, 'invalid-context'], [S1CB, R.GFSR_ICF, 'invalid-context'], [7, R.GFSR_UCBF, 'unimplemented-context-bank']] as const) {
      cbar(cbndx);
      expect(tr(n.rig, VA, RD).status).toBe(BUS_TRANSLATION_FAULT);
      expect([n.rig.r(R.GR0_SGFSR), n.rig.r(R.GR0_SGFSYNR0) & R.GFSYNR0_NESTED]).toEqual([bit, R.GFSYNR0_NESTED]);
      expect(n.rig.smmu.faults().at(-1)).toMatchObject({ scope: 'global', type });
      n.rig.w(R.GR0_SGFSR, n.rig.r(R.GR0_SGFSR));
    }
    cbar(S2CB);
    expect(tr(n.rig, VA, RD).pa).toBe(PA);
    // an ordinary ICF (a TYPE 3 context on an SMMU without NTS) has no Nested bit
    const m = makeRig({ stages: 's1+s2' });
    m.driverReset();
    m.w(0x1000 + 4 * 1, R.CBAR_TYPE_NESTED << R.CBAR_TYPE_SHIFT);
    m.cbw(1, R.CB_SCTLR, R.SCTLR_M);
    m.w(R.GR0_SMR, R.SMR_VALID | SID);
    m.w(R.GR0_S2CR, 1);
    tr(m, VA, RD);
    expect([m.r(R.GR0_SGFSR), m.r(R.GR0_SGFSYNR0) & R.GFSYNR0_NESTED]).toEqual([R.GFSR_ICF, 0]);
  });

  it('with stage 1 off takes the input address as the IPA; with stage 2 off the IPA as the PA', () => {
    const n = nest({}, { s1sctlr: 0 });
    n.s2map(0x7000, PA);
    const o = tr(n.rig, 0x7010, RD);
    expect([o.status, o.pa]).toEqual([BUS_OK, PA + 0x10]);
    tr(n.rig, 0x8000, RD); // unmapped at stage 2: the stage-2 bank's fault, FAR = the address
    expect([n.rig.cbr(S2CB, R.CB_FSR), n.rig.cbr(S2CB, R.CB_FAR_LO), (n.rig.cbr(S2CB, R.CB_FSYNR0) >>> 16) & 0xff]).toEqual([R.FSR_TF, 0x8000, S1CB]);
    const m = nest({}, { s2sctlr: 0 });
    const data = m.rig.page();
    m.s1map(VA, ipaOf(data)); // stage-1 tables at their IPAs = PAs (stage 2 off)
    m.rig.cbw(S1CB, R.CB_TTBR0_LO, m.s1pgd);
    m.rig.wr64(ent(m.s1pgd, 0), tableDesc(m.s1table(VA, 2)));
    m.rig.wr64(ent(m.s1table(VA, 2), 0), tableDesc(m.s1table(VA, 3)));
    m.rig.wr64(ent(m.s1table(VA, 3), 1), pageDesc(data));
    expect(tr(m.rig, VA + 4, RD).pa).toBe(data + 4);
  });

  it('ATS1* on a nested bank answers the stage-1 output (the IPA), its walk through stage 2', () => {
    const n = nest();
    n.s1map(VA, IPA);
    n.rig.cbw(S1CB, R.CB_ATS1PR, VA);
    expect([(n.rig.cbr(S1CB, R.CB_PAR_LO) & 0xfffff001) >>> 0, n.rig.cbr(S1CB, R.CB_PAR_HI) & 0xff]).toEqual([IPA, 0]);
    n.s2map(ipaOf(n.s1table(VA, 3)), null);
    n.rig.cbw(S1CB, R.CB_ATS1PR, VA);
    expect(n.rig.cbr(S1CB, R.CB_PAR_LO)).toBe(1 | R.FSR_TF);
    expect(n.rig.cbr(S2CB, R.CB_FSR)).toBe(0); // ATS records nothing
  });

  it('holds a nested transaction in the stage-2 bank\'s stall model; that bank\'s RESUME releases it', () => {
    const n = nest({}, { s2sctlr: R.SCTLR_M | R.SCTLR_CFRE | R.SCTLR_CFIE | R.SCTLR_CFCFG });
    n.s1map(VA, IPA);
    const o = tr(n.rig, VA, RD);
    expect(o.status).toBe(BUS_STALLED);
    const outcomes: string[] = [];
    n.rig.smmu.onStallResolved((x) => outcomes.push(x));
    expect(n.rig.cbr(S2CB, R.CB_FSR)).toBe(R.FSR_TF | R.FSR_SS);
    // HUPCF = 0 in the stage-2 bank: a later nested transaction is held with it
    expect(tr(n.rig, VA + 0x10, RD).status).toBe(BUS_STALLED);
    n.rig.smmu.onStallResolved((x) => outcomes.push(x));
    n.rig.cbw(S1CB, R.CB_RESUME, 0); // the stage-1 bank has nothing stalled
    expect(outcomes).toEqual([]);
    n.s2map(IPA, PA);
    n.rig.cbw(S2CB, R.CB_RESUME, 0);
    expect(outcomes).toEqual(['retry', 'retry']);
    expect(tr(n.rig, VA, RD).pa).toBe(PA);
  });
});

describe('SMMU nested contexts: TLB maintenance of combined entries', () => {
  /** a cached translation VA -> IPA -> PA whose stage-2 leaf is then remapped to PA2 without invalidation */
  function stale() {
    const n = nest();
    n.s1map(VA, IPA);
    n.s2map(IPA, PA);
    expect(tr(n.rig, VA, RD).pa).toBe(PA);
    n.s2map(IPA, PA + 0x7000);
    const pa = () => tr(n.rig, VA, RD).pa;
    expect(pa()).toBe(PA); // stale until invalidated
    return { n, pa };
  }

  it('TLBIVMID of the stage-2 bank\'s VMID (and a sync) removes combined entries; another VMID does not', () => {
    const { n, pa } = stale();
    n.rig.w(R.GR0_TLBIVMID, VMID + 1);
    n.rig.w(R.GR0_STLBGSYNC, 0);
    expect(pa()).toBe(PA);
    n.rig.w(R.GR0_TLBIVMID, VMID);
    expect(pa()).toBe(PA); // queued until the sync
    n.rig.w(R.GR0_STLBGSYNC, 0);
    expect(pa()).toBe(PA + 0x7000);
  });

  it('TLBIALLNSNH removes them; so does the stage-2 bank\'s TLBIALL with its TLBSYNC', () => {
    const a = stale();
    a.n.rig.w(R.GR0_TLBIALLNSNH, 0);
    a.n.rig.w(R.GR0_STLBGSYNC, 0);
    expect(a.pa()).toBe(PA + 0x7000);
    const b = stale();
    b.n.rig.cbw(S2CB, R.CB_TLBIALL, 0);
    b.n.rig.cbw(S2CB, R.CB_TLBSYNC, 0);
    expect(b.pa()).toBe(PA + 0x7000);
  });

  it('stage-1 TLBIASID / TLBIVA drop the combined entry but not the stale stage-2 entry it was built from', () => {
    const { n, pa } = stale();
    n.rig.cbw(S1CB, R.CB_TLBIASID, ASID);
    n.rig.cbw(S1CB, R.CB_TLBSYNC, 0);
    expect(n.rig.smmu.dumpTlb().filter((e) => e.cb === S1CB)).toEqual([]);
    // rebuilt from the stage-2 entry still cached: the old PA (architecturally stale)
    expect(pa()).toBe(PA);
    // a stage-1 change is seen after TLBIVA of the VA
    n.s1map(VA, IPA + 0x2000);
    n.s2map(IPA + 0x2000, PA + 0x2000);
    expect(pa()).toBe(PA);
    n.rig.cbw(S1CB, R.CB_TLBIVA, VA | ASID);
    n.rig.w(R.GR0_STLBGSYNC, 0);
    expect(pa()).toBe(PA + 0x2000);
  });
});

describe('SMMU TYPE 2 contexts (stage 1 with stage 2 fault)', () => {
  function s2f(sctlr = R.SCTLR_M | R.SCTLR_CFRE | R.SCTLR_CFIE) {
    const rig = makeRig({ stages: 's1+s2' });
    rig.driverReset();
    const pgd = rig.page();
    const l2 = rig.page();
    const l3 = rig.page();
    rig.wr64(ent(pgd, 0), tableDesc(l2));
    rig.wr64(ent(l2, 0), tableDesc(l3));
    rig.wr64(ent(l3, 1), pageDesc(PA, { ro: true }));
    rig.attach(SID, 1, pgd);
    rig.w(0x1000 + 4, (R.CBAR_TYPE_S1_S2FAULT << R.CBAR_TYPE_SHIFT) | (1 << R.CBAR_IRPTNDX_SHIFT));
    rig.cbw(1, R.CB_SCTLR, sctlr);
    return rig;
  }

  it('makes the stage-1 translation, then faults what stage 1 lets through: a translation fault at level 1 in the same bank', () => {
    const rig = s2f();
    expect(tr(rig, VA + 8, RD).status).toBe(BUS_TRANSLATION_FAULT);
    expect([rig.cbr(1, R.CB_FSR), rig.cbr(1, R.CB_FAR_LO), rig.cbr(1, R.CB_FSYNR0) & 3]).toEqual([R.FSR_TF, VA + 8, 1]);
    expect(rig.ctxIrqs[1]!.level).toBe(true);
    // the stage-1 leaf was cached (the walk happened) and the stage-2 fault comes from the hit too
    expect(rig.smmu.dumpTlb()).toHaveLength(1);
    rig.cbw(1, R.CB_FSR, R.FSR_ALL);
    expect(tr(rig, VA + 16, RD).status).toBe(BUS_TRANSLATION_FAULT);
    expect(rig.cbr(1, R.CB_FSR)).toBe(R.FSR_TF);
    // a stage-1 refusal is a stage-1 fault
    rig.cbw(1, R.CB_FSR, R.FSR_ALL);
    tr(rig, VA, WR);
    expect([rig.cbr(1, R.CB_FSR), rig.cbr(1, R.CB_FSYNR0) & 3]).toEqual([R.FSR_PF, 3]);
    // ATS1* answer the stage-1 result
    rig.cbw(1, R.CB_ATS1PR, VA);
    expect((rig.cbr(1, R.CB_PAR_LO) & 0xfffff001) >>> 0).toBe(PA);
  });

  it('faults with SCTLR.M = 0 too (M turns stage 1 off, the faulting stage 2 stays)', () => {
    const rig = s2f(R.SCTLR_CFRE);
    expect(tr(rig, VA, RD).status).toBe(BUS_TRANSLATION_FAULT);
    expect(rig.cbr(1, R.CB_FSR)).toBe(R.FSR_TF);
  });
});

describe('SMMU sCR0.GSE and the TTBR address size check', () => {
  it('sCR0.GSE stalls a context with CFCFG = 0; STALLD still wins', () => {
    const rig = makeRig();
    rig.driverReset();
    rig.attach(SID, 1, rig.page()); // an empty table: every access faults
    expect(tr(rig, VA, RD).status).toBe(BUS_TRANSLATION_FAULT);
    rig.cbw(1, R.CB_FSR, R.FSR_ALL);
    rig.w(R.GR0_SCR0, rig.r(R.GR0_SCR0) | R.SCR0_GSE);
    expect(tr(rig, VA, RD).status).toBe(BUS_STALLED);
    expect(rig.cbr(1, R.CB_FSR)).toBe(R.FSR_TF | R.FSR_SS);
    rig.smmu.onStallResolved(() => {});
    rig.cbw(1, R.CB_RESUME, 1);
    rig.cbw(1, R.CB_FSR, R.FSR_ALL);
    rig.w(R.GR0_SCR0, rig.r(R.GR0_SCR0) | R.SCR0_STALLD);
    expect(tr(rig, VA, RD).status).toBe(BUS_TRANSLATION_FAULT);
  });

  it('faults a TTBR above the output size (OAS 36) at the start level without a fetch; a nested stage 1 checks its TTBR against IAS', () => {
    const rig = makeRig({ oas: 36 });
    rig.driverReset();
    rig.attach(SID, 1, 0x10_0000_0000 + RAM_BASE); // bit 36 set
    expect(tr(rig, VA, RD).status).toBe(BUS_TRANSLATION_FAULT);
    expect([rig.cbr(1, R.CB_FSR), rig.cbr(1, R.CB_FSYNR0) & 3, rig.smmu.stats.descriptorFetches]).toEqual([R.FSR_TF, 1, 0]);
    const n = nest({ ias: 32 });
    n.s1map(VA, IPA);
    n.s2map(IPA, PA);
    expect(tr(n.rig, VA, RD).pa).toBe(PA);
    n.rig.cbw(S1CB, R.CB_TTBR0_HI, (ASID << 16) | 1); // an IPA above 32 bits
    n.rig.cbw(S1CB, R.CB_TLBIALL, 0);
    n.rig.cbw(S1CB, R.CB_TLBSYNC, 0);
    expect(tr(n.rig, VA, RD).status).toBe(BUS_TRANSLATION_FAULT);
    expect([n.rig.cbr(S1CB, R.CB_FSR), n.rig.cbr(S2CB, R.CB_FSR)]).toEqual([R.FSR_TF, 0]);
  });
});

// ---- accelerators on / off ----

const PAGES = 12;
const SID1 = 4;
type NOp =
  | { k: 'translate' | 'quiet'; p: number; off: number; write: boolean }
  | { k: 'hits'; p: number; off: number; write: boolean; count: number }
  | { k: 'copy'; sp: number; dp: number; burst: number; iterations: number; s1: boolean }
  | { k: 's1map'; p: number; ipaPage: number | null; ro: boolean }
  | { k: 's2map'; ipaPage: number; target: number | null; w: boolean }
  | { k: 's2table'; mapped: boolean }
  | { k: 'tlbi'; op: 'asid' | 'vmid' | 'all' | 'va' | 's2all'; p: number }
  | { k: 'clear-fsr' };

const nopArb: fc.Arbitrary<NOp> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ k: fc.constantFrom('translate' as const, 'quiet' as const), p: fc.integer({ min: 0, max: PAGES - 1 }), off: fc.integer({ min: 0, max: 4095 }), write: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('hits' as const), p: fc.integer({ min: 0, max: PAGES - 1 }), off: fc.integer({ min: 0, max: 4095 }), write: fc.boolean(), count: fc.integer({ min: 0, max: 4 }) }) },
  { weight: 3, arbitrary: fc.record({ k: fc.constant('copy' as const), sp: fc.integer({ min: 0, max: PAGES - 1 }), dp: fc.integer({ min: 0, max: PAGES - 1 }), burst: fc.constantFrom(64, 1024, 4096), iterations: fc.integer({ min: 1, max: 40 }), s1: fc.constant(false) }) },
  // a copy through a TYPE 1 context sharing the TLB (its bulk paths replace nested entries' slots)
  { weight: 2, arbitrary: fc.record({ k: fc.constant('copy' as const), sp: fc.integer({ min: 0, max: 7 }), dp: fc.integer({ min: 8, max: 15 }), burst: fc.constantFrom(1024, 4096), iterations: fc.integer({ min: 8, max: 64 }), s1: fc.constant(true) }) },
  fc.record({ k: fc.constant('s1map' as const), p: fc.integer({ min: 0, max: PAGES - 1 }), ipaPage: fc.option(fc.integer({ min: 0, max: 15 })), ro: fc.boolean() }),
  fc.record({ k: fc.constant('s2map' as const), ipaPage: fc.integer({ min: 0, max: 15 }), target: fc.option(fc.integer({ min: 0, max: 31 })), w: fc.boolean() }),
  fc.record({ k: fc.constant('s2table' as const), mapped: fc.boolean() }),
  fc.record({ k: fc.constant('tlbi' as const), op: fc.constantFrom('asid' as const, 'vmid' as const, 'all' as const, 'va' as const, 's2all' as const), p: fc.integer({ min: 0, max: PAGES - 1 }) }),
  fc.record({ k: fc.constant('clear-fsr' as const) }),
);

describe('property: nested contexts with accelerators == without', () => {
  it('hooks on an accel SMMU and the translate() calls they stand for on a reference SMMU agree for a nested context', () => {
    const DATA_IPA = 0x6000_0000;
    const build = (accel: boolean, tlbEntries: number, trace: boolean) => {
      const time = { now: 0 };
      const tracer = new Tracer(() => time.now, trace);
      const n = nest({ accel, tlbEntries, tracer });
      const data = Array.from({ length: 32 }, () => n.rig.page());
      for (let p = 0; p < PAGES; p++) n.s1map(p * 4096, DATA_IPA + (p % 16) * 4096);
      for (let i = 0; i < 16; i++) n.s2map(DATA_IPA + i * 4096, data[i]!);
      // stream SID1: a TYPE 1 context in bank 1 (VA pages 0..31 -> data pages)
      const pgd = n.rig.page();
      const l2 = n.rig.page();
      const l3 = n.rig.page();
      n.rig.wr64(ent(pgd, 0), tableDesc(l2));
      n.rig.wr64(ent(l2, 0), tableDesc(l3));
      for (let p = 0; p < 32; p++) n.rig.wr64(ent(l3, p), pageDesc(data[p]!));
      n.rig.attach(SID1, 1, pgd, { asid: 4, smr: 1 });
      return { n, tracer, data, l3: n.s1table(0, 3) };
    };
    const attrsOf = (write: boolean, sid = SID) => makeAttrs({ streamId: sid, write, priv: false, ns: true });
    fc.assert(
      fc.property(fc.array(nopArb, { minLength: 1, maxLength: 25 }), fc.constantFrom(4, 16, 128), fc.boolean(), (ops, tlbEntries, trace) => {
        const A = build(true, tlbEntries, trace);
        const B = build(false, tlbEntries, trace);
        const a = A.n.rig.smmu;
        const b = B.n.rig.smmu;
        expect(typeof a.translateCopyRun).toBe('function');
        expect(b.quietLookup).toBeUndefined();
        const oa = newTranslationResult();
        const ob = newTranslationResult();
        const run: CopyRun = { srcVa: 0, srcAttrs: 0, dstVa: 0, dstAttrs: 0, burst: 0, iterations: 0, limitNs: Infinity, iterNs: 0, done: 0, costNs: 0, srcPa: new Float64Array(64), dstPa: new Float64Array(64) };
        const state = (x: typeof A) => ({
          stats: { ...x.n.rig.smmu.stats }, tlb: x.n.rig.smmu.dumpTlb(), faults: x.n.rig.smmu.faults().length, digest: x.tracer.digest(),
          regs: [S2CB, S1CB].flatMap((cb) => [R.CB_FSR, R.CB_FAR_LO, R.CB_FSYNR0].map((o) => x.n.rig.cbr(cb, o))), irq: x.n.rig.ctxIrqs.map((l) => l.level),
        });
        for (const op of ops) {
          switch (op.k) {
            case 'translate':
            case 'quiet': {
              const va = op.p * 4096 + op.off;
              const probe = newTranslationResult();
              const q = op.k === 'quiet' ? a.quietLookup!(va, attrsOf(op.write), probe) : false;
              a.translate(va, attrsOf(op.write), oa);
              b.translate(va, attrsOf(op.write), ob);
              expect([oa.status, oa.pa, oa.extent, oa.costNs]).toEqual([ob.status, ob.pa, ob.extent, ob.costNs]);
              if (q) expect([probe.status, probe.pa, probe.costNs]).toEqual([ob.status, ob.pa, ob.costNs]);
              break;
            }
            case 'hits': {
              const va = op.p * 4096 + op.off;
              if (a.translateHits!(va, attrsOf(op.write), op.count, oa)) {
                for (let i = 0; i < op.count; i++) {
                  b.translate(va, attrsOf(op.write), ob);
                  expect([ob.status, ob.pa, ob.costNs]).toEqual([BUS_OK, oa.pa, oa.costNs]);
                }
              }
              break;
            }
            case 'copy': {
              const sid = op.s1 ? SID1 : SID;
              Object.assign(run, { srcVa: op.sp * 4096, srcAttrs: attrsOf(false, sid), dstVa: op.dp * 4096, dstAttrs: attrsOf(true, sid), burst: op.burst, iterations: op.iterations });
              a.translateCopyRun!(run);
              let cost = 0;
              for (let i = 0; i < run.done; i++) {
                const w = (i & 1) === 1;
                const base = w ? run.dstVa : run.srcVa;
                const va = base + (i >>> 1) * run.burst;
                b.translate(va, attrsOf(w, sid), ob);
                expect(ob.status).toBe(BUS_OK);
                cost += ob.costNs;
                expect(ob.pa - (va % 4096)).toBe((w ? run.dstPa : run.srcPa)[Math.floor(va / 4096) - Math.floor(base / 4096)]);
              }
              expect(run.costNs).toBe(cost);
              break;
            }
            case 's1map':
              for (const x of [A, B]) x.n.s1map(op.p * 4096, op.ipaPage === null ? null : DATA_IPA + op.ipaPage * 4096, { ro: op.ro });
              break;
            case 's2map':
              for (const x of [A, B]) x.n.s2map(DATA_IPA + op.ipaPage * 4096, op.target === null ? null : x.data[op.target]!, { w: op.w });
              break;
            case 's2table':
              // the stage-1 level-3 table's IPA page mapped at stage 2 or not
              for (const x of [A, B]) x.n.s2map(ipaOf(x.l3), op.mapped ? x.l3 : null);
              break;
            case 'tlbi':
              for (const x of [A, B]) {
                const rig = x.n.rig;
                if (op.op === 'asid') rig.cbw(S1CB, R.CB_TLBIASID, ASID);
                else if (op.op === 'vmid') rig.w(R.GR0_TLBIVMID, VMID);
                else if (op.op === 'all') rig.w(R.GR0_TLBIALLNSNH, 0);
                else if (op.op === 'va') rig.cbw(S1CB, R.CB_TLBIVAA, op.p * 4096);
                else rig.cbw(S2CB, R.CB_TLBIALL, 0);
                rig.w(R.GR0_STLBGSYNC, 0);
              }
              break;
            case 'clear-fsr':
              for (const x of [A, B]) for (const cb of [S2CB, S1CB]) x.n.rig.cbw(cb, R.CB_FSR, x.n.rig.cbr(cb, R.CB_FSR));
              break;
          }
          expect(state(A)).toEqual(state(B));
        }
      }),
      { numRuns: 60, seed: 0x5e57ed },
    );
  });
});

describe('nested entries and the copy runs of another context', () => {
  it('a TYPE 1 copy run whose bulk insertions replace combined entries leaves the TLB the reference leaves', () => {
    const build = (accel: boolean) => {
      const n = nest({ accel, tlbEntries: 16 });
      for (let p = 0; p < 16; p++) {
        n.s1map(p * 4096, IPA + p * 4096);
        n.s2map(IPA + p * 4096, PA + p * 4096);
      }
      const pgd = n.rig.page();
      const l2 = n.rig.page();
      const l3 = n.rig.page();
      n.rig.wr64(ent(pgd, 0), tableDesc(l2));
      n.rig.wr64(ent(l2, 0), tableDesc(l3));
      for (let p = 0; p < 64; p++) n.rig.wr64(ent(l3, p), pageDesc(RAM_BASE + 0x0100_0000 + p * 4096));
      n.rig.attach(SID1, 1, pgd, { asid: 4, smr: 1 });
      return n;
    };
    const A = build(true);
    const B = build(false);
    const out = newTranslationResult();
    // combined + stage-2 entries fill the TLB
    for (const n of [A, B]) for (let p = 0; p < 16; p++) n.rig.smmu.translate(p * 4096, RD, out);
    expect(A.rig.smmu.dumpTlb().some((e) => e.nested !== undefined)).toBe(true);
    const run: CopyRun = { srcVa: 0, srcAttrs: makeAttrs({ streamId: SID1 }), dstVa: 32 * 4096, dstAttrs: makeAttrs({ streamId: SID1, write: true }), burst: 4096, iterations: 32, limitNs: Infinity, iterNs: 0, done: 0, costNs: 0, srcPa: new Float64Array(64), dstPa: new Float64Array(64) };
    A.rig.smmu.translateCopyRun!(run);
    expect(run.done).toBe(64);
    for (let i = 0; i < run.done; i++) B.rig.smmu.translate((i & 1) === 1 ? 32 * 4096 + (i >>> 1) * 4096 : (i >>> 1) * 4096, (i & 1) === 1 ? run.dstAttrs : run.srcAttrs, out);
    expect(A.rig.smmu.dumpTlb()).toEqual(B.rig.smmu.dumpTlb());
    expect(A.rig.smmu.stats).toEqual(B.rig.smmu.stats);
  });
});
