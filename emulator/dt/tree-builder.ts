/**
 * The device tree as the source builds it (parser.ts Parser; the class chain in lexer.ts):
 * labels, references looked up, nodes added, merged and deleted, properties set and deleted
 * (name indexes on wide nodes), and resolve(): references and phandles once the file is read.
 */
import type { DeviceTree, DtNode, DtProperty, DtRef, SrcLoc } from './types.js';
import { findNodeByPath, formatLoc, nodeFullName, nodePath } from './paths.js';
import { DtValueParser } from './values.js';

/** child / property count from which a node gets a name index (below it a scan is cheaper) */
const INDEX_AT = 16;

export function newNode(name: string, unitAddress: string | null, parent: DtNode | null, loc: SrcLoc): DtNode {
  return { name, unitAddress, labels: [], props: [], children: [], parent, loc, phandle: null };
}

export class DtTreeBuilder extends DtValueParser {
  /** label -> node (becomes the tree's map) and label -> where it was defined (for messages) */
  protected readonly labels = new Map<string, DtNode>();
  protected readonly labelLocs = new Map<string, SrcLoc>();
  protected readonly root: DtNode;
  protected memreserve: { address: bigint; size: bigint }[] = [];
  /** per wide node: children by full name ("dma@2c0a0000"), so finding a node to merge is O(1) */
  protected readonly childIndex = new Map<DtNode, Map<string, DtNode>>();
  /** per node with many properties: properties by name in definition order (the node's set until resolve) */
  protected readonly propIndex = new Map<DtNode, Map<string, DtProperty>>();

  constructor(text: string, file: string) {
    super(text, file);
    this.root = newNode('/', null, null, this.loc());
  }

  protected lookupRefNow(ref: DtRef): DtNode {
    if (ref.ref.startsWith('/')) {
      const n = findNodeByPath(this.root, ref.ref);
      if (n === null) this.err(ref.loc, `unknown node path '${ref.ref}'`);
      return n;
    }
    const l = this.labels.get(ref.ref);
    if (l === undefined) this.err(ref.loc, `unknown label '${ref.ref}'`);
    return l;
  }

  protected addLabel(node: DtNode, label: string, loc: SrcLoc): void {
    const prev = this.labels.get(label);
    if (prev !== undefined && prev !== node) {
      this.err(loc, `duplicate label '${label}' (already on ${nodePath(prev)} at ${formatLoc(this.labelLocs.get(label)!)})`);
    }
    // a new label cannot be on the node yet; a repeated one already is (no O(labels) scan)
    if (prev === undefined) {
      this.labels.set(label, node);
      this.labelLocs.set(label, loc);
      // exact-size arrays: a pushed-to empty array keeps room for 17 (retained per node)
      node.labels = [...node.labels, label];
    }
  }

  protected deleteNode(node: DtNode): void {
    const parent = node.parent;
    if (parent !== null) {
      const i = parent.children.indexOf(node);
      if (i >= 0) parent.children.splice(i, 1);
      const m = this.childIndex.get(parent);
      if (m !== undefined && m.get(nodeFullName(node)) === node) m.delete(nodeFullName(node));
    }
    // drop the labels of the whole subtree (iteratively: no recursion on the host stack)
    const todo: DtNode[] = [node];
    for (let n = todo.pop(); n !== undefined; n = todo.pop()) {
      for (const l of n.labels) {
        if (this.labels.get(l) === n) {
          this.labels.delete(l);
          this.labelLocs.delete(l);
        }
      }
      for (const ch of n.children) todo.push(ch);
    }
  }

  // ---------------------------------------------------------------- nodes

  /**
   * The child of `node` with this full name ("dma@2c0a0000"), or undefined. Small nodes are
   * scanned; from INDEX_AT children on, a name index keeps the lookup O(1) (wide trees).
   */
  protected childNamed(node: DtNode, fullName: string): DtNode | undefined {
    const m = this.childIndex.get(node);
    if (m !== undefined) return m.get(fullName);
    for (const ch of node.children) if (nodeFullName(ch) === fullName) return ch;
    return undefined;
  }

