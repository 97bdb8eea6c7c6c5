/**
 * Toy device models for board-assembly tests (not part of the model): a recording
 * interrupt controller, a translator that offsets addresses and faults a range, and a
 * DMA-capable master that exposes its context. Registered under the real compatibles
 * (arm,gic-400, arm,mmu-400, arm,pl330) so the shipped boards can be assembled before
 * the real models are integrated.
 */
import { streamIdOf, type Attrs } from '../../attrs.js';
import { BUS_OK, BUS_TRANSLATION_FAULT, SIZE_4, type MmioDevice } from '../../bus.js';
import { IrqLine } from '../../irq.js';
import type { MasterPort, TranslationResult, TranslationStage } from '../../master.js';
import { DeviceRegistry } from '../registry.js';
import type { DeviceContext, DeviceInstance, InterruptController, IrqSpec } from '../types.js';

/** A register file of 32-bit scratch registers. */
export class ScratchRegs implements MmioDevice {
  readonly accessSizes = SIZE_4;
  readonly regs = new Map<number, number>();
  constructor(readonly name: string) {}
  read(offset: number, _size?: number, _attrs?: number): number {
    return this.regs.get(offset) ?? 0;
  }
  write(offset: number, _size: number, value: number): number {
    this.regs.set(offset, value >>> 0);
    return BUS_OK;
  }
}

export interface ToyIrqInput {
  spec: number[];
  line: string;
  level: boolean;
}

/** Interrupt controller that records its inputs; output = OR of all input levels. */
export class ToyIntc implements InterruptController {
  readonly inputs: ToyIrqInput[] = [];
  /** every level change seen: "line=0|1" */
  readonly log: string[] = [];
  readonly output: IrqLine;
  constructor(name: string) {
    this.output = new IrqLine(`${name}:out`);
  }
  inputFor(spec: IrqSpec, line: IrqLine): (level: boolean) => void {
    const rec: ToyIrqInput = { spec: spec.cells.slice(), line: line.name, level: false };
    this.inputs.push(rec);
    return (level) => {
      rec.level = level;
      this.log.push(`${line.name}=${level ? 1 : 0}`);
      this.output.set(this.inputs.some((i) => i.level));
    };
  }
  input(line: string): ToyIrqInput | undefined {
    return this.inputs.find((i) => i.line === line);
  }
}

/**
 * Translator: va -> va + offset, extents end at 4 KiB page boundaries, cost `costNs` per
 * lookup; [faultLo, faultHi) faults. Records the attributes of every lookup.
 */
export class ToyTranslator implements TranslationStage {
  readonly seen: Attrs[] = [];
  faults = 0;
  constructor(
    readonly name: string,
    public offset: number,
    public faultLo = 0,
    public faultHi = 0,
    public costNs = 5,
  ) {}
  translate(va: number, attrs: Attrs, out: TranslationResult): void {
    this.seen.push(attrs);
    out.costNs = this.costNs;
    if (va >= this.faultLo && va < this.faultHi) {
      this.faults++;
      out.status = BUS_TRANSLATION_FAULT;
      out.pa = 0;
      out.extent = 0;
      return;
    }
    out.status = BUS_OK;
    out.pa = va + this.offset;
    out.extent = 0x1000 - (va & 0xfff);
  }
  streamIds(): number[] {
    return this.seen.map(streamIdOf);
  }
}

export interface ToyInstance extends DeviceInstance {
  readonly ctx: DeviceContext;
  readonly regs: ScratchRegs | null;
  readonly port?: MasterPort;
  readonly intc?: ToyIntc;
  readonly translator?: ToyTranslator;
}

/** Creation order log shared by the toy factories of one registry. */
export interface ToyRegistry {
  registry: DeviceRegistry;
  created: ToyInstance[];
}

export function toyRegistry(opts: { translatorOffset?: number; faultLo?: number; faultHi?: number } = {}): ToyRegistry {
  const created: ToyInstance[] = [];
  const registry = new DeviceRegistry();
  const regsFor = (ctx: DeviceContext): (ScratchRegs | null)[] => ctx.reg.map((_, i) => new ScratchRegs(`${ctx.name}[${i}]`));
  registry.register('arm,gic-400', (ctx) => {
    const intc = new ToyIntc(ctx.name);
    const mmio = regsFor(ctx);
    const inst: ToyInstance = { name: ctx.name, node: ctx.node, mmio, ctx, regs: mmio[0] ?? null, interruptController: intc, intc };
    created.push(inst);
    return inst;
  });
  const smmu = (ctx: DeviceContext): DeviceInstance => {
    const translator = new ToyTranslator(ctx.name, opts.translatorOffset ?? 0, opts.faultLo ?? 0, opts.faultHi ?? 0);
    const mmio = regsFor(ctx);
    const inst: ToyInstance = { name: ctx.name, node: ctx.node, mmio, ctx, regs: mmio[0] ?? null, iommu: { stage: translator }, translator };
    created.push(inst);
    return inst;
  };
  registry.register('arm,mmu-400', smmu);
  registry.register('arm,pl330', (ctx) => {
    const mmio = regsFor(ctx);
    const inst: ToyInstance = { name: ctx.name, node: ctx.node, mmio, ctx, regs: mmio[0] ?? null, port: ctx.dmaPort() };
    created.push(inst);
    return inst;
  });
  return { registry, created };
}
