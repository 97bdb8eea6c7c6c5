import { BUS_SLAVE_ERROR, SIZE_1, SIZE_4, type MmioDevice } from '../../emulator/bus.js';
import { IrqLine, type IrqSink } from '../../emulator/irq.js';
import { RegisterMap } from '../../emulator/regmap.js';
import type { Tracer } from '../../emulator/trace.js';
import { cpuInterfaceSpecs, distributorSpecs, GicBits } from './regs.js';

/**
 * GIC-400 (GICv2) model: one distributor and one CPU interface (CPU 0).
 *
 * Interrupt IDs 0-15 are SGIs, 16-31 PPIs, 32.. SPIs. Per interrupt the model keeps:
 * enable, a pending latch (set by a rising edge on an edge-configured input, by
 * ISPENDR or SGIR; cleared by ICPENDR and by acknowledge), the input level, active,
 * edge/level configuration, priority and (SPIs) the CPU target mask.
 *
 * Pending state: an interrupt is pending when its latch is set, or when it is
 * level-sensitive and its input is asserted. Consequences (GICv2 semantics):
 *  - a level interrupt acknowledged while its input is still asserted is "active and
 *    pending"; it is not signalled again while active, and after EOIR deactivates it, it
 *    is signalled again if the input is still asserted (the EOI re-pend);
 *  - ICPENDR cannot clear the pending state of a level interrupt whose input is high;
 *  - an edge interrupt latches on the rising edge; lowering the input does not clear it.
 *
 * Signalling: the output (nIRQ towards the CPU) is asserted while GICD_CTLR.Enable and
 * GICC_CTLR.Enable are set and the highest-priority enabled, pending, not active
 * interrupt targeted at CPU 0 has a priority numerically lower than GICC_PMR and a
 * group priority lower than the running priority. Ties go to the lowest ID.
 *
 * Choices (documented in docs/IRQ.md):
 *  - Security Extensions are not modelled: every access sees one register bank,
 *    IGROUPR is stored but has no effect, TYPER.SecurityExtn reads 0.
 *  - 5 priority bits are implemented (as GIC-400): IPRIORITYR/PMR bits [2:0] RAZ/WI.
 *  - ICFGR for SGIs reads 0xAAAAAAAA (edge) and ignores writes; PPI configuration is
 *    writable; only bit 1 of each field is stored.
 *  - Only CPU 0 exists: ITARGETSR for SGIs/PPIs reads 0x01, SPI target bits 1-7 RAZ/WI;
 *    an SPI whose target bit 0 is clear is never signalled.
 *  - Registers are declared in regs.ts (one RegisterMap table per interface, IHI 0048B
 *    4.1.2/4.1.3): byte access is accepted for IPRIORITYR, ITARGETSR, CPENDSGIR/SPENDSGIR;
 *    any other distributor register, and every CPU interface register, needs an aligned
 *    word access (otherwise BUS_SLAVE_ERROR). Reserved and unimplemented offsets are
 *    RAZ/WI; they, writes to read-only registers (or read-only parts: ITARGETSR0-7,
 *    ICFGR0) and reads of write-only ones are reported as guest errors to the tracer.
 *  - CPENDSGIR/SPENDSGIR (0xF10-0xF2C) are RAZ/WI; SGIs are raised through SGIR.
 *  - GICC_CTLR bit 9 (EOImode) is honoured: EOIR then only drops the running priority
 *    and GICC_DIR (0x1000) deactivates.
 */

export const GIC_SPURIOUS = 1023;

// distributor offsets
export const GICD_CTLR = 0x000;
export const GICD_TYPER = 0x004;
export const GICD_IIDR = 0x008;
export const GICD_IGROUPR = 0x080;
export const GICD_ISENABLER = 0x100;
export const GICD_ICENABLER = 0x180;
export const GICD_ISPENDR = 0x200;
export const GICD_ICPENDR = 0x280;
export const GICD_ISACTIVER = 0x300;
export const GICD_ICACTIVER = 0x380;
export const GICD_IPRIORITYR = 0x400;
export const GICD_ITARGETSR = 0x800;
export const GICD_ICFGR = 0xc00;
export const GICD_SGIR = 0xf00;
export const GICD_ICPIDR2 = 0xfe8;

