import { EBUSY, EEXIST, EFAULT, EINVAL, EIO, ENODEV, ENOENT, ENOMEM, ENOSPC, ENOTTY, EPERM } from '../base/errno.js';
import type { KernelLog } from '../base/klog.js';
import type { KernelParams } from '../base/params.js';
import { IOMMU_CAP_INTR_REMAP, IOMMU_EXEC, IOMMU_READ, IOMMU_RESV_DIRECT_RELAXABLE, IOMMU_WRITE, type IommuCore, type IommuDomain, type IommuGroup, type IommuResvRegion } from '../iommu/types.js';
import type { AddressSpace, PinnedPage } from '../process/mm.js';
import type { Capabilities } from '../profile.js';
import {
  VFIO_CHECK_EXTENSION,
  VFIO_DMA_CC_IOMMU,
  VFIO_DMA_MAP_FLAG_EXEC,
  VFIO_DMA_MAP_FLAG_READ,
  VFIO_DMA_MAP_FLAG_VADDR,
  VFIO_DMA_MAP_FLAG_WRITE,
  VFIO_IOMMU_GET_INFO,
  VFIO_IOMMU_INFO_PGSIZES,
  VFIO_IOMMU_MAP_DMA,
  VFIO_IOMMU_UNMAP_DMA,
  VFIO_TYPE1_IOMMU,
  VFIO_TYPE1v2_IOMMU,
  VFIO_UNMAP_ALL,
  VFIO_UPDATE_VADDR,
} from '../uapi/constants.js';
import type { Task } from '../vfs/file.js';
import type { VfioIommuDriverOps } from './types.js';
import type { Vfio } from './vfio.js';

const PAGE_SIZE = 4096;
const PAGE_SHIFT = 12;
const TWO32 = 2 ** 32;
const TWO64 = 2n ** 64n;
const VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP = 1 << 0;
const VFIO_DMA_UNMAP_FLAG_ALL = 1 << 1;
const VFIO_DMA_UNMAP_FLAG_VADDR = 1 << 2;
const VFIO_IOMMU_INFO_CAPS = 1 << 1;
/** vfio_iommu_type1_attach_group's pr_warn after "%s: " (__func__); the same text in 3.14 and mainline */
export const NO_INTR_REMAP = 'No interrupt remapping support.  Use the module param "allow_unsafe_interrupts" to enable VFIO IOMMU support on this platform';

/**
 * the last IOVA of a domain's aperture (arm-smmu arm_smmu_init_domain_context:
 * geometry.aperture_end = (1 << ias) - 1); a domain without an input size (test fakes)
 * gets the model's 2^52 limit
 */
function apertureEnd(d: IommuDomain): number {
  const ias = d.ias;
  return (ias === undefined ? 2 ** 52 : 2 ** ias) - 1;
}

/** mainline vfio_iommu_iova_dma_valid: [start, end] inside one range of the list, or the list empty */
function iovaDmaValid(list: readonly IovaRange[], start: number, end: number): boolean {
  if (list.length === 0) return true;
  for (const [s, e] of list) if (start >= s && end <= e) return true;
  return false;
}

/**
 * mainline vfio_iommu_resv_exclude: each reserved region (IOMMU_RESV_DIRECT_RELAXABLE ones excepted)
 * is cut out of the ranges it overlaps, leaving the parts below and above it
 */
function resvExclude(list: readonly IovaRange[], regions: readonly IommuResvRegion[]): IovaRange[] {
  let out: IovaRange[] = [...list];
  for (const r of regions) {
    if (r.type === IOMMU_RESV_DIRECT_RELAXABLE) continue;
    const start = r.start;
    const end = r.start + r.length - 1;
    const next: IovaRange[] = [];
    for (const [s, e] of out) {
      if (start > e || end < s) {
        next.push([s, e]);
        continue;
      }
      if (start > s) next.push([s, start - 1]);
      if (end < e) next.push([end + 1, e]);
    }
    out = next;
  }
  return out;
}

/** a mapping straddles `start` or `end` (mainline vfio_dma_do_unmap's v2 check: the unmap would split it) */
function splits(ds: readonly VfioDma[], start: number, end: number): boolean {
  for (const d of ds) {
    const dEnd = d.iova + d.size;
    if (d.iova < start && dEnd > start) return true;
    if (d.iova < end && dEnd > end) return true;
  }
  return false;
}

