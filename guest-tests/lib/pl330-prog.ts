/**
 * PL330 microcode encoder used by guest programs (user space writes the DMA program
 * itself, as the original pl330-vfio-test helper library did). Written for this project
 * from the PL330 instruction encodings (ARM DDI 0424, PL330 TRM, chapter 4 instruction set).
 */
export class Pl330Program {
  readonly bytes: number[] = [];

  get length(): number {
    return this.bytes.length;
  }

  private u32(v: number): void {
    this.bytes.push(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff);
  }

  /** DMAMOV rd, imm32: rd 0 SAR, 1 CCR, 2 DAR */
  mov(rd: 'SAR' | 'CCR' | 'DAR', imm: number): this {
    this.bytes.push(0xbc, rd === 'SAR' ? 0 : rd === 'CCR' ? 1 : 2);
    this.u32(imm >>> 0);
    return this;
  }
  /** DMALP lcN, iterations (1..256) */
  lp(lc: 0 | 1, iterations: number): this {
    this.bytes.push(0x20 | (lc << 1), (iterations - 1) & 0xff);
    return this;
  }
  /** DMALPEND lcN back to `start` (offset of the first instruction of the loop body) */
  lpend(lc: 0 | 1, start: number, cond: '' | 'S' | 'B' = ''): this {
    const here = this.bytes.length;
    const jump = here - start;
    const bs = cond === '' ? 0 : 1;
    const x = cond === 'B' ? 1 : 0;
    this.bytes.push(0x28 | (1 << 4) | (lc << 2) | (x << 1) | bs, jump & 0xff);
    return this;
  }
  ld(): this {
    this.bytes.push(0x04);
    return this;
  }
  st(): this {
    this.bytes.push(0x08);
    return this;
  }
  rmb(): this {
    this.bytes.push(0x12);
    return this;
  }
  wmb(): this {
    this.bytes.push(0x13);
    return this;
  }
  sev(event: number): this {
    this.bytes.push(0x34, (event & 0x1f) << 3);
    return this;
  }
  end(): this {
    this.bytes.push(0x00);
    return this;
  }
  kill(): this {
    this.bytes.push(0x01);
    return this;
  }
  nop(): this {
    this.bytes.push(0x18);
    return this;
  }
}

/** DMAGO encoding (6 bytes) for the debug registers: channel, pc, non-secure */
export function dmaGo(channel: number, pc: number, nonSecure: boolean): number[] {
  return [0xa0 | (nonSecure ? 2 : 0), channel & 7, pc & 0xff, (pc >>> 8) & 0xff, (pc >>> 16) & 0xff, (pc >>> 24) & 0xff];
}

/** DBGINST0 value for an instruction's first two bytes, sent to the manager or a channel */
export function dbgInst0(insn: readonly number[], channel: number | 'manager'): number {
  let v = ((insn[0] ?? 0) << 16) | ((insn[1] ?? 0) << 24);
  if (channel !== 'manager') v |= 1 | ((channel & 7) << 8);
  return v >>> 0;
}

export function dbgInst1(insn: readonly number[]): number {
  return ((insn[2] ?? 0) | ((insn[3] ?? 0) << 8) | ((insn[4] ?? 0) << 16) | ((insn[5] ?? 0) << 24)) >>> 0;
}

/**
 * CCR as the original test's helper built it: its burst-size and burst-length setters
 * fall through their switch, so the source setting is applied to the destination too.
 * Defaults: incrementing addresses, prot = non-secure unprivileged data (0b010), cache 0.
 */
export function ccrLikeOriginal(burstBytes: number, burstLen: number, prot = 0b010, cache = 0): number {
  const size = Math.log2(burstBytes);
  let ccr = 0;
  ccr |= (size << 1) | (size << 15);
  ccr |= ((burstLen - 1) << 4) | ((burstLen - 1) << 18);
  ccr |= 1 | (1 << 14);
  ccr |= (prot & 7) << 8 | (prot & 7) << 22;
  ccr |= (cache & 7) << 11 | (cache & 7) << 25;
  return ccr >>> 0;
}

/**
 * A mem-to-mem copy program shaped like the original helper's: DMAMOV CCR/SAR/DAR, then
 * loops of DMALD/DMARMB/DMAST/DMAWMB bursts (inner loop up to 256 bursts, outer loop up
 * to 256 inner loops, repeated), DMASEV event, DMAEND. One documented difference: the
 * original encoded the outer loop's DMALPEND with loop counter 0 (so any transfer over
 * 256 bursts copied only the first 256); this encoder uses counter 1, so large transfers
 * copy everything.
 */
export function memToMemProgram(opts: { src: number; dst: number; size: number; burstBytes: number; burstLen: number; event: number | null; ccr?: number }): Pl330Program {
  const p = new Pl330Program();
  const perBurst = opts.burstBytes * opts.burstLen;
  if (opts.size % perBurst !== 0) throw new RangeError(`size ${opts.size} is not a multiple of the burst (${perBurst} bytes)`);
  p.mov('CCR', opts.ccr ?? ccrLikeOriginal(opts.burstBytes, opts.burstLen));
  p.mov('SAR', opts.src);
  p.mov('DAR', opts.dst);
  let bursts = opts.size / perBurst;
  const body = (): void => {
    p.ld().rmb().st().wmb();
  };
  const loops = (inner: number, outer: number): void => {
    let outerStart = -1;
    if (outer > 1) {
      p.lp(1, outer);
      outerStart = p.length;
    }
    p.lp(0, inner);
    const innerStart = p.length;
    body();
    p.lpend(0, innerStart);
    if (outer > 1) p.lpend(1, outerStart);
  };
  while (bursts >= 65536) {
    loops(256, 256);
    bursts -= 65536;
  }
  if (bursts >= 256) {
    const outer = Math.floor(bursts / 256);
    loops(256, outer);
    bursts -= outer * 256;
  }
  if (bursts > 0) loops(bursts, 0);
  if (opts.event !== null) p.sev(opts.event);
  p.end();
  return p;
}
