import { createHash, type Hash } from 'node:crypto';
import type { GuestErrorKind, GuestErrorSink } from './regmap.js';
import { traceEventDecl, traceExtent, type TraceFieldsOf, type TraceKind } from './trace-events.js';

/**
 * Structured tracing. Each event is (time ns, source, kind, fields). When the tracer is
 * disabled, emitters check `tracer.enabled` first, so a disabled tracer costs one
 * property read per potential event.
 *
 * A run's trace digest is the SHA-256 of the canonical JSON-lines serialisation of
 * every event in order; it is computed incrementally, so the digest is available even
 * when events are not kept in memory.
 *
 * Every kind is declared once in the trace catalogue (emulator/trace-events.ts, docs/TRACE.md):
 * `emit` only accepts declared kinds with their declared fields (a compile-time check: the
 * disabled path is unchanged), and the exporters read the catalogue to draw each kind.
 */
export type TraceFieldValue = number | string | boolean | null;
export type TraceFields = Record<string, TraceFieldValue>;

export interface TraceEvent {
  t: number;
  src: string;
  kind: string;
  /** optional duration (ns) for span events */
  dur?: number;
  f: TraceFields;
}

/** a run result's trace exports, when its events were kept (Tracer.exports) */
export interface TraceExports {
  traceJsonLines: () => string;
  tracePerfetto: () => string;
  /** a file's pieces (never one string), and null or what the cap on kept events dropped */
  traceFile: (format: 'perfetto' | 'jsonl') => { chunks: Iterable<string>; truncated: string | null };
}

export interface TracerOptions {
  /** record events (digest only when false) */
  keep?: boolean;
  /** cap on kept events (digest continues past it) */
  maxKept?: number;
}

/** pending serialised events (UTF-16 code units) that trigger a hash update */
const PENDING_FLUSH = 64 * 1024;

export class Tracer implements GuestErrorSink {
  enabled: boolean;
  /**
   * Guest errors (emulator/regmap.ts): accesses the hardware would not decode or that break
   * a register's access type. Counted whether or not tracing is on (the run summary reports
   * them, as QEMU's LOG_GUEST_ERROR would log them); traced as `guest-error` when it is.
   */
  guestErrors = 0;
  /** guest errors per source device, in order of first occurrence */
  readonly guestErrorsBySrc = new Map<string, number>();
  readonly events: TraceEvent[] = [];
  count = 0;
  /** created by the first flush (issue 19: a machine traced off never needs one) */
  private hash: Hash | null = null;
  /**
   * Serialised events not yet fed to the hash: one update per ~64 KiB instead of one per
   * event (issue 19: each update is a call into native code with a string encode). The
   * digest is the same: SHA-256 of the concatenation, however it is cut.
   */
  private pending = '';
  private keep: boolean;
  private maxKept: number;
  /** kinds filtered out (e.g. instruction-level events unless asked for) */
  private muted = new Set<string>();
  /** observers of single kinds (`tap`); null until the first */
  private taps: Map<string, ((ev: TraceEvent) => void)[]> | null = null;

  constructor(
    private readonly now: () => number,
    enabled = false,
    opts: TracerOptions = {},
  ) {
    this.enabled = enabled;
    this.keep = opts.keep ?? true;
    this.maxKept = opts.maxKept ?? 5_000_000;
  }

  /** whether events are kept (TracerOptions.keep): the exports (toJsonLines, toPerfetto) have them */
  get keeping(): boolean {
    return this.keep;
  }

  mute(kind: TraceKind): void {
    this.muted.add(kind);
  }

  unmute(kind: TraceKind): void {
    this.muted.delete(kind);
  }

  isMuted(kind: TraceKind): boolean {
    return this.muted.has(kind);
  }

  /**
   * Observe every event of one kind as it is emitted (while tracing is enabled and the kind
   * is not muted), whether or not events are kept: what a run's summary takes from the trace
   * (tools/system/system.ts `tally`) is then the same with and without a kept trace.
   */
  tap<K extends TraceKind>(kind: K, fn: (ev: TraceEvent) => void): void {
    const taps = (this.taps ??= new Map());
    const fs = taps.get(kind);
    if (fs === undefined) taps.set(kind, [fn]);
    else fs.push(fn);
  }

