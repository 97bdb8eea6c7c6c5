/**
 * iommufd's core (Linux v6.12 drivers/iommu/iommufd/main.c): the misc device /dev/iommu
 * (iommu_misc_dev, mode 0660) and, with CONFIG_IOMMUFD_VFIO_CONTAINER, /dev/vfio/vfio
 * (vfio_misc_dev, 0666) served by the same iommufd_fops; the ioctl dispatcher
 * (iommufd_fops_ioctl) and its table; object removal (iommufd_object_remove) and the
 * release of a context (iommufd_fops_release).
 */
import { E2BIG, EBADF, EBADFD, EBUSY, EFAULT, EINVAL, ENOENT, ENOIOCTLCMD, ENOTTY, EOPNOTSUPP } from '../../base/errno.js';
import type { KernelLog } from '../../base/klog.js';
import type { KernelParams } from '../../base/params.js';
import type { Process } from '../../process/process.js';
import { accessOk } from '../../process/mm.js';
import { File, type FileOps, type Task } from '../../vfs/file.js';
import type { Vfs } from '../../vfs/vfs.js';
import type { IommuCoreImpl } from '../core.js';
import { deviceDestroy, hwptPagingDestroy, iommufdGetHwInfo, iommufdHwptAlloc, iommufdHwptGetDirtyBitmap, iommufdHwptInvalidate, iommufdHwptSetDirtyTracking } from './device.js';
import { iommufdFaultAlloc } from './fault.js';
import { ioasAllocIoctl, ioasAllowIovas, ioasCopy, ioasIovaRanges, ioasMap, ioasOption, ioasUnmap, optionRlimitMode } from './ioas.js';
import { HwptPaging, Ioas, IommufdCtx, IommufdDevice, type IommufdObject } from './objects.js';
import { IOPT_PAGES_ACCOUNT_MM, UserLockedVm } from './pages.js';
import { IOCTL_SIZES, IOMMU_OPTION_HUGE_PAGES, IOMMU_OPTION_RLIMIT_MODE, IOMMUFD_CMD_BASE, IOMMUFD_CMD_DESTROY, IOMMUFD_CMD_FAULT_QUEUE_ALLOC, IOMMUFD_CMD_GET_HW_INFO, IOMMUFD_CMD_HWPT_ALLOC, IOMMUFD_CMD_HWPT_GET_DIRTY_BITMAP, IOMMUFD_CMD_HWPT_INVALIDATE, IOMMUFD_CMD_HWPT_SET_DIRTY_TRACKING, IOMMUFD_CMD_IOAS_ALLOC, IOMMUFD_CMD_IOAS_ALLOW_IOVAS, IOMMUFD_CMD_IOAS_COPY, IOMMUFD_CMD_IOAS_IOVA_RANGES, IOMMUFD_CMD_IOAS_MAP, IOMMUFD_CMD_IOAS_UNMAP, IOMMUFD_CMD_LAST, IOMMUFD_CMD_OPTION, IOMMUFD_CMD_VFIO_IOAS, IOMMUFD_TYPE } from './uapi.js';
import { iommufdVfioIoas, iommufdVfioIoctl } from './vfio-compat.js';

/** struct iommufd_ucmd: one ioctl's command buffer (the union ucmd_buffer) and its user pointer */
export interface Ucmd {
  readonly ictx: IommufdCtx;
  readonly task: Task;
  /** ucmd->ubuffer */
  readonly arg: number;
  /** ucmd->user_size: the struct's first u32 as user space gave it */
  readonly userSize: number;
  readonly buf: Uint8Array;
  readonly dv: DataView;
}

/**
 * The command buffers, per command number: scratch outside the model's state (a handler reads
 * and writes its buffer only while it runs; each command starts from zeros), kept at module
 * level so that the fuzzer's snapshot does not record them.
 */
const ucmdBuffers: Array<{ readonly buf: Uint8Array; readonly dv: DataView; busy: boolean } | undefined> = [];

/** iommufd_ucmd_respond: copy the command back, min(user_size, cmd_len) bytes; -EFAULT */
export function ucmdRespond(u: Ucmd, len: number): number {
  return u.task.mm.copyToUser(u.arg, u.buf, 0, Math.min(u.userSize, len)) < 0 ? -EFAULT : 0;
}

type Handler = (u: Ucmd) => number;

