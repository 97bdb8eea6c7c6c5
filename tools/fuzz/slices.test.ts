// The CLI merges slice results as they arrive (SliceMerger) instead of keeping them all to the
// end: whatever order the jobs deliver them in, the result must be the merge in slice order.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CampaignResult, FindingReport } from './engine.js';
import { SliceMerger, mergeSlices, type SliceResult } from './slices.js';

const finding = (sig: string, message: string): FindingReport => ({ sig, message, step: 0, profile: 'mainline', seed: 1, program: [], transcript: [] });

/** a slice result drawn from small alphabets, so that slices share keys, values and signatures */
const sliceArb = (k: number): fc.Arbitrary<SliceResult> =>
  fc
    .record({
      runs: fc.integer({ min: 1, max: 25 }),
      execs: fc.integer({ min: 0, max: 5000 }),
      elapsedMs: fc.integer({ min: 0, max: 50 }),
      coverage: fc.dictionary(fc.constantFrom('device:A', 'device:B', 'group:C', 'container:D'), fc.uniqueArray(fc.constantFrom('ok', 'EINVAL', 'EFAULT', 'ENOTTY'), { maxLength: 4 })),
      findings: fc.array(fc.tuple(fc.constantFrom('s1', 's2', 's3'), fc.nat({ max: 3 })), { maxLength: 3 }),
      branches: fc.uint8Array({ minLength: 8, maxLength: 8, max: 1 }),
    })
    .map((r): SliceResult => {
      const result: CampaignResult = { profile: 'mainline', seed: 1 + k, runs: r.runs, execs: r.execs, elapsedMs: r.elapsedMs, coverage: r.coverage, findings: r.findings.map(([sig, n]) => finding(sig, `slice ${k} #${n}`)), branches: r.branches };
      return { k, result };
    });

/** the merge in slice order, written out the plain way */
function inOrder(parts: readonly SliceResult[]): { runs: number; execs: number; slices: number[]; findings: [string, string][]; coverage: Record<string, string[]>; branches: number[] } {
  const sorted = [...parts].sort((a, b) => a.k - b.k);
  const first = new Map<string, string>();
  const cov = new Map<string, Set<string>>();
  const branches = new Array<number>(8).fill(0);
  for (const { result } of sorted) {
    for (const f of result.findings) if (!first.has(f.sig)) first.set(f.sig, f.message);
    for (const [key, v] of Object.entries(result.coverage)) {
      if (!cov.has(key)) cov.set(key, new Set());
      for (const x of v) cov.get(key)!.add(x);
    }
    result.branches!.forEach((b, i) => (branches[i] = branches[i]! | b));
  }
  return {
    runs: sorted.reduce((a, s) => a + s.result.runs, 0),
    execs: sorted.reduce((a, s) => a + s.result.execs, 0),
    slices: sorted.map((s) => s.k),
    findings: [...first].sort(([a], [b]) => (a < b ? -1 : 1)),
    coverage: Object.fromEntries([...cov].sort(([a], [b]) => (a < b ? -1 : 1)).map(([key, s]) => [key, [...s].sort()])),
    branches,
  };
}

describe('SliceMerger', () => {
  it('gives the merge in slice order whatever order the slices arrive in', () => {
    const parts = fc.integer({ min: 1, max: 12 }).chain((n) => fc.tuple(...Array.from({ length: n }, (_, k) => sliceArb(k * 3 + 1))));
    fc.assert(
      fc.property(parts, fc.nat(), (ps, r) => {
        // an arrival order: a rotation and a deterministic shuffle of the slices
        const order = ps.map((p, i) => ({ p, key: ((i + r) * 2654435761) >>> 0 })).sort((a, b) => a.key - b.key).map((e) => e.p);
        const m = new SliceMerger('mainline', 1);
        // what the CLI writes: each finding add chooses, the later choice of a signature over the earlier
        const written = new Map<string, string>();
        for (const p of order) for (const f of m.add(p)) written.set(f.sig, f.message);
        const got = m.result();
        expect([...written].sort(([a], [b]) => (a < b ? -1 : 1))).toEqual(got.findings.map((f) => [f.sig, f.message]));
        const want = inOrder(ps);
        expect(got.runs).toBe(want.runs);
        expect(got.execs).toBe(want.execs);
        expect(got.slices).toEqual(want.slices);
        expect(got.findings.map((f) => [f.sig, f.message])).toEqual(want.findings);
        expect(got.coverage).toEqual(want.coverage);
        expect([...got.branches!]).toEqual(want.branches);
        // mergeSlices is the same merge over a list
        expect(mergeSlices('mainline', 1, order)).toEqual(got);
      }),
      { seed: 19, numRuns: 300 },
    );
  });

  it('keeps the finding of the lowest slice, and within it the first', () => {
    const slice = (k: number, ...msgs: [string, string][]): SliceResult => ({ k, result: { profile: 'mainline', seed: 1, runs: 1, execs: 1, elapsedMs: 0, coverage: {}, findings: msgs.map(([s, m]) => finding(s, m)) } });
    const m = new SliceMerger('mainline', 1);
    // add returns the findings it made the choice for their signature (the CLI writes their files)
    const chosen = (s: SliceResult): string[] => m.add(s).map((f) => f.message);
    expect(chosen(slice(7, ['oops:pread', 'from 7']))).toEqual(['from 7']);
    expect(chosen(slice(2, ['oops:pread', 'from 2, first'], ['oops:pread', 'from 2, second']))).toEqual(['from 2, first']);
    expect(chosen(slice(5, ['oops:pread', 'from 5'], ['dma-unmapped', 'from 5']))).toEqual(['from 5']);
    expect(chosen(slice(0, ['region-info-leak', 'from 0']))).toEqual(['from 0']);
    expect(m.result().findings.map((f) => [f.sig, f.message])).toEqual([
      ['dma-unmapped', 'from 5'],
      ['oops:pread', 'from 2, first'],
      ['region-info-leak', 'from 0'],
    ]);
    expect(m.result().branches).toBeUndefined();
  });
});
