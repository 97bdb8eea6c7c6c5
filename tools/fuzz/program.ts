/**
 * The fuzzer's program representation: a JSON-serialisable list of calls with symbolic
 * resources (fd references resolved at execution time against the fds each process holds,
 * user pointers into per-process areas, region-relative file offsets). Symbolic
 * references keep a program meaningful while fast-check shrinks it (deleting a call
 * never leaves a dangling number), and make replay files independent of fd numbering.
 */

import { CDEV_DEVICE_IOCTLS, CDEV_REQS, FAULT_FD_CALLS, IOMMUFD_FD_IOCTLS, IOMMUFD_REQS, IOMMUFD_STRUCTS, type IommufdStructName } from './program-iommufd.js';

/** which fds an FdRef chooses from (`fault`: the fds IOMMU_FAULT_QUEUE_ALLOC returns, "[iommufd-pgfault]") */
export type FdKind = 'container' | 'group' | 'device' | 'eventfd' | 'any' | 'iommufd' | 'fault';

/**
 * the i-th (modulo) live fd of that kind in the calling process, or a raw fd number. `mk`
 * (kinds `iommufd` and `fault`: MAKE_KINDS; `device` below): a resource-typed argument, as syzkaller's
 * resources are: when the calling process has no live fd of that kind, the call that makes one
 * runs first, in the same step (open("/dev/iommu"); for `fault`, IOMMU_FAULT_QUEUE_ALLOC on the
 * process's first /dev/iommu fd, opened first if it has none; Harness.makeResources, emit-c.ts
 * make_fd), so the fd then names it. Drawn only where the profile has /dev/iommu (arb-iommufd.ts).
 * On kind `device` (ATTACH/DETACH_IOMMUFD_PT's fd) `mk` means a bound cdev fd: hasBoundDevRef
 */
export type FdRef = { k: FdKind; i: number; mk?: 1 } | { raw: number };

/** the fd kinds an FdRef's `mk` makes (`device`: a bound cdev fd, made apart: hasBoundDevRef) */
export const MAKE_KINDS: readonly FdKind[] = ['iommufd', 'fault'];

/**
 * whether a call's fd is a resource-typed device fd (FdRef `{ k: 'device', i, mk: 1 }`, mainline
 * draws of VFIO_DEVICE_ATTACH/DETACH_IOMMUFD_PT only: arb-iommufd.ts boundDevRef): "the i-th
 * (modulo), in fd order, of the calling process's cdev fds bound (VFIO_DEVICE_BIND_IOMMUFD) to
 * the context of one of its live /dev/iommu fds"; when it has none, a free device's cdev is
 * opened and bound to its first /dev/iommu fd first (opened first when it has none), in the same
 * step (Harness.makeBoundDev, emit-c make_bound_dev). Its `{ ioas }` values then resolve in the
 * context that cdev is bound to. fd 1000 (-EBADF) when no device could be bound
 */
export function hasBoundDevRef(c: Call): boolean {
  return 'fd' in c && isBoundDevRef(c.fd);
}

export function isBoundDevRef(r: FdRef): boolean {
  return !('raw' in r) && r.k === 'device' && r.mk === 1;
}

/** makeRefs' answer for a call without such refs (most calls): shared, never written */
const NO_MAKE_REFS: readonly { k: FdKind; i: number }[] = Object.freeze([]);

/**
 * the refs of a call that make their fd when the process has none (FdRef.mk), in argument order.
 * Runs for every executed call (Harness.exec): no closure, no `Object.values` array, and the
 * shared empty answer when there is none (the caller only reads it)
 */
export function makeRefs(c: Call): readonly { k: FdKind; i: number }[] {
  let out: { k: FdKind; i: number }[] | null = null;
  if ('fd' in c && isMakeRef(c.fd)) (out ??= []).push(c.fd);
  if (c.op === 'poll') for (const r of c.fds) if (isMakeRef(r)) (out ??= []).push(r);
  if (c.op === 'ioctl' && c.arg.t === 'struct') {
    const fields = c.arg.fields;
    for (const k in fields) {
      const v = fields[k];
      if (typeof v === 'object' && v !== null && 'fd' in v && isMakeRef(v.fd)) (out ??= []).push(v.fd);
    }
  }
  return out ?? NO_MAKE_REFS;
}

