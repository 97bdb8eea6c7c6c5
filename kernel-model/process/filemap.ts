/**
 * The page cache of a regular file that a process maps (struct address_space, reduced): the
 * frames of the file's pages while at least one VMA maps the file. tmpfs (mm/shmem.c
 * shmem_fault) and the read-only rootfs (mm/filemap.c filemap_fault) fill a page's frame from
 * the file's bytes at its first fault; every mapping of the file then maps that one frame:
 * a MAP_SHARED mapping writes it in place, a MAP_PRIVATE one reads it until its first write
 * to the page copies it (do_wp_page / do_cow_fault: the copy is the VMA's own anonymous page,
 * `Vma.own`). A page at or past the end of the file is SIGBUS (shmem_fault / filemap_fault:
 * `vmf->pgoff >= i_size` -> VM_FAULT_SIGBUS, 3.14 and v6.12); the bytes of the last partial
 * page past the size read 0.
 *
 * Model choices. The file system keeps its own copy of the bytes (a tmpfs file's dense array,
 * the rootfs source); while the cache exists a page that has a frame is held by the frame, and
 * the file's read()/write() go to it (`FileBacking` implementations do so), so a store through
 * a shared mapping is what read() returns and a write() is what every mapping sees. When the
 * last VMA goes the frames' bytes are stored back into the file (tmpfs) and the frames freed:
 * Linux keeps a file's page cache after the last unmap (tmpfs's pages are its storage), which
 * no program can tell apart here except by the allocator's count of free pages. The frames
 * are not counted against tmpfs's capacity (its bytes are, as before).
 */
import { PAGE_SIZE, type MemoryHost } from './pages.js';
import type { Vma } from './vma.js';

/** what a page cache needs from its file */
export interface FileBacking {
  /** i_size */
  fileSize(): number;
  /**
   * make page `idx` (below the size) ready to get a frame: tmpfs stores (and counts) the file's
   * bytes up to the page's end (shmem_getpage allocating the page); 0 or -ENOSPC
   */
  reservePage?(idx: number): number;
  /** the file's stored bytes of page `idx` into dst (PAGE_SIZE bytes, dst zero-filled before) */
  readPage(idx: number, dst: Uint8Array): void;
  /** the cache goes: page `idx`'s bytes (from its frame) go back into the file's storage */
  writeBackPage?(idx: number, src: Uint8Array): void;
  /** the last VMA went: the file forgets its cache */
  detached(): void;
  /** vfs_fallocate(PUNCH_HOLE | KEEP_SIZE) of [offset, offset + len) (MADV_REMOVE); absent: the file system has no ->fallocate */
  punchHole?(offset: number, len: number): number;
}

/** the address space side a cache tells about frames it takes away (VmaSpace.zapFile) */
export interface FileMapper {
  zapFile(v: Vma, fromIdx: number): void;
  /** pages [from, to) of v leave the page tables except the VMA's own private copies (unmap_mapping_range without even_cows) */
  punchFile(v: Vma, from: number, to: number): void;
  /** instructions of [start, end) may have changed (the CPU mirror drops its translations) */
  codeChanged?(start: number, end: number): void;
}

/** a frame the fault path could not give: past the end of the file, or no memory (tmpfs full: shmem_fault's -ENOSPC is SIGBUS too) */
export const PC_SIGBUS = -4;
export const PC_NOMEM = -3;

/** host-only: a page's bytes on their way into or out of a frame */
const scratch = new Uint8Array(PAGE_SIZE);

export class PageCache {
  /** file page index -> frame (physical address) */
  readonly frames = new Map<number, number>();
  /** the VMAs mapping the file and their address spaces, in mapping order */
  readonly mappers: { space: FileMapper; v: Vma }[] = [];

  constructor(
    readonly host: MemoryHost,
    readonly file: FileBacking,
  ) {}

