/**
 * vfio-platform: the VFIO bus driver for platform devices, as the RFC v4 series built it
 * patch by patch (04-10), and as mainline ended (profile `mainline`). Split as Linux
 * splits drivers/vfio/platform/:
 *
 * - this file (vfio_platform.c): the platform-bus glue: module init, the binding
 *   (patch 04's `vfio_bind` attribute or mainline's driver_override), probe/remove;
 * - common.ts (vfio_platform_common.c): open/release, ioctl dispatch, device info,
 *   read/write, mmap;
 * - irq.ts (vfio_platform_irq.c): IRQ info, SET_IRQS, handlers, mask/unmask;
 * - regions.ts: region set-up, GET_REGION_INFO, the offset encoding;
 * - private.ts (vfio_platform_private.h): the shared structures and their heap layout.
 *
 * Which behaviour applies is decided ONLY by the profile's capabilities
 * (kernel-model/profile.ts). Per-patch behaviour and the review findings are documented
 * in docs/PROFILES.md; every deliberate choice is commented next to its code.
 */
import { EINVAL, ENODEV, ENOENT, ENOMEM } from '../../base/errno.js';
import { getProp } from '../../platform/of.js';
import type { KDevice, KDriver, RemoveWait } from '../../driver/types.js';
import { VFIO_DEVICE_FLAGS_PLATFORM } from '../../uapi/constants.js';
import type { VfioDeviceOps } from '../types.js';
import { VfioPlatformCommon } from './common.js';
import { VDEV_STRUCT_SIZE, type Region, type VfioPlatformDeps, type VfioPlatformDevice } from './private.js';

export { IOREMAP_CYCLES, IOREMAP_VA } from './common.js';
export { IRQ_STRUCT_SIZE, REGION_STRUCT_SIZE, type VfioPlatformDeps, type VfioPlatformDevice } from './private.js';

export class VfioPlatformDriver implements KDriver {
  readonly name: string;
  /** matches nothing by compatible: devices arrive through vfio_bind or driver_override */
  readonly ofMatch: readonly string[] = Object.freeze([]);
  /** mainline vfio_platform_driver.driver.driver_managed_dma = true (VFIO claims DMA ownership itself) */
  readonly driverManagedDma = true;
  readonly devices = new Map<KDevice, VfioPlatformDevice>();
  readonly ops: VfioDeviceOps;
  /** interrupts delivered to user space through trigger eventfds, per device name (statistics) */
  readonly signalled: Map<string, number>;
  private readonly common: VfioPlatformCommon;

  /** `name`: 'vfio-platform', or the name of a driver built on the same common code (vfio-amba.ts) */
  constructor(
    readonly d: VfioPlatformDeps,
    name = 'vfio-platform',
  ) {
    this.name = name;
    this.common = new VfioPlatformCommon(d, name);
    this.ops = this.common.ops;
    this.signalled = this.common.irqs.signalled;
  }

