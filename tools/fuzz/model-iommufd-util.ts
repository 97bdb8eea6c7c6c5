import type { Process } from '../../kernel-model/process/process.js';

/** Helpers of the iommufd model (model-iommufd.ts): comparing area lists, probing user memory. */

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
