/**
 * The ISA table (isa.ts) is the single source of instruction sizes and encodings: the
 * assembler, the executor and the disassembler agree with it for every opcode.
 */
import { describe, expect, it } from 'vitest';
import * as A from './assembler.js';
import * as R from './constants.js';
import { DECODE, disassemble, disassembleProgram, ISA, pl330InsnSize } from './isa.js';
import { makeRig, RAM_BASE } from './testing/fixture.js';

const PROG = RAM_BASE + 0x10000;

/** Every encoding of every instruction, as the assembler produces it, with its expected text. */
const SAMPLES: Record<string, [number[], string][]> = {
  DMAADDH: [[A.DMAADDH('SAR', 0x1234), 'DMAADDH SAR, 0x1234'], [A.DMAADDH('DAR', 1), 'DMAADDH DAR, 0x1']],
  DMAADNH: [[A.DMAADNH('SAR', 0xfff0), 'DMAADNH SAR, 0xfff0'], [A.DMAADNH('DAR', 0x10), 'DMAADNH DAR, 0x10']],
  DMAEND: [[A.DMAEND(), 'DMAEND']],
  DMAFLUSHP: [[A.DMAFLUSHP(3), 'DMAFLUSHP 3']],
  DMAGO: [[A.DMAGO(2, 0x12345678, true), 'DMAGO C2, 0x12345678, ns'], [A.DMAGO(1, 0x80000000, false), 'DMAGO C1, 0x80000000']],
  DMAKILL: [[A.DMAKILL(), 'DMAKILL']],
  DMALD: [[A.DMALD(), 'DMALD'], [A.DMALD('S'), 'DMALDS'], [A.DMALD('B'), 'DMALDB']],
  DMALDP: [[A.DMALDP('S', 2), 'DMALDPS 2'], [A.DMALDP('B', 31), 'DMALDPB 31']],
  DMALP: [[A.DMALP(0, 256), 'DMALP LC0, 256'], [A.DMALP(1, 1), 'DMALP LC1, 1']],
  DMALPEND: [
    [A.DMALPEND(0, 4), 'DMALPEND LC0, 4'], [A.DMALPEND(0, 9, 'S'), 'DMALPENDS LC0, 9'], [A.DMALPEND(0, 2, 'B'), 'DMALPENDB LC0, 2'],
    [A.DMALPEND(1, 4), 'DMALPEND LC1, 4'], [A.DMALPEND(1, 4, 'S'), 'DMALPENDS LC1, 4'], [A.DMALPEND(1, 255, 'B'), 'DMALPENDB LC1, 255'],
  ],
  DMALPFE: [
    [A.DMALPFE(3, 'always', 0), 'DMALPFE LC0, 3'], [A.DMALPFE(3), 'DMALPFE LC1, 3'],
    [A.DMALPFE(7, 'S'), 'DMALPFES LC1, 7'], [A.DMALPFE(7, 'B'), 'DMALPFEB LC1, 7'],
  ],
  DMAMOV: [[A.DMAMOV('SAR', 0x80001000), 'DMAMOV SAR, 0x80001000'], [A.DMAMOV('CCR', R.CCR_RESET), 'DMAMOV CCR, 0x800200'], [A.DMAMOV('DAR', 0), 'DMAMOV DAR, 0x0']],
  DMANOP: [[A.DMANOP(), 'DMANOP']],
  DMARMB: [[A.DMARMB(), 'DMARMB']],
  DMASEV: [[A.DMASEV(5), 'DMASEV 5']],
  DMAST: [[A.DMAST(), 'DMAST'], [A.DMAST('S'), 'DMASTS'], [A.DMAST('B'), 'DMASTB']],
  DMASTP: [[A.DMASTP('S', 1), 'DMASTPS 1'], [A.DMASTP('B', 1), 'DMASTPB 1']],
  DMASTZ: [[A.DMASTZ(), 'DMASTZ']],
  DMAWFE: [[A.DMAWFE(2), 'DMAWFE 2'], [A.DMAWFE(2, true), 'DMAWFE 2, invalid']],
  DMAWFP: [[A.DMAWFP(1, 'S'), 'DMAWFP 1, single'], [A.DMAWFP(1, 'P'), 'DMAWFP 1, periph'], [A.DMAWFP(0, 'B'), 'DMAWFP 0, burst']],
  DMAWMB: [[A.DMAWMB(), 'DMAWMB']],
};

