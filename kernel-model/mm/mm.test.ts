import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { PhysicalBus } from '../../emulator/bus.js';
import { ENOMEM } from '../base/errno.js';
import { KernelOops } from '../base/oops.js';
import { Kmem } from './kmem.js';
import { PAGE_OFFSET, PAGE_SIZE, PageAllocator } from './page-alloc.js';

function setup(pages = 64, reservedPages = 4): { bus: PhysicalBus; pa: PageAllocator; km: Kmem } {
  const bus = new PhysicalBus();
  bus.addRam('ram', 0x80000000, pages * PAGE_SIZE);
  const pa = new PageAllocator(bus, 0x80000000, pages * PAGE_SIZE, reservedPages * PAGE_SIZE);
  return { bus, pa, km: new Kmem(pa) };
}

describe('page allocator', () => {
  it('hands out the lowest free page after the kernel reservation, deterministically', () => {
    const { pa } = setup();
    expect(pa.allocPage()).toBe(0x80004000);
    expect(pa.allocPage()).toBe(0x80005000);
    pa.freePage(0x80004000);
    expect(pa.allocPage()).toBe(0x80004000);
    expect(pa.isReserved(0x80000000)).toBe(true);
  });

  it('returns -ENOMEM on exhaustion and recovers after a free', () => {
    const { pa } = setup(8, 4);
    const got = [pa.allocPage(), pa.allocPage(), pa.allocPage(), pa.allocPage()];
    expect(got.every((x) => x > 0)).toBe(true);
    expect(pa.allocPage()).toBe(-ENOMEM);
    expect(pa.allocPages(1)).toBe(-ENOMEM);
    pa.freePage(got[2]!);
    expect(pa.allocPage()).toBe(got[2]);
  });

  it('zeroes pages on allocation', () => {
    const { pa, bus } = setup();
    const p = pa.allocPage();
    bus.write(p + 16, 4, 0xdeadbeef, 0);
    pa.freePage(p);
    expect(pa.allocPage()).toBe(p);
    expect(bus.read(p + 16, 4, 0)).toBe(0);
  });

  it('contiguous allocations are naturally aligned', () => {
    const { pa } = setup();
    pa.allocPage();
    const p = pa.allocPages(2);
    expect((p - 0x80000000) % (4 * PAGE_SIZE)).toBe(0);
    expect(pa.isAllocated(p + 3 * PAGE_SIZE)).toBe(true);
  });

  it('refcounts and pins keep a page until the last put', () => {
    const { pa } = setup();
    const p = pa.allocPage();
    expect(pa.pinPage(p)).toBe(true);
    expect(pa.refCount(p)).toBe(2);
    expect(pa.pinCount(p)).toBe(1);
    pa.freePage(p);
    expect(pa.isAllocated(p)).toBe(true);
    pa.unpinPage(p);
    expect(pa.isAllocated(p)).toBe(false);
    expect(pa.pinPage(p)).toBe(false);
  });

  it('a stack page growing down takes the frame below the one above it, else the top of the lowest free run (allocPageBelow)', () => {
    const { pa } = setup(64, 4);
    const base = 0x80000000;
    const a = pa.allocPage(); // page 4
    expect(a).toBe(base + 4 * PAGE_SIZE);
    // page 3 is reserved: the top page of the lowest run of 8 free pages, 5..12
    const s0 = pa.allocPageBelow(a, 8);
    expect(s0).toBe(base + 12 * PAGE_SIZE);
    expect(pa.allocPageBelow(s0, 8)).toBe(base + 11 * PAGE_SIZE);
    // the lowest-first allocator is unchanged: page 5 next
    expect(pa.allocPage()).toBe(base + 5 * PAGE_SIZE);
    // the frame below page 6 (5) is taken; pages 6..10 free but not 8 in a run: 13..20's top
    expect(pa.allocPageBelow(base + 6 * PAGE_SIZE, 8)).toBe(base + 20 * PAGE_SIZE);
    expect(pa.nrFree).toBe(64 - 4 - 5);
    // no run that long: the lowest free page
    expect(pa.allocPageBelow(base + 6 * PAGE_SIZE, 64)).toBe(base + 6 * PAGE_SIZE);
  });
  it('free count is consistent under random alloc/free sequences', () => {
    fc.assert(
      fc.property(fc.array(fc.boolean(), { maxLength: 80 }), (ops) => {
        const { pa } = setup(32, 2);
        const live: number[] = [];
        for (const alloc of ops) {
          if (alloc) {
            const p = pa.allocPage();
            if (live.length < 30) expect(p).toBeGreaterThan(0);
            else expect(p).toBe(-ENOMEM);
            if (p > 0) live.push(p);
          } else if (live.length) pa.freePage(live.shift()!);
        }
        expect(pa.nrFree).toBe(30 - live.length);
        expect(new Set(live).size).toBe(live.length);
      }),
      { numRuns: 150 },
    );
  });
});

