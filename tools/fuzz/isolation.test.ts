import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SETUP_PREFIX, programArb } from './arb.js';
import { harnessSnapshot } from './engine.js';
import { buildGroupStreams, FindingError, Harness, streamsStill } from './harness.js';
import { SmmuView, type Leaf } from './isolation.js';
import { VFIO_REQS, type Call } from './program.js';
import { Smmu } from '../../devices/smmu/smmu.js';

const mapCall = (iova: number, size: number, flags: number): Call => ({
  op: 'ioctl',
  p: 0,
  fd: { k: 'container', i: 0 },
  req: VFIO_REQS.VFIO_IOMMU_MAP_DMA,
  arg: { t: 'struct', type: 'vfio_iommu_type1_dma_map', fields: { argsz: 32, flags, vaddr: { dma: 0 }, iova, size }, ptr: 'ok' },
});

describe('the DMA-isolation walk', () => {
  for (const profile of ['rfc-v4', 'mainline']) {
    it(`${profile}: reading the tables from RAM in place enumerates the same leaves as one bus read per descriptor`, () => {
      const h = new Harness({ profile });
      const snap = harnessSnapshot(h);
      const smmu = h.sys.machine.devices.find((d) => d.mmio[0] instanceof Smmu)!.mmio[0] as Smmu;
      const fast = new SmmuView(smmu, h.sys.machine.bus);
      fast.walkAlways = true;
      const slow = new SmmuView(smmu, h.sys.machine.bus);
      slow.tablesViaBus = true;
      // the default: a bank is walked again only when its registers or a watched table page changed
      const kept = new SmmuView(smmu, h.sys.machine.bus);
      const all = (v: SmmuView): [number, number, number, number, boolean][] => {
        const out: [number, number, number, number, boolean][] = [];
        for (let cb = 0; cb < smmu.numCb; cb++) v.leaves(cb, (l: Leaf) => out.push([cb, l.va, l.size, l.pa, l.write]));
        return out;
      };
      let compared = 0;
      let leaves = 0;
      let keptAnswered = 0;
      // the harness's own view (its counters are harness state: a restore puts them back, so count per program)
      const hv = (h as unknown as { view: SmmuView }).view;
      let harnessCalls = 0;
      let harnessWalks = 0;
      const progs = fc.sample(programArb(24), { seed: 19, numRuns: 12 });
      progs.forEach((p, i) => {
        snap.restore();
        const [c0, w0] = [hv.leafCalls, hv.walks];
        // mappings of several sizes and permissions first, so that the tables have leaves
        const prog = [...SETUP_PREFIX, mapCall(0x10000, 0x2000, 3), mapCall(0x200000 * (1 + (i % 3)), 0x1000 * (1 + i), 1 + (i % 3)), ...p];
        for (const c of prog) {
          try {
            h.exec(c);
          } catch (e) {
            if (!(e instanceof FindingError)) throw e;
          }
          const a = all(fast);
          expect(a).toEqual(all(slow));
          for (let cb = 0; cb < smmu.numCb; cb++) {
            const w = kept.walks;
            const mine: [number, number, number, number, boolean][] = [];
            kept.leaves(cb, (l: Leaf) => mine.push([cb, l.va, l.size, l.pa, l.write]));
            expect(mine).toEqual(a.filter((x) => x[0] === cb));
            if (mine.length > 0 && kept.walks === w) keptAnswered++;
          }
          compared++;
          leaves += a.length;
        }
        harnessCalls += hv.leafCalls - c0;
        harnessWalks += hv.walks - w0;
      });
      expect(compared).toBeGreaterThan(100);
      expect(leaves).toBeGreaterThan(100);
      // the kept walks answered most calls, and the tables were walked again for some
      expect(fast.walks).toBe(compared * smmu.numCb);
      expect(keptAnswered).toBeGreaterThan(20);
      expect(harnessCalls).toBeGreaterThan(50);
      expect(harnessWalks).toBeLessThan(harnessCalls / 2);
      expect(harnessWalks).toBeGreaterThan(progs.length);
    });
  }
});

