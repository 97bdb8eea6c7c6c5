/**
 * The pin-count invariant's tables (Harness.checkInvariants, harness-iommufd.ts iommufdPins),
 * refilled after every call without emptying a Map: `Map.prototype.clear` gives the map a fresh
 * backing table each time (round 14), and the per-page and per-mm tables were emptied after
 * most calls of a mainline run. Host-side scratch, never model state: what they hold is
 * written and read within one check (`begin` starts it).
 */

/**
 * Counts per physical page for one check. A page's slot in the count arrays is kept once the
 * page has been counted (bounded by the board's RAM pages); a count is live only when its
 * stamp is the current check's, so `begin` costs nothing per page.
 */
export class PageCounts {
  private readonly slotOf = new Map<number, number>();
  private count = new Int32Array(64);
  private stamp = new Uint32Array(64);
  private epoch = 1;

  /** a new check: every count reads 0 */
  begin(): void {
    if (++this.epoch === 0xffffffff) {
      this.stamp.fill(0);
      this.epoch = 1;
    }
  }

  /** page `pa` holds `n` more pins */
  add(pa: number, n: number): void {
    let i = this.slotOf.get(pa);
    if (i === undefined) {
      i = this.slotOf.size;
      if (i === this.count.length) {
        const c = new Int32Array(2 * i);
        c.set(this.count);
        this.count = c;
        const s = new Uint32Array(2 * i);
        s.set(this.stamp);
        this.stamp = s;
      }
      this.slotOf.set(pa, i);
    }
    if (this.stamp[i] !== this.epoch) {
      this.stamp[i] = this.epoch;
      this.count[i] = n;
    } else this.count[i]! += n;
  }

  /** the pins counted on page `pa` in this check (0: none) */
  get(pa: number): number {
    const i = this.slotOf.get(pa);
    return i === undefined || this.stamp[i] !== this.epoch ? 0 : this.count[i]!;
  }
}

/**
 * Counts per key for a handful of keys (the slots' mms, the checked uids): a list search, and
 * `reset` forgets them without allocating. `get` answers like a Map's (undefined: not counted).
 */
export class SmallCounts<K> {
  private readonly keys: K[] = [];
  private readonly vals: number[] = [];
  /** how many of `keys`/`vals` are this round's (reset keeps the arrays: no `length` write) */
  private n = 0;

  reset(): void {
    this.n = 0;
  }

  add(k: K, n: number): void {
    const i = this.indexOf(k);
    if (i >= 0) this.vals[i]! += n;
    else {
      this.keys[this.n] = k;
      this.vals[this.n++] = n;
    }
  }

  get(k: K): number | undefined {
    const i = this.indexOf(k);
    return i >= 0 ? this.vals[i] : undefined;
  }

  private indexOf(k: K): number {
    for (let i = 0; i < this.n; i++) if (this.keys[i] === k) return i;
    return -1;
  }
}
