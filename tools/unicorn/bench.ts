/**
 * `npm run bench` figures for the Unicorn backend: guest instruction rate and the raw
 * svc round trip (tools/unicorn/engine-bench.ts), plus the costs on the real kernel-model
 * path: a getpid round trip through LinuxAbi + the whole system, and a full
 * pl330-vfio-test run (boot, binding, exec, DMA, exit) of the C port, and a process round
 * trip: fork + execve of a static program + waitpid (guest-tests/c/spawn.c).
 */
import { isUnicornAvailable } from '../../emulator/cpu/unicorn/native.js';
import { benchUnicorn } from './engine-bench.js';
import { guestBinary, hasCrossCompiler } from '../../emulator/cpu/unicorn/testing/guest-build.js';
import { nowMs, registerBench, type BenchFigure } from '../bench/registry.js';
import { runElf, runPl330VfioTestUnicorn } from './run.js';

export function benchUnicornSystem(short: boolean): BenchFigure[] {
  if (!isUnicornAvailable() || !hasCrossCompiler()) return [];
  const raw = benchUnicorn({ loopIterations: short ? 200_000 : 2_000_000, syscalls: short ? 10_000 : 50_000, pages: 50, repeats: short ? 1 : 3 });
  const n = short ? 5_000 : 50_000;
  // untimed: the first run of the process pays the engine's set-up (~7 ms, Unicorn's machine
  // init), which later runs take from the engine pool (UnicornEngine.obtain); every timed run
  // below, and the start-up runs subtracted from them, then start alike
  runElf({ elf: guestBinary('syscalls'), args: ['0'], bind: null });
  let best = Infinity;
  for (let i = 0; i < (short ? 1 : 3); i++) {
    const t0 = nowMs();
    const r = runElf({ elf: guestBinary('syscalls'), args: [String(n)], bind: null });
    const dt = nowMs() - t0;
    if (r.exitStatus !== 0) throw new Error(`syscalls benchmark failed: ${r.exitReport}`);
    best = Math.min(best, dt);
  }
  // the start-up subtracted: the best of three runs with no calls (one sample on a loaded host
  // could exceed the timed run's and give a negative round trip)
  const startup = bestOf(3, () => runElf({ elf: guestBinary('syscalls'), args: ['0'], bind: null }));
  // fork + exec + wait: N rounds minus the run with none
  const rounds = short ? 10 : 100;
  let bestSpawn = Infinity;
  for (let i = 0; i < (short ? 1 : 3); i++) {
    const t0 = nowMs();
    const r = runElf({ elf: guestBinary('spawn'), args: [String(rounds)], bind: null });
    const dt = nowMs() - t0;
    if (r.exitStatus !== 0) throw new Error(`spawn benchmark failed: ${r.exitReport} ${r.stdout}`);
    bestSpawn = Math.min(bestSpawn, dt);
  }
  const spawnStartup = bestOf(3, () => runElf({ elf: guestBinary('spawn'), args: ['0'], bind: null }));
  const t0 = nowMs();
  const p = runPl330VfioTestUnicorn({ profile: 'rfc-v4' });
  const pl330 = nowMs() - t0;
  if (!p.passed) throw new Error('pl330-vfio-test (C) did not pass');
  return [
    { name: 'unicorn-instructions', value: raw.instructionsPerSecond / 1e6, unit: 'M insn/s', higherIsBetter: true },
    { name: 'unicorn-svc-round-trip', value: raw.syscallRoundTripNs / 1000, unit: 'us', higherIsBetter: false },
    { name: 'unicorn-kernel-syscall-round-trip', value: ((best - startup) * 1000) / n, unit: 'us', higherIsBetter: false },
    { name: 'unicorn-pl330-vfio-test-run', value: pl330, unit: 'ms', higherIsBetter: false },
    { name: 'unicorn-fork-exec-wait', value: ((bestSpawn - spawnStartup) * 1000) / rounds, unit: 'us', higherIsBetter: false },
  ];
}

/** the shortest of n timed calls, in ms */
function bestOf(n: number, fn: () => unknown): number {
  let best = Infinity;
  for (let i = 0; i < n; i++) {
    const t0 = nowMs();
    fn();
    best = Math.min(best, nowMs() - t0);
  }
  return best;
}

registerBench({
  name: 'unicorn',
  description: 'Unicorn backend: guest instructions/s, svc round trip, getpid through the kernel model, C pl330-vfio-test end to end, fork+exec+wait',
  run: (ctx) => benchUnicornSystem(ctx.short),
});
