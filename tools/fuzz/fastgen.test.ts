import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { callArbOf } from './arb.js';
import { compile, fastArb, tableSize } from './fastgen.js';

/**
 * Draw with `src` and with its compiled form from two clones of the same random generator:
 * the values and the random stream's position afterwards (the next draw) must be the same.
 */
function sameDraws<T>(src: fc.Arbitrary<T>, seed: number, n: number): { values: number; differing: string[] } {
  const gen = compile(src as fc.Arbitrary<unknown>);
  const differing: string[] = [];
  let values = 0;
  class Probe extends ProbeArb {
    generate(mrng: fc.Random): fc.Value<number> {
      const a = mrng.clone();
      const b = mrng.clone();
      const v1 = src.generate(a, undefined).value;
      const v2 = gen(b);
      const next1 = a.nextInt(0, 0x7fffffff);
      const next2 = b.nextInt(0, 0x7fffffff);
      const s1 = JSON.stringify(v1);
      const s2 = JSON.stringify(v2);
      if (s1 !== s2 || next1 !== next2) differing.push(`${s1} / ${s2} (next ${next1} / ${next2})`);
      values++;
      return new fc.Value(0, undefined);
    }
  }
  fc.sample(new Probe(), { seed, numRuns: n });
  return { values, differing };
}

/** an arbitrary whose generate() compares two generators and draws nothing itself; it never shrinks */
abstract class ProbeArb extends fc.Arbitrary<number> {
  canShrinkWithoutContext(_v: unknown): _v is number {
    return false;
  }
  shrink(): fc.Stream<fc.Value<number>> {
    return fc.Stream.nil();
  }
}

