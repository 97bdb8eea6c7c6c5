import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { makeAttrs } from '../../emulator/attrs.js';
import { BUS_OK, BUS_SLAVE_ERROR } from '../../emulator/bus.js';
import { IrqLine } from '../../emulator/irq.js';
import { Scheduler } from '../../emulator/scheduler.js';
import { Tracer } from '../../emulator/trace.js';
import type { DeviceContext } from '../../emulator/board/types.js';
import type { DtNode } from '../../emulator/dt/types.js';
import {
  GIC_SPURIOUS, GICC_BPR, GICC_CTLR, GICC_DIR, GICC_EOIR, GICC_HPPIR, GICC_IAR, GICC_PMR, GICC_RPR, GICD_CTLR, GICD_ICACTIVER,
  GICD_ICENABLER, GICD_ICFGR, GICD_ICPENDR, GICD_IPRIORITYR, GICD_ISACTIVER, GICD_ISENABLER, GICD_ISPENDR,
  GICD_ITARGETSR, GICD_SGIR, GICD_TYPER, GICD_ICPIDR2, Gic400, gicFactory, gicIdOfSpec,
} from './index.js';

const A = makeAttrs({ priv: true });

class Fx {
  gic: Gic400;
  out: boolean[] = [];
  constructor(numIrqs = 160, tracer: Tracer | null = null) {
    this.gic = new Gic400({ numIrqs, tracer });
    this.gic.output.connect((l) => this.out.push(l));
  }
  dw(off: number, v: number, size = 4): number {
    return this.gic.distributor.write(off, size, v >>> 0, A);
  }
  dr(off: number, size = 4): number {
    return this.gic.distributor.read(off, size, A);
  }
  cw(off: number, v: number): number {
    return this.gic.cpuInterface.write(off, 4, v >>> 0, A);
  }
  cr(off: number): number {
    return this.gic.cpuInterface.read(off, 4, A);
  }
  /** enable ID with priority, targeted at CPU 0, both CTLRs on, PMR 0xf0 */
  setup(ids: number[], prio = 0xa0, edge = false): void {
    for (const id of ids) {
      this.dw(GICD_IPRIORITYR + id, prio, 1);
      if (id >= 32) this.dw(GICD_ITARGETSR + id, 1, 1);
      if (edge) {
        const reg = GICD_ICFGR + Math.floor(id / 16) * 4;
        this.dw(reg, this.dr(reg) | (2 << ((id % 16) * 2)));
      }
      this.dw(GICD_ISENABLER + Math.floor(id / 32) * 4, 1 << (id % 32));
    }
    this.dw(GICD_CTLR, 1);
    this.cw(GICC_PMR, 0xf0);
    this.cw(GICC_CTLR, 1);
  }
  get irq(): boolean {
    return this.gic.output.level;
  }
}

describe('GIC-400 identification', () => {
  it('TYPER reports ITLinesNumber 4 for 160 lines, and the arch revision', () => {
    const f = new Fx();
    expect(f.dr(GICD_TYPER) & 0x1f).toBe(4);
    expect((f.dr(GICD_TYPER) >> 5) & 7).toBe(0);
    expect((f.dr(GICD_ICPIDR2) >> 4) & 0xf).toBe(2);
    expect(f.gic.numIrqs).toBe(160);
    expect(new Gic400({ numIrqs: 96 }).numIrqs).toBe(96);
  });

  it('factory reads arm,num-irqs and decodes SPI/PPI specifiers', () => {
    const node: DtNode = {
      name: 'interrupt-controller', unitAddress: '2c001000', labels: ['gic'], children: [], parent: null, phandle: 1,
      loc: { file: 't', line: 1, col: 1 },
      props: [{ name: 'arm,num-irqs', value: [{ kind: 'cells', bits: 32, cells: [128] }], loc: { file: 't', line: 1, col: 1 } }],
    };
    const sched = new Scheduler();
    const tracer = new Tracer(() => sched.now);
    const ctx = { machine: { scheduler: sched, tracer }, node, name: '2c001000.interrupt-controller', reg: [], irqs: [], irqSpecs: [] } as unknown as DeviceContext;
    const inst = gicFactory(ctx);
    expect(inst.mmio.length).toBe(2);
    const ic = inst.interruptController!;
    const line = new IrqLine('dev');
    line.connect(ic.inputFor({ cells: [0, 10, 4] }, line));
    const f = new Fx();
    f.gic = (inst as unknown as { gic: Gic400 }).gic;
    f.setup([42]);
    expect(f.irq).toBe(false);
    line.raise();
    expect(f.irq).toBe(true);
    expect(f.cr(GICC_IAR)).toBe(42);
    expect(f.dr(GICD_TYPER) & 0x1f).toBe(3);
    expect(() => ic.inputFor({ cells: [0, 200, 4] }, line)).toThrow(/not a valid/);
    expect(gicIdOfSpec([1, 9, 4], 160)).toBe(25);
    expect(gicIdOfSpec([1, 16, 4], 160)).toBe(-1);
    expect(gicIdOfSpec([2, 1, 4], 160)).toBe(-1);
  });
});