/** One DMA mapping (struct vfio_dma): its pages, pinned through `mm` at map time. */
export interface VfioDma {
  iova: number;
  size: number;
  vaddr: number;
  /** IOMMU_* prot */
  prot: number;
  /** physical address per page */
  pa: Float64Array;
  /** 1 where the page is a reserved (VM_PFNMAP) frame: not pinned, not accounted */
  reserved: Uint8Array;
  mm: AddressSpace;
  /** mainline dma->vaddr_invalid: UNMAP_DMA with VFIO_DMA_UNMAP_FLAG_VADDR dropped the vaddr */
  vaddrInvalid: boolean;
}

export interface DmaMappingView {
  iova: number;
  size: number;
  vaddr: number;
  prot: number;
  /** the vaddr was invalidated (mainline UNMAP_DMA with VFIO_DMA_UNMAP_FLAG_VADDR) and not yet restored */
  vaddrInvalid: boolean;
}

/** one valid IOVA range (mainline struct vfio_iova): start and last address, inclusive */
export type IovaRange = readonly [start: number, end: number];

/** A container's type1 backend instance (struct vfio_iommu): one IOMMU domain, its groups and mappings. */
export class Type1Iommu {
  readonly groups: IommuGroup[] = [];
  /** mappings sorted by iova */
  readonly dmas: VfioDma[] = [];
  released = false;
  /** MAP_DMA entries still available (mainline iommu->dma_avail, from dma_entry_limit; unused when the limit is 0) */
  dmaAvail: number;
  /** mappings whose vaddr is invalidated (mainline iommu->vaddr_invalid_count) */
  vaddrInvalidCount = 0;
  /**
   * the valid IOVA ranges (mainline iommu->iova_list), sorted: empty until a group is
   * attached (vfio_iommu_iova_dma_valid then accepts any IOVA), then the domain's aperture
   * minus the attached groups' reserved regions
   */
  iovaList: IovaRange[] = [];
  /** each attached group's reserved regions (iommu_get_group_resv_regions at attach) */
  readonly groupResv = new Map<IommuGroup, IommuResvRegion[]>();
  constructor(
    readonly domain: IommuDomain,
    /** opened as VFIO_TYPE1v2_IOMMU (iommu->v2) */
    readonly v2 = false,
    dmaEntryLimit = 0,
  ) {
    this.dmaAvail = dmaEntryLimit;
  }

  mappings(): DmaMappingView[] {
    return this.dmas.map((d) => ({ iova: d.iova, size: d.size, vaddr: d.vaddr, prot: d.prot, vaddrInvalid: d.vaddrInvalid }));
  }

  /** pages pinned by this container's mappings (reserved frames excluded) */
  get pinnedPages(): number {
    let n = 0;
    for (const d of this.dmas) for (let i = 0; i < d.reserved.length; i++) if (!d.reserved[i]) n++;
    return n;
  }
}

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
export class Type1Driver implements VfioIommuDriverOps {
  readonly name = 'vfio-iommu-type1';
  readonly instances: Type1Iommu[] = [];
  private readonly sbuf = new Uint8Array(48);
  private readonly sview = new DataView(this.sbuf.buffer);
  private readonly pin: PinnedPage = { pa: 0, reserved: false };

  constructor(
    readonly opts: Type1Options,
    /** the bus whose IOMMU the domains are allocated on */
    readonly busName: string,
    /** interrupt remapping required (PCI targets) */
    readonly requireIntrRemap: boolean,
  ) {}

  private get caps(): Readonly<Capabilities> {
    return this.opts.caps;
  }

  /**
   * the IOMMU types this type1 offers (vfio_iommu_type1_ioctl CHECK_EXTENSION): TYPE1, and
   * TYPE1v2 where `type1v2` (mainline; 3.15 added it). The container remembers which it
   * was opened as (iommu->v2): mainline's unmap rules differ (`type1UnmapRule`).
   */
  private offers(type: number): boolean {
    return type === VFIO_TYPE1_IOMMU || (type === VFIO_TYPE1v2_IOMMU && this.caps.type1v2);
  }

