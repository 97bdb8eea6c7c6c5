/**
 * Register map of the SMMUv1 (MMU-400 class) model. Offsets and bit positions were checked
 * against the 2014 Linux arm-smmu driver (virtualopensystems/linux-kvm-arm
 * drivers/iommu/arm-smmu.c) and the SMMU architecture (IHI 0062); where the two
 * reference notes disagree the choice is stated next to the constant.
 */

// ---- Global register space 0 (page 0) ----
export const GR0_SCR0 = 0x000;
export const GR0_SIDR0 = 0x020;
export const GR0_SIDR1 = 0x024;
export const GR0_SIDR2 = 0x028;
export const GR0_SIDR7 = 0x03c;
export const GR0_SGFAR_LO = 0x040;
export const GR0_SGFAR_HI = 0x044;
export const GR0_SGFSR = 0x048;
export const GR0_SGFSRRESTORE = 0x04c;
export const GR0_SGFSYNR0 = 0x050;
export const GR0_SGFSYNR1 = 0x054;
export const GR0_SGFSYNR2 = 0x058;
export const GR0_STLBIALL = 0x060;
export const GR0_TLBIVMID = 0x064;
export const GR0_TLBIALLNSNH = 0x068;
export const GR0_TLBIALLH = 0x06c;
export const GR0_STLBGSYNC = 0x070;
export const GR0_STLBGSTATUS = 0x074;
export const GR0_SMR = 0x800;
export const GR0_S2CR = 0xc00;
export const GR0_PIDR0 = 0xfe0;

export const SCR0_CLIENTPD = 1 << 0;
export const SCR0_GFRE = 1 << 1;
export const SCR0_GFIE = 1 << 2;
export const SCR0_GCFGFRE = 1 << 4;
export const SCR0_GCFGFIE = 1 << 5;
export const SCR0_USFCFG = 1 << 10;
/** writable bits of sCR0 we keep (everything the v1 register defines in [21:0]) */
export const SCR0_WRITABLE = 0x003fffff;

export const SIDR0_S1TS = 1 << 30;
export const SIDR0_S2TS = 1 << 29;
export const SIDR0_NTS = 1 << 28;
export const SIDR0_SMS = 1 << 27;
export const SIDR0_ATOSNS = 1 << 26;
export const SIDR0_NUMIRPT_SHIFT = 16;
export const SIDR0_CTTW = 1 << 14;
export const SIDR0_NUMSIDB_SHIFT = 9;
export const SIDR1_NUMPAGENDXB_SHIFT = 28;
export const SIDR1_NUMS2CB_SHIFT = 16;
export const SIDR2_OAS_SHIFT = 4;

// sGFSR bits
export const GFSR_ICF = 1 << 0;
export const GFSR_USF = 1 << 1;
export const GFSR_SMCF = 1 << 2;
export const GFSR_UCBF = 1 << 3;
export const GFSR_UCIF = 1 << 4;
export const GFSR_CAF = 1 << 5;
export const GFSR_EF = 1 << 6;
export const GFSR_PF = 1 << 7;
export const GFSR_MULTI = 1 << 31;
/** configuration faults: reported/interrupted under sCR0.GCFGFRE/GCFGFIE; the rest under GFRE/GFIE */
export const GFSR_CONFIG = GFSR_ICF | GFSR_SMCF | GFSR_UCBF | GFSR_UCIF;
export const GFSR_ALL = 0xff | GFSR_MULTI;

// sGFSYNR0 (architecture: Nested [0], WNR [1], PNU [2], IND [3], NSSTATE [4], NSATTR [5])
export const GFSYNR0_WNR = 1 << 1;
export const GFSYNR0_PNU = 1 << 2;
export const GFSYNR0_IND = 1 << 3;
export const GFSYNR0_NSSTATE = 1 << 4;
export const GFSYNR0_NSATTR = 1 << 5;

export const SMR_VALID = 1 << 31;
export const SMR_MASK_SHIFT = 16;
export const SMR_ID_MASK = 0x7fff;

export const S2CR_TYPE_SHIFT = 16;
export const S2CR_TYPE_TRANS = 0;
export const S2CR_TYPE_BYPASS = 1;
export const S2CR_TYPE_FAULT = 2;
/** PRIVCFG [25:24]: 0 default, 1 reserved (treated as default), 2 unprivileged, 3 privileged */
export const S2CR_PRIVCFG_SHIFT = 24;
/** INSTCFG [27:26]: 0 default, 1 reserved (treated as default), 2 data, 3 instruction */
export const S2CR_INSTCFG_SHIFT = 26;

