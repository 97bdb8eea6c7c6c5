import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { runPl330 } from '../scenarios/pl330.js';
import { median, nowMs, registerBench, type BenchFigure } from './registry.js';

/**
 * Runs a process has done before `in-process` (the target) is measured: the JIT has settled.
 * Most of a run executes code that runs once or a few times per run (boot, driver probes, the
 * sysfs bind), so V8 tiers it up only after many runs: the per-run time falls until about
 * 200 runs (docs/PERFORMANCE.md, "Scenario in process: the JIT's warm-up"), as fuzz-rate's
 * does before its STEADY_WARMUP_RUNS.
 */
export const SCENARIO_SETTLE_RUNS = 300;

/**
 * 3. scenario: pl330-vfio-test (rfc-v4, one page) wall time in process, and the whole CLI
 * process (`node dist/cli.js run pl330-vfio-test --quiet`); and the growth with the number of
 * transfers (1, 4, 16, 64: issue 19), in process.
 *
 * `in-process` (the target) is measured once the process has run SCENARIO_SETTLE_RUNS
 * scenarios: what each scenario of a long regression suite costs. `in-process-cold` is the
 * method before 2026-12-05, 30 runs after 10, kept without a target: it measures V8 still
 * tiering the code up (it equals the `--no-opt` speed) and, on two cores, the main thread
 * sharing them with the compiler and GC threads. `suite-first-100` is the mean over a fresh
 * process's first 100 scenarios (the first included), what a short suite pays per scenario.
 * `--short` measures only the cold figures (no target).
 */
registerBench({
  name: 'scenario',
  description: `pl330-vfio-test wall time: in process once the JIT has settled (after ${SCENARIO_SETTLE_RUNS} runs: target), cold (30 runs after 10), the mean of a fresh process's first 100, the growth with 4, 16, 64 transfers, and the whole CLI process`,
  run(ctx) {
    const opts = { profile: 'rfc-v4', board: 'vexpress-vfio', seed: 1 };
    const figs: BenchFigure[] = [];
    // a fresh process's first 100 scenarios (this benchmark's process has run none: the runner
    // starts a process per repetition)
    const first: number[] = [];
    const firstN = ctx.short ? 10 : 100;
    for (let i = 0; i < firstN; i++) {
      const t0 = nowMs();
      const r = runPl330(opts);
      first.push(nowMs() - t0);
      if (!r.passed) throw new Error(`scenario did not pass: ${r.outcome}`);
    }
    const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
    // cold: runs 11..40 (the old method: 30 runs after 10 warm-ups)
    const cold = first.slice(10, 40);
    if (cold.length > 0) figs.push({ name: 'in-process-cold', value: median(cold), unit: 'ms', higherIsBetter: false, note: 'runs 11-40 of the process (30 after 10 warm-ups: the method before 2026-12-05; V8 still tiering up)' });
    figs.push({ name: `suite-first-${firstN}`, value: mean(first), unit: 'ms', higherIsBetter: false, note: `mean wall time of a fresh process's first ${firstN} scenarios, the first included` });
    if (ctx.short) return figs;
    for (let i = firstN; i < SCENARIO_SETTLE_RUNS; i++) runPl330(opts);
    const times: number[] = [];
    const cpu: number[] = [];
    for (let i = 0; i < 30; i++) {
      const c0 = process.cpuUsage();
      const t0 = nowMs();
      const r = runPl330(opts);
      times.push(nowMs() - t0);
      const c = process.cpuUsage(c0);
      cpu.push((c.user + c.system) / 1000);
      if (!r.passed) throw new Error(`scenario did not pass: ${r.outcome}`);
    }
    figs.push(
      { name: 'in-process', value: median(times), unit: 'ms', higherIsBetter: false, target: { op: '<=' as const, value: 5 }, note: `after ${SCENARIO_SETTLE_RUNS} runs in the process (the JIT settled)` },
      { name: 'in-process-cpu', value: median(cpu), unit: 'ms', higherIsBetter: false, note: 'CPU time (user + system, every thread) of the same runs' },
    );
    // growth: the same run with more transfers (each: INTCLR, UNMASK, DMAGO, wait for the interrupt)
    for (const transfers of [4, 16, 64]) {
      const o = { ...opts, transfers };
      for (let i = 0; i < 60; i++) runPl330(o);
      const tt: number[] = [];
      for (let i = 0; i < 10; i++) {
        const t0 = nowMs();
        const r = runPl330(o);
        tt.push(nowMs() - t0);
        if (!r.passed) throw new Error(`scenario with ${transfers} transfers did not pass: ${r.outcome}`);
      }
      figs.push({ name: `in-process-${transfers}-transfers`, value: median(tt), unit: 'ms', higherIsBetter: false });
    }
    const cli = join(process.cwd(), 'dist', 'cli.js');
    if (existsSync(cli)) {
      const ct: number[] = [];
      for (let i = 0; i < 5; i++) {
        const t0 = nowMs();
        const p = spawnSync(process.execPath, [cli, 'run', 'pl330-vfio-test', '--quiet'], { encoding: 'utf8' });
        ct.push(nowMs() - t0);
        if (p.status !== 0) throw new Error(`CLI run failed: ${p.stderr}`);
      }
      figs.push({ name: 'cli-process', value: median(ct), unit: 'ms', higherIsBetter: false, target: { op: '<=', value: 500 } });
    }
    return figs;
  },
});
