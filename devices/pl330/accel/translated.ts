/**
 * Translation-level execution inside a batch: single bursts through quietLookup/translate,
 * page-run segments through translateHits, and the held-back RAM copy that merges
 * consecutive bursts into one copy.
 *
 * The held-back copy: consecutive bursts and page runs that continue each other on both
 * sides are written as one copy. Exact because nothing reads memory inside a batch except
 * the batch's own loads (the run's source never overlaps its destination) and table walks
 * (quietLookup's avoid range); it is written before anything else could look (batch end,
 * reference-executor path, MFIFO fill).
 */
import type { Attrs } from '../../../emulator/attrs.js';
import { BUS_OK, type RamRegion } from '../../../emulator/bus.js';
import { RAM_CHUNK_MASK } from '../../../emulator/ram.js';
import type { TranslationStage } from '../../../emulator/master.js';
import * as C from '../constants.js';
import type { Pl330Thread } from '../thread.js';
import { advanceBatch, type SegmentShape } from './host.js';
import type { Pl330Accel } from './state.js';

/**
 * One incrementing burst of a pure copy loop at translation level: the same translate()
 * call the load/store code would make (only when quietLookup() says it leaves no
 * time-stamped trace and the burst is one page of RAM), the data moved RAM to RAM when the
 * matching store runs. Returns the translation cost (ns, >= 0), -1 when the burst must run
 * on the step path (nothing changed), -2 on an (unexpected) translation mismatch after the
 * lookup was made.
 */
export function xAccess(acc: Pl330Accel, t: Pl330Thread, xl: TranslationStage, isLd: boolean, n: number, attrs: Attrs): number {
  const va = isLd ? t.sar : t.dar;
  if (Math.floor(va / 4096) !== Math.floor((va + n - 1) / 4096) || va + n > 0x100000000) return -1;
  const o = acc.xOut;
  let q: boolean;
  if (acc.cPend) {
    // a walk must not read memory the held-back copy is still to write
    const lo = acc.cDr!.base + acc.cDo;
    q = xl.quietLookup!(va, attrs, o, lo, lo + acc.cLen);
    if (!q) {
      flushCopy(acc);
      q = xl.quietLookup!(va, attrs, o);
    }
  } else q = xl.quietLookup!(va, attrs, o);
  if (!q || o.extent < n) return -1;
  const bus = acc.h.port.bus;
  const r = bus.ramAt(o.pa, n);
  if (r === null) return -1;
  const pa = o.pa;
  if (!isLd) {
    if (acc.xPending - acc.xHead < 1) return -1;
    // a store must not overwrite bytes a later pending load still has to deliver
    for (let i = acc.xHead + 1; i < acc.xPending; i++) {
      const lp = acc.xPa[i]!;
      if (pa < lp + n && lp < pa + n) return -1;
    }
  }
  const tr = acc.xTr;
  xl.translate(va, attrs, tr);
  if (tr.status !== BUS_OK || tr.pa !== pa) return -2;
  acc.h.port.bytes += n;
  if (isLd) {
    acc.xPa[acc.xPending] = pa;
    acc.xRegion[acc.xPending] = r;
    acc.xPending++;
    t.sar = (t.sar + n) >>> 0;
    t.bytesLoaded += n;
    t.lastSrcPage = Math.floor(va / 4096);
  } else {
    const sp = acc.xPa[acc.xHead]!;
    const sr = acc.xRegion[acc.xHead]!;
    acc.xHead++;
    if (acc.xHead === acc.xPending) acc.xHead = acc.xPending = 0;
    addCopy(acc, sr, sp - sr.base, r, pa - r.base, n);
    t.dar = (t.dar + n) >>> 0;
    t.bytesStored += n;
    t.lastDstPage = Math.floor(va / 4096);
  }
  return tr.costNs;
}

export function addCopy(acc: Pl330Accel, sr: RamRegion, so: number, dr: RamRegion, dOff: number, n: number): void {
  if (acc.cPend && sr === acc.cSr && dr === acc.cDr && acc.cSo + acc.cLen === so && acc.cDo + acc.cLen === dOff) {
    const len = acc.cLen + n;
    if (sr !== dr || acc.cSo + len <= acc.cDo || acc.cDo + len <= acc.cSo) {
      acc.cLen = len;
      return;
    }
  }
  flushCopy(acc);
  if (sr === dr && so < dOff + n && dOff < so + n) {
    // a burst overlapping itself: memmove of the loaded bytes, now
    dr.copyFrom(dOff, sr, so, n);
    return;
  }
  acc.cPend = true;
  acc.cSr = sr;
  acc.cDr = dr;
  acc.cSo = so;
  acc.cDo = dOff;
  acc.cLen = n;
}

