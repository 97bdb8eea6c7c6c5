/**
 * A type1 container's mappings (drivers/vfio/vfio_iommu_type1.c): struct vfio_iommu
 * (`Type1Iommu`: the domain, the attached groups, the IOVA list of type1-iova.ts) and its set of
 * struct vfio_dma kept in IOVA order (the kernel's dma_list rb-tree: vfio_link_dma /
 * vfio_unlink_dma), with what changes the set: a new mapping's pages pinned and mapped a
 * physically contiguous chunk at a time (3.14 vfio_pin_pages, mainline vfio_pin_map_dma /
 * vfio_pin_pages_remote; locked_vm against RLIMIT_MEMLOCK; one iommu_map per chunk) and linked, merged with contiguous neighbours in the 2014 driver
 * (`type1MergeMappings`); removal with unmap and unpin (vfio_remove_dma / vfio_unmap_unpin),
 * which the 2014 driver can also do to part of a mapping (trim, split); mainline's
 * whole-mapping unmap walk (vfio_dma_do_unmap, `type1UnmapRule`) and its vaddr invalidation
 * (VFIO_DMA_UNMAP_FLAG_VADDR). The argument checks of MAP_DMA/UNMAP_DMA that lead here are in
 * type1-ioctl.ts; the driver (open/release, attach/detach) in type1.ts.
 */
import { EBUSY, EINVAL, ENOMEM } from '../base/errno.js';
import type { KernelLog } from '../base/klog.js';
import { IOMMU_CACHE, IOMMU_WRITE, type IommuDomain, type IommuGroup, type IommuResvRegion } from '../iommu/types.js';
import { lockedVmPlus, type AddressSpace, type PinnedPage } from '../process/mm.js';
import type { Capabilities } from '../profile.js';
import type { Task } from '../vfs/file.js';
import type { IovaRange } from './type1-iova.js';

const PAGE_SIZE = 4096;
const PAGE_SHIFT = 12;

/**
 * What the mapping code takes from its driver (Type1Driver): the capabilities it reads, the
 * kernel log (the RLIMIT_MEMLOCK warning), and one PinnedPage that every pin and unpin fills
 * in place (no object per page).
 */
export interface Type1Ctx {
  readonly caps: Readonly<Capabilities>;
  readonly log: KernelLog | null;
  readonly pin: PinnedPage;
  /** the module parameter vfio_iommu_type1.disable_hugepages (read when a mapping is made): every chunk one page */
  readonly disableHugepages?: boolean;
  /** the mm of `current` (null outside a syscall), read by 3.14's unpin accounting (`lockAcctMm`); absent: the mapping's mm */
  readonly currentMm?: (() => AddressSpace | null) | undefined;
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
  /** mainline dma->bitmap: the dirty bitmap (`unsigned long` words) while dirty page tracking is on (type1-dirty.ts) */
  bitmap: Uint32Array | null;
}

export interface DmaMappingView {
  iova: number;
  size: number;
  vaddr: number;
  prot: number;
  /** the vaddr was invalidated (mainline UNMAP_DMA with VFIO_DMA_UNMAP_FLAG_VADDR) and not yet restored */
  vaddrInvalid: boolean;
}

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
  /** mainline domain->fgsp (vfio_test_domain_fgsp): the domain unmaps more than a page asked; vfio_unmap_unpin then looks for no runs */
  fgsp = false;
  /** mainline iommu->dirty_page_tracking: VFIO_IOMMU_DIRTY_PAGES_FLAG_START (type1-dirty.ts) */
  dirtyPageTracking = false;
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

/**
 * the smallest page size the container's domain supports (1 << __ffs(iommu->pgsize_bitmap)):
 * the alignment MAP_DMA and UNMAP_DMA require, the dirty bitmap's page size
 */
export function smallestPgsize(it: Type1Iommu): number {
  const bm = it.domain.pgsizeBitmap;
  let low = 1;
  while (low <= bm && (bm & low) === 0 && low < 2 ** 30) low *= 2;
  return low;
}

/**
 * mainline vfio_change_dma_owner: MAP_DMA(VADDR) from another mm than the mapping's (a fork
 * child holding the container fd) moves the mapping's locked_vm to the caller's mm, charged
 * against its RLIMIT_MEMLOCK unless it has CAP_IPC_LOCK (mm_lock_acct: -ENOMEM, nothing
 * changed), then released from the old mm; the pins move with it (the model's per-mm count of
 * pages pinned through it). 0 or -ENOMEM.
 */
