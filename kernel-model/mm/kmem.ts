import type { RamRegion } from '../../emulator/bus.js';
import { KernelOops } from '../base/oops.js';
import { LinearMap, LOWMEM_LIMIT, PAGE_SIZE, type PageAllocator } from './page-alloc.js';

/** kmalloc size classes (bytes), as the kmalloc-N caches of a 32-bit ARM kernel */
export const KMALLOC_SIZES = [8, 16, 32, 64, 96, 128, 192, 256, 512, 1024, 2048, 4096] as const;

interface Slab {
  pa: number;
  objSize: number;
  nobj: number;
  /** 1 = allocated */
  used: Uint8Array;
  inUse: number;
}

/**
 * A kmalloc heap with size-class slabs whose objects are bytes in real RAM pages, at
 * linear-map kernel addresses. One slab = one page; objects of a class are packed
 * back to back, so an array allocated here has real neighbours: reading past its end
 * reads the next object of the same slab (or the rest of the page). Allocation order is
 * deterministic (lowest slab first, lowest free slot first). kmalloc returns 0 (NULL) on
 * failure. Sizes above 4096 get whole contiguous pages.
 *
 * The read/write helpers are the kernel dereferencing a pointer: a kva outside the
 * linear map (NULL, user addresses, beyond the end of lowmem) raises a KernelOops
 * 'paging-request', as the MMU would.
 */
export class Kmem {
  readonly lin: LinearMap;
  private readonly slabs = new Map<number, Slab[]>();
  /** slab page pa -> slab */
  private readonly slabByPage = new Map<number, Slab>();
  /** large allocations: kva -> order */
  private readonly large = new Map<number, number>();
  private readonly ram: RamRegion;
  private readonly ramOff: number;
  allocated = 0;

  constructor(readonly pages: PageAllocator) {
    this.lin = new LinearMap(pages.ramBase, Math.min(pages.nrPages * PAGE_SIZE, LOWMEM_LIMIT));
    this.ram = pages.ram;
    this.ramOff = pages.ramBase - this.ram.base;
  }

  static sizeClass(size: number): number {
    for (const s of KMALLOC_SIZES) if (size <= s) return s;
    return -1;
  }

  /** kmalloc (zeroed, i.e. kzalloc): kva or 0 */
  kmalloc(size: number): number {
    if (!(size > 0)) return 0x10; // ZERO_SIZE_PTR, as Linux returns for kmalloc(0)
    const cls = Kmem.sizeClass(size);
    if (cls < 0) {
      let order = 0;
      while (PAGE_SIZE << order < size) order++;
      const pa = this.pages.allocPages(order);
      if (pa < 0) return 0;
      const kva = this.lin.paToKva(pa);
      this.large.set(kva, order);
      this.allocated++;
      return kva;
    }
    let list = this.slabs.get(cls);
    if (!list) {
      list = [];
      this.slabs.set(cls, list);
    }
    for (const s of list) {
      if (s.inUse < s.nobj) return this.takeSlot(s);
    }
    const pa = this.pages.allocPage();
    if (pa < 0) return 0;
    const nobj = Math.floor(PAGE_SIZE / cls);
    const s: Slab = { pa, objSize: cls, nobj, used: new Uint8Array(nobj), inUse: 0 };
    // keep slabs ordered by address: deterministic lowest-first reuse
    let i = 0;
    while (i < list.length && list[i]!.pa < pa) i++;
    list.splice(i, 0, s);
    this.slabByPage.set(pa, s);
    return this.takeSlot(s);
  }

  private takeSlot(s: Slab): number {
    for (let i = 0; i < s.nobj; i++) {
      if (s.used[i] === 0) {
        s.used[i] = 1;
        s.inUse++;
        this.allocated++;
        const pa = s.pa + i * s.objSize;
        this.zero(pa, s.objSize);
        return this.lin.paToKva(pa);
      }
    }
    return 0;
  }

  private zero(pa: number, len: number): void {
    const o = pa - this.ram.base;
    this.ram.fill(o, 0, len);
  }

  /** kzalloc: kmalloc already zeroes */
  kzalloc(size: number): number {
    return this.kmalloc(size);
  }

  /** kcalloc: n * size with overflow check (NULL on overflow, as Linux) */
  kcalloc(n: number, size: number): number {
    if (n < 0 || size < 0 || n * size > 0xffffffff) return 0;
    return this.kmalloc(n * size);
  }

