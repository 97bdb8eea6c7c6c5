import type { PhysicalBus } from '../../bus.js';
import { RAM_CHUNK_SIZE } from '../../ram.js';
import { PAGE_SIZE, PROT_EXEC, type GuestAddressSpace, type PageBacking } from './address-space.js';
import type { CowView } from './cow-view.js';

/*
 * Pages shared copy-on-write (PageBacking.cow: a 3.14 fork's private pages, a private file
 * mapping's pages of the file's cache) in the Unicorn mirror (UnicornEngine).
 *
 * A data page shared copy-on-write is mirrored read-only RAM on the shared frame, and such
 * pages merge into runs (one Unicorn region) like private ones: the same protection, the next
 * frame. Before, each was a one-page region whose first write made it writable in place (the
 * store path of Unicorn 2.0 keeps the faulting region across the write-protection hook, so
 * the hook cannot split or remap it), and a process that read more than about 900 still-shared
 * pages reached the mirror's region limit.
 *
 * A store into such a page leaves the region read-only and goes ahead into the shared frame:
 * Unicorn 2.0.1's store_helper (qemu/accel/tcg/cputlb.c) calls the write-protection hook
 * (CowWrites.store, which keeps the page's bytes from before at its first store and returns
 * true) with the region's `perms`, and then stores through the TLB, whose entry for a region
 * mapped read-only is writable RAM (tlb_set_page_with_attrs adds TLB_DISCARD_WRITE only for a
 * section made read-only, which uc_mem_protect and uc_mem_write do, and the engine never does
 * to RAM); measured in cow-runs.test.ts. Every store reaches the hook, once per access, or a
 * byte at a time for an access across two pages (do_unaligned_access), so each page stored to
 * is known, the same value stored again and an unaligned store included. At the next
 * translation block or system call (UnicornThread.onBlock / onIntr) CowWrites.apply gives the
 * address space the write fault of each page stored to (do_wp_page), the old frame gets its
 * bytes back, and the mirror is re-derived for that page's run: the run is unmapped and mapped
 * again around the page (the parts before and after it stay shared, read-only; the page is on
 * its copy, writable, merged with the private run beside it when its frame continues that
 * run). Between the store and then, no other process runs and no device event
 * (UnicornThread.onMmio defers its clock sync), so nothing else sees the shared frame hold the
 * store. A store that faults after the hook (an alignment fault) still breaks the sharing of
 * its page: the copy holds the same bytes.
 *
 * Executable copy-on-write pages keep the earlier way: a one-page region each, made writable in
 * place at its first store (CowHost.protectPage).
 */

/** one Unicorn region of the mirror */
export interface MappedRun {
  start: number;
  end: number;
  kind: 'ram' | 'mmio';
  /** mmio routing id (0 for RAM) */
  id: number;
  /** the physical address of `start` (RAM runs and copy-on-write views; a device's for mmio) */
  pa: number;
  /** non-executable copy-on-write pages mirrored read-only RAM on their shared frames (CowWrites) */
  cow?: boolean;
}

/**
 * Another mirror in `runs` maps frame `pa` (a RAM run or a copy-on-write view: `isView`), at an
 * address other than `va`: then a copy-on-write page on `pa` is a view (cow-view.ts), a run of
 * its own.
 */
export function aliasedIn(runs: readonly MappedRun[], isView: (id: number) => boolean, va: number, pa: number): boolean {
  for (const r of runs) {
    if (r.kind === 'mmio' && !isView(r.id)) continue;
    const off = pa - r.pa;
    if (off < 0 || off >= r.end - r.start) continue;
    if (r.start + off !== va) return true;
  }
  return false;
}

/** runs `c` and `n` map a frame in common at different addresses */
export function framesAlias(c: MappedRun, n: MappedRun): boolean {
  return c !== n && c.pa < n.pa + (n.end - n.start) && n.pa < c.pa + (c.end - c.start) && c.start - c.pa !== n.start - n.pa;
}

/**
 * The pages to mirror with `page`, a still-shared data page (backing `b`) the CPU touched: the
 * still-shared pages around it that continue it (the same protection, the next frames) within
 * its frame's 64 KiB RAM chunk (a region holds one chunk: engine.ts mapRun), so they are one
 * region with it, stopping at a page `stop` names (already mirrored, or its frame mirrored at
 * another address: a view). Their frames are the process's already (nothing is allocated), so
 * mirroring them before the CPU touches them is invisible to the program; it spares a demand
 * fault each, whose unmap and map of the growing run cost Unicorn time growing with the
 * regions there are (measured: deepstack.c cowread in 3.14, 16 MiB of heap read by a fork child
 * and then the parent, 18 s of host time one page a fault, 9-14 s with this, most of which is
 * the demand faults before the fork; docs/UNICORN.md "Fork").
 */