describe('the kept walks', () => {
  for (const profile of ['rfc-v4', 'mainline']) {
    it(`${profile}: a walk register or a descriptor written behind the kernel's back, and a snapshot restore, are seen by the next check`, () => {
      const h = new Harness({ profile });
      const snap = harnessSnapshot(h);
      const smmu = h.sys.machine.devices.find((d) => d.mmio[0] instanceof Smmu)!.mmio[0] as Smmu;
      const bus = h.sys.machine.bus;
      const view = new SmmuView(smmu, bus);
      const prog = [...SETUP_PREFIX, mapCall(0x10000, 0x2000, 3)];
      for (const c of prog) h.exec(c);
      const r = view.route(1);
      expect(r.kind).toBe('translate');
      const cb = (r as { cb: number }).cb;
      const leaves = (): number[][] => {
        const out: number[][] = [];
        view.leaves(cb, (l) => out.push([l.va, l.pa, l.write ? 1 : 0]));
        return out;
      };
      const before = leaves();
      expect(before.map((l) => l[0])).toEqual([0x10000, 0x11000]);
      const walks = view.walks;
      expect(leaves()).toEqual(before);
      expect(view.walks).toBe(walks); // nothing changed: the kept walk answered
      // a register the walk reads (TTBCR.EPD0: no walks through TTBR0), without any table write
      const ttbcrAt = (smmu.globalPages + cb) * 4096 + 0x30;
      const ttbcr = smmu.read(ttbcrAt, 4, 0) >>> 0;
      smmu.write(ttbcrAt, 4, ttbcr | (1 << 7), 0);
      expect(leaves()).toEqual([]);
      smmu.write(ttbcrAt, 4, ttbcr, 0);
      expect(leaves()).toEqual(before);
      // find the level-3 descriptor of iova 0x10000 through the registers and tables (TTBR0, 1 -> 2 -> 3)
      const ttbr0 = smmu.read((smmu.globalPages + cb) * 4096 + 0x20, 4, 0) >>> 0;
      const d = new Uint32Array(2);
      bus.read64(ttbr0 - (ttbr0 % 32), 0, d);
      const l2 = d[0]! - (d[0]! % 4096);
      bus.read64(l2, 0, d);
      const l3 = d[0]! - (d[0]! % 4096);
      const desc = l3 + 8 * 0x10;
      bus.read64(desc, 0, d);
      expect(d[0]! & 3).toBe(3);
      // AP[2] set: read-only from now on, seen at once
      bus.write(desc, 4, d[0]! | (1 << 7), 0);
      expect(leaves()).toEqual([[0x10000, before[0]![1]!, 0], before[1]]);
      // invalid: gone
      bus.write(desc, 4, 0, 0);
      expect(leaves()).toEqual([before[1]]);
      // the restore puts the boot-time tables back: no leaf
      snap.restore();
      expect(leaves()).toEqual([]);
      for (const c of prog) h.exec(c);
      expect(leaves()).toEqual(before);
    });
  }
});

describe('stream routes', () => {
  it('the harness view remembers routes only while the SMMU registers are unchanged, and across snapshot restores', () => {
    const h = new Harness({ profile: 'rfc-v4' });
    const snap = harnessSnapshot(h);
    const smmu = h.sys.machine.devices.find((d) => d.mmio[0] instanceof Smmu)!.mmio[0] as Smmu;
    const mine = (h as unknown as { view: SmmuView }).view;
    const sids = [0, 1, 2, 3, 7, 0x7fff];
    const progs = fc.sample(programArb(24), { seed: 5, numRuns: 10 });
    const kinds = new Set<string>();
    let checked = 0;
    for (const p of progs) {
      snap.restore();
      for (const c of [...SETUP_PREFIX, ...p]) {
        try {
          h.exec(c);
        } catch (e) {
          if (!(e instanceof FindingError)) throw e;
        }
        // a fresh view has no memo: it reads every register
        const fresh = new SmmuView(smmu, h.sys.machine.bus);
        for (const sid of sids) {
          const r = mine.route(sid);
          expect(r).toEqual(fresh.route(sid));
          kinds.add(r.kind);
          checked++;
        }
      }
    }
    // an SMR/S2CR write after a route was remembered is seen at once
    const before = mine.route(9);
    smmu.write(0xc00 + 4 * 7, 4, 0, 0); // S2CR7: translate in bank 0
    smmu.write(0x800 + 4 * 7, 4, 0x8000_0009, 0); // SMR7: valid, stream 9
    expect(mine.route(9)).toEqual(new SmmuView(smmu, h.sys.machine.bus).route(9));
    expect(mine.route(9)).not.toEqual(before);
    // sCR0.CLIENTPD: every stream bypasses
    smmu.write(0, 4, smmu.read(0, 4, 0) | 1, 0);
    expect(mine.route(1)).toEqual({ kind: 'bypass', why: 'sCR0.CLIENTPD' });
    expect(checked).toBeGreaterThan(500);
    expect(kinds.has('translate')).toBe(true);
    expect(kinds.size).toBeGreaterThan(1);
  });
});