export function changeDmaOwner(d: VfioDma, mm: AddressSpace, task: Task): number {
  if (mm === d.mm) return 0;
  let n = 0;
  for (let i = 0; i < d.reserved.length; i++) if (!d.reserved[i]) n++;
  if (!task.proc.capIpcLock && lockedVmPlus(mm, n) > Math.floor(task.proc.rlimitMemlock / PAGE_SIZE)) return -ENOMEM;
  mm.lockedVm += n;
  mm.pinnedThrough += n;
  d.mm.lockedVm -= n;
  d.mm.pinnedThrough -= n;
  d.mm = mm;
  return 0;
}

/**
 * A new mapping of [iova, iova + size) to the user pages at vaddr, after MAP_DMA's checks
 * (type1-ioctl.ts): pinned and mapped a physically contiguous chunk at a time, as both kernels'
 * map loops do (3.14 vfio_dma_do_map, mainline vfio_pin_map_dma: "Pin a contiguous chunk of
 * memory", then one iommu_map of the chunk, which the IOMMU core splits into the largest page
 * sizes that the chunk's alignment allows: 64 KiB contiguous runs and 2 MiB for the 3.14
 * writer, 2 MiB blocks for io-pgtable-arm), then linked into the set (and `dmaAvail` taken).
 * How a chunk ends is per kernel (`type1PinChunk`, pinChunk); the module parameter
 * vfio_iommu_type1.disable_hugepages makes every chunk one page. Failure is atomic: what was
 * mapped is unmapped and every pin dropped (3.14 `out_unpin`/`out`, mainline vfio_remove_dma).
 * Returns 0 or -errno.
 */
export function mapDma(drv: Type1Ctx, it: Type1Iommu, mm: AddressSpace, task: Task, iova: number, size: number, vaddr: number, prot: number): number {
  const npage = size >>> PAGE_SHIFT;
  const dma: VfioDma = { iova, size, vaddr, prot, pa: new Float64Array(npage), reserved: new Uint8Array(npage), mm, vaddrInvalid: false, bitmap: null };
  const limit = Math.floor(task.proc.rlimitMemlock / PAGE_SIZE);
  // mainline vfio_iommu_map: iommu_map(..., prot | IOMMU_CACHE) (`type1MapCache`)
  const iommuProt = drv.caps.type1MapCache ? prot | IOMMU_CACHE : prot;
  const pc: PinCtx = { drv, mm, dma, write: (prot & IOMMU_WRITE) !== 0, limit, lockCap: task.proc.capIpcLock, oneByOne: drv.disableHugepages === true };
  let done = 0;
  let err = 0;
  while (done < npage) {
    const n = pinChunk(pc, done, npage - done);
    if (n < 0) {
      err = n;
      break;
    }
    const io = iova + done * PAGE_SIZE;
    // 3.14 vfio_dma_do_map (the 'pin-pages' loop): "Verify pages are not already mapped"
    // (iommu_iova_to_phys per page of the chunk): -EBUSY. Mainline vfio_pin_map_dma has no such
    // check (vfio_find_dma refused an overlap, and the domain is this container's alone)
    if (drv.caps.type1PinChunk === 'pin-pages') {
      for (let i = 0; i < n; i++) {
        if (it.domain.iovaToPhys(io + i * PAGE_SIZE) !== null) {
          err = -EBUSY;
          break;
        }
      }
    }
    // 3.14 retries a chunk page by page when iommu_map says -EBUSY (map_try_harder, an AMD
    // IOMMU workaround); the 3.14 arm-smmu map never returns -EBUSY, so it is not modelled
    if (err === 0) err = it.domain.map(io, dma.pa[done]!, n * PAGE_SIZE, iommuProt);
    if (err) {
      const acct = lockAcctMm(drv, dma);
      for (let i = done; i < done + n; i++) unpinPage(drv, dma, i, acct);
      break;
    }
    done += n;
  }
  if (err) {
    // atomic failure: nothing stays mapped or pinned
    if (done > 0) unmapIommu(drv, it, iova, done * PAGE_SIZE);
    const acct = lockAcctMm(drv, dma);
    for (let i = 0; i < done; i++) unpinPage(drv, dma, i, acct);
    return err;
  }
  linkDma(drv, it, dma);
  if (drv.caps.type1DmaEntryLimit > 0) it.dmaAvail--;
  return 0;
}

