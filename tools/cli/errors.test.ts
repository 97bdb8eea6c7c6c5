/**
 * Bad input on the command line must give a clear one-line message and exit 2, never a host
 * exception: unreadable or malformed board files, unwritable output files, non-ELF programs.
 */
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, type CliIo } from './main.js';
import { nodeIo, writeReplacing } from './node-io.js';
import { memoryIo } from './testing/memory-io.js';
import { tempDir } from '../testing/tmp.js';

function io(): CliIo & { o: string; e: string } {
  const r = {
    o: '',
    e: '',
    out(s: string) {
      r.o += s;
    },
    err(s: string) {
      r.e += s;
    },
    // an fs error as node:fs throws it (code + syscall + path)
    writeFile(p: string) {
      throw Object.assign(new Error(`ENOENT: no such file or directory, open '${p}'`), { code: 'ENOENT', syscall: 'open', path: p });
    },
    readFile(p: string): string {
      return readFileSync(p, 'utf8');
    },
    isTTY: false,
  };
  return r;
}

const dir = tempDir('cli-errors');
const board = readFileSync(new URL('../../emulator/boards/vexpress-vfio.dts', import.meta.url), 'utf8');
function boardFile(name: string, text: string): string {
  const f = join(dir, name);
  writeFileSync(f, text);
  return f;
}

async function expectInputError(argv: string[], message: RegExp): Promise<void> {
  const x = io();
  const code = await runCli(argv, x);
  expect(code).toBe(2);
  expect(x.e).toMatch(/^vfio-arm-emu: /);
  expect(x.e).toMatch(message);
  expect(x.e).not.toMatch(/\n\s+at /); // no stack trace
}

describe('CLI: bad files are clear errors with exit 2', () => {
  it('a board path that is a directory', async () => {
    await expectInputError(['run', 'pl330-vfio-test', '--board', dir], /cannot read board file .*: EISDIR/);
  });

  it('a board file that is not a device tree (no .dts suffix): file:line:col', async () => {
    await expectInputError(['run', 'pl330-vfio-test', '--board', boardFile('board.txt', 'root:x:0:0\n')], /board\.txt:1:1: /);
  });

  it('a board without a GIC', async () => {
    const f = boardFile('nogic.dts', '/dts-v1/;\n/ { #address-cells = <1>; #size-cells = <1>;\n memory@80000000 { device_type = "memory"; reg = <0x80000000 0x1000000>; }; };\n');
    await expectInputError(['run', 'pl330-vfio-test', '--board', f], /nogic\.dts: no GIC/);
  });

  it('a node called memory that is not RAM (no device_type) is a boot error, not a host exception', async () => {
    const f = boardFile('nomem.dts', board.replace('device_type = "memory";', ''));
    await expectInputError(['run', 'pl330-vfio-test', '--board', f], /memory node 0x80000000\+0x40000000 is not RAM/);
  });

  it('an unwritable --trace or --junit file', async () => {
    await expectInputError(['run', 'pl330-vfio-test', '--trace', '/nonexistent/t.json'], /cannot write trace file \/nonexistent\/t\.json: ENOENT/);
    await expectInputError(['run', 'pl330-vfio-test', '--junit', '/nonexistent/j.xml'], /cannot write JUnit report \/nonexistent\/j\.xml: ENOENT/);
  });

  it('--cpu unicorn --elf with a file that is not an ELF, a directory, or nothing', async () => {
    const notElf = boardFile('notelf', 'hello');
    await expectInputError(['run', '--cpu', 'unicorn', '--elf', notElf], /notelf: ELF: file too short/);
    await expectInputError(['run', '--cpu', 'unicorn', '--elf', dir], /cannot read .*: EISDIR/);
    await expectInputError(['run', '--cpu', 'unicorn', '--elf', join(dir, 'missing')], /cannot read .*missing: ENOENT/);
  });

  it('list takes no arguments', async () => {
    const x = io();
    expect(await runCli(['list', 'extra'], x)).toBe(2);
    expect(x.e).toMatch(/list: unexpected argument 'extra'/);
  });

  it('<command> --help prints that command\'s own usage and exits 0', async () => {
    const texts = new Set<string>();
    for (const cmd of ['run', 'list', 'matrix', 'trace', 'fuzz']) {
      const x = io();
      expect(await runCli([cmd, '--help'], x)).toBe(0);
      expect(x.o).toMatch(new RegExp(`usage: *\\n? *vfio-arm-emu ${cmd}\\b`));
      // its own text: not the global usage, and not another command's
      expect(x.o).not.toMatch(/vfio-arm-emu --help \| --version/);
      texts.add(x.o);
      const h = io();
      expect(await runCli(['help', cmd], h)).toBe(0);
      expect(h.o).toBe(x.o);
    }
    expect(texts.size).toBe(5);
    const r = io();
    await runCli(['run', '--help'], r);
    expect(r.o).toMatch(/--profile P/);
    expect(r.o).toMatch(/--trace-mmio FILE/);
    const f = io();
    expect(await runCli(['fuzz', '-h'], f)).toBe(0);
    expect(f.o).toMatch(/usage: vfio-arm-emu fuzz/);
    const bad = io();
    expect(await runCli(['nope', '--help'], bad)).toBe(2);
  });
});

