import { performance } from 'node:perf_hooks'; // lint-allow-wallclock: the benchmark measures host time, never model time
import { PhysicalBus } from '../../bus.js';
import { PROT_READ, PROT_WRITE } from './address-space.js';
import { UnicornEngine } from './engine.js';
import { guestBinary } from './testing/guest-build.js';
import { TestProcess } from './testing/process.js';
import { runElf } from './testing/run.js';

/**
 * Micro-benchmarks of the Unicorn backend (host time; never used by the model):
 *  - guest instructions per second on a CPU-bound loop (guest-tests/c/loop.c), with the
 *    block-hook instruction counting and 10,000-instruction quanta of the real backend;
 *  - syscall round trip (svc -> UC_HOOK_INTR -> SyscallBridge -> r0 -> resume), from the
 *    difference of two runs of guest-tests/c/syscalls.c;
 *  - the memory mirror: one anonymous mmap + munmap of a page (uc_mem_map_ptr + unmap).
 */
export interface UnicornBenchResult {
  loopInstructions: number;
  instructionsPerSecond: number;
  syscallRoundTripNs: number;
  mapUnmapPageUs: number;
  helloMs: number;
}

const now = (): number => performance.now(); // lint-allow-wallclock

function timed<T>(fn: () => T): [T, number] {
  const t0 = now();
  const r = fn();
  return [r, now() - t0];
}

export function benchUnicorn(opts: { loopIterations?: number; syscalls?: number; pages?: number } = {}): UnicornBenchResult {
  const iters = opts.loopIterations ?? 5_000_000;
  const nsys = opts.syscalls ?? 50_000;
  const pages = opts.pages ?? 2_000;
  const loop = guestBinary('loop');
  runElf(loop, { argv: ['loop', '1000'] }); // warm-up (koffi, library)
  const [small, tSmall] = timed(() => runElf(loop, { argv: ['loop', '1000'] }));
  const [big, tBig] = timed(() => runElf(loop, { argv: ['loop', String(iters)] }));
  const dInsns = big.thread.instructions - small.thread.instructions;
  const ips = dInsns / ((tBig - tSmall) / 1000);

  const sys = guestBinary('syscalls');
  const [s0, ts0] = timed(() => runElf(sys, { argv: ['syscalls', '10'] }));
  const [s1, ts1] = timed(() => runElf(sys, { argv: ['syscalls', String(nsys)] }));
  const dSys = s1.thread.syscalls - s0.thread.syscalls;
  const dIns = s1.thread.instructions - s0.thread.instructions;
  // subtract the instructions around the calls at the measured instruction rate
  const rt = ((ts1 - ts0) / 1000 - dIns / ips) / dSys * 1e9;

  const bus = new PhysicalBus();
  bus.addRam('ram', 0x80000000, 64 * 1024 * 1024);
  const proc = new TestProcess(bus, 0x80000000, 64 * 1024 * 1024);
  const eng = new UnicornEngine();
  eng.attach(proc, bus);
  const [, tMap] = timed(() => {
    for (let i = 0; i < pages; i++) {
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
    mapUnmapPageUs: (tMap * 1000) / pages,
    helloMs: tHello,
  };
}

export function formatUnicornBench(r: UnicornBenchResult): string {
  return [
    `unicorn: ${(r.instructionsPerSecond / 1e6).toFixed(1)} M guest instructions/s (loop, ${r.loopInstructions} instructions)`,
    `unicorn: syscall round trip ${(r.syscallRoundTripNs / 1000).toFixed(2)} us`,
    `unicorn: mmap+munmap of one page (mirror sync) ${r.mapUnmapPageUs.toFixed(2)} us`,
    `unicorn: static glibc hello, load to exit ${r.helloMs.toFixed(1)} ms`,
  ].join('\n');
}
