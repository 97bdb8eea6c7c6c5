import { describe, expect, it } from 'vitest';
import { makeAttrs } from '../../emulator/attrs.js';
import { BUS_SLAVE_ERROR, PhysicalBus } from '../../emulator/bus.js';
import { IrqLine } from '../../emulator/irq.js';
import { MasterPort } from '../../emulator/master.js';
import { Prng } from '../../emulator/prng.js';
import { Scheduler } from '../../emulator/scheduler.js';
import { Tracer } from '../../emulator/trace.js';
import type { DeviceContext, MachineCore } from '../../emulator/board/types.js';
import type { DtNode, DtProperty } from '../../emulator/dt/types.js';
import * as A from './assembler.js';
import * as R from './constants.js';
import { pl330Factory, type Pl330Instance } from './index.js';
import { DMAC_BASE, makeRig, RAM_BASE } from './testing/fixture.js';

const PROG = RAM_BASE + 0x10000;

describe('configuration registers', () => {
  it('CR0-CR4, CRD and the id registers reflect the configuration', () => {
    const rig = makeRig({ channels: 8, events: 16, periphReqs: 4, dataWidthBits: 128, mfifoDepth: 256, rdCap: 8, wrCap: 8, rdQueueDepth: 16, wrQueueDepth: 16, icacheLines: 16, icacheLineWords: 4, revision: 2, mgrNsAtReset: true, irqNs: 0xffff, periphNs: 0xf });
    const cr0 = rig.reg(R.REG_CR0);
    expect(cr0 & 1).toBe(1);
    expect((cr0 >> 2) & 1).toBe(1);
    expect(((cr0 >> 4) & 7) + 1).toBe(8);
    expect(((cr0 >> 12) & 0x1f) + 1).toBe(4);
    expect(((cr0 >> 17) & 0x1f) + 1).toBe(16);
    const cr1 = rig.reg(R.REG_CR1);
    expect(1 << (cr1 & 7)).toBe(4);
    expect(((cr1 >> 4) & 0xf) + 1).toBe(16);
    expect(rig.reg(R.REG_CR3)).toBe(0xffff);
    expect(rig.reg(R.REG_CR4)).toBe(0xf);
    const crd = rig.reg(R.REG_CRD);
    expect(8 << (crd & 7)).toBe(128);
    expect(((crd >> 4) & 7) + 1).toBe(8);
    expect(((crd >> 8) & 0xf) + 1).toBe(16);
    expect(((crd >> 12) & 7) + 1).toBe(8);
    expect(((crd >> 16) & 0xf) + 1).toBe(16);
    expect(((crd >> 20) & 0x3ff) + 1).toBe(256);
    const ids = [0xfe0, 0xfe4, 0xfe8, 0xfec, 0xff0, 0xff4, 0xff8, 0xffc].map((o) => rig.reg(o));
    expect(ids).toEqual([0x30, 0x13, 0x24, 0x00, 0x0d, 0xf0, 0x05, 0xb1]);
    const small = makeRig({ channels: 2, dataWidthBits: 32, mfifoDepth: 8, mgrNsAtReset: false });
    expect(((small.reg(R.REG_CR0) >> 4) & 7) + 1).toBe(2);
    expect((small.reg(R.REG_CR0) >> 2) & 1).toBe(0);
    expect(small.reg(R.REG_CRD) & 7).toBe(2);
    expect((small.reg(R.REG_DSR) >> 9) & 1).toBe(0);
  });

  it('read-only registers ignore writes; write-only registers read as zero', () => {
    const rig = makeRig();
    const cr0 = rig.reg(R.REG_CR0);
    for (const off of [R.REG_CR0, R.REG_CRD, R.REG_DSR, R.REG_DPC, R.REG_FSRC, R.REG_FTRD, R.csrOffset(0), R.chanRegOffset(0, 'SAR'), 0xfe0, R.REG_INT_EVENT_RIS, R.REG_INTMIS]) {
      const before = rig.reg(off);
      rig.wreg(off, 0xffffffff);
      expect(rig.reg(off)).toBe(before);
    }
    expect(rig.reg(R.REG_CR0)).toBe(cr0);
    rig.wreg(R.REG_DBGINST0, 0x12345678);
    rig.wreg(R.REG_DBGINST1, 0x9abcdef0);
    expect(rig.reg(R.REG_DBGINST0)).toBe(0);
    expect(rig.reg(R.REG_DBGINST1)).toBe(0);
    expect(rig.reg(R.REG_INTCLR)).toBe(0);
    expect(rig.reg(R.REG_DBGCMD)).toBe(0);
    // registers of channels that do not exist read as zero
    const two = makeRig({ channels: 2 });
    expect(two.reg(R.csrOffset(5))).toBe(0);
    expect(two.reg(R.chanRegOffset(5, 'CCR'))).toBe(0);
    expect(rig.reg(R.chanRegOffset(5, 'CCR'))).toBe(R.CCR_RESET);
  });

  it('INTEN is read/write (masked to the event count); INTCLR is write-1-to-clear; WD keeps bit 0', () => {
    const rig = makeRig({ events: 4 });
    rig.wreg(R.REG_INTEN, 0xffffffff);
    expect(rig.reg(R.REG_INTEN)).toBe(0xf);
    rig.wreg(R.REG_WD, 0xffffffff);
    expect(rig.reg(R.REG_WD)).toBe(1);
    rig.wreg(R.REG_INTEN, 0x3);
    rig.poke(PROG, [A.DMASEV(0), A.DMASEV(1), A.DMAEND()].flat());
    rig.go(0, PROG);
    rig.run();
    expect(rig.reg(R.REG_INTMIS)).toBe(3);
    rig.wreg(R.REG_INTCLR, 2);
    expect(rig.reg(R.REG_INTMIS)).toBe(1);
    expect(rig.irqs[0]!.level).toBe(true);
    expect(rig.irqs[1]!.level).toBe(false);
  });

  it('only 32-bit accesses are accepted', () => {
    const rig = makeRig();
    const at = makeAttrs({});
    expect(rig.bus.read(DMAC_BASE + R.REG_CR0, 1, at)).toBe(BUS_SLAVE_ERROR);
    expect(rig.bus.read(DMAC_BASE + R.REG_CR0, 2, at)).toBe(BUS_SLAVE_ERROR);
    expect(rig.bus.write(DMAC_BASE + R.REG_INTEN, 2, 1, at)).toBe(BUS_SLAVE_ERROR);
    expect(rig.reg(R.REG_INTEN)).toBe(0);
  });
});

