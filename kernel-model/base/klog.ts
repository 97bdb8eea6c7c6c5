import type { Tracer } from '../../emulator/trace.js';

export type LogLevel = 'emerg' | 'alert' | 'crit' | 'err' | 'warn' | 'notice' | 'info' | 'debug';

export interface LogRecord {
  /** virtual time in ns */
  t: number;
  level: LogLevel;
  /** subsystem/driver prefix, e.g. "arm-smmu 2b400000.smmu" */
  prefix: string;
  msg: string;
}

/** The kernel ring buffer (dmesg) with virtual timestamps. */
export class KernelLog {
  readonly records: LogRecord[] = [];
  /** optional live listener (CLI --verbose, tests) */
  listener: ((r: LogRecord) => void) | null = null;

  constructor(
    private readonly now: () => number,
    private readonly tracer: Tracer | null = null,
  ) {}

  log(level: LogLevel, prefix: string, msg: string): void {
    // a record never changes once logged (frozen: the fuzzer's snapshot need not record it)
    const r: LogRecord = Object.freeze({ t: this.now(), level, prefix, msg });
    this.records.push(r);
    if (this.tracer?.enabled) this.tracer.emit('kernel', 'printk', { level, msg: formatLine(r) });
    this.listener?.(r);
  }

  info(prefix: string, msg: string): void {
    this.log('info', prefix, msg);
  }
  warn(prefix: string, msg: string): void {
    this.log('warn', prefix, msg);
  }
  err(prefix: string, msg: string): void {
    this.log('err', prefix, msg);
  }

  /** dmesg-style lines: "[    0.000123] prefix: msg" */
  lines(): string[] {
    return this.records.map(formatRecord);
  }

  grep(re: RegExp): LogRecord[] {
    return this.records.filter((r) => re.test(formatLine(r)));
  }
}

function formatLine(r: LogRecord): string {
  return r.prefix ? `${r.prefix}: ${r.msg}` : r.msg;
}

export function formatRecord(r: LogRecord): string {
  const secs = Math.floor(r.t / 1e9);
  const micros = Math.floor((r.t % 1e9) / 1e3);
  return `[${String(secs).padStart(5, ' ')}.${String(micros).padStart(6, '0')}] ${formatLine(r)}`;
}
