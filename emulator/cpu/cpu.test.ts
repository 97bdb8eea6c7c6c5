import { describe, expect, it } from 'vitest';
import { IrqLine } from '../irq.js';
import { Scheduler } from '../scheduler.js';
import { Cpu, WaitQueue } from './cpu.js';
import { GuestExit, GuestTrap, PREEMPT, StubThread, type GuestProgram } from './stub.js';

function setup(): { s: Scheduler; cpu: Cpu } {
  const s = new Scheduler();
  const cpu = new Cpu(s, null, { hz: 1_000_000_000 });
  return { s, cpu };
}

describe('Cpu with the stub backend', () => {
  it('runs a guest generator, charging cycles per step in virtual time', () => {
    const { s, cpu } = setup();
    const stamps: number[] = [];
    function* prog(): GuestProgram {
      for (let i = 0; i < 3; i++) {
        stamps.push(s.now);
        cpu.charge(100);
        yield PREEMPT;
      }
      return 7;
    }
    const t = new StubThread(1, 'prog', prog());
    cpu.addThread(t);
    s.runUntilIdle();
    expect(stamps).toEqual([0, 100, 200]);
    expect(t.exit).toMatchObject({ status: 7, code: 7 });
  });

  it('blocks a thread until a wait queue wakes it, letting time and events run', () => {
    const { s, cpu } = setup();
    const wq = new WaitQueue('ev');
    let ready = false;
    const log: string[] = [];
    function* prog(): GuestProgram {
      while (!ready) {
        wq.add(t);
        const why = yield { block: true, deadline: null };
        log.push(`${why}@${s.now}`);
      }
      return 0;
    }
    const t = new StubThread(1, 'waiter', prog());
    cpu.addThread(t);
    s.schedule(5000, () => {
      ready = true;
      wq.wakeAll(cpu);
    });
    s.runUntilIdle();
    expect(log).toEqual(['woken@5000']);
    expect(t.exit?.status).toBe(0);
  });

  it('wakes a blocked thread at its deadline with reason timeout', () => {
    const { s, cpu } = setup();
    let why = '';
    function* prog(): GuestProgram {
      why = yield { block: true, deadline: 1234 };
      return 0;
    }
    cpu.addThread(new StubThread(1, 't', prog()));
    s.runUntilIdle();
    expect(why).toBe('timeout');
    expect(s.now).toBeGreaterThanOrEqual(1234);
  });

  it('takes interrupts at step boundaries before running threads, and counts entries without progress', () => {
    const { s, cpu } = setup();
    const line = new IrqLine('cpu-irq');
    line.connect(cpu.irqInput);
    const entries: number[] = [];
    cpu.setIrqEntry(() => {
      entries.push(s.now);
      cpu.charge(50);
      if (entries.length === 3) line.lower();
    });
    function* prog(): GuestProgram {
      yield PREEMPT;
      return 0;
    }
    s.schedule(1000, () => {
      cpu.addThread(new StubThread(1, 'p', prog()));
      line.raise();
    });
    s.runUntilIdle();
    // three entries while the line is held, 200 (entry) + 50 cycles each
    expect(entries).toEqual([1000, 1250, 1500]);
    expect(cpu.irqEntries).toBe(3);
    expect(cpu.userSteps).toBeGreaterThan(0);
    expect(cpu.irqEntriesSinceThreadRan).toBe(0);
  });

  it('ends a thread on a guest trap with SIGSEGV status and keeps the machine usable', () => {
    const { s, cpu } = setup();
    function* bad(): GuestProgram {
      yield PREEMPT;
      throw new GuestTrap('SIGSEGV', 0, 'NULL dereference');
    }
    function* good(): GuestProgram {
      yield PREEMPT;
      return 0;
    }
    const b = new StubThread(1, 'bad', bad());
    const g = new StubThread(2, 'good', good());
    cpu.addThread(b);
    cpu.addThread(g);
    s.runUntilIdle();
    expect(b.exit?.status).toBe(139);
    expect(b.exit?.trap?.address).toBe(0);
    expect(g.exit?.status).toBe(0);
  });

  it('reports a host exception in guest code as the thread failure, not a crash', () => {
    const { s, cpu } = setup();
    function* buggy(): GuestProgram {
      yield PREEMPT;
      throw new TypeError('boom');
    }
    const t = new StubThread(1, 'buggy', buggy());
    cpu.addThread(t);
    expect(() => s.runUntilIdle()).not.toThrow();
    expect(t.exit?.hostError?.message).toBe('boom');
  });
});

describe('modelled events (ModelEvent)', () => {
  it('a trap or an exit records no host stack, is still an Error, and leaves Error.stackTraceLimit as it was', () => {
    const limit = Error.stackTraceLimit;
    const t = new GuestTrap('SIGSEGV', 0x1000, 'read from unmapped address');
    expect(t).toBeInstanceOf(Error);
    expect(t.message).toBe('SIGSEGV at 0x1000: read from unmapped address');
    // only the "Error: message" line: no "    at ..." frames
    expect(t.stack?.split('\n').filter((l) => l.trimStart().startsWith('at ')).length).toBe(0);
    expect(new GuestExit(3).stack?.includes('\n    at ')).toBe(false);
    expect(Error.stackTraceLimit).toBe(limit);
    // a host exception keeps its frames
    expect(new Error('host').stack?.includes('\n    at ')).toBe(true);
  });
});
