/**
 * Print a device tree back to DTS source. parseDts(printDts(t)) gives a tree equal to t
 * (names, unit addresses, labels, properties, references, children and phandles; source
 * locations differ). Cells are printed in hex; references as `&label` / `&{/path}`.
 */
import { nodeFullName } from './parser.js';
import type { DeviceTree, DtChunk, DtNode, DtRef } from './types.js';

export interface PrintOptions {
  /** emit `phandle = <N>;` for nodes whose phandle was allocated (not explicit) */
  phandles?: boolean;
  /** indentation unit (default a tab) */
  indent?: string;
}

export function printDts(tree: DeviceTree, opts: PrintOptions = {}): string {
  const ind = opts.indent ?? '\t';
  let out = '/dts-v1/;\n';
  if (tree.memreserve && tree.memreserve.length > 0) {
    out += '\n';
    for (const m of tree.memreserve) out += `/memreserve/ 0x${m.address.toString(16)} 0x${m.size.toString(16)};\n`;
  }
  out += '\n';
  out += printNode(tree.root, 0, ind, opts.phandles ?? false);
  return out;
}

function printNode(n: DtNode, depth: number, ind: string, phandles: boolean): string {
  const pad = ind.repeat(depth);
  const head = n.parent === null ? '/' : nodeFullName(n);
  let s = `${pad}${n.labels.map((l) => `${l}: `).join('')}${head} {\n`;
  for (const p of n.props) {
    s += `${pad}${ind}${p.name}${p.value.length === 0 ? '' : ' = ' + p.value.map(printChunk).join(', ')};\n`;
  }
  if (phandles && n.phandle !== null && !n.props.some((p) => p.name === 'phandle' || p.name === 'linux,phandle')) {
    s += `${pad}${ind}phandle = <0x${n.phandle.toString(16)}>;\n`;
  }
  for (const c of n.children) s += printNode(c, depth + 1, ind, phandles);
  s += `${pad}};\n`;
  return s;
}

export function printRef(r: DtRef): string {
  return r.ref.startsWith('/') ? `&{${r.ref}}` : `&${r.ref}`;
}

export function printChunk(c: DtChunk): string {
  switch (c.kind) {
    case 'cells': {
      const body = c.cells.map((v) => (typeof v === 'object' ? printRef(v) : `0x${v.toString(16)}`)).join(' ');
      return `${c.bits === 32 ? '' : `/bits/ ${c.bits} `}<${body}>`;
    }
    case 'string':
      return quoteString(c.value);
    case 'bytes':
      return `[${Array.from(c.bytes, (b) => b.toString(16).padStart(2, '0')).join(' ')}]`;
    case 'ref':
      return printRef(c.ref);
  }
}

export function quoteString(v: string): string {
  let s = '"';
  for (const ch of v) {
    const cp = ch.codePointAt(0)!;
    if (ch === '"') s += '\\"';
    else if (ch === '\\') s += '\\\\';
    else if (ch === '\n') s += '\\n';
    else if (ch === '\t') s += '\\t';
    else if (ch === '\r') s += '\\r';
    else if (cp < 0x20 || cp === 0x7f) s += `\\x${cp.toString(16).padStart(2, '0')}`;
    else s += ch;
  }
  return s + '"';
}
