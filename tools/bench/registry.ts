/**
 * Benchmark registry. Each benchmark runs in a fresh process (so JIT state and heap of one
 * never colour another), performs its own warm-up, and returns named figures. The runner
 * repeats it and reports the median and the spread (min..max).
 */
export interface BenchFigure {
  name: string;
  value: number;
  unit: string;
  /** true when larger is better (throughput) */
  higherIsBetter: boolean;
  /** the project's target, when there is one (reported, never asserted) */
  target?: { op: '>=' | '<='; value: number };
  /** the figure could not be measured here (value NaN); `note` says why */
  skipped?: boolean;
  /** free-form remark printed with the figure (why skipped, what limits it, ...) */
  note?: string;
  /**
   * The figure must be the same with accelerators on and off (virtual time of a fixed
   * transfer): the runner compares it across a benchmark's accelerator modes and fails on a
   * difference.
   */
  sameInAllModes?: boolean;
}

/** A figure that could not be measured on this machine (reported with the reason). */
export function skippedFigure(name: string, unit: string, note: string, target?: BenchFigure['target']): BenchFigure {
  return { name, value: NaN, unit, higherIsBetter: true, skipped: true, note, ...(target ? { target } : {}) };
}

export interface BenchContext {
  short: boolean;
  /**
   * Accelerators on in this run (emulator/accel.ts ACCEL_DEFAULT of the child process: the
   * runner starts a benchmark with `modes` once per mode, with VFIO_ARM_EMU_ACCEL set).
   */
  accel: boolean;
}

export interface Benchmark {
  name: string;
  description: string;
  run(ctx: BenchContext): BenchFigure[] | Promise<BenchFigure[]>;
  /**
   * Run once with accelerators on and once with them off (default: once, in the runner's
   * own mode). The figures of the off run are reported as `<name>[no-accel]/<figure>`.
   */
  accelModes?: boolean;
}

const benches = new Map<string, Benchmark>();

export function registerBench(b: Benchmark): void {
  benches.set(b.name, b);
}

export function listBenches(): Benchmark[] {
  return [...benches.values()];
}

export function getBench(name: string): Benchmark | undefined {
  return benches.get(name);
}

/**
 * The child -> runner line of figures. JSON has no Infinity or NaN (JSON.stringify writes
 * null), yet figures can be non-finite: a skipped figure is NaN, and a guided/random ratio
 * whose random side never hit is Infinity. Non-finite values travel as the strings
 * "Infinity", "-Infinity" and "NaN" and are numbers again after decodeFigures.
 */
export function encodeFigures(figs: readonly BenchFigure[]): string {
  return JSON.stringify(figs.map((f) => (Number.isFinite(f.value) ? f : { ...f, value: String(f.value) })));
}

export function decodeFigures(line: string): BenchFigure[] {
  const raw = JSON.parse(line) as unknown;
  if (!Array.isArray(raw)) throw new Error(`bench: child printed ${line.slice(0, 80)}, not a list of figures`);
  return raw.map((f: BenchFigure | (Omit<BenchFigure, 'value'> & { value: unknown })) => {
    const v = f.value;
    if (typeof v === 'number') return f as BenchFigure;
    if (v === 'Infinity' || v === '-Infinity' || v === 'NaN') return { ...f, value: Number(v) } as BenchFigure;
    throw new Error(`bench: figure ${String(f.name)} has value ${JSON.stringify(v)}`);
  });
}

/** A figure's value in the table: non-finite values by name, never a formatting exception. */
export function formatFigureValue(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  return Math.abs(v) >= 100 ? v.toFixed(0) : v.toPrecision(4);
}

/** wall-clock helper for benchmarks (tools/ only: model code never reads a host clock) */
export function nowMs(): number {
  return performance.now();
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n === 0 ? NaN : n % 2 ? s[(n - 1) >> 1]! : (s[n / 2 - 1]! + s[n / 2]!) / 2;
}
