/**
 * The CLI's dispatcher. It loads only what a command needs (docs/PERFORMANCE.md, "CLI
 * start-up"): `--version`, `--help`, `<command> --help` and usage errors import nothing
 * beyond this module, specs.ts and args.ts; `run`, `list`, `matrix` and `trace` import
 * tools/cli/commands.ts (the emulator, the kernel model, the scenarios: in the bundled CLI
 * from its code-cached CommonJS bundle, see setCommandsLoader); `fuzz` imports the fuzzer;
 * the Unicorn backend is imported only by `run --cpu unicorn`.
 *
 * Usage errors are one line plus a hint (`try 'vfio-arm-emu run --help'`), exit 2.
 */
import pkg from '../../package.json' with { type: 'json' };
import { UsageError } from './args.js';
import { InputError } from './outputs.js';
import { COMMANDS, globalUsage, handleError } from './specs.js';

export interface CliIo {
  out: (s: string) => void;
  err: (s: string) => void;
  /** a file's contents, as one string or in pieces (a large trace) */
  writeFile: (path: string, data: string | Iterable<string>) => void;
  readFile: (path: string) => string;
  /** check an output path before the work starts (throws InputError); absent: no check (tests) */
  checkOutput?: (path: string, kind: 'file' | 'dir', what: string) => void;
  /** stdout is a terminal */
  isTTY: boolean;
  /** stderr is a terminal (progress bars and heartbeat lines go there only then) */
  errIsTTY?: boolean;
}

/** commands contributed by other tools register here */
export type CommandHandler = (argv: readonly string[], io: CliIo) => number | Promise<number>;
const extraCommands = new Map<string, { handler: CommandHandler; usage: string }>();
export function registerCommand(name: string, usageLine: string, handler: CommandHandler): void {
  extraCommands.set(name, { handler, usage: usageLine });
}

export function usage(): string {
  return globalUsage(pkg.version, [...extraCommands.values()].map((c) => c.usage));
}

export { InputError };

/** the commands tools/cli/commands.ts runs */
export type CommandsCommand = 'list' | 'run' | 'matrix' | 'trace';
/** what the dispatcher needs of tools/cli/commands.ts */
export interface CommandsModule {
  runCommand(cmd: CommandsCommand, argv: readonly string[], io: CliIo): Promise<number>;
}
export type CommandsLoader = (cmd: string, argv: readonly string[]) => Promise<CommandsModule>;
let commandsLoader: CommandsLoader = () => import('./commands.js');

/**
 * Where `list`, `run`, `matrix` and `trace` come from. By default the ES module
 * tools/cli/commands.ts (the sources, and the bundle's chunk); the bundled CLI's entry
 * (bin.ts) installs a loader that prefers the code-cached bundle (tools/cli/code-cache.ts).
 */
export function setCommandsLoader(loader: CommandsLoader): void {
  commandsLoader = loader;
}

/** Run the CLI; resolves to the exit status. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const cmd = argv[0] !== undefined && !argv[0].startsWith('-') ? argv[0] : null;
  try {
    return await dispatch(argv, io);
  } catch (e) {
    return handleError(e, io, cmd);
  }
}

async function commandHelp(cmd: string): Promise<string> {
  if (cmd === 'fuzz') return (await import('../fuzz/cli.js')).fuzzUsage();
  const c = COMMANDS[cmd];
  if (c?.help) return c.help();
  const x = extraCommands.get(cmd);
  if (x) return `usage: ${x.usage}\n`;
  throw new UsageError(`unknown command '${cmd}'`);
}

async function dispatch(argv: readonly string[], io: CliIo): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === undefined) throw new UsageError('missing command');
  if (cmd === '--help' || cmd === '-h' || cmd === 'help') {
    if (cmd === 'help' && rest[0] !== undefined) {
      io.out(await commandHelp(rest[0]));
      return 0;
    }
    io.out(usage() + '\n');
    return 0;
  }
  if (cmd === '--version' || cmd === '-V') {
    io.out(`vfio-arm-emu ${pkg.version}\n`);
    return 0;
  }
  // `<command> --help` (before any `--`): the command's own usage on stdout, exit 0
  const dd = rest.indexOf('--');
  if ((dd < 0 ? rest : rest.slice(0, dd)).some((a) => a === '--help' || a === '-h')) {
    io.out(await commandHelp(cmd));
    return 0;
  }
  switch (cmd) {
    case 'list':
    case 'run':
    case 'matrix':
    case 'trace':
      return (await commandsLoader(cmd, rest)).runCommand(cmd, rest, io);
    case 'fuzz':
      return (await import('../fuzz/cli.js')).runFuzzCommand(rest, io);
    default: {
      const c = extraCommands.get(cmd);
      if (c) return c.handler(rest, io);
      throw new UsageError(cmd.startsWith('-') ? `unknown option '${cmd}' (options follow the command)` : `unknown command '${cmd}'`);
    }
  }
}
