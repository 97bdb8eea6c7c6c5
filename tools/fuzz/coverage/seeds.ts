/**
 * The guided mode's seed corpus (SEEDS), kept apart from the campaign's mutation and
 * scheduling code (campaign.ts). docs/FUZZING.md "Coverage-guided fuzzing" lists them.
 */
import { IOMMUFD_PREFIX } from '../arb-iommufd.js';
import { SECOND_GROUP, SETUP_PREFIX } from '../arb.js';
import { DEVICE, DEVICE2 } from '../harness.js';
import { CDEV_REQS, IOMMUFD_REQS, IOMMUFD_STRUCTS, type IommufdStructName } from '../program-iommufd.js';
import { VFIO_REQS, type Call, type FdKind, type FdRef, type Value } from '../program.js';

const R = VFIO_REQS;
const dev0Map: Call = { op: 'mmap', p: 0, fd: { k: 'device', i: 0 }, len: 0x1000, prot: 3, flags: 1, off: { region: 0, off: 0 } };
const dev1Map: Call = { op: 'mmap', p: 0, fd: { k: 'device', i: 1 }, len: 0x1000, prot: 3, flags: 1, off: { region: 0, off: 0 } };
const mapDma = (dma: number, iova: number, pages: number): Call => ({ op: 'ioctl', p: 0, fd: { k: 'container', i: 0 }, req: R.VFIO_IOMMU_MAP_DMA, arg: { t: 'struct', type: 'vfio_iommu_type1_dma_map', fields: { argsz: 32, flags: 3, vaddr: { dma }, iova, size: pages * 0x1000 }, ptr: 'ok' } });
const efd: Call = { op: 'eventfd', p: 0, init: 0, flags: 0o4000 };
const irqTrigger = (dev: number): Call => ({ op: 'ioctl', p: 0, fd: { k: 'device', i: dev }, req: R.VFIO_DEVICE_SET_IRQS, arg: { t: 'struct', type: 'vfio_irq_set', fields: { argsz: 24, flags: 4 | 32, index: 0, start: 0, count: 1 }, tail: [{ fd: { k: 'eventfd', i: 0 } }], ptr: 'ok' } });

const mmio = (off: number, value: number, map = 0): Call => ({ op: 'mmio', p: 0, map, off, width: 4, write: true, value });
const mmioRd = (off: number, map = 0): Call => ({ op: 'mmio', p: 0, map, off, width: 4, write: false, value: 0 });
/** a test-dma copy of len bytes from IOVA src to dst (registers SRC, DST, LEN, CTRL: devices/testdev/test-dma.ts) */
const copy = (src: number, dst: number, len: number, map = 0): Call[] => [mmio(0, src, map), mmio(4, dst, map), mmio(8, len, map), mmio(0xc, 1, map)];
const echo = (path: string, value: string, p = 0): Call => ({ op: 'echo', p, path, value });
const PD = '/sys/bus/platform';
const run = (ns: number): Call => ({ op: 'run', ns });

/** VFIO_IRQ_SET_* (include/uapi/linux/vfio.h) */
const DATA_NONE = 1, DATA_BOOL = 2, DATA_EVENTFD = 4, ACTION_MASK = 8, ACTION_UNMASK = 16, ACTION_TRIGGER = 32;
/** VFIO_DEVICE_SET_IRQS on device `dev`, irq `index`: no payload, a bool or an eventfd (fd: eventfd i, or a raw fd such as -1) */
const setIrqs = (dev: number, flags: number, data?: number | { efd: number }, count = 1, index = 0): Call => ({
  op: 'ioctl',
  p: 0,
  fd: { k: 'device', i: dev },
  req: R.VFIO_DEVICE_SET_IRQS,
  arg: { t: 'struct', type: 'vfio_irq_set', fields: { argsz: data === undefined ? 20 : 24, flags, index, start: 0, count }, ...(data === undefined ? {} : { tail: [typeof data === 'number' ? data : { fd: { k: 'eventfd', i: data.efd } }] }), ptr: 'ok' },
});
const readEfd = (i = 0, p = 0): Call => ({ op: 'read', p, fd: { k: 'eventfd', i }, count: 8, ptr: 'ok' });
const pollEfd = (i = 0): Call => ({ op: 'poll', p: 0, fds: [{ k: 'eventfd', i }, { k: 'device', i: 0 }], events: 5 });
const unmapDma = (iova: number, pages: number, c = 0, p = 0): Call => ({ op: 'ioctl', p, fd: { k: 'container', i: c }, req: R.VFIO_IOMMU_UNMAP_DMA, arg: { t: 'struct', type: 'vfio_iommu_type1_dma_unmap', fields: { argsz: 24, flags: 0, iova, size: pages * 0x1000 }, ptr: 'ok' } });
const mapDmaOn = (c: number, dma: number, iova: number, pages: number, flags = 3, p = 0): Call => ({ op: 'ioctl', p, fd: { k: 'container', i: c }, req: R.VFIO_IOMMU_MAP_DMA, arg: { t: 'struct', type: 'vfio_iommu_type1_dma_map', fields: { argsz: 32, flags, vaddr: { dma }, iova, size: pages * 0x1000 }, ptr: 'ok' } });
const devIoctl = (dev: number, req: number, type: 'vfio_device_info' | 'vfio_region_info' | 'vfio_irq_info', index = 0): Call => ({
  op: 'ioctl',
  p: 0,
  fd: { k: 'device', i: dev },
  req,
  arg: { t: 'struct', type, fields: type === 'vfio_device_info' ? { argsz: 16, flags: 0, num_regions: 0, num_irqs: 0 } : type === 'vfio_region_info' ? { argsz: 32, flags: 0, index, resv: 0, size: 0, offset: 0 } : { argsz: 16, flags: 0, index, count: 0 }, ptr: 'ok' },
});
const close = (k: FdKind, i = 0, p = 0): Call => ({ op: 'close', p, fd: { k, i } });
const open = (path: string, p = 0, flags = 2): Call => ({ op: 'open', p, path, flags });
/** P1 reads a file: open read-only (its fd 0: P1 holds no other fd), read, close */
const cat = (path: string, count = 0x1000): Call[] => [open(path, 1, 0), { op: 'read', p: 1, fd: { k: 'any', i: 0 }, count, ptr: 'ok' }, close('any', 0, 1)];
/** the scratch buffer of every fuzz process (harness newSlot: its first mmap2); `open` leaves the path at its start */
export const SCRATCH = 0x40000000;
/** the DMA area of every fuzz process (harness newSlot: its third mmap2, after the scratch and the read-only pages) */
export const DMA_AREA = SCRATCH + 0x4000;
const raw = (nr: number, args: number[], p = 1): Call => ({ op: 'raw', p, nr, args: [...args, 0, 0, 0, 0, 0, 0].slice(0, 6) });
/** readlink(path) by P1 (the path goes to the scratch through an open that may fail) */
const readlink = (path: string): Call[] => [open(path, 1, 0), raw(85, [SCRATCH, SCRATCH + 0x400, 0x100]), close('any', 0, 1)];
/** getdents64 of a directory by P1 (O_DIRECTORY; its fd `fd`: P1's fds are its own), then lseek to 0 and again */
const ls = (path: string, fd = 0): Call[] => [open(path, 1, 0o40000), raw(217, [fd, SCRATCH + 0x400, 0x800]), raw(19, [fd, 0, 0]), raw(217, [fd, SCRATCH + 0x400, 0x40]), raw(217, [fd, SCRATCH + 0x400, 0x800]), close('any', fd, 1)];
/**
 * a PL330 debug instruction for the manager thread: DBGINST0 (bytes 0-1 of the instruction in
 * bits 16-31), DBGINST1 (bytes 2-5), then DBGCMD = 0 executes it (the PL330 TRM's debug
 * registers; devices/pl330/assembler.ts debugInst builds the same words)
 */
