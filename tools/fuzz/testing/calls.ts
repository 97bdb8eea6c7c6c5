import { VFIO_REQS, type Call } from '../program.js';

/** an ioctl call: what the tests spread to change its fd or fields */
type IoctlCall = Extract<Call, { op: 'ioctl' }>;

/**
 * Test support: calls several fuzz test files run by hand (read only). VFIO_GROUP_GET_STATUS on the
 * process's first group fd (argsz 8: the struct vfio_group_status of the uapi).
 */
export const status: IoctlCall = { op: 'ioctl', p: 0, fd: { k: 'group', i: 0 }, req: VFIO_REQS.VFIO_GROUP_GET_STATUS, arg: { t: 'struct', type: 'vfio_group_status', fields: { argsz: 8 }, ptr: 'ok' } };

/** VFIO_IOMMU_MAP_DMA of the first two DMA buffer pages, read and write, at IOVA 0x10000 */
export const mapCall: IoctlCall = {
  op: 'ioctl',
  p: 0,
  fd: { k: 'container', i: 0 },
  req: VFIO_REQS.VFIO_IOMMU_MAP_DMA,
  arg: { t: 'struct', type: 'vfio_iommu_type1_dma_map', fields: { argsz: 32, flags: 3, vaddr: { dma: 0 }, iova: 0x10000, size: 0x2000 }, ptr: 'ok' },
};
