/**
 * The field-level arbitraries the fuzzer's call generators (arb.ts, arb-iommufd.ts) build
 * from: plain records (`rec`), u32 and index edge values, IOVAs, sizes and user addresses,
 * user pointer kinds, fd references, argsz around a struct's minsz, flag sets with unknown
 * bits, and an ioctl struct argument (`struct`). Nothing here knows a request or an fd kind's
 * calls; the seeds' programs depend on these draws, so a change here changes every campaign.
 */
import fc from 'fast-check';
import { STRUCTS, type FdKind, type FdRef, type IoctlArg, type PtrKind, type StructName, type Value } from './program.js';

/**
 * fc.record without its random prototype: fc.record draws one more boolean per record to
 * choose between a plain object and an Object.create(null) one, and null-prototype objects
 * are slow (dictionary-mode) in V8 everywhere the harness reads them. This draws the same
 * values from the same random stream (the same tuple plus that boolean, ignored), so seeds
 * give the same programs, and always builds a plain object.
 */
export function rec<T extends object>(model: { [K in keyof T]: fc.Arbitrary<T[K]> }): fc.Arbitrary<T> {
  const keys = Object.keys(model) as (keyof T & string)[];
  const arbs = keys.map((k) => model[k] as fc.Arbitrary<unknown>);
  const build = recordBuilder(keys);
  return fc.tuple(...arbs, fc.boolean()).map(
    (vals) => build(vals) as T,
    (v) => {
      if (typeof v !== 'object' || v === null) throw new Error('not a record');
      return [...keys.map((k) => (v as Record<string, unknown>)[k]), Object.getPrototypeOf(v) === null];
    },
  );
}

/**
 * `(vals) => ({ k0: vals[0], k1: vals[1], ... })` compiled per key list: an object literal
 * gets its final shape at once, where assigning keys one by one in a loop is a chain of
 * keyed stores and shape transitions per record. Same keys in the same order, same values.
 */
function recordBuilder(keys: readonly string[]): (vals: unknown[]) => object {
  // a literal "__proto__" key would set the prototype instead of a property
  if (keys.includes('__proto__')) throw new Error('rec: no __proto__ key');
  const body = `return {${keys.map((k, i) => `${JSON.stringify(k)}: v[${i}]`).join(', ')}};`;
  return new Function('v', body) as (vals: unknown[]) => object;
}

/** `(a, r) => ({ argsz: a, ...r })` for rec's records of these keys, one literal compiled per key list (recordBuilder) */
function argszBuilder(keys: readonly string[]): (a: Value, r: Record<string, Value>) => Record<string, Value> {
  if (keys.includes('argsz')) return (a, r) => ({ argsz: a, ...r });
  if (keys.includes('__proto__')) throw new Error('struct: no __proto__ field');
  const body = `return {"argsz": a${keys.map((k) => `, ${JSON.stringify(k)}: r[${JSON.stringify(k)}]`).join('')}};`;
  return new Function('a', 'r', body) as (a: Value, r: Record<string, Value>) => Record<string, Value>;
}

export const NPROC = 3;
/** pages of each process's DMA area */
export const DMA_PAGES = 16;

const u32edge = fc.constantFrom(0, 1, 2, 3, 4, 0x7fffffff, 0x80000000, 0xffffffff, 0xfffffffe, 0x1000, 0x10000);
export const u32 = fc.oneof({ weight: 3, arbitrary: u32edge }, { weight: 1, arbitrary: fc.nat({ max: 0xffffffff }) });

/** the calling process: mostly P0 (which the set-up prefix equips), sometimes the others */
export const pid = fc.oneof({ weight: 6, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: NPROC - 1 }) });

export const ptr: fc.Arbitrary<PtrKind> = fc.oneof(
  { weight: 12, arbitrary: fc.constant<PtrKind>('ok') },
  { weight: 1, arbitrary: fc.constantFrom<PtrKind>('null', 'unmapped', 'ro', 'tail') },
);

export function fdRef(kind: FdKind): fc.Arbitrary<FdRef> {
  return fc.oneof(
    { weight: 8, arbitrary: rec({ k: fc.constant(kind), i: fc.constant(0) }) },
    { weight: 4, arbitrary: rec({ k: fc.constant(kind), i: fc.nat({ max: 2 }) }) },
    { weight: 2, arbitrary: rec({ k: fc.constantFrom<FdKind>('container', 'group', 'device', 'eventfd', 'any'), i: fc.nat({ max: 3 }) }) },
    { weight: 1, arbitrary: rec({ raw: fc.constantFrom(-1, 0, 1, 2, 3, 7, 63, 1023, 1024, 0x7fffffff) }) },
  );
}

