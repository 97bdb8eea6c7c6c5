/**
 * The VFIO container (3.14 drivers/vfio/vfio.c; mainline moved it to drivers/vfio/container.c):
 * struct vfio_container (`VfioContainer`: its groups, its IOMMU backend and the backend's
 * instance), the /dev/vfio/vfio node (vfio_container_init's misc device; iommufd provides the
 * node instead under `iommufd` 'dev-iommu+vfio-compat'), the container fd's file ops (vfio_fops:
 * ioctl, release, and 3.14's read/write/mmap handed to the backend, capability
 * `containerFileOps`), its ioctls (vfio_fops_unl_ioctl: GET_API_VERSION, CHECK_EXTENSION,
 * SET_IOMMU = vfio_ioctl_set_iommu, everything else to the backend), the IOMMU backends'
 * registration (vfio_register_iommu_driver / vfio_unregister_iommu_driver), and what a group's
 * SET_CONTAINER and last container user do to the container (mainline
 * vfio_container_attach_group / vfio_container_detach_group, with the DMA-ownership claim of
 * `groupOwnershipGuard` 'refuse-bind'). The group side of those ioctls is in group.ts; the VFIO
 * core that holds the lists (`Vfio`, the VfioContainerCtx here) in vfio.ts.
 */
import { EINVAL, ENODEV } from '../base/errno.js';
import type { Vma } from '../process/mm.js';
import { VFIO_API_VERSION, VFIO_CHECK_EXTENSION, VFIO_GET_API_VERSION, VFIO_SET_IOMMU } from '../uapi/constants.js';
import { File, type FileOps, type Task } from '../vfs/file.js';
import type { VfioGroup } from './group.js';
import type { VfioIommuDriverOps } from './types.js';
import type { VfioHost } from './vfio.js';

export class VfioContainer {
  readonly groups: VfioGroup[] = [];
  iommuDriver: VfioIommuDriverOps | null = null;
  iommuData: object | null = null;
  /** references: the container fd(s) and each attached group */
  refs = 1;
  constructor(readonly id: number) {}
}

/** What the container code takes from the VFIO core (vfio.ts: `Vfio` implements it) */
export interface VfioContainerCtx {
  readonly host: VfioHost;
  /** the registered IOMMU backends, in registration order (vfio.iommu_drivers_list) */
  readonly iommuDrivers: VfioIommuDriverOps[];
  /** every live container (an open fd or an attached group holds it) */
  readonly containers: Set<VfioContainer>;
  /** the container fd's ops (vfioContainerFops): what the node opens, and SET_CONTAINER's test of an fd */
  readonly containerFops: FileOps;
  /**
   * the next container's id (from 1); on the object, not in a closure, so that the fuzz
   * harness's snapshot/restore of the object graph (tools/fuzz/snapshot.ts) resets it
   */
  nextContainerId: number;
}

/** vfio_fops: the container fd's file ops; ioctl goes straight to containerIoctl */
export function vfioContainerFops(vfio: VfioContainerCtx): FileOps {
  const host = vfio.host;
  const container = (f: File): VfioContainer => f.priv as VfioContainer;
  // frozen: never written after construction, so the fuzzer's snapshot need not record it
  return Object.freeze<FileOps>({
    name: 'vfio-container',
    ioctl: (f, task, cmd, arg) => containerIoctl(vfio, container(f), task, cmd, arg),
    release: (f) => containerPut(vfio, container(f)),
    // 3.14 vfio.c vfio_fops_read/write/mmap: the IOMMU driver's op, -EINVAL when the
    // container has no driver or the driver no such op (type1 has none). Mainline's
    // container fops have only ioctl (`containerFileOps` 'ioctl-only'): the VFS answers
    // (read/write -EINVAL, mmap -ENODEV from do_mmap)
    ...((host.caps?.containerFileOps ?? 'passthrough') === 'passthrough'
      ? {
          read: (f: File, task: Task, buf: number, count: number, pos: number) => container(f).iommuDriver?.read?.(container(f).iommuData!, task, buf, count, pos) ?? -EINVAL,
          write: (f: File, task: Task, buf: number, count: number, pos: number) => container(f).iommuDriver?.write?.(container(f).iommuData!, task, buf, count, pos) ?? -EINVAL,
          mmap: (f: File, task: Task, vma: Vma) => container(f).iommuDriver?.mmap?.(container(f).iommuData!, task, vma) ?? -EINVAL,
        }
      : {}),
  });
}

/** /dev/vfio/vfio: each open is a new container with the next id */
export function vfioContainerInit(vfio: VfioContainerCtx): void {
  // CONFIG_VFIO_CONTAINER (drivers/vfio/container.c vfio_container_init: misc "vfio/vfio");
  // off with CONFIG_IOMMUFD_VFIO_CONTAINER, where iommufd registers the node (iommufd/main.c)
  if (vfio.host.caps?.iommufd !== 'dev-iommu+vfio-compat') {
    vfio.host.vfs.addDevNode('/dev/vfio/vfio', 0o666, (flags, _task, path) => {
      const c = new VfioContainer(vfio.nextContainerId++);
      vfio.containers.add(c);
      return new File(vfio.containerFops, c, flags, path);
    });
  }
}

// ---------------- IOMMU driver registration ----------------

/** vfio_register_iommu_driver: 0, or -EINVAL when already registered */
export function vfioRegisterIommuDriver(vfio: VfioContainerCtx, ops: VfioIommuDriverOps): number {
  if (vfio.iommuDrivers.includes(ops)) return -EINVAL;
  vfio.iommuDrivers.push(ops);
  vfio.host.log?.info('vfio', `registered IOMMU driver ${ops.name}`);
  return 0;
}

