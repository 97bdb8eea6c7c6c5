import { describe, expect, test } from 'vitest';
import {
  addressCells, bool, interruptParent, interrupts, iommus, isEnabled, reg, sizeCells, status, string, stringList,
  translatedReg, u32, u32Array, u64, bytes, phandleProp,
} from './access.js';
import { findNodeByPath, parseDts } from './parser.js';
import { DtsError } from './types.js';

const src = (...l: string[]): string => ['/dts-v1/;', ...l].join('\n') + '\n';
const at = (t: ReturnType<typeof parseDts>, p: string) => findNodeByPath(t.root, p)!;

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(DtsError);
    return (e as DtsError).message;
  }
  throw new Error('expected a DtsError');
}

describe('scalar accessors', () => {
  const t = parseDts(src(
    '/ {',
    '  one = <7>;',
    '  two = <1 2>;',
    '  big = /bits/ 64 <0x1122334455667788>;',
    '  s = "okay";',
    '  sl = "a", "b";',
    '  flag;',
    '  raw = [01 02];',
    '  x: n { ref = <&x>; status = "disabled"; };',
    '  m { status = "ok"; };',
    '};',
  ), 'a.dts');
  test('u32 / u32Array / u64 / strings / bool / bytes', () => {
    expect(u32(t.root, 'one')).toBe(7);
    expect(u32(t.root, 'absent')).toBeNull();
    expect(u32(t.root, 'absent', 5)).toBe(5);
    expect(u32Array(t.root, 'two')).toEqual([1, 2]);
    expect(u64(t.root, 'two')).toBe(0x100000002n);
    expect(u64(t.root, 'big')).toBe(0x1122334455667788n);
    expect(string(t.root, 's')).toBe('okay');
    expect(stringList(t.root, 'sl')).toEqual(['a', 'b']);
    expect(bool(t.root, 'flag')).toBe(true);
    expect(bool(t.root, 'nope')).toBe(false);
    expect([...bytes(t.root, 'raw')!]).toEqual([1, 2]);
    const n = at(t, '/n');
    expect(u32(n, 'ref')).toBe(n.phandle);
    expect(phandleProp(t, n, 'ref')).toBe(n);
  });
  test('type errors name the property', () => {
    expect(errorOf(() => u32(t.root, 'two'))).toBe("a.dts:4:3: property 'two' must be one 32-bit cell (has 2)");
    expect(errorOf(() => string(t.root, 'sl'))).toBe("a.dts:7:3: property 'sl' must be a single string");
    expect(errorOf(() => u32(t.root, 's'))).toBe("a.dts:6:3: property 's' must be a list of 32-bit cells");
    expect(errorOf(() => stringList(t.root, 'one'))).toBe("a.dts:3:3: property 'one' must be a string list");
  });
  test('status', () => {
    expect(status(t.root)).toBe('okay');
    expect(isEnabled(t.root)).toBe(true);
    expect(status(at(t, '/n'))).toBe('disabled');
    expect(isEnabled(at(t, '/n'))).toBe(false);
    expect(isEnabled(at(t, '/m'))).toBe(true);
  });
});

describe('reg', () => {
  test('decoded with the parent cells; defaults 2/1; ranges translation', () => {
    const t = parseDts(src(
      '/ {',
      '  #address-cells = <1>;',
      '  #size-cells = <1>;',
      '  a@1000 { reg = <0x1000 0x100>, <0x2000 0x10>; };',
      '  wide { #address-cells = <2>; #size-cells = <2>; c@1 { reg = <0x1 0x0 0x0 0x1000>; }; };',
      '  dflt { d { reg = <0x0 0x5 0x6>; }; };',
      '  bus@40000000 { #address-cells = <1>; #size-cells = <1>; ranges = <0x0 0x40000000 0x100000>; dev@200 { reg = <0x200 0x20>; }; };',
      '  flat { #address-cells = <1>; #size-cells = <1>; ranges; dev@300 { reg = <0x300 0x4>; }; };',
      '  nor { #address-cells = <1>; #size-cells = <1>; dev@4 { reg = <0x4 0x4>; }; };',
      '  bad { reg = <1 2 3>; };',
      '};',
    ), 'r.dts');
    expect(addressCells(t.root)).toBe(1);
    expect(sizeCells(at(t, '/wide'))).toBe(2);
    expect(reg(at(t, '/a@1000'))).toEqual([{ base: 0x1000, size: 0x100 }, { base: 0x2000, size: 0x10 }]);
    expect(reg(at(t, '/wide/c@1'))).toEqual([{ base: 0x100000000, size: 0x1000 }]);
    expect(reg(at(t, '/dflt/d'))).toEqual([{ base: 5, size: 6 }]);
    expect(translatedReg(at(t, '/bus@40000000/dev@200'))).toEqual([{ base: 0x40000200, size: 0x20 }]);
    expect(translatedReg(at(t, '/flat/dev@300'))).toEqual([{ base: 0x300, size: 4 }]);
    expect(errorOf(() => translatedReg(at(t, '/nor/dev@4')))).toBe("r.dts:10:58: address 0x4 cannot be translated: bus '/nor' has no 'ranges'");
    expect(errorOf(() => reg(at(t, '/bad')))).toBe("r.dts:11:9: 'reg' has 3 cells, not a multiple of #address-cells (1) + #size-cells (1) of the parent");
    expect(reg(t.root)).toEqual([]);
  });
});

