/**
 * iommufd devices and hardware page tables (Linux v6.12 drivers/iommu/iommufd/device.c,
 * hw_pagetable.c): binding a device (DMA ownership through the IOMMU core), attaching it to
 * a paging HWPT whose iommu_domain is the arm-smmu driver's (so the SMMU translates the
 * device's DMA through the IOAS's mappings), auto-created HWPTs for an IOAS, and the
 * IOMMU_HWPT_ALLOC / IOMMU_GET_HW_INFO ioctls.
 */
import { EFAULT, EINVAL, ENODEV, ENOENT, EOPNOTSUPP, EOVERFLOW, EPERM } from '../../base/errno.js';
import type { KDevice } from '../../driver/types.js';
import type { Domain } from '../core.js';
import { IOMMU_CAP_CACHE_COHERENCY } from '../types.js';
import { ucmdRespond, type Ucmd } from './main.js';
import { HwptPaging, IommufdDevice, IommufdGroup, type Ioas, type IommufdCtx } from './objects.js';
import { IOMMU_HW_INFO_TYPE_NONE, IOMMU_HWPT_DATA_NONE, IOMMU_HWPT_DIRTY_TRACKING_ENABLE, IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR } from './uapi.js';

// ---------------- groups ----------------

/** iommufd_get_group: the context's record of the device's iommu_group (-ENODEV without one) */
function getGroup(ictx: IommufdCtx, dev: KDevice): IommufdGroup | number {
  const g = ictx.svc.iommu.groupOf(dev);
  if (g === null) return -ENODEV;
  const cur = ictx.groups.get(g.id);
  if (cur !== undefined) {
    cur.refs++;
    return cur;
  }
  const ig = new IommufdGroup(ictx, g);
  ictx.groups.set(g.id, ig);
  return ig;
}

/** iommufd_put_group */
function putGroup(ig: IommufdGroup): void {
  ig.refs--;
  if (ig.refs === 0 && ig.ictx.groups.get(ig.group.id) === ig) ig.ictx.groups.delete(ig.group.id);
}

// ---------------- bind / unbind ----------------

/**
 * iommufd_device_bind: IOMMU_CAP_CACHE_COHERENCY required (-EINVAL: iommufd always maps with
 * IOMMU_CACHE; arm-smmu answers it from the coherent-walk feature, sIDR0.CTTW); a group
 * without isolated MSI (every platform device on this GICv2 board) -EPERM unless
 * iommufd.allow_unsafe_interrupts, then the dev_warn; iommu_device_claim_dma_owner(dev,
 * ictx) (-EPERM while a host driver or another owner holds the group, -EBUSY when the group
 * is not in its default domain); then a device object (users: the xarray and the binding
 * driver) holding a reference on the context.
 */
export function deviceBind(ictx: IommufdCtx, dev: KDevice): { idev: IommufdDevice; devId: number } | number {
  const svc = ictx.svc;
  const iommu = svc.iommu;
  if (!iommu.capable(dev.bus.name, IOMMU_CAP_CACHE_COHERENCY, dev)) return -EINVAL;
  const ig = getGroup(ictx, dev);
  if (typeof ig === 'number') return ig;
  // iommu_group_has_isolated_msi: no MSI domain with IRQ_DOMAIN_FLAG_ISOLATED_MSI on this
  // board (see vfio/type1.ts iommuGroupHasIsolatedMsi): only an empty group is isolated
  if (ig.group.devices.length > 0) {
    if (!svc.allowUnsafeInterrupts) {
      putGroup(ig);
      return -EPERM;
    }
    svc.host.log?.warn(`${dev.bus.name} ${dev.name}`, 'MSI interrupts are not secure, they cannot be isolated by the platform. Check that platform features like interrupt remapping are enabled. Use the "allow_unsafe_interrupts" module parameter to override');
  }
  const rc = iommu.deviceClaimDmaOwner(dev, ictx);
  if (rc) {
    putGroup(ig);
    return rc;
  }
  const idev = new IommufdDevice(ictx, dev, ig);
  ictx.reserve(idev);
  svc.ctxGet(ictx);
  // the calling driver is a user until iommufd_device_unbind
  idev.users++;
  ictx.finalize(idev);
  return { idev, devId: idev.id };
}

/** iommufd_device_destroy: DMA ownership released, the group and the context reference dropped */
export function deviceDestroy(ictx: IommufdCtx, idev: IommufdDevice): void {
  idev.unbound = true;
  ictx.svc.iommu.deviceReleaseDmaOwner(idev.dev);
  putGroup(idev.igroup);
  ictx.svc.ctxPut(ictx);
}

