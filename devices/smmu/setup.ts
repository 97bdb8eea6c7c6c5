import * as R from './regs.js';
import type { Smmu } from './smmu.js';

/**
 * The minimal register programming of one stage-1 context, as a driver would do it through
 * MMIO: SMR 0 matches `streamId`, S2CR 0 translates through context bank 0 (stage 1, stage-2
 * bypass), TTBR0 = `pgd` with the LPAE format, translation on, then the SMMU enabled.
 * Used by benchmarks and tools that drive the SMMU without the kernel model.
 */
export function programStage1Context(smmu: Smmu, streamId: number, pgd: number): void {
  smmu.write(R.GR0_SMR, 4, (R.SMR_VALID | streamId) >>> 0, 0);
  smmu.write(R.GR0_S2CR, 4, 0, 0);
  smmu.write(0x1000, 4, R.CBAR_TYPE_S1_S2BYPASS << R.CBAR_TYPE_SHIFT, 0);
  smmu.write(0x8000 + R.CB_TTBR0_LO, 4, pgd >>> 0, 0);
  smmu.write(0x8000 + R.CB_TTBCR, 4, R.TTBCR_EAE >>> 0, 0);
  smmu.write(0x8000 + R.CB_SCTLR, 4, R.SCTLR_M, 0);
  smmu.write(R.GR0_SCR0, 4, 0, 0);
}
