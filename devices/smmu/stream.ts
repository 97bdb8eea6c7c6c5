/**
 * Stream matching (IHI 0062, "Stream mapping": SMRn / S2CRn): which stream-to-context
 * register group a transaction's stream id selects, and what that S2CR says.
 *
 * SMRn matches when VALID and (sid ^ ID) & ~MASK == 0 (15-bit ids: sIDR0.NUMSIDB = 15). No
 * match, or two matches (a stream match conflict, SMCF), is for the caller to report.
 * The sid -> SMR index answer is cached per stream id, dropped on every SMR write.
 */
import { ATTR_INSTR, ATTR_PRIV, type Attrs } from '../../emulator/attrs.js';
import * as R from './regs.js';

/** no SMR matches the stream */
export const MATCH_NONE = -1;
/** more than one SMR matches the stream (SMCF) */
export const MATCH_CONFLICT = -3;

export class StreamTable {
  /**
   * stream id -> SMR index, MATCH_NONE, MATCH_CONFLICT or not computed (0: the stored value is
   * the answer + 4, so a zeroed page means "not computed"), in 128 pages of 256 ids allocated on
   * first use (issue 19, lean boot: a 64 KiB table per SMMU cost more than the lookups of a run).
   * SMR writes and resets only mark it stale; the first lookup after them clears the ids
   * answered since the last clear.
   */
  private readonly pages: (Int16Array | undefined)[] = new Array<Int16Array | undefined>(0x80).fill(undefined);
  private stale = true;
  /** stream ids answered since the last clear */
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

  private clear(): void {
    const c = this.computed;
    for (let i = 0; i < c.length; i++) this.pages[c[i]! >>> 8]![c[i]! & 0xff] = 0;
    c.length = 0;
    this.stale = false;
  }

  /** The SMR index matching `sid`, MATCH_NONE or MATCH_CONFLICT. */
  match(sid: number): number {
    if (this.stale) this.clear();
    const pg = this.pages[sid >>> 8];
    const m = pg === undefined ? 0 : pg[sid & 0xff]!;
    return m === 0 ? this.compute(sid) : m - 4;
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
    let pg = this.pages[sid >>> 8];
    if (pg === undefined) pg = this.pages[sid >>> 8] = new Int16Array(0x100);
    pg[sid & 0xff] = found + 4;
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
