import { describe, expect, it } from 'vitest';
import { ATTR_INSTR, ATTR_WRITE, isInstr, isWrite, makeAttrs, streamIdOf, type Attrs } from './attrs.js';
import { BUS_DECODE_ERROR, BUS_OK, BUS_SLAVE_ERROR, BUS_TRANSLATION_FAULT, PhysicalBus, SIZE_4, type MmioDevice } from './bus.js';
import { MasterPort, type TranslationResult, type TranslationStage } from './master.js';

class Regs implements MmioDevice {
  readonly name = 'regs';
  readonly accessSizes = SIZE_4;
  regs = new Uint32Array(4);
  seen: Array<{ off: number; write: boolean; attrs: Attrs }> = [];
  read(off: number, _size: number, attrs: Attrs): number {
    this.seen.push({ off, write: false, attrs });
    return this.regs[off >> 2]!;
  }
  write(off: number, _size: number, v: number, attrs: Attrs): number {
    this.seen.push({ off, write: true, attrs });
    this.regs[off >> 2] = v;
    return BUS_OK;
  }
}

/** toy translator: adds 0x1000 to every address, refuses instruction fetches from [0x3000,0x4000) */
class Toy implements TranslationStage {
  readonly name = 'toy';
  calls: Array<{ va: number; attrs: Attrs }> = [];
  translate(va: number, attrs: Attrs, out: TranslationResult): void {
    this.calls.push({ va, attrs });
    out.costNs = 3;
    if (va >= 0x3000 && va < 0x4000 && isInstr(attrs)) {
      out.status = BUS_TRANSLATION_FAULT;
      out.extent = 0;
      return;
    }
    out.status = BUS_OK;
    out.pa = 0x8000_0000 + va + 0x1000;
    out.extent = 0x1000 - (va & 0xfff);
  }
}

describe('PhysicalBus', () => {
  it('reads and writes RAM little-endian in 1/2/4/8-byte accesses', () => {
    const bus = new PhysicalBus();
    bus.addRam('ram', 0x8000_0000, 0x10000);
    const a = makeAttrs({});
    expect(bus.write(0x8000_0000, 4, 0x11223344, a)).toBe(BUS_OK);
    expect(bus.read(0x8000_0000, 1, a)).toBe(0x44);
    expect(bus.read(0x8000_0002, 2, a)).toBe(0x1122);
    expect(bus.write64(0x8000_0008, 0xdeadbeef, 0x01020304, a)).toBe(BUS_OK);
    const out = new Uint32Array(2);
    expect(bus.read64(0x8000_0008, a, out)).toBe(BUS_OK);
    expect([...out]).toEqual([0xdeadbeef, 0x01020304]);
  });

  it('answers a decode error for an access to nothing, never an exception', () => {
    const bus = new PhysicalBus();
    bus.addRam('ram', 0x8000_0000, 0x1000);
    const a = makeAttrs({});
    expect(bus.read(0x1000, 4, a)).toBe(BUS_DECODE_ERROR);
    expect(bus.write(0x9000_0000, 4, 1, a)).toBe(BUS_DECODE_ERROR);
    // straddling the end of a region
    expect(bus.read(0x8000_0ffe, 4, a)).toBe(BUS_DECODE_ERROR);
    expect(bus.read64(0x1000, a, new Uint32Array(2))).toBe(BUS_DECODE_ERROR);
  });

  it('rejects access sizes a device does not accept with a slave error', () => {
    const bus = new PhysicalBus();
    const regs = new Regs();
    bus.addMmio('regs', 0x1000, 0x10, regs);
    const a = makeAttrs({});
    expect(bus.read(0x1000, 1, a)).toBe(BUS_SLAVE_ERROR);
    expect(bus.write(0x1000, 2, 5, a)).toBe(BUS_SLAVE_ERROR);
    expect(bus.read64(0x1000, a, new Uint32Array(2))).toBe(BUS_SLAVE_ERROR);
    expect(regs.seen).toHaveLength(0);
    expect(bus.write(0x1004, 4, 7, a)).toBe(BUS_OK);
    expect(bus.read(0x1004, 4, a)).toBe(7);
  });

  it('refuses overlapping regions', () => {
    const bus = new PhysicalBus();
    bus.addRam('a', 0x1000, 0x1000);
    expect(() => bus.addRam('b', 0x1800, 0x1000)).toThrow(/overlaps/);
  });

  it('bulk block paths copy across RAM and fall back to register accesses for MMIO', () => {
    const bus = new PhysicalBus();
    bus.addRam('ram', 0x8000_0000, 0x4000);
    const regs = new Regs();
    bus.addMmio('regs', 0x1000, 0x10, regs);
    const a = makeAttrs({});
    const src = Uint8Array.from({ length: 0x100 }, (_, i) => i);
    expect(bus.writeBlock(0x8000_0010, src, 0, 0x100, a)).toBe(BUS_OK);
    const dst = new Uint8Array(0x100);
    expect(bus.readBlock(0x8000_0010, dst, 0, 0x100, a)).toBe(BUS_OK);
    expect(dst).toEqual(src);
    expect(bus.writeBlock(0x1000, src, 0, 8, a)).toBe(BUS_OK);
    expect(regs.regs[0]).toBe(0x03020100);
    expect(regs.regs[1]).toBe(0x07060504);
    expect(bus.readBlock(0x7fff_fff0, dst, 0, 0x20, a)).toBe(BUS_DECODE_ERROR);
  });
});

