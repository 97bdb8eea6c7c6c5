/**
 * The capability vocabulary: every decision in which the modelled kernels differ, one named
 * field each (`Capabilities`), and the reproduced defects of the posted patches (`Bugs`).
 * The VALUES each profile gives these fields are decided in one place, kernel-model/profile.ts
 * (KERNEL_3_14, the per-patch deltas PATCH_CAPS, MAINLINE); subsystems read the fields, never
 * patch numbers or the profile kind (`npm run lint` checks it).
 *
 * Each field's doc comment names the patch of the RFC v4 series "VFIO support for platform
 * devices" (Antonios Motakis, February 2014) or the kernel function that decides it;
 * docs/PROFILES.md has the table of values per profile.
 */
import type { IrqCapabilities } from './capabilities-irq.js';
import type { SyscallCapabilities } from './capabilities-syscall.js';

/**
 * Review findings and defects of the posted code that the model reproduces. Each is
 * a capability like the others: a profile that carries the patch carries its bug.
 */
export interface Bugs {
  /** finding 1 (review of 05): vfio_platform_ioctl(GET_REGION_INFO) reads vdev->region[info.index] without checking index < num_regions */
  regionInfoNoBoundsCheck: boolean;
  /** finding 2 (review of 06): vfio_platform_read/write add the offset to `unsigned int *io`, so the byte offset is scaled by 4 */
  rwOffsetScaledBy4: boolean;
  /** finding 3 (review of 06): vfio_platform_read of an offset outside every region returns -EFAULT (write: -EINVAL) */
  readEfaultOutsideRegions: boolean;
  /** patch 10: vfio_irq_handler calls eventfd_signal(irq->trigger) unconditionally, so a loopback (SET_IRQS TRIGGER DATA_NONE/BOOL) with no trigger set dereferences NULL */
  loopbackNullTrigger: boolean;
  /**
   * patch 09: vfio_set_trigger passes the struct vfio_platform_irq to request_irq() as
   * dev_id while vfio_irq_handler casts dev_id to struct eventfd_ctx, so eventfd_signal()
   * runs on the irq struct's bytes (the Oops of the matrix row 01-09); patch 10's handler
   * takes dev_id as the irq struct and signals irq_ctx->trigger (fixed)
   */
  irqHandlerDevIdMismatch: boolean;
  /**
   * patch 10's vfio_platform_mask calls disable_irq() (synchronize_irq, which may sleep)
   * inside spin_lock_irqsave: "BUG: sleeping function called from invalid context"
   * (__might_sleep); mainline's vfio_platform_mask uses disable_irq_nosync
   */
  maskSleepsUnderSpinlock: boolean;
}

/**
 * What the modelled kernel can do and which rule it follows, one named entry per decision.
 * Subsystems read these, never patch numbers or the profile kind (`npm run lint` checks
 * it). Each entry says which patch of the series or which kernel function decides it;
 * docs/PROFILES.md has the table of values per profile.
 *
 * To add a capability: add it here with its doc comment, give it a value in profile.ts: in KERNEL_3_14
 * (the 2014 tree without the series), in the PATCH_CAPS entry of the patch that changes it
 * (if any) and in MAINLINE, then add its row to the table in docs/PROFILES.md
 * (kernel-model/profile.test.ts checks that the table lists every capability).
 */
export interface Capabilities extends IrqCapabilities, SyscallCapabilities {
  // ---- driver core (drivers/base/)
  /** patch 01: driver_probe_device() exported (EXPORT_SYMBOL_GPL in drivers/base/dd.c), so vfio_bind can call it */
  driverProbeDeviceExported: boolean;
  /** the platform device `driver_override` attribute, honoured by platform_match() (drivers/base/platform.c; mainline, not in 3.14) */
  driverOverride: boolean;
  /**
   * what driver_probe_device() returns when the driver's ->probe fails (drivers/base/dd.c):
   * 'ignored' (3.14 really_probe: 0, "Ignore errors returned by ->probe so that the next
   * driver can try its luck") or 'returned' (the probe's -errno)
   */
  probeErrors: 'ignored' | 'returned';
  /**
   * the driver core's report of a failed ->probe (drivers/base/dd.c): '3.14' (really_probe:
   * printk(KERN_WARNING "%s: probe of %s failed with error %d", drv->name, dev_name(dev))) or
   * 'call-driver-probe' (mainline call_driver_probe: dev_err(dev, "probe with driver %s failed
   * with error %d"), with the device's driver already set, so the prefix is "<drv> <dev>");
   * -ENODEV/-ENXIO stay silent in both (mainline: dev_dbg "rejects match")
   */
  probeFailureMessage: '3.14' | 'call-driver-probe';
  /**
   * bind_store() (drivers/base/bus.c) for a device that already has a driver: 'enodev'
   * (3.14 tests `dev->driver == NULL` and falls through to -ENODEV) or 'ebusy'
   * (device_driver_attach: -EBUSY)
   */
  bindBoundDevice: 'enodev' | 'ebusy';

