/**
 * Detection of misbehaving interrupt lines, apart from the flow that takes them:
 *
 * - `SpuriousDetector`: note_interrupt (kernel/irq/spurious.c), loosely: a line whose
 *   handlers (almost) never handle it is disabled ("nobody cared").
 * - `StormDetector`: an emulator diagnosis, not Linux. A take of the same interrupt
 *   counts into a streak while no guest thread has run since the previous take and the
 *   CPU was idle for at most `gapNs` since then (elapsed time minus the cycles spent in
 *   between, so a slow handler does not hide a storm). When a streak reaches `threshold`
 *   takes (default 10,000, gap 10 us) the detector records a storm, logs the diagnosis
 *   and asks the scheduler to stop; every further `threshold` takes of the same streak
 *   ask again.
 *
 * Both keep their per-line state in the descriptor (struct irq_desc's irqs_unhandled and
 * irq_count, and the model's streak fields).
 */
import type { Cpu } from '../../emulator/cpu/cpu.js';
import type { Scheduler } from '../../emulator/scheduler.js';
import type { Tracer } from '../../emulator/trace.js';
import type { KernelLog } from '../base/klog.js';
import type { IrqDesc } from './core.js';
import { IRQ_HANDLED } from './types.js';

export interface IrqStorm {
  irq: number;
  hwirq: number;
  name: string;
  entries: number;
  windowNs: number;
  /** virtual time of the detection (ns) */
  at: number;
  message: string;
}

export class SpuriousDetector {
  constructor(
    private readonly log: KernelLog,
    /** note_interrupt window: after this many takes, check unhandled (100,000 as Linux) */
    readonly window: number,
    /** unhandled takes within the window that disable the line (99,900 as Linux) */
    readonly limit: number,
    /** mask the line at the chip */
    private readonly mask: (desc: IrqDesc) => void,
  ) {}

  /** note_interrupt, after the handlers of one take returned `ret` */
  note(desc: IrqDesc, ret: number): void {
    if ((ret & IRQ_HANDLED) === 0) {
      desc.unhandled++;
      if (desc.unhandled === 1 || desc.unhandled % 10_000 === 0) {
        this.log.warn('genirq', `irq ${desc.irq}: handler returned IRQ_NONE (${desc.unhandled} unhandled)`);
      }
    }
    if (++desc.windowCount < this.window) return;
    desc.windowCount = 0;
    if (desc.unhandled > this.limit) {
      this.log.err('', `irq ${desc.irq}: nobody cared (try booting with the "irqpoll" option)`);
      this.log.err('', `handlers: ${desc.actions.map((a) => a.name).join(', ')}`);
      this.log.err('', `Disabling IRQ #${desc.irq}`);
      desc.spuriousDisabled = true;
      desc.depth++;
      desc.disabled = true;
      this.mask(desc);
    }
    desc.unhandled = 0;
  }
}

export class StormDetector {
  /** the first storm diagnosed, or null */
  storm: IrqStorm | null = null;
  /** every storm report (a resumed run may report again) */
  readonly storms: IrqStorm[] = [];

  constructor(
    private readonly cpu: Cpu,
    private readonly scheduler: Scheduler,
    private readonly log: KernelLog,
    private readonly tracer: Tracer | null,
    /** takes of one interrupt without a guest thread running that make a storm */
    readonly threshold: number,
    /** largest gap between two takes of a streak, ns */
    readonly gapNs: number,
  ) {}

  /** count one take of `desc` into its streak; report a storm at every `threshold` takes */
  check(desc: IrqDesc): void {
    const now = this.scheduler.now;
    const epoch = this.cpu.userSteps;
    const cycles = this.cpu.totalCycles;
    // idle time of the CPU since the previous take of this line: elapsed time minus the
    // work done since (that take's own cost, other IRQ entries), so an expensive
    // handler does not hide a storm
    const idle = now - desc.stormLast - this.cpu.clock.cycles(cycles - desc.stormCycles);
    desc.stormCycles = cycles;
    if (desc.stormEpoch !== epoch || idle > this.gapNs) {
      desc.stormEpoch = epoch;
      desc.stormCount = 0;
      desc.stormStart = now;
    }
    desc.stormCount++;
    desc.stormLast = now;
    if (desc.stormCount % this.threshold !== 0) return;
    const name = desc.actions.length ? desc.actions.map((a) => a.name).join(', ') : 'no handler';
    const windowNs = now - desc.stormStart;
    const message = `interrupt storm on IRQ ${desc.irq} (hwirq ${desc.hwirq}, ${name}): ${desc.stormCount} entries in ${windowNs} ns without the program running`;
    const s: IrqStorm = { irq: desc.irq, hwirq: desc.hwirq, name, entries: desc.stormCount, windowNs, at: now, message };
    if (this.storm === null) this.storm = s;
    this.storms.push(s);
    this.log.err('genirq', message);
    const tr = this.tracer;
    if (tr !== null && tr.enabled) tr.emit('kernel', 'irq-storm', { irq: desc.irq, hwirq: desc.hwirq, entries: desc.stormCount, windowNs });
    this.scheduler.requestStop(message);
  }
}
