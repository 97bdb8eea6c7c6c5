/**
 * The kernel IRQ API (include/linux/interrupt.h, irq.h), reduced to what the drivers
 * and the series use. Implemented by kernel-model/irq/.
 */
export const IRQ_NONE = 0;
export const IRQ_HANDLED = 1;
export type IrqReturn = typeof IRQ_NONE | typeof IRQ_HANDLED;

/** request_irq flags */
export const IRQF_SHARED = 0x80;

export type IrqHandler = (irq: number, devId: unknown) => IrqReturn;

export interface IrqApi {
  /** request_irq: 0, -EINVAL (unknown irq / no handler), -EBUSY (already requested, not both shared) */
  requestIrq(irq: number, handler: IrqHandler, flags: number, name: string, devId: unknown): number;
  /** free_irq: removes the handler registered with devId; returns the name or null if none */
  freeIrq(irq: number, devId: unknown): string | null;
  enableIrq(irq: number): void;
  disableIrq(irq: number): void;
  disableIrqNosync(irq: number): void;
  /** IRQ_TYPE_* of the line as configured from the device tree */
  irqGetTriggerType(irq: number): number;
  /** Linux irq number (virq) for a device-tree interrupt specifier (GIC: [type, n, flags]) */
  irqOfParse(cells: readonly number[]): number;
}

/** request_irq trigger flags (IRQF_TRIGGER_RISING 1, FALLING 2, HIGH 4, LOW 8): override the DT type */
export const IRQF_TRIGGER_MASK = 0x0f;
/** request_irq flag: do not enable the line on request (the caller enable_irq()s it later) */
export const IRQF_NO_AUTOEN = 0x80000;
