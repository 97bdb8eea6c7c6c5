/** Human, JSON and JUnit renderings of scenario results, and trace summaries. */
import { formatNs } from '../../emulator/time.js';
import { fromPerfettoTrace, parseJsonLines, type TraceEvent } from '../../emulator/trace.js';
import { traceEventDecl, traceExtent } from '../../emulator/trace-events.js';
import type { ScenarioResult } from '../scenarios/registry.js';
import { OUTCOME_TEXT, type Outcome } from '../scenarios/expected.js';

/**
 * The `schema` field of every `--json` output: "vfio-arm-emu/<output>/<major>". The major
 * number changes when a field is removed or changes meaning; added fields keep it. The JSON
 * Schemas are docs/schemas/<output>.schema.json (checked against real outputs by
 * tools/cli/schema.test.ts).
 */
export const RUN_JSON_SCHEMA = 'vfio-arm-emu/run/1';
export const RUN_UNICORN_JSON_SCHEMA = 'vfio-arm-emu/run-unicorn/1';
export const MATRIX_JSON_SCHEMA = 'vfio-arm-emu/matrix/1';
/** every output's schema id -> its JSON Schema file (docs/schemas/) */
export const JSON_SCHEMAS: Readonly<Record<string, string>> = {
  [RUN_JSON_SCHEMA]: 'docs/schemas/run.schema.json',
  [RUN_UNICORN_JSON_SCHEMA]: 'docs/schemas/run-unicorn.schema.json',
  [MATRIX_JSON_SCHEMA]: 'docs/schemas/matrix.schema.json',
  'vfio-arm-emu/fuzz/1': 'docs/schemas/fuzz.schema.json',
  'vfio-arm-emu/fuzz-replay/1': 'docs/schemas/fuzz-replay.schema.json',
  'vfio-arm-emu/fuzz-baseline/1': 'docs/schemas/fuzz-baseline.schema.json',
};

export function outcomeText(o: string): string {
  return OUTCOME_TEXT[o as Outcome] ?? o;
}

/** faults listed in the human summary, and in `--json` (`faultCount` has the total) */
export const SUMMARY_FAULTS = 50;
export const JSON_FAULTS = 1000;

/** the first `n` faults, a null marking the ones left out, and the last (a hang report or the fatal one) */
function capFaults<T>(faults: readonly T[], n: number): (T | null)[] {
  if (faults.length <= n + 1) return [...faults];
  return [...faults.slice(0, n), null, faults[faults.length - 1]!];
}

export function summaryLines(r: ScenarioResult): string[] {
  return [
    `scenario: ${r.scenario}   profile: ${r.profile}   board: ${r.board}   seed: ${r.seed}`,
    `result: ${r.passed ? 'PASS' : 'FAIL'}: ${outcomeText(r.outcome)}${r.passed ? '' : ` (expected: ${outcomeText(r.expected)})`}`,
    `virtual time: ${formatNs(r.virtualTimeNs)}   DMA bytes: ${r.dmaBytes}   interrupts: ${r.interrupts} (host IRQ takes: ${r.irqTakes})   faults: ${r.faults.length}`,
    ...capFaults(r.faults, SUMMARY_FAULTS).map((f) => (f === null ? `  ... ${r.faults.length - SUMMARY_FAULTS - 1} more faults (--json has the first ${JSON_FAULTS} and the last)` : `  fault: [${formatNs(f.t)}] ${f.source} ${f.kind}: ${f.detail}`)),
    `guest errors: ${guestErrorText(r)}   accelerators: ${r.accel ? 'on' : 'off'}`,
    `trace sha256: ${r.traceSha256}`,
  ];
}

/** "0", or "2 (2c0a0000.dma: 1, 2b400000.iommu: 1)" */
export function guestErrorText(r: Pick<ScenarioResult, 'guestErrors' | 'guestErrorsByDevice'>): string {
  const by = Object.entries(r.guestErrorsByDevice);
  return by.length ? `${r.guestErrors} (${by.map(([d, n]) => `${d}: ${n}`).join(', ')})` : String(r.guestErrors);
}

export function oneLine(r: ScenarioResult): string {
  return `${r.passed ? 'PASS' : 'FAIL'} ${r.scenario} ${r.profile} outcome=${r.outcome} expected=${r.expected} vt=${r.virtualTimeNs}ns irq=${r.interrupts} dma=${r.dmaBytes} faults=${r.faults.length} guest-errors=${r.guestErrors} sha256=${r.traceSha256}`;
}

