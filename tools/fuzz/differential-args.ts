/**
 * The differential check's command line (differential-main.ts, dist/fuzz-diff.js): strict
 * options, each value checked, the profile parsed, so a bad argument is a usage error (exit 2).
 */
import { parseArgs } from 'node:util';
import { parseProfile, ProfileError } from '../../kernel-model/profile.js';

export const USAGE = 'usage: fuzz-diff.js [--profile P] [--seed S] [--runs N (1..100000)] [--out DIR] [--only i,j] [--json]';

/** the parsed options, or a usage error's message */
export function parseDiffArgs(argv: readonly string[]): { profile: string; seed: number; n: number; out: string | null; only: number[] | undefined; json: boolean } | string {
  let v;
  try {
    v = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: { profile: { type: 'string' }, seed: { type: 'string' }, runs: { type: 'string' }, out: { type: 'string' }, only: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean' } },
    }).values;
  } catch (e) {
    return (e as Error).message;
  }
  if (v.help === true) return '';
  const int = (s: string | undefined, d: number): number => (s === undefined ? d : /^-?\d+$/.test(s.trim()) ? Number(s) : NaN);
  const seed = int(v.seed, 1);
  const n = int(v.runs, 50);
  if (!Number.isSafeInteger(seed)) return `--seed must be an integer, got '${v.seed}'`;
  if (!Number.isSafeInteger(n) || n < 1 || n > 100_000) return `--runs must be an integer in 1..100000, got '${v.runs}'`;
  const profile = v.profile ?? 'mainline';
  try {
    parseProfile(profile);
  } catch (e) {
    if (e instanceof ProfileError) return e.message;
    throw e;
  }
  let only: number[] | undefined;
  if (v.only !== undefined) {
    only = v.only.split(',').map((s) => int(s, NaN));
    const bad = only.findIndex((i) => !Number.isSafeInteger(i) || i < 0 || i >= n);
    if (bad >= 0) return `--only takes program numbers 0..${n - 1} separated by commas, got '${v.only}'`;
  }
  return { profile, seed, n, out: v.out ?? null, only, json: v.json === true };
}
