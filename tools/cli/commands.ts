/**
 * The commands run, list, matrix and trace (tools/cli/main.ts imports this module only when
 * one of them runs: `--version`, `--help` and usage errors never load the emulator). The
 * Unicorn backend is imported only for `run --cpu unicorn`, esbuild only for a scenario file.
 */
import { parseArgs, UsageError } from './args.js';
import '../scenarios/index.js';
import { computeMatrix, formatMatrix } from '../scenarios/matrix.js';
import { getScenario, listScenarios, type Scenario, type ScenarioOptions, type ScenarioResult } from '../scenarios/registry.js';
import { oneLine, readTraceFile, summarizeTrace, summaryLines, toJson, toJunit, MATRIX_JSON_SCHEMA, RUN_UNICORN_JSON_SCHEMA } from './report.js';
import { DtsError } from '../../emulator/dt/types.js';
import { BoardError } from '../../emulator/machine.js';
import type { TraceExports } from '../../emulator/trace.js';
import { KernelBootError } from '../../kernel-model/kernel.js';
import { cmdlineQuotingError } from '../../kernel-model/base/params.js';
import { InputError } from './outputs.js';
import { cliProfile } from './profile-arg.js';
import { defaultProfileFor, definedForProfile } from '../scenarios/registry.js';
import type { CliIo, CommandsCommand } from './main.js';
import { handleError, MATRIX_OPTS, RUN_OPTS } from './specs.js';
import { isScenarioPath, loadScenarioFile } from './scenario-file.js';
import { mmioTracer } from './mmio-trace.js';

/**
 * The dispatcher's entry (main.ts, CommandsModule): run one of this module's commands and
 * report its usage and input errors here, with this module's error classes (specs.ts,
 * handleError, says why).
 */
export async function runCommand(cmd: CommandsCommand, argv: readonly string[], io: CliIo): Promise<number> {
  try {
    switch (cmd) {
      case 'list':
        return cmdList(argv, io);
      case 'run':
        return await cmdRun(argv, io);
      case 'matrix':
        return cmdMatrix(argv, io);
      case 'trace':
        return cmdTrace(argv, io);
    }
  } catch (e) {
    return handleError(e, io, cmd);
  }
}

/** a host file-system error (ENOENT, EISDIR, EACCES, ...) from fs calls on a user-given path */
function isFsError(e: unknown): e is NodeJS.ErrnoException {
  return e instanceof Error && typeof (e as NodeJS.ErrnoException).code === 'string' && typeof (e as NodeJS.ErrnoException).syscall === 'string';
}

/** write an output file named on the command line; failure is a clear input error (exit 2) */
function writeOutput(io: CliIo, path: string, data: string | Iterable<string>, what: string): void {
  try {
    io.writeFile(path, data);
  } catch (e) {
    throw new InputError(`cannot write ${what} ${path}: ${isFsError(e) ? e.code : (e as Error).message}`);
  }
}

/** `--trace FILE`: in pieces when the result offers them (a scenario file's may have only the string exports); a warning when the cap on kept events dropped some */
function writeTraceFile(io: CliIo, path: string, fmt: 'perfetto' | 'jsonl', r: Partial<TraceExports>): void {
  const file = r.traceFile?.(fmt);
  writeOutput(io, path, file?.chunks ?? (fmt === 'jsonl' ? r.traceJsonLines?.() : r.tracePerfetto?.()) ?? '', 'trace file');
  if (file?.truncated) io.err(`vfio-arm-emu: warning: trace file ${path}: ${file.truncated}\n`);
}

/** errors caused by a bad board (file missing/unreadable/malformed, or unusable by the kernel model) */
function isBoardError(e: unknown): e is Error {
  return e instanceof DtsError || e instanceof BoardError || e instanceof KernelBootError;
}

export function cmdList(argv: readonly string[], io: CliIo): number {
  const { positionals } = parseArgs(argv, {});
  if (positionals.length) throw new UsageError(`list: unexpected argument '${positionals[0]}'`);
  for (const s of listScenarios()) io.out(`${s.name.padEnd(22)} ${s.description}\n    profiles: ${(s.profiles ?? ['all']).join(', ')}\n`);
  return 0;
}

/** a scenario's options from the parsed CLI options (validated) */
/** --bootargs: a command line whose quoting the kernel would misread is a usage error */
function bootargsOption(opts: Record<string, unknown>): { bootargs?: string } {
  const b = opts['bootargs'] as string | undefined;
  if (b === undefined) return {};
  const q = cmdlineQuotingError(b);
  if (q !== null) throw new UsageError(`--bootargs: ${q}`);
  return { bootargs: b };
}

