/**
 * Issue 8 acceptance, part 2: the review findings of the RFC v4 series as the `rfc-v4`
 * profile reproduces them, and their absence in `mainline`.
 */
import { describe, expect, it } from 'vitest';
import type { GuestProgram } from '../../../emulator/cpu/stub.js';
import {
  EFAULT, EINVAL, MAP_ANONYMOUS, MAP_PRIVATE, O_RDWR, PROT_READ, PROT_WRITE, VFIO_DEVICE_GET_INFO, VFIO_DEVICE_GET_REGION_INFO,
  VFIO_GROUP_GET_DEVICE_FD, VFIO_GROUP_SET_CONTAINER, VFIO_SET_IOMMU, VFIO_TYPE1_IOMMU, vfio_region_info, type Sys,
} from '../../uapi/index.js';
import { System } from '../../../tools/system/system.js';
import { PL330, PL330_BASE, User, openDevice, setup, bindToVfio, vfioDriverOf } from './testing/user.js';
import { IOREMAP_VA, REGION_STRUCT_SIZE } from './vfio-platform.js';

const CR0 = 0xe00;
const INTEN = 0x20;

describe('finding 1: GET_REGION_INFO index without a bounds check', () => {
  it('rfc-v4: an index past the array returns the neighbouring kernel-heap bytes', () => {
    const { sys, u, device } = setup('rfc-v4');
    const vdev = vfioDriverOf(sys).devices.values().next().value!;
    expect(vdev.regionKva).not.toBe(0);
    // give the region array's slab a neighbour with content: setting a trigger kmallocs
    // the irq name ("vfio-irq[21](2c0a0000.dma)") in the same size class
    const efd = u.call('eventfd2', [0, 0]);
    expect(u.setIrqs(device, 0x24, 0, 0, 1, { fd: efd })).toBe(0);
    const k = sys.kernel.mm.kmem;
    let sawName = false;
    for (const index of [1, 2, 3, 7]) {
      const r = u.regionInfo(device, index);
      expect(r.ret).toBe(0);
      const el = k.readBytes(vdev.regionKva + index * REGION_STRUCT_SIZE, REGION_STRUCT_SIZE);
      // offset <- region.addr (bytes 0-7), size <- bytes 8-15, flags <- bytes 16-19
      expect([...r.raw.subarray(24, 32)]).toEqual([...el.subarray(0, 8)]);
      expect([...r.raw.subarray(16, 24)]).toEqual([...el.subarray(8, 16)]);
      expect([...r.raw.subarray(4, 8)]).toEqual([...el.subarray(16, 20)]);
      if (new TextDecoder().decode(r.raw).includes('vfio-irq') || new TextDecoder().decode(r.raw).includes('2c0a0000')) sawName = true;
    }
    // the kernel string really is what leaks
    expect(sawName).toBe(true);
  });

  it('mainline: the index is bounds-checked', () => {
    const { u, device } = setup('mainline');
    for (const index of [1, 2, 7, 0x08000000, 0xffffffff]) expect(u.regionInfo(device, index).ret).toBe(-EINVAL);
  });
});

/** a user program that opens the PL330 through VFIO and does one bad thing */
function* victim(sys: Sys, bad: (sys: Sys, device: number, buf: number) => Generator<any, number, any>, out: { device: number; result: number | null }): GuestProgram<number> {
  const s = yield* sys.mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  const c = yield* sys.open('/dev/vfio/vfio', O_RDWR);
  const g = yield* sys.open('/dev/vfio/0', O_RDWR);
  sys.mem.write32(s, c);
  if ((yield* sys.ioctl(g, VFIO_GROUP_SET_CONTAINER, s)) !== 0) return 2;
  if ((yield* sys.ioctl(c, VFIO_SET_IOMMU, VFIO_TYPE1_IOMMU)) !== 0) return 3;
  sys.mem.writeCString(s + 256, PL330);
  const d = yield* sys.ioctl(g, VFIO_GROUP_GET_DEVICE_FD, s + 256);
  if (d < 0) return 4;
  out.device = d;
  out.result = yield* bad(sys, d, s + 512);
  return 0;
}