/**
 * iommufd_device_unbind -> iommufd_object_destroy_user: the driver's reference dropped and
 * the object destroyed; still attached, the removal fails (-EBUSY, a WARN in the kernel:
 * callers detach first) and the object waits for the context's release
 */
export function deviceUnbind(idev: IommufdDevice): number {
  const ictx = idev.ictx;
  const rc = ictx.svc.objectRemove(ictx, idev, idev.id);
  if (rc) ictx.svc.host.log?.warn('iommufd', `WARNING: iommufd_device_unbind of ${idev.dev.name} while attached (${rc})`);
  return rc;
}

// ---------------- attach / detach ----------------

/**
 * iommufd_hw_pagetable_attach: the group attached elsewhere -EINVAL; the device's reserved
 * regions reserved in the IOAS (iopt_table_enforce_dev_resv_regions: -EADDRINUSE where an
 * area or an allowed range is); the first device of its group attaches the group to the
 * domain through the IOMMU core (iommu_attach_group: the arm-smmu driver programs the
 * stream-map entries and the context bank); the HWPT gains a user.
 */
function hwptAttach(hwpt: HwptPaging, idev: IommufdDevice): number {
  const ig = idev.igroup;
  if (ig.hwpt !== null && ig.hwpt !== hwpt) return -EINVAL;
  const iopt = hwpt.ioas.iopt;
  const iommu = idev.ictx.svc.iommu;
  for (const r of iommu.getGroupResvRegions(ig.group)) {
    if (r.type === 1 /* IOMMU_RESV_DIRECT_RELAXABLE */) continue;
    const rc = iopt.reserveIova(r.start, r.start + r.length - 1, idev);
    if (rc) {
      iopt.removeReservedIova(idev);
      return rc;
    }
  }
  if (ig.devices.length === 0) {
    const rc = iommu.attachGroup(hwpt.domain, ig.group);
    if (rc) {
      iopt.removeReservedIova(idev);
      return rc;
    }
    ig.hwpt = hwpt;
  }
  hwpt.users++;
  ig.devices.push(idev);
  return 0;
}

/** iommufd_hw_pagetable_detach: the last device of the group detaches it (back to the blocking domain while owned) */
function hwptDetach(idev: IommufdDevice): HwptPaging | null {
  const ig = idev.igroup;
  const hwpt = ig.hwpt;
  const i = ig.devices.indexOf(idev);
  if (hwpt === null || i < 0) return null;
  ig.devices.splice(i, 1);
  if (ig.devices.length === 0) {
    idev.ictx.svc.iommu.detachGroup(hwpt.domain, ig.group);
    ig.hwpt = null;
  }
  hwpt.ioas.iopt.removeReservedIova(idev);
  return hwpt;
}

/** iommufd_hw_pagetable_put: an auto-created HWPT goes with its last user (iommufd_object_put_and_try_destroy) */
function hwptPut(ictx: IommufdCtx, hwpt: HwptPaging): void {
  if (hwpt.autoDomain) ictx.svc.objectRemove(ictx, hwpt, hwpt.id);
  else hwpt.users--;
}

/**
 * iommufd_hwpt_paging_alloc: flags or driver data need ops->domain_alloc_user, which
 * arm-smmu (v1/v2) does not have: -EOPNOTSUPP; the HWPT holds its IOAS; the domain comes
 * from the IOMMU core (iommu_paging_domain_alloc -> the arm-smmu driver); with
 * immediate_attach the device attaches first; then iopt_table_add_domain fills the domain
 * with every mapping of the IOAS (pinning the pages when it is the first domain); on
 * failure everything is undone and the id is free again.
 */
function hwptPagingAlloc(ictx: IommufdCtx, ioas: Ioas, idev: IommufdDevice, flags: number, immediateAttach: boolean, userData: boolean): HwptPaging | number {
  if (flags !== 0 || userData) return -EOPNOTSUPP;
  const iommu = ictx.svc.iommu;
  const d = iommu.domainAlloc(idev.dev.bus.name);
  if (typeof d === 'number') return d;
  const hwpt = new HwptPaging(ioas, d as Domain);
  ictx.reserve(hwpt);
  ioas.users++;
  if (immediateAttach) {
    const rc = hwptAttach(hwpt, idev);
    if (rc) {
      abortHwpt(ictx, hwpt);
      return rc;
    }
  }
  const rc = ioas.iopt.addDomain(hwpt.domain);
  if (rc) {
    if (immediateAttach) hwptDetach(idev);
    abortHwpt(ictx, hwpt);
    return rc;
  }
  ioas.hwptList.push(hwpt);
  return hwpt;
}

