/**
 * 7. unicorn: the Unicorn CPU backend (tools/unicorn/engine-bench.ts): guest instructions per
 * second on a CPU-bound loop, and the syscall round trip. Skipped with a note when
 * libunicorn2 (or the guest C toolchain the benchmark programs are built with) is absent.
 */
import { benchUnicorn } from '../unicorn/engine-bench.js';
import { isUnicornAvailable } from '../../emulator/cpu/unicorn/native.js';
import { registerBench, skippedFigure } from './registry.js';

registerBench({
  name: 'unicorn-engine',
  description: 'Unicorn backend: guest instructions/s (loop.c) and svc syscall round trip',
  run(ctx) {
    if (!isUnicornAvailable()) {
      return [
        skippedFigure('guest-insns', 'insn/s', 'libunicorn2 not installed (apt-get install libunicorn2)'),
        skippedFigure('syscall-round-trip', 'ns', 'libunicorn2 not installed'),
      ];
    }
    let r;
    try {
      r = benchUnicorn(ctx.short ? { loopIterations: 1_000_000, syscalls: 10_000, pages: 200, repeats: 1 } : { repeats: 3 });
    } catch (e) {
      const msg = (e as Error).message.split('\n')[0] ?? String(e);
      return [skippedFigure('guest-insns', 'insn/s', `cannot run: ${msg}`), skippedFigure('syscall-round-trip', 'ns', `cannot run: ${msg}`)];
    }
    return [
      { name: 'guest-insns', value: r.instructionsPerSecond, unit: 'insn/s', higherIsBetter: true },
      { name: 'syscall-round-trip', value: r.syscallRoundTripNs, unit: 'ns', higherIsBetter: false },
      { name: 'mmap-munmap-page', value: r.mapUnmapPageUs, unit: 'us', higherIsBetter: false },
    ];
  },
});
