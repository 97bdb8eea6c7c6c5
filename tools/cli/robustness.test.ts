/**
 * Issue 18: every input gets a clear answer. Table-driven, one table per class of input:
 * the command line, the files it names, and the expected first line of stderr and exit
 * status. Every case also requires: no host stack trace, no internal error (exit 70).
 */
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { guestBinary, shouldSkipUnicornTests } from '../../emulator/cpu/unicorn/testing/guest-build.js';
import { MAX_NODE_DEPTH } from '../../emulator/dt/parser.js';
import { pl330BudgetNs } from '../scenarios/pl330.js';
import { runElf } from '../unicorn/run.js';
import { tempDir } from '../testing/tmp.js';
import { runCli, type CliIo } from './main.js';
import { nodeIo } from './node-io.js';

const dir = tempDir('robustness');
const BOARD = readFileSync(new URL('../../emulator/boards/vexpress-vfio.dts', import.meta.url), 'utf8');

/** a file in the test directory; returns its path */
function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}
/** the default board with one textual change (the change must apply) */
function board(name: string, from: string | RegExp, to: string): string {
  const text = BOARD.replace(from, to);
  if (text === BOARD) throw new Error(`board ${name}: '${String(from)}' not found`);
  return file(`${name}.dts`, text);
}

interface Ran {
  code: number;
  out: string;
  err: string;
}
/** the real host I/O (files, output checks), stdout/stderr captured */
async function cli(argv: string[]): Promise<Ran> {
  let out = '';
  let err = '';
  const io: CliIo = { ...nodeIo(), out: (s) => void (out += s), err: (s) => void (err += s), isTTY: false, errIsTTY: false };
  const code = await runCli(argv, io);
  return { code, out, err };
}

type Case = [label: string, argv: () => string[], message: RegExp, exit: number];

async function check([, argv, message, exit]: Case): Promise<void> {
  const r = await cli(argv());
  expect(r.err).not.toMatch(/\n\s+at /); // no stack trace
  expect(r.err).not.toMatch(/internal error/);
  const first = r.err.split('\n')[0] ?? '';
  if (exit === 2) {
    expect(first).toMatch(/^vfio-arm-emu: /);
    expect(first).toMatch(message);
  } else {
    expect(r.out + r.err).toMatch(message);
  }
  expect(r.code).toBe(exit);
}

