/**
 * The VFIO device cdev of today's kernel (capability `vfioDeviceCdev`): every registered VFIO
 * device gets /dev/vfio/devices/vfioN and the sysfs class device `vfio-dev/vfioN` under its
 * parent (drivers/vfio/vfio_main.c vfio_device_add, device_cdev.c vfio_cdev_init /
 * vfio_device_devnode). An fd opened there is a device file that refuses everything until
 * VFIO_DEVICE_BIND_IOMMUFD binds it to an iommufd context (device_cdev.c
 * vfio_df_ioctl_bind_iommufd); VFIO_DEVICE_ATTACH/DETACH_IOMMUFD_PT then put the device in an
 * IOAS or HWPT (vfio_df_ioctl_attach_pt / detach_pt through the "physical" device ops of
 * drivers/vfio/iommufd.c, which vfio-platform uses). The group path and the cdev path exclude
 * each other: binding a cdev fd blocks the group's open and an open group blocks the bind
 * (group.c vfio_device_block_group, vfio_group_fops_open).
 *
 * The iommufd side (contexts, IOAS, HWPT, DMA ownership at bind) is reached through the
 * `VfioIommufd` interface (types.ts).
 */
import { EBADF, EBADFD, EBUSY, EFAULT, EINVAL, ENODEV } from '../base/errno.js';
import type { Vma } from '../process/mm.js';
import type { Sysfs } from '../sysfs/sysfs.js';
import {
  VFIO_DEVICE_ATTACH_IOMMUFD_PT,
  VFIO_DEVICE_BIND_IOMMUFD,
  VFIO_DEVICE_DETACH_IOMMUFD_PT,
} from '../uapi/constants.js';
import { vfio_device_attach_iommufd_pt, vfio_device_bind_iommufd, vfio_device_detach_iommufd_pt } from '../uapi/structs.js';
import { File, type FileOps, type Task } from '../vfs/file.js';
import { RamDir, type Vfs } from '../vfs/vfs.js';
import { deviceFeatureIoctl, VFIO_DEVICE_FEATURE } from './device-feature.js';
import type { VfioIommufd } from './types.js';
import type { VfioGroup } from './group.js';
import type { VfioDevice } from './vfio.js';

/**
 * The char major of the "vfio-dev" region. vfio_cdev_init asks alloc_chrdev_region for a
 * whole dynamic major (MINORMASK + 1 minors; fs/char_dev.c find_dynamic_major counts down
 * from 254); which one it gets depends on what registered before it at boot. The model's
 * value; the minor is the device's index (vfio_init_device_cdev: MKDEV(MAJOR(device_devt),
 * device->index)).
 */
export const VFIO_DEV_MAJOR = 245;
/** vfio_init_device: ida_alloc_max(&vfio.device_ida, MINORMASK) */
const MINORMASK = (1 << 20) - 1;

/** struct vfio_device_file (drivers/vfio/vfio.h): one open device fd, through a cdev or a group */
export class VfioDeviceFile {
  /** set (smp_store_release) once BIND_IOMMUFD has opened the device; group-path files have it from the start */
  accessGranted = false;
  /** df->iommufd: the context the bind holds a reference on (iommufd_ctx_from_fd) */
  iommufd: object | null = null;
  /** the id iommufd gave the bond (out_devid) */
  devid = 0;
  constructor(
    readonly device: VfioDevice,
    /** df->group: null for a cdev file */
    readonly group: VfioGroup | null,
  ) {}
}

export interface VfioCdevHost {
  readonly vfs: Vfs;
  readonly iommufd?: VfioIommufd;
  /** group->opened_file != NULL: the group fd is open, or device fds got through it are (they hold it) */
  groupInUse(g: VfioGroup): boolean;
  /** vfio_device_put_registration for a cdev file: the deferred removal completes at the last one */
  putRegistration(d: VfioDevice): void;
}

export class VfioDeviceCdev {
  readonly fops: FileOps;
  private readonly used: boolean[] = [];
  private readonly sbuf = new Uint8Array(16);
  private readonly sview = new DataView(this.sbuf.buffer);

