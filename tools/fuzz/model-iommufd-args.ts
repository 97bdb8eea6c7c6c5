/**
 * How the iommufd models read an iommufd ioctl's argument (iommufdArgOf: its fields, whether it
 * is within the size rules) and IOMMU_VFIO_IOAS's rules (vfioIoasCall), shared by the /dev/iommu
 * part of the reference model (model-iommufd.ts) and its compat container part (model.ts).
 */
import type { File } from '../../kernel-model/vfs/file.js';
import { ENODEV, ENOENT, EOPNOTSUPP } from '../../kernel-model/base/errno.js';
import { IOMMU_VFIO_IOAS_CLEAR as VFIO_IOAS_CLEAR, IOMMU_VFIO_IOAS_GET as VFIO_IOAS_GET, IOMMU_VFIO_IOAS_SET as VFIO_IOAS_SET } from '../../kernel-model/iommu/iommufd/uapi.js';
import type { IoctlArg, Value } from './program.js';
import { IOMMUFD_STRUCTS } from './program-iommufd.js';

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
}

/** what an IOMMU_VFIO_IOAS that succeeded did (vfioIoasCall) */
export type VfioIoasEffect = { op: 'get'; id: number } | { op: 'set'; id: number } | { op: 'clear' } | null;

/**
 * IOMMU_VFIO_IOAS judged and followed (Linux v6.12 drivers/iommu/iommufd/vfio_compat.c
 * iommufd_vfio_ioas; its table entry's min_size is offsetofend(__reserved), 12, main.c), for the
 * /dev/iommu contexts of this model and the compat container's context (model.ts postCompat).
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
 * whether the kernel read it as written (`ok`: size >= min_size at an ok pointer)
 */
export function iommufdArgOf(arg: IoctlArg, val: (v: Value) => bigint): IommufdPre {
  if (arg.t !== 'struct') return { fields: {}, exact: false, ok: false };
  const st = IOMMUFD_STRUCTS[arg.type as keyof typeof IOMMUFD_STRUCTS];
  const fields: Record<string, bigint> = {};
  for (const [k, v] of Object.entries(arg.fields)) fields[k] = val(v);
  const size = Number(fields['argsz'] ?? 0n);
  const end = st ? structEndOf(st) : 0;
  const exact = st !== undefined && arg.ptr === 'ok' && size >= st.minsz && size <= Math.max(end, SIZEOF[arg.type] ?? 0);
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
  return { fields, exact, ok };
}

const STRUCT_END = new Map<object, number>();

/**
 * sizeof the kernel's struct where padding follows the last field the layout names (the harness
 * writes zeros there): struct iommu_hwpt_alloc ends with __u32 fault_id, __u32 __reserved2 (v6.12
 * include/uapi/linux/iommufd.h), 48 bytes, so a size of 48 is within the size rules
 */
const SIZEOF: Record<string, number> = { iommu_hwpt_alloc: 48 };

/** the end of a struct's last field (the largest argsz the model calls exact), computed once per struct */
function structEndOf(st: { fields: readonly (readonly [string, number, number])[] }): number {
  let e = STRUCT_END.get(st);
  if (e === undefined) STRUCT_END.set(st, (e = Math.max(...st.fields.map(([, o, s]) => o + s))));
  return e;
}
