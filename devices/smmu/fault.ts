/**
 * Fault recording and the SMMU's interrupt outputs (IHI 0062, "Fault handling": context
 * faults in CBn_FSR / FAR / FSYNR0 and GR1 CBFRSYNRAn, global faults in sGFSR / sGFAR / sGFSYNRn), and the
 * guest-visible writes that clear or restore them (FSR and sGFSR are write-1-to-clear,
 * FSRRESTORE / sGFSRRESTORE write them, RESUME ends a stalled transaction).
 *
 * The 2014 arm-smmu driver's context fault handler (arm_smmu_context_fault) reads FSR,
 * FSYNR0 and FAR, writes FSR back to clear it and, when FSR.SS is set, writes RESUME;
 * its global handler (arm_smmu_global_fault) reads sGFSR/sGFSYNR0/1/sGFAR and writes
 * sGFSR back.
 *
 * Stall model (IHI 0062, "Fault handling", the stall and terminate models; CBn_SCTLR.CFCFG,
 * CBn_FSR.SS, CBn_RESUME): with CFCFG = 0 a context fault terminates the transaction at
 * once (the master gets a bus error, or, with CBn_SCTLR.CFRE = 0, RAZ/WI: Smmu.translate).
 * sCR0.STALLD = 1 makes every bank behave as CFCFG = 0, sCR0.GSE = 1 as CFCFG = 1 (`stallModel`). With CFCFG = 1 (and
 * STALLD = 0) the faulting transaction is held in the
 * SMMU: the fault is recorded (FSR with SS set, FAR, FSYNR0), the context interrupt rises,
 * and the master gets no answer until software writes CBn_RESUME: TnR = 1 terminates it
 * (the master's access then ends with the bus error or, with CBn_SCTLR.CFRE = 0, completes
 * as RAZ/WI: StallOutcome 'razwi'), TnR = 0 retries it (the master issues the same access
 * again, which translates anew). `recordContext` decides what a fault does
 * (returns whether it stalled), `resume` what RESUME does; the master waits through
 * TranslationStage.onStallResolved (emulator/master.ts), so nothing here runs the master.
 *
 * Choices where the architecture leaves room: a second transaction that faults in a bank
 * whose FSR already holds a fault (or SS) sets MULTI and, in stall mode, is held as well;
 * one RESUME resolves every transaction held by that bank, in arrival order. RESUME with
 * FSR.SS clear does nothing. A reset terminates the held transactions.
 *
 * Hit under previous context fault (CBn_SCTLR.HUPCF, bit 8). With HUPCF = 1 a bank keeps
 * translating while a fault is outstanding. With HUPCF = 0, which both Linux drivers program
 * (3.14 arm_smmu_init_context_bank, v6.12 arm_smmu_write_context_bank: SCTLR without HUPCF),
 * the fault model applies to every later transaction of the context: IHI 0062's HUPCF = 0 is
 * "stall or terminate subsequent transactions in the presence of an outstanding context
 * fault"; the MMU-500 TRM (DDI 0517, 2.3.4 "Fault handling") applies it "across TBUs that share
 * the same context"; mainline's arm-smmu-qcom.c sets HUPCF for the Adreno GPU "to ensure that
 * pending translations are not terminated on iova fault". The architecture text was not
 * available here, so what "outstanding" means is our reading, stated and tested: in the stall
 * model while FSR.SS is set (a transaction waits for RESUME), in the terminate model while FSR
 * holds a fault bit (until software writes it back). Such a transaction is not translated and
 * records no fault (FSR, FAR, MULTI unchanged): in the stall model it is held with the
 * faulting ones and the next RESUME gives it the same outcome; in the terminate model the
 * master gets the terminated answer at once, as a faulting one would (a bus error, or RAZ/WI
 * with CFRE = 0: choice) (`heldUnderFault` counts both).
 *
 * RESUME with TnR = 1 and CBn_SCTLR.CFRE = 0 (IHI 0062 CBn_SCTLR.CFRE, "Context Fault Report
 * Enable": with it clear a terminated transaction gets no abort, RAZ/WI): the held
 * transactions end as 'razwi' (the master completes them with zeros / drops the write, sees
 * no error; the fault stays recorded). Choice: CFRE is read from the bank whose RESUME is
 * written (the bank that holds the transactions: for a nested stage-2 fault the stage-2
 * bank) when RESUME is written, not when the transaction stalled (the register that decides
 * an abort is read when the abort would be given). A reset still terminates with the bus
 * error (it is not a RESUME; SCTLR is reset already).
 */
