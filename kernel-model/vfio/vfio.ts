/**
 * The VFIO core (3.14 drivers/vfio/vfio.c; mainline's drivers/vfio/vfio_main.c): the `Vfio`
 * object a kernel has one of, holding the registered IOMMU backends, the containers and the
 * groups; struct vfio_device (`VfioDevice`) and the bus-driver interface that registers and
 * unregisters one (vfio_add_group_dev / vfio_del_group_dev, mainline vfio_register_group_dev /
 * vfio_unregister_group_dev, with the device cdev of device-cdev.ts under `vfioDeviceCdev`);
 * the device fd's file ops (vfio_device_fops, handed to the bus driver's vfio_device_ops) and
 * its release; 3.14's IOMMU group notifier (vfio_iommu_group_notifier, capability
 * `groupOwnershipGuard`); the inspection the tools read (groupState, containerStates). Split
 * as mainline splits vfio.c:
 * - container.ts (container.c): the container, its fd and ioctls, SET_IOMMU, the IOMMU
 *   backends' registration, a group's attach to and detach from a container,
 * - group.ts (group.c): the group, its fd and ioctls (SET/UNSET_CONTAINER, GET_DEVICE_FD with
 *   the iommufd path), its container users.
 * Both take the Vfio object through a narrow interface (VfioContainerCtx, VfioGroupCtx); the
 * fds' ops call them directly (no allocation on the ioctl path).
 */
import { EBUSY, EINVAL } from '../base/errno.js';
import type { KernelLog } from '../base/klog.js';
import { KernelOops } from '../base/oops.js';
import type { KDevice } from '../driver/types.js';
import { iommufdCtxFromFile, iommufdCtxPut, iommufdDeviceAttach, iommufdDeviceBind, iommufdDeviceDetach, iommufdDeviceReplace, iommufdDeviceUnbind, type IommufdCtx, type IommufdDevice } from '../iommu/iommufd/index.js';
import { IOMMU_CAP_CACHE_COHERENCY, type IommuCore } from '../iommu/types.js';
import type { Capabilities } from '../profile.js';
import { VFIO_DEVICE_BIND_IOMMUFD } from '../uapi/constants.js';
import type { FileOps } from '../vfs/file.js';
import type { Vfs } from '../vfs/vfs.js';
import { type VfioContainer, vfioContainerFops, vfioContainerInit, vfioRegisterIommuDriver, vfioUnregisterIommuDriver } from './container.js';
import { VfioDeviceCdev, VfioDeviceFile, type VfioCdevHost } from './device-cdev.js';
import { deviceFeatureIoctl, VFIO_DEVICE_FEATURE } from './device-feature.js';
import { groupViable, maybeDropGroup, tryDissolveContainer, unbindGroupIdev, vfioCreateGroup, vfioGroupFops, type VfioGroup, type VfioGroupCtx } from './group.js';
import type { VfioDeviceOps, VfioIommuDriverOps, VfioIommufd } from './types.js';

export { VfioContainer } from './container.js';
export { VfioGroup } from './group.js';

/** iommufd's kernel API (kernel-model/iommu/iommufd/index.ts) as the device cdev calls it */
const IOMMUFD_API: VfioIommufd = Object.freeze<VfioIommufd>({
  ctxFromFile: (f) => iommufdCtxFromFile(f),
  ctxPut: (ctx) => iommufdCtxPut(ctx as IommufdCtx),
  deviceBind: (ctx, dev) => iommufdDeviceBind(ctx as IommufdCtx, dev),
  deviceAttach: (idev, ptId) => iommufdDeviceAttach(idev as IommufdDevice, ptId),
  deviceReplace: (idev, ptId) => iommufdDeviceReplace(idev as IommufdDevice, ptId),
  deviceDetach: (idev) => iommufdDeviceDetach(idev as IommufdDevice),
  deviceUnbind: (idev) => iommufdDeviceUnbind(idev as IommufdDevice),
});

