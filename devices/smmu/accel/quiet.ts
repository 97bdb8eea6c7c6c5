/**
 * Accelerator: the quiet path and the hit memo (TranslationStage.quietLookup and
 * translateHits, emulator/master.ts), plus the translate() that replays a walk quietLookup
 * has just made. Host-side shortcuts only: every answer and every effect is what the
 * reference Smmu.translate() calls they stand for would give (docs/SMMU.md, "Reference model
 * and accelerators").
 */
import { ATTR_WRITE, type Attrs } from '../../../emulator/attrs.js';
import { BUS_OK } from '../../../emulator/bus.js';
import type { TranslationResult } from '../../../emulator/master.js';
import type { Smmu } from '../smmu.js';
import { K_BYPASS, K_TRANSLATED } from '../types.js';
import type { DescriptorReader } from '../walk.js';

export class QuietPath {
  /** write barrier, not state: the hooks (accel/index.ts) count each call in (tools/fuzz/snapshot.ts `guards`) */
  version = 0;
  // quietLookup() remembers a successful walk so that the translate() of the same access
  // that immediately follows it (bulk DMA) does not read the tables twice. One-shot:
  // dropped by every translate(), quietLookup(), copy run, register write and reset (epoch).
  qValid = false;
  private qVa = 0;
  private qAttrs = 0;
  private qEpoch = 0;
  private qCb = 0;
  private qAsid = 0;
  private qFetches = 0;
  private qPa = 0;
  private qExtent = 0;
  private qCost = 0;
  private qwVa = 0;
  private qwSize = 0;
  private qwPa = 0;
  private qwPerms = 0;
  private qwLevel = 0;
  // translateHits() remembers, per direction (0 read, 1 write), the TLB slot its last probe
  // hit (or the slot the last replayed walk filled), keyed by 4 KiB page and attributes.
  // Valid while no register write, sync, reset (epoch) or insertion into that slot's set
  // (tlb.setGen) happened since: the slot is then still the first match of every lookup in
  // that page, so the answer is the same hit without a new lookup.
  private readonly hPage = new Float64Array(2).fill(-1);
  private readonly hAttrs = new Float64Array(2);
  private readonly hSlot = new Int32Array(2);
  private readonly hSet = new Int32Array(2);
  private readonly hSetGen = new Float64Array(2);
  private readonly hGen = new Float64Array(2);
  // quietLookup(avoidLo, avoidHi): did the walk read a descriptor in that range?
  private avoidLo = 0;
  private avoidHi = 0;
  private avoidHit = false;
  private readonly avoidReader: DescriptorReader;

  constructor(private readonly s: Smmu) {
    const bus = s.busReader;
    this.avoidReader = {
      read64: (pa, level, out) => {
        if (pa + 8 > this.avoidLo && pa < this.avoidHi) this.avoidHit = true;
        return bus.read64(pa, level, out);
      },
    };
  }

  /**
   * The translate() of the access the last quietLookup() walked for (same address and
   * attributes, no register write since, tracing off): replay that walk (the same
   * statistics, the same TLB insertion, the same result) and return true. Otherwise
   * return false (the reference translate() follows). Either way the memo is used up.
   */
  replay(va: number, attrs: Attrs, out: TranslationResult): boolean {
    const s = this.s;
    this.qValid = false;
    const tr = s.tracer;
    if (this.qVa !== va || this.qAttrs !== attrs || this.qEpoch !== s.epoch || (tr !== null && tr.enabled)) return false;
    const st = s.stats;
    st.translations++;
    st.misses++;
    st.walks++;
    st.descriptorFetches += this.qFetches;
    const w = s.tlb.insert(this.qCb, this.qAsid, va, this.qwVa, this.qwSize, this.qwPa, this.qwPerms, this.qwLevel);
    // the new entry is the only match for its page (the walk happened because nothing
    // matched): later hit lookups in this page find it
    this.hRemember((attrs & ATTR_WRITE) !== 0 ? 1 : 0, Math.floor(va / 4096), attrs, w);
    out.status = BUS_OK;
    out.pa = this.qPa;
    out.extent = this.qExtent;
    out.costNs = this.qCost;
    return true;
  }

