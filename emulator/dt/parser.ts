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
 *
 * Parser (this file: the top level and node bodies) is the end of a class chain, one module a
 * responsibility: lexer.ts (DtLexer: scanning, whitespace and comments, errors, reference text),
 * values.ts (DtValueParser: property values, cells, strings, bytes, cell expressions),
 * tree-builder.ts (DtTreeBuilder: labels, nodes and properties, resolve: references and
 * phandles); paths.ts has the node name and path helpers this file re-exports.
 */
import { createHash } from 'node:crypto';
import type { DeviceTree, DtChunk, DtNode, SrcLoc } from './types.js';
import { LABEL_RE } from './lexer.js';
import { DtTreeBuilder, newNode } from './tree-builder.js';

export { findNodeByPath, formatLoc, nodeFullName, nodePath } from './paths.js';
export { MAX_EXPR_DEPTH } from './values.js';

const NODE_NAME_RE = /^[A-Za-z0-9,._+-]+$/;
const UNIT_RE = /^[A-Za-z0-9,._+-]+$/;
const PROP_NAME_RE = /^[A-Za-z0-9,._+?#-]+$/;
const WORD_CHARS = /[A-Za-z0-9,._+?#@-]/;
/* character classes of readWhile: module constants, so its per-class tables are built once */
const DIRECTIVE_CHARS = /[#A-Za-z_]/;
const NODE_WORD_CHARS = /[A-Za-z0-9,._+@-]/;
const PROP_WORD_CHARS = /[A-Za-z0-9,._+?#-]/;

/**
 * Deepest node nesting accepted (the root is depth 0). Linux unflattens a device tree with
 * a fixed-size stack of FDT_MAX_DEPTH = 64 levels (drivers/of/fdt.c, unflatten_dt_nodes),
 * so no board Linux can boot is deeper.
 */
export const MAX_NODE_DEPTH = 64;

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

class Parser extends DtTreeBuilder {
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
}
