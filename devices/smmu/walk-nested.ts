/**
 * Nested contexts: CBARn.TYPE 3, "stage 1 followed by stage 2" (ARM IHI 0062, CBARn.TYPE and
 * sIDR0.NTS; ARM DDI 0406C B3.6 for the LPAE formats of both stages). The stage-1 context
 * bank's CBARn.CBNDX [15:8] names the stage-2 context bank (a CBAR.TYPE 0 bank) that
 * translates every intermediate physical address (IPA) of the stage-1 context: the address of
 * each stage-1 descriptor fetch and the stage-1 output.
 *
 * What is modelled, and the choices (docs/SMMU.md "Nested contexts"; the IHI 0062 text on
 * nested fault reporting was not readable here, so the fault rules are our reading of the
 * register fields it defines):
 * - permissions combine: an access needs the stage-1 permission (AP, XN/PXN, WXN...) and the
 *   stage-2 permission (HAP, XN); a descriptor fetch is a data read at stage 2 (HAP[1]);
 * - a stage-1 fault (translation, access flag, permission, an external abort reading a
 *   descriptor at its PA) is recorded in the stage-1 bank as for a TYPE 1 context;
 * - a stage-2 fault (translation, access flag, permission, external abort on the stage-2 walk),
 *   on a descriptor fetch of the stage-1 walk or on the stage-1 output, is recorded in the
 *   stage-2 bank (its FSR, its interrupt CBAR.IRPTNDX / SCTLR.CFIE, its fault model CFCFG /
 *   HUPCF / CFRE): FAR = the IPA that faulted (SMMUv1 has no CBn_IPAFAR), FSYNR0.PLVL = the
 *   stage-2 level, FSYNR0.S1CBNDX [23:16] = the stage-1 bank, FSYNR0.PTWF set when the fault
 *   was on a stage-1 table walk ("a stage 2 fault during a stage 1 translation table walk"),
 *   WNR/PNU/IND/NS from the transaction;
 * - a stage-1 permission fault is reported before the output is translated at stage 2 (the
 *   VMSA order: stage 1 completes, then its output address is translated);
 * - CBNDX naming no implemented bank: an unimplemented context bank fault (sGFSR.UCBF); a bank
 *   that is not a valid stage-2 context: an invalid context fault (sGFSR.ICF); both with
 *   sGFSYNR0.Nested set;
 * - stage-1 SCTLR.M = 0: the input address is the IPA (stage 1 off, stage 2 still applies);
 *   stage-2 SCTLR.M = 0: IPA = PA;
 * - TLB: a successful translation caches one combined entry (VA -> PA, the smaller of the two
 *   leaves) in the stage-1 bank, tagged like a stage-1 entry and remembering its stage-2 bank
 *   (tlb.ts: stage-1 maintenance of the bank and stage-2 maintenance of the stage-2 bank both
 *   remove it); the stage-2 lookups of the walk use and fill the stage-2 bank's own entries
 *   (tag -1), shared with the stage-2 context itself;
 * - costs: a combined-entry hit costs one lookup; a miss adds every stage-1 descriptor fetch
 *   and, per stage-2 lookup, one lookup plus its descriptor fetches. Statistics: the
 *   transaction counts one hit or miss; every walk (stage 1 and each stage-2 walk) counts in
 *   `walks` and every descriptor read in `descriptorFetches`.
 *
 * The accelerators (accel/) never commit a nested walk (the walk inserts more than one TLB
 * entry: `Resolved.nested`): quietLookup answers false for it and a copy run stops before it;
 * hits on combined entries are ordinary TLB hits for them.
 */
import { ATTR_INSTR, ATTR_PRIV, ATTR_WRITE, type Attrs } from '../../emulator/attrs.js';
import { BUS_TRANSLATION_FAULT } from '../../emulator/bus.js';
import * as R from './regs.js';
import { CBS } from './regs.js';
import type { Smmu } from './smmu.js';
import { K_BYPASS, K_CTX_FAULT, K_GLOBAL_FAULT, K_MISS, K_TRANSLATED, Resolved, TWO32 } from './types.js';
import { P_PR, permBitFor, s1Select, walkStage1, WalkResult, type DescriptorReader } from './walk.js';
import { s2PermBit, stage2Lookup } from './walk-s2.js';