  /** module_init: register the platform driver and (patch 04) the vfio_bind driver attribute */
  register(): number {
    const caps = this.d.profile.caps;
    if (!caps.vfioPlatform) return -ENODEV;
    const r = this.d.driverCore.driverRegister(this, 'platform');
    if (r < 0) {
      this.d.log.err('', `Failed to register vfio platform driver, error: ${r}`);
      return r;
    }
    if (caps.bindMechanism === 'vfio_bind') {
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

  /**
   * the value vfio_platform_probe gives vdev->reset_required: the module parameter
   * reset_required (mainline vfio_platform.c, default true) where the profile has it
   */
  private get resetRequired(): boolean {
    if (!this.d.profile.caps.vfioPlatformResetRequired) return false;
    const p = this.d.params;
    return p && p.has('vfio_platform', 'reset_required') ? p.bool('vfio_platform', 'reset_required') : true;
  }

  probe(dev: KDevice): number {
    // the bus glue's init_dev (vfio_platform_init_dev / vfio_amba_init_dev) decides name, flags
    // and reset_required before vfio_platform_init_common runs
    const init = this.initDev(dev);
    const resetRequired = init.resetRequired;
    if (this.d.profile.caps.vfioPlatformResetRequired) {
      // mainline vfio_platform_probe -> vfio_alloc_device -> vfio_platform_init_common,
      // before the IOMMU group is looked up (vfio_register_group_dev):
      // vfio_platform_get_reset -> vfio_platform_lookup_reset(compat) (after
      // request_module("vfio-reset:%s")): none of the registered reset modules matches
      // -> -ENOENT; with reset_required: dev_err "No reset function found for device %s"
      const r = vfioPlatformGetReset(dev);
      if (r < 0 && resetRequired) {
        // vfio_platform_common.c's dev_fmt: "VFIO: "
        this.d.log.err(`vfio-platform ${dev.name}`, `VFIO: No reset function found for device ${dev.name}`);
        return r;
      }
    }
    const group = this.d.iommu.groupOf(dev);
    if (!group) {
      this.d.log.err('', `VFIO: No IOMMU group for device ${dev.name}`);
      return -EINVAL;
    }
    // struct vfio_platform_device { pdev*; region*; num_regions; irq*; num_irqs; } (kzalloc)
    const kva = this.d.kmem.kmalloc(VDEV_STRUCT_SIZE);
    if (kva === 0) return -ENOMEM;
    const vdev: VfioPlatformDevice = { ...init, pdev: dev, kva, regionKva: 0, regions: [], irqKva: 0, irqs: [], openCount: 0 };
    const ret = this.d.vfio.addGroupDev(dev, this.ops, vdev);
    if (ret) {
      this.d.kmem.kfree(kva);
      return ret;
    }
    this.devices.set(dev, vdev);
    return 0;
  }

  /** the bus glue's init_dev: vdev->name, vdev->flags, vdev->reset_required (vfio_platform_init_dev) */
  protected initDev(dev: KDevice): Pick<VfioPlatformDevice, 'name' | 'flags' | 'resetRequired'> {
    return { name: dev.name, flags: VFIO_DEVICE_FLAGS_PLATFORM, resetRequired: this.resetRequired };
  }

  /**
   * vfio_platform_remove: vdev = vfio_del_group_dev(&pdev->dev), which sleeps while the
   * device is open, then kfree(vdev). While it waits the device stays bound to this driver
   * (the driver core finishes the unbind when the RemoveWait is done).
   */
  remove(dev: KDevice): void | RemoveWait {
    let done: (() => void) | null = null;
    let removed = false;
    const vdev = this.d.vfio.delGroupDev(dev, () => {
      removed = true;
      const v = this.devices.get(dev);
      if (v) {
        this.devices.delete(dev);
        this.d.kmem.kfree(v.kva);
      }
      done?.();
    }) as VfioPlatformDevice | null;
    if (!vdev || removed) return;
    return (fn) => {
      done = fn;
    };
  }

  // ------------------------------------------------------------------ inspection

  /** state for tools and tests: per device, per irq */
  inspect(): Array<{ device: string; kva: number; irqKva: number; open: number; regions: Region[]; irqs: Array<{ index: number; virq: number; flags: number; masked: boolean; trigger: boolean; signalled: number }> }> {
    return [...this.devices.values()].map((v) => ({
      device: v.pdev.name,
      kva: v.kva,
      irqKva: v.irqKva,
      open: v.openCount,
      regions: v.regions.map((r) => ({ ...r })),
      irqs: v.irqs.map((i) => ({ index: i.index, virq: i.hwirq, flags: i.flags, masked: i.masked, trigger: i.trigger !== null, signalled: i.signalled })),
    }));
  }
}

/**
 * The compatibles mainline has platform reset modules for (drivers/vfio/platform/reset/:
 * vfio_platform_calxedaxgmac.c module_vfio_reset_handler("calxeda,hb-xgmac"),
 * vfio_platform_amdxgbe.c "amd,xgbe-seattle-v1a"); the bcmflexrm reset is for
 * "brcm,iproc-flexrm-mbox". No device of the model's boards is one of them.
 */
export const VFIO_PLATFORM_RESET_COMPATS: readonly string[] = ['calxeda,hb-xgmac', 'amd,xgbe-seattle-v1a', 'brcm,iproc-flexrm-mbox'];

/**
 * vfio_platform_get_reset (mainline vfio_platform_common.c): the device's first compatible
 * (vfio_platform_of_probe: device_property_read_string(dev, "compatible")) looked up among
 * the registered reset handlers; 0 when found, -ENOENT when not
 */
export function vfioPlatformGetReset(dev: KDevice): number {
  const node = dev.ofNode;
  const p = node ? getProp(node, 'compatible') : null;
  const compat = p?.value.find((c) => c.kind === 'string');
  if (!compat || compat.kind !== 'string') return -ENOENT;
  return VFIO_PLATFORM_RESET_COMPATS.includes(compat.value) ? 0 : -ENOENT;
}
