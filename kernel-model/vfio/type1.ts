/**
 * vfio_iommu_type1 (drivers/vfio/vfio_iommu_type1.c), the VFIO container's IOMMU backend, in two
 * flavours chosen by capabilities (kernel-model/profile.ts): the 2014 tree the RFC v4 series applies
 * to, and mainline. This module is the driver as the VFIO core sees it (struct
 * vfio_iommu_driver_ops): module init and registration (vfio_iommu_type1_init), CHECK_EXTENSION,
 * open/release of a container's backend, group attach/detach (the IOVA list, interrupt isolation),
 * and the ioctl dispatch. The rest lives in:
 * - type1-ioctl.ts: GET_INFO, MAP_DMA and UNMAP_DMA (argument checks, GET_INFO's capability chain),
 * - type1-dma.ts: the container state (struct vfio_iommu) and its mappings (struct vfio_dma: pin,
 *   map, link/merge, unmap/unpin, split, vaddr invalidation),
 * - type1-iova.ts: the list of valid IOVA ranges (aperture minus reserved regions).
 */
import { EBUSY, EINVAL, EIO, ENODEV, EPERM } from '../base/errno.js';
import type { KernelLog } from '../base/klog.js';
import type { KernelParams } from '../base/params.js';
import { IOMMU_CACHE, IOMMU_CAP_INTR_REMAP, IOMMU_READ, IOMMU_WRITE, type IommuCore, type IommuGroup } from '../iommu/types.js';
import type { AddressSpace, PinnedPage } from '../process/mm.js';
import type { Capabilities } from '../profile.js';
import { VFIO_CHECK_EXTENSION, VFIO_DMA_CC_IOMMU, VFIO_TYPE1_IOMMU, VFIO_TYPE1_NESTING_IOMMU, VFIO_TYPE1v2_IOMMU, VFIO_UNMAP_ALL, VFIO_UPDATE_VADDR } from '../uapi/constants.js';
import type { Task } from '../vfs/file.js';
import { removeRange, Type1Iommu } from './type1-dma.js';
import { type1Ioctl, type Type1IoctlCtx } from './type1-ioctl.js';
import { iovaListAttach, iovaListRefresh } from './type1-iova.js';
import type { VfioIommuDriverOps } from './types.js';
import type { Vfio } from './vfio.js';

export { Type1Iommu, type DmaMappingView, type VfioDma } from './type1-dma.js';
export type { IovaRange } from './type1-iova.js';

/** vfio_iommu_type1_attach_group's pr_warn after "%s: " (__func__); the same text in 3.14 and mainline */
export const NO_INTR_REMAP = 'No interrupt remapping support.  Use the module param "allow_unsafe_interrupts" to enable VFIO IOMMU support on this platform';

export interface Type1Options {
  iommu: IommuCore;
  caps: Readonly<Capabilities>;
  log: KernelLog | null;
  /**
   * the kernel's module parameters (kernel-model/base/params.ts): allow_unsafe_interrupts
   * and, where it exists, dma_entry_limit are read from there, live (both are 0644 in
   * sysfs); without it the two options below apply
   */
  params?: KernelParams | null;
  /** module parameter allow_unsafe_interrupts when `params` is absent (default false) */
  allowUnsafeInterrupts?: boolean;
  /** the kernel's page allocator (vfio_test_domain_fgsp's order-1 allocation); absent: no probe */
  pages?: { allocPages(order: number): number; freePages(pa: number, order?: number): void } | null;
  /**
   * the mm of Linux's `current` (SyscallLayer.current: null outside a syscall or exit), which
   * 3.14's vfio_lock_acct uncharges (`type1LockAcct` 'current-mm'); absent (a driver built
   * without a syscall layer): the mapping's own mm
   */
  current?: () => AddressSpace | null;
}

/**
 * mainline iommu_group_has_isolated_msi (drivers/iommu/iommu.c): true only when every
 * device of the group has isolated MSI (msi_device_has_isolated_msi, kernel/irq/msi.c: an
 * MSI domain with IRQ_DOMAIN_FLAG_ISOLATED_MSI in its parent chain, else
 * arch_is_isolated_msi(), false on ARM). The model's board has a GICv2 without an MSI
 * controller (no GICv2m, no ITS): no device has an MSI domain, so only an empty group
 * (the loop's `ret = true` start) is isolated.
 */
export function iommuGroupHasIsolatedMsi(group: IommuGroup): boolean {
  return group.devices.length === 0;
}

