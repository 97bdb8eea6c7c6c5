import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { makeAttrs } from '../../emulator/attrs.js';
import { EBUSY, EINVAL } from '../base/errno.js';
import { KernelOops } from '../base/oops.js';
import { IRQ_TYPE_EDGE_RISING, IRQ_TYPE_LEVEL_HIGH } from '../driver/types.js';
import { IRQ_HANDLED, IRQ_NONE, IRQF_NO_AUTOEN, IRQF_SHARED, type IrqReturn } from './index.js';
import { buildIrqMachine, GICD_BASE, TEST_IRQ_BASE, TEST_IRQ_SPEC, type IrqMachine } from '../../tools/testing/irq-machine.js';

const ID = 32 + TEST_IRQ_SPEC[1];

function setup(opts: Parameters<typeof buildIrqMachine>[0] = {}): IrqMachine & { irq: number } {
  const m = buildIrqMachine(opts);
  const irq = m.core.irqOfParse(TEST_IRQ_SPEC);
  return { ...m, irq };
}

/** run until nothing is left to do (bounded) */
function settle(m: IrqMachine): void {
  const r = m.scheduler.runUntilIdle(100_000);
  expect(r.reason).toBe('idle');
}

describe('irq domain and boot', () => {
  it('boot programs the GIC through MMIO: level SPIs, priorities, targets, PMR, CTLRs', () => {
    const m = buildIrqMachine();
    expect(m.core.numIrqs).toBe(160);
    expect(m.hw.accesses).toBeGreaterThan(90);
    expect(m.gic.priorityOf(100)).toBe(0xa0);
    expect(m.gic.isEnabled(100)).toBe(false);
    expect(m.gic.isEnabled(3)).toBe(true); // SGIs on
    expect(m.bus.read(0x2c002004, 4, makeAttrs({ priv: true }))).toBe(0xf0);
    expect(m.bus.read(GICD_BASE + 0x800 + 100, 1, makeAttrs({ priv: true }))).toBe(1);
  });

  it('mainline (linear domain): specifiers get sequential virqs from 16, trigger types from the flags; invalid specs give 0', () => {
    const m = buildIrqMachine({ profile: 'mainline' });
    const a = m.core.irqOfParse([0, 98, 4]);
    const b = m.core.irqOfParse([0, 97, 1]);
    expect(a).toBe(16);
    expect(b).toBe(17);
    expect(m.core.irqOfParse([0, 98, 4])).toBe(a);
    expect(m.core.irqGetTriggerType(a)).toBe(IRQ_TYPE_LEVEL_HIGH);
    expect(m.core.irqGetTriggerType(b)).toBe(IRQ_TYPE_EDGE_RISING);
    // irq_create_fwspec_mapping only records the type: the GIC learns it at request_irq
    expect(m.gic.isEdge(32 + 97)).toBe(false);
    expect(m.core.requestIrq(b, () => IRQ_HANDLED, 0, 'b', 1)).toBe(0);
    expect(m.gic.isEdge(32 + 97)).toBe(true);
    expect(m.gic.isEdge(32 + 98)).toBe(false);
    expect(m.core.descOf(a)!.hwirq).toBe(130);
    expect(m.core.virqOf(129)).toBe(b);
    expect(m.core.irqOfParse([0, 200, 4])).toBe(0);
    expect(m.core.irqOfParse([2, 1, 4])).toBe(0);
    expect(m.core.irqOfParse([0, 1])).toBe(0);
    expect(m.core.irqOfParse([1, 16, 4])).toBe(0);
    expect(m.core.irqGetTriggerType(999)).toBe(0);
    // an ID no specifier named has no descriptor
    expect(m.core.virqOf(100)).toBe(0);
    expect(m.core.requestIrq(100, () => IRQ_HANDLED, 0, 'x', 1)).toBe(-EINVAL);
  });

  it('3.14 (legacy domain): the irq number is the GIC ID (SPI N = irq 32 + N) and every ID has a descriptor from boot', () => {
    const m = buildIrqMachine({ profile: 'rfc-v4' });
    const a = m.core.irqOfParse([0, 98, 4]);
    const b = m.core.irqOfParse([0, 97, 1]);
    const ppi = m.core.irqOfParse([1, 9, 4]);
    expect([a, b, ppi]).toEqual([130, 129, 25]);
    expect(m.core.virqOf(129)).toBe(129);
    expect(m.core.descOf(a)!.hwirq).toBe(130);
    expect(m.core.irqGetTriggerType(b)).toBe(IRQ_TYPE_EDGE_RISING);
    expect(m.gic.isEdge(129)).toBe(true);
    expect(m.core.irqOfParse([0, 200, 4])).toBe(0);
    // irq_domain_add_legacy mapped IDs 16..159 at boot: no specifier needed to request one
    expect(m.core.virqOf(100)).toBe(100);
    expect(m.core.descriptors().map((d) => d.irq)).toEqual(Array.from({ length: 160 - 16 }, (_, i) => 16 + i));
    expect(m.core.requestIrq(100, () => IRQ_HANDLED, 0, 'x', 1)).toBe(0);
    expect(m.gic.isEnabled(100)).toBe(true);
    expect(m.core.requestIrq(160, () => IRQ_HANDLED, 0, 'y', 2)).toBe(-EINVAL);
  });

  it('3.14 (legacy domain): specifiers parsed before boot already use the GIC ID', () => {
    const m = buildIrqMachine({ profile: 'rfc-v4', boot: false });
    expect(m.core.irqOfParse([0, 10, 1])).toBe(42);
    m.core.boot();
    expect(m.core.descOf(42)!.trigger).toBe(IRQ_TYPE_EDGE_RISING);
    expect(m.core.descriptors().length).toBe(160 - 16);
  });

  it('specifiers parsed before boot get their trigger written at boot', () => {
    const m = buildIrqMachine({ boot: false });
    const v = m.core.irqOfParse([0, 10, 1]);
    expect(m.gic.isEdge(42)).toBe(false);
    m.core.boot();
    expect(m.gic.isEdge(42)).toBe(true);
    expect(m.core.irqGetTriggerType(v)).toBe(IRQ_TYPE_EDGE_RISING);
  });
});

