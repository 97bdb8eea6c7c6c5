/**
 * Test helper: a user process on a booted System whose syscalls are issued from the test
 * through `SyscallLayer.invoke(proc, null, ...)` (no thread: non-blocking calls only),
 * with its arguments as raw byte buffers in the process's memory, laid out as in
 * kernel-model/uapi/structs.ts. A KernelOops inside such a call surfaces as the GuestTrap
 * the syscall boundary throws; tests that need a process really killed use a guest
 * program (System.spawn) instead.
 */
import { UserMemory } from '../../../process/user-memory.js';
import type { Process, ProcessOptions } from '../../../process/process.js';
import {
  MAP_ANONYMOUS, MAP_PRIVATE, O_RDONLY, O_RDWR, O_WRONLY, PROT_READ, PROT_WRITE, VFIO_DEVICE_GET_INFO, VFIO_DEVICE_GET_IRQ_INFO,
  VFIO_DEVICE_GET_REGION_INFO, VFIO_DEVICE_SET_IRQS, VFIO_GROUP_GET_DEVICE_FD, VFIO_GROUP_SET_CONTAINER, VFIO_IOMMU_MAP_DMA, VFIO_IOMMU_UNMAP_DMA, VFIO_SET_IOMMU,
  VFIO_TYPE1_IOMMU, vfio_device_info, vfio_irq_info, vfio_irq_set, vfio_region_info, type SyscallName,
} from '../../../uapi/index.js';
import { System } from '../../../../tools/system/system.js';
import type { VfioPlatformDriver } from '../vfio-platform.js';

export const PL330 = '2c0a0000.dma';
export const PL330_BASE = 0x2c0a0000;
export const TIRQ = '2c0c0000.test-irq';
export const GICD = 0x2c001000;

export class User {
  readonly proc: Process;
  readonly mem: UserMemory;
  /** scratch page: [0, 0x400) ioctl args, [0x400, 0x800) strings, [0x800, 0x1000) data */
  readonly page: number;
  private strOff = 0;

  constructor(readonly sys: System, name = 'test', opts: Omit<ProcessOptions, 'name'> = {}) {
    this.proc = sys.syscalls.createProcess({ name, ...opts });
    this.mem = new UserMemory(this.proc.mm);
    this.page = this.call('mmap2', [0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0]);
    if (this.page < 0) throw new Error(`mmap: ${this.page}`);
  }

  call(name: SyscallName, args: readonly number[]): number {
    return this.sys.syscalls.invoke(this.proc, null, name, args);
  }

  /** a C string in the scratch page (strings area wraps) */
  str(s: string): number {
    if (this.strOff + s.length + 1 > 0x400) this.strOff = 0;
    const p = this.page + 0x400 + this.strOff;
    this.mem.writeCString(p, s);
    this.strOff += s.length + 1;
    return p;
  }

  open(path: string, flags = O_RDWR): number {
    return this.call('open', [this.str(path), flags]);
  }

  /** `echo value > path`: the write's result (or open's error) */
  echo(path: string, value: string): number {
    const fd = this.open(path, O_WRONLY);
    if (fd < 0) return fd;
    const p = this.str(value + '\n');
    const r = this.call('write', [fd, p, value.length + 1]);
    this.call('close', [fd]);
    return r;
  }

  /** `cat path`: its first 1 KiB read through the page's data area, or open's or read's error */
  cat(path: string): string | number {
    const fd = this.open(path, O_RDONLY);
    if (fd < 0) return fd;
    const b = this.page + 0x800;
    const n = this.call('read', [fd, b, 0x400]);
    this.call('close', [fd]);
    return n < 0 ? n : new TextDecoder().decode(this.mem.readBytes(b, n));
  }

  /** getdents64 of a directory (`ls -f`): its names in the order the kernel gives them, or open's or getdents64's error */
  list(path: string): string[] | number {
    const fd = this.open(path, O_RDONLY);
    if (fd < 0) return fd;
    const names: string[] = [];
    const buf = this.page + 0x800;
    for (;;) {
      const n = this.call('getdents64', [fd, buf, 0x400]);
      if (n < 0) return n;
      if (n === 0) break;
      const b = this.mem.readBytes(buf, n);
      // linux_dirent64: d_ino u64, d_off s64, d_reclen u16, d_type u8, d_name
      for (let off = 0; off < n;) {
        const reclen = b[off + 16]! | (b[off + 17]! << 8);
        let end = off + 19;
        while (b[end] !== 0) end++;
        names.push(new TextDecoder().decode(b.subarray(off + 19, end)));
        off += reclen;
      }
    }
    this.call('close', [fd]);
    return names;
  }

  readlink(path: string): string | number {
    const buf = this.page + 0x800;
    const n = this.call('readlink', [this.str(path), buf, 255]);
    return n < 0 ? n : new TextDecoder().decode(this.mem.readBytes(buf, n));
  }

