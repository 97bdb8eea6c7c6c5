/**
 * A fork's copy of an address space (kernel/fork.c dup_mmap, copy_page_range): VmaSpace.forkInto
 * calls dupMmap with a view of each space (ForkOps).
 */
import { ENOMEM } from '../base/errno.js';
import type { FileMapper } from './filemap.js';
import type { MemoryHost } from './pages.js';
import type { Vma } from './vma.js';

/**
 * What a fork does with a private anonymous page that is pinned (get_user_pages: a VFIO DMA
 * mapping's), and with the others:
 * - 'cow-shared': 3.14 dup_mmap -> copy_page_range -> copy_one_pte: every private page is
 *   write-protected in both processes and shared, pinned or not; the first to write gets a copy
 *   (do_wp_page), unless it is the page's only mapper by then (reuse_swap_page: page_mapcount
 *   1): the device's pinned frame stays with whoever did not write, so a parent that writes its
 *   DMA buffer after a fork writes a copy the device never sees; and a read-only pin taken after
 *   the fork (get_user_pages without FOLL_WRITE) pins the frame both still share, which the
 *   pinner's own next write leaves behind the same way
 * - 'copy': v6.12 copy_present_pte -> copy_present_page: a maybe-DMA-pinned anonymous page is
 *   copied for the child at fork time and the parent keeps its frame, writable (commit
 *   70e806e4e645, "mm: Do early cow for pinned pages during fork() for ptes", v5.9); the model
 *   copies the unpinned pages at fork too (forkInto says why that is exact)
 */
export type ForkPinnedPages = 'cow-shared' | 'copy';

/** what dupMmap needs of an address space (VmaSpace.forkOps) */
export interface ForkOps {
  readonly space: FileMapper;
  readonly vmas: readonly Vma[];
  readonly host: MemoryHost;
  insert(v: Vma): void;
  /** copy one page frame to another (copy_user_highpage) */
  copyFrame(src: number, dst: number): void;
  /** the parent's private pages became copy-on-write shared: its translation cache and mirror learn it */
  wrprotected(): void;
}

/**
 * dup_mmap (kernel/fork.c): every VMA of the parent's address space is reproduced in `child` (empty,
 * freshly created), but those marked VM_DONTCOPY (madvise MADV_DONTFORK: the child has no
 * mapping there, 3.14 and v6.12 alike). Per VMA (copy_page_range):
 * - a device (VM_PFNMAP) VMA maps the same physical range, taking a reference on its file
 *   (vm_area_dup + get_file);
 * - a MAP_SHARED anonymous VMA maps the same ShmObject (a reference on its shmem file:
 *   vm_area_dup + get_file; copy_page_range copies no page of a shared mapping, 3.14 and
 *   v6.12 alike): every page, touched before the fork or after it by either process, is one
 *   frame both see, pinned or not, and no write of either is copy-on-write;
 * - a private anonymous VMA, `pinned` 'cow-shared' (3.14 copy_one_pte): every materialised
 *   page, pinned or not, is one frame both processes map copy-on-write (Vma.cow: both lose
 *   write permission on it, ptep_set_wrprotect; the first writer gets a copy unless it is the
 *   last mapper by then: breakCow); untouched pages stay demand-zero, each process's own;
 * - a private anonymous VMA, 'copy' (v6.12): each materialised page gets a new frame with a
 *   copy of its bytes. Choice for the unpinned pages: v6.12 copy_present_pte shares them
 *   copy-on-write and copies only the maybe-DMA-pinned ones (copy_present_page, commit
 *   70e806e4e645), but a later pin of a shared anonymous page unshares it first (FOLL_PIN:
 *   FAULT_FLAG_UNSHARE for a read-only pin, commit a7f226604170 "mm/gup: trigger
 *   FAULT_FLAG_UNSHARE when R/O-pinning a possibly shared anonymous page", v5.19; a break of
 *   COW for FOLL_WRITE), so no device can hold a frame two processes share and a copy made at
 *   fork cannot be told from one made at the first write (about 4 KiB of memcpy per touched
 *   page: a static busybox has touched about a hundred at fork);
 * - a file mapping (filemap.ts) maps the same page cache (vm_area_dup + get_file): the
 *   file's frames it had are the child's too (a private mapping's still copy-on-write), and
 *   its private copies are copied for the child (3.14 would share them copy-on-write: the
 *   same bytes, one frame more until a write).
 * The Unicorn mirror maps a shared page read-only; the engine hands the CPU's first write to
 * the address space (UnicornEngine.cowWrite), atomics (LDREX/STREX) included.
 * Returns 0, or -ENOMEM (the child keeps what was copied; the caller releases it).
 */