/** vfio_unregister_iommu_driver */
export function vfioUnregisterIommuDriver(vfio: VfioContainerCtx, ops: VfioIommuDriverOps): void {
  const i = vfio.iommuDrivers.indexOf(ops);
  if (i >= 0) vfio.iommuDrivers.splice(i, 1);
}

// ---------------- the container fd ----------------

/** vfio_container_put: the last reference (fd or group) lets the container go */
export function containerPut(vfio: VfioContainerCtx, c: VfioContainer): void {
  c.refs--;
  if (c.refs === 0) vfio.containers.delete(c);
}

function containerIoctl(vfio: VfioContainerCtx, c: VfioContainer, task: Task, cmd: number, arg: number): number {
  switch (cmd) {
    case VFIO_GET_API_VERSION:
      return VFIO_API_VERSION;
    case VFIO_CHECK_EXTENSION: {
      if (c.iommuDriver) return c.iommuDriver.ioctl(c.iommuData, task, cmd, arg);
      let ret = 0;
      for (const d of vfio.iommuDrivers) {
        ret = d.ioctl(null, task, VFIO_CHECK_EXTENSION, arg);
        if (ret > 0) break;
      }
      return ret;
    }
    case VFIO_SET_IOMMU:
      return setIommu(vfio, c, arg);
    default:
      // vfio_fops_unl_ioctl (3.14 vfio.c; mainline container.c alike): `long ret =
      // -EINVAL;` and every other request is passed to the IOMMU driver if the container
      // has one, so without a driver any request (an IOMMU one, a device one, an unknown
      // one) is -EINVAL, not -ENOTTY
      if (c.iommuDriver) return c.iommuDriver.ioctl(c.iommuData, task, cmd, arg);
      return -EINVAL;
  }
}

function setIommu(vfio: VfioContainerCtx, c: VfioContainer, arg: number): number {
  if (c.groups.length === 0 || c.iommuDriver !== null) return -EINVAL;
  // vfio_ioctl_set_iommu (3.14 vfio.c; mainline alike): `long ret = -ENODEV;`, then each
  // driver whose CHECK_EXTENSION(type) is positive is opened: a type no driver offers
  // (unknown, or TYPE1v2 on 3.14's type1, `type1v2`) stays -ENODEV
  let ret = -ENODEV;
  for (const drv of vfio.iommuDrivers) {
    if (drv.ioctl(null, null, VFIO_CHECK_EXTENSION, arg) <= 0) continue;
    const data = drv.open(arg);
    if (typeof data === 'number') {
      ret = data;
      continue;
    }
    // attach every group; on failure detach the ones done
    let err = 0;
    const done: VfioGroup[] = [];
    for (const g of c.groups) {
      err = drv.attachGroup(data, g.iommuGroup);
      if (err) break;
      done.push(g);
    }
    if (err) {
      for (const g of done) drv.detachGroup(data, g.iommuGroup);
      drv.release(data);
      ret = err;
      continue;
    }
    c.iommuDriver = drv;
    c.iommuData = data;
    return 0;
  }
  return ret;
}

// ---------------- a group joins and leaves ----------------

/**
 * SET_CONTAINER with a container fd, once the group side has checked it (group.ts
 * setContainer): the group is attached to the container's backend if it has one (its error
 * returned), joins the container (a container reference) and becomes its first container user
 * (3.14 vfio_group_set_container; mainline vfio_container_attach_group)
 */
export function containerAttachGroup(vfio: VfioContainerCtx, g: VfioGroup, c: VfioContainer): number {
  // mainline vfio_container_attach_group: iommu_group_claim_dma_owner(group, file)
  const claim = vfio.host.groupOwnershipGuard === 'refuse-bind' && vfio.host.iommu.claimDmaOwner !== undefined;
  if (claim) {
    const r = vfio.host.iommu.claimDmaOwner!(g.iommuGroup, g);
    if (r < 0) return r;
  }
  if (c.iommuDriver && c.iommuData) {
    const r = c.iommuDriver.attachGroup(c.iommuData, g.iommuGroup);
    if (r) {
      if (claim) vfio.host.iommu.releaseDmaOwner?.(g.iommuGroup);
      return r;
    }
  }
  g.container = c;
  c.groups.push(g);
  c.refs++;
  g.containerUsers = 1;
  return 0;
}

/**
 * The group `g` leaves container `c` (3.14 __vfio_group_unset_container; mainline
 * vfio_container_detach_group): detached from the backend, the last group leaving releases the
 * backend (unmap + unpin everything), and the group's container reference is dropped
 */
export function containerDetachGroup(vfio: VfioContainerCtx, g: VfioGroup, c: VfioContainer): void {
  if (c.iommuDriver && c.iommuData) c.iommuDriver.detachGroup(c.iommuData, g.iommuGroup);
  // mainline vfio_container_detach_group: iommu_group_release_dma_owner
  if (vfio.host.groupOwnershipGuard === 'refuse-bind') vfio.host.iommu.releaseDmaOwner?.(g.iommuGroup);
  g.container = null;
  const i = c.groups.indexOf(g);
  if (i >= 0) c.groups.splice(i, 1);
  if (c.iommuDriver && c.groups.length === 0) {
    c.iommuDriver.release(c.iommuData!);
    c.iommuDriver = null;
    c.iommuData = null;
  }
  containerPut(vfio, c);
}
