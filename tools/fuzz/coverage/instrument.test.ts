/**
 * The branch instrumenter on small snippets: the instrumented code computes what the original
 * does, and each arm's counter counts exactly the times the arm ran.
 */
import { transformSync } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { flattenSites, instrumentSource, SITE_KINDS, type Site } from './instrument.js';

/** instrument `src` (which defines function f), compile it and return f and the counters */
function load(src: string): { f: (...a: unknown[]) => unknown; c: Uint32Array; sites: Site[]; code: string } {
  const { code, sites } = instrumentSource(src, 'kernel-model/x.ts', 'C');
  const js = transformSync(code, { loader: 'ts', format: 'cjs' }).code;
  const c = new Uint32Array(sites.length);
  const f = new Function('C', `${js}\nreturn f;`)(c) as (...a: unknown[]) => unknown;
  return { f, c, sites, code };
}

/** counters by "kind@line:col" */
function counts(x: { c: Uint32Array; sites: Site[] }): Record<string, number> {
  const o: Record<string, number> = {};
  x.sites.forEach((s, i) => (o[`${s.kind}@${s.line}:${s.col}`] = x.c[i]!));
  return o;
}

/** "kind@line:col" of the first occurrence of `needle` in `src` (1-based) */
function at(src: string, kind: string, needle: string): string {
  const i = src.indexOf(needle);
  if (i < 0) throw new Error(`no ${needle}`);
  const before = src.slice(0, i).split('\n');
  return `${kind}@${before.length}:${before[before.length - 1]!.length + 1}`;
}

describe('branch instrumenter (tools/fuzz/coverage/instrument.ts)', () => {
  it('if / else / implicit else / else-if chains, with statements that rely on ASI', () => {
    const src = ['function f(a: number): number {', '  if (a > 1) return 1', '  else if (a < 0) return -1', '  let r = 0', '  if (a === 0) r = 10', '  return r', '}'].join('\n');
    const x = load(src);
    expect([x.f(5), x.f(-3), x.f(0), x.f(1)]).toEqual([1, -1, 10, 0]);
    expect(counts(x)).toEqual({
      'if@2:14': 1, // a > 1 (f(5))
      'if@3:19': 1, // a < 0 (f(-3))
      'else@3:8': 2, // neither: the inner if's implicit else (f(0), f(1))
      'if@5:16': 1,
      'else@5:3': 1,
    });
  });

  it('?:, && || ?? count their conditional operand only when it is evaluated', () => {
    const src = ['function f(a: number, b?: number | null): number {', '  const t = a ? 1 : 2;', '  const u = a > 0 && b !== undefined;', '  const v = a < 0 || b === 7;', '  return t + (u ? 10 : 0) + (v ? 100 : 0) + (b ?? 1000);', '}'].join('\n');
    const x = load(src);
    expect(x.f(1, 7)).toBe(1 + 10 + 100 + 7);
    expect(x.f(0, undefined)).toBe(2 + 0 + 0 + 1000);
    expect(counts(x)).toEqual({
      [at(src, 'cond-then', '1 : 2')]: 1,
      [at(src, 'cond-else', '2;')]: 1,
      [at(src, 'and', 'b !== undefined')]: 1, // only a > 0 evaluates it
      [at(src, 'or', 'b === 7')]: 2, // a < 0 is false both times
      [at(src, 'cond-then', '10 :')]: 1,
      [at(src, 'cond-else', '0) + (v')]: 1,
      [at(src, 'cond-then', '100 :')]: 1,
      [at(src, 'cond-else', '0) + (b')]: 1,
      [at(src, 'nullish', '1000')]: 1,
    });
  });

  it('switch clauses (fall-through counts the next clause), loops per iteration, catch', () => {
    const src = [
      'function f(a: number): number {',
      '  let r = 0;',
      '  switch (a) {',
      '    case 1:',
      '    case 2: r += 2; break;',
      '    default:',
      '  }',
      '  for (let i = 0; i < a; i++) r++;',
      '  let j = 0;',
      '  while (j < 2) j++;',
      '  do { j-- } while (j > 0)',
      '  try { if (a === 3) throw new Error("x") } catch { r = -r }',
      '  return r',
      '}',
    ];
    const x = load(src.join('\n'));
    expect([x.f(1), x.f(3), x.f(0)]).toEqual([3, -3, 0]);
    const text = src.join('\n');
    const k = counts(x);
    expect(k[at(text, 'case', 'case 1')]).toBe(1);
    expect(k[at(text, 'case', 'case 2')]).toBe(1); // entered by fall-through from case 1
    expect(k[at(text, 'default', 'default')]).toBe(2);
    expect(k[at(text, 'loop', 'r++')]).toBe(4); // 1 + 3 + 0 iterations
    expect(k[at(text, 'loop', 'j++')]).toBe(6); // two per call
    expect(k[at(text, 'loop', '{ j-- }')]).toBe(6);
    expect(k[at(text, 'if', 'throw')]).toBe(1);
    expect(k[at(text, 'else', 'if (a === 3)')]).toBe(2);
    expect(k[at(text, 'catch', '{ r = -r }')]).toBe(1);
    expect(Object.keys(k)).toHaveLength(9);
  });

  it('the site table is a function of the source text: same input, same output; kinds encode as indices', () => {
    const src = 'export function g(a: boolean, b: boolean) { return a && b ? 1 : 2; }\n';
    const a = instrumentSource(src, 'devices/y.ts');
    const b = instrumentSource(src, 'devices/y.ts');
    expect(a).toEqual(b);
    expect(a.sites.map((s) => s.kind)).toEqual(['cond-then', 'cond-else', 'and']);
    const col = (needle: string): number => src.indexOf(needle) + 1;
    expect(flattenSites(a.sites)).toEqual([1, col('1 :'), SITE_KINDS.indexOf('cond-then'), 1, col('2;'), SITE_KINDS.indexOf('cond-else'), 1, col('b ?'), SITE_KINDS.indexOf('and')]);
    // no instrumentation inside types, and none in a file without branches
    const plain = 'type T = { a: number } extends infer U ? U : never;\nexport const x: T = 1 as never;\n';
    expect(instrumentSource(plain, 'kernel-model/t.ts')).toEqual({ code: plain, sites: [] });
  });
});
