import { EINVAL, ENODEV, ENOSPC, ENOSYS } from '../base/errno.js';
import { Device } from '../driver/core.js';
import type { KDevice, KDriver } from '../driver/types.js';
import { Domain, Group, IOMMU_FAULT_READ, IOMMU_FAULT_WRITE, type IommuOps } from '../iommu/core.js';
import { LPAE_PGSIZE_BITMAP, LpaeS1Pgtable, MAIR0_VALUE } from '../iommu/io-pgtable-arm.js';
import { IOMMU_CAP_CACHE_COHERENCY, IOMMU_CAP_INTR_REMAP, IOMMU_MMIO, IOMMU_NOEXEC, IOMMU_RESV_SW_MSI, IOMMU_WRITE, type IommuResvRegion } from '../iommu/types.js';
import { Ratelimit } from './arm-smmu-ratelimit.js';
import { IRQ_HANDLED, IRQ_NONE, IRQF_SHARED, type IrqReturn } from '../irq/types.js';
import { propU32 } from '../platform/of.js';
import type { KernelServices } from './services.js';
import { smmuDtMasters, smmuGroupMasters, type BindingState } from './arm-smmu-of.js';
import {
  GR0_sCR0,
  GR0_sIDR0,
  GR0_sIDR1,
  GR0_sIDR2,
  GR0_sGFAR,
  GR0_sGFSR,
  GR0_sGFSYNR0,
  GR0_sGFSYNR1,
  GR0_sGFSYNR2,
  GR1_CBFRSYNRA,
  sGFSR_USF,
  S2CR_TYPE_FAULT,
  FSR_FORMAT_SHIFT,
  FSR_UUT,
  FSR_ASF,
  FSR_TLBLKF,
  FSR_TLBMCF,
  FSR_EF,
  FSR_PF,
  FSR_AFF,
  FSR_TF,
  FSR_MULTI,
  FSYNR0_PLVL_MASK,
  FSYNR0_PNU,
  FSYNR0_IND,
  FSYNR0_NSATTR,
  FSYNR0_PTWF,
  FSYNR0_AFR,
  FSYNR0_S1CBNDX_SHIFT,
  CB_FAR_HI,
  GR0_STLBIALL,
  GR0_TLBIALLNSNH,
  GR0_TLBIALLH,
  GR0_sTLBGSYNC,
  GR0_sTLBGSTATUS,
  GR0_SMR,
  GR0_S2CR,
  GR1_CBAR,
  CB_SCTLR,
  CB_RESUME,
  CB_TTBR0_LO,
  CB_TTBR0_HI,
  CB_TTBCR,
  CB_MAIR0,
  CB_MAIR1,
  CB_FSR,
  CB_FAR_LO,
  CB_FSYNR0,
  CB_TLBIASID,
  sCR0_CLIENTPD,
  sCR0_GFRE,
  sCR0_GFIE,
  sCR0_GCFGFRE,
  sCR0_GCFGFIE,
  sCR0_USFCFG,
  sCR0_VMIDPNE,
  sCR0_PTM,
  sCR0_FB,
  sCR0_BSU_MASK,
  ID0_S1TS,
  ID0_S2TS,
  ID0_NTS,
  ID0_SMS,
  ID0_CTTW,
  SMR_VALID,
  S2CR_TYPE_TRANS,
  S2CR_TYPE_BYPASS,
  CBAR_TYPE_S1_TRANS_S2_BYPASS,
  CBAR_S1_MEMATTR_WB,
  CBAR_S1_BPSHCFG_NSH,
  CBAR_IRPTNDX_SHIFT,
  SCTLR_M,
  SCTLR_TRE,
  SCTLR_AFE,
  SCTLR_CFRE,
  SCTLR_CFIE,
  SCTLR_CFCFG,
  SCTLR_ASIDPNE,
  TTBCR_EAE,
  TTBCR_EPD1,
  TTBCR_SH0_IS,
  TTBCR_ORGN0_WBWA,
  TTBCR_IRGN0_WBWA,
  FSR_SS,
  FSR_FAULT,
  FSYNR0_WNR,
  RESUME_TERMINATE,
} from './arm-smmu-regs.js';
import { Group as IommuGroupImpl } from '../iommu/core.js';

export * from './arm-smmu-regs.js';

const TLB_SYNC_POLLS = 1000;

export interface ContextFaultRecord {
  t: number;
  iova: number;
  fsr: number;
  fsynr: number;
  cb: number;
}

export interface GlobalFaultRecord {
  t: number;
  gfsr: number;
  gfsynr0: number;
  gfsynr1: number;
  gfar: number;
}

interface DomainPriv {
  pgtable: LpaeS1Pgtable;
  smmu: ArmSmmu | null;
  cbndx: number;
  irq: number;
  /** group -> SMR/S2CR indices programmed for it */
  streams: Map<Group, number[]>;
}

const ias2bits = (e: number): number => [32, 36, 40, 42, 44, 48][e] ?? 48;

