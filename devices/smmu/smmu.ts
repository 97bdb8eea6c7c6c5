/**
 * ARM SMMU model, SMMUv1 architecture (ARM IHI 0062), MMU-400 class: the reference model.
 *
 * A transaction's stream id selects a stream-to-context register group (stream.ts), whose
 * S2CR bypasses, faults or names a context bank; the context bank translates through its
 * stage-1 LPAE tables (walk.ts) with a tagged TLB (tlb.ts); faults are recorded in the
 * bank's or the global fault registers and raise interrupts (fault.ts). The register file
 * is a set of declarative tables (regs.ts). This class wires them: MMIO dispatch, reset,
 * the resolver (resolve -> translateContext) and TranslationStage.translate.
 *
 * Everything that only makes the model faster lives in accel/ and is installed by the
 * constructor when `cfg.accel` is set (the bulk-DMA hooks of emulator/master.ts and a
 * translate() that replays a walk quietLookup just made). Without it this model is
 * complete and gives the same results (docs/SMMU.md, "Reference model and accelerators").
 *
 * Written from the architecture description and the behaviour the 2014 Linux driver
 * (drivers/iommu/arm-smmu.c) relies on; see docs/SMMU.md for the choices. The implemented
 * stages are a configuration (cfg.stages, sIDR0.S1TS/S2TS/NTS): stage-1 contexts (CBAR.TYPE 1,
 * walk.ts), stage-2 contexts (CBAR.TYPE 0, walk-s2.ts), "stage 1 with stage 2 fault"
 * contexts (TYPE 2, here) and nested contexts (TYPE 3, walk-nested.ts).
 */
import { ATTR_INSTR, ATTR_NS, ATTR_PRIV, ATTR_WRITE, makeAttrs, type Attrs } from '../../emulator/attrs.js';
import { BUS_OK, BUS_TRANSLATION_FAULT, SIZE_4, SIZE_8, type MmioDevice, type PhysicalBus } from '../../emulator/bus.js';
import { BUS_RAZWI, BUS_STALLED, type CopyRun, type StallListener, type TranslationResult, type TranslationStage } from '../../emulator/master.js';
import { RegisterMap, type GuestErrorKind } from '../../emulator/regmap.js';
import { WIDE_FIELD_INIT } from '../../emulator/time.js';
import type { Tracer } from '../../emulator/trace.js';
import { installAccel } from './accel/index.js';
import { contextFaultType, FaultUnit } from './fault.js';
import * as R from './regs.js';
import { CB_SPECS, CBS, GS, gr0Specs, gr1Specs } from './regs.js';
import { MATCH_CONFLICT, s2crAttrs, StreamTable } from './stream.js';
import { Tlb } from './tlb.js';
import {
  K_BYPASS, K_CTX_FAULT, K_GLOBAL_FAULT, K_HELD, K_MISS, K_TRANSLATED, Resolved, TWO32,
  type SmmuConfig, type SmmuFaultRecord, type SmmuFaultType, type SmmuLookup, type SmmuStats, type SmmuTlbEntry,
} from './types.js';
import { oaHiMask, permBitFor, s1Select, walkStage1, WalkResult, type DescriptorReader } from './walk.js';
import { NestedUnit } from './walk-nested.js';
import { settleWalk, translateStage2 } from './walk-s2.js';

export type { SmmuConfig, SmmuFaultRecord, SmmuFaultType, SmmuLookup, SmmuStats, SmmuTlbEntry } from './types.js';

const PAGE = 0x1000;

/** sIDR2 IAS/OAS encoding: 0 = 32, 1 = 36, 2 = 40 bits, ... */
const sizeEnc = (bits: number): number => {
  if (bits <= 32) return 0;
  if (bits <= 36) return 1;
  if (bits <= 40) return 2;
  if (bits <= 42) return 3;
  if (bits <= 44) return 4;
  return 5;
};

