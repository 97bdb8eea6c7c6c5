/**
 * vfio_iommu_type1_ioctl's requests on a container that has its IOMMU (drivers/vfio/vfio_iommu_type1.c;
 * CHECK_EXTENSION, answered before SET_IOMMU too, stays with the driver in type1.ts): the
 * argument structs copied in and checked as the 2014 driver and mainline check them, by
 * capability (`dmaMapBit2`, `iommuInfoPgsizes`, `type1InfoCaps`, `type1UnmapAll`,
 * `type1UnmapRule`, `type1DmaEntryLimit`, `type1IovaAperture`):
 * - VFIO_IOMMU_GET_INFO (vfio_iommu_type1_get_info, with mainline's capability chain),
 * - VFIO_IOMMU_MAP_DMA (vfio_dma_do_map, and its set_vaddr path for VFIO_DMA_MAP_FLAG_VADDR),
 * - VFIO_IOMMU_UNMAP_DMA (vfio_iommu_type1_unmap_dma, vfio_dma_do_unmap),
 * - VFIO_IOMMU_DIRTY_PAGES (mainline vfio_iommu_type1_dirty_pages, `type1DirtyPages`: type1-dirty.ts).
 * What a request does to the mappings (pin, map, link, unmap, unpin, invalidate) is in
 * type1-dma.ts; the IOVA list it checks against in type1-iova.ts. The argument structs are
 * read into and written back from the driver's one scratch buffer (no allocation per call but
 * GET_INFO's capability chain).
 */
import { EEXIST, EFAULT, EINVAL, ENOENT, ENOSPC, ENOTTY } from '../base/errno.js';
import { IOMMU_EXEC, IOMMU_READ, IOMMU_WRITE } from '../iommu/types.js';
import type { AddressSpace } from '../process/mm.js';
import {
  VFIO_DMA_MAP_FLAG_EXEC,
  VFIO_DMA_MAP_FLAG_READ,
  VFIO_DMA_MAP_FLAG_VADDR,
  VFIO_DMA_MAP_FLAG_WRITE,
  VFIO_IOMMU_DIRTY_PAGES,
  VFIO_IOMMU_GET_INFO,
  VFIO_IOMMU_INFO_PGSIZES,
  VFIO_IOMMU_MAP_DMA,
  VFIO_IOMMU_UNMAP_DMA,
} from '../uapi/constants.js';
import type { Task } from '../vfs/file.js';
import { changeDmaOwner, invalidateVaddr, mapDma, removeRange, removeWhole, smallestPgsize, type Type1Ctx, type Type1Iommu } from './type1-dma.js';
import { dirtyPagesIoctl, dmaBitmapAlloc, unmapBitmapCheck, unmapBitmapIn, unmapBitmapReport } from './type1-dirty.js';
import { iovaDmaValid } from './type1-iova.js';

const TWO32 = 2 ** 32;
const TWO64 = 2n ** 64n;
const VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP = 1 << 0;
const VFIO_DMA_UNMAP_FLAG_ALL = 1 << 1;
const VFIO_DMA_UNMAP_FLAG_VADDR = 1 << 2;
const VFIO_IOMMU_INFO_CAPS = 1 << 1;

/** the driver as the ioctls use it: Type1Ctx and the scratch buffer the argument structs pass through */
export interface Type1IoctlCtx extends Type1Ctx {
  /** 48 bytes: the largest struct read (vfio_iommu_type1_dma_unmap + struct vfio_bitmap) */
  readonly sbuf: Uint8Array;
  /** a DataView of sbuf */
  readonly sview: DataView;
}