/** One probed SMMU instance (struct arm_smmu_device): also the IOMMU ops for its bus. */
export class ArmSmmu implements IommuOps {
  readonly name = 'arm-smmu';
  readonly pgsizeBitmap = LPAE_PGSIZE_BITMAP;
  base = 0;
  size = 0;
  pageSize = 4096;
  numContextBanks = 0;
  numS2ContextBanks = 0;
  numMappingGroups = 0;
  smrMaskMask = 0;
  streamMatching = false;
  coherentWalk = false;
  ias = 32;
  oas = 32;
  numGlobalIrqs = 0;
  irqs: number[] = [];
  readonly contextMap: boolean[] = [];
  readonly smrMap: boolean[] = [];
  readonly contextFaults: ContextFaultRecord[] = [];
  /** arm_smmu_context_fault's dev_err_ratelimited state */
  private readonly faultRs = new Ratelimit('arm_smmu_context_fault');
  readonly globalFaults: GlobalFaultRecord[] = [];
  /**
   * TESTING ONLY (not kernel behaviour; 0 in every booted system): while > 0, each group
   * attach leaves one stream-map entry as it was and decrements it: the SMR (3.14's
   * attach path writes the group's SMRs) or, where the entries were allocated at probe
   * (mainline arm_smmu_master_install_s2crs), the S2CR. A deliberately broken isolation
   * that the fuzzer's DMA-isolation invariant must catch (tools/fuzz/fuzz.test.ts).
   */
  testSkipStreamMapUpdates = 0;
  /**
   * TESTING ONLY (not kernel behaviour; 0 in every booted system): while > 0, each unmap
   * leaves out its TLB invalidation (arm_smmu_unmap -> arm_smmu_tlb_inv_context) and
   * decrements it: the device keeps what its TLB cached, which the fuzzer's DMA-isolation
   * invariant must catch (dma-stale-tlb, tools/fuzz/fuzz.test.ts).
   */
  testSkipTlbInvalidations = 0;
  readonly prefix: string;
  private requestedGlobal: number[] = [];
  /** arm_smmu_global_fault's __ratelimit state (mainline: one DEFINE_RATELIMIT_STATE per handler) */
  private readonly globalRs = new Ratelimit('arm_smmu_global_fault');
  /**
   * mainline: stream-map entries allocated at probe_device (arm_smmu_master_alloc_smes), per
   * group (caps.iommuDefaultDomain 'per-binding'); 3.14 programs them at attach
   */
  private readonly groupSmes = new Map<IommuGroupImpl, number[]>();

  constructor(
    readonly k: KernelServices,
    readonly dev: Device,
    /**
     * mainline module parameter arm-smmu.disable_bypass (false: caps.smmuBypass 'bypass', the
     * 3.14 driver has no such parameter): unattached streams fault (sCR0.USFCFG, s2cr_init_val)
     */
    readonly disableBypass = false,
  ) {
    this.prefix = `arm-smmu ${dev.name}`;
  }

  /** s2cr_init_val: what an S2CR holds while no domain uses it */
  private get s2crInit(): number {
    return this.disableBypass ? S2CR_TYPE_FAULT : S2CR_TYPE_BYPASS;
  }

  /** stream-map entries allocated at probe_device (mainline) rather than at attach (3.14) */
  private get smesAtProbe(): boolean {
    return this.k.profile.caps.iommuDefaultDomain === 'per-binding';
  }

  get gr0(): number {
    return this.base;
  }
  get gr1(): number {
    return this.base + this.pageSize;
  }
  cb(n: number): number {
    return this.base + this.size / 2 + n * this.pageSize;
  }

  private rd(pa: number): number {
    return this.k.hw.readl(pa);
  }
  private wr(pa: number, v: number): void {
    this.k.hw.writel(v >>> 0, pa);
  }

  probe(): number {
    const k = this.k;
    const mem = this.dev.resource('mem', 0);
    if (!mem) return -ENODEV;
    this.base = mem.start;
    this.size = mem.size;
    const node = this.dev.ofNode;
    const ng = node ? propU32(k.tree, node, '#global-interrupts') : null;
    if (ng === null) {
      k.log.err(this.prefix, 'missing #global-interrupts property');
      return -ENODEV;
    }
    this.numGlobalIrqs = ng;
    this.irqs = this.dev.resources.filter((r) => r.kind === 'irq').map((r) => r.start);
    if (this.irqs.length <= ng) {
      k.log.err(this.prefix, `found ${this.irqs.length} interrupts but expected at least ${ng + 1}`);
      return -ENODEV;
    }
    const r = this.deviceCfgProbe();
    if (r < 0) return r;
    for (let i = 0; i < ng; i++) {
      const irq = this.irqs[i]!;
      const rr = k.irq.requestIrq(irq, this.globalFault, IRQF_SHARED, 'arm-smmu global fault', this);
      if (rr < 0) {
        k.log.err(this.prefix, `failed to request global IRQ ${i} (${irq})`);
        this.freeGlobalIrqs();
        return rr;
      }
      this.requestedGlobal.push(irq);
    }
    this.deviceReset();
    return 0;
  }

  private freeGlobalIrqs(): void {
    for (const irq of this.requestedGlobal) this.k.irq.freeIrq(irq, this);
    this.requestedGlobal = [];
  }

