/**
 * vfio-platform: the VFIO bus driver for platform devices, as the RFC v4 series built it
 * patch by patch (04-10), and as mainline ended (profile `mainline`).
 *
 * Which behaviour applies is decided ONLY by profile.features (vfioPlatformLevel, bugs.*,
 * mainline). Per-patch behaviour and the review findings are documented in
 * docs/PROFILES.md; every deliberate choice is commented next to its code.
 *
 * State lives in kernel heap memory where the 2014 driver kept it, so its bugs have the
 * same reach: the region array (struct vfio_platform_region { u64 addr; u64 size; u32
 * flags; } = 24 bytes with LPAE's 64-bit resource_size_t) and the irq array are
 * kmalloc'd at open, next to other kernel objects, and GET_REGION_INFO reads them back
 * from RAM.
 */
import type { Cpu } from '../../../emulator/cpu/cpu.js';
import { EFAULT, EINVAL, ENODEV, ENOMEM, ENOTTY } from '../../base/errno.js';
import type { HwAccess } from '../../base/hw.js';
import type { KernelLog } from '../../base/klog.js';
import { KernelOops } from '../../base/oops.js';
import type { DriverCore } from '../../driver/core.js';
import { IRQ_TYPE_LEVEL_HIGH, IRQ_TYPE_LEVEL_LOW, type KDevice, type KDriver } from '../../driver/types.js';
import { eventfdCtxFdget, type EventfdCtx } from '../../eventfd/eventfd.js';
import type { IommuCore } from '../../iommu/types.js';
import { IRQ_HANDLED, IRQ_NONE, type IrqApi, type IrqReturn } from '../../irq/types.js';
import type { Kmem } from '../../mm/kmem.js';
import type { Vma } from '../../process/mm.js';
import type { Profile } from '../../profile.js';
import type { Sysfs } from '../../sysfs/sysfs.js';
import type { Task } from '../../vfs/file.js';
import type { VfioDeviceOps } from '../types.js';
import type { Vfio } from '../vfio.js';

// ---- uapi numbers (include/uapi/linux/vfio.h) ----
const VFIO_DEVICE_GET_INFO = 0x3b6b;
const VFIO_DEVICE_GET_REGION_INFO = 0x3b6c;
const VFIO_DEVICE_GET_IRQ_INFO = 0x3b6d;
const VFIO_DEVICE_SET_IRQS = 0x3b6e;
const VFIO_DEVICE_RESET = 0x3b6f;
const VFIO_DEVICE_FLAGS_PLATFORM = 1 << 2;
const REGION_READ = 1 << 0;
const REGION_WRITE = 1 << 1;
const REGION_MMAP = 1 << 2;
const IRQ_INFO_EVENTFD = 1 << 0;
const IRQ_INFO_MASKABLE = 1 << 1;
const IRQ_INFO_AUTOMASKED = 1 << 2;
const SET_DATA_NONE = 1 << 0;
const SET_DATA_BOOL = 1 << 1;
const SET_DATA_EVENTFD = 1 << 2;
const SET_ACTION_MASK = 1 << 3;
const SET_ACTION_UNMASK = 1 << 4;
const SET_ACTION_TRIGGER = 1 << 5;
const SET_DATA_TYPE_MASK = 0x7;
const SET_ACTION_TYPE_MASK = 0x38;
/** mainline VFIO_PLATFORM_OFFSET_SHIFT */
export const VFIO_PLATFORM_OFFSET_SHIFT = 40;
const OFFSET_MASK = 2 ** VFIO_PLATFORM_OFFSET_SHIFT - 1;
const PAGE_SIZE = 4096;
const PAGE_SHIFT = 12;

/** sizeof(struct vfio_platform_region) on 32-bit ARM with LPAE (u64 addr, u64 size, u32 flags, padded) */
export const REGION_STRUCT_SIZE = 24;
/** sizeof(struct vfio_platform_irq) at patch 10: flags, count, trigger*, hwirq, name*, masked (+pad), spinlock */
export const IRQ_STRUCT_SIZE = 28;
/** the vmalloc address the model gives ioremap() mappings (reported in Oops messages) */
export const IOREMAP_VA = 0xf0900000;
/** cycles for ioremap_nocache + iounmap of a region on every read/write (review remark 5) */
export const IOREMAP_CYCLES = 1500;

interface Region {
  addr: number;
  size: number;
  flags: number;
}

interface VirqFd {
  ctx: EventfdCtx;
  listener: () => void;
}

interface PlatIrq {
  index: number;
  /** Linux irq number (virq) */
  hwirq: number;
  flags: number;
  count: number;
  trigger: EventfdCtx | null;
  name: string | null;
  nameKva: number;
  masked: boolean;
  /** mainline: handler requested at open */
  requested: boolean;
  unmaskFd: VirqFd | null;
  maskFd: VirqFd | null;
  /** interrupts delivered to user space (statistics) */
  signalled: number;
}

export interface VfioPlatformDevice {
  readonly pdev: KDevice;
  /** kva of the vdev struct itself */
  readonly kva: number;
  regionKva: number;
  regions: Region[];
  irqKva: number;
  irqs: PlatIrq[];
  openCount: number;
}

