import { WIDE_FIELD_INIT, type Ns } from './time.js';

/**
 * The discrete-event scheduler: the only source of time in the model.
 *
 * Events are ordered by (time, insertion sequence). Two events at the same virtual
 * time run in the order they were scheduled, whatever the host. Cancelled events never
 * run. Run loops never hang: every loop has an explicit limit and reports why it stopped.
 */
export type EventFn = () => void;

export class SimEvent {
  /** index in the heap, -1 when not queued */
  heapIndex = -1;
  cancelled = false;
  constructor(
    readonly time: Ns,
    readonly seq: number,
    readonly fn: EventFn,
    readonly label: string,
  ) {}
  get pending(): boolean {
    return this.heapIndex >= 0 && !this.cancelled;
  }
}

export type StopReason =
  | 'time'          // runUntil(time) reached its time
  | 'idle'          // no event left: nothing can make progress
  | 'predicate'     // the predicate became true
  | 'time-limit'    // predicate run: the virtual time limit passed first
  | 'event-limit'   // the event budget ran out (e.g. an endless device loop)
  | 'stopped';      // a model component requested a stop (interrupt storm, fatal fault)

export interface RunResult {
  reason: StopReason;
  now: Ns;
  events: number;
  /** for 'stopped': what the component said */
  detail?: string;
}

export interface PredicateRunOptions {
  /** absolute virtual time limit (ns) */
  until?: Ns;
  /** relative virtual time limit from now (ns) */
  within?: Ns;
  /** maximum number of events to run */
  maxEvents?: number;
}

function before(a: SimEvent, b: SimEvent): boolean {
  return a.time < b.time || (a.time === b.time && a.seq < b.seq);
}

export class Scheduler {
  private heap: SimEvent[] = [];
  private seq = 0;
  /** (a double from the start: time.ts WIDE_FIELD_INIT) */
  private _now: Ns = WIDE_FIELD_INIT;
  private stopRequest: string | null = null;
  /** total events executed since creation */
  executed = 0;

  constructor() {
    this._now = 0;
  }

  get now(): Ns {
    return this._now;
  }

  /** number of live (not cancelled) queued events */
  get pendingCount(): number {
    let n = 0;
    for (const e of this.heap) if (!e.cancelled) n++;
    return n;
  }

  schedule(delay: Ns, fn: EventFn, label = ''): SimEvent {
    if (!(delay >= 0) || !Number.isInteger(delay)) {
      throw new RangeError(`schedule: delay must be a non-negative integer ns, got ${delay}`);
    }
    return this.scheduleAt(this._now + delay, fn, label);
  }

  scheduleAt(time: Ns, fn: EventFn, label = ''): SimEvent {
    if (!Number.isInteger(time) || time < this._now) {
      throw new RangeError(`scheduleAt: time ${time} is not an integer at or after now (${this._now})`);
    }
    const ev = new SimEvent(time, this.seq++, fn, label);
    this.push(ev);
    return ev;
  }

  cancel(ev: SimEvent | null | undefined): void {
    if (ev) ev.cancelled = true;
  }

  /** Ask the current run loop to stop after the running event (used for storms, fatal faults). */
  requestStop(detail: string): void {
    if (this.stopRequest === null) this.stopRequest = detail;
  }

  get stopRequested(): string | null {
    return this.stopRequest;
  }

  clearStop(): void {
    this.stopRequest = null;
  }

  /** Time of the next live event, or undefined. */
  peekTime(): Ns | undefined {
    this.dropCancelledTop();
    return this.heap.length ? this.heap[0]!.time : undefined;
  }

  /**
   * Move the clock forward to `t` from inside the running event, never past a pending event:
   * a CPU step whose guest code has reached time `t` makes its device accesses and syscalls
   * there (docs/TIMING.md). A `t` at or before now is ignored.
   */
  advanceTo(t: Ns): void {
    if (!(t > this._now)) return;
    const next = this.peekTime();
    if (next !== undefined && t > next) throw new RangeError(`advanceTo: ${t} passes the pending event at ${next}`);
    if (!Number.isInteger(t)) throw new RangeError(`advanceTo: time ${t} is not an integer`);
    this._now = t;
  }

