/**
 * The expected outcome of pl330-vfio-test for a profile (docs/PROFILES.md, "Expected
 * matrix"), derived from the profile's capabilities (never from patch numbers or the
 * profile kind) in the order the program meets them.
 */
import type { KernelParams } from '../../kernel-model/base/params.js';
import type { Profile } from '../../kernel-model/profile.js';

export type Outcome =
  | 'pass'
  | 'stop:check-extension'
  | 'stop:no-group'
  | 'stop:set-iommu'
  | 'stop:not-viable'
  | 'stop:map-dma'
  | 'stop:device-fd'
  | 'stop:device-info'
  | 'stop:region-info'
  | 'stop:mmap'
  | 'stop:irq-info'
  | 'stop:set-irqs'
  | 'stop:irq-not-quiet'
  | 'stop:interrupt-storm'
  | 'panic:oops-in-interrupt'
  | 'stop:no-interrupt'
  | 'fault:xn'
  | 'fault:translation'
  | 'fail:data-mismatch'
  | 'fail:exit-status'
  | 'busy:group'
  | 'crash'
  | 'timeout'
  | 'bug:group-notifier'
  | 'refused:bind-busy'
  | 'bound:group-revoked'
  | 'hole:shared-stream-id'
  | 'isolated:one-group'
  | 'hang:stalled-dma'
  // the cdev + iommufd form (tools/scenarios/cdev.ts)
  | 'stop:no-iommufd'
  | 'stop:no-cdev'
  | 'stop:bind'
  | 'stop:ioas-alloc'
  | 'stop:attach-pt'
  | 'stop:ioas-map'
  | 'busy:cdev-group';

export const OUTCOME_TEXT: Record<Outcome, string> = {
  pass: 'passes',
  'stop:check-extension': 'CHECK_EXTENSION(TYPE1) = 0: "Doesn\'t support the IOMMU driver we want"',
  'stop:no-group': 'no /dev/vfio/<group> (no vfio driver for the device)',
  'stop:not-viable': 'group not viable (a device of the group is bound to a host driver)',
  'stop:set-iommu': 'VFIO_SET_IOMMU refused with -EPERM: "vfio_iommu_type1_attach_group: No interrupt remapping support" (the group\'s wired interrupts are not isolated; the kernel needs vfio_iommu_type1.allow_unsafe_interrupts=1)',
  'stop:map-dma': 'MAP_DMA rejected: "Could not map DMA memory"',
  'stop:device-fd': 'GET_DEVICE_FD fails',
  'stop:device-info': 'DEVICE_GET_INFO fails',
  'stop:region-info': 'region info fails',
  'stop:mmap': 'mmap of the register region fails',
  'stop:irq-info': 'IRQ info fails',
  'stop:set-irqs': 'SET_IRQS fails',
  'stop:irq-not-quiet': 'the eventfd fired before the transfer',
  'stop:interrupt-storm': 'interrupt storm: the level line nobody masks re-enters the handler forever',
  'panic:oops-in-interrupt': 'Oops in interrupt context (patch 09\'s handler runs eventfd_signal() on the struct vfio_platform_irq): "Kernel panic - not syncing: Fatal exception in interrupt"',
  'stop:no-interrupt': 'no completion interrupt (virtual-time timeout)',
  'fault:xn': 'PL330 instruction fetch hits XN: SMMU permission fault (IND), instr_fetch_err, abort IRQ',
  'fault:translation': 'PL330 load from an unmapped IOVA: SMMU translation fault, data_read_err',
  'fail:data-mismatch': 'destination differs from source',
  'fail:exit-status': 'the program exited with a failure status',
  'busy:group': 'a second open of the group is refused with -EBUSY',
  crash: 'the program was killed',
  timeout: 'the run did not finish within its virtual-time budget',
  'bug:group-notifier': 'kernel BUG at drivers/vfio/vfio.c: the group notifier\'s BUG_ON(vfio_group_nb_verify()) after a host driver bound to a device of a group in use; the machine stops',
  'refused:bind-busy': 'the host driver\'s bind is refused with -EBUSY: user space owns the group\'s DMA',
  'bound:group-revoked': 'the last VFIO device going revoked its group (vfio_device_remove_group): the container lost it and its DMA ownership, the host driver binds, and the group fd user space still holds answers -ENODEV',
  'hole:shared-stream-id': 'two groups for one stream id: the host-owned master\'s DMA goes through the user\'s IOVA space, and attaching both masters raises the SMMU stream match conflict (sGFSR.SMCF)',
  'isolated:one-group': 'one group for the shared stream id: not viable while a host driver holds a member; with both on vfio the group is viable and one SMR serves both',
  'hang:stalled-dma': 'the machine hangs: a DMA transaction stalled in the SMMU, its fault line disabled ("nobody cared"), nothing left to run',
  'stop:no-iommufd': 'no /dev/iommu',
  'stop:no-cdev': 'no VFIO device cdev (no vfio-dev entry under the device in sysfs)',
  'stop:bind': 'VFIO_DEVICE_BIND_IOMMUFD fails',
  'stop:ioas-alloc': 'IOMMU_IOAS_ALLOC fails',
  'stop:attach-pt': 'VFIO_DEVICE_ATTACH_IOMMUFD_PT fails',
  'stop:ioas-map': 'IOMMU_IOAS_MAP fails (e.g. -ENOMEM: the pinned pages exceed RLIMIT_MEMLOCK)',
  'busy:cdev-group': 'the group path and the cdev path exclude each other: BIND_IOMMUFD while the group holds the device and the group open while the cdev is bound are both -EBUSY',
};

