/**
 * fork and DMA-pinned pages (capability `forkPinnedPages`, AddressSpace.forkInto): 3.14
 * shares every private page copy-on-write, pinned or not, so the first writer gets a copy and
 * the device keeps the frame the other process maps (copy_one_pte, do_wp_page,
 * reuse_swap_page), and a read-only pin after the fork pins a frame both still share; v6.12
 * copies pinned pages for the child at fork time (copy_present_page; the model copies the
 * others too). MADV_DONTFORK keeps a mapping out of the child.
 */
import { describe, expect, it } from 'vitest';
import { PhysicalBus } from '../../emulator/bus.js';
import { GuestTrap } from '../../emulator/cpu/stub.js';
import { EACCES, EINVAL, ENODEV, ENOMEM } from '../base/errno.js';
import { ProcessGuestSpace } from '../exec/space.js';
import { AddressSpace, MAP_PRIVATE, PROT_READ, PROT_WRITE, type ForkPinnedPages, type PinnedPage } from './mm.js';
import { MADV_COLD, MADV_DODUMP, MADV_DOFORK, MADV_DONTDUMP, MADV_DONTFORK, MADV_FREE, MADV_KEEPONFORK, MADV_NORMAL, MADV_PAGEOUT, MADV_POPULATE_READ, MADV_POPULATE_WRITE, MADV_RANDOM, MADV_REMOVE, MADV_SEQUENTIAL, MADV_WILLNEED, MADV_WIPEONFORK } from './vma.js';
import { FakePageAllocator } from './testing/fake-pages.js';

const RAM = 0x80000000;
const BUF = 0x40000000;
const RW = PROT_READ | PROT_WRITE;

function setup(): { parent: AddressSpace; pages: FakePageAllocator; bus: PhysicalBus; newMm: () => AddressSpace } {
  const bus = new PhysicalBus();
  bus.addRam('ram', RAM, 1 << 20);
  const pages = new FakePageAllocator(bus, RAM, 1 << 20);
  const newMm = (): AddressSpace => new AddressSpace({ pages, bus }, null);
  return { parent: newMm(), pages, bus, newMm };
}

/** the parent's 2-page buffer: page 0 pinned (a DMA mapping's), page 1 not; both written */
function pinnedBuffer(mm: AddressSpace): PinnedPage {
  expect(typeof mm.mapRegion(BUF, 0x2000, RW, MAP_PRIVATE | 0x20, true)).not.toBe('number');
  expect(mm.putUser32(BUF, 0xaaaa0000)).toBe(0);
  expect(mm.putUser32(BUF + 0x1000, 0xbbbb0000)).toBe(0);
  const pin: PinnedPage = { pa: 0, reserved: false };
  expect(mm.pinUserPage(BUF, true, pin)).toBe(0);
  return pin;
}

const frame = (mm: AddressSpace, va: number): number => mm.find(va)!.pages![(va - mm.find(va)!.start) >>> 12]!;
const devRead = (bus: PhysicalBus, pa: number): number => bus.ramAt(pa, 4)!.read32(pa - bus.ramAt(pa, 4)!.base);