export interface VfioPlatformDeps {
  driverCore: DriverCore;
  sysfs: Sysfs;
  iommu: IommuCore;
  vfio: Vfio;
  irq: IrqApi;
  hw: HwAccess;
  kmem: Kmem;
  log: KernelLog;
  profile: Profile;
  cpu: Cpu;
}

const enc = new TextEncoder();

export class VfioPlatformDriver implements KDriver {
  readonly name = 'vfio-platform';
  /** matches nothing by compatible: devices arrive through vfio_bind or driver_override */
  readonly ofMatch: readonly string[] = [];
  readonly level: number;
  readonly mainline: boolean;
  readonly devices = new Map<KDevice, VfioPlatformDevice>();
  readonly ops: VfioDeviceOps;
  /** interrupts delivered to user space through trigger eventfds, per device name (statistics) */
  readonly signalled = new Map<string, number>();
  private readonly b: Profile['features']['bugs'];
  private readonly scratch = new Uint8Array(64);
  private readonly sv = new DataView(this.scratch.buffer);

  constructor(readonly d: VfioPlatformDeps) {
    const f = d.profile.features;
    this.level = f.vfioPlatformLevel;
    this.mainline = f.mainline;
    this.b = f.bugs;
    const self = this;
    this.ops = {
      name: 'vfio-platform',
      open: (data) => self.open(data as VfioPlatformDevice),
      release: (data) => self.release(data as VfioPlatformDevice),
      ioctl: (data, task, cmd, arg) => self.ioctl(data as VfioPlatformDevice, task, cmd, arg),
      read: (data, task, buf, count, pos) => self.rw(data as VfioPlatformDevice, task, buf, count, pos, false),
      write: (data, task, buf, count, pos) => self.rw(data as VfioPlatformDevice, task, buf, count, pos, true),
      mmap: (data, task, vma) => self.mmap(data as VfioPlatformDevice, task, vma),
    };
  }

  /** module_init: register the platform driver and (2014) the vfio_bind driver attribute */
  register(): number {
    if (this.level < 4) return -ENODEV;
    const r = this.d.driverCore.driverRegister(this, 'platform');
    if (r < 0) {
      this.d.log.err('', `Failed to register vfio platform driver, error: ${r}`);
      return r;
    }
    if (this.d.profile.features.vfioBindFile) {
      const dir = this.d.driverCore.driverSysfsDir(this);
      if (dir) this.d.sysfs.addFile(`${dir}/vfio_bind`, { mode: 0o200, store: (buf) => this.vfioBindStore(buf) });
    }
    return 0;
  }

  unregister(): void {
    this.d.driverCore.driverUnregister(this);
  }

  /**
   * vfio_bind (patch 04): find the device by name and hand it to driver_probe_device()
   * directly. As posted it does not check whether the device already has a driver: the
   * 2014 driver core then fails driver_sysfs_add on the existing "driver" link and its
   * failure path clears dev->driver (the previous driver keeps its own state, e.g. its
   * requested IRQs). Returns count on success, else the probe result (0 or -errno).
   */
  private vfioBindStore(buf: string): number {
    const dev = this.d.driverCore.findDevice('platform', buf);
    if (!dev) return -ENODEV;
    const probe = this.d.driverCore.driverProbeDevice;
    if (!probe) return -ENODEV;
    const ret = probe(this, dev);
    return ret > 0 ? buf.length : ret;
  }

  // ------------------------------------------------------------------ probe/remove

  probe(dev: KDevice): number {
    const group = this.d.iommu.groupOf(dev);
    if (!group) {
      this.d.log.err('', `VFIO: No IOMMU group for device ${dev.name}`);
      return -EINVAL;
    }
    // struct vfio_platform_device { pdev*; region*; num_regions; irq*; num_irqs; } (kzalloc)
    const kva = this.d.kmem.kmalloc(20);
    if (kva === 0) return -ENOMEM;
    const vdev: VfioPlatformDevice = { pdev: dev, kva, regionKva: 0, regions: [], irqKva: 0, irqs: [], openCount: 0 };
    const ret = this.d.vfio.addGroupDev(dev, this.ops, vdev);
    if (ret) {
      this.d.kmem.kfree(kva);
      return ret;
    }
    this.devices.set(dev, vdev);
    return 0;
  }

  remove(dev: KDevice): void {
    const vdev = this.d.vfio.delGroupDev(dev) as VfioPlatformDevice | null;
    if (!vdev) return;
    this.devices.delete(dev);
    this.d.kmem.kfree(vdev.kva);
  }

  // ------------------------------------------------------------------ open/release

