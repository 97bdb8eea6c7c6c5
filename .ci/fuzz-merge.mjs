#!/usr/bin/env node
// Merges the JSON outputs of fuzz shards (reports/fuzz-*.json, `fuzz --json --shard i/n`):
// per profile, the runs and every signature, known (in the baseline) or new. Exit 1 when a
// shard found a signature that is not in the baseline, 2 when there is no shard output.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.argv[2] ?? 'reports';
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
  const p = byProfile.get(o.profile) ?? { shards: [], runs: 0, execs: 0, known: new Set(), fresh: new Set() };
  p.shards.push(o.shard);
  p.runs += o.runs;
  p.execs += o.execs;
  for (const s of o.baseline.known) p.known.add(s);
  for (const s of o.baseline.new) p.fresh.add(s);
  byProfile.set(o.profile, p);
}
if (byProfile.size === 0) {
  console.error(`fuzz-merge: no fuzz --json output under ${dir}`);
  process.exit(2);
}
let bad = 0;
for (const [profile, p] of [...byProfile].sort()) {
  console.log(`${profile}: shards ${p.shards.sort().join(', ')}: ${p.runs} runs, ${p.execs} syscalls; known: ${[...p.known].sort().join(', ') || '-'}; NEW: ${[...p.fresh].sort().join(', ') || '-'}`);
  bad += p.fresh.size;
}
process.exit(bad ? 1 : 0);
