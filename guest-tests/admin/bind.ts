/**
 * The administrator's set-up, done the way a person does it on a real board: writes to
 * sysfs files (`echo x > file`) and a readlink of the device's iommu_group link.
 * Uses only the syscall API.
 */
import { ENOENT, O_WRONLY, type Sys, type SysCall } from '../../kernel-model/uapi/index.js';
import type { Libc } from '../lib/libc.js';

export type BindMethod = 'vfio_bind' | 'driver_override';

export interface BindResult {
  ok: boolean;
  /** /dev/vfio/<N>, when the iommu_group link could be read */
  groupPath: string | null;
  group: number | null;
  /** the shell-like transcript: "echo 2c0a0000.dma > /sys/...: ok" or ": -ENOENT" */
  transcript: string[];
}

/** `echo value > path`: open O_WRONLY, write value + "\n", close. Returns 0 or -errno. */
export function* echoTo(sys: Sys, libc: Libc, path: string, value: string): SysCall<number> {
  const fd = yield* sys.open(path, O_WRONLY);
  if (fd < 0) return fd;
  const text = value + '\n';
  const buf = libc.cstring(text);
  const r = yield* sys.write(fd, buf, text.length);
  yield* sys.close(fd);
  return r < 0 ? r : 0;
}

/** readlink(2) into a string, or -errno */
export function* readLink(sys: Sys, libc: Libc, path: string): SysCall<string | number> {
  const buf = libc.malloc(256, 1);
  const n = yield* sys.readlink(path, buf, 255);
  if (n < 0) return n;
  return new TextDecoder().decode(sys.mem.readBytes(buf, n));
}

/**
 * Move `dev` from whatever driver has it to vfio-platform.
 *  - vfio_bind (2014 series, patch 04): unbind from the current driver, then write the
 *    name to /sys/bus/platform/drivers/vfio-platform/vfio_bind.
 *  - driver_override (mainline): write "vfio-platform" to the device's driver_override,
 *    unbind from the current driver, write the name to /sys/bus/platform/drivers_probe.
 */
export function* bindToVfio(sys: Sys, libc: Libc, dev: string, method: BindMethod, vfioDriver = 'vfio-platform'): SysCall<BindResult> {
  const transcript: string[] = [];
  const devDir = `/sys/bus/platform/devices/${dev}`;
  const step = function* (path: string, value: string): SysCall<number> {
    const r = yield* echoTo(sys, libc, path, value);
    transcript.push(`echo ${value} > ${path}: ${r === 0 ? 'ok' : `error ${r}`}`);
    return r;
  };
  let ok = true;
  if (method === 'driver_override') {
    if ((yield* step(`${devDir}/driver_override`, vfioDriver)) !== 0) ok = false;
  }
  const drv = yield* readLink(sys, libc, `${devDir}/driver`);
  if (typeof drv === 'string') {
    const name = drv.split('/').pop()!;
    if (name !== vfioDriver && (yield* step(`/sys/bus/platform/drivers/${name}/unbind`, dev)) !== 0) ok = false;
  }
  if (method === 'vfio_bind') {
    if ((yield* step(`/sys/bus/platform/drivers/${vfioDriver}/vfio_bind`, dev)) !== 0) ok = false;
  } else if ((yield* step('/sys/bus/platform/drivers_probe', dev)) !== 0) ok = false;
  const link = yield* readLink(sys, libc, `${devDir}/iommu_group`);
  let group: number | null = null;
  if (typeof link === 'string') {
    const n = Number(link.split('/').pop());
    if (Number.isInteger(n)) group = n;
  } else {
    transcript.push(`readlink ${devDir}/iommu_group: error ${link === -ENOENT ? '-ENOENT' : link}`);
  }
  return { ok, groupPath: group === null ? null : `/dev/vfio/${group}`, group, transcript };
}
