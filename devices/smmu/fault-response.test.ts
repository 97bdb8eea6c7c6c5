/**
 * What a faulting transaction's master sees and how the walk checks output addresses:
 * CBn_SCTLR.CFRE / sCR0.GFRE / sCR0.GCFGFRE = 0 (RAZ/WI instead of an abort, the fault still
 * recorded and interrupted), sCR0.STALLD (a CFCFG = 1 bank terminates instead of stalling),
 * and the address size check against sIDR2.OAS (stage 1 and stage 2), with a PL330 run
 * through a CFRE = 0 context (accelerators on and off). (Crosses layers: a test may build
 * fixtures from any part.)
 */
import { describe, expect, it } from 'vitest';
import { makeAttrs } from '../../emulator/attrs.js';
import { BUS_OK, BUS_TRANSLATION_FAULT, PhysicalBus } from '../../emulator/bus.js';
import { IrqLine } from '../../emulator/irq.js';
import { BUS_RAZWI, BUS_STALLED, MasterPort, newTranslationResult } from '../../emulator/master.js';
import { Scheduler } from '../../emulator/scheduler.js';
import * as A from '../pl330/assembler.js';
import * as P from '../pl330/constants.js';
import { Pl330 } from '../pl330/pl330.js';
import * as R from './regs.js';
import { Smmu } from './smmu.js';
import { blockDesc, ent, l3Chain, makeRig, pageDesc, RAM_BASE, tableDesc, type Rig } from './testing/rig.js';

const SID = 1;
const RD = makeAttrs({ streamId: SID, priv: false });
const WR = makeAttrs({ streamId: SID, priv: false, write: true });
const CPU = makeAttrs({ priv: true });

function tr(rig: Rig, va: number, attrs: number) {
  const out = newTranslationResult();
  rig.smmu.translate(va, attrs, out);
  return out;
}

/** stream SID -> bank 0 with VA 0..2 MiB through l3; SCTLR = the rig's (CFRE set) with `clear` removed */
function setup(opts: { clear?: number; extra?: number; stall?: boolean } = {}, cfg: Parameters<typeof makeRig>[0] = {}) {
  const rig = makeRig(cfg);
  rig.driverReset();
  const { pgd, l2, l3 } = l3Chain(rig);
  rig.attach(SID, 0, pgd, { sctlrExtra: opts.extra ?? 0, stall: opts.stall ?? false });
  if (opts.clear !== undefined) rig.cbw(0, R.CB_SCTLR, rig.cbr(0, R.CB_SCTLR) & ~opts.clear);
  return { rig, pgd, l2, l3 };
}

