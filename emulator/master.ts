import { type Attrs } from './attrs.js';
import { BUS_OK, BUS_TRANSLATION_FAULT, type PhysicalBus } from './bus.js';
import { WIDE_FIELD_INIT } from './time.js';

/**
 * A translation stage that a bus master's port sits behind (the SMMU plugs in here).
 *
 * `translate` fills `out` for the access at input address `va` with attributes `attrs`
 * (stream id, read/write, instruction/data, privileged, secure). On success out.status
 * is BUS_OK, out.pa is the output address and out.extent the number of bytes from `va`
 * for which the same translation and permission hold (at least 1; typically up to the
 * end of the page), so bulk transfers translate once per page. out.costNs is the
 * virtual time the lookup took (TLB hit or table walk), charged by the master.
 * On a fault out.status is BUS_TRANSLATION_FAULT (terminated) and the stage has already
 * recorded the fault in its own registers; out.extent is 0. A stage whose fault reporting
 * is off answers BUS_RAZWI instead (below): the fault is recorded, the master sees no error.
 *
 * Stall model: a stage may instead answer BUS_STALLED (out.extent 0): the transaction is
 * held in the stage (e.g. an SMMU context bank with SCTLR.CFCFG = 1, IHI 0062 "Stall
 * model") and has not completed. The master must then neither complete nor fail the
 * access: it registers with `onStallResolved` (MasterPort.awaitStall) and, when the stage
 * resolves the stall, either issues the same access again ('retry'), takes the bus error
 * the access now ends with ('terminate') or completes it with RAZ/WI behaviour ('razwi':
 * terminated without an abort, e.g. an SMMU context bank with CBn_SCTLR.CFRE = 0; the
 * master re-issues it under MasterPort.completeAsRazwi, which answers it as BUS_RAZWI
 * without asking the stage again).
 */
export interface TranslationResult {
  status: number;
  pa: number;
  extent: number;
  costNs: number;
}

/**
 * What a translation stage decided for a stalled transaction (IHI 0062 CBn_RESUME.TnR):
 * 'retry' (TnR = 0: the master issues it again and it translates anew), 'terminate' (TnR = 1
 * with fault reporting on, CBn_SCTLR.CFRE = 1: the access ends with a bus error) or 'razwi'
 * (TnR = 1 with CFRE = 0: terminated without an abort: a read returns zeros, a write is
 * dropped, the master sees no error; the fault stays recorded in the stage).
 */
export type StallOutcome = 'retry' | 'terminate' | 'razwi';

/**
 * Called once when a stalled transaction is resolved. It runs inside the register write
 * that resolves the stall (e.g. the CPU's store to CBn_RESUME), so it must only schedule
 * the master's continuation on the scheduler, never run the master's engine itself (no
 * host recursion from a CPU store into a DMA engine's step).
 */
export type StallListener = (outcome: StallOutcome) => void;

