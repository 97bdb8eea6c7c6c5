/**
 * How the iommufd models read an iommufd ioctl's argument (iommufdArgOf: its fields, whether it
 * is within the size rules) and IOMMU_VFIO_IOAS's rules (vfioIoasCall), shared by the /dev/iommu
 * part of the reference model (model-iommufd.ts) and its compat container part (model-compat.ts).
 */
import type { File } from '../../kernel-model/vfs/file.js';
import type { Process } from '../../kernel-model/process/process.js';
import { E2BIG, EFAULT, EINVAL, ENODEV, ENOENT, EOPNOTSUPP } from '../../kernel-model/base/errno.js';
import { IOMMU_VFIO_IOAS_CLEAR as VFIO_IOAS_CLEAR, IOMMU_VFIO_IOAS_GET as VFIO_IOAS_GET, IOMMU_VFIO_IOAS_SET as VFIO_IOAS_SET } from '../../kernel-model/iommu/iommufd/uapi.js';
import type { IoctlArg, Value } from './program.js';
import { IOMMUFD_REQS as I, IOMMUFD_STRUCTS, iommufdSizeof, type IommufdStructName } from './program-iommufd.js';

export interface IommufdPre {
  fields: Record<string, bigint>;
  /** the argument is a struct within the size rules (min_size..sizeof, pointer ok): errors are predicted */
  exact: boolean;
  /** the struct is read as written (pointer ok, size >= min_size; a longer one had a zero tail if the call succeeded): successes are followed */
  ok: boolean;
  /** for BIND: the iommufd file the fd field names */
  bindFile?: File | null;
  /** for FAULT_QUEUE_ALLOC: the lowest fd number the process has free before the call */
  freeFd?: number;
  /** FAULT_QUEUE_ALLOC on an iommufd the model does not follow (a compat container): only the fault fd it may answer is followed */
  foreign?: boolean;
  /** the errno iommufd_fops_ioctl's size rules answer before any handler runs (sizeRuleErr; null: the struct passes them, undefined: not judged) */
  sizeErr?: number | null;
}

/** what an IOMMU_VFIO_IOAS that succeeded did (vfioIoasCall) */
export type VfioIoasEffect = { op: 'get'; id: number } | { op: 'set'; id: number } | { op: 'clear' } | null;

/**
 * IOMMU_VFIO_IOAS judged and followed (Linux v6.12 drivers/iommu/iommufd/vfio_compat.c
 * iommufd_vfio_ioas; its table entry's min_size is offsetofend(__reserved), 12, main.c), for the
 * /dev/iommu contexts of this model and the compat container's context (model-compat.ts postCompat).
 * With the struct within the size rules: __reserved (bits 16-31 of the `op` field) non-zero
 * -EOPNOTSUPP; GET without a compat IOAS -ENODEV (get_compat_ioas), else 0 with its id written
 * back at offset 4 (iommufd_ucmd_respond; the reference get_compat_ioas takes is dropped before
 * the return); SET of an id that is not an IOAS of the context -ENOENT (iommufd_get_ioas:
 * iommufd_get_object of type IOMMUFD_OBJ_IOAS, whatever else the id names), else 0: that IOAS
 * is the compat one, without a reference (destroying it clears it: iommufd_object_remove);
 * CLEAR 0: none is; another op -EOPNOTSUPP. `cur`: the compat IOAS's id, null without one,
 * 'unknown' for one whose id the model has not learned (GET's answer is then not checked but
 * reported); `isIoas`: whether an id names an IOAS of the context, null when the model cannot
 * tell (SET's result is then not predicted). Returns what a success did (null: nothing, or not
 * read as written).
 */
