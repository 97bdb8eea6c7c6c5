/**
 * `run --trace-mmio FILE`: every MMIO access the bus performs (CPU register accesses of the
 * kernel model's drivers and of user programs through mmap), one JSON line each, with the
 * register's name from the device's declarative register map (emulator/regmap.ts) through
 * MmioDevice.regName. Recorded by the bus's observer (emulator/bus.ts mmioObserver), so
 * the run itself, its trace and its digest are unchanged.
 */
import type { Machine } from '../../emulator/machine.js';
import type { CliIo } from './main.js';

export interface MmioRecord {
  /** virtual time, ns */
  t: number;
  /** the bus region (the device's node name, `name[i]` for a second reg entry) */
  dev: string;
  /** the register's name, or null where nothing decodes */
  reg: string | null;
  /** offset in the region, hex */
  off: string;
  size: number;
  op: 'R' | 'W';
  value: string;
}

const hex = (v: number): string => `0x${(v >>> 0).toString(16)}`;

export function mmioTracer(path: string, io: CliIo): { attach: (m: Machine) => void; finish: (write: (p: string, d: string) => void) => void } {
  const lines: string[] = [];
  return {
    attach(m: Machine): void {
      const sched = m.scheduler;
      m.bus.mmioObserver = (region, offset, size, write, value) => {
        const rec: MmioRecord = { t: sched.now, dev: region.name, reg: region.device.regName?.(offset) ?? null, off: hex(offset), size, op: write ? 'W' : 'R', value: hex(value) };
        lines.push(JSON.stringify(rec));
      };
    },
    finish(write): void {
      const text = lines.length ? lines.join('\n') + '\n' : '';
      if (path === '-') io.err(text);
      else write(path, text);
    },
  };
}
