/**
 * Mainline vfio_iommu_type1's dirty page tracking (`type1DirtyPages`; drivers/vfio/vfio_iommu_type1.c
 * of today, added in 5.8 by the "vfio iommu: ... dirty pages tracking" series with the GET_INFO
 * migration capability): VFIO_IOMMU_DIRTY_PAGES (vfio_iommu_type1_dirty_pages: START, STOP,
 * GET_BITMAP) and UNMAP_DMA's VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP (vfio_iommu_type1_unmap_dma,
 * vfio_dma_do_unmap), on this 32-bit ARM kernel.
 *
 * Each struct vfio_dma gets a bitmap of `unsigned long` words while tracking is on
 * (vfio_dma_bitmap_alloc: DIRTY_BITMAP_BYTES(npages) plus one u64, zeroed). No page is ever
 * pinned through vfio_pin_pages here (no emulated/mdev group), so vfio_dma_populate_bitmap sets
 * nothing and every attached group counts in num_non_pinned_groups: update_user_bitmap marks
 * the whole mapping dirty each time it reports it (`bitmap_set(dma->bitmap, 0, nbits)`).
 *
 * update_user_bitmap is modelled word for word as a 32-bit kernel runs it, where
 * BITS_PER_LONG is 32 but the user bitmap is a `u64 __user *`: `copy_offset = bit_offset /
 * BITS_PER_LONG` counts 32-bit words while `bitmap + copy_offset` advances in u64 units, so
 * a mapping that starts 32 or more pages after the request's base has its bits (and the
 * leftover word it merges) written at twice the right byte offset: bits land on other pages'
 * positions, and past the end of a bitmap sized exactly for the range (verify_bitmap_size
 * checks the size only). On a 64-bit kernel the two units agree. Model prediction, from the
 * source; not observed on hardware (docs/VFIO.md, "Dirty page tracking").
 */
import { EACCES, EFAULT, EINVAL } from '../base/errno.js';
import { accessOk, type AddressSpace } from '../process/mm.js';
import { smallestPgsize, type Type1Iommu, type VfioDma } from './type1-dma.js';

export const VFIO_IOMMU_DIRTY_PAGES_FLAG_START = 1 << 0;
export const VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP = 1 << 1;
export const VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP = 1 << 2;

/** struct vfio_bitmap on 32-bit ARM: pgsize (u64), size (u64), data (a 4-byte pointer, padded to 8) */
export const VFIO_BITMAP_SIZE = 24;
/** struct vfio_iommu_type1_dirty_bitmap_get: iova, size, struct vfio_bitmap */
const DIRTY_BITMAP_GET_SIZE = 16 + VFIO_BITMAP_SIZE;
/** DIRTY_BITMAP_PAGES_MAX = INT_MAX pages; DIRTY_BITMAP_SIZE_MAX = DIRTY_BITMAP_BYTES(INT_MAX) = 2^28 */
const DIRTY_BITMAP_PAGES_MAX = 0x7fffffff;
const DIRTY_BITMAP_SIZE_MAX = 2n ** 28n;
const TWO64 = 2n ** 64n;

/** DIRTY_BITMAP_BYTES(n): n bits rounded up to u64 words, in bytes */
function dirtyBitmapBytes(n: bigint): bigint {
  return ((n + 63n) / 64n) * 8n;
}

/**
 * __ffs of an `unsigned long` (32 bits here: a u64 argument loses its high word). __ffs(0) is
 * -1 on ARM (ffs(x) - 1), 0xffffffff as unsigned long; a u64 shifted by it is 0 (the shift
 * amount's low byte is 255), which the callers see as "no pages".
 */
function ffs32(v: bigint): number {
  const x = Number(v & 0xffffffffn);
  if (x === 0) return -1;
  return 31 - Math.clz32(x & -x);
}

/** `u64 >> __ffs(pgsize)` as compiled for 32-bit ARM (see ffs32) */
function pagesOf(size: bigint, pgsize: bigint): bigint {
  const s = ffs32(pgsize);
  return s < 0 ? 0n : size >> BigInt(s);
}

