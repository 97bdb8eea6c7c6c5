/**
 * The DMA-isolation invariant's view of the hardware: what each stream id can reach, read
 * the way the SMMU itself would find it. The SMMU's programmed state comes from its
 * registers (sCR0, sIDR0, SMRn, S2CRn, CBARn, the context banks' SCTLR/TTBCR/TTBRn; ARM IHI
 * 0062 "ARM System Memory Management Unit Architecture Specification", SMMUv1, chapters 9
 * and 10), and the stage-1 translation tables are walked in guest RAM by this file's own
 * long-descriptor walker (VMSAv7 LPAE, ARM DDI 0406C B3.6), enumerating every valid leaf.
 * Nothing here uses the SMMU model's walker or stream-match table, so a bug there or
 * in the kernel model's programming of them shows up as a difference with what the
 * reference model (tools/fuzz/model.ts) says each group's container maps.
 *
 * Two things are read from the model's internals. `Smmu.epoch`, a count of register writes
 * and resets, only decides when the stream routes and a bank's leaves must be read again
 * (`route`, `leaves`); it adds no information. Likewise the RAM page store's write watch
 * (`RamRegion.watch`/`watchEpoch`, emulator/ram.ts) only says when a table page may have
 * changed since the last walk. And its TLB (`tlbEntries`): not visible
 * through registers on real hardware, but a path by which a device reaches memory. An entry
 * the walk put there stays usable until software invalidates it (IHI 0062 "TLB maintenance
 * operations": TLBIASID / TLBIVA, completed by a sync), so a missed invalidation lets a
 * device reach a page its container no longer maps, however right the tables are.
 */
import { ATTR_NS } from '../../emulator/attrs.js';
import type { PhysicalBus } from '../../emulator/bus.js';
import { RAM_CHUNK_MASK, type RamRegion } from '../../emulator/ram.js';
import type { Smmu } from '../../devices/smmu/smmu.js';
import { P_PR, P_PW, P_UR, P_UW } from '../../devices/smmu/walk.js';

// ---- register offsets and fields (IHI 0062: 9.6 global register space 0, 9.7 space 1, 10 context banks)
const SCR0 = 0x000; // sCR0
const SIDR0 = 0x020; // sIDR0
const SMR = (n: number): number => 0x800 + 4 * n; // SMRn
const S2CR = (n: number): number => 0xc00 + 4 * n; // S2CRn
const CBAR = (n: number): number => 4 * n; // CBARn in global space 1
const CB_SCTLR = 0x000;
const CB_TTBR0 = 0x020;
const CB_TTBR1 = 0x028;
const CB_TTBCR = 0x030;
const SCR0_CLIENTPD = 1 << 0; // client port disable: every transaction bypasses
const SCR0_USFCFG = 1 << 10; // unidentified stream: fault (1) or bypass (0)
const SIDR0_SMS = 1 << 27; // stream matching supported (else the stream id indexes S2CR)
const SMR_VALID = 0x8000_0000;
const S2CR_TRANS = 0;
const S2CR_BYPASS = 1;
const CBAR_S1_S2BYPASS = 1;
const SCTLR_M = 1 << 0;
const SCTLR_AFFD = 1 << 3;
const TTBCR_EAE = 0x8000_0000;
const TTBCR_EPD0 = 1 << 7;
const TTBCR_EPD1 = 1 << 23;
const TTBCR_A1 = 1 << 22; // the ASID comes from TTBR1 (else TTBR0), bits [55:48]
const PAGE = 4096;

/** how a stream id's transactions are handled */
export type StreamRoute =
  | { kind: 'bypass'; why: string }
  | { kind: 'fault'; why: string }
  | { kind: 'translate'; cb: number };

/** one valid leaf of a context bank's tables */
export interface Leaf {
  va: number;
  size: number;
  pa: number;
  /** writable at some privilege (AP[2] clear and no APTable[1] above it) */
  write: boolean;
}

