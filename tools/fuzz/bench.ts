/**
 * Fuzzer throughput for `npm run bench`: syscalls per second of host time, on the mainline
 * profile so that no finding's shrinking distorts the figure. Counted are the syscalls the
 * runs execute (the set-up's syscalls, done once per boot, are not); the time includes
 * everything per run: generation, restoring the snapshot (or booting, with reuse: false),
 * execution with every invariant check, and the end-of-run teardown checks.
 */
import { runCampaign } from './engine.js';

export interface FuzzRate {
  execsPerSec: number;
  runsPerSec: number;
  execs: number;
  runs: number;
  ms: number;
}

export interface FuzzRateOptions {
  runs?: number;
  seconds?: number;
  /** warm-up runs before the measurement (JIT, and the profile's boot + snapshot); default 200 */
  warmupRuns?: number;
  /** start runs from the snapshot (default true) or boot a fresh System per run */
  reuse?: boolean;
}

/** Detailed figures: budget in runs (number or {runs}) or host seconds ({seconds}). */
export function fuzzRateDetail(budget: number | FuzzRateOptions = 50, profile = 'mainline'): FuzzRate {
  const b = typeof budget === 'number' ? { runs: budget } : budget;
  // warm-up (JIT; the first run of a profile boots and snapshots) outside the measurement
  runCampaign({ profile, seed: 7, runs: b.warmupRuns ?? 200, reuse: b.reuse });
  return measure(profile, b);
}

function measure(profile: string, b: FuzzRateOptions): FuzzRate {
  const r = runCampaign({ profile, seed: 1, runs: b.runs ?? Number.MAX_SAFE_INTEGER, timeMs: b.seconds !== undefined ? b.seconds * 1000 : undefined, reuse: b.reuse });
  const s = Math.max(r.elapsedMs / 1000, 1e-6);
  return { execsPerSec: r.execs / s, runsPerSec: r.runs / s, execs: r.execs, runs: r.runs, ms: r.elapsedMs };
}

/**
 * How long V8 takes to optimise the fuzzer, in runs: in one process, consecutive 500-run
 * campaigns (mainline, a quiet 2-core host) ran at 36k, 48k, 65k, 53k, 68k, 76k, 84k, 75k, 83k,
 * 77k, 90k ... syscalls/s and settled near 95-105k only after ~8,000-10,000 runs (TurboFan
 * compilations: ~600 in the first 500 runs, then 100-170, 40-60, and still 20-30 per 500 runs
 * at 8,000; with `--no-opt` the rate is flat at 22k). 300 warm-up runs, the method before,
 * measured mostly that warm-up (docs/PERFORMANCE.md, "Fuzzer throughput, round 6").
 */
export const STEADY_WARMUP_RUNS = 10_000;

export interface FuzzRateCurve {
  /** the first `runs` after a 300-run warm-up: what a short campaign in a fresh process sees */
  cold: FuzzRate;
  /** the same `runs` once the process has run STEADY_WARMUP_RUNS in all: the fuzzer's own speed */
  steady: FuzzRate;
}

/**
 * Both rates in one process: `cold` first (300 warm-up runs of seed 7, then `runs` runs of
 * seed 1), then warm-up runs of seed 7 until the process has run `warmupRuns` in all, then the
 * same `runs` runs of seed 1 again (`steady`: the same programs, so the two differ only by the
 * JIT's state).
 */
export function fuzzRateCurve(runs: number, warmupRuns = STEADY_WARMUP_RUNS, profile = 'mainline', first = 300): FuzzRateCurve {
  runCampaign({ profile, seed: 7, runs: first });
  const cold = measure(profile, { runs });
  const rest = warmupRuns - first - runs;
  if (rest > 0) runCampaign({ profile, seed: 7, runs: rest });
  const steady = measure(profile, { runs });
  return { cold, steady };
}

/** syscalls per second */
export function fuzzRate(budget: number | FuzzRateOptions = 50, profile = 'mainline'): number {
  return fuzzRateDetail(budget, profile).execsPerSec;
}