export class VfioDevice {
  /** open device fds */
  openCount = 0;
  /** vfio_del_group_dev was called while the device was open: removal completes at the last release */
  removing = false;
  /** what the waiting remover does once the device has left its group (delGroupDev's whenRemoved) */
  whenRemoved: (() => void) | null = null;
  /** device->index (vfio.device_ida) with `vfioDeviceCdev`: the N of vfioN; -1 without */
  index = -1;
  /** open cdev files (each holds a registration reference: vfio_device_fops_cdev_open) */
  cdevFiles = 0;
  /** device->cdev_opened: a cdev file has bound the device to an iommufd */
  cdevOpened = false;
  /** vdev->iommufd_device: the iommufd bond while a cdev file has the device bound */
  idev: object | null = null;
  /** vdev->iommufd_attached */
  iommufdAttached = false;
  /**
   * opened through a group attached to an iommufd (mainline vfio_df_group_open with
   * group->iommufd): the binding made at the first open (vfio_iommufd_physical_bind) and
   * whether it is attached to the compat IOAS (vdev->iommufd_attached)
   */
  groupIdev: IommufdDevice | null = null;
  groupIdevAttached = false;
  constructor(
    readonly dev: KDevice,
    readonly group: VfioGroup,
    readonly ops: VfioDeviceOps,
    readonly data: unknown,
  ) {}
}

export interface GroupState {
  id: number;
  viable: boolean;
  opened: boolean;
  containerSet: boolean;
  containerUsers: number;
  devices: string[];
  openDevices: string[];
}

export interface VfioHost {
  readonly vfs: Vfs;
  readonly iommu: IommuCore;
  readonly log: KernelLog | null;
  /**
   * the profile's caps.groupOwnershipGuard: 'bug-on' (3.14 vfio_iommu_group_notifier) or
   * 'refuse-bind' (mainline: the group's DMA ownership is claimed at SET_CONTAINER, so the
   * driver core refuses other drivers); absent: neither (unit-test fixtures)
   */
  readonly groupOwnershipGuard?: 'bug-on' | 'refuse-bind';
  /** BUG(): the kernel logs the report and stops the machine (tools/system wires it); the caller then unwinds */
  readonly bug?: (report: string[]) => void;
  /** the profile's capabilities (`containerFileOps`, `groupIoctls`); absent: the 3.14 rules */
  readonly caps?: Pick<Capabilities, 'containerFileOps' | 'groupIoctls'> & Partial<Pick<Capabilities, 'iommufd' | 'vfioDeviceCdev' | 'vfioDeviceFeature' | 'vfioGroupRevoke' | 'vfioRequireCacheCoherency'>>;
  /** the iommufd kernel API (kernel-model/iommu/iommufd) the device cdev binds through */
  readonly iommufd?: VfioIommufd;
}

/**
 * The VFIO core of the 2014 kernel (drivers/vfio/vfio.c): /dev/vfio/vfio containers,
 * /dev/vfio/<N> groups created when a bus driver adds a device of IOMMU group N, device
 * fds, IOMMU-backend registration. The rules are those of the VFIO uapi (include/uapi/linux/vfio.h,
 * Documentation/vfio.txt) as the 2014 drivers/vfio/vfio.c implements them (docs/VFIO.md).
 * The containers' code is in container.ts, the groups' in group.ts (this object is their
 * VfioGroupCtx).
 */
export class Vfio implements VfioGroupCtx {
  readonly iommuDrivers: VfioIommuDriverOps[] = [];
  /** the live groups by IOMMU group id (group.ts; read through group()/groups()/groupRef()) */
  readonly groupMap = new Map<number, VfioGroup>();
  readonly containers = new Set<VfioContainer>();
  /** the next container's id (container.ts) */
  nextContainerId = 1;
  /** scratch for struct copies (group.ts GET_STATUS: no allocation on the ioctl path) */
  readonly sbuf = new Uint8Array(64);
  readonly sview = new DataView(this.sbuf.buffer);

