/**
 * Structure-aware fast-check arbitraries for VFIO syscall programs: every ioctl argument
 * struct with argsz around minsz, known flag combinations plus unknown bits, indexes in and
 * out of range (huge ones too), eventfd payloads, device names, IOVA/vaddr/size edge values,
 * raw garbage, and calls across several processes. The field-level arbitraries (records, edge
 * values, fd references, argsz, flags, struct arguments) are arb-fields.ts's.
 */
import fc from 'fast-check';
import { HWPT_PREFIX, IOMMUFD_PREFIX, iommufdCallArb } from './arb-iommufd.js';
import { parseProfile } from '../../kernel-model/profile.js';
import { fastArb } from './fastgen.js';
import { VFIO_IOMMU_DIRTY_PAGES, VFIO_REQS, type Call, type FdKind, type IoctlArg, type Off, type Value } from './program.js';
import { argsz, DMA_PAGES, fdRef, flags, index, iova, NPROC, PAGE, pid, ptr, rec, size, struct, u32, u64hex, vaddr } from './arb-fields.js';

// the field-level building blocks are arb-fields.ts's; the ones the tests and tools use come from here too
export { DMA_PAGES, NPROC } from './arb-fields.js';

// mapping flags: READ, WRITE, bit 2 (EXEC in the series, VADDR in mainline: alone it re-supplies
// an invalidated mapping's vaddr)
const mapFlags = fc.oneof({ weight: 6, arbitrary: fc.constantFrom(3, 3, 1, 2) }, { weight: 3, arbitrary: flags([1, 2, 4]) }, { weight: 1, arbitrary: fc.constant(4) });
// unmap flags: 0, UNMAP_FLAG_ALL, VADDR and VADDR|ALL (mainline), GET_DIRTY_BITMAP combinations, anything
const unmapFlags = fc.oneof(
  { weight: 8, arbitrary: fc.constant(0) },
  { weight: 1, arbitrary: fc.constant(2) },
  { weight: 2, arbitrary: fc.constantFrom(4, 4, 6, 1, 5) },
  { weight: 1, arbitrary: u32 },
);

const EFD_DATA = 1 << 2;
const irqSetFlags = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(fc.constantFrom(1, 2, 4), fc.constantFrom(8, 16, 32)).map(([d, a]) => d | a) },
  { weight: 2, arbitrary: flags([1, 2, 4, 8, 16, 32]) },
);

const irqSet: fc.Arbitrary<IoctlArg> = rec({
    argsz: argsz(20),
    flags: irqSetFlags,
    index: fc.oneof({ weight: 6, arbitrary: fc.nat({ max: 5 }) }, { weight: 1, arbitrary: index }),
    start: fc.oneof({ weight: 8, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: u32 }),
    count: fc.oneof({ weight: 8, arbitrary: fc.nat({ max: 1 }) }, { weight: 1, arbitrary: u32 }),
    efd: fdRef('eventfd'),
    word: fc.oneof(fc.constantFrom(0, 1, 2, 0xff, -1), u32),
    ptr,
  })
  .map((r) => {
    const data: Value = (r.flags & EFD_DATA) !== 0 && r.word !== -1 ? { fd: r.efd } : r.word;
    return {
      t: 'struct',
      type: 'vfio_irq_set',
      fields: { argsz: r.argsz === 20 ? 24 : r.argsz, flags: r.flags, index: r.index, start: r.start, count: r.count },
      tail: [data],
      ptr: r.ptr,
    } satisfies IoctlArg;
  });

const deviceName = fc.oneof(
  { weight: 10, arbitrary: fc.constantFrom('2c0a0000.dma') },
  // the second device (test-dma, group 1 on the fuzzer's board): the right name on its own group, the wrong one on the PL330's
  { weight: 4, arbitrary: fc.constantFrom('2c0b0000.dma') },
  { weight: 2, arbitrary: fc.constantFrom('2c0c0000.irq', '', 'dma', '2c0a0000.dma ', '2C0A0000.DMA', '2c0a0000.dma\n') },
  { weight: 1, arbitrary: fc.string({ maxLength: 20 }) },
);

const garbage = fc.array(fc.nat({ max: 255 }), { minLength: 0, maxLength: 48 });