describe.each<[ForkPinnedPages]>([['cow-shared'], ['copy']])('fork of a pinned page: %s', (mode) => {
  it('who keeps the device\'s frame when the parent writes its DMA buffer after the fork', () => {
    const { parent, pages, bus, newMm } = setup();
    const pin = pinnedBuffer(parent);
    const child = newMm();
    expect(parent.forkInto(child, mode)).toBe(0);
    if (mode === 'cow-shared') {
      // the unpinned page is shared too (copy_one_pte shares every private page)
      expect(frame(child, BUF + 0x1000)).toBe(frame(parent, BUF + 0x1000));
      expect(parent.isCow(BUF + 0x1000) && child.isCow(BUF + 0x1000)).toBe(true);
    } else {
      // the model copies it at fork (forkInto's choice for v6.12)
      expect(frame(child, BUF + 0x1000)).not.toBe(frame(parent, BUF + 0x1000));
    }
    if (mode === 'cow-shared') {
      // copy_one_pte: one frame, two mappers, write-protected in both
      expect(frame(child, BUF)).toBe(pin.pa);
      expect(parent.isCow(BUF) && child.isCow(BUF)).toBe(true);
      expect(pages.sharers.get(pin.pa)).toBe(2);
    } else {
      expect(frame(child, BUF)).not.toBe(pin.pa);
      expect(parent.isCow(BUF) || child.isCow(BUF)).toBe(false);
    }
    // a guest load caches the page; the store after it must still break the sharing
    expect(parent.loadU(BUF, 4)).toBe(0xaaaa0000);
    parent.storeU(BUF, 4, 0xbbbbbbbb);
    expect(parent.loadU(BUF, 4)).toBe(0xbbbbbbbb);
    if (mode === 'cow-shared') {
      // do_wp_page: the writer gets a copy; the device and the child keep the old frame
      expect(frame(parent, BUF)).not.toBe(pin.pa);
      expect(devRead(bus, pin.pa)).toBe(0xaaaa0000);
      expect(frame(child, BUF)).toBe(pin.pa);
      expect(child.loadU(BUF, 4)).toBe(0xaaaa0000);
      expect(pages.sharers.size).toBe(1); // page 1, still shared
      // the child is the frame's only mapper now: its write reuses it in place (reuse_swap_page), and the device sees it
      const allocs = pages.allocs;
      child.storeU(BUF, 4, 0xcccccccc);
      expect(pages.allocs).toBe(allocs);
      expect(frame(child, BUF)).toBe(pin.pa);
      expect(devRead(bus, pin.pa)).toBe(0xcccccccc);
    } else {
      expect(frame(parent, BUF)).toBe(pin.pa);
      expect(devRead(bus, pin.pa)).toBe(0xbbbbbbbb);
      expect(child.loadU(BUF, 4)).toBe(0xaaaa0000);
    }
    // everything is given back: the unpin and both exits free every frame
    parent.unpinPage(pin);
    parent.releaseAll();
    child.releaseAll();
    expect(pages.refs.size).toBe(0);
    expect(pages.sharers.size).toBe(0);
  });
});

describe('fork of a pinned page, 3.14 (cow-shared)', () => {
  it('the kernel\'s writes break the sharing too (copy_to_user, a FOLL_WRITE pin); a read pin does not', () => {
    const { parent, pages, newMm } = setup();
    const pin = pinnedBuffer(parent);
    const child = newMm();
    expect(parent.forkInto(child, 'cow-shared')).toBe(0);
    // a read pin of the shared frame: the same frame, still shared
    const rp: PinnedPage = { pa: 0, reserved: false };
    expect(child.pinUserPage(BUF, false, rp)).toBe(0);
    expect(rp.pa).toBe(pin.pa);
    expect(child.isCow(BUF)).toBe(true);
    // copy_to_user into the parent's page: a copy for the parent
    expect(parent.copyToUser(BUF + 8, new Uint8Array([1, 2, 3, 4]), 0, 4)).toBe(0);
    expect(frame(parent, BUF)).not.toBe(pin.pa);
    expect(parent.isCow(BUF)).toBe(false);
    // the child, now alone on the frame, pins it for writing: reused in place
    const wp: PinnedPage = { pa: 0, reserved: false };
    expect(child.pinUserPage(BUF, true, wp)).toBe(0);
    expect(wp.pa).toBe(pin.pa);
    expect(child.isCow(BUF)).toBe(false);
    child.unpinPage(wp);
    child.unpinPage(rp);
    parent.unpinPage(pin);
    child.releaseAll();
    parent.releaseAll();
    expect(pages.refs.size).toBe(0);
  });

  it('a child that exits first leaves the parent the only mapper: the parent writes in place, the device sees it', () => {
    const { parent, pages, bus, newMm } = setup();
    const pin = pinnedBuffer(parent);
    const child = newMm();
    expect(parent.forkInto(child, 'cow-shared')).toBe(0);
    child.releaseAll();
    expect(pages.sharers.size).toBe(0);
    parent.storeU(BUF, 4, 0x12345678);
    expect(frame(parent, BUF)).toBe(pin.pa);
    expect(devRead(bus, pin.pa)).toBe(0x12345678);
    parent.unpinPage(pin);
    parent.releaseAll();
    expect(pages.refs.size).toBe(0);
  });

  it('the Unicorn mirror: the parent\'s shared page is mirrored read-only after the fork, and the CPU\'s write fault gives it its copy, writable', () => {
    const { parent, newMm } = setup();
    const space = new ProcessGuestSpace(parent);
    const changes: [number, number][] = [];
    space.onChange((s, e) => changes.push([s, e]));
    const pin = pinnedBuffer(parent);
    expect(space.pageAt(BUF)).toEqual({ kind: 'ram', pa: pin.pa, prot: RW });
    const child = newMm();
    expect(parent.forkInto(child, 'cow-shared')).toBe(0);
    expect(changes).toEqual([[BUF, BUF + 0x2000]]);
    expect(space.pageAt(BUF)).toEqual({ kind: 'ram', pa: pin.pa, prot: PROT_READ, cow: true });
    // the unpinned page is shared too: read-only as well
    expect(space.pageAt(BUF + 0x1000)).toMatchObject({ prot: PROT_READ, cow: true });
    expect(space.fault(BUF + 4, 'read')).toBe(true);
    expect(space.pageAt(BUF)!.prot).toBe(PROT_READ);
    expect(space.fault(BUF + 4, 'write')).toBe(true);
    const b = space.pageAt(BUF)!;
    expect(b.prot).toBe(RW);
    expect(b.pa).not.toBe(pin.pa);
    expect(changes.at(-1)).toEqual([BUF, BUF + 0x1000]);
  });
});