  /** arm_smmu_device_cfg_probe: read the ID registers */
  private deviceCfgProbe(): number {
    const log = this.k.log;
    log.info(this.prefix, 'probing hardware configuration...');
    const id0 = this.rd(this.gr0 + GR0_sIDR0);
    log.info(this.prefix, 'SMMUv1 with:');
    if (id0 & ID0_S1TS) log.info(this.prefix, '\tstage 1 translation');
    if (id0 & ID0_S2TS) log.info(this.prefix, '\tstage 2 translation');
    if (id0 & ID0_NTS) log.info(this.prefix, '\tnested translation');
    if (!(id0 & ID0_S1TS)) {
      // this model's driver only builds stage-1 contexts
      log.err(this.prefix, '\tno stage 1 translation support!');
      return -ENODEV;
    }
    this.coherentWalk = (id0 & ID0_CTTW) !== 0;
    if (this.coherentWalk) log.info(this.prefix, '\tcoherent table walk');
    if (id0 & ID0_SMS) {
      this.streamMatching = true;
      this.numMappingGroups = id0 & 0xff;
      if (this.numMappingGroups === 0) {
        log.err(this.prefix, 'stream-matching supported, but no SMRs present!');
        return -ENODEV;
      }
      // find out how many mask/id bits the SMRs implement
      this.wr(this.gr0 + GR0_SMR(0), (0x7fff << 16) | 0x7fff);
      const smr = this.rd(this.gr0 + GR0_SMR(0));
      const mask = (smr >>> 16) & 0x7fff;
      const sid = smr & 0x7fff;
      if ((mask & sid) !== sid) {
        log.err(this.prefix, `SMR mask bits (0x${mask.toString(16)}) insufficient for ID field (0x${sid.toString(16)})`);
        return -ENODEV;
      }
      this.smrMaskMask = mask;
      log.info(this.prefix, `\tstream matching with ${this.numMappingGroups} register groups, mask 0x${mask.toString(16)}`);
    } else {
      this.numMappingGroups = 1 << ((id0 >>> 9) & 0xf);
    }
    for (let i = 0; i < this.numMappingGroups; i++) this.smrMap.push(false);

    const id1 = this.rd(this.gr0 + GR0_sIDR1);
    this.pageSize = id1 & (1 << 31) ? 1 << 16 : 1 << 12;
    const npages = 1 << (((id1 >>> 28) & 7) + 1);
    if (npages * this.pageSize * 2 !== this.size) {
      log.warn(this.prefix, `SMMU address space size (0x${(npages * this.pageSize * 2).toString(16)}) differs from mapped region size (0x${this.size.toString(16)})!`);
    }
    this.numS2ContextBanks = (id1 >>> 16) & 0xff;
    this.numContextBanks = id1 & 0xff;
    if (this.numS2ContextBanks > this.numContextBanks) {
      log.err(this.prefix, 'impossible number of S2 context banks!');
      return -ENODEV;
    }
    for (let i = 0; i < this.numContextBanks; i++) this.contextMap.push(false);
    log.info(this.prefix, `\t${this.numContextBanks} context banks (${this.numS2ContextBanks} stage-2 only)`);

    const id2 = this.rd(this.gr0 + GR0_sIDR2);
    this.ias = ias2bits(id2 & 0xf);
    this.oas = ias2bits((id2 >>> 4) & 0xf);
    log.info(this.prefix, `\tStage-1: 32-bit VA -> ${this.ias}-bit IPA`);
    log.info(this.prefix, `\tStage-2: ${this.ias}-bit IPA -> ${this.oas}-bit PA`);
    const nctx = this.irqs.length - this.numGlobalIrqs;
    if (nctx < this.numContextBanks) {
      log.warn(this.prefix, `found only ${nctx} context interrupt(s) for ${this.numContextBanks} context banks (shared round the banks)`);
    }
    return 0;
  }

  /** arm_smmu_device_reset */
  deviceReset(): void {
    const gr0 = this.gr0;
    const gfsr = this.rd(gr0 + GR0_sGFSR);
    this.wr(gr0 + GR0_sGFSR, gfsr);
    for (let i = 0; i < this.numMappingGroups; i++) {
      if (this.smesAtProbe) {
        // mainline arm_smmu_write_sme: S2CR (s2cr_init_val: FAULT with disable_bypass) then an invalid SMR
        this.wr(gr0 + GR0_S2CR(i), this.s2crInit);
        if (this.streamMatching) this.wr(gr0 + GR0_SMR(i), 0);
        continue;
      }
      // invalid SMR (the 2014 driver writes ~SMR_VALID; 0 is equally invalid and keeps reserved bits clear)
      if (this.streamMatching) this.wr(gr0 + GR0_SMR(i), 0);
      this.wr(gr0 + GR0_S2CR(i), S2CR_TYPE_BYPASS);
    }
    for (let i = 0; i < this.numContextBanks; i++) {
      this.wr(this.cb(i) + CB_SCTLR, 0);
      this.wr(this.cb(i) + CB_FSR, FSR_FAULT);
    }
    this.wr(gr0 + GR0_STLBIALL, 0);
    this.wr(gr0 + GR0_TLBIALLH, 0);
    this.wr(gr0 + GR0_TLBIALLNSNH, 0);
    let reg = this.rd(gr0 + GR0_sCR0);
    reg |= sCR0_GFRE | sCR0_GFIE | sCR0_GCFGFRE | sCR0_GCFGFIE;
    // enable client access; unmatched streams bypass (3.14: USFCFG clear) or, with mainline's
    // disable_bypass, fault (arm_smmu_device_reset: USFCFG set)
    reg &= ~(sCR0_CLIENTPD | sCR0_USFCFG);
    if (this.disableBypass) reg |= sCR0_USFCFG;
    reg |= sCR0_VMIDPNE | sCR0_PTM;
    reg &= ~sCR0_FB;
    reg &= ~sCR0_BSU_MASK;
    this.tlbSync();
    this.wr(gr0 + GR0_sCR0, reg);
  }

  /** __arm_smmu_tlb_sync: global sync, bounded poll */
  tlbSync(): void {
    this.wr(this.gr0 + GR0_sTLBGSYNC, 0);
    for (let i = 0; i < TLB_SYNC_POLLS; i++) {
      if ((this.rd(this.gr0 + GR0_sTLBGSTATUS) & 1) === 0) return;
    }
    this.k.log.err(this.prefix, 'TLB sync timed out -- SMMU may be deadlocked');
  }

