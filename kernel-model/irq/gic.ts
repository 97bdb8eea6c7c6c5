/**
 * The GICv2 irqchip driver's register operations (drivers/irqchip/irq-gic.c of 3.14 and v6.12,
 * irq-gic-common.c): distributor and CPU-interface initialisation, the chip's mask/unmask/
 * retrigger/eoi, the acknowledge read of the IRQ entry, and the two eras' irq_set_type register
 * sequences. Everything goes through the kernel's MMIO accessors (HwAccess); the interrupt core
 * (core.ts, kernel/irq/*) decides when each is called.
 */
import type { HwAccess } from '../base/hw.js';
import type { KernelLog } from '../base/klog.js';
import { EINVAL } from '../base/errno.js';
import { IRQ_TYPE_EDGE_FALLING, IRQ_TYPE_EDGE_RISING, IRQ_TYPE_LEVEL_HIGH, IRQ_TYPE_LEVEL_LOW } from '../driver/types.js';

export const GIC_SPURIOUS_ID = 1023;

const GICD_CTLR = 0x000;
const GICD_TYPER = 0x004;
const GICD_ISENABLER = 0x100;
const GICD_ICENABLER = 0x180;
const GICD_ISPENDR = 0x200;
const GICD_IPRIORITYR = 0x400;
const GICD_ITARGETSR = 0x800;
const GICD_ICFGR = 0xc00;
const GICC_CTLR = 0x000;
const GICC_PMR = 0x004;
const GICC_IAR = 0x00c;
const GICC_EOIR = 0x010;

/** GICD_INT_DEF_PRI and the PMR Linux programs */
export const GIC_DEFAULT_PRIORITY = 0xa0;
export const GIC_DEFAULT_PMR = 0xf0;

export class GicChip {
  constructor(
    private readonly hw: HwAccess,
    readonly distBase: number,
    readonly cpuBase: number,
    private readonly log: KernelLog,
  ) {
    // every field is readonly: frozen, so that the fuzzer's snapshot (tools/fuzz/snapshot.ts) need not record it
    Object.freeze(this);
  }

  /**
   * gic_dist_init + gic_cpu_init: SPIs level, target CPU 0, priority 0xa0, disabled; SGIs
   * enabled, PPIs disabled; PMR 0xf0; both CTLRs on. The number of IDs (GICD_TYPER, at most 1020).
   */
  init(): number {
    const hw = this.hw;
    const d = this.distBase;
    const c = this.cpuBase;
    hw.writel(0, d + GICD_CTLR);
    const typer = hw.readl(d + GICD_TYPER);
    let n = 32 * ((typer & 0x1f) + 1);
    if (n > 1020) n = 1020;
    // all SPIs level-triggered, active low/high does not exist on the GIC: level high
    for (let i = 32; i < n; i += 16) hw.writel(0, d + GICD_ICFGR + i / 4);
    for (let i = 32; i < n; i += 4) hw.writel(0x01010101, d + GICD_ITARGETSR + i);
    const prio4 = (GIC_DEFAULT_PRIORITY * 0x01010101) >>> 0;
    for (let i = 32; i < n; i += 4) hw.writel(prio4, d + GICD_IPRIORITYR + i);
    for (let i = 32; i < n; i += 32) hw.writel(0xffffffff, d + GICD_ICENABLER + i / 8);
    hw.writel(1, d + GICD_CTLR);
    // CPU interface (banked SGI/PPI state)
    hw.writel(0xffff0000, d + GICD_ICENABLER);
    hw.writel(0x0000ffff, d + GICD_ISENABLER);
    for (let i = 0; i < 32; i += 4) hw.writel(prio4, d + GICD_IPRIORITYR + i);
    hw.writel(GIC_DEFAULT_PMR, c + GICC_PMR);
    hw.writel(1, c + GICC_CTLR);
    this.log.info('GIC', `GICv2 at 0x${d.toString(16)} (dist) 0x${c.toString(16)} (cpu): ${n} interrupts`);
    return n;
  }

  /** gic_mask_irq: GICD_ICENABLER */
  mask(id: number): void {
    this.hw.writel(1 << (id % 32), this.distBase + GICD_ICENABLER + Math.floor(id / 32) * 4);
  }

  /** gic_unmask_irq: GICD_ISENABLER */
  unmask(id: number): void {
    this.hw.writel(1 << (id % 32), this.distBase + GICD_ISENABLER + Math.floor(id / 32) * 4);
  }

  /** gic_retrigger: GICD_ISPENDR */
  retrigger(id: number): void {
    this.hw.writel(1 << (id % 32), this.distBase + GICD_ISPENDR + Math.floor(id / 32) * 4);
  }

  /** gic_handle_irq's acknowledge: GICC_IAR (a KernelOops propagates when the interface is not accessible) */
  ack(): number {
    return this.hw.readl(this.cpuBase + GICC_IAR);
  }

  /** gic_eoi_irq: GICC_EOIR */
  eoi(iar: number): void {
    this.hw.writel(iar, this.cpuBase + GICC_EOIR);
  }

  /** the ICFGR register of an ID and its bit 1 (edge = 1) */
  private cfg(id: number): { reg: number; bit: number } {
    return { reg: this.distBase + GICD_ICFGR + Math.floor(id / 16) * 4, bit: 2 << ((id % 16) * 2) };
  }

  /**
   * 3.14 gic_set_type's registers for an accepted type (level-high or rising edge, not an
   * SGI): ICFGR read, ISENABLER read; an enabled ID disabled (ICENABLER) around the ICFGR
   * write ("As recommended by the spec"), which happens even when nothing changes
   */
  setType314(id: number, type: number): void {
    const { reg, bit } = this.cfg(id);
    let v = this.hw.readl(reg);
    if (type === IRQ_TYPE_LEVEL_HIGH) v &= ~bit;
    else v |= bit;
    const en = 1 << (id % 32);
    const enOff = Math.floor(id / 32) * 4;
    const enabled = (this.hw.readl(this.distBase + GICD_ISENABLER + enOff) & en) !== 0;
    if (enabled) this.hw.writel(en >>> 0, this.distBase + GICD_ICENABLER + enOff);
    this.hw.writel(v >>> 0, reg);
    if (enabled) this.hw.writel(en >>> 0, this.distBase + GICD_ISENABLER + enOff);
  }

  /**
   * v6.12 gic_set_type for a PPI or SPI whose type was accepted, i.e. gic_configure_irq
   * (irq-gic-common.c): ICFGR read; written only when the value changes, then read back. 0, or
   * -EINVAL when an SPI's write did not stick (a PPI's only warns "GIC: PPI%ld is secure or
   * misconfigured")
   */
  configure612(id: number, type: number): number {
    const { reg, bit } = this.cfg(id);
    const old = this.hw.readl(reg);
    let v = old;
    if ((type & (IRQ_TYPE_LEVEL_HIGH | IRQ_TYPE_LEVEL_LOW)) !== 0) v &= ~bit;
    else if ((type & (IRQ_TYPE_EDGE_RISING | IRQ_TYPE_EDGE_FALLING)) !== 0) v |= bit;
    if ((v >>> 0) === (old >>> 0)) return 0;
    this.hw.writel(v >>> 0, reg);
    if ((this.hw.readl(reg) >>> 0) === (v >>> 0)) return 0;
    if (id < 32) {
      this.log.warn('GIC', `PPI${id - 16} is secure or misconfigured`);
      return 0;
    }
    return -EINVAL;
  }
}
