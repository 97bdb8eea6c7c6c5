/**
 * Bus transaction attributes, packed into one integer so that a DMA burst or an SMMU
 * lookup never allocates. Layout:
 *
 *   bit 0      WRITE       (0: read)
 *   bit 1      INSTR       (AxPROT[2]: instruction access; 0: data)
 *   bit 2      PRIV        (AxPROT[0]: privileged; 0: unprivileged)
 *   bit 3      NS          (AxPROT[1]: non-secure; 0: secure)
 *   bits 16-30 STREAM ID   (the master's SMMU stream id, 15 bits as SMR.ID)
 *
 * The access size is passed beside the attributes on every call.
 */
export type Attrs = number;

export const ATTR_WRITE = 1 << 0;
export const ATTR_INSTR = 1 << 1;
export const ATTR_PRIV = 1 << 2;
export const ATTR_NS = 1 << 3;
export const STREAM_SHIFT = 16;
export const STREAM_MASK = 0x7fff;

export interface AttrFields {
  write?: boolean;
  instr?: boolean;
  priv?: boolean;
  /** non-secure (default true: everything in this board runs non-secure unless stated) */
  ns?: boolean;
  streamId?: number;
}

export function makeAttrs(f: AttrFields): Attrs {
  return (
    (f.write ? ATTR_WRITE : 0) |
    (f.instr ? ATTR_INSTR : 0) |
    (f.priv ? ATTR_PRIV : 0) |
    ((f.ns ?? true) ? ATTR_NS : 0) |
    (((f.streamId ?? 0) & STREAM_MASK) << STREAM_SHIFT)
  );
}

export const isWrite = (a: Attrs): boolean => (a & ATTR_WRITE) !== 0;
export const isInstr = (a: Attrs): boolean => (a & ATTR_INSTR) !== 0;
export const isPriv = (a: Attrs): boolean => (a & ATTR_PRIV) !== 0;
export const isNonSecure = (a: Attrs): boolean => (a & ATTR_NS) !== 0;
export const streamIdOf = (a: Attrs): number => (a >>> STREAM_SHIFT) & STREAM_MASK;
export const withWrite = (a: Attrs, w: boolean): Attrs => (w ? a | ATTR_WRITE : a & ~ATTR_WRITE);

export function describeAttrs(a: Attrs): string {
  return `${isWrite(a) ? 'W' : 'R'}${isInstr(a) ? 'I' : 'D'}${isPriv(a) ? 'P' : 'U'}${isNonSecure(a) ? 'NS' : 'S'} sid=${streamIdOf(a)}`;
}
