/**
 * Entry of `vfio-arm-emu fuzz --jobs N` (bundled as dist/fuzz-worker.js), in three roles:
 *
 * - child (`--jobs N`, the default since issue 19): a child process `node <V8 flags>
 *   fuzz-worker.js --vae-fuzz-child` runs slices; it asks for the next slice over its IPC
 *   channel (run mode) or runs slices k = first, first + stride, ... until its deadline (time
 *   mode), and sends each slice's result. With `fuzz --jobs N` the CLI's main thread is job 0
 *   and N - 1 children are jobs 1..N-1; each child has V8 confined to one thread
 *   (JOB_EXEC_ARGV), so a job's compiler and GC work stays on its own core
 *   (docs/PERFORMANCE.md, "fuzz-jobs: child processes" and "fuzz-jobs: the CLI process as
 *   job 0").
 * - relay: a worker thread of the CLI process that forks the children, hands out slices (from
 *   a counter shared with the main thread) and forwards the children's messages to the main
 *   thread, which stays synchronous: between its own slices, and blocked in Atomics.wait once
 *   it has none left, it drains the port with receiveMessageOnPort (no event loop needed there).
 *   The relay does not load the fuzzer (slices.js is imported only by the roles that run slices),
 *   so it starts in a few ms.
 * - thread (`mode: 'thread'` of runWorkers, the measurement baseline): the worker thread runs
 *   slices itself, as before issue 19.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { parentPort, workerData } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import type { runSlice } from './slices.js';
import { threadCpuMs } from './cputime.js';

/** the fuzzer, loaded only by the roles that run slices (the relay never needs it) */
const loadSlices = (): Promise<typeof import('./slices.js')> => import('./slices.js');

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
export type WorkerMsg = { type: 'slice'; k: number; result: ReturnType<typeof runSlice>['result'] } | { type: 'done'; ms: number; cpuMs: number | null; procCpuMs?: number } | { type: 'error'; message: string };

/** the flag that makes fuzz-worker.js a child process of the relay */
export const CHILD_FLAG = '--vae-fuzz-child';

/** what the relay thread gets: the children to fork and the campaign */
export interface RelayJob extends WorkerJob {
  relay: true;
  workerFile: string;
  jobs: number;
  /** node/V8 flags of each child (JOB_EXEC_ARGV by default) */
  execArgv: string[];
  /** the first job that is a child: 1 when the main thread runs job 0 itself, else 0 */
  firstChild: number;
}

/** relay -> child */
type ToChild =
  | { type: 'job'; profile: string; seed: number; runs: number; suppress?: string[]; guided?: boolean; time?: { first: number; stride: number; ms: number } }
  | { type: 'slice'; k: number }
  | { type: 'stop' };
/** child -> relay: a slice request (run mode) or a WorkerMsg */
type FromChild = { type: 'next' } | WorkerMsg;
/** relay -> main thread: a child's message with its job index */
export type RelayMsg = WorkerMsg & { j: number };