export function sharedAround(space: GuestAddressSpace, page: number, b: PageBacking, chunkBase: number, stop: (va: number, pa: number) => boolean): [number, number] {
  let lo = page;
  let hi = page + PAGE_SIZE;
  const same = (va: number, pa: number): boolean => {
    if (pa < chunkBase || pa >= chunkBase + RAM_CHUNK_SIZE) return false;
    const n = space.pageAt(va);
    return n !== null && n.kind === 'ram' && n.cow === true && n.prot === b.prot && n.pa === pa && !stop(va, pa);
  };
  while (lo > 0 && same(lo - PAGE_SIZE, b.pa - (page - lo) - PAGE_SIZE)) lo -= PAGE_SIZE;
  while (hi < 0x1_0000_0000 && same(hi, b.pa + (hi - page))) hi += PAGE_SIZE;
  return [lo, hi];
}

/** what CowWrites needs of its engine */
export interface CowHost {
  space(): GuestAddressSpace | null;
  bus(): PhysicalBus | null;
  /** make the one-page region of `va` writable in place (an executable page's store) */
  protectPage(va: number, prot: number): void;
  /** from now to the next resync, the address space's changes are noted, not mirrored at once */
  hold(): void;
  /** mirror the page of `va` again, with the runs it may merge with, and what changed since hold (UnicornEngine.sync) */
  resync(va: number): void;
}

interface Pending {
  va: number;
  /** the shared frame the stores went into (or the view's) */
  pa: number;
  /** the frame's bytes before the first store; null for a view (its stores are in its image) */
  saved: Uint8Array | null;
  view: CowView | null;
}

/** Stores into pages shared copy-on-write, not yet given to the address space (see above). */
export class CowWrites {
  private pending: Pending[] = [];
  /** page -> its pending entry (stores by hand) */
  private byPage = new Map<number, Pending>();

  constructor(private readonly host: CowHost) {}

  get any(): boolean {
    return this.pending.length > 0;
  }

  /** a view's first store (cow-view.ts viewWrite) */
  queueView(view: CowView): void {
    this.pending.push({ va: view.va, pa: view.pa, saved: null, view });
  }

  /**
   * The CPU stores at `va`, a page mirrored read-only (UC_HOOK_MEM_WRITE_PROT). True for a
   * page shared copy-on-write (its bytes from before are kept at its first store; the store
   * goes ahead, see above); false: a real protection fault.
   */
  store(va: number): boolean {
    const space = this.host.space();
    if (space === null) return false;
    const page = va - (va % PAGE_SIZE);
    const b = space.pageAt(page);
    if (b === null || b.kind !== 'ram' || b.cow !== true) return false;
    if (this.byPage.has(page)) return true;
    this.track(this.host.bus()!, page, b.pa);
    // an executable page: its one-page region made writable in place, so a store reaches
    // Unicorn's tracking of translated code as it does on any writable page
    if ((b.prot & PROT_EXEC) !== 0) this.host.protectPage(page, b.prot | 2);
    return true;
  }

  private track(bus: PhysicalBus, page: number, pa: number): void {
    const ram = bus.ramAt(pa, PAGE_SIZE)!;
    const saved = new Uint8Array(PAGE_SIZE);
    ram.readBlock(pa - ram.base, saved, 0, PAGE_SIZE);
    const w: Pending = { va: page, pa, saved, view: null };
    this.pending.push(w);
    this.byPage.set(page, w);
  }

  /**
   * The address space's write fault for each page stored to (do_wp_page: the writer gets a
   * copy of the frame, which holds the stores, or keeps it as its last mapper), then the old
   * frame gets its bytes from before the first store back, and the page is mirrored again
   * (CowHost.resync). Called outside the engine's memory hooks.
   */
  apply(): void {
    const space = this.host.space();
    if (space === null) return;
    this.byPage.clear();
    while (this.pending.length > 0) {
      const w = this.pending.shift()!;
      // the listener's re-mirroring of the page waits for resync, which mirrors it once, merged
      this.host.hold();
      let now: PageBacking | null;
      try {
        space.fault?.(w.va, 'write');
        now = space.pageAt(w.va);
      } finally {
        this.host.resync(w.va);
      }
      if (w.saved !== null && (now === null || now.kind !== 'ram' || now.pa !== w.pa)) {
        const ram = this.host.bus()!.ramAt(w.pa, PAGE_SIZE)!;
        ram.writeBlock(w.pa - ram.base, w.saved, 0, PAGE_SIZE);
      }
      // a view's stores are its page's bytes, on the copy the fault made (or the frame it kept)
      if (w.view !== null && w.view.image !== null && now !== null && now.kind === 'ram' && now.cow !== true) {
        const ram = this.host.bus()!.ramAt(now.pa, PAGE_SIZE)!;
        ram.writeBlock(now.pa - ram.base, w.view.image, 0, PAGE_SIZE);
      }
    }
  }

  clear(): void {
    this.pending = [];
    this.byPage.clear();
  }
}