function isMakeRef(r: FdRef): r is { k: FdKind; i: number; mk: 1 } {
  return !('raw' in r) && r.mk === 1 && MAKE_KINDS.includes(r.k);
}

/** whether an ioctl's struct names a resource-typed IOAS id (Value `{ ioas, mk }`): refFlags' REF_IOAS */
export function hasIoasRef(c: Call): boolean {
  return (refFlags(c) & REF_IOAS) !== 0;
}

/** whether an ioctl's struct names a resource-typed device id (Value `{ dev, mk }`): refFlags' REF_DEV */
export function hasDevRef(c: Call): boolean {
  return (refFlags(c) & REF_DEV) !== 0;
}

/** whether an ioctl's struct names a resource-typed HWPT id (Value `{ hwpt, mk }`): refFlags' REF_HWPT */
export function hasHwptRef(c: Call): boolean {
  return (refFlags(c) & REF_HWPT) !== 0;
}

/** refFlags' bits: a ref that makes its fd (makeRefs non-empty) */
export const REF_MAKE = 1;
/** a resource-typed device fd (hasBoundDevRef) */
export const REF_BOUND_DEV = 2;
/** a resource-typed HWPT id (hasHwptRef) */
export const REF_HWPT = 4;
/** a resource-typed IOAS id (hasIoasRef) */
export const REF_IOAS = 8;
/** a resource-typed device id (hasDevRef) */
export const REF_DEV = 16;

/**
 * What a call's arguments ask to be made first, as bits (REF_*), in one walk of its arguments:
 * whether makeRefs is non-empty, hasBoundDevRef, and the struct fields with resource-typed ids
 * (hasIoasRef, hasDevRef and hasHwptRef are this function's bits). Harness.exec asks once per
 * executed call (four walks of a struct's fields before), and most calls have none of them.
 */
export function refFlags(c: Call): number {
  let f = 0;
  if ('fd' in c) {
    if (isMakeRef(c.fd)) f |= REF_MAKE;
    if (isBoundDevRef(c.fd)) f |= REF_BOUND_DEV;
  }
  if (c.op === 'poll') for (const r of c.fds) if (isMakeRef(r)) f |= REF_MAKE;
  if (c.op === 'ioctl' && c.arg.t === 'struct') {
    const fields = c.arg.fields;
    for (const k in fields) {
      const v = fields[k];
      if (typeof v !== 'object' || v === null) continue;
      if ('fd' in v && isMakeRef(v.fd)) f |= REF_MAKE;
      if ('ioas' in v) f |= REF_IOAS;
      if ('dev' in v) f |= REF_DEV;
      if ('hwpt' in v) f |= REF_HWPT;
    }
  }
  return f;
}

/** where a user pointer points */
export type PtrKind =
  | 'ok' // the process's scratch buffer
  | 'null'
  | 'unmapped' // an address below the first user mapping
  | 'ro' // a read-only page (copy_to_user faults)
  | 'tail'; // 8 bytes before the end of the 2-page scratch buffer: what follows is the read-only area (reads go on into its zeros, writes fault)

/**
 * A value for a struct field or an argument: a number (u32 range or small), a hex string
 * for 64-bit values, or a symbol resolved at execution time.
 */
