/**
 * A VFIO group (3.14 drivers/vfio/vfio.c; mainline moved it to drivers/vfio/group.c): struct
 * vfio_group (`VfioGroup`), made with its /dev/vfio/<N> node for the first VFIO device of IOMMU
 * group N (vfio_create_group) and gone with it once it has no device, is not open and is in no
 * container; viability (vfio_group_viable / vfio_dev_viable); the group fd: open
 * (vfio_group_fops_open: the -EBUSY rules, mainline's block by a device bound through its cdev),
 * release (vfio_group_fops_release), and its ioctls, ordered by capability `groupIoctls` (3.14
 * vfio_group_fops_unl_ioctl, mainline vfio_group_fops_unl_ioctl): GET_STATUS, SET_CONTAINER
 * (a container, or in mainline an iommufd: vfio_group_ioctl_set_container), UNSET_CONTAINER,
 * GET_DEVICE_FD (vfio_group_get_device_fd / vfio_group_ioctl_get_device_fd, with mainline's
 * binding of the device to the group's iommufd: vfio_df_group_open, drivers/vfio/iommufd.c). The
 * group's container users (the group fd's SET_CONTAINER and each device fd) and the last one's
 * detach (vfio_group_try_dissolve_container) are here; what the container does at attach and
 * detach is in container.ts; the device records, the device fd's ops and its release in vfio.ts.
 */
import { EBADF, EBADFD, EBUSY, EFAULT, EINVAL, ENODEV, ENOTTY } from '../base/errno.js';
import {
  iommufdCtxFromFile,
  iommufdCtxPut,
  iommufdDeviceAttach,
  iommufdDeviceBind,
  iommufdDeviceDetach,
  iommufdDeviceUnbind,
  iommufdVfioCompatIoasCreate,
  iommufdVfioCompatIoasGetId,
  type IommufdCtx,
} from '../iommu/iommufd/index.js';
import type { IommuGroup } from '../iommu/types.js';
import {
  O_RDWR,
  VFIO_GROUP_FLAGS_CONTAINER_SET,
  VFIO_GROUP_FLAGS_VIABLE,
  VFIO_GROUP_GET_DEVICE_FD,
  VFIO_GROUP_GET_STATUS,
  VFIO_GROUP_SET_CONTAINER,
  VFIO_GROUP_UNSET_CONTAINER,
} from '../uapi/constants.js';
import { anonInodeGetFile, File, FMODE_LSEEK, FMODE_PREAD, FMODE_PWRITE, type FileOps, type Task } from '../vfs/file.js';
import type { KDevice } from '../driver/types.js';
import { containerAttachGroup, containerDetachGroup, type VfioContainer, type VfioContainerCtx } from './container.js';
import type { VfioDevice } from './vfio.js';

const PAGE_SIZE = 4096;

export class VfioGroup {
  readonly devices: VfioDevice[] = [];
  /** the group's entry on the IOMMU group notifier chain (vfio_group.nb) */
  nb: ((ev: string, dev: KDevice) => void) | null = null;
  container: VfioContainer | null = null;
  /** mainline group->iommufd: SET_CONTAINER was given an iommufd (a reference on its context) */
  iommufd: IommufdCtx | null = null;
  /** 1 for the group fd's SET_CONTAINER, +1 per open device fd */
  containerUsers = 0;
  opened = false;
  /** group->cdev_device_open_cnt: devices of the group bound through their cdev (vfio_device_block_group) */
  cdevDeviceOpenCnt = 0;
  /** mainline group->iommu_group == NULL: revoked by vfio_device_remove_group while still open (`vfioGroupRevoke`) */
  revoked = false;
  constructor(readonly iommuGroup: IommuGroup) {}
  get id(): number {
    return this.iommuGroup.id;
  }
}

/** What the group code takes from the VFIO core (vfio.ts: `Vfio` implements it) */
export interface VfioGroupCtx extends VfioContainerCtx {
  /** the live groups by IOMMU group id (vfio.group_list) */
  readonly groupMap: Map<number, VfioGroup>;
  /** the group fd's ops (vfioGroupFops) */
  readonly groupFops: FileOps;
  /** the device fd's ops (vfio.ts), for the files GET_DEVICE_FD makes */
  readonly deviceFops: FileOps;
  /** scratch for GET_STATUS's struct (no allocation on the ioctl path); 64 bytes */
  readonly sbuf: Uint8Array;
  /** a DataView of sbuf */
  readonly sview: DataView;
}

