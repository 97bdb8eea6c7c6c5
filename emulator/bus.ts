import type { Attrs } from './attrs.js';

/**
 * Bus status codes. A read returns a value >= 0 on success or one of these negative
 * codes; a write returns 0 or one of these. Nothing on the bus path ever throws for a
 * guest-caused condition.
 */
export const BUS_OK = 0;
/** nothing decodes at the address (AXI DECERR) */
export const BUS_DECODE_ERROR = -1;
/** the slave answered with an error, e.g. an unsupported access size (AXI SLVERR) */
export const BUS_SLAVE_ERROR = -2;
/** a translation stage (SMMU) refused the access: terminated transaction */
export const BUS_TRANSLATION_FAULT = -3;

export function busStatusName(s: number): string {
  switch (s) {
    case BUS_OK: return 'ok';
    case BUS_DECODE_ERROR: return 'decode-error';
    case BUS_SLAVE_ERROR: return 'slave-error';
    case BUS_TRANSLATION_FAULT: return 'translation-fault';
    default: return `status(${s})`;
  }
}

/** Bitmask of access sizes, used by devices to declare what they accept. */
export const SIZE_1 = 1;
export const SIZE_2 = 2;
export const SIZE_4 = 4;
export const SIZE_8 = 8;

/**
 * A memory-mapped device's register interface. Offsets are relative to the region base.
 * `read` returns the value (unsigned, size <= 4) or a negative BUS_* status; `write`
 * returns BUS_OK or a negative status. 8-byte accesses to a device that accepts them are
 * split by the bus into two 4-byte accesses, low word first (documented choice: none
 * of the modelled devices has a register that needs a single 64-bit beat).
 */
export interface MmioDevice {
  readonly name: string;
  /** OR of SIZE_* the device accepts; other sizes get BUS_SLAVE_ERROR */
  readonly accessSizes: number;
  read(offset: number, size: number, attrs: Attrs): number;
  write(offset: number, size: number, value: number, attrs: Attrs): number;
  /** the register at `offset` by its manual name (from the device's RegisterMap: "CB1.FSR"); null when none decodes. Optional: used by MMIO tracing (CLI --trace-mmio) */
  regName?(offset: number): string | null;
}

export { RamRegion } from './ram.js';
import { RamRegion } from './ram.js';

export interface MmioRegion {
  readonly kind: 'mmio';
  readonly name: string;
  readonly base: number;
  readonly size: number;
  readonly device: MmioDevice;
}

export type Region = RamRegion | MmioRegion;

/** Observer of MMIO traffic (tracing, tests). */
export type MmioObserver = (region: MmioRegion, offset: number, size: number, write: boolean, value: number, attrs: Attrs) => void;

/**
 * The physical address space: RAM regions (sparse page stores, emulator/ram.ts: chunks
 * allocated on first write, untouched memory reads as zeros at no cost) and MMIO regions.
 * Little-endian.
 */
export class PhysicalBus {
  /** regions sorted by base, non-overlapping */
  private regions: Region[] = [];
  private lastHit: Region | null = null;
  mmioObserver: MmioObserver | null = null;

  addRam(name: string, base: number, size: number): RamRegion {
    const r = new RamRegion(name, base, size);
    this.insert(r);
    return r;
  }

  addMmio(name: string, base: number, size: number, device: MmioDevice): MmioRegion {
    const r: MmioRegion = { kind: 'mmio', name, base, size, device };
    this.insert(r);
    return r;
  }

  private insert(r: Region): void {
    if (!(r.size > 0) || r.base < 0 || r.base + r.size > 2 ** 40) {
      throw new RangeError(`region ${r.name}: bad base/size 0x${r.base.toString(16)}+0x${r.size.toString(16)}`);
    }
    for (const o of this.regions) {
      if (r.base < o.base + o.size && o.base < r.base + r.size) {
        throw new RangeError(`region ${r.name} at 0x${r.base.toString(16)} overlaps ${o.name} at 0x${o.base.toString(16)}`);
      }
    }
    this.regions.push(r);
    this.regions.sort((a, b) => a.base - b.base);
  }

  listRegions(): readonly Region[] {
    return this.regions;
  }

