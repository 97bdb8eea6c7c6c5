/**
 * The arm-smmu IOMMU driver's SMMU instance (drivers/iommu/arm-smmu.c of 3.14, the driver of the
 * RFC v4 series' time; mainline drivers/iommu/arm/arm-smmu/arm-smmu.c where capabilities say so):
 * `ArmSmmu` is struct arm_smmu_device, what probe found in the hardware, and the bus's
 * IOMMU ops (arm_smmu_ops): domains with an LPAE stage-1 page table (3.14: the driver's own
 * writer, arm-smmu-pgtable.ts; mainline: io-pgtable-arm.ts; capability `smmuPgtable`), a
 * context bank per attached domain (3.14 arm_smmu_init_context_bank / v6.12
 * arm_smmu_write_context_bank: CBAR, TCR, TTBRs, MAIR, SCTLR, its context interrupt; capability
 * `smmuCbProgramming`), the stream-map entries (SMR/S2CR) of the groups attached to it (3.14 at
 * attach; mainline allocated at probe_device, arm_smmu_master_alloc_smes), map/unmap with the
 * TLB maintenance of each kernel (3.14 TLBIASID and a global sync per page; v6.12 TLBIVAL per
 * leaf and a context sync per iotlb_sync: `smmuTlbInvalidation`), iova_to_phys (v6.12 through
 * the hardware's ATS1PR), capable, the reserved regions.
 * The rest of the driver:
 * - arm-smmu-driver.ts: the platform driver (probe: ID registers, global interrupts, reset; remove;
 *   disable_bypass; bus_set_iommu and the IOMMU groups),
 * - arm-smmu-context.ts: one context bank's register sequences (programming, TLB maintenance,
 *   v6.12's ATS1PR iova_to_phys), per kernel,
 * - arm-smmu-fault.ts: the context and global fault handlers (3.14 and mainline),
 * - arm-smmu-of.ts: the masters in the device tree and how they are grouped,
 * - arm-smmu-regs.ts: the register layout (ARM IHI 0062), re-exported here.
 */
import { EINVAL, ENODEV, ENOSPC } from '../base/errno.js';
import type { Device } from '../driver/core.js';
import type { KDevice } from '../driver/types.js';
import type { Domain, Group, IommuOps } from '../iommu/core.js';
import { LPAE_PGSIZE_BITMAP, LpaeS1Pgtable, LpaeS2Pgtable, type SmmuPgtable } from '../iommu/io-pgtable-arm.js';
import { ARM_SMMU_314_PGSIZE_BITMAP, ArmSmmu314Pgtable } from './arm-smmu-pgtable.js';
import { IOMMU_CAP_CACHE_COHERENCY, IOMMU_CAP_INTR_REMAP, IOMMU_MMIO, IOMMU_NOEXEC, IOMMU_RESV_SW_MSI, IOMMU_WRITE, type IommuResvRegion } from '../iommu/types.js';
import { IRQF_SHARED, type IrqReturn } from '../irq/types.js';
import { ofDmaIsCoherent } from '../platform/of.js';
import { armSmmuContextFault, armSmmuGlobalFault, type ContextFaultRecord, type GlobalFaultRecord } from './arm-smmu-fault.js';
import { Ratelimit } from './arm-smmu-ratelimit.js';
import {
  CB_SCTLR,
  CB_TLBIVA,
  CB_TLBIVAL,
  GR0_S2CR,
  GR0_SMR,
  S2CR_TYPE_BYPASS,
  S2CR_TYPE_FAULT,
  S2CR_TYPE_TRANS,
  SMR_VALID,
} from './arm-smmu-regs.js';
import {
  iovaToPhysHard, programContextBank, tlbAddPageVmid, tlbInvAsid, tlbInvRange, tlbInvVmid, tlbSyncContext, tlbSyncGlobal, vaTlbi,
} from './arm-smmu-context.js';
import type { KernelServices } from './services.js';
import type { Group as IommuGroupImpl } from '../iommu/core.js';

export * from './arm-smmu-regs.js';
export type { ContextFaultRecord, GlobalFaultRecord } from './arm-smmu-fault.js';