  /**
   * CHECK_EXTENSION: the IOMMU types, and in mainline (vfio_iommu_type1_check_extension) VFIO_UNMAP_ALL
   * (`type1UnmapAll`); VFIO_UPDATE_VADDR (`dmaMapBit2 = vaddr`) once the container has its IOMMU
   * (`iommu && !vfio_iommu_has_emulated(iommu)`: this model has no emulated (mdev) groups, so 1 after
   * SET_IOMMU, 0 before); VFIO_DMA_CC_IOMMU (`type1DmaCc`) 0 before SET_IOMMU, then 1 only when
   * every domain enforces cache coherency (vfio_domains_have_enforce_cache_coherency). That flag
   * is set at attach from the domain's enforce_cache_coherency op, which arm-smmu
   * (drivers/iommu/arm/arm-smmu/arm-smmu.c) does not have: 0 on this board. The older rule
   * (3.15-5.18, vfio_domains_have_iommu_cache from iommu_capable(IOMMU_CAP_CACHE_COHERENCY)) gives
   * 0 too: arm_smmu_capable answers it from ARM_SMMU_FEAT_COHERENT_WALK (sIDR0.CTTW), clear on this
   * MMU-400. 3.14 knows neither extension: 0.
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
    const it = new Type1Iommu(d, arg === VFIO_TYPE1v2_IOMMU, this.dmaEntryLimit);
    this.instances.push(it);
    return it;
  }

  release(data: object): void {
    const it = data as Type1Iommu;
    this.removeRange(it, 0, Number.MAX_SAFE_INTEGER);
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
    it.groups.push(group);
    return 0;
  }

  /**
   * mainline vfio_iommu_type1_attach_group after iommu_attach_group: the group's reserved regions
   * (iommu_get_group_resv_regions, `type1ResvRegions`); vfio_iommu_resv_conflict: an existing
   * mapping overlapping one (IOMMU_RESV_DIRECT_RELAXABLE excepted) -EINVAL; then on a copy of the
   * IOVA list vfio_iommu_aper_resize to the domain's aperture and vfio_iommu_resv_exclude (a list
   * left empty -EINVAL); the copy replaces the list only when the attach succeeds. (One domain
   * per container here, so vfio_iommu_aper_conflict, which compares a new domain's aperture,
   * never fires.)
   */
  private attachIovaList(it: Type1Iommu, group: IommuGroup): number {
    const regions = this.caps.type1ResvRegions ? (this.opts.iommu.getGroupResvRegions?.(group) ?? []) : [];
    for (const r of regions) {
      if (r.type === IOMMU_RESV_DIRECT_RELAXABLE) continue;
      for (const d of it.dmas) if (d.iova < r.start + r.length && r.start < d.iova + d.size) return -EINVAL;
    }
    const base: IovaRange[] = it.iovaList.length > 0 ? it.iovaList : [[0, apertureEnd(it.domain)]];
    const list = resvExclude(base, regions);
    if (list.length === 0) return -EINVAL;
    it.iovaList = list;
    it.groupResv.set(group, regions);
    return 0;
  }

  detachGroup(data: object, group: IommuGroup): void {
    const it = data as Type1Iommu;
    const i = it.groups.indexOf(group);
    if (i < 0) return;
    this.opts.iommu.detachGroup(it.domain, group);
    it.groups.splice(i, 1);
    // mainline vfio_iommu_type1_detach_group -> vfio_iommu_resv_refresh: the list is rebuilt from
    // the aperture minus the reserved regions of the groups still attached
    it.groupResv.delete(group);
    if (this.caps.type1IovaAperture && it.iovaList.length > 0) {
      let list: IovaRange[] = [[0, apertureEnd(it.domain)]];
      for (const g of it.groups) list = resvExclude(list, it.groupResv.get(g) ?? []);
      it.iovaList = list;
    }
  }