export function dupMmap(parent: ForkOps, child: ForkOps, pinned: ForkPinnedPages): number {
  const pages = parent.host.pages;
  const share = pinned === 'cow-shared' ? pages.sharers : undefined;
  let shared = false;
  for (const v of parent.vmas) {
    if (v.dontCopy === true) continue;
    const c = copyVma(v);
    if (v.fcache != null) {
      // a file mapping: the cache's frames are mapped by both; a private copy is copied
      const ps = v.pages!;
      const cp = ps.slice();
      c.pages = cp;
      v.ref?.get();
      v.fcache.attach(child.space, c);
      child.insert(c);
      if (v.own != null) {
        c.own = v.own.slice();
        for (let i = 0; i < ps.length; i++) {
          if (v.own[i] !== 1) continue;
          const dst = pages.allocZeroed();
          if (dst < 0) {
            c.own[i] = 0;
            cp[i] = -1;
            return -ENOMEM;
          }
          parent.copyFrame(ps[i]!, dst);
          cp[i] = dst;
        }
      }
      continue;
    }
    if (v.kind !== 'anon') {
      v.ref?.get();
      child.insert(c);
      continue;
    }
    if (v.shm != null) {
      v.shm.refs++;
      c.shm = v.shm;
      c.shm.mappers.push({ space: child.space, v: c });
      c.pages = v.pages;
      v.ref?.get();
      child.insert(c);
      continue;
    }
    const ps = v.pages!;
    const cp = new Float64Array(ps.length).fill(-1);
    c.pages = cp;
    // VM_WIPEONFORK: the child's copy starts empty, the flag kept (dup_mmap)
    if (v.wipeOnFork === true) {
      child.insert(c);
      continue;
    }
    for (let i = 0; i < ps.length; i++) {
      const src = ps[i]!;
      if (src < 0) continue;
      if (share !== undefined) {
        // copy_one_pte, every private page: write-protected in both, one more mapper and one more reference
        share.set(src, (share.get(src) ?? 1) + 1);
        pages.get(src);
        (v.cow ??= new Uint8Array(ps.length))[i] = 1;
        (c.cow ??= new Uint8Array(ps.length))[i] = 1;
        cp[i] = src;
        shared = true;
        continue;
      }
      const dst = pages.allocZeroed();
      if (dst < 0) {
        child.insert(c);
        return -ENOMEM;
      }
      parent.copyFrame(src, dst);
      cp[i] = dst;
    }
    child.insert(c);
  }
  if (shared) parent.wrprotected();
  return 0;
}

/**
 * vm_area_dup's copy of `v` for the child, with what dupMmap fills in per kind cleared (pages,
 * cow, shm, fcache, own). Every field of Vma is named (the type requires each key), so a field
 * added to Vma fails to compile here rather than being dropped from a fork; an object literal of
 * one shape instead of a spread of the parent's VMA, whose optional fields give it one of many
 * shapes (the spread's generic copy was 0.6-0.8 % of a mainline fuzz campaign, docs/PERFORMANCE.md
 * round 17).
 */
export function copyVma(v: Vma): Vma {
  const c: Record<keyof Vma, unknown> & Vma = {
    start: v.start,
    end: v.end,
    prot: v.prot,
    flags: v.flags,
    kind: v.kind,
    pages: null,
    pfnBase: v.pfnBase,
    pgoff: v.pgoff,
    ref: v.ref,
    cow: null,
    dontCopy: v.dontCopy,
    wipeOnFork: v.wipeOnFork,
    vmShared: v.vmShared,
    shm: null,
    file: v.file,
    fcache: null,
    own: null,
    growsDown: v.growsDown,
  };
  return c;
}