  /**
   * Record an event of a catalogued kind. `dur` (ns) is given exactly for the span kinds;
   * whether `t` is the span's start or end is the kind's declared shape.
   */
  emit<K extends TraceKind>(src: string, kind: K, f: TraceFieldsOf<K>, dur?: number): void {
    if (!this.enabled || this.muted.has(kind)) return;
    const fields = f as TraceFields;
    const ev: TraceEvent = dur === undefined ? { t: this.now(), src, kind, f: fields } : { t: this.now(), src, kind, dur, f: fields };
    // `ev` has serialize()'s key order (t, src, kind, dur, f): its JSON is serialize(ev)
    this.pending += JSON.stringify(ev) + '\n';
    if (this.pending.length >= PENDING_FLUSH) this.flush();
    this.count++;
    if (this.keep && this.events.length < this.maxKept) this.events.push(ev);
    if (this.taps !== null) {
      const fs = this.taps.get(kind);
      if (fs !== undefined) for (let i = 0; i < fs.length; i++) fs[i]!(ev);
    }
  }

  guestError(src: string, what: GuestErrorKind, offset: number, reg: string | null, value: number | null): void {
    this.guestErrors++;
    this.guestErrorsBySrc.set(src, (this.guestErrorsBySrc.get(src) ?? 0) + 1);
    if (this.enabled) this.emit(src, 'guest-error', { what, off: offset, reg, value });
  }

  /** SHA-256 (hex) of everything emitted so far. */
  digest(): string {
    this.flush();
    return (this.hash === null ? createHash('sha256') : this.hash.copy()).digest('hex');
  }

  private flush(): void {
    if (this.pending.length === 0) return;
    (this.hash ??= createHash('sha256')).update(this.pending);
    this.pending = '';
  }

  /** the kept events as JSON lines (the chunks joined) */
  toJsonLines(): string {
    return [...this.chunks('jsonl')].join('');
  }

  /** the kept events as Chrome/Perfetto trace-event JSON (the chunks joined) */
  toPerfetto(meta: Record<string, string> = {}): string {
    return [...this.chunks('perfetto', meta)].join('');
  }

  /**
   * The kept events as a file's pieces (perfettoChunks / jsonLinesChunks). When the cap on
   * kept events (TracerOptions.maxKept) dropped some, a Perfetto file says so in its
   * otherData (`truncated`).
   */
  chunks(format: 'perfetto' | 'jsonl', meta: Record<string, string> = {}): Iterable<string> {
    if (format === 'jsonl') return jsonLinesChunks(this.events);
    const t = this.truncated();
    return perfettoChunks(this.events, t === null ? meta : { ...meta, truncated: t });
  }

  /**
   * A run result's trace exports (tools/scenarios/registry.ts ScenarioResult, tools/unicorn
   * run.ts): the whole strings, and a file's pieces with what the cap dropped (CLI --trace)
   */
  exports(meta: Record<string, string>): TraceExports {
    return {
      traceJsonLines: () => this.toJsonLines(),
      tracePerfetto: () => this.toPerfetto(meta),
      traceFile: (format) => ({ chunks: this.chunks(format, meta), truncated: this.truncated() }),
    };
  }

  /** null, or what the cap on kept events dropped: "kept the first N of M events" */
  truncated(): string | null {
    return this.keep && this.count > this.events.length ? `kept the first ${this.events.length} of ${this.count} events (the cap of kept events)` : null;
  }
}

export function serialize(e: TraceEvent): string {
  return JSON.stringify(e.dur === undefined ? { t: e.t, src: e.src, kind: e.kind, f: e.f } : { t: e.t, src: e.src, kind: e.kind, dur: e.dur, f: e.f });
}