describe('debug interface', () => {
  it('DBGSTATUS is busy for one cycle after DBGCMD; a second command while busy is ignored', () => {
    const rig = makeRig();
    rig.poke(PROG, A.DMAWFE(0));
    const [i0, i1] = A.debugInst(A.DMAGO(0, PROG));
    rig.wreg(R.REG_DBGINST0, i0);
    rig.wreg(R.REG_DBGINST1, i1);
    rig.wreg(R.REG_DBGCMD, 0);
    expect(rig.reg(R.REG_DBGSTATUS)).toBe(1);
    const [k0] = A.debugInst(A.DMAKILL());
    rig.wreg(R.REG_DBGINST0, k0);
    rig.wreg(R.REG_DBGCMD, 0); // ignored: busy
    rig.sched.runUntil(10);
    expect(rig.reg(R.REG_DBGSTATUS)).toBe(0);
    expect(rig.reg(R.csrOffset(0)) & 0xf).toBe(R.ST_WFE);
    expect(rig.reg(R.cpcOffset(0))).toBe(PROG + 2);
    expect((rig.reg(R.csrOffset(0)) >> 21) & 1).toBe(1);
    // reserved DBGCMD values do nothing
    rig.wreg(R.REG_DBGCMD, 1);
    expect(rig.reg(R.REG_DBGSTATUS)).toBe(0);
  });

  it('instructions other than DMAGO/DMASEV/DMAKILL fault with undef_instr + dbg_instr', () => {
    const rig = makeRig();
    rig.debug(A.DMANOP());
    expect(rig.reg(R.REG_FSRD)).toBe(1);
    expect(rig.reg(R.REG_FTRD)).toBe((R.FTD_UNDEF_INSTR | R.FTD_DBG_INSTR) >>> 0);
    expect(rig.reg(R.REG_DSR) & 0xf).toBe(R.ST_FAULTING);
    expect(rig.abort.level).toBe(true);
    rig.debug(A.DMAKILL()); // DMAKILL to the manager clears its fault
    expect(rig.reg(R.REG_FSRD)).toBe(0);
    expect(rig.reg(R.REG_FTRD)).toBe(0);
    expect(rig.abort.level).toBe(false);
    // to a channel, DMAGO is not allowed
    rig.debug(A.DMAGO(0, PROG), 3);
    expect(rig.reg(R.ftrOffset(3))).toBe((R.FT_UNDEF_INSTR | R.FT_DBG_INSTR) >>> 0);
    expect(rig.reg(R.REG_FSRC)).toBe(1 << 3);
    rig.kill(3);
    expect(rig.reg(R.REG_FSRC)).toBe(0);
    expect(rig.reg(R.ftrOffset(3))).toBe(0);
  });

  it('DMASEV through the debug interface signals the event', () => {
    const rig = makeRig();
    rig.wreg(R.REG_INTEN, 2);
    rig.debug(A.DMASEV(1));
    expect(rig.irqs[1]!.level).toBe(true);
  });

  it('DMAGO with ns=0 from a non-secure manager is dmago_err; from a secure manager it starts a secure channel', () => {
    const rig = makeRig({ mgrNsAtReset: true });
    rig.poke(PROG, A.DMAEND());
    rig.debug(A.DMAGO(0, PROG, false));
    expect(rig.reg(R.REG_FTRD)).toBe((R.FTD_DMAGO_ERR | R.FTD_DBG_INSTR) >>> 0);
    expect(rig.reg(R.REG_FSRD)).toBe(1);
    expect(rig.abort.level).toBe(true);
    expect(rig.reg(R.csrOffset(0)) & 0xf).toBe(R.ST_STOPPED);
    const sec = makeRig({ mgrNsAtReset: false });
    sec.poke(PROG, [A.DMAWFE(0)].flat());
    sec.debug(A.DMAGO(2, PROG, false));
    sec.run();
    expect(sec.reg(R.REG_FTRD)).toBe(0);
    expect((sec.reg(R.csrOffset(2)) >> 21) & 1).toBe(0);
    expect(sec.reg(R.csrOffset(2)) & 0xf).toBe(R.ST_WFE);
  });

  it('DMAGO to a channel beyond the configuration is operand_invalid; to a busy channel it has no effect', () => {
    const rig = makeRig({ channels: 2 });
    rig.debug(A.DMAGO(5, PROG));
    expect(rig.reg(R.REG_FTRD)).toBe((R.FTD_OPERAND_INVALID | R.FTD_DBG_INSTR) >>> 0);
    rig.kill();
    rig.poke(PROG, A.DMAWFE(0));
    rig.go(0, PROG);
    rig.go(0, PROG + 0x40);
    expect(rig.reg(R.cpcOffset(0))).toBe(PROG + 2);
  });
});

