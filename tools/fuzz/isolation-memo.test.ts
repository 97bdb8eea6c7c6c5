/**
 * The isolation checks' memo (isolation-memo.ts, Harness.checkIsolationAll): a pass is skipped only
 * when nothing the checks read changed, so every program finds what it finds with the checks run
 * after every call that sets isolationDirty; and a change of each input after a remembered pass is
 * seen by the next check.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SECOND_GROUP, SETUP_PREFIX, programArb } from './arb.js';
import { execCall, harnessSnapshot } from './engine.js';
import { DEFAULT_SUPPRESSIONS, Harness } from './harness.js';
import type { IsolationMemo } from './isolation-memo.js';
import { SmmuView } from './isolation.js';
import { VFIO_REQS, type Call } from './program.js';
import { mapCall } from './testing/calls.js';
import { Smmu } from '../../devices/smmu/smmu.js';
import { P_PR, P_PW } from '../../devices/smmu/walk.js';
import type { Type1Iommu } from '../../kernel-model/vfio/type1.js';

const memoOf = (h: Harness): IsolationMemo => (h as unknown as { isoMemo: IsolationMemo }).isoMemo;
const smmuOf = (h: Harness): Smmu => h.sys.machine.devices.find((d) => d.mmio[0] instanceof Smmu)!.mmio[0] as Smmu;

/** a second mapping (two more DMA pages at IOVA 0x40000, read only) */
const mapRo: Call = { ...mapCall, arg: { ...mapCall.arg, fields: { ...(mapCall.arg as { fields: object }).fields, vaddr: { dma: 2 }, iova: 0x40000, flags: 1 } } } as Call;

