import { EBUSY, EINVAL, ENODEV } from '../../base/errno.js';
import type { BusType, KDevice, KDriver } from '../../driver/types.js';
import { IOMMU_CAP_CACHE_COHERENCY, IOMMU_EXEC, type IommuCore, type IommuDomain, type IommuGroup, type IommuResvRegion } from '../../iommu/types.js';

export interface FakeMapping {
  pa: number;
  prot: number;
}

/** A page-granular IOMMU domain recording prot per page (XN = no IOMMU_EXEC, as the 2014 arm-smmu). */
export class FakeDomain implements IommuDomain {
  readonly pages = new Map<number, FakeMapping>();
  readonly pgsizeBitmap = 0x40201000;
  /** input address size, as the SMMU model's stage-1 domains (aperture 0..2^32-1) */
  readonly ias = 32;
  failMapAt: number | null = null;
  /** every map call, [iova, pa, size] in order (the chunks type1 maps) */
  readonly calls: [number, number, number][] = [];
  /** the domain op enforce_cache_coherency (absent unless a test sets it, as arm-smmu has none) */
  enforceCacheCoherency?: () => boolean;
  constructor(readonly id: number) {}
  map(iova: number, pa: number, size: number, prot: number): number {
    this.calls.push([iova, pa, size]);
    if (this.failMapAt !== null && iova === this.failMapAt) return -ENODEV;
    for (let o = 0; o < size; o += 4096) if (this.pages.has(iova + o)) return -EBUSY;
    for (let o = 0; o < size; o += 4096) this.pages.set(iova + o, { pa: pa + o, prot });
    return 0;
  }
  unmap(iova: number, size: number): number {
    let n = 0;
    for (let o = 0; o < size; o += 4096) if (this.pages.delete(iova + o)) n += 4096;
    return n;
  }
  iovaToPhys(iova: number): number | null {
    const m = this.pages.get(iova - (iova % 4096));
    return m ? m.pa + (iova % 4096) : null;
  }
  /** what the SMMU would set: XN unless IOMMU_EXEC */
  xn(iova: number): boolean | null {
    const m = this.pages.get(iova);
    return m ? (m.prot & IOMMU_EXEC) === 0 : null;
  }
}

export class FakeIommu implements IommuCore {
  readonly domains: FakeDomain[] = [];
  readonly attached = new Map<IommuGroup, FakeDomain>();
  private groupList: IommuGroup[] = [];
  private nextDomain = 1;
  /** reserved regions per group id (iommu_get_group_resv_regions); none unless a test sets them */
  readonly resv = new Map<number, IommuResvRegion[]>();
  /** set on every domain allocated from now on (FakeDomain.enforceCacheCoherency) */
  enforceCacheCoherency: (() => boolean) | undefined = undefined;
  constructor(public buses: string[] = ['platform']) {}
  present(bus: string): boolean {
    return this.buses.includes(bus);
  }
  /** IOMMU_CAP_CACHE_COHERENCY: true (a coherent IOMMU) unless a test clears it; every other capability false */
  cacheCoherent = true;
  capable(_bus: string, cap: number): boolean {
    return cap === IOMMU_CAP_CACHE_COHERENCY && this.cacheCoherent;
  }
  domainAlloc(bus: string): IommuDomain | number {
    if (!this.present(bus)) return -ENODEV;
    const d = new FakeDomain(this.nextDomain++);
    if (this.enforceCacheCoherency) d.enforceCacheCoherency = this.enforceCacheCoherency;
    this.domains.push(d);
    return d;
  }
  domainFree(d: IommuDomain): void {
    const i = this.domains.indexOf(d as FakeDomain);
    if (i >= 0) this.domains.splice(i, 1);
  }
  attachGroup(d: IommuDomain, g: IommuGroup): number {
    if (this.attached.has(g)) return -EBUSY;
    this.attached.set(g, d as FakeDomain);
    return 0;
  }
  detachGroup(_d: IommuDomain, g: IommuGroup): void {
    this.attached.delete(g);
  }
  groupById(id: number): IommuGroup | null {
    return this.groupList.find((g) => g.id === id) ?? null;
  }
  groupOf(dev: KDevice): IommuGroup | null {
    return this.groupList.find((g) => g.devices.includes(dev)) ?? null;
  }
  groups(): readonly IommuGroup[] {
    return this.groupList;
  }
  getGroupResvRegions(g: IommuGroup): IommuResvRegion[] {
    return this.resv.get(g.id) ?? [];
  }
  addGroup(id: number, devices: KDevice[]): IommuGroup {
    const g: IommuGroup = { id, devices };
    for (const d of devices) d.iommuGroup = g;
    this.groupList.push(g);
    return g;
  }
}

export const platformBus: BusType = { name: 'platform' };

export function fakeDevice(name: string): KDevice {
  return { name, bus: platformBus, ofNode: null, resources: [], streamIds: [], driver: null, drvdata: null, driverOverride: null, iommuGroup: null, sysfsRel: `devices/platform/${name}` };
}

export function fakeDriver(name: string): KDriver {
  return { name, ofMatch: [], probe: () => 0, remove: () => undefined };
}

export { EINVAL };
