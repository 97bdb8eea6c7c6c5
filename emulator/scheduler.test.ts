import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Scheduler } from './scheduler.js';

describe('Scheduler', () => {
  it('runs events in (time, sequence) order whatever the insertion order', () => {
    fc.assert(
      fc.property(fc.array(fc.nat({ max: 50 }), { minLength: 1, maxLength: 200 }), (times) => {
        const s = new Scheduler();
        const ran: Array<[number, number]> = [];
        times.forEach((t, i) => s.scheduleAt(t, () => ran.push([s.now, i])));
        const r = s.runUntilIdle();
        expect(r.reason).toBe('idle');
        const expected = times.map((t, i) => [t, i] as [number, number]).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
        expect(ran).toEqual(expected);
      }),
      { numRuns: 200 },
    );
  });

  it('never runs cancelled events', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat({ max: 100 }), fc.boolean()), { maxLength: 200 }), (spec) => {
        const s = new Scheduler();
        const ran = new Set<number>();
        const evs = spec.map(([t], i) => s.scheduleAt(t, () => ran.add(i)));
        spec.forEach(([, cancel], i) => {
          if (cancel) s.cancel(evs[i]);
        });
        s.runUntilIdle();
        spec.forEach(([, cancel], i) => expect(ran.has(i)).toBe(!cancel));
      }),
      { numRuns: 200 },
    );
  });

  it('events scheduled from events at the same time run after those already queued', () => {
    const s = new Scheduler();
    const log: string[] = [];
    s.schedule(5, () => {
      log.push('a');
      s.schedule(0, () => log.push('c'));
    });
    s.schedule(5, () => log.push('b'));
    s.runUntilIdle();
    expect(log).toEqual(['a', 'b', 'c']);
  });

  it('runUntil stops at the time and advances now', () => {
    const s = new Scheduler();
    const log: number[] = [];
    for (const t of [10, 20, 30]) s.scheduleAt(t, () => log.push(t));
    const r = s.runUntil(20);
    expect(r).toMatchObject({ reason: 'time', now: 20, events: 2 });
    expect(log).toEqual([10, 20]);
    expect(s.runUntil(25).now).toBe(25);
    expect(log).toEqual([10, 20]);
  });

  it('runUntilPredicate reports idle (no progress), time-limit and event-limit instead of hanging', () => {
    const s = new Scheduler();
    expect(s.runUntilPredicate(() => false).reason).toBe('idle');
    // an endless self-rescheduling loop: only a limit stops it
    const tick = (): void => {
      s.schedule(10, tick);
    };
    tick();
    const r1 = s.runUntilPredicate(() => false, { within: 1000 });
    expect(r1.reason).toBe('time-limit');
    expect(r1.now).toBe(1000);
    const r2 = s.runUntilPredicate(() => false, { maxEvents: 7 });
    expect(r2).toMatchObject({ reason: 'event-limit', events: 7 });
    let hits = 0;
    const r3 = s.runUntilPredicate(() => ++hits > 3);
    expect(r3.reason).toBe('predicate');
  });

  it('requestStop ends the current run with the detail', () => {
    const s = new Scheduler();
    s.schedule(1, () => s.requestStop('storm'));
    s.schedule(2, () => {
      throw new Error('must not run');
    });
    const r = s.runUntilIdle();
    expect(r).toMatchObject({ reason: 'stopped', detail: 'storm', now: 1 });
  });

  it('advanceTo moves the clock inside an event up to, never past, the next pending event', () => {
    const s = new Scheduler();
    const seen: number[] = [];
    s.schedule(10, () => {
      s.advanceTo(15);
      seen.push(s.now);
      s.advanceTo(12); // backwards: ignored
      seen.push(s.now);
      expect(() => s.advanceTo(31)).toThrow(RangeError); // the event at 30 has not run
      s.advanceTo(30); // up to it is allowed
      seen.push(s.now);
      s.schedule(0, () => seen.push(-s.now)); // scheduled from the advanced clock, after the one queued at 30
    });
    s.schedule(30, () => seen.push(s.now));
    s.runUntilIdle();
    expect(seen).toEqual([15, 15, 30, 30, -30]);
  });

  it('rejects negative or fractional delays', () => {
    const s = new Scheduler();
    expect(() => s.schedule(-1, () => {})).toThrow(RangeError);
    expect(() => s.schedule(0.5, () => {})).toThrow(RangeError);
  });
});