describe('MasterPort', () => {
  it('propagates every attribute through the translation stage to the device', () => {
    const bus = new PhysicalBus();
    bus.addRam('ram', 0x8000_0000, 0x10000);
    const regs = new Regs();
    bus.addMmio('regs', 0x10, 0x10, regs);
    const toy = new Toy();
    const port = new MasterPort(bus, 'dma', toy);
    const attrs = makeAttrs({ write: true, priv: true, ns: true, streamId: 0x1234 });
    expect(port.write(0x20, 4, 0xabcd, attrs)).toBe(BUS_OK);
    expect(toy.calls[0]).toEqual({ va: 0x20, attrs });
    expect(isWrite(toy.calls[0]!.attrs)).toBe(true);
    expect(streamIdOf(toy.calls[0]!.attrs)).toBe(0x1234);
    expect(bus.read(0x8000_1020, 4, attrs)).toBe(0xabcd);
    expect(port.takeCost()).toBe(3);
    // without a translator the port reaches the device directly with the same attributes
    const direct = new MasterPort(bus, 'cpu', null);
    const ra = makeAttrs({ instr: true, streamId: 7 });
    direct.read(0x14, 4, ra);
    expect(regs.seen.at(-1)).toEqual({ off: 4, write: false, attrs: ra });
  });

  it('reports a translation fault on an instruction fetch the stage refuses, while a data read passes', () => {
    const bus = new PhysicalBus();
    bus.addRam('ram', 0x8000_0000, 0x10000);
    const port = new MasterPort(bus, 'dma', new Toy());
    const data = makeAttrs({ streamId: 1 });
    const instr = data | ATTR_INSTR;
    expect(port.read(0x3000, 4, data)).toBeGreaterThanOrEqual(0);
    expect(port.read(0x3000, 4, instr)).toBe(BUS_TRANSLATION_FAULT);
    expect(port.lastFault).toEqual({ va: 0x3000, attrs: instr, status: BUS_TRANSLATION_FAULT });
  });

  it('translates bulk transfers once per page', () => {
    const bus = new PhysicalBus();
    bus.addRam('ram', 0x8000_0000, 0x10000);
    const toy = new Toy();
    const port = new MasterPort(bus, 'dma', toy);
    const buf = new Uint8Array(0x2000).map((_, i) => i & 0xff);
    expect(port.writeBlock(0x800, buf, 0, 0x2000, makeAttrs({ write: true }) | ATTR_WRITE)).toBe(BUS_OK);
    expect(toy.calls.map((c) => c.va)).toEqual([0x800, 0x1000, 0x2000]);
    const back = new Uint8Array(0x2000);
    bus.readBlock(0x8000_1800, back, 0, 0x2000, 0);
    expect(back).toEqual(buf);
  });
});
