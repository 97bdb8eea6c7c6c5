/**
 * Stream matching (IHI 0062, "Stream mapping": SMRn / S2CRn): which stream-to-context
 * register group a transaction's stream id selects, and what that S2CR says.
 *
 * SMRn matches when VALID and (sid ^ ID) & ~MASK == 0 (15-bit ids: sIDR0.NUMSIDB = 15). No
 * match, or two matches (a stream match conflict, SMCF), is for the caller to report.
 * The sid -> SMR index answer is cached in a 32 K-entry table, dropped on every SMR write.
 */
import { ATTR_INSTR, ATTR_PRIV, type Attrs } from '../../emulator/attrs.js';
import * as R from './regs.js';

/** no SMR matches the stream */
export const MATCH_NONE = -1;
/** more than one SMR matches the stream (SMCF) */
export const MATCH_CONFLICT = -3;
const NOT_COMPUTED = -2;

export class StreamTable {
  /**
   * stream id -> SMR index, MATCH_NONE, MATCH_CONFLICT or not computed. Allocated and
   * cleared lazily (issue 19, lean boot): the SMR writes of a driver's probe and the resets
   * only mark it stale, and the first lookup after them clears it once.
   */
  private sidMap: Int16Array | null = null;
  private stale = true;
  /**
   * stream ids answered since the last clear: a clear resets just these entries (issue 19: a
   * run computes a handful of ids, and refilling the 64 KiB table cost more than the lookups)
   */
  private computed: number[] = [];

  /** `regs[smrBase + i]` is SMRi, `regs[s2crBase + i]` S2CRi (the GR0 register store) */
  constructor(
    private readonly regs: Uint32Array,
    private readonly smrBase: number,
    readonly s2crBase: number,
    private readonly numSmrs: number,
  ) {
    this.invalidate();
  }

  /** Forget cached matches (after an SMR write or reset). */
  invalidate(): void {
    this.stale = true;
  }

  private fresh(): Int16Array {
    let m = this.sidMap;
    const c = this.computed;
    if (m === null) {
      m = this.sidMap = new Int16Array(0x8000);
      m.fill(NOT_COMPUTED);
    } else if (c.length > 1024) {
      m.fill(NOT_COMPUTED);
    } else {
      for (let i = 0; i < c.length; i++) m[c[i]!] = NOT_COMPUTED;
    }
    c.length = 0;
    this.stale = false;
    return m;
  }

  /** The SMR index matching `sid`, MATCH_NONE or MATCH_CONFLICT. */
  match(sid: number): number {
    const map = this.stale ? this.fresh() : this.sidMap!;
    const m = map[sid]!;
    return m === NOT_COMPUTED ? this.compute(sid) : m;
  }

  /** S2CR of register group `i` */
  s2cr(i: number): number {
    return this.regs[this.s2crBase + i]!;
  }

  /** Was the stream in `attrs` refused by an S2CR of type fault (not by a missing match)? */
  isS2crFault(attrs: Attrs): boolean {
    const m = this.match((attrs >>> 16) & 0x7fff);
    return m >= 0 && ((this.s2cr(m) >>> R.S2CR_TYPE_SHIFT) & 3) >= R.S2CR_TYPE_FAULT;
  }

  private compute(sid: number): number {
    let found = MATCH_NONE;
    for (let i = 0; i < this.numSmrs; i++) {
      const s = this.regs[this.smrBase + i]!;
      if ((s & R.SMR_VALID) === 0) continue;
      const id = s & R.SMR_ID_MASK;
      const mask = (s >>> R.SMR_MASK_SHIFT) & R.SMR_ID_MASK;
      if (((sid ^ id) & ~mask & R.SMR_ID_MASK) === 0) {
        if (found >= 0) {
          found = MATCH_CONFLICT;
          break;
        }
        found = i;
      }
    }
    this.sidMap![sid] = found;
    this.computed.push(sid);
    return found;
  }
}

/**
 * S2CR.PRIVCFG [25:24] / INSTCFG [27:26] override the transaction's privilege and
 * instruction/data attribute (2 = clear, 3 = set; 0 default, 1 reserved: treated as default).
 */
export function s2crAttrs(s2cr: number, attrs: Attrs): Attrs {
  const privcfg = (s2cr >>> R.S2CR_PRIVCFG_SHIFT) & 3;
  if (privcfg === 2) attrs &= ~ATTR_PRIV;
  else if (privcfg === 3) attrs |= ATTR_PRIV;
  const instcfg = (s2cr >>> R.S2CR_INSTCFG_SHIFT) & 3;
  if (instcfg === 2) attrs &= ~ATTR_INSTR;
  else if (instcfg === 3) attrs |= ATTR_INSTR;
  return attrs;
}
