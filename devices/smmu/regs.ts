/**
 * Register map of the SMMUv1 (MMU-400 class) model: offsets and bit fields (checked against
 * the 2014 Linux arm-smmu driver, drivers/iommu/arm-smmu.c, and the SMMU architecture,
 * ARM IHI 0062; where the two reference notes disagree the choice is stated next to the
 * constant), then the register file itself as declarative tables (emulator/regmap.ts):
 * global space 0 (page 0), global space 1 (page 1) and one banked context-bank page. MMIO
 * dispatch, reset values and register names ("SMR[3]", "CB1.FSR") come from the tables;
 * an access that no register decodes, a write to a read-only register and a read of a
 * write-only register are RAZ/WI (IHI 0062: reserved locations are RAZ/WI) and reported
 * as guest errors.
 */
import type { RegSpec } from '../../emulator/regmap.js';
import type { Smmu } from './smmu.js';

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
/** Stall Disable (IHI 0062 sCR0.STALLD): every context bank behaves as SCTLR.CFCFG = 0 (fault.ts stallModel) */
export const SCR0_STALLD = 1 << 8;
/**
 * Global Stall Enable (IHI 0062 sCR0.GSE, bit 9): every context bank follows the stall model
 * whatever its SCTLR.CFCFG (fault.ts stallModel). The MMU-500 TRM (DDI 0517, 2.3.4) names GSE
 * and STALLD the "fault model overrides from the global space".
 */
export const SCR0_GSE = 1 << 9;
export const SCR0_USFCFG = 1 << 10;
/** writable bits of sCR0 we keep (everything the v1 register defines in [21:0]) */
export const SCR0_WRITABLE = 0x003fffff;

export const SIDR0_S1TS = 1 << 30;
export const SIDR0_S2TS = 1 << 29;
export const SIDR0_NTS = 1 << 28;
export const SIDR0_SMS = 1 << 27;
export const SIDR0_ATOSNS = 1 << 26;
/**
 * sIDR0.PTFS [25:24]: the AArch32 translation table formats NOT supported; bit 24 set: no
 * short-descriptor format (the model walks the long-descriptor (LPAE) format only: a context
 * with TTBCR.EAE clear is an invalid-context fault), bit 25 clear: long descriptors supported
 */
export const SIDR0_PTFS_NO_AARCH32S = 1 << 24;
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
/** sGFSYNR0.Nested [0]: the global fault arose from the stage-2 part of a nested context (choice: an invalid CBAR.CBNDX) */
export const GFSYNR0_NESTED = 1 << 0;
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
/**
 * CBARn.CBNDX [15:8] of a nested context (TYPE 3): the stage-2 context bank that translates
 * the stage-1 context's IPAs (IHI 0062 CBARn; the field overlays BPSHCFG/HYPC/FB/MemAttr of a
 * TYPE 1 bank: the MMU-500 register references name those bits MEMATTR_CBNDX_7_4, FB_CBNDX_3,
 * HYPC_CBNDX_2, BPSHCFG_CBNDX_1_0)
 */
export const CBAR_CBNDX_SHIFT = 8;

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
/** Hit Under Previous Context Fault: 0 (both Linux drivers) = no translation for the context while a fault is outstanding (fault.ts) */
export const SCTLR_HUPCF = 1 << 8;
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
/** FSYNR0.S1CBNDX [23:16]: in a stage-2 bank, the stage-1 bank of the nested translation that faulted */
export const FSYNR0_S1CBNDX_SHIFT = 16;

export const RESUME_TERMINATE = 1 << 0;

// ---- TLB maintenance operations, as the TLBI registers queue them (applied at a sync) ----
export const OP_ALL = 0; // everything
export const OP_CB_ALL = 1; // cb
export const OP_CB_ASID = 2; // cb, asid
export const OP_CB_VA = 3; // cb, asid, va (non-global entries of asid + global entries)
export const OP_CB_VAA = 4; // cb, va (any asid)
export const OP_VMID = 5; // vmid

/** SMRn bits that hold state: VALID, MASK [30:16], ID [14:0] */
const SMR_BITS = (SMR_VALID | (SMR_ID_MASK << SMR_MASK_SHIFT) | SMR_ID_MASK) >>> 0;

// =====================================================================================
// The register file (declarative tables)
// =====================================================================================

