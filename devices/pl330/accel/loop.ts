/**
 * Accelerated counted loops: which loops qualify, the bare-bus block copy and batched
 * stepping (docs/PL330.md, "Accelerators"). Every path gives the reference executor's
 * results: memory, SAR/DAR/LC/PC, MFIFO, instruction counts, port bytes, translations and
 * virtual time.
 */
import * as C from '../constants.js';
import { condOk, Next } from '../isa.js';
import type { Pl330Thread } from '../thread.js';
import { TIMING } from '../timing.js';
import { copyRun } from './copy-run.js';
import { advanceBatch, isLoadOp, isOneCycleOp, isStoreOp, type SegmentShape } from './host.js';
import type { Pl330Accel } from './state.js';
import { flushCopy, segment, xAccess, xMaterialize } from './translated.js';

/**
 * Bulk execution of a counted loop whose body is only DMALD/DMAST/barriers/DMANOP.
 * Called at a DMALPEND that is about to jump back (LC = lc > 0). Executes k <= lc
 * iterations (LPEND + body each) in one event when the result is provably identical
 * to step execution: no translation stage, every other thread idle, this channel's
 * MFIFO empty, the body cached, bursts legal, source and destination contiguous RAM
 * that do not overlap, and the body's MFIFO balance is zero.
 */
export function tryBulk(acc: Pl330Accel, t: Pl330Thread, jump: number, lc1: boolean): boolean {
  if (t.fifo!.len !== 0) return false;
  for (const o of acc.h.channels) if (o !== t && o.state !== C.ST_STOPPED && o.state !== C.ST_FAULTING) return false;
  if (acc.h.manager.state !== C.ST_STOPPED && acc.h.manager.state !== C.ST_FAULTING) return false;
  const lpend = t.pc;
  const start = (lpend - jump) >>> 0;
  if (jump === 0 || start > lpend) return false;
  for (let a = start; a < lpend + 2; a += acc.h.icache.lineBytes) if (!acc.h.icache.has(a)) return false;
  if (!acc.h.icache.has(lpend + 1)) return false;
  const ccr = t.ccr;
  const sSize = C.ccrSrcSize(ccr);
  const dSize = C.ccrDstSize(ccr);
  const srcBurst = (1 << sSize) * C.ccrSrcLen(ccr);
  const dstBurst = (1 << dSize) * C.ccrDstLen(ccr);
  const free = acc.h.mfifo.free;
  // Realignment (transfer.ts burstBytes): a burst from an address not aligned to its beat moves a
  // partial first beat. The bulk paths count whole bursts, so they start only from aligned
  // SAR/DAR and hand anything else back to the reference executor (defensive: at a DMALPEND
  // an incrementing address is already aligned, because the body's first iteration ran on
  // the reference path and its first burst realigned it; fixed-address bursts are not
  // "pure" and run through the reference load/store inside batched stepping). Beats
  // narrowed to the bus (wide-beat mode 'narrow') are handed back too.
  const sBeat = 1 << sSize;
  const dBeat = 1 << dSize;
  const wideNarrowed = acc.h.cfg.wideBeat === 'narrow' && (sSize > 4 || sBeat > acc.h.busBytes || dSize > 4 || dBeat > acc.h.busBytes);
  if (wideNarrowed || (t.sar & (sBeat - 1)) !== 0 || (t.dar & (dBeat - 1)) !== 0) return false;
  let level = 0;
  let cyc = TIMING.insnCycles; // the DMALPEND itself
  let srcPer = 0;
  let dstPer = 0;
  let nLd = 0;
  let nSt = 0;
  // pure: the loop is a plain block copy (legal incrementing bursts, no swap)
  let pure = true;
  for (let a = start; a < lpend; a++) {
    const op = acc.h.icache.peek(a);
    const isLd = isLoadOp(op);
    const isSt = isStoreOp(op);
    cyc += TIMING.insnCycles;
    if (isLd || isSt) {
      if (!condOk(t, op)) continue;
      if (isLd) {
        if (sSize > 4 || (1 << sSize) > acc.h.busBytes || !C.ccrSrcInc(ccr)) pure = false;
        level += srcBurst;
        if (level > free) return false; // would stall: step path
        srcPer += srcBurst;
        nLd++;
        cyc += TIMING.axiLatencyCycles + C.ccrSrcLen(ccr);
      } else {
        if (dSize > 4 || (1 << dSize) > acc.h.busBytes || !C.ccrDstInc(ccr) || C.ccrEndianSwap(ccr) !== 0) pure = false;
        if (level < dstBurst) return false;
        level -= dstBurst;
        dstPer += dstBurst;
        nSt++;
        cyc += TIMING.axiLatencyCycles + C.ccrDstLen(ccr);
      }
    } else if (!isOneCycleOp(op)) return false;
  }
  if (level !== 0) return false;
  // The horizon: nothing else may run while a batch runs ahead of virtual time, so a batch
  // only covers instructions that step execution would run before the next pending event
  // of any other component (the CPU, a timer, another device). That event then sees exactly
  // the state step execution would have left. (This thread's own next step is not pending:
  // step() cleared it.)
  const next = acc.h.sched.peekTime();
  const budget = next === undefined ? Infinity : next - acc.h.sched.now;
  if (pure && acc.h.port.translator === null && bulkCopy(acc, t, start, lpend, lc1, cyc, srcPer, dstPer, budget)) return true;
  const seg: SegmentShape | null = pure && srcPer > 0 ? { cyc, srcPer, dstPer, nLd, nSt } : null;
  return inlineLoop(acc, t, start, lpend, lc1, srcBurst, dstBurst, seg, budget);
}

