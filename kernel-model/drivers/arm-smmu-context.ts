/**
 * The arm-smmu driver's register sequences for one context bank, per kernel: programming the
 * bank (capability `smmuCbProgramming`: 3.14 arm_smmu_init_context_bank / v6.12
 * arm_smmu_write_context_bank), the TLB maintenance (`smmuTlbInvalidation`: 3.14
 * arm_smmu_tlb_inv_context / v6.12 arm_smmu_tlb_inv_range_s1, arm_smmu_tlb_sync_context) and
 * v6.12's hardware address translation (arm_smmu_iova_to_phys_hard). `ArmSmmu` (arm-smmu.ts)
 * decides when each runs; these only touch the SMMU's registers through its accessors.
 */
import { LPAE_MAIR0 } from '../iommu/io-pgtable-arm.js';
import type { KernelLog } from '../base/klog.js';
import type { Capabilities } from '../capabilities.js';
import type { SmmuPgtable } from '../iommu/io-pgtable-arm.js';
import { ARM_SMMU_314_MAIR0 } from './arm-smmu-pgtable.js';
import {
  CBAR_IRPTNDX_SHIFT,
  CBAR_S1_BPSHCFG_NSH,
  CBAR_S1_MEMATTR_WB,
  CBAR_TYPE_S1_TRANS_S2_BYPASS,
  CBAR_TYPE_S2_TRANS,
  CBAR_VMID_SHIFT,
  GR0_TLBIVMID,
  TTBCR_SL0_LVL_1,
  CB_ATS1PR,
  CB_ATSR,
  CB_MAIR0,
  CB_MAIR1,
  CB_PAR_F,
  CB_PAR_HI,
  CB_PAR_LO,
  CB_SCTLR,
  CB_TLBIASID,
  CB_TLBSTATUS,
  CB_TLBSYNC,
  CB_TTBCR,
  CB_TTBR0_HI,
  CB_TTBR0_LO,
  CB_TTBR1_HI,
  CB_TTBR1_LO,
  GR0_sTLBGSTATUS,
  GR0_sTLBGSYNC,
  GR1_CBAR,
  QCOM_DUMMY_VAL,
  SCTLR_AFE,
  SCTLR_ASIDPNE,
  SCTLR_CFCFG,
  SCTLR_CFIE,
  SCTLR_CFRE,
  SCTLR_M,
  SCTLR_TRE,
  TCR_T0SZ_64_MINUS_32,
  TTBCR_EAE,
  TTBCR_EPD1,
  TTBCR_IRGN0_WBWA,
  TTBCR_ORGN0_WBWA,
  TTBCR_SH0_IS,
} from './arm-smmu-regs.js';

/** what these sequences need of the SMMU instance (ArmSmmu) */
export interface SmmuRegs {
  readonly gr0: number;
  readonly gr1: number;
  cb(n: number): number;
  rd(pa: number): number;
  wr(pa: number, v: number): void;
  readonly coherentWalk: boolean;
  readonly prefix: string;
  readonly k: { readonly log: KernelLog; readonly profile: { readonly caps: Readonly<Capabilities> } };
}

/** the bounded poll of a TLB sync */
const TLB_SYNC_POLLS = 1000;

/** TCR SH0 outer-shareable (io-pgtable-arm without a coherent walk: ARM_LPAE_TCR_SH_OS, RGN non-cacheable) */
const TCR_SH0_OS = 2 << 12;

/** v6.12 TLB maintenance by VA with context syncs (`smmuTlbInvalidation` 'va') */
export function vaTlbi(s: SmmuRegs): boolean {
  return s.k.profile.caps.smmuTlbInvalidation === 'va';
}

/**
 * __arm_smmu_tlb_sync: the sync write (3.14 writes 0, v6.12 QCOM_DUMMY_VAL) and a bounded poll
 * of the status register's active bit; a timeout logs "TLB sync timed out -- SMMU may be
 * deadlocked"
 */
function syncPoll(s: SmmuRegs, sync: number, status: number): void {
  s.wr(sync, vaTlbi(s) ? QCOM_DUMMY_VAL : 0);
  for (let i = 0; i < TLB_SYNC_POLLS; i++) {
    if ((s.rd(status) & 1) === 0) return;
  }
  s.k.log.err(s.prefix, 'TLB sync timed out -- SMMU may be deadlocked');
}

