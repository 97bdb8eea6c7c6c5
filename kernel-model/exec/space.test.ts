import { describe, expect, it } from 'vitest';
import { PhysicalBus } from '../../emulator/bus.js';
import { AddressSpace, MAP_PRIVATE, PROT_EXEC, PROT_READ, PROT_WRITE } from '../process/mm.js';
import { FakePageAllocator } from '../process/testing/fake-pages.js';
import { ProcessGuestSpace } from './space.js';

const RAM = 0x80000000;
function setup(): { mm: AddressSpace; space: ProcessGuestSpace; pages: FakePageAllocator; bus: PhysicalBus } {
  const bus = new PhysicalBus();
  bus.addRam('ram', RAM, 1 << 20);
  const pages = new FakePageAllocator(bus, RAM, 1 << 20);
  const mm = new AddressSpace({ pages, bus }, null);
  return { mm, space: new ProcessGuestSpace(mm), pages, bus };
}

describe('ProcessGuestSpace: the kernel-model address space as the Unicorn backend sees it', () => {
  it('untouched anonymous pages are not mirrored; a permitted CPU access materialises a zeroed frame', () => {
    const { mm, space, pages } = setup();
    const v = mm.mapRegion(0x40000000, 0x3000, PROT_READ | PROT_WRITE, MAP_PRIVATE | 0x20, true);
    expect(typeof v).not.toBe('number');
    expect(space.pageAt(0x40001000)).toBeNull();
    expect(space.ranges()).toEqual([[0x40000000, 0x40003000]]);
    expect(space.fault(0x40001234, 'write')).toBe(true);
    const b = space.pageAt(0x40001fff);
    expect(b?.kind).toBe('ram');
    expect(b?.prot).toBe(PROT_READ | PROT_WRITE);
    expect(pages.allocs).toBe(1);
    expect(space.demandFaults).toBe(1);
    // the kernel's own accessors see the same frame (zero-copy sharing with the CPU)
    expect(mm.putUser32(0x40001000, 0xdeadbeef)).toBe(0);
    expect(space.pageAt(0x40001000)).toEqual(b);
    // a second fault on the same page allocates nothing
    expect(space.fault(0x40001000, 'read')).toBe(true);
    expect(pages.allocs).toBe(1);
  });

  it('real faults: no VMA, or a protection the VMA does not grant', () => {
    const { mm, space, pages } = setup();
    mm.mapRegion(0x40000000, 0x1000, PROT_READ, MAP_PRIVATE | 0x20, true);
    expect(space.fault(0x0, 'read')).toBe(false);
    expect(space.fault(0x40000000, 'write')).toBe(false);
    expect(space.fault(0x40000000, 'fetch')).toBe(false);
    expect(pages.allocs).toBe(0);
    mm.mprotect(0x40000000, 0x1000, PROT_READ | PROT_EXEC);
    expect(space.fault(0x40000000, 'fetch')).toBe(true);
  });

  it('device (VM_PFNMAP) VMAs are MMIO pages at the physical address, kept at their protection', () => {
    const { mm, space } = setup();
    const v = mm.mapRegion(0x50000000, 0x2000, PROT_READ | PROT_WRITE, 1, true);
    if (typeof v === 'number') throw new Error('map');
    mm.remapPfnRange(v, 0x2c0a0000);
    expect(space.pageAt(0x50001010)).toEqual({ kind: 'mmio', pa: 0x2c0a1000, prot: PROT_READ | PROT_WRITE });
  });

  it('changed() notifies listeners with the page-aligned range', () => {
    const { space } = setup();
    const seen: [number, number][] = [];
    const off = space.onChange((s, e) => seen.push([s, e]));
    space.changed(0x40000010, 0x40001001);
    off();
    space.changed(0, 0x1000);
    expect(seen).toEqual([[0x40000000, 0x40002000]]);
  });
});
