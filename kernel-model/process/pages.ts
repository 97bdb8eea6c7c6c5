import type { PhysicalBus } from '../../emulator/bus.js';

export const PAGE_SIZE = 4096;
export const PAGE_SHIFT = 12;
export const PAGE_MASK = PAGE_SIZE - 1;

/**
 * What the process layer needs from the kernel's page allocator (kernel-model/mm, built
 * in parallel; `bindPageAllocator` adapts kernel.mm.pages). Pages are physical addresses
 * of 4 KiB pages in board RAM. A page lives while its reference count is > 0; pin counts
 * (get_user_pages) are tracked beside it and each pin also holds one reference (taken by
 * pin, dropped by unpin), so a pinned page survives munmap until it is unpinned.
 */
export interface UserPageAllocator {
  /** a zero-filled page: its physical address, or -ENOMEM */
  allocZeroed(): number;
  /**
   * a zero-filled page for a stack growing down onto the page whose frame is `above`
   * (PageAllocator.allocPageBelow), or -ENOMEM; absent: allocZeroed's
   */
  allocZeroedBelow?(above: number): number;
  /** take one reference */
  get(pa: number): void;
  /** drop one reference; the page is freed at zero */
  put(pa: number): void;
  /** +1 pin and +1 reference */
  pin(pa: number): void;
  /** -1 pin and -1 reference */
  unpin(pa: number): void;
  pinCount(pa: number): number;
  /**
   * page_mapcount of the frames shared copy-on-write by a fork (AddressSpace.forkInto with
   * 'cow-shared'): frame -> how many address spaces map it (absent: 1). Without it (a stand-in
   * allocator) forks copy every page.
   */
  readonly sharers?: Map<number, number>;
}

/**
 * the free run a growing stack's page is taken from the top of when the frame below the last
 * one is taken (PageAllocator.allocPageBelow): 1 MiB, the longest run the Unicorn mirror merges
 */
export const STACK_RUN_PAGES = 256;

/** Pages and physical memory as the process layer sees them. */
export interface MemoryHost {
  readonly pages: UserPageAllocator;
  readonly bus: PhysicalBus;
}

/** The shape of kernel-model/mm/page-alloc.ts PageAllocator that the adapter needs. */
export interface KernelPageAllocatorLike {
  allocPage(): number;
  allocPageBelow(above: number, span: number): number;
  getPage(pa: number): boolean;
  putPage(pa: number): void;
  pinPage(pa: number): boolean;
  unpinPage(pa: number): void;
  pinCount(pa: number): number;
}

/** Adapt the kernel's page allocator (kernel.mm.pages) to the process layer's interface. */
export function bindPageAllocator(k: KernelPageAllocatorLike): UserPageAllocator {
  return {
    allocZeroed: () => k.allocPage(),
    allocZeroedBelow: (above) => k.allocPageBelow(above, STACK_RUN_PAGES),
    get: (pa) => void k.getPage(pa),
    put: (pa) => k.putPage(pa),
    pin: (pa) => void k.pinPage(pa),
    unpin: (pa) => k.unpinPage(pa),
    pinCount: (pa) => k.pinCount(pa),
    sharers: new Map(),
  };
}
