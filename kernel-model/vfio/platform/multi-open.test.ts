/**
 * Two device fds on one device. The posted patches (05-10) set up and free the region and
 * irq arrays on every open/release; mainline counts opens.
 */
import { describe, expect, it } from 'vitest';
import { EAGAIN, EBUSY, EFD_NONBLOCK, MAP_SHARED, PROT_READ, PROT_WRITE, VFIO_GROUP_GET_DEVICE_FD, VFIO_IRQ_SET_ACTION_TRIGGER, VFIO_IRQ_SET_DATA_EVENTFD } from '../../uapi/index.js';
import { debugInst } from '../../../devices/pl330/assembler.js';
import { PL330, PL330_BASE, User, bindToVfio, openDevice, vfioDriverOf } from './testing/user.js';
import { System } from '../../../tools/system/system.js';

const TRIG = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER;
const GIC_ID = 32 + 92;

function boot(profile: string): { sys: System; u: User; group: number; a: number; b: number; efdA: number; allocBefore: number } {
  const sys = new System({ profile });
  const u = new User(sys);
  expect(bindToVfio(u, PL330)).toBe(PL330.length + 1);
  const allocBefore = sys.kernel.mm.kmem.allocated;
  const { group, device: a } = openDevice(u, PL330);
  const efdA = u.call('eventfd2', [0, EFD_NONBLOCK]);
  expect(u.setIrqs(a, TRIG, 0, 0, 1, { fd: efdA })).toBe(0);
  const b = u.ioctl(group, VFIO_GROUP_GET_DEVICE_FD, u.str(PL330));
  expect(b).toBeGreaterThanOrEqual(0);
  return { sys, u, group, a, b, efdA, allocBefore };
}

function sevVia(u: User, fd: number, pgoff: number): void {
  const regs = u.call('mmap2', [0, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, pgoff]);
  expect(regs).toBeGreaterThan(0);
  u.mem.write32(regs + 0x20, 1); // INTEN[0]
  const [i0, i1] = debugInst([0x34, 0]);
  u.mem.write32(regs + 0xd08, i0);
  u.mem.write32(regs + 0xd0c, i1);
  u.mem.write32(regs + 0xd04, 0);
  u.mem.write32(regs + 0x2c, 0); // (INTCLR of nothing: keeps the mapping used)
}

/** munmap every device mapping (a mapping holds a reference to the device file) */
function unmapDevice(u: User): void {
  for (const v of u.proc.mm.mappings.filter((m) => m.kind === 'pfn')) expect(u.call('munmap', [v.start, v.end - v.start])).toBe(0);
}

