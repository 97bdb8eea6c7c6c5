import { makeAttrs } from '../../emulator/attrs.js';
import {
  PAGE_SIZE,
  type AddressSpaceListener, type GuestAddressSpace, type PageBacking,
} from '../../emulator/cpu/unicorn/address-space.js';
import type { AddressSpace } from '../process/mm.js';
import { privateFilePage } from '../process/filemap.js';
import { R_SIGBUS, type Vma } from '../process/vma.js';

const PROT_READ = 1;
const PROT_WRITE = 2;
const PROT_EXEC = 4;

/**
 * The kernel-model process address space (kernel-model/process/mm.ts AddressSpace, with
 * its VMAs) as the Unicorn backend sees it (GuestAddressSpace).
 *
 * - an anonymous VMA page that has a frame -> 'ram' at that frame (board RAM, zero copy);
 * - a VM_PFNMAP VMA (a driver's remap_pfn_range, i.e. the vfio region mmap) -> 'mmio' at
 *   the device's physical address: guest loads/stores become PhysicalBus transactions;
 * - an anonymous page never touched -> null (not mirrored).
 *
 * Demand-zero choice: pages are materialised when the CPU first touches them, not at mmap
 * time. Unicorn reports the access to an unmirrored page (UC_HOOK_MEM_*_UNMAPPED); the
 * engine calls `fault()`, which, when a VMA covers the address and allows the access,
 * allocates the zeroed frame exactly as the kernel's page-fault path does
 * (mm.pinUserPage's resolve), after which the engine maps the page and the access is
 * retried. So an 8 MiB thread stack costs only the pages the thread uses. Pages the
 * kernel faulted in itself (copy_to_user, get_user_pages for VFIO_IOMMU_MAP_DMA) are
 * picked up the same way on the CPU's first access.
 *
 * The Linux ABI layer calls `changed(start, end)` after every syscall that alters the VMAs
 * (mmap2, munmap, mprotect, brk) and exec calls it after loading; the AddressSpace's
 * frameListener calls it when a page's frame or write permission changes otherwise (a 3.14
 * fork sharing a pinned page copy-on-write: mirrored read-only; the write that breaks the
 * sharing: a write-protection fault, `fault(va, 'write')`, then the new frame, writable).
 */
export class ProcessGuestSpace implements GuestAddressSpace {
  readonly userAttrs = makeAttrs({ priv: false, ns: true });
  private listeners: AddressSpaceListener[] = [];
  private codeListeners: AddressSpaceListener[] = [];
  /** pages materialised by CPU demand faults (statistics) */
  demandFaults = 0;

  constructor(readonly mm: AddressSpace) {
    // a fork sharing pages copy-on-write, or a write breaking the sharing, changes frames and
    // permissions outside the syscalls that call changed()
    mm.frameListener = (start, end) => this.changed(start, end);
    // instructions changed under a mapping (filemap.ts PageCache.codeWritten, sysCacheflush)
    mm.codeListener = (start, end) => {
      for (const l of this.codeListeners) l(start, end);
    };
  }

  onCodeChange(l: AddressSpaceListener): () => void {
    this.codeListeners.push(l);
    return () => {
      this.codeListeners = this.codeListeners.filter((x) => x !== l);
    };
  }

  pageAt(va: number): PageBacking | null {
    va = va >>> 0;
    const v = this.mm.find(va);
    if (v === null) return null;
    const page = va - (va % PAGE_SIZE);
    if (v.kind === 'pfn') return { kind: 'mmio', pa: v.pfnBase + (page - v.start), prot: v.prot };
    const idx = (page - v.start) / PAGE_SIZE;
    const pa = v.pages![idx]!;
    if (pa < 0) return null;
    // a frame shared copy-on-write (3.14 fork, `forkPinnedPages`; a private mapping's page of a file's cache) is mirrored read-only: the first write faults
    if ((v.cow != null && v.cow[idx] === 1) || (v.fcache != null && privateFilePage(v, idx))) return (v.prot & PROT_WRITE) !== 0 ? { kind: 'ram', pa, prot: v.prot & ~PROT_WRITE, cow: true } : { kind: 'ram', pa, prot: v.prot };
    return { kind: 'ram', pa, prot: v.prot };
  }