  private tlbInvContext(p: DomainPriv): void {
    if (p.cbndx < 0) return;
    this.wr(this.cb(p.cbndx) + CB_TLBIASID, p.cbndx); // ASID = cbndx (2014 driver)
    this.tlbSync();
  }

  // ---- IommuOps ----------------------------------------------------------------------

  capable(cap: number): boolean {
    if (cap === IOMMU_CAP_CACHE_COHERENCY) return this.coherentWalk;
    // mainline: "MSIs are just memory writes"; the 2014 driver answered no
    if (cap === IOMMU_CAP_INTR_REMAP) return this.k.profile.caps.smmuIntrRemap;
    return false;
  }

  /**
   * mainline arm_smmu_get_resv_regions (drivers/iommu/arm/arm-smmu/arm-smmu.c): the software-managed
   * MSI window, MSI_IOVA_BASE 0x8000000 + MSI_IOVA_LENGTH 0x100000, IOMMU_RESV_SW_MSI with prot
   * WRITE|NOEXEC|MMIO; then iommu_dma_get_resv_regions (drivers/iommu/dma-iommu.c), which adds
   * IORT regions on ACPI systems and of_iommu_get_resv_regions' `memory-region` + `iommu-addresses`
   * regions: this board's device tree has neither, so the window is all. The 3.14 driver has no
   * such op (`iommuResvRegions`).
   */
  getResvRegions(_dev: KDevice): IommuResvRegion[] {
    if (!this.k.profile.caps.iommuResvRegions) return [];
    return [{ start: 0x800_0000, length: 0x10_0000, prot: IOMMU_WRITE | IOMMU_NOEXEC | IOMMU_MMIO, type: IOMMU_RESV_SW_MSI }];
  }

  domainInit(d: Domain): number {
    // prot-to-PTE rules (io-pgtable-arm.ts header): XN per iommuExecSemantics, no-access maps per iommuNoAccessPte
    const caps = this.k.profile.caps;
    const pt = new LpaeS1Pgtable(this.k.mm.pages, this.k.mm.kmem, caps.iommuExecSemantics, 32, caps.iommuNoAccessPte);
    const r = pt.init();
    if (r < 0) return r;
    const p: DomainPriv = { pgtable: pt, smmu: null, cbndx: -1, irq: -1, streams: new Map() };
    d.priv = p;
    return 0;
  }

  domainDestroy(d: Domain): void {
    const p = d.priv as DomainPriv | null;
    if (!p) return;
    this.destroyContext(d, p);
    p.pgtable.free();
    d.priv = null;
  }

  private initContext(d: Domain, p: DomainPriv): number {
    let cb = -1;
    for (let i = this.numS2ContextBanks; i < this.numContextBanks; i++) {
      if (!this.contextMap[i]) {
        cb = i;
        break;
      }
    }
    if (cb < 0) return -ENOSPC;
    const nctx = this.irqs.length - this.numGlobalIrqs;
    // context interrupt index: the bank's own line when there is one per bank
    // (documented choice; the 2014 v1 code handed them out round-robin)
    const irptndx = cb % nctx;
    const irq = this.irqs[this.numGlobalIrqs + irptndx]!;
    const rr = this.k.irq.requestIrq(irq, this.contextFault, IRQF_SHARED, 'arm-smmu-context-fault', d);
    if (rr < 0) {
      this.k.log.err(this.prefix, `failed to request context IRQ ${irptndx} (${irq})`);
      return rr;
    }
    this.contextMap[cb] = true;
    p.cbndx = cb;
    p.irq = irq;
    p.smmu = this;
    const gr1 = this.gr1;
    this.wr(gr1 + GR1_CBAR(cb), CBAR_TYPE_S1_TRANS_S2_BYPASS | CBAR_S1_MEMATTR_WB | CBAR_S1_BPSHCFG_NSH | (irptndx << CBAR_IRPTNDX_SHIFT));
    const base = this.cb(cb);
    const pgd = p.pgtable.pgd;
    this.wr(base + CB_TTBR0_LO, pgd >>> 0);
    this.wr(base + CB_TTBR0_HI, (Math.floor(pgd / 2 ** 32) & 0xff) | (cb << 16));
    this.wr(base + CB_TTBCR, TTBCR_EAE | TTBCR_EPD1 | TTBCR_SH0_IS | TTBCR_ORGN0_WBWA | TTBCR_IRGN0_WBWA /* T0SZ 0: 32-bit input */);
    this.wr(base + CB_MAIR0, MAIR0_VALUE);
    this.wr(base + CB_MAIR1, 0);
    // SCTLR: 3.14 arm_smmu_init_context_bank writes CFCFG | CFIE | CFRE | M | EAE_SBOP (AFE |
    // TRE) | S1_ASIDPNE: context faults stall until the handler writes CB_RESUME; mainline
    // arm_smmu_write_context_bank leaves CFCFG out (terminate) (capability smmuContextFaultMode)
    const cfcfg = this.k.profile.caps.smmuContextFaultMode === 'stall' ? SCTLR_CFCFG : 0;
    this.wr(base + CB_SCTLR, SCTLR_M | SCTLR_TRE | SCTLR_AFE | SCTLR_CFRE | SCTLR_CFIE | cfcfg | SCTLR_ASIDPNE);
    return 0;
  }

