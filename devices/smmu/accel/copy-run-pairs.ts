/**
 * Accelerator, translateCopyRun's general pair loop: pairRun, a page-aligned run whose burst
 * divides 4 KiB made as groups of one read and one write miss in new pages followed by hits
 * in those pages (bulkGroups, copy-run-bulk.ts, makes whole segments of such groups when every
 * TLB slot is valid). Both misses of a group are checked as fastMiss (copy-run-lookup.ts)
 * checks them before either is committed, and a group is committed with the same two
 * insertInSet calls and the same statistics as translateCopyRun's access-by-access steps; see
 * docs/SMMU.md ("Reference model and accelerators", pairRun).
 *
 * CopyPairs is the third level of the runner's class chain (CopyLookup -> CopyBulk ->
 * CopyPairs -> CopyRunner, copy-run.ts): one object, one hidden class.
 */
import type { CopyRun } from '../../../emulator/master.js';
import { RAM_CHUNK_MASK, RAM_CHUNK_SHIFT } from '../../../emulator/ram.js';
import * as R from '../regs.js';
import { TWO32 } from '../types.js';
import { decodeLeaf } from '../walk.js';
import { CopyBulk, LITTLE_ENDIAN } from './copy-run-bulk.js';

export class CopyPairs extends CopyBulk {
  /** out of pairRun: the lookups' summed cost */
  protected prCost = 0;

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
  protected pairRun(run: CopyRun, sVa: number, dVa: number, iters: number, done: number, cost0: number, limit: number, iterNs: number,
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
}
