/**
 * SMMU device factory: builds the MMU-400-class SMMU from its device-tree node.
 *
 * Node properties used: reg (one region; global space = first half, one 4 KiB page per
 * context bank in the second half), `arm,num-context-banks`, `arm,num-smrs`, `arm,ias`,
 * `arm,oas` (bits), `#global-interrupts` (the first N interrupts are global fault lines,
 * the rest context interrupt lines indexed by CBAR.IRPTNDX). Optional model knobs:
 * `vfio-arm-emu,tlb-entries`, `vfio-arm-emu,tlb-hit-ns`, `vfio-arm-emu,walk-ns-per-level`,
 * `vfio-arm-emu,sync-ns`.
 */
import type { DeviceContext, DeviceFactory, DeviceInstance } from '../../emulator/board/types.js';
import type { DtNode } from '../../emulator/dt/types.js';
import { Smmu } from './smmu.js';

export { Smmu } from './smmu.js';
export type { SmmuConfig, SmmuFaultRecord, SmmuFaultType, SmmuLookup, SmmuStats, SmmuTlbEntry } from './smmu.js';
export * as smmuRegs from './regs.js';

export const SMMU_COMPATIBLES: readonly string[] = ['arm,mmu-400', 'arm,smmu-v1'];

function propU32(node: DtNode, name: string): number | undefined {
  const p = node.props.find((q) => q.name === name);
  if (!p) return undefined;
  for (const c of p.value) {
    if (c.kind === 'cells' && c.cells.length > 0) {
      const v = c.cells[0];
      if (typeof v === 'number') return v >>> 0;
      if (typeof v === 'bigint') return Number(v & 0xffffffffn);
    }
  }
  return undefined;
}

export const smmuFactory: DeviceFactory = (ctx: DeviceContext): DeviceInstance => {
  const node = ctx.node;
  const reg = ctx.reg[0];
  if (!reg) throw new RangeError(`${ctx.name}: smmu node has no reg`);
  const nGlobal = propU32(node, '#global-interrupts') ?? 1;
  if (nGlobal > ctx.irqs.length) {
    throw new RangeError(`${ctx.name}: #global-interrupts = ${nGlobal} but only ${ctx.irqs.length} interrupts`);
  }
  const sched = ctx.machine.scheduler;
  const smmu = new Smmu(ctx.machine.bus, {
    name: ctx.name,
    regSize: reg.size,
    numContextBanks: propU32(node, 'arm,num-context-banks') ?? 4,
    numSmrs: propU32(node, 'arm,num-smrs') ?? 8,
    ias: propU32(node, 'arm,ias') ?? 40,
    oas: propU32(node, 'arm,oas') ?? 40,
    globalIrqs: ctx.irqs.slice(0, nGlobal),
    contextIrqs: ctx.irqs.slice(nGlobal),
    tlbEntries: propU32(node, 'vfio-arm-emu,tlb-entries'),
    hitNs: propU32(node, 'vfio-arm-emu,tlb-hit-ns'),
    walkNsPerLevel: propU32(node, 'vfio-arm-emu,walk-ns-per-level'),
    syncNs: propU32(node, 'vfio-arm-emu,sync-ns'),
    now: () => sched.now,
    tracer: ctx.machine.tracer,
  });
  return {
    name: ctx.name,
    node,
    mmio: [smmu],
    iommu: { stage: smmu },
    reset: () => smmu.reset(),
  };
};
