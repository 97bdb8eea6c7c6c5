import type { Attrs } from '../../attrs.js';

/**
 * What the Unicorn backend needs from the kernel's process model (kernel-model/process
 * implements it; testing/ has a stand-in). Addresses are 32-bit user virtual addresses;
 * pages are 4 KiB.
 *
 * Memory model (see docs/UNICORN.md for the measurements behind the choice): the
 * process's VMAs are mirrored into Unicorn as per-page-run mappings. A run of virtual
 * pages backed by physically contiguous board RAM becomes one uc_mem_map_ptr per RAM
 * chunk it spans (64 KiB, emulator/ram.ts), pointing into the chunk's pinned buffer (zero
 * copy: the guest's memory IS the board's RAM); a
 * device page (a vfio region mmap) becomes a uc_mmio_map whose callbacks go to the
 * PhysicalBus with user (unprivileged, non-secure) attributes.
 */
export const PAGE_SIZE = 4096;
export const PAGE_SHIFT = 12;

export const PROT_READ = 1;
export const PROT_WRITE = 2;
export const PROT_EXEC = 4;

/** How one virtual page is backed. */
export type PageBacking =
  /**
   * `cow`: a writable page shared copy-on-write (a 3.14 fork), mirrored read-only; the
   * engine gives the CPU's first write to it to the address space (UnicornEngine.cowWrite)
   */
  | { readonly kind: 'ram'; readonly pa: number; readonly prot: number; readonly cow?: boolean }
  | { readonly kind: 'mmio'; readonly pa: number; readonly prot: number };

export type AddressSpaceListener = (start: number, end: number) => void;

export interface GuestAddressSpace {
  /** the backing of the page containing `va` (page-aligned pa), or null when unmapped */
  pageAt(va: number): PageBacking | null;
  /**
   * Subscribe to changes: after the kernel maps, unmaps or changes protection of
   * [start, end) (page aligned) it calls the listener. Returns an unsubscribe function.
   */
  onChange(listener: AddressSpaceListener): () => void;
  /** [start, end) ranges currently mapped, in address order (initial synchronisation) */
  ranges(): readonly (readonly [number, number])[];
  /** attributes used for the process's device accesses (user, non-secure) */
  readonly userAttrs: Attrs;
  /**
   * Optional demand paging: the CPU touched `va`, whose page is not mirrored (pageAt gave
   * null). Return true after materialising the page (the engine then mirrors it and the
   * access is retried), false for a real fault (SIGSEGV), 'SIGBUS' for a page the kernel's
   * fault path refuses with VM_FAULT_SIGBUS (a page of a mapped file past its end).
   */
  fault?(va: number, access: 'read' | 'write' | 'fetch'): boolean | 'SIGBUS';
  /**
   * Optional: subscribe to code changes the CPU did not make itself: the kernel wrote pages of
   * [start, end) (write() into a mapped file's page) or a program asked for the instruction
   * cache of the range (the cacheflush call); the engine drops its translations of the range.
   */
  onCodeChange?(listener: AddressSpaceListener): () => void;
}

/** Linux mmap/mprotect protection bits (PROT_*) to Unicorn's UC_PROT_* (same values). */
export const protToUc = (prot: number): number => prot & 7;