const pl330Dbg = (b0: number, b1: number, inst1: number, map = 0): Call[] => [mmio(0xd08, ((b0 << 16) | (b1 << 24)) >>> 0, map), mmio(0xd0c, inst1, map), mmio(0xd04, 0, map)];

/**
 * The seed corpus: state-building programs (as syzkaller's seed programs or AFL's input
 * directory) that a random draw rarely assembles in one run: the set-up alone, two groups
 * and two devices in one container, mappings of both devices' registers and of DMA pages,
 * interrupts routed to eventfds and made to fire (test-dma completions, the PL330's DMASEV
 * through its debug interface, loopbacks) with what follows them (poll, read, mask, unmask,
 * disable), stall-mode context faults, region access at valid offsets, type1 mappings that
 * merge and split, two containers, release in several orders, a process exiting with
 * everything held, other processes and their limits, sysfs/procfs/tmpfs reads and raw
 * syscalls with meaningful pointers, and each device handed back from VFIO to its host
 * driver and back (dma-pl330 on the platform or AMBA bus, test-dma) by bind, vfio_bind and
 * driver_override + drivers_probe. The guided mode mutates and extends them like any entry;
 * random mode does not get them (that is the comparison of the benchmark). Every seed runs
 * clean in both eras (seeds.test.ts).
 */
export interface Seed {
  /** the set-up prefix: SETUP_PREFIX.slice(0, n) */
  n: number;
  calls: Call[];
  /** errnos the seed provokes on purpose (seeds.test.ts; paths of the other era fail with ENOENT/ENODEV besides) */
  fails?: readonly string[];
}

