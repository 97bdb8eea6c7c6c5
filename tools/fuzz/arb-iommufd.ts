/**
 * Arbitraries for iommufd (/dev/iommu) and the VFIO device cdev (/dev/vfio/devices/vfioN):
 * opens of both nodes, every modelled iommufd ioctl with object ids around the ones a
 * context hands out (lowest free from 1: drivers/iommu/iommufd/main.c
 * iommufd_object_alloc_elm, xa_alloc), IOAS_MAP flags (FIXED_IOVA / WRITEABLE / READABLE and
 * unknown bits) with user pointers into the calling process's DMA and read-only areas,
 * BIND_IOMMUFD / ATTACH / DETACH on device fds, IOMMU_FAULT_QUEUE_ALLOC (flags mostly 0) and
 * read/write/pread/pwrite/poll/close on the fault fds it answers (fd kind `fault`: counts on and
 * off the multiples of the fault record, 40 bytes, and of the response, 8 bytes), and a
 * happy-path prefix (bind, IOAS, attach, map) so runs reach the deep states. Built lazily, at
 * first use, from arb-fields.ts's building blocks (arb.ts imports this module).
 */
import fc from 'fast-check';
import { argsz, fdRef, flags, iova, pid, ptr, rec, size, struct, u32, vaddr } from './arb-fields.js';
import { CDEV_REQS, IOMMUFD_REQS, IOMMUFD_STRUCTS, iommufdSizeof, type IommufdStructName } from './program-iommufd.js';
import type { Call, FdKind, FdRef, IoctlArg, Value } from './program.js';

const I = IOMMUFD_REQS;
const C = CDEV_REQS;

/** the cdev nodes: the PL330 is vfio0 (the first VFIO device registered); others do not exist */
export const CDEV_PATHS = ['/dev/vfio/devices/vfio0', '/dev/vfio/devices/vfio0', '/dev/vfio/devices/vfio0', '/dev/vfio/devices/vfio1', '/dev/vfio/devices/vfio9', '/dev/vfio/devices'];

/** the IOVA the happy path maps 4 pages at */
const HAPPY_IOVA = 0x100000;

/** FIXED_IOVA 1, WRITEABLE 2, READABLE 4 (enum iommufd_ioas_map_flags) */
const mapFlags = (): fc.Arbitrary<number> => fc.oneof({ weight: 6, arbitrary: fc.constantFrom(7, 7, 6, 5, 3) }, { weight: 2, arbitrary: fc.constantFrom(6, 4, 2, 0, 1) }, { weight: 1, arbitrary: flags([1, 2, 4]) });

/** object ids: mostly the first few a context hands out (2 is the happy path's IOAS), sometimes 0 or far off */
const objId = (): fc.Arbitrary<Value> => fc.oneof({ weight: 6, arbitrary: fc.constant(2) }, { weight: 10, arbitrary: fc.integer({ min: 1, max: 4 }) }, { weight: 1, arbitrary: fc.constantFrom(0, 5, 8, 0x7fffffff, 0xffffffff) });

/**
 * IOMMU_VFIO_IOAS's op field (u16 op, u16 __reserved above it): mostly GET 0, SET 1, CLEAR 2
 * (enum iommufd_vfio_ioas_op), sometimes an unknown op or a non-zero __reserved (both
 * -EOPNOTSUPP: vfio_compat.c iommufd_vfio_ioas)
 */
const vfioIoasOp = (): fc.Arbitrary<Value> => fc.oneof({ weight: 12, arbitrary: fc.constantFrom(0, 0, 1, 1, 1, 2) }, { weight: 1, arbitrary: fc.constantFrom(3, 0xffff, 0x10000, 0x10001, 0xffff0002) });
/**
 * the IOAS SET names: mostly the ids IOASes have (1: the compat container's own, made by its
 * first SET_CONTAINER; 2: the /dev/iommu happy path's; 4: the next IOAS_ALLOC's, after the
 * compat container's bound device 2 and auto HWPT 3, or the happy path's HWPT 3), sometimes ids
 * of other objects or none (3, 5), 0 or far off; destroyed ones come with the programs
 */
const vfioIoasId = (): fc.Arbitrary<Value> => fc.oneof({ weight: 9, arbitrary: fc.constantFrom(1, 2, 4) }, { weight: 3, arbitrary: fc.constantFrom(3, 5) }, { weight: 1, arbitrary: fc.constantFrom(0, 8, 0x7fffffff, 0xffffffff) });

/**
 * A resource-typed fd ref (FdRef.mk) where the profile has /dev/iommu, as a syzkaller call's
 * resource argument is the resource an earlier call made (its producer made first when the
 * program has none: prog/rand.go createResource): three draws in four the process's first or
 * second fd of that kind, made when it has none (Harness.makeResources); else fdRef's draws (the
 * i-th fd whether or not one is open, other kinds' fds, raw numbers), so the EBADF and wrong-file
 * paths stay exercised, with the fds the program closed. Before (2026-12-07) every iommufd and
 * fault fd argument was fdRef's: most found no such fd in the calling process (-EBADF).
 */
function resRef(kind: 'iommufd' | 'fault'): fc.Arbitrary<FdRef> {
  return fc.oneof({ weight: 3, arbitrary: rec({ k: fc.constant(kind), i: fc.nat({ max: 1 }), mk: fc.constant(1 as const) }) }, { weight: 1, arbitrary: fdRef(kind) });
}

const fdVal = (k: FdKind): fc.Arbitrary<Value> => fc.oneof({ weight: 10, arbitrary: fdRef(k).map((f) => ({ fd: f }) as Value) }, { weight: 1, arbitrary: fc.constantFrom<Value>(-1, 0, 0x7fffffff) });
const zero = (w = 12): fc.Arbitrary<Value> => fc.oneof({ weight: w, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: u32 });

