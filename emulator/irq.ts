import type { Tracer } from './trace.js';

export type IrqSink = (level: boolean) => void;

/**
 * An interrupt signal with level semantics. A device drives it with set/raise/lower;
 * an edge is a pulse (raise then lower at the same virtual time). Sinks (interrupt
 * controller inputs, tests) are told about every change. Level changes are traced.
 */
export class IrqLine {
  private _level = false;
  private sinks: IrqSink[] = [];
  /** number of rising edges seen */
  rises = 0;

  constructor(
    readonly name: string,
    private readonly tracer: Tracer | null = null,
  ) {}

  get level(): boolean {
    return this._level;
  }

  connect(sink: IrqSink): void {
    this.sinks.push(sink);
    if (this._level) sink(true);
  }

  set(level: boolean): void {
    if (level === this._level) return;
    this._level = level;
    if (level) this.rises++;
    const tr = this.tracer;
    if (tr !== null && tr.enabled) tr.emit('irq', 'irq-line', { line: this.name, level: level ? 1 : 0 });
    for (const s of this.sinks) s(level);
  }

  raise(): void {
    this.set(true);
  }

  lower(): void {
    this.set(false);
  }

  /** edge: raise and lower at the same virtual time */
  pulse(): void {
    this.set(true);
    this.set(false);
  }
}