describe('SCTLR.CFRE = 0: a context fault terminates with RAZ/WI', () => {
  it('translate answers BUS_RAZWI to the end of the page; FSR/FAR/FSYNR0 and the interrupt as with CFRE = 1', () => {
    for (const cfre of [true, false]) {
      const { rig } = setup({ clear: cfre ? 0 : R.SCTLR_CFRE });
      const o = tr(rig, 0x3456, WR);
      expect(o.status, `cfre ${cfre}`).toBe(cfre ? BUS_TRANSLATION_FAULT : BUS_RAZWI);
      expect(o.extent).toBe(cfre ? 0 : 0x1000 - 0x456);
      expect(rig.cbr(0, R.CB_FSR)).toBe(R.FSR_TF);
      expect(rig.cbr(0, R.CB_FAR_LO)).toBe(0x3456);
      expect(rig.cbr(0, R.CB_FSYNR0) & (3 | R.FSYNR0_WNR | R.FSYNR0_PTWF)).toBe(3 | R.FSYNR0_WNR);
      expect(rig.ctxIrqs[0]!.level).toBe(true);
      expect(rig.smmu.faults().map((f) => f.type)).toEqual(['translation']);
    }
  });

  it('a master port reads zeros and drops writes without an error (word and block accesses); RAM is untouched', () => {
    const { rig, l3 } = setup({ clear: R.SCTLR_CFRE, extra: R.SCTLR_HUPCF });
    const data = RAM_BASE + 0x20_0000;
    rig.ram.fill(0x20_0000, 0x5a, 0x2000);
    // VA page 5 mapped, read-only (a write is a permission fault); VA page 6 unmapped
    rig.wr64(ent(l3, 5), pageDesc(data, { ro: true }));
    const port = new MasterPort(rig.bus, 'm', rig.smmu);
    expect(port.read(0x5010, 4, RD)).toBe(0x5a5a5a5a);
    expect(port.read(0x6010, 4, RD)).toBe(0);
    expect(port.write(0x5010, 4, 0x11223344, WR)).toBe(BUS_OK);
    expect(rig.ram.read32(0x20_0010)).toBe(0x5a5a5a5a);
    expect(port.lastFault).toBe(null);
    const buf = new Uint8Array(0x1800).fill(0xee);
    // 0x5800..0x6fff: the first 0x800 bytes from page 5, then page 6 as zeros
    expect(port.readBlock(0x5800, buf, 0, 0x1800, RD)).toBe(BUS_OK);
    expect(buf.subarray(0, 0x800).every((b) => b === 0x5a)).toBe(true);
    expect(buf.subarray(0x800).every((b) => b === 0)).toBe(true);
    expect(port.writeBlock(0x5000, new Uint8Array(0x1000).fill(1), 0, 0x1000, WR)).toBe(BUS_OK);
    expect(rig.ram.readBytes(0x20_0000, 0x1000).every((b) => b === 0x5a)).toBe(true);
    expect(port.lastFault).toBe(null);
    // only bytes that reached the bus count
    expect(port.bytes).toBe(4 + 0x800);
    // every faulting translation was recorded (the first with its syndrome, the rest MULTI)
    expect(rig.cbr(0, R.CB_FSR)).toBe((R.FSR_TF | R.FSR_MULTI) >>> 0);
    expect(rig.cbr(0, R.CB_FAR_LO)).toBe(0x6010);
    expect(rig.smmu.faults().map((f) => f.type)).toEqual(['translation', 'permission', 'translation', 'permission']);
  });

  it('HUPCF = 0: a transaction held under the outstanding fault is RAZ/WI too, and records nothing', () => {
    const { rig, l3 } = setup({ clear: R.SCTLR_CFRE });
    rig.wr64(ent(l3, 5), pageDesc(RAM_BASE + 0x20_0000));
    expect(tr(rig, 0x6000, RD).status).toBe(BUS_RAZWI);
    const held = tr(rig, 0x5000, RD);
    expect(held.status).toBe(BUS_RAZWI);
    expect(held.extent).toBe(0x1000);
    expect(rig.smmu.stats.heldUnderFault).toBe(1);
    expect(rig.smmu.faults().length).toBe(1);
    rig.cbw(0, R.CB_FSR, R.FSR_TF);
    expect(tr(rig, 0x5000, RD).status).toBe(BUS_OK);
  });

  it('stall model: CFRE does not change that the transaction is held', () => {
    const { rig } = setup({ clear: R.SCTLR_CFRE, stall: true });
    expect(tr(rig, 0x6000, RD).status).toBe(BUS_STALLED);
  });

  it('stall model: RESUME with TnR = 1 ends the held transaction as RAZ/WI when CFRE = 0 (read at the RESUME), with the bus error when CFRE = 1', () => {
    for (const cfre of [false, true]) {
      const { rig } = setup({ clear: cfre ? 0 : R.SCTLR_CFRE, stall: true });
      const port = new MasterPort(rig.bus, 'm', rig.smmu);
      // a block read of an unmapped page: held
      const buf = new Uint8Array(64).fill(0xee);
      expect(port.readBlock(0x6010, buf, 0, 64, RD)).toBe(BUS_STALLED);
      const got: [string, number][] = [];
      port.awaitStall((o, a) => got.push([o, a.va]));
      rig.cbw(0, R.CB_FSR, rig.cbr(0, R.CB_FSR));
      rig.cbw(0, R.CB_RESUME, R.RESUME_TERMINATE);
      expect(got, `cfre ${cfre}`).toEqual([[cfre ? 'terminate' : 'razwi', 0x6010]]);
      expect(port.lastFault?.status ?? null).toBe(cfre ? BUS_TRANSLATION_FAULT : null);
      expect([rig.smmu.fault.terminations, rig.smmu.fault.razwiTerminations]).toEqual([1, cfre ? 0 : 1]);
      // the fault stays recorded (one record; FSR was written back by the handler)
      expect(rig.smmu.faults().map((f) => [f.type, f.va])).toEqual([['translation', 0x6010]]);
      if (cfre) continue;
      // the master re-issues it completed as RAZ/WI: zeros, no new translation, no new fault
      const t0 = rig.smmu.stats.translations;
      port.completeAsRazwi([{ va: 0x6010, attrs: RD, status: BUS_STALLED }]);
      expect(port.readBlock(0x6010, buf, 0, 64, RD)).toBe(BUS_OK);
      expect(buf.every((b) => b === 0)).toBe(true);
      expect(port.read(0x6010, 4, RD)).toBe(0);
      // another address, or the same address with other attributes, still translates (and faults)
      expect(port.read(0x6014, 4, RD)).toBe(BUS_STALLED);
      port.completeAsRazwi(null);
      expect(rig.smmu.stats.translations).toBe(t0 + 1);
      expect(port.lastFault?.va).toBe(0x6014);
      expect(port.bytes).toBe(0);
    }
  });

  it('stall model: RESUME with TnR = 0 retries whatever CFRE says; a reset terminates with the bus error', () => {
    const { rig } = setup({ clear: R.SCTLR_CFRE, stall: true });
    const port = new MasterPort(rig.bus, 'm', rig.smmu);
    const got: string[] = [];
    expect(port.read(0x6000, 4, RD)).toBe(BUS_STALLED);
    port.awaitStall((o) => got.push(o));
    rig.cbw(0, R.CB_RESUME, 0);
    expect(port.read(0x6000, 4, RD)).toBe(BUS_STALLED);
    port.awaitStall((o) => got.push(o));
    rig.smmu.reset();
    expect(got).toEqual(['retry', 'terminate']);
  });
});