export type Value =
  | number
  | string
  | { fd: FdRef }
  // vaddr of page n of the process's DMA area (pages past its end fall into other memory), plus
  // `off` bytes (a dirty bitmap that ends past the area's last page)
  | { dma: number; off?: number }
  | { ro: number } // vaddr of page n of the process's read-only area
  /**
   * a resource-typed IOAS id (mainline draws only: arb-iommufd.ts ioasRef): the `ioas`-th
   * (modulo) IOAS, in id order, of the iommufd context the call's fd names; when that context
   * has none, IOMMU_IOAS_ALLOC runs first on that fd, in the same step (Harness.makeIoas, emit-c
   * make_ioas), as syzkaller makes a resource's producer first (prog/rand.go createResource).
   * 0 when the call's fd is no live iommufd
   */
  | { ioas: number; mk: 1 }
  /**
   * a resource-typed device id (mainline draws only: arb-iommufd.ts devRef, IOMMU_HWPT_ALLOC's
   * dev_id): the `dev`-th (modulo) device object, in id order, bound to the iommufd context the
   * call's fd names; when it has none, a device is bound to it first, in the same step: the
   * cdev of the first VFIO device (vfio0, vfio1) that open + VFIO_DEVICE_BIND_IOMMUFD with that
   * fd accepts (Harness.makeDev, emit-c make_dev; the cdev fd stays open in the process). 0
   * when the call's fd is no live iommufd or no device could be bound
   */
  | { dev: number; mk: 1 }
  /**
   * a resource-typed HWPT id (mainline draws only: arb-iommufd.ts hwptRef; ATTACH's pt_id,
   * IOMMU_DESTROY's id): the `hwpt`-th (modulo) paging HWPT, in id order, of the iommufd context
   * the call's fd names (a /dev/iommu fd's own, a bound cdev's: as `{ ioas }`), ids up to
   * HWPT_ID_MAX; the auto domains ATTACH makes count as well as HWPT_ALLOC's (both ids reach user
   * space: VFIO_DEVICE_ATTACH_IOMMUFD_PT writes the attached HWPT's id back into pt_id,
   * IOMMU_HWPT_ALLOC answers out_hwpt_id). When it has none, one is made first, in the same step:
   * a device bound when the context has none (as `{ dev }`), a fresh IOAS (IOMMU_IOAS_ALLOC) and
   * IOMMU_HWPT_ALLOC of the context's first device on it (Harness.makeHwpt, emit-c make_hwpt). 0
   * when the call's fd is no live iommufd or no HWPT could be made
   */
  | { hwpt: number; mk: 1 };

/** a file offset: into region `region` of the device (encoded as the profile's ABI says), or raw */
export type Off = { region: number; off: number } | { raw: string };

export interface StructArg {
  t: 'struct';
  /** layout name (see STRUCTS) */
  type: StructName;
  fields: Record<string, Value>;
  /** 32-bit words after minsz (SET_IRQS data) */
  tail?: Value[];
  ptr: PtrKind;
}

export type IoctlArg =
  | { t: 'int'; v: Value }
  | StructArg
  | { t: 'str'; s: string; nul: boolean; ptr: PtrKind }
  | { t: 'bytes'; b: number[]; ptr: PtrKind };

export type Call =
  | { op: 'open'; p: number; path: string; flags: number }
  | { op: 'close'; p: number; fd: FdRef }
  | { op: 'ioctl'; p: number; fd: FdRef; req: number; arg: IoctlArg }
  | { op: 'pread' | 'pwrite'; p: number; fd: FdRef; off: Off; count: number; ptr: PtrKind }
  | { op: 'read' | 'write'; p: number; fd: FdRef; count: number; ptr: PtrKind }
  | { op: 'mmap'; p: number; fd: FdRef; len: number; prot: number; flags: number; off: Off }
  | { op: 'munmap'; p: number; map: number; len: number }
  | { op: 'mmio'; p: number; map: number; off: number; width: 1 | 2 | 4; write: boolean; value: number }
  /**
   * a user store of the 32-bit `value` at byte `off` (a multiple of 4) of page `page` of the
   * process's DMA area (the memory its MAP_DMA calls pin): the program writing its buffer, as
   * a driver fills a descriptor or a payload before it starts the device
   */
  | { op: 'store'; p: number; page: number; off: number; value: number }
  | { op: 'eventfd'; p: number; init: number; flags: number }
  | { op: 'efd_write'; p: number; fd: FdRef; value: string }
  | { op: 'poll'; p: number; fds: FdRef[]; events: number }
  | { op: 'echo'; p: number; path: string; value: string }
  | { op: 'exit'; p: number }
  /**
   * fork(2) of P`p`: the process of slot `into` ends (as its `exit`) and the child takes the
   * slot, with a copy of P`p`'s memory and its fd table (the same open files: containers,
   * groups, devices shared), and the credentials of slot `into` (a child that dropped
   * CAP_IPC_LOCK or changed uid after the fork). `into` equal to `p` does nothing.
   */
  | { op: 'fork'; p: number; into: number }
  | { op: 'run'; ns: number }
  | { op: 'raw'; p: number; nr: number; args: number[] };

export type Program = Call[];