describe('pins taken after the fork', () => {
  it.each<[ForkPinnedPages]>([['cow-shared'], ['copy']])('%s: a read-only pin of the DMA buffer after the fork: 3.14 pins the frame both still share, which the pinner\'s next write leaves behind; v6.12 pins the pinner\'s own page', (mode) => {
    const { parent, pages, bus, newMm } = setup();
    expect(typeof parent.mapRegion(BUF, 0x1000, RW, MAP_PRIVATE | 0x20, true)).not.toBe('number');
    expect(parent.putUser32(BUF, 0xaaaa0000)).toBe(0);
    const child = newMm();
    expect(parent.forkInto(child, mode)).toBe(0);
    const rp: PinnedPage = { pa: 0, reserved: false };
    expect(parent.pinUserPage(BUF, false, rp)).toBe(0);
    expect(rp.pa).toBe(frame(parent, BUF));
    parent.storeU(BUF, 4, 0xbbbbbbbb);
    if (mode === 'cow-shared') {
      // get_user_pages without FOLL_WRITE does not break the sharing; the store does (do_wp_page)
      expect(rp.pa).toBe(frame(child, BUF));
      expect(frame(parent, BUF)).not.toBe(rp.pa);
      expect(devRead(bus, rp.pa)).toBe(0xaaaa0000);
      // a write pin after the fork breaks the sharing first (FOLL_WRITE): the pinner's own frame
      expect(parent.putUser32(BUF + 0x10, 1)).toBe(0);
      const child2 = newMm();
      expect(parent.forkInto(child2, mode)).toBe(0);
      const wp: PinnedPage = { pa: 0, reserved: false };
      expect(parent.pinUserPage(BUF, true, wp)).toBe(0);
      expect(wp.pa).toBe(frame(parent, BUF));
      expect(wp.pa).not.toBe(frame(child2, BUF));
      parent.storeU(BUF, 4, 0xcccccccc);
      expect(devRead(bus, wp.pa)).toBe(0xcccccccc);
      parent.unpinPage(wp);
      child2.releaseAll();
    } else {
      expect(rp.pa).not.toBe(frame(child, BUF));
      expect(devRead(bus, rp.pa)).toBe(0xbbbbbbbb);
    }
    parent.unpinPage(rp);
    parent.releaseAll();
    child.releaseAll();
    expect(pages.refs.size).toBe(0);
    expect(pages.sharers.size).toBe(0);
  });

});