describe('sCR0.GFRE / GCFGFRE = 0: a global fault terminates with RAZ/WI', () => {
  it('unmatched stream with USFCFG: GFRE = 0 gives RAZ/WI, GFRE = 1 the abort; sGFSR.USF and the global interrupt either way', () => {
    for (const gfre of [true, false]) {
      const rig = makeRig();
      rig.driverReset();
      rig.w(R.GR0_SCR0, (rig.r(R.GR0_SCR0) | R.SCR0_USFCFG) & ~(gfre ? 0 : R.SCR0_GFRE));
      const port = new MasterPort(rig.bus, 'm', rig.smmu);
      const attrs = makeAttrs({ streamId: 9, priv: false });
      const v = port.read(RAM_BASE + 0x100, 4, attrs);
      expect(v, `gfre ${gfre}`).toBe(gfre ? BUS_TRANSLATION_FAULT : 0);
      expect(port.lastFault?.status ?? null).toBe(gfre ? BUS_TRANSLATION_FAULT : null);
      expect(rig.r(R.GR0_SGFSR)).toBe(R.GFSR_USF);
      expect(rig.r(R.GR0_SGFSYNR1)).toBe(9);
      expect(rig.globalIrq.level).toBe(true);
    }
  });

  it('a configuration fault (unimplemented context bank) follows GCFGFRE, not GFRE', () => {
    for (const [clear, razwi] of [[R.SCR0_GFRE, false], [R.SCR0_GCFGFRE, true]] as const) {
      const rig = makeRig();
      rig.driverReset();
      rig.w(R.GR0_SCR0, rig.r(R.GR0_SCR0) & ~clear);
      rig.w(R.GR0_SMR, R.SMR_VALID | SID);
      rig.w(R.GR0_S2CR, (R.S2CR_TYPE_TRANS << R.S2CR_TYPE_SHIFT) | 7); // 4 banks
      expect(tr(rig, 0x1000, RD).status).toBe(razwi ? BUS_RAZWI : BUS_TRANSLATION_FAULT);
      expect(rig.r(R.GR0_SGFSR)).toBe(R.GFSR_UCBF);
    }
  });
});

