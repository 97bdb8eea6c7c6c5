/** 5. smmu-walk: SMMU translations per second on TLB hits and on misses (3-level walks). */
import { measureSmmuThroughput } from '../../devices/smmu/bench.js';
import { nowMs, registerBench } from './registry.js';

registerBench({
  name: 'smmu-walk',
  description: 'SMMU translate() calls per second: TLB hits, and misses (every access a 3-level LPAE walk)',
  run(ctx) {
    const iters = ctx.short ? 1_000_000 : 4_000_000;
    measureSmmuThroughput(Math.max(1, iters >> 3), nowMs); // warm-up (JIT)
    const r = measureSmmuThroughput(iters, nowMs);
    return [
      { name: 'tlb-hit', value: r.hitsPerSec, unit: 'xlat/s', higherIsBetter: true },
      { name: 'tlb-miss-walk', value: r.missesPerSec, unit: 'xlat/s', higherIsBetter: true, note: `walk fraction ${r.walkFraction.toFixed(2)}` },
    ];
  },
});