/**
 * IOMMU_HWPT_ALLOC drawn toward a success (where the profile has /dev/iommu): flags 0 and no
 * driver data (arm-smmu has no domain_alloc_user: anything else -EOPNOTSUPP), dev_id the happy
 * path's bound device (1), pt_id an IOAS that is empty (hw_pagetable.c iommufd_hwpt_paging_alloc
 * does not attach, so filling the new arm-smmu domain with an area fails: -ENODEV): 5 (HWPT_PREFIX's
 * second, empty IOAS; after IOMMUFD_PREFIX the second IOAS_ALLOC's), 4 (the first IOAS_ALLOC after
 * the happy path; HWPT_PREFIX's copy target), 2 (empty when the run stopped the happy path before
 * its IOAS_MAP); sometimes the HWPT 3 (a nesting parent: -EOPNOTSUPP) or an id further on
 */
const hwptPtId = (): fc.Arbitrary<Value> => fc.oneof({ weight: 6, arbitrary: fc.constant(5) }, { weight: 2, arbitrary: fc.constant(4) }, { weight: 2, arbitrary: fc.constant(2) }, { weight: 1, arbitrary: fc.constantFrom(3, 6) });
const hwptAllocLive = (): fc.Arbitrary<IoctlArg> =>
  struct('iommu_hwpt_alloc', {
    flags: fc.oneof({ weight: 12, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.constantFrom(1, 4) }),
    dev_id: fc.oneof({ weight: 8, arbitrary: fc.constant(1) }, { weight: 1, arbitrary: fc.constantFrom(2, 3) }),
    pt_id: hwptPtId(),
    out_hwpt_id: fc.constant(0),
    reserved: fc.constant(0),
    data_type: fc.constant(0),
    data_len: fc.constant(0),
    data_uptr: fc.constant(0),
    fault_id: fc.constant(0),
  });

/**
 * IOMMU_IOAS_COPY drawn toward a success (where the profile has /dev/iommu): from the happy
 * path's mapping (IOAS 2, 4 pages at HAPPY_IOVA: a page range inside it, so iopt_get_pages finds
 * it covered) into another IOAS (4: the first IOAS_ALLOC after the happy path) or into IOAS 2
 * itself; flags READABLE/WRITEABLE with FIXED_IOVA (dst_iova a free IOVA, the source's own, one
 * in the MSI window 0x8000000 the SMMU reserves while a device is attached) or without (the
 * kernel chooses dst_iova and writes it back); sometimes back from IOAS 4, or ids further on
 */
const copyLive = (dstId?: fc.Arbitrary<Value>, srcId?: fc.Arbitrary<Value>): fc.Arbitrary<IoctlArg> =>
  rec({
    argsz: argsz(40),
    flags: fc.oneof({ weight: 8, arbitrary: fc.constantFrom(6, 7, 7, 4, 5) }, { weight: 1, arbitrary: fc.constantFrom(2, 3, 1) }),
    dst: dstId ?? fc.oneof({ weight: 5, arbitrary: fc.constant(4) }, { weight: 4, arbitrary: fc.constant(2) }, { weight: 1, arbitrary: fc.constantFrom(3, 5, 1) }),
    src: srcId ?? fc.oneof({ weight: 8, arbitrary: fc.constant(2) }, { weight: 2, arbitrary: fc.constant(4) }, { weight: 1, arbitrary: fc.constantFrom(3, 5) }),
    // the first page and the number of pages of the 4-page mapping; sometimes one past its end
    first: fc.nat({ max: 3 }),
    pages: fc.oneof({ weight: 8, arbitrary: fc.integer({ min: 1, max: 4 }) }, { weight: 1, arbitrary: fc.constant(5) }),
    dstIova: fc.oneof({ weight: 6, arbitrary: fc.constantFrom(0x200000, 0x300000, 0x104000, 0x1000) }, { weight: 2, arbitrary: fc.constant(HAPPY_IOVA) }, { weight: 1, arbitrary: fc.constantFrom(0x8000000, 0) }),
    ptr,
  }).map((r): IoctlArg => {
    const n = Math.max(1, Math.min(r.pages, 4 - r.first + (r.pages === 5 ? 1 : 0)));
    return {
      t: 'struct',
      type: 'iommu_ioas_copy',
      fields: { argsz: r.argsz, flags: r.flags, dst_ioas_id: r.dst, src_ioas_id: r.src, length: n * 0x1000, dst_iova: r.dstIova, src_iova: HAPPY_IOVA + r.first * 0x1000 },
      ptr: r.ptr,
    };
  });

/**
 * A resource-typed IOAS id (Value `{ ioas, mk }`, mainline draws only): the first or second IOAS
 * (id order) of the context the call's fd names, IOMMU_IOAS_ALLOC made first on that fd when it
 * has none (Harness.makeIoas; syzkaller prog/rand.go createResource). Before (2026-12-07) IOAS_MAP
 * and IOAS_COPY drew only fixed ids (objId, copyLive's), which a context the harness had just made
 * (FdRef.mk: no IOAS) mostly does not have.
 */
const ioasRef = (): fc.Arbitrary<Value> => rec({ ioas: fc.nat({ max: 1 }), mk: fc.constant(1 as const) });

/**
 * IOAS_MAP on a resource-typed IOAS (ioasRef): flags, user_va and length as the plain draw, the
 * IOVA mostly the happy path's (HAPPY_IOVA: what copyLive copies from), else iova's
 */