describe('request_irq / free_irq', () => {
  it('unknown irq or missing handler: -EINVAL; second non-shared: -EBUSY; both shared: ok', () => {
    const m = setup();
    const h = (): IrqReturn => IRQ_HANDLED;
    expect(m.core.requestIrq(999, h, 0, 'x', 1)).toBe(-EINVAL);
    expect(m.core.requestIrq(m.irq, null as unknown as typeof h, 0, 'x', 1)).toBe(-EINVAL);
    expect(m.core.requestIrq(m.irq, h, IRQF_SHARED, 'x', null)).toBe(-EINVAL);
    expect(m.core.requestIrq(m.irq, h, 0, 'a', 1)).toBe(0);
    expect(m.core.requestIrq(m.irq, h, 0, 'b', 2)).toBe(-EBUSY);
    expect(m.core.requestIrq(m.irq, h, IRQF_SHARED, 'b', 2)).toBe(-EBUSY);
    expect(m.log.grep(new RegExp(`Flags mismatch irq ${m.irq}\\.`)).length).toBe(2);
    expect(m.core.freeIrq(m.irq, 1)).toBe('a');
    expect(m.core.freeIrq(m.irq, 1)).toBe(null);
    expect(m.log.grep(new RegExp(`Trying to free already-free IRQ ${m.irq}$`)).length).toBe(1);
    expect(m.core.requestIrq(m.irq, h, IRQF_SHARED, 'a', 1)).toBe(0);
    expect(m.core.requestIrq(m.irq, h, 0, 'b', 2)).toBe(-EBUSY);
    expect(m.core.requestIrq(m.irq, h, IRQF_SHARED, 'b', 2)).toBe(0);
    expect(m.core.descOf(m.irq)!.actions.map((a) => a.name)).toEqual(['a', 'b']);
  });

  it('shared handlers are all called; IRQ_NONE from one is fine when another handles it', () => {
    const m = setup();
    const calls: string[] = [];
    m.core.requestIrq(m.irq, (irq, dev) => { calls.push(`a${irq}${String(dev)}`); return IRQ_NONE; }, IRQF_SHARED, 'a', 'A');
    m.core.requestIrq(m.irq, () => { calls.push('b'); m.line.lower(); return IRQ_HANDLED; }, IRQF_SHARED, 'b', 'B');
    m.line.raise();
    settle(m);
    expect(calls).toEqual([`a${m.irq}A`, 'b']);
    expect(m.core.descOf(m.irq)!.unhandled).toBe(0);
    expect(m.gic.isActive(ID)).toBe(false);
  });

  it('free_irq while pending: the line is masked, no handler runs, a new request gets it', () => {
    const m = setup();
    let calls = 0;
    const h = (): IrqReturn => { calls++; m.line.lower(); return IRQ_HANDLED; };
    m.core.requestIrq(m.irq, h, 0, 'test', 1);
    m.cpu.irqMasked = true; // the CPU does not take it yet
    m.line.raise();
    expect(m.gic.isPending(ID)).toBe(true);
    expect(m.cpu.irqAsserted).toBe(true);
    expect(m.core.freeIrq(m.irq, 1)).toBe('test');
    expect(m.gic.isEnabled(ID)).toBe(false);
    expect(m.cpu.irqAsserted).toBe(false);
    m.cpu.irqMasked = false;
    settle(m);
    expect(calls).toBe(0);
    expect(m.gic.isPending(ID)).toBe(true); // still asserted by the device
    expect(m.core.requestIrq(m.irq, h, 0, 'test2', 2)).toBe(0);
    settle(m);
    expect(calls).toBe(1);
    expect(m.core.descOf(m.irq)!.count).toBe(1);
  });

  it('IRQF_NO_AUTOEN leaves the line disabled until enable_irq', () => {
    const m = setup();
    let calls = 0;
    m.core.requestIrq(m.irq, () => { calls++; m.line.lower(); return IRQ_HANDLED; }, IRQF_NO_AUTOEN, 't', 1);
    m.line.raise();
    settle(m);
    expect(calls).toBe(0);
    m.core.enableIrq(m.irq);
    settle(m);
    expect(calls).toBe(1);
  });
});

