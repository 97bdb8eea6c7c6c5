/**
 * Accelerator: TranslationStage.translateCopyRun (emulator/master.ts), the translate() calls
 * of a copy loop R0 W0 R1 W1 ... performed in one allocation-free call with exactly their
 * effects, and the host-side caches it keeps for that: per-side page memos, the context of
 * each side, a walk cache of the path to the last level-3 table and a memo of the last
 * level-3 leaf decode. Nothing here is architectural state; see docs/SMMU.md ("Reference
 * model and accelerators") for why every result equals the reference translate() calls.
 */
import { ATTR_INSTR, ATTR_PRIV, ATTR_WRITE, type Attrs } from '../../../emulator/attrs.js';
import { BUS_DECODE_ERROR, BUS_OK, type RamRegion } from '../../../emulator/bus.js';
import type { CopyRun } from '../../../emulator/master.js';
import { RAM_CHUNK_MASK, RAM_CHUNK_SHIFT, ZERO_CHUNK } from '../../../emulator/ram.js';
import * as R from '../regs.js';
import { CBS } from '../regs.js';
import type { Smmu } from '../smmu.js';
import { K_BYPASS, K_TRANSLATED, TWO32 } from '../types.js';
import { bswap32, decodeLeaf, permBitFor, type DescriptorReader } from '../walk.js';
import type { QuietPath } from './quiet.js';

/**
 * What the guarded reader answers for a descriptor the run must not read now: the walk ends
 * (as an external abort, never committed: the run stops before that access).
 */
const STOP = BUS_DECODE_ERROR;

/** whether this host stores a Uint32Array little-endian (bulkGroups reads descriptors as words) */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

export class CopyRunner {
  // ---- walk cache, one entry per side (0 read, 1 write): the path to the level-3 table of
  // one 2 MiB region ----
  private readonly wcValid = new Uint8Array(2); // 0 invalid, 1 valid in this run, 2 from an earlier run (revalidate)
  private readonly wcRegion = new Float64Array(2);
  private readonly wcCb = new Int32Array(2);
  private readonly wcTable = new Float64Array(2);
  /** walk.RESTR_* of the path */
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
  // ---- per side, the context of a translated lookup (constant during a run: no register
  // changes) when TTBR selection does not depend on the address (T0SZ = T1SZ = 0) ----
  private readonly fcOk = new Uint8Array(2);
  private fcGen = -1;
  private readonly fcCb = new Int32Array(2);
  private readonly fcAsid = new Int32Array(2);
  private readonly fcPerm = new Int32Array(2);
  private readonly fcSctlr = new Uint32Array(2);
  private readonly fcAttrs = new Float64Array(2).fill(-1);
  // ---- the committed miss (fastMiss): per side, the last level-3 leaf decode (key: AF, nG,
  // AP[2:1], XN, PXN bits; -1 none) ----
  private readonly lmKey = new Int32Array(2).fill(-1);
  private readonly lmRestr = new Int32Array(2);
  private readonly lmSctlr = new Float64Array(2);
  private readonly lmPerms = new Int32Array(2);
  private readonly lmGlobal = new Uint8Array(2);
  /** RAM region of the last output page checked by fastMiss */
  private fmRam: RamRegion | null = null;
  /** fastMiss's descriptor chunks per side (page-store chunk index dcKey of region dcRg; reset per run) */
  private dcRg: RamRegion | null = null;
  private readonly dcKey = new Float64Array(2).fill(-1);
  private readonly dcChunk: Uint8Array[] = [ZERO_CHUNK, ZERO_CHUNK];
  /** out of fastMiss: output page address and cost of the committed lookup */
  private fmPa = 0;
  private fmCost = 0;
  /** out of pairRun: the lookups' summed cost, and per side the memo of the last access (slot, set generation) */
  private prCost = 0;
  private readonly prSlot = new Int32Array(2);
  private readonly prGen = new Float64Array(2);
  // ---- bulkGroups: per side the level-3 table page as words (view of the page-store chunk
  // bvChunk at offset bvOff); per TLB set the insertions deferred in the current segment ----
  private readonly bvChunk: (Uint8Array | null)[] = [null, null];
  private readonly bvOff = new Int32Array(2);
  private readonly bvView: Uint32Array[] = [new Uint32Array(0), new Uint32Array(0)];
  private bgCnt = new Int32Array(0);
  private bgPlaced = new Int32Array(0);
  private bgTouched = new Int32Array(0);
  /** out of bulkGroups: the summed cost (cost in + the groups') and the written-pages count */
  private bgCost = 0;
  private bgNw = 0;
  // ---- guarded descriptor reads ----
  private gRegion: RamRegion | null = null;
  /** 4 KiB PA page numbers written by the run so far (before the current access) */
  private gWritten = new Float64Array(64);
  private gNw = 0;
  /** per walk level: table page checked against gWritten[0..gChecked) */
  private readonly gTab = new Float64Array(4).fill(-1);
  private readonly gChecked = new Int32Array(4);
  private readonly d64 = new Uint32Array(2);
  /** the walker's reader during a run: RAM only, never a page this run wrote before */
  private readonly reader: DescriptorReader = { read64: (pa, level, out) => (this.gRead(pa, level, out) ? BUS_OK : STOP) };

  constructor(private readonly s: Smmu, private readonly quiet: QuietPath) {}

