import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PhysicalBus } from './bus.js';
import { RAM_CHUNK_SIZE, RamRegion } from './ram.js';

// five chunks, the last one short: exercises chunk boundaries and a partial last chunk
const SIZE = 4 * RAM_CHUNK_SIZE + 8192;

type Op =
  | { k: 'w'; size: 1 | 2 | 4; off: number; v: number }
  | { k: 'w64'; off: number; lo: number; hi: number }
  | { k: 'block'; off: number; data: Uint8Array }
  | { k: 'fill'; off: number; len: number; v: number }
  | { k: 'copy'; d: number; s: number; len: number; other: boolean }
  | { k: 'snap' }
  | { k: 'restore' };

/** offsets near chunk boundaries are the interesting ones */
const offArb = (maxLen: number): fc.Arbitrary<number> =>
  fc.oneof(
    fc.integer({ min: 0, max: SIZE - maxLen }),
    fc.tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: -8, max: 8 })).map(([c, d]) => Math.max(0, Math.min(SIZE - maxLen, c * RAM_CHUNK_SIZE + d))),
  );
const lenArb = fc.oneof(fc.integer({ min: 1, max: 64 }), fc.integer({ min: 1, max: 3 * RAM_CHUNK_SIZE }));

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ k: fc.constant('w' as const), size: fc.constantFrom(1 as const, 2 as const, 4 as const), off: offArb(4), v: fc.integer({ min: 0, max: 0xffffffff }) }),
  fc.record({ k: fc.constant('w64' as const), off: offArb(8), lo: fc.integer({ min: 0, max: 0xffffffff }), hi: fc.integer({ min: 0, max: 0xffffffff }) }),
  fc.record({ k: fc.constant('block' as const), off: offArb(300), data: fc.uint8Array({ minLength: 1, maxLength: 300 }) }),
  lenArb.chain((len) => fc.record({ k: fc.constant('fill' as const), off: offArb(len), len: fc.constant(len), v: fc.constantFrom(0, 0, 0x5a, 0xff) })),
  lenArb.chain((len) => fc.record({ k: fc.constant('copy' as const), d: offArb(len), s: offArb(len), len: fc.constant(len), other: fc.boolean() })),
  fc.constant({ k: 'snap' as const }),
  fc.constant({ k: 'restore' as const }),
);

/** The same operations on a dense byte array (the reference). */
function applyDense(m: Uint8Array, other: Uint8Array, op: Op, snap: { s: Uint8Array | null }): void {
  switch (op.k) {
    case 'w':
      for (let i = 0; i < op.size; i++) m[op.off + i] = (op.v >>> (8 * i)) & 0xff;
      break;
    case 'w64':
      for (let i = 0; i < 4; i++) m[op.off + i] = (op.lo >>> (8 * i)) & 0xff;
      for (let i = 0; i < 4; i++) m[op.off + 4 + i] = (op.hi >>> (8 * i)) & 0xff;
      break;
    case 'block':
      m.set(op.data, op.off);
      break;
    case 'fill':
      m.fill(op.v, op.off, op.off + op.len);
      break;
    case 'copy':
      if (op.other) m.set(other.subarray(op.s, op.s + op.len), op.d);
      else m.copyWithin(op.d, op.s, op.s + op.len);
      break;
    case 'snap':
      snap.s = m.slice();
      break;
    case 'restore':
      if (snap.s) m.set(snap.s);
      break;
  }
}

function applySparse(r: RamRegion, other: RamRegion, op: Op): void {
  switch (op.k) {
    case 'w':
      if (op.size === 1) r.write8(op.off, op.v & 0xff);
      else if (op.size === 2) r.write16(op.off, op.v & 0xffff);
      else r.write32(op.off, op.v);
      break;
    case 'w64':
      r.write64(op.off, op.lo, op.hi);
      break;
    case 'block':
      r.writeBlock(op.off, op.data, 0, op.data.length);
      break;
    case 'fill':
      r.fill(op.off, op.v, op.len);
      break;
    case 'copy':
      r.copyFrom(op.d, op.other ? other : r, op.s, op.len);
      break;
    case 'snap':
      r.snapshot();
      break;
    case 'restore':
      if (r.snapshotted) r.restore();
      break;
  }
}

