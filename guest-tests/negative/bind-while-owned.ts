/**
 * A group in use by user space, and a host driver bound to its device underneath it.
 *
 * The owner: opens the container and the group, SET_CONTAINER, SET_IOMMU(TYPE1) (the group
 * is now in use: container_users 1), opens no device fd, and waits.
 * The administrator, meanwhile: unbinds the device from vfio-platform (no device fd is
 * open, so the unbind completes), clears driver_override where the kernel has it, and
 * binds the device to its host driver through the driver's `bind` file.
 *
 * 2014 (3.14 vfio.c): the host driver's probe succeeds, then the group notifier's
 * BUG_ON(vfio_group_nb_verify()) fires. Mainline: the unbind of the group's last VFIO device
 * revokes the group (group.c vfio_device_remove_group: detached from the container, DMA
 * ownership released, iommu_group cleared), so the host driver binds and the owner's
 * GET_STATUS is -ENODEV.
 */
import { O_RDWR, VFIO_GROUP_GET_STATUS, VFIO_GROUP_SET_CONTAINER, VFIO_SET_IOMMU, VFIO_TYPE1_IOMMU, errnoName, type GuestProgram, type Sys } from '../../kernel-model/uapi/index.js';
import { echoTo } from '../admin/bind.js';
import { Libc } from '../lib/libc.js';

export interface BindWhileOwnedShared {
  /** set by the owner once the group is in a container with an IOMMU */
  ownerReady: boolean;
  /** set by the administrator when done (or never, when the kernel stopped it) */
  adminDone: boolean;
  /** the result of the write to the host driver's bind file (0 or -errno) */
  bindResult: number | null;
  /** the owner's GET_STATUS on its group fd once the administrator is done (0 or -errno) */
  statusAfter: number | null;
}

function* sleep100us(sys: Sys, ts: number): GuestProgram<void> {
  sys.mem.write32(ts, 0);
  sys.mem.write32(ts + 4, 100_000);
  yield* sys.nanosleep(ts, 0);
}

/** the user-space owner of the group */
export function* groupOwner(sys: Sys, groupPath: string, shared: BindWhileOwnedShared): GuestProgram {
  const libc = new Libc(sys);
  if ((yield* libc.init(16 * 1024)) < 0) return 1;
  const c = yield* sys.open('/dev/vfio/vfio', O_RDWR);
  const g = yield* sys.open(groupPath, O_RDWR);
  const arg = libc.malloc(8);
  sys.mem.write32(arg, c);
  const sc = yield* sys.ioctl(g, VFIO_GROUP_SET_CONTAINER, arg);
  const si = yield* sys.ioctl(c, VFIO_SET_IOMMU, VFIO_TYPE1_IOMMU);
  yield* libc.puts(`owner: container ${c}, group ${groupPath} ${g}, SET_CONTAINER ${errnoName(sc)}, SET_IOMMU ${errnoName(si)}: the group is in use`);
  if (c < 0 || g < 0 || sc < 0 || si < 0) return 1;
  shared.ownerReady = true;
  const ts = libc.malloc(8);
  while (!shared.adminDone) yield* sleep100us(sys, ts);
  // the group as the owner now sees it (mainline: revoked with its last device, -ENODEV)
  sys.mem.write32(arg, 8);
  const st = yield* sys.ioctl(g, VFIO_GROUP_GET_STATUS, arg);
  shared.statusAfter = st;
  yield* libc.puts(`owner: GET_STATUS ${errnoName(st)}`);
  yield* sys.close(g);
  yield* sys.close(c);
  return 0;
}

/**
 * the administrator: move the device from its VFIO driver back to its host driver, on the
 * device's bus (`bus`, as the binding found it: platform, or amba for mainline's PL330, whose
 * VFIO driver is then vfio-amba)
 */
export function* rebindHost(sys: Sys, device: string, hostDriver: string, hasDriverOverride: boolean, shared: BindWhileOwnedShared, bus = 'platform'): GuestProgram {
  const libc = new Libc(sys);
  if ((yield* libc.init(16 * 1024)) < 0) return 1;
  const ts = libc.malloc(8);
  while (!shared.ownerReady) yield* sleep100us(sys, ts);
  const step = function* (path: string, value: string): GuestProgram<number> {
    const r = yield* echoTo(sys, libc, path, value);
    yield* libc.puts(`# echo ${value} > ${path}: ${r === 0 ? 'ok' : errnoName(r)}`);
    return r;
  };
  const vfio = bus === 'amba' ? 'vfio-amba' : 'vfio-platform';
  yield* step(`/sys/bus/${bus}/drivers/${vfio}/unbind`, device);
  if (hasDriverOverride) yield* step(`/sys/bus/${bus}/devices/${device}/driver_override`, '');
  shared.bindResult = yield* step(`/sys/bus/${bus}/drivers/${hostDriver}/bind`, device);
  shared.adminDone = true;
  return 0;
}
