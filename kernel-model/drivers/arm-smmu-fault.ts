/**
 * The arm-smmu fault interrupt handlers, as the 2014 driver (drivers/iommu/arm-smmu.c of 3.14) and
 * mainline (v6.12 drivers/iommu/arm/arm-smmu/arm-smmu.c) have them, chosen by capability
 * (`smmuFaultMessages`, `smmuUnhandledFaultReturn`):
 * - arm_smmu_context_fault, one per context bank's interrupt (its dev_id the domain): the bank's
 *   FSR/FSYNR0/FAR (and mainline's CBFRSYNRA) read, report_iommu_fault to the domain's handler,
 *   the ratelimited "Unhandled context fault" lines, FSR written back; the 2014 banks stall
 *   (`smmuContextFaultMode`), so the handler also resumes (retry) or terminates through CB_RESUME;
 * - arm_smmu_global_fault, on the global interrupts: sGFSR/sGFSYNR0-2 read and reported
 *   (mainline names an unmatched stream: "Blocked unknown Stream ID"), sGFSR written back.
 * Each handled fault is also recorded on the SMMU (`contextFaults`, `globalFaults`) for tools and
 * tests. The ArmSmmu class (arm-smmu.ts) requests the interrupts with its `contextFault` /
 * `globalFault` entry points, which call these; register fields are in arm-smmu-regs.ts.
 */
import { ENOSYS } from '../base/errno.js';
import { IOMMU_FAULT_READ, IOMMU_FAULT_WRITE, type Domain } from '../iommu/core.js';
import { IRQ_HANDLED, IRQ_NONE, type IrqReturn } from '../irq/types.js';
import type { ArmSmmu, DomainPriv } from './arm-smmu.js';
import {
  CB_FAR_HI,
  CB_FAR_LO,
  CB_FSR,
  CB_FSYNR0,
  CB_RESUME,
  FSR_AFF,
  FSR_ASF,
  FSR_EF,
  FSR_FAULT,
  FSR_FORMAT_SHIFT,
  FSR_IGN,
  FSR_MULTI,
  FSR_PF,
  FSR_SS,
  FSR_TF,
  FSR_TLBLKF,
  FSR_TLBMCF,
  FSR_UUT,
  FSYNR0_AFR,
  FSYNR0_IND,
  FSYNR0_NSATTR,
  FSYNR0_PLVL_MASK,
  FSYNR0_PNU,
  FSYNR0_PTWF,
  FSYNR0_S1CBNDX_SHIFT,
  FSYNR0_WNR,
  GR0_sGFSR,
  GR0_sGFSYNR0,
  GR0_sGFSYNR1,
  GR0_sGFSYNR2,
  GR1_CBFRSYNRA,
  RESUME_TERMINATE,
  sGFSR_USF,
} from './arm-smmu-regs.js';

/** one context fault the handler saw (arm-smmu.ts `contextFaults`) */
export interface ContextFaultRecord {
  t: number;
  iova: number;
  fsr: number;
  fsynr: number;
  cb: number;
}

/** one global fault the handler saw (arm-smmu.ts `globalFaults`) */
export interface GlobalFaultRecord {
  t: number;
  gfsr: number;
  gfsynr0: number;
  gfsynr1: number;
  gfsynr2: number;
}

