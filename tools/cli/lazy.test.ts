/**
 * CLI start-up (issue 19): what each command loads is the static import closure of the module
 * the dispatcher imports for it (dynamic `import()`s load later, only when reached). `--version`
 * and usage errors load bin.ts's closure (main.ts's, and node I/O); `run` with the stub CPU
 * loads commands.ts's (as an ES module, or as the code-cached bundle of the same closure:
 * tools/cli/commands-loader.ts, code-cache.ts). Neither may reach the fuzzer, the Unicorn backend or esbuild.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Progress } from '../fuzz/cli.js';
import { memoryIo } from './testing/memory-io.js';

const root = resolve(dirname(new URL(import.meta.url).pathname), '../..');
// static imports and re-exports (type-only ones are erased by the bundler)
const STATIC = /^\s*(?:import|export)\s+(?!type\b)(?:[^'";]*?\sfrom\s+)?['"]([^'"]+)['"]/gm;

function closure(entry: string): Set<string> {
  const seen = new Set<string>();
  const todo = [resolve(root, entry)];
  while (todo.length) {
    const f = todo.pop()!;
    if (seen.has(f)) continue;
    seen.add(f);
    const src = readFileSync(f, 'utf8');
    for (const m of src.matchAll(STATIC)) {
      const spec = m[1]!;
      if (!spec.startsWith('.')) {
        if (!spec.startsWith('node:')) seen.add(`pkg:${spec}`);
        continue;
      }
      if (spec.endsWith('.json')) continue;
      todo.push(join(dirname(f), spec.replace(/\.js$/, '.ts')));
    }
  }
  return new Set([...seen].map((f) => (f.startsWith('pkg:') ? f : relative(root, f))));
}

const FORBIDDEN = /^(tools\/fuzz\/|tools\/unicorn\/|emulator\/cpu\/unicorn\/)|^pkg:(fast-check|koffi|esbuild)$/;

describe('the CLI loads only what a command needs', () => {
  it('--version, --help and usage errors: the dispatcher, the command table and the parser', () => {
    const c = [...closure('tools/cli/main.ts')].sort();
    expect(c).toEqual(['kernel-model/profile.ts', 'tools/cli/args.ts', 'tools/cli/main.ts', 'tools/cli/outputs.ts', 'tools/cli/specs.ts']);
  });

  it("the bundled CLI's entry adds only node I/O to that; the commands' loader (code cache) is imported for them alone", () => {
    expect([...closure('tools/cli/bin.ts')].sort()).toEqual(['kernel-model/profile.ts', 'tools/cli/args.ts', 'tools/cli/bin.ts', 'tools/cli/main.ts', 'tools/cli/node-io.ts', 'tools/cli/outputs.ts', 'tools/cli/specs.ts']);
    expect([...closure('tools/cli/commands-loader.ts')].sort()).toEqual(['kernel-model/profile.ts', 'tools/cli/args.ts', 'tools/cli/code-cache.ts', 'tools/cli/commands-loader.ts', 'tools/cli/outputs.ts', 'tools/cli/scenario-file.ts', 'tools/cli/specs.ts']);
  });

  it('run (stub CPU), list, matrix, trace: no fuzzer, no Unicorn backend, no esbuild', () => {
    const c = closure('tools/cli/commands.ts');
    expect(c.has('tools/scenarios/pl330.ts')).toBe(true);
    expect([...c].filter((f) => FORBIDDEN.test(f))).toEqual([]);
  });

  it('the fuzz progress bar is drawn only when stderr (where it goes) is a terminal', () => {
    const piped = Object.assign(memoryIo(), { isTTY: true, errIsTTY: false });
    const p = new Progress(piped, 10, undefined);
    p.update(5, [], 1);
    p.end();
    expect(piped.e).not.toMatch(/\r/);
    expect(piped.e).toMatch(/^fuzz: 50% /);
    const tty = Object.assign(memoryIo(), { isTTY: false, errIsTTY: true });
    const q = new Progress(tty, 10, undefined);
    q.update(5, [], 1);
    expect(tty.e).toMatch(/^\r\[#+\.+\] 50% /);
  });
});