describe('trigger types: at mapping (irqTypeAtMapping) and the GIC set_type sequence (gicSetType)', () => {
  /** the distributor accesses (R/W, register, value) while `body` runs */
  function gicd(m: IrqMachine, body: () => void): string[] {
    const out: string[] = [];
    m.bus.mmioObserver = (region, offset, _size, write, value) => {
      if (region.name !== 'gicd') return;
      const reg = offset >= 0xc00 && offset < 0xd00 ? 'ICFGR' : offset >= 0x100 && offset < 0x180 ? 'ISENABLER' : offset >= 0x180 && offset < 0x200 ? 'ICENABLER' : `0x${offset.toString(16)}`;
      out.push(`${write ? 'W' : 'R'} ${reg}${write ? ` ${(value >>> 0).toString(16)}` : ''}`);
    };
    body();
    m.bus.mmioObserver = null;
    return out;
  }

  it('3.14: a mapping with another type reprograms the GIC (ICFGR and ISENABLER read, the ID disabled around the write)', () => {
    const m = buildIrqMachine({ profile: 'rfc-v4' });
    const irq = m.core.irqOfParse([0, 97, 4]);
    expect(m.core.requestIrq(irq, () => IRQ_HANDLED, 0, 'x', 1)).toBe(0);
    const bit = (1 << (((32 + 97) % 16) * 2 + 1)) >>> 0;
    const seq = gicd(m, () => expect(m.core.irqOfParse([0, 97, 1])).toBe(irq));
    expect(seq.map((x) => x.split(' ').slice(0, 2).join(' '))).toEqual(['R ICFGR', 'R ISENABLER', 'W ICENABLER', 'W ICFGR', 'W ISENABLER']);
    expect(m.gic.isEdge(32 + 97)).toBe(true);
    expect(Number.parseInt(seq[3]!.split(' ')[2]!, 16) & bit).toBe(bit);
    // request_irq with trigger bits calls gic_set_type even when nothing changes: ICFGR written again
    const m2 = buildIrqMachine({ profile: 'rfc-v4' });
    const irq2 = m2.core.irqOfParse([0, 97, 4]);
    expect(gicd(m2, () => m2.core.requestIrq(irq2, () => IRQ_HANDLED, IRQ_TYPE_LEVEL_HIGH, 'y', 1)).filter((x) => x.includes('ICFGR'))).toEqual(['R ICFGR', expect.stringMatching(/^W ICFGR/)]);
  });

  it('v6.12: a mapping records the type; a known hwirq with another recorded type fails ("type mismatch"), one without takes it', () => {
    const m = buildIrqMachine({ profile: 'mainline', core: { gic: { distBase: GICD_BASE, cpuBase: 0x2c002000, numIrqs: 160, ofName: '/interrupt-controller@2c001000' } } });
    const seq = gicd(m, () => expect(m.core.irqOfParse([0, 97, 4])).toBe(16));
    expect(seq).toEqual([]);
    expect(m.core.irqOfParse([0, 97, 4])).toBe(16);
    expect(m.core.irqOfParse([0, 97, 0])).toBe(16);
    expect(m.core.irqOfParse([0, 97, 1])).toBe(0);
    expect(m.log.grep(/type mismatch/).map((r) => r.msg)).toEqual(['type mismatch, failed to map hwirq-129 for /interrupt-controller@2c001000!']);
    expect(m.core.irqOfParse([0, 96, 0])).toBe(17);
    expect(m.core.irqOfParse([0, 96, 1])).toBe(17);
    expect(m.core.irqGetTriggerType(17)).toBe(IRQ_TYPE_EDGE_RISING);
  });

  it('v6.12: request_irq masks, configures ICFGR only when it changes (and reads it back), unmasks only an enabled line', () => {
    const m = buildIrqMachine({ profile: 'mainline' });
    const lvl = m.core.irqOfParse([0, 97, 4]);
    const edge = m.core.irqOfParse([0, 96, 1]);
    // level-high is what gic_dist_init left: one read, no write (the line is masked and disabled)
    expect(gicd(m, () => m.core.requestIrq(lvl, () => IRQ_HANDLED, IRQF_NO_AUTOEN, 'l', 1))).toEqual(['R ICFGR']);
    const seq = gicd(m, () => m.core.requestIrq(edge, () => IRQ_HANDLED, IRQF_NO_AUTOEN, 'e', 1));
    expect(seq.map((x) => x.split(' ').slice(0, 2).join(' '))).toEqual(['R ICFGR', 'W ICFGR', 'R ICFGR']);
    expect(m.gic.isEdge(32 + 96)).toBe(true);
    // irq_set_irq_type on an enabled line: masked around it
    m.core.enableIrq(edge);
    const seq2 = gicd(m, () => expect(m.core.irqSetIrqType(edge, IRQ_TYPE_LEVEL_HIGH)).toBe(0));
    expect(seq2.map((x) => x.split(' ').slice(0, 2).join(' '))).toEqual(['W ICENABLER', 'R ICFGR', 'W ICFGR', 'R ICFGR', 'W ISENABLER']);
  });
});

