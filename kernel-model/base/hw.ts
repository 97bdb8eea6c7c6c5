import { ATTR_PRIV, makeAttrs, type Attrs } from '../../emulator/attrs.js';
import { busStatusName, type PhysicalBus } from '../../emulator/bus.js';
import type { Cpu } from '../../emulator/cpu/cpu.js';
import { KernelOops } from './oops.js';

/**
 * How kernel code touches hardware: loads and stores on the bus, issued by the CPU in
 * privileged mode, each charged to the CPU's current step (costs.mmioAccess). A bus
 * error on a device access is an external abort in kernel context: a KernelOops.
 *
 * Kernel-model code never holds a reference to a device model; it knows only physical
 * addresses (from the device tree) and this interface.
 */
export class HwAccess {
  readonly attrs: Attrs = makeAttrs({ priv: true, ns: true }) | ATTR_PRIV;
  /** MMIO accesses made (statistics) */
  accesses = 0;

  constructor(
    readonly bus: PhysicalBus,
    readonly cpu: Cpu,
  ) {}

  private abort(pa: number, size: number, st: number, write: boolean): never {
    throw new KernelOops('external-abort', pa, `${write ? 'write' : 'read'}${size * 8} ${busStatusName(st)}`);
  }

  read(pa: number, size: 1 | 2 | 4): number {
    this.accesses++;
    this.cpu.charge(this.cpu.costs.mmioAccess);
    const v = this.bus.read(pa, size, this.attrs);
    if (v < 0) this.abort(pa, size, v, false);
    return v;
  }

  write(pa: number, size: 1 | 2 | 4, value: number): void {
    this.accesses++;
    this.cpu.charge(this.cpu.costs.mmioAccess);
    const st = this.bus.write(pa, size, value, this.attrs);
    if (st < 0) this.abort(pa, size, st, true);
  }

  readl(pa: number): number {
    return this.read(pa, 4);
  }

  writel(value: number, pa: number): void {
    this.write(pa, 4, value);
  }

  /** bus status of an access without raising (for drivers that probe) */
  tryRead(pa: number, size: 1 | 2 | 4): number {
    this.accesses++;
    this.cpu.charge(this.cpu.costs.mmioAccess);
    return this.bus.read(pa, size, this.attrs);
  }
}
