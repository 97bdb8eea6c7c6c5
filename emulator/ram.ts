/**
 * Sparse RAM: the page store behind every RAM region of the physical bus (issue 19).
 *
 * A region is a table of fixed-size chunks, each allocated on its first write. A read of a
 * chunk never written returns zeros without allocating anything (the shared ZERO_CHUNK
 * stands in for it), and writing zeros into an absent chunk (the page allocator's
 * __GFP_ZERO, kzalloc) leaves it absent. A board may therefore declare gigabytes of RAM at
 * the cost of one table slot per chunk until the guest touches them.
 *
 * Chunk size: RAM_CHUNK_SHIFT = 16 (64 KiB, sixteen 4 KiB pages). Measured against 4 KiB
 * chunks (docs/PERFORMANCE.md, "Sparse RAM"): the block paths (DMA bursts, the PL330/SMMU
 * accelerators' merged copies, user copies) copy one run per chunk, and 64 KiB pieces keep
 * the per-piece overhead (one view object and one call) below 1% of the copy, where 4 KiB
 * pieces cost ~10%; the page allocator hands out pages lowest-first, so touched memory is
 * dense and a larger chunk costs little extra resident memory.
 *
 * The snapshot record is a property of the store, kept at 4 KiB page granularity:
 * `snapshot()` copies the chunks present now and starts recording, per chunk, a bit mask of
 * the 4 KiB pages written since (plus a list of the chunks with a non-zero mask, so a
 * restore visits only those); `restore()` copies back only the recorded pages and drops the
 * chunks allocated since the snapshot (they were all zeros then), except chunks pinned for
 * an external pointer (the Unicorn backend maps guest pages onto chunk memory), which are
 * zeroed instead.
 *
 * Offsets are region offsets; a region is at most 4 GiB (offsets fit in 32 bits, so chunk
 * arithmetic is `>>>`/`&`); larger RAM is several regions. All scalar accessors are
 * allocation-free; the block paths allocate at most one view per chunk piece.
 */

export const RAM_PAGE_SHIFT = 12;
export const RAM_PAGE_SIZE = 1 << RAM_PAGE_SHIFT;
export const RAM_CHUNK_SHIFT = 16;
export const RAM_CHUNK_SIZE = 1 << RAM_CHUNK_SHIFT;
export const RAM_CHUNK_MASK = RAM_CHUNK_SIZE - 1;
/** largest RAM region (bytes): offsets must fit in 32 bits */
export const RAM_REGION_MAX = 2 ** 32;

const PAGES_PER_CHUNK = RAM_CHUNK_SIZE >>> RAM_PAGE_SHIFT;
/** chunk-table entries allocated with a region (it grows on demand) */
const IDX_INITIAL = 64;
const FULL_MASK = PAGES_PER_CHUNK >= 32 ? -1 : (1 << PAGES_PER_CHUNK) - 1;

/** watch sets per region (RamRegion.watch): each costs a chunk-table-sized mask */
const WATCH_SETS_MAX = 64;

/** one watch set of a region: which pages, and its epoch */
interface WatchSet {
  /** chunk index -> bit mask of the watched pages */
  readonly mask: Int32Array;
  /** chunks with a non-zero mask */
  readonly list: number[];
  pages: number;
  epoch: number;
}

/** Zeros standing in for an absent chunk on read paths. Never written. */
export const ZERO_CHUNK: Uint8Array = new Uint8Array(RAM_CHUNK_SIZE);

/** bit mask of the pages of one chunk covered by [lo, hi) (chunk offsets, lo < hi) */
function pageBits(lo: number, hi: number): number {
  const p0 = lo >>> RAM_PAGE_SHIFT;
  const p1 = (hi - 1) >>> RAM_PAGE_SHIFT;
  const upTo = p1 >= 31 ? -1 : (1 << (p1 + 1)) - 1;
  return upTo & ~((1 << p0) - 1);
}