const mapRes = (): fc.Arbitrary<IoctlArg> =>
  struct('iommu_ioas_map', { flags: mapFlags(), ioas_id: ioasRef(), reserved: zero(), user_va: vaddr, length: size, iova: fc.oneof({ weight: 3, arbitrary: fc.constant(HAPPY_IOVA) }, { weight: 2, arbitrary: iova }) });

/**
 * A resource-typed device id (Value `{ dev, mk }`, mainline draws only): the first or second
 * device (id order) bound to the context the call's fd names, one bound first when it has none
 * (Harness.makeDev: a free device's cdev opened and VFIO_DEVICE_BIND_IOMMUFD to that fd). Before
 * (2026-12-07) HWPT_ALLOC drew only fixed dev_ids (1: the happy paths' bound device), which a
 * context the harness had just made (FdRef.mk: no device) does not have.
 */
const devRef = (): fc.Arbitrary<Value> => rec({ dev: fc.nat({ max: 1 }), mk: fc.constant(1 as const) });

/**
 * IOMMU_HWPT_ALLOC on resource-typed ids: dev_id a device bound to the call's context (devRef),
 * pt_id one of its IOASes (ioasRef: made empty when it has none, and an empty IOAS is what
 * HWPT_ALLOC succeeds on, hwptPtId); flags and driver data as hwptAllocLive
 */
const hwptAllocRes = (): fc.Arbitrary<IoctlArg> =>
  struct('iommu_hwpt_alloc', {
    flags: fc.oneof({ weight: 12, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.constantFrom(1, 4) }),
    dev_id: devRef(),
    pt_id: ioasRef(),
    out_hwpt_id: fc.constant(0),
    reserved: fc.constant(0),
    data_type: fc.constant(0),
    data_len: fc.constant(0),
    data_uptr: fc.constant(0),
    fault_id: fc.constant(0),
  });

/**
 * A resource-typed device fd (FdRef `{ k: 'device', mk: 1 }`, mainline draws of ATTACH/DETACH
 * only): the first or second cdev fd of the calling process bound to the context of one of its
 * /dev/iommu fds, one made when it has none (Harness.makeBoundDev: /dev/iommu opened when the
 * process has none, a free device's cdev opened and VFIO_DEVICE_BIND_IOMMUFD to its first
 * /dev/iommu fd). Before (2026-12-07) ATTACH/DETACH's fd was fdRef('device'): on a process whose
 * only /dev/iommu context the harness had made there was mostly no bound cdev (-EBADF/-EINVAL).
 */
const boundDevRef = (): fc.Arbitrary<FdRef> => rec({ k: fc.constant('device' as const), i: fc.nat({ max: 1 }), mk: fc.constant(1 as const) });

/**
 * A resource-typed HWPT id (Value `{ hwpt, mk }`, mainline draws only): the first or second paging
 * HWPT (id order) of the context the call's fd names, HWPT_ALLOC'd or an ATTACH's auto domain, one
 * made first when it has none (Harness.makeHwpt: a device bound when there is none, a fresh IOAS,
 * IOMMU_HWPT_ALLOC). Before (2026-12-07) HWPT ids were fixed (attachPtId's 3 and 6: the happy
 * paths' HWPTs), which a context the harness had just made does not have.
 */
const hwptRef = (): fc.Arbitrary<Value> => rec({ hwpt: fc.nat({ max: 1 }), mk: fc.constant(1 as const) });

/**
 * ATTACH on a resource-typed device fd: pt_id one draw in two an IOAS (ioasRef) of the context
 * that device is bound to (made empty when it has none: Harness.makeIoas through ctxFdOf), one in
 * three a HWPT of it (hwptRef: an attach to a HWPT, or a replace, onto the one it has), else
 * attachPtId's fixed ids
 */
const attachRes = (): fc.Arbitrary<IoctlArg> => struct('vfio_device_attach_iommufd_pt', { flags: zero(), pt_id: fc.oneof({ weight: 3, arbitrary: ioasRef() }, { weight: 2, arbitrary: hwptRef() }, { weight: 1, arbitrary: attachPtId() }) });

/**
 * the hwpt_id of IOMMU_HWPT_SET_DIRTY_TRACKING, GET_DIRTY_BITMAP and INVALIDATE (mainline draws
 * only): three draws in four a paging HWPT of the call's context (hwptRef, made when it has
 * none), else objId's fixed ids (the happy paths' IOAS 2 and HWPT 3, other objects, 0, far off)
 */
const hwptOpId = (): fc.Arbitrary<Value> => fc.oneof({ weight: 3, arbitrary: hwptRef() }, { weight: 1, arbitrary: objId() });
/** flags: mostly the valid ones (0 and bit 0: DIRTY_TRACKING_ENABLE, GET_DIRTY_BITMAP_NO_CLEAR), sometimes unknown bits */
const hwptOpFlags = (): fc.Arbitrary<Value> => fc.oneof({ weight: 6, arbitrary: fc.constantFrom(0, 1) }, { weight: 1, arbitrary: fc.constantFrom(2, 3, 0x80000000, 0xffffffff) });
/**
 * GET_DIRTY_BITMAP's range, as the type1 dirty bitmap draws (arb.ts bitmapRangeFields): the happy
 * path's mapping and around it, unaligned IOVAs and lengths, length 0 (length - 1 wraps: -EOVERFLOW)
 * and U64_MAX, IOVAs past ULONG_MAX (32-bit); page sizes the table's (4 KiB) and larger, 0, off
 * a power of two, 2^63; the bitmap in the DMA area, read-only, NULL or unaligned (never touched here)
 */
