/**
 * vfio_iommu_type1's list of valid IOVA ranges (mainline drivers/vfio/vfio_iommu_type1.c:
 * struct vfio_iova, iommu->iova_list and the vfio_iommu_iova_* / vfio_iommu_aper_* /
 * vfio_iommu_resv_* helpers; capabilities `type1IovaAperture` and `type1ResvRegions`, decided
 * by the driver in type1.ts). The list is empty until a group is attached (every IOVA is then
 * valid); an attach sets it to the domain's aperture minus the group's reserved regions, a
 * detach rebuilds it from the groups still attached. MAP_DMA asks `iovaDmaValid`; GET_INFO's
 * IOVA-range capability lists it (type1-ioctl.ts). The 2014 type1 has none of this.
 */
import { EINVAL } from '../base/errno.js';
import { IOMMU_RESV_DIRECT_RELAXABLE, type IommuDomain, type IommuGroup, type IommuResvRegion } from '../iommu/types.js';
import type { Type1Iommu } from './type1-dma.js';

/** one valid IOVA range (mainline struct vfio_iova): start and last address, inclusive */
export type IovaRange = readonly [start: number, end: number];

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
export function iovaDmaValid(list: readonly IovaRange[], start: number, end: number): boolean {
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

/**
 * mainline vfio_iommu_type1_attach_group after iommu_attach_group, given the group's reserved
 * regions (iommu_get_group_resv_regions): vfio_iommu_resv_conflict, an existing mapping
 * overlapping one (IOMMU_RESV_DIRECT_RELAXABLE excepted) -EINVAL; then on a copy of the IOVA
 * list vfio_iommu_aper_resize to the domain's aperture and vfio_iommu_resv_exclude (a list
 * left empty -EINVAL); the copy replaces the list only when the attach succeeds. (One domain
 * per container here, so vfio_iommu_aper_conflict, which compares a new domain's aperture,
 * never fires.)
 */
export function iovaListAttach(it: Type1Iommu, group: IommuGroup, regions: IommuResvRegion[]): number {
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

/**
 * mainline vfio_iommu_type1_detach_group -> vfio_iommu_resv_refresh: the list is rebuilt from
 * the aperture minus the reserved regions of the groups still attached
 */
export function iovaListRefresh(it: Type1Iommu): void {
  let list: IovaRange[] = [[0, apertureEnd(it.domain)]];
  for (const g of it.groups) list = resvExclude(list, it.groupResv.get(g) ?? []);
  it.iovaList = list;
}