/**
 * Which variant of pl330-vfio-test a user of the profile's kernel runs: the program as
 * written for the series passes VFIO_DMA_MAP_FLAG_EXEC; where bit 2 of MAP_DMA's flags
 * means VADDR (mainline) it is the program rewritten without it.
 */
export function pl330ProgramAbi(p: Profile): '2014' | 'mainline' {
  return p.caps.dmaMapBit2 === 'vaddr' ? 'mainline' : '2014';
}

/**
 * The expected outcome of pl330-vfio-test (in the variant pl330ProgramAbi picks): the
 * first step, in the program's order, that the profile's capabilities (and the booted
 * kernel's module parameters, from its command line) do not support.
 */
export function expectedPl330Outcome(p: Profile, params: KernelParams | null = null): Outcome {
  const c = p.caps;
  if (!c.type1PlatformBus) return 'stop:check-extension';
  if (!c.vfioPlatform) return 'stop:no-group';
  // mainline vfio_platform_init_common: no device of the board has a reset module, so the
  // bind fails (no vfio group) unless the command line cleared vfio_platform.reset_required
  // (only where vfio-platform binds the PL330: mainline's vfio-amba sets reset_required false,
  // vfio_amba_init_dev, so on the AMBA bus the parameter does not matter)
  if (c.vfioPlatformResetRequired && c.primecellBus === 'platform' && (params === null || params.bool('vfio_platform', 'reset_required'))) return 'stop:no-group';
  // mainline vfio_iommu_type1_attach_group: wired interrupts on a GICv2 are not isolated, so
  // SET_IOMMU is -EPERM unless vfio_iommu_type1.allow_unsafe_interrupts=1
  if (c.type1MsiIsolation === 'group-isolated-msi' && (params === null || !params.bool('vfio_iommu_type1', 'allow_unsafe_interrupts'))) return 'stop:set-iommu';
  // the 2014 program maps its buffers with EXEC
  if (pl330ProgramAbi(p) === '2014' && c.dmaMapBit2 !== 'exec') return 'stop:map-dma';
  if (!c.regionInfo) return 'stop:region-info';
  if (c.mmapRegions === 'none') return 'stop:mmap';
  if (!c.irqInfo) return 'stop:irq-info';
  if (c.setIrqsActions === 'none') return 'stop:set-irqs';
  // patch 09 as posted: the first completion interrupt runs eventfd_signal() on the
  // struct vfio_platform_irq (request_irq's dev_id), an Oops in interrupt context
  if (c.bugs.irqHandlerDevIdMismatch) return 'panic:oops-in-interrupt';
  // a level line nobody masks re-enters the handler forever
  if (c.irqHandler !== 'automask') return 'stop:interrupt-storm';
  return 'pass';
}