/** The MMU-400-class SMMU. */
export class Smmu implements TranslationStage, MmioDevice {
  readonly name: string;
  readonly accessSizes = SIZE_4 | SIZE_8;
  readonly numCb: number;
  readonly numSmrs: number;
  readonly globalPages: number;
  /** sIDR0.S1TS / S2TS / NTS */
  readonly s1: boolean;
  readonly s2: boolean;
  readonly nested: boolean;
  /** sIDR1.NUMS2CB: banks 0..numS2Cb-1 support stage-2 contexts only */
  readonly numS2Cb: number;
  /** descriptor bits [39:32] above sIDR2.OAS (walk.ts oaHiMask; 0 with a 40-bit OAS) */
  readonly oaHi: number;
  /** the same for sIDR2.IAS: the stage-1 output (an IPA) of a nested context */
  readonly iaHi: number;
  /** accelerators installed (cfg.accel, and a 40-bit OAS) */
  readonly accel: boolean;
  readonly stats: SmmuStats = {
    translations: 0,
    hits: 0,
    misses: 0,
    walks: 0,
    descriptorFetches: 0,
    bypasses: 0,
    contextFaults: 0,
    heldUnderFault: 0,
    globalFaults: 0,
  };

  // ---- the parts (public for the modules that share the state: regs, fault, accel/) ----
  readonly bus: PhysicalBus;
  readonly cfg: SmmuConfig;
  readonly now: () => number;
  readonly tracer: Tracer | null;
  readonly hitNs: number;
  readonly walkNs: number;
  readonly syncNs: number;
  /** the register file: global space 0, global space 1, context banks (one bank each) */
  readonly gr0Map: RegisterMap<Smmu>;
  readonly gr1Map: RegisterMap<Smmu>;
  readonly cbMap: RegisterMap<Smmu>;
  /** GR0 register store (slots: regs.GS, SMRn at smrBase + n) */
  readonly g: Uint32Array;
  readonly smrBase: number;
  /** CBARn (the GR1 store) */
  readonly cbar: Uint32Array;
  /** slot of CBFRSYNRA0 in the GR1 store (`cbar`) */
  readonly cbfrsynraBase: number;
  /** context bank register store: bank b's register x at b * cbSlots + regs.CBS.x */
  readonly c: Uint32Array;
  readonly cbSlots: number;
  readonly stream: StreamTable;
  readonly tlb: Tlb;
  readonly fault: FaultUnit;
  /** result of the last resolve / walk (no allocation per lookup) */
  readonly res = new Resolved();
  readonly wr = new WalkResult();
  /** the walker's descriptor reader: the physical bus, privileged non-secure reads */
  readonly busReader: DescriptorReader;
  /**
   * Bumped by every register write and reset (and so by every TLB maintenance and sync):
   * anything derived from the registers or the TLB's contents is stale once it changes.
   */
  epoch = 0;
  /** virtual time until which sTLBGSTATUS.GSACTIVE / CBn_TLBSTATUS.SACTIVE read 1 (a double from the start: emulator/time.ts WIDE_FIELD_INIT) */
  gsyncDoneAt = WIDE_FIELD_INIT;
  readonly syncDoneAt: Float64Array;
  /** the walkers' descriptor buffer */
  readonly d64 = new Uint32Array(2);
  /** nested contexts (CBAR.TYPE 3) */
  readonly nestedUnit: NestedUnit;
  /** set by ats() while it translates: the ATS1* operations want the stage-1 result */
  private s1only = false;

  // bulk-DMA hooks of TranslationStage: present only when the accelerators are installed
  declare quietLookup?: (va: number, attrs: Attrs, out?: TranslationResult, avoidLo?: number, avoidHi?: number) => boolean;
  declare translateHits?: (va: number, attrs: Attrs, count: number, out: TranslationResult) => boolean;
  declare translateCopyRun?: (run: CopyRun) => void;