export class RamRegion {
  readonly kind = 'ram' as const;
  readonly nChunks: number;
  /**
   * chunk index -> slot in `store` (0: never written, reads as zeros). A typed array, grown
   * by doubling to cover the highest chunk ever written (issue 19: a 1 GiB region's full
   * table was a 64 KiB allocation per boot, zeroed, for the one or two chunks a run
   * touches). Reads past its end give undefined, which every reader turns into slot 0 with
   * `| 0`: an absent chunk.
   */
  private idx: Int32Array;
  /** slot -> chunk bytes; slot 0 is null, so `store[idx[ci]]` is null for an absent chunk */
  private readonly store: (Uint8Array | null)[] = [null];
  /** slots freed by restore(), reused first */
  private readonly freeSlots: number[] = [];
  private nPresent = 0;
  /** chunks handed out as external pointers (Unicorn): never dropped; created on first pin */
  private pinned: Uint8Array | null = null;
  // ---- snapshot record (null until snapshot()) ----
  /** chunk index -> its copy at the snapshot (chunks absent then are absent here) */
  private snap: Map<number, Uint8Array> | null = null;
  private dirtyMask: Int32Array | null = null;
  private dirtyList: Int32Array | null = null;
  private nDirty = 0;
  // ---- write watches (ride on the snapshot record; see watch()) ----
  /** the watch sets, by number (created on first use) */
  private readonly watches: WatchSet[] = [];
  /** chunk index -> the union of every set's mask of that chunk (null until the first watch) */
  private watchUnion: Int32Array | null = null;
  /** sets handed out by allocWatchSets */
  private watchSetsAllocated = 0;

  constructor(
    readonly name: string,
    readonly base: number,
    readonly size: number,
  ) {
    if (!(size > 0) || size > RAM_REGION_MAX || size % RAM_PAGE_SIZE !== 0) {
      throw new RangeError(`RAM region ${name}: size 0x${size.toString(16)} must be a multiple of 4 KiB and at most 4 GiB`);
    }
    this.nChunks = Math.ceil(size / RAM_CHUNK_SIZE);
    this.idx = new Int32Array(Math.min(this.nChunks, IDX_INITIAL));
  }

  /** number of chunks allocated (each RAM_CHUNK_SIZE bytes, the last one possibly shorter) */
  get chunksPresent(): number {
    return this.nPresent;
  }

  /** bytes of host memory holding this region's contents */
  get bytesAllocated(): number {
    let n = this.nPresent * RAM_CHUNK_SIZE;
    const last = this.store[this.idx[this.nChunks - 1]! | 0];
    if (last) n -= RAM_CHUNK_SIZE - last.length;
    return n;
  }

  /** whether the chunk holding offset `off` is allocated */
  isPresent(off: number): boolean {
    return (this.idx[off >>> RAM_CHUNK_SHIFT]! | 0) !== 0;
  }

  private alloc(ci: number): Uint8Array {
    if (ci >= this.idx.length) this.growIdx(ci);
    const len = Math.min(RAM_CHUNK_SIZE, this.size - ci * RAM_CHUNK_SIZE);
    const c = new Uint8Array(len);
    const slot = this.freeSlots.length > 0 ? this.freeSlots.pop()! : this.store.length;
    this.store[slot] = c;
    this.idx[ci] = slot;
    this.nPresent++;
    return c;
  }

  /** make the chunk table cover chunk ci */
  private growIdx(ci: number): void {
    let n = this.idx.length;
    while (n <= ci) n *= 2;
    const t = new Int32Array(Math.min(n, this.nChunks));
    t.set(this.idx);
    this.idx = t;
  }

  private drop(ci: number): void {
    const slot = this.idx[ci]!;
    this.store[slot] = null;
    this.idx[ci] = 0;
    this.freeSlots.push(slot);
    this.nPresent--;
  }

  /** the chunk at index ci for writing (allocated if absent) */
  private wchunk(ci: number): Uint8Array {
    return this.store[this.idx[ci]! | 0] ?? this.alloc(ci);
  }

