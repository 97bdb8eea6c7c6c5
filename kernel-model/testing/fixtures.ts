/**
 * Test fixtures for the kernel model: a hand-built device tree of the default board,
 * a machine core, a fake IRQ API (records requests; lets tests fire handlers), and
 * register-file fakes of the SMMU and PL330 good enough for the drivers' probe and
 * programming paths (they do not translate or move data: the integration tests with
 * the real device models do that).
 */
import type { MachineCore } from '../../emulator/board/types.js';
import { BUS_OK, PhysicalBus, SIZE_4, type MmioDevice } from '../../emulator/bus.js';
import { Cpu } from '../../emulator/cpu/cpu.js';
import type { DeviceTree, DtChunk, DtNode, DtProperty } from '../../emulator/dt/types.js';
import { Prng } from '../../emulator/prng.js';
import { Scheduler } from '../../emulator/scheduler.js';
import { Tracer } from '../../emulator/trace.js';
import { EBUSY, EINVAL } from '../base/errno.js';
import { IRQF_SHARED, type IrqApi, type IrqHandler } from '../irq/types.js';

const LOC = { file: 'fixture.dts', line: 1, col: 1 };

type PropVal = number[] | string | string[] | true | (number | { ref: string })[];

export function node(name: string, unit: string | null, props: Record<string, PropVal>, children: DtNode[] = [], labels: string[] = []): DtNode {
  const ps: DtProperty[] = Object.entries(props).map(([k, v]) => {
    let value: DtChunk[];
    if (v === true) value = [];
    else if (typeof v === 'string') value = [{ kind: 'string', value: v }];
    else if (v.length > 0 && typeof v[0] === 'string') value = (v as string[]).map((s) => ({ kind: 'string' as const, value: s }));
    else value = [{ kind: 'cells', bits: 32, cells: (v as (number | { ref: string })[]).map((c) => (typeof c === 'number' ? c : { ref: c.ref, loc: LOC })) }];
    return { name: k, value, loc: LOC };
  });
  const n: DtNode = { name, unitAddress: unit, labels, props: ps, children, parent: null, loc: LOC, phandle: null };
  for (const c of children) c.parent = n;
  return n;
}

export function makeTree(root: DtNode): DeviceTree {
  const labels = new Map<string, DtNode>();
  const phandles = new Map<number, DtNode>();
  let next = 1;
  const visit = (n: DtNode): void => {
    for (const l of n.labels) {
      labels.set(l, n);
      n.phandle = next++;
      phandles.set(n.phandle, n);
    }
    n.children.forEach(visit);
  };
  visit(root);
  return { root, labels, phandles, file: 'fixture.dts' };
}

const spi = (n: number, t = 4): number[] => [0, n, t];

/**
 * the default board (emulator/boards/vexpress-vfio.dts), optionally with the second DMA master
 * enabled; masters in the legacy `mmu-masters` binding both kernels read (default) or the
 * generic `iommus` binding only mainline reads
 */
