import { describe, expect, it } from 'vitest';
import { ACCEL_DEFAULT, NO_ACCEL_PROP } from '../../emulator/accel.js';
import { makeAttrs } from '../../emulator/attrs.js';
import type { DeviceContext, MachineCore } from '../../emulator/board/types.js';
import { BUS_OK, BUS_TRANSLATION_FAULT, PhysicalBus } from '../../emulator/bus.js';
import type { DtNode, DtProperty } from '../../emulator/dt/types.js';
import { IrqLine } from '../../emulator/irq.js';
import { MasterPort, newTranslationResult } from '../../emulator/master.js';
import { Scheduler } from '../../emulator/scheduler.js';
import { Tracer } from '../../emulator/trace.js';
import { NUM_S2CB_PROP, SMMU_COMPATIBLES, smmuFactory, Smmu, STAGES_PROP } from './index.js';
import * as R from './regs.js';

const loc = { file: 'test.dts', line: 1, col: 1 };
const u32 = (name: string, ...v: number[]): DtProperty => ({ name, value: [{ kind: 'cells', bits: 32, cells: v }], loc });

function smmuNode(props: DtProperty[]): DtNode {
  return {
    name: 'iommu',
    unitAddress: '2b400000',
    labels: ['smmu'],
    props: [{ name: 'compatible', value: [{ kind: 'string', value: 'arm,mmu-400' }], loc }, ...props],
    children: [],
    parent: null,
    loc,
    phandle: 1,
  };
}

function ctxFor(node: DtNode, nIrqs: number, accel?: boolean) {
  const bus = new PhysicalBus();
  bus.addRam('ram', 0x80000000, 0x100000);
  const scheduler = new Scheduler();
  const tracer = new Tracer(() => scheduler.now, true);
  const machine = { scheduler, bus, tracer, ...(accel === undefined ? {} : { accel }) } as unknown as MachineCore;
  const irqs = Array.from({ length: nIrqs }, (_, i) => new IrqLine(`smmu-${i}`));
  const ctx: DeviceContext = {
    machine,
    tree: { root: node, labels: new Map(), phandles: new Map(), file: 'test.dts' },
    node,
    name: '2b400000.iommu',
    reg: [{ base: 0x2b400000, size: 0x10000 }],
    irqs,
    irqSpecs: [],
    streamIds: [],
    dmaPort: () => new MasterPort(bus, 'unused'),
  };
  return { ctx, bus, irqs, tracer };
}

