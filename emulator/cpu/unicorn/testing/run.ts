import { readFileSync } from 'node:fs';
import { PhysicalBus } from '../../../bus.js';
import { Prng } from '../../../prng.js';
import { Scheduler } from '../../../scheduler.js';
import { Tracer } from '../../../trace.js';
import { Cpu } from '../../cpu.js';
import { parseElf, type ElfImage } from '../elf.js';
import { UnicornEngine } from '../engine.js';
import { UnicornThread, type UnicornThreadOptions } from '../thread.js';
import { loadElf, TestProcess } from './process.js';
import { TestShim } from './shim.js';

/** Run a static ARM ELF on the backend with the test process + shim, to completion. */
export interface RunResult {
  thread: UnicornThread;
  shim: TestShim;
  proc: TestProcess;
  engine: UnicornEngine;
  image: ElfImage;
  now: number;
  digest: string;
  bus: PhysicalBus;
  /** CPU cycles consumed (instructions x cpi + syscall and device costs) */
  cpuCycles: number;
}

export const RAM_BASE = 0x80000000;
export const RAM_SIZE = 256 * 1024 * 1024;

export interface RunOpts extends UnicornThreadOptions {
  argv?: string[];
  envp?: string[];
  seed?: number;
  /** set up extra board state (device regions) before the program starts */
  setup?: (bus: PhysicalBus, proc: TestProcess) => void;
  /** called once the thread is created, before the scheduler runs (schedule probes, devices) */
  onStart?: (sched: Scheduler, thread: UnicornThread) => void;
  maxNs?: number;
}

export function runElf(path: string, opts: RunOpts = {}): RunResult {
  const sched = new Scheduler();
  const tracer = new Tracer(() => sched.now, true, { keep: false });
  const cpu = new Cpu(sched, tracer);
  const bus = new PhysicalBus();
  bus.addRam('ram', RAM_BASE, RAM_SIZE);
  const prng = new Prng(opts.seed ?? 1);
  const proc = new TestProcess(bus, RAM_BASE + 0x01000000, 64 * 1024 * 1024);
  opts.setup?.(bus, proc);
  const image = parseElf(new Uint8Array(readFileSync(path)));
  const argv = opts.argv ?? ['/bin/prog'];
  const loaded = loadElf(proc, image, argv, opts.envp ?? ['PATH=/bin', 'HOME=/'], prng.fork(1));
  const engine = new UnicornEngine();
  engine.attach(proc, bus);
  const exe = (argv[0] ?? 'prog').startsWith('/') ? argv[0]! : `/bin/${argv[0] ?? 'prog'}`;
  const shim = new TestShim(proc, prng.fork(2), 100, exe);
  const thread = new UnicornThread(100, 'prog', engine, shim, loaded.entry, loaded.sp, { tracer, ...opts });
  cpu.addThread(thread);
  opts.onStart?.(sched, thread);
  try {
    sched.runUntilPredicate(() => thread.state === 'exited', { within: opts.maxNs ?? 10_000_000_000 });
  } finally {
    engine.close();
  }
  return { thread, shim, proc, engine, image, now: sched.now, digest: tracer.digest(), bus, cpuCycles: cpu.totalCycles };
}
