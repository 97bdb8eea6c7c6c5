import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { fuzzRateDetail } from '../fuzz/bench.js';
import { CAMPAIGN_V8_FLAGS, defaultWorkerFile, JOB_EXEC_ARGV, runWorkers } from '../fuzz/cli.js';
import { DEFAULT_SUPPRESSIONS } from '../fuzz/harness.js';
import { mergeSlices, shardSlices, sliceCount, type SliceResult } from '../fuzz/slices.js';
import { nowMs, registerBench, skippedFigure } from './registry.js';

/** 4. fuzz-rate: fuzzer syscall executions per second (one process, mainline profile) */
registerBench({
  name: 'fuzz-rate',
  description: 'fuzzer syscall executions per second (runs start from the post-boot snapshot; mainline, seed 1)',
  run(ctx) {
    const d = fuzzRateDetail({ runs: ctx.short ? 200 : 2000, warmupRuns: ctx.short ? 50 : 300 });
    const out = [
      { name: 'syscalls', value: d.execsPerSec, unit: 'syscalls/s', higherIsBetter: true, target: { op: '>=' as const, value: 100_000 } },
      { name: 'runs', value: d.runsPerSec, unit: 'runs/s', higherIsBetter: true },
    ];
    if (!ctx.short) {
      // the same campaign with a fresh boot per run (the method before snapshots), for comparison
      const f = fuzzRateDetail({ runs: 60, warmupRuns: 10, reuse: false });
      out.push({ name: 'syscalls-boot-per-run', value: f.execsPerSec, unit: 'syscalls/s', higherIsBetter: true });
    }
    return out;
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
 * Syscalls per second once every worker is warm: from `ready` (when the last worker
 * finished its first slice: its boot, snapshot and the JIT's first compilations are behind
 * it) to the last slice's end, counting each slice's syscalls in proportion to the part of
 * its run inside that window (a slice ran from its arrival minus its elapsed time to its
 * arrival at the main thread). NaN when nothing is left after `ready`.
 */
function steadyRate(parts: readonly SliceResult[], ends: readonly number[], ready: number): number {
  const end = ends[ends.length - 1]!;
  if (!(end > ready)) return NaN;
  let execs = 0;
  for (let i = 0; i < parts.length; i++) {
    const r = parts[i]!.result;
    const e = ends[i]!;
    const b = e - r.elapsedMs;
    const inside = Math.min(e, end) - Math.max(b, ready);
    if (inside > 0) execs += (r.execs * inside) / Math.max(r.elapsedMs, 1e-6);
  }
  return execs / ((end - ready) / 1000);
}

/** how one variant of the fuzz-jobs campaign runs its jobs */
interface JobsVariant {
  jobs: number;
  mode: 'process' | 'thread';
  execArgv?: readonly string[];
}

/**
 * The variants fuzz-jobs measures. `1`: one child process with CAMPAIGN_V8_FLAGS, i.e. a
 * fresh process running the campaign the way `fuzz --jobs 1` does (in-process, V8's
 * compiler and GC threads free to use the idle core); `2`: `fuzz --jobs 2` (two child
 * processes with JOB_EXEC_ARGV); full mode also `1s` (one child with JOB_EXEC_ARGV: would
 * --jobs 1 gain from --single-threaded?), `2t` (two worker threads in one process, V8
 * defaults: before issue 19) and `1d` (one child with node's defaults: --jobs 1 before).
 */
const VARIANTS: Record<string, JobsVariant> = {
  '1': { jobs: 1, mode: 'process', execArgv: CAMPAIGN_V8_FLAGS },
  '2': { jobs: 2, mode: 'process', execArgv: JOB_EXEC_ARGV },
  '1s': { jobs: 1, mode: 'process', execArgv: JOB_EXEC_ARGV },
  '2t': { jobs: 2, mode: 'thread' },
  '1d': { jobs: 1, mode: 'process', execArgv: [] },
};

/**
 * fuzz-jobs: the same campaign (mainline, seed 1) with 1 and with 2 jobs, as
 * `vfio-arm-emu fuzz --jobs N` runs it (child processes of dist/fuzz-worker.js; each boots
 * and snapshots once, and that is in the time, as is the child's start); the merged results
 * of every variant must be identical (the run fails otherwise).
 *
 * Measurement (docs/PERFORMANCE.md, "fuzz-jobs: the measurement"): the first CPU-bound
 * episode of a process runs markedly slower than later ones, and the load of a shared host
 * drifts, so a single 1-job run followed by a single 2-job run measures order and drift as
 * much as scaling. Hence: an untimed warm-up first (a short 2-job campaign and a 2-thread
 * loop), then the variants in a palindromic order (1,2,1s,2t,1d,1d,2t,1s,2,1: a linear drift
 * cancels; short mode 1,2), each followed at once by the control loop on as many threads,
 * so the control samples the same moment. Speed-ups are ratios of summed times. CPU figures:
 * the jobs' whole-process CPU time (every thread: JIT, GC) for the same work with 2 jobs over
 * 1 job (1.0: the work did not get dearer with two of them), and the same ratio for the loop.
 */
registerBench({
  name: 'fuzz-jobs',
  description: 'fuzzer syscalls/s with --jobs 1 and --jobs 2 (child processes, start and boot included), the speed-up, and a control loop measured alongside',
  run(ctx) {
    const wf = defaultWorkerFile();
    const cpus = availableParallelism();
    if (!wf || cpus < 2) {
      const why = !wf ? 'no bundled dist/fuzz-worker.js' : `host has ${cpus} CPU`;
      return [skippedFigure('syscalls-1-job', 'syscalls/s', why), skippedFigure('syscalls-2-jobs', 'syscalls/s', why), skippedFigure('speedup-2-jobs', 'x', why, { op: '>=', value: 1.7 })];
    }
    const runs = ctx.short ? 400 : 3000;
    const loopN = ctx.short ? 2e8 : 6e8;
    const campaign = (v: JobsVariant, n: number): { ms: number; cpuMs: number | null; steady: number; merged: ReturnType<typeof mergeSlices> } => {
      const parts: SliceResult[] = [];
      const ends: number[] = [];
      const firstEnd = new Map<number, number>();
      const mine = shardSlices(sliceCount(n), { i: 0, n: 1 });
      const t0 = nowMs();
      const stats = runWorkers({ workerFile: wf, jobs: v.jobs, mode: v.mode, execArgv: v.execArgv, profile: 'mainline', seed: 1, runs: n, mine, shard: { i: 0, n: 1 }, timeMs: undefined, suppress: [...DEFAULT_SUPPRESSIONS] }, (s, w) => {
        const t = nowMs();
        parts.push(s);
        ends.push(t);
        if (!firstEnd.has(w)) firstEnd.set(w, t);
      });
      const ms = nowMs() - t0;
      // a child's whole CPU; a worker thread's own (the process's other threads are shared)
      const cpu = stats.map((s) => s.procCpuMs ?? s.cpuMs);
      const cpuMs = cpu.some((c) => c === null) ? null : sum(cpu as number[]);
      return { ms, cpuMs, steady: firstEnd.size === v.jobs ? steadyRate(parts, ends, Math.max(...firstEnd.values())) : NaN, merged: mergeSlices('mainline', 1, parts) };
    };
    // warm-up, untimed: the process's first multi-threaded CPU-bound episode
    campaign(VARIANTS['2']!, 100);
    loopRun(2, loopN / 4);
    const order = ctx.short ? ['1', '2'] : ['1', '2', '1s', '2t', '1d', '1d', '2t', '1s', '2', '1'];
    const fz: Record<string, { ms: number[]; cpu: (number | null)[]; steady: number[] }> = {};
    const lp: Record<number, { ms: number[]; cpu: (number | null)[] }> = { 1: { ms: [], cpu: [] }, 2: { ms: [], cpu: [] } };
    const digests = new Set<string>();
    let execs = 0;
    for (const name of order) {
      const v = VARIANTS[name]!;
      const c = campaign(v, runs);
      const f = (fz[name] ??= { ms: [], cpu: [], steady: [] });
      f.ms.push(c.ms);
      f.cpu.push(c.cpuMs);
      f.steady.push(c.steady);
      const m = c.merged;
      execs = m.execs;
      digests.add(JSON.stringify([m.runs, m.execs, m.coverage, m.findings.map((x) => [x.sig, x.program])]));
      const l = loopRun(v.jobs, loopN);
      lp[v.jobs]!.ms.push(l.ms);
      lp[v.jobs]!.cpu.push(l.cpuMs);
    }
    if (digests.size !== 1) throw new Error('fuzz-jobs: the merged result differs between the job counts');
    const mean = (xs: number[]): number => sum(xs) / xs.length;
    const meanCpu = (r: { cpu: (number | null)[] }): number => (r.cpu.includes(null) ? NaN : mean(r.cpu as number[]));
    const t1 = mean(fz['1']!.ms);
    const t2 = mean(fz['2']!.ms);
    const speedup = t1 / t2;
    const ceiling = (2 * mean(lp[1]!.ms)) / mean(lp[2]!.ms);
    const out = [
      { name: 'syscalls-1-job', value: execs / (t1 / 1000), unit: 'syscalls/s', higherIsBetter: true, note: `${runs} runs, one child process with ${CAMPAIGN_V8_FLAGS.join(' ')} (as --jobs 1 runs); order ${order.join(',')} after a warm-up` },
      { name: 'syscalls-2-jobs', value: execs / (t2 / 1000), unit: 'syscalls/s', higherIsBetter: true, note: `two child processes with ${JOB_EXEC_ARGV.join(' ')} (as --jobs 2 runs)` },
      { name: 'speedup-2-jobs', value: speedup, unit: 'x', higherIsBetter: true, target: { op: '>=' as const, value: 1.7 } },
      { name: 'machine-ceiling-2-threads', value: ceiling, unit: 'x', higherIsBetter: true, note: 'a fixed loop on 1 vs 2 worker threads right after each campaign (2 x t1 / t2): what the host gave two threads' },
      { name: 'steady-speedup-2-jobs', value: mean(fz['2']!.steady) / mean(fz['1']!.steady), unit: 'x', higherIsBetter: true, note: 'the same once every job is warm (after its first slice: start, boot, snapshot, first JIT compilations)' },
      { name: 'speedup-share-of-ceiling', value: speedup / ceiling, unit: 'x', higherIsBetter: true, note: 'speed-up / ceiling: how much of what the host gave the fuzzer used' },
      { name: 'cpu-ratio-2-jobs', value: meanCpu(fz['2']!) / meanCpu(fz['1']!), unit: 'x', higherIsBetter: false, note: 'the jobs\' whole-process CPU (all threads) for the campaign with 2 jobs / with 1 (1.0: the work did not get dearer)' },
      { name: 'cpu-ratio-2-threads-loop', value: (meanCpu(lp[2]!) / meanCpu(lp[1]!)) / 2, unit: 'x', higherIsBetter: false, note: 'the same per unit of work for the control loop: above 1.0 the host slows a running thread down when both run' },
    ];
    if (fz['1s'] && fz['2t']) {
      out.push(
        { name: 'syscalls-1-job-single-threaded', value: execs / (mean(fz['1s']!.ms) / 1000), unit: 'syscalls/s', higherIsBetter: true, note: `one child with ${JOB_EXEC_ARGV.join(' ')}: would --jobs 1 gain from the flags?` },
        { name: 'cpu-ratio-1-job-single-threaded', value: meanCpu(fz['1s']!) / meanCpu(fz['1']!), unit: 'x', higherIsBetter: false, note: 'process CPU of the single-threaded 1-job campaign / the default one (below 1: less CPU for the same work)' },
        { name: 'speedup-2-worker-threads', value: t1 / mean(fz['2t']!.ms), unit: 'x', higherIsBetter: true, note: 'two worker threads in one process (before issue 19) against the same 1-job figure' },
        { name: 'syscalls-1-job-v8-defaults', value: execs / (mean(fz['1d']!.ms) / 1000), unit: 'syscalls/s', higherIsBetter: true, note: 'one child with node\'s default flags (--jobs 1 before issue 19)' },
        { name: 'cpu-ratio-1-job-v8-defaults', value: meanCpu(fz['1d']!) / meanCpu(fz['1']!), unit: 'x', higherIsBetter: false, note: 'process CPU with V8 defaults / with the campaign flags for the same 1-job campaign' },
      );
    }
    return out;
  },
});
