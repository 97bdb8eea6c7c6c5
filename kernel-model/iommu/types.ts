import type { KDevice } from '../driver/types.js';

/**
 * IOMMU API (include/linux/iommu.h of the era). prot bits: READ, WRITE, CACHE as in
 * Linux; bit 3 is IOMMU_EXEC in the 2014 kernel with the series (arm-smmu sets XN
 * unless it is given) and IOMMU_NOEXEC in mainline (XN only when it is given). The
 * profile's caps.iommuExecSemantics says which meaning bit 3 has.
 */
export const IOMMU_READ = 1 << 0;
export const IOMMU_WRITE = 1 << 1;
export const IOMMU_CACHE = 1 << 2;
/** 2014 (patch 02 era): mapping may be executed */
export const IOMMU_EXEC = 1 << 3;
/** mainline: mapping must not be executed */
export const IOMMU_NOEXEC = 1 << 3;
/** mainline: device memory (MMIO) mapping */
export const IOMMU_MMIO = 1 << 4;
/** mainline: privileged accesses only (io-pgtable-arm leaves AP_UNPRIV out) */
export const IOMMU_PRIV = 1 << 5;

export const IOMMU_CAP_CACHE_COHERENCY = 0;
export const IOMMU_CAP_INTR_REMAP = 1;

/** enum iommu_resv_type (mainline include/linux/iommu.h) */
export const IOMMU_RESV_DIRECT = 0;
export const IOMMU_RESV_DIRECT_RELAXABLE = 1;
export const IOMMU_RESV_RESERVED = 2;
export const IOMMU_RESV_MSI = 3;
export const IOMMU_RESV_SW_MSI = 4;

/** struct iommu_resv_region (mainline): an IOVA range a device's IOMMU driver keeps for itself */
export interface IommuResvRegion {
  readonly start: number;
  readonly length: number;
  /** IOMMU_* prot of the region */
  readonly prot: number;
  /** IOMMU_RESV_* */
  readonly type: number;
}

export interface IommuGroup {
  readonly id: number;
  readonly devices: readonly KDevice[];
}

export interface IommuDomain {
  readonly id: number;
  /** smallest page size first: bitmap of supported page sizes */
  readonly pgsizeBitmap: number;
  /** input address size in bits: the aperture is [0, 2^ias - 1] (domain->geometry; absent: no limit below the model's 2^52) */
  readonly ias?: number;
  /** 0 or -errno (-EBUSY/-EEXIST when something is already mapped at iova) */
  map(iova: number, pa: number, size: number, prot: number): number;
  /** returns bytes unmapped (0 when nothing was mapped) */
  unmap(iova: number, size: number): number;
  /** iommu_unmap_fast: unmap without the IOTLB sync (absent: unmap) */
  unmapFast?(iova: number, size: number): number;
  /** iommu_iotlb_sync (absent: nothing to wait for) */
  iotlbSync?(): void;
  /** physical address for iova, or null when unmapped */
  iovaToPhys(iova: number): number | null;
  /**
   * mainline iommu_domain_ops.enforce_cache_coherency (absent: the driver has no such op, as
   * arm-smmu; vfio_iommu_type1_attach_group then leaves domain->enforce_cache_coherency false)
   */
  enforceCacheCoherency?(): boolean;
}

export interface IommuCore {
  /** iommu_present(bus) */
  present(busName: string): boolean;
  /**
   * iommu_capable(bus, cap) (3.14) / device_iommu_capable(dev, cap) (mainline): the driver
   * answers for `dev` when given (arm_smmu_capable asks the device's own dma-coherent)
   */
  capable(busName: string, cap: number, dev?: KDevice): boolean;
  /** iommu_domain_alloc(bus): a domain or -errno */
  domainAlloc(busName: string): IommuDomain | number;
  domainFree(d: IommuDomain): void;
  /** iommu_attach_group: 0 or -errno */
  attachGroup(d: IommuDomain, g: IommuGroup): number;
  detachGroup(d: IommuDomain, g: IommuGroup): void;
  groupById(id: number): IommuGroup | null;
  /** iommu_group_register_notifier / unregister (optional: test fakes may have no notifier chain) */
  groupRegisterNotifier?(g: IommuGroup, fn: (ev: string, dev: KDevice) => void): void;
  groupUnregisterNotifier?(g: IommuGroup, fn: (ev: string, dev: KDevice) => void): void;
  /** mainline iommu_group_claim_dma_owner / iommu_group_release_dma_owner (optional, as above) */
  claimDmaOwner?(g: IommuGroup, owner: unknown): number;
  releaseDmaOwner?(g: IommuGroup): void;
  /** mainline iommu_group_dma_owner_claimed: owner_cnt != 0 (host drivers count too; optional, as above) */
  dmaOwnerClaimed?(g: IommuGroup): boolean;
  groupOf(dev: KDevice): IommuGroup | null;
  groups(): readonly IommuGroup[];
  /**
   * mainline iommu_get_group_resv_regions: the reserved regions of every device of the group
   * (the IOMMU driver's get_resv_regions), sorted by start, overlapping ones of one type
   * merged (optional: test fakes and the 2014 core have none)
   */
  getGroupResvRegions?(g: IommuGroup): IommuResvRegion[];
}