function abortHwpt(ictx: IommufdCtx, hwpt: HwptPaging): void {
  ictx.svc.iommu.domainFree(hwpt.domain);
  hwpt.ioas.users--;
  ictx.abort(hwpt);
}

/** iommufd_hwpt_paging_destroy: the domain leaves the IOAS (unpinning when it was the last) and is freed (iommu_domain_free); the IOAS loses a user */
export function hwptPagingDestroy(ictx: IommufdCtx, hwpt: HwptPaging): void {
  const ioas = hwpt.ioas;
  const i = ioas.hwptList.indexOf(hwpt);
  if (i >= 0) {
    ioas.iopt.removeDomain(hwpt.domain);
    ioas.hwptList.splice(i, 1);
  }
  ictx.svc.iommu.domainFree(hwpt.domain);
  ioas.users--;
}

/**
 * iommufd_device_auto_get_domain: an auto-created HWPT of the IOAS the device can attach to
 * is reused (-EINVAL from the attach means incompatible: the next one is tried; another
 * error is returned); else a new one is allocated and marked auto_domain: for an attach
 * with immediate attach (immediate_attach = do_attach == iommufd_device_do_attach), for a
 * replace filled first and then swapped in. Returns the HWPT id.
 */
function autoGetDomain(idev: IommufdDevice, ioas: Ioas, attach: (hwpt: HwptPaging) => number, immediate: boolean): number {
  const ictx = idev.ictx;
  for (const hwpt of ioas.hwptList) {
    if (!hwpt.autoDomain) continue;
    const rc = attach(hwpt);
    if (rc === -EINVAL) continue;
    if (rc) return rc;
    return hwpt.id;
  }
  const hwpt = hwptPagingAlloc(ictx, ioas, idev, 0, immediate, false);
  if (typeof hwpt === 'number') return hwpt;
  if (!immediate) {
    const rc = attach(hwpt);
    if (rc) {
      hwptPagingDestroy(ictx, hwpt);
      ictx.abort(hwpt);
      return rc;
    }
  }
  hwpt.autoDomain = true;
  ictx.finalize(hwpt);
  return hwpt.id;
}

/**
 * iommufd_device_attach (iommufd_device_change_pt with iommufd_device_do_attach): pt_id an
 * HWPT: attach to it; an IOAS: an auto-created HWPT (reused or new); unknown -ENOENT,
 * another object type -EINVAL. Returns the HWPT id the device is now attached to; the
 * device gains a user (iommufd_device_detach drops it).
 */
export function deviceAttach(idev: IommufdDevice, ptId: number): number {
  const ictx = idev.ictx;
  const obj = ictx.get(ptId, null);
  if (obj === null) return -ENOENT;
  let id: number;
  if (obj instanceof HwptPaging) {
    const rc = hwptAttach(obj, idev);
    if (rc) return rc;
    id = obj.id;
  } else if (obj.type === 'ioas') {
    id = autoGetDomain(idev, obj as Ioas, (h) => hwptAttach(h, idev), true);
    if (id < 0) return id;
  } else return -EINVAL;
  idev.users++;
  return id;
}

/**
 * iommufd_device_replace (iommufd_device_do_replace): not attached -EINVAL; the same HWPT:
 * nothing to do; else the group moves to the new domain (iommu_group_replace_domain; the
 * model detaches to the blocking domain and attaches the new one, restoring the old on
 * failure), the reserved regions follow, and the old HWPT is put.
 */