  // ---- IOMMU (drivers/iommu/)
  /**
   * IOMMU prot bit 3 in the arm-smmu/io-pgtable page tables: 'exec-flag' (the 2014
   * arm-smmu: XN unless IOMMU_EXEC) or 'noexec-flag' (mainline: XN only with IOMMU_NOEXEC)
   */
  iommuExecSemantics: 'exec-flag' | 'noexec-flag';
  /**
   * arm-smmu's answer to IOMMU_CAP_INTR_REMAP: false in both. 3.14 arm_smmu_domain_has_cap
   * answers IOMMU_CAP_CACHE_COHERENCY only (the "MSIs are just memory writes" answer came
   * later, in arm_smmu_capable, and was removed again by "iommu/arm-smmu: Do not advertise
   * IOMMU_CAP_INTR_REMAP anymore", 2017: interrupt isolation is the MSI controller's, see
   * `type1MsiIsolation`); mainline arm_smmu_capable has no INTR_REMAP case
   */
  smmuIntrRemap: boolean;

  // ---- vfio_iommu_type1 (drivers/vfio/vfio_iommu_type1.c)
  /** patch 03: vfio_iommu_type1_init() registers for the platform bus when an IOMMU serves it (before: PCI only) */
  type1PlatformBus: boolean;
  /**
   * the meaning of bit 2 of VFIO_IOMMU_MAP_DMA's flags (vfio_dma_do_map): 'none' (outside
   * the accepted mask: -EINVAL), 'exec' (patch 02: VFIO_DMA_MAP_FLAG_EXEC, mapped with
   * IOMMU_EXEC) or 'vaddr' (mainline VFIO_DMA_MAP_FLAG_VADDR: update a mapping's vaddr)
   */
  dmaMapBit2: 'none' | 'exec' | 'vaddr';
  /** VFIO_IOMMU_GET_INFO reports VFIO_IOMMU_INFO_PGSIZES in flags (mainline); the 3.14 type1 writes flags 0 */
  iommuInfoPgsizes: boolean;

  // ---- vfio-platform (drivers/vfio/platform/)
  /** patch 04: the vfio-platform driver exists (module_init registers it on the platform bus) */
  vfioPlatform: boolean;
  /**
   * how an administrator hands a device to vfio-platform: 'vfio_bind' (patch 04's driver
   * attribute, created when the driver registers) or 'driver_override' (mainline:
   * the device's driver_override, then drivers_probe)
   */
  bindMechanism: 'vfio_bind' | 'driver_override';
  /**
   * vfio_platform_open()/release(): 'every-open' (patches 05-10 as posted: regions and
   * irqs set up on every open, cleaned up on every release, pointers and counts left
   * dangling after kfree) or 'first-open-last-close' (mainline: refcnt, set up at the first
   * open, torn down and cleared at the last release)
   */
  openRule: 'every-open' | 'first-open-last-close';
  /** patch 05: regions built at open (vfio_platform_regions_init), GET_REGION_INFO, num_regions in GET_INFO */
  regionInfo: boolean;
  /**
   * the region offset GET_REGION_INFO reports and read/write/mmap decode: 'physical-address'
   * (patches 05-07) or 'index-shift-40' (mainline VFIO_PLATFORM_INDEX_TO_OFFSET,
   * VFIO_PLATFORM_OFFSET_SHIFT = 40)
   */
  regionOffsetEncoding: 'physical-address' | 'index-shift-40';
  /**
   * read/write on the device fd: 'none' (patches 04-05: return 0), 'ioremap-by-address'
   * (patch 06: the region containing the physical address is ioremapped on every call;
   * regions get READ|WRITE) or 'by-index-checked' (mainline vfio_platform_read/write_mmio:
   * region from the offset's index, bounds-checked, count clipped)
   */
  rwImplementation: 'none' | 'ioremap-by-address' | 'by-index-checked';
  /**
   * mmap of a region: 'none' (patches 04-06: -EINVAL), 'by-address' (patch 07: the page
   * offset is the physical page, any range inside one region; page-aligned regions get
   * the MMAP flag) or 'by-index-checked' (mainline vfio_platform_mmap: region from the
   * offset's index, MMAP flag required)
   */
  mmapRegions: 'none' | 'by-address' | 'by-index-checked';
  /** patch 08: irqs built at open (vfio_platform_irq_init), GET_IRQ_INFO, num_irqs in GET_INFO */
  irqInfo: boolean;
  /**
   * the SET_IRQS actions: 'none' (patches 04-08: SET_IRQS -EINVAL), 'trigger' (patch 09:
   * TRIGGER; MASK/UNMASK -ENOTTY; IRQ_INFO flags EVENTFD) or 'trigger-mask-unmask'
   * (patch 10, mainline: flags EVENTFD|MASKABLE)
   */
  setIrqsActions: 'none' | 'trigger' | 'trigger-mask-unmask';
  /**
   * SET_IRQS validation: 'rfc-header' (patch 09's checks of argsz, index, start, count and
   * unknown bits) or 'validate-and-prepare' (mainline vfio_set_irqs_validate_and_prepare,
   * drivers/vfio/vfio_main.c: bounds against num_irqs, exactly one DATA type, argsz against
   * count x data size, all -EINVAL; then vfio_platform_set_irqs_ioctl: no single ACTION bit
   * -ENOTTY (no handler); MASK/UNMASK need IRQ_INFO_MASKABLE)
   */
  setIrqsValidation: 'rfc-header' | 'validate-and-prepare';
  /** SET_IRQS with DATA_BOOL false: 'einval' (patches 09-10) or 'noop' (mainline: 0, nothing done) */
  setIrqsBoolFalse: 'einval' | 'noop';
  /** MASK/UNMASK with DATA_EVENTFD: virqfd (mainline drivers/vfio/virqfd.c); false: -ENOTTY (patch 10: "not implemented yet") */
  maskUnmaskEventfd: boolean;
  /**
   * vfio_irq_handler: 'signal' (patch 09: signal the trigger, never mask) or 'automask'
   * (patch 10, mainline: a level line is disabled (disable_irq_nosync) and reported
   * AUTOMASKED; a masked line returns IRQ_NONE)
   */
  irqHandler: 'signal' | 'automask';
  /**
   * when the handler is requested: 'at-set-trigger' (patches 09-10: request_irq when a
   * trigger is set, free_irq when it is removed) or 'at-open-disabled' (mainline: at open
   * with IRQF_NO_AUTOEN; setting a trigger enables the line, removing it disables it)
   */
  irqRequest: 'at-set-trigger' | 'at-open-disabled';
  /**
   * what release does to a line left masked: 'none' (patch 09 never masks), 'enable-after-free'
   * (patch 10's order: vfio_set_trigger(-1), then enable_irq) or 'enable-before-free'
   * (mainline vfio_platform_irq_cleanup: unmask, then remove the trigger and free the handler)
   */
  irqReleaseUnmask: 'none' | 'enable-after-free' | 'enable-before-free';

