/**
 * iommufd and VFIO-cdev helpers for guest programs, written as a user program would write
 * them against <linux/iommufd.h> and <linux/vfio.h> (v6.12): the struct layouts below are the
 * headers' (32-bit ARM EABI: __aligned_u64 members at 8-byte offsets), the request numbers
 * are the shared uapi's. Every helper returns the ioctl's result (or the id it produced).
 */
import {
  IOMMU_IOAS_ALLOC,
  IOMMU_IOAS_MAP,
  IOMMU_IOAS_UNMAP,
} from '../../kernel-model/uapi/index.js';
import {
  O_DIRECTORY,
  O_RDONLY,
  VFIO_DEVICE_ATTACH_IOMMUFD_PT,
  VFIO_DEVICE_BIND_IOMMUFD,
  VFIO_DEVICE_DETACH_IOMMUFD_PT,
  linux_dirent64,
  vfio_device_attach_iommufd_pt,
  vfio_device_bind_iommufd,
  vfio_device_detach_iommufd_pt,
  type Sys,
  type SysCall,
} from '../../kernel-model/uapi/index.js';
import type { Libc } from './libc.js';

/** struct iommu_ioas_alloc { __u32 size; __u32 flags; __u32 out_ioas_id; } */
export const iommu_ioas_alloc = { size: 0, flags: 4, out_ioas_id: 8, sizeof: 12 } as const;
/** struct iommu_ioas_map { __u32 size; __u32 flags; __u32 ioas_id; __u32 __reserved; __aligned_u64 user_va, length, iova; } */
export const iommu_ioas_map = { size: 0, flags: 4, ioas_id: 8, reserved: 12, user_va: 16, length: 24, iova: 32, sizeof: 40 } as const;
/** struct iommu_ioas_unmap { __u32 size; __u32 ioas_id; __aligned_u64 iova, length; } */
export const iommu_ioas_unmap = { size: 0, ioas_id: 4, iova: 8, length: 16, sizeof: 24 } as const;

/** IOMMU_IOAS_ALLOC: the new IOAS id, or -errno */
export function* ioasAlloc(sys: Sys, libc: Libc, iommufd: number): SysCall<number> {
  const a = libc.malloc(iommu_ioas_alloc.sizeof);
  const m = sys.mem;
  m.fill(a, 0, iommu_ioas_alloc.sizeof);
  m.write32(a + iommu_ioas_alloc.size, iommu_ioas_alloc.sizeof);
  const r = yield* sys.ioctl(iommufd, IOMMU_IOAS_ALLOC, a);
  return r < 0 ? r : m.read32(a + iommu_ioas_alloc.out_ioas_id);
}

/** IOMMU_IOAS_MAP of [uva, uva + length) with `flags`; iova used with IOMMU_IOAS_MAP_FIXED_IOVA. The IOVA, or -errno */
export function* ioasMap(sys: Sys, libc: Libc, iommufd: number, ioas: number, flags: number, uva: number, length: number, iova: number): SysCall<number> {
  const a = libc.malloc(iommu_ioas_map.sizeof);
  const m = sys.mem;
  m.fill(a, 0, iommu_ioas_map.sizeof);
  m.write32(a + iommu_ioas_map.size, iommu_ioas_map.sizeof);
  m.write32(a + iommu_ioas_map.flags, flags);
  m.write32(a + iommu_ioas_map.ioas_id, ioas);
  libc.write64(a + iommu_ioas_map.user_va, uva >>> 0);
  libc.write64(a + iommu_ioas_map.length, length);
  libc.write64(a + iommu_ioas_map.iova, iova);
  const r = yield* sys.ioctl(iommufd, IOMMU_IOAS_MAP, a);
  return r < 0 ? r : libc.read64(a + iommu_ioas_map.iova);
}