  /**
   * The CPU touched `va`, which is not mirrored. Materialise its page if a VMA allows the
   * access (demand-zero). Returns false for a real fault (no VMA, or the protection
   * forbids it): the thread gets SIGSEGV.
   */
  fault(va: number, access: 'read' | 'write' | 'fetch'): boolean | 'SIGBUS' {
    va = va >>> 0;
    // a fault below the stack grows it (stack-grow.ts)
    const v = this.mm.findForFault(va);
    if (v === null) return false;
    const need = access === 'write' ? PROT_WRITE : access === 'fetch' ? PROT_EXEC : PROT_READ;
    if ((v.prot & need) === 0) return false;
    if (v.kind === 'pfn') return true; // device page: mirrored by the engine's re-sync
    // 3.14's guard page: a first touch of the stack's lowest page grows it a page further, or SIGBUS
    if (v.growsDown === true && v.pages![Math.floor((va - v.start) / PAGE_SIZE)]! < 0 && !this.mm.stackGuardOk(v, va)) return 'SIGBUS';
    const idx = Math.floor((va - v.start) / PAGE_SIZE);
    const ps = v.pages!;
    if (v.fcache != null) {
      // a file's page: the kernel's fault path (filemap.ts; SIGBUS past the end of the file)
      if (ps[idx]! >= 0 && access !== 'write') return true;
      const r = this.mm.faultIn(va, need);
      if (r === R_SIGBUS) return 'SIGBUS';
      if (r < 0) return false;
      this.demandFaults++;
      return true;
    }
    // a write to a page shared copy-on-write (mirrored read-only): do_wp_page
    if (ps[idx]! >= 0) return access === 'write' && v.cow != null && v.cow[idx] === 1 ? this.mm.writeFault(va) : true; // else faulted in by the kernel meanwhile
    const pa = this.allocFor(v, idx);
    if (pa < 0) return false;
    ps[idx] = pa;
    this.demandFaults++;
    return true;
  }

  /**
   * The frame for a CPU demand fault of page `idx` of anonymous VMA `v`. A page of the [stack]
   * VMA (the one holding mm->start_stack, as /proc/<pid>/maps names it) whose page above is
   * present, or of another private anonymous mapping whose page above is present and page below
   * is not (the bottom of a run growing down), gets the frame just below that page's when it can
   * (allocZeroedBelow), so the Unicorn mirror merges pages touched downwards into runs
   * (engine.ts demandFault) as it does a heap touched upwards: the stack growing down, and a
   * thread's stack (glibc's pthread stacks are mmap'd MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK:
   * nptl/allocatestack.c, from memory) too; without, each such page took the next frame up and was a region of its own, and about
   * 3.7 MiB of a stack reached the mirror's region limit. (Without the condition on the page
   * below, the last page of a heap's 64 KiB chunk touched upwards after the chunk above it
   * left its chunk's run: deepstack.c cowread, 705 regions instead of 545.) Only the CPU's demand
   * faults take this path (the kernel's own accesses, vma.ts resolve, allocate lowest first as
   * before), so the frames of the TypeScript-only runs (scenarios, fuzzing) do not change.
   * Model choice: Linux gives an anonymous VMA's pages no physical order (and frames of
   * anonymous pages are not visible to the program: no /proc/<pid>/pagemap); the rule needs no
   * flag (MAP_STACK changed nothing in 3.14's mmap and is VM_NOHUGEPAGE in v6.12, from
   * memory; a program's own stacks for makecontext or sigaltstack are plain anonymous
   * mappings), and a page touched with none present above it
   * (a heap upwards, bigmem.c's scatter) allocates as before. Not a shared anonymous mapping's
   * page (its shmem object's).
   */
  private allocFor(v: Vma, idx: number): number {
    const pages = this.mm.host.pages;
    const ss = this.mm.startStack;
    const above = idx + 1 < v.pages!.length ? v.pages![idx + 1]! : -1;
    const below = idx > 0 ? v.pages![idx - 1]! : -1;
    const stack = ss !== 0 && v.start <= ss && v.end >= ss;
    if (pages.allocZeroedBelow !== undefined && above >= 0 && v.shm == null && (stack || below < 0)) return pages.allocZeroedBelow(above);
    return pages.allocZeroed();
  }

  onChange(l: AddressSpaceListener): () => void {
    this.listeners.push(l);
    return () => {
      this.listeners = this.listeners.filter((x) => x !== l);
    };
  }

  ranges(): [number, number][] {
    return this.mm.mappings.map((v) => [v.start, v.end] as [number, number]);
  }

  /** the VMAs of [start, end) changed (mmap, munmap, mprotect, brk, exec) */
  changed(start: number, end: number): void {
    const s = Math.max(0, Math.floor(start / PAGE_SIZE) * PAGE_SIZE);
    const e = Math.min(0x1_0000_0000, Math.ceil(end / PAGE_SIZE) * PAGE_SIZE);
    if (e <= s) return;
    for (const l of this.listeners) l(s, e);
  }
}
