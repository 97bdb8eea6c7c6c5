import pkg from '../../package.json' with { type: 'json' };
import { ProfileError } from '../../kernel-model/profile.js';
import { formatOptions, parseArgs, UsageError, type OptSpec } from './args.js';
import '../scenarios/index.js';
import { computeMatrix, formatMatrix } from '../scenarios/matrix.js';
import { getScenario, listScenarios, type ScenarioResult } from '../scenarios/registry.js';
import { oneLine, readTraceFile, summarizeTrace, summaryLines, toJson, toJunit } from './report.js';
import { UnicornUnavailableError } from '../../emulator/cpu/unicorn/native.js';
import { ElfError } from '../../emulator/cpu/unicorn/elf.js';
import { DtsError } from '../../emulator/dt/types.js';
import { BoardError } from '../../emulator/machine.js';
import { KernelBootError } from '../../kernel-model/kernel.js';
import { fuzzUsage, runFuzzCommand } from '../fuzz/cli.js';
import { InputError } from './outputs.js';
import { cliProfile } from './profile-arg.js';
import { defaultProfileFor, definedForProfile } from '../scenarios/registry.js';
import { formatUnicornRun, runElf, runPl330VfioTestUnicorn, type UnicornRunResult } from '../unicorn/run.js';

export interface CliIo {
  out: (s: string) => void;
  err: (s: string) => void;
  writeFile: (path: string, data: string) => void;
  readFile: (path: string) => string;
  /** check an output path before the work starts (throws InputError); absent: no check (tests) */
  checkOutput?: (path: string, kind: 'file' | 'dir', what: string) => void;
  isTTY: boolean;
  /** stderr is a terminal (progress and heartbeat lines go there only then) */
  errIsTTY?: boolean;
}

/** commands contributed by other tools (fuzz, unicorn) register here */
export type CommandHandler = (argv: readonly string[], io: CliIo) => number | Promise<number>;
const extraCommands = new Map<string, { handler: CommandHandler; usage: string }>();
export function registerCommand(name: string, usageLine: string, handler: CommandHandler): void {
  extraCommands.set(name, { handler, usage: usageLine });
}

const RUN_OPTS: Record<string, OptSpec> = {
  profile: { type: 'string', metavar: 'P', help: 'kernel profile: baseline, rfc-v4, mainline, patches:<list> (default rfc-v4)' },
  board: { type: 'string', metavar: 'FILE', help: 'board device tree (.dts) or built-in board name (default vexpress-vfio)' },
  // the PRNG takes a 32-bit seed: a larger one would silently alias a smaller one
  seed: { type: 'int', min: 0, max: 0xffff_ffff, help: 'PRNG seed for guest data, 0..4294967295 (default 1)' },
  size: { type: 'int', min: 1, metavar: 'BYTES', help: 'transfer size, a multiple of 256, at most 32M (default 4096; k/K/M/G suffixes accepted)' },
  transfers: { type: 'int', min: 1, help: 'number of transfers, 1-10000 (default 1)' },
  channel: { type: 'int', min: 0, help: 'PL330 channel, 0-3: its event interrupt signals completion (default 0)' },
  trace: { type: 'string', metavar: 'FILE', help: 'write a trace file' },
  'trace-format': { type: 'string', choices: ['perfetto', 'jsonl'], help: 'trace file format (default perfetto)' },
  json: { type: 'bool', help: 'print one JSON object instead of text' },
  junit: { type: 'string', metavar: 'FILE', help: 'write a JUnit XML report' },
  quiet: { type: 'bool', help: 'print only the summary line' },
  'no-accel': { type: 'bool', help: 'turn every device accelerator off: the reference models alone (same results, slower; docs/ARCHITECTURE.md)' },
  cpu: { type: 'string', choices: ['stub', 'unicorn'], help: 'CPU backend: stub (TypeScript guest programs, default) or unicorn (ARM machine code)' },
  elf: { type: 'string', metavar: 'FILE', help: 'with --cpu unicorn: run this static ARM ELF as a process (no scenario name)' },
  args: { type: 'string', multi: true, metavar: 'ARG', help: 'with --elf: an argument for the program (repeat for more)' },
  'insn-limit': { type: 'int', min: 1, metavar: 'N', help: 'with --cpu unicorn: stop after N guest instructions, all threads (default 1000000000)' },
  'time-limit': { type: 'int', min: 1, max: 3_600_000, metavar: 'MS', help: 'with --cpu unicorn: stop after MS milliseconds of virtual time (default 10000)' },
};