export interface TranslationStage {
  readonly name: string;
  translate(va: number, attrs: Attrs, out: TranslationResult): void;
  /**
   * Stall model: attach `listener` to the transaction the last translate() answered with
   * BUS_STALLED. A stage that never stalls need not implement it.
   */
  onStallResolved?(listener: StallListener): void;
  /**
   * Optional bulk-DMA hook (side-effect free): true when `translate(va, attrs)` made now
   * would succeed and leave no time-stamped trace of itself (no fault record, no fault
   * interrupt, no trace event), i.e. its only effects are TLB fill/replacement and
   * statistics. A master may then perform that translate() inside a batch that runs ahead
   * of virtual time. Stages without it are only ever called at the exact virtual time.
   * When `out` is given and the answer is true, it receives what that translate() will
   * report (status BUS_OK, pa, extent, costNs). With `avoidLo < avoidHi` the answer is
   * also false when the lookup reads memory (a table walk) in physical [avoidLo, avoidHi):
   * a master holding back writes to that range must write them first.
   */
  quietLookup?(va: number, attrs: Attrs, out?: TranslationResult, avoidLo?: number, avoidHi?: number): boolean;
  /**
   * Optional bulk-DMA hook: if `translate(va, attrs)` made now would be a pure hit (TLB
   * hit or bypass: no state change other than statistics), account `count` such lookups
   * exactly as `count` translate() calls would (statistics only), fill `out` (status
   * BUS_OK, pa, costNs = the cost of ONE lookup, extent = bytes from va for which every
   * further lookup is also such a hit with the same translation) and return true.
   * Otherwise change nothing and return false. count = 0 only probes.
   */
  translateHits?(va: number, attrs: Attrs, count: number, out: TranslationResult): boolean;
  /**
   * Optional bulk-DMA hook for a copy loop (see CopyRun): performs, in order, the translate()
   * calls of the accesses R0 W0 R1 W1 ... (Ri reads `burst` bytes at srcVa + i*burst with
   * srcAttrs, Wi writes `burst` bytes at dstVa + i*burst with dstAttrs), with exactly the
   * effects those calls would have (statistics, TLB fills and replacement), and stops before
   * the first access that would not be quiet (see quietLookup: fault, traced walk), whose
   * burst crosses a 4 KiB page, whose output page is not RAM, or whose table walk would read
   * memory that an earlier write access of this run writes (the master applies the data
   * after the call), or that would pass the run's time limit (run.limitNs). Fills run.done,
   * run.costNs, run.srcPa/dstPa.
   */
  translateCopyRun?(run: CopyRun): void;
}

/**
 * In/out block of TranslationStage.translateCopyRun (preallocated by the master; no
 * allocation per call).
 */
export interface CopyRun {
  srcVa: number;
  srcAttrs: Attrs;
  dstVa: number;
  dstAttrs: Attrs;
  /** bytes per access (both sides) */
  burst: number;
  /** iterations requested (each = one read access then one write access) */
  iterations: number;
  /**
   * Time limit of the run (ns; Infinity: none). The stage stops before an access unless
   * `iterNs` for every iteration begun so far (that access's included) plus the cost of
   * every access performed (that access's included) stays <= limitNs. A master running
   * ahead of virtual time passes the room to the next event of anything else and its own
   * upper bound of one iteration's time outside the lookups.
   */
  limitNs: number;
  /** upper bound of one iteration's time outside the translations (ns; see limitNs) */
  iterNs: number;
  /** out: accesses performed (2 x complete iterations, + 1 when the last read only) */
  done: number;
  /** out: translation cost of those accesses (sum of what each translate() reports) */
  costNs: number;
  /** out: output address of each 4 KiB input page touched, index = page - first page; capacity = length */
  srcPa: Float64Array;
  dstPa: Float64Array;
}

/**
 * Status of an access a translation stage holds stalled (see TranslationStage): not an
 * error yet; the master waits (MasterPort.awaitStall). Never returned by the bus itself.
 */
export const BUS_STALLED = -4;

/**
 * Status of an access a translation stage terminated with RAZ/WI behaviour (an SMMU fault
 * with CBn_SCTLR.CFRE = 0 or sCR0.GFRE / GCFGFRE = 0, IHI 0062 CBn_SCTLR / sCR0): the stage
 * has recorded the fault; the master sees no error: a read returns zeros, a write is
 * dropped. out.extent is the number of bytes from va the same answer covers (to the end of
 * the 4 KiB page). Never returned by the bus itself, never returned by MasterPort's
 * read/write/readBlock/writeBlock (they complete the access as RAZ/WI).
 */
export const BUS_RAZWI = -5;

export function newTranslationResult(): TranslationResult {
  return { status: BUS_OK, pa: 0, extent: 0, costNs: 0 };
}

/** What a master's port reports about its last failed access. */
export interface MasterFault {
  va: number;
  attrs: Attrs;
  status: number;
}

/**
 * A bus master's port onto the physical bus, optionally behind a translation stage.
 * Every access carries the master's attributes. The port accumulates the translation
 * cost (costNs) that its owner charges to its own timeline, and keeps the last fault.
 */