export function defaultBoardTree(opts: { testDma?: boolean; testDmaSid?: number; binding?: 'mmu-masters' | 'iommus' } = {}): DeviceTree {
  const legacy = (opts.binding ?? 'mmu-masters') === 'mmu-masters';
  const sid1 = opts.testDmaSid ?? 1;
  const smmuMasters: Record<string, PropVal> = legacy
    ? { 'mmu-masters': [{ ref: 'dma0' }, 1, ...(opts.testDma ? [{ ref: 'dma1' }, sid1] : [])] }
    : { '#iommu-cells': [1] };
  const master = (sid: number): Record<string, PropVal> => (legacy ? { '#stream-id-cells': [1] } : { iommus: [{ ref: 'smmu' }, sid] });
  const root = node('', null, { '#address-cells': [1], '#size-cells': [1], compatible: 'arm,vexpress', 'interrupt-parent': [{ ref: 'gic' }] }, [
    node('cpus', null, { '#address-cells': [1], '#size-cells': [0] }, [node('cpu', '0', { compatible: 'arm,cortex-a15', reg: [0] })]),
    node('memory', '80000000', { device_type: 'memory', reg: [0x80000000, 0x10000000] }),
    node('interrupt-controller', '2c001000', { compatible: 'arm,gic-400', 'interrupt-controller': true, '#interrupt-cells': [3], reg: [0x2c001000, 0x1000, 0x2c002000, 0x2000] }, [], ['gic']),
    node('iommu', '2b400000', {
      compatible: ['arm,mmu-400', 'arm,smmu-v1'], reg: [0x2b400000, 0x10000], ...smmuMasters, '#global-interrupts': [1],
      interrupts: [...spi(40), ...spi(41), ...spi(42), ...spi(43), ...spi(44)],
      'arm,num-context-banks': [4], 'arm,num-smrs': [8], 'arm,ias': [40], 'arm,oas': [40],
    }, [], ['smmu']),
    node('dma', '2c0a0000', {
      compatible: ['arm,pl330', 'arm,primecell'], reg: [0x2c0a0000, 0x1000],
      interrupts: [...spi(92), ...spi(93), ...spi(94), ...spi(95), ...spi(96)], 'interrupt-names': ['irq0', 'irq1', 'irq2', 'irq3', 'abort'],
      ...master(1), 'arm,pl330-channels': [8], 'arm,pl330-events': [16], 'arm,pl330-periph-reqs': [4],
      'arm,pl330-data-width': [128], 'arm,pl330-mfifo-depth': [256], 'arm,pl330-revision': [2], 'clock-frequency': [100000000],
      'arm,pl330-mgr-ns-at-reset': true,
    }, [], ['dma0']),
    node('dma', '2c0b0000', {
      compatible: 'vfio-arm-emu,test-dma', reg: [0x2c0b0000, 0x1000], interrupts: spi(97),
      ...master(sid1), status: opts.testDma ? 'okay' : 'disabled',
    }, [], ['dma1']),
    node('irq-source', '2c0c0000', { compatible: 'vfio-arm-emu,test-irq', reg: [0x2c0c0000, 0x1000], interrupts: spi(98) }),
  ]);
  return makeTree(root);
}

export function makeMachine(ramBase = 0x80000000, ramSize = 0x10000000): MachineCore {
  const scheduler = new Scheduler();
  const bus = new PhysicalBus();
  bus.addRam('ram', ramBase, ramSize);
  const tracer = new Tracer(() => scheduler.now, false);
  return { scheduler, bus, tracer, prng: new Prng(1), cpu: new Cpu(scheduler, tracer) };
}

/** IrqApi fake: GIC SPI n -> virq 32+n; records handlers; `fire` calls them */
export class FakeIrq implements IrqApi {
  readonly handlers = new Map<number, { handler: IrqHandler; flags: number; name: string; devId: unknown }[]>();
  readonly types = new Map<number, number>();
  readonly enabled = new Map<number, boolean>();

  requestIrq(irq: number, handler: IrqHandler, flags: number, name: string, devId: unknown): number {
    if (irq < 16 || irq >= 192) return -EINVAL;
    const l = this.handlers.get(irq) ?? [];
    if (l.length > 0 && (!(flags & IRQF_SHARED) || !(l[0]!.flags & IRQF_SHARED))) return -EBUSY;
    l.push({ handler, flags, name, devId });
    this.handlers.set(irq, l);
    return 0;
  }
  freeIrq(irq: number, devId: unknown): string | null {
    const l = this.handlers.get(irq) ?? [];
    const i = l.findIndex((h) => h.devId === devId);
    if (i < 0) return null;
    const [h] = l.splice(i, 1);
    if (l.length === 0) this.handlers.delete(irq);
    return h!.name;
  }
  enableIrq(irq: number): void {
    this.enabled.set(irq, true);
  }
  disableIrq(irq: number): void {
    this.enabled.set(irq, false);
  }
  disableIrqNosync(irq: number): void {
    this.enabled.set(irq, false);
  }
  irqGetTriggerType(irq: number): number {
    return this.types.get(irq) ?? 0;
  }
  irqOfParse(cells: readonly number[]): number {
    const virq = (cells[0] === 1 ? 16 : 32) + cells[1]!;
    this.types.set(virq, cells[2]! & 0xf);
    return virq;
  }
  /** run the handlers of a line; returns how many said IRQ_HANDLED */
  fire(irq: number): number {
    let n = 0;
    for (const h of [...(this.handlers.get(irq) ?? [])]) n += h.handler(irq, h.devId);
    return n;
  }
}