  /** The region containing [addr, addr+len), or null. */
  find(addr: number, len = 1): Region | null {
    const h = this.lastHit;
    if (h && addr >= h.base && addr + len <= h.base + h.size) return h;
    const rs = this.regions;
    let lo = 0;
    let hi = rs.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const r = rs[mid]!;
      if (addr < r.base) hi = mid - 1;
      else if (addr >= r.base + r.size) lo = mid + 1;
      else {
        if (addr + len > r.base + r.size) return null;
        this.lastHit = r;
        return r;
      }
    }
    return null;
  }

  /** RAM region fully containing [addr, addr+len), or null (for bulk paths). */
  ramAt(addr: number, len: number): RamRegion | null {
    const r = this.find(addr, len);
    return r && r.kind === 'ram' ? r : null;
  }

  read(addr: number, size: number, attrs: Attrs): number {
    const r = this.find(addr, size);
    if (r === null) return BUS_DECODE_ERROR;
    const off = addr - r.base;
    if (r.kind === 'ram') {
      switch (size) {
        case 1: return r.read8(off);
        case 2: return r.read16(off);
        case 4: return r.read32(off);
        default: return BUS_SLAVE_ERROR;
      }
    }
    const d = r.device;
    if ((d.accessSizes & size) === 0 || size === 8) return BUS_SLAVE_ERROR;
    const val = d.read(off, size, attrs);
    if (this.mmioObserver) this.mmioObserver(r, off, size, false, val, attrs);
    return val;
  }

  write(addr: number, size: number, value: number, attrs: Attrs): number {
    const r = this.find(addr, size);
    if (r === null) return BUS_DECODE_ERROR;
    const off = addr - r.base;
    if (r.kind === 'ram') {
      switch (size) {
        case 1: r.write8(off, value); return BUS_OK;
        case 2: r.write16(off, value); return BUS_OK;
        case 4: r.write32(off, value); return BUS_OK;
        default: return BUS_SLAVE_ERROR;
      }
    }
    const d = r.device;
    if ((d.accessSizes & size) === 0 || size === 8) return BUS_SLAVE_ERROR;
    const st = d.write(off, size, value >>> 0, attrs);
    if (this.mmioObserver) this.mmioObserver(r, off, size, true, value >>> 0, attrs);
    return st;
  }

  /**
   * 64-bit read: out[0] = low word, out[1] = high word. RAM natively; a device that
   * accepts 8-byte accesses sees two 4-byte reads (low first). Returns a BUS_* status.
   */
  read64(addr: number, attrs: Attrs, out: Uint32Array): number {
    const r = this.find(addr, 8);
    if (r === null) return BUS_DECODE_ERROR;
    const off = addr - r.base;
    if (r.kind === 'ram') {
      r.read64(off, out);
      return BUS_OK;
    }
    if ((r.device.accessSizes & SIZE_8) === 0) return BUS_SLAVE_ERROR;
    const lo = r.device.read(off, 4, attrs);
    if (lo < 0) return lo;
    const hi = r.device.read(off + 4, 4, attrs);
    if (hi < 0) return hi;
    out[0] = lo;
    out[1] = hi;
    return BUS_OK;
  }

  write64(addr: number, lo: number, hi: number, attrs: Attrs): number {
    const r = this.find(addr, 8);
    if (r === null) return BUS_DECODE_ERROR;
    const off = addr - r.base;
    if (r.kind === 'ram') {
      r.write64(off, lo, hi);
      return BUS_OK;
    }
    if ((r.device.accessSizes & SIZE_8) === 0) return BUS_SLAVE_ERROR;
    const s = r.device.write(off, 4, lo >>> 0, attrs);
    if (s < 0) return s;
    return r.device.write(off + 4, 4, hi >>> 0, attrs);
  }

  /**
   * Bulk read of physical memory into dst[dstOff..]. RAM is copied as a block; MMIO is
   * read with the widest accepted access. Returns BUS_OK or the first error status
   * (bytes before the error are transferred).
   */
  readBlock(addr: number, dst: Uint8Array, dstOff: number, len: number, attrs: Attrs): number {
    while (len > 0) {
      const r = this.find(addr, 1);
      if (r === null) return BUS_DECODE_ERROR;
      const n = Math.min(len, r.base + r.size - addr);
      if (r.kind === 'ram') {
        r.readBlock(addr - r.base, dst, dstOff, n);
      } else {
        const st = this.mmioBlock(addr, dst, dstOff, n, attrs, false);
        if (st !== BUS_OK) return st;
      }
      addr += n;
      dstOff += n;
      len -= n;
    }
    return BUS_OK;
  }

  /** Bulk write of src[srcOff..srcOff+len) to physical memory. */
  writeBlock(addr: number, src: Uint8Array, srcOff: number, len: number, attrs: Attrs): number {
    while (len > 0) {
      const r = this.find(addr, 1);
      if (r === null) return BUS_DECODE_ERROR;
      const n = Math.min(len, r.base + r.size - addr);
      if (r.kind === 'ram') {
        r.writeBlock(addr - r.base, src, srcOff, n);
      } else {
        const st = this.mmioBlock(addr, src, srcOff, n, attrs, true);
        if (st !== BUS_OK) return st;
      }
      addr += n;
      srcOff += n;
      len -= n;
    }
    return BUS_OK;
  }

  private mmioBlock(addr: number, buf: Uint8Array, off: number, len: number, attrs: Attrs, write: boolean): number {
    while (len > 0) {
      let size = 4;
      while (size > 1 && (len < size || addr % size !== 0)) size >>= 1;
      if (write) {
        let v = 0;
        for (let i = size - 1; i >= 0; i--) v = (v << 8) | buf[off + i]!;
        const st = this.write(addr, size, v >>> 0, attrs);
        if (st !== BUS_OK) return st;
      } else {
        const v = this.read(addr, size, attrs);
        if (v < 0) return v;
        for (let i = 0; i < size; i++) buf[off + i] = (v >>> (8 * i)) & 0xff;
      }
      addr += size;
      off += size;
      len -= size;
    }
    return BUS_OK;
  }

  /** Fill [addr, addr+len) with a byte (RAM fast path). */
  fill(addr: number, value: number, len: number, attrs: Attrs): number {
    const r = this.ramAt(addr, len);
    if (r) {
      r.fill(addr - r.base, value, len);
      return BUS_OK;
    }
    const tmp = new Uint8Array(len).fill(value);
    return this.writeBlock(addr, tmp, 0, len, attrs);
  }
}
