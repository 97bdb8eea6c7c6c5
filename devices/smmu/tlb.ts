/**
 * The SMMU's TLB: 4-way set associative, held in typed arrays (lookups allocate nothing),
 * with architected "stale until invalidated and synced" maintenance (IHI 0062, "TLB
 * maintenance operations": an invalidation completes, at the latest, when a following
 * sync completes).
 *
 * Entries are tagged with the context bank, the ASID (or -1 for a global entry, nG = 0)
 * and the input range of their page/block. The set index is a hash of the 4 KiB input page
 * and the bank; replacement is the first invalid way, else round-robin per set
 * (deterministic). Walk results are cached before the permission check.
 *
 * Nested contexts (CBAR.TYPE 3, walk-nested.ts) cache combined stage 1 + stage 2 entries in
 * their stage-1 bank (VA -> PA, tagged like stage-1 entries) that also remember the stage-2
 * bank they were built through (`dep`), the stage-1 permissions (`perms1`; `perms` holds the
 * intersection of both stages), the stage-2 level and the IPA. Such an entry goes with the
 * stage-1 maintenance of its bank (TLBIVA, TLBIVAA, TLBIASID, TLBIALL) AND with the
 * stage-2 maintenance of the bank it depends on: TLBIVMID of that bank's VMID, TLBIALL,
 * TLBIVA(A) issued through that bank (conservatively every dependent entry: an invalidation
 * by IPA does not name the VAs built from it), STLBIALL / TLBIALLNSNH.
 */
import { OP_ALL, OP_CB_ALL, OP_CB_ASID, OP_CB_VA, OP_CB_VAA, OP_VMID } from './regs.js';
import { P_PR, P_PW, P_PX, P_UR, P_UW, P_UX } from './walk.js';
import type { SmmuTlbEntry } from './types.js';

/** TLB maintenance operations held before a sync is forced (see queue()) */
export const MAX_PENDING_TLBI = 1024;

export class Tlb {
  readonly ways = 4;
  readonly sets: number;
  readonly valid: Uint8Array;
  readonly cb: Uint16Array;
  readonly asid: Int16Array;
  readonly va: Float64Array;
  readonly size: Float64Array;
  readonly pa: Float64Array;
  readonly perms: Uint8Array;
  readonly level: Uint8Array;
  /** nested entries: the stage-2 bank the entry was translated through (-1: not nested) */
  readonly dep: Int16Array;
  /** nested entries: stage-1 permissions (perms is stage 1 AND stage 2) */
  readonly perms1: Uint8Array;
  /** nested entries: level of the stage-2 leaf */
  readonly level2: Uint8Array;
  /** nested entries: IPA of the entry's first byte */
  readonly ipa: Float64Array;
  /** per set: the next way round-robin replacement takes */
  readonly next: Uint8Array;
  /** per set: bumped by every insertion into the set (observers: accel/ memos) */
  readonly setGen: Float64Array;
  /** slot of the last insertion */
  lastInsert = 0;
  /** pending invalidations: [op, cb, asid, va] quadruples, applied by a sync */
  private pending: number[] = [];

  /** `vmidOf(cb)`: CBAR.VMID of a context bank (for TLBIVMID) */
  constructor(entries: number, private readonly vmidOf: (cb: number) => number) {
    if (!(entries >= 4)) entries = 4;
    let sets = 1;
    while (sets * 2 * this.ways <= entries) sets *= 2;
    this.sets = sets;
    const total = sets * this.ways;
    // one zeroed buffer for all the per-entry arrays (issue 19, lean boot: ten separate
    // allocations per SMMU); 8-byte fields first, then 2-byte, then bytes, so each view is aligned
    const buf = new ArrayBuffer(8 * (4 * total + sets) + 3 * 2 * total + 5 * total + sets);
    let o = 0;
    const f64 = (n: number): Float64Array => ((o += 8 * n), new Float64Array(buf, o - 8 * n, n));
    this.va = f64(total);
    this.size = f64(total);
    this.pa = f64(total);
    this.ipa = f64(total);
    this.setGen = f64(sets);
    this.cb = new Uint16Array(buf, o, total);
    this.asid = new Int16Array(buf, o + 2 * total, total);
    this.dep = new Int16Array(buf, o + 4 * total, total);
    o += 6 * total;
    this.valid = new Uint8Array(buf, o, total);
    this.perms = new Uint8Array(buf, o + total, total);
    this.level = new Uint8Array(buf, o + 2 * total, total);
    this.perms1 = new Uint8Array(buf, o + 3 * total, total);
    this.level2 = new Uint8Array(buf, o + 4 * total, total);
    this.next = new Uint8Array(buf, o + 5 * total, sets);
  }