type Spec = RegSpec<Smmu>;

function slotsOf<N extends string>(specs: readonly Spec[], names: readonly N[]): Record<N, number> {
  const out = {} as Record<N, number>;
  let slot = 0;
  const at = new Map<string, number>();
  for (const s of specs) {
    at.set(s.name, slot);
    slot += s.count ?? 1;
  }
  for (const n of names) {
    const v = at.get(n);
    if (v === undefined) throw new Error(`smmu: no register ${n}`);
    out[n] = v;
  }
  return out;
}

/**
 * GR0 registers of fixed number (IHI 0062, "Global address space 0"); SMRn and S2CRn
 * follow them in the table (their number is the configuration's NUMSMRG), so the slots of
 * these are the same for every configuration. `idr` are the sIDR0-2 values.
 */
function gr0Fixed(idr: readonly [number, number, number]): Spec[] {
  return [
    {
      name: 'sCR0', offset: GR0_SCR0, access: 'RW', reset: SCR0_CLIENTPD,
      // reset CLIENTPD = 1: the SMMU passes everything through until software enables it
      write: (d, v) => {
        d.g[GS.sCR0] = v & SCR0_WRITABLE;
        d.fault.update();
      },
      doc: 'IHI 0062 sCR0; arm_smmu_device_reset writes it last',
    },
    { name: 'sIDR0', offset: GR0_SIDR0, access: 'RO', reset: idr[0], doc: 'IHI 0062 sIDR0 (arm_smmu_device_cfg_probe)' },
    { name: 'sIDR1', offset: GR0_SIDR1, access: 'RO', reset: idr[1], doc: 'IHI 0062 sIDR1' },
    { name: 'sIDR2', offset: GR0_SIDR2, access: 'RO', reset: idr[2], doc: 'IHI 0062 sIDR2' },
    { name: 'sIDR7', offset: GR0_SIDR7, access: 'RO', reset: 0, doc: 'IHI 0062 sIDR7 (implementation revision)' },
    { name: 'sGFAR_LO', offset: GR0_SGFAR_LO, access: 'RW', doc: 'IHI 0062 sGFAR [31:0]' },
    { name: 'sGFAR_HI', offset: GR0_SGFAR_HI, access: 'RW', doc: 'IHI 0062 sGFAR [63:32]' },
    { name: 'sGFSR', offset: GR0_SGFSR, access: 'W1C', mask: GFSR_ALL, write: (d, v) => d.fault.w1cGfsr(v), doc: 'IHI 0062 sGFSR, write 1 to clear' },
    { name: 'sGFSRRESTORE', offset: GR0_SGFSRRESTORE, access: 'WO', write: (d, v) => d.fault.restoreGfsr(v), doc: 'IHI 0062 sGFSRRESTORE' },
    { name: 'sGFSYNR0', offset: GR0_SGFSYNR0, access: 'RW', doc: 'IHI 0062 sGFSYNR0' },
    { name: 'sGFSYNR1', offset: GR0_SGFSYNR1, access: 'RW', doc: 'IHI 0062 sGFSYNR1 (stream id)' },
    { name: 'sGFSYNR2', offset: GR0_SGFSYNR2, access: 'RW', doc: 'IHI 0062 sGFSYNR2 (IMPLEMENTATION DEFINED: 0)' },
    // every context here is non-secure, non-hypervisor: STLBIALL and TLBIALLNSNH both invalidate everything
    { name: 'STLBIALL', offset: GR0_STLBIALL, access: 'WO', write: (d) => d.tlb.queue(OP_ALL, -1, 0, 0), doc: 'IHI 0062 STLBIALL' },
    { name: 'TLBIVMID', offset: GR0_TLBIVMID, access: 'WO', write: (d, v) => d.tlb.queue(OP_VMID, -1, v & 0xff, 0), doc: 'IHI 0062 TLBIVMID' },
    { name: 'TLBIALLNSNH', offset: GR0_TLBIALLNSNH, access: 'WO', write: (d) => d.tlb.queue(OP_ALL, -1, 0, 0), doc: 'IHI 0062 TLBIALLNSNH' },
    // no hypervisor entries are ever cached: nothing to invalidate
    { name: 'TLBIALLH', offset: GR0_TLBIALLH, access: 'WO', write: () => {}, doc: 'IHI 0062 TLBIALLH' },
    { name: 'sTLBGSYNC', offset: GR0_STLBGSYNC, access: 'WO', write: (d) => d.gsync(), doc: 'IHI 0062 sTLBGSYNC (arm_smmu_tlb_sync)' },
    { name: 'sTLBGSTATUS', offset: GR0_STLBGSTATUS, access: 'RO', read: (d) => (d.now() < d.gsyncDoneAt ? 1 : 0), doc: 'IHI 0062 sTLBGSTATUS.GSACTIVE' },
    // Peripheral / component ID (MMU-400-like): PIDR2.ARCHITECTURE [7:4] = 0 -> SMMUv1 for the driver
    { name: 'PIDR4', offset: 0xfd0, access: 'RO', reset: 0x04 },
    { name: 'PIDR5', offset: 0xfd4, access: 'RO', reset: 0 },
    { name: 'PIDR6', offset: 0xfd8, access: 'RO', reset: 0 },
    { name: 'PIDR7', offset: 0xfdc, access: 'RO', reset: 0 },
    { name: 'PIDR0', offset: GR0_PIDR0, access: 'RO', reset: 0x81 },
    { name: 'PIDR1', offset: 0xfe4, access: 'RO', reset: 0xb4 },
    { name: 'PIDR2', offset: 0xfe8, access: 'RO', reset: 0x0b, doc: 'ARCHITECTURE [7:4] = 0: SMMUv1 (arm_smmu_device_cfg_probe)' },
    { name: 'PIDR3', offset: 0xfec, access: 'RO', reset: 0 },
    { name: 'CIDR0', offset: 0xff0, access: 'RO', reset: 0x0d },
    { name: 'CIDR1', offset: 0xff4, access: 'RO', reset: 0xf0 },
    { name: 'CIDR2', offset: 0xff8, access: 'RO', reset: 0x05 },
    { name: 'CIDR3', offset: 0xffc, access: 'RO', reset: 0xb1 },
  ];
}

