/**
 * The iommufd uapi (include/uapi/linux/iommufd.h, v6.12) for guest programs: request numbers
 * and flags, from the one definition kernel-model/iommu/iommufd/uapi.ts keeps.
 */
export {
  IOMMU_DESTROY,
  IOMMU_IOAS_ALLOC,
  IOMMU_IOAS_ALLOW_IOVAS,
  IOMMU_IOAS_COPY,
  IOMMU_IOAS_IOVA_RANGES,
  IOMMU_IOAS_MAP,
  IOMMU_IOAS_UNMAP,
  IOMMU_OPTION,
  IOMMU_HWPT_ALLOC,
  IOMMU_GET_HW_INFO,
  IOMMU_IOAS_MAP_FIXED_IOVA,
  IOMMU_IOAS_MAP_WRITEABLE,
  IOMMU_IOAS_MAP_READABLE,
  IOMMU_OPTION_RLIMIT_MODE,
  IOMMU_OPTION_HUGE_PAGES,
  IOMMU_OPTION_OP_SET,
  IOMMU_OPTION_OP_GET,
} from '../iommu/iommufd/uapi.js';
