/**
 * The DMA API a host driver maps its buffers with (dma_map_single / the mapping half of
 * dma_alloc_coherent), as the kernel's DMA ops for a platform device decide it:
 *
 * - 3.14 (and mainline with an IDENTITY default domain or no IOMMU group): dma-direct, the
 *   DMA address of a buffer is its physical address (3.14 ARM: arm-smmu installs no IOMMU
 *   DMA ops for platform devices; mainline: arm_smmu_def_domain_type IDENTITY with the
 *   legacy binding, whose streams bypass).
 * - mainline with a translating default domain (IOMMU_DOMAIN_DMA; iommu_setup_dma_ops):
 *   drivers/iommu/dma-iommu.c __iommu_dma_map -> iommu_dma_alloc_iova allocates an IOVA range
 *   from the domain's iova_domain below the device's DMA mask (32-bit default for platform
 *   devices), top down (alloc_iova_fast, size-aligned to the power of two of the page count),
 *   and maps it with iommu_map; __iommu_dma_unmap unmaps it.
 *
 * Model reductions: freed IOVA ranges are not reused (no rcache); the allocator starts at
 * the aperture's top (min(dma_mask, 2^ias) - one page down), as alloc_iova does on an empty domain.
 */
import { ENOMEM } from '../base/errno.js';
import type { KDevice } from '../driver/types.js';
import type { Domain, IommuCoreImpl } from './core.js';
import { IOMMU_READ, IOMMU_WRITE } from './types.js';

const PAGE = 4096;

export class DmaApi {
  /** next free IOVA page frame (exclusive top) per default DMA domain */
  private readonly top = new Map<Domain, number>();

  constructor(private readonly iommu: IommuCoreImpl) {
    // every field is readonly: frozen, so that the fuzzer's snapshot (tools/fuzz/snapshot.ts) need not record it
    Object.freeze(this);
  }

  /** the translating default domain the device's DMA goes through, or null (dma-direct) */
  private domainOf(dev: KDevice): Domain | null {
    const g = this.iommu.groupOf(dev);
    const dd = g?.defaultDomain ?? null;
    return dd !== null && dd !== 'identity' ? dd : null;
  }

  /** dma_map_single(dev, phys, size, DMA_BIDIRECTIONAL): the DMA address, or -errno */
  map(dev: KDevice, pa: number, size: number): number {
    const d = this.domainOf(dev);
    if (d === null) return pa;
    const off = pa % PAGE;
    const pages = Math.ceil((off + size) / PAGE);
    let order = 1;
    while (order < pages) order *= 2;
    const limit = Math.min(2 ** 32, 2 ** d.ias) / PAGE;
    const top = this.top.get(d) ?? limit;
    const pfn = Math.floor((top - pages) / order) * order;
    if (pfn < 1) return -ENOMEM;
    const r = d.map(pfn * PAGE, pa - off, pages * PAGE, IOMMU_READ | IOMMU_WRITE);
    if (r < 0) return r;
    this.top.set(d, pfn);
    return pfn * PAGE + off;
  }

  /** dma_unmap_single */
  unmap(dev: KDevice, dma: number, size: number): void {
    const d = this.domainOf(dev);
    if (d === null) return;
    const off = dma % PAGE;
    d.unmap(dma - off, Math.ceil((off + size) / PAGE) * PAGE);
  }
}
