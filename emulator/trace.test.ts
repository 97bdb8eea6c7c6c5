import { describe, expect, it } from 'vitest';
import { IrqLine } from './irq.js';
import { Prng } from './prng.js';
import { Scheduler } from './scheduler.js';
import { fromPerfettoTrace, jsonLinesChunks, parseJsonLines, perfettoChunks, serialize, toPerfettoTrace, Tracer, type TraceEvent } from './trace.js';

/** A seeded toy workload: random events that emit trace records and toggle an IRQ line. */
function workload(seed: number): { digest: string; tracer: Tracer } {
  const s = new Scheduler();
  const tr = new Tracer(() => s.now, true);
  const rng = new Prng(seed);
  tr.emit('machine', 'seed', { seed, board: 'toy' });
  const line = new IrqLine('dev:0', tr);
  for (let i = 0; i < 200; i++) {
    const t = rng.below(10_000);
    const v = rng.nextU32();
    s.scheduleAt(t, () => {
      tr.emit(`dev${v % 3}`, 'irq-handled', { irq: v, ret: i });
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

  it('exports Chrome/Perfetto trace events: one track per source, IRQ lines as counters with an edge track', () => {
    const { tracer } = workload(1);
    const pf = toPerfettoTrace(tracer.events, { board: 'test' });
    const names = pf.traceEvents.filter((e) => e.name === 'thread_name').map((e) => (e.args as { name: string }).name);
    expect(new Set(names)).toEqual(new Set(['machine', 'dev0', 'dev1', 'dev2', 'irq dev:0'])); // sources, and the IRQ line's edge track
    const counters = pf.traceEvents.filter((e) => e.ph === 'C');
    expect(counters.length).toBeGreaterThan(0);
    expect(counters[0]!.name).toBe('irq dev:0');
    // microsecond timestamps keep the ns resolution
    const tick = tracer.events.find((e) => e.kind === 'irq-handled')!;
    expect(pf.traceEvents.some((e) => e.name === 'irq-handled' && e.ts === tick.t / 1000)).toBe(true);
  });

  it('draws spans from their start: a span-start kind at t, a span-end kind at t - dur', () => {
    const events: TraceEvent[] = [
      { t: 1000, src: 'dma', kind: 'pl330-dbg', f: { thread: 8, op: 0xa0, allowed: true } },
      // the walk of the channel's first fetch: emitted when the lookup starts, costing 300 ns after
      { t: 1200, src: 'smmu', kind: 'smmu-walk', dur: 300, f: { sid: 1, va: 0, cb: 0, level: 3, ok: 1, pa: 0x1000 } },
      // the channel's transfer: emitted when it ends, 5000 ns after its DMAGO
      { t: 6000, src: 'dma', kind: 'pl330-xfer', dur: 5000, f: { ch: 0, loaded: 256, stored: 256, insns: 9 } },
    ];
    const pf = toPerfettoTrace(events);
    const x = (name: string): { ts: number; dur?: number } => pf.traceEvents.find((e) => e.name === name)!;
    expect(x('smmu-walk')).toMatchObject({ ts: 1.2, dur: 0.3 });
    expect(x('smmu-walk').ts).toBeGreaterThanOrEqual(x('pl330-dbg').ts);
    expect(x('pl330-xfer')).toMatchObject({ ts: 1, dur: 5 });
    expect(fromPerfettoTrace(pf)).toEqual(events);
  });

  it('marks every IRQ line change with an instant on the line\'s track, so a zero-width pulse is visible', () => {
    const s = new Scheduler();
    const tr = new Tracer(() => s.now, true);
    const line = new IrqLine('dev:3', tr);
    s.scheduleAt(500, () => line.pulse());
    s.runUntilIdle();
    const pf = toPerfettoTrace(tr.events);
    const tid = pf.traceEvents.find((e) => e.name === 'thread_name' && (e.args as { name: string }).name === 'irq dev:3')!.tid;
    const marks = pf.traceEvents.filter((e) => e.tid === tid && e.ph === 'i');
    expect(marks.map((e) => [e.name, e.ts])).toEqual([['rise', 0.5], ['fall', 0.5]]);
    expect(pf.traceEvents.filter((e) => e.ph === 'C').map((e) => [e.name, e.ts, e.args])).toEqual([['irq dev:3', 0.5, { level: 1 }], ['irq dev:3', 0.5, { level: 0 }]]);
    // the markers are drawing only: reading the file back gives the two line events
    expect(fromPerfettoTrace(pf)).toEqual(tr.events);
  });

  it('the exports in pieces join to the whole exports, however small the pieces', () => {
    for (const seed of [1, 2, 3]) {
      const { tracer } = workload(seed);
      const meta = { board: 'toy', seed: String(seed) };
      for (const chunk of [1, 100, 4096, 1 << 20]) {
        const pieces = [...perfettoChunks(tracer.events, meta, chunk)];
        expect(pieces.join('')).toBe(JSON.stringify(toPerfettoTrace(tracer.events, meta)));
        expect([...jsonLinesChunks(tracer.events, chunk)].join('')).toBe(tracer.events.map((e) => serialize(e) + '\n').join(''));
        if (chunk === 100) expect(pieces.length).toBeGreaterThan(10);
      }
      // the Tracer's whole-string exports are the same (nothing was cut)
      expect(tracer.toPerfetto(meta)).toBe(JSON.stringify(toPerfettoTrace(tracer.events, meta)));
      expect(tracer.toJsonLines()).toBe(tracer.events.map((e) => serialize(e) + '\n').join(''));
      expect(tracer.truncated()).toBeNull();
    }
    expect([...perfettoChunks([], {})].join('')).toBe(JSON.stringify(toPerfettoTrace([], {})));
    expect([...jsonLinesChunks([])]).toEqual([]);
  });

  it('a trace cut by the cap on kept events says so (truncated, and otherData of the Perfetto file)', () => {
    const tr = new Tracer(() => 0, true, { maxKept: 3 });
    for (let i = 0; i < 5; i++) tr.emit('gic', 'gic-eoi', { id: i });
    expect(tr.events).toHaveLength(3);
    expect(tr.truncated()).toBe('kept the first 3 of 5 events (the cap of kept events)');
    const file = JSON.parse([...tr.chunks('perfetto', { board: 'toy' })].join('')) as { otherData: Record<string, string> };
    expect(file.otherData).toEqual({ board: 'toy', truncated: 'kept the first 3 of 5 events (the cap of kept events)' });
    // not kept at all: nothing was cut
    const off = new Tracer(() => 0, true, { keep: false });
    off.emit('gic', 'gic-eoi', { id: 0 });
    expect(off.truncated()).toBeNull();
  });

  it('Perfetto export and import are inverse for a whole run', () => {
    const { tracer } = workload(3);
    expect(fromPerfettoTrace(JSON.parse(tracer.toPerfetto()))).toEqual(tracer.events);
  });

  it('records nothing and costs nothing when disabled', () => {
    const tr = new Tracer(() => 0, false);
    const before = tr.digest();
    tr.emit('x', 'gic-spurious', {});
    expect(tr.count).toBe(0);
    expect(tr.events).toHaveLength(0);
    expect(tr.digest()).toBe(before);
  });

  it('mutes kinds on request', () => {
    const tr = new Tracer(() => 0, true);
    tr.mute('pl330-insn');
    tr.emit('pl330', 'pl330-insn', { thread: 0, pc: 0, op: 0 });
    tr.emit('pl330', 'pl330-fault', { thread: 0, pc: 0, ftr: 1 });
    expect(tr.events.map((e) => e.kind)).toEqual(['pl330-fault']);
  });

  it('taps see every event of their kind whether or not events are kept, not when disabled or muted', () => {
    for (const keep of [true, false]) {
      let now = 0;
      const tr = new Tracer(() => now, true, { keep });
      const seen: string[] = [];
      tr.tap('pl330-fault', (e) => seen.push(`a ${e.t} ${String(e.f['ftr'])}`));
      tr.tap('pl330-fault', (e) => seen.push(`b ${e.t}`));
      tr.tap('pl330-xfer', (e) => seen.push(`x ${String(e.f['stored'])} ${String(e.dur)}`));
      tr.emit('pl330', 'pl330-fault', { thread: 0, pc: 0, ftr: 1 });
      now = 10;
      tr.emit('pl330', 'gic-spurious', {});
      tr.emit('pl330', 'pl330-xfer', { ch: 0, loaded: 8, stored: 8, insns: 3 }, 5);
      tr.emit('pl330', 'pl330-fault', { thread: 1, pc: 4, ftr: 2 });
      tr.mute('pl330-fault');
      tr.emit('pl330', 'pl330-fault', { thread: 1, pc: 8, ftr: 4 });
      tr.enabled = false;
      tr.emit('pl330', 'pl330-xfer', { ch: 0, loaded: 8, stored: 8, insns: 3 }, 5);
      expect(seen).toEqual(['a 0 1', 'b 0', 'x 8 5', 'a 10 2', 'b 10']);
      expect(tr.keeping).toBe(keep);
      expect(tr.events).toHaveLength(keep ? 4 : 0);
    }
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
