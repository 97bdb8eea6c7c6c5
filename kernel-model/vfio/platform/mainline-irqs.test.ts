/**
 * Issue 17: vfio-platform's SET_IRQS and VFIO_DEVICE_RESET as today's kernel answers them.
 * SET_IRQS: vfio_platform_ioctl -> vfio_set_irqs_validate_and_prepare (drivers/vfio/vfio_main.c)
 * -> vfio_platform_set_irqs_ioctl (platform/vfio_platform_irq.c), capability
 * `setIrqsValidation` 'validate-and-prepare'. RESET: vfio_platform_call_reset (`deviceReset`).
 * The PL330 has 5 interrupts, each EVENTFD|MASKABLE|AUTOMASKED (level).
 */
import { describe, expect, it } from 'vitest';
import {
  EINVAL, ENOTTY, VFIO_DEVICE_RESET,
  VFIO_IRQ_SET_ACTION_MASK as MASK, VFIO_IRQ_SET_ACTION_TRIGGER as TRIGGER, VFIO_IRQ_SET_ACTION_UNMASK as UNMASK,
  VFIO_IRQ_SET_DATA_BOOL as BOOL, VFIO_IRQ_SET_DATA_EVENTFD as EVENTFD, VFIO_IRQ_SET_DATA_NONE as NONE,
} from '../../uapi/index.js';
import { setup } from './testing/user.js';

const MINSZ = 20;

const rows: { what: string; flags: number; index?: number; start?: number; count?: number; argsz?: number; bool?: number; want: number; fn: string }[] = [
  { what: 'no ACTION bit', flags: NONE, want: -ENOTTY, fn: 'vfio_platform_set_irqs_ioctl: no handler (func NULL)' },
  { what: 'MASK and UNMASK', flags: NONE | MASK | UNMASK, want: -ENOTTY, fn: 'vfio_platform_set_irqs_ioctl: no handler' },
  { what: 'MASK and TRIGGER, count 0', flags: NONE | MASK | TRIGGER, count: 0, want: -ENOTTY, fn: 'vfio_platform_set_irqs_ioctl: no handler' },
  { what: 'no DATA bit', flags: TRIGGER, want: -EINVAL, fn: 'vfio_set_irqs_validate_and_prepare: DATA type switch' },
  { what: 'DATA_NONE and DATA_BOOL', flags: NONE | BOOL | TRIGGER, bool: 1, want: -EINVAL, fn: 'vfio_set_irqs_validate_and_prepare: DATA type switch' },
  { what: 'EVENTFD with argsz = minsz', flags: EVENTFD | TRIGGER, argsz: MINSZ, want: -EINVAL, fn: 'vfio_set_irqs_validate_and_prepare: argsz - minsz < count x 4' },
  { what: 'EVENTFD with argsz = minsz + 3', flags: EVENTFD | TRIGGER, argsz: MINSZ + 3, want: -EINVAL, fn: 'vfio_set_irqs_validate_and_prepare: argsz - minsz < count x 4' },
  { what: 'BOOL with argsz = minsz', flags: BOOL | UNMASK, argsz: MINSZ, bool: 1, want: -EINVAL, fn: 'vfio_set_irqs_validate_and_prepare: argsz - minsz < count x 1' },
  { what: 'DATA_NONE UNMASK with argsz = minsz', flags: NONE | UNMASK, argsz: MINSZ, want: 0, fn: 'no data: argsz only >= minsz' },
  { what: 'argsz < minsz', flags: NONE | UNMASK, argsz: MINSZ - 1, want: -EINVAL, fn: 'vfio_set_irqs_validate_and_prepare: argsz < minsz' },
  { what: 'index = num_irqs', flags: NONE | UNMASK, index: 5, want: -EINVAL, fn: 'vfio_set_irqs_validate_and_prepare: index >= max_irq_type' },
  { what: 'unknown flag bit', flags: NONE | UNMASK | 0x40, want: -EINVAL, fn: 'vfio_set_irqs_validate_and_prepare: flags outside the masks' },
  { what: 'count >= U32_MAX - start', flags: NONE | UNMASK, start: 1, count: 0xffffffff, want: -EINVAL, fn: 'vfio_set_irqs_validate_and_prepare' },
  { what: 'start + count > num_irqs', flags: NONE | UNMASK, start: 4, count: 2, want: -EINVAL, fn: 'vfio_set_irqs_validate_and_prepare: start + count > num_irqs' },
  { what: 'start = num_irqs, count 0', flags: NONE | TRIGGER, start: 5, count: 0, want: -EINVAL, fn: 'vfio_set_irqs_validate_and_prepare: start >= num_irqs' },
  { what: 'MASK with start 1', flags: NONE | MASK, start: 1, want: -EINVAL, fn: 'vfio_platform_set_irq_mask: start != 0 || count != 1' },
  { what: 'TRIGGER BOOL with count 2', flags: BOOL | TRIGGER, count: 2, bool: 1, want: -EINVAL, fn: 'vfio_platform_set_irq_trigger: start != 0 || count != 1' },
  { what: 'TRIGGER DATA_NONE count 0 with start 1 (removes the trigger)', flags: NONE | TRIGGER, start: 1, count: 0, want: 0, fn: 'vfio_platform_set_irq_trigger: count 0 with DATA_NONE before the start check' },
];

describe('mainline SET_IRQS: vfio_set_irqs_validate_and_prepare, then vfio_platform_set_irqs_ioctl', () => {
  it.each(rows)('$what: $want ($fn)', (row) => {
    const { u, device } = setup('mainline');
    const data = row.bool !== undefined ? { bool: row.bool } : undefined;
    expect(u.setIrqs(device, row.flags, row.index ?? 0, row.start ?? 0, row.count ?? 1, data, row.argsz ?? MINSZ + 4)).toBe(row.want);
  });
});

describe('VFIO_DEVICE_RESET (deviceReset)', () => {
  it.each([
    ['rfc-v4', false],
    ['mainline', true],
  ] as const)('%s: -EINVAL; the "no reset function found!" warning: %s (patch 04 vfio_platform_ioctl / mainline vfio_platform_call_reset)', (profile, warns) => {
    const { sys, u, device } = setup(profile);
    expect(u.ioctl(device, VFIO_DEVICE_RESET)).toBe(-EINVAL);
    const lines = sys.kernel.log.lines().filter((l) => l.includes('no reset function found!'));
    expect(lines.length).toBe(warns ? 1 : 0);
    // dev_warn(vdev->device, ...): the prefix is the bound driver, vfio-amba for mainline's AMBA PL330
    if (warns) expect(lines[0]).toMatch(/vfio-amba 2c0a0000\.dma: no reset function found!$/);
  });
});