  constructor(bus: PhysicalBus, cfg: SmmuConfig) {
    this.gsyncDoneAt = 0;
    if (!(cfg.regSize >= 4 * PAGE) || (cfg.regSize & (cfg.regSize - 1)) !== 0) {
      throw new RangeError(`smmu: reg size 0x${cfg.regSize.toString(16)} must be a power of two >= 16 KiB`);
    }
    this.globalPages = cfg.regSize / 2 / PAGE;
    if (!(cfg.numContextBanks >= 1 && cfg.numContextBanks <= Math.min(128, this.globalPages))) {
      throw new RangeError(`smmu: ${cfg.numContextBanks} context banks do not fit (1..${Math.min(128, this.globalPages)})`);
    }
    if (!(cfg.numSmrs >= 1 && cfg.numSmrs <= 128)) throw new RangeError(`smmu: ${cfg.numSmrs} SMRs (1..128)`);
    this.bus = bus;
    this.cfg = cfg;
    this.name = cfg.name ?? 'smmu';
    this.numCb = cfg.numContextBanks;
    this.numSmrs = cfg.numSmrs;
    this.now = cfg.now ?? (() => 0);
    this.tracer = cfg.tracer ?? null;
    this.hitNs = cfg.hitNs ?? 2;
    this.walkNs = cfg.walkNsPerLevel ?? 60;
    this.syncNs = cfg.syncNs ?? 0;
    const n = this.numCb;
    const stages = cfg.stages ?? 's1';
    this.s1 = stages !== 's2';
    this.s2 = stages !== 's1';
    this.nested = stages === 's1+s2+nested';
    this.numS2Cb = stages === 's1' ? 0 : stages === 's2' ? n : (cfg.numS2ContextBanks ?? 0);
    if (!(this.numS2Cb >= 0 && this.numS2Cb <= n)) throw new RangeError(`smmu: ${this.numS2Cb} stage-2 context banks of ${n}`);
    // ID registers (IHI 0062 sIDR0-2; what arm_smmu_device_cfg_probe reads)
    const idr0 =
      (this.s1 ? R.SIDR0_S1TS : 0) |
      (this.s2 ? R.SIDR0_S2TS : 0) |
      (this.nested ? R.SIDR0_NTS : 0) |
      R.SIDR0_SMS |
      R.SIDR0_PTFS_NO_AARCH32S |
      ((cfg.contextIrqs.length & 0xff) << R.SIDR0_NUMIRPT_SHIFT) |
      // CTTW: the model has no caches, table walks always see what the CPU wrote
      R.SIDR0_CTTW |
      (15 << R.SIDR0_NUMSIDB_SHIFT) |
      (this.numSmrs & 0xff);
    // PAGESIZE = 0 (4 KiB); NUMPAGENDXB: the global space has 2^(NUMPAGENDXB+1) pages; NUMS2CB
    const ndxb = Math.max(0, Math.log2(this.globalPages) - 1);
    const idr1 = ((ndxb & 7) << R.SIDR1_NUMPAGENDXB_SHIFT) | ((this.numS2Cb & 0xff) << R.SIDR1_NUMS2CB_SHIFT) | (n & 0xff);
    const idr2 = sizeEnc(cfg.ias) | (sizeEnc(cfg.oas) << R.SIDR2_OAS_SHIFT);
    const sink = this.tracer;
    const cbBase = this.globalPages * PAGE;
    // sub-word or unaligned accesses never reach the maps (the region accepts 4 and 8 bytes);
    // an unaligned word access is RAZ/WI and reported
    this.gr0Map = new RegisterMap<Smmu>(this.name, gr0Specs(this.numSmrs, [idr0, idr1, idr2]), sink, { size: PAGE, badSize: 'raz-wi' });
    this.gr1Map = new RegisterMap<Smmu>(this.name, gr1Specs(n), sink, { size: PAGE, badSize: 'raz-wi', reportBase: () => PAGE });
    this.cbMap = new RegisterMap<Smmu>(this.name, CB_SPECS, sink, {
      size: PAGE, banks: n, badSize: 'raz-wi', bankPrefix: (b) => `CB${b}.`, reportBase: (b) => cbBase + b * PAGE,
    });
    this.g = this.gr0Map.store;
    this.smrBase = this.gr0Map.slot('SMR');
    this.cbar = this.gr1Map.store;
    this.cbfrsynraBase = this.gr1Map.slot('CBFRSYNRA');
    this.c = this.cbMap.store;
    this.cbSlots = this.cbMap.slots;
    this.stream = new StreamTable(this.g, this.smrBase, this.gr0Map.slot('S2CR'), this.numSmrs);
    this.tlb = new Tlb(cfg.tlbEntries ?? 128, (cb) => this.cbar[cb]! & 0xff);
    this.fault = new FaultUnit(this);
    const walkAttrs = makeAttrs({ priv: true, ns: true });
    this.busReader = { read64: (pa, _level, out) => bus.read64(pa, walkAttrs, out) };
    this.syncDoneAt = new Float64Array(n);
    this.reset();
    this.oaHi = oaHiMask(cfg.oas);
    this.iaHi = oaHiMask(cfg.ias);
    this.nestedUnit = new NestedUnit(this);
    // the accelerators decode descriptors without the address size check (walk.ts oaHiMask):
    // an SMMU with a smaller OAS than 40 bits runs the reference model only
    this.accel = cfg.accel && this.oaHi === 0;
    if (this.accel) installAccel(this);
  }