/** store slots of the GR0 registers the model uses (the same in every configuration) */
export const GS = slotsOf(gr0Fixed([0, 0, 0]), ['sCR0', 'sGFAR_LO', 'sGFAR_HI', 'sGFSR', 'sGFSYNR0', 'sGFSYNR1'] as const);

/** The GR0 page (IHI 0062, global address space 0): fixed registers, then SMRn and S2CRn. */
export function gr0Specs(numSmrs: number, idr: readonly [number, number, number]): Spec[] {
  // one table per configuration, shared by every SMMU (its layout is built once: emulator/regmap.ts)
  const key = `${numSmrs}:${idr[0]}:${idr[1]}:${idr[2]}`;
  let t = gr0Tables.get(key);
  if (t === undefined) gr0Tables.set(key, (t = buildGr0Specs(numSmrs, idr)));
  return t;
}

const gr0Tables = new Map<string, Spec[]>();

function buildGr0Specs(numSmrs: number, idr: readonly [number, number, number]): Spec[] {
  return [
    ...gr0Fixed(idr),
    {
      name: 'SMR', offset: GR0_SMR, count: numSmrs, access: 'RW',
      write: (d, v, i) => {
        d.g[d.smrBase + i] = v & SMR_BITS;
        d.stream.invalidate();
      },
      doc: 'IHI 0062 SMRn: VALID [31], MASK [30:16], ID [14:0] (arm_smmu_master_configure_smrs)',
    },
    {
      // reset: type fault (choice: the reset value of S2CR is IMPLEMENTATION DEFINED; the Linux
      // driver rewrites every S2CR before enabling the SMMU)
      name: 'S2CR', offset: GR0_S2CR, count: numSmrs, access: 'RW', reset: S2CR_TYPE_FAULT << S2CR_TYPE_SHIFT, mask: 0x0fff_ffff,
      doc: 'IHI 0062 S2CRn: CBNDX [7:0], TYPE [17:16], PRIVCFG [25:24], INSTCFG [27:26]',
    },
  ];
}

/** The GR1 page (IHI 0062, global address space 1): CBARn. */
export function gr1Specs(numCb: number): Spec[] {
  let t = gr1Tables.get(numCb);
  if (t === undefined) gr1Tables.set(numCb, (t = buildGr1Specs(numCb)));
  return t;
}

