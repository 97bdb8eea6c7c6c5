/**
 * The SMMU's register tables (regs.ts): names, reset values, and guest errors for accesses
 * the architecture leaves RAZ/WI (reserved offsets, unimplemented pages), writes to
 * read-only registers and reads of write-only ones.
 */
import { describe, expect, it } from 'vitest';
import { Tracer } from '../../emulator/trace.js';
import * as R from './regs.js';
import { makeRig, SMMU_BASE } from './testing/rig.js';

function tracedRig(enabled = true) {
  const tracer = new Tracer(() => 0, enabled);
  const rig = makeRig({ tracer, name: 'smmu0' });
  const errors = () => tracer.events.filter((e) => e.kind === 'guest-error').map((e): Record<string, unknown> => ({ src: e.src, ...e.f }));
  return { rig, tracer, errors };
}

const CB1 = 0x8000 + 0x1000;

describe('SMMU register tables', () => {
  it('names registers from the tables: GR0, SMR/S2CR arrays, GR1 CBARs, banked context registers', () => {
    const { rig } = tracedRig();
    const s = rig.smmu;
    expect(s.nameAt(R.GR0_SCR0)).toBe('sCR0');
    expect(s.nameAt(R.GR0_SIDR1)).toBe('sIDR1');
    expect(s.nameAt(R.GR0_SMR + 3 * 4)).toBe('SMR[3]');
    expect(s.nameAt(R.GR0_S2CR + 7 * 4)).toBe('S2CR[7]');
    expect(s.nameAt(0x1000 + 4)).toBe('CBAR[1]');
    expect(s.nameAt(CB1 + R.CB_FSR)).toBe('CB1.FSR');
    expect(s.nameAt(0x8000 + 3 * 0x1000 + R.CB_TTBR0_HI)).toBe('CB3.TTBR0_HI');
    expect(s.nameAt(0x8000 + R.CB_ATS1UW)).toBe('CB0.ATS1UW');
    // nothing decodes: a reserved GR0 offset, SMR[8] of an 8-SMR SMMU, a reserved context
    // offset, a global page beyond GR1, a context bank the SMMU does not have
    for (const off of [0x004, R.GR0_SMR + 8 * 4, CB1 + 0x040, 0x2000, 0x8000 + 4 * 0x1000]) expect(s.nameAt(off)).toBeNull();
  });

  it('reset values come from the tables and a reset restores them', () => {
    const { rig } = tracedRig();
    const rows = new Map(rig.smmu.gr0Map.describe().map((d) => [d.name, d]));
    expect(rows.get('sCR0')).toMatchObject({ offset: 0, access: 'RW', reset: R.SCR0_CLIENTPD });
    expect(rows.get('S2CR')).toMatchObject({ offset: R.GR0_S2CR, count: 8, reset: R.S2CR_TYPE_FAULT << R.S2CR_TYPE_SHIFT });
    expect(rows.get('sGFSR')).toMatchObject({ access: 'W1C' });
    expect(rows.get('PIDR2')).toMatchObject({ offset: 0xfe8, access: 'RO', reset: 0x0b });
    expect(rig.smmu.cbMap.describe().find((d) => d.name === 'FSR')).toMatchObject({ offset: R.CB_FSR, access: 'W1C', reset: 0 });
    // what a guest reads after reset
    expect(rig.r(R.GR0_SCR0)).toBe(R.SCR0_CLIENTPD);
    expect(rig.r(R.GR0_S2CR + 4 * 5)).toBe(R.S2CR_TYPE_FAULT << R.S2CR_TYPE_SHIFT);
    expect(rig.r(0xfe8)).toBe(0x0b);
    expect(rig.r(R.GR0_SIDR0) & 0xff).toBe(8);
    rig.w(R.GR0_SCR0, 0);
    rig.w(R.GR0_SMR + 4, R.SMR_VALID | 5);
    rig.w(R.GR0_S2CR + 4, 1);
    rig.w(0x1000 + 8, 0x0101_0000);
    rig.cbw(2, R.CB_TTBR0_LO, 0x8000_0000);
    rig.smmu.reset();
    expect([rig.r(R.GR0_SCR0), rig.r(R.GR0_SMR + 4), rig.r(R.GR0_S2CR + 4), rig.r(0x1000 + 8), rig.cbr(2, R.CB_TTBR0_LO)])
      .toEqual([R.SCR0_CLIENTPD, 0, R.S2CR_TYPE_FAULT << R.S2CR_TYPE_SHIFT, 0, 0]);
    expect(rig.r(R.GR0_SIDR0) & 0xff).toBe(8);
  });

  it('a guest write to a reserved GR0 offset or context-bank offset is RAZ/WI and reported as a guest error', () => {
    const { rig, tracer, errors } = tracedRig();
    const before = rig.r(R.GR0_SCR0);
    rig.w(0x004, 0xffff_ffff); // sCR1: not implemented by this SMMUv1 model
    expect(rig.r(0x004)).toBe(0);
    expect(rig.r(R.GR0_SCR0)).toBe(before);
    rig.cbw(1, 0x040, 0x1234); // reserved in the context bank page
    expect(rig.cbr(1, 0x040)).toBe(0);
    rig.w(R.GR0_SMR + 8 * 4, R.SMR_VALID | 1); // SMR8 of an SMMU with 8 SMRs
    expect(errors()).toEqual([
      { src: 'smmu0', what: 'unmapped-write', off: 0x004, reg: null, value: 0xffff_ffff },
      { src: 'smmu0', what: 'unmapped-read', off: 0x004, reg: null, value: null },
      { src: 'smmu0', what: 'unmapped-write', off: CB1 + 0x040, reg: null, value: 0x1234 },
      { src: 'smmu0', what: 'unmapped-read', off: CB1 + 0x040, reg: null, value: null },
      { src: 'smmu0', what: 'unmapped-write', off: R.GR0_SMR + 8 * 4, reg: null, value: (R.SMR_VALID | 1) >>> 0 },
    ]);
    expect(tracer.guestErrors).toBe(5);
    expect(tracer.guestErrorsBySrc.get('smmu0')).toBe(5);
    // the SMMU still bypasses (CLIENTPD): the reserved write changed nothing
    expect(rig.bus.read(SMMU_BASE + R.GR0_SCR0, 4, 0)).toBe(before);
  });

  it('unimplemented pages (global pages beyond GR1, missing context banks) are RAZ/WI and reported', () => {
    const { rig, errors } = tracedRig();
    rig.w(0x2000 + 0x10, 7);
    expect(rig.r(0x3ffc)).toBe(0);
    rig.w(0x8000 + 4 * 0x1000 + R.CB_SCTLR, R.SCTLR_M);
    expect(errors().map((e) => [e.what, e.off])).toEqual([['unmapped-write', 0x2010], ['unmapped-read', 0x3ffc], ['unmapped-write', 0xc000]]);
  });

  it('writes to read-only registers and reads of write-only registers are reported with the register name', () => {
    const { rig, errors } = tracedRig();
    const id0 = rig.r(R.GR0_SIDR0);
    rig.w(R.GR0_SIDR0, 0);
    expect(rig.r(R.GR0_SIDR0)).toBe(id0);
    rig.cbw(1, R.CB_FAR_LO, 0xdead_0000);
    expect(rig.cbr(1, R.CB_FAR_LO)).toBe(0xdead_0000); // read/write (IHI 0062): not a guest error
    expect(rig.cbr(1, R.CB_TLBSYNC)).toBe(0);
    expect(rig.r(R.GR0_STLBIALL)).toBe(0);
    expect(errors()).toEqual([
      { src: 'smmu0', what: 'read-only-write', off: R.GR0_SIDR0, reg: 'sIDR0', value: 0 },
      { src: 'smmu0', what: 'write-only-read', off: 0x8000 + 0x1000 + R.CB_TLBSYNC, reg: 'CB1.TLBSYNC', value: null },
      { src: 'smmu0', what: 'write-only-read', off: R.GR0_STLBIALL, reg: 'STLBIALL', value: null },
    ]);
  });

  it('guest errors are counted even when tracing is off (no trace event)', () => {
    const { rig, tracer } = tracedRig(false);
    rig.w(0x004, 1);
    rig.cbr(0, R.CB_RESUME);
    expect(tracer.guestErrors).toBe(2);
    expect(tracer.events).toHaveLength(0);
  });

  it('the register accesses of the 2014 driver flow report no guest error', () => {
    const { rig, tracer } = tracedRig();
    rig.driverReset();
    rig.attach(3, 1, rig.page());
    rig.cbr(1, R.CB_FSR);
    rig.cbr(1, R.CB_FSYNR0);
    rig.cbr(1, R.CB_FAR_LO);
    rig.cbw(1, R.CB_FSR, R.FSR_ALL);
    rig.invContext(1);
    rig.r(R.GR0_STLBGSTATUS);
    expect(tracer.guestErrors).toBe(0);
  });

  it('FSR is write-1-to-clear except SS, which RESUME clears', () => {
    const { rig } = tracedRig();
    rig.cbw(0, R.CB_FSRRESTORE, (R.FSR_TF | R.FSR_SS | R.FSR_MULTI) >>> 0);
    expect(rig.cbr(0, R.CB_FSR)).toBe((R.FSR_TF | R.FSR_SS | R.FSR_MULTI) >>> 0);
    rig.cbw(0, R.CB_FSR, R.FSR_ALL);
    expect(rig.cbr(0, R.CB_FSR)).toBe(R.FSR_SS);
    rig.cbw(0, R.CB_RESUME, R.RESUME_TERMINATE);
    expect(rig.cbr(0, R.CB_FSR)).toBe(0);
  });
});