describe('sCR0.STALLD', () => {
  it('a CFCFG = 1 bank terminates instead of stalling (no SS, nothing held); CFCFG reads back as written; clearing STALLD stalls again', () => {
    const { rig } = setup({ stall: true, extra: R.SCTLR_HUPCF });
    rig.w(R.GR0_SCR0, rig.r(R.GR0_SCR0) | R.SCR0_STALLD);
    expect(rig.r(R.GR0_SCR0) & R.SCR0_STALLD).toBe(R.SCR0_STALLD);
    expect(tr(rig, 0x1000, RD).status).toBe(BUS_TRANSLATION_FAULT);
    expect(rig.cbr(0, R.CB_FSR)).toBe(R.FSR_TF);
    expect(rig.smmu.fault.stalled.length).toBe(0);
    expect(rig.cbr(0, R.CB_SCTLR) & R.SCTLR_CFCFG).toBe(R.SCTLR_CFCFG);
    expect(rig.ctxIrqs[0]!.level).toBe(true);
    rig.cbw(0, R.CB_FSR, R.FSR_TF);
    rig.w(R.GR0_SCR0, rig.r(R.GR0_SCR0) & ~R.SCR0_STALLD);
    expect(tr(rig, 0x1000, RD).status).toBe(BUS_STALLED);
    expect(rig.cbr(0, R.CB_FSR)).toBe((R.FSR_TF | R.FSR_SS) >>> 0);
  });

  it('HUPCF = 0 with STALLD: the outstanding fault is the terminate model\'s (an FSR fault bit), later transactions are terminated, not held', () => {
    const { rig, l3 } = setup({ stall: true });
    rig.wr64(ent(l3, 5), pageDesc(RAM_BASE + 0x20_0000));
    rig.w(R.GR0_SCR0, rig.r(R.GR0_SCR0) | R.SCR0_STALLD);
    expect(tr(rig, 0x1000, RD).status).toBe(BUS_TRANSLATION_FAULT);
    expect(tr(rig, 0x5000, RD).status).toBe(BUS_TRANSLATION_FAULT);
    expect(rig.smmu.stats.heldUnderFault).toBe(1);
    expect(rig.smmu.fault.stalled.length).toBe(0);
    rig.cbw(0, R.CB_FSR, R.FSR_TF);
    expect(tr(rig, 0x5000, RD).status).toBe(BUS_OK);
  });
});

describe('address size check (sIDR2.OAS)', () => {
  it('stage 1, OAS 36: a page whose output address has bit 36 set, or a table above OAS, is a translation fault at that level; OAS 40 translates the same tables', () => {
    for (const oas of [40, 36]) {
      const { rig, pgd, l3 } = setup({ extra: R.SCTLR_HUPCF }, { oas });
      expect((rig.r(R.GR0_SIDR2) >>> R.SIDR2_OAS_SHIFT) & 0xf).toBe(oas === 40 ? 2 : 1);
      rig.wr64(ent(l3, 1), pageDesc(0x10_8000_1000));
      rig.wr64(ent(l3, 2), pageDesc(0x0f_8000_2000)); // below 2^36: fine with both
      rig.wr64(ent(pgd, 1), tableDesc(0x30_0000_0000)); // a level-2 table above 2^36 (nothing there)
      rig.wr64(ent(pgd, 2), blockDesc(0x20_8000_0000));
      expect(tr(rig, 0x2234, RD).pa).toBe(0x0f_8000_2234);
      const a = tr(rig, 0x1234, RD);
      if (oas === 40) {
        expect(a.status).toBe(BUS_OK);
        expect(a.pa).toBe(0x10_8000_1234);
        expect(tr(rig, 0x8000_0010, RD).pa).toBe(0x20_8000_0010);
        expect(typeof rig.smmu.quietLookup).toBe(rig.smmu.accel ? 'function' : 'undefined');
        continue;
      }
      expect(a.status).toBe(BUS_TRANSLATION_FAULT);
      expect(rig.cbr(0, R.CB_FSR)).toBe(R.FSR_TF);
      expect(rig.cbr(0, R.CB_FAR_LO)).toBe(0x1234);
      expect(rig.cbr(0, R.CB_FSYNR0) & 3).toBe(3);
      expect(rig.cbr(0, R.CB_FSYNR0) & R.FSYNR0_PTWF).toBe(0);
      rig.cbw(0, R.CB_FSR, R.FSR_TF);
      // the table descriptor above OAS faults at level 1 without reading the level-2 table
      const ext = rig.smmu.stats.descriptorFetches;
      expect(tr(rig, 0x4000_0000, RD).status).toBe(BUS_TRANSLATION_FAULT);
      expect(rig.smmu.stats.descriptorFetches - ext).toBe(1);
      expect(rig.cbr(0, R.CB_FSYNR0) & 3).toBe(1);
      rig.cbw(0, R.CB_FSR, R.FSR_TF);
      expect(tr(rig, 0x8000_0010, RD).status).toBe(BUS_TRANSLATION_FAULT);
      expect(rig.cbr(0, R.CB_FSYNR0) & 3).toBe(1);
      expect(rig.smmu.faults().map((f) => [f.type, f.level])).toEqual([['translation', 3], ['translation', 1], ['translation', 1]]);
      // the reference model only: the accelerators do not check output sizes
      expect(rig.smmu.accel).toBe(false);
      expect(rig.smmu.quietLookup).toBeUndefined();
    }
  });

  it('stage 2, OAS 32: a level-2 block above 4 GiB is a stage-2 translation fault at level 2', () => {
    for (const oas of [40, 32]) {
      const rig = makeRig({ stages: 's2', oas });
      rig.driverReset();
      // 32-bit IPA starting at level 2 (VTCR T0SZ 0, SL0 0): four concatenated 4 KiB tables
      const pgd = RAM_BASE + 0x40_0000;
      rig.ram.fill(0x40_0000, 0, 0x4000);
      rig.wr64(pgd + 8 * 3, [(0x8060_0000 | (1 << 10) | (3 << 6) | (0xf << 2) | 1) >>> 0, 0]);
      rig.wr64(pgd + 8 * 4, [(0x0020_0000 | (1 << 10) | (3 << 6) | (0xf << 2) | 1) >>> 0, 1]); // PA 0x1_0020_0000
      rig.w(0x1000, (R.CBAR_TYPE_S2 << R.CBAR_TYPE_SHIFT) | 1);
      rig.cbw(0, R.CB_TTBR0_LO, pgd);
      rig.cbw(0, R.CB_TTBR0_HI, 0);
      rig.cbw(0, R.CB_TTBCR, 1 << 31);
      rig.cbw(0, R.CB_SCTLR, R.SCTLR_M | R.SCTLR_CFRE | R.SCTLR_CFIE | R.SCTLR_HUPCF);
      rig.w(R.GR0_SMR, R.SMR_VALID | SID);
      rig.w(R.GR0_S2CR, (R.S2CR_TYPE_TRANS << R.S2CR_TYPE_SHIFT) | 0);
      expect(tr(rig, 0x0060_0010, RD).pa).toBe(0x8060_0010);
      const o = tr(rig, 0x0080_0010, RD);
      if (oas === 40) {
        expect(o.pa).toBe(0x1_0020_0010);
        continue;
      }
      expect(o.status).toBe(BUS_TRANSLATION_FAULT);
      expect(rig.cbr(0, R.CB_FSR)).toBe(R.FSR_TF);
      expect(rig.cbr(0, R.CB_FAR_LO)).toBe(0x0080_0010);
      expect(rig.cbr(0, R.CB_FSYNR0) & 3).toBe(2);
    }
  });
});

