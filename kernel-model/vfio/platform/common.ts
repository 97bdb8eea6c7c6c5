/**
 * vfio-platform's bus-independent part (vfio_platform_common.c): the device fd's
 * open/release, the ioctl dispatch (GET_INFO, GET_REGION_INFO, GET_IRQ_INFO, SET_IRQS
 * header validation, RESET), read/write and mmap. Regions are in regions.ts, interrupts
 * in irq.ts, the platform-bus glue (binding, probe/remove) in vfio-platform.ts.
 *
 * Which rules apply is read from the profile's capabilities (`openRule`, `regionInfo`,
 * `irqInfo`, `setIrqsActions`, `setIrqsValidation`, `rwImplementation`, `mmapRegions`,
 * `bugs.*`; kernel-model/profile.ts, docs/PROFILES.md).
 */
import { EFAULT, EINVAL, ENOTTY } from '../../base/errno.js';
import { KernelOops } from '../../base/oops.js';
import type { Vma } from '../../process/mm.js';
import type { Capabilities } from '../../profile.js';
import {
  MAP_SHARED,
  PAGE_SIZE,
  VFIO_DEVICE_GET_INFO,
  VFIO_DEVICE_GET_IRQ_INFO,
  VFIO_DEVICE_GET_REGION_INFO,
  VFIO_DEVICE_RESET,
  VFIO_DEVICE_SET_IRQS,
  VFIO_IRQ_SET_ACTION_MASK,
  VFIO_IRQ_SET_ACTION_TRIGGER,
  VFIO_IRQ_SET_ACTION_TYPE_MASK,
  VFIO_IRQ_SET_ACTION_UNMASK,
  VFIO_IRQ_SET_DATA_BOOL,
  VFIO_IRQ_SET_DATA_EVENTFD,
  VFIO_IRQ_SET_DATA_NONE,
  VFIO_IRQ_SET_DATA_TYPE_MASK,
  VFIO_IRQ_INFO_MASKABLE,
  VFIO_REGION_INFO_FLAG_MMAP,
  VFIO_REGION_INFO_FLAG_READ,
  VFIO_REGION_INFO_FLAG_WRITE,
} from '../../uapi/constants.js';
import type { Task } from '../../vfs/file.js';
import type { VfioDeviceOps } from '../types.js';
import { VfioPlatformIrqs } from './irq.js';
import type { VfioPlatformDeps, VfioPlatformDevice } from './private.js';
import { heapRegion, offsetInRegion, offsetToIndex, pgoffToRegion, regionInfo, regionsCleanup, regionsInit } from './regions.js';

/** the vmalloc address the model gives ioremap() mappings (reported in Oops messages) */
export const IOREMAP_VA = 0xf0900000;
/** cycles for ioremap_nocache + iounmap of a region on every read/write (review remark 5) */
export const IOREMAP_CYCLES = 1500;

export class VfioPlatformCommon {
  readonly ops: VfioDeviceOps;
  readonly irqs: VfioPlatformIrqs;
  private readonly scratch = new Uint8Array(64);
  private readonly sv = new DataView(this.scratch.buffer);

  /** `driverName`: the vfio_device_ops name and dev_* prefix, 'vfio-platform' or 'vfio-amba' (vfio_amba_ops) */
  constructor(
    private readonly d: VfioPlatformDeps,
    readonly driverName = 'vfio-platform',
  ) {
    this.irqs = new VfioPlatformIrqs(d);
    const self = this;
    // frozen: constant (the fuzzer's snapshot does not record frozen objects)
    this.ops = Object.freeze<VfioDeviceOps>({
      name: driverName,
      open: (data) => self.open(data as VfioPlatformDevice),
      release: (data) => self.release(data as VfioPlatformDevice),
      ioctl: (data, task, cmd, arg) => self.ioctl(data as VfioPlatformDevice, task, cmd, arg),
      read: (data, task, buf, count, pos) => self.rw(data as VfioPlatformDevice, task, buf, count, pos, false),
      write: (data, task, buf, count, pos) => self.rw(data as VfioPlatformDevice, task, buf, count, pos, true),
      mmap: (data, task, vma) => self.mmap(data as VfioPlatformDevice, task, vma),
    });
    // every field is readonly: frozen, so that the fuzzer's snapshot (tools/fuzz/snapshot.ts) need not record it
    Object.freeze(this);
  }