export const SEEDS: readonly Seed[] = [
  { n: SETUP_PREFIX.length, calls: [] },
  { n: SETUP_PREFIX.length, calls: [...SECOND_GROUP] },
  { n: SETUP_PREFIX.length, calls: [...SECOND_GROUP, mapDma(0, 0x10000, 2), dev0Map, dev1Map] },
  { n: SETUP_PREFIX.length, calls: [mapDma(0, 0, 4), dev0Map, efd, irqTrigger(0)] },
  { n: SETUP_PREFIX.length, calls: [...SECOND_GROUP, mapDma(2, 0x20000, 4), efd, irqTrigger(1), dev1Map] },
  // test-dma copies through the SMMU: inside the mapping, then to an unmapped IOVA (a context fault)
  { n: SETUP_PREFIX.length, calls: [...SECOND_GROUP, mapDma(0, 0x10000, 2), dev1Map, efd, irqTrigger(1), ...copy(0x10000, 0x11000, 0x40), { op: 'run', ns: 100_000 }, ...copy(0x10000, 0x40000, 0x40), { op: 'run', ns: 100_000 }] },
  { n: 0, calls: [echo(`${PD}/drivers/vfio-platform/unbind`, DEVICE), echo(`${PD}/drivers/dma-pl330/bind`, DEVICE)] },
  { n: 0, calls: [echo('/sys/bus/amba/drivers/vfio-amba/unbind', DEVICE), echo('/sys/bus/amba/devices/2c0a0000.dma/driver_override', 'dma-pl330'), echo('/sys/bus/amba/drivers_probe', DEVICE)] },
  { n: 0, calls: [echo('/sys/bus/amba/drivers/vfio-amba/unbind', DEVICE), echo('/sys/bus/amba/drivers/dma-pl330/bind', DEVICE)] },
  { n: 0, calls: [echo(`${PD}/drivers/vfio-platform/unbind`, DEVICE2), echo(`${PD}/drivers/test-dma/bind`, DEVICE2)] },
  { n: 0, calls: [echo(`${PD}/drivers/vfio-platform/unbind`, DEVICE2), echo(`${PD}/devices/${DEVICE2}/driver_override`, 'test-dma'), echo(`${PD}/drivers_probe`, DEVICE2)] },
  // --- interrupts that fire (test-dma's level interrupt on completion) and what follows them
  // copy done -> handler automasks, signals the eventfd; read and poll it; clear DONE, unmask, again
  { n: SETUP_PREFIX.length, calls: [...SECOND_GROUP, mapDma(0, 0x10000, 4), dev1Map, efd, irqTrigger(1), ...copy(0x10000, 0x12000, 0x1800), run(200_000), pollEfd(), readEfd(), mmioRd(0x10), mmioRd(0x1c), mmio(0x10, 2), setIrqs(1, DATA_NONE | ACTION_UNMASK), ...copy(0x12000, 0x10000, 0x100), run(200_000), readEfd(), pollEfd()] },
  // mask / unmask by bool and none, loopback by bool and none, then disable (count 0, eventfd -1)
  { n: SETUP_PREFIX.length, calls: [efd, irqTrigger(0), setIrqs(0, DATA_BOOL | ACTION_TRIGGER, 1), readEfd(), setIrqs(0, DATA_NONE | ACTION_UNMASK), setIrqs(0, DATA_NONE | ACTION_TRIGGER), setIrqs(0, DATA_BOOL | ACTION_UNMASK, 1), setIrqs(0, DATA_NONE | ACTION_MASK), setIrqs(0, DATA_BOOL | ACTION_MASK, 1), setIrqs(0, DATA_NONE | ACTION_UNMASK), setIrqs(0, DATA_EVENTFD | ACTION_TRIGGER, -1), setIrqs(0, DATA_NONE | ACTION_TRIGGER, undefined, 0)] },
  // a trigger replaced by another eventfd, the first one closed; the device closed with its trigger set
  { n: SETUP_PREFIX.length, calls: [efd, efd, irqTrigger(0), setIrqs(0, DATA_EVENTFD | ACTION_TRIGGER, { efd: 1 }), close('eventfd', 0), setIrqs(0, DATA_BOOL | ACTION_TRIGGER, 1), readEfd(0), devIoctl(0, R.VFIO_DEVICE_GET_IRQ_INFO, 'vfio_irq_info'), devIoctl(0, R.VFIO_DEVICE_GET_INFO, 'vfio_device_info'), close('device')] },
  // the PL330's interrupt from its debug interface: INTEN, DMASEV 0 by the manager; DMAGO to a zeroed mapped page (DMAEND) and to an unmapped IOVA
  { n: SETUP_PREFIX.length, calls: [mapDma(0, 0x10000, 2), dev0Map, efd, irqTrigger(0), mmio(0x20, 0xff), ...pl330Dbg(0x34, 0, 0), run(100_000), readEfd(), mmioRd(0x24), mmio(0x2c, 0xff), setIrqs(0, DATA_NONE | ACTION_UNMASK), ...pl330Dbg(0xa2, 0, 0x10000), run(100_000), mmioRd(0xd00), mmioRd(0x100), ...pl330Dbg(0xa2, 1, 0x80000), run(100_000), mmioRd(0x40), mmioRd(0x104), ...pl330Dbg(0x01, 0, 0), run(100_000)] },
  // region access at valid offsets: pread/pwrite at the start, mmap reads of the ID and status registers, munmap
  { n: SETUP_PREFIX.length, calls: [...SECOND_GROUP, devIoctl(0, R.VFIO_DEVICE_GET_REGION_INFO, 'vfio_region_info'), devIoctl(1, R.VFIO_DEVICE_GET_REGION_INFO, 'vfio_region_info'), { op: 'pread', p: 0, fd: { k: 'device', i: 0 }, off: { region: 0, off: 0 }, count: 4, ptr: 'ok' }, { op: 'pwrite', p: 0, fd: { k: 'device', i: 1 }, off: { region: 0, off: 0 }, count: 4, ptr: 'ok' }, { op: 'pread', p: 0, fd: { k: 'device', i: 1 }, off: { region: 0, off: 0 }, count: 4, ptr: 'ok' }, dev1Map, dev0Map, mmioRd(0x18, 0), mmioRd(0x10, 0), mmioRd(0xfe0, 1), mmioRd(0xe00, 1), { op: 'munmap', p: 0, map: 0, len: 0x1000 }, { op: 'munmap', p: 0, map: 0, len: 0x1000 }] },
  // --- type1: mappings that merge, split, trim; unmap of parts, of holes, of everything
  { fails: ['EEXIST'], n: SETUP_PREFIX.length, calls: [mapDma(0, 0x10000, 2), mapDma(2, 0x12000, 2), mapDma(4, 0xe000, 2), unmapDma(0x11000, 1), unmapDma(0x13000, 2), unmapDma(0xe000, 1), mapDma(1, 0x11000, 1), mapDma(0, 0x10000, 1), unmapDma(0x20000, 4), unmapDma(0, 0x100), mapDma(8, 0x40000, 8), unmapDma(0x42000, 2), unmapDma(0x40000, 8)] },
  // read-only and exec mappings, an IOMMU info query, the same pages at two IOVAs
  { fails: ['EINVAL'], n: SETUP_PREFIX.length, calls: [mapDmaOn(0, 0, 0x10000, 1, 1), mapDmaOn(0, 1, 0x30000, 1, 7), mapDmaOn(0, 0, 0x40000, 2, 3), { op: 'ioctl', p: 0, fd: { k: 'container', i: 0 }, req: R.VFIO_IOMMU_GET_INFO, arg: { t: 'struct', type: 'vfio_iommu_type1_info', fields: { argsz: 16, flags: 0, iova_pgsizes: 0 }, ptr: 'ok' } }, unmapDma(0, 0x80)] },
  // two containers: the second group in a container of its own, both mapped, test-dma copying in it; unset and close in turn
  { fails: ['EBUSY'], n: SETUP_PREFIX.length, calls: [mapDma(0, 0x10000, 2), open('/dev/vfio/vfio'), open('/dev/vfio/1'), { op: 'ioctl', p: 0, fd: { k: 'group', i: 1 }, req: R.VFIO_GROUP_SET_CONTAINER, arg: { t: 'struct', type: 'int32', fields: { v: { fd: { k: 'container', i: 1 } } }, ptr: 'ok' } }, { op: 'ioctl', p: 0, fd: { k: 'container', i: 1 }, req: R.VFIO_SET_IOMMU, arg: { t: 'int', v: 1 } }, mapDmaOn(1, 4, 0x10000, 2), { op: 'ioctl', p: 0, fd: { k: 'group', i: 1 }, req: R.VFIO_GROUP_GET_DEVICE_FD, arg: { t: 'str', s: DEVICE2, nul: true, ptr: 'ok' } }, dev1Map, ...copy(0x10000, 0x11000, 0x40), run(100_000), mmioRd(0x10), { op: 'ioctl', p: 0, fd: { k: 'group', i: 0 }, req: R.VFIO_GROUP_UNSET_CONTAINER, arg: { t: 'int', v: 0 } }, close('device', 1), { op: 'ioctl', p: 0, fd: { k: 'group', i: 1 }, req: R.VFIO_GROUP_UNSET_CONTAINER, arg: { t: 'int', v: 0 } }, close('container', 1), close('group', 1)] },
  // release in another order: container first, then the group, the device last (its mapping still held), then a reopen
  { n: SETUP_PREFIX.length, calls: [...SECOND_GROUP, mapDma(0, 0x10000, 4), dev0Map, efd, irqTrigger(0), close('container'), close('group', 0), close('group', 0), { op: 'munmap', p: 0, map: 0, len: 0x1000 }, close('device', 0), close('device', 0), open('/dev/vfio/0'), open('/dev/vfio/vfio'), { op: 'ioctl', p: 0, fd: { k: 'group', i: 0 }, req: R.VFIO_GROUP_GET_STATUS, arg: { t: 'struct', type: 'vfio_group_status', fields: { argsz: 8, flags: 0 }, ptr: 'ok' } }] },
  // the process exits holding everything (fds, mappings, a DMA mapping, an armed interrupt); reset
  { fails: ['EINVAL'], n: SETUP_PREFIX.length, calls: [...SECOND_GROUP, mapDma(0, 0x10000, 4), dev1Map, efd, irqTrigger(1), { op: 'ioctl', p: 0, fd: { k: 'device', i: 0 }, req: R.VFIO_DEVICE_RESET, arg: { t: 'int', v: 0 } }, ...copy(0x10000, 0x11000, 0x40), { op: 'exit', p: 0 }, run(100_000), open('/dev/vfio/vfio'), open('/dev/vfio/1')] },
  // other processes: P1 (no CAP_IPC_LOCK, 64 KiB memlock) maps past its limit; P2 (a user) opens the nodes; P1 opens a group P0 holds
  { fails: ['ENOMEM', 'EBUSY', 'EACCES'], n: SETUP_PREFIX.length, calls: [open('/dev/vfio/vfio', 1), open('/dev/vfio/1', 1), { op: 'ioctl', p: 1, fd: { k: 'group', i: 0 }, req: R.VFIO_GROUP_SET_CONTAINER, arg: { t: 'struct', type: 'int32', fields: { v: { fd: { k: 'container', i: 0 } } }, ptr: 'ok' } }, { op: 'ioctl', p: 1, fd: { k: 'container', i: 0 }, req: R.VFIO_SET_IOMMU, arg: { t: 'int', v: 1 } }, mapDmaOn(0, 0, 0x10000, 8, 3, 1), mapDmaOn(0, 8, 0x20000, 8, 3, 1), mapDmaOn(0, 0, 0x30000, 16, 3, 1), open('/dev/vfio/0', 1), open('/dev/vfio/vfio', 2), open('/dev/vfio/1', 2), { op: 'exit', p: 1 }] },
  // a fork: P1 becomes P0's child, holding its container, group and device; the child maps and unmaps pages of its
  // own in the shared container and closes its copy of the device fd, the parent unmaps its own; the parent closes
  // everything, and the child's exit releases the container (each process uncharges what it mapped: clean in both eras)
  { n: SETUP_PREFIX.length, calls: [mapDma(0, 0x10000, 4), { op: 'fork', p: 0, into: 1 }, mapDmaOn(0, 4, 0x20000, 4, 3, 1), unmapDma(0x20000, 4, 0, 1), close('device', 0, 1), unmapDma(0x10000, 4), close('device'), close('group'), close('container'), { op: 'exit', p: 1 }] },
  // stall-mode context faults: copies to unmapped IOVAs, a read fault, a fault during a later chunk; the status and fault address read
  { n: SETUP_PREFIX.length, calls: [...SECOND_GROUP, mapDma(0, 0x10000, 2), dev1Map, efd, irqTrigger(1), ...copy(0x10000, 0x11800, 0x1000), run(100_000), mmioRd(0x10), mmioRd(0x14), mmio(0x10, 4), setIrqs(1, DATA_NONE | ACTION_UNMASK), ...copy(0x50000, 0x10000, 0x40), run(100_000), mmioRd(0x14), mmio(0x10, 6), ...copy(0x10000, 0x60000, 0x40), ...copy(0x10000, 0x11000, 0x40), run(1_000_000), readEfd()] },
  // --- sysfs and procfs, read by P1: attributes, links (readlink), directories (getdents64)
  { fails: ['EBADF'], n: 0, calls: [...cat(`${PD}/devices/${DEVICE}/modalias`), ...cat(`${PD}/devices/${DEVICE}/uevent`), ...cat(`${PD}/devices/${DEVICE2}/modalias`), ...cat('/proc/interrupts'), ...cat('/proc/interrupts', 0x40), ...cat(`${PD}/devices/${DEVICE}/driver_override`), ...readlink(`${PD}/devices/${DEVICE}/driver`), ...readlink(`${PD}/devices/${DEVICE}/iommu_group`), ...readlink(`${PD}/devices/${DEVICE2}/subsystem`), ...ls(`${PD}/devices`), ...ls(`${PD}/drivers/vfio-platform`), ...ls('/sys/kernel/iommu_groups/0/devices'), ...ls('/dev/vfio'), ...ls('/proc')] },
  // raw syscalls with meaningful arguments: mprotect of the DMA area, nanosleep/select/poll with zero timeouts, getpid, eventfd, lseek
  // (of the device fd: -ESPIPE, vfio_device_fops has no llseek)
  { fails: ['EINVAL', 'ESPIPE'], n: SETUP_PREFIX.length, calls: [raw(125, [SCRATCH + 0x4000, 0x2000, 1], 0), raw(125, [SCRATCH + 0x4000, 0x2000, 3], 0), raw(20, [], 0), raw(162, [SCRATCH + 0x2000, 0], 0), raw(142, [0, 0, 0, 0, SCRATCH + 0x2000], 0), raw(168, [SCRATCH + 0x2000, 0, 0], 0), raw(356, [3, 0o4000], 0), raw(3, [3, SCRATCH, 8], 0), raw(4, [3, SCRATCH + 0x2000, 8], 0), raw(19, [2, 0, 0], 0), raw(19, [2, 0, 1], 0), raw(180, [2, SCRATCH, 4, 0, 0x2c0a0000, 0], 0), raw(192, [0, 0x1000, 3, 1, 2, 0x2c0a0], 0), raw(91, [SCRATCH + 0x4000, 0x1000], 0), raw(54, [2, R.VFIO_DEVICE_GET_INFO, SCRATCH], 0)] },
  // --- the host drivers: unbind from VFIO, bind, unbind, back to VFIO by vfio_bind (2014) or driver_override (mainline)
  { n: 0, calls: [echo(`${PD}/drivers/vfio-platform/unbind`, DEVICE2), echo(`${PD}/drivers/test-dma/bind`, DEVICE2), ...cat(`${PD}/devices/${DEVICE2}/uevent`), echo(`${PD}/drivers/test-dma/unbind`, DEVICE2), echo(`${PD}/drivers/vfio-platform/vfio_bind`, DEVICE2), echo(`${PD}/drivers_probe`, DEVICE2), open('/dev/vfio/1'), echo(`${PD}/drivers/vfio-platform/unbind`, DEVICE), echo(`${PD}/drivers/dma-pl330/bind`, DEVICE), echo(`${PD}/drivers/dma-pl330/bind`, DEVICE), echo(`${PD}/drivers/dma-pl330/unbind`, DEVICE), echo(`${PD}/drivers/vfio-platform/vfio_bind`, DEVICE), echo(`${PD}/drivers/vfio-platform/bind`, DEVICE), open('/dev/vfio/0')] },
  // a device unbound from VFIO while its group is open (and in a container), then bound back
  { n: SETUP_PREFIX.length, calls: [close('device'), echo(`${PD}/drivers/vfio-platform/unbind`, DEVICE), { op: 'ioctl', p: 0, fd: { k: 'group', i: 0 }, req: R.VFIO_GROUP_GET_STATUS, arg: { t: 'struct', type: 'vfio_group_status', fields: { argsz: 8, flags: 0 }, ptr: 'ok' } }, echo(`${PD}/drivers/vfio-platform/vfio_bind`, DEVICE), echo(`${PD}/devices/${DEVICE}/driver_override`, 'vfio-platform'), echo(`${PD}/drivers_probe`, DEVICE), { op: 'ioctl', p: 0, fd: { k: 'group', i: 0 }, req: R.VFIO_GROUP_GET_DEVICE_FD, arg: { t: 'str', s: DEVICE, nul: true, ptr: 'ok' } }] },
  // --- files, eventfds and waiting: a tmpfs file written, read, appended, truncated; /tmp listed
  { n: 0, calls: [open('/tmp/f', 1, 0o102), { op: 'write', p: 1, fd: { k: 'any', i: 0 }, count: 8, ptr: 'ok' }, raw(19, [0, 0, 0]), { op: 'read', p: 1, fd: { k: 'any', i: 0 }, count: 0x100, ptr: 'ok' }, { op: 'pwrite', p: 1, fd: { k: 'any', i: 0 }, off: { raw: '0x1000' }, count: 0x40, ptr: 'ok' }, { op: 'pread', p: 1, fd: { k: 'any', i: 0 }, off: { raw: '0x0' }, count: 0x2000, ptr: 'ok' }, open('/tmp/f', 1, 0o2001), { op: 'write', p: 1, fd: { k: 'any', i: 1 }, count: 8, ptr: 'ok' }, open('/tmp/f', 1, 0o1002), { op: 'read', p: 1, fd: { k: 'any', i: 0 }, count: 0x100, ptr: 'ok' }, ...ls('/tmp', 3), close('any', 0, 1), close('any', 0, 1), close('any', 0, 1), open('/tmp/g', 1, 0o101), open('/tmp', 1, 0o40000)] },
  // select(2) over the VFIO fds and two eventfds (the fd_set bytes come from the path an open leaves in the scratch; a zeroed timeval), poll over every kind
  { fails: ['EBADF', 'EINVAL'], n: SETUP_PREFIX.length, calls: [efd, { op: 'eventfd', p: 0, init: 3, flags: 0o4001 }, { op: 'efd_write', p: 0, fd: { k: 'eventfd', i: 0 }, value: '1' }, open('\x1f', 0, 0), raw(142, [5, SCRATCH, SCRATCH, 0, SCRATCH + 0x2000], 0), open('\x1f', 0, 0), raw(142, [5, SCRATCH, 0, SCRATCH, SCRATCH + 0x2000], 0), open('\x01\x01\x01\x01\x01\x01\x01\x10', 0, 0), raw(142, [64, SCRATCH, 0, 0, SCRATCH + 0x2000], 0), raw(142, [0x7fffffff, 0, 0, 0, SCRATCH + 0x2000], 0), { op: 'poll', p: 0, fds: [{ raw: -1 }, { k: 'group', i: 0 }, { k: 'container', i: 0 }, { k: 'eventfd', i: 1 }, { raw: 60 }], events: 0xffff }, readEfd(1), readEfd(1), readEfd(1), readEfd(0), { op: 'efd_write', p: 0, fd: { k: 'eventfd', i: 0 }, value: '0xfffffffffffffffe' }, pollEfd(0), readEfd(0), pollEfd(0), raw(162, [SCRATCH + 0x2000, SCRATCH + 0x2010], 0), raw(168, [SCRATCH, 0x100000, 0], 0)] },
  // madvise on the DMA area around type1 pins (mm/madvise.c; raw calls: the stale-page check is off for the run):
  // DONTFORK before a fork (the child's MAP_DMA of that page -EFAULT), DONTNEED of pinned pages and a store there
  // (the device keeps the pinned frames), WIPEONFORK and POPULATE_WRITE (mainline; 3.14 -EINVAL), unknown advice,
  // an unaligned start, a range past the area (-ENOMEM)
  { fails: ['EINVAL', 'ENOMEM', 'EFAULT'], n: SETUP_PREFIX.length, calls: [mapDma(0, 0x10000, 4), raw(220, [DMA_AREA, 0x2000, 10], 0), { op: 'fork', p: 0, into: 1 }, mapDmaOn(0, 0, 0x40000, 1, 3, 1), mapDmaOn(0, 2, 0x50000, 1, 3, 1), raw(220, [DMA_AREA + 0x2000, 0x2000, 4], 0), { op: 'store', p: 0, page: 2, off: 0, value: 0x5a5a }, raw(220, [DMA_AREA + 0x4000, 0x1000, 18], 0), raw(220, [DMA_AREA + 0x5000, 0x2000, 23], 0), raw(220, [DMA_AREA, 0x1000, 99], 0), raw(220, [DMA_AREA + 1, 0x1000, 4], 0), raw(220, [DMA_AREA, 0x20000, 0], 0), unmapDma(0x10000, 4), unmapDma(0x50000, 1, 0, 1)] },
];