export function deviceReplace(idev: IommufdDevice, ptId: number): number {
  const ictx = idev.ictx;
  const ig = idev.igroup;
  const obj = ictx.get(ptId, null);
  if (obj === null) return -ENOENT;
  const swap = (hwpt: HwptPaging): number => {
    if (ig.hwpt === null) return -EINVAL;
    if (ig.hwpt === hwpt) return 0;
    const old = ig.hwpt;
    const iommu = ictx.svc.iommu;
    if (hwpt.ioas !== old.ioas) {
      for (const r of iommu.getGroupResvRegions(ig.group)) {
        if (r.type === 1) continue;
        for (const dv of ig.devices) {
          const rc = hwpt.ioas.iopt.reserveIova(r.start, r.start + r.length - 1, dv);
          if (rc) {
            for (const d2 of ig.devices) hwpt.ioas.iopt.removeReservedIova(d2);
            return rc;
          }
        }
      }
    }
    iommu.detachGroup(old.domain, ig.group);
    const rc = iommu.attachGroup(hwpt.domain, ig.group);
    if (rc) {
      iommu.attachGroup(old.domain, ig.group);
      if (hwpt.ioas !== old.ioas) for (const d2 of ig.devices) hwpt.ioas.iopt.removeReservedIova(d2);
      return rc;
    }
    if (hwpt.ioas !== old.ioas) for (const d2 of ig.devices) old.ioas.iopt.removeReservedIova(d2);
    ig.hwpt = hwpt;
    // the device list's references move to the new HWPT
    const n = ig.devices.length;
    hwpt.users += n;
    old.users -= n - 1;
    hwptPut(ictx, old);
    return 0;
  };
  if (obj instanceof HwptPaging) {
    const rc = swap(obj);
    return rc ? rc : obj.id;
  }
  if (obj.type !== 'ioas') return -EINVAL;
  return autoGetDomain(idev, obj as Ioas, swap, false);
}

/** iommufd_device_detach: the group leaves the HWPT when its last device does; the HWPT is put (an auto one destroyed with its last user) */
export function deviceDetach(idev: IommufdDevice): void {
  const hwpt = hwptDetach(idev);
  if (hwpt === null) return;
  hwptPut(idev.ictx, hwpt);
  idev.users--;
}

// ---------------- ioctls ----------------

/**
 * iommufd_hwpt_alloc: __reserved (20) -EOPNOTSUPP; data_type NONE with a data_len, or
 * another type without one, -EINVAL; unknown device (8) -ENOENT; unknown pt_id (12)
 * -EINVAL; an IOAS: iommufd_hwpt_paging_alloc without immediate attach (flags or data:
 * -EOPNOTSUPP on arm-smmu); an HWPT (nesting parent): iommufd_hwpt_nested_alloc, which
 * needs ops->domain_alloc_user: -EOPNOTSUPP; anything else -EINVAL. out_hwpt_id at 16.
 */
export function iommufdHwptAlloc(u: Ucmd): number {
  const dv = u.dv;
  const ictx = u.ictx;
  if (dv.getUint32(20, true) !== 0) return -EOPNOTSUPP;
  const flags = dv.getUint32(4, true);
  const dataType = dv.getUint32(24, true);
  const dataLen = dv.getUint32(28, true);
  if ((dataType === IOMMU_HWPT_DATA_NONE && dataLen !== 0) || (dataType !== IOMMU_HWPT_DATA_NONE && dataLen === 0)) return -EINVAL;
  const idev = ictx.get(dv.getUint32(8, true), 'device') as IommufdDevice | null;
  if (idev === null) return -ENOENT;
  const pt = ictx.get(dv.getUint32(12, true), null);
  if (pt === null) return -EINVAL;
  let hwpt: HwptPaging;
  if (pt.type === 'ioas') {
    const h = hwptPagingAlloc(ictx, pt as Ioas, idev, flags, false, dataLen !== 0);
    if (typeof h === 'number') return h;
    hwpt = h;
  } else if (pt.type === 'hwpt-paging') {
    return -EOPNOTSUPP;
  } else return -EINVAL;
  dv.setUint32(16, hwpt.id, true);
  const rc = ucmdRespond(u, 48);
  if (rc) {
    // iommufd_object_abort_and_destroy
    hwptPagingDestroy(ictx, hwpt);
    ictx.abort(hwpt);
    return rc;
  }
  ictx.finalize(hwpt);
  return 0;
}

/**
 * iommufd_get_hw_info: flags (4) or __reserved (28) -EOPNOTSUPP; unknown device (8)
 * -ENOENT; arm-smmu (v1/v2) has no hw_info op: out_data_type IOMMU_HW_INFO_TYPE_NONE and no
 * data, so the user's data_len bytes at data_uptr are zeroed (clear_user: -EFAULT) and
 * data_len becomes 0; out_capabilities 0 (no IOMMU_CAP_DIRTY_TRACKING)
 */