/** one valid TLB entry of a context bank (a cached leaf: [va, va + size) -> pa) */
export interface TlbLeaf extends Leaf {
  /** readable at some privilege (the walk's permission bits, cached with the entry) */
  read: boolean;
}

/**
 * tlbEntries' answer, refilled for each entry (host scratch outside every view, so that the
 * fuzzer's snapshot neither records nor restores it; an object per entry per check was
 * garbage after the call)
 */
const TLB_LEAF: TlbLeaf = { va: 0, size: 0, pa: 0, write: false, read: false };

/**
 * A bank's leaves as last walked, and what they depend on: the SMMU's registers (its epoch)
 * and the bytes of every table page the walk read (each RAM region's watch epoch).
 */
interface LeafWalk {
  /** Smmu.epoch when `regs` were last read */
  epoch: number;
  /** the registers a walk reads: SCTLR, TTBCR, TTBR0 (low, high), TTBR1 (low, high) */
  regs: number[];
  rams: RamRegion[];
  ramEpochs: number[];
  leaves: readonly Leaf[];
}

/**
 * Table pages watched before the watch is cleared (a page that held a table once stays watched
 * until then; writes to it after its reuse as data only cost a walk). The cost of clearing is
 * one walk per bank.
 */
const WATCHED_PAGES_MAX = 2;

/** a bank's registers its walk depends on (leavesNow reads no others) */
const WALK_REGS: readonly number[] = Object.freeze([CB_SCTLR, CB_TTBCR, CB_TTBR0, CB_TTBR0 + 4, CB_TTBR1, CB_TTBR1 + 4]);

/** the SMMU's programmed state, read through its registers */
export class SmmuView {
  private readonly d = new Uint32Array(2);
  /** testing switch: read every descriptor through the bus (walkBus), as before the RAM-span path */
  tablesViaBus = false;
  /** testing switch: walk the tables on every leaves() call (no LeafWalk kept) */
  walkAlways = false;
  /** leaves() calls, and the walks they made (diagnostics and tests) */
  leafCalls = 0;
  walks = 0;
  /**
   * Context bank -> its last walk. Harness state like the route memo: a snapshot restores it,
   * and an entry restored with the registers' epoch is still checked against the RAM regions'
   * watch epochs, which are never restored and only grow.
   */
  private readonly walked = new Map<number, LeafWalk>();
  /**
   * Per RAM region, the first of this view's watch sets there (one per bank; -1: none left),
   * reserved when the view is made (before the fuzzer's snapshot: a restore must not give
   * them back, as the region would not)
   */
  private readonly watchBase = new Map<RamRegion, number>();
  /** during a walk: its bank (its RAM watch set is the region's base + the bank), the RAM regions whose pages it watched, and whether every table could be watched */
  private walkCb = 0;
  private walkRams: RamRegion[] = [];
  private walkWatched = true;

  constructor(
    private readonly smmu: Smmu,
    private readonly bus: PhysicalBus,
  ) {
    for (const r of bus.listRegions()) if (r.kind === 'ram') this.watchBase.set(r, r.allocWatchSets(smmu.numCb));
  }

  private gr0(off: number): number {
    return this.smmu.read(off, 4, ATTR_NS) >>> 0;
  }

  private cbReg(cb: number, off: number): number {
    return this.smmu.read((this.smmu.globalPages + cb) * PAGE + off, 4, ATTR_NS) >>> 0;
  }

  /**
   * Routes found since the SMMU's register state last changed. A route depends only on
   * registers software writes (sCR0, SIDR0, SMRn, S2CRn, CBARn, CBn_SCTLR, CBn_TTBCR), and
   * `Smmu.epoch` counts every register write and reset; reading that counter is the one
   * shortcut here (the registers were ~3% of a fuzz run, read again after most calls). The
   * memo is harness state like the rest of the view: a snapshot restores it with the epoch.
   * A new epoch gets a new map: emptying the long-lived one made V8 allocate its new table in
   * the old space and promote the routes its old table still held (docs/PERFORMANCE.md round 18).
   */
  private memoEpoch = -1;
  private memo = new Map<number, StreamRoute>();

