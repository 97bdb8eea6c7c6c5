/**
 * The expected outcome of pl330-vfio-test for a profile: shared/reference/patch-series.md
 * "What a user of the emulator sees, level by level", derived from the profile's
 * features (never from patch numbers directly) in the order the program meets them.
 */
import type { Profile } from '../../kernel-model/profile.js';

export type Outcome =
  | 'pass'
  | 'stop:check-extension'
  | 'stop:no-group'
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
  | 'stop:no-interrupt'
  | 'fault:xn'
  | 'fault:translation'
  | 'fail:data-mismatch'
  | 'fail:exit-status'
  | 'busy:group'
  | 'crash'
  | 'timeout';

export const OUTCOME_TEXT: Record<Outcome, string> = {
  pass: 'passes',
  'stop:check-extension': 'CHECK_EXTENSION(TYPE1) = 0: "Doesn\'t support the IOMMU driver we want"',
  'stop:no-group': 'no /dev/vfio/<group> (no vfio driver for the device)',
  'stop:not-viable': 'group not viable (a device of the group is bound to a host driver)',
  'stop:map-dma': 'MAP_DMA rejected: "Could not map DMA memory"',
  'stop:device-fd': 'GET_DEVICE_FD fails',
  'stop:device-info': 'DEVICE_GET_INFO fails',
  'stop:region-info': 'region info fails',
  'stop:mmap': 'mmap of the register region fails',
  'stop:irq-info': 'IRQ info fails',
  'stop:set-irqs': 'SET_IRQS fails',
  'stop:irq-not-quiet': 'the eventfd fired before the transfer',
  'stop:interrupt-storm': 'interrupt storm: the level line nobody masks re-enters the handler forever',
  'stop:no-interrupt': 'no completion interrupt (virtual-time timeout)',
  'fault:xn': 'PL330 instruction fetch hits XN: SMMU permission fault (IND), instr_fetch_err, abort IRQ',
  'fault:translation': 'PL330 load from an unmapped IOVA: SMMU translation fault, data_read_err',
  'fail:data-mismatch': 'destination differs from source',
  'fail:exit-status': 'the program exited with a failure status',
  'busy:group': 'a second open of the group is refused with -EBUSY',
  crash: 'the program was killed',
  timeout: 'the run did not finish within its virtual-time budget',
};

/** pl330-vfio-test written for the 2014 series (EXEC flag, physical-address offsets) */
export function expectedPl330Outcome(p: Profile): Outcome {
  const f = p.features;
  if (f.mainline) return 'pass';
  if (!f.type1PlatformBus) return 'stop:check-extension';
  if (f.vfioPlatformLevel < 4) return 'stop:no-group';
  if (!f.dmaMapExecFlag) return 'stop:map-dma';
  switch (f.vfioPlatformLevel) {
    case 4:
      return 'stop:region-info';
    case 5:
    case 6:
      return 'stop:mmap';
    case 7:
      return 'stop:irq-info';
    case 8:
      return 'stop:set-irqs';
    case 9:
      return 'stop:interrupt-storm';
    default:
      return 'pass';
  }
}