  /**
   * Power-on state: every register at its table's reset value (sCR0.CLIENTPD = 1: the SMMU
   * passes everything through until software enables it; SMRs invalid; S2CRs of type
   * fault; context banks disabled), TLB empty, no fault records.
   */
  reset(): void {
    this.gr0Map.reset();
    this.gr1Map.reset();
    this.cbMap.reset();
    this.gsyncDoneAt = 0;
    this.syncDoneAt.fill(0);
    this.stream.invalidate();
    this.tlb.reset();
    this.epoch++;
    this.fault.reset();
    this.fault.update();
  }

  // =====================================================================================
  // Translation
  // =====================================================================================

  translate(va: number, attrs: Attrs, out: TranslationResult): void {
    const st = this.stats;
    st.translations++;
    const walks0 = st.walks;
    const k = this.resolve(va, attrs, true, true, true, this.busReader);
    const r = this.res;
    out.costNs = r.cost;
    const tr = this.tracer;
    if (tr !== null && tr.enabled && st.walks !== walks0) {
      tr.emit(this.name, 'smmu-walk', { sid: (attrs >>> 16) & 0x7fff, va, cb: r.cb, level: r.level, ok: k === K_TRANSLATED ? 1 : 0, pa: k === K_TRANSLATED ? r.pa : -1 }, r.cost);
    }
    if (k === K_TRANSLATED || k === K_BYPASS) {
      if (k === K_BYPASS) st.bypasses++;
      out.status = BUS_OK;
      out.pa = r.pa;
      out.extent = r.extent;
      return;
    }
    out.status = BUS_TRANSLATION_FAULT;
    out.pa = 0;
    out.extent = 0;
    let report: boolean;
    if (k === K_CTX_FAULT || k === K_HELD) {
      // stall model (SCTLR.CFCFG = 1, sCR0.STALLD = 0): the transaction is held until
      // CBn_RESUME (fault.ts)
      if (k === K_CTX_FAULT ? this.fault.recordContext(va, attrs) : this.fault.holdUnderFault(va, attrs)) {
        out.status = BUS_STALLED;
        return;
      }
      // IHI 0062 CBn_SCTLR.CFRE (Context Fault Report Enable): 0 = a terminated transaction
      // of this context gets no abort: RAZ/WI (a held transaction, HUPCF = 0, is terminated
      // the same way: choice, fault.ts)
      report = (this.c[r.cb * this.cbSlots + CBS.SCTLR]! & R.SCTLR_CFRE) !== 0;
    } else {
      this.fault.recordGlobal(va, attrs);
      // IHI 0062 sCR0.GFRE / GCFGFRE (Global (Configuration) Fault Report Enable): 0 = the
      // faulting transaction gets no abort: RAZ/WI; GCFGFRE for the configuration faults
      const scr0 = this.g[GS.sCR0]!;
      report = (scr0 & ((r.gfsr & R.GFSR_CONFIG) !== 0 ? R.SCR0_GCFGFRE : R.SCR0_GFRE)) !== 0;
    }
    if (!report) {
      // RAZ/WI: the answer holds to the end of the 4 KiB page (every address of the page
      // resolves the same way)
      out.status = BUS_RAZWI;
      out.extent = 4096 - (va % 4096);
    }
  }

  /** TranslationStage.onStallResolved: the master of the transaction just stalled waits (fault.ts) */
  onStallResolved(listener: StallListener): void {
    this.fault.attach(listener);
  }

