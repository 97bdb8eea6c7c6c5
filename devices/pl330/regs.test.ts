/**
 * The register table (regs.ts): guest errors, names, reset values; the accelerator switch
 * of the factory.
 */
import { describe, expect, it } from 'vitest';
import { PhysicalBus } from '../../emulator/bus.js';
import { NO_ACCEL_PROP } from '../../emulator/accel.js';
import { IrqLine } from '../../emulator/irq.js';
import { MasterPort } from '../../emulator/master.js';
import { Prng } from '../../emulator/prng.js';
import { Scheduler } from '../../emulator/scheduler.js';
import { Tracer } from '../../emulator/trace.js';
import type { DeviceContext, MachineCore } from '../../emulator/board/types.js';
import type { DtNode } from '../../emulator/dt/types.js';
import * as A from './assembler.js';
import * as R from './constants.js';
import { pl330Factory, type Pl330Instance } from './index.js';
import { makeRig, RAM_BASE } from './testing/fixture.js';

const PROG = RAM_BASE + 0x10000;

describe('PL330 register map: guest errors', () => {
  it('a write to a reserved offset is RAZ/WI and reported with its offset (trace event and counter)', () => {
    const rig = makeRig({}, { trace: true });
    expect(rig.tracer.guestErrors).toBe(0);
    rig.wreg(0x008, 0xdeadbeef); // between DPC and INTEN
    rig.wreg(0x600, 1); // between the channel registers and the debug registers
    expect(rig.reg(0x008)).toBe(0);
    expect(rig.tracer.guestErrors).toBe(3);
    expect(rig.tracer.guestErrorsBySrc.get('dma0')).toBe(3);
    const ev = rig.tracer.events.filter((e) => e.kind === 'guest-error');
    expect(ev.map((e) => [e.src, e.f['what'], e.f['off'], e.f['reg'], e.f['value']])).toEqual([
      ['dma0', 'unmapped-write', 0x008, null, 0xdeadbeef],
      ['dma0', 'unmapped-write', 0x600, null, 1],
      ['dma0', 'unmapped-read', 0x008, null, null],
    ]);
    // counted also when tracing is off
    const quiet = makeRig();
    quiet.wreg(0x008, 1);
    expect(quiet.tracer.guestErrors).toBe(1);
    expect(quiet.tracer.events.length).toBe(0);
  });

  it('a write to a read-only register (DSR) and a read of a write-only one (DBGCMD) are reported by name', () => {
    const rig = makeRig({}, { trace: true });
    const dsr = rig.reg(R.REG_DSR);
    rig.wreg(R.REG_DSR, 0xffffffff);
    expect(rig.reg(R.REG_DSR)).toBe(dsr);
    expect(rig.reg(R.REG_DBGCMD)).toBe(0);
    rig.wreg(R.chanRegOffset(3, 'SAR'), 0x1234); // channel registers are programmed by DMAMOV only
    expect(rig.reg(R.chanRegOffset(3, 'SAR'))).toBe(0);
    const ev = rig.tracer.events.filter((e) => e.kind === 'guest-error');
    expect(ev.map((e) => [e.f['what'], e.f['off'], e.f['reg']])).toEqual([
      ['read-only-write', R.REG_DSR, 'DSR'],
      ['write-only-read', R.REG_DBGCMD, 'DBGCMD'],
      ['read-only-write', 0x460, 'SAR[3]'],
    ]);
    expect(rig.tracer.guestErrors).toBe(3);
  });

  it('registers of channels the configuration lacks are reported; a misaligned word access too (RAZ/WI)', () => {
    const rig = makeRig({ channels: 2 }, { trace: true });
    expect(rig.reg(R.csrOffset(5))).toBe(0);
    expect(rig.reg(R.chanRegOffset(5, 'CCR'))).toBe(0);
    expect(rig.reg(R.REG_INTEN + 2)).toBe(0);
    rig.wreg(R.REG_INTEN + 2, 0xffffffff);
    expect(rig.reg(R.REG_INTEN)).toBe(0);
    const ev = rig.tracer.events.filter((e) => e.kind === 'guest-error');
    expect(ev.map((e) => [e.f['what'], e.f['off']])).toEqual([
      ['unmapped-read', R.csrOffset(5)],
      ['unmapped-read', R.chanRegOffset(5, 'CCR')],
      ['bad-size', R.REG_INTEN + 2],
      ['bad-size', R.REG_INTEN + 2],
    ]);
  });

  it('a correct driver sequence reports nothing', () => {
    const rig = makeRig({}, { trace: true });
    rig.poke(PROG, new A.Pl330Asm().mov('CCR', R.makeCcr()).mov('SAR', RAM_BASE).mov('DAR', RAM_BASE + 0x100).emit(A.DMALD()).emit(A.DMAST()).emit(A.DMASEV(0)).emit(A.DMAEND()).bytes);
    rig.wreg(R.REG_INTEN, 1);
    rig.go(0, PROG);
    rig.run();
    for (const off of [R.REG_DSR, R.REG_INTMIS, R.REG_FSRC, R.ftrOffset(0), R.csrOffset(0), R.cpcOffset(0), R.REG_CR0, R.REG_CRD, 0xfe0, 0xffc]) rig.reg(off);
    rig.wreg(R.REG_INTCLR, 1);
    expect(rig.tracer.guestErrors).toBe(0);
  });
});

