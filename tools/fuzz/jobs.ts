/**
 * The jobs of a `fuzz --jobs N` campaign: child processes (fuzz-worker.js, worker.ts) forked by
 * a relay worker thread, or worker threads in this process (`mode: 'thread'`, benchmarks), each
 * running slices (slices.ts) and posting the results; this thread can be job 0 and run slices
 * itself between draining their messages. Synchronous: the caller blocks in Atomics.wait
 * until the jobs are done (the CLI has no event loop to give). cli.ts starts them
 * (startWorkers) and merges the slices; tools/bench/fuzz.ts measures them.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import { threadCpuMs } from './cputime.js';
import { COVERAGE_SLICE_RUNS, runSlice, sliceRuns, SLICE_RUNS, type SliceResult } from './slices.js';
import type { RelayJob, RelayMsg, WorkerJob, WorkerMsg } from './worker.js';

/**
 * node/V8 flags of each --jobs child process. `--single-threaded` keeps V8's optimizing
 * compiler and GC on the job's own thread (no concurrent recompilation, no concurrent or
 * parallel GC helpers), so a child does not take CPU from job 0, the CLI process, whose
 * compiler and GC helpers run on background threads. Measured on mainline campaigns of
 * fixed host time (docs/PERFORMANCE.md, "fuzz-jobs: the steady state"): with a
 * `--single-threaded` child, 2 jobs ran 197k-210k syscalls/s once warm against 149k-191k
 * with the 8x interrupt budget the children had until then (`--interrupt-budget=1081344`:
 * fewer, later compilations, which helped 1000-run campaigns and cost every longer one
 * about 30%); with V8's defaults or `--single-threaded-gc` in the child, its background
 * compiler took the second core from job 0 while both warmed up (job 0 ran 0.66 M syscalls in
 * the first 15 s instead of 1.12 M) and the 40-s campaigns ran fewer syscalls (6.9 M against
 * 7.3 M).
 *
 * The CLI process itself (job 0, and the only job of --jobs 1) keeps V8's defaults: it
 * compiles on a background thread, and the 8x budget it had until round 6 cost it ~40% of a
 * 20-second campaign's syscalls (1.0-1.2 M against 1.7-2.0 M, mainline seed 1), for ~10% on
 * a 1000-run one (docs/PERFORMANCE.md, "Fuzzer throughput, round 6").
 */
export const JOB_EXEC_ARGV: readonly string[] = ['--single-threaded'];

/** the bundled job entry, fuzz-worker.js next to this module, or null when it was not built */
export function defaultWorkerFile(): string | null {
  try {
    const p = fileURLToPath(new URL('./fuzz-worker.js', import.meta.url));
    return existsSync(p) ? p : null;
  } catch {
    return null;
  }
}

export interface WorkerPlan {
  workerFile: string;
  jobs: number;
  profile: string;
  seed: number;
  runs: number;
  mine: number[];
  shard: { i: number; n: number };
  timeMs: number | undefined;
  suppress: string[];
  /** coverage-guided slices (coverage build) */
  guided?: boolean;
  /**
   * 'process' (default): child processes with `execArgv` (default JOB_EXEC_ARGV);
   * 'thread': one worker thread per job in this process (the pre-issue-19 way; benchmarks)
   */
  mode?: 'process' | 'thread';
  execArgv?: readonly string[];
  /**
   * 'process' mode: this thread is job 0 (it runs slices itself in `run`, draining the
   * children's messages between them) and N - 1 children are jobs 1..N-1, as `fuzz --jobs N`
   * runs; otherwise N children (default false)
   */
  inline?: boolean;
}

/**
 * What each job reported at its end: its host time and its thread CPU time (ms; null where
 * unknown); procCpuMs: a child process's whole CPU time (every thread of it: JIT, GC).
 */
export interface WorkerStats {
  ms: number;
  cpuMs: number | null;
  procCpuMs?: number;
}

/** jobs started by startWorkers */
export interface Workers {
  /**
   * Run the campaign to its end; onSlice gets every slice's result as it arrives (merge them
   * with a SliceMerger: the merged result does not depend on the number of jobs), with the index
   * of the job that ran it. Returns each job's times. Synchronous: the main thread runs its own
   * slices (inline) and then blocks in Atomics.wait while a worker thread (the relay, or the
   * workers themselves in 'thread' mode) posts messages.
   */
  run(onSlice: (s: SliceResult, worker: number) => void): WorkerStats[];
  /** give up before run (the CLI's checks failed): the children are killed */
  abort(): void;
}