/** GET_INFO, MAP_DMA and UNMAP_DMA on container `it` for `task`; any other request -ENOTTY */
export function type1Ioctl(drv: Type1IoctlCtx, it: Type1Iommu, task: Task, cmd: number, arg: number): number {
  const mm = task.mm;
  const b = drv.sbuf;
  const v = drv.sview;
  switch (cmd) {
    case VFIO_IOMMU_GET_INFO: {
      if (mm.copyFromUser(b, 0, arg, 16) < 0) return -EFAULT;
      if (v.getUint32(0, true) < 16) return -EINVAL;
      // the 2014 type1 writes flags 0; mainline reports PGSIZES
      v.setUint32(4, drv.caps.iommuInfoPgsizes ? VFIO_IOMMU_INFO_PGSIZES : 0, true);
      v.setUint32(8, it.domain.pgsizeBitmap >>> 0, true);
      v.setUint32(12, Math.floor(it.domain.pgsizeBitmap / TWO32) >>> 0, true);
      if (drv.caps.type1InfoCaps) return infoCaps(it, mm, arg, v.getUint32(0, true));
      return mm.copyToUser(arg, b, 0, 16) < 0 ? -EFAULT : 0;
    }
    case VFIO_IOMMU_MAP_DMA: {
      if (mm.copyFromUser(b, 0, arg, 32) < 0) return -EFAULT;
      const flags = v.getUint32(4, true);
      let mask = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE;
      if (drv.caps.dmaMapBit2 === 'vaddr') mask |= VFIO_DMA_MAP_FLAG_VADDR;
      else if (drv.caps.dmaMapBit2 === 'exec') mask |= VFIO_DMA_MAP_FLAG_EXEC;
      if (v.getUint32(0, true) < 32 || (flags & ~mask) !== 0) return -EINVAL;
      return doMap(drv, it, mm, flags, v.getBigUint64(8, true), v.getBigUint64(16, true), v.getBigUint64(24, true), task);
    }
    case VFIO_IOMMU_UNMAP_DMA: {
      if (mm.copyFromUser(b, 0, arg, 24) < 0) return -EFAULT;
      const uflags = v.getUint32(4, true);
      const uargsz = v.getUint32(0, true);
      // mainline vfio_iommu_type1_unmap_dma: flags outside GET_DIRTY_BITMAP|VADDR|ALL are -EINVAL
      // (3.14: flags must be 0)
      let umask = 0;
      if (drv.caps.type1UnmapAll) umask |= VFIO_DMA_UNMAP_FLAG_ALL;
      if (drv.caps.type1DirtyPages) umask |= VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP;
      if (drv.caps.dmaMapBit2 === 'vaddr') umask |= VFIO_DMA_UNMAP_FLAG_VADDR;
      if (uargsz < 24 || (uflags & ~umask) !== 0) return -EINVAL;
      let bitmap: ReturnType<typeof unmapBitmapIn> | null = null;
      if (uflags & VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP) {
        // GET_DIRTY_BITMAP with ALL or VADDR -EINVAL; then the struct vfio_bitmap behind the
        // unmap struct (type1-dirty.ts unmapBitmapIn)
        if (uflags & (VFIO_DMA_UNMAP_FLAG_ALL | VFIO_DMA_UNMAP_FLAG_VADDR)) return -EINVAL;
        bitmap = unmapBitmapIn(mm, arg, uargsz, v.getBigUint64(16, true));
        if (typeof bitmap === 'number') return bitmap;
      }
      const r = doUnmap(drv, it, v.getBigUint64(8, true), v.getBigUint64(16, true), (uflags & VFIO_DMA_UNMAP_FLAG_ALL) !== 0, (uflags & VFIO_DMA_UNMAP_FLAG_VADDR) !== 0, bitmap === null ? null : { bm: bitmap, mm });
      if (r < 0) return r;
      v.setBigUint64(16, BigInt(r), true);
      return mm.copyToUser(arg, b, 0, 24) < 0 ? -EFAULT : 0;
    }
    case VFIO_IOMMU_DIRTY_PAGES:
      return drv.caps.type1DirtyPages ? dirtyPagesIoctl(it, mm, arg) : -ENOTTY;
    default:
      return -ENOTTY;
  }
}

/** the smallest page size of the domain, less one: the alignment MAP_DMA and UNMAP_DMA require */
function minMask(it: Type1Iommu): number {
  return smallestPgsize(it) - 1;
}

