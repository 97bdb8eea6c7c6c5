import type { DeviceContext, DeviceFactory, DeviceInstance } from '../../emulator/board/types.js';
import type { DtNode } from '../../emulator/dt/types.js';
import type { IrqLine } from '../../emulator/irq.js';
import { ACCEL_DEFAULT, NO_ACCEL_PROP } from '../../emulator/accel.js';
import { PL330_WIDE_BEAT_MODES, type Pl330WideBeat } from './config.js';
import { DEFAULT_PL330_CONFIG, Pl330, type Pl330Config } from './pl330.js';

/** the board property choosing what a beat wider than the data bus does (docs/PL330.md) */
export const WIDE_BEAT_PROP = 'vfio-arm-emu,pl330-wide-beat';

export { Pl330, Pl330Thread, DEFAULT_PL330_CONFIG, TIMING as PL330_TIMING, pl330InsnSize } from './pl330.js';
export type { Pl330Config, Pl330Deps, Pl330PeripheralPort, Pl330InsnObserver } from './pl330.js';
export { ISA as PL330_ISA, disassemble as pl330Disassemble, disassembleProgram as pl330DisassembleProgram } from './isa.js';
export type { InsnDef as Pl330InsnDef, InsnClass as Pl330InsnClass } from './isa.js';
export { pl330RegisterSpecs } from './regs.js';
export * as pl330Regs from './constants.js';
export { makeCcr } from './constants.js';
export { TestPeripheral } from './peripheral.js';

function propCells(node: DtNode, name: string): number[] | null {
  const p = node.props.find((q) => q.name === name);
  if (!p) return null;
  const out: number[] = [];
  for (const c of p.value) {
    if (c.kind === 'cells') for (const v of c.cells) if (typeof v === 'number') out.push(v >>> 0);
    else if (typeof v === 'bigint') out.push(Number(v & 0xffffffffn));
  }
  return out;
}

function propStrings(node: DtNode, name: string): string[] | null {
  const p = node.props.find((q) => q.name === name);
  if (!p) return null;
  const out: string[] = [];
  for (const c of p.value) if (c.kind === 'string') out.push(...c.value.split('\0').filter((s) => s.length > 0));
  return out;
}

const hasProp = (node: DtNode, name: string): boolean => node.props.some((p) => p.name === name);

