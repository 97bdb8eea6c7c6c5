/**
 * Round 18 (docs/PERFORMANCE.md, "what a job promotes"): the snapshot puts a Map or Set back
 * without clear() (restoreMap/restoreSet: the record's longest matching prefix kept, the rest
 * deleted and the record's tail set again), and cover() reuses a coverage row's Set from its
 * harness's pool. Both must give exactly what clear() + refill and a new Set gave: the same
 * entries, values and iteration order, and a row that starts empty.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GraphSnapshot } from './snapshot.js';
import { graphDigest } from './snapshot-digest.js';
import { Harness } from './harness.js';
import { harnessSnapshot } from './engine.js';
import type { FdKind } from './program.js';

type Op = { t: 'set'; k: number; v: number } | { t: 'del'; k: number } | { t: 'clear' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ t: fc.constant('set' as const), k: fc.integer({ min: 0, max: 12 }), v: fc.oneof(fc.integer({ min: -3, max: 3 }), fc.constant(-0)) }),
  fc.record({ t: fc.constant('del' as const), k: fc.integer({ min: 0, max: 12 }) }),
  fc.constant({ t: 'clear' as const }),
);

function apply(m: Map<number, unknown>, s: Set<number>, ops: readonly Op[]): void {
  for (const o of ops) {
    if (o.t === 'set') {
      m.set(o.k, o.v);
      s.add(o.k);
    } else if (o.t === 'del') {
      m.delete(o.k);
      s.delete(o.k);
    } else {
      m.clear();
      s.clear();
    }
  }
}

/** a Map's entries in order, -0 told apart from 0 */
function entries(m: Map<number, unknown>): string[] {
  return [...m].map(([k, v]) => `${k}:${Object.is(v, -0) ? '-0' : String(v)}`);
}

describe('the snapshot restores Maps and Sets without clear()', () => {
  it('gives back the recorded entries, values (-0 too) and iteration order after any sequence of sets, deletes and clears', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 12 }), fc.array(fc.array(opArb, { maxLength: 16 }), { minLength: 1, maxLength: 4 }), (setup, runs) => {
        const root = { m: new Map<number, unknown>(), s: new Set<number>() };
        apply(root.m, root.s, setup);
        const want = entries(root.m);
        const wantSet = [...root.s];
        const snap = new GraphSnapshot([root], []);
        const d0 = graphDigest([root]);
        for (const ops of runs) {
          apply(root.m, root.s, ops);
          snap.restore();
          expect(entries(root.m)).toEqual(want);
          expect([...root.s]).toEqual(wantSet);
          expect(graphDigest([root])).toBe(d0);
        }
      }),
      { seed: 18, numRuns: 400 },
    );
  });

  it('keeps the order when a recorded key was deleted and set again, and when the values of a prefix changed', () => {
    const a = { x: 1 };
    const b = { x: 2 };
    const root = { m: new Map<string, unknown>([['a', a], ['b', b], ['c', 0]]), s: new Set(['a', 'b', 'c']) };
    const snap = new GraphSnapshot([root], []);
    // b moved to the end (deleted, set again), a's value replaced, an entry added
    root.m.delete('b');
    root.m.set('b', b);
    root.m.set('a', { x: 9 });
    root.m.set('d', 4);
    root.m.set('c', -0);
    root.s.delete('a');
    root.s.add('a');
    root.s.add('z');
    snap.restore();
    expect([...root.m.keys()]).toEqual(['a', 'b', 'c']);
    expect(root.m.get('a')).toBe(a);
    expect(root.m.get('b')).toBe(b);
    expect(Object.is(root.m.get('c'), 0)).toBe(true);
    expect([...root.s]).toEqual(['a', 'b', 'c']);
    // emptied, then refilled in another order
    root.m.clear();
    root.m.set('c', 0);
    root.m.set('a', a);
    root.s.clear();
    snap.restore();
    expect([...root.m.keys()]).toEqual(['a', 'b', 'c']);
    expect([...root.s]).toEqual(['a', 'b', 'c']);
  });
});

/** cover() of a harness, from a test (protected in HarnessExec) */
class CoverHarness extends Harness {
  coverRow(kind: FdKind, what: string, ret: number): void {
    this.cover(kind, what, ret);
  }
}

describe("cover()'s pooled row Sets", () => {
  it('a row a run adds starts empty in the next run, and a Set is never shared by two harnesses', () => {
    const h = new CoverHarness({ profile: 'mainline' });
    const snap = harnessSnapshot(h);
    const row = 'device:unknown';
    expect(h.coverage.has(row)).toBe(false);
    h.coverRow('device', 'NOT_AN_IOCTL', -22);
    h.coverRow('device', 'NOT_AN_IOCTL', 0);
    const first = h.coverage.get(row)!;
    expect([...first]).toEqual(['EINVAL', 'ok']);
    expect(h.coverAdds).toEqual([row, 'EINVAL', row, 'ok']);
    snap.restore();
    expect(h.coverage.has(row)).toBe(false);
    expect(h.coverAdds).toEqual([]);
    // the next run: the row again, with one result only, and that result counted as new
    h.coverRow('device', 'NOT_AN_IOCTL', 0);
    expect([...h.coverage.get(row)!]).toEqual(['ok']);
    expect(h.coverAdds).toEqual([row, 'ok']);
    // another harness's row is a Set of its own
    const g = new CoverHarness({ profile: 'mainline' });
    g.coverRow('device', 'NOT_AN_IOCTL', -22);
    expect(g.coverage.get(row)).not.toBe(h.coverage.get(row));
    expect([...g.coverage.get(row)!]).toEqual(['EINVAL']);
    expect([...h.coverage.get(row)!]).toEqual(['ok']);
  });
});
