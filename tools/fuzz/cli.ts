/**
 * `vfio-arm-emu fuzz [--profile P] [--seed N] [--runs N | --time SECONDS] [--json] [--out DIR]
 *                    [--replay FILE [--emit-c FILE|-]] [--jobs N] [--shard i/n] [--no-suppress] [--coverage]`
 *
 * Synchronous like the rest of the CLI: with --jobs N (N > 1) this process is job 0 and
 * jobs 1..N-1 are child processes (fuzz-worker.js, V8 confined to one thread: JOB_EXEC_ARGV)
 * forked by a relay worker thread as soon as the arguments are parsed; the main thread runs
 * its slices and drains the relay's port with receiveMessageOnPort between them, then blocks
 * in Atomics.wait until the children are done (no event loop needed). See jobs.ts startWorkers.
 */
import { formatOptions, parseArgs, UsageError, type OptSpec } from '../cli/args.js';
import type { CliIo } from '../cli/main.js';
import { runProgram, type FindingReport } from './engine.js';
import { availableParallelism } from 'node:os';
import { DEFAULT_SUPPRESSIONS } from './harness.js';
import { FD_IOCTLS } from './program.js';
import { CONTAINER_IOMMUFD_IOCTLS } from './program-iommufd.js';
import { FINDING_FORMAT, SchemaError, validateFindingFile, type FindingFile } from './schema.js';
import { cliProfile } from '../cli/profile-arg.js';
import { InputError, mkdirs } from '../cli/outputs.js';
import { COVERAGE_SLICE_RUNS, runSlice, shardSlices, sliceCount, SliceMerger, sliceRuns, SLICE_RUNS, type Merged, type SliceResult } from './slices.js';
import { branchReport, covRuntime } from './coverage/runtime.js';
import { defaultWorkerFile, startWorkers } from './jobs.js';
import { EmitError, emitFinding } from './emit-c.js';
import { BaselineError, loadBaseline, matchBaseline, type BaselineEntry, type FuzzBaseline } from './baseline.js';

/** the `schema` field of `fuzz --json` (docs/schemas/fuzz.schema.json) */
export const FUZZ_JSON_SCHEMA = 'vfio-arm-emu/fuzz/1';
/** the `schema` field of `fuzz --replay --json` (docs/schemas/fuzz-replay.schema.json) */
export const FUZZ_REPLAY_JSON_SCHEMA = 'vfio-arm-emu/fuzz-replay/1';

/**
 * Most worker threads a campaign may ask for. Each worker boots its own machine (tens of MB);
 * beyond the host's CPUs they only compete, so the campaign runs min(--jobs, CPUs) workers
 * (slices are merged in slice order: the findings do not depend on the worker count).
 */
export const MAX_JOBS = 64;

export const FUZZ_OPTS: Record<string, OptSpec> = {
  profile: { type: 'string', metavar: 'P', help: 'kernel profile: rfc-v4 (default), mainline, baseline, patches:<list>' },
  seed: { type: 'int', min: 0, help: 'campaign seed (default 1)' },
  runs: { type: 'int', min: 1, help: 'fast-check runs, each from the post-boot snapshot (default 200)' },
  time: { type: 'int', min: 1, metavar: 'SECONDS', help: 'run slices until this much host time has passed (instead of --runs)' },
  json: { type: 'bool', help: 'print one JSON object' },
  out: { type: 'string', metavar: 'DIR', help: 'directory for finding files, each written when its slice ends (default fuzz-findings)' },
  replay: { type: 'string', metavar: 'FILE', help: 'replay one finding file and print its calls as C' },
  jobs: { type: 'int', min: 1, max: MAX_JOBS, help: `parallel jobs (this process and N-1 child processes), 1-${MAX_JOBS}; at most one per host CPU runs (default 1)` },
  shard: { type: 'string', metavar: 'i/n', help: 'run only shard i of n (0-based) of the slices' },
  'no-suppress': { type: 'bool', help: `also report suppressed signatures (${DEFAULT_SUPPRESSIONS.join(', ')})` },
  baseline: { type: 'string', metavar: 'FILE', help: 'known findings per profile (default: the committed tools/fuzz/baseline.json)' },
  'no-baseline': { type: 'bool', help: 'no known findings: every finding fails the campaign (exit 1)' },
  'emit-c': { type: 'string', metavar: 'FILE', help: 'with --replay: write the finding as a standalone C reproducer to FILE (- for stdout; docs/FUZZING.md)' },
  coverage: { type: 'bool', help: `coverage-guided: a corpus of runs that reached new branches, mutated (coverage build: node dist/cov/fuzz-cov.js; slices of ${COVERAGE_SLICE_RUNS} runs)` },
};