  /** the frame of file page `idx`, filled at its first use, or PC_SIGBUS / PC_NOMEM */
  frame(idx: number): number {
    const have = this.frames.get(idx);
    if (have !== undefined) return have;
    if (idx * PAGE_SIZE >= this.file.fileSize()) return PC_SIGBUS;
    if (this.file.reservePage !== undefined && this.file.reservePage(idx) < 0) return PC_SIGBUS;
    const pa = this.host.pages.allocZeroed();
    if (pa < 0) return PC_NOMEM;
    scratch.fill(0);
    this.file.readPage(idx, scratch);
    const ram = this.host.bus.ramAt(pa, PAGE_SIZE)!;
    ram.writeBlock(pa - ram.base, scratch, 0, PAGE_SIZE);
    this.frames.set(idx, pa);
    return pa;
  }

  /** copy `n` bytes at offset `off` of page `idx`'s frame to (toFrame false) or from buf[bufOff..] */
  copyFrame(pa: number, off: number, buf: Uint8Array, bufOff: number, n: number, toFrame: boolean): void {
    const ram = this.host.bus.ramAt(pa, PAGE_SIZE)!;
    if (toFrame) ram.writeBlock(pa - ram.base + off, buf, bufOff, n);
    else ram.readBlock(pa - ram.base + off, buf, bufOff, n);
    if (toFrame) {
      for (const [idx, p] of this.frames) if (p === pa) this.codeWritten(idx, pa);
    }
  }

  /**
   * The kernel wrote the frame `pa` of file page `idx` (write, pwrite, a truncated or punched
   * page's zeroed tail): every mapping that maps the frame executable drops its CPU's
   * translations of the page. 3.14's flush_dcache_page (arch/arm/mm/flush.c) on a mapped page
   * cache page ends with __flush_icache_all; v6.12's flush_dcache_folio on a VIPT non-aliasing
   * cache (the Cortex-A15's) only clears PG_dcache_clean, so there the instruction cache of a
   * page mapped already may hold the old code until the program's cacheflush. Both eras are
   * given the 3.14 answer here (the old code gone at once): one of the outcomes v6.12 allows.
   */
  codeWritten(idx: number, pa: number): void {
    for (const m of this.mappers) {
      const i = idx - m.v.pgoff;
      if ((m.v.prot & 4) === 0 || i < 0 || i >= (m.v.end - m.v.start) / PAGE_SIZE || m.v.pages?.[i] !== pa) continue;
      m.space.codeChanged?.(m.v.start + i * PAGE_SIZE, m.v.start + (i + 1) * PAGE_SIZE);
    }
  }

  attach(space: FileMapper, v: Vma): void {
    v.fcache = this;
    this.mappers.push({ space, v });
  }

  detach(v: Vma): void {
    const i = this.mappers.findIndex((m) => m.v === v);
    if (i >= 0) this.mappers.splice(i, 1);
    v.fcache = null;
    if (this.mappers.length > 0) return;
    for (const [idx, pa] of this.frames) {
      if (this.file.writeBackPage !== undefined) {
        this.copyFrame(pa, 0, scratch, 0, PAGE_SIZE, false);
        this.file.writeBackPage(idx, scratch);
      }
      this.host.pages.put(pa);
    }
    this.frames.clear();
    this.file.detached();
  }

  punch(first: number, last: number): void {
    punchCache(this, first, last);
  }

  zeroRange(a: number, b: number): void {
    zeroCacheRange(this, a, b);
  }

  /**
   * The file shrank to `size` (truncate_pagecache, mm/truncate.c, 3.14 and v6.12): every
   * mapping loses its pages from the first page wholly past the new end, private copies
   * included (unmap_mapping_range with even_cows), the frames leave the cache, and the partial
   * last page's frame is zeroed past the end (truncate_inode_pages_range's partial page)
   */
  truncate(size: number): void {
    const first = Math.ceil(size / PAGE_SIZE);
    for (const m of this.mappers) {
      if (m.v.pgoff + (m.v.end - m.v.start) / PAGE_SIZE > first) m.space.zapFile(m.v, Math.max(0, first - m.v.pgoff));
    }
    for (const [idx, pa] of [...this.frames]) {
      if (idx >= first) {
        this.frames.delete(idx);
        this.host.pages.put(pa);
      }
    }
    const tail = size % PAGE_SIZE;
    const last = this.frames.get(first - 1);
    if (tail !== 0 && last !== undefined) {
      scratch.fill(0);
      this.copyFrame(last, tail, scratch, 0, PAGE_SIZE - tail, true);
    }
  }
}

