/**
 * Stage-2 SMMUs end to end (docs/SMMU.md "Translation stages", capability `smmuStageChoice`):
 * pl330-vfio-test on vexpress-vfio-s2 (an SMMU with stage 2 only) and on vexpress-vfio-mmu400
 * (stage 1, stage 2 and nested, one stage-2-only bank), in both eras, against the default board;
 * the context bank the driver built, read from the device; a DMA to an unmapped IOVA faulting
 * in the stage-2 context and reported by the driver.
 */
import { describe, expect, it } from 'vitest';
import './index.js';
import type { Smmu } from '../../devices/smmu/index.js';
import * as R from '../../devices/smmu/regs.js';
import { runPl330 } from './pl330.js';

const SMMU = '2b400000.iommu';
const ERAS = ['rfc-v4', 'mainline'] as const;

function smmuOf(r: ReturnType<typeof runPl330>): Smmu {
  return r.system.machine.deviceByName(SMMU)!.mmio[0] as unknown as Smmu;
}

/**
 * the banks the driver programmed (CBAR no longer its reset value 0: a stage-1 CBAR has TYPE 1, a
 * stage-2 one a VMID >= 1), with their CBAR type, VMID and TTBCR; the domain is gone when the run
 * ends (SCTLR 0 again), its bank's registers stay
 */
function banks(s: Smmu): { cb: number; type: number; vmid: number; ttbcr: number }[] {
  const out = [];
  for (let cb = 0; cb < s.numCb; cb++) {
    const cbar = s.cbar[cb]!;
    if (cbar === 0) continue;
    out.push({ cb, type: (cbar >>> R.CBAR_TYPE_SHIFT) & 3, vmid: cbar & 0xff, ttbcr: s.c[cb * s.cbSlots + R.CBS.TTBCR]! >>> 0 });
  }
  return out;
}

describe.each(ERAS)('stage-2 SMMU boards (%s)', (profile) => {
  it('vexpress-vfio-s2: pl330-vfio-test gives the default board\'s outcome through a stage-2 context (CBAR type 0) the driver built', () => {
    const base = runPl330({ profile, board: 'vexpress-vfio', seed: 1 });
    const r = runPl330({ profile, board: 'vexpress-vfio-s2', seed: 1 });
    expect(r.outcome).toBe('pass');
    expect(r.outcome).toBe(base.outcome);
    expect(r.output.filter((l) => !/^#/.test(l))).toEqual(base.output.filter((l) => !/^#/.test(l)));
    expect(r.dmaBytes).toBe(base.dmaBytes);
    expect(r.interrupts).toBe(base.interrupts);
    const s = smmuOf(r);
    expect(s.read(R.GR0_SIDR0, 4, 0) >>> 28).toBe(0b0010); // S2TS only
    // one stage-2 context: VMID cbndx + 1 (3.14 ARM_SMMU_CB_VMID, v6.12 cfg->vmid); 3.14's TTBCR
    // (EAE | SH0 IS | WBWA | SL0 1, T0SZ 0: a 32-bit IPA) or v6.12's VTCR (T0SZ 64 - 40, SL0 1, PS 40 bits)
    const b = banks(s);
    expect(b).toHaveLength(1);
    expect(b[0]!.type).toBe(R.CBAR_TYPE_S2);
    expect(b[0]!.vmid).toBe(b[0]!.cb + 1);
    expect(b[0]!.ttbcr).toBe(profile === 'rfc-v4' ? 0x80003540 : 0x80023558);
    // the DMA went through the stage-2 tables: the walks were made in that bank and succeeded
    // (the stage-2 walker is the only one that bank uses)
    const walks = r.system.machine.tracer.events.filter((e) => e.kind === 'smmu-walk');
    expect(walks.length).toBeGreaterThan(0);
    expect(walks.every((e) => e.f['cb'] === b[0]!.cb && e.f['ok'] === 1)).toBe(true);
    expect(s.stats.translations).toBeGreaterThan(0);
    expect(s.stats.bypasses).toBe(smmuOf(base).stats.bypasses);
    expect(s.faults()).toEqual([]);
    // the accelerators (which leave stage-2 contexts to the reference resolver) change nothing
    const on = runPl330({ profile, board: 'vexpress-vfio-s2', seed: 1, accel: true });
    const off = runPl330({ profile, board: 'vexpress-vfio-s2', seed: 1, accel: false });
    expect([on.traceSha256, on.virtualTimeNs]).toEqual([off.traceSha256, off.virtualTimeNs]);
  });

  it('vexpress-vfio-s2: a DMA from an unmapped IOVA is a stage-2 translation fault the driver reports', () => {
    const r = runPl330({ profile, board: 'vexpress-vfio-s2', seed: 1, name: 'pl330-unmapped-iova', variant: { srcIovaOverride: 0x0100_0000, irqTimeoutMs: 10 }, expected: () => 'fault:translation' });
    const base = runPl330({ profile, board: 'vexpress-vfio', seed: 1, name: 'pl330-unmapped-iova', variant: { srcIovaOverride: 0x0100_0000, irqTimeoutMs: 10 }, expected: () => 'fault:translation' });
    expect(r.outcome).toBe(base.outcome);
    const s = smmuOf(r);
    const cb = banks(s)[0]!.cb;
    expect((s.cbar[cb]! >>> R.CBAR_TYPE_SHIFT) & 3).toBe(R.CBAR_TYPE_S2);
    expect(s.faults()[0]).toMatchObject({ scope: 'context', type: 'translation', cb, va: 0x0100_0000, streamId: 1 });
    // arm_smmu_context_fault read it from the bank: "Unhandled context fault: ... iova=0x01000000 ..., cb=<bank>"
    expect(r.kernelLog.some((l) => /Unhandled context fault: .*iova=0x01000000.*cb=/.test(l) && l.endsWith(`cb=${cb}`))).toBe(true);
  });

  it('vexpress-vfio-mmu400 (S1TS | S2TS | NTS, NUMS2CB 1): the driver builds a stage-1 context (S2 bypass) above the stage-2-only bank', () => {
    const base = runPl330({ profile, board: 'vexpress-vfio', seed: 1 });
    const r = runPl330({ profile, board: 'vexpress-vfio-mmu400', seed: 1 });
    expect(r.outcome).toBe('pass');
    expect(r.virtualTimeNs).toBe(base.virtualTimeNs);
    const s = smmuOf(r);
    expect(s.read(R.GR0_SIDR0, 4, 0) >>> 28).toBe(0b0111);
    expect((s.read(R.GR0_SIDR1, 4, 0) >>> 16) & 0xff).toBe(1);
    const b = banks(s);
    expect(b.map((x) => [x.cb, x.type])).toEqual([[1, R.CBAR_TYPE_S1_S2BYPASS]]);
  });
});
