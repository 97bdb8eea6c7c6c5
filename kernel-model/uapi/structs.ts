/**
 * Struct layouts of the user ABI (offset:size, little-endian, natural alignment), from
 * include/uapi/linux/vfio.h (32-bit ARM EABI). Both the kernel model and guest programs
 * use these numbers, so a disagreement can only come from the header itself.
 */
export const vfio_group_status = { argsz: 0, flags: 4, minsz: 8 } as const;
export const vfio_iommu_type1_info = { argsz: 0, flags: 4, iova_pgsizes: 8, minsz: 16 } as const;
export const vfio_iommu_type1_dma_map = { argsz: 0, flags: 4, vaddr: 8, iova: 16, size: 24, minsz: 32 } as const;
export const vfio_iommu_type1_dma_unmap = { argsz: 0, flags: 4, iova: 8, size: 16, minsz: 24 } as const;
export const vfio_device_info = { argsz: 0, flags: 4, num_regions: 8, num_irqs: 12, minsz: 16 } as const;
export const vfio_region_info = { argsz: 0, flags: 4, index: 8, resv: 12, size: 16, offset: 24, minsz: 32 } as const;
export const vfio_irq_info = { argsz: 0, flags: 4, index: 8, count: 12, minsz: 16 } as const;
export const vfio_irq_set = { argsz: 0, flags: 4, index: 8, start: 12, count: 16, data: 20, minsz: 20 } as const;
/** mainline v6.12: struct vfio_device_bind_iommufd { u32 argsz; u32 flags; s32 iommufd; u32 out_devid; } (minsz: offsetofend out_devid) */
export const vfio_device_bind_iommufd = { argsz: 0, flags: 4, iommufd: 8, out_devid: 12, minsz: 16 } as const;
/** struct vfio_device_attach_iommufd_pt { u32 argsz; u32 flags; u32 pt_id; } (v6.12: no pasid member yet) */
export const vfio_device_attach_iommufd_pt = { argsz: 0, flags: 4, pt_id: 8, minsz: 12 } as const;
/** struct vfio_device_detach_iommufd_pt { u32 argsz; u32 flags; } */
export const vfio_device_detach_iommufd_pt = { argsz: 0, flags: 4, minsz: 8 } as const;

/** struct pollfd { int fd; short events; short revents; } */
export const pollfd = { fd: 0, events: 4, revents: 6, size: 8 } as const;
/** struct timespec / timeval on 32-bit ARM: two 32-bit longs */
export const timespec = { tv_sec: 0, tv_nsec: 4, size: 8 } as const;
export const timeval = { tv_sec: 0, tv_usec: 4, size: 8 } as const;
/** struct linux_dirent64 { u64 d_ino; s64 d_off; u16 d_reclen; u8 d_type; char d_name[]; } */
export const linux_dirent64 = { d_ino: 0, d_off: 8, d_reclen: 16, d_type: 18, d_name: 19 } as const;
/** fd_set: bitmap of 32-bit words (1024 bits = 128 bytes) */
export const FD_SETSIZE = 1024;
export function fdSetBytes(nfds: number): number {
  return Math.ceil(nfds / 32) * 4;
}
