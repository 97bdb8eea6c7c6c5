/**
 * The guided mode's value mutation (campaign.ts tweakArb): a tweaked call is the same call
 * with one numeric argument changed (op, fd, request and every other argument kept), calls
 * without numeric arguments have no tweak, and the pool of calls it draws from starts with
 * the seeds' calls.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SETUP_PREFIX, sameOpArb } from '../arb.js';
import type { Call } from '../program.js';
import { newGuidedState } from './campaign.js';
import { INTERESTING, slots, tweakArb, tweakValue } from './tweak.js';
import { SEEDS } from './seeds.js';

/** the leaf paths where two JSON values differ */
function diff(a: unknown, b: unknown, at = ''): string[] {
  if (typeof a !== 'object' || a === null || typeof b !== 'object' || b === null) return a === b ? [] : [at];
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].flatMap((k) => diff((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${at}.${k}`));
}

describe('guided value mutation', () => {
  const calls: Call[] = [...SETUP_PREFIX, ...SEEDS.flatMap((s) => s.calls), { op: 'pread', p: 0, fd: { k: 'device', i: 0 }, off: { region: 0, off: 0x10 }, count: 4, ptr: 'ok' }];

  it('changes one numeric argument of the call and nothing else', () => {
    for (const c of calls) {
      const a = tweakArb(c);
      if (slots(c).length === 0) {
        expect(a, JSON.stringify(c)).toBeNull();
        continue;
      }
      for (const t of fc.sample(a!, { seed: 7, numRuns: 50 })) {
        const d = diff(c, t);
        expect(d.length, `${JSON.stringify(c)} -> ${JSON.stringify(t)}`).toBeLessThanOrEqual(1);
        expect(t.op).toBe(c.op);
        for (const p of d) expect(p).not.toMatch(/^\.(op|p|fd|req|path)\b/);
      }
    }
    // the device fd request of the set-up (a string argument) has no numeric argument
    expect(tweakArb(SETUP_PREFIX[4]!)).toBeNull();
  });

  it('draws interesting values, neighbours, bit flips and page steps', () => {
    expect(tweakValue(0x400, 0, 0)).toBe(INTERESTING[0]);
    expect(tweakValue(3, 3, 0)).toBe(4); // +1
    expect(tweakValue(3, 3, 1)).toBe(2); // -1
    expect(tweakValue(0x20, 4, 5)).toBe(0); // bit 5 flipped
    expect(tweakValue(0, 5, 1)).toBe(0xfffff000); // minus a page, as u32
    expect(typeof tweakValue('0x10000', 4, 3)).toBe('string');
  });

  it('the pool starts with the seeds’ calls', () => {
    expect(newGuidedState(8).pool).toEqual(SEEDS.flatMap((s) => s.calls));
    expect(newGuidedState(8, false).pool).toEqual([]);
  });
});

describe('argument re-draw of a non-ioctl call (arb.ts sameOpArb)', () => {
  const calls: Call[] = SEEDS.flatMap((s) => s.calls).filter((c) => c.op !== 'ioctl');

  it('keeps the operation, the process and the file, and draws the other arguments as callArb does', () => {
    const ops = new Set<string>();
    for (const c of calls) {
      const a = sameOpArb(c);
      if (c.op === 'close' || c.op === 'exit') {
        expect(a).toBeNull();
        continue;
      }
      expect(a, JSON.stringify(c)).not.toBeNull();
      ops.add(c.op);
      const drawn = fc.sample(a!, { seed: 5, numRuns: 40 });
      for (const d of drawn) {
        expect(d.op).toBe(c.op);
        if ('p' in c) expect((d as { p: number }).p).toBe(c.p);
        if ('fd' in c) expect((d as { fd: unknown }).fd).toEqual(c.fd);
      }
      // something else than the call itself comes out (fresh argument values)
      expect(drawn.some((d) => JSON.stringify(d) !== JSON.stringify(c)), JSON.stringify(c)).toBe(true);
    }
    // the seeds' non-ioctl calls cover these operations
    for (const op of ['open', 'pread', 'pwrite', 'mmap', 'mmio', 'eventfd', 'poll', 'echo', 'raw']) expect(ops).toContain(op);
  });

  it('a pwrite re-drawn reaches the offsets past 0x400 that the 2014 offset scaling turns into an Oops', () => {
    const c: Call = { op: 'pwrite', p: 0, fd: { k: 'device', i: 1 }, off: { region: 0, off: 0 }, count: 4, ptr: 'ok' };
    const offs = fc.sample(sameOpArb(c)!, { seed: 1, numRuns: 300 }).map((d) => ((d as { off: { off?: number } }).off.off ?? -1));
    expect(offs.some((o) => o >= 0x400 && o < 0x1000)).toBe(true);
    expect(offs.some((o) => o >= 0 && o < 0x400)).toBe(true);
  });
});
