import type { DeviceTree, DtNode, DtProperty } from '../../emulator/dt/types.js';
import type { IrqApi } from '../irq/types.js';
import type { Resource } from '../driver/types.js';

/**
 * Device-tree helpers of the kernel (drivers/of, reduced): property decoding, phandle
 * resolution, reg translation (identity: the board has no `ranges` translation beyond
 * simple-bus identity mappings), and the Linux device naming rule.
 */
export type Cell = number | DtNode;

export function getProp(node: DtNode, name: string): DtProperty | null {
  for (const p of node.props) if (p.name === name) return p;
  return null;
}

/** all cells of a property, phandle references resolved to nodes; null when absent */
export function propCells(tree: DeviceTree, node: DtNode, name: string): Cell[] | null {
  const p = getProp(node, name);
  if (!p) return null;
  const out: Cell[] = [];
  for (const ch of p.value) {
    if (ch.kind === 'cells') {
      for (const c of ch.cells) {
        if (typeof c === 'number') out.push(c >>> 0);
        else if (typeof c === 'bigint') out.push(Number(c));
        else {
          const n = resolveRef(tree, c);
          if (n) out.push(n);
        }
      }
    } else if (ch.kind === 'ref') {
      const n = resolveRef(tree, ch.ref);
      if (n) out.push(n);
    }
  }
  return out;
}

/** a reference: label, `&{/path}`, or a phandle the parser filled in */
export function resolveRef(tree: DeviceTree, r: { ref: string }): DtNode | null {
  const ph = (r as { phandle?: number }).phandle;
  if (ph !== undefined) {
    const n = tree.phandles.get(ph);
    if (n) return n;
  }
  if (r.ref.startsWith('/')) {
    let n: DtNode | null = tree.root;
    for (const part of r.ref.split('/').filter((x) => x.length > 0)) {
      n = n.children.find((c) => (c.unitAddress ? `${c.name}@${c.unitAddress}` : c.name) === part || c.name === part) ?? null;
      if (!n) return null;
    }
    return n;
  }
  return tree.labels.get(r.ref) ?? null;
}

/** numeric cells (references become their phandles, 0 when unassigned) */
export function propU32s(tree: DeviceTree, node: DtNode, name: string): number[] | null {
  const c = propCells(tree, node, name);
  return c ? c.map((x) => (typeof x === 'number' ? x : (x.phandle ?? 0))) : null;
}

export function propU32(tree: DeviceTree, node: DtNode, name: string): number | null {
  const c = propU32s(tree, node, name);
  return c && c.length > 0 ? c[0]! : null;
}

export function propStrings(node: DtNode, name: string): string[] {
  const p = getProp(node, name);
  if (!p) return [];
  const out: string[] = [];
  for (const ch of p.value) if (ch.kind === 'string') out.push(ch.value);
  return out;
}

export function propBool(node: DtNode, name: string): boolean {
  return getProp(node, name) !== null;
}

/**
 * of_dma_is_coherent (drivers/of/address.c): the first of the node and its parents that says
 * `dma-coherent` (true) or `dma-noncoherent` (false) decides; none: dma_default_coherent,
 * false on 32-bit ARM (no CONFIG_ARCH_DMA_DEFAULT_COHERENT). No board here has `dma-parent`.
 */
export function ofDmaIsCoherent(node: DtNode): boolean {
  for (let n: DtNode | null = node; n !== null; n = n.parent) {
    if (propBool(n, 'dma-coherent')) return true;
    if (propBool(n, 'dma-noncoherent')) return false;
  }
  return false;
}

/** of_device_is_available: status absent, "okay" or "ok" */
export function isAvailable(node: DtNode): boolean {
  const s = propStrings(node, 'status');
  return s.length === 0 || s[0] === 'okay' || s[0] === 'ok';
}

/** resolve a cell (node or phandle number) to a node */
export function cellNode(tree: DeviceTree, c: Cell | undefined): DtNode | null {
  if (c === undefined) return null;
  if (typeof c !== 'number') return c;
  return tree.phandles.get(c) ?? null;
}

function cellsOf(tree: DeviceTree, node: DtNode | null, name: string, dflt: number): number {
  if (!node) return dflt;
  return propU32(tree, node, name) ?? dflt;
}