/** iommufd_ioctl_ops[]: every v6.12 entry */
const HANDLERS: Readonly<Record<number, Handler>> = {
  [IOMMUFD_CMD_DESTROY]: (u) => iommufdDestroy(u),
  [IOMMUFD_CMD_IOAS_ALLOC]: ioasAllocIoctl,
  [IOMMUFD_CMD_IOAS_ALLOW_IOVAS]: ioasAllowIovas,
  [IOMMUFD_CMD_IOAS_COPY]: ioasCopy,
  [IOMMUFD_CMD_IOAS_IOVA_RANGES]: ioasIovaRanges,
  [IOMMUFD_CMD_IOAS_MAP]: ioasMap,
  [IOMMUFD_CMD_IOAS_UNMAP]: ioasUnmap,
  [IOMMUFD_CMD_OPTION]: (u) => iommufdOption(u),
  [IOMMUFD_CMD_VFIO_IOAS]: iommufdVfioIoas,
  [IOMMUFD_CMD_HWPT_ALLOC]: iommufdHwptAlloc,
  [IOMMUFD_CMD_GET_HW_INFO]: iommufdGetHwInfo,
  [IOMMUFD_CMD_HWPT_SET_DIRTY_TRACKING]: iommufdHwptSetDirtyTracking,
  [IOMMUFD_CMD_HWPT_GET_DIRTY_BITMAP]: iommufdHwptGetDirtyBitmap,
  [IOMMUFD_CMD_HWPT_INVALIDATE]: iommufdHwptInvalidate,
  [IOMMUFD_CMD_FAULT_QUEUE_ALLOC]: iommufdFaultAlloc,
};

/** iommufd_destroy -> iommufd_object_remove(ictx, NULL, id, 0) */
function iommufdDestroy(u: Ucmd): number {
  return u.ictx.svc.objectRemove(u.ictx, null, u.dv.getUint32(4, true));
}

/**
 * iommufd_option: __reserved (u16 at 10) -EOPNOTSUPP; RLIMIT_MODE or HUGE_PAGES, any other
 * option -EOPNOTSUPP; then val64 (offset 16) copied back (-EFAULT), for SET as well
 */
function iommufdOption(u: Ucmd): number {
  if (u.dv.getUint16(10, true) !== 0) return -EOPNOTSUPP;
  const id = u.dv.getUint32(4, true);
  let rc: number;
  if (id === IOMMU_OPTION_RLIMIT_MODE) rc = optionRlimitMode(u);
  else if (id === IOMMU_OPTION_HUGE_PAGES) rc = ioasOption(u);
  else return -EOPNOTSUPP;
  if (rc) return rc;
  return u.task.mm.copyToUser(u.arg + 16, u.buf, 16, 8) < 0 ? -EFAULT : 0;
}

export interface IommufdHost {
  readonly vfs: Vfs;
  readonly iommu: IommuCoreImpl;
  readonly log: KernelLog | null;
  /** iommufd.allow_unsafe_interrupts (device.c module_param, 0644), read live; absent: false */
  readonly params?: KernelParams | null;
  /** CONFIG_IOMMUFD_VFIO_CONTAINER: /dev/vfio/vfio is an iommufd (the caller must not create VFIO's container node) */
  readonly vfioContainer: boolean;
}

/** the one file_operations of iommufd (iommufd_fops): iommufdCtxFromFile recognizes files by it */
export const IOMMUFD_FOPS: FileOps = {
  name: 'iommufd',
  ioctl: (f, task, cmd, arg) => {
    const ictx = f.priv as IommufdCtx;
    return ictx.svc.ioctl(ictx, task, cmd, arg);
  },
  release: (f) => {
    const ictx = f.priv as IommufdCtx;
    ictx.svc.release(ictx);
  },
};

/**
 * The iommufd instance of a kernel: kernel-wide state (the IOMMU core it drives, the
 * per-user locked_vm counters) and the misc devices. Contexts are the open files.
 */
export class IommufdService {
  /** user_struct->locked_vm per uid (IOPT_PAGES_ACCOUNT_USER) */
  readonly userLockedVm = new UserLockedVm();
  /** live contexts (inspection and tests) */
  readonly contexts = new Set<IommufdCtx>();
  private noticeShown = false;
  private readonly scratch = new Uint8Array(64);

  constructor(readonly host: IommufdHost) {
    // iommufd_init: misc_register(&iommu_misc_dev), and vfio_misc_dev with CONFIG_IOMMUFD_VFIO_CONTAINER
    host.vfs.addDevNode('/dev/iommu', 0o660, (flags, _task, path) => this.open(flags, path, false));
    if (host.vfioContainer) host.vfs.addDevNode('/dev/vfio/vfio', 0o666, (flags, _task, path) => this.open(flags, path, true));
  }