/** The whole chunk as one RAM block copy (bare bus only: no translation cost to account). */
export function bulkCopy(acc: Pl330Accel, t: Pl330Thread, start: number, lpend: number, lc1: boolean, cyc: number, srcPer: number, dstPer: number,
  budget: number): boolean {
  const lc = lc1 ? t.lc1 : t.lc0;
  const per = Math.max(srcPer, 1);
  let k = Math.min(lc, Math.max(1, Math.floor(Math.max(1, acc.h.cfg.bulkChunkBytes) / per)));
  // the chunk ends (the next DMALPEND runs) by the budget: every instruction of it runs before
  if (budget !== Infinity) k = Math.min(k, Math.floor((budget / acc.h.periodNs - acc.h.cycles) / cyc));
  if (k < 1) return false;
  const srcTotal = k * srcPer;
  const dstTotal = k * dstPer;
  if (srcTotal > 0) {
    if (t.sar + srcTotal > 0x100000000 || t.dar + dstTotal > 0x100000000) return false;
    const bus = acc.h.port.bus;
    const sr = bus.ramAt(t.sar, srcTotal);
    const dr = bus.ramAt(t.dar, dstTotal);
    if (!sr || !dr) return false;
    if (t.sar < t.dar + dstTotal && t.dar < t.sar + srcTotal) return false;
    const so = t.sar - sr.base;
    // one block copy of runs of present chunks (ranges are disjoint)
    dr.copyFrom(t.dar - dr.base, sr, so, srcTotal);
    advanceBatch(acc.h, t, srcTotal, dstTotal);
  } else if (k > 4096) k = 4096;
  if (lc1) t.lc1 = lc - k;
  else t.lc0 = lc - k;
  // every accepted body instruction is one byte long: k x (DMALPEND + body), minus the
  // DMALPEND already counted by step()
  t.instructions += k * (1 + (lpend - start)) - 1;
  // pc stays at the DMALPEND, which runs next
  acc.h.kick(t, (acc.h.cycles + k * cyc) * acc.h.periodNs + acc.h.port.takeCost());
  return true;
}

/**
 * Batched stepping: run the loop's instructions one after the other inside this event,
 * through the same load/store code (same port accesses, same translations and costs, in
 * the same order), summing each instruction's time exactly as step() would schedule it.
 *
 * Behind a translation stage that offers the bulk hooks (quietLookup/translateHits, the
 * SMMU does) the batch:
 * - copies whole page runs at once ("segments", pure copy loops only): when the current
 *   source and destination pages are both pure TLB hits, every burst of the next k
 *   iterations that stays inside those pages is a hit too (a hit changes no TLB state), so
 *   the k x loads/stores lookups are accounted with one translateHits() per side, the
 *   bytes move with one copyWithin/set in RAM, and the time is k x (loop cycles) plus the
 *   per-lookup costs, exactly what step execution charges;
 * - runs any other burst (a page change: TLB miss and walk) through the exact load/store
 *   code, but only when quietLookup() says that translation leaves no time-stamped trace
 *   (no fault, no traced walk); otherwise it stops and the step path executes that
 *   instruction at its exact virtual time (faults and traced walks happen only there).
 * Behind a stage without the hooks a batch stays inside the 4 KiB source/destination
 * pages the previous bursts were translated in.
 * A bus error inside a batch is delivered at the time step execution would raise it.
 */
