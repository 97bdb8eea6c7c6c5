// Allocation sampling over a fuzz campaign (docs/PERFORMANCE.md "Comparing two trees"):
//   node tools/bench/ab/alloc.mjs BUNDLE PROFILE RUNS
// BUNDLE from build.mjs; 2000 warm-up runs (seed 1), then RUNS runs (seed 2) under the inspector's
// sampling heap profiler, collected objects included; prints the 40 largest allocation sites.
import { Session } from 'node:inspector/promises';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const [bundle, profile, runs] = [process.argv[2], process.argv[3], +process.argv[4]];
if (!bundle || !profile || !(runs > 0)) {
  console.error('usage: node tools/bench/ab/alloc.mjs BUNDLE PROFILE RUNS');
  process.exit(2);
}
const M = await import(pathToFileURL(resolve(bundle)).href);
M.runCampaign({ profile, seed: 1, runs: 2000 });
const s = new Session();
s.connect();
await s.post('HeapProfiler.startSampling', { samplingInterval: 4096, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
M.runCampaign({ profile, seed: 2, runs });
const { profile: p } = await s.post('HeapProfiler.stopSampling');
const self = new Map();
let tot = 0;
const key = (cf) => `${cf.functionName || '(anon)'} ${cf.url.split('/').pop()}:${cf.lineNumber}:${cf.columnNumber}`;
(function rec(n, parent) {
  const k = `${key(n.callFrame)}  <- ${parent}`;
  self.set(k, (self.get(k) ?? 0) + n.selfSize);
  tot += n.selfSize;
  for (const c of n.children) rec(c, key(n.callFrame));
})(p.head, '');
console.log('sampled MB', (tot / 1e6).toFixed(1));
for (const [k, v] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 40)) console.log((100 * v / tot).toFixed(1), k);
