import type { Process } from '../../kernel-model/process/process.js';
import type { IommufdCtx, Ioas, HwptPaging } from '../../kernel-model/iommu/iommufd/index.js';
import type { IommufdFault } from '../../kernel-model/iommu/iommufd/fault.js';
import type { MCtx } from './model-iommufd.js';

/** Helpers of the iommufd model (model-iommufd.ts): comparing area lists and objects, probing user memory, reading fields. */

/** the same areas, [iova, last] in order (what the message's hex lists compare) */
export function sameAreas(a: readonly { iova: number; last: number }[], b: readonly { iova: number; last: number }[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i]!.iova !== b[i]!.iova || a[i]!.last !== b[i]!.last) return false;
  return true;
}

/** how many of the `len` bytes at user address `va` can be read in a row from the first (0: not the first) */
export function readableBytes(p: Process, va: number, len: number): number {
  const b = new Uint8Array(len);
  if (p.mm.copyFromUser(b, 0, va, len) >= 0) return len;
  let n = 0;
  while (n < len && p.mm.copyFromUser(b, n, va + n, 1) >= 0) n++;
  return n;
}

/** a field of an iommufd ioctl's argument as read (0 if absent) */
export function fv(pre: { fields: Record<string, bigint> }, k: string): bigint {
  return pre.fields[k] ?? 0n;
}

/** IommufdModel.post's read-back buffer (host scratch: each read copies into it and decodes at once) */
const RD_BUF = new Uint8Array(8);
const RD_DV = new DataView(RD_BUF.buffer);

/** the read-backs of post (module functions: no closure per call) */
export function rd32(p: Process, scratch: number, off: number): number {
  return p.mm.copyFromUser(RD_BUF, 0, scratch + off, 4) < 0 ? -1 : RD_DV.getUint32(0, true);
}

export function rd64(p: Process, scratch: number, off: number): bigint {
  return p.mm.copyFromUser(RD_BUF, 0, scratch + off, 8) < 0 ? -1n : RD_DV.getBigUint64(0, true);
}

/** the first of `ids` (ids both hold) whose object differs from the model's, as a message; null if none does */
export function objectDivergence(real: IommufdCtx, mc: MCtx, ids: Iterable<number>): string | null {
  for (const id of ids) {
    const o = real.objects.get(id)!;
    const m = mc.objs.get(id)!;
    if (o.type !== m.type) return `iommufd object ${id} is a ${o.type}, the model has a ${m.type}`;
    if (m.type === 'ioas' && !sameAreas((o as Ioas).iopt.areas, m.areas)) {
      const a = (o as Ioas).iopt.areas.map((x) => `${x.iova.toString(16)}-${x.last.toString(16)}`).join(' ');
      const b = m.areas.map((x) => `${x.iova.toString(16)}-${x.last.toString(16)}`).join(' ');
      return `IOAS ${id}: areas [${a}], the model has [${b}]`;
    }
    if (m.type === 'hwpt-paging' && (o as HwptPaging).ioas !== real.objects.get(m.ioas)) return `HWPT ${id} is on another IOAS than the model's ${m.ioas}`;
    if (m.type === 'fault' && m.file !== null && (o as IommufdFault).file !== m.file) return `fault object ${id} has another file than the fd FAULT_QUEUE_ALLOC answered`;
  }
  return null;
}
