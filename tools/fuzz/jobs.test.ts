// fuzz --jobs N (issue 19): child processes forked by a relay thread (the default) and worker
// threads give the same merged result as one in-process job; time mode and a failing job.
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runWorkers, type WorkerPlan } from './jobs.js';
import { CHILD_FLAG } from './worker.js';
import { DEFAULT_SUPPRESSIONS } from './harness.js';
import { mergeSlices, runSlice, shardSlices, sliceCount, sliceRuns, type SliceResult } from './slices.js';

describe('fuzz --jobs: child processes and worker threads', () => {
  let file: string;
  beforeAll(async () => {
    // directly under the repository, like dist/, so the bundle finds emulator/boards
    mkdirSync('.scratch', { recursive: true });
    file = join(resolve('.scratch'), `fuzz-worker-jobs-${process.pid}.js`);
    await build({ entryPoints: ['tools/fuzz/worker.ts'], outfile: file, bundle: true, platform: 'node', format: 'esm', target: 'node20', external: ['koffi'], logLevel: 'error', banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" } });
  });
  afterAll(() => rmSync(file, { force: true }));

  const digest = (parts: readonly SliceResult[]): string => {
    const m = mergeSlices('mainline', 4, parts);
    return JSON.stringify([m.runs, m.execs, m.slices, m.coverage, m.findings.map((f) => [f.sig, f.message, f.program])]);
  };
  const plan = (over: Partial<WorkerPlan>): WorkerPlan => {
    const runs = 60;
    return { workerFile: file, jobs: 2, profile: 'mainline', seed: 4, runs, mine: shardSlices(sliceCount(runs), { i: 0, n: 1 }), shard: { i: 0, n: 1 }, timeMs: undefined, suppress: [...DEFAULT_SUPPRESSIONS], ...over };
  };

  it('2 child processes (single-threaded V8) and 2 worker threads merge to exactly the in-process result', () => {
    const p = plan({});
    const inProcess = p.mine.map((k) => runSlice('mainline', 4, k, sliceRuns(p.runs, k), p.suppress));
    const byJob = new Set<number>();
    const procs: SliceResult[] = [];
    const stats = runWorkers(p, (s, j) => {
      procs.push(s);
      byJob.add(j);
    });
    const threads: SliceResult[] = [];
    runWorkers(plan({ mode: 'thread' }), (s) => threads.push(s));
    expect(digest(procs)).toBe(digest(inProcess));
    expect(digest(threads)).toBe(digest(inProcess));
    expect(procs.map((s) => s.k).sort((a, b) => a - b)).toEqual(p.mine);
    // every child reported its times; its process CPU covers its thread's
    expect(stats).toHaveLength(2);
    for (const s of stats) {
      expect(s.procCpuMs).toBeGreaterThan(0);
      if (s.cpuMs !== null) expect(s.procCpuMs! + 20).toBeGreaterThanOrEqual(s.cpuMs);
    }
    expect([...byJob].every((j) => j === 0 || j === 1)).toBe(true);
  });

  it('--jobs 2 as the CLI runs it (this thread is job 0, one child is job 1) merges to exactly the in-process result', () => {
    const p = plan({ inline: true });
    const inProcess = p.mine.map((k) => runSlice('mainline', 4, k, sliceRuns(p.runs, k), p.suppress));
    const got: SliceResult[] = [];
    const stats = runWorkers(p, (s, j) => {
      got.push(s);
      expect(j === 0 || j === 1).toBe(true);
    });
    expect(digest(got)).toBe(digest(inProcess));
    expect(got.map((s) => s.k).sort((a, b) => a - b)).toEqual(p.mine);
    // job 0 (no process CPU of its own) and the child (with it)
    expect(stats).toHaveLength(2);
    expect(stats.filter((s) => s.procCpuMs !== undefined)).toHaveLength(1);
  });

  it('time mode with this thread as job 0: its own slice numbers and the child\'s (shard i + j*n, stride n*jobs)', () => {
    const got: SliceResult[] = [];
    const byJob = new Map<number, number[]>();
    runWorkers(plan({ mine: [], timeMs: 300, shard: { i: 1, n: 3 }, inline: true }), (s, j) => {
      got.push(s);
      byJob.set(j, [...(byJob.get(j) ?? []), s.k]);
    });
    expect(byJob.get(0)).toEqual(byJob.get(0)!.map((_, i) => 1 + 6 * i));
    expect(byJob.get(1)![0]).toBe(4);
    for (const k of byJob.get(1)!) expect(k % 6).toBe(4);
  });

  it('time mode: each child takes its own slice numbers (shard i + j*n, stride n*jobs) until its deadline', () => {
    const got: SliceResult[] = [];
    runWorkers(plan({ mine: [], timeMs: 300, shard: { i: 1, n: 3 } }), (s) => got.push(s));
    const ks = got.map((s) => s.k).sort((a, b) => a - b);
    expect(ks.length).toBeGreaterThanOrEqual(2);
    expect(new Set(ks).size).toBe(ks.length);
    for (const k of ks) expect(k % 3).toBe(1);
    // both children ran: slices 1, 4 are the first of child 0 and child 1
    expect(ks).toContain(1);
    expect(ks).toContain(4);
  });

  it('a child whose CLI went away (killed mid-campaign) stops quietly: no EPIPE stack on the shared stderr', () => {
    // a stand-in CLI: forks one child, gives it a time-mode job, exits at its first slice result
    const wrapper = `const { fork } = require('node:child_process');
      const c = fork(${JSON.stringify(file)}, [${JSON.stringify(CHILD_FLAG)}], { execArgv: ['--single-threaded'], serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      c.on('message', (m) => { if (m.type === 'slice') { process.stdout.write('parent gone at slice ' + m.k + '\\n'); process.exit(0); } });
      c.send({ type: 'job', profile: 'mainline', seed: 1, runs: 0, time: { first: 0, stride: 1, ms: 60000 } });`;
    const t0 = performance.now();
    // returns once every holder of the output pipes, the orphaned child too, has exited
    const r = spawnSync(process.execPath, ['-e', wrapper], { encoding: 'utf8', timeout: 60_000 });
    expect(r.stdout).toBe('parent gone at slice 0\n');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(performance.now() - t0).toBeLessThan(30_000);
  });

  it('a job that fails is reported as an error, not a hang', () => {
    expect(() => runWorkers(plan({ profile: 'no-such-profile', runs: 25, mine: [0] }), () => {})).toThrow(/fuzz worker failed: .*no-such-profile/s);
    // this thread as job 0: whichever job fails first, the run ends with its error
    expect(() => runWorkers(plan({ profile: 'no-such-profile', runs: 75, mine: [0, 1, 2], inline: true }), () => {})).toThrow(/no-such-profile/);
  });
});
