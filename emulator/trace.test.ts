import { describe, expect, it } from 'vitest';
import { IrqLine } from './irq.js';
import { Prng } from './prng.js';
import { Scheduler } from './scheduler.js';
import { parseJsonLines, toPerfettoTrace, Tracer } from './trace.js';

/** A seeded toy workload: random events that emit trace records and toggle an IRQ line. */
function workload(seed: number): { digest: string; tracer: Tracer } {
  const s = new Scheduler();
  const tr = new Tracer(() => s.now, true);
  const rng = new Prng(seed);
  tr.emit('machine', 'seed', { seed });
  const line = new IrqLine('dev:0', tr);
  for (let i = 0; i < 200; i++) {
    const t = rng.below(10_000);
    const v = rng.nextU32();
    s.scheduleAt(t, () => {
      tr.emit(`dev${v % 3}`, 'tick', { v, i });
      if (v & 1) line.set(!line.level);
    });
  }
  s.runUntilIdle();
  return { digest: tr.digest(), tracer: tr };
}

describe('Tracer', () => {
  it('gives the same digest for the same seeded workload and a different one for another seed', () => {
    const a = workload(42);
    const b = workload(42);
    const c = workload(43);
    expect(a.digest).toBe(b.digest);
    expect(a.digest).not.toBe(c.digest);
    expect(a.digest).toMatch(/^[0-9a-f]{64}$/);
  });

  it('round-trips JSON lines', () => {
    const { tracer } = workload(7);
    const parsed = parseJsonLines(tracer.toJsonLines());
    expect(parsed).toEqual(tracer.events);
    expect(() => parseJsonLines('{"x":1}\n')).toThrow(/line 1/);
  });

  it('exports Chrome/Perfetto trace events: one track per source, IRQ lines as counters', () => {
    const { tracer } = workload(1);
    const pf = toPerfettoTrace(tracer.events, { board: 'test' });
    const names = pf.traceEvents.filter((e) => e.name === 'thread_name').map((e) => (e.args as { name: string }).name);
    expect(new Set(names)).toEqual(new Set(['machine', 'dev0', 'dev1', 'dev2']));
    const counters = pf.traceEvents.filter((e) => e.ph === 'C');
    expect(counters.length).toBeGreaterThan(0);
    expect(counters[0]!.name).toBe('irq dev:0');
    // microsecond timestamps keep the ns resolution
    const tick = tracer.events.find((e) => e.kind === 'tick')!;
    expect(pf.traceEvents.some((e) => e.name === 'tick' && e.ts === tick.t / 1000)).toBe(true);
  });

  it('records nothing and costs nothing when disabled', () => {
    const tr = new Tracer(() => 0, false);
    const before = tr.digest();
    tr.emit('x', 'y', {});
    expect(tr.count).toBe(0);
    expect(tr.events).toHaveLength(0);
    expect(tr.digest()).toBe(before);
  });

  it('mutes kinds on request', () => {
    const tr = new Tracer(() => 0, true);
    tr.mute('insn');
    tr.emit('pl330', 'insn', {});
    tr.emit('pl330', 'xfer', {});
    expect(tr.events.map((e) => e.kind)).toEqual(['xfer']);
  });
});

describe('Prng', () => {
  it('is reproducible from its seed', () => {
    const a = new Prng(99);
    const b = new Prng(99);
    const xs = Array.from({ length: 10 }, () => a.nextU32());
    expect(Array.from({ length: 10 }, () => b.nextU32())).toEqual(xs);
    expect(new Set(xs).size).toBe(10);
    expect(new Prng(100).nextU32()).not.toBe(xs[0]);
  });
  it('fills byte arrays and draws in range', () => {
    const p = new Prng(1);
    const b = new Uint8Array(13);
    p.fill(b);
    expect(b.some((x) => x !== 0)).toBe(true);
    for (let i = 0; i < 1000; i++) {
      const v = p.below(7);
      expect(v >= 0 && v < 7 && Number.isInteger(v)).toBe(true);
    }
  });
});
