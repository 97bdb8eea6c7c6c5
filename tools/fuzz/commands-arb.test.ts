import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { callArbOf } from './arb.js';
import { fusedCommands } from './commands-arb.js';
import { CallCommand, runCommands, unwrap } from './engine.js';
import type { Harness } from './harness.js';
import type { Call } from './program.js';
import { fastArb } from './fastgen.js';
import { formatCall } from './program.js';

type Cmds = Iterable<fc.Command<object, unknown>>;
type Wrapper = { hasRan: boolean };

/** the calls of a generated command sequence, one line each */
const calls = (cmds: Cmds): string[] => [...cmds].map((c) => formatCall(unwrap(c)));

/** the first `n` values of a shrink stream, as their calls */
function shrinks(s: fc.Stream<fc.Value<Cmds>>, n: number): { values: fc.Value<Cmds>[]; text: string[][] } {
  const values = [...s.take(n)];
  return { values, text: values.map((v) => calls(v.value_)) };
}

/**
 * One draw of a whole command sequence with the stock fc.commands and with fusedCommands from
 * two clones of the same random generator, the run simulated as failing after `ran` commands
 * (fast-check's wrappers record hasRan; the shrink keeps the commands that ran): the calls, the
 * random stream's position afterwards and the first shrinks (and the first shrinks of the first
 * shrink) must be the same. Returns what differs.
 */
function compareDraw(stock: fc.Arbitrary<Cmds>, fused: fc.Arbitrary<Cmds>, mrng: fc.Random, failAt: number): string[] {
  const a = mrng.clone();
  const b = mrng.clone();
  const va = stock.generate(a, undefined);
  const vb = fused.generate(b, undefined);
  const out: string[] = [];
  const ca = calls(va.value_);
  const cb = calls(vb.value_);
  if (JSON.stringify(ca) !== JSON.stringify(cb)) out.push(`calls ${ca.length} / ${cb.length}`);
  const na = a.nextInt(0, 0x7fffffff);
  const nb = b.nextInt(0, 0x7fffffff);
  if (na !== nb) out.push(`next draw ${na} / ${nb}`);
  const ran = Math.min(failAt, ca.length);
  for (const v of [va, vb]) [...v.value_].forEach((w, i) => ((w as unknown as Wrapper).hasRan = i < ran));
  const sa = shrinks(stock.shrink(va.value_, va.context), 40);
  const sb = shrinks(fused.shrink(vb.value_, vb.context), 40);
  if (JSON.stringify(sa.text) !== JSON.stringify(sb.text)) out.push(`shrinks of ${ca.length} calls (${ran} ran)`);
  // one level further: the first shrink with a command, all of its commands run
  const ia = sa.values.findIndex((v) => [...v.value_].length > 0);
  if (ia >= 0) {
    const [xa, xb] = [sa.values[ia]!, sb.values[ia]!];
    for (const v of [xa, xb]) for (const w of v.value_) (w as unknown as Wrapper).hasRan = true;
    const ta = shrinks(stock.shrink(xa.value_, xa.context), 40).text;
    const tb = shrinks(fused.shrink(xb.value_, xb.context), 40).text;
    if (JSON.stringify(ta) !== JSON.stringify(tb)) out.push(`second-level shrinks of ${ca.length} calls`);
  }
  return out;
}

/** `runs` draws compared (compareDraw) from fast-check's generators of seed `seed` */
function compareMany(fused: boolean, seed: number, runs: number): { draws: number; longest: number; differing: string[] } {
  const cmd = fastArb(callArbOf(true, true).map((c) => new CallCommand(c)));
  const stock = fc.commands([cmd], { maxCommands: 64, size: 'max' }) as fc.Arbitrary<Cmds>;
  const other = fusedCommands(cmd, { maxCommands: 64, size: 'max' }, fused) as fc.Arbitrary<Cmds>;
  const differing: string[] = [];
  let draws = 0;
  let longest = 0;
  class Probe extends fc.Arbitrary<number> {
    generate(mrng: fc.Random): fc.Value<number> {
      const n = calls(stock.generate(mrng.clone(), undefined).value_).length;
      longest = Math.max(longest, n);
      differing.push(...compareDraw(stock, other, mrng, draws % 3 === 0 ? n : draws % 7));
      draws++;
      return new fc.Value(0, undefined);
    }
    canShrinkWithoutContext(_v: unknown): _v is number {
      return false;
    }
    shrink(): fc.Stream<fc.Value<number>> {
      return fc.Stream.nil();
    }
  }
  fc.sample(new Probe(), { seed, numRuns: runs });
  return { draws, longest, differing };
}

