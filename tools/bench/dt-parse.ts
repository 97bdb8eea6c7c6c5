/**
 * 8. dt-parse: the device-tree parser on a generated 100k-node board (labels, `reg`, one
 * phandle reference per node): host milliseconds per parse, best of five after a warm-up.
 * Issue 18's acceptance: under 2 s, and linear in the input (the 25k-node figure is a
 * quarter of it, give or take the garbage collector).
 */
import { parseDts } from '../../emulator/dt/parser.js';
import { wideTreeSource } from '../../emulator/dt/testing/wide-tree.js';
import { nowMs, registerBench, type BenchFigure } from './registry.js';

function bestMs(src: string, reps: number): number {
  let best = Infinity;
  for (let k = 0; k < reps; k++) {
    const t0 = nowMs();
    parseDts(src, 'wide.dts');
    best = Math.min(best, nowMs() - t0);
  }
  return best;
}

registerBench({
  name: 'dt-parse',
  description: 'device-tree parser: a generated 100k-node board (and 25k for the scaling)',
  run(ctx): BenchFigure[] {
    const big = wideTreeSource(100_000);
    const small = wideTreeSource(25_000);
    bestMs(small, 1); // warm-up
    const reps = ctx.short ? 2 : 5;
    return [
      { name: 'dt-parse 100k nodes', value: bestMs(big, reps), unit: 'ms', higherIsBetter: false, target: { op: '<=', value: 2000 } },
      { name: 'dt-parse 25k nodes', value: bestMs(small, reps), unit: 'ms', higherIsBetter: false },
    ];
  },
});
