/**
 * Detection of misbehaving interrupt lines, apart from the flow that takes them:
 *
 * - `SpuriousDetector`: note_interrupt (kernel/irq/spurious.c): a line whose handlers
 *   (almost) never handle it is disabled ("nobody cared"); see the class.
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
import type { IrqDesc } from './desc.js';
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

/** CONFIG_HZ of the modelled kernel (ARM's default, as vexpress_defconfig of 3.14 leaves it) */
export const HZ = 100;
/** jiffies at virtual time `ns` (one tick every 1/HZ s from boot) */
export function jiffiesAt(ns: number): number {
  return Math.floor(ns / (1e9 / HZ));
}

/**
 * note_interrupt (kernel/irq/spurious.c, Linux 3.14), for the flows this model has (no
 * threaded handlers, no irqfixup/irqpoll, so no misrouted-IRQ polling):
 *
 * - an IRQ_NONE take counts into irqs_unhandled, restarted at 1 when more than HZ/10
 *   jiffies passed since the previous unhandled take ("the odd spurious IRQ caused by bus
 *   asynchronicity" must not become a doomsday timer); last_unhandled = jiffies;
 * - every take counts into irq_count; at 100,000 it is reset and, if more than 99,900 of
 *   them were unhandled, __report_bad_irq prints "irq N: nobody cared (try booting with
 *   the "irqpoll" option)", the stack and "handlers:" followed by one "[<addr>] symbol" line
 *   per action, then KERN_EMERG "Disabling IRQ #N"; the line gets IRQS_SPURIOUS_DISABLED,
 *   depth + 1 and irq_disable; irqs_unhandled is reset either way. irq_disable is lazy
 *   here, in both eras: the GIC chip has no irq_disable callback (kernel/irq/chip.c: 3.14
 *   irq_disable only marks the descriptor disabled without one; v6.12 __irq_disable masks
 *   only with IRQ_DISABLE_UNLAZY, which the GIC driver does not set), so the line stays
 *   enabled at the GIC. The next take of a still-asserted level line finds it disabled:
 *   handle_fasteoi_irq masks it, marks it pending and EOIs it (core.ts).
 * - poll_spurious_irqs then runs every HZ/10 and calls try_one_irq(force) on such lines,
 *   which returns at once unless the first action is IRQF_SHARED, not a timer, and has a
 *   `next` action: a line with a single handler is never polled again, so nothing runs
 *   its handler any more (the model's case: one arm-smmu context handler per line).
 * - request_irq of another shared handler on the line (__setup_irq) resets the counters
 *   and re-enables a line the spurious logic disabled (core.ts requestIrq).
 *
 * Model limits: the HZ/10 poll of a disabled line with several shared handlers is not
 * modelled (no such line on the boards); dump_stack prints no frames (the model has no
 * kernel stack); the handler line prints the handler's symbol (`ksym` on the handler, or
 * the request_irq name) in place of its address ("[<sym>] sym").
 */
export class SpuriousDetector {
  constructor(
    private readonly log: KernelLog,
    /** note_interrupt window: after this many takes, check unhandled (100,000 as Linux) */
    readonly window: number,
    /** unhandled takes within the window that disable the line (99,900 as Linux) */
    readonly limit: number,
    /** virtual time (jiffies are derived from it) */
    private readonly now: () => number = () => 0,
  ) {
    // every field is readonly: frozen, so that the fuzzer's snapshot (tools/fuzz/snapshot.ts) need not record it
    Object.freeze(this);
  }

  /** note_interrupt, after the handlers of one take returned `ret` */
  note(desc: IrqDesc, ret: number): void {
    if ((ret & IRQ_HANDLED) === 0) {
      const j = jiffiesAt(this.now());
      // time_after(jiffies, last_unhandled + HZ/10)
      if (j > desc.lastUnhandled + HZ / 10) desc.unhandled = 1;
      else desc.unhandled++;
      desc.lastUnhandled = j;
    }
    if (++desc.windowCount < this.window) return;
    desc.windowCount = 0;
    if (desc.unhandled > this.limit) {
      // __report_bad_irq
      this.log.err('', `irq ${desc.irq}: nobody cared (try booting with the "irqpoll" option)`);
      this.log.err('', 'handlers:');
      for (const a of desc.actions) {
        const sym = (a.handler as { ksym?: string }).ksym ?? a.name;
        this.log.err('', `[<${sym}>] ${sym}`);
      }
      this.log.log('emerg', '', `Disabling IRQ #${desc.irq}`);
      desc.spuriousDisabled = true;
      desc.depth++;
      // irq_disable: lazy (no irq_disable callback in the GIC chip): marked, not masked
      desc.disabled = true;
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