/** boot rfc-v4 with the PL330 bound to VFIO, run the victim; return the system */
function runVictim(profile: string, bad: Parameters<typeof victim>[1]): { sys: System; out: { device: number; result: number | null }; exitCode: number | null } {
  const sys = new System({ profile });
  const admin = new User(sys, 'admin');
  expect(bindToVfio(admin, PL330)).toBe(PL330.length + 1);
  const out = { device: -1, result: null as number | null };
  const { thread } = sys.spawn('victim', (s) => victim(s, bad, out));
  sys.runUntilExited([thread], 1_000_000_000);
  return { sys, out, exitCode: thread.exit?.code ?? null };
}

/** the Oops reports in the kernel log (level alert) */
function alerts(sys: System, re: RegExp): Array<{ msg: string }> {
  return sys.kernel.log.grep(re).filter((r) => r.level === 'alert');
}

/** the machine keeps running: another process opens the device and uses it */
function secondProcessWorks(sys: System): void {
  const u = new User(sys, 'second');
  const { device } = openDevice(u, PL330);
  expect(u.deviceInfo(device).ret).toBe(0);
  expect(u.regionInfo(device, 0).ret).toBe(0);
}

describe('finding 1: a far index is a kernel Oops', () => {
  it('rfc-v4: the process is killed, the log shows the faulting address, the machine runs on', () => {
    const INDEX = 0x08000000; // 24 * index wraps the 32-bit pointer out of the linear map
    const { sys, out } = runVictim('rfc-v4', function* (sys, d, buf) {
      sys.mem.write32(buf + vfio_region_info.argsz, vfio_region_info.minsz);
      sys.mem.write32(buf + vfio_region_info.index, INDEX);
      return yield* sys.ioctl(d, VFIO_DEVICE_GET_REGION_INFO, buf);
    });
    expect(out.device).toBeGreaterThanOrEqual(0);
    expect(out.result).toBeNull(); // the ioctl never returned
    const exit = sys.syscalls.exits.find((e) => e.name === 'victim')!;
    expect(exit.trap?.signal).toBe('SIGSEGV');
    expect(exit.trap?.reason).toMatch(/killed by kernel Oops/);
    const oops = alerts(sys, /Unable to handle kernel paging request at virtual address 0x([0-9a-f]{8})/);
    expect(oops).toHaveLength(1);
    // the address is the region array's kva + 24 * index (32-bit wrap); the array lived
    // in the kmalloc-32 slab, so the address is the same object-relative arithmetic
    const addr = Number.parseInt(/0x([0-9a-f]{8})/.exec(oops[0]!.msg)![1]!, 16);
    const base = (addr - INDEX * REGION_STRUCT_SIZE) >>> 0;
    expect(sys.kernel.mm.kmem.lin.kvaToPa(base)).toBeGreaterThanOrEqual(0); // a linear-map (heap) address
    expect(sys.kernel.mm.kmem.lin.kvaToPa(addr)).toBeLessThan(0);
    expect(oops[0]!.msg).toMatch(/process victim\[\d+\]/);
    expect(oops[0]!.msg).toMatch(/GET_REGION_INFO reads vdev->region\[134217728\] \(region array at 0x[0-9a-f]+, 1 element\(s\)\)/);
    // released on exit: the device is closed again and usable by the next process
    expect(vfioDriverOf(sys).inspect()[0]!.open).toBe(0);
    secondProcessWorks(sys);
  });
});