  /**
   * open/release. The posted patches 05-10 run regions_init/irq_init on EVERY open and the
   * cleanups on EVERY release, and never clear the pointers or counts: a second
   * GET_DEVICE_FD leaks the first arrays (a handler requested through them stays installed
   * and keeps signalling the old trigger), closing one of two fds frees the arrays the other
   * fd still uses (use-after-free: region lookups read the freed heap bytes, irq state is
   * written into them), and the last close frees them again (double kfree, see safeKfree).
   * Mainline counts opens: set up at the first open, torn down at the last release.
   */
  private open(vdev: VfioPlatformDevice): number {
    if (this.level >= 5 && (vdev.openCount === 0 || !this.mainline)) {
      const r = this.regionsInit(vdev);
      if (r) return r;
      if (this.level >= 8) {
        const ri = this.irqInit(vdev);
        if (ri) {
          this.regionsCleanup(vdev);
          return ri;
        }
      }
    }
    vdev.openCount++;
    return 0;
  }

  private release(vdev: VfioPlatformDevice): void {
    if (vdev.openCount <= 0) return;
    vdev.openCount--;
    if (this.mainline) {
      if (vdev.openCount > 0) return;
      if (this.level >= 8) this.irqCleanup(vdev);
      if (this.level >= 5) this.regionsCleanup(vdev);
      return;
    }
    // patch 08's order: regions, then irqs
    if (this.level >= 5) this.regionsCleanup(vdev);
    if (this.level >= 8) this.irqCleanup(vdev);
  }

  /**
   * kfree as the 2014 cleanups call it. A second kfree of an object still free is refused
   * and logged (model choice: SLUB's debug check "Object already free"; a kernel without it
   * corrupts its freelist silently). If the object was handed out again in between, the
   * kfree frees the new owner's object, as it would in Linux.
   */
  private safeKfree(kva: number, what: string): void {
    try {
      this.d.kmem.kfree(kva);
    } catch (e) {
      if (!(e instanceof KernelOops) || e.kind !== 'bug') throw e;
      this.d.log.err('', `=============================================================================`);
      this.d.log.err('', `BUG kmalloc: Object already free: kfree(0x${(kva >>> 0).toString(16)}) of ${what} (double free)`);
    }
  }

  private regionsInit(vdev: VfioPlatformDevice): number {
    const mems = vdev.pdev.resources.filter((r) => r.kind === 'mem');
    const kva = this.d.kmem.kmalloc(REGION_STRUCT_SIZE * mems.length);
    if (kva === 0) return -ENOMEM;
    vdev.regionKva = kva;
    vdev.regions = mems.map((res, i) => {
      let flags = 0;
      if (this.level >= 6) flags |= REGION_READ | REGION_WRITE;
      // patch 07: only regions addressed with page granularity can be mmapped securely
      if (this.level >= 7 && res.start % PAGE_SIZE === 0 && res.size % PAGE_SIZE === 0) flags |= REGION_MMAP;
      const reg = { addr: res.start, size: res.size, flags };
      const k = this.d.kmem;
      k.write64(kva + i * REGION_STRUCT_SIZE, reg.addr);
      k.write64(kva + i * REGION_STRUCT_SIZE + 8, reg.size);
      k.write32(kva + i * REGION_STRUCT_SIZE + 16, reg.flags);
      return reg;
    });
    this.d.kmem.write32(vdev.kva + 4, kva);
    this.d.kmem.write32(vdev.kva + 8, mems.length);
    return 0;
  }

  private regionsCleanup(vdev: VfioPlatformDevice): void {
    if (!this.mainline) {
      // 2014: kfree(vdev->region) only; the pointer and num_regions stay (dangling)
      if (vdev.regionKva) this.safeKfree(vdev.regionKva, `the region array of ${vdev.pdev.name}`);
      return;
    }
    if (vdev.regionKva) this.d.kmem.kfree(vdev.regionKva);
    vdev.regionKva = 0;
    vdev.regions = [];
  }

  /** 2014: vdev->region[i] as read from the heap (read/write/mmap walk the array in memory) */
  private heapRegion(vdev: VfioPlatformDevice, i: number): Region {
    const kva = vdev.regionKva + i * REGION_STRUCT_SIZE;
    const k = this.d.kmem;
    return { addr: k.read64(kva), size: k.read64(kva + 8), flags: k.read32(kva + 16) };
  }

  private isLevel(hwirq: number): boolean {
    return (this.d.irq.irqGetTriggerType(hwirq) & (IRQ_TYPE_LEVEL_HIGH | IRQ_TYPE_LEVEL_LOW)) !== 0;
  }

