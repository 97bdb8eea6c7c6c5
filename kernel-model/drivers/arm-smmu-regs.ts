/**
 * The SMMU register layout the arm-smmu driver programs (the 2014 drivers/iommu/arm-smmu.c
 * defines; mainline keeps them in drivers/iommu/arm/arm-smmu/arm-smmu.h): offsets in the
 * global register spaces GR0/GR1 and in a context bank, and their fields, as the ARM SMMU
 * architecture specification (ARM IHI 0062, SMMUv1/v2) names them.
 */
// GR0
export const GR0_sCR0 = 0x000;
export const GR0_sIDR0 = 0x020;
/** peripheral ID 2: ARCHITECTURE [7:4] (3.14 reads the SMMU version there) */
export const GR0_PIDR2 = 0xfe8;
export const GR0_sIDR1 = 0x024;
export const GR0_sIDR2 = 0x028;
export const GR0_sGFAR = 0x040;
export const GR0_sGFSR = 0x048;
export const GR0_sGFSYNR0 = 0x050;
export const GR0_sGFSYNR1 = 0x054;
export const GR0_STLBIALL = 0x060;
export const GR0_TLBIALLNSNH = 0x068;
export const GR0_TLBIALLH = 0x06c;
export const GR0_sTLBGSYNC = 0x070;
export const GR0_sTLBGSTATUS = 0x074;
export const GR0_SMR = (n: number): number => 0x800 + 4 * n;
export const GR0_S2CR = (n: number): number => 0xc00 + 4 * n;
// GR1
export const GR1_CBAR = (n: number): number => 4 * n;
// context bank
export const CB_SCTLR = 0x000;
export const CB_RESUME = 0x008;
export const CB_TTBR0_LO = 0x020;
export const CB_TTBR0_HI = 0x024;
export const CB_TTBCR = 0x030;
export const CB_MAIR0 = 0x038;
export const CB_MAIR1 = 0x03c;
export const CB_FSR = 0x058;
export const CB_FAR_LO = 0x060;
export const CB_FAR_HI = 0x064;
export const CB_FSYNR0 = 0x068;
export const CB_TLBIVA = 0x600;
export const CB_TLBIASID = 0x610;
/** ARM_SMMU_CB_TTBR1 (64-bit; mainline writes it with writeq, high word first) */
export const CB_TTBR1_LO = 0x028;
export const CB_TTBR1_HI = 0x02c;
/** ARM_SMMU_CB_PAR (64-bit; mainline reads it with readq, high word first) */
export const CB_PAR_LO = 0x050;
export const CB_PAR_HI = 0x054;
/** ARM_SMMU_CB_PAR_F */
export const CB_PAR_F = 1;
/** ARM_SMMU_CB_S1_TLBIVAL */
export const CB_TLBIVAL = 0x620;
/** ARM_SMMU_CB_TLBSYNC, ARM_SMMU_CB_TLBSTATUS (bit 0 SACTIVE, as sTLBGSTATUS.GSACTIVE) */
export const CB_TLBSYNC = 0x7f0;
export const CB_TLBSTATUS = 0x7f4;
/** ARM_SMMU_CB_ATS1PR, ARM_SMMU_CB_ATSR (bit 0 ACTIVE) */
export const CB_ATS1PR = 0x800;
export const CB_ATSR = 0x8f0;
/** mainline arm-smmu.h QCOM_DUMMY_VAL (-1): what __arm_smmu_tlb_sync writes to a sync register */
export const QCOM_DUMMY_VAL = 0xffffffff;
/** mainline ARM_SMMU_TCR_T0SZ is GENMASK(5, 0): io-pgtable-arm's tsz = 64 - ias = 32 lands in bits [5:3], above the AArch32 TTBCR's 3-bit T0SZ */
export const TCR_T0SZ_64_MINUS_32 = 32;
export const CB_TLBIALL = 0x618;

export const sCR0_CLIENTPD = 1 << 0;
export const sCR0_GFRE = 1 << 1;
export const sCR0_GFIE = 1 << 2;
export const sCR0_GCFGFRE = 1 << 4;
export const sCR0_GCFGFIE = 1 << 5;
export const sCR0_USFCFG = 1 << 10;
export const sCR0_VMIDPNE = 1 << 11;
export const sCR0_PTM = 1 << 12;
export const sCR0_FB = 1 << 13;
export const sCR0_BSU_MASK = 3 << 14;

