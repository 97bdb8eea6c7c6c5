/**
 * Fuzzer throughput for `npm run bench` (the integrator wires it in): syscalls per second
 * of host time, boots included (one boot per fast-check run), on the mainline profile so
 * that no finding's shrinking distorts the figure.
 */
import { runCampaign } from './engine.js';

export interface FuzzRate {
  execsPerSec: number;
  runsPerSec: number;
  execs: number;
  runs: number;
  ms: number;
}

/** Detailed figures: budget in runs (number or {runs}) or host seconds ({seconds}). */
export function fuzzRateDetail(budget: number | { runs?: number; seconds?: number } = 50, profile = 'mainline'): FuzzRate {
  const b = typeof budget === 'number' ? { runs: budget } : budget;
  // warm-up (JIT) outside the measurement
  runCampaign({ profile, seed: 7, runs: 5 });
  const r = runCampaign({ profile, seed: 1, runs: b.runs ?? Number.MAX_SAFE_INTEGER, timeMs: b.seconds !== undefined ? b.seconds * 1000 : undefined });
  const s = Math.max(r.elapsedMs / 1000, 1e-6);
  return { execsPerSec: r.execs / s, runsPerSec: r.runs / s, execs: r.execs, runs: r.runs, ms: r.elapsedMs };
}

/** syscalls per second */
export function fuzzRate(budget: number | { runs?: number; seconds?: number } = 50, profile = 'mainline'): number {
  return fuzzRateDetail(budget, profile).execsPerSec;
}
