// Same-process comparison of N trees' fuzz campaigns (docs/PERFORMANCE.md "where the one-job fuzz rate went"):
//   node tools/bench/ab/compare-n.mjs PROFILE ROUNDS RUNS WARM SKIP BUNDLE...
// Each BUNDLE is a tree's dist/ab-engine.mjs (tools/bench/ab/build.mjs). All are loaded in one process, each
// warmed with WARM runs, then ROUNDS rounds of RUNS runs per bundle (seeds 1-3 in turn), the order rotated per
// round; the figure is executions per CPU second (process.cpuUsage). Prints each round, then each bundle's median
// over the rounds after the first SKIP. Figures are lower than in a two-bundle process (more code loaded):
// compare trees within one run only.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const [profile, rounds, runs, warm, skip] = [process.argv[2], +process.argv[3], +process.argv[4], +process.argv[5], +process.argv[6]];
const names = process.argv.slice(7);
if (!profile || !(rounds > skip) || !(runs > 0) || !(warm >= 0) || !(skip >= 0) || names.length < 2) {
  console.error('usage: node tools/bench/ab/compare-n.mjs PROFILE ROUNDS RUNS WARM SKIP BUNDLE BUNDLE...');
  process.exit(2);
}
const mods = [];
for (const n of names) mods.push(await import(pathToFileURL(resolve(n)).href));
function one(m, seed, n) {
  const c0 = process.cpuUsage();
  const r = m.runCampaign({ profile, seed, runs: n });
  const c = process.cpuUsage(c0);
  return r.execs / ((c.user + c.system) / 1e6);
}
for (const m of mods) one(m, 1, warm);
const res = names.map(() => []);
for (let i = 0; i < rounds; i++) {
  const seed = 1 + (i % 3);
  for (let k = 0; k < mods.length; k++) {
    const j = (k + i) % mods.length;
    res[j].push(one(mods[j], seed, runs));
  }
  console.log(i, res.map((r) => Math.round(r.at(-1))).join(' '));
}
const med = (v) => [...v].sort((x, y) => x - y)[v.length >> 1];
names.forEach((n, j) => console.log(n, Math.round(med(res[j].slice(skip)))));
