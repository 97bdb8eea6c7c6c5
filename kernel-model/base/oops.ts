import { ModelEvent } from '../../emulator/cpu/stub.js';

/**
 * A kernel Oops: a fault taken in kernel context (an external abort on a device access,
 * an out-of-bounds kernel read that hits unmapped kernel memory). It is thrown from
 * the faulting kernel code path and caught at the syscall or IRQ boundary, where the
 * kernel model does what Linux does (arch/arm/kernel/traps.c die/oops_end): in process
 * context log the Oops and kill the current process, the machine keeps running; in
 * interrupt context panic ("Fatal exception in interrupt", kernel-model/irq/core.ts).
 *
 * The message follows arch/arm/mm/fault.c __do_kernel_fault: an address below PAGE_SIZE
 * is reported as a "NULL pointer dereference", any other as a "paging request".
 */
export class KernelOops extends ModelEvent {
  constructor(
    readonly kind: 'external-abort' | 'paging-request' | 'bug',
    readonly address: number,
    readonly detail: string,
    /**
     * the call chain the model knows, innermost function first (printed as the Oops's
     * "Backtrace:"); the boundary that catches the Oops appends its own callers
     */
    readonly backtrace: readonly string[] = [],
  ) {
    super(`Unable to handle kernel ${kind === 'paging-request' ? ((address >>> 0) < 0x1000 ? 'NULL pointer dereference' : 'paging request') : kind} at virtual address 0x${(address >>> 0).toString(16).padStart(8, '0')}: ${detail}`);
  }

  /** the same Oops with more callers appended to its backtrace */
  withCallers(callers: readonly string[]): KernelOops {
    return new KernelOops(this.kind, this.address, this.detail, [...this.backtrace, ...callers]);
  }
}

/** the IRQ entry path above a handler (kernel/irq/handle.c, chip.c, irqdesc.c; arch/arm/kernel/irq.c; drivers/irqchip/irq-gic.c) */
export const IRQ_ENTRY_CALLERS: readonly string[] = ['handle_irq_event_percpu', 'handle_irq_event', 'handle_fasteoi_irq', 'generic_handle_irq', 'handle_IRQ', 'gic_handle_irq'];

/**
 * The lines of an Oops report after the "Unable to handle kernel ..." line, as
 * arch/arm/kernel/traps.c __die prints them ("Internal error: Oops: <fsr> [#n] ARM",
 * then the backtrace). The model knows no code addresses: each backtrace line names the
 * function and its caller, "(f) from (caller)", as dump_backtrace_entry does without the
 * [<addresses>]. `fsr` is the fault status the abort handler passes to die(): 5 for a
 * section translation fault on a load (arch/arm/mm/fsr-2level.c), 0x1008 for an external
 * abort on a non-linefetch read; a BUG is "Oops - BUG: 0".
 */
export function oopsReport(e: KernelOops, n: number): string[] {
  const head = e.kind === 'bug' ? `Internal error: Oops - BUG: 0 [#${n}] ARM` : `Internal error: Oops: ${e.kind === 'external-abort' ? '1008' : '5'} [#${n}] ARM`;
  const out = [head];
  if (e.backtrace.length > 0) {
    out.push('Backtrace:');
    for (let i = 0; i < e.backtrace.length; i++) {
      const caller = e.backtrace[i + 1];
      out.push(caller === undefined ? `(${e.backtrace[i]})` : `(${e.backtrace[i]}) from (${caller})`);
    }
  }
  return out;
}