  /** IHI 0062 3.4/9.6.14-15: sCR0, then the stream mapping table (SMR match, or S2CR[sid] without stream matching) */
  route(sid: number): StreamRoute {
    if (this.memoEpoch !== this.smmu.epoch) {
      if (this.memo.size > 0) this.memo = new Map();
      this.memoEpoch = this.smmu.epoch;
    }
    let r = this.memo.get(sid);
    if (r === undefined) this.memo.set(sid, (r = this.routeNow(sid)));
    return r;
  }

  private routeNow(sid: number): StreamRoute {
    const scr0 = this.gr0(SCR0);
    if ((scr0 & SCR0_CLIENTPD) !== 0) return { kind: 'bypass', why: 'sCR0.CLIENTPD' };
    let idx = -1;
    if ((this.gr0(SIDR0) & SIDR0_SMS) !== 0) {
      for (let i = 0; i < this.smmu.numSmrs; i++) {
        const smr = this.gr0(SMR(i));
        if ((smr & SMR_VALID) === 0) continue;
        const mask = (smr >>> 16) & 0x7fff;
        if (((sid ^ smr) & 0x7fff & ~mask) !== 0) continue;
        if (idx >= 0) return { kind: 'fault', why: `stream match conflict (SMR${idx}, SMR${i})` };
        idx = i;
      }
    } else if (sid < this.smmu.numSmrs) idx = sid;
    if (idx < 0) return (scr0 & SCR0_USFCFG) !== 0 ? { kind: 'fault', why: 'unidentified stream (sCR0.USFCFG)' } : { kind: 'bypass', why: 'unidentified stream, sCR0.USFCFG=0' };
    const s2cr = this.gr0(S2CR(idx));
    const type = (s2cr >>> 16) & 3;
    if (type === S2CR_BYPASS) return { kind: 'bypass', why: `S2CR${idx} bypass` };
    if (type !== S2CR_TRANS) return { kind: 'fault', why: `S2CR${idx} fault` };
    const cb = s2cr & 0xff;
    if (cb >= this.smmu.numCb) return { kind: 'fault', why: `S2CR${idx} names context bank ${cb}` };
    const cbar = this.smmu.read(PAGE + CBAR(cb), 4, ATTR_NS) >>> 0;
    if (((cbar >>> 16) & 3) !== CBAR_S1_S2BYPASS) return { kind: 'fault', why: `CBAR${cb} is not a stage-1 context` };
    if ((this.cbReg(cb, CB_SCTLR) & SCTLR_M) === 0) return { kind: 'bypass', why: `context bank ${cb}: SCTLR.M clear` };
    if ((this.cbReg(cb, CB_TTBCR) & TTBCR_EAE) === 0) return { kind: 'fault', why: `context bank ${cb}: short-descriptor format` };
    return { kind: 'translate', cb };
  }

  /**
   * The TLB entries a transaction of context bank cb can hit now: valid, tagged with the bank
   * and either global (nG = 0) or with the context's current ASID (TTBCR.A1 selects the TTBR
   * whose bits [55:48] hold it; DDI 0406C B3.6.4), as the SMMU's lookup matches them.
   * `out` gets one object refilled for each entry: valid during the call only (not kept).
   */
  tlbEntries(cb: number, out: (l: TlbLeaf) => void): void {
    const tlb = this.smmu.tlb;
    const ttbcr = this.cbReg(cb, CB_TTBCR);
    const asid = (this.cbReg(cb, ((ttbcr & TTBCR_A1) !== 0 ? CB_TTBR1 : CB_TTBR0) + 4) >>> 16) & 0xff;
    for (let w = 0; w < tlb.valid.length; w++) {
      if (tlb.valid[w] === 0 || tlb.cb[w] !== cb) continue;
      const ta = tlb.asid[w]!;
      if (ta !== -1 && ta !== asid) continue;
      const perms = tlb.perms[w]!;
      const l = TLB_LEAF;
      l.va = tlb.va[w]!;
      l.size = tlb.size[w]!;
      l.pa = tlb.pa[w]!;
      l.read = (perms & (P_PR | P_UR)) !== 0;
      l.write = (perms & (P_PW | P_UW)) !== 0;
      out(l);
    }
  }

