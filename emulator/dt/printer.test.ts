import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { parseDts } from './parser.js';
import { printDts } from './printer.js';
import type { DeviceTree, DtChunk, DtNode, DtProperty, DtRef } from './types.js';

const LOC = { file: 'gen', line: 1, col: 1 };

// ---------------------------------------------------------------- generators

type CSpec =
  | { kind: 'cells'; bits: 8 | 16 | 32 | 64; vals: (number | bigint | { pick: number })[] }
  | { kind: 'string'; value: string }
  | { kind: 'bytes'; bytes: Uint8Array }
  | { kind: 'ref'; pick: number };
interface PSpec { name: string; chunks: CSpec[] }
interface NSpec { name: string; unit: string | null; label: boolean; props: PSpec[]; children: NSpec[] }

const special = fc.constantFrom('"', '\\', '\n', '\t', '\r', '\x00', '\x01', '\x7f', "'", '<', '>', ';', '{', '}', '/*', '//', 'é', '€', '😀');
const strArb = fc.array(fc.oneof(special, fc.string({ unit: 'binary', maxLength: 3 })), { maxLength: 4 }).map((a) => a.join(''));

const cellsArb: fc.Arbitrary<CSpec> = fc.oneof(
  fc.record({
    kind: fc.constant('cells' as const),
    bits: fc.constant(32 as const),
    vals: fc.array(fc.oneof(fc.nat({ max: 0xffffffff }), fc.record({ pick: fc.nat() })), { maxLength: 5 }),
  }),
  fc.constantFrom(8 as const, 16 as const).chain((bits) =>
    fc.record({ kind: fc.constant('cells' as const), bits: fc.constant(bits), vals: fc.array(fc.nat({ max: 2 ** bits - 1 }), { maxLength: 4 }) }),
  ),
  fc.record({ kind: fc.constant('cells' as const), bits: fc.constant(64 as const), vals: fc.array(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), { maxLength: 3 }) }),
);

const chunkArb: fc.Arbitrary<CSpec> = fc.oneof(
  cellsArb,
  fc.record({ kind: fc.constant('string' as const), value: strArb }),
  fc.record({ kind: fc.constant('bytes' as const), bytes: fc.uint8Array({ maxLength: 6 }) }),
  fc.record({ kind: fc.constant('ref' as const), pick: fc.nat() }),
);