  /** record a write of [off, off+len) in the snapshot record (no-op without a snapshot) */
  private mark(off: number, len: number): void {
    const m = this.dirtyMask!;
    const end = off + len;
    let ci = off >>> RAM_CHUNK_SHIFT;
    const last = (end - 1) >>> RAM_CHUNK_SHIFT;
    for (; ci <= last; ci++) {
      const cb = ci * RAM_CHUNK_SIZE;
      const lo = off > cb ? off - cb : 0;
      const hi = end < cb + RAM_CHUNK_SIZE ? end - cb : RAM_CHUNK_SIZE;
      const bits = pageBits(lo, hi);
      const old = m[ci]!;
      if (old === 0) this.dirtyList![this.nDirty++] = ci;
      m[ci] = old | bits;
      if (this.watchUnion !== null && (this.watchUnion[ci]! & bits) !== 0) this.watchHit(ci, bits);
    }
  }

  // ---------------- scalar accesses (little-endian) ----------------

  read8(off: number): number {
    const c = this.store[this.idx[off >>> RAM_CHUNK_SHIFT]! | 0]!;
    return c ? c[off & RAM_CHUNK_MASK]! : 0;
  }

  read16(off: number): number {
    const o = off & RAM_CHUNK_MASK;
    if (o > RAM_CHUNK_SIZE - 2) return this.read8(off) | (this.read8(off + 1) << 8);
    const c = this.store[this.idx[off >>> RAM_CHUNK_SHIFT]! | 0]!;
    return c ? c[o]! | (c[o + 1]! << 8) : 0;
  }

  read32(off: number): number {
    const o = off & RAM_CHUNK_MASK;
    if (o > RAM_CHUNK_SIZE - 4) {
      return (this.read8(off) | (this.read8(off + 1) << 8) | (this.read8(off + 2) << 16) | (this.read8(off + 3) << 24)) >>> 0;
    }
    const c = this.store[this.idx[off >>> RAM_CHUNK_SHIFT]! | 0]!;
    return c ? (c[o]! | (c[o + 1]! << 8) | (c[o + 2]! << 16) | (c[o + 3]! << 24)) >>> 0 : 0;
  }

  /** 64-bit read: out[0] = low word, out[1] = high word */
  read64(off: number, out: Uint32Array): void {
    out[0] = this.read32(off);
    out[1] = this.read32(off + 4);
  }

  write8(off: number, v: number): void {
    if (this.dirtyMask !== null) this.mark(off, 1);
    this.wchunk(off >>> RAM_CHUNK_SHIFT)[off & RAM_CHUNK_MASK] = v;
  }

  write16(off: number, v: number): void {
    const o = off & RAM_CHUNK_MASK;
    if (o > RAM_CHUNK_SIZE - 2) {
      this.write8(off, v & 0xff);
      this.write8(off + 1, (v >>> 8) & 0xff);
      return;
    }
    if (this.dirtyMask !== null) this.mark(off, 2);
    const c = this.wchunk(off >>> RAM_CHUNK_SHIFT);
    c[o] = v;
    c[o + 1] = v >>> 8;
  }

  write32(off: number, v: number): void {
    const o = off & RAM_CHUNK_MASK;
    if (o > RAM_CHUNK_SIZE - 4) {
      this.write8(off, v & 0xff);
      this.write8(off + 1, (v >>> 8) & 0xff);
      this.write8(off + 2, (v >>> 16) & 0xff);
      this.write8(off + 3, (v >>> 24) & 0xff);
      return;
    }
    if (this.dirtyMask !== null) this.mark(off, 4);
    const c = this.wchunk(off >>> RAM_CHUNK_SHIFT);
    c[o] = v;
    c[o + 1] = v >>> 8;
    c[o + 2] = v >>> 16;
    c[o + 3] = v >>> 24;
  }

  write64(off: number, lo: number, hi: number): void {
    this.write32(off, lo);
    this.write32(off + 4, hi);
  }

  // ---------------- block accesses ----------------

  /** copy [off, off+len) into dst[dstOff..]; absent chunks read as zeros */
  readBlock(off: number, dst: Uint8Array, dstOff: number, len: number): void {
    while (len > 0) {
      const o = off & RAM_CHUNK_MASK;
      const n = Math.min(len, RAM_CHUNK_SIZE - o);
      const c = this.store[this.idx[off >>> RAM_CHUNK_SHIFT]! | 0]!;
      // small copies (ioctl structs through copy_from_user) byte by byte: no view per call
      if (c && n <= 64) for (let i = 0; i < n; i++) dst[dstOff + i] = c[o + i]!;
      else if (c) dst.set(n === c.length ? c : c.subarray(o, o + n), dstOff);
      else dst.fill(0, dstOff, dstOff + n);
      off += n;
      dstOff += n;
      len -= n;
    }
  }

