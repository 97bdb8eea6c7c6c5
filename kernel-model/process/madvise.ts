import { EACCES, EINVAL, ENODEV, ENOMEM, EOPNOTSUPP } from '../base/errno.js';
import { PAGE_MASK, PAGE_SHIFT, PAGE_SIZE } from './pages.js';
// vma.ts imports this module too: its constants are read only when a function here runs
import { PROT_READ, PROT_WRITE, R_NOMEM, TASK_SIZE, type Vma } from './vma.js';

/**
 * madvise(2) over a process's VMAs (3.14 mm/madvise.c; v6.12 mm/madvise.c): what each advice
 * does to the VMAs and pages of a range, in each era. VmaSpace.madvise calls it with the few
 * operations on the VMA tree and the page tables that the walk needs (MadviseOps).
 */

/** madvise advice (include/uapi/asm-generic/mman-common.h) */
export const MADV_NORMAL = 0, MADV_RANDOM = 1, MADV_SEQUENTIAL = 2, MADV_WILLNEED = 3, MADV_DONTNEED = 4, MADV_FREE = 8, MADV_REMOVE = 9;
export const MADV_DONTFORK = 10, MADV_DOFORK = 11, MADV_DONTDUMP = 16, MADV_DODUMP = 17, MADV_WIPEONFORK = 18, MADV_KEEPONFORK = 19;
export const MADV_COLD = 20, MADV_PAGEOUT = 21, MADV_POPULATE_READ = 22, MADV_POPULATE_WRITE = 23, MADV_DONTNEED_LOCKED = 24;

/**
 * What MADV_REMOVE asks of a shared mapping besides VM_SHARED: 'vm-write' (3.14 madvise_remove:
 * `(vm_flags & (VM_SHARED|VM_WRITE)) != (VM_SHARED|VM_WRITE)` -> -EACCES, the mapping's present
 * protection) or 'vm-maywrite' (v6.12 vma_is_shared_maywrite: VM_SHARED and VM_MAYWRITE)
 */
export type MadviseRemoveAccess = 'vm-write' | 'vm-maywrite';

/** The VMA tree and page-table operations the walk uses (VmaSpace provides them) */
export interface MadviseOps {
  /** the VMAs in address order */
  vmas(): readonly Vma[];
  find(va: number): Vma | null;
  /** the VMAs inside [s, e), split at its ends */
  carve(s: number, e: number): Vma[];
  /** zap pages [from, to) of v (their frames put) */
  dropPages(v: Vma, from: number, to: number): void;
  /** fault the page of va in for `need` (PROT_READ / PROT_WRITE): a frame, or a negative R_* */
  resolve(va: number, need: number): number;
  /** zero the RAM frame at pa */
  zeroFrame(pa: number): void;
}

/**
 * sys_madvise's range checks: the page-rounded end of [addr, addr + len), or -EINVAL for an
 * unaligned addr or a range past user space (an end equal to addr: nothing to do)
 */
function madviseEnd(addr: number, len: number): number {
  if ((addr & PAGE_MASK) !== 0) return -EINVAL;
  const end = addr + Math.ceil(len / PAGE_SIZE) * PAGE_SIZE;
  return end < addr || end > TASK_SIZE ? -EINVAL : end;
}