/** arm_smmu_context_fault (3.14 drivers/iommu/arm-smmu.c; mainline: contextFaultMainline) */
export function armSmmuContextFault(smmu: ArmSmmu, devId: unknown): IrqReturn {
  const d = devId as Domain;
  const p = d.priv as DomainPriv | null;
  if (!p || p.cbndx < 0) return IRQ_NONE;
  if (smmu.k.profile.caps.smmuFaultMessages === '6.12') return contextFaultMainline(smmu, d, p);
  const base = smmu.cb(p.cbndx);
  const fsr = smmu.rd(base + CB_FSR);
  if (!(fsr & FSR_FAULT)) return IRQ_NONE;
  // FSR_IGN (AFF, ASF, TLBMCF, TLBLKF): a ratelimited complaint, its value printed in decimal
  // after "0x" (the 3.14 format string says "0x%u")
  if (fsr & FSR_IGN && smmu.faultIgnRs.allow(smmu.k.log, smmu.k.now())) smmu.k.log.err(smmu.prefix, `Unexpected context fault (fsr 0x${fsr >>> 0})`);
  const fsynr = smmu.rd(base + CB_FSYNR0);
  const iova = smmu.rd(base + CB_FAR_LO); // 32-bit kernel: the low word only
  const flags = fsynr & FSYNR0_WNR ? IOMMU_FAULT_WRITE : IOMMU_FAULT_READ;
  smmu.contextFaults.push({ t: smmu.k.now(), iova, fsr, fsynr, cb: p.cbndx });
  let ret: IrqReturn;
  let resume: number;
  const devName = d.groups[0]?.devices[0]?.name ?? smmu.dev.name;
  if (d.reportFault(devName, iova, flags) === 0) {
    ret = IRQ_HANDLED;
    resume = 0; // RESUME_RETRY
  } else {
    // dev_err_ratelimited (5 s, burst 10)
    if (smmu.faultRs.allow(smmu.k.log, smmu.k.now())) smmu.k.log.err(smmu.prefix, `Unhandled context fault: iova=0x${hex8(iova)}, fsynr=0x${fsynr.toString(16)}, cb=${p.cbndx}`);
    // 3.14 arm_smmu_context_fault: terminate the stalled transaction and return IRQ_NONE
    // (note_interrupt counts it as unhandled); mainline returns IRQ_HANDLED
    // (capability smmuUnhandledFaultReturn)
    ret = smmu.k.profile.caps.smmuUnhandledFaultReturn === 'irq-none' ? IRQ_NONE : IRQ_HANDLED;
    resume = RESUME_TERMINATE;
  }
  smmu.wr(base + CB_FSR, fsr);
  if (fsr & FSR_SS) smmu.wr(base + CB_RESUME, resume);
  return ret;
}

/**
 * mainline (v6.12) arm_smmu_context_fault: arm_smmu_read_context_fault_info (FAR as a
 * 64-bit read, hi then lo on this 32-bit kernel, truncated to unsigned long; FSR; FSYNR0;
 * GR1 CBFRSYNRA), IRQ_NONE without a fault bit, report_iommu_fault, and for -ENOSYS
 * (no domain handler) under one __ratelimit (5 s, burst 10) arm_smmu_print_context_fault_info's
 * three lines; FSR written back; IRQ_HANDLED. No RESUME: mainline contexts terminate.
 */
function contextFaultMainline(smmu: ArmSmmu, d: Domain, p: DomainPriv): IrqReturn {
  const idx = p.cbndx;
  const base = smmu.cb(idx);
  smmu.rd(base + CB_FAR_HI);
  const iova = smmu.rd(base + CB_FAR_LO);
  const fsr = smmu.rd(base + CB_FSR);
  const fsynr = smmu.rd(base + CB_FSYNR0);
  const cbfrsynra = smmu.rd(smmu.gr1 + GR1_CBFRSYNRA(idx));
  if (!(fsr & FSR_FAULT)) return IRQ_NONE;
  smmu.contextFaults.push({ t: smmu.k.now(), iova, fsr, fsynr, cb: idx });
  const devName = d.groups[0]?.devices[0]?.name ?? smmu.dev.name;
  const ret = d.reportFault(devName, iova, fsynr & FSYNR0_WNR ? IOMMU_FAULT_WRITE : IOMMU_FAULT_READ);
  if (ret === -ENOSYS && smmu.faultRs.allow(smmu.k.log, smmu.k.now())) {
    const log = smmu.k.log;
    const h = (v: number): string => (v >>> 0).toString(16);
    const b = (bit: number, name: string): string => (fsr & bit ? name : '');
    const y = (bit: number, name: string): string => (fsynr & bit ? name : '');
    log.err(smmu.prefix, `Unhandled context fault: fsr=0x${h(fsr)}, iova=0x${hex8(iova)}, fsynr=0x${h(fsynr)}, cbfrsynra=0x${h(cbfrsynra)}, cb=${idx}`);
    log.err(
      smmu.prefix,
      `FSR    = ${hex8(fsr)} [${b(FSR_MULTI, 'MULTI ')}${b(FSR_SS, 'SS ')}Format=${(fsr >>> FSR_FORMAT_SHIFT) & 3}${b(FSR_UUT, ' UUT')}${b(FSR_ASF, ' ASF')}${b(FSR_TLBLKF, ' TLBLKF')}${b(FSR_TLBMCF, ' TLBMCF')}${b(FSR_EF, ' EF')}${b(FSR_PF, ' PF')}${b(FSR_AFF, ' AFF')}${b(FSR_TF, ' TF')}], SID=0x${h(cbfrsynra)}`,
    );
    log.err(
      smmu.prefix,
      `FSYNR0 = ${hex8(fsynr)} [S1CBNDX=${(fsynr >>> FSYNR0_S1CBNDX_SHIFT) & 0xff}${y(FSYNR0_AFR, ' AFR')}${y(FSYNR0_PTWF, ' PTWF')}${y(FSYNR0_NSATTR, ' NSATTR')}${y(FSYNR0_IND, ' IND')}${y(FSYNR0_PNU, ' PNU')}${y(FSYNR0_WNR, ' WNR')} PLVL=${fsynr & FSYNR0_PLVL_MASK}]`,
    );
  }
  smmu.wr(base + CB_FSR, fsr);
  return IRQ_HANDLED;
}