export function usage(): string {
  const extra = [...extraCommands.values()].map((c) => `  ${c.usage}`).join('\n');
  return `vfio-arm-emu ${pkg.version}: deterministic ARM board emulator for VFIO on platform devices

usage:
  vfio-arm-emu run <scenario> [options]   run a scenario headless (main job: run pl330-vfio-test)
  vfio-arm-emu run --cpu unicorn --elf FILE [--args A ...] [--profile P]
                                          run a static ARM Linux binary against the board and kernel model
  vfio-arm-emu run pl330-vfio-test --cpu unicorn   the C port of the scenario on the Unicorn backend
  vfio-arm-emu list                       list scenarios
  vfio-arm-emu matrix [--json] [--seed N] [--no-accel]
                                          the patch-level matrix (every prefix of the series)
  vfio-arm-emu trace summarize <file>     summarise a trace written by run --trace
  vfio-arm-emu fuzz [--profile P] [--seed N] [--runs N | --time S] [--json] [--out DIR] [--replay FILE]
                    [--jobs N] [--shard i/n]  property-based fuzzing of the VFIO ioctls (docs/FUZZING.md)
${extra ? extra + '\n' : ''}  vfio-arm-emu --help | --version

run options:
${formatOptions(RUN_OPTS)}

exit status: 0 the outcome is the expected one, 1 it is not, 2 usage error.
docs: docs/CLI.md, docs/SCENARIOS.md`;
}

export function runCli(argv: readonly string[], io: CliIo): number | Promise<number> {
  try {
    const r = dispatch(argv, io);
    if (r instanceof Promise) return r.catch((e: unknown) => handleError(e, io));
    return r;
  } catch (e) {
    return handleError(e, io);
  }
}

export { InputError };

function handleError(e: unknown, io: CliIo): number {
  if (e instanceof UsageError || e instanceof ProfileError) {
    io.err(`vfio-arm-emu: ${e.message}\n\n${usage()}\n`);
    return 2;
  }
  if (e instanceof InputError) {
    io.err(`vfio-arm-emu: ${e.message}\n`);
    return 2;
  }
  throw e;
}

/** a host file-system error (ENOENT, EISDIR, EACCES, ...) from fs calls on a user-given path */
function isFsError(e: unknown): e is NodeJS.ErrnoException {
  return e instanceof Error && typeof (e as NodeJS.ErrnoException).code === 'string' && typeof (e as NodeJS.ErrnoException).syscall === 'string';
}

/** write an output file named on the command line; failure is a clear input error (exit 2) */
function writeOutput(io: CliIo, path: string, data: string, what: string): void {
  try {
    io.writeFile(path, data);
  } catch (e) {
    throw new InputError(`cannot write ${what} ${path}: ${isFsError(e) ? e.code : (e as Error).message}`);
  }
}

/** errors caused by a bad board (file missing/unreadable/malformed, or unusable by the kernel model) */
function isBoardError(e: unknown): e is Error {
  return e instanceof DtsError || e instanceof BoardError || e instanceof KernelBootError;
}