import { ATTR_INSTR, ATTR_NS, ATTR_PRIV, ATTR_WRITE, type Attrs } from '../../emulator/attrs.js';
import type { StallListener, StallOutcome } from '../../emulator/master.js';
import * as R from './regs.js';
import { CBS, GS } from './regs.js';
import type { Smmu } from './smmu.js';
import { TWO32, type SmmuFaultRecord, type SmmuFaultType } from './types.js';

export const MAX_FAULT_RECORDS = 4096;

export function contextFaultType(fsrBit: number): SmmuFaultType {
  return fsrBit === R.FSR_TF ? 'translation' : fsrBit === R.FSR_AFF ? 'access-flag' : fsrBit === R.FSR_PF ? 'permission' : 'external';
}

/** A transaction held by a context bank in stall mode. */
export interface StalledTransaction {
  cb: number;
  va: number;
  attrs: Attrs;
  /** virtual time it stalled */
  since: number;
  /** the master's continuation (TranslationStage.onStallResolved), null until it registers */
  listener: StallListener | null;
}

export class FaultUnit {
  readonly log: SmmuFaultRecord[] = [];
  /** fault records dropped because the log was full */
  dropped = 0;
  /** the transactions held in stall mode, in arrival order */
  readonly stalled: StalledTransaction[] = [];
  /** transactions that stalled / were resumed with retry / with terminate (either outcome), since reset */
  stalls = 0;
  retries = 0;
  terminations = 0;
  /** of the terminations, those completed as RAZ/WI (CBn_SCTLR.CFRE = 0), since reset */
  razwiTerminations = 0;

  constructor(private readonly s: Smmu) {}

  reset(): void {
    this.log.length = 0;
    this.dropped = 0;
    this.stalls = this.retries = this.terminations = this.razwiTerminations = 0;
    this.release(-1, 'terminate');
  }

  /** TranslationStage.onStallResolved: the master of the last stalled transaction waits */
  attach(listener: StallListener): void {
    const t = this.stalled[this.stalled.length - 1];
    if (t === undefined || t.listener !== null) throw new Error(`${this.s.name}: onStallResolved without a stalled transaction`);
    t.listener = listener;
  }

  /** end the held transactions of bank cb (-1: all) with `outcome`, in arrival order */
  private release(cb: number, outcome: StallOutcome): void {
    const st = this.stalled;
    const done: StalledTransaction[] = [];
    for (let i = 0; i < st.length; ) {
      if (cb < 0 || st[i]!.cb === cb) done.push(st.splice(i, 1)[0]!);
      else i++;
    }
    for (const t of done) {
      if (outcome === 'retry') this.retries++;
      else {
        this.terminations++;
        if (outcome === 'razwi') this.razwiTerminations++;
      }
      const tr = this.s.tracer;
      if (tr !== null && tr.enabled) {
        tr.emit(this.s.name, 'smmu-resume', { cb: t.cb, sid: (t.attrs >>> 16) & 0x7fff, va: t.va, outcome, stalledNs: this.s.now() - t.since });
      }
      if (t.listener !== null) t.listener(outcome);
    }
  }

  private syndromeAttrs(attrs: Attrs, wnr: number, pnu: number, ind: number, nsattr: number, nsstate: number): number {
    let s = 0;
    if ((attrs & ATTR_WRITE) !== 0) s |= wnr;
    if ((attrs & ATTR_PRIV) === 0) s |= pnu;
    if ((attrs & ATTR_INSTR) !== 0) s |= ind;
    if ((attrs & ATTR_NS) !== 0) s |= nsattr | nsstate;
    return s;
  }

