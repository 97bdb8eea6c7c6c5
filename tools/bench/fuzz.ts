import { fuzzRateDetail } from '../fuzz/bench.js';
import { registerBench } from './registry.js';

/** 4. fuzz-rate: fuzzer syscall executions per second (one process, mainline profile) */
registerBench({
  name: 'fuzz-rate',
  description: 'fuzzer syscall executions per second (fresh boot per run, mainline, seed 7)',
  run(ctx) {
    const d = fuzzRateDetail(ctx.short ? 20 : 100);
    return [
      { name: 'syscalls', value: d.execsPerSec, unit: 'syscalls/s', higherIsBetter: true, target: { op: '>=', value: 20_000 } },
      { name: 'runs', value: (d as unknown as { runsPerSec: number }).runsPerSec, unit: 'runs/s', higherIsBetter: true },
    ];
  },
});