/** the group fd's file ops; ioctl goes straight to groupIoctl */
export function vfioGroupFops(vfio: VfioGroupCtx): FileOps {
  // frozen: constant (the fuzzer's snapshot does not record frozen objects)
  return Object.freeze<FileOps>({
    name: 'vfio-group',
    ioctl: (f: File, task: Task, cmd: number, arg: number) => groupIoctl(vfio, f.priv as VfioGroup, task, cmd, arg),
    release: (f: File) => groupRelease(vfio, f.priv as VfioGroup),
  });
}

/**
 * vfio_create_group: the group of IOMMU group `ig`, registered with its node /dev/vfio/<id>
 * (0600); the caller adds the notifier (3.14) and the device
 */
export function vfioCreateGroup(vfio: VfioGroupCtx, ig: IommuGroup): VfioGroup {
  const g = new VfioGroup(ig);
  vfio.groupMap.set(ig.id, g);
  vfio.host.vfs.addDevNode(`/dev/vfio/${ig.id}`, 0o600, (flags, _task, path) => groupOpen(vfio, g, flags, path));
  return g;
}

/**
 * a group without devices, not open and not in a container disappears with its node. Mainline
 * (`vfioGroupRevoke`, vfio_device_remove_group): the last device going revokes it even while
 * its fd is open: it leaves the list and its node, is detached from its container
 * (vfio_group_detach_container: DMA ownership released, container_users 0) and its
 * iommu_group is cleared (the fd's GET_STATUS and SET_CONTAINER then -ENODEV).
 */
export function maybeDropGroup(vfio: VfioGroupCtx, g: VfioGroup): void {
  if (g.devices.length > 0) return;
  if (vfio.groupMap.get(g.id) !== g) return;
  if (vfio.host.caps?.vfioGroupRevoke && (g.opened || g.container !== null)) {
    const c = g.container;
    if (c !== null) {
      g.containerUsers = 0;
      containerDetachGroup(vfio, g, c);
    }
    g.revoked = true;
  } else if (g.opened || g.container !== null) return;
  vfio.groupMap.delete(g.id);
  vfio.host.vfs.removeDevNode(`/dev/vfio/${g.id}`);
  if (g.nb !== null) vfio.host.iommu.groupUnregisterNotifier?.(g.iommuGroup, g.nb);
  g.nb = null;
}

/** every device of the IOMMU group has no driver or is registered with VFIO in this group */
export function groupViable(g: VfioGroup): boolean {
  for (const dev of g.iommuGroup.devices) {
    if (dev.driver === null) continue;
    if (g.devices.some((d) => d.dev === dev)) continue;
    return false;
  }
  return true;
}

// ---------------- the group fd ----------------

function groupOpen(vfio: VfioGroupCtx, g: VfioGroup, flags: number, path: string): File | number {
  if (vfio.groupMap.get(g.id) !== g) return -ENODEV;
  // mainline vfio_group_fops_open: a device of the group bound through its cdev (-EBUSY)
  if (g.cdevDeviceOpenCnt > 0) return -EBUSY;
  if (g.opened) return -EBUSY;
  // still attached to a container from an earlier open (device fds keep it)
  if (g.container !== null) return -EBUSY;
  g.opened = true;
  return new File(vfio.groupFops, g, flags, path);
}

function groupRelease(vfio: VfioGroupCtx, g: VfioGroup): void {
  // mainline vfio_group_fops_release: the iommufd context reference goes
  if (g.iommufd !== null) {
    iommufdCtxPut(g.iommufd);
    g.iommufd = null;
  }
  tryDissolveContainer(vfio, g);
  g.opened = false;
  maybeDropGroup(vfio, g);
}

/** drop one container user; the last one detaches the group */
export function tryDissolveContainer(vfio: VfioGroupCtx, g: VfioGroup): void {
  if (g.containerUsers > 0) {
    g.containerUsers--;
    if (g.containerUsers === 0) unsetContainerInternal(vfio, g);
  }
}

/** the group leaves its container (container.ts containerDetachGroup), then may disappear */
function unsetContainerInternal(vfio: VfioGroupCtx, g: VfioGroup): void {
  const c = g.container;
  if (c === null) return;
  containerDetachGroup(vfio, g, c);
  maybeDropGroup(vfio, g);
}

