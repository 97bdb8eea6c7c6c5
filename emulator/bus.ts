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

export interface RamRegion {
  readonly kind: 'ram';
  readonly name: string;
  readonly base: number;
  readonly size: number;
  readonly bytes: Uint8Array;
  readonly view: DataView;
  /**
   * Optional write record (snapshot/restore, tools/fuzz/snapshot.ts): when set, one byte
   * per 4 KiB page, set to 1 by every writer of the region's bytes (the bus, the PL330's
   * RAM-to-RAM copies, the kernel model's page allocator, kmalloc heap and user-memory
   * stores). null/absent (the default) costs one property test per write.
   */
  dirty?: Uint8Array | null;
}

/** Record that [off, off+len) of a RAM region (offsets within the region) was written. */
export function ramWritten(r: RamRegion, off: number, len: number): void {
  const d = r.dirty;
  if (!d || len <= 0) return;
  const last = (off + len - 1) >>> 12;
  for (let p = off >>> 12; p <= last; p++) d[p] = 1;
}

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
 * The physical address space: RAM regions (ArrayBuffer-backed; Node allocates them
 * zero-filled and the OS commits pages only when touched, so a 256 MiB board costs
 * nothing until used) and MMIO regions. Little-endian.
 */
export class PhysicalBus {
  /** regions sorted by base, non-overlapping */
  private regions: Region[] = [];
  private lastHit: Region | null = null;
  mmioObserver: MmioObserver | null = null;

  addRam(name: string, base: number, size: number): RamRegion {
    const buf = new ArrayBuffer(size);
    const r: RamRegion = { kind: 'ram', name, base, size, bytes: new Uint8Array(buf), view: new DataView(buf), dirty: null };
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
      const v = r.view;
      switch (size) {
        case 1: return v.getUint8(off);
        case 2: return v.getUint16(off, true);
        case 4: return v.getUint32(off, true);
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
      const v = r.view;
      if (r.dirty) ramWritten(r, off, size);
      switch (size) {
        case 1: v.setUint8(off, value); return BUS_OK;
        case 2: v.setUint16(off, value, true); return BUS_OK;
        case 4: v.setUint32(off, value >>> 0, true); return BUS_OK;
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
      out[0] = r.view.getUint32(off, true);
      out[1] = r.view.getUint32(off + 4, true);
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
      if (r.dirty) ramWritten(r, off, 8);
      r.view.setUint32(off, lo >>> 0, true);
      r.view.setUint32(off + 4, hi >>> 0, true);
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
        const o = addr - r.base;
        // small copies (ioctl structs) byte by byte: no view allocated per call
        if (n <= 64) for (let i = 0, b = r.bytes; i < n; i++) dst[dstOff + i] = b[o + i]!;
        else dst.set(r.bytes.subarray(o, o + n), dstOff);
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
        if (n <= 64) for (let i = 0, b = r.bytes, o = addr - r.base; i < n; i++) b[o + i] = src[srcOff + i]!;
        else r.bytes.set(src.subarray(srcOff, srcOff + n), addr - r.base);
        if (r.dirty) ramWritten(r, addr - r.base, n);
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
      r.bytes.fill(value, addr - r.base, addr - r.base + len);
      if (r.dirty) ramWritten(r, addr - r.base, len);
      return BUS_OK;
    }
    const tmp = new Uint8Array(len).fill(value);
    return this.writeBlock(addr, tmp, 0, len, attrs);
  }
}
