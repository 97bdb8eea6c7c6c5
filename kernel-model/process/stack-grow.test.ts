import { describe, expect, it } from 'vitest';
import { PhysicalBus } from '../../emulator/bus.js';
import { AddressSpace, MAP_PRIVATE, PROT_READ, PROT_WRITE } from './mm.js';
import { shownStart, STACK_GUARD_GAP, type StackGuard } from './stack-grow.js';
import { FakePageAllocator } from './testing/fake-pages.js';
import { trap } from './testing/trap.js';

/**
 * The stack VMA's growth (stack-grow.ts; 3.14 expand_stack + check_stack_guard_page, v6.12
 * expand_downwards with stack_guard_gap; read in 3.14.4 / 6.12.19) through AddressSpace's
 * user accessors, as a fault from the CPU or the kernel takes it.
 */
const P = 4096;
const TOP = 0xbf000000;
const RW = PROT_READ | PROT_WRITE;
const MAP_ANONYMOUS = 0x20;

function space(guard: StackGuard, limitPages: number): AddressSpace {
  const bus = new PhysicalBus();
  bus.addRam('ram', 0x80000000, 8 << 20);
  const mm = new AddressSpace({ pages: new FakePageAllocator(bus, 0x80000000, 8 << 20), bus }, null);
  mm.stackGuard = guard;
  mm.stackLimit = () => limitPages * P;
  const v = mm.mapRegion(TOP - 8 * P, 8 * P, RW, MAP_PRIVATE | MAP_ANONYMOUS, true);
  if (typeof v === 'number') throw new Error('map');
  v.growsDown = true;
  return mm;
}

const stack = (mm: AddressSpace) => mm.find(TOP - 1)!;

describe('the stack VMA grows on faults below it (stack-grow.ts)', () => {
  it('v6.12 (guard-gap): a write below grows it to the page, up to RLIMIT_STACK (then SIGSEGV, the VMA as it was); maps shows it as it is', () => {
    const mm = space('guard-gap', 16);
    mm.storeU(TOP - 12 * P + 5, 1, 7);
    expect(stack(mm).start).toBe(TOP - 12 * P);
    expect(mm.loadU(TOP - 12 * P + 5, 1)).toBe(7);
    expect(trap(() => mm.storeU(TOP - 16 * P, 1, 1))).toBe('none');
    expect(trap(() => mm.storeU(TOP - 17 * P + 100, 1, 1))).toBe('SIGSEGV');
    expect(stack(mm).start).toBe(TOP - 16 * P);
    expect(shownStart(mm.mappings, stack(mm), 'guard-gap')).toBe(TOP - 16 * P);
  });

  it('v6.12: no growth to within stack_guard_gap (256 pages) of an accessible mapping below; a PROT_NONE one does not count', () => {
    const mm = space('guard-gap', 1024);
    const m = TOP - 600 * P;
    mm.mapRegion(m, P, RW, MAP_PRIVATE | MAP_ANONYMOUS, true);
    expect(trap(() => mm.storeU(m + P + STACK_GUARD_GAP - 1, 1, 1))).toBe('SIGSEGV');
    expect(trap(() => mm.storeU(m + P + STACK_GUARD_GAP, 1, 1))).toBe('none');
    expect(stack(mm).start).toBe(m + P + STACK_GUARD_GAP);
    const n = space('guard-gap', 1024);
    n.mapRegion(m, P, 0, MAP_PRIVATE | MAP_ANONYMOUS, true);
    expect(trap(() => n.storeU(m + P, 1, 1))).toBe('none');
    expect(n.find(m + P)!.growsDown).toBe(true);
  });

  it('3.14 (guard-page): the first write to its lowest page grows it a page further, maps hides that page; at RLIMIT_STACK the growth stops silently and the next page is SIGSEGV', () => {
    const mm = space('guard-page', 10);
    expect(shownStart(mm.mappings, stack(mm), 'guard-page')).toBe(TOP - 7 * P);
    mm.storeU(TOP - 8 * P, 1, 1);
    expect(stack(mm).start).toBe(TOP - 9 * P);
    expect(shownStart(mm.mappings, stack(mm), 'guard-page')).toBe(TOP - 8 * P);
    // a write below the VMA: expand_stack to its page, then the guard page's page further
    mm.storeU(TOP - 9 * P - 1, 1, 1);
    expect(stack(mm).start).toBe(TOP - 10 * P);
    // the VMA is at the limit: the guard page is written, no page further
    expect(trap(() => mm.storeU(TOP - 10 * P, 1, 1))).toBe('none');
    expect(stack(mm).start).toBe(TOP - 10 * P);
    expect(trap(() => mm.storeU(TOP - 10 * P - 1, 1, 1))).toBe('SIGSEGV');
  });

  it('3.14: a mapping right under the guard page makes its first write SIGBUS; a write to the page a mapping ends at is SIGSEGV (expand_stack)', () => {
    const mm = space('guard-page', 100);
    mm.mapRegion(TOP - 10 * P, P, RW, MAP_PRIVATE | MAP_ANONYMOUS, true);
    mm.storeU(TOP - 8 * P, 1, 1); // grows to TOP - 9 pages: right on the mapping
    expect(stack(mm).start).toBe(TOP - 9 * P);
    expect(trap(() => mm.storeU(TOP - 9 * P, 1, 1))).toBe('SIGBUS');
    const b = space('guard-page', 100);
    b.mapRegion(TOP - 11 * P, P, RW, MAP_PRIVATE | MAP_ANONYMOUS, true);
    b.storeU(TOP - 8 * P, 1, 1);
    expect(trap(() => b.storeU(TOP - 10 * P, 1, 1))).toBe('SIGSEGV');
  });

  it('fork and a split keep VM_GROWSDOWN', () => {
    const mm = space('guard-gap', 64);
    expect(mm.mprotect(TOP - 4 * P, 4 * P, PROT_READ)).toBe(0);
    expect(mm.find(TOP - 8 * P)!.growsDown).toBe(true);
    expect(mm.find(TOP - P)!.growsDown).toBe(true);
    const child = new AddressSpace(mm.host, null);
    mm.forkInto(child);
    child.stackGuard = 'guard-gap';
    child.stackLimit = () => 64 * P;
    child.storeU(TOP - 20 * P, 1, 1);
    expect(child.find(TOP - 20 * P)!.start).toBe(TOP - 20 * P);
  });
});
