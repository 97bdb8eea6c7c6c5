/**
 * Declarative register maps (docs/ARCHITECTURE.md, "Register maps").
 *
 * A device model describes its register file ONCE, as a table of `RegSpec`s: offset (or an
 * array of registers at a stride), name, access type, reset value, accepted access sizes and,
 * where a register has behaviour, read/write handlers. From that table the map derives:
 *  - MMIO dispatch (an O(1) word-indexed lookup, no switch statements);
 *  - the register file's storage (`store`, one Uint32Array per bank) and its reset;
 *  - register names for traces (`nameAt(offset)`: "SMR[3]", "CB1.FSR");
 *  - guest-error reporting: an access to an offset no register decodes, a write to a
 *    read-only register, a read of a write-only register or an access of a size the register
 *    does not accept is reported through `GuestErrorSink` (a `guest-error` trace event and a
 *    counter in the run summary, as QEMU's LOG_GUEST_ERROR does) and never silently eaten.
 *    The bus response follows the hardware: the map answers RAZ/WI for such accesses unless
 *    the spec (or the map's `badSize` policy) says the slave answers with an error.
 *
 * Semantics of the access types (AMBA/ARM register conventions):
 *  - RO: reads return the value; writes are ignored (WI) and reported.
 *  - WO: writes take effect; reads return 0 (RAZ) and are reported.
 *  - RW: reads return the value; writes replace the bits in `mask` (default all).
 *  - W1C: reads return the value; a write clears the bits written as 1 (within `mask`).
 * A register with a `read` handler computes its value; without one the value is the stored
 * word. A register with a `write` handler does what the handler says (the handler may update
 * `map.store`); without one the store is updated as the access type says.
 *
 * The map itself has no behaviour of a particular device; it is checked against the
 * device's manual by reading the device's table.
 */
import type { Attrs } from './attrs.js';
import { BUS_OK, BUS_SLAVE_ERROR, SIZE_1, SIZE_2, SIZE_4 } from './bus.js';

export type RegAccess = 'RO' | 'WO' | 'RW' | 'W1C';

export interface RegSpec<D> {
  /** register name as the manual spells it ("SCR0", "INTEN", "GICD_ISENABLER") */
  readonly name: string;
  /** byte offset of the first (or only) register */
  readonly offset: number;
  /** number of registers in an array (default 1); element i sits at offset + i * stride */
  readonly count?: number;
  /** array stride in bytes (default 4) */
  readonly stride?: number;
  readonly access: RegAccess;
  /** value after reset (default 0), for every element of an array */
  readonly reset?: number;
  /** bits a plain RW/W1C write may change (default 0xffffffff) */
  readonly mask?: number;
  /** OR of SIZE_1/SIZE_2/SIZE_4 this register accepts (default the map's `sizes`) */
  readonly sizes?: number;
  /**
   * Computed read. `i` is the array element, `bank` the bank the access decoded to (0 for a
   * map without banks), `byte` the byte offset inside the 32-bit register (sub-word access)
   * and `size` the access size. Returns the value as the access sees it: for a sub-word
   * access the handler returns just those bytes.
   */
  readonly read?: (dev: D, i: number, bank: number, byte: number, size: number) => number;
  /** Write behaviour; `value` is the access's value (sub-word accesses: just those bytes). */
  readonly write?: (dev: D, value: number, i: number, bank: number, byte: number, size: number) => void;
  /** where the behaviour comes from (manual section), shown in docs and tests */
  readonly doc?: string;
}

/** What a map reports a bad guest access to (the machine's tracer implements it). */
export interface GuestErrorSink {
  guestError(src: string, what: GuestErrorKind, offset: number, reg: string | null, value: number | null): void;
}

export type GuestErrorKind = 'unmapped-read' | 'unmapped-write' | 'read-only-write' | 'write-only-read' | 'bad-size';

/** Policy for an access of a size the register does not accept. */
export type BadSizePolicy = 'slave-error' | 'raz-wi';