  reset(): void {
    this.valid.fill(0);
    this.next.fill(0);
    this.pending = [];
  }

  /** set index of input page `page` (va / 4096) in bank `cb` */
  setOf(page: number, cb: number): number {
    return (page ^ (page >>> 7) ^ (cb * 0x9e5)) & (this.sets - 1);
  }

  /** First slot matching (cb, asid or global, va), or -1. */
  lookup(cb: number, asid: number, va: number): number {
    const page = Math.floor(va / 4096);
    const set = this.setOf(page, cb) * this.ways;
    for (let w = set, e = set + this.ways; w < e; w++) {
      if (this.valid[w] === 0 || this.cb[w] !== cb) continue;
      const ta = this.asid[w]!;
      if (ta !== -1 && ta !== asid) continue;
      const base = this.va[w]!;
      if (va < base || va >= base + this.size[w]!) continue;
      return w;
    }
    return -1;
  }

  /**
   * Insert the leaf of a walk of `va` (page/block [leafVa, leafVa + size) -> pa) into the set
   * of va's page. Returns the slot (also in lastInsert).
   */
  insert(cb: number, asid: number, va: number, leafVa: number, size: number, pa: number, perms: number, level: number): number {
    return this.insertInSet(this.setOf(Math.floor(va / 4096), cb), cb, asid, leafVa, size, pa, perms, level);
  }

  /** insert() into set `s` (= setOf(page of va, cb), computed by the caller) */
  insertInSet(s: number, cb: number, asid: number, leafVa: number, size: number, pa: number, perms: number, level: number): number {
    const set = s * this.ways;
    let w = -1;
    for (let i = set; i < set + this.ways; i++) {
      if (this.valid[i] === 0) {
        w = i;
        break;
      }
    }
    if (w < 0) {
      w = set + this.next[s]!;
      this.next[s] = (this.next[s]! + 1) % this.ways;
    }
    this.setGen[s]!++;
    this.lastInsert = w;
    this.valid[w] = 1;
    this.cb[w] = cb;
    this.asid[w] = asid;
    this.va[w] = leafVa;
    this.size[w] = size;
    this.pa[w] = pa;
    this.perms[w] = perms;
    this.level[w] = level;
    this.dep[w] = -1;
    return w;
  }

  /**
   * Insert a combined entry of nested context bank `cb` (walk-nested.ts): [leafVa, leafVa +
   * size) -> pa with `perms` = stage 1 AND stage 2, stage-1 permissions `perms1` and level
   * `level`, stage-2 level `level2`, translated through stage-2 bank `s2cb` from `ipa`.
   */
  insertNested(cb: number, asid: number, va: number, leafVa: number, size: number, pa: number, perms: number, level: number, s2cb: number, perms1: number, level2: number, ipa: number): number {
    const w = this.insert(cb, asid, va, leafVa, size, pa, perms, level);
    this.dep[w] = s2cb;
    this.perms1[w] = perms1;
    this.level2[w] = level2;
    this.ipa[w] = ipa;
    return w;
  }

  // ---- maintenance (IHI 0062, TLB maintenance operations and TLBSYNC / sTLBGSYNC) ----