describe("the groups' stream ids, kept across calls", () => {
  // groups of devices with stream ids, small values so that repeats and equal structures are common
  const groupsArb = fc.array(fc.record({ id: fc.integer({ min: 0, max: 3 }), devices: fc.array(fc.record({ streamIds: fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 3 }) }), { maxLength: 3 }) }), { maxLength: 3 });

  it('the kept answer is taken as still right exactly when rebuilding it would give the same answer', () => {
    let same = 0;
    fc.assert(
      fc.property(groupsArb, groupsArb, (a, b) => {
        const kept = buildGroupStreams(a);
        const now = buildGroupStreams(b);
        const equal = JSON.stringify([kept.ids, kept.lists]) === JSON.stringify([now.ids, now.lists]);
        if (equal) same++;
        expect(streamsStill(kept, b)).toBe(equal);
        // and the by-id table lists what the parallel arrays do (the last group of an id wins)
        for (let i = 0; i < now.ids.length; i++) if (now.ids.lastIndexOf(now.ids[i]!) === i) expect(now.byId.get(now.ids[i]!)).toBe(now.lists[i]);
      }),
      { seed: 11, numRuns: 3000 },
    );
    // the property met both answers (equal structures drawn independently, and small edits below)
    expect(same).toBeGreaterThan(50);
    const base = [{ id: 1, devices: [{ streamIds: [2, 3] }, { streamIds: [3, 4] }] }, { id: 2, devices: [{ streamIds: [5] }] }];
    const kept = buildGroupStreams(base);
    expect(kept.lists).toEqual([[2, 3, 4], [5]]);
    expect(streamsStill(kept, base)).toBe(true);
    // a repeat added changes nothing; a new stream id, device, group or order does
    expect(streamsStill(kept, [{ id: 1, devices: [{ streamIds: [2, 3, 2] }, { streamIds: [3, 4] }] }, base[1]!])).toBe(true);
    expect(streamsStill(kept, [{ id: 1, devices: [{ streamIds: [2, 3] }, { streamIds: [3, 4, 6] }] }, base[1]!])).toBe(false);
    expect(streamsStill(kept, [...base, { id: 3, devices: [] }])).toBe(false);
    expect(streamsStill(kept, [base[1]!, base[0]!])).toBe(false);
    expect(streamsStill(kept, [{ id: 1, devices: [{ streamIds: [3, 2] }, { streamIds: [3, 4] }] }, base[1]!])).toBe(false);
  });

  it('a device added to a group after the check ran is seen by the isolation check', () => {
    const h = new Harness({ profile: 'rfc-v4' });
    for (const c of SETUP_PREFIX) h.exec(c);
    const streams = (h as unknown as { groupStreams(): { ids: number[]; lists: number[][] } }).groupStreams.bind(h);
    const first = streams();
    expect(streams()).toBe(first); // kept while nothing changed
    const g = h.sys.kernel.iommu.groups()[0]!;
    const dev = g.devices[0]!;
    dev.streamIds.push(0x7ffe);
    try {
      const now = streams();
      expect(now).not.toBe(first);
      expect(now.lists[0]).toContain(0x7ffe);
    } finally {
      dev.streamIds.pop();
    }
    expect(streams().lists).toEqual(first.lists);
  });
});