export type StructName =
  | 'vfio_group_status'
  | 'vfio_iommu_type1_info'
  | 'vfio_iommu_type1_dma_map'
  | 'vfio_iommu_type1_dma_unmap'
  | 'vfio_device_info'
  | 'vfio_region_info'
  | 'vfio_irq_info'
  | 'vfio_irq_set'
  | 'int32'
  | 'vfio_iommu_type1_dirty_bitmap'
  | 'vfio_iommu_type1_dma_unmap_bitmap'
  | IommufdStructName;

/** field name, offset, size (bytes) and minsz of every VFIO argument struct */
export const STRUCTS: Record<StructName, { minsz: number; fields: [string, number, 4 | 8][] }> = {
  ...IOMMUFD_STRUCTS,
  vfio_group_status: { minsz: 8, fields: [['argsz', 0, 4], ['flags', 4, 4]] },
  vfio_iommu_type1_info: { minsz: 16, fields: [['argsz', 0, 4], ['flags', 4, 4], ['iova_pgsizes', 8, 8]] },
  vfio_iommu_type1_dma_map: { minsz: 32, fields: [['argsz', 0, 4], ['flags', 4, 4], ['vaddr', 8, 8], ['iova', 16, 8], ['size', 24, 8]] },
  vfio_iommu_type1_dma_unmap: { minsz: 24, fields: [['argsz', 0, 4], ['flags', 4, 4], ['iova', 8, 8], ['size', 16, 8]] },
  vfio_device_info: { minsz: 16, fields: [['argsz', 0, 4], ['flags', 4, 4], ['num_regions', 8, 4], ['num_irqs', 12, 4]] },
  vfio_region_info: { minsz: 32, fields: [['argsz', 0, 4], ['flags', 4, 4], ['index', 8, 4], ['resv', 12, 4], ['size', 16, 8], ['offset', 24, 8]] },
  vfio_irq_info: { minsz: 16, fields: [['argsz', 0, 4], ['flags', 4, 4], ['index', 8, 4], ['count', 12, 4]] },
  vfio_irq_set: { minsz: 20, fields: [['argsz', 0, 4], ['flags', 4, 4], ['index', 8, 4], ['start', 12, 4], ['count', 16, 4]] },
  int32: { minsz: 4, fields: [['v', 0, 4]] },
  // VFIO_IOMMU_DIRTY_PAGES (v5.8+): struct vfio_iommu_type1_dirty_bitmap (argsz, flags; minsz 8)
  // and, for GET_BITMAP, struct vfio_iommu_type1_dirty_bitmap_get behind it: iova, size, then
  // struct vfio_bitmap (pgsize, size, data: a 4-byte pointer padded to 8 on 32-bit ARM). The
  // layout's minsz is the whole GET_BITMAP argument (8 + 40); START/STOP need 8.
  vfio_iommu_type1_dirty_bitmap: { minsz: 48, fields: [['argsz', 0, 4], ['flags', 4, 4], ['iova', 8, 8], ['size', 16, 8], ['pgsize', 24, 8], ['bitmap_size', 32, 8], ['data', 40, 8]] },
  // UNMAP_DMA with VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP: struct vfio_iommu_type1_dma_unmap with
  // its struct vfio_bitmap behind the 24 bytes (vfio_iommu_type1_unmap_dma: argsz >= 24 + 24)
  vfio_iommu_type1_dma_unmap_bitmap: { minsz: 48, fields: [['argsz', 0, 4], ['flags', 4, 4], ['iova', 8, 8], ['size', 16, 8], ['pgsize', 24, 8], ['bitmap_size', 32, 8], ['data', 40, 8]] },
};

/** VFIO request numbers by name (include/uapi/linux/vfio.h) */
export const VFIO_REQS = {
  VFIO_GET_API_VERSION: 0x3b64,
  VFIO_CHECK_EXTENSION: 0x3b65,
  VFIO_SET_IOMMU: 0x3b66,
  VFIO_GROUP_GET_STATUS: 0x3b67,
  VFIO_GROUP_SET_CONTAINER: 0x3b68,
  VFIO_GROUP_UNSET_CONTAINER: 0x3b69,
  VFIO_GROUP_GET_DEVICE_FD: 0x3b6a,
  VFIO_DEVICE_GET_INFO: 0x3b6b,
  VFIO_DEVICE_GET_REGION_INFO: 0x3b6c,
  VFIO_DEVICE_GET_IRQ_INFO: 0x3b6d,
  VFIO_DEVICE_SET_IRQS: 0x3b6e,
  VFIO_DEVICE_RESET: 0x3b6f,
  VFIO_IOMMU_GET_INFO: 0x3b70,
  VFIO_IOMMU_MAP_DMA: 0x3b71,
  VFIO_IOMMU_UNMAP_DMA: 0x3b72,
} as const;

