import { describe, expect, it } from 'vitest';
import { runCli, type CliIo } from './main.js';

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
    writeFile() {},
    readFile() {
      return '';
    },
    isTTY: false,
  };
  return r;
}

describe('CLI', () => {
  it('prints help and version', () => {
    const a = io();
    expect(runCli(['--help'], a)).toBe(0);
    expect(a.o).toMatch(/usage:/);
    const b = io();
    expect(runCli(['--version'], b)).toBe(0);
    expect(b.o).toMatch(/^vfio-arm-emu \d+\.\d+\.\d+/);
  });
  it.each([[[]], [['frobnicate']], [['run']], [['run', 'x', '--seed', 'abc']], [['run', 'pl330-vfio-test', '--trace-format', 'svg']]])(
    'answers bad arguments %j with usage and exit 2',
    (argv) => {
      const a = io();
      expect(runCli(argv, a)).toBe(2);
      expect(a.e).toMatch(/usage:/);
    },
  );
});
