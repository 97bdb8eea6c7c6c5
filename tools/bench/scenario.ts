import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { runPl330 } from '../scenarios/pl330.js';
import { median, nowMs, registerBench, type BenchFigure } from './registry.js';

/**
 * 3. scenario: pl330-vfio-test (rfc-v4, one page) wall time in-process after warm-up, and
 * the whole CLI process (`node dist/cli.js run pl330-vfio-test --quiet`); and the growth
 * with the number of transfers (1, 4, 16, 64: issue 19), in process.
 */
registerBench({
  name: 'scenario',
  description: 'pl330-vfio-test wall time: in-process (after warm-up; also with 4, 16, 64 transfers) and the whole CLI process',
  run(ctx) {
    const opts = { profile: 'rfc-v4', board: 'vexpress-vfio', seed: 1 };
    for (let i = 0; i < (ctx.short ? 3 : 10); i++) runPl330(opts);
    const times: number[] = [];
    const cpu: number[] = [];
    for (let i = 0; i < (ctx.short ? 5 : 30); i++) {
      const c0 = process.cpuUsage();
      const t0 = nowMs();
      const r = runPl330(opts);
      times.push(nowMs() - t0);
      const c = process.cpuUsage(c0);
      cpu.push((c.user + c.system) / 1000);
      if (!r.passed) throw new Error(`scenario did not pass: ${r.outcome}`);
    }
    const figs: BenchFigure[] = [
      { name: 'in-process', value: median(times), unit: 'ms', higherIsBetter: false, target: { op: '<=' as const, value: 5 } },
      { name: 'in-process-cpu', value: median(cpu), unit: 'ms', higherIsBetter: false, note: 'CPU time (user + system) of the same runs' },
    ];
    // growth: the same run with more transfers (each: INTCLR, UNMASK, DMAGO, wait for the interrupt)
    for (const transfers of [4, 16, 64]) {
      const o = { ...opts, transfers };
      for (let i = 0; i < (ctx.short ? 1 : 3); i++) runPl330(o);
      const tt: number[] = [];
      for (let i = 0; i < (ctx.short ? 3 : 10); i++) {
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
      for (let i = 0; i < (ctx.short ? 2 : 5); i++) {
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
