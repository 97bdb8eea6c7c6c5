/**
 * Issue 16, item 5: the corrected patches:1-9 outcome, as a scenario shows it: an Oops in
 * interrupt context with its faulting address and the call chain the model knows, then
 * the panic that stops the machine.
 */
import { describe, expect, it } from 'vitest';
import './index.js';
import { getScenario } from './registry.js';

describe('patch09-oops', () => {
  it('patches:1-9: Oops at 0x00000001 in __wake_up_common from vfio_irq_handler in interrupt context, then the panic', () => {
    const r = getScenario('patch09-oops')!.run({ profile: 'patches:1-9', board: 'vexpress-vfio', seed: 1 });
    expect(r.outcome).toBe('panic:oops-in-interrupt');
    expect(r.passed).toBe(true);
    expect(r.interrupts).toBe(0);
    const kinds = r.faults.map((f) => `${f.kind}: ${f.detail}`);
    expect(kinds.some((k) => /^oops: Unable to handle kernel NULL pointer dereference at virtual address 0x00000001: __wake_up_common/.test(k))).toBe(true);
    expect(kinds).toContain('oops-backtrace: __wake_up_common <- __wake_up_locked_key <- eventfd_signal <- vfio_irq_handler <- handle_irq_event_percpu <- handle_irq_event <- handle_fasteoi_irq <- generic_handle_irq <- handle_IRQ <- gic_handle_irq');
    expect(kinds[kinds.length - 1]).toBe('stopped: Kernel panic - not syncing: Fatal exception in interrupt');
    expect(r.kernelLog[r.kernelLog.length - 1]).toMatch(/Kernel panic - not syncing: Fatal exception in interrupt$/);
  });

  it('rfc-v4 (patch 10 fixes the handler): the same program passes, no Oops', () => {
    const r = getScenario('pl330-vfio-test')!.run({ profile: 'rfc-v4', board: 'vexpress-vfio', seed: 1 });
    expect(r.outcome).toBe('pass');
    expect(r.faults.filter((f) => f.kind.startsWith('oops'))).toEqual([]);
  });
});
