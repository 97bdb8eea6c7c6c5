/**
 * Device-tree source (DTS) parser for the subset our boards use.
 *
 * Supported (see docs/BOARDS.md for the full list and the error format):
 *   /dts-v1/;  /memreserve/ <a> <s>;  `/ { ... };` (repeated root blocks merge)
 *   nodes with unit addresses, labels (`lbl: node@addr { ... };`), node merging
 *   `&label { ... };` and `&{/path} { ... };` node extension at top level
 *   properties: booleans, `<cells>` (decimal, 0x hex, leading-0 octal, 'c' char literals,
 *   `&label` / `&{/path}` phandle references, parenthesised C expressions), `/bits/ N <...>`
 *   (N = 8, 16, 32, 64), strings with C escapes, string lists, `[00 11 22]` byte arrays,
 *   bare `&label` path references; `/delete-node/` and `/delete-property/`;
 *   `//` and `/* *\/` comments.
 * Not supported (clear error): C preprocessor directives (#include, #define: run cpp first),
 * /include/, /plugin/ overlays, labels on properties or inside values.
 *
 * Choices (documented, tested):
 *   - a raw newline inside a string literal is an error ("unterminated string"), so the
 *     error points at the opening quote instead of the end of the file;
 *   - columns count characters (a tab is one column), lines and columns start at 1;
 *   - phandles: explicit `phandle` / `linux,phandle` properties are honoured; every other
 *     node that is the target of a `&ref` inside a cell list gets the next free phandle
 *     from 1 upwards, in document (pre-order) order of the nodes, so allocation does not
 *     depend on where the references are;
 *   - a property defined twice in a node takes the later value (kept at the first
 *     position); a node defined twice is merged, as dtc does;
 *   - `/delete-node/ name;` of a node that does not exist is ignored (as dtc does);
 *     `/delete-node/ &unknown;` is an "unknown label" error.
 */
import { createHash } from 'node:crypto';
import { DtsError, type DeviceTree, type DtChunk, type DtNode, type DtProperty, type DtRef, type SrcLoc } from './types.js';

