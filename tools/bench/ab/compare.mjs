// Same-process A/B of fuzz campaigns, step 2 (docs/PERFORMANCE.md "Comparing two trees"):
//   A=treeA/dist/ab-engine.mjs B=treeB/dist/ab-engine.mjs node tools/bench/ab/compare.mjs PROFILE ROUNDS RUNS WARM [SKIP]
// Both bundles run in one process, alternating (A first on even rounds, B first on odd ones), seeds
// 1-3 in turn, RUNS runs per campaign after WARM warm-up runs each; the figure is executions per CPU
// second (process.cpuUsage), so other load on the host moves both alike. The first SKIP rounds are
// left out of the medians (the JIT still warms there). The bundle loaded second is favoured on some
// hosts (an A/A control read 1.119): run it both ways and report sqrt(r1 / r2).
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const [profile, rounds, runs, warm, skip] = [process.argv[2], +process.argv[3], +process.argv[4], +process.argv[5], +(process.argv[6] ?? 0)];
if (!process.env.A || !process.env.B || !profile || !(rounds > skip) || !(runs > 0) || !(warm >= 0)) {
  console.error('usage: A=BUNDLE B=BUNDLE node tools/bench/ab/compare.mjs PROFILE ROUNDS RUNS WARM [SKIP]');
  process.exit(2);
}
const load = (p) => import(pathToFileURL(resolve(p)).href);
const A = await load(process.env.A);
const B = await load(process.env.B);
function one(m, seed, n) {
  const c0 = process.cpuUsage();
  const r = m.runCampaign({ profile, seed, runs: n });
  const c = process.cpuUsage(c0);
  return { execs: r.execs, cpu: (c.user + c.system) / 1e6 };
}
one(A, 1, warm);
one(B, 1, warm);
const ra = [], rb = [], ratio = [];
for (let i = 0; i < rounds; i++) {
  const seed = 1 + (i % 3);
  const order = i % 2 === 0 ? [[A, ra, 'a'], [B, rb, 'b']] : [[B, rb, 'b'], [A, ra, 'a']];
  const got = {};
  for (const [m, arr, name] of order) {
    const x = one(m, seed, runs);
    arr.push(x.execs / x.cpu);
    got[name] = x;
  }
  ratio.push((got.b.execs / got.b.cpu) / (got.a.execs / got.a.cpu));
  console.log(i, seed, 'A', Math.round(got.a.execs / got.a.cpu), 'B', Math.round(got.b.execs / got.b.cpu), 'execs', got.a.execs, got.b.execs, 'B/A', ratio.at(-1).toFixed(3));
}
const med = (v) => [...v].sort((x, y) => x - y)[v.length >> 1];
const k = (v) => v.slice(skip);
console.log('kept rounds', rounds - skip, 'median A', Math.round(med(k(ra))), 'B', Math.round(med(k(rb))), 'B/A', med(k(ratio)).toFixed(3), 'range', Math.min(...k(ratio)).toFixed(2), Math.max(...k(ratio)).toFixed(2), '| all rounds B/A', med(ratio).toFixed(3));
