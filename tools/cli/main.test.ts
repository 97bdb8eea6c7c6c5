import { tempDir } from '../testing/tmp.js';
import { describe, expect, it } from 'vitest';
import { ACCEL_DEFAULT } from '../../emulator/accel.js';
import { runCli } from './main.js';
import { memoryIo } from './testing/memory-io.js';

const io = memoryIo;

const run = async (argv: string[], x = io()): Promise<{ code: number; x: ReturnType<typeof io> }> => ({ code: await runCli(argv, x), x });

describe('CLI basics', () => {
  it('prints help and version', async () => {
    const a = await run(['--help']);
    expect(a.code).toBe(0);
    expect(a.x.o).toMatch(/usage:/);
    expect(a.x.o).toMatch(/matrix/);
    const b = await run(['--version']);
    expect(b.x.o).toMatch(/^vfio-arm-emu \d+\.\d+\.\d+/);
  });

  it.each([
    [[]],
    [['frobnicate']],
    [['run']],
    [['run', 'nope']],
    [['run', 'pl330-vfio-test', '--seed', 'abc']],
    [['run', 'pl330-vfio-test', '--seed', '4294967297']], // would alias seed 1 in the 32-bit PRNG
    [['matrix', '--seed', '0x100000000']],
    [['run', 'pl330-vfio-test', '--trace-format', 'svg']],
    [['run', 'pl330-vfio-test', '--profile', 'patches:4']],
    [['run', 'pl330-vfio-test', '--profile', 'wat']],
    [['run', 'pl330-vfio-test', '--size', '100']],
    [['run', 'pl330-vfio-test', '--channel', '9']],
    [['run', 'pl330-vfio-test', '--trace-format', 'jsonl']],
    [['run', 'pl330-vfio-test', '--no-accel=1']],
    [['run', 'pl330-vfio-test', '--accel']],
    [['matrix', 'extra']],
    [['run', 'pl330-vfio-test', '--bootargs', 'vfio_iommu_type1.allow_unsafe_interrupts="1']], // unbalanced quote
    [['matrix', '--bootargs', '"']],
    [['run', 'pl330-vfio-test', '--bootargs']],
    [['trace']],
    [['trace', 'summarize']],
  ])('answers bad arguments %j with usage and exit 2', async (argv) => {
    const a = await run(argv);
    expect(a.code).toBe(2);
    expect(a.x.e).toMatch(/vfio-arm-emu: /);
  });

  it('names the missing patch when a subset is impossible', async () => {
    const a = await run(['run', 'pl330-vfio-test', '--profile', 'patches:1-3,5']);
    expect(a.code).toBe(2);
    expect(a.x.e).toMatch(/patch 05 .* needs patch 04/);
  });

  it('reports a malformed board file with file:line:col and exit 2', async () => {
    const { writeFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const d = tempDir('board');
    const f = join(d, 'bad.dts');
    writeFileSync(f, '/dts-v1/;\n/ {\n  node@1 {\n    reg = <0x1 zz>;\n  };\n};\n');
    const a = await run(['run', 'pl330-vfio-test', '--board', f]);
    expect(a.code).toBe(2);
    expect(a.x.e).toMatch(/bad\.dts:4:\d+: /);
  });
});

describe('vfio-arm-emu run', () => {
  it('runs the main job: the program lines, done!, the message, no failure line, exit 0', async () => {
    const a = await run(['run', 'pl330-vfio-test', '--profile', 'rfc-v4']);
    expect(a.code).toBe(0);
    const lines = a.x.o.split('\n');
    expect(lines).toContain('done!');
    expect(lines).toContain('the message is: transfer completed');
    expect(lines.some((l) => l.startsWith('test failed!'))).toBe(false);
    expect(a.x.o).toMatch(/result: PASS/);
    expect(a.x.o).toMatch(/trace sha256: [0-9a-f]{64}/);
  });

  it('--json prints one object with the documented fields', async () => {
    const a = await run(['run', 'pl330-vfio-test', '--json', '--seed', '5']);
    expect(a.code).toBe(0);
    const j = JSON.parse(a.x.o) as Record<string, unknown>;
    for (const k of ['scenario', 'profile', 'board', 'seed', 'passed', 'expected', 'virtualTimeNs', 'traceSha256', 'dmaBytes', 'interrupts', 'faults', 'kernelLog', 'output']) expect(j).toHaveProperty(k);
    expect(j['seed']).toBe(5);
    expect(j['passed']).toBe(true);
    expect(j['interrupts']).toBe(1);
    expect(j['dmaBytes']).toBe(4096);
    expect(Array.isArray(j['kernelLog'])).toBe(true);
    expect((j['kernelLog'] as string[]).some((l) => /Loaded driver for PL330/.test(l))).toBe(true);
  });

  it('--json has exactly the fields docs/SCENARIOS.md documents', async () => {
    const { readFileSync } = await import('node:fs');
    const doc = readFileSync(new URL('../../docs/SCENARIOS.md', import.meta.url), 'utf8').replace(/\n/g, ' ');
    const m = /`--json` prints one object with\s+`([^`]+)`/.exec(doc);
    expect(m, 'field list in docs/SCENARIOS.md').not.toBeNull();
    const documented = m![1]!.split(',').map((f) => f.trim().replace(/\[\]$/, '')).sort();
    const a = await run(['run', 'pl330-vfio-test', '--json']);
    expect(Object.keys(JSON.parse(a.x.o) as object).sort()).toEqual(documented);
  });

  it('--trace writes a Perfetto trace-event file (one track per source, IRQ lines as counters) that trace summarize reads', async () => {
    const x = io();
    const a = await run(['run', 'pl330-vfio-test', '--trace', 'out.json', '--junit', 'junit.xml', '--quiet'], x);
    expect(a.code).toBe(0);
    const t = JSON.parse(x.files['out.json']!) as { traceEvents: Array<{ ph: string; name: string; args?: { name?: string } }> };
    const tracks = t.traceEvents.filter((e) => e.ph === 'M' && e.name === 'thread_name').map((e) => e.args!.name);
    expect(tracks).toContain('2c0a0000.dma');
    expect(t.traceEvents.some((e) => e.ph === 'C' && e.name.startsWith('irq 2c0a0000.dma'))).toBe(true);
    expect(x.files['junit.xml']).toMatch(/<testcase classname="vfio-arm-emu.pl330-vfio-test" name="pl330-vfio-test \[rfc-v4\]"/);
    expect(a.x.o.trim().split('\n')).toHaveLength(1);
    const s = await run(['trace', 'summarize', 'out.json'], x);
    expect(s.code).toBe(0);
    expect(s.x.o).toMatch(/DMA transfers: 1 {3}bytes stored: 4096/);
    const y = io();
    await run(['run', 'pl330-vfio-test', '--trace', 't.jsonl', '--trace-format', 'jsonl'], y);
    const s2 = await run(['trace', 'summarize', 't.jsonl'], y);
    expect(s2.x.o).toMatch(/\(jsonl\)/);
    const bad = await run(['trace', 'summarize', 'missing.json'], y);
    expect(bad.code).toBe(2);
  });

  it('--no-accel builds the machine without accelerators, with the same results', async () => {
    const on = await run(['run', 'pl330-vfio-test', '--json', '--size', '64K']);
    const off = await run(['run', 'pl330-vfio-test', '--json', '--size', '64K', '--no-accel']);
    expect(off.code).toBe(0);
    const a = JSON.parse(on.x.o) as Record<string, unknown>;
    const b = JSON.parse(off.x.o) as Record<string, unknown>;
    expect(b['accel']).toBe(false);
    expect(a['accel']).toBe(ACCEL_DEFAULT);
    for (const k of ['virtualTimeNs', 'traceSha256', 'dmaBytes', 'interrupts', 'output', 'guestErrors']) expect(b[k]).toEqual(a[k]);
    const q = await run(['run', 'pl330-vfio-test', '--no-accel']);
    expect(q.x.o).toMatch(/guest errors: 0 {3}accelerators: off/);
    const m = await run(['matrix', '--json', '--no-accel']);
    expect(m.code).toBe(0);
    expect((JSON.parse(m.x.o) as { matchesExpected: boolean }).matchesExpected).toBe(true);
  });

  it('exits 1 when the outcome is not the expected one (mainline: a shared group leaves the group not viable)', async () => {
    const a = await run(['run', 'pl330-vfio-test', '--board', 'vexpress-vfio-shared-group', '--profile', 'mainline']);
    expect(a.code).toBe(1);
    expect(a.x.o).toMatch(/Group is not viable/);
    expect(a.x.o).toMatch(/result: FAIL/);
  });

  it('prints the panic at patch level 09 and exits 0 (the expected outcome there)', async () => {
    const a = await run(['run', 'pl330-vfio-test', '--profile', 'patches:1-9']);
    expect(a.code).toBe(0);
    expect(a.x.o).toMatch(/Kernel panic - not syncing: Fatal exception in interrupt/);
  });
});

describe('vfio-arm-emu matrix', () => {
  it('prints the matrix, every row matching the expected one, and JSON', async () => {
    const a = await run(['matrix', '--json']);
    expect(a.code).toBe(0);
    const j = JSON.parse(a.x.o) as { rows: Array<{ profile: string; outcome: string; matches: boolean }>; matchesExpected: boolean };
    expect(j.matchesExpected).toBe(true);
    const row = (p: string): string => j.rows.find((r) => r.profile === p)!.outcome;
    expect(row('baseline')).toBe('stop:check-extension');
    expect(row('patches:1-3')).toBe('stop:no-group');
    expect(row('patches:1-4')).toBe('stop:region-info');
    expect(row('patches:1-6')).toBe('stop:mmap');
    expect(row('patches:1-7')).toBe('stop:irq-info');
    expect(row('patches:1-8')).toBe('stop:set-irqs');
    expect(row('patches:1-9')).toBe('panic:oops-in-interrupt');
    expect(row('rfc-v4')).toBe('pass');
    expect(row('patches:1,3-10')).toBe('stop:map-dma');
    expect(row('mainline')).toBe('pass');
    const t = await run(['matrix']);
    expect(t.x.o).toMatch(/every row matches the expected matrix/);
  });
});

describe('--bootargs: the kernel command line replaces /chosen/bootargs', () => {
  it('mainline with an empty command line: SET_IOMMU is refused (isolated MSI), the outcome is the expected one for that kernel', async () => {
    const a = await run(['run', 'pl330-vfio-test', '--profile', 'mainline', '--bootargs', '', '--json']);
    const j = JSON.parse(a.x.o) as { outcome: string; expected: string };
    expect([a.code, j.outcome, j.expected]).toEqual([0, 'stop:set-iommu', 'stop:set-iommu']);
  });

  it('mainline without allow_unsafe_interrupts: SET_IOMMU -EPERM is reported with the kernel\'s reason', async () => {
    const a = await run(['run', 'pl330-vfio-test', '--profile', 'mainline', '--bootargs=vfio_platform.reset_required=0']);
    expect(a.code).toBe(0);
    expect(a.x.o).toMatch(/\[VFIO_SET_IOMMU: -EPERM\]/);
    expect(a.x.o).toMatch(/vfio_iommu_type1_attach_group: No interrupt remapping support/);
  });
});