describe('chip writes of mask/unmask (capability irqMaskStateCheck)', () => {
  /** the GIC distributor's ICENABLER/ISENABLER writes while `body` runs */
  function enableWrites(m: IrqMachine, body: () => void): string[] {
    const out: string[] = [];
    m.bus.mmioObserver = (region, offset, _size, write) => {
      if (!write || region.name !== 'gicd') return;
      if (offset >= 0x100 && offset < 0x180) out.push('ISENABLER');
      else if (offset >= 0x180 && offset < 0x200) out.push('ICENABLER');
    };
    body();
    m.bus.mmioObserver = null;
    return out;
  }

  it('3.14 writes the GIC on every mask_irq/unmask_irq/irq_enable/irq_shutdown; v6.12 only when the masked state changes', () => {
    for (const [profile, want] of [
      ['rfc-v4', { free: ['ICENABLER'], enable: ['ISENABLER'] }],
      ['mainline', { free: [], enable: [] }],
    ] as const) {
      // free_irq of a line that was never enabled (IRQF_NO_AUTOEN: disabled and masked): irq_shutdown
      const a = setup({ profile });
      expect(a.core.requestIrq(a.irq, () => IRQ_HANDLED, IRQF_NO_AUTOEN, 'a', 1)).toBe(0);
      expect(enableWrites(a, () => a.core.freeIrq(a.irq, 1))).toEqual(want.free);
      // enable_irq after a lazy disable_irq that no interrupt followed: the line was never masked
      const b = setup({ profile });
      expect(b.core.requestIrq(b.irq, () => IRQ_HANDLED, 0, 'b', 1)).toBe(0);
      expect(enableWrites(b, () => b.core.disableIrq(b.irq))).toEqual([]);
      expect(enableWrites(b, () => b.core.enableIrq(b.irq))).toEqual(want.enable);
      expect(b.gic.isEnabled(ID)).toBe(true);
    }
  });
});

describe('enable/disable depth', () => {
  it('nested disables need as many enables; unbalanced enable warns', () => {
    const m = setup();
    let calls = 0;
    m.core.requestIrq(m.irq, () => { calls++; m.line.lower(); return IRQ_HANDLED; }, 0, 'test', 1);
    m.core.disableIrq(m.irq);
    m.core.disableIrq(m.irq);
    expect(m.core.descOf(m.irq)!.depth).toBe(2);
    m.line.raise();
    settle(m);
    expect(calls).toBe(0);
    // lazy disable: the arrival while disabled masked it and recorded it
    expect(m.core.descOf(m.irq)!.masked).toBe(true);
    expect(m.core.descOf(m.irq)!.pendingReplay).toBe(true);
    expect(m.gic.isEnabled(ID)).toBe(false);
    m.core.enableIrq(m.irq);
    settle(m);
    expect(calls).toBe(0);
    m.core.enableIrq(m.irq);
    settle(m);
    expect(calls).toBe(1);
    expect(m.log.grep(/Unbalanced enable/).length).toBe(0);
    m.core.enableIrq(m.irq);
    expect(m.log.grep(new RegExp(`Unbalanced enable for IRQ ${m.irq}$`)).length).toBe(1);
    expect(m.core.descOf(m.irq)!.depth).toBe(0);
  });

  it('disable_irq_nosync inside the handler automasks a level line until enable_irq', () => {
    const m = setup();
    let calls = 0;
    m.core.requestIrq(m.irq, (irq) => { calls++; m.core.disableIrqNosync(irq); return IRQ_HANDLED; }, 0, 'auto', 1);
    m.line.raise();
    settle(m);
    expect(calls).toBe(1);
    const d = m.core.descOf(m.irq)!;
    expect(d.count).toBe(2); // the second arrival found it disabled and masked it
    expect(d.depth).toBe(1);
    expect(m.gic.isEnabled(ID)).toBe(false);
    expect(m.gic.isActive(ID)).toBe(false);
    expect(m.core.storm).toBeNull();
    // unmask with the device still asserting: the handler runs again (and masks again)
    m.core.enableIrq(m.irq);
    settle(m);
    expect(calls).toBe(2);
    // user space clears the device, then unmasks: quiet
    m.line.lower();
    m.core.enableIrq(m.irq);
    settle(m);
    expect(calls).toBe(2);
    expect(m.gic.isEnabled(ID)).toBe(true);
  });

  // handle_fasteoi_irq: 3.14 counts (kstat_incr_irqs_this_cpu) before the "disabled or no
  // action" check, v6.12 after it
  for (const [profile, automasked, disabled, noHandler] of [['rfc-v4', 2, 1, 1], ['mainline', 1, 0, 0]] as const) {
    it(`${profile}: /proc/interrupts counts ${profile === 'rfc-v4' ? 'every take' : 'only the takes that run the handlers'}`, () => {
      // an automasking handler: the handler's take, then the take that masks the line
      const m = setup({ profile });
      let calls = 0;
      m.core.requestIrq(m.irq, (irq) => { calls++; m.core.disableIrqNosync(irq); return IRQ_HANDLED; }, 0, 'auto', 1);
      m.line.raise();
      settle(m);
      expect(calls).toBe(1);
      expect(m.gic.isEnabled(ID)).toBe(false);
      expect(m.core.descOf(m.irq)!.count).toBe(automasked);
      // a line disabled before it fires: one take, masked, no handler run
      const d = setup({ profile });
      d.core.requestIrq(d.irq, () => { calls++; return IRQ_HANDLED; }, 0, 'off', 1);
      d.core.disableIrqNosync(d.irq);
      d.line.raise();
      settle(d);
      expect(d.gic.isEnabled(ID)).toBe(false);
      expect(d.core.descOf(d.irq)!.pendingReplay).toBe(true);
      expect(d.core.descOf(d.irq)!.count).toBe(disabled);
      // a line without a handler, unmasked (enable_irq after free_irq, depth 1 -> 0)
      const n = setup({ profile });
      n.core.requestIrq(n.irq, () => { calls++; return IRQ_HANDLED; }, 0, 'gone', 1);
      n.core.freeIrq(n.irq, 1);
      n.core.enableIrq(n.irq);
      n.line.raise();
      settle(n);
      expect(n.gic.isEnabled(ID)).toBe(false);
      expect(n.core.descOf(n.irq)!.count).toBe(noHandler);
      expect(calls).toBe(1);
    });
  }

  it('disable_irq from its own handler warns (Linux would deadlock) and acts like nosync', () => {
    const m = setup();
    m.core.requestIrq(m.irq, (irq) => { m.core.disableIrq(irq); return IRQ_HANDLED; }, 0, 'bad', 1);
    m.line.raise();
    settle(m);
    expect(m.log.grep(new RegExp(`disable_irq\\(${m.irq}\\) called from its own handler`)).length).toBe(1);
    expect(m.core.descOf(m.irq)!.depth).toBe(1);
  });

  it('an edge arriving while disabled is replayed through ISPENDR on enable', () => {
    const m = buildIrqMachine();
    const irq = m.core.irqOfParse([0, 98, 1]);
    let calls = 0;
    m.core.requestIrq(irq, () => { calls++; return IRQ_HANDLED; }, 0, 'edge', 1);
    m.core.disableIrqNosync(irq);
    m.line.pulse();
    settle(m);
    expect(calls).toBe(0);
    expect(m.core.descOf(irq)!.pendingReplay).toBe(true);
    m.core.enableIrq(irq);
    settle(m);
    expect(calls).toBe(1);
    m.line.pulse();
    settle(m);
    expect(calls).toBe(2);
  });
});