  private destroyContext(d: Domain, p: DomainPriv): void {
    if (p.cbndx < 0) return;
    this.wr(this.cb(p.cbndx) + CB_SCTLR, 0);
    this.tlbInvContext(p);
    this.k.irq.freeIrq(p.irq, d);
    this.contextMap[p.cbndx] = false;
    p.cbndx = -1;
    p.irq = -1;
    p.smmu = null;
  }

  attachGroup(d: Domain, g: Group): number {
    const p = d.priv as DomainPriv | null;
    if (!p) return -EINVAL;
    if (p.cbndx < 0) {
      const r = this.initContext(d, p);
      if (r < 0) return r;
    }
    const pre = this.groupSmes.get(g);
    if (pre !== undefined) {
      // mainline arm_smmu_attach_dev -> arm_smmu_master_install_s2crs: the entries exist
      // since probe_device; only their S2CRs change (TRANS to this domain's context bank)
      pre.forEach((i, n) => {
        if (n === 0 && this.testSkipStreamMapUpdates > 0) this.testSkipStreamMapUpdates--;
        else this.wr(this.gr0 + GR0_S2CR(i), S2CR_TYPE_TRANS | p.cbndx);
      });
      p.streams.set(g, pre);
      return 0;
    }
    const sids = groupSids(g);
    const idx: number[] = [];
    if (this.streamMatching) {
      for (const sid of sids) {
        const i = this.smrMap.indexOf(false);
        if (i < 0) {
          for (const j of idx) this.smrMap[j] = false;
          if (d.groups.length === 0) this.destroyContext(d, p);
          return -ENOSPC;
        }
        this.smrMap[i] = true;
        idx.push(i);
        void sid;
      }
      idx.forEach((i, n) => {
        if (n === 0 && this.testSkipStreamMapUpdates > 0) this.testSkipStreamMapUpdates--;
        else this.wr(this.gr0 + GR0_SMR(i), SMR_VALID | (sids[n]! & 0x7fff));
      });
    } else {
      for (const sid of sids) idx.push(sid);
    }
    for (const i of idx) this.wr(this.gr0 + GR0_S2CR(i), S2CR_TYPE_TRANS | p.cbndx);
    p.streams.set(g, idx);
    return 0;
  }

  detachGroup(d: Domain, g: Group): void {
    const p = d.priv as DomainPriv | null;
    if (!p) return;
    if (this.groupSmes.has(g)) {
      // mainline: the entries stay (the IOMMU core attaches the group's core domain next,
      // __iommu_group_set_core_domain, which rewrites the S2CRs); the context bank belongs to
      // the domain until it is freed (arm_smmu_domain_free)
      p.streams.delete(g);
      return;
    }
    const idx = p.streams.get(g) ?? [];
    // S2CR first: freeing the SMR lets it be reallocated at once
    for (const i of idx) this.wr(this.gr0 + GR0_S2CR(i), S2CR_TYPE_BYPASS);
    if (this.streamMatching) {
      for (const i of idx) {
        this.wr(this.gr0 + GR0_SMR(i), 0);
        this.smrMap[i] = false;
      }
    }
    p.streams.delete(g);
    // last group gone: disable the context bank (this model frees it at detach rather
    // than at domain destruction, so a domain can be re-attached later)
    if (p.streams.size === 0) this.destroyContext(d, p);
  }

  /**
   * mainline arm_smmu_probe_device -> arm_smmu_master_alloc_smes: one stream-map entry per
   * stream id of the group (arm_smmu_find_sme; the group's masters share them), its S2CR at
   * s2cr_init_val, written S2CR then SMR (arm_smmu_write_sme)
   */
  probeGroup(g: IommuGroupImpl): number {
    if (this.groupSmes.has(g)) return 0;
    const idx: number[] = [];
    const sids = groupSids(g);
    for (const sid of sids) {
      const i = this.streamMatching ? this.smrMap.indexOf(false) : sid;
      if (i < 0 || i >= this.numMappingGroups) {
        for (const j of idx) this.smrMap[j] = false;
        return -ENOSPC;
      }
      this.smrMap[i] = true;
      idx.push(i);
    }
    idx.forEach((i, n) => {
      this.wr(this.gr0 + GR0_S2CR(i), this.s2crInit);
      if (this.streamMatching) this.wr(this.gr0 + GR0_SMR(i), SMR_VALID | (sids[n]! & 0x7fff));
    });
    this.groupSmes.set(g, idx);
    return 0;
  }

  /** mainline arm_smmu_attach_dev_type: identity (BYPASS) or blocked (FAULT) domain for the group's entries */
  setGroupStreams(g: IommuGroupImpl, type: 'bypass' | 'fault'): void {
    const v = type === 'bypass' ? S2CR_TYPE_BYPASS : S2CR_TYPE_FAULT;
    for (const i of this.groupSmes.get(g) ?? []) this.wr(this.gr0 + GR0_S2CR(i), v);
  }

  mapPage(d: Domain, iova: number, pa: number, pgsize: number, prot: number): number {
    const p = d.priv as DomainPriv;
    return p.pgtable.map(iova, pa, pgsize, prot);
  }

  unmapPage(d: Domain, iova: number, pgsize: number): number {
    const p = d.priv as DomainPriv;
    const n = p.pgtable.unmap(iova, pgsize);
    if (this.testSkipTlbInvalidations > 0) this.testSkipTlbInvalidations--;
    else if (p.smmu) this.tlbInvContext(p);
    return n;
  }

  iovaToPhys(d: Domain, iova: number): number | null {
    return (d.priv as DomainPriv).pgtable.iovaToPhys(iova);
  }