  private append(rec: SmmuFaultRecord): void {
    if (this.log.length < MAX_FAULT_RECORDS) this.log.push(rec);
    else this.dropped++;
    const tr = this.s.tracer;
    if (tr !== null && tr.enabled) {
      tr.emit(this.s.name, 'smmu-fault', { scope: rec.scope, type: rec.type, sid: rec.streamId, va: rec.va, cb: rec.cb, level: rec.level, multi: rec.multi ? 1 : 0 });
    }
  }

  /**
   * Record the context fault the last resolve found (res.cb, res.fsr, res.level, res.ptw)
   * for the access (va, attrs0). A fault that finds FSR already holding a fault (any fault
   * bit or SS) only sets MULTI: FAR/FSYNR0 keep the first fault's syndrome (IHI 0062,
   * CBn_FSR.MULTI). Stall (SCTLR.CFCFG = 1): FSR.SS is set as well and the transaction is
   * held (returns true: the master gets BUS_STALLED); false: terminated at once.
   */
  recordContext(va: number, attrs0: Attrs): boolean {
    const s = this.s;
    const r = s.res;
    const cb = r.cb;
    const c = s.c;
    const o = cb * s.cbSlots;
    s.stats.contextFaults++;
    // the bank's fault state changes what later translations do (HUPCF): the accelerators'
    // caches, keyed to the epoch, must not answer for it
    s.epoch++;
    const f = c[o + CBS.FSR]!;
    const multi = (f & (R.FSR_FAULTS | R.FSR_SS)) !== 0;
    const stall = this.stallModel(cb);
    if (multi) {
      c[o + CBS.FSR] = f | R.FSR_MULTI;
    } else {
      let nf = f | r.fsr;
      if (stall) nf |= R.FSR_SS;
      c[o + CBS.FSR] = nf;
      // a stage-2 fault of a nested translation, recorded in the stage-2 bank (walk-nested.ts):
      // FAR holds the IPA that faulted at stage 2 and FSYNR0.S1CBNDX the stage-1 bank (choice:
      // SMMUv1 has no CBn_IPAFAR; docs/SMMU.md "Nested contexts")
      const far = r.s2nested ? r.ipa : va;
      c[o + CBS.FAR_LO] = far % TWO32;
      c[o + CBS.FAR_HI] = Math.floor(far / TWO32);
      c[o + CBS.FSYNR0] =
        (r.level & 3) |
        this.syndromeAttrs(r.attrs, R.FSYNR0_WNR, R.FSYNR0_PNU, R.FSYNR0_IND, R.FSYNR0_NSATTR, R.FSYNR0_NSSTATE) |
        (r.ptw ? R.FSYNR0_PTWF : 0) |
        (r.s2nested ? (r.s1cb & 0xff) << R.FSYNR0_S1CBNDX_SHIFT : 0);
      // CBFRSYNRAn (GR1): the faulting stream id, recorded with FAR/FSYNR0
      s.cbar[s.cbfrsynraBase + cb] = (attrs0 >>> 16) & 0x7fff;
    }
    this.append({ time: s.now(), streamId: (attrs0 >>> 16) & 0x7fff, va, attrs: attrs0, type: contextFaultType(r.fsr), scope: 'context', cb, level: r.level, multi });
    if (stall) {
      this.stalls++;
      this.stalled.push({ cb, va, attrs: attrs0, since: s.now(), listener: null });
    }
    this.update();
    return stall;
  }

  /**
   * HUPCF = 0: has context bank cb a fault outstanding? Stall model (SCTLR.CFCFG): FSR.SS set;
   * terminate model: a fault bit in FSR not yet written back (see the header).
   */
  outstanding(cb: number): boolean {
    const o = cb * this.s.cbSlots;
    const f = this.s.c[o + CBS.FSR]!;
    return this.stallModel(cb) ? (f & R.FSR_SS) !== 0 : (f & R.FSR_FAULTS) !== 0;
  }