export const ID0_S1TS = 1 << 30;
export const ID0_S2TS = 1 << 29;
export const ID0_NTS = 1 << 28;
export const ID0_SMS = 1 << 27;
export const ID0_CTTW = 1 << 14;
/** sIDR0.PTFS [25:24]: bit 25 no AArch32 long descriptors (3.14 ID0_PTFS_V8_ONLY), bit 24 no AArch32 short descriptors (mainline ARM_SMMU_ID0_PTFS_NO_AARCH32S) */
export const ID0_PTFS_NO_AARCH32 = 1 << 25;
export const ID0_PTFS_NO_AARCH32S = 1 << 24;
/** sIDR0.NUMSIDB [12:9]: stream ID bits */
export const ID0_NUMSIDB_SHIFT = 9;

export const SMR_VALID = 1 << 31;
export const S2CR_TYPE_TRANS = 0 << 16;
export const S2CR_TYPE_BYPASS = 1 << 16;

export const CBAR_TYPE_S1_TRANS_S2_BYPASS = 1 << 16;
/** CBAR_TYPE_S2_TRANS (type 0: a stage-2 context); its CBAR carries the VMID in [7:0] */
export const CBAR_TYPE_S2_TRANS = 0 << 16;
export const CBAR_TYPE_MASK = 3 << 16;
export const CBAR_VMID_SHIFT = 0;
/** ARM_SMMU_GR0_TLBIVMID: invalidate a VMID's entries (the stage-2 invalidation on an SMMUv1) */
export const GR0_TLBIVMID = 0x064;
/** 3.14 TTBCR_SL0_LVL_1 at TTBCR_SL0_SHIFT 6 (a stage-2 walk starting at level 1) */
export const TTBCR_SL0_LVL_1 = 1 << 6;
export const CBAR_S1_MEMATTR_WB = 0xf << 12;
export const CBAR_S1_BPSHCFG_NSH = 3 << 8;
export const CBAR_IRPTNDX_SHIFT = 24;

export const SCTLR_M = 1 << 0;
export const SCTLR_TRE = 1 << 1;
export const SCTLR_AFE = 1 << 2;
export const SCTLR_CFRE = 1 << 5;
export const SCTLR_CFIE = 1 << 6;
export const SCTLR_CFCFG = 1 << 7;
export const SCTLR_ASIDPNE = 1 << 12;

export const TTBCR_EAE = 1 << 31;
export const TTBCR_EPD1 = 1 << 23;
export const TTBCR_SH0_IS = 3 << 12;
export const TTBCR_ORGN0_WBWA = 1 << 10;
export const TTBCR_IRGN0_WBWA = 1 << 8;

export const FSR_TF = 1 << 1;
export const FSR_AFF = 1 << 2;
export const FSR_PF = 1 << 3;
export const FSR_EF = 1 << 4;
export const FSR_TLBMCF = 1 << 5;
export const FSR_TLBLKF = 1 << 6;
export const FSR_ASF = 1 << 7;
export const FSR_UUT = 1 << 8;
export const FSR_SS = 1 << 30;
export const FSR_MULTI = 1 << 31;
/** the faults 3.14 arm_smmu_context_fault complains about first ("Unexpected context fault") */
export const FSR_IGN = FSR_AFF | FSR_ASF | FSR_TLBMCF | FSR_TLBLKF;
export const FSR_FAULT = (FSR_MULTI | FSR_SS | FSR_UUT | FSR_ASF | FSR_TLBLKF | FSR_TLBMCF | FSR_EF | FSR_PF | FSR_AFF | FSR_TF) >>> 0;
export const FSYNR0_WNR = 1 << 4;
export const FSYNR0_IND = 1 << 6;
export const RESUME_TERMINATE = 1;
// mainline additions (v6.12 drivers/iommu/arm/arm-smmu/arm-smmu.h)
export const GR0_sGFSYNR2 = 0x058;
export const sGFSR_USF = 1 << 1;
export const S2CR_TYPE_FAULT = 2 << 16;
/** GR1 CBFRSYNRAn: the stream id of context bank n's fault (arm_smmu_read_context_fault_info) */
export const GR1_CBFRSYNRA = (n: number): number => 0x400 + 4 * n;
export const FSR_FORMAT_SHIFT = 9;
export const FSYNR0_PLVL_MASK = 3;
export const FSYNR0_PNU = 1 << 5;
export const FSYNR0_NSATTR = 1 << 8;
export const FSYNR0_PTWF = 1 << 10;
export const FSYNR0_AFR = 1 << 11;
export const FSYNR0_S1CBNDX_SHIFT = 16;