/**
 * vfio_iommu_type1 as the 2014 tree has it (Linux 3.13/3.14 base of the RFC v4 series:
 * one IOMMU domain per container allocated at SET_IOMMU, adjacent mappings merged),
 * with patch 02 (VFIO_DMA_MAP_FLAG_EXEC -> IOMMU_EXEC) and patch 03 (register for the
 * platform bus) selected by the profile's capabilities (`dmaMapBit2`, `type1PlatformBus`,
 * `iommuInfoPgsizes`); mainline gives bit 2 the VADDR meaning (see docs/VFIO.md for what
 * of it is modelled).
 */
export class Type1Driver implements VfioIommuDriverOps, Type1IoctlCtx {
  readonly name = 'vfio-iommu-type1';
  readonly instances: Type1Iommu[] = [];
  /** scratch for the ioctls' argument structs (type1-ioctl.ts) */
  readonly sbuf = new Uint8Array(48);
  readonly sview = new DataView(this.sbuf.buffer);
  /** scratch for every page pin and unpin (type1-dma.ts) */
  readonly pin: PinnedPage = { pa: 0, reserved: false };

  constructor(
    readonly opts: Type1Options,
    /** the bus whose IOMMU the domains are allocated on */
    readonly busName: string,
    /** interrupt remapping required (PCI targets) */
    readonly requireIntrRemap: boolean,
  ) {
    // every field is readonly: frozen, so that the fuzzer's snapshot (tools/fuzz/snapshot.ts) need not record it
    Object.freeze(this);
  }

  get caps(): Readonly<Capabilities> {
    return this.opts.caps;
  }

  get log(): KernelLog | null {
    return this.opts.log;
  }

  get currentMm(): (() => AddressSpace | null) | undefined {
    return this.opts.current;
  }

  /**
   * the IOMMU types this type1 offers (vfio_iommu_type1_ioctl CHECK_EXTENSION): TYPE1, and
   * TYPE1v2 where `type1v2` (mainline; 3.15 added it). The container remembers which it
   * was opened as (iommu->v2): mainline's unmap rules differ (`type1UnmapRule`).
   */
  private offers(type: number): boolean {
    return type === VFIO_TYPE1_IOMMU || (type === VFIO_TYPE1v2_IOMMU && this.caps.type1v2) || (type === VFIO_TYPE1_NESTING_IOMMU && this.caps.type1Nesting);
  }

  /**
   * CHECK_EXTENSION: the IOMMU types, and in mainline (vfio_iommu_type1_check_extension) VFIO_UNMAP_ALL
   * (`type1UnmapAll`); VFIO_UPDATE_VADDR (`dmaMapBit2 = vaddr`) once the container has its IOMMU
   * (`iommu && !vfio_iommu_has_emulated(iommu)`: this model has no emulated (mdev) groups, so 1 after
   * SET_IOMMU, 0 before); VFIO_DMA_CC_IOMMU (`type1DmaCc`) 0 before SET_IOMMU, then 1 only when
   * every domain enforces cache coherency (vfio_domains_have_enforce_cache_coherency). That flag
   * is set at attach from the domain's enforce_cache_coherency op, which arm-smmu
   * (drivers/iommu/arm/arm-smmu/arm-smmu.c) does not have: 0 on this board. The older rule
   * (3.15-5.18, vfio_domains_have_iommu_cache from iommu_capable(IOMMU_CAP_CACHE_COHERENCY)) would
   * answer 1 with the boards' dma-coherent SMMU. 3.14 knows neither extension: 0.
   */
  private extension(arg: number, it: Type1Iommu | null): number {
    if (this.offers(arg)) return 1;
    if (arg === VFIO_UNMAP_ALL && this.caps.type1UnmapAll) return 1;
    if (arg === VFIO_UPDATE_VADDR && this.caps.dmaMapBit2 === 'vaddr') return it !== null ? 1 : 0;
    if (arg === VFIO_DMA_CC_IOMMU && this.caps.type1DmaCc) return it !== null && it.domain.enforceCacheCoherency?.() === true ? 1 : 0;
    return 0;
  }

  /** vfio_iommu_type1.allow_unsafe_interrupts, read when it is used (writable in sysfs) */
  private get allowUnsafeInterrupts(): boolean {
    const p = this.opts.params;
    if (p) return p.bool('vfio_iommu_type1', 'allow_unsafe_interrupts');
    return this.opts.allowUnsafeInterrupts ?? false;
  }