interface PinCtx {
  readonly drv: Type1Ctx;
  readonly mm: AddressSpace;
  readonly dma: VfioDma;
  /** pinned for write only with IOMMU_WRITE (FOLL_WRITE), so an EXEC-only mapping (patch 02) is pinned for read although the 2014 arm-smmu makes it device-writable (issue 16 item 3) */
  readonly write: boolean;
  /** RLIMIT_MEMLOCK in pages */
  readonly limit: number;
  /** capable(CAP_IPC_LOCK) */
  readonly lockCap: boolean;
  /** vfio_iommu_type1.disable_hugepages */
  readonly oneByOne: boolean;
}

/** pr_warn("%s: RLIMIT_MEMLOCK (%ld) exceeded\n", __func__, limit << PAGE_SHIFT): no pr_fmt in the file; the limit rounded down to whole pages */
function warnMemlock(pc: PinCtx): void {
  const fn = pc.drv.caps.type1PinChunk === 'pin-pages' ? 'vfio_pin_pages' : 'vfio_pin_pages_remote';
  pc.drv.log?.warn('', `${fn}: RLIMIT_MEMLOCK (${pc.limit * PAGE_SIZE}) exceeded`);
}

/** pins the page `i` of the mapping (vaddr_get_pfn / vaddr_get_pfns), recording its frame: 0 or -errno */
function pinAt(pc: PinCtx, i: number): number {
  const pin = pc.drv.pin;
  // capability `gupStackExpand`: 3.14's find_extend_vma grows the stack for a vaddr below it (mm.ts pinUserPage)
  const r = pc.mm.pinUserPage(pc.dma.vaddr + i * PAGE_SIZE, pc.write, pin, pc.drv.caps.gupStackExpand === 'find-extend-vma');
  if (r < 0) return r;
  pc.dma.pa[i] = pin.pa;
  pc.dma.reserved[i] = pin.reserved ? 1 : 0;
  return 0;
}

/**
 * Pins the next chunk, pages first .. first + max - 1 at most, and charges it to locked_vm:
 * its page count, or -errno with nothing of it left pinned or charged.
 *
 * 'pin-pages' (3.14 vfio_pin_pages): a reserved first frame is a chunk of one, not charged;
 * otherwise -ENOMEM (with the warning) when the first page would pass RLIMIT_MEMLOCK, and the
 * chunk ends before a page that fails to pin, is not the next frame, is reserved, or would
 * pass the limit (the warning, then the chunk is mapped and the next call's first page fails
 * with the warning again: two lines for one MAP_DMA); charged once, vfio_lock_acct(i).
 *
 * 'pin-pages-remote' (mainline vfio_pin_pages_remote): the chunk runs while the frames are
 * consecutive and alike reserved or not (so consecutive VM_PFNMAP frames make one chunk);
 * a page past the limit (the warning) or one that fails to pin ends the whole call with
 * -ENOMEM or its error (`unpin_out`: the chunk's pins dropped). The batch of pinned pages
 * that mainline carries from one call to the next is invisible here: each page is pinned once.
 */
function pinChunk(pc: PinCtx, first: number, max: number): number {
  const { drv, dma, mm } = pc;
  const r0 = pinAt(pc, first);
  if (r0 < 0) return r0;
  const rsvd = dma.reserved[first] === 1;
  const base = dma.pa[first]!;
  const remote = drv.caps.type1PinChunk === 'pin-pages-remote';
  if (!remote && rsvd) return 1;
  let acct = 0;
  if (!rsvd) {
    if (!pc.lockCap && lockedVmPlus(mm, 1) > pc.limit) {
      unpinPage(drv, dma, first, null);
      warnMemlock(pc);
      return -ENOMEM;
    }
    acct = 1;
  }
  let n = 1;
  if (!pc.oneByOne) {
    for (; n < max; n++) {
      const r = pinAt(pc, first + n);
      if (r < 0) {
        if (!remote) break; // 3.14: `if (ret) break;` the chunk ends before it
        for (let i = first; i < first + n; i++) unpinPage(drv, dma, i, null);
        return r;
      }
      if (dma.pa[first + n] !== base + n * PAGE_SIZE || (dma.reserved[first + n] === 1) !== rsvd) {
        unpinPage(drv, dma, first + n, null);
        break;
      }
      if (!rsvd && !pc.lockCap && lockedVmPlus(mm, acct + 1) > pc.limit) {
        unpinPage(drv, dma, first + n, null);
        warnMemlock(pc);
        if (!remote) break;
        for (let i = first; i < first + n; i++) unpinPage(drv, dma, i, null);
        return -ENOMEM;
      }
      if (!rsvd) acct++;
    }
  }
  mm.lockedVm += acct; // vfio_lock_acct
  return n;
}

