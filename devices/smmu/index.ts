/**
 * SMMU device factory: builds the MMU-400-class SMMU from its device-tree node.
 *
 * Node properties used: reg (one region; global space = first half, one 4 KiB page per
 * context bank in the second half), `arm,num-context-banks`, `arm,num-smrs`, `arm,ias`,
 * `arm,oas` (bits), `#global-interrupts` (the first N interrupts are global fault lines,
 * the rest context interrupt lines indexed by CBAR.IRPTNDX). Optional model knobs:
 * `vfio-arm-emu,tlb-entries`, `vfio-arm-emu,tlb-hit-ns`, `vfio-arm-emu,walk-ns-per-level`,
 * `vfio-arm-emu,sync-ns`, and `vfio-arm-emu,no-accel` (emulator/accel.ts: this SMMU without its
 * accelerators, devices/smmu/accel/). The implemented translation stages:
 * `vfio-arm-emu,translation-stages` = "s1" (default), "s2", "s1+s2" or "s1+s2+nested" (sIDR0
 * S1TS/S2TS/NTS), and with both stages `vfio-arm-emu,num-s2-context-banks` (sIDR1.NUMS2CB,
 * default 0); errors are reported at the property (docs/BOARDS.md).
 */
import type { DeviceContext, DeviceFactory, DeviceInstance } from '../../emulator/board/types.js';
import { ACCEL_DEFAULT, NO_ACCEL_PROP } from '../../emulator/accel.js';
import { getProp, hasProp, string } from '../../emulator/dt/access.js';
import { DtsError, type DtNode } from '../../emulator/dt/types.js';
import { Smmu } from './smmu.js';
import { SMMU_STAGES, type SmmuStages } from './types.js';

export { Smmu } from './smmu.js';
export type { SmmuConfig, SmmuFaultRecord, SmmuFaultType, SmmuLookup, SmmuStats, SmmuStages, SmmuTlbEntry } from './types.js';
export { SMMU_STAGES } from './types.js';

export const STAGES_PROP = 'vfio-arm-emu,translation-stages';
export const NUM_S2CB_PROP = 'vfio-arm-emu,num-s2-context-banks';
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
  const numContextBanks = inRange('arm,num-context-banks', propU32(node, 'arm,num-context-banks') ?? 4, 1, 128);
  const { stages, numS2ContextBanks } = stageConfig(ctx.name, node, numContextBanks);
  const smmu = new Smmu(ctx.machine.bus, {
    name: ctx.name,
    regSize: reg.size,
    stages,
    numS2ContextBanks,
    numContextBanks,
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

/**
 * `vfio-arm-emu,translation-stages` and `vfio-arm-emu,num-s2-context-banks`, each checked at its
 * property (file:line:col): the stages one of SMMU_STAGES; NUMS2CB only with both stages (with
 * "s2" every bank is stage-2 only, with "s1" none is) and at most the number of banks.
 */
function stageConfig(name: string, node: DtNode, numCb: number): { stages: SmmuStages; numS2ContextBanks: number } {
  const sp = getProp(node, STAGES_PROP);
  const v = string(node, STAGES_PROP) ?? 's1';
  const stages = SMMU_STAGES.find((x) => x === v);
  if (stages === undefined) {
    throw new DtsError(sp!.loc, `${name}: ${STAGES_PROP} = "${v}" is not one of ${SMMU_STAGES.map((x) => `"${x}"`).join(', ')}`);
  }
  const np = getProp(node, NUM_S2CB_PROP);
  if (np === null) return { stages, numS2ContextBanks: stages === 's2' ? numCb : 0 };
  const n = propU32(node, NUM_S2CB_PROP) ?? -1;
  if (stages === 's1' || stages === 's2') {
    throw new DtsError(np.loc, `${name}: ${NUM_S2CB_PROP} needs both stages (${STAGES_PROP} = "${stages}" fixes it at ${stages === 's2' ? numCb : 0})`);
  }
  if (!(n >= 0 && n <= numCb)) throw new DtsError(np.loc, `${name}: ${NUM_S2CB_PROP} = ${n} is outside 0..${numCb} (arm,num-context-banks)`);
  return { stages, numS2ContextBanks: n };
}
