import type { DeviceContext, DeviceFactory, DeviceInstance } from '../../emulator/board/types.js';
import type { DtNode } from '../../emulator/dt/types.js';
import type { IrqLine } from '../../emulator/irq.js';
import { DEFAULT_PL330_CONFIG, Pl330, type Pl330Config } from './pl330.js';

export { Pl330, Pl330Thread, DEFAULT_PL330_CONFIG, TIMING as PL330_TIMING, pl330InsnSize } from './pl330.js';
export type { Pl330Config, Pl330Deps, Pl330PeripheralPort, Pl330InsnObserver } from './pl330.js';
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
export function pl330ConfigFromNode(node: DtNode, streamId = 0): Pl330Config {
  const num = (name: string, def: number): number => {
    const c = propCells(node, name);
    return c && c.length > 0 ? c[0]! : def;
  };
  const d = DEFAULT_PL330_CONFIG;
  const dw = num('arm,pl330-data-width', d.dataWidthBits);
  return {
    ...d,
    channels: num('arm,pl330-channels', d.channels),
    events: num('arm,pl330-events', d.events),
    periphReqs: num('arm,pl330-periph-reqs', d.periphReqs),
    dataWidthBits: dw === 32 || dw === 64 || dw === 128 ? dw : d.dataWidthBits,
    mfifoDepth: num('arm,pl330-mfifo-depth', d.mfifoDepth),
    rdCap: num('arm,pl330-rd-cap', d.rdCap),
    wrCap: num('arm,pl330-wr-cap', d.wrCap),
    rdQueueDepth: num('arm,pl330-rd-queue-depth', d.rdQueueDepth),
    wrQueueDepth: num('arm,pl330-wr-queue-depth', d.wrQueueDepth),
    icacheLines: num('arm,pl330-icache-lines', d.icacheLines),
    icacheLineWords: num('arm,pl330-icache-line-words', d.icacheLineWords),
    revision: num('arm,pl330-revision', d.revision),
    clockHz: num('clock-frequency', d.clockHz),
    mgrNsAtReset: hasProp(node, 'arm,pl330-mgr-ns-at-reset'),
    bootEn: hasProp(node, 'arm,pl330-boot-en'),
    bootAddr: num('arm,pl330-boot-addr', 0),
    streamId,
  };
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
  const cfg = pl330ConfigFromNode(ctx.node, ctx.streamIds[0] ?? 0);
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
