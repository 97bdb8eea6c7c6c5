/**
 * In-place snapshot/restore of a booted object graph (the fuzzer's Harness: System, kernel
 * model, devices, processes, reference model), so that every fast-check run starts from the
 * identical post-boot state without paying for a boot.
 *
 * Taking a snapshot walks everything reachable from the roots and records, per object, its
 * own data properties (per array its elements, per Map/Set its entries, per ArrayBuffer a
 * copy of its bytes). Restoring writes those records back into the SAME objects (object
 * identities are kept, so every reference between them stays valid) and drops properties
 * and entries added since; objects created after the snapshot become unreachable.
 *
 * RAM is not walked: each RamRegion is a page store with its own snapshot record
 * (emulator/ram.ts: every write through the store marks its 4 KiB pages), so a restore
 * copies back only the pages written since and drops the chunks allocated since.
 *
 * Write barriers (`Guard`, `TrackedArrays`): a part whose owner counts its changes is visited
 * only when the count moved (the sysfs tree, each IRQ descriptor, each PL330, the SMMU's
 * accelerators: tools/fuzz/engine.ts harnessSnapshot), typed arrays whose writer marks the
 * indexes it changes are copied back only at those indexes. Frozen objects and the parts
 * `constants`/`constantsOf` name are not recorded at all (what a frozen object points to is:
 * the model freezes its constant tables and all-readonly instances for this, docs/PERFORMANCE.md
 * round 16). tools/fuzz/snapshot-census.ts lists
 * what is left and what a campaign changes.
 *
 * Limits (checked where possible, tested otherwise): state captured only by closures
 * (a `let` variable a callback updates) and module-level variables are invisible here; a
 * generator, promise or WeakMap in the graph makes the snapshot refuse (SnapshotUnsupported),
 * and the caller falls back to fresh boots. tools/fuzz/snapshot.test.ts proves exactness for
 * the fuzzer's harness: after arbitrary runs, the restored graph (RAM included) digests
 * identically to the snapshot (snapshot-digest.ts graphDigest), and programs give identical transcripts on restored and
 * freshly booted systems.
 */
import { RamRegion, ZERO_CHUNK } from '../../emulator/ram.js';
import { restoreMap, restoreSet, sameMap, sameSet } from './snapshot-collections.js';

export class SnapshotUnsupported extends Error {}

type Rec =
  | {
      k: 0;
      o: Record<PropertyKey, unknown>;
      /** writable data properties and their values */
      keys: PropertyKey[];
      vals: unknown[];
      /** plain object: checked for properties added since (then `all` = its own keys at snapshot time) */
      dict: boolean;
      nEnum: number;
      all: PropertyKey[] | null;
      /** compiled restore of these string keys (fieldRestorer), or null: the generic loop */
      fn: FieldRestorer | null;
    }
  | { k: 1; o: unknown[]; vals: unknown[] }
  | { k: 2; o: Map<unknown, unknown>; keys: unknown[]; vals: unknown[] }
  | { k: 3; o: Set<unknown>; vals: unknown[] }
  | { k: 4; o: ArrayBuffer; view: Uint8Array; copy: Uint8Array };

/**
 * Typed arrays of one length, indexed alike, whose writer records every index it changes
 * (`owner.touched.mark(i)`; the snapshot installs the record). Restore copies back only the
 * touched indexes instead of whole arrays (the page allocator's per-page state, reference
 * and pin counts: 0.6 MB for the 256 MiB board, of which a run changes a few dozen pages).
 */
export interface TrackedArrays {
  arrays: readonly (Uint8Array | Uint32Array)[];
  owner: { touched: { mark(i: number): void } | null };
}

/** the indexes changed since the last restore: a flag per index and the list of flagged ones */
export class IndexRecord {
  readonly flags: Uint8Array;
  readonly list: number[] = [];
  constructor(n: number) {
    this.flags = new Uint8Array(n);
  }
  mark(i: number): void {
    if (this.flags[i] === 0) {
      this.flags[i] = 1;
      this.list.push(i);
    }
  }
}

