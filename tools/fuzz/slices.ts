/**
 * Scale-out: a campaign of R runs is cut into slices of SLICE_RUNS runs; slice k runs with
 * seed (seed + k). Shards (--shard i/n) take the slices with k % n === i; jobs (--jobs N)
 * share a shard's slices, each worker taking the next one not yet taken. Every slice is
 * independent and deterministic, and
 * results merge in slice order, so the merged result does not depend on how many jobs or
 * shards ran them (only on seed, runs and profile).
 */
import { runCampaign, type CampaignResult, type FindingReport } from './engine.js';

export const SLICE_RUNS = 25;

export interface SliceResult {
  k: number;
  result: CampaignResult;
}

export function sliceCount(runs: number): number {
  return Math.ceil(runs / SLICE_RUNS);
}

export function sliceRuns(runs: number, k: number): number {
  return Math.min(SLICE_RUNS, runs - k * SLICE_RUNS);
}

export function shardSlices(total: number, shard: { i: number; n: number }): number[] {
  const out: number[] = [];
  for (let k = 0; k < total; k++) if (k % shard.n === shard.i) out.push(k);
  return out;
}

export function runSlice(profile: string, seed: number, k: number, runs: number, suppress?: readonly string[]): SliceResult {
  return { k, result: runCampaign({ profile, seed: (seed + k) | 0, runs, suppress }) };
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
}

/** merge in slice order: the first slice to find a signature keeps it */
export function mergeSlices(profile: string, seed: number, parts: readonly SliceResult[]): Merged {
  const sorted = [...parts].sort((a, b) => a.k - b.k);
  const findings = new Map<string, FindingReport>();
  const cov = new Map<string, Set<string>>();
  let runs = 0;
  let execs = 0;
  let cpuMs = 0;
  for (const { result } of sorted) {
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
  return { profile, seed, runs, execs, cpuMs, slices: sorted.map((s) => s.k), findings: fs, coverage };
}