function scenarioOptions(opts: Record<string, unknown>, defaultProfile = 'rfc-v4'): { profile: string; board: string; seed: number; size?: number; transfers?: number; channel?: number; accel?: boolean; bootargs?: string } {
  const profile = cliProfile((opts['profile'] as string | undefined) ?? defaultProfile); // ProfileError -> usage error, exit 2
  const size = opts['size'] as number | undefined;
  if (size !== undefined && size % 256 !== 0) throw new UsageError(`--size must be a multiple of 256 bytes (one 16 x 16-byte burst), got ${size}`);
  if (size !== undefined && size > 32 * 1024 * 1024) throw new UsageError(`--size at most 32M, got ${size}`);
  const transfers = opts['transfers'] as number | undefined;
  // each transfer waits for its interrupt within the run's 5 s of virtual time
  // the virtual-time budget scales with size x transfers (tools/scenarios/pl330.ts pl330BudgetNs)
  if (transfers !== undefined && transfers > 10_000) throw new UsageError(`--transfers at most 10000, got ${transfers}`);
  const channel = opts['channel'] as number | undefined;
  // the channel's completion event is its number; the default board wires event interrupts 0-3
  if (channel !== undefined && channel > 3) throw new UsageError(`--channel must be 0-3 (the board wires the PL330 event interrupts 0-3), got ${channel}`);
  return {
    profile,
    board: (opts['board'] as string | undefined) ?? 'vexpress-vfio',
    seed: (opts['seed'] as number | undefined) ?? 1,
    size,
    transfers: opts['transfers'] as number | undefined,
    channel,
    // --no-accel: machine option accel false; without it the default (on unless VFIO_ARM_EMU_ACCEL=0)
    ...(opts['no-accel'] === true ? { accel: false } : {}),
    ...bootargsOption(opts),
  };
}

/** output files named by --trace / --junit are checked before the run (tools/cli/outputs.ts) */
function checkOutputs(io: CliIo, opts: Record<string, unknown>): void {
  if (typeof opts['trace'] === 'string') io.checkOutput?.(opts['trace'], 'file', 'trace file');
  if (typeof opts['junit'] === 'string') io.checkOutput?.(opts['junit'], 'file', 'JUnit report');
  if (typeof opts['trace-mmio'] === 'string' && opts['trace-mmio'] !== '-') io.checkOutput?.(opts['trace-mmio'], 'file', 'MMIO trace');
}

export async function cmdRun(argv: readonly string[], io: CliIo): Promise<number> {
  const { positionals, opts } = parseArgs(argv, RUN_OPTS);
  // '-' would be a file named '-' (stdout carries the summary): refused, as fuzz refuses --emit-c - with --json
  for (const k of ['trace', 'junit'] as const) if (opts[k] === '-') throw new UsageError(`--${k} -: give a file name (stdout carries the run's summary; only --trace-mmio takes -, for stderr)`);
  if (opts['cpu'] !== 'unicorn' && (opts['insn-limit'] !== undefined || opts['time-limit'] !== undefined)) throw new UsageError('--insn-limit and --time-limit need --cpu unicorn');
  if (opts['rootfs'] !== undefined && (opts['cpu'] !== 'unicorn' || (opts['elf'] === undefined && opts['sh'] === undefined))) throw new UsageError('--rootfs needs --cpu unicorn --elf or --sh');
  if (opts['cross-libc'] === true && (opts['cpu'] !== 'unicorn' || opts['elf'] === undefined)) throw new UsageError('--cross-libc needs --cpu unicorn --elf');
  if (opts['sh'] !== undefined && opts['cpu'] !== 'unicorn') throw new UsageError('--sh needs --cpu unicorn');
  if (opts['cpu'] === 'unicorn') {
    if (opts['trace-mmio'] !== undefined) throw new UsageError('--trace-mmio is not available with --cpu unicorn');
    return cmdRunUnicorn(positionals, opts, io);
  }
  if (opts['elf'] !== undefined || opts['args'] !== undefined) throw new UsageError('--elf and --args need --cpu unicorn');
  if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'run: missing scenario name' : `run: one scenario at a time (got ${positionals.join(', ')})`);
  const arg = positionals[0]!;
  // a scenario file (./my-scenario.ts, .mjs): same options, summary, JSON, JUnit and exit rules
  const sc: Scenario | undefined = isScenarioPath(arg) ? await loadScenarioFile(arg) : getScenario(arg);
  if (!sc) throw new UsageError(`unknown scenario '${arg}' (see 'vfio-arm-emu list'; a scenario file needs a path such as ./${arg}.ts)`);
  const name = sc.name;
  if (opts['trace-format'] !== undefined && opts['trace'] === undefined) throw new UsageError('--trace-format needs --trace FILE');
  for (const k of ['board', 'size', 'transfers', 'channel'] as const) {
    if (opts[k] !== undefined && !sc.accepts.includes(k)) {
      throw new UsageError(`scenario ${name} does not take --${k} (it takes: ${sc.accepts.length ? sc.accepts.map((a) => `--${a}`).join(', ') : 'only --profile and --seed'})`);
    }
  }
  // a scenario whose expected outcome is defined for some profiles only refuses the others
  const so = scenarioOptions(opts, defaultProfileFor(sc));
  if (!definedForProfile(sc, so.profile)) {
    throw new UsageError(`scenario ${name} is defined for profile${sc.profiles!.length > 1 ? 's' : ''} ${sc.profiles!.join(', ')} only (its expected outcome is not computed for ${so.profile})`);
  }
  checkOutputs(io, opts);
  const mmio = typeof opts['trace-mmio'] === 'string' ? mmioTracer(opts['trace-mmio'], io) : null;
  let r: ScenarioResult;
  try {
    // --trace FILE: the events are kept for the file (fault-storm does not keep them otherwise);
    // the run's result is the same either way (System.tally)
    const ro = typeof opts['trace'] === 'string' ? { ...so, trace: { enabled: true, keep: true } } : so;
    r = sc.run(mmio ? { ...ro, onMachine: mmio.attach } : ro);
  } catch (e) {
    if (isBoardError(e)) throw new InputError(e.message);
    throw e;
  }
  if (typeof opts['trace'] === 'string') {
    writeTraceFile(io, opts['trace'], (opts['trace-format'] as string | undefined) === 'jsonl' ? 'jsonl' : 'perfetto', r);
  }
  if (typeof opts['junit'] === 'string') writeOutput(io, opts['junit'], toJunit([r]), 'JUnit report');
  if (mmio) mmio.finish((p, d) => writeOutput(io, p, d, 'MMIO trace'));
  if (opts['json']) io.out(JSON.stringify(toJson(r), null, 2) + '\n');
  else if (opts['quiet']) io.out(oneLine(r) + '\n');
  else io.out([...r.output, '', ...summaryLines(r)].join('\n') + '\n');
  return r.passed ? 0 : 1;
}