/** the global sync (sTLBGSYNC, sTLBGSTATUS): 3.14 after every invalidation, v6.12 arm_smmu_tlb_sync_global */
export function tlbSyncGlobal(s: SmmuRegs): void {
  syncPoll(s, s.gr0 + GR0_sTLBGSYNC, s.gr0 + GR0_sTLBGSTATUS);
}

/** v6.12 arm_smmu_tlb_sync_context: CBn_TLBSYNC, then poll CBn_TLBSTATUS.SACTIVE */
export function tlbSyncContext(s: SmmuRegs, cb: number): void {
  const base = s.cb(cb);
  syncPoll(s, base + CB_TLBSYNC, base + CB_TLBSTATUS);
}

/**
 * A stage-2 context's invalidation on an SMMUv1, both eras: TLBIVMID (GR0) of the VMID and a
 * global sync (3.14 arm_smmu_tlb_inv_context's stage-2 branch; v6.12 arm_smmu_tlb_inv_context_s2,
 * also its tlb_flush_walk on v1, arm_smmu_tlb_inv_walk_s2_v1)
 */
export function tlbInvVmid(s: SmmuRegs, vmid: number): void {
  s.wr(s.gr0 + GR0_TLBIVMID, vmid);
  tlbSyncGlobal(s);
}

/** v6.12 arm_smmu_tlb_add_page_s2_v1: TLBIVMID alone (the sync comes with iotlb_sync: a global sync for stage 2 on v1) */
export function tlbAddPageVmid(s: SmmuRegs, vmid: number): void {
  s.wr(s.gr0 + GR0_TLBIVMID, vmid);
}

/** 3.14 arm_smmu_tlb_inv_context: TLBIASID (ASID = cbndx) and a global sync */
export function tlbInvAsid(s: SmmuRegs, cb: number): void {
  s.wr(s.cb(cb) + CB_TLBIASID, cb);
  tlbSyncGlobal(s);
}

/**
 * v6.12 arm_smmu_tlb_inv_range_s1 for the AArch32 formats: one write of `reg` (TLBIVA or
 * TLBIVAL) per granule, the value the IOVA's page address with the ASID (= cbndx) in its low bits
 */
export function tlbInvRange(s: SmmuRegs, cb: number, iova: number, size: number, granule: number, reg: number): void {
  const addr = s.cb(cb) + reg;
  let v = iova - (iova % 4096);
  for (let done = 0; done < size; done += granule, v += granule) s.wr(addr, (v + cb) >>> 0);
}

/**
 * The bank's registers for a stage-1 context (CBAR type 1: stage 1, stage 2 bypass; MEMATTR WB,
 * BPSHCFG NSH, IRPTNDX; ASID = cbndx), per kernel:
 * - 3.14 arm_smmu_init_context_bank: CBAR, TTBR0_LO, TTBR0_HI (ASID in [23:16]), TTBCR = EAE |
 *   SH0 IS | ORGN0/IRGN0 WBWA | SL0 level 1 (T0SZ 0), MAIR0 0x0004ff44 (no MAIR1), SCTLR with CFCFG
 *   (`smmuContextFaultMode` 'stall': faults stall until CB_RESUME).
 * - v6.12 arm_smmu_init_context_bank + arm_smmu_write_context_bank, AArch32 long-descriptor
 *   format on an SMMUv1 (no CBA2R, no TCR2): CBAR; TCR = arm_smmu_lpae_tcr | EAE: TG0 4K,
 *   SH0/ORGN0/IRGN0 from io-pgtable-arm's coherent-walk choice (inner-shareable write-back,
 *   else outer-shareable non-cacheable), T0SZ = 64 - ias = 32 in the driver's 6-bit field,
 *   EPD1; TTBR0 = ASID << 48 | pgd and TTBR1 = ASID << 48, each written with writeq
 *   (io-64-nonatomic-hi-lo: high word first); MAIR0/MAIR1 = io-pgtable-arm's MAIR; SCTLR
 *   without CFCFG (terminate).
 * SCTLR otherwise CFIE | CFRE | AFE | TRE | M | S1_ASIDPNE in both.
 */
