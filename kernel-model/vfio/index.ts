export { Vfio, VfioDevice, type GroupState, type VfioHost } from './vfio.js';
export { VfioContainer } from './container.js';
export { VfioGroup } from './group.js';
export { Type1Driver, Type1Iommu, vfioIommuType1Init, type Type1Options, type DmaMappingView } from './type1.js';
export type { VfioDeviceOps, VfioIommuDriverOps } from './types.js';
