/**
 * The two ways to a VFIO device exclude each other (mainline drivers/vfio/group.c
 * vfio_device_block_group and vfio_group_fops_open): while the group path has the device
 * (group fd open, a device fd got through GET_DEVICE_FD), binding its cdev to an iommufd is
 * refused with -EBUSY; once the group path has let go, the bind succeeds, and while the cdev
 * is bound the group cannot be opened (-EBUSY). The program reports each answer; it exits 0
 * when the kernel answered as above.
 */
import {
  O_RDWR,
  VFIO_GROUP_GET_DEVICE_FD,
  VFIO_GROUP_SET_CONTAINER,
  VFIO_SET_IOMMU,
  VFIO_TYPE1v2_IOMMU,
  errnoName,
  type GuestProgram,
  type Sys,
} from '../../kernel-model/uapi/index.js';
import { findVfioCdev, vfioDeviceBindIommufd } from '../lib/iommufd.js';
import { Libc } from '../lib/libc.js';

export interface CdevGroupConflictResult {
  /** BIND_IOMMUFD while the group path holds the device */
  bindWhileGroup: number | null;
  /** BIND_IOMMUFD after the group path closed everything */
  bindAfter: number | null;
  /** open of the group while the cdev is bound */
  groupWhileBound: number | null;
}

export function* cdevGroupConflict(sys: Sys, groupPath: string, device: string, sysfsDevice: string, out: CdevGroupConflictResult): GuestProgram {
  const libc = new Libc(sys);
  if ((yield* libc.init(32 * 1024)) < 0) return 1;
  const m = sys.mem;
  const show = (r: number): string => (r < 0 ? errnoName(r) : String(r));

  // the group path: container, group, type1v2, device fd
  const container = yield* sys.open('/dev/vfio/vfio', O_RDWR);
  const group = yield* sys.open(groupPath, O_RDWR);
  const pfd = libc.malloc(4);
  m.write32(pfd, container);
  const sc = yield* sys.ioctl(group, VFIO_GROUP_SET_CONTAINER, pfd);
  const si = yield* sys.ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU);
  const gdev = yield* sys.ioctl(group, VFIO_GROUP_GET_DEVICE_FD, libc.cstring(device));
  yield* libc.puts(`group path: container ${show(container)}, group ${show(group)}, SET_CONTAINER ${show(sc)}, SET_IOMMU ${show(si)}, device fd ${show(gdev)}`);
  if (gdev < 0) return 1;

  // the cdev path meanwhile
  const path = yield* findVfioCdev(sys, libc, sysfsDevice);
  if (typeof path !== 'string') {
    yield* libc.puts(`no cdev under ${sysfsDevice}/vfio-dev (${show(path)})`);
    return 1;
  }
  const iommufd = yield* sys.open('/dev/iommu', O_RDWR);
  const cdev = yield* sys.open(path, O_RDWR);
  yield* libc.puts(`cdev path: open(${path}) = ${show(cdev)}, open(/dev/iommu) = ${show(iommufd)}`);
  if (cdev < 0 || iommufd < 0) return 1;
  out.bindWhileGroup = yield* vfioDeviceBindIommufd(sys, libc, cdev, iommufd);
  yield* libc.puts(`VFIO_DEVICE_BIND_IOMMUFD while the group path holds the device: ${show(out.bindWhileGroup)}`);

  // the group path lets go (device fd first: it holds the group)
  yield* sys.close(gdev);
  yield* sys.close(group);
  yield* sys.close(container);
  out.bindAfter = yield* vfioDeviceBindIommufd(sys, libc, cdev, iommufd);
  yield* libc.puts(`VFIO_DEVICE_BIND_IOMMUFD after the group path closed: ${out.bindAfter < 0 ? show(out.bindAfter) : `devid ${out.bindAfter}`}`);
  out.groupWhileBound = yield* sys.open(groupPath, O_RDWR);
  yield* libc.puts(`open(${groupPath}) while the cdev is bound: ${show(out.groupWhileBound)}`);
  if (out.groupWhileBound >= 0) yield* sys.close(out.groupWhileBound);
  yield* sys.close(cdev);
  yield* sys.close(iommufd);
  return out.bindWhileGroup === -16 && out.bindAfter >= 0 && out.groupWhileBound === -16 ? 0 : 1;
}
