/**
 * The PL330 register map as one declarative table (emulator/regmap.ts), DMA-330 TRM
 * (ARM DDI 0424) 3.3 "Register summary" (Table 3-1) and 3.4 "Register descriptions".
 *
 * MMIO dispatch, reset of the stored registers (INTEN, WD, DBGINST0/1) and register names for
 * traces come from this table. The register file is 4 KiB; only 32-bit accesses are decoded
 * (the bus answers other sizes with SLVERR: `Pl330.accessSizes`). An offset the table does not
 * decode (reserved offsets, the registers of channels the configuration does not have), a
 * write to a read-only register and a read of a write-only one are RAZ/WI, as the TRM
 * describes reserved locations, and are reported as guest errors (`tracer.guestError`).
 *
 * The channel registers are read-only through the APB interface: software programs a channel
 * with DMA instructions (DMAMOV, DMALP, ...), never with register writes (TRM 3.4).
 */
import { RegisterMap, type GuestErrorSink, type RegSpec } from '../../emulator/regmap.js';
import type { Pl330Config } from './config.js';
import * as C from './constants.js';
import { debugCommand } from './debug.js';
import type { Pl330 } from './pl330.js';

type Spec = RegSpec<Pl330>;

/** CR0 (TRM 3.4 "Configuration Register 0") */
export function cr0Value(c: Pl330Config): number {
  return (
    ((c.periphReqs > 0 ? 1 : 0) |
      (c.bootEn ? 2 : 0) |
      (c.mgrNsAtReset ? 4 : 0) |
      ((c.channels - 1) << 4) |
      (((Math.max(c.periphReqs, 1) - 1) & 0x1f) << 12) |
      (((c.events - 1) & 0x1f) << 17)) >>> 0
  );
}

/** CR1 (instruction cache geometry) */
export function cr1Value(c: Pl330Config): number {
  return (31 - Math.clz32(c.icacheLineWords)) | ((c.icacheLines - 1) << 4);
}

/** CRD (DMA configuration: data width, read/write capabilities and queues, MFIFO depth) */
export function crdValue(c: Pl330Config): number {
  const dw = 31 - Math.clz32(c.dataWidthBits / 8);
  return (
    (dw |
      (((c.wrCap - 1) & 7) << 4) |
      (((c.wrQueueDepth - 1) & 0xf) << 8) |
      (((c.rdCap - 1) & 7) << 12) |
      (((c.rdQueueDepth - 1) & 0xf) << 16) |
      (((c.mfifoDepth - 1) & 0x3ff) << 20)) >>> 0
  );
}

/** periph_id_0..3 then pcell_id_0..3 (TRM 3.4 "Peripheral Identification Registers", "Component Identification Registers") */
export function idValues(c: Pl330Config): number[] {
  return [0x30, 0x13, 0x04 | ((c.revision & 0xf) << 4), 0x00, 0x0d, 0xf0, 0x05, 0xb1];
}

/** The register table of a DMAC with `channels` channels. */
export function pl330RegisterSpecs(channels: number): Spec[] {
  // one table per channel count, shared by every DMAC (its layout is built once: emulator/regmap.ts)
  let t = pl330Tables.get(channels);
  if (t === undefined) pl330Tables.set(channels, (t = buildPl330RegisterSpecs(channels)));
  return t;
}

const pl330Tables = new Map<number, Spec[]>();