export interface RegisterMapOptions {
  /** bytes the map decodes (offsets >= size are unmapped); default: just past the last register */
  size?: number;
  /** number of banks (copies of the register file selected by the caller, e.g. SMMU context banks) */
  banks?: number;
  /** default accepted sizes (default SIZE_4) */
  sizes?: number;
  /** answer to a size the register does not accept (default 'slave-error') */
  badSize?: BadSizePolicy;
  /** prefix for a bank's register names: (bank) => "CB1." (default none) */
  bankPrefix?: (bank: number) => string;
  /** offset of a bank's first byte in the device's region, for guest-error reports (default 0) */
  reportBase?: (bank: number) => number;
}

const NONE = -1;

/**
 * The decoding of a register table: which spec and element each word of the range is, each
 * spec's first slot, one bank's reset values. It depends only on the table and the decoded
 * size, so it is built once per table (issue 19: the device models share their tables per
 * configuration, e.g. devices/pl330/regs.ts, and every instance used to rebuild it at boot).
 * Shared layouts are never written after construction.
 */
interface Layout {
  readonly size: number;
  readonly wordSpec: Int16Array;
  readonly wordElem: Int16Array;
  readonly base: Int32Array;
  readonly slots: number;
  readonly resetValues: Uint32Array;
  /** spec index by register name (the first spec of that name) */
  readonly byName: ReadonlyMap<string, number>;
}

const layouts = new WeakMap<readonly RegSpec<unknown>[], Layout[]>();

function layoutOf<D>(device: string, specs: readonly RegSpec<D>[], sizeOpt: number | undefined): Layout {
  const key = specs as readonly RegSpec<unknown>[];
  let list = layouts.get(key);
  if (list !== undefined) {
    for (const l of list) if (sizeOpt === undefined ? l.size === naturalSize(specs) : l.size === sizeOpt) return l;
  } else {
    list = [];
    layouts.set(key, list);
  }
  const l = buildLayout(device, specs, sizeOpt);
  list.push(l);
  return l;
}

function naturalSize<D>(specs: readonly RegSpec<D>[]): number {
  let end = 0;
  for (const s of specs) end = Math.max(end, s.offset + ((s.count ?? 1) - 1) * (s.stride ?? 4) + 4);
  return end;
}

function buildLayout<D>(device: string, specs: readonly RegSpec<D>[], sizeOpt: number | undefined): Layout {
  const end = naturalSize(specs);
  const size = sizeOpt ?? end;
  if (end > size) throw new RangeError(`${device}: register map of ${size} bytes cannot hold a register ending at 0x${end.toString(16)}`);
  const wordSpec = new Int16Array((size + 3) >>> 2).fill(NONE);
  const wordElem = new Int16Array((size + 3) >>> 2);
  const base = new Int32Array(specs.length);
  let slots = 0;
  specs.forEach((s, si) => {
    const n = s.count ?? 1;
    const stride = s.stride ?? 4;
    if ((s.offset & 3) !== 0 || (stride & 3) !== 0 || n < 1) throw new RangeError(`${device}: register ${s.name} is not word-aligned`);
    base[si] = slots;
    slots += n;
    for (let e = 0; e < n; e++) {
      const w = (s.offset + e * stride) >>> 2;
      if (wordSpec[w] !== NONE) throw new RangeError(`${device}: registers ${specs[wordSpec[w]!]!.name} and ${s.name} overlap at 0x${(w * 4).toString(16)}`);
      wordSpec[w] = si;
      wordElem[w] = e;
    }
  });
  const resetValues = new Uint32Array(slots);
  specs.forEach((s, si) => {
    const v = (s.reset ?? 0) >>> 0;
    const n = s.count ?? 1;
    for (let e = 0; e < n; e++) resetValues[base[si]! + e] = v;
  });
  const byName = new Map<string, number>();
  specs.forEach((s, si) => {
    if (!byName.has(s.name)) byName.set(s.name, si);
  });
  return { size, wordSpec, wordElem, base, slots, resetValues, byName };
}