  constructor(private readonly host: VfioCdevHost) {
    const self = this;
    const df = (f: File): VfioDeviceFile => f.priv as VfioDeviceFile;
    // vfio_device_fops (vfio_main.c): read/write/mmap check df->access_granted first
    // (smp_load_acquire), -EINVAL before the bind; then the bus driver's op, -EINVAL without one
    this.fops = Object.freeze<FileOps>({
      name: 'vfio-device',
      keepsPos: true,
      ioctl: (f, task, cmd, arg) => self.ioctl(df(f), task, cmd, arg),
      read: (f, task, buf, count, pos) => {
        const d = df(f).device;
        if (!df(f).accessGranted) return -EINVAL;
        return d.ops.read ? d.ops.read(d.data, task, buf, count, pos) : -EINVAL;
      },
      write: (f, task, buf, count, pos) => {
        const d = df(f).device;
        if (!df(f).accessGranted) return -EINVAL;
        return d.ops.write ? d.ops.write(d.data, task, buf, count, pos) : -EINVAL;
      },
      mmap: (f: File, task: Task, vma: Vma) => {
        const d = df(f).device;
        if (!df(f).accessGranted) return -EINVAL;
        return d.ops.mmap ? d.ops.mmap(d.data, task, vma) : -EINVAL;
      },
      release: (f) => self.release(df(f)),
    });
    // every field is readonly: frozen, so that the fuzzer's snapshot (tools/fuzz/snapshot.ts) need not record it
    Object.freeze(this);
  }

  private get sysfs(): Sysfs | null {
    return this.host.vfs.sysfs;
  }

  // ---------------- registration (vfio_main.c) ----------------

  /** vfio_init_device: the lowest free index of vfio.device_ida, or -ENOSPC-like -EINVAL when all are taken */
  allocIndex(): number {
    let i = this.used.indexOf(false);
    if (i < 0) i = this.used.length;
    if (i > MINORMASK) return -EINVAL;
    this.used[i] = true;
    return i;
  }

  /** vfio_device_release: ida_free(&vfio.device_ida, device->index) */
  freeIndex(i: number): void {
    if (i >= 0 && i < this.used.length) this.used[i] = false;
  }

  private classDir(d: VfioDevice): string | null {
    return d.dev.sysfsRel === undefined ? null : `${d.dev.sysfsRel}/vfio-dev/vfio${d.index}`;
  }

  /**
   * vfio_device_add -> cdev_device_add: the class device "vfio%d" (dev_set_name in
   * __vfio_register_dev) under its parent in the "vfio-dev" class glue directory, its `dev`
   * attribute, /sys/class/vfio-dev/vfioN, and the devtmpfs node vfio/devices/vfioN
   * (vfio_device_devnode; mode 0600, the devtmpfs default)
   */
  add(d: VfioDevice): void {
    const name = `vfio${d.index}`;
    this.host.vfs.addDevNode(`/dev/vfio/devices/${name}`, 0o600, (flags, _task, path) => this.open(d, flags, path));
    const dir = this.classDir(d);
    const sysfs = this.sysfs;
    if (dir === null || sysfs === null) return;
    sysfs.mkdir(dir);
    const devt = `${VFIO_DEV_MAJOR}:${d.index}`;
    sysfs.addFile(`${dir}/dev`, { mode: 0o444, show: () => `${devt}\n` });
    sysfs.addFile(`${dir}/uevent`, { mode: 0o644, show: () => `MAJOR=${VFIO_DEV_MAJOR}\nMINOR=${d.index}\nDEVNAME=vfio/devices/${name}\n`, store: (s) => s.length });
    sysfs.addLink(`${dir}/subsystem`, '/sys/class/vfio-dev');
    sysfs.addLink(`${dir}/device`, `/sys/${d.dev.sysfsRel}`);
    sysfs.mkdir('class/vfio-dev');
    sysfs.addLink(`class/vfio-dev/${name}`, `/sys/${dir}`);
  }

  /** vfio_device_del -> cdev_device_del: node and sysfs entries go at unregister, open fds stay */
  del(d: VfioDevice): void {
    const name = `vfio${d.index}`;
    this.host.vfs.removeDevNode(`/dev/vfio/devices/${name}`);
    // devtmpfs delete_path: the directories the node needed go with their last entry
    const dir = this.host.vfs.walk('/dev/vfio/devices', false);
    if (typeof dir !== 'number' && dir.node instanceof RamDir && dir.node.children.size === 0) this.host.vfs.removeDevNode('/dev/vfio/devices');
    const cls = this.classDir(d);
    const sysfs = this.sysfs;
    if (cls === null || sysfs === null) return;
    sysfs.remove(`class/vfio-dev/${name}`);
    sysfs.remove(cls);
    // the class glue directory goes with its last child (cleanup_glue_dir)
    const glue = `${d.dev.sysfsRel}/vfio-dev`;
    if ((sysfs.list(glue) ?? []).length === 0) sysfs.remove(glue);
  }

  // ---------------- the cdev file ----------------

  /** vfio_device_fops_cdev_open: a device file that is not usable until BIND_IOMMUFD */
  private open(d: VfioDevice, flags: number, path: string): File | number {
    // vfio_device_try_get_registration: the device is being unregistered
    if (d.removing) return -ENODEV;
    d.cdevFiles++;
    return new File(this.fops, new VfioDeviceFile(d, null), flags, path);
  }