  /**
   * Does context bank cb follow the stall model? CBn_SCTLR.CFCFG = 1 or sCR0.GSE = 1, read
   * through sCR0.STALLD (IHI 0062 sCR0: GSE, Global Stall Enable, enforces the stall model in
   * every context bank; STALLD, Stall Disable, makes every bank behave as CFCFG = 0, the
   * terminate model). GSE and STALLD both set: STALLD wins (choice: the architecture does not
   * give the combination a meaning in the text available here; not stalling is the safe
   * reading). CBn_SCTLR keeps the CFCFG software wrote (it reads back as written: choice).
   */
  stallModel(cb: number): boolean {
    const s = this.s;
    const scr0 = s.g[GS.sCR0]!;
    return ((s.c[cb * s.cbSlots + CBS.SCTLR]! & R.SCTLR_CFCFG) !== 0 || (scr0 & R.SCR0_GSE) !== 0) && (scr0 & R.SCR0_STALLD) === 0;
  }

  /**
   * A transaction of a context whose fault is outstanding with HUPCF = 0 (the last resolve's
   * res.cb): nothing is recorded; stall model: held with the bank's stalled transactions
   * (returns true: BUS_STALLED); terminate model: false, the master gets the error now.
   */
  holdUnderFault(va: number, attrs0: Attrs): boolean {
    const s = this.s;
    const cb = s.res.cb;
    s.stats.heldUnderFault++;
    if (!this.stallModel(cb)) return false;
    this.stalls++;
    this.stalled.push({ cb, va, attrs: attrs0, since: s.now(), listener: null });
    return true;
  }

  /** Record the global fault the last resolve found (res.gfsr) for the access (va, attrs0). */
  recordGlobal(va: number, attrs0: Attrs): void {
    const s = this.s;
    const r = s.res;
    const g = s.g;
    s.stats.globalFaults++;
    const bit = r.gfsr;
    const gfsr = g[GS.sGFSR]!;
    const multi = (gfsr & 0xff) !== 0;
    if (multi) {
      g[GS.sGFSR] = gfsr | R.GFSR_MULTI;
    } else {
      g[GS.sGFSR] = gfsr | bit;
      g[GS.sGFAR_LO] = va % TWO32;
      g[GS.sGFAR_HI] = Math.floor(va / TWO32);
      g[GS.sGFSYNR0] =
        this.syndromeAttrs(r.attrs, R.GFSYNR0_WNR, R.GFSYNR0_PNU, R.GFSYNR0_IND, R.GFSYNR0_NSATTR, R.GFSYNR0_NSSTATE) | (r.gnested ? R.GFSYNR0_NESTED : 0);
      g[GS.sGFSYNR1] = (attrs0 >>> 16) & 0x7fff;
    }
    const type = this.globalFaultType(bit, r.cb, attrs0);
    this.append({ time: s.now(), streamId: (attrs0 >>> 16) & 0x7fff, va, attrs: attrs0, type, scope: 'global', cb: r.cb, level: 0, multi });
    this.update();
  }

  globalFaultType(bit: number, cb: number, attrs0: Attrs): SmmuFaultType {
    return bit === R.GFSR_USF
      ? (cb === -1 && this.s.stream.isS2crFault(attrs0) ? 's2cr-fault' : 'unidentified-stream')
      : bit === R.GFSR_SMCF
        ? 'stream-match-conflict'
        : bit === R.GFSR_UCBF
          ? 'unimplemented-context-bank'
          : 'invalid-context';
  }

  // ---- guest writes (register table handlers, regs.ts) ----

  /** sGFSR: write 1 to clear */
  w1cGfsr(v: number): void {
    const g = this.s.g;
    g[GS.sGFSR] = (g[GS.sGFSR]! & ~(v & R.GFSR_ALL)) >>> 0;
    this.update();
  }

  /** sGFSRRESTORE: writes sGFSR */
  restoreGfsr(v: number): void {
    this.s.g[GS.sGFSR] = v & R.GFSR_ALL;
    this.update();
  }