describe('GIC-400 level vs edge', () => {
  it('level: pending follows the input, acknowledge makes it active and pending, EOI re-pends while asserted', () => {
    const f = new Fx();
    const id = 32 + 98;
    f.setup([id]);
    const inp = f.gic.input(id);
    inp(true);
    expect(f.irq).toBe(true);
    expect(f.cr(GICC_HPPIR)).toBe(id);
    expect(f.cr(GICC_IAR)).toBe(id);
    expect(f.gic.isActive(id)).toBe(true);
    expect(f.gic.isPending(id)).toBe(true); // active and pending
    expect(f.irq).toBe(false); // not signalled while active
    expect(f.cr(GICC_IAR)).toBe(GIC_SPURIOUS);
    f.cw(GICC_EOIR, id);
    expect(f.gic.isActive(id)).toBe(false);
    expect(f.irq).toBe(true); // re-pended: input still asserted
    expect(f.cr(GICC_IAR)).toBe(id);
    inp(false);
    f.cw(GICC_EOIR, id);
    expect(f.irq).toBe(false);
    expect(f.gic.isPending(id)).toBe(false);
  });

  it('level: lowering the input before acknowledge withdraws the interrupt; ICPENDR cannot clear an asserted line', () => {
    const f = new Fx();
    const id = 40;
    f.setup([id]);
    f.gic.setInput(id, true);
    f.dw(GICD_ICPENDR + 4, 1 << (id - 32));
    expect(f.gic.isPending(id)).toBe(true);
    f.gic.setInput(id, false);
    expect(f.irq).toBe(false);
    expect(f.cr(GICC_IAR)).toBe(GIC_SPURIOUS);
  });

  it('edge: a rising edge latches; lowering does not clear; EOI does not re-pend; a new edge while active re-pends', () => {
    const f = new Fx();
    const id = 33;
    f.setup([id], 0xa0, true);
    expect(f.gic.isEdge(id)).toBe(true);
    f.gic.setInput(id, true);
    f.gic.setInput(id, false);
    expect(f.irq).toBe(true);
    expect(f.cr(GICC_IAR)).toBe(id);
    expect(f.gic.isPending(id)).toBe(false);
    f.cw(GICC_EOIR, id);
    expect(f.irq).toBe(false);
    // staying high does not re-pend
    f.gic.setInput(id, true);
    expect(f.cr(GICC_IAR)).toBe(id);
    f.cw(GICC_EOIR, id);
    expect(f.irq).toBe(false);
    // new edge while active
    f.gic.setInput(id, false);
    f.gic.setInput(id, true);
    expect(f.cr(GICC_IAR)).toBe(id);
    f.gic.setInput(id, false);
    f.gic.setInput(id, true);
    expect(f.irq).toBe(false);
    f.cw(GICC_EOIR, id);
    expect(f.irq).toBe(true);
    expect(f.cr(GICC_IAR)).toBe(id);
  });

  it('ICFGR: SGIs are fixed edge, reserved bit 0 of each field reads 0', () => {
    const f = new Fx();
    expect(f.dr(GICD_ICFGR) >>> 0).toBe(0xaaaaaaaa);
    f.dw(GICD_ICFGR, 0);
    expect(f.dr(GICD_ICFGR) >>> 0).toBe(0xaaaaaaaa);
    f.dw(GICD_ICFGR + 8, 0xffffffff);
    expect(f.dr(GICD_ICFGR + 8) >>> 0).toBe(0xaaaaaaaa);
  });
});