  ioctl(fd: number, cmd: number, arg = 0): number {
    return this.call('ioctl', [fd, cmd, arg]);
  }

  /** VFIO_IOMMU_MAP_DMA on `container` with struct vfio_iommu_type1_dma_map (argsz 32) at page + 0x100 */
  mapDma(container: number, flags: number, vaddr: number, iova: number, size: number): number {
    const a = this.page + 0x100;
    this.mem.write32(a, 32);
    this.mem.write32(a + 4, flags);
    this.mem.write64(a + 8, BigInt(vaddr));
    this.mem.write64(a + 16, BigInt(iova));
    this.mem.write64(a + 24, BigInt(size));
    return this.ioctl(container, VFIO_IOMMU_MAP_DMA, a);
  }

  /** VFIO_IOMMU_UNMAP_DMA of [iova, iova + size) on `container` with struct vfio_iommu_type1_dma_unmap (argsz 24) at page + 0x200 */
  unmapDma(container: number, iova: number, size: number, flags = 0): number {
    const a = this.page + 0x200;
    this.mem.write32(a, 24);
    this.mem.write32(a + 4, flags);
    this.mem.write64(a + 8, BigInt(iova));
    this.mem.write64(a + 16, BigInt(size));
    return this.ioctl(container, VFIO_IOMMU_UNMAP_DMA, a);
  }

  pread(fd: number, buf: number, count: number, off: number): number {
    return this.call('pread64', [fd, buf, count, 0, off % 2 ** 32 >>> 0, Math.floor(off / 2 ** 32)]);
  }

  pwrite(fd: number, buf: number, count: number, off: number): number {
    return this.call('pwrite64', [fd, buf, count, 0, off % 2 ** 32 >>> 0, Math.floor(off / 2 ** 32)]);
  }

  /** pread of one 32-bit value: [result, value] */
  read32(fd: number, off: number): [number, number] {
    const b = this.page + 0x900;
    this.mem.write32(b, 0xdeadbeef);
    const r = this.pread(fd, b, 4, off);
    return [r, this.mem.read32(b)];
  }

  write32(fd: number, off: number, v: number): number {
    const b = this.page + 0x900;
    this.mem.write32(b, v);
    return this.pwrite(fd, b, 4, off);
  }

  deviceInfo(fd: number): { ret: number; flags: number; numRegions: number; numIrqs: number } {
    const a = this.page;
    this.mem.fill(a, 0, 0x40);
    this.mem.write32(a + vfio_device_info.argsz, vfio_device_info.minsz);
    const ret = this.ioctl(fd, VFIO_DEVICE_GET_INFO, a);
    return { ret, flags: this.mem.read32(a + 4), numRegions: this.mem.read32(a + 8), numIrqs: this.mem.read32(a + 12) };
  }

  regionInfo(fd: number, index: number): { ret: number; flags: number; size: bigint; offset: bigint; raw: Uint8Array } {
    const a = this.page;
    this.mem.fill(a, 0, 0x40);
    this.mem.write32(a + vfio_region_info.argsz, vfio_region_info.minsz);
    this.mem.write32(a + vfio_region_info.index, index >>> 0);
    const ret = this.ioctl(fd, VFIO_DEVICE_GET_REGION_INFO, a);
    return {
      ret,
      flags: this.mem.read32(a + vfio_region_info.flags),
      size: this.mem.read64(a + vfio_region_info.size),
      offset: this.mem.read64(a + vfio_region_info.offset),
      raw: this.mem.readBytes(a, vfio_region_info.minsz),
    };
  }

  irqInfo(fd: number, index: number): { ret: number; flags: number; count: number } {
    const a = this.page;
    this.mem.fill(a, 0, 0x40);
    this.mem.write32(a + vfio_irq_info.argsz, vfio_irq_info.minsz);
    this.mem.write32(a + vfio_irq_info.index, index);
    const ret = this.ioctl(fd, VFIO_DEVICE_GET_IRQ_INFO, a);
    return { ret, flags: this.mem.read32(a + vfio_irq_info.flags), count: this.mem.read32(a + vfio_irq_info.count) };
  }

  /** SET_IRQS with a raw header; data: nothing, a bool byte, or an eventfd (int32) */
  setIrqs(fd: number, flags: number, index: number, start: number, count: number, data?: { bool?: number; fd?: number }, argsz: number = vfio_irq_set.minsz + 4): number {
    const a = this.page;
    this.mem.fill(a, 0, 0x40);
    this.mem.write32(a + vfio_irq_set.argsz, argsz);
    this.mem.write32(a + vfio_irq_set.flags, flags >>> 0);
    this.mem.write32(a + vfio_irq_set.index, index >>> 0);
    this.mem.write32(a + vfio_irq_set.start, start >>> 0);
    this.mem.write32(a + vfio_irq_set.count, count >>> 0);
    if (data?.bool !== undefined) this.mem.write8(a + vfio_irq_set.data, data.bool);
    if (data?.fd !== undefined) this.mem.write32(a + vfio_irq_set.data, data.fd >>> 0);
    return this.ioctl(fd, VFIO_DEVICE_SET_IRQS, a);
  }