/** IOMMU_IOAS_UNMAP: the bytes unmapped, or -errno */
export function* ioasUnmap(sys: Sys, libc: Libc, iommufd: number, ioas: number, iova: number, length: number): SysCall<number> {
  const a = libc.malloc(iommu_ioas_unmap.sizeof);
  const m = sys.mem;
  m.write32(a + iommu_ioas_unmap.size, iommu_ioas_unmap.sizeof);
  m.write32(a + iommu_ioas_unmap.ioas_id, ioas);
  libc.write64(a + iommu_ioas_unmap.iova, iova);
  libc.write64(a + iommu_ioas_unmap.length, length);
  const r = yield* sys.ioctl(iommufd, IOMMU_IOAS_UNMAP, a);
  return r < 0 ? r : libc.read64(a + iommu_ioas_unmap.length);
}

/** VFIO_DEVICE_BIND_IOMMUFD: out_devid, or -errno */
export function* vfioDeviceBindIommufd(sys: Sys, libc: Libc, device: number, iommufd: number): SysCall<number> {
  const s = vfio_device_bind_iommufd;
  const a = libc.malloc(s.minsz);
  const m = sys.mem;
  m.write32(a + s.argsz, s.minsz);
  m.write32(a + s.flags, 0);
  m.write32(a + s.iommufd, iommufd);
  m.write32(a + s.out_devid, 0);
  const r = yield* sys.ioctl(device, VFIO_DEVICE_BIND_IOMMUFD, a);
  return r < 0 ? r : m.read32(a + s.out_devid);
}

/** VFIO_DEVICE_ATTACH_IOMMUFD_PT: the id attached (the HWPT an IOAS got), or -errno */
export function* vfioDeviceAttachPt(sys: Sys, libc: Libc, device: number, ptId: number): SysCall<number> {
  const s = vfio_device_attach_iommufd_pt;
  const a = libc.malloc(s.minsz);
  const m = sys.mem;
  m.write32(a + s.argsz, s.minsz);
  m.write32(a + s.flags, 0);
  m.write32(a + s.pt_id, ptId);
  const r = yield* sys.ioctl(device, VFIO_DEVICE_ATTACH_IOMMUFD_PT, a);
  return r < 0 ? r : m.read32(a + s.pt_id);
}

/** VFIO_DEVICE_DETACH_IOMMUFD_PT */
export function* vfioDeviceDetachPt(sys: Sys, libc: Libc, device: number): SysCall<number> {
  const s = vfio_device_detach_iommufd_pt;
  const a = libc.malloc(s.minsz);
  sys.mem.write32(a + s.argsz, s.minsz);
  sys.mem.write32(a + s.flags, 0);
  return yield* sys.ioctl(device, VFIO_DEVICE_DETACH_IOMMUFD_PT, a);
}

/**
 * The cdev of a VFIO device, found as user space finds it: the one entry of the device's
 * sysfs `vfio-dev` directory (e.g. /sys/bus/amba/devices/<dev>/vfio-dev/vfio0) names the
 * node under /dev/vfio/devices. The path, or -errno (no such directory: not a VFIO device,
 * or a kernel without device cdevs).
 */
export function* findVfioCdev(sys: Sys, libc: Libc, sysfsDevice: string): SysCall<string | number> {
  const dir = yield* sys.open(`${sysfsDevice}/vfio-dev`, O_RDONLY | O_DIRECTORY);
  if (dir < 0) return dir;
  const buf = libc.malloc(512);
  let found: string | number = -2;
  for (;;) {
    const n = yield* sys.getdents64(dir, buf, 512);
    if (n <= 0) break;
    for (let off = 0; off < n; ) {
      const reclen = sys.mem.read16(buf + off + linux_dirent64.d_reclen);
      const name = sys.mem.readCString(buf + off + linux_dirent64.d_name, 256);
      if (name.startsWith('vfio')) found = `/dev/vfio/devices/${name}`;
      if (reclen === 0) break;
      off += reclen;
    }
  }
  yield* sys.close(dir);
  return found;
}