/** every permission: the stage 2 of a nested context whose stage-2 bank has SCTLR.M = 0 */
const P_ALL = 0x3f;

/** The nested translation of one SMMU (its scratch state: no allocation per lookup). */
export class NestedUnit {
  /** result blocks of the stage-2 lookups (Smmu.res / wr hold the stage-1 walk meanwhile) */
  private readonly sr = new Resolved();
  private readonly swr = new WalkResult();
  private readonly sd = new Uint32Array(2);
  // ---- the translation in progress ----
  private s2cb = 0;
  private s2on = false;
  private useTlb = false;
  private fill = false;
  private base: DescriptorReader;
  /** cost and descriptor reads of its stage-2 lookups so far */
  private cost = 0;
  private fetches = 0;
  /** a stage-2 fault on a descriptor fetch of the stage-1 walk: FSR bit (0: none), level, IPA */
  private fFsr = 0;
  private fLevel = 0;
  private fIpa = 0;
  /** the stage-1 walker's reader: each descriptor address is an IPA, translated by stage 2 */
  private readonly reader: DescriptorReader;

  constructor(private readonly s: Smmu) {
    this.base = s.busReader;
    this.reader = { read64: (ipa, level, out) => this.fetch(ipa, level, out) };
  }

  private fetch(ipa: number, level: number, out: Uint32Array): number {
    if (!this.s2on) return this.base.read64(ipa, level, out);
    // a descriptor fetch is a data read at stage 2 (privilege does not matter there)
    const k = this.lookup2(ipa, P_PR);
    if (k !== K_TRANSLATED) {
      const sr = this.sr;
      this.fFsr = sr.fsr;
      this.fLevel = sr.level;
      this.fIpa = ipa;
      // the walker ends here (it reports an external abort, replaced by the stage-2 fault)
      return BUS_TRANSLATION_FAULT;
    }
    return this.base.read64(this.sr.pa, level, out);
  }

  /** one stage-2 lookup of an IPA in the stage-2 bank (result in sr; permBit 0: no check) */
  private lookup2(ipa: number, permBit: number): number {
    const s = this.s;
    const sr = this.sr;
    sr.cost = s.hitNs;
    sr.walked = false;
    sr.ptw = false;
    sr.level = 0;
    sr.fetches = 0;
    const k = stage2Lookup(s, this.s2cb, ipa, permBit, this.useTlb, this.fill, true, this.base, sr, this.swr, this.sd, false);
    this.cost += sr.cost;
    this.fetches += sr.fetches;
    return k;
  }

  /** record a stage-2 fault of the nested translation in s.res (recorded in the stage-2 bank) */
  private s2fault(s1cb: number, fsr: number, level: number, ipa: number, ptw: boolean): number {
    const r = this.s.res;
    r.cb = this.s2cb;
    r.s2nested = true;
    r.s1cb = s1cb;
    r.ipa = ipa;
    r.fsr = fsr;
    r.level = level;
    r.ptw = ptw;
    return K_CTX_FAULT;
  }