  readonly containerFops: FileOps;
  readonly groupFops: FileOps;
  readonly deviceFops: FileOps;
  /** the device cdevs (`vfioDeviceCdev`), else null */
  readonly cdev: VfioDeviceCdev | null;

  constructor(readonly host: VfioHost) {
    const self = this;
    this.cdev = host.caps?.vfioDeviceCdev
      ? new VfioDeviceCdev(Object.freeze<VfioCdevHost>({
          vfs: host.vfs,
          iommufd: host.iommufd ?? (host.caps?.iommufd !== undefined && host.caps.iommufd !== 'none' ? IOMMUFD_API : undefined),
          // group->opened_file: the group fd, or in container mode the device fds got through
          // it (vfio_group_use_container takes a reference on the group file); in iommufd mode
          // device fds take none, so once the group fd is closed the group is free
          groupInUse: (g) => g.opened || (g.container !== null && g.devices.some((d) => d.openCount > 0)),
          putRegistration: (d) => {
            if (d.removing && d.openCount === 0 && d.cdevFiles === 0) this.dropDevice(d);
          },
        }))
      : null;
    // the container fd's ops: container.ts
    this.containerFops = vfioContainerFops(this);
    // the group fd's ops: group.ts
    this.groupFops = vfioGroupFops(this);
    // frozen: constant (the fuzzer's snapshot does not record frozen objects)
    this.deviceFops = Object.freeze<FileOps>({
      name: 'vfio-device',
      // vfio_device_fops_read/write pass ppos to the bus driver, and vfio-platform's
      // read/write (posted and mainline) never update it: the file position stays
      keepsPos: true,
      ioctl: (f, task, cmd, arg) => {
        const d = f.priv as VfioDevice;
        // mainline vfio_device_fops_unl_ioctl hands BIND_IOMMUFD to vfio_df_ioctl_bind_iommufd
        // for every device file; a group-path file gets its header checks, then -EINVAL
        if (self.cdev !== null && cmd === VFIO_DEVICE_BIND_IOMMUFD) return self.cdev.bindIommufd(new VfioDeviceFile(d, d.group), task, arg);
        if (cmd === VFIO_DEVICE_FEATURE && host.caps?.vfioDeviceFeature) return deviceFeatureIoctl(task.mm, arg);
        return d.ops.ioctl ? d.ops.ioctl(d.data, task, cmd, arg) : -EINVAL;
      },
      read: (f, task, buf, count, pos) => {
        const d = f.priv as VfioDevice;
        return d.ops.read ? d.ops.read(d.data, task, buf, count, pos) : -EINVAL;
      },
      write: (f, task, buf, count, pos) => {
        const d = f.priv as VfioDevice;
        return d.ops.write ? d.ops.write(d.data, task, buf, count, pos) : -EINVAL;
      },
      mmap: (f, task, vma) => {
        const d = f.priv as VfioDevice;
        return d.ops.mmap ? d.ops.mmap(d.data, task, vma) : -EINVAL;
      },
      release: (f) => self.deviceRelease(f.priv as VfioDevice),
    });
    // /dev/vfio/vfio (container.ts)
    vfioContainerInit(this);
  }

  // ---------------- IOMMU driver registration (container.ts) ----------------

  registerIommuDriver(ops: VfioIommuDriverOps): number {
    return vfioRegisterIommuDriver(this, ops);
  }

  unregisterIommuDriver(ops: VfioIommuDriverOps): void {
    vfioUnregisterIommuDriver(this, ops);
  }

  // ---------------- bus-driver interface ----------------