// --- the cdev + iommufd API (profiles with /dev/iommu: caps.iommufd, arb.ts iommufdOf)
const I = IOMMUFD_REQS;
const CD = CDEV_REQS;
/** the prefix number of the whole cdev + iommufd happy path (arb.ts prefixOf): device id 1, IOAS 2, its auto HWPT 3, 4 pages mapped at 0x100000 */
export const IOMMUFD_FULL = SETUP_PREFIX.length + 1 + IOMMUFD_PREFIX.length;
const ifd = (i = 0): FdRef => ({ k: 'iommufd', i });
/** the request each struct goes with (include/uapi/linux/iommufd.h, vfio.h) */
const REQ_OF: Record<IommufdStructName, number> = {
  iommu_destroy: I.IOMMU_DESTROY, iommu_ioas_alloc: I.IOMMU_IOAS_ALLOC, iommu_ioas_allow_iovas: I.IOMMU_IOAS_ALLOW_IOVAS, iommu_ioas_copy: I.IOMMU_IOAS_COPY,
  iommu_ioas_iova_ranges: I.IOMMU_IOAS_IOVA_RANGES, iommu_ioas_map: I.IOMMU_IOAS_MAP, iommu_ioas_unmap: I.IOMMU_IOAS_UNMAP, iommu_option: I.IOMMU_OPTION,
  iommu_hwpt_alloc: I.IOMMU_HWPT_ALLOC, iommu_hw_info: I.IOMMU_GET_HW_INFO, iommu_fault_alloc: I.IOMMU_FAULT_QUEUE_ALLOC, iommu_vfio_ioas: I.IOMMU_VFIO_IOAS,
  iommu_hwpt_set_dirty_tracking: I.IOMMU_HWPT_SET_DIRTY_TRACKING, iommu_hwpt_get_dirty_bitmap: I.IOMMU_HWPT_GET_DIRTY_BITMAP, iommu_hwpt_invalidate: I.IOMMU_HWPT_INVALIDATE,
  vfio_device_bind_iommufd: CD.VFIO_DEVICE_BIND_IOMMUFD, vfio_device_attach_iommufd_pt: CD.VFIO_DEVICE_ATTACH_IOMMUFD_PT, vfio_device_detach_iommufd_pt: CD.VFIO_DEVICE_DETACH_IOMMUFD_PT,
};
/** an iommufd/cdev ioctl with struct `type` (argsz: its minsz; a HWPT_ALLOC up to fault_id, 44) */
const iof = (type: IommufdStructName, fields: Record<string, Value>, p = 0, fd = ifd()): Call =>
  ({ op: 'ioctl', p, fd, req: REQ_OF[type], arg: { t: 'struct', type, fields: { argsz: type === 'iommu_hwpt_alloc' ? 44 : IOMMUFD_STRUCTS[type].minsz, ...fields }, ptr: 'ok' } });
