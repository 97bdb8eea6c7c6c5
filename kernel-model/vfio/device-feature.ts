/**
 * VFIO_DEVICE_FEATURE (VFIO_BASE + 17 on a device fd), decoded by the VFIO core since 5.18
 * (`vfioDeviceFeature`; Linux v6.12 drivers/vfio/vfio_main.c vfio_ioctl_device_feature): the
 * 8-byte head struct vfio_device_feature {argsz, flags} (-EFAULT), argsz < 8 or a flag outside
 * the feature index and GET/SET/PROBE -EINVAL, GET with SET without PROBE -EINVAL; then the
 * core's own features, each -ENOTTY for a device without migration (mig_ops) or dirty logging
 * (log_ops) support, which vfio-platform and vfio-amba have neither of: MIGRATION,
 * MIG_DEVICE_STATE, DMA_LOGGING_START/STOP/REPORT, MIG_DATA_SIZE; any other feature goes to the
 * driver's device_feature op, which they do not have either: -EINVAL. (Linux 6.18's "vfio:
 * return -ENOTTY for unsupported device feature", commit 16df67f2189a, changed that last
 * answer to -ENOTTY; v6.12 answers -EINVAL.)
 */
import { EFAULT, EINVAL, ENOTTY } from '../base/errno.js';
import type { AddressSpace } from '../process/mm.js';

export const VFIO_DEVICE_FEATURE = 0x3b75;
const VFIO_DEVICE_FEATURE_MASK = 0xffff;
const VFIO_DEVICE_FEATURE_GET = 1 << 16;
const VFIO_DEVICE_FEATURE_SET = 1 << 17;
const VFIO_DEVICE_FEATURE_PROBE = 1 << 18;
/** MIGRATION 1, MIG_DEVICE_STATE 2, DMA_LOGGING_START 6, DMA_LOGGING_STOP 7, DMA_LOGGING_REPORT 8, MIG_DATA_SIZE 9 */
const CORE_FEATURES = new Set([1, 2, 6, 7, 8, 9]);

export function deviceFeatureIoctl(mm: AddressSpace, arg: number): number {
  const b = new Uint8Array(8);
  if (mm.copyFromUser(b, 0, arg, 8) < 0) return -EFAULT;
  const v = new DataView(b.buffer);
  const argsz = v.getUint32(0, true);
  const flags = v.getUint32(4, true);
  if (argsz < 8) return -EINVAL;
  if ((flags & ~(VFIO_DEVICE_FEATURE_MASK | VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_PROBE)) !== 0) return -EINVAL;
  if (!(flags & VFIO_DEVICE_FEATURE_PROBE) && flags & VFIO_DEVICE_FEATURE_SET && flags & VFIO_DEVICE_FEATURE_GET) return -EINVAL;
  // the core's features: no mig_ops / log_ops on a platform device
  if (CORE_FEATURES.has(flags & VFIO_DEVICE_FEATURE_MASK)) return -ENOTTY;
  // default: `if (unlikely(!device->ops->device_feature)) return -EINVAL;`
  return -EINVAL;
}