  /** vfio_add_group_dev: 0, -EINVAL (no IOMMU group), -EBUSY (already added) */
  addGroupDev(dev: KDevice, ops: VfioDeviceOps, data: unknown): number {
    const ig = this.host.iommu.groupOf(dev);
    if (ig === null) return -EINVAL;
    // mainline __vfio_register_dev: "VFIO always sets IOMMU_CACHE because we offer no way for
    // userspace to restore cache coherency": a device its IOMMU cannot make coherent is -EINVAL
    // (`vfioRequireCacheCoherency`). The kernel checks after vfio_device_set_group and removes
    // the group again on the error (vfio_device_remove_group); nothing of it stays visible.
    if (this.host.caps?.vfioRequireCacheCoherency && !this.host.iommu.capable(dev.bus.name, IOMMU_CAP_CACHE_COHERENCY, dev)) return -EINVAL;
    let g = this.groupMap.get(ig.id);
    if (!g) {
      // the group and its node /dev/vfio/<N> (group.ts)
      g = vfioCreateGroup(this, ig);
      const grp = g;
      // vfio_create_group: iommu_group_register_notifier(iommu_group, &group->nb)
      grp.nb = (ev, d) => this.groupNotifier(grp, ev, d);
      this.host.iommu.groupRegisterNotifier?.(ig, grp.nb);
    }
    if (g.devices.some((d) => d.dev === dev)) return -EBUSY;
    const vd = new VfioDevice(dev, g, ops, data);
    if (this.cdev !== null) {
      // vfio_init_device (ida) at vfio_alloc_device, vfio_device_add at registration
      const index = this.cdev.allocIndex();
      if (index < 0) return index;
      vd.index = index;
      this.cdev.add(vd);
    }
    g.devices.push(vd);
    return 0;
  }

  /**
   * vfio_del_group_dev (3.14) / vfio_unregister_group_dev (mainline): returns the device data,
   * or null when the device is unknown. Linux sleeps (3.14: wait_event on vfio.release_q until
   * the device is released; mainline: wait_for_completion on device->comp, asking the driver's
   * request op, which vfio-platform lacks) until every device fd is closed. The model's remover
   * cannot sleep: the device is marked, leaves its group at its last release, and `whenRemoved`
   * (what the remover does after the wait) runs then; at once when no fd is open.
   */
  delGroupDev(dev: KDevice, whenRemoved?: () => void): unknown {
    for (const g of this.groupMap.values()) {
      const d = g.devices.find((x) => x.dev === dev);
      if (!d) continue;
      // vfio_unregister_group_dev -> vfio_device_del: no new cdev opens, the node goes now
      if (this.cdev !== null && d.index >= 0 && !d.removing) this.cdev.del(d);
      if (d.openCount > 0 || d.cdevFiles > 0) {
        d.removing = true;
        d.whenRemoved = whenRemoved ?? null;
        this.host.log?.warn('vfio', `${dev.name}: removal waits until its device fds are closed`);
      } else {
        this.dropDevice(d);
        whenRemoved?.();
      }
      return d.data;
    }
    return null;
  }

  private dropDevice(d: VfioDevice): void {
    const after = d.whenRemoved;
    d.whenRemoved = null;
    this.dropDeviceNow(d);
    after?.();
  }

  private dropDeviceNow(d: VfioDevice): void {
    const g = d.group;
    // vfio_device_release: ida_free of the index
    if (this.cdev !== null && d.index >= 0) this.cdev.freeIndex(d.index);
    d.index = -1;
    const i = g.devices.indexOf(d);
    if (i >= 0) g.devices.splice(i, 1);
    maybeDropGroup(this, g);
  }

  // ---------------- the group notifier (3.14 vfio_iommu_group_notifier) ----------------