  /** Run one event; false when none is left. */
  step(): boolean {
    this.dropCancelledTop();
    const ev = this.pop();
    if (!ev) return false;
    this._now = ev.time;
    this.executed++;
    ev.fn();
    return true;
  }

  /** Run every event up to and including `time`, then set now = time. */
  runUntil(time: Ns, maxEvents = Number.MAX_SAFE_INTEGER): RunResult {
    let n = 0;
    for (;;) {
      if (this.stopRequest !== null) return this.stopped(n);
      const t = this.peekTime();
      if (t === undefined || t > time) break;
      if (n >= maxEvents) return { reason: 'event-limit', now: this._now, events: n };
      this.step();
      n++;
    }
    if (this.stopRequest !== null) return this.stopped(n);
    if (time > this._now) this._now = time;
    return { reason: 'time', now: this._now, events: n };
  }

  /** Run until no event is left (or the event budget is spent). */
  runUntilIdle(maxEvents = 10_000_000): RunResult {
    let n = 0;
    for (;;) {
      if (this.stopRequest !== null) return this.stopped(n);
      if (this.peekTime() === undefined) return { reason: 'idle', now: this._now, events: n };
      if (n >= maxEvents) return { reason: 'event-limit', now: this._now, events: n };
      this.step();
      n++;
    }
  }

  /**
   * Run until `pred()` is true. Never hangs: stops with 'idle' when nothing is left to
   * run (no progress possible), 'time-limit' when the next event lies past the limit
   * (now is then set to the limit), or 'event-limit'.
   */
  runUntilPredicate(pred: () => boolean, opts: PredicateRunOptions = {}): RunResult {
    const limit = opts.until ?? (opts.within !== undefined ? this._now + opts.within : Number.MAX_SAFE_INTEGER);
    const maxEvents = opts.maxEvents ?? 10_000_000;
    let n = 0;
    for (;;) {
      if (this.stopRequest !== null) return this.stopped(n);
      if (pred()) return { reason: 'predicate', now: this._now, events: n };
      const t = this.peekTime();
      if (t === undefined) return { reason: 'idle', now: this._now, events: n };
      if (t > limit) {
        if (limit > this._now) this._now = limit;
        return { reason: 'time-limit', now: this._now, events: n };
      }
      if (n >= maxEvents) return { reason: 'event-limit', now: this._now, events: n };
      this.step();
      n++;
    }
  }

  private stopped(n: number): RunResult {
    return { reason: 'stopped', now: this._now, events: n, detail: this.stopRequest ?? undefined };
  }

  // ---- binary heap ----
  private dropCancelledTop(): void {
    while (this.heap.length && this.heap[0]!.cancelled) this.pop();
  }

  private push(ev: SimEvent): void {
    const h = this.heap;
    let i = h.length;
    h.push(ev);
    while (i > 0) {
      const p = (i - 1) >> 1;
      const pe = h[p]!;
      if (!before(ev, pe)) break;
      h[i] = pe;
      pe.heapIndex = i;
      i = p;
    }
    h[i] = ev;
    ev.heapIndex = i;
  }

  private pop(): SimEvent | undefined {
    const h = this.heap;
    if (h.length === 0) return undefined;
    const top = h[0]!;
    const last = h.pop()!;
    top.heapIndex = -1;
    if (h.length > 0) {
      let i = 0;
      const n = h.length;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const c = r < n && before(h[r]!, h[l]!) ? r : l;
        if (!before(h[c]!, last)) break;
        h[i] = h[c]!;
        h[i]!.heapIndex = i;
        i = c;
      }
      h[i] = last;
      last.heapIndex = i;
    }
    return top;
  }
}