/** access_ok(ptr, size) of a __u64 size: the size truncated to the 32-bit unsigned long ARM passes */
function accessOk64(ptr: number, size: bigint): boolean {
  return accessOk(ptr, Number(size & 0xffffffffn));
}

/** verify_bitmap_size: -EINVAL for no pages, no bitmap, a bitmap over DIRTY_BITMAP_SIZE_MAX or too small */
function verifyBitmapSize(npages: bigint, bitmapSize: bigint): number {
  if (npages === 0n || bitmapSize === 0n || bitmapSize > DIRTY_BITMAP_SIZE_MAX || bitmapSize < dirtyBitmapBytes(npages)) return -EINVAL;
  return 0;
}

/** struct vfio_bitmap as read from user space */
interface VfioBitmap {
  pgsize: bigint;
  size: bigint;
  /** the `__u64 __user *data` pointer: 4 bytes on this ABI */
  data: number;
}

/** struct vfio_bitmap at `at` (copy_from_user: -EFAULT) */
function readBitmap(mm: AddressSpace, at: number): VfioBitmap | number {
  const b = new Uint8Array(VFIO_BITMAP_SIZE);
  if (mm.copyFromUser(b, 0, at, VFIO_BITMAP_SIZE) < 0) return -EFAULT;
  const v = new DataView(b.buffer);
  return { pgsize: v.getBigUint64(0, true), size: v.getBigUint64(8, true), data: v.getUint32(16, true) };
}

/** access_ok of the bitmap, then verify_bitmap_size for `bytes` of IOVA space: 0 or -EINVAL */
function bitmapUsable(bm: VfioBitmap, bytes: bigint): number {
  if (!accessOk64(bm.data, bm.size)) return -EINVAL;
  return verifyBitmapSize(pagesOf(bytes, bm.pgsize), bm.size);
}

/**
 * vfio_dma_bitmap_alloc: DIRTY_BITMAP_BYTES(npages) + sizeof(u64) bytes of zeroed `unsigned
 * long` words (the extra u64 takes the bits update_user_bitmap shifts out); -EINVAL above
 * DIRTY_BITMAP_PAGES_MAX pages (not reachable with a 32-bit size)
 */
export function dmaBitmapAlloc(dma: VfioDma, pgsize: number): number {
  const npages = Math.floor(dma.size / pgsize);
  if (npages > DIRTY_BITMAP_PAGES_MAX) return -EINVAL;
  dma.bitmap = new Uint32Array(Number(dirtyBitmapBytes(BigInt(npages)) + 8n) / 4);
  return 0;
}

/** vfio_dma_bitmap_alloc_all (vfio_dma_populate_bitmap sets nothing: no vfio_pin_pages pins) */
function dmaBitmapAllocAll(it: Type1Iommu, pgsize: number): number {
  for (let i = 0; i < it.dmas.length; i++) {
    const r = dmaBitmapAlloc(it.dmas[i]!, pgsize);
    if (r) {
      for (let k = 0; k < i; k++) it.dmas[k]!.bitmap = null;
      return r;
    }
  }
  return 0;
}

/** bitmap_set(map, 0, n) */
function bitmapSetFirst(map: Uint32Array, n: number): void {
  let i = 0;
  for (; n >= 32; n -= 32) map[i++] = 0xffffffff;
  if (n > 0) map[i] = (map[i]! | ((1 << n) - 1)) >>> 0;
}

/** bitmap_clear(map, 0, n) */
function bitmapClearFirst(map: Uint32Array, n: number): void {
  let i = 0;
  for (; n >= 32; n -= 32) map[i++] = 0;
  if (n > 0) map[i] = (map[i]! & ~((1 << n) - 1)) >>> 0;
}

/** __bitmap_shift_left(map, map, shift, nbits) for 0 < shift < 32: BITS_TO_LONGS(nbits) words, top down, no mask */
function bitmapShiftLeft(map: Uint32Array, shift: number, nbits: number): void {
  const lim = Math.ceil(nbits / 32);
  for (let k = lim - 1; k >= 0; k--) {
    const lower = k > 0 ? map[k - 1]! >>> (32 - shift) : 0;
    map[k] = ((map[k]! << shift) | lower) >>> 0;
  }
}