describe('IRQ entry', () => {
  it('a KernelOops in a handler panics: "Fatal exception in interrupt", no EOI, the machine stops for good', () => {
    const m = setup();
    let calls = 0;
    m.core.requestIrq(m.irq, () => {
      calls++;
      m.line.lower();
      throw new KernelOops('external-abort', 0x2c0d0000, 'read32 decode-error', ['oopser_handler']);
    }, 0, 'oopser', 1);
    m.line.raise();
    const res = m.scheduler.runUntil(m.scheduler.now + 1_000_000);
    expect(calls).toBe(1);
    expect(res.reason).toBe('stopped');
    expect(res.detail).toBe('Kernel panic - not syncing: Fatal exception in interrupt');
    expect(m.core.panicked).toBe(res.detail);
    // panic() never returns: the interrupt stays active at the GIC (no EOI)
    expect(m.gic.isActive(ID)).toBe(true);
    const lines = m.log.lines();
    expect(lines.some((l) => /Unable to handle kernel external-abort at virtual address 0x2c0d0000: read32 decode-error \(in interrupt: handler oopser of IRQ \d+\)/.test(l))).toBe(true);
    expect(lines.some((l) => l.endsWith('Internal error: Oops: 1008 [#1] ARM'))).toBe(true);
    expect(lines.some((l) => l.endsWith('(oopser_handler) from (handle_irq_event_percpu)'))).toBe(true);
    expect(lines[lines.length - 1]).toMatch(/Kernel panic - not syncing: Fatal exception in interrupt$/);
    expect(m.core.stats.oopses).toBe(1);
    // nothing is taken any more
    m.line.raise();
    m.core.irqEntry();
    expect(calls).toBe(1);
  });

  it('an IAR of 1023 counts as spurious and writes no EOI', () => {
    const m = setup();
    const before = m.gic.stats.eois;
    m.core.irqEntry();
    expect(m.core.stats.spurious).toBe(1);
    expect(m.gic.stats.eois).toBe(before);
  });

  it('mainline: an interrupt without a mapping is masked, EOId and counted in Err', () => {
    const m = buildIrqMachine({ profile: 'mainline' });
    const A = makeAttrs({ priv: true });
    m.bus.write(GICD_BASE + 0x100 + 16, 4, 1 << 2, A); // enable ID 130 behind the core's back
    m.line.raise();
    settle(m);
    expect(m.core.stats.errors).toBe(1);
    expect(m.gic.isEnabled(ID)).toBe(false);
    expect(m.gic.isActive(ID)).toBe(false);
    expect(m.core.procInterrupts()).toMatch(/Err:\s+1\n$/);
  });

  it('the device register drives the line through the bus', () => {
    const m = setup();
    let calls = 0;
    const A = makeAttrs({ priv: true });
    m.core.requestIrq(m.irq, () => { calls++; m.hw.writel(0, TEST_IRQ_BASE); return IRQ_HANDLED; }, 0, 'test-irq', 1);
    m.bus.write(TEST_IRQ_BASE, 4, 1, A);
    expect(m.bus.read(TEST_IRQ_BASE, 4, A)).toBe(1);
    settle(m);
    expect(calls).toBe(1);
    expect(m.bus.read(TEST_IRQ_BASE, 4, A)).toBe(0);
  });
});