/** an arm-smmu domain's private part (struct arm_smmu_domain): its page table, context bank, IRQ and streams */
export interface DomainPriv {
  /**
   * the page table: 3.14 allocates its pgd at domain init (arm_smmu_domain_init); mainline
   * only at the first attach (arm_smmu_init_domain_context -> alloc_io_pgtable_ops), null
   * until then (capability `smmuPgtableAlloc`)
   */
  pgtable: SmmuPgtable | null;
  smmu: ArmSmmu | null;
  cbndx: number;
  irq: number;
  /**
   * the translation stage of the domain's context (arm_smmu_init_domain_context: 3.14 cbar, v6.12
   * smmu_domain->stage; capability `smmuStageChoice`), 1 until the first attach decides
   */
  stage: 1 | 2;
  /** group -> SMR/S2CR indices programmed for it */
  streams: Map<Group, number[]>;
}

/** One probed SMMU instance (struct arm_smmu_device): also the IOMMU ops for its bus. */
export class ArmSmmu implements IommuOps {
  readonly name = 'arm-smmu';
  base = 0;
  size = 0;
  pageSize = 4096;
  numContextBanks = 0;
  numS2ContextBanks = 0;
  numMappingGroups = 0;
  smrMaskMask = 0;
  /** smmu->irptndx: the round-robin counter of context interrupts (SMMUv1) */
  irptndxCounter = 0;
  /** v6.12 smmu->streamid_mask: the stream ID bits the SMRs hold */
  streamidMask = 0;
  streamMatching = false;
  coherentWalk = false;
  /** ARM_SMMU_FEAT_TRANS_S1 / _S2 / _NESTED (sIDR0.S1TS / S2TS / NTS, arm_smmu_device_cfg_probe) */
  transS1 = false;
  transS2 = false;
  transNested = false;
  /**
   * ARM_SMMU_FEAT_TRANS_OPS: v6.12 arm_smmu_device_cfg_probe sets it for stage 1 on an SMMUv1
   * (arm-smmu-driver.ts), and arm_smmu_iova_to_phys then asks the hardware (ATS1PR); the 3.14
   * driver has no such feature and walks its own tables
   */
  transOps = false;
  ias = 32;
  oas = 32;
  numGlobalIrqs = 0;
  irqs: number[] = [];
  readonly contextMap: boolean[] = [];
  readonly smrMap: boolean[] = [];
  readonly contextFaults: ContextFaultRecord[] = [];
  /** arm_smmu_context_fault's dev_err_ratelimited state */
  readonly faultRs: Ratelimit;
  /** 3.14 arm_smmu_context_fault's second dev_err_ratelimited site ("Unexpected context fault") */
  readonly faultIgnRs: Ratelimit;
  readonly globalFaults: GlobalFaultRecord[] = [];
  /**
   * TESTING ONLY (not kernel behaviour; 0 in every booted system): while > 0, each group
   * attach leaves one stream-map entry as it was and decrements it: the SMR (3.14's
   * attach path writes the group's SMRs) or, where the entries were allocated at probe
   * (mainline arm_smmu_master_install_s2crs), the S2CR. A deliberately broken isolation
   * that the fuzzer's DMA-isolation invariant must catch (tools/fuzz/fuzz-invariants.test.ts).
   */
  testSkipStreamMapUpdates = 0;
  /**
   * TESTING ONLY (not kernel behaviour; 0 in every booted system): while > 0, each unmap
   * leaves out its TLB invalidation (arm_smmu_unmap -> arm_smmu_tlb_inv_context) and
   * decrements it: the device keeps what its TLB cached, which the fuzzer's DMA-isolation
   * invariant must catch (dma-stale-tlb, tools/fuzz/fuzz-invariants.test.ts).
   */
  testSkipTlbInvalidations = 0;
  readonly prefix: string;
  /** the global fault interrupts requested at probe (arm-smmu-driver.ts), freed at remove */
  requestedGlobal: number[] = [];
  /**
   * arm_smmu_global_fault's ratelimit state: mainline one DEFINE_RATELIMIT_STATE for the handler;
   * 3.14 one per dev_err_ratelimited call site (`globalRs` for the first line, `globalRs2`)
   */
  readonly globalRs: Ratelimit;
  readonly globalRs2: Ratelimit;
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
    const reset = k.profile.caps.ratelimitReset;
    this.faultRs = new Ratelimit('arm_smmu_context_fault', reset);
    this.faultIgnRs = new Ratelimit('arm_smmu_context_fault', reset);
    this.globalRs = new Ratelimit('arm_smmu_global_fault', reset);
    this.globalRs2 = new Ratelimit('arm_smmu_global_fault', reset);
  }

  /**
   * the page sizes: 3.14 arm_smmu_ops.pgsize_bitmap 2 MiB | 64 KiB | 4 KiB (0x00211000);
   * mainline io-pgtable-arm's for a 4 KiB granule, 4 KiB | 2 MiB | 1 GiB (0x40201000), what
   * arm_smmu_init_domain_context leaves in domain->pgsize_bitmap at the first attach (before
   * it a domain carries arm_smmu_ops.pgsize_bitmap, every size the SMMU's formats allow: not
   * modelled)
   */
  get pgsizeBitmap(): number {
    return this.k.profile.caps.smmuPgtable === 'arm-smmu-3.14' ? ARM_SMMU_314_PGSIZE_BITMAP : LPAE_PGSIZE_BITMAP;
  }

  /** s2cr_init_val: what an S2CR holds while no domain uses it */
  get s2crInit(): number {
    return this.disableBypass ? S2CR_TYPE_FAULT : S2CR_TYPE_BYPASS;
  }

  /** stream-map entries allocated at probe_device (mainline) rather than at attach (3.14) */
  get smesAtProbe(): boolean {
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

  /** readl / writel of an SMMU register (physical address) through the kernel's hw access */
  rd(pa: number): number {
    return this.k.hw.readl(pa);
  }
  wr(pa: number, v: number): void {
    this.k.hw.writel(v >>> 0, pa);
  }

  /** the global TLB sync (arm-smmu-context.ts tlbSyncGlobal): the driver's reset uses it */
  tlbSync(): void {
    tlbSyncGlobal(this);
  }

  // ---- IommuOps ----------------------------------------------------------------------

  capable(cap: number, dev?: KDevice): boolean {
    // 3.14 arm_smmu_domain_has_cap: ARM_SMMU_FEAT_COHERENT_WALK (from sIDR0.CTTW). Mainline
    // arm_smmu_capable: COHERENT_WALK (from the SMMU node's dma-coherent) or the device itself
    // DMA-coherent (device_get_dma_attr == DEV_DMA_COHERENT: its node's dma-coherent)
    if (cap === IOMMU_CAP_CACHE_COHERENCY) {
      if (this.coherentWalk) return true;
      return this.k.profile.caps.smmuCoherentWalk === 'firmware' && dev?.ofNode != null && ofDmaIsCoherent(dev.ofNode);
    }
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
    const p: DomainPriv = { pgtable: null, smmu: null, cbndx: -1, irq: -1, stage: 1, streams: new Map() };
    if (this.k.profile.caps.smmuPgtableAlloc === 'domain-init') {
      // 3.14 arm_smmu_domain_init: the pgd with the domain
      const r = this.allocPgtable(d, p);
      if (r < 0) return r;
    }
    d.priv = p;
    return 0;
  }

  /**
   * the domain's page table (capability `smmuPgtable`): 3.14 the driver's own writer
   * (arm-smmu-pgtable.ts; s1_output_size min(32, IAS)); mainline alloc_io_pgtable_ops
   * (ARM_32_LPAE_S1: ias min(va_size, 32), oas min(ipa_size, 40); for SMMUv1 va_size = ipa_size
   * = sIDR2.IAS), with the driver's walk flush. The prot rules: XN per `iommuExecSemantics`,
   * no-access maps per `iommuNoAccessPte`. 0 or -ENOMEM.
   */
  private allocPgtable(d: Domain, p: DomainPriv): number {
    const caps = this.k.profile.caps;
    const pages = this.k.mm.pages;
    const kmem = this.k.mm.kmem;
    const flush = (iova: number, size: number): void => this.flushWalk(d, iova, size);
    const add = (iova: number, size: number): void => this.addPage(d, iova, size);
    // mainline stage 2 (arm_smmu_init_domain_context, ARM_SMMU_DOMAIN_S2): ARM_32_LPAE_S2 with
    // ias = ipa_size, oas = pa_size (io-pgtable-arm.ts LpaeS2Pgtable)
    const pt =
      caps.smmuPgtable === 'arm-smmu-3.14'
        ? new ArmSmmu314Pgtable(pages, kmem, caps.iommuExecSemantics, Math.min(32, this.ias), caps.iommuNoAccessPte)
        : p.stage === 2
          ? new LpaeS2Pgtable(pages, kmem, caps.iommuExecSemantics, this.ias, caps.iommuNoAccessPte, this.oas, flush, add)
          : new LpaeS1Pgtable(pages, kmem, caps.iommuExecSemantics, Math.min(32, this.ias), caps.iommuNoAccessPte, Math.min(40, this.ias), flush, add);
    const r = pt.init();
    if (r < 0) return r;
    p.pgtable = pt;
    return 0;
  }

  /**
   * io_pgtable_tlb_flush_walk for a table io-pgtable-arm unhooked: v6.12
   * arm_smmu_tlb_inv_walk_s1, TLBIVA for each 4 KiB granule of the range, then the context's
   * sync (with `smmuTlbInvalidation` 'asid', TLBIASID and a global sync)
   */
  private flushWalk(d: Domain, iova: number, size: number): void {
    const p = d.priv as DomainPriv | null;
    if (!p?.smmu) return;
    if (p.stage === 2) {
      // v6.12 arm_smmu_tlb_inv_walk_s2_v1 -> arm_smmu_tlb_inv_context_s2
      tlbInvVmid(this, vmidOf(p));
      return;
    }
    if (!vaTlbi(this)) {
      tlbInvAsid(this, p.cbndx);
      return;
    }
    tlbInvRange(this, p.cbndx, iova, size, 4096, CB_TLBIVA);
    tlbSyncContext(this, p.cbndx);
  }

  /**
   * io_pgtable_tlb_add_page for a leaf an unmap cleared: v6.12 arm_smmu_tlb_add_page_s1, one
   * TLBIVAL of the leaf (granule = its size); the sync waits for iotlb_sync
   */
  private addPage(d: Domain, iova: number, size: number): void {
    const p = d.priv as DomainPriv | null;
    if (!p?.smmu || !vaTlbi(this)) return;
    if (this.testSkipTlbInvalidations > 0) {
      this.testSkipTlbInvalidations--;
      return;
    }
    // v6.12 arm_smmu_tlb_add_page_s2_v1: TLBIVMID of the domain
    if (p.stage === 2) tlbAddPageVmid(this, vmidOf(p));
    else tlbInvRange(this, p.cbndx, iova, size, size, CB_TLBIVAL);
  }

  /**
   * arm_smmu_iotlb_sync (v6.12; the 3.14 driver has none), once the context exists: the
   * context's sync for stage 1, the global sync for a stage-2 domain on an SMMUv1
   */
  iotlbSync(d: Domain): void {
    const p = d.priv as DomainPriv | null;
    if (!p?.smmu || !vaTlbi(this)) return;
    if (p.stage === 2) tlbSyncGlobal(this);
    else tlbSyncContext(this, p.cbndx);
  }

  /**
   * the stage of a new domain's context (arm_smmu_init_domain_context, capability
   * `smmuStageChoice`): 3.14 stage 1 with nested support, else stage 2 with stage-2 support,
   * else stage 1; v6.12 stage 1 when supported, else stage 2
   */
  stageFor(): 1 | 2 {
    if (this.k.profile.caps.smmuStageChoice === 'nested-s1-else-s2') return this.transNested || !this.transS2 ? 1 : 2;
    return this.transS1 ? 1 : 2;
  }

  /** 3.14 arm_smmu_tlb_inv_context: TLBIASID for stage 1, TLBIVMID for stage 2, then a global sync */
  private invContext(p: DomainPriv): void {
    if (p.stage === 2) tlbInvVmid(this, vmidOf(p));
    else tlbInvAsid(this, p.cbndx);
  }

  domainDestroy(d: Domain): void {
    const p = d.priv as DomainPriv | null;
    if (!p) return;
    this.destroyContext(d, p);
    p.pgtable?.free();
    d.priv = null;
  }

  private initContext(d: Domain, p: DomainPriv): number {
    // stage 1 (S2 bypass) in a bank from NUMS2CB up; stage 2 from bank 0
    const stage = this.stageFor();
    let cb = -1;
    for (let i = stage === 2 ? 0 : this.numS2ContextBanks; i < this.numContextBanks; i++) {
      if (!this.contextMap[i]) {
        cb = i;
        break;
      }
    }
    if (cb < 0) return -ENOSPC;
    p.stage = stage;
    // 3.14: the pgd came with the domain; arm_smmu_handle_mapping writes stage-2 entries (and
    // checks s2_output_size) once the context is a stage-2 one
    if (p.pgtable instanceof ArmSmmu314Pgtable) p.pgtable.setStage(stage, Math.min(40, this.oas));
    if (p.pgtable === null) {
      // mainline arm_smmu_init_domain_context: the context bank, then alloc_io_pgtable_ops (the
      // pgd); the page table stays with the domain until arm_smmu_domain_free
      const r = this.allocPgtable(d, p);
      if (r < 0) return r;
    }
    const nctx = this.irqs.length - this.numGlobalIrqs;
    // context interrupt index on an SMMUv1 (3.14 arm_smmu_init_domain_context, v6.12 the same):
    // round-robin over the context interrupts, `atomic_inc_return(&smmu->irptndx) %
    // num_context_irqs`: the first context gets line 1, whatever its bank; never handed back
    const irptndx = ++this.irptndxCounter % nctx;
    const irq = this.irqs[this.numGlobalIrqs + irptndx]!;
    // 3.14 requests the interrupt before it programs the bank (arm_smmu_init_domain_context,
    // then arm_smmu_init_context_bank); v6.12 programs the bank first
    // (arm_smmu_write_context_bank) and requests the interrupt after it
    const irqFirst = this.k.profile.caps.smmuCbProgramming === 'init-context-bank';
    if (irqFirst) {
      const rr = this.requestContextIrq(d, irq, irptndx);
      if (rr < 0) return rr;
    }
    this.contextMap[cb] = true;
    p.cbndx = cb;
    p.irq = irq;
    p.smmu = this;
    const pt = p.pgtable!;
    programContextBank(this, cb, pt, irptndx, stage === 2 ? { vmid: cb + 1, vtcr: pt instanceof LpaeS2Pgtable ? pt.vtcr(this.coherentWalk) : 0 } : null);
    if (!irqFirst) {
      const rr = this.requestContextIrq(d, irq, irptndx);
      if (rr < 0) {
        // v6.12 keeps the bank (`cfg->irptndx = ARM_SMMU_INVALID_IRPTNDX` and goes on); the
        // model's context needs its interrupt: the bank is disabled and given back
        this.wr(this.cb(cb) + CB_SCTLR, 0);
        this.contextMap[cb] = false;
        p.cbndx = -1;
        p.irq = -1;
        p.smmu = null;
        return rr;
      }
    }
    return 0;
  }

  private requestContextIrq(d: Domain, irq: number, irptndx: number): number {
    const rr = this.k.irq.requestIrq(irq, this.contextFault, IRQF_SHARED, 'arm-smmu-context-fault', d);
    if (rr < 0) this.k.log.err(this.prefix, `failed to request context IRQ ${irptndx} (${irq})`);
    return rr;
  }

  private destroyContext(d: Domain, p: DomainPriv): void {
    if (p.cbndx < 0) return;
    this.wr(this.cb(p.cbndx) + CB_SCTLR, 0);
    // 3.14 arm_smmu_destroy_domain_context: "Disable the context bank and nuke the TLB before
    // freeing it"; v6.12 only disables it (arm_smmu_write_context_bank with no cfg): the
    // unmaps before it invalidated what the domain had mapped
    if (!vaTlbi(this)) this.invContext(p);
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
          // 3.14 arm_smmu_attach_dev: the context was finalised first and stays with the domain
          for (const j of idx) this.smrMap[j] = false;
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
    // the context bank (and its interrupt) stays with the domain until it is freed (3.14
    // arm_smmu_domain_destroy, v6.12 arm_smmu_domain_free -> arm_smmu_destroy_domain_context);
    // a later attach of the domain finds it finalised and only programs the stream mapping
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

  /** 3.14 arm_smmu_map / mainline arm_smmu_map_pages: no page table yet (mainline, before the first attach) -ENODEV */
  mapPage(d: Domain, iova: number, pa: number, pgsize: number, prot: number): number {
    const p = d.priv as DomainPriv;
    if (p.pgtable === null) return -ENODEV;
    return p.pgtable.map(iova, pa, pgsize, prot);
  }

  /**
   * 3.14 arm_smmu_unmap (the writer, then arm_smmu_tlb_inv_context) / mainline
   * arm_smmu_unmap_pages (no page table: 0)
   */
  /**
   * arm_smmu_unmap / arm_smmu_unmap_pages: 3.14 invalidates the ASID and syncs globally after
   * each page (arm_smmu_tlb_inv_context); v6.12's io-pgtable-arm reports each cleared leaf
   * (addPage: TLBIVAL) and the IOMMU core's iotlb_sync waits for them (iotlbSync)
   */
  unmapPage(d: Domain, iova: number, pgsize: number): number {
    const p = d.priv as DomainPriv;
    if (p.pgtable === null) return 0;
    const n = p.pgtable.unmap(iova, pgsize);
    if (vaTlbi(this)) return n;
    if (this.testSkipTlbInvalidations > 0) this.testSkipTlbInvalidations--;
    else if (p.smmu) this.invContext(p);
    return n;
  }

  /**
   * arm_smmu_iova_to_phys: no page table yet (v6.12 before the first attach) none; with
   * ARM_SMMU_FEAT_TRANS_OPS (v6.12 on this stage-1 SMMUv1) the hardware's answer
   * (arm_smmu_iova_to_phys_hard); else the page table walked in software
   */
  iovaToPhys(d: Domain, iova: number): number | null {
    const p = d.priv as DomainPriv;
    if (p.pgtable === null) return null;
    // v6.12 arm_smmu_iova_to_phys: the hardware only for a stage-1 domain
    if (this.transOps && p.smmu !== null && p.stage === 1) return iovaToPhysHard(this, p.cbndx, p.pgtable, iova);
    return p.pgtable.iovaToPhys(iova);
  }

  /** the page table of a domain (for tools and tests) */
  static pgtableOf(d: Domain): SmmuPgtable | null {
    const p = d.priv as DomainPriv | null;
    return p ? p.pgtable : null;
  }

  static contextBankOf(d: Domain): number {
    const p = d.priv as DomainPriv | null;
    return p ? p.cbndx : -1;
  }

  // ---- interrupt handlers (arm-smmu-fault.ts) ----------------------------------------

  /** each context bank's interrupt handler, requested with the domain as dev_id */
  readonly contextFault = Object.assign((_irq: number, devId: unknown): IrqReturn => armSmmuContextFault(this, devId), { ksym: 'arm_smmu_context_fault' });

  /** the global fault interrupts' handler, requested with the SMMU as dev_id (arm-smmu-driver.ts) */
  readonly globalFault = (_irq: number, _devId: unknown): IrqReturn => armSmmuGlobalFault(this);
}

/** a stage-2 domain's VMID: cbndx + 1 (3.14 ARM_SMMU_CB_VMID, v6.12 cfg->vmid) */
function vmidOf(p: DomainPriv): number {
  return p.cbndx + 1;
}

/** the stream ids of a group's masters, first occurrence order (their fwspec ids) */
function groupSids(g: Group): number[] {
  const sids: number[] = [];
  for (const dev of g.devices) for (const s of dev.streamIds) if (!sids.includes(s)) sids.push(s);
  return sids;
}