  /** read the eventfd counter (non-blocking fd): the count, or -errno */
  eventfdRead(efd: number): number {
    const b = this.page + 0x980;
    const r = this.call('read', [efd, b, 8]);
    return r < 0 ? r : Number(this.mem.read64(b));
  }
}

/** the VFIO bus driver that holds the PL330: vfio-amba where the profile has it (mainline), else vfio-platform */
export function vfioDriverOf(sys: System): VfioPlatformDriver {
  const d = sys.vfioAmba ?? sys.vfioPlatform;
  if (!d) throw new Error('no VFIO bus driver in this profile');
  return d;
}

/** the bus of a device (its `subsystem` link): amba where the profile makes the PL330 an AMBA device, else platform */
export function busOf(u: User, dev: string): string {
  for (const b of ['platform', 'amba']) {
    const l = u.readlink(`/sys/bus/${b}/devices/${dev}/subsystem`);
    if (typeof l === 'string') return l.split('/').pop()!;
  }
  return 'platform';
}

/** the VFIO driver for a device's bus: vfio-amba for an AMBA device, else vfio-platform */
export function vfioDriverFor(u: User, dev: string): string {
  return busOf(u, dev) === 'amba' ? 'vfio-amba' : 'vfio-platform';
}

/** The host driver currently bound to a device (its name), or null */
export function hostDriver(u: User, dev: string): string | null {
  const l = u.readlink(`/sys/bus/${busOf(u, dev)}/devices/${dev}/driver`);
  return typeof l === 'string' ? l.split('/').pop()! : null;
}

/**
 * Move `dev` to its VFIO driver as an administrator would: unbind from the host driver,
 * then vfio_bind (2014) or driver_override + drivers_probe on the device's bus (mainline:
 * vfio-amba on the AMBA bus for the PL330).
 */
export function bindToVfio(u: User, dev: string): number {
  const bus = busOf(u, dev);
  const vfio = bus === 'amba' ? 'vfio-amba' : 'vfio-platform';
  const drv = hostDriver(u, dev);
  if (drv && drv !== vfio) {
    const r = u.echo(`/sys/bus/${bus}/drivers/${drv}/unbind`, dev);
    if (r < 0) return r;
  }
  if (u.sys.profile.caps.vfioPlatform && u.sys.profile.caps.bindMechanism === 'vfio_bind') return u.echo('/sys/bus/platform/drivers/vfio-platform/vfio_bind', dev);
  const r = u.echo(`/sys/bus/${bus}/devices/${dev}/driver_override`, vfio);
  if (r < 0) return r;
  return u.echo(`/sys/bus/${bus}/drivers_probe`, dev);
}

/** container + group + GET_DEVICE_FD; throws with the failing step */
export function openDevice(u: User, dev: string): { container: number; group: number; device: number } {
  const link = u.readlink(`/sys/bus/${busOf(u, dev)}/devices/${dev}/iommu_group`);
  if (typeof link !== 'string') throw new Error(`no iommu_group link: ${link}`);
  const container = u.open('/dev/vfio/vfio');
  const group = u.open(`/dev/vfio/${link.split('/').pop()}`);
  if (container < 0 || group < 0) throw new Error(`open: container ${container} group ${group}`);
  u.mem.write32(u.page, container);
  let r = u.ioctl(group, VFIO_GROUP_SET_CONTAINER, u.page);
  if (r) throw new Error(`SET_CONTAINER ${r}`);
  r = u.ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1_IOMMU);
  if (r) throw new Error(`SET_IOMMU ${r}`);
  const device = u.ioctl(group, VFIO_GROUP_GET_DEVICE_FD, u.str(dev));
  if (device < 0) throw new Error(`GET_DEVICE_FD ${device}`);
  return { container, group, device };
}

/** boot a System, bind the device to VFIO and open it */
export function setup(profile: string, dev = PL330, opts: { boardSource?: { text: string; file: string } } = {}): { sys: System; u: User; device: number } {
  const sys = new System({ profile, boardSource: opts.boardSource });
  const u = new User(sys);
  const b = bindToVfio(u, dev);
  if (b < 0) throw new Error(`bind ${dev}: ${b}`);
  const { device } = openDevice(u, dev);
  return { sys, u, device };
}

/** GIC distributor enable bit of an interrupt ID, read over the bus */
export function gicEnabled(sys: System, gicId: number): boolean {
  return ((sys.kernel.hw.readl(GICD + 0x100 + Math.floor(gicId / 32) * 4) >>> gicId % 32) & 1) === 1;
}
