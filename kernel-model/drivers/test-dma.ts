import { ENODEV } from '../base/errno.js';
import { Device } from '../driver/core.js';
import type { KDevice, KDriver } from '../driver/types.js';
import { IRQ_HANDLED, IRQ_NONE, type IrqReturn } from '../irq/types.js';
import type { KernelServices } from './services.js';

/**
 * Host driver for "vfio-arm-emu,test-dma", the second DMA master of the shared-group
 * board: it exists so that one member of an IOMMU group can stay on a host driver
 * while another is moved to vfio-platform (the group is then not viable). Probe claims
 * the interrupt line; the handler acknowledges DONE/ERROR in STATUS (0x10, write 1 to
 * clear bits 1 and 2), which is what lowers the device's level interrupt.
 */
const TDMA_STATUS = 0x10;
const TDMA_DONE_ERROR = (1 << 1) | (1 << 2);

export class TestDmaDriver implements KDriver {
  readonly name = 'test-dma';
  readonly ofMatch = ['vfio-arm-emu,test-dma'] as const;
  readonly bound: Device[] = [];
  private readonly bases = new Map<KDevice, number>();
  /** completions and errors acknowledged */
  acks = 0;

  constructor(readonly k: KernelServices) {}

  probe(kdev: KDevice): number {
    if (!(kdev instanceof Device)) return -ENODEV;
    const irqs: number[] = [];
    for (let i = 0; kdev.irq(i) >= 0; i++) {
      const irq = kdev.irq(i);
      const r = this.k.irq.requestIrq(irq, this.handler, 0, kdev.name, kdev);
      if (r < 0) {
        for (const q of irqs) this.k.irq.freeIrq(q, kdev);
        return r;
      }
      irqs.push(irq);
    }
    kdev.drvdata = irqs;
    this.bases.set(kdev, kdev.resource('mem', 0)?.start ?? -1);
    this.bound.push(kdev);
    this.k.log.info(`${this.name} ${kdev.name}`, `probed (${irqs.length} irq)`);
    return 0;
  }

  remove(kdev: KDevice): void {
    const irqs = (kdev.drvdata as number[] | null) ?? [];
    for (const irq of irqs) this.k.irq.freeIrq(irq, kdev);
    this.bases.delete(kdev);
    const i = this.bound.indexOf(kdev as Device);
    if (i >= 0) this.bound.splice(i, 1);
  }

  private readonly handler = (_irq: number, dev: unknown): IrqReturn => {
    const base = this.bases.get(dev as KDevice) ?? -1;
    if (base < 0) return IRQ_NONE;
    const st = this.k.hw.readl(base + TDMA_STATUS);
    if ((st & TDMA_DONE_ERROR) === 0) return IRQ_NONE;
    this.k.hw.writel(st & TDMA_DONE_ERROR, base + TDMA_STATUS);
    this.acks++;
    return IRQ_HANDLED;
  };
}
