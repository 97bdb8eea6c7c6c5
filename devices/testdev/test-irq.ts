/**
 * "vfio-arm-emu,test-irq": a test interrupt source (docs/BOARDS.md).
 *
 * Registers (32-bit accesses only; other sizes get a slave error):
 *   0x0 LEVEL  write: bit 0 = 1 raises the interrupt line, 0 lowers it; read: current level
 *   0x4 PULSE  write 1: an edge (raise and lower at the same virtual time); reads 0
 *   0x8 ID     read: 0x54495251 ("TIRQ"); writes ignored
 * Other offsets read as zero and ignore writes.
 */
import { BUS_OK, SIZE_4, type MmioDevice } from '../../emulator/bus.js';
import type { DeviceContext, DeviceInstance } from '../../emulator/board/types.js';
import type { DtNode } from '../../emulator/dt/types.js';
import type { IrqLine } from '../../emulator/irq.js';

export const TEST_IRQ_COMPATIBLE = 'vfio-arm-emu,test-irq';
export const TEST_IRQ_LEVEL = 0x0;
export const TEST_IRQ_PULSE = 0x4;
export const TEST_IRQ_ID = 0x8;
export const TEST_IRQ_ID_VALUE = 0x54495251;

export class TestIrqDevice implements MmioDevice, DeviceInstance {
  readonly accessSizes = SIZE_4;
  readonly mmio: (MmioDevice | null)[];
  readonly node: DtNode;

  constructor(
    readonly name: string,
    readonly line: IrqLine,
    ctx: Pick<DeviceContext, 'node'>,
  ) {
    this.node = ctx.node;
    this.mmio = [this];
  }

  read(offset: number, _size?: number, _attrs?: number): number {
    switch (offset) {
      case TEST_IRQ_LEVEL: return this.line.level ? 1 : 0;
      case TEST_IRQ_ID: return TEST_IRQ_ID_VALUE;
      default: return 0;
    }
  }

  write(offset: number, _size: number, value: number): number {
    if (offset === TEST_IRQ_LEVEL) this.line.set((value & 1) !== 0);
    else if (offset === TEST_IRQ_PULSE && (value & 1) !== 0) this.line.pulse();
    return BUS_OK;
  }

  reset(): void {
    this.line.lower();
  }
}

export function createTestIrq(ctx: DeviceContext): DeviceInstance {
  const line = ctx.irqs[0];
  if (line === undefined) throw new Error(`${TEST_IRQ_COMPATIBLE} needs one interrupt`);
  return new TestIrqDevice(ctx.name, line, ctx);
}