/** arbitrary ioctl argument for each request (a few requests get another request's struct, by design) */
function argFor(req: number): fc.Arbitrary<IoctlArg> {
  const R = VFIO_REQS;
  switch (req) {
    case R.VFIO_CHECK_EXTENSION:
    case R.VFIO_SET_IOMMU:
      return rec({ t: fc.constant('int' as const), v: fc.oneof({ weight: 6, arbitrary: fc.constantFrom(1, 3) }, { weight: 2, arbitrary: fc.constantFrom(0, 2, 4, 8, 9, 10) }, { weight: 1, arbitrary: u32 }) });
    case R.VFIO_GROUP_GET_STATUS:
      return struct('vfio_group_status', { flags: flags([1, 2]) });
    case R.VFIO_GROUP_SET_CONTAINER:
      return rec({
        t: fc.constant('struct' as const),
        type: fc.constant('int32' as const),
        fields: rec({ v: fc.oneof({ weight: 8, arbitrary: fdRef('container').map((f) => ({ fd: f }) as Value) }, { weight: 1, arbitrary: fc.constantFrom<Value>(-1, 0x7fffffff, -2147483648) }) }),
        ptr,
      });
    case R.VFIO_GROUP_GET_DEVICE_FD:
      return rec({ t: fc.constant('str' as const), s: deviceName, nul: fc.oneof({ weight: 15, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }), ptr });
    case R.VFIO_DEVICE_GET_INFO:
      return struct('vfio_device_info', { flags: u32, num_regions: u32, num_irqs: u32 });
    case R.VFIO_DEVICE_GET_REGION_INFO:
      return struct('vfio_region_info', { flags: u32, index, resv: fc.constant(0), size: fc.constant(0), offset: fc.constant(0) });
    case R.VFIO_DEVICE_GET_IRQ_INFO:
      return struct('vfio_irq_info', { flags: u32, index, count: fc.constant(0) });
    case R.VFIO_DEVICE_SET_IRQS:
      return irqSet;
    case R.VFIO_IOMMU_GET_INFO:
      return struct('vfio_iommu_type1_info', { flags: u32, iova_pgsizes: fc.constant(0) });
    case R.VFIO_IOMMU_MAP_DMA:
      return struct('vfio_iommu_type1_dma_map', { flags: mapFlags, vaddr, iova, size });
    case R.VFIO_IOMMU_UNMAP_DMA:
      return fc.oneof(
        { weight: 6, arbitrary: struct('vfio_iommu_type1_dma_unmap', { flags: unmapFlags, iova, size }) },
        // mainline VFIO_DMA_UNMAP_FLAG_ALL (alone or with VADDR) wants iova = size = 0 (vfio_dma_do_unmap)
        { weight: 1, arbitrary: struct('vfio_iommu_type1_dma_unmap', { flags: fc.constantFrom(2, 2, 6), iova: fc.constant(0), size: fc.constant(0) }) },
      );
    case VFIO_IOMMU_DIRTY_PAGES:
      return dirtyPagesArg;
    default:
      return fc.oneof(rec({ t: fc.constant('int' as const), v: u32 as fc.Arbitrary<Value> }), rec({ t: fc.constant('bytes' as const), b: garbage, ptr }));
  }
}

// ------------------------------------------------------------------ dirty page tracking

/**
 * Whether a profile's type1 has dirty page tracking (Capabilities.type1DirtyPages: mainline
 * vfio_iommu_type1_dirty_pages, v5.8): the fuzzer then draws VFIO_IOMMU_DIRTY_PAGES and UNMAP_DMA
 * with VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP and a struct vfio_bitmap (dirtyCallArb). The 2014
 * profiles' draws are the tree they always were.
 */
export function dirtyPagesOf(profile: string): boolean {
  return parseProfile(profile).caps.type1DirtyPages;
}

/** VFIO_IOMMU_DIRTY_PAGES_FLAG_START, _STOP, _GET_BITMAP */
const DIRTY_START = 1;
const DIRTY_STOP = 2;
const DIRTY_GET = 4;

/**
 * the dirty bitmap's `data` pointer: a page of the DMA area mostly; else a read-only page and
 * NULL / an unmapped page (access_ok passes, the copy faults: -EFAULT), kernel addresses
 * (access_ok: -EINVAL) and a short one, 8 or 4 bytes before the DMA area's end (what a
 * bitmap of more bytes writes next is whatever the process mapped after it)
 */
const bitmapData: fc.Arbitrary<Value> = fc.oneof(
  { weight: 8, arbitrary: fc.nat({ max: 7 }).map((n): Value => ({ dma: n })) },
  { weight: 1, arbitrary: fc.constantFrom<Value>({ ro: 0 }, 0, 0x1000, 0xbf000000, 0xfffff000, { dma: DMA_PAGES - 1, off: 0xff8 }, { dma: DMA_PAGES - 1, off: 0xffc }) },
);
/** the bitmap's page size: the domain's smallest (4 KiB) mostly; others, and u64s whose low word is 4 KiB or 0 (__ffs takes an unsigned long) */
const bitmapPgsize: fc.Arbitrary<Value> = fc.oneof(
  { weight: 8, arbitrary: fc.constant(PAGE) },
  { weight: 1, arbitrary: fc.constantFrom<Value>(0, 1, 0x800, 0x2000, 0x10000, 0x200000, u64hex(2n ** 32n + 4096n), u64hex(2n ** 32n)) },
);
/** a GET_BITMAP / unmap range's size: the MAP_DMA sizes, ranges over several mappings, and 64-bit ones */
const bitmapRange: fc.Arbitrary<Value> = fc.oneof(
  { weight: 4, arbitrary: size },
  { weight: 3, arbitrary: fc.constantFrom(0x10000, 0x18000, 0x19000, 0x20000, 0x40000, 0x100000) },
  { weight: 1, arbitrary: fc.constantFrom(u64hex(2n ** 32n), u64hex(2n ** 64n - 4096n)) },
);
/**
 * the bitmap's size relative to what the range needs (DIRTY_BITMAP_BYTES(size / 4 KiB): whole
 * u64 words): exact mostly, a page, a word short, 0, at and past DIRTY_BITMAP_SIZE_MAX (2^28),
 * and a u64 whose low word is small (access_ok takes an unsigned long)
 */
