/**
 * A tiny PL330 program assembler. Each `DMA*` function returns the encoded bytes of one
 * instruction, built on the ISA table's encodings (isa.ts: `op('DMALD')` is the table's
 * first-byte encoding, so the assembler, the executor and the disassembler share them);
 * `Pl330Asm` strings instructions together and resolves DMALP/DMALPEND pairs;
 * `assembleLine` reads the disassembler's text back (DMA-330 TRM, ARM DDI 0424, chapter 4).
 */
import { insn } from './isa.js';

export type Cond = 'always' | 'S' | 'B';
export type WfpCond = 'S' | 'B' | 'P';
export type AddrReg = 'SAR' | 'DAR';
export type MovReg = 'SAR' | 'CCR' | 'DAR';

const op = (name: string): number => insn(name).enc;
const u8 = (n: number): number => n & 0xff;
/** bs, x bits [1:0] of DMALD/DMAST/DMALPEND: always 00, S 01, B 11 */
const condBits = (c: Cond): number => (c === 'always' ? 0 : c === 'S' ? 1 : 3);
const imm32 = (v: number): number[] => [u8(v), u8(v >>> 8), u8(v >>> 16), u8(v >>> 24)];

export const DMAADDH = (ra: AddrReg, imm: number): number[] => [op('DMAADDH') | ((ra === 'DAR' ? 1 : 0) << 1), u8(imm), u8(imm >>> 8)];
export const DMAADNH = (ra: AddrReg, imm: number): number[] => [op('DMAADNH') | ((ra === 'DAR' ? 1 : 0) << 1), u8(imm), u8(imm >>> 8)];
export const DMAEND = (): number[] => [op('DMAEND')];
export const DMAFLUSHP = (periph: number): number[] => [op('DMAFLUSHP'), u8(periph << 3)];
export const DMAGO = (chan: number, pc: number, ns = true): number[] => [op('DMAGO') | ((ns ? 1 : 0) << 1), chan & 7, ...imm32(pc)];
export const DMAKILL = (): number[] => [op('DMAKILL')];
export const DMALD = (c: Cond = 'always'): number[] => [op('DMALD') | condBits(c)];
export const DMALDP = (c: 'S' | 'B', periph: number): number[] => [op('DMALDP') | (c === 'B' ? 2 : 0), u8(periph << 3)];
/** DMALP: `iterations` is 1..256 (encoded as iterations-1) */
export const DMALP = (lc: 0 | 1, iterations: number): number[] => [op('DMALP') | (lc << 1), u8(iterations - 1)];
/** DMALPEND: `jump` is the backward distance in bytes from this instruction to the loop start */
export const DMALPEND = (lc: 0 | 1, jump: number, c: Cond = 'always'): number[] => [op('DMALPEND') | (lc << 2) | condBits(c), u8(jump)];
/** DMALPFE (loop forever); encoded with lc bit 1 so that S/B conditions do not collide with DMASTP */
export const DMALPFE = (jump: number, c: Cond = 'always', lc: 0 | 1 = 1): number[] => [op('DMALPFE') | (lc << 2) | condBits(c), u8(jump)];
export const DMAMOV = (rd: MovReg, imm: number): number[] => [op('DMAMOV'), rd === 'SAR' ? 0 : rd === 'CCR' ? 1 : 2, ...imm32(imm)];
export const DMANOP = (): number[] => [op('DMANOP')];
export const DMARMB = (): number[] => [op('DMARMB')];
export const DMASEV = (ev: number): number[] => [op('DMASEV'), u8(ev << 3)];
export const DMAST = (c: Cond = 'always'): number[] => [op('DMAST') | condBits(c)];
export const DMASTP = (c: 'S' | 'B', periph: number): number[] => [op('DMASTP') | (c === 'B' ? 2 : 0), u8(periph << 3)];
export const DMASTZ = (): number[] => [op('DMASTZ')];
export const DMAWFE = (ev: number, invalidate = false): number[] => [op('DMAWFE'), u8((ev << 3) | (invalidate ? 2 : 0))];
export const DMAWFP = (periph: number, c: WfpCond): number[] => [op('DMAWFP') | (c === 'S' ? 0 : c === 'B' ? 2 : 1), u8(periph << 3)];
export const DMAWMB = (): number[] => [op('DMAWMB')];

/** DBGINST0/DBGINST1 values for a debug instruction (bytes[0..5]); `channel` undefined = manager. */
export function debugInst(bytes: number[], channel?: number): [number, number] {
  const b = (i: number): number => bytes[i] ?? 0;
  const inst0 = ((channel === undefined ? 0 : 1) | ((channel ?? 0) & 7) << 8 | (b(0) << 16) | (b(1) << 24)) >>> 0;
  const inst1 = (b(2) | (b(3) << 8) | (b(4) << 16) | (b(5) << 24)) >>> 0;
  return [inst0, inst1];
}

/**
 * One line of disassembler text (isa.ts `disassemble`) back to bytes, e.g. "DMAMOV CCR,
 * 0x80200", "DMALPEND LC1, 4", "DMALDPB 2", "DMAWFP 1, periph", "DMAGO C2, 0x1000, ns".
 * Throws on text it does not know.
 */