/** `reg` decoded with the parent's #address-cells / #size-cells (defaults 1/1 as of_n_*_cells on ARM) */
export function decodeReg(tree: DeviceTree, node: DtNode): { base: number; size: number }[] {
  const cells = propU32s(tree, node, 'reg');
  if (!cells) return [];
  const ac = cellsOf(tree, node.parent, '#address-cells', 1);
  const sc = cellsOf(tree, node.parent, '#size-cells', 1);
  const out: { base: number; size: number }[] = [];
  const step = ac + sc;
  if (step === 0) return out;
  for (let i = 0; i + step <= cells.length; i += step) {
    let base = 0;
    for (let j = 0; j < ac; j++) base = base * 2 ** 32 + cells[i + j]!;
    let size = 0;
    for (let j = 0; j < sc; j++) size = size * 2 ** 32 + cells[i + ac + j]!;
    out.push({ base, size });
  }
  return out;
}

/** the interrupt parent: `interrupt-parent` on the node or an ancestor */
export function interruptParent(tree: DeviceTree, node: DtNode): DtNode | null {
  for (let n: DtNode | null = node; n; n = n.parent) {
    const c = propCells(tree, n, 'interrupt-parent');
    if (c && c.length > 0) return cellNode(tree, c[0]);
  }
  return null;
}

/** `interrupts` split into specifiers of the parent's #interrupt-cells */
export function irqSpecs(tree: DeviceTree, node: DtNode): number[][] {
  const cells = propU32s(tree, node, 'interrupts');
  if (!cells) return [];
  const parent = interruptParent(tree, node);
  const n = parent ? cellsOf(tree, parent, '#interrupt-cells', 3) : 3;
  const out: number[][] = [];
  if (n <= 0) return out;
  for (let i = 0; i + n <= cells.length; i += n) out.push(cells.slice(i, i + n));
  return out;
}

/** of_node_full_name: "/dma@2c0a0000" */
export function fullName(n: DtNode): string {
  const parts: string[] = [];
  for (let x: DtNode | null = n; x !== null && x.parent !== null; x = x.parent) parts.unshift(x.unitAddress !== null ? `${x.name}@${x.unitAddress}` : x.name);
  return `/${parts.join('/')}`;
}

/**
 * of_parse_phandle_with_args(np, list, cellsName, i) for i = 0, 1, ... until it fails
 * (drivers/of/base.c): the entries before the failure, and the pr_err line of the failure
 * (null at the list's end).
 */
export function parsePhandleList(tree: DeviceTree, np: DtNode, list: string, cellsName: string): { entries: { node: DtNode; args: number[] }[]; error: string | null } {
  const cells = propCells(tree, np, list) ?? [];
  const entries: { node: DtNode; args: number[] }[] = [];
  let i = 0;
  while (i < cells.length) {
    const target = cellNode(tree, cells[i]);
    if (target === null) return { entries, error: `${fullName(np)}: could not find phandle` };
    const count = getProp(target, cellsName) ? propU32(tree, target, cellsName) : null;
    if (count === null) return { entries, error: `${fullName(np)}: could not get ${cellsName} for ${fullName(target)}` };
    if (i + 1 + count > cells.length) return { entries, error: `${fullName(np)}: arguments longer than property` };
    entries.push({ node: target, args: cells.slice(i + 1, i + 1 + count).map((c) => (typeof c === 'number' ? c : (c.phandle ?? 0))) });
    i += 1 + count;
  }
  return { entries, error: null };
}

/** of_device_make_bus_id: "<first reg address in hex>.<node name>", or the node name */
export function linuxDeviceName(tree: DeviceTree, node: DtNode): string {
  const reg = decodeReg(tree, node);
  if (reg.length > 0) return `${reg[0]!.base.toString(16)}.${node.name}`;
  return node.name;
}

/** of_irq_to_resource for every specifier */
export function irqResources(tree: DeviceTree, node: DtNode, irq: IrqApi): Resource[] {
  const names = propStrings(node, 'interrupt-names');
  return irqSpecs(tree, node).map((cells, i) => {
    const virq = irq.irqOfParse(cells);
    let flags = virq > 0 ? irq.irqGetTriggerType(virq) : 0;
    if (!flags && cells.length >= 3) flags = cells[2]! & 0xf;
    return { kind: 'irq' as const, start: virq, size: 1, flags, name: names[i] ?? null };
  });
}