export function parseJsonLines(text: string): TraceEvent[] {
  const out: TraceEvent[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!.trim();
    if (!l) continue;
    let o: unknown;
    try {
      o = JSON.parse(l);
    } catch (e) {
      throw new Error(`line ${i + 1}: not JSON: ${(e as Error).message}`);
    }
    const ev = (o ?? {}) as TraceEvent; // a `null` line is not an event either
    if (typeof ev.t !== 'number' || typeof ev.src !== 'string' || typeof ev.kind !== 'string') {
      throw new Error(`line ${i + 1}: not a trace event (needs t, src, kind)`);
    }
    out.push({ ...ev, f: ev.f ?? {} });
  }
  return out;
}

export interface ChromeEvent {
  name: string;
  ph: string;
  ts: number;
  pid: number;
  tid: number;
  cat?: string;
  dur?: number;
  s?: string;
  args?: Record<string, unknown>;
}

/** category of the instant markers drawn on an IRQ line's track (not events of their own) */
const EDGE_CAT = 'irq-edge';

/**
 * Chrome trace-event JSON (loadable in ui.perfetto.dev), drawn as the trace catalogue says:
 * one process "vfio-arm-emu", one thread track per trace source; spans (`X`) from their
 * start (a `span-start` kind at `t`, a `span-end` kind at `t - dur`); counter kinds
 * (IRQ lines) as counter tracks named "irq <line>", each change also marked by an instant
 * event ("rise" / "fall") on a thread track of the same name, so a pulse (rise and fall at
 * the same instant) stays visible. Timestamps are microseconds (fractional, so ns
 * resolution is kept). Event categories are the kinds' sources.
 */
export function toPerfettoTrace(events: readonly TraceEvent[], meta: Record<string, string> = {}): { traceEvents: ChromeEvent[]; displayTimeUnit: string; otherData: Record<string, string> } {
  return { traceEvents: [...perfettoEvents(events)], displayTimeUnit: 'ns', otherData: meta };
}

/** the trace events of toPerfettoTrace, in its order (a track's metadata where the track first appears) */
function* perfettoEvents(events: readonly TraceEvent[]): Generator<ChromeEvent> {
  const tids = new Map<string, number>();
  const pid = 1;
  yield { name: 'process_name', ph: 'M', ts: 0, pid, tid: 0, args: { name: 'vfio-arm-emu' } };
  // a track's tid, with the metadata of a track seen for the first time in `fresh`
  const fresh: ChromeEvent[] = [];
  const tidOf = (track: string): number => {
    let t = tids.get(track);
    if (t === undefined) {
      t = tids.size + 1;
      tids.set(track, t);
      fresh.push({ name: 'thread_name', ph: 'M', ts: 0, pid, tid: t, args: { name: track } });
      fresh.push({ name: 'thread_sort_index', ph: 'M', ts: 0, pid, tid: t, args: { sort_index: t } });
    }
    return t;
  };
  for (const e of events) {
    const d = traceEventDecl(e.kind);
    const cat = d?.src ?? 'unknown';
    if (d?.counter !== undefined && typeof e.f[d.counter.track] === 'string') {
      const track = `${d.counter.prefix}${String(e.f[d.counter.track])}`;
      const v = e.f[d.counter.value];
      const ts = e.t / 1000;
      yield { name: track, ph: 'C', cat, ts, pid, tid: 0, args: { [d.counter.value]: v } };
      const tid = tidOf(track);
      if (fresh.length) yield* fresh.splice(0);
      yield { name: v ? 'rise' : 'fall', ph: 'i', s: 't', cat: EDGE_CAT, ts, pid, tid, args: { [d.counter.value]: v } };
      continue;
    }
    const tid = tidOf(e.src);
    if (fresh.length) yield* fresh.splice(0);
    if (e.dur !== undefined) {
      const x = traceExtent(e);
      yield { name: e.kind, ph: 'X', cat, ts: x.start / 1000, dur: e.dur / 1000, pid, tid, args: e.f };
    } else {
      yield { name: e.kind, ph: 'i', s: 't', cat, ts: e.t / 1000, pid, tid, args: e.f };
    }
  }
}

