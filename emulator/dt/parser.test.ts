import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { compatibles, getProp, u32, u32Array, stringList } from './access.js';
import { findNodeByPath, MAX_EXPR_DEPTH, MAX_NODE_DEPTH, nodePath, parseDts } from './parser.js';
import { DtsError, type DtChunk } from './types.js';
import { wideTreeSource } from './testing/wide-tree.js';

const boardPath = (n: string): string => fileURLToPath(new URL(`../boards/${n}.dts`, import.meta.url));

/** parse and return the error message (fails the test if it parses) */
function errorOf(src: string, file = 'bad.dts'): string {
  try {
    parseDts(src, file);
  } catch (e) {
    expect(e).toBeInstanceOf(DtsError);
    return (e as DtsError).message;
  }
  throw new Error('expected a DtsError');
}

const lines = (...l: string[]): string => l.join('\n') + '\n';

describe('default boards', () => {
  test('vexpress-vfio parses with the documented map', () => {
    const t = parseDts(readFileSync(boardPath('vexpress-vfio'), 'utf8'), 'vexpress-vfio.dts');
    expect(compatibles(t.root)).toEqual(['arm,vexpress']);
    expect(u32(t.root, '#address-cells')).toBe(1);
    const gic = t.labels.get('gic')!;
    expect(nodePath(gic)).toBe('/interrupt-controller@2c001000');
    expect(u32Array(t.root, 'interrupt-parent')).toEqual([gic.phandle]);
    const dma0 = t.labels.get('dma0')!;
    expect(u32Array(dma0, 'interrupts')).toEqual([0, 92, 4, 0, 93, 4, 0, 94, 4, 0, 95, 4, 0, 96, 4]);
    expect(stringList(dma0, 'interrupt-names')).toEqual(['irq0', 'irq1', 'irq2', 'irq3', 'abort']);
    // the legacy SMMU binding both kernels read: mmu-masters on the SMMU, #stream-id-cells on the master
    expect(u32Array(t.labels.get('smmu')!, 'mmu-masters')).toEqual([dma0.phandle, 1, t.labels.get('dma1')!.phandle, 1]);
    expect(u32(dma0, '#stream-id-cells')).toBe(1);
    expect(getProp(dma0, 'iommus')).toBeNull();
    expect(u32(dma0, 'arm,pl330-data-width')).toBe(128);
    expect(getProp(dma0, 'arm,pl330-mgr-ns-at-reset')!.value).toEqual([]);
    expect(u32Array(findNodeByPath(t.root, '/memory@80000000')!, 'reg')).toEqual([0x80000000, 0x40000000]);
    expect(findNodeByPath(t.root, '/cpus/cpu@0')).not.toBeNull();
    // phandles are allocated to referenced nodes only, in document order
    expect(gic.phandle).toBe(1);
    expect(dma0.phandle).toBe(2);
    expect(t.labels.get('dma1')!.phandle).toBe(3);
    expect(t.labels.get('smmu')!.phandle).toBeNull();
  });

  test('the shared-group board differs only in dma1 status and the model string', () => {
    const a = readFileSync(boardPath('vexpress-vfio'), 'utf8');
    const b = readFileSync(boardPath('vexpress-vfio-shared-group'), 'utf8');
    const ta = parseDts(a, 'a.dts');
    const tb = parseDts(b, 'b.dts');
    expect(getProp(ta.labels.get('dma1')!, 'status')!.value).toEqual([{ kind: 'string', value: 'disabled' }]);
    expect(getProp(tb.labels.get('dma1')!, 'status')!.value).toEqual([{ kind: 'string', value: 'okay' }]);
    const strip = (s: string): string => s.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '').replace(/^\s*(model|status) = .*$/gm, '').replace(/\s+/g, ' ');
    expect(strip(a)).toBe(strip(b));
  });

  test('vexpress-vfio-iommus is the default board with the generic iommus binding instead of mmu-masters', () => {
    const a = parseDts(readFileSync(boardPath('vexpress-vfio'), 'utf8'), 'a.dts');
    const c = parseDts(readFileSync(boardPath('vexpress-vfio-iommus'), 'utf8'), 'c.dts');
    const smmu = c.labels.get('smmu')!;
    expect(getProp(smmu, 'mmu-masters')).toBeNull();
    expect(u32(smmu, '#iommu-cells')).toBe(1);
    for (const l of ['dma0', 'dma1']) {
      expect(u32Array(c.labels.get(l)!, 'iommus')).toEqual([smmu.phandle, 1]);
      expect(getProp(c.labels.get(l)!, '#stream-id-cells')).toBeNull();
      expect(getProp(a.labels.get(l)!, 'iommus')).toBeNull();
    }
  });
});

