/**
 * Test helper: a process on a booted mainline System driving /dev/iommu with raw structs laid
 * out as include/uapi/linux/iommufd.h (offsets in uapi.ts), and binding devices through the
 * kernel-internal API as VFIO's cdev would (there is no /dev/vfio/devices here).
 */
import type { KDevice } from '../../../driver/types.js';
import { MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE } from '../../../uapi/index.js';
import { System } from '../../../../tools/system/system.js';
import { User } from '../../../vfio/platform/testing/user.js';
import { iommufdCtxFromFd, iommufdCtxPut, iommufdDeviceBind, type IommufdCtx, type IommufdDevice } from '../index.js';
import {
  IOMMU_DESTROY, IOMMU_GET_HW_INFO, IOMMU_HWPT_ALLOC, IOMMU_IOAS_ALLOC, IOMMU_IOAS_ALLOW_IOVAS, IOMMU_IOAS_COPY, IOMMU_IOAS_IOVA_RANGES,
  IOMMU_IOAS_MAP, IOMMU_IOAS_UNMAP, IOMMU_OPTION, IOMMU_VFIO_IOAS,
} from '../uapi.js';

export const BOOTARGS = 'vfio_iommu_type1.allow_unsafe_interrupts=1 vfio_platform.reset_required=0 iommufd.allow_unsafe_interrupts=1';

export function bootMainline(profile = 'mainline', bootargs = BOOTARGS): System {
  return new System({ profile, bootargs });
}

/** a u64 field */
const w64 = (u: User, a: number, v: number | bigint): void => u.mem.write64(a, BigInt(v));

export class IfdUser extends User {
  /** the iommufd fd */
  fd = -1;
  /** struct area: page + 0 */
  get a(): number {
    return this.page;
  }

  constructor(sys: System, name = 'ifd', opts: { memlock?: number; capIpcLock?: boolean; uid?: number } = {}) {
    super(sys, name);
    if (opts.memlock !== undefined) this.proc.rlimitMemlock = opts.memlock;
    if (opts.capIpcLock !== undefined) this.proc.capIpcLock = opts.capIpcLock;
    if (opts.uid !== undefined) this.proc.uid = opts.uid;
  }

  openIommufd(path = '/dev/iommu'): number {
    this.fd = this.open(path);
    return this.fd;
  }

  /** anonymous read/write memory */
  mmap(len: number, prot = PROT_READ | PROT_WRITE): number {
    return this.call('mmap2', [0, len, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0]);
  }

  clear(n = 0x100): void {
    this.mem.fill(this.a, 0, n);
  }

  /** raw ioctl with a struct of `size` (first u32) and the given fields (offset -> u32 or bigint u64) */
  raw(cmd: number, size: number, fields: Record<number, number | bigint> = {}, fd = this.fd): number {
    this.clear();
    this.mem.write32(this.a, size >>> 0);
    for (const [k, v] of Object.entries(fields)) {
      if (typeof v === 'bigint') this.mem.write64(this.a + Number(k), v);
      else this.mem.write32(this.a + Number(k), v >>> 0);
    }
    return this.ioctl(fd, cmd, this.a);
  }

  u32(off: number): number {
    return this.mem.read32(this.a + off);
  }

  u64(off: number): bigint {
    return this.mem.read64(this.a + off);
  }

  ioasAlloc(): number {
    const r = this.raw(IOMMU_IOAS_ALLOC, 12);
    return r < 0 ? r : this.u32(8);
  }

  destroy(id: number): number {
    return this.raw(IOMMU_DESTROY, 8, { 4: id });
  }

  /** IOMMU_IOAS_MAP: the IOVA (as number) or -errno */
  map(ioas: number, flags: number, va: number | bigint, length: number | bigint, iova: number | bigint = 0): number {
    this.clear();
    this.mem.write32(this.a, 40);
    this.mem.write32(this.a + 4, flags >>> 0);
    this.mem.write32(this.a + 8, ioas);
    w64(this, this.a + 16, va);
    w64(this, this.a + 24, length);
    w64(this, this.a + 32, iova);
    const r = this.ioctl(this.fd, IOMMU_IOAS_MAP, this.a);
    return r < 0 ? r : Number(this.u64(32));
  }

  /** IOMMU_IOAS_UNMAP: [ret, bytes unmapped] */
  unmap(ioas: number, iova: number | bigint, length: number | bigint): [number, number] {
    this.clear();
    this.mem.write32(this.a, 24);
    this.mem.write32(this.a + 4, ioas);
    w64(this, this.a + 8, iova);
    w64(this, this.a + 16, length);
    const r = this.ioctl(this.fd, IOMMU_IOAS_UNMAP, this.a);
    return [r, Number(this.u64(16))];
  }

