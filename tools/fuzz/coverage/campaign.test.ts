/**
 * The guided campaign on the normal fuzzer's fast-check plumbing (campaign.ts guidedArb,
 * runCoverageCampaign): its fresh commands drawn by the fused per-command step
 * (commands-arb.ts fusedCommands) and its runs run by engine.ts runCommands. With `fused: false`
 * (fusedCommands' fallback, the stock fc.commands, which it also takes by itself when
 * fast-check's internals are not the expected ones) the campaign must be the same: the same
 * draws, the same shrinks, the same corpus, findings and coverage.
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { prefixOf } from '../arb.js';
import { runCommands, unwrap } from '../engine.js';
import type { Harness } from '../harness.js';
import { formatCall, type Call } from '../program.js';
import { guidedArb, newGuidedState, runCoverageCampaign, type GuidedRun } from './campaign.js';

/** a stand-in for the harness: a call "fails" when `fails` says so, as a finding would stop the run */
class FailingHarness {
  constructor(private readonly fails: (c: Call) => boolean) {}
  exec(c: Call): void {
    if (this.fails(c)) throw new Error(`fail at ${formatCall(c)}`);
  }
}

/**
 * A guided property check (seed `seed`): every program fast-check generates and every shrink
 * it tries, as text, and the counterexample. Each run's commands run through runCommands, so
 * fast-check's wrappers record which ran (the shrinker keeps those).
 */
function trace(fused: boolean, seed: number): { tried: string[]; counterexample: string | null; numShrinks: number } {
  const s = newGuidedState(64, true, true);
  const arb = guidedArb(s, 64, true, true, fused);
  const tried: string[] = [];
  // a "finding": an mmap of a device fd once a few calls ran
  const h = new FailingHarness((c) => c.op === 'mmap' && c.p === 1);
  const text = ([n, cmds, origin]: GuidedRun): string => `${origin} ${n}: ${[...cmds].map((c) => formatCall(unwrap(c))).join('; ')}`;
  const res = fc.check(
    fc.property(arb, (run) => {
      tried.push(text(run));
      runCommands(h as unknown as Harness, prefixOf(run[0]), run[1]);
    }),
    { seed, numRuns: 60 },
  );
  return { tried, counterexample: res.counterexample ? text(res.counterexample[0]) : null, numShrinks: res.numShrinks };
}

describe('guided campaign: fused fresh commands and runCommands', () => {
  it('guidedArb draws, runs and shrinks the same programs with the fused commands as with the stock fc.commands', () => {
    let failed = 0;
    const origins = new Set<string>();
    for (const seed of [1, 2, 3, 4, 5, 6]) {
      const a = trace(true, seed);
      const b = trace(false, seed);
      expect(a.tried, `seed ${seed}`).toEqual(b.tried);
      expect(a.counterexample, `seed ${seed}`).toEqual(b.counterexample);
      expect(a.numShrinks).toBe(b.numShrinks);
      if (a.counterexample !== null && a.numShrinks > 0) failed++;
      for (const t of a.tried) origins.add(t[0]!);
    }
    // fresh (0) and corpus-derived (1) programs were drawn, and shrinks compared, not only draws
    expect([...origins].sort()).toEqual(['0', '1']);
    expect(failed).toBeGreaterThan(2);
  });

  describe('runCoverageCampaign (stand-in counters: from source nothing is instrumented)', () => {
    const g = globalThis as { __vaeCov?: unknown };
    afterEach(() => {
      delete g.__vaeCov;
    });
    it('the same campaign with the stock fc.commands (fusedCommands fallback): findings, runs, syscalls, coverage', () => {
      const run = (fused: boolean): unknown => {
        g.__vaeCov = { hits: new Uint32Array(32), files: [] };
        const r = runCoverageCampaign({ profile: 'rfc-v4', seed: 5, runs: 60, guided: true, fused });
        const { elapsedMs: _t, ...rest } = r;
        return { ...rest, findings: r.findings.map((f) => ({ sig: f.sig, step: f.step, program: f.program.map((c) => formatCall(c)) })) };
      };
      const a = run(true) as { findings: unknown[]; runs: number; execs: number; coverage: Record<string, string[]> };
      expect(a.runs).toBe(60);
      expect(a.findings.length).toBeGreaterThan(0);
      expect(Object.keys(a.coverage).length).toBeGreaterThan(10);
      expect(run(false)).toEqual(a);
    }, 120_000);
  });
});