describe('/proc/interrupts', () => {
  /** two lines with handlers (one shared and taken once), one mapped without a handler */
  function procText(profile: string): string[] {
    const m = setup({ profile });
    const e = m.core.irqOfParse([0, 40, 1]);
    m.core.irqOfParse([0, 41, 4]); // no handler, no count: not shown
    m.core.requestIrq(m.irq, () => { m.line.lower(); return IRQ_HANDLED; }, IRQF_SHARED, 'test-irq', 1);
    m.core.requestIrq(m.irq, () => IRQ_NONE, IRQF_SHARED, 'other', 2);
    m.core.requestIrq(e, () => IRQ_HANDLED, 0, 'arm-smmu global fault', 3);
    m.line.raise();
    settle(m);
    const lines = m.core.procInterrupts().split('\n');
    expect(lines[0]).toBe(' '.repeat(11) + 'CPU0       ');
    expect(lines[0]!.indexOf('CPU0') + 4).toBe(lines[1]!.indexOf(':') + 2 + 10);
    return lines;
  }

  it('3.14: rows in irq order, the irq number being the GIC ID, the chip name "GIC" in 8 columns', () => {
    expect(procText('rfc-v4')).toEqual([
      ' '.repeat(11) + 'CPU0       ',
      ' 72:          0       GIC  72 Edge      arm-smmu global fault',
      '130:          1       GIC 130 Level     test-irq, other',
      'Err:          0',
      '',
    ]);
  });

  // show_interrupts: 3.14 skips a descriptor only with no action and a zero count, v6.12
  // every descriptor without an action
  for (const [profile, rows] of [
    ['rfc-v4', ['130:          1       GIC 130 Level   ']],
    ['mainline', []],
  ] as const) {
    it(`${profile}: a line whose handler was freed after a take ${rows.length ? 'keeps its row' : 'has no row'}`, () => {
      const m = setup({ profile });
      m.core.requestIrq(m.irq, () => { m.line.lower(); return IRQ_HANDLED; }, 0, 'once', 1);
      m.line.raise();
      settle(m);
      expect(m.core.descOf(m.irq)!.count).toBe(1);
      m.core.freeIrq(m.irq, 1);
      const lines = m.core.procInterrupts().split('\n');
      expect(lines.slice(1, -2)).toEqual(rows);
      expect(lines[lines.length - 2]).toBe('Err:          0');
    });
  }

  it('mainline: virqs in mapping order, the hwirq column the GIC ID, the chip printed by gic_irq_print_chip ("GIC-0")', () => {
    expect(procText('mainline')).toEqual([
      ' '.repeat(11) + 'CPU0       ',
      ' 16:          1 GIC-0 130 Level     test-irq, other',
      ' 17:          0 GIC-0  72 Edge      arm-smmu global fault',
      'Err:          0',
      '',
    ]);
  });
});