export function programContextBank(s: SmmuRegs, cb: number, pt: SmmuPgtable, irptndx: number, s2: Stage2Cfg | null = null): void {
  if (s2 !== null) {
    programStage2Bank(s, cb, pt, irptndx, s2);
    return;
  }
  const caps = s.k.profile.caps;
  s.wr(s.gr1 + GR1_CBAR(cb), CBAR_TYPE_S1_TRANS_S2_BYPASS | (irptndx << CBAR_IRPTNDX_SHIFT) | CBAR_S1_BPSHCFG_NSH | CBAR_S1_MEMATTR_WB);
  const base = s.cb(cb);
  const pgdHi = (Math.floor(pt.pgd / 2 ** 32) & 0xff) | (cb << 16);
  if (caps.smmuCbProgramming === 'write-context-bank') {
    const walk = s.coherentWalk ? TTBCR_SH0_IS | TTBCR_ORGN0_WBWA | TTBCR_IRGN0_WBWA : TCR_SH0_OS;
    s.wr(base + CB_TTBCR, TTBCR_EAE | TTBCR_EPD1 | walk | TCR_T0SZ_64_MINUS_32);
    s.wr(base + CB_TTBR0_HI, pgdHi);
    s.wr(base + CB_TTBR0_LO, pt.pgd >>> 0);
    s.wr(base + CB_TTBR1_HI, cb << 16);
    s.wr(base + CB_TTBR1_LO, 0);
  } else {
    s.wr(base + CB_TTBR0_LO, pt.pgd >>> 0);
    s.wr(base + CB_TTBR0_HI, pgdHi);
    // 3.14 writes SL0 = level 1 for every context, stage 1 included (bit 6, reserved in a
    // stage-1 TTBCR: no effect), and no EPD1 (T0SZ = T1SZ = 0: TTBR0 translates every address);
    // SL0 became stage-2 only with "iommu/arm-smmu: fix programming of SMMU_CBn_TCR for stage 1"
    s.wr(base + CB_TTBCR, TTBCR_EAE | TTBCR_SH0_IS | TTBCR_ORGN0_WBWA | TTBCR_IRGN0_WBWA | TTBCR_SL0_LVL_1);
  }
  // MAIR0: 3.14 arm_smmu_init_context_bank's NC/WB/device; mainline io-pgtable-arm's, which
  // adds inner-non-cacheable/outer-WB at index 3 (arm_64_lpae_alloc_pgtable_s1)
  s.wr(base + CB_MAIR0, caps.smmuPgtable === 'arm-smmu-3.14' ? ARM_SMMU_314_MAIR0 : LPAE_MAIR0);
  // MAIR1: v6.12 writes io-pgtable's upper word (0: four attributes fit MAIR0); 3.14 writes
  // MAIR0 only ("MAIR0 (stage-1 only)")
  if (caps.smmuCbProgramming === 'write-context-bank') s.wr(base + CB_MAIR1, 0);
  const cfcfg = caps.smmuContextFaultMode === 'stall' ? SCTLR_CFCFG : 0;
  s.wr(base + CB_SCTLR, SCTLR_M | SCTLR_TRE | SCTLR_AFE | SCTLR_CFRE | SCTLR_CFIE | cfcfg | SCTLR_ASIDPNE);
}

/** a stage-2 context's VMID (both eras: cbndx + 1, ARM_SMMU_CB_VMID / cfg->vmid) and, for v6.12, the io-pgtable's VTCR */
export interface Stage2Cfg {
  vmid: number;
  /** v6.12: arm_smmu_lpae_vtcr of the ARM_32_LPAE_S2 table (LpaeS2Pgtable.vtcr); unused by 3.14 */
  vtcr: number;
}