  private irqInit(vdev: VfioPlatformDevice): number {
    const virqs = vdev.pdev.resources.filter((r) => r.kind === 'irq').map((r) => r.start);
    const kva = virqs.length ? this.d.kmem.kmalloc(IRQ_STRUCT_SIZE * virqs.length) : 0x10;
    if (kva === 0) return -ENOMEM;
    vdev.irqKva = kva;
    vdev.irqs = virqs.map((hwirq, index) => {
      let flags = 0;
      if (this.level >= 9) flags |= IRQ_INFO_EVENTFD;
      if (this.level >= 10) {
        flags |= IRQ_INFO_MASKABLE;
        if (this.isLevel(hwirq)) flags |= IRQ_INFO_AUTOMASKED;
      }
      const irq: PlatIrq = { index, hwirq, flags, count: 1, trigger: null, name: null, nameKva: 0, masked: false, requested: false, unmaskFd: null, maskFd: null, signalled: 0 };
      return irq;
    });
    for (const irq of vdev.irqs) this.mirrorIrq(vdev, irq);
    this.d.kmem.write32(vdev.kva + 12, kva);
    this.d.kmem.write32(vdev.kva + 16, virqs.length);
    if (this.mainline) {
      // mainline: handlers are requested at open with the line left disabled; setting a
      // trigger enables it
      for (const irq of vdev.irqs) {
        irq.name = `vfio-irq[${irq.hwirq}](${vdev.pdev.name})`;
        const r = this.d.irq.requestIrq(irq.hwirq, (_n, id) => this.handler(vdev, id as PlatIrq), IRQF_NO_AUTOEN, irq.name, irq);
        if (r < 0) {
          for (const o of vdev.irqs) if (o.requested) this.d.irq.freeIrq(o.hwirq, o);
          this.d.kmem.kfree(kva);
          vdev.irqs = [];
          return r;
        }
        irq.requested = true;
      }
    }
    return 0;
  }

  /** keep the kernel-heap copy of struct vfio_platform_irq in step with the model's state */
  private mirrorIrq(vdev: VfioPlatformDevice, irq: PlatIrq): void {
    const k = this.d.kmem;
    const base = vdev.irqKva + irq.index * IRQ_STRUCT_SIZE;
    k.write32(base, irq.flags);
    k.write32(base + 4, irq.count);
    k.write32(base + 8, irq.trigger ? 0xc0de0000 + (irq.index << 4) : 0); // an opaque kernel pointer value
    k.write32(base + 12, irq.hwirq);
    k.write32(base + 16, irq.nameKva);
    k.write8(base + 20, irq.masked ? 1 : 0);
  }

  private irqCleanup(vdev: VfioPlatformDevice): void {
    for (const irq of vdev.irqs) {
      if (this.mainline && irq.masked) {
        this.d.irq.enableIrq(irq.hwirq);
        irq.masked = false;
      }
      this.setTrigger(vdev, irq, null);
      if (!this.mainline && this.level >= 10 && irq.masked) {
        // patch 10, in the posted order: vfio_set_trigger(-1) (free_irq: irq_shutdown,
        // depth 1, masked at the GIC) and THEN enable_irq for a line left masked, so the
        // GIC enable bit ends up set on a line without a handler. Should the device
        // still assert it, the next take finds no action and masks it again
        // (handle_fasteoi_irq), so nothing storms.
        this.d.irq.enableIrq(irq.hwirq);
        irq.masked = false;
      }
      if (this.mainline) {
        this.dropVirqfd(irq, 'unmask');
        this.dropVirqfd(irq, 'mask');
        if (irq.requested) this.d.irq.freeIrq(irq.hwirq, irq);
        irq.requested = false;
      }
    }
    if (!this.mainline) {
      // 2014: kfree(vdev->irq) only; the pointer, num_irqs and the state stay (dangling)
      if (vdev.irqKva && vdev.irqKva !== 0x10) this.safeKfree(vdev.irqKva, `the irq array of ${vdev.pdev.name}`);
      return;
    }
    if (vdev.irqKva && vdev.irqKva !== 0x10) this.d.kmem.kfree(vdev.irqKva);
    vdev.irqKva = 0;
    vdev.irqs = [];
  }

  // ------------------------------------------------------------------ ioctl

  private ioctl(vdev: VfioPlatformDevice, task: Task, cmd: number, arg: number): number {
    switch (cmd) {
      case VFIO_DEVICE_GET_INFO:
        return this.getInfo(vdev, task, arg);
      case VFIO_DEVICE_GET_REGION_INFO:
        return this.level >= 5 ? this.getRegionInfo(vdev, task, arg) : -EINVAL;
      case VFIO_DEVICE_GET_IRQ_INFO:
        return this.level >= 8 ? this.getIrqInfo(vdev, task, arg) : -EINVAL;
      case VFIO_DEVICE_SET_IRQS:
        return this.level >= 9 ? this.setIrqs(vdev, task, arg) : -EINVAL;
      case VFIO_DEVICE_RESET:
        // no reset handler exists for the PL330 (mainline runs with reset_required=0)
        return -EINVAL;
      default:
        return -ENOTTY;
    }
  }

  private copyIn(task: Task, arg: number, minsz: number): number {
    const r = task.mm.copyFromUser(this.scratch, 0, arg, minsz);
    if (r < 0) return -EFAULT;
    if (this.sv.getUint32(0, true) < minsz) return -EINVAL;
    return 0;
  }

  private copyOut(task: Task, arg: number, minsz: number): number {
    return task.mm.copyToUser(arg, this.scratch, 0, minsz) < 0 ? -EFAULT : 0;
  }

  private getInfo(vdev: VfioPlatformDevice, task: Task, arg: number): number {
    const minsz = 16;
    const r = this.copyIn(task, arg, minsz);
    if (r) return r;
    this.sv.setUint32(4, VFIO_DEVICE_FLAGS_PLATFORM, true);
    this.sv.setUint32(8, this.level >= 5 ? vdev.regions.length : 0, true);
    this.sv.setUint32(12, this.level >= 8 ? vdev.irqs.length : 0, true);
    return this.copyOut(task, arg, minsz);
  }

