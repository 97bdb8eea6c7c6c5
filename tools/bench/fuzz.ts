import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { fuzzRateCurve, fuzzRateDetail, STEADY_WARMUP_RUNS } from '../fuzz/bench.js';
import { defaultWorkerFile, JOB_EXEC_ARGV } from '../fuzz/cli.js';
import { childrenCpuMs } from '../fuzz/cputime.js';
import { nowMs, registerBench, skippedFigure, type BenchFigure } from './registry.js';

/**
 * 4. fuzz-rate: fuzzer syscall executions per second (one process, mainline profile). Full mode:
 * `syscalls` (the target) is the rate once V8 has optimised the fuzzer (STEADY_WARMUP_RUNS runs
 * in the process), `syscalls-cold` the same 2000 runs right after a 300-run warm-up (the method
 * before: mostly the JIT's warm-up). `--short` runs 200 runs after 50 and reports them without
 * the target (a smoke figure: a 250-run process is all warm-up).
 */
registerBench({
  name: 'fuzz-rate',
  description: 'fuzzer syscall executions per second (runs start from the post-boot snapshot; mainline, seed 1): once the JIT has settled (target), and cold (2000 runs after 300)',
  run(ctx) {
    const target = { op: '>=' as const, value: 100_000 };
    if (ctx.short) {
      const d = fuzzRateDetail({ runs: 200, warmupRuns: 50 });
      return [
        { name: 'syscalls-cold', value: d.execsPerSec, unit: 'syscalls/s', higherIsBetter: true, note: 'short mode: 200 runs after 50 (JIT warm-up; the target is judged on the full mode\'s steady figure)' },
        { name: 'runs-cold', value: d.runsPerSec, unit: 'runs/s', higherIsBetter: true },
      ];
    }
    const c = fuzzRateCurve(2000);
    // the same campaign with a fresh boot per run (the method before snapshots), for comparison
    const f = fuzzRateDetail({ runs: 60, warmupRuns: 10, reuse: false });
    return [
      { name: 'syscalls', value: c.steady.execsPerSec, unit: 'syscalls/s', higherIsBetter: true, target, note: `after ${STEADY_WARMUP_RUNS} runs in the process (the JIT settled)` },
      { name: 'runs', value: c.steady.runsPerSec, unit: 'runs/s', higherIsBetter: true },
      { name: 'syscalls-cold', value: c.cold.execsPerSec, unit: 'syscalls/s', higherIsBetter: true, note: 'the same runs right after a 300-run warm-up (V8 still optimising)' },
      { name: 'syscalls-boot-per-run', value: f.execsPerSec, unit: 'syscalls/s', higherIsBetter: true },
    ];
  },
});

/**
 * A fixed integer loop on k worker threads at once, as the fuzz workers run (the main thread
 * blocks in Atomics.wait like the fuzz CLI does): host ms until all k are done, and the
 * threads' CPU ms (summed; null where thread CPU time is unknown).
 */
function loopRun(k: number, iterations: number): { ms: number; cpuMs: number | null } {
  const code = `const { parentPort, workerData } = require('node:worker_threads'); const fs = require('node:fs');
const cpu = () => { try { const s = fs.readFileSync('/proc/thread-self/stat', 'latin1'); const f = s.slice(s.lastIndexOf(')') + 2).split(' '); return (Number(f[11]) + Number(f[12])) * 10; } catch { return NaN; } };
const c0 = cpu(); let x = 0; for (let i = 0; i < workerData.n; i++) x = (x + i) | 0;
const s = new Int32Array(workerData.sig); const c = new Float64Array(workerData.cpu); c[workerData.j] = cpu() - c0; Atomics.add(s, 0, 1); Atomics.notify(s, 0); parentPort.postMessage(x);`;
  const sig = new SharedArrayBuffer(4);
  const cpu = new SharedArrayBuffer(8 * k);
  const s = new Int32Array(sig);
  const t0 = nowMs();
  const ws = Array.from({ length: k }, (_, j) => new Worker(code, { eval: true, workerData: { n: iterations, sig, cpu, j } }));
  while (Atomics.load(s, 0) < k) Atomics.wait(s, 0, Atomics.load(s, 0), 1000);
  const ms = nowMs() - t0;
  for (const w of ws) void w.terminate();
  const c = [...new Float64Array(cpu)].reduce((a, b) => a + b, 0);
  return { ms, cpuMs: Number.isFinite(c) ? c : null };
}

