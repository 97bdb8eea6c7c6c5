import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { fuzzRateCurve, fuzzRateDetail, STEADY_WARMUP_RUNS } from '../fuzz/bench.js';
import { defaultWorkerFile, JOB_EXEC_ARGV } from '../fuzz/jobs.js';
import { childrenCpuMs } from '../fuzz/cputime.js';
import { memoryLatencyNs } from './host.js';
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
    // the host's memory latency right after the steady runs, in the same process
    const lat = memoryLatencyNs();
    // the same campaign with a fresh boot per run (the method before snapshots), for comparison
    const f = fuzzRateDetail({ runs: 60, warmupRuns: 10, reuse: false });
    return [
      { name: 'syscalls', value: c.steady.execsPerSec, unit: 'syscalls/s', higherIsBetter: true, target, note: `after ${STEADY_WARMUP_RUNS} runs in the process (the JIT settled)` },
      { name: 'host-memory-latency', value: lat, unit: 'ns/load', higherIsBetter: false, note: 'host control right after the steady runs: a random pointer chase over 32 MiB; the steady rate follows it on a shared host (docs/PERFORMANCE.md, round 9)' },
      { name: 'runs', value: c.steady.runsPerSec, unit: 'runs/s', higherIsBetter: true },
      { name: 'syscalls-cold', value: c.cold.execsPerSec, unit: 'syscalls/s', higherIsBetter: true, note: 'the same runs right after a 300-run warm-up (V8 still optimising)' },
      { name: 'syscalls-boot-per-run', value: f.execsPerSec, unit: 'syscalls/s', higherIsBetter: true },
    ];
  },
});

/**
 * The control: a fixed amount of native work, SHA-256 of a 1 MiB buffer `reps` times, on k
 * worker threads at once (the main thread blocks in Atomics.wait as the fuzz CLI does): host
 * ms from the moment all k are ready until all are done, and the threads' CPU ms in that part
 * (summed; null where thread CPU time is unknown). Native code, so the figure does not depend
 * on what V8 makes of it: the JavaScript integer loop used until 2026-12-03 ran in one of two
 * compiled forms, 166 or 300 ms for the same loop, and with two threads its OSR compilation
 * could wait for a core for seconds, which is how the control read 5x-11x (docs/PERFORMANCE.md,
 * "fuzz-jobs: the steady state").
 */
function controlRun(k: number, reps: number): { ms: number; cpuMs: number | null } {
  const code = `const { parentPort, workerData } = require('node:worker_threads'); const fs = require('node:fs'); const crypto = require('node:crypto');
const cpu = () => { try { const s = fs.readFileSync('/proc/thread-self/stat', 'latin1'); const f = s.slice(s.lastIndexOf(')') + 2).split(' '); return (Number(f[11]) + Number(f[12])) * 10; } catch { return NaN; } };
const b = Buffer.alloc(1 << 20, 7); crypto.createHash('sha256').update(b).digest();
const s = new Int32Array(workerData.sig); Atomics.add(s, 0, 1); Atomics.notify(s, 0);
while (Atomics.load(s, 1) === 0) Atomics.wait(s, 1, 0);
const c0 = cpu(); let d; for (let i = 0; i < workerData.reps; i++) d = crypto.createHash('sha256').update(b).digest();
const c = new Float64Array(workerData.cpu); c[workerData.j] = cpu() - c0; Atomics.add(s, 2, 1); Atomics.notify(s, 2); parentPort.postMessage(d[0]);`;
  const sig = new SharedArrayBuffer(12);
  const cpu = new SharedArrayBuffer(8 * k);
  const s = new Int32Array(sig);
  const ws = Array.from({ length: k }, (_, j) => new Worker(code, { eval: true, workerData: { reps, sig, cpu, j } }));
  while (Atomics.load(s, 0) < k) Atomics.wait(s, 0, Atomics.load(s, 0), 1000);
  const t0 = nowMs();
  Atomics.store(s, 1, 1);
  Atomics.notify(s, 1);
  while (Atomics.load(s, 2) < k) Atomics.wait(s, 2, Atomics.load(s, 2), 1000);
  const ms = nowMs() - t0;
  for (const w of ws) void w.terminate();
  const c = [...new Float64Array(cpu)].reduce((a, b) => a + b, 0);
  return { ms, cpuMs: Number.isFinite(c) ? c : null };
}

