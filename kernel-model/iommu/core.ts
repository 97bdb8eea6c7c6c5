import { EBUSY, EINVAL, ENODEV, ENOSYS, EPERM, ERANGE } from '../base/errno.js';
import type { KernelLog } from '../base/klog.js';
import type { BusEvent } from '../driver/core.js';
import type { KDevice } from '../driver/types.js';
import type { Sysfs } from '../sysfs/sysfs.js';
import type { IommuCore as IommuCoreApi, IommuDomain, IommuGroup, IommuResvRegion } from './types.js';

/** report_iommu_fault flags */
export const IOMMU_FAULT_READ = 0;
export const IOMMU_FAULT_WRITE = 1;

/** What an IOMMU driver provides (struct iommu_ops, reduced; group-level attach). */
export interface IommuOps {
  readonly name: string;
  readonly pgsizeBitmap: number;
  /** iommu_ops->capable (mainline: per device; 3.14 domain_has_cap: `dev` absent) */
  capable(cap: number, dev?: KDevice): boolean;
  /** allocate the domain's private state (page tables): 0 or -errno */
  domainInit(d: Domain): number;
  domainDestroy(d: Domain): void;
  /** program the hardware so the group's masters translate through d: 0 or -errno */
  attachGroup(d: Domain, g: Group): number;
  detachGroup(d: Domain, g: Group): void;
  /** map one page of size pgsize (a bit of pgsizeBitmap): 0 or -errno */
  mapPage(d: Domain, iova: number, pa: number, pgsize: number, prot: number): number;
  /** unmap the entry at iova (asked size pgsize): bytes unmapped, 0 if nothing */
  unmapPage(d: Domain, iova: number, pgsize: number): number;
  /**
   * mainline iommu_domain_ops.iotlb_sync: wait for the invalidations the unmaps since the last
   * sync queued (arm_smmu_iotlb_sync). Absent or a no-op: each unmapPage completed its own (3.14)
   */
  iotlbSync?(d: Domain): void;
  iovaToPhys(d: Domain, iova: number): number | null;
  /** mainline iommu_ops.get_resv_regions: the IOVA ranges the driver reserves for `dev` (absent: none) */
  getResvRegions?(dev: KDevice): IommuResvRegion[];
  /**
   * mainline arm_smmu_probe_device -> arm_smmu_master_alloc_smes: the group's stream-map
   * entries, allocated once when its devices are probed, their S2CRs at the driver's initial
   * type (s2cr_init_val: fault with disable_bypass). Absent: entries are programmed at attach
   * (3.14).
   */
  probeGroup?(g: Group): number;
  /**
   * mainline arm_smmu_attach_dev_type (identity / blocked domains): the group's S2CRs to
   * BYPASS or FAULT, no context bank
   */
  setGroupStreams?(g: Group, type: 'bypass' | 'fault'): void;
}

/** iommu_group_resv_type_string (mainline drivers/iommu/iommu.c), indexed by IOMMU_RESV_* */
const RESV_TYPE_NAMES = ['direct', 'direct-relaxable', 'reserved', 'msi', 'msi'];

export type FaultHandler = (domain: Domain, dev: string, iova: number, flags: number) => number;

/** IOMMU_GROUP_NOTIFY_* actions: the driver-core bus events of a group's devices (iommu_bus_notifier) */
export type GroupNotifier = (ev: BusEvent, dev: KDevice) => void;

export class Group implements IommuGroup {
  readonly devices: KDevice[] = [];
  domain: Domain | null = null;
  /** iommu_group_register_notifier: the group's notifier chain */
  readonly notifiers: GroupNotifier[] = [];
  /** mainline iommu_group_claim_dma_owner: who holds the group for user-space DMA (null: nobody) */
  owner: unknown = null;
  /**
   * mainline group->owner_cnt (drivers/iommu/iommu.c): host drivers using the default domain
   * (iommu_device_use_default_domain, one per bound device whose driver does not manage DMA),
   * or 1 while user space owns the group (iommu_group_claim_dma_owner)
   */
  ownerCnt = 0;
  /**
   * mainline group->default_domain (iommu_group_alloc_default_domain): 'identity' (the
   * streams bypass: arm_smmu_def_domain_type with the legacy binding), a translating DMA
   * domain (IOMMU_DOMAIN_DMA, used by the DMA API through dma-iommu), or null (3.14: no
   * default domains)
   */
  defaultDomain: Domain | 'identity' | null = null;
  /** mainline: the group sits in its blocking domain (S2CR fault), as after a DMA-ownership claim */
  blocked = false;
  constructor(readonly id: number) {}
}

