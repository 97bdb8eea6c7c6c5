/**
 * Device-tree data model (what the DTS parser produces and boards are built from).
 */
export interface SrcLoc {
  file: string;
  line: number;
  col: number;
}

/** A phandle reference inside a cell list: `&label` (resolved to the node's phandle). */
export interface DtRef {
  /** a label name, or a full path starting with '/' for `&{/path}` */
  ref: string;
  loc: SrcLoc;
  /** the referenced node's phandle, filled in when the tree is resolved (parser) */
  phandle?: number;
}

/** One comma-separated piece of a property value. */
export type DtChunk =
  | { kind: 'cells'; bits: 8 | 16 | 32 | 64; cells: (number | bigint | DtRef)[] }
  | { kind: 'string'; value: string }
  | { kind: 'bytes'; bytes: Uint8Array }
  /** a bare `&label` (a path reference, as in `interrupt-parent = &gic` style aliases) */
  | { kind: 'ref'; ref: DtRef };

export interface DtProperty {
  name: string;
  /** empty for a boolean property (`interrupt-controller;`) */
  value: DtChunk[];
  loc: SrcLoc;
}

export interface DtNode {
  /** node name without unit address, e.g. "dma" */
  name: string;
  /** text after '@', e.g. "2c0a0000" */
  unitAddress: string | null;
  labels: string[];
  props: DtProperty[];
  children: DtNode[];
  parent: DtNode | null;
  loc: SrcLoc;
  /** assigned by the tree (explicit `phandle` property or allocated when referenced) */
  phandle: number | null;
}

export interface DeviceTree {
  root: DtNode;
  /** label -> node */
  labels: Map<string, DtNode>;
  /** phandle -> node */
  phandles: Map<number, DtNode>;
  file: string;
  /**
   * SHA-256 (hex) of the source text the tree was parsed from (parseDts): what identifies the
   * board in a trace, independent of how its path was spelled.
   */
  sourceSha256?: string;
  /** `/memreserve/ <address> <size>;` entries (optional; absent when the source has none) */
  memreserve?: { address: bigint; size: bigint }[];
}

/** A parse or semantic error that names file:line:col. */
export class DtsError extends Error {
  constructor(
    readonly loc: SrcLoc,
    readonly detail: string,
  ) {
    super(`${loc.file}:${loc.line}:${loc.col}: ${detail}`);
  }
}
