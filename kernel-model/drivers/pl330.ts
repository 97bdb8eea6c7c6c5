import { EINVAL, ENODEV } from '../base/errno.js';
import { Device } from '../driver/core.js';
import type { KDevice, KDriver } from '../driver/types.js';
import { IRQ_HANDLED, IRQ_NONE, type IrqReturn } from '../irq/types.js';
import type { KernelServices } from './services.js';

const DSR = 0x000;
const INTEN = 0x020;
const INT_EVENT_RIS = 0x024;
const INTCLR = 0x02c;
const FSRD = 0x030;
const FSRC = 0x034;
const FTRD = 0x038;
const FTR = (n: number): number => 0x040 + 4 * n;
const CR0 = 0xe00;
const CR1 = 0xe04;
const CR3 = 0xe0c;
const CR4 = 0xe10;
const CRD = 0xe14;
const DBGSTATUS = 0xd00;
const DBGCMD = 0xd04;
const DBGINST0 = 0xd08;
const DBGINST1 = 0xd0c;
const DMAKILL = 0x01;
const PERIPH_ID = 0xfe0;
const PCELL_ID = 0xff0;

/** part number 0x330, designer 0x41 (ARM) in the low 20 bits of the peripheral id */
export const PERIPH_ID_VAL = 0x41330;
export const PCELL_ID_VAL = 0xb105f00d;

export interface Pl330Config {
  periphId: number;
  pcellId: number;
  dataBusWidth: number;
  dataBufDep: number;
  numChan: number;
  numPeri: number;
  numEvents: number;
  mgrNs: boolean;
  irqNs: number;
  periNs: number;
  icacheLines: number;
}

export interface Pl330Host {
  dev: Device;
  base: number;
  cfg: Pl330Config;
  irqs: number[];
  /** interrupts handled (events acknowledged), faults seen */
  events: number;
  faults: { t: number; fsrd: number; fsrc: number; ftrd: number; ftr: number[] }[];
}

/**
 * Host PL330 driver (stand-in for drivers/dma/pl330.c as a dmaengine provider). Probe
 * reads the configuration registers and the PrimeCell ids through MMIO, checks the ids,
 * requests every interrupt line with one handler, and logs the probe line Linux logs.
 * The handler acknowledges events (INTCLR), and like Linux's pl330_update logs each
 * faulting channel and stops it with DMAKILL through the debug interface (a faulting
 * thread keeps the abort line asserted until killed). It is bound at boot
 * so that an administrator must move the device to vfio-platform.
 */
export class Pl330Driver implements KDriver {
  readonly name = 'dma-pl330';
  readonly ofMatch = Object.freeze(['arm,pl330'] as const);
  /** pl330_ids (drivers/dma/pl330.c): the AMBA id table, used when the PL330 is an AMBA device */
  readonly ambaIds = Object.freeze([Object.freeze({ id: 0x00041330, mask: 0x000fffff } as const)] as const);
  readonly hosts: Pl330Host[] = [];

  constructor(readonly k: KernelServices) {
    // every field is readonly: frozen, so that the fuzzer's snapshot (tools/fuzz/snapshot.ts) need not record it
    Object.freeze(this);
  }

  private getId(base: number, off: number): number {
    let id = 0;
    for (let i = 0; i < 4; i++) id |= (this.k.hw.readl(base + off + 4 * i) & 0xff) << (8 * i);
    return id >>> 0;
  }