describe('syntax', () => {
  test('labels, references, phandle allocation in document order, explicit phandles', () => {
    const t = parseDts(lines(
      '/dts-v1/;',
      '/ {',
      '  a: first { };',
      '  b: second { phandle = <1>; };',
      '  c: third { };',
      '  user { x = <&c &a &b>; y = <&{/third}>; };',
      '};',
    ), 'p.dts');
    expect(t.labels.get('b')!.phandle).toBe(1);
    // 'a' comes first in the document, so it gets the first free phandle (2), then c (3)
    expect(t.labels.get('a')!.phandle).toBe(2);
    expect(t.labels.get('c')!.phandle).toBe(3);
    const user = findNodeByPath(t.root, '/user')!;
    expect(u32Array(user, 'x')).toEqual([3, 2, 1]);
    expect(u32Array(user, 'y')).toEqual([3]);
    expect(t.phandles.get(2)).toBe(t.labels.get('a'));
  });

  test('cells: hex, decimal, octal, chars, expressions, /bits/', () => {
    const t = parseDts(lines(
      '/dts-v1/;',
      '/ {',
      "  v = <0x10 10 010 'A' '\\n' (1 + 2 * 3) ((1 << 4) | 3) (-1) (~0 & 0xff) (7 / 2) (7 % 4) (5 > 3 ? 11 : 12) (!0) (2 == 2 && 3 != 3)>;",
      '  b8 = /bits/ 8 <0xff 1>;',
      '  b16 = /bits/ 16 <0xffff>;',
      '  b64 = /bits/ 64 <0x123456789abcdef0>;',
      '  suffix = <10U 0x20UL>;',
      '  empty = <>;',
      '};',
    ), 'c.dts');
    expect(u32Array(t.root, 'v')).toEqual([16, 10, 8, 65, 10, 7, 19, 0xffffffff, 0xff, 3, 3, 11, 1, 0]);
    expect(getProp(t.root, 'b8')!.value).toEqual([{ kind: 'cells', bits: 8, cells: [255, 1] }]);
    expect(getProp(t.root, 'b16')!.value).toEqual([{ kind: 'cells', bits: 16, cells: [0xffff] }]);
    expect(getProp(t.root, 'b64')!.value).toEqual([{ kind: 'cells', bits: 64, cells: [0x123456789abcdef0n] }]);
    expect(u32Array(t.root, 'suffix')).toEqual([10, 32]);
    expect(u32Array(t.root, 'empty')).toEqual([]);
  });

  test('strings, string lists, escapes, bytes, booleans, mixed values', () => {
    const t = parseDts(lines(
      '/dts-v1/;',
      '/ {',
      '  s = "a\\"b\\\\c\\n\\t\\x41\\101";',
      '  l = "one", "two", "";',
      '  bytes = [00 11 2233 ff];',
      '  flag;',
      '  mixed = "x", <1 2>, [ab], &n;',
      '  n: node {};',
      '};',
    ), 's.dts');
    expect(stringList(t.root, 's')).toEqual(['a"b\\c\n\tAA']);
    expect(stringList(t.root, 'l')).toEqual(['one', 'two', '']);
    expect([...(getProp(t.root, 'bytes')!.value[0] as Extract<DtChunk, { kind: 'bytes' }>).bytes]).toEqual([0, 0x11, 0x22, 0x33, 0xff]);
    expect(getProp(t.root, 'flag')!.value).toEqual([]);
    const kinds = getProp(t.root, 'mixed')!.value.map((c) => c.kind);
    expect(kinds).toEqual(['string', 'cells', 'bytes', 'ref']);
    // a bare &ref is a path reference: it gives the node no phandle
    expect(t.labels.get('n')!.phandle).toBeNull();
  });

  test('comments, node extension by label and path, merging, deletion', () => {
    const t = parseDts(lines(
      '/dts-v1/; // version',
      '/* block',
      '   comment */',
      '/ {',
      '  #address-cells = <1>;',
      '  bus: bus@1000 { reg = <0x1000 0x10>; keep; drop; child@1 { }; gone@2 { lbl2: inner { }; }; };',
      '};',
      '&bus { added = <5>; /delete-property/ drop; /delete-node/ gone@2; };',
      '&{/bus@1000/child@1} { x = "y"; };',
      '/ { bus@1000 { keep = <9>; late { }; }; };',
      '/ { victim: v { }; };',
      '/delete-node/ &victim;',
    ), 'm.dts');
    const bus = t.labels.get('bus')!;
    expect(bus.props.map((p) => p.name)).toEqual(['reg', 'keep', 'added']);
    expect(u32(bus, 'keep')).toBe(9);
    expect(bus.children.map((c) => c.name)).toEqual(['child', 'late']);
    expect(stringList(bus.children[0]!, 'x')).toEqual(['y']);
    expect(t.labels.has('lbl2')).toBe(false);
    expect(t.labels.has('victim')).toBe(false);
    expect(findNodeByPath(t.root, '/v')).toBeNull();
    expect(t.root.loc).toEqual({ file: 'm.dts', line: 4, col: 1 });
    expect(bus.loc).toEqual({ file: 'm.dts', line: 6, col: 8 });
  });

  test('a property defined twice takes the later value; a node label may repeat on the same node', () => {
    const t = parseDts(lines('/dts-v1/;', '/ { p = <1>; q; p = <2>; a: n { }; a: n { }; };'), 'd.dts');
    expect(t.root.props.map((p) => [p.name, u32Array(t.root, p.name)])).toEqual([['p', [2]], ['q', []]]);
    expect(t.labels.get('a')!.name).toBe('n');
  });
});

