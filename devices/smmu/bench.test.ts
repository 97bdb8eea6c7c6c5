import { describe, expect, it } from 'vitest';
import { measureSmmuThroughput } from './bench.js';

describe('SMMU benchmark harness', () => {
  it('measures hit and miss throughput; the miss loop really walks on every access', () => {
    // a counter stands in for the host clock: the harness only divides by elapsed time
    let t = 0;
    const r = measureSmmuThroughput(20_000, () => (t += 1));
    expect(r.walkFraction).toBe(1);
    expect(r.hitsPerSec).toBeGreaterThan(0);
    expect(r.missesPerSec).toBeGreaterThan(0);
  });
});
