import { createHash, type Hash } from 'node:crypto';
import type { GuestErrorKind, GuestErrorSink } from './regmap.js';

/**
 * Structured tracing. Each event is (time ns, source, kind, fields). When the tracer is
 * disabled, emitters check `tracer.enabled` first, so a disabled tracer costs one
 * property read per potential event.
 *
 * A run's trace digest is the SHA-256 of the canonical JSON-lines serialisation of
 * every event in order; it is computed incrementally, so the digest is available even
 * when events are not kept in memory.
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

export interface TracerOptions {
  /** record events (digest only when false) */
  keep?: boolean;
  /** cap on kept events (digest continues past it) */
  maxKept?: number;
}

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
  private hash: Hash = createHash('sha256');
  private keep: boolean;
  private maxKept: number;
  /** kinds filtered out (e.g. instruction-level events unless asked for) */
  private muted = new Set<string>();

  constructor(
    private readonly now: () => number,
    enabled = false,
    opts: TracerOptions = {},
  ) {
    this.enabled = enabled;
    this.keep = opts.keep ?? true;
    this.maxKept = opts.maxKept ?? 5_000_000;
  }

  mute(kind: string): void {
    this.muted.add(kind);
  }

  unmute(kind: string): void {
    this.muted.delete(kind);
  }

  isMuted(kind: string): boolean {
    return this.muted.has(kind);
  }

  emit(src: string, kind: string, f: TraceFields, dur?: number): void {
    if (!this.enabled || this.muted.has(kind)) return;
    const ev: TraceEvent = dur === undefined ? { t: this.now(), src, kind, f } : { t: this.now(), src, kind, dur, f };
    this.hash.update(serialize(ev));
    this.hash.update('\n');
    this.count++;
    if (this.keep && this.events.length < this.maxKept) this.events.push(ev);
  }

  guestError(src: string, what: GuestErrorKind, offset: number, reg: string | null, value: number | null): void {
    this.guestErrors++;
    this.guestErrorsBySrc.set(src, (this.guestErrorsBySrc.get(src) ?? 0) + 1);
    if (this.enabled) this.emit(src, 'guest-error', { what, off: offset, reg, value });
  }

  /** SHA-256 (hex) of everything emitted so far. */
  digest(): string {
    return this.hash.copy().digest('hex');
  }

  toJsonLines(): string {
    let s = '';
    for (const e of this.events) s += serialize(e) + '\n';
    return s;
  }

  toPerfetto(meta: Record<string, string> = {}): string {
    return JSON.stringify(toPerfettoTrace(this.events, meta));
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

interface ChromeEvent {
  name: string;
  ph: string;
  ts: number;
  pid: number;
  tid: number;
  dur?: number;
  s?: string;
  args?: Record<string, unknown>;
}

/**
 * Chrome trace-event JSON (loadable in ui.perfetto.dev). One process "vfio-arm-emu",
 * one thread track per trace source; IRQ line levels become counter tracks named
 * "irq <line>". Timestamps are microseconds (fractional, so ns resolution is kept).
 */
export function toPerfettoTrace(events: readonly TraceEvent[], meta: Record<string, string> = {}): { traceEvents: ChromeEvent[]; displayTimeUnit: string; otherData: Record<string, string> } {
  const tids = new Map<string, number>();
  const out: ChromeEvent[] = [];
  const pid = 1;
  out.push({ name: 'process_name', ph: 'M', ts: 0, pid, tid: 0, args: { name: 'vfio-arm-emu' } });
  const tidOf = (src: string): number => {
    let t = tids.get(src);
    if (t === undefined) {
      t = tids.size + 1;
      tids.set(src, t);
      out.push({ name: 'thread_name', ph: 'M', ts: 0, pid, tid: t, args: { name: src } });
      out.push({ name: 'thread_sort_index', ph: 'M', ts: 0, pid, tid: t, args: { sort_index: t } });
    }
    return t;
  };
  for (const e of events) {
    const ts = e.t / 1000;
    if (e.kind === 'irq-line' && typeof e.f['line'] === 'string') {
      out.push({ name: `irq ${e.f['line']}`, ph: 'C', ts, pid, tid: 0, args: { level: e.f['level'] } });
      continue;
    }
    const tid = tidOf(e.src);
    if (e.dur !== undefined) {
      out.push({ name: e.kind, ph: 'X', ts: (e.t - e.dur) / 1000, dur: e.dur / 1000, pid, tid, args: e.f });
    } else {
      out.push({ name: e.kind, ph: 'i', s: 't', ts, pid, tid, args: e.f });
    }
  }
  return { traceEvents: out, displayTimeUnit: 'ns', otherData: meta };
}