describe('errors name file:line:col', () => {
  test('unterminated node points at the node that is not closed', () => {
    expect(errorOf(lines('/dts-v1/;', '/ {', '  ok { };', '  dma@2c0a0000 {', '    reg = <1 2>;'))).toBe(
      "bad.dts:4:3: unterminated node 'dma@2c0a0000' (missing '};' before end of file)",
    );
    // the '};' closes the inner node: the root block is the one left open
    expect(errorOf(lines('/dts-v1/;', '/ {', '  dma@2c0a0000 {', '    reg = <1 2>;', '};'))).toBe(
      "bad.dts:2:1: unterminated node '/' (missing '};' before end of file)",
    );
  });

  test('bad cell', () => {
    expect(errorOf(lines('/dts-v1/;', '/ {', '\treg = <0x10 0x1g>;', '};'))).toBe("bad.dts:3:14: bad cell '0x1g' (not a valid number)");
    expect(errorOf(lines('/dts-v1/;', '/ {', '  reg = <1 foo>;', '};'))).toBe(
      "bad.dts:3:12: bad cell 'foo' (expected a number, a 'c' character, &label or a parenthesised expression)",
    );
    expect(errorOf(lines('/dts-v1/;', '/ {', '  v = /bits/ 8 <256>;', '};'))).toBe('bad.dts:3:17: cell value 0x100 does not fit in 8 bits');
    expect(errorOf(lines('/dts-v1/;', '/ {', '  v = <0x100000000>;', '};'))).toBe('bad.dts:3:8: cell value 0x100000000 does not fit in 32 bits');
    expect(errorOf(lines('/dts-v1/;', '/ {', '  v = <(1 / 0)>;', '};'))).toBe('bad.dts:3:11: division by zero in expression');
    expect(errorOf(lines('/dts-v1/;', '/ {', '  v = <1 2;', '};'))).toBe("bad.dts:3:11: bad cell ';' (expected a number, a 'c' character, &label or a parenthesised expression)");
  });

  test('unknown label (in cells, in a node extension, in /delete-node/)', () => {
    expect(errorOf(lines('/dts-v1/;', '/ {', '  iommus = <&smmu 1>;', '};'))).toBe("bad.dts:3:13: unknown label 'smmu'");
    expect(errorOf(lines('/dts-v1/;', '/ { };', '&nope { };'))).toBe("bad.dts:3:1: unknown label 'nope'");
    expect(errorOf(lines('/dts-v1/;', '/ { };', '/delete-node/ &gone;'))).toBe("bad.dts:3:15: unknown label 'gone'");
    expect(errorOf(lines('/dts-v1/;', '/ { p = <&{/no/such}>; };'))).toBe("bad.dts:2:10: unknown node path '/no/such'");
  });

  test('duplicate label', () => {
    expect(errorOf(lines('/dts-v1/;', '/ {', '  x: a { };', '  x: b { };', '};'))).toBe(
      "bad.dts:4:3: duplicate label 'x' (already on /a at bad.dts:3:3)",
    );
  });

  test('missing semicolon', () => {
    expect(errorOf(lines('/dts-v1/;', '/ {', '  reg = <1 2>', '  foo;', '};'))).toBe("bad.dts:3:14: missing ';' after property 'reg' (found 'foo')");
    expect(errorOf(lines('/dts-v1/;', '/ {', '  interrupt-controller', '  foo;', '};'))).toBe(
      "bad.dts:3:23: missing ';' after property 'interrupt-controller' (found 'foo')",
    );
    expect(errorOf(lines('/dts-v1/;', '/ {', '  n { }', '  m { };', '};'))).toBe("bad.dts:3:8: missing ';' after node 'n' (found 'm')");
    expect(errorOf('/dts-v1/\n/ { };\n')).toBe("bad.dts:1:9: missing ';' after '/dts-v1/' (found '/')");
  });

  test('unterminated string, comment, byte string, cell list', () => {
    expect(errorOf(lines('/dts-v1/;', '/ {', '  model = "abc;', '};'))).toBe('bad.dts:3:11: unterminated string (missing closing \'"\' on this line)');
    expect(errorOf('/dts-v1/;\n/ { /* never closed\n')).toBe("bad.dts:2:5: unterminated comment (missing '*/')");
    expect(errorOf(lines('/dts-v1/;', '/ {', '  b = [00 11'))).toBe("bad.dts:3:7: unterminated byte string (missing ']')");
    expect(errorOf(lines('/dts-v1/;', '/ {', '  c = <1 2'))).toBe("bad.dts:3:7: unterminated cell list (missing '>')");
  });

  test('unexpected tokens and unsupported constructs', () => {
    expect(errorOf(lines('/ { };'))).toBe("bad.dts:1:1: expected '/dts-v1/;' at the start of the file (found '/')");
    expect(errorOf(lines('/dts-v1/;', '/ {', '  p = 5;', '};'))).toBe(
      "bad.dts:3:7: unexpected '5' in the value of property 'p' (expected <cells>, \"string\", [bytes] or &label)",
    );
    expect(errorOf(lines('/dts-v1/;', '/ {', '  = <1>;', '};'))).toBe(
      "bad.dts:3:3: unexpected '=' in node '/' (expected a property, a child node or '};')",
    );
    expect(errorOf(lines('/dts-v1/;', '#include "x.dtsi"', '/ { };'))).toBe(
      "bad.dts:2:1: preprocessor directive '#include' is not supported (run the C preprocessor first)",
    );
    expect(errorOf(lines('/dts-v1/;', 'foo { };'))).toBe("bad.dts:2:1: unexpected 'foo' at top level (expected '/ {', '&label {' or a directive)");
    expect(errorOf(lines('/dts-v1/;', '/ {', '  b = [0g];', '};'))).toBe("bad.dts:3:8: bad byte '0g' in byte string (expected pairs of hex digits)");
    expect(errorOf(lines('/dts-v1/;', '/ {', '  l: p = <1>;', '};'))).toBe("bad.dts:3:3: labels on properties are not supported ('l:' on 'p')");
    expect(errorOf(lines('/dts-v1/;'))).toBe("bad.dts:2:1: no root node ('/ { ... };') in file");
    expect(errorOf(lines('/dts-v1/;', '/ { a { phandle = <3>; }; b { phandle = <3>; }; };'))).toBe('bad.dts:2:31: duplicate phandle 3 (also on /a)');
  });
});

