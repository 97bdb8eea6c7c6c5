/**
 * iommufd's VFIO container compatibility (Linux v6.12 drivers/iommu/iommufd/vfio_compat.c):
 * the VFIO container ioctls answered on any iommufd fd (iommufd_vfio_ioctl: requests outside
 * iommufd's own range), against the context's compat IOAS (ictx->vfio_ioas), which VFIO's
 * group code creates when a group is attached to the iommufd (VFIO_GROUP_SET_CONTAINER with
 * an iommufd: iommufd_vfio_compat_ioas_create). With CONFIG_IOMMUFD_VFIO_CONTAINER the fd is
 * /dev/vfio/vfio itself. What differs from vfio_iommu_type1 is listed in docs/PROFILES.md
 * ("The iommufd compat container").
 */
import { EFAULT, EINVAL, ENODEV, ENOENT, ENOIOCTLCMD, EOPNOTSUPP } from '../../base/errno.js';
import type { Task } from '../../vfs/file.js';
import { IOMMU_CACHE, IOMMU_READ, IOMMU_WRITE } from '../types.js';
import {
  VFIO_API_VERSION,
  VFIO_CHECK_EXTENSION,
  VFIO_DMA_CC_IOMMU,
  VFIO_DMA_MAP_FLAG_READ,
  VFIO_DMA_MAP_FLAG_WRITE,
  VFIO_GET_API_VERSION,
  VFIO_IOMMU_GET_INFO,
  VFIO_IOMMU_INFO_PGSIZES,
  VFIO_IOMMU_MAP_DMA,
  VFIO_IOMMU_UNMAP_DMA,
  VFIO_SET_IOMMU,
  VFIO_TYPE1_IOMMU,
  VFIO_TYPE1v2_IOMMU,
  VFIO_UNMAP_ALL,
} from '../../uapi/constants.js';
import { ULONG_MAX } from './io-pagetable.js';
import { ioptMapUserPages } from './ioas.js';
import { ucmdRespond, type Ucmd } from './main.js';
import { Ioas, type IommufdCtx } from './objects.js';
import { PAGE_SIZE } from './pages.js';
import { IOMMU_VFIO_IOAS_CLEAR, IOMMU_VFIO_IOAS_GET, IOMMU_VFIO_IOAS_SET } from './uapi.js';

const VFIO_DMA_UNMAP_FLAG_ALL = 1 << 1;
const VFIO_IOMMU_INFO_CAPS = 1 << 1;
const VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE = 1;
const VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL = 3;
const VFIO_DMA_CC_IOMMU_EXT = VFIO_DMA_CC_IOMMU;

/** unsigned long on this 32-bit kernel: a u64 truncated */
function ulong(v: bigint): number {
  return Number(v & 0xffffffffn);
}

/** get_compat_ioas: the compat IOAS, -ENODEV when there is none */
function getCompatIoas(ictx: IommufdCtx): Ioas | number {
  return ictx.vfioIoas ?? -ENODEV;
}

/**
 * iommufd_vfio_compat_ioas_create (VFIO group attach): a new IOAS becomes the compat IOAS
 * unless one is already set; an auto-created one is a user object (IOMMU_VFIO_IOAS_GET
 * finds it, IOMMU_DESTROY may destroy it, the release of the fd does)
 */
export function vfioCompatIoasCreate(ictx: IommufdCtx): number {
  const ioas = new Ioas();
  ictx.reserve(ioas);
  if (ictx.vfioIoas !== null) {
    ictx.abort(ioas);
    return 0;
  }
  ictx.vfioIoas = ioas;
  ictx.finalize(ioas);
  return 0;
}

/** iommufd_vfio_compat_ioas_get_id: the compat IOAS's id, -ENODEV without one */
export function vfioCompatIoasGetId(ictx: IommufdCtx): number {
  const ioas = getCompatIoas(ictx);
  return typeof ioas === 'number' ? ioas : ioas.id;
}

/**
 * iommufd_vfio_ioas (IOMMU_VFIO_IOAS): __reserved (u16 at 10) -EOPNOTSUPP; GET: the compat
 * IOAS id at 4 (-ENODEV without one); SET: the IOAS at 4 (-ENOENT) becomes the compat IOAS;
 * CLEAR: none; another op -EOPNOTSUPP
 */