describe('device-tree factory', () => {
  const cells = (name: string, ...v: number[]): DtProperty => ({ name, value: [{ kind: 'cells', bits: 32, cells: v }], loc: { file: 't', line: 1, col: 1 } });
  const flag = (name: string): DtProperty => ({ name, value: [], loc: { file: 't', line: 1, col: 1 } });
  const strs = (name: string, ...v: string[]): DtProperty => ({ name, value: v.map((s) => ({ kind: 'string' as const, value: s })), loc: { file: 't', line: 1, col: 1 } });

  it('builds a PL330 from the default board node: config, irq split by interrupt-names, stream id, DMA port', () => {
    const node: DtNode = {
      name: 'dma', unitAddress: '2c0a0000', labels: ['dma0'], parent: null, children: [], phandle: null, loc: { file: 't', line: 1, col: 1 },
      props: [
        strs('compatible', 'arm,pl330', 'arm,primecell'), cells('reg', 0x2c0a0000, 0x1000),
        strs('interrupt-names', 'irq0', 'irq1', 'irq2', 'irq3', 'abort'),
        cells('arm,pl330-channels', 8), cells('arm,pl330-events', 16), cells('arm,pl330-periph-reqs', 4),
        cells('arm,pl330-data-width', 128), cells('arm,pl330-mfifo-depth', 256), cells('arm,pl330-revision', 2),
        cells('clock-frequency', 100000000), flag('arm,pl330-mgr-ns-at-reset'),
      ],
    };
    const sched = new Scheduler();
    const bus = new PhysicalBus();
    bus.addRam('ram', RAM_BASE, 1 << 16);
    const irqs = ['irq0', 'irq1', 'irq2', 'irq3', 'abort'].map((n) => new IrqLine(n));
    const machine = { scheduler: sched, bus, tracer: new Tracer(() => sched.now), prng: new Prng(1) } as unknown as MachineCore;
    const ports: MasterPort[] = [];
    const ctx: DeviceContext = {
      machine, tree: { root: node, labels: new Map(), phandles: new Map(), file: 't' }, node, name: '2c0a0000.dma',
      reg: [{ base: 0x2c0a0000, size: 0x1000 }], irqs, irqSpecs: [], streamIds: [1],
      dmaPort: (label) => { const p = new MasterPort(bus, label ?? 'dma'); ports.push(p); return p; },
    };
    const inst = pl330Factory(ctx) as Pl330Instance;
    expect(inst.name).toBe('2c0a0000.dma');
    const dev = inst.mmio[0]!;
    bus.addMmio('dma', 0x2c0a0000, 0x1000, dev);
    const at = makeAttrs({});
    expect(((bus.read(0x2c0a0000 + R.REG_CR0, 4, at) >> 4) & 7) + 1).toBe(8);
    expect(bus.read(0x2c0a0000 + R.REG_CRD, 4, at) & 7).toBe(4);
    expect((bus.read(0x2c0a0000 + R.REG_DSR, 4, at) >> 9) & 1).toBe(1);
    expect(inst.dmac.cfg.streamId).toBe(1);
    // program: DMAMOV CCR; DMAMOV SAR; DMAMOV DAR; LD; ST; SEV 3; END -> irq3 and the stream id on the port
    const seen: number[] = [];
    bus.mmioObserver = null;
    const p = new A.Pl330Asm().mov('CCR', R.makeCcr()).mov('SAR', RAM_BASE).mov('DAR', RAM_BASE + 0x100).emit(A.DMALD()).emit(A.DMAST()).emit(A.DMASEV(3)).emit(A.DMAEND());
    bus.ramAt(RAM_BASE, 1)!.writeBytes(0x1000, p.toBytes());
    ports[0]!.translator = { name: 'spy', translate: (va, a, out) => { seen.push(a); out.status = 0; out.pa = va; out.extent = 4096 - (va % 4096); out.costNs = 0; } };
    bus.write(0x2c0a0000 + R.REG_INTEN, 4, 8, at);
    const [i0, i1] = A.debugInst(A.DMAGO(0, RAM_BASE + 0x1000));
    bus.write(0x2c0a0000 + R.REG_DBGINST0, 4, i0, at);
    bus.write(0x2c0a0000 + R.REG_DBGINST1, 4, i1, at);
    bus.write(0x2c0a0000 + R.REG_DBGCMD, 4, 0, at);
    sched.runUntilIdle(10000);
    expect(irqs[3]!.level).toBe(true);
    expect(irqs[4]!.level).toBe(false);
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((a) => (a >>> 16) === 1)).toBe(true);
    irqs[4]!.set(false);
    // without interrupt-names the last line is the abort line
    const node2: DtNode = { ...node, props: node.props.filter((q) => q.name !== 'interrupt-names') };
    const lines2 = [new IrqLine('a'), new IrqLine('b')];
    const inst2 = pl330Factory({ ...ctx, node: node2, irqs: lines2 }) as Pl330Instance;
    const bus2 = ctx.machine.bus;
    void bus2;
    inst2.dmac.write(R.REG_DBGINST0, 4, A.debugInst(A.DMANOP())[0], at);
    inst2.dmac.write(R.REG_DBGCMD, 4, 0, at);
    sched.runUntilIdle(100);
    expect(lines2[1]!.level).toBe(true);
    expect(lines2[0]!.level).toBe(false);
  });
});
