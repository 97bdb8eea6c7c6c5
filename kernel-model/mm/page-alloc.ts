import type { PhysicalBus, RamRegion } from '../../emulator/bus.js';
import { ENOMEM } from '../base/errno.js';

export const PAGE_SHIFT = 12;
export const PAGE_SIZE = 1 << PAGE_SHIFT;
/** kernel linear map: PAGE_OFFSET maps the start of RAM (3G/1G split of a 32-bit ARM kernel) */
export const PAGE_OFFSET = 0xc0000000;

const FREE = 0;
const USED = 1;
const RESERVED = 2;

/**
 * Physical page allocator over one RAM region (the `memory` node of the tree).
 *
 * Pages are 4 KiB. The first `reservedBytes` of RAM (kernel text/data/bss) are never
 * handed out. Allocation is deterministic: the lowest free page (or, for order > 0, the
 * lowest naturally aligned free run) is returned. Failure is -ENOMEM, never an exception.
 * Every page has a reference count (1 after allocation; get/put) and a pin count
 * (get_user_pages-style pins, which also hold a reference). Allocated pages are zeroed
 * (__GFP_ZERO: page tables and kmalloc slabs rely on it).
 */
export class PageAllocator {
  readonly nrPages: number;
  private readonly state: Uint8Array;
  private readonly refcount: Uint32Array;
  private readonly pincount: Uint32Array;
  private hint = 0;
  private free = 0;
  readonly ram: RamRegion;

  constructor(
    readonly bus: PhysicalBus,
    readonly ramBase: number,
    readonly ramSize: number,
    readonly reservedBytes: number,
  ) {
    const r = bus.ramAt(ramBase, ramSize);
    if (!r) throw new RangeError(`page allocator: no RAM region at 0x${ramBase.toString(16)}+0x${ramSize.toString(16)}`);
    this.ram = r;
    this.nrPages = Math.floor(ramSize / PAGE_SIZE);
    this.state = new Uint8Array(this.nrPages);
    this.refcount = new Uint32Array(this.nrPages);
    this.pincount = new Uint32Array(this.nrPages);
    const nres = Math.min(this.nrPages, Math.ceil(reservedBytes / PAGE_SIZE));
    this.state.fill(RESERVED, 0, nres);
    this.free = this.nrPages - nres;
    this.hint = nres;
  }

  get nrFree(): number {
    return this.free;
  }

  /** page frame index for a physical address in RAM, or -1 */
  pfnIndex(pa: number): number {
    const off = pa - this.ramBase;
    if (off < 0 || off >= this.nrPages * PAGE_SIZE) return -1;
    return Math.floor(off / PAGE_SIZE);
  }

  isAllocated(pa: number): boolean {
    const i = this.pfnIndex(pa);
    return i >= 0 && this.state[i] === USED;
  }

  isReserved(pa: number): boolean {
    const i = this.pfnIndex(pa);
    return i >= 0 && this.state[i] === RESERVED;
  }

  /** one zeroed page: its physical address, or -ENOMEM */
  allocPage(): number {
    return this.allocPages(0);
  }

  /** 2^order contiguous, naturally aligned, zeroed pages: physical address or -ENOMEM */
  allocPages(order: number): number {
    const n = 1 << order;
    if (this.free < n) return -ENOMEM;
    const st = this.state;
    if (n === 1) {
      for (let i = this.hint; i < this.nrPages; i++) {
        if (st[i] === FREE) {
          this.take(i, 1);
          this.hint = i + 1;
          return this.ramBase + i * PAGE_SIZE;
        }
      }
      return -ENOMEM;
    }
    for (let i = 0; i + n <= this.nrPages; i += n) {
      let ok = true;
      for (let j = i; j < i + n; j++) {
        if (st[j] !== FREE) {
          ok = false;
          break;
        }
      }
      if (ok) {
        this.take(i, n);
        return this.ramBase + i * PAGE_SIZE;
      }
    }
    return -ENOMEM;
  }

  private take(i: number, n: number): void {
    for (let j = i; j < i + n; j++) {
      this.state[j] = USED;
      this.refcount[j] = 1;
      this.pincount[j] = 0;
    }
    this.free -= n;
    const o = i * PAGE_SIZE + (this.ramBase - this.ram.base);
    // __GFP_ZERO: zeros into never-written RAM allocate nothing (emulator/ram.ts)
    this.ram.fill(o, 0, n * PAGE_SIZE);
  }

  /** free 2^order pages allocated together (drops the allocation reference of each) */
  freePages(pa: number, order = 0): void {
    const i = this.pfnIndex(pa);
    if (i < 0) return;
    for (let j = i; j < i + (1 << order) && j < this.nrPages; j++) this.putIndex(j);
  }

  freePage(pa: number): void {
    this.freePages(pa, 0);
  }

  /** get_page: +1 reference; false when the page is not allocated */
  getPage(pa: number): boolean {
    const i = this.pfnIndex(pa);
    if (i < 0 || this.state[i] !== USED) return false;
    this.refcount[i]!++;
    return true;
  }

  /** put_page: -1 reference; the page returns to the free pool at 0 */
  putPage(pa: number): void {
    const i = this.pfnIndex(pa);
    if (i >= 0) this.putIndex(i);
  }

  private putIndex(i: number): void {
    if (this.state[i] !== USED || this.refcount[i] === 0) return;
    if (--this.refcount[i]! === 0) {
      this.state[i] = FREE;
      this.pincount[i] = 0;
      this.free++;
      if (i < this.hint) this.hint = i;
    }
  }

  /** pin (get_user_pages): a pin holds a reference too */
  pinPage(pa: number): boolean {
    const i = this.pfnIndex(pa);
    if (i < 0 || this.state[i] !== USED) return false;
    this.pincount[i]!++;
    this.refcount[i]!++;
    return true;
  }

  unpinPage(pa: number): void {
    const i = this.pfnIndex(pa);
    if (i < 0 || this.state[i] !== USED || this.pincount[i] === 0) return;
    this.pincount[i]!--;
    this.putIndex(i);
  }

  refCount(pa: number): number {
    const i = this.pfnIndex(pa);
    return i < 0 ? 0 : this.refcount[i]!;
  }

  pinCount(pa: number): number {
    const i = this.pfnIndex(pa);
    return i < 0 ? 0 : this.pincount[i]!;
  }
}

/** Kernel linear map (lowmem): kva = PAGE_OFFSET + (pa - ramBase) */
export class LinearMap {
  constructor(
    readonly ramBase: number,
    readonly ramSize: number,
  ) {}

  paToKva(pa: number): number {
    return PAGE_OFFSET + (pa - this.ramBase);
  }

  /** physical address of a linear-map kva, or -1 when the kva is outside the map */
  kvaToPa(kva: number): number {
    const off = kva - PAGE_OFFSET;
    if (off < 0 || off >= this.ramSize) return -1;
    return this.ramBase + off;
  }
}
