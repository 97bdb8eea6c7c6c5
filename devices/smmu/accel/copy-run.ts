/**
 * Accelerator: TranslationStage.translateCopyRun (emulator/master.ts), the translate() calls
 * of a copy loop R0 W0 R1 W1 ... performed in one allocation-free call with exactly their
 * effects, and the host-side caches it keeps for that: per-side page memos, the context of
 * each side, a walk cache of the path to the last level-3 table and a memo of the last
 * level-3 leaf decode. Nothing here is architectural state; see docs/SMMU.md ("Reference
 * model and accelerators") for why every result equals the reference translate() calls.
 *
 * The runner is one object of a class chain, one level per file (one hidden class, direct
 * calls): CopyLookup (copy-run-lookup.ts: guarded descriptor reads, walk cache, context,
 * fastLookup, fastMiss and its leaf memo) -> CopyBulk (copy-run-bulk.ts: bulkGroups) ->
 * CopyPairs (copy-run-pairs.ts: pairRun) -> CopyRunner (here: the entry translateCopyRun, its
 * per-side page memos and the access-by-access steps).
 */
import type { CopyRun } from '../../../emulator/master.js';
import type { Smmu } from '../smmu.js';
import { K_BYPASS, K_TRANSLATED, TWO32 } from '../types.js';
import { CopyPairs } from './copy-run-pairs.js';
import type { QuietPath } from './quiet.js';

export class CopyRunner extends CopyPairs {
  /** write barrier, not state: the hook (accel/index.ts) counts each call in (tools/fuzz/snapshot.ts `guards`) */
  version = 0;
  constructor(s: Smmu, private readonly quiet: QuietPath) {
    super(s);
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
              // a nested context's walk fills more than one TLB entry (walk-nested.ts): the
              // run stops before it and the access-by-access translate() makes it
              if (r.walked && r.nested) return;
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
