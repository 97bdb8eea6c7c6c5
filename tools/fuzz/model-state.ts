/**
 * The reference model's state (model.ts RefModel): what it knows of containers, groups, their
 * IOAS objects (the compat container) and DMA mappings, the fd tables of the processes, and the
 * base of the model's class chain (ModelState <- ModelFds <- ModelType1 <- ModelCompat <-
 * ModelCompare <- RefModel), which holds that state and the first divergence found.
 */
import type { AddressSpace } from '../../kernel-model/process/mm.js';
import type { Process } from '../../kernel-model/process/process.js';
import type { File } from '../../kernel-model/vfs/file.js';
import type { System } from '../system/system.js';
import type { IommufdPre } from './model-iommufd.js';
import type { BitmapArg, DirtyArg } from './model-dirty.js';

export interface MMap {
  iova: number;
  size: number;
  vaddr: number;
  prot: number;
  mm: AddressSpace;
  /** UNMAP_DMA with VFIO_DMA_UNMAP_FLAG_VADDR dropped the vaddr (mainline); MAP_DMA with VADDR restores it */
  vaddrInvalid: boolean;
  /**
   * the physical page behind each page of the mapping when it was made, read from the
   * process's page tables (the pages MAP_DMA pinned; -1 where the process had none): what
   * the DMA-isolation invariant expects the SMMU to translate the IOVA page to
   */
  pa: number[];
}

/** a container user space has given an IOMMU: its groups' streams translate through its mappings */
export interface UserDomain {
  container: number;
  groups: number[];
  maps: { iova: number; size: number; prot: number; pa: ArrayLike<number> }[];
}

/** the physical address behind user address va of mm, without faulting anything in (-1: none) */
export function userPa(mm: AddressSpace, va: number): number {
  const v = mm.find(va);
  if (v === null) return -1;
  if (v.kind === 'pfn') return v.pfnBase + (va - v.start);
  const pa = v.pages ? v.pages[Math.floor((va - v.start) / PAGE)]! : -1;
  return pa < 0 ? -1 : pa;
}

export interface MContainer {
  id: number;
  fds: number;
  groups: number[];
  iommu: boolean;
  /** SET_IOMMU(VFIO_TYPE1v2_IOMMU): mainline's v2 unmap rule */
  v2: boolean;
  /** mainline iommu->dirty_page_tracking: VFIO_IOMMU_DIRTY_PAGES START turned it on (model-dirty.ts) */
  dirty: boolean;
  maps: MMap[];
  /**
   * the iommufd compat container (CONFIG_IOMMUFD_VFIO_CONTAINER: /dev/vfio/vfio opens an
   * iommufd context; "The compat container": model-compat.ts postCompat): its file (the context is its priv)
   */
  compat: File | null;
  /**
   * compat: the context's IOAS objects the model knows, by id (the one the first SET_CONTAINER
   * makes, IOMMU_IOAS_ALLOC's; "The compat container": model-compat.ts postCompat)
   */
  ioases: Map<number, MIoas>;
  /** compat: an IOAS the kernel made whose id the model has not learned yet (its id 0) */
  anon: MIoas | null;
  /** compat: ictx->vfio_ioas, the IOAS the container ioctls act on (one of `ioases`, or `anon`) */
  cur: MIoas | null;
  /**
   * compat: the context may hold objects whose ids the model does not know (an HWPT_ALLOC, a
   * fault queue, a cdev bound to it): ids are not predicted, nor DESTROY of an IOAS (an HWPT
   * the model does not know may hold it)
   */
  foreign: boolean;
}

/** an IOAS of a compat container's context */
export interface MIoas {
  /** its object id (0: not learned yet) */
  id: number;
  /** its areas: one per MAP_DMA (iova and size cut to 32 bits) */
  maps: MMap[];
  /** SET_IOMMU(VFIO_TYPE1_IOMMU) succeeded while it was the compat IOAS (iopt_disable_large_pages: UNMAP_DMA may cut an area) */
  noLarge: boolean;
}

export interface MGroup {
  id: number;
  /** the names of its devices bound to VFIO */
  devices: string[];
  opened: boolean;
  container: number | null;
  /** the group fd's SET_CONTAINER holds a container user */
  holds: boolean;
  devFds: number;
  /** compat: the container whose context its open devices are bound to (the first GET_DEVICE_FD binds; the last close unbinds) */
  boundTo: number | null;
  /** compat: the IOAS its bound devices are attached to (the compat IOAS at the first GET_DEVICE_FD; its auto HWPT holds it) */
  attached: MIoas | null;
}

/**
 * an fd's file: what it is, and `ref`, the file's count of fds, shared by the fds of every
 * process that holds it (a fork copies the table: kernel/fork.c dup_fd takes a reference per
 * file); the file's release (vfio_fops_release, vfio_group_fops_release,
 * vfio_device_fops_release) comes with its last fd
 */
export type FdObj = { kind: 'container' | 'group' | 'device'; id: number; ref: { n: number } };

export interface PreIoctl {
  map?: { flags: number; vaddr: bigint; iova: bigint; size: bigint; argsz: number };
  unmap?: { iova: bigint; size: bigint; flags: number; argsz: number };
  /** UNMAP_DMA's struct vfio_bitmap (the vfio_iommu_type1_dma_unmap_bitmap layout) */
  unmapBitmap?: BitmapArg;
  /** VFIO_IOMMU_DIRTY_PAGES's argument (at an ok pointer, or its head at a 'tail' one) */
  dirty?: DirtyArg;
  /** GET_INFO's argsz (a struct at an ok pointer) */
  infoArgsz?: number;
  /** CHECK_EXTENSION's argument */
  extension?: bigint;
  setContainer?: number | null;
  /** SET_CONTAINER's fd is open in the model's table but is not a container */
  setContainerOther?: boolean;
  /** SET_IOMMU's type argument */
  setIommuType?: bigint;
  /** an iommufd request (IOMMU_*) on a compat container: its argument as the iommufd model reads it */
  iommufd?: IommufdPre;
  /** VFIO_DEVICE_BIND_IOMMUFD naming a compat container's fd: that container */
  bindTo?: number;
}

export const PAGE = 4096;

export class ModelState {
  protected readonly containers = new Map<number, MContainer>();
  protected readonly groups = new Map<number, MGroup>();
  protected readonly fds = new Map<Process, Map<number, FdObj>>();
  protected nextCid = 1;
  /** state changed outside the model's knowledge (raw syscalls on VFIO fds, sysfs rebinding): comparisons stop */
  lost = false;
  protected pending: string | null = null;
  /** /dev/vfio/vfio is iommufd's compat container (the profile's `iommufd` capability) */
  protected readonly compat: boolean;

  constructor(
    protected readonly sys: System,
    groups: readonly { id: number; devices: string[] }[],
  ) {
    this.compat = sys.profile.caps.iommufd === 'dev-iommu+vfio-compat';
    for (const g of groups) this.groups.set(g.id, { id: g.id, devices: g.devices, opened: false, container: null, holds: false, devFds: 0, boundTo: null, attached: null });
  }

  protected table(p: Process): Map<number, FdObj> {
    let t = this.fds.get(p);
    if (!t) this.fds.set(p, (t = new Map()));
    return t;
  }

  protected expect(cond: boolean, msg: string): void {
    if (!cond && this.pending === null) this.pending = msg;
  }
}