const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);

/**
 * One `vfio-arm-emu fuzz --profile mainline --seed 1 --runs N --jobs J --json` process: its
 * host time from spawn to exit (node's start, the CLI's checks and boot, the children's
 * start: everything a user of --jobs waits for), the CPU time of it and its children, and a
 * digest of its merged result (runs, syscalls, coverage, findings with their programs).
 */
function cliCampaign(cli: string, jobs: number, runs: number, out: string): { ms: number; cpuMs: number | null; execs: number; digest: string } {
  const c0 = childrenCpuMs();
  const t0 = nowMs();
  const p = spawnSync(process.execPath, [cli, 'fuzz', '--profile', 'mainline', '--seed', '1', '--runs', String(runs), '--jobs', String(jobs), '--json', '--no-baseline', '--out', out], { encoding: 'utf8', maxBuffer: 1 << 28 });
  const ms = nowMs() - t0;
  const c1 = childrenCpuMs();
  // exit status 1: findings not in a baseline (--no-baseline: every finding); the run itself is fine
  if (p.status !== 0 && p.status !== 1) throw new Error(`fuzz-jobs: fuzz --jobs ${jobs} exited with ${p.status ?? p.signal}: ${p.stderr.slice(-2000)}`);
  const m = JSON.parse(p.stdout) as { runs: number; execs: number; coverage: unknown; findings: { sig: string; calls: string[] }[] };
  return { ms, cpuMs: c0 === null || c1 === null ? null : c1 - c0, execs: m.execs, digest: JSON.stringify([m.runs, m.execs, m.coverage, m.findings.map((x) => [x.sig, x.calls])]) };
}

/**
 * One `fuzz --profile mainline --seed 1 --time S --jobs J --json` process: its host time from
 * spawn to exit and the syscalls it ran (a time-bounded campaign: the run count depends on
 * the speed, so no digest).
 */
function cliTimedCampaign(cli: string, jobs: number, seconds: number, out: string): { ms: number; execs: number } {
  const t0 = nowMs();
  const p = spawnSync(process.execPath, [cli, 'fuzz', '--profile', 'mainline', '--seed', '1', '--time', String(seconds), '--jobs', String(jobs), '--json', '--no-baseline', '--out', out], { encoding: 'utf8', maxBuffer: 1 << 28 });
  const ms = nowMs() - t0;
  if (p.status !== 0 && p.status !== 1) throw new Error(`fuzz-jobs: fuzz --time ${seconds} --jobs ${jobs} exited with ${p.status ?? p.signal}: ${p.stderr.slice(-2000)}`);
  return { ms, execs: (JSON.parse(p.stdout) as { execs: number }).execs };
}

/** host seconds of the time-bounded campaigns of fuzz-jobs (full mode) */
export const FUZZ_JOBS_TIMED_SECONDS = 20;

/**
 * fuzz-jobs: the same campaign (mainline, seed 1) run by `vfio-arm-emu fuzz --jobs 1` and by
 * `--jobs 2`, each a fresh CLI process timed from spawn to exit (node's start, the CLI's
 * checks, every job's boot, snapshot and JIT warm-up, the children's start are all in the
 * time, as a user pays them); the merged results must be identical (the run fails otherwise).
 * The target figure is the plain ratio of those host times for a 3000-run campaign (about 4 s
 * with one job on a quiet machine); full mode also measures a 12,000-run campaign, still far
 * shorter than the `--time 600` of docs/FUZZING.md, over which one process's start-up and
 * warm-up (~1 s of CPU per job, docs/PERFORMANCE.md) weigh less.
 *
 * Measurement (docs/PERFORMANCE.md, "fuzz-jobs: the measurement"): an untimed warm-up first
 * (a short 2-job campaign and a 2-thread loop), then 1 and 2 jobs in the order 1,2,2,1 (a
 * linear drift of the load cancels; short mode 1,2), each followed at once by a control loop
 * on as many threads, so the control samples the same moment. Speed-ups are ratios of summed
 * times. cpu-ratio-2-jobs: the CPU time of the whole process tree (every thread and child:
 * JIT, GC, start-up) with 2 jobs over 1 job for the same campaign (1.0: the work did not get
 * dearer with two).
 */
