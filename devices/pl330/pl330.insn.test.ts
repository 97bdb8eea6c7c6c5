import { describe, expect, it } from 'vitest';
import * as A from './assembler.js';
import * as R from './constants.js';
import { pl330InsnSize } from './pl330.js';
import { makeRig, RAM_BASE, type Rig } from './testing/fixture.js';

const PROG = RAM_BASE + 0x10000;
const SRC = RAM_BASE + 0x20000;
const DST = RAM_BASE + 0x40000;

function runProg(rig: Rig, insns: number[][], ch = 0): void {
  rig.poke(PROG, insns.flat());
  rig.go(ch, PROG);
  rig.run();
}
const chReg = (rig: Rig, ch: number, r: 'SAR' | 'DAR' | 'CCR' | 'LC0' | 'LC1'): number => rig.reg(R.chanRegOffset(ch, r));
const ftr = (rig: Rig, ch: number): number => rig.reg(R.ftrOffset(ch));
const csrState = (rig: Rig, ch: number): number => rig.reg(R.csrOffset(ch)) & 0xf;

describe('assembler encodings', () => {
  it('encodes every instruction as the TRM lays it out', () => {
    expect(A.DMAADDH('SAR', 0x1234)).toEqual([0x54, 0x34, 0x12]);
    expect(A.DMAADDH('DAR', 1)).toEqual([0x56, 1, 0]);
    expect(A.DMAADNH('SAR', 0x10)).toEqual([0x5c, 0x10, 0]);
    expect(A.DMAADNH('DAR', 0x10)).toEqual([0x5e, 0x10, 0]);
    expect(A.DMAEND()).toEqual([0x00]);
    expect(A.DMAFLUSHP(3)).toEqual([0x35, 0x18]);
    expect(A.DMAGO(2, 0x12345678, true)).toEqual([0xa2, 2, 0x78, 0x56, 0x34, 0x12]);
    expect(A.DMAGO(1, 0, false)).toEqual([0xa0, 1, 0, 0, 0, 0]);
    expect(A.DMAKILL()).toEqual([0x01]);
    expect([A.DMALD(), A.DMALD('S'), A.DMALD('B')]).toEqual([[0x04], [0x05], [0x07]]);
    expect([A.DMALDP('S', 2), A.DMALDP('B', 2)]).toEqual([[0x25, 0x10], [0x27, 0x10]]);
    expect([A.DMALP(0, 256), A.DMALP(1, 1)]).toEqual([[0x20, 0xff], [0x22, 0]]);
    expect([A.DMALPEND(0, 4), A.DMALPEND(1, 4, 'S'), A.DMALPEND(1, 4, 'B')]).toEqual([[0x38, 4], [0x3d, 4], [0x3f, 4]]);
    expect(A.DMALPFE(3)).toEqual([0x2c, 3]);
    expect(A.DMAMOV('SAR', 1)).toEqual([0xbc, 0, 1, 0, 0, 0]);
    expect(A.DMAMOV('CCR', 1)[1]).toBe(1);
    expect(A.DMAMOV('DAR', 1)[1]).toBe(2);
    expect([A.DMANOP(), A.DMARMB(), A.DMAWMB()]).toEqual([[0x18], [0x12], [0x13]]);
    expect(A.DMASEV(5)).toEqual([0x34, 0x28]);
    expect([A.DMAST(), A.DMAST('S'), A.DMAST('B'), A.DMASTZ()]).toEqual([[0x08], [0x09], [0x0b], [0x0c]]);
    expect([A.DMASTP('S', 1), A.DMASTP('B', 1)]).toEqual([[0x29, 8], [0x2b, 8]]);
    expect(A.DMAWFE(2, true)).toEqual([0x36, 0x12]);
    expect([A.DMAWFP(1, 'S'), A.DMAWFP(1, 'P'), A.DMAWFP(1, 'B')]).toEqual([[0x30, 8], [0x31, 8], [0x32, 8]]);
    for (const insn of [A.DMAADDH('SAR', 1), A.DMAGO(0, 0), A.DMALPFE(1), A.DMAMOV('SAR', 0), A.DMAWFP(0, 'P')]) {
      expect(pl330InsnSize(insn[0]!)).toBe(insn.length);
    }
    for (const bad of [0x02, 0x06, 0x0a, 0x21, 0x24, 0x2a, 0x33, 0x37, 0xff]) expect(pl330InsnSize(bad)).toBe(0);
  });
});

