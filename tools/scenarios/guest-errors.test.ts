import { describe, expect, it } from 'vitest';
import { ACCEL_DEFAULT } from '../../emulator/accel.js';
import { MAP_SHARED, PROT_READ, PROT_WRITE, VFIO_DEVICE_GET_REGION_INFO, type GuestProgram, type Sys } from '../../kernel-model/uapi/index.js';
import { vfio_region_info } from '../../kernel-model/uapi/structs.js';
import { Libc } from '../../guest-tests/lib/libc.js';
import { bootBound, openVfio } from '../bench/vfio-setup.js';
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
    const r = finishResult(sys, { scenario: 'devmem', profile: 'rfc-v4', board: 'vexpress-vfio', seed: 1, expected: 'pass', outcome: 'pass', output: [], exitStatus: 0 }, run);
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

  it('a user program writing a reserved PL330 offset and a read-only register through its VFIO mmap is reported', () => {
    // the device fd's region 0 is the PL330's register page (DDI 0424 3.3: 0x008-0x01c are
    // reserved; DSR at 0x000 is read-only)
    const { sys, groupPath } = bootBound({ profile: 'rfc-v4' });
    sys.machine.tracer.enabled = true;
    const before = sys.machine.tracer.guestErrors;
    const { thread } = sys.spawn('poke', function* (s: Sys): GuestProgram {
      const libc = new Libc(s);
      if ((yield* libc.init(64 * 1024)) < 0) return 1;
      const h = yield* openVfio(s, libc, groupPath);
      if (typeof h === 'number') return 2;
      const reg = libc.malloc(vfio_region_info.minsz);
      s.mem.write32(reg, vfio_region_info.minsz);
      s.mem.write32(reg + vfio_region_info.index, 0);
      if ((yield* s.ioctl(h.device, VFIO_DEVICE_GET_REGION_INFO, reg)) !== 0) return 3;
      const base = yield* s.mmap(0, 0x1000, PROT_READ | PROT_WRITE, MAP_SHARED, h.device, libc.read64(reg + vfio_region_info.offset));
      if (base < 0) return 4;
      s.mem.write32(base + 0x008, 0x1234);
      s.mem.write32(base + 0x000, 1);
      return 0;
    }, { stdio: true });
    sys.runUntilExited([thread]);
    expect(thread.exit?.status).toBe(0);
    const dev = '2c0a0000.dma';
    expect(sys.machine.tracer.guestErrors - before).toBe(2);
    expect(sys.machine.tracer.guestErrorsBySrc.get(dev)).toBe(2);
    const ev = sys.machine.tracer.events.filter((e) => e.kind === 'guest-error');
    expect(ev.map((e) => [e.src, e.f['what'], e.f['off'], e.f['reg']])).toEqual([
      [dev, 'unmapped-write', 0x008, null],
      [dev, 'read-only-write', 0x000, 'DSR'],
    ]);
    const r = finishResult(sys, { scenario: 'poke', profile: 'rfc-v4', board: 'vexpress-vfio', seed: 1, expected: 'pass', outcome: 'pass', output: [], exitStatus: 0 }, sys.machine.scheduler.runUntilIdle());
    expect(toJson(r)['guestErrorsByDevice']).toEqual({ [dev]: 2 });
  });

  it('a devmem write to a reserved SMMU offset is reported under the SMMU', () => {
    const sys = bootSystem({ profile: 'rfc-v4', board: 'vexpress-vfio', seed: 1 });
    sys.machine.tracer.enabled = true;
    sys.kernel.hw.writel(0xdead, 0x2b400000 + 0x004); // GR0 0x004 is reserved (IHI 0062)
    const r = finishResult(sys, { scenario: 'devmem', profile: 'rfc-v4', board: 'vexpress-vfio', seed: 1, expected: 'pass', outcome: 'pass', output: [], exitStatus: 0 }, sys.machine.scheduler.runUntilIdle());
    expect(toJson(r)['guestErrorsByDevice']).toEqual({ '2b400000.iommu': 1 });
    const ev = sys.machine.tracer.events.filter((e) => e.kind === 'guest-error');
    expect(ev.map((e) => [e.src, e.f['what'], e.f['off'], e.f['value']])).toEqual([['2b400000.iommu', 'unmapped-write', 0x004, 0xdead]]);
  });

  it('counts guest errors with tracing off too', () => {
    const sys = bootSystem({ profile: 'rfc-v4', board: 'vexpress-vfio', seed: 1 });
    sys.machine.tracer.enabled = false;
    sys.kernel.hw.readl(GICD + 0x00c);
    expect(sys.machine.tracer.guestErrors).toBe(1);
    expect(sys.machine.tracer.events.some((e) => e.kind === 'guest-error')).toBe(false);
  });
});