  /** vfio_device_fops_release for a cdev file: vfio_df_unbind_iommufd, then the registration reference */
  private release(df: VfioDeviceFile): void {
    this.unbind(df);
    df.device.cdevFiles--;
    this.host.putRegistration(df.device);
  }

  /**
   * vfio_device_fops_unl_ioctl: BIND_IOMMUFD first (allowed before access is granted), then
   * everything else -EINVAL until the bind succeeded; the cdev-only ATTACH/DETACH_IOMMUFD_PT;
   * the rest to the bus driver (-EINVAL when it has no ioctl)
   */
  private ioctl(df: VfioDeviceFile, task: Task, cmd: number, arg: number): number {
    if (cmd === VFIO_DEVICE_BIND_IOMMUFD) return this.bindIommufd(df, task, arg);
    if (!df.accessGranted) return -EINVAL;
    if (df.group === null) {
      if (cmd === VFIO_DEVICE_ATTACH_IOMMUFD_PT) return this.attachPt(df, task, arg);
      if (cmd === VFIO_DEVICE_DETACH_IOMMUFD_PT) return this.detachPt(df, task, arg);
    }
    const d = df.device;
    // (the cdev exists only in profiles whose core decodes VFIO_DEVICE_FEATURE)
    if (cmd === VFIO_DEVICE_FEATURE) return deviceFeatureIoctl(task.mm, arg);
    return d.ops.ioctl ? d.ops.ioctl(d.data, task, cmd, arg) : -EINVAL;
  }

  /**
   * vfio_df_ioctl_bind_iommufd (device_cdev.c), in its order: copy_from_user of argsz..out_devid
   * (-EFAULT); argsz < minsz, flags, iommufd < 0 (-EINVAL); a group-path file (-EINVAL);
   * vfio_device_block_group (-EBUSY while the group is open); already bound (-EINVAL);
   * iommufd_ctx_from_fd (-EBADF, -EBADFD); vfio_df_open (-EINVAL when the device is open
   * already: "Only the group path allows the device to be opened multiple times"; then
   * vfio_df_device_first_open: vfio_iommufd_physical_bind -> iommufd_device_bind, then the
   * driver's open_device); copy_to_user of out_devid (-EFAULT, the device closed again).
   * Exported for the group-path file (`group` set), which stops at the group check.
   */
  bindIommufd(df: VfioDeviceFile, task: Task, arg: number): number {
    const minsz = vfio_device_bind_iommufd.minsz;
    if (task.mm.copyFromUser(this.sbuf, 0, arg, minsz) < 0) return -EFAULT;
    const argsz = this.sview.getUint32(vfio_device_bind_iommufd.argsz, true);
    const flags = this.sview.getUint32(vfio_device_bind_iommufd.flags, true);
    const fd = this.sview.getInt32(vfio_device_bind_iommufd.iommufd, true);
    if (argsz < minsz || flags !== 0 || fd < 0) return -EINVAL;
    if (df.group !== null) return -EINVAL;
    const d = df.device;
    const r = this.blockGroup(d);
    if (r) return r;
    const ret = this.bindLocked(df, task, arg, fd);
    if (ret) this.unblockGroup(d);
    return ret;
  }

  private bindLocked(df: VfioDeviceFile, task: Task, arg: number, fd: number): number {
    const d = df.device;
    if (df.accessGranted) return -EINVAL;
    // iommufd_ctx_from_fd: fget (-EBADF), f_op != &iommufd_fops (-EBADFD); a context reference
    const f = task.proc.fdget(fd);
    if (f === null) return -EBADF;
    const iommufd = this.host.iommufd;
    const ctx = iommufd ? iommufd.ctxFromFile(f) : -EBADFD;
    if (typeof ctx === 'number') return ctx;
    df.iommufd = ctx;
    // vfio_df_open: a cdev file may not open a device that is open already (open_count != 0 && !df->group)
    let ret = d.openCount !== 0 || d.cdevOpened ? -EINVAL : this.firstOpen(d, ctx, df);
    if (ret === 0) {
      this.sview.setUint32(0, df.devid, true);
      if (task.mm.copyToUser(arg + vfio_device_bind_iommufd.out_devid, this.sbuf, 0, 4) < 0) {
        this.lastClose(d);
        ret = -EFAULT;
      }
    }
    if (ret) {
      iommufd!.ctxPut(ctx);
      df.iommufd = null;
      return ret;
    }
    d.cdevOpened = true;
    df.accessGranted = true;
    return 0;
  }