type BitmapSize = 'exact' | 'short' | number | string;
const bitmapSizeOf: fc.Arbitrary<BitmapSize> = fc.oneof(
  { weight: 6, arbitrary: fc.constant<BitmapSize>('exact') },
  { weight: 2, arbitrary: fc.constant<BitmapSize>(0x1000) },
  { weight: 1, arbitrary: fc.constantFrom<BitmapSize>('short', 0, 2 ** 28, 2 ** 28 + 8, u64hex(2n ** 32n + 8n)) },
);
function bitmapBytes(range: Value, b: BitmapSize): Value {
  if (b !== 'exact' && b !== 'short') return b;
  const n = BigInt.asUintN(64, BigInt(range as number | string)) >> 12n;
  const exact = ((n + 63n) / 64n) * 8n;
  const v = b === 'exact' ? exact : exact >= 8n ? exact - 8n : 0n;
  return v <= 0xffffffffn ? Number(v) : u64hex(v);
}
/** flags: one of the three mostly (GET_BITMAP the most), none, several, unknown bits */
const dirtyFlags = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom(DIRTY_START, DIRTY_STOP, DIRTY_GET, DIRTY_GET, DIRTY_GET) },
  { weight: 1, arbitrary: fc.constantFrom(0, DIRTY_START | DIRTY_STOP, DIRTY_START | DIRTY_GET, DIRTY_STOP | DIRTY_GET, 7) },
  { weight: 1, arbitrary: fc.constantFrom(8, 0x80000000, DIRTY_GET | 8, DIRTY_START | 0x10) },
);
/** argsz: 8 for START/STOP and 48 for GET_BITMAP mostly (sizeof the head, plus the get struct), else around them */
const dirtyArgsz = fc.oneof({ weight: 8, arbitrary: fc.constant(-1) }, { weight: 2, arbitrary: fc.constantFrom(0, 7, 8, 9, 47, 49, 56, 0xffffffff) });

/** the range and struct vfio_bitmap draws GET_BITMAP and UNMAP_DMA's GET_DIRTY_BITMAP share (after flags and argsz: the draw order) */
const bitmapRangeFields = { iova, size: bitmapRange, pgsize: bitmapPgsize, bsize: bitmapSizeOf, data: bitmapData, ptr };

/**
 * VFIO_IOMMU_DIRTY_PAGES's argument (struct vfio_iommu_type1_dirty_bitmap, with a struct
 * vfio_iommu_type1_dirty_bitmap_get behind it): flags, argsz, then GET_BITMAP's iova, size and
 * struct vfio_bitmap (pgsize, size, data), good and bad
 */
const dirtyPagesArg: fc.Arbitrary<IoctlArg> = rec({ flags: dirtyFlags, argsz: dirtyArgsz, ...bitmapRangeFields }).map((r): IoctlArg => ({
  t: 'struct',
  type: 'vfio_iommu_type1_dirty_bitmap',
  fields: { argsz: r.argsz === -1 ? ((r.flags & DIRTY_GET) !== 0 ? 48 : 8) : r.argsz, flags: r.flags, iova: r.iova, size: r.size, pgsize: r.pgsize, bitmap_size: bitmapBytes(r.size, r.bsize), data: r.data },
  ptr: r.ptr,
}));

/**
 * UNMAP_DMA with VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP and its struct vfio_bitmap: the flag alone
 * mostly, else with ALL or VADDR (-EINVAL), an argsz too small for the bitmap, the ranges and
 * bitmaps of GET_BITMAP
 */
const unmapBitmapArg: fc.Arbitrary<IoctlArg> = rec({
  flags: fc.oneof({ weight: 8, arbitrary: fc.constant(1) }, { weight: 1, arbitrary: fc.constantFrom(3, 5, 0, 9) }),
  argsz: fc.oneof({ weight: 8, arbitrary: fc.constant(48) }, { weight: 2, arbitrary: fc.constantFrom(24, 40, 47, 49, 0xffffffff) }),
  ...bitmapRangeFields,
}).map((r): IoctlArg => ({
  t: 'struct',
  type: 'vfio_iommu_type1_dma_unmap_bitmap',
  fields: { argsz: r.argsz, flags: r.flags, iova: r.iova, size: r.size, pgsize: r.pgsize, bitmap_size: bitmapBytes(r.size, r.bsize), data: r.data },
  ptr: r.ptr,
}));

/** an UNMAP_DMA with a dirty bitmap, on a container fd (also what the coverage campaign re-draws such a call from) */
export const unmapBitmapCall: fc.Arbitrary<Call> = rec({ op: fc.constant('ioctl' as const), p: pid, fd: fdRef('container'), req: fc.constant<number>(VFIO_REQS.VFIO_IOMMU_UNMAP_DMA), arg: unmapBitmapArg });