  /**
   * Resolve `va` for `attrs` into `res` (and `wr` when it walked). Returns the result kind
   * (types.ts K_*). useTlb: consult the TLB; fill: insert walk results into the TLB and count
   * statistics; walk: on a TLB miss walk the tables (false: return K_MISS); reader: where
   * the walk reads descriptors.
   */
  resolve(va: number, attrs: Attrs, useTlb: boolean, fill: boolean, walk: boolean, reader: DescriptorReader): number {
    const r = this.res;
    r.cost = this.hitNs;
    r.cb = -1;
    r.level = 0;
    r.ptw = false;
    r.walked = false;
    r.attrs = attrs;
    r.nested = false;
    r.s2nested = false;
    r.gnested = false;
    const scr0 = this.g[GS.sCR0]!;
    if ((scr0 & R.SCR0_CLIENTPD) !== 0) return this.bypass(va);
    const m = this.stream.match((attrs >>> 16) & 0x7fff);
    if (m < 0) {
      if (m === MATCH_CONFLICT) {
        r.gfsr = R.GFSR_SMCF;
        return K_GLOBAL_FAULT;
      }
      // no match: sCR0.USFCFG says fault or bypass
      if ((scr0 & R.SCR0_USFCFG) !== 0) {
        r.gfsr = R.GFSR_USF;
        return K_GLOBAL_FAULT;
      }
      return this.bypass(va);
    }
    const s2cr = this.stream.s2cr(m);
    attrs = s2crAttrs(s2cr, attrs);
    r.attrs = attrs;
    const type = (s2cr >>> R.S2CR_TYPE_SHIFT) & 3;
    if (type === R.S2CR_TYPE_BYPASS) return this.bypass(va);
    if (type !== R.S2CR_TYPE_TRANS) {
      // Choice: SMMUv1's sGFSR has no dedicated bit for "S2CR says fault"; we report it as
      // an unidentified-stream fault (the stream is not mapped to any translation).
      r.gfsr = R.GFSR_USF;
      return K_GLOBAL_FAULT;
    }
    const cb = s2cr & 0xff;
    if (cb >= this.numCb) {
      r.gfsr = R.GFSR_UCBF;
      return K_GLOBAL_FAULT;
    }
    r.cb = cb;
    r.ctx = cb;
    // SCTLR.HUPCF = 0: while the context has a fault outstanding, a client transaction is not
    // translated but follows the fault model (fault.ts holdUnderFault); the ATS1* operations
    // (software's own translations) call translateContext directly and are not held
    const sctlr = this.c[cb * this.cbSlots + CBS.SCTLR]!;
    if ((sctlr & (R.SCTLR_M | R.SCTLR_HUPCF)) === R.SCTLR_M && this.contextType(cb) >= 0 && this.fault.outstanding(cb)) return K_HELD;
    // a nested context is also held by its stage-2 bank's outstanding fault (that bank's HUPCF
    // and fault model: its faults are recorded there; held with the bank's RESUME)
    if (((this.cbar[cb]! >>> R.CBAR_TYPE_SHIFT) & 3) === R.CBAR_TYPE_NESTED && this.nestedHeld(cb)) return K_HELD;
    return this.translateContext(cb, va, attrs, useTlb, fill, walk, reader);
  }

  /** HUPCF = 0 in the stage-2 bank of nested context cb, which has a fault outstanding (res.cb = that bank) */
  private nestedHeld(cb: number): boolean {
    if (this.contextType(cb) !== R.CBAR_TYPE_NESTED) return false;
    const s2cb = (this.cbar[cb]! >>> R.CBAR_CBNDX_SHIFT) & 0xff;
    if (s2cb >= this.numCb || this.contextType(s2cb) !== R.CBAR_TYPE_S2) return false;
    const sctlr2 = this.c[s2cb * this.cbSlots + CBS.SCTLR]!;
    if ((sctlr2 & (R.SCTLR_M | R.SCTLR_HUPCF)) !== R.SCTLR_M || !this.fault.outstanding(s2cb)) return false;
    this.res.cb = s2cb;
    return true;
  }

  private bypass(va: number): number {
    const r = this.res;
    r.pa = va;
    // identity mapping: the same translation holds up to the end of the output space
    r.extent = 2 ** 40 - va;
    return K_BYPASS;
  }