const dirtyBitmapArg = (id: fc.Arbitrary<Value> = hwptOpId()): fc.Arbitrary<IoctlArg> =>
  struct('iommu_hwpt_get_dirty_bitmap', {
    hwpt_id: id,
    flags: hwptOpFlags(),
    reserved: zero(),
    iova: fc.oneof({ weight: 6, arbitrary: fc.constantFrom(HAPPY_IOVA, 0, 0x200000) }, { weight: 2, arbitrary: fc.constantFrom(0x100800, 0x1, 0xfffff000, '0x100000000', '0xfffffffffffff000') }, { weight: 1, arbitrary: iova }),
    length: fc.oneof({ weight: 6, arbitrary: fc.constantFrom(0x4000, 0x1000, 0x10000) }, { weight: 2, arbitrary: fc.constantFrom(0, 0x800, 0x1001, '0x100000000', '0xffffffffffffffff') }, { weight: 1, arbitrary: size }),
    page_size: fc.oneof({ weight: 6, arbitrary: fc.constantFrom(0x1000, 0x1000, 0x2000, 0x10000) }, { weight: 2, arbitrary: fc.constantFrom(0, 0x800, 0x3000, 1, '0x8000000000000000') }),
    data: fc.constantFrom<Value>({ dma: 0 }, { dma: 0 }, { dma: 15 }, 0, { ro: 0 }, 0x1),
  });
/**
 * INVALIDATE's array: mostly none (entry_num 0), else entries in the DMA area with entry_len 0,
 * a small or odd size, data_uptr NULL or read-only; data_type 0 (IOMMU_HWPT_INVALIDATE_DATA_VTD_S1)
 * or another
 */
const invalidateArg = (id: fc.Arbitrary<Value> = hwptOpId()): fc.Arbitrary<IoctlArg> =>
  struct('iommu_hwpt_invalidate', {
    hwpt_id: id,
    data_uptr: fc.constantFrom<Value>({ dma: 0 }, { dma: 0 }, 0, { ro: 0 }),
    data_type: fc.oneof({ weight: 6, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.constantFrom(1, 0xffffffff) }),
    entry_len: fc.constantFrom(16, 16, 32, 0, 7),
    entry_num: fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 3, arbitrary: fc.constantFrom(1, 4) }, { weight: 1, arbitrary: fc.constantFrom(0x1000, 0xffffffff) }),
    reserved: zero(),
  });

/**
 * the three HWPT requests on the compat container's fd (mainline+iommufd-compat; a VFIO container
 * in mainline, which refuses them: -EINVAL without an IOMMU driver, else -ENOTTY): the fd is an iommufd file (iommufd_fops), so they reach its
 * context as on /dev/iommu. hwpt_id objId's fixed ids (the resource refs name /dev/iommu contexts
 * only): after a group's first device open the context holds the compat IOAS 1, the bound device
 * 2 and its auto HWPT 3
 */
function containerHwptOpArg(req: number): fc.Arbitrary<IoctlArg> {
  if (req === I.IOMMU_HWPT_GET_DIRTY_BITMAP) return dirtyBitmapArg(objId());
  if (req === I.IOMMU_HWPT_INVALIDATE) return invalidateArg(objId());
  return struct('iommu_hwpt_set_dirty_tracking', { flags: hwptOpFlags(), hwpt_id: objId(), reserved: zero() });
}

/**
 * IOMMU_HWPT_ALLOC's nesting path and fault queue (mainline draws only, since 2026-12-07): pt_id
 * three draws in four a paging HWPT of the call's context (hwptRef: a nesting parent, so v6.12
 * hw_pagetable.c iommufd_hwpt_alloc goes to iommufd_hwpt_nested_alloc), else an IOAS (ioasRef);
 * flags IOMMU_HWPT_FAULT_ID_VALID (4) four draws in eleven, NEST_PARENT (1) or both sometimes;
 * fault_id an object of another type (the HWPT, IOAS or device refs) or a fixed id (a fault
 * object's when a FAULT_QUEUE_ALLOC gave it); driver data (data_type / data_len) mostly none,
 * sometimes VTD_S1 (1) or ARM_SMMUV3 (2) and a length. On arm-smmu v1/v2 every one of these fails
 * before the fault object is looked up (model-iommufd-pt.ts hwptAllocWant)
 */
const hwptNestRes = (): fc.Arbitrary<IoctlArg> =>
  struct('iommu_hwpt_alloc', {
    flags: fc.oneof({ weight: 6, arbitrary: fc.constant(0) }, { weight: 4, arbitrary: fc.constant(4) }, { weight: 1, arbitrary: fc.constantFrom(1, 5) }),
    dev_id: devRef(),
    pt_id: fc.oneof({ weight: 3, arbitrary: hwptRef() }, { weight: 1, arbitrary: ioasRef() }),
    out_hwpt_id: fc.constant(0),
    reserved: fc.constant(0),
    data_type: fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.constantFrom(1, 2) }),
    data_len: fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.constantFrom(8, 0x20) }),
    data_uptr: fc.constantFrom<Value>(0, { dma: 0 }),
    fault_id: fc.oneof({ weight: 3, arbitrary: fc.integer({ min: 1, max: 6 }) }, { weight: 1, arbitrary: hwptRef() }, { weight: 1, arbitrary: ioasRef() }, { weight: 1, arbitrary: devRef() }),
  });

/**
 * an iommufd request's struct longer than the kernel's (mainline draws only, one draw in thirteen
 * of every /dev/iommu request, since 2026-12-07): size sizeof + 4, 8, 16 or 64, with a u32 right
 * past the kernel's struct that is mostly non-zero (copy_struct_from_user: -E2BIG) or zero
 * (accepted as the struct), where the struct's min_size is its sizeof (the tail is written at
 * min_size: HWPT_ALLOC and GET_HW_INFO, longer than their min_size, get the size alone); the
 * fields and pointer as drawn. Shorter ones (below min_size: -EINVAL) and bad pointers (-EFAULT)
 * come from every struct's argsz and ptr draws
 */