  /** vfio_iommu_type1.disable_hugepages (0644), read at each MAP_DMA: every chunk one page (type1-dma.ts) */
  get disableHugepages(): boolean {
    const p = this.opts.params;
    return p ? p.has('vfio_iommu_type1', 'disable_hugepages') && p.bool('vfio_iommu_type1', 'disable_hugepages') : false;
  }

  /** mainline vfio_iommu_type1_open: iommu->dma_avail = dma_entry_limit (the module parameter's value now) */
  private get dmaEntryLimit(): number {
    const p = this.opts.params;
    if (p && this.caps.type1DmaEntryLimit > 0 && p.has('vfio_iommu_type1', 'dma_entry_limit')) return p.uint('vfio_iommu_type1', 'dma_entry_limit');
    return this.caps.type1DmaEntryLimit;
  }

  open(arg: number): object | number {
    if (!this.offers(arg)) return -EINVAL;
    const d = this.opts.iommu.domainAlloc(this.busName);
    if (typeof d === 'number') return -EIO;
    // `type1MsiIsolation` 'pci-intr-remap': 3.14 vfio_iommu_type1_attach_group asks
    // iommu_domain_has_cap(IOMMU_CAP_INTR_REMAP) unless allow_unsafe_interrupts; patch 03
    // requires it only where type1 serves the PCI bus. (Checked here, when the domain is
    // allocated at SET_IOMMU: the errno and message reach the caller alike.)
    if (this.caps.type1MsiIsolation === 'pci-intr-remap' && this.requireIntrRemap && !this.allowUnsafeInterrupts && !this.opts.iommu.capable(this.busName, IOMMU_CAP_INTR_REMAP)) {
      this.opts.log?.warn('', `vfio_iommu_type1_attach_group: ${NO_INTR_REMAP}`);
      this.opts.iommu.domainFree(d);
      return -EPERM;
    }
    // vfio_iommu_type1_open: TYPE1_NESTING sets nesting and falls through to v2; on this SMMU
    // the nested stage falls back to stage 1 at attach, so only v2 is visible (`type1Nesting`)
    const it = new Type1Iommu(d, arg === VFIO_TYPE1v2_IOMMU || arg === VFIO_TYPE1_NESTING_IOMMU, this.dmaEntryLimit);
    this.instances.push(it);
    return it;
  }

  release(data: object): void {
    const it = data as Type1Iommu;
    removeRange(this, it, 0, Number.MAX_SAFE_INTEGER);
    for (const g of [...it.groups]) this.opts.iommu.detachGroup(it.domain, g);
    it.groups.length = 0;
    this.opts.iommu.domainFree(it.domain);
    it.iovaList = [];
    it.groupResv.clear();
    it.released = true;
    const i = this.instances.indexOf(it);
    if (i >= 0) this.instances.splice(i, 1);
  }

  attachGroup(data: object, group: IommuGroup): number {
    const it = data as Type1Iommu;
    // mainline vfio_iommu_type1_attach_group: "Attach could require pinning, so disallow while
    // vaddr is invalid" (-EBUSY, before the duplicate check)
    if (it.vaddrInvalidCount > 0) return -EBUSY;
    if (it.groups.includes(group)) return -EINVAL;
    const r = this.opts.iommu.attachGroup(it.domain, group);
    if (r) return r;
    // the IOVA list is built on a copy that replaces the list only when the whole attach succeeds
    // (mainline: iova_copy, vfio_iommu_iova_insert_copy after every check)
    const savedList = it.iovaList;
    if (this.caps.type1IovaAperture) {
      const e = this.attachIovaList(it, group);
      if (e) {
        this.opts.iommu.detachGroup(it.domain, group);
        return e;
      }
    }
    // `type1MsiIsolation` 'group-isolated-msi': mainline vfio_iommu_type1_attach_group, after
    // iommu_attach_group and the IOVA checks: `if (!allow_unsafe_interrupts &&
    // !iommu_group_has_isolated_msi(iommu_group))` pr_warn("%s: No interrupt remapping
    // support. ...", __func__), -EPERM, goto out_detach (the group is detached again, the IOVA
    // copy dropped)
    if (this.caps.type1MsiIsolation === 'group-isolated-msi' && !this.allowUnsafeInterrupts && !iommuGroupHasIsolatedMsi(group)) {
      this.opts.log?.warn('', `vfio_iommu_type1_attach_group: ${NO_INTR_REMAP}`);
      it.iovaList = savedList;
      it.groupResv.delete(group);
      this.opts.iommu.detachGroup(it.domain, group);
      return -EPERM;
    }
    // mainline: a new domain is probed for fine-grained superpages before the mappings are
    // replayed into it (the model's container has its one domain from the first group on)
    if (this.caps.type1FgspProbe && it.groups.length === 0) this.testDomainFgsp(it);
    it.groups.push(group);
    return 0;
  }