  /** kfree; NULL and ZERO_SIZE_PTR are ignored; a bad pointer is a kernel BUG (Oops) */
  kfree(kva: number): void {
    if (kva === 0 || kva === 0x10) return;
    const order = this.large.get(kva);
    if (order !== undefined) {
      this.large.delete(kva);
      this.pages.freePages(this.lin.kvaToPa(kva), order);
      this.allocated--;
      return;
    }
    const pa = this.lin.kvaToPa(kva);
    const page = pa < 0 ? -1 : pa - (pa % PAGE_SIZE);
    const s = this.slabByPage.get(page);
    if (!s || (pa - s.pa) % s.objSize !== 0 || s.used[(pa - s.pa) / s.objSize] !== 1) {
      throw new KernelOops('bug', kva, 'kfree of a pointer kmalloc did not return');
    }
    s.used[(pa - s.pa) / s.objSize] = 0;
    s.inUse--;
    this.allocated--;
    if (s.inUse === 0) {
      const list = this.slabs.get(s.objSize)!;
      list.splice(list.indexOf(s), 1);
      this.slabByPage.delete(s.pa);
      this.pages.freePage(s.pa);
    }
  }

  /** ksize: usable size of an allocation, or 0 */
  ksize(kva: number): number {
    const order = this.large.get(kva);
    if (order !== undefined) return PAGE_SIZE << order;
    const pa = this.lin.kvaToPa(kva);
    const s = pa < 0 ? undefined : this.slabByPage.get(pa - (pa % PAGE_SIZE));
    return s ? s.objSize : 0;
  }

  /** RAM byte offset for [kva, kva+len) or an Oops */
  private off(kva: number, len: number): number {
    const pa = this.lin.kvaToPa(kva);
    if (pa < 0 || this.lin.kvaToPa(kva + len - 1) < 0) {
      throw new KernelOops('paging-request', kva, `kernel ${len}-byte access outside the linear map`);
    }
    return pa - this.ram.base;
  }

  read8(kva: number): number {
    return this.ram.read8(this.off(kva, 1));
  }
  read16(kva: number): number {
    return this.ram.read16(this.off(kva, 2));
  }
  read32(kva: number): number {
    return this.ram.read32(this.off(kva, 4));
  }
  /** 64-bit value as a JS number (exact below 2^53) */
  read64(kva: number): number {
    const o = this.off(kva, 8);
    return this.ram.read32(o) + this.ram.read32(o + 4) * 2 ** 32;
  }
  write8(kva: number, v: number): void {
    this.ram.write8(this.off(kva, 1), v);
  }
  write16(kva: number, v: number): void {
    this.ram.write16(this.off(kva, 2), v);
  }
  write32(kva: number, v: number): void {
    this.ram.write32(this.off(kva, 4), v >>> 0);
  }
  write64(kva: number, v: number): void {
    const o = this.off(kva, 8);
    this.ram.write32(o, v % 2 ** 32 >>> 0);
    this.ram.write32(o + 4, Math.floor(v / 2 ** 32) >>> 0);
  }
  readBytes(kva: number, len: number): Uint8Array {
    if (len === 0) return new Uint8Array(0);
    return this.ram.readBytes(this.off(kva, len), len);
  }
  /**
   * Copy [kva, kva+len) into dst[dstOff..] without allocating (the same bounds check and
   * Oops as readBytes).
   */
  readInto(kva: number, len: number, dst: Uint8Array, dstOff: number): void {
    if (len === 0) return;
    // the page store copies small spans byte by byte (emulator/ram.ts readBlock)
    this.ram.readBlock(this.off(kva, len), dst, dstOff, len);
  }
  writeBytes(kva: number, data: Uint8Array): void {
    if (data.length === 0) return;
    this.ram.writeBytes(this.off(kva, data.length), data);
  }

  /** physical-address helpers for page tables (the page-table walker reads RAM by pa) */
  readPhys64(pa: number): [lo: number, hi: number] {
    const o = pa - this.ram.base;
    return [this.ram.read32(o), this.ram.read32(o + 4)];
  }
  /** copy [pa, pa+len) into dst[0..len) (a page table read whole, for a teardown's scan) */
  readPhysInto(pa: number, dst: Uint8Array, len: number): void {
    this.ram.readBlock(pa - this.ram.base, dst, 0, len);
  }
  /** readPhys64 into out[0] (low word), out[1] (high word), without allocating */
  readPhys64Into(pa: number, out: [number, number]): void {
    const o = pa - this.ram.base;
    out[0] = this.ram.read32(o);
    out[1] = this.ram.read32(o + 4);
  }
  writePhys64(pa: number, lo: number, hi: number): void {
    this.ram.write64(pa - this.ram.base, lo >>> 0, hi >>> 0);
  }
  get ramOffset(): number {
    return this.ramOff;
  }
}