/**
 * A part of the graph whose owner counts every change of it in `version` (a write barrier
 * kept by the owner's own methods, e.g. kernel-model/sysfs's tree: its entries are frozen and
 * its directory maps change only through Sysfs, which counts each change). Restore visits the
 * part only when the version moved. Recorded under a guard are `root` and the objects
 * reachable from it that nothing outside it reaches (the rest are recorded as usual; frozen
 * objects are not recorded). Several guards may share an owner. The owner's `version` field
 * must itself be restored: recorded outside the guards or inside a guarded part (the owner is
 * the root: kernel-model/irq's descriptors, one guard each, so that a run that touches one
 * line restores that line only); restore reads every version before it writes anything back.
 */
export interface Guard {
  owner: { readonly version: number };
  root: object;
}

interface GuardRec {
  owner: { readonly version: number };
  version: number;
  recs: Rec[];
  /** restores that found the version moved (diagnostics) */
  restores: number;
  /** this restore: the version had moved (every guard is checked before any is written back) */
  moved: boolean;
}

interface TrackedRec {
  arrays: readonly (Uint8Array | Uint32Array)[];
  copies: (Uint8Array | Uint32Array)[];
  touched: IndexRecord;
}

type FieldRestorer = (o: Record<string, unknown>, vals: unknown[]) => void;

/**
 * Restorers compiled per key list: `o["a"]` with a constant key is a named property
 * access the JIT caches per object shape, where the generic loop's `o[k]` is a megamorphic
 * keyed access (~2,800 properties of ~440 objects per restore of the fuzz harness).
 * Same semantics as the generic loop: compare first, write when different or 0 (-0).
 * A cache of generated code, not model state.
 */
const restorers = new Map<string, FieldRestorer>();

function fieldRestorer(keys: readonly PropertyKey[]): FieldRestorer | null {
  if (keys.length === 0 || keys.some((k) => typeof k !== 'string')) return null;
  const id = JSON.stringify(keys);
  let fn = restorers.get(id);
  if (fn === undefined) {
    let body = 'let c;\n';
    (keys as string[]).forEach((k, j) => {
      const q = JSON.stringify(k);
      body += `c = o[${q}]; if (c !== v[${j}] || c === 0) o[${q}] = v[${j}];\n`;
    });
    fn = new Function('o', 'v', body) as FieldRestorer;
    restorers.set(id, fn);
  }
  return fn;
}

const TypedArrayProto = Object.getPrototypeOf(Uint8Array.prototype) as object;

export function isView(v: object): v is ArrayBufferView {
  return ArrayBuffer.isView(v);
}

function tag(v: object): string {
  return Object.prototype.toString.call(v);
}

/** Visit the graph from `roots` in a deterministic order (BFS, own keys in property order); snapshot-digest.ts digests in this order. */
export function walk(roots: readonly object[], skip: ReadonlySet<object>, visit: (o: object) => void): void {
  const seen = new Set<object>();
  const queue: object[] = [];
  const push = (v: unknown): void => {
    if (v === null || (typeof v !== 'object' && typeof v !== 'function')) return;
    const o = v as object;
    if (seen.has(o) || skip.has(o)) return;
    seen.add(o);
    queue.push(o);
  };
  for (const r of roots) push(r);
  for (let qi = 0; qi < queue.length; qi++) {
    const o = queue[qi]!;
    if (typeof o === 'function') continue; // functions: treated as constants (their closures are not visible)
    visit(o);
    if (o instanceof ArrayBuffer || o instanceof RamRegion) continue; // a RAM region: its contents are its own state
    if (isView(o)) {
      push(o.buffer);
      continue;
    }
    if (o instanceof Map) {
      for (const [k, v] of o) {
        push(k);
        push(v);
      }
      continue;
    }
    if (o instanceof Set) {
      for (const v of o) push(v);
      continue;
    }
    if (Array.isArray(o)) {
      for (let i = 0; i < o.length; i++) push(o[i]);
      continue;
    }
    for (const k of Reflect.ownKeys(o)) {
      const d = Object.getOwnPropertyDescriptor(o, k)!;
      if ('value' in d) push(d.value);
    }
  }
}