describe('kmalloc heap', () => {
  it('objects of one size class are neighbours in one RAM page at linear-map addresses', () => {
    const { km, pa } = setup();
    const a = km.kmalloc(24);
    const b = km.kmalloc(30);
    expect(a).toBe(PAGE_OFFSET + 4 * PAGE_SIZE);
    expect(b).toBe(a + 32);
    expect(km.ksize(a)).toBe(32);
    km.write32(b, 0xcafef00d);
    // an out-of-bounds read past a's end reads b's bytes
    expect(km.read32(a + 32)).toBe(0xcafef00d);
    // and those bytes are in RAM at the linear-map physical address
    expect(pa.bus.read(km.lin.kvaToPa(b), 4, 0)).toBe(0xcafef00d);
  });

  it('kfree makes the slot reusable (zeroed) and frees empty slabs', () => {
    const { km, pa } = setup();
    const free0 = pa.nrFree;
    const a = km.kmalloc(100);
    km.write32(a, 7);
    km.kfree(a);
    expect(pa.nrFree).toBe(free0);
    const b = km.kmalloc(100);
    expect(b).toBe(a);
    expect(km.read32(b)).toBe(0);
  });

  it('large allocations take whole pages', () => {
    const { km } = setup();
    const a = km.kmalloc(3 * PAGE_SIZE);
    expect(km.ksize(a)).toBe(4 * PAGE_SIZE);
    km.write8(a + 3 * PAGE_SIZE + 5, 9);
    expect(km.read8(a + 3 * PAGE_SIZE + 5)).toBe(9);
    km.kfree(a);
  });

  it('returns NULL when memory is exhausted', () => {
    const { km } = setup(6, 4);
    expect(km.kmalloc(4096)).toBeGreaterThan(0);
    expect(km.kmalloc(4096)).toBeGreaterThan(0);
    expect(km.kmalloc(4096)).toBe(0);
    expect(km.kmalloc(4 * PAGE_SIZE)).toBe(0);
  });

  it('Oopses (paging request) on kvas the linear map does not back', () => {
    const { km } = setup();
    for (const bad of [0, 0x10, 0x8000, PAGE_OFFSET - 4, PAGE_OFFSET + 64 * PAGE_SIZE, PAGE_OFFSET + 64 * PAGE_SIZE - 2]) {
      let e: unknown = null;
      try {
        km.read32(bad);
      } catch (x) {
        e = x;
      }
      expect(e).toBeInstanceOf(KernelOops);
      expect((e as KernelOops).kind).toBe('paging-request');
      expect((e as KernelOops).address).toBe(bad);
    }
    // below PAGE_SIZE the message says what arch/arm/mm/fault.c says there
    expect(() => km.write32(0, 1)).toThrow(/NULL pointer dereference at virtual address 0x00000000/);
    expect(() => km.write32(PAGE_OFFSET - 4, 1)).toThrow(/paging request at virtual address/);
  });

  it('kfree of a foreign pointer is a kernel BUG', () => {
    const { km } = setup();
    const a = km.kmalloc(64);
    expect(() => km.kfree(a + 8)).toThrow(KernelOops);
  });
});