export function vfioIoasCall(expect: (cond: boolean, msg: string) => void, cur: number | 'unknown' | null, pre: IommufdPre, r: number, rd32: (off: number) => number, isIoas: (id: bigint) => boolean | null): VfioIoasEffect {
  if (!pre.ok) return null;
  const raw = BigInt.asUintN(32, pre.fields['op'] ?? 0n);
  const op = Number(raw & 0xffffn);
  const id = BigInt.asUintN(32, pre.fields['ioas_id'] ?? 0n);
  const known = raw >> 16n === 0n && op === VFIO_IOAS_SET ? isIoas(id) : null;
  if (pre.exact) {
    if (raw >> 16n !== 0n) expect(r === -EOPNOTSUPP, `IOMMU_VFIO_IOAS with __reserved 0x${(raw >> 16n).toString(16)} returned ${r}, not -EOPNOTSUPP`);
    else if (op === VFIO_IOAS_GET) expect(cur === null ? r === -ENODEV : r === 0, `IOMMU_VFIO_IOAS GET returned ${r}, ${cur === null ? 'not -ENODEV (no compat IOAS)' : `though the context has its compat IOAS (${cur})`}`);
    else if (op === VFIO_IOAS_SET) {
      if (known !== null) expect(known ? r === 0 : r === -ENOENT, `IOMMU_VFIO_IOAS SET(${id}) returned ${r}, not ${known ? '0' : '-ENOENT (not an IOAS of the context)'}`);
    } else if (op === VFIO_IOAS_CLEAR) expect(r === 0, `IOMMU_VFIO_IOAS CLEAR returned ${r}`);
    else expect(r === -EOPNOTSUPP, `IOMMU_VFIO_IOAS with op ${op} returned ${r}, not -EOPNOTSUPP`);
  }
  if (r !== 0) return null;
  if (raw >> 16n !== 0n || op > VFIO_IOAS_CLEAR) {
    expect(false, `IOMMU_VFIO_IOAS with op 0x${raw.toString(16)} succeeded`);
    return null;
  }
  if (op === VFIO_IOAS_GET) {
    const got = rd32(4);
    if (typeof cur === 'number') expect(got === cur, `IOMMU_VFIO_IOAS GET wrote back ioas_id ${got}, the compat IOAS is ${cur}`);
    return { op: 'get', id: got };
  }
  if (op === VFIO_IOAS_SET) {
    if (known === false) {
      expect(false, `IOMMU_VFIO_IOAS SET(${id}) succeeded on an id that is not an IOAS of the context`);
      return null;
    }
    return { op: 'set', id: Number(id) };
  }
  return { op: 'clear' };
}

/**
 * an iommufd ioctl's argument as the models read it: its fields' values, whether it is within
 * the size rules (`exact`: min_size..sizeof at an ok pointer, so errors are predicted) and
 * whether the kernel read it as written (`ok`: size >= min_size at an ok pointer); with `p`, the
 * size rules applied to the struct at `addr` for request `req` (sizeRuleErr; no object per call)
 */
export function iommufdArgOf(arg: IoctlArg, val: (v: Value) => bigint, p: Process | null = null, addr = 0, req = 0): IommufdPre {
  const sizeErr = p === null ? undefined : sizeRuleErr(p, addr, req);
  if (arg.t !== 'struct') return { fields: {}, exact: false, ok: false, sizeErr };
  const st = IOMMUFD_STRUCTS[arg.type as keyof typeof IOMMUFD_STRUCTS];
  const fields: Record<string, bigint> = {};
  // (a `for...in`: no array of pairs per call; the fields are a plain record)
  const af = arg.fields;
  for (const k in af) fields[k] = val(af[k]!);
  const size = Number(fields['argsz'] ?? 0n);
  const end = st ? structEndOf(st) : 0;
  // within the size rules: min_size..sizeof, or (judged, sizeRuleErr) a longer struct whose tail is zero
  const exact = st !== undefined && arg.ptr === 'ok' && size >= st.minsz && (size <= iommufdSizeof(arg.type as IommufdStructName) || sizeErr === null);
  const ok = st !== undefined && arg.ptr === 'ok' && size >= st.minsz;
  // what a shorter struct leaves out the kernel reads as zero (copy_struct_from_user zero-fills
  // up to its own size): IOMMU_HWPT_ALLOC's data_type, data_len and fault_id past a size of 24;
  // a field the size cuts keeps its low bytes (little-endian)
  if (st !== undefined && size < end) {
    for (const [k, o, n] of st.fields) {
      const v = fields[k];
      if (k === 'argsz' || o + n <= size || v === undefined) continue;
      fields[k] = o >= size ? 0n : BigInt.asUintN(8 * (size - o), v);
    }
  }
  return { fields, exact, ok, sizeErr };
}

