/**
 * iommufd's objects and context (Linux v6.12 drivers/iommu/iommufd/iommufd_private.h,
 * main.c): every object lives in the context's `objects` xarray under an id handed out by
 * xa_alloc with XA_FLAGS_ALLOC1 and xa_limit_31b (the lowest free id from 1: a destroyed
 * object's id is handed out again). An id is reserved when the object is allocated
 * (__iommufd_object_alloc stores XA_ZERO_ENTRY) and becomes visible at
 * iommufd_object_finalize; iommufd_object_abort frees it. `users` is the object's refcount:
 * 1 for the xarray, +1 per holder (an HWPT holds its IOAS, an attached device its HWPT,
 * the binding driver and each attachment the device); IOMMU_DESTROY and the release of the
 * fd destroy only objects whose count is 1 (refcount_dec_if_one).
 */
import type { KDevice } from '../../driver/types.js';
import type { File } from '../../vfs/file.js';
import type { Domain, Group } from '../core.js';
import { IoPagetable } from './io-pagetable.js';
import { IOPT_PAGES_ACCOUNT_USER } from './pages.js';
import type { IommufdService } from './main.js';

export type ObjType = 'ioas' | 'device' | 'hwpt-paging' | 'fault';

export abstract class IommufdObject {
  id = 0;
  users = 1;
  abstract readonly type: ObjType;
}

/** struct iommufd_ioas */
export class Ioas extends IommufdObject {
  readonly type = 'ioas' as const;
  readonly iopt = new IoPagetable();
  /** ioas->hwpt_list: the paging HWPTs whose domains hold this IOAS's mappings */
  readonly hwptList: HwptPaging[] = [];
}

/** struct iommufd_hwpt_paging */
export class HwptPaging extends IommufdObject {
  readonly type = 'hwpt-paging' as const;
  /** created by iommufd_device_auto_get_domain (destroyed with its last device) */
  autoDomain = false;
  nestParent = false;
  /** hwpt->enforce_cache_coherency (arm-smmu has no enforce_cache_coherency op: false) */
  enforceCacheCoherency = false;
  constructor(
    readonly ioas: Ioas,
    readonly domain: Domain,
  ) {
    super();
  }
}

/** struct iommufd_group: the context's record of one iommu_group its devices use */
export class IommufdGroup {
  refs = 1;
  /** igroup->hwpt: what the group is attached to (NULL: not attached) */
  hwpt: HwptPaging | null = null;
  /** igroup->device_list: the attached devices */
  readonly devices: IommufdDevice[] = [];
  constructor(
    readonly ictx: IommufdCtx,
    readonly group: Group,
  ) {}
}

/** struct iommufd_device */
export class IommufdDevice extends IommufdObject {
  readonly type = 'device' as const;
  /** idev->enforce_cache_coherency: device_iommu_capable(IOMMU_CAP_ENFORCE_CACHE_COHERENCY), false for arm-smmu */
  readonly enforceCacheCoherency = false;
  /** unbound (iommufd_device_unbind done): the handle is dead */
  unbound = false;
  constructor(
    readonly ictx: IommufdCtx,
    readonly dev: KDevice,
    readonly igroup: IommufdGroup,
  ) {
    super();
  }
}

/** struct iommufd_ctx: one open /dev/iommu (or, with CONFIG_IOMMUFD_VFIO_CONTAINER, /dev/vfio/vfio) */
export class IommufdCtx {
  /** finalized objects by id (iteration: sorted ids, as xa_for_each) */
  readonly objects = new Map<number, IommufdObject>();
  /** ids reserved by objects not yet finalized (XA_ZERO_ENTRY) */
  private readonly pending = new Set<number>();
  /** ictx->groups by iommu group id */
  readonly groups = new Map<number, IommufdGroup>();
  /** ictx->account_mode */
  accountMode = IOPT_PAGES_ACCOUNT_USER;
  /** ictx->vfio_ioas: the IOAS the VFIO compatibility ioctls use */
  vfioIoas: Ioas | null = null;
  /** the struct file (iommufd_ctx_get/put take and drop references on it) */
  file: File | null = null;
  released = false;
  constructor(
    /** the iommufd instance (kernel-wide state: the IOMMU core, user locked_vm) */
    readonly svc: IommufdService,
  ) {}

  /** __iommufd_object_alloc: reserve the lowest free id from 1 (xa_alloc, xa_limit_31b) */
  reserve(obj: IommufdObject): number {
    let id = 1;
    while (this.objects.has(id) || this.pending.has(id)) id++;
    obj.id = id;
    this.pending.add(id);
    return id;
  }

  /** iommufd_object_finalize */
  finalize(obj: IommufdObject): void {
    this.pending.delete(obj.id);
    this.objects.set(obj.id, obj);
  }

  /** iommufd_object_abort: the id is free again */
  abort(obj: IommufdObject): void {
    this.pending.delete(obj.id);
  }

  /** iommufd_get_object: a finalized object of the type (or any), else null (-ENOENT) */
  get(id: number, type: ObjType | null): IommufdObject | null {
    const o = this.objects.get(id);
    if (o === undefined || (type !== null && o.type !== type)) return null;
    return o;
  }

  getIoas(id: number): Ioas | null {
    return this.get(id, 'ioas') as Ioas | null;
  }

  /** the finalized ids in xarray order */
  ids(): number[] {
    return [...this.objects.keys()].sort((a, b) => a - b);
  }
}