  /**
   * mainline vfio_test_domain_fgsp: two zeroed pages (alloc_pages order 1) mapped with one
   * iommu_map (READ | WRITE | IOMMU_CACHE) at the first 8 KiB-aligned IOVA of the first IOVA
   * range that holds them, then iommu_unmap of the first page: a domain that unmaps more
   * than the page asked has fine-grained superpages (domain->fgsp, vfio_unmap_unpin then
   * unmaps page by page); else the second page is unmapped too. io-pgtable-arm unmaps the
   * page asked, so `fgsp` stays false here; what remains is the probe's traffic (the tables it
   * allocates stay, two TLBIVALs and syncs on the v6.12 arm-smmu)
   */
  private testDomainFgsp(it: Type1Iommu): void {
    const pages = this.opts.pages;
    if (!pages) return;
    const pa = pages.allocPages(1);
    if (pa < 0) return;
    const P = 4096;
    // the IOVA list: [start, end] inclusive ranges (struct vfio_iova), or the whole aperture
    const ranges: readonly (readonly [number, number])[] = it.iovaList.length > 0 ? it.iovaList : [[0, 2 ** (it.domain.ias ?? 32) - 1]];
    for (const [rs, re] of ranges) {
      const start = Math.ceil(rs / (2 * P)) * (2 * P);
      if (start >= re || re - start < 2 * P) continue;
      if (it.domain.map(start, pa, 2 * P, IOMMU_READ | IOMMU_WRITE | IOMMU_CACHE) === 0) {
        const unmapped = it.domain.unmap(start, P);
        if (unmapped === P) it.domain.unmap(start + P, P);
        else it.fgsp = true;
      }
      break;
    }
    pages.freePages(pa, 1);
  }

  /**
   * mainline vfio_iommu_type1_attach_group after iommu_attach_group: the group's reserved regions
   * (iommu_get_group_resv_regions, `type1ResvRegions`) checked against the mappings and cut out of
   * the IOVA list (type1-iova.ts iovaListAttach)
   */
  private attachIovaList(it: Type1Iommu, group: IommuGroup): number {
    const regions = this.caps.type1ResvRegions ? (this.opts.iommu.getGroupResvRegions?.(group) ?? []) : [];
    return iovaListAttach(it, group, regions);
  }

  detachGroup(data: object, group: IommuGroup): void {
    const it = data as Type1Iommu;
    const i = it.groups.indexOf(group);
    if (i < 0) return;
    this.opts.iommu.detachGroup(it.domain, group);
    it.groups.splice(i, 1);
    // mainline vfio_iommu_type1_detach_group -> vfio_iommu_resv_refresh (type1-iova.ts)
    it.groupResv.delete(group);
    if (this.caps.type1IovaAperture && it.iovaList.length > 0) iovaListRefresh(it);
  }

  ioctl(data: object | null, task: Task | null, cmd: number, arg: number): number {
    const it = data as Type1Iommu | null;
    if (cmd === VFIO_CHECK_EXTENSION) return this.extension(arg, it);
    if (it === null || task === null) return -EINVAL;
    // GET_INFO, MAP_DMA, UNMAP_DMA (type1-ioctl.ts)
    return type1Ioctl(this, it, task, cmd, arg);
  }
}

/**
 * vfio_iommu_type1_init: decides the bus and registers with the VFIO core. Without
 * patch 03 only the PCI bus counts (this board has none: -ENODEV, nothing registered,
 * CHECK_EXTENSION(TYPE1) answers 0). With patch 03 PCI is preferred (interrupt remapping
 * then required), else the platform bus when an IOMMU serves it (mainline behaves as with
 * patch 03: registers whenever an IOMMU is present on either bus).
 */
export function vfioIommuType1Init(vfio: Vfio, opts: Type1Options): Type1Driver | number {
  const { iommu, caps } = opts;
  let bus: string | null = null;
  let intr = false;
  if (iommu.present('pci')) {
    bus = 'pci';
    intr = true;
  } else if (caps.type1PlatformBus && iommu.present('platform')) {
    bus = 'platform';
  }
  if (bus === null) {
    opts.log?.info('vfio_iommu_type1', 'no IOMMU on a supported bus: not registered');
    return -ENODEV;
  }
  const drv = new Type1Driver(opts, bus, intr);
  const r = vfio.registerIommuDriver(drv);
  return r < 0 ? r : drv;
}

