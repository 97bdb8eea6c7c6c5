/**
 * Where guest-tests/sh/setup-and-test.sh stopped, as an expected-matrix outcome
 * (tools/scenarios/expected.ts), read from what the run shows: the script's and the C
 * pl330-vfio-test's output, the kernel log and the run's end. The rule is the one the stub
 * matrix applies to the TypeScript program's steps (tools/scenarios/pl330.ts deriveOutcome):
 * the first step, in the program's order, that failed, even where the program goes on
 * (an unchecked open of the group, a failed mmap of the register region).
 */
import type { Outcome } from '../scenarios/expected.js';
import type { UnicornRunResult } from './run.js';

/** the run's fields the classification reads */
export type ShOutcomeInput = Pick<UnicornRunResult, 'stdout' | 'exitStatus' | 'exitReport' | 'interrupts' | 'kernelLog'>;

export function shScriptOutcome(r: ShOutcomeInput): Outcome {
  const out = r.stdout;
  const log = r.kernelLog.join('\n');
  // patch 09's handler Oopses in interrupt context: the kernel panics, the machine stops
  if (/Kernel panic - not syncing: Fatal exception in interrupt/.test(log)) return 'panic:oops-in-interrupt';
  if (/interrupt storm|nobody cared/i.test(r.exitReport)) return 'stop:interrupt-storm';
  if (out.includes("Doesn't support the IOMMU driver we want")) return 'stop:check-extension';
  // the script reports a group without its character device (the program's open() of it is
  // unchecked, as in the original, so the program itself says "not viable")
  if (/^no \/dev\/vfio\/\d+$/m.test(out)) return 'stop:no-group';
  if (out.includes('Group is not viable')) return 'stop:not-viable';
  if (out.includes('Could not map DMA memory')) {
    // the program ignores SET_IOMMU's result; the kernel says why it refused the attach
    // (vfio_iommu_type1_attach_group, drivers/vfio/vfio_iommu_type1.c)
    return log.includes('No interrupt remapping support') ? 'stop:set-iommu' : 'stop:map-dma';
  }
  if (/^Could not get VFIO device$/m.test(out)) return 'stop:device-info';
  if (!out.includes('=== VFIO device file descriptor')) return r.exitStatus === null ? 'timeout' : 'stop:device-fd';
  if (/^Couldn't get region \d+ info$/m.test(out)) return 'stop:region-info';
  if (!out.includes('  - Successful MMAP to address')) return 'stop:mmap';
  if (/^Couldn't get IRQ \d+ info$/m.test(out)) return 'stop:irq-info';
  if (out.includes('Failure in vfio_irqfd_init for IRQ 0')) return 'stop:set-irqs';
  if (out.includes("IRQ 0 shouldn't trigger yet.")) return 'stop:irq-not-quiet';
  if (/^no interrupt within /m.test(out)) return 'stop:no-interrupt';
  if (out.includes('test failed!')) return 'fail:data-mismatch';
  if (r.exitStatus === null) return 'timeout';
  if (r.exitStatus > 128) return 'crash';
  if (r.exitStatus !== 0) return 'fail:exit-status';
  return r.interrupts === 1 ? 'pass' : 'stop:no-interrupt';
}