describe('robustness', () => {
  const board = readFileSync(boardPath('vexpress-vfio'), 'utf8');
  test('property: a mutated board either parses or fails with a DtsError inside the text', () => {
    const piece = fc.oneof(
      fc.constantFrom('{', '}', ';', '<', '>', '"', '[', ']', '&', '&gic', 'x:', '/', '*', '(', ')', ',', '=', '@', "'", '\\', '\n', '/bits/ 8', '0x', '#'),
      fc.string({ maxLength: 3 }),
    );
    const edit = fc.record({ at: fc.nat(), del: fc.nat({ max: 6 }), ins: piece });
    fc.assert(
      fc.property(fc.array(edit, { minLength: 1, maxLength: 4 }), (edits) => {
        let s = board;
        for (const e of edits) {
          const at = e.at % (s.length + 1);
          s = s.slice(0, at) + e.ins + s.slice(at + e.del);
        }
        try {
          parseDts(s, 'm.dts');
        } catch (err) {
          expect(err).toBeInstanceOf(DtsError);
          const { line, col, file } = (err as DtsError).loc;
          expect(file).toBe('m.dts');
          const lines = s.split('\n');
          expect(line).toBeGreaterThanOrEqual(1);
          expect(line).toBeLessThanOrEqual(lines.length);
          expect(col).toBeGreaterThanOrEqual(1);
          expect(col).toBeLessThanOrEqual(lines[line - 1]!.length + 1);
        }
      }),
      { numRuns: 300, seed: 98 },
    );
  });
});