async function main(job: WorkerJob): Promise<void> {
  const t0 = performance.now();
  const c0 = threadCpuMs();
  const sig = new Int32Array(job.signal);
  const post = (m: WorkerMsg): void => {
    job.port.postMessage(m);
    Atomics.add(sig, 0, 1);
    Atomics.notify(sig, 0);
  };
  try {
    const { COVERAGE_SLICE_RUNS, runSlice, sliceRuns, SLICE_RUNS } = await loadSlices();
    const size = job.guided ? COVERAGE_SLICE_RUNS : SLICE_RUNS;
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

/** the relay thread: forks the children, deals out slices, forwards results (see the header) */
function relay(job: RelayJob): void {
  const sig = new Int32Array(job.signal);
  const post = (m: RelayMsg): void => {
    job.port.postMessage(m);
    Atomics.add(sig, 0, 1);
    Atomics.notify(sig, 0);
  };
  const next = new Int32Array(job.next);
  const children: ChildProcess[] = [];
  for (let j = job.firstChild; j < job.jobs; j++) {
    let ended = false;
    const c = fork(job.workerFile, [CHILD_FLAG], { execArgv: job.execArgv, serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    children.push(c);
    const send = (m: ToChild): void => {
      if (c.connected) c.send(m);
    };
    // a child's `done` is passed on once it has exited (and been waited for), so the CLI
    // never leaves a child behind and the child's CPU time counts as the CLI's
    let done: RelayMsg | null = null;
    c.on('message', (raw) => {
      const m = raw as FromChild;
      if (m.type === 'next') {
        const i = Atomics.add(next, 0, 1);
        send(i < job.slices.length ? { type: 'slice', k: job.slices[i]! } : { type: 'stop' });
        return;
      }
      if (m.type === 'done') done = { ...m, j };
      else {
        if (m.type !== 'slice') ended = true;
        post({ ...m, j });
      }
    });
    c.on('error', (e) => {
      if (!ended) post({ type: 'error', message: `fuzz job ${j}: ${e.message}`, j });
      ended = true;
    });
    // 'close', not 'exit': after the exit and the IPC channel's end, so every message arrived
    c.on('close', (code, signal) => {
      if (!ended) post(done ?? { type: 'error', message: `fuzz job ${j}: child process exited (${signal ?? `status ${code}`}) before finishing`, j });
      ended = true;
    });
    send({ type: 'job', profile: job.profile, seed: job.seed, runs: job.runs, suppress: job.suppress, guided: job.guided, time: job.time ? { first: job.time.first + j * (job.time.stride / job.jobs), stride: job.time.stride, ms: job.time.ms } : undefined });
  }
  // the CLI terminates this thread once every child reported: the children's IPC then closes and they exit
  job.port.on('close', () => {
    for (const c of children) if (c.exitCode === null) c.kill();
  });
}

/** a child process (CHILD_FLAG): runs what the relay gives it, one slice at a time */
function child(): void {
  // the CLI gone (killed, Ctrl-C, a CI job's time limit): stop quietly, as on 'disconnect'
  // below, instead of dying on an unhandled EPIPE with a stack trace on the shared stderr
  const send = (m: FromChild): void => {
    if (!process.connected) process.exit(0);
    process.send!(m, undefined, undefined, (e: Error | null) => {
      if (e) process.exit(0);
    });
  };
  let job: Extract<ToChild, { type: 'job' }> | null = null;
  const t0 = performance.now();
  const p0 = process.cpuUsage();
  // load the fuzzer while the job message is on its way
  const loading = loadSlices();
  // a failed load is reported by the first message's handler (fail), not as an unhandled rejection
  loading.catch(() => {});
  let c0: number | null = null;
  const finish = (): void => {
    const c1 = threadCpuMs();
    const p1 = process.cpuUsage(p0);
    send({ type: 'done', ms: performance.now() - t0, cpuMs: c0 === null || c1 === null ? null : c1 - c0, procCpuMs: (p1.user + p1.system) / 1000 });
    process.disconnect();
  };
  const fail = (e: unknown): void => {
    send({ type: 'error', message: (e as Error).stack ?? String(e) });
    process.disconnect();
  };
  // the parent went away (the CLI ended or failed): stop between slices
  process.on('disconnect', () => process.exit(0));
  process.on('message', async (raw) => {
    const m = raw as ToChild;
    try {
      const { COVERAGE_SLICE_RUNS, runSlice, sliceRuns, SLICE_RUNS } = await loading;
      if (m.type === 'job') {
        c0 = threadCpuMs();
        job = m;
        if (!m.time) return send({ type: 'next' });
        const size = m.guided ? COVERAGE_SLICE_RUNS : SLICE_RUNS;
        const time = m.time;
        // the deadline counts from the job's arrival: every child runs at least its first slice
        const start = performance.now();
        // time mode: one slice per turn of the event loop, so a disconnect is seen between slices
        const step = (k: number): void => {
          try {
            if (performance.now() - start >= time.ms) return finish();
            send({ type: 'slice', ...runSlice(m.profile, m.seed, k, size, m.suppress, m.guided) });
            setImmediate(step, k + time.stride);
          } catch (e) {
            fail(e);
          }
        };
        step(time.first);
      } else if (m.type === 'slice' && job) {
        const size = job.guided ? COVERAGE_SLICE_RUNS : SLICE_RUNS;
        send({ type: 'slice', ...runSlice(job.profile, job.seed, m.k, sliceRuns(job.runs, m.k, size), job.suppress, job.guided) });
        send({ type: 'next' });
      } else if (m.type === 'stop') finish();
    } catch (e) {
      fail(e);
    }
  });
}

if (parentPort && workerData && (workerData as { relay?: unknown }).relay) relay(workerData as RelayJob);
else if (parentPort && workerData && (workerData as { port?: unknown }).port) void main(workerData as WorkerJob);
else if (!parentPort && process.send && process.argv.includes(CHILD_FLAG)) child();
