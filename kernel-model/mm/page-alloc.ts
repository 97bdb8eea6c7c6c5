import type { PhysicalBus, RamRegion } from '../../emulator/bus.js';
import { ENOMEM } from '../base/errno.js';

export const PAGE_SHIFT = 12;
export const PAGE_SIZE = 1 << PAGE_SHIFT;
/** kernel linear map: PAGE_OFFSET maps the start of RAM (3G/1G split of a 32-bit ARM kernel) */
export const PAGE_OFFSET = 0xc0000000;
/**
 * Most RAM the linear map (lowmem) covers: 768 MiB. A 32-bit ARM kernel of 2014 keeps
 * 240 MiB of vmalloc space plus an 8 MiB guard below VMALLOC_END (0xff800000), so lowmem
 * ends at vmalloc_min = 0xf0000000 (arch/arm/mm/mmu.c vmalloc_min, sanity_check_meminfo /
 * arm_lowmem_limit; arch/arm/include/asm/pgtable.h VMALLOC_END, VMALLOC_OFFSET). RAM
 * beyond it is highmem: it has no kernel linear address. The model's page allocator hands
 * out pages lowest first, so kernel allocations (kmalloc slabs, page tables) stay in lowmem
 * unless 768 MiB are in use; a kva computed for a page above it fails the linear-map check
 * as a paging request would.
 */
export const LOWMEM_LIMIT = 0xf0000000 - PAGE_OFFSET;

const FREE = 0;
const USED = 1;
const RESERVED = 2;
/**
 * per-page records allocated at boot beyond the reserved pages (2 MiB of RAM; a scenario
 * uses a few dozen pages, and the records double when the allocator passes them). Issue 19:
 * 4096 (16 MiB) made a 55 KiB buffer per boot, fresh memory the host faults in page by page.
 */
const MIN_RECORDS = 512;

/**
 * Physical page allocator over one RAM region (the `memory` node of the tree).
 *
 * Pages are 4 KiB. The first `reservedBytes` of RAM (kernel text/data/bss) are never
 * handed out. Allocation is deterministic: the lowest free page (or, for order > 0, the
 * lowest naturally aligned free run) is returned. Failure is -ENOMEM, never an exception.
 * Every page has a reference count (1 after allocation; get/put) and a pin count
 * (get_user_pages-style pins, which also hold a reference). Allocated pages are zeroed
 * (__GFP_ZERO: page tables and kmalloc slabs rely on it).
 *
 * The per-page records (state, reference and pin counts: Linux's struct page array) cover
 * only the pages up to the highest one ever allocated, grown by doubling: every page above
 * is free with no references, since allocation is lowest-first. A board with gigabytes of
 * RAM therefore boots with records for a few thousand pages, and the fuzzer's snapshot
 * copies records in proportion to the memory in use, not to the board's RAM (issue 19).
 */
/** zeroed per-page records for `cap` pages, in one buffer (one allocation per boot, not three) */
function records(cap: number): [Uint8Array, Uint32Array, Uint32Array] {
  const buf = new ArrayBuffer(9 * cap);
  return [new Uint8Array(buf, 8 * cap, cap), new Uint32Array(buf, 0, cap), new Uint32Array(buf, 4 * cap, cap)];
}

