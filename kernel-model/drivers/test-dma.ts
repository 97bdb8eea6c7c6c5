import { EBUSY, ENODEV } from '../base/errno.js';
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
const TDMA_SRC = 0x00;
const TDMA_DST = 0x04;
const TDMA_LEN = 0x08;
const TDMA_CTRL = 0x0c;
const TDMA_STATUS = 0x10;
const TDMA_FAULT_ADDR = 0x14;
const TDMA_DONE_ERROR = (1 << 1) | (1 << 2);
/** bytes the selftest copies */
export const TDMA_SELFTEST_LEN = 256;

/**
 * The host's own DMA on the device, like a dmatest run: `echo 1 > /sys/devices/platform/<dev>/selftest`
 * copies TDMA_SELFTEST_LEN bytes between two kernel pages allocated at probe, addressed by
 * their DMA addresses from the DMA API (kernel-model/iommu/dma-iommu.ts: 3.14 ARM has no IOMMU
 * DMA ops for platform devices, so it is the physical address; mainline maps them in the
 * group's default domain: the physical address with an IDENTITY default domain, an IOVA with
 * a translating one); reading the file shows the DMA addresses and the last result (idle,
 * running, ok, mismatch, or error <code> at <address>).
 */
interface Selftest {
  /** physical addresses (the CPU's side) */
  src: number;
  dst: number;
  /** DMA addresses (the device's side) */
  srcDma: number;
  dstDma: number;
  result: string;
}

export class TestDmaDriver implements KDriver {
  readonly name = 'test-dma';
  readonly ofMatch = Object.freeze(['vfio-arm-emu,test-dma'] as const);
  readonly bound: Device[] = [];
  private readonly bases = new Map<KDevice, number>();
  private readonly selftests = new Map<KDevice, Selftest>();
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
    const src = this.k.mm.pages.allocPage();
    const dst = this.k.mm.pages.allocPage();
    const srcDma = this.k.dma.map(kdev, src, TDMA_SELFTEST_LEN);
    const dstDma = srcDma < 0 ? srcDma : this.k.dma.map(kdev, dst, TDMA_SELFTEST_LEN);
    if (srcDma < 0 || dstDma < 0) {
      if (srcDma >= 0) this.k.dma.unmap(kdev, srcDma, TDMA_SELFTEST_LEN);
      this.k.mm.pages.freePage(src);
      this.k.mm.pages.freePage(dst);
      for (const q of irqs) this.k.irq.freeIrq(q, kdev);
      this.bases.delete(kdev);
      return srcDma < 0 ? srcDma : dstDma;
    }
    const st: Selftest = { src, dst, srcDma, dstDma, result: 'idle' };
    this.selftests.set(kdev, st);
    this.k.driverCore.sysfs.addFile(`devices/${kdev.bus.name}/${kdev.name}/selftest`, {
      mode: 0o644,
      show: () => `src 0x${st.srcDma.toString(16)} dst 0x${st.dstDma.toString(16)} len ${TDMA_SELFTEST_LEN} ${st.result}\n`,
      store: (data) => this.startSelftest(kdev, st, data),
    });
    this.bound.push(kdev);
    this.k.log.info(`${this.name} ${kdev.name}`, `probed (${irqs.length} irq)`);
    return 0;
  }

  remove(kdev: KDevice): void {
    const irqs = (kdev.drvdata as number[] | null) ?? [];
    for (const irq of irqs) this.k.irq.freeIrq(irq, kdev);
    this.bases.delete(kdev);
    const st = this.selftests.get(kdev);
    if (st) {
      this.k.driverCore.sysfs.remove(`devices/${kdev.bus.name}/${kdev.name}/selftest`);
      this.k.dma.unmap(kdev, st.srcDma, TDMA_SELFTEST_LEN);
      this.k.dma.unmap(kdev, st.dstDma, TDMA_SELFTEST_LEN);
      this.k.mm.pages.freePage(st.src);
      this.k.mm.pages.freePage(st.dst);
      this.selftests.delete(kdev);
    }
    const i = this.bound.indexOf(kdev as Device);
    if (i >= 0) this.bound.splice(i, 1);
  }

  private startSelftest(kdev: KDevice, st: Selftest, data: string): number {
    const base = this.bases.get(kdev) ?? -1;
    if (base < 0 || st.result === 'running') return -EBUSY;
    const kmem = this.k.mm.kmem;
    const pattern = new Uint8Array(TDMA_SELFTEST_LEN);
    for (let i = 0; i < pattern.length; i++) pattern[i] = (0xa5 ^ i) & 0xff;
    kmem.writeBytes(kmem.lin.paToKva(st.src), pattern);
    kmem.writeBytes(kmem.lin.paToKva(st.dst), new Uint8Array(TDMA_SELFTEST_LEN));
    st.result = 'running';
    this.k.hw.writel(st.srcDma, base + TDMA_SRC);
    this.k.hw.writel(st.dstDma, base + TDMA_DST);
    this.k.hw.writel(TDMA_SELFTEST_LEN, base + TDMA_LEN);
    this.k.hw.writel(1, base + TDMA_CTRL);
    return data.length;
  }

  private readonly handler = (_irq: number, dev: unknown): IrqReturn => {
    const base = this.bases.get(dev as KDevice) ?? -1;
    if (base < 0) return IRQ_NONE;
    const st = this.k.hw.readl(base + TDMA_STATUS);
    if ((st & TDMA_DONE_ERROR) === 0) return IRQ_NONE;
    const test = this.selftests.get(dev as KDevice);
    if (test && test.result === 'running') {
      if (st & (1 << 2)) {
        test.result = `error ${(st >>> 8) & 7} at 0x${this.k.hw.readl(base + TDMA_FAULT_ADDR).toString(16)}`;
      } else {
        const kmem = this.k.mm.kmem;
        const a = kmem.readBytes(kmem.lin.paToKva(test.src), TDMA_SELFTEST_LEN);
        const b = kmem.readBytes(kmem.lin.paToKva(test.dst), TDMA_SELFTEST_LEN);
        test.result = a.every((x, i) => x === b[i]) ? 'ok' : 'mismatch';
      }
      this.k.log.info(`${this.name} ${(dev as KDevice).name}`, `selftest: ${test.result}`);
    }
    this.k.hw.writel(st & TDMA_DONE_ERROR, base + TDMA_STATUS);
    this.acks++;
    return IRQ_HANDLED;
  };
}