describe('ISA table', () => {
  it('has one entry per TRM instruction, and every first byte decodes to at most one', () => {
    expect(ISA.map((e) => e.name).sort()).toEqual(Object.keys(SAMPLES).sort());
    // no encoding is claimed twice (the decode table would have thrown) or lost
    expect(DECODE.filter((e) => e !== null).length).toBe(ISA.reduce((n, e) => n + countEncodings(e.enc, e.mask, e.not ?? []), 0));
    for (const bad of [0x02, 0x06, 0x0a, 0x21, 0x24, 0x2a, 0x2e, 0x33, 0x37, 0x3a, 0x3e, 0xff]) expect(DECODE[bad]).toBeNull();
  });

  it('round trip for every instruction: assemble -> disassemble -> text -> assemble', () => {
    for (const e of ISA) {
      const covered = new Set<number>();
      for (const [bytes, text] of SAMPLES[e.name]!) {
        expect(DECODE[bytes[0]!], text).toBe(e);
        expect(disassemble(bytes)).toBe(text);
        expect(A.assembleLine(text)).toEqual(bytes);
        covered.add(bytes[0]!);
      }
      // the samples cover every first byte the entry decodes
      for (let b = 0; b < 256; b++) if (DECODE[b] === e) expect(covered.has(b), `${e.name} 0x${b.toString(16)}`).toBe(true);
    }
    expect(disassemble([0x02])).toBe('.byte 0x2');
    expect(() => A.assembleLine('DMAFOO 1')).toThrow(SyntaxError);
  });

  it('the assembler and the table agree on the size of every opcode', () => {
    for (const e of ISA) for (const [bytes] of SAMPLES[e.name]!) expect(bytes.length, e.name).toBe(e.size);
    for (let b = 0; b < 256; b++) expect(pl330InsnSize(b)).toBe(DECODE[b]?.size ?? 0);
  });

  it('the executor advances the PC by the table size for every instruction that falls through', () => {
    const rig = makeRig({ accel: false, periphReqs: 4 });
    // every instruction that continues at the next one on a channel with these operands
    const a = new A.Pl330Asm()
      .mov('CCR', R.makeCcr({ srcBeatBytes: 4, srcBurstLen: 1 })).mov('SAR', RAM_BASE).mov('DAR', RAM_BASE + 0x100)
      .emit(A.DMAWFP(1, 'S')).emit(A.DMAADDH('SAR', 4)).emit(A.DMAADNH('SAR', 0xfffc)).emit(A.DMAFLUSHP(1)).emit(A.DMALD()).emit(A.DMALD('S')).emit(A.DMALD('B'))
      .emit(A.DMAST()).emit(A.DMAST('S')).emit(A.DMAST('B')).emit(A.DMALDP('B', 1)).emit(A.DMASTP('B', 1)).emit(A.DMASTZ())
      .emit(A.DMALP(0, 1)).emit(A.DMALPEND(0, 1, 'B')).emit(A.DMALPFE(2, 'B')).emit(A.DMANOP()).emit(A.DMARMB()).emit(A.DMAWMB())
      .emit(A.DMASEV(1)).emit(A.DMAWFE(1)).emit(A.DMAEND());
    rig.poke(PROG, a.bytes);
    const pcs: number[] = [];
    rig.dmac.insnObserver = (thread, pc) => {
      if (thread === 0) pcs.push(pc);
    };
    rig.dmac.peripheralRequest(1, 'single');
    rig.go(0, PROG);
    rig.run();
    expect(rig.reg(R.ftrOffset(0))).toBe(0);
    const lines = disassembleProgram(a.bytes, PROG);
    expect(pcs.map((pc) => `0x${pc.toString(16)}`)).toEqual(lines.map((l) => l.split(":")[0]));
    for (let i = 0; i + 1 < pcs.length; i++) expect(pcs[i + 1]! - pcs[i]!, lines[i]).toBe(pl330InsnSize(a.bytes[pcs[i]! - PROG]!));
  });

  it('a pl330-insn trace event carries the disassembly', () => {
    const rig = makeRig({ traceInstructions: true }, { trace: true });
    rig.poke(PROG, [A.DMAMOV('SAR', 0x1000), A.DMANOP(), A.DMAEND()].flat());
    rig.go(0, PROG);
    rig.run();
    const dis = rig.tracer.events.filter((e) => e.kind === 'pl330-insn').map((e) => e.f['dis']);
    expect(dis).toEqual(['DMAMOV SAR, 0x1000', 'DMANOP', 'DMAEND']);
  });
});

function countEncodings(enc: number, mask: number, not: readonly number[]): number {
  let n = 0;
  for (let b = 0; b < 256; b++) if ((b & mask) === enc && !not.includes(b)) n++;
  return n;
}