export class PageAllocator {
  readonly nrPages: number;
  /** per-page records for pages [0, state.length); pages above are FREE with no references */
  private state: Uint8Array;
  private refcount: Uint32Array;
  private pincount: Uint32Array;
  private hint = 0;
  private free = 0;
  readonly ram: RamRegion;
  /**
   * Optional change record of the per-page arrays (null: off, the default): every change
   * of page i's state, reference or pin count calls touched.mark(i). Tools that snapshot a
   * booted system (the fuzzer) install it to restore only the pages a run changed.
   */
  touched: { mark(i: number): void } | null = null;

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
    const nres = Math.min(this.nrPages, Math.ceil(reservedBytes / PAGE_SIZE));
    const cap = Math.min(this.nrPages, Math.max(MIN_RECORDS, nres + MIN_RECORDS));
    [this.state, this.refcount, this.pincount] = records(cap);
    this.state.fill(RESERVED, 0, nres);
    this.free = this.nrPages - nres;
    this.hint = nres;
  }

  /** the per-page arrays (indexed by page frame) that `touched` covers */
  perPageArrays(): readonly (Uint8Array | Uint32Array)[] {
    return [this.state, this.refcount, this.pincount];
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
        if (i >= st.length || st[i] === FREE) {
          this.take(i, 1);
          this.hint = i + 1;
          return this.ramBase + i * PAGE_SIZE;
        }
      }
      return -ENOMEM;
    }
    for (let i = 0; i + n <= this.nrPages; i += n) {
      let ok = true;
      for (let j = i; j < i + n && j < st.length; j++) {
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

  /**
   * One zeroed page for a stack growing down onto the page whose frame is `above`: the frame
   * just below `above` when it is free, else the highest page of the lowest run of `span` free
   * pages (so the next pages of the stack find the frames below free), else allocPage's. A
   * model choice for the Unicorn mirror (emulator/cpu/unicorn/engine.ts demandFault merges a
   * page into the run after it when its frame is the one just below that run's first): Linux's
   * buddy allocator promises no physical order for a VMA's pages (mm/page_alloc.c), and the
   * frames of anonymous pages are not guest-visible (no /proc/<pid>/pagemap in the model).
   * Deterministic: it depends only on the allocator's state.
   */
  allocPageBelow(above: number, span: number): number {
    if (this.free < 1) return -ENOMEM;
    const st = this.state;
    const below = this.pfnIndex(above) - 1;
    if (below >= 0 && (below >= st.length || st[below] === FREE)) {
      this.take(below, 1);
      return this.ramBase + below * PAGE_SIZE;
    }
    let runStart = -1;
    for (let i = this.hint; i < this.nrPages; i++) {
      if (i >= st.length) {
        // every page from here is free: the run starts at i, or continues the one before
        if (runStart < 0) runStart = i;
        if (runStart + span > this.nrPages) break;
        this.take(runStart + span - 1, 1);
        return this.ramBase + (runStart + span - 1) * PAGE_SIZE;
      }
      if (st[i] !== FREE) {
        runStart = -1;
        continue;
      }
      if (runStart < 0) runStart = i;
      if (i - runStart + 1 === span) {
        this.take(i, 1);
        return this.ramBase + i * PAGE_SIZE;
      }
    }
    return this.allocPages(0);
  }

  /** make the records cover pages [0, end) */
  private cover(end: number): void {
    let cap = this.state.length;
    if (end <= cap) return;
    while (cap < end) cap *= 2;
    cap = Math.min(cap, this.nrPages);
    const [st, rc, pc] = records(cap);
    st.set(this.state);
    rc.set(this.refcount);
    pc.set(this.pincount);
    this.state = st;
    this.refcount = rc;
    this.pincount = pc;
  }

  private take(i: number, n: number): void {
    this.cover(i + n);
    const t = this.touched;
    for (let j = i; j < i + n; j++) {
      if (t) t.mark(j);
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
    if (this.touched) this.touched.mark(i);
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
    if (this.touched) this.touched.mark(i);
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
    if (this.touched) this.touched.mark(i);
    this.pincount[i]!++;
    this.refcount[i]!++;
    return true;
  }

  unpinPage(pa: number): void {
    const i = this.pfnIndex(pa);
    if (i < 0 || this.state[i] !== USED || this.pincount[i] === 0) return;
    if (this.touched) this.touched.mark(i);
    this.pincount[i]!--;
    this.putIndex(i);
  }

  refCount(pa: number): number {
    const i = this.pfnIndex(pa);
    return i < 0 ? 0 : this.refcount[i] ?? 0;
  }

  pinCount(pa: number): number {
    const i = this.pfnIndex(pa);
    return i < 0 ? 0 : this.pincount[i] ?? 0;
  }

  /** pages covered by per-page records (diagnostics, tests) */
  get recordPages(): number {
    return this.state.length;
  }
}

/** Kernel linear map (lowmem): kva = PAGE_OFFSET + (pa - ramBase) */
export class LinearMap {
  constructor(
    readonly ramBase: number,
    readonly ramSize: number,
  ) {
    // every field is readonly: frozen, so that the fuzzer's snapshot (tools/fuzz/snapshot.ts) need not record it
    Object.freeze(this);
  }

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
