/** Human, JSON and JUnit renderings of scenario results, and trace summaries. */
import { formatNs } from '../../emulator/time.js';
import { parseJsonLines, type TraceEvent } from '../../emulator/trace.js';
import type { ScenarioResult } from '../scenarios/registry.js';
import { OUTCOME_TEXT, type Outcome } from '../scenarios/expected.js';

export function outcomeText(o: string): string {
  return OUTCOME_TEXT[o as Outcome] ?? o;
}

export function summaryLines(r: ScenarioResult): string[] {
  return [
    `scenario: ${r.scenario}   profile: ${r.profile}   board: ${r.board}   seed: ${r.seed}`,
    `result: ${r.passed ? 'PASS' : 'FAIL'}: ${outcomeText(r.outcome)}${r.passed ? '' : ` (expected: ${outcomeText(r.expected)})`}`,
    `virtual time: ${formatNs(r.virtualTimeNs)}   DMA bytes: ${r.dmaBytes}   interrupts: ${r.interrupts} (host IRQ takes: ${r.irqTakes})   faults: ${r.faults.length}`,
    ...r.faults.map((f) => `  fault: [${formatNs(f.t)}] ${f.source} ${f.kind}: ${f.detail}`),
    `trace sha256: ${r.traceSha256}`,
  ];
}

export function oneLine(r: ScenarioResult): string {
  return `${r.passed ? 'PASS' : 'FAIL'} ${r.scenario} ${r.profile} outcome=${r.outcome} expected=${r.expected} vt=${r.virtualTimeNs}ns irq=${r.interrupts} dma=${r.dmaBytes} faults=${r.faults.length} sha256=${r.traceSha256}`;
}

export function toJson(r: ScenarioResult): Record<string, unknown> {
  return {
    scenario: r.scenario,
    profile: r.profile,
    board: r.board,
    seed: r.seed,
    passed: r.passed,
    expected: r.expected,
    outcome: r.outcome,
    outcomeText: outcomeText(r.outcome),
    virtualTimeNs: r.virtualTimeNs,
    traceSha256: r.traceSha256,
    dmaBytes: r.dmaBytes,
    interrupts: r.interrupts,
    irqTakes: r.irqTakes,
    faults: r.faults,
    exitStatus: r.exitStatus,
    kernelLog: r.kernelLog,
    output: r.output,
  };
}

const xmlEsc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** JUnit XML: one test suite, one test case per result; virtual time as the case time */
export function toJunit(results: readonly ScenarioResult[], suite = 'vfio-arm-emu'): string {
  const fails = results.filter((r) => !r.passed).length;
  const total = results.reduce((a, r) => a + r.virtualTimeNs, 0) / 1e9;
  const cases = results.map((r) => {
    const body = r.passed
      ? ''
      : `\n      <failure message="${xmlEsc(`outcome ${r.outcome}, expected ${r.expected}`)}">${xmlEsc(summaryLines(r).join('\n'))}</failure>`;
    return `    <testcase classname="${xmlEsc(`${suite}.${r.scenario}`)}" name="${xmlEsc(`${r.scenario} [${r.profile}]`)}" time="${(r.virtualTimeNs / 1e9).toFixed(9)}">${body}
      <system-out>${xmlEsc([...r.output, '', ...summaryLines(r)].join('\n'))}</system-out>
    </testcase>`;
  });
  return `<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="${xmlEsc(suite)}" tests="${results.length}" failures="${fails}">
  <testsuite name="${xmlEsc(suite)}" tests="${results.length}" failures="${fails}" errors="0" skipped="0" time="${total.toFixed(9)}">
${cases.join('\n')}
  </testsuite>
</testsuites>
`;
}

