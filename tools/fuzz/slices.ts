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

/**
 * The campaign's merge, one slice result at a time: the CLI adds each result as it arrives and
 * keeps nothing else of it, so a --time campaign's memory does not grow with its slices (it
 * kept every result until the end before: about 6 KB of live heap per slice, RSS 193 MB after
 * 20 s and 274 MB after 80 s of one job). The result is the merge in slice order whatever
 * order the slices arrive in: counts and unions do not depend on it, and a signature keeps the
 * finding of the lowest slice that showed it (within that slice, its first).
 */
export class SliceMerger {
  private runs = 0;
  private execs = 0;
  private cpuMs = 0;
  private readonly ks: number[] = [];
  private readonly found = new Map<string, { k: number; f: FindingReport }>();
  private readonly cov = new Map<string, Set<string>>();
  private branches: Uint8Array | undefined;
  constructor(
    readonly profile: string,
    readonly seed: number,
  ) {}

  /** returns the findings this slice made the merge's choice for their signature (new, or from a lower slice) */
  add({ k, result }: SliceResult): FindingReport[] {
    const chosen: FindingReport[] = [];
    if (result.branches) this.branches = this.branches ? unionInto(this.branches, result.branches) : Uint8Array.from(result.branches);
    this.ks.push(k);
    this.runs += result.runs;
    this.execs += result.execs;
    this.cpuMs += result.elapsedMs;
    for (const f of result.findings) {
      const cur = this.found.get(f.sig);
      // an earlier finding of this slice (cur.k === k) or of a lower slice stays
      if (cur === undefined || k < cur.k) {
        this.found.set(f.sig, { k, f });
        chosen.push(f);
      }
    }
    for (const key in result.coverage) {
      let s = this.cov.get(key);
      if (!s) this.cov.set(key, (s = new Set()));
      for (const x of result.coverage[key]!) s.add(x);
    }
    return chosen;
  }

  result(): Merged {
    const coverage: Record<string, string[]> = {};
    for (const k of [...this.cov.keys()].sort()) coverage[k] = [...this.cov.get(k)!].sort();
    const fs = [...this.found.values()].map((e) => e.f).sort((a, b) => (a.sig < b.sig ? -1 : a.sig > b.sig ? 1 : 0));
    const slices = [...this.ks].sort((a, b) => a - b);
    const { profile, seed, runs, execs, cpuMs, branches } = this;
    return { profile, seed, runs, execs, cpuMs, slices, findings: fs, coverage, ...(branches ? { branches } : {}) };
  }
}

/** merge in slice order (SliceMerger over all of them) */
export function mergeSlices(profile: string, seed: number, parts: readonly SliceResult[]): Merged {
  const m = new SliceMerger(profile, seed);
  for (const p of parts) m.add(p);
  return m.result();
}
