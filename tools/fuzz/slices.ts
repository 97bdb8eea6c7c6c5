/**
 * Scale-out: a campaign of R runs is cut into slices of SLICE_RUNS runs; slice k runs with
 * seed (seed + k). Shards (--shard i/n) take the slices with k % n === i; jobs (--jobs N)
 * share a shard's slices, each worker taking the next one not yet taken. Every slice is
 * independent and deterministic, and
 * results merge in slice order, so the merged result does not depend on how many jobs or
 * shards ran them (only on seed, runs and profile).
 */
import { pooledHarness, runCampaign, type CampaignResult, type FindingReport } from './engine.js';
import { runCoverageCampaign } from './coverage/campaign.js';
import { covRuntime, hitBitmap, unionInto } from './coverage/runtime.js';

export const SLICE_RUNS = 25;
/**
 * Runs per slice of a coverage-guided campaign (`--coverage`): the corpus lives for one slice,
 * so slices are longer; still fixed, so the result depends on seed and runs, not on jobs/shards.
 */
export const COVERAGE_SLICE_RUNS = 500;

export interface SliceResult {
  k: number;
  result: CampaignResult;
}

export function sliceCount(runs: number, size = SLICE_RUNS): number {
  return Math.ceil(runs / size);
}

export function sliceRuns(runs: number, k: number, size = SLICE_RUNS): number {
  return Math.min(size, runs - k * size);
}

export function shardSlices(total: number, shard: { i: number; n: number }): number[] {
  const out: number[] = [];
  for (let k = 0; k < total; k++) if (k % shard.n === shard.i) out.push(k);
  return out;
}

/**
 * One slice. guided: the coverage-guided campaign (coverage build only). In the coverage build
 * an unguided slice also reports the branch sites its runs reached (shrinking included; the
 * boot and set-up before the snapshot excluded, as in the guided campaign).
 */
export function runSlice(profile: string, seed: number, k: number, runs: number, suppress?: readonly string[], guided = false): SliceResult {
  if (guided) return { k, result: runCoverageCampaign({ profile, seed: (seed + k) | 0, runs, suppress, guided: true }) };
  const rt = covRuntime();
  if (rt) {
    // as in the guided campaign, the boot and set-up's branches are not the runs'
    pooledHarness(profile, new Set());
    rt.hits.fill(0);
  }
  const result = runCampaign({ profile, seed: (seed + k) | 0, runs, suppress });
  if (rt) result.branches = hitBitmap(rt);
  return { k, result };
}

export interface Merged {
  profile: string;
  seed: number;
  runs: number;
  execs: number;
  /** host time summed over slices (jobs run them in parallel) */
  cpuMs: number;
  slices: number[];
  findings: FindingReport[];
  coverage: Record<string, string[]>;
  /** coverage build: the union of the slices' branch bitmaps */
  branches?: Uint8Array;
}

/** merge in slice order: the first slice to find a signature keeps it */
export function mergeSlices(profile: string, seed: number, parts: readonly SliceResult[]): Merged {
  const sorted = [...parts].sort((a, b) => a.k - b.k);
  const findings = new Map<string, FindingReport>();
  const cov = new Map<string, Set<string>>();
  let runs = 0;
  let execs = 0;
  let cpuMs = 0;
  let branches: Uint8Array | undefined;
  for (const { result } of sorted) {
    if (result.branches) branches = branches ? unionInto(branches, result.branches) : Uint8Array.from(result.branches);
    runs += result.runs;
    execs += result.execs;
    cpuMs += result.elapsedMs;
    for (const f of result.findings) if (!findings.has(f.sig)) findings.set(f.sig, f);
    for (const [k, v] of Object.entries(result.coverage)) {
      let s = cov.get(k);
      if (!s) cov.set(k, (s = new Set()));
      for (const x of v) s.add(x);
    }
  }
  const coverage: Record<string, string[]> = {};
  for (const k of [...cov.keys()].sort()) coverage[k] = [...cov.get(k)!].sort();
  const fs = [...findings.values()].sort((a, b) => (a.sig < b.sig ? -1 : a.sig > b.sig ? 1 : 0));
  return { profile, seed, runs, execs, cpuMs, slices: sorted.map((s) => s.k), findings: fs, coverage, ...(branches ? { branches } : {}) };
}
