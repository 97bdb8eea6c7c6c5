/**
 * Issue 17: vfio-platform's SET_IRQS and VFIO_DEVICE_RESET as today's kernel answers them.
 * SET_IRQS: vfio_platform_ioctl -> vfio_set_irqs_validate_and_prepare (drivers/vfio/vfio_main.c)
 * -> vfio_platform_set_irqs_ioctl (platform/vfio_platform_irq.c), capability
 * `setIrqsValidation` 'validate-and-prepare'. RESET: vfio_platform_call_reset (`deviceReset`).
 * The PL330 has 5 interrupts, each EVENTFD|MASKABLE|AUTOMASKED (level).
 */
import { describe, expect, it } from 'vitest';
import { loadBoardSource } from '../../../emulator/machine.js';
import { System } from '../../../tools/system/system.js';
import {
  EAGAIN, EBADF, EBUSY, EFD_NONBLOCK, EINVAL, ENOTTY, VFIO_DEVICE_RESET, VFIO_IRQ_INFO_AUTOMASKED, VFIO_IRQ_INFO_EVENTFD, VFIO_IRQ_INFO_MASKABLE,
  VFIO_IRQ_SET_ACTION_MASK as MASK, VFIO_IRQ_SET_ACTION_TRIGGER as TRIGGER, VFIO_IRQ_SET_ACTION_UNMASK as UNMASK,
  VFIO_IRQ_SET_DATA_BOOL as BOOL, VFIO_IRQ_SET_DATA_EVENTFD as EVENTFD, VFIO_IRQ_SET_DATA_NONE as NONE,
} from '../../uapi/index.js';
import { PL330, User, bindToVfio, openDevice, setup } from './testing/user.js';

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
  ] as const)('%s: -EINVAL; the "no reset function found!" warning at open, at RESET and at the last close: %s (patch 04 vfio_platform_ioctl / mainline vfio_platform_call_reset)', (profile, warns) => {
    const { sys, u, device } = setup(profile);
    const count = (): number => sys.kernel.log.lines().filter((l) => l.includes('no reset function found!')).length;
    expect(count()).toBe(warns ? 1 : 0); // vfio_platform_open_device
    expect(u.ioctl(device, VFIO_DEVICE_RESET)).toBe(-EINVAL);
    expect(count()).toBe(warns ? 2 : 0);
    expect(u.call('close', [device])).toBe(0);
    expect(count()).toBe(warns ? 3 : 0); // vfio_platform_close_device
    // dev_warn(vdev->device, ...) with vfio_platform_common.c's dev_fmt "VFIO: ": the prefix is
    // the bound driver, vfio-amba for mainline's AMBA PL330
    if (warns) expect(sys.kernel.log.lines().find((l) => l.includes('no reset function found!'))).toMatch(/vfio-amba 2c0a0000\.dma: VFIO: no reset function found!$/);
  });
});