/** Read a trace file written by --trace (JSON lines or Chrome/Perfetto JSON). */
export function readTraceFile(text: string): { format: 'jsonl' | 'perfetto'; events: TraceEvent[] } {
  const t = text.trimStart();
  if (t.startsWith('{') && t.includes('"traceEvents"')) {
    let o: { traceEvents?: Array<{ name: string; ph: string; ts: number; dur?: number; tid: number; args?: Record<string, unknown> }> };
    try {
      o = JSON.parse(t) as typeof o;
    } catch (e) {
      throw new Error(`not a trace file: ${(e as Error).message}`);
    }
    const list: unknown = o?.traceEvents;
    if (!Array.isArray(list)) throw new Error('not a trace file: "traceEvents" is not an array');
    list.forEach((e: unknown, i) => {
      const x = e as { ph?: unknown; ts?: unknown; name?: unknown } | null;
      if (typeof x !== 'object' || x === null || typeof x.ph !== 'string' || typeof x.name !== 'string' || (x.ph !== 'M' && typeof x.ts !== 'number')) {
        throw new Error(`not a trace file: traceEvents[${i}] is not a trace event (needs ph, name, ts)`);
      }
    });
    const names = new Map<number, string>();
    for (const e of o.traceEvents ?? []) if (e.ph === 'M' && e.name === 'thread_name') names.set(e.tid, String(e.args?.['name']));
    const events: TraceEvent[] = [];
    for (const e of o.traceEvents ?? []) {
      if (e.ph === 'M') continue;
      const tns = Math.round(e.ts * 1000);
      if (e.ph === 'C') {
        events.push({ t: tns, src: 'irq', kind: 'irq-line', f: { line: e.name.replace(/^irq /, ''), level: Number(e.args?.['level'] ?? 0) } });
      } else if (e.ph === 'X') {
        const dur = Math.round((e.dur ?? 0) * 1000);
        events.push({ t: tns + dur, src: names.get(e.tid) ?? String(e.tid), kind: e.name, dur, f: (e.args ?? {}) as TraceEvent['f'] });
      } else {
        events.push({ t: tns, src: names.get(e.tid) ?? String(e.tid), kind: e.name, f: (e.args ?? {}) as TraceEvent['f'] });
      }
    }
    return { format: 'perfetto', events };
  }
  return { format: 'jsonl', events: parseJsonLines(text) };
}

export function summarizeTrace(events: readonly TraceEvent[]): string[] {
  if (events.length === 0) return ['empty trace'];
  const first = events[0]!.t;
  const last = events.reduce((m, e) => Math.max(m, e.t), first);
  const byKind = new Map<string, number>();
  const bySrc = new Map<string, number>();
  const irqRises = new Map<string, number>();
  let dma = 0;
  let xfers = 0;
  const notable: string[] = [];
  for (const e of events) {
    byKind.set(e.kind, (byKind.get(e.kind) ?? 0) + 1);
    bySrc.set(e.src, (bySrc.get(e.src) ?? 0) + 1);
    if (e.kind === 'irq-line' && e.f['level'] === 1) irqRises.set(String(e.f['line']), (irqRises.get(String(e.f['line'])) ?? 0) + 1);
    if (e.kind === 'pl330-xfer') {
      xfers++;
      dma += Number(e.f['stored'] ?? 0);
    }
    if (/fault|storm|oops/i.test(e.kind) && notable.length < 20) notable.push(`  [${formatNs(e.t)}] ${e.src} ${e.kind} ${JSON.stringify(e.f)}`);
  }
  const sorted = (m: Map<string, number>): string[] => [...m.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([k, v]) => `  ${k.padEnd(28)} ${v}`);
  return [
    `events: ${events.length}   span: ${formatNs(first)} .. ${formatNs(last)}`,
    `DMA transfers: ${xfers}   bytes stored: ${dma}`,
    'IRQ line rising edges:',
    ...(irqRises.size ? sorted(irqRises) : ['  none']),
    'events by source:',
    ...sorted(bySrc),
    'events by kind:',
    ...sorted(byKind),
    ...(notable.length ? ['faults and storms:', ...notable] : []),
  ];
}