/** characters of a trace export's pieces (perfettoChunks, jsonLinesChunks) */
export const TRACE_CHUNK_CHARS = 1 << 20;

/**
 * JSON.stringify(toPerfettoTrace(events, meta)) in pieces of about `chunk` characters, for a
 * file written piece by piece: a trace of millions of events is never one string (V8 caps a
 * string at 2^29 - 24 characters; fault-storm's Perfetto file is 300 MB) nor one array.
 */
export function* perfettoChunks(events: readonly TraceEvent[], meta: Record<string, string> = {}, chunk = TRACE_CHUNK_CHARS): Generator<string> {
  let s = '{"traceEvents":[';
  let first = true;
  for (const e of perfettoEvents(events)) {
    s += (first ? '' : ',') + JSON.stringify(e);
    first = false;
    if (s.length >= chunk) {
      yield s;
      s = '';
    }
  }
  yield s + '],"displayTimeUnit":"ns","otherData":' + JSON.stringify(meta) + '}';
}

/** the JSON-lines form (Tracer.toJsonLines) in pieces of about `chunk` characters */
export function* jsonLinesChunks(events: readonly TraceEvent[], chunk = TRACE_CHUNK_CHARS): Generator<string> {
  let s = '';
  for (const e of events) {
    s += serialize(e) + '\n';
    if (s.length >= chunk) {
      yield s;
      s = '';
    }
  }
  if (s.length) yield s;
}

/**
 * The events back from a Chrome/Perfetto file written by `toPerfettoTrace` (the inverse, by
 * the same catalogue: a span's `t` is its start or its end as its kind says; the edge
 * markers of counter tracks are skipped). Throws on input that is not a trace-event file.
 */
export function fromPerfettoTrace(o: unknown): TraceEvent[] {
  const list: unknown = (o as { traceEvents?: unknown } | null)?.traceEvents;
  if (!Array.isArray(list)) throw new Error('not a trace file: "traceEvents" is not an array');
  list.forEach((e: unknown, i) => {
    const x = e as { ph?: unknown; ts?: unknown; name?: unknown } | null;
    if (typeof x !== 'object' || x === null || typeof x.ph !== 'string' || typeof x.name !== 'string' || (x.ph !== 'M' && typeof x.ts !== 'number')) {
      throw new Error(`not a trace file: traceEvents[${i}] is not a trace event (needs ph, name, ts)`);
    }
  });
  const evs = list as ChromeEvent[];
  const names = new Map<number, string>();
  for (const e of evs) if (e.ph === 'M' && e.name === 'thread_name') names.set(e.tid, String(e.args?.['name']));
  const out: TraceEvent[] = [];
  for (const e of evs) {
    if (e.ph === 'M' || e.cat === EDGE_CAT) continue;
    const tns = Math.round(e.ts * 1000);
    const f = (e.args ?? {}) as TraceFields;
    if (e.ph === 'C') {
      // counter tracks: the catalogue kind whose prefix names the track (IRQ lines)
      const k = counterKindOf(e.name);
      if (k !== null) {
        out.push({ t: tns, src: k.src, kind: k.kind, f: { [k.track]: e.name.slice(k.prefix.length), ...f } });
        continue;
      }
    }
    const src = names.get(e.tid) ?? String(e.tid);
    if (e.ph === 'X') {
      const dur = Math.round((e.dur ?? 0) * 1000);
      const start = traceEventDecl(e.name)?.shape === 'span-start';
      out.push({ t: start ? tns : tns + dur, src, kind: e.name, dur, f });
    } else {
      out.push({ t: tns, src, kind: e.name, f });
    }
  }
  return out;
}

function counterKindOf(track: string): { kind: string; src: string; track: string; prefix: string } | null {
  for (const kind of ['irq-line'] as const) {
    const d = traceEventDecl(kind)!;
    if (d.counter && track.startsWith(d.counter.prefix)) return { kind, src: d.src, track: d.counter.track, prefix: d.counter.prefix };
  }
  return null;
}