/**
 * VFIO_IOMMU_DIRTY_PAGES (_IO(VFIO_TYPE, VFIO_BASE + 17), v5.8): kept out of VFIO_REQS, whose
 * values the 2014 profiles' arbitraries draw from (arb.ts allVfio): the fuzzer draws it only
 * where type1 has it (`type1DirtyPages`, arb.ts dirtyPagesOf)
 */
export const VFIO_IOMMU_DIRTY_PAGES = 0x3b75;

const REQ_NAMES = new Map<number, string>(Object.entries(VFIO_REQS).map(([k, v]) => [v, k]));
REQ_NAMES.set(VFIO_IOMMU_DIRTY_PAGES, 'VFIO_IOMMU_DIRTY_PAGES');
for (const [k, v] of [...Object.entries(IOMMUFD_REQS), ...Object.entries(CDEV_REQS)]) REQ_NAMES.set(v, k);
REQ_NAMES.set(0x5421, 'FIONBIO');
REQ_NAMES.set(0x5451, 'FIOCLEX');
REQ_NAMES.set(0x5450, 'FIONCLEX');

export function reqName(req: number): string {
  return REQ_NAMES.get(req >>> 0) ?? `0x${(req >>> 0).toString(16)}`;
}

/** The ioctls of each VFIO fd type (the coverage table's rows), plus read/write/mmap of the device fd and read/write of the fault fd. */
export const FD_IOCTLS: Record<'container' | 'group' | 'device' | 'iommufd' | 'fault', string[]> = {
  iommufd: IOMMUFD_FD_IOCTLS,
  fault: FAULT_FD_CALLS,
  container: ['VFIO_GET_API_VERSION', 'VFIO_CHECK_EXTENSION', 'VFIO_SET_IOMMU', 'VFIO_IOMMU_GET_INFO', 'VFIO_IOMMU_MAP_DMA', 'VFIO_IOMMU_UNMAP_DMA', 'unknown'],
  group: ['VFIO_GROUP_GET_STATUS', 'VFIO_GROUP_SET_CONTAINER', 'VFIO_GROUP_UNSET_CONTAINER', 'VFIO_GROUP_GET_DEVICE_FD', 'unknown'],
  device: ['VFIO_DEVICE_GET_INFO', 'VFIO_DEVICE_GET_REGION_INFO', 'VFIO_DEVICE_GET_IRQ_INFO', 'VFIO_DEVICE_SET_IRQS', 'VFIO_DEVICE_RESET', ...CDEV_DEVICE_IOCTLS, 'unknown', 'read', 'write', 'mmap'],
};

// ------------------------------------------------------------------ C-like rendering

function fdStr(r: FdRef): string {
  // `!`: a resource-typed ref (FdRef.mk), made when the process has none
  return 'raw' in r ? String(r.raw) : `${r.k}[${r.i}]${r.mk === 1 ? '!' : ''}`;
}

function valStr(v: Value): string {
  if (typeof v === 'number') return v < 0 || v < 10 ? String(v) : `0x${v.toString(16)}`;
  if (typeof v === 'string') return v;
  if ('fd' in v) return fdStr(v.fd);
  if ('dma' in v) return `dma_area + ${v.dma} * 4096${v.off ? ` + 0x${v.off.toString(16)}` : ''}`;
  if ('ioas' in v) return `ioas[${v.ioas}]!`;
  if ('dev' in v) return `dev[${v.dev}]!`;
  if ('hwpt' in v) return `hwpt[${v.hwpt}]!`;
  return `ro_area + ${v.ro} * 4096`;
}

function ptrStr(p: PtrKind, what: string): string {
  switch (p) {
    case 'ok':
      return what;
    case 'null':
      return 'NULL';
    case 'unmapped':
      return '(void *)0x1000 /* unmapped */';
    case 'ro':
      return `ro_area /* read-only */`;
    case 'tail':
      return `scratch_end - 8 /* straddles the scratch buffer's end */`;
  }
}