  /**
   * IOMMU_GROUP_NOTIFY_BOUND_DRIVER runs BUG_ON(vfio_group_nb_verify(group, dev)) in 3.14: a
   * driver has just been bound (its probe succeeded) to a device of a group user space is
   * using (container_users != 0), and it is neither a vfio driver (the device is not in the
   * vfio group) nor driver-less. vfio.c's own comment on UNBOUND_DRIVER: "Once that occurs, we
   * have to stop the system to maintain isolation". Mainline prevents the bind instead
   * (driver core dma_configure, caps.groupOwnershipGuard 'refuse-bind'), so this never fires.
   */
  private groupNotifier(g: VfioGroup, ev: string, dev: KDevice): void {
    if (ev !== 'bound-driver' || this.host.groupOwnershipGuard !== 'bug-on') return;
    if (this.nbVerify(g, dev) === 0) return;
    const report = [
      '------------[ cut here ]------------',
      'kernel BUG at drivers/vfio/vfio.c!',
      'Internal error: Oops - BUG: 0 [#1] ARM',
      'PC is at vfio_iommu_group_notifier',
      'LR is at notifier_call_chain',
      `vfio_iommu_group_notifier: BUG_ON(vfio_group_nb_verify(group, dev)): device ${dev.name}, group ${g.id} (container_users ${g.containerUsers}) bound to driver ${dev.driver?.name ?? '(none)'}`,
      'Backtrace: vfio_iommu_group_notifier <- notifier_call_chain <- __blocking_notifier_call_chain <- iommu_bus_notifier <- notifier_call_chain <- __blocking_notifier_call_chain <- driver_bound <- really_probe <- driver_probe_device <- bind_store <- drv_attr_store <- sysfs_write_file <- vfs_write <- SyS_write',
    ];
    this.host.bug?.(report);
    throw new KernelOops('bug', 0, `kernel BUG at drivers/vfio/vfio.c (vfio_iommu_group_notifier, device ${dev.name}, group ${g.id})`);
  }

  /** vfio_group_nb_verify: 0 unless the group is in use and vfio_dev_viable() says no */
  private nbVerify(g: VfioGroup, dev: KDevice): number {
    if (g.containerUsers === 0) return 0;
    // vfio_dev_viable: driver-less, or a device of the vfio group
    if (dev.driver === null) return 0;
    if (g.devices.some((d) => d.dev === dev)) return 0;
    return -EINVAL;
  }

  // ---------------- inspection ----------------

  group(id: number): VfioGroup | null {
    return this.groupMap.get(id) ?? null;
  }

  groups(): VfioGroup[] {
    return [...this.groupMap.values()];
  }

  /** vfio_group_viable (group.ts) */
  viable(g: VfioGroup): boolean {
    return groupViable(g);
  }

  groupState(id: number): GroupState | null {
    const g = this.groupMap.get(id);
    if (!g) return null;
    return {
      id,
      viable: this.viable(g),
      opened: g.opened,
      containerSet: g.container !== null,
      containerUsers: g.containerUsers,
      devices: g.devices.map((d) => d.dev.name),
      openDevices: g.devices.filter((d) => d.openCount > 0).map((d) => d.dev.name),
    };
  }

  /**
   * The group object itself, to be read only: what groupState() reports, without building it
   * (the fuzzer's invariant checks read it after every call; tools/fuzz/model-compare.ts).
   */
  groupRef(id: number): Readonly<VfioGroup> | null {
    return this.groupMap.get(id) ?? null;
  }

  /** every live container: its groups, backend name and backend instance (Type1Iommu for type1) */
  containerStates(): { id: number; groups: number[]; iommu: string | null; data: object | null }[] {
    return [...this.containers].map((c) => ({ id: c.id, groups: c.groups.map((g) => g.id), iommu: c.iommuDriver?.name ?? null, data: c.iommuData }));
  }

  // ---------------- the device fd's release ----------------

  /**
   * vfio_device_fops_release: the bus driver's release, then one container user less (group.ts);
   * a device attached through the group's iommufd is unbound at its last close instead
   */
  private deviceRelease(d: VfioDevice): void {
    d.ops.release(d.data);
    d.openCount--;
    if (d.groupIdev !== null) {
      // mainline vfio_df_device_last_close -> vfio_df_iommufd_unbind
      if (d.openCount === 0) unbindGroupIdev(d);
      if (d.removing && d.openCount === 0 && d.cdevFiles === 0) this.dropDevice(d);
      return;
    }
    tryDissolveContainer(this, d.group);
    if (d.removing && d.openCount === 0 && d.cdevFiles === 0) this.dropDevice(d);
  }
}