/**
 * vfio_unmap_unpin's IOMMU side over [iova, iova + size) (`type1UnmapChunk`): 3.14 one
 * iommu_unmap of PAGE_SIZE per page, in IOVA order (the 3.14 arm-smmu writer then leaves a
 * faulting entry with address 0 for each, arm-smmu-pgtable.ts); mainline one iommu_unmap of the
 * range (the kernel's per-run iommu_unmap_fast calls leave the same tables)
 */
function unmapIommu(drv: Type1Ctx, it: Type1Iommu, iova: number, size: number): void {
  if (drv.caps.type1UnmapChunk === 'range') {
    unmapRuns(it, iova, iova + size);
    return;
  }
  for (let off = 0; off < size; off += PAGE_SIZE) it.domain.unmap(iova + off, PAGE_SIZE);
}

/** mainline VFIO_IOMMU_TLB_SYNC_MAX: fast-unmapped regions between two IOTLB syncs */
const TLB_SYNC_MAX = 512;

/**
 * mainline vfio_unmap_unpin's IOMMU side over [iova, end): from each page, the run of pages
 * whose physical addresses follow it, found with iommu_iova_to_phys page by page (on the
 * arm-smmu of v6.12 a hardware ATS1PR each: arm-smmu.ts iovaToPhysHard); a page that reads
 * unmapped is skipped (the WARN_ON); each run unmapped with iommu_unmap_fast, the IOTLB synced
 * every VFIO_IOMMU_TLB_SYNC_MAX runs and at the end (vfio_sync_unpin); a run the fast unmap
 * leaves mapped is synced and tried with iommu_unmap (unmap_unpin_slow), and ends the walk if
 * that fails too
 */
function unmapRuns(it: Type1Iommu, iova: number, end: number): void {
  const d = it.domain;
  let regions = 0;
  let io = iova;
  while (io < end) {
    const phys = d.iovaToPhys(io);
    if (phys === null) {
      io += PAGE_SIZE;
      continue;
    }
    let len = PAGE_SIZE;
    for (; !it.fgsp && io + len < end; len += PAGE_SIZE) if (d.iovaToPhys(io + len) !== phys + len) break;
    let n = d.unmapFast ? d.unmapFast(io, len) : d.unmap(io, len);
    if (n > 0 && d.unmapFast) regions++;
    if (regions > 0 && (regions >= TLB_SYNC_MAX || n === 0)) {
      d.iotlbSync?.();
      regions = 0;
    }
    if (n === 0) {
      n = d.unmap(io, len);
      if (n === 0) break;
    }
    io += n;
  }
  if (regions > 0) d.iotlbSync?.();
}

/**
 * The mm whose locked_vm an unpin of `d`'s pages uncharges (`type1LockAcct`), or null for none.
 * 'current-mm': 3.14 vfio_unmap_unpin -> vfio_lock_acct(-unlocked), which takes current->mm
 * (returning early when current has no mm: "process exited"), whoever mapped the pages: a fork child
 * holding the container fd that unmaps (or closes the last group fd of) the parent's mapping
 * is uncharged, below zero, and the parent stays charged against its RLIMIT_MEMLOCK until it
 * exits; outside a syscall (no current) nothing is uncharged. 'dma-mm': mainline
 * vfio_lock_acct(dma, -n, true) uncharges the mapping's dma->mm (the mm that mapped it, or
 * the one vfio_change_dma_owner moved it to). The pins themselves are page references and
 * are dropped alike (put_pfn / unpin_user_pages); the model's count of pages pinned through
 * an mm (`pinnedThrough`) stays with the mapping's mm in both.
 */
function lockAcctMm(drv: Type1Ctx, d: VfioDma): AddressSpace | null {
  if (drv.caps.type1LockAcct === 'dma-mm' || drv.currentMm === undefined) return d.mm;
  return drv.currentMm();
}

/**
 * unpins page `i` of a mapping and uncharges it from `acct` (lockAcctMm), unless that is null
 * (a page of a chunk not yet accounted, or no mm to uncharge); reserved frames were neither
 * pinned nor charged
 */