/**
 * update_user_bitmap(bitmap, iommu, dma, base_iova, pgsize) on a 32-bit kernel (the file
 * comment): 0 or -EFAULT
 */
function updateUserBitmap(mm: AddressSpace, data: number, it: Type1Iommu, dma: VfioDma, base: bigint, pgsize: number): number {
  const map = dma.bitmap!;
  const pgshift = ffs32(BigInt(pgsize));
  const nbits = dma.size >>> pgshift;
  // (dma->iova - base_iova) >> pgshift, kept in an unsigned long
  const bitOffset = Number(((BigInt(dma.iova) - base) & (TWO64 - 1n)) >> BigInt(pgshift)) % 2 ** 32;
  const copyOffset = Math.floor(bitOffset / 32);
  const shift = bitOffset % 32;
  // `bitmap + copy_offset` on a u64 pointer: 8 bytes per unit, wrapping at 2^32
  const at = (data + copyOffset * 8) % 2 ** 32;
  if (it.groups.length > 0) bitmapSetFirst(map, nbits);
  if (shift) {
    bitmapShiftLeft(map, shift, nbits + shift);
    const lo = new Uint8Array(4);
    if (mm.copyFromUser(lo, 0, at, 4) < 0) return -EFAULT;
    // __bitmap_or over BITS_TO_LONGS(shift) = 1 word: the whole leftover word is or-ed in
    map[0] = (map[0]! | new DataView(lo.buffer).getUint32(0, true)) >>> 0;
  }
  const bytes = Number(dirtyBitmapBytes(BigInt(nbits + shift)));
  return mm.copyToUser(at, new Uint8Array(map.buffer, map.byteOffset, bytes), 0, bytes) < 0 ? -EFAULT : 0;
}

/** vfio_find_dma(iommu, start, size) over u64 arithmetic: the mapping [start, start + size) meets */
function findDma(it: Type1Iommu, start: bigint, size: bigint): VfioDma | undefined {
  for (const d of it.dmas) {
    const iova = BigInt(d.iova);
    if (!(start + size <= iova) && !(start >= iova + BigInt(d.size))) return d;
  }
  return undefined;
}

/**
 * vfio_iova_dirty_bitmap: the range must not bisect a mapping (-EINVAL); each mapping starting
 * in it is reported (update_user_bitmap) and its bitmap cleared and repopulated (nothing to
 * repopulate). `size` is a size_t: its low 32 bits.
 */
function iovaDirtyBitmap(mm: AddressSpace, data: number, it: Type1Iommu, iova: bigint, size32: bigint, pgsize: number): number {
  const last = (iova + size32 - 1n) & (TWO64 - 1n);
  let d = findDma(it, iova, 1n);
  if (d && BigInt(d.iova) !== iova) return -EINVAL;
  d = findDma(it, last, 0n);
  if (d && BigInt(d.iova + d.size) !== ((iova + size32) & (TWO64 - 1n))) return -EINVAL;
  const pgshift = ffs32(BigInt(pgsize));
  for (const dma of it.dmas) {
    const di = BigInt(dma.iova);
    if (di < iova) continue;
    if (di > last) break;
    const r = updateUserBitmap(mm, data, it, dma, iova, pgsize);
    if (r) return r;
    bitmapClearFirst(dma.bitmap!, dma.size >>> pgshift);
  }
  return 0;
}

/**
 * vfio_iommu_type1_dirty_pages: a TYPE1 (v1) container -EACCES before anything is read; the
 * 8-byte head (-EFAULT), argsz < 8 or an unknown flag -EINVAL, more than one flag -EINVAL (no
 * flag: -EINVAL at the end). START allocates every mapping's bitmap once (tracking on), STOP
 * frees them; GET_BITMAP reads struct vfio_iommu_type1_dirty_bitmap_get behind the head (argsz
 * must leave 40 bytes for it: -EINVAL, -EFAULT), then -EINVAL for an iova + size that wraps, a
 * bitmap outside user space (access_ok), a bitmap size verify_bitmap_size refuses, a pgsize
 * other than the domain's smallest, an unaligned iova or size, a zero size, tracking off, or a
 * range that bisects a mapping; -EFAULT from the bitmap's copy.
 */
