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

/**
 * A host copy of `bytes` between two halves of a buffer allocated (and touched) once: the
 * DMA benchmarks time one right before and one right after every emulated transfer of the
 * same size, in the same process, so that their ratio does not swing with the machine
 * (the host copy alone varies 6-19 GB/s between runs on a shared machine).
 */
export class HostCopy {
  private readonly a: Uint8Array;
  constructor(readonly bytes: number) {
    this.a = new Uint8Array(bytes * 2);
    for (let i = 0; i < bytes; i += 4096) this.a[i] = i & 0xff;
    this.a.copyWithin(bytes, 0, bytes);
  }
  /** host ms of one copy */
  time(): number {
    const t0 = nowMs();
    this.a.copyWithin(this.bytes, 0, this.bytes);
    return nowMs() - t0;
  }
}

/**
 * Transfers per process in full mode (dma-copy, dma-direct). The figures are the medians of
 * the second half. `node --trace-opt` shows V8 still compiling the copy path's functions
 * with TurboFan (translateCopyRun, pairRun, tryBulk, the scheduler's step) up to the 10th-11th
 * 64 MiB transfer, so the second half of 12 transfers (used until 2026-12-03) measured the
 * JIT's warm-up as much as the model. With 24 the second half starts after it, and it runs
 * past 2^31 ns of virtual time (~18 transfers), where emulator/time.ts WIDE_FIELD_INIT matters.
 */
export const DMA_FULL_TRANSFERS = 24;

/** ratio host-copy time / DMA time of one transfer bracketed by two host copies (mean of the two) */
export function bracketRatio(before: number, dma: number, after: number): number {
  return (before + after) / 2 / dma;
}

registerBench({
  name: 'host-copy',
  description: 'plain host copy of 64 MiB (Uint8Array.copyWithin): the reference for dma-copy',
  run(ctx) {
    const bytes = ctx.short ? 8 << 20 : 64 << 20;
    return [{ name: 'host-copy', value: hostCopyBytesPerSec(bytes) / 1e6, unit: 'MB/s', higherIsBetter: true }];
  },
});
