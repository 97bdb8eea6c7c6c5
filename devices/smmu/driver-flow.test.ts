/**
 * End-to-end flow as the 2014 arm-smmu driver drives the hardware: probe (ID registers,
 * SMR probe), device reset, domain init (CBAR/TTBR/TTBCR/MAIR/SCTLR with stall), master
 * attach (SMR + S2CR), map pages in the driver's PTE format, and the fault handler
 * sequence. The scenario behind patch 02 of the VFIO-platform series: the PL330 fetches
 * its program through the SMMU, and pages mapped without IOMMU_EXEC are XN.
 */
import { describe, expect, it } from 'vitest';
import { makeAttrs } from '../../emulator/attrs.js';
import { BUS_OK, BUS_TRANSLATION_FAULT } from '../../emulator/bus.js';
import { BUS_STALLED, MasterPort } from '../../emulator/master.js';
import * as R from './regs.js';
import { ent, makeRig, tableDesc } from './testing/rig.js';

/** the driver's stage-1 PTE for a 4 KiB page (AF, nG, AP_UNPRIV, SH IS, cacheable index, XN unless exec) */
function driverPte(pa: number, prot: { write: boolean; exec: boolean }): [number, number] {
  let lo = (pa & 0xfffff000) | 3 | (1 << 10) | (1 << 11) | (1 << 6) | (3 << 8) | (1 << 2);
  if (!prot.write) lo |= 1 << 7;
  const hi = prot.exec ? 0 : 3 << 21; // ARM_SMMU_PTE_XN = 3 << 53: PXN and XN
  return [lo >>> 0, hi];
}

describe('SMMU driven like the 2014 Linux driver', () => {
  it('probe, reset, attach, map; program fetch faults on an XN page and works with IOMMU_EXEC', () => {
    const rig = makeRig();
    const { r, w, cbw, cbr } = rig;
    // ---- probe ----
    expect(((r(R.GR0_PIDR0 + 8) >>> 4) & 0xf) + 1).toBe(1);
    const id0 = r(R.GR0_SIDR0);
    expect(id0 & R.SIDR0_S1TS).not.toBe(0);
    expect((id0 >>> 24) & 2).toBe(0); // not v8-only
    w(R.GR0_SMR, (0x7fff << 16) | 0x7fff);
    const smr = r(R.GR0_SMR);
    expect(((smr >>> 16) & 0x7fff) & (smr & 0x7fff)).toBe(smr & 0x7fff);
    const id1 = r(R.GR0_SIDR1);
    const pages = 1 << (((id1 >>> 28) & 7) + 1);
    expect(pages * 0x1000 * 2).toBe(0x10000); // size check the driver does
    // ---- reset ----
    rig.driverReset();
    // ---- domain init: context bank 0, irptndx 1 % 4 = 1 (the driver's atomic counter) ----
    const pgd = rig.page();
    const cb = 0;
    w(0x1000 + 4 * cb, (R.CBAR_TYPE_S1_S2BYPASS << R.CBAR_TYPE_SHIFT) | (3 << 8) | (0xf << 12) | (1 << R.CBAR_IRPTNDX_SHIFT));
    cbw(cb, R.CB_TTBR0_LO, pgd);
    cbw(cb, R.CB_TTBR0_HI, 0 | (cb << 16));
    cbw(cb, R.CB_TTBCR, (R.TTBCR_EAE | (3 << 12) | (1 << 10) | (1 << 8) | (1 << 6)) >>> 0);
    cbw(cb, R.CB_MAIR0, 0x44 | (0xff << 8) | (0x04 << 16));
    cbw(cb, R.CB_SCTLR, R.SCTLR_CFCFG | R.SCTLR_CFIE | R.SCTLR_CFRE | R.SCTLR_M | R.SCTLR_AFE | R.SCTLR_TRE | R.SCTLR_ASIDPNE);
    // ---- attach master with stream id 1 ----
    w(R.GR0_SMR + 0, R.SMR_VALID | 1);
    w(R.GR0_S2CR + 0, (R.S2CR_TYPE_TRANS << R.S2CR_TYPE_SHIFT) | cb);
    // ---- map: program page (no IOMMU_EXEC) and data page ----
    const l2 = rig.page();
    const l3 = rig.page();
    rig.wr64(ent(pgd, 0), tableDesc(l2));
    rig.wr64(ent(l2, 0), tableDesc(l3));
    const prog = 0x8300_0000;
    rig.wr64(ent(l3, 0x10), driverPte(prog, { write: false, exec: false }));
    rig.wr64(ent(l3, 0x11), driverPte(0x8301_0000, { write: true, exec: false }));
    rig.bus.write(prog, 4, 0xdeadbeef, 0);

    const port = new MasterPort(rig.bus, 'pl330', rig.smmu);
    const fetch = makeAttrs({ streamId: 1, instr: true, priv: false });
    const data = makeAttrs({ streamId: 1 });
    expect(port.read(0x10000, 4, data)).toBe(0xdeadbeef); // the CPU-visible data is readable
    expect(port.write(0x11000, 4, 1, makeAttrs({ streamId: 1, write: true }))).toBe(BUS_OK);
    // program fetch: XN; the driver's SCTLR has CFCFG, so the fetch stalls in the SMMU
    expect(port.read(0x10000, 4, fetch)).toBe(BUS_STALLED);
    expect(port.stalled?.va).toBe(0x10000);
    const outcomes: string[] = [];
    port.awaitStall((o) => outcomes.push(o));
    expect(rig.ctxIrqs[1]!.level).toBe(true);

    // ---- the driver's context fault handler ----
    const fsr = cbr(cb, R.CB_FSR);
    expect(fsr).toBe((R.FSR_PF | R.FSR_SS) >>> 0);
    const fsynr = cbr(cb, R.CB_FSYNR0);
    expect(fsynr & R.FSYNR0_IND).toBe(R.FSYNR0_IND);
    expect(fsynr & R.FSYNR0_WNR).toBe(0);
    expect(cbr(cb, R.CB_FAR_LO)).toBe(0x10000);
    cbw(cb, R.CB_FSR, fsr);
    expect(outcomes).toEqual([]);
    cbw(cb, R.CB_RESUME, R.RESUME_TERMINATE);
    // the master gets its bus error now
    expect(outcomes).toEqual(['terminate']);
    expect(port.lastFault?.status).toBe(BUS_TRANSLATION_FAULT);
    expect(cbr(cb, R.CB_FSR)).toBe(0);
    expect(rig.ctxIrqs[1]!.level).toBe(false);

    // ---- remap with IOMMU_EXEC (what patch 02 makes VFIO pass), unmap flush, retry ----
    rig.wr64(ent(l3, 0x10), driverPte(prog, { write: false, exec: true }));
    expect(port.read(0x10000, 4, fetch)).toBe(BUS_STALLED); // stale XN entry still cached
    port.awaitStall((o) => outcomes.push(o));
    cbw(cb, R.CB_FSR, cbr(cb, R.CB_FSR));
    cbw(cb, R.CB_RESUME, R.RESUME_TERMINATE);
    cbw(cb, R.CB_TLBIASID, cb);
    w(R.GR0_STLBGSYNC, 0);
    expect(r(R.GR0_STLBGSTATUS) & 1).toBe(0);
    expect(port.read(0x10000, 4, fetch)).toBe(0xdeadbeef);
    expect(rig.smmu.faults().map((f) => [f.type, f.va])).toEqual([
      ['permission', 0x10000],
      ['permission', 0x10000],
    ]);
  });
});