/**
 * madvise(2) on [addr, addr + len) (3.14 mm/madvise.c SYSCALL_DEFINE3(madvise) and
 * madvise_vma; v6.12 do_madvise -> madvise_walk_vmas -> madvise_vma_behavior, and
 * madvise_populate). The caller has checked `advice` against the kernel's valid set
 * (madvise_behavior_valid: capability `madviseAdvice`). -EINVAL for an unaligned addr or a
 * range past user space (madviseEnd); a zero length does nothing. The VMAs of the range are
 * visited in order and the first error stops the walk (the VMAs before it keep the advice);
 * a range with unmapped parts gives -ENOMEM once the walk is done (unmapped_error), except
 * MADV_POPULATE_*, which stop at the hole. Per advice:
 * - NORMAL, RANDOM, SEQUENTIAL, DONTDUMP, WILLNEED, and v6.12's COLD / PAGEOUT on memory the
 *   LRU holds: nothing the model keeps changes (read-ahead hints, core-dump flags, reclaim
 *   hints: the model has no page cache, core dumps or swap; the VMA is not split for them).
 *   WILLNEED is 0 on every kind of VMA in both eras (3.14: CONFIG_SWAP's swap-in
 *   read-ahead for anonymous and shmem memory, a page-cache read-ahead whose result is
 *   ignored for a file; v6.12 likewise through vfs_fadvise).
 * - DODUMP: -EINVAL on a VM_PFNMAP|VM_IO (device) VMA (VM_SPECIAL, in both eras).
 * - DONTFORK / DOFORK: VM_DONTCOPY set or cleared (the VMA split at the range's ends);
 *   DOFORK on a VM_IO (device) VMA -EINVAL.
 * - DONTNEED (and v6.12's DONTNEED_LOCKED: the model has no mlock): dontNeedPages.
 * - REMOVE: punches a hole in the VMA's file (do_fallocate PUNCH_HOLE|KEEP_SIZE): -EINVAL
 *   without a file (private anonymous memory); a tmpfs file's mapping (v.fcache): the
 *   file's fallocate at the range's file offset (kernel-model/vfs/tmpfs.ts: the pages leave
 *   every mapping and the account, private copies stay); -EACCES unless the VMA is VM_SHARED (a
 *   MAP_SHARED mapping of a file opened for writing, or of shared anonymous memory) and, in
 *   3.14, VM_WRITE, its present protection (`removeNeeds` 'vm-write'; v6.12's
 *   vma_is_shared_maywrite asks VM_SHARED and VM_MAYWRITE only, 'vm-maywrite': "mm: drop
 *   the assumption that VM_SHARED always implies writable", v6.7); a device file (an anonymous inode, or the cdev's character device) is not a
 *   regular file: do_fallocate / vfs_fallocate -ENODEV; a MAP_SHARED anonymous VMA's shmem
 *   object loses the range's pages (shmem_fallocate -> shmem_truncate_range): every mapper
 *   reads zeros there. Choice: the model zeroes the object's frames in place and keeps them,
 *   so that no other process's CPU mirror keeps a freed frame; a frame a device has pinned
 *   is zeroed too (the kernel leaves the pinner the old page, out of the page cache): a
 *   documented difference, reachable only by MAP_DMA of MAP_SHARED anonymous memory.
 * - v6.12 FREE: -EINVAL on a device VMA (madvise_dontneed_free_valid_vma: VM_PFNMAP) and on
 *   a MAP_SHARED anonymous one (madvise_free_single_vma: !vma_is_anonymous); private pages
 *   are freed lazily, only under memory pressure, which the model never has: they keep
 *   their data (one of the two outcomes the man page allows).
 * - v6.12 COLD / PAGEOUT: -EINVAL on a device VMA (can_madv_lru_vma: VM_PFNMAP).
 * - v6.12 WIPEONFORK: -EINVAL unless private anonymous (`vma->vm_file || VM_SHARED`); sets
 *   VM_WIPEONFORK: a fork child gets the VMA empty (dup_mmap: "a clean slate"), the flag
 *   kept. KEEPONFORK clears it.
 * - v6.12 POPULATE_READ / POPULATE_WRITE (madvise_populate -> faultin_page_range with
 *   FOLL_MADV_POPULATE, v6.9+): each page faulted in as a read or a write; a write to a page
 *   shared copy-on-write breaks the sharing. -ENOMEM at a hole, -EINVAL for a device VMA or
 *   one whose protection does not allow the access (check_vma_flags), the pages before it
 *   faulted in.
 */
