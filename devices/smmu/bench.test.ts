import { describe, expect, it } from 'vitest';
import { measureSmmuThroughput } from './bench.js';

describe('SMMU benchmark harness', () => {
  it('measures hit and miss throughput; the miss loop really walks on every access', () => {
    const r = measureSmmuThroughput(20_000);
    expect(r.walkFraction).toBe(1);
    expect(r.hitsPerSec).toBeGreaterThan(0);
    expect(r.missesPerSec).toBeGreaterThan(0);
  });
});
