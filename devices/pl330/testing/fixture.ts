import { makeAttrs, isInstr, type Attrs } from '../../../emulator/attrs.js';
import { BUS_OK, BUS_TRANSLATION_FAULT, PhysicalBus, type RamRegion } from '../../../emulator/bus.js';
import { IrqLine } from '../../../emulator/irq.js';
import { MasterPort, type TranslationResult, type TranslationStage } from '../../../emulator/master.js';
import { Scheduler } from '../../../emulator/scheduler.js';
import { Tracer } from '../../../emulator/trace.js';
import { debugInst, DMAGO, DMAKILL } from '../assembler.js';
import * as R from '../constants.js';
import { Pl330, type Pl330Config } from '../pl330.js';

export const RAM_BASE = 0x80000000;
export const DMAC_BASE = 0x2c0a0000;

/** A toy translation stage: identity map with a per-lookup cost, page-granular, that refuses
 * instruction fetches in `xnPages` and everything in `unmappedPages` (4 KiB pages). */
export class ToyIommu implements TranslationStage {
  readonly name = 'toy-iommu';
  readonly xnPages = new Set<number>();
  readonly unmappedPages = new Set<number>();
  lookups = 0;
  readonly seen: Attrs[] = [];
  constructor(readonly costNs = 0, readonly offset = 0) {}
  translate(va: number, attrs: Attrs, out: TranslationResult): void {
    this.lookups++;
    if (this.seen.length < 10000) this.seen.push(attrs);
    const page = Math.floor(va / 4096);
    out.costNs = this.costNs;
    if (this.unmappedPages.has(page) || (isInstr(attrs) && this.xnPages.has(page))) {
      out.status = BUS_TRANSLATION_FAULT;
      out.extent = 0;
      return;
    }
    out.status = BUS_OK;
    out.pa = va + this.offset;
    out.extent = (page + 1) * 4096 - va;
  }
}

export interface Rig {
  sched: Scheduler;
  bus: PhysicalBus;
  ram: RamRegion;
  port: MasterPort;
  dmac: Pl330;
  irqs: IrqLine[];
  abort: IrqLine;
  tracer: Tracer;
  reg(off: number): number;
  wreg(off: number, v: number): number;
  /** write bytes at a physical address */
  poke(addr: number, bytes: ArrayLike<number>): void;
  peek(addr: number, len: number): Uint8Array;
  /** issue a debug instruction (bytes) to the manager or a channel; waits for DBGSTATUS idle */
  debug(bytes: number[], channel?: number): void;
  go(ch: number, pc: number, ns?: boolean): void;
  kill(ch?: number): void;
  run(maxEvents?: number): ReturnType<Scheduler['runUntilIdle']>;
}

export function makeRig(cfg: Partial<Pl330Config> = {}, opts: { ramSize?: number; translator?: TranslationStage | null; trace?: boolean } = {}): Rig {
  const sched = new Scheduler();
  const tracer = new Tracer(() => sched.now, opts.trace ?? false);
  const bus = new PhysicalBus();
  const ram = bus.addRam('ram', RAM_BASE, opts.ramSize ?? 1 << 20);
  const port = new MasterPort(bus, 'pl330', opts.translator ?? null);
  const nev = Math.min(cfg.events ?? 16, 4);
  const irqs: IrqLine[] = [];
  for (let i = 0; i < nev; i++) irqs.push(new IrqLine(`irq${i}`));
  const abort = new IrqLine('abort');
  const dmac = new Pl330(cfg, { scheduler: sched, port, eventIrqs: irqs, abortIrq: abort, tracer, name: 'dma0' });
  bus.addMmio('dma0', DMAC_BASE, 0x1000, dmac);
  const cpu = makeAttrs({ priv: true });
  const rig: Rig = {
    sched, bus, ram, port, dmac, irqs, abort, tracer,
    reg: (off) => bus.read(DMAC_BASE + off, 4, cpu),
    wreg: (off, v) => bus.write(DMAC_BASE + off, 4, v, cpu),
    poke: (addr, bytes) => {
      ram.writeBytes(addr - RAM_BASE, bytes);
    },
    peek: (addr, len) => ram.readBytes(addr - RAM_BASE, len),
    debug: (bytes, channel) => {
      sched.runUntilPredicate(() => rig.reg(R.REG_DBGSTATUS) === 0, { maxEvents: 1000 });
      const [i0, i1] = debugInst(bytes, channel);
      rig.wreg(R.REG_DBGINST0, i0);
      rig.wreg(R.REG_DBGINST1, i1);
      rig.wreg(R.REG_DBGCMD, 0);
      sched.runUntilPredicate(() => rig.reg(R.REG_DBGSTATUS) === 0, { maxEvents: 1000 });
    },
    go: (ch, pc, ns = true) => rig.debug(DMAGO(ch, pc, ns)),
    kill: (ch) => rig.debug(DMAKILL(), ch),
    run: (maxEvents = 2_000_000) => sched.runUntilIdle(maxEvents),
  };
  return rig;
}
