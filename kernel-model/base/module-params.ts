/**
 * The built-in module parameters of the modelled kernel (what the kernel's __param section
 * holds for the drivers the model has), each with the module_param() that declares it.
 * Which exist is decided by the profile's capabilities; the values come from the kernel
 * command line (kernel-model/base/params.ts) and sysfs.
 */
import type { Capabilities } from '../profile.js';
import type { ParamDecl } from './params.js';

export function builtinParams(caps: Readonly<Capabilities>): ParamDecl[] {
  const out: ParamDecl[] = [];
  // CONFIG_IOMMUFD_VFIO_CONTAINER=y goes with CONFIG_VFIO_CONTAINER=n: no vfio_iommu_type1
  if (caps.iommufd !== 'dev-iommu+vfio-compat') {
    out.push({
      // 3.14 and mainline drivers/vfio/vfio_iommu_type1.c:
      // module_param_named(allow_unsafe_interrupts, allow_unsafe_interrupts, bool, S_IRUGO | S_IWUSR)
      module: 'vfio_iommu_type1',
      name: 'allow_unsafe_interrupts',
      type: 'bool',
      perm: 0o644,
      default: false,
      source: 'drivers/vfio/vfio_iommu_type1.c module_param_named(allow_unsafe_interrupts)',
    });
  }
  if (caps.iommufd !== 'dev-iommu+vfio-compat') {
    out.push({
      // 3.14 and mainline drivers/vfio/vfio_iommu_type1.c:
      // module_param_named(disable_hugepages, disable_hugepages, bool, S_IRUGO | S_IWUSR)
      module: 'vfio_iommu_type1',
      name: 'disable_hugepages',
      type: 'bool',
      perm: 0o644,
      default: false,
      source: 'drivers/vfio/vfio_iommu_type1.c module_param_named(disable_hugepages)',
    });
  }
  if (caps.iommufd !== 'none') {
    out.push({
      // v6.12 drivers/iommu/iommufd/device.c:
      // module_param(allow_unsafe_interrupts, bool, S_IRUGO | S_IWUSR)
      module: 'iommufd',
      name: 'allow_unsafe_interrupts',
      type: 'bool',
      perm: 0o644,
      default: false,
      source: 'drivers/iommu/iommufd/device.c module_param(allow_unsafe_interrupts)',
    });
  }
  if (caps.type1DmaEntryLimit > 0 && caps.iommufd !== 'dev-iommu+vfio-compat') {
    out.push({
      // mainline drivers/vfio/vfio_iommu_type1.c: module_param_named(dma_entry_limit, dma_entry_limit, uint, 0644)
      module: 'vfio_iommu_type1',
      name: 'dma_entry_limit',
      type: 'uint',
      perm: 0o644,
      default: caps.type1DmaEntryLimit,
      source: 'drivers/vfio/vfio_iommu_type1.c module_param_named(dma_entry_limit)',
    });
  }
  if (caps.vfioPlatform && caps.vfioPlatformResetRequired) {
    out.push({
      // mainline drivers/vfio/platform/vfio_platform.c: static bool reset_required = true;
      // module_param(reset_required, bool, 0444)
      module: 'vfio_platform',
      name: 'reset_required',
      type: 'bool',
      perm: 0o444,
      default: true,
      source: 'drivers/vfio/platform/vfio_platform.c module_param(reset_required)',
    });
  }
  if (caps.smmuDisableBypassParam) {
    out.push({
      // mainline drivers/iommu/arm/arm-smmu/arm-smmu.c: static bool disable_bypass =
      // IS_ENABLED(CONFIG_ARM_SMMU_DISABLE_BYPASS_BY_DEFAULT) (y by default);
      // module_param(disable_bypass, bool, S_IRUGO)
      module: 'arm_smmu',
      name: 'disable_bypass',
      type: 'bool',
      perm: 0o444,
      default: true,
      source: 'drivers/iommu/arm/arm-smmu/arm-smmu.c module_param(disable_bypass)',
    });
  }
  return out;
}