describe('the isolation memo', () => {
  for (const profile of ['rfc-v4', 'mainline']) {
    it(`${profile}: random programs find the same, call by call, with the memo as with the checks after every dirty call`, () => {
      const mk = (off: boolean): { h: Harness; restore: () => void } => {
        const h = new Harness({ profile, ignore: new Set(DEFAULT_SUPPRESSIONS) });
        h.isolationMemoOff = off;
        const snap = harnessSnapshot(h);
        return { h, restore: () => snap.restore() };
      };
      const on = mk(false);
      const off = mk(true);
      let calls = 0;
      let skips = 0;
      let findings = 0;
      const progs = fc.sample(programArb(32), { seed: 23, numRuns: 24 });
      progs.forEach((p, i) => {
        on.restore();
        off.restore();
        const prog = [...SETUP_PREFIX, ...(i % 2 === 0 ? SECOND_GROUP : []), mapCall, mapRo, ...p];
        for (const c of prog) {
          const a = execCall(on.h, c);
          const b = execCall(off.h, c);
          expect(a, `${profile} program ${i}`).toEqual(b);
          if (a) findings++;
          calls++;
        }
        expect(on.h.seen).toEqual(off.h.seen);
        skips += memoOf(on.h).skips;
        expect(memoOf(off.h).skips).toBe(0);
      });
      expect(calls).toBeGreaterThan(300);
      // the memo answered many of the checks (a few dozen per profile at least)
      expect(skips).toBeGreaterThan(30);
      void findings;
    });
  }

  /**
   * P0 with the PL330's group in a container and two pages mapped; a failing MAP_DMA (argsz 0:
   * EINVAL) sets isolationDirty and changes nothing, so its second run is answered by the memo
   */
  const touch: Call = { ...mapCall, arg: { ...mapCall.arg, fields: { ...(mapCall.arg as { fields: object }).fields, argsz: 0 } } } as Call;
  function remembered(profile: string): Harness {
    const h = new Harness({ profile });
    // RAM watches (the kept walks') need the page store's snapshot record, as in a campaign
    harnessSnapshot(h);
    for (const c of [...SETUP_PREFIX, mapCall]) h.exec(c);
    expect(execCall(h, touch)).toBeNull();
    const skips = memoOf(h).skips;
    expect(execCall(h, touch)).toBeNull();
    expect(memoOf(h).skips, 'the memo answered the unchanged state').toBe(skips + 1);
    return h;
  }
  const bankOf = (h: Harness): number => {
    const r = new SmmuView(smmuOf(h), h.sys.machine.bus).route(h.streamId);
    expect(r.kind).toBe('translate');
    return (r as { cb: number }).cb;
  };

  for (const profile of ['rfc-v4', 'mainline']) {
    it(`${profile}: a table entry cleared behind the kernel's back (no register write) is seen by the next check`, () => {
      const h = remembered(profile);
      const it1 = h.sys.vfio.containerStates()[0]!.data as Type1Iommu;
      const smmu = smmuOf(h);
      const epoch = smmu.epoch;
      // io-pgtable's unmap clears the leaf in RAM; its TLB maintenance writes registers, whose
      // count is put back: what is left changed is the table page's bytes
      it1.domain.unmap(0x10000, 0x1000);
      smmu.epoch = epoch;
      expect(execCall(h, touch)?.sig).toBe('dma-missing');
    });

    it(`${profile}: a TLB entry inserted behind the kernel's back (no register write) is seen by the next check`, () => {
      const h = remembered(profile);
      const smmu = smmuOf(h);
      const epoch = smmu.epoch;
      // a global entry for an IOVA nothing maps, to some page
      smmu.tlb.insert(bankOf(h), -1, 0x80000, 0x80000, 0x1000, 0x90000000, P_PR | P_PW, 3);
      expect(smmu.epoch).toBe(epoch);
      expect(execCall(h, touch)?.sig).toBe('dma-stale-tlb');
    });

    it(`${profile}: a walk register written behind the kernel's back is seen by the next check`, () => {
      const h = remembered(profile);
      const smmu = smmuOf(h);
      // TTBCR.EPD0: no walks through TTBR0, the mapped pages are gone from the tables
      const at = (smmu.globalPages + bankOf(h)) * 4096 + 0x30;
      smmu.write(at, 4, (smmu.read(at, 4, 0) >>> 0) | (1 << 7), 0);
      expect(execCall(h, touch)?.sig).toBe('dma-missing');
    });

    it(`${profile}: a routing register written behind the kernel's back is seen by the next check`, () => {
      const h = remembered(profile);
      const smmu = smmuOf(h);
      // sCR0.CLIENTPD: every stream bypasses translation (the banks' walk registers are untouched)
      smmu.write(0, 4, (smmu.read(0, 4, 0) >>> 0) | 1, 0);
      expect(execCall(h, touch)?.sig).toBe('dma-unmapped');
    });

    it(`${profile}: a stream id added to the group's device is seen by the next check`, () => {
      const h = remembered(profile);
      const dev = h.sys.kernel.iommu.groups().find((g) => g.id === h.group)!.devices[0]!;
      // a stream no stream-map entry matches: unidentified, it faults or bypasses (sCR0.USFCFG)
      dev.streamIds.push(0x7ffe);
      try {
        expect(execCall(h, touch)?.sig).toMatch(/^dma-(missing|unmapped)$/);
      } finally {
        dev.streamIds.pop();
      }
    });

    it(`${profile}: what the reference model expects, changed, is seen by the next check`, () => {
      const h = remembered(profile);
      // the model's record of the mapping: its first page is now expected elsewhere
      const model = h.model as unknown as { containers: Map<number, { maps: { pa: number[] }[] }> };
      const c = [...model.containers.values()].find((x) => x.maps.length > 0)!;
      c.maps[0]!.pa[0] = c.maps[0]!.pa[0]! + 0x1000;
      expect(execCall(h, touch)?.sig).toBe('dma-wrong-page');
    });
  }

  it('a VFIO_GROUP_GET_STATUS (isolation-neutral) leaves the memo alone, and a snapshot restore forgets it', () => {
    const h = new Harness({ profile: 'mainline' });
    const snap = harnessSnapshot(h);
    for (const c of [...SETUP_PREFIX, mapCall, touch]) h.exec(c);
    expect(memoOf(h).valid).toBe(true);
    h.exec({ op: 'ioctl', p: 0, fd: { k: 'group', i: 0 }, req: VFIO_REQS.VFIO_GROUP_GET_STATUS, arg: { t: 'struct', type: 'vfio_group_status', fields: { argsz: 8 }, ptr: 'ok' } });
    expect(memoOf(h).valid).toBe(true);
    snap.restore();
    expect(memoOf(h).valid).toBe(false);
    expect(memoOf(h).skips).toBe(0);
  });
});
