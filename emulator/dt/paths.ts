/**
 * Names and paths of device-tree nodes (parser.ts re-exports them): a node's full name and
 * path, a source location as file:line:col, and a node found by its path.
 */
import type { DtNode, SrcLoc } from './types.js';

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