/** A domain: an address space (iommu_domain). */
export class Domain implements IommuDomain {
  /** driver private data (page tables, context bank) */
  priv: unknown = null;
  faultHandler: FaultHandler | null = null;
  readonly groups: Group[] = [];
  constructor(
    readonly id: number,
    readonly ops: IommuOps,
    /** input address size in bits */
    readonly ias: number,
  ) {}

  get pgsizeBitmap(): number {
    return this.ops.pgsizeBitmap;
  }

  private get minPage(): number {
    const bm = this.ops.pgsizeBitmap;
    return bm & -bm;
  }

  /** iommu_map: split into supported page sizes; on failure unmap what was mapped */
  map(iova: number, pa: number, size: number, prot: number): number {
    const min = this.minPage;
    if (size <= 0 || iova % min !== 0 || pa % min !== 0 || size % min !== 0) return -EINVAL;
    if (iova + size > 2 ** this.ias) return -ERANGE;
    let done = 0;
    while (done < size) {
      const s = this.pgsizeFor(iova + done, pa + done, size - done);
      const r = this.ops.mapPage(this, iova + done, pa + done, s, prot);
      if (r < 0) {
        if (done > 0) this.unmap(iova, done);
        return r;
      }
      done += s;
    }
    return 0;
  }

  private pgsizeFor(iova: number, pa: number, remaining: number): number {
    let best = this.minPage;
    const bm = this.ops.pgsizeBitmap;
    for (let b = 0; b < 31; b++) {
      const s = 1 << b;
      if ((bm & s) === 0) continue;
      if (s > remaining) break;
      if (iova % s !== 0 || pa % s !== 0) continue;
      best = s;
    }
    return best;
  }

  /** iommu_unmap: __iommu_unmap, then iommu_iotlb_sync: bytes unmapped (stops at the first hole, as Linux) */
  unmap(iova: number, size: number): number {
    const n = this.unmapFast(iova, size);
    this.iotlbSync();
    return n;
  }

  /** iommu_iotlb_sync */
  iotlbSync(): void {
    this.ops.iotlbSync?.(this);
  }

  /** iommu_unmap_fast: __iommu_unmap without the sync (the caller syncs: iotlbSync) */
  unmapFast(iova: number, size: number): number {
    const min = this.minPage;
    if (size <= 0 || iova % min !== 0 || size % min !== 0) return 0;
    let done = 0;
    while (done < size) {
      const s = this.pgsizeFor(iova + done, 0, size - done);
      const n = this.ops.unmapPage(this, iova + done, s);
      if (n === 0) break;
      done += n;
    }
    return done;
  }

  iovaToPhys(iova: number): number | null {
    if (iova < 0 || iova >= 2 ** this.ias) return null;
    return this.ops.iovaToPhys(this, iova);
  }

  /** iommu_set_fault_handler */
  setFaultHandler(h: FaultHandler | null): void {
    this.faultHandler = h;
  }

  /** report_iommu_fault: the handler's result, -ENOSYS when none is installed */
  reportFault(dev: string, iova: number, flags: number): number {
    if (!this.faultHandler) return -ENOSYS;
    return this.faultHandler(this, dev, iova, flags);
  }
}

/**
 * The IOMMU core (drivers/iommu/iommu.c, reduced). A driver registers its ops for a bus
 * (bus_set_iommu); groups are created by the driver (one per set of masters it cannot
 * tell apart) and numbered from 0 in creation order, as the kernel's IDA hands them out.
 */
export class IommuCoreImpl implements IommuCoreApi {
  private readonly busOps = new Map<string, IommuOps>();
  private readonly groupList: Group[] = [];
  private nextGroupId = 0;
  private nextDomainId = 0;

  constructor(
    readonly sysfs: Sysfs,
    readonly log: KernelLog,
    readonly ias = 32,
    /** groups have the `reserved_regions` attribute (mainline, since 4.11; `iommuResvRegions`) */
    readonly resvRegionsSysfs = false,
    /**
     * ownerCount: mainline owner_cnt (iommu_device_use_default_domain,
     * iommu_group_claim_dma_owner); defaultDomains: mainline default domains and the blocking
     * domain (iommu_group_alloc_default_domain, __iommu_take_dma_ownership). Both off: 3.14.
     */
    readonly opts: { ownerCount: boolean; defaultDomains: boolean } = { ownerCount: false, defaultDomains: false },
  ) {
    sysfs.mkdir('kernel/iommu_groups');
  }