const ioasAlloc = (p = 0): Call => iof('iommu_ioas_alloc', { flags: 0, out_ioas_id: 0 }, p);
const ioasMap = (ioas: number, dma: Value, iova: number, pages: number, flags = 7, p = 0): Call => iof('iommu_ioas_map', { flags, ioas_id: ioas, reserved: 0, user_va: dma, length: pages * 0x1000, iova }, p);
const ioasUnmap = (ioas: number, iova: number | string, length: number | string, p = 0): Call => iof('iommu_ioas_unmap', { ioas_id: ioas, iova, length }, p);
const ioasCopy = (dst: number, src: number, dstIova: number, srcIova: number, length: number): Call => iof('iommu_ioas_copy', { flags: 7, dst_ioas_id: dst, src_ioas_id: src, length, dst_iova: dstIova, src_iova: srcIova });
const destroy = (id: number): Call => iof('iommu_destroy', { id });
const cdev = (dev: number): FdRef => ({ k: 'device', i: dev });
const bind = (dev: number, p = 0): Call => iof('vfio_device_bind_iommufd', { flags: 0, iommufd: { fd: ifd() }, out_devid: 0 }, p, cdev(dev));
const attach = (dev: number, pt: number, p = 0): Call => iof('vfio_device_attach_iommufd_pt', { flags: 0, pt_id: pt }, p, cdev(dev));
const detach = (dev: number): Call => iof('vfio_device_detach_iommufd_pt', { flags: 0 }, 0, cdev(dev));
const option = (id: number, op: number, object: number, val: number | string, p = 0): Call => iof('iommu_option', { option_id: id, op, object_id: object, val64: val }, p);
const hwptAlloc = (dev: number, pt: number, flags = 0, fault = 0): Call => iof('iommu_hwpt_alloc', { flags, dev_id: dev, pt_id: pt, out_hwpt_id: 0, reserved: 0, data_type: 0, data_len: 0, data_uptr: 0, fault_id: fault });
/** IOMMU_VFIO_IOAS (`op`: op in bits 0-15, __reserved above) and the VFIO container ioctls on an iommufd fd (iommufd_vfio_ioctl) */
const vfioIoas = (op: number, ioas = 0): Call => iof('iommu_vfio_ioas', { ioas_id: ioas, op });
const VIOAS_GET = 0, VIOAS_SET = 1, VIOAS_CLEAR = 2;
const ifdMap = (page: number, iova: number, pages: number): Call => ({ op: 'ioctl', p: 0, fd: ifd(), req: VFIO_REQS.VFIO_IOMMU_MAP_DMA, arg: { t: 'struct', type: 'vfio_iommu_type1_dma_map', fields: { argsz: 32, flags: 3, vaddr: { dma: page }, iova, size: pages * 0x1000 }, ptr: 'ok' } });
const ifdInfo: Call = { op: 'ioctl', p: 0, fd: ifd(), req: VFIO_REQS.VFIO_IOMMU_GET_INFO, arg: { t: 'struct', type: 'vfio_iommu_type1_info', fields: { argsz: 64, flags: 0, iova_pgsizes: 0 }, ptr: 'ok' } };
/** IOMMU_OPTION ids and ops (include/uapi/linux/iommufd.h) */
const RLIMIT_MODE = 0, HUGE_PAGES = 1, OP_SET = 0, OP_GET = 1;