/**
 * Enumerable string keys, own and inherited (allocation-free; symbol keys are not used by the
 * models). Only plain objects are counted (prototype Object.prototype or null), whose
 * prototypes have no enumerable keys, so this is their own key count; it is taken the same
 * way at snapshot and at restore, after the recorded keys were written back, so a different
 * count means keys were added (then the exact path removes them). Without an `Object.hasOwn`
 * call per key the count is about 3x cheaper (376 plain objects in the fuzz harness's graph).
 */
function ownKeyCount(o: object): number {
  let n = 0;
  for (const k in o) {
    void k;
    n++;
  }
  return n;
}

function restoreIndex(t: TrackedRec, p: number): void {
  const as = t.arrays;
  const cs = t.copies;
  for (let j = 0; j < as.length; j++) as[j]![p] = cs[j]![p]!;
}

export class GraphSnapshot {
  private readonly recs: Rec[] = [];
  private readonly rams: RamRegion[] = [];
  private readonly tracked: TrackedRec[] = [];
  private readonly guards: GuardRec[] = [];
  private readonly skip: ReadonlySet<object>;
  /**
   * test mode: guarded parts are compared on every restore, and one that differs from its
   * record while its version did not move throws (a change the owner did not count); so are
   * tracked arrays at the indexes their change record did not mark
   */
  verifyGuards = false;
  /** restores that found a guarded part's version moved (diagnostics) */
  guardRestores = 0;
  /** records visited by the restores so far: the unguarded ones every time, a guard's when it moved (diagnostics) */
  visited = 0;

  /**
   * @param roots objects whose reachable state is recorded
   * @param rams RAM regions restored through their own page-store snapshot (taken here; they are not walked)
   * @param skip objects left alone (neither recorded nor restored)
   * @param constants roots of data nothing changes after the snapshot (the parsed device
   *   tree): everything reachable from them is left alone. The exactness tests digest the
   *   whole graph, these included, so a change to them is caught there.
   * @param tracked typed arrays restored through their owner's change record (installed
   *   here as `owner.touched`); neither they nor their buffers are recorded whole
   * @param constantsOf for an object of the graph, the parts of it that are never written
   *   after construction (e.g. a register map's table and layout: RegisterMap.constantParts),
   *   left alone like `constants`; asked once per object, in a walk before the recording one
   * @param guards parts restored only when their owner's version moved (Guard)
   */
  constructor(
    readonly roots: readonly object[],
    rams: readonly RamRegion[],
    skip: readonly object[] = [],
    constants: readonly object[] = [],
    tracked: readonly TrackedArrays[] = [],
    constantsOf?: (o: object) => readonly object[] | null,
    guards: readonly Guard[] = [],
  ) {
    const sk = new Set<object>(skip);
    for (const t of tracked) {
      const n = t.arrays[0]?.length ?? 0;
      if (t.arrays.some((a) => a.length !== n)) throw new RangeError('tracked arrays of different lengths');
      const touched = new IndexRecord(n);
      t.owner.touched = touched;
      sk.add(touched);
      sk.add(touched.flags);
      sk.add(touched.flags.buffer);
      sk.add(touched.list);
      for (const a of t.arrays) {
        sk.add(a);
        sk.add(a.buffer);
      }
      this.tracked.push({ arrays: t.arrays, copies: t.arrays.map((a) => a.slice()), touched });
    }
    // the page stores' shared all-zero chunk (what reads of absent chunks return; never
    // written): 64 KiB copied back on every restore when a cached view holds it
    sk.add(ZERO_CHUNK);
    sk.add(ZERO_CHUNK.buffer);
    for (const r of rams) {
      sk.add(r);
      r.snapshot();
      this.rams.push(r);
    }
    const consts = [...constants];
    if (constantsOf) {
      walk(roots, new Set([...sk, ...consts]), (o) => {
        const c = constantsOf(o);
        if (c) consts.push(...c);
      });
    }
    walk(consts, new Set(rams), (o) => sk.add(o));
    this.skip = sk;
    // everything not reached only through a guard's root is recorded as usual; then each
    // guard's own part (what its root alone reaches) into that guard's list
    const mainSeen = new Set<object>(sk);
    for (const g of guards) mainSeen.add(g.root);
    walk(roots, mainSeen, (o) => {
      mainSeen.add(o);
      this.record(o);
    });
    for (const g of guards) {
      const gr: GuardRec = { owner: g.owner, version: g.owner.version, recs: [], restores: 0, moved: false };
      mainSeen.delete(g.root);
      walk([g.root], mainSeen, (o) => {
        mainSeen.add(o);
        this.record(o, gr.recs);
      });
      this.guards.push(gr);
    }
  }