describe('madvise MADV_DONTFORK / MADV_DOFORK (VM_DONTCOPY)', () => {
  it('a DONTFORK mapping is not in the child (so a 3.14 parent keeps its pinned frame, writable); DOFORK undoes it; the errors', () => {
    const { parent, pages, newMm } = setup();
    const pin = pinnedBuffer(parent);
    expect(typeof parent.mapRegion(BUF + 0x2000, 0x1000, RW, MAP_PRIVATE | 0x20, true)).not.toBe('number');
    // only the first page of the buffer: the VMA is split
    expect(parent.setDontCopy(BUF, 0x1000, true)).toBe(0);
    const child = newMm();
    expect(parent.forkInto(child, 'cow-shared')).toBe(0);
    expect(child.find(BUF)).toBeNull();
    expect(child.find(BUF + 0x1000)).not.toBeNull();
    expect(() => child.loadU(BUF, 4)).toThrow(GuestTrap);
    expect(parent.isCow(BUF)).toBe(false);
    parent.storeU(BUF, 4, 1);
    expect(frame(parent, BUF)).toBe(pin.pa);
    expect(pages.sharers.has(pin.pa)).toBe(false);
    // DOFORK: the next child has it again
    expect(parent.setDontCopy(BUF, 0x1000, false)).toBe(0);
    const child2 = newMm();
    expect(parent.forkInto(child2, 'copy')).toBe(0);
    expect(child2.loadU(BUF, 4)).toBe(1);
    // errors: an unaligned start; a range with a hole (the mapped part is still changed); DOFORK on a device mapping
    expect(parent.setDontCopy(BUF + 1, 0x1000, true)).toBe(-EINVAL);
    expect(parent.setDontCopy(BUF + 0x2000, 0x3000, true)).toBe(-ENOMEM);
    expect(parent.find(BUF + 0x2000)!.dontCopy).toBe(true);
    const dev = parent.mapRegion(0x50000000, 0x1000, RW, 1, true);
    if (typeof dev === 'number') throw new Error('map');
    parent.remapPfnRange(dev, 0x2c0a0000);
    expect(parent.setDontCopy(0x50000000, 0x1000, false)).toBe(-EINVAL);
    expect(parent.setDontCopy(0x50000000, 0x1000, true)).toBe(0);
  });
});

