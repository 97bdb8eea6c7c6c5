import type { DeviceTree } from '../../emulator/dt/types.js';
import type { HwAccess } from '../base/hw.js';
import type { KernelLog } from '../base/klog.js';
import type { DriverCore } from '../driver/core.js';
import type { IommuCoreImpl } from '../iommu/core.js';
import type { DmaApi } from '../iommu/dma-iommu.js';
import type { IrqApi } from '../irq/types.js';
import type { Kmem } from '../mm/kmem.js';
import type { PageAllocator } from '../mm/page-alloc.js';
import type { PlatformBus } from '../platform/platform.js';
import type { Profile } from '../profile.js';

/** What in-kernel drivers use (the Kernel class provides it). */
export interface KernelServices {
  readonly hw: HwAccess;
  readonly log: KernelLog;
  readonly irq: IrqApi;
  readonly iommu: IommuCoreImpl;
  /** the DMA API (dma-direct, or dma-iommu through a translating default domain) */
  readonly dma: DmaApi;
  readonly mm: { readonly pages: PageAllocator; readonly kmem: Kmem };
  readonly profile: Profile;
  readonly tree: DeviceTree;
  readonly platformBus: PlatformBus;
  readonly driverCore: DriverCore;
  /** virtual time, ns */
  now(): number;
}