  queue(op: number, cb: number, asid: number, va: number): void {
    // An invalidation may architecturally complete at any time before its sync; to bound
    // memory when software never syncs, a long queue is completed early (oldest first).
    if (this.pending.length >= 4 * MAX_PENDING_TLBI) this.sync(-1);
    this.pending.push(op, cb, asid, va);
  }

  /** Apply pending invalidations (all, or only those issued to context bank `onlyCb`). */
  sync(onlyCb: number): void {
    const p = this.pending;
    const keep: number[] = [];
    for (let i = 0; i < p.length; i += 4) {
      const op = p[i]!;
      const cb = p[i + 1]!;
      if (onlyCb >= 0 && (op === OP_ALL || op === OP_VMID || cb !== onlyCb)) {
        keep.push(op, cb, p[i + 2]!, p[i + 3]!);
        continue;
      }
      this.invalidate(op, cb, p[i + 2]!, p[i + 3]!);
    }
    this.pending = keep;
  }

  get pendingCount(): number {
    return this.pending.length / 4;
  }

  private invalidate(op: number, cb: number, asid: number, va: number): void {
    const n = this.valid.length;
    for (let w = 0; w < n; w++) {
      if (this.valid[w] === 0) continue;
      let kill = false;
      const tcb = this.cb[w]!;
      const dep = this.dep[w]!;
      switch (op) {
        case OP_ALL:
          kill = true;
          break;
        case OP_CB_ALL:
          // a nested entry also goes with its stage-2 bank's TLBIALL
          kill = tcb === cb || dep === cb;
          break;
        case OP_CB_ASID:
          // by ASID: non-global entries of that ASID only
          kill = tcb === cb && this.asid[w] === asid;
          break;
        case OP_CB_VA: {
          const base = this.va[w]!;
          const ta = this.asid[w]!;
          // issued through the stage-2 bank of nested entries (an IPA): every entry built
          // through it (conservative: the VAs built from that IPA are not known)
          kill = (tcb === cb && (ta === -1 || ta === asid) && va >= base && va < base + this.size[w]!) || dep === cb;
          break;
        }
        case OP_CB_VAA: {
          const base = this.va[w]!;
          kill = (tcb === cb && va >= base && va < base + this.size[w]!) || dep === cb;
          break;
        }
        case OP_VMID:
          // a nested entry holds stage-2 information of the bank it depends on: it goes with
          // that bank's VMID (and with its own bank's CBAR.VMID, conservatively)
          kill = this.vmidOf(tcb) === asid || (dep >= 0 && this.vmidOf(dep) === asid);
          break;
      }
      if (kill) this.valid[w] = 0;
    }
  }

  dump(): SmmuTlbEntry[] {
    const out: SmmuTlbEntry[] = [];
    for (let w = 0; w < this.valid.length; w++) {
      if (this.valid[w] === 0) continue;
      const p = this.perms[w]!;
      const perms =
        (p & P_PR ? 'r' : '-') + (p & P_PW ? 'w' : '-') + (p & P_PX ? 'x' : '-') + '/' +
        (p & P_UR ? 'r' : '-') + (p & P_UW ? 'w' : '-') + (p & P_UX ? 'x' : '-');
      const e: SmmuTlbEntry = { cb: this.cb[w]!, asid: this.asid[w]!, va: this.va[w]!, size: this.size[w]!, pa: this.pa[w]!, level: this.level[w]!, perms };
      if (this.dep[w]! >= 0) {
        const p1 = this.perms1[w]!;
        e.nested = {
          s2cb: this.dep[w]!, ipa: this.ipa[w]!, level2: this.level2[w]!,
          perms1: (p1 & P_PR ? 'r' : '-') + (p1 & P_PW ? 'w' : '-') + (p1 & P_PX ? 'x' : '-') + '/' + (p1 & P_UR ? 'r' : '-') + (p1 & P_UW ? 'w' : '-') + (p1 & P_UX ? 'x' : '-'),
        };
      }
      out.push(e);
    }
    return out;
  }
}
