/**
 * The PL330 instruction cache (DMA-330 TRM, ARM DDI 0424, chapter 2; geometry in CR1, TRM
 * 3.4): `icache-lines` lines of `icache-line-words` 32-bit words, shared by all
 * threads, filled by line-sized instruction reads through the master port. Replacement is
 * round-robin (the TRM does not specify it).
 */
export class Icache<T> {
  readonly lineBytes: number;
  private readonly tags: Float64Array;
  private readonly data: Uint8Array;
  private victim = 0;
  private last = 0;

  /** `fill(who, lineAddr, buf, off, len)` reads a line for thread `who`; true on success */
  constructor(lines: number, lineWords: number, private readonly fill: (who: T, lineAddr: number, buf: Uint8Array, off: number, len: number) => boolean) {
    this.lineBytes = lineWords * 4;
    this.tags = new Float64Array(lines).fill(-1);
    this.data = new Uint8Array(lines * this.lineBytes);
  }

  invalidate(): void {
    this.tags.fill(-1);
  }

  /** Byte at `addr` for thread `who` (a miss fills the line); -1 when the fill failed. */
  byte(addr: number, who: T): number {
    const lb = this.lineBytes;
    const la = addr - (addr % lb);
    const tags = this.tags;
    let idx = -1;
    if (tags[this.last] === la) idx = this.last;
    else {
      for (let i = 0; i < tags.length; i++) if (tags[i] === la) { idx = i; break; }
    }
    if (idx < 0) {
      idx = this.victim;
      this.victim = (this.victim + 1) % tags.length;
      tags[idx] = -1;
      if (!this.fill(who, la, this.data, idx * lb, lb)) return -1;
      tags[idx] = la;
    }
    this.last = idx;
    return this.data[idx * lb + (addr - la)]!;
  }

  /** is the line holding `addr` cached? (no state change) */
  has(addr: number): boolean {
    const la = addr - (addr % this.lineBytes);
    for (let i = 0; i < this.tags.length; i++) if (this.tags[i] === la) return true;
    return false;
  }

  /** the cached byte at `addr`, or -1 when its line is not cached (no state change) */
  peek(addr: number): number {
    const lb = this.lineBytes;
    const la = addr - (addr % lb);
    for (let i = 0; i < this.tags.length; i++) if (this.tags[i] === la) return this.data[i * lb + (addr - la)]!;
    return -1;
  }
}