function doMap(drv: Type1IoctlCtx, it: Type1Iommu, mm: AddressSpace, flags: number, vaddrB: bigint, iovaB: bigint, sizeB: bigint, task: Task): number {
  // vaddr and size are unsigned long / size_t on 32-bit ARM: larger values do not fit
  if (vaddrB >= BigInt(TWO32) || sizeB >= BigInt(TWO32)) return -EINVAL;
  // model limit: an iova beyond 2^52 cannot be represented (and is beyond any SMMU IAS). With
  // the IOVA aperture (mainline) its answer is known and comes where the kernel gives it, after
  // the flag, alignment and wrap checks: nothing is mapped there, so VADDR -ENOENT, else
  // -ENOSPC when no entry is left, else -EINVAL from vfio_iommu_iova_dma_valid
  const far = iovaB >= 2n ** 52n;
  if (far && !drv.caps.type1IovaAperture) return -EINVAL;
  const vaddr = Number(vaddrB);
  const iova = Number(iovaB);
  const size = Number(sizeB);
  const mask = minMask(it);
  if (drv.caps.dmaMapBit2 === 'vaddr' && (flags & VFIO_DMA_MAP_FLAG_VADDR) !== 0) {
    // mainline vfio_dma_do_map with VFIO_DMA_MAP_FLAG_VADDR (set_vaddr): READ or WRITE with it
    // -EINVAL; size, iova and vaddr aligned, size non-zero, no IOVA or vaddr wrap (-EINVAL)
    if ((flags & (VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE)) !== 0) return -EINVAL;
    if (!size || size % (mask + 1) !== 0 || iova % (mask + 1) !== 0 || vaddr % (mask + 1) !== 0) return -EINVAL;
    if (iovaB + sizeB > TWO64 || vaddr + size > TWO32) return -EINVAL;
    if (far) return -ENOENT;
    // vfio_find_dma(iommu, iova, size): no mapping overlaps the range -ENOENT; the one found
    // must be exactly [iova, iova + size) and have its vaddr invalidated, else -EINVAL
    const d = it.dmas.find((x) => x.iova < iova + size && iova < x.iova + x.size);
    if (!d) return -ENOENT;
    if (!d.vaddrInvalid || d.iova !== iova || d.size !== size) return -EINVAL;
    // vfio_change_dma_owner (type1-dma.ts): a vaddr from another mm moves the locked_vm there
    const owner = changeDmaOwner(d, mm, task);
    if (owner) return owner;
    d.vaddr = vaddr;
    d.vaddrInvalid = false;
    it.vaddrInvalidCount--;
    return 0;
  }
  let prot = 0;
  if (flags & VFIO_DMA_MAP_FLAG_WRITE) prot |= IOMMU_WRITE;
  if (flags & VFIO_DMA_MAP_FLAG_READ) prot |= IOMMU_READ;
  if (drv.caps.dmaMapBit2 === 'exec' && (flags & VFIO_DMA_MAP_FLAG_EXEC)) prot |= IOMMU_EXEC;
  if (!prot) return -EINVAL;
  if (!size || size % (mask + 1) !== 0 || iova % (mask + 1) !== 0 || vaddr % (mask + 1) !== 0) return -EINVAL;
  if (iovaB + sizeB > TWO64) return -EINVAL;
  if (vaddr + size > TWO32) return -EINVAL;
  if (far) return drv.caps.type1DmaEntryLimit > 0 && it.dmaAvail <= 0 ? -ENOSPC : -EINVAL;
  for (const d of it.dmas) if (d.iova < iova + size && iova < d.iova + d.size) return -EEXIST;
  // mainline vfio_dma_do_map: `if (!iommu->dma_avail) return -ENOSPC` (dma_entry_limit)
  if (drv.caps.type1DmaEntryLimit > 0 && it.dmaAvail <= 0) return -ENOSPC;
  // mainline vfio_dma_do_map -> vfio_iommu_iova_dma_valid: [iova, iova + size - 1] inside one
  // range of the IOVA list (the aperture minus the reserved regions; an empty list accepts all).
  // Pinning the new range needs only its own vaddr: other mappings' invalidated vaddrs do not
  // matter (today's vfio_dma_do_map has no vaddr_invalid_count check)
  if (drv.caps.type1IovaAperture && !iovaDmaValid(it.iovaList, iova, iova + size - 1)) return -EINVAL;
  const r = mapDma(drv, it, mm, task, iova, size, vaddr, prot);
  // mainline vfio_dma_do_map: a mapping made while dirty tracking is on gets its bitmap
  // (vfio_dma_bitmap_alloc; it cannot fail for a 32-bit size)
  if (r === 0 && it.dirtyPageTracking) {
    const d = it.dmas.find((x) => x.iova === iova);
    if (d) dmaBitmapAlloc(d, mask + 1);
  }
  return r;
}

function doUnmap(drv: Type1IoctlCtx, it: Type1Iommu, iovaB: bigint, sizeB: bigint, all: boolean, invalidate: boolean, dirty: { bm: { pgsize: bigint; data: number }; mm: AddressSpace } | null): number {
  if (all) {
    // mainline vfio_dma_do_unmap: UNMAP_FLAG_ALL needs iova and size 0
    if (iovaB !== 0n || sizeB !== 0n) return -EINVAL;
    if (invalidate) return invalidateVaddr(it, 0, Number.MAX_SAFE_INTEGER, false);
    return removeWhole(drv, it, 0, Number.MAX_SAFE_INTEGER, false);
  }
  const mask = BigInt(minMask(it));
  if (!sizeB || (sizeB & mask) !== 0n || (iovaB & mask) !== 0n) return -EINVAL;
  // mainline vfio_dma_do_unmap: `iova + size - 1 < iova || size > SIZE_MAX` (size_t: 32 bits here)
  if (drv.caps.type1UnmapRule === 'whole-mappings' && (iovaB + sizeB > TWO64 || sizeB >= BigInt(TWO32))) return -EINVAL;
  // mainline: with GET_DIRTY_BITMAP, tracking must be on and the bitmap's pgsize the smallest
  if (dirty) {
    const c = unmapBitmapCheck(it, dirty.bm);
    if (c) return c;
  }
  if (iovaB >= 2n ** 52n) return 0; // nothing can be mapped there
  const iova = Number(iovaB);
  const end = iovaB + sizeB >= 2n ** 52n ? Number.MAX_SAFE_INTEGER : Number(iovaB + sizeB);
  if (drv.caps.type1UnmapRule === 'whole-mappings') {
    if (invalidate) return invalidateVaddr(it, iova, end, !it.v2);
    return removeWhole(drv, it, iova, end, !it.v2, dirty ? (d) => unmapBitmapReport(dirty.mm, it, dirty.bm, d, iovaB) : undefined);
  }
  return removeRange(drv, it, iova, end);
}