  probe(kdev: KDevice): number {
    if (!(kdev instanceof Device)) return -ENODEV;
    const k = this.k;
    const prefix = `${this.name} ${kdev.name}`;
    const mem = kdev.resource('mem', 0);
    if (!mem) return -ENODEV;
    const base = mem.start;
    const hw = k.hw;
    const periphId = this.getId(base, PERIPH_ID);
    const pcellId = this.getId(base, PCELL_ID);
    if ((periphId & 0xfffff) !== PERIPH_ID_VAL || pcellId !== PCELL_ID_VAL) {
      k.log.err(prefix, `PERIPH_ID 0x${periphId.toString(16)}, PCELL_ID 0x${pcellId.toString(16)} !`);
      return -EINVAL;
    }
    const crd = hw.readl(base + CRD);
    const cr0 = hw.readl(base + CR0);
    const cr1 = hw.readl(base + CR1);
    const cfg: Pl330Config = {
      periphId,
      pcellId,
      dataBusWidth: 8 * (1 << (crd & 7)),
      dataBufDep: ((crd >>> 20) & 0x3ff) + 1,
      numChan: ((cr0 >>> 4) & 7) + 1,
      numPeri: cr0 & 1 ? ((cr0 >>> 12) & 0x1f) + 1 : 0,
      numEvents: ((cr0 >>> 17) & 0x1f) + 1,
      mgrNs: (cr0 & 4) !== 0,
      irqNs: hw.readl(base + CR3),
      periNs: cr0 & 1 ? hw.readl(base + CR4) : 0,
      icacheLines: ((cr1 >>> 4) & 0xf) + 1,
    };
    const irqs: number[] = [];
    for (let i = 0; ; i++) {
      const irq = kdev.irq(i);
      if (irq < 0) break;
      irqs.push(irq);
    }
    const host: Pl330Host = { dev: kdev, base, cfg, irqs: [], events: 0, faults: [] };
    for (const irq of irqs) {
      const r = k.irq.requestIrq(irq, this.handler, 0, kdev.name, host);
      if (r < 0) {
        for (const q of host.irqs) k.irq.freeIrq(q, host);
        return r;
      }
      host.irqs.push(irq);
    }
    // the manager must be idle at probe (DSR state 0 stopped / 4 waiting for event)
    hw.readl(base + DSR);
    kdev.drvdata = host;
    this.hosts.push(host);
    k.log.info(prefix, `Loaded driver for PL330 DMAC-${periphId.toString(16)}`);
    k.log.info(prefix, `\tDBUFF-${cfg.dataBufDep}x${cfg.dataBusWidth / 8}bytes Num_Chans-${cfg.numChan} Num_Peri-${cfg.numPeri} Num_Events-${cfg.numEvents}`);
    return 0;
  }

  remove(kdev: KDevice): void {
    const host = kdev.drvdata as Pl330Host | null;
    if (!host) return;
    // mask event interrupts before letting go of the lines
    this.k.hw.writel(0, host.base + INTEN);
    for (const irq of host.irqs) this.k.irq.freeIrq(irq, host);
    host.irqs = [];
    const i = this.hosts.indexOf(host);
    if (i >= 0) this.hosts.splice(i, 1);
  }

  /** DMAKILL to a channel thread (or the manager for ch < 0) through the debug registers */
  private kill(base: number, ch: number): void {
    const hw = this.k.hw;
    for (let i = 0; i < 100 && hw.readl(base + DBGSTATUS) & 1; i++);
    hw.writel((DMAKILL << 16) | (ch >= 0 ? (ch << 8) | 1 : 0), base + DBGINST0);
    hw.writel(0, base + DBGINST1);
    hw.writel(0, base + DBGCMD);
  }

  readonly handler = (_irq: number, devId: unknown): IrqReturn => {
    const host = devId as Pl330Host;
    const hw = this.k.hw;
    const b = host.base;
    let handled = false;
    const fsrd = hw.readl(b + FSRD);
    const fsrc = hw.readl(b + FSRC);
    if (fsrd || fsrc) {
      const ftr: number[] = [];
      for (let c = 0; c < host.cfg.numChan; c++) ftr.push(fsrc & (1 << c) ? hw.readl(b + FTR(c)) : 0);
      const ftrd = fsrd ? hw.readl(b + FTRD) : 0;
      host.faults.push({ t: this.k.now(), fsrd, fsrc, ftrd, ftr });
      for (let c = 0; c < host.cfg.numChan; c++) {
        if (fsrc & (1 << c)) {
          this.k.log.info(`${this.name} ${host.dev.name}`, `Reset Channel-${c}\t CS-${hw.readl(b + 0x100 + 8 * c).toString(16)} FTC-${ftr[c]!.toString(16)}`);
          this.kill(b, c);
        }
      }
      if (fsrd) {
        this.k.log.err(`${this.name} ${host.dev.name}`, `DMAC fault FTRD-0x${ftrd.toString(16)}`);
        this.kill(b, -1);
      }
      handled = true;
    }
    const ev = hw.readl(b + INT_EVENT_RIS) & hw.readl(b + INTEN);
    if (ev) {
      hw.writel(ev, b + INTCLR);
      host.events++;
      handled = true;
    }
    return handled ? IRQ_HANDLED : IRQ_NONE;
  };
}
