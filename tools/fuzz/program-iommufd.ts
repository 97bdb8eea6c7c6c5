/**
 * The fuzzer's program vocabulary for iommufd (/dev/iommu) and the VFIO device cdev
 * (/dev/vfio/devices/vfioN): struct layouts and request numbers. Kept apart from program.ts
 * so the VFIO group/container vocabulary and this one grow independently; program.ts merges
 * them into STRUCTS and the request names.
 *
 * IOMMU_FAULT_QUEUE_ALLOC (struct iommu_fault_alloc) answers an object id and a new fd, the
 * fault queue's file ("[iommufd-pgfault]", kernel-model/iommu/iommufd/fault.ts): programs name
 * those fds by the fd kind `fault` (program.ts), whose coverage row is FAULT_FD_CALLS.
 *
 * Layouts: include/uapi/linux/iommufd.h and include/uapi/linux/vfio.h (v6.12) as
 * kernel-model/iommu/iommufd/uapi.ts and kernel-model/uapi/structs.ts record them (32-bit
 * ARM EABI: __aligned_u64 members at 8-byte offsets). The first field of every iommufd
 * struct is `__u32 size`; it is named `argsz` here so the generic argsz-around-minsz
 * arbitrary and the C emitter treat both families alike.
 */
import {
  IOMMU_DESTROY,
  IOMMU_FAULT_QUEUE_ALLOC,
  IOMMU_GET_HW_INFO,
  IOMMU_HWPT_ALLOC,
  IOMMU_HWPT_GET_DIRTY_BITMAP,
  IOMMU_HWPT_INVALIDATE,
  IOMMU_HWPT_SET_DIRTY_TRACKING,
  IOMMU_IOAS_ALLOC,
  IOMMU_IOAS_ALLOW_IOVAS,
  IOMMU_IOAS_COPY,
  IOMMU_IOAS_IOVA_RANGES,
  IOMMU_IOAS_MAP,
  IOMMU_IOAS_UNMAP,
  IOMMU_OPTION,
  IOMMU_VFIO_IOAS,
} from '../../kernel-model/iommu/iommufd/uapi.js';
import { VFIO_DEVICE_ATTACH_IOMMUFD_PT, VFIO_DEVICE_BIND_IOMMUFD, VFIO_DEVICE_DETACH_IOMMUFD_PT } from '../../kernel-model/uapi/constants.js';
import type { Call } from './program.js';

export type IommufdStructName =
  | 'iommu_destroy'
  | 'iommu_ioas_alloc'
  | 'iommu_ioas_allow_iovas'
  | 'iommu_ioas_copy'
  | 'iommu_ioas_iova_ranges'
  | 'iommu_ioas_map'
  | 'iommu_ioas_unmap'
  | 'iommu_option'
  | 'iommu_vfio_ioas'
  | 'iommu_hwpt_alloc'
  | 'iommu_hw_info'
  | 'iommu_fault_alloc'
  | 'iommu_hwpt_set_dirty_tracking'
  | 'iommu_hwpt_get_dirty_bitmap'
  | 'iommu_hwpt_invalidate'
  | 'vfio_device_bind_iommufd'
  | 'vfio_device_attach_iommufd_pt'
  | 'vfio_device_detach_iommufd_pt';