const gr1Tables = new Map<number, Spec[]>();

function buildGr1Specs(numCb: number): Spec[] {
  return [
    {
      name: 'CBAR', offset: GR1_CBAR, count: numCb, access: 'RW',
      write: (d, v, i) => {
        d.cbar[i] = v;
        d.fault.update();
      },
      doc: 'IHI 0062 CBARn: VMID [7:0], TYPE [17:16], IRPTNDX [31:24] (arm_smmu_init_context_bank)',
    },
    {
      name: 'CBFRSYNRA', offset: GR1_CBFRSYNRA, count: numCb, access: 'RW',
      doc: 'IHI 0062 CBFRSYNRAn: the stream id of context bank n\'s recorded fault [14:0] (SSD_Index [30:16]: 0, no SSD table); written with FAR/FSYNR0, read by mainline arm_smmu_read_context_fault_info',
    },
  ];
}

const cbq = (op: number) => (d: Smmu, v: number, _i: number, cb: number): void => {
  if (op === OP_CB_VA) d.tlb.queue(OP_CB_VA, cb, v & 0xff, (v & 0xfffff000) >>> 0); // 32-bit format: VA[31:12], ASID [7:0]
  else if (op === OP_CB_VAA) d.tlb.queue(OP_CB_VAA, cb, 0, (v & 0xfffff000) >>> 0);
  else if (op === OP_CB_ASID) d.tlb.queue(OP_CB_ASID, cb, v & 0xff, 0);
  else d.tlb.queue(OP_CB_ALL, cb, 0, 0);
};
const ats = (d: Smmu, v: number, _i: number, cb: number, off: number): void => d.ats(cb, off, (v & 0xfffff000) >>> 0);

/**
 * One context bank's page (IHI 0062, "Translation context bank address space"); the map
 * has one bank per context bank. Every register is single (slot = position in the list).
 * FAR, FSYNR0/1 and PAR are written by the SMMU (fault recording, ATS1*) and are read/write
 * for software as well (IHI 0062 lists them RW, so that a context can be saved and restored;
 * the MMU-500 register references say the same); Linux never writes them. Likewise sGFAR,
 * sGFSYNR0-2 and CBFRSYNRAn.
 */