export function iommufdVfioIoas(u: Ucmd): number {
  const dv = u.dv;
  if (dv.getUint16(10, true) !== 0) return -EOPNOTSUPP;
  const op = dv.getUint16(8, true);
  if (op === IOMMU_VFIO_IOAS_GET) {
    const ioas = getCompatIoas(u.ictx);
    if (typeof ioas === 'number') return ioas;
    dv.setUint32(4, ioas.id, true);
    return ucmdRespond(u, 12);
  }
  if (op === IOMMU_VFIO_IOAS_SET) {
    const ioas = u.ictx.getIoas(dv.getUint32(4, true));
    if (ioas === null) return -ENOENT;
    u.ictx.vfioIoas = ioas;
    return 0;
  }
  if (op === IOMMU_VFIO_IOAS_CLEAR) {
    u.ictx.vfioIoas = null;
    return 0;
  }
  return -EOPNOTSUPP;
}

/**
 * iommufd_vfio_ioctl: GET_API_VERSION, SET_IOMMU, CHECK_EXTENSION, GET_INFO, MAP_DMA,
 * UNMAP_DMA; anything else (VFIO_IOMMU_DIRTY_PAGES included) -ENOIOCTLCMD
 */
export function iommufdVfioIoctl(ictx: IommufdCtx, task: Task, cmd: number, arg: number): number {
  switch (cmd) {
    case VFIO_GET_API_VERSION:
      return VFIO_API_VERSION;
    case VFIO_SET_IOMMU:
      return setIommu(ictx, arg);
    case VFIO_CHECK_EXTENSION:
      return checkExtension(ictx, arg >>> 0);
    case VFIO_IOMMU_GET_INFO:
      return getInfo(ictx, task, arg);
    case VFIO_IOMMU_MAP_DMA:
      return mapDma(ictx, task, arg);
    case VFIO_IOMMU_UNMAP_DMA:
      return unmapDma(ictx, task, arg);
    default:
      return -ENOIOCTLCMD;
  }
}

/**
 * iommufd_vfio_check_extension: TYPE1, TYPE1v2 and UNMAP_ALL 1; DMA_CC_IOMMU from
 * iommufd_vfio_cc_iommu (no compat IOAS -ENODEV, else 1 unless an HWPT of it does not enforce
 * cache coherency, which no arm-smmu HWPT does); VFIO_UPDATE_VADDR, the withdrawn
 * TYPE1_NESTING, NOIOMMU (CONFIG_VFIO_NOIOMMU off) and anything else 0
 */
function checkExtension(ictx: IommufdCtx, ext: number): number {
  switch (ext) {
    case VFIO_TYPE1_IOMMU:
    case VFIO_TYPE1v2_IOMMU:
    case VFIO_UNMAP_ALL:
      return 1;
    case VFIO_DMA_CC_IOMMU_EXT: {
      const ioas = getCompatIoas(ictx);
      if (typeof ioas === 'number') return ioas;
      return ioas.hwptList.every((h) => h.enforceCacheCoherency) ? 1 : 0;
    }
    default:
      return 0;
  }
}

/**
 * iommufd_vfio_set_iommu: a type other than TYPE1/TYPE1v2 -EINVAL; no compat IOAS (no group
 * attached) -ENODEV; TYPE1 disables large pages on the compat IOAS so any range can be cut
 * (iopt_disable_large_pages: -EINVAL once a domain holds mappings). Nothing records that it
 * was called: a second SET_IOMMU succeeds again.
 */
function setIommu(ictx: IommufdCtx, type: number): number {
  if (type !== VFIO_TYPE1_IOMMU && type !== VFIO_TYPE1v2_IOMMU) return -EINVAL;
  const ioas = getCompatIoas(ictx);
  if (typeof ioas === 'number') return ioas;
  if (type === VFIO_TYPE1_IOMMU) return ioas.iopt.disableLarge();
  return 0;
}

/**
 * iommufd_vfio_map_dma: the 32 bytes up to `size` (-EFAULT); argsz < 32 or flags other than
 * READ/WRITE -EINVAL; prot IOMMU_CACHE plus READ/WRITE (no check that either is given); no
 * compat IOAS -ENODEV; iopt_map_user_pages at the fixed iova (unsigned long: the low 32 bits
 * of the u64 fields), with the context's accounting
 */