export function madviseRange(sp: MadviseOps, addr: number, len: number, advice: number, removeNeeds: MadviseRemoveAccess): number {
  const end = madviseEnd(addr, len);
  if (end <= addr) return end < 0 ? end : 0;
  if (advice === MADV_POPULATE_READ || advice === MADV_POPULATE_WRITE) return populate(sp, addr, end, advice === MADV_POPULATE_WRITE ? PROT_WRITE : PROT_READ);
  let cur = addr;
  let hole = false;
  // a snapshot: the advice may split VMAs
  for (const v of sp.vmas().slice()) {
    if (v.end <= cur) continue;
    if (v.start >= end) break;
    if (v.start > cur) hole = true;
    const s = Math.max(cur, v.start);
    const e = Math.min(end, v.end);
    const r = adviseVma(sp, v, s, e, advice, removeNeeds);
    if (r < 0) return r;
    cur = e;
  }
  return hole || cur < end ? -ENOMEM : 0;
}

/** one VMA's part [s, e) of a madvise range (madvise_vma / madvise_vma_behavior) */
function adviseVma(sp: MadviseOps, v: Vma, s: number, e: number, advice: number, removeNeeds: MadviseRemoveAccess): number {
  const dev = v.kind === 'pfn';
  switch (advice) {
    case MADV_DONTFORK:
    case MADV_DOFORK:
      if (dev && advice === MADV_DOFORK) return -EINVAL;
      for (const p of sp.carve(s, e)) p.dontCopy = advice === MADV_DONTFORK;
      return 0;
    case MADV_WIPEONFORK:
    case MADV_KEEPONFORK:
      if (advice === MADV_WIPEONFORK && (dev || v.shm != null)) return -EINVAL;
      for (const p of sp.carve(s, e)) p.wipeOnFork = advice === MADV_WIPEONFORK;
      return 0;
    case MADV_DODUMP:
      return dev ? -EINVAL : 0;
    case MADV_DONTNEED:
    case MADV_DONTNEED_LOCKED:
      if (dev) return -EINVAL;
      sp.dropPages(v, (s - v.start) >>> PAGE_SHIFT, (e - v.start) >>> PAGE_SHIFT);
      return 0;
    case MADV_FREE:
      return dev || v.shm != null ? -EINVAL : 0;
    case MADV_COLD:
    case MADV_PAGEOUT:
      return dev ? -EINVAL : 0;
    case MADV_REMOVE: {
      if (!dev && v.shm == null && v.fcache == null) return -EINVAL;
      // VM_SHARED (a shared mapping of a file opened for writing, or shared anonymous memory)
      // and, in 3.14, VM_WRITE: the mapping's present protection
      if (v.vmShared !== true || (removeNeeds === 'vm-write' && (v.prot & PROT_WRITE) === 0)) return -EACCES;
      if (dev) return -ENODEV;
      if (v.fcache != null) {
        // a regular file: vfs_fallocate(PUNCH_HOLE | KEEP_SIZE) at the range's file offset
        // (madvise_remove: (start - vm_start) + (vm_pgoff << PAGE_SHIFT)); tmpfs punches
        // (kernel-model/vfs/tmpfs.ts fallocate); a file system without ->fallocate -EOPNOTSUPP
        const punch = v.fcache.file.punchHole;
        if (punch === undefined) return -EOPNOTSUPP;
        return punch.call(v.fcache.file, s - v.start + v.pgoff * PAGE_SIZE, e - s);
      }
      const ps = v.pages!;
      for (let i = (s - v.start) >>> PAGE_SHIFT, n = (e - v.start) >>> PAGE_SHIFT; i < n; i++) {
        const pa = ps[i]!;
        if (pa < 0) continue;
        sp.zeroFrame(pa);
      }
      return 0;
    }
    default:
      return 0;
  }
}

/** MADV_POPULATE_READ / _WRITE over [addr, end): fault each page in, `need` PROT_READ or PROT_WRITE */
function populate(sp: MadviseOps, addr: number, end: number, need: number): number {
  for (let va = addr; va < end; va += PAGE_SIZE) {
    const v = sp.find(va);
    if (v === null) return -ENOMEM;
    if (v.kind === 'pfn' || (v.prot & need) !== need) return -EINVAL;
    if (sp.resolve(va, need) === R_NOMEM) return -ENOMEM;
  }
  return 0;
}