/** the struct each iommufd request's table entry names (main.c iommufd_ioctl_ops: IOCTL_OP(ioctl, fn, struct, last)) */
const REQ_STRUCT = new Map<number, IommufdStructName>([
  [I.IOMMU_DESTROY, 'iommu_destroy'],
  [I.IOMMU_IOAS_ALLOC, 'iommu_ioas_alloc'],
  [I.IOMMU_IOAS_ALLOW_IOVAS, 'iommu_ioas_allow_iovas'],
  [I.IOMMU_IOAS_COPY, 'iommu_ioas_copy'],
  [I.IOMMU_IOAS_IOVA_RANGES, 'iommu_ioas_iova_ranges'],
  [I.IOMMU_IOAS_MAP, 'iommu_ioas_map'],
  [I.IOMMU_IOAS_UNMAP, 'iommu_ioas_unmap'],
  [I.IOMMU_OPTION, 'iommu_option'],
  [I.IOMMU_VFIO_IOAS, 'iommu_vfio_ioas'],
  [I.IOMMU_HWPT_ALLOC, 'iommu_hwpt_alloc'],
  [I.IOMMU_GET_HW_INFO, 'iommu_hw_info'],
  [I.IOMMU_FAULT_QUEUE_ALLOC, 'iommu_fault_alloc'],
  [I.IOMMU_HWPT_SET_DIRTY_TRACKING, 'iommu_hwpt_set_dirty_tracking'],
  [I.IOMMU_HWPT_GET_DIRTY_BITMAP, 'iommu_hwpt_get_dirty_bitmap'],
  [I.IOMMU_HWPT_INVALIDATE, 'iommu_hwpt_invalidate'],
]);

/** ARM's TASK_SIZE (PAGE_OFFSET 0xc0000000 - 16 MiB): what access_ok admits */
const TASK_SIZE = 0xbf000000;
const PAGE = 4096;
/** sizeRuleErr's read buffer, reused (host-only scratch: its contents never outlive a call) */
const SIZE_BUF = new Uint8Array(PAGE);

/**
 * The size rules of Linux v6.12 drivers/iommu/iommufd/main.c iommufd_fops_ioctl for a request of
 * its table, applied to the user memory at `addr` as the kernel reads it (null: the struct passes
 * them and the handler runs; undefined: not a table request): get_user of the u32 size (-EFAULT);
 * a size below the entry's min_size (offsetofend of its last required field) -EINVAL; then
 * copy_struct_from_user (include/linux/uaccess.h) into sizeof the kernel's struct: for a longer
 * user struct, lib/usercopy.c check_zeroed_user of the tail: access_ok of the whole tail (-EFAULT
 * past TASK_SIZE, whatever its bytes), then word by word, a non-zero byte before any unreadable
 * one -E2BIG, an unreadable one first -EFAULT; then copy_from_user of min(size, sizeof) bytes
 * (-EFAULT). Read in the public sources: iommufd_fops_ioctl's get_user / min_size /
 * copy_struct_from_user sequence (the iommufd series as merged, main.c), check_zeroed_user
 * (lib/usercopy.c); that v6.12 routes a number outside the table to iommufd_vfio_ioctl before
 * its get_user is from memory (the requests judged here are all in the table). min_size and
 * sizeof come from this fuzzer's struct table (program-iommufd.ts; iommufdSizeof for the padding
 * after the last named field), not from the kernel model's.
 */
export function sizeRuleErr(p: Process, addr: number, req: number): number | null | undefined {
  const name = REQ_STRUCT.get(req >>> 0);
  if (name === undefined) return undefined;
  const st = IOMMUFD_STRUCTS[name];
  const b = SIZE_BUF;
  if (p.mm.copyFromUser(b, 0, addr, 4) < 0) return -EFAULT;
  const size = (b[0]! | (b[1]! << 8) | (b[2]! << 16) | (b[3]! << 24)) >>> 0;
  if (size < st.minsz) return -EINVAL;
  const ksize = iommufdSizeof(name);
  if (size > ksize) {
    const from = addr + ksize;
    const len = size - ksize;
    if (len > TASK_SIZE || from > TASK_SIZE - len) return -EFAULT;
    for (let off = 0; off < len; ) {
      const va = from + off;
      const n = Math.min(len - off, PAGE - (va % PAGE));
      if (p.mm.copyFromUser(b, 0, va, n) < 0) return -EFAULT;
      for (let i = 0; i < n; i++) if (b[i] !== 0) return -E2BIG;
      off += n;
    }
  }
  return p.mm.copyFromUser(b, 0, addr, Math.min(size, ksize)) < 0 ? -EFAULT : null;
}

const STRUCT_END = new Map<object, number>();


/** the end of a struct's last field (the largest argsz the model calls exact), computed once per struct */
function structEndOf(st: { fields: readonly (readonly [string, number, number])[] }): number {
  let e = STRUCT_END.get(st);
  if (e === undefined) STRUCT_END.set(st, (e = Math.max(...st.fields.map(([, o, s]) => o + s))));
  return e;
}