describe('sparse RAM page store', () => {
  it('property: random read/write/fill/copy/snapshot/restore sequences give the same bytes as a dense array', () => {
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 1, maxLength: 40 }), fc.integer({ min: 0, max: 0xffff }), (ops, seed) => {
        const r = new RamRegion('r', 0, SIZE);
        const o = new RamRegion('o', 0, SIZE);
        const dense = new Uint8Array(SIZE);
        const odense = new Uint8Array(SIZE);
        // the other region: a few present chunks with known contents
        for (let i = 0; i < 3 * RAM_CHUNK_SIZE; i += 4097) {
          const v = (i * 2654435761 + seed) >>> 24;
          o.write8(i, v);
          odense[i] = v;
        }
        const snap = { s: null as Uint8Array | null };
        for (const op of ops) {
          applySparse(r, o, op);
          applyDense(dense, odense, op, snap);
          // scalar reads agree at the operation's own boundaries
          const at = op.k === 'copy' ? op.d : op.k === 'snap' || op.k === 'restore' ? 0 : op.off;
          const lo = dense[at]! | (dense[at + 1]! << 8) | (dense[at + 2]! << 16) | (dense[at + 3]! << 24);
          expect(r.read32(at)).toBe(lo >>> 0);
          expect(r.read16(at + 1)).toBe(dense[at + 1]! | (dense[at + 2]! << 8));
        }
        expect(Buffer.compare(r.readBytes(0, SIZE), dense)).toBe(0);
        // an absent chunk is all zeros in the reference: nothing allocated without a non-zero byte ever written
        let nonZeroChunks = 0;
        for (let c = 0; c * RAM_CHUNK_SIZE < SIZE; c++) {
          const part = dense.subarray(c * RAM_CHUNK_SIZE, Math.min(SIZE, (c + 1) * RAM_CHUNK_SIZE));
          if (part.some((b) => b !== 0)) {
            nonZeroChunks++;
            expect(r.isPresent(c * RAM_CHUNK_SIZE)).toBe(true);
          }
        }
        expect(r.chunksPresent).toBeGreaterThanOrEqual(nonZeroChunks);
      }),
      { numRuns: 100, seed: 19 },
    );
  });

  it('reads of untouched memory return zeros without allocating; zero fills into absent chunks allocate nothing', () => {
    const bus = new PhysicalBus();
    const r = bus.addRam('big', 0x80000000, 2 ** 32); // 4 GiB: one table slot per 64 KiB chunk
    expect(r.chunksPresent).toBe(0);
    expect(bus.read(0x80000000, 4, 0)).toBe(0);
    expect(bus.read(0x17ffffffc, 4, 0)).toBe(0);
    const buf = new Uint8Array(3 * RAM_CHUNK_SIZE).fill(9);
    expect(bus.readBlock(0x90000000, buf, 0, buf.length, 0)).toBe(0);
    expect(buf.every((b) => b === 0)).toBe(true);
    bus.fill(0xa0000000, 0, 1 << 20, 0);
    r.copyFrom(0x1000, r, 0x2000_0000, 1 << 20); // zeros onto zeros
    expect(r.readSpan(0x123, 16)).not.toBeNull();
    expect(r.chunksPresent).toBe(0);
    expect(r.bytesAllocated).toBe(0);
    bus.write(0x17ffffffc, 4, 0xdeadbeef, 0);
    expect(r.chunksPresent).toBe(1);
    expect(r.bytesAllocated).toBe(RAM_CHUNK_SIZE);
    expect(bus.read(0x17ffffffc, 4, 0)).toBe(0xdeadbeef);
  });

  it('snapshot/restore: only recorded pages are copied back, chunks allocated since are dropped, pinned chunks are zeroed', () => {
    const r = new RamRegion('r', 0, 8 * RAM_CHUNK_SIZE);
    r.write32(0x10, 0x11111111);
    r.write32(RAM_CHUNK_SIZE + 0x2000, 0x22222222);
    r.snapshot();
    expect(r.dirtyPages()).toEqual([]);
    r.write32(0x14, 5); // page 0
    r.fill(RAM_CHUNK_SIZE + 0x1ff0, 0x33, 0x20); // pages 17 and 18
    r.write8(5 * RAM_CHUNK_SIZE + 7, 1); // a chunk allocated since
    const pin = r.pin(6 * RAM_CHUNK_SIZE, 4096);
    pin[0] = 0x77; // an external writer (Unicorn): not recorded
    r.write8(6 * RAM_CHUNK_SIZE + 1, 2);
    expect(r.dirtyPages()).toEqual([0, 17, 18, 80, 96]);
    expect(r.chunksPresent).toBe(4);
    r.restore();
    expect(r.dirtyPages()).toEqual([]);
    expect(r.chunksPresent).toBe(3); // the pinned chunk stays (zeroed)
    expect(r.isPresent(5 * RAM_CHUNK_SIZE)).toBe(false);
    expect(r.read32(0x10)).toBe(0x11111111);
    expect(r.read32(0x14)).toBe(0);
    expect(r.read32(RAM_CHUNK_SIZE + 0x2000)).toBe(0x22222222);
    expect(r.read32(RAM_CHUNK_SIZE + 0x1ffc)).toBe(0);
    expect(pin[0]).toBe(0);
    expect(pin[1]).toBe(0);
    // a second run from the same snapshot
    r.write32(RAM_CHUNK_SIZE + 0x2000, 0);
    r.restore();
    expect(r.read32(RAM_CHUNK_SIZE + 0x2000)).toBe(0x22222222);
  });

  it('chunks past the end of the grown chunk table read as absent; writing one grows it; restore drops it', () => {
    const G = 2 ** 30; // 16384 chunks: the table starts far smaller
    const r = new RamRegion('g', 0, G);
    const hi = G - 8;
    const dst = new Uint8Array(8).fill(0xee);
    expect(r.read32(hi)).toBe(0);
    expect(r.isPresent(hi)).toBe(false);
    r.readBlock(hi, dst, 0, 8);
    expect([...dst]).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    r.snapshot();
    r.write32(hi, 0xdeadbeef);
    r.write8(100 * RAM_CHUNK_SIZE + 3, 7);
    expect(r.read32(hi)).toBe(0xdeadbeef);
    expect(r.read8(100 * RAM_CHUNK_SIZE + 3)).toBe(7);
    expect(r.isPresent(hi)).toBe(true);
    expect(r.isPresent(8000 * RAM_CHUNK_SIZE)).toBe(false);
    expect(r.chunksPresent).toBe(2);
    // a copy from an absent chunk past the written ones into a present one writes zeros
    r.copyFrom(hi, r, 9000 * RAM_CHUNK_SIZE, 4);
    expect(r.read32(hi)).toBe(0);
    r.restore();
    expect(r.chunksPresent).toBe(0);
    expect(r.read8(100 * RAM_CHUNK_SIZE + 3)).toBe(0);
  });

  it('refuses regions that are not whole 4 KiB pages or exceed 4 GiB', () => {
    expect(() => new RamRegion('x', 0, 1000)).toThrow(RangeError);
    expect(() => new RamRegion('x', 0, 2 ** 32 + 4096)).toThrow(RangeError);
  });

  it('property: a write watch set moves its epoch whenever one of its pages may hold other bytes, and not for writes elsewhere', () => {
    const pageArb = fc.integer({ min: 0, max: SIZE / 4096 - 1 });
    let moved = 0;
    let quiet = 0;
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 1, maxLength: 40 }), fc.uniqueArray(pageArb, { minLength: 1, maxLength: 6 }), fc.uniqueArray(pageArb, { maxLength: 6 }), (ops, pages, others) => {
        const r = new RamRegion('r', 0, SIZE);
        const o = new RamRegion('o', 0, SIZE);
        for (let i = 0; i < 3 * RAM_CHUNK_SIZE; i += 4097) o.write8(i, (i >>> 5) & 0xff);
        // no snapshot record yet: nothing can be watched
        expect(r.watch(2, pages[0]! * 4096)).toBe(false);
        r.snapshot();
        // set 1: pages watched and then emptied again (its pages must not keep set 2's alive, nor the reverse)
        for (const p of others) r.watch(1, p * 4096);
        for (const p of pages) expect(r.watch(2, p * 4096 + 100)).toBe(true);
        r.unwatchAll(1);
        expect(r.watchedPages(2)).toBe(pages.length);
        expect(r.watchedPages(1)).toBe(0);
        const watched = (): Uint8Array[] => pages.map((p) => r.readBytes(p * 4096, Math.min(4096, SIZE - p * 4096)));
        let seen = watched();
        let epoch = r.watchEpoch(2);
        for (const op of ops) {
          applySparse(r, o, op);
          const now = watched();
          const same = now.every((b, i) => Buffer.compare(b, seen[i]!) === 0);
          // sound: an unchanged epoch means the watched bytes are unchanged
          if (r.watchEpoch(2) === epoch) expect(same).toBe(true);
          else if (op.k !== 'snap' && op.k !== 'restore') {
            // precise for writes: the epoch moved only because the write covered a watched page
            const [lo, len] = op.k === 'w' ? [op.off, op.size] : op.k === 'w64' ? [op.off, 8] : op.k === 'block' ? [op.off, op.data.length] : op.k === 'fill' ? [op.off, op.len] : [op.d, op.len];
            expect(pages.some((p) => lo < p * 4096 + 4096 && lo + len > p * 4096)).toBe(true);
          }
          if (r.watchEpoch(2) === epoch) quiet++;
          else moved++;
          seen = now;
          epoch = r.watchEpoch(2);
        }
      }),
      { numRuns: 150, seed: 23 },
    );
    // both answers were exercised
    expect(moved).toBeGreaterThan(50);
    expect(quiet).toBeGreaterThan(50);
  });

  it('write watches: sets are independent; pinning a watched chunk, emptying a set and a new snapshot move the epochs; a pinned chunk cannot be watched', () => {
    const r = new RamRegion('r', 0, SIZE);
    r.snapshot();
    expect(r.watch(0, 0x1000)).toBe(true);
    expect(r.watch(1, 0x1000)).toBe(true);
    expect(r.watch(1, 0x3000)).toBe(true);
    let e = r.watchEpoch(0);
    const e1 = r.watchEpoch(1);
    r.write32(0x2000, 1); // another page of the same chunk
    expect(r.watchEpoch(0)).toBe(e);
    r.write32(0x1ffc, 1);
    expect(r.watchEpoch(0)).toBe(e + 1);
    expect(r.watchEpoch(1)).toBe(e1 + 1);
    r.write8(0x3000, 1); // set 1 only
    expect(r.watchEpoch(0)).toBe(e + 1);
    expect(r.watchEpoch(1)).toBe(e1 + 2);
    r.unwatchAll(1); // set 0 still sees 0x1000
    expect(r.watchEpoch(0)).toBe(e + 1);
    r.write8(0x1000, 9);
    expect(r.watchEpoch(0)).toBe(e + 2);
    e = r.watchEpoch(0);
    r.restore(); // puts 0x1000 back (and 0x2000, 0x3000: not in set 0)
    expect(r.watchEpoch(0)).toBe(e + 1);
    e = r.watchEpoch(0);
    r.restore(); // nothing recorded: nothing put back
    expect(r.watchEpoch(0)).toBe(e);
    r.pin(0x1000, 16);
    expect(r.watchEpoch(0)).toBe(e + 1);
    expect(r.watch(0, 0x1000)).toBe(false);
    expect(r.watch(0, RAM_CHUNK_SIZE)).toBe(true);
    expect(r.watchedPages(0)).toBe(2);
    e = r.watchEpoch(0);
    r.unwatchAll(0);
    expect(r.watchedPages(0)).toBe(0);
    expect(r.watchEpoch(0)).toBe(e + 1);
    r.write32(RAM_CHUNK_SIZE, 7); // no longer watched
    expect(r.watchEpoch(0)).toBe(e + 1);
    r.snapshot();
    expect(r.watchEpoch(0)).toBe(e + 2);
    expect(() => r.watch(-1, RAM_CHUNK_SIZE)).toThrow(RangeError);
  });
});