function oversized(a: fc.Arbitrary<IoctlArg>): fc.Arbitrary<IoctlArg> {
  return rec({ a, extra: fc.constantFrom(4, 8, 16, 64), t: fc.constantFrom<Value>(1, 1, 0xffffffff, 0) }).map(({ a: x, extra, t }): IoctlArg => {
    if (x.t !== 'struct' || !(x.type in IOMMUFD_STRUCTS)) return x;
    const name = x.type as IommufdStructName;
    const k = iommufdSizeof(name);
    const out: IoctlArg = { ...x, fields: { ...x.fields, argsz: k + extra } };
    if (IOMMUFD_STRUCTS[name].minsz === k) out.tail = [t];
    return out;
  });
}

/** ATTACH's pt_id where the profile has /dev/iommu: objId's, and the ids IOAS_ALLOC and HWPT_ALLOC give after the happy paths (4, 5, 6) more often */
const attachPtId = (): fc.Arbitrary<Value> => fc.oneof({ weight: 6, arbitrary: objId() }, { weight: 3, arbitrary: fc.constantFrom(4, 5, 6, 3) });

/**
 * an ioctl's argument. `live` (profiles with /dev/iommu): HWPT_ALLOC, IOAS_COPY and ATTACH also
 * draw their success-biased arguments (above); without it the tree is the one it always was
 */