describe('CLI on the host file system (nodeIo)', () => {
  it('creates the directories of output files (--junit reports/x.xml in a fresh checkout)', async () => {
    const out = join(dir, 'reports', 'nested');
    const x = { ...nodeIo(), out: () => {} };
    const code = await runCli(['run', 'pl330-vfio-test', '--quiet', '--junit', join(out, 'j.xml'), '--trace', join(out, 't.json')], x);
    expect(code).toBe(0);
    expect(readFileSync(join(out, 'j.xml'), 'utf8')).toMatch(/<testsuite/);
    expect(existsSync(join(out, 't.json'))).toBe(true);
    // the trace file is written in pieces: the same bytes as the one-string export
    const m = memoryIo();
    expect(await runCli(['run', 'pl330-vfio-test', '--quiet', '--trace', 't.json'], m)).toBe(0);
    expect(readFileSync(join(out, 't.json'), 'utf8')).toBe(m.files['t.json']);
    expect((JSON.parse(m.files['t.json']!) as { traceEvents: unknown[] }).traceEvents.length).toBeGreaterThan(10);
  });

  it('writes a file given in pieces as their concatenation (an empty list: an empty file)', () => {
    const io = nodeIo();
    const p = join(dir, 'pieces', 'a.txt');
    io.writeFile(p, (function* () {
      yield 'ab';
      yield '';
      yield 'cé\n';
    })());
    expect(readFileSync(p, 'utf8')).toBe('abcé\n');
    io.writeFile(p, []);
    expect(readFileSync(p, 'utf8')).toBe('');
  });

  it('replaces an output file whole: while the new bytes are written the old file is intact, and a write that fails leaves it so', () => {
    mkdirSync(join(dir, 'replace'), { recursive: true });
    const p = join(dir, 'replace', 'f.json');
    writeReplacing(p, 'old\n');
    const stray = () => readdirSync(join(dir, 'replace')).filter((n) => n.endsWith('.tmp'));
    let seenMidWrite = '';
    writeReplacing(p, (function* () {
      yield 'new ';
      // half written (a SIGKILL here would stop the process): the file still reads as the old one
      seenMidWrite = readFileSync(p, 'utf8');
      yield 'bytes\n';
    })());
    expect(seenMidWrite).toBe('old\n');
    expect(readFileSync(p, 'utf8')).toBe('new bytes\n');
    expect(() =>
      writeReplacing(p, (function* () {
        yield 'half';
        throw new Error('stopped mid-write');
      })()),
    ).toThrow(/stopped mid-write/);
    expect(readFileSync(p, 'utf8')).toBe('new bytes\n');
    expect(stray()).toEqual([]);
  });

  it('replacing follows a symbolic link, keeps the permission bits, and writes a device (/dev/null) in place', () => {
    const d = join(dir, 'replace2');
    mkdirSync(d, { recursive: true });
    const real = join(d, 'real.xml');
    writeFileSync(real, 'old');
    chmodSync(real, 0o640);
    symlinkSync('real.xml', join(d, 'link.xml'));
    writeReplacing(join(d, 'link.xml'), 'new');
    expect(lstatSync(join(d, 'link.xml')).isSymbolicLink()).toBe(true);
    expect(readFileSync(real, 'utf8')).toBe('new');
    expect(statSync(real).mode & 0o777).toBe(0o640);
    expect(readdirSync(d).sort()).toEqual(['link.xml', 'real.xml']);
    if (existsSync('/dev/null')) {
      writeReplacing('/dev/null', ['x', 'y']);
      expect(statSync('/dev/null').isCharacterDevice()).toBe(true);
    }
  });

  it('an output path below a regular file is a clear error, exit 2', async () => {
    const file = boardFile('plain-file', 'x');
    let e = '';
    const x = { ...nodeIo(), out: () => {}, err: (s: string) => void (e += s) };
    expect(await runCli(['run', 'pl330-vfio-test', '--quiet', '--junit', join(file, 'j.xml')], x)).toBe(2);
    // refused before the run: the nearest existing ancestor is a file
    expect(e).toMatch(/cannot write JUnit report .*plain-file\/j\.xml: .*plain-file is not a directory/);
  });
});

