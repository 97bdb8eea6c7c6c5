import { fuzzRateDetail } from '../fuzz/bench.js';
import { registerBench } from './registry.js';

/** 4. fuzz-rate: fuzzer syscall executions per second (one process, mainline profile) */
registerBench({
  name: 'fuzz-rate',
  description: 'fuzzer syscall executions per second (runs start from the post-boot snapshot; mainline, seed 1)',
  run(ctx) {
    const d = fuzzRateDetail({ runs: ctx.short ? 200 : 2000, warmupRuns: ctx.short ? 50 : 300 });
    const out = [
      { name: 'syscalls', value: d.execsPerSec, unit: 'syscalls/s', higherIsBetter: true, target: { op: '>=' as const, value: 20_000 } },
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