function argFor(req: number, live = false): fc.Arbitrary<IoctlArg> {
  if (live) {
    switch (req) {
      case I.IOMMU_HWPT_ALLOC:
        // resource-typed dev_id and pt_id (hwptAllocRes) three draws in eight; the fixed ids
        // (hwptAllocLive: the happy paths' contexts, other objects' ids) and argFor's kept for the rest
        // (appended 2026-12-07) the nesting path and the fault queue (hwptNestRes) two draws in ten
        return fc.oneof({ weight: 1, arbitrary: argFor(req) }, { weight: 4, arbitrary: hwptAllocLive() }, { weight: 3, arbitrary: hwptAllocRes() }, { weight: 2, arbitrary: hwptNestRes() });
      // resource-typed IOAS ids (ioasRef) two draws in three (IOAS_MAP) and one in two (IOAS_COPY,
      // source the first IOAS, destination the first or second); the fixed ids (objId, copyLive's)
      // kept for the rest: other objects' ids, destroyed and never allocated ones (-ENOENT)
      case I.IOMMU_IOAS_MAP:
        return fc.oneof({ weight: 1, arbitrary: argFor(req) }, { weight: 2, arbitrary: mapRes() });
      case I.IOMMU_IOAS_COPY:
        return fc.oneof({ weight: 1, arbitrary: argFor(req) }, { weight: 1, arbitrary: copyLive() }, { weight: 2, arbitrary: copyLive(ioasRef(), fc.constant<Value>({ ioas: 0, mk: 1 })) });
      case C.VFIO_DEVICE_ATTACH_IOMMUFD_PT:
        return struct('vfio_device_attach_iommufd_pt', { flags: zero(), pt_id: attachPtId() });
      // IOMMU_DESTROY of a resource-typed HWPT (hwptRef: -EBUSY while a device is attached to it,
      // else gone) or IOAS (ioasRef) one draw in four each; objId's fixed ids for the rest
      case I.IOMMU_DESTROY:
        return fc.oneof({ weight: 2, arbitrary: argFor(req) }, { weight: 1, arbitrary: struct('iommu_destroy', { id: hwptRef() }) }, { weight: 1, arbitrary: struct('iommu_destroy', { id: ioasRef() }) });
      // the HWPT ioctls arm-smmu v1/v2 answers with an error after its checks (model-iommufd-hwpt-ops.ts)
      case I.IOMMU_HWPT_SET_DIRTY_TRACKING:
        return struct('iommu_hwpt_set_dirty_tracking', { flags: hwptOpFlags(), hwpt_id: hwptOpId(), reserved: zero() });
      case I.IOMMU_HWPT_GET_DIRTY_BITMAP:
        return dirtyBitmapArg();
      case I.IOMMU_HWPT_INVALIDATE:
        return invalidateArg();
      case C.VFIO_DEVICE_BIND_IOMMUFD:
        // the iommufd a resource-typed ref (resRef): the calling process's, made when it has none
        return struct('vfio_device_bind_iommufd', { flags: zero(), iommufd: fc.oneof({ weight: 10, arbitrary: resRef('iommufd').map((f) => ({ fd: f }) as Value) }, { weight: 1, arbitrary: fc.constantFrom<Value>(-1, 0, 0x7fffffff) }), out_devid: fc.constant(0) });
    }
  }
  switch (req) {
    case I.IOMMU_DESTROY:
      return struct('iommu_destroy', { id: objId() });
    case I.IOMMU_IOAS_ALLOC:
      return struct('iommu_ioas_alloc', { flags: zero(), out_ioas_id: fc.constant(0) });
    case I.IOMMU_IOAS_MAP:
      return struct('iommu_ioas_map', { flags: mapFlags(), ioas_id: objId(), reserved: zero(), user_va: vaddr, length: size, iova });
    case I.IOMMU_IOAS_UNMAP:
      return struct('iommu_ioas_unmap', {
        ioas_id: objId(),
        // the happy path's mapping (IOMMUFD_PREFIX) and around it
        iova: fc.oneof({ weight: 4, arbitrary: fc.constantFrom(HAPPY_IOVA, HAPPY_IOVA + 0x1000) }, { weight: 6, arbitrary: iova }, { weight: 1, arbitrary: fc.constant(0) }),
        // iova 0 with length U64_MAX: iommufd_ioas_unmap's "unmap everything"
        length: fc.oneof({ weight: 4, arbitrary: fc.constantFrom(0x4000, 0x1000, 0x8000) }, { weight: 6, arbitrary: size }, { weight: 1, arbitrary: fc.constant('0xffffffffffffffff') }),
      });
    case I.IOMMU_IOAS_COPY:
      return struct('iommu_ioas_copy', {
        flags: mapFlags(),
        dst_ioas_id: objId(),
        src_ioas_id: objId(),
        length: fc.oneof({ weight: 3, arbitrary: fc.constantFrom(0x1000, 0x4000) }, { weight: 2, arbitrary: size }),
        dst_iova: iova,
        src_iova: fc.oneof({ weight: 3, arbitrary: fc.constant(HAPPY_IOVA) }, { weight: 2, arbitrary: iova }),
      });
    case I.IOMMU_IOAS_IOVA_RANGES:
      // the output array in the DMA area (num_iovas 0: only the count comes back, -EMSGSIZE)
      return struct('iommu_ioas_iova_ranges', { ioas_id: objId(), num_iovas: fc.constantFrom(0, 1, 4, 0xffffffff), reserved: zero(), allowed_iovas: fc.constantFrom<Value>({ dma: 0 }, { dma: 15 }, 0, { ro: 0 }), out_iova_alignment: fc.constant(0) });
    case I.IOMMU_IOAS_ALLOW_IOVAS:
      // the ranges are read from the DMA area (zero-filled: [0, 0] ranges), or nowhere
      return struct('iommu_ioas_allow_iovas', { ioas_id: objId(), num_iovas: fc.constantFrom(0, 0, 1, 2, 0xffffffff), reserved: zero(), allowed_iovas: fc.constantFrom<Value>({ dma: 0 }, 0, { ro: 0 }) });
    case I.IOMMU_OPTION:
      return struct('iommu_option', {
        option_id: fc.oneof({ weight: 6, arbitrary: fc.constantFrom(0, 1) }, { weight: 1, arbitrary: u32 }),
        op: fc.oneof({ weight: 6, arbitrary: fc.constantFrom(0, 1) }, { weight: 1, arbitrary: fc.constantFrom(2, 0x10000) }),
        object_id: fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 2, arbitrary: objId() }),
        val64: fc.oneof({ weight: 6, arbitrary: fc.constantFrom(0, 1, 2) }, { weight: 1, arbitrary: fc.constantFrom(3, '0xffffffffffffffff') }),
      });
    case I.IOMMU_HWPT_ALLOC:
      return struct('iommu_hwpt_alloc', { flags: fc.oneof({ weight: 6, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: flags([1, 2, 4]) }), dev_id: objId(), pt_id: objId(), out_hwpt_id: fc.constant(0), reserved: zero(), data_type: zero(), data_len: zero(), data_uptr: fc.constant(0), fault_id: zero() });
    case I.IOMMU_VFIO_IOAS:
      return struct('iommu_vfio_ioas', { ioas_id: vfioIoasId(), op: vfioIoasOp() });
    case I.IOMMU_FAULT_QUEUE_ALLOC:
      return struct('iommu_fault_alloc', { flags: zero(), out_fault_id: fc.constant(0), out_fault_fd: fc.constant(0) });
    case I.IOMMU_GET_HW_INFO:
      return struct('iommu_hw_info', { flags: zero(), dev_id: objId(), data_len: fc.constantFrom(0, 8, 64), data_uptr: fc.constantFrom<Value>({ dma: 1 }, 0), out_data_type: fc.constant(0), reserved: zero(), out_capabilities: fc.constant(0) });
    case C.VFIO_DEVICE_BIND_IOMMUFD:
      return struct('vfio_device_bind_iommufd', { flags: zero(), iommufd: fdVal('iommufd'), out_devid: fc.constant(0) });
    case C.VFIO_DEVICE_ATTACH_IOMMUFD_PT:
      return struct('vfio_device_attach_iommufd_pt', { flags: zero(), pt_id: objId() });
    case C.VFIO_DEVICE_DETACH_IOMMUFD_PT:
      return struct('vfio_device_detach_iommufd_pt', { flags: zero() });
    default:
      return rec({ t: fc.constant('int' as const), v: u32 as fc.Arbitrary<Value> });
  }
}

/** iommufdCallArb's trees, without and with the mainline-only requests (built once each) */
// host-only: a cache of immutable arbitraries (the same tree for the same flag), no simulated state
const built = new Map<boolean, fc.Arbitrary<Call>>();

/**
 * counts for the fault fd: multiples of sizeof(struct iommu_hwpt_pgfault) (40, what read takes)
 * and of sizeof(struct iommu_hwpt_page_response) (8, what write takes), 0, and counts off both
 */
const faultCount = fc.constantFrom(40, 40, 80, 8, 8, 16, 0, 4, 39, 41, 24, 0x1000);

/**
 * the calls on a fault fd (IOMMU_FAULT_QUEUE_ALLOC's answer): read/write, pread/pwrite, poll,
 * close; `live` (the profile has /dev/iommu): the fd a resource-typed ref (resRef)
 */