// ---- a PL330 through a CFRE = 0 context ----
const RAM = 0x80000000;
const PGD = RAM + 0x70000;
const L2 = PGD + 0x1000;
const L3 = PGD + 0x2000;
const PROG_PA = RAM + 0x6f000;
const IOVA_PROG = 0x5000;
const IOVA_SRC = 0x10000;
const IOVA_DST = 0x30000;
const SRC_PA = RAM + 0x1000;
const DST_PA = RAM + 0x2000;

/** one 256-byte DMALD/DMAST through bank 0 (CFRE clear); `src`/`dst`: map that side */
function pl330Run(accel: boolean, src: boolean, dst: boolean, hupcf: boolean) {
  const sched = new Scheduler();
  const bus = new PhysicalBus();
  const ram = bus.addRam('ram', RAM, 0x80000);
  const w64 = (pa: number, lo: number): void => ram.write64(pa - RAM, lo >>> 0, 0);
  w64(PGD, L2 | 3);
  w64(L2, L3 | 3);
  w64(L3 + 8 * (IOVA_PROG >>> 12), (PROG_PA | 0x743) >>> 0);
  if (src) w64(L3 + 8 * (IOVA_SRC >>> 12), (SRC_PA | 0x743) >>> 0);
  if (dst) w64(L3 + 8 * (IOVA_DST >>> 12), (DST_PA | 0x743) >>> 0);
  ram.fill(SRC_PA - RAM, 0x5a, 0x1000);
  ram.fill(DST_PA - RAM, 0xaa, 0x1000);
  const prog = new A.Pl330Asm().mov('CCR', P.makeCcr({ srcBeatBytes: 16, srcBurstLen: 16, srcInc: true, dstInc: true, srcProt: 2, dstProt: 2 }))
    .mov('SAR', IOVA_SRC).mov('DAR', IOVA_DST).emit(A.DMALD()).emit(A.DMAST()).emit(A.DMAEND()).bytes;
  ram.writeBytes(PROG_PA - RAM, prog);
  const ctxIrq = new IrqLine('ctx');
  const smmu = new Smmu(bus, { regSize: 0x10000, numContextBanks: 4, numSmrs: 8, ias: 40, oas: 40, globalIrqs: [new IrqLine('g')], contextIrqs: [ctxIrq], now: () => sched.now, accel });
  smmu.write(R.GR0_SMR, 4, (R.SMR_VALID | 1) >>> 0, CPU);
  smmu.write(R.GR0_S2CR, 4, 0, CPU);
  smmu.write(0x1000, 4, R.CBAR_TYPE_S1_S2BYPASS << R.CBAR_TYPE_SHIFT, CPU);
  smmu.write(0x8000 + R.CB_TTBR0_LO, 4, PGD, CPU);
  smmu.write(0x8000 + R.CB_TTBCR, 4, R.TTBCR_EAE >>> 0, CPU);
  smmu.write(0x8000 + R.CB_SCTLR, 4, (R.SCTLR_M | R.SCTLR_CFIE | (hupcf ? R.SCTLR_HUPCF : 0)) >>> 0, CPU);
  smmu.write(R.GR0_SCR0, 4, 0, CPU);
  const abort = new IrqLine('abort');
  const port = new MasterPort(bus, 'pl330', smmu);
  const dmac = new Pl330({ accel, streamId: 1 }, { scheduler: sched, port, eventIrqs: [new IrqLine('irq0')], abortIrq: abort, tracer: null, name: 'dma0' });
  dmac.startChannel(0, IOVA_PROG);
  expect(sched.runUntilIdle(100_000).reason).toBe('idle');
  return {
    csr: dmac.read(P.csrOffset(0), 4, CPU) & 0xf,
    ftr: dmac.read(P.ftrOffset(0), 4, CPU),
    abort: abort.level,
    ctxIrq: ctxIrq.level,
    fsr: smmu.read(0x8000 + R.CB_FSR, 4, CPU),
    far: smmu.read(0x8000 + R.CB_FAR_LO, 4, CPU),
    dst: Array.from(ram.readBytes(DST_PA - RAM, 257)),
    now: sched.now,
    stats: { ...smmu.stats },
    faults: smmu.faults().map((f) => [f.type, f.va]),
  };
}

