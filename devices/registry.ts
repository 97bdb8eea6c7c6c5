/**
 * The default device registry: every device model the project ships, by compatible.
 * Tools build machines with `createMachine({ ..., registry: defaultRegistry() })`.
 */
import { DeviceRegistry } from '../emulator/board/registry.js';
import { TEST_DMA_COMPATIBLE, createTestDma } from './testdev/test-dma.js';
import { TEST_IRQ_COMPATIBLE, createTestIrq } from './testdev/test-irq.js';

export function defaultRegistry(): DeviceRegistry {
  const r = new DeviceRegistry();
  r.register(TEST_IRQ_COMPATIBLE, createTestIrq);
  r.register(TEST_DMA_COMPATIBLE, createTestDma);

  // ---- INTEGRATION POINT: the integrator registers the hardware models here -------------
  // (devices/gic, devices/smmu and devices/pl330 are built in parallel), e.g.:
  //   r.register('arm,gic-400', createGic400);           // devices/gic
  //   r.register('arm,mmu-400', createSmmu);             // devices/smmu
  //   r.register('arm,smmu-v1', createSmmu);
  //   r.register('arm,pl330', createPl330);              // devices/pl330
  // ------------------------------------------------------------------------------------------
  return r;
}