  // ---- issue 16 item 3: the prot-to-PTE rule for a mapping without READ and WRITE
  /**
   * what the IOMMU page table gets for a map without IOMMU_READ and IOMMU_WRITE:
   * 'faulting-unless-exec' (2014 arm_smmu_alloc_init_pte, drivers/iommu/arm-smmu.c: "if
   * IOMMU_EXEC clear XN, else if neither READ nor WRITE make a faulting entry", so with
   * patch 02 a MAP_DMA with VFIO_DMA_MAP_FLAG_EXEC alone is a valid read/write/execute page,
   * pinned for read only by vfio_pin_pages) or 'einval' (v6.12.19 io-pgtable-arm.c
   * arm_lpae_map_pages: -EINVAL, after the page-size and range checks; io-pgtable-arm's older
   * arm_lpae_map returned 0 and mapped nothing, "If no access, then nothing to do"; which
   * release changed it is not established here, see io-pgtable-arm.ts). type1's MAP_DMA and
   * iommufd's IOAS_MAP refuse such a map themselves; iommufd's VFIO compat MAP_DMA does not
   * (iommufd_vfio_map_dma passes IOMMU_CACHE alone), so there the domain's -EINVAL answers.
   */
  iommuNoAccessPte: 'faulting-unless-exec' | 'einval';
  /**
   * the arm-smmu page-table writer: 'arm-smmu-3.14' (3.14 drivers/iommu/arm-smmu.c
   * arm_smmu_handle_mapping / arm_smmu_alloc_init_pte, arm_smmu_unmap, arm_smmu_iova_to_phys:
   * pgsize_bitmap 2 MiB | 64 KiB | 4 KiB, every size written as level-3 pages with the
   * contiguous hint on aligned 64 KiB runs, a map overwrites, an unmap writes faulting entries
   * (address field counting up from 0) and frees no table and returns the size even over a
   * hole, iova_to_phys treats only an all-zero pte as unmapped; MAIR0 0x0004ff44) or
   * 'io-pgtable-arm' (mainline drivers/iommu/io-pgtable-arm.c ARM_32_LPAE_S1: 4 KiB | 2 MiB | 1 GiB
   * with blocks, -EEXIST over a leaf, a block replaces (and frees) a table, unmap clears and
   * frees and splits blocks, arm_lpae_prot_to_pte's attributes (SH outer-shareable without
   * IOMMU_CACHE, device AttrIndx for IOMMU_MMIO, AP_UNPRIV unless IOMMU_PRIV); MAIR0
   * 0xf404ff44). kernel-model/iommu/io-pgtable-arm.ts, kernel-model/drivers/arm-smmu-pgtable.ts
   */
  smmuPgtable: 'arm-smmu-3.14' | 'io-pgtable-arm';
  /**
   * when an arm-smmu domain gets its page table: 'domain-init' (3.14 arm_smmu_domain_init
   * allocates the pgd) or 'first-attach' (mainline arm_smmu_init_domain_context ->
   * alloc_io_pgtable_ops; until then arm_smmu_map_pages is -ENODEV, arm_smmu_unmap_pages 0 and
   * arm_smmu_iova_to_phys 0, so an iommufd HWPT allocated without a device attached
   * (IOMMU_HWPT_ALLOC) cannot take the IOAS's mappings: iopt_table_add_domain fails -ENODEV)
   */
  smmuPgtableAlloc: 'domain-init' | 'first-attach';
  // ---- IOMMU groups, group ownership, SMMU device-tree binding (issue 16 items 1, 2, 8)
  /**
   * how the arm-smmu driver forms IOMMU groups: 'per-device' (3.14 arm_smmu_add_device:
   * iommu_group_alloc() for every master, whatever its stream ids, so two masters with one
   * stream id sit in two groups) or 'by-stream-id' (mainline arm_smmu_device_group: a master
   * whose stream id already has a stream-map entry joins that entry's group)
   */
  groupingRule: 'per-device' | 'by-stream-id';
  /**
   * what keeps a driver off a device of a group user space holds: 'bug-on' (3.14 vfio.c
   * vfio_iommu_group_notifier: IOMMU_GROUP_NOTIFY_BOUND_DRIVER runs
   * BUG_ON(vfio_group_nb_verify(group, dev)) after the probe succeeded) or 'refuse-bind'
   * (mainline really_probe -> platform_dma_configure -> iommu_device_use_default_domain:
   * -EBUSY while iommu_group_claim_dma_owner holds the group; the probe never runs). With
   * 'refuse-bind' the IOMMU core counts owner_cnt: every bound host driver without
   * driver_managed_dma holds the group (released at unbind by platform_dma_cleanup ->
   * iommu_device_unuse_default_domain), so VFIO_GROUP_SET_CONTAINER on a group not viable
   * fails with -EPERM in iommu_group_claim_dma_owner (vfio_container_attach_group)
   */
  groupOwnershipGuard: 'bug-on' | 'refuse-bind';
  /**
   * the device-tree binding arm-smmu reads: 'mmu-masters' (3.14 arm_smmu_device_dt_probe:
   * the SMMU node's `mmu-masters` with `#stream-id-cells` on each master; `iommus` unknown)
   * or 'iommus-or-legacy' (mainline: `iommus` through arm_smmu_of_xlate, the legacy
   * `mmu-masters` through arm_smmu_register_legacy_master with a deprecation notice, and
   * "not probing due to mismatched DT properties" when the two are mixed)
   */
  smmuDtBinding: 'mmu-masters' | 'iommus-or-legacy';
  // ---- arm-smmu context faults (issue 16, stall mode)
  /**
   * what a context fault does to the faulting transaction, decided by the SCTLR value the
   * driver writes: 'stall' (3.14 arm_smmu_init_context_bank writes SCTLR_CFCFG with
   * CFIE/CFRE: the transaction waits in the SMMU until arm_smmu_context_fault writes
   * CB_RESUME) or 'terminate' (mainline arm_smmu_write_context_bank: CFIE/CFRE/AFE/TRE/M
   * without CFCFG: the master gets the abort at once)
   */
  smmuContextFaultMode: 'stall' | 'terminate';
  /**
   * how the driver programs a stage-1 context bank: 'init-context-bank' (3.14
   * arm_smmu_init_context_bank: the context interrupt requested first, then CBAR, TTBR0_LO,
   * TTBR0_HI with the ASID, TTBCR, MAIR0/1, SCTLR) or 'write-context-bank' (v6.12
   * arm_smmu_write_context_bank: CBAR, TCR (T0SZ 32 in its 6-bit field), TTBR0 and TTBR1 as
   * 64-bit writes high word first, MAIR0/1, SCTLR, then the interrupt requested)
   */
  smmuCbProgramming: 'init-context-bank' | 'write-context-bank';
  /**
   * which translation stage a domain's context uses, from sIDR0: 'nested-s1-else-s2' (3.14
   * arm_smmu_init_domain_context: with NTS stage 1 (S2 bypass) in a bank from NUMS2CB up; else
   * with S2TS stage 2 (CBAR type 0) from bank 0, even when S1TS is set too; else stage 1) or
   * 's1-first' (v6.12 arm_smmu_init_domain_context: stage 1 when S1TS, else stage 2)
   */
  smmuStageChoice: 'nested-s1-else-s2' | 's1-first';
  /**
   * the driver's TLB maintenance: 'asid' (3.14 arm_smmu_tlb_inv_context after every unmapped
   * page and when a context is destroyed: TLBIASID, then a global sync writing 0 to
   * sTLBGSYNC) or 'va' (v6.12: io-pgtable-arm reports each cleared leaf, TLBIVAL of its
   * address | ASID; the IOMMU core's iotlb_sync then syncs the context (CBn_TLBSYNC,
   * CBn_TLBSTATUS); an unhooked table TLBIVA per 4 KiB of its range and a context sync; a
   * destroyed context is only disabled; sync registers get QCOM_DUMMY_VAL)
   */
  smmuTlbInvalidation: 'asid' | 'va';
  /**
   * what arm_smmu_context_fault returns for a fault no domain handler took
   * (report_iommu_fault != 0): 'irq-none' (3.14: RESUME_TERMINATE and IRQ_NONE, so a
   * device that keeps faulting feeds note_interrupt's "nobody cared") or 'irq-handled'
   * (mainline: logs "Unhandled context fault", clears FSR, returns IRQ_HANDLED)
   */
  smmuUnhandledFaultReturn: 'irq-none' | 'irq-handled';
  // ---- exact answers of the 2014 stack (issue 16, item 6)
  /**
   * what vfio-platform's GET_INFO, GET_REGION_INFO and GET_IRQ_INFO return when the copy
   * out to user space faults: 'bytes-not-copied' (patches 04, 05, 08 end with `return
   * copy_to_user(...)`, i.e. the positive count of bytes not copied) or 'efault'
   * (mainline vfio_platform_ioctl: `copy_to_user(...) ? -EFAULT : 0`)
   */
  copyToUserReturn: 'bytes-not-copied' | 'efault';
  /**
   * the container fd's file operations besides ioctl: 'passthrough' (3.14 vfio.c
   * vfio_fops_read/write/mmap: the IOMMU driver's op, -EINVAL without a driver or op) or
   * 'ioctl-only' (mainline's container fops have no read/write/mmap: mmap -ENODEV from
   * do_mmap, read/write -EINVAL from vfs_read/vfs_write)
   */
  containerFileOps: 'passthrough' | 'ioctl-only';
  /**
   * VFIO_TYPE1v2_IOMMU offered by vfio_iommu_type1 (vfio_iommu_type1_ioctl
   * CHECK_EXTENSION, vfio_iommu_type1_open): false in 3.14 (type1 answers TYPE1 only, so
   * SET_IOMMU(TYPE1v2) is -ENODEV from vfio_ioctl_set_iommu; v2 came with 3.15), true in
   * mainline
   */
  type1v2: boolean;
  // ---- issue 17: type1 as today (mainline drivers/vfio/vfio_iommu_type1.c)
  /**
   * adjacent MAP_DMA requests with contiguous vaddr and equal prot merged into one mapping:
   * true in 3.14 (vfio_dma_do_map joins the new range with its neighbours), false in
   * mainline (vfio_dma_do_map links one struct vfio_dma per request, vfio_link_dma)
   */
  type1MergeMappings: boolean;
  /**
   * what UNMAP_DMA does to the mappings it overlaps: 'trim-split' (3.14 as modelled: any
   * page range, mappings trimmed or split) or 'whole-mappings' (mainline vfio_dma_do_unmap:
   * only whole mappings are removed; a TYPE1 (v1) container removes every mapping whose
   * first IOVA the request covers and stops at one starting before the request (size 0);
   * a TYPE1v2 container refuses a request that would split a mapping with -EINVAL)
   */
  type1UnmapRule: 'trim-split' | 'whole-mappings';
  /**
   * VFIO_DMA_UNMAP_FLAG_ALL and the VFIO_UNMAP_ALL extension (mainline
   * vfio_iommu_type1_unmap_dma / vfio_dma_do_unmap: iova and size must be 0, -EINVAL
   * otherwise); false in 3.14 (flags must be 0)
   */
  type1UnmapAll: boolean;
  /**
   * MAP_DMA refused with -EINVAL outside the IOMMU domain's aperture (mainline
   * vfio_dma_do_map -> vfio_iommu_iova_dma_valid over the iova list built at attach from
   * domain->geometry, arm-smmu's aperture_end = 2^ias - 1); false in 3.14 (no check)
   */
  type1IovaAperture: boolean;
  /**
   * VFIO_IOMMU_GET_INFO answers with the capability chain (mainline
   * vfio_iommu_type1_get_info: migration, DMA-avail and IOVA-ranges capabilities,
   * VFIO_IOMMU_INFO_CAPS, cap_offset, argsz raised when the buffer is too small); false in
   * 3.14 (16-byte answer only)
   */
  type1InfoCaps: boolean;
  /**
   * dirty page tracking: VFIO_IOMMU_DIRTY_PAGES (START/STOP/GET_BITMAP) and UNMAP_DMA's
   * VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP (mainline vfio_iommu_type1_dirty_pages,
   * vfio_iommu_type1_unmap_dma; kernel-model/vfio/type1-dirty.ts); false in 3.14 (DIRTY_PAGES
   * -ENOTTY, unmap flags must be 0)
   */
  type1DirtyPages: boolean;
  /**
   * the module parameter dma_entry_limit: MAP_DMA beyond it is -ENOSPC (mainline
   * vfio_dma_do_map, `if (!iommu->dma_avail)`; default U16_MAX = 65535); 0 in 3.14 (no limit)
   */
  type1DmaEntryLimit: number;
  /**
   * how type1 unmaps a range it removes (vfio_unmap_unpin): 'page' (3.14: iommu_unmap of
   * PAGE_SIZE per page, "expect IOMMUs that support large pages to unmap a larger chunk") or
   * 'range' (mainline: from each page the run of physically contiguous pages, found with
   * iommu_iova_to_phys page by page, unmapped with iommu_unmap_fast; the IOTLB synced every
   * VFIO_IOMMU_TLB_SYNC_MAX runs and at the end)
   */
  type1UnmapChunk: 'page' | 'range';
  /**
   * how type1 pins a mapping's next physically contiguous chunk, which it then maps with one
   * iommu_map (both kernels; the module parameter disable_hugepages makes every chunk one page):
   * 'pin-pages' (3.14 vfio_pin_pages: a reserved first frame is a chunk of one; the chunk ends
   * before a page that fails to pin, is not the next frame, is reserved, or would pass
   * RLIMIT_MEMLOCK, with the warning, after which the next chunk's first page fails -ENOMEM with
   * the warning again) or 'pin-pages-remote' (mainline vfio_pin_pages_remote: consecutive frames
   * alike reserved or not, so VM_PFNMAP runs make one chunk; a page past the limit or failing to
   * pin fails the call, one warning)
   */
  type1PinChunk: 'pin-pages' | 'pin-pages-remote';
  /**
   * whose mm->locked_vm type1 uncharges when it unpins a mapping's pages (UNMAP_DMA, the
   * container's release): 'current-mm' (3.14 vfio_lock_acct(-unlocked): current->mm, the
   * process making the call, nothing when it has no mm; so a fork child holding the container
   * fd that unmaps the parent's mapping takes the pages off its own locked_vm, below zero,
   * and the parent's stay charged against its RLIMIT_MEMLOCK) or 'dma-mm' (mainline: the
   * mapping keeps the mm that mapped it, vfio_dma->mm, and vfio_lock_acct(dma, -n, true)
   * uncharges that one). Charging at MAP_DMA is the caller's mm in both.
   */
  type1LockAcct: 'current-mm' | 'dma-mm';
  /**
   * vfio_iommu_type1_attach_group probes a new domain for fine-grained superpages
   * (mainline vfio_test_domain_fgsp: maps two pages at the first 8 KiB-aligned free IOVA and
   * unmaps one); the 3.14 driver has no such probe
   */
  type1FgspProbe: boolean;
  /**
   * type1 maps with IOMMU_CACHE: false (3.14 vfio_dma_do_map adds it only when iommu->cache,
   * "currently never set") or true (mainline vfio_iommu_map / vfio_iommu_replay: `prot |
   * IOMMU_CACHE` always, since 5.19 "vfio: Move the Intel no-snoop control off of
   * IOMMU_CACHE"); the prot recorded in the vfio_dma stays without it
   */
  type1MapCache: boolean;
  /**
   * the IOMMU driver reports reserved IOVA regions and the IOMMU core shows them: true in
   * mainline (arm_smmu_get_resv_regions: the software MSI window 0x8000000..0x80fffff,
   * IOMMU_RESV_SW_MSI; /sys/kernel/iommu_groups/N/reserved_regions through
   * iommu_group_show_resv_regions), false in 3.14 (no get_resv_regions op, no attribute)
   */
  iommuResvRegions: boolean;
  /**
   * vfio_iommu_type1 takes a group's reserved regions out of the container's IOVA list
   * (mainline vfio_iommu_type1_attach_group -> iommu_get_group_resv_regions,
   * vfio_iommu_resv_conflict (-EINVAL when a mapping overlaps one), vfio_iommu_resv_exclude;
   * MAP_DMA into one is -EINVAL through vfio_iommu_iova_dma_valid; GET_INFO's IOVA ranges split
   * around them); false in 3.14
   */
  type1ResvRegions: boolean;
  /**
   * the VFIO_DMA_CC_IOMMU extension: true in mainline (vfio_iommu_type1_check_extension: 0
   * before SET_IOMMU, then 1 only when every domain enforces cache coherency,
   * vfio_domains_have_enforce_cache_coherency); false in 3.14 (the extension came with 3.15;
   * CHECK_EXTENSION answers 0)
   */
  type1DmaCc: boolean;
  // ---- issue 17: the VFIO core and vfio-platform's SET_IRQS/RESET as today's kernel
  /**
   * the group ioctls SET_CONTAINER and GET_DEVICE_FD: 'vfio-c' (3.14 drivers/vfio/vfio.c
   * vfio_group_set_container: a negative fd -EINVAL, a group with container users -EINVAL
   * before fdget, an fd that is not a container -EINVAL; vfio_group_get_device_fd: the
   * container checks (-EINVAL) before the name lookup) or 'group-c' (mainline
   * drivers/vfio/group.c vfio_group_ioctl_set_container: fdget first (-EBADF for any bad fd,
   * negative included), then the group's container (-EINVAL), then an fd that is neither a
   * container (vfio_container_from_file) nor an iommufd: -EBADFD;
   * vfio_group_ioctl_get_device_fd: vfio_device_get_from_name first (-ENODEV for an unknown
   * name, before any container check))
   */
  groupIoctls: 'vfio-c' | 'group-c';
  /**
   * VFIO_DEVICE_RESET on a vfio-platform device: 'einval' (patch 04's vfio_platform_ioctl:
   * -EINVAL, silently) or 'call-reset' (mainline vfio_platform_ioctl ->
   * vfio_platform_call_reset: the device's reset function, else dev_warn "no reset function
   * found!" and -EINVAL; the PL330 has none, which is why it binds only with
   * reset_required cleared)
   */
  deviceReset: 'einval' | 'call-reset';
  // ---- issue 17: kernel command line, module parameters, isolated MSI, reset_required
  /**
   * kernel command-line parsing (kernel/params.c parse_args, lib/cmdline.c next_arg,
   * init/main.c unknown_bootoption): 'strtobool-first-error' (3.14: parse_args returns at the first failing
   * parameter; bools through strtobool: y/Y/1, n/N/0; no "--"; unknown parameters pass
   * silently) or 'kstrtobool-all-errors' (mainline: every failing parameter reported, parsing goes on; "--" ends
   * the kernel's part; bools through kstrtobool: also t/T/f/F, e/E/d/D, on/off; non-dotted
   * unknown parameters listed by print_unknown_bootoptions)
   */
  cmdlineRules: 'strtobool-first-error' | 'kstrtobool-all-errors';
  /**
   * the interrupt-isolation check of vfio_iommu_type1_attach_group: 'pci-intr-remap' (3.14:
   * iommu_domain_has_cap(IOMMU_CAP_INTR_REMAP) unless allow_unsafe_interrupts; with patch 03
   * only where type1 serves the PCI bus, and the 3.14 arm_smmu_domain_has_cap answers
   * CACHE_COHERENCY only) or 'group-isolated-msi' (mainline: iommu_group_has_isolated_msi ->
   * msi_device_has_isolated_msi for every device of the group; a platform device with wired
   * interrupts on a GICv2 has no MSI domain with IRQ_DOMAIN_FLAG_ISOLATED_MSI and
   * arch_is_isolated_msi() is false on ARM, so -EPERM unless allow_unsafe_interrupts)
   */
  type1MsiIsolation: 'pci-intr-remap' | 'group-isolated-msi';
  /**
   * mainline vfio_platform.c module_param reset_required (default true):
   * vfio_platform_init_common -> vfio_platform_get_reset; a device without a reset
   * function fails to probe ("No reset function found for device %s", -ENOENT) unless
   * vfio_platform.reset_required=0. The 2014 series has neither the parameter nor the check.
   */
  vfioPlatformResetRequired: boolean;
  /**
   * mainline arm-smmu.c module_param disable_bypass (0444, default
   * CONFIG_ARM_SMMU_DISABLE_BYPASS_BY_DEFAULT=y): the parameter exists (its behaviour is
   * the arm-smmu driver's); 3.14 arm-smmu.c has no such parameter
   */
  smmuDisableBypassParam: boolean;