// CPU interface offsets
export const GICC_CTLR = 0x000;
export const GICC_PMR = 0x004;
export const GICC_BPR = 0x008;
export const GICC_IAR = 0x00c;
export const GICC_EOIR = 0x010;
export const GICC_RPR = 0x014;
export const GICC_HPPIR = 0x018;
export const GICC_IIDR = 0x0fc;
export const GICC_DIR = 0x1000;

const PRIO_MASK = 0xf8; // 5 implemented priority bits
const IDLE_PRIORITY = 0xff;

export interface GicOptions {
  /** number of interrupt IDs (multiple of 32, 32..1020 rounded up to 1024); default 160 */
  numIrqs?: number;
  /** name used for traces and the output line */
  name?: string;
  tracer?: Tracer | null;
}

/** Statistics (tests, benchmarks). */
export interface GicStats {
  acks: number;
  spurious: number;
  eois: number;
}

export class Gic400 {
  readonly name: string;
  /** number of interrupt IDs implemented (32 * (ITLinesNumber + 1)) */
  readonly numIrqs: number;
  readonly itLinesNumber: number;
  /** the interrupt output towards CPU 0 */
  readonly output: IrqLine;
  readonly distributor: MmioDevice;
  readonly cpuInterface: MmioDevice;
  readonly stats: GicStats = { acks: 0, spurious: 0, eois: 0 };

  private readonly tracer: Tracer | null;
  private readonly enabled: Uint8Array;
  private readonly latch: Uint8Array;
  private readonly level: Uint8Array;
  private readonly active: Uint8Array;
  private readonly edge: Uint8Array;
  private readonly prio: Uint8Array;
  private readonly targets: Uint8Array;
  private readonly group: Uint8Array;
  /** the register tables (regs.ts); plain registers (CTLRs, PMR, BPR, IIDRs) live in their stores */
  readonly dmap: RegisterMap<Gic400>;
  readonly cmap: RegisterMap<Gic400>;
  private readonly sDistCtlr: number;
  private readonly sCpuCtlr: number;
  private readonly sPmr: number;
  private readonly sBpr: number;
  /** acknowledged interrupts whose priority has not been dropped yet (ids, oldest first) */
  private readonly activeIds: number[] = [];
  private readonly activePrios: number[] = [];

  constructor(opts: GicOptions = {}) {
    const requested = opts.numIrqs ?? 160;
    if (!Number.isInteger(requested) || requested < 32 || requested > 1020) {
      throw new RangeError(`GIC: number of interrupts ${requested} outside 32..1020`);
    }
    this.itLinesNumber = Math.ceil(requested / 32) - 1;
    // IDs 1020-1023 are special: a 1024-line configuration implements 1020 IDs
    this.numIrqs = Math.min(32 * (this.itLinesNumber + 1), 1020);
    this.name = opts.name ?? 'gic';
    this.tracer = opts.tracer ?? null;
    const n = this.numIrqs;
    this.enabled = new Uint8Array(n);
    this.latch = new Uint8Array(n);
    this.level = new Uint8Array(n);
    this.active = new Uint8Array(n);
    this.edge = new Uint8Array(n);
    this.prio = new Uint8Array(n);
    this.targets = new Uint8Array(n);
    this.group = new Uint8Array(n);
    this.output = new IrqLine(`${this.name}.irq-out`, this.tracer);
    const dn = `${this.name}.distributor`;
    const cn = `${this.name}.cpu-interface`;
    this.dmap = new RegisterMap<Gic400>(dn, distributorSpecs(n), this.tracer, { size: 0x1000, sizes: SIZE_4 });
    this.cmap = new RegisterMap<Gic400>(cn, cpuInterfaceSpecs(), this.tracer, { size: 0x2000, sizes: SIZE_4 });
    this.sDistCtlr = this.dmap.slot('GICD_CTLR');
    this.sCpuCtlr = this.cmap.slot('GICC_CTLR');
    this.sPmr = this.cmap.slot('GICC_PMR');
    this.sBpr = this.cmap.slot('GICC_BPR');
    const dmap = this.dmap;
    this.distributor = {
      name: dn,
      accessSizes: SIZE_1 | SIZE_4,
      read: (off, size, attrs) => {
        // a byte access where no byte-accessible register decodes: SLVERR, as any register refusing bytes
        if (size === 1 && dmap.decode(off) === null) return this.unmappedByte(dmap, off, null);
        return dmap.read(this, off, size, attrs);
      },
      write: (off, size, value, attrs) => {
        if (size === 1 && dmap.decode(off) === null) return this.unmappedByte(dmap, off, value);
        return dmap.write(this, off, size, value, attrs);
      },
      regName: (off) => dmap.nameAt(off),
    };
    const cmap = this.cmap;
    this.cpuInterface = {
      name: cn,
      accessSizes: SIZE_4,
      read: (off, size, attrs) => cmap.read(this, off, size, attrs),
      write: (off, size, value, attrs) => cmap.write(this, off, size, value, attrs),
      regName: (off) => cmap.nameAt(off),
    };
    this.reset();
    // every field is readonly: frozen, so that the fuzzer's snapshot (tools/fuzz/snapshot.ts) need not record it
    Object.freeze(this);
  }

