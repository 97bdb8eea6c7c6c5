import type { PhysicalBus } from '../../emulator/bus.js';

export const PAGE_SIZE = 4096;
export const PAGE_SHIFT = 12;
export const PAGE_MASK = PAGE_SIZE - 1;

/**
 * What the process layer needs from the kernel's page allocator (kernel-model/mm, built
 * in parallel; the integrator binds this to kernel.mm). Pages are physical addresses of
 * 4 KiB pages in board RAM. A page lives while its reference count is > 0; pin counts
 * (get_user_pages) are tracked beside it and each pin also holds one reference, so a
 * pinned page survives munmap until it is unpinned.
 */
export interface UserPageAllocator {
  /** a zero-filled page: its physical address, or -ENOMEM */
  allocZeroed(): number;
  /** take one reference */
  get(pa: number): void;
  /** drop one reference; the page is freed at zero */
  put(pa: number): void;
  pin(pa: number): void;
  unpin(pa: number): void;
  pinCount(pa: number): number;
}

/** Pages and physical memory as the process layer sees them. */
export interface MemoryHost {
  readonly pages: UserPageAllocator;
  readonly bus: PhysicalBus;
}