  /**
   * Every valid leaf of context bank cb's stage-1 tables (DDI 0406C B3.6.4-B3.6.6: TTBR0 for
   * [0, 2^(32-T0SZ)), TTBR1 for the top 2^(32-T1SZ), the start level from the region's size).
   */
  leaves(cb: number, out: (l: Leaf) => void): void {
    this.leafCalls++;
    const last = this.walked.get(cb);
    if (last !== undefined && this.still(last, cb)) {
      const ls = last.leaves;
      for (let i = 0; i < ls.length; i++) out(ls[i]!);
      return;
    }
    this.walks++;
    if (this.walkAlways || this.tablesViaBus) {
      this.leavesNow(cb, out);
      return;
    }
    const found: Leaf[] = [];
    this.walkRams = [];
    this.walkWatched = true;
    this.walkCb = cb;
    this.leavesNow(cb, (l) => {
      Object.freeze(l);
      found.push(l);
      out(l);
    });
    if (!this.walkWatched) {
      this.walked.delete(cb);
      return;
    }
    const rams = this.walkRams;
    this.walked.set(cb, { epoch: this.smmu.epoch, regs: this.walkRegs(cb), rams, ramEpochs: rams.map((r) => r.watchEpoch(this.watchBase.get(r)! + cb)), leaves: found });
  }

  private walkRegs(cb: number): number[] {
    return WALK_REGS.map((off) => this.cbReg(cb, off));
  }

  /**
   * Whether a bank's last walk would find the same leaves now: the registers it read hold the
   * same values (not read again while no register was written: the epoch), and no watched
   * table page changed. Most register writes (TLB invalidation and sync, the other banks,
   * fault handling) leave a bank's walk registers alone.
   */
  private still(w: LeafWalk, cb: number): boolean {
    const epoch = this.smmu.epoch;
    if (w.epoch !== epoch) {
      const regs = w.regs;
      for (let i = 0; i < regs.length; i++) if (this.cbReg(cb, WALK_REGS[i]!) !== regs[i]) return false;
      w.epoch = epoch;
    }
    for (let i = 0; i < w.rams.length; i++) {
      const r = w.rams[i]!;
      if (r.watchEpoch(this.watchBase.get(r)! + cb) !== w.ramEpochs[i]) return false;
    }
    return true;
  }

  /**
   * A walk is about to read the table at `table` (in RAM region r): watch its page, in the
   * bank's own watch set, emptied before the walk's first table in r (the set then holds
   * exactly the pages of the bank's current tables, and another bank's walk leaves it alone)
   */
  private watchTable(r: RamRegion, table: number): void {
    if (!this.walkWatched) return;
    const base = this.watchBase.get(r);
    if (base === undefined || base < 0) {
      this.walkWatched = false;
      return;
    }
    const set = base + this.walkCb;
    if (!this.walkRams.includes(r)) {
      r.unwatchAll(set);
      this.walkRams.push(r);
    }
    if (!r.watch(set, table - r.base)) {
      this.walkWatched = false;
      return;
    }
  }