/** The PL330 configuration a device-tree node describes (missing properties: defaults). */
export function pl330ConfigFromNode(node: DtNode, streamId = 0, machineAccel: boolean = ACCEL_DEFAULT): Pl330Config {
  const num = (name: string, def: number): number => {
    const c = propCells(node, name);
    return c && c.length > 0 ? c[0]! : def;
  };
  const d = DEFAULT_PL330_CONFIG;
  const dw = num('arm,pl330-data-width', d.dataWidthBits);
  // the configuration space of the PL330 (TRM: CR0-CR4/CRD field widths); a board outside
  // it is an error at the node, never a silently different controller
  const ranged = (name: string, def: number, lo: number, hi: number): number => {
    const v = num(name, def);
    if (!(v >= lo && v <= hi)) throw new RangeError(`${name} = ${v} is outside ${lo}..${hi}`);
    return v;
  };
  const oneOf = (name: string, def: number, allowed: readonly number[], why: string): number => {
    const v = num(name, def);
    if (!allowed.includes(v)) throw new RangeError(`${name} = ${v}: ${why} (TRM 3.4)`);
    return v;
  };
  const wb = propStrings(node, WIDE_BEAT_PROP);
  const wideBeat = (wb === null ? d.wideBeat : wb.length === 1 ? wb[0] : '') as Pl330WideBeat;
  if (!PL330_WIDE_BEAT_MODES.includes(wideBeat)) {
    throw new RangeError(`${WIDE_BEAT_PROP} = ${(wb ?? []).map((x) => `"${x}"`).join(', ')}: expected one of ${PL330_WIDE_BEAT_MODES.map((m) => `"${m}"`).join(', ')}`);
  }
  if (dw !== 32 && dw !== 64 && dw !== 128) throw new RangeError(`arm,pl330-data-width = ${dw}: the PL330 AXI data bus is 32, 64 or 128 bits`);
  const clockHz = num('clock-frequency', d.clockHz);
  if (!(clockHz > 0) || !Number.isInteger(1e9 / clockHz)) throw new RangeError(`clock-frequency = ${clockHz} Hz has no whole-nanosecond period`);
  const cfg: Pl330Config = {
    ...d,
    channels: ranged('arm,pl330-channels', d.channels, 1, 8),
    events: ranged('arm,pl330-events', d.events, 1, 32),
    periphReqs: ranged('arm,pl330-periph-reqs', d.periphReqs, 0, 32),
    dataWidthBits: dw,
    mfifoDepth: ranged('arm,pl330-mfifo-depth', d.mfifoDepth, 1, 1024),
    rdCap: ranged('arm,pl330-rd-cap', d.rdCap, 1, 8),
    wrCap: ranged('arm,pl330-wr-cap', d.wrCap, 1, 8),
    rdQueueDepth: ranged('arm,pl330-rd-queue-depth', d.rdQueueDepth, 1, 16),
    wrQueueDepth: ranged('arm,pl330-wr-queue-depth', d.wrQueueDepth, 1, 16),
    icacheLines: ranged('arm,pl330-icache-lines', d.icacheLines, 1, 16),
    icacheLineWords: oneOf('arm,pl330-icache-line-words', d.icacheLineWords, [4, 8, 16, 32], 'CR1 icache_len encodes 4, 8, 16 or 32 words'),
    revision: ranged('arm,pl330-revision', d.revision, 0, 15),
    clockHz,
    mgrNsAtReset: hasProp(node, 'arm,pl330-mgr-ns-at-reset'),
    bootEn: hasProp(node, 'arm,pl330-boot-en'),
    bootAddr: num('arm,pl330-boot-addr', 0),
    streamId,
    wideBeat,
    // accelerators (emulator/accel.ts): the machine's choice, unless this node turns them off
    accel: machineAccel && !hasProp(node, NO_ACCEL_PROP),
  };
  return cfg;
}

/** Split ctx.irqs into event lines and the abort line (interrupt-names when present, else last = abort). */
export function splitPl330Irqs(node: DtNode, irqs: IrqLine[]): { events: IrqLine[]; abort: IrqLine | null } {
  const names = propStrings(node, 'interrupt-names');
  if (names && names.length === irqs.length) {
    const pairs: [number, IrqLine][] = [];
    let abort: IrqLine | null = null;
    names.forEach((n, i) => {
      const m = /^irq(\d+)$/.exec(n);
      if (n === 'abort') abort = irqs[i]!;
      else if (m) pairs.push([Number(m[1]), irqs[i]!]);
    });
    pairs.sort((x, y) => x[0] - y[0]);
    return { events: pairs.map((p) => p[1]), abort };
  }
  if (irqs.length === 0) return { events: [], abort: null };
  if (irqs.length === 1) return { events: [], abort: irqs[0]! };
  return { events: irqs.slice(0, -1), abort: irqs[irqs.length - 1]! };
}

export interface Pl330Instance extends DeviceInstance {
  readonly dmac: Pl330;
}

/** Factory for compatible "arm,pl330". */
export const pl330Factory: DeviceFactory = (ctx: DeviceContext): Pl330Instance => {
  const cfg = pl330ConfigFromNode(ctx.node, ctx.streamIds[0] ?? 0, ctx.machine.accel ?? ACCEL_DEFAULT);
  const { events, abort } = splitPl330Irqs(ctx.node, ctx.irqs);
  const dmac = new Pl330(cfg, {
    scheduler: ctx.machine.scheduler,
    port: ctx.dmaPort('pl330'),
    eventIrqs: events,
    abortIrq: abort,
    tracer: ctx.machine.tracer,
    name: ctx.name,
  });
  return {
    name: ctx.name,
    node: ctx.node,
    mmio: [dmac],
    dmac,
    reset: () => dmac.reset(),
  };
};