describe('smmuFactory', () => {
  it('builds the default-board SMMU from its node and exposes the translation stage', () => {
    expect(SMMU_COMPATIBLES).toEqual(['arm,mmu-400', 'arm,smmu-v1']);
    const node = smmuNode([
      u32('#global-interrupts', 1),
      u32('arm,num-context-banks', 4),
      u32('arm,num-smrs', 8),
      u32('arm,ias', 40),
      u32('arm,oas', 40),
    ]);
    const { ctx, bus, irqs, tracer } = ctxFor(node, 5);
    const dev = smmuFactory(ctx);
    expect(dev.name).toBe('2b400000.iommu');
    expect(dev.mmio).toHaveLength(1);
    expect(dev.iommu?.stage).toBeInstanceOf(Smmu);
    bus.addMmio('smmu', 0x2b400000, 0x10000, dev.mmio[0]!);
    const r = (o: number) => bus.read(0x2b400000 + o, 4, 0);
    const w = (o: number, v: number) => bus.write(0x2b400000 + o, 4, v, 0);
    expect(r(R.GR0_SIDR0) & 0xff).toBe(8);
    expect((r(R.GR0_SIDR0) >>> 16) & 0xff).toBe(4);
    expect(r(R.GR0_SIDR1) & 0xff).toBe(4);
    // global line is irqs[0]; context bank 0 with IRPTNDX 1 drives irqs[1 + 1]
    // GFRE / CFRE set (as both drivers): the faults abort the master (clear: RAZ/WI, fault-response.test.ts)
    w(R.GR0_SCR0, R.SCR0_GFRE | R.SCR0_GFIE | R.SCR0_USFCFG);
    const out = newTranslationResult();
    dev.iommu!.stage.translate(0, makeAttrs({ streamId: 4 }), out);
    expect(out.status).toBe(BUS_TRANSLATION_FAULT);
    expect(irqs[0]!.level).toBe(true);
    expect(tracer.events.filter((e) => e.kind === 'smmu-fault').map((e) => [e.src, e.f['type'], e.f['sid']])).toEqual([['2b400000.iommu', 'unidentified-stream', 4]]);
    w(R.GR0_SGFSR, r(R.GR0_SGFSR));
    w(R.GR0_SMR, R.SMR_VALID | 4);
    w(R.GR0_S2CR, 0);
    w(0x1000, (R.CBAR_TYPE_S1_S2BYPASS << R.CBAR_TYPE_SHIFT) | (1 << R.CBAR_IRPTNDX_SHIFT));
    w(0x8000 + R.CB_TTBCR, R.TTBCR_EAE);
    w(0x8000 + R.CB_TTBR0_LO, 0x80000000);
    w(0x8000 + R.CB_SCTLR, R.SCTLR_M | R.SCTLR_CFRE | R.SCTLR_CFIE);
    ctx.machine.scheduler.schedule(500, () => {});
    ctx.machine.scheduler.runUntilIdle();
    dev.iommu!.stage.translate(0x1000, makeAttrs({ streamId: 4 }), out);
    expect(out.status).toBe(BUS_TRANSLATION_FAULT);
    expect((dev.iommu!.stage as Smmu).faults().at(-1)).toMatchObject({ time: 500, type: 'translation', cb: 0, level: 1, streamId: 4, va: 0x1000 });
    expect(tracer.events.some((e) => e.kind === 'smmu-walk' && e.f['level'] === 1 && e.dur === 62)).toBe(true);
    expect(irqs.map((l) => l.level)).toEqual([false, false, true, false, false]);
    dev.reset!();
    expect(r(R.GR0_SCR0) & R.SCR0_CLIENTPD).toBe(R.SCR0_CLIENTPD);
    expect(irqs.some((l) => l.level)).toBe(false);
    dev.iommu!.stage.translate(0x1000, makeAttrs({ streamId: 4 }), out);
    expect(out.status).toBe(BUS_OK);
  });

  it('derives the geometry from reg size and properties', () => {
    const node = smmuNode([u32('#global-interrupts', 1), u32('arm,num-context-banks', 2), u32('arm,num-smrs', 16), u32('arm,ias', 32), u32('arm,oas', 36)]);
    const { ctx } = ctxFor(node, 3);
    const dev = smmuFactory({ ...ctx, reg: [{ base: 0x2b400000, size: 0x8000 }] });
    const s = dev.iommu!.stage as Smmu;
    expect(s.globalPages).toBe(4);
    expect(s.read(R.GR0_SIDR1, 4, 0) >>> 28).toBe(1);
    expect(s.read(R.GR0_SIDR0, 4, 0) & 0xff).toBe(16);
    expect(s.read(R.GR0_SIDR2, 4, 0)).toBe(0x10);
    // context bank 1 is at 0x4000 + 0x1000 in this smaller layout
    s.write(0x5000 + R.CB_MAIR0, 4, 0x1234, 0);
    expect(s.read(0x5000 + R.CB_MAIR0, 4, 0)).toBe(0x1234);
  });

  it('installs the accelerators (bulk hooks) only when the machine allows them and the node does not refuse them', () => {
    const hooks = (accel: boolean, props: DtProperty[]) => {
      const s = smmuFactory(ctxFor(smmuNode([u32('#global-interrupts', 1), ...props]), 2, accel).ctx).iommu!.stage as Smmu;
      return [s.accel, typeof s.quietLookup, typeof s.translateHits, typeof s.translateCopyRun];
    };
    expect(hooks(true, [])).toEqual([true, 'function', 'function', 'function']);
    expect(hooks(false, [])).toEqual([false, 'undefined', 'undefined', 'undefined']);
    expect(hooks(true, [{ name: NO_ACCEL_PROP, value: [], loc }])).toEqual([false, 'undefined', 'undefined', 'undefined']);
    // without a machine choice: the default (VFIO_ARM_EMU_ACCEL)
    const s = smmuFactory(ctxFor(smmuNode([u32('#global-interrupts', 1)]), 2).ctx).iommu!.stage as Smmu;
    expect(s.accel).toBe(ACCEL_DEFAULT);
  });

  it('reports a guest access to a reserved offset through the machine tracer, named by the device', () => {
    const { ctx, tracer } = ctxFor(smmuNode([u32('#global-interrupts', 1)]), 2);
    const s = smmuFactory(ctx).mmio[0]!;
    s.write(0x8000 + 0x44, 4, 1, 0);
    expect(tracer.guestErrorsBySrc.get('2b400000.iommu')).toBe(1);
    expect(tracer.events.filter((e) => e.kind === 'guest-error').map((e) => e.f)).toEqual([{ what: 'unmapped-write', off: 0x8044, reg: null, value: 1 }]);
  });

  it('reads the translation stages and NUMS2CB from the node and reports bad values at the property', () => {
    const str = (name: string, v: string, at = loc): DtProperty => ({ name, value: [{ kind: 'string', value: v }], loc: at });
    const at = { file: 'b.dts', line: 7, col: 5 };
    const build = (props: DtProperty[]) => smmuFactory(ctxFor(smmuNode([u32('#global-interrupts', 1), ...props]), 5).ctx).iommu!.stage as Smmu;
    const idr = (s: Smmu) => [s.read(R.GR0_SIDR0, 4, 0) >>> 28, (s.read(R.GR0_SIDR1, 4, 0) >>> 16) & 0xff];
    expect(idr(build([]))).toEqual([0b0100, 0]);
    expect(idr(build([str(STAGES_PROP, 's2')]))).toEqual([0b0010, 4]);
    expect(idr(build([str(STAGES_PROP, 's1+s2+nested'), u32(NUM_S2CB_PROP, 1)]))).toEqual([0b0111, 1]);
    expect(() => build([str(STAGES_PROP, 's3', at)])).toThrow(/^b\.dts:7:5: 2b400000\.iommu: vfio-arm-emu,translation-stages = "s3" is not one of "s1", "s2", "s1\+s2", "s1\+s2\+nested"$/);
    expect(() => build([str(STAGES_PROP, 's1+s2'), { ...u32(NUM_S2CB_PROP, 5), loc: at }])).toThrow(/^b\.dts:7:5: .*num-s2-context-banks = 5 is outside 0\.\.4/);
    expect(() => build([str(STAGES_PROP, 's2'), { ...u32(NUM_S2CB_PROP, 1), loc: at }])).toThrow(/^b\.dts:7:5: .*needs both stages/);
    expect(() => build([{ name: STAGES_PROP, value: [{ kind: 'string', value: 's1' }, { kind: 'string', value: 's2' }], loc: at }])).toThrow(/^b\.dts:7:5: /);
  });

  it('rejects a node whose #global-interrupts exceeds its interrupts', () => {
    const { ctx } = ctxFor(smmuNode([u32('#global-interrupts', 3)]), 2);
    expect(() => smmuFactory(ctx)).toThrow(RangeError);
  });
});
