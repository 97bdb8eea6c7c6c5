/**
 * The reference model's part for type1 dirty page tracking (profiles with `type1DirtyPages`):
 * what VFIO_IOMMU_DIRTY_PAGES and UNMAP_DMA with VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP should
 * answer, predicted from the checks Linux v6.12 drivers/vfio/vfio_iommu_type1.c makes, in its
 * order:
 * - vfio_iommu_type1_dirty_pages: a TYPE1 (v1) container -EACCES before anything is read; the
 *   8-byte head copied (-EFAULT); argsz < 8 or a flag outside START|STOP|GET_BITMAP -EINVAL;
 *   more than one flag (`__ffs(flags) != __fls(flags)`) -EINVAL; none: -EINVAL at the end. START
 *   turns tracking on (vfio_dma_bitmap_alloc_all: a bitmap per mapping, which cannot fail for a
 *   32-bit size), also when it is on already; STOP turns it off, also when it is off: both 0.
 *   GET_BITMAP: argsz - 8 < sizeof(struct vfio_iommu_type1_dirty_bitmap_get) (40) -EINVAL; the
 *   40 bytes copied (-EFAULT); then -EINVAL for an iova + size that wraps, a bitmap access_ok
 *   refuses, a bitmap size verify_bitmap_size refuses (no pages, size 0, above
 *   DIRTY_BITMAP_SIZE_MAX = 2^28, below DIRTY_BITMAP_BYTES(pages)), a pgsize other than the
 *   domain's smallest (4 KiB on this board's SMMU), an unaligned iova, a zero or unaligned size,
 *   tracking off, or (vfio_iova_dirty_bitmap) a range whose first byte is inside a mapping that
 *   starts before it or whose last byte is inside one that ends after it.
 * - vfio_iommu_type1_unmap_dma with GET_DIRTY_BITMAP: with ALL or VADDR -EINVAL; argsz below
 *   24 + sizeof(struct vfio_bitmap) (24) -EINVAL; the bitmap copied from behind the unmap
 *   struct (-EFAULT), access_ok and verify_bitmap_size of the unmap's pages (-EINVAL); then
 *   vfio_dma_do_unmap: unaligned iova, zero/unaligned/wrapping size or one above SIZE_MAX
 *   (-EINVAL), tracking off or a pgsize other than the smallest (-EINVAL), TYPE1v2's bisect
 *   checks (-EINVAL), then the walk, which reports each mapping (update_user_bitmap) before
 *   removing it, from the request's iova.
 * - update_user_bitmap: every page of a reported mapping is dirty (every group of the container
 *   counts in num_non_pinned_groups and every mapping is iommu_mapped: bitmap_set of the whole
 *   mapping); a mapping `b` pages after the base with b < 32 has its bits at bit b of the user
 *   bitmap, written as DIRTY_BITMAP_BYTES(pages + b) bytes from the bitmap's start (the first
 *   word read back first and or-ed in); a failed copy (-EFAULT) stops the walk, the unmap's
 *   mappings reported before it stay removed and no size is written back.
 *
 * Not predicted (the comparison is restricted, honestly): a reported mapping 32 or more pages
 * after the base. There `copy_offset = bit_offset / BITS_PER_LONG` counts 32-bit words on this
 * 32-bit kernel while the pointer it offsets is a `u64 __user *` (the kernel model writes at
 * twice the byte offset a 64-bit kernel would, docs/VFIO.md "Dirty page tracking"), so where
 * the bits land, and whether the copy faults, is left to the kernel model: only "0 or -EFAULT"
 * is checked, and an unmap that ends in -EFAULT there stops the comparison. Nor is GET_BITMAP's
 * walk with a size of 2^32 or more (vfio_iova_dirty_bitmap takes a size_t: the low 32 bits), nor
 * whether memory is writable when the bitmap's bytes reach a device mapping (VM_PFNMAP).
 */