  /** CBn_FSR: write 1 to clear; SS is cleared by RESUME, not by FSR (IHI 0062, CBn_FSR) */
  w1cFsr(cb: number, v: number): void {
    const k = cb * this.s.cbSlots + CBS.FSR;
    const c = this.s.c;
    c[k] = (c[k]! & ~(v & (R.FSR_FAULTS | R.FSR_MULTI))) >>> 0;
    this.update();
  }

  /** CBn_FSRRESTORE: writes FSR */
  restoreFsr(cb: number, v: number): void {
    this.s.c[cb * this.s.cbSlots + CBS.FSR] = v & R.FSR_ALL;
    this.update();
  }

  /**
   * CBn_RESUME (IHI 0062, CBn_RESUME): TnR (bit 0) = 1 terminates the bank's stalled
   * transactions (their masters get the bus error now or, with the bank's CBn_SCTLR.CFRE = 0,
   * complete them as RAZ/WI: see the header), 0 retries them (their masters issue the accesses
   * again). Clears FSR.SS. Without SS set there is nothing stalled: ignored. The masters'
   * continuations only schedule (StallListener), so this write returns at once.
   */
  resume(cb: number, v: number): void {
    const s = this.s;
    const k = cb * s.cbSlots + CBS.FSR;
    if ((s.c[k]! & R.FSR_SS) === 0) return;
    s.c[k] = s.c[k]! & ~R.FSR_SS;
    this.update();
    let outcome: StallOutcome = 'retry';
    if ((v & R.RESUME_TERMINATE) !== 0) outcome = (s.c[cb * s.cbSlots + CBS.SCTLR]! & R.SCTLR_CFRE) !== 0 ? 'terminate' : 'razwi';
    this.release(cb, outcome);
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
  update(): void {
    const s = this.s;
    const ctx = s.cfg.contextIrqs;
    const c = s.c;
    const cs = s.cbSlots;
    const cbar = s.cbar;
    const g = s.g;
    // compute levels without allocating: one pass per line (few lines)
    for (let line = 0; line < ctx.length; line++) {
      let lvl = false;
      for (let cb = 0; cb < s.numCb; cb++) {
        if (((cbar[cb]! >>> R.CBAR_IRPTNDX_SHIFT) & 0xff) !== line) continue;
        if ((c[cb * cs + CBS.SCTLR]! & R.SCTLR_CFIE) !== 0 && (c[cb * cs + CBS.FSR]! & R.FSR_ALL) !== 0) lvl = true;
      }
      ctx[line]!.set(lvl);
    }
    for (let cb = 0; cb < s.numCb; cb++) {
      const ndx = (cbar[cb]! >>> R.CBAR_IRPTNDX_SHIFT) & 0xff;
      if (ndx >= ctx.length && (c[cb * cs + CBS.SCTLR]! & R.SCTLR_CFIE) !== 0 && (c[cb * cs + CBS.FSR]! & R.FSR_ALL) !== 0 && (g[GS.sGFSR]! & R.GFSR_UCIF) === 0) {
        if ((g[GS.sGFSR]! & 0xff) !== 0) g[GS.sGFSR] = g[GS.sGFSR]! | R.GFSR_MULTI;
        else g[GS.sGFSR] = g[GS.sGFSR]! | R.GFSR_UCIF;
      }
    }
    const line = s.cfg.globalIrqs[0];
    if (line !== undefined) {
      const scr0 = g[GS.sCR0]!;
      const gfsr = g[GS.sGFSR]!;
      let lvl = false;
      if ((scr0 & R.SCR0_GFIE) !== 0 && (gfsr & ~R.GFSR_CONFIG & 0xff) !== 0) lvl = true;
      if ((scr0 & R.SCR0_GCFGFIE) !== 0 && (gfsr & R.GFSR_CONFIG) !== 0) lvl = true;
      if ((scr0 & (R.SCR0_GFIE | R.SCR0_GCFGFIE)) !== 0 && (gfsr & R.GFSR_MULTI) !== 0) lvl = true;
      line.set(lvl);
    }
  }
}
