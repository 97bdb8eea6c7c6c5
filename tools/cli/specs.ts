/**
 * The CLI's commands, their options, their own `--help` texts and how their errors are
 * reported (handleError). Kept free of heavy imports: `vfio-arm-emu --version`, `--help`,
 * `<command> --help` and usage errors load this module, args.ts, outputs.ts and the profile
 * parser (for ProfileError) only (the commands themselves are imported when they run:
 * tools/cli/main.ts).
 */
import { ProfileError } from '../../kernel-model/profile.js';
import { formatOptions, UsageError, type OptSpec } from './args.js';
import type { CliIo } from './main.js';
import { InputError } from './outputs.js';

export const RUN_OPTS: Record<string, OptSpec> = {
  profile: { type: 'string', metavar: 'P', help: 'kernel profile: baseline, rfc-v4, mainline, mainline+iommufd-compat, patches:<list> (default rfc-v4)' },
  board: { type: 'string', metavar: 'FILE', help: 'board device tree (.dts) or built-in board name (default vexpress-vfio)' },
  // the PRNG takes a 32-bit seed: a larger one would silently alias a smaller one
  seed: { type: 'int', min: 0, max: 0xffff_ffff, help: 'PRNG seed for guest data, 0..4294967295 (default 1)' },
  size: { type: 'int', min: 1, metavar: 'BYTES', help: 'transfer size, a multiple of 256, at most 32M (default 4096; k/K/M/G suffixes accepted)' },
  transfers: { type: 'int', min: 1, help: 'number of transfers, 1-10000 (default 1)' },
  channel: { type: 'int', min: 0, help: 'PL330 channel, 0-3: its event interrupt signals completion (default 0)' },
  trace: { type: 'string', metavar: 'FILE', help: 'write a trace file' },
  'trace-format': { type: 'string', choices: ['perfetto', 'jsonl'], help: 'trace file format (default perfetto)' },
  'trace-mmio': { type: 'string', metavar: 'FILE', help: "write every MMIO register access as JSON lines, with register names ('-': stderr)" },
  json: { type: 'bool', help: 'print one JSON object instead of text (schema: docs/schemas/run.schema.json)' },
  junit: { type: 'string', metavar: 'FILE', help: 'write a JUnit XML report' },
  quiet: { type: 'bool', help: 'print only the summary line' },
  'no-accel': { type: 'bool', help: 'turn every device accelerator off: the reference models alone (same results, slower; docs/ARCHITECTURE.md)' },
  bootargs: { type: 'string', metavar: 'STRING', help: 'kernel command line, replacing the board\'s /chosen/bootargs ("" for none; docs/KERNEL.md)' },
  cpu: { type: 'string', choices: ['stub', 'unicorn'], help: 'CPU backend: stub (TypeScript guest programs, default) or unicorn (ARM machine code)' },
  elf: { type: 'string', metavar: 'FILE', help: 'with --cpu unicorn: run this static ARM ELF as a process (no scenario name)' },
  args: { type: 'string', multi: true, metavar: 'ARG', help: 'with --elf: an argument for the program (repeat for more)' },
  'insn-limit': { type: 'int', min: 1, metavar: 'N', help: 'with --cpu unicorn: stop after N guest instructions, all threads (default 1000000000)' },
  'time-limit': { type: 'int', min: 1, max: 3_600_000, metavar: 'MS', help: 'with --cpu unicorn: stop after MS milliseconds of virtual time (default 10000)' },
  sh: { type: 'string', metavar: 'FILE', help: "with --cpu unicorn: run this shell script with busybox's sh on the board (nothing bound first; /bin/pl330-vfio-test is the C port)" },
  rootfs: { type: 'string', metavar: 'DIR', help: 'with --cpu unicorn --elf or --sh: a host directory mounted read-only as / (open/stat/getdents64/readlink and execve() see it; /bin/busybox and /bin/sh: the fetched busybox)' },
  'cross-libc': { type: 'bool', help: 'with --cpu unicorn --elf: the host\'s cross C library (/usr/arm-linux-gnueabihf/lib, libc6-armhf-cross) as the guest\'s /lib, so a dynamically linked program runs' },
};

export const MATRIX_OPTS: Record<string, OptSpec> = {
  json: { type: 'bool', help: 'print one JSON object (schema: docs/schemas/matrix.schema.json)' },
  seed: { type: 'int', min: 0, max: 0xffff_ffff, help: 'PRNG seed for guest data (default 1)' },
  'no-accel': { type: 'bool', help: 'turn every device accelerator off' },
  bootargs: { type: 'string', metavar: 'STRING', help: 'kernel command line for every row, replacing the board\'s /chosen/bootargs' },
};

