/**
 * ARM SMMU model, SMMUv1 architecture, MMU-400 class: stream matching, context banks with
 * stage-1 LPAE (long-descriptor, 4 KiB granule) walks read from guest memory through the
 * physical bus, permission checks including XN/PXN, a tagged TLB with architected
 * (stale-until-invalidated) semantics, context and global faults with interrupts.
 *
 * Written from the architecture description and the behaviour the 2014 Linux driver relies
 * on; see docs/SMMU.md for the choices. Stage 2 and nested translation are not modelled:
 * sIDR0 advertises stage 1 only and a context bank of another CBAR type is an invalid
 * context (ICF). The seam for a later stage 2 is `translateContext` (the stage-1 output
 * address would be fed into a stage-2 walk there).
 */
import { ATTR_INSTR, ATTR_NS, ATTR_PRIV, ATTR_WRITE, makeAttrs, type Attrs } from '../../emulator/attrs.js';
import { BUS_OK, BUS_TRANSLATION_FAULT, SIZE_4, SIZE_8, type MmioDevice, type PhysicalBus, type RamRegion } from '../../emulator/bus.js';
import type { IrqLine } from '../../emulator/irq.js';
import type { CopyRun, TranslationResult, TranslationStage } from '../../emulator/master.js';
import type { Tracer } from '../../emulator/trace.js';
import * as R from './regs.js';

export interface SmmuConfig {
  /** size of the register region (global space = first half, context banks in the second half) */
  regSize: number;
  numContextBanks: number;
  numSmrs: number;
  /** input address size in bits (sIDR2.IAS) */
  ias: number;
  /** output address size in bits (sIDR2.OAS) */
  oas: number;
  /** global fault lines (the first #global-interrupts of the node's interrupts) */
  globalIrqs: IrqLine[];
  /** context interrupt lines, indexed by CBAR.IRPTNDX */
  contextIrqs: IrqLine[];
  /** TLB size in entries (4-way set associative; default 128) */
  tlbEntries?: number;
  /** cost of a TLB hit / stream-table lookup in ns (default 2: one cycle at 500 MHz) */
  hitNs?: number;
  /** cost of one descriptor fetch in ns (default 60: one DRAM access) */
  walkNsPerLevel?: number;
  /** time the sync status (SACTIVE/GSACTIVE) stays set after a sync, in ns (default 0) */
  syncNs?: number;
  /** current virtual time (for fault records and sync delay); default: always 0 */
  now?: () => number;
  tracer?: Tracer | null;
  name?: string;
}

export type SmmuFaultType =
  | 'translation'
  | 'access-flag'
  | 'permission'
  | 'external'
  | 'unidentified-stream'
  | 'stream-match-conflict'
  | 's2cr-fault'
  | 'unimplemented-context-bank'
  | 'invalid-context';

export interface SmmuFaultRecord {
  time: number;
  streamId: number;
  va: number;
  attrs: Attrs;
  type: SmmuFaultType;
  /** 'context' (recorded in a context bank's FSR) or 'global' (sGFSR) */
  scope: 'context' | 'global';
  /** context bank, or -1 for global faults */
  cb: number;
  /** walk level for context faults (1-3), 0 otherwise */
  level: number;
  /** true when the fault found FSR/sGFSR already holding a fault (MULTI set, syndrome lost) */
  multi: boolean;
}

export type SmmuLookup =
  | { ok: true; pa: number; extent: number; bypass: boolean; cb: number; level: number }
  | { ok: false; fault: SmmuFaultType; cb: number; level: number };

export interface SmmuTlbEntry {
  cb: number;
  /** -1 for a global (nG=0) entry */
  asid: number;
  va: number;
  size: number;
  pa: number;
  level: number;
  perms: string;
}

export interface SmmuStats {
  translations: number;
  hits: number;
  misses: number;
  walks: number;
  descriptorFetches: number;
  bypasses: number;
  contextFaults: number;
  globalFaults: number;
}

// result kinds of the internal resolver
const K_BYPASS = 0;
const K_TRANSLATED = 1;
const K_CTX_FAULT = 2;
const K_GLOBAL_FAULT = 3;
/** TLB miss in hit-only mode (translateHits): nothing walked, nothing recorded */
const K_MISS = 4;

// permission bits of a TLB entry / walk result; index = (unpriv ? 3 : 0) + (write ? 1 : instr ? 2 : 0)
const P_PR = 1;
const P_PW = 2;
const P_PX = 4;
const P_UR = 8;
const P_UW = 16;
const P_UX = 32;

const TWO32 = 0x1_0000_0000;
const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const MAX_FAULT_RECORDS = 4096;
/** TLB maintenance operations held before a sync is forced (see queue()) */
const MAX_PENDING_TLBI = 1024;

