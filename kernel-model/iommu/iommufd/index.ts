/**
 * iommufd (Linux v6.12 drivers/iommu/iommufd/): /dev/iommu, I/O address spaces (IOAS),
 * hardware page tables (HWPT) backed by the arm-smmu driver's domains, device binding, and
 * the VFIO container compatibility (CONFIG_IOMMUFD_VFIO_CONTAINER: /dev/vfio/vfio served by
 * iommufd). Files:
 *   main.ts         iommufd_fops, the ioctl dispatcher and table, object removal, release
 *   objects.ts      iommufd_ctx, the object xarray (ids from 1, lowest free), IOAS/HWPT/device objects
 *   ioas.ts         IOAS ioctls (ALLOC, IOVA_RANGES, ALLOW_IOVAS, MAP, COPY, UNMAP, OPTION)
 *   io-pagetable.ts struct io_pagetable: areas, reserved and allowed ranges, domains, alignment
 *   pages.ts        struct iopt_pages: pinning and RLIMIT_MEMLOCK accounting (user / process / none)
 *   device.ts       bind/attach/replace/detach/unbind, HWPT paging alloc, IOMMU_HWPT_ALLOC, IOMMU_GET_HW_INFO
 *   vfio-compat.ts  iommufd_vfio_ioctl (the VFIO container ioctls), IOMMU_VFIO_IOAS, compat IOAS
 *   uapi.ts         request numbers, flags, struct sizes (include/uapi/linux/iommufd.h)
 *
 * ## The kernel-internal API (include/linux/iommufd.h), for VFIO
 *
 * Every function returns a negative errno on failure, as the kernel's ERR_PTR / int returns.
 *
 * - `iommufdCtxFromFile(file): IommufdCtx | -errno` — iommufd_ctx_from_file: the context of
 *   an iommufd file (its ops are iommufd's: /dev/iommu, or /dev/vfio/vfio with the compat
 *   container), with a reference on the file; any other file -EBADFD. Drop the reference with
 *   `iommufdCtxPut(ictx)` (iommufd_ctx_put). `iommufdCtxFromFd(proc, fd)` (iommufd_ctx_from_fd):
 *   -EBADF for a bad fd, then the same.
 * - `iommufdDeviceBind(ictx, dev): { idev, devId } | -errno` — iommufd_device_bind: needs
 *   IOMMU_CAP_CACHE_COHERENCY (-EINVAL), isolated MSI or iommufd.allow_unsafe_interrupts=1
 *   (-EPERM: platform devices on this GICv2 board never have isolated MSI), then claims DMA
 *   ownership with iommu_device_claim_dma_owner(dev, ictx) (core.ts deviceClaimDmaOwner:
 *   -EPERM while a host driver uses the default domain or another owner — a VFIO container
 *   through the group path, another iommufd — holds the group; -EBUSY when the group sits in
 *   a non-default domain). The group moves to its blocking domain (S2CR fault). The device
 *   object holds a reference on the context (closing the iommufd fd does not release it
 *   while devices are bound) and is not destroyable by IOMMU_DESTROY (-EBUSY) until unbound.
 *   `devId` is the object id user space uses (dev_id of IOMMU_HWPT_ALLOC, IOMMU_GET_HW_INFO).
 * - `iommufdDeviceAttach(idev, ptId): ptId | -errno` — iommufd_device_attach: ptId an HWPT:
 *   attach to it (-EINVAL when the group is attached to another one); an IOAS: reuse an
 *   auto-created HWPT of that IOAS or create one (iommu_paging_domain_alloc through the IOMMU
 *   core: an arm-smmu domain; the group attached with iommu_attach_group, so the SMMU
 *   translates the device's DMA; then every mapping of the IOAS is pinned and mapped into
 *   it); returns the HWPT id (what VFIO_DEVICE_ATTACH_IOMMUFD_PT writes back in pt_id).
 *   Unknown id -ENOENT, another object type -EINVAL; reserved regions of the device that
 *   meet a mapping or an allowed range -EADDRINUSE; pinning failures (-EFAULT for an
 *   unmapped or PFNMAP user range, -ENOMEM over RLIMIT_MEMLOCK) undo the attach.
 * - `iommufdDeviceReplace(idev, ptId): ptId | -errno` — iommufd_device_replace (VFIO calls it
 *   for an ATTACH while attached): -EINVAL when not attached; the same HWPT is a no-op.
 * - `iommufdDeviceDetach(idev)` — iommufd_device_detach: the group goes back to the blocking
 *   domain (still owned); an auto-created HWPT is destroyed with its last device (its domain
 *   leaves the IOAS: the pages are unpinned when no other domain holds them).
 * - `iommufdDeviceUnbind(idev): 0 | -errno` — iommufd_device_unbind: releases DMA ownership
 *   (the group returns to its default domain once no device of it is owned) and the
 *   context reference; detach first (still attached: -EBUSY and a WARN, as the kernel).
 * - `iommufdVfioCompatIoasCreate(ictx)`, `iommufdVfioCompatIoasGetId(ictx)` — the compat IOAS
 *   VFIO's group path uses when a group is attached to an iommufd (SET_CONTAINER with an
 *   iommufd fd), and the id it attaches devices to (-ENODEV without one).
 * - `iommufdCtxHasGroup(ictx, group)` — iommufd_ctx_has_group: a device of the group is bound.
 *
 * The service (`IommufdService`) is created once per kernel (tools/system wires it when the
 * profile's `iommufd` capability is not 'none'): it registers /dev/iommu and, with
 * 'dev-iommu+vfio-compat', /dev/vfio/vfio.
 */
