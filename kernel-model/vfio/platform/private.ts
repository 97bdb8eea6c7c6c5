/**
 * vfio-platform's private state (vfio_platform_private.h): the device and irq structures
 * the four parts of the driver share, their kernel-heap layout, and the cleanup helper
 * the 2014 release paths use.
 *
 * State lives in kernel heap memory where the 2014 driver kept it, so its bugs have the
 * same reach: the region array (struct vfio_platform_region { u64 addr; u64 size; u32
 * flags; } = 24 bytes with LPAE's 64-bit resource_size_t) and the irq array are
 * kmalloc'd at open, next to other kernel objects, and GET_REGION_INFO reads them back
 * from RAM.
 */
import type { Cpu } from '../../../emulator/cpu/cpu.js';
import type { HwAccess } from '../../base/hw.js';
import type { KernelLog } from '../../base/klog.js';
import type { KernelParams } from '../../base/params.js';
import { KernelOops } from '../../base/oops.js';
import type { DriverCore } from '../../driver/core.js';
import type { KDevice } from '../../driver/types.js';
import type { EventfdCtx } from '../../eventfd/eventfd.js';
import type { IommuCore } from '../../iommu/types.js';
import type { IrqApi } from '../../irq/types.js';
import type { Kmem } from '../../mm/kmem.js';
import type { Profile } from '../../profile.js';
import type { Sysfs } from '../../sysfs/sysfs.js';
import type { Vfio } from '../vfio.js';

/** sizeof(struct vfio_platform_device) in the model: pdev*, region*, num_regions, irq*, num_irqs */
export const VDEV_STRUCT_SIZE = 20;
/** offsets of the fields the model writes in struct vfio_platform_device */
export const VDEV_REGION = 4;
export const VDEV_NUM_REGIONS = 8;
export const VDEV_IRQ = 12;
export const VDEV_NUM_IRQS = 16;
/** sizeof(struct vfio_platform_region) on 32-bit ARM with LPAE (u64 addr, u64 size, u32 flags, padded) */
export const REGION_STRUCT_SIZE = 24;
/**
 * struct vfio_platform_irq as the series' vfio_platform_private.h has it (the series' tree,
 * github.com/virtualopensystems/linux-kvm-arm, drivers/vfio/platform/vfio_platform_private.h):
 * `struct eventfd_ctx *trigger; u32 flags; u32 count; int hwirq; char *name;` = 20 bytes
 * (patch 09). Patch 10 adds `bool masked; spinlock_t lock;`; the model puts them after
 * `name` (model choice: the posted patch 10 header was not available) and spinlock_t is
 * empty on the uniprocessor, non-debug board (include/linux/spinlock_types_up.h), so
 * sizeof = 24. Offsets of the fields:
 */
export const IRQ_TRIGGER = 0;
export const IRQ_FLAGS = 4;
export const IRQ_COUNT = 8;
export const IRQ_HWIRQ = 12;
export const IRQ_NAME = 16;
export const IRQ_MASKED = 20;
/** sizeof(struct vfio_platform_irq) with patch 10's `masked` (and mainline's, as the model lays it out) */
export const IRQ_STRUCT_SIZE = 24;
/** sizeof(struct vfio_platform_irq) at patch 09 (no `masked`) */
export const IRQ_STRUCT_SIZE_09 = 20;
/** what the model's kmalloc(0) returns for a device without irqs (ZERO_SIZE_PTR) */
export const ZERO_SIZE_PTR = 0x10;

export interface Region {
  addr: number;
  size: number;
  flags: number;
}

export interface VirqFd {
  ctx: EventfdCtx;
  listener: () => void;
}

export interface PlatIrq {
  index: number;
  /** Linux irq number (virq) */
  hwirq: number;
  flags: number;
  count: number;
  trigger: EventfdCtx | null;
  name: string | null;
  nameKva: number;
  masked: boolean;
  /** handler requested at open (irqRequest 'at-open-disabled') */
  requested: boolean;
  /** mainline: request_irq's error at open (0: none), kept for SET_IRQS to return (vdev->irqs[i].name = ERR_PTR) */
  requestError: number;
  unmaskFd: VirqFd | null;
  maskFd: VirqFd | null;
  /** interrupts delivered to user space (statistics) */
  signalled: number;
}

export interface VfioPlatformDevice {
  readonly pdev: KDevice;
  /**
   * vdev->name: the platform device's name (vfio_platform_init_dev: pdev->name) or
   * "vfio-amba-%08x" of the peripheral id (vfio_amba_init_dev); mainline names the irq
   * handlers after it ("vfio-irq[%d](%s)", vfio_platform_irq_init)
   */
  readonly name: string;
  /** vdev->flags: what GET_INFO reports, VFIO_DEVICE_FLAGS_PLATFORM or VFIO_DEVICE_FLAGS_AMBA (vfio_amba_init_dev) */
  readonly flags: number;
  /**
   * vdev->reset_required: a device without a reset function fails to probe
   * (vfio_platform_init_common); vfio_amba_init_dev sets it false, vfio-platform takes it
   * from the module parameter reset_required; false where the profile has no such rule
   * (`vfioPlatformResetRequired`)
   */
  readonly resetRequired: boolean;
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
  /** the kernel's module parameters (vfio_platform.reset_required); absent: defaults */
  params?: KernelParams | null;
}

/**
 * kfree as the 2014 cleanups call it. A second kfree of an object still free is refused
 * and logged (model choice: SLUB's debug check "Object already free"; a kernel without it
 * corrupts its freelist silently). If the object was handed out again in between, the
 * kfree frees the new owner's object, as it would in Linux.
 */
export function safeKfree(d: VfioPlatformDeps, kva: number, what: string): void {
  try {
    d.kmem.kfree(kva);
  } catch (e) {
    if (!(e instanceof KernelOops) || e.kind !== 'bug') throw e;
    d.log.err('', `=============================================================================`);
    d.log.err('', `BUG kmalloc: Object already free: kfree(0x${(kva >>> 0).toString(16)}) of ${what} (double free)`);
  }
}