export function fuzzUsage(): string {
  return `usage: vfio-arm-emu fuzz [options]\n\n${formatOptions(FUZZ_OPTS)}\n\nexit status: 0 no finding or only known ones (the baseline; replay: the finding no longer reproduces), 1 a new finding (replay: reproduced), 2 usage error; --replay with --emit-c: 0 once the C program is written.\ndocs: docs/FUZZING.md\n`;
}

export interface FuzzHost {
  mkdir?: (dir: string) => void;
  /** the bundled worker (default: fuzz-worker.js next to this module, when it exists) */
  workerFile?: string | null;
  /** host clock in ms (tests) */
  now?: () => number;
  /** host CPUs (default os.availableParallelism(); tests) */
  cpus?: number;
}

export { FINDING_FORMAT, type FindingFile } from './schema.js';


export function runFuzzCommand(argv: readonly string[], io: CliIo, host: FuzzHost = {}): number {
  const { positionals, opts } = parseArgs(argv, FUZZ_OPTS);
  if (positionals.length) throw new UsageError(`fuzz: unexpected argument '${positionals[0]}'`);
  if (opts.replay !== undefined) {
    for (const k of ['runs', 'time', 'jobs', 'shard', 'seed', 'baseline', 'no-baseline']) if (opts[k] !== undefined) throw new UsageError(`fuzz: --replay cannot be combined with --${k}`);
    const emit = opts['emit-c'] === undefined ? undefined : String(opts['emit-c']);
    if (emit === '-' && opts.json) throw new UsageError('fuzz: --emit-c - and --json both write to stdout: give --emit-c a file');
    return replay(String(opts.replay), io, Boolean(opts.json), emit);
  }
  if (opts['emit-c'] !== undefined) throw new UsageError('fuzz: --emit-c needs --replay FILE (a campaign with --out writes a .c next to every finding file)');
  if (opts.runs !== undefined && opts.time !== undefined) throw new UsageError('fuzz: give --runs or --time, not both');
  if (opts.baseline !== undefined && opts['no-baseline']) throw new UsageError('fuzz: give --baseline FILE or --no-baseline, not both');
  let baseline: FuzzBaseline | null = null;
  let baselineFile: string | null = null;
  if (!opts['no-baseline']) {
    baselineFile = opts.baseline === undefined ? 'tools/fuzz/baseline.json' : String(opts.baseline);
    let text: string | undefined;
    if (opts.baseline !== undefined) {
      try {
        text = io.readFile(baselineFile);
      } catch (e) {
        throw new InputError(`fuzz: cannot read baseline ${baselineFile}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      }
    }
    try {
      baseline = loadBaseline(text, baselineFile);
    } catch (e) {
      if (e instanceof BaselineError) throw new InputError(`fuzz: ${e.message}`);
      throw e;
    }
  }
  let profile: string;
  try {
    profile = cliProfile(String(opts.profile ?? 'rfc-v4'));
  } catch (e) {
    throw new UsageError(`fuzz: ${(e as Error).message}`);
  }
  const guided = Boolean(opts.coverage);
  if (guided && !covRuntime()) throw new UsageError('fuzz: --coverage needs the coverage build: npm run build:cov, then node dist/cov/fuzz-cov.js fuzz --coverage ...');
  const size = guided ? COVERAGE_SLICE_RUNS : SLICE_RUNS;
  const seed = Number(opts.seed ?? 1);
  const runs = Number(opts.runs ?? 200);
  const jobsAsked = Number(opts.jobs ?? 1);
  const cpus = host.cpus ?? availableParallelism();
  const jobs = Math.min(jobsAsked, Math.max(1, cpus));
  if (jobs < jobsAsked && !opts.json) io.err(`fuzz: --jobs ${jobsAsked} on a host with ${cpus} CPU(s): running ${jobs} worker(s)\n`);
  const timeMs = opts.time !== undefined ? Number(opts.time) * 1000 : undefined;
  let shard = { i: 0, n: 1 };
  if (opts.shard !== undefined) {
    const m = /^(\d+)\/(\d+)$/.exec(String(opts.shard));
    if (!m || Number(m[2]) < 1 || Number(m[1]) >= Number(m[2])) throw new UsageError(`fuzz: --shard needs i/n with 0 <= i < n, got '${String(opts.shard)}'`);
    shard = { i: Number(m[1]), n: Number(m[2]) };
  }
  const suppress = opts['no-suppress'] ? [] : [...DEFAULT_SUPPRESSIONS];
  const total = timeMs === undefined ? sliceCount(runs, size) : Number.MAX_SAFE_INTEGER;
  const mine = timeMs === undefined ? shardSlices(total, shard) : [];
  const workerFile = host.workerFile === undefined ? defaultWorkerFile() : host.workerFile;
  // --jobs N: this process is job 0 and forks N - 1 children now, before its own checks and
  // boot, so that their start-up overlaps them (docs/PERFORMANCE.md, "fuzz-jobs: the CLI
  // process as job 0"); a failed check kills them. (N children with this process only merging
  // ran 11-12% faster once warm in two rounds and 3-6% slower in three others, and slower on
  // short campaigns: docs/PERFORMANCE.md, "fuzz-jobs: the steady state")
  const workers = jobs > 1 && workerFile ? startWorkers({ workerFile, jobs, profile, seed, runs, mine, shard, timeMs, suppress, guided, inline: true }) : null;
  const outDir = String(opts.out ?? 'fuzz-findings');
  try {
    // validate the profile before any work (a bad name is a usage error)
    try {
      runProgram(profile, []);
    } catch (e) {
      throw new UsageError(`fuzz: ${(e as Error).message}`);
    }
    // the findings directory is checked before the campaign, not after it (its results would be lost)
    io.checkOutput?.(outDir, 'dir', 'fuzz --out directory');
  } catch (e) {
    workers?.abort();
    throw e;
  }
  const now = host.now ?? ((): number => performance.now());
  const t0 = now();
  const plannedRuns = mine.reduce((a, k) => a + sliceRuns(runs, k, size), 0);
  const progress = new Progress(io, timeMs === undefined ? plannedRuns : 0, timeMs);
  // merged as they arrive: nothing of a slice's result is kept but its share of the merge
  const merger = new SliceMerger(profile, seed);
  // finding files as the slices arrive: a campaign stopped early keeps what it found
  const findingFiles = new FindingFiles(io, outDir, profile, host.mkdir ?? mkdirs);
  const timeline = new Timeline();
  const onSlice = (s: SliceResult): void => {
    for (const f of merger.add(s)) findingFiles.write(f);
    const t = now() - t0;
    timeline.add(s.result.execs, t);
    progress.update(s.result.runs, s.result.findings.map((f) => f.sig), t);
  };
  if (workers) {
    workers.run(onSlice);
  } else {
    // in-process (also the fallback when running from source, where no bundled worker exists)
    if (jobs > 1 && !opts.json) io.err('fuzz: no bundled worker (dist/fuzz-worker.js): running the slices in-process\n');
    if (timeMs === undefined) for (const k of mine) onSlice(runSlice(profile, seed, k, sliceRuns(runs, k, size), suppress, guided));
    else for (let k = shard.i; now() - t0 < timeMs; k += shard.n) onSlice(runSlice(profile, seed, k, size, suppress, guided));
  }
  progress.end();
  const merged = merger.result();
  const elapsed = now() - t0;
  // every merged finding's file was written when its slice arrived (the merge keeps the same one)
  const files = merged.findings.map((f) => findingFiles.of(f.sig).file);
  const cfiles = merged.findings.map((f) => findingFiles.of(f.sig).cfile);
  const base = matchBaseline(baseline, profile, merged.findings.map((f) => f.sig));
  const bl = { file: baselineFile, known: base.known, fresh: base.fresh };
  if (opts.json) io.out(JSON.stringify(summaryJson(merged, elapsed, files, shard, jobs, bl, cfiles, guided, timeline.points)) + '\n');
  else io.out(summaryText(merged, elapsed, files, shard, jobs, bl, cfiles, guided));
  return base.fresh.length ? 1 : 0;
}

/**
 * Finding files written as the slice results arrive, not at the end of the campaign: one stopped
 * early (a CI job's time limit, Ctrl-C, a killed runner) keeps every finding of the slices that
 * ended, as libFuzzer writes a crash file at once. The CLI writes each finding the merge chooses
 * as it chooses it (SliceMerger.add); a signature's files are rewritten when a lower slice shows
 * it later (with --jobs, slices arrive out of order), so the files at the end are the merged
 * findings'.
 */
export class FindingFiles {
  private readonly bySig = new Map<string, { file: string | null; cfile: string | null }>();
  private dirMade = false;
  constructor(
    private readonly io: CliIo,
    private readonly outDir: string,
    private readonly profile: string,
    private readonly mkdir: (dir: string) => void,
  ) {}

  /**
   * A file that cannot be written (the disk filled up, the directory went away: it was checked
   * before the campaign) does not end the campaign: a note on stderr, and the finding stays in
   * the summary with no file (`file: null`); a later choice for the signature tries again.
   */
  write(f: FindingReport): void {
    const file = `${this.outDir}/${this.profile.replace(/[^A-Za-z0-9.-]/g, '_')}-${f.sig.replace(/[^A-Za-z0-9.-]/g, '_')}.json`;
    try {
      if (!this.dirMade) this.mkdir(this.outDir);
      this.dirMade = true;
      this.io.writeFile(file, JSON.stringify(toFile(f), null, 1) + '\n');
      this.bySig.set(f.sig, { file, cfile: writeReproducer(f, file, this.io) });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (typeof code !== 'string') throw e;
      this.io.err(`fuzz: cannot write finding file ${file}: ${code}; the finding stays in the summary\n`);
      this.bySig.set(f.sig, { file: null, cfile: null });
    }
  }

  of(sig: string): { file: string | null; cfile: string | null } {
    const e = this.bySig.get(sig);
    if (e === undefined) throw new Error(`fuzz: no finding file for ${sig}`);
    return e;
  }
}

/** the signatures a replay of `file` suppresses: the file's `suppressed` list, its own signature excepted */
export function replaySuppressed(file: { sig: string; suppressed?: readonly string[] }): Set<string> {
  return new Set((file.suppressed ?? []).filter((s) => s !== file.sig));
}

function toFile(f: FindingReport): FindingFile {
  return { format: FINDING_FORMAT, version: 1, profile: f.profile, sig: f.sig, message: f.message, seed: f.seed, program: f.program, transcript: f.transcript, ...(f.suppressed && f.suppressed.length > 0 ? { suppressed: f.suppressed } : {}) };
}

/** the C reproducer next to a finding file (`x.json` -> `x.c`); null when the program cannot be expressed (a note on stderr) */
function writeReproducer(f: FindingReport, file: string, io: CliIo): string | null {
  try {
    const r = emitFinding(f, file);
    const cfile = file.replace(/\.json$/, '') + '.c';
    io.writeFile(cfile, r.c);
    return cfile;
  } catch (e) {
    if (!(e instanceof EmitError)) throw e;
    io.err(`fuzz: no C reproducer for ${file}: ${e.message}\n`);
    return null;
  }
}

function replay(path: string, io: CliIo, json: boolean, emit?: string): number {
  let text: string;
  try {
    text = io.readFile(path);
  } catch (e) {
    throw new InputError(`fuzz: cannot read finding file ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  let file: FindingFile;
  try {
    file = validateFindingFile(JSON.parse(text));
    cliProfile(file.profile);
  } catch (e) {
    // not JSON, not a finding file (SchemaError names the field), an unknown profile
    if (e instanceof SyntaxError) throw new InputError(`fuzz: ${path}: not JSON (${e.message})`);
    if (e instanceof SchemaError || e instanceof Error) throw new InputError(`fuzz: ${path}: ${e.message}`);
    throw e;
  }
  if (emit !== undefined) {
    // the C reproducer (tools/fuzz/emit-c.ts): exit 0 once written; `-`: the program alone on stdout
    let c: string;
    try {
      c = emitFinding(file, path).c;
    } catch (e) {
      if (e instanceof EmitError) throw new InputError(`fuzz: ${path}: ${e.message}`);
      throw e;
    }
    if (emit === '-') {
      io.out(c);
      return 0;
    }
    io.writeFile(emit, c);
  }
  // what the campaign suppressed when it confirmed the finding is suppressed again (its own signature excepted)
  const { finding, harness } = runProgram(file.profile, file.program, { transcript: true, ignore: replaySuppressed(file) });
  const same = finding !== null && finding.sig === file.sig;
  if (json) {
    io.out(JSON.stringify({ schema: FUZZ_REPLAY_JSON_SCHEMA, file: path, profile: file.profile, expected: file.sig, reproduced: same, finding, calls: harness.transcript, ...(emit !== undefined ? { reproducer: emit } : {}) }) + '\n');
  } else {
    io.out(`/* replay of ${path}: profile ${file.profile}, expected ${file.sig} */\n`);
    for (const t of harness.transcript) io.out(`${t.line}  /* = ${t.ret} */\n`);
    if (finding) io.out(`\n${same ? 'REPRODUCED' : 'DIFFERENT FINDING'}: ${finding.sig}\n  ${finding.message}\n`);
    else io.out(`\nnot reproduced: the program ran clean on ${file.profile}\n`);
    if (emit !== undefined) io.out(`C reproducer: ${emit}\n`);
  }
  return emit !== undefined ? 0 : finding ? 1 : 0;
}

// ------------------------------------------------------------------ output

export class Progress {
  private runs = 0;
  private findings = 0;
  /** distinct signatures so far: what a user wants to see (thousands of raw findings are a few bugs) */
  private readonly unique = new Set<string>();
  private lastPct = -1;
  constructor(
    private readonly io: CliIo,
    private readonly total: number,
    private readonly timeMs: number | undefined,
  ) {}
  update(runs: number, sigs: readonly string[], elapsed: number): void {
    this.runs += runs;
    this.findings += sigs.length;
    for (const s of sigs) this.unique.add(s);
    const frac = this.timeMs !== undefined ? Math.min(1, elapsed / this.timeMs) : this.total ? this.runs / this.total : 1;
    const pct = Math.floor(frac * 100);
    if (this.io.errIsTTY === true) {
      const w = 30;
      const bar = '#'.repeat(Math.round(frac * w)).padEnd(w, '.');
      this.io.err(`\r[${bar}] ${pct}% ${this.runs} runs, ${this.unique.size} unique findings`);
    } else if (pct >= this.lastPct + 10 || (pct === 100 && this.lastPct < 100)) {
      // one line per 10%, and 100% once (slices finishing after --time ran out add no line)
      this.lastPct = pct;
      this.io.err(`fuzz: ${pct}% (${this.runs} runs, ${this.unique.size} unique findings so far)\n`);
    }
  }
  end(): void {
    if (this.io.errIsTTY === true) this.io.err('\n');
  }
}

/** the ioctl x result table: one row per ioctl of the container, group, device (and iommufd and fault) fds */
export function coverageRows(cov: Record<string, string[]>): { fd: string; call: string; ok: boolean; errors: string[] }[] {
  const rows = [];
  // the iommufd and fault rows only where /dev/iommu exists (mainline profiles)
  const iommufd = Object.keys(cov).some((k) => k.startsWith('iommufd:'));
  const dirty = cov['container:VFIO_IOMMU_DIRTY_PAGES'] !== undefined;
  for (const fd of ['container', 'group', 'device', ...(iommufd ? (['iommufd', 'fault'] as const) : [])] as const) {
    // with /dev/iommu the container's row also has the iommufd requests drawn on it (the compat container's IOAS)
    // VFIO_IOMMU_DIRTY_PAGES where it was drawn (profiles whose type1 has it: arb.ts dirtyPagesOf)
    const extra = fd !== 'container' ? [] : [...(iommufd ? CONTAINER_IOMMUFD_IOCTLS : []), ...(dirty ? ['VFIO_IOMMU_DIRTY_PAGES'] : [])];
    for (const call of extra.length ? [...FD_IOCTLS[fd], ...extra] : FD_IOCTLS[fd]) {
      const r = cov[`${fd}:${call}`] ?? [];
      rows.push({ fd, call, ok: r.includes('ok'), errors: r.filter((x) => x !== 'ok') });
    }
  }
  return rows;
}

interface BaselineUse {
  file: string | null;
  known: Map<string, BaselineEntry>;
  fresh: string[];
}

/**
 * The campaign's syscalls over host time, for --json's `timeline`: [ms, syscalls so far] at
 * the first slice result that arrives in each host second (results arrive as their slices
 * end, from every job), so the rate of any stretch of a campaign can be read off it, e.g.
 * once every job's JIT has warmed up (tools/bench/fuzz.ts, fuzz-jobs). One point per second:
 * a --time 600 campaign has at most ~600.
 */
export class Timeline {
  readonly points: [number, number][] = [];
  private execs = 0;
  private next = 0;
  add(execs: number, ms: number): void {
    this.execs += execs;
    if (ms < this.next) return;
    this.points.push([Math.round(ms), this.execs]);
    this.next = (Math.floor(ms / 1000) + 1) * 1000;
  }
}

function summaryJson(m: Merged, elapsed: number, files: (string | null)[], shard: { i: number; n: number }, jobs: number, bl: BaselineUse, cfiles: (string | null)[] = [], guided = false, timeline: [number, number][] = []): object {
  const rt = covRuntime();
  return {
    schema: FUZZ_JSON_SCHEMA,
    profile: m.profile,
    seed: m.seed,
    shard: `${shard.i}/${shard.n}`,
    jobs,
    runs: m.runs,
    slices: m.slices.length,
    execs: m.execs,
    elapsedMs: Math.round(elapsed),
    execsPerSec: Math.round(m.execs / Math.max(elapsed / 1000, 1e-3)),
    timeline,
    // the CLI process's peak resident set (job 0 and the merge; the children are separate processes)
    peakRssMb: Math.round(process.resourceUsage().maxRSS / 102.4) / 10,
    findings: m.findings.map((f, i) => ({ sig: f.sig, known: bl.known.has(f.sig), message: f.message, seed: f.seed, file: files[i] ?? null, reproducer: cfiles[i] ?? null, calls: f.transcript.map((t) => `${t.line}  /* = ${t.ret} */`) })),
    baseline: { file: bl.file, known: [...bl.known.keys()], new: bl.fresh },
    coverage: coverageRows(m.coverage),
    // the coverage build only: branch sites reached, per file (merged by .ci/fuzz-merge.mjs)
    ...(rt && m.branches ? { guided, branches: branchReport(rt, m.branches) } : {}),
  };
}

function summaryText(m: Merged, elapsed: number, files: (string | null)[], shard: { i: number; n: number }, jobs: number, bl: BaselineUse, cfiles: (string | null)[] = [], guided = false): string {
  const L: string[] = [];
  const secs = elapsed / 1000;
  L.push(`fuzz ${m.profile}: seed ${m.seed}, shard ${shard.i}/${shard.n}, ${jobs} job(s): ${m.runs} runs (${m.slices.length} slices), ${m.execs} syscalls in ${secs.toFixed(1)} s = ${Math.round(m.execs / Math.max(secs, 1e-3))} execs/s`);
  const rt = covRuntime();
  if (rt && m.branches) {
    const b = branchReport(rt, m.branches);
    L.push(`branch coverage (${guided ? 'coverage-guided' : 'random'}): kernel-model ${b.kernelModel.covered}/${b.kernelModel.total}, all instrumented ${b.covered}/${b.total} (per file: --json)`);
  }
  L.push('');
  if (m.findings.length === 0) L.push('no findings');
  m.findings.forEach((f, i) => {
    const k = bl.known.get(f.sig);
    L.push(`finding ${i + 1}: ${f.sig} [${k ? 'known' : 'NEW'}]${files[i] ? `  (${files[i]})` : ''}`);
    L.push(`  ${f.message}`);
    if (k) L.push(`  known (${bl.file}): ${k.why}`);
    if (cfiles[i]) L.push(`  C reproducer: ${cfiles[i]}`);
    L.push('  shrunk reproducer:');
    for (const t of f.transcript) L.push(`    ${t.line}  /* = ${t.ret} */`);
    L.push('');
  });
  if (m.findings.length) {
    L.push(bl.file === null
      ? `${m.findings.length} finding(s), no baseline (--no-baseline): all count as new`
      : `${bl.known.size} known finding(s) (baseline ${bl.file}), ${bl.fresh.length} new${bl.fresh.length ? `: ${bl.fresh.join(', ')}` : ''}`);
  }
  L.push('');
  L.push('coverage (ioctl x result):');
  L.push(`  ${'fd'.padEnd(10)} ${'call'.padEnd(28)} ${'ok'.padEnd(4)} errors`);
  for (const r of coverageRows(m.coverage)) L.push(`  ${r.fd.padEnd(10)} ${r.call.padEnd(28)} ${(r.ok ? 'yes' : '-').padEnd(4)} ${r.errors.join(' ') || '-'}`);
  return L.join('\n') + '\n';
}