const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);
const mean = (xs: readonly number[]): number => sum(xs) / xs.length;

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
 * spawn to exit, the CPU time of it and its children, and the syscalls it ran (a time-bounded
 * campaign: the run count depends on the speed, so no digest).
 */
function cliTimedCampaign(cli: string, jobs: number, seconds: number, out: string): TimedCampaign {
  const c0 = childrenCpuMs();
  const t0 = nowMs();
  const p = spawnSync(process.execPath, [cli, 'fuzz', '--profile', 'mainline', '--seed', '1', '--time', String(seconds), '--jobs', String(jobs), '--json', '--no-baseline', '--out', out], { encoding: 'utf8', maxBuffer: 1 << 28 });
  const ms = nowMs() - t0;
  const c1 = childrenCpuMs();
  if (p.status !== 0 && p.status !== 1) throw new Error(`fuzz-jobs: fuzz --time ${seconds} --jobs ${jobs} exited with ${p.status ?? p.signal}: ${p.stderr.slice(-2000)}`);
  const j = JSON.parse(p.stdout) as { execs: number; timeline: [number, number][]; peakRssMb: number };
  return { ms, cpuMs: c0 === null || c1 === null ? null : c1 - c0, execs: j.execs, timeline: j.timeline, peakRssMb: j.peakRssMb };
}

interface TimedCampaign {
  ms: number;
  cpuMs: number | null;
  execs: number;
  timeline: [number, number][];
  /** the CLI process's peak RSS (its --json) */
  peakRssMb: number;
}

/**
 * The steady-state rate of a time-bounded campaign from its --json timeline: the syscalls
 * between the first point at or after `fromMs` and the last point, per host second between
 * them (start-up and warm-up before fromMs are left out; one process, so no difference of
 * two processes' counts taken at different moments). NaN when the campaign has no such span.
 */
export function steadyRate(timeline: readonly (readonly [number, number])[], fromMs: number): number {
  const i = timeline.findIndex(([ms]) => ms >= fromMs);
  const a = timeline[i];
  const b = timeline[timeline.length - 1];
  if (i < 0 || !a || !b || b[0] <= a[0]) return NaN;
  return (b[1] - a[1]) / ((b[0] - a[0]) / 1000);
}

/**
 * fuzz-jobs' time-bounded campaigns (full mode): host seconds of each, and where the steady
 * state is taken to begin (the `--single-threaded` child's rate settles after ~12 s on two
 * cores: its JIT warms up on its own thread while job 0's compiler shares the cores)
 */
export const FUZZ_JOBS_TIMED_SECONDS = 35;
export const FUZZ_JOBS_STEADY_FROM_MS = 15_000;

/**
 * fuzz-jobs: `vfio-arm-emu fuzz --jobs 1` against `--jobs 2`, each a fresh CLI process timed
 * from spawn to exit (node's start, the CLI's checks, every job's boot, snapshot and JIT
 * warm-up, the children's start are all in the time, as a user pays them).
 *
 * - A 3000-run campaign (mainline, seed 1; about 3 s with one job on a quiet machine): the
 *   merged results must be identical (the run fails otherwise). With two jobs each job spends
 *   all of it in V8's warm-up, so this is the speed-up of a short campaign.
 * - Full mode: campaigns of fixed host time, `--time 35` with 1 and 2 jobs (order 1,2,2,1):
 *   the whole-process rate, and the steady state, read off each campaign's --json timeline
 *   from 15 s to its end (start-up and warm-up left out). `speedup-2-jobs-steady` carries
 *   the target: the one-job target of fuzz-rate is a steady-state rate too, and a CI
 *   campaign (`--time 600`, docs/FUZZING.md) runs in the steady state after its first ~15 s.
 *
 * Measurement (docs/PERFORMANCE.md, "fuzz-jobs: the measurement" and "fuzz-jobs: the steady
 * state"): an untimed warm-up first (a short 2-job campaign and the 2-thread control), then 1 and
 * 2 jobs in the order 1,2,2,1 (a linear drift of the load cancels; short mode 1,2), each
 * followed at once by the control (native SHA-256 work, controlRun) on as many threads, so
 * the control samples the same moment. Speed-ups are ratios of summed times.
 * cpu-ratio-2-jobs: the CPU time of the whole process tree (every thread and child: JIT, GC,
 * start-up) with 2 jobs over 1 job for the same campaign (1.0: the work did not get dearer).
 */