  /** the page table of a domain (for tools and tests) */
  static pgtableOf(d: Domain): LpaeS1Pgtable | null {
    const p = d.priv as DomainPriv | null;
    return p ? p.pgtable : null;
  }

  static contextBankOf(d: Domain): number {
    const p = d.priv as DomainPriv | null;
    return p ? p.cbndx : -1;
  }

  // ---- interrupt handlers ------------------------------------------------------------

  readonly contextFault = Object.assign((_irq: number, devId: unknown): IrqReturn => this.onContextFault(devId), { ksym: 'arm_smmu_context_fault' });

  /** arm_smmu_context_fault (3.14 drivers/iommu/arm-smmu.c; mainline: onContextFaultMainline) */
  private onContextFault(devId: unknown): IrqReturn {
    const d = devId as Domain;
    const p = d.priv as DomainPriv | null;
    if (!p || p.cbndx < 0) return IRQ_NONE;
    if (this.k.profile.caps.smmuFaultMessages === '6.12') return this.onContextFaultMainline(d, p);
    const base = this.cb(p.cbndx);
    const fsr = this.rd(base + CB_FSR);
    if (!(fsr & FSR_FAULT)) return IRQ_NONE;
    const fsynr = this.rd(base + CB_FSYNR0);
    const iova = this.rd(base + CB_FAR_LO); // 32-bit kernel: the low word only
    const flags = fsynr & FSYNR0_WNR ? IOMMU_FAULT_WRITE : IOMMU_FAULT_READ;
    this.contextFaults.push({ t: this.k.now(), iova, fsr, fsynr, cb: p.cbndx });
    let ret: IrqReturn;
    let resume: number;
    const devName = d.groups[0]?.devices[0]?.name ?? this.dev.name;
    if (d.reportFault(devName, iova, flags) === 0) {
      ret = IRQ_HANDLED;
      resume = 0; // RESUME_RETRY
    } else {
      // dev_err_ratelimited (5 s, burst 10)
      if (this.faultRs.allow(this.k.log, this.k.now())) this.k.log.err(this.prefix, `Unhandled context fault: iova=0x${hex8(iova)}, fsynr=0x${fsynr.toString(16)}, cb=${p.cbndx}`);
      // 3.14 arm_smmu_context_fault: terminate the stalled transaction and return IRQ_NONE
      // (note_interrupt counts it as unhandled); mainline returns IRQ_HANDLED
      // (capability smmuUnhandledFaultReturn)
      ret = this.k.profile.caps.smmuUnhandledFaultReturn === 'irq-none' ? IRQ_NONE : IRQ_HANDLED;
      resume = RESUME_TERMINATE;
    }
    this.wr(base + CB_FSR, fsr);
    if (fsr & FSR_SS) this.wr(base + CB_RESUME, resume);
    return ret;
  }

  /**
   * mainline (v6.12) arm_smmu_context_fault: arm_smmu_read_context_fault_info (FAR as a
   * 64-bit read, hi then lo on this 32-bit kernel, truncated to unsigned long; FSR; FSYNR0;
   * GR1 CBFRSYNRA), IRQ_NONE without a fault bit, report_iommu_fault, and for -ENOSYS
   * (no domain handler) under one __ratelimit (5 s, burst 10) arm_smmu_print_context_fault_info's
   * three lines; FSR written back; IRQ_HANDLED. No RESUME: mainline contexts terminate.
   */
  private onContextFaultMainline(d: Domain, p: DomainPriv): IrqReturn {
    const idx = p.cbndx;
    const base = this.cb(idx);
    this.rd(base + CB_FAR_HI);
    const iova = this.rd(base + CB_FAR_LO);
    const fsr = this.rd(base + CB_FSR);
    const fsynr = this.rd(base + CB_FSYNR0);
    const cbfrsynra = this.rd(this.gr1 + GR1_CBFRSYNRA(idx));
    if (!(fsr & FSR_FAULT)) return IRQ_NONE;
    this.contextFaults.push({ t: this.k.now(), iova, fsr, fsynr, cb: idx });
    const devName = d.groups[0]?.devices[0]?.name ?? this.dev.name;
    const ret = d.reportFault(devName, iova, fsynr & FSYNR0_WNR ? IOMMU_FAULT_WRITE : IOMMU_FAULT_READ);
    if (ret === -ENOSYS && this.faultRs.allow(this.k.log, this.k.now())) {
      const log = this.k.log;
      const h = (v: number): string => (v >>> 0).toString(16);
      const b = (bit: number, name: string): string => (fsr & bit ? name : '');
      const y = (bit: number, name: string): string => (fsynr & bit ? name : '');
      log.err(this.prefix, `Unhandled context fault: fsr=0x${h(fsr)}, iova=0x${hex8(iova)}, fsynr=0x${h(fsynr)}, cbfrsynra=0x${h(cbfrsynra)}, cb=${idx}`);
      log.err(
        this.prefix,
        `FSR    = ${hex8(fsr)} [${b(FSR_MULTI, 'MULTI ')}${b(FSR_SS, 'SS ')}Format=${(fsr >>> FSR_FORMAT_SHIFT) & 3}${b(FSR_UUT, ' UUT')}${b(FSR_ASF, ' ASF')}${b(FSR_TLBLKF, ' TLBLKF')}${b(FSR_TLBMCF, ' TLBMCF')}${b(FSR_EF, ' EF')}${b(FSR_PF, ' PF')}${b(FSR_AFF, ' AFF')}${b(FSR_TF, ' TF')}], SID=0x${h(cbfrsynra)}`,
      );
      log.err(
        this.prefix,
        `FSYNR0 = ${hex8(fsynr)} [S1CBNDX=${(fsynr >>> FSYNR0_S1CBNDX_SHIFT) & 0xff}${y(FSYNR0_AFR, ' AFR')}${y(FSYNR0_PTWF, ' PTWF')}${y(FSYNR0_NSATTR, ' NSATTR')}${y(FSYNR0_IND, ' IND')}${y(FSYNR0_PNU, ' PNU')}${y(FSYNR0_WNR, ' WNR')} PLVL=${fsynr & FSYNR0_PLVL_MASK}]`,
      );
    }
    this.wr(base + CB_FSR, fsr);
    return IRQ_HANDLED;
  }