/** the dirty page tracking calls (profiles with `type1DirtyPages`): DIRTY_PAGES twice as often as the unmap with a bitmap */
function dirtyCallArb(): fc.Arbitrary<Call> {
  return fc.oneof({ weight: 2, arbitrary: ioctlCall('container', VFIO_IOMMU_DIRTY_PAGES) }, { weight: 1, arbitrary: unmapBitmapCall });
}

/**
 * The call arbitrary per (fd kind, request), built once: arbitraries are immutable, so the
 * chained one is the same tree as building it per draw (the same random stream and values),
 * without constructing ~20 arbitrary objects per generated ioctl (docs/PERFORMANCE.md).
 */
const ioctlArbs = new Map<FdKind, Map<number, fc.Arbitrary<Call>>>();

export function ioctlCall(kind: FdKind, req: number): fc.Arbitrary<Call> {
  // per kind, then per request number (a chained draw looks it up: no key string built per draw)
  let byReq = ioctlArbs.get(kind);
  if (byReq === undefined) ioctlArbs.set(kind, (byReq = new Map()));
  let a = byReq.get(req);
  if (a === undefined) {
    a = rec({ op: fc.constant('ioctl' as const), p: pid, fd: fdRef(kind), req: fc.constant(req), arg: argFor(req) });
    byReq.set(req, a);
  }
  return a;
}

function ioctlOn(kind: FdKind, reqs: number[]): fc.Arbitrary<Call> {
  return fc.constantFrom(...reqs).chain((req) => ioctlCall(kind, req));
}

const R = VFIO_REQS;
const containerReqs = [R.VFIO_GET_API_VERSION, R.VFIO_CHECK_EXTENSION, R.VFIO_SET_IOMMU, R.VFIO_IOMMU_GET_INFO, R.VFIO_IOMMU_MAP_DMA, R.VFIO_IOMMU_MAP_DMA, R.VFIO_IOMMU_UNMAP_DMA, R.VFIO_IOMMU_UNMAP_DMA, 0x3b7f];
const groupReqs = [R.VFIO_GROUP_GET_STATUS, R.VFIO_GROUP_SET_CONTAINER, R.VFIO_GROUP_SET_CONTAINER, R.VFIO_GROUP_UNSET_CONTAINER, R.VFIO_GROUP_UNSET_CONTAINER, R.VFIO_GROUP_GET_DEVICE_FD, R.VFIO_GROUP_GET_DEVICE_FD, 0x3b63];
const deviceReqs = [R.VFIO_DEVICE_GET_INFO, R.VFIO_DEVICE_GET_REGION_INFO, R.VFIO_DEVICE_GET_REGION_INFO, R.VFIO_DEVICE_GET_IRQ_INFO, R.VFIO_DEVICE_SET_IRQS, R.VFIO_DEVICE_SET_IRQS, R.VFIO_DEVICE_RESET, 0x3b74];
const unknownReqs = [0x3b63, 0x3b73, 0x3b74, 0x5421, 0x5451, 0xc0103b6c, 0x40043b68, 0];
const allVfio = Object.values(R) as number[];

/** a file offset: mostly inside a region, on 4/2/1-byte boundaries; sometimes far outside */
const off: fc.Arbitrary<Off> = fc.oneof(
  {
    weight: 10,
    arbitrary: rec({
      region: fc.constant(0),
      off: fc.oneof(
        // the start of the region, then registers (word-aligned), denser near the start
        { weight: 2, arbitrary: fc.constant(0) },
        { weight: 6, arbitrary: fc.nat({ max: 0xff }).map((n) => n * 4) },
        { weight: 3, arbitrary: fc.nat({ max: 0x3ff }).map((n) => n * 4) },
        { weight: 1, arbitrary: fc.nat({ max: 0xfff }) },
        // region edges and a few well-known PL330 registers (DSR, INTEN, DBGSTATUS, CR0, periph id, last byte, one past)
        { weight: 1, arbitrary: fc.constantFrom(0, 0x20, 0xd00, 0xe00, 0xfe0, 0xffc, 0xfff, 0x1000) },
      ),
    }),
  },
  { weight: 1, arbitrary: rec({ region: fc.nat({ max: 3 }), off: fc.nat({ max: 0x2000 }) }) },
  { weight: 1, arbitrary: fc.constantFrom<Off>({ raw: '0x0' }, { raw: '0x1000' }, { raw: '0x2c0a0000' }, { raw: '0x10000000000' }, { raw: '0x7fffffffffff' }, { raw: '0x80000000' }) },
);

/** mmap offsets: page-aligned region starts mostly */
const mmapOff: fc.Arbitrary<Off> = fc.oneof(
  { weight: 6, arbitrary: rec({ region: fc.constant(0), off: fc.constantFrom(0, 0, 0x1000, 0x800) }) },
  { weight: 1, arbitrary: off },
);

const count = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom(4, 4, 4, 8, 1, 2) },
  { weight: 2, arbitrary: fc.nat({ max: 64 }) },
  // bulk reads of a register block, up to the whole region and past it
  { weight: 3, arbitrary: fc.constantFrom(0x40, 0x100, 0x400, 0x800, 0x1000, 0x1001) },
  { weight: 1, arbitrary: fc.constantFrom(0x2000, 0xffffffff) },
);