/**
 * PageCache: a hole punched in file pages [first, last) (shmem_fallocate PUNCH_HOLE, 3.14 and v6.12):
 * unmap_mapping_range(..., even_cows 0) takes the pages out of every mapping, the private copies
 * a MAP_PRIVATE mapping made staying ("hole-punching leaves COWed pages"); then
 * shmem_truncate_range takes the frames out of the cache (the next fault reads the file: zeros)
 */
export function punchCache(c: PageCache, first: number, last: number): void {
  if (first >= last) return;
  for (const m of c.mappers) {
    const n = (m.v.end - m.v.start) / PAGE_SIZE;
    const from = Math.max(first, m.v.pgoff) - m.v.pgoff;
    const to = Math.min(last, m.v.pgoff + n) - m.v.pgoff;
    if (from < to) m.space.punchFile(m.v, from, to);
  }
  for (const [idx, pa] of [...c.frames]) {
    if (idx >= first && idx < last) {
      c.frames.delete(idx);
      c.host.pages.put(pa);
    }
  }
}

/** PageCache: bytes [a, b) of the file zeroed in the frames that hold them (a punched hole's partial pages) */
export function zeroCacheRange(c: PageCache, a: number, b: number): void {
  const z = new Uint8Array(PAGE_SIZE);
  for (let idx = Math.floor(a / PAGE_SIZE); idx * PAGE_SIZE < b; idx++) {
    const pa = c.frames.get(idx);
    if (pa === undefined) continue;
    const from = Math.max(a, idx * PAGE_SIZE), to = Math.min(b, (idx + 1) * PAGE_SIZE);
    c.copyFrame(pa, from - idx * PAGE_SIZE, z, 0, to - from, true);
  }
}

/** a VMA's page `i` is the cache's frame, mapped read-only until a write copies it (a MAP_PRIVATE file mapping) */
export function privateFilePage(v: Vma, i: number): boolean {
  return v.fcache != null && (v.flags & 1) === 0 && (v.own == null || v.own[i] !== 1);
}

const MS_ASYNC = 1, MS_INVALIDATE = 2, MS_SYNC = 4;
const EINVAL = 22, ENOMEM = 12;

/**
 * msync(2) (mm/msync.c sys_msync, the same answers in 3.14 and v6.12): flags outside
 * MS_ASYNC|MS_INVALIDATE|MS_SYNC, an unaligned start, or MS_ASYNC with MS_SYNC -EINVAL; the
 * length rounded up to pages, a range that wraps -ENOMEM, an empty one 0; then the VMAs of
 * the range: none at or after a point of it -ENOMEM, a hole -ENOMEM at the end (the VMAs after
 * it still synced; v6.12 stops at the hole for MS_ASYNC alone, with the same answer).
 * MS_SYNC on a VM_SHARED file mapping is vfs_fsync_range: tmpfs's and shared anonymous
 * memory's shmem files have noop_fsync (0: the page cache is the storage); a device's file
 * (a VFIO region, an anonymous inode) has no ->fsync: -EINVAL. Not modelled: VM_LOCKED's
 * -EBUSY with MS_INVALIDATE (the model has no mlock).
 */