  readonly globalFault = (_irq: number, _devId: unknown): IrqReturn => {
    if (this.k.profile.caps.smmuFaultMessages === '6.12') return this.onGlobalFaultMainline();
    const gr0 = this.gr0;
    const gfsr = this.rd(gr0 + GR0_sGFSR);
    if (!gfsr) return IRQ_NONE;
    const gfsynr0 = this.rd(gr0 + GR0_sGFSYNR0);
    const gfsynr1 = this.rd(gr0 + GR0_sGFSYNR1);
    const gfar = this.rd(gr0 + GR0_sGFAR);
    this.globalFaults.push({ t: this.k.now(), gfsr, gfsynr0, gfsynr1, gfar });
    this.k.log.err(this.prefix, 'Unexpected global fault, this could be serious');
    this.k.log.err(this.prefix, `\tGFSR 0x${hex8(gfsr)}, GFSYNR0 0x${hex8(gfsynr0)}, GFSYNR1 0x${hex8(gfsynr1)}`);
    this.wr(gr0 + GR0_sGFSR, gfsr);
    return IRQ_HANDLED;
  };

  /**
   * mainline (v6.12) arm_smmu_global_fault: sGFSR, sGFSYNR0/1/2 read, IRQ_NONE when sGFSR is
   * 0; under __ratelimit (5 s, burst 10): "Blocked unknown Stream ID 0x<sid>; boot with
   * "arm-smmu.disable_bypass=0" ..." for USF (CONFIG_ARM_SMMU_DISABLE_BYPASS_BY_DEFAULT=y,
   * the model's config, whatever the parameter says), else "Unexpected global fault, this
   * could be serious", then the four registers; sGFSR written back; IRQ_HANDLED.
   */
  private onGlobalFaultMainline(): IrqReturn {
    const gr0 = this.gr0;
    const gfsr = this.rd(gr0 + GR0_sGFSR);
    const gfsynr0 = this.rd(gr0 + GR0_sGFSYNR0);
    const gfsynr1 = this.rd(gr0 + GR0_sGFSYNR1);
    const gfsynr2 = this.rd(gr0 + GR0_sGFSYNR2);
    if (!gfsr) return IRQ_NONE;
    this.globalFaults.push({ t: this.k.now(), gfsr, gfsynr0, gfsynr1, gfar: 0 });
    const log = this.k.log;
    if (this.globalRs.allow(log, this.k.now())) {
      if (gfsr & sGFSR_USF) {
        log.err(this.prefix, `Blocked unknown Stream ID 0x${(gfsynr1 & 0xffff).toString(16)}; boot with "arm-smmu.disable_bypass=0" to allow, but this may have security implications`);
      } else {
        log.err(this.prefix, 'Unexpected global fault, this could be serious');
      }
      log.err(this.prefix, `\tGFSR 0x${hex8(gfsr)}, GFSYNR0 0x${hex8(gfsynr0)}, GFSYNR1 0x${hex8(gfsynr1)}, GFSYNR2 0x${hex8(gfsynr2)}`);
    }
    this.wr(gr0 + GR0_sGFSR, gfsr);
    return IRQ_HANDLED;
  }

  /** tear down (driver remove) */
  shutdown(): void {
    if (this.contextMap.some((x) => x)) this.k.log.err(this.prefix, 'removing device with active domains!');
    this.wr(this.gr0 + GR0_sCR0, sCR0_CLIENTPD);
    this.freeGlobalIrqs();
  }
}

/** the stream ids of a group's masters, first occurrence order (their fwspec ids) */
function groupSids(g: Group): number[] {
  const sids: number[] = [];
  for (const dev of g.devices) for (const s of dev.streamIds) if (!sids.includes(s)) sids.push(s);
  return sids;
}

function hex8(v: number): string {
  return (v >>> 0).toString(16).padStart(8, '0');
}

/**
 * Union of masters the SMMU cannot tell apart (mainline grouping, caps.groupingRule
 * 'by-stream-id'): two devices whose stream ids overlap (this driver programs SMRs with
 * mask 0, so overlap = an equal id) share a group. (Mainline's arm_smmu_device_group
 * refuses a master whose ids straddle two existing groups with -EINVAL; the model merges.)
 * Groups are ordered by their first member in device registration (= tree) order.
 */
export function partitionMasters(masters: readonly KDevice[]): KDevice[][] {
  const groups: KDevice[][] = [];
  const sidsOf: number[][] = [];
  for (const m of masters) {
    const hits: number[] = [];
    groups.forEach((_, gi) => {
      if (m.streamIds.some((s) => sidsOf[gi]!.includes(s))) hits.push(gi);
    });
    if (hits.length === 0) {
      groups.push([m]);
      sidsOf.push([...m.streamIds]);
      continue;
    }
    const first = hits[0]!;
    groups[first]!.push(m);
    sidsOf[first]!.push(...m.streamIds);
    // merge later groups bridged by this master into the first one
    for (const gi of hits.slice(1).reverse()) {
      groups[first]!.push(...groups[gi]!);
      sidsOf[first]!.push(...sidsOf[gi]!);
      groups.splice(gi, 1);
      sidsOf.splice(gi, 1);
    }
  }
  return groups;
}