  private get caps(): Readonly<Capabilities> {
    return this.d.profile.caps;
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
    const caps = this.caps;
    if (caps.regionInfo && (vdev.openCount === 0 || caps.openRule === 'every-open')) {
      const r = regionsInit(this.d, vdev);
      if (r) return r;
      if (caps.irqInfo) {
        const ri = this.irqs.init(vdev);
        if (ri) {
          regionsCleanup(this.d, vdev);
          return ri;
        }
      }
    }
    // mainline vfio_platform_open_device: vfio_platform_call_reset after the set-up (the first
    // open only); with no reset function only a warning (reset_required is 0 for the devices
    // that get this far)
    if (vdev.openCount === 0) this.callReset(vdev);
    vdev.openCount++;
    return 0;
  }

  /**
   * mainline vfio_platform_call_reset (vfio_platform_common.c, `dev_fmt` "VFIO: "): no ACPI
   * reset and no of_reset: dev_warn "no reset function found!", -EINVAL (`deviceReset`); the
   * 2014 code has no reset at all: 0, silent
   */
  private callReset(vdev: VfioPlatformDevice): number {
    if (this.caps.deviceReset !== 'call-reset') return 0;
    this.d.log.warn(`${this.driverName} ${vdev.pdev.name}`, 'VFIO: no reset function found!');
    return -EINVAL;
  }

  private release(vdev: VfioPlatformDevice): void {
    const caps = this.caps;
    if (vdev.openCount <= 0) return;
    vdev.openCount--;
    if (caps.openRule === 'first-open-last-close') {
      if (vdev.openCount > 0) return;
      // mainline vfio_platform_close_device: vfio_platform_call_reset, then the clean-up
      this.callReset(vdev);
      if (caps.irqInfo) this.irqs.cleanup(vdev);
      if (caps.regionInfo) regionsCleanup(this.d, vdev);
      return;
    }
    // patch 08's order: regions, then irqs
    if (caps.regionInfo) regionsCleanup(this.d, vdev);
    if (caps.irqInfo) this.irqs.cleanup(vdev);
  }

  // ------------------------------------------------------------------ ioctl

