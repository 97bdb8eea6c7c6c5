import pkg from '../../package.json' with { type: 'json' };
import { formatOptions, parseArgs, UsageError, type OptSpec } from './args.js';
import '../scenarios/index.js';
import { getScenario, listScenarios } from '../scenarios/registry.js';

export interface CliIo {
  out: (s: string) => void;
  err: (s: string) => void;
  writeFile: (path: string, data: string) => void;
  readFile: (path: string) => string;
  isTTY: boolean;
}

const RUN_OPTS: Record<string, OptSpec> = {
  profile: { type: 'string', metavar: 'P', help: 'kernel profile: baseline, rfc-v4, mainline, patches:<list> (default rfc-v4)' },
  board: { type: 'string', metavar: 'FILE', help: 'board device tree (.dts) or built-in board name (default vexpress-vfio)' },
  seed: { type: 'int', min: 0, help: 'PRNG seed for guest data (default 1)' },
  size: { type: 'int', min: 1, metavar: 'BYTES', help: 'transfer size (default 4096; K/M suffixes accepted)' },
  transfers: { type: 'int', min: 1, help: 'number of transfers (default 1)' },
  channel: { type: 'int', min: 0, help: 'PL330 channel (default 0)' },
  trace: { type: 'string', metavar: 'FILE', help: 'write a trace file' },
  'trace-format': { type: 'string', choices: ['perfetto', 'jsonl'], help: 'trace file format (default perfetto)' },
  json: { type: 'bool', help: 'print one JSON object instead of text' },
  junit: { type: 'string', metavar: 'FILE', help: 'write a JUnit XML report' },
  quiet: { type: 'bool', help: 'print only the summary line' },
};

export function usage(): string {
  return `vfio-arm-emu ${pkg.version}: deterministic ARM board emulator for VFIO on platform devices

usage:
  vfio-arm-emu run <scenario> [options]   run a scenario headless (main job: run pl330-vfio-test)
  vfio-arm-emu list                       list scenarios
  vfio-arm-emu --help | --version

run options:
${formatOptions(RUN_OPTS)}

exit status: 0 the outcome is the expected one, 1 it is not, 2 usage error.
docs: docs/CLI.md`;
}

export function runCli(argv: readonly string[], io: CliIo): number {
  try {
    return dispatch(argv, io);
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`vfio-arm-emu: ${e.message}\n\n${usage()}\n`);
      return 2;
    }
    throw e;
  }
}

function dispatch(argv: readonly string[], io: CliIo): number {
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
  switch (cmd) {
    case 'list': {
      parseArgs(rest, {});
      const list = listScenarios();
      if (list.length === 0) io.out('no scenario is available yet\n');
      for (const s of list) io.out(`${s.name.padEnd(32)} ${s.description}\n`);
      return 0;
    }
    case 'run':
      return cmdRun(rest, io);
    default:
      throw new UsageError(`unknown command '${cmd}'`);
  }
}

function cmdRun(argv: readonly string[], io: CliIo): number {
  const { positionals, opts } = parseArgs(argv, RUN_OPTS);
  if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'run: missing scenario name' : `run: one scenario at a time (got ${positionals.join(', ')})`);
  const name = positionals[0]!;
  const sc = getScenario(name);
  if (!sc) {
    if (name === 'pl330-vfio-test') {
      io.out('pl330-vfio-test: scenario not available yet (the scenario issue has not landed)\n');
      return 0;
    }
    throw new UsageError(`unknown scenario '${name}' (see 'vfio-arm-emu list')`);
  }
  void opts;
  return 1;
}