  ioctl(data: object | null, task: Task | null, cmd: number, arg: number): number {
    const it = data as Type1Iommu | null;
    if (cmd === VFIO_CHECK_EXTENSION) return this.extension(arg, it);
    if (it === null || task === null) return -EINVAL;
    const mm = task.mm;
    const b = this.sbuf;
    const v = this.sview;
    switch (cmd) {
      case VFIO_IOMMU_GET_INFO: {
        if (mm.copyFromUser(b, 0, arg, 16) < 0) return -EFAULT;
        if (v.getUint32(0, true) < 16) return -EINVAL;
        // the 2014 type1 writes flags 0; mainline reports PGSIZES
        v.setUint32(4, this.caps.iommuInfoPgsizes ? VFIO_IOMMU_INFO_PGSIZES : 0, true);
        v.setUint32(8, it.domain.pgsizeBitmap >>> 0, true);
        v.setUint32(12, Math.floor(it.domain.pgsizeBitmap / TWO32) >>> 0, true);
        if (this.caps.type1InfoCaps) return this.infoCaps(it, mm, arg, v.getUint32(0, true));
        return mm.copyToUser(arg, b, 0, 16) < 0 ? -EFAULT : 0;
      }
      case VFIO_IOMMU_MAP_DMA: {
        if (mm.copyFromUser(b, 0, arg, 32) < 0) return -EFAULT;
        const flags = v.getUint32(4, true);
        let mask = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE;
        if (this.caps.dmaMapBit2 === 'vaddr') mask |= VFIO_DMA_MAP_FLAG_VADDR;
        else if (this.caps.dmaMapBit2 === 'exec') mask |= VFIO_DMA_MAP_FLAG_EXEC;
        if (v.getUint32(0, true) < 32 || (flags & ~mask) !== 0) return -EINVAL;
        return this.doMap(it, mm, flags, v.getBigUint64(8, true), v.getBigUint64(16, true), v.getBigUint64(24, true), task);
      }
      case VFIO_IOMMU_UNMAP_DMA: {
        if (mm.copyFromUser(b, 0, arg, 24) < 0) return -EFAULT;
        const uflags = v.getUint32(4, true);
        const uargsz = v.getUint32(0, true);
        // mainline vfio_iommu_type1_unmap_dma: flags outside GET_DIRTY_BITMAP|VADDR|ALL are -EINVAL
        // (3.14: flags must be 0)
        let umask = 0;
        if (this.caps.type1UnmapAll) umask |= VFIO_DMA_UNMAP_FLAG_ALL;
        if (this.caps.type1InfoCaps) umask |= VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP;
        if (this.caps.dmaMapBit2 === 'vaddr') umask |= VFIO_DMA_UNMAP_FLAG_VADDR;
        if (uargsz < 24 || (uflags & ~umask) !== 0) return -EINVAL;
        if (uflags & VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP) {
          // GET_DIRTY_BITMAP with ALL or VADDR -EINVAL; argsz must cover the struct vfio_bitmap that
          // follows (-EINVAL), read with copy_from_user (-EFAULT); then vfio_dma_do_unmap refuses it
          // (-EINVAL) because dirty page tracking is off: VFIO_IOMMU_DIRTY_PAGES is not modelled,
          // so it can never be started
          if (uflags & (VFIO_DMA_UNMAP_FLAG_ALL | VFIO_DMA_UNMAP_FLAG_VADDR)) return -EINVAL;
          if (uargsz < 48) return -EINVAL;
          if (mm.copyFromUser(b, 24, arg + 24, 24) < 0) return -EFAULT;
          return -EINVAL;
        }
        const r = this.doUnmap(it, v.getBigUint64(8, true), v.getBigUint64(16, true), (uflags & VFIO_DMA_UNMAP_FLAG_ALL) !== 0, (uflags & VFIO_DMA_UNMAP_FLAG_VADDR) !== 0);
        if (r < 0) return r;
        v.setBigUint64(16, BigInt(r), true);
        return mm.copyToUser(arg, b, 0, 24) < 0 ? -EFAULT : 0;
      }
      default:
        return -ENOTTY;
    }
  }

  private minMask(it: Type1Iommu): number {
    const bm = it.domain.pgsizeBitmap;
    let low = 1;
    while (low <= bm && (bm & low) === 0 && low < 2 ** 30) low *= 2;
    return low - 1;
  }