export function dirtyPagesIoctl(it: Type1Iommu, mm: AddressSpace, arg: number): number {
  if (!it.v2) return -EACCES;
  const head = new Uint8Array(8);
  if (mm.copyFromUser(head, 0, arg, 8) < 0) return -EFAULT;
  const hv = new DataView(head.buffer);
  const argsz = hv.getUint32(0, true);
  const flags = hv.getUint32(4, true);
  const mask = VFIO_IOMMU_DIRTY_PAGES_FLAG_START | VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP | VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP;
  if (argsz < 8 || (flags & ~mask) !== 0) return -EINVAL;
  // __ffs(flags) != __fls(flags): more than one flag
  if ((flags & (flags - 1)) !== 0) return -EINVAL;
  const pgsize = smallestPgsize(it);
  if (flags & VFIO_IOMMU_DIRTY_PAGES_FLAG_START) {
    if (it.dirtyPageTracking) return 0;
    const r = dmaBitmapAllocAll(it, pgsize);
    if (!r) it.dirtyPageTracking = true;
    return r;
  }
  if (flags & VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP) {
    if (it.dirtyPageTracking) {
      it.dirtyPageTracking = false;
      for (const d of it.dmas) d.bitmap = null;
    }
    return 0;
  }
  if (flags & VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP) {
    if (argsz - 8 < DIRTY_BITMAP_GET_SIZE) return -EINVAL;
    // struct vfio_iommu_type1_dirty_bitmap_get: iova, size, then struct vfio_bitmap (one
    // copy_from_user of the 40 bytes in the kernel; either part faulting is -EFAULT)
    const rb = new Uint8Array(16);
    if (mm.copyFromUser(rb, 0, arg + 8, 16) < 0) return -EFAULT;
    const bm = readBitmap(mm, arg + 8 + 16);
    if (typeof bm === 'number') return bm;
    const rv = new DataView(rb.buffer);
    const iova = rv.getBigUint64(0, true);
    const size = rv.getBigUint64(8, true);
    if (iova + size >= TWO64) return -EINVAL;
    const v = bitmapUsable(bm, size);
    if (v) return v;
    const data = bm.data;
    if (bm.pgsize !== BigInt(pgsize)) return -EINVAL;
    if ((iova & BigInt(pgsize - 1)) !== 0n) return -EINVAL;
    if (size === 0n || (size & BigInt(pgsize - 1)) !== 0n) return -EINVAL;
    if (!it.dirtyPageTracking) return -EINVAL;
    return iovaDirtyBitmap(mm, data, it, iova, size & 0xffffffffn, pgsize);
  }
  return -EINVAL;
}

/**
 * vfio_iommu_type1_unmap_dma with VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP, what it checks before
 * vfio_dma_do_unmap: argsz must reach past struct vfio_bitmap (-EINVAL), which is copied in
 * (-EFAULT) from behind the 24-byte unmap struct; its bitmap within user space and large
 * enough for the unmap's pages (-EINVAL). Returns the bitmap or -errno.
 */
export function unmapBitmapIn(mm: AddressSpace, arg: number, argsz: number, unmapSize: bigint): { pgsize: bigint; data: number } | number {
  if (argsz < 24 + VFIO_BITMAP_SIZE) return -EINVAL;
  const bm = readBitmap(mm, arg + 24);
  if (typeof bm === 'number') return bm;
  const r = bitmapUsable(bm, unmapSize);
  return r ? r : { pgsize: bm.pgsize, data: bm.data };
}

/**
 * vfio_dma_do_unmap's bitmap part: before the walk, -EINVAL unless tracking is on and the
 * bitmap's pgsize is the domain's smallest; during it, each mapping about to be removed is
 * reported first (update_user_bitmap from the request's iova; -EFAULT stops the walk)
 */
export function unmapBitmapCheck(it: Type1Iommu, bm: { pgsize: bigint }): number {
  return !it.dirtyPageTracking || bm.pgsize !== BigInt(smallestPgsize(it)) ? -EINVAL : 0;
}

export function unmapBitmapReport(mm: AddressSpace, it: Type1Iommu, bm: { data: number }, dma: VfioDma, base: bigint): number {
  return updateUserBitmap(mm, bm.data, it, dma, base, smallestPgsize(it));
}