describe('fusedCommands (fc.commands with the per-command step fused)', () => {
  it('draws the same commands, leaves the random stream at the same place and shrinks the same as fc.commands', () => {
    for (const seed of [1, 2, 3]) {
      const r = compareMany(true, seed, 40);
      expect(r.draws).toBe(40);
      // the sequences are long enough for the comparison to mean something
      expect(r.longest).toBeGreaterThan(20);
      expect(r.differing).toEqual([]);
    }
  });

  it('replaces the per-command arbitrary (fast-check 4 layout) and keeps fast-check\'s wrapper', () => {
    const cmd = fastArb(callArbOf(true, false).map((c) => new CallCommand(c)));
    const stock = fc.commands([cmd], { maxCommands: 8 }) as unknown as { oneCommandArb: object };
    const fused = fusedCommands(cmd, { maxCommands: 8 }) as unknown as { oneCommandArb: object };
    expect(fused.oneCommandArb.constructor).not.toBe(stock.oneCommandArb.constructor);
    const [cmds] = fc.sample(fused as unknown as fc.Arbitrary<Cmds>, { seed: 5, numRuns: 1 });
    const w = [...cmds!][0] as unknown as { hasRan: boolean; cmd: unknown; constructor: unknown };
    const [stockCmds] = fc.sample(stock as unknown as fc.Arbitrary<Cmds>, { seed: 5, numRuns: 1 });
    expect(w.constructor).toBe(([...stockCmds!][0] as unknown as { constructor: unknown }).constructor);
    expect(w.hasRan).toBe(false);
    expect(w.cmd).toBeInstanceOf(CallCommand);
  });
});

describe('runCommands (fc.modelRun\'s loop)', () => {
  it('runs the prefix, then each command whose check() passes, in order; fast-check\'s wrappers record which ran', () => {
    const ran: string[] = [];
    const h = { exec: (c: Call) => ran.push(formatCall(c)) } as unknown as Harness;
    /** a command that runs only when `ok`, recording its name */
    class Cmd implements fc.Command<object, Harness> {
      constructor(
        readonly name: string,
        readonly ok: boolean,
      ) {}
      check(m: object): boolean {
        expect(m).toEqual({});
        return this.ok;
      }
      run(_m: object, real: Harness): void {
        expect(real).toBe(h);
        ran.push(this.name);
      }
    }
    const spec: [string, boolean][] = [['a', true], ['b', false], ['c', true], ['d', false], ['e', true]];
    // fast-check's own wrappers, as a generated run hands them over
    const arb = fc.commands(spec.map(([n, ok]) => fc.constant(new Cmd(n, ok))), { maxCommands: 5 });
    const prefix: Call[] = [{ op: 'close', p: 0, fd: { k: 'container', i: 0 } }];
    let checked = 0;
    for (const cmds of fc.sample(arb, { seed: 7, numRuns: 20 })) {
      ran.length = 0;
      runCommands(h, prefix, cmds);
      const ws = [...cmds] as unknown as { cmd: Cmd; hasRan: boolean }[];
      expect(ran).toEqual([formatCall(prefix[0]!), ...ws.filter((w) => w.cmd.ok).map((w) => w.cmd.name)]);
      for (const w of ws) expect(w.hasRan).toBe(w.cmd.ok);
      checked += ws.length;
    }
    expect(checked).toBeGreaterThan(20);
  });
});
