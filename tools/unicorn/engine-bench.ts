import { performance } from 'node:perf_hooks';
import { PhysicalBus } from '../../emulator/bus.js';
import { PROT_EXEC, PROT_READ, PROT_WRITE } from '../../emulator/cpu/unicorn/address-space.js';
import { UnicornEngine } from '../../emulator/cpu/unicorn/engine.js';
import { guestBinary } from '../../emulator/cpu/unicorn/testing/guest-build.js';
import { TestProcess } from '../../emulator/cpu/unicorn/testing/process.js';
import { runElf } from '../../emulator/cpu/unicorn/testing/run.js';
import { UnicornThread, type SyscallBridge } from '../../emulator/cpu/unicorn/thread.js';
import { Cpu } from '../../emulator/cpu/cpu.js';
import { Scheduler } from '../../emulator/scheduler.js';

/**
 * Micro-benchmarks of the Unicorn backend (host time; never used by the model):
 *  - guest instructions per second on a CPU-bound loop (guest-tests/c/loop.c), with the
 *    block-hook instruction counting and 10,000-instruction quanta of the real backend;
 *  - syscall round trip (svc -> UC_HOOK_INTR -> SyscallBridge -> r0 -> resume) in a
 *    two-instruction svc loop;
 *  - the memory mirror: one anonymous mmap + munmap of a page (uc_mem_map_ptr + unmap).
 */
export interface UnicornBenchResult {
  loopInstructions: number;
  instructionsPerSecond: number;
  syscallRoundTripNs: number;
  mapUnmapPageUs: number;
  helloMs: number;
}

const now = (): number => performance.now();

let repeats = 1;

/** best (minimum) host time of `repeats` runs: the host is shared, the minimum is the least disturbed */
function timed<T>(fn: () => T): [T, number] {
  let best = Infinity;
  let r: T | undefined;
  for (let i = 0; i < repeats; i++) {
    const t0 = now();
    r = fn();
    best = Math.min(best, now() - t0);
  }
  return [r as T, best];
}

export function benchUnicorn(opts: { loopIterations?: number; syscalls?: number; pages?: number; repeats?: number } = {}): UnicornBenchResult {
  repeats = Math.max(1, opts.repeats ?? 3);
  const iters = opts.loopIterations ?? 5_000_000;
  const nsys = opts.syscalls ?? 50_000;
  const pages = opts.pages ?? 2_000;
  const loop = guestBinary('loop');
  runElf(loop, { argv: ['loop', '1000'] }); // warm-up (koffi, library)
  const [small, tSmall] = timed(() => runElf(loop, { argv: ['loop', '1000'] }));
  const [big, tBig] = timed(() => runElf(loop, { argv: ['loop', String(iters)] }));
  const dInsns = big.thread.instructions - small.thread.instructions;
  const ips = dInsns / ((tBig - tSmall) / 1000);

  // syscall round trip: a 2-instruction loop (svc #0; b loop) served by a trivial bridge;
  // the time per iteration includes the two TB-hook callbacks of the loop.
  const rt = (timed(() => syscallLoop(nsys))[1] * 1e6) / nsys;

  const bus = new PhysicalBus();
  bus.addRam('ram', 0x80000000, 64 * 1024 * 1024);
  const proc = new TestProcess(bus, 0x80000000, 64 * 1024 * 1024);
  const eng = new UnicornEngine();
  eng.attach(proc, bus);
  const [, tMap] = timed(() => {
    for (let i = 0; i < Math.ceil(pages / repeats); i++) {
      const va = proc.mmapAnon(4096, PROT_READ | PROT_WRITE, null)!;
      proc.unmap(va, 4096);
    }
  });
  eng.close();

  const [, tHello] = timed(() => runElf(guestBinary('hello')));
  return {
    loopInstructions: big.thread.instructions,
    instructionsPerSecond: ips,
    syscallRoundTripNs: rt,
    mapUnmapPageUs: (tMap * 1000) / Math.ceil(pages / repeats),
    helloMs: tHello,
  };
}

function syscallLoop(n: number): number {
  const bus = new PhysicalBus();
  bus.addRam('ram', 0x80000000, 1024 * 1024);
  const proc = new TestProcess(bus, 0x80000000, 1024 * 1024);
  proc.map(0x10000, 4096, PROT_READ | PROT_WRITE | PROT_EXEC);
  proc.poke(0x10000, new Uint8Array(new Uint32Array([0xef000000, 0xeafffffd]).buffer));
  const engine = new UnicornEngine();
  engine.attach(proc, bus);
  let calls = 0;
  const bridge: SyscallBridge = {
    syscall(t) {
      if (++calls >= n) t.exit(0);
      return 0;
    },
  };
  const sched = new Scheduler();
  const cpu = new Cpu(sched);
  const t = new UnicornThread(1, 'bench', engine, bridge, 0x10000, 0, { quantum: 1_000_000 });
  cpu.addThread(t);
  sched.runUntilPredicate(() => t.state === 'exited');
  engine.close();
  return calls;
}

export function formatUnicornBench(r: UnicornBenchResult): string {
  return [
    `unicorn: ${(r.instructionsPerSecond / 1e6).toFixed(1)} M guest instructions/s (loop, ${r.loopInstructions} instructions)`,
    `unicorn: syscall round trip ${(r.syscallRoundTripNs / 1000).toFixed(2)} us`,
    `unicorn: mmap+munmap of one page (mirror sync) ${r.mapUnmapPageUs.toFixed(2)} us`,
    `unicorn: static glibc hello, load to exit ${r.helloMs.toFixed(1)} ms`,
  ].join('\n');
}