describe('MAP_SHARED anonymous memory across fork (a shmem object: shmem_zero_setup)', () => {
  const SHARED_ANON = 0x01 | 0x20;

  it.each<[ForkPinnedPages]>([['cow-shared'], ['copy']])('%s: parent and child see one set of pages, touched before or after the fork, and no write is copy-on-write', (mode) => {
    const { parent, pages, newMm } = setup();
    expect(typeof parent.mapRegion(BUF, 0x3000, RW, SHARED_ANON, true)).not.toBe('number');
    parent.storeU(BUF, 4, 0x11111111);
    const pin: PinnedPage = { pa: 0, reserved: false };
    expect(parent.pinUserPage(BUF, true, pin)).toBe(0);
    const child = newMm();
    const allocs = pages.allocs;
    expect(parent.forkInto(child, mode)).toBe(0);
    expect(pages.allocs).toBe(allocs); // nothing copied
    expect(frame(child, BUF)).toBe(pin.pa);
    expect(parent.isCow(BUF) || child.isCow(BUF)).toBe(false);
    expect(pages.sharers.size).toBe(0);
    // a page the child touches first after the fork is the parent's too
    child.storeU(BUF + 0x1000, 4, 0x22222222);
    expect(parent.loadU(BUF + 0x1000, 4)).toBe(0x22222222);
    expect(frame(parent, BUF + 0x1000)).toBe(frame(child, BUF + 0x1000));
    // the parent's write after the fork goes to the pinned frame, where the child and the device see it
    parent.storeU(BUF, 4, 0x33333333);
    expect(frame(parent, BUF)).toBe(pin.pa);
    expect(child.loadU(BUF, 4)).toBe(0x33333333);
    // a grandchild of the child shares it too
    const grand = newMm();
    expect(child.forkInto(grand, mode)).toBe(0);
    grand.storeU(BUF + 0x2000, 4, 0x44444444);
    expect(parent.loadU(BUF + 0x2000, 4)).toBe(0x44444444);
    parent.unpinPage(pin);
    parent.releaseAll();
    grand.releaseAll();
    expect(child.loadU(BUF + 0x2000, 4)).toBe(0x44444444);
    child.releaseAll();
    expect(pages.refs.size).toBe(0);
  });

  it('a split and a partial munmap keep the object: the pages stay while any piece maps them, and go with the last', () => {
    const { parent, pages, newMm } = setup();
    expect(typeof parent.mapRegion(BUF, 0x4000, RW, SHARED_ANON, true)).not.toBe('number');
    for (let i = 0; i < 4; i++) parent.storeU(BUF + i * 0x1000, 4, 0xa0 + i);
    const child = newMm();
    expect(parent.forkInto(child, 'copy')).toBe(0);
    // the parent splits its mapping (mprotect of the middle) and unmaps a page: the child still has every page
    expect(parent.mprotect(BUF + 0x1000, 0x1000, PROT_READ)).toBe(0);
    expect(parent.mappings.filter((v) => v.start >= BUF && v.end <= BUF + 0x4000)).toHaveLength(3);
    expect(parent.munmap(BUF + 0x2000, 0x1000)).toBe(0);
    expect(pages.refs.size).toBe(4);
    expect(child.loadU(BUF + 0x2000, 4)).toBe(0xa2);
    // the pieces still view the object: the child's write is seen by the parent's upper piece
    child.storeU(BUF + 0x3000, 4, 0xbeef);
    expect(parent.loadU(BUF + 0x3000, 4)).toBe(0xbeef);
    expect(() => parent.storeU(BUF + 0x1000, 4, 0)).toThrow(GuestTrap); // now read-only in the parent
    child.storeU(BUF + 0x1000, 4, 0xcafe);
    expect(parent.loadU(BUF + 0x1000, 4)).toBe(0xcafe);
    child.releaseAll();
    expect(pages.refs.size).toBe(4); // the parent's pieces hold the object
    parent.releaseAll();
    expect(pages.refs.size).toBe(0);
  });

  it('MADV_DONTFORK keeps a shared mapping out of the child; a private mapping is still copied beside it', () => {
    const { parent, newMm } = setup();
    expect(typeof parent.mapRegion(BUF, 0x1000, RW, SHARED_ANON, true)).not.toBe('number');
    expect(typeof parent.mapRegion(BUF + 0x1000, 0x1000, RW, MAP_PRIVATE | 0x20, true)).not.toBe('number');
    parent.storeU(BUF, 4, 1);
    parent.storeU(BUF + 0x1000, 4, 2);
    const child = newMm();
    expect(parent.forkInto(child, 'copy')).toBe(0);
    child.storeU(BUF, 4, 3);
    child.storeU(BUF + 0x1000, 4, 4);
    expect(parent.loadU(BUF, 4)).toBe(3); // shared
    expect(parent.loadU(BUF + 0x1000, 4)).toBe(2); // private: the child's copy
    expect(parent.setDontCopy(BUF, 0x1000, true)).toBe(0);
    const child2 = newMm();
    expect(parent.forkInto(child2, 'copy')).toBe(0);
    expect(child2.find(BUF)).toBeNull();
  });

  it('the Unicorn mirror: a page the child faults in is mirrored at the same frame in the parent, writable, never copy-on-write', () => {
    const { parent, newMm } = setup();
    expect(typeof parent.mapRegion(BUF, 0x2000, RW, SHARED_ANON, true)).not.toBe('number');
    const child = newMm();
    expect(parent.forkInto(child, 'cow-shared')).toBe(0);
    const ps = new ProcessGuestSpace(parent);
    const cs = new ProcessGuestSpace(child);
    expect(ps.pageAt(BUF)).toBeNull();
    expect(cs.fault(BUF + 8, 'write')).toBe(true);
    const c = cs.pageAt(BUF)!;
    expect(c).toEqual({ kind: 'ram', pa: frame(child, BUF), prot: RW });
    expect(ps.pageAt(BUF)).toEqual(c);
    // the parent's own fault on it finds it present
    expect(ps.fault(BUF + 8, 'write')).toBe(true);
    expect(ps.pageAt(BUF)).toEqual(c);
  });
});