export interface CommandInfo {
  /** the command line, for the global usage */
  synopsis: string;
  /** what it does (one line) */
  what: string;
  /** the command's own --help (fuzz: its options come from tools/fuzz/cli.ts) */
  help?: () => string;
}

export const COMMANDS: Record<string, CommandInfo> = {
  run: {
    synopsis: 'vfio-arm-emu run <scenario | ./file.ts | ./file.mjs> [options]',
    what: 'run a scenario headless (the main job: run pl330-vfio-test), or an ARM program with --cpu unicorn',
    help: () => `usage:
  vfio-arm-emu run <scenario> [options]        a built-in scenario ('vfio-arm-emu list')
  vfio-arm-emu run ./my-scenario.ts [options]  a scenario file: .ts/.mts bundled with esbuild, or .mjs/.js (docs/API.md)
  vfio-arm-emu run --cpu unicorn --elf FILE [--args A ...] [--profile P]
                                               a static ARM Linux binary against the board and kernel model
  vfio-arm-emu run pl330-vfio-test --cpu unicorn
                                               the C port of the scenario on the Unicorn backend

options:
${formatOptions(RUN_OPTS)}

exit status: 0 the outcome is the expected one, 1 it is not, 2 usage error or bad input.
docs: docs/CLI.md, docs/SCENARIOS.md, docs/API.md
`,
  },
  list: {
    synopsis: 'vfio-arm-emu list',
    what: 'list the built-in scenarios',
    help: () => `usage: vfio-arm-emu list

Lists the built-in scenarios with their descriptions and the profiles they are defined for.
No options. exit status: 0, 2 usage error.
`,
  },
  matrix: {
    synopsis: 'vfio-arm-emu matrix [--json] [--seed N] [--no-accel] [--bootargs STRING]',
    what: 'the patch-level matrix (every prefix of the series)',
    help: () => `usage: vfio-arm-emu matrix [options]

Runs pl330-vfio-test on every prefix of the series and compares each row with the expected matrix.

options:
${formatOptions(MATRIX_OPTS)}

exit status: 0 every row matches the expected matrix, 1 a row does not, 2 usage error.
docs: docs/SCENARIOS.md
`,
  },
  trace: {
    synopsis: 'vfio-arm-emu trace summarize <file>',
    what: 'summarise a trace written by run --trace',
    help: () => `usage: vfio-arm-emu trace summarize <file>

Summarises a trace written by 'run --trace' (Perfetto JSON or JSON lines): events per source
and kind, IRQ edges, DMA transfers, guest errors, faults.

exit status: 0, 2 usage error or a file that is not a trace.
docs: docs/TRACE.md
`,
  },
  fuzz: {
    synopsis: 'vfio-arm-emu fuzz [--profile P] [--runs N | --time S] [--jobs N] [--shard i/n] [--json] ...',
    what: 'fuzz the VFIO ioctls against a baseline of known findings; replay a finding or turn it into a C reproducer (docs/FUZZING.md)',
  },
};

/** the hint under a usage error */
export function hint(cmd: string | null): string {
  return cmd !== null && cmd in COMMANDS ? `try 'vfio-arm-emu ${cmd} --help'` : `try 'vfio-arm-emu --help'`;
}

/**
 * How the CLI reports the errors a command throws: usage and profile errors are one line
 * plus the hint, input errors (a bad file, an unwritable output) one line; both exit 2.
 * Anything else is rethrown: bin.ts reports it as an internal error (exit 70).
 *
 * The commands module applies this itself (commands.ts, runCommand) as well as the
 * dispatcher (main.ts): the bundled CLI may run the commands from their own bundle
 * (dist/cli-commands.cjs, tools/cli/code-cache.ts), whose error classes are that bundle's
 * copies, so the check has to happen on the side that threw.
 */
export function handleError(e: unknown, io: CliIo, cmd: string | null): number {
  if (e instanceof UsageError || e instanceof ProfileError) {
    // one line (a message never spans lines) and the hint
    io.err(`vfio-arm-emu: ${e.message.replace(/\s*\n\s*/g, ' ')}\n${hint(cmd)}\n`);
    return 2;
  }
  if (e instanceof InputError) {
    io.err(`vfio-arm-emu: ${e.message}\n`);
    return 2;
  }
  throw e;
}

export function globalUsage(version: string, extra: readonly string[] = []): string {
  return `vfio-arm-emu ${version}: deterministic ARM board emulator for VFIO on platform devices

usage:
${Object.values(COMMANDS).map((c) => `  ${c.synopsis}\n      ${c.what}`).join('\n')}
${extra.map((l) => `  ${l}\n`).join('')}  vfio-arm-emu <command> --help
      the command's own usage and options
  vfio-arm-emu --help | --version

exit status: 0 the outcome is the expected one, 1 it is not, 2 usage error.
docs: docs/CLI.md, docs/SCENARIOS.md, docs/API.md`;
}
