/**
 * Accelerator, base of translateCopyRun's runner (copy-run.ts): the per-access lookups of a
 * copy run and the host-side state they keep per side (0 read, 1 write): the guarded
 * descriptor reader (RAM only, never a page the run wrote before), the walk cache of the path
 * to the last level-3 table, the context of a translated lookup (fcLearn), fastLookup, and the
 * committed-miss path fastMiss with its leaf-decode memo and descriptor chunks. Nothing here
 * is architectural state: a lookup counts, costs and inserts exactly what the reference
 * translate() would (the walk cache still counts and costs every level; the leaf memo is keyed
 * on every descriptor bit the decode reads); see docs/SMMU.md ("Reference model and
 * accelerators").
 *
 * The runner is one object of the class chain CopyLookup (here) -> CopyBulk (copy-run-bulk.ts)
 * -> CopyPairs (copy-run-pairs.ts) -> CopyRunner (copy-run.ts): one hidden class, direct
 * calls, the state in fields of that object.
 */
import { ATTR_INSTR, ATTR_PRIV, ATTR_WRITE, type Attrs } from '../../../emulator/attrs.js';
import { BUS_DECODE_ERROR, BUS_OK, type RamRegion } from '../../../emulator/bus.js';
import { RAM_CHUNK_MASK, RAM_CHUNK_SHIFT, ZERO_CHUNK } from '../../../emulator/ram.js';
import * as R from '../regs.js';
import { CBS } from '../regs.js';
import type { Smmu } from '../smmu.js';
import { K_TRANSLATED, TWO32 } from '../types.js';
import { bswap32, decodeLeaf, permBitFor, type DescriptorReader } from '../walk.js';

/**
 * What the guarded reader answers for a descriptor the run must not read now: the walk ends
 * (as an external abort, never committed: the run stops before that access).
 */
const STOP = BUS_DECODE_ERROR;

export class CopyLookup {
  // ---- walk cache, one entry per side (0 read, 1 write): the path to the level-3 table of
  // one 2 MiB region ----
  protected readonly wcValid = new Uint8Array(2); // 0 invalid, 1 valid in this run, 2 from an earlier run (revalidate)
  protected readonly wcRegion = new Float64Array(2);
  protected readonly wcCb = new Int32Array(2);
  protected readonly wcTable = new Float64Array(2);
  /** walk.RESTR_* of the path */
  protected readonly wcRestr = new Uint8Array(2);
  protected readonly wcFetches = new Int32Array(2);
  protected readonly wcPg1 = new Float64Array(2);
  protected readonly wcPg2 = new Float64Array(2);
  protected readonly wcChecked = new Int32Array(2);
  /** level-1 (-1: none) and level-2 descriptor addresses and raw values of the cached path */
  private readonly wcA1 = new Float64Array(2);
  private readonly wcA2 = new Float64Array(2);
  private readonly wcV = new Uint32Array(8);
  protected wcGen = -1;
  // ---- per side, the context of a translated lookup (constant during a run: no register
  // changes) when TTBR selection does not depend on the address (T0SZ = T1SZ = 0) ----
  protected readonly fcOk = new Uint8Array(2);
  protected fcGen = -1;
  protected readonly fcCb = new Int32Array(2);
  protected readonly fcAsid = new Int32Array(2);
  protected readonly fcPerm = new Int32Array(2);
  protected readonly fcSctlr = new Uint32Array(2);
  protected readonly fcAttrs = new Float64Array(2).fill(-1);
  // ---- the committed miss (fastMiss): per side, the last level-3 leaf decode (key: AF, nG,
  // AP[2:1], XN, PXN bits; -1 none) ----
  protected readonly lmKey = new Int32Array(2).fill(-1);
  protected readonly lmRestr = new Int32Array(2);
  protected readonly lmSctlr = new Float64Array(2);
  protected readonly lmPerms = new Int32Array(2);
  protected readonly lmGlobal = new Uint8Array(2);
  /** RAM region of the last output page checked by fastMiss */
  protected fmRam: RamRegion | null = null;
  /** fastMiss's descriptor chunks per side (page-store chunk index dcKey of region dcRg; reset per run) */
  protected dcRg: RamRegion | null = null;
  protected readonly dcKey = new Float64Array(2).fill(-1);
  protected readonly dcChunk: Uint8Array[] = [ZERO_CHUNK, ZERO_CHUNK];
  /** out of fastMiss: output page address and cost of the committed lookup */
  protected fmPa = 0;
  protected fmCost = 0;
  // ---- guarded descriptor reads ----
  protected gRegion: RamRegion | null = null;
  /** 4 KiB PA page numbers written by the run so far (before the current access) */
  protected gWritten = new Float64Array(64);
  protected gNw = 0;
  /** per walk level: table page checked against gWritten[0..gChecked) */
  protected readonly gTab = new Float64Array(4).fill(-1);
  private readonly gChecked = new Int32Array(4);
  private readonly d64 = new Uint32Array(2);
  /** the walker's reader during a run: RAM only, never a page this run wrote before */
  protected readonly reader: DescriptorReader = { read64: (pa, level, out) => (this.gRead(pa, level, out) ? BUS_OK : STOP) };

  constructor(protected readonly s: Smmu) {}

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
  protected wcRecord(side: number, va: number, cb: number): void {
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

  protected fcLearn(side: number, attrs0: Attrs): void {
    const s = this.s;
    const cb = s.res.cb;
    const o = cb * s.cbSlots;
    // stage-1 contexts only: a stage-2 context (CBAR.TYPE 0) is looked up by resolve() each time
    if (((s.cbar[cb]! >>> R.CBAR_TYPE_SHIFT) & 3) !== R.CBAR_TYPE_S1_S2BYPASS) return;
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
  protected fastLookup(side: number, va: number): number {
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
  protected fastMiss(side: number, va: number, page: number, room: number): number {
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
}