function dispatch(argv: readonly string[], io: CliIo): number | Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === undefined) throw new UsageError('missing command');
  if (cmd === '--help' || cmd === '-h' || cmd === 'help') {
    io.out(usage() + '\n');
    return 0;
  }
  if (cmd === '--version' || cmd === '-V') {
    io.out(`vfio-arm-emu ${pkg.version}\n`);
    return 0;
  }
  // `<command> --help` (before any `--`): the command's usage on stdout, exit 0
  const dd = rest.indexOf('--');
  if ((dd < 0 ? rest : rest.slice(0, dd)).some((a) => a === '--help' || a === '-h')) {
    if (cmd === 'fuzz') io.out(fuzzUsage());
    else if (['list', 'run', 'matrix', 'trace'].includes(cmd)) io.out(usage() + '\n');
    else throw new UsageError(`unknown command '${cmd}'`);
    return 0;
  }
  switch (cmd) {
    case 'list': {
      const { positionals } = parseArgs(rest, {});
      if (positionals.length) throw new UsageError(`list: unexpected argument '${positionals[0]}'`);
      for (const s of listScenarios()) io.out(`${s.name.padEnd(22)} ${s.description}\n    profiles: ${(s.profiles ?? ['all']).join(', ')}\n`);
      return 0;
    }
    case 'run':
      return cmdRun(rest, io);
    case 'matrix':
      return cmdMatrix(rest, io);
    case 'trace':
      return cmdTrace(rest, io);
    case 'fuzz':
      return runFuzzCommand(rest, io);
    default: {
      const c = extraCommands.get(cmd);
      if (c) return c.handler(rest, io);
      throw new UsageError(`unknown command '${cmd}'`);
    }
  }
}

/** a scenario's options from the parsed CLI options (validated) */
function scenarioOptions(opts: Record<string, unknown>, defaultProfile = 'rfc-v4'): { profile: string; board: string; seed: number; size?: number; transfers?: number; channel?: number; accel?: boolean } {
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
  };
}

/** output files named by --trace / --junit are checked before the run (tools/cli/outputs.ts) */
function checkOutputs(io: CliIo, opts: Record<string, unknown>): void {
  if (typeof opts['trace'] === 'string') io.checkOutput?.(opts['trace'], 'file', 'trace file');
  if (typeof opts['junit'] === 'string') io.checkOutput?.(opts['junit'], 'file', 'JUnit report');
}

function cmdRun(argv: readonly string[], io: CliIo): number {
  const { positionals, opts } = parseArgs(argv, RUN_OPTS);
  if (opts['cpu'] !== 'unicorn' && (opts['insn-limit'] !== undefined || opts['time-limit'] !== undefined)) throw new UsageError('--insn-limit and --time-limit need --cpu unicorn');
  if (opts['cpu'] === 'unicorn') return cmdRunUnicorn(positionals, opts, io);
  if (opts['elf'] !== undefined || opts['args'] !== undefined) throw new UsageError('--elf and --args need --cpu unicorn');
  if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'run: missing scenario name' : `run: one scenario at a time (got ${positionals.join(', ')})`);
  const name = positionals[0]!;
  const sc = getScenario(name);
  if (!sc) throw new UsageError(`unknown scenario '${name}' (see 'vfio-arm-emu list')`);
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
  let r: ScenarioResult;
  try {
    r = sc.run(so);
  } catch (e) {
    if (isBoardError(e)) throw new InputError(e.message);
    throw e;
  }
  if (typeof opts['trace'] === 'string') {
    const fmt = (opts['trace-format'] as string | undefined) ?? 'perfetto';
    const data = fmt === 'jsonl' ? r.traceJsonLines?.() : r.tracePerfetto?.();
    writeOutput(io, opts['trace'], data ?? '', 'trace file');
  }
  if (typeof opts['junit'] === 'string') writeOutput(io, opts['junit'], toJunit([r]), 'JUnit report');
  if (opts['json']) io.out(JSON.stringify(toJson(r), null, 2) + '\n');
  else if (opts['quiet']) io.out(oneLine(r) + '\n');
  else io.out([...r.output, '', ...summaryLines(r)].join('\n') + '\n');
  return r.passed ? 0 : 1;
}

