/**
 * The iommufd uapi as Linux v6.12 has it (include/uapi/linux/iommufd.h): request numbers
 * `_IO(IOMMUFD_TYPE, IOMMUFD_CMD_*)` with IOMMUFD_TYPE ';' and the commands numbered from
 * IOMMUFD_CMD_BASE 0x80 in the enum's order, flag values, and the byte layout of each
 * struct (size, offsets of its fields, and the `min_size` of main.c's ioctl table:
 * offsetofend of the field the IOCTL_OP names).
 */

export const IOMMUFD_TYPE = 0x3b; // ';'
export const IOMMUFD_CMD_BASE = 0x80;

/** _IO(';', nr): direction and size bits 0, as every iommufd request */
const io = (nr: number): number => (IOMMUFD_TYPE << 8) | nr;

export const IOMMUFD_CMD_DESTROY = 0x80;
export const IOMMUFD_CMD_IOAS_ALLOC = 0x81;
export const IOMMUFD_CMD_IOAS_ALLOW_IOVAS = 0x82;
export const IOMMUFD_CMD_IOAS_COPY = 0x83;
export const IOMMUFD_CMD_IOAS_IOVA_RANGES = 0x84;
export const IOMMUFD_CMD_IOAS_MAP = 0x85;
export const IOMMUFD_CMD_IOAS_UNMAP = 0x86;
export const IOMMUFD_CMD_OPTION = 0x87;
export const IOMMUFD_CMD_VFIO_IOAS = 0x88;
export const IOMMUFD_CMD_HWPT_ALLOC = 0x89;
export const IOMMUFD_CMD_GET_HW_INFO = 0x8a;
export const IOMMUFD_CMD_HWPT_SET_DIRTY_TRACKING = 0x8b;
export const IOMMUFD_CMD_HWPT_GET_DIRTY_BITMAP = 0x8c;
export const IOMMUFD_CMD_HWPT_INVALIDATE = 0x8d;
export const IOMMUFD_CMD_FAULT_QUEUE_ALLOC = 0x8e;
/** v6.12's last command: main.c's iommufd_ioctl_ops[] has entries 0x80..0x8e */
export const IOMMUFD_CMD_LAST = IOMMUFD_CMD_FAULT_QUEUE_ALLOC;

export const IOMMU_DESTROY = io(IOMMUFD_CMD_DESTROY);
export const IOMMU_IOAS_ALLOC = io(IOMMUFD_CMD_IOAS_ALLOC);
export const IOMMU_IOAS_ALLOW_IOVAS = io(IOMMUFD_CMD_IOAS_ALLOW_IOVAS);
export const IOMMU_IOAS_COPY = io(IOMMUFD_CMD_IOAS_COPY);
export const IOMMU_IOAS_IOVA_RANGES = io(IOMMUFD_CMD_IOAS_IOVA_RANGES);
export const IOMMU_IOAS_MAP = io(IOMMUFD_CMD_IOAS_MAP);
export const IOMMU_IOAS_UNMAP = io(IOMMUFD_CMD_IOAS_UNMAP);
export const IOMMU_OPTION = io(IOMMUFD_CMD_OPTION);
export const IOMMU_VFIO_IOAS = io(IOMMUFD_CMD_VFIO_IOAS);
export const IOMMU_HWPT_ALLOC = io(IOMMUFD_CMD_HWPT_ALLOC);
export const IOMMU_GET_HW_INFO = io(IOMMUFD_CMD_GET_HW_INFO);
export const IOMMU_HWPT_SET_DIRTY_TRACKING = io(IOMMUFD_CMD_HWPT_SET_DIRTY_TRACKING);
export const IOMMU_HWPT_GET_DIRTY_BITMAP = io(IOMMUFD_CMD_HWPT_GET_DIRTY_BITMAP);
export const IOMMU_HWPT_INVALIDATE = io(IOMMUFD_CMD_HWPT_INVALIDATE);
export const IOMMU_FAULT_QUEUE_ALLOC = io(IOMMUFD_CMD_FAULT_QUEUE_ALLOC);

/** enum iommufd_ioas_map_flags */
export const IOMMU_IOAS_MAP_FIXED_IOVA = 1 << 0;
export const IOMMU_IOAS_MAP_WRITEABLE = 1 << 1;
export const IOMMU_IOAS_MAP_READABLE = 1 << 2;

/** enum iommufd_option / iommufd_option_ops */
export const IOMMU_OPTION_RLIMIT_MODE = 0;
export const IOMMU_OPTION_HUGE_PAGES = 1;
export const IOMMU_OPTION_OP_SET = 0;
export const IOMMU_OPTION_OP_GET = 1;

/** enum iommufd_vfio_ioas_op */
export const IOMMU_VFIO_IOAS_GET = 0;
export const IOMMU_VFIO_IOAS_SET = 1;
export const IOMMU_VFIO_IOAS_CLEAR = 2;

