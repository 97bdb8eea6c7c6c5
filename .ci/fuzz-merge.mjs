#!/usr/bin/env node
// Merges the JSON outputs of fuzz shards (reports/fuzz-*.json, `fuzz --json --shard i/n`):
// per profile, the runs and every signature, known (in the baseline) or new. Exit 1 when a
// shard found a signature that is not in the baseline, 2 when there is no shard output.
// Shards of the coverage build (node dist/cov/fuzz-cov.js fuzz --json) also carry `branches`:
// the per-file bitmaps are OR-ed, so a CI matrix gives one branch-coverage figure per profile;
// `--coverage-out FILE` writes the merged per-file report as JSON.
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const args = process.argv.slice(2);
const co = args.indexOf('--coverage-out');
const coverageOut = co >= 0 ? args.splice(co, 2)[1] : undefined;
const dir = args[0] ?? 'reports';
const files = [];
const walk = (d) => {
  for (const f of readdirSync(d).sort()) {
    const p = join(d, f);
    if (statSync(p).isDirectory()) walk(p);
    else if (/^fuzz-.*\.json$/.test(f)) files.push(p);
  }
};
walk(dir);
const byProfile = new Map();
for (const f of files) {
  let o;
  try {
    o = JSON.parse(readFileSync(f, 'utf8'));
  } catch {
    continue; // a finding file inside an --out directory is not a shard output
  }
  if (o?.schema !== 'vfio-arm-emu/fuzz/1') continue;
  const p = byProfile.get(o.profile) ?? { shards: [], runs: 0, execs: 0, known: new Set(), fresh: new Set(), files: null };
  p.shards.push(o.shard);
  p.runs += o.runs;
  p.execs += o.execs;
  for (const s of o.baseline.known) p.known.add(s);
  for (const s of o.baseline.new) p.fresh.add(s);
  if (o.branches) {
    p.files ??= new Map();
    for (const f of o.branches.files) {
      const bits = Buffer.from(f.bitmap, 'base64');
      const have = p.files.get(f.file);
      if (!have) p.files.set(f.file, { total: f.total, bits });
      else if (have.total !== f.total) {
        console.error(`fuzz-merge: ${f}: ${f.file} has ${f.total} branch sites, another shard ${have.total} (different builds)`);
        process.exit(2);
      } else for (let i = 0; i < bits.length; i++) have.bits[i] |= bits[i];
    }
  }
  byProfile.set(o.profile, p);
}
if (byProfile.size === 0) {
  console.error(`fuzz-merge: no fuzz --json output under ${dir}`);
  process.exit(2);
}
const popcount = (buf) => {
  let c = 0;
  for (const b of buf) for (let x = b; x; x &= x - 1) c++;
  return c;
};
let bad = 0;
const merged = {};
for (const [profile, p] of [...byProfile].sort()) {
  console.log(`${profile}: shards ${p.shards.sort().join(', ')}: ${p.runs} runs, ${p.execs} syscalls; known: ${[...p.known].sort().join(', ') || '-'}; NEW: ${[...p.fresh].sort().join(', ') || '-'}`);
  bad += p.fresh.size;
  if (p.files) {
    const files = [...p.files].sort(([a], [b]) => (a < b ? -1 : 1)).map(([file, f]) => ({ file, total: f.total, covered: popcount(f.bits), bitmap: f.bits.toString('base64') }));
    const sum = (xs) => xs.reduce((a, f) => ({ total: a.total + f.total, covered: a.covered + f.covered }), { total: 0, covered: 0 });
    const all = sum(files);
    const km = sum(files.filter((f) => f.file.startsWith('kernel-model/')));
    console.log(`${profile}: branch coverage (merged): kernel-model ${km.covered}/${km.total}, all instrumented ${all.covered}/${all.total}`);
    merged[profile] = { total: all.total, covered: all.covered, kernelModel: km, files };
  }
}
if (coverageOut) writeFileSync(coverageOut, JSON.stringify({ schema: 'vfio-arm-emu/fuzz-coverage-merge/1', profiles: merged }) + '\n');
process.exit(bad ? 1 : 0);