/** One decoded register of a map (index into `specs`, array element). */
export interface DecodedReg {
  spec: number;
  elem: number;
}

export class RegisterMap<D> {
  readonly specs: readonly RegSpec<D>[];
  /** decoded byte range */
  readonly size: number;
  readonly banks: number;
  /** words per bank in `store`: one slot per register element */
  readonly slots: number;
  /**
   * Backing store of the register file: bank b, element e of spec s is
   * store[b * slots + base[s] + e]. Devices read their plain registers here.
   */
  readonly store: Uint32Array;
  /** first slot of each spec */
  readonly base: Int32Array;
  /** per 32-bit word of the decoded range: spec index (NONE when nothing decodes) */
  private readonly wordSpec: Int16Array;
  /** per word: array element */
  private readonly wordElem: Int16Array;
  private readonly badSize: BadSizePolicy;
  private readonly defSizes: number;
  private readonly bankPrefix: ((bank: number) => string) | null;
  private readonly reportBase: ((bank: number) => number) | null;
  /** one bank's reset values (shared with every map of the same table) */
  private readonly resetValues: Uint32Array;
  private readonly byName: ReadonlyMap<string, number>;

  constructor(
    readonly device: string,
    specs: readonly RegSpec<D>[],
    private readonly errors: GuestErrorSink | null,
    opts: RegisterMapOptions = {},
  ) {
    this.specs = specs;
    this.banks = opts.banks ?? 1;
    this.defSizes = opts.sizes ?? SIZE_4;
    this.badSize = opts.badSize ?? 'slave-error';
    this.bankPrefix = opts.bankPrefix ?? null;
    this.reportBase = opts.reportBase ?? null;
    const layout = layoutOf(device, specs, opts.size);
    this.size = layout.size;
    this.wordSpec = layout.wordSpec;
    this.wordElem = layout.wordElem;
    this.base = layout.base;
    this.slots = layout.slots;
    this.resetValues = layout.resetValues;
    this.byName = layout.byName;
    this.store = new Uint32Array(this.slots * this.banks);
    this.reset();
  }

  /**
   * The parts of this map that are never written after construction: the register table and
   * its decoding layout, shared with every map of the same table (not `store`, the register
   * state). A snapshot of a machine may leave them alone (the fuzzer's, tools/fuzz/snapshot.ts).
   */
  constantParts(): readonly object[] {
    return [this.specs, this.wordSpec, this.wordElem, this.base, this.resetValues, this.byName];
  }

  /** Put every stored register of every bank at its reset value. */
  reset(): void {
    for (let b = 0; b < this.banks; b++) this.resetBank(b);
  }

  resetBank(bank: number): void {
    this.store.set(this.resetValues, bank * this.slots);
  }

  /** Index of the spec named `name` (throws for an unknown name: a programming error). */
  indexOf(name: string): number {
    const i = this.byName.get(name) ?? -1;
    if (i < 0) throw new Error(`${this.device}: no register named ${name}`);
    return i;
  }

  /** Store slot of element `elem` of register `name` in bank 0 (add bank * slots for others). */
  slot(name: string, elem = 0): number {
    return this.base[this.indexOf(name)]! + elem;
  }

  /** The register decoding at `offset`, or null. */
  decode(offset: number): DecodedReg | null {
    if (offset < 0 || offset >= this.size) return null;
    const w = offset >>> 2;
    const s = this.wordSpec[w]!;
    return s === NONE ? null : { spec: s, elem: this.wordElem[w]! };
  }

  /** "SMR[3]", "CB1.FSR", "INTEN+2" for a sub-word offset, or null when nothing decodes. */
  nameAt(offset: number, bank = 0): string | null {
    if (offset < 0 || offset >= this.size) return null;
    const w = offset >>> 2;
    const si = this.wordSpec[w]!;
    if (si === NONE) return null;
    const s = this.specs[si]!;
    const pre = this.bankPrefix !== null ? this.bankPrefix(bank) : '';
    const idx = (s.count ?? 1) > 1 ? `[${this.wordElem[w]!}]` : '';
    const sub = (offset & 3) !== 0 ? `+${offset & 3}` : '';
    return `${pre}${s.name}${idx}${sub}`;
  }

