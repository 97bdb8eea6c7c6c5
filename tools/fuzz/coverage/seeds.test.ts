/**
 * The guided mode's seed corpus (seeds.ts SEEDS) and its adaptive fresh share: the seeds
 * build the states they are meant to build (their calls succeed where the profile has the
 * path) and are clean (no finding), and the fresh share stays within its bounds.
 */
import { describe, expect, it } from 'vitest';
import { SETUP_PREFIX } from '../arb.js';
import { runProgram } from '../engine.js';
import { EARLY_RUNS, FRESH_EARLY, FRESH_MAX, FRESH_MIN, freshShare, newGuidedState } from './campaign.js';
import { SCRATCH, SEEDS } from './seeds.js';

describe('guided seed corpus', () => {
  // the errnos each seed's calls returned, per era (computed once per era)
  const errnos = new Map<string, string[][]>();
  const failuresOf = (profile: string): string[][] => {
    let r = errnos.get(profile);
    if (!r) {
      r = SEEDS.map((s) => {
        const { finding, harness } = runProgram(profile, [...SETUP_PREFIX.slice(0, s.n), ...s.calls], { transcript: true });
        expect(finding, JSON.stringify(s.calls)).toBeNull();
        return harness.transcript.map((t) => String((t as { ret?: unknown }).ret)).filter((x) => x.startsWith('-'));
      });
      errnos.set(profile, r);
    }
    return r;
  };
  it.each(['rfc-v4', 'mainline'])('%s: every seed runs clean; its calls succeed but for paths the profile lacks and the errors it provokes on purpose', (profile) => {
    let ok = 0;
    const all = failuresOf(profile);
    SEEDS.forEach((s, i) => {
      const failed = all[i]!;
      // the bus and bind paths of the other era fail with ENOENT/ENODEV; the rest is declared
      // (an eventfd read before its interrupt fired would be -EAGAIN: the seeds' reads are all after one)
      const allowed = ['-ENOENT', '-ENODEV', ...(s.fails ?? []).map((e) => `-${e}`)];
      for (const r of failed) expect(allowed, `seed ${i}`).toContain(r);
      if (failed.length === 0) ok++;
    });
    // most seeds run without a single failing call in either era
    expect(ok).toBeGreaterThanOrEqual(SEEDS.length / 2);
  });

  it('the raw calls\' pointers: every process\'s scratch buffer is at SCRATCH, a zeroed read-only page 2 pages above it', () => {
    const { harness } = runProgram('rfc-v4', []);
    for (const s of harness.slots) {
      expect(s.scratch).toBe(SCRATCH);
      expect(s.ro).toBe(SCRATCH + 0x2000);
    }
  });

  it('every errno a seed declares occurs in some era', () => {
    SEEDS.forEach((s, i) => {
      const seen = [...failuresOf('rfc-v4')[i]!, ...failuresOf('mainline')[i]!];
      for (const e of s.fails ?? []) expect(seen, `seed ${i}`).toContain(`-${e}`);
    });
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
