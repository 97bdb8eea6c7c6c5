/** The IRQ core's records (kernel-model/irq/core.ts): struct irqaction, struct irq_desc (reduced), the core's counters. */
import type { IrqHandler } from './types.js';

/** one handler on a line (struct irqaction): request_irq's handler, flags, name and dev_id */
export interface IrqAction {
  readonly handler: IrqHandler;
  readonly flags: number;
  readonly name: string;
  readonly devId: unknown;
}

/** One interrupt descriptor (struct irq_desc, reduced). */
export interface IrqDesc {
  readonly irq: number;
  readonly hwirq: number;
  /** IRQ_TYPE_* as configured (from the device tree or request_irq trigger flags) */
  trigger: number;
  actions: IrqAction[];
  /** disable depth: 0 = enabled; a descriptor without handlers has depth 1 */
  depth: number;
  /** IRQD_IRQ_DISABLED */
  disabled: boolean;
  /** IRQD_IRQ_MASKED (the GIC enable bit is clear) */
  masked: boolean;
  /** IRQS_PENDING: arrived while disabled or without a handler */
  pendingReplay: boolean;
  /** a handler of this irq is running */
  inProgress: boolean;
  /**
   * kstat, the count /proc/interrupts shows: every take of the flow handler ('every-take',
   * 3.14) or the takes that run the handlers ('handler-runs', v6.12); capability `irqKstat`
   */
  count: number;
  /** note_interrupt state */
  unhandled: number;
  /** last_unhandled: jiffies of the last IRQ_NONE take */
  lastUnhandled: number;
  windowCount: number;
  /** set when note_interrupt disabled the line ("nobody cared") */
  spuriousDisabled: boolean;
  // storm streak
  stormEpoch: number;
  stormCount: number;
  stormStart: number;
  stormLast: number;
  stormCycles: number;
  /**
   * changes of this descriptor (its fields, its action list) since it was made: IrqCore counts
   * each one before writing (a write barrier: the fuzzer's snapshot restores a descriptor only
   * when its version moved, tools/fuzz/snapshot.ts `guards`); not kernel state
   */
  version: number;
}

export interface IrqCoreStats {
  /** IRQ exception entries handled by the core */
  entries: number;
  /** IAR reads that returned 1023 */
  spurious: number;
  /** takes of IDs without a mapping (Err: in /proc/interrupts) */
  errors: number;
  /** KernelOops caught in handlers */
  oopses: number;
  /** SGIs taken (no IPI users on this single-CPU board) */
  ipis: number;
}