/** argsz around minsz */
export function argsz(minsz: number): fc.Arbitrary<number> {
  return fc.oneof(
    { weight: 8, arbitrary: fc.constant(minsz) },
    { weight: 3, arbitrary: fc.integer({ min: Math.max(0, minsz - 8), max: minsz + 16 }) },
    { weight: 2, arbitrary: fc.constantFrom(0, minsz - 1, minsz - 4, 0xffffffff, 0x80000000, 4096) },
  );
}

export function flags(known: number[]): fc.Arbitrary<number> {
  const combos = fc.subarray(known).map((a) => a.reduce((x, y) => x | y, 0));
  return fc.oneof(
    { weight: 8, arbitrary: combos },
    { weight: 1, arbitrary: fc.tuple(combos, fc.integer({ min: 0, max: 31 })).map(([f, b]) => (f | (1 << b)) >>> 0) },
    { weight: 1, arbitrary: u32 },
  );
}

/** an index (region, irq, ...): small ones mostly, boundaries and huge ones sometimes */
export const index = fc.oneof(
  { weight: 6, arbitrary: fc.nat({ max: 6 }) },
  { weight: 2, arbitrary: fc.constantFrom(8, 16, 64, 170, 171, 256, 0x1000, 0x10000) },
  { weight: 2, arbitrary: fc.constantFrom(0x7fffffff, 0x80000000, 0xffffffff, 0x0aaaaaab, 0x40000000) },
  { weight: 1, arbitrary: fc.nat({ max: 0xffffffff }) },
);

export const PAGE = 4096;
/** a u64 value as the hex text the program format carries past 2^53 */
export const u64hex = (x: bigint): string => '0x' + x.toString(16);
export const iova: fc.Arbitrary<Value> = fc.oneof(
  { weight: 8, arbitrary: fc.nat({ max: 24 }).map((n) => n * PAGE) },
  { weight: 2, arbitrary: fc.constantFrom(0x100000, 0x1000000, 0x80000000, 0xfffff000, 0x100000000) },
  // around and inside the SMMU's software MSI window (mainline: reserved, MAP_DMA -EINVAL)
  { weight: 1, arbitrary: fc.constantFrom(0x8000000, 0x80ff000, 0x7fff000, 0x7ffe000, 0x8100000) },
  { weight: 1, arbitrary: fc.constantFrom(u64hex(2n ** 40n - 4096n), u64hex(2n ** 52n), u64hex(2n ** 64n - 4096n), u64hex(2n ** 63n), 1, 0x800) },
);
export const size: fc.Arbitrary<Value> = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 1, max: 4 }).map((n) => n * PAGE) },
  { weight: 2, arbitrary: fc.integer({ min: 5, max: 18 }).map((n) => n * PAGE) },
  { weight: 2, arbitrary: fc.constantFrom(0, 1, 0x800, 0x1001, 0x100000) },
  { weight: 1, arbitrary: fc.constantFrom(u64hex(2n ** 32n), u64hex(2n ** 64n - 4096n), 0xfffff000, u64hex(2n ** 52n)) },
);
export const vaddr: fc.Arbitrary<Value> = fc.oneof(
  { weight: 6, arbitrary: fc.nat({ max: 7 }).map((n) => ({ dma: n })) },
  { weight: 2, arbitrary: fc.nat({ max: DMA_PAGES + 1 }).map((n) => ({ dma: n })) },
  { weight: 1, arbitrary: fc.nat({ max: 1 }).map((n) => ({ ro: n })) },
  { weight: 1, arbitrary: fc.constantFrom(0, 0x1000, 0xbffff000, 0xfffff000, u64hex(2n ** 32n), 0x800) },
);

export function struct(type: StructName, fields: Record<string, fc.Arbitrary<Value>>, tail?: fc.Arbitrary<Value[]>): fc.Arbitrary<IoctlArg> {
  const minsz = STRUCTS[type].minsz;
  const withArgsz = argszBuilder(Object.keys(fields));
  return rec({ argsz: argsz(minsz), rest: rec(fields), tail: tail ?? fc.constant(undefined), ptr })
    .map(({ argsz: a, rest, tail: t, ptr: p }) => {
      const arg: IoctlArg = { t: 'struct', type, fields: withArgsz(a, rest), ptr: p };
      if (t && t.length) arg.tail = t;
      return arg;
    });
}
