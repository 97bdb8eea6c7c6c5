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
 * A host control for memory-bound figures: one random cycle through `entries` 32-bit slots
 * (chaseCycle: every slot once, the same walk on every run), followed for `steps` dependent
 * loads. Returns host ns per load. With 2^23 slots
 * (32 MiB, more than this host's last-level cache) each load waits for DRAM, so the figure
 * moves with what other tenants do to the memory system, which a compute-bound control
 * (SHA-256, fuzz-jobs) does not see: on this host the fuzzer's steady rate follows it
 * (docs/PERFORMANCE.md, "Issue 19, round 9").
 */
export function memoryLatencyNs(entries = 1 << 23, steps = 1 << 20): number {
  const next = chaseCycle(entries);
  let p = 0;
  // one pass to warm the page tables and bring the array in, untimed
  for (let i = 0; i < Math.min(steps, entries); i++) p = next[p]!;
  const t0 = nowMs();
  for (let i = 0; i < steps; i++) p = next[p]!;
  const ms = nowMs() - t0;
  if (p < 0) throw new Error('unreachable'); // keeps the loop's result live
  return (ms * 1e6) / steps;
}

/**
 * next[i]: the slot after i on one cycle through all `n` slots: the slots in an order
 * shuffled with a fixed LCG (Fisher-Yates), each linked to the one after it in that order
 * and the last to the first (a permutation used as `next` directly would fall apart into
 * shorter cycles, some of them cached).
 */
export function chaseCycle(n: number): Int32Array {
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  let x = 0x2545f491;
  for (let i = n - 1; i > 0; i--) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    const j = x % (i + 1);
    const t = order[i]!;
    order[i] = order[j]!;
    order[j] = t;
  }
  const next = new Int32Array(n);
  for (let i = 0; i < n; i++) next[order[i]!] = order[(i + 1) % n]!;
  return next;
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
