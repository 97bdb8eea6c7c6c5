/**
 * copyVma, vm_area_dup's copy for a fork child (dup-mmap.ts): every field of the parent's VMA
 * reaches the child unchanged except the five dupMmap fills in per kind (pages, cow, shm,
 * fcache, own), which start cleared. The type makes the copy name every key; this test checks
 * that each named key carries its own value.
 */
import { describe, expect, it } from 'vitest';
import { copyVma } from './dup-mmap.js';
import type { Vma } from './vma.js';

const CLEARED = new Set(['pages', 'cow', 'shm', 'fcache', 'own']);

describe('copyVma', () => {
  it('copies each field of the VMA as itself and clears the per-kind ones', () => {
    // a distinct value per key (sentinels, booleans included), so a copy that reads one field into another shows
    const keys = ['start', 'end', 'prot', 'flags', 'kind', 'pages', 'pfnBase', 'pgoff', 'ref', 'cow', 'dontCopy', 'wipeOnFork', 'vmShared', 'shm', 'file', 'fcache', 'own', 'growsDown'];
    const v = Object.fromEntries(keys.map((k) => [k, { sentinel: k }])) as unknown as Vma;
    const c = copyVma(v);
    expect(c).not.toBe(v);
    for (const k of Object.keys(v) as (keyof Vma)[]) {
      if (CLEARED.has(k)) expect(c[k], k).toBeNull();
      else expect(c[k], k).toBe(v[k]);
    }
    // and nothing beyond Vma's keys
    expect(Object.keys(c).sort()).toEqual(Object.keys(v).sort());
  });

  it('keeps an absent optional field absent in value (undefined), as the spread did', () => {
    const v: Vma = { start: 0, end: 0x1000, prot: 1, flags: 2, kind: 'anon', pages: null, pfnBase: 0, pgoff: 0, ref: null };
    const c = copyVma(v);
    expect(c.dontCopy).toBeUndefined();
    expect(c.growsDown).toBeUndefined();
    expect(c.file).toBeUndefined();
    expect(c.start).toBe(0);
    expect(c.end).toBe(0x1000);
  });
});
