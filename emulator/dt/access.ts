/**
 * Typed access to device-tree properties (the of_property_read_* family) and the
 * semantic decoders boards and drivers need: `reg` (with the parent's #address-cells /
 * #size-cells and `ranges` translation), `interrupts` (+ `interrupt-parent` resolution,
 * `interrupt-names`, `interrupts-extended`), `iommus` (+ the older `mmu-masters`
 * binding) and `status`.
 *
 * Every error names the property's location: DtsError "file:line:col: message".
 * Plain getters return null when the property is absent.
 */
import { findNodeByPath, nodePath } from './parser.js';
import { DtsError, type DeviceTree, type DtNode, type DtProperty } from './types.js';

export function getProp(node: DtNode, name: string): DtProperty | null {
  for (const p of node.props) if (p.name === name) return p;
  return null;
}

export function hasProp(node: DtNode, name: string): boolean {
  return getProp(node, name) !== null;
}

/** Node label or path, for messages. */
export function describeNode(n: DtNode): string {
  return n.labels.length > 0 ? `'${n.labels[0]}' (${nodePath(n)})` : `'${nodePath(n)}'`;
}

/**
 * The 32-bit cells of a property (all chunks must be 32-bit cell lists; `&refs` become
 * the referenced node's phandle). An empty property gives [].
 */
export function propCells(p: DtProperty): number[] {
  const out: number[] = [];
  for (const ch of p.value) {
    if (ch.kind !== 'cells' || ch.bits !== 32) {
      throw new DtsError(p.loc, `property '${p.name}' must be a list of 32-bit cells`);
    }
    for (const c of ch.cells) {
      if (typeof c === 'number') out.push(c);
      else if (typeof c === 'bigint') out.push(Number(c));
      else {
        if (c.phandle === undefined) throw new DtsError(c.loc, `unresolved reference '&${c.ref}'`);
        out.push(c.phandle);
      }
    }
  }
  return out;
}

/** A single 32-bit cell, or `dflt` (null) when absent. */
export function u32(node: DtNode, name: string): number | null;
export function u32(node: DtNode, name: string, dflt: number): number;
export function u32(node: DtNode, name: string, dflt: number | null = null): number | null {
  const p = getProp(node, name);
  if (p === null) return dflt;
  const c = propCells(p);
  if (c.length !== 1) throw new DtsError(p.loc, `property '${p.name}' must be one 32-bit cell (has ${c.length})`);
  return c[0]!;
}

/** All 32-bit cells (references resolved to phandles), or null when absent. */
export function u32Array(node: DtNode, name: string): number[] | null {
  const p = getProp(node, name);
  return p === null ? null : propCells(p);
}

/** A 64-bit value: two 32-bit cells (high first) or one `/bits/ 64` cell. */
export function u64(node: DtNode, name: string): bigint | null {
  const p = getProp(node, name);
  if (p === null) return null;
  const ch = p.value[0];
  if (p.value.length === 1 && ch !== undefined && ch.kind === 'cells' && ch.bits === 64 && ch.cells.length === 1 && typeof ch.cells[0] === 'bigint') {
    return ch.cells[0];
  }
  const c = propCells(p);
  if (c.length !== 2) throw new DtsError(p.loc, `property '${p.name}' must be a 64-bit value (two 32-bit cells)`);
  return (BigInt(c[0]!) << 32n) | BigInt(c[1]!);
}

export function stringList(node: DtNode, name: string): string[] | null {
  const p = getProp(node, name);
  if (p === null) return null;
  const out: string[] = [];
  for (const ch of p.value) {
    if (ch.kind !== 'string') throw new DtsError(p.loc, `property '${p.name}' must be a string list`);
    out.push(ch.value);
  }
  return out;
}

export function string(node: DtNode, name: string): string | null {
  const l = stringList(node, name);
  if (l === null) return null;
  if (l.length !== 1) throw new DtsError(getProp(node, name)!.loc, `property '${name}' must be a single string`);
  return l[0]!;
}

/** Presence of a property (as of_property_read_bool). */
export function bool(node: DtNode, name: string): boolean {
  return hasProp(node, name);
}