describe('board semantics: checked after parsing, file:line:col, exit 2 (no RangeError / exit 70)', () => {
  const cases: Case[] = [
    ['SPI beyond the GIC\'s lines', () => ['run', 'pl330-vfio-test', '--board', board('spi-range', '<0 92 4>', '<0 500 4>')], /spi-range\.dts:\d+:\d+: 2c0a0000\.dma: interrupt 0 <0 500 4>: .*not a valid SPI\/PPI for 160 interrupts/, 2],
    ['SPI beyond the GIC architecture', () => ['run', 'pl330-vfio-test', '--board', board('spi-arch', '<0 92 4>', '<0 2000 4>')], /spi-arch\.dts:\d+:\d+: .*SPI 2000 is beyond the GIC's ID space/, 2],
    ['bad type cell', () => ['run', 'pl330-vfio-test', '--board', board('type-cell', '<0 92 4>', '<7 92 4>')], /type-cell\.dts:\d+:\d+: .*type cell 7 is neither 0 \(SPI\) nor 1 \(PPI\)/, 2],
    ['bad trigger flags', () => ['run', 'pl330-vfio-test', '--board', board('flags', '<0 92 4>', '<0 92 7>')], /flags\.dts:\d+:\d+: .*trigger flags 0x7/, 2],
    ['level-low SPI', () => ['run', 'pl330-vfio-test', '--board', board('level-low', '<0 92 4>', '<0 92 8>')], /level-low\.dts:\d+:\d+: .*an SPI is edge rising \(1\) or level high \(4\)/, 2],
    ['PPI number beyond 15', () => ['run', 'pl330-vfio-test', '--board', board('ppi', '<0 92 4>', '<1 16 4>')], /ppi\.dts:\d+:\d+: .*PPI 16 is beyond 0\.\.15/, 2],
    ['CPU clock-frequency 0', () => ['run', 'pl330-vfio-test', '--board', board('hz0', 'clock-frequency = <1000000000>;', 'clock-frequency = <0>;')], /hz0\.dts:\d+:\d+: CPU clock-frequency 0 Hz is not usable/, 2],
    ['CPU clock-frequency absurd', () => ['run', 'pl330-vfio-test', '--board', board('hz-big', 'clock-frequency = <1000000000>;', 'clock-frequency = <0xffffffff>;')], /hz-big\.dts:\d+:\d+: CPU clock-frequency 4294967295 Hz is not usable/, 2],
    ['CPU clock-frequency without a whole-ns period', () => ['run', 'pl330-vfio-test', '--board', board('hz-odd', 'clock-frequency = <1000000000>;', 'clock-frequency = <300000000>;')], /hz-odd\.dts:\d+:\d+: CPU clock-frequency 300000000 Hz is not usable/, 2],
    ['RAM: only the kernel\'s reservation', () => ['run', 'pl330-vfio-test', '--board', board('ram8m', '0x80000000 0x40000000', '0x80000000 0x800000')], /ram8m\.dts:\d+:\d+: board RAM is too small for pl330-vfio-test/, 2],
    ['RAM: too small for the buffers asked', () => ['run', 'pl330-vfio-test', '--size', '4M', '--board', board('ram16m', '0x80000000 0x40000000', '0x80000000 0x1000000')], /ram16m\.dts:\d+:\d+: board RAM is too small for pl330-vfio-test with 4194304-byte buffers: .*give the memory node at least \d+ MiB/, 2],
    ['GIC distributor smaller than the GIC-400 decodes', () => ['run', 'pl330-vfio-test', '--board', board('gicsmall', '<0x2c001000 0x1000>', '<0x2c001000 0x100>')], /gicsmall\.dts:\d+:\d+: .*distributor\) is 0x100 bytes; the GIC-400 decodes 0x1000/, 2],
    ['empty memory range', () => ['run', 'pl330-vfio-test', '--board', board('ram0', '0x80000000 0x40000000', '0x80000000 0x0')], /ram0\.dts:\d+:\d+: memory node .* has an empty range/, 2],
    ['no PL330 on the board', () => ['run', 'pl330-vfio-test', '--board', board('no-pl330', 'compatible = "arm,pl330", "arm,primecell";', 'compatible = "arm,pl330", "arm,primecell"; status = "disabled";')], /no-pl330\.dts: the board has no enabled PL330/, 2],
    ['the PL330 at another address is found by its compatible', () => ['run', 'pl330-vfio-test', '--quiet', '--board', board('pl330-moved', /dma@2c0a0000 \{\n(\s+compatible = "arm,pl330", "arm,primecell";\n\s+)reg = <0x2c0a0000 0x1000>;/, 'dma@2c0d0000 {\n$1reg = <0x2c0d0000 0x1000>;')], /^PASS pl330-vfio-test rfc-v4 outcome=pass .* irq=1 /, 0],
  ];
  it.each(cases)('%s', async (...c) => check(c));
});

describe('device-tree parser: bounded depth, one-line errors', () => {
  const cases: Case[] = [
    ['nodes nested beyond the limit', () => ['run', 'pl330-vfio-test', '--board', file('deep.dts', `/dts-v1/;\n/ {\n${'n {\n'.repeat(50_000)}${'};\n'.repeat(50_000)}};\n`)], new RegExp(`deep\\.dts:${MAX_NODE_DEPTH + 3}:1: node 'n' is nested more than ${MAX_NODE_DEPTH} levels deep`), 2],
    ['parentheses nested beyond the limit', () => ['run', 'pl330-vfio-test', '--board', file('parens.dts', `/dts-v1/;\n/ { v = <${'('.repeat(50_000)}1${')'.repeat(50_000)}>; };\n`)], /parens\.dts:2:\d+: expression nested more than 256 levels deep$/, 2],
    ['unary operators nested beyond the limit', () => ['run', 'pl330-vfio-test', '--board', file('unary.dts', `/dts-v1/;\n/ { v = <(${'-'.repeat(50_000)}1)>; };\n`)], /unary\.dts:2:\d+: expression nested more than 256 levels deep$/, 2],
  ];
  it.each(cases)('%s', async (...c) => check(c));
});

describe('output files: checked before the work starts', () => {
  const cases: Case[] = [
    ['a trace file under /proc (recursive mkdir would spin)', () => ['run', 'pl330-vfio-test', '--trace', '/proc/vfio-arm-emu-x/y/t.json'], /cannot write trace file \/proc\/vfio-arm-emu-x\/y\/t\.json: \/proc is on the proc pseudo file system/, 2],
    ['a JUnit report under /sys', () => ['run', 'pl330-vfio-test', '--junit', '/sys/vfio-arm-emu.xml'], /cannot write JUnit report \/sys\/vfio-arm-emu\.xml: \/sys is on the sysfs pseudo file system/, 2],
    ['a trace file that is a directory', () => ['run', 'pl330-vfio-test', '--trace', dir], /cannot write trace file .*: it is a directory/, 2],
    ['a trace file below a regular file', () => ['run', 'pl330-vfio-test', '--trace', join(file('plain', 'x'), 'sub', 't.json')], /cannot write trace file .*plain\/sub\/t\.json: .*plain is not a directory/, 2],
    ['an --elf run\'s trace under /proc', () => ['run', '--cpu', 'unicorn', '--elf', file('not-elf', 'x'), '--trace', '/proc/x/t.json'], /cannot write trace file \/proc\/x\/t\.json: \/proc is on the proc pseudo file system/, 2],
    ['fuzz --out naming an existing file fails up front', () => ['fuzz', '--runs', '1000000', '--out', file('findings', 'x')], /fuzz --out directory .*findings exists and is not a directory/, 2],
    ['fuzz --out under /proc', () => ['fuzz', '--runs', '1000000', '--out', '/proc/x/findings'], /fuzz --out directory \/proc\/x\/findings: \/proc is on the proc pseudo file system/, 2],
  ];
  it.each(cases)('%s', async (...c) => check(c));

  it('missing parent directories of an output file are still created (one level at a time)', async () => {
    const t = join(dir, 'new', 'deeper', 't.jsonl');
    const r = await cli(['run', 'pl330-vfio-test', '--quiet', '--trace', t, '--trace-format', 'jsonl']);
    expect(r.code).toBe(0);
    expect(readFileSync(t, 'utf8').split('\n')[0]).toMatch(/"kind":"seed"/);
  });
});

describe('resource bounds and budgets', () => {
  const cases: Case[] = [
    ['fuzz --jobs far beyond the cap', () => ['fuzz', '--jobs', '1000'], /option '--jobs' must be at most 64, got 1000/, 2],
    ['--transfers beyond 10000', () => ['run', 'pl330-vfio-test', '--transfers', '10001'], /--transfers at most 10000/, 2],
    ['--size beyond 32M', () => ['run', 'pl330-vfio-test', '--size', '64M'], /--size at most 32M/, 2],
    ['--insn-limit without --cpu unicorn', () => ['run', 'pl330-vfio-test', '--insn-limit', '1000'], /--insn-limit and --time-limit need --cpu unicorn/, 2],
    ['--sh without --cpu unicorn', () => ['run', '--sh', 'x.sh'], /--sh needs --cpu unicorn/, 2],
    ['--sh with --elf', () => ['run', '--cpu', 'unicorn', '--sh', 'x.sh', '--elf', 'y'], /no --elf or scenario name with a script/, 2],
    ['--rootfs without a program', () => ['run', 'pl330-vfio-test', '--cpu', 'unicorn', '--rootfs', '/'], /--rootfs needs --cpu unicorn --elf or --sh/, 2],
    ['--cross-libc without --elf', () => ['run', 'pl330-vfio-test', '--cpu', 'unicorn', '--cross-libc'], /--cross-libc needs --cpu unicorn --elf/, 2],
    ['--time-limit beyond an hour', () => ['run', '--cpu', 'unicorn', '--elf', 'x', '--time-limit', '3600001'], /option '--time-limit' must be at most 3600000/, 2],
  ];
  it.each(cases)('%s', async (...c) => check(c));

  it('the scenario budget scales with size x transfers (the largest accepted run fits with 2.5x margin)', () => {
    expect(pl330BudgetNs(undefined, undefined)).toBeGreaterThanOrEqual(5_000_000_000);
    // measured: a 32 MiB transfer takes 107.6 ms of virtual time (~3.2 ns/byte); 4 KiB x 10000 about 130 ms
    const need = (size: number, transfers: number): number => transfers * (size * 3.2 + 13_000);
    for (const [size, transfers] of [[32 << 20, 10_000], [4 << 20, 1000], [4096, 10_000], [1 << 20, 100]] as const) {
      expect(pl330BudgetNs(size, transfers)).toBeGreaterThan(2.5 * need(size, transfers));
    }
  });

  it.skipIf(shouldSkipUnicornTests())('a dynamically linked program without --cross-libc: ENOENT for its interpreter, named, with the option that gives it one (exit 2)', async () => {
    const r = await cli(['run', '--cpu', 'unicorn', '--elf', guestBinary('hello-dyn')]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/execve of \/bin\/hello-dyn: errno 2 \(opening its interpreter \/lib\/ld-linux-armhf\.so\.3\) \(a dynamically linked program: --cross-libc gives the guest/);
  });

  it.skipIf(shouldSkipUnicornTests())('a CPU-bound ARM program stops at --insn-limit (exit 1, the limit named)', async () => {
    const r = await cli(['run', '--cpu', 'unicorn', '--elf', guestBinary('loop'), '--args', '100000000', '--insn-limit', '2000000']);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/did not exit within the instruction limit \(2000000 instructions; see --insn-limit\)/);
    const t = await cli(['run', '--cpu', 'unicorn', '--elf', guestBinary('loop'), '--args', '100000000', '--time-limit', '1']);
    expect(t.code).toBe(1);
    expect(t.out).toMatch(/did not exit within the virtual-time limit/);
  });

  it.skipIf(shouldSkipUnicornTests())('a long ARM run reports progress (the heartbeat the CLI draws on a terminal)', () => {
    const beats: { virtualNs: number; instructions: number }[] = [];
    const r = runElf({ elf: guestBinary('loop'), args: ['1000000'], progressIntervalMs: 0, onProgress: (p) => beats.push(p) });
    expect(r.exitStatus).toBe(0);
    expect(beats.length).toBeGreaterThan(0);
    expect(beats.at(-1)!.instructions).toBeGreaterThan(beats[0]!.instructions - 1);
    expect(beats.at(-1)!.instructions).toBeLessThanOrEqual(r.instructions);
  });
});

describe('files the CLI reads: schema-checked, one-line errors', () => {
  const finding = (x: unknown): string => file(`finding-${Math.abs(hash(JSON.stringify(x) ?? 'u'))}.json`, JSON.stringify(x));
  const ok = { format: 'vfio-arm-emu-fuzz-finding', version: 1, profile: 'rfc-v4', sig: 'x', message: 'm', seed: 1, program: [], transcript: [] };
  const cases: Case[] = [
    ['replay: null', () => ['fuzz', '--replay', finding(null)], /finding-\d+\.json: file: expected an object, got null$/, 2],
    ['replay: not JSON', () => ['fuzz', '--replay', file('garbage.json', '{"format": ')], /garbage\.json: not JSON/, 2],
    ['replay: a program of nulls', () => ['fuzz', '--replay', finding({ ...ok, program: [null, null] })], /: program\[0\]: expected an object, got null$/, 2],
    ['replay: an unknown call name', () => ['fuzz', '--replay', finding({ ...ok, program: [{ op: 'frobnicate', p: 0 }] })], /: program\[0\]\.op: unknown call "frobnicate" \(expected one of open, close, ioctl/, 2],
    ['replay: an unknown file version', () => ['fuzz', '--replay', finding({ ...ok, version: 99 })], /: version: unsupported finding file version 99 \(this build reads version 1\)$/, 2],
    ['replay: a foreign JSON file', () => ['fuzz', '--replay', finding({ hello: 'world' })], /: format: not a fuzz finding file/, 2],
    ['replay: a field of the wrong type', () => ['fuzz', '--replay', finding({ ...ok, program: [{ op: 'close', p: 0, fd: { k: 'device', i: 'zero' } }] })], /: program\[0\]\.fd\.i: expected a whole number/, 2],
    ['replay: a process number out of range', () => ['fuzz', '--replay', finding({ ...ok, program: [{ op: 'exit', p: 7 }] })], /: program\[0\]\.p: expected a whole number 0\.\.2, got 7$/, 2],
    ['replay: an unknown profile', () => ['fuzz', '--replay', finding({ ...ok, profile: 'bogus' })], /unknown profile 'bogus'/, 2],
    ['replay: the iommufd compat container\'s profile replays (its model: tools/fuzz/model.ts)', () => ['fuzz', '--replay', finding({ ...ok, profile: 'mainline+iommufd-compat' })], /not reproduced: the program ran clean on mainline\+iommufd-compat/, 0],
    ['replay: a missing file', () => ['fuzz', '--replay', join(dir, 'absent.json')], /cannot read finding file .*absent\.json: ENOENT$/, 2],
    ['replay: a valid empty program runs clean', () => ['fuzz', '--replay', finding(ok)], /not reproduced: the program ran clean on rfc-v4/, 0],
    ['trace summarize: an empty file', () => ['trace', 'summarize', file('empty.json', '')], /empty\.json: empty file \(not a trace written by run --trace\)$/, 2],
    ['trace summarize: whitespace only', () => ['trace', 'summarize', file('blank.json', '\n \n')], /blank\.json: empty file/, 2],
  ];
  it.each(cases)('%s', async (...c) => check(c));
});

describe('scenarios outside their profiles, and smaller items', () => {
  const cases: Case[] = [
    ['patch09-oops in mainline is refused, naming its profiles', () => ['run', 'patch09-oops', '--profile', 'mainline'], /scenario patch09-oops is defined for profile patches:1-9 only/, 2],
    ['pl330-noexec in baseline is refused', () => ['run', 'pl330-noexec', '--profile', 'baseline'], /scenario pl330-noexec is defined for profiles rfc-v4, mainline only/, 2],
    ['patch09-oops without --profile runs in its own profile', () => ['run', 'patch09-oops', '--quiet'], /^PASS patch09-oops patches:1-9 outcome=panic:oops-in-interrupt/, 0],
    ['a profile spelled differently but the same behaviour is accepted', () => ['run', 'no-unmask', '--quiet', '--profile', 'patches:1-10'], /^PASS no-unmask patches:1-10 /, 0],
    ['pl330-vfio-test computes its outcome for every profile', () => ['run', 'pl330-vfio-test', '--quiet', '--profile', 'patches:1-5'], /^PASS pl330-vfio-test patches:1-5 outcome=stop:mmap/, 0],
    ['--profile patches: (empty list) is refused', () => ['run', 'pl330-vfio-test', '--profile', 'patches:'], /empty patch list in '--profile patches:'/, 2],
    ['fuzz --profile patches: is refused', () => ['fuzz', '--profile', 'patches:  '], /empty patch list/, 2],
    ['fuzz on the iommufd compat container runs (no finding in a few runs)', () => ['fuzz', '--profile', 'mainline+iommufd-compat', '--runs', '5'], /fuzz mainline\+iommufd-compat: seed 1, .*: 5 runs .*\n\nno findings/, 0],
    ['--size 1k is accepted (k/K/M/G)', () => ['run', 'pl330-vfio-test', '--quiet', '--size', '1k'], /^PASS .* dma=1024 /, 0],
    ['--size 1K', () => ['run', 'pl330-vfio-test', '--quiet', '--size', '1K'], /^PASS .* dma=1024 /, 0],
    ['--size 0x1M is malformed', () => ['run', 'pl330-vfio-test', '--size', '1x'], /option '--size' needs a whole number, got '1x'/, 2],
  ];
  it.each(cases)('%s', async (...c) => check(c));

  it('--help and docs/CLI.md agree on size suffixes', async () => {
    const r = await cli(['run', '--help']);
    expect(r.out).toMatch(/k\/K\/M\/G suffixes accepted/);
    const doc = readFileSync(new URL('../../docs/CLI.md', import.meta.url), 'utf8');
    expect(doc).toMatch(/`k`\/`K`\/`M`\/`G`/);
  });
});

describe('the trace digest is defined on content, not on the board path spelling', () => {
  it('default name, relative path, absolute path and a copy elsewhere give one traceSha256', async () => {
    const abs = resolve('emulator/boards/vexpress-vfio.dts');
    mkdirSync(join(dir, 'copy'), { recursive: true });
    const copy = file('copy/board.dts', BOARD);
    const shas: string[] = [];
    for (const b of [null, 'vexpress-vfio', relative(process.cwd(), abs), abs, copy]) {
      const r = await cli(['run', 'pl330-vfio-test', '--json', ...(b === null ? [] : ['--board', b])]);
      expect(r.code).toBe(0);
      shas.push((JSON.parse(r.out) as { traceSha256: string }).traceSha256);
    }
    expect(new Set(shas).size).toBe(1);
    // and a different board content gives a different digest
    const other = board('other', 'model = "', 'model = "other ');
    const r = await cli(['run', 'pl330-vfio-test', '--json', '--board', other]);
    expect((JSON.parse(r.out) as { traceSha256: string }).traceSha256).not.toBe(shas[0]);
  });
});

function hash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (h * 31 + s.charCodeAt(i)) | 0;
  return h;
}