/** arm_smmu_global_fault (3.14 drivers/iommu/arm-smmu.c; mainline: globalFaultMainline) */
export function armSmmuGlobalFault(smmu: ArmSmmu): IrqReturn {
  if (smmu.k.profile.caps.smmuFaultMessages === '6.12') return globalFaultMainline(smmu);
  const gr0 = smmu.gr0;
  const gfsr = smmu.rd(gr0 + GR0_sGFSR);
  if (!gfsr) return IRQ_NONE;
  // 3.14 reads sGFSYNR0-2 (not sGFAR) and prints two dev_err_ratelimited lines, each call site
  // with its own ratelimit state
  const gfsynr0 = smmu.rd(gr0 + GR0_sGFSYNR0);
  const gfsynr1 = smmu.rd(gr0 + GR0_sGFSYNR1);
  const gfsynr2 = smmu.rd(gr0 + GR0_sGFSYNR2);
  smmu.globalFaults.push({ t: smmu.k.now(), gfsr, gfsynr0, gfsynr1, gfsynr2 });
  const log = smmu.k.log;
  if (smmu.globalRs.allow(log, smmu.k.now())) log.err(smmu.prefix, 'Unexpected global fault, this could be serious');
  if (smmu.globalRs2.allow(log, smmu.k.now())) log.err(smmu.prefix, `\tGFSR 0x${hex8(gfsr)}, GFSYNR0 0x${hex8(gfsynr0)}, GFSYNR1 0x${hex8(gfsynr1)}, GFSYNR2 0x${hex8(gfsynr2)}`);
  smmu.wr(gr0 + GR0_sGFSR, gfsr);
  return IRQ_HANDLED;
}

/**
 * mainline (v6.12) arm_smmu_global_fault: sGFSR, sGFSYNR0/1/2 read, IRQ_NONE when sGFSR is
 * 0; under __ratelimit (5 s, burst 10): "Blocked unknown Stream ID 0x<sid>; boot with
 * "arm-smmu.disable_bypass=0" ..." for USF (CONFIG_ARM_SMMU_DISABLE_BYPASS_BY_DEFAULT=y,
 * the model's config, whatever the parameter says), else "Unexpected global fault, this
 * could be serious", then the four registers; sGFSR written back; IRQ_HANDLED.
 */
function globalFaultMainline(smmu: ArmSmmu): IrqReturn {
  const gr0 = smmu.gr0;
  const gfsr = smmu.rd(gr0 + GR0_sGFSR);
  const gfsynr0 = smmu.rd(gr0 + GR0_sGFSYNR0);
  const gfsynr1 = smmu.rd(gr0 + GR0_sGFSYNR1);
  const gfsynr2 = smmu.rd(gr0 + GR0_sGFSYNR2);
  if (!gfsr) return IRQ_NONE;
  smmu.globalFaults.push({ t: smmu.k.now(), gfsr, gfsynr0, gfsynr1, gfsynr2 });
  const log = smmu.k.log;
  if (smmu.globalRs.allow(log, smmu.k.now())) {
    if (gfsr & sGFSR_USF) {
      log.err(smmu.prefix, `Blocked unknown Stream ID 0x${(gfsynr1 & 0xffff).toString(16)}; boot with "arm-smmu.disable_bypass=0" to allow, but this may have security implications`);
    } else {
      log.err(smmu.prefix, 'Unexpected global fault, this could be serious');
    }
    log.err(smmu.prefix, `\tGFSR 0x${hex8(gfsr)}, GFSYNR0 0x${hex8(gfsynr0)}, GFSYNR1 0x${hex8(gfsynr1)}, GFSYNR2 0x${hex8(gfsynr2)}`);
  }
  smmu.wr(gr0 + GR0_sGFSR, gfsr);
  return IRQ_HANDLED;
}

function hex8(v: number): string {
  return (v >>> 0).toString(16).padStart(8, '0');
}