  private getRegionInfo(vdev: VfioPlatformDevice, task: Task, arg: number): number {
    const minsz = 32;
    const r = this.copyIn(task, arg, minsz);
    if (r) return r;
    const index = this.sv.getUint32(8, true);
    if (this.b.regionInfoNoBoundsCheck) {
      // review finding 1: vdev->region[info.index] with no bounds check. The element
      // address is computed with 32-bit pointer arithmetic and dereferenced in the
      // kernel: past the array it reads the neighbouring heap bytes; outside the linear
      // map it is a paging-request Oops (thrown from kmem). The three fields are copied
      // as raw bytes (u64 addr -> offset, u64 size, u32 flags), so a kernel pointer in
      // the high word reaches user space bit-exact (a JS number would round above 2^53).
      const kva = (vdev.regionKva + index * REGION_STRUCT_SIZE) >>> 0;
      let raw: Uint8Array;
      try {
        raw = this.d.kmem.readBytes(kva, 20);
      } catch (e) {
        if (!(e instanceof KernelOops)) throw e;
        throw new KernelOops(e.kind, e.address, `vfio_platform_ioctl: GET_REGION_INFO reads vdev->region[${index}] (region array at 0x${vdev.regionKva.toString(16)}, ${vdev.regions.length} element(s)): ${e.detail}`);
      }
      this.scratch.set(raw.subarray(16, 20), 4); // flags
      this.scratch.set(raw.subarray(8, 16), 16); // size
      // 2014: the offset IS the physical address (mainline never takes this path)
      this.scratch.set(raw.subarray(0, 8), 24);
      return this.copyOut(task, arg, minsz);
    }
    if (index >= vdev.regions.length) return -EINVAL;
    const reg = vdev.regions[index]!;
    this.sv.setUint32(4, reg.flags >>> 0, true);
    setU64(this.sv, 16, reg.size);
    // 2014: the offset IS the physical address; mainline: index << 40
    setU64(this.sv, 24, this.mainline ? index * 2 ** VFIO_PLATFORM_OFFSET_SHIFT : reg.addr);
    return this.copyOut(task, arg, minsz);
  }

  private getIrqInfo(vdev: VfioPlatformDevice, task: Task, arg: number): number {
    const minsz = 16;
    const r = this.copyIn(task, arg, minsz);
    if (r) return r;
    const index = this.sv.getUint32(8, true);
    if (index >= vdev.irqs.length) return -EINVAL;
    const irq = vdev.irqs[index]!;
    this.sv.setUint32(4, irq.flags, true);
    this.sv.setUint32(12, irq.count, true);
    return this.copyOut(task, arg, minsz);
  }

  private setIrqs(vdev: VfioPlatformDevice, task: Task, arg: number): number {
    const minsz = 20;
    const r = this.copyIn(task, arg, minsz);
    if (r) return r;
    const flags = this.sv.getUint32(4, true);
    const index = this.sv.getUint32(8, true);
    const start = this.sv.getUint32(12, true);
    const count = this.sv.getUint32(16, true);
    // header validation (patch 09; mainline checks the same and that exactly one DATA and one ACTION bit is set)
    if (index >= vdev.irqs.length) return -EINVAL;
    if (start !== 0 || count > 1) return -EINVAL;
    if (count === 0 && (!(flags & SET_DATA_NONE) || !(flags & SET_ACTION_TRIGGER))) return -EINVAL;
    if (flags & ~(SET_DATA_TYPE_MASK | SET_ACTION_TYPE_MASK)) return -EINVAL;
    if (this.mainline && (popcount(flags & SET_DATA_TYPE_MASK) !== 1 || popcount(flags & SET_ACTION_TYPE_MASK) !== 1)) return -EINVAL;
    const irq = vdev.irqs[index]!;
    const data = arg + minsz;
    switch (flags & SET_ACTION_TYPE_MASK) {
      case SET_ACTION_TRIGGER:
        return this.setIrqTrigger(vdev, irq, task, count, flags, data);
      case SET_ACTION_MASK:
      case SET_ACTION_UNMASK: {
        if (this.level < 10) return -ENOTTY; // patch 09: "XXX not implemented"
        if (this.mainline && !(irq.flags & IRQ_INFO_MASKABLE)) return -EINVAL;
        return this.setIrqMaskUnmask(vdev, irq, task, count, flags, data, (flags & SET_ACTION_TYPE_MASK) === SET_ACTION_MASK);
      }
      default:
        return -ENOTTY;
    }
  }

  private readU8(task: Task, va: number): number {
    const r = task.mm.copyFromUser(this.scratch, 32, va, 1);
    return r < 0 ? -EFAULT : this.scratch[32]!;
  }

  private readS32(task: Task, va: number): number | null {
    const r = task.mm.copyFromUser(this.scratch, 32, va, 4);
    return r < 0 ? null : this.sv.getInt32(32, true);
  }

