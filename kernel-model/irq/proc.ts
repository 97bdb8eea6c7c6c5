/**
 * /proc/interrupts (kernel/irq/proc.c show_interrupts, arch/arm's arch_show_interrupts
 * "Err:" line) for one CPU.
 */
import type { Capabilities } from '../capabilities.js';
import { IRQ_TYPE_LEVEL_HIGH, IRQ_TYPE_LEVEL_LOW } from '../driver/types.js';
import type { IrqDesc } from './desc.js';

export interface ProcInterruptsFormat {
  /** which descriptors get a row (capability `procInterruptsRows`) */
  rows: Capabilities['procInterruptsRows'];
  /** the chip column (capability `gicChipLabel`) */
  chip: Capabilities['gicChipLabel'];
}

/**
 * /proc/interrupts as Linux prints it for one CPU: virq, count, chip, hwirq, Level/Edge,
 * action names; a final "Err:" line counts takes of unmapped IDs. `descs` in virq order.
 * Chip column: 3.14 prints the chip's name with " %8s" ("     GIC"), v6.12 the GIC's
 * irq_print_chip "GIC-0" as is (gic_irq_print_chip: no padding, no leading space). Rows (show_interrupts): 3.14 skips a descriptor with neither an action nor a
 * count ('action-or-count'), v6.12 every descriptor without an action ('action').
 */
export function showInterrupts(descs: readonly Readonly<IrqDesc>[], errors: number, fmt: ProcInterruptsFormat): string {
  let maxIrq = 0;
  for (const d of descs) if (d.irq > maxIrq) maxIrq = d.irq;
  let prec = 3;
  for (let j = 1000; prec < 10 && j <= maxIrq + 1; j *= 10) prec++;
  // the CPU column header ends where the right-aligned %10u count ends
  let s = ' '.repeat(prec + 8) + 'CPU0'.padEnd(11) + '\n';
  for (const d of descs) {
    if (d.actions.length === 0 && (fmt.rows === 'action' || d.count === 0)) continue;
    let line = `${String(d.irq).padStart(prec)}: ${String(d.count).padStart(10)} `;
    line += fmt.chip === 'GIC' ? ` ${'GIC'.padStart(8)}` : 'GIC-0';
    line += ` ${String(d.hwirq).padStart(prec)}`;
    line += ` ${((d.trigger & (IRQ_TYPE_LEVEL_HIGH | IRQ_TYPE_LEVEL_LOW)) !== 0 ? 'Level' : 'Edge').padEnd(8)}`;
    if (d.actions.length) line += `  ${d.actions.map((a) => a.name).join(', ')}`;
    s += line + '\n';
  }
  s += `${'Err'.padStart(prec)}: ${String(errors).padStart(10)}\n`;
  return s;
}