describe('madvise MADV_DONTNEED (zap_page_range)', () => {
  it('a private page reads zero afterwards and its frame is freed; a shared anonymous page keeps its data; a pinned frame stays the device\'s', () => {
    const { parent: mm, pages, bus } = setup();
    expect(typeof mm.mapRegion(BUF, 0x3000, RW, MAP_PRIVATE | 0x20, true)).not.toBe('number');
    expect(typeof mm.mapRegion(BUF + 0x3000, 0x1000, RW, 0x01 | 0x20, true)).not.toBe('number');
    for (let i = 0; i < 4; i++) mm.storeU(BUF + i * 0x1000, 4, 0x100 + i);
    const pin: PinnedPage = { pa: 0, reserved: false };
    expect(mm.pinUserPage(BUF + 0x2000, false, pin)).toBe(0);
    expect(pages.refs.size).toBe(4);
    // pages 1..3: one private, one pinned private, one shared (two VMAs)
    expect(mm.dontNeed(BUF + 0x1000, 0x3000)).toBe(0);
    expect(mm.loadU(BUF, 4)).toBe(0x100); // outside the range
    expect(mm.loadU(BUF + 0x1000, 4)).toBe(0);
    expect(mm.loadU(BUF + 0x2000, 4)).toBe(0);
    expect(mm.loadU(BUF + 0x3000, 4)).toBe(0x103);
    expect(devRead(bus, pin.pa)).toBe(0x102); // the device's frame, held by the pin
    expect(frame(mm, BUF + 0x2000)).not.toBe(pin.pa);
    mm.unpinPage(pin);
    expect(pages.refs.has(pin.pa)).toBe(false); // the pin was its last holder
    mm.releaseAll();
    expect(pages.refs.size).toBe(0);
  });

  it('after a 3.14 fork: the child\'s zap leaves the parent the frame\'s last mapper, which then writes it in place', () => {
    const { parent, pages, newMm } = setup();
    expect(typeof parent.mapRegion(BUF, 0x1000, RW, MAP_PRIVATE | 0x20, true)).not.toBe('number');
    parent.storeU(BUF, 4, 0xabc);
    const pa = frame(parent, BUF);
    const child = newMm();
    expect(parent.forkInto(child, 'cow-shared')).toBe(0);
    expect(pages.sharers.get(pa)).toBe(2);
    expect(child.dontNeed(BUF, 0x1000)).toBe(0);
    expect(child.loadU(BUF, 4)).toBe(0);
    expect(pages.sharers.has(pa)).toBe(false);
    parent.storeU(BUF, 4, 0xdef);
    expect(frame(parent, BUF)).toBe(pa);
    parent.releaseAll();
    child.releaseAll();
    expect(pages.refs.size).toBe(0);
  });

  it('errors: an unaligned start -EINVAL; a range with a hole -ENOMEM after zapping the mapped part; a device mapping -EINVAL (the VMAs before it zapped); a zero length 0', () => {
    const { parent: mm } = setup();
    expect(typeof mm.mapRegion(BUF, 0x1000, RW, MAP_PRIVATE | 0x20, true)).not.toBe('number');
    expect(typeof mm.mapRegion(BUF + 0x2000, 0x1000, RW, MAP_PRIVATE | 0x20, true)).not.toBe('number');
    const dev = mm.mapRegion(BUF + 0x3000, 0x1000, RW, 1, true);
    if (typeof dev === 'number') throw new Error('map');
    mm.remapPfnRange(dev, 0x2c0a0000);
    mm.storeU(BUF, 4, 1);
    mm.storeU(BUF + 0x2000, 4, 2);
    expect(mm.dontNeed(BUF + 8, 0x1000)).toBe(-EINVAL);
    expect(mm.loadU(BUF, 4)).toBe(1);
    expect(mm.dontNeed(BUF, 0)).toBe(0);
    expect(mm.dontNeed(BUF, 0x3000)).toBe(-ENOMEM);
    expect(mm.loadU(BUF, 4)).toBe(0);
    expect(mm.loadU(BUF + 0x2000, 4)).toBe(0);
    mm.storeU(BUF + 0x2000, 4, 3);
    expect(mm.dontNeed(BUF + 0x2000, 0x2000)).toBe(-EINVAL);
    expect(mm.loadU(BUF + 0x2000, 4)).toBe(0);
    // nothing mapped at all
    expect(mm.dontNeed(0x70000000, 0x1000)).toBe(-ENOMEM);
  });
});

