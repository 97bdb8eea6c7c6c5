import { describe, expect, it } from 'vitest';
import { makeAttrs } from '../../emulator/attrs.js';
import { BUS_OK, BUS_TRANSLATION_FAULT } from '../../emulator/bus.js';
import { MasterPort, newTranslationResult } from '../../emulator/master.js';
import * as R from './regs.js';
import { blockDesc, ent, l3Chain, makeRig, pageDesc, type Rig } from './testing/rig.js';

const SID = 1;
const RD = makeAttrs({ streamId: SID });

function tr(rig: Rig, va: number, attrs = RD) {
  const out = newTranslationResult();
  rig.smmu.translate(va, attrs, out);
  return out;
}

/** stream 1 -> cb 0; pages at VA 0x1000*i mapped in one L3 table */
function setup(cfg = {}) {
  const rig = makeRig(cfg);
  rig.driverReset();
  const { pgd, l2, l3 } = l3Chain(rig);
  rig.attach(SID, 0, pgd, { asid: 5 });
  return { rig, pgd, l2, l3 };
}

describe('SMMU TLB', () => {
  it('a changed descriptor is not seen before TLBIVA + sync, and is after', () => {
    const { rig, l3 } = setup();
    rig.wr64(ent(l3, 4), pageDesc(0x8010_0000));
    expect(tr(rig, 0x4010).pa).toBe(0x8010_0010);
    rig.wr64(ent(l3, 4), pageDesc(0x8020_0000));
    expect(tr(rig, 0x4010).pa).toBe(0x8010_0010); // stale
    expect(rig.smmu.translateNoSideEffects(SID, 0x4010, RD).ok && rig.smmu.translateNoSideEffects(SID, 0x4010, RD)).toMatchObject({ pa: 0x8020_0010 });
    rig.cbw(0, R.CB_TLBIVA, 0x4000 | 5);
    expect(rig.smmu.pendingInvalidations).toBe(1);
    expect(tr(rig, 0x4010).pa).toBe(0x8010_0010); // still stale: no sync yet
    rig.cbw(0, R.CB_TLBSYNC, 0);
    expect(rig.cbr(0, R.CB_TLBSTATUS)).toBe(0);
    expect(tr(rig, 0x4010).pa).toBe(0x8020_0010);
  });

  it('an unmapped (now invalid) page keeps translating until invalidated', () => {
    const { rig, l3 } = setup();
    rig.wr64(ent(l3, 4), pageDesc(0x8010_0000));
    expect(tr(rig, 0x4000).status).toBe(BUS_OK);
    rig.wr64(ent(l3, 4), [0, 0]);
    expect(tr(rig, 0x4000).status).toBe(BUS_OK);
    rig.invContext(0, 5); // TLBIASID + sTLBGSYNC, as the driver's unmap does
    expect(tr(rig, 0x4000).status).toBe(BUS_TRANSLATION_FAULT);
  });

  it('TLBIVA only hits the named VA and ASID; a VA inside a block invalidates the whole block', () => {
    const { rig, l3, l2 } = setup();
    rig.wr64(ent(l3, 1), pageDesc(0x8010_0000));
    rig.wr64(ent(l3, 2), pageDesc(0x8011_0000));
    rig.wr64(ent(l2, 1), blockDesc(0x8060_0000)); // VA 0x200000-0x3fffff
    tr(rig, 0x1000);
    tr(rig, 0x2000);
    tr(rig, 0x20_0000);
    rig.wr64(ent(l3, 1), pageDesc(0x8030_0000));
    rig.wr64(ent(l3, 2), pageDesc(0x8031_0000));
    rig.wr64(ent(l2, 1), blockDesc(0x8080_0000));
    rig.cbw(0, R.CB_TLBIVA, 0x1000 | 6); // wrong ASID: nothing
    rig.cbw(0, R.CB_TLBSYNC, 0);
    expect(tr(rig, 0x1000).pa).toBe(0x8010_0000);
    rig.cbw(0, R.CB_TLBIVA, 0x1000 | 5);
    rig.cbw(0, R.CB_TLBIVA, 0x3f_f000 | 5); // last page of the block
    rig.cbw(0, R.CB_TLBSYNC, 0);
    expect(tr(rig, 0x1000).pa).toBe(0x8030_0000);
    expect(tr(rig, 0x2000).pa).toBe(0x8011_0000); // untouched
    expect(tr(rig, 0x20_0000).pa).toBe(0x8080_0000);
  });

  it('TLBIASID removes only that ASID; global (nG=0) entries survive and match every ASID', () => {
    const { rig, l3 } = setup();
    rig.wr64(ent(l3, 1), pageDesc(0x8010_0000));
    rig.wr64(ent(l3, 2), pageDesc(0x8011_0000, { ng: false }));
    tr(rig, 0x1000);
    tr(rig, 0x2000);
    expect(rig.smmu.dumpTlb().map((e) => e.asid).sort()).toEqual([-1, 5]);
    rig.wr64(ent(l3, 1), pageDesc(0x8030_0000));
    rig.wr64(ent(l3, 2), pageDesc(0x8031_0000, { ng: false }));
    // switch the context to ASID 6: the ASID-5 entry no longer matches, the global one does
    rig.cbw(0, R.CB_TTBR0_HI, 6 << 16);
    expect(tr(rig, 0x1000).pa).toBe(0x8030_0000);
    expect(tr(rig, 0x2000).pa).toBe(0x8011_0000);
    rig.cbw(0, R.CB_TTBR0_HI, 5 << 16);
    expect(tr(rig, 0x1000).pa).toBe(0x8010_0000); // ASID 5 entry still cached
    rig.invContext(0, 6);
    expect(tr(rig, 0x1000).pa).toBe(0x8010_0000);
    rig.invContext(0, 5);
    expect(tr(rig, 0x1000).pa).toBe(0x8030_0000);
    expect(tr(rig, 0x2000).pa).toBe(0x8011_0000); // global entry survives TLBIASID
    rig.cbw(0, R.CB_TLBIALL, 0);
    rig.cbw(0, R.CB_TLBSYNC, 0);
    expect(tr(rig, 0x2000).pa).toBe(0x8031_0000);
  });

  it('TLBIALL on one context bank leaves others; TLBIALLNSNH + global sync flushes all', () => {
    const { rig, l3, pgd } = setup();
    rig.attach(2, 1, pgd, { asid: 9 });
    rig.wr64(ent(l3, 1), pageDesc(0x8010_0000));
    const RD2 = makeAttrs({ streamId: 2 });
    tr(rig, 0x1000);
    tr(rig, 0x1000, RD2);
    rig.wr64(ent(l3, 1), pageDesc(0x8040_0000));
    rig.cbw(1, R.CB_TLBIALL, 0);
    rig.cbw(0, R.CB_TLBSYNC, 0); // sync on another bank does not complete bank 1's op
    expect(tr(rig, 0x1000, RD2).pa).toBe(0x8010_0000);
    rig.cbw(1, R.CB_TLBSYNC, 0);
    expect(tr(rig, 0x1000, RD2).pa).toBe(0x8040_0000);
    expect(tr(rig, 0x1000).pa).toBe(0x8010_0000);
    rig.w(R.GR0_TLBIALLNSNH, 0);
    expect(tr(rig, 0x1000).pa).toBe(0x8010_0000);
    rig.w(R.GR0_STLBGSYNC, 0);
    expect(rig.r(R.GR0_STLBGSTATUS)).toBe(0);
    expect(tr(rig, 0x1000).pa).toBe(0x8040_0000);
    expect(rig.smmu.dumpTlb()).toMatchObject([{ cb: 0, asid: 5, va: 0x1000, size: 0x1000, pa: 0x8040_0000, level: 3 }]);
  });

  it('sync status stays active for the modelled sync delay', () => {
    const { rig } = setup({ syncNs: 100 });
    rig.time.now = 1000;
    rig.w(R.GR0_STLBGSYNC, 0);
    expect(rig.r(R.GR0_STLBGSTATUS)).toBe(1);
    rig.cbw(0, R.CB_TLBSYNC, 0);
    expect(rig.cbr(0, R.CB_TLBSTATUS)).toBe(1);
    rig.time.now = 1099;
    expect(rig.r(R.GR0_STLBGSTATUS)).toBe(1);
    rig.time.now = 1100;
    expect(rig.r(R.GR0_STLBGSTATUS)).toBe(0);
    expect(rig.cbr(0, R.CB_TLBSTATUS)).toBe(0);
  });

  it('counts hits, misses and walks and charges hit vs walk cost', () => {
    const { rig, l3 } = setup();
    rig.wr64(ent(l3, 1), pageDesc(0x8010_0000));
    expect(tr(rig, 0x1000).costNs).toBe(2 + 3 * 60);
    expect(tr(rig, 0x1800).costNs).toBe(2);
    const s = rig.smmu.stats;
    expect([s.hits, s.misses, s.walks, s.descriptorFetches]).toEqual([1, 1, 1, 3]);
  });

  it('permission faults are also raised from cached entries', () => {
    const { rig, l3 } = setup();
    rig.wr64(ent(l3, 1), pageDesc(0x8010_0000, { xn: true }));
    expect(tr(rig, 0x1000).status).toBe(BUS_OK);
    const walks = rig.smmu.stats.walks;
    expect(tr(rig, 0x1000, makeAttrs({ streamId: SID, instr: true })).status).toBe(BUS_TRANSLATION_FAULT);
    expect(rig.smmu.stats.walks).toBe(walks);
    expect(rig.cbr(0, R.CB_FSR)).toBe(R.FSR_PF);
    expect(rig.cbr(0, R.CB_FSYNR0) & 3).toBe(3);
  });

  it('a MasterPort behind the SMMU reads a block across a page boundary translating once per page', () => {
    const { rig, l3 } = setup();
    rig.wr64(ent(l3, 1), pageDesc(0x8050_0000));
    rig.wr64(ent(l3, 2), pageDesc(0x8040_0000)); // not contiguous in PA
    for (let i = 0; i < 0x100; i++) {
      rig.bus.write(0x8050_0f80 + i, 1, i, 0);
      rig.bus.write(0x8040_0000 + i, 1, 0x80 + i, 0);
    }
    const port = new MasterPort(rig.bus, 'dma', rig.smmu);
    const buf = new Uint8Array(0x100);
    const before = rig.smmu.stats.translations;
    expect(port.readBlock(0x1f80, buf, 0, 0x100, RD)).toBe(BUS_OK);
    expect(rig.smmu.stats.translations - before).toBe(2);
    expect(buf[0]).toBe(0);
    expect(buf[0x7f]).toBe(0x7f);
    expect(buf[0x80]).toBe(0x80);
    expect(buf[0xff]).toBe(0xff);
    expect(port.takeCost()).toBe(2 * (2 + 3 * 60)); // no walk cache: each miss reads 3 descriptors
    // a fault on the next page is reported to the master with the faulting address
    expect(port.readBlock(0x2f80, buf, 0, 0x100, RD)).toBe(BUS_TRANSLATION_FAULT);
    expect(port.lastFault?.va).toBe(0x3000);
    expect(rig.cbr(0, R.CB_FAR_LO)).toBe(0x3000);
  });

  it('an unsynced flood of TLBIs is bounded: the queue completes early instead of growing', () => {
    const { rig } = setup();
    for (let i = 0; i < 5000; i++) rig.cbw(0, R.CB_TLBIASID, 5);
    expect(rig.smmu.pendingInvalidations).toBeLessThanOrEqual(1024);
    expect(rig.smmu.pendingInvalidations).toBeGreaterThan(0);
  });
});
