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
  const r = runCampaign({ profile, seed: 1, runs: b.runs ?? Number.MAX_SAFE_INTEGER, timeMs: b.seconds !== undefined ? b.seconds * 1000 : undefined, reuse: b.reuse });
  const s = Math.max(r.elapsedMs / 1000, 1e-6);
  return { execsPerSec: r.execs / s, runsPerSec: r.runs / s, execs: r.execs, runs: r.runs, ms: r.elapsedMs };
}

/** syscalls per second */
export function fuzzRate(budget: number | FuzzRateOptions = 50, profile = 'mainline'): number {
  return fuzzRateDetail(budget, profile).execsPerSec;
}