function cmdMatrix(argv: readonly string[], io: CliIo): number {
  const { positionals, opts } = parseArgs(argv, { json: { type: 'bool' }, seed: { type: 'int', min: 0, max: 0xffff_ffff }, 'no-accel': { type: 'bool' } });
  if (positionals.length) throw new UsageError(`matrix: unexpected argument '${positionals[0]}'`);
  const rows = computeMatrix((opts['seed'] as number | undefined) ?? 1, opts['no-accel'] === true ? false : undefined);
  if (opts['json']) io.out(JSON.stringify({ rows, matchesExpected: rows.every((r) => r.matches) }, null, 2) + '\n');
  else io.out(formatMatrix(rows) + `\n\n${rows.every((r) => r.matches) ? 'every row matches the expected matrix' : 'MISMATCH with the expected matrix'}\n`);
  return rows.every((r) => r.matches) ? 0 : 1;
}

function cmdTrace(argv: readonly string[], io: CliIo): number {
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
function cmdRunUnicorn(positionals: string[], opts: Record<string, unknown>, io: CliIo): number {
  const elf = opts['elf'] as string | undefined;
  if (elf === undefined && positionals.length === 0) throw new UsageError('run --cpu unicorn: give --elf FILE or the scenario pl330-vfio-test');
  if (elf !== undefined && positionals.length) throw new UsageError(`run --cpu unicorn --elf: no scenario name expected (got ${positionals.join(', ')})`);
  if (elf === undefined && (positionals.length !== 1 || positionals[0] !== 'pl330-vfio-test')) {
    throw new UsageError(`run --cpu unicorn: only pl330-vfio-test has a C port (got ${positionals.join(', ')})`);
  }
  for (const k of ['size', 'transfers', 'channel', 'junit']) if (opts[k] !== undefined) throw new UsageError(`--${k} is not available with --cpu unicorn`);
  const so = scenarioOptions(opts);
  checkOutputs(io, opts);
  const limits = {
    maxInstructions: opts['insn-limit'] as number | undefined,
    maxNs: opts['time-limit'] === undefined ? undefined : (opts['time-limit'] as number) * 1_000_000,
    // a heartbeat on stderr, only when it is a terminal (never in logs or pipes)
    onProgress: io.errIsTTY ? (p: { virtualNs: number; instructions: number }) => io.err(`\r[running: ${(p.virtualNs / 1e9).toFixed(3)} s virtual, ${(p.instructions / 1e6).toFixed(1)} M instructions]`) : undefined,
  };
  let r: UnicornRunResult & { passed?: boolean };
  try {
    r = elf !== undefined
      ? runElf({ elf, args: (opts['args'] as string[] | undefined) ?? [], profile: so.profile, board: so.board, seed: so.seed, keepTrace: opts['trace'] !== undefined, accel: so.accel, ...limits })
      : runPl330VfioTestUnicorn({ profile: so.profile, board: so.board, seed: so.seed, keepTrace: opts['trace'] !== undefined, accel: so.accel, ...limits });
    if (io.errIsTTY) io.err('\r\x1b[K');
  } catch (e) {
    if (e instanceof UnicornUnavailableError || isBoardError(e)) throw new InputError(e.message);
    if (e instanceof ElfError) throw new InputError(`${elf ?? 'pl330-vfio-test'}: ${e.message}`);
    if (isFsError(e)) throw new InputError(`cannot read ${e.path ?? elf ?? 'the program'}: ${e.code}`);
    if (e instanceof Error && /not found|arm-linux-gnueabihf/.test(e.message)) throw new InputError(e.message);
    throw e;
  }
  if (typeof opts['trace'] === 'string') {
    writeOutput(io, opts['trace'], (opts['trace-format'] === 'jsonl' ? r.traceJsonLines?.() : r.tracePerfetto?.()) ?? '', 'trace file');
  }
  if (opts['json']) io.out(JSON.stringify(r, null, 2) + '\n');
  else io.out(formatUnicornRun(r));
  const ok = r.passed ?? r.exitStatus === 0;
  return ok ? 0 : 1;
}
