/**
 * Entry of the differential check (bundled as dist/fuzz-diff.js; docs/FUZZING.md, "Differential
 * check"): `node dist/fuzz-diff.js --profile P --seed S --runs N [--out DIR] [--only i,j] [--json]`
 * (--only: of the N programs drawn, run these). Prints
 * the report (tools/fuzz/differential.ts formatReport) or, with --json, the DiffReport; exit 1
 * when a divergence that is no known limit was found, 2 on a usage error (an unknown option, a
 * bad number, an unknown profile: said on stderr with the usage line).
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mkdtempSync } from 'node:fs';
import { parseDiffArgs, USAGE } from './differential-args.js';
import { differential, formatReport } from './differential.js';

const o = parseDiffArgs(process.argv.slice(2));
if (typeof o === 'string') {
  process.stderr.write(o === '' ? `${USAGE}\n` : `fuzz-diff.js: ${o}\n${USAGE}\n`);
  process.exit(o === '' ? 0 : 2);
}
const workDir = o.out ?? mkdtempSync(join(tmpdir(), 'fuzz-diff-'));
const rep = differential({ profile: o.profile, seed: o.seed, n: o.n, workDir, only: o.only, log: (s) => process.stderr.write(`${s}\n`) });
process.stdout.write(o.json ? `${JSON.stringify(rep, null, 1)}\n` : `${formatReport(rep).join('\n')}\n`);
process.exit(rep.divergences.some((d) => !d.limit) ? 1 : 0);