function mapDma(ictx: IommufdCtx, task: Task, arg: number): number {
  const b = new Uint8Array(32);
  const dv = new DataView(b.buffer);
  if (task.mm.copyFromUser(b, 0, arg, 32) < 0) return -EFAULT;
  const flags = dv.getUint32(4, true);
  if (dv.getUint32(0, true) < 32 || (flags & ~(VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE)) !== 0) return -EINVAL;
  let prot = IOMMU_CACHE;
  if (flags & VFIO_DMA_MAP_FLAG_READ) prot |= IOMMU_READ;
  if (flags & VFIO_DMA_MAP_FLAG_WRITE) prot |= IOMMU_WRITE;
  const ioas = getCompatIoas(ictx);
  if (typeof ioas === 'number') return ioas;
  const r = ioptMapUserPages(ictx, task, ioas.iopt, ulong(dv.getBigUint64(16, true)), ulong(dv.getBigUint64(8, true)), ulong(dv.getBigUint64(24, true)), prot);
  return r < 0 ? r : 0;
}

/**
 * iommufd_vfio_unmap_dma: the 24 bytes up to `size` (-EFAULT); argsz < 24 or flags other
 * than UNMAP_FLAG_ALL -EINVAL (GET_DIRTY_BITMAP and VADDR included); no compat IOAS -ENODEV;
 * ALL needs iova and size 0 (-EINVAL) and unmaps everything; else, with large pages disabled
 * (a TYPE1 container), the areas are first cut at iova - 1 and iova + size - 1
 * (iopt_cut_iova), then iopt_unmap_iova (-ENOENT when nothing is mapped there or a mapping
 * sticks out). The bytes unmapped are written back in `size` whatever the result.
 */
function unmapDma(ictx: IommufdCtx, task: Task, arg: number): number {
  const b = new Uint8Array(24);
  const dv = new DataView(b.buffer);
  if (task.mm.copyFromUser(b, 0, arg, 24) < 0) return -EFAULT;
  const flags = dv.getUint32(4, true);
  if (dv.getUint32(0, true) < 24 || (flags & ~VFIO_DMA_UNMAP_FLAG_ALL) !== 0) return -EINVAL;
  const ioas = getCompatIoas(ictx);
  if (typeof ioas === 'number') return ioas;
  const iovaB = dv.getBigUint64(8, true);
  const sizeB = dv.getBigUint64(16, true);
  let rc: number;
  let unmapped = 0;
  if (flags & VFIO_DMA_UNMAP_FLAG_ALL) {
    if (iovaB !== 0n || sizeB !== 0n) return -EINVAL;
    const r = ioas.iopt.unmapAll();
    rc = r.rc;
    unmapped = r.unmapped;
  } else {
    const iova = ulong(iovaB);
    const size = ulong(sizeB);
    rc = 0;
    if (ioas.iopt.disableLargePages) {
      const cuts = [(iova + size - 1) >>> 0, (iova - 1) >>> 0];
      rc = ioas.iopt.cutIova(iova !== 0 ? cuts : cuts.slice(0, 1));
      if (rc) return rc;
    }
    const r = ioas.iopt.unmapIova(iova, size);
    rc = r.rc;
    unmapped = r.unmapped;
  }
  dv.setBigUint64(16, BigInt(unmapped), true);
  if (task.mm.copyToUser(arg, b, 0, 24) < 0) rc = -EFAULT;
  return rc;
}

/**
 * iommufd_get_pagesizes: the AND of the compat IOAS's domains' page sizes (ULONG_MAX without
 * one), sub-page sizes folded into PAGE_SIZE (as vfio_update_pgsize_bitmap), at least the
 * IOVA alignment
 */
function pageSizes(ioas: Ioas): number {
  let bm = ULONG_MAX;
  for (const d of ioas.iopt.domains) bm = (bm & d.pgsizeBitmap) >>> 0;
  if ((bm & (PAGE_SIZE - 1)) !== 0) bm = ((bm & ~(PAGE_SIZE - 1)) | PAGE_SIZE) >>> 0;
  return Math.max(bm, ioas.iopt.iovaAlignment);
}

