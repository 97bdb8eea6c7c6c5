/**
 * GIC-400 register maps (emulator/regmap.ts): the distributor and the CPU interface, one
 * table each. Offsets, names and access types are those of ARM IHI 0048B (GICv2
 * architecture specification) 4.1.2 "Distributor register map" (Table 4-1) and 4.1.3 "CPU
 * interface register map" (Table 4-2), as implemented by the GIC-400 (ARM DDI 0471B,
 * 3.2 "Distributor register summary" and 3.3 "CPU interface register summary").
 *
 * Behaviour lives in Gic400 (gic.ts); the tables say which register calls what. Every
 * offset not in a table (reserved, IMPLEMENTATION DEFINED, the words of interrupts beyond
 * ITLinesNumber, the GIC-400's PPISR/SPISR status registers, which the model does not
 * implement) answers RAZ/WI and is reported as a guest error (`unmapped-read` /
 * `unmapped-write`), as are writes to read-only and reads of write-only registers.
 * Access sizes: bytes for IPRIORITYR, ITARGETSR, CPENDSGIR and SPENDSGIR (IHI 0048B 4.1.4
 * "GIC register access": these are byte-accessible), aligned words everywhere else; any
 * other access is a `bad-size` guest error answered with BUS_SLAVE_ERROR.
 */
import { SIZE_1, SIZE_4 } from '../../emulator/bus.js';
import type { RegSpec } from '../../emulator/regmap.js';
import type { Gic400 } from './gic.js';

/** the set / clear bit-array registers (IHI 0048B 4.3.4-4.3.10) */
export const GicBits = { Group: 0, Enable: 1, Pending: 2, Active: 3 } as const;
export type GicBits = (typeof GicBits)[keyof typeof GicBits];

const BYTES = SIZE_1 | SIZE_4;
/** identification register values, 0xFD0-0xFFC (DDI 0471B 3.2, "Distributor ID registers") */
const ID_REGS: ReadonlyArray<[string, number]> = [
  ['GICD_ICPIDR4', 0x04], ['GICD_ICPIDR5', 0x00], ['GICD_ICPIDR6', 0x00], ['GICD_ICPIDR7', 0x00],
  ['GICD_ICPIDR0', 0x90], ['GICD_ICPIDR1', 0xb4], ['GICD_ICPIDR2', 0x2b], ['GICD_ICPIDR3', 0x00],
  ['GICD_ICCIDR0', 0x0d], ['GICD_ICCIDR1', 0xf0], ['GICD_ICCIDR2', 0x05], ['GICD_ICCIDR3', 0xb1],
];

/** GICD_IIDR: ARM (0x43B), GIC-400 product 0x02 (DDI 0471B 3.2) */
export const GICD_IIDR_VALUE = 0x0200143b;
/** GICC_IIDR: GIC-400, architecture version 2 (DDI 0471B 3.3) */
export const GICC_IIDR_VALUE = 0x0202143b;

function bitsReg(name: string, offset: number, words: number, which: GicBits, set: boolean, doc: string): RegSpec<Gic400> {
  return {
    name, offset, count: words, access: 'RW', doc,
    read: (g, i) => g.bitsRead(which, i),
    write: (g, v, i) => g.bitsWrite(which, i, v, set),
  };
}

/** The distributor's table for a GIC with `numIrqs` interrupt IDs. */
export function distributorSpecs(numIrqs: number): RegSpec<Gic400>[] {
  // one table per configuration, shared by every GIC (its layout is built once: emulator/regmap.ts)
  let t = distributorTables.get(numIrqs);
  if (t === undefined) distributorTables.set(numIrqs, (t = buildDistributorSpecs(numIrqs)));
  return t;
}

const distributorTables = new Map<number, RegSpec<Gic400>[]>();

