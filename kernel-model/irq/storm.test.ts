import { describe, expect, it } from 'vitest';
import { makeAttrs } from '../../emulator/attrs.js';
import { WaitQueue } from '../../emulator/cpu/cpu.js';
import { PREEMPT, StubThread, type GuestProgram } from '../../emulator/cpu/stub.js';
import { NS_PER_MS } from '../../emulator/time.js';
import { IRQ_HANDLED } from './index.js';
import { buildIrqMachine, TEST_IRQ_BASE, TEST_IRQ_SPEC, type IrqMachine } from '../../tools/testing/irq-machine.js';

/**
 * End to end: a guest thread spins (charging CPU time) while the test device raises
 * its level line through a bus write at 100 us. The IRQ core was booted through MMIO.
 */
function scenario(handlerKind: 'leave-asserted' | 'automask', trace = false): { m: IrqMachine; irq: number; spins: () => number; spinsAtIrq: number[]; handled: () => number } {
  const m = buildIrqMachine({ trace });
  const irq = m.core.irqOfParse(TEST_IRQ_SPEC);
  let handled = 0;
  const spinsAtIrq: number[] = [];
  let spins = 0;
  m.core.requestIrq(irq, (n) => {
    handled++;
    spinsAtIrq.push(spins);
    if (handlerKind === 'automask') m.core.disableIrqNosync(n);
    return IRQ_HANDLED; // neither variant clears the device
  }, 0, 'test-irq', m.testIrq);
  const cpu = m.cpu;
  function* spinner(): GuestProgram {
    for (;;) {
      spins++;
      cpu.charge(1000); // 1 us of work per step
      yield PREEMPT;
    }
  }
  cpu.addThread(new StubThread(1, 'spinner', spinner()));
  m.scheduler.schedule(100_000, () => {
    m.bus.write(TEST_IRQ_BASE, 4, 1, makeAttrs({ priv: true }));
  }, 'device raises');
  return { m, irq, spins: () => spins, spinsAtIrq, handled: () => handled };
}

describe('interrupt storm detection (end to end)', () => {
  it('a handler that leaves the level line asserted produces the storm diagnosis in bounded virtual time', () => {
    const s = scenario('leave-asserted');
    const r = s.m.scheduler.runUntil(50 * NS_PER_MS);
    expect(r.reason).toBe('stopped');
    expect(r.detail).toMatch(/^interrupt storm on IRQ 130 \(hwirq 130, test-irq\): 10000 entries in \d+ ns without the program running$/);
    const storm = s.m.core.storm!;
    expect(storm).not.toBeNull();
    expect(storm.irq).toBe(130);
    expect(storm.hwirq).toBe(130);
    expect(storm.entries).toBe(10_000);
    expect(r.detail).toBe(storm.message);
    // detected within 10 ms of virtual time after the device raised the line
    expect(r.now).toBeLessThan(100_000 + 10 * NS_PER_MS);
    // every take costs the IRQ entry plus the IAR read and the EOIR write in virtual time
    const c = s.m.cpu.costs;
    expect(storm.windowNs).toBe(9_999 * s.m.cpu.clock.cycles(c.irqEntry + 2 * c.mmioAccess));
    expect(s.m.cpu.irqEntries).toBe(10_000);
    expect(storm.windowNs).toBeLessThan(10 * NS_PER_MS);
    // the program never ran again after the first interrupt
    expect(new Set(s.spinsAtIrq).size).toBe(1);
    expect(s.spins()).toBe(s.spinsAtIrq[0]);
    expect(s.m.log.grep(/interrupt storm on IRQ 130/).length).toBe(1);
    expect(s.m.core.descOf(s.irq)!.count).toBe(10_000);
  });

  it('resuming a stormed run reports again instead of running forever', () => {
    const s = scenario('leave-asserted');
    expect(s.m.scheduler.runUntil(50 * NS_PER_MS).reason).toBe('stopped');
    s.m.scheduler.clearStop();
    const r = s.m.scheduler.runUntil(50 * NS_PER_MS);
    expect(r.reason).toBe('stopped');
    expect(s.m.core.storms.length).toBe(2);
    expect(s.m.core.storms[1]!.entries).toBe(20_000);
  });

  it('a handler that masks with disable_irq_nosync does not storm, and the program keeps running', () => {
    const s = scenario('automask', true);
    const r = s.m.scheduler.runUntil(5 * NS_PER_MS);
    expect(r.reason).toBe('time');
    expect(s.m.core.storm).toBeNull();
    expect(s.handled()).toBe(1);
    // the spinner ran on after the interrupt: ~4.9 ms of 1 us steps
    expect(s.spins() - s.spinsAtIrq[0]!).toBeGreaterThan(4000);
    expect(s.m.core.descOf(s.irq)!.count).toBe(2); // handler + the lazy-mask arrival
    const kinds = s.m.tracer.events.filter((e) => e.src === 'kernel').map((e) => e.kind);
    expect(kinds.filter((k) => k === 'irq-take').length).toBe(2);
    expect(s.m.tracer.events.some((e) => e.kind === 'gic-ack')).toBe(true);
    expect(s.m.tracer.events.some((e) => e.kind === 'gic-eoi')).toBe(true);
    // user space clears the device and unmasks: still quiet
    s.m.bus.write(TEST_IRQ_BASE, 4, 0, makeAttrs({ priv: true }));
    s.m.core.enableIrq(s.irq);
    expect(s.m.scheduler.runUntil(10 * NS_PER_MS).reason).toBe('time');
    expect(s.handled()).toBe(1);
  });

  it('a busy but legitimate device (line lowered by the handler, re-raised later) is not a storm', () => {
    const m = buildIrqMachine();
    const irq = m.core.irqOfParse(TEST_IRQ_SPEC);
    let handled = 0;
    m.core.requestIrq(irq, () => {
      handled++;
      m.line.lower();
      if (handled < 20_000) m.scheduler.schedule(20_000, () => m.line.raise());
      return IRQ_HANDLED;
    }, 0, 'busy', 1);
    m.line.raise();
    const r = m.scheduler.runUntilIdle(1_000_000);
    expect(r.reason).toBe('idle');
    expect(handled).toBe(20_000);
    expect(m.core.storm).toBeNull();
  });
});