/**
 * iommufd_vfio_iommu_get_info: the 16 bytes up to iova_pgsizes (-EFAULT); argsz < 16
 * -EINVAL; no compat IOAS -ENODEV; flags PGSIZES|CAPS, iova_pgsizes, and a capability chain
 * behind the 24-byte struct vfio_iommu_type1_info: DMA_AVAIL (avail U32_MAX: iommufd's
 * limit is the memory cgroup's) then IOVA_RANGE (the holes of the reserved ranges), each
 * written only as far as argsz reaches; argsz becomes the full size and cap_offset 24 when
 * it all fitted; min(argsz, 24) bytes of the struct are copied back
 */
function getInfo(ictx: IommufdCtx, task: Task, arg: number): number {
  const mm = task.mm;
  const info = new Uint8Array(24);
  const iv = new DataView(info.buffer);
  if (mm.copyFromUser(info, 0, arg, 16) < 0) return -EFAULT;
  const argsz = iv.getUint32(0, true);
  if (argsz < 16) return -EINVAL;
  const minsz = Math.min(argsz, 24);
  const ioas = getCompatIoas(ictx);
  if (typeof ioas === 'number') return ioas;
  iv.setUint32(4, VFIO_IOMMU_INFO_PGSIZES, true);
  iv.setBigUint64(8, BigInt(pageSizes(ioas)), true);
  iv.setUint32(16, 0, true);
  let total = 24;
  let lastCap = -1;
  const put32 = (va: number, v: number): boolean => {
    const t = new Uint8Array(4);
    new DataView(t.buffer).setUint32(0, v, true);
    return mm.copyToUser(va, t, 0, 4) >= 0;
  };
  // iommufd_fill_cap_dma_avail
  const fillDmaAvail = (at: number | null, avail: number): number => {
    // struct vfio_iommu_type1_info_dma_avail: header (8) and avail: 12 bytes (the caller
    // aligns the chain to 8: 16 bytes in it)
    if (at !== null && avail >= 12) {
      const c = new Uint8Array(12);
      const cv = new DataView(c.buffer);
      cv.setUint16(0, VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL, true);
      cv.setUint16(2, 1, true);
      cv.setUint32(8, 0xffffffff, true);
      if (mm.copyToUser(at, c, 0, 12) < 0) return -EFAULT;
    }
    return 12;
  };
  // iommufd_fill_cap_iova: each range written while the space holds it, then the header
  const fillIova = (at: number | null, avail: number): number => {
    const holes = ioas.iopt.holes();
    let nr = 0;
    const rb = new Uint8Array(16);
    const rv = new DataView(rb.buffer);
    for (const h of holes) {
      if (at !== null && avail >= 16 + 16 * (nr + 1)) {
        rv.setBigUint64(0, BigInt(h.start), true);
        rv.setBigUint64(8, BigInt(h.last), true);
        if (mm.copyToUser(at + 16 + 16 * nr, rb, 0, 16) < 0) return -EFAULT;
      }
      nr++;
    }
    if (at !== null && avail >= 16 + 16 * nr) {
      const c = new Uint8Array(16);
      const cv = new DataView(c.buffer);
      cv.setUint16(0, VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE, true);
      cv.setUint16(2, 1, true);
      cv.setUint32(8, nr, true);
      if (mm.copyToUser(at, c, 0, 16) < 0) return -EFAULT;
    }
    return 16 + 16 * nr;
  };
  for (const fill of [fillDmaAvail, fillIova]) {
    const filled = argsz > total ? fill(arg + total, argsz - total) : fill(null, 0);
    if (filled < 0) return filled;
    // `cap_size = ALIGN(cap_size, sizeof(u64))` ("vfio: align capability structures", 2023,
    // with the `pad` of struct vfio_iommu_type1_info): each capability starts 8-byte aligned
    const size = (filled + 7) & ~7;
    if (lastCap >= 0 && argsz >= total && !put32(lastCap + 4, total)) return -EFAULT;
    lastCap = arg + total;
    total += size;
  }
  if (argsz >= total) iv.setUint32(16, 24, true);
  iv.setUint32(0, total, true);
  iv.setUint32(4, VFIO_IOMMU_INFO_PGSIZES | VFIO_IOMMU_INFO_CAPS, true);
  return mm.copyToUser(arg, info, 0, minsz) < 0 ? -EFAULT : 0;
}