  /**
   * Translate `va` in nested context bank cb1 (CBAR.TYPE 3, valid: Smmu.contextType) into
   * s.res; the result protocol of Smmu.translateContext. `s1only`: the ATS1* operations (the
   * stage-1 output, an IPA; its descriptor fetches still go through stage 2).
   */
  translate(cb1: number, va: number, attrs: Attrs, useTlb: boolean, fill: boolean, walk: boolean, reader: DescriptorReader, s1only: boolean): number {
    const s = this.s;
    const r = s.res;
    const c = s.c;
    r.nested = true;
    const s2cb = (s.cbar[cb1]! >>> R.CBAR_CBNDX_SHIFT) & 0xff;
    if (s2cb >= s.numCb) {
      r.gfsr = R.GFSR_UCBF;
      r.gnested = true;
      return K_GLOBAL_FAULT;
    }
    if (s.contextType(s2cb) !== R.CBAR_TYPE_S2) {
      r.gfsr = R.GFSR_ICF;
      r.gnested = true;
      return K_GLOBAL_FAULT;
    }
    const o1 = cb1 * s.cbSlots;
    const sctlr1 = c[o1 + CBS.SCTLR]!;
    this.s2cb = s2cb;
    this.s2on = (c[s2cb * s.cbSlots + CBS.SCTLR]! & R.SCTLR_M) !== 0;
    this.useTlb = useTlb;
    this.fill = fill;
    this.base = reader;
    this.cost = 0;
    this.fetches = 0;
    this.fFsr = 0;
    if ((sctlr1 & R.SCTLR_M) === 0) {
      // stage 1 off: the input address is the IPA
      if (s1only || !this.s2on) {
        r.pa = va;
        r.extent = 2 ** 40 - va;
        return K_BYPASS;
      }
      // the stage-2 lookup is the transaction's (a TLB hit or miss in the statistics);
      // a fault is the stage-2 bank's, FAR = the IPA (= the input address)
      r.cb = s2cb;
      r.s2nested = true;
      r.s1cb = cb1;
      r.ipa = va;
      return stage2Lookup(s, s2cb, va, s2PermBit(attrs), useTlb, fill, walk, reader, r, s.wr, s.d64, true);
    }
    const ttbcr = c[o1 + CBS.TTBCR]!;
    if ((ttbcr & R.TTBCR_EAE) === 0) {
      r.gfsr = R.GFSR_ICF; // the short-descriptor format is not modelled
      return K_GLOBAL_FAULT;
    }
    const sel = va >= 0 && va < TWO32 ? s1Select(ttbcr, va) : -1;
    if (sel < 0) {
      r.level = 1;
      r.fsr = R.FSR_TF;
      return K_CTX_FAULT;
    }
    const asid = (((ttbcr & R.TTBCR_A1) !== 0 ? c[o1 + CBS.TTBR1_HI]! : c[o1 + CBS.TTBR0_HI]!) >>> 16) & 0xff;
    const permBit = permBitFor((attrs & ATTR_PRIV) !== 0, (attrs & ATTR_WRITE) !== 0, (attrs & ATTR_INSTR) !== 0);
    const tlb = s.tlb;
    if (useTlb && !s1only) {
      const w = tlb.lookup(cb1, asid, va);
      if (w >= 0) {
        if (fill) s.stats.hits++;
        if ((tlb.perms[w]! & permBit) === 0) {
          const dep = tlb.dep[w]!;
          if (dep < 0 || (tlb.perms1[w]! & permBit) === 0) {
            // stage 1 forbids it (an entry without stage-2 part: left from another CBAR type)
            r.level = tlb.level[w]!;
            r.fsr = R.FSR_PF;
            return K_CTX_FAULT;
          }
          this.s2cb = dep;
          return this.s2fault(cb1, R.FSR_PF, tlb.level2[w]!, tlb.ipa[w]! + (va - tlb.va[w]!), false);
        }
        const base = tlb.va[w]!;
        r.pa = tlb.pa[w]! + (va - base);
        r.extent = base + tlb.size[w]! - va;
        r.hitSlot = w;
        return K_TRANSLATED;
      }
      if (fill) s.stats.misses++;
      if (!walk) return K_MISS;
    }
    if ((ttbcr & (sel === 1 ? R.TTBCR_EPD1 : R.TTBCR_EPD0)) !== 0) {
      r.level = 1;
      r.fsr = R.FSR_TF;
      return K_CTX_FAULT;
    }
    // ---- the stage-1 walk, its descriptor addresses translated by stage 2 ----
    const wr = s.wr;
    r.walked = true;
    const st = walkStage1(this.reader, sel === 1 ? c[o1 + CBS.TTBR1_LO]! : c[o1 + CBS.TTBR0_LO]!, sel === 1 ? c[o1 + CBS.TTBR1_HI]! : c[o1 + CBS.TTBR0_HI]!,
      sel === 1 ? (ttbcr >>> R.TTBCR_T1SZ_SHIFT) & 7 : ttbcr & R.TTBCR_T0SZ_MASK, sctlr1, va, wr, s.d64, s.iaHi);
    // no host walk cache for these tables (their addresses are IPAs): accel/ never sees one
    wr.table3 = -1;
    if (fill) {
      s.stats.walks++;
      s.stats.descriptorFetches += wr.fetches;
    }
    r.level = wr.level;
    if (st !== 0) {
      this.account(wr.fetches);
      // a stage-2 fault on a descriptor fetch: the stage-2 bank's, PTWF (a stage-1 table walk)
      if (this.fFsr !== 0) return this.s2fault(cb1, this.fFsr, this.fLevel, this.fIpa, true);
      r.ptw = wr.ptw;
      r.fsr = st;
      return K_CTX_FAULT;
    }
    const p1 = wr.perms;
    if ((p1 & permBit) === 0) {
      // stage 1 forbids it: reported before the output is translated (nothing cached)
      this.account(wr.fetches);
      r.fsr = R.FSR_PF;
      return K_CTX_FAULT;
    }
    const ipa = wr.pa + (va - wr.va);
    if (s1only) {
      this.account(wr.fetches);
      r.pa = ipa;
      r.extent = wr.va + wr.size - va;
      return K_TRANSLATED;
    }
    // ---- the output IPA at stage 2 (permissions checked below, after caching) ----
    let size = wr.size;
    let pa2: number; // output of the IPA range's first byte
    let ipa2: number;
    let p2 = P_ALL;
    let level2 = 0;
    if (this.s2on) {
      const k2 = this.lookup2(ipa, 0);
      if (k2 !== K_TRANSLATED) {
        const sr = this.sr;
        this.account(wr.fetches);
        return this.s2fault(cb1, sr.fsr, sr.level, ipa, sr.ptw);
      }
      const sr = this.sr;
      let size2: number;
      if (sr.walked) {
        const swr = this.swr;
        ipa2 = swr.va;
        size2 = swr.size;
        pa2 = swr.pa;
        p2 = swr.perms;
        level2 = swr.level;
      } else {
        const w = sr.hitSlot;
        ipa2 = tlb.va[w]!;
        size2 = tlb.size[w]!;
        pa2 = tlb.pa[w]!;
        p2 = tlb.perms[w]!;
        level2 = tlb.level[w]!;
      }
      if (size2 < size) size = size2;
    } else {
      ipa2 = wr.pa;
      pa2 = wr.pa;
    }
    this.account(wr.fetches);
    // the combined entry: the smaller leaf; va and ipa agree modulo both leaf sizes
    const ipaBase = ipa - (ipa % size);
    const vaBase = va - (va % size);
    const paBase = pa2 + (ipaBase - ipa2);
    r.asid = wr.global ? -1 : asid;
    if (fill) tlb.insertNested(cb1, r.asid, va, vaBase, size, paBase, p1 & p2, wr.level, s2cb, p1, level2, ipaBase);
    if ((p2 & permBit) === 0) return this.s2fault(cb1, R.FSR_PF, level2, ipa, false);
    r.pa = paBase + (va - vaBase);
    r.extent = vaBase + size - va;
    return K_TRANSLATED;
  }

  /** add the stage-1 walk's and the stage-2 lookups' costs and reads to s.res */
  private account(s1fetches: number): void {
    const s = this.s;
    const r = s.res;
    r.cost += s1fetches * s.walkNs + this.cost;
    r.fetches = s1fetches + this.fetches;
  }
}