export function iommufdGetHwInfo(u: Ucmd): number {
  const dv = u.dv;
  if (dv.getUint32(4, true) !== 0 || dv.getUint32(28, true) !== 0) return -EOPNOTSUPP;
  const idev = u.ictx.get(dv.getUint32(8, true), 'device') as IommufdDevice | null;
  if (idev === null) return -ENOENT;
  const dataLen = dv.getUint32(12, true);
  const ptr = Number(dv.getBigUint64(16, true) & 0xffffffffn);
  if (dataLen > 0) {
    const zeros = new Uint8Array(Math.min(dataLen, 4096));
    for (let off = 0; off < dataLen; off += zeros.length) {
      if (u.task.mm.copyToUser(ptr + off, zeros, 0, Math.min(zeros.length, dataLen - off)) < 0) return -EFAULT;
    }
  }
  dv.setUint32(12, 0, true);
  dv.setUint32(24, IOMMU_HW_INFO_TYPE_NONE, true);
  dv.setBigUint64(32, 0n, true);
  return ucmdRespond(u, 40);
}

/**
 * iommufd_hwpt_set_dirty_tracking: flags other than ENABLE -EOPNOTSUPP; hwpt_id (8) not a
 * paging HWPT (iommufd_get_hwpt_paging) -ENOENT; iopt_set_dirty_tracking: the arm-smmu (v1/v2)
 * domain has no dirty_ops -EOPNOTSUPP
 */
export function iommufdHwptSetDirtyTracking(u: Ucmd): number {
  if ((u.dv.getUint32(4, true) & ~IOMMU_HWPT_DIRTY_TRACKING_ENABLE) !== 0) return -EOPNOTSUPP;
  if (u.ictx.get(u.dv.getUint32(8, true), 'hwpt-paging') === null) return -ENOENT;
  return -EOPNOTSUPP;
}

/**
 * iommufd_hwpt_get_dirty_bitmap (v6.12 hw_pagetable.c): flags other than NO_CLEAR, or
 * __reserved (12), -EOPNOTSUPP; hwpt_id (4) not a paging HWPT -ENOENT; then
 * iopt_read_and_clear_dirty_data: the range checks of iommufd_check_iova_range (io_pagetable.c)
 * on iova (16), length (24) and page_size (32), in its order, and only then
 * iommu_read_and_clear_dirty: the arm-smmu (v1/v2) domain has no dirty_ops, -EOPNOTSUPP. The
 * bitmap (data, 40) is never touched. ULONG_MAX is 32-bit on this ARM kernel.
 */
export function iommufdHwptGetDirtyBitmap(u: Ucmd): number {
  const dv = u.dv;
  if ((dv.getUint32(8, true) & ~IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR) !== 0 || dv.getUint32(12, true) !== 0) return -EOPNOTSUPP;
  const hwpt = u.ictx.get(dv.getUint32(4, true), 'hwpt-paging') as HwptPaging | null;
  if (hwpt === null) return -ENOENT;
  const U64 = (1n << 64n) - 1n;
  const ULONG_MAX = 0xffffffffn;
  const iova = dv.getBigUint64(16, true);
  const length = dv.getBigUint64(24, true);
  const pageSize = dv.getBigUint64(32, true);
  // check_add_overflow(bitmap->iova, bitmap->length - 1, &last_iova): length 0 wraps to U64_MAX
  const lastPlus = iova + ((length - 1n) & U64);
  if (lastPlus > U64) return -EOVERFLOW;
  const last = lastPlus;
  if (iova > ULONG_MAX || last > ULONG_MAX) return -EOVERFLOW;
  const align = BigInt(hwpt.ioas.iopt.iovaAlignment);
  const end = (last + 1n) & U64;
  if ((iova & (align - 1n)) !== 0n || (end & (align - 1n)) !== 0n) return -EINVAL;
  if (pageSize === 0n) return -EINVAL;
  if ((iova & (pageSize - 1n)) !== 0n || (end & (pageSize - 1n)) !== 0n) return -EINVAL;
  return -EOPNOTSUPP;
}

/**
 * iommufd_hwpt_invalidate: __reserved (28) -EOPNOTSUPP; entry_num (24) without data_uptr (8)
 * or entry_len (20) -EINVAL; hwpt_id (4) not a nested HWPT (iommufd_get_hwpt_nested: arm-smmu
 * v1/v2 cannot make one) -ENOENT. entry_num is written back (0 done) before every return
 * (iommufd_ucmd_respond: -EFAULT wins).
 */
export function iommufdHwptInvalidate(u: Ucmd): number {
  const dv = u.dv;
  let rc: number;
  if (dv.getUint32(28, true) !== 0) rc = -EOPNOTSUPP;
  else if (dv.getUint32(24, true) !== 0 && (dv.getBigUint64(8, true) === 0n || dv.getUint32(20, true) === 0)) rc = -EINVAL;
  else rc = -ENOENT;
  dv.setUint32(24, 0, true);
  return ucmdRespond(u, 32) ? -EFAULT : rc;
}
