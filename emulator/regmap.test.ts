import { describe, expect, it } from 'vitest';
import { BUS_OK, BUS_SLAVE_ERROR, SIZE_1, SIZE_4 } from './bus.js';
import { RegisterMap, type GuestErrorKind, type GuestErrorSink, type RegSpec } from './regmap.js';
import { Tracer } from './trace.js';

interface Dev { hits: number[] }

class Sink implements GuestErrorSink {
  readonly seen: string[] = [];
  guestError(src: string, what: GuestErrorKind, offset: number, reg: string | null, value: number | null): void {
    this.seen.push(`${src} ${what} 0x${offset.toString(16)} ${reg ?? '-'} ${value ?? '-'}`);
  }
}

const SPECS: RegSpec<Dev>[] = [
  { name: 'CTRL', offset: 0x00, access: 'RW', reset: 0x5, mask: 0xff },
  { name: 'STATUS', offset: 0x04, access: 'W1C', reset: 0xf0 },
  { name: 'ID', offset: 0x08, access: 'RO', reset: 0x1234 },
  { name: 'CMD', offset: 0x0c, access: 'WO', write: (d, v) => { d.hits.push(v); } },
  { name: 'PRIO', offset: 0x100, count: 8, access: 'RW', sizes: SIZE_1 | SIZE_4 },
  { name: 'COMPUTED', offset: 0x200, access: 'RO', read: (_d, _i, bank) => 100 + bank },
];

describe('RegisterMap', () => {
  it('dispatches by table, stores plain registers and resets them to the table values', () => {
    const sink = new Sink();
    const m = new RegisterMap<Dev>('dev0', SPECS, sink, { size: 0x1000 });
    const d: Dev = { hits: [] };
    expect(m.read(d, 0x00, 4, 0)).toBe(0x5);
    expect(m.write(d, 0x00, 4, 0xabcd, 0)).toBe(BUS_OK);
    expect(m.read(d, 0x00, 4, 0)).toBe(0xcd); // mask keeps [7:0]
    m.write(d, 0x04, 4, 0x30, 0);
    expect(m.read(d, 0x04, 4, 0)).toBe(0xc0); // W1C
    m.write(d, 0x0c, 4, 7, 0);
    expect(d.hits).toEqual([7]);
    m.write(d, 0x104, 1, 0xaa, 0);
    m.write(d, 0x105, 1, 0xbb, 0);
    expect(m.read(d, 0x104, 4, 0)).toBe(0xbbaa);
    expect(m.read(d, 0x105, 1, 0)).toBe(0xbb);
    expect(m.read(d, 0x200, 4, 0)).toBe(100);
    m.reset();
    expect(m.read(d, 0x00, 4, 0)).toBe(0x5);
    expect(m.read(d, 0x04, 4, 0)).toBe(0xf0);
    expect(m.read(d, 0x104, 4, 0)).toBe(0);
    expect(sink.seen).toEqual([]);
  });

  it('reports unmapped offsets, read-only writes, write-only reads and bad sizes, answering RAZ/WI or SLVERR', () => {
    const sink = new Sink();
    const m = new RegisterMap<Dev>('dev0', SPECS, sink, { size: 0x1000 });
    const d: Dev = { hits: [] };
    expect(m.read(d, 0x10, 4, 0)).toBe(0);
    expect(m.write(d, 0x14, 4, 9, 0)).toBe(BUS_OK);
    expect(m.write(d, 0x08, 4, 1, 0)).toBe(BUS_OK);
    expect(m.read(d, 0x08, 4, 0)).toBe(0x1234);
    expect(m.read(d, 0x0c, 4, 0)).toBe(0);
    expect(m.read(d, 0x01, 1, 0)).toBe(BUS_SLAVE_ERROR);
    expect(d.hits).toEqual([]);
    expect(sink.seen).toEqual([
      'dev0 unmapped-read 0x10 - -',
      'dev0 unmapped-write 0x14 - 9',
      'dev0 read-only-write 0x8 ID 1',
      'dev0 write-only-read 0xc CMD -',
      'dev0 bad-size 0x1 CTRL+1 -',
    ]);
  });

  it('names registers for traces, with banks and array elements', () => {
    const m = new RegisterMap<Dev>('smmu', SPECS, null, { banks: 2, bankPrefix: (b) => `CB${b}.` });
    expect(m.nameAt(0x108)).toBe('CB0.PRIO[2]');
    expect(m.nameAt(0x04, 1)).toBe('CB1.STATUS');
    expect(m.nameAt(0x10)).toBeNull();
    const d: Dev = { hits: [] };
    m.write(d, 0x00, 4, 0x11, 0, 1);
    expect(m.read(d, 0x00, 4, 0, 0)).toBe(0x5);
    expect(m.read(d, 0x00, 4, 0, 1)).toBe(0x11);
    expect(m.read(d, 0x200, 4, 0, 1)).toBe(101);
  });

  it('refuses overlapping or unaligned tables', () => {
    expect(() => new RegisterMap<Dev>('x', [{ name: 'A', offset: 0, access: 'RW' }, { name: 'B', offset: 0, access: 'RW' }], null)).toThrow(/overlap/);
    expect(() => new RegisterMap<Dev>('x', [{ name: 'A', offset: 2, access: 'RW' }], null)).toThrow(/aligned/);
  });

  it('the tracer counts guest errors whether or not tracing is on, and traces them when it is', () => {
    const off = new Tracer(() => 0, false);
    off.guestError('d', 'unmapped-read', 0x40, null, null);
    expect(off.guestErrors).toBe(1);
    expect(off.events).toEqual([]);
    const on = new Tracer(() => 5, true);
    on.guestError('d', 'read-only-write', 0x8, 'ID', 3);
    expect(on.guestErrorsBySrc.get('d')).toBe(1);
    expect(on.events).toEqual([{ t: 5, src: 'd', kind: 'guest-error', f: { what: 'read-only-write', off: 8, reg: 'ID', value: 3 } }]);
  });
});
