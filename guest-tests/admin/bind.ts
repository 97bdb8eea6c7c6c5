/**
 * The administrator's set-up, done the way a person does it on a real board: writes to
 * sysfs files (`echo x > file`) and a readlink of the device's iommu_group link.
 * Uses only the syscall API.
 */
import { ENOENT, O_DIRECTORY, O_RDONLY, O_WRONLY, type Sys, type SysCall } from '../../kernel-model/uapi/index.js';
import type { Libc } from '../lib/libc.js';

export type BindMethod = 'vfio_bind' | 'driver_override';

export interface BindResult {
  ok: boolean;
  /** the device's bus, from its `subsystem` link ("platform", "amba"); null when the device was not found */
  bus?: string | null;
  /** the VFIO driver the device was handed to (vfio-platform, vfio-amba) */
  driver?: string;
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

/** getdents64(2) of a directory: the entry names (without . and ..), or -errno */
export function* listDir(sys: Sys, libc: Libc, path: string): SysCall<string[] | number> {
  const fd = yield* sys.open(path, O_RDONLY | O_DIRECTORY);
  if (fd < 0) return fd;
  const size = 4096;
  const buf = libc.malloc(size, 8);
  const names: string[] = [];
  const dec = new TextDecoder();
  for (;;) {
    const n = yield* sys.getdents64(fd, buf, size);
    if (n < 0) {
      yield* sys.close(fd);
      return n;
    }
    if (n === 0) break;
    // struct linux_dirent64 { u64 d_ino; s64 d_off; u16 d_reclen; u8 d_type; char d_name[]; }
    for (let off = 0; off < n; ) {
      const reclen = sys.mem.readBytes(buf + off + 16, 2);
      const len = reclen[0]! | (reclen[1]! << 8);
      if (len === 0) break;
      const raw = sys.mem.readBytes(buf + off + 19, len - 19);
      const end = raw.indexOf(0);
      const name = dec.decode(end >= 0 ? raw.subarray(0, end) : raw);
      if (name !== '.' && name !== '..') names.push(name);
      off += len;
    }
  }
  yield* sys.close(fd);
  return names;
}

/**
 * The bus a device sits on, found as a shell user finds it: `ls -d /sys/bus/*\/devices/<dev>`,
 * then the basename of the device's `subsystem` link (`readlink .../subsystem` -> /sys/bus/amba).
 * Mainline puts the PL330 (an `arm,primecell`) on the AMBA bus; the 2014 set-up on the platform bus.
 */
export function* findBus(sys: Sys, libc: Libc, dev: string): SysCall<string | null> {
  const buses = yield* listDir(sys, libc, '/sys/bus');
  if (typeof buses === 'number') return null;
  for (const b of buses.sort()) {
    const link = yield* readLink(sys, libc, `/sys/bus/${b}/devices/${dev}/subsystem`);
    if (typeof link === 'string') return link.split('/').pop() ?? null;
  }
  return null;
}

/**
 * Move `dev` from whatever driver has it to the VFIO driver of its bus.
 *  - vfio_bind (2014 series, patch 04): unbind from the current driver, then write the
 *    name to /sys/bus/platform/drivers/vfio-platform/vfio_bind (3.14's vfio_bind searches
 *    the platform bus only).
 *  - driver_override (mainline): write the VFIO driver's name (vfio-platform for a platform
 *    device, vfio-amba for an AMBA device) to the device's driver_override, unbind from the
 *    current driver, write the name to /sys/bus/<bus>/drivers_probe. The bus comes from the
 *    device's `subsystem` link (findBus).
 */
export function* bindToVfio(sys: Sys, libc: Libc, dev: string, method: BindMethod, vfioDriverArg?: string): SysCall<BindResult> {
  const transcript: string[] = [];
  const bus = method === 'vfio_bind' ? 'platform' : ((yield* findBus(sys, libc, dev)) ?? 'platform');
  const vfioDriver = vfioDriverArg ?? (bus === 'amba' ? 'vfio-amba' : 'vfio-platform');
  const devDir = `/sys/bus/${bus}/devices/${dev}`;
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
    if (name !== vfioDriver && (yield* step(`/sys/bus/${bus}/drivers/${name}/unbind`, dev)) !== 0) ok = false;
  }
  if (method === 'vfio_bind') {
    if ((yield* step(`/sys/bus/platform/drivers/${vfioDriver}/vfio_bind`, dev)) !== 0) ok = false;
  } else if ((yield* step(`/sys/bus/${bus}/drivers_probe`, dev)) !== 0) ok = false;
  const link = yield* readLink(sys, libc, `${devDir}/iommu_group`);
  let group: number | null = null;
  if (typeof link === 'string') {
    const n = Number(link.split('/').pop());
    if (Number.isInteger(n)) group = n;
  } else {
    transcript.push(`readlink ${devDir}/iommu_group: error ${link === -ENOENT ? '-ENOENT' : link}`);
  }
  return { ok, bus, driver: vfioDriver, groupPath: group === null ? null : `/dev/vfio/${group}`, group, transcript };
}
