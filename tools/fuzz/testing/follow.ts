import { expect } from 'vitest';
import type { Call } from '../program.js';
import { execCall } from '../engine.js';
import { Harness } from '../harness.js';

/**
 * Test support: run `calls` on a fresh harness, each clean and with both reference models (the
 * VFIO one and the iommufd one) still comparing; the harness and the return values as the
 * transcript prints them.
 */
export function runFollowed(profile: string, calls: readonly Call[]): { h: Harness; rets: string[] } {
  const h = new Harness({ profile, transcript: true });
  for (const c of calls) {
    const f = execCall(h, c);
    expect(f, `${JSON.stringify(c)}: ${f?.message}`).toBeNull();
    expect(h.model.lost, `the reference model stopped comparing at ${JSON.stringify(c)}`).toBe(false);
    expect(h.imodel.lost, `the iommufd model stopped comparing at ${JSON.stringify(c)}`).toBe(false);
  }
  return { h, rets: h.transcript.map((t) => String(t.ret)) };
}