describe('GIC-400 priorities and masking', () => {
  it('acknowledges the highest priority first, lowest ID on ties', () => {
    const f = new Fx();
    f.setup([50, 60, 70]);
    f.dw(GICD_IPRIORITYR + 60, 0x40, 1);
    for (const id of [50, 60, 70]) f.gic.setInput(id, true);
    expect(f.cr(GICC_IAR)).toBe(60);
    expect(f.cr(GICC_RPR)).toBe(0x40);
    // 50 and 70 have 0xa0: not higher than... they are lower priority than running 0x40
    expect(f.cr(GICC_IAR)).toBe(GIC_SPURIOUS);
    f.cw(GICC_EOIR, 60);
    f.gic.setInput(60, false);
    expect(f.cr(GICC_RPR)).toBe(0xff);
    expect(f.cr(GICC_IAR)).toBe(50);
    f.cw(GICC_EOIR, 50);
    f.gic.setInput(50, false);
    expect(f.cr(GICC_IAR)).toBe(70);
  });

  it('preemption: a higher group priority is signalled while a lower one is active', () => {
    const f = new Fx();
    f.setup([50, 51]);
    f.dw(GICD_IPRIORITYR + 51, 0x20, 1);
    f.gic.setInput(50, true);
    expect(f.cr(GICC_IAR)).toBe(50);
    expect(f.irq).toBe(false);
    f.gic.setInput(51, true);
    expect(f.irq).toBe(true);
    expect(f.cr(GICC_IAR)).toBe(51);
    expect(f.cr(GICC_RPR)).toBe(0x20);
    f.cw(GICC_EOIR, 51);
    expect(f.cr(GICC_RPR)).toBe(0xa0);
    f.cw(GICC_EOIR, 50);
    expect(f.cr(GICC_RPR)).toBe(0xff);
  });

  it('PMR masks interrupts whose priority is not below it; HPPIR still reports them', () => {
    const f = new Fx();
    f.setup([45]);
    f.cw(GICC_PMR, 0xa0);
    f.gic.setInput(45, true);
    expect(f.irq).toBe(false);
    expect(f.cr(GICC_IAR)).toBe(GIC_SPURIOUS);
    expect(f.cr(GICC_HPPIR)).toBe(45);
    f.cw(GICC_PMR, 0xa8);
    expect(f.irq).toBe(true);
    expect(f.cr(GICC_PMR)).toBe(0xa8);
    f.cw(GICC_PMR, 0xff);
    expect(f.cr(GICC_PMR)).toBe(0xf8); // 5 implemented bits
  });

  it('spurious 1023 when nothing is pending, when disabled, or when not targeted', () => {
    const f = new Fx();
    f.setup([100]);
    expect(f.cr(GICC_IAR)).toBe(GIC_SPURIOUS);
    f.dw(GICD_ITARGETSR + 100, 0, 1);
    f.gic.setInput(100, true);
    expect(f.irq).toBe(false);
    expect(f.cr(GICC_IAR)).toBe(GIC_SPURIOUS);
    f.dw(GICD_ITARGETSR + 100, 0xff, 1);
    expect(f.dr(GICD_ITARGETSR + 100, 1)).toBe(1);
    expect(f.irq).toBe(true);
    f.dw(GICD_ICENABLER + 12, 1 << (100 - 96));
    expect(f.irq).toBe(false);
    expect(f.gic.isPending(100)).toBe(true);
    f.dw(GICD_ISENABLER + 12, 1 << (100 - 96));
    expect(f.irq).toBe(true);
    expect(f.gic.stats.spurious).toBe(2);
  });

  it('CTLR disable: either the distributor or the CPU interface being off stops signalling', () => {
    const f = new Fx();
    f.setup([77]);
    f.gic.setInput(77, true);
    expect(f.irq).toBe(true);
    f.dw(GICD_CTLR, 0);
    expect(f.irq).toBe(false);
    expect(f.cr(GICC_IAR)).toBe(GIC_SPURIOUS);
    f.dw(GICD_CTLR, 1);
    f.cw(GICC_CTLR, 0);
    expect(f.irq).toBe(false);
    expect(f.cr(GICC_IAR)).toBe(GIC_SPURIOUS);
    f.cw(GICC_CTLR, 1);
    expect(f.irq).toBe(true);
  });
});