describe('request_irq trigger flags', () => {
  it('3.14: IRQF_TRIGGER_* overrides the DT type; shared requests must agree on them', () => {
    const m = setup({ profile: 'rfc-v4' });
    const h = (): IrqReturn => IRQ_HANDLED;
    expect(m.core.requestIrq(m.irq, h, IRQF_SHARED | IRQ_TYPE_EDGE_RISING, 'a', 1)).toBe(0);
    expect(m.core.irqGetTriggerType(m.irq)).toBe(IRQ_TYPE_EDGE_RISING);
    expect(m.gic.isEdge(ID)).toBe(true);
    expect(m.core.requestIrq(m.irq, h, IRQF_SHARED, 'b', 2)).toBe(-EBUSY);
    expect(m.core.requestIrq(m.irq, h, IRQF_SHARED | IRQ_TYPE_EDGE_RISING, 'b', 2)).toBe(0);
    // the GIC cannot do level-low on an SPI
    const other = m.core.irqOfParse([0, 50, 4]);
    expect(m.core.requestIrq(other, h, 8, 'low', 3)).toBe(-EINVAL);
    expect(m.core.irqGetTriggerType(other)).toBe(IRQ_TYPE_LEVEL_HIGH);
  });

  // __setup_irq: 3.14 compares the two requests' IRQF_TRIGGER_* bits; v6.12 ORs the line's
  // type into a request without any, then compares with the line's type
  it('3.14: on a level-high line, a shared request naming IRQF_TRIGGER_HIGH does not match one that named none', () => {
    const m = setup({ profile: 'rfc-v4' });
    const h = (): IrqReturn => IRQ_HANDLED;
    expect(m.core.requestIrq(m.irq, h, IRQF_SHARED, 'a', 1)).toBe(0);
    expect(m.core.requestIrq(m.irq, h, IRQF_SHARED | IRQ_TYPE_LEVEL_HIGH, 'b', 2)).toBe(-EBUSY);
    expect(m.core.requestIrq(m.irq, h, IRQF_SHARED | IRQ_TYPE_EDGE_RISING, 'c', 3)).toBe(-EBUSY);
    expect(m.log.grep(/Flags mismatch/).map((r) => r.msg)).toEqual([
      'Flags mismatch irq 130. 00000084 (b) vs. 00000080 (a)',
      'Flags mismatch irq 130. 00000081 (c) vs. 00000080 (a)',
    ]);
    expect(m.core.requestIrq(m.irq, h, IRQF_SHARED, 'd', 4)).toBe(0);
  });

  it('mainline: a request without trigger bits inherits the line type, so shared requests agree with the line, not with each other', () => {
    const m = setup({ profile: 'mainline' });
    const h = (): IrqReturn => IRQ_HANDLED;
    expect(m.core.requestIrq(m.irq, h, IRQF_SHARED, 'a', 1)).toBe(0);
    expect(m.core.requestIrq(m.irq, h, IRQF_SHARED | IRQ_TYPE_LEVEL_HIGH, 'b', 2)).toBe(0);
    expect(m.core.requestIrq(m.irq, h, IRQF_SHARED | IRQ_TYPE_EDGE_RISING, 'c', 3)).toBe(-EBUSY);
    expect(m.core.requestIrq(m.irq, h, 0, 'd', 4)).toBe(-EBUSY);
    expect(m.log.grep(/Flags mismatch/).map((r) => r.msg)).toEqual([
      'Flags mismatch irq 16. 00000081 (c) vs. 00000084 (a)',
      'Flags mismatch irq 16. 00000004 (d) vs. 00000084 (a)',
    ]);
    // the first request set the line to edge: a later one without trigger bits gets edge
    const e = m.core.irqOfParse([0, 50, 0]);
    expect(m.core.irqGetTriggerType(e)).toBe(0);
    expect(m.core.requestIrq(e, h, IRQF_SHARED | IRQ_TYPE_EDGE_RISING, 'e', 5)).toBe(0);
    expect(m.core.requestIrq(e, h, IRQF_SHARED, 'f', 6)).toBe(0);
    expect(m.core.descOf(e)!.actions.map((x) => x.flags)).toEqual([0x81, 0x81]);
  });
});