describe('finding 2: read/write offsets scaled by 4 (unsigned int * arithmetic)', () => {
  it('rfc-v4: a read at region offset X returns the register at 4*X; a write at X lands at 4*X', () => {
    const { sys, u, device } = setup('rfc-v4');
    const hw = sys.kernel.hw;
    const cr0 = hw.readl(PL330_BASE + CR0);
    expect(u.read32(device, PL330_BASE + CR0 / 4)).toEqual([4, cr0]);
    // the register really at 0x380 is not what came back
    expect(hw.readl(PL330_BASE + 0x380)).not.toBe(cr0);
    // the intended offset CR0 (0xE00) is 4*0xE00 = 0x3800 bytes in: past the ioremap, an Oops
    expect(hw.readl(PL330_BASE + INTEN)).toBe(0);
    expect(u.write32(device, PL330_BASE + INTEN / 4, 1)).toBe(4);
    expect(hw.readl(PL330_BASE + INTEN)).toBe(1);
  });

  it('rfc-v4: an offset whose 4*X lies past the ioremap is an Oops (process killed, machine runs on)', () => {
    const OFF = 0x400; // 4 * 0x400 = 0x1000: the first byte past the 4 KiB mapping
    const { sys, out } = runVictim('rfc-v4', function* (sys, d, buf) {
      return yield* sys.pread(d, buf, 4, PL330_BASE + OFF);
    });
    expect(out.result).toBeNull();
    const exit = sys.syscalls.exits.find((e) => e.name === 'victim')!;
    expect(exit.trap?.reason).toMatch(/killed by kernel Oops/);
    const addr = (IOREMAP_VA + 4 * OFF).toString(16).padStart(8, '0');
    expect(alerts(sys, new RegExp(`Unable to handle kernel paging request at virtual address 0x${addr}: vfio_platform_read`))).toHaveLength(1);
    secondProcessWorks(sys);
  });

  it('mainline: byte-exact addressing, bounds-checked, counts clipped', () => {
    const { sys, u, device } = setup('mainline');
    const hw = sys.kernel.hw;
    const cr0 = hw.readl(PL330_BASE + CR0);
    expect(u.read32(device, CR0)).toEqual([4, cr0]);
    expect(u.read32(device, 0x380)).toEqual([4, hw.readl(PL330_BASE + 0x380)]);
    const b = u.page + 0xa00;
    expect(u.write32(device, INTEN, 1)).toBe(4);
    expect(hw.readl(PL330_BASE + INTEN)).toBe(1);
    // past the region: -EINVAL, not an Oops
    expect(u.read32(device, 0x1000)[0]).toBe(-EINVAL);
    expect(u.read32(device, 0x400 * 4 * 4)[0]).toBe(-EINVAL);
    expect(u.write32(device, 0x1000, 0)).toBe(-EINVAL);
    // a read that crosses the end is clipped to the region
    expect(u.pread(device, b, 16, 0xff8)).toBe(8);
    // no region 1 (index << 40)
    expect(u.read32(device, 2 ** 40)[0]).toBe(-EINVAL);
    expect(sys.kernel.log.grep(/Unable to handle/)).toHaveLength(0);
    // an unaligned byte reaches the device as an 8-bit access; the PL330 model answers it
    // with a slave error: an external abort in the kernel (device property, not a VFIO bug)
    expect(() => u.pread(device, b, 1, CR0 + 1)).toThrow(/killed by kernel Oops: Unable to handle kernel external-abort at virtual address 0x2c0a0e01/);
  });
});

describe('finding 3: outside every region', () => {
  it('rfc-v4: read -EFAULT, write -EINVAL (also for an access crossing the region end)', () => {
    const { u, device } = setup('rfc-v4');
    for (const off of [0, PL330_BASE - 4, PL330_BASE + 0x1000, PL330_BASE + 0xffe]) {
      expect(u.read32(device, off)[0]).toBe(-EFAULT);
      expect(u.write32(device, off, 0)).toBe(-EINVAL);
    }
  });

  it('mainline: -EINVAL for both', () => {
    const { u, device } = setup('mainline');
    for (const off of [PL330_BASE, 2 ** 40, 0x1000]) {
      expect(u.read32(device, off)[0]).toBe(-EINVAL);
      expect(u.write32(device, off, 0)).toBe(-EINVAL);
    }
  });
});

void VFIO_DEVICE_GET_INFO;