export function bytes(node: DtNode, name: string): Uint8Array | null {
  const p = getProp(node, name);
  if (p === null) return null;
  const ch = p.value[0];
  if (p.value.length !== 1 || ch === undefined || ch.kind !== 'bytes') throw new DtsError(p.loc, `property '${p.name}' must be a byte string`);
  return ch.bytes;
}

export function compatibles(node: DtNode): string[] {
  return stringList(node, 'compatible') ?? [];
}

/** The `status` property ("okay" when absent). */
export function status(node: DtNode): string {
  return string(node, 'status') ?? 'okay';
}

/** status "okay" (or the legacy "ok") or absent. */
export function isEnabled(node: DtNode): boolean {
  const s = status(node);
  return s === 'okay' || s === 'ok';
}

/** #address-cells a node gives its children (spec default 2). */
export function addressCells(node: DtNode): number {
  return u32(node, '#address-cells', 2);
}

/** #size-cells a node gives its children (spec default 1). */
export function sizeCells(node: DtNode): number {
  return u32(node, '#size-cells', 1);
}

function cellsToNumber(cells: number[], p: DtProperty): number {
  let v = 0n;
  for (const c of cells) v = (v << 32n) | BigInt(c >>> 0);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new DtsError(p.loc, `value 0x${v.toString(16)} in '${p.name}' is too large`);
  return Number(v);
}

export interface RegEntry {
  base: number;
  size: number;
}

/**
 * `reg` decoded with the parent's #address-cells / #size-cells, in the parent's address
 * space (no `ranges` translation). [] when absent.
 */
export function reg(node: DtNode): RegEntry[] {
  const p = getProp(node, 'reg');
  if (p === null) return [];
  const parent = node.parent;
  const ac = parent === null ? 2 : addressCells(parent);
  const sc = parent === null ? 1 : sizeCells(parent);
  const c = propCells(p);
  const per = ac + sc;
  if (per === 0 || c.length === 0 || c.length % per !== 0) {
    throw new DtsError(p.loc, `'reg' has ${c.length} cells, not a multiple of #address-cells (${ac}) + #size-cells (${sc}) of the parent`);
  }
  const out: RegEntry[] = [];
  for (let i = 0; i < c.length; i += per) {
    out.push({ base: cellsToNumber(c.slice(i, i + ac), p), size: sc === 0 ? 0 : cellsToNumber(c.slice(i + ac, i + per), p) });
  }
  return out;
}

/**
 * `reg` translated to the root (CPU physical) address space through the ancestors'
 * `ranges` (an empty `ranges;` is identity; a bus without `ranges` is not memory-mapped
 * and gives an error).
 */
export function translatedReg(node: DtNode): RegEntry[] {
  const entries = reg(node);
  if (entries.length === 0) return entries;
  const p = getProp(node, 'reg')!;
  return entries.map((e) => ({ base: translateAddress(node.parent, e.base, p), size: e.size }));
}

function translateAddress(bus: DtNode | null, addr: number, where: DtProperty): number {
  for (let b = bus; b !== null && b.parent !== null; b = b.parent) {
    const r = getProp(b, 'ranges');
    if (r === null) throw new DtsError(where.loc, `address 0x${addr.toString(16)} cannot be translated: bus ${describeNode(b)} has no 'ranges'`);
    const c = propCells(r);
    if (c.length === 0) continue; // identity
    const cac = addressCells(b);
    const pac = addressCells(b.parent);
    const csc = sizeCells(b);
    const per = cac + pac + csc;
    if (c.length % per !== 0) throw new DtsError(r.loc, `'ranges' has ${c.length} cells, not a multiple of ${per}`);
    let hit: number | null = null;
    for (let i = 0; i < c.length; i += per) {
      const cb = cellsToNumber(c.slice(i, i + cac), r);
      const pb = cellsToNumber(c.slice(i + cac, i + cac + pac), r);
      const sz = cellsToNumber(c.slice(i + cac + pac, i + per), r);
      if (addr >= cb && addr < cb + sz) {
        hit = pb + (addr - cb);
        break;
      }
    }
    if (hit === null) throw new DtsError(where.loc, `address 0x${addr.toString(16)} is outside the 'ranges' of bus ${describeNode(b)}`);
    addr = hit;
  }
  return addr;
}

// ------------------------------------------------------------------ phandles

