/**
 * The default device registry: every device model the project ships, by compatible.
 * Tools build machines with `createMachine({ ..., registry: defaultRegistry() })`.
 */
import { DeviceRegistry } from '../emulator/board/registry.js';
import { TEST_DMA_COMPATIBLE, createTestDma } from './testdev/test-dma.js';
import { TEST_IRQ_COMPATIBLE, createTestIrq } from './testdev/test-irq.js';
import { GIC_COMPATIBLES, gicFactory } from './gic/index.js';
import { SMMU_COMPATIBLES, smmuFactory } from './smmu/index.js';
import { pl330Factory } from './pl330/index.js';

export function defaultRegistry(): DeviceRegistry {
  const r = new DeviceRegistry();
  r.register(TEST_IRQ_COMPATIBLE, createTestIrq);
  r.register(TEST_DMA_COMPATIBLE, createTestDma);

  for (const c of GIC_COMPATIBLES) r.register(c, gicFactory);
  for (const c of SMMU_COMPATIBLES) r.register(c, smmuFactory);
  r.register('arm,pl330', pl330Factory);
  return r;
}