describe('CLI: trace summarize on files that are not traces', () => {
  it.each([
    ['{"traceEvents":5}', /"traceEvents" is not an array/],
    ['{"traceEvents":[null]}', /traceEvents\[0\] is not a trace event/],
    ['{"traceEvents":[{"ph":"X","name":"a"}]}', /traceEvents\[0\] is not a trace event/],
    ['null\n', /line 1: not a trace event/],
    ['{"t":1,"src":"a","kind":"k","f":{}}\n[]\n', /line 2: not a trace event/],
  ])('%s: a clear message, exit 2', async (text, re) => {
    const f = boardFile('trace.json', text);
    const x = io();
    expect(await runCli(['trace', 'summarize', f], x)).toBe(2);
    expect(x.e).toMatch(re);
    expect(x.e).not.toMatch(/Cannot read|not iterable/);
  });
});

describe('run options a scenario does not take', () => {
  it.each([
    [['run', 'group-busy', '--size', '8192'], /group-busy does not take --size/],
    [['run', 'no-unmask', '--transfers', '3'], /no-unmask does not take --transfers/],
    [['run', 'group-not-viable', '--board', 'vexpress-vfio'], /group-not-viable does not take --board/],
    [['run', 'pl330-vfio-test', '--transfers', '10001'], /--transfers at most 10000/],
  ])('%j is a usage error', async (argv, re) => {
    const { runCli } = await import('./main.js');
    let err = '';
    const code = await runCli(argv, { out: () => {}, err: (s) => (err += s), writeFile: () => {}, readFile: () => '', isTTY: false });
    expect(code).toBe(2);
    expect(err).toMatch(re);
  });
});

describe('device configuration outside what the hardware can be', () => {
  it.each([
    ['arm,pl330-channels = <8>;', 'arm,pl330-channels = <9>;', /arm,pl330-channels = 9 is outside 1\.\.8/],
    ['arm,pl330-data-width = <128>;', 'arm,pl330-data-width = <12>;', /data bus is 32, 64 or 128 bits/],
    ['arm,ias = <40>;', 'arm,ias = <99>;', /arm,ias = 99: an SMMUv1 address size/],
  ])('%s -> %s is reported at the node with exit 2', async (from, to, re) => {
    const src = readFileSync(join(__dirname, '../../emulator/boards/vexpress-vfio.dts'), 'utf8');
    expect(src).toContain(from);
    const dir = tempDir('cfg');
    const f = join(dir, 'bad-config.dts');
    writeFileSync(f, src.replace(from, to));
    let err = '';
    const code = await runCli(['run', 'pl330-vfio-test', '--board', f], { out: () => {}, err: (s) => (err += s), writeFile: () => {}, readFile: () => '', isTTY: false });
    expect(code).toBe(2);
    expect(err).toMatch(/bad-config\.dts:\d+:\d+: /);
    expect(err).toMatch(re);
  });
});