  private doMap(it: Type1Iommu, mm: AddressSpace, flags: number, vaddrB: bigint, iovaB: bigint, sizeB: bigint, task: Task): number {
    // vaddr and size are unsigned long / size_t on 32-bit ARM: larger values do not fit
    if (vaddrB >= BigInt(TWO32) || sizeB >= BigInt(TWO32)) return -EINVAL;
    // model limit: iova beyond 2^52 cannot be represented (and is beyond any SMMU IAS)
    if (iovaB >= 2n ** 52n) return -EINVAL;
    const vaddr = Number(vaddrB);
    const iova = Number(iovaB);
    const size = Number(sizeB);
    const mask = this.minMask(it);
    if (this.caps.dmaMapBit2 === 'vaddr' && (flags & VFIO_DMA_MAP_FLAG_VADDR) !== 0) {
      // mainline vfio_dma_do_map with VFIO_DMA_MAP_FLAG_VADDR (set_vaddr): READ or WRITE with it
      // -EINVAL; size, iova and vaddr aligned, size non-zero, no IOVA or vaddr wrap (-EINVAL)
      if ((flags & (VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE)) !== 0) return -EINVAL;
      if (!size || size % (mask + 1) !== 0 || iova % (mask + 1) !== 0 || vaddr % (mask + 1) !== 0) return -EINVAL;
      if (iovaB + sizeB > TWO64 || vaddr + size > TWO32) return -EINVAL;
      // vfio_find_dma(iommu, iova, size): no mapping overlaps the range -ENOENT; the one found
      // must be exactly [iova, iova + size) and have its vaddr invalidated, else -EINVAL
      const d = it.dmas.find((x) => x.iova < iova + size && iova < x.iova + x.size);
      if (!d) return -ENOENT;
      if (!d.vaddrInvalid || d.iova !== iova || d.size !== size) return -EINVAL;
      // vfio_change_dma_owner moves the mapping's locked_vm to the caller's mm when it differs
      // from the mapping's: no fd reaches a second mm in this model (no fork, no fd passing,
      // exec starts a new process), so the caller's mm is always the mapping's and nothing moves
      d.vaddr = vaddr;
      d.vaddrInvalid = false;
      it.vaddrInvalidCount--;
      return 0;
    }
    let prot = 0;
    if (flags & VFIO_DMA_MAP_FLAG_WRITE) prot |= IOMMU_WRITE;
    if (flags & VFIO_DMA_MAP_FLAG_READ) prot |= IOMMU_READ;
    if (this.caps.dmaMapBit2 === 'exec' && (flags & VFIO_DMA_MAP_FLAG_EXEC)) prot |= IOMMU_EXEC;
    if (!prot) return -EINVAL;
    if (!size || size % (mask + 1) !== 0 || iova % (mask + 1) !== 0 || vaddr % (mask + 1) !== 0) return -EINVAL;
    if (iovaB + sizeB > TWO64) return -EINVAL;
    if (vaddr + size > TWO32) return -EINVAL;
    for (const d of it.dmas) if (d.iova < iova + size && iova < d.iova + d.size) return -EEXIST;
    // mainline vfio_dma_do_map: `if (!iommu->dma_avail) return -ENOSPC` (dma_entry_limit)
    if (this.caps.type1DmaEntryLimit > 0 && it.dmaAvail <= 0) return -ENOSPC;
    // mainline vfio_dma_do_map -> vfio_iommu_iova_dma_valid: [iova, iova + size - 1] inside one
    // range of the IOVA list (the aperture minus the reserved regions; an empty list accepts all).
    // Pinning the new range needs only its own vaddr: other mappings' invalidated vaddrs do not
    // matter (today's vfio_dma_do_map has no vaddr_invalid_count check)
    if (this.caps.type1IovaAperture && !iovaDmaValid(it.iovaList, iova, iova + size - 1)) return -EINVAL;

    const npage = size >>> PAGE_SHIFT;
    const dma: VfioDma = { iova, size, vaddr, prot, pa: new Float64Array(npage), reserved: new Uint8Array(npage), mm, vaddrInvalid: false };
    const limit = Math.floor(task.proc.rlimitMemlock / PAGE_SIZE);
    const lockCap = task.proc.capIpcLock;
    let done = 0;
    let err = 0;
    for (; done < npage; done++) {
      const va = vaddr + done * PAGE_SIZE;
      // 3.14 vfio_pin_pages -> vaddr_get_pfn: get_user_pages_fast(vaddr, 1, !!(prot & IOMMU_WRITE), ...):
      // pinned for write only with IOMMU_WRITE, so an EXEC-only mapping (patch 02) is pinned
      // for read although the 2014 arm-smmu makes it device-writable (issue 16 item 3)
      const r = mm.pinUserPage(va, (prot & IOMMU_WRITE) !== 0, this.pin);
      if (r < 0) {
        err = r;
        break;
      }
      if (!this.pin.reserved) {
        if (!lockCap && mm.lockedVm + 1 > limit) {
          mm.unpinPage(this.pin);
          this.opts.log?.warn('vfio_iommu_type1', `RLIMIT_MEMLOCK (${task.proc.rlimitMemlock}) exceeded`);
          err = -ENOMEM;
          break;
        }
        mm.lockedVm++;
      }
      dma.pa[done] = this.pin.pa;
      dma.reserved[done] = this.pin.reserved ? 1 : 0;
      const io = iova + done * PAGE_SIZE;
      if (it.domain.iovaToPhys(io) !== null) {
        err = -EBUSY;
        this.unpinOne(dma, done);
        break;
      }
      const m = it.domain.map(io, this.pin.pa, PAGE_SIZE, prot);
      if (m) {
        err = m;
        this.unpinOne(dma, done);
        break;
      }
    }
    if (err) {
      // atomic failure: nothing stays mapped or pinned
      if (done > 0) it.domain.unmap(iova, done * PAGE_SIZE);
      for (let i = 0; i < done; i++) this.unpinOne(dma, i);
      return err;
    }
    this.insertAndMerge(it, dma);
    if (this.caps.type1DmaEntryLimit > 0) it.dmaAvail--;
    return 0;
  }