describe('note_interrupt', () => {
  // the messages name the Linux irq number: the GIC ID in 3.14 (legacy domain), the
  // allocated number in mainline
  for (const [profile, n] of [['rfc-v4', 130], ['mainline', 16]] as const) {
    it(`${profile}: a line whose handler keeps answering IRQ_NONE is disabled ("nobody cared", irq ${n})`, () => {
      const m = setup({ profile, core: { spuriousWindow: 100, spuriousLimit: 99 } });
      expect(m.irq).toBe(n);
      let calls = 0;
      m.core.requestIrq(m.irq, () => {
        calls++;
        m.line.lower();
        m.scheduler.schedule(50_000, () => m.line.raise());
        return IRQ_NONE;
      }, 0, 'deaf', 1);
      m.line.raise();
      const r = m.scheduler.runUntilIdle(100_000);
      expect(r.reason).toBe('idle');
      expect(calls).toBe(100);
      expect(m.core.descOf(m.irq)!.spuriousDisabled).toBe(true);
      expect(m.gic.isEnabled(ID)).toBe(false);
      expect(m.core.storm).toBeNull();
      // __report_bad_irq's lines, then KERN_EMERG "Disabling IRQ #N"; no message for the
      // IRQ_NONE takes before (note_interrupt prints nothing until it disables the line)
      const recs = m.log.records.filter((r) => /irq \d+|handlers|deaf|Disabling|IRQ_NONE/.test(r.msg));
      expect(recs.map((r) => [r.level, r.msg])).toEqual([
        ['err', `irq ${n}: nobody cared (try booting with the "irqpoll" option)`],
        ['err', 'handlers:'],
        ['err', '[<deaf>] deaf'],
        ['emerg', `Disabling IRQ #${n}`],
      ]);
    });
  }

  // note_interrupt's irq_disable is lazy in both eras (the GIC chip has no irq_disable): the
  // line stays enabled at the GIC until its next take finds it disabled and masks it; 3.14
  // counts that take in /proc/interrupts, v6.12 not
  for (const [profile, count] of [['rfc-v4', 101], ['mainline', 100]] as const) {
    it(`${profile}: "nobody cared" disables the line lazily: the next take of the asserted level line masks it`, () => {
      const m = setup({ profile, trace: true, core: { spuriousWindow: 100, spuriousLimit: 99 } });
      let calls = 0;
      const seen: boolean[] = [];
      m.core.requestIrq(m.irq, () => {
        calls++;
        // the GIC enable bit as the take before found it
        seen.push(m.gic.isEnabled(ID));
        return IRQ_NONE; // never clears the device: the level line stays asserted
      }, 0, 'deaf', 1);
      m.line.raise();
      settle(m);
      expect(calls).toBe(100);
      expect(seen.every((e) => e)).toBe(true);
      const d = m.core.descOf(m.irq)!;
      expect([d.spuriousDisabled, d.depth, d.disabled]).toEqual([true, 1, true]);
      // take 100 disabled it (marked only); take 101 found it disabled: masked, pending, EOId
      const takes = m.tracer.events.filter((e) => e.kind === 'irq-take').length;
      expect(takes).toBe(101);
      expect(m.cpu.irqEntries).toBe(101);
      expect([d.masked, d.pendingReplay]).toEqual([true, true]);
      expect(m.gic.isEnabled(ID)).toBe(false);
      expect(m.gic.isActive(ID)).toBe(false);
      expect(d.count).toBe(count);
      expect(m.log.grep(/Disabling IRQ #/).length).toBe(1);
    });
  }

  it('unhandled takes more than HZ/10 apart restart the count (no doomsday timer); a new shared handler re-enables a disabled line', () => {
    const m = setup({ core: { spuriousWindow: 100, spuriousLimit: 99 } });
    let calls = 0;
    let gap = 110_000_000; // 110 ms: more than HZ/10 (10 jiffies at HZ = 100) plus a tick
    m.core.requestIrq(m.irq, () => {
      calls++;
      m.line.lower();
      if (calls < 300) m.scheduler.schedule(gap, () => m.line.raise());
      return IRQ_NONE;
    }, IRQF_SHARED, 'slow', 1);
    m.line.raise();
    m.scheduler.runUntilIdle(1_000_000);
    expect(calls).toBe(300);
    expect(m.log.grep(/nobody cared/).length).toBe(0);
    // the same at 1 ms intervals: disabled at the 100th take
    gap = 1_000_000;
    calls = 0;
    m.line.raise();
    m.scheduler.runUntilIdle(1_000_000);
    expect(calls).toBe(100);
    expect(m.core.descOf(m.irq)!.spuriousDisabled).toBe(true);
    // __setup_irq of another shared handler: counters reset, the line enabled again
    m.core.requestIrq(m.irq, () => IRQ_HANDLED, IRQF_SHARED, 'second', 2);
    expect(m.core.descOf(m.irq)!.spuriousDisabled).toBe(false);
    expect(m.gic.isEnabled(ID)).toBe(true);
  });
});

describe('determinism', () => {
  it('two identical runs give the same trace digest', () => {
    const digest = (): string => {
      const m = setup({ trace: true });
      m.core.requestIrq(m.irq, (irq) => { m.core.disableIrqNosync(irq); return IRQ_HANDLED; }, 0, 't', 1);
      m.scheduler.schedule(1000, () => m.line.raise());
      m.scheduler.schedule(900_000, () => { m.line.lower(); m.core.enableIrq(m.irq); });
      m.scheduler.schedule(950_000, () => m.line.raise());
      m.scheduler.runUntilIdle(100_000);
      return m.tracer.digest();
    };
    const a = digest();
    expect(a).toBe(digest());
    expect(a).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('depth semantics (property)', () => {
  it('matches a reference model of depth, delivery and unbalanced-enable warnings', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom('disable', 'nosync', 'enable', 'raise', 'lower'), { maxLength: 40 }), (ops) => {
        const m = setup();
        let calls = 0;
        m.core.requestIrq(m.irq, () => { calls++; m.line.lower(); return IRQ_HANDLED; }, 0, 'p', 1);
        let depth = 0;
        let level = false;
        let refCalls = 0;
        let warnings = 0;
        for (const op of ops) {
          switch (op) {
            case 'disable': m.core.disableIrq(m.irq); depth++; break;
            case 'nosync': m.core.disableIrqNosync(m.irq); depth++; break;
            case 'enable': m.core.enableIrq(m.irq); if (depth === 0) warnings++; else depth--; break;
            case 'raise': m.line.raise(); level = true; break;
            case 'lower': m.line.lower(); level = false; break;
          }
          settle(m);
          if (level && depth === 0) {
            refCalls++;
            level = false;
          }
          expect(calls).toBe(refCalls);
          expect(m.core.descOf(m.irq)!.depth).toBe(depth);
          expect(m.line.level).toBe(level);
        }
        expect(m.log.grep(new RegExp(`Unbalanced enable for IRQ ${m.irq}$`)).length).toBe(warnings);
        expect(m.gic.isActive(ID)).toBe(false);
      }),
      { numRuns: 150 },
    );
  });
});