  /** Bus read of `size` bytes at `offset` in `bank`. */
  read(dev: D, offset: number, size: number, _attrs: Attrs, bank = 0): number {
    const w = offset >>> 2;
    const si = offset >= 0 && offset < this.size ? this.wordSpec[w]! : NONE;
    if (si === NONE) {
      this.report('unmapped-read', offset, null, null, bank);
      return 0;
    }
    const s = this.specs[si]!;
    const byte = offset & 3;
    if (!this.sizeOk(s, size, byte)) {
      this.report('bad-size', offset, s, null, bank);
      return this.badSize === 'slave-error' ? BUS_SLAVE_ERROR : 0;
    }
    if (s.access === 'WO') {
      this.report('write-only-read', offset, s, null, bank);
      return 0;
    }
    const e = this.wordElem[w]!;
    if (s.read !== undefined) return s.read(dev, e, bank, byte, size) >>> 0;
    const v = this.store[bank * this.slots + this.base[si]! + e]!;
    return size === 4 ? v : (v >>> (byte * 8)) & (size === 1 ? 0xff : 0xffff);
  }

  /** Bus write of `size` bytes at `offset` in `bank`. */
  write(dev: D, offset: number, size: number, value: number, _attrs: Attrs, bank = 0): number {
    const w = offset >>> 2;
    const si = offset >= 0 && offset < this.size ? this.wordSpec[w]! : NONE;
    if (si === NONE) {
      this.report('unmapped-write', offset, null, value, bank);
      return BUS_OK;
    }
    const s = this.specs[si]!;
    const byte = offset & 3;
    if (!this.sizeOk(s, size, byte)) {
      this.report('bad-size', offset, s, value, bank);
      return this.badSize === 'slave-error' ? BUS_SLAVE_ERROR : BUS_OK;
    }
    if (s.access === 'RO') {
      this.report('read-only-write', offset, s, value, bank);
      return BUS_OK;
    }
    const e = this.wordElem[w]!;
    if (s.write !== undefined) {
      s.write(dev, value >>> 0, e, bank, byte, size);
      return BUS_OK;
    }
    const k = bank * this.slots + this.base[si]! + e;
    const m = ((s.mask ?? 0xffffffff) & laneMask(byte, size)) >>> 0;
    const v = (value << (byte * 8)) >>> 0;
    this.store[k] = s.access === 'W1C' ? (this.store[k]! & ~(v & m)) >>> 0 : ((this.store[k]! & ~m) | (v & m)) >>> 0;
    return BUS_OK;
  }

  private sizeOk(s: RegSpec<D>, size: number, byte: number): boolean {
    const sizes = s.sizes ?? this.defSizes;
    const bit = size === 4 ? SIZE_4 : size === 2 ? SIZE_2 : size === 1 ? SIZE_1 : 0;
    return (sizes & bit) !== 0 && (byte & (size - 1)) === 0;
  }

  private report(what: GuestErrorKind, offset: number, s: RegSpec<D> | null, value: number | null, bank: number): void {
    if (this.errors === null) return;
    const name = s === null ? null : this.nameAt(offset, bank);
    const at = this.reportBase !== null ? this.reportBase(bank) + offset : offset;
    this.errors.guestError(this.device, what, at, name, value === null ? null : value >>> 0);
  }

  /** The table as documentation rows (docs and tests). */
  describe(): { name: string; offset: number; count: number; stride: number; access: RegAccess; reset: number }[] {
    return this.specs.map((s) => ({ name: s.name, offset: s.offset, count: s.count ?? 1, stride: s.stride ?? 4, access: s.access, reset: (s.reset ?? 0) >>> 0 }));
  }
}

function laneMask(byte: number, size: number): number {
  if (size === 4) return 0xffffffff;
  return (((size === 1 ? 0xff : 0xffff) << (byte * 8)) >>> 0);
}
