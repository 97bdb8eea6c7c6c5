import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkTraceEvent, TRACE_EVENTS, TRACE_KINDS, traceCatalogueMarkdown, traceExtent } from './trace-events.js';

const ROOT = new URL('..', import.meta.url).pathname;
const DOC = join(ROOT, 'docs/TRACE.md');
const BEGIN = '<!-- trace-catalogue:begin';
const END = '<!-- trace-catalogue:end -->';

/** the generated part of docs/TRACE.md (between the markers) */
function docTable(text: string): { before: string; table: string; after: string } {
  const a = text.indexOf(BEGIN);
  const b = text.indexOf(END);
  if (a < 0 || b < a) throw new Error('docs/TRACE.md: catalogue markers missing');
  const start = text.indexOf('\n', a) + 1;
  return { before: text.slice(0, start), table: text.slice(start, b).trimEnd(), after: text.slice(b) };
}

function sources(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) sources(p, out);
    else if (name.endsWith('.ts') && !name.endsWith('.test.ts') && !p.includes('/testing/')) out.push(p);
  }
  return out;
}

describe('trace catalogue', () => {
  it('docs/TRACE.md holds the current table (UPDATE_TRACE_DOC=1 rewrites it)', () => {
    const text = readFileSync(DOC, 'utf8');
    const d = docTable(text);
    const table = traceCatalogueMarkdown();
    if (process.env['UPDATE_TRACE_DOC'] === '1' && d.table !== table) writeFileSync(DOC, `${d.before}${table}\n${d.after}`);
    else expect(d.table).toBe(table);
    for (const k of TRACE_KINDS) expect(table).toContain(`| \`${k}\` |`);
  });

  it('every declared kind is emitted by some model source (no stale declarations)', () => {
    const text = ['emulator', 'devices', 'kernel-model'].flatMap((d) => sources(join(ROOT, d)))
      .filter((p) => !p.endsWith('trace-events.ts'))
      .map((p) => readFileSync(p, 'utf8'))
      .join('\n');
    const missing = TRACE_KINDS.filter((k) => !new RegExp(`emit\\([^;]*'${k}'`, 's').test(text));
    expect(missing).toEqual([]);
  });

  it('checks events against their declarations', () => {
    expect(checkTraceEvent({ kind: 'gic-ack', f: { id: 40, prio: 160 } })).toEqual([]);
    expect(checkTraceEvent({ kind: 'pl330-insn', f: { thread: 0, pc: 0, op: 0, dis: 'DMAEND' } })).toEqual([]);
    expect(checkTraceEvent({ kind: 'pl330-insn', f: { thread: 0, pc: 0, op: 0 } })).toEqual([]);
    expect(checkTraceEvent({ kind: 'tick', f: {} })).toEqual(["kind 'tick' is not in the trace catalogue"]);
    expect(checkTraceEvent({ kind: 'gic-ack', f: { id: '40', extra: 1 } })).toEqual([
      'gic-ack: field id is not number', 'gic-ack: missing field prio', 'gic-ack: undeclared field extra',
    ]);
    expect(checkTraceEvent({ kind: 'smmu-walk', f: { sid: 1, va: 0, cb: 0, level: 3, ok: 1, pa: 0 } })).toEqual(['smmu-walk: missing dur']);
    expect(checkTraceEvent({ kind: 'gic-eoi', dur: 5, f: { id: 1 } })).toEqual(['gic-eoi: unexpected dur']);
    expect(checkTraceEvent({ kind: 'guest-error', f: { what: 'unmapped-read', off: 16, reg: null, value: null } })).toEqual([]);
  });

  it('declares the shapes the emitters rely on: SMMU walks from their start, PL330 transfers up to their end', () => {
    expect(TRACE_EVENTS['smmu-walk'].shape).toBe('span-start');
    expect(TRACE_EVENTS['pl330-xfer'].shape).toBe('span-end');
    expect(TRACE_EVENTS['irq-line'].shape).toBe('counter');
    expect(traceExtent({ kind: 'smmu-walk', t: 100, dur: 30 })).toEqual({ start: 100, end: 130 });
    expect(traceExtent({ kind: 'pl330-xfer', t: 100, dur: 30 })).toEqual({ start: 70, end: 100 });
    expect(traceExtent({ kind: 'gic-ack', t: 100 })).toEqual({ start: 100, end: 100 });
  });
});
