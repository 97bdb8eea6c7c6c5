/**
 * The guided mode's seed corpus (seeds.ts SEEDS) and its adaptive fresh share: the seeds
 * build the states they are meant to build (their calls succeed where the profile has the
 * path) and are clean (no finding), and the fresh share stays within its bounds.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HWPT_FULL, SETUP_PREFIX, prefixOf } from '../arb.js';
import { IOMMUFD_PREFIX } from '../arb-iommufd.js';
import { runProgram } from '../engine.js';
import { EARLY_RUNS, FRESH_EARLY, FRESH_FULL, FRESH_MAX, FRESH_MIN, freshPrefixArb, freshShare, newGuidedState } from './campaign.js';
import { DMA_AREA, IOMMUFD_FULL, IOMMUFD_SEEDS, SCRATCH, SEEDS, seedsFor, type Seed } from './seeds.js';

describe('guided seed corpus', () => {
  // the errnos each seed's calls returned, per era (computed once per era)
  const errnos = new Map<string, string[][]>();
  const failuresOf = (profile: string): string[][] => {
    let r = errnos.get(profile);
    if (!r) {
      r = SEEDS.map((s) => {
        const { finding, harness } = runProgram(profile, [...prefixOf(s.n), ...s.calls], { transcript: true });
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

  it('the raw calls\' pointers: every process\'s scratch buffer is at SCRATCH, a zeroed read-only page 2 pages above it, its DMA area at DMA_AREA', () => {
    const { harness } = runProgram('rfc-v4', []);
    for (const s of harness.slots) {
      expect(s.scratch).toBe(SCRATCH);
      expect(s.ro).toBe(SCRATCH + 0x2000);
      expect(s.dma).toBe(DMA_AREA);
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
    expect(newGuidedState(8, true, true).corpus.length).toBe(SEEDS.length + IOMMUFD_SEEDS.length);
    expect(seedsFor(false)).toBe(SEEDS);
  });
});

describe('guided seed corpus: the cdev + iommufd path (profiles with /dev/iommu)', () => {
  const errnosOf = (profile: string, seeds: readonly Seed[]): string[][] =>
    seeds.map((s, i) => {
      const { finding, harness } = runProgram(profile, [...prefixOf(s.n), ...s.calls], { transcript: true });
      expect(finding, `seed ${i}`).toBeNull();
      // the prefix's own calls succeed
      const n = prefixOf(s.n).length;
      expect(harness.transcript.slice(0, n).map((t) => String(t.ret)).filter((r) => r.startsWith('-')), `seed ${i} prefix`).toEqual([]);
      return harness.transcript.slice(n).map((t) => String(t.ret)).filter((x) => x.startsWith('-'));
    });

  it.each(['mainline', 'mainline+iommufd-compat'])('%s: every iommufd seed runs clean, fails only with the errnos it declares, and each declared errno occurs', (profile) => {
    const all = errnosOf(profile, IOMMUFD_SEEDS);
    IOMMUFD_SEEDS.forEach((s, i) => {
      const allowed = (s.fails ?? []).map((e) => `-${e}`);
      for (const r of all[i]!) expect(allowed, `seed ${i}`).toContain(r);
      for (const e of allowed) expect(all[i], `seed ${i}`).toContain(e);
    });
    // they start on the iommufd path (or, P1's, on none), never on the group path
    for (const s of IOMMUFD_SEEDS) expect(s.n === 0 || s.n > SETUP_PREFIX.length).toBe(true);
    expect(prefixOf(IOMMUFD_FULL)).toEqual(IOMMUFD_PREFIX);
  });

  it('rfc-v4 (no /dev/iommu) gets no iommufd seed: there /dev/iommu is ENOENT', () => {
    expect(seedsFor(false).some((s) => s.n > SETUP_PREFIX.length)).toBe(false);
    const { harness } = runProgram('rfc-v4', [...prefixOf(IOMMUFD_FULL)], { transcript: true });
    expect(String(harness.transcript[0]!.ret)).toBe('-ENOENT');
  });

  it('fresh programs: about a half start on the iommufd path (a third) or its HWPT_ALLOC variant where the profile has it; without it the draws are those of the group path alone, as before', () => {
    const old = fc.oneof({ weight: FRESH_FULL, arbitrary: fc.constant(SETUP_PREFIX.length) }, { weight: 1, arbitrary: fc.nat({ max: SETUP_PREFIX.length }) });
    expect(fc.sample(freshPrefixArb(false), { seed: 7, numRuns: 500 })).toEqual(fc.sample(old, { seed: 7, numRuns: 500 }));
    const with_ = fc.sample(freshPrefixArb(true), { seed: 7, numRuns: 3000 });
    for (const n of with_) expect((n >= 0 && n <= IOMMUFD_FULL) || n === HWPT_FULL).toBe(true);
    // the iommufd path, whole or in part, a third; and since 2026-12-07 its variant with an
    // IOMMU_HWPT_ALLOC'd HWPT (HWPT_PREFIX) as often as its whole: together about a half
    const iommufd = with_.filter((n) => n > SETUP_PREFIX.length).length;
    expect(iommufd / with_.length).toBeGreaterThan(0.42);
    expect(iommufd / with_.length).toBeLessThan(0.55);
    // mostly the whole of either path
    expect(with_.filter((n) => n === IOMMUFD_FULL || n === HWPT_FULL).length).toBeGreaterThan(iommufd * 0.8);
    expect(with_.filter((n) => n === HWPT_FULL).length).toBeGreaterThan(iommufd * 0.35);
  });
});