  private ioctl(vdev: VfioPlatformDevice, task: Task, cmd: number, arg: number): number {
    switch (cmd) {
      case VFIO_DEVICE_GET_INFO:
        return this.getInfo(vdev, task, arg);
      case VFIO_DEVICE_GET_REGION_INFO:
        return this.caps.regionInfo ? this.getRegionInfo(vdev, task, arg) : -EINVAL;
      case VFIO_DEVICE_GET_IRQ_INFO:
        return this.caps.irqInfo ? this.getIrqInfo(vdev, task, arg) : -EINVAL;
      case VFIO_DEVICE_SET_IRQS:
        return this.caps.setIrqsActions !== 'none' ? this.setIrqs(vdev, task, arg) : -EINVAL;
      case VFIO_DEVICE_RESET:
        // `deviceReset`: patch 04's vfio_platform_ioctl answers -EINVAL; mainline
        // vfio_platform_ioctl -> vfio_platform_call_reset: no reset function (the PL330 has
        // none, which is why it binds only with reset_required cleared) -> dev_warn and -EINVAL
        return this.caps.deviceReset === 'call-reset' ? this.callReset(vdev) : -EINVAL;
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

  /**
   * The end of GET_INFO / GET_REGION_INFO / GET_IRQ_INFO (`copyToUserReturn`): patches
   * 04, 05 and 08 end with `return copy_to_user((void __user *)arg, &info, minsz);`, so a
   * faulting copy-out returns copy_to_user's result, the POSITIVE count of bytes not
   * copied (3.14 arch/arm copy_to_user: all of them when access_ok fails, else what
   * __copy_to_user left; the model copies page by page and counts from the first page
   * that faults). Mainline: `copy_to_user(...) ? -EFAULT : 0`.
   */
  private copyOut(task: Task, arg: number, minsz: number): number {
    if (this.caps.copyToUserReturn === 'efault') return task.mm.copyToUser(arg, this.scratch, 0, minsz) < 0 ? -EFAULT : 0;
    let done = 0;
    while (done < minsz) {
      const va = (arg + done) >>> 0;
      const n = Math.min(minsz - done, PAGE_SIZE - (va % PAGE_SIZE));
      if (va + n > 2 ** 32 || task.mm.copyToUser(va, this.scratch, done, n) < 0) return minsz - done;
      done += n;
    }
    return 0;
  }

  private getInfo(vdev: VfioPlatformDevice, task: Task, arg: number): number {
    const minsz = 16;
    const r = this.copyIn(task, arg, minsz);
    if (r) return r;
    // vdev->flags: VFIO_DEVICE_FLAGS_PLATFORM (vfio-platform) or VFIO_DEVICE_FLAGS_AMBA (vfio-amba)
    this.sv.setUint32(4, vdev.flags, true);
    this.sv.setUint32(8, this.caps.regionInfo ? vdev.regions.length : 0, true);
    this.sv.setUint32(12, this.caps.irqInfo ? vdev.irqs.length : 0, true);
    return this.copyOut(task, arg, minsz);
  }

  private getRegionInfo(vdev: VfioPlatformDevice, task: Task, arg: number): number {
    const minsz = 32;
    const r = this.copyIn(task, arg, minsz);
    if (r) return r;
    const ri = regionInfo(this.d, vdev, this.sv.getUint32(8, true), this.scratch, this.sv);
    if (ri) return ri;
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

  /** SET_IRQS: copy and validate the header, then hand the action to irq.ts */
  private setIrqs(vdev: VfioPlatformDevice, task: Task, arg: number): number {
    const minsz = 20;
    const r = this.copyIn(task, arg, minsz);
    if (r) return r;
    const flags = this.sv.getUint32(4, true);
    const index = this.sv.getUint32(8, true);
    const start = this.sv.getUint32(12, true);
    const count = this.sv.getUint32(16, true);
    if (this.caps.setIrqsValidation === 'validate-and-prepare') return this.setIrqsMainline(vdev, task, arg, flags, index, start, count);
    // header validation (patch 09; vfio_set_irqs_validate_and_prepare also wants exactly one DATA and one ACTION bit)
    if (index >= vdev.irqs.length) return -EINVAL;
    if (start !== 0 || count > 1) return -EINVAL;
    if (count === 0 && (!(flags & VFIO_IRQ_SET_DATA_NONE) || !(flags & VFIO_IRQ_SET_ACTION_TRIGGER))) return -EINVAL;
    if (flags & ~(VFIO_IRQ_SET_DATA_TYPE_MASK | VFIO_IRQ_SET_ACTION_TYPE_MASK)) return -EINVAL;
    return this.irqs.setIrqs(vdev, task, flags, index, count, arg + minsz);
  }

  /**
   * Mainline SET_IRQS (`setIrqsValidation` 'validate-and-prepare'), in the kernel's order:
   * vfio_platform_ioctl copies the header (argsz < minsz: -EINVAL, via copyIn), then
   * vfio_set_irqs_validate_and_prepare (drivers/vfio/vfio_main.c; num_irqs and max_irq_type
   * both vdev->num_irqs): index, `count >= U32_MAX - start` and unknown flag bits -EINVAL;
   * start/start+count beyond num_irqs -EINVAL; exactly one DATA type (else -EINVAL); with
   * data, argsz - minsz < count x size (1 for BOOL, 4 for EVENTFD) -EINVAL. memdup_user of
   * the data (-EFAULT). Then vfio_platform_set_irqs_ioctl picks the handler by the ACTION
   * bits: none of MASK, UNMASK, TRIGGER alone (no bit, or several) -ENOTTY. The handlers'
   * own first checks (vfio_platform_set_irq_mask/unmask: start != 0 || count != 1;
   * vfio_platform_set_irq_trigger: the same unless count 0 with DATA_NONE) are -EINVAL.
   */
  private setIrqsMainline(vdev: VfioPlatformDevice, task: Task, arg: number, flags: number, index: number, start: number, count: number): number {
    const minsz = 20;
    const argsz = this.sv.getUint32(0, true);
    const numIrqs = vdev.irqs.length;
    if (index >= numIrqs || count >= 0xffffffff - start || flags & ~(VFIO_IRQ_SET_DATA_TYPE_MASK | VFIO_IRQ_SET_ACTION_TYPE_MASK)) return -EINVAL;
    if (start >= numIrqs || start + count > numIrqs) return -EINVAL;
    let size: number;
    switch (flags & VFIO_IRQ_SET_DATA_TYPE_MASK) {
      case VFIO_IRQ_SET_DATA_NONE:
        size = 0;
        break;
      case VFIO_IRQ_SET_DATA_BOOL:
        size = 1;
        break;
      case VFIO_IRQ_SET_DATA_EVENTFD:
        size = 4;
        break;
      default:
        return -EINVAL;
    }
    const dataSize = count * size;
    if (size && argsz - minsz < dataSize) return -EINVAL;
    const action = flags & VFIO_IRQ_SET_ACTION_TYPE_MASK;
    const handled = action === VFIO_IRQ_SET_ACTION_MASK || action === VFIO_IRQ_SET_ACTION_UNMASK || action === VFIO_IRQ_SET_ACTION_TRIGGER;
    const removeTrigger = action === VFIO_IRQ_SET_ACTION_TRIGGER && count === 0 && (flags & VFIO_IRQ_SET_DATA_NONE) !== 0;
    const shapeOk = removeTrigger || (start === 0 && count === 1);
    const maskable = action === VFIO_IRQ_SET_ACTION_TRIGGER || (vdev.irqs[index]!.flags & VFIO_IRQ_INFO_MASKABLE) !== 0;
    // memdup_user(arg + minsz, data_size) comes before the handler. When the handler goes on
    // to read the data (start 0, count 1: exactly data_size bytes) its read faults where
    // memdup would; otherwise the model copies here, so a faulting payload is -EFAULT
    // before the handler's -ENOTTY/-EINVAL (and a good one is copied once, as in the kernel)
    // vfio_platform_set_irqs_ioctl: a request_irq error kept from the open (irq.ts init) is the
    // answer before the action is looked at
    const stored = vdev.irqs[index]!.requestError;
    if (!(handled && shapeOk && maskable) || stored) {
      for (let off = 0; off < dataSize; off += this.scratch.length) {
        if (task.mm.copyFromUser(this.scratch, 0, arg + minsz + off, Math.min(this.scratch.length, dataSize - off)) < 0) return -EFAULT;
      }
    }
    if (stored) return stored;
    if (!handled) return -ENOTTY;
    if (!shapeOk) return -EINVAL;
    return this.irqs.setIrqs(vdev, task, flags, index, count, arg + minsz);
  }

  // ------------------------------------------------------------------ read/write

  private rw(vdev: VfioPlatformDevice, task: Task, buf: number, count: number, pos: number, write: boolean): number {
    switch (this.caps.rwImplementation) {
      case 'none':
        return 0; // patch 04/05: read/write return 0
      case 'ioremap-by-address':
        return this.rwIoremap(vdev, task, buf, count, pos, write);
      case 'by-index-checked':
        return this.rwByIndex(vdev, task, buf, count, pos, write);
    }
  }

  /**
   * Patch 06 as posted: the offset is a physical address; the region containing
   * [pos, pos+count) is ioremapped and accessed through `unsigned int *io`, so
   * `io + off` is 4 * off bytes past the mapping (review finding 2). An access that lands
   * inside the ioremapped pages reaches whatever register is there; past them it hits
   * the vmalloc guard area: a paging-request Oops. No region: read -EFAULT, write
   * -EINVAL (finding 3).
   */
  private rwIoremap(vdev: VfioPlatformDevice, task: Task, buf: number, count: number, pos: number, write: boolean): number {
    const bugs = this.caps.bugs;
    for (let i = 0; i < vdev.regions.length; i++) {
      const region = heapRegion(this.d, vdev, i);
      if (pos < region.addr || pos + count - 1 >= region.addr + region.size) continue;
      this.d.cpu.charge(IOREMAP_CYCLES);
      const mapped = Math.ceil(((region.addr % PAGE_SIZE) + region.size) / PAGE_SIZE) * PAGE_SIZE;
      const scale = bugs.rwOffsetScaledBy4 ? 4 : 1;
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
    return write || !bugs.readEfaultOutsideRegions ? -EINVAL : -EFAULT;
  }

  /** mainline: index-encoded offsets, bounds-checked, count clipped, byte-exact */
  private rwByIndex(vdev: VfioPlatformDevice, task: Task, buf: number, count: number, pos: number, write: boolean): number {
    const index = offsetToIndex(pos);
    const off = offsetInRegion(pos);
    if (index >= vdev.regions.length) return -EINVAL;
    const region = vdev.regions[index]!;
    if (!(region.flags & (write ? VFIO_REGION_INFO_FLAG_WRITE : VFIO_REGION_INFO_FLAG_READ))) return -EINVAL;
    if (off >= region.size) return -EINVAL;
    count = Math.min(count, region.size - off);
    return this.mmioCopy(task, buf, count, off, write, (o) => region.addr + o);
  }

  /**
   * The read/write loop both implementations share: 4-, 2- or 1-byte device accesses
   * chosen by the offset's alignment and the bytes left, each copied to or from the user
   * buffer. `paOf(off, width)` gives the physical address of the access (and may Oops).
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

  private mmap(vdev: VfioPlatformDevice, task: Task, vma: Vma): number {
    const how = this.caps.mmapRegions;
    if (how === 'none') return -EINVAL; // patch 04-06: mmap -EINVAL
    const len = vma.end - vma.start;
    if (vma.end < vma.start || vma.start % PAGE_SIZE || vma.end % PAGE_SIZE) return -EINVAL;
    if ((vma.flags & MAP_SHARED) === 0) return -EINVAL;
    if (how === 'by-index-checked') {
      const { index, start } = pgoffToRegion(vma.pgoff);
      if (index >= vdev.regions.length) return -EINVAL;
      const region = vdev.regions[index]!;
      if (!(region.flags & VFIO_REGION_INFO_FLAG_MMAP)) return -EINVAL;
      if (region.size < PAGE_SIZE || start + len > region.size) return -EINVAL;
      task.mm.remapPfnRange(vma, region.addr + start);
      return 0;
    }
    // 2014: the page offset is the physical page number
    const addr = vma.pgoff * PAGE_SIZE;
    for (let i = 0; i < vdev.regions.length; i++) {
      const region = heapRegion(this.d, vdev, i);
      if (addr < region.addr || addr + len - 1 >= region.addr + region.size) continue;
      task.mm.remapPfnRange(vma, addr);
      return 0;
    }
    return -EINVAL;
  }
}
