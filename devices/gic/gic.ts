import type { Attrs } from '../../emulator/attrs.js';
import { BUS_OK, BUS_SLAVE_ERROR, SIZE_1, SIZE_4, type MmioDevice } from '../../emulator/bus.js';
import { IrqLine, type IrqSink } from '../../emulator/irq.js';
import type { Tracer } from '../../emulator/trace.js';

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
 *  - Byte access is accepted for IPRIORITYR, ITARGETSR, CPENDSGIR/SPENDSGIR; any other
 *    distributor register, and every CPU interface register, needs an aligned word
 *    access (otherwise BUS_SLAVE_ERROR). Unimplemented offsets are RAZ/WI.
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

const GICD_IIDR_VALUE = 0x0200143b; // ARM, GIC-400 r0p0-style identification
const GICC_IIDR_VALUE = 0x0202143b;
const PRIO_MASK = 0xf8; // 5 implemented priority bits
const IDLE_PRIORITY = 0xff;

/** ID registers 0xFD0-0xFFC (PIDR4-7, PIDR0-3, CIDR0-3) */
const ID_REGS: Record<number, number> = {
  0xfd0: 0x04, 0xfd4: 0x00, 0xfd8: 0x00, 0xfdc: 0x00,
  0xfe0: 0x90, 0xfe4: 0xb4, 0xfe8: 0x2b, 0xfec: 0x00,
  0xff0: 0x0d, 0xff4: 0xf0, 0xff8: 0x05, 0xffc: 0xb1,
};

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
  private distCtlr = 0;
  private cpuCtlr = 0;
  private pmr = 0;
  private bpr = 2;
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
    this.distributor = {
      name: `${this.name}.distributor`,
      accessSizes: SIZE_1 | SIZE_4,
      read: (off, size, attrs) => this.distRead(off, size, attrs),
      write: (off, size, value, attrs) => this.distWrite(off, size, value, attrs),
    };
    this.cpuInterface = {
      name: `${this.name}.cpu-interface`,
      accessSizes: SIZE_4,
      read: (off, _size, _attrs) => this.cpuRead(off),
      write: (off, _size, value, _attrs) => this.cpuWrite(off, value),
    };
    this.reset();
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
    this.distCtlr = 0;
    this.cpuCtlr = 0;
    this.pmr = 0;
    this.bpr = 2;
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

  private deactivate(value: number): void {
    const id = value & 0x3ff;
    if (id >= this.numIrqs) return;
    this.active[id] = 0;
    this.update();
  }

  // ---------------------------------------------------------------- distributor registers

  private bitsRead(arr: Uint8Array, base: number, set?: (id: number) => boolean): number {
    let v = 0;
    const n = this.numIrqs;
    for (let b = 0; b < 32; b++) {
      const id = base + b;
      if (id >= n) break;
      if (set ? set(id) : arr[id] === 1) v |= 1 << b;
    }
    return v >>> 0;
  }

  private distRead(off: number, size: number, _attrs: Attrs): number {
    if (size === 1) {
      if (off >= GICD_IPRIORITYR && off < GICD_IPRIORITYR + 0x400) return this.prioByte(off - GICD_IPRIORITYR);
      if (off >= GICD_ITARGETSR && off < GICD_ITARGETSR + 0x400) return this.targetByte(off - GICD_ITARGETSR);
      if (off >= 0xf10 && off < 0xf30) return 0;
      return BUS_SLAVE_ERROR;
    }
    if ((off & 3) !== 0) return BUS_SLAVE_ERROR;
    if (off >= GICD_IPRIORITYR && off < GICD_IPRIORITYR + 0x400) {
      const b = off - GICD_IPRIORITYR;
      return (this.prioByte(b) | (this.prioByte(b + 1) << 8) | (this.prioByte(b + 2) << 16) | (this.prioByte(b + 3) << 24)) >>> 0;
    }
    if (off >= GICD_ITARGETSR && off < GICD_ITARGETSR + 0x400) {
      const b = off - GICD_ITARGETSR;
      return (this.targetByte(b) | (this.targetByte(b + 1) << 8) | (this.targetByte(b + 2) << 16) | (this.targetByte(b + 3) << 24)) >>> 0;
    }
    if (off >= GICD_ICFGR && off < GICD_ICFGR + 0x100) {
      const base = ((off - GICD_ICFGR) >> 2) * 16;
      let v = 0;
      for (let i = 0; i < 16; i++) {
        const id = base + i;
        if (id < this.numIrqs && this.edge[id] === 1) v |= 2 << (2 * i);
      }
      return v >>> 0;
    }
    const word = (off & 0x7f) >> 2;
    const base = word * 32;
    switch (off & ~0x7f) {
      case GICD_IGROUPR:
        return this.bitsRead(this.group, base);
      case GICD_ISENABLER:
      case GICD_ICENABLER:
        return this.bitsRead(this.enabled, base);
      case GICD_ISPENDR:
      case GICD_ICPENDR:
        return this.bitsRead(this.latch, base, (id) => this.isPending(id));
      case GICD_ISACTIVER:
      case GICD_ICACTIVER:
        return this.bitsRead(this.active, base);
      default:
        break;
    }
    switch (off) {
      case GICD_CTLR:
        return this.distCtlr;
      case GICD_TYPER:
        return this.itLinesNumber & 0x1f; // CPUNumber 0 (one CPU), SecurityExtn 0
      case GICD_IIDR:
        return GICD_IIDR_VALUE;
      default:
        return ID_REGS[off] ?? 0;
    }
  }

  private prioByte(id: number): number {
    return id < this.numIrqs ? this.prio[id]! : 0;
  }

  private targetByte(id: number): number {
    if (id >= this.numIrqs) return 0;
    return id < 32 ? 0x01 : this.targets[id]!;
  }

  private distWrite(off: number, size: number, value: number, _attrs: Attrs): number {
    if (size === 1) {
      if (off >= GICD_IPRIORITYR && off < GICD_IPRIORITYR + 0x400) this.setPrio(off - GICD_IPRIORITYR, value & 0xff);
      else if (off >= GICD_ITARGETSR && off < GICD_ITARGETSR + 0x400) this.setTarget(off - GICD_ITARGETSR, value & 0xff);
      else if (off >= 0xf10 && off < 0xf30) return BUS_OK;
      else return BUS_SLAVE_ERROR;
      this.update();
      return BUS_OK;
    }
    if ((off & 3) !== 0) return BUS_SLAVE_ERROR;
    if (off >= GICD_IPRIORITYR && off < GICD_IPRIORITYR + 0x400) {
      const b = off - GICD_IPRIORITYR;
      for (let i = 0; i < 4; i++) this.setPrio(b + i, (value >>> (8 * i)) & 0xff);
      this.update();
      return BUS_OK;
    }
    if (off >= GICD_ITARGETSR && off < GICD_ITARGETSR + 0x400) {
      const b = off - GICD_ITARGETSR;
      for (let i = 0; i < 4; i++) this.setTarget(b + i, (value >>> (8 * i)) & 0xff);
      this.update();
      return BUS_OK;
    }
    if (off >= GICD_ICFGR && off < GICD_ICFGR + 0x100) {
      const base = ((off - GICD_ICFGR) >> 2) * 16;
      if (base < 16) return BUS_OK; // SGIs: always edge
      for (let i = 0; i < 16; i++) {
        const id = base + i;
        if (id < this.numIrqs) this.edge[id] = (value >>> (2 * i + 1)) & 1;
      }
      this.update();
      return BUS_OK;
    }
    const word = (off & 0x7f) >> 2;
    const base = word * 32;
    const n = this.numIrqs;
    const region = off & ~0x7f;
    if (region >= GICD_IGROUPR && region <= GICD_ICACTIVER) {
      for (let b = 0; b < 32; b++) {
        const id = base + b;
        if (id >= n) break;
        const bit = (value >>> b) & 1;
        if (region === GICD_IGROUPR) {
          this.group[id] = bit;
          continue;
        }
        if (bit === 0) continue;
        switch (region) {
          case GICD_ISENABLER: this.enabled[id] = 1; break;
          case GICD_ICENABLER: this.enabled[id] = 0; break;
          case GICD_ISPENDR: if (id >= 16) this.latch[id] = 1; break;
          case GICD_ICPENDR: if (id >= 16) this.latch[id] = 0; break;
          case GICD_ISACTIVER: this.active[id] = 1; break;
          case GICD_ICACTIVER: this.active[id] = 0; break;
          default: break;
        }
      }
      this.update();
      return BUS_OK;
    }
    switch (off) {
      case GICD_CTLR:
        this.distCtlr = value & 1;
        break;
      case GICD_SGIR: {
        const filter = (value >>> 24) & 3;
        const list = (value >>> 16) & 0xff;
        const sgi = value & 0xf;
        // 0: CPUs in the list; 1: all but the requester (none here); 2: the requester
        if ((filter === 0 && (list & 1) !== 0) || filter === 2) this.latch[sgi] = 1;
        break;
      }
      default:
        return BUS_OK; // RO / reserved: WI
    }
    this.update();
    return BUS_OK;
  }

  private setPrio(id: number, v: number): void {
    if (id < this.numIrqs) this.prio[id] = v & PRIO_MASK;
  }

  private setTarget(id: number, v: number): void {
    if (id >= 32 && id < this.numIrqs) this.targets[id] = v & 0x01;
  }

  // ---------------------------------------------------------------- CPU interface registers

  private cpuRead(off: number): number {
    if ((off & 3) !== 0) return BUS_SLAVE_ERROR;
    switch (off) {
      case GICC_CTLR: return this.cpuCtlr;
      case GICC_PMR: return this.pmr;
      case GICC_BPR: return this.bpr;
      case GICC_IAR: return this.acknowledge();
      case GICC_RPR: return this.runningPriority;
      case GICC_HPPIR: {
        // the highest-priority pending interrupt for this CPU, whether or not it beats
        // PMR and the running priority (1023 when there is none or the distributor is off)
        const id = (this.distCtlr & 1) !== 0 ? this.highestPending() : -1;
        return id < 0 ? GIC_SPURIOUS : id;
      }
      case 0x020: // AIAR (group 1 alias: no group 1 here)
      case 0x028: // AHPPIR
        return GIC_SPURIOUS;
      case GICC_IIDR: return GICC_IIDR_VALUE;
      default: return 0; // EOIR/DIR (WO), APRs, reserved: RAZ
    }
  }

  private cpuWrite(off: number, value: number): number {
    if ((off & 3) !== 0) return BUS_SLAVE_ERROR;
    switch (off) {
      case GICC_CTLR:
        this.cpuCtlr = value & ((1 << 9) | 1);
        break;
      case GICC_PMR:
        this.pmr = value & PRIO_MASK;
        break;
      case GICC_BPR:
        this.bpr = Math.max(2, value & 7);
        break;
      case GICC_EOIR:
        this.endOfInterrupt(value);
        return BUS_OK;
      case GICC_DIR:
        if ((this.cpuCtlr & (1 << 9)) !== 0) this.deactivate(value);
        return BUS_OK;
      default:
        return BUS_OK;
    }
    this.update();
    return BUS_OK;
  }
}
