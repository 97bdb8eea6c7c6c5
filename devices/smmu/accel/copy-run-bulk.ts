/**
 * Accelerator, inside pairRun (copy-run-pairs.ts): bulkGroups, a segment of page-pair groups
 * made without scanning the TLB and with the TLB insertions deferred to the segment's end, and
 * tableWords, the level-3 table pages it reads as words. Why every lookup of a segment is a
 * miss, and why the deferred insertions leave the TLB in the state the insertInSet calls in
 * order would (slots, round-robin pointers, set generations, lastInsert): the comment on
 * bulkGroups and docs/SMMU.md ("Reference model and accelerators", bulkGroups). Per group it
 * checks what pairRun's loop checks and stops before the first group that fails one.
 *
 * CopyBulk is the second level of the runner's class chain (CopyLookup -> CopyBulk ->
 * CopyPairs -> CopyRunner, copy-run.ts): one object, one hidden class.
 */
import type { CopyRun } from '../../../emulator/master.js';
import { RAM_CHUNK_MASK } from '../../../emulator/ram.js';
import { TWO32 } from '../types.js';
import { CopyLookup } from './copy-run-lookup.js';

/** whether this host stores a Uint32Array little-endian (bulkGroups reads descriptors as words) */
export const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

export class CopyBulk extends CopyLookup {
  /** out of bulkGroups and pairRun: per side the memo of the last access (slot, set generation) */
  protected readonly prSlot = new Int32Array(2);
  protected readonly prGen = new Float64Array(2);
  // ---- bulkGroups: per side the level-3 table page as words (view of the page-store chunk
  // bvChunk at offset bvOff); per TLB set the insertions deferred in the current segment ----
  private readonly bvChunk: (Uint8Array | null)[] = [null, null];
  private readonly bvOff = new Int32Array(2);
  private readonly bvView: Uint32Array[] = [new Uint32Array(0), new Uint32Array(0)];
  private bgCnt = new Int32Array(0);
  private bgPlaced = new Int32Array(0);
  private bgTouched = new Int32Array(0);
  /** out of bulkGroups: the summed cost (cost in + the groups') and the written-pages count */
  protected bgCost = 0;
  protected bgNw = 0;

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
  protected bulkGroups(run: CopyRun, sVa: number, dVa: number, iters: number, done: number, cost0: number, limit: number, iterNs: number,
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
    // the slot is no nested combined entry any more (Tlb.insertInSet does the same)
    const tDep = tlb.dep;
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
        tDep[w] = -1;
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
}