/**
 * sysfs attributes the administrator writes: bind/unbind of the VFIO drivers and of the host
 * drivers (dma-pl330, test-dma), driver_override + drivers_probe, the 2014 vfio_bind. The
 * PL330 is an AMBA device in mainline (`primecellBus`: /sys/bus/amba, vfio-amba) and a
 * platform device in 2014; test-dma is a platform device in both. Paths that do not exist in
 * a profile fail with ENOENT.
 */
const SYSFS_PATHS = [
  '/sys/bus/platform/drivers/vfio-platform/unbind',
  '/sys/bus/platform/drivers/vfio-platform/bind',
  '/sys/bus/platform/drivers/vfio-platform/vfio_bind',
  '/sys/bus/platform/drivers/dma-pl330/bind',
  '/sys/bus/platform/drivers/dma-pl330/unbind',
  '/sys/bus/platform/drivers/test-dma/bind',
  '/sys/bus/platform/drivers/test-dma/unbind',
  '/sys/bus/platform/drivers_probe',
  '/sys/bus/platform/devices/2c0a0000.dma/driver_override',
  '/sys/bus/platform/devices/2c0b0000.dma/driver_override',
  '/sys/bus/amba/drivers/vfio-amba/unbind',
  '/sys/bus/amba/drivers/vfio-amba/bind',
  '/sys/bus/amba/drivers/dma-pl330/bind',
  '/sys/bus/amba/drivers/dma-pl330/unbind',
  '/sys/bus/amba/drivers_probe',
  '/sys/bus/amba/devices/2c0a0000.dma/driver_override',
];
const SYSFS_VALUES = ['2c0a0000.dma', '2c0a0000.dma', '2c0b0000.dma', '2c0b0000.dma', 'vfio-platform', 'vfio-amba', 'dma-pl330', 'test-dma', 'nonexistent', ''];

const PATHS = ['/dev/vfio/vfio', '/dev/vfio/vfio', '/dev/vfio/0', '/dev/vfio/1', '/dev/vfio/1', '/dev/vfio/99', '/dev/vfio', '/dev/null', '/proc/interrupts'];

/**
 * every kind of call, with weights that favour the VFIO state machine (generated by compiled
 * closures without bias, as fc.commands draws its commands: same values, fastgen.ts).
 * `iommufd`: whether the profile has /dev/iommu (iommufdOf); see callArbOf.
 */
export function callArb(iommufd = true, dirty = false): fc.Arbitrary<Call> {
  return fastArb(callArbOf(iommufd, dirty));
}

/**
 * Whether a profile's kernel has iommufd (Capabilities.iommufd is not 'none'): /dev/iommu and
 * the VFIO device cdevs exist, and the fuzzer draws the cdev + iommufd calls and set-up prefix
 * at full weight. The 2014 profiles (3.14 has no iommufd) draw them at a token weight.
 */
export function iommufdOf(profile: string): boolean {
  return parseProfile(profile).caps.iommufd !== 'none';
}

/*
 * The argument arbitraries of the non-ioctl calls, shared by callArbOf and sameOpArb
 * (arbitraries are immutable: sharing one changes no draw).
 */
const openFlags = fc.oneof({ weight: 8, arbitrary: fc.constant(2) }, { weight: 1, arbitrary: fc.constantFrom(0, 1, 0o4002, 0o2000002, 0o40000) });
const mmapLen = fc.constantFrom(0x1000, 0x1000, 0x2000, 0x800, 0);
const mmapProt = fc.constantFrom(3, 3, 1, 7, 0);
const mmapFlags = fc.constantFrom(1, 1, 2, 0x11, 3);
const mapIdx = fc.nat({ max: 2 });
const munmapLen = fc.constantFrom(0x1000, 0x2000);
const mmioOff = fc.nat({ max: 0x3ff }).map((n) => n * 4);
const mmioWidth = fc.constantFrom<1 | 2 | 4>(4, 4, 2, 1);
const testDmaOff = fc.constantFrom(0, 4, 8, 0xc, 0xc, 0x10);
const storePage = fc.oneof({ weight: 6, arbitrary: fc.nat({ max: 7 }) }, { weight: 1, arbitrary: fc.nat({ max: DMA_PAGES - 1 }) });
const storeOff = fc.constantFrom(0, 0, 0x800, 0xffc);
const testDmaValue = fc.constantFrom(1, 1, 0x40, 0x1000, 0x2000, 0x10000, 0x11000, 0x100000, 6);
const efdInit = fc.constantFrom(0, 1, 0xffffffff);
const efdFlags = fc.constantFrom(0o4000, 0o4000, 0, 0o2004000, 1, 0o4001);
const efdValue = fc.constantFrom('1', '0', '0xfffffffffffffffe', '0xffffffffffffffff');
const pollFds = fc.array(fdRef('any'), { minLength: 1, maxLength: 3 });
const pollEvents = fc.constantFrom(1, 4, 5, 0xffff);
const runNs = fc.constantFrom(1000, 100_000, 1_000_000);
const sysfsPath = fc.constantFrom(...SYSFS_PATHS);
const sysfsValue = fc.constantFrom(...SYSFS_VALUES);
const rawNr = fc.oneof(fc.constantFrom(3, 4, 6, 19, 54, 91, 125, 168, 180, 181, 192, 217, 351, 356), fc.nat({ max: 500 }));
const rawArgs = fc.array(u32, { minLength: 6, maxLength: 6 });