registerBench({
  name: 'fuzz-jobs',
  description: 'fuzzer syscalls/s of `fuzz --jobs 1` and `--jobs 2` (whole CLI processes: start, boot, children included), the speed-up, and a control loop measured alongside',
  run(ctx) {
    const cli = join(process.cwd(), 'dist', 'cli.js');
    const cpus = availableParallelism();
    if (!existsSync(cli) || !defaultWorkerFile() || cpus < 2) {
      const why = !existsSync(cli) || !defaultWorkerFile() ? 'dist/cli.js or dist/fuzz-worker.js not built (npm run build)' : `host has ${cpus} CPU`;
      return [skippedFigure('syscalls-1-job', 'syscalls/s', why), skippedFigure('syscalls-2-jobs', 'syscalls/s', why), skippedFigure('speedup-2-jobs', 'x', why, { op: '>=', value: 1.7 })];
    }
    const out = mkdtempSync(join(tmpdir(), 'vae-fuzz-jobs-'));
    try {
      const loopN = ctx.short ? 2e8 : 6e8;
      const digests = new Set<string>();
      // warm-up, untimed: the machine's first multi-process CPU-bound episode
      cliCampaign(cli, 2, 100, out);
      loopRun(2, loopN / 4);
      const measure = (runs: number, order: readonly number[]): { t: Record<number, number>; cpu: Record<number, number>; ceiling: number; loopCpu: number; execs: number } => {
        const ms: Record<number, number[]> = { 1: [], 2: [] };
        const cpu: Record<number, (number | null)[]> = { 1: [], 2: [] };
        const lp: Record<number, { ms: number[]; cpu: (number | null)[] }> = { 1: { ms: [], cpu: [] }, 2: { ms: [], cpu: [] } };
        let execs = 0;
        for (const j of order) {
          const c = cliCampaign(cli, j, runs, out);
          ms[j]!.push(c.ms);
          cpu[j]!.push(c.cpuMs);
          execs = c.execs;
          digests.add(c.digest);
          const l = loopRun(j, loopN);
          lp[j]!.ms.push(l.ms);
          lp[j]!.cpu.push(l.cpuMs);
        }
        const mean = (xs: number[]): number => sum(xs) / xs.length;
        const meanCpu = (xs: (number | null)[]): number => (xs.includes(null) ? NaN : mean(xs as number[]));
        return {
          t: { 1: mean(ms[1]!), 2: mean(ms[2]!) },
          cpu: { 1: meanCpu(cpu[1]!), 2: meanCpu(cpu[2]!) },
          ceiling: (2 * mean(lp[1]!.ms)) / mean(lp[2]!.ms),
          loopCpu: meanCpu(lp[2]!.cpu) / meanCpu(lp[1]!.cpu) / 2,
          execs,
        };
      };
      const runs = ctx.short ? 400 : 3000;
      const order = ctx.short ? [1, 2] : [1, 2, 2, 1];
      const r = measure(runs, order);
      const long = ctx.short ? null : measure(12_000, [1, 2, 2, 1]);
      // a campaign of fixed host time, as CI runs one (docs/FUZZING.md: --time): syscalls per
      // host second of the whole process, 1 job then 2 (20 s each: V8's optimisation of a
      // job takes ~10,000 runs, so the 3000- and 12,000-run campaigns are mostly warm-up)
      const timed = ctx.short ? null : [cliTimedCampaign(cli, 1, FUZZ_JOBS_TIMED_SECONDS, out), cliTimedCampaign(cli, 2, FUZZ_JOBS_TIMED_SECONDS, out)];
      // the same campaign must give the same result whatever the job count (per length)
      if (digests.size !== (long ? 2 : 1)) throw new Error('fuzz-jobs: the merged result differs between the job counts');
      const speedup = r.t[1]! / r.t[2]!;
      const figures: BenchFigure[] = [
        { name: 'syscalls-1-job', value: r.execs / (r.t[1]! / 1000), unit: 'syscalls/s', higherIsBetter: true, note: `\`fuzz --jobs 1 --runs ${runs}\` process, spawn to exit; order ${order.join(',')} after a warm-up` },
        { name: 'syscalls-2-jobs', value: r.execs / (r.t[2]! / 1000), unit: 'syscalls/s', higherIsBetter: true, note: `\`fuzz --jobs 2\`: the CLI process is job 0, one child (${JOB_EXEC_ARGV.join(' ')}) job 1` },
        { name: 'speedup-2-jobs', value: speedup, unit: 'x', higherIsBetter: true, target: { op: '>=' as const, value: 1.7 } },
        { name: 'machine-ceiling-2-threads', value: r.ceiling, unit: 'x', higherIsBetter: true, note: 'a fixed loop on 1 vs 2 worker threads right after each campaign (2 x t1 / t2): what the host gave two threads' },
        { name: 'speedup-share-of-ceiling', value: speedup / r.ceiling, unit: 'x', higherIsBetter: true, note: 'speed-up / ceiling: how much of what the host gave the fuzzer used' },
        { name: 'cpu-ratio-2-jobs', value: r.cpu[2]! / r.cpu[1]!, unit: 'x', higherIsBetter: false, note: 'CPU of the whole process tree (all threads, the child) with 2 jobs / with 1 for the same campaign (1.0: the work did not get dearer)' },
        { name: 'cpu-per-wall-1-job', value: r.cpu[1]! / r.t[1]!, unit: 'x', higherIsBetter: false, note: 'CPU time / host time of `--jobs 1`: above 1.0 it already uses the second core (V8 background compiler and GC)' },
        { name: 'cpu-ratio-2-threads-loop', value: r.loopCpu, unit: 'x', higherIsBetter: false, note: 'the same per unit of work for the control loop: above 1.0 the host slows a running thread down when both run' },
      ];
      if (long) {
        const sl = long.t[1]! / long.t[2]!;
        figures.push(
          { name: 'syscalls-1-job-12k-runs', value: long.execs / (long.t[1]! / 1000), unit: 'syscalls/s', higherIsBetter: true, note: '`fuzz --jobs 1 --runs 12000`: start-up and warm-up amortised over 4x the campaign' },
          { name: 'speedup-2-jobs-12k-runs', value: sl, unit: 'x', higherIsBetter: true, note: 'the same ratio for a 12,000-run campaign (order 1,2,2,1)' },
          { name: 'machine-ceiling-2-threads-12k-runs', value: long.ceiling, unit: 'x', higherIsBetter: true },
          { name: 'speedup-share-of-ceiling-12k-runs', value: sl / long.ceiling, unit: 'x', higherIsBetter: true },
          { name: 'cpu-ratio-2-jobs-12k-runs', value: long.cpu[2]! / long.cpu[1]!, unit: 'x', higherIsBetter: false },
        );
      }
      if (timed) {
        const rate = (c: { ms: number; execs: number }): number => c.execs / (c.ms / 1000);
        figures.push(
          { name: `syscalls-1-job-${FUZZ_JOBS_TIMED_SECONDS}s`, value: rate(timed[0]!), unit: 'syscalls/s', higherIsBetter: true, note: `\`fuzz --jobs 1 --time ${FUZZ_JOBS_TIMED_SECONDS}\`: syscalls per host second of the whole process` },
          { name: `syscalls-2-jobs-${FUZZ_JOBS_TIMED_SECONDS}s`, value: rate(timed[1]!), unit: 'syscalls/s', higherIsBetter: true },
          { name: `speedup-2-jobs-${FUZZ_JOBS_TIMED_SECONDS}s`, value: rate(timed[1]!) / rate(timed[0]!), unit: 'x', higherIsBetter: true, note: 'the speed-up of a campaign of fixed host time (each job warms its own JIT up, once)' },
        );
      }
      return figures;
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  },
});