  /**
   * TranslationStage.quietLookup: would translate(va, attrs) now succeed without a
   * time-stamped side effect (no fault, no 'smmu-walk' trace event)? Side-effect free: the
   * lookup runs with fill = false (no statistics, no TLB insertion; a miss walks the tables
   * with plain reads).
   */
  quietLookup(va: number, attrs: Attrs, out?: TranslationResult, avoidLo = 0, avoidHi = 0): boolean {
    const s = this.s;
    this.qValid = false;
    let reader = s.busReader;
    if (avoidLo < avoidHi) {
      this.avoidLo = avoidLo;
      this.avoidHi = avoidHi;
      this.avoidHit = false;
      reader = this.avoidReader;
    }
    const k = s.resolve(va, attrs, true, false, true, reader);
    if (reader !== s.busReader) {
      this.avoidLo = this.avoidHi = 0;
      if (this.avoidHit) return false;
    }
    if (k !== K_TRANSLATED && k !== K_BYPASS) return false;
    const r = s.res;
    if (r.walked) {
      const tr = s.tracer;
      if (tr !== null && tr.enabled) return false;
      // a nested context's walk fills more than one TLB entry (walk-nested.ts): not replayed
      // here, the translate() that follows makes it
      if (r.nested) return false;
      // remember the walk: the translate() of this very access that a bulk master makes
      // next replays it (statistics, TLB insertion) without reading the tables again
      const wr = s.wr;
      this.qValid = true;
      this.qVa = va;
      this.qAttrs = attrs;
      this.qEpoch = s.epoch;
      this.qCb = r.cb;
      this.qAsid = r.asid;
      this.qFetches = r.fetches;
      this.qPa = r.pa;
      this.qExtent = r.extent;
      this.qCost = r.cost;
      this.qwVa = wr.va;
      this.qwSize = wr.size;
      this.qwPa = wr.pa;
      this.qwPerms = wr.perms;
      this.qwLevel = r.level;
    }
    if (out !== undefined) {
      out.status = BUS_OK;
      out.pa = r.pa;
      out.extent = r.extent;
      out.costNs = r.cost;
    }
    return true;
  }

  /**
   * TranslationStage.translateHits: when translate(va, attrs) would now be a TLB hit or a
   * bypass, account `count` such translations (translations, hits or bypasses: exactly what
   * `count` translate() calls would add; a hit changes nothing else, the TLB has no
   * replacement state updated on hits) and report the translation. extent stops at the end
   * of the 4 KiB page for TLB hits: the set index is taken from the page number, so a
   * lookup in another page of a block entry may miss.
   */
  translateHits(va: number, attrs: Attrs, count: number, out: TranslationResult): boolean {
    const s = this.s;
    const h = (attrs & ATTR_WRITE) !== 0 ? 1 : 0;
    const page = Math.floor(va / 4096);
    const st = s.stats;
    const tlb = s.tlb;
    if (this.hPage[h] === page && this.hAttrs[h] === attrs && this.hGen[h] === s.epoch && this.hSetGen[h] === tlb.setGen[this.hSet[h]!]) {
      const w = this.hSlot[h]!;
      const base = tlb.va[w]!;
      out.status = BUS_OK;
      out.pa = tlb.pa[w]! + (va - base);
      out.extent = Math.min(base + tlb.size[w]! - va, 4096 - (va % 4096));
      out.costNs = s.hitNs;
      st.hits += count;
      st.translations += count;
      return true;
    }
    const k = s.resolve(va, attrs, true, false, false, s.busReader);
    const r = s.res;
    if (k === K_TRANSLATED) {
      out.extent = Math.min(r.extent, 4096 - (va % 4096));
      st.hits += count;
      this.hRemember(h, page, attrs, r.hitSlot);
    } else if (k === K_BYPASS) {
      out.extent = r.extent;
      st.bypasses += count;
    } else return false;
    st.translations += count;
    out.status = BUS_OK;
    out.pa = r.pa;
    out.costNs = r.cost;
    return true;
  }

  private hRemember(h: number, page: number, attrs: Attrs, w: number): void {
    const set = Math.floor(w / this.s.tlb.ways);
    this.hPage[h] = page;
    this.hAttrs[h] = attrs;
    this.hSlot[h] = w;
    this.hSet[h] = set;
    this.hSetGen[h] = this.s.tlb.setGen[set]!;
    this.hGen[h] = this.s.epoch;
  }
}