  /**
   * The CBAR.TYPE of bank cb when this SMMU translates such a context there: TYPE 1 (stage 1,
   * stage 2 bypass) needs S1TS and a bank at or above NUMS2CB; TYPE 0 (stage 2) needs S2TS (IHI
   * 0062 sIDR0, sIDR1.NUMS2CB: "context banks 0..NUMS2CB-1 support stage 2 only"); TYPE 2 (stage
   * 1, stage 2 fault) a stage-1 bank of an SMMU with both stages (choice: a stage 2 that can
   * fault exists only with S2TS); TYPE 3 (nested, "stage 1 followed by stage 2") a stage-1 bank
   * of an SMMU with sIDR0.NTS. -1: an invalid context (ICF).
   */
  contextType(cb: number): number {
    const type = (this.cbar[cb]! >>> R.CBAR_TYPE_SHIFT) & 3;
    if (type === R.CBAR_TYPE_S1_S2BYPASS) return this.s1 && cb >= this.numS2Cb ? type : -1;
    if (type === R.CBAR_TYPE_S2) return this.s2 ? type : -1;
    if (type === R.CBAR_TYPE_S1_S2FAULT) return this.s1 && this.s2 && cb >= this.numS2Cb ? type : -1;
    return this.nested && cb >= this.numS2Cb ? type : -1;
  }

  /**
   * TYPE 2, "stage 1 context with stage 2 fault" (IHI 0062 CBARn.TYPE): the stage-1 translation
   * is made (its faults and TLB entries are the stage-1 context's), and a transaction that
   * stage 1 lets through then faults at stage 2, which is configured to fault. Choices (the
   * IHI 0062 text on what such a transaction records was not readable here): a translation
   * fault recorded in this same bank (there is no stage-2 bank), PLVL 1 (no stage-2 walk),
   * FAR = the input address; it applies with SCTLR.M = 0 too (M controls stage 1 only, so
   * the input address goes to the faulting stage 2); the ATS1* operations answer the
   * stage-1 result.
   */
  private stage2Fault(): number {
    const r = this.res;
    r.level = 1;
    r.fsr = R.FSR_TF;
    return K_CTX_FAULT;
  }

  /** Translation in context bank cb: stage 1 here, stage 2 in walk-s2.ts. */
  private translateContext(cb: number, va: number, attrs: Attrs, useTlb: boolean, fill: boolean, walk: boolean, reader: DescriptorReader): number {
    const r = this.res;
    const c = this.c;
    const o = cb * this.cbSlots;
    const type = this.contextType(cb);
    if (type < 0) {
      r.gfsr = R.GFSR_ICF;
      return K_GLOBAL_FAULT;
    }
    if (type === R.CBAR_TYPE_NESTED) return this.nestedUnit.translate(cb, va, attrs, useTlb, fill, walk, reader, this.s1only);
    const sctlr = c[o + CBS.SCTLR]!;
    if ((sctlr & R.SCTLR_M) === 0) return type !== R.CBAR_TYPE_S1_S2FAULT || this.s1only ? this.bypass(va) : this.stage2Fault();
    if (type === R.CBAR_TYPE_S2) return translateStage2(this, cb, va, attrs, useTlb, fill, walk, reader);
    const ttbcr = c[o + CBS.TTBCR]!;
    if ((ttbcr & R.TTBCR_EAE) === 0) {
      // the VMSAv7 short-descriptor format is not modelled
      r.gfsr = R.GFSR_ICF;
      return K_GLOBAL_FAULT;
    }
    if (!(va >= 0 && va < TWO32)) {
      // 32-bit input address space (AArch32 LPAE context)
      r.level = 1;
      r.fsr = R.FSR_TF;
      return K_CTX_FAULT;
    }
    // TTBR selection (VMSAv7 LPAE rules for T0SZ/T1SZ, DDI 0406C B3.6.4): walk.ts s1Select
    const sel = s1Select(ttbcr, va);
    if (sel < 0) {
      r.level = 1;
      r.fsr = R.FSR_TF;
      return K_CTX_FAULT;
    }
    const useT1 = sel === 1;
    // ASID of the context: TTBCR.A1 selects the TTBR whose [55:48] holds it
    const asid = (((ttbcr & R.TTBCR_A1) !== 0 ? c[o + CBS.TTBR1_HI]! : c[o + CBS.TTBR0_HI]!) >>> 16) & 0xff;
    const permBit = permBitFor((attrs & ATTR_PRIV) !== 0, (attrs & ATTR_WRITE) !== 0, (attrs & ATTR_INSTR) !== 0);
    const tlb = this.tlb;
    if (useTlb) {
      const w = tlb.lookup(cb, asid, va);
      if (w >= 0) {
        if (fill) this.stats.hits++;
        if ((tlb.perms[w]! & permBit) === 0) {
          r.level = tlb.level[w]!;
          r.fsr = R.FSR_PF;
          return K_CTX_FAULT;
        }
        const base = tlb.va[w]!;
        r.pa = tlb.pa[w]! + (va - base);
        r.extent = base + tlb.size[w]! - va;
        r.hitSlot = w;
        return type === R.CBAR_TYPE_S1_S2BYPASS || this.s1only ? K_TRANSLATED : this.stage2Fault();
      }
      if (fill) this.stats.misses++;
      if (!walk) return K_MISS;
    }
    // ---- table walk ----
    const epd = useT1 ? (ttbcr & R.TTBCR_EPD1) !== 0 : (ttbcr & R.TTBCR_EPD0) !== 0;
    if (epd) {
      r.level = 1;
      r.fsr = R.FSR_TF;
      return K_CTX_FAULT;
    }
    const wr = this.wr;
    r.walked = true;
    const st = walkStage1(reader, useT1 ? c[o + CBS.TTBR1_LO]! : c[o + CBS.TTBR0_LO]!, useT1 ? c[o + CBS.TTBR1_HI]! : c[o + CBS.TTBR0_HI]!,
      useT1 ? (ttbcr >>> R.TTBCR_T1SZ_SHIFT) & 7 : ttbcr & R.TTBCR_T0SZ_MASK, sctlr, va, wr, this.d64, this.oaHi);
    const k = settleWalk(this, r, wr, st, fill, cb, wr.global ? -1 : asid, va, permBit);
    if (k !== K_TRANSLATED) return k;
    return type === R.CBAR_TYPE_S1_S2BYPASS || this.s1only ? K_TRANSLATED : this.stage2Fault();
  }