export function cmdMatrix(argv: readonly string[], io: CliIo): number {
  const { positionals, opts } = parseArgs(argv, MATRIX_OPTS);
  if (positionals.length) throw new UsageError(`matrix: unexpected argument '${positionals[0]}'`);
  const rows = computeMatrix((opts['seed'] as number | undefined) ?? 1, opts['no-accel'] === true ? false : undefined, bootargsOption(opts).bootargs);
  if (opts['json']) io.out(JSON.stringify({ schema: MATRIX_JSON_SCHEMA, rows, matchesExpected: rows.every((r) => r.matches) }, null, 2) + '\n');
  else io.out(formatMatrix(rows) + `\n\n${rows.every((r) => r.matches) ? 'every row matches the expected matrix' : 'MISMATCH with the expected matrix'}\n`);
  return rows.every((r) => r.matches) ? 0 : 1;
}

export function cmdTrace(argv: readonly string[], io: CliIo): number {
  const { positionals } = parseArgs(argv, {});
  const [sub, file, ...more] = positionals;
  if (sub !== 'summarize') throw new UsageError(sub === undefined ? 'trace: missing subcommand (summarize)' : `trace: unknown subcommand '${sub}'`);
  if (file === undefined || more.length) throw new UsageError('trace summarize: give exactly one trace file');
  let text: string;
  try {
    text = io.readFile(file);
  } catch (e) {
    io.err(`vfio-arm-emu: cannot read ${file}: ${(e as Error).message}\n`);
    return 2;
  }
  if (text.trim() === '') {
    io.err(`vfio-arm-emu: ${file}: empty file (not a trace written by run --trace)\n`);
    return 2;
  }
  let parsed;
  try {
    parsed = readTraceFile(text);
  } catch (e) {
    io.err(`vfio-arm-emu: ${file}: ${(e as Error).message}\n`);
    return 2;
  }
  io.out([`${file} (${parsed.format})`, ...summarizeTrace(parsed.events)].join('\n') + '\n');
  return 0;
}