export function toJson(r: ScenarioResult): Record<string, unknown> {
  return {
    schema: RUN_JSON_SCHEMA,
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
    faultCount: r.faults.length,
    faults: r.faults.length > JSON_FAULTS + 1 ? [...r.faults.slice(0, JSON_FAULTS), r.faults[r.faults.length - 1]!] : r.faults,
    guestErrors: r.guestErrors,
    guestErrorsByDevice: r.guestErrorsByDevice,
    accel: r.accel,
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
    let o: unknown;
    try {
      o = JSON.parse(t);
    } catch (e) {
      throw new Error(`not a trace file: ${(e as Error).message}`);
    }
    return { format: 'perfetto', events: fromPerfettoTrace(o) };
  }
  return { format: 'jsonl', events: parseJsonLines(text) };
}

/**
 * A trace's summary, organised by the trace catalogue (emulator/trace-events.ts): events per
 * source and per kind (span kinds with their total and longest duration), IRQ line rising
 * edges (the counter kind), DMA transfers, guest errors per device, every occurrence of a
 * `notable` kind (faults, storms, guest errors; the first 20), and the kinds the catalogue
 * does not know (a trace from another version).
 */
export function summarizeTrace(events: readonly TraceEvent[]): string[] {
  if (events.length === 0) return ['empty trace'];
  let first = Infinity;
  let last = -Infinity;
  const byKind = new Map<string, { n: number; dur: number; max: number }>();
  const bySrc = new Map<string, number>();
  const irqRises = new Map<string, number>();
  const guestErrors = new Map<string, number>();
  const unknown = new Set<string>();
  let dma = 0;
  let xfers = 0;
  const notable: string[] = [];
  let notableCount = 0;
  for (const e of events) {
    const x = traceExtent(e);
    first = Math.min(first, x.start);
    last = Math.max(last, x.end);
    const k = byKind.get(e.kind) ?? { n: 0, dur: 0, max: 0 };
    k.n++;
    if (e.dur !== undefined) {
      k.dur += e.dur;
      k.max = Math.max(k.max, e.dur);
    }
    byKind.set(e.kind, k);
    bySrc.set(e.src, (bySrc.get(e.src) ?? 0) + 1);
    const d = traceEventDecl(e.kind);
    if (d === undefined) unknown.add(e.kind);
    else if (d.counter !== undefined && e.f[d.counter.value] === 1) {
      const line = String(e.f[d.counter.track]);
      irqRises.set(line, (irqRises.get(line) ?? 0) + 1);
    }
    if (e.kind === 'pl330-xfer') {
      xfers++;
      dma += Number(e.f['stored'] ?? 0);
    }
    if (e.kind === 'guest-error') guestErrors.set(e.src, (guestErrors.get(e.src) ?? 0) + 1);
    if (d?.notable) {
      notableCount++;
      if (notable.length < 20) notable.push(`  [${formatNs(e.t)}] ${e.src} ${e.kind} ${JSON.stringify(e.f)}`);
    }
  }
  const sorted = (m: Map<string, number>): string[] => [...m.entries()].sort((a, b) => b[1] - a[1] || cmp(a[0], b[0])).map(([k, v]) => `  ${k.padEnd(28)} ${v}`);
  const kinds = [...byKind.entries()].sort((a, b) => b[1].n - a[1].n || cmp(a[0], b[0])).map(([kind, k]) => {
    const shape = traceEventDecl(kind)?.shape ?? 'not in the catalogue';
    const spans = k.dur > 0 || shape.startsWith('span') ? `   total ${formatNs(k.dur)}, longest ${formatNs(k.max)}` : '';
    return `  ${kind.padEnd(28)} ${String(k.n).padEnd(8)} ${shape}${spans}`;
  });
  const guestTotal = [...guestErrors.values()].reduce((a, b) => a + b, 0);
  return [
    `events: ${events.length}   span: ${formatNs(first)} .. ${formatNs(last)}`,
    `DMA transfers: ${xfers}   bytes stored: ${dma}`,
    `guest errors: ${guestTotal}${guestTotal ? ` (${[...guestErrors.entries()].map(([s, n]) => `${s}: ${n}`).join(', ')})` : ''}`,
    'IRQ line rising edges:',
    ...(irqRises.size ? sorted(irqRises) : ['  none']),
    'events by source:',
    ...sorted(bySrc),
    'events by kind:',
    ...kinds,
    ...(notable.length ? [`faults, storms and guest errors${notableCount > notable.length ? ` (first ${notable.length} of ${notableCount})` : ''}:`, ...notable] : []),
    ...(unknown.size ? [`kinds not in the trace catalogue (docs/TRACE.md): ${[...unknown].sort(cmp).join(', ')}`] : []),
  ];
}

/** code-point order: the same on every host locale */
function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