describe('bounded and linear parsing (issue 18)', () => {
  const nested = (depth: number): string => `/dts-v1/;\n/ {\n${'n {\n'.repeat(depth)}${'};\n'.repeat(depth)}};\n`;

  test(`nesting up to MAX_NODE_DEPTH (${MAX_NODE_DEPTH}) parses; one deeper is a one-line error at the node`, () => {
    let t = parseDts(nested(MAX_NODE_DEPTH), 'deep.dts');
    let d = 0;
    for (let n = t.root; n.children.length > 0; n = n.children[0]!) d++;
    expect(d).toBe(MAX_NODE_DEPTH);
    const msg = errorOf(nested(MAX_NODE_DEPTH + 1), 'deep.dts');
    expect(msg).toBe(`deep.dts:${MAX_NODE_DEPTH + 3}:1: node 'n' is nested more than ${MAX_NODE_DEPTH} levels deep (the limit, as Linux's FDT_MAX_DEPTH)`);
    // far beyond the limit (a host stack overflow for a recursive parser): the same one-line error
    expect(errorOf(nested(200_000), 'deep.dts')).toMatch(/^deep\.dts:\d+:1: node 'n' is nested more than 64 levels deep/);
    // the limit counts from the root also for `&label { ... }` extensions
    t = parseDts(`/dts-v1/;\n/ { a: a { }; };\n&a { ${'n { '.repeat(MAX_NODE_DEPTH - 1)}${'}; '.repeat(MAX_NODE_DEPTH - 1)}};\n`, 'x.dts');
    expect(t.labels.get('a')!.children).toHaveLength(1);
    expect(errorOf(`/dts-v1/;\n/ { a: a { }; };\n&a { ${'n { '.repeat(MAX_NODE_DEPTH)}${'}; '.repeat(MAX_NODE_DEPTH)}};\n`)).toMatch(/nested more than 64 levels deep/);
  });

  test('deep parentheses and unary chains in cell expressions are a one-line error, not a host stack overflow', () => {
    const ok = parseDts(`/dts-v1/;\n/ { v = <${'('.repeat(100)}1${')'.repeat(100)} (${'-'.repeat(100)}1)>; };\n`);
    expect(u32Array(ok.root, 'v')).toEqual([1, 1]);
    expect(errorOf(`/dts-v1/;\n/ { v = <${'('.repeat(100_000)}1${')'.repeat(100_000)}>; };\n`)).toMatch(new RegExp(`^bad\\.dts:2:\\d+: expression nested more than ${MAX_EXPR_DEPTH} levels deep$`));
    expect(errorOf(`/dts-v1/;\n/ { v = <(${'~'.repeat(100_000)}1)>; };\n`)).toMatch(/^bad\.dts:2:\d+: expression nested more than 256 levels deep$/);
    expect(errorOf(`/dts-v1/;\n/ { v = <(${'1 ? '.repeat(100_000)}1${' : 0'.repeat(100_000)})>; };\n`)).toMatch(/expression nested more than 256 levels deep$/);
  });

  test('wide nodes keep dtc semantics: merging, redefinition keeps position, deletion', () => {
    const kids = Array.from({ length: 40 }, (_, i) => `k${i}: c@${i} { p${i} = <${i}>; };`).join('\n');
    const props = Array.from({ length: 40 }, (_, i) => `q${i} = <${i}>;`).join(' ');
    const t = parseDts(`/dts-v1/;\n/ { ${kids} ${props} q3 = <99>; /delete-property/ q5; q5 = <55>; /delete-node/ c@7; c@1 { extra; }; };\n&k2 { p2 = <22>; };\n`);
    const names = t.root.props.map((p) => p.name);
    expect(names.slice(0, 5)).toEqual(['q0', 'q1', 'q2', 'q3', 'q4']);
    expect(names.at(-1)).toBe('q5');
    expect(u32(t.root, 'q3')).toBe(99);
    expect(t.root.children).toHaveLength(39);
    expect(findNodeByPath(t.root, '/c@7')).toBeNull();
    expect(t.labels.has('k7')).toBe(false);
    expect(getProp(findNodeByPath(t.root, '/c@1')!, 'extra')).not.toBeNull();
    expect(u32(t.labels.get('k2')!, 'p2')).toBe(22);
  });

  test('a 100k-node tree (labels, references, reg) parses in linear time, well under the 2 s target', () => {
    // CPU time of this process, best of two: a bound on the parser, not on a loaded CI host.
    // The acceptance figure itself (<= 2000 ms) is the dt-parse benchmark (docs/PERFORMANCE.md);
    // here the bound is generous (x2) and the scaling check catches a quadratic step.
    const cpuMs = (src: string): number => {
      let best = Infinity;
      for (let k = 0; k < 2; k++) {
        const c0 = process.cpuUsage();
        const t = parseDts(src, 'wide.dts');
        const c = process.cpuUsage(c0);
        best = Math.min(best, (c.user + c.system) / 1000);
        expect(t.phandles.size).toBe(t.root.children.length);
      }
      return best;
    };
    const small = cpuMs(wideTreeSource(25_000));
    const big = cpuMs(wideTreeSource(100_000));
    expect(big).toBeLessThan(4000);
    // 4x the input: a quadratic parser takes 16x; allow for the garbage collector
    expect(big / small).toBeLessThan(8);
  });
});