/**
 * The bank's registers for a stage-2 context (CBAR type 0 with the VMID; no ASID, no MAIR, no
 * TTBR1), per kernel:
 * - 3.14 arm_smmu_init_context_bank with stage1 false: CBAR = S2_TRANS | IRPTNDX | VMID; TTBR0_LO,
 *   TTBR0_HI (the pgd's high bits, no ASID); TTBCR = EAE | SH0 IS | ORGN0/IRGN0 WBWA | SL0 level 1
 *   (T0SZ 0 on an SMMUv1: a 32-bit IPA, the same 4-entry pgd as stage 1); no MAIR ("stage-1
 *   only"); SCTLR = CFCFG | CFIE | CFRE | M | EAE_SBOP (AFE | TRE), without S1_ASIDPNE.
 * - v6.12 arm_smmu_init_context_bank (cb->tcr[0] = arm_smmu_lpae_vtcr, cb->ttbr[0] = the vttbr)
 *   + arm_smmu_write_context_bank: CBAR = S2_TRANS | IRPTNDX | VMID (no VMID16 on v1); TCR = the
 *   VTCR; TTBR0 with writeq (high word first); no TTBR1, no MAIRs; SCTLR = CFIE | CFRE | AFE | TRE |
 *   M (no S1_ASIDPNE, no CFCFG).
 */
function programStage2Bank(s: SmmuRegs, cb: number, pt: SmmuPgtable, irptndx: number, s2: Stage2Cfg): void {
  const caps = s.k.profile.caps;
  s.wr(s.gr1 + GR1_CBAR(cb), CBAR_TYPE_S2_TRANS | (irptndx << CBAR_IRPTNDX_SHIFT) | (s2.vmid << CBAR_VMID_SHIFT));
  const base = s.cb(cb);
  const pgdHi = Math.floor(pt.pgd / 2 ** 32) & 0xff;
  if (caps.smmuCbProgramming === 'write-context-bank') {
    s.wr(base + CB_TTBCR, s2.vtcr);
    s.wr(base + CB_TTBR0_HI, pgdHi);
    s.wr(base + CB_TTBR0_LO, pt.pgd >>> 0);
  } else {
    s.wr(base + CB_TTBR0_LO, pt.pgd >>> 0);
    s.wr(base + CB_TTBR0_HI, pgdHi);
    s.wr(base + CB_TTBCR, TTBCR_EAE | TTBCR_SH0_IS | TTBCR_ORGN0_WBWA | TTBCR_IRGN0_WBWA | TTBCR_SL0_LVL_1);
  }
  const cfcfg = caps.smmuContextFaultMode === 'stall' ? SCTLR_CFCFG : 0;
  s.wr(base + CB_SCTLR, SCTLR_M | SCTLR_TRE | SCTLR_AFE | SCTLR_CFRE | SCTLR_CFIE | cfcfg);
}

function hex8(v: number): string {
  return (v >>> 0).toString(16).padStart(8, '0');
}

/**
 * v6.12 arm_smmu_iova_to_phys_hard, AArch32 format: ATS1PR of the page address (writel), poll
 * ATSR.ACTIVE (readl_poll_timeout_atomic, 5 us steps, 50 us: on timeout "iova to phys timed
 * out on %pad. Falling back to software table walk." and the software walk), read PAR with
 * readq (high word first); PAR.F: "translation fault!" and "PAR = 0x%llx", answer 0 (none
 * here); else PAR[39:12] with the IOVA's page offset
 */
export function iovaToPhysHard(s: SmmuRegs, cb: number, pt: SmmuPgtable, iova: number): number | null {
  const base = s.cb(cb);
  s.wr(base + CB_ATS1PR, (iova - (iova % 4096)) >>> 0);
  // eleven reads at most (0, 5, ..., 50 us); the udelay between them is not modelled (this
  // SMMU completes a translation operation before the next register access)
  let done = false;
  for (let t = 0; t <= 50 && !done; t += 5) done = (s.rd(base + CB_ATSR) & 1) === 0;
  if (!done) {
    s.k.log.err(s.prefix, `iova to phys timed out on 0x${hex8(iova)}. Falling back to software table walk.`);
    return pt.iovaToPhys(iova);
  }
  const hi = s.rd(base + CB_PAR_HI) >>> 0;
  const lo = s.rd(base + CB_PAR_LO) >>> 0;
  if ((lo & CB_PAR_F) !== 0) {
    s.k.log.err(s.prefix, 'translation fault!');
    s.k.log.err(s.prefix, `PAR = 0x${(hi * 2 ** 32 + lo).toString(16)}`);
    return null;
  }
  return (hi & 0xff) * 2 ** 32 + ((lo & 0xfffff000) >>> 0) + (iova % 4096);
}