import { EACCES, EFAULT, EINVAL } from '../../kernel-model/base/errno.js';
import { PROT_READ, PROT_WRITE, TASK_SIZE, type AddressSpace } from '../../kernel-model/process/mm.js';

/** VFIO_IOMMU_DIRTY_PAGES_FLAG_START / _STOP / _GET_BITMAP (include/uapi/linux/vfio.h) */
export const DIRTY_START = 1;
export const DIRTY_STOP = 2;
export const DIRTY_GET_BITMAP = 4;
/** VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP, _ALL, _VADDR */
export const UNMAP_GET_DIRTY_BITMAP = 1;
const UNMAP_ALL_OR_VADDR = 2 | 4;

/** the domain's smallest page size (__ffs(iommu->pgsize_bitmap): the SMMU's 4 KiB; GET_INFO's migration capability reports it) */
export const DIRTY_PGSIZE = 4096;
/** DIRTY_BITMAP_SIZE_MAX: DIRTY_BITMAP_BYTES(DIRTY_BITMAP_PAGES_MAX = INT_MAX) */
const DIRTY_BITMAP_SIZE_MAX = 2n ** 28n;
const TWO64 = 2n ** 64n;

/** a struct vfio_bitmap as written (data: the pointer; a 4-byte pointer on 32-bit ARM, so its low word) */
export interface BitmapArg {
  pgsize: bigint;
  size: bigint;
  data: bigint;
}

/** VFIO_IOMMU_DIRTY_PAGES's argument as written: `whole` when all 48 bytes are where the kernel reads them (else the 8-byte head only) */
export interface DirtyArg extends BitmapArg {
  argsz: number;
  flags: number;
  iova: bigint;
  range: bigint;
  whole: boolean;
}

/** a mapping of the container (the reference model's) */
export interface DirtyMap {
  iova: number;
  size: number;
}

/** DIRTY_BITMAP_BYTES(n): n bits in whole u64 words, in bytes */
function bitmapBytes(n: bigint): bigint {
  return ((n + 63n) / 64n) * 8n;
}

/**
 * access_ok(data, size) on 32-bit ARM (__range_ok: addr + size <= TASK_SIZE without a carry); a
 * __u64 size reaches it as its low word, as the pointer does (the kernel model's reading)
 */
function accessOk(data: bigint, size: bigint): boolean {
  const a = Number(data & 0xffffffffn);
  const s = Number(size & 0xffffffffn);
  return s <= TASK_SIZE && a <= TASK_SIZE - s;
}

/**
 * access_ok, then verify_bitmap_size(bytes >> __ffs(pgsize), bitmap size): true when both pass.
 * A pgsize whose low word is 0 (__ffs of 0) fails the call with -EINVAL further on whatever
 * this says (it is not the domain's page size), so its shift is not needed.
 */
function bitmapOk(b: BitmapArg, bytes: bigint): boolean {
  if (!accessOk(b.data, b.size)) return false;
  const low = Number(b.pgsize & 0xffffffffn);
  if (low === 0) return false;
  const pages = bytes >> BigInt(31 - Math.clz32(low & -low));
  return pages !== 0n && b.size !== 0n && b.size <= DIRTY_BITMAP_SIZE_MAX && b.size >= bitmapBytes(pages);
}

/** whether user memory [va, va + len) takes a copy_to_user: 'yes', 'no' (-EFAULT), or 'unknown' (a device mapping) */
export type Writable = (va: number, len: number) => 'yes' | 'no' | 'unknown';

export function userWritable(mm: AddressSpace): Writable {
  return (va, len) => {
    if (len <= 0) return 'yes';
    if (va + len > TASK_SIZE) return 'no';
    for (let a = va - (va % 4096); a < va + len; a += 4096) {
      const v = mm.find(a);
      if (v === null || (v.prot & (PROT_READ | PROT_WRITE)) !== (PROT_READ | PROT_WRITE)) return 'no';
      if (v.kind !== 'anon') return 'unknown';
    }
    return 'yes';
  };
}