/** field name, offset, size and the struct's minsz (iommufd: main.c's min_size; VFIO: the handler's minsz) */
export const IOMMUFD_STRUCTS: Record<IommufdStructName, { minsz: number; fields: [string, number, 4 | 8][] }> = {
  iommu_destroy: { minsz: 8, fields: [['argsz', 0, 4], ['id', 4, 4]] },
  iommu_ioas_alloc: { minsz: 12, fields: [['argsz', 0, 4], ['flags', 4, 4], ['out_ioas_id', 8, 4]] },
  // allowed_iovas points at num_iovas struct iommu_iova_range { __aligned_u64 start, last }
  iommu_ioas_allow_iovas: { minsz: 24, fields: [['argsz', 0, 4], ['ioas_id', 4, 4], ['num_iovas', 8, 4], ['reserved', 12, 4], ['allowed_iovas', 16, 8]] },
  iommu_ioas_copy: { minsz: 40, fields: [['argsz', 0, 4], ['flags', 4, 4], ['dst_ioas_id', 8, 4], ['src_ioas_id', 12, 4], ['length', 16, 8], ['dst_iova', 24, 8], ['src_iova', 32, 8]] },
  iommu_ioas_iova_ranges: { minsz: 32, fields: [['argsz', 0, 4], ['ioas_id', 4, 4], ['num_iovas', 8, 4], ['reserved', 12, 4], ['allowed_iovas', 16, 8], ['out_iova_alignment', 24, 8]] },
  iommu_ioas_map: { minsz: 40, fields: [['argsz', 0, 4], ['flags', 4, 4], ['ioas_id', 8, 4], ['reserved', 12, 4], ['user_va', 16, 8], ['length', 24, 8], ['iova', 32, 8]] },
  iommu_ioas_unmap: { minsz: 24, fields: [['argsz', 0, 4], ['ioas_id', 4, 4], ['iova', 8, 8], ['length', 16, 8]] },
  iommu_option: { minsz: 24, fields: [['argsz', 0, 4], ['option_id', 4, 4], ['op', 8, 4], ['object_id', 12, 4], ['val64', 16, 8]] },
  // struct iommu_vfio_ioas: size, ioas_id, op (u16) and __reserved (u16): one 32-bit field `op`
  // here, as iommu_option's, whose bits 16-31 are __reserved; min_size offsetofend(__reserved)
  iommu_vfio_ioas: { minsz: 12, fields: [['argsz', 0, 4], ['ioas_id', 4, 4], ['op', 8, 4]] },
  iommu_hwpt_alloc: { minsz: 24, fields: [['argsz', 0, 4], ['flags', 4, 4], ['dev_id', 8, 4], ['pt_id', 12, 4], ['out_hwpt_id', 16, 4], ['reserved', 20, 4], ['data_type', 24, 4], ['data_len', 28, 4], ['data_uptr', 32, 8], ['fault_id', 40, 4]] },
  iommu_hw_info: { minsz: 32, fields: [['argsz', 0, 4], ['flags', 4, 4], ['dev_id', 8, 4], ['data_len', 12, 4], ['data_uptr', 16, 8], ['out_data_type', 24, 4], ['reserved', 28, 4], ['out_capabilities', 32, 8]] },
  // IOMMU_FAULT_QUEUE_ALLOC (v6.12): min_size is offsetofend(out_fault_fd), the whole struct
  iommu_fault_alloc: { minsz: 16, fields: [['argsz', 0, 4], ['flags', 4, 4], ['out_fault_id', 8, 4], ['out_fault_fd', 12, 4]] },
  // the HWPT ioctls (v6.12 include/uapi/linux/iommufd.h; min_size offsetofend of the last
  // member, main.c iommufd_ioctl_ops, so each is its whole struct): struct
  // iommu_hwpt_set_dirty_tracking {size, flags, hwpt_id, __reserved}
  iommu_hwpt_set_dirty_tracking: { minsz: 16, fields: [['argsz', 0, 4], ['flags', 4, 4], ['hwpt_id', 8, 4], ['reserved', 12, 4]] },
  // struct iommu_hwpt_get_dirty_bitmap {size, hwpt_id, flags, __reserved, iova, length, page_size, data}
  iommu_hwpt_get_dirty_bitmap: { minsz: 48, fields: [['argsz', 0, 4], ['hwpt_id', 4, 4], ['flags', 8, 4], ['reserved', 12, 4], ['iova', 16, 8], ['length', 24, 8], ['page_size', 32, 8], ['data', 40, 8]] },
  // struct iommu_hwpt_invalidate {size, hwpt_id, data_uptr, data_type, entry_len, entry_num, __reserved}
  iommu_hwpt_invalidate: { minsz: 32, fields: [['argsz', 0, 4], ['hwpt_id', 4, 4], ['data_uptr', 8, 8], ['data_type', 16, 4], ['entry_len', 20, 4], ['entry_num', 24, 4], ['reserved', 28, 4]] },
  vfio_device_bind_iommufd: { minsz: 16, fields: [['argsz', 0, 4], ['flags', 4, 4], ['iommufd', 8, 4], ['out_devid', 12, 4]] },
  vfio_device_attach_iommufd_pt: { minsz: 12, fields: [['argsz', 0, 4], ['flags', 4, 4], ['pt_id', 8, 4]] },
  vfio_device_detach_iommufd_pt: { minsz: 8, fields: [['argsz', 0, 4], ['flags', 4, 4]] },
};