  private setIrqTrigger(vdev: VfioPlatformDevice, irq: PlatIrq, task: Task, count: number, flags: number, data: number): number {
    switch (flags & SET_DATA_TYPE_MASK) {
      case SET_DATA_NONE:
        if (count === 0) return this.setTrigger(vdev, irq, null);
        this.loopback(vdev, irq);
        return 0;
      case SET_DATA_BOOL: {
        const b = this.readU8(task, data);
        if (b < 0) return b;
        if (b === 1) {
          this.loopback(vdev, irq);
          return 0;
        }
        return this.mainline ? 0 : -EINVAL;
      }
      case SET_DATA_EVENTFD: {
        const fd = this.readS32(task, data);
        if (fd === null) return -EFAULT;
        if (fd < 0) return this.setTrigger(vdev, irq, null);
        const ctx = eventfdCtxFdget(task.proc, fd);
        if (typeof ctx === 'number') return ctx;
        return this.setTrigger(vdev, irq, ctx);
      }
      default:
        return -EFAULT;
    }
  }

  /** user-space loopback: run the handler as if the line had fired */
  private loopback(vdev: VfioPlatformDevice, irq: PlatIrq): void {
    if (!this.mainline && this.level >= 10 && irq.trigger === null) {
      // patch 10's handler calls eventfd_signal(irq_ctx->trigger) unconditionally: with
      // no trigger set that is a NULL dereference (spin_lock on ctx->wqh.lock, offset 4)
      this.handlerMask(vdev, irq);
      throw new KernelOops('paging-request', 0x4, `NULL pointer dereference in vfio_irq_handler (eventfd_signal of an unset trigger, ${vdev.pdev.name} irq ${irq.index})`);
    }
    this.handler(vdev, irq);
  }

  /**
   * vfio_set_trigger: drop the old trigger (free_irq, eventfd put), then, when given a
   * context, request the line (2014: flags 0, i.e. not shared: a host driver still holding
   * the line makes this -EBUSY) or, in mainline, enable the handler requested at open.
   */
  private setTrigger(vdev: VfioPlatformDevice, irq: PlatIrq, ctx: EventfdCtx | null): number {
    if (irq.trigger) {
      if (this.mainline) this.d.irq.disableIrq(irq.hwirq);
      else this.d.irq.freeIrq(irq.hwirq, irq);
      if (irq.nameKva) this.d.kmem.kfree(irq.nameKva);
      irq.nameKva = 0;
      irq.trigger = null;
      this.mirrorIrq(vdev, irq);
    }
    if (ctx === null) return 0;
    irq.name = `vfio-irq[${irq.hwirq}](${vdev.pdev.name})`;
    // kasprintf: the name lives in the kernel heap too
    const nb = enc.encode(irq.name);
    irq.nameKva = this.d.kmem.kmalloc(nb.length + 1);
    if (irq.nameKva === 0) return -ENOMEM;
    this.d.kmem.writeBytes(irq.nameKva, nb);
    irq.trigger = ctx;
    if (this.mainline) {
      if (irq.masked) {
        irq.masked = false;
      }
      this.d.irq.enableIrq(irq.hwirq);
      this.mirrorIrq(vdev, irq);
      return 0;
    }
    const r = this.d.irq.requestIrq(irq.hwirq, (_n, id) => this.handler(vdev, id as PlatIrq), 0, irq.name, irq);
    if (r) {
      this.d.kmem.kfree(irq.nameKva);
      irq.nameKva = 0;
      irq.trigger = null;
      this.mirrorIrq(vdev, irq);
      return r;
    }
    this.mirrorIrq(vdev, irq);
    return 0;
  }

  /** the automask part of the handler (patch 10 / mainline's automasked handler) */
  private handlerMask(vdev: VfioPlatformDevice, irq: PlatIrq): IrqReturn {
    if (this.level < 10) return IRQ_HANDLED;
    if (irq.masked) return IRQ_NONE;
    if (irq.flags & IRQ_INFO_AUTOMASKED) {
      this.d.irq.disableIrqNosync(irq.hwirq);
      irq.masked = true;
      this.mirrorIrq(vdev, irq);
    }
    return IRQ_HANDLED;
  }

  /**
   * vfio_irq_handler. Patch 09 signals the trigger on every interrupt and never masks a
   * line: a level line stays asserted until user space clears the device, so the CPU
   * re-enters here forever (the storm the matrix shows). Patch 09 as posted passes the
   * struct vfio_platform_irq as dev_id while its handler treats dev_id as the eventfd
   * context; patch 10 fixes that. The model signals the registered eventfd at both
   * levels (documented deviation: the memory corruption is not modelled).
   */
  private handler(vdev: VfioPlatformDevice, irq: PlatIrq): IrqReturn {
    const ret = this.handlerMask(vdev, irq);
    if (ret === IRQ_HANDLED && irq.trigger) {
      irq.trigger.signal(1);
      irq.signalled++;
      this.signalled.set(vdev.pdev.name, (this.signalled.get(vdev.pdev.name) ?? 0) + 1);
    }
    return ret;
  }

