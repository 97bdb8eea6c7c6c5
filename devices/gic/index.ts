import type { DeviceContext, DeviceFactory, DeviceInstance, InterruptController, IrqSpec } from '../../emulator/board/types.js';
import type { DtNode } from '../../emulator/dt/types.js';
import type { IrqLine, IrqSink } from '../../emulator/irq.js';
import { Gic400 } from './gic.js';

export * from './gic.js';

/** compatible strings the factory serves */
export const GIC_COMPATIBLES: readonly string[] = ['arm,gic-400', 'arm,cortex-a15-gic'];

/** DT interrupt specifier type cell */
export const GIC_SPI = 0;
export const GIC_PPI = 1;

/** First cell of a u32 property, or undefined (absent, empty, or not a number). */
function u32Prop(node: DtNode, name: string): number | undefined {
  const p = node.props.find((q) => q.name === name);
  if (!p) return undefined;
  for (const c of p.value) {
    if (c.kind === 'cells' && c.cells.length > 0) {
      const v = c.cells[0];
      if (typeof v === 'number') return v;
      if (typeof v === 'bigint') return Number(v);
    }
  }
  return undefined;
}

/**
 * GIC interrupt ID of a 3-cell specifier: [0, N, flags] = SPI N (ID 32+N),
 * [1, N, flags] = PPI N (ID 16+N). Returns -1 when the specifier is not valid for a
 * GIC with `numIrqs` IDs.
 */
export function gicIdOfSpec(cells: readonly number[], numIrqs: number): number {
  if (cells.length < 2) return -1;
  const type = cells[0]!;
  const n = cells[1]!;
  if (!Number.isInteger(n) || n < 0) return -1;
  let id: number;
  if (type === GIC_SPI) id = 32 + n;
  else if (type === GIC_PPI) {
    if (n > 15) return -1;
    id = 16 + n;
  } else return -1;
  return id < numIrqs ? id : -1;
}

/** The GIC instance of a board: the device plus the model object (tests, debugging). */
export interface GicDeviceInstance extends DeviceInstance {
  readonly interruptController: InterruptController;
  readonly gic: Gic400;
}

/**
 * Factory for "arm,gic-400" / "arm,cortex-a15-gic" nodes. reg[0] is the distributor,
 * reg[1] the CPU interface. The number of interrupt IDs comes from `arm,num-irqs` when
 * present (default 160, the default board). `inputFor` returns the sink of the input
 * addressed by a consumer's specifier; the caller connects it (`line.connect(sink)`).
 * A specifier the GIC cannot serve is a board configuration error (RangeError naming
 * the node and the cells).
 */
/**
 * Sizes of the GIC-400's register interfaces the model decodes (ARM DDI 0471B, GIC-400 TRM,
 * Table 3-1: distributor 4 KiB, CPU interface 8 KiB). A `reg` entry smaller than that would
 * leave registers the kernel's GIC driver writes at boot (e.g. GICD_ICFGR at 0xc00) outside
 * the mapping: a board error, not an external abort during boot.
 */
const GIC_REG_MIN = [0x1000, 0x2000] as const;

export const gicFactory: DeviceFactory = (ctx: DeviceContext): GicDeviceInstance => {
  GIC_REG_MIN.forEach((min, i) => {
    const r = ctx.reg[i];
    if (r !== undefined && r.size < min) {
      throw new RangeError(`reg entry ${i} (${i === 0 ? 'distributor' : 'CPU interface'}) is 0x${r.size.toString(16)} bytes; the GIC-400 decodes 0x${min.toString(16)} (ARM DDI 0471B, Table 3-1)`);
    }
  });
  const numIrqs = u32Prop(ctx.node, 'arm,num-irqs') ?? 160;
  const gic = new Gic400({ numIrqs, name: ctx.name, tracer: ctx.machine.tracer });
  const interruptController: InterruptController = {
    output: gic.output,
    inputFor(spec: IrqSpec, line: IrqLine): IrqSink {
      const id = gicIdOfSpec(spec.cells, gic.numIrqs);
      if (id < 0) {
        throw new RangeError(`${ctx.name}: interrupt specifier <${spec.cells.join(' ')}> of line ${line.name} is not a valid SPI/PPI for ${gic.numIrqs} interrupts`);
      }
      return gic.input(id);
    },
  };
  return {
    name: ctx.name,
    node: ctx.node,
    mmio: [gic.distributor, gic.cpuInterface],
    interruptController,
    gic,
    reset: () => gic.reset(),
  };
};