export class MasterPort {
  /** translation time accumulated since the owner last took it */
  costNs = 0;
  lastFault: MasterFault | null = null;
  /**
   * The access the translation stage holds stalled (its last answer was BUS_STALLED), or
   * null. Set by the access that stalled, cleared by awaitStall.
   */
  stalled: MasterFault | null = null;
  /** bytes moved through this port (reads + writes; a double from the start: time.ts WIDE_FIELD_INIT) */
  bytes = WIDE_FIELD_INIT;
  private readonly tr: TranslationResult = newTranslationResult();
  /**
   * The stalled accesses completed as RAZ/WI (completeAsRazwi), or null: checked before the
   * stage on every translation (one comparison while null).
   */
  private rz: readonly MasterFault[] | null = null;

  constructor(
    readonly bus: PhysicalBus,
    readonly name: string,
    public translator: TranslationStage | null = null,
  ) {
    this.bytes = 0;
  }

  takeCost(): number {
    const c = this.costNs;
    this.costNs = 0;
    return c;
  }

  /**
   * Wait for the stalled access (stalled != null) to be resolved: `listener` is called once
   * with 'retry' (issue the same access again), 'terminate' (the access ended with a
   * bus error: lastFault then says BUS_TRANSLATION_FAULT) or 'razwi' (the access ended
   * without an error, as RAZ/WI: the master re-issues it under completeAsRazwi(access), which
   * answers it with zeros / drops it). `access` is the stalled access. It is called from the
   * register write that resolves the stall, so it must only schedule (StallListener).
   */
  awaitStall(listener: (outcome: StallOutcome, access: MasterFault) => void): void {
    const s = this.stalled;
    const t = this.translator;
    if (s === null || t === null || t.onStallResolved === undefined) throw new Error(`${this.name}: awaitStall without a stalled access`);
    this.stalled = null;
    t.onStallResolved((outcome) => {
      if (outcome === 'terminate') this.lastFault = { va: s.va, attrs: s.attrs, status: BUS_TRANSLATION_FAULT };
      // RAZ/WI: the access ends without an error (the stall noted it as the last fault)
      else if (outcome === 'razwi' && this.lastFault === s) this.lastFault = null;
      listener(outcome, s);
    });
  }

  /**
   * Complete stalled accesses their stage resolved as 'razwi' (awaitStall): while armed (the
   * master arms it around the re-issue of those accesses and disarms it with null), every
   * translation of one of `accesses` (same input address, same attributes) answers BUS_RAZWI
   * for the rest of its 4 KiB page without asking the stage (the stage has recorded the fault
   * and terminated the transaction already; asking again would fault anew): read returns 0,
   * write is dropped, readBlock zero-fills, writeBlock skips, no lastFault, no bytes counted,
   * no cost. Every beat of a fixed-address burst repeats the same address and attributes, so
   * one stalled burst is completed whole. Other accesses translate as usual. A master that
   * re-issues a whole instruction passes every access of it terminated so far (a burst over
   * two pages can stall on each), so that a terminated part is not issued again.
   */
  completeAsRazwi(accesses: readonly MasterFault[] | null): void {
    this.rz = accesses !== null && accesses.length > 0 ? accesses : null;
  }

  private razwiDone(va: number, attrs: Attrs): boolean {
    const rz = this.rz!;
    for (let i = 0; i < rz.length; i++) if (rz[i]!.va === va && rz[i]!.attrs === attrs) return true;
    return false;
  }

  private noteFault(va: number, attrs: Attrs, status: number): void {
    const f = { va, attrs, status };
    this.lastFault = f;
    if (status === BUS_STALLED) this.stalled = f;
  }