  /**
   * vfio_df_device_first_open with an iommufd: vfio_df_iommufd_bind ->
   * vfio_iommufd_physical_bind (iommufd_device_bind; vdev->iommufd_device), then the driver's
   * open_device; its failure unbinds again
   */
  private firstOpen(d: VfioDevice, ctx: object, df: VfioDeviceFile): number {
    const b = this.host.iommufd!.deviceBind(ctx, d.dev);
    if (typeof b === 'number') return b;
    d.idev = b.idev;
    df.devid = b.devId;
    const r = d.ops.open(d.data);
    if (r) {
      this.physicalUnbind(d);
      return r;
    }
    return 0;
  }

  /** vfio_df_device_last_close: the driver's close_device, then vfio_df_iommufd_unbind */
  private lastClose(d: VfioDevice): void {
    d.ops.release(d.data);
    this.physicalUnbind(d);
  }

  /** vfio_iommufd_physical_unbind: detach if attached, then iommufd_device_unbind */
  private physicalUnbind(d: VfioDevice): void {
    const iommufd = this.host.iommufd;
    if (d.idev === null || !iommufd) return;
    if (d.iommufdAttached) {
      iommufd.deviceDetach(d.idev);
      d.iommufdAttached = false;
    }
    iommufd.deviceUnbind(d.idev);
    d.idev = null;
  }

  /** vfio_df_unbind_iommufd: nothing before the bind; else close, drop the context, unblock the group */
  private unbind(df: VfioDeviceFile): void {
    if (!df.accessGranted) return;
    const d = df.device;
    this.lastClose(d);
    if (df.iommufd !== null) this.host.iommufd?.ctxPut(df.iommufd);
    df.iommufd = null;
    d.cdevOpened = false;
    df.accessGranted = false;
    this.unblockGroup(d);
  }

  /** group.c vfio_device_block_group: -EBUSY while the group file is open; else cdev_device_open_cnt++ */
  private blockGroup(d: VfioDevice): number {
    if (this.host.groupInUse(d.group)) return -EBUSY;
    d.group.cdevDeviceOpenCnt++;
    return 0;
  }

  private unblockGroup(d: VfioDevice): void {
    if (d.group.cdevDeviceOpenCnt > 0) d.group.cdevDeviceOpenCnt--;
  }

  /**
   * vfio_df_ioctl_attach_pt (v6.12, before PASID attach): copy_from_user argsz..pt_id
   * (-EFAULT); argsz < minsz or any flag (-EINVAL); vfio_iommufd_physical_attach_ioas
   * (iommufd_device_replace when attached, else iommufd_device_attach; their -errno); the
   * attached id copied back into pt_id (-EFAULT: detached again)
   */
  private attachPt(df: VfioDeviceFile, task: Task, arg: number): number {
    const s = vfio_device_attach_iommufd_pt;
    if (task.mm.copyFromUser(this.sbuf, 0, arg, s.minsz) < 0) return -EFAULT;
    if (this.sview.getUint32(s.argsz, true) < s.minsz || this.sview.getUint32(s.flags, true) !== 0) return -EINVAL;
    const ptId = this.sview.getUint32(s.pt_id, true);
    const d = df.device;
    const iommufd = this.host.iommufd;
    // WARN_ON(!vdev->iommufd_device)
    if (d.idev === null || !iommufd) return -EINVAL;
    const r = d.iommufdAttached ? iommufd.deviceReplace(d.idev, ptId) : iommufd.deviceAttach(d.idev, ptId);
    if (r < 0) return r;
    d.iommufdAttached = true;
    this.sview.setUint32(0, r, true);
    if (task.mm.copyToUser(arg + s.pt_id, this.sbuf, 0, 4) < 0) {
      this.physicalDetach(d);
      return -EFAULT;
    }
    return 0;
  }

  /** vfio_df_ioctl_detach_pt: copy (-EFAULT), argsz < minsz or flags (-EINVAL), then vfio_iommufd_physical_detach_ioas (0 even when not attached) */
  private detachPt(df: VfioDeviceFile, task: Task, arg: number): number {
    const s = vfio_device_detach_iommufd_pt;
    if (task.mm.copyFromUser(this.sbuf, 0, arg, s.minsz) < 0) return -EFAULT;
    if (this.sview.getUint32(s.argsz, true) < s.minsz || this.sview.getUint32(s.flags, true) !== 0) return -EINVAL;
    this.physicalDetach(df.device);
    return 0;
  }

  /** vfio_iommufd_physical_detach_ioas: nothing unless attached */
  private physicalDetach(d: VfioDevice): void {
    if (d.idev === null || !d.iommufdAttached) return;
    this.host.iommufd?.deviceDetach(d.idev);
    d.iommufdAttached = false;
  }
}
