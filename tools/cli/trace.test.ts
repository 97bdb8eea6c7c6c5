import { describe, expect, it } from 'vitest';
import { checkTraceEvent } from '../../emulator/trace-events.js';
import { fromPerfettoTrace, parseJsonLines } from '../../emulator/trace.js';
import '../scenarios/index.js';
import { getScenario } from '../scenarios/registry.js';
import { runCli } from './main.js';
import { memoryIo } from './testing/memory-io.js';

const runScenario = (name: string, profile: string): ReturnType<typeof parseJsonLines> => {
  const r = getScenario(name)!.run({ profile, board: 'vexpress-vfio', seed: 1 });
  return parseJsonLines(r.traceJsonLines!());
};

describe('traces of scenario runs against the trace catalogue', () => {
  it.each([
    ['pl330-vfio-test', 'rfc-v4', ['pl330-dbg', 'smmu-walk', 'pl330-xfer', 'irq-line', 'gic-ack', 'printk']],
    ['pl330-noexec', 'rfc-v4', ['smmu-fault', 'pl330-fault']],
    ['patch09-oops', 'patches:1-9', ['irq-take', 'printk']],
  ])('%s [%s]: every event is a declared kind with its declared fields', (name, profile, expectKinds) => {
    const events = runScenario(name, profile);
    const problems = events.flatMap((e) => checkTraceEvent(e));
    expect([...new Set(problems)]).toEqual([]);
    const kinds = new Set(events.map((e) => e.kind));
    for (const k of expectKinds) expect(kinds).toContain(k);
  });

  it('Perfetto: every SMMU walk and every transfer is drawn after the DMAGO that caused it', async () => {
    const x = memoryIo();
    expect(await runCli(['run', 'pl330-vfio-test', '--quiet', '--trace', 't.json'], x)).toBe(0);
    const pf = JSON.parse(x.files['t.json']!) as { traceEvents: Array<{ name: string; ph: string; ts: number; dur?: number; args?: Record<string, unknown> }> };
    const dmago = pf.traceEvents.find((e) => e.name === 'pl330-dbg' && e.args?.['op'] === 0xa2)!;
    expect(dmago).toBeDefined();
    const walks = pf.traceEvents.filter((e) => e.name === 'smmu-walk');
    const xfers = pf.traceEvents.filter((e) => e.name === 'pl330-xfer');
    expect(walks.length).toBeGreaterThan(0);
    expect(xfers).toHaveLength(1);
    for (const w of [...walks, ...xfers]) expect(w.ts).toBeGreaterThanOrEqual(dmago.ts);
    // the PL330's event interrupt is a level held until INTCLR; the GIC output pulses: both visible as edges
    expect(pf.traceEvents.some((e) => e.ph === 'i' && e.name === 'rise' && e.ts > dmago.ts)).toBe(true);
    // the file reads back as the run's events (same kinds and order as the JSON lines)
    const y = memoryIo();
    await runCli(['run', 'pl330-vfio-test', '--quiet', '--trace', 't.jsonl', '--trace-format', 'jsonl'], y);
    expect(fromPerfettoTrace(pf)).toEqual(parseJsonLines(y.files['t.jsonl']!));
  });

  it('trace summarize reports by the catalogue: shapes, span durations, guest errors', async () => {
    const x = memoryIo();
    await runCli(['run', 'pl330-noexec', '--quiet', '--trace', 't.json'], x);
    const s = memoryIo();
    s.files['t.json'] = x.files['t.json']!;
    expect(await runCli(['trace', 'summarize', 't.json'], s)).toBe(0);
    expect(s.o).toMatch(/smmu-walk +\d+ +span-start {3}total \d/);
    expect(s.o).toMatch(/gic-ack +\d+ +instant/);
    expect(s.o).toMatch(/guest errors: 0/);
    expect(s.o).toMatch(/faults, storms and guest errors:\n {2}\[[^\]]+\] 2b400000\.iommu smmu-fault/);
    const u = memoryIo();
    u.files['old.jsonl'] = '{"t":1,"src":"a","kind":"tick","f":{}}\n';
    await runCli(['trace', 'summarize', 'old.jsonl'], u);
    expect(u.o).toMatch(/kinds not in the trace catalogue \(docs\/TRACE\.md\): tick/);
  });
});