// pending TLB maintenance operations (applied on sync)
const OP_ALL = 0; // everything
const OP_CB_ALL = 1; // cb
const OP_CB_ASID = 2; // cb, asid
const OP_CB_VA = 3; // cb, asid, va (non-global entries of asid + global entries)
const OP_CB_VAA = 4; // cb, va (any asid)
const OP_VMID = 5; // vmid

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
  readonly stats: SmmuStats = {
    translations: 0,
    hits: 0,
    misses: 0,
    walks: 0,
    descriptorFetches: 0,
    bypasses: 0,
    contextFaults: 0,
    globalFaults: 0,
  };

  private readonly bus: PhysicalBus;
  private readonly cfg: SmmuConfig;
  private readonly now: () => number;
  private readonly tracer: Tracer | null;
  private readonly hitNs: number;
  private readonly walkNs: number;
  private readonly syncNs: number;
  private readonly walkAttrs = makeAttrs({ priv: true, ns: true });
  private readonly d64 = new Uint32Array(2);

  // ---- global registers ----
  private scr0 = 0;
  private gfsr = 0;
  private gfar = 0;
  private gfsynr0 = 0;
  private gfsynr1 = 0;
  private gsyncDoneAt = 0;
  private readonly smr: Uint32Array;
  private readonly s2cr: Uint32Array;
  private readonly cbar: Uint32Array;
  /** stream id -> SMR index; -2 not computed, -1 no match, -3 multiple matches */
  private readonly sidMap = new Int16Array(0x8000);

  // ---- context bank registers ----
  private readonly sctlr: Uint32Array;
  private readonly ttbr0Lo: Uint32Array;
  private readonly ttbr0Hi: Uint32Array;
  private readonly ttbr1Lo: Uint32Array;
  private readonly ttbr1Hi: Uint32Array;
  private readonly ttbcr: Uint32Array;
  private readonly ttbcr2: Uint32Array;
  private readonly contextidr: Uint32Array;
  private readonly mair0: Uint32Array;
  private readonly mair1: Uint32Array;
  private readonly fsr: Uint32Array;
  private readonly far: Float64Array;
  private readonly fsynr0: Uint32Array;
  private readonly parLo: Uint32Array;
  private readonly parHi: Uint32Array;
  private readonly syncDoneAt: Float64Array;

  // ---- TLB (set associative, typed arrays: no allocation on lookup) ----
  private readonly tlbSets: number;
  private readonly tlbWays = 4;
  private readonly tValid: Uint8Array;
  private readonly tCb: Uint16Array;
  private readonly tAsid: Int16Array;
  private readonly tVa: Float64Array;
  private readonly tSize: Float64Array;
  private readonly tPa: Float64Array;
  private readonly tPerms: Uint8Array;
  private readonly tLevel: Uint8Array;
  private readonly tNext: Uint8Array;
  /** pending invalidations: [op, cb, asid, va] quadruples, applied by a sync */
  private pending: number[] = [];

  // ---- resolver scratch (results of the last resolve; no allocation) ----
  private rPa = 0;
  private rExtent = 0;
  private rCost = 0;
  private rCb = -1;
  private rLevel = 0;
  private rFsr = 0; // FSR bit for a context fault
  private rGfsr = 0; // sGFSR bit for a global fault
  private rPtw = false; // fault happened during the table walk (for FSYNR0.PTWF)
  private rAttrs = 0; // attributes after S2CR overrides
  private rWalked = false; // the last resolve walked the tables
  private hitOnly = false; // resolve stops at a TLB miss (K_MISS) instead of walking
  // quietLookup() remembers a successful walk so that the translate() of the same access
  // that immediately follows it (bulk DMA) does not read the tables twice. One-shot:
  // cleared by every translate(), register write and reset.
  private lastInsert = 0; // TLB slot of the last insertion
  private rHitSlot = 0; // TLB slot of the last hit
  /** per TLB set: bumped by every insertion into the set */
  private readonly tSetGen: Float64Array;
  // quietLookup(avoidLo, avoidHi): did the walk read a descriptor in that range?
  private avoidLo = 0;
  private avoidHi = 0;
  private avoidHit = false;
  private rFetches = 0; // descriptor fetches of the last successful walk
  private rAsid = -1; // TLB tag (ASID, -1 global) of the last walk's leaf
  private qValid = false;
  private qVa = 0;
  private qAttrs = 0;
  private qCb = 0;
  private qAsid = 0;
  private qFetches = 0;
  private qPa = 0;
  private qExtent = 0;
  private qCost = 0;
  private qwVa = 0;
  private qwSize = 0;
  private qwPa = 0;
  private qwPerms = 0;
  private qwLevel = 0;
  // translateHits() remembers, per direction (0 read, 1 write), the TLB slot its last probe
  // hit (or the slot the last replayed walk filled), keyed by 4 KiB page and attributes.
  // Valid while no register write, sync, reset or insertion into that slot's set happened
  // since (tlbGen, tSetGen): the slot is then still the first match of every lookup in
  // that page, so the answer is the same hit without a new lookup.
  private tlbGen = 0;
  private readonly hPage = new Float64Array(2).fill(-1);
  private readonly hAttrs = new Float64Array(2);
  private readonly hSlot = new Int32Array(2);
  private readonly hSet = new Int32Array(2);
  private readonly hSetGen = new Float64Array(2);
  private readonly hGen = new Float64Array(2);
  // walk scratch
  private wVa = 0;
  private wSize = 0;
  private wPa = 0;
  private wPerms = 0;
  private wGlobal = false;
  private wAttrIndx = 0;
  private wSh = 0;
  private wNs = 0;

  private readonly faultLog: SmmuFaultRecord[] = [];
  /** fault records dropped because the log was full */
  faultsDropped = 0;

  constructor(bus: PhysicalBus, cfg: SmmuConfig) {
    const pageSize = 0x1000;
    if (!(cfg.regSize >= 4 * pageSize) || (cfg.regSize & (cfg.regSize - 1)) !== 0) {
      throw new RangeError(`smmu: reg size 0x${cfg.regSize.toString(16)} must be a power of two >= 16 KiB`);
    }
    this.globalPages = cfg.regSize / 2 / pageSize;
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
    this.smr = new Uint32Array(this.numSmrs);
    this.s2cr = new Uint32Array(this.numSmrs);
    this.cbar = new Uint32Array(n);
    this.sctlr = new Uint32Array(n);
    this.ttbr0Lo = new Uint32Array(n);
    this.ttbr0Hi = new Uint32Array(n);
    this.ttbr1Lo = new Uint32Array(n);
    this.ttbr1Hi = new Uint32Array(n);
    this.ttbcr = new Uint32Array(n);
    this.ttbcr2 = new Uint32Array(n);
    this.contextidr = new Uint32Array(n);
    this.mair0 = new Uint32Array(n);
    this.mair1 = new Uint32Array(n);
    this.fsr = new Uint32Array(n);
    this.far = new Float64Array(n);
    this.fsynr0 = new Uint32Array(n);
    this.parLo = new Uint32Array(n);
    this.parHi = new Uint32Array(n);
    this.syncDoneAt = new Float64Array(n);
    let entries = cfg.tlbEntries ?? 128;
    if (!(entries >= 4)) entries = 4;
    let sets = 1;
    while (sets * 2 * this.tlbWays <= entries) sets *= 2;
    this.tlbSets = sets;
    const total = sets * this.tlbWays;
    this.tValid = new Uint8Array(total);
    this.tCb = new Uint16Array(total);
    this.tAsid = new Int16Array(total);
    this.tVa = new Float64Array(total);
    this.tSize = new Float64Array(total);
    this.tPa = new Float64Array(total);
    this.tPerms = new Uint8Array(total);
    this.tLevel = new Uint8Array(total);
    this.tNext = new Uint8Array(sets);
    this.tSetGen = new Float64Array(sets);
    this.reset();
  }

  /**
   * Power-on state. sCR0.CLIENTPD = 1 (the SMMU passes everything through until software
   * enables it), SMRs invalid, S2CRs of type fault (choice: the reset value of S2CR is
   * IMPLEMENTATION DEFINED; the Linux driver rewrites every S2CR before enabling), context
   * banks disabled, TLB empty.
   */
  reset(): void {
    this.scr0 = R.SCR0_CLIENTPD;
    this.gfsr = 0;
    this.gfar = 0;
    this.gfsynr0 = 0;
    this.gfsynr1 = 0;
    this.gsyncDoneAt = 0;
    this.smr.fill(0);
    this.s2cr.fill(R.S2CR_TYPE_FAULT << R.S2CR_TYPE_SHIFT);
    this.sidMap.fill(-2);
    for (const a of [this.cbar, this.sctlr, this.ttbr0Lo, this.ttbr0Hi, this.ttbr1Lo, this.ttbr1Hi, this.ttbcr,
      this.ttbcr2, this.contextidr, this.mair0, this.mair1, this.fsr, this.fsynr0, this.parLo, this.parHi]) a.fill(0);
    this.far.fill(0);
    this.syncDoneAt.fill(0);
    this.tValid.fill(0);
    this.tNext.fill(0);
    this.pending = [];
    this.qValid = false;
    this.tlbGen++;
    this.faultLog.length = 0;
    this.faultsDropped = 0;
    this.updateIrqs();
  }

  // =====================================================================================
  // Translation (the hot path)
  // =====================================================================================

  translate(va: number, attrs: Attrs, out: TranslationResult): void {
    if (this.qValid) {
      this.qValid = false;
      const tr = this.tracer;
      if (this.qVa === va && this.qAttrs === attrs && (tr === null || !tr.enabled)) {
        // replay of the walk quietLookup() just made for this access (see there): the same
        // statistics, the same TLB insertion, the same result
        const st = this.stats;
        st.translations++;
        st.misses++;
        st.walks++;
        st.descriptorFetches += this.qFetches;
        this.wVa = this.qwVa;
        this.wSize = this.qwSize;
        this.wPa = this.qwPa;
        this.wPerms = this.qwPerms;
        this.tlbInsert(this.qCb, this.qAsid, va);
        this.tLevel[this.lastInsert] = this.qwLevel;
        // the new entry is the only match for its page (the walk happened because nothing
        // matched): later hit lookups in this page find it
        this.hRemember((attrs & ATTR_WRITE) !== 0 ? 1 : 0, Math.floor(va / 4096), attrs, this.lastInsert);
        out.status = BUS_OK;
        out.pa = this.qPa;
        out.extent = this.qExtent;
        out.costNs = this.qCost;
        return;
      }
    }
    this.stats.translations++;
    const walks0 = this.stats.walks;
    const k = this.resolve(va, attrs, true, true);
    out.costNs = this.rCost;
    const tr = this.tracer;
    if (tr !== null && tr.enabled && this.stats.walks !== walks0) {
      tr.emit(this.name, 'smmu-walk', { sid: (attrs >>> 16) & 0x7fff, va, cb: this.rCb, level: this.rLevel, ok: k === K_TRANSLATED ? 1 : 0, pa: k === K_TRANSLATED ? this.rPa : -1 }, this.rCost);
    }
    if (k === K_TRANSLATED || k === K_BYPASS) {
      if (k === K_BYPASS) this.stats.bypasses++;
      this.qValid = false;
      out.status = BUS_OK;
      out.pa = this.rPa;
      out.extent = this.rExtent;
      return;
    }
    this.qValid = false;
    out.status = BUS_TRANSLATION_FAULT;
    out.pa = 0;
    out.extent = 0;
    if (k === K_CTX_FAULT) this.recordContextFault(va, attrs);
    else this.recordGlobalFault(va, attrs);
  }

  /**
   * Bulk-DMA hook (TranslationStage.quietLookup): would translate(va, attrs) now succeed
   * without a time-stamped side effect (no fault, no 'smmu-walk' trace event)? Side-effect
   * free: the lookup runs with fill=false (no statistics, no TLB insertion; a miss walks the
   * tables with plain reads).
   */
  quietLookup(va: number, attrs: Attrs, out?: TranslationResult, avoidLo = 0, avoidHi = 0): boolean {
    this.qValid = false;
    this.avoidLo = avoidLo;
    this.avoidHi = avoidHi;
    this.avoidHit = false;
    const k = this.resolve(va, attrs, true, false);
    this.avoidLo = this.avoidHi = 0;
    if (k !== K_TRANSLATED && k !== K_BYPASS) return false;
    if (this.avoidHit) return false;
    if (this.rWalked) {
      const tr = this.tracer;
      if (tr !== null && tr.enabled) return false;
      // remember the walk: the translate() of this very access that a bulk master makes
      // next replays it (statistics, TLB insertion) without reading the tables again
      this.qValid = true;
      this.qVa = va;
      this.qAttrs = attrs;
      this.qCb = this.rCb;
      this.qAsid = this.rAsid;
      this.qFetches = this.rFetches;
      this.qPa = this.rPa;
      this.qExtent = this.rExtent;
      this.qCost = this.rCost;
      this.qwVa = this.wVa;
      this.qwSize = this.wSize;
      this.qwPa = this.wPa;
      this.qwPerms = this.wPerms;
      this.qwLevel = this.rLevel;
    }
    if (out !== undefined) {
      out.status = BUS_OK;
      out.pa = this.rPa;
      out.extent = this.rExtent;
      out.costNs = this.rCost;
    }
    return true;
  }

  /**
   * Bulk-DMA hook (TranslationStage.translateHits): when translate(va, attrs) would now be
   * a TLB hit or a bypass, account `count` such translations (translations, hits or
   * bypasses: exactly what `count` translate() calls would add; a hit changes nothing else,
   * the TLB has no replacement state updated on hits) and report the translation. extent
   * stops at the end of the 4 KiB page for TLB hits: the set index is taken from the page
   * number, so a lookup in another page of a block entry may miss.
   */
  translateHits(va: number, attrs: Attrs, count: number, out: TranslationResult): boolean {
    const h = (attrs & ATTR_WRITE) !== 0 ? 1 : 0;
    const page = Math.floor(va / 4096);
    const st = this.stats;
    if (this.hPage[h] === page && this.hAttrs[h] === attrs && this.hGen[h] === this.tlbGen && this.hSetGen[h] === this.tSetGen[this.hSet[h]!]) {
      const w = this.hSlot[h]!;
      const base = this.tVa[w]!;
      out.status = BUS_OK;
      out.pa = this.tPa[w]! + (va - base);
      out.extent = Math.min(base + this.tSize[w]! - va, 4096 - (va % 4096));
      out.costNs = this.hitNs;
      st.hits += count;
      st.translations += count;
      return true;
    }
    this.hitOnly = true;
    const k = this.resolve(va, attrs, true, false);
    this.hitOnly = false;
    if (k === K_TRANSLATED) {
      out.extent = Math.min(this.rExtent, 4096 - (va % 4096));
      st.hits += count;
      this.hRemember(h, page, attrs, this.rHitSlot);
    } else if (k === K_BYPASS) {
      out.extent = this.rExtent;
      st.bypasses += count;
    } else return false;
    st.translations += count;
    out.status = BUS_OK;
    out.pa = this.rPa;
    out.costNs = this.rCost;
    return true;
  }

  // ---- translateCopyRun walk cache, one entry per side (0 read, 1 write: gSide): the path
  // to the level-3 table of one 2 MiB region ----
  private gSide = 0;
  private readonly wcValid = new Uint8Array(2);
  private readonly wcRegion = new Float64Array(2);
  private readonly wcCb = new Int32Array(2);
  private readonly wcRoot = new Float64Array(2);
  private readonly wcT1 = new Uint8Array(2);
  private readonly wcN = new Int32Array(2);
  private readonly wcTable = new Float64Array(2);
  /** restrictions: 1 noUnpriv, 2 noWrite, 4 xnT, 8 pxnT */
  private readonly wcRestr = new Uint8Array(2);
  private readonly wcFetches = new Int32Array(2);
  private readonly wcPg1 = new Float64Array(2);
  private readonly wcPg2 = new Float64Array(2);
  private readonly wcChecked = new Int32Array(2);
  /** level-1 (-1: none) and level-2 descriptor addresses and raw values of the cached path */
  private readonly wcA1 = new Float64Array(2);
  private readonly wcA2 = new Float64Array(2);
  private readonly wcV = new Uint32Array(8);
  private wcGen = -1;
  private wA1 = -1;
  private wA2 = -1;
  private readonly wV = new Uint32Array(4);

  /** A walk cache entry from an earlier run: still valid when its descriptors are unchanged. */
  private wcRevalidate(c: number): boolean {
    const d = this.d64;
    const v = this.wcV;
    const a1 = this.wcA1[c]!;
    let ok = true;
    if (a1 >= 0 && (!this.gRead(a1, 1, d) || d[0] !== v[4 * c] || d[1] !== v[4 * c + 1])) ok = false;
    if (ok && (!this.gRead(this.wcA2[c]!, 2, d) || d[0] !== v[4 * c + 2] || d[1] !== v[4 * c + 3])) ok = false;
    this.wcValid[c] = ok ? 1 : 0;
    return ok;
  }
  // ---- translateCopyRun: per side, the context of a translated lookup (constant during a run:
  // no register changes) when TTBR selection does not depend on the address (T0SZ = T1SZ = 0)
  private readonly fcOk = new Uint8Array(2);
  private fcGen = -1;
  private readonly fcCb = new Int32Array(2);
  private readonly fcAsid = new Int32Array(2);
  private readonly fcPerm = new Int32Array(2);
  private readonly fcSctlr = new Uint32Array(2);

  private readonly fcAttrs = new Float64Array(2).fill(-1);

  private fcLearn(side: number, attrs0: Attrs): void {
    const cb = this.rCb;
    const ttbcr = this.ttbcr[cb]!;
    if ((ttbcr & R.TTBCR_T0SZ_MASK) !== 0 || ((ttbcr >>> R.TTBCR_T1SZ_SHIFT) & 7) !== 0) return;
    const attrs = this.rAttrs;
    const need = (attrs & ATTR_PRIV) !== 0 ? 0 : 3;
    this.fcOk[side] = 1;
    this.fcAttrs[side] = attrs0;
    this.fcCb[side] = cb;
    this.fcAsid[side] = (((ttbcr & R.TTBCR_A1) !== 0 ? this.ttbr1Hi[cb]! : this.ttbr0Hi[cb]!) >>> 16) & 0xff;
    this.fcPerm[side] = 1 << (need + ((attrs & ATTR_WRITE) !== 0 ? 1 : (attrs & ATTR_INSTR) !== 0 ? 2 : 0));
    this.fcSctlr[side] = this.sctlr[cb]!;
  }

  /**
   * translateCopyRun's lookup for a side whose context is known (fcLearn): the TLB scan of
   * translateContext, and on a miss in a 2 MiB region whose level-3 table the walk cache
   * holds, the level-3 descriptor read and decoded as walk() does. Fills the r and w fields
   * like resolve(fill = false). Returns K_TRANSLATED, -1 (a fault: stop the run) or -2 (use
   * resolve()).
   */
  private fastLookup(side: number, va: number): number {
    if (!(va < TWO32)) return -2;
    const cb = this.fcCb[side]!;
    const asid = this.fcAsid[side]!;
    const permBit = this.fcPerm[side]!;
    const page = Math.floor(va / 4096);
    const set = ((page ^ (page >>> 7) ^ (cb * 0x9e5)) & (this.tlbSets - 1)) * this.tlbWays;
    this.rCb = cb;
    this.rCost = this.hitNs;
    const tValid = this.tValid;
    const tCb = this.tCb;
    const tAsid = this.tAsid;
    const tVa = this.tVa;
    const tSize = this.tSize;
    for (let w = set, e = set + this.tlbWays; w < e; w++) {
      if (tValid[w] === 0 || tCb[w] !== cb) continue;
      const ta = tAsid[w]!;
      if (ta !== -1 && ta !== asid) continue;
      const base = tVa[w]!;
      if (va < base || va >= base + tSize[w]!) continue;
      if ((this.tPerms[w]! & permBit) === 0) return -1;
      this.rPa = this.tPa[w]! + (va - base);
      this.rExtent = base + tSize[w]! - va;
      this.rHitSlot = w;
      this.rWalked = false;
      return K_TRANSLATED;
    }
    const region = Math.floor(va / 0x200000);
    if (this.wcValid[side] === 0 || this.wcRegion[side] !== region || this.wcCb[side] !== cb) return -2;
    if (this.wcValid[side] === 2 && !this.wcRevalidate(side)) return -2;
    const tab = this.wcTable[side]!;
    const da = tab + (page & 511) * 8;
    // written pages since the last check: the level-1/2 table pages (the cached path is
    // stale: let resolve() walk and stop) or the level-3 table page (stop before the walk)
    const wr = this.gWritten;
    const p1 = this.wcPg1[side]!;
    const p2 = this.wcPg2[side]!;
    const p3 = Math.floor(tab / 4096);
    for (let i = this.wcChecked[side]!; i < this.gNw; i++) {
      const x = wr[i]!;
      if (x === p3) return -1;
      if (x === p1 || x === p2) return -2;
    }
    this.wcChecked[side] = this.gNw;
    const d = this.d64;
    const rg = this.gRegion;
    const u = this.gU32;
    if (rg !== null && u !== null && da >= rg.base && da + 8 <= rg.base + rg.size && (da & 7) === 0) {
      const o = (da - rg.base) >>> 2;
      d[0] = u[o]!;
      d[1] = u[o + 1]!;
    } else if (!this.gRead(da, 3, d)) return -1;
    const sctlr = this.fcSctlr[side]!;
    let dlo = d[0]!;
    let dhi = d[1]!;
    if ((sctlr & R.SCTLR_E) !== 0) {
      const t = dlo;
      dlo = bswap32(dhi);
      dhi = bswap32(t);
    }
    if ((dlo & 3) !== 3) return -2; // invalid or reserved: resolve() reports the fault
    const r = this.wcRestr[side]!;
    if (this.leaf(3, 12, va, dlo, dhi, sctlr, (r & 1) !== 0, (r & 2) !== 0, (r & 4) !== 0, (r & 8) !== 0) !== 0) return -1;
    if ((this.wPerms & permBit) === 0) return -1;
    const fetches = this.wcFetches[side]! + 1;
    this.rFetches = fetches;
    this.rCost += fetches * this.walkNs;
    this.rLevel = 3;
    this.rWalked = true;
    this.rAsid = this.wGlobal ? -1 : asid;
    this.rPa = this.wPa + (va - this.wVa);
    this.rExtent = this.wVa + this.wSize - va;
    return K_TRANSLATED;
  }

  // ---- translateCopyRun's committed miss (fastMiss) ----
  /** per side: the last level-3 leaf decode (key: AF, nG, AP[2:1], XN, PXN bits; -1 none) */
  private readonly lmKey = new Int32Array(2).fill(-1);
  private readonly lmRestr = new Int32Array(2);
  private readonly lmSctlr = new Float64Array(2);
  private readonly lmPerms = new Int32Array(2);
  private readonly lmGlobal = new Uint8Array(2);
  /** RAM region of the last output page checked by fastMiss */
  private fmRam: RamRegion | null = null;
  /** out of fastMiss: output page address and cost of the committed lookup */
  private fmPa = 0;
  private fmCost = 0;

  /**
   * translateCopyRun's common case in one step: a lookup of `va` (< 2^32, integral) for a
   * side whose context is known that misses the TLB in a 2 MiB region whose level-3 table
   * the walk cache holds (valid in this run), reads a valid page descriptor straight from
   * RAM (little-endian tables) and translates to a RAM page. Performs exactly what
   * fastLookup + the commit in translateCopyRun do for it (statistics, TLB insertion with
   * the same slot choice and round-robin advance, walk-cache check mark) and returns the
   * TLB slot; fmPa/fmCost receive the output page and the cost. The level-3 leaf decode is
   * memoised per side on the descriptor bits it depends on (and the restrictions and
   * SCTLR). Returns -2, having changed nothing that fastLookup would not change the same
   * way, for anything else (the general path then decides).
   */
  private fastMiss(side: number, va: number, page: number): number {
    const cb = this.fcCb[side]!;
    const asid = this.fcAsid[side]!;
    const s = (page ^ (page >>> 7) ^ (cb * 0x9e5)) & (this.tlbSets - 1);
    const ways = this.tlbWays;
    const set = s * ways;
    const tValid = this.tValid;
    const tCb = this.tCb;
    const tAsid = this.tAsid;
    const tVa = this.tVa;
    const tSize = this.tSize;
    for (let w = set, e = set + ways; w < e; w++) {
      if (tValid[w] === 0 || tCb[w] !== cb) continue;
      const ta = tAsid[w]!;
      if (ta !== -1 && ta !== asid) continue;
      const d = va - tVa[w]!;
      if (((d >= 0 ? 1 : 0) & (d < tSize[w]! ? 1 : 0)) !== 0) return -2; // a TLB hit: the general path
    }
    if (this.wcValid[side] !== 1 || this.wcRegion[side] !== (va >>> 21) || this.wcCb[side] !== cb) return -2;
    const tab = this.wcTable[side]!;
    const wr = this.gWritten;
    const p1 = this.wcPg1[side]!;
    const p2 = this.wcPg2[side]!;
    const p3 = Math.floor(tab / 4096);
    const nw = this.gNw;
    for (let i = this.wcChecked[side]!; i < nw; i++) {
      const x = wr[i]!;
      if (x === p3 || x === p1 || x === p2) return -2;
    }
    this.wcChecked[side] = nw; // (fastLookup would set the same)
    const da = tab + (page & 511) * 8;
    const rg = this.gRegion;
    const u = this.gU32;
    if (rg === null || u === null || !(da >= rg.base && da + 8 <= rg.base + rg.size && (da & 7) === 0)) return -2;
    const sctlr = this.fcSctlr[side]!;
    if ((sctlr & R.SCTLR_E) !== 0) return -2;
    const o = (da - rg.base) >>> 2;
    const dlo = u[o]!;
    const dhi = u[o + 1]!;
    if ((dlo & 3) !== 3) return -2;
    const restr = this.wcRestr[side]!;
    const key = (dlo & 0xcc0) | ((dhi >>> 21) & 3);
    let perms: number;
    let global: boolean;
    if (this.lmKey[side] === key && this.lmRestr[side] === restr && this.lmSctlr[side] === sctlr) {
      perms = this.lmPerms[side]!;
      global = this.lmGlobal[side] === 1;
    } else {
      if (this.leaf(3, 12, va, dlo, dhi, sctlr, (restr & 1) !== 0, (restr & 2) !== 0, (restr & 4) !== 0, (restr & 8) !== 0) !== 0) return -2;
      perms = this.wPerms;
      global = this.wGlobal;
      this.lmKey[side] = key;
      this.lmRestr[side] = restr;
      this.lmSctlr[side] = sctlr;
      this.lmPerms[side] = perms;
      this.lmGlobal[side] = global ? 1 : 0;
    }
    if ((perms & this.fcPerm[side]!) === 0) return -2;
    const pa = ((dlo & 0xfffff000) >>> 0) + (dhi & 0xff) * TWO32;
    let ram = this.fmRam;
    if (ram === null || !(pa >= ram.base && pa + 4096 <= ram.base + ram.size)) {
      ram = this.bus.ramAt(pa, 4096);
      if (ram === null) return -2;
      this.fmRam = ram;
    }
    // commit (translate(): a miss, a walk of wcFetches + 1 descriptors, a TLB insertion)
    const fetches = this.wcFetches[side]! + 1;
    const st = this.stats;
    st.translations++;
    st.misses++;
    st.walks++;
    st.descriptorFetches += fetches;
    let w = -1;
    for (let i = set; i < set + ways; i++) {
      if (tValid[i] === 0) {
        w = i;
        break;
      }
    }
    if (w < 0) {
      const nx = this.tNext[s]!;
      w = set + nx;
      this.tNext[s] = nx + 1 === ways ? 0 : nx + 1;
    }
    this.tSetGen[s]!++;
    this.lastInsert = w;
    tValid[w] = 1;
    tCb[w] = cb;
    tAsid[w] = global ? -1 : asid;
    tVa[w] = va - (va & 4095);
    tSize[w] = 4096;
    this.tPa[w] = pa;
    this.tPerms[w] = perms;
    this.tLevel[w] = 3;
    this.fmPa = pa;
    this.fmCost = this.hitNs + fetches * this.walkNs;
    return w;
  }

  // ---- translateCopyRun state (guard mode of the walk) ----
  private gOn = false;
  private gRegion: RamRegion | null = null;
  private gU32: Uint32Array | null = null;
  /** 4 KiB PA page numbers written by the run so far (before the current access) */
  private gWritten = new Float64Array(64);
  private gNw = 0;
  /** per walk level: table page checked against gWritten[0..gChecked) */
  private readonly gTab = new Float64Array(4).fill(-1);
  private readonly gChecked = new Int32Array(4);

  /** Guarded descriptor read for translateCopyRun: false = stop the run before this access. */
  private gRead(da: number, level: number, d: Uint32Array): boolean {
    const pg = Math.floor(da / 4096);
    let from = 0;
    if (this.gTab[level] === pg) from = this.gChecked[level]!;
    const wr = this.gWritten;
    const n = this.gNw;
    for (let i = from; i < n; i++) if (wr[i] === pg) return false;
    this.gTab[level] = pg;
    this.gChecked[level] = n;
    let r = this.gRegion;
    if (r === null || da < r.base || da + 8 > r.base + r.size) {
      r = this.bus.ramAt(da, 8);
      if (r === null) return false; // a table outside RAM: the step path reads it at its time
      this.gRegion = r;
      const b = r.bytes;
      this.gU32 = LITTLE_ENDIAN_HOST && (b.byteOffset & 3) === 0 ? new Uint32Array(b.buffer, b.byteOffset, b.length >>> 2) : null;
    }
    const off = da - r.base;
    const u = this.gU32;
    if (u !== null && (off & 7) === 0) {
      d[0] = u[off >>> 2]!;
      d[1] = u[(off >>> 2) + 1]!;
    } else {
      d[0] = r.view.getUint32(off, true);
      d[1] = r.view.getUint32(off + 4, true);
    }
    return true;
  }

  /**
   * Bulk-DMA hook (TranslationStage.translateCopyRun): the translate() calls of a copy loop
   * R0 W0 R1 W1 ... performed in one allocation-free loop with exactly their effects:
   * - an access in the page of the side's previous access whose TLB slot saw no insertion
   *   into its set since (tSetGen) is the same hit again (a hit changes nothing but
   *   statistics), so runs of such accesses are accounted arithmetically;
   * - any other access is looked up side-effect free (resolve without fill), and committed
   *   (statistics, TLB insertion with the same replacement) only when it is quiet: no fault,
   *   no traced walk, the burst inside one 4 KiB page, the output page RAM, and no descriptor
   *   read from a page an earlier write access of this run writes (the master applies the
   *   data after the call, so such a walk would see stale memory: the run stops there and
   *   the step path makes that access at its own time). Descriptors are read straight from
   *   the RAM array (same values as bus.read64).
   */
  translateCopyRun(run: CopyRun): void {
    this.qValid = false;
    const st = this.stats;
    const tr = this.tracer;
    const traced = tr !== null && tr.enabled;
    const B = run.burst;
    const sAttrs = run.srcAttrs;
    const dAttrs = run.dstAttrs;
    let sVa = run.srcVa;
    let dVa = run.dstVa;
    const sPage0 = Math.floor(sVa / 4096);
    const dPage0 = Math.floor(dVa / 4096);
    const sOut = run.srcPa;
    const dOut = run.dstPa;
    let iters = run.iterations;
    let done = 0;
    let cost = 0;
    run.done = 0;
    run.costNs = 0;
    if (!(B > 0 && B <= 4096) || iters <= 0) return;
    // every address of the run an integer below 2^32: page numbers and offsets by shifts
    const ints = Number.isInteger(sVa) && Number.isInteger(dVa) && Number.isInteger(B) && sVa >= 0 && dVa >= 0 &&
      sVa + iters * B <= TWO32 && dVa + iters * B <= TWO32;
    if (this.gWritten.length < dOut.length + 1) this.gWritten = new Float64Array(dOut.length + 1);
    this.gNw = 0;
    this.gTab.fill(-1);
    // walk cache entries of earlier runs: revalidated (their level-1/2 descriptors re-read
    // and compared) before use, unless a register changed since
    if (this.wcGen !== this.tlbGen) {
      this.wcValid.fill(0);
      this.wcGen = this.tlbGen;
    }
    for (let c = 0; c < 2; c++) {
      if (this.wcValid[c] === 1) this.wcValid[c] = 2;
      this.wcChecked[c] = 0;
    }
    // the context learnt by earlier runs holds while no register was written since
    if (this.fcGen !== this.tlbGen) {
      this.fcOk.fill(0);
      this.fcGen = this.tlbGen;
    }
    if (this.fcAttrs[0] !== sAttrs) this.fcOk[0] = 0;
    if (this.fcAttrs[1] !== dAttrs) this.fcOk[1] = 0;
    // memo per side: page (-1 none), slot (-1 bypass), set, set generation, hit cost
    let sPg = -1;
    let sSlot = 0;
    let sSet = 0;
    let sGen = 0;
    let sHit = 0;
    let dPg = -1;
    let dSlot = 0;
    let dSet = 0;
    let dGen = 0;
    let dHit = 0;
    const tSetGen = this.tSetGen;
    const ways = this.tlbWays;
    this.gOn = true;
    try {
      while (iters > 0) {
        // ---- whole iterations inside both memoised pages: pure hits ----
        if (sPg >= 0 && dPg >= 0 && (ints ? (sVa >>> 12) === sPg && (dVa >>> 12) === dPg : Math.floor(sVa / 4096) === sPg && Math.floor(dVa / 4096) === dPg) &&
          (sSlot < 0 || tSetGen[sSet] === sGen) && (dSlot < 0 || tSetGen[dSet] === dGen)) {
          let m = ints ? ((4096 - (sVa & 4095)) / B) | 0 : Math.floor((4096 - (sVa % 4096)) / B);
          const md = ints ? ((4096 - (dVa & 4095)) / B) | 0 : Math.floor((4096 - (dVa % 4096)) / B);
          if (md < m) m = md;
          if (iters < m) m = iters;
          if (m > 0) {
            st.translations += 2 * m;
            if (sSlot < 0) st.bypasses += m;
            else st.hits += m;
            if (dSlot < 0) st.bypasses += m;
            else st.hits += m;
            cost += m * (sHit + dHit);
            done += 2 * m;
            sVa += m * B;
            dVa += m * B;
            iters -= m;
            continue;
          }
        }
        // ---- one iteration, access by access ----
        for (let side = 0; side < 2; side++) {
          const isW = side === 1;
          const va = isW ? dVa : sVa;
          const pg = ints ? va >>> 12 : Math.floor(va / 4096);
          if ((ints ? va & 4095 : va % 4096) + B > 4096) return; // a burst across pages: more than one lookup
          if (isW ? pg === dPg && (dSlot < 0 || tSetGen[dSet] === dGen) : pg === sPg && (sSlot < 0 || tSetGen[sSet] === sGen)) {
            // the same hit (or bypass) as the side's previous access
            st.translations++;
            if ((isW ? dSlot : sSlot) < 0) st.bypasses++;
            else st.hits++;
            cost += isW ? dHit : sHit;
            done++;
            continue;
          }
          const idx = isW ? pg - dPage0 : pg - sPage0;
          if (idx >= (isW ? dOut.length : sOut.length) || this.gNw >= this.gWritten.length) return;
          let slot: number;
          let pagePa: number;
          const fm = ints && !traced && this.fcOk[side] === 1 ? this.fastMiss(side, va, pg) : -2;
          if (fm >= 0) {
            // committed by fastMiss (a walk and a TLB insertion)
            slot = fm;
            pagePa = this.fmPa;
            cost += this.fmCost;
          } else {
          const attrs = isW ? dAttrs : sAttrs;
          this.gSide = side;
          let k = this.fcOk[side] === 1 ? this.fastLookup(side, va) : -2;
          if (k === -1) return;
          if (k === -2) {
            k = this.resolve(va, attrs, true, false);
            if (k === K_TRANSLATED) this.fcLearn(side, attrs);
          }
          if (k !== K_TRANSLATED && k !== K_BYPASS) return;
          if (this.rWalked && traced) return;
          pagePa = this.rPa - (va % 4096);
          if (this.bus.ramAt(pagePa, 4096) === null) return;
          // commit: what translate() does for this access
          st.translations++;
          if (k === K_BYPASS) {
            st.bypasses++;
            slot = -1;
          } else if (this.rWalked) {
            st.misses++;
            st.walks++;
            st.descriptorFetches += this.rFetches;
            this.tlbInsert(this.rCb, this.rAsid, va);
            slot = this.lastInsert;
          } else {
            st.hits++;
            slot = this.rHitSlot;
          }
          cost += this.rCost;
          }
          if (fm >= 0 || (slot >= 0 && this.rWalked)) {
            // the other side's memo survives an insertion into its set when its slot was not
            // the one replaced and the new entry cannot be found before it for its page (a
            // lookup returns the first match in slot order)
            const iset = (slot / ways) | 0;
            const oPg = isW ? sPg : dPg;
            const oSlot = isW ? sSlot : dSlot;
            if (oPg >= 0 && oSlot >= 0 && (isW ? sSet : dSet) === iset && (isW ? sGen : dGen) === tSetGen[iset]! - 1 && slot !== oSlot) {
              const base = this.tVa[slot]!;
              const opa = oPg * 4096;
              if (slot > oSlot || opa + 4096 <= base || opa >= base + this.tSize[slot]!) {
                if (isW) sGen = tSetGen[iset]!;
                else dGen = tSetGen[iset]!;
              }
            }
          }
          done++;
          const set = slot < 0 ? 0 : (slot / ways) | 0;
          if (isW) {
            dOut[idx] = pagePa;
            dPg = pg;
            dSlot = slot;
            dSet = set;
            dGen = slot < 0 ? 0 : tSetGen[set]!;
            dHit = this.hitNs;
            const ppg = Math.floor(pagePa / 4096);
            const wr = this.gWritten;
            // (a page may appear twice: the list only has to contain every written page)
            if (this.gNw === 0 || wr[this.gNw - 1] !== ppg) wr[this.gNw++] = ppg;
          } else {
            sOut[idx] = pagePa;
            sPg = pg;
            sSlot = slot;
            sSet = set;
            sGen = slot < 0 ? 0 : tSetGen[set]!;
            sHit = this.hitNs;
          }
        }
        sVa += B;
        dVa += B;
        iters--;
      }
    } finally {
      // (gRegion/gU32 stay: RAM regions are never removed from the bus)
      this.gOn = false;
      run.done = done;
      run.costNs = cost;
    }
  }

  private hRemember(h: number, page: number, attrs: Attrs, w: number): void {
    const set = Math.floor(w / this.tlbWays);
    this.hPage[h] = page;
    this.hAttrs[h] = attrs;
    this.hSlot[h] = w;
    this.hSet[h] = set;
    this.hSetGen[h] = this.tSetGen[set]!;
    this.hGen[h] = this.tlbGen;
  }

  /**
   * Resolve `va` for `attrs` into the r* scratch fields. Returns the result kind.
   * useTlb: consult the TLB; fill: insert walk results into the TLB and count stats.
   */
  private resolve(va: number, attrs: Attrs, useTlb: boolean, fill: boolean): number {
    this.rCost = this.hitNs;
    this.rCb = -1;
    this.rLevel = 0;
    this.rPtw = false;
    this.rWalked = false;
    this.rAttrs = attrs;
    const scr0 = this.scr0;
    if ((scr0 & R.SCR0_CLIENTPD) !== 0) return this.bypass(va);
    const sid = (attrs >>> 16) & 0x7fff;
    let m = this.sidMap[sid]!;
    if (m === -2) m = this.computeMatch(sid);
    if (m < 0) {
      if (m === -3) {
        this.rGfsr = R.GFSR_SMCF;
        return K_GLOBAL_FAULT;
      }
      if ((scr0 & R.SCR0_USFCFG) !== 0) {
        this.rGfsr = R.GFSR_USF;
        return K_GLOBAL_FAULT;
      }
      return this.bypass(va);
    }
    const s2cr = this.s2cr[m]!;
    // S2CR.PRIVCFG / INSTCFG override the incoming attributes
    const privcfg = (s2cr >>> R.S2CR_PRIVCFG_SHIFT) & 3;
    if (privcfg === 2) attrs &= ~ATTR_PRIV;
    else if (privcfg === 3) attrs |= ATTR_PRIV;
    const instcfg = (s2cr >>> R.S2CR_INSTCFG_SHIFT) & 3;
    if (instcfg === 2) attrs &= ~ATTR_INSTR;
    else if (instcfg === 3) attrs |= ATTR_INSTR;
    this.rAttrs = attrs;
    const type = (s2cr >>> R.S2CR_TYPE_SHIFT) & 3;
    if (type === R.S2CR_TYPE_BYPASS) return this.bypass(va);
    if (type !== R.S2CR_TYPE_TRANS) {
      // Choice: SMMUv1's sGFSR has no dedicated bit for "S2CR says fault"; we report it as
      // an unidentified-stream fault (the stream is not mapped to any translation).
      this.rGfsr = R.GFSR_USF;
      return K_GLOBAL_FAULT;
    }
    const cb = s2cr & 0xff;
    if (cb >= this.numCb) {
      this.rGfsr = R.GFSR_UCBF;
      return K_GLOBAL_FAULT;
    }
    this.rCb = cb;
    return this.translateContext(cb, va, attrs, useTlb, fill);
  }

  private bypass(va: number): number {
    this.rPa = va;
    // identity mapping: the same translation holds up to the end of the output space
    this.rExtent = 2 ** 40 - va;
    return K_BYPASS;
  }

  private computeMatch(sid: number): number {
    let found = -1;
    for (let i = 0; i < this.numSmrs; i++) {
      const s = this.smr[i]!;
      if ((s & R.SMR_VALID) === 0) continue;
      const id = s & R.SMR_ID_MASK;
      const mask = (s >>> R.SMR_MASK_SHIFT) & R.SMR_ID_MASK;
      if (((sid ^ id) & ~mask & R.SMR_ID_MASK) === 0) {
        if (found >= 0) {
          found = -3;
          break;
        }
        found = i;
      }
    }
    this.sidMap[sid] = found;
    return found;
  }

  /** Stage-1 translation in context bank cb. (A stage-2 walk would follow here.) */
  private translateContext(cb: number, va: number, attrs: Attrs, useTlb: boolean, fill: boolean): number {
    const type = (this.cbar[cb]! >>> R.CBAR_TYPE_SHIFT) & 3;
    if (type !== R.CBAR_TYPE_S1_S2BYPASS) {
      // stage 2 / nested / S1-then-S2-fault contexts are not implemented (sIDR0.S2TS=NTS=0)
      this.rGfsr = R.GFSR_ICF;
      return K_GLOBAL_FAULT;
    }
    const sctlr = this.sctlr[cb]!;
    if ((sctlr & R.SCTLR_M) === 0) return this.bypass(va);
    const ttbcr = this.ttbcr[cb]!;
    if ((ttbcr & R.TTBCR_EAE) === 0) {
      // the VMSAv7 short-descriptor format is not modelled
      this.rGfsr = R.GFSR_ICF;
      return K_GLOBAL_FAULT;
    }
    if (!(va >= 0 && va < TWO32)) {
      // 32-bit input address space (AArch32 LPAE context)
      this.rLevel = 1;
      this.rFsr = R.FSR_TF;
      return K_CTX_FAULT;
    }
    // TTBR selection (VMSAv7 LPAE rules for T0SZ/T1SZ)
    const t0sz = ttbcr & R.TTBCR_T0SZ_MASK;
    const t1sz = (ttbcr >>> R.TTBCR_T1SZ_SHIFT) & 7;
    let useT1: boolean;
    if (t0sz === 0 && t1sz === 0) useT1 = false;
    else if (t1sz === 0) useT1 = va >= 2 ** (32 - t0sz);
    else if (t0sz === 0) useT1 = va >= TWO32 - 2 ** (32 - t1sz);
    else if (va < 2 ** (32 - t0sz)) useT1 = false;
    else if (va >= TWO32 - 2 ** (32 - t1sz)) useT1 = true;
    else {
      this.rLevel = 1;
      this.rFsr = R.FSR_TF;
      return K_CTX_FAULT;
    }
    const asid = (((ttbcr & R.TTBCR_A1) !== 0 ? this.ttbr1Hi[cb]! : this.ttbr0Hi[cb]!) >>> 16) & 0xff;
    const need = (attrs & ATTR_PRIV) !== 0 ? 0 : 3;
    const permBit = 1 << (need + ((attrs & ATTR_WRITE) !== 0 ? 1 : (attrs & ATTR_INSTR) !== 0 ? 2 : 0));

    if (useTlb) {
      // ---- TLB lookup ----
      const page = Math.floor(va / 4096);
      const set = ((page ^ (page >>> 7) ^ (cb * 0x9e5)) & (this.tlbSets - 1)) * this.tlbWays;
      for (let w = set, e = set + this.tlbWays; w < e; w++) {
        if (this.tValid[w] === 0 || this.tCb[w] !== cb) continue;
        const ta = this.tAsid[w]!;
        if (ta !== -1 && ta !== asid) continue;
        const base = this.tVa[w]!;
        if (va < base || va >= base + this.tSize[w]!) continue;
        if (fill) this.stats.hits++;
        if ((this.tPerms[w]! & permBit) === 0) {
          this.rLevel = this.tLevel[w]!;
          this.rFsr = R.FSR_PF;
          return K_CTX_FAULT;
        }
        this.rPa = this.tPa[w]! + (va - base);
        this.rExtent = base + this.tSize[w]! - va;
        this.rHitSlot = w;
        return K_TRANSLATED;
      }
      if (fill) this.stats.misses++;
      if (this.hitOnly) return K_MISS;
    }

    // ---- table walk ----
    const txsz = useT1 ? t1sz : t0sz;
    const epd = useT1 ? (ttbcr & R.TTBCR_EPD1) !== 0 : (ttbcr & R.TTBCR_EPD0) !== 0;
    if (epd) {
      this.rLevel = 1;
      this.rFsr = R.FSR_TF;
      return K_CTX_FAULT;
    }
    const st = this.walk(cb, va, useT1, txsz, sctlr, fill);
    if (st !== 0) {
      this.rFsr = st;
      return K_CTX_FAULT;
    }
    this.rAsid = this.wGlobal ? -1 : asid;
    if (fill) this.tlbInsert(cb, this.rAsid, va);
    if ((this.wPerms & permBit) === 0) {
      this.rFsr = R.FSR_PF;
      return K_CTX_FAULT;
    }
    this.rPa = this.wPa + (va - this.wVa);
    this.rExtent = this.wVa + this.wSize - va;
    return K_TRANSLATED;
  }

  /**
   * Walk the LPAE tables. Returns 0 on success (w* fields hold the leaf) or the FSR bit of
   * the fault (rLevel = level). Adds the per-descriptor cost to rCost.
   */
  private walk(cb: number, va: number, useT1: boolean, txsz: number, sctlr: number, count: boolean): number {
    if (count) this.stats.walks++;
    this.rWalked = true;
    let fetches = 0;
    const n = 32 - txsz; // input region size in bits
    let level = n > 30 ? 1 : 2;
    // table base alignment: x = 5 - TxSZ (level 1 start) or 14 - TxSZ (level 2 start)
    const x = level === 1 ? 5 - txsz : 14 - txsz;
    const lo = useT1 ? this.ttbr1Lo[cb]! : this.ttbr0Lo[cb]!;
    const hi = useT1 ? this.ttbr1Hi[cb]! : this.ttbr0Hi[cb]!;
    let table = ((lo & ~((1 << x) - 1)) >>> 0) + (hi & 0xff) * TWO32;
    // hierarchical restrictions accumulated from table descriptors
    let noUnpriv = false; // APTable[0]
    let noWrite = false; // APTable[1]
    let xnT = false;
    let pxnT = false;
    const region = Math.floor(va / 0x200000);
    const c = this.gSide;
    if (this.gOn && this.wcValid[c] !== 0 && this.wcRegion[c] === region && this.wcCb[c] === cb && this.wcRoot[c] === table &&
      this.wcT1[c] === (useT1 ? 1 : 0) && this.wcN[c] === n) {
      // translateCopyRun walk cache: the level-1/2 descriptors of this 2 MiB region were read
      // earlier in this run and their table pages are not written by it (checked here), so
      // they are unchanged: start at level 3 with the same restrictions; the fetches still
      // count and cost as in a full walk
      const wr = this.gWritten;
      const p1 = this.wcPg1[c]!;
      const p2 = this.wcPg2[c]!;
      for (let i = this.wcChecked[c]!; i < this.gNw; i++) {
        if (wr[i] === p1 || wr[i] === p2) this.wcValid[c] = 0;
      }
      this.wcChecked[c] = this.gNw;
      if (this.wcValid[c] === 2) this.wcRevalidate(c);
      if (this.wcValid[c] === 1) {
        level = 3;
        table = this.wcTable[c]!;
        const r = this.wcRestr[c]!;
        noUnpriv = (r & 1) !== 0;
        noWrite = (r & 2) !== 0;
        xnT = (r & 4) !== 0;
        pxnT = (r & 8) !== 0;
        fetches = this.wcFetches[c]!;
        this.rCost += fetches * this.walkNs;
      }
    }
    const root = table;
    let pg1 = -1;
    const be = (sctlr & R.SCTLR_E) !== 0;
    const d = this.d64;
    for (;;) {
      const shift = level === 1 ? 30 : level === 2 ? 21 : 12;
      const idxBits = level === 1 ? n - 30 : level === 2 && n <= 30 ? n - 21 : 9;
      const idx = (va >>> shift) & ((1 << idxBits) - 1); // va < 2^32 (checked by the caller)
      const da = table + idx * 8;
      if (da + 8 > this.avoidLo && da < this.avoidHi) this.avoidHit = true;
      let st: number;
      if (this.gOn) {
        // translateCopyRun: descriptors are read straight from RAM (same value as read64),
        // never from a page this run writes before the walk (the write is applied later)
        if (!this.gRead(da, level, d)) return R.FSR_EF;
        st = BUS_OK;
      } else st = this.bus.read64(da, this.walkAttrs, d);
      this.rCost += this.walkNs;
      fetches++;
      if (count) this.stats.descriptorFetches++;
      this.rLevel = level;
      if (st !== BUS_OK) {
        this.rPtw = true;
        return R.FSR_EF;
      }
      let dlo = d[0]!;
      let dhi = d[1]!;
      if (be) {
        const t = dlo;
        dlo = bswap32(dhi);
        dhi = bswap32(t);
      }
      if ((dlo & 1) === 0) return R.FSR_TF;
      if (level < 3 && (dlo & 2) !== 0) {
        // table descriptor: NSTable [63], APTable [62:61], XNTable [60], PXNTable [59]
        if ((dhi & (1 << 29)) !== 0) noUnpriv = true;
        if ((dhi & (1 << 30)) !== 0) noWrite = true;
        if ((dhi & (1 << 28)) !== 0) xnT = true;
        if ((dhi & (1 << 27)) !== 0) pxnT = true;
        if (this.gOn) {
          if (pg1 < 0) {
            pg1 = Math.floor(da / 4096);
            this.wA1 = -1;
          }
          const j = level === 1 ? 0 : 2;
          if (level === 1) this.wA1 = da;
          else this.wA2 = da;
          this.wV[j] = d[0]!;
          this.wV[j + 1] = d[1]!;
        }
        table = ((dlo & 0xfffff000) >>> 0) + (dhi & 0xff) * TWO32;
        level++;
        if (level === 3 && this.gOn) {
          this.wcValid[c] = 1;
          this.wcRegion[c] = region;
          this.wcCb[c] = cb;
          this.wcRoot[c] = root;
          this.wcT1[c] = useT1 ? 1 : 0;
          this.wcN[c] = n;
          this.wcTable[c] = table;
          this.wcRestr[c] = (noUnpriv ? 1 : 0) | (noWrite ? 2 : 0) | (xnT ? 4 : 0) | (pxnT ? 8 : 0);
          this.wcFetches[c] = fetches;
          this.wcPg1[c] = pg1;
          this.wcPg2[c] = Math.floor(da / 4096);
          this.wcChecked[c] = this.gNw;
          this.wcA1[c] = this.wA1;
          this.wcA2[c] = this.wA2;
          for (let j = 0; j < 4; j++) this.wcV[4 * c + j] = this.wV[j]!;
        }
        continue;
      }
      if (level === 3 && (dlo & 2) === 0) return R.FSR_TF; // 0b01 is reserved at level 3
      // block (levels 1-2) or page (level 3)
      const lf = this.leaf(level, shift, va, dlo, dhi, sctlr, noUnpriv, noWrite, xnT, pxnT);
      if (lf !== 0) return lf;
      this.rFetches = fetches;
      return 0;
    }
  }

  /**
   * Decode a block/page descriptor (valid, of the right type) into the w* fields. Returns 0,
   * or FSR_AFF for an access-flag fault.
   */
  private leaf(level: number, shift: number, va: number, dlo: number, dhi: number, sctlr: number,
    noUnpriv: boolean, noWrite: boolean, xnT: boolean, pxnT: boolean): number {
    if ((dlo & (1 << 10)) === 0 && (sctlr & R.SCTLR_AFFD) === 0) return R.FSR_AFF;
    const size = 1 << shift; // shift <= 30
    const oaMask = level === 1 ? 0xc0000000 : level === 2 ? 0xffe00000 : 0xfffff000;
    this.wPa = ((dlo & oaMask) >>> 0) + (dhi & 0xff) * TWO32;
    this.wVa = va - (va % size);
    this.wSize = size;
    this.wGlobal = (dlo & (1 << 11)) === 0;
    this.wAttrIndx = (dlo >>> 2) & 7;
    this.wNs = (dlo >>> 5) & 1;
    this.wSh = (dlo >>> 8) & 3;
    // AP[2:1] = descriptor bits [7:6]: bit 6 unprivileged access, bit 7 read-only
    const ro = (dlo & (1 << 7)) !== 0 || noWrite;
    const unpriv = (dlo & (1 << 6)) !== 0 && !noUnpriv;
    const xn = (dhi & (1 << 22)) !== 0 || xnT;
    const pxn = (dhi & (1 << 21)) !== 0 || pxnT;
    let p = P_PR;
    if (!ro) p |= P_PW;
    if (unpriv) {
      p |= P_UR;
      if (!ro) p |= P_UW;
    }
    // instruction fetches need read permission at that privilege; XN forbids both,
    // PXN only privileged fetches. SCTLR.WXN: writable => XN; UWXN: PL0-writable => PXN.
    let px = !xn && !pxn;
    let ux = !xn && unpriv;
    if ((sctlr & R.SCTLR_WXN) !== 0 && !ro) {
      px = false;
      ux = false;
    }
    if ((sctlr & R.SCTLR_UWXN) !== 0 && unpriv && !ro) px = false;
    if (px) p |= P_PX;
    if (ux) p |= P_UX;
    this.wPerms = p;
    return 0;
  }

  private tlbInsert(cb: number, asid: number, va: number): void {
    const page = Math.floor(va / 4096);
    const s = (page ^ (page >>> 7) ^ (cb * 0x9e5)) & (this.tlbSets - 1);
    const set = s * this.tlbWays;
    let w = -1;
    for (let i = set; i < set + this.tlbWays; i++) {
      if (this.tValid[i] === 0) {
        w = i;
        break;
      }
    }
    if (w < 0) {
      w = set + this.tNext[s]!;
      this.tNext[s] = (this.tNext[s]! + 1) % this.tlbWays;
    }
    this.tSetGen[s]!++;
    this.lastInsert = w;
    this.tValid[w] = 1;
    this.tCb[w] = cb;
    this.tAsid[w] = asid;
    this.tVa[w] = this.wVa;
    this.tSize[w] = this.wSize;
    this.tPa[w] = this.wPa;
    this.tPerms[w] = this.wPerms;
    this.tLevel[w] = this.rLevel;
  }

  // =====================================================================================
  // Faults and interrupts
  // =====================================================================================

  private syndromeAttrs(attrs: Attrs, wnr: number, pnu: number, ind: number, nsattr: number, nsstate: number): number {
    let s = 0;
    if ((attrs & ATTR_WRITE) !== 0) s |= wnr;
    if ((attrs & ATTR_PRIV) === 0) s |= pnu;
    if ((attrs & ATTR_INSTR) !== 0) s |= ind;
    if ((attrs & ATTR_NS) !== 0) s |= nsattr | nsstate;
    return s;
  }

  private log(rec: SmmuFaultRecord): void {
    if (this.faultLog.length < MAX_FAULT_RECORDS) this.faultLog.push(rec);
    else this.faultsDropped++;
    const tr = this.tracer;
    if (tr !== null && tr.enabled) {
      tr.emit(this.name, 'smmu-fault', { scope: rec.scope, type: rec.type, sid: rec.streamId, va: rec.va, cb: rec.cb, level: rec.level, multi: rec.multi ? 1 : 0 });
    }
  }

  /**
   * Record a context fault (rCb, rFsr, rLevel). Per the architecture a fault that finds FSR
   * already holding a fault only sets MULTI (FAR/FSYNR0 keep the first fault's syndrome).
   * Stall (SCTLR.CFCFG=1): FSR.SS is set; the master has already been answered with an
   * error (see docs: a synchronous master cannot be held), RESUME clears SS.
   */
  private recordContextFault(va: number, attrs0: Attrs): void {
    const cb = this.rCb;
    const attrs = this.rAttrs;
    this.stats.contextFaults++;
    const f = this.fsr[cb]!;
    const multi = (f & (R.FSR_FAULTS | R.FSR_SS)) !== 0;
    if (multi) {
      this.fsr[cb] = f | R.FSR_MULTI;
    } else {
      let nf = f | this.rFsr;
      if ((this.sctlr[cb]! & R.SCTLR_CFCFG) !== 0) nf |= R.FSR_SS;
      this.fsr[cb] = nf;
      this.far[cb] = va;
      this.fsynr0[cb] =
        (this.rLevel & 3) |
        this.syndromeAttrs(attrs, R.FSYNR0_WNR, R.FSYNR0_PNU, R.FSYNR0_IND, R.FSYNR0_NSATTR, R.FSYNR0_NSSTATE) |
        (this.rPtw ? R.FSYNR0_PTWF : 0);
    }
    const type: SmmuFaultType =
      this.rFsr === R.FSR_TF ? 'translation' : this.rFsr === R.FSR_AFF ? 'access-flag' : this.rFsr === R.FSR_PF ? 'permission' : 'external';
    this.log({ time: this.now(), streamId: (attrs0 >>> 16) & 0x7fff, va, attrs: attrs0, type, scope: 'context', cb, level: this.rLevel, multi });
    this.updateIrqs();
  }

  private recordGlobalFault(va: number, attrs0: Attrs): void {
    const attrs = this.rAttrs;
    this.stats.globalFaults++;
    const bit = this.rGfsr;
    const multi = (this.gfsr & 0xff) !== 0;
    if (multi) {
      this.gfsr |= R.GFSR_MULTI;
    } else {
      this.gfsr |= bit;
      this.gfar = va;
      this.gfsynr0 = this.syndromeAttrs(attrs, R.GFSYNR0_WNR, R.GFSYNR0_PNU, R.GFSYNR0_IND, R.GFSYNR0_NSATTR, R.GFSYNR0_NSSTATE);
      this.gfsynr1 = (attrs0 >>> 16) & 0x7fff;
    }
    const type: SmmuFaultType =
      bit === R.GFSR_USF
        ? (this.rCb === -1 && this.isS2crFault(attrs0) ? 's2cr-fault' : 'unidentified-stream')
        : bit === R.GFSR_SMCF
          ? 'stream-match-conflict'
          : bit === R.GFSR_UCBF
            ? 'unimplemented-context-bank'
            : 'invalid-context';
    this.log({ time: this.now(), streamId: (attrs0 >>> 16) & 0x7fff, va, attrs: attrs0, type, scope: 'global', cb: this.rCb, level: 0, multi });
    this.updateIrqs();
  }

  private isS2crFault(attrs: Attrs): boolean {
    const m = this.sidMap[(attrs >>> 16) & 0x7fff]!;
    return m >= 0 && ((this.s2cr[m]! >>> R.S2CR_TYPE_SHIFT) & 3) >= R.S2CR_TYPE_FAULT;
  }

  /**
   * Interrupt levels. A context interrupt line (CBAR.IRPTNDX) is asserted while any context
   * bank routed to it has SCTLR.CFIE and an outstanding fault in FSR (fault bits, SS or
   * MULTI): level-sensitive, held until software clears FSR by writing the value back
   * (as the Linux handler does). The global line (first global interrupt) is asserted
   * while sGFSR holds a fault enabled by sCR0.GFIE (non-configuration faults) or
   * GCFGFIE (configuration faults: ICF, SMCF, UCBF, UCIF), or MULTI with either.
   * An IRPTNDX beyond the implemented lines records an UCIF global fault.
   */
  private updateIrqs(): void {
    const ctx = this.cfg.contextIrqs;
    // compute levels without allocating: one pass per line (few lines)
    for (let line = 0; line < ctx.length; line++) {
      let lvl = false;
      for (let cb = 0; cb < this.numCb; cb++) {
        if (((this.cbar[cb]! >>> R.CBAR_IRPTNDX_SHIFT) & 0xff) !== line) continue;
        if ((this.sctlr[cb]! & R.SCTLR_CFIE) !== 0 && (this.fsr[cb]! & R.FSR_ALL) !== 0) lvl = true;
      }
      ctx[line]!.set(lvl);
    }
    for (let cb = 0; cb < this.numCb; cb++) {
      const ndx = (this.cbar[cb]! >>> R.CBAR_IRPTNDX_SHIFT) & 0xff;
      if (ndx >= ctx.length && (this.sctlr[cb]! & R.SCTLR_CFIE) !== 0 && (this.fsr[cb]! & R.FSR_ALL) !== 0 && (this.gfsr & R.GFSR_UCIF) === 0) {
        if ((this.gfsr & 0xff) !== 0) this.gfsr |= R.GFSR_MULTI;
        else this.gfsr |= R.GFSR_UCIF;
      }
    }
    const g = this.cfg.globalIrqs[0];
    if (g !== undefined) {
      const s = this.scr0;
      let lvl = false;
      if ((s & R.SCR0_GFIE) !== 0 && (this.gfsr & ~R.GFSR_CONFIG & 0xff) !== 0) lvl = true;
      if ((s & R.SCR0_GCFGFIE) !== 0 && (this.gfsr & R.GFSR_CONFIG) !== 0) lvl = true;
      if ((s & (R.SCR0_GFIE | R.SCR0_GCFGFIE)) !== 0 && (this.gfsr & R.GFSR_MULTI) !== 0) lvl = true;
      g.set(lvl);
    }
  }

  // =====================================================================================
  // TLB maintenance
  // =====================================================================================

  private queue(op: number, cb: number, asid: number, va: number): void {
    // An invalidation may architecturally complete at any time before its sync; to bound
    // memory when software never syncs, a long queue is completed early (oldest first).
    if (this.pending.length >= 4 * MAX_PENDING_TLBI) this.sync(-1);
    this.pending.push(op, cb, asid, va);
  }

  /** Apply pending invalidations (all, or only those issued to context bank `onlyCb`). */
  private sync(onlyCb: number): void {
    this.tlbGen++;
    this.qValid = false;
    const p = this.pending;
    const keep: number[] = [];
    for (let i = 0; i < p.length; i += 4) {
      const op = p[i]!;
      const cb = p[i + 1]!;
      if (onlyCb >= 0 && (op === OP_ALL || op === OP_VMID || cb !== onlyCb)) {
        keep.push(op, cb, p[i + 2]!, p[i + 3]!);
        continue;
      }
      this.invalidate(op, cb, p[i + 2]!, p[i + 3]!);
    }
    this.pending = keep;
  }

  private invalidate(op: number, cb: number, asid: number, va: number): void {
    const n = this.tValid.length;
    for (let w = 0; w < n; w++) {
      if (this.tValid[w] === 0) continue;
      let kill = false;
      const tcb = this.tCb[w]!;
      switch (op) {
        case OP_ALL:
          kill = true;
          break;
        case OP_CB_ALL:
          kill = tcb === cb;
          break;
        case OP_CB_ASID:
          // by ASID: non-global entries of that ASID only
          kill = tcb === cb && this.tAsid[w] === asid;
          break;
        case OP_CB_VA: {
          const base = this.tVa[w]!;
          const ta = this.tAsid[w]!;
          kill = tcb === cb && (ta === -1 || ta === asid) && va >= base && va < base + this.tSize[w]!;
          break;
        }
        case OP_CB_VAA: {
          const base = this.tVa[w]!;
          kill = tcb === cb && va >= base && va < base + this.tSize[w]!;
          break;
        }
        case OP_VMID:
          kill = (this.cbar[tcb]! & 0xff) === asid;
          break;
      }
      if (kill) this.tValid[w] = 0;
    }
  }

  // =====================================================================================
  // MMIO
  // =====================================================================================

  read(offset: number, _size: number, _attrs: Attrs): number {
    const page = offset >>> 12;
    const off = offset & 0xfff;
    if (page === 0) return this.readGr0(off) >>> 0;
    if (page === 1) return this.readGr1(off) >>> 0;
    if (page < this.globalPages) return 0;
    const cb = page - this.globalPages;
    if (cb < this.numCb) return this.readCb(cb, off) >>> 0;
    return 0; // unimplemented context bank pages: RAZ/WI
  }

  write(offset: number, _size: number, value: number, _attrs: Attrs): number {
    const page = offset >>> 12;
    const off = offset & 0xfff;
    value >>>= 0;
    this.qValid = false;
    this.tlbGen++;
    if (page === 0) this.writeGr0(off, value);
    else if (page === 1) this.writeGr1(off, value);
    else if (page >= this.globalPages) {
      const cb = page - this.globalPages;
      if (cb < this.numCb) this.writeCb(cb, off, value);
    }
    return BUS_OK;
  }

  private idr0(): number {
    return (
      R.SIDR0_S1TS |
      R.SIDR0_SMS |
      ((this.cfg.contextIrqs.length & 0xff) << R.SIDR0_NUMIRPT_SHIFT) |
      // CTTW: the model has no caches, table walks always see what the CPU wrote
      R.SIDR0_CTTW |
      (15 << R.SIDR0_NUMSIDB_SHIFT) |
      (this.numSmrs & 0xff)
    );
  }

  private idr1(): number {
    // PAGESIZE=0 (4 KiB); NUMPAGENDXB: global space has 2^(NUMPAGENDXB+1) pages
    const ndxb = Math.max(0, Math.log2(this.globalPages) - 1);
    return ((ndxb & 7) << R.SIDR1_NUMPAGENDXB_SHIFT) | (0 << R.SIDR1_NUMS2CB_SHIFT) | (this.numCb & 0xff);
  }

  private idr2(): number {
    return sizeEnc(this.cfg.ias) | (sizeEnc(this.cfg.oas) << R.SIDR2_OAS_SHIFT);
  }

  private readGr0(off: number): number {
    switch (off) {
      case R.GR0_SCR0: return this.scr0;
      case R.GR0_SIDR0: return this.idr0();
      case R.GR0_SIDR1: return this.idr1();
      case R.GR0_SIDR2: return this.idr2();
      case R.GR0_SGFAR_LO: return this.gfar % TWO32;
      case R.GR0_SGFAR_HI: return Math.floor(this.gfar / TWO32);
      case R.GR0_SGFSR: return this.gfsr;
      case R.GR0_SGFSYNR0: return this.gfsynr0;
      case R.GR0_SGFSYNR1: return this.gfsynr1;
      case R.GR0_STLBGSTATUS: return this.now() < this.gsyncDoneAt ? 1 : 0;
      // Peripheral ID (MMU-400-like): PIDR2.ARCHITECTURE [7:4] = 0 -> SMMUv1 for the driver
      case 0xfe0: return 0x81;
      case 0xfe4: return 0xb4;
      case 0xfe8: return 0x0b;
      case 0xfec: return 0x00;
      case 0xfd0: return 0x04;
      case 0xff0: return 0x0d;
      case 0xff4: return 0xf0;
      case 0xff8: return 0x05;
      case 0xffc: return 0xb1;
    }
    if (off >= R.GR0_SMR && off < R.GR0_SMR + 4 * this.numSmrs) return this.smr[(off - R.GR0_SMR) >>> 2]!;
    if (off >= R.GR0_S2CR && off < R.GR0_S2CR + 4 * this.numSmrs) return this.s2cr[(off - R.GR0_S2CR) >>> 2]!;
    return 0;
  }

  private writeGr0(off: number, v: number): void {
    switch (off) {
      case R.GR0_SCR0:
        this.scr0 = v & R.SCR0_WRITABLE;
        this.updateIrqs();
        return;
      case R.GR0_SGFSR:
        this.gfsr = (this.gfsr & ~(v & R.GFSR_ALL)) >>> 0; // write 1 to clear
        this.updateIrqs();
        return;
      case R.GR0_SGFSRRESTORE:
        this.gfsr = v & R.GFSR_ALL;
        this.updateIrqs();
        return;
      case R.GR0_STLBIALL:
      case R.GR0_TLBIALLNSNH:
        // every context here is non-secure, non-hypervisor: both invalidate everything
        this.queue(OP_ALL, -1, 0, 0);
        return;
      case R.GR0_TLBIVMID:
        this.queue(OP_VMID, -1, v & 0xff, 0);
        return;
      case R.GR0_TLBIALLH:
        return; // no hypervisor entries are ever cached
      case R.GR0_STLBGSYNC:
        // Choice: the global sync completes every outstanding invalidation, including those
        // issued through a context bank (the 2014 driver follows TLBIASID by sTLBGSYNC).
        this.sync(-1);
        this.gsyncDoneAt = this.now() + this.syncNs;
        return;
    }
    if (off >= R.GR0_SMR && off < R.GR0_SMR + 4 * this.numSmrs) {
      this.smr[(off - R.GR0_SMR) >>> 2] = v & (R.SMR_VALID | (R.SMR_ID_MASK << R.SMR_MASK_SHIFT) | R.SMR_ID_MASK);
      this.sidMap.fill(-2);
      return;
    }
    if (off >= R.GR0_S2CR && off < R.GR0_S2CR + 4 * this.numSmrs) {
      this.s2cr[(off - R.GR0_S2CR) >>> 2] = v & 0x0fff_ffff;
      return;
    }
    // read-only (sIDRn, sGFAR, sGFSYNRn, sTLBGSTATUS, IDs) and reserved: write ignored
  }

  private readGr1(off: number): number {
    if (off < 4 * this.numCb) return this.cbar[off >>> 2]!;
    return 0;
  }

  private writeGr1(off: number, v: number): void {
    if (off < 4 * this.numCb) {
      this.cbar[off >>> 2] = v;
      this.updateIrqs();
    }
  }

  private readCb(cb: number, off: number): number {
    switch (off) {
      case R.CB_SCTLR: return this.sctlr[cb]!;
      case R.CB_TTBCR2: return this.ttbcr2[cb]!;
      case R.CB_TTBR0_LO: return this.ttbr0Lo[cb]!;
      case R.CB_TTBR0_HI: return this.ttbr0Hi[cb]!;
      case R.CB_TTBR1_LO: return this.ttbr1Lo[cb]!;
      case R.CB_TTBR1_HI: return this.ttbr1Hi[cb]!;
      case R.CB_TTBCR: return this.ttbcr[cb]!;
      case R.CB_CONTEXTIDR: return this.contextidr[cb]!;
      case R.CB_MAIR0: return this.mair0[cb]!;
      case R.CB_MAIR1: return this.mair1[cb]!;
      case R.CB_PAR_LO: return this.parLo[cb]!;
      case R.CB_PAR_HI: return this.parHi[cb]!;
      case R.CB_FSR: return this.fsr[cb]!;
      case R.CB_FAR_LO: return this.far[cb]! % TWO32;
      case R.CB_FAR_HI: return Math.floor(this.far[cb]! / TWO32);
      case R.CB_FSYNR0: return this.fsynr0[cb]!;
      case R.CB_TLBSTATUS: return this.now() < this.syncDoneAt[cb]! ? 1 : 0;
      case R.CB_ATSR: return 0; // ATS operations complete immediately
    }
    return 0;
  }

  private writeCb(cb: number, off: number, v: number): void {
    switch (off) {
      case R.CB_SCTLR:
        this.sctlr[cb] = v & 0x001f_ffff;
        this.updateIrqs();
        return;
      case R.CB_RESUME:
        // RESUME: ends a stalled transaction. The master was already answered (terminate);
        // retry (TnR=0) cannot re-issue it, so both values just clear SS.
        this.fsr[cb] = this.fsr[cb]! & ~R.FSR_SS;
        this.updateIrqs();
        return;
      case R.CB_TTBCR2: this.ttbcr2[cb] = v; return;
      case R.CB_TTBR0_LO: this.ttbr0Lo[cb] = v; return;
      case R.CB_TTBR0_HI: this.ttbr0Hi[cb] = v; return;
      case R.CB_TTBR1_LO: this.ttbr1Lo[cb] = v; return;
      case R.CB_TTBR1_HI: this.ttbr1Hi[cb] = v; return;
      case R.CB_TTBCR: this.ttbcr[cb] = v; return;
      case R.CB_CONTEXTIDR: this.contextidr[cb] = v; return;
      case R.CB_MAIR0: this.mair0[cb] = v; return;
      case R.CB_MAIR1: this.mair1[cb] = v; return;
      case R.CB_FSR:
        // write 1 to clear; SS is cleared by RESUME, not by FSR (architecture)
        this.fsr[cb] = (this.fsr[cb]! & ~(v & (R.FSR_FAULTS | R.FSR_MULTI))) >>> 0;
        this.updateIrqs();
        return;
      case R.CB_FSRRESTORE:
        this.fsr[cb] = v & R.FSR_ALL;
        this.updateIrqs();
        return;
      case R.CB_TLBIVA:
      case R.CB_TLBIVAL:
        // 32-bit format: VA[31:12] in [31:12], ASID in [7:0]
        this.queue(OP_CB_VA, cb, v & 0xff, (v & 0xfffff000) >>> 0);
        return;
      case R.CB_TLBIVAA:
      case R.CB_TLBIVAAL:
        this.queue(OP_CB_VAA, cb, 0, (v & 0xfffff000) >>> 0);
        return;
      case R.CB_TLBIASID:
        this.queue(OP_CB_ASID, cb, v & 0xff, 0);
        return;
      case R.CB_TLBIALL:
        this.queue(OP_CB_ALL, cb, 0, 0);
        return;
      case R.CB_TLBSYNC:
        this.sync(cb);
        this.syncDoneAt[cb] = this.now() + this.syncNs;
        return;
      case R.CB_ATS1PR:
      case R.CB_ATS1PW:
      case R.CB_ATS1UR:
      case R.CB_ATS1UW:
        this.ats(cb, off, (v & 0xfffff000) >>> 0);
        return;
    }
    // read-only (FSR-related syndrome, FAR, PAR, TLBSTATUS, ATSR) and reserved: ignored
  }

  /**
   * Address translation operation: stage-1 walk of `va` in context bank cb (TLB consulted,
   * not filled; no fault recorded in FSR). PAR (64-bit, LPAE format): success F=0,
   * SH [8:7], NS [9], PA[39:12], ATTR (MAIR byte) [63:56]; fault F=1 with the FSR-style
   * fault bit in [6:1] and PLVL in PAR[33:32] (choice; SMMUv1 reports the fault in PAR only).
   */
  private ats(cb: number, off: number, va: number): void {
    let attrs = ATTR_NS;
    if (off === R.CB_ATS1PR || off === R.CB_ATS1PW) attrs |= ATTR_PRIV;
    if (off === R.CB_ATS1PW || off === R.CB_ATS1UW) attrs |= ATTR_WRITE;
    this.rCost = 0;
    this.rLevel = 0;
    this.rPtw = false;
    this.rCb = cb;
    this.wAttrIndx = 0;
    this.wSh = 0;
    this.wNs = 0;
    const k = this.translateContext(cb, va, attrs, false, false);
    if (k === K_TRANSLATED || k === K_BYPASS) {
      const pa = this.rPa - (this.rPa % 4096);
      const idx = this.wAttrIndx;
      const mair = idx < 4 ? this.mair0[cb]! : this.mair1[cb]!;
      const attr = (mair >>> ((idx & 3) * 8)) & 0xff;
      this.parLo[cb] = ((pa % TWO32) | (this.wSh << 7) | (this.wNs << 9)) >>> 0;
      this.parHi[cb] = ((Math.floor(pa / TWO32) & 0xff) | (attr << 24)) >>> 0;
    } else if (k === K_CTX_FAULT) {
      this.parLo[cb] = 1 | this.rFsr;
      this.parHi[cb] = this.rLevel & 3;
    } else {
      this.parLo[cb] = 1;
      this.parHi[cb] = 0;
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
    const k = this.resolve(va, a, opts.useTlb ?? false, false);
    if (k === K_TRANSLATED || k === K_BYPASS) {
      return { ok: true, pa: this.rPa, extent: this.rExtent, bypass: k === K_BYPASS, cb: this.rCb, level: this.rLevel };
    }
    if (k === K_CTX_FAULT) {
      const f = this.rFsr;
      const fault: SmmuFaultType = f === R.FSR_TF ? 'translation' : f === R.FSR_AFF ? 'access-flag' : f === R.FSR_PF ? 'permission' : 'external';
      return { ok: false, fault, cb: this.rCb, level: this.rLevel };
    }
    const g = this.rGfsr;
    const fault: SmmuFaultType =
      g === R.GFSR_USF ? (this.isS2crFault(a) ? 's2cr-fault' : 'unidentified-stream')
        : g === R.GFSR_SMCF ? 'stream-match-conflict' : g === R.GFSR_UCBF ? 'unimplemented-context-bank' : 'invalid-context';
    return { ok: false, fault, cb: this.rCb, level: 0 };
  }

  dumpTlb(): SmmuTlbEntry[] {
    const out: SmmuTlbEntry[] = [];
    for (let w = 0; w < this.tValid.length; w++) {
      if (this.tValid[w] === 0) continue;
      const p = this.tPerms[w]!;
      const perms =
        (p & P_PR ? 'r' : '-') + (p & P_PW ? 'w' : '-') + (p & P_PX ? 'x' : '-') + '/' +
        (p & P_UR ? 'r' : '-') + (p & P_UW ? 'w' : '-') + (p & P_UX ? 'x' : '-');
      out.push({ cb: this.tCb[w]!, asid: this.tAsid[w]!, va: this.tVa[w]!, size: this.tSize[w]!, pa: this.tPa[w]!, level: this.tLevel[w]!, perms });
    }
    return out;
  }

  faults(): readonly SmmuFaultRecord[] {
    return this.faultLog;
  }

  clearFaultLog(): void {
    this.faultLog.length = 0;
    this.faultsDropped = 0;
  }

  /** number of TLB maintenance operations waiting for a sync */
  get pendingInvalidations(): number {
    return this.pending.length / 4;
  }
}

function bswap32(x: number): number {
  return (((x & 0xff) << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | (x >>> 24)) >>> 0;
}
