import { PhysicalBus } from '../../emulator/bus.js';
import { Cpu } from '../../emulator/cpu/cpu.js';
import { IrqLine } from '../../emulator/irq.js';
import { Scheduler } from '../../emulator/scheduler.js';
import { Tracer } from '../../emulator/trace.js';
import { Gic400 } from '../../devices/gic/gic.js';
import { TestIrqDevice } from '../../devices/gic/testing/test-irq.js';
import { HwAccess } from '../../kernel-model/base/hw.js';
import { KernelLog } from '../../kernel-model/base/klog.js';
import { IrqCore, type IrqCoreOptions } from '../../kernel-model/irq/core.js';
import { parseProfile } from '../../kernel-model/profile.js';

/** Default-board addresses used by the hand-built fixture. */
export const GICD_BASE = 0x2c001000;
export const GICC_BASE = 0x2c002000;
export const TEST_IRQ_BASE = 0x2c0c0000;
/** the test IRQ source: SPI 98 (ID 130), level high */
export const TEST_IRQ_SPEC = [0, 98, 4] as const;

export interface IrqMachine {
  scheduler: Scheduler;
  tracer: Tracer;
  bus: PhysicalBus;
  cpu: Cpu;
  gic: Gic400;
  line: IrqLine;
  testIrq: TestIrqDevice;
  hw: HwAccess;
  log: KernelLog;
  core: IrqCore;
}

/**
 * Scheduler + bus + CPU + GIC-400 + the test IRQ device (its line on SPI 98), and an
 * IrqCore talking to the GIC through MMIO, with the capabilities of `profile` (default
 * 'rfc-v4', the System's default). Boots the core unless `boot: false`.
 */
export function buildIrqMachine(opts: { boot?: boolean; trace?: boolean; profile?: string; core?: Partial<IrqCoreOptions> } = {}): IrqMachine {
  const scheduler = new Scheduler();
  const tracer = new Tracer(() => scheduler.now, opts.trace ?? false);
  const bus = new PhysicalBus();
  const cpu = new Cpu(scheduler, tracer);
  const gic = new Gic400({ numIrqs: 160, name: '2c001000.interrupt-controller', tracer });
  bus.addMmio('gicd', GICD_BASE, 0x1000, gic.distributor);
  bus.addMmio('gicc', GICC_BASE, 0x2000, gic.cpuInterface);
  gic.output.connect(cpu.irqInput);
  const line = new IrqLine('2c0c0000.test-irq', tracer);
  line.connect(gic.input(32 + TEST_IRQ_SPEC[1]));
  const testIrq = new TestIrqDevice('2c0c0000.test-irq', line);
  bus.addMmio('test-irq', TEST_IRQ_BASE, 0x1000, testIrq);
  const hw = new HwAccess(bus, cpu);
  const log = new KernelLog(() => scheduler.now, tracer);
  const core = new IrqCore({
    hw, cpu, scheduler, log, tracer,
    caps: parseProfile(opts.profile ?? 'rfc-v4').caps,
    gic: { distBase: GICD_BASE, cpuBase: GICC_BASE, numIrqs: 160 },
    ...(opts.core ?? {}),
  });
  if (opts.boot ?? true) core.boot();
  return { scheduler, tracer, bus, cpu, gic, line, testIrq, hw, log, core };
}
