import { describe, expect, it } from 'vitest';
import { runPl330Bench } from './bench.js';

describe('bench', () => {
  it('copies N bytes correctly; virtual time is the same with and without the accelerators', () => {
    let t = 0;
    const clock = (): number => (t += 1);
    const fast = runPl330Bench(1 << 20, clock, { accel: true });
    const step = runPl330Bench(1 << 20, clock, { accel: false });
    expect(fast.ok).toBe(true);
    expect(step.ok).toBe(true);
    expect(fast.bytes).toBe(1 << 20);
    // 4096 iterations of (LD 1+2+16, ST 1+2+16, LPEND 1) = 39 cycles x 10 ns, plus the prologue/epilogue
    expect(fast.virtualNs).toBe(step.virtualNs);
    expect(fast.virtualNs - 4096 * 390).toBeGreaterThan(0);
    expect(fast.virtualNs - 4096 * 390).toBeLessThan(1000);
  });
});