describe('PL330 register map: names and reset', () => {
  it('names registers as the TRM does (arrays indexed by channel)', () => {
    const m = makeRig().dmac.regs;
    expect(m.nameAt(R.REG_DSR)).toBe('DSR');
    expect(m.nameAt(R.REG_INT_EVENT_RIS)).toBe('INT_EVENT_RIS');
    expect(m.nameAt(R.ftrOffset(7))).toBe('FTR[7]');
    expect(m.nameAt(R.csrOffset(1))).toBe('CSR[1]');
    expect(m.nameAt(R.cpcOffset(1))).toBe('CPC[1]');
    expect(m.nameAt(R.chanRegOffset(2, 'LC1'))).toBe('LC1[2]');
    expect(m.nameAt(R.REG_DBGINST1)).toBe('DBGINST1');
    expect(m.nameAt(R.REG_CRD)).toBe('CRD');
    expect(m.nameAt(0xfe8)).toBe('periph_id[2]');
    expect(m.nameAt(0xff4)).toBe('pcell_id[1]');
    expect(m.nameAt(0x008)).toBeNull();
    expect(m.size).toBe(0x1000);
  });

  it('after reset every register with a table reset value reads that value', () => {
    const rig = makeRig({ channels: 4 });
    const withReset = rig.dmac.regs.specs.filter((s) => s.reset !== undefined && s.access !== 'WO');
    expect(withReset.map((s) => s.name)).toEqual(expect.arrayContaining(['INTEN', 'CCR', 'SAR', 'LC0', 'WD', 'FTR', 'DBGSTATUS']));
    // change state: registers, a channel's program, a fault
    rig.wreg(R.REG_INTEN, 3);
    rig.wreg(R.REG_WD, 1);
    rig.poke(PROG, [A.DMAMOV('SAR', 0x10), A.DMAMOV('CCR', R.makeCcr({ srcBeatBytes: 8 })), A.DMALP(0, 3), A.DMASEV(0), [0xff]].flat());
    rig.go(1, PROG);
    rig.run();
    expect(rig.reg(R.ftrOffset(1))).not.toBe(0);
    rig.dmac.reset();
    for (const s of withReset) {
      for (let i = 0; i < (s.count ?? 1); i++) expect(rig.reg(s.offset + i * (s.stride ?? 4)), `${s.name}[${i}]`).toBe(s.reset! >>> 0);
    }
  });
});

describe('PL330 accelerator switch', () => {
  const node = (noAccel: boolean): DtNode => ({
    name: 'dma', unitAddress: '2c0a0000', labels: [], parent: null, children: [], phandle: null, loc: { file: 't', line: 1, col: 1 },
    props: noAccel ? [{ name: NO_ACCEL_PROP, value: [], loc: { file: 't', line: 1, col: 1 } }] : [],
  });
  const build = (accel: boolean | undefined, noAccel: boolean): Pl330Instance => {
    const sched = new Scheduler();
    const bus = new PhysicalBus();
    const machine = { scheduler: sched, bus, tracer: new Tracer(() => sched.now), prng: new Prng(1), ...(accel === undefined ? {} : { accel }) } as unknown as MachineCore;
    const n = node(noAccel);
    const ctx: DeviceContext = {
      machine, tree: { root: n, labels: new Map(), phandles: new Map(), file: 't' }, node: n, name: 'dma',
      reg: [{ base: 0, size: 0x1000 }], irqs: [new IrqLine('a')], irqSpecs: [], streamIds: [],
      dmaPort: (label) => new MasterPort(bus, label ?? 'dma'),
    };
    return pl330Factory(ctx) as Pl330Instance;
  };

  it('the factory turns the accelerators on iff the machine allows them and the node does not refuse them', () => {
    expect(build(true, false).dmac.cfg.accel).toBe(true);
    expect(build(true, false).dmac.loopAccel).not.toBeNull();
    expect(build(false, false).dmac.cfg.accel).toBe(false);
    expect(build(false, false).dmac.loopAccel).toBeNull();
    expect(build(true, true).dmac.loopAccel).toBeNull();
  });

  it('fastPath (the old name) still selects the accelerators; accel wins when both are given', () => {
    expect(makeRig({ fastPath: false }).dmac.loopAccel).toBeNull();
    expect(makeRig({ fastPath: true }).dmac.loopAccel).not.toBeNull();
    expect(makeRig({ fastPath: false, accel: true }).dmac.cfg.accel).toBe(true);
  });
});