function groupIoctl(vfio: VfioGroupCtx, g: VfioGroup, task: Task, cmd: number, arg: number): number {
  switch (cmd) {
    case VFIO_GROUP_GET_STATUS: {
      const r = task.mm.copyFromUser(vfio.sbuf, 0, arg, 8);
      if (r < 0) return r;
      if (vfio.sview.getUint32(0, true) < 8) return -EINVAL;
      // mainline: `if (!group->iommu_group) return -ENODEV;` (revoked)
      if (g.revoked) return -ENODEV;
      let flags = 0;
      // mainline vfio_group_ioctl_get_status: vfio_group_has_iommu (a container or an iommufd)
      // gives CONTAINER_SET | VIABLE, else VIABLE unless the group's DMA ownership is claimed
      // (iommu_group_dma_owner_claimed: a host driver, or a device of the group bound to an
      // iommufd). 3.14 vfio_group_get_status: vfio_group_viable, a walk of the drivers.
      const hasIommu = g.container !== null || g.iommufd !== null;
      const claimed = groupIoctls(vfio) === 'group-c' ? vfio.host.iommu.dmaOwnerClaimed?.(g.iommuGroup) : undefined;
      if (claimed !== undefined ? hasIommu || !claimed : groupViable(g)) flags |= VFIO_GROUP_FLAGS_VIABLE;
      if (hasIommu) flags |= VFIO_GROUP_FLAGS_CONTAINER_SET;
      vfio.sview.setUint32(4, flags, true);
      return task.mm.copyToUser(arg, vfio.sbuf, 0, 8) < 0 ? -EFAULT : 0;
    }
    case VFIO_GROUP_SET_CONTAINER: {
      const v = task.mm.getUser32(arg);
      if (v < 0) return -EFAULT;
      const fd = v | 0;
      // 3.14 vfio_group_ioctl: `if (fd < 0) return -EINVAL;`; mainline
      // vfio_group_ioctl_set_container hands any fd to fdget (-EBADF)
      if (fd < 0 && groupIoctls(vfio) === 'vfio-c') return -EINVAL;
      return setContainer(vfio, g, task, fd);
    }
    case VFIO_GROUP_UNSET_CONTAINER:
      // mainline vfio_group_ioctl_unset_container: a group attached to an iommufd drops its
      // context reference whatever its open devices (they hold their own bindings)
      if (g.iommufd !== null) {
        iommufdCtxPut(g.iommufd);
        g.iommufd = null;
        return 0;
      }
      if (g.containerUsers === 0) return -EINVAL;
      if (g.containerUsers !== 1) return -EBUSY;
      g.containerUsers = 0;
      unsetContainerInternal(vfio, g);
      return 0;
    case VFIO_GROUP_GET_DEVICE_FD: {
      const name = task.mm.strndupUser(arg, PAGE_SIZE);
      if (typeof name === 'number') return name;
      return getDeviceFd(vfio, g, task, name);
    }
    default:
      return -ENOTTY;
  }
}

function groupIoctls(vfio: VfioGroupCtx): 'vfio-c' | 'group-c' {
  return vfio.host.caps?.groupIoctls ?? 'vfio-c';
}

/**
 * `groupIoctls` 'vfio-c' (3.14 vfio_group_set_container): container users -EINVAL, then
 * fdget -EBADF, then an fd whose f_op is not vfio_fops -EINVAL. 'group-c' (mainline
 * vfio_group_ioctl_set_container): fdget -EBADF, then vfio_group_has_iommu -EINVAL, then
 * vfio_container_from_file; the model has no iommufd (iommufd_ctx_from_file fails), so
 * any other fd is "not recognized": -EBADFD.
 */
function setContainer(vfio: VfioGroupCtx, g: VfioGroup, task: Task, fd: number): number {
  const mainline = groupIoctls(vfio) === 'group-c';
  if (!mainline && g.containerUsers > 0) return -EINVAL;
  const f = fd < 0 ? null : task.proc.fdget(fd);
  if (f === null) return -EBADF;
  if (mainline && (g.containerUsers > 0 || g.iommufd !== null)) return -EINVAL;
  // mainline vfio_group_ioctl_set_container: `if (!group->iommu_group) -ENODEV` (revoked)
  if (g.revoked) return -ENODEV;
  if (f.ops !== vfio.containerFops) {
    if (!mainline) return -EINVAL;
    // mainline vfio_group_ioctl_set_container: iommufd_ctx_from_file, then
    // iommufd_vfio_compat_ioas_create; the group keeps the context reference (group->iommufd).
    // DMA ownership is claimed per device when a device fd binds (iommufd_device_bind).
    const ictx = iommufdCtxFromFile(f);
    if (typeof ictx === 'number') return -EBADFD;
    const r = iommufdVfioCompatIoasCreate(ictx);
    if (r) {
      iommufdCtxPut(ictx);
      return r;
    }
    g.iommufd = ictx;
    return 0;
  }
  // the container's side: the DMA-ownership claim, the backend's attach (container.ts)
  return containerAttachGroup(vfio, g, f.priv as VfioContainer);
}

