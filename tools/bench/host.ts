import { nowMs, registerBench } from './registry.js';

/** The physical limit the DMA path is compared with: a plain host memory copy. */
export function hostCopyBytesPerSec(bytes: number, reps = 5): number {
  const a = new Uint8Array(bytes * 2);
  for (let i = 0; i < bytes; i += 4096) a[i] = i & 0xff;
  a.copyWithin(bytes, 0, bytes);
  let best = Infinity;
  for (let r = 0; r < reps; r++) {
    const t0 = nowMs();
    a.copyWithin(bytes, 0, bytes);
    best = Math.min(best, nowMs() - t0);
  }
  return bytes / (best / 1000);
}

registerBench({
  name: 'host-copy',
  description: 'plain host copy of 64 MiB (Uint8Array.copyWithin): the reference for dma-copy',
  run(ctx) {
    const bytes = ctx.short ? 8 << 20 : 64 << 20;
    return [{ name: 'host-copy', value: hostCopyBytesPerSec(bytes) / 1e6, unit: 'MB/s', higherIsBetter: true }];
  },
});
