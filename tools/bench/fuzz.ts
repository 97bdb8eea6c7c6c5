import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { fuzzRateDetail } from '../fuzz/bench.js';
import { defaultWorkerFile, runWorkers } from '../fuzz/cli.js';
import { DEFAULT_SUPPRESSIONS } from '../fuzz/harness.js';
import { mergeSlices, shardSlices, sliceCount, type SliceResult } from '../fuzz/slices.js';
import { nowMs, registerBench, skippedFigure } from './registry.js';

/** 4. fuzz-rate: fuzzer syscall executions per second (one process, mainline profile) */
registerBench({
  name: 'fuzz-rate',
  description: 'fuzzer syscall executions per second (runs start from the post-boot snapshot; mainline, seed 1)',
  run(ctx) {
    const d = fuzzRateDetail({ runs: ctx.short ? 200 : 2000, warmupRuns: ctx.short ? 50 : 300 });
    const out = [
      { name: 'syscalls', value: d.execsPerSec, unit: 'syscalls/s', higherIsBetter: true, target: { op: '>=' as const, value: 100_000 } },
      { name: 'runs', value: d.runsPerSec, unit: 'runs/s', higherIsBetter: true },
    ];
    if (!ctx.short) {
      // the same campaign with a fresh boot per run (the method before snapshots), for comparison
      const f = fuzzRateDetail({ runs: 60, warmupRuns: 10, reuse: false });
      out.push({ name: 'syscalls-boot-per-run', value: f.execsPerSec, unit: 'syscalls/s', higherIsBetter: true });
    }
    return out;
  },
});

/**
 * What the machine gives two threads at this moment: a fixed integer loop run by one worker,
 * then by two at once; 2 x t1 / t2 (2.0 on two idle cores; on a shared machine less). The
 * main thread blocks in Atomics.wait like the fuzz CLI does.
 */
function parallelCeiling(iterations: number): number {
  const code = `const { parentPort, workerData } = require('node:worker_threads'); let x = 0; for (let i = 0; i < workerData.n; i++) x = (x + i) | 0; const s = new Int32Array(workerData.sig); Atomics.add(s, 0, 1); Atomics.notify(s, 0); parentPort.postMessage(x);`;
  const run = (k: number): number => {
    const sig = new SharedArrayBuffer(4);
    const s = new Int32Array(sig);
    const t0 = nowMs();
    const ws = Array.from({ length: k }, () => new Worker(code, { eval: true, workerData: { n: iterations, sig } }));
    while (Atomics.load(s, 0) < k) Atomics.wait(s, 0, Atomics.load(s, 0), 1000);
    const ms = nowMs() - t0;
    for (const w of ws) void w.terminate();
    return ms;
  };
  run(1); // warm-up (worker start-up)
  const t1 = run(1);
  const t2 = run(2);
  return (2 * t1) / t2;
}

/**
 * fuzz-jobs: the same campaign (mainline, seed 1) with 1 and with 2 worker threads, as
 * `vfio-arm-emu fuzz --jobs N` runs it (dist/fuzz-worker.js; each worker boots and
 * snapshots once, and that is in the time). The speed-up is the ratio of the two in the
 * same process; the merged results must be identical (the run fails otherwise).
 */
registerBench({
  name: 'fuzz-jobs',
  description: 'fuzzer syscalls/s with --jobs 1 and --jobs 2 (worker threads, boot included) and the speed-up',
  run(ctx) {
    const wf = defaultWorkerFile();
    const cpus = availableParallelism();
    if (!wf || cpus < 2) {
      const why = !wf ? 'no bundled dist/fuzz-worker.js' : `host has ${cpus} CPU`;
      return [skippedFigure('syscalls-1-job', 'syscalls/s', why), skippedFigure('syscalls-2-jobs', 'syscalls/s', why), skippedFigure('speedup-2-jobs', 'x', why, { op: '>=', value: 1.7 })];
    }
    const runs = ctx.short ? 400 : 3000;
    const mine = shardSlices(sliceCount(runs), { i: 0, n: 1 });
    const measure = (jobs: number): { perSec: number; merged: ReturnType<typeof mergeSlices> } => {
      const parts: SliceResult[] = [];
      const t0 = nowMs();
      runWorkers({ workerFile: wf, jobs, profile: 'mainline', seed: 1, runs, mine, shard: { i: 0, n: 1 }, timeMs: undefined, suppress: [...DEFAULT_SUPPRESSIONS] }, (s) => parts.push(s));
      const ms = nowMs() - t0;
      const merged = mergeSlices('mainline', 1, parts);
      return { perSec: merged.execs / (ms / 1000), merged };
    };
    const one = measure(1);
    const two = measure(2);
    const digest = (m: ReturnType<typeof mergeSlices>): string => JSON.stringify([m.runs, m.execs, m.coverage, m.findings.map((f) => [f.sig, f.program])]);
    if (digest(one.merged) !== digest(two.merged)) throw new Error('fuzz-jobs: the merged result differs between 1 and 2 jobs');
    const ceiling = parallelCeiling(ctx.short ? 2e8 : 6e8);
    return [
      { name: 'syscalls-1-job', value: one.perSec, unit: 'syscalls/s', higherIsBetter: true, note: `${runs} runs, one worker` },
      { name: 'syscalls-2-jobs', value: two.perSec, unit: 'syscalls/s', higherIsBetter: true },
      { name: 'speedup-2-jobs', value: two.perSec / one.perSec, unit: 'x', higherIsBetter: true, target: { op: '>=', value: 1.7 } },
      { name: 'machine-ceiling-2-threads', value: ceiling, unit: 'x', higherIsBetter: true, note: 'a fixed loop in 1 vs 2 worker threads, same process: what the host gave two threads' },
    ];
  },
});