describe('two opens of one device', () => {
  it('rfc-v4: the second open leaks the first arrays, the first close frees the arrays the second fd uses, the last close frees them again', () => {
    const { sys, u, group, a, b, efdA } = boot('rfc-v4');
    const kmem = sys.kernel.mm.kmem;
    const vdev = vfioDriverOf(sys).devices.values().next().value!;
    const virq = sys.irq.virqOf(GIC_ID);
    // the second open replaced the arrays: fd B sees fresh irq state, but the handler
    // requested through the first array still owns the line
    expect(vfioDriverOf(sys).inspect()[0]!.irqs[0]!.trigger).toBe(false);
    const efdB = u.call('eventfd2', [0, EFD_NONBLOCK]);
    expect(u.setIrqs(b, TRIG, 0, 0, 1, { fd: efdB })).toBe(-EBUSY);
    expect(sys.kernel.log.grep(/Flags mismatch irq/)).toHaveLength(1);
    // a device event still reaches the FIRST trigger (and masks the line by the old state)
    sevVia(u, b, PL330_BASE / 4096);
    sys.machine.scheduler.runUntil(sys.now + 20_000);
    expect(u.eventfdRead(efdA)).toBe(1);
    expect(u.eventfdRead(efdB)).toBe(-EAGAIN);

    // close A: frees the arrays fd B is using; B keeps its dangling pointer and counts
    const regionKva = vdev.regionKva;
    const leakedBefore = kmem.allocated;
    expect(u.call('close', [a])).toBe(0);
    expect(kmem.allocated).toBeLessThan(leakedBefore);
    expect(u.deviceInfo(b)).toMatchObject({ ret: 0, numRegions: 1, numIrqs: 5 });
    // GET_REGION_INFO reads the freed object: the bytes the heap holds there now
    const r = u.regionInfo(b, 0);
    expect(r.ret).toBe(0);
    expect([...r.raw.subarray(24, 32)]).toEqual([...kmem.readBytes(regionKva, 8)]);
    expect([...r.raw.subarray(16, 24)]).toEqual([...kmem.readBytes(regionKva + 8, 8)]);
    expect(vdev.regionKva).toBe(regionKva);

    // close B (its mapping holds the file too): the same arrays are freed a second time
    unmapDevice(u);
    expect(u.call('close', [b])).toBe(0);
    expect(sys.kernel.log.grep(/Object already free: kfree\(0x[0-9a-f]+\) of the region array of 2c0a0000\.dma \(double free\)/)).toHaveLength(1);
    expect(sys.kernel.log.grep(/Object already free: kfree\(0x[0-9a-f]+\) of the irq array of 2c0a0000\.dma/)).toHaveLength(1);
    // the first open's handler is never freed: the line still has its action with no fd left
    expect(sys.irq.descOf(virq)!.actions.map((x) => x.name)).toEqual([`vfio-irq[${virq}](${PL330})`]);
    // the machine runs on: the device can be opened again (fresh arrays)
    const device = u.ioctl(group, VFIO_GROUP_GET_DEVICE_FD, u.str(PL330));
    expect(device).toBeGreaterThanOrEqual(0);
    expect(u.regionInfo(device, 0)).toMatchObject({ ret: 0, size: 0x1000n, offset: BigInt(PL330_BASE) });
  });

  it('rfc-v4: a trigger set after the other fd closed gets a name kasprintf puts in the freed region array, so the last close frees the name twice: logged (slub_debug), not an Oops', () => {
    // the fuzzer's former oops:exit: set-up, a second GET_DEVICE_FD, close it, SET_IRQS on the first
    const sys = new System({ profile: 'rfc-v4' });
    const u = new User(sys);
    expect(bindToVfio(u, PL330)).toBe(PL330.length + 1);
    const { group, device: a } = openDevice(u, PL330);
    const efd = u.call('eventfd2', [0, EFD_NONBLOCK]);
    const b = u.ioctl(group, VFIO_GROUP_GET_DEVICE_FD, u.str(PL330));
    const vdev = vfioDriverOf(sys).devices.values().next().value!;
    const regionKva = vdev.regionKva;
    expect(u.call('close', [b])).toBe(0);
    expect(u.setIrqs(a, TRIG, 0, 0, 1, { fd: efd })).toBe(0);
    // the name object is the slot the region array had (lowest free slot of its size class)
    expect(vdev.irqs[0]!.nameKva).toBe(regionKva);
    // the release: kfree(vdev->region) frees the name, vfio_set_trigger(-1)'s kfree(irq->name) frees it again
    expect(u.call('close', [a])).toBe(0);
    expect(sys.kernel.log.grep(/Object already free: kfree\(0x[0-9a-f]+\) of irq->name of 2c0a0000\.dma irq 0 \(double free\)/)).toHaveLength(1);
    expect(sys.kernel.log.grep(/Unable to handle kernel/)).toHaveLength(0);
  });

  it('mainline: opens are counted; the arrays live until the last close and nothing leaks', () => {
    const { sys, u, a, b, efdA, allocBefore } = boot('mainline');
    const kmem = sys.kernel.mm.kmem;
    // the trigger set through A is visible through B: one state
    expect(vfioDriverOf(sys).inspect()[0]!.irqs[0]!.trigger).toBe(true);
    expect(u.call('close', [a])).toBe(0);
    sevVia(u, b, 0);
    sys.machine.scheduler.runUntil(sys.now + 20_000);
        expect(u.eventfdRead(efdA)).toBe(1);
    expect(u.regionInfo(b, 0)).toMatchObject({ ret: 0, size: 0x1000n, offset: 0n });
    unmapDevice(u);
    expect(u.call('close', [b])).toBe(0);
    expect(kmem.allocated).toBe(allocBefore);
    expect(sys.kernel.log.grep(/Object already free/)).toHaveLength(0);
  });
});
