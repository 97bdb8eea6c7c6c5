/**
 * Shared set-up for the VFIO benchmarks: a booted System (default board, rfc-v4), the PL330
 * bound to vfio-platform by the admin program, and a guest program that opens the group,
 * container and device the way pl330-vfio-test does. Only the syscall API is used by the
 * guest side.
 */
import {
  O_RDWR,
  VFIO_GROUP_GET_DEVICE_FD,
  VFIO_GROUP_SET_CONTAINER,
  VFIO_SET_IOMMU,
  VFIO_TYPE1_IOMMU,
  type GuestProgram,
  type Sys,
  type SysCall,
} from '../../kernel-model/uapi/index.js';
import { bindToVfio } from '../../guest-tests/admin/bind.js';
import { Libc } from '../../guest-tests/lib/libc.js';
import { System } from '../system/system.js';

export const PL330_DEV = '2c0a0000.dma';

/** Boot and bind the PL330 to vfio-platform; returns the system and the group path. */
export function bootBound(opts: { profile?: string } = {}): { sys: System; groupPath: string } {
  const sys = new System({ profile: opts.profile ?? 'rfc-v4' });
  let groupPath: string | null = null;
  const { thread } = sys.spawn('admin', function* (s: Sys): GuestProgram {
    const libc = new Libc(s);
    if ((yield* libc.init(64 * 1024)) < 0) return 1;
    const r = yield* bindToVfio(s, libc, PL330_DEV, 'vfio_bind');
    groupPath = r.groupPath;
    return r.ok ? 0 : 1;
  }, { stdio: true });
  sys.runUntilExited([thread]);
  if (thread.exit?.status !== 0 || groupPath === null) throw new Error(`bench: binding ${PL330_DEV} to vfio-platform failed (exit ${JSON.stringify(thread.exit)})`);
  return { sys, groupPath };
}

export interface VfioHandles {
  container: number;
  group: number;
  device: number;
}

/** open container + group, SET_CONTAINER, SET_IOMMU(type1), GET_DEVICE_FD */
export function* openVfio(sys: Sys, libc: Libc, groupPath: string): SysCall<VfioHandles | number> {
  const m = sys.mem;
  const container = yield* sys.open('/dev/vfio/vfio', O_RDWR);
  if (container < 0) return container;
  const group = yield* sys.open(groupPath, O_RDWR);
  if (group < 0) return group;
  const pfd = libc.malloc(4);
  m.write32(pfd, container);
  let r = yield* sys.ioctl(group, VFIO_GROUP_SET_CONTAINER, pfd);
  if (r < 0) return r;
  r = yield* sys.ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1_IOMMU);
  if (r < 0) return r;
  const device = yield* sys.ioctl(group, VFIO_GROUP_GET_DEVICE_FD, libc.cstring(PL330_DEV));
  if (device < 0) return device;
  return { container, group, device };
}
