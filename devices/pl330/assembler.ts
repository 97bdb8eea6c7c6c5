/**
 * A tiny PL330 program assembler. Each `DMA*` function returns the encoded bytes of one
 * instruction; `Pl330Asm` strings them together and resolves DMALP/DMALPEND pairs.
 * Encodings: shared/reference/pl330.md (TRM DDI 0424, chapter 4).
 */
export type Cond = 'always' | 'S' | 'B';
export type WfpCond = 'S' | 'B' | 'P';
export type AddrReg = 'SAR' | 'DAR';
export type MovReg = 'SAR' | 'CCR' | 'DAR';

const u8 = (n: number): number => n & 0xff;
const condBits = (c: Cond): number => (c === 'always' ? 0 : c === 'S' ? 1 : 3);
const imm32 = (v: number): number[] => [u8(v), u8(v >>> 8), u8(v >>> 16), u8(v >>> 24)];

export const DMAADDH = (ra: AddrReg, imm: number): number[] => [0x54 | ((ra === 'DAR' ? 1 : 0) << 1), u8(imm), u8(imm >>> 8)];
export const DMAADNH = (ra: AddrReg, imm: number): number[] => [0x5c | ((ra === 'DAR' ? 1 : 0) << 1), u8(imm), u8(imm >>> 8)];
export const DMAEND = (): number[] => [0x00];
export const DMAFLUSHP = (periph: number): number[] => [0x35, u8(periph << 3)];
export const DMAGO = (chan: number, pc: number, ns = true): number[] => [0xa0 | ((ns ? 1 : 0) << 1), chan & 7, ...imm32(pc)];
export const DMAKILL = (): number[] => [0x01];
export const DMALD = (c: Cond = 'always'): number[] => [0x04 | condBits(c)];
export const DMALDP = (c: 'S' | 'B', periph: number): number[] => [0x25 | (c === 'B' ? 2 : 0), u8(periph << 3)];
/** DMALP: `iterations` is 1..256 (encoded as iterations-1) */
export const DMALP = (lc: 0 | 1, iterations: number): number[] => [0x20 | (lc << 1), u8(iterations - 1)];
/** DMALPEND: `jump` is the backward distance in bytes from this instruction to the loop start */
export const DMALPEND = (lc: 0 | 1, jump: number, c: Cond = 'always'): number[] => [0x38 | (lc << 2) | condBits(c), u8(jump)];
/** DMALPFE (loop forever); encoded with lc bit 1 so that S/B conditions do not collide with DMASTP */
export const DMALPFE = (jump: number, c: Cond = 'always'): number[] => [0x2c | condBits(c), u8(jump)];
export const DMAMOV = (rd: MovReg, imm: number): number[] => [0xbc, rd === 'SAR' ? 0 : rd === 'CCR' ? 1 : 2, ...imm32(imm)];
export const DMANOP = (): number[] => [0x18];
export const DMARMB = (): number[] => [0x12];
export const DMASEV = (ev: number): number[] => [0x34, u8(ev << 3)];
export const DMAST = (c: Cond = 'always'): number[] => [0x08 | condBits(c)];
export const DMASTP = (c: 'S' | 'B', periph: number): number[] => [0x29 | (c === 'B' ? 2 : 0), u8(periph << 3)];
export const DMASTZ = (): number[] => [0x0c];
export const DMAWFE = (ev: number, invalidate = false): number[] => [0x36, u8((ev << 3) | (invalidate ? 2 : 0))];
export const DMAWFP = (periph: number, c: WfpCond): number[] => [c === 'S' ? 0x30 : c === 'B' ? 0x32 : 0x31, u8(periph << 3)];
export const DMAWMB = (): number[] => [0x13];

/** DBGINST0/DBGINST1 values for a debug instruction (bytes[0..5]); `channel` undefined = manager. */
export function debugInst(bytes: number[], channel?: number): [number, number] {
  const b = (i: number): number => bytes[i] ?? 0;
  const inst0 = ((channel === undefined ? 0 : 1) | ((channel ?? 0) & 7) << 8 | (b(0) << 16) | (b(1) << 24)) >>> 0;
  const inst1 = (b(2) | (b(3) << 8) | (b(4) << 16) | (b(5) << 24)) >>> 0;
  return [inst0, inst1];
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