const LABEL_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;
const NODE_NAME_RE = /^[A-Za-z0-9,._+-]+$/;
const UNIT_RE = /^[A-Za-z0-9,._+-]+$/;
const PROP_NAME_RE = /^[A-Za-z0-9,._+?#-]+$/;
const WORD_CHARS = /[A-Za-z0-9,._+?#@-]/;
const NUM_CHARS = /[A-Za-z0-9_]/;
/* character classes of readWhile: module constants, so its per-class tables are built once */
const DIRECTIVE_CHARS = /[#A-Za-z_]/;
const PATH_REF_CHARS = /[^}\s]/;
const LABEL_CHARS = /[A-Za-z0-9_]/;
const NODE_WORD_CHARS = /[A-Za-z0-9,._+@-]/;
const PROP_WORD_CHARS = /[A-Za-z0-9,._+?#-]/;
const CELL_WORD_CHARS = /[^\s<>;,]/;
const EXPR_WORD_CHARS = /[^\s<>;,()]/;
const BYTE_WORD_CHARS = /[^\s\]]/;

const U64_MASK = (1n << 64n) - 1n;

/**
 * Deepest node nesting accepted (the root is depth 0). Linux unflattens a device tree with
 * a fixed-size stack of FDT_MAX_DEPTH = 64 levels (drivers/of/fdt.c, unflatten_dt_nodes),
 * so no board Linux can boot is deeper.
 */
export const MAX_NODE_DEPTH = 64;
/** Deepest nesting of parentheses / unary operators / `?:` in a cell expression. */
export const MAX_EXPR_DEPTH = 256;
/** child / property count from which a node gets a name index (below it a scan is cheaper) */
const INDEX_AT = 16;

export interface ParseOptions {
  /** require `/dts-v1/;` at the start (default true) */
  requireVersion?: boolean;
}

/** Parse DTS text. Throws DtsError (file:line:col) on any syntax or reference error. */
export function parseDts(text: string, file = '<dts>', opts: ParseOptions = {}): DeviceTree {
  const p = new Parser(text, file);
  const tree = p.parseFile(opts.requireVersion ?? true);
  tree.sourceSha256 = createHash('sha256').update(text).digest('hex');
  return tree;
}

export function nodeFullName(n: DtNode): string {
  return n.unitAddress === null ? n.name : `${n.name}@${n.unitAddress}`;
}

export function nodePath(n: DtNode): string {
  if (n.parent === null) return '/';
  const parts: string[] = [];
  for (let c: DtNode | null = n; c !== null && c.parent !== null; c = c.parent) parts.push(nodeFullName(c));
  return '/' + parts.reverse().join('/');
}

export function formatLoc(l: SrcLoc): string {
  return `${l.file}:${l.line}:${l.col}`;
}

/** Find a node by absolute path ("/cpus/cpu@0"); a component without '@' also matches a unique node of that name. */
export function findNodeByPath(root: DtNode, path: string): DtNode | null {
  if (!path.startsWith('/')) return null;
  let cur: DtNode = root;
  for (const comp of path.split('/').filter((c) => c.length > 0)) {
    let next = cur.children.find((c) => nodeFullName(c) === comp);
    if (next === undefined && !comp.includes('@')) {
      const named = cur.children.filter((c) => c.name === comp);
      if (named.length === 1) next = named[0];
    }
    if (next === undefined) return null;
    cur = next;
  }
  return cur;
}

function newNode(name: string, unitAddress: string | null, parent: DtNode | null, loc: SrcLoc): DtNode {
  return { name, unitAddress, labels: [], props: [], children: [], parent, loc, phandle: null };
}

class Parser {
  private pos = 0;
  private line = 1;
  private col = 1;
  /** position just after the last consumed token (for "missing ';'" errors) */
  private endLine = 1;
  private endCol = 1;
  /** label -> node (becomes the tree's map) and label -> where it was defined (for messages) */
  private readonly labels = new Map<string, DtNode>();
  private readonly labelLocs = new Map<string, SrcLoc>();
  private readonly root: DtNode;
  private memreserve: { address: bigint; size: bigint }[] = [];
  /** per wide node: children by full name ("dma@2c0a0000"), so finding a node to merge is O(1) */
  private readonly childIndex = new Map<DtNode, Map<string, DtNode>>();
  /** per node with many properties: properties by name in definition order (the node's set until resolve) */
  private readonly propIndex = new Map<DtNode, Map<string, DtProperty>>();
  /** current nesting of cell expressions (bounded by MAX_EXPR_DEPTH) */
  private exprDepth = 0;

  constructor(
    private readonly text: string,
    private readonly file: string,
  ) {
    this.root = newNode('/', null, null, this.loc());
  }

  // ---------------------------------------------------------------- scanning

  private loc(): SrcLoc {
    return { file: this.file, line: this.line, col: this.col };
  }

  /** step back over `n` characters just read on this line (no newline among them) */
  private rewind(line: number, col: number, n: number): void {
    this.pos -= n;
    this.line = line;
    this.col = col;
  }

  /** a location from saved line/column numbers (hot paths keep numbers, not objects) */
  private at(line: number, col: number): SrcLoc {
    return { file: this.file, line, col };
  }

  private err(loc: SrcLoc, msg: string): never {
    throw new DtsError(loc, msg);
  }

  private eof(): boolean {
    return this.pos >= this.text.length;
  }

  private peek(o = 0): string {
    return this.text.charAt(this.pos + o);
  }

  private startsWith(s: string): boolean {
    return this.text.startsWith(s, this.pos);
  }

  private advance(n = 1): void {
    const text = this.text;
    const end = Math.min(this.pos + n, text.length);
    for (let p = this.pos; p < end; p++) {
      if (text.charCodeAt(p) === 10) {
        this.line++;
        this.col = 1;
      } else {
        this.col++;
      }
    }
    this.pos = end;
    this.endLine = this.line;
    this.endCol = this.col;
  }

  /** location just after the last consumed token */
  private get lastEnd(): SrcLoc {
    return { file: this.file, line: this.endLine, col: this.endCol };
  }

  private set lastEnd(l: SrcLoc) {
    this.endLine = l.line;
    this.endCol = l.col;
  }

  /** skip whitespace and comments (does not move lastEnd) */
  private skipWs(): void {
    const saveLine = this.endLine;
    const saveCol = this.endCol;
    const text = this.text;
    for (;;) {
      const c = text.charCodeAt(this.pos);
      if (c === 32 || c === 9 || c === 13 || c === 12 || c === 11) {
        this.pos++;
        this.col++;
      } else if (c === 10) {
        this.pos++;
        this.line++;
        this.col = 1;
      } else if (c === 47 /* / */ && text.charCodeAt(this.pos + 1) === 47) {
        let e = text.indexOf('\n', this.pos);
        if (e < 0) e = text.length;
        this.col += e - this.pos;
        this.pos = e;
      } else if (c === 47 && text.charCodeAt(this.pos + 1) === 42 /* * */) {
        const start = this.loc();
        const e = text.indexOf('*/', this.pos + 2);
        if (e < 0) {
          this.advance(text.length - this.pos);
          this.err(start, "unterminated comment (missing '*/')");
        }
        this.advance(e + 2 - this.pos);
      } else {
        break;
      }
    }
    this.endLine = saveLine;
    this.endCol = saveCol;
  }

  /** ASCII membership tables of the character classes readWhile is called with (module constants: a fixed set) */
  private static readonly tables = new Map<RegExp, Uint8Array>();

  /** consume the longest run of characters of class `re` (a one-character class) */
  private readWhile(re: RegExp): string {
    let t = Parser.tables.get(re);
    if (t === undefined) {
      t = new Uint8Array(128);
      for (let c = 0; c < 128; c++) t[c] = re.test(String.fromCharCode(c)) ? 1 : 0;
      Parser.tables.set(re, t);
    }
    const text = this.text;
    const start = this.pos;
    let p = start;
    let nl = false;
    for (; p < text.length; p++) {
      const c = text.charCodeAt(p);
      if (c < 128 ? t[c] === 0 : !re.test(text.charAt(p))) break;
      if (c === 10) nl = true;
    }
    if (p === start) return '';
    if (nl) this.advance(p - start);
    else {
      this.pos = p;
      this.col += p - start;
      this.endLine = this.line;
      this.endCol = this.col;
    }
    return text.slice(start, p);
  }

  /** a short description of what is at the current position, for messages */
  private describeHere(): string {
    if (this.eof()) return 'end of file';
    const m = /^[A-Za-z0-9,._+?#@-]+/.exec(this.text.slice(this.pos, this.pos + 40));
    if (m) return `'${m[0]}'`;
    return `'${this.peek()}'`;
  }

  private expectSemicolon(after: string): void {
    this.skipWs();
    if (this.peek() === ';') {
      this.advance();
      return;
    }
    this.err(this.lastEnd, `missing ';' after ${after} (found ${this.describeHere()})`);
  }

  // ---------------------------------------------------------------- top level

  parseFile(requireVersion: boolean): DeviceTree {
    this.skipWs();
    if (this.startsWith('/dts-v1/')) {
      this.advance('/dts-v1/'.length);
      this.expectSemicolon("'/dts-v1/'");
    } else if (requireVersion) {
      this.err(this.loc(), `expected '/dts-v1/;' at the start of the file (found ${this.describeHere()})`);
    }
    let sawRoot = false;
    for (;;) {
      this.skipWs();
      if (this.eof()) break;
      const here = this.loc();
      if (this.startsWith('/dts-v1/')) {
        this.advance('/dts-v1/'.length);
        this.expectSemicolon("'/dts-v1/'");
      } else if (this.startsWith('/memreserve/')) {
        this.advance('/memreserve/'.length);
        this.skipWs();
        const address = this.parseIntegerPrim();
        this.skipWs();
        const size = this.parseIntegerPrim();
        this.memreserve.push({ address, size });
        this.expectSemicolon("'/memreserve/'");
      } else if (this.startsWith('/delete-node/')) {
        this.advance('/delete-node/'.length);
        this.skipWs();
        if (this.peek() !== '&') this.err(this.loc(), `expected '&label' after /delete-node/ at top level (found ${this.describeHere()})`);
        const ref = this.parseRefText();
        const node = this.lookupRefNow(ref);
        if (node === this.root) this.err(ref.loc, 'cannot delete the root node');
        this.deleteNode(node);
        this.expectSemicolon('/delete-node/');
      } else if (this.startsWith('/include/') || this.startsWith('/plugin/')) {
        const w = this.startsWith('/include/') ? '/include/' : '/plugin/';
        this.err(here, `${w} is not supported by this parser`);
      } else if (this.peek() === '/') {
        this.advance();
        this.skipWs();
        if (this.peek() !== '{') this.err(this.loc(), `unexpected ${this.describeHere()} after '/' (expected '{')`);
        this.advance();
        if (!sawRoot) this.root.loc = here;
        this.parseNodeBody(this.root, here, '/');
        sawRoot = true;
      } else if (this.peek() === '&') {
        const ref = this.parseRefText();
        const node = this.lookupRefNow(ref);
        this.skipWs();
        if (this.peek() !== '{') this.err(this.loc(), `unexpected ${this.describeHere()} after '&${ref.ref}' (expected '{')`);
        this.advance();
        this.parseNodeBody(node, here, `&${ref.ref}`);
      } else if (this.peek() === '#') {
        const w = this.readWhile(DIRECTIVE_CHARS);
        this.err(here, `preprocessor directive '${w}' is not supported (run the C preprocessor first)`);
      } else {
        this.err(here, `unexpected ${this.describeHere()} at top level (expected '/ {', '&label {' or a directive)`);
      }
    }
    if (!sawRoot) this.err(this.loc(), "no root node ('/ { ... };') in file");
    const tree: DeviceTree = { root: this.root, labels: this.labels, phandles: new Map(), file: this.file };
    if (this.memreserve.length > 0) tree.memreserve = this.memreserve;
    this.resolve(tree);
    return tree;
  }

  /** parse `&label` or `&{/path}` (at '&') */
  private parseRefText(): DtRef {
    const loc = this.loc();
    this.advance(); // '&'
    if (this.peek() === '{') {
      this.advance();
      const path = this.readWhile(PATH_REF_CHARS);
      if (this.peek() !== '}') this.err(loc, "unterminated path reference (missing '}')");
      this.advance();
      if (!path.startsWith('/')) this.err(loc, `bad path reference '&{${path}}' (a path starts with '/')`);
      return { ref: path, loc };
    }
    const name = this.readWhile(LABEL_CHARS);
    if (!LABEL_RE.test(name)) this.err(loc, `bad reference '&${name}${this.eof() ? '' : this.peek()}' (expected &label or &{/path})`);
    return { ref: name, loc };
  }

  private lookupRefNow(ref: DtRef): DtNode {
    if (ref.ref.startsWith('/')) {
      const n = findNodeByPath(this.root, ref.ref);
      if (n === null) this.err(ref.loc, `unknown node path '${ref.ref}'`);
      return n;
    }
    const l = this.labels.get(ref.ref);
    if (l === undefined) this.err(ref.loc, `unknown label '${ref.ref}'`);
    return l;
  }

  private addLabel(node: DtNode, label: string, loc: SrcLoc): void {
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

  private deleteNode(node: DtNode): void {
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
  private childNamed(node: DtNode, fullName: string): DtNode | undefined {
    const m = this.childIndex.get(node);
    if (m !== undefined) return m.get(fullName);
    for (const ch of node.children) if (nodeFullName(ch) === fullName) return ch;
    return undefined;
  }

  private addChild(node: DtNode, child: DtNode): void {
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
  private setProp(node: DtNode, prop: DtProperty): void {
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

  private deleteProp(node: DtNode, name: string): void {
    const m = this.propIndex.get(node);
    if (m !== undefined) {
      m.delete(name);
      return;
    }
    const i = node.props.findIndex((pr) => pr.name === name);
    if (i >= 0) node.props.splice(i, 1);
  }

  /**
   * Parse after '{' up to and including the matching '};'. Iterative: nested nodes are
   * frames on an explicit stack (at most MAX_NODE_DEPTH deep), so neither deep nesting nor
   * wide trees touch the host stack, and each node/property costs O(1) beyond its text.
   */
  private parseNodeBody(top: DtNode, topOpenLoc: SrcLoc, topWhat: string): void {
    const baseDepth = this.depthOf(top);
    const stack: { node: DtNode; openLoc: SrcLoc; what: string }[] = [{ node: top, openLoc: topOpenLoc, what: topWhat }];
    while (stack.length > 0) {
      const frame = stack[stack.length - 1]!;
      const node = frame.node;
      const what = frame.what;
      this.skipWs();
      if (this.eof()) this.err(frame.openLoc, `unterminated node '${what}' (missing '};' before end of file)`);
      const hereLine = this.line;
      const hereCol = this.col;
      const c = this.peek();
      if (c === '}') {
        this.advance();
        this.expectSemicolon(`node '${what}'`);
        stack.pop();
        continue;
      }
      if (this.startsWith('/delete-node/')) {
        this.advance('/delete-node/'.length);
        this.skipWs();
        const nloc = this.loc();
        const name = this.readWhile(NODE_WORD_CHARS);
        if (name === '') this.err(nloc, `expected a node name after /delete-node/ (found ${this.describeHere()})`);
        const victim = this.childNamed(node, name);
        if (victim !== undefined) this.deleteNode(victim);
        this.expectSemicolon('/delete-node/');
        continue;
      }
      if (this.startsWith('/delete-property/')) {
        this.advance('/delete-property/'.length);
        this.skipWs();
        const nloc = this.loc();
        const name = this.readWhile(PROP_WORD_CHARS);
        if (name === '') this.err(nloc, `expected a property name after /delete-property/ (found ${this.describeHere()})`);
        this.deleteProp(node, name);
        this.expectSemicolon('/delete-property/');
        continue;
      }
      if (!WORD_CHARS.test(c)) {
        this.err(this.at(hereLine, hereCol), `unexpected ${this.describeHere()} in node '${what}' (expected a property, a child node or '};')`);
      }
      // labels, then a name
      let labels: { name: string; loc: SrcLoc }[] | null = null;
      let word: string;
      let wordLoc: SrcLoc;
      for (;;) {
        wordLoc = this.loc();
        word = this.readWhile(WORD_CHARS);
        if (this.peek() === ':' && LABEL_RE.test(word)) {
          this.advance();
          (labels ??= []).push({ name: word, loc: wordLoc });
          this.skipWs();
          if (!WORD_CHARS.test(this.peek())) {
            this.err(this.loc(), `unexpected ${this.describeHere()} after label '${word}:' (expected a node name)`);
          }
          continue;
        }
        break;
      }
      const nameEndLine = this.endLine;
      const nameEndCol = this.endCol;
      this.skipWs();
      const next = this.peek();
      if (next === '{') {
        const at = word.indexOf('@');
        const name = at >= 0 ? word.slice(0, at) : word;
        const unit = at >= 0 ? word.slice(at + 1) : null;
        if (!NODE_NAME_RE.test(name) || (unit !== null && !UNIT_RE.test(unit))) this.err(wordLoc, `invalid node name '${word}'`);
        if (baseDepth + stack.length > MAX_NODE_DEPTH) {
          this.err(wordLoc, `node '${word}' is nested more than ${MAX_NODE_DEPTH} levels deep (the limit, as Linux's FDT_MAX_DEPTH)`);
        }
        this.advance();
        let child = this.childNamed(node, word);
        if (child === undefined) {
          child = newNode(name, unit, node, wordLoc);
          this.addChild(node, child);
        }
        if (labels !== null) for (const l of labels) this.addLabel(child, l.name, l.loc);
        stack.push({ node: child, openLoc: wordLoc, what: word });
        continue;
      }
      // a property
      if (labels !== null) this.err(labels[0]!.loc, `labels on properties are not supported ('${labels[0]!.name}:' on '${word}')`);
      if (!PROP_NAME_RE.test(word)) this.err(wordLoc, `invalid property name '${word}'`);
      if (word.startsWith('#') && /^#(include|define|if|ifdef|ifndef|endif|undef|else|elif)$/.test(word)) {
        this.err(wordLoc, `preprocessor directive '${word}' is not supported (run the C preprocessor first)`);
      }
      let value: DtChunk[] = [];
      if (next === '=') {
        this.advance();
        value = this.parseValue(word);
        this.expectSemicolon(`property '${word}'`);
      } else if (next === ';') {
        this.advance();
      } else {
        this.endLine = nameEndLine;
        this.endCol = nameEndCol;
        this.err(this.at(nameEndLine, nameEndCol), `missing ';' after property '${word}' (found ${this.describeHere()})`);
      }
      // a redefinition replaces the value and keeps the first position (Map.set on an existing key)
      this.setProp(node, { name: word, value, loc: wordLoc });
    }
  }

  /** depth of a node below the root (the root is 0) */
  private depthOf(n: DtNode): number {
    let d = 0;
    for (let c = n.parent; c !== null; c = c.parent) d++;
    return d;
  }

  // ---------------------------------------------------------------- values

  private parseValue(prop: string): DtChunk[] {
    const chunks: DtChunk[] = [];
    for (;;) {
      this.skipWs();
      const hereLine = this.line;
      const hereCol = this.col;
      const c = this.peek();
      if (c === '<') {
        chunks.push(this.parseCells(32));
      } else if (this.startsWith('/bits/')) {
        this.advance('/bits/'.length);
        this.skipWs();
        const bloc = this.loc();
        const w = this.readWhile(NUM_CHARS);
        const bits = Number(w);
        if (bits !== 8 && bits !== 16 && bits !== 32 && bits !== 64) this.err(bloc, `bad /bits/ size '${w}' (expected 8, 16, 32 or 64)`);
        this.skipWs();
        if (this.peek() !== '<') this.err(this.loc(), `expected '<' after /bits/ ${bits} (found ${this.describeHere()})`);
        chunks.push(this.parseCells(bits));
      } else if (c === '"') {
        chunks.push({ kind: 'string', value: this.parseString() });
      } else if (c === '[') {
        chunks.push(this.parseBytes());
      } else if (c === '&') {
        chunks.push({ kind: 'ref', ref: this.parseRefText() });
      } else {
        this.err(this.at(hereLine, hereCol), `unexpected ${this.describeHere()} in the value of property '${prop}' (expected <cells>, "string", [bytes] or &label)`);
      }
      this.skipWs();
      if (this.peek() === ',') {
        this.advance();
        continue;
      }
      return chunks.length === 1 ? [chunks[0]!] : chunks.slice();
    }
  }

  private parseCells(bits: 8 | 16 | 32 | 64): DtChunk {
    const openLine = this.line;
    const openCol = this.col;
    this.advance(); // '<'
    const cells: (number | bigint | DtRef)[] = [];
    for (;;) {
      this.skipWs();
      if (this.eof()) this.err(this.at(openLine, openCol), "unterminated cell list (missing '>')");
      const c = this.peek();
      if (c === '>') {
        this.advance();
        return { kind: 'cells', bits, cells: cells.slice() };
      }
      const hereLine = this.line;
      const hereCol = this.col;
      if (c === '&') {
        if (bits !== 32) this.err(this.at(hereLine, hereCol), `phandle references are only allowed in 32-bit cells (this list is /bits/ ${bits})`);
        cells.push(this.parseRefText());
        continue;
      }
      const cc = c.charCodeAt(0);
      if (bits === 32 && cc >= 48 && cc <= 57) {
        // fast path: a plain decimal or hex literal that fits in 32 bits (no BigInt)
        const w = this.readWhile(NUM_CHARS);
        const v = /^(?:0[xX][0-9a-fA-F]{1,8}|[1-9][0-9]{0,9}|0)$/.test(w) ? Number(w) : -1;
        if (v >= 0 && v <= 0xffff_ffff) {
          cells.push(v);
          continue;
        }
        // anything else (octal, suffixes, too large, malformed): the general path
        this.rewind(hereLine, hereCol, w.length);
      }
      if (c === '(' || c === "'" || (cc >= 48 && cc <= 57)) {
        const v = this.parseIntegerPrim();
        cells.push(this.fitCell(v, bits, hereLine, hereCol));
        continue;
      }
      let w = this.readWhile(CELL_WORD_CHARS);
      if (w === '') w = c;
      this.err(this.at(hereLine, hereCol), `bad cell '${w}' (expected a number, a 'c' character, &label or a parenthesised expression)`);
    }
  }

  private fitCell(v: bigint, bits: number, line: number, col: number): number | bigint {
    if (bits < 64) {
      const mask = (1n << BigInt(bits)) - 1n;
      // like dtc: values that are sign-extended negatives of the cell width are accepted
      if (v > mask && (v | mask) !== U64_MASK) this.err(this.at(line, col), `cell value 0x${v.toString(16)} does not fit in ${bits} bits`);
      return Number(v & mask);
    }
    return v & U64_MASK;
  }

  /** a number literal, a char literal or '(' expression ')' -> unsigned 64-bit value */
  private parseIntegerPrim(): bigint {
    const hereLine = this.line;
    const hereCol = this.col;
    const c = this.peek();
    if (c === '(') {
      this.advance();
      const v = this.parseExpr();
      this.skipWs();
      if (this.peek() !== ')') this.err(this.loc(), `expected ')' in expression (found ${this.describeHere()})`);
      this.advance();
      return v;
    }
    if (c === "'") return this.parseCharLiteral();
    if (/[0-9]/.test(c)) {
      const w = this.readWhile(NUM_CHARS);
      const m = /^(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)(?:[uU]?[lL]{0,2}|[lL]{1,2}[uU])$/.exec(w);
      if (!m) this.err(this.at(hereLine, hereCol), `bad cell '${w}' (not a valid number)`);
      const digits = m[1]!;
      let v: bigint;
      if (/^0[xX]/.test(digits)) v = BigInt(digits);
      else if (digits.length > 1 && digits.startsWith('0')) v = BigInt('0o' + digits.slice(1));
      else v = BigInt(digits);
      if (v > U64_MASK) this.err(this.at(hereLine, hereCol), `number '${w}' does not fit in 64 bits`);
      return v;
    }
    let w = this.readWhile(EXPR_WORD_CHARS);
    if (w === '') w = this.eof() ? 'end of file' : c;
    this.err(this.at(hereLine, hereCol), `bad cell '${w}' (expected a number, a 'c' character or a parenthesised expression)`);
  }

  private parseCharLiteral(): bigint {
    const open = this.loc();
    this.advance(); // '
    if (this.eof() || this.peek() === '\n' || this.peek() === "'") this.err(open, 'bad character literal');
    const code = this.peek() === '\\' ? this.parseEscape(open) : this.takeChar();
    if (this.peek() !== "'") this.err(open, "unterminated character literal (missing ')");
    this.advance();
    return BigInt(code);
  }

  private takeChar(): number {
    const cp = this.text.codePointAt(this.pos)!;
    this.advance(cp > 0xffff ? 2 : 1);
    return cp;
  }

  /** at '\\': returns the code of the escaped character */
  private parseEscape(strLoc: SrcLoc): number {
    this.advance(); // backslash
    if (this.eof()) this.err(strLoc, 'unterminated string');
    const c = this.peek();
    const simple: Record<string, number> = { n: 10, t: 9, r: 13, a: 7, b: 8, v: 11, f: 12, '\\': 92, '"': 34, "'": 39 };
    if (c in simple) {
      this.advance();
      return simple[c]!;
    }
    if (c === 'x') {
      this.advance();
      const h = this.readHex(2);
      if (h === '') this.err(this.loc(), "bad escape '\\x' (expected hex digits)");
      return parseInt(h, 16);
    }
    if (/[0-7]/.test(c)) {
      let o = '';
      while (o.length < 3 && /[0-7]/.test(this.peek())) {
        o += this.peek();
        this.advance();
      }
      return parseInt(o, 8) & 0xff;
    }
    if (c === '\n') this.err(strLoc, 'unterminated string');
    // unknown escape: the character itself (as dtc does)
    return this.takeChar();
  }

  private readHex(max: number): string {
    let s = '';
    while (s.length < max && /[0-9a-fA-F]/.test(this.peek())) {
      s += this.peek();
      this.advance();
    }
    return s;
  }

  private parseString(): string {
    const open = this.loc();
    this.advance(); // "
    let s = '';
    for (;;) {
      if (this.eof() || this.peek() === '\n') this.err(open, 'unterminated string (missing closing \'"\' on this line)');
      const c = this.peek();
      if (c === '"') {
        this.advance();
        return s;
      }
      if (c === '\\') s += String.fromCodePoint(this.parseEscape(open));
      else s += String.fromCodePoint(this.takeChar());
    }
  }

  private parseBytes(): DtChunk {
    const open = this.loc();
    this.advance(); // [
    const out: number[] = [];
    for (;;) {
      this.skipWs();
      if (this.eof()) this.err(open, "unterminated byte string (missing ']')");
      if (this.peek() === ']') {
        this.advance();
        return { kind: 'bytes', bytes: Uint8Array.from(out) };
      }
      const here = this.loc();
      const w = this.readWhile(BYTE_WORD_CHARS);
      if (!/^(?:[0-9a-fA-F]{2})+$/.test(w)) this.err(here, `bad byte '${w}' in byte string (expected pairs of hex digits)`);
      for (let i = 0; i < w.length; i += 2) out.push(parseInt(w.slice(i, i + 2), 16));
    }
  }

  // ---------------------------------------------------------------- expressions

  /** binary operators by precedence (higher binds tighter) */
  private static readonly BINOPS: [string, number][] = [
    ['||', 1], ['&&', 2], ['|', 3], ['^', 4], ['&', 5],
    ['==', 6], ['!=', 6], ['<=', 7], ['>=', 7], ['<<', 8], ['>>', 8], ['<', 7], ['>', 7],
    ['+', 9], ['-', 9], ['*', 10], ['/', 10], ['%', 10],
  ];

  private peekBinop(): [string, number] | null {
    for (const op of Parser.BINOPS) {
      if (this.startsWith(op[0])) {
        // '|' must not match '||', '&' not '&&', '<' not '<<' / '<='
        if ((op[0] === '|' || op[0] === '&') && this.peek(1) === op[0]) continue;
        return op;
      }
    }
    return null;
  }

  /** count one level of expression nesting; beyond MAX_EXPR_DEPTH a one-line error */
  private enterExpr(): void {
    if (++this.exprDepth > MAX_EXPR_DEPTH) this.err(this.loc(), `expression nested more than ${MAX_EXPR_DEPTH} levels deep`);
  }

  /** conditional expression (lowest precedence, right associative) */
  private parseExpr(): bigint {
    this.enterExpr();
    const v = this.parseCondExpr();
    this.exprDepth--;
    return v;
  }

  private parseCondExpr(): bigint {
    const cond = this.parseBinary(1);
    this.skipWs();
    if (this.peek() !== '?') return cond;
    const qloc = this.loc();
    this.advance();
    const a = this.parseExpr();
    this.skipWs();
    if (this.peek() !== ':') this.err(qloc, "expected ':' in conditional expression");
    this.advance();
    const b = this.parseExpr();
    return cond !== 0n ? a : b;
  }

  /** precedence climbing over left-associative binary operators with precedence >= minPrec */
  private parseBinary(minPrec: number): bigint {
    let lhs = this.parseUnary();
    for (;;) {
      this.skipWs();
      const op = this.peekBinop();
      if (op === null || op[1] < minPrec) return lhs;
      const oloc = this.loc();
      this.advance(op[0].length);
      const rhs = this.parseBinary(op[1] + 1);
      lhs = this.applyBinop(op[0], lhs, rhs, oloc);
    }
  }

  private applyBinop(op: string, a: bigint, b: bigint, loc: SrcLoc): bigint {
    let r: bigint;
    switch (op) {
      case '+': r = a + b; break;
      case '-': r = a - b; break;
      case '*': r = a * b; break;
      case '/': if (b === 0n) this.err(loc, 'division by zero in expression'); r = a / b; break;
      case '%': if (b === 0n) this.err(loc, 'division by zero in expression'); r = a % b; break;
      case '<<': r = b >= 64n ? 0n : a << b; break;
      case '>>': r = b >= 64n ? 0n : a >> b; break;
      case '&': r = a & b; break;
      case '|': r = a | b; break;
      case '^': r = a ^ b; break;
      case '&&': r = a !== 0n && b !== 0n ? 1n : 0n; break;
      case '||': r = a !== 0n || b !== 0n ? 1n : 0n; break;
      case '==': r = a === b ? 1n : 0n; break;
      case '!=': r = a !== b ? 1n : 0n; break;
      // values are unsigned 64-bit (dtc's literals are unsigned long long): unsigned compare
      case '<': r = a < b ? 1n : 0n; break;
      case '>': r = a > b ? 1n : 0n; break;
      case '<=': r = a <= b ? 1n : 0n; break;
      case '>=': r = a >= b ? 1n : 0n; break;
      default: this.err(loc, `unknown operator '${op}'`);
    }
    return r & U64_MASK;
  }

  private parseUnary(): bigint {
    this.enterExpr();
    const v = this.parseUnaryInner();
    this.exprDepth--;
    return v;
  }

  private parseUnaryInner(): bigint {
    this.skipWs();
    const c = this.peek();
    if (c === '-') {
      this.advance();
      return -this.parseUnary() & U64_MASK;
    }
    if (c === '~') {
      this.advance();
      return ~this.parseUnary() & U64_MASK;
    }
    if (c === '!') {
      this.advance();
      return this.parseUnary() === 0n ? 1n : 0n;
    }
    if (c === '+') {
      this.advance();
      return this.parseUnary();
    }
    return this.parseIntegerPrim();
  }

  // ---------------------------------------------------------------- resolution

  private resolve(tree: DeviceTree): void {
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
