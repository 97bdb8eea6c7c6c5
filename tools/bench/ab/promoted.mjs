// What a fuzz campaign promotes to V8's old space (docs/PERFORMANCE.md round 18):
//   node tools/bench/ab/promoted.mjs BUNDLE [PROFILE RUNS WARM SEED REPS]
// BUNDLE from build.mjs (default mainline, 6000 runs of seed 1 after WARM=2000 warm-up runs of
// seed 2, REPS=1). Each repetition is a child process of its own: `--trace-gc-nvp` is switched on
// (v8.setFlagsFromString) for the measured campaign only, and v8.GCProfiler records the heap
// spaces before and after every GC of it. Per repetition, per executed syscall (the campaign's
// `execs`) or per 1000:
//   promoted B/sc    the scavenges' `promoted` bytes (what survived twice, copied to old space)
//   survived B/sc    the scavenges' `new_space_survived` (copied within the new space)
//   old growth B/sc  what old space gained between and in GCs (promotion, and what is allocated
//                    there directly), from the profiler's old_space used sizes: the sum of every
//                    positive step, GC to GC (the mark-compacts' reclaim is the negative steps)
//   scav/1k          scavenges per 1000 syscalls; `ms/1k` their main-thread pause and the
//                    background threads' scavenge time (`background.scavenge.parallel`)
//   mc/1k            mark-compacts per 1000 syscalls and their pause (ms per 1000)
//   alloc B/sc       the nvp `allocated` bytes summed over every GC (all spaces, between GCs)
// These are counts of bytes and events, not times: far less noisy than a rate on a shared host
// (the pauses are times and are as noisy as the host).
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import v8 from 'node:v8';

const argv = process.argv.slice(2);
if (argv[0] === '--child') {
  const [, bundle, profile, runs, warm, seed] = argv;
  const M = await import(pathToFileURL(resolve(bundle)).href);
  if (+warm > 0) M.runCampaign({ profile, seed: 2, runs: +warm });
  const prof = new v8.GCProfiler();
  prof.start();
  v8.setFlagsFromString('--trace-gc-nvp');
  const r = M.runCampaign({ profile, seed: +seed, runs: +runs });
  v8.setFlagsFromString('--no-trace-gc-nvp');
  const p = prof.stop();
  const old = (s) => s.heapSpaceStatistics.find((x) => x.spaceName === 'old_space').spaceUsedSize;
  // old space's growth: every positive step of its used size, before/after each GC in turn
  let between = 0;
  let inGc = 0;
  let last = null;
  for (const g of p.statistics) {
    const b = old(g.beforeGC);
    const a = old(g.afterGC);
    if (last !== null && b > last) between += b - last;
    if (a > b) inGc += a - b;
    last = a;
  }
  process.stderr.write(`@@RESULT ${JSON.stringify({ execs: r.execs, between, inGc, types: [...new Set(p.statistics.map((g) => g.gcType))] })}\n`);
  process.exit(0);
}

const [bundle, profile = 'mainline', runs = '6000', warm = '2000', seed = '1', reps = '1'] = argv;
if (!bundle) {
  console.error('usage: node tools/bench/ab/promoted.mjs BUNDLE [PROFILE RUNS WARM SEED REPS]');
  process.exit(2);
}
const me = fileURLToPath(import.meta.url);
const fields = (line) => {
  const o = {};
  for (const m of line.matchAll(/([a-z_.]+)=([0-9.]+)/g)) o[m[1]] = +m[2];
  o.gc = /gc=(\w+)/.exec(line)?.[1];
  return o;
};
const rows = [];
for (let i = 0; i < +reps; i++) {
  const c = spawnSync(process.execPath, [...(process.env.CHILD_FLAGS ?? '').split(' ').filter(Boolean), me, '--child', bundle, profile, runs, warm, seed], { encoding: 'utf8', maxBuffer: 1 << 28 });
  const res = /@@RESULT (.*)/.exec(c.stderr);
  if (c.status !== 0 || !res) {
    console.error(c.stderr);
    process.exit(1);
  }
  const { execs, between, inGc } = JSON.parse(res[1]);
  const t = { s: 0, mc: 0, promoted: 0, survived: 0, spause: 0, sbg: 0, mcpause: 0, alloc: 0 };
  for (const line of c.stdout.split('\n')) {
    if (!line.includes(' gc=')) continue;
    const f = fields(line);
    t.alloc += f.allocated ?? 0;
    if (f.gc === 's') {
      t.s++;
      t.promoted += f.promoted;
      t.survived += f.new_space_survived;
      t.spause += f.pause;
      t.sbg += f['background.scavenge.parallel'] ?? 0;
    } else {
      t.mc++;
      t.mcpause += f.pause;
    }
  }
  const k = execs / 1000;
  const row = {
    execs,
    'promoted B/sc': +(t.promoted / execs).toFixed(1),
    'survived B/sc': +(t.survived / execs).toFixed(1),
    'old growth B/sc': +((between + inGc) / execs).toFixed(1),
    'of which between GCs': +(between / execs).toFixed(1),
    'alloc B/sc': Math.round(t.alloc / execs),
    'scav/1k': +(t.s / k).toFixed(3),
    'scav pause ms/1k': +(t.spause / k).toFixed(2),
    'scav bg ms/1k': +(t.sbg / k).toFixed(2),
    'mc/1k': +(t.mc / k).toFixed(4),
    'mc pause ms/1k': +(t.mcpause / k).toFixed(2),
  };
  rows.push(row);
  console.log(JSON.stringify(row));
}
if (rows.length > 1) {
  const med = (v) => [...v].sort((x, y) => x - y)[v.length >> 1];
  const out = {};
  for (const key of Object.keys(rows[0])) out[key] = med(rows.map((r) => r[key]));
  console.log('median', JSON.stringify(out));
}
