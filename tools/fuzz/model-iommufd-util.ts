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
