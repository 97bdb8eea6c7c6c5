/**
 * Issue 18's property: generated malformed device trees and command lines always get an
 * answer: exit 0, 1 or 2, never a host stack trace or an internal error (exit 70), within a
 * bounded time. Kept to a few seconds of CI time (small run counts; heavy commands such as
 * `matrix` and fuzz campaigns are left to their own tests).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../testing/tmp.js';
import { runCli } from './main.js';
import { memoryIo } from './testing/memory-io.js';

const dir = tempDir('robust-prop');
const BOARD = (await import('node:fs')).readFileSync(new URL('../../emulator/boards/vexpress-vfio.dts', import.meta.url), 'utf8');
/** a generous bound per command: the slowest accepted vectors here run one short scenario */
const PER_RUN_MS = 30_000;

async function answer(argv: string[]): Promise<{ code: number; err: string; ms: number }> {
  const io = memoryIo({ 'f.json': '{"format":"vfio-arm-emu-fuzz-finding","version":1,"profile":"rfc-v4","sig":"x","program":[null]}', 'empty.json': '' });
  const t0 = performance.now();
  let code: number;
  try {
    code = await runCli(argv, io);
  } catch (e) {
    // runCli rethrows what it does not recognise: bin.ts would print a stack and exit 70
    throw new Error(`internal error (exit 70) for ${JSON.stringify(argv)}: ${(e as Error).stack ?? String(e)}`);
  }
  return { code, err: io.e, ms: performance.now() - t0 };
}

function expectAnswered(r: { code: number; err: string; ms: number }, what: string): void {
  expect([0, 1, 2], what).toContain(r.code);
  expect(r.err, what).not.toMatch(/\n\s+at /);
  expect(r.ms, what).toBeLessThan(PER_RUN_MS);
}

// ------------------------------------------------------------------ malformed device trees

/** a mutation of the default board's source */
const mutation: fc.Arbitrary<(s: string) => string> = fc.oneof(
  // insert a token somewhere
  fc.tuple(fc.nat(), fc.constantFrom('{', '}', '};', ';', '<', '>', '(', ')', '&', '&gic', '"', '/', '/*', '[', '0x', '@', ':', ' x: ', '/delete-node/ ', '/bits/ 7 ', '\n', '#include')).map(
    ([at, tok]) => (s: string) => s.slice(0, at % s.length) + tok + s.slice(at % s.length),
  ),
  // delete a range
  fc.tuple(fc.nat(), fc.integer({ min: 1, max: 200 })).map(([at, n]) => (s: string) => s.slice(0, at % s.length) + s.slice((at % s.length) + n)),
  // replace a number with another (often out of range)
  fc.tuple(fc.nat({ max: 60 }), fc.constantFrom('0', '0xffffffff', '1000', '987', '988', '7', '0x100000000', '-1', '(1/0)', "'x'")).map(([k, v]) => (s: string) => {
    let i = 0;
    return s.replace(/\b(0x[0-9a-f]+|\d+)\b/g, (m) => (i++ === k ? v : m));
  }),
  // deep nesting or deep expressions in the root node
  fc.tuple(fc.integer({ min: 1, max: 5000 }), fc.boolean()).map(([d, nodes]) => (s: string) =>
    s.replace('compatible = "arm,vexpress";', nodes ? `compatible = "arm,vexpress"; ${'a { '.repeat(d)}${'}; '.repeat(d)}` : `compatible = "arm,vexpress"; v = <${'('.repeat(d)}1${')'.repeat(d)}>;`),
  ),
);

describe('property: malformed device trees', () => {
  it('every generated board gets exit 0/1/2 with no stack trace, in bounded time', async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 3 }), async (ms) => {
        const src = ms.reduce((s, m) => m(s), BOARD);
        const f = join(dir, `m${n++}.dts`);
        writeFileSync(f, src);
        expectAnswered(await answer(['run', 'pl330-vfio-test', '--quiet', '--board', f]), f);
      }),
      { numRuns: 25, seed: 18 },
    );
  });
});

// ------------------------------------------------------------------ command lines

const token = fc.constantFrom(
  'pl330-vfio-test', 'patch09-oops', 'group-busy', 'no-unmask', 'nope', 'summarize', 'f.json', 'empty.json', 'missing.json',
  '--profile', 'rfc-v4', 'mainline', 'baseline', 'patches:', 'patches:1-3,5', 'patches:1-9', 'patches:0',
  '--board', 'vexpress-vfio', '/nonexistent.dts', '/proc', '.', '--seed', '--size', '--transfers', '--channel',
  '0', '1', '-1', '1k', '256', '0x100', '4M', '64M', '99999999999', 'abc', '',
  '--trace', '--trace-format', 'jsonl', 'xml', '--json', '--junit', '--quiet', '--cpu', 'unicorn', 'stub', '--elf', '--args',
  '--insn-limit', '--time-limit', '--replay', '--jobs', '1000', '--shard', '3/2', '--out', '--time', '--', '-x', '--help', '--bogus', '--size=1k',
);
const command = fc.constantFrom('run', 'run', 'run', 'list', 'trace', 'fuzz', 'bogus', '--help', '--version', '');

describe('property: command lines', () => {
  it('every generated argument vector gets exit 0/1/2 with no stack trace, in bounded time', async () => {
    await fc.assert(
      fc.asyncProperty(command, fc.array(token, { maxLength: 8 }), async (cmd, rest) => {
        // a fuzz campaign is bounded by its own options: keep generated ones to one run
        const argv = cmd === 'fuzz' && !rest.includes('--replay') ? [cmd, '--runs', '1', ...rest.filter((t) => t !== '--time')] : cmd === '' ? rest : [cmd, ...rest];
        expectAnswered(await answer(argv), JSON.stringify(argv));
      }),
      { numRuns: 60, seed: 18 },
    );
  });
});