export function flushCopy(acc: Pl330Accel): void {
  if (!acc.cPend) return;
  acc.cPend = false;
  const sr = acc.cSr!;
  const dr = acc.cDr!;
  dr.copyFrom(acc.cDo, sr, acc.cSo, acc.cLen);
}

/** Load n bytes of RAM at region offset off into the thread's MFIFO (no copy when they lie in one chunk). */
export function pushRam(t: Pl330Thread, r: RamRegion, off: number, n: number): void {
  const span = r.readSpan(off, n);
  if (span !== null) t.fifo!.push(span, off & RAM_CHUNK_MASK, n);
  else t.fifo!.push(r.readBytes(off, n), 0, n);
}

/** Leaving translation-level execution mid-iteration: loaded bytes go into the MFIFO. */
export function xMaterialize(acc: Pl330Accel, t: Pl330Thread): void {
  flushCopy(acc);
  for (let i = acc.xHead; i < acc.xPending; i++) {
    const r = acc.xRegion[i]!;
    const n = C.ccrSrcLen(t.ccr) << C.ccrSrcSize(t.ccr);
    const off = acc.xPa[i]! - r.base;
    pushRam(t, r, off, n);
    acc.h.mfifo.used += n;
  }
  acc.xHead = acc.xPending = 0;
}

/**
 * One page-run segment of a pure copy loop behind a translation stage (ending within
 * `budgetNs` of virtual time): when the current
 * source and destination addresses are pure hits, the number k (1..maxIter, <= maxChunk)
 * of whole iterations whose bursts stay inside both hit ranges is copied RAM to RAM at
 * once and its k x nLd / k x nSt lookups accounted (translateHits). Returns k, or 0 when no
 * segment applies (then nothing changed). Updates SAR/DAR, byte counters, port bytes and
 * acc.segCost (total lookup cost); the caller updates LC, PC, instructions and time.
 */
export function segment(acc: Pl330Accel, t: Pl330Thread, seg: SegmentShape, xl: TranslationStage, maxIter: number, maxChunk: number,
  budgetNs: number, srcAttrs: Attrs, dstAttrs: Attrs): number {
  const so = acc.segSrc;
  const d = acc.segDst;
  if (!xl.translateHits!(t.sar, srcAttrs, 0, so)) return 0;
  if (seg.dstPer > 0 && !xl.translateHits!(t.dar, dstAttrs, 0, d)) return 0;
  let k = Math.min(maxIter, maxChunk, Math.floor(so.extent / seg.srcPer));
  // the k iterations must end by the time budget (the next event of anything else)
  const perIter = seg.cyc * acc.h.periodNs + seg.nLd * so.costNs + (seg.nSt > 0 ? seg.nSt * d.costNs : 0);
  if (budgetNs !== Infinity) k = Math.min(k, Math.floor(budgetNs / perIter));
  if (seg.dstPer > 0) k = Math.min(k, Math.floor(d.extent / seg.dstPer));
  if (!(k >= 1)) return 0;
  const sLen = k * seg.srcPer;
  const dLen = k * seg.dstPer;
  if (t.sar + sLen > 0x100000000 || t.dar + dLen > 0x100000000) return 0;
  const bus = acc.h.port.bus;
  const sr = bus.ramAt(so.pa, sLen);
  const dr = bus.ramAt(d.pa, dLen);
  if (sr === null || dr === null) return 0;
  // overlapping source and destination: step order matters (memmove would differ)
  if (so.pa < d.pa + dLen && d.pa < so.pa + sLen) return 0;
  // account the lookups exactly as k iterations of single translations would
  xl.translateHits!(t.sar, srcAttrs, k * seg.nLd, so);
  if (seg.nSt > 0) xl.translateHits!(t.dar, dstAttrs, k * seg.nSt, d);
  acc.segCost = k * seg.nLd * so.costNs + k * seg.nSt * d.costNs;
  addCopy(acc, sr, so.pa - sr.base, dr, d.pa - dr.base, sLen);
  advanceBatch(acc.h, t, sLen, dLen);
  return k;
}