/**
 * Equivalence of the SMMU's accelerators with the reference model: two SMMUs with the same
 * tables, one built with `accel: true` and driven through the bulk hooks (quietLookup +
 * translate, translateHits, translateCopyRun), the other with `accel: false` (no hooks)
 * making the translate() calls those hooks stand for. Answers, costs, statistics, TLB
 * contents (order included), fault records, fault registers and trace digests must be
 * identical after every operation. (The PL330 equivalence test covers the hooks as a DMA
 * engine uses them, devices/pl330/pl330.smmu-property.test.ts.)
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { makeAttrs } from '../../../emulator/attrs.js';
import { BUS_OK } from '../../../emulator/bus.js';
import { BUS_STALLED, newTranslationResult, type CopyRun, type TranslationResult } from '../../../emulator/master.js';
import { Tracer } from '../../../emulator/trace.js';
import * as R from '../regs.js';
import { ent, l3Chain, makeRig, pageDesc, RAM_BASE, tableDesc, type Rig } from '../testing/rig.js';

const SID = 3;
const PAGES = 24; // IOVA pages 0..23 in the first 2 MiB region, 512..519 in the second
const IOVA_PAGES = [...Array.from({ length: PAGES }, (_, i) => i), ...Array.from({ length: 8 }, (_, i) => 512 + i)];
const DATA = RAM_BASE + 0x0200_0000;
const HOLE = 0x1000_0000; // not RAM

type Leaf = { kind: 'page'; target: number; ro: boolean; af: boolean; ng: boolean } | { kind: 'none' } | { kind: 'hole' };

const leafArb: fc.Arbitrary<Leaf> = fc.oneof(
  { weight: 16, arbitrary: fc.record({ kind: fc.constant('page' as const), target: fc.integer({ min: 0, max: 63 }), ro: fc.oneof({ weight: 7, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }), af: fc.oneof({ weight: 15, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }), ng: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('none' as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('hole' as const) }) },
);

type Op =
  | { k: 'translate'; p: number; off: number; write: boolean }
  | { k: 'quiet'; p: number; off: number; write: boolean }
  | { k: 'hits'; p: number; off: number; write: boolean; count: number }
  | { k: 'copy'; sp: number; dp: number; sOff: number; dOff: number; burst: number; iterations: number; limitNs: number; iterNs: number }
  | { k: 'remap'; p: number; leaf: Leaf }
  | { k: 'tlbi' }
  | { k: 'tlbiva'; p: number }
  | { k: 'clear-fsr' }
  | { k: 'resume'; tnr: number };

const pageArb = fc.constantFrom(...IOVA_PAGES);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ k: fc.constant('translate' as const), p: pageArb, off: fc.integer({ min: 0, max: 4095 }), write: fc.boolean() }),
  { weight: 2, arbitrary: fc.record({ k: fc.constant('quiet' as const), p: pageArb, off: fc.integer({ min: 0, max: 4095 }), write: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('hits' as const), p: pageArb, off: fc.integer({ min: 0, max: 4095 }), write: fc.boolean(), count: fc.integer({ min: 0, max: 5 }) }) },
  {
    weight: 3,
    arbitrary: fc.record({
      k: fc.constant('copy' as const), sp: fc.integer({ min: 0, max: PAGES - 1 }), dp: fc.integer({ min: 0, max: PAGES - 1 }),
      sOff: fc.constantFrom(0, 0, 0, 64, 4032), dOff: fc.constantFrom(0, 0, 0, 128, 4064), burst: fc.constantFrom(16, 64, 256, 4096), iterations: fc.integer({ min: 1, max: 160 }),
      // the run's time limit (CopyRun.limitNs): none, or one that cuts most runs
      limitNs: fc.oneof(fc.constant(Infinity), fc.integer({ min: 0, max: 30_000 })), iterNs: fc.constantFrom(0, 10, 37.5, 400),
    }),
  },
  fc.record({ k: fc.constant('remap' as const), p: pageArb, leaf: leafArb }),
  fc.record({ k: fc.constant('tlbi' as const) }),
  // invalidations of single pages leave holes in TLB sets (the next insertion takes the hole
  // while round-robin may point at it: a write insertion can replace the read's new entry)
  { weight: 2, arbitrary: fc.record({ k: fc.constant('tlbiva' as const), p: pageArb }) },
  fc.record({ k: fc.constant('clear-fsr' as const) }),
  fc.record({ k: fc.constant('resume' as const), tnr: fc.constantFrom(0, 1) }),
);

interface Side {
  rig: Rig;
  tracer: Tracer;
  l3: number[];
  /** stall mode: the resolutions of stalled transactions, in order ([va, outcome]) */
  outcomes: [number, string][];
}

function build(accel: boolean, tlbEntries: number, walkNs: number, trace: boolean, leaves: Leaf[], stall = false): Side {
  const time = { now: 0 };
  const tracer = new Tracer(() => time.now, trace);
  const rig = makeRig({ accel, tlbEntries, walkNsPerLevel: walkNs, tracer, numContextBanks: 4 });
  rig.driverReset();
  const pgd = rig.page();
  const l2 = rig.page();
  const l3 = [rig.page(), rig.page()];
  rig.wr64(ent(pgd, 0), tableDesc(l2));
  rig.wr64(ent(l2, 0), tableDesc(l3[0]!));
  rig.wr64(ent(l2, 1), tableDesc(l3[1]!));
  rig.attach(SID, 1, pgd, { asid: 7, stall });
  const side: Side = { rig, tracer, l3, outcomes: [] };
  IOVA_PAGES.forEach((p, i) => writeLeaf(side, p, leaves[i]!));
  return side;
}

function writeLeaf(s: Side, p: number, leaf: Leaf): void {
  const addr = ent(s.l3[p >= 512 ? 1 : 0]!, p & 511);
  if (leaf.kind === 'none') s.rig.wr64(addr, [0, 0]);
  else if (leaf.kind === 'hole') s.rig.wr64(addr, pageDesc(HOLE + p * 4096));
  else s.rig.wr64(addr, pageDesc(DATA + leaf.target * 4096, { ro: leaf.ro, af: leaf.af, ng: leaf.ng }));
}

const attrsOf = (write: boolean) => makeAttrs({ streamId: SID, write, priv: false, ns: true });

function newRun(): CopyRun {
  return { srcVa: 0, srcAttrs: 0, dstVa: 0, dstAttrs: 0, burst: 0, iterations: 0, limitNs: Infinity, iterNs: 0, done: 0, costNs: 0, srcPa: new Float64Array(64), dstPa: new Float64Array(64) };
}

/** everything observable of an SMMU */
function state(s: Side) {
  const cb = [R.CB_FSR, R.CB_FAR_LO, R.CB_FSYNR0].map((o) => s.rig.cbr(1, o));
  const f = s.rig.smmu.fault;
  return {
    stats: { ...s.rig.smmu.stats }, tlb: s.rig.smmu.dumpTlb(), faults: s.rig.smmu.faults().length, cb, gfsr: s.rig.r(R.GR0_SGFSR), digest: s.tracer.digest(), irq: s.rig.ctxIrqs.map((l) => l.level),
    stalled: f.stalled.length, stalls: [f.stalls, f.retries, f.terminations], outcomes: s.outcomes.slice(),
  };
}

/** a master waiting for its stalled access (the stall model): record the resolution */
function wait(s: Side, va: number, o: TranslationResult): void {
  if (o.status === BUS_STALLED) s.rig.smmu.onStallResolved((outcome) => s.outcomes.push([va, outcome]));
}

/**
 * The reference SMMU translates every access the copy run says it did (reads at the source,
 * writes at the destination, alternating, burst apart) to the page the run recorded, and the
 * run's cost is the sum of those lookups' costs.
 */
function expectRunAsReference(run: CopyRun, r: Rig['smmu'], or: TranslationResult): void {
  let cost = 0;
  for (let i = 0; i < run.done; i++) {
    const w = (i & 1) === 1;
    const base = w ? run.dstVa : run.srcVa;
    const va = base + (i >>> 1) * run.burst;
    r.translate(va, attrsOf(w), or);
    expect(or.status).toBe(BUS_OK);
    cost += or.costNs;
    expect(or.pa - (va % 4096)).toBe((w ? run.dstPa : run.srcPa)[Math.floor(va / 4096) - Math.floor(base / 4096)]);
  }
  expect(run.costNs).toBe(cost);
}

function same(a: TranslationResult, b: TranslationResult): void {
  expect([a.status, a.pa, a.extent, a.costNs]).toEqual([b.status, b.pa, b.extent, b.costNs]);
}

describe('property: SMMU accelerators == reference translate() calls', () => {
  it('bulk hooks on an accel SMMU and the translate() calls they stand for on a reference SMMU agree in every observable', () => {
    fc.assert(
      fc.property(
        fc.array(leafArb, { minLength: IOVA_PAGES.length, maxLength: IOVA_PAGES.length }),
        fc.array(opArb, { minLength: 1, maxLength: 30 }),
        fc.constantFrom(4, 8, 128),
        fc.constantFrom(0, 60),
        fc.boolean(),
        fc.boolean(),
        (leaves, ops, tlbEntries, walkNs, trace, stall) => {
          const acc = build(true, tlbEntries, walkNs, trace, leaves, stall);
          const ref = build(false, tlbEntries, walkNs, trace, leaves, stall);
          expect(typeof acc.rig.smmu.translateCopyRun).toBe('function');
          expect(ref.rig.smmu.quietLookup ?? ref.rig.smmu.translateHits ?? ref.rig.smmu.translateCopyRun).toBeUndefined();
          const a = acc.rig.smmu;
          const r = ref.rig.smmu;
          const oa = newTranslationResult();
          const or = newTranslationResult();
          const run = newRun();
          for (const op of ops) {
            switch (op.k) {
              case 'translate': {
                const va = op.p * 4096 + op.off;
                a.translate(va, attrsOf(op.write), oa);
                r.translate(va, attrsOf(op.write), or);
                same(oa, or);
                wait(acc, va, oa);
                wait(ref, va, or);
                break;
              }
              case 'quiet': {
                const va = op.p * 4096 + op.off;
                const probe = newTranslationResult();
                const q = a.quietLookup!(va, attrsOf(op.write), probe);
                a.translate(va, attrsOf(op.write), oa);
                r.translate(va, attrsOf(op.write), or);
                same(oa, or);
                wait(acc, va, oa);
                wait(ref, va, or);
                // a quiet answer is never given for an access that stalls
                if (oa.status === BUS_STALLED) expect(q).toBe(false);
                // a quiet answer is what the translate() made right after it reports
                if (q) same(probe, or);
                break;
              }
              case 'hits': {
                const va = op.p * 4096 + op.off;
                if (a.translateHits!(va, attrsOf(op.write), op.count, oa)) {
                  for (let i = 0; i < op.count; i++) {
                    r.translate(va, attrsOf(op.write), or);
                    expect([or.status, or.pa, or.costNs]).toEqual([BUS_OK, oa.pa, oa.costNs]);
                    expect(or.extent).toBeGreaterThanOrEqual(oa.extent);
                  }
                }
                break;
              }
              case 'copy': {
                Object.assign(run, { srcVa: op.sp * 4096 + op.sOff, srcAttrs: attrsOf(false), dstVa: op.dp * 4096 + op.dOff, dstAttrs: attrsOf(true), burst: op.burst, iterations: op.iterations, limitNs: op.limitNs, iterNs: op.iterNs });
                a.translateCopyRun!(run);
                // within the time limit: iterNs per iteration begun plus the lookups' costs
                expect(Math.ceil(run.done / 2) * op.iterNs + run.costNs).toBeLessThanOrEqual(op.limitNs);
                expectRunAsReference(run, r, or);
                break;
              }
              case 'remap':
                writeLeaf(acc, op.p, op.leaf);
                writeLeaf(ref, op.p, op.leaf);
                break;
              case 'tlbi':
                for (const s of [acc, ref]) {
                  s.rig.cbw(1, R.CB_TLBIALL, 0);
                  s.rig.cbw(1, R.CB_TLBSYNC, 0);
                }
                break;
              case 'tlbiva':
                for (const s of [acc, ref]) {
                  s.rig.cbw(1, R.CB_TLBIVAA, op.p * 4096);
                  s.rig.cbw(1, R.CB_TLBSYNC, 0);
                }
                break;
              case 'clear-fsr':
                for (const s of [acc, ref]) s.rig.cbw(1, R.CB_FSR, s.rig.cbr(1, R.CB_FSR));
                break;
              case 'resume':
                for (const s of [acc, ref]) s.rig.cbw(1, R.CB_RESUME, op.tnr);
                break;
            }
            expect(state(acc)).toEqual(state(ref));
          }
        },
      ),
      { numRuns: 80, seed: 0xacce1 },
    );
  });

  it('long page-aligned copies over a full TLB (bulk page pairs with deferred insertions) equal the reference', () => {
    // 128 IOVA pages of one 2 MiB region, mostly writable pages with the same descriptor
    // bits; the TLB is warmed by copies and single translations (global and per-ASID
    // entries, entries covering pages later copies look up), holed by TLBIVAA, re-tagged by
    // ASID changes; copies have overlapping or disjoint ranges, optional time limits, and
    // leaves whose bits change mid-run or that map the level-3 table itself
    const N = 128;
    type WLeaf = { kind: 'page'; target: number; ng: boolean; ro: boolean; af: boolean } | { kind: 'table' } | { kind: 'none' };
    const wleafArb: fc.Arbitrary<WLeaf> = fc.oneof(
      { weight: 40, arbitrary: fc.record({ kind: fc.constant('page' as const), target: fc.integer({ min: 0, max: 511 }), ng: fc.constant(true), ro: fc.constant(false), af: fc.constant(true) }) },
      { weight: 2, arbitrary: fc.record({ kind: fc.constant('page' as const), target: fc.integer({ min: 0, max: 511 }), ng: fc.boolean(), ro: fc.boolean(), af: fc.oneof({ weight: 3, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }) }) },
      { weight: 1, arbitrary: fc.constant({ kind: 'table' as const }) },
      { weight: 1, arbitrary: fc.constant({ kind: 'none' as const }) },
    );
    type WOp =
      | { k: 'copy'; sp: number; dp: number; pages: number; burst: number; limitNs: number; iterNs: number }
      | { k: 'translate'; p: number; write: boolean }
      | { k: 'hits'; p: number; write: boolean; count: number }
      | { k: 'tlbiva'; p: number }
      | { k: 'tlbi' }
      | { k: 'asid'; asid: number }
      | { k: 'remap'; p: number; leaf: WLeaf };
    const wpage = fc.integer({ min: 0, max: N - 1 });
    const wopArb: fc.Arbitrary<WOp> = fc.oneof(
      { weight: 6, arbitrary: fc.record({ k: fc.constant('copy' as const), sp: wpage, dp: wpage, pages: fc.integer({ min: 1, max: 64 }), burst: fc.constantFrom(64, 256, 4096),
        limitNs: fc.oneof({ weight: 3, arbitrary: fc.constant(Infinity) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 400_000 }) }), iterNs: fc.constantFrom(0, 10, 37.5) }) },
      { weight: 2, arbitrary: fc.record({ k: fc.constant('translate' as const), p: wpage, write: fc.boolean() }) },
      // translateHits keeps a memo of its slot (validated by the set's insertion generation):
      // the copies' deferred insertions must bump it as insertInSet would
      { weight: 2, arbitrary: fc.record({ k: fc.constant('hits' as const), p: wpage, write: fc.boolean(), count: fc.integer({ min: 1, max: 3 }) }) },
      fc.record({ k: fc.constant('tlbiva' as const), p: wpage }),
      fc.record({ k: fc.constant('tlbi' as const) }),
      fc.record({ k: fc.constant('asid' as const), asid: fc.constantFrom(7, 8) }),
      fc.record({ k: fc.constant('remap' as const), p: wpage, leaf: wleafArb }),
    );
    const wbuild = (accel: boolean, tlbEntries: number, leaves: WLeaf[]) => {
      const rig = makeRig({ accel, tlbEntries, walkNsPerLevel: 60, numContextBanks: 4 });
      rig.driverReset();
      const { pgd, l3 } = l3Chain(rig);
      rig.attach(SID, 1, pgd, { asid: 7 });
      const wl = (p: number, leaf: WLeaf): void => {
        if (leaf.kind === 'none') rig.wr64(ent(l3, p), [0, 0]);
        else if (leaf.kind === 'table') rig.wr64(ent(l3, p), pageDesc(l3));
        else rig.wr64(ent(l3, p), pageDesc(DATA + leaf.target * 4096, { ng: leaf.ng, ro: leaf.ro, af: leaf.af }));
      };
      leaves.forEach((leaf, p) => wl(p, leaf));
      return { rig, wl, pgd };
    };
    const wstate = (rig: Rig) => ({ stats: { ...rig.smmu.stats }, tlb: rig.smmu.dumpTlb(), faults: rig.smmu.faults().length });
    fc.assert(
      fc.property(
        fc.array(wleafArb, { minLength: N, maxLength: N }),
        fc.array(wopArb, { minLength: 1, maxLength: 24 }),
        fc.constantFrom(4, 8, 16, 128),
        (leaves, ops, tlbEntries) => {
          const acc = wbuild(true, tlbEntries, leaves);
          const ref = wbuild(false, tlbEntries, leaves);
          const a = acc.rig.smmu;
          const r = ref.rig.smmu;
          const oa = newTranslationResult();
          const or = newTranslationResult();
          const run: CopyRun = { ...newRun(), srcPa: new Float64Array(N + 2), dstPa: new Float64Array(N + 2) };
          for (const op of ops) {
            switch (op.k) {
              case 'copy': {
                const pages = Math.min(op.pages, N - op.sp, N - op.dp);
                const iterations = (pages * 4096) / op.burst;
                Object.assign(run, { srcVa: op.sp * 4096, srcAttrs: attrsOf(false), dstVa: op.dp * 4096, dstAttrs: attrsOf(true), burst: op.burst, iterations, limitNs: op.limitNs, iterNs: op.iterNs });
                a.translateCopyRun!(run);
                expect(Math.ceil(run.done / 2) * op.iterNs + run.costNs).toBeLessThanOrEqual(op.limitNs);
                expectRunAsReference(run, r, or);
                break;
              }
              case 'translate':
                a.translate(op.p * 4096, attrsOf(op.write), oa);
                r.translate(op.p * 4096, attrsOf(op.write), or);
                same(oa, or);
                break;
              case 'hits':
                if (a.translateHits!(op.p * 4096, attrsOf(op.write), op.count, oa)) {
                  for (let i = 0; i < op.count; i++) {
                    r.translate(op.p * 4096, attrsOf(op.write), or);
                    expect([or.status, or.pa, or.costNs]).toEqual([BUS_OK, oa.pa, oa.costNs]);
                  }
                }
                break;
              case 'tlbiva':
                for (const sd of [acc, ref]) {
                  sd.rig.cbw(1, R.CB_TLBIVAA, op.p * 4096);
                  sd.rig.cbw(1, R.CB_TLBSYNC, 0);
                }
                break;
              case 'tlbi':
                for (const sd of [acc, ref]) {
                  sd.rig.cbw(1, R.CB_TLBIALL, 0);
                  sd.rig.cbw(1, R.CB_TLBSYNC, 0);
                }
                break;
              case 'asid':
                for (const sd of [acc, ref]) sd.rig.cbw(1, R.CB_TTBR0_HI, Math.floor(sd.pgd / 0x1_0000_0000) | (op.asid << 16));
                break;
              case 'remap':
                acc.wl(op.p, op.leaf);
                ref.wl(op.p, op.leaf);
                break;
            }
            expect(wstate(acc.rig)).toEqual(wstate(ref.rig));
          }
        },
      ),
      { numRuns: 150, seed: 0xb01c },
    );
  });

  it('translateHits after bulk page pairs that replaced its memoised entry equals the reference', () => {
    // an 8-entry TLB (2 sets of 4 ways): a copy of pages 0-1 to 12-13 fills part of it, a
    // copy of 2-5 to 14-17 fills it (the bulk page pairs need every slot valid), translateHits
    // of page 5 memoises its slot; a copy of 6-11 to 18-23 (bulk page pairs) replaces every
    // entry; translateHits of page 5 must then miss (resolve without fill: false), as the
    // reference's translate() would walk
    const leaves: Leaf[] = IOVA_PAGES.map((_, i) => ({ kind: 'page', target: i, ro: false, af: true, ng: true }));
    const acc = build(true, 8, 60, false, leaves);
    const ref = build(false, 8, 60, false, leaves);
    const oa = newTranslationResult();
    const or = newTranslationResult();
    const run = newRun();
    const copy = (sp: number, dp: number, pages: number): void => {
      Object.assign(run, { srcVa: sp * 4096, srcAttrs: attrsOf(false), dstVa: dp * 4096, dstAttrs: attrsOf(true), burst: 256, iterations: pages * 16, limitNs: Infinity, iterNs: 0 });
      acc.rig.smmu.translateCopyRun!(run);
      expect(run.done).toBe(2 * pages * 16);
      for (let i = 0; i < run.done; i++) ref.rig.smmu.translate(((i & 1) === 1 ? dp : sp) * 4096 + (i >>> 1) * 256, attrsOf((i & 1) === 1), or);
      expect(state(acc)).toEqual(state(ref));
    };
    copy(0, 12, 2);
    copy(2, 14, 4);
    expect(acc.rig.smmu.translateHits!(5 * 4096, attrsOf(false), 1, oa)).toBe(true);
    ref.rig.smmu.translate(5 * 4096, attrsOf(false), or);
    same(oa, or);
    copy(6, 18, 6);
    const hit = acc.rig.smmu.translateHits!(5 * 4096, attrsOf(false), 1, oa);
    ref.rig.smmu.translate(5 * 4096, attrsOf(false), or);
    expect(hit).toBe(false);
    expect(ref.rig.smmu.stats.walks).toBe(2 * 12 + 1);
  });

  it('a fully mapped copy is really done in bulk (the run covers every iteration)', () => {
    const leaves: Leaf[] = IOVA_PAGES.map((_, i) => ({ kind: 'page', target: i, ro: false, af: true, ng: true }));
    const acc = build(true, 128, 60, false, leaves);
    const ref = build(false, 128, 60, false, leaves);
    const run = newRun();
    Object.assign(run, { srcVa: 0, srcAttrs: attrsOf(false), dstVa: 8 * 4096, dstAttrs: attrsOf(true), burst: 256, iterations: 8 * 16 });
    acc.rig.smmu.translateCopyRun!(run);
    expect(run.done).toBe(2 * 8 * 16);
    const or = newTranslationResult();
    let cost = 0;
    for (let i = 0; i < run.done; i++) {
      ref.rig.smmu.translate(((i & 1) === 1 ? 8 * 4096 : 0) + (i >>> 1) * 256, attrsOf((i & 1) === 1), or);
      cost += or.costNs;
    }
    expect(run.costNs).toBe(cost);
    expect(state(acc)).toEqual(state(ref));
    expect(acc.rig.smmu.stats.walks).toBe(16);
  });

  it('a copy run whose write insertion replaces the read side\'s new entry (a hole at the round-robin way) equals the reference', () => {
    // 8-entry TLB: 2 sets of 4 ways; with context bank 1 odd pages go to set 0. Set 0 is
    // filled (13, 15, 17, 19 into ways 0-3), then three replacements (21, 23, 1: ways 0-2,
    // round-robin at way 3), then page 19 (way 3) is invalidated. In the copy's second page
    // pair (read page 3, write page 11, both set 0) the read miss takes the hole and the write
    // miss replaces it round-robin: the read side's later accesses in page 3 miss again.
    const leaves: Leaf[] = IOVA_PAGES.map((_, i) => ({ kind: 'page', target: i, ro: false, af: true, ng: true }));
    for (const burst of [256, 4096]) {
      const acc = build(true, 8, 60, false, leaves);
      const ref = build(false, 8, 60, false, leaves);
      const or = newTranslationResult();
      for (const sd of [acc, ref]) {
        for (const p of [13, 15, 17, 19, 21, 23, 1]) sd.rig.smmu.translate(p * 4096, attrsOf(false), or);
        sd.rig.cbw(1, R.CB_TLBIVAA, 19 * 4096);
        sd.rig.cbw(1, R.CB_TLBSYNC, 0);
      }
      const run = newRun();
      const iterations = 4 * (4096 / burst);
      Object.assign(run, { srcVa: 2 * 4096, srcAttrs: attrsOf(false), dstVa: 10 * 4096, dstAttrs: attrsOf(true), burst, iterations });
      acc.rig.smmu.translateCopyRun!(run);
      expect(run.done).toBe(2 * iterations);
      let cost = 0;
      for (let i = 0; i < run.done; i++) {
        ref.rig.smmu.translate(((i & 1) === 1 ? 10 * 4096 : 2 * 4096) + (i >>> 1) * burst, attrsOf((i & 1) === 1), or);
        cost += or.costNs;
      }
      expect(run.costNs).toBe(cost);
      expect(state(acc)).toEqual(state(ref));
      // (page 3 was walked twice with 256-byte bursts)
      expect(acc.rig.smmu.stats.walks).toBe(7 + 8 + (burst === 256 ? 1 : 0));
    }
  });

  it('a time-limited copy run stops exactly before the first access that would pass the limit', () => {
    const leaves: Leaf[] = IOVA_PAGES.map((_, i) => ({ kind: 'page', target: i, ro: false, af: true, ng: true }));
    // limits every 97 ns over the first pages (cutting at hits, at the read miss and at the
    // write miss of a page change), and a few with other shapes
    const cases: [number, number, number][] = [[0, 0, 256], [61, 0, 64], [12345, 10, 64], [20_000, 400, 256], [1e9, 400, 64]];
    for (let l = 0; l < 12_000; l += 97) cases.push([l, 40, 256]);
    for (const [limitNs, iterNs, burst] of cases) {
      {
        const acc = build(true, 8, 60, false, leaves);
        const ref = build(false, 8, 60, false, leaves);
        const run = newRun();
        const iterations = 8 * (4096 / burst);
        Object.assign(run, { srcVa: 0, srcAttrs: attrsOf(false), dstVa: 8 * 4096, dstAttrs: attrsOf(true), burst, iterations, limitNs, iterNs });
        acc.rig.smmu.translateCopyRun!(run);
        // the reference: translate() access after access while the total stays within the
        // limit (a third SMMU, one access ahead, tells the next access's cost)
        const ahead = build(false, 8, 60, false, leaves);
        const or = newTranslationResult();
        let cost = 0;
        let n = 0;
        for (; n < 2 * iterations; n++) {
          const va = ((n & 1) === 1 ? 8 * 4096 : 0) + (n >>> 1) * burst;
          ahead.rig.smmu.translate(va, attrsOf((n & 1) === 1), or);
          if (((n >>> 1) + 1) * iterNs + cost + or.costNs > limitNs) break;
          ref.rig.smmu.translate(va, attrsOf((n & 1) === 1), or);
          cost += or.costNs;
        }
        expect([limitNs, burst, run.done, run.costNs]).toEqual([limitNs, burst, n, cost]);
        expect(state(acc)).toEqual(state(ref));
      }
    }
  });
});