/** iommufd request numbers (_IO(';', 0x80 + n)) */
/**
 * sizeof the kernel's struct (copy_struct_from_user's ksize): the end of its last named field, or
 * more where padding follows it: struct iommu_hwpt_alloc ends with __u32 fault_id, __u32
 * __reserved2 (v6.12 include/uapi/linux/iommufd.h), 48 bytes
 */
export function iommufdSizeof(name: IommufdStructName): number {
  let end = 0;
  for (const [, o, n] of IOMMUFD_STRUCTS[name].fields) end = Math.max(end, o + n);
  return name === 'iommu_hwpt_alloc' ? 48 : end;
}

export const IOMMUFD_REQS = {
  IOMMU_DESTROY,
  IOMMU_IOAS_ALLOC,
  IOMMU_IOAS_ALLOW_IOVAS,
  IOMMU_IOAS_COPY,
  IOMMU_IOAS_IOVA_RANGES,
  IOMMU_IOAS_MAP,
  IOMMU_IOAS_UNMAP,
  IOMMU_OPTION,
  IOMMU_HWPT_ALLOC,
  IOMMU_GET_HW_INFO,
  IOMMU_FAULT_QUEUE_ALLOC,
  IOMMU_VFIO_IOAS,
  IOMMU_HWPT_SET_DIRTY_TRACKING,
  IOMMU_HWPT_GET_DIRTY_BITMAP,
  IOMMU_HWPT_INVALIDATE,
} as const;

/** the cdev-only device ioctls (vfio_device_fops_cdev_ioctl) */
export const CDEV_REQS = {
  VFIO_DEVICE_BIND_IOMMUFD,
  VFIO_DEVICE_ATTACH_IOMMUFD_PT,
  VFIO_DEVICE_DETACH_IOMMUFD_PT,
} as const;

/** the coverage table's iommufd row (the device row gains the cdev requests) */
export const IOMMUFD_FD_IOCTLS: string[] = [...Object.keys(IOMMUFD_REQS), 'unknown'];
/**
 * the iommufd requests the arbitraries draw on container fds where the profile has /dev/iommu
 * (arb-iommufd.ts iommufdCallArb): with CONFIG_IOMMUFD_VFIO_CONTAINER the container is an
 * iommufd context, whose compat IOAS IOMMU_VFIO_IOAS reports, switches and clears. Rows of the
 * container in those profiles' coverage table (Harness.cover, cli.ts coverageRows); elsewhere
 * such a request on a container counts as `unknown`, as before. The three HWPT requests since
 * 2026-12-07 (drawn on container fds too: none succeeds on this board)
 */
export const CONTAINER_IOMMUFD_IOCTLS: string[] = ['IOMMU_VFIO_IOAS', 'IOMMU_IOAS_ALLOC', 'IOMMU_DESTROY', 'IOMMU_HWPT_SET_DIRTY_TRACKING', 'IOMMU_HWPT_GET_DIRTY_BITMAP', 'IOMMU_HWPT_INVALIDATE'];
/**
 * the coverage table's row of the fault fd (fd kind `fault`): read and write (pread and pwrite
 * count as read and write, as on the device fd), any ioctl (iommufd_fault_fops has none)
 */
export const FAULT_FD_CALLS: string[] = ['read', 'write', 'unknown'];
export const CDEV_DEVICE_IOCTLS: string[] = Object.keys(CDEV_REQS);

/**
 * The call that makes a resource-typed fd of kind `k` (FdRef.mk, program.ts makeRefs) in process
 * `p` when it has none, as syzkaller makes a resource's producer call before a call that consumes
 * it (prog/rand.go createResource): /dev/iommu's open (O_RDWR) for `iommufd`, and for `fault`
 * IOMMU_FAULT_QUEUE_ALLOC (flags 0, the whole 16-byte struct in the scratch buffer) on the
 * process's first /dev/iommu fd (the harness makes that one first when there is none). The
 * harness runs them in the consuming call's step (Harness.makeResources), the C reproducer in
 * its worker before the call's own arguments are written (emit-c.ts make_fd).
 */