/**
 * The walk's reports (update_user_bitmap for each of `maps`, in IOVA order, from `base`):
 * `r` 0, or -EFAULT with `reported` the mappings reported before the copy that failed; null
 * when not predicted (a mapping 32 or more pages after the base, or memory of unknown kind)
 */
export function predictReports(maps: readonly DirtyMap[], base: bigint, data: bigint, writable: Writable): { r: number; reported: number } | null {
  const at = Number(data & 0xffffffffn);
  for (let i = 0; i < maps.length; i++) {
    const m = maps[i]!;
    const bit = (BigInt(m.iova) - base) / BigInt(DIRTY_PGSIZE);
    if (bit >= 32n) return null;
    const bytes = Number(bitmapBytes(BigInt(m.size / DIRTY_PGSIZE) + bit));
    const w = writable(at, bytes);
    if (w === 'unknown') return null;
    if (w === 'no') return { r: -EFAULT, reported: i };
  }
  return { r: 0, reported: maps.length };
}

/**
 * After a walk that succeeded: the first of `maps` (reported from `base`, each < 32 pages after
 * it) with a page whose bit is not set in the user bitmap at `data`, as a message; null if all are
 */
export function checkDirtyBits(mm: AddressSpace, maps: readonly DirtyMap[], base: bigint, data: bigint): string | null {
  const at = Number(data & 0xffffffffn);
  for (const m of maps) {
    const bit = Number((BigInt(m.iova) - base) / BigInt(DIRTY_PGSIZE));
    const n = m.size / DIRTY_PGSIZE;
    const bytes = Math.ceil((bit + n) / 8);
    const b = new Uint8Array(bytes);
    if (mm.copyFromUser(b, 0, at, bytes) < 0) return null;
    for (let k = bit; k < bit + n; k++) {
      if ((b[k >> 3]! & (1 << (k & 7))) === 0) return `the dirty bitmap at 0x${at.toString(16)} has bit ${k} clear, but the mapping at iova 0x${m.iova.toString(16)} (${n} pages from bit ${bit}) is pinned and mapped: every page of it is dirty`;
    }
  }
  return null;
}

/** the mappings vfio_iova_dirty_bitmap reports for [iova, iova + size): those starting inside it */
function startingIn(maps: readonly DirtyMap[], iova: bigint, size: bigint): DirtyMap[] {
  const out: DirtyMap[] = [];
  const last = iova + size - 1n;
  for (const m of maps) if (BigInt(m.iova) >= iova && BigInt(m.iova) <= last) out.push(m);
  return out;
}

/** the TYPE1v2 / GET_BITMAP bisect checks: a mapping holding the range's first byte starts there, one holding its last byte ends after it */
function bisects(maps: readonly DirtyMap[], iova: bigint, size: bigint): boolean {
  const last = iova + size - 1n;
  for (const m of maps) {
    const a = BigInt(m.iova);
    const e = a + BigInt(m.size);
    if (a <= iova && iova < e && a !== iova) return true;
    if (a <= last && last < e && e !== iova + size) return true;
  }
  return false;
}

/** what a DIRTY_PAGES call should answer: its result (null: not predicted) and, for GET_BITMAP, the mappings it reports */
export interface DirtyPrediction {
  r: number | null;
  /** a walk that ran: the mappings reported, their base, the bitmap (checked when r is 0) */
  walk?: { maps: DirtyMap[]; base: bigint; data: bigint };
  /** the walk's result is 0 or -EFAULT, not predicted further */
  zeroOrFault?: boolean;
}

/**
 * VFIO_IOMMU_DIRTY_PAGES on a container whose IOMMU is set: `v2` (TYPE1v2 or nesting), whether
 * tracking is on, the container's mappings in IOVA order
 */
