import { describe, expect, it } from 'vitest';
import { benchUnicorn, formatUnicornBench } from './engine-bench.js';
import { shouldSkipUnicornTests } from '../../emulator/cpu/unicorn/testing/guest-build.js';

describe.skipIf(shouldSkipUnicornTests())('Unicorn micro-benchmark', () => {
  it('measures instruction rate, syscall round trip and mapping cost (small sizes)', () => {
    const r = benchUnicorn({ loopIterations: 300_000, syscalls: 3_000, pages: 50, repeats: 1 });
    expect(r.loopInstructions).toBeGreaterThan(300_000 * 4);
    // a rate, not a threshold: timing targets live in npm run bench, never in unit tests
    expect(r.instructionsPerSecond).toBeGreaterThan(0);
    expect(Number.isFinite(r.syscallRoundTripNs)).toBe(true);
    expect(r.mapUnmapPageUs).toBeGreaterThan(0);
    expect(formatUnicornBench(r)).toMatch(/M guest instructions\/s/);
  });
});