  /** Power-on state. Input levels are kept (they belong to the devices). */
  reset(): void {
    this.enabled.fill(0);
    this.latch.fill(0);
    this.active.fill(0);
    this.edge.fill(0);
    this.prio.fill(0);
    this.group.fill(0);
    this.targets.fill(0);
    for (let i = 0; i < 16; i++) this.edge[i] = 1;
    this.dmap.reset();
    this.cmap.reset();
    this.activeIds.length = 0;
    this.activePrios.length = 0;
    this.update();
  }

  // ---------------------------------------------------------------- inputs

  /** The input sink of interrupt `id` (16..numIrqs-1: PPIs and SPIs). */
  input(id: number): IrqSink {
    if (!Number.isInteger(id) || id < 16 || id >= this.numIrqs) {
      throw new RangeError(`${this.name}: no interrupt input for ID ${id} (PPIs 16-31, SPIs 32-${this.numIrqs - 1})`);
    }
    return (lvl: boolean) => this.setInput(id, lvl);
  }

  /** Drive the input of interrupt `id`. */
  setInput(id: number, lvl: boolean): void {
    const v = lvl ? 1 : 0;
    if (this.level[id] === v) return;
    this.level[id] = v;
    if (v === 1 && this.edge[id] === 1) this.latch[id] = 1;
    const tr = this.tracer;
    if (tr !== null && tr.enabled) tr.emit(this.name, 'gic-input', { id, level: v });
    this.update();
  }

  // ---------------------------------------------------------------- state queries (tests, debug)

  isPending(id: number): boolean {
    return this.latch[id] === 1 || (this.edge[id] === 0 && this.level[id] === 1);
  }
  isActive(id: number): boolean {
    return this.active[id] === 1;
  }
  isEnabled(id: number): boolean {
    return this.enabled[id] === 1;
  }
  isEdge(id: number): boolean {
    return this.edge[id] === 1;
  }
  priorityOf(id: number): number {
    return this.prio[id]!;
  }
  get runningPriority(): number {
    const n = this.activePrios.length;
    return n === 0 ? IDLE_PRIORITY : this.activePrios[n - 1]!;
  }

  // ---------------------------------------------------------------- core logic

  private get distCtlr(): number {
    return this.dmap.store[this.sDistCtlr]!;
  }
  private get cpuCtlr(): number {
    return this.cmap.store[this.sCpuCtlr]!;
  }
  private get pmr(): number {
    return this.cmap.store[this.sPmr]!;
  }
  private get bpr(): number {
    return this.cmap.store[this.sBpr]!;
  }

  private unmappedByte(map: RegisterMap<Gic400>, off: number, value: number | null): number {
    this.tracer?.guestError(map.device, value === null ? 'unmapped-read' : 'unmapped-write', off, null, value);
    return BUS_SLAVE_ERROR;
  }

  private groupPrio(p: number): number {
    // BPR = n: the group priority is bits [7:n+1]
    return p & ((0xff << (this.bpr + 1)) & 0xff);
  }

