/**
 * npm run bench [-- --json] [-- --short] [-- --only NAME[,NAME]] [-- --reps N]
 *
 * Runs each benchmark in a fresh child process (node dist/bench.js --child NAME), several
 * repetitions, then prints a table (or one JSON object with median and spread per figure).
 * No thresholds are enforced: targets are printed beside the measurements.
 */
import { spawnSync } from 'node:child_process';
import { cpus } from 'node:os';
import { ACCEL_DEFAULT } from '../../emulator/accel.js';
import { parseArgs, UsageError } from '../cli/args.js';
import './index.js';
import { decodeFigures, encodeFigures, formatFigureValue, getBench, listBenches, median, type BenchFigure } from './registry.js';

async function child(name: string, short: boolean): Promise<void> {
  const b = getBench(name);
  if (!b) {
    process.stderr.write(`unknown benchmark ${name}\n`);
    process.exit(2);
  }
  const figs = await b.run({ short, accel: ACCEL_DEFAULT });
  process.stdout.write(encodeFigures(figs) + '\n');
}

interface Summary {
  bench: string;
  /** accelerators on in this figure's run */
  accel: boolean;
  figure: string;
  unit: string;
  median: number;
  min: number;
  max: number;
  samples: number[];
  target?: BenchFigure['target'];
  meetsTarget?: boolean;
  skipped?: boolean;
  note?: string;
}

async function main(): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs(process.argv.slice(2), {
      json: { type: 'bool' },
      short: { type: 'bool' },
      only: { type: 'string' },
      reps: { type: 'int', min: 1 },
      child: { type: 'string' },
      list: { type: 'bool' },
    });
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`bench: ${e.message}\nusage: bench [--json] [--short] [--only a,b] [--reps N] [--list]\n`);
      return 2;
    }
    throw e;
  }
  const o = parsed.opts;
  const short = Boolean(o['short']);
  if (typeof o['child'] === 'string') {
    await child(o['child'], short);
    return 0;
  }
  if (o['list']) {
    for (const b of listBenches()) process.stdout.write(`${b.name.padEnd(16)} ${b.description}\n`);
    return 0;
  }
  const only = typeof o['only'] === 'string' ? o['only'].split(',') : null;
  const reps = (o['reps'] as number | undefined) ?? (short ? 1 : 3);
  const selected = listBenches().filter((b) => !only || only.includes(b.name));
  const summaries: Summary[] = [];
  let failed = 0;
  for (const b of selected) {
    // benchmarks with accelModes run with accelerators on and off (child environment
    // VFIO_ARM_EMU_ACCEL, emulator/accel.ts); the others in the runner's own mode
    const modes = b.accelModes ? [true, false] : [ACCEL_DEFAULT];
    const invariant = new Map<string, { accel: boolean; value: number }>();
    for (const accel of modes) {
      const runs: BenchFigure[][] = [];
      for (let r = 0; r < reps; r++) {
        const args = [process.argv[1]!, '--child', b.name, ...(short ? ['--short'] : [])];
        const env = b.accelModes ? { ...process.env, VFIO_ARM_EMU_ACCEL: accel ? '1' : '0' } : process.env;
        const res = spawnSync(process.execPath, ['--expose-gc', ...args], { encoding: 'utf8', maxBuffer: 1 << 24, env });
        if (res.status !== 0) {
          process.stderr.write(`bench ${b.name} failed (exit ${res.status}):\n${res.stderr}\n`);
          failed++;
          break;
        }
        const line = res.stdout.trim().split('\n').pop() ?? '[]';
        runs.push(decodeFigures(line));
      }
      if (runs.length === 0) continue;
      for (let i = 0; i < runs[0]!.length; i++) {
        const f = runs[0]![i]!;
        const samples = runs.map((r) => r[i]!.value);
        const med = median(samples);
        if (f.sameInAllModes) {
          // deterministic figures: every repetition and every mode must give the same value
          const prev = invariant.get(f.name);
          if (samples.some((v) => v !== samples[0]) || (prev !== undefined && prev.value !== samples[0])) {
            process.stderr.write(`bench ${b.name}: ${f.name} differs between runs/modes: ${prev ? `${prev.value} (accel ${prev.accel ? 'on' : 'off'}) vs ` : ''}${samples.join(', ')} (accel ${accel ? 'on' : 'off'})\n`);
            failed++;
          }
          if (prev === undefined) invariant.set(f.name, { accel, value: samples[0]! });
        }
        const s: Summary = { bench: b.name, accel, figure: f.name, unit: f.unit, median: med, min: Math.min(...samples), max: Math.max(...samples), samples };
        if (f.skipped) {
          s.skipped = true;
          s.median = s.min = s.max = NaN;
        }
        if (f.note) s.note = f.note;
        if (f.target && !f.skipped) {
          s.target = f.target;
          s.meetsTarget = f.target.op === '>=' ? med >= f.target.value : med <= f.target.value;
        }
        summaries.push(s);
      }
    }
  }
  const machine = { cpus: cpus().length, model: cpus()[0]?.model ?? 'unknown', node: process.version };
  if (o['json']) {
    // non-finite figures (a skipped figure's NaN, a ratio over a zero) as strings, as in the
    // child -> runner line (registry.ts encodeFigures), not as JSON.stringify's null
    const keep = (_k: string, v: unknown): unknown => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v);
    process.stdout.write(JSON.stringify({ machine, reps, short, results: summaries }, keep, 2) + '\n');
  } else {
    process.stdout.write(`machine: ${machine.cpus} x ${machine.model}, node ${machine.node}; ${reps} repetition(s)${short ? ', short mode' : ''}\n`);
    process.stdout.write(`${'figure'.padEnd(34)} ${'median'.padStart(14)} ${'min..max'.padStart(24)}  unit       target\n`);
    for (const s of summaries) {
      const label = `${s.bench}${s.accel ? '' : '[no-accel]'}/${s.figure}`;
      const fmt = formatFigureValue;
      const tgt = s.target ? `${s.target.op} ${s.target.value} ${s.meetsTarget ? '(met)' : '(NOT met)'}` : '';
      if (s.skipped) {
        process.stdout.write(`${label.padEnd(34)} ${'skipped'.padStart(14)} ${''.padStart(24)}  ${s.unit.padEnd(10)} ${s.note ?? ''}\n`);
        continue;
      }
      process.stdout.write(`${label.padEnd(34)} ${fmt(s.median).padStart(14)} ${`${fmt(s.min)}..${fmt(s.max)}`.padStart(24)}  ${s.unit.padEnd(10)} ${tgt}${s.note ? `  [${s.note}]` : ''}\n`);
    }
  }
  return failed ? 1 : 0;
}

main().then((c) => {
  process.exitCode = c;
});
