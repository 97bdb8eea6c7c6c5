/**
 * Worker-thread entry of `vfio-arm-emu fuzz --jobs N` (bundled as dist/fuzz-worker.js).
 * Runs the slices it is given (or, in time mode, slices k = job, job + jobs, ... until the
 * deadline) and posts each slice's result on its port, then bumps a shared counter so the
 * main thread, blocked in Atomics.wait, wakes up and drains the port synchronously.
 */
import { readFileSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import { COVERAGE_SLICE_RUNS, runSlice, sliceRuns, SLICE_RUNS } from './slices.js';

export interface WorkerJob {
  profile: string;
  seed: number;
  runs: number;
  /**
   * slices of the campaign (run mode): every worker takes the next one not yet taken
   * (`next`, a shared counter), so a worker slowed by the host or by shrinking does not
   * hold the others up; results merge by slice number, so who ran which does not matter
   */
  slices: number[];
  next: SharedArrayBuffer;
  /** time mode: first slice, stride, deadline (ms of host time from start) */
  time?: { first: number; stride: number; ms: number };
  suppress?: string[];
  /** coverage-guided slices (`--coverage`, coverage build) of COVERAGE_SLICE_RUNS runs */
  guided?: boolean;
  port: MessagePort;
  signal: SharedArrayBuffer;
}

/** `done` carries the worker's own host time and thread CPU time (ms; cpuMs null where unknown) */
export type WorkerMsg = { type: 'slice'; k: number; result: ReturnType<typeof runSlice>['result'] } | { type: 'done'; ms: number; cpuMs: number | null } | { type: 'error'; message: string };

/**
 * CPU time of the calling thread in ms (Linux: /proc/thread-self/stat utime + stime, in
 * clock ticks of 10 ms), or null elsewhere. process.cpuUsage() counts every thread of the
 * process, so it cannot tell one worker's CPU from another's. Host-side measurement only.
 */
export function threadCpuMs(): number | null {
  try {
    const s = readFileSync('/proc/thread-self/stat', 'latin1');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    // fields 14 and 15 of proc(5) are utime and stime; f[0] is field 3 (state)
    const ticks = Number(f[11]) + Number(f[12]);
    return Number.isFinite(ticks) ? ticks * 10 : null;
  } catch {
    return null;
  }
}

function main(job: WorkerJob): void {
  const t0 = performance.now();
  const c0 = threadCpuMs();
  const sig = new Int32Array(job.signal);
  const post = (m: WorkerMsg): void => {
    job.port.postMessage(m);
    Atomics.add(sig, 0, 1);
    Atomics.notify(sig, 0);
  };
  const size = job.guided ? COVERAGE_SLICE_RUNS : SLICE_RUNS;
  try {
    if (job.time) {
      for (let k = job.time.first; performance.now() - t0 < job.time.ms; k += job.time.stride) {
        post({ type: 'slice', ...runSlice(job.profile, job.seed, k, size, job.suppress, job.guided) });
      }
    } else {
      const next = new Int32Array(job.next);
      for (let i = Atomics.add(next, 0, 1); i < job.slices.length; i = Atomics.add(next, 0, 1)) {
        const k = job.slices[i]!;
        post({ type: 'slice', ...runSlice(job.profile, job.seed, k, sliceRuns(job.runs, k, size), job.suppress, job.guided) });
      }
    }
    const c1 = threadCpuMs();
    post({ type: 'done', ms: performance.now() - t0, cpuMs: c0 === null || c1 === null ? null : c1 - c0 });
  } catch (e) {
    post({ type: 'error', message: (e as Error).stack ?? String(e) });
  }
}

if (parentPort && workerData && (workerData as { port?: unknown }).port) main(workerData as WorkerJob);