/** enum iommufd_hwpt_alloc_flags (v6.12: FAULT_ID_VALID since 6.11) */
export const IOMMU_HWPT_ALLOC_NEST_PARENT = 1 << 0;
export const IOMMU_HWPT_ALLOC_DIRTY_TRACKING = 1 << 1;
export const IOMMU_HWPT_FAULT_ID_VALID = 1 << 2;

/** enum iommu_hwpt_data_type */
export const IOMMU_HWPT_DATA_NONE = 0;
export const IOMMU_HWPT_DATA_VTD_S1 = 1;
export const IOMMU_HWPT_DATA_ARM_SMMUV3 = 2;

/** enum iommu_hw_info_type */
export const IOMMU_HW_INFO_TYPE_NONE = 0;
export const IOMMU_HW_INFO_TYPE_INTEL_VTD = 1;
export const IOMMU_HW_INFO_TYPE_ARM_SMMUV3 = 2;

/** enum iommufd_hw_capabilities */
export const IOMMU_HW_CAP_DIRTY_TRACKING = 1 << 0;

/**
 * Struct sizes (sizeof) and the ioctl table's min_size (offsetofend of the last field every
 * caller must pass), main.c IOCTL_OP(). Offsets are listed beside each struct's handler.
 */
export const IOCTL_SIZES: Readonly<Record<number, { size: number; minSize: number; name: string }>> = {
  [IOMMUFD_CMD_DESTROY]: { size: 8, minSize: 8, name: 'IOMMU_DESTROY' }, // struct iommu_destroy: size, id
  [IOMMUFD_CMD_IOAS_ALLOC]: { size: 12, minSize: 12, name: 'IOMMU_IOAS_ALLOC' }, // size, flags, out_ioas_id
  [IOMMUFD_CMD_IOAS_ALLOW_IOVAS]: { size: 24, minSize: 24, name: 'IOMMU_IOAS_ALLOW_IOVAS' }, // size, ioas_id, num_iovas, __reserved, allowed_iovas
  [IOMMUFD_CMD_IOAS_COPY]: { size: 40, minSize: 40, name: 'IOMMU_IOAS_COPY' }, // size, flags, dst_ioas_id, src_ioas_id, length, dst_iova, src_iova
  [IOMMUFD_CMD_IOAS_IOVA_RANGES]: { size: 32, minSize: 32, name: 'IOMMU_IOAS_IOVA_RANGES' }, // size, ioas_id, num_iovas, __reserved, allowed_iovas, out_iova_alignment
  [IOMMUFD_CMD_IOAS_MAP]: { size: 40, minSize: 40, name: 'IOMMU_IOAS_MAP' }, // size, flags, ioas_id, __reserved, user_va, length, iova
  [IOMMUFD_CMD_IOAS_UNMAP]: { size: 24, minSize: 24, name: 'IOMMU_IOAS_UNMAP' }, // size, ioas_id, iova, length
  [IOMMUFD_CMD_OPTION]: { size: 24, minSize: 24, name: 'IOMMU_OPTION' }, // size, option_id, op(u16), __reserved(u16), object_id, val64
  [IOMMUFD_CMD_VFIO_IOAS]: { size: 12, minSize: 12, name: 'IOMMU_VFIO_IOAS' }, // size, ioas_id, op(u16), __reserved(u16)
  // size, flags, dev_id, pt_id, out_hwpt_id, __reserved | data_type, data_len, data_uptr, fault_id, __reserved2
  [IOMMUFD_CMD_HWPT_ALLOC]: { size: 48, minSize: 24, name: 'IOMMU_HWPT_ALLOC' },
  // size, flags, dev_id, data_len, data_uptr, out_data_type, __reserved | out_capabilities
  [IOMMUFD_CMD_GET_HW_INFO]: { size: 40, minSize: 32, name: 'IOMMU_GET_HW_INFO' },
  // size, flags, hwpt_id, __reserved
  [IOMMUFD_CMD_HWPT_SET_DIRTY_TRACKING]: { size: 16, minSize: 16, name: 'IOMMU_HWPT_SET_DIRTY_TRACKING' },
  // size, hwpt_id, flags, __reserved, iova, length, page_size, data
  [IOMMUFD_CMD_HWPT_GET_DIRTY_BITMAP]: { size: 48, minSize: 48, name: 'IOMMU_HWPT_GET_DIRTY_BITMAP' },
  // size, hwpt_id, data_uptr, data_type, entry_len, entry_num, __reserved
  [IOMMUFD_CMD_HWPT_INVALIDATE]: { size: 32, minSize: 32, name: 'IOMMU_HWPT_INVALIDATE' },
  // size, flags, out_fault_id, out_fault_fd
  [IOMMUFD_CMD_FAULT_QUEUE_ALLOC]: { size: 16, minSize: 16, name: 'IOMMU_FAULT_QUEUE_ALLOC' },
};

/** enum iommufd_hwpt_get_dirty_bitmap_flags */
export const IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR = 1;

/** enum iommufd_hwpt_set_dirty_tracking_flags */
export const IOMMU_HWPT_DIRTY_TRACKING_ENABLE = 1;