  get iommu(): IommuCoreImpl {
    return this.host.iommu;
  }

  /** iommufd.allow_unsafe_interrupts */
  get allowUnsafeInterrupts(): boolean {
    const p = this.host.params;
    return p ? p.has('iommufd', 'allow_unsafe_interrupts') && p.bool('iommufd', 'allow_unsafe_interrupts') : false;
  }

  /**
   * iommufd_fops_open: a new context; opened as /dev/vfio/vfio it defaults to the accounting
   * VFIO uses (IOPT_PAGES_ACCOUNT_MM) and logs "IOMMUFD is providing /dev/vfio/vfio, not
   * VFIO." once (pr_info_once)
   */
  private open(flags: number, path: string, vfio: boolean): File {
    const ictx = new IommufdCtx(this);
    if (vfio) {
      ictx.accountMode = IOPT_PAGES_ACCOUNT_MM;
      if (!this.noticeShown) {
        this.noticeShown = true;
        this.host.log?.info('iommufd', 'IOMMUFD is providing /dev/vfio/vfio, not VFIO.');
      }
    }
    const f = new File(IOMMUFD_FOPS, ictx, flags, path);
    ictx.file = f;
    this.contexts.add(ictx);
    return f;
  }

  /**
   * iommufd_fops_ioctl: requests outside 0x80..(last command) go to iommufd_vfio_ioctl (the
   * VFIO container ioctls, on every iommufd fd); get_user of the size (-EFAULT); a table
   * entry whose request number differs (the direction/size bits or another type) is
   * -ENOIOCTLCMD, which vfs_ioctl turns into -ENOTTY; size below min_size -EINVAL; then
   * copy_struct_from_user (-E2BIG for non-zero bytes past the kernel's struct, -EFAULT).
   */
  ioctl(ictx: IommufdCtx, task: Task, cmd: number, arg: number): number {
    cmd >>>= 0;
    const nr = cmd & 0xff;
    if (nr < IOMMUFD_CMD_BASE || nr > IOMMUFD_CMD_LAST) {
      const r = iommufdVfioIoctl(ictx, task, cmd, arg);
      return r === -ENOIOCTLCMD ? -ENOTTY : r;
    }
    const userSize = task.mm.getUser32(arg);
    if (userSize < 0) return -EFAULT;
    const op = IOCTL_SIZES[nr];
    const h = HANDLERS[nr];
    if (op === undefined || h === undefined) return -ENOTTY;
    if (cmd !== ((IOMMUFD_TYPE << 8) | nr)) return -ENOTTY;
    if (userSize < op.minSize) return -EINVAL;
    // the command buffer (zeroed, as the kernel's union ucmd_buffer is): one per command
    // number, reused unless a command is already running on it
    let cb = ucmdBuffers[nr];
    if (cb === undefined || cb.busy) {
      const buf = new Uint8Array(op.size);
      cb = { buf, dv: new DataView(buf.buffer), busy: false };
      if (ucmdBuffers[nr] === undefined) ucmdBuffers[nr] = cb;
    } else cb.buf.fill(0);
    const { buf, dv } = cb;
    const r = this.copyStructFromUser(task, buf, arg, userSize);
    if (r) return r;
    cb.busy = true;
    try {
      return h({ ictx, task, arg, userSize, buf, dv });
    } finally {
      cb.busy = false;
    }
  }

  /**
   * copy_struct_from_user (include/linux/uaccess.h): a shorter user struct is zero-extended; a
   * longer one must be zero past ours: lib/usercopy.c check_zeroed_user first asks
   * user_read_access_begin (access_ok) of the whole tail, -EFAULT for a tail that reaches past
   * TASK_SIZE whatever its bytes, then reads it word by word: a non-zero word before a faulting
   * one is -E2BIG, a fault first -EFAULT (read in the public lib/usercopy.c). Until 2026-12-07
   * the model had no access_ok here and scanned in 64-byte chunks that could cross into an
   * unmapped page: a size of 0x80000000 or 0xffffffff over a scratch buffer with a non-zero byte
   * past the struct answered -E2BIG where v6.12 answers -EFAULT (found while writing the fuzzer's
   * size-rule model, tools/fuzz/model-iommufd-args.ts sizeRuleErr).
   */
  private copyStructFromUser(task: Task, dst: Uint8Array, arg: number, usize: number): number {
    const ksize = dst.length;
    if (usize > ksize) {
      if (!accessOk(arg + ksize, usize - ksize)) return -EFAULT;
      let off = ksize;
      while (off < usize) {
        // never across a page boundary: a non-zero byte before an unmapped page is -E2BIG
        const va = arg + off;
        const n = Math.min(this.scratch.length, usize - off, 4096 - (va % 4096));
        if (task.mm.copyFromUser(this.scratch, 0, va, n) < 0) return -EFAULT;
        for (let i = 0; i < n; i++) if (this.scratch[i] !== 0) return -E2BIG;
        off += n;
      }
    }
    return task.mm.copyFromUser(dst, 0, arg, Math.min(usize, ksize)) < 0 ? -EFAULT : 0;
  }