describe('fastgen: compiled generation draws what fast-check draws', () => {
  it('the call arbitrary: same values and random stream over many draws', () => {
    for (const seed of [1, 2, 3, 42, -7]) {
      const r = sameDraws(callArbOf(), seed, 3000);
      expect(r.values).toBe(3000);
      expect(r.differing.slice(0, 3)).toEqual([]);
    }
  });

  it('the call tree is compiled once: drawing more calls adds no node (its chains return the same arbitraries)', () => {
    const gen = compile(callArbOf() as fc.Arbitrary<unknown>);
    const draw = (seed: number): void => {
      fc.sample(new (class extends ProbeArb {
        generate(mrng: fc.Random): fc.Value<number> {
          gen(mrng);
          return new fc.Value(0, undefined);
        }
      })(), { seed, numRuns: 2000 });
    };
    draw(1);
    const after = tableSize();
    expect(after.words).toBeGreaterThan(1000);
    draw(2);
    expect(tableSize()).toEqual(after);
  });

  it('the node kinds one by one (integer, constantFrom, oneof, map, tuple, chain, noBias, arrays and strings by their own generate)', () => {
    const arbs: fc.Arbitrary<unknown>[] = [
      fc.integer({ min: -5, max: 1000 }),
      fc.nat({ max: 0xffffffff }),
      fc.constant('x'),
      fc.constantFrom(1, 2, 3, 'a'),
      fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 0, arbitrary: fc.constant(1) }, { weight: 2, arbitrary: fc.nat(9) }),
      fc.tuple(fc.nat(3), fc.boolean(), fc.constant(null)).map(([a, b]) => ({ a, b })),
      fc.constantFrom(1, 2, 3).chain((n) => fc.array(fc.nat(n), { maxLength: n })),
      fc.string({ maxLength: 5 }),
      fc.subarray([1, 2, 4, 8]),
      fc.record({ a: fc.nat(), b: fc.option(fc.nat(3)) }),
    ];
    // a oneof inside itself (through a chain): below the top level fast-check's depth bias changes the draw
    const deep: fc.Arbitrary<unknown> = fc.oneof(fc.nat(3), fc.tuple(fc.constant('x'), fc.constant(0).chain(() => deep)));
    arbs.push(deep);
    // two oneofs of one depth context, one below the other without a chain: the inner one's draw
    // depends on the outer one's count (fastgen counts where such a oneof can be reached)
    const id = fc.createDepthIdentifier();
    const inner = fc.oneof({ depthIdentifier: id, depthSize: 'xsmall' }, fc.nat(3), fc.constant(7), fc.nat(20));
    arbs.push(fc.oneof({ depthIdentifier: id }, fc.tuple(inner, fc.nat(2), inner), fc.constant(0)));
    // oneofs without a depth bias (depthSize 'max', or a first alternative of weight 0): the plain
    // draw, no depth counted (the table's ONEOF node; every default oneof is the counting ONEOFD)
    arbs.push(fc.oneof({ depthSize: 'max' }, fc.nat(3), fc.tuple(fc.constant('y'), fc.nat(5)), { weight: 4, arbitrary: fc.integer({ min: -3, max: 3 }) }));
    arbs.push(fc.oneof({ weight: 0, arbitrary: fc.constant(0) }, { weight: 2, arbitrary: fc.nat(9) }, { weight: 5, arbitrary: fc.constantFrom('a', 'b') }));
    for (const a of arbs) {
      const r = sameDraws(a, 9, 500);
      expect(r.differing.slice(0, 3)).toEqual([]);
    }
  });

  it('generates the same programs through fc.commands, and shrinks from the same streams', () => {
    const cmd = (arb: fc.Arbitrary<unknown>): fc.Arbitrary<Iterable<unknown>> => fc.commands([arb.map((c) => ({ c, check: () => true, run: () => {}, toString: () => JSON.stringify(c) }))], { maxCommands: 20, size: 'max' });
    const calls = (it: Iterable<unknown>): unknown[] => [...it].map((w) => ((w as { cmd: { c: unknown } }).cmd.c));
    const plain = fc.sample(cmd(callArbOf()), { seed: 11, numRuns: 50 }).map(calls);
    const fast = fc.sample(cmd(fastArb(callArbOf())), { seed: 11, numRuns: 50 }).map(calls);
    expect(JSON.stringify(fast)).toBe(JSON.stringify(plain));
    // a failing property over the calls: the same counterexample after shrinking
    const shrunk = (arb: fc.Arbitrary<unknown>): string => {
      const res = fc.check(fc.property(fc.noBias(fc.array(arb, { minLength: 1, maxLength: 30 })), (cs) => cs.filter((c) => (c as { op: string }).op === 'ioctl').length < 3), { seed: 5, numRuns: 200 });
      return JSON.stringify(res.counterexample);
    };
    const s1 = shrunk(callArbOf());
    expect(s1).not.toBe('null');
    expect(shrunk(fastArb(callArbOf()))).toBe(s1);
  });

  it('shrinks a value from its compiled draw exactly as fast-check shrinks the original draw', () => {
    const src = callArbOf();
    const fast = fastArb(src);
    let compared = 0;
    class Probe extends ProbeArb {
      generate(mrng: fc.Random): fc.Value<number> {
        const v1 = src.generate(mrng.clone(), undefined);
        const v2 = fast.generate(mrng.clone(), undefined);
        const take = (s: fc.Stream<fc.Value<unknown>>): string[] => [...s.take(30)].map((v) => JSON.stringify(v.value));
        const first1 = [...src.shrink(v1.value, v1.context).take(5)];
        const first2 = [...fast.shrink(v2.value, v2.context).take(5)];
        expect(first2.map((v) => JSON.stringify(v.value))).toEqual(first1.map((v) => JSON.stringify(v.value)));
        // one level further, from the shrunk values' own contexts
        for (let i = 0; i < first1.length; i++) expect(take(fast.shrink(first2[i]!.value, first2[i]!.context))).toEqual(take(src.shrink(first1[i]!.value, first1[i]!.context)));
        compared++;
        return new fc.Value(0, undefined);
      }
    }
    fc.sample(new Probe(), { seed: 3, numRuns: 200 });
    expect(compared).toBe(200);
  });
});
