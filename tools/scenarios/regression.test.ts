/**
 * The regression suite: every scenario in every profile where it applies, asserting the
 * outcome, the program's output lines, virtual time, interrupt counts and the trace
 * digest against golden values kept in golden.json.
 *
 * Update the goldens deliberately (after a reviewed change of behaviour or timing):
 *   npm run golden:update
 * (= UPDATE_GOLDEN=1 vitest run tools/scenarios/regression.test.ts), then review the diff.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import './index.js';
import { CLOSE_ITEMS, permutations, runCloseInFlight, runPl330 } from './pl330.js';
import { getScenario, listScenarios, type ScenarioResult } from './registry.js';
import { collectFaults } from './runner.js';
import { System } from '../system/system.js';

interface Golden {
  outcome: string;
  expected: string;
  virtualTimeNs: number;
  interrupts: number;
  irqTakes: number;
  dmaBytes: number;
  traceSha256: string;
  output: string[];
}

const GOLDEN_FILE = join(__dirname, 'golden.json');
const updating = process.env['UPDATE_GOLDEN'] === '1';
const golden: Record<string, Golden> = existsSync(GOLDEN_FILE) ? (JSON.parse(readFileSync(GOLDEN_FILE, 'utf8')) as Record<string, Golden>) : {};
const fresh: Record<string, Golden> = {};
/** the runs of the loop below, for the tests that look closer at one */
const results = new Map<string, ScenarioResult>();

function snap(r: ScenarioResult): Golden {
  return {
    outcome: r.outcome,
    expected: r.expected,
    virtualTimeNs: r.virtualTimeNs,
    interrupts: r.interrupts,
    irqTakes: r.irqTakes,
    dmaBytes: r.dmaBytes,
    traceSha256: r.traceSha256,
    output: r.output,
  };
}

function check(key: string, r: ScenarioResult): void {
  const g = snap(r);
  fresh[key] = g;
  expect(r.outcome, `${key}: outcome`).toBe(r.expected);
  if (updating) return;
  const want = golden[key];
  expect(want, `${key}: no golden value (run npm run golden:update)`).toBeDefined();
  expect(g.output).toEqual(want!.output);
  expect(g).toEqual(want);
}

afterAll(() => {
  if (updating) writeFileSync(GOLDEN_FILE, JSON.stringify(Object.fromEntries(Object.entries(fresh).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))), null, 1) + '\n');
});

describe('regression: every scenario in every applicable profile', () => {
  for (const s of listScenarios()) {
    for (const p of s.profiles ?? ['rfc-v4']) {
      it(`${s.name} [${p}]`, () => {
        const r = s.run({ profile: p, board: 'vexpress-vfio', seed: 1 });
        results.set(`${s.name}|${p}`, r);
        check(`${s.name}|${p}|seed=1`, r);
      }, s.timeoutMs);
    }
  }
  it('close-in-flight: every order of closing container, group, device and eventfd', () => {
    for (const order of permutations(CLOSE_ITEMS)) {
      const r = runCloseInFlight({ profile: 'rfc-v4', board: 'vexpress-vfio', seed: 1 }, order);
      expect(r.checks, order.join(',')).toEqual({ noPagesPinned: true, iovasUnmapped: true, dmaStopped: true });
      expect(r.outcome).toBe('pass');
    }
  });
});

describe('fault-storm: stall mode, "nobody cared", the hang diagnosed', () => {
  const get = (p: string): ScenarioResult => results.get(`fault-storm|${p}`) ?? getScenario('fault-storm')!.run({ profile: p, board: 'vexpress-vfio', seed: 1 });
  it('2014: the context fault line is disabled at the 100,000th take and the next stalled DMA never completes; the run says why', () => {
    const r = get('rfc-v4');
    expect(r.outcome).toBe('hang:stalled-dma');
    const log = r.kernelLog.map((l) => l.replace(/^\[[ 0-9.]+\] /, ''));
    const i = log.findIndex((l) => /^irq \d+: nobody cared \(try booting with the "irqpoll" option\)$/.test(l));
    expect(i).toBeGreaterThan(0);
    const irq = /^irq (\d+)/.exec(log[i]!)![1];
    expect(log.slice(i + 1, i + 4)).toEqual(['handlers:', '[<arm_smmu_context_fault>] arm_smmu_context_fault', `Disabling IRQ #${irq}`]);
    // dev_err_ratelimited: 10 "Unhandled context fault" lines in the half second of faults
    expect(log.filter((l) => l.includes('Unhandled context fault')).length).toBe(10);
    expect(r.output.at(-2)).toBe('DMA 100000: channel 0 state 0x1 after 50 polls: waiting for its interrupt');
    const hang = r.output.at(-1)!;
    expect(hang).toMatch(/^\[machine hung: no runnable work; a transaction to 0x01000000 stalled in 2b400000\.iommu context bank 0 since \d+ ns; 2c0a0000\.dma channel 0 waits for it; IRQ \d+ \(hwirq \d+, arm-smmu-context-fault\) disabled by the spurious-interrupt logic \("nobody cared"\); blocked: fault-storm\]$/);
    expect(r.faults.at(-1)?.kind).toBe('hang');
    expect(r.exitStatus).toBeNull();
  }, 300_000);

  it('mainline: faults terminate, the handler returns IRQ_HANDLED, every DMA faults and the program ends', () => {
    const r = get('mainline');
    expect(r.outcome).toBe('pass');
    expect(r.exitStatus).toBe(0);
    expect(r.kernelLog.some((l) => l.includes('nobody cared'))).toBe(false);
    expect(r.output.at(-1)).toBe('100050 DMAs faulted and were killed');
  }, 300_000);
});