function faultFdArb(live: boolean): fc.Arbitrary<Call> {
  const fault = live ? resRef('fault') : fdRef('fault');
  return fc.oneof(
    { weight: 4, arbitrary: rec({ op: fc.constantFrom('read' as const, 'write' as const), p: pid, fd: fault, count: faultCount, ptr }) },
    { weight: 1, arbitrary: rec({ op: fc.constantFrom('pread' as const, 'pwrite' as const), p: pid, fd: fault, off: fc.constant({ region: 0, off: 0 }), count: faultCount, ptr }) },
    { weight: 1, arbitrary: rec({ op: fc.constant('poll' as const), p: pid, fds: fc.array(fault, { minLength: 1, maxLength: 2 }), events: fc.constantFrom(1, 4, 5, 0xffff) }) },
    { weight: 2, arbitrary: rec({ op: fc.constant('close' as const), p: pid, fd: fault }) },
  );
}

function ioctlOn(kind: FdKind, reqs: number[], live = false): fc.Arbitrary<Call> {
  const arbs = new Map<number, fc.Arbitrary<Call>>();
  // with /dev/iommu (`live`) the iommufd fd is a resource-typed ref (resRef)
  const fd = live && kind === 'iommufd' ? resRef('iommufd') : fdRef(kind);
  for (const r of new Set(reqs)) {
    const hwptOnContainer = kind === 'container' && (r === I.IOMMU_HWPT_SET_DIRTY_TRACKING || r === I.IOMMU_HWPT_GET_DIRTY_BITMAP || r === I.IOMMU_HWPT_INVALIDATE);
    // with /dev/iommu, every request's struct one draw in thirteen longer than the kernel's (oversized)
    const a = hwptOnContainer ? containerHwptOpArg(r) : live && kind === 'iommufd' ? fc.oneof({ weight: 12, arbitrary: argFor(r, live) }, { weight: 1, arbitrary: oversized(argFor(r, live)) }) : argFor(r, live);
    const plain = rec({ op: fc.constant('ioctl' as const), p: pid, fd, req: fc.constant(r), arg: a });
    // with /dev/iommu, ATTACH and DETACH on a resource-typed device fd (boundDevRef) three draws in
    // eight, ATTACH's pt_id then an IOAS of that device's context (attachRes); fdRef's for the rest
    if (live && kind === 'device' && (r === C.VFIO_DEVICE_ATTACH_IOMMUFD_PT || r === C.VFIO_DEVICE_DETACH_IOMMUFD_PT)) {
      const res = rec({ op: fc.constant('ioctl' as const), p: pid, fd: boundDevRef(), req: fc.constant(r), arg: r === C.VFIO_DEVICE_ATTACH_IOMMUFD_PT ? attachRes() : argFor(r, live) });
      arbs.set(r, fc.oneof({ weight: 5, arbitrary: plain }, { weight: 3, arbitrary: res }));
    } else arbs.set(r, plain);
  }
  return fc.constantFrom(...reqs).chain((r) => arbs.get(r)!);
}

/**
 * every iommufd/cdev call, weighted toward the IOAS and binding state machine. `iommufd`: the
 * profile has /dev/iommu (arb.ts iommufdOf). Then IOMMU_VFIO_IOAS is drawn too, on /dev/iommu
 * fds (3 of the 22 iommufd requests) and, with IOMMU_IOAS_ALLOC and IOMMU_DESTROY, on container
 * fds (weight 3 of 27): in mainline+iommufd-compat /dev/vfio/vfio is an iommufd context whose
 * compat IOAS the VFIO container ioctls use (in mainline a VFIO container, which refuses them).
 * Without iommufd (the 2014 profiles, where these calls are drawn at a token weight) the tree is
 * the one it always was, so their programs are unchanged.
 */
export function iommufdCallArb(iommufd = true): fc.Arbitrary<Call> {
  const have = built.get(iommufd);
  if (have) return have;
  const iommufdReqs = [I.IOMMU_IOAS_ALLOC, I.IOMMU_IOAS_ALLOC, I.IOMMU_IOAS_MAP, I.IOMMU_IOAS_MAP, I.IOMMU_IOAS_MAP, I.IOMMU_IOAS_UNMAP, I.IOMMU_IOAS_UNMAP, I.IOMMU_IOAS_COPY, I.IOMMU_IOAS_IOVA_RANGES, I.IOMMU_IOAS_ALLOW_IOVAS, I.IOMMU_DESTROY, I.IOMMU_DESTROY, I.IOMMU_OPTION, I.IOMMU_HWPT_ALLOC, I.IOMMU_GET_HW_INFO, I.IOMMU_FAULT_QUEUE_ALLOC, I.IOMMU_FAULT_QUEUE_ALLOC, 0x3b8f, 0x3b70];
  // with /dev/iommu also HWPT_ALLOC and IOAS_COPY three times more each (their success-biased draws: argFor `live`),
  // and (since 2026-12-07) HWPT_SET_DIRTY_TRACKING, HWPT_GET_DIRTY_BITMAP, HWPT_INVALIDATE once each
  if (iommufd) iommufdReqs.push(I.IOMMU_VFIO_IOAS, I.IOMMU_VFIO_IOAS, I.IOMMU_VFIO_IOAS, I.IOMMU_HWPT_ALLOC, I.IOMMU_HWPT_ALLOC, I.IOMMU_HWPT_ALLOC, I.IOMMU_IOAS_COPY, I.IOMMU_IOAS_COPY, I.IOMMU_IOAS_COPY, I.IOMMU_HWPT_SET_DIRTY_TRACKING, I.IOMMU_HWPT_GET_DIRTY_BITMAP, I.IOMMU_HWPT_INVALIDATE);
  const cdevReqs = [C.VFIO_DEVICE_BIND_IOMMUFD, C.VFIO_DEVICE_BIND_IOMMUFD, C.VFIO_DEVICE_ATTACH_IOMMUFD_PT, C.VFIO_DEVICE_ATTACH_IOMMUFD_PT, C.VFIO_DEVICE_DETACH_IOMMUFD_PT];
  const calls = [
    { weight: 3, arbitrary: rec({ op: fc.constant('open' as const), p: pid, path: fc.constantFrom('/dev/iommu', ...CDEV_PATHS), flags: fc.oneof({ weight: 8, arbitrary: fc.constant(2) }, { weight: 1, arbitrary: fc.constantFrom(0, 1, 0o2000002) }) }) },
    { weight: 1, arbitrary: rec({ op: fc.constant('close' as const), p: pid, fd: fdRef('iommufd') }) },
    { weight: 12, arbitrary: ioctlOn('iommufd', iommufdReqs, iommufd) },
    { weight: 5, arbitrary: ioctlOn('device', cdevReqs, iommufd) },
    { weight: 3, arbitrary: faultFdArb(iommufd) },
  ];
  // the compat container's IOAS switched, cleared, made and destroyed
  if (iommufd) calls.push({ weight: 3, arbitrary: ioctlOn('container', [I.IOMMU_VFIO_IOAS, I.IOMMU_VFIO_IOAS, I.IOMMU_VFIO_IOAS, I.IOMMU_IOAS_ALLOC, I.IOMMU_DESTROY]) });
  // (appended 2026-12-07) the HWPT requests on the container's fd: the compat container's context (containerHwptOpArg)
  if (iommufd) calls.push({ weight: 1, arbitrary: ioctlOn('container', [I.IOMMU_HWPT_SET_DIRTY_TRACKING, I.IOMMU_HWPT_GET_DIRTY_BITMAP, I.IOMMU_HWPT_INVALIDATE]) });
  const arb = fc.oneof(...calls);
  built.set(iommufd, arb);
  return arb;
}