/** run on the Unicorn backend: an ELF given with --elf, or the C port of pl330-vfio-test */
async function cmdRunUnicorn(positionals: string[], opts: Record<string, unknown>, io: CliIo): Promise<number> {
  const { formatUnicornRun, runElf, runPl330IommufdUnicorn, runPl330VfioTestUnicorn, runShScript } = await import('../unicorn/run.js');
  const { CROSS_LIBC_DIR } = await import('../unicorn/rootfs.js');
  const { UnicornUnavailableError } = await import('../../emulator/cpu/unicorn/native.js');
  const { ElfError } = await import('../../emulator/cpu/unicorn/elf.js');
  const elf = opts['elf'] as string | undefined;
  const sh = opts['sh'] as string | undefined;
  if (sh !== undefined && (elf !== undefined || positionals.length)) throw new UsageError('run --cpu unicorn --sh: no --elf or scenario name with a script');
  if (sh === undefined && elf === undefined && positionals.length === 0) throw new UsageError('run --cpu unicorn: give --elf FILE or the scenario pl330-vfio-test');
  if (elf !== undefined && positionals.length) throw new UsageError(`run --cpu unicorn --elf: no scenario name expected (got ${positionals.join(', ')})`);
  if (sh === undefined && elf === undefined && (positionals.length !== 1 || (positionals[0] !== 'pl330-vfio-test' && positionals[0] !== 'pl330-vfio-test-iommufd'))) {
    throw new UsageError(`run --cpu unicorn: only pl330-vfio-test and pl330-vfio-test-iommufd have a C port (got ${positionals.join(', ')})`);
  }
  for (const k of ['size', 'transfers', 'channel', 'junit']) if (opts[k] !== undefined) throw new UsageError(`--${k} is not available with --cpu unicorn`);
  // the cdev + iommufd port is a mainline program (as its scenario, defined for mainline only)
  const so = scenarioOptions(opts, positionals[0] === 'pl330-vfio-test-iommufd' ? 'mainline' : 'rfc-v4');
  checkOutputs(io, opts);
  const limits = {
    maxInstructions: opts['insn-limit'] as number | undefined,
    maxNs: opts['time-limit'] === undefined ? undefined : (opts['time-limit'] as number) * 1_000_000,
    // a heartbeat on stderr, only when it is a terminal (never in logs or pipes)
    onProgress: io.errIsTTY ? (p: { virtualNs: number; instructions: number }) => io.err(`\r[running: ${(p.virtualNs / 1e9).toFixed(3)} s virtual, ${(p.instructions / 1e6).toFixed(1)} M instructions]`) : undefined,
  };
  let r: import('../unicorn/run.js').UnicornRunResult & { passed?: boolean };
  try {
    r = sh !== undefined
      ? runShScript({ script: sh, args: (opts['args'] as string[] | undefined) ?? [], rootfs: (opts['rootfs'] as string | undefined) ?? null, profile: so.profile, board: so.board, seed: so.seed, keepTrace: opts['trace'] !== undefined, accel: so.accel, bootargs: so.bootargs, ...limits })
      : elf !== undefined
      ? runElf({ elf, args: (opts['args'] as string[] | undefined) ?? [], rootfs: (opts['rootfs'] as string | undefined) ?? null, crossLibc: opts['cross-libc'] === true ? CROSS_LIBC_DIR : null, profile: so.profile, board: so.board, seed: so.seed, keepTrace: opts['trace'] !== undefined, accel: so.accel, bootargs: so.bootargs, ...limits })
      : positionals[0] === 'pl330-vfio-test-iommufd'
      ? runPl330IommufdUnicorn({ profile: so.profile, board: so.board, seed: so.seed, keepTrace: opts['trace'] !== undefined, accel: so.accel, bootargs: so.bootargs, ...limits })
      : runPl330VfioTestUnicorn({ profile: so.profile, board: so.board, seed: so.seed, keepTrace: opts['trace'] !== undefined, accel: so.accel, bootargs: so.bootargs, ...limits });
    if (io.errIsTTY) io.err('\r\x1b[K');
  } catch (e) {
    if (e instanceof UnicornUnavailableError || isBoardError(e)) throw new InputError(e.message);
    if (e instanceof ElfError) {
      // a dynamically linked program without its loader in the guest: say how to give it one
      const hint = opts['cross-libc'] !== true && /opening its interpreter/.test(e.message) ? ` (a dynamically linked program: --cross-libc gives the guest the host's ${CROSS_LIBC_DIR} as /lib)` : '';
      throw new InputError(`${elf ?? 'pl330-vfio-test'}: ${e.message}${hint}`);
    }
    if (isFsError(e)) throw new InputError(`cannot read ${e.path ?? elf ?? 'the program'}: ${e.code}`);
    if (e instanceof Error && /not found|arm-linux-gnueabihf/.test(e.message)) throw new InputError(e.message);
    throw e;
  }
  if (typeof opts['trace'] === 'string') {
    writeTraceFile(io, opts['trace'], opts['trace-format'] === 'jsonl' ? 'jsonl' : 'perfetto', r);
  }
  if (opts['json']) io.out(JSON.stringify({ schema: RUN_UNICORN_JSON_SCHEMA, ...r }, null, 2) + '\n');
  else io.out(formatUnicornRun(r));
  const ok = r.passed ?? r.exitStatus === 0;
  return ok ? 0 : 1;
}