/**
 * callArb as plain fast-check combinators (the tree fastgen.ts compiles, and what shrinks).
 * Without iommufd (a 2014 profile) the cdev + iommufd calls keep weight 1 of the 14 they have
 * with it: /dev/iommu and /dev/vfio/devices/ are ENOENT there, so their opens fail and every
 * ioctl on an iommufd or cdev fd is EBADF. A token share keeps those paths exercised; the
 * rest goes to the calls the kernel has. With iommufd the tree (and so every seed's programs)
 * is what it always was.
 */
export function callArbOf(iommufd = true, dirty = false): fc.Arbitrary<Call> {
  return fc.oneof(
    { weight: 6, arbitrary: rec({ op: fc.constant('open' as const), p: pid, path: fc.constantFrom(...PATHS), flags: openFlags }) },
    { weight: 2, arbitrary: rec({ op: fc.constant('close' as const), p: pid, fd: fdRef('any') }) },
    { weight: 1, arbitrary: rec({ op: fc.constant('close' as const), p: pid, fd: fdRef('device') }) },
    { weight: 1, arbitrary: rec({ op: fc.constant('close' as const), p: pid, fd: fdRef('group') }) },
    { weight: 9, arbitrary: ioctlOn('container', containerReqs) },
    { weight: 9, arbitrary: ioctlOn('group', groupReqs) },
    { weight: 12, arbitrary: ioctlOn('device', deviceReqs) },
    { weight: 1, arbitrary: ioctlOn('any', [...unknownReqs, ...allVfio]) },
    // iommufd and the VFIO device cdev (arb-iommufd.ts); /dev/iommu is ENOENT in 2014 profiles
    { weight: iommufd ? 14 : 1, arbitrary: iommufdCallArb(iommufd) },
    { weight: 6, arbitrary: rec({ op: fc.constantFrom('pread' as const, 'pwrite' as const, 'pread' as const), p: pid, fd: fdRef('device'), off, count, ptr }) },
    { weight: 1, arbitrary: rec({ op: fc.constantFrom('read' as const, 'write' as const), p: pid, fd: fdRef('any'), count, ptr }) },
    { weight: 2, arbitrary: rec({ op: fc.constant('mmap' as const), p: pid, fd: fdRef('device'), len: mmapLen, prot: mmapProt, flags: mmapFlags, off: mmapOff }) },
    { weight: 1, arbitrary: rec({ op: fc.constant('munmap' as const), p: pid, map: mapIdx, len: munmapLen }) },
    { weight: 1, arbitrary: rec({ op: fc.constant('mmio' as const), p: pid, map: mapIdx, off: mmioOff, width: mmioWidth, write: fc.boolean(), value: u32 }) },
    // test-dma's registers through a mapping (SRC, DST, LEN, CTRL=1 starts; STATUS): a copy
    // between IOVAs, mapped or not; an unmapped one is a context fault, which the 2014
    // arm-smmu takes in stall mode (smmuContextFaultMode) and resumes from its handler
    { weight: 1, arbitrary: rec({ op: fc.constant('mmio' as const), p: pid, map: mapIdx, off: testDmaOff, width: fc.constant<4>(4), write: fc.constant(true), value: testDmaValue }) },
    // the program writing its DMA buffer (the pages MAP_DMA pins; after a fork, 3.14 shares
    // them copy-on-write and the writer's store moves it off the pinned page: forkPinnedPages)
    { weight: 2, arbitrary: rec({ op: fc.constant('store' as const), p: pid, page: storePage, off: storeOff, value: u32 }) },
    { weight: 3, arbitrary: rec({ op: fc.constant('eventfd' as const), p: pid, init: efdInit, flags: efdFlags }) },
    { weight: 1, arbitrary: rec({ op: fc.constant('efd_write' as const), p: pid, fd: fdRef('eventfd'), value: efdValue }) },
    { weight: 1, arbitrary: rec({ op: fc.constant('poll' as const), p: pid, fds: pollFds, events: pollEvents }) },
    { weight: 1, arbitrary: rec({ op: fc.constant('run' as const), ns: runNs }) },
    { weight: 1, arbitrary: rec({ op: fc.constant('exit' as const), p: pid }) },
    // a fork: another slot becomes a child of the caller, sharing its open files (another
    // process holding the same containers, groups and devices)
    { weight: 1, arbitrary: fc.tuple(pid, fc.integer({ min: 1, max: NPROC - 1 })).map(([p, d]): Call => ({ op: 'fork', p, into: (p + d) % NPROC })) },
    { weight: 1, arbitrary: rec({ op: fc.constant('echo' as const), p: pid, path: sysfsPath, value: sysfsValue }) },
    { weight: 1, arbitrary: rec({ op: fc.constant('raw' as const), p: pid, nr: rawNr, args: rawArgs }) },
    // dirty page tracking (`dirty`: the profile's type1 has it, dirtyPagesOf): an arm appended
    // last, so that without it the tree, and every 2014 seed's programs, are what they were
    ...(dirty ? [{ weight: 3, arbitrary: dirtyCallArb() }] : []),
  );
}