  // =====================================================================================
  // MMIO: page 0 = GR0, page 1 = GR1, context bank n at the second half + n pages
  // =====================================================================================

  read(offset: number, size: number, attrs: Attrs): number {
    const page = offset >>> 12;
    const off = offset & 0xfff;
    if (page === 0) return this.gr0Map.read(this, off, size, attrs);
    if (page === 1) return this.gr1Map.read(this, off, size, attrs);
    const cb = page - this.globalPages;
    if (cb >= 0 && cb < this.numCb) return this.cbMap.read(this, off, size, attrs, cb);
    // global pages 2.. and the pages of unimplemented context banks: RAZ/WI (IHI 0062)
    this.unimplemented('unmapped-read', offset, null);
    return 0;
  }

  write(offset: number, size: number, value: number, attrs: Attrs): number {
    const page = offset >>> 12;
    const off = offset & 0xfff;
    this.epoch++;
    if (page === 0) return this.gr0Map.write(this, off, size, value, attrs);
    if (page === 1) return this.gr1Map.write(this, off, size, value, attrs);
    const cb = page - this.globalPages;
    if (cb >= 0 && cb < this.numCb) return this.cbMap.write(this, off, size, value, attrs, cb);
    this.unimplemented('unmapped-write', offset, value >>> 0);
    return BUS_OK;
  }

  /** register name for MMIO traces (emulator/bus.ts MmioDevice.regName): "sCR0", "CB1.FSR" */
  regName(offset: number): string | null {
    return this.nameAt(offset);
  }

  private unimplemented(what: GuestErrorKind, offset: number, value: number | null): void {
    if (this.tracer !== null) this.tracer.guestError(this.name, what, offset, null, value);
  }

  /** Register name at `offset` of the SMMU's region ("sCR0", "SMR[3]", "CB1.FSR"), or null. */
  nameAt(offset: number): string | null {
    const page = offset >>> 12;
    const off = offset & 0xfff;
    if (page === 0) return this.gr0Map.nameAt(off);
    if (page === 1) return this.gr1Map.nameAt(off);
    const cb = page - this.globalPages;
    return cb >= 0 && cb < this.numCb ? this.cbMap.nameAt(off, cb) : null;
  }

  /**
   * sTLBGSYNC. Choice: the global sync completes every outstanding invalidation, including
   * those issued through a context bank (the 2014 driver follows TLBIASID by sTLBGSYNC).
   */
  gsync(): void {
    this.tlb.sync(-1);
    this.gsyncDoneAt = this.now() + this.syncNs;
  }

  /** CBn_TLBSYNC: completes the invalidations issued through that bank. */
  cbSync(cb: number): void {
    this.tlb.sync(cb);
    this.syncDoneAt[cb] = this.now() + this.syncNs;
  }