describe('interrupts', () => {
  const t = parseDts(src(
    '/ {',
    '  interrupt-parent = <&gic>;',
    '  gic: gic { interrupt-controller; #interrupt-cells = <3>; };',
    '  sub: sub { interrupt-controller; #interrupt-cells = <1>; interrupts = <0 5 4>; };',
    '  a { interrupts = <0 1 4>, <0 2 1>; interrupt-names = "x", "y"; };',
    '  grp { interrupt-parent = <&sub>; b { interrupts = <3>; }; };',
    '  c { interrupts-extended = <&gic 0 9 4>, <&sub 2>; };',
    '  notic: plain { };',
    '  d { interrupt-parent = <&notic>; interrupts = <1>; };',
    '  e { interrupts = <1 2>; };',
    '  f { interrupts = <0 1 4>; interrupt-names = "x", "y"; };',
    '  g { interrupts-extended = <&notic 1>; };',
    '};',
  ), 'i.dts');
  const gic = t.labels.get('gic')!;
  const sub = t.labels.get('sub')!;
  test('inherited interrupt-parent, names, extended, chained controllers', () => {
    expect(interrupts(t, at(t, '/a'))).toEqual([
      { controller: gic, cells: [0, 1, 4], name: 'x', index: 0 },
      { controller: gic, cells: [0, 2, 1], name: 'y', index: 1 },
    ]);
    expect(interrupts(t, at(t, '/grp/b'))).toEqual([{ controller: sub, cells: [3], name: null, index: 0 }]);
    expect(interrupts(t, at(t, '/c')).map((r) => [r.controller, r.cells])).toEqual([[gic, [0, 9, 4]], [sub, [2]]]);
    expect(interruptParent(t, sub)).toBe(gic);
    // the root controller's parent is itself (root interrupt-parent = <&gic>)
    expect(interruptParent(t, gic)).toBe(gic);
    expect(interrupts(t, at(t, '/plain'))).toEqual([]);
  });
  test('semantic errors at the property', () => {
    expect(errorOf(() => interrupts(t, at(t, '/d')))).toBe("i.dts:10:7: interrupt-parent refers to 'notic' (/plain), which has no #interrupt-cells");
    expect(errorOf(() => interrupts(t, at(t, '/e')))).toBe("i.dts:11:7: 'interrupts' has 2 cells, not a multiple of #interrupt-cells (3) of 'gic' (/gic)");
    expect(errorOf(() => interrupts(t, at(t, '/f')))).toBe("i.dts:12:29: 'interrupt-names' has 2 names but the node has 1 interrupts");
    expect(errorOf(() => interrupts(t, at(t, '/g')))).toBe("i.dts:13:7: 'interrupts-extended' refers to 'notic' (/plain), which has no #interrupt-cells");
    const orphan = parseDts(src('/ { n { interrupts = <1>; }; };'), 'o.dts');
    expect(errorOf(() => interrupts(orphan, at(orphan, '/n')))).toBe("o.dts:2:9: no interrupt parent for '/n' (no interrupt-parent here or in an ancestor)");
  });
});

describe('iommus', () => {
  test('iommus with #iommu-cells and the older mmu-masters binding', () => {
    const t = parseDts(src(
      '/ {',
      '  smmu: smmu { #iommu-cells = <1>; };',
      '  old: old-smmu { mmu-masters = <&m2 3 4>, <&m3 9>; };',
      '  m1: m1 { iommus = <&smmu 0x1>; };',
      '  m2: m2 { #stream-id-cells = <2>; };',
      '  m3: m3 { #stream-id-cells = <1>; };',
      '  noc: x { };',
      '  bad { iommus = <&noc 1>; };',
      '  short { iommus = <&smmu>; };',
      '};',
    ), 'm.dts');
    const smmu = t.labels.get('smmu')!;
    const old = t.labels.get('old')!;
    expect(iommus(t, at(t, '/m1'))).toEqual([{ iommu: smmu, args: [1], binding: 'iommus' }]);
    expect(iommus(t, at(t, '/m2'))).toEqual([{ iommu: old, args: [3, 4], binding: 'mmu-masters' }]);
    expect(iommus(t, at(t, '/m3'))).toEqual([{ iommu: old, args: [9], binding: 'mmu-masters' }]);
    expect(iommus(t, at(t, '/x'))).toEqual([]);
    expect(errorOf(() => iommus(t, at(t, '/bad')))).toBe("m.dts:9:9: 'iommus' refers to 'noc' (/x), which has no #iommu-cells");
    expect(errorOf(() => iommus(t, at(t, '/short')))).toBe("m.dts:10:11: 'iommus' entry for 'smmu' (/smmu) needs 1 cells after the phandle");
  });
});