/**
 * Seeds of the cdev + iommufd path, given to guided campaigns of profiles with /dev/iommu
 * (seedsFor; prefix numbers as arb.ts prefixOf: IOMMUFD_FULL is the whole happy path, ids 1
 * device, 2 IOAS, 3 its auto HWPT): IOAS queries, a second IOAS filled by IOAS_COPY, allowed
 * ranges, the options; a HWPT allocated on an empty IOAS and attached in place of the auto
 * domain, then the first IOAS attached again; test-dma bound through its cdev, its copies
 * through the IOAS (and to an IOVA not mapped: a context fault), the PL330's debug DMAGO;
 * the fault queue and its fd; the context's compat IOAS (IOMMU_VFIO_IOAS GET/SET/CLEAR, the VFIO
 * container ioctls on the iommufd fd); mappings at IOVAs the kernel picks, read-only pages, an
 * overlap, a hole and a cut (iommufd unmaps whole areas only: iopt_unmap_iova -ENOENT);
 * P1 (no CAP_IPC_LOCK) pinning past its memlock limit, which happens at attach or map time
 * (pages are pinned only for a domain); release with objects alive. Every one runs clean on
 * mainline and mainline+iommufd-compat (seeds.test.ts).
 */
export const IOMMUFD_SEEDS: readonly Seed[] = [
  { n: IOMMUFD_FULL, calls: [] },
  // queries, a second IOAS filled by copy and emptied, allowed ranges, unmap-all, the options
  {
    fails: ['EMSGSIZE', 'EBUSY'],
    n: IOMMUFD_FULL,
    calls: [
      iof('iommu_ioas_iova_ranges', { ioas_id: 2, num_iovas: 4, reserved: 0, allowed_iovas: { dma: 15 }, out_iova_alignment: 0 }),
      iof('iommu_ioas_iova_ranges', { ioas_id: 2, num_iovas: 0, reserved: 0, allowed_iovas: 0, out_iova_alignment: 0 }),
      ioasAlloc(),
      option(HUGE_PAGES, OP_SET, 4, 0),
      option(HUGE_PAGES, OP_GET, 4, 0),
      ioasCopy(4, 2, 0x200000, 0x100000, 0x4000),
      ioasUnmap(4, 0x200000, 0x4000),
      ioasCopy(4, 2, 0x300000, 0x100000, 0x4000),
      iof('iommu_ioas_allow_iovas', { ioas_id: 4, num_iovas: 0, reserved: 0, allowed_iovas: 0 }),
      ioasUnmap(4, 0, '0xffffffffffffffff'),
      destroy(4),
      option(RLIMIT_MODE, OP_GET, 0, 0),
      option(RLIMIT_MODE, OP_SET, 0, 1),
    ],
  },
  // a HWPT of its own on an empty IOAS (on an IOAS holding mappings arm-smmu's unfinalised domain refuses the
  // fill: -ENODEV), attached in place of the auto domain and mapped; detached; the first IOAS attached again
  {
    fails: ['EBUSY'],
    n: IOMMUFD_FULL,
    calls: [
      iof('iommu_hw_info', { flags: 0, dev_id: 1, data_len: 64, data_uptr: { dma: 1 }, out_data_type: 0, reserved: 0, out_capabilities: 0 }),
      ioasAlloc(),
      hwptAlloc(1, 4),
      attach(0, 5),
      ioasMap(4, { dma: 4 }, 0x100000, 2),
      destroy(5),
      detach(0),
      attach(0, 2),
      destroy(5),
      ioasUnmap(4, 0x100000, 0x2000),
      destroy(4),
      destroy(2),
    ],
  },
  // test-dma through its cdev in the same IOAS: copies inside the mapping and to an IOVA not mapped (a context
  // fault); the PL330's debug DMAGO to a zeroed mapped page (DMAEND)
  {
    n: IOMMUFD_FULL,
    calls: [
      open('/dev/vfio/devices/vfio1'),
      bind(1),
      attach(1, 2),
      dev1Map,
      ...copy(0x100000, 0x101000, 0x40),
      run(100_000),
      mmioRd(0x10),
      ...copy(0x100000, 0x500000, 0x40),
      run(100_000),
      mmioRd(0x10),
      mmioRd(0x14),
      detach(1),
      close('device', 1),
      dev0Map,
      ...pl330Dbg(0xa2, 0, 0x102000, 1),
      run(100_000),
      mmioRd(0xd00, 1),
      mmioRd(0x100, 1),
    ],
  },
  // the fault queue: its fd polled, read, written; a HWPT asking for it (arm-smmu: no fault support); closed, destroyed
  {
    fails: ['EOPNOTSUPP', 'EINVAL'],
    n: IOMMUFD_FULL,
    calls: [
      iof('iommu_fault_alloc', { flags: 0, out_fault_id: 0, out_fault_fd: 0 }),
      { op: 'poll', p: 0, fds: [{ k: 'fault', i: 0 }], events: 5 },
      { op: 'read', p: 0, fd: { k: 'fault', i: 0 }, count: 40, ptr: 'ok' },
      { op: 'write', p: 0, fd: { k: 'fault', i: 0 }, count: 8, ptr: 'ok' },
      hwptAlloc(1, 2, 4, 4),
      close('fault'),
      destroy(4),
    ],
  },
  // mappings: an IOVA the kernel picks, read-only pages, an overlap, a hole, a cut through an area, then the whole area
  {
    fails: ['EEXIST', 'ENOENT'],
    n: IOMMUFD_FULL,
    calls: [ioasMap(2, { dma: 8 }, 0, 2, 6), ioasMap(2, { ro: 0 }, 0x300000, 1, 5), ioasMap(2, { dma: 4 }, 0x102000, 1), ioasUnmap(2, 0x400000, 0x1000), ioasUnmap(2, 0x101000, 0x1000), ioasUnmap(2, 0x100000, 0x4000)],
  },
  // the compat IOAS of the context (IOMMU_VFIO_IOAS, drivers/iommu/iommufd/vfio_compat.c): none yet (GET and the VFIO
  // container ioctls -ENODEV), the device's id refused, the happy path's IOAS set and a VFIO MAP_DMA through the
  // iommufd fd into it, GET_INFO; a second IOAS set, mapped at the same IOVA, destroyed (no compat IOAS again);
  // an unknown op and a non-zero __reserved; CLEAR
  {
    fails: ['ENODEV', 'ENOENT', 'EOPNOTSUPP'],
    n: IOMMUFD_FULL,
    calls: [
      vfioIoas(VIOAS_GET), ifdMap(8, 0x200000, 1), vfioIoas(VIOAS_SET, 1), vfioIoas(VIOAS_SET, 2), vfioIoas(VIOAS_GET), ifdMap(8, 0x200000, 1), ifdInfo,
      ioasAlloc(), vfioIoas(VIOAS_SET, 4), ifdMap(9, 0x200000, 2), destroy(4), vfioIoas(VIOAS_GET), vfioIoas(3), vfioIoas(VIOAS_GET | (1 << 16)),
      vfioIoas(VIOAS_SET, 2), vfioIoas(VIOAS_CLEAR), ifdMap(10, 0x300000, 1),
    ],
  },
  // P1 (no CAP_IPC_LOCK, 64 KiB memlock): its own context in the rlimit mode it sets while empty, the device
  // bound and attached, pages pinned past the limit
  {
    fails: ['ENOMEM'],
    n: 0,
    calls: [open('/dev/iommu', 1), option(RLIMIT_MODE, OP_SET, 0, 1, 1), open('/dev/vfio/devices/vfio0', 1), bind(0, 1), ioasAlloc(1), attach(0, 2, 1), ioasMap(2, { dma: 0 }, 0x100000, 8, 7, 1), ioasMap(2, { dma: 8 }, 0x200000, 8, 7, 1), ioasMap(2, { dma: 0 }, 0x300000, 8, 7, 1), close('device', 0, 1), close('iommufd', 0, 1)],
  },
  // release with objects alive: the iommufd fd closed first (the bound device holds the context), then the
  // device; bound again in a new context
  {
    n: IOMMUFD_FULL,
    calls: [close('iommufd'), close('device'), open('/dev/iommu'), open('/dev/vfio/devices/vfio0'), bind(0), ioasAlloc(), attach(0, 2), ioasMap(2, { dma: 0 }, 0x100000, 2), close('device'), close('iommufd')],
  },
];

/** the seed corpus of a profile: SEEDS, and IOMMUFD_SEEDS where the profile has /dev/iommu */
export function seedsFor(iommufd: boolean): readonly Seed[] {
  return iommufd ? [...SEEDS, ...IOMMUFD_SEEDS] : SEEDS;
}
