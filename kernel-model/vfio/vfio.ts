import { EBADF, EBADFD, EBUSY, EFAULT, EINVAL, ENODEV, ENOTTY } from '../base/errno.js';
import type { KernelLog } from '../base/klog.js';
import { KernelOops } from '../base/oops.js';
import type { KDevice } from '../driver/types.js';
import { iommufdCtxFromFile, iommufdCtxPut, iommufdDeviceAttach, iommufdDeviceBind, iommufdDeviceDetach, iommufdDeviceReplace, iommufdDeviceUnbind, iommufdVfioCompatIoasCreate, iommufdVfioCompatIoasGetId, type IommufdCtx, type IommufdDevice } from '../iommu/iommufd/index.js';
import type { IommuCore, IommuGroup } from '../iommu/types.js';
import { anonInodeGetFile, File, type FileOps, type Task } from '../vfs/file.js';
import type { Vfs } from '../vfs/vfs.js';
import {
  O_CLOEXEC,
  O_RDWR,
  VFIO_DEVICE_BIND_IOMMUFD,
  VFIO_GROUP_FLAGS_CONTAINER_SET,
  VFIO_GROUP_FLAGS_VIABLE,
  VFIO_GROUP_GET_DEVICE_FD,
  VFIO_GROUP_GET_STATUS,
  VFIO_GROUP_SET_CONTAINER,
  VFIO_GROUP_UNSET_CONTAINER,
} from '../uapi/constants.js';
import type { Capabilities } from '../profile.js';
import { containerAttachGroup, containerDetachGroup, type VfioContainer, type VfioContainerCtx, vfioContainerFops, vfioContainerInit, vfioRegisterIommuDriver, vfioUnregisterIommuDriver } from './container.js';
import { VfioDeviceCdev, VfioDeviceFile } from './device-cdev.js';
import type { VfioDeviceOps, VfioIommuDriverOps, VfioIommufd } from './types.js';

/** iommufd's kernel API (kernel-model/iommu/iommufd/index.ts) as the device cdev calls it */
const IOMMUFD_API: VfioIommufd = {
  ctxFromFile: (f) => iommufdCtxFromFile(f),
  ctxPut: (ctx) => iommufdCtxPut(ctx as IommufdCtx),
  deviceBind: (ctx, dev) => iommufdDeviceBind(ctx as IommufdCtx, dev),
  deviceAttach: (idev, ptId) => iommufdDeviceAttach(idev as IommufdDevice, ptId),
  deviceReplace: (idev, ptId) => iommufdDeviceReplace(idev as IommufdDevice, ptId),
  deviceDetach: (idev) => iommufdDeviceDetach(idev as IommufdDevice),
  deviceUnbind: (idev) => iommufdDeviceUnbind(idev as IommufdDevice),
};

export { VfioContainer } from './container.js';

const PAGE_SIZE = 4096;

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
  constructor(readonly iommuGroup: IommuGroup) {}
  get id(): number {
    return this.iommuGroup.id;
  }
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
  readonly caps?: Pick<Capabilities, 'containerFileOps' | 'groupIoctls'> & Partial<Pick<Capabilities, 'iommufd' | 'vfioDeviceCdev'>>;
  /** the iommufd kernel API (kernel-model/iommu/iommufd) the device cdev binds through */
  readonly iommufd?: VfioIommufd;
}

/**
 * The VFIO core of the 2014 kernel (drivers/vfio/vfio.c): /dev/vfio/vfio containers,
 * /dev/vfio/<N> groups created when a bus driver adds a device of IOMMU group N, device
 * fds, IOMMU-backend registration. The rules are those of the VFIO uapi (include/uapi/linux/vfio.h,
 * Documentation/vfio.txt) as the 2014 drivers/vfio/vfio.c implements them (docs/VFIO.md).
 * The containers' code is in container.ts (this object is its VfioContainerCtx).
 */