  /** Guarded descriptor read: false = stop the run before this access. */
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
      r = this.s.bus.ramAt(da, 8);
      if (r === null) return false; // a table outside RAM: the step path reads it at its time
      this.gRegion = r;
    }
    r.read64(da - r.base, d);
    return true;
  }

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

  /** Keep the table path of the walk just made (Smmu.wr) for `side`: the level-3 table of va's 2 MiB region. */
  private wcRecord(side: number, va: number, cb: number): void {
    const wr = this.s.wr;
    this.wcValid[side] = 1;
    this.wcRegion[side] = Math.floor(va / 0x200000);
    this.wcCb[side] = cb;
    this.wcTable[side] = wr.table3;
    this.wcRestr[side] = wr.restr3;
    this.wcFetches[side] = wr.fetches3;
    this.wcPg1[side] = Math.floor((wr.a1 >= 0 ? wr.a1 : wr.a2) / 4096);
    this.wcPg2[side] = Math.floor(wr.a2 / 4096);
    this.wcChecked[side] = this.gNw;
    this.wcA1[side] = wr.a1;
    this.wcA2[side] = wr.a2;
    for (let j = 0; j < 4; j++) this.wcV[4 * side + j] = wr.v[j]!;
  }

  private fcLearn(side: number, attrs0: Attrs): void {
    const s = this.s;
    const cb = s.res.cb;
    const o = cb * s.cbSlots;
    const ttbcr = s.c[o + CBS.TTBCR]!;
    if ((ttbcr & R.TTBCR_T0SZ_MASK) !== 0 || ((ttbcr >>> R.TTBCR_T1SZ_SHIFT) & 7) !== 0) return;
    const attrs = s.res.attrs;
    this.fcOk[side] = 1;
    this.fcAttrs[side] = attrs0;
    this.fcCb[side] = cb;
    this.fcAsid[side] = (((ttbcr & R.TTBCR_A1) !== 0 ? s.c[o + CBS.TTBR1_HI]! : s.c[o + CBS.TTBR0_HI]!) >>> 16) & 0xff;
    this.fcPerm[side] = permBitFor((attrs & ATTR_PRIV) !== 0, (attrs & ATTR_WRITE) !== 0, (attrs & ATTR_INSTR) !== 0);
    this.fcSctlr[side] = s.c[o + CBS.SCTLR]!;
  }

  /**
   * The lookup for a side whose context is known (fcLearn): the TLB scan of
   * Smmu.translateContext, and on a miss in a 2 MiB region whose level-3 table the walk
   * cache holds, the level-3 descriptor read and decoded as the walker does (the level-1/2
   * fetches still count and cost as in a full walk). Fills Smmu.res/wr like resolve(fill =
   * false). Returns K_TRANSLATED, -1 (a fault: stop the run) or -2 (use resolve()).
   */
  private fastLookup(side: number, va: number): number {
    if (!(va < TWO32)) return -2;
    const s = this.s;
    const r = s.res;
    const tlb = s.tlb;
    const cb = this.fcCb[side]!;
    const asid = this.fcAsid[side]!;
    const permBit = this.fcPerm[side]!;
    r.cb = cb;
    r.cost = s.hitNs;
    const w = tlb.lookup(cb, asid, va);
    if (w >= 0) {
      if ((tlb.perms[w]! & permBit) === 0) return -1;
      const base = tlb.va[w]!;
      r.pa = tlb.pa[w]! + (va - base);
      r.extent = base + tlb.size[w]! - va;
      r.hitSlot = w;
      r.walked = false;
      return K_TRANSLATED;
    }
    const page = Math.floor(va / 4096);
    const region = Math.floor(va / 0x200000);
    if (this.wcValid[side] === 0 || this.wcRegion[side] !== region || this.wcCb[side] !== cb) return -2;
    if (this.wcValid[side] === 2 && !this.wcRevalidate(side)) return -2;
    const tab = this.wcTable[side]!;
    const da = tab + (page & 511) * 8;
    // written pages since the last check: the level-1/2 table pages (the cached path is
    // stale: let resolve() walk and stop) or the level-3 table page (stop before the walk)
    const wrt = this.gWritten;
    const p1 = this.wcPg1[side]!;
    const p2 = this.wcPg2[side]!;
    const p3 = Math.floor(tab / 4096);
    for (let i = this.wcChecked[side]!; i < this.gNw; i++) {
      const x = wrt[i]!;
      if (x === p3) return -1;
      if (x === p1 || x === p2) return -2;
    }
    this.wcChecked[side] = this.gNw;
    const d = this.d64;
    const rg = this.gRegion;
    if (rg !== null && da >= rg.base && da + 8 <= rg.base + rg.size) {
      rg.read64(da - rg.base, d);
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
    const wr = s.wr;
    if (decodeLeaf(3, 12, va, dlo, dhi, sctlr, this.wcRestr[side]!, wr) !== 0) return -1;
    if ((wr.perms & permBit) === 0) return -1;
    const fetches = this.wcFetches[side]! + 1;
    r.fetches = fetches;
    r.cost += fetches * s.walkNs;
    r.level = 3;
    r.walked = true;
    r.asid = wr.global ? -1 : asid;
    r.pa = wr.pa + (va - wr.va);
    r.extent = wr.va + wr.size - va;
    return K_TRANSLATED;
  }

  /**
   * The run's common case in one step: a lookup of `va` (< 2^32, integral) for a side whose
   * context is known that misses the TLB in a 2 MiB region whose level-3 table the walk
   * cache holds (valid in this run, or kept from an earlier run and revalidated here as
   * fastLookup would), reads a valid page descriptor straight from RAM
   * (little-endian tables) and translates to a RAM page. Performs exactly what fastLookup +
   * the commit in translateCopyRun do for it (statistics, TLB insertion, walk-cache check
   * mark) and returns the TLB slot; fmPa/fmCost receive the output page and the cost. The
   * level-3 leaf decode is memoised per side on the descriptor bits it depends on (and the
   * restrictions and SCTLR). Returns -2, having changed nothing that fastLookup would not
   * change the same way, for anything else (the general path then decides), and for a
   * lookup that would cost more than `room` ns (the run's time limit).
   */
  private fastMiss(side: number, va: number, page: number, room: number): number {
    const s = this.s;
    const tlb = s.tlb;
    const cb = this.fcCb[side]!;
    const asid = this.fcAsid[side]!;
    const wv = this.wcValid[side]!;
    if (wv === 0 || this.wcRegion[side] !== (va >>> 21) || this.wcCb[side] !== cb) return -2;
    // Tlb.lookup(cb, asid, va) inlined (va an integer < 2^32: page = va >>> 12): a hit
    // goes to the general path
    const tset = (page ^ (page >>> 7) ^ (cb * 0x9e5)) & (tlb.sets - 1);
    const tValid = tlb.valid;
    const tCb = tlb.cb;
    const tAsid = tlb.asid;
    const tVa = tlb.va;
    const tSize = tlb.size;
    const ways = tlb.ways;
    for (let w = tset * ways, e = w + ways; w < e; w++) {
      if (tValid[w] === 0 || tCb[w] !== cb) continue;
      const ta = tAsid[w]!;
      if (ta !== -1 && ta !== asid) continue;
      const base = tVa[w]!;
      if (va >= base && va < base + tSize[w]!) return -2;
    }
    // a walk cache entry of an earlier run: revalidated here exactly as fastLookup would
    // (a TLB miss in the entry's region and bank), so that a run's first miss per side
    // takes this path too
    if (wv === 2 && !this.wcRevalidate(side)) return -2;
    const tab = this.wcTable[side]!;
    const wrt = this.gWritten;
    const p1 = this.wcPg1[side]!;
    const p2 = this.wcPg2[side]!;
    const p3 = Math.floor(tab / 4096);
    const nw = this.gNw;
    for (let i = this.wcChecked[side]!; i < nw; i++) {
      const x = wrt[i]!;
      if (x === p3 || x === p1 || x === p2) return -2;
    }
    this.wcChecked[side] = nw; // (fastLookup would set the same)
    const da = tab + (page & 511) * 8;
    const rg = this.gRegion;
    if (rg === null || !(da >= rg.base && da + 8 <= rg.base + rg.size && (da & 7) === 0)) return -2;
    const sctlr = this.fcSctlr[side]!;
    if ((sctlr & R.SCTLR_E) !== 0) return -2;
    const o = da - rg.base;
    // the descriptor straight from the page-store chunk holding it (the same bytes as
    // rg.read32; chunks do not change during a run: the data is applied after it)
    const ci = o >>> RAM_CHUNK_SHIFT;
    if (this.dcRg !== rg) {
      this.dcRg = rg;
      this.dcKey.fill(-1);
    }
    let c = this.dcChunk[side]!;
    if (this.dcKey[side] !== ci) {
      c = rg.readSpan(o, 8)!;
      this.dcChunk[side] = c;
      this.dcKey[side] = ci;
    }
    const q = o & RAM_CHUNK_MASK;
    const dlo = (c[q]! | (c[q + 1]! << 8) | (c[q + 2]! << 16) | (c[q + 3]! << 24)) >>> 0;
    const dhi = (c[q + 4]! | (c[q + 5]! << 8) | (c[q + 6]! << 16) | (c[q + 7]! << 24)) >>> 0;
    if ((dlo & 3) !== 3) return -2;
    const restr = this.wcRestr[side]!;
    const key = (dlo & 0xcc0) | ((dhi >>> 21) & 3);
    let perms: number;
    let global: boolean;
    if (this.lmKey[side] === key && this.lmRestr[side] === restr && this.lmSctlr[side] === sctlr) {
      perms = this.lmPerms[side]!;
      global = this.lmGlobal[side] === 1;
    } else {
      const wr = s.wr;
      if (decodeLeaf(3, 12, va, dlo, dhi, sctlr, restr, wr) !== 0) return -2;
      perms = wr.perms;
      global = wr.global;
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
      ram = s.bus.ramAt(pa, 4096);
      if (ram === null) return -2;
      this.fmRam = ram;
    }
    // commit (translate(): a miss, a walk of wcFetches + 1 descriptors, a TLB insertion)
    const fetches = this.wcFetches[side]! + 1;
    const mc = s.hitNs + fetches * s.walkNs;
    if (mc > room) return -2;
    const st = s.stats;
    st.translations++;
    st.misses++;
    st.walks++;
    st.descriptorFetches += fetches;
    const w = tlb.insertInSet(tset, cb, global ? -1 : asid, va - (va & 4095), 4096, pa, perms, 3);
    this.fmPa = pa;
    this.fmCost = mc;
    return w;
  }

  /**
   * Page pairs in one loop: from page-aligned sVa/dVa with the burst dividing 4 KiB, each
   * group of n = 4096 / B iterations is one read and one write miss in new pages (both of
   * fastMiss's common case, for both sides checked before either is committed) followed by
   * n - 1 iterations of hits in those pages. Performs exactly what translateCopyRun's pair
   * step (two fastMiss calls) and its hits step do for those iterations, with the walk
   * cache, descriptor chunks, leaf memos and output RAM region in locals; stops before a
   * group any of whose conditions fails (translateCopyRun then continues access by
   * access), and after a group whose write-side insertion replaced the read side's new
   * TLB entry (then only that group's first iteration is done: the read side's later
   * accesses in that page are misses). Returns the iterations done (0: nothing changed);
   * prCost, prSlot and prGen receive the cost and the per-side memo (slot, set generation
   * right after the side's insertion and, for the read side, after the write side's when
   * that did not replace it).
   */
  private pairRun(run: CopyRun, sVa: number, dVa: number, iters: number, done: number, cost0: number, limit: number, iterNs: number,
    sPage0: number, dPage0: number): number {
    const s = this.s;
    const B = run.burst;
    const n = 4096 / B;
    const rg = this.gRegion;
    if (rg === null || this.wcValid[0] !== 1 || this.wcValid[1] !== 1 || this.fcOk[0] !== 1 || this.fcOk[1] !== 1) return 0;
    const sCb = this.fcCb[0]!;
    const dCb = this.fcCb[1]!;
    const sSctlr = this.fcSctlr[0]!;
    const dSctlr = this.fcSctlr[1]!;
    if (this.wcCb[0] !== sCb || this.wcCb[1] !== dCb || (sSctlr & R.SCTLR_E) !== 0 || (dSctlr & R.SCTLR_E) !== 0) return 0;
    const sAsid = this.fcAsid[0]!;
    const dAsid = this.fcAsid[1]!;
    const sPerm = this.fcPerm[0]!;
    const dPerm = this.fcPerm[1]!;
    const sReg = this.wcRegion[0]!;
    const dReg = this.wcRegion[1]!;
    const sTab = this.wcTable[0]!;
    const dTab = this.wcTable[1]!;
    const sRestr = this.wcRestr[0]!;
    const dRestr = this.wcRestr[1]!;
    const sF = this.wcFetches[0]! + 1;
    const dF = this.wcFetches[1]! + 1;
    const s1 = this.wcPg1[0]!;
    const s2 = this.wcPg2[0]!;
    const s3 = Math.floor(sTab / 4096);
    const d1 = this.wcPg1[1]!;
    const d2 = this.wcPg2[1]!;
    const d3 = Math.floor(dTab / 4096);
    // the written pages neither side has checked yet (fastMiss's check)
    const wrt = this.gWritten;
    let nw = this.gNw;
    for (let c = 0; c < 2; c++) {
      const p1 = c === 0 ? s1 : d1;
      const p2 = c === 0 ? s2 : d2;
      const p3 = c === 0 ? s3 : d3;
      for (let i = this.wcChecked[c]!; i < nw; i++) {
        const x = wrt[i]!;
        if (x === p1 || x === p2 || x === p3) return 0;
      }
    }
    this.wcChecked[0] = nw;
    this.wcChecked[1] = nw;
    const hit = s.hitNs;
    const sCost = hit + sF * s.walkNs;
    const dCost = hit + dF * s.walkNs;
    const groupCost = sCost + dCost + (n - 1) * 2 * hit;
    const rgBase = rg.base;
    const rgEnd = rg.base + rg.size;
    if (this.dcRg !== rg) {
      this.dcRg = rg;
      this.dcKey.fill(-1);
    }
    let sKey = this.dcKey[0]!;
    let dKey = this.dcKey[1]!;
    let sChunk = this.dcChunk[0]!;
    let dChunk = this.dcChunk[1]!;
    let sLm = this.lmKey[0]!;
    let dLm = this.lmKey[1]!;
    if (this.lmRestr[0] !== sRestr || this.lmSctlr[0] !== sSctlr) sLm = -1;
    if (this.lmRestr[1] !== dRestr || this.lmSctlr[1] !== dSctlr) dLm = -1;
    let sPerms = this.lmPerms[0]!;
    let dPerms = this.lmPerms[1]!;
    let sGlobal = this.lmGlobal[0] === 1;
    let dGlobal = this.lmGlobal[1] === 1;
    let ram = this.fmRam;
    let ramLo = ram === null ? 1 : ram.base;
    let ramHi = ram === null ? 0 : ram.base + ram.size;
    const tlb = s.tlb;
    const tValid = tlb.valid;
    const tCbA = tlb.cb;
    const tAsidA = tlb.asid;
    const tVa = tlb.va;
    const tSize = tlb.size;
    const setGen = tlb.setGen;
    const ways = tlb.ways;
    const setMask = tlb.sets - 1;
    const sOut = run.srcPa;
    const dOut = run.dstPa;
    let its = 0;
    let cost = 0;
    let groups = 0;
    let ws = -1;
    let wd = -1;
    let sGenOut = 0;
    let dGenOut = 0;
    // bulk groups (bulkGroups) are tried first, again after each group made below
    let bulk = LITTLE_ENDIAN && sLm >= 0 && dLm >= 0;
    while (iters - its >= n) {
      if (bulk) {
        const g = this.bulkGroups(run, sVa, dVa, iters, done, cost0, limit, iterNs, sPage0, dPage0, its, cost, nw, sLm, dLm, sPerms, dPerms,
          sGlobal, dGlobal, ramLo, ramHi, groupCost);
        if (g > 0) {
          its += g * n;
          cost = this.bgCost;
          groups += g;
          nw = this.bgNw;
          ws = this.prSlot[0]!;
          wd = this.prSlot[1]!;
          sGenOut = this.prGen[0]!;
          dGenOut = this.prGen[1]!;
          this.wcChecked[0] = nw;
          this.wcChecked[1] = nw;
          if (iters - its < n) break;
        } else bulk = false;
      }
      if (((done >>> 1) + its + n) * iterNs + cost0 + cost + groupCost > limit) break;
      const va = sVa + its * B;
      const vd = dVa + its * B;
      const sp = va >>> 12;
      const dp = vd >>> 12;
      if (sp === dp || (sp >>> 9) !== sReg || (dp >>> 9) !== dReg) break;
      const si = sp - sPage0;
      const di = dp - dPage0;
      if (si >= sOut.length || di >= dOut.length || nw >= wrt.length) break;
      // both lookups miss the TLB (the read side's insertion, of page sp !== dp, cannot
      // make the write side's lookup hit)
      const sset = (sp ^ (sp >>> 7) ^ (sCb * 0x9e5)) & setMask;
      const dset = (dp ^ (dp >>> 7) ^ (dCb * 0x9e5)) & setMask;
      let hitFound = false;
      for (let w = sset * ways, e = w + ways; w < e; w++) {
        if (tValid[w] === 0 || tCbA[w] !== sCb) continue;
        const ta = tAsidA[w]!;
        if (ta !== -1 && ta !== sAsid) continue;
        const base = tVa[w]!;
        if (va >= base && va < base + tSize[w]!) {
          hitFound = true;
          break;
        }
      }
      if (hitFound) break;
      for (let w = dset * ways, e = w + ways; w < e; w++) {
        if (tValid[w] === 0 || tCbA[w] !== dCb) continue;
        const ta = tAsidA[w]!;
        if (ta !== -1 && ta !== dAsid) continue;
        const base = tVa[w]!;
        if (vd >= base && vd < base + tSize[w]!) {
          hitFound = true;
          break;
        }
      }
      if (hitFound) break;
      // the level-3 descriptors, from the page-store chunks holding them
      const sda = sTab + (sp & 511) * 8;
      const dda = dTab + (dp & 511) * 8;
      if (!(sda >= rgBase && sda + 8 <= rgEnd && (sda & 7) === 0 && dda >= rgBase && dda + 8 <= rgEnd && (dda & 7) === 0)) break;
      const so = sda - rgBase;
      const doff = dda - rgBase;
      if ((so >>> RAM_CHUNK_SHIFT) !== sKey) {
        sKey = so >>> RAM_CHUNK_SHIFT;
        sChunk = rg.readSpan(so, 8)!;
      }
      if ((doff >>> RAM_CHUNK_SHIFT) !== dKey) {
        dKey = doff >>> RAM_CHUNK_SHIFT;
        dChunk = rg.readSpan(doff, 8)!;
      }
      let q = so & RAM_CHUNK_MASK;
      const slo = (sChunk[q]! | (sChunk[q + 1]! << 8) | (sChunk[q + 2]! << 16) | (sChunk[q + 3]! << 24)) >>> 0;
      const shi = (sChunk[q + 4]! | (sChunk[q + 5]! << 8) | (sChunk[q + 6]! << 16) | (sChunk[q + 7]! << 24)) >>> 0;
      q = doff & RAM_CHUNK_MASK;
      const dlo = (dChunk[q]! | (dChunk[q + 1]! << 8) | (dChunk[q + 2]! << 16) | (dChunk[q + 3]! << 24)) >>> 0;
      const dhi = (dChunk[q + 4]! | (dChunk[q + 5]! << 8) | (dChunk[q + 6]! << 16) | (dChunk[q + 7]! << 24)) >>> 0;
      if ((slo & 3) !== 3 || (dlo & 3) !== 3) break;
      // leaf decodes (memoised on the bits they depend on)
      const sk = (slo & 0xcc0) | ((shi >>> 21) & 3);
      if (sk !== sLm) {
        const wr = s.wr;
        if (decodeLeaf(3, 12, va, slo, shi, sSctlr, sRestr, wr) !== 0) break;
        sLm = sk;
        sPerms = wr.perms;
        sGlobal = wr.global;
      }
      const dk = (dlo & 0xcc0) | ((dhi >>> 21) & 3);
      if (dk !== dLm) {
        const wr = s.wr;
        if (decodeLeaf(3, 12, vd, dlo, dhi, dSctlr, dRestr, wr) !== 0) break;
        dLm = dk;
        dPerms = wr.perms;
        dGlobal = wr.global;
      }
      if ((sPerms & sPerm) === 0 || (dPerms & dPerm) === 0) break;
      // output pages in RAM
      const sPa = ((slo & 0xfffff000) >>> 0) + (shi & 0xff) * TWO32;
      const dPa = ((dlo & 0xfffff000) >>> 0) + (dhi & 0xff) * TWO32;
      if (!(sPa >= ramLo && sPa + 4096 <= ramHi)) {
        const r2 = s.bus.ramAt(sPa, 4096);
        if (r2 === null) break;
        ram = r2;
        ramLo = r2.base;
        ramHi = r2.base + r2.size;
      }
      if (!(dPa >= ramLo && dPa + 4096 <= ramHi)) {
        const r2 = s.bus.ramAt(dPa, 4096);
        if (r2 === null) break;
        ram = r2;
        ramLo = r2.base;
        ramHi = r2.base + r2.size;
      }
      // commit: the read miss, the write miss (translate(): a walk and a TLB insertion each)
      ws = tlb.insertInSet(sset, sCb, sGlobal ? -1 : sAsid, va, 4096, sPa, sPerms, 3);
      sGenOut = setGen[sset]!;
      wd = tlb.insertInSet(dset, dCb, dGlobal ? -1 : dAsid, vd, 4096, dPa, dPerms, 3);
      dGenOut = setGen[dset]!;
      sOut[si] = sPa;
      dOut[di] = dPa;
      groups++;
      const ppg = dPa / 4096;
      if (nw === 0 || wrt[nw - 1] !== ppg) wrt[nw++] = ppg;
      if (sset === dset) {
        if (wd === ws) {
          // the read side's new entry was replaced: only this group's first iteration
          cost += sCost + dCost;
          its += 1;
          break;
        }
        // (the write side's entry is of page dp !== sp: the read side's lookup still finds its slot)
        sGenOut = setGen[sset]!;
      }
      cost += groupCost;
      its += n;
      // the page just written must not be a table page of either side's walk cache (else
      // fastMiss's check of it decides, from the next group on)
      if (ppg === s1 || ppg === s2 || ppg === s3 || ppg === d1 || ppg === d2 || ppg === d3) break;
      this.wcChecked[0] = nw;
      this.wcChecked[1] = nw;
      bulk = LITTLE_ENDIAN && sLm >= 0 && dLm >= 0;
    }
    // write back the host-side caches and the statistics
    this.gNw = nw;
    this.dcKey[0] = sKey;
    this.dcKey[1] = dKey;
    this.dcChunk[0] = sChunk;
    this.dcChunk[1] = dChunk;
    if (sLm !== this.lmKey[0]) {
      this.lmKey[0] = sLm;
      this.lmRestr[0] = sRestr;
      this.lmSctlr[0] = sSctlr;
      this.lmPerms[0] = sPerms;
      this.lmGlobal[0] = sGlobal ? 1 : 0;
    }
    if (dLm !== this.lmKey[1]) {
      this.lmKey[1] = dLm;
      this.lmRestr[1] = dRestr;
      this.lmSctlr[1] = dSctlr;
      this.lmPerms[1] = dPerms;
      this.lmGlobal[1] = dGlobal ? 1 : 0;
    }
    this.fmRam = ram;
    if (its === 0) return 0;
    const st = s.stats;
    st.translations += 2 * its;
    st.misses += 2 * groups;
    st.walks += 2 * groups;
    st.descriptorFetches += groups * (sF + dF);
    st.hits += 2 * its - 2 * groups;
    this.prCost = cost;
    this.prSlot[0] = ws;
    this.prSlot[1] = wd;
    this.prGen[0] = sGenOut;
    this.prGen[1] = dGenOut;
    return its;
  }

  /** the level-3 table page at tab (4 KiB aligned, inside gRegion) of `side` as words */
  private tableWords(side: number, tab: number): Uint32Array | null {
    const rg = this.gRegion!;
    if ((tab & 4095) !== 0 || !(tab >= rg.base && tab + 4096 <= rg.base + rg.size)) return null;
    const off = tab - rg.base;
    const chunk = rg.readSpan(off, 4096);
    if (chunk === null) return null;
    const q = off & RAM_CHUNK_MASK;
    if (this.bvChunk[side] !== chunk || this.bvOff[side] !== q) {
      if (((chunk.byteOffset + q) & 3) !== 0) return null;
      this.bvChunk[side] = chunk;
      this.bvOff[side] = q;
      this.bvView[side] = new Uint32Array(chunk.buffer, chunk.byteOffset + q, 1024);
    }
    return this.bvView[side]!;
  }

  /**
   * Bulk page pairs, inside pairRun: from group `its0 / n` on, the groups whose two lookups
   * are misses by construction, with the TLB insertions deferred to the end of the segment.
   *
   * Why every lookup of the segment misses without scanning the TLB: every slot is valid
   * (so each insertion replaces the set's round-robin victim, and a read entry is never
   * replaced by the write insertion of its own group: ways >= 2), no entry present at the
   * start covers a page the segment looks up (checked here for every slot, whatever its set:
   * entries only disappear afterwards), and the segment's source and destination page
   * ranges are disjoint, each side's pages strictly increasing, so no entry inserted by the
   * segment covers a later lookup. Each group's n - 1 further iterations hit the two new
   * entries (nothing is inserted between them).
   *
   * Per group, exactly the conditions of pairRun's loop are checked before anything of it
   * is committed (time limit; valid page descriptors whose leaf-decode memo key is the
   * current one, so perms and nG are the memo's; output pages in RAM; the page written not
   * a table page of the walk caches), and the segment stops before the first group that
   * fails one (pairRun's loop then makes that group).
   *
   * The deferred insertions give the TLB the state the insertInSet calls in order would:
   * a set receiving c insertions from round-robin pointer p0 had its j-th one put in way
   * (p0 + j) mod ways, so only the last min(c, ways) survive, in those ways; the pointer ends
   * at (p0 + c) mod ways, the set generation is c higher and lastInsert is the slot of the
   * last insertion. They are written walking the segment backwards from its last group.
   *
   * Returns the groups done (0: nothing changed); bgCost (cost + the groups'), bgNw, and
   * prSlot/prGen (the last group's slots and their sets' generations, as pairRun's loop
   * leaves them).
   */
  private bulkGroups(run: CopyRun, sVa: number, dVa: number, iters: number, done: number, cost0: number, limit: number, iterNs: number,
    sPage0: number, dPage0: number, its0: number, cost: number, nw: number, sLm: number, dLm: number, sPerms: number, dPerms: number,
    sGlobal: boolean, dGlobal: boolean, ramLo: number, ramHi: number, groupCost: number): number {
    const s = this.s;
    const tlb = s.tlb;
    const B = run.burst;
    const n = 4096 / B;
    if ((sPerms & this.fcPerm[0]!) === 0 || (dPerms & this.fcPerm[1]!) === 0) return 0;
    const sCb = this.fcCb[0]!;
    const dCb = this.fcCb[1]!;
    const sAsid = this.fcAsid[0]!;
    const dAsid = this.fcAsid[1]!;
    const sp0 = (sVa + its0 * B) >>> 12;
    const dp0 = (dVa + its0 * B) >>> 12;
    if ((sp0 >>> 9) !== this.wcRegion[0] || (dp0 >>> 9) !== this.wcRegion[1]) return 0;
    const sOut = run.srcPa;
    const dOut = run.dstPa;
    const wrt = this.gWritten;
    const si0 = sp0 - sPage0;
    const di0 = dp0 - dPage0;
    // caps: iterations, the 2 MiB regions of the walk caches, output arrays, disjoint ranges
    let G = Math.min(Math.floor((iters - its0) / n), 512 - (sp0 & 511), 512 - (dp0 & 511), sOut.length - si0, dOut.length - di0,
      wrt.length - nw, sp0 < dp0 ? dp0 - sp0 : sp0 - dp0);
    if (!(G > 0)) return 0;
    // every slot valid; no entry covering a page the segment looks up
    const tValid = tlb.valid;
    const tCbA = tlb.cb;
    const tAsidA = tlb.asid;
    const tVa = tlb.va;
    const tSize = tlb.size;
    const ways = tlb.ways;
    const total = tlb.sets * ways;
    const sLo = sp0 * 4096;
    const dLo = dp0 * 4096;
    for (let w = 0; w < total; w++) {
      if (tValid[w] === 0) return 0;
      const c = tCbA[w]!;
      if (c !== sCb && c !== dCb) continue;
      const ta = tAsidA[w]!;
      const e0 = tVa[w]!;
      const e1 = e0 + tSize[w]!;
      if (c === sCb && (ta === -1 || ta === sAsid) && e1 > sLo && e0 < sLo + G * 4096) G = e0 <= sLo ? 0 : Math.min(G, Math.floor(e0 / 4096) - sp0);
      if (c === dCb && (ta === -1 || ta === dAsid) && e1 > dLo && e0 < dLo + G * 4096) G = e0 <= dLo ? 0 : Math.min(G, Math.floor(e0 / 4096) - dp0);
      if (G <= 0) return 0;
    }
    const sT = this.tableWords(0, this.wcTable[0]!);
    const dT = this.tableWords(1, this.wcTable[1]!);
    if (sT === null || dT === null) return 0;
    const s1 = this.wcPg1[0]!;
    const s2 = this.wcPg2[0]!;
    const s3 = Math.floor(this.wcTable[0]! / 4096);
    const d1 = this.wcPg1[1]!;
    const d2 = this.wcPg2[1]!;
    const d3 = Math.floor(this.wcTable[1]! / 4096);
    const sets = tlb.sets;
    if (this.bgCnt.length !== sets) {
      this.bgCnt = new Int32Array(sets);
      this.bgPlaced = new Int32Array(sets);
      this.bgTouched = new Int32Array(sets);
    }
    const cnt = this.bgCnt;
    const touched = this.bgTouched;
    let nTouched = 0;
    const setMask = sets - 1;
    const sMix = sCb * 0x9e5;
    const dMix = dCb * 0x9e5;
    const base = done >>> 1;
    // the time limit: pairRun's per-group test with the cost after g groups. With integer
    // costs (ns) the repeated additions equal cost + g x groupCost exactly, and the test is
    // monotone in g (each operation rounds monotonically): the first group that fails it is
    // found by bisection once instead of tested per group
    let perGroupLimit = limit !== Infinity;
    if (perGroupLimit && Number.isInteger(groupCost) && Number.isInteger(cost) && Number.isInteger(cost0) && cost + G * groupCost <= Number.MAX_SAFE_INTEGER) {
      const fails = (x: number): boolean => (base + its0 + x * n + n) * iterNs + cost0 + (cost + x * groupCost) + groupCost > limit;
      if (fails(G - 1)) {
        let lo = 0; // first failing group in [lo, hi]
        let hi = G - 1;
        while (lo < hi) {
          const mid = (lo + hi) >>> 1;
          if (fails(mid)) hi = mid;
          else lo = mid + 1;
        }
        G = lo;
      }
      perGroupLimit = false;
    }
    let g = 0;
    for (; g < G; g++) {
      if (perGroupLimit && (base + its0 + g * n + n) * iterNs + cost0 + cost + groupCost > limit) break;
      const sp = sp0 + g;
      const dp = dp0 + g;
      const sq = (sp & 511) << 1;
      const dq = (dp & 511) << 1;
      const slo = sT[sq]!;
      const shi = sT[sq + 1]!;
      const dlo = dT[dq]!;
      const dhi = dT[dq + 1]!;
      if ((slo & 3) !== 3 || (dlo & 3) !== 3) break;
      if (((slo & 0xcc0) | ((shi >>> 21) & 3)) !== sLm || ((dlo & 0xcc0) | ((dhi >>> 21) & 3)) !== dLm) break;
      const sPa = ((slo & 0xfffff000) >>> 0) + (shi & 0xff) * TWO32;
      const dPa = ((dlo & 0xfffff000) >>> 0) + (dhi & 0xff) * TWO32;
      if (!(sPa >= ramLo && sPa + 4096 <= ramHi && dPa >= ramLo && dPa + 4096 <= ramHi)) break;
      const ppg = dPa / 4096;
      if (ppg === s1 || ppg === s2 || ppg === s3 || ppg === d1 || ppg === d2 || ppg === d3) break;
      sOut[si0 + g] = sPa;
      dOut[di0 + g] = dPa;
      if (nw === 0 || wrt[nw - 1] !== ppg) wrt[nw++] = ppg;
      cost += groupCost;
      const sset = (sp ^ (sp >>> 7) ^ sMix) & setMask;
      const cs = cnt[sset]!;
      if (cs === 0) touched[nTouched++] = sset;
      cnt[sset] = cs + 1;
      const dset = (dp ^ (dp >>> 7) ^ dMix) & setMask;
      const cd = cnt[dset]!;
      if (cd === 0) touched[nTouched++] = dset;
      cnt[dset] = cd + 1;
    }
    G = g;
    if (G === 0) return 0;
    // the deferred insertions, from the last group backwards: the last min(c, ways) of each set
    const placed = this.bgPlaced;
    const next = tlb.next;
    let need = 0;
    for (let i = 0; i < nTouched; i++) {
      const c = cnt[touched[i]!]!;
      need += c < ways ? c : ways;
    }
    const sAs = sGlobal ? -1 : sAsid;
    const dAs = dGlobal ? -1 : dAsid;
    const tPa = tlb.pa;
    const tPerms = tlb.perms;
    const tLevel = tlb.level;
    let ws = -1;
    let wd = -1;
    for (g = G - 1; g >= 0 && need > 0; g--) {
      for (let side = 1; side >= 0; side--) {
        const pg = side === 1 ? dp0 + g : sp0 + g;
        const set = (pg ^ (pg >>> 7) ^ (side === 1 ? dMix : sMix)) & setMask;
        const p = placed[set]!;
        const c = cnt[set]!;
        if (p >= c || p >= ways) continue;
        const w = set * ways + ((next[set]! + c - 1 - p) % ways);
        placed[set] = p + 1;
        need--;
        tCbA[w] = side === 1 ? dCb : sCb;
        tAsidA[w] = side === 1 ? dAs : sAs;
        tVa[w] = pg * 4096;
        tSize[w] = 4096;
        tPa[w] = side === 1 ? dOut[di0 + g]! : sOut[si0 + g]!;
        tPerms[w] = side === 1 ? dPerms : sPerms;
        tLevel[w] = 3;
        if (g === G - 1) {
          if (side === 1) wd = w;
          else ws = w;
        }
      }
    }
    const setGen = tlb.setGen;
    for (let i = 0; i < nTouched; i++) {
      const set = touched[i]!;
      const c = cnt[set]!;
      next[set] = (next[set]! + c) % ways;
      setGen[set] = setGen[set]! + c;
      cnt[set] = 0;
      placed[set] = 0;
    }
    tlb.lastInsert = wd;
    this.bgCost = cost;
    this.bgNw = nw;
    this.prSlot[0] = ws;
    this.prSlot[1] = wd;
    this.prGen[0] = setGen[(ws / ways) | 0]!;
    this.prGen[1] = setGen[(wd / ways) | 0]!;
    return G;
  }

  /**
   * TranslationStage.translateCopyRun: the translate() calls of a copy loop R0 W0 R1 W1 ...
   * performed in one allocation-free loop with exactly their effects:
   * - an access in the page of the side's previous access whose TLB slot saw no insertion
   *   into its set since (tlb.setGen) is the same hit again (a hit changes nothing but
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
    const s = this.s;
    this.quiet.qValid = false;
    const st = s.stats;
    const tlb = s.tlb;
    const r = s.res;
    const tr = s.tracer;
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
    // time limit: every iteration begun counts iterNs; an access is made only when the
    // total with its cost stays <= limit (room = what its cost may be)
    const limit = run.limitNs;
    const iterNs = run.iterNs;
    run.done = 0;
    run.costNs = 0;
    if (!(B > 0 && B <= 4096) || iters <= 0) return;
    // every address of the run an integer below 2^32: page numbers and offsets by shifts
    const ints = Number.isInteger(sVa) && Number.isInteger(dVa) && Number.isInteger(B) && sVa >= 0 && dVa >= 0 &&
      sVa + iters * B <= TWO32 && dVa + iters * B <= TWO32;
    if (this.gWritten.length < dOut.length + 1) this.gWritten = new Float64Array(dOut.length + 1);
    this.gNw = 0;
    this.gTab.fill(-1);
    this.dcKey.fill(-1);
    // walk cache entries of earlier runs: revalidated (their level-1/2 descriptors re-read
    // and compared) before use, unless a register changed since
    if (this.wcGen !== s.epoch) {
      this.wcValid.fill(0);
      this.wcGen = s.epoch;
    }
    for (let c = 0; c < 2; c++) {
      if (this.wcValid[c] === 1) this.wcValid[c] = 2;
      this.wcChecked[c] = 0;
    }
    // the context learnt by earlier runs holds while no register was written since
    if (this.fcGen !== s.epoch) {
      this.fcOk.fill(0);
      this.fcGen = s.epoch;
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
    const setGen = tlb.setGen;
    const ways = tlb.ways;
    try {
      while (iters > 0) {
        // ---- whole iterations inside both memoised pages: pure hits ----
        if (sPg >= 0 && dPg >= 0 && (ints ? (sVa >>> 12) === sPg && (dVa >>> 12) === dPg : Math.floor(sVa / 4096) === sPg && Math.floor(dVa / 4096) === dPg) &&
          (sSlot < 0 || setGen[sSet] === sGen) && (dSlot < 0 || setGen[dSet] === dGen)) {
          let m = ints ? ((4096 - (sVa & 4095)) / B) | 0 : Math.floor((4096 - (sVa % 4096)) / B);
          const md = ints ? ((4096 - (dVa & 4095)) / B) | 0 : Math.floor((4096 - (dVa % 4096)) / B);
          if (md < m) m = md;
          if (iters < m) m = iters;
          if (limit !== Infinity) {
            // (it + m) x iterNs + cost + m x (sHit + dHit) <= limit, it = done / 2
            const per = iterNs + sHit + dHit;
            const room = limit - cost - (done >>> 1) * iterNs;
            let mt = Math.floor(room / per);
            while (mt > 0 && ((done >>> 1) + mt) * iterNs + cost + mt * (sHit + dHit) > limit) mt--;
            // (none: the access-by-access code below makes what still fits, a read alone)
            if (mt < m) m = mt;
          }
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
        // ---- page pairs in one loop (pairRun): page-aligned sides, the burst dividing 4 KiB ----
        if (ints && !traced && (sVa & 4095) === 0 && (dVa & 4095) === 0 && (4096 % B) === 0 && (sVa >>> 12) !== sPg && (dVa >>> 12) !== dPg) {
          const k = this.pairRun(run, sVa, dVa, iters, done, cost, limit, iterNs, sPage0, dPage0);
          if (k > 0) {
            cost += this.prCost;
            done += 2 * k;
            sVa += k * B;
            dVa += k * B;
            iters -= k;
            sPg = (sVa - B) >>> 12;
            dPg = (dVa - B) >>> 12;
            sSlot = this.prSlot[0]!;
            dSlot = this.prSlot[1]!;
            sSet = (sSlot / ways) | 0;
            dSet = (dSlot / ways) | 0;
            sGen = this.prGen[0]!;
            dGen = this.prGen[1]!;
            sHit = s.hitNs;
            dHit = s.hitNs;
            continue;
          }
        }
        // ---- both sides entering new pages, each access a quiet miss (fastMiss): a long
        // run's common case, with exactly the effects of the access-by-access code below ----
        let first = 0;
        if (ints && !traced && this.fcOk[0] === 1 && this.fcOk[1] === 1 && (sVa >>> 12) !== sPg && (dVa >>> 12) !== dPg &&
          (sVa & 4095) + B <= 4096 && (dVa & 4095) + B <= 4096 && this.gNw < this.gWritten.length) {
          const sp = sVa >>> 12;
          const dp = dVa >>> 12;
          const si = sp - sPage0;
          const di = dp - dPage0;
          if (si < sOut.length && di < dOut.length) {
            const ws = this.fastMiss(0, sVa, sp, limit - ((done >>> 1) + 1) * iterNs - cost);
            if (ws >= 0) {
              cost += this.fmCost;
              done++;
              sOut[si] = this.fmPa;
              sPg = sp;
              sSlot = ws;
              sSet = (ws / ways) | 0;
              sGen = setGen[sSet]!;
              sHit = s.hitNs;
              // (the write side's memo is of another page: it is not used for this access)
              first = 1;
              const wd = this.fastMiss(1, dVa, dp, limit - ((done >>> 1) + 1) * iterNs - cost);
              if (wd >= 0) {
                cost += this.fmCost;
                done++;
                const pagePa = this.fmPa;
                dOut[di] = pagePa;
                const iset = (wd / ways) | 0;
                // the read side's memo survives an insertion into its set that did not replace
                // its slot (as below; the new entry is the 4 KiB page dp !== sp: a lookup of
                // sp cannot match it)
                if (sSet === iset && sGen === setGen[iset]! - 1 && wd !== ws) sGen = setGen[iset]!;
                dPg = dp;
                dSlot = wd;
                dSet = iset;
                dGen = setGen[iset]!;
                dHit = s.hitNs;
                const ppg = Math.floor(pagePa / 4096);
                const wrt = this.gWritten;
                if (this.gNw === 0 || wrt[this.gNw - 1] !== ppg) wrt[this.gNw++] = ppg;
                sVa += B;
                dVa += B;
                iters--;
                continue;
              }
            }
          }
        }
        // ---- one iteration, access by access (from the write side when the read side was
        // made above) ----
        for (let side = first; side < 2; side++) {
          const isW = side === 1;
          const va = isW ? dVa : sVa;
          const pg = ints ? va >>> 12 : Math.floor(va / 4096);
          if ((ints ? va & 4095 : va % 4096) + B > 4096) return; // a burst across pages: more than one lookup
          // what this access's cost may be within the time limit
          const room = limit - ((done >>> 1) + 1) * iterNs - cost;
          if (isW ? pg === dPg && (dSlot < 0 || setGen[dSet] === dGen) : pg === sPg && (sSlot < 0 || setGen[sSet] === sGen)) {
            // the same hit (or bypass) as the side's previous access
            if ((isW ? dHit : sHit) > room) return;
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
          const fm = ints && !traced && this.fcOk[side] === 1 ? this.fastMiss(side, va, pg, room) : -2;
          if (fm >= 0) {
            // committed by fastMiss (a walk and a TLB insertion)
            slot = fm;
            pagePa = this.fmPa;
            cost += this.fmCost;
          } else {
            const attrs = isW ? dAttrs : sAttrs;
            let k = this.fcOk[side] === 1 ? this.fastLookup(side, va) : -2;
            if (k === -1) return;
            if (k === -2) {
              k = s.resolve(va, attrs, true, false, true, this.reader);
              if (r.walked && s.wr.table3 >= 0) this.wcRecord(side, va, r.cb);
              if (k === K_TRANSLATED) this.fcLearn(side, attrs);
            }
            if (k !== K_TRANSLATED && k !== K_BYPASS) return;
            if (r.walked && traced) return;
            if (r.cost > room) return;
            pagePa = r.pa - (va % 4096);
            if (s.bus.ramAt(pagePa, 4096) === null) return;
            // commit: what translate() does for this access
            st.translations++;
            if (k === K_BYPASS) {
              st.bypasses++;
              slot = -1;
            } else if (r.walked) {
              st.misses++;
              st.walks++;
              st.descriptorFetches += r.fetches;
              const wr = s.wr;
              slot = tlb.insert(r.cb, r.asid, va, wr.va, wr.size, wr.pa, wr.perms, r.level);
            } else {
              st.hits++;
              slot = r.hitSlot;
            }
            cost += r.cost;
          }
          if (fm >= 0 || (slot >= 0 && r.walked)) {
            // the other side's memo survives an insertion into its set when its slot was not
            // the one replaced and the new entry cannot be found before it for its page (a
            // lookup returns the first match in slot order)
            const iset = (slot / ways) | 0;
            const oPg = isW ? sPg : dPg;
            const oSlot = isW ? sSlot : dSlot;
            if (oPg >= 0 && oSlot >= 0 && (isW ? sSet : dSet) === iset && (isW ? sGen : dGen) === setGen[iset]! - 1 && slot !== oSlot) {
              const base = tlb.va[slot]!;
              const opa = oPg * 4096;
              if (slot > oSlot || opa + 4096 <= base || opa >= base + tlb.size[slot]!) {
                if (isW) sGen = setGen[iset]!;
                else dGen = setGen[iset]!;
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
            dGen = slot < 0 ? 0 : setGen[set]!;
            dHit = s.hitNs;
            const ppg = Math.floor(pagePa / 4096);
            const wrt = this.gWritten;
            // (a page may appear twice: the list only has to contain every written page)
            if (this.gNw === 0 || wrt[this.gNw - 1] !== ppg) wrt[this.gNw++] = ppg;
          } else {
            sOut[idx] = pagePa;
            sPg = pg;
            sSlot = slot;
            sSet = set;
            sGen = slot < 0 ? 0 : setGen[set]!;
            sHit = s.hitNs;
          }
        }
        sVa += B;
        dVa += B;
        iters--;
      }
    } finally {
      // (gRegion/gU32 stay: RAM regions are never removed from the bus)
      run.done = done;
      run.costNs = cost;
    }
  }
}