  copy(dst: number, src: number, flags: number, length: number, srcIova: number, dstIova = 0): number {
    this.clear();
    this.mem.write32(this.a, 40);
    this.mem.write32(this.a + 4, flags);
    this.mem.write32(this.a + 8, dst);
    this.mem.write32(this.a + 12, src);
    w64(this, this.a + 16, length);
    w64(this, this.a + 24, dstIova);
    w64(this, this.a + 32, srcIova);
    const r = this.ioctl(this.fd, IOMMU_IOAS_COPY, this.a);
    return r < 0 ? r : Number(this.u64(24));
  }

  /** IOMMU_IOAS_IOVA_RANGES with room for `max` ranges at page + 0x200: [ret, num, alignment, ranges] */
  iovaRanges(ioas: number, max = 8): [number, number, number, [number, number][]] {
    this.clear(0x300);
    this.mem.write32(this.a, 32);
    this.mem.write32(this.a + 4, ioas);
    this.mem.write32(this.a + 8, max);
    w64(this, this.a + 16, this.a + 0x200);
    const r = this.ioctl(this.fd, IOMMU_IOAS_IOVA_RANGES, this.a);
    const num = this.u32(8);
    const out: [number, number][] = [];
    for (let i = 0; i < Math.min(num, max); i++) out.push([Number(this.mem.read64(this.a + 0x200 + 16 * i)), Number(this.mem.read64(this.a + 0x208 + 16 * i))]);
    return [r, num, Number(this.u64(24)), out];
  }

  allowIovas(ioas: number, ranges: [number | bigint, number | bigint][]): number {
    this.clear(0x300);
    for (let i = 0; i < ranges.length; i++) {
      w64(this, this.a + 0x200 + 16 * i, ranges[i]![0]);
      w64(this, this.a + 0x208 + 16 * i, ranges[i]![1]);
    }
    this.mem.write32(this.a, 24);
    this.mem.write32(this.a + 4, ioas);
    this.mem.write32(this.a + 8, ranges.length);
    w64(this, this.a + 16, this.a + 0x200);
    return this.ioctl(this.fd, IOMMU_IOAS_ALLOW_IOVAS, this.a);
  }

  /** IOMMU_OPTION: [ret, val64] */
  option(optionId: number, op: number, objectId: number, val: bigint = 0n): [number, bigint] {
    this.clear();
    this.mem.write32(this.a, 24);
    this.mem.write32(this.a + 4, optionId);
    this.mem.write16(this.a + 8, op);
    this.mem.write32(this.a + 12, objectId);
    w64(this, this.a + 16, val);
    const r = this.ioctl(this.fd, IOMMU_OPTION, this.a);
    return [r, this.u64(16)];
  }

  vfioIoas(op: number, ioasId = 0): [number, number] {
    this.clear();
    this.mem.write32(this.a, 12);
    this.mem.write32(this.a + 4, ioasId);
    this.mem.write16(this.a + 8, op);
    const r = this.ioctl(this.fd, IOMMU_VFIO_IOAS, this.a);
    return [r, this.u32(4)];
  }

  hwptAlloc(devId: number, ptId: number, flags = 0): number {
    const r = this.raw(IOMMU_HWPT_ALLOC, 48, { 4: flags, 8: devId, 12: ptId });
    return r < 0 ? r : this.u32(16);
  }

  /** IOMMU_GET_HW_INFO with a data buffer at page + 0x200: [ret, data_len, out_data_type, caps] */
  hwInfo(devId: number, dataLen = 0): [number, number, number, bigint] {
    this.clear(0x300);
    this.mem.fill(this.a + 0x200, 0xaa, 0x40);
    this.mem.write32(this.a, 40);
    this.mem.write32(this.a + 8, devId);
    this.mem.write32(this.a + 12, dataLen);
    w64(this, this.a + 16, this.a + 0x200);
    const r = this.ioctl(this.fd, IOMMU_GET_HW_INFO, this.a);
    return [r, this.u32(12), this.u32(24), this.u64(32)];
  }

  /** the context of the iommufd fd (a reference: put it with `put`) */
  ctx(): IommufdCtx {
    const c = iommufdCtxFromFd(this.proc, this.fd);
    if (typeof c === 'number') throw new Error(`iommufdCtxFromFd ${c}`);
    return c;
  }

  /** bind a device to this fd's context as VFIO_DEVICE_BIND_IOMMUFD would */
  bind(dev: string): { idev: IommufdDevice; devId: number } | number {
    const ictx = this.ctx();
    const r = iommufdDeviceBind(ictx, kdev(this.sys, dev));
    iommufdCtxPut(ictx);
    return r;
  }
}

export function kdev(sys: System, name: string): KDevice {
  const d = sys.kernel.driverCore.findDeviceOnAnyBus(name);
  if (d === null) throw new Error(`no device ${name}`);
  return d as unknown as KDevice;
}

/** pin counts summed over RAM (the page allocator's per-page pin records) */
export function pinnedPages(sys: System): number {
  const pins = sys.kernel.mm.pages.perPageArrays()[2]!;
  let n = 0;
  for (let i = 0; i < pins.length; i++) n += pins[i]!;
  return n;
}