describe('instruction effects', () => {
  it('DMAMOV sets SAR, DAR, CCR; DMAADDH/DMAADNH add positive and negative offsets', () => {
    const rig = makeRig();
    const ccr = R.makeCcr({ srcBeatBytes: 8, srcBurstLen: 4 });
    runProg(rig, [A.DMAMOV('SAR', 0x1000), A.DMAMOV('DAR', 0x2000), A.DMAMOV('CCR', ccr), A.DMAADDH('SAR', 0x10), A.DMAADNH('DAR', 0xfff0), A.DMAEND()]);
    expect(chReg(rig, 0, 'SAR')).toBe(0x1010);
    expect(chReg(rig, 0, 'DAR')).toBe(0x2000 - 0x10);
    expect(chReg(rig, 0, 'CCR')).toBe(ccr);
    expect(csrState(rig, 0)).toBe(R.ST_STOPPED);
    expect(rig.reg(R.cpcOffset(0))).toBe(PROG + 6 * 3 + 6);
  });

  it('DMAMOV with an invalid register is operand_invalid; DMAADNH is undefined before r1p0', () => {
    const rig = makeRig();
    runProg(rig, [[0xbc, 3, 0, 0, 0, 0]]);
    expect(ftr(rig, 0)).toBe(R.FT_OPERAND_INVALID);
    expect(rig.reg(R.REG_FSRC)).toBe(1);
    const old = makeRig({ revision: 0 });
    runProg(old, [A.DMAADNH('SAR', 1)]);
    expect(ftr(old, 0)).toBe(R.FT_UNDEF_INSTR);
    expect(old.reg(R.cpcOffset(0))).toBe(PROG);
  });

  it('DMALD/DMAST copy one burst and advance SAR/DAR; DMASTZ writes zeros', () => {
    const rig = makeRig();
    rig.poke(SRC, Array.from({ length: 64 }, (_, i) => i + 1));
    rig.poke(DST + 64, new Array(32).fill(0xee));
    runProg(rig, [
      A.DMAMOV('CCR', R.makeCcr({ srcBeatBytes: 4, srcBurstLen: 8 })),
      A.DMAMOV('SAR', SRC), A.DMAMOV('DAR', DST), A.DMALD(), A.DMAST(), A.DMASTZ(), A.DMAEND(),
    ]);
    expect(Array.from(rig.peek(DST, 32))).toEqual(Array.from({ length: 32 }, (_, i) => i + 1));
    expect(Array.from(rig.peek(DST + 32, 32))).toEqual(new Array(32).fill(0));
    expect(Array.from(rig.peek(DST + 64, 4))).toEqual([0xee, 0xee, 0xee, 0xee]);
    expect(chReg(rig, 0, 'SAR')).toBe(SRC + 32);
    expect(chReg(rig, 0, 'DAR')).toBe(DST + 64);
  });

  it('fixed-address bursts do not advance the address', () => {
    const rig = makeRig();
    rig.poke(SRC, [1, 2, 3, 4, 5, 6, 7, 8]);
    runProg(rig, [
      A.DMAMOV('CCR', R.makeCcr({ srcBeatBytes: 4, srcBurstLen: 2, srcInc: false, dstInc: true })),
      A.DMAMOV('SAR', SRC), A.DMAMOV('DAR', DST), A.DMALD(), A.DMAST(), A.DMAEND(),
    ]);
    expect(Array.from(rig.peek(DST, 8))).toEqual([1, 2, 3, 4, 1, 2, 3, 4]);
    expect(chReg(rig, 0, 'SAR')).toBe(SRC);
  });

  it('endian swap on stores swaps bytes within each 32-bit group', () => {
    const rig = makeRig();
    rig.poke(SRC, [1, 2, 3, 4, 5, 6, 7, 8]);
    runProg(rig, [
      A.DMAMOV('CCR', R.makeCcr({ srcBeatBytes: 8, srcBurstLen: 1, endianSwap: 2 })),
      A.DMAMOV('SAR', SRC), A.DMAMOV('DAR', DST), A.DMALD(), A.DMAST(), A.DMAEND(),
    ]);
    expect(Array.from(rig.peek(DST, 8))).toEqual([4, 3, 2, 1, 8, 7, 6, 5]);
  });

  it('conditional DMALDS/DMALDB/DMASTB follow the request type (single after DMAGO)', () => {
    const rig = makeRig();
    rig.poke(SRC, [9, 9, 9, 9, 8, 8, 8, 8]);
    runProg(rig, [
      A.DMAMOV('CCR', R.makeCcr({ srcBeatBytes: 4, srcBurstLen: 1 })),
      A.DMAMOV('SAR', SRC), A.DMAMOV('DAR', DST),
      A.DMALD('B'), // skipped: request type is single
      A.DMALD('S'), A.DMAST('B'), A.DMAST('S'), A.DMAEND(),
    ]);
    expect(Array.from(rig.peek(DST, 4))).toEqual([9, 9, 9, 9]);
    expect(chReg(rig, 0, 'SAR')).toBe(SRC + 4);
    expect(chReg(rig, 0, 'DAR')).toBe(DST + 4);
  });

  it('DMALP/DMALPEND run the body lc+1 times on both counters; LC registers are visible', () => {
    for (const accel of [true, false]) {
      const rig = makeRig({ accel });
      rig.poke(SRC, Array.from({ length: 256 }, (_, i) => i));
      const a = new A.Pl330Asm();
      a.mov('CCR', R.makeCcr({ srcBeatBytes: 4, srcBurstLen: 4 })).mov('SAR', SRC).mov('DAR', DST);
      a.lp(1, 4).lp(0, 3).emit(A.DMALD()).emit(A.DMAST()).lpEnd().lpEnd().emit(A.DMAEND());
      runProg(rig, [a.bytes]);
      expect(chReg(rig, 0, 'DAR')).toBe(DST + 4 * 3 * 16);
      expect(Array.from(rig.peek(DST, 192))).toEqual(Array.from({ length: 192 }, (_, i) => i));
      expect(rig.peek(DST + 192, 1)[0]).toBe(0);
      expect(chReg(rig, 0, 'LC0')).toBe(0);
      expect(chReg(rig, 0, 'LC1')).toBe(0);
    }
  });

  it('DMANOP, DMARMB, DMAWMB only advance the PC', () => {
    const rig = makeRig();
    runProg(rig, [A.DMANOP(), A.DMARMB(), A.DMAWMB(), A.DMAEND()]);
    expect(ftr(rig, 0)).toBe(0);
    expect(rig.reg(R.cpcOffset(0))).toBe(PROG + 3);
  });

  it('DMASEV with INTEN set raises irq[n] (level, held until INTCLR)', () => {
    const rig = makeRig();
    rig.wreg(R.REG_INTEN, 1 << 2);
    runProg(rig, [A.DMASEV(2), A.DMAEND()]);
    expect(rig.irqs[2]!.level).toBe(true);
    expect(rig.reg(R.REG_INT_EVENT_RIS)).toBe(4);
    expect(rig.reg(R.REG_INTMIS)).toBe(4);
    rig.sched.runUntil(rig.sched.now + 1_000_000);
    expect(rig.irqs[2]!.level).toBe(true);
    rig.wreg(R.REG_INTCLR, 4);
    expect(rig.irqs[2]!.level).toBe(false);
    expect(rig.reg(R.REG_INTMIS)).toBe(0);
    expect(rig.irqs[2]!.rises).toBe(1);
  });

  it('DMASEV with INTEN clear wakes a DMAWFE waiter; a pending event is consumed by a later DMAWFE', () => {
    const rig = makeRig();
    const P1 = PROG + 0x100;
    rig.poke(P1, [A.DMAWFE(3), A.DMAMOV('SAR', 0x77), A.DMAEND()].flat());
    rig.go(1, P1);
    rig.run();
    expect(csrState(rig, 1)).toBe(R.ST_WFE);
    expect((rig.reg(R.csrOffset(1)) >> 4) & 0x1f).toBe(3);
    runProg(rig, [A.DMASEV(3), A.DMAEND()]);
    expect(csrState(rig, 1)).toBe(R.ST_STOPPED);
    expect(chReg(rig, 1, 'SAR')).toBe(0x77);
    expect(rig.reg(R.REG_INT_EVENT_RIS)).toBe(0);
    expect(rig.irqs[3]!.level).toBe(false);
    // no waiter: the event stays pending until a DMAWFE consumes it
    rig.poke(PROG, [A.DMASEV(1), A.DMAEND()].flat());
    rig.go(0, PROG);
    rig.run();
    expect(rig.reg(R.REG_INT_EVENT_RIS)).toBe(2);
    rig.poke(P1, [A.DMAWFE(1), A.DMAEND()].flat());
    rig.go(1, P1);
    rig.run();
    expect(csrState(rig, 1)).toBe(R.ST_STOPPED);
    expect(rig.reg(R.REG_INT_EVENT_RIS)).toBe(0);
  });

  it('DMASEV/DMAWFE with an event number beyond the configuration are operand_invalid', () => {
    const rig = makeRig({ events: 4 });
    runProg(rig, [A.DMASEV(4)]);
    expect(ftr(rig, 0)).toBe(R.FT_OPERAND_INVALID);
    runProg(rig, [A.DMAWFE(7)], 1);
    expect(ftr(rig, 1)).toBe(R.FT_OPERAND_INVALID);
  });

  it('DMAKILL in a channel program stops it without a fault', () => {
    const rig = makeRig();
    runProg(rig, [A.DMANOP(), A.DMAKILL(), A.DMAMOV('SAR', 5)]);
    expect(csrState(rig, 0)).toBe(R.ST_STOPPED);
    expect(ftr(rig, 0)).toBe(0);
    expect(chReg(rig, 0, 'SAR')).toBe(0);
  });

  it('DMAGO is undefined in a channel; manager-only instructions fault with undef_instr', () => {
    const rig = makeRig();
    runProg(rig, [A.DMAGO(1, PROG)]);
    expect(ftr(rig, 0)).toBe(R.FT_UNDEF_INSTR);
    expect(rig.abort.level).toBe(true);
  });

  it('undefined encodings fault precisely (PC stays on the instruction)', () => {
    for (const op of [0x02, 0x06, 0x0a, 0x21, 0x33, 0x37, 0xff]) {
      const rig = makeRig();
      runProg(rig, [A.DMANOP(), [op, 0, 0, 0, 0, 0]]);
      expect(ftr(rig, 0)).toBe(R.FT_UNDEF_INSTR);
      expect(rig.reg(R.cpcOffset(0))).toBe(PROG + 1);
      expect(csrState(rig, 0)).toBe(R.ST_FAULTING);
    }
  });

  it('peripheral instructions with a peripheral beyond the configuration are operand_invalid', () => {
    for (const insn of [A.DMAWFP(4, 'S'), A.DMALDP('S', 5), A.DMASTP('B', 6), A.DMAFLUSHP(7)]) {
      const rig = makeRig({ periphReqs: 4 });
      runProg(rig, [insn]);
      expect(ftr(rig, 0)).toBe(R.FT_OPERAND_INVALID);
    }
  });

  it('a non-secure channel may not program secure data accesses (ch_rdwr_err)', () => {
    const rig = makeRig();
    runProg(rig, [A.DMAMOV('CCR', R.makeCcr({ srcProt: 0 }))]);
    expect(ftr(rig, 0)).toBe(R.FT_CH_RDWR_ERR);
  });

  it('events and peripherals marked secure fault for a non-secure channel', () => {
    const rig = makeRig({ irqNs: 0xfffffffe, periphNs: 0xfffffffe });
    runProg(rig, [A.DMASEV(0)]);
    expect(ftr(rig, 0)).toBe(R.FT_CH_EVNT_ERR);
    runProg(rig, [A.DMAWFP(0, 'S')], 1);
    expect(ftr(rig, 1)).toBe(R.FT_CH_PERIPH_ERR);
  });
});