describe('determinism', () => {
  it('the same seed gives the same digest and virtual time; another seed other data, same time', () => {
    const a = runPl330({ profile: 'rfc-v4', board: 'vexpress-vfio', seed: 7 });
    const b = runPl330({ profile: 'rfc-v4', board: 'vexpress-vfio', seed: 7 });
    const c = runPl330({ profile: 'rfc-v4', board: 'vexpress-vfio', seed: 8 });
    expect(b.traceSha256).toBe(a.traceSha256);
    expect(b.virtualTimeNs).toBe(a.virtualTimeNs);
    expect(b.output).toEqual(a.output);
    expect(c.virtualTimeNs).toBe(a.virtualTimeNs);
    const srcLine = (r: typeof a): string | undefined => r.output.find((l) => l.startsWith('source value:'));
    expect(srcLine(c)).not.toBe(srcLine(a));
    expect(c.outcome).toBe('pass');
  });

  it('larger transfers and repeated transfers pass with INTCLR + UNMASK between them', () => {
    const r = runPl330({ profile: 'rfc-v4', board: 'vexpress-vfio', seed: 3, size: 1024 * 1024, transfers: 3 });
    expect(r.outcome).toBe('pass');
    expect(r.interrupts).toBe(3);
    expect(r.dmaBytes).toBe(3 * 1024 * 1024);
    expect(r.output.filter((l) => l === 'done!')).toHaveLength(3);
    expect(r.output.some((l) => l.startsWith('test failed!'))).toBe(false);
    const m = runPl330({ profile: 'mainline', board: 'vexpress-vfio', seed: 3, size: 64 * 1024, transfers: 2, channel: 3 });
    expect(m.outcome).toBe('pass');
    expect(m.interrupts).toBe(2);
  });

  it('sizes that are not whole pages (any multiple of 256) pass: the mappings are rounded up to pages', () => {
    for (const size of [256, 1024, 4096 + 256]) {
      const r = runPl330({ profile: 'rfc-v4', board: 'vexpress-vfio', seed: 2, size });
      expect(r.outcome, `size ${size}`).toBe('pass');
      expect(r.dmaBytes).toBe(size);
    }
  });

  it('many transfers do not exhaust the guest heap (the UNMASK argument is not allocated per transfer)', () => {
    // the 256 KiB arena held ~10,900 per-transfer allocations: beyond that malloc returned NULL
    const n = 12_000;
    const r = runPl330({ profile: 'rfc-v4', board: 'vexpress-vfio', seed: 2, size: 256, transfers: n });
    expect(r.outcome).toBe('pass');
    expect(r.interrupts).toBe(n);
    expect(r.dmaBytes).toBe(256 * n);
  });
});