describe('eventfd-style delivery to a blocked program (patches 09 and 10)', () => {
  function run(automask: boolean): { m: IrqMachine; wakeups: number; signals: number } {
    const m = buildIrqMachine();
    const irq = m.core.irqOfParse(TEST_IRQ_SPEC);
    const wq = new WaitQueue('eventfd');
    let signals = 0;
    let consumed = 0;
    let wakeups = 0;
    m.core.requestIrq(irq, (n) => {
      if (automask) m.core.disableIrqNosync(n);
      signals++;
      wq.wakeAll(m.cpu);
      return IRQ_HANDLED;
    }, 0, 'vfio-irq', m.testIrq);
    const A = makeAttrs({ priv: true });
    let self: StubThread | null = null;
    function* program(): GuestProgram {
      for (;;) {
        if (signals > consumed) {
          consumed = signals;
          wakeups++;
          m.bus.write(TEST_IRQ_BASE, 4, 0, A); // clear the device (INTCLR)
          m.core.enableIrq(irq); // VFIO UNMASK
          if (wakeups === 2) return 0;
        } else {
          wq.add(self!);
          yield { block: true, deadline: null };
        }
      }
    }
    self = new StubThread(1, 'user', program());
    m.cpu.addThread(self);
    m.scheduler.schedule(100_000, () => m.bus.write(TEST_IRQ_BASE, 4, 1, A));
    m.scheduler.schedule(300_000, () => m.bus.write(TEST_IRQ_BASE, 4, 1, A));
    m.scheduler.runUntil(20 * NS_PER_MS);
    return { m, wakeups, signals };
  }

  it('without masking (patch 09 alone) the woken program never runs: storm', () => {
    const r = run(false);
    expect(r.m.core.storm).not.toBeNull();
    expect(r.wakeups).toBe(0);
    expect(r.signals).toBe(10_000);
  });

  it('with automasking (patch 10) each raise is delivered once and the program finishes', () => {
    const r = run(true);
    expect(r.m.core.storm).toBeNull();
    expect(r.wakeups).toBe(2);
    expect(r.signals).toBe(2);
    expect(r.m.core.descOf(32 + TEST_IRQ_SPEC[1])!.depth).toBe(0);
  });
});

describe('storm detection with an expensive handler', () => {
  it('a handler costing 50 us per take still produces the diagnosis', () => {
    const m = buildIrqMachine({ core: { stormThreshold: 1000 } });
    const irq = m.core.irqOfParse(TEST_IRQ_SPEC);
    m.core.requestIrq(irq, () => { m.cpu.charge(50_000); return IRQ_HANDLED; }, 0, 'slow', 1);
    m.line.raise();
    const r = m.scheduler.runUntil(1_000 * NS_PER_MS);
    expect(r.reason).toBe('stopped');
    expect(r.detail).toMatch(/interrupt storm on IRQ 130 \(hwirq 130, slow\): 1000 entries/);
    expect(m.core.storm!.windowNs).toBeGreaterThanOrEqual(999 * 50_000);
  });
});