/**
 * `groupIoctls` 'vfio-c' (3.14 vfio_group_get_device_fd): container users, the
 * container's IOMMU driver and viability (-EINVAL) before the name lookup (-ENODEV).
 * 'group-c' (mainline vfio_group_ioctl_get_device_fd): vfio_device_get_from_name first
 * (-ENODEV), then vfio_df_group_open / vfio_group_use_container (-EINVAL without a
 * container or without its IOMMU driver).
 */
function getDeviceFd(vfio: VfioGroupCtx, g: VfioGroup, task: Task, name: string): number {
  const lookup = (): VfioDevice | undefined => g.devices.find((x) => x.dev.name === name && !x.removing);
  // a group attached to an iommufd: vfio_df_group_open only asks vfio_group_has_iommu (the
  // DMA-ownership claim of iommufd_device_bind decides the rest)
  const noContainer = (): boolean => g.iommufd === null && (g.containerUsers === 0 || g.container === null || g.container.iommuDriver === null || !groupViable(g));
  let d: VfioDevice | undefined;
  if (groupIoctls(vfio) === 'group-c') {
    d = lookup();
    if (!d) return -ENODEV;
    // mainline vfio_group_ioctl_get_device_fd: get_unused_fd_flags(O_CLOEXEC) comes before
    // vfio_device_open_file (whose vfio_group_use_container is the -EINVAL below)
    const fdr = task.proc.fdAvailable();
    if (fdr < 0) return fdr;
    if (noContainer()) return -EINVAL;
  } else {
    if (noContainer()) return -EINVAL;
    d = lookup();
    if (!d) return -ENODEV;
  }
  if (g.iommufd !== null) return getDeviceFdIommufd(vfio, g, d, task);
  const r = d.ops.open(d.data);
  if (r) return r;
  const f = deviceFile(vfio, d);
  const fd = task.proc.fdInstall(f, true);
  if (fd < 0) {
    d.ops.release(d.data);
    return fd;
  }
  d.openCount++;
  g.containerUsers++;
  return fd;
}

/**
 * mainline vfio_df_group_open with group->iommufd: the first open binds the device
 * (vfio_df_iommufd_bind -> vfio_iommufd_physical_bind -> iommufd_device_bind: -EPERM while
 * a host driver or another owner holds the group), then the bus driver's open_device, then
 * vfio_iommufd_compat_attach_ioas attaches it to the compat IOAS (-ENODEV when it was
 * destroyed); a failure undoes the open (vfio_df_close)
 */
function getDeviceFdIommufd(vfio: VfioGroupCtx, g: VfioGroup, d: VfioDevice, task: Task): number {
  const first = d.openCount === 0;
  if (first) {
    const b = iommufdDeviceBind(g.iommufd!, d.dev);
    if (typeof b === 'number') return b;
    d.groupIdev = b.idev;
  }
  const r = d.ops.open(d.data);
  if (r) {
    if (first) unbindGroupIdev(d);
    return r;
  }
  if (first) {
    const id = iommufdVfioCompatIoasGetId(g.iommufd!);
    const a = id < 0 ? id : iommufdDeviceAttach(d.groupIdev!, id);
    if (a < 0) {
      d.ops.release(d.data);
      unbindGroupIdev(d);
      return a;
    }
    d.groupIdevAttached = true;
  }
  const f = deviceFile(vfio, d);
  const fd = task.proc.fdInstall(f, true);
  if (fd < 0) {
    d.ops.release(d.data);
    if (first) unbindGroupIdev(d);
    return fd;
  }
  d.openCount++;
  return fd;
}

/**
 * The device fd's file: an anonymous inode's, to which vfio_group_get_device_fd adds positioned
 * I/O by hand ("TODO: add an anon_inode interface to do this"): 3.14 sets FMODE_LSEEK |
 * FMODE_PREAD | FMODE_PWRITE, v6.12 (group.c vfio_device_open_file) FMODE_PREAD | FMODE_PWRITE.
 * vfio_device_fops has no llseek in either, so lseek is -ESPIPE both ways (sys_lseek).
 */
function deviceFile(vfio: VfioGroupCtx, d: VfioDevice): File {
  const f = anonInodeGetFile('[vfio-device]', vfio.deviceFops, d, O_RDWR);
  f.mode |= FMODE_LSEEK | FMODE_PREAD | FMODE_PWRITE;
  return f;
}

/** vfio_iommufd_physical_unbind: detach if attached, then iommufd_device_unbind */
export function unbindGroupIdev(d: VfioDevice): void {
  const idev = d.groupIdev;
  if (idev === null) return;
  if (d.groupIdevAttached) iommufdDeviceDetach(idev);
  d.groupIdevAttached = false;
  d.groupIdev = null;
  iommufdDeviceUnbind(idev);
}
