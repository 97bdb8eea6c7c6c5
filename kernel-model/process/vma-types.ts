import type { File } from '../vfs/file.js';
import type { FileMapper, PageCache } from './filemap.js';

/**
 * The VMA's data (struct vm_area_struct as the model keeps it), the mmap protection and flag
 * bits, and the user address-space limits: vma.ts's VmaSpace operates on them.
 */

export const PROT_READ = 1;
export const PROT_WRITE = 2;
export const PROT_EXEC = 4;
export const MAP_SHARED = 0x01;
export const MAP_PRIVATE = 0x02;
export const MAP_ANONYMOUS = 0x20;

/**
 * User address space limits (3G/1G split; the first 64 KiB are never mapped). TASK_SIZE is
 * PAGE_OFFSET - SZ_16M (arch/arm/include/asm/memory.h, 3.14 and v6.12 alike): the 16 MiB below
 * PAGE_OFFSET (0xc0000000) are the kernel's module area, outside user space.
 */
export const USER_BASE = 0x10000;
export const TASK_SIZE = 0xbf000000;


/**
 * access_ok(addr, size): [addr, addr + size) lies in user space. 3.14: arch/arm
 * asm/uaccess.h __range_ok (addr + size without a carry, at most addr_limit, which is USER_DS =
 * TASK_SIZE for a user task); v6.12: asm-generic/access_ok.h __access_ok (size <= TASK_SIZE_MAX
 * and addr <= TASK_SIZE_MAX - size). The same test; addr and size are 32-bit unsigned longs.
 */
export function accessOk(addr: number, size: number): boolean {
  return size <= TASK_SIZE && addr >>> 0 <= TASK_SIZE - size;
}
/** where non-fixed mmaps are placed (bottom-up first fit from here) */
export const MMAP_BASE = 0x40000000;

/** Something that a VMA holds a reference on (the file behind a device mapping). */
export interface VmaRef {
  get(): void;
  put(): void;
}

/**
 * The pages of a MAP_SHARED anonymous mapping (mm/shmem.c shmem_zero_setup: the VMA gets an
 * unlinked shmem file, "dev/zero", and its pages live in that file's page cache, not in the
 * VMA). Every VMA that maps part of it (the pieces a split leaves, a fork child's copy: dup_mmap
 * takes a reference on vm_file) holds one reference; the frames are the object's, put when the
 * last reference goes (the file's release truncates its page cache), so pages of a part one
 * process unmapped stay while another maps the object. A page either process touches first,
 * before or after a fork, is the one page both see.
 */
export interface ShmObject {
  /** the frame of each page of the object (physical address, -1 while untouched) */
  readonly pages: Float64Array;
  refs: number;
  /**
   * the VMAs mapping the object and their address spaces (its shmem file's mapping->i_mmap):
   * an instruction cache maintenance of one of its frames reaches every executable mapping
   * of the frame (filemap.ts sysCacheflush)
   */
  readonly mappers: { space: FileMapper; v: Vma }[];
}

/**
 * A virtual memory area. Anonymous VMAs own an array of page frames (physical address,
 * or -1 while untouched); a MAP_SHARED anonymous VMA's array is a view of its ShmObject's. A 'pfn' VMA (VM_PFNMAP|VM_IO) maps physical device addresses
 * directly: [start, end) -> [pfnBase, pfnBase + len), uncached; accesses are bus
 * transactions with user attributes.
 */
export interface Vma {
  start: number;
  end: number;
  prot: number;
  flags: number;
  kind: 'anon' | 'pfn';
  pages: Float64Array | null;
  pfnBase: number;
  /** page offset the mapping was created with (mmap offset >> PAGE_SHIFT) */
  pgoff: number;
  ref: VmaRef | null;
  /**
   * per page, 1 where the frame is shared copy-on-write with another address space (a 3.14
   * fork, capability `forkPinnedPages` 'cow-shared'): the page is mapped without write
   * permission until a write breaks the sharing (breakCow); null: none
   */
  cow?: Uint8Array | null;
  /** VM_DONTCOPY (madvise MADV_DONTFORK): a fork child does not get this mapping */
  dontCopy?: boolean;
  /** VM_WIPEONFORK (v6.12 madvise MADV_WIPEONFORK; private anonymous only): a fork child gets this mapping empty */
  wipeOnFork?: boolean;
  /**
   * VM_SHARED: a MAP_SHARED mapping, except of a file not opened for writing (do_mmap_pgoff
   * clears VM_SHARED and VM_MAYWRITE there, leaving VM_MAYSHARE); with it VM_MAYWRITE is set
   */
  vmShared?: boolean;
  /** a MAP_SHARED anonymous VMA's page object (`pages` is a subarray of its pages); else null */
  shm?: ShmObject | null;
  /** vm_file: the file mmap mapped (what /proc/<pid>/maps names, kernel-model/vfs/procfs.ts); null or absent: anonymous */
  file?: File | null;
  /**
   * a regular file's page cache (filemap.ts) this VMA maps: `pages` holds the cache's frames
   * (not the VMA's) where `own` is not 1
   */
  fcache?: PageCache | null;
  /** a MAP_PRIVATE file mapping: 1 where the page is the VMA's own copy (written: copy on write) */
  own?: Uint8Array | null;
  /** VM_GROWSDOWN: the main thread's stack or a MAP_GROWSDOWN mapping, grown by faults below it (stack-grow.ts) */
  growsDown?: boolean;
}
