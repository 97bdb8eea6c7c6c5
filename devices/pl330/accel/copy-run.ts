/**
 * Copy runs: copy loops with one load then one store of the same burst per iteration behind
 * a translation stage with `translateCopyRun` (the SMMU), translations of a whole chunk in
 * one call, data moved RAM to RAM in step order.
 */
import type { Attrs } from '../../../emulator/attrs.js';
import type { TranslationStage } from '../../../emulator/master.js';
import * as C from '../constants.js';
import { condOk } from '../isa.js';
import type { Pl330Thread } from '../thread.js';
import { TIMING } from '../timing.js';
import { isLoadOp, isStoreOp, LP_LC0, LPEND_LC0, LPEND_LC1, type SegmentShape } from './host.js';
import type { Pl330Accel } from './state.js';
import { addCopy, flushCopy, pushRam } from './translated.js';

/**
 * Copy loops with one load then one store of the same burst per iteration, behind a stage
 * with translateCopyRun (the SMMU): the translations of up to a chunk of iterations in one
 * call (the stage stops before any access that is not quiet), then the data moved RAM to
 * RAM in step order (merged into one copy per run of pages that continue each other on
 * both sides, burst by burst where a piece's source and destination overlap). Time =
 * iterations x loop cycles + the sum of the lookups' costs, as step execution charges.
 * A run ending between the load and the store leaves the loaded bytes in the MFIFO and
 * the PC after the load. Returns false (nothing changed) when the stage did nothing.
 */