  // ---- issue 17: arm-smmu and the IOMMU core as today (mainline v6.12)
  /**
   * what the SMMU does with a stream no domain holds: 'bypass' (3.14 arm_smmu_device_reset:
   * every S2CR BYPASS and sCR0.USFCFG clear, detach writes BYPASS back: an unattached or
   * released stream reaches memory untranslated) or 'disable-bypass-param' (mainline module
   * parameter arm-smmu.disable_bypass, default from CONFIG_ARM_SMMU_DISABLE_BYPASS_BY_DEFAULT=y:
   * sCR0.USFCFG set and s2cr_init_val FAULT, so an unknown stream faults with sGFSR.USF and
   * arm_smmu_global_fault reports "Blocked unknown Stream ID")
   */
  smmuBypass: 'bypass' | 'disable-bypass-param';
  /**
   * arm_smmu_device_cfg_probe as each kernel reads the ID registers and says what it found:
   * '3.14' (the version from PIDR2.ARCHITECTURE, -ENODEV for a v8-only table format
   * (sIDR0.PTFS), the SMR ID/mask width probed on SMR0 inside cfg_probe, the summary
   * "\t%lu-bit VA, %lu-bit IPA, %lu-bit PA") or '6.12' (the version from the compatible,
   * "\taddress translation ops" for an SMMUv1 with stage 1, the coherency line of
   * `smmuCoherentWalk`, "stream matching with %u register groups" without a mask, the SMR widths
   * probed after the reset on the first free SMR (arm_smmu_test_smr_masks), "\tSupported page
   * sizes: 0x%08lx" and one "\tStage-N: ..." line per supported stage); every line dev_notice
   */
  smmuCfgProbe: '3.14' | '6.12';
  /**
   * lib/ratelimit.c ___ratelimit when an interval has passed: 'zero' (3.14: rs->begin = 0, so
   * the next call starts the new interval) or 'jiffies' (v6.12: rs->begin = jiffies at once);
   * the dev_err_ratelimited lines of the arm-smmu fault handlers follow it
   */
  ratelimitReset: 'zero' | 'jiffies';
  /**
   * where ARM_SMMU_FEAT_COHERENT_WALK (and so IOMMU_CAP_CACHE_COHERENCY) comes from:
   * 'id-register' (3.14 arm_smmu_device_cfg_probe: sIDR0.CTTW; arm_smmu_domain_has_cap answers
   * the capability from it) or 'firmware' (mainline arm_smmu_device_dt_probe: of_dma_is_coherent
   * of the SMMU node, a `dma-coherent` property on it or a parent; cfg_probe only notes CTTW,
   * "\t%scoherent table walk" and "\t(IDR0.CTTW overridden by FW configuration)" when they
   * differ; arm_smmu_capable answers COHERENT_WALK || the device's own dma-coherent)
   */
  smmuCoherentWalk: 'id-register' | 'firmware';
  /**
   * mainline __vfio_register_dev (drivers/vfio/vfio_main.c; "vfio: Require that devices support
   * DMA cache coherence", v5.19, moved there from vfio_group_find_or_alloc in v6.6): a device
   * whose IOMMU does not answer IOMMU_CAP_CACHE_COHERENCY for it cannot be registered
   * (-EINVAL, so vfio_platform_probe fails): VFIO always maps with IOMMU_CACHE and user space
   * cannot maintain caches. The 2014 VFIO core has no such check.
   */
  vfioRequireCacheCoherency: boolean;
  /**
   * IOMMU default domains: 'none' (3.14: a group has no domain until a user attaches one;
   * arm_smmu_attach_dev programs the stream-map entries then and frees them at detach) or
   * 'per-binding' (mainline iommu_probe_device -> iommu_group_alloc_default_domain: the
   * stream-map entries are allocated at probe (arm_smmu_master_alloc_smes) and the group
   * sits in its default domain, IDENTITY with the legacy "mmu-masters" binding
   * (arm_smmu_def_domain_type) or a translating IOMMU_DOMAIN_DMA domain behind the DMA API
   * (iommu_setup_dma_ops, dma-iommu) with `iommus`; a DMA-ownership claim moves it to the
   * blocking domain, release back to the default: __iommu_group_set_core_domain)
   */
  iommuDefaultDomain: 'none' | 'per-binding';
  /**
   * the fault reports of arm-smmu: '3.14' (arm_smmu_context_fault "Unhandled context fault:
   * iova=..., fsynr=..., cb=..." dev_err_ratelimited; arm_smmu_global_fault "Unexpected global
   * fault, this could be serious" + GFSR/GFSYNR0/GFSYNR1) or '6.12' (arm_smmu_context_fault ->
   * arm_smmu_print_context_fault_info: "Unhandled context fault: fsr=..., iova=..., fsynr=...,
   * cbfrsynra=..., cb=..." then the decoded FSR and FSYNR0 lines, one __ratelimit;
   * arm_smmu_global_fault: "Blocked unknown Stream ID ..." for USF with
   * CONFIG_ARM_SMMU_DISABLE_BYPASS_BY_DEFAULT, else "Unexpected global fault", then
   * GFSR/GFSYNR0/GFSYNR1/GFSYNR2)
   */
  smmuFaultMessages: '3.14' | '6.12';
  /** the kernel release the boot banner prints ("Linux version <release>-vfio-arm-emu"): init/version.c linux_banner */
  kernelRelease: '3.14.0' | '6.12.0';
  // ---- issue 17: the AMBA bus and vfio-amba
  /**
   * the bus of a device-tree node compatible with `arm,primecell` (the PL330): 'platform' or
   * 'amba' (mainline of_platform_bus_create -> of_amba_device_create -> amba_device_add,
   * drivers/of/platform.c and drivers/amba/bus.c: an AMBA device whose peripheral id is read
   * from its registers, matched by amba_id tables, e.g. dma-pl330's {0x00041330, 0x000fffff}).
   * NOTE: 3.14's of_platform_bus_create already created AMBA devices for `arm,primecell`
   * nodes (CONFIG_ARM_AMBA), so the 3.14 PL330 was an AMBA device too. The 2014 profiles
   * keep it on the platform bus on purpose: the RFC v4 series' vfio_bind looked devices up
   * on the platform bus only (bus_find_device_by_name(&platform_bus_type, ...)), and its
   * cover letter lists "Bind to ARM AMBA devices" as TODO; the series' own test set-up (the
   * one the scenario reproduces) bound the PL330 as a platform device. See docs/PROFILES.md.
   */
  primecellBus: 'platform' | 'amba';
  /**
   * the vfio-amba driver (mainline drivers/vfio/platform/vfio_amba.c): an AMBA driver on the
   * vfio-platform common code, GET_INFO flags VFIO_DEVICE_FLAGS_AMBA, reset_required false
   * (vfio_amba_init_dev); false in 3.14 and the RFC (no AMBA support: a TODO of the cover letter)
   */
  vfioAmba: boolean;
  // ---- issue 23: the device-centric VFIO path
  /**
   * the VFIO device cdev (mainline drivers/vfio/device_cdev.c, CONFIG_VFIO_DEVICE_CDEV):
   * /dev/vfio/devices/vfioN and sysfs `vfio-dev/vfioN` for every registered VFIO device
   * (vfio_device_add), a device fd unusable until VFIO_DEVICE_BIND_IOMMUFD, then
   * VFIO_DEVICE_ATTACH/DETACH_IOMMUFD_PT; exclusion with the group path
   * (vfio_device_block_group, vfio_group_fops_open). false: groups only (3.14, the RFC)
   */
  vfioDeviceCdev: boolean;
  /**
   * the VFIO core decodes VFIO_DEVICE_FEATURE on device fds (mainline 5.18+
   * vfio_ioctl_device_feature: kernel-model/vfio/device-feature.ts); false: the request goes to
   * the bus driver like any other (3.14, the RFC: vfio-platform's default -ENOTTY)
   */
  vfioDeviceFeature: boolean;
  /**
   * the last VFIO device of a group going away (its driver unbound) revokes the group at once
   * (mainline group.c vfio_device_remove_group: off vfio.group_list and its /dev/vfio node,
   * detached from its container, DMA ownership released, group->iommu_group NULL: GET_STATUS
   * and SET_CONTAINER -ENODEV on the fd still open); false: 3.14 keeps the group, its node and
   * its container until the last reference (the open group fd) is put (vfio_group_release)
   */
  vfioGroupRevoke: boolean;
  /**
   * type1 offers VFIO_TYPE1_NESTING_IOMMU (6): v6.12 vfio_iommu_type1_check_extension 1,
   * vfio_iommu_type1_open sets nesting and v2, attach calls iommu_enable_nesting, which
   * arm-smmu (v1/v2) grants on a fresh domain (stage NESTED) and arm_smmu_init_domain_context
   * turns back into stage 1 without ARM_SMMU_FEAT_TRANS_NESTED: a TYPE1v2 container on this
   * MMU-400 model. Removed in 6.13; 3.14 never had it.
   */
  type1Nesting: boolean;
  /**
   * which interrupts GET_IRQ_INFO reports MASKABLE (and SET_IRQS MASK/UNMASK accepts): 'all'
   * (RFC patch 10 vfio_platform_irq_init: EVENTFD | MASKABLE for every line) or 'level'
   * (mainline vfio_platform_irq_init: MASKABLE | AUTOMASKED only when irq_get_trigger_type is a
   * level type; an edge line is EVENTFD only, MASK/UNMASK -EINVAL)
   */
  irqMaskable: 'all' | 'level';
  // ---- issue 23: iommufd
  /**
   * iommufd (drivers/iommu/iommufd/, Linux v6.12; kernel-model/iommu/iommufd): 'none' (3.14
   * has no iommufd; CONFIG_IOMMUFD came with 6.2), 'dev-iommu' (mainline CONFIG_IOMMUFD=y:
   * /dev/iommu, IOAS/HWPT/device objects; /dev/vfio/vfio stays VFIO's container with
   * vfio_iommu_type1) or 'dev-iommu+vfio-compat' (also CONFIG_IOMMUFD_VFIO_CONTAINER=y with
   * CONFIG_VFIO_CONTAINER=n: /dev/vfio/vfio is an iommufd, the container ioctls answered by
   * vfio_compat.c over a compat IOAS, no vfio_iommu_type1; profile variant
   * `mainline+iommufd-compat`, see docs/PROFILES.md "The iommufd compat container")
   */
  iommufd: 'none' | 'dev-iommu' | 'dev-iommu+vfio-compat';

  /** reproduced review findings and defects of the posted patches */
  bugs: Bugs;
}

/** A patch's change to the capabilities (bugs merge field by field). */
export type CapabilityDelta = Partial<Omit<Capabilities, 'bugs'>> & { bugs?: Partial<Bugs> };