  private setIrqMaskUnmask(vdev: VfioPlatformDevice, irq: PlatIrq, task: Task, count: number, flags: number, data: number, mask: boolean): number {
    if (count !== 1) return -EINVAL; // also covers start via the header check
    switch (flags & SET_DATA_TYPE_MASK) {
      case SET_DATA_BOOL: {
        const b = this.readU8(task, data);
        if (b < 0) return b;
        if (b !== 1) return this.mainline ? 0 : -EINVAL;
        break;
      }
      case SET_DATA_NONE:
        break;
      case SET_DATA_EVENTFD: {
        if (!this.mainline) return -ENOTTY; // patch 10: "XXX not implemented yet"
        const fd = this.readS32(task, data);
        if (fd === null) return -EFAULT;
        return this.setVirqfd(vdev, irq, task, fd, mask ? 'mask' : 'unmask');
      }
      default:
        return -ENOTTY;
    }
    if (mask) this.maskIrq(vdev, irq);
    else this.unmaskIrq(vdev, irq);
    return 0;
  }

  private maskIrq(vdev: VfioPlatformDevice, irq: PlatIrq): void {
    if (!irq.masked) {
      this.d.irq.disableIrq(irq.hwirq);
      irq.masked = true;
      this.mirrorIrq(vdev, irq);
    }
  }

  private unmaskIrq(vdev: VfioPlatformDevice, irq: PlatIrq): void {
    if (irq.masked) {
      this.d.irq.enableIrq(irq.hwirq);
      irq.masked = false;
      this.mirrorIrq(vdev, irq);
    }
  }

  /** mainline virqfd: signalling the eventfd masks/unmasks the line (fd -1 removes it) */
  private setVirqfd(vdev: VfioPlatformDevice, irq: PlatIrq, task: Task, fd: number, which: 'mask' | 'unmask'): number {
    this.dropVirqfd(irq, which);
    if (fd < 0) return 0;
    const ctx = eventfdCtxFdget(task.proc, fd);
    if (typeof ctx === 'number') return ctx;
    const listener = (): void => {
      if (ctx.count === 0n) return;
      ctx.count = 0n; // virqfd consumes the count (eventfd_ctx_do_read)
      if (which === 'unmask') this.unmaskIrq(vdev, irq);
      else this.maskIrq(vdev, irq);
    };
    const v: VirqFd = { ctx, listener };
    ctx.kernelListeners.push(listener);
    if (which === 'unmask') irq.unmaskFd = v;
    else irq.maskFd = v;
    if (ctx.count > 0n) listener();
    return 0;
  }

  private dropVirqfd(irq: PlatIrq, which: 'mask' | 'unmask'): void {
    const v = which === 'unmask' ? irq.unmaskFd : irq.maskFd;
    if (!v) return;
    const i = v.ctx.kernelListeners.indexOf(v.listener);
    if (i >= 0) v.ctx.kernelListeners.splice(i, 1);
    if (which === 'unmask') irq.unmaskFd = null;
    else irq.maskFd = null;
  }

  // ------------------------------------------------------------------ read/write

  private rw(vdev: VfioPlatformDevice, task: Task, buf: number, count: number, pos: number, write: boolean): number {
    if (this.level < 6) return 0; // patch 04/05: read/write return 0
    return this.mainline ? this.rwMainline(vdev, task, buf, count, pos, write) : this.rw2014(vdev, task, buf, count, pos, write);
  }

  /**
   * Patch 06 as posted: the offset is a physical address; the region containing
   * [pos, pos+count) is ioremapped and accessed through `unsigned int *io`, so
   * `io + off` is 4 * off bytes past the mapping (review finding 2). An access that lands
   * inside the ioremapped pages reaches whatever register is there; past them it hits
   * the vmalloc guard area: a paging-request Oops. No region: read -EFAULT, write
   * -EINVAL (finding 3).
   */
  private rw2014(vdev: VfioPlatformDevice, task: Task, buf: number, count: number, pos: number, write: boolean): number {
    for (let i = 0; i < vdev.regions.length; i++) {
      const region = this.heapRegion(vdev, i);
      if (pos < region.addr || pos + count - 1 >= region.addr + region.size) continue;
      this.d.cpu.charge(IOREMAP_CYCLES);
      const mapped = Math.ceil(((region.addr % PAGE_SIZE) + region.size) / PAGE_SIZE) * PAGE_SIZE;
      const scale = this.b.rwOffsetScaledBy4 ? 4 : 1;
      const regionOff = region.addr % PAGE_SIZE;
      const name = vdev.pdev.name;
      return this.mmioCopy(task, buf, count, pos - region.addr, write, (off, width) => {
        const byteOff = off * scale;
        if (regionOff + byteOff + width > mapped) {
          throw new KernelOops('paging-request', (IOREMAP_VA + regionOff + byteOff) >>> 0, `vfio_platform_${write ? 'write' : 'read'}: ${write ? 'iowrite' : 'ioread'}${width * 8} past the ioremap of ${name} (offset 0x${off.toString(16)} scaled to 0x${byteOff.toString(16)})`);
        }
        return region.addr + byteOff;
      });
    }
    return write || !this.b.readEfaultOutsideRegions ? -EINVAL : -EFAULT;
  }