const propNameArb = fc.stringMatching(/^[a-z#][a-z0-9,._+?#-]{0,10}$/).filter((n) => n !== 'phandle' && n !== 'linux,phandle' && !/^#(include|define|if|ifdef|ifndef|endif|undef|else|elif)$/.test(n));
const propArb: fc.Arbitrary<PSpec> = fc.record({ name: propNameArb, chunks: fc.array(chunkArb, { maxLength: 3 }) });

function nodeArb(depth: number): fc.Arbitrary<NSpec> {
  return fc.record({
    name: fc.stringMatching(/^[a-z][a-z0-9,._+-]{0,8}$/),
    unit: fc.option(fc.stringMatching(/^[0-9a-f]{1,8}(,[0-9a-f]{1,3})?$/), { nil: null }),
    label: fc.boolean(),
    props: fc.array(propArb, { maxLength: 4 }),
    children: depth === 0 ? fc.constant([]) : fc.array(nodeArb(depth - 1), { maxLength: 3 }),
  });
}

/** Build a DeviceTree from a spec (labels l0, l1, ... in document order; picks select labels). */
function build(rootSpec: NSpec): DeviceTree {
  const labels = new Map<string, DtNode>();
  const pending: [DtNode, NSpec][] = [];
  const mk = (s: NSpec, parent: DtNode | null): DtNode => {
    const n: DtNode = { name: parent === null ? '/' : s.name, unitAddress: parent === null ? null : s.unit, labels: [], props: [], children: [], parent, loc: LOC, phandle: null };
    if (s.label && parent !== null) {
      const l = `l${labels.size}`;
      labels.set(l, n);
      n.labels.push(l);
    }
    pending.push([n, s]);
    const seen = new Set<string>();
    for (const c of s.children) {
      const full = c.unit === null ? c.name : `${c.name}@${c.unit}`;
      if (seen.has(full)) continue;
      seen.add(full);
      n.children.push(mk(c, n));
    }
    return n;
  };
  const root = mk(rootSpec, null);
  const labelNames = [...labels.keys()];
  const ref = (pick: number): DtRef | null => (labelNames.length === 0 ? null : { ref: labelNames[pick % labelNames.length]!, loc: LOC });
  for (const [n, s] of pending) {
    const seen = new Set<string>();
    for (const p of s.props) {
      if (seen.has(p.name)) continue;
      seen.add(p.name);
      const value: DtChunk[] = [];
      for (const c of p.chunks) {
        if (c.kind === 'cells') {
          value.push({ kind: 'cells', bits: c.bits, cells: c.vals.map((v) => (typeof v === 'object' ? ref(v.pick) ?? 7 : v)) });
        } else if (c.kind === 'ref') {
          const r = ref(c.pick);
          value.push(r === null ? { kind: 'string', value: 'no-labels' } : { kind: 'ref', ref: r });
        } else if (c.kind === 'string') value.push({ kind: 'string', value: c.value });
        else value.push({ kind: 'bytes', bytes: c.bytes });
      }
      const prop: DtProperty = { name: p.name, value, loc: LOC };
      n.props.push(prop);
    }
  }
  return { root, labels, phandles: new Map(), file: 'gen' };
}

// ---------------------------------------------------------------- equality

function normChunk(c: DtChunk): unknown {
  switch (c.kind) {
    case 'cells': return { bits: c.bits, cells: c.cells.map((v) => (typeof v === 'object' ? { ref: v.ref, ph: v.phandle } : typeof v === 'bigint' ? `${v}n` : v)) };
    case 'string': return { s: c.value };
    case 'bytes': return { b: [...c.bytes] };
    case 'ref': return { r: c.ref.ref };
  }
}

function norm(n: DtNode, phandles: boolean): unknown {
  return {
    name: n.name,
    unit: n.unitAddress,
    labels: n.labels,
    ...(phandles ? { phandle: n.phandle } : {}),
    props: n.props.map((p) => ({ name: p.name, value: phandles ? p.value.map(normChunk) : p.value.map(stripPh).map(normChunk) })),
    children: n.children.map((c) => norm(c, phandles)),
  };
}

function stripPh(c: DtChunk): DtChunk {
  return c.kind === 'cells' ? { ...c, cells: c.cells.map((v) => (typeof v === 'object' ? { ref: v.ref, loc: v.loc } : v)) } : c;
}

// ---------------------------------------------------------------- tests

describe('printer', () => {
  test('property: print then parse gives an equal tree (content, labels, references, phandles)', () => {
    fc.assert(
      fc.property(nodeArb(3), (spec) => {
        const built = build(spec);
        const text = printDts(built);
        const t1 = parseDts(text, 'p1.dts');
        // the generated content survives printing and parsing
        expect(norm(t1.root, false)).toEqual(norm(built.root, false));
        // and a second round trip keeps phandles too
        const t2 = parseDts(printDts(t1), 'p2.dts');
        expect(norm(t2.root, true)).toEqual(norm(t1.root, true));
        expect([...t2.labels.keys()].sort()).toEqual([...t1.labels.keys()].sort());
        expect(printDts(t2)).toBe(text);
      }),
      { numRuns: 200, seed: 0x2c0a0000 },
    );
  });

  test('the default board round-trips, also with explicit phandles', () => {
    const src = readFileSync(fileURLToPath(new URL('../boards/vexpress-vfio.dts', import.meta.url)), 'utf8');
    const t = parseDts(src, 'b.dts');
    const t2 = parseDts(printDts(t), 'b2.dts');
    expect(norm(t2.root, true)).toEqual(norm(t.root, true));
    const withPh = printDts(t, { phandles: true });
    expect(withPh).toContain('phandle = <0x1>;');
    const t3 = parseDts(withPh, 'b3.dts');
    expect(t3.labels.get('gic')!.phandle).toBe(t.labels.get('gic')!.phandle);
    expect(t3.labels.get('smmu')!.phandle).toBe(t.labels.get('smmu')!.phandle);
  });

  test('prints the documented forms', () => {
    const t = parseDts('/dts-v1/;\n/memreserve/ 0x1000 0x2000;\n/ { a: n@1 { s = "x\\"y"; c = <1 &a>; b = /bits/ 8 <2>; y = [0a ff]; f; r = &a; }; };\n', 'f.dts');
    expect(printDts(t)).toBe(
      '/dts-v1/;\n\n/memreserve/ 0x1000 0x2000;\n\n/ {\n\ta: n@1 {\n\t\ts = "x\\"y";\n\t\tc = <0x1 &a>;\n\t\tb = /bits/ 8 <0x2>;\n\t\ty = [0a ff];\n\t\tf;\n\t\tr = &a;\n\t};\n};\n',
    );
  });
});
