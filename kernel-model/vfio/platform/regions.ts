/**
 * vfio-platform regions: one per IORESOURCE_MEM of the device, built at open
 * (vfio_platform_regions_init / _cleanup in vfio_platform_common.c), reported by
 * GET_REGION_INFO, and the encoding of a region's file offset (`regionOffsetEncoding`).
 */
import { EINVAL, ENOMEM } from '../../base/errno.js';
import { KernelOops } from '../../base/oops.js';
import { resourcesOfKind } from '../../driver/types.js';
import {
  PAGE_SHIFT,
  PAGE_SIZE,
  VFIO_PLATFORM_OFFSET_SHIFT,
  VFIO_REGION_INFO_FLAG_MMAP,
  VFIO_REGION_INFO_FLAG_READ,
  VFIO_REGION_INFO_FLAG_WRITE,
} from '../../uapi/constants.js';
import { REGION_STRUCT_SIZE, VDEV_NUM_REGIONS, VDEV_REGION, safeKfree, type Region, type VfioPlatformDeps, type VfioPlatformDevice } from './private.js';

const OFFSET_UNIT = 2 ** VFIO_PLATFORM_OFFSET_SHIFT;
const PGOFF_UNIT = 2 ** (VFIO_PLATFORM_OFFSET_SHIFT - PAGE_SHIFT);

/** mainline VFIO_PLATFORM_OFFSET_TO_INDEX: the region index of a file offset ('index-shift-40') */
export function offsetToIndex(pos: number): number {
  return Math.floor(pos / OFFSET_UNIT);
}

/** the byte offset inside its region of a file offset ('index-shift-40') */
export function offsetInRegion(pos: number): number {
  return pos % OFFSET_UNIT;
}

/** mmap's page offset split into region index and byte offset ('index-shift-40') */
export function pgoffToRegion(pgoff: number): { index: number; start: number } {
  return { index: Math.floor(pgoff / PGOFF_UNIT), start: (pgoff % PGOFF_UNIT) * PAGE_SIZE };
}

/** the file offset GET_REGION_INFO reports for region `index` */
export function regionOffset(d: VfioPlatformDeps, index: number, reg: Region): number {
  // 2014: the offset IS the physical address; mainline: index << 40
  return d.profile.caps.regionOffsetEncoding === 'index-shift-40' ? index * OFFSET_UNIT : reg.addr;
}

export function regionsInit(d: VfioPlatformDeps, vdev: VfioPlatformDevice): number {
  const caps = d.profile.caps;
  const mems = resourcesOfKind(vdev.pdev.resources, 'mem');
  const kva = d.kmem.kmalloc(REGION_STRUCT_SIZE * mems.length);
  if (kva === 0) return -ENOMEM;
  vdev.regionKva = kva;
  vdev.regions = mems.map((res, i) => {
    let flags = 0;
    if (caps.rwImplementation !== 'none') flags |= VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE;
    // patch 07: only regions addressed with page granularity can be mmapped securely
    if (caps.mmapRegions !== 'none' && res.start % PAGE_SIZE === 0 && res.size % PAGE_SIZE === 0) flags |= VFIO_REGION_INFO_FLAG_MMAP;
    const reg = { addr: res.start, size: res.size, flags };
    const k = d.kmem;
    k.write64(kva + i * REGION_STRUCT_SIZE, reg.addr);
    k.write64(kva + i * REGION_STRUCT_SIZE + 8, reg.size);
    k.write32(kva + i * REGION_STRUCT_SIZE + 16, reg.flags);
    return reg;
  });
  d.kmem.write32(vdev.kva + VDEV_REGION, kva);
  d.kmem.write32(vdev.kva + VDEV_NUM_REGIONS, mems.length);
  return 0;
}

export function regionsCleanup(d: VfioPlatformDeps, vdev: VfioPlatformDevice): void {
  if (d.profile.caps.openRule === 'every-open') {
    // 2014: kfree(vdev->region) only; the pointer and num_regions stay (dangling)
    if (vdev.regionKva) safeKfree(d, vdev.regionKva, `the region array of ${vdev.pdev.name}`);
    return;
  }
  if (vdev.regionKva) d.kmem.kfree(vdev.regionKva);
  vdev.regionKva = 0;
  vdev.regions = [];
}

/** 2014: vdev->region[i] as read from the heap (read/write/mmap walk the array in memory) */
export function heapRegion(d: VfioPlatformDeps, vdev: VfioPlatformDevice, i: number): Region {
  const kva = vdev.regionKva + i * REGION_STRUCT_SIZE;
  const k = d.kmem;
  return { addr: k.read64(kva), size: k.read64(kva + 8), flags: k.read32(kva + 16) };
}

/**
 * GET_REGION_INFO for `index`: fills flags (bytes 4-7), size (16-23) and offset (24-31)
 * of struct vfio_region_info in `out` (at least 52 bytes: the posted patches' raw copy
 * uses out[32..52) as scratch); 0 or -EINVAL.
 */
export function regionInfo(d: VfioPlatformDeps, vdev: VfioPlatformDevice, index: number, out: Uint8Array, ov: DataView): number {
  if (d.profile.caps.bugs.regionInfoNoBoundsCheck) {
    // review finding 1: vdev->region[info.index] with no bounds check. The element
    // address is computed with 32-bit pointer arithmetic and dereferenced in the
    // kernel: past the array it reads the neighbouring heap bytes; outside the linear
    // map it is a paging-request Oops (thrown from kmem). The three fields are copied
    // as raw bytes (u64 addr -> offset, u64 size, u32 flags), so a kernel pointer in
    // the high word reaches user space bit-exact (a JS number would round above 2^53).
    const kva = (vdev.regionKva + index * REGION_STRUCT_SIZE) >>> 0;
    // the 20 raw bytes go to out[32..52) (scratch past the 32-byte struct; no allocation
    // per call), then into place
    try {
      d.kmem.readInto(kva, 20, out, 32);
    } catch (e) {
      if (!(e instanceof KernelOops)) throw e;
      throw new KernelOops(e.kind, e.address, `vfio_platform_ioctl: GET_REGION_INFO reads vdev->region[${index}] (region array at 0x${vdev.regionKva.toString(16)}, ${vdev.regions.length} element(s)): ${e.detail}`);
    }
    out.copyWithin(4, 32 + 16, 32 + 20); // flags
    out.copyWithin(16, 32 + 8, 32 + 16); // size
    // the offset IS the physical address (the posted patch 05)
    out.copyWithin(24, 32, 32 + 8);
    return 0;
  }
  if (index >= vdev.regions.length) return -EINVAL;
  const reg = vdev.regions[index]!;
  ov.setUint32(4, reg.flags >>> 0, true);
  setU64(ov, 16, reg.size);
  setU64(ov, 24, regionOffset(d, index, reg));
  return 0;
}

export function setU64(v: DataView, off: number, x: number): void {
  v.setUint32(off, x % 2 ** 32 >>> 0, true);
  v.setUint32(off + 4, Math.floor(x / 2 ** 32) >>> 0, true);
}