function offStr(o: Off): string {
  return 'raw' in o ? o.raw : `REGION_OFFSET(${o.region}) + 0x${o.off.toString(16)}`;
}

/** One call as a line of C (symbolic fds such as `device[0]` are the fds that call resolved to when `fds` is given). */
export function formatCall(c: Call, fds?: (r: FdRef) => number | null): string {
  const F = (r: FdRef): string => {
    const n = fds?.(r);
    return n === undefined || n === null ? fdStr(r) : `${n} /* ${fdStr(r)} */`;
  };
  const P = 'p' in c ? `P${c.p}: ` : '';
  switch (c.op) {
    case 'open':
      return `${P}open("${c.path}", 0${c.flags.toString(8)});`;
    case 'close':
      return `${P}close(${F(c.fd)});`;
    case 'ioctl': {
      const a = c.arg;
      let arg: string;
      let pre = '';
      if (a.t === 'int') arg = valStr(a.v);
      else if (a.t === 'str') {
        pre = `strcpy(buf, "${a.s.length > 40 ? a.s.slice(0, 40) + '...' : a.s}")${a.nul ? '' : ' /* no NUL within 4096 bytes */'}; `;
        arg = ptrStr(a.ptr, 'buf');
      } else if (a.t === 'bytes') {
        pre = `memcpy(buf, {${a.b.slice(0, 16).join(',')}${a.b.length > 16 ? ',...' : ''}}, ${a.b.length}); `;
        arg = ptrStr(a.ptr, 'buf');
      } else {
        const fields = Object.entries(a.fields).map(([k, v]) => `.${k} = ${valStr(v)}`);
        const tail = a.tail?.length ? ` /* data: ${a.tail.map(valStr).join(', ')} */` : '';
        pre = `struct ${a.type} s = { ${fields.join(', ')} };${tail} `;
        arg = ptrStr(a.ptr, '&s');
      }
      return `${P}${pre}ioctl(${F(c.fd)}, ${reqName(c.req)}, ${arg});`;
    }
    case 'pread':
    case 'pwrite':
      return `${P}${c.op}(${F(c.fd)}, ${ptrStr(c.ptr, 'buf')}, ${c.count}, ${offStr(c.off)});`;
    case 'read':
    case 'write':
      return `${P}${c.op}(${F(c.fd)}, ${ptrStr(c.ptr, 'buf')}, ${c.count});`;
    case 'mmap':
      return `${P}map[] = mmap(NULL, 0x${c.len.toString(16)}, ${c.prot}, 0x${c.flags.toString(16)}, ${F(c.fd)}, ${offStr(c.off)});`;
    case 'munmap':
      return `${P}munmap(map[${c.map}], 0x${c.len.toString(16)});`;
    case 'mmio':
      return c.write
        ? `${P}*(volatile uint${c.width * 8}_t *)(map[${c.map}] + 0x${c.off.toString(16)}) = 0x${c.value.toString(16)};`
        : `${P}(void)*(volatile uint${c.width * 8}_t *)(map[${c.map}] + 0x${c.off.toString(16)});`;
    case 'store':
      return `${P}*(uint32_t *)(dma_area + ${c.page} * 4096 + 0x${c.off.toString(16)}) = 0x${(c.value >>> 0).toString(16)};`;
    case 'eventfd':
      return `${P}eventfd(${c.init}, 0x${c.flags.toString(16)});`;
    case 'efd_write':
      return `${P}uint64_t v = ${c.value}; write(${F(c.fd)}, &v, 8);`;
    case 'poll':
      return `${P}poll({${c.fds.map((f) => `{${F(f)}, 0x${c.events.toString(16)}}`).join(', ')}}, ${c.fds.length}, 0);`;
    case 'echo':
      return `${P}system("echo ${c.value} > ${c.path}");`;
    case 'exit':
      return `${P}exit(0);`;
    case 'fork':
      return `${P}fork(); /* the child is P${c.into} */`;
    case 'run':
      return `/* let ${c.ns} ns of virtual time pass */`;
    case 'raw':
      return `${P}syscall(${c.nr}, ${c.args.map((x) => `0x${(x >>> 0).toString(16)}`).join(', ')});`;
  }
}