function buildDistributorSpecs(numIrqs: number): RegSpec<Gic400>[] {
  const words = Math.ceil(numIrqs / 32);
  const quads = Math.ceil(numIrqs / 4); // 1020 IDs: 255 words, 0x7FC / 0xBFC stay reserved
  return [
    { name: 'GICD_CTLR', offset: 0x000, access: 'RW', mask: 1, reset: 0, write: (g, v) => g.setDistCtlr(v), doc: 'IHI 0048B 4.3.1: Enable (bit 0); no Security Extensions' },
    { name: 'GICD_TYPER', offset: 0x004, access: 'RO', read: (g) => g.itLinesNumber & 0x1f, doc: 'IHI 0048B 4.3.2: ITLinesNumber; CPUNumber 0, SecurityExtn 0' },
    { name: 'GICD_IIDR', offset: 0x008, access: 'RO', reset: GICD_IIDR_VALUE, doc: 'IHI 0048B 4.3.3, DDI 0471B 3.2' },
    bitsReg('GICD_IGROUPR', 0x080, words, GicBits.Group, true, 'IHI 0048B 4.3.4: stored, no effect without Security Extensions'),
    bitsReg('GICD_ISENABLER', 0x100, words, GicBits.Enable, true, 'IHI 0048B 4.3.5'),
    bitsReg('GICD_ICENABLER', 0x180, words, GicBits.Enable, false, 'IHI 0048B 4.3.6'),
    bitsReg('GICD_ISPENDR', 0x200, words, GicBits.Pending, true, 'IHI 0048B 4.3.7: SGI bits WI (SPENDSGIR sets those)'),
    bitsReg('GICD_ICPENDR', 0x280, words, GicBits.Pending, false, 'IHI 0048B 4.3.8: SGI bits WI'),
    bitsReg('GICD_ISACTIVER', 0x300, words, GicBits.Active, true, 'IHI 0048B 4.3.9'),
    bitsReg('GICD_ICACTIVER', 0x380, words, GicBits.Active, false, 'IHI 0048B 4.3.10'),
    {
      name: 'GICD_IPRIORITYR', offset: 0x400, count: quads, access: 'RW', sizes: BYTES,
      read: (g, i, _b, byte, size) => g.bytesRead(false, i * 4 + byte, size),
      write: (g, v, i, _b, byte, size) => g.bytesWrite(false, i * 4 + byte, size, v),
      doc: 'IHI 0048B 4.3.11; 5 implemented priority bits (DDI 0471B 1.3 / 3.2): bits [2:0] RAZ/WI',
    },
    {
      name: 'GICD_ITARGETSR', offset: 0x800, count: quads, access: 'RW', sizes: BYTES,
      read: (g, i, _b, byte, size) => g.bytesRead(true, i * 4 + byte, size),
      write: (g, v, i, _b, byte, size) => g.bytesWrite(true, i * 4 + byte, size, v),
      doc: 'IHI 0048B 4.3.12: ITARGETSR0-7 (SGIs, PPIs) read-only, reading the CPU\'s own bit; one CPU: SPI bits 1-7 RAZ/WI',
    },
    {
      name: 'GICD_ICFGR', offset: 0xc00, count: Math.ceil(numIrqs / 16), access: 'RW',
      read: (g, i) => g.cfgRead(i),
      write: (g, v, i) => g.cfgWrite(i, v),
      doc: 'IHI 0048B 4.3.13: ICFGR0 (SGIs) read-only, edge; Int_config bit 0 reserved',
    },
    { name: 'GICD_SGIR', offset: 0xf00, access: 'WO', write: (g, v) => g.sgir(v), doc: 'IHI 0048B 4.3.15' },
    { name: 'GICD_CPENDSGIR', offset: 0xf10, count: 4, access: 'RW', sizes: BYTES, read: () => 0, write: () => undefined, doc: 'IHI 0048B 4.3.16: the model keeps SGI pending state per ID, not per source CPU: RAZ/WI' },
    { name: 'GICD_SPENDSGIR', offset: 0xf20, count: 4, access: 'RW', sizes: BYTES, read: () => 0, write: () => undefined, doc: 'IHI 0048B 4.3.17: RAZ/WI as CPENDSGIR; SGIs are raised through GICD_SGIR' },
    ...ID_REGS.map(([name, reset], k): RegSpec<Gic400> => ({ name, offset: 0xfd0 + 4 * k, access: 'RO', reset, doc: 'IHI 0048B 4.3.18, DDI 0471B 3.2' })),
  ];
}