describe('GIC-400 register semantics', () => {
  it('ISPENDR/ICPENDR, ISACTIVER/ICACTIVER and SGIR', () => {
    const f = new Fx();
    f.setup([0, 90]);
    f.dw(GICD_ISPENDR + 8, 1 << (90 - 64));
    expect(f.dr(GICD_ISPENDR + 8)).toBe(1 << (90 - 64));
    expect(f.irq).toBe(true);
    f.dw(GICD_ICPENDR + 8, 1 << (90 - 64));
    expect(f.irq).toBe(false);
    f.dw(GICD_ISACTIVER + 8, 1 << (90 - 64));
    expect(f.gic.isActive(90)).toBe(true);
    f.dw(GICD_ICACTIVER + 8, 1 << (90 - 64));
    expect(f.gic.isActive(90)).toBe(false);
    f.dw(GICD_SGIR, (0 << 24) | (1 << 16) | 0);
    expect(f.cr(GICC_IAR)).toBe(0);
    f.cw(GICC_EOIR, 0);
    f.dw(GICD_SGIR, (1 << 24) | 0); // all others: nobody here
    expect(f.irq).toBe(false);
  });

  it('EOImode: EOIR drops priority, DIR deactivates', () => {
    const f = new Fx();
    f.setup([36]);
    f.cw(GICC_CTLR, 1 | (1 << 9));
    f.gic.setInput(36, true);
    expect(f.cr(GICC_IAR)).toBe(36);
    f.cw(GICC_EOIR, 36);
    expect(f.cr(GICC_RPR)).toBe(0xff);
    expect(f.gic.isActive(36)).toBe(true);
    f.cw(GICC_DIR, 36);
    expect(f.gic.isActive(36)).toBe(false);
    expect(f.irq).toBe(true);
  });

  it('access sizes: bytes only where the architecture allows them', () => {
    const f = new Fx();
    expect(f.dw(GICD_IPRIORITYR + 33, 0x80, 1)).toBe(BUS_OK);
    expect(f.dr(GICD_IPRIORITYR + 32) >>> 8).toBe(0x80);
    expect(f.dw(GICD_ISENABLER + 1, 1, 1)).toBe(BUS_SLAVE_ERROR);
    expect(f.dr(GICD_CTLR, 1)).toBe(BUS_SLAVE_ERROR);
    expect(f.dr(GICD_CTLR + 2)).toBe(BUS_SLAVE_ERROR);
    expect(f.cr(0x400)).toBe(0);
  });

  it('reports reserved offsets, read-only writes and write-only reads as guest errors, answering RAZ/WI', () => {
    const sched = new Scheduler();
    const tr = new Tracer(() => sched.now, true);
    const f = new Fx(160, tr);
    const d = 'gic.distributor';
    const c = 'gic.cpu-interface';
    expect(f.dr(0x00c)).toBe(0); // reserved (IHI 0048B Table 4-1)
    expect(f.dw(0x040, 0x1234)).toBe(BUS_OK);
    expect(f.dr(GICD_ISENABLER + 5 * 4)).toBe(0); // IDs 160-191: beyond ITLinesNumber
    expect(f.dr(0xd00)).toBe(0); // GIC-400 PPISR: not implemented
    expect(f.dw(GICD_TYPER, 0xffffffff)).toBe(BUS_OK); // RO
    expect(f.dr(GICD_TYPER) & 0x1f).toBe(4);
    expect(f.dr(GICD_SGIR)).toBe(0); // WO
    expect(f.dw(GICD_ITARGETSR + 4, 0xff, 1)).toBe(BUS_OK); // ITARGETSR1: read-only
    expect(f.dr(GICD_ITARGETSR + 4, 1)).toBe(1);
    expect(f.dw(GICD_ICFGR, 0)).toBe(BUS_OK); // ICFGR0: read-only
    expect(f.dr(GICD_ICFGR) >>> 0).toBe(0xaaaaaaaa);
    expect(f.dr(0x010, 1)).toBe(BUS_SLAVE_ERROR); // byte access where no byte register decodes
    expect(f.dr(GICD_CTLR, 1)).toBe(BUS_SLAVE_ERROR); // byte access to a word register
    expect(f.cr(GICC_EOIR)).toBe(0); // WO
    expect(f.cw(GICC_IAR, 5)).toBe(BUS_OK); // RO
    expect(f.cr(0x400)).toBe(0); // IMPLEMENTATION DEFINED / reserved
    expect(f.cw(0x1004, 1)).toBe(BUS_OK);
    const seen = tr.events.filter((e) => e.kind === 'guest-error').map((e) => `${e.src} ${String(e.f['what'])} 0x${Number(e.f['off']).toString(16)} ${String(e.f['reg'])}`);
    expect(seen).toEqual([
      `${d} unmapped-read 0xc null`,
      `${d} unmapped-write 0x40 null`,
      `${d} unmapped-read 0x114 null`,
      `${d} unmapped-read 0xd00 null`,
      `${d} read-only-write 0x4 GICD_TYPER`,
      `${d} write-only-read 0xf00 GICD_SGIR`,
      `${d} read-only-write 0x804 GICD_ITARGETSR[1]`,
      `${d} read-only-write 0xc00 GICD_ICFGR[0]`,
      `${d} unmapped-read 0x10 null`,
      `${d} bad-size 0x0 GICD_CTLR`,
      `${c} write-only-read 0x10 GICC_EOIR`,
      `${c} read-only-write 0xc GICC_IAR`,
      `${c} unmapped-read 0x400 null`,
      `${c} unmapped-write 0x1004 null`,
    ]);
    expect(tr.guestErrors).toBe(14);
    expect([...tr.guestErrorsBySrc]).toEqual([[d, 10], [c, 4]]);
    // what Linux's gic_dist_init / gic_cpu_init touch is all decoded: no report
    const n = tr.guestErrors;
    f.setup([40, 159]);
    f.dr(GICD_ITARGETSR, 4);
    f.dw(GICD_ICFGR + 4 * 9, 0);
    f.cr(GICC_IAR);
    expect(tr.guestErrors).toBe(n);
  });

  it('names every register for traces, by the table', () => {
    const g = new Gic400({ numIrqs: 160 });
    expect(g.dmap.nameAt(GICD_CTLR)).toBe('GICD_CTLR');
    expect(g.dmap.nameAt(GICD_ISENABLER + 4)).toBe('GICD_ISENABLER[1]');
    expect(g.dmap.nameAt(GICD_ISENABLER + 20)).toBeNull(); // beyond the 160 implemented IDs
    expect(g.dmap.nameAt(GICD_IPRIORITYR + 0x9d)).toBe('GICD_IPRIORITYR[39]+1');
    expect(g.dmap.nameAt(GICD_ICPIDR2)).toBe('GICD_ICPIDR2');
    expect(g.dmap.nameAt(0xf24)).toBe('GICD_SPENDSGIR[1]');
    expect(g.cmap.nameAt(GICC_DIR)).toBe('GICC_DIR');
    expect(g.cmap.nameAt(GICC_HPPIR)).toBe('GICC_HPPIR');
    expect(new Gic400({ numIrqs: 1020 }).dmap.nameAt(GICD_IPRIORITYR + 0x3fc)).toBeNull(); // IDs 1020-1023
    const rows = g.cmap.describe();
    expect(rows.find((r) => r.name === 'GICC_BPR')).toMatchObject({ offset: 8, access: 'RW', reset: 2 });
    expect(rows.find((r) => r.name === 'GICC_IIDR')).toMatchObject({ offset: 0xfc, access: 'RO', reset: 0x0202143b });
    // reset comes from the tables
    g.cpuInterface.write(GICC_BPR, 4, 5, A);
    expect(g.cpuInterface.read(GICC_BPR, 4, A)).toBe(5);
    g.reset();
    expect(g.cpuInterface.read(GICC_BPR, 4, A)).toBe(2);
  });

  it('traces acks and EOIs only when the tracer is enabled', () => {
    const sched = new Scheduler();
    const tr = new Tracer(() => sched.now, false);
    const f = new Fx(160, tr);
    f.setup([40]);
    f.gic.setInput(40, true);
    f.cr(GICC_IAR);
    expect(tr.count).toBe(0);
    tr.enabled = true;
    f.cw(GICC_EOIR, 40);
    f.cr(GICC_IAR);
    const kinds = tr.events.map((e) => e.kind);
    expect(kinds).toContain('gic-eoi');
    expect(kinds).toContain('gic-ack');
  });

  it('property: the signalled interrupt is the best enabled pending one below PMR', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ id: fc.integer({ min: 32, max: 159 }), prio: fc.integer({ min: 0, max: 255 }), on: fc.boolean(), en: fc.boolean() }), { maxLength: 12 }),
        fc.integer({ min: 0, max: 255 }),
        (ops, pmr) => {
          const f = new Fx();
          f.dw(GICD_CTLR, 1);
          f.cw(GICC_CTLR, 1);
          f.cw(GICC_PMR, pmr);
          const st = new Map<number, { prio: number; on: boolean; en: boolean }>();
          for (const o of ops) {
            f.dw(GICD_ITARGETSR + o.id, 1, 1);
            f.dw(GICD_IPRIORITYR + o.id, o.prio, 1);
            f.dw((o.en ? GICD_ISENABLER : GICD_ICENABLER) + Math.floor(o.id / 32) * 4, 1 << (o.id % 32));
            f.gic.setInput(o.id, o.on);
            st.set(o.id, { prio: o.prio & 0xf8, on: o.on, en: o.en });
          }
          let best = -1;
          let bp = 256;
          for (const [id, s] of [...st.entries()].sort((a, b) => a[0] - b[0])) {
            if (s.on && s.en && s.prio < bp) {
              bp = s.prio;
              best = id;
            }
          }
          const expected = best >= 0 && bp < (pmr & 0xf8) ? best : GIC_SPURIOUS;
          expect(f.irq).toBe(expected !== GIC_SPURIOUS);
          expect(f.cr(GICC_IAR)).toBe(expected);
        },
      ),
      { numRuns: 200 },
    );
  });
});