export const CB_SPECS: readonly Spec[] = [
  {
    name: 'SCTLR', offset: CB_SCTLR, access: 'RW',
    write: (d, v, _i, cb) => {
      d.c[cb * d.cbSlots + CBS.SCTLR] = v & 0x001f_ffff;
      d.fault.update();
    },
    doc: 'IHI 0062 CBn_SCTLR: M, TRE, AFE, AFFD, E, CFRE, CFIE, CFCFG, WXN, UWXN, ASIDPNE',
  },
  { name: 'RESUME', offset: CB_RESUME, access: 'WO', write: (d, v, _i, cb) => d.fault.resume(cb, v), doc: 'IHI 0062 CBn_RESUME (arm_smmu_context_fault)' },
  { name: 'TTBCR2', offset: CB_TTBCR2, access: 'RW' },
  { name: 'TTBR0_LO', offset: CB_TTBR0_LO, access: 'RW', doc: 'IHI 0062 CBn_TTBR0: base [39:x]' },
  { name: 'TTBR0_HI', offset: CB_TTBR0_HI, access: 'RW', doc: 'base [39:32] in [7:0], ASID in [23:16] (TTBRn_HI_ASID_SHIFT 16, 2014 driver)' },
  { name: 'TTBR1_LO', offset: CB_TTBR1_LO, access: 'RW' },
  { name: 'TTBR1_HI', offset: CB_TTBR1_HI, access: 'RW' },
  { name: 'TTBCR', offset: CB_TTBCR, access: 'RW', doc: 'AArch32 LPAE TTBCR: T0SZ [2:0], EPD0 [7], T1SZ [18:16], A1 [22], EPD1 [23], EAE [31]' },
  { name: 'CONTEXTIDR', offset: CB_CONTEXTIDR, access: 'RW' },
  { name: 'MAIR0', offset: CB_MAIR0, access: 'RW' },
  { name: 'MAIR1', offset: CB_MAIR1, access: 'RW' },
  { name: 'PAR_LO', offset: CB_PAR_LO, access: 'RW', doc: 'IHI 0062 CBn_PAR [31:0] (written by ATS1*)' },
  { name: 'PAR_HI', offset: CB_PAR_HI, access: 'RW', doc: 'IHI 0062 CBn_PAR [63:32]' },
  { name: 'FSR', offset: CB_FSR, access: 'W1C', mask: (FSR_FAULTS | FSR_MULTI) >>> 0, write: (d, v, _i, cb) => d.fault.w1cFsr(cb, v), doc: 'IHI 0062 CBn_FSR, write 1 to clear (SS: RESUME)' },
  { name: 'FSRRESTORE', offset: CB_FSRRESTORE, access: 'WO', write: (d, v, _i, cb) => d.fault.restoreFsr(cb, v), doc: 'IHI 0062 CBn_FSRRESTORE' },
  { name: 'FAR_LO', offset: CB_FAR_LO, access: 'RW', doc: 'IHI 0062 CBn_FAR [31:0] (the 32-bit driver reads this word)' },
  { name: 'FAR_HI', offset: CB_FAR_HI, access: 'RW' },
  { name: 'FSYNR0', offset: CB_FSYNR0, access: 'RW', doc: 'PLVL [1:0], WNR [4], PNU [5], IND [6], NSSTATE [7], NSATTR [8], PTWF [10]' },
  { name: 'FSYNR1', offset: CB_FSYNR1, access: 'RW' },
  { name: 'TLBIVA', offset: CB_TLBIVA, access: 'WO', write: cbq(OP_CB_VA), doc: 'IHI 0062 CBn_TLBIVA (32-bit format)' },
  { name: 'TLBIVAA', offset: CB_TLBIVAA, access: 'WO', write: cbq(OP_CB_VAA) },
  { name: 'TLBIASID', offset: CB_TLBIASID, access: 'WO', write: cbq(OP_CB_ASID), doc: 'arm_smmu_tlb_inv_context' },
  { name: 'TLBIALL', offset: CB_TLBIALL, access: 'WO', write: cbq(OP_CB_ALL) },
  { name: 'TLBIVAL', offset: CB_TLBIVAL, access: 'WO', write: cbq(OP_CB_VA) },
  { name: 'TLBIVAAL', offset: CB_TLBIVAAL, access: 'WO', write: cbq(OP_CB_VAA) },
  { name: 'TLBSYNC', offset: CB_TLBSYNC, access: 'WO', write: (d, _v, _i, cb) => d.cbSync(cb), doc: 'IHI 0062 CBn_TLBSYNC' },
  { name: 'TLBSTATUS', offset: CB_TLBSTATUS, access: 'RO', read: (d, _i, cb) => (d.now() < d.syncDoneAt[cb]! ? 1 : 0), doc: 'IHI 0062 CBn_TLBSTATUS.SACTIVE' },
  { name: 'ATS1PR', offset: CB_ATS1PR, access: 'WO', write: (d, v, i, cb) => ats(d, v, i, cb, CB_ATS1PR), doc: 'IHI 0062 CBn_ATS1PR' },
  { name: 'ATS1PW', offset: CB_ATS1PW, access: 'WO', write: (d, v, i, cb) => ats(d, v, i, cb, CB_ATS1PW) },
  { name: 'ATS1UR', offset: CB_ATS1UR, access: 'WO', write: (d, v, i, cb) => ats(d, v, i, cb, CB_ATS1UR) },
  { name: 'ATS1UW', offset: CB_ATS1UW, access: 'WO', write: (d, v, i, cb) => ats(d, v, i, cb, CB_ATS1UW) },
  // ATS operations complete at once
  { name: 'ATSR', offset: CB_ATSR, access: 'RO', reset: 0, doc: 'IHI 0062 CBn_ATSR.ACTIVE' },
];

/** store slots of a context bank's registers (bank b: b * slots + CBS.x) */
export const CBS = slotsOf(CB_SPECS, ['SCTLR', 'TTBR0_LO', 'TTBR0_HI', 'TTBR1_LO', 'TTBR1_HI', 'TTBCR', 'MAIR0', 'MAIR1', 'PAR_LO', 'PAR_HI', 'FSR', 'FAR_LO', 'FAR_HI', 'FSYNR0'] as const);
