import type { PhysicalBus, MmioDevice } from '../bus.js';
import type { Cpu } from '../cpu/cpu.js';
import type { DeviceTree, DtNode } from '../dt/types.js';
import type { IrqLine, IrqSink } from '../irq.js';
import type { MasterPort, TranslationStage } from '../master.js';
import type { Prng } from '../prng.js';
import type { Scheduler } from '../scheduler.js';
import type { Tracer } from '../trace.js';

/** One `reg` entry decoded with the parent's #address-cells / #size-cells. */
export interface RegEntry {
  base: number;
  size: number;
}

/** One `interrupts` entry decoded against the interrupt parent's #interrupt-cells. */
export interface IrqSpec {
  /** the raw cells, e.g. [0, 32, 4] for a GIC SPI */
  cells: number[];
}

/** The machine a board is assembled into: everything a device may need from emulator/. */
export interface MachineCore {
  readonly scheduler: Scheduler;
  readonly bus: PhysicalBus;
  readonly tracer: Tracer;
  readonly prng: Prng;
  readonly cpu: Cpu;
  /** accelerator layers allowed (emulator/accel.ts); optional for hand-built machines (default ACCEL_DEFAULT) */
  readonly accel?: boolean;
}

/** A device instance created by a factory. */
export interface DeviceInstance {
  /** Linux-style name: "<unit-address>.<node-name>", e.g. "2c0a0000.dma" */
  readonly name: string;
  readonly node: DtNode;
  /** MMIO interfaces, one per reg entry (in order); missing entries are not mapped */
  readonly mmio: (MmioDevice | null)[];
  /** present when the node is an interrupt controller */
  readonly interruptController?: InterruptController;
  /** present when the node is an IOMMU (SMMU): the translation stage masters plug into */
  readonly iommu?: IommuProvider;
  /** reset to power-on state */
  reset?(): void;
}

export interface InterruptController {
  /** the sink for an interrupt specifier (cells as in the consumer's `interrupts`) */
  inputFor(spec: IrqSpec, line: IrqLine): IrqSink;
  /** the controller's output towards the CPU (connected by the board for the root controller) */
  readonly output: IrqLine;
}

export interface IommuProvider {
  readonly stage: TranslationStage;
}

/** What a factory receives. */
export interface DeviceContext {
  readonly machine: MachineCore;
  readonly tree: DeviceTree;
  readonly node: DtNode;
  /** Linux-style device name ("2c0a0000.dma") */
  readonly name: string;
  readonly reg: RegEntry[];
  /** the device's interrupt outputs, one IrqLine per `interrupts` entry, already wired */
  readonly irqs: IrqLine[];
  readonly irqSpecs: IrqSpec[];
  /** `interrupt-names` entry per interrupt (null when the node has none); optional for hand-built contexts */
  readonly irqNames?: (string | null)[];
  /** stream ids from `iommus = <&smmu sid ...>` (empty when the device is not behind an IOMMU) */
  readonly streamIds: number[];
  /**
   * A bus master port for this device's DMA, behind its IOMMU when it has `iommus`
   * (the translator is attached once the IOMMU node has been created).
   */
  dmaPort(label?: string): MasterPort;
}

export type DeviceFactory = (ctx: DeviceContext) => DeviceInstance;
