import { describe, expect, it } from 'vitest';
import { guestBinary, shouldSkipUnicornTests } from '../../emulator/cpu/unicorn/testing/guest-build.js';
import { runCli } from './main.js';
import { memoryIo } from './testing/memory-io.js';

const io = memoryIo;

describe.skipIf(shouldSkipUnicornTests())('CLI on the Unicorn backend', () => {
  it('run pl330-vfio-test --cpu unicorn runs the C port: same lines, one interrupt, exit 0', async () => {
    const x = io();
    const code = await runCli(['run', 'pl330-vfio-test', '--cpu', 'unicorn', '--trace', 't.json'], x);
    expect(code).toBe(0);
    expect(x.o).toMatch(/^done!$/m);
    expect(x.o).toMatch(/^the message is: transfer completed$/m);
    expect(x.o).not.toMatch(/test failed!/);
    expect(x.o).toMatch(/interrupts 1,/);
    expect(JSON.parse(x.files['t.json']!)).toHaveProperty('traceEvents');
  });

  it('run --cpu unicorn --elf runs a program with arguments; --json; a segfault exits 1 with the report', async () => {
    const hello = guestBinary('hello');
    const a = io();
    expect(await runCli(['run', '--cpu', 'unicorn', '--elf', hello, '--json'], a)).toBe(0);
    const j = JSON.parse(a.o) as { exitStatus: number; stdout: string };
    expect(j.exitStatus).toBe(0);
    expect(j.stdout.length).toBeGreaterThan(0);
    const b = io();
    expect(await runCli(['run', '--cpu', 'unicorn', '--elf', guestBinary('segv')], b)).toBe(1);
    expect(b.o).toMatch(/SIGSEGV/);
    expect(b.o).toMatch(/exit status 139/);
  });
});

describe('CLI unicorn usage errors', () => {
  it.each([
    [['run', '--elf', 'x']],
    [['run', '--cpu', 'unicorn']],
    [['run', 'no-unmask', '--cpu', 'unicorn']],
    [['run', 'pl330-vfio-test', '--cpu', 'unicorn', '--size', '8192']],
    [['run', '--cpu', 'arm']],
  ])('%j exits 2', async (argv) => {
    const x = io();
    expect(await runCli(argv, x)).toBe(2);
  });
});