  /** a copy of [off, off+len) */
  readBytes(off: number, len: number): Uint8Array {
    const out = new Uint8Array(len);
    this.readBlock(off, out, 0, len);
    return out;
  }

  /** write src[srcOff..srcOff+len) at off */
  writeBlock(off: number, src: Uint8Array, srcOff: number, len: number): void {
    if (len <= 0) return;
    if (this.dirtyMask !== null) this.mark(off, len);
    while (len > 0) {
      const o = off & RAM_CHUNK_MASK;
      const n = Math.min(len, RAM_CHUNK_SIZE - o);
      const c = this.wchunk(off >>> RAM_CHUNK_SHIFT);
      if (n <= 64) for (let i = 0; i < n; i++) c[o + i] = src[srcOff + i]!;
      else c.set(srcOff === 0 && n === src.length ? src : src.subarray(srcOff, srcOff + n), o);
      off += n;
      srcOff += n;
      len -= n;
    }
  }

  writeBytes(off: number, src: ArrayLike<number>): void {
    const b = src instanceof Uint8Array ? src : Uint8Array.from(src);
    this.writeBlock(off, b, 0, b.length);
  }

  /** fill [off, off+len) with a byte; zeros into an absent chunk allocate nothing */
  fill(off: number, value: number, len: number): void {
    if (len <= 0) return;
    value &= 0xff;
    while (len > 0) {
      const o = off & RAM_CHUNK_MASK;
      const n = Math.min(len, RAM_CHUNK_SIZE - o);
      const ci = off >>> RAM_CHUNK_SHIFT;
      let c = this.store[this.idx[ci]! | 0] as Uint8Array | null;
      if (c !== null || value !== 0) {
        if (this.dirtyMask !== null) this.mark(off, n);
        if (c === null) c = this.alloc(ci);
        c.fill(value, o, o + n);
      }
      off += n;
      len -= n;
    }
  }

  /**
   * Copy len bytes from src at sOff to this region at dOff with memmove semantics (the
   * ranges may overlap when src === this). Runs of present chunks are copied as blocks;
   * absent source chunks read as zeros, and zeros copied into an absent chunk allocate nothing.
   */
  copyFrom(dOff: number, src: RamRegion, sOff: number, len: number): void {
    if (len <= 0) return;
    if (src === this && dOff > sOff && dOff < sOff + len) {
      // overlapping with the destination above the source: pieces from the end
      let se = sOff + len;
      let de = dOff + len;
      while (len > 0) {
        const n = Math.min(len, ((se - 1) & RAM_CHUNK_MASK) + 1, ((de - 1) & RAM_CHUNK_MASK) + 1);
        se -= n;
        de -= n;
        this.copyPiece(de, src, se, n);
        len -= n;
      }
      return;
    }
    while (len > 0) {
      const n = Math.min(len, RAM_CHUNK_SIZE - (sOff & RAM_CHUNK_MASK), RAM_CHUNK_SIZE - (dOff & RAM_CHUNK_MASK));
      this.copyPiece(dOff, src, sOff, n);
      dOff += n;
      sOff += n;
      len -= n;
    }
  }

  /** one piece inside one source chunk and one destination chunk */
  private copyPiece(dOff: number, src: RamRegion, sOff: number, n: number): void {
    const sc = src.store[src.idx[sOff >>> RAM_CHUNK_SHIFT]! | 0] as Uint8Array | null;
    const di = dOff >>> RAM_CHUNK_SHIFT;
    let dc = this.store[this.idx[di]! | 0] as Uint8Array | null;
    const d = dOff & RAM_CHUNK_MASK;
    if (sc === null) {
      if (dc === null) return;
      if (this.dirtyMask !== null) this.mark(dOff, n);
      dc.fill(0, d, d + n);
      return;
    }
    if (this.dirtyMask !== null) this.mark(dOff, n);
    if (dc === null) dc = this.alloc(di);
    const s = sOff & RAM_CHUNK_MASK;
    if (sc === dc) dc.copyWithin(d, s, s + n);
    else dc.set(n === sc.length ? sc : sc.subarray(s, s + n), d);
  }

