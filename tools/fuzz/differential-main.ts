/**
 * Entry of the differential check (bundled as dist/fuzz-diff.js; docs/FUZZING.md, "Differential
 * check"): `node dist/fuzz-diff.js --profile P --seed S --runs N [--out DIR] [--only i,j] [--json]`
 * (--only: of the N programs drawn, run these). Prints
 * the report (tools/fuzz/differential.ts formatReport) or, with --json, the DiffReport; exit 1
 * when a divergence that is no known limit was found, 2 on a usage error.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mkdtempSync } from 'node:fs';
import { differential, formatReport } from './differential.js';

const args = process.argv.slice(2);
const opt = (name: string, dflt: string): string => {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1]! : dflt;
};
const profile = opt('--profile', 'mainline');
const seed = Number(opt('--seed', '1'));
const n = Number(opt('--runs', '50'));
if (!Number.isInteger(seed) || !Number.isInteger(n) || n < 1) {
  process.stderr.write('usage: fuzz-diff.js [--profile P] [--seed S] [--runs N] [--out DIR] [--only i,j] [--json]\n');
  process.exit(2);
}
const workDir = opt('--out', '') || mkdtempSync(join(tmpdir(), 'fuzz-diff-'));
const only = opt('--only', '') ? opt('--only', '').split(',').map(Number) : undefined;
const rep = differential({ profile, seed, n, workDir, only, log: (s) => process.stderr.write(`${s}\n`) });
process.stdout.write(args.includes('--json') ? `${JSON.stringify(rep, null, 1)}\n` : `${formatReport(rep).join('\n')}\n`);
process.exit(rep.divergences.some((d) => !d.limit) ? 1 : 0);