describe('madvise: the other advice (VmaSpace.madvise)', () => {
  /** private anonymous [BUF, +2 pages), shared anonymous [+2, +3), a device page at +3 */
  function layout(): { mm: AddressSpace; pages: FakePageAllocator; bus: PhysicalBus; newMm: () => AddressSpace } {
    const { parent: mm, pages, bus, newMm } = setup();
    expect(typeof mm.mapRegion(BUF, 0x2000, RW, MAP_PRIVATE | 0x20, true)).not.toBe('number');
    expect(typeof mm.mapRegion(BUF + 0x2000, 0x1000, RW, 0x01 | 0x20, true)).not.toBe('number');
    const dev = mm.mapRegion(BUF + 0x3000, 0x1000, RW, 1, true);
    if (typeof dev === 'number') throw new Error('map');
    mm.remapPfnRange(dev, 0x2c0a0000);
    mm.storeU(BUF, 4, 0x11);
    mm.storeU(BUF + 0x1000, 4, 0x22);
    mm.storeU(BUF + 0x2000, 4, 0x33);
    return { mm, pages, bus, newMm };
  }

  it('hints (NORMAL, RANDOM, SEQUENTIAL, WILLNEED, DONTDUMP, COLD, PAGEOUT) keep the data; a hole is -ENOMEM, an unaligned start -EINVAL; DODUMP, COLD and PAGEOUT refuse a device VMA', () => {
    const { mm } = layout();
    for (const adv of [MADV_NORMAL, MADV_RANDOM, MADV_SEQUENTIAL, MADV_WILLNEED, MADV_DONTDUMP]) {
      expect(mm.madvise(BUF, 0x4000, adv), `advice ${adv}`).toBe(0);
      expect(mm.madvise(BUF, 0x5000, adv), `advice ${adv}`).toBe(-ENOMEM);
      expect(mm.madvise(BUF + 4, 0x1000, adv), `advice ${adv}`).toBe(-EINVAL);
    }
    expect(mm.madvise(BUF, 0x3000, MADV_COLD)).toBe(0);
    expect(mm.madvise(BUF, 0x3000, MADV_PAGEOUT)).toBe(0);
    for (const adv of [MADV_DODUMP, MADV_COLD, MADV_PAGEOUT]) expect(mm.madvise(BUF, 0x4000, adv), `advice ${adv}`).toBe(-EINVAL);
    expect(mm.madvise(BUF, 0x3000, MADV_DODUMP)).toBe(0);
    expect([mm.loadU(BUF, 4), mm.loadU(BUF + 0x1000, 4), mm.loadU(BUF + 0x2000, 4)]).toEqual([0x11, 0x22, 0x33]);
  });

  it('FREE: private pages keep their data (no memory pressure: never reclaimed); shared anonymous and device VMAs -EINVAL', () => {
    const { mm } = layout();
    expect(mm.madvise(BUF, 0x2000, MADV_FREE)).toBe(0);
    expect(mm.loadU(BUF + 0x1000, 4)).toBe(0x22);
    expect(mm.madvise(BUF + 0x2000, 0x1000, MADV_FREE)).toBe(-EINVAL);
    expect(mm.madvise(BUF + 0x3000, 0x1000, MADV_FREE)).toBe(-EINVAL);
  });

  it('REMOVE: private memory -EINVAL; a shared anonymous page reads zero for every mapper; read-only: -EACCES in 3.14 (VM_WRITE), removed in v6.12 (VM_MAYWRITE); a device file -ENODEV, or -EACCES when the file was opened read-only', () => {
    const { mm, newMm } = layout();
    expect(mm.madvise(BUF, 0x1000, MADV_REMOVE)).toBe(-EINVAL);
    const child = newMm();
    expect(mm.forkInto(child, 'copy')).toBe(0);
    expect(child.loadU(BUF + 0x2000, 4)).toBe(0x33);
    expect(mm.madvise(BUF + 0x2000, 0x1000, MADV_REMOVE, 'vm-write')).toBe(0);
    expect(mm.loadU(BUF + 0x2000, 4)).toBe(0);
    expect(child.loadU(BUF + 0x2000, 4)).toBe(0);
    child.storeU(BUF + 0x2000, 4, 0x44);
    expect(mm.loadU(BUF + 0x2000, 4)).toBe(0x44);
    expect(mm.mprotect(BUF + 0x2000, 0x1000, PROT_READ)).toBe(0);
    expect(mm.madvise(BUF + 0x2000, 0x1000, MADV_REMOVE, 'vm-write')).toBe(-EACCES);
    expect(mm.loadU(BUF + 0x2000, 4)).toBe(0x44);
    expect(mm.madvise(BUF + 0x2000, 0x1000, MADV_REMOVE, 'vm-maywrite')).toBe(0);
    expect(mm.loadU(BUF + 0x2000, 4)).toBe(0);
    expect(mm.madvise(BUF + 0x3000, 0x1000, MADV_REMOVE)).toBe(-ENODEV);
    mm.find(BUF + 0x3000)!.vmShared = false;
    expect(mm.madvise(BUF + 0x3000, 0x1000, MADV_REMOVE)).toBe(-EACCES);
  });

  it('WIPEONFORK: the child gets the range empty, the rest copied, the flag kept; KEEPONFORK undoes it; shared anonymous and device VMAs -EINVAL', () => {
    const { mm, newMm } = layout();
    expect(mm.madvise(BUF + 0x1000, 0x1000, MADV_WIPEONFORK)).toBe(0);
    expect(mm.find(BUF)!.wipeOnFork).not.toBe(true); // the VMA was split at the range
    for (const mode of ['cow-shared', 'copy'] as const) {
      const child = newMm();
      expect(mm.forkInto(child, mode)).toBe(0);
      expect(child.loadU(BUF, 4)).toBe(0x11);
      expect(child.loadU(BUF + 0x1000, 4)).toBe(0);
      expect(child.find(BUF + 0x1000)!.wipeOnFork).toBe(true);
      expect(mm.loadU(BUF + 0x1000, 4)).toBe(0x22);
      child.releaseAll();
    }
    expect(mm.madvise(BUF + 0x2000, 0x1000, MADV_WIPEONFORK)).toBe(-EINVAL);
    expect(mm.madvise(BUF + 0x3000, 0x1000, MADV_WIPEONFORK)).toBe(-EINVAL);
    expect(mm.madvise(BUF, 0x2000, MADV_KEEPONFORK)).toBe(0);
    const child = newMm();
    expect(mm.forkInto(child, 'copy')).toBe(0);
    expect(child.loadU(BUF + 0x1000, 4)).toBe(0x22);
  });

  it('POPULATE_WRITE breaks a 3.14 fork\'s copy-on-write sharing and faults untouched pages in; a read-only VMA or a device VMA -EINVAL, a hole -ENOMEM (the pages before it populated)', () => {
    const { mm, pages, newMm } = layout();
    expect(typeof mm.mapRegion(BUF + 0x5000, 0x2000, RW, MAP_PRIVATE | 0x20, true)).not.toBe('number');
    const child = newMm();
    expect(mm.forkInto(child, 'cow-shared')).toBe(0);
    expect(child.isCow(BUF)).toBe(true);
    expect(child.madvise(BUF, 0x2000, MADV_POPULATE_READ)).toBe(0);
    expect(child.isCow(BUF)).toBe(true);
    expect(child.madvise(BUF, 0x2000, MADV_POPULATE_WRITE)).toBe(0);
    expect(child.isCow(BUF) || child.isCow(BUF + 0x1000)).toBe(false);
    expect(frame(child, BUF)).not.toBe(frame(mm, BUF));
    expect(child.loadU(BUF, 4)).toBe(0x11);
    const before = pages.allocs;
    expect(mm.madvise(BUF + 0x5000, 0x2000, MADV_POPULATE_WRITE)).toBe(0);
    expect(pages.allocs).toBe(before + 2);
    expect(mm.madvise(BUF + 0x3000, 0x1000, MADV_POPULATE_READ)).toBe(-EINVAL);
    expect(mm.madvise(BUF + 0x4000, 0x2000, MADV_POPULATE_READ)).toBe(-ENOMEM);
    expect(mm.mprotect(BUF + 0x5000, 0x1000, PROT_READ)).toBe(0);
    expect(mm.madvise(BUF + 0x5000, 0x1000, MADV_POPULATE_WRITE)).toBe(-EINVAL);
    expect(mm.madvise(BUF + 0x5000, 0x1000, MADV_POPULATE_READ)).toBe(0);
  });

  it('the walk stops at the first VMA that refuses: DOFORK over a private VMA and a device VMA clears the first one\'s VM_DONTCOPY, then -EINVAL', () => {
    const { mm } = layout();
    expect(mm.madvise(BUF, 0x4000, MADV_DONTFORK)).toBe(0);
    expect(mm.madvise(BUF, 0x4000, MADV_DOFORK)).toBe(-EINVAL);
    expect(mm.find(BUF)!.dontCopy).toBe(false);
    expect(mm.find(BUF + 0x2000)!.dontCopy).toBe(false);
    expect(mm.find(BUF + 0x3000)!.dontCopy).toBe(true);
  });
});
