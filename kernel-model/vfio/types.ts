import type { IommuGroup } from '../iommu/types.js';
import type { Vma } from '../process/mm.js';
import type { KDevice } from '../driver/types.js';
import type { File, Task } from '../vfs/file.js';

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

/**
 * The iommufd kernel API as VFIO uses it (include/linux/iommufd.h; drivers/vfio/iommufd.c
 * calls these for a "physical" device such as vfio-platform's). kernel-model/iommu/iommufd
 * provides it; tools/system wires it into the VFIO core. `ctx` and `idev` are opaque here.
 */
export interface VfioIommufd {
  /**
   * iommufd_ctx_from_file: the context of an open /dev/iommu file with a reference (dropped by
   * ctxPut), or -EBADFD for any other file (`file->f_op != &iommufd_fops`)
   */
  ctxFromFile(f: File): object | number;
  /** iommufd_ctx_put */
  ctxPut(ctx: object): void;
  /**
   * iommufd_device_bind(ictx, dev, &id): binds the device to the context (DMA ownership of
   * its group claimed for the context); the bond and its object id, or -errno
   */
  deviceBind(ctx: object, dev: KDevice): { idev: object; devId: number } | number;
  /** iommufd_device_attach(idev, &pt_id): the id actually attached (an IOAS gets a HWPT), or -errno */
  deviceAttach(idev: object, ptId: number): number;
  /** iommufd_device_replace(idev, &pt_id): as attach, for an attached device */
  deviceReplace(idev: object, ptId: number): number;
  /** iommufd_device_detach(idev) */
  deviceDetach(idev: object): void;
  /** iommufd_device_unbind(idev): DMA ownership released */
  deviceUnbind(idev: object): unknown;
}