export function sysMsync(vmas: readonly Vma[], start: number, len: number, flags: number): number {
  start = start >>> 0;
  if ((flags & ~(MS_ASYNC | MS_INVALIDATE | MS_SYNC)) !== 0) return -EINVAL;
  if ((start & (PAGE_SIZE - 1)) !== 0) return -EINVAL;
  if ((flags & MS_ASYNC) !== 0 && (flags & MS_SYNC) !== 0) return -EINVAL;
  const end = start + Math.ceil((len >>> 0) / PAGE_SIZE) * PAGE_SIZE;
  if (end > 0x1_0000_0000) return -ENOMEM;
  if (end === start) return 0;
  let unmapped = 0;
  let cur = start;
  for (const v of vmas) {
    if (v.end <= cur) continue;
    if (cur < v.start) {
      if (v.start >= end) return -ENOMEM;
      unmapped = -ENOMEM;
    }
    if ((flags & MS_SYNC) !== 0 && v.file != null && v.vmShared === true && v.shm == null && v.fcache == null) return -EINVAL;
    cur = v.end;
    if (cur >= end) return unmapped;
  }
  return -ENOMEM;
}

/**
 * The instruction cache maintenance of [first, end) of `v`, a MAP_SHARED anonymous mapping
 * (a shmem object, vma.ts ShmObject), reaches the frames, not the addresses: every other
 * executable mapping of a frame there, in any process (a fork child's store into the page and
 * its cacheflush, then its parent runs the new instructions), drops its CPU's translations of
 * its page.
 */
function shmCodeWritten(v: Vma, first: number, end: number): void {
  for (let va = first; va < end; va += PAGE_SIZE) {
    const pa = v.pages![(va - v.start) / PAGE_SIZE]!;
    if (pa < 0) continue;
    for (const m of v.shm!.mappers) {
      if (m.v === v || (m.v.prot & 4) === 0 || m.v.pages == null) continue;
      const j = m.v.pages.indexOf(pa);
      if (j >= 0) m.space.codeChanged?.(m.v.start + j * PAGE_SIZE, m.v.start + (j + 1) * PAGE_SIZE);
    }
  }
}

/**
 * The ARM cacheflush call (0xf0002, arch/arm/kernel/traps.c): the D-cache cleaned and the
 * I-cache invalidated over [start, end) by virtual address (flush_cache_user_range /
 * flush_icache_user_range). Both eras' __do_cache_op walk the whole range in page chunks
 * without looking at the VMAs (read in 3.14.4 and 6.12.19; an older 3.x do_cache_op clamped it
 * to the first VMA ending past `start`); the model drops the translations of every VMA of the
 * range (a dropped translation only makes the CPU read the instructions again). The Cortex-A15's instruction cache is physically indexed and
 * tagged and ARMv7 SMP broadcasts the maintenance, so the lines go for every mapping of those
 * frames: the caller's translations of the range go, and for a page that is its file's page
 * cache frame, those of every executable mapping of the page (another process's store through
 * a MAP_SHARED mapping, then its cacheflush); for a page of a MAP_SHARED anonymous mapping, those
 * of every other executable mapping of its frame (shmCodeWritten). The answer stays 0 (the model's earlier one; the
 * eras' do_cache_op -EINVAL for end < start or flags and -EFAULT past access_ok, both eras, are
 * not modelled).
 */
export function sysCacheflush(mm: { readonly mappings: readonly Vma[]; codeChanged(start: number, end: number): void }, start: number, end: number, flags: number): number {
  start >>>= 0;
  end >>>= 0;
  if (end < start || flags !== 0) return 0;
  for (const v of mm.mappings) {
    if (v.end <= start || v.start >= end) continue;
    const s = Math.max(start, v.start), e = Math.min(end, v.end);
    const first = Math.floor(s / PAGE_SIZE) * PAGE_SIZE;
    mm.codeChanged(first, Math.ceil(e / PAGE_SIZE) * PAGE_SIZE);
    if (v.shm != null && v.pages != null) shmCodeWritten(v, first, e);
    const c = v.fcache;
    if (c == null || v.pages == null) continue;
    for (let va = first; va < e; va += PAGE_SIZE) {
      const i = (va - v.start) / PAGE_SIZE;
      const pa = v.pages[i]!;
      if (pa >= 0 && c.frames.get(v.pgoff + i) === pa) c.codeWritten(v.pgoff + i, pa);
    }
  }
  return 0;
}