  private unpinOne(d: VfioDma, i: number): void {
    if (d.reserved[i]) return;
    this.pin.pa = d.pa[i]!;
    this.pin.reserved = false;
    d.mm.unpinPage(this.pin);
    d.mm.lockedVm--;
  }

  private insertAndMerge(it: Type1Iommu, dma: VfioDma): void {
    const ds = it.dmas;
    let i = 0;
    while (i < ds.length && ds[i]!.iova < dma.iova) i++;
    ds.splice(i, 0, dma);
    // mainline vfio_dma_do_map keeps one vfio_dma per request (vfio_link_dma)
    if (!this.caps.type1MergeMappings) return;
    // merge with the right neighbour, then with the left one
    const right = ds[i + 1];
    if (right && this.mergeable(dma, right)) {
      this.concat(dma, right);
      ds.splice(i + 1, 1);
    }
    const left = i > 0 ? ds[i - 1] : undefined;
    if (left && this.mergeable(left, dma)) {
      this.concat(left, dma);
      ds.splice(i, 1);
    }
  }

  private mergeable(a: VfioDma, b: VfioDma): boolean {
    return a.iova + a.size === b.iova && a.vaddr + a.size === b.vaddr && a.prot === b.prot && a.mm === b.mm;
  }

  private concat(a: VfioDma, b: VfioDma): void {
    const pa = new Float64Array(a.pa.length + b.pa.length);
    pa.set(a.pa);
    pa.set(b.pa, a.pa.length);
    const rs = new Uint8Array(pa.length);
    rs.set(a.reserved);
    rs.set(b.reserved, a.reserved.length);
    a.pa = pa;
    a.reserved = rs;
    a.size += b.size;
  }

  private doUnmap(it: Type1Iommu, iovaB: bigint, sizeB: bigint, all: boolean, invalidate: boolean): number {
    if (all) {
      // mainline vfio_dma_do_unmap: UNMAP_FLAG_ALL needs iova and size 0
      if (iovaB !== 0n || sizeB !== 0n) return -EINVAL;
      if (invalidate) return this.invalidateVaddr(it, 0, Number.MAX_SAFE_INTEGER, false);
      return this.removeWhole(it, 0, Number.MAX_SAFE_INTEGER, false);
    }
    const mask = BigInt(this.minMask(it));
    if (!sizeB || (sizeB & mask) !== 0n || (iovaB & mask) !== 0n) return -EINVAL;
    if (iovaB >= 2n ** 52n) return 0; // nothing can be mapped there
    const iova = Number(iovaB);
    const end = iovaB + sizeB >= 2n ** 52n ? Number.MAX_SAFE_INTEGER : Number(iovaB + sizeB);
    if (this.caps.type1UnmapRule === 'whole-mappings') {
      if (iovaB + sizeB > TWO64) return -EINVAL; // `iova + size - 1 < iova`
      if (invalidate) return this.invalidateVaddr(it, iova, end, !it.v2);
      return this.removeWhole(it, iova, end, !it.v2);
    }
    return this.removeRange(it, iova, end);
  }