export function assembleLine(text: string): number[] {
  const m = /^\s*([A-Z]+)\s*(.*?)\s*$/.exec(text);
  if (!m) throw new SyntaxError(`pl330 asm: cannot read "${text}"`);
  const word = m[1]!;
  const args = m[2]! === '' ? [] : m[2]!.split(',').map((s) => s.trim());
  const num = (i: number): number => {
    const v = Number(args[i]);
    if (args[i] === undefined || !Number.isFinite(v)) throw new SyntaxError(`pl330 asm: "${text}": operand ${i + 1} is not a number`);
    return v;
  };
  const lc = (i: number): 0 | 1 => {
    if (args[i] !== 'LC0' && args[i] !== 'LC1') throw new SyntaxError(`pl330 asm: "${text}": expected LC0 or LC1`);
    return args[i] === 'LC1' ? 1 : 0;
  };
  const reg = <T extends string>(i: number, ok: readonly T[]): T => {
    if (!ok.includes(args[i] as T)) throw new SyntaxError(`pl330 asm: "${text}": expected ${ok.join('/')}`);
    return args[i] as T;
  };
  // mnemonics with a condition suffix: the base name and S/B
  const c = (base: string): Cond | null => (word === base ? 'always' : word === `${base}S` ? 'S' : word === `${base}B` ? 'B' : null);
  switch (word) {
    case 'DMAADDH': return DMAADDH(reg(0, ['SAR', 'DAR'] as const), num(1));
    case 'DMAADNH': return DMAADNH(reg(0, ['SAR', 'DAR'] as const), num(1));
    case 'DMAEND': return DMAEND();
    case 'DMAFLUSHP': return DMAFLUSHP(num(0));
    case 'DMAGO': {
      const ch = /^C([0-7])$/.exec(args[0] ?? '');
      if (!ch) throw new SyntaxError(`pl330 asm: "${text}": expected a channel C0..C7`);
      return DMAGO(Number(ch[1]), num(1), args[2] === 'ns');
    }
    case 'DMAKILL': return DMAKILL();
    case 'DMALP': return DMALP(lc(0), num(1));
    case 'DMAMOV': return DMAMOV(reg(0, ['SAR', 'CCR', 'DAR'] as const), num(1));
    case 'DMANOP': return DMANOP();
    case 'DMARMB': return DMARMB();
    case 'DMASEV': return DMASEV(num(0));
    case 'DMASTZ': return DMASTZ();
    case 'DMAWFE': return DMAWFE(num(0), args[1] === 'invalid');
    case 'DMAWFP': return DMAWFP(num(0), ({ single: 'S', burst: 'B', periph: 'P' } as const)[reg(1, ['single', 'burst', 'periph'] as const)]);
    case 'DMAWMB': return DMAWMB();
  }
  let k: Cond | null;
  if ((k = c('DMALD')) !== null) return DMALD(k);
  if ((k = c('DMAST')) !== null) return DMAST(k);
  if ((k = c('DMALPEND')) !== null) return DMALPEND(lc(0), num(1), k);
  if ((k = c('DMALPFE')) !== null) return DMALPFE(num(1), k, lc(0));
  if (word === 'DMALDPS' || word === 'DMALDPB') return DMALDP(word.endsWith('B') ? 'B' : 'S', num(0));
  if (word === 'DMASTPS' || word === 'DMASTPB') return DMASTP(word.endsWith('B') ? 'B' : 'S', num(0));
  throw new SyntaxError(`pl330 asm: unknown instruction "${word}"`);
}

/** Program builder with loop bookkeeping. */
export class Pl330Asm {
  readonly bytes: number[] = [];
  private loops: { lc: 0 | 1; start: number }[] = [];

  get length(): number {
    return this.bytes.length;
  }

  emit(insn: number[]): this {
    for (const b of insn) this.bytes.push(b & 0xff);
    return this;
  }

  mov(rd: MovReg, v: number): this {
    return this.emit(DMAMOV(rd, v));
  }

  /** DMALP lc, n; the body follows until `lpEnd()` */
  lp(lc: 0 | 1, iterations: number): this {
    this.emit(DMALP(lc, iterations));
    this.loops.push({ lc, start: this.bytes.length });
    return this;
  }

  lpEnd(c: Cond = 'always'): this {
    const l = this.loops.pop();
    if (!l) throw new Error('lpEnd without lp');
    return this.emit(DMALPEND(l.lc, this.bytes.length - l.start, c));
  }

  /** start of a DMALPFE loop; close with lpfeEnd() */
  lpfe(): this {
    this.loops.push({ lc: 1, start: this.bytes.length });
    return this;
  }

  lpfeEnd(c: Cond = 'always'): this {
    const l = this.loops.pop();
    if (!l) throw new Error('lpfeEnd without lpfe');
    return this.emit(DMALPFE(this.bytes.length - l.start, c));
  }

  toBytes(): Uint8Array {
    return Uint8Array.from(this.bytes);
  }
}