const dev0 = { k: 'device' as const, i: 0 };
const ifd0 = { k: 'iommufd' as const, i: 0 };

/** the cdev + iommufd happy path (as guest-tests/pl330-vfio-test-iommufd): ids 1 device, 2 IOAS, 3 auto HWPT */
export const IOMMUFD_PREFIX: Call[] = [
  { op: 'open', p: 0, path: '/dev/iommu', flags: 2 },
  { op: 'open', p: 0, path: '/dev/vfio/devices/vfio0', flags: 2 },
  { op: 'ioctl', p: 0, fd: dev0, req: C.VFIO_DEVICE_BIND_IOMMUFD, arg: { t: 'struct', type: 'vfio_device_bind_iommufd', fields: { argsz: 16, flags: 0, iommufd: { fd: ifd0 }, out_devid: 0 }, ptr: 'ok' } },
  { op: 'ioctl', p: 0, fd: ifd0, req: I.IOMMU_IOAS_ALLOC, arg: { t: 'struct', type: 'iommu_ioas_alloc', fields: { argsz: 12, flags: 0, out_ioas_id: 0 }, ptr: 'ok' } },
  { op: 'ioctl', p: 0, fd: dev0, req: C.VFIO_DEVICE_ATTACH_IOMMUFD_PT, arg: { t: 'struct', type: 'vfio_device_attach_iommufd_pt', fields: { argsz: 12, flags: 0, pt_id: 2 }, ptr: 'ok' } },
  { op: 'ioctl', p: 0, fd: ifd0, req: I.IOMMU_IOAS_MAP, arg: { t: 'struct', type: 'iommu_ioas_map', fields: { argsz: 40, flags: 7, ioas_id: 2, reserved: 0, user_va: { dma: 0 }, length: 4 * 4096, iova: HAPPY_IOVA }, ptr: 'ok' } },
];

/**
 * The happy path with an IOAS's HWPT allocated by IOMMU_HWPT_ALLOC instead of ATTACH's auto
 * domain (what a VMM does to own the page table's lifetime): open, BIND (device id 1),
 * IOAS_ALLOC (2), HWPT_ALLOC of device 1 on the empty IOAS 2 (HWPT 3: no device attached, so the
 * arm-smmu domain has no page table yet), ATTACH to HWPT 3 (the attach finalises the domain),
 * IOAS_MAP of 4 pages at 0x100000 (filled into HWPT 3's domain) and two more, empty IOASes (4
 * and 5): the ids IOMMUFD_PREFIX hands out, plus an IOAS to copy into and one to allocate a HWPT
 * on (the draws' favourites: copyLive, hwptPtId). DETACH leaves HWPT 3 (not an auto domain);
 * DESTROY of it then succeeds.
 */
export const HWPT_PREFIX: Call[] = [
  ...IOMMUFD_PREFIX.slice(0, 4),
  { op: 'ioctl', p: 0, fd: ifd0, req: I.IOMMU_HWPT_ALLOC, arg: { t: 'struct', type: 'iommu_hwpt_alloc', fields: { argsz: 48, flags: 0, dev_id: 1, pt_id: 2, out_hwpt_id: 0, reserved: 0, data_type: 0, data_len: 0, data_uptr: 0, fault_id: 0 }, ptr: 'ok' } },
  { op: 'ioctl', p: 0, fd: dev0, req: C.VFIO_DEVICE_ATTACH_IOMMUFD_PT, arg: { t: 'struct', type: 'vfio_device_attach_iommufd_pt', fields: { argsz: 12, flags: 0, pt_id: 3 }, ptr: 'ok' } },
  IOMMUFD_PREFIX[5]!,
  IOMMUFD_PREFIX[3]!,
  IOMMUFD_PREFIX[3]!,
];