/** The arm-smmu platform driver. */
export class ArmSmmuDriver implements KDriver {
  readonly name = 'arm-smmu';
  readonly ofMatch = ['arm,smmu-v1', 'arm,mmu-400', 'arm,mmu-401', 'arm,smmu-v2', 'arm,mmu-500'] as const;
  readonly instances: ArmSmmu[] = [];
  /** the DT binding in use system-wide (mainline: using_legacy_binding / using_generic_binding) */
  readonly binding: BindingState = { legacy: false, generic: false };

  /**
   * `param` is the seam to the kernel's module parameters (kernel command line from
   * /chosen/bootargs, `arm-smmu.disable_bypass=0`): it answers a parameter's string value
   * or undefined when not given (kernel.ts wires it to the parsed command line,
   * kernel-model/base/params.ts; the default answers undefined: disable_bypass keeps its default).
   */
  constructor(
    readonly k: KernelServices,
    readonly param: (name: string) => string | undefined = () => undefined,
  ) {}

  /**
   * mainline `static bool disable_bypass = IS_ENABLED(CONFIG_ARM_SMMU_DISABLE_BYPASS_BY_DEFAULT)`,
   * module_param(disable_bypass, bool, ...): CONFIG=y assumed (the default on arm64 and in
   * multi_v7 builds with ARM_SMMU); a given value is parsed as param_set_bool (kstrtobool:
   * 1/y/Y/on, 0/n/N/off); an unparsable value leaves the default (the kernel prints an error
   * and ignores it). 3.14 has no such parameter (caps.smmuBypass 'bypass').
   */
  disableBypass(): boolean {
    if (this.k.profile.caps.smmuBypass !== 'disable-bypass-param') return false;
    const v = this.param('arm-smmu.disable_bypass');
    if (v === undefined || v === '') return true;
    const t = v.toLowerCase();
    if (t[0] === '1' || t[0] === 'y' || t === 'on') return true;
    if (t[0] === '0' || t[0] === 'n' || t === 'off') return false;
    return true;
  }

  probe(kdev: KDevice): number {
    if (!(kdev instanceof Device)) return -ENODEV;
    const smmu = new ArmSmmu(this.k, kdev, this.disableBypass());
    const k = this.k;
    // the masters, as this kernel reads the tree (arm-smmu-of.ts: mmu-masters / iommus)
    const found = kdev.ofNode ? smmuDtMasters(k, kdev.ofNode, smmu.prefix, this.binding) : [];
    if (typeof found === 'number') return found;
    const r = smmu.probe();
    if (r < 0) return r;
    kdev.drvdata = smmu;
    this.instances.push(smmu);
    // the stream ids of each master device (3.14: struct arm_smmu_master; mainline: its iommu_fwspec)
    const masters: KDevice[] = [];
    // masters on every bus the SMMU serves: the platform bus and, where PrimeCells are AMBA
    // devices, the AMBA bus (mainline: of_iommu_configure / the fwspec of any device)
    // devices, in the tree order of_platform_populate created them in (byNode keeps it)
    const devices = k.platformBus.amba ? [...k.platformBus.byNode.values()].filter((d) => d.registered) : k.platformBus.bus.devices;
    for (const dev of devices) {
      const m = found.find((x) => x.node === dev.ofNode);
      if (!m) continue;
      for (const s of m.sids) if (!dev.streamIds.includes(s)) dev.streamIds.push(s);
      masters.push(dev);
    }
    // bus_set_iommu(&platform_bus_type, &arm_smmu_ops): first SMMU serves the bus
    if (!k.iommu.present('platform')) k.iommu.busSetIommu('platform', smmu);
    // and the AMBA bus when there is one (mainline: arm_smmu_bus_init / iommu_device_register ->
    // bus_iommu_probe over iommu_buses[], which lists &amba_bustype with CONFIG_ARM_AMBA)
    if (k.platformBus.amba && !k.iommu.present('amba')) k.iommu.busSetIommu('amba', smmu);
    for (const set of smmuGroupMasters(k, masters, partitionMasters)) {
      const g = k.iommu.groupAlloc();
      for (const m of set) k.iommu.groupAddDevice(g, m);
      // mainline iommu_probe_device: stream-map entries and the default domain, IDENTITY with
      // the legacy binding (arm_smmu_def_domain_type), else IOMMU_DOMAIN_DMA (the core's
      // default for a DMA-API-capable platform device). 3.14: nothing until a user attaches.
      // Model limit: a failure (no free stream-map entry or context bank) leaves the group
      // without a default domain, silently; mainline would fail the device's probe_device.
      k.iommu.groupProbe(g, this.binding.legacy ? 'identity' : 'dma');
    }
    return 0;
  }

  remove(kdev: KDevice): void {
    const smmu = kdev.drvdata as ArmSmmu | null;
    if (!smmu) return;
    smmu.shutdown();
    const i = this.instances.indexOf(smmu);
    if (i >= 0) this.instances.splice(i, 1);
  }

  /** the SMMU instance serving a domain's faults (tools) */
  get first(): ArmSmmu | null {
    return this.instances[0] ?? null;
  }
}
