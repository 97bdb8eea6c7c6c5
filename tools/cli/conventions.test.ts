/**
 * CLI conventions (issue 21): usage errors are one line plus a hint naming the command's
 * --help; a scenario file outside the repository runs with the built-in scenarios' rules;
 * --trace-mmio records register accesses by name without changing the run.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../testing/tmp.js';
import { runCli } from './main.js';
import { memoryIo } from './testing/memory-io.js';

describe('usage errors: one line and a hint', () => {
  it.each([
    [[], null],
    [['frobnicate'], null],
    [['--bogus'], null],
    [['run'], 'run'],
    [['run', 'nope'], 'run'],
    [['run', 'pl330-vfio-test', '--seed', 'abc'], 'run'],
    [['run', 'pl330-vfio-test', '--profile', 'wat'], 'run'],
    [['run', 'pl330-vfio-test', '--profile', 'patches:1-3,5'], 'run'],
    [['run', 'pl330-vfio-test', '--trace-format', 'jsonl'], 'run'],
    [['run', 'pl330-vfio-test', '--trace', '-'], 'run'],
    [['run', 'pl330-vfio-test', '--junit', '-'], 'run'],
    [['list', 'extra'], 'list'],
    [['matrix', '--bogus'], 'matrix'],
    [['trace'], 'trace'],
    [['trace', 'summarize'], 'trace'],
    [['fuzz', '--runs', '1', '--time', '1'], 'fuzz'],
    [['fuzz', '--shard', '2/2'], 'fuzz'],
    [['fuzz', '--baseline', 'x.json', '--no-baseline'], 'fuzz'],
  ] as Array<[string[], string | null]>)('%j', async (argv, cmd) => {
    const x = memoryIo();
    expect(await runCli(argv, x)).toBe(2);
    expect(x.o).toBe('');
    const lines = x.e.split('\n');
    expect(lines.pop()).toBe('');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^vfio-arm-emu: \S/);
    expect(lines[1]).toBe(cmd === null ? "try 'vfio-arm-emu --help'" : `try 'vfio-arm-emu ${cmd} --help'`);
  });
});

const SCENARIO_TS = `import { adminBind, bootSystem, defineScenario, finishResult, Libc, runThreads, splitLines, uapi, type ScenarioOptions } from 'vfio-arm-emu';

// a user's own program: open the container and report the API version
function* program(sys: import('vfio-arm-emu').Sys) {
  const libc = new Libc(sys);
  if ((yield* libc.init()) < 0) return 1;
  const fd: number = yield* sys.open(libc.cstring('/dev/vfio/vfio'), uapi.O_RDWR, 0);
  const v: number = yield* sys.ioctl(fd, uapi.VFIO_GET_API_VERSION, 0);
  yield* libc.puts('api version ' + v);
  return v === 0 ? 0 : 3;
}

export default defineScenario({
  name: 'my-api-version',
  description: 'a scenario outside the repository',
  accepts: [],
  anyProfile: true,
  run(o: ScenarioOptions) {
    const sys = bootSystem(o);
    const admin = adminBind(sys, '2c0a0000.dma');
    const { proc, thread } = sys.spawn('api', program, { stdio: true });
    const run = runThreads(sys, [thread]);
    const exitStatus = thread.exit?.status ?? null;
    const outcome = exitStatus === 0 ? 'pass' : 'fail:exit-status';
    return finishResult(sys, { scenario: 'my-api-version', profile: sys.profile.name, board: sys.machine.file, seed: o.seed, expected: EXPECTED, outcome, output: [...admin.output, ...splitLines(proc.stdout)], exitStatus }, run, true);
  },
});
`;

describe('run <scenario file>', () => {
  const dir = tempDir('user-scenario');
  const file = (name: string, expected: string): string => {
    const p = join(dir, name);
    writeFileSync(p, SCENARIO_TS.replace('EXPECTED', JSON.stringify(expected)));
    return p;
  };

  it('a .ts scenario outside the repository: summary, --json, --junit, exit by expected outcome', async () => {
    const p = file('my-scenario.ts', 'pass');
    expect(resolve(p).startsWith(resolve('.'))).toBe(false);
    const a = memoryIo();
    expect(await runCli(['run', p], a)).toBe(0);
    expect(a.o).toMatch(/^api version 0$/m);
    expect(a.o).toMatch(/^scenario: my-api-version {3}profile: rfc-v4/m);
    expect(a.o).toMatch(/^result: PASS/m);
    const j = memoryIo();
    expect(await runCli(['run', p, '--json', '--profile', 'mainline', '--junit', 'j.xml'], j)).toBe(0);
    const out = JSON.parse(j.o) as { schema: string; scenario: string; profile: string; passed: boolean };
    expect(out).toMatchObject({ schema: 'vfio-arm-emu/run/1', scenario: 'my-api-version', profile: 'mainline', passed: true });
    expect(j.files['j.xml']).toMatch(/<testcase classname="vfio-arm-emu.my-api-version"/);
    // an expected outcome the run does not reach: FAIL, exit 1
    const f = memoryIo();
    expect(await runCli(['run', file('expects-failure.ts', 'stop:no-group'), '--quiet'], f)).toBe(1);
    expect(f.o).toMatch(/^FAIL my-api-version rfc-v4 outcome=pass expected=stop:no-group/);
    // options the scenario does not take are refused as for built-in scenarios
    const s = memoryIo();
    expect(await runCli(['run', p, '--size', '4096'], s)).toBe(2);
    expect(s.e).toMatch(/scenario my-api-version does not take --size/);
  });

  it('a missing file, a syntax error and a module without a scenario are input errors (exit 2, one line)', async () => {
    const m = memoryIo();
    expect(await runCli(['run', join(dir, 'missing.ts')], m)).toBe(2);
    expect(m.e).toMatch(/scenario file not found: .*missing\.ts/);
    const bad = join(dir, 'bad.ts');
    writeFileSync(bad, 'export default {\n  name: ;\n};\n');
    const b = memoryIo();
    expect(await runCli(['run', bad], b)).toBe(2);
    expect(b.e).toMatch(/bad\.ts:2:\d+: /);
    const none = join(dir, 'none.ts');
    writeFileSync(none, 'export const x = 1;\n');
    const n = memoryIo();
    expect(await runCli(['run', none], n)).toBe(2);
    expect(n.e).toMatch(/default export \(or 'scenario'\) must be a scenario/);
  });
});

describe('run --trace of a scenario that does not keep its trace by default (as fault-storm)', () => {
  const dir = tempDir('user-scenario-trace');
  it('the file has the events; the run reports the same as without --trace', async () => {
    const p = join(dir, 'unkept.ts');
    // boots as fault-storm does: the trace kept only when the caller asks (o.trace), the exports offered then
    writeFileSync(p, SCENARIO_TS.replace('EXPECTED', JSON.stringify('pass')).replace('const sys = bootSystem(o);', 'const sys = bootSystem({ ...o, trace: { enabled: true, keep: o.trace?.keep ?? false } });').replace('exitStatus }, run, true);', 'exitStatus }, run, false);'));
    const plain = memoryIo();
    expect(await runCli(['run', p, '--json'], plain)).toBe(0);
    const traced = memoryIo();
    expect(await runCli(['run', p, '--json', '--trace', 't.json'], traced)).toBe(0);
    expect(traced.o).toBe(plain.o);
    const names = new Set((JSON.parse(traced.files['t.json']!) as { traceEvents: { name: string }[] }).traceEvents.map((e) => e.name));
    expect(names.has('seed') && names.has('printk')).toBe(true);
    const jsonl = memoryIo();
    expect(await runCli(['run', p, '--trace', 't.jsonl', '--trace-format', 'jsonl', '--quiet'], jsonl)).toBe(0);
    expect(jsonl.files['t.jsonl']!.split('\n').length).toBeGreaterThan(10);
    expect(jsonl.e).toBe('');
  });

  it('a trace cut by the cap on kept events: the file says so, and a warning on stderr', async () => {
    const p = join(dir, 'capped.ts');
    writeFileSync(p, SCENARIO_TS.replace('EXPECTED', JSON.stringify('pass')).replace("import { adminBind,", "import { System, adminBind,").replace('const sys = bootSystem(o);', 'const sys = new System({ profile: o.profile, seed: o.seed, trace: { enabled: true, keep: true, maxKept: 10 } });'));
    const x = memoryIo();
    expect(await runCli(['run', p, '--quiet', '--trace', 'c.json'], x)).toBe(0);
    const file = JSON.parse(x.files['c.json']!) as { traceEvents: { ph: string }[]; otherData: Record<string, string> };
    expect(file.otherData['truncated']).toMatch(/^kept the first 10 of \d+ events/);
    expect(file.traceEvents.filter((e) => e.ph !== 'M')).toHaveLength(10);
    expect(x.e).toMatch(/^vfio-arm-emu: warning: trace file c\.json: kept the first 10 of \d+ events \(the cap of kept events\)\n$/);
  });
});

describe('run --trace-mmio', () => {
  it('records register accesses with names from the register maps; the run and its digest are unchanged', async () => {
    const plain = memoryIo();
    expect(await runCli(['run', 'pl330-vfio-test', '--quiet'], plain)).toBe(0);
    const x = memoryIo();
    expect(await runCli(['run', 'pl330-vfio-test', '--quiet', '--trace-mmio', 'mmio.jsonl'], x)).toBe(0);
    expect(x.o).toBe(plain.o);
    const recs = x.files['mmio.jsonl']!.trim().split('\n').map((l) => JSON.parse(l) as { t: number; dev: string; reg: string | null; op: string; off: string; size: number; value: string });
    const names = new Set(recs.map((r) => `${r.dev}:${r.reg}`));
    // the SMMU driver's probe and attach, the PL330 through the user's mmap, the GIC's distributor
    expect([...names].some((n) => /iommu.*:(sCR0|CB0\.SCTLR)$/.test(n))).toBe(true);
    expect([...names].some((n) => /\.dma:DBG(CMD|INST0)$/.test(n))).toBe(true);
    expect([...names].some((n) => /:GICD_CTLR$/.test(n))).toBe(true);
    for (let i = 1; i < recs.length; i++) expect(recs[i]!.t).toBeGreaterThanOrEqual(recs[i - 1]!.t);
    expect(recs.every((r) => /^0x[0-9a-f]+$/.test(r.off) && (r.op === 'R' || r.op === 'W'))).toBe(true);
    expect(readFileSync(new URL('../../docs/CLI.md', import.meta.url), 'utf8')).toMatch(/--trace-mmio/);
  });
});
