/**
 * SMMU device factory: builds the MMU-400-class SMMU from its device-tree node.
 *
 * Node properties used: reg (one region; global space = first half, one 4 KiB page per
 * context bank in the second half), `arm,num-context-banks`, `arm,num-smrs`, `arm,ias`,
 * `arm,oas` (bits), `#global-interrupts` (the first N interrupts are global fault lines,
 * the rest context interrupt lines indexed by CBAR.IRPTNDX). Optional model knobs:
 * `vfio-arm-emu,tlb-entries`, `vfio-arm-emu,tlb-hit-ns`, `vfio-arm-emu,walk-ns-per-level`,
 * `vfio-arm-emu,sync-ns`, and `vfio-arm-emu,no-accel` (emulator/accel.ts: this SMMU without its
 * accelerators, devices/smmu/accel/).
 */
import type { DeviceContext, DeviceFactory, DeviceInstance } from '../../emulator/board/types.js';
import { ACCEL_DEFAULT, NO_ACCEL_PROP } from '../../emulator/accel.js';
import { hasProp } from '../../emulator/dt/access.js';
import type { DtNode } from '../../emulator/dt/types.js';
import { Smmu } from './smmu.js';

export { Smmu } from './smmu.js';
export type { SmmuConfig, SmmuFaultRecord, SmmuFaultType, SmmuLookup, SmmuStats, SmmuTlbEntry } from './types.js';
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
    numContextBanks: inRange('arm,num-context-banks', propU32(node, 'arm,num-context-banks') ?? 4, 1, 128),
    numSmrs: inRange('arm,num-smrs', propU32(node, 'arm,num-smrs') ?? 8, 0, 128),
    ias: addrSize('arm,ias', propU32(node, 'arm,ias') ?? 40),
    oas: addrSize('arm,oas', propU32(node, 'arm,oas') ?? 40),
    globalIrqs: ctx.irqs.slice(0, nGlobal),
    contextIrqs: ctx.irqs.slice(nGlobal),
    tlbEntries: propU32(node, 'vfio-arm-emu,tlb-entries'),
    hitNs: propU32(node, 'vfio-arm-emu,tlb-hit-ns'),
    walkNsPerLevel: propU32(node, 'vfio-arm-emu,walk-ns-per-level'),
    syncNs: propU32(node, 'vfio-arm-emu,sync-ns'),
    accel: (ctx.machine.accel ?? ACCEL_DEFAULT) && !hasProp(node, NO_ACCEL_PROP),
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

/** a configuration value the SMMUv1 register fields can express, or an error at the node */
function inRange(name: string, v: number, lo: number, hi: number): number {
  if (!(v >= lo && v <= hi)) throw new RangeError(`${name} = ${v} is outside ${lo}..${hi}`);
  return v;
}

/** sIDR2 IAS/OAS encodings of SMMUv1: 32, 36 or 40 bits */
function addrSize(name: string, v: number): number {
  if (v !== 32 && v !== 36 && v !== 40) throw new RangeError(`${name} = ${v}: an SMMUv1 address size is 32, 36 or 40 bits`);
  return v;
}