  /**
   * mainline vfio_dma_do_unmap over [start, end): v2 refuses to split a mapping (-EINVAL
   * when a mapping straddles either end); v1 walks the overlapping mappings in IOVA order,
   * stops at one starting before `start` (so a request starting inside a mapping removes
   * nothing and reports 0) and removes every other one whole, even past `end`
   */
  private removeWhole(it: Type1Iommu, start: number, end: number, v1: boolean): number {
    const ds = it.dmas;
    if (!v1 && splits(ds, start, end)) return -EINVAL;
    let unmapped = 0;
    for (let i = 0; i < ds.length; i++) {
      const d = ds[i]!;
      if (d.iova + d.size <= start) continue;
      if (d.iova >= end) break;
      if (v1 && d.iova < start) break;
      unmapped += d.size;
      this.removeRange(it, d.iova, d.iova + d.size);
      i--;
    }
    return unmapped;
  }

  /**
   * mainline vfio_dma_do_unmap with VFIO_DMA_UNMAP_FLAG_VADDR (alone or with FLAG_ALL): the same walk
   * and the same v1/v2 rules as an unmap, but each mapping it reaches keeps its pages, its IOMMU
   * entries and its place and only gets vaddr_invalid set; the size written back is the sum of
   * their sizes. Reaching a mapping already invalidated undoes the ones marked by this call and
   * fails with -EINVAL (size 0).
   *
   * What needs a vaddr while it is invalid, in today's kernel (the vaddr_wait queue that blocked
   * vfio_pin_pages / vfio_dma_rw / vfio_iommu_replay, commit 898b9eaeb3fe "vfio/type1: block on
   * invalid vaddr" of 5.12, was reverted in 6.3 by "vfio/type1: revert "block on invalid vaddr"";
   * VFIO_UPDATE_VADDR is instead refused to containers with emulated (mdev) groups, the only users
   * of vfio_pin_pages / vfio_dma_rw, which this model does not have): attaching another group
   * (its replay would pin through the vaddrs) is -EBUSY (vfio_iommu_type1_attach_group). Nothing
   * blocks: device DMA keeps using the pages pinned at map time through the IOMMU; a MAP_DMA of a
   * new range pins its own vaddr; a plain UNMAP_DMA removes an invalidated mapping (its pfns come
   * from the IOMMU, vfio_unmap_unpin) and so does closing the container (vfio_remove_dma drops
   * vaddr_invalid_count).
   */
  private invalidateVaddr(it: Type1Iommu, start: number, end: number, v1: boolean): number {
    const ds = it.dmas;
    if (!v1 && splits(ds, start, end)) return -EINVAL;
    let n = 0;
    let i = 0;
    for (; i < ds.length; i++) {
      const d = ds[i]!;
      if (d.iova + d.size <= start) continue;
      if (d.iova >= end) break;
      if (v1 && d.iova < start) break;
      if (d.vaddrInvalid) {
        for (let j = 0; j < i; j++) {
          const m = ds[j]!;
          if (m.iova + m.size <= start) continue;
          m.vaddrInvalid = false;
          it.vaddrInvalidCount--;
        }
        return -EINVAL;
      }
      d.vaddrInvalid = true;
      it.vaddrInvalidCount++;
      n += d.size;
    }
    return n;
  }