/**
 * Start the jobs for the slices `mine` (or, with timeMs, slices until the time is up): the
 * relay thread forks the children at once, so their start-up (node, loading the fuzzer, boot,
 * snapshot) overlaps whatever this thread does before `run` (the CLI: its checks and its own
 * boot).
 */
export function startWorkers(p: WorkerPlan): Workers {
  const signal = new SharedArrayBuffer(4);
  const sig = new Int32Array(signal);
  const next = new SharedArrayBuffer(4);
  const ports: MessagePort[] = [];
  const workers: Worker[] = [];
  const process_ = (p.mode ?? 'process') === 'process';
  const inline = process_ && p.inline === true;
  const timeFrom = (first: number): WorkerJob['time'] => (p.timeMs === undefined ? undefined : { first, stride: p.shard.n * p.jobs, ms: p.timeMs });
  // the campaign part every role gets (a job's own first slice in time mode)
  const campaign = (port: MessagePort, first: number): WorkerJob => ({ profile: p.profile, seed: p.seed, runs: p.runs, slices: p.mine, next, time: timeFrom(first), suppress: p.suppress, guided: p.guided, port, signal });
  // job 0's time-mode slices when this thread runs it (inline)
  const time = timeFrom(p.shard.i);
  if (process_) {
    const { port1, port2 } = new MessageChannel();
    const job: RelayJob = { ...campaign(port2, p.shard.i), relay: true, workerFile: p.workerFile, jobs: p.jobs, execArgv: [...(p.execArgv ?? JOB_EXEC_ARGV)], firstChild: inline ? 1 : 0 };
    workers.push(new Worker(p.workerFile, { workerData: job, transferList: [port2] }));
    ports.push(port1);
  } else {
    for (let j = 0; j < p.jobs; j++) {
      const { port1, port2 } = new MessageChannel();
      workers.push(new Worker(p.workerFile, { workerData: campaign(port2, p.shard.i + j * p.shard.n), transferList: [port2] }));
      ports.push(port1);
    }
  }
  const close = (): void => {
    for (const port of ports) port.close();
    for (const w of workers) void w.terminate();
  };
  return {
    abort: close,
    run(onSlice) {
      let live = inline ? p.jobs - 1 : p.jobs;
      let error: string | null = null;
      const stats: WorkerStats[] = [];
      const drain = (): void => {
        for (let q = 0; q < ports.length; q++) {
          const port = ports[q]!;
          for (let m = receiveMessageOnPort(port); m; m = receiveMessageOnPort(port)) {
            const msg = m.message as WorkerMsg | RelayMsg;
            const j = 'j' in msg ? msg.j : q;
            if (msg.type === 'slice') onSlice({ k: msg.k, result: msg.result }, j);
            else if (msg.type === 'done') {
              stats.push({ ms: msg.ms, cpuMs: msg.cpuMs, ...(msg.procCpuMs !== undefined ? { procCpuMs: msg.procCpuMs } : {}) });
              live--;
            } else {
              error = msg.message;
              live--;
            }
          }
        }
      };
      try {
        if (inline) {
          // job 0: slices from the counter the relay deals the children's from (run mode), or
          // its own slice numbers until the time is up; the children's results between slices
          const size = p.guided ? COVERAGE_SLICE_RUNS : SLICE_RUNS;
          const t0 = performance.now();
          const c0 = threadCpuMs();
          if (time) {
            for (let k = time.first; error === null && performance.now() - t0 < time.ms; k += time.stride) {
              onSlice(runSlice(p.profile, p.seed, k, size, p.suppress, p.guided), 0);
              drain();
            }
          } else {
            const n = new Int32Array(next);
            for (let i = Atomics.add(n, 0, 1); error === null && i < p.mine.length; i = Atomics.add(n, 0, 1)) {
              const k = p.mine[i]!;
              onSlice(runSlice(p.profile, p.seed, k, sliceRuns(p.runs, k, size), p.suppress, p.guided), 0);
              drain();
            }
          }
          const c1 = threadCpuMs();
          stats.push({ ms: performance.now() - t0, cpuMs: c0 === null || c1 === null ? null : c1 - c0 });
        }
        let seen = Atomics.load(sig, 0);
        drain();
        while (live > 0) {
          Atomics.wait(sig, 0, seen, 1000);
          seen = Atomics.load(sig, 0);
          drain();
        }
      } finally {
        close();
      }
      if (error) throw new Error(`fuzz worker failed: ${error}`);
      return stats;
    },
  };
}

/** startWorkers(p).run(onSlice) */
export function runWorkers(p: WorkerPlan, onSlice: (s: SliceResult, worker: number) => void): WorkerStats[] {
  return startWorkers(p).run(onSlice);
}