  /**
   * mainline iommu_get_group_resv_regions: each device's regions from its IOMMU driver
   * (iommu_get_resv_regions -> ops->get_resv_regions), inserted as iommu_insert_resv_region
   * does: sorted by start (then type), and regions of one type that overlap or touch merged.
   * The driver is the one serving the device's bus, else the one of the group's domain.
   */
  getGroupResvRegions(g: IommuGroup): IommuResvRegion[] {
    const all: IommuResvRegion[] = [];
    for (const dev of g.devices) {
      const ops = this.busOps.get(dev.bus.name) ?? (g instanceof Group ? g.domain?.ops : undefined);
      if (ops?.getResvRegions) all.push(...ops.getResvRegions(dev));
    }
    all.sort((a, b) => a.start - b.start || a.type - b.type);
    const out: { start: number; length: number; prot: number; type: number }[] = [];
    for (const r of all) {
      let top = null;
      for (let i = out.length - 1; i >= 0; i--) {
        if (out[i]!.type === r.type) {
          top = out[i]!;
          break;
        }
      }
      if (top && r.start <= top.start + top.length) {
        top.length = Math.max(top.start + top.length, r.start + r.length) - top.start;
      } else {
        out.push({ ...r });
      }
    }
    return out;
  }

  busSetIommu(busName: string, ops: IommuOps): number {
    if (this.busOps.has(busName)) return -EBUSY;
    this.busOps.set(busName, ops);
    return 0;
  }

  opsFor(busName: string): IommuOps | null {
    return this.busOps.get(busName) ?? null;
  }

  present(busName: string): boolean {
    return this.busOps.has(busName);
  }

  capable(busName: string, cap: number, dev?: KDevice): boolean {
    const ops = this.busOps.get(busName);
    return ops ? ops.capable(cap, dev) : false;
  }

  domainAlloc(busName: string): Domain | number {
    const ops = this.busOps.get(busName);
    if (!ops) return -ENODEV;
    const d = new Domain(this.nextDomainId++, ops, this.ias);
    const r = ops.domainInit(d);
    if (r < 0) return r;
    return d;
  }

  domainFree(d: IommuDomain): void {
    if (!(d instanceof Domain)) return;
    for (const g of [...d.groups]) this.detachGroup(d, g);
    d.ops.domainDestroy(d);
  }

  /**
   * iommu_attach_group. 3.14: -EBUSY when the group has a domain. Mainline
   * (__iommu_attach_group): -EBUSY unless the group is in its default or blocking domain,
   * which the new domain replaces (__iommu_group_set_domain: the driver rewrites the S2CRs).
   */
  attachGroup(d: IommuDomain, g: IommuGroup): number {
    if (!(d instanceof Domain) || !(g instanceof Group)) return -EINVAL;
    const old = g.domain;
    if (old !== null && old !== g.defaultDomain) return -EBUSY;
    if (g.devices.length === 0) return -ENODEV;
    const r = d.ops.attachGroup(d, g);
    if (r < 0) return r;
    if (old !== null) this.unlinkDomain(old, g);
    g.blocked = false;
    g.domain = d;
    d.groups.push(g);
    return 0;
  }

  private unlinkDomain(d: Domain, g: Group): void {
    d.ops.detachGroup(d, g);
    g.domain = null;
    d.groups.splice(d.groups.indexOf(g), 1);
  }

  /**
   * iommu_detach_group. Mainline (__iommu_group_set_core_domain): the group goes back to its
   * blocking domain while user space owns it, else to its default domain.
   */
  detachGroup(d: IommuDomain, g: IommuGroup): void {
    if (!(d instanceof Domain) || !(g instanceof Group) || g.domain !== d) return;
    this.unlinkDomain(d, g);
    if (this.opts.defaultDomains && d !== g.defaultDomain) this.setCoreDomain(g);
  }

  /** __iommu_group_set_core_domain: blocking while owned, else the default domain */
  private setCoreDomain(g: Group): void {
    const ops = this.groupOps(g);
    if (ops === null) return;
    if (g.domain !== null) this.unlinkDomain(g.domain, g);
    if (g.owner !== null) {
      ops.setGroupStreams?.(g, 'fault');
      g.blocked = true;
      return;
    }
    g.blocked = false;
    const dd = g.defaultDomain;
    if (dd === 'identity') ops.setGroupStreams?.(g, 'bypass');
    else if (dd !== null && dd.ops.attachGroup(dd, g) === 0) {
      g.domain = dd;
      dd.groups.push(g);
    }
  }

  private groupOps(g: Group): IommuOps | null {
    const dev = g.devices[0];
    return dev ? this.opsFor(dev.bus.name) : null;
  }

