/**
 * The guided mode's seed corpus (campaign.ts SEEDS) and its adaptive fresh share: the seeds
 * build the states they are meant to build (their calls succeed where the profile has the
 * path) and are clean (no finding), and the fresh share stays within its bounds.
 */
import { describe, expect, it } from 'vitest';
import { SETUP_PREFIX } from '../arb.js';
import { runProgram } from '../engine.js';
import { EARLY_RUNS, FRESH_EARLY, FRESH_MAX, FRESH_MIN, SEEDS, freshShare, newGuidedState } from './campaign.js';

describe('guided seed corpus', () => {
  it.each(['rfc-v4', 'mainline'])('%s: every seed runs clean; its calls succeed but for paths the profile lacks', (profile) => {
    let ok = 0;
    for (const s of SEEDS) {
      const { finding, harness } = runProgram(profile, [...SETUP_PREFIX.slice(0, s.n), ...s.calls], { transcript: true });
      expect(finding, JSON.stringify(s.calls)).toBeNull();
      const rets = harness.transcript.map((t) => String((t as { ret?: unknown }).ret));
      const failed = rets.filter((r) => r.startsWith('-'));
      // the bus and bind paths of the other era fail with ENOENT/ENODEV and nothing else
      for (const r of failed) expect(['-ENOENT', '-ENODEV']).toContain(r);
      if (failed.length === 0) ok++;
    }
    expect(ok).toBeGreaterThanOrEqual(SEEDS.length - 3);
  });

  it('the fresh share follows the yields within its bounds', () => {
    const s = newGuidedState(8);
    expect(freshShare(s)).toBe(FRESH_EARLY); // the early phase: mostly fresh programs
    s.tries = [EARLY_RUNS / 2, EARLY_RUNS / 2];
    expect(freshShare(s)).toBe(FRESH_MAX); // no evidence: yields equal, 0.5
    s.tries = [100, 100];
    s.wins = [0, 60];
    expect(freshShare(s)).toBe(FRESH_MIN);
    s.wins = [30, 10];
    expect(freshShare(s)).toBeGreaterThan(FRESH_MIN);
    expect(freshShare(s)).toBeLessThanOrEqual(FRESH_MAX);
    expect(newGuidedState(8, false).corpus).toEqual([]);
    expect(newGuidedState(8).corpus.length).toBe(SEEDS.length);
  });
});