  // ---------------- objects ----------------

  /**
   * iommufd_object_remove: with `toDestroy` (a kernel caller's reference, dropped here) or
   * by id (IOMMU_DESTROY: unknown id -ENOENT); anything but the xarray's own reference left
   * -EBUSY; else the object leaves the xarray (and stops being the compat IOAS) and is destroyed
   */
  objectRemove(ictx: IommufdCtx, toDestroy: IommufdObject | null, id: number): number {
    if (toDestroy !== null) toDestroy.users--;
    const obj = ictx.objects.get(id);
    if (obj === undefined || (toDestroy !== null && obj !== toDestroy)) return -ENOENT;
    if (obj.users !== 1) return -EBUSY;
    obj.users = 0;
    ictx.objects.delete(id);
    if (ictx.vfioIoas === obj) ictx.vfioIoas = null;
    this.destroy(ictx, obj);
    return 0;
  }

  /** iommufd_object_ops[type].destroy */
  destroy(ictx: IommufdCtx, obj: IommufdObject): void {
    if (obj instanceof Ioas) {
      // iommufd_ioas_destroy: iopt_unmap_all, iopt_destroy_table
      obj.iopt.unmapAll();
      obj.iopt.allowed = [];
    } else if (obj instanceof HwptPaging) {
      hwptPagingDestroy(ictx, obj);
    } else if (obj instanceof IommufdDevice) {
      deviceDestroy(ictx, obj);
    }
    // a fault object (iommufd_fault_destroy) has no queued fault groups to answer: nothing to do
  }

  /**
   * iommufd_fops_release: destroy every object whose only reference is the xarray's, in id
   * order, pass after pass until none is left (leaves first: an HWPT before its IOAS)
   */
  release(ictx: IommufdCtx): void {
    while (ictx.objects.size > 0) {
      let destroyed = 0;
      for (const id of ictx.ids()) {
        const obj = ictx.objects.get(id)!;
        if (obj.users !== 1) continue;
        obj.users = 0;
        ictx.objects.delete(id);
        this.destroy(ictx, obj);
        destroyed++;
      }
      if (destroyed === 0) {
        this.host.log?.warn('iommufd', 'WARNING: iommufd_fops_release: objects still referenced');
        break;
      }
    }
    ictx.vfioIoas = null;
    ictx.released = true;
    this.contexts.delete(ictx);
  }

  /** iommufd_ctx_get: a reference on the context's file */
  ctxGet(ictx: IommufdCtx): void {
    ictx.file?.get();
  }

  /** iommufd_ctx_put: fput; the last reference releases the context */
  ctxPut(ictx: IommufdCtx): void {
    ictx.file?.put();
  }

  /** CAP_SYS_RESOURCE (the model's processes have it as root) */
  capableSysResource(proc: Process): boolean {
    return proc.uid === 0;
  }
}

// ---------------- the kernel-internal API (include/linux/iommufd.h) ----------------

/**
 * iommufd_ctx_from_file: the context of an iommufd file (one whose f_op is iommufd_fops),
 * with a reference the caller drops with iommufdCtxPut; any other file -EBADFD
 */
export function iommufdCtxFromFile(file: File): IommufdCtx | number {
  if (file.ops !== IOMMUFD_FOPS) return -EBADFD;
  const ictx = file.priv as IommufdCtx;
  ictx.svc.ctxGet(ictx);
  return ictx;
}

/** iommufd_ctx_from_fd: fget (-EBADF), then as iommufd_ctx_from_file (-EBADFD) */
export function iommufdCtxFromFd(proc: Process, fd: number): IommufdCtx | number {
  const f = fd < 0 ? null : proc.fdget(fd);
  if (f === null) return -EBADF;
  return iommufdCtxFromFile(f);
}

/** iommufd_ctx_put */
export function iommufdCtxPut(ictx: IommufdCtx): void {
  ictx.svc.ctxPut(ictx);
}