  protected addChild(node: DtNode, child: DtNode): void {
    node.children.push(child);
    let m = this.childIndex.get(node);
    if (m === undefined && node.children.length >= INDEX_AT) {
      m = new Map(node.children.map((c) => [nodeFullName(c), c]));
      this.childIndex.set(node, m);
    } else if (m !== undefined) m.set(nodeFullName(child), child);
  }

  /**
   * Define (or redefine) a property. A redefinition keeps the first position. Small nodes
   * use their props array; from INDEX_AT properties on, an insertion-ordered map is the
   * node's property set until resolve() writes it back (O(1) per definition and deletion).
   */
  protected setProp(node: DtNode, prop: DtProperty): void {
    const m = this.propIndex.get(node);
    if (m !== undefined) {
      m.set(prop.name, prop);
      return;
    }
    const i = node.props.findIndex((pr) => pr.name === prop.name);
    if (i >= 0) node.props[i] = prop;
    else node.props = [...node.props, prop]; // exact size (at most INDEX_AT copies of a short array)
    if (node.props.length >= INDEX_AT) this.propIndex.set(node, new Map(node.props.map((pr) => [pr.name, pr])));
  }

  protected deleteProp(node: DtNode, name: string): void {
    const m = this.propIndex.get(node);
    if (m !== undefined) {
      m.delete(name);
      return;
    }
    const i = node.props.findIndex((pr) => pr.name === name);
    if (i >= 0) node.props.splice(i, 1);
  }

  // ---------------------------------------------------------------- resolution

  protected resolve(tree: DeviceTree): void {
    // properties: the per-node maps hold the final set, in definition order
    for (const [n, m] of this.propIndex) n.props = [...m.values()];
    // every node in document (pre-)order, iteratively
    const order: DtNode[] = [];
    const todo: DtNode[] = [this.root];
    for (let n = todo.pop(); n !== undefined; n = todo.pop()) {
      order.push(n);
      for (let i = n.children.length - 1; i >= 0; i--) todo.push(n.children[i]!);
    }
    // 1. references (cells refs need phandles; bare refs are paths)
    // a referenced node without a phandle is marked 0 ("to allocate"; 0 is never a phandle)
    const refs: DtRef[] = [];
    const targets: DtNode[] = [];
    for (const n of order) {
      for (const p of n.props) {
        for (const ch of p.value) {
          if (ch.kind === 'cells') {
            for (const c of ch.cells) {
              if (typeof c === 'object') {
                const target = this.lookupRefNow(c);
                if (target.phandle === null) target.phandle = 0;
                refs.push(c);
                targets.push(target);
              }
            }
          } else if (ch.kind === 'ref') {
            this.lookupRefNow(ch.ref);
          }
        }
      }
    }
    // 2. explicit phandles
    for (const n of order) {
      for (const p of n.props) {
        if (p.name !== 'phandle' && p.name !== 'linux,phandle') continue;
        const ch = p.value[0];
        if (p.value.length !== 1 || ch === undefined || ch.kind !== 'cells' || ch.bits !== 32 || ch.cells.length !== 1 || typeof ch.cells[0] !== 'number') {
          this.err(p.loc, `'${p.name}' must be a single 32-bit cell`);
        }
        const v = ch.cells[0] as number;
        if (v === 0 || v === 0xffffffff) this.err(p.loc, `invalid phandle value 0x${v.toString(16)}`);
        if (n.phandle !== null && n.phandle !== 0 && n.phandle !== v) this.err(p.loc, `'${p.name}' (${v}) disagrees with the node's other phandle ${n.phandle}`);
        const other = tree.phandles.get(v);
        if (other !== undefined && other !== n) this.err(p.loc, `duplicate phandle ${v} (also on ${nodePath(other)})`);
        n.phandle = v;
        tree.phandles.set(v, n);
      }
    }
    // 3. allocate, in document order
    let next = 1;
    for (const n of order) {
      if (n.phandle !== 0) continue;
      while (tree.phandles.has(next)) next++;
      n.phandle = next;
      tree.phandles.set(next, n);
    }
    for (let i = 0; i < refs.length; i++) refs[i]!.phandle = targets[i]!.phandle!;
  }
}
