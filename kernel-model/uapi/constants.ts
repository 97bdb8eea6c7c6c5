/**
 * The user-visible ABI constants of the modelled ARM (EABI, 32-bit) Linux kernel.
 * Guest programs import ONLY from kernel-model/uapi/. Values are Linux's for 32-bit ARM.
 */
export * from '../base/errno.js';

export const PAGE_SIZE = 4096;
export const PAGE_SHIFT = 12;

// open(2) flags (ARM values: O_DIRECTORY/O_NOFOLLOW differ from the generic ones)
export const O_RDONLY = 0o0;
export const O_WRONLY = 0o1;
export const O_RDWR = 0o2;
export const O_ACCMODE = 0o3;
export const O_CREAT = 0o100;
export const O_EXCL = 0o200;
export const O_NOCTTY = 0o400;
export const O_TRUNC = 0o1000;
export const O_APPEND = 0o2000;
export const O_NONBLOCK = 0o4000;
export const O_DIRECTORY = 0o40000;
export const O_NOFOLLOW = 0o100000;
export const O_LARGEFILE = 0o400000;
export const O_CLOEXEC = 0o2000000;

export const SEEK_SET = 0;
export const SEEK_CUR = 1;
export const SEEK_END = 2;

// mmap(2)
export const PROT_NONE = 0;
export const PROT_READ = 1;
export const PROT_WRITE = 2;
export const PROT_EXEC = 4;
export const MAP_SHARED = 0x01;
export const MAP_PRIVATE = 0x02;
export const MAP_FIXED = 0x10;
export const MAP_ANONYMOUS = 0x20;
/** asm-generic/mman.h (ARM's): the mapping is VM_GROWSDOWN, a stack-like VMA that grows on faults below it */
export const MAP_GROWSDOWN = 0x0100;
export const MAP_FAILED = -1;

// eventfd(2)
export const EFD_SEMAPHORE = 1;
export const EFD_CLOEXEC = O_CLOEXEC;
export const EFD_NONBLOCK = O_NONBLOCK;

// poll(2)
export const POLLIN = 0x0001;
export const POLLPRI = 0x0002;
export const POLLOUT = 0x0004;
export const POLLERR = 0x0008;
export const POLLHUP = 0x0010;
export const POLLNVAL = 0x0020;
export const POLLRDNORM = 0x0040;
export const POLLRDBAND = 0x0080;
export const POLLWRNORM = 0x0100;
export const POLLWRBAND = 0x0200;

// getdents64 d_type
export const DT_UNKNOWN = 0;
export const DT_CHR = 2;
export const DT_DIR = 4;
export const DT_REG = 8;
export const DT_LNK = 10;

export const RLIMIT_NOFILE_DEFAULT = 1024;
export const RLIMIT_MEMLOCK_DEFAULT = 64 * 1024;

/** ARM EABI syscall numbers of the calls the model implements */
export const NR = {
  exit: 1,
  read: 3,
  write: 4,
  open: 5,
  close: 6,
  lseek: 19,
  dup: 41,
  fcntl: 55,
  dup2: 63,
  fcntl64: 221,
  dup3: 358,
  getpid: 20,
  ioctl: 54,
  readlink: 85,
  munmap: 91,
  mprotect: 125,
  _newselect: 142,
  nanosleep: 162,
  poll: 168,
  pread64: 180,
  pwrite64: 181,
  mmap2: 192,
  getdents64: 217,
  madvise: 220,
  exit_group: 248,
  eventfd: 351,
  eventfd2: 356,
} as const;
export type SyscallName = keyof typeof NR;

