import type { AddressSpace } from './mm.js';

/** zeros for UserMemory.fill (never written) */
const ZERO_FILL = new Uint8Array(16 * 1024);

/** The guest-side accessor object (sys.mem) over an address space: loads, stores and copies as the user, for guest programs and tests. */
export class UserMemory {
  constructor(readonly mm: AddressSpace) {}
  read8(va: number): number {
    return this.mm.loadU(va, 1);
  }
  read16(va: number): number {
    return this.mm.loadU(va, 2);
  }
  read32(va: number): number {
    return this.mm.loadU(va, 4);
  }
  read64(va: number): bigint {
    const lo = this.mm.loadU(va, 4);
    const hi = this.mm.loadU(va + 4, 4);
    return (BigInt(hi) << 32n) | BigInt(lo);
  }
  write8(va: number, v: number): void {
    this.mm.storeU(va, 1, v);
  }
  write16(va: number, v: number): void {
    this.mm.storeU(va, 2, v);
  }
  write32(va: number, v: number): void {
    this.mm.storeU(va, 4, v);
  }
  write64(va: number, v: bigint): void {
    this.mm.storeU(va, 4, Number(BigInt.asUintN(32, v)));
    this.mm.storeU(va + 4, 4, Number(BigInt.asUintN(32, v >> 32n)));
  }
  readBytes(va: number, len: number): Uint8Array {
    const b = new Uint8Array(len);
    this.mm.copy(va, b, 0, len, false, true);
    return b;
  }
  writeBytes(va: number, data: Uint8Array): void {
    this.mm.copy(va, data, 0, data.length, true, true);
  }
  fill(va: number, byte: number, len: number): void {
    // zeros (every malloc of the guest programs' libc) come from one shared buffer; the copy
    // and its cost are those of writing the same bytes
    if (byte === 0 && len <= ZERO_FILL.length) this.mm.copy(va, ZERO_FILL, 0, len, true, true);
    else this.writeBytes(va, new Uint8Array(len).fill(byte));
  }
  readCString(va: number, max = 4096): string {
    let s = '';
    for (let i = 0; i < max; i++) {
      const c = this.mm.loadU(va + i, 1);
      if (c === 0) break;
      s += String.fromCharCode(c);
    }
    return s;
  }
  writeCString(va: number, s: string): void {
    const b = new Uint8Array(s.length + 1);
    for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i) & 0xff;
    this.writeBytes(va, b);
  }
}