function unpinPage(drv: Type1Ctx, d: VfioDma, i: number, acct: AddressSpace | null): void {
  if (d.reserved[i]) return;
  drv.pin.pa = d.pa[i]!;
  drv.pin.reserved = false;
  d.mm.unpinPage(drv.pin);
  if (acct !== null) acct.lockedVm--;
}

/**
 * links a new mapping into the set at its IOVA place (vfio_link_dma); the 2014 driver
 * (`type1MergeMappings`) then merges it with a neighbour whose IOVA and vaddr are contiguous
 * and whose prot and mm are equal
 */
function linkDma(drv: Type1Ctx, it: Type1Iommu, dma: VfioDma): void {
  const ds = it.dmas;
  let i = 0;
  while (i < ds.length && ds[i]!.iova < dma.iova) i++;
  ds.splice(i, 0, dma);
  // mainline vfio_dma_do_map keeps one vfio_dma per request (vfio_link_dma)
  if (!drv.caps.type1MergeMappings) return;
  // merge with the right neighbour, then with the left one
  const right = ds[i + 1];
  if (right && mergeable(dma, right)) {
    concat(dma, right);
    ds.splice(i + 1, 1);
  }
  const left = i > 0 ? ds[i - 1] : undefined;
  if (left && mergeable(left, dma)) {
    concat(left, dma);
    ds.splice(i, 1);
  }
}

/**
 * 3.14's struct vfio_dma has no mm, so vfio_dma_do_map would also join two processes'
 * contiguous mappings; the model keeps them apart (the mm is where its own count of pinned
 * pages lives), which no caller can tell: 3.14's UNMAP_DMA trims and splits across mapping
 * boundaries, and its accounting follows current, not the mapping (`lockAcctMm`)
 */
function mergeable(a: VfioDma, b: VfioDma): boolean {
  return a.iova + a.size === b.iova && a.vaddr + a.size === b.vaddr && a.prot === b.prot && a.mm === b.mm;
}

function concat(a: VfioDma, b: VfioDma): void {
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

/** unmap [start, end): trims, splits or removes every overlapping mapping; returns bytes unmapped */
export function removeRange(drv: Type1Ctx, it: Type1Iommu, start: number, end: number): number {
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
    unmapIommu(drv, it, from, to - from);
    const acct = lockAcctMm(drv, d);
    for (let p = p0; p < p1; p++) unpinPage(drv, d, p, acct);
    unmapped += to - from;
    if (from === d.iova && to === dEnd) {
      ds.splice(i, 1);
      if (drv.caps.type1DmaEntryLimit > 0) it.dmaAvail++; // vfio_remove_dma
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
        bitmap: null,
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

/** a mapping straddles `start` or `end` (mainline vfio_dma_do_unmap's v2 check: the unmap would split it) */
function splits(ds: readonly VfioDma[], start: number, end: number): boolean {
  for (const d of ds) {
    const dEnd = d.iova + d.size;
    if (d.iova < start && dEnd > start) return true;
    if (d.iova < end && dEnd > end) return true;
  }
  return false;
}

/**
 * mainline vfio_dma_do_unmap over [start, end): v2 refuses to split a mapping (-EINVAL
 * when a mapping straddles either end); v1 walks the overlapping mappings in IOVA order,
 * stops at one starting before `start` (so a request starting inside a mapping removes
 * nothing and reports 0) and removes every other one whole, even past `end`
 */
export function removeWhole(drv: Type1Ctx, it: Type1Iommu, start: number, end: number, v1: boolean, report?: (d: VfioDma) => number): number {
  const ds = it.dmas;
  if (!v1 && splits(ds, start, end)) return -EINVAL;
  let unmapped = 0;
  for (let i = 0; i < ds.length; i++) {
    const d = ds[i]!;
    if (d.iova + d.size <= start) continue;
    if (d.iova >= end) break;
    if (v1 && d.iova < start) break;
    // GET_DIRTY_BITMAP: the mapping is reported before it goes; a failed copy stops the walk
    // (vfio_dma_do_unmap: the mappings removed so far stay removed, the call fails)
    const r = report ? report(d) : 0;
    if (r) return r;
    unmapped += d.size;
    removeRange(drv, it, d.iova, d.iova + d.size);
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
export function invalidateVaddr(it: Type1Iommu, start: number, end: number, v1: boolean): number {
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