import type { KDevice } from '../../driver/types.js';
import type { IommuGroup } from '../types.js';
import { deviceAttach, deviceBind, deviceDetach, deviceReplace, deviceUnbind } from './device.js';
import type { IommufdCtx, IommufdDevice } from './objects.js';
import { vfioCompatIoasCreate, vfioCompatIoasGetId } from './vfio-compat.js';

export { IOMMUFD_FOPS, IommufdService, iommufdCtxFromFd, iommufdCtxFromFile, iommufdCtxPut, type IommufdHost } from './main.js';
export { HwptPaging, Ioas, IommufdCtx, IommufdDevice, IommufdGroup, type IommufdObject } from './objects.js';
export { IOPT_PAGES_ACCOUNT_MM, IOPT_PAGES_ACCOUNT_NONE, IOPT_PAGES_ACCOUNT_USER, UserLockedVm } from './pages.js';
export * from './uapi.js';

/** iommufd_device_bind */
export function iommufdDeviceBind(ictx: IommufdCtx, dev: KDevice): { idev: IommufdDevice; devId: number } | number {
  return deviceBind(ictx, dev);
}

/** iommufd_device_attach: the HWPT id, or -errno */
export function iommufdDeviceAttach(idev: IommufdDevice, ptId: number): number {
  return deviceAttach(idev, ptId);
}

/** iommufd_device_replace: the HWPT id, or -errno */
export function iommufdDeviceReplace(idev: IommufdDevice, ptId: number): number {
  return deviceReplace(idev, ptId);
}

/** iommufd_device_detach */
export function iommufdDeviceDetach(idev: IommufdDevice): void {
  deviceDetach(idev);
}

/** iommufd_device_unbind */
export function iommufdDeviceUnbind(idev: IommufdDevice): number {
  return deviceUnbind(idev);
}

/** iommufd_vfio_compat_ioas_create */
export function iommufdVfioCompatIoasCreate(ictx: IommufdCtx): number {
  return vfioCompatIoasCreate(ictx);
}

/** iommufd_vfio_compat_ioas_get_id: the id or -ENODEV */
export function iommufdVfioCompatIoasGetId(ictx: IommufdCtx): number {
  return vfioCompatIoasGetId(ictx);
}

/** iommufd_ctx_has_group */
export function iommufdCtxHasGroup(ictx: IommufdCtx, group: IommuGroup): boolean {
  for (const o of ictx.objects.values()) if (o.type === 'device' && (o as IommufdDevice).igroup.group === group) return true;
  return false;
}