/** The CPU interface's table (8 KiB: GICC_DIR sits in the second 4 KiB page). */
export function cpuInterfaceSpecs(): RegSpec<Gic400>[] {
  return (cpuInterfaceTable ??= buildCpuInterfaceSpecs());
}

// host-only: the register table, built once; it holds no device state
let cpuInterfaceTable: RegSpec<Gic400>[] | undefined;

function buildCpuInterfaceSpecs(): RegSpec<Gic400>[] {
  return [
    { name: 'GICC_CTLR', offset: 0x000, access: 'RW', mask: 1 | (1 << 9), reset: 0, write: (g, v) => g.setCpuCtlr(v), doc: 'IHI 0048B 4.4.1: Enable (bit 0), EOImode (bit 9)' },
    { name: 'GICC_PMR', offset: 0x004, access: 'RW', mask: 0xf8, reset: 0, write: (g, v) => g.setPmr(v), doc: 'IHI 0048B 4.4.2: 5 implemented bits' },
    { name: 'GICC_BPR', offset: 0x008, access: 'RW', mask: 7, reset: 2, write: (g, v) => g.setBpr(v), doc: 'IHI 0048B 4.4.3: minimum (and reset) value 2 with 5 priority bits' },
    { name: 'GICC_IAR', offset: 0x00c, access: 'RO', read: (g) => g.acknowledge(), doc: 'IHI 0048B 4.4.4: acknowledge' },
    { name: 'GICC_EOIR', offset: 0x010, access: 'WO', write: (g, v) => g.endOfInterrupt(v), doc: 'IHI 0048B 4.4.5' },
    { name: 'GICC_RPR', offset: 0x014, access: 'RO', read: (g) => g.runningPriority, doc: 'IHI 0048B 4.4.6' },
    { name: 'GICC_HPPIR', offset: 0x018, access: 'RO', read: (g) => g.hppir(), doc: 'IHI 0048B 4.4.7' },
    { name: 'GICC_ABPR', offset: 0x01c, access: 'RW', read: () => 0, write: () => undefined, doc: 'IHI 0048B 4.4.8: group 1 binary point; no group 1 here: RAZ/WI' },
    { name: 'GICC_AIAR', offset: 0x020, access: 'RO', read: () => 1023, doc: 'IHI 0048B 4.4.9: group 1 alias; no group 1 interrupts: spurious' },
    { name: 'GICC_AEOIR', offset: 0x024, access: 'WO', write: () => undefined, doc: 'IHI 0048B 4.4.10: no group 1 interrupts: ignored' },
    { name: 'GICC_AHPPIR', offset: 0x028, access: 'RO', read: () => 1023, doc: 'IHI 0048B 4.4.11' },
    { name: 'GICC_APR0', offset: 0x0d0, access: 'RW', read: () => 0, write: () => undefined, doc: 'IHI 0048B 4.4.12 (DDI 0471B 3.3: APR0 only): active priorities kept internally, RAZ/WI' },
    { name: 'GICC_NSAPR0', offset: 0x0e0, access: 'RW', read: () => 0, write: () => undefined, doc: 'IHI 0048B 4.4.13: RAZ/WI' },
    { name: 'GICC_IIDR', offset: 0x0fc, access: 'RO', reset: GICC_IIDR_VALUE, doc: 'IHI 0048B 4.4.14, DDI 0471B 3.3' },
    { name: 'GICC_DIR', offset: 0x1000, access: 'WO', write: (g, v) => g.deactivateReg(v), doc: 'IHI 0048B 4.4.15: deactivates only with GICC_CTLR.EOImode set' },
  ];
}