// ---- VFIO (include/uapi/linux/vfio.h): _IO(';', 100 + n) ----
export const VFIO_TYPE = 0x3b;
export const VFIO_BASE = 100;
export const VFIO_API_VERSION = 0;
export const VFIO_GET_API_VERSION = 0x3b64;
export const VFIO_CHECK_EXTENSION = 0x3b65;
export const VFIO_SET_IOMMU = 0x3b66;
export const VFIO_GROUP_GET_STATUS = 0x3b67;
export const VFIO_GROUP_SET_CONTAINER = 0x3b68;
export const VFIO_GROUP_UNSET_CONTAINER = 0x3b69;
export const VFIO_GROUP_GET_DEVICE_FD = 0x3b6a;
export const VFIO_DEVICE_GET_INFO = 0x3b6b;
export const VFIO_DEVICE_GET_REGION_INFO = 0x3b6c;
export const VFIO_DEVICE_GET_IRQ_INFO = 0x3b6d;
export const VFIO_DEVICE_SET_IRQS = 0x3b6e;
export const VFIO_DEVICE_RESET = 0x3b6f;
export const VFIO_IOMMU_GET_INFO = 0x3b70;
export const VFIO_IOMMU_MAP_DMA = 0x3b71;
export const VFIO_IOMMU_UNMAP_DMA = 0x3b72;
/** mainline: VFIO_BASE + 17 on a container (the same number as VFIO_DEVICE_FEATURE on a device) */
export const VFIO_IOMMU_DIRTY_PAGES = 0x3b75;
/** mainline (v6.12) device-cdev ioctls: VFIO_BASE + 18, 19, 20 (VFIO_DEVICE_FEATURE is + 17) */
export const VFIO_DEVICE_BIND_IOMMUFD = 0x3b76;
export const VFIO_DEVICE_ATTACH_IOMMUFD_PT = 0x3b77;
export const VFIO_DEVICE_DETACH_IOMMUFD_PT = 0x3b78;

// extensions / IOMMU types
export const VFIO_TYPE1_IOMMU = 1;
export const VFIO_SPAPR_TCE_IOMMU = 2;
export const VFIO_TYPE1v2_IOMMU = 3;
export const VFIO_DMA_CC_IOMMU = 4;
export const VFIO_EEH = 5;
/**
 * 6: VFIO_TYPE1_NESTING_IOMMU: offered by v6.12's type1 (`type1Nesting`); removed from VFIO in
 * 6.13 ("vfio: Remove VFIO_TYPE1_NESTING_IOMMU"), reserved since
 */
export const VFIO_TYPE1_NESTING_IOMMU = 6;
export const VFIO_SPAPR_TCE_v2_IOMMU = 7;
export const VFIO_NOIOMMU_IOMMU = 8;
export const VFIO_UNMAP_ALL = 9;
export const VFIO_UPDATE_VADDR = 10;

export const VFIO_GROUP_FLAGS_VIABLE = 1 << 0;
export const VFIO_GROUP_FLAGS_CONTAINER_SET = 1 << 1;

export const VFIO_IOMMU_INFO_PGSIZES = 1 << 0;

export const VFIO_DMA_MAP_FLAG_READ = 1 << 0;
export const VFIO_DMA_MAP_FLAG_WRITE = 1 << 1;
/** 2014 + patch 02: executable from the device */
export const VFIO_DMA_MAP_FLAG_EXEC = 1 << 2;
/** mainline: bit 2 means "update vaddr" */
export const VFIO_DMA_MAP_FLAG_VADDR = 1 << 2;

export const VFIO_DEVICE_FLAGS_RESET = 1 << 0;
export const VFIO_DEVICE_FLAGS_PCI = 1 << 1;
export const VFIO_DEVICE_FLAGS_PLATFORM = 1 << 2;
export const VFIO_DEVICE_FLAGS_AMBA = 1 << 3;

export const VFIO_REGION_INFO_FLAG_READ = 1 << 0;
export const VFIO_REGION_INFO_FLAG_WRITE = 1 << 1;
export const VFIO_REGION_INFO_FLAG_MMAP = 1 << 2;

export const VFIO_IRQ_INFO_EVENTFD = 1 << 0;
export const VFIO_IRQ_INFO_MASKABLE = 1 << 1;
export const VFIO_IRQ_INFO_AUTOMASKED = 1 << 2;
export const VFIO_IRQ_INFO_NORESIZE = 1 << 3;

export const VFIO_IRQ_SET_DATA_NONE = 1 << 0;
export const VFIO_IRQ_SET_DATA_BOOL = 1 << 1;
export const VFIO_IRQ_SET_DATA_EVENTFD = 1 << 2;
export const VFIO_IRQ_SET_ACTION_MASK = 1 << 3;
export const VFIO_IRQ_SET_ACTION_UNMASK = 1 << 4;
export const VFIO_IRQ_SET_ACTION_TRIGGER = 1 << 5;
export const VFIO_IRQ_SET_DATA_TYPE_MASK = 0x7;
export const VFIO_IRQ_SET_ACTION_TYPE_MASK = 0x38;

export const VFIO_PLATFORM_OFFSET_SHIFT = 40;
