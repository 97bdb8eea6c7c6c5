/**
 * vfio-amba (mainline drivers/vfio/platform/vfio_amba.c): the VFIO bus driver for AMBA
 * devices, built on the vfio-platform common code (common.ts, irq.ts, regions.ts), for the
 * profiles with `vfioAmba` (mainline). The RFC v4 series had no AMBA support (its cover
 * letter lists "Bind to ARM AMBA devices" as TODO).
 *
 * - vfio_amba_ids is the empty table `{ 0, 0 }`: the driver matches no device by id, only a
 *   device whose driver_override names it ("vfio-amba"), bound through drivers_probe.
 * - vfio_amba_driver.driver_managed_dma = true: amba_dma_configure does not take the default
 *   domain (VFIO claims DMA ownership itself at SET_CONTAINER).
 * - vfio_amba_probe: dev_err_once "DEPRECATION: vfio-amba is deprecated and will be removed
 *   in a future kernel release" (Alex Williamson, "vfio/amba: Mark for removal", August 2025;
 *   drivers/vfio/platform/Kconfig marks VFIO_AMBA "(DEPRECATED)"), then vfio_alloc_device ->
 *   vfio_amba_init_dev and vfio_register_group_dev.
 * - vfio_amba_init_dev: vdev->name = "vfio-amba-%08x" of adev->periphid, flags
 *   VFIO_DEVICE_FLAGS_AMBA, get_resource = get_amba_resource (index 0: adev->res, else NULL:
 *   one region), get_irq = get_amba_irq (adev->irq[i] for i < AMBA_NR_IRQS, 0 meaning none ->
 *   -ENXIO), reset_required = false (so the PL330, which has no reset function, binds whatever
 *   vfio_platform.reset_required says). The AMBA device's resources (kernel-model/amba/bus.ts)
 *   are exactly what those two callbacks give, so the common code's walk over them is
 *   get_resource/get_irq.
 */
import { ENODEV } from '../../base/errno.js';
import type { AmbaId } from '../../amba/bus.js';
import { AmbaDevice } from '../../amba/bus.js';
import type { KDevice } from '../../driver/types.js';
import { VFIO_DEVICE_FLAGS_AMBA } from '../../uapi/constants.js';
import type { VfioPlatformDeps, VfioPlatformDevice } from './private.js';
import { VfioPlatformDriver } from './vfio-platform.js';

export const VFIO_AMBA_DEPRECATION = 'DEPRECATION: vfio-amba is deprecated and will be removed in a future kernel release';

export class VfioAmbaDriver extends VfioPlatformDriver {
  /** vfio_amba_ids: `{ 0, 0 }`, no entry (binding only through driver_override) */
  readonly ambaIds: readonly AmbaId[] = Object.freeze([]);
  private warnedOnce = false;

  constructor(d: VfioPlatformDeps) {
    super(d, 'vfio-amba');
  }

  /** module_amba_driver(vfio_amba_driver): amba_driver_register on the AMBA bus */
  override register(): number {
    if (!this.d.profile.caps.vfioAmba || !this.d.driverCore.bus('amba')) return -ENODEV;
    return this.d.driverCore.driverRegister(this, 'amba');
  }

  override probe(dev: KDevice): number {
    if (!(dev instanceof AmbaDevice)) return -ENODEV;
    if (!this.warnedOnce) {
      // dev_err_once (the first probe of the boot only)
      this.warnedOnce = true;
      this.d.log.err(`${this.name} ${dev.name}`, VFIO_AMBA_DEPRECATION);
    }
    return super.probe(dev);
  }

  /** vfio_amba_init_dev */
  protected override initDev(dev: KDevice): Pick<VfioPlatformDevice, 'name' | 'flags' | 'resetRequired'> {
    const periphid = dev instanceof AmbaDevice ? dev.periphid : 0;
    return { name: `vfio-amba-${periphid.toString(16).padStart(8, '0')}`, flags: VFIO_DEVICE_FLAGS_AMBA, resetRequired: false };
  }
}