  /**
   * mainline vfio_iommu_type1_get_info: the capability chain as vfio_iommu_migration_build_caps,
   * vfio_iommu_dma_avail_build_caps and vfio_iommu_iova_build_caps add it (vfio_info_cap_add,
   * each capability 8-byte aligned), shifted behind the 24-byte struct vfio_iommu_type1_info
   * (vfio_info_cap_shift). A buffer too small for it gets argsz raised and no chain; the
   * fixed part is copied up to cap_offset when argsz covers it.
   */
  private infoCaps(it: Type1Iommu, mm: AddressSpace, arg: number, argsz: number): number {
    const INFO = 24;
    // vfio_iommu_iova_build_caps: one range per IOVA list entry (split around reserved regions);
    // no capability when the list is empty
    const ranges = it.iovaList;
    const migration = 32;
    const avail = 16;
    const iova = ranges.length > 0 ? 16 + 16 * ranges.length : 0;
    const total = INFO + migration + avail + iova;
    const buf = new Uint8Array(total);
    const dv = new DataView(buf.buffer);
    dv.setUint32(0, argsz, true);
    dv.setUint32(4, VFIO_IOMMU_INFO_PGSIZES | VFIO_IOMMU_INFO_CAPS, true);
    dv.setUint32(8, it.domain.pgsizeBitmap >>> 0, true);
    dv.setUint32(12, Math.floor(it.domain.pgsizeBitmap / TWO32) >>> 0, true);
    const header = (off: number, id: number, next: number): void => {
      dv.setUint16(off, id, true);
      dv.setUint16(off + 2, 1, true);
      dv.setUint32(off + 4, next, true);
    };
    // VFIO_IOMMU_TYPE1_INFO_CAP_MIGRATION: flags 0, pgsize_bitmap, max_dirty_bitmap_size
    // (DIRTY_BITMAP_SIZE_MAX: INT_MAX pages rounded to u64 words, in bytes = 2^28)
    let o = INFO;
    header(o, 2, o + migration);
    dv.setUint32(o + 8, 0, true);
    dv.setUint32(o + 16, it.domain.pgsizeBitmap >>> 0, true);
    dv.setUint32(o + 20, Math.floor(it.domain.pgsizeBitmap / TWO32) >>> 0, true);
    dv.setBigUint64(o + 24, 1n << 28n, true);
    // VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL: avail
    o += migration;
    header(o, 3, iova > 0 ? o + avail : 0);
    dv.setUint32(o + 8, it.dmaAvail >>> 0, true);
    // VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE: nr_iovas, reserved, ranges (start, end inclusive)
    o += avail;
    if (iova > 0) {
      header(o, 1, 0);
      dv.setUint32(o + 8, ranges.length, true);
      ranges.forEach(([s, e], k) => {
        dv.setBigUint64(o + 16 + 16 * k, BigInt(s), true);
        dv.setBigUint64(o + 24 + 16 * k, BigInt(e), true);
      });
    }
    let copy = 16;
    if (argsz >= 20) copy = 20; // offsetofend(cap_offset): cap_offset written (0 unless the chain fits)
    if (argsz < total) {
      dv.setUint32(0, total, true);
      return mm.copyToUser(arg, buf, 0, copy) < 0 ? -EFAULT : 0;
    }
    dv.setUint32(16, INFO, true);
    if (mm.copyToUser(arg + INFO, buf, INFO, total - INFO) < 0) return -EFAULT;
    return mm.copyToUser(arg, buf, 0, copy) < 0 ? -EFAULT : 0;
  }

  /** unmap [start, end): trims, splits or removes every overlapping mapping; returns bytes unmapped */
  private removeRange(it: Type1Iommu, start: number, end: number): number {
    let unmapped = 0;
    const ds = it.dmas;
    for (let i = 0; i < ds.length; i++) {
      const d = ds[i]!;
      const dEnd = d.iova + d.size;
      if (dEnd <= start || d.iova >= end) continue;
      const from = Math.max(start, d.iova);
      const to = Math.min(end, dEnd);
      const p0 = (from - d.iova) / PAGE_SIZE;
      const p1 = (to - d.iova) / PAGE_SIZE;
      it.domain.unmap(from, to - from);
      for (let p = p0; p < p1; p++) this.unpinOne(d, p);
      unmapped += to - from;
      if (from === d.iova && to === dEnd) {
        ds.splice(i, 1);
        if (this.caps.type1DmaEntryLimit > 0) it.dmaAvail++; // vfio_remove_dma
        if (d.vaddrInvalid) it.vaddrInvalidCount--; // vfio_remove_dma
        i--;
      } else if (from === d.iova) {
        d.pa = d.pa.slice(p1);
        d.reserved = d.reserved.slice(p1);
        d.vaddr += to - d.iova;
        d.size = dEnd - to;
        d.iova = to;
      } else if (to === dEnd) {
        d.pa = d.pa.slice(0, p0);
        d.reserved = d.reserved.slice(0, p0);
        d.size = from - d.iova;
      } else {
        const tail: VfioDma = {
          iova: to,
          size: dEnd - to,
          vaddr: d.vaddr + (to - d.iova),
          prot: d.prot,
          pa: d.pa.slice(p1),
          reserved: d.reserved.slice(p1),
          mm: d.mm,
          vaddrInvalid: d.vaddrInvalid,
        };
        d.pa = d.pa.slice(0, p0);
        d.reserved = d.reserved.slice(0, p0);
        d.size = from - d.iova;
        ds.splice(i + 1, 0, tail);
        i++;
      }
    }
    return unmapped;
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

export { ENOMEM };