  private leavesNow(cb: number, out: (l: Leaf) => void): void {
    const sctlr = this.cbReg(cb, CB_SCTLR);
    const ttbcr = this.cbReg(cb, CB_TTBCR);
    const t0sz = ttbcr & 7;
    const t1sz = (ttbcr >>> 16) & 7;
    const afOk = (sctlr & SCTLR_AFFD) !== 0;
    const region = (ttbrOff: number, tsz: number, base: number, epd: boolean): void => {
      if (epd) return;
      const bits = 32 - tsz;
      const level = bits > 30 ? 1 : 2;
      const lo = this.cbReg(cb, ttbrOff);
      const hi = this.cbReg(cb, ttbrOff + 4) & 0xff;
      const entries = 2 ** (bits - (level === 1 ? 30 : 21));
      const x = Math.log2(entries * 8);
      const table = hi * 2 ** 32 + (lo - (lo % 2 ** x));
      this.walk(table, level, base, entries, false, afOk, out);
    };
    if (t0sz === 0 && t1sz === 0) region(CB_TTBR0, 0, 0, (ttbcr & TTBCR_EPD0) !== 0);
    else {
      region(CB_TTBR0, t0sz, 0, (ttbcr & TTBCR_EPD0) !== 0);
      if (t1sz !== 0) region(CB_TTBR1, t1sz, 2 ** 32 - 2 ** (32 - t1sz), (ttbcr & TTBCR_EPD1) !== 0);
    }
  }

  private walk(table: number, level: number, base: number, entries: number, noWrite: boolean, afOk: boolean, out: (l: Leaf) => void): void {
    // a table in RAM (always, unless the programming is broken) is read from the page store's
    // bytes in place: the same bytes bus.read64 returns for each entry, without a bus
    // dispatch per descriptor (most of a 512-entry table is invalid entries)
    const r = this.bus.find(table, 8 * entries);
    const span = r !== null && r.kind === 'ram' ? r.readSpan(table - r.base, 8 * entries) : null;
    if (span === null || this.tablesViaBus) {
      this.walkWatched = false; // a descriptor read through the bus is not covered by a RAM watch
      this.walkBus(table, level, base, entries, noWrite, afOk, out);
      return;
    }
    this.watchTable(r as RamRegion, table);
    const o = (table - r!.base) & RAM_CHUNK_MASK;
    for (let i = 0; i < entries; i++) {
      const b = o + 8 * i;
      // type bits [1:0] clear: invalid at every level (B3.6.1), nothing to decode
      if ((span[b]! & 3) === 0) continue;
      const lo = (span[b]! | (span[b + 1]! << 8) | (span[b + 2]! << 16) | (span[b + 3]! << 24)) >>> 0;
      const hi = (span[b + 4]! | (span[b + 5]! << 8) | (span[b + 6]! << 16) | (span[b + 7]! << 24)) >>> 0;
      this.descriptor(lo, hi, i, level, base, noWrite, afOk, out);
    }
  }

  /** the same walk with one bus read per descriptor (tables outside RAM) */
  private walkBus(table: number, level: number, base: number, entries: number, noWrite: boolean, afOk: boolean, out: (l: Leaf) => void): void {
    const d = this.d;
    for (let i = 0; i < entries; i++) {
      if (this.bus.read64(table + 8 * i, ATTR_NS, d) < 0) continue; // an external abort: no translation
      this.descriptor(d[0]!, d[1]!, i, level, base, noWrite, afOk, out);
    }
  }

  /** descriptor i of a level-`level` table covering [base, ...) */
  private descriptor(lo: number, hi: number, i: number, level: number, base: number, noWrite: boolean, afOk: boolean, out: (l: Leaf) => void): void {
    const span = level === 1 ? 2 ** 30 : level === 2 ? 2 ** 21 : PAGE;
    const type = lo & 3;
    const oa = (hi & 0xff) * 2 ** 32 + (lo - (lo % PAGE));
    if (level < 3 && type === 3) {
      // table descriptor; APTable[1] (bit 62) takes write permission away below it
      this.walk(oa, level + 1, base + i * span, 512, noWrite || (hi & (1 << 30)) !== 0, afOk, out);
      return;
    }
    const leaf = level < 3 ? type === 1 : type === 3;
    if (!leaf) return;
    if ((lo & (1 << 10)) === 0 && !afOk) return; // AF clear: access flag fault
    const pa = oa - (oa % span);
    out({ va: base + i * span, size: span, pa, write: !noWrite && (lo & (1 << 7)) === 0 });
  }
}

/** expected access of one IOVA page */
export interface ExpectedPage {
  pa: number;
  read: boolean;
  write: boolean;
}