/**
 * The same call with fresh argument values (syzkaller's argument mutation keeps the syscall
 * and its resources): the operation, the calling process and the file it works on are
 * kept, every other argument is drawn again from the arbitrary callArbOf draws it from.
 * null for a call with nothing else to draw (close, exit) and for ioctls and the iommufd
 * calls (the campaign re-draws an ioctl by its request: ioctlCall).
 */
export function sameOpArb(c: Call): fc.Arbitrary<Call> | null {
  const p = fc.constant('p' in c ? c.p : 0);
  switch (c.op) {
    case 'open':
      return rec({ op: fc.constant('open' as const), p, path: fc.constantFrom(...PATHS), flags: openFlags });
    case 'pread':
    case 'pwrite':
      return rec({ op: fc.constant(c.op), p, fd: fc.constant(c.fd), off, count, ptr });
    case 'read':
    case 'write':
      return rec({ op: fc.constant(c.op), p, fd: fc.constant(c.fd), count, ptr });
    case 'mmap':
      return rec({ op: fc.constant('mmap' as const), p, fd: fc.constant(c.fd), len: mmapLen, prot: mmapProt, flags: mmapFlags, off: mmapOff });
    case 'munmap':
      return rec({ op: fc.constant('munmap' as const), p, map: mapIdx, len: munmapLen });
    case 'mmio':
      return fc.oneof(
        rec({ op: fc.constant('mmio' as const), p, map: fc.constant(c.map), off: mmioOff, width: mmioWidth, write: fc.boolean(), value: u32 }),
        rec({ op: fc.constant('mmio' as const), p, map: fc.constant(c.map), off: testDmaOff, width: fc.constant<4>(4), write: fc.constant(true), value: testDmaValue }),
      );
    case 'store':
      return rec({ op: fc.constant('store' as const), p, page: storePage, off: storeOff, value: u32 });
    case 'eventfd':
      return rec({ op: fc.constant('eventfd' as const), p, init: efdInit, flags: efdFlags });
    case 'efd_write':
      return rec({ op: fc.constant('efd_write' as const), p, fd: fc.constant(c.fd), value: efdValue });
    case 'poll':
      return rec({ op: fc.constant('poll' as const), p, fds: pollFds, events: pollEvents });
    case 'run':
      return rec({ op: fc.constant('run' as const), ns: runNs });
    case 'echo':
      return rec({ op: fc.constant('echo' as const), p, path: sysfsPath, value: sysfsValue });
    case 'raw':
      return rec({ op: fc.constant('raw' as const), p, nr: rawNr, args: rawArgs });
    case 'fork': {
      // the child's slot drawn again among the others
      const from = c.p % NPROC;
      return fc.integer({ min: 1, max: NPROC - 1 }).map((d): Call => ({ op: 'fork', p: c.p, into: (from + d) % NPROC }));
    }
    default:
      return null;
  }
}

/** A short "happy path" prefix generator: opens container + group, attaches, sets the IOMMU, gets the device. */
export const SETUP_PREFIX: Call[] = [
  { op: 'open', p: 0, path: '/dev/vfio/vfio', flags: 2 },
  { op: 'open', p: 0, path: '/dev/vfio/0', flags: 2 },
  { op: 'ioctl', p: 0, fd: { k: 'group', i: 0 }, req: VFIO_REQS.VFIO_GROUP_SET_CONTAINER, arg: { t: 'struct', type: 'int32', fields: { v: { fd: { k: 'container', i: 0 } } }, ptr: 'ok' } },
  { op: 'ioctl', p: 0, fd: { k: 'container', i: 0 }, req: VFIO_REQS.VFIO_SET_IOMMU, arg: { t: 'int', v: 1 } },
  { op: 'ioctl', p: 0, fd: { k: 'group', i: 0 }, req: VFIO_REQS.VFIO_GROUP_GET_DEVICE_FD, arg: { t: 'str', s: '2c0a0000.dma', nul: true, ptr: 'ok' } },
];

/**
 * The happy path continued with the second group (test-dma's, /dev/vfio/1 on the fuzzer's
 * board): opened, put in the same container (its streams join the container's domain) and
 * its device fd taken: two groups and two devices in one container.
 */
export const SECOND_GROUP: Call[] = [
  { op: 'open', p: 0, path: '/dev/vfio/1', flags: 2 },
  { op: 'ioctl', p: 0, fd: { k: 'group', i: 1 }, req: VFIO_REQS.VFIO_GROUP_SET_CONTAINER, arg: { t: 'struct', type: 'int32', fields: { v: { fd: { k: 'container', i: 0 } } }, ptr: 'ok' } },
  { op: 'ioctl', p: 0, fd: { k: 'group', i: 1 }, req: VFIO_REQS.VFIO_GROUP_GET_DEVICE_FD, arg: { t: 'str', s: '2c0b0000.dma', nul: true, ptr: 'ok' } },
];