export class Vfio implements VfioContainerCtx {
  readonly iommuDrivers: VfioIommuDriverOps[] = [];
  private readonly groupMap = new Map<number, VfioGroup>();
  readonly containers = new Set<VfioContainer>();
  /** the next container's id (container.ts) */
  nextContainerId = 1;
  // scratch for struct copies (no allocation on the ioctl path)
  private readonly sbuf = new Uint8Array(64);
  private readonly sview = new DataView(this.sbuf.buffer);

  readonly containerFops: FileOps;
  readonly groupFops: FileOps;
  readonly deviceFops: FileOps;
  /** the device cdevs (`vfioDeviceCdev`), else null */
  readonly cdev: VfioDeviceCdev | null;

  constructor(readonly host: VfioHost) {
    const self = this;
    this.cdev = host.caps?.vfioDeviceCdev
      ? new VfioDeviceCdev({
          vfs: host.vfs,
          iommufd: host.iommufd ?? (host.caps?.iommufd !== undefined && host.caps.iommufd !== 'none' ? IOMMUFD_API : undefined),
          groupInUse: (g) => g.opened || g.devices.some((d) => d.openCount > 0),
          putRegistration: (d) => {
            if (d.removing && d.openCount === 0 && d.cdevFiles === 0) this.dropDevice(d);
          },
        })
      : null;
    // the container fd's ops: container.ts
    this.containerFops = vfioContainerFops(this);
    this.groupFops = {
      name: 'vfio-group',
      ioctl: (f, task, cmd, arg) => self.groupIoctl(f.priv as VfioGroup, task, cmd, arg),
      release: (f) => self.groupRelease(f.priv as VfioGroup),
    };
    this.deviceFops = {
      name: 'vfio-device',
      // vfio_device_fops_read/write pass ppos to the bus driver, and vfio-platform's
      // read/write (posted and mainline) never update it: the file position stays
      keepsPos: true,
      ioctl: (f, task, cmd, arg) => {
        const d = f.priv as VfioDevice;
        // mainline vfio_device_fops_unl_ioctl hands BIND_IOMMUFD to vfio_df_ioctl_bind_iommufd
        // for every device file; a group-path file gets its header checks, then -EINVAL
        if (self.cdev !== null && cmd === VFIO_DEVICE_BIND_IOMMUFD) return self.cdev.bindIommufd(new VfioDeviceFile(d, d.group), task, arg);
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
    };
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
    let g = this.groupMap.get(ig.id);
    if (!g) {
      g = new VfioGroup(ig);
      this.groupMap.set(ig.id, g);
      const grp = g;
      this.host.vfs.addDevNode(`/dev/vfio/${ig.id}`, 0o600, (flags, _task, path) => this.groupOpen(grp, flags, path));
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
    this.maybeDropGroup(g);
  }

  /** a group without devices, not open and not in a container disappears with its node */
  private maybeDropGroup(g: VfioGroup): void {
    if (g.devices.length > 0 || g.opened || g.container !== null) return;
    if (this.groupMap.get(g.id) !== g) return;
    this.groupMap.delete(g.id);
    this.host.vfs.removeDevNode(`/dev/vfio/${g.id}`);
    if (g.nb !== null) this.host.iommu.groupUnregisterNotifier?.(g.iommuGroup, g.nb);
    g.nb = null;
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

  viable(g: VfioGroup): boolean {
    for (const dev of g.iommuGroup.devices) {
      if (dev.driver === null) continue;
      if (g.devices.some((d) => d.dev === dev)) continue;
      return false;
    }
    return true;
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
   * (the fuzzer's invariant checks read it after every call; tools/fuzz/model.ts).
   */
  groupRef(id: number): Readonly<VfioGroup> | null {
    return this.groupMap.get(id) ?? null;
  }

  /** every live container: its groups, backend name and backend instance (Type1Iommu for type1) */
  containerStates(): { id: number; groups: number[]; iommu: string | null; data: object | null }[] {
    return [...this.containers].map((c) => ({ id: c.id, groups: c.groups.map((g) => g.id), iommu: c.iommuDriver?.name ?? null, data: c.iommuData }));
  }

  // ---------------- group ----------------

  private groupOpen(g: VfioGroup, flags: number, path: string): File | number {
    if (this.groupMap.get(g.id) !== g) return -ENODEV;
    // mainline vfio_group_fops_open: a device of the group bound through its cdev (-EBUSY)
    if (g.cdevDeviceOpenCnt > 0) return -EBUSY;
    if (g.opened) return -EBUSY;
    // still attached to a container from an earlier open (device fds keep it)
    if (g.container !== null) return -EBUSY;
    g.opened = true;
    return new File(this.groupFops, g, flags, path);
  }

  private groupRelease(g: VfioGroup): void {
    // mainline vfio_group_fops_release: the iommufd context reference goes
    if (g.iommufd !== null) {
      iommufdCtxPut(g.iommufd);
      g.iommufd = null;
    }
    this.tryDissolveContainer(g);
    g.opened = false;
    this.maybeDropGroup(g);
  }

  /** drop one container user; the last one detaches the group */
  private tryDissolveContainer(g: VfioGroup): void {
    if (g.containerUsers > 0) {
      g.containerUsers--;
      if (g.containerUsers === 0) this.unsetContainerInternal(g);
    }
  }

  /** the group leaves its container (container.ts containerDetachGroup), then may disappear */
  private unsetContainerInternal(g: VfioGroup): void {
    const c = g.container;
    if (c === null) return;
    containerDetachGroup(this, g, c);
    this.maybeDropGroup(g);
  }

  private groupIoctl(g: VfioGroup, task: Task, cmd: number, arg: number): number {
    switch (cmd) {
      case VFIO_GROUP_GET_STATUS: {
        const r = task.mm.copyFromUser(this.sbuf, 0, arg, 8);
        if (r < 0) return r;
        if (this.sview.getUint32(0, true) < 8) return -EINVAL;
        let flags = 0;
        if (this.viable(g)) flags |= VFIO_GROUP_FLAGS_VIABLE;
        // mainline vfio_group_ioctl_get_status: vfio_group_has_iommu (a container or an iommufd)
        if (g.container !== null || g.iommufd !== null) flags |= VFIO_GROUP_FLAGS_CONTAINER_SET;
        this.sview.setUint32(4, flags, true);
        return task.mm.copyToUser(arg, this.sbuf, 0, 8) < 0 ? -EFAULT : 0;
      }
      case VFIO_GROUP_SET_CONTAINER: {
        const v = task.mm.getUser32(arg);
        if (v < 0) return -EFAULT;
        const fd = v | 0;
        // 3.14 vfio_group_ioctl: `if (fd < 0) return -EINVAL;`; mainline
        // vfio_group_ioctl_set_container hands any fd to fdget (-EBADF)
        if (fd < 0 && this.groupIoctls() === 'vfio-c') return -EINVAL;
        return this.setContainer(g, task, fd);
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
        this.unsetContainerInternal(g);
        return 0;
      case VFIO_GROUP_GET_DEVICE_FD: {
        const name = task.mm.strndupUser(arg, PAGE_SIZE);
        if (typeof name === 'number') return name;
        return this.getDeviceFd(g, task, name);
      }
      default:
        return -ENOTTY;
    }
  }

  private groupIoctls(): 'vfio-c' | 'group-c' {
    return this.host.caps?.groupIoctls ?? 'vfio-c';
  }

  /**
   * `groupIoctls` 'vfio-c' (3.14 vfio_group_set_container): container users -EINVAL, then
   * fdget -EBADF, then an fd whose f_op is not vfio_fops -EINVAL. 'group-c' (mainline
   * vfio_group_ioctl_set_container): fdget -EBADF, then vfio_group_has_iommu -EINVAL, then
   * vfio_container_from_file; the model has no iommufd (iommufd_ctx_from_file fails), so
   * any other fd is "not recognized": -EBADFD.
   */
  private setContainer(g: VfioGroup, task: Task, fd: number): number {
    const mainline = this.groupIoctls() === 'group-c';
    if (!mainline && g.containerUsers > 0) return -EINVAL;
    const f = fd < 0 ? null : task.proc.fdget(fd);
    if (f === null) return -EBADF;
    if (mainline && (g.containerUsers > 0 || g.iommufd !== null)) return -EINVAL;
    if (f.ops !== this.containerFops) {
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
    return containerAttachGroup(this, g, f.priv as VfioContainer);
  }

  /**
   * `groupIoctls` 'vfio-c' (3.14 vfio_group_get_device_fd): container users, the
   * container's IOMMU driver and viability (-EINVAL) before the name lookup (-ENODEV).
   * 'group-c' (mainline vfio_group_ioctl_get_device_fd): vfio_device_get_from_name first
   * (-ENODEV), then vfio_df_group_open / vfio_group_use_container (-EINVAL without a
   * container or without its IOMMU driver).
   */
  private getDeviceFd(g: VfioGroup, task: Task, name: string): number {
    const lookup = (): VfioDevice | undefined => g.devices.find((x) => x.dev.name === name && !x.removing);
    // a group attached to an iommufd: vfio_df_group_open only asks vfio_group_has_iommu (the
    // DMA-ownership claim of iommufd_device_bind decides the rest)
    const noContainer = (): boolean => g.iommufd === null && (g.containerUsers === 0 || g.container === null || g.container.iommuDriver === null || !this.viable(g));
    let d: VfioDevice | undefined;
    if (this.groupIoctls() === 'group-c') {
      d = lookup();
      if (!d) return -ENODEV;
      if (noContainer()) return -EINVAL;
    } else {
      if (noContainer()) return -EINVAL;
      d = lookup();
      if (!d) return -ENODEV;
    }
    if (g.iommufd !== null) return this.getDeviceFdIommufd(g, d, task);
    const r = d.ops.open(d.data);
    if (r) return r;
    const f = anonInodeGetFile('[vfio-device]', this.deviceFops, d, O_RDWR);
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
  private getDeviceFdIommufd(g: VfioGroup, d: VfioDevice, task: Task): number {
    const first = d.openCount === 0;
    if (first) {
      const b = iommufdDeviceBind(g.iommufd!, d.dev);
      if (typeof b === 'number') return b;
      d.groupIdev = b.idev;
    }
    const r = d.ops.open(d.data);
    if (r) {
      if (first) this.unbindGroupIdev(d);
      return r;
    }
    if (first) {
      const id = iommufdVfioCompatIoasGetId(g.iommufd!);
      const a = id < 0 ? id : iommufdDeviceAttach(d.groupIdev!, id);
      if (a < 0) {
        d.ops.release(d.data);
        this.unbindGroupIdev(d);
        return a;
      }
      d.groupIdevAttached = true;
    }
    const f = anonInodeGetFile('[vfio-device]', this.deviceFops, d, O_RDWR);
    const fd = task.proc.fdInstall(f, true);
    if (fd < 0) {
      d.ops.release(d.data);
      if (first) this.unbindGroupIdev(d);
      return fd;
    }
    d.openCount++;
    return fd;
  }

  /** vfio_iommufd_physical_unbind: detach if attached, then iommufd_device_unbind */
  private unbindGroupIdev(d: VfioDevice): void {
    const idev = d.groupIdev;
    if (idev === null) return;
    if (d.groupIdevAttached) iommufdDeviceDetach(idev);
    d.groupIdevAttached = false;
    d.groupIdev = null;
    iommufdDeviceUnbind(idev);
  }

  private deviceRelease(d: VfioDevice): void {
    d.ops.release(d.data);
    d.openCount--;
    if (d.groupIdev !== null) {
      // mainline vfio_df_device_last_close -> vfio_df_iommufd_unbind
      if (d.openCount === 0) this.unbindGroupIdev(d);
      if (d.removing && d.openCount === 0 && d.cdevFiles === 0) this.dropDevice(d);
      return;
    }
    this.tryDissolveContainer(d.group);
    if (d.removing && d.openCount === 0 && d.cdevFiles === 0) this.dropDevice(d);
  }
}

export { O_CLOEXEC };
