/**
 * PL330 static configuration: what the device tree and the configuration registers
 * CR0-CR4/CRD describe (DMA-330 TRM, ARM DDI 0424, 3.4), plus model options.
 */
import { ACCEL_DEFAULT } from '../../emulator/accel.js';
import type { IrqLine } from '../../emulator/irq.js';
import type { MasterPort } from '../../emulator/master.js';
import type { Scheduler } from '../../emulator/scheduler.js';
import type { Tracer } from '../../emulator/trace.js';

export type Pl330WideBeat = 'fault-at-dmamov' | 'fault-at-access' | 'narrow';
export const PL330_WIDE_BEAT_MODES: readonly Pl330WideBeat[] = ['fault-at-dmamov', 'fault-at-access', 'narrow'];

export interface Pl330Config {
  channels: number; // 1..8
  events: number; // 1..32 (event/IRQ numbers)
  periphReqs: number; // 0..32
  dataWidthBits: 32 | 64 | 128;
  mfifoDepth: number; // MFIFO lines of data width (1..1024)
  rdCap: number;
  wrCap: number;
  rdQueueDepth: number;
  wrQueueDepth: number;
  icacheLines: number;
  icacheLineWords: number; // 4, 8, 16 or 32
  revision: number; // periph id revision ([23:20] of the combined id)
  clockHz: number;
  mgrNsAtReset: boolean;
  bootEn: boolean;
  bootAddr: number;
  /** CR3: bit n = event/irq n is non-secure (default: all non-secure) */
  irqNs: number;
  /** CR4: bit n = peripheral n is non-secure (default: all non-secure) */
  periphNs: number;
  /** SMMU stream id carried in every transaction's attributes */
  streamId: number;
  /**
   * A CCR beat wider than the AXI data bus (or a reserved size encoding): the TRM says
   * nothing, so this is a documented model choice (docs/PL330.md, "Beats wider than the data
   * bus"), board property `vfio-arm-emu,pl330-wide-beat`: 'fault-at-access' (default:
   * operand_invalid at the DMALD/DMAST that would issue the burst), 'fault-at-dmamov'
   * (operand_invalid at the DMAMOV CCR that programs it) or 'narrow' (bus-wide beats).
   */
  wideBeat: Pl330WideBeat;
  /**
   * Accelerators (accel/: bulk execution of load/store loop bodies, copy runs) on. They give
   * the same results as the reference executor (memory, registers, virtual time, statistics,
   * trace), only faster. Default: emulator/accel.ts ACCEL_DEFAULT.
   */
  accel: boolean;
  /** @deprecated alias of `accel` (kept for older callers); `accel` wins when both are given */
  fastPath?: boolean;
  /**
   * accelerators: at most this many source bytes per bulk chunk (one scheduler event). A
   * host-side granularity only: a batch never runs past the next event of anything else
   * (docs/PL330.md, the horizon), so results do not depend on it (the property tests run
   * several sizes). Default 1 MiB (issue 19: 64 KiB cost one event, one copy-run call and
   * its first lookups per side every 64 KiB, ~15% of a large transfer's host time).
   */
  bulkChunkBytes: number;
  /** emit one 'pl330-insn' trace event per executed instruction (off by default) */
  traceInstructions: boolean;
}

export const DEFAULT_PL330_CONFIG: Readonly<Pl330Config> = {
  channels: 8,
  events: 16,
  periphReqs: 4,
  dataWidthBits: 128,
  mfifoDepth: 256,
  rdCap: 8,
  wrCap: 8,
  rdQueueDepth: 16,
  wrQueueDepth: 16,
  icacheLines: 16,
  icacheLineWords: 4,
  revision: 2,
  clockHz: 100_000_000,
  mgrNsAtReset: true,
  bootEn: false,
  bootAddr: 0,
  irqNs: 0xffffffff,
  periphNs: 0xffffffff,
  streamId: 0,
  wideBeat: 'fault-at-access',
  accel: ACCEL_DEFAULT,
  bulkChunkBytes: 1 << 20,
  traceInstructions: false,
};

/** A peripheral attached to one of the DMAC's request interfaces. */
export interface Pl330PeripheralPort {
  /** DMALDP/DMASTP acknowledged the current request (kind 'single' or 'burst') */
  ack?(kind: 'single' | 'burst', last: boolean): void;
  /** DMAFLUSHP: the DMAC cleared its request state; the peripheral should re-send */
  flush?(): void;
}

export interface Pl330Deps {
  scheduler: Scheduler;
  port: MasterPort;
  /** event interrupt lines irq[0..n) (missing lines: the event still sets INT_EVENT_RIS) */
  eventIrqs: IrqLine[];
  abortIrq: IrqLine | null;
  /** trace sink and guest-error sink (register accesses the hardware does not decode) */
  tracer?: Tracer | null;
  name?: string;
}

export type Pl330InsnObserver = (thread: number, pc: number, bytes: Uint8Array, len: number) => void;