  /** mainline: index-encoded offsets, bounds-checked, count clipped, byte-exact */
  private rwMainline(vdev: VfioPlatformDevice, task: Task, buf: number, count: number, pos: number, write: boolean): number {
    const index = Math.floor(pos / 2 ** VFIO_PLATFORM_OFFSET_SHIFT);
    const off = pos % 2 ** VFIO_PLATFORM_OFFSET_SHIFT;
    if (index >= vdev.regions.length) return -EINVAL;
    const region = vdev.regions[index]!;
    if (!(region.flags & (write ? REGION_WRITE : REGION_READ))) return -EINVAL;
    if (off >= region.size) return -EINVAL;
    count = Math.min(count, region.size - off);
    return this.mmioCopy(task, buf, count, off, write, (o) => region.addr + o);
  }

  /**
   * The read/write loop both eras share: 4-, 2- or 1-byte device accesses chosen by the
   * offset's alignment and the bytes left, each copied to or from the user buffer.
   * `paOf(off, width)` gives the physical address of the access (and may Oops).
   */
  private mmioCopy(task: Task, buf: number, count: number, off: number, write: boolean, paOf: (off: number, width: 1 | 2 | 4) => number): number {
    let done = 0;
    while (count > 0) {
      const width = count >= 4 && off % 4 === 0 ? 4 : count >= 2 && off % 2 === 0 ? 2 : 1;
      const pa = paOf(off, width);
      if (write) {
        if (task.mm.copyFromUser(this.scratch, 0, buf, width) < 0) return -EFAULT;
        const v = width === 4 ? this.sv.getUint32(0, true) : width === 2 ? this.sv.getUint16(0, true) : this.scratch[0]!;
        this.d.hw.write(pa, width, v);
      } else {
        const v = this.d.hw.read(pa, width);
        if (width === 4) this.sv.setUint32(0, v, true);
        else if (width === 2) this.sv.setUint16(0, v, true);
        else this.scratch[0] = v;
        if (task.mm.copyToUser(buf, this.scratch, 0, width) < 0) return -EFAULT;
      }
      count -= width;
      done += width;
      off += width;
      buf += width;
    }
    return done;
  }

  // ------------------------------------------------------------------ mmap

  private mmap(vdev: VfioPlatformDevice, _task: Task, vma: Vma): number {
    if (this.level < 7) return -EINVAL; // patch 04-06: mmap -EINVAL
    const len = vma.end - vma.start;
    if (vma.end < vma.start || vma.start % PAGE_SIZE || vma.end % PAGE_SIZE) return -EINVAL;
    if ((vma.flags & MAP_SHARED_FLAG) === 0) return -EINVAL;
    if (this.mainline) {
      const index = Math.floor(vma.pgoff / 2 ** (VFIO_PLATFORM_OFFSET_SHIFT - PAGE_SHIFT));
      if (index >= vdev.regions.length) return -EINVAL;
      const region = vdev.regions[index]!;
      if (!(region.flags & REGION_MMAP)) return -EINVAL;
      const reqStart = (vma.pgoff % 2 ** (VFIO_PLATFORM_OFFSET_SHIFT - PAGE_SHIFT)) * PAGE_SIZE;
      if (region.size < PAGE_SIZE || reqStart + len > region.size) return -EINVAL;
      _task.mm.remapPfnRange(vma, region.addr + reqStart);
      return 0;
    }
    // 2014: the page offset is the physical page number
    const addr = vma.pgoff * PAGE_SIZE;
    for (let i = 0; i < vdev.regions.length; i++) {
      const region = this.heapRegion(vdev, i);
      if (addr < region.addr || addr + len - 1 >= region.addr + region.size) continue;
      _task.mm.remapPfnRange(vma, addr);
      return 0;
    }
    return -EINVAL;
  }

  // ------------------------------------------------------------------ inspection

  /** state for tools and tests: per device, per irq */
  inspect(): Array<{ device: string; open: number; regions: Region[]; irqs: Array<{ index: number; virq: number; flags: number; masked: boolean; trigger: boolean; signalled: number }> }> {
    return [...this.devices.values()].map((v) => ({
      device: v.pdev.name,
      open: v.openCount,
      regions: v.regions.map((r) => ({ ...r })),
      irqs: v.irqs.map((i) => ({ index: i.index, virq: i.hwirq, flags: i.flags, masked: i.masked, trigger: i.trigger !== null, signalled: i.signalled })),
    }));
  }
}

const MAP_SHARED_FLAG = 0x01;
const IRQF_NO_AUTOEN = 0x80000;

function setU64(v: DataView, off: number, x: number): void {
  v.setUint32(off, x % 2 ** 32 >>> 0, true);
  v.setUint32(off + 4, Math.floor(x / 2 ** 32) >>> 0, true);
}

function popcount(x: number): number {
  let n = 0;
  for (; x; x &= x - 1) n++;
  return n;
}