export function nodeByPhandle(tree: DeviceTree, ph: number): DtNode | null {
  return tree.phandles.get(ph) ?? null;
}

/** A property holding one phandle (`<&x>`), resolved. */
export function phandleProp(tree: DeviceTree, node: DtNode, name: string): DtNode | null {
  const ph = u32(node, name);
  if (ph === null) return null;
  const n = nodeByPhandle(tree, ph);
  if (n === null) throw new DtsError(getProp(node, name)!.loc, `'${name}' refers to unknown phandle ${ph}`);
  return n;
}

/** A node by label, or by absolute path. */
export function nodeByLabelOrPath(tree: DeviceTree, ref: string): DtNode | null {
  if (ref.startsWith('/')) return findNodeByPath(tree.root, ref);
  return tree.labels.get(ref) ?? null;
}

/** Every node in document (pre-)order. */
export function allNodes(tree: DeviceTree): DtNode[] {
  const out: DtNode[] = [];
  const walk = (n: DtNode): void => {
    out.push(n);
    n.children.forEach(walk);
  };
  walk(tree.root);
  return out;
}

// ------------------------------------------------------------------ interrupts

/**
 * The interrupt parent of a node, as Linux's of_irq_find_parent: follow the node's own
 * `interrupt-parent` or else its tree parent, repeatedly, until a node with
 * #interrupt-cells is reached. An explicit `interrupt-parent` that names a node without
 * #interrupt-cells is an error (at that property). null when there is none.
 */
export function interruptParent(tree: DeviceTree, node: DtNode): DtNode | null {
  let cur = node;
  for (let guard = 0; guard < 1000; guard++) {
    const ipProp = getProp(cur, 'interrupt-parent');
    let next: DtNode | null;
    if (ipProp !== null) {
      next = phandleProp(tree, cur, 'interrupt-parent');
      if (next !== null && !hasProp(next, '#interrupt-cells')) {
        throw new DtsError(ipProp.loc, `interrupt-parent refers to ${describeNode(next)}, which has no #interrupt-cells`);
      }
    } else {
      next = cur.parent;
    }
    if (next === null) return null;
    if (hasProp(next, '#interrupt-cells')) return next;
    cur = next;
  }
  throw new DtsError(node.loc, 'interrupt-parent chain does not end');
}

export interface IrqRef {
  /** the interrupt controller node */
  controller: DtNode;
  /** the specifier cells */
  cells: number[];
  /** from `interrupt-names` when present */
  name: string | null;
  index: number;
}

function interruptCellsOf(ctrl: DtNode, where: DtProperty): number {
  const p = getProp(ctrl, '#interrupt-cells');
  if (p === null) throw new DtsError(where.loc, `'${where.name}' refers to ${describeNode(ctrl)}, which has no #interrupt-cells`);
  const n = u32(ctrl, '#interrupt-cells')!;
  if (n < 1) throw new DtsError(p.loc, '#interrupt-cells must be at least 1');
  return n;
}

/**
 * The node's interrupts (`interrupts-extended` takes precedence over `interrupts`),
 * each with its controller and specifier. [] when the node has none.
 */
export function interrupts(tree: DeviceTree, node: DtNode): IrqRef[] {
  const out: IrqRef[] = [];
  const ext = getProp(node, 'interrupts-extended');
  if (ext !== null) {
    const c = propCells(ext);
    let i = 0;
    while (i < c.length) {
      const ctrl = nodeByPhandle(tree, c[i]!);
      if (ctrl === null) throw new DtsError(ext.loc, `'interrupts-extended' refers to unknown phandle ${c[i]}`);
      const n = interruptCellsOf(ctrl, ext);
      if (i + 1 + n > c.length) throw new DtsError(ext.loc, `'interrupts-extended' entry for ${describeNode(ctrl)} needs ${n} cells`);
      out.push({ controller: ctrl, cells: c.slice(i + 1, i + 1 + n), name: null, index: out.length });
      i += 1 + n;
    }
  } else {
    const p = getProp(node, 'interrupts');
    if (p === null) return out;
    const ctrl = interruptParent(tree, node);
    if (ctrl === null) throw new DtsError(p.loc, `no interrupt parent for ${describeNode(node)} (no interrupt-parent here or in an ancestor)`);
    const n = interruptCellsOf(ctrl, p);
    const c = propCells(p);
    if (c.length === 0 || c.length % n !== 0) {
      throw new DtsError(p.loc, `'interrupts' has ${c.length} cells, not a multiple of #interrupt-cells (${n}) of ${describeNode(ctrl)}`);
    }
    for (let i = 0; i < c.length; i += n) out.push({ controller: ctrl, cells: c.slice(i, i + n), name: null, index: out.length });
  }
  const names = stringList(node, 'interrupt-names');
  if (names !== null) {
    if (names.length !== out.length) {
      throw new DtsError(getProp(node, 'interrupt-names')!.loc, `'interrupt-names' has ${names.length} names but the node has ${out.length} interrupts`);
    }
    names.forEach((nm, i) => (out[i]!.name = nm));
  }
  return out;
}

