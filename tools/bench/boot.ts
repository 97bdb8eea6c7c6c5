/**
 * boot (issue 19): host time of a boot of the default board (rfc-v4) in process, after
 * warm-up, and where it goes: the phases System reports (tools/system/system.ts `phase`):
 * device-tree parse (cached after the first boot of a board: emulator/machine.ts
 * parseBoard; the uncached parse is reported too), machine (RAM regions, device models,
 * wiring), kernel init (page allocator, kmalloc heap, driver core, IOMMU core), kernel boot
 * (IRQ core, platform devices, arm-smmu probe, host drivers), user space (VFS, syscalls,
 * VFIO core, type1, vfio-platform), and the first process (spawn a program that exits at
 * once and run it to its exit).
 */
import { loadBoardSource } from '../../emulator/machine.js';
import { parseDts } from '../../emulator/dt/parser.js';
import type { GuestProgram } from '../../kernel-model/uapi/index.js';
import { System, type BootPhase } from '../system/system.js';
import { median, nowMs, registerBench, type BenchFigure } from './registry.js';

const PHASES: BootPhase[] = ['dt-parse', 'machine', 'kernel-init', 'kernel-boot', 'userspace'];

export interface BootSample {
  totalMs: number;
  /** CPU time of the boot (user + system, process.cpuUsage): robust against a loaded machine's preemption */
  cpuMs: number;
  phases: Record<BootPhase, number>;
  firstProcessMs: number;
}

/** One boot with its phase times, then the first process. */
export function measureBoot(profile = 'rfc-v4'): BootSample {
  const phases = {} as Record<BootPhase, number>;
  const c0 = process.cpuUsage();
  const t0 = nowMs();
  let last = t0;
  const sys = new System({
    profile,
    phase: (p) => {
      const t = nowMs();
      phases[p] = t - last;
      last = t;
    },
  });
  const totalMs = nowMs() - t0;
  const c1 = process.cpuUsage(c0);
  const cpuMs = (c1.user + c1.system) / 1000;
  const t1 = nowMs();
  const { thread } = sys.spawn('true', function* (): GuestProgram {
    return 0;
  });
  sys.runUntilExited([thread]);
  const firstProcessMs = nowMs() - t1;
  if (thread.exit?.status !== 0) throw new Error(`bench: the first process did not exit 0 (${JSON.stringify(thread.exit)})`);
  return { totalMs, cpuMs, phases, firstProcessMs };
}

registerBench({
  name: 'boot',
  description: 'boot of the default board in process (median after warm-up) and its phases: DT parse, machine, kernel init, kernel boot, user space, first process',
  run(ctx) {
    const warm = ctx.short ? 5 : 20;
    const n = ctx.short ? 10 : 60;
    for (let i = 0; i < warm; i++) measureBoot();
    const samples: BootSample[] = [];
    for (let i = 0; i < n; i++) samples.push(measureBoot());
    const src = loadBoardSource();
    const parse: number[] = [];
    for (let i = 0; i < n; i++) {
      const t0 = nowMs();
      parseDts(src.text, src.file);
      parse.push(nowMs() - t0);
    }
    const figs: BenchFigure[] = [
      { name: 'boot', value: median(samples.map((s) => s.totalMs)), unit: 'ms', higherIsBetter: false, target: { op: '<=', value: 3 } },
      { name: 'boot-cpu', value: median(samples.map((s) => s.cpuMs)), unit: 'ms', higherIsBetter: false, note: 'CPU time of the same boots (user + system)' },
    ];
    for (const p of PHASES) figs.push({ name: `phase:${p}`, value: median(samples.map((s) => s.phases[p])), unit: 'ms', higherIsBetter: false });
    figs.push({ name: 'phase:first-process', value: median(samples.map((s) => s.firstProcessMs)), unit: 'ms', higherIsBetter: false });
    figs.push({ name: 'dt-parse-uncached', value: median(parse), unit: 'ms', higherIsBetter: false, note: 'parseDts of the default board without the cache (the first boot of a board in a process)' });
    return figs;
  },
});
