/**
 * A digest of an object graph (`graphDigest`), RAM regions byte for byte: the check that a
 * snapshot restore (snapshot.ts) gave back the state it recorded. It walks what the snapshot
 * walks (snapshot.ts `walk`); equal digests mean equal graphs up to object identity. Tests and
 * verification only, never on a campaign's path.
 */
import { RAM_CHUNK_SIZE, RamRegion } from '../../emulator/ram.js';
import { isView, walk } from './snapshot.js';

/**
 * A digest of the state reachable from `roots` (RAM included, byte for byte): equal digests
 * mean equal graphs up to object identity (objects are numbered in walk order). Functions
 * count by identity (the same function object), not by captured state.
 */
export function graphDigest(roots: readonly object[], skip: readonly object[] = []): string {
  const ids = new Map<object, number>();
  let h1 = 0x811c9dc5 | 0;
  let h2 = 0x12345678 | 0;
  const mix = (x: number): void => {
    h1 = Math.imul(h1 ^ x, 0x01000193);
    h2 = Math.imul(h2 ^ x, 0x5bd1e995) ^ (h2 >>> 15);
  };
  const str = (s: string): void => {
    mix(s.length);
    for (let i = 0; i < s.length; i++) mix(s.charCodeAt(i));
  };
  const funcs = new Map<unknown, number>();
  const order: object[] = [];
  walk(roots, new Set(skip), (o) => {
    ids.set(o, order.length);
    order.push(o);
  });
  const val = (v: unknown): void => {
    switch (typeof v) {
      case 'undefined':
        mix(1);
        return;
      case 'boolean':
        mix(v ? 2 : 3);
        return;
      case 'number':
        mix(4);
        str(Object.is(v, -0) ? '-0' : String(v));
        return;
      case 'bigint':
        mix(5);
        str(v.toString());
        return;
      case 'string':
        mix(6);
        str(v);
        return;
      case 'symbol':
        mix(7);
        str(String(v));
        return;
      case 'function': {
        mix(8);
        let id = funcs.get(v);
        if (id === undefined) funcs.set(v, (id = funcs.size));
        mix(id);
        return;
      }
      default:
        if (v === null) mix(9);
        else {
          mix(10);
          mix(ids.get(v as object) ?? -1);
        }
    }
  };
  for (const o of order) {
    mix(0xabc);
    if (o instanceof RamRegion) {
      // contents and which chunks are allocated (not the snapshot record)
      str(o.name);
      mix(o.size);
      const c = new Uint8Array(RAM_CHUNK_SIZE);
      for (let ci = 0; ci < o.nChunks; ci++) {
        if (!o.isPresent(ci * RAM_CHUNK_SIZE)) continue;
        mix(ci);
        const n = Math.min(RAM_CHUNK_SIZE, o.size - ci * RAM_CHUNK_SIZE);
        o.readBlock(ci * RAM_CHUNK_SIZE, c, 0, n);
        const w = new Int32Array(c.buffer, 0, n >>> 2);
        for (let i = 0; i < w.length; i++) mix(w[i]!);
      }
    } else if (o instanceof ArrayBuffer) {
      const b = new Uint8Array(o);
      mix(b.length);
      const w = new Int32Array(o, 0, b.length >>> 2);
      for (let i = 0; i < w.length; i++) mix(w[i]!);
      for (let i = w.length * 4; i < b.length; i++) mix(b[i]!);
    } else if (isView(o)) {
      mix(o.byteOffset);
      mix(o.byteLength);
      val(o.buffer);
    } else if (o instanceof Map) {
      mix(o.size);
      for (const [k, v] of o) {
        val(k);
        val(v);
      }
    } else if (o instanceof Set) {
      mix(o.size);
      for (const v of o) val(v);
    } else if (Array.isArray(o)) {
      mix(o.length);
      for (const v of o) val(v);
    } else {
      str(o.constructor?.name ?? 'null-proto');
      for (const k of Reflect.ownKeys(o)) {
        const d = Object.getOwnPropertyDescriptor(o, k)!;
        if (!('value' in d)) continue;
        str(String(k));
        val(d.value);
      }
    }
  }
  return (h1 >>> 0).toString(16).padStart(8, '0') + (h2 >>> 0).toString(16).padStart(8, '0') + ':' + order.length;
}