function buildPl330RegisterSpecs(channels: number): Spec[] {
  const ch = (i: number, dev: Pl330) => dev.channels[i]!;
  return [
    { name: 'DSR', offset: C.REG_DSR, access: 'RO', read: (d) => d.manager.statusRegister(), doc: 'TRM 3.4 DMA Manager Status Register' },
    { name: 'DPC', offset: C.REG_DPC, access: 'RO', reset: 0, read: (d) => d.manager.pc >>> 0, doc: 'TRM 3.4 DMA Program Counter Register' },
    { name: 'INTEN', offset: C.REG_INTEN, access: 'RW', reset: 0, write: (d, v) => d.writeInten(v), doc: 'TRM 3.4 Interrupt Enable Register (bits of absent events stay 0)' },
    { name: 'INT_EVENT_RIS', offset: C.REG_INT_EVENT_RIS, access: 'RO', reset: 0, read: (d) => d.ris >>> 0, doc: 'TRM 3.4 Event-Interrupt Raw Status Register' },
    { name: 'INTMIS', offset: C.REG_INTMIS, access: 'RO', reset: 0, read: (d) => (d.ris & d.inten) >>> 0, doc: 'TRM 3.4 Interrupt Status Register' },
    { name: 'INTCLR', offset: C.REG_INTCLR, access: 'WO', write: (d, v) => d.clearInterrupts(v), doc: 'TRM 3.4 Interrupt Clear Register (write 1 clears an interrupt)' },
    { name: 'FSRD', offset: C.REG_FSRD, access: 'RO', reset: 0, read: (d) => (d.manager.state === C.ST_FAULTING ? 1 : 0), doc: 'TRM 3.4 Fault Status DMA Manager Register' },
    { name: 'FSRC', offset: C.REG_FSRC, access: 'RO', reset: 0, read: (d) => d.faultingChannels(), doc: 'TRM 3.4 Fault Status DMA Channel Register' },
    { name: 'FTRD', offset: C.REG_FTRD, access: 'RO', reset: 0, read: (d) => d.manager.ftr >>> 0, doc: 'TRM 3.4 Fault Type DMA Manager Register' },
    { name: 'FTR', offset: C.REG_FTR0, count: channels, access: 'RO', reset: 0, read: (d, i) => ch(i, d).ftr >>> 0, doc: 'TRM 3.4 Fault Type DMA Channel Registers' },
    { name: 'CSR', offset: C.REG_CSR0, count: channels, stride: 8, access: 'RO', read: (d, i) => ch(i, d).statusRegister(), doc: 'TRM 3.4 Channel Status Registers' },
    { name: 'CPC', offset: C.REG_CPC0, count: channels, stride: 8, access: 'RO', reset: 0, read: (d, i) => ch(i, d).pc >>> 0, doc: 'TRM 3.4 Channel Program Counter Registers' },
    { name: 'SAR', offset: C.REG_SAR0, count: channels, stride: 0x20, access: 'RO', reset: 0, read: (d, i) => ch(i, d).sar >>> 0, doc: 'TRM 3.4 Source Address Registers' },
    { name: 'DAR', offset: C.REG_DAR0, count: channels, stride: 0x20, access: 'RO', reset: 0, read: (d, i) => ch(i, d).dar >>> 0, doc: 'TRM 3.4 Destination Address Registers' },
    { name: 'CCR', offset: C.REG_CCR0, count: channels, stride: 0x20, access: 'RO', reset: C.CCR_RESET, read: (d, i) => ch(i, d).ccr >>> 0, doc: 'TRM 3.4 Channel Control Registers' },
    { name: 'LC0', offset: C.REG_LC0_0, count: channels, stride: 0x20, access: 'RO', reset: 0, read: (d, i) => ch(i, d).lc0, doc: 'TRM 3.4 Loop Counter 0 Registers' },
    { name: 'LC1', offset: C.REG_LC1_0, count: channels, stride: 0x20, access: 'RO', reset: 0, read: (d, i) => ch(i, d).lc1, doc: 'TRM 3.4 Loop Counter 1 Registers' },
    { name: 'DBGSTATUS', offset: C.REG_DBGSTATUS, access: 'RO', reset: 0, read: (d) => (d.debugBusy ? 1 : 0), doc: 'TRM 3.4 Debug Status Register' },
    { name: 'DBGCMD', offset: C.REG_DBGCMD, access: 'WO', write: (d, v) => debugCommand(d, v), doc: 'TRM 3.4 Debug Command Register' },
    { name: 'DBGINST0', offset: C.REG_DBGINST0, access: 'WO', reset: 0, doc: 'TRM 3.4 Debug Instruction-0 Register' },
    { name: 'DBGINST1', offset: C.REG_DBGINST1, access: 'WO', reset: 0, doc: 'TRM 3.4 Debug Instruction-1 Register' },
    { name: 'CR0', offset: C.REG_CR0, access: 'RO', read: (d) => cr0Value(d.cfg), doc: 'TRM 3.4 Configuration Register 0' },
    { name: 'CR1', offset: C.REG_CR1, access: 'RO', read: (d) => cr1Value(d.cfg), doc: 'TRM 3.4 Configuration Register 1' },
    { name: 'CR2', offset: C.REG_CR2, access: 'RO', read: (d) => d.cfg.bootAddr >>> 0, doc: 'TRM 3.4 Configuration Register 2 (boot address)' },
    { name: 'CR3', offset: C.REG_CR3, access: 'RO', read: (d) => d.cfg.irqNs >>> 0, doc: 'TRM 3.4 Configuration Register 3 (event/irq security)' },
    { name: 'CR4', offset: C.REG_CR4, access: 'RO', read: (d) => d.cfg.periphNs >>> 0, doc: 'TRM 3.4 Configuration Register 4 (peripheral security)' },
    { name: 'CRD', offset: C.REG_CRD, access: 'RO', read: (d) => crdValue(d.cfg), doc: 'TRM 3.4 DMA Configuration Register' },
    { name: 'WD', offset: C.REG_WD, access: 'RW', reset: 0, mask: 1, doc: 'TRM 3.4 Watchdog Register (wd_irq_only)' },
    { name: 'periph_id', offset: C.REG_PERIPH_ID0, count: 4, access: 'RO', read: (d, i) => idValues(d.cfg)[i]!, doc: 'TRM 3.4 Peripheral Identification Registers 0-3' },
    { name: 'pcell_id', offset: C.REG_PCELL_ID0, count: 4, access: 'RO', read: (d, i) => idValues(d.cfg)[4 + i]!, doc: 'TRM 3.4 Component Identification Registers 0-3' },
  ];
}

/** The register map of one DMAC (4 KiB, 32-bit accesses; misaligned accesses RAZ/WI, reported). */
export function pl330RegisterMap(name: string, channels: number, errors: GuestErrorSink | null): RegisterMap<Pl330> {
  return new RegisterMap<Pl330>(name, pl330RegisterSpecs(channels), errors, { size: 0x1000, badSize: 'raz-wi' });
}
