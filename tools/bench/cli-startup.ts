import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { median, nowMs, registerBench, skippedFigure, type BenchFigure } from './registry.js';

/**
 * cli-startup (issue 19): the bundled CLI's process start-up. `node dist/cli.js --version`
 * against `node -e 0` (what Node itself costs here; the difference is what the CLI loads
 * before answering: only its dispatcher, specs and argument parser, tools/cli/main.ts), and
 * the whole process of the main job (`run pl330-vfio-test --quiet`: the emulator, kernel
 * model and scenarios, never the fuzzer or the Unicorn backend), from the code-cached commands
 * bundle (tools/cli/code-cache.ts) and, for comparison, from the ES modules
 * (VFIO_ARM_EMU_CODE_CACHE=off: what the process costs without the cache). Interleaved
 * samples, so a change in the machine's load affects the four alike.
 */
registerBench({
  name: 'cli-startup',
  description: 'CLI process start-up: --version vs node -e 0, and the main job',
  run(ctx) {
    const cli = join(process.cwd(), 'dist', 'cli.js');
    if (!existsSync(cli)) return [skippedFigure('version', 'ms', 'dist/cli.js not built (npm run build)')];
    const time = (args: string[], env?: Record<string, string>): number => {
      const t0 = nowMs();
      const p = spawnSync(process.execPath, args, { encoding: 'utf8', env: env && { ...process.env, ...env } });
      const dt = nowMs() - t0;
      if (p.status !== 0) throw new Error(`${args.join(' ')} failed (${p.status}): ${p.stderr}`);
      return dt;
    };
    const node: number[] = [];
    const version: number[] = [];
    const main: number[] = [];
    const esm: number[] = [];
    const job = [cli, 'run', 'pl330-vfio-test', '--quiet'];
    const OFF = { VFIO_ARM_EMU_CODE_CACHE: 'off' };
    // warm the file cache; and learn whether the build's code cache is taken (it is not when
    // dist/ was built by another Node, or its cache is missing)
    time([cli, '--version']);
    time(job, OFF);
    const state = /code cache: (\S+)/.exec(spawnSync(process.execPath, job, { encoding: 'utf8', env: { ...process.env, VFIO_ARM_EMU_CODE_CACHE: 'report' } }).stderr)?.[1] ?? 'unknown';
    for (let i = 0; i < (ctx.short ? 3 : 9); i++) {
      node.push(time(['-e', '0']));
      version.push(time([cli, '--version']));
      main.push(time(job));
      esm.push(time(job, OFF));
    }
    const n = median(node);
    const v = median(version);
    const figs: BenchFigure[] = [
      { name: 'node-e-0', value: n, unit: 'ms', higherIsBetter: false, note: 'node -e 0: the floor' },
      { name: 'version', value: v, unit: 'ms', higherIsBetter: false },
      { name: 'version-over-node', value: v - n, unit: 'ms', higherIsBetter: false, note: 'what --version adds to a bare node process' },
      { name: 'main-job-process', value: median(main), unit: 'ms', higherIsBetter: false, target: { op: '<=', value: 250 }, note: `code cache ${state}` },
      { name: 'main-job-process-es-modules', value: median(esm), unit: 'ms', higherIsBetter: false, note: 'the same with VFIO_ARM_EMU_CODE_CACHE=off: from the ES-module chunks, no code cache' },
    ];
    return figs;
  },
});