const PREFIX = [...SETUP_PREFIX, ...SECOND_GROUP];

/**
 * The group happy path with dirty page tracking on (profiles with `type1DirtyPages`): the
 * container set to TYPE1v2 (vfio_iommu_type1_dirty_pages refuses TYPE1 with -EACCES, and
 * SETUP_PREFIX sets TYPE1), the device fd taken, 4 pages of the DMA area mapped at IOVA 0, and
 * VFIO_IOMMU_DIRTY_PAGES START: GET_BITMAP and UNMAP_DMA with GET_DIRTY_BITMAP can succeed.
 */
export const DIRTY_PREFIX: Call[] = [
  ...SETUP_PREFIX.slice(0, 3),
  { op: 'ioctl', p: 0, fd: { k: 'container', i: 0 }, req: VFIO_REQS.VFIO_SET_IOMMU, arg: { t: 'int', v: 3 } },
  SETUP_PREFIX[4]!,
  { op: 'ioctl', p: 0, fd: { k: 'container', i: 0 }, req: VFIO_REQS.VFIO_IOMMU_MAP_DMA, arg: { t: 'struct', type: 'vfio_iommu_type1_dma_map', fields: { argsz: 32, flags: 3, vaddr: { dma: 0 }, iova: 0, size: 4 * PAGE }, ptr: 'ok' } },
  { op: 'ioctl', p: 0, fd: { k: 'container', i: 0 }, req: VFIO_IOMMU_DIRTY_PAGES, arg: { t: 'struct', type: 'vfio_iommu_type1_dirty_bitmap', fields: { argsz: 8, flags: DIRTY_START }, ptr: 'ok' } },
];

/** DIRTY_PREFIX's and HWPT_PREFIX's (arb-iommufd.ts) prefix numbers, above the iommufd path's (SETUP_PREFIX.length + 1 + IOMMUFD_PREFIX.length, written as literals; prefixArb's numbering) */
export const DIRTY_FULL = 64;
export const HWPT_FULL = 65;

/**
 * The set-up prefix a campaign's run starts with, by number: 0..SETUP_PREFIX.length the first n
 * calls of the group/container happy path, above that the first n - SETUP_PREFIX.length - 1 calls
 * of the cdev + iommufd one (arb-iommufd.ts); DIRTY_FULL and HWPT_FULL their prefixes.
 */
export function prefixOf(n: number): Call[] {
  if (n === DIRTY_FULL) return DIRTY_PREFIX;
  if (n === HWPT_FULL) return HWPT_PREFIX;
  return n <= SETUP_PREFIX.length ? SETUP_PREFIX.slice(0, n) : IOMMUFD_PREFIX.slice(0, n - SETUP_PREFIX.length - 1);
}

/**
 * the prefix numbers runs draw: the whole group path, part of it, the whole or part of the
 * iommufd path; without iommufd (iommufdOf) the group path only, whole or in part: the iommufd
 * path's first call, open("/dev/iommu"), is ENOENT there and the rest of it EBADF. `dirty`
 * (dirtyPagesOf): one run in eight starts with DIRTY_PREFIX, and with iommufd as many with
 * HWPT_PREFIX (2026-12-07; appended arms: the 2014 profiles draw what they did).
 */
export function prefixArb(iommufd = true, dirty = false): fc.Arbitrary<number> {
  const base = SETUP_PREFIX.length + 1;
  if (!iommufd) return fc.oneof({ weight: 1, arbitrary: fc.constant(SETUP_PREFIX.length) }, { weight: 1, arbitrary: fc.nat({ max: SETUP_PREFIX.length }) });
  return fc.oneof(
    { weight: 2, arbitrary: fc.constant(SETUP_PREFIX.length) },
    { weight: 2, arbitrary: fc.nat({ max: SETUP_PREFIX.length }) },
    { weight: 1, arbitrary: fc.constant(base + IOMMUFD_PREFIX.length) },
    { weight: 1, arbitrary: fc.integer({ min: base, max: base + IOMMUFD_PREFIX.length }) },
    ...(dirty ? [{ weight: 1, arbitrary: fc.constant(DIRTY_FULL) }] : []),
    { weight: 1, arbitrary: fc.constant(HWPT_FULL) },
  );
}

/**
 * A program: a prefix of the happy path (so deep device states are reached quickly; about
 * one program in three also attaches the second group), then random calls; one program in
 * three starts from (part of) the cdev + iommufd happy path instead (arb-iommufd.ts).
 */
export function programArb(maxCalls = 24): fc.Arbitrary<Call[]> {
  return fc
    .tuple(fc.nat({ max: PREFIX.length }), fc.array(callArb(), { minLength: 1, maxLength: maxCalls }), fc.nat({ max: 2 }), fc.nat({ max: IOMMUFD_PREFIX.length }))
    .map(([n, rest, which, m]) => (which === 2 ? [...IOMMUFD_PREFIX.slice(0, m), ...rest] : [...PREFIX.slice(0, n), ...rest]));
}