/** A register file: reads return what was written (or presets); writes are logged. */
export class RegFile implements MmioDevice {
  readonly accessSizes = SIZE_4;
  readonly regs = new Map<number, number>();
  readonly writes: [number, number][] = [];
  constructor(
    readonly name: string,
    presets: Record<number, number> = {},
    private readonly onWrite: ((off: number, v: number, rf: RegFile) => void) | null = null,
  ) {
    for (const [k, v] of Object.entries(presets)) this.regs.set(Number(k), v >>> 0);
  }
  /** offsets read, in order (tests observe a driver's MMIO reads here) */
  readonly reads: number[] = [];
  read(offset: number): number {
    this.reads.push(offset);
    return this.regs.get(offset) ?? 0;
  }
  write(offset: number, _size: number, value: number): number {
    this.writes.push([offset, value >>> 0]);
    this.regs.set(offset, value >>> 0);
    this.onWrite?.(offset, value >>> 0, this);
    return BUS_OK;
  }
  get(offset: number): number {
    return this.regs.get(offset) ?? 0;
  }
}

/** SMMU register-file fake with MMU-400 ID registers (4 CBs, 8 SMRs, 4 KiB pages, 8 global pages) */
export function fakeSmmuRegs(): RegFile {
  // S1TS S2TS NTS (a real MMU-400: both drivers then build stage-1 contexts, smmuStageChoice), SMS, NUMIRPT, 8 SMRs
  const id0 = (1 << 30) | (1 << 29) | (1 << 28) | (1 << 27) | (2 << 16) | 8;
  const id1 = (2 << 28) | 4; // NUMPAGENDXB=2 (8 pages), 4 CBs
  const id2 = 2 | (2 << 4); // 40-bit IAS/OAS
  return new RegFile('smmu', { 0x20: id0, 0x24: id1, 0x28: id2, 0x000: 1 /* CLIENTPD at reset */ }, (off, v, rf) => {
    // write-1-to-clear status registers read back 0 after clearing
    if (off === 0x48) rf.regs.set(off, 0);
    if (off >= 0x8000 && (off & 0xfff) === 0x58) rf.regs.set(off, 0);
    if (off === 0x70) rf.regs.set(0x74, 0);
    void v;
  });
}

/** PL330 register-file fake with the ids and configuration of the default board */
export function fakePl330Regs(): RegFile {
  const ids = [0x30, 0x13, 0x24, 0x00, 0x0d, 0xf0, 0x05, 0xb1];
  const p: Record<number, number> = {};
  ids.forEach((b, i) => (p[0xfe0 + 4 * i] = b));
  p[0xe00] = 1 | 4 | (7 << 4) | (3 << 12) | (15 << 17); // periph req, mgr ns, 8 ch, 4 periph, 16 events
  p[0xe14] = 4 | (7 << 4) | (15 << 8) | (7 << 12) | (15 << 16) | (255 << 20);
  return new RegFile('pl330', p);
}

import { parseProfile } from '../profile.js';
import { Kernel } from '../kernel.js';
import type { Sysfs } from '../sysfs/sysfs.js';

/** a booted kernel on the default board with register-file fakes for the SMMU and PL330 */
export function bootWithFakes(profile = 'rfc-v4', opts: { testDma?: boolean; testDmaSid?: number; binding?: 'mmu-masters' | 'iommus' } = {}): { k: Kernel; irq: FakeIrq; smmu: RegFile; pl330: RegFile } {
  const m = makeMachine();
  const smmu = fakeSmmuRegs();
  const pl330 = fakePl330Regs();
  m.bus.addMmio('smmu', 0x2b400000, 0x10000, smmu);
  m.bus.addMmio('pl330', 0x2c0a0000, 0x1000, pl330);
  const irq = new FakeIrq();
  const k = new Kernel(m, defaultBoardTree(opts), parseProfile(profile), irq);
  k.boot();
  return { k, irq, smmu, pl330 };
}

/** write() to a sysfs attribute as `echo` does */
export function sysWrite(sysfs: Sysfs, path: string, data: string): number {
  const e = sysfs.lookup(path.replace(/^\/sys\//, ''));
  if (!e || e.kind !== 'file' || !e.attr.store) throw new Error(`no writable sysfs file ${path}`);
  return e.attr.store(data);
}

export function sysRead(sysfs: Sysfs, path: string): string | number {
  const e = sysfs.lookup(path.replace(/^\/sys\//, ''));
  if (!e || e.kind !== 'file' || !e.attr.show) throw new Error(`no readable sysfs file ${path}`);
  return e.attr.show();
}