  /**
   * Address translation operation (IHI 0062 CBn_ATS1PR/PW/UR/UW): stage-1 walk of `va` in
   * context bank cb (TLB neither consulted nor filled; no fault recorded in FSR). PAR
   * (64-bit, LPAE format): success F=0, SH [8:7], NS [9], PA[39:12], ATTR (MAIR byte)
   * [63:56]; fault F=1 with the FSR-style fault bit in [6:1] and PLVL in PAR[33:32]
   * (choice; SMMUv1 reports the fault in PAR only).
   */
  ats(cb: number, off: number, va: number): void {
    let attrs = ATTR_NS;
    if (off === R.CB_ATS1PR || off === R.CB_ATS1PW) attrs |= ATTR_PRIV;
    if (off === R.CB_ATS1PW || off === R.CB_ATS1UW) attrs |= ATTR_WRITE;
    const r = this.res;
    r.cost = 0;
    r.level = 0;
    r.ptw = false;
    r.cb = cb;
    const wr = this.wr;
    wr.attrIndx = 0;
    wr.sh = 0;
    wr.ns = 0;
    r.nested = false;
    r.s2nested = false;
    r.gnested = false;
    // ATS1*: the stage-1 result (a TYPE 2 context's stage-1 output, a nested context's IPA)
    this.s1only = true;
    const k = this.translateContext(cb, va, attrs, false, false, true, this.busReader);
    this.s1only = false;
    const c = this.c;
    const o = cb * this.cbSlots;
    if (k === K_TRANSLATED || k === K_BYPASS) {
      const pa = r.pa - (r.pa % 4096);
      const idx = wr.attrIndx;
      const mair = idx < 4 ? c[o + CBS.MAIR0]! : c[o + CBS.MAIR1]!;
      const attr = (mair >>> ((idx & 3) * 8)) & 0xff;
      c[o + CBS.PAR_LO] = ((pa % TWO32) | (wr.sh << 7) | (wr.ns << 9)) >>> 0;
      c[o + CBS.PAR_HI] = ((Math.floor(pa / TWO32) & 0xff) | (attr << 24)) >>> 0;
    } else if (k === K_CTX_FAULT) {
      c[o + CBS.PAR_LO] = 1 | r.fsr;
      c[o + CBS.PAR_HI] = r.level & 3;
    } else {
      c[o + CBS.PAR_LO] = 1;
      c[o + CBS.PAR_HI] = 0;
    }
  }

  // =====================================================================================
  // Inspection hooks (tests, tools)
  // =====================================================================================

  /**
   * Translate for a stream without side effects: no TLB fill, no fault recording, no
   * stats. By default walks the tables in memory (ignores the TLB); with useTlb the answer
   * is what a real access would get now (including stale TLB entries).
   */
  translateNoSideEffects(streamId: number, va: number, attrs: Attrs, opts: { useTlb?: boolean } = {}): SmmuLookup {
    const a = (attrs & 0xffff) | ((streamId & 0x7fff) << 16);
    let k = this.resolve(va, a, opts.useTlb ?? false, false, true, this.busReader);
    const r = this.res;
    // the tables' answer, also while a fault outstanding would hold a real access (HUPCF)
    if (k === K_HELD) k = this.translateContext(r.ctx, va, r.attrs, opts.useTlb ?? false, false, true, this.busReader);
    if (k === K_TRANSLATED || k === K_BYPASS) {
      return { ok: true, pa: r.pa, extent: r.extent, bypass: k === K_BYPASS, cb: r.cb, level: r.level };
    }
    if (k === K_CTX_FAULT) return { ok: false, fault: contextFaultType(r.fsr), cb: r.cb, level: r.level };
    return { ok: false, fault: this.fault.globalFaultType(r.gfsr, -1, a), cb: r.cb, level: 0 };
  }

  dumpTlb(): SmmuTlbEntry[] {
    return this.tlb.dump();
  }

  faults(): readonly SmmuFaultRecord[] {
    return this.fault.log;
  }

  /** fault records dropped because the log was full */
  get faultsDropped(): number {
    return this.fault.dropped;
  }

  clearFaultLog(): void {
    this.fault.reset();
  }

  /** number of TLB maintenance operations waiting for a sync */
  get pendingInvalidations(): number {
    return this.tlb.pendingCount;
  }
}