  private record(o: object, recs: Rec[] = this.recs): void {
    if (o instanceof ArrayBuffer) {
      recs.push({ k: 4, o, view: new Uint8Array(o), copy: new Uint8Array(o.slice(0)) });
      return;
    }
    if (isView(o)) return; // its buffer is recorded
    if (o instanceof Map) {
      recs.push({ k: 2, o, keys: [...o.keys()], vals: [...o.values()] });
      return;
    }
    if (o instanceof Set) {
      recs.push({ k: 3, o, vals: [...o] });
      return;
    }
    if (Array.isArray(o)) {
      // a frozen array cannot change (a frozen Map or Set can: their entries are not properties)
      if (Object.isFrozen(o)) return;
      recs.push({ k: 1, o, vals: o.slice() });
      return;
    }
    const t = tag(o);
    if (t === '[object Generator]' || t === '[object Promise]' || o instanceof WeakMap || o instanceof WeakSet || t === '[object WeakRef]') {
      throw new SnapshotUnsupported(`cannot snapshot a ${t}`);
    }
    if (Object.getPrototypeOf(o) === TypedArrayProto) return;
    if (Object.isFrozen(o)) return;
    const keys: PropertyKey[] = [];
    const vals: unknown[] = [];
    const own = Reflect.ownKeys(o);
    for (const k of own) {
      const d = Object.getOwnPropertyDescriptor(o, k)!;
      // accessors: their state lives elsewhere; read-only data cannot have changed
      if (!('value' in d) || !d.writable) continue;
      keys.push(k);
      vals.push(d.value);
    }
    // class instances have fixed shapes (TypeScript declares every field); only plain objects
    // (dictionaries) are checked for keys added since the snapshot
    const proto = Object.getPrototypeOf(o) as unknown;
    const dict = proto === Object.prototype || proto === null;
    recs.push({ k: 0, o: o as Record<PropertyKey, unknown>, keys, vals, dict, nEnum: dict ? ownKeyCount(o) : 0, all: dict ? own : null, fn: fieldRestorer(keys) });
  }

  /** Put every recorded object (and RAM) back to its state at snapshot time. */
  restore(): void {
    // guards first: the owners' version fields are among the records written back (below, or
    // in a guard's own part): every version is read before any guarded part is written back
    const guards = this.guards;
    for (let i = 0; i < guards.length; i++) guards[i]!.moved = guards[i]!.owner.version !== guards[i]!.version;
    for (const g of guards) {
      if (g.moved) {
        this.guardRestores++;
        g.restores++;
        this.visited += g.recs.length;
        restoreRecs(g.recs);
      } else if (this.verifyGuards) {
        for (const rec of g.recs) if (recChanged(rec)) throw new Error(`snapshot guard: a guarded ${tagOf(rec)} changed while its owner's version stayed ${g.version}`);
      }
    }
    for (const r of this.rams) r.restore();
    for (const t of this.tracked) {
      const { flags, list } = t.touched;
      if (this.verifyGuards) {
        const n = flags.length;
        for (let p = 0; p < n; p++) {
          if (flags[p] !== 0) continue;
          for (let j = 0; j < t.arrays.length; j++) if (t.arrays[j]![p] !== t.copies[j]![p]) throw new Error(`snapshot change record: index ${p} of a tracked array changed without being marked`);
        }
      }
      for (let i = 0; i < list.length; i++) {
        const p = list[i]!;
        flags[p] = 0;
        restoreIndex(t, p);
      }
      list.length = 0;
    }
    this.visited += this.recs.length;
    restoreRecs(this.recs);
  }