/**
 * mainline vfio_iommu_type1_get_info: the capability chain as vfio_iommu_migration_build_caps,
 * vfio_iommu_dma_avail_build_caps and vfio_iommu_iova_build_caps add it (vfio_info_cap_add,
 * each capability 8-byte aligned), shifted behind the 24-byte struct vfio_iommu_type1_info
 * (vfio_info_cap_shift). A buffer too small for it gets argsz raised and no chain; the
 * fixed part is copied up to cap_offset when argsz covers it.
 */
function infoCaps(it: Type1Iommu, mm: AddressSpace, arg: number, argsz: number): number {
  const INFO = 24;
  // vfio_iommu_iova_build_caps: one range per IOVA list entry (split around reserved regions);
  // no capability when the list is empty
  const ranges = it.iovaList;
  const migration = 32;
  const avail = 16;
  const iova = ranges.length > 0 ? 16 + 16 * ranges.length : 0;
  const total = INFO + migration + avail + iova;
  const buf = new Uint8Array(total);
  const dv = new DataView(buf.buffer);
  dv.setUint32(0, argsz, true);
  dv.setUint32(4, VFIO_IOMMU_INFO_PGSIZES | VFIO_IOMMU_INFO_CAPS, true);
  dv.setUint32(8, it.domain.pgsizeBitmap >>> 0, true);
  dv.setUint32(12, Math.floor(it.domain.pgsizeBitmap / TWO32) >>> 0, true);
  const header = (off: number, id: number, next: number): void => {
    dv.setUint16(off, id, true);
    dv.setUint16(off + 2, 1, true);
    dv.setUint32(off + 4, next, true);
  };
  // VFIO_IOMMU_TYPE1_INFO_CAP_MIGRATION (vfio_iommu_migration_build_caps): flags 0, pgsize_bitmap
  // the smallest page size only (`(size_t)1 << __ffs(iommu->pgsize_bitmap)`, "support minimum
  // pgsize": the one GET_BITMAP accepts), max_dirty_bitmap_size (DIRTY_BITMAP_SIZE_MAX: INT_MAX
  // pages rounded to u64 words, in bytes = 2^28)
  let o = INFO;
  header(o, 2, o + migration);
  dv.setUint32(o + 8, 0, true);
  dv.setUint32(o + 16, minMask(it) + 1, true);
  dv.setUint32(o + 20, 0, true);
  dv.setBigUint64(o + 24, 1n << 28n, true);
  // VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL: avail
  o += migration;
  header(o, 3, iova > 0 ? o + avail : 0);
  dv.setUint32(o + 8, it.dmaAvail >>> 0, true);
  // VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE: nr_iovas, reserved, ranges (start, end inclusive)
  o += avail;
  if (iova > 0) {
    header(o, 1, 0);
    dv.setUint32(o + 8, ranges.length, true);
    ranges.forEach(([s, e], k) => {
      dv.setBigUint64(o + 16 + 16 * k, BigInt(s), true);
      dv.setBigUint64(o + 24 + 16 * k, BigInt(e), true);
    });
  }
  // `minsz = min_t(size_t, info.argsz, sizeof(info))`: as much of the zero-initialised 24-byte
  // struct as argsz covers, cap_offset (0 unless the chain fits) and the padding after it included
  const copy = Math.min(argsz, INFO);
  if (argsz < total) {
    dv.setUint32(0, total, true);
    return mm.copyToUser(arg, buf, 0, copy) < 0 ? -EFAULT : 0;
  }
  dv.setUint32(16, INFO, true);
  if (mm.copyToUser(arg + INFO, buf, INFO, total - INFO) < 0) return -EFAULT;
  return mm.copyToUser(arg, buf, 0, copy) < 0 ? -EFAULT : 0;
}