describe('PL330 through a CFRE = 0 context', () => {
  for (const accel of [true, false]) {
    it(`unmapped source: the load reads zeros, the store writes them; no data_read_err, the channel stops normally (accel ${accel})`, () => {
      const r = pl330Run(accel, false, true, true);
      expect(r.ftr).toBe(0);
      expect(r.abort).toBe(false);
      expect(r.csr).toBe(P.ST_STOPPED);
      expect(r.dst.slice(0, 256).every((b) => b === 0)).toBe(true);
      expect(r.dst[256]).toBe(0xaa);
      expect(r.fsr).toBe(R.FSR_TF);
      expect(r.far).toBe(IOVA_SRC);
      expect(r.ctxIrq).toBe(true);
      expect(r.faults).toEqual([['translation', IOVA_SRC]]);
    });

    it(`unmapped destination: the store is dropped without data_write_err (accel ${accel})`, () => {
      const r = pl330Run(accel, true, false, false);
      expect(r.ftr).toBe(0);
      expect(r.abort).toBe(false);
      expect(r.csr).toBe(P.ST_STOPPED);
      expect(r.dst.every((b) => b === 0xaa)).toBe(true);
      expect(r.fsr).toBe(R.FSR_TF);
      expect(r.far).toBe(IOVA_DST);
      expect(r.faults).toEqual([['translation', IOVA_DST]]);
    });

    it(`HUPCF = 0: after the faulting load, the mapped store is held under the fault and dropped too (accel ${accel})`, () => {
      const r = pl330Run(accel, false, true, false);
      expect(r.ftr).toBe(0);
      expect(r.csr).toBe(P.ST_STOPPED);
      expect(r.dst.every((b) => b === 0xaa)).toBe(true);
      expect(r.stats.heldUnderFault).toBe(1);
    });
  }

  it('accelerators on and off: the same time, statistics and memory', () => {
    for (const [s, d, h] of [[false, true, true], [true, false, false], [false, true, false]] as const) {
      expect(pl330Run(true, s, d, h)).toEqual(pl330Run(false, s, d, h));
    }
  });
});