  /** Translate one address; returns the pa or a negative status (fault recorded). */
  private xlate(va: number, attrs: Attrs, len: number): number {
    const t = this.translator;
    if (t === null) return va;
    if (this.rz !== null && this.razwiDone(va, attrs)) return BUS_RAZWI;
    const tr = this.tr;
    t.translate(va, attrs, tr);
    this.costNs += tr.costNs;
    if (tr.status !== BUS_OK) {
      // RAZ/WI: no error for the master, so no lastFault
      if (tr.status !== BUS_RAZWI) this.noteFault(va, attrs, tr.status);
      return tr.status;
    }
    if (tr.extent < len) {
      // the access straddles a translation boundary: only legal for aligned accesses,
      // which never straddle a page; treat as a translation fault on the upper part.
      this.lastFault = { va: va + tr.extent, attrs, status: BUS_TRANSLATION_FAULT };
      return BUS_TRANSLATION_FAULT;
    }
    return tr.pa;
  }

  read(va: number, size: number, attrs: Attrs): number {
    const pa = this.xlate(va, attrs, size);
    if (pa < 0) return pa === BUS_RAZWI ? 0 : pa;
    const v = this.bus.read(pa, size, attrs);
    if (v < 0) this.lastFault = { va, attrs, status: v };
    else this.bytes += size;
    return v;
  }

  write(va: number, size: number, value: number, attrs: Attrs): number {
    const pa = this.xlate(va, attrs, size);
    if (pa < 0) return pa === BUS_RAZWI ? BUS_OK : pa;
    const st = this.bus.write(pa, size, value, attrs);
    if (st !== BUS_OK) this.lastFault = { va, attrs, status: st };
    else this.bytes += size;
    return st;
  }

  /**
   * Read `len` bytes at input address `va` into dst. Translates once per extent (page)
   * and copies blocks. On error returns the status; lastFault names the failing address.
   * A part the stage answers RAZ/WI (BUS_RAZWI) reads as zeros (not counted in `bytes`).
   */
  readBlock(va: number, dst: Uint8Array, dstOff: number, len: number, attrs: Attrs): number {
    while (len > 0) {
      const [pa, n] = this.span(va, len, attrs);
      if (pa === BUS_RAZWI) dst.fill(0, dstOff, dstOff + n);
      else if (pa < 0) return pa;
      else {
        const st = this.bus.readBlock(pa, dst, dstOff, n, attrs);
        if (st !== BUS_OK) {
          this.lastFault = { va, attrs, status: st };
          return st;
        }
        this.bytes += n;
      }
      va += n;
      dstOff += n;
      len -= n;
    }
    return BUS_OK;
  }

  /** writeBlock: as readBlock; a part the stage answers RAZ/WI is dropped. */
  writeBlock(va: number, src: Uint8Array, srcOff: number, len: number, attrs: Attrs): number {
    while (len > 0) {
      const [pa, n] = this.span(va, len, attrs);
      if (pa === BUS_RAZWI) {
        // WI: the bytes are dropped
      } else if (pa < 0) return pa;
      else {
        const st = this.bus.writeBlock(pa, src, srcOff, n, attrs);
        if (st !== BUS_OK) {
          this.lastFault = { va, attrs, status: st };
          return st;
        }
        this.bytes += n;
      }
      va += n;
      srcOff += n;
      len -= n;
    }
    return BUS_OK;
  }

  /**
   * Translate the longest run starting at va (at most len bytes) that maps contiguously.
   * Returns [pa or negative status, length]. Exposed for bulk DMA engines that copy RAM
   * to RAM directly. [BUS_RAZWI, n]: the stage terminated the first n bytes with RAZ/WI
   * behaviour (no error for the master: reads give zeros, writes are dropped).
   */
  span(va: number, len: number, attrs: Attrs): [number, number] {
    const t = this.translator;
    if (t === null) return [va, len];
    if (this.rz !== null && this.razwiDone(va, attrs)) return [BUS_RAZWI, Math.min(len, 4096 - (va % 4096))];
    const tr = this.tr;
    t.translate(va, attrs, tr);
    this.costNs += tr.costNs;
    if (tr.status === BUS_RAZWI) return [BUS_RAZWI, Math.min(len, tr.extent)];
    if (tr.status !== BUS_OK) {
      this.noteFault(va, attrs, tr.status);
      return [tr.status, 0];
    }
    return [tr.pa, Math.min(len, tr.extent)];
  }
}