registerBench({
  name: 'fuzz-jobs',
  description: 'fuzzer syscalls/s of `fuzz --jobs 1` and `--jobs 2` (whole CLI processes: start, boot, children included), the speed-up, and a native control workload measured alongside',
  run(ctx) {
    const cli = join(process.cwd(), 'dist', 'cli.js');
    const cpus = availableParallelism();
    if (!existsSync(cli) || !defaultWorkerFile() || cpus < 2) {
      const why = !existsSync(cli) || !defaultWorkerFile() ? 'dist/cli.js or dist/fuzz-worker.js not built (npm run build)' : `host has ${cpus} CPU`;
      return [skippedFigure('syscalls-1-job', 'syscalls/s', why), skippedFigure('syscalls-2-jobs', 'syscalls/s', why), skippedFigure('speedup-2-jobs-steady', 'x', why, { op: '>=', value: 1.7 })];
    }
    const out = mkdtempSync(join(tmpdir(), 'vae-fuzz-jobs-'));
    try {
      const controlMiB = ctx.short ? 200 : 600; // control: MiB of SHA-256 per thread (~0.15 / 0.4 s)
      const digests = new Set<string>();
      // warm-up, untimed: the machine's first multi-process CPU-bound episode
      cliCampaign(cli, 2, 100, out);
      controlRun(2, controlMiB / 4);
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
          const l = controlRun(j, controlMiB);
          lp[j]!.ms.push(l.ms);
          lp[j]!.cpu.push(l.cpuMs);
        }
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
      // campaigns of fixed host time, as CI runs one (docs/FUZZING.md: --time), order 1,2,2,1,
      // each followed by the control on as many threads
      const timed = ctx.short
        ? null
        : (() => {
            const c: Record<number, TimedCampaign[]> = { 1: [], 2: [] };
            const ctl: Record<number, number[]> = { 1: [], 2: [] };
            for (const j of [1, 2, 2, 1]) {
              c[j]!.push(cliTimedCampaign(cli, j, FUZZ_JOBS_TIMED_SECONDS, out));
              ctl[j]!.push(controlRun(j, controlMiB).ms);
            }
            return { c, ceiling: (2 * sum(ctl[1]!)) / sum(ctl[2]!) };
          })();
      // the same campaign must give the same result whatever the job count
      if (digests.size !== 1) throw new Error('fuzz-jobs: the merged result differs between the job counts');
      const speedup = r.t[1]! / r.t[2]!;
      const figures: BenchFigure[] = [
        { name: 'syscalls-1-job', value: r.execs / (r.t[1]! / 1000), unit: 'syscalls/s', higherIsBetter: true, note: `\`fuzz --jobs 1 --runs ${runs}\` process, spawn to exit; order ${order.join(',')} after a warm-up` },
        { name: 'syscalls-2-jobs', value: r.execs / (r.t[2]! / 1000), unit: 'syscalls/s', higherIsBetter: true, note: `\`fuzz --jobs 2\`: the CLI process is job 0, one child (${JOB_EXEC_ARGV.join(' ')}) job 1` },
        { name: 'speedup-2-jobs', value: speedup, unit: 'x', higherIsBetter: true, note: `a ${runs}-run campaign: both jobs in V8's warm-up all along (the target is judged on the steady state, full mode)` },
        { name: 'machine-ceiling-2-threads', value: r.ceiling, unit: 'x', higherIsBetter: true, note: `a fixed native workload (SHA-256 of ${controlMiB} MiB per thread) on 1 vs 2 worker threads right after each campaign (2 x t1 / t2): what the host gave two threads` },
        { name: 'speedup-share-of-ceiling', value: speedup / r.ceiling, unit: 'x', higherIsBetter: true, note: 'speed-up / ceiling: how much of what the host gave the fuzzer used' },
        { name: 'cpu-ratio-2-jobs', value: r.cpu[2]! / r.cpu[1]!, unit: 'x', higherIsBetter: false, note: 'CPU of the whole process tree (all threads, the child) with 2 jobs / with 1 for the same campaign (1.0: the work did not get dearer)' },
        { name: 'cpu-per-wall-1-job', value: r.cpu[1]! / r.t[1]!, unit: 'x', higherIsBetter: false, note: 'CPU time / host time of `--jobs 1`: above 1.0 it already uses the second core (V8 background compiler and GC)' },
        { name: 'cpu-ratio-2-threads-loop', value: r.loopCpu, unit: 'x', higherIsBetter: false, note: 'the same per unit of work for the control workload: above 1.0 the host slows a running thread down when both run' },
      ];
      if (timed) {
        const T = FUZZ_JOBS_TIMED_SECONDS;
        const from = FUZZ_JOBS_STEADY_FROM_MS / 1000;
        const whole = (j: number): number => sum(timed.c[j]!.map((x) => x.execs)) / (sum(timed.c[j]!.map((x) => x.ms)) / 1000);
        const steady = (j: number): number => mean(timed.c[j]!.map((x) => steadyRate(x.timeline, FUZZ_JOBS_STEADY_FROM_MS)));
        // CPU per host second of one job once warm: the two 1-job campaigns' CPU and time beyond
        // the warm-up are not separable from outside, so this is the whole campaign's
        const c1 = timed.c[1]!;
        const cpu1 = c1.some((x) => x.cpuMs === null) ? null : sum(c1.map((x) => x.cpuMs!)) / sum(c1.map((x) => x.ms));
        figures.push(
          { name: `syscalls-1-job-${T}s`, value: whole(1), unit: 'syscalls/s', higherIsBetter: true, note: `\`fuzz --jobs 1 --time ${T}\`: syscalls per host second of the whole process` },
          { name: `syscalls-2-jobs-${T}s`, value: whole(2), unit: 'syscalls/s', higherIsBetter: true },
          { name: `speedup-2-jobs-${T}s`, value: whole(2) / whole(1), unit: 'x', higherIsBetter: true, note: `the speed-up of a ${T}-second campaign (each job warms its own JIT up, once)` },
          { name: 'syscalls-1-job-steady', value: steady(1), unit: 'syscalls/s', higherIsBetter: true, note: `from ${from} s to the end of each ${T}-second campaign (its --json timeline): JIT warmed up` },
          { name: 'syscalls-2-jobs-steady', value: steady(2), unit: 'syscalls/s', higherIsBetter: true },
          { name: 'speedup-2-jobs-steady', value: steady(2) / steady(1), unit: 'x', higherIsBetter: true, target: { op: '>=' as const, value: 1.7 }, note: `both jobs warm, as a CI campaign runs after its first ~${from} s (fuzz-rate's one-job target is a steady-state rate too)` },
          ...(cpu1 !== null ? [{ name: `cpu-per-wall-1-job-${T}s`, value: cpu1, unit: 'x', higherIsBetter: false, note: `CPU per host second of \`--jobs 1 --time ${T}\`: above 1.0 one job already uses the second core` }] : []),
          { name: `peak-rss-cli-2-jobs-${T}s`, value: Math.max(...timed.c[2]!.map((x) => x.peakRssMb)), unit: 'MB', higherIsBetter: false, note: `the CLI process of \`--jobs 2 --time ${T}\` (job 0 and the merge of both jobs' slice results), the larger of the two campaigns: slice results are merged as they arrive, so it does not grow with a campaign's length` },
          { name: 'machine-ceiling-2-threads-timed', value: timed.ceiling, unit: 'x', higherIsBetter: true, note: `the control workload right after each ${T}-second campaign` },
        );
      }
      return figures;
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  },
});
