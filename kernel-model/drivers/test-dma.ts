import { ENODEV } from '../base/errno.js';
import { Device } from '../driver/core.js';
import type { KDevice, KDriver } from '../driver/types.js';
import { IRQ_NONE, type IrqReturn } from '../irq/types.js';
import type { KernelServices } from './services.js';

/**
 * Host driver for "vfio-arm-emu,test-dma", the second DMA master of the shared-group
 * board: it exists so that one member of an IOMMU group can stay on a host driver
 * while another is moved to vfio-platform (the group is then not viable). Probe claims
 * the interrupt line only: it never touches the device's registers.
 */
export class TestDmaDriver implements KDriver {
  readonly name = 'test-dma';
  readonly ofMatch = ['vfio-arm-emu,test-dma'] as const;
  readonly bound: Device[] = [];

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
    this.bound.push(kdev);
    this.k.log.info(`${this.name} ${kdev.name}`, `probed (${irqs.length} irq)`);
    return 0;
  }

  remove(kdev: KDevice): void {
    const irqs = (kdev.drvdata as number[] | null) ?? [];
    for (const irq of irqs) this.k.irq.freeIrq(irq, kdev);
    const i = this.bound.indexOf(kdev as Device);
    if (i >= 0) this.bound.splice(i, 1);
  }

  private readonly handler = (_irq: number, _dev: unknown): IrqReturn => IRQ_NONE;
}
