import { describe, expect, it } from 'vitest';
import { ACCEL_DEFAULT } from '../../emulator/accel.js';
import { guestErrorText, oneLine, summaryLines, toJson } from '../cli/report.js';
import './index.js';
import { getScenario } from './registry.js';
import { bootSystem, finishResult } from './runner.js';

const GICD = 0x2c001000; // the default board's distributor (emulator/boards/vexpress-vfio.dts)

describe('the run summary counts guest errors', () => {
  it('a clean run reports none', () => {
    const r = getScenario('pl330-vfio-test')!.run({ profile: 'rfc-v4', board: 'vexpress-vfio', seed: 1 });
    expect(r.guestErrors).toBe(0);
    expect(r.guestErrorsByDevice).toEqual({});
    expect(r.accel).toBe(ACCEL_DEFAULT);
    expect(summaryLines(r)).toContain(`guest errors: 0   accelerators: ${ACCEL_DEFAULT ? 'on' : 'off'}`);
  });

  it('an administrator\'s devmem of a register the model does not implement is reported: summary, --json, trace', () => {
    // `devmem 0x2c001d00` on the booted board: GICD_PPISR, which the GIC-400 has (DDI 0471B 3.2)
    // and the model does not implement: RAZ, reported as an unmapped read; then a write to
    // the read-only GICD_TYPER
    const sys = bootSystem({ profile: 'rfc-v4', board: 'vexpress-vfio', seed: 1 });
    expect(sys.kernel.hw.readl(GICD + 0xd00)).toBe(0);
    sys.kernel.hw.writel(0xffffffff, GICD + 0x004);
    const run = sys.machine.scheduler.runUntilIdle();
    const r = finishResult(sys, { scenario: 'devmem', profile: 'rfc-v4', board: 'vexpress-vfio', seed: 1, expected: 'pass', outcome: 'pass', output: [], exitStatus: 0 }, run, true);
    const dist = '2c001000.interrupt-controller.distributor';
    expect(r.guestErrors).toBe(2);
    expect(r.guestErrorsByDevice).toEqual({ [dist]: 2 });
    const j = toJson(r);
    expect(j['guestErrors']).toBe(2);
    expect(j['guestErrorsByDevice']).toEqual({ [dist]: 2 });
    expect(summaryLines(r).join('\n')).toMatch(new RegExp(`guest errors: 2 \\(${dist.replace(/\./g, '\\.')}: 2\\)`));
    expect(guestErrorText(r)).toBe(`2 (${dist}: 2)`);
    expect(oneLine(r)).toMatch(/ guest-errors=2 /);
    const ev = sys.machine.tracer.events.filter((e) => e.kind === 'guest-error');
    expect(ev.map((e) => [e.src, e.f])).toEqual([
      [dist, { what: 'unmapped-read', off: 0xd00, reg: null, value: null }],
      [dist, { what: 'read-only-write', off: 0x004, reg: 'GICD_TYPER', value: 0xffffffff }],
    ]);
  });

  it('counts guest errors with tracing off too', () => {
    const sys = bootSystem({ profile: 'rfc-v4', board: 'vexpress-vfio', seed: 1 });
    sys.machine.tracer.enabled = false;
    sys.kernel.hw.readl(GICD + 0x00c);
    expect(sys.machine.tracer.guestErrors).toBe(1);
    expect(sys.machine.tracer.events.some((e) => e.kind === 'guest-error')).toBe(false);
  });
});
