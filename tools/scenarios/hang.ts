/**
 * Hang diagnosis: when a run ends because nothing is left that could make progress (the
 * scheduler went idle) while a program has not exited, say why instead of reporting a
 * silent stop: the transactions an SMMU holds in stall mode (devices/smmu/fault.ts), the DMA
 * threads waiting for them (devices/pl330), the interrupt lines the kernel's spurious
 * logic disabled ("nobody cared", kernel-model/irq/spurious.ts), and the threads that are
 * blocked. Tools may look at devices and the kernel alike (docs/ARCHITECTURE.md).
 */
import type { StubThread } from '../../emulator/cpu/stub.js';
import type { RunResult } from '../../emulator/scheduler.js';
import { Pl330 } from '../../devices/pl330/pl330.js';
import { Smmu } from '../../devices/smmu/smmu.js';
import type { System } from '../system/system.js';

export interface HangDiagnosis {
  /** one line: what waits for what */
  message: string;
  /** transactions held in stall mode: [smmu, context bank, input address, stalled since] */
  stalled: { smmu: string; cb: number; va: number; since: number }[];
  /** DMA threads waiting for a held access: [device, channel (-1 manager)] */
  waiting: { dmac: string; thread: number }[];
  /** IRQs disabled by note_interrupt */
  disabledIrqs: { irq: number; hwirq: number; handlers: string }[];
}

const hex8 = (v: number): string => `0x${(v >>> 0).toString(16).padStart(8, '0')}`;

/** The diagnosis of a run that went idle with `threads` not all exited, or null. */
export function diagnoseHang(sys: System, run: RunResult, threads: readonly StubThread[]): HangDiagnosis | null {
  if (run.reason !== 'idle' || threads.every((t) => t.exit !== null)) return null;
  const stalled: HangDiagnosis['stalled'] = [];
  const waiting: HangDiagnosis['waiting'] = [];
  for (const d of sys.machine.devices) {
    for (const m of d.mmio) {
      if (m instanceof Smmu) for (const t of m.fault.stalled) stalled.push({ smmu: d.name, cb: t.cb, va: t.va, since: t.since });
      if (m instanceof Pl330) for (const t of [m.manager, ...m.channels]) if (t.stalledOn !== 0) waiting.push({ dmac: d.name, thread: t.id });
    }
  }
  const disabledIrqs = sys.irq.descriptors().filter((x) => x.spuriousDisabled).map((x) => ({ irq: x.irq, hwirq: x.hwirq, handlers: x.actions.map((a) => a.name).join(', ') }));
  const parts = ['no runnable work'];
  for (const s of stalled) parts.push(`a transaction to ${hex8(s.va)} stalled in ${s.smmu} context bank ${s.cb} since ${s.since} ns`);
  for (const w of waiting) parts.push(`${w.dmac} ${w.thread < 0 ? 'manager' : `channel ${w.thread}`} waits for it`);
  for (const i of disabledIrqs) parts.push(`IRQ ${i.irq} (hwirq ${i.hwirq}, ${i.handlers}) disabled by the spurious-interrupt logic ("nobody cared")`);
  const blocked = threads.filter((t) => t.exit === null).map((t) => t.name);
  if (blocked.length) parts.push(`blocked: ${blocked.join(', ')}`);
  return { message: parts.join('; '), stalled, waiting, disabledIrqs };
}