  /**
   * The bytes of [off, off+len) for reading, as (array, offset) without copying: the chunk
   * (or ZERO_CHUNK when absent) at offset `off & RAM_CHUNK_MASK`; null when the range
   * crosses a chunk boundary (then use readBlock). The array must not be written.
   */
  readSpan(off: number, len: number): Uint8Array | null {
    const o = off & RAM_CHUNK_MASK;
    if (o + len > RAM_CHUNK_SIZE) return null;
    return this.store[this.idx[off >>> RAM_CHUNK_SHIFT]! | 0]! ?? ZERO_CHUNK;
  }

  /**
   * Host memory for [off, off+len) that stays valid and is the region's storage from now on
   * (an external pointer: Unicorn's uc_mem_map_ptr). The range must lie in one chunk; the
   * chunk is allocated and never dropped by restore(). Writes through it bypass the
   * snapshot record (the fuzzer's snapshots are taken on the stub CPU only).
   */
  pin(off: number, len: number): Uint8Array {
    const o = off & RAM_CHUNK_MASK;
    if (len <= 0 || o + len > RAM_CHUNK_SIZE) throw new RangeError(`RAM ${this.name}: pin of 0x${off.toString(16)}+0x${len.toString(16)} crosses a ${RAM_CHUNK_SIZE}-byte chunk`);
    const ci = off >>> RAM_CHUNK_SHIFT;
    if (this.pinned === null) this.pinned = new Uint8Array(this.nChunks);
    this.pinned[ci] = 1;
    // writes through the pointer bypass mark(): a watch over this chunk can no longer see them
    if (this.watchUnion !== null && this.watchUnion[ci] !== 0) this.watchHit(ci, -1);
    return this.wchunk(ci).subarray(o, o + len);
  }

  // ---------------- snapshot record ----------------

  /** whether a snapshot is being recorded */
  get snapshotted(): boolean {
    return this.snap !== null;
  }

  /**
   * Take the region's snapshot (replacing an earlier one): copies the chunks present now and
   * starts the write record.
   */
  snapshot(): void {
    const snap = new Map<number, Uint8Array>();
    for (let i = 0; i < this.nChunks; i++) {
      const c = this.store[this.idx[i]! | 0];
      if (c) snap.set(i, c.slice());
    }
    this.snap = snap;
    this.dirtyMask = new Int32Array(this.nChunks);
    this.dirtyList = new Int32Array(this.nChunks);
    this.nDirty = 0;
    for (const w of this.watches) w.epoch++;
  }

  /** Put the region back to its snapshot: only recorded pages are copied; chunks allocated since are dropped. */
  restore(): void {
    const snap = this.snap;
    if (snap === null) throw new Error(`RAM ${this.name}: restore without a snapshot`);
    const m = this.dirtyMask!;
    const list = this.dirtyList!;
    const pinned = this.pinned;
    const u = this.watchUnion;
    for (let i = 0; i < this.nDirty; i++) {
      const ci = list[i]!;
      let bits = m[ci]!;
      m[ci] = 0;
      if (u !== null && (u[ci]! & bits) !== 0) this.watchHit(ci, bits);
      const c = this.store[this.idx[ci]! | 0] as Uint8Array | null;
      const s = snap.get(ci);
      if (s === undefined) {
        if (c === null) continue;
        if (pinned === null || pinned[ci] === 0) this.drop(ci);
        else c.fill(0);
        continue;
      }
      if (c === null) continue; // present at the snapshot: never dropped since
      if ((bits & FULL_MASK) === FULL_MASK) {
        c.set(s);
        continue;
      }
      for (let p = 0; bits !== 0; p++, bits >>>= 1) {
        if ((bits & 1) === 0) continue;
        const lo = p << RAM_PAGE_SHIFT;
        const hi = Math.min(lo + RAM_PAGE_SIZE, c.length);
        c.set(s.subarray(lo, hi), lo);
      }
    }
    this.nDirty = 0;
  }

