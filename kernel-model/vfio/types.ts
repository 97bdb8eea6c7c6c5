import type { IommuGroup } from '../iommu/types.js';
import type { Vma } from '../process/mm.js';
import type { Task } from '../vfs/file.js';

/**
 * An IOMMU backend of the VFIO container (struct vfio_iommu_driver_ops). `data` is
 * what open() returned for one container. ioctl(null, VFIO_CHECK_EXTENSION, ext) is
 * asked before a type is chosen.
 */
export interface VfioIommuDriverOps {
  readonly name: string;
  /** a backend instance for a container, or -errno */
  open(arg: number): object | number;
  release(data: object): void;
  ioctl(data: object | null, task: Task | null, cmd: number, arg: number): number;
  attachGroup(data: object, group: IommuGroup): number;
  detachGroup(data: object, group: IommuGroup): void;
  /** the container fd's read/write/mmap (3.14 vfio_fops_read/write/mmap pass them on; type1 has none) */
  read?(data: object, task: Task, buf: number, count: number, pos: number): number;
  write?(data: object, task: Task, buf: number, count: number, pos: number): number;
  mmap?(data: object, task: Task, vma: Vma): number;
}

/**
 * A VFIO bus driver's device operations (struct vfio_device_ops), implemented by
 * vfio-platform. `deviceData` is what the bus driver passed to addGroupDev.
 */
export interface VfioDeviceOps {
  readonly name: string;
  /** called for each GET_DEVICE_FD; 0 or -errno (the error is returned to the user) */
  open(deviceData: unknown): number;
  /** called when a device fd is released */
  release(deviceData: unknown): void;
  ioctl?(deviceData: unknown, task: Task, cmd: number, arg: number): number;
  read?(deviceData: unknown, task: Task, buf: number, count: number, pos: number): number;
  write?(deviceData: unknown, task: Task, buf: number, count: number, pos: number): number;
  /** the VMA is created; use task.mm.remapPfnRange(vma, pa) to map device memory, or return -errno */
  mmap?(deviceData: unknown, task: Task, vma: Vma): number;
}