// ---- Global register space 1 (page 1) ----
export const GR1_CBAR = 0x000;
export const GR1_CBFRSYNRA = 0x400;
export const CBAR_TYPE_SHIFT = 16;
export const CBAR_TYPE_S2 = 0;
export const CBAR_TYPE_S1_S2BYPASS = 1;
export const CBAR_TYPE_S1_S2FAULT = 2;
export const CBAR_TYPE_NESTED = 3;
export const CBAR_IRPTNDX_SHIFT = 24;

// ---- Context bank (one page each) ----
export const CB_SCTLR = 0x000;
export const CB_RESUME = 0x008;
export const CB_TTBCR2 = 0x010;
export const CB_TTBR0_LO = 0x020;
export const CB_TTBR0_HI = 0x024;
export const CB_TTBR1_LO = 0x028;
export const CB_TTBR1_HI = 0x02c;
export const CB_TTBCR = 0x030;
export const CB_CONTEXTIDR = 0x034;
export const CB_MAIR0 = 0x038;
export const CB_MAIR1 = 0x03c;
/**
 * PAR. The shared reference note lists PAR at 0x810; in the architecture 0x810 is ATS1UR
 * and the 64-bit PAR is at 0x050 (the Linux driver's ARM_SMMU_CB_PAR is 0x50 as well).
 * We follow the architecture.
 */
export const CB_PAR_LO = 0x050;
export const CB_PAR_HI = 0x054;
export const CB_FSR = 0x058;
export const CB_FSRRESTORE = 0x05c;
export const CB_FAR_LO = 0x060;
export const CB_FAR_HI = 0x064;
export const CB_FSYNR0 = 0x068;
export const CB_FSYNR1 = 0x06c;
export const CB_TLBIVA = 0x600;
export const CB_TLBIVAA = 0x608;
export const CB_TLBIASID = 0x610;
export const CB_TLBIALL = 0x618;
export const CB_TLBIVAL = 0x620;
export const CB_TLBIVAAL = 0x628;
export const CB_TLBSYNC = 0x7f0;
export const CB_TLBSTATUS = 0x7f4;
export const CB_ATS1PR = 0x800;
export const CB_ATS1PW = 0x808;
export const CB_ATS1UR = 0x810;
export const CB_ATS1UW = 0x818;
export const CB_ATSR = 0x8f0;

export const SCTLR_M = 1 << 0;
export const SCTLR_TRE = 1 << 1;
export const SCTLR_AFE = 1 << 2;
export const SCTLR_AFFD = 1 << 3;
export const SCTLR_E = 1 << 4;
export const SCTLR_CFRE = 1 << 5;
export const SCTLR_CFIE = 1 << 6;
export const SCTLR_CFCFG = 1 << 7;
export const SCTLR_WXN = 1 << 9;
export const SCTLR_UWXN = 1 << 10;
export const SCTLR_ASIDPNE = 1 << 12;

export const TTBCR_EAE = 1 << 31;
/** AArch32 LPAE TTBCR: T0SZ [2:0] (the 2014 driver masks 4 bits; bit 3 is RES0 here and ignored) */
export const TTBCR_T0SZ_MASK = 0x7;
export const TTBCR_EPD0 = 1 << 7;
export const TTBCR_T1SZ_SHIFT = 16;
export const TTBCR_A1 = 1 << 22;
export const TTBCR_EPD1 = 1 << 23;

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
/** fault status bits (excluding SS and MULTI) */
export const FSR_FAULTS = 0x1fe;
export const FSR_ALL = FSR_FAULTS | FSR_SS | FSR_MULTI;

// FSYNR0 (architecture: PLVL [1:0], WNR [4], PNU [5], IND [6], NSSTATE [7], NSATTR [8], ATOF [9], PTWF [10])
export const FSYNR0_WNR = 1 << 4;
export const FSYNR0_PNU = 1 << 5;
export const FSYNR0_IND = 1 << 6;
export const FSYNR0_NSSTATE = 1 << 7;
export const FSYNR0_NSATTR = 1 << 8;
export const FSYNR0_PTWF = 1 << 10;

export const RESUME_TERMINATE = 1 << 0;
