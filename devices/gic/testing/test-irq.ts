import { BUS_OK, SIZE_4, type MmioDevice } from '../../../emulator/bus.js';
import type { DeviceContext, DeviceFactory, DeviceInstance } from '../../../emulator/board/types.js';
import type { IrqLine } from '../../../emulator/irq.js';

/**
 * The test IRQ source ("vfio-arm-emu,test-irq"): register 0x0, write 1 raises and 0
 * lowers the interrupt line; reads return the line level. Other offsets RAZ/WI.
 */
export class TestIrqDevice implements MmioDevice {
  readonly accessSizes = SIZE_4;
  writes = 0;
  constructor(
    readonly name: string,
    readonly line: IrqLine,
  ) {}

  read(off: number): number {
    return off === 0 ? (this.line.level ? 1 : 0) : 0;
  }

  write(off: number, _size: number, value: number): number {
    if (off === 0) {
      this.writes++;
      this.line.set((value & 1) !== 0);
    }
    return BUS_OK;
  }
}

export const testIrqFactory: DeviceFactory = (ctx: DeviceContext): DeviceInstance => {
  const line = ctx.irqs[0];
  if (!line) throw new RangeError(`${ctx.name}: test-irq needs one interrupt`);
  const dev = new TestIrqDevice(ctx.name, line);
  return { name: ctx.name, node: ctx.node, mmio: [dev], reset: () => line.lower() };
};