export function copyRun(acc: Pl330Accel, t: Pl330Thread, xl: TranslationStage, start: number, lpend: number, lc1: boolean, lc: number, seg: SegmentShape,
  B: number, srcAttrs: Attrs, dstAttrs: Attrs, delay: number, limit: number, budget: number): boolean {
  const ops = acc.bodyOps;
  const bodyLen = lpend - start;
  let posLd = -1;
  let posSt = -1;
  for (let i = 0; i < bodyLen; i++) {
    const op = ops[i]!;
    if (!condOk(t, op)) continue;
    if (isLoadOp(op)) posLd = i;
    else if (isStoreOp(op)) posSt = i;
  }
  if (posLd < 0 || posSt < posLd) return false;
  // nested loops: an inner loop on LC0 directly inside an outer counted loop on LC1 whose
  // body is just DMALP LC0 + this loop (DMALPEND LC0 at lpend, DMALPEND LC1 right after,
  // jumping back to the DMALP right before the body, all cached): when the inner loop
  // ends, the run continues through DMALPEND (not taken), DMALPEND LC1 (taken), DMALP
  // (one cycle and one instruction each) into the next inner loop's first iteration
  let imm = -1;
  if (!lc1 && t.lc1 > 0 && acc.h.icache.peek(lpend) === LPEND_LC0 && acc.h.icache.peek(lpend + 1) === lpend - start &&
    acc.h.icache.peek(lpend + 2) === LPEND_LC1) {
    const j2 = acc.h.icache.peek(lpend + 3);
    if (j2 >= 0 && lpend + 2 - j2 === start - 2 && acc.h.icache.peek(start - 2) === LP_LC0) imm = acc.h.icache.peek(start - 1);
  }
  const avail = imm >= 0 ? lc + t.lc1 * (imm + 1) : lc;
  let iters = Math.min(avail, Math.max(1, Math.floor(limit / B)));
  // SAR/DAR wrap at 4 GiB: never run a batch across the wrap
  iters = Math.min(iters, Math.floor((0x100000000 - t.sar) / B), Math.floor((0x100000000 - t.dar) / B));
  if (iters < 1) return false;
  const run = acc.cRun;
  // the run must end by the horizon (the next event of anything else): the stage stops
  // before an access that would pass it (CopyRun.limitNs), counting for every iteration
  // begun an upper bound of its time outside the lookups: the loop's cycles plus two
  // cycles of a possible inner-loop change (and one for a partial iteration's loop
  // instructions), and the lookups' exact costs. (Before issue 19 this was budgeted here
  // with 1 ms per lookup, which cut runs near a horizon into 1-3 iterations.)
  run.limitNs = budget === Infinity ? Infinity : budget - delay;
  run.iterNs = (seg.cyc + 3) * acc.h.periodNs;
  const pages = Math.floor((iters * B) / 4096) + 2;
  if (run.srcPa.length < pages) {
    run.srcPa = new Float64Array(pages);
    run.dstPa = new Float64Array(pages);
  }
  flushCopy(acc);
  run.srcVa = t.sar;
  run.dstVa = t.dar;
  run.srcAttrs = srcAttrs;
  run.dstAttrs = dstAttrs;
  run.burst = B;
  run.iterations = iters;
  xl.translateCopyRun!(run);
  const done = run.done;
  if (done === 0) return false;
  const m = done >>> 1;
  const partial = (done & 1) !== 0;
  // ---- data, in step order ----
  const bus = acc.h.port.bus;
  const sPage0 = Math.floor(t.sar / 4096);
  const dPage0 = Math.floor(t.dar / 4096);
  let sVa = t.sar;
  let dVa = t.dar;
  let left = m * B;
  // pieces split at page boundaries of either side; consecutive pieces that continue each
  // other on both sides form one run, copied at once when its source and destination do
  // not overlap (then every burst reads memory no burst of the run writes)
  let runPs = -1;
  let runPd = -1;
  let runLen = 0;
  // (SAR/DAR are 32-bit and the run does not wrap: page numbers and offsets by shifts)
  const srcPa = run.srcPa;
  const dstPa = run.dstPa;
  const off = sVa & 4095;
  if ((dVa & 4095) === off && 4096 % B === 0 && off % B === 0) {
    // both sides at the same offset in their pages (page-aligned, or after the first
    // iteration ran on the step path), bursts dividing a page and that offset: the pieces are
    // [off, 4096) of page 0, then the pages i = 1, 2, ... of both sides at once, the last one
    // whatever is left (whole bursts). The same pieces and merges as the general loop below,
    // without its per-piece offset arithmetic (two pieces per page when off > 0).
    runLen = left < 4096 - off ? left : 4096 - off;
    runPs = srcPa[0]! + off;
    runPd = dstPa[0]! + off;
    let rest = left - runLen;
    for (let i = 1; rest > 0; i++) {
      const n = rest < 4096 ? rest : 4096;
      const ps = srcPa[i]!;
      const pd = dstPa[i]!;
      if (ps === runPs + runLen && pd === runPd + runLen) runLen += n;
      else {
        copyPieces(acc, runPs, runPd, runLen, B);
        runPs = ps;
        runPd = pd;
        runLen = n;
      }
      rest -= n;
    }
    left = 0;
  }
  while (left > 0) {
    const so = sVa & 4095;
    const dOff = dVa & 4095;
    let n = 4096 - (so > dOff ? so : dOff);
    if (left < n) n = left;
    n -= n % B; // whole bursts (each burst lies inside one page on both sides)
    const ps = srcPa[(sVa >>> 12) - sPage0]! + so;
    const pd = dstPa[(dVa >>> 12) - dPage0]! + dOff;
    if (runLen > 0 && ps === runPs + runLen && pd === runPd + runLen) runLen += n;
    else {
      if (runLen > 0) copyPieces(acc, runPs, runPd, runLen, B);
      runPs = ps;
      runPd = pd;
      runLen = n;
    }
    sVa += n;
    dVa += n;
    left -= n;
  }
  if (runLen > 0) copyPieces(acc, runPs, runPd, runLen, B);
  flushCopy(acc);
  const bytes = m * B;
  t.sar = (t.sar + bytes) >>> 0;
  t.dar = (t.dar + bytes) >>> 0;
  t.bytesLoaded += bytes;
  t.bytesStored += bytes;
  acc.h.port.bytes += 2 * bytes;
  const period = acc.h.periodNs;
  // m x (DMALPEND + body) (+ DMALPEND, DMALPEND LC1, DMALP at each inner-loop change);
  // the first DMALPEND is the one being executed (already counted)
  delay += run.costNs;
  // the m iterations in closed form: the first min(m, lc) decrement LC0; each later group
  // of imm + 1 iterations starts with an inner-loop change (LC1 decremented, LC0 = imm)
  // whose iteration adds DMALPEND LC1 and DMALP (two instructions and cycles more)
  let l0 = lc;
  let l1 = t.lc1;
  let changes = 0;
  if (m <= lc) l0 = lc - m;
  else {
    const r = m - lc; // > 0 only with a nested loop (imm >= 0: iters <= avail)
    const g = imm + 1;
    changes = Math.ceil(r / g);
    l0 = imm - (r - (changes - 1) * g - 1);
    l1 -= changes;
  }
  let insns = m * (1 + bodyLen) + 2 * changes;
  let cyc = m * seg.cyc + changes * 2 * TIMING.insnCycles;
  if (m > 0) {
    insns--;
    cyc -= TIMING.insnCycles;
  }
  if (partial) {
    // the next iteration's loop instructions (unless it is the DMALPEND being executed),
    // the body up to and including the load; its bytes wait in the MFIFO for the store
    if (l0 > 0) {
      l0--;
      if (m > 0) {
        insns++;
        cyc += TIMING.insnCycles;
      }
    } else {
      l1--;
      l0 = imm;
      insns += 3;
      cyc += 3 * TIMING.insnCycles;
    }
    insns += posLd + 1;
    cyc += posLd + TIMING.insnCycles + TIMING.axiLatencyCycles + C.ccrSrcLen(t.ccr);
    const ps = run.srcPa[Math.floor(t.sar / 4096) - sPage0]! + (t.sar % 4096);
    const sr = bus.ramAt(ps, B)!;
    pushRam(t, sr, ps - sr.base, B);
    acc.h.mfifo.used += B;
    t.lastSrcPage = Math.floor(t.sar / 4096);
    t.sar = (t.sar + B) >>> 0;
    t.bytesLoaded += B;
    acc.h.port.bytes += B;
    t.pc = start + posLd + 1;
  } else {
    t.pc = lpend;
    if (m > 0) t.lastSrcPage = Math.floor((t.sar - 1) / 4096);
  }
  if (m > 0) t.lastDstPage = Math.floor((t.dar - 1) / 4096);
  t.instructions += insns;
  t.stallCycles = 0;
  if (lc1) t.lc1 = l0;
  else {
    t.lc0 = l0;
    t.lc1 = l1;
  }
  acc.h.kick(t, delay + cyc * period);
  return true;
}

/** Copy `len` bytes of bursts of B bytes from physical ps to pd exactly as in step order. */
export function copyPieces(acc: Pl330Accel, ps: number, pd: number, len: number, B: number): void {
  const bus = acc.h.port.bus;
  const sr = bus.ramAt(ps, len);
  const dr = sr === null ? null : bus.ramAt(pd, len);
  if (sr === null || dr === null || (sr === dr && ps < pd + len && pd < ps + len)) {
    // across RAM regions, or source and destination overlap: burst by burst, each burst
    // seeing the previous bursts' stores (every burst lies in RAM: the stage checked)
    flushCopy(acc);
    for (let x = 0; x < len; x += B) {
      const s1 = bus.ramAt(ps + x, B)!;
      const d1 = bus.ramAt(pd + x, B)!;
      d1.copyFrom(pd + x - d1.base, s1, ps + x - s1.base, B);
    }
    return;
  }
  addCopy(acc, sr, ps - sr.base, dr, pd - dr.base, len);
}