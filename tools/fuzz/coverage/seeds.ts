/**
 * The guided mode's seed corpus (SEEDS), kept apart from the campaign's mutation and
 * scheduling code (campaign.ts).
 */
import { SECOND_GROUP, SETUP_PREFIX } from '../arb.js';
import { DEVICE, DEVICE2 } from '../harness.js';
import { VFIO_REQS, type Call } from '../program.js';

const R = VFIO_REQS;
const dev0Map: Call = { op: 'mmap', p: 0, fd: { k: 'device', i: 0 }, len: 0x1000, prot: 3, flags: 1, off: { region: 0, off: 0 } };
const dev1Map: Call = { op: 'mmap', p: 0, fd: { k: 'device', i: 1 }, len: 0x1000, prot: 3, flags: 1, off: { region: 0, off: 0 } };
const mapDma = (dma: number, iova: number, pages: number): Call => ({ op: 'ioctl', p: 0, fd: { k: 'container', i: 0 }, req: R.VFIO_IOMMU_MAP_DMA, arg: { t: 'struct', type: 'vfio_iommu_type1_dma_map', fields: { argsz: 32, flags: 3, vaddr: { dma }, iova, size: pages * 0x1000 }, ptr: 'ok' } });
const efd: Call = { op: 'eventfd', p: 0, init: 0, flags: 0o4000 };
const irqTrigger = (dev: number): Call => ({ op: 'ioctl', p: 0, fd: { k: 'device', i: dev }, req: R.VFIO_DEVICE_SET_IRQS, arg: { t: 'struct', type: 'vfio_irq_set', fields: { argsz: 24, flags: 4 | 32, index: 0, start: 0, count: 1 }, tail: [{ fd: { k: 'eventfd', i: 0 } }], ptr: 'ok' } });

const mmio = (off: number, value: number): Call => ({ op: 'mmio', p: 0, map: 0, off, width: 4, write: true, value });
/** a test-dma copy of len bytes from IOVA src to dst (registers SRC, DST, LEN, CTRL: devices/testdev/test-dma.ts) */
const copy = (src: number, dst: number, len: number): Call[] => [mmio(0, src), mmio(4, dst), mmio(8, len), mmio(0xc, 1)];
const echo = (path: string, value: string): Call => ({ op: 'echo', p: 0, path, value });
const PD = '/sys/bus/platform';

/**
 * The seed corpus: state-building programs (as syzkaller's seed programs or AFL's input
 * directory) that a random draw rarely assembles in one run: the set-up alone, two groups
 * and two devices in one container, mappings of both devices' registers and of DMA pages, an
 * interrupt routed to an eventfd, and (with no VFIO file open) each device handed back from
 * VFIO to its host driver (dma-pl330 on the platform or AMBA bus, test-dma), by bind and by
 * driver_override + drivers_probe. The guided mode mutates and extends them like any entry;
 * random mode does not get them (that is the comparison of the benchmark).
 */
export const SEEDS: readonly { n: number; calls: Call[] }[] = [
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
];