export function predictDirtyPages(d: DirtyArg, v2: boolean, tracking: boolean, maps: readonly DirtyMap[], writable: Writable): DirtyPrediction {
  if (!v2) return { r: -EACCES };
  const mask = DIRTY_START | DIRTY_STOP | DIRTY_GET_BITMAP;
  if (d.argsz < 8 || (d.flags & ~mask) !== 0 || (d.flags & (d.flags - 1)) !== 0) return { r: -EINVAL };
  if (d.flags === DIRTY_START || d.flags === DIRTY_STOP) return { r: 0 };
  if (d.flags !== DIRTY_GET_BITMAP) return { r: -EINVAL };
  if (d.argsz - 8 < 40) return { r: -EINVAL };
  if (!d.whole) return { r: null };
  if (d.iova + d.range >= TWO64) return { r: -EINVAL };
  if (!bitmapOk(d, d.range)) return { r: -EINVAL };
  const pg = BigInt(DIRTY_PGSIZE);
  if (d.pgsize !== pg || d.iova % pg !== 0n || d.range === 0n || d.range % pg !== 0n || !tracking) return { r: -EINVAL };
  // vfio_iova_dirty_bitmap takes a size_t: the low 32 bits of a larger size (not followed)
  if (d.range >= 2n ** 32n) return { r: null };
  if (bisects(maps, d.iova, d.range)) return { r: -EINVAL };
  const walked = startingIn(maps, d.iova, d.range);
  const p = predictReports(walked, d.iova, d.data, writable);
  if (p === null) return { r: null, zeroOrFault: true };
  return { r: p.r, walk: p.r === 0 ? { maps: walked, base: d.iova, data: d.data } : undefined };
}

/** what an UNMAP_DMA with GET_DIRTY_BITMAP should do */
export interface UnmapBitmapPrediction {
  /** the result; null: 0 or -EFAULT, not predicted further (the walk) */
  r: number | null;
  /** the mappings removed (the walk's reports before a failed copy, or all of them) */
  removed: DirtyMap[];
  walk?: { maps: DirtyMap[]; base: bigint; data: bigint };
}

/**
 * UNMAP_DMA with flags including GET_DIRTY_BITMAP, its struct at an ok pointer, on a container
 * whose IOMMU is set (mainline flags: GET_DIRTY_BITMAP | ALL | VADDR)
 */
export function predictUnmapBitmap(argsz: number, flags: number, iova: bigint, size: bigint, b: BitmapArg, v2: boolean, tracking: boolean, maps: readonly DirtyMap[], writable: Writable): UnmapBitmapPrediction {
  const none: DirtyMap[] = [];
  if (argsz < 24 || (flags & ~7) !== 0 || (flags & UNMAP_ALL_OR_VADDR) !== 0) return { r: -EINVAL, removed: none };
  if (argsz < 48) return { r: -EINVAL, removed: none };
  if (!bitmapOk(b, size)) return { r: -EINVAL, removed: none };
  const pg = BigInt(DIRTY_PGSIZE);
  if (iova % pg !== 0n || size === 0n || size % pg !== 0n || iova + size > TWO64 || size > 0xffffffffn) return { r: -EINVAL, removed: none };
  if (!tracking || b.pgsize !== pg) return { r: -EINVAL, removed: none };
  if (v2 && bisects(maps, iova, size)) return { r: -EINVAL, removed: none };
  // the walk (vfio_dma_do_unmap): from the first mapping meeting the range; TYPE1 stops at one starting before it
  const walked: DirtyMap[] = [];
  const end = iova + size;
  for (const m of maps) {
    const a = BigInt(m.iova);
    if (a + BigInt(m.size) <= iova) continue;
    if (a >= end) break;
    if (!v2 && a < iova) break;
    walked.push(m);
  }
  const p = predictReports(walked, iova, b.data, writable);
  if (p === null) return { r: null, removed: walked };
  return { r: p.r, removed: walked.slice(0, p.reported), walk: p.r === 0 ? { maps: walked, base: iova, data: b.data } : undefined };
}

/** the bitmap of a struct's fields (pgsize, bitmap_size, data) */
export function bitmapOf(f: (n: string) => bigint): BitmapArg {
  return { pgsize: f('pgsize'), size: f('bitmap_size'), data: f('data') };
}
