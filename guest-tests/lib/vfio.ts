/**
 * Small VFIO helpers for guest programs (only the syscall API, as a user program would write
 * them against <linux/vfio.h>).
 */
import { VFIO_DEVICE_SET_IRQS, VFIO_IRQ_SET_ACTION_TRIGGER, VFIO_IRQ_SET_DATA_EVENTFD, type Sys, type SysCall } from '../../kernel-model/uapi/index.js';
import { vfio_irq_set } from '../../kernel-model/uapi/structs.js';
import type { Libc } from './libc.js';

/**
 * VFIO_DEVICE_SET_IRQS with DATA_EVENTFD | ACTION_TRIGGER for IRQ `index` (start 0, count 1):
 * the device's interrupt signals `eventfd`. Returns the ioctl's result.
 */
export function* setIrqTrigger(sys: Sys, libc: Libc, device: number, index: number, eventfd: number): SysCall<number> {
  const m = sys.mem;
  const set = libc.malloc(vfio_irq_set.minsz + 4);
  m.write32(set + vfio_irq_set.argsz, vfio_irq_set.minsz + 4);
  m.write32(set + vfio_irq_set.flags, VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER);
  m.write32(set + vfio_irq_set.index, index);
  m.write32(set + vfio_irq_set.start, 0);
  m.write32(set + vfio_irq_set.count, 1);
  m.write32(set + vfio_irq_set.data, eventfd);
  return yield* sys.ioctl(device, VFIO_DEVICE_SET_IRQS, set);
}