  /** highest-priority enabled, pending, inactive interrupt for CPU 0, or -1 */
  private highestPending(): number {
    let best = -1;
    let bestPrio = 0x100;
    const n = this.numIrqs;
    const en = this.enabled;
    for (let id = 0; id < n; id++) {
      if (en[id] === 0 || this.active[id] === 1) continue;
      if (this.latch[id] === 0 && (this.edge[id] === 1 || this.level[id] === 0)) continue;
      if (id >= 32 && (this.targets[id]! & 1) === 0) continue;
      const p = this.prio[id]!;
      if (p < bestPrio) {
        bestPrio = p;
        best = id;
      }
    }
    return best;
  }

  /** the interrupt that would be signalled / acknowledged now, or -1 */
  private signallable(): number {
    if ((this.distCtlr & 1) === 0 || (this.cpuCtlr & 1) === 0) return -1;
    const id = this.highestPending();
    if (id < 0) return -1;
    const p = this.prio[id]!;
    if (p >= this.pmr) return -1;
    if (this.groupPrio(p) >= this.runningGroupPriority()) return -1;
    return id;
  }

  private runningGroupPriority(): number {
    const n = this.activePrios.length;
    return n === 0 ? 0x100 : this.groupPrio(this.activePrios[n - 1]!);
  }

  private update(): void {
    this.output.set(this.signallable() >= 0);
  }

  /** GICC_IAR read: acknowledge. */
  acknowledge(): number {
    const id = this.signallable();
    const tr = this.tracer;
    if (id < 0) {
      this.stats.spurious++;
      if (tr !== null && tr.enabled) tr.emit(this.name, 'gic-spurious', {});
      return GIC_SPURIOUS;
    }
    this.stats.acks++;
    this.latch[id] = 0;
    this.active[id] = 1;
    this.activeIds.push(id);
    this.activePrios.push(this.prio[id]!);
    if (tr !== null && tr.enabled) tr.emit(this.name, 'gic-ack', { id, prio: this.prio[id]! });
    this.update();
    // SGIs carry the requesting CPU in bits [12:10]: always CPU 0 here
    return id;
  }

  /** GICC_EOIR write. */
  endOfInterrupt(value: number): void {
    const id = value & 0x3ff;
    if (id >= this.numIrqs) return; // 1020-1023 (spurious) and unimplemented IDs: ignored
    this.stats.eois++;
    // priority drop: the GICv2 rules require EOIs in reverse acknowledge order;
    // an out-of-order EOI (UNPREDICTABLE) drops that interrupt's entry wherever it is
    const k = this.activeIds.lastIndexOf(id);
    if (k >= 0) {
      this.activeIds.splice(k, 1);
      this.activePrios.splice(k, 1);
    }
    if ((this.cpuCtlr & (1 << 9)) === 0) this.active[id] = 0;
    const tr = this.tracer;
    if (tr !== null && tr.enabled) tr.emit(this.name, 'gic-eoi', { id });
    this.update();
  }

  // ---------------------------------------------------------------- register behaviour
  // Called by the register tables (regs.ts); `i` is the register's index in its array.

  /** word `w` of a set/clear bit array (IHI 0048B 4.3.4-4.3.10); pending includes asserted level inputs */
  bitsRead(which: GicBits, w: number): number {
    const arr = which === GicBits.Group ? this.group : which === GicBits.Enable ? this.enabled : which === GicBits.Active ? this.active : null;
    let v = 0;
    const base = w * 32;
    const end = Math.min(32, this.numIrqs - base);
    for (let b = 0; b < end; b++) {
      const id = base + b;
      if (arr !== null ? arr[id] === 1 : this.isPending(id)) v |= 1 << b;
    }
    return v >>> 0;
  }

  /** IGROUPR stores every bit; the set/clear registers act on the bits written as 1 */
  bitsWrite(which: GicBits, w: number, value: number, set: boolean): void {
    const base = w * 32;
    const end = Math.min(32, this.numIrqs - base);
    for (let b = 0; b < end; b++) {
      const id = base + b;
      const bit = (value >>> b) & 1;
      if (which === GicBits.Group) this.group[id] = bit;
      else if (bit === 0) continue;
      else if (which === GicBits.Enable) this.enabled[id] = set ? 1 : 0;
      else if (which === GicBits.Active) this.active[id] = set ? 1 : 0;
      else if (id >= 16) this.latch[id] = set ? 1 : 0; // SGI pending bits: WI (IHI 0048B 4.3.7/4.3.8)
    }
    this.update();
  }