export function inlineLoop(acc: Pl330Accel, t: Pl330Thread, start: number, lpend: number, lc1: boolean, srcBurst: number, dstBurst: number,
  seg: SegmentShape | null, budget: number): boolean {
  const r = inlineLoopBody(acc, t, start, lpend, lc1, srcBurst, dstBurst, seg, budget);
  // every exit: the held-back RAM copy is written before the event ends
  flushCopy(acc);
  return r;
}

export function inlineLoopBody(acc: Pl330Accel, t: Pl330Thread, start: number, lpend: number, lc1: boolean, srcBurst: number, dstBurst: number,
  seg: SegmentShape | null, budget: number): boolean {
  const xl = acc.h.port.translator;
  const tr = xl !== null;
  const quiet = xl !== null && typeof xl.quietLookup === 'function';
  const segments = seg !== null && xl !== null && typeof xl.translateHits === 'function';
  // translation-level bursts: pure copy loops whose j-th store takes exactly the j-th
  // load's bytes (same burst size, as many stores as loads)
  const xfast = segments && quiet && seg.nLd === seg.nSt && srcBurst === dstBurst;
  acc.xPending = acc.xHead = 0;
  // the body's opcodes, read from the instruction cache once (tryBulk checked they are cached)
  const ops = acc.bodyOps;
  for (let a = start; a < lpend; a++) ops[a - start] = acc.h.icache.peek(a);
  const P = 4096;
  const inPage = (addr: number, n: number, page: number): boolean => Math.floor(addr / P) === page && Math.floor((addr + n - 1) / P) === page;
  if (tr && !quiet && (t.lastSrcPage < 0 || t.lastDstPage < 0)) return false;
  // a stage that can stall an access (stall model, emulator/master.ts BUS_STALLED) is only
  // run ahead of virtual time through quietLookup, which never answers true for an access
  // that would fault: without it, hand back to the reference step path
  if (tr && !quiet && typeof xl.onStallResolved === 'function') return false;
  const period = acc.h.periodNs;
  // the DMALPEND being executed: its fetch cost plus its own cycle
  let delay = (acc.h.cycles + TIMING.insnCycles) * period + acc.h.port.takeCost();
  let lc = lc1 ? t.lc1 : t.lc0;
  let moved = 0;
  const limit = Math.max(1, acc.h.cfg.bulkChunkBytes);
  let first = true;
  const b = acc.insn;
  const bodyLen = lpend - start;
  const srcAttrs = acc.h.dataAttrs(C.ccrSrcProt(t.ccr), false);
  const dstAttrs = acc.h.dataAttrs(C.ccrDstProt(t.ccr), true);
  if (xfast && typeof xl.translateCopyRun === 'function' && seg.nLd === 1 && seg.nSt === 1 && lc > 0 &&
    copyRun(acc, t, xl, start, lpend, lc1, lc, seg, srcBurst, srcAttrs, dstAttrs, delay, limit, budget)) return true;
  // after a segment the next iteration starts a new page on one side at least: run it
  // burst by burst (its first lookups miss) rather than probing for a segment first
  let trySeg = true;
  for (;;) {
    if (segments && (trySeg || !xfast)) {
      const k = segment(acc, t, seg, xl, lc, Math.max(1, Math.floor((limit - moved) / seg.srcPer)), budget - delay, srcAttrs, dstAttrs);
      if (k > 0) {
        // k x (DMALPEND + body); the first DMALPEND is the one being executed (counted)
        const lpends = first ? k - 1 : k;
        t.instructions += lpends + k * bodyLen;
        delay += (k * seg.cyc - (first ? TIMING.insnCycles : 0)) * period + acc.segCost;
        first = false;
        lc -= k;
        if (lc1) t.lc1 = lc;
        else t.lc0 = lc;
        moved += k * seg.srcPer;
        t.pc = lpend;
        if (lc === 0 || moved >= limit) break;
        trySeg = false;
        continue;
      }
    }
    trySeg = true;
    // the DMALPEND runs at now + delay: past the horizon it is left to the step path
    if (!first && delay >= budget) break;
    // DMALPEND jumps back
    if (!first) {
      t.instructions++;
      delay += TIMING.insnCycles * period;
    }
    first = false;
    lc--;
    if (lc1) t.lc1 = lc;
    else t.lc0 = lc;
    for (let a = start; a < lpend; a++) {
      const op = ops[a - start]!;
      if (delay >= budget) {
        // this instruction runs at or after the next event of something else: step path
        xMaterialize(acc, t);
        t.pc = a;
        acc.h.kick(t, delay);
        return true;
      }
      const isLd = isLoadOp(op);
      const isSt = isStoreOp(op);
      if (xfast && (isLd || isSt) && condOk(t, op)) {
        // translation-level execution of one burst (see xAccess)
        const d = xAccess(acc, t, xl, isLd, isLd ? srcBurst : dstBurst, isLd ? srcAttrs : dstAttrs);
        if (d < 0) {
          xMaterialize(acc, t);
          t.pc = a;
          if (d === -2) {
            // cannot happen with a stage honouring quietLookup; deliver as a bus error
            // at the instruction's exact time
            const bits = isLd ? C.FT_DATA_READ_ERR : C.FT_DATA_WRITE_ERR;
            t.instructions++;
            acc.h.sched.cancel(t.ev);
            t.ev = acc.h.sched.schedule(delay, () => {
              t.ev = null;
              acc.h.fault(t, bits);
            }, `${acc.h.name}:ch${t.id}:fault`);
            return true;
          }
          acc.h.kick(t, delay);
          return true;
        }
        t.instructions++;
        moved += isLd ? srcBurst : 0;
        delay += (TIMING.axiLatencyCycles + (isLd ? C.ccrSrcLen(t.ccr) : C.ccrDstLen(t.ccr)) + TIMING.insnCycles) * period + d;
        continue;
      }
      if (xfast && (isOneCycleOp(op) || isLd || isSt)) {
        // barrier, DMANOP, or a load/store whose condition is false: one cycle
        t.instructions++;
        delay += TIMING.insnCycles * period;
        continue;
      }
      if (tr && (isLd || isSt) && condOk(t, op)) {
        let ok: boolean;
        if (quiet) {
          const addr = isLd ? t.sar : t.dar;
          const n = isLd ? srcBurst : dstBurst;
          ok = Math.floor(addr / P) === Math.floor((addr + n - 1) / P) && xl.quietLookup!(addr, isLd ? srcAttrs : dstAttrs);
        } else ok = isLd ? inPage(t.sar, srcBurst, t.lastSrcPage) : inPage(t.dar, dstBurst, t.lastDstPage);
        if (!ok) {
          // leave the rest to the step path, from this instruction at its exact time
          t.pc = a;
          acc.h.kick(t, delay);
          return true;
        }
      }
      t.pc = a;
      t.instructions++;
      acc.h.cycles = 0;
      b[0] = op;
      const before = delay;
      acc.h.deferredFault = 0;
      acc.h.deferFaults = true;
      flushCopy(acc);
      const r = acc.h.execute(t, b, false);
      acc.h.deferFaults = false;
      if (r !== Next.Advance) {
        const bits = acc.h.deferredFault;
        if (bits !== 0) {
          // the fault happens when step execution would have executed this instruction
          acc.h.port.takeCost();
          acc.h.sched.cancel(t.ev);
          t.ev = acc.h.sched.schedule(before, () => {
            t.ev = null;
            acc.h.fault(t, bits);
          }, `${acc.h.name}:ch${t.id}:fault`);
          return true;
        }
        // not expected for these instructions; fall back to stepping from here
        acc.h.kick(t, before);
        return true;
      }
      moved += isLd ? srcBurst : 0;
      delay += (acc.h.cycles + TIMING.insnCycles) * period + acc.h.port.takeCost();
    }
    t.pc = lpend;
    if (lc === 0 || moved >= limit) break;
  }
  acc.h.kick(t, delay);
  return true;
}