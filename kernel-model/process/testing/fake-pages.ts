import { PhysicalBus } from '../../../emulator/bus.js';
import { ENOMEM } from '../../base/errno.js';
import { PAGE_SIZE, type UserPageAllocator } from '../pages.js';

/** A simple page allocator over a RAM region, for tests until kernel.mm is bound. */
export class FakePageAllocator implements UserPageAllocator {
  private free: number[] = [];
  readonly refs = new Map<number, number>();
  readonly pins = new Map<number, number>();
  /** page_mapcount of the frames a fork shares copy-on-write (UserPageAllocator.sharers) */
  readonly sharers = new Map<number, number>();
  allocs = 0;
  constructor(
    readonly bus: PhysicalBus,
    readonly base: number,
    readonly size: number,
  ) {
    for (let pa = base + size - PAGE_SIZE; pa >= base; pa -= PAGE_SIZE) this.free.push(pa);
  }
  allocZeroed(): number {
    const pa = this.free.pop();
    if (pa === undefined) return -ENOMEM;
    this.refs.set(pa, 1);
    this.allocs++;
    const r = this.bus.ramAt(pa, PAGE_SIZE)!;
    r.fill(pa - r.base, 0, PAGE_SIZE);
    return pa;
  }
  get(pa: number): void {
    const n = this.refs.get(pa);
    if (n === undefined) throw new Error(`get of free page 0x${pa.toString(16)}`);
    this.refs.set(pa, n + 1);
  }
  put(pa: number): void {
    const n = this.refs.get(pa);
    if (n === undefined) throw new Error(`put of free page 0x${pa.toString(16)}`);
    if (n === 1) {
      if ((this.pins.get(pa) ?? 0) > 0) throw new Error(`free of pinned page 0x${pa.toString(16)}`);
      this.refs.delete(pa);
      this.free.push(pa);
    } else this.refs.set(pa, n - 1);
  }
  pin(pa: number): void {
    this.get(pa);
    this.pins.set(pa, (this.pins.get(pa) ?? 0) + 1);
  }
  unpin(pa: number): void {
    const n = this.pins.get(pa) ?? 0;
    if (n <= 0) throw new Error(`unpin of unpinned page 0x${pa.toString(16)}`);
    if (n === 1) this.pins.delete(pa);
    else this.pins.set(pa, n - 1);
    this.put(pa);
  }
  pinCount(pa: number): number {
    return this.pins.get(pa) ?? 0;
  }
  get pinnedPages(): number {
    return this.pins.size;
  }
  /** sum of pin counts */
  get totalPins(): number {
    let n = 0;
    for (const v of this.pins.values()) n += v;
    return n;
  }
  get allocatedPages(): number {
    return this.refs.size;
  }
}

/** A bus with 16 MiB of RAM at 0x80000000 and a fake allocator over it. */
export function makeTestMemory(ramSize = 16 * 1024 * 1024): { bus: PhysicalBus; pages: FakePageAllocator } {
  const bus = new PhysicalBus();
  bus.addRam('ram', 0x80000000, ramSize);
  return { bus, pages: new FakePageAllocator(bus, 0x80000000, ramSize) };
}