// ------------------------------------------------------------------ IOMMUs

export interface IommuRef {
  /** the IOMMU node */
  iommu: DtNode;
  /**
   * the specifier cells: for `iommus`, #iommu-cells of them (for the SMMU: the stream id,
   * then an optional SMR mask); for `mmu-masters`, #stream-id-cells stream ids
   */
  args: number[];
  /** which binding named this master: the generic `iommus` or the legacy SMMU-side `mmu-masters` */
  binding: 'iommus' | 'mmu-masters';
}

/**
 * The IOMMUs a master sits behind: `iommus = <&smmu sid ...>` (each entry has the
 * IOMMU's #iommu-cells cells), followed by entries from the older binding
 * `mmu-masters = <&master sid ...>` on an SMMU node (#stream-id-cells on the master),
 * scanned in document order.
 */
export function iommus(tree: DeviceTree, node: DtNode): IommuRef[] {
  const out: IommuRef[] = [];
  const p = getProp(node, 'iommus');
  if (p !== null) {
    const c = propCells(p);
    let i = 0;
    while (i < c.length) {
      const mmu = nodeByPhandle(tree, c[i]!);
      if (mmu === null) throw new DtsError(p.loc, `'iommus' refers to unknown phandle ${c[i]}`);
      const cp = getProp(mmu, '#iommu-cells');
      if (cp === null) throw new DtsError(p.loc, `'iommus' refers to ${describeNode(mmu)}, which has no #iommu-cells`);
      const n = u32(mmu, '#iommu-cells')!;
      if (i + 1 + n > c.length) throw new DtsError(p.loc, `'iommus' entry for ${describeNode(mmu)} needs ${n} cells after the phandle`);
      out.push({ iommu: mmu, args: c.slice(i + 1, i + 1 + n), binding: 'iommus' });
      i += 1 + n;
    }
  }
  for (const s of allNodes(tree)) {
    const mm = getProp(s, 'mmu-masters');
    if (mm === null) continue;
    for (const e of mmuMasters(tree, mm)) if (e.master === node) out.push({ iommu: s, args: e.args, binding: 'mmu-masters' });
  }
  return out;
}

function mmuMasters(tree: DeviceTree, p: DtProperty): { master: DtNode; args: number[] }[] {
  const c = propCells(p);
  const out: { master: DtNode; args: number[] }[] = [];
  let i = 0;
  while (i < c.length) {
    const m = nodeByPhandle(tree, c[i]!);
    if (m === null) throw new DtsError(p.loc, `'mmu-masters' refers to unknown phandle ${c[i]}`);
    if (!hasProp(m, '#stream-id-cells')) throw new DtsError(p.loc, `'mmu-masters' refers to ${describeNode(m)}, which has no #stream-id-cells`);
    const n = u32(m, '#stream-id-cells')!;
    if (i + 1 + n > c.length) throw new DtsError(p.loc, `'mmu-masters' entry for ${describeNode(m)} needs ${n} stream ids`);
    out.push({ master: m, args: c.slice(i + 1, i + 1 + n) });
    i += 1 + n;
  }
  return out;
}

/** True when the node is an IOMMU (has #iommu-cells or the older mmu-masters list). */
export function isIommuNode(node: DtNode): boolean {
  return hasProp(node, '#iommu-cells') || hasProp(node, 'mmu-masters');
}

export function isInterruptController(node: DtNode): boolean {
  return hasProp(node, 'interrupt-controller');
}