  /**
   * mainline iommu_probe_device for a group the driver formed: arm_smmu_probe_device
   * allocates the stream-map entries (probeGroup), then iommu_group_alloc_default_domain
   * and the attach: 'identity' (S2CR bypass; arm_smmu_def_domain_type with the legacy
   * binding) or 'dma' (a translating IOMMU_DOMAIN_DMA domain, iommu_setup_dma_ops: the
   * group's DMA API addresses are IOVAs in it). Only with `defaultDomains`.
   */
  groupProbe(g: Group, type: 'identity' | 'dma'): number {
    if (!this.opts.defaultDomains) return 0;
    const ops = this.groupOps(g);
    if (ops === null) return -ENODEV;
    const r = ops.probeGroup?.(g) ?? 0;
    if (r < 0) return r;
    if (type === 'identity') {
      g.defaultDomain = 'identity';
      ops.setGroupStreams?.(g, 'bypass');
      return 0;
    }
    const d = this.domainAlloc(g.devices[0]!.bus.name);
    if (typeof d === 'number') return d;
    g.defaultDomain = d;
    const a = this.attachGroup(d, g);
    if (a < 0) {
      g.defaultDomain = null;
      d.ops.domainDestroy(d);
    }
    return a;
  }

  groupById(id: number): Group | null {
    return this.groupList.find((g) => g.id === id) ?? null;
  }

  groupOf(dev: KDevice): Group | null {
    return this.groupList.find((g) => g.devices.includes(dev)) ?? null;
  }

  groups(): readonly Group[] {
    return this.groupList;
  }

  /** iommu_group_register_notifier */
  groupRegisterNotifier(g: IommuGroup, fn: GroupNotifier): void {
    if (g instanceof Group && !g.notifiers.includes(fn)) g.notifiers.push(fn);
  }

  groupUnregisterNotifier(g: IommuGroup, fn: GroupNotifier): void {
    if (!(g instanceof Group)) return;
    const i = g.notifiers.indexOf(fn);
    if (i >= 0) g.notifiers.splice(i, 1);
  }

  /**
   * iommu_bus_notifier (drivers/iommu/iommu.c): the driver core's BUS_NOTIFY_* events of a
   * device in a group go down the group's notifier chain (IOMMU_GROUP_NOTIFY_BIND_DRIVER,
   * BOUND_DRIVER, UNBIND_DRIVER, UNBOUND_DRIVER). Registered with the driver core at boot.
   */
  readonly busNotifier = (ev: BusEvent, dev: KDevice): void => {
    if (ev === 'add-device' || ev === 'del-device') return;
    const g = this.groupOf(dev);
    if (g === null) return;
    for (const fn of [...g.notifiers]) fn(ev, dev);
  };

  /**
   * mainline iommu_group_claim_dma_owner (drivers/iommu/iommu.c): user space (VFIO, at
   * SET_CONTAINER: vfio_container_attach_group) takes the group for DMA. With owner_cnt
   * (`ownerCount`): -EPERM while anyone holds it, host drivers using the default domain
   * (iommu_device_use_default_domain) included; then __iommu_take_dma_ownership moves the
   * group to its blocking domain (S2CR fault) and counts the owner. Without: -EBUSY when
   * another owner holds it.
   */
  claimDmaOwner(g: IommuGroup, owner: unknown): number {
    if (!(g instanceof Group)) return -EINVAL;
    if (!this.opts.ownerCount) {
      if (g.owner !== null && g.owner !== owner) return -EBUSY;
      g.owner = owner;
      return 0;
    }
    if (g.ownerCnt > 0) return -EPERM;
    g.owner = owner;
    g.ownerCnt++;
    if (this.opts.defaultDomains) this.setCoreDomain(g);
    return 0;
  }

  /**
   * mainline iommu_group_release_dma_owner -> __iommu_release_dma_ownership: owner_cnt 0, no
   * owner, the group back in its default domain (__iommu_group_set_domain_nofail)
   */
  releaseDmaOwner(g: IommuGroup): void {
    if (!(g instanceof Group)) return;
    g.owner = null;
    if (!this.opts.ownerCount) return;
    g.ownerCnt = 0;
    if (this.opts.defaultDomains) this.setCoreDomain(g);
  }