describe('mainline interrupt handling against vfio_platform_irq.c and virqfd.c (the persistent handlers of 2024)', () => {
  const PL330_SPI0 = 32 + 92;
  /** the default board with the PL330's first interrupt made edge-triggered (IRQ_TYPE_EDGE_RISING) */
  function edgeBoard(): { text: string; file: string } {
    const src = loadBoardSource('vexpress-vfio');
    const text = src.text.replace('interrupts = <0 92 4>, <0 93 4>', 'interrupts = <0 92 1>, <0 93 4>');
    expect(text).not.toBe(src.text);
    return { text, file: 'edge-irq0.dts' };
  }

  it('an edge-triggered line is EVENTFD only (no MASKABLE, no AUTOMASKED): MASK and UNMASK -EINVAL; the RFC reports every line MASKABLE (irqMaskable)', () => {
    const { u, device } = setup('mainline', undefined, { boardSource: edgeBoard() });
    expect(u.irqInfo(device, 0).flags).toBe(VFIO_IRQ_INFO_EVENTFD);
    expect(u.irqInfo(device, 1).flags).toBe(VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_MASKABLE | VFIO_IRQ_INFO_AUTOMASKED);
    expect([u.setIrqs(device, NONE | MASK, 0, 0, 1), u.setIrqs(device, NONE | UNMASK, 0, 0, 1), u.setIrqs(device, NONE | MASK, 1, 0, 1)]).toEqual([-EINVAL, -EINVAL, 0]);
    const old = setup('rfc-v4', undefined, { boardSource: edgeBoard() });
    expect(old.u.irqInfo(old.device, 0).flags & VFIO_IRQ_INFO_MASKABLE).toBe(VFIO_IRQ_INFO_MASKABLE);
  });

  it('a new trigger leaves `masked` alone: a line automasked under the old trigger is delivered again after UNMASK (vfio_set_trigger)', () => {
    const { sys, u, device } = setup('mainline');
    const virq = sys.irq.virqOf(PL330_SPI0);
    const a = u.call('eventfd2', [0, EFD_NONBLOCK]);
    const b = u.call('eventfd2', [0, EFD_NONBLOCK]);
    expect(u.setIrqs(device, EVENTFD | TRIGGER, 0, 0, 1, { fd: a })).toBe(0);
    expect(sys.irq.descOf(virq)!.depth).toBe(0);
    // the loopback runs the automasked handler: masked, depth 1, A signalled
    expect(u.setIrqs(device, NONE | TRIGGER, 0, 0, 1)).toBe(0);
    expect([sys.irq.descOf(virq)!.depth, u.eventfdRead(a)]).toEqual([1, 1]);
    // trigger B: disable_irq, enable_irq; still masked (depth 1) until UNMASK
    expect(u.setIrqs(device, EVENTFD | TRIGGER, 0, 0, 1, { fd: b })).toBe(0);
    expect(sys.irq.descOf(virq)!.depth).toBe(1);
    expect(u.setIrqs(device, NONE | UNMASK, 0, 0, 1)).toBe(0);
    expect(sys.irq.descOf(virq)!.depth).toBe(0);
  });

  it('a bad trigger fd: the old trigger is gone all the same (-EBADF; the loopback signals nothing)', () => {
    const { u, device } = setup('mainline');
    const a = u.call('eventfd2', [0, EFD_NONBLOCK]);
    expect(u.setIrqs(device, EVENTFD | TRIGGER, 0, 0, 1, { fd: a })).toBe(0);
    expect(u.setIrqs(device, EVENTFD | TRIGGER, 0, 0, 1, { fd: 999 })).toBe(-EBADF);
    expect(u.setIrqs(device, NONE | TRIGGER, 0, 0, 1)).toBe(0);
    expect(u.eventfdRead(a)).toBe(-EAGAIN);
  });

  it('virqfd: a second UNMASK eventfd is -EBUSY; a bad fd keeps the first; an event pending at registration acts without consuming the count (vfio_virqfd_enable)', () => {
    const { sys, u, device } = setup('mainline');
    const virq = sys.irq.virqOf(PL330_SPI0);
    const t = u.call('eventfd2', [0, EFD_NONBLOCK]);
    const m1 = u.call('eventfd2', [0, EFD_NONBLOCK]);
    const m2 = u.call('eventfd2', [0, EFD_NONBLOCK]);
    expect(u.setIrqs(device, EVENTFD | TRIGGER, 0, 0, 1, { fd: t })).toBe(0);
    expect(u.setIrqs(device, EVENTFD | UNMASK, 0, 0, 1, { fd: m1 })).toBe(0);
    expect(u.setIrqs(device, EVENTFD | UNMASK, 0, 0, 1, { fd: m2 })).toBe(-EBUSY);
    expect(u.setIrqs(device, EVENTFD | UNMASK, 0, 0, 1, { fd: 999 })).toBe(-EBADF);
    // m1 still unmasks: loopback (automask), then a write to m1
    expect(u.setIrqs(device, NONE | TRIGGER, 0, 0, 1)).toBe(0);
    expect(sys.irq.descOf(virq)!.depth).toBe(1);
    u.mem.write64(u.page + 0x800, 1n);
    expect(u.call('write', [m1, u.page + 0x800, 8])).toBe(8);
    expect(sys.irq.descOf(virq)!.depth).toBe(0);
    expect(u.eventfdRead(m1)).toBe(-EAGAIN); // consumed by the wakeup
    // a MASK eventfd that already holds 5: the line is masked at once, the 5 stay
    u.mem.write64(u.page + 0x800, 5n);
    expect(u.call('write', [m2, u.page + 0x800, 8])).toBe(8);
    expect(u.setIrqs(device, EVENTFD | MASK, 0, 0, 1, { fd: m2 })).toBe(0);
    expect(sys.irq.descOf(virq)!.depth).toBe(1);
    expect(u.eventfdRead(m2)).toBe(5);
  });

  it('request_irq failing at open does not fail the open: SET_IRQS on that line returns the error, the others work ("Create persistent IRQ handlers")', () => {
    const sys = new System({ profile: 'mainline' });
    const u = new User(sys);
    // someone else holds the PL330's first line, not shared
    const virq = sys.irq.virqOf(PL330_SPI0);
    expect(bindToVfio(u, PL330)).toBeGreaterThan(0);
    expect(sys.irq.requestIrq(virq, () => 1, 0, 'squatter', {})).toBe(0);
    const { device } = openDevice(u, PL330);
    expect(device).toBeGreaterThan(0);
    const e = u.call('eventfd2', [0, EFD_NONBLOCK]);
    expect(u.setIrqs(device, EVENTFD | TRIGGER, 0, 0, 1, { fd: e })).toBe(-EBUSY);
    expect(u.setIrqs(device, NONE, 0, 0, 1)).toBe(-EBUSY); // no ACTION bit: the stored error comes before -ENOTTY
    expect(u.setIrqs(device, EVENTFD | TRIGGER, 1, 0, 1, { fd: e })).toBe(0);
  });
});