  /** the 4 KiB pages (region page indices, ascending) written since the snapshot, or [] without one */
  dirtyPages(): number[] {
    const out: number[] = [];
    if (this.dirtyMask === null) return out;
    const cis = Array.from(this.dirtyList!.subarray(0, this.nDirty)).sort((a, b) => a - b);
    for (const ci of cis) {
      const bits = this.dirtyMask[ci]!;
      for (let p = 0; p < PAGES_PER_CHUNK; p++) if ((bits >>> p) & 1) out.push(ci * PAGES_PER_CHUNK + p);
    }
    return out;
  }

  // ---------------- write watches ----------------

  /**
   * Watch the 4 KiB page holding `off` in watch set `set` (a small number the reader picks,
   * one per thing it keeps): from now on every write to the page (by any path of this store:
   * scalar, block, fill, copy) and every restore that puts it back moves the set's
   * `watchEpoch`. The watch rides on the snapshot record's per-write hook, so it works only
   * while a snapshot is recorded and not for chunks pinned for an external pointer (their
   * writes bypass the hook): then it answers false and watches nothing. A reader (the
   * fuzzer's isolation check, which walks a context bank's translation tables again only when
   * one of their pages may have changed) remembers the set's epoch; while it is unchanged, no
   * page of the set was written.
   */
  watch(set: number, off: number): boolean {
    if (this.dirtyMask === null) return false;
    const ci = off >>> RAM_CHUNK_SHIFT;
    if (this.pinned !== null && this.pinned[ci] !== 0) return false;
    const w = this.watchSet(set);
    const u = (this.watchUnion ??= new Int32Array(this.nChunks));
    const bit = 1 << ((off & RAM_CHUNK_MASK) >>> RAM_PAGE_SHIFT);
    const old = w.mask[ci]!;
    if ((old & bit) === 0) {
      if (old === 0) w.list.push(ci);
      w.mask[ci] = old | bit;
      w.pages++;
      u[ci] = u[ci]! | bit;
    }
    return true;
  }

  /**
   * Counts every event after which a page of set `set` may hold other bytes than before: a
   * write touching one, a restore putting one back, pinning its chunk, the set being emptied,
   * a new snapshot. Never restored and never decreasing, so a reader that remembered it can
   * tell "nothing I watch has changed since" by equality alone.
   */
  watchEpoch(set: number): number {
    return this.watchSet(set).epoch;
  }

  /**
   * Reserve n watch sets for one reader: the first one's number, or -1 when the region has no
   * WATCH_SETS_MAX sets left (the reader then keeps nothing). Readers with sets of their own
   * do not empty each other's.
   */
  allocWatchSets(n: number): number {
    if (this.watchSetsAllocated + n > WATCH_SETS_MAX) return -1;
    const base = this.watchSetsAllocated;
    this.watchSetsAllocated += n;
    return base;
  }

  /** number of pages in watch set `set` */
  watchedPages(set: number): number {
    return this.watchSet(set).pages;
  }

  /** empty watch set `set` (moves its epoch: what a reader remembered is no longer covered) */
  unwatchAll(set: number): void {
    const w = this.watchSet(set);
    const u = this.watchUnion;
    for (const ci of w.list) {
      w.mask[ci] = 0;
      let m = 0;
      for (const o of this.watches) m |= o.mask[ci]!;
      u![ci] = m;
    }
    w.list.length = 0;
    w.pages = 0;
    w.epoch++;
  }

  private watchSet(set: number): WatchSet {
    if (!(set >= 0 && set < WATCH_SETS_MAX && Number.isInteger(set))) throw new RangeError(`RAM ${this.name}: watch set ${set} (0..${WATCH_SETS_MAX - 1})`);
    while (this.watches.length <= set) this.watches.push({ mask: new Int32Array(this.nChunks), list: [], pages: 0, epoch: 0 });
    return this.watches[set]!;
  }

  /** a write (or restore, or pin) touched watched pages `bits` of chunk ci */
  private watchHit(ci: number, bits: number): void {
    const ws = this.watches;
    for (let i = 0; i < ws.length; i++) if ((ws[i]!.mask[ci]! & bits) !== 0) ws[i]!.epoch++;
  }
}