  /**
   * mainline iommu_device_claim_dma_owner (drivers/iommu/iommu.c; iommufd_device_bind):
   * per device. No group -ENODEV. A group already owned: the same owner counts one more
   * device (owner_cnt++), anyone else (host drivers using the default domain included)
   * -EPERM. Else __iommu_take_dma_ownership: -EBUSY when the group is in a domain other than
   * its default one, then the blocking domain and owner_cnt 1.
   */
  deviceClaimDmaOwner(dev: KDevice, owner: unknown): number {
    const g = this.groupOf(dev);
    if (g === null) return -ENODEV;
    if (owner === null || owner === undefined) return -EINVAL;
    if (g.ownerCnt > 0) {
      if (g.owner !== owner) return -EPERM;
      g.ownerCnt++;
      return 0;
    }
    if (g.domain !== null && g.domain !== g.defaultDomain) return -EBUSY;
    g.owner = owner;
    g.ownerCnt = 1;
    if (this.opts.defaultDomains) this.setCoreDomain(g);
    return 0;
  }

  /**
   * mainline iommu_device_release_dma_owner: owner_cnt-- while other devices of the group
   * hold it, else __iommu_release_dma_ownership (no owner, back to the default domain)
   */
  deviceReleaseDmaOwner(dev: KDevice): void {
    const g = this.groupOf(dev);
    if (g === null) return;
    if (g.ownerCnt > 1) g.ownerCnt--;
    else this.releaseDmaOwner(g);
  }

  /** mainline iommu_group_dma_owner_claimed: owner_cnt != 0 */
  dmaOwnerClaimed(g: IommuGroup): boolean {
    return g instanceof Group && g.ownerCnt !== 0;
  }

  /**
   * mainline iommu_device_use_default_domain, called from really_probe through the bus's
   * dma_configure (platform_dma_configure) before a driver that does not manage DMA itself
   * probes: -EBUSY while user space owns the device's group (owner set, or the group not in
   * its default domain); else owner_cnt++. Without owner_cnt: -EBUSY while owned.
   */
  deviceUseDefaultDomain(dev: KDevice): number {
    const g = this.groupOf(dev);
    if (g === null) return 0;
    if (!this.opts.ownerCount) return g.owner !== null ? -EBUSY : 0;
    if (g.ownerCnt > 0 && (g.owner !== null || !this.inDefaultDomain(g))) return -EBUSY;
    g.ownerCnt++;
    return 0;
  }

  /**
   * mainline iommu_device_unuse_default_domain, from platform_dma_cleanup (the driver core's
   * dma_cleanup at unbind, and on a probe that failed after dma_configure): owner_cnt--
   */
  deviceUnuseDefaultDomain(dev: KDevice): void {
    const g = this.groupOf(dev);
    if (g !== null && this.opts.ownerCount && g.ownerCnt > 0) g.ownerCnt--;
  }

  private inDefaultDomain(g: Group): boolean {
    if (!this.opts.defaultDomains) return g.domain === null;
    return g.defaultDomain === 'identity' || g.defaultDomain === null ? g.domain === null && !g.blocked : g.domain === g.defaultDomain;
  }

  /** iommu_group_alloc */
  groupAlloc(): Group {
    const g = new Group(this.nextGroupId++);
    this.groupList.push(g);
    this.sysfs.mkdir(`kernel/iommu_groups/${g.id}/devices`);
    if (this.resvRegionsSysfs) {
      // mainline iommu_group_show_resv_regions: "0x%016llx 0x%016llx %s\n" per region (start,
      // last address, iommu_group_resv_type_string)
      this.sysfs.addFile(`kernel/iommu_groups/${g.id}/reserved_regions`, {
        mode: 0o444,
        show: () => this.getGroupResvRegions(g).map((r) => `0x${r.start.toString(16).padStart(16, '0')} 0x${(r.start + r.length - 1).toString(16).padStart(16, '0')} ${RESV_TYPE_NAMES[r.type] ?? 'unknown'}\n`).join(''),
      });
    }
    return g;
  }

  /** iommu_group_add_device: links both ways in sysfs */
  groupAddDevice(g: Group, dev: KDevice & { sysfsPath?: string }): number {
    if (dev.iommuGroup) return -EBUSY;
    g.devices.push(dev);
    dev.iommuGroup = g;
    const devPath = dev.sysfsPath ?? `/sys/devices/${dev.bus.name}/${dev.name}`;
    this.sysfs.addLink(`kernel/iommu_groups/${g.id}/devices/${dev.name}`, devPath);
    this.sysfs.addLink(`${devPath.slice(5)}/iommu_group`, `/sys/kernel/iommu_groups/${g.id}`);
    this.log.info(`${dev.bus.name} ${dev.name}`, `Adding to iommu group ${g.id}`);
    return 0;
  }
}