  /** number of recorded objects (diagnostics; guarded ones included) */
  get size(): number {
    let n = this.recs.length;
    for (const g of this.guards) n += g.recs.length;
    return n;
  }

  /** the recorded objects, guarded ones last (diagnostics: tools/fuzz/snapshot-census.ts) */
  recordedObjects(): { o: object; guarded: boolean }[] {
    const out = this.recs.map((r) => ({ o: r.o as object, guarded: false }));
    for (const g of this.guards) for (const r of g.recs) out.push({ o: r.o, guarded: true });
    return out;
  }

  /** the recorded objects that differ from their records now (diagnostics; not for hot paths) */
  changedObjects(): object[] {
    const out: object[] = [];
    for (const r of this.recs) if (recChanged(r)) out.push(r.o);
    for (const g of this.guards) for (const r of g.recs) if (recChanged(r)) out.push(r.o);
    return out;
  }

  /** restores that found the version of `owner`'s guards moved, and the objects recorded under them (diagnostics) */
  guardOf(owner: object): { restores: number; records: number } {
    let restores = 0;
    let records = 0;
    for (const g of this.guards) {
      if (g.owner !== owner) continue;
      restores += g.restores;
      records += g.recs.length;
    }
    return { restores, records };
  }

  /** number of objects recorded under guards (diagnostics) */
  get guardedSize(): number {
    let n = 0;
    for (const g of this.guards) n += g.recs.length;
    return n;
  }
}

function tagOf(rec: Rec): string {
  return rec.k === 0 ? 'object' : ['', 'array', 'map', 'set', 'buffer'][rec.k]!;
}

/** does the recorded object differ from its record? (verification only) */
function recChanged(rec: Rec): boolean {
  switch (rec.k) {
    case 0: {
      for (let j = 0; j < rec.keys.length; j++) if (!Object.is(rec.o[rec.keys[j] as string], rec.vals[j])) return true;
      return rec.dict && ownKeyCount(rec.o) !== rec.nEnum;
    }
    case 1:
      return rec.o.length !== rec.vals.length || rec.vals.some((v, j) => !Object.is(rec.o[j], v));
    case 2:
      return !(rec.o.size === rec.keys.length && sameMap(rec.o, rec.keys, rec.vals));
    case 3:
      return !(rec.o.size === rec.vals.length && sameSet(rec.o, rec.vals));
    case 4:
      return rec.view.some((b, j) => b !== rec.copy[j]);
  }
}

function restoreRecs(recs: Rec[]): void {
  for (let i = 0; i < recs.length; i++) {
    const rec = recs[i]!;
    switch (rec.k) {
      case 0: {
        const o = rec.o;
        const keys = rec.keys;
        const vals = rec.vals;
        if (rec.fn !== null) rec.fn(o as Record<string, unknown>, vals);
        else for (let j = 0; j < keys.length; j++) {
          // compare first (a store is dearer); 0 is always rewritten (-0 === 0)
          const k = keys[j] as string;
          const c = o[k];
          if (c !== vals[j] || c === 0) o[k] = vals[j];
        }
        // properties added since the snapshot
        if (rec.dict && ownKeyCount(o) !== rec.nEnum) {
          const keep = new Set(rec.all);
          for (const k of Reflect.ownKeys(o)) if (!keep.has(k)) delete o[k as string];
        }
        break;
      }
      case 1: {
        // most arrays are unchanged: compare first (no length change, no write barrier)
        const a = rec.o;
        const v = rec.vals;
        if (a.length !== v.length) a.length = v.length;
        for (let j = 0; j < v.length; j++) {
          const c = a[j];
          if (c !== v[j] || c === 0) a[j] = v[j];
        }
        break;
      }
      case 2:
        restoreMap(rec.o, rec.keys, rec.vals);
        break;
      case 3:
        restoreSet(rec.o, rec.vals);
        break;
      case 4:
        rec.view.set(rec.copy);
        break;
    }
  }
}