  /** `size` bytes of IPRIORITYR (targets false) or ITARGETSR (targets true) from byte `b` */
  bytesRead(targets: boolean, b: number, size: number): number {
    let v = 0;
    for (let k = 0; k < size; k++) v |= (targets ? this.targetByte(b + k) : this.prioByte(b + k)) << (8 * k);
    return v >>> 0;
  }

  bytesWrite(targets: boolean, b: number, size: number, value: number): void {
    if (targets && b < 32) {
      // ITARGETSR0-7 (SGIs, PPIs) are read-only (IHI 0048B 4.3.12)
      this.reportRo(this.dmap, GICD_ITARGETSR + b, value);
      return;
    }
    for (let k = 0; k < size; k++) {
      const id = b + k;
      const x = (value >>> (8 * k)) & 0xff;
      if (targets) {
        if (id >= 32 && id < this.numIrqs) this.targets[id] = x & 0x01;
      } else if (id < this.numIrqs) this.prio[id] = x & PRIO_MASK;
    }
    this.update();
  }

  private prioByte(id: number): number {
    return id < this.numIrqs ? this.prio[id]! : 0;
  }

  private targetByte(id: number): number {
    if (id >= this.numIrqs) return 0;
    return id < 32 ? 0x01 : this.targets[id]!;
  }

  /** GICD_ICFGR<w>: bit 1 of each 2-bit field is the edge bit (IHI 0048B 4.3.13) */
  cfgRead(w: number): number {
    let v = 0;
    const base = w * 16;
    for (let i = 0; i < 16; i++) {
      const id = base + i;
      if (id < this.numIrqs && this.edge[id] === 1) v |= 2 << (2 * i);
    }
    return v >>> 0;
  }

  cfgWrite(w: number, value: number): void {
    if (w === 0) {
      this.reportRo(this.dmap, GICD_ICFGR, value); // SGIs: always edge, ICFGR0 read-only
      return;
    }
    const base = w * 16;
    for (let i = 0; i < 16; i++) {
      const id = base + i;
      if (id < this.numIrqs) this.edge[id] = (value >>> (2 * i + 1)) & 1;
    }
    this.update();
  }

  /** GICD_SGIR (IHI 0048B 4.3.15): filter 0 = the CPUs in the list, 1 = all but the requester (none here), 2 = the requester */
  sgir(value: number): void {
    const filter = (value >>> 24) & 3;
    const list = (value >>> 16) & 0xff;
    if ((filter === 0 && (list & 1) !== 0) || filter === 2) this.latch[value & 0xf] = 1;
    this.update();
  }

  setDistCtlr(v: number): void {
    this.dmap.store[this.sDistCtlr] = v & 1;
    this.update();
  }

  setCpuCtlr(v: number): void {
    this.cmap.store[this.sCpuCtlr] = v & ((1 << 9) | 1);
    this.update();
  }

  setPmr(v: number): void {
    this.cmap.store[this.sPmr] = v & PRIO_MASK;
    this.update();
  }

  setBpr(v: number): void {
    this.cmap.store[this.sBpr] = Math.max(2, v & 7);
    this.update();
  }

  /**
   * GICC_HPPIR: the highest-priority pending interrupt for this CPU, whether or not it beats
   * PMR and the running priority (1023 when there is none or the distributor is off)
   */
  hppir(): number {
    const id = (this.distCtlr & 1) !== 0 ? this.highestPending() : -1;
    return id < 0 ? GIC_SPURIOUS : id;
  }

  /** GICC_DIR: deactivates only in EOImode 1 (IHI 0048B 4.4.15) */
  deactivateReg(value: number): void {
    if ((this.cpuCtlr & (1 << 9)) === 0) return;
    const id = value & 0x3ff;
    if (id >= this.numIrqs) return;
    this.active[id] = 0;
    this.update();
  }

  /** a write to a read-only part of a register the table declares RW: WI, reported */
  private reportRo(map: RegisterMap<Gic400>, off: number, value: number): void {
    this.tracer?.guestError(map.device, 'read-only-write', off, map.nameAt(off), value >>> 0);
  }
}