export function makeCall(p: number, k: 'iommufd' | 'fault'): Call {
  if (k === 'iommufd') return { op: 'open', p, path: '/dev/iommu', flags: 2 };
  return { op: 'ioctl', p, fd: { k: 'iommufd', i: 0 }, req: IOMMU_FAULT_QUEUE_ALLOC, arg: { t: 'struct', type: 'iommu_fault_alloc', fields: { argsz: 16, flags: 0, out_fault_id: 0, out_fault_fd: 0 }, ptr: 'ok' } };
}

/**
 * The call that makes an IOAS for a resource-typed IOAS id (Value `{ ioas, mk }`) when the context
 * the consuming call's fd `fd` names has none: IOMMU_IOAS_ALLOC (flags 0, struct iommu_ioas_alloc
 * in the scratch buffer) on that fd (drivers/iommu/iommufd/ioas.c iommufd_ioas_alloc_ioctl). Run by
 * Harness.makeIoas in the consuming call's step, by the C reproducer's make_ioas.
 */
export function makeIoasCall(p: number, fd: number): Call {
  return { op: 'ioctl', p, fd: { raw: fd }, req: IOMMU_IOAS_ALLOC, arg: { t: 'struct', type: 'iommu_ioas_alloc', fields: { argsz: 12, flags: 0, out_ioas_id: 0 }, ptr: 'ok' } };
}

/**
 * the VFIO device cdevs a resource-typed device id (Value `{ dev, mk }`) tries, in order, when the
 * call's context has no bound device: the PL330 (vfio0) and test-dma (vfio1) on the fuzzer's board
 */
export const MAKE_DEV_CDEVS = ['/dev/vfio/devices/vfio0', '/dev/vfio/devices/vfio1'];

/**
 * The calls that bind a device to the context of /dev/iommu fd `ifd` for a resource-typed device
 * id (Value `{ dev, mk }`): open of a cdev (O_RDWR, MAKE_DEV_CDEVS), VFIO_DEVICE_BIND_IOMMUFD
 * (flags 0, struct vfio_device_bind_iommufd in the scratch buffer) of the fd it gave with `ifd`,
 * and the close of that fd when the bind failed (its group open through /dev/vfio/N, the device
 * open or bound elsewhere: drivers/vfio/device_cdev.c vfio_df_ioctl_bind_iommufd,
 * vfio_device_block_group; drivers/vfio/vfio_main.c vfio_df_open allows one cdev open at a time).
 * Run by Harness.makeDev in the consuming call's step, by the C reproducer's make_dev.
 */
export const makeDevCalls = {
  open: (p: number, path: string): Call => ({ op: 'open', p, path, flags: 2 }),
  bind: (p: number, dfd: number, ifd: number): Call => ({ op: 'ioctl', p, fd: { raw: dfd }, req: CDEV_REQS.VFIO_DEVICE_BIND_IOMMUFD, arg: { t: 'struct', type: 'vfio_device_bind_iommufd', fields: { argsz: 16, flags: 0, iommufd: ifd, out_devid: 0 }, ptr: 'ok' } }),
  close: (p: number, dfd: number): Call => ({ op: 'close', p, fd: { raw: dfd } }),
};

/**
 * The IOMMU_HWPT_ALLOC a resource-typed HWPT id (Value `{ hwpt, mk }`) makes on /dev/iommu fd
 * `fd` when its context has no HWPT: flags 0, no driver data (arm-smmu has no domain_alloc_user),
 * device `devId` (the context's first: 0 when it has none, -ENOENT) on IOAS `ioasId` (a fresh one,
 * empty: what hw_pagetable.c iommufd_hwpt_paging_alloc succeeds on here), the 48-byte struct
 * iommu_hwpt_alloc in the scratch buffer. Run by Harness.makeHwpt after a makeIoasCall on the same
 * fd, by the C reproducer's make_hwpt.
 */
export function makeHwptCall(p: number, fd: number, devId: number, ioasId: number): Call {
  return { op: 'ioctl', p, fd: { raw: fd }, req: IOMMU_HWPT_ALLOC, arg: { t: 'struct', type: 'iommu_hwpt_alloc', fields: { argsz: 48, flags: 0, dev_id: devId, pt_id: ioasId, out_hwpt_id: 0, reserved: 0, data_type: 0, data_len: 0, data_uptr: 0, fault_id: 0 }, ptr: 'ok' } };
}