describe('negative scenarios: the documented diagnosis, not only the outcome label', () => {
  // FTR bits of the PL330 (TRM DDI 0424, FTRn): instr_fetch_err 16, data_read_err 18
  const INSTR_FETCH_ERR = 1 << 16;
  const DATA_READ_ERR = 1 << 18;
  const pl330Ftr = (r: ScenarioResult): number =>
    r.faults.filter((f) => f.kind === 'pl330-fault').reduce((a, f) => a | (JSON.parse(f.detail) as { ftr: number }).ftr, 0);
  const smmuFault = (r: ScenarioResult): { fsr: number; fsynr: number } | null => {
    const f = r.faults.find((x) => x.source === 'arm-smmu' && x.kind === 'context-fault');
    if (!f) return null;
    const m = /fsr=0x([0-9a-f]+) fsynr=0x([0-9a-f]+)/.exec(f.detail)!;
    return { fsr: parseInt(m[1]!, 16), fsynr: parseInt(m[2]!, 16) };
  };
  // the registered scenario itself (its result carries the booted system)
  const scenario = (name: string): ReturnType<typeof runPl330> =>
    getScenario(name)!.run({ profile: 'rfc-v4', board: 'vexpress-vfio', seed: 1 }) as ReturnType<typeof runPl330>;
  const abortRaised = (r: ReturnType<typeof runPl330>): boolean =>
    r.system.machine.tracer.events.some((e) => e.kind === 'irq-line' && e.f['line'] === '2c0a0000.dma:abort' && e.f['level'] === 1);

  it('pl330-noexec (rfc-v4): SMMU permission fault with IND, PL330 instr_fetch_err, abort IRQ, the program reports it', () => {
    const r = scenario('pl330-noexec');
    const f = smmuFault(r)!;
    expect(f).not.toBeNull();
    expect(f.fsr & (1 << 3)).not.toBe(0); // FSR.PF
    expect(f.fsynr & (1 << 6)).not.toBe(0); // FSYNR0.IND
    expect(pl330Ftr(r) & INSTR_FETCH_ERR).not.toBe(0);
    expect(abortRaised(r)).toBe(true);
    expect(r.output.some((l) => /^no interrupt within 10 ms: channel 0 .*fault type 0x10000$/.test(l))).toBe(true);
    expect(r.interrupts).toBe(0);
  });

  it('pl330-unmapped-iova: SMMU translation fault, PL330 data_read_err, abort IRQ', () => {
    const r = scenario('pl330-unmapped-iova');
    const f = smmuFault(r)!;
    expect(f.fsr & (1 << 1)).not.toBe(0); // FSR.TF
    expect(f.fsynr & (1 << 6)).toBe(0); // a data access, not an instruction fetch
    expect(pl330Ftr(r) & DATA_READ_ERR).not.toBe(0);
    expect(abortRaised(r)).toBe(true);
    expect(r.dmaBytes).toBe(0);
  });
});

describe('a run reports the same whether its trace is kept or not', () => {
  it.each(['pl330-vfio-test', 'pl330-unmapped-iova', 'no-unmask'])('%s: faults (the PL330 channel faults too), DMA bytes, digest; the exports only when kept', (name) => {
    const sc = getScenario(name)!;
    const kept = sc.run({ profile: 'rfc-v4', board: 'vexpress-vfio', seed: 1, trace: { enabled: true, keep: true } });
    const not = sc.run({ profile: 'rfc-v4', board: 'vexpress-vfio', seed: 1, trace: { enabled: true, keep: false } });
    expect(not.faults).toEqual(kept.faults);
    expect(not.dmaBytes).toBe(kept.dmaBytes);
    expect(not.traceSha256).toBe(kept.traceSha256);
    expect(not.output).toEqual(kept.output);
    expect(not.tracePerfetto).toBeUndefined();
    expect(kept.tracePerfetto).toBeDefined();
    if (name === 'pl330-vfio-test') expect(kept.dmaBytes).toBeGreaterThan(0);
    if (name === 'pl330-unmapped-iova') expect(kept.faults.some((f) => f.kind === 'pl330-fault')).toBe(true);
  });
});

describe('fault list', () => {
  it('is in time order, and a guest trap carries the time the program died (not 0)', () => {
    const sys = new System({ profile: 'rfc-v4', seed: 1 });
    const { thread } = sys.spawn('segv', function* (u) {
      for (let i = 0; i < 20; i++) yield* u.getpid(); // let virtual time pass first (300 ns per syscall)
      u.mem.read8(0xdead0);
      return 0;
    });
    sys.runUntilExited([thread]);
    expect(thread.exit?.trap?.signal).toBe('SIGSEGV');
    const faults = collectFaults(sys);
    const trap = faults.find((f) => f.kind === 'SIGSEGV')!;
    expect(trap.t).toBeGreaterThanOrEqual(5000);
    expect(trap.t).toBeLessThanOrEqual(sys.now);
    const r = getScenario('pl330-unmapped-iova')!.run({ profile: 'rfc-v4', board: 'vexpress-vfio', seed: 1 });
    const ts = r.faults.map((f) => f.t);
    expect(ts.length).toBeGreaterThan(1);
    expect(ts).toEqual([...ts].sort((a, b) => a - b));
  });
});
