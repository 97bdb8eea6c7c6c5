/**
 * The semantic validation pass over a parsed board, run before any device is created
 * (Machine constructor): what the device-tree bindings say a value must be, checked for every
 * node the machine, the device models or the kernel model will read, with the error at the
 * property (file:line:col). Device models check their own configuration again when they are
 * created (assembly wraps anything they throw into a DtsError at the node), so this pass is
 * about the bindings, not about one model's limits.
 *
 * Checked:
 *  - memory nodes (device_type "memory"): `reg` present, decodable, every size > 0;
 *  - every enabled device node: `reg` decodes and translates, `interrupts` /
 *    `interrupts-extended` decode against their controller's #interrupt-cells, `iommus`
 *    decode against #iommu-cells;
 *  - interrupt specifiers of controllers following the ARM GIC binding (3 cells,
 *    Documentation/devicetree/bindings/interrupt-controller/arm,gic.yaml): cell 0 is 0 (SPI)
 *    or 1 (PPI); SPI numbers 0..987 and PPI numbers 0..15 (the GIC architecture's ID space,
 *    ARM IHI 0048B section 2.2.1: IDs 32..1019 SPI, 16..31 PPI); cell 2's trigger bits [3:0]
 *    are one of 1, 2, 4, 8, and for an SPI 1 or 4 (Linux's gic_set_type in
 *    drivers/irqchip/irq-gic.c refuses other SPI types), no bits outside [3:0] and the PPI
 *    CPU mask [15:8].
 */
import { getProp, interrupts, iommus, isEnabled, string, translatedReg, compatibles, describeNode } from '../dt/access.js';
import { DtsError, type DeviceTree, type DtNode } from '../dt/types.js';
import { scanPlatform } from './assemble.js';

/** compatibles of the ARM GIC binding with the 3-cell specifier */
const GIC_BINDING = ['arm,gic-400', 'arm,cortex-a15-gic', 'arm,cortex-a9-gic', 'arm,cortex-a7-gic', 'arm,arm11mp-gic', 'arm,pl390'];

function isGic(n: DtNode): boolean {
  return compatibles(n).some((c) => GIC_BINDING.includes(c));
}

const TRIGGER: Record<number, string> = { 1: 'edge rising', 2: 'edge falling', 4: 'level high', 8: 'level low' };

/** the problem with a GIC specifier, or null */
export function gicSpecProblem(cells: readonly number[]): string | null {
  if (cells.length !== 3) return `a GIC specifier has 3 cells, this one ${cells.length}`;
  const [type, num, flags] = cells as [number, number, number];
  if (type !== 0 && type !== 1) return `type cell ${type} is neither 0 (SPI) nor 1 (PPI)`;
  if (type === 0 && num > 987) return `SPI ${num} is beyond the GIC's ID space (SPI 0..987 = IDs 32..1019)`;
  if (type === 1 && num > 15) return `PPI ${num} is beyond 0..15 (IDs 16..31)`;
  const trig = flags & 0xf;
  if (TRIGGER[trig] === undefined) return `trigger flags 0x${trig.toString(16)} are not one of 1 (edge rising), 2 (edge falling), 4 (level high), 8 (level low)`;
  if (type === 0 && trig !== 1 && trig !== 4) return `an SPI is edge rising (1) or level high (4), not ${TRIGGER[trig]} (${trig})`;
  if ((flags & ~0xff0f) !== 0) return `flags 0x${(flags >>> 0).toString(16)} set bits outside the trigger [3:0] and CPU mask [15:8] fields`;
  if (type === 0 && (flags & 0xff00) !== 0) return `a CPU mask (flags [15:8]) is only meaningful for a PPI`;
  return null;
}

export function validateBoard(tree: DeviceTree): void {
  // a tree is read-only after parsing and parsed trees are shared between boots
  // (emulator/machine.ts parseBoard): one validation per tree (issue 19)
  if (validTrees.has(tree)) return;
  checkBoard(tree);
  validTrees.add(tree);
}

/** trees that passed checkBoard (a failing tree is checked again, and throws again) */
const validTrees = new WeakSet<DeviceTree>();

function checkBoard(tree: DeviceTree): void {
  const { memory, devices } = scanPlatform(tree);
  for (const m of memory) {
    const reg = getProp(m, 'reg');
    if (reg === null) throw new DtsError(m.loc, `memory node ${describeNode(m)} has no 'reg'`);
    for (const r of translatedReg(m)) if (r.size <= 0) throw new DtsError(reg.loc, `memory node ${describeNode(m)} has an empty range at 0x${r.base.toString(16)}`);
  }
  for (const d of devices) {
    const node = d.node;
    if (!isEnabled(node) || string(node, 'device_type') === 'memory') continue;
    const irqProp = getProp(node, 'interrupts-extended') ?? getProp(node, 'interrupts');
    for (const r of interrupts(tree, node)) {
      // the binding's 3-cell form (test boards may give a GIC-compatible toy other cell counts)
      if (!isGic(r.controller) || r.controller === node || r.cells.length !== 3) continue;
      const problem = gicSpecProblem(r.cells);
      if (problem !== null) throw new DtsError(irqProp!.loc, `${d.name}: interrupt ${r.index} <${r.cells.join(' ')}>: ${problem}`);
    }
    iommus(tree, node);
  }
}
