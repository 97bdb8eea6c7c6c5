/**
 * The harness's invariants for iommufd (drivers/iommu/iommufd/): what the live IOAS areas
 * pin and account, and what the SMMU must translate for the fuzzed device while it is
 * attached through iommufd. Kept apart from harness.ts (which calls these) so the
 * group/container invariants and these evolve separately.
 *
 * Pinning (pages.c): an area's pages are pinned once per page index however many areas and
 * domains use them (iopt_pages users); mm->pinned_vm counts every pin
 * (do_update_pinned), mm->locked_vm only in IOPT_PAGES_ACCOUNT_MM mode, the user's
 * locked_vm only in IOPT_PAGES_ACCOUNT_USER mode (the /dev/iommu default).
 */
import type { AddressSpace } from '../../kernel-model/process/mm.js';
import { IOPT_PAGES_ACCOUNT_MM, IOPT_PAGES_ACCOUNT_USER, type Ioas, type IommufdDevice, type IommufdService } from '../../kernel-model/iommu/iommufd/index.js';
import type { IoptPages } from '../../kernel-model/iommu/iommufd/pages.js';
import type { IommufdCtx } from '../../kernel-model/iommu/iommufd/objects.js';
import type { Process } from '../../kernel-model/process/process.js';
import type { File } from '../../kernel-model/vfs/file.js';
import { VfioDeviceFile } from '../../kernel-model/vfio/device-cdev.js';
import { SmallCounts, type PageCounts } from './pin-counts.js';
import { IOMMU_READ, IOMMU_WRITE } from '../../kernel-model/iommu/types.js';
import type { ExpectedPage } from './isolation.js';

const PAGE = 4096;

export interface IommufdPins {
  /** pages pinned through each mm (AddressSpace.pinnedThrough's iommufd share) */
  readonly pinned: SmallCounts<AddressSpace>;
  /** the pins accounted to mm->locked_vm (ACCOUNT_MM pages) */
  readonly locked: SmallCounts<AddressSpace>;
  /** the pins accounted to each uid's user locked_vm (ACCOUNT_USER pages) */
  readonly user: SmallCounts<number>;
}


const NO_PAGES: readonly IoptPages[] = Object.freeze([]);

/** livePages' first pass: whether some IOAS has an area (set by noteArea) */
let anyArea = false;
function noteArea(o: { type: string }): void {
  if (o.type === 'ioas' && (o as Ioas).iopt.areas.length > 0) anyArea = true;
}

/**
 * every distinct iopt_pages some area of a live IOAS holds, in context order and each context's
 * insertion order (iommufdPins only sums over them, so no id sort: this runs after every call)
 */
function livePages(svc: IommufdService): readonly IoptPages[] {
  // first, without building anything: is there an IOAS with an area at all? (after most calls
  // of most runs there is none; this runs after every call)
  // (forEach with a function of the module's: no iterator per context and call)
  anyArea = false;
  for (const ictx of svc.contexts) ictx.objects.forEach(noteArea);
  if (!anyArea) return NO_PAGES;
  // a handful of iopt_pages at most: a list search, no Set
  const out: IoptPages[] = [];
  for (const ictx of svc.contexts) {
    for (const o of ictx.objects.values()) {
      if (o.type !== 'ioas') continue;
      for (const a of (o as Ioas).iopt.areas) {
        const p = a.pages ?? a.srcPages;
        if (!out.includes(p)) out.push(p);
      }
    }
  }
  return out;
}

/** iommufdPins' empty answer (no live area), shared; never added to */
const NO_PINS: IommufdPins = { pinned: new SmallCounts(), locked: new SmallCounts(), user: new SmallCounts() };

/** iommufdPins' tables, refilled by each call that finds a live area (host scratch, pin-counts.ts) */
const PINS: IommufdPins = { pinned: new SmallCounts(), locked: new SmallCounts(), user: new SmallCounts() };

/**
 * what the live IOASes pin and account, recomputed from their areas' page uses. The pin count
 * each physical page owes to iommufd is added to `perPa`, and each such page to `everPinned`
 * (in the order the areas' pages are met: the order of that set is the order of the pin-count
 * findings). The answer is read only and valid until the next call (its tables are reused: this
 * runs after every call).
 */
export function iommufdPins(svc: IommufdService | null, perPa: PageCounts, everPinned: Set<number>): IommufdPins {
  // no live IOAS area (most calls of most runs): the shared empty answer, read only by callers
  const live = svc ? livePages(svc) : NO_PAGES;
  if (live.length === 0) return NO_PINS;
  const r = PINS;
  r.pinned.reset();
  r.locked.reset();
  r.user.reset();
  for (const p of live) {
    let n = 0;
    for (let i = 0; i < p.users.length; i++) {
      if (p.users[i]! === 0) continue;
      n++;
      perPa.add(p.pfns[i]!, 1);
      everPinned.add(p.pfns[i]!);
    }
    if (n === 0) continue;
    r.pinned.add(p.mm, n);
    if (p.accountMode === IOPT_PAGES_ACCOUNT_MM) r.locked.add(p.mm, n);
    if (p.accountMode === IOPT_PAGES_ACCOUNT_USER) r.user.add(p.uid, n);
  }
  return r;
}

/** an iommu group attached through iommufd, and the access each IOVA page it may use must have */
export interface IommufdAttachment {
  group: number;
  hwpt: number;
  /** IOVA page number -> [iova, iova + PAGE) -> pa with the area's read/write permission */
  exp: Map<number, ExpectedPage>;
}

const NO_ATTACHMENTS: readonly IommufdAttachment[] = Object.freeze([]);

/**
 * Every iommu group attached through iommufd (igroup->hwpt) with the pages its HWPT's IOAS
 * areas fill into the domain, page by page (areas of an IOAS with a domain are aligned to
 * its page size: iopt_check_iova / iopt_calculate_iova_alignment), as the isolation check
 * compares them (Harness.checkIsolationIommufd, compareBank): one ExpectedPage per page,
 * without a list of pages to convert first.
 */
export function iommufdAttachments(svc: IommufdService | null): readonly IommufdAttachment[] {
  if (!svc) return NO_ATTACHMENTS;
  let out: IommufdAttachment[] | null = null;
  for (const ictx of svc.contexts) {
    for (const ig of ictx.groups.values()) {
      const hwpt = ig.hwpt;
      if (hwpt === null || ig.devices.length === 0) continue;
      const exp = new Map<number, ExpectedPage>();
      for (const a of hwpt.ioas.iopt.areas) {
        const p = a.pages;
        if (p === null) continue;
        const read = (a.prot & IOMMU_READ) !== 0;
        const write = (a.prot & IOMMU_WRITE) !== 0;
        for (let iova = a.iova - (a.iova % PAGE); iova <= a.last; iova += PAGE) {
          const idx = Math.floor(a.startByteOf(Math.max(iova, a.iova)) / PAGE);
          if (p.users[idx] === undefined || p.users[idx] === 0) continue;
          exp.set(iova / PAGE, { pa: p.pfns[idx]!, read, write });
        }
      }
      (out ??= []).push({ group: ig.group.id, hwpt: hwpt.id, exp });
    }
  }
  return out ?? NO_ATTACHMENTS;
}

/** the iommufd device objects (bound, not yet unbound) of devices in IOMMU group `group` */
export function iommufdBoundDevices(svc: IommufdService | null, group: number): number {
  if (!svc) return 0;
  let n = 0;
  for (const ictx of svc.contexts) {
    for (const o of ictx.objects.values()) {
      if (o.type === 'device' && !(o as IommufdDevice).unbound && (o as IommufdDevice).igroup.group.id === group) n++;
    }
  }
  return n;
}

/**
 * the IOAS ids, in id order, of the context whose struct file is `f` (a /dev/iommu fd's; none when
 * no live context has it): what a resource-typed IOAS id (Value `{ ioas, mk }`) chooses from
 */
export function ioasIdsOf(svc: IommufdService, f: object): number[] {
  for (const ictx of svc.contexts) {
    if (ictx.file !== f || ictx.released) continue;
    const ids: number[] = [];
    for (const o of ictx.objects.values()) if (o.type === 'ioas') ids.push(o.id);
    return ids.sort((a, b) => a - b);
  }
  return [];
}

/**
 * the device ids, in id order, bound to the context whose struct file is `f` (a /dev/iommu fd's;
 * none when no live context has it): what a resource-typed device id (Value `{ dev, mk }`)
 * chooses from (VFIO_DEVICE_BIND_IOMMUFD's out_devid: drivers/vfio/device_cdev.c
 * vfio_df_ioctl_bind_iommufd, the object iommufd_device_bind adds)
 */
export function devIdsOf(svc: IommufdService, f: object): number[] {
  for (const ictx of svc.contexts) {
    if (ictx.file !== f || ictx.released) continue;
    const ids: number[] = [];
    for (const o of ictx.objects.values()) if (o.type === 'device') ids.push(o.id);
    return ids.sort((a, b) => a - b);
  }
  return [];
}

/**
 * the highest HWPT id a resource-typed HWPT id (Value `{ hwpt, mk }`) resolves to: the C
 * reproducer finds a context's HWPTs by probing ids 1..HWPT_ID_MAX (emit-c-runtime-res.ts
 * hwpt_of), so the harness lists only those (object ids are the lowest free from 1, main.c
 * iommufd_object_alloc_elm: a program's contexts stay far below)
 */
export const HWPT_ID_MAX = 128;

/**
 * the paging HWPT ids (up to HWPT_ID_MAX), in id order, of the context whose struct file is `f`
 * (none when no live context has it): what a resource-typed HWPT id (Value `{ hwpt, mk }`)
 * chooses from. IOMMU_HWPT_ALLOC's (out_hwpt_id: drivers/iommu/iommufd/hw_pagetable.c
 * iommufd_hwpt_alloc) and the auto domains an ATTACH to an IOAS makes (device.c
 * iommufd_device_auto_get_domain writes its id into *pt_id, which vfio_df_ioctl_attach_pt,
 * drivers/vfio/device_cdev.c, copies back to the struct's pt_id): both ids reach user space
 */
export function hwptIdsOf(svc: IommufdService, f: object): number[] {
  for (const ictx of svc.contexts) {
    if (ictx.file !== f || ictx.released) continue;
    const ids: number[] = [];
    for (const o of ictx.objects.values()) if (o.type === 'hwpt-paging' && o.id <= HWPT_ID_MAX) ids.push(o.id);
    return ids.sort((a, b) => a - b);
  }
  return [];
}

/**
 * the /dev/iommu file of the live context a cdev file `f` is bound to (df->iommufd, which
 * VFIO_DEVICE_BIND_IOMMUFD took: drivers/vfio/device_cdev.c vfio_df_ioctl_bind_iommufd; the
 * context's file, iommufd_ctx_get holding it), null when `f` is no bound cdev file (a group-path
 * device file, a cdev before its bind or after its close)
 */
export function boundCtxFile(f: File): File | null {
  const df = f.priv;
  if (!(df instanceof VfioDeviceFile) || df.group !== null || !df.accessGranted || df.iommufd === null) return null;
  const ictx = df.iommufd as IommufdCtx;
  return ictx.released ? null : ictx.file;
}

/**
 * the fd of `proc` that names the iommufd context a call on `fd` works in: `fd` itself for a
 * /dev/iommu fd (`isIommufd`: the harness's fileKind), for a bound cdev fd the lowest fd of the
 * process on the /dev/iommu file of the context it is bound to; -1 for anything else (what a
 * resource-typed IOAS id of a call on that fd resolves in: Value `{ ioas, mk }`)
 */
export function ctxFdOf(proc: Process, fd: number, isIommufd: (f: File) => boolean): number {
  const f = fd >= 0 && fd < 1000 ? proc.fdget(fd) : null;
  if (f === null) return -1;
  if (isIommufd(f)) return fd;
  const ctxFile = boundCtxFile(f);
  if (ctxFile === null || !isIommufd(ctxFile)) return -1;
  // the lowest such fd, by fdLimit/fdget (openFds' order, without its list)
  const lim = proc.fdLimit;
  for (let o = 0; o < lim; o++) if (proc.fdget(o) === ctxFile) return o;
  return -1;
}

/**
 * the cdev fds of `proc`, in fd order, bound to the context of one of its live /dev/iommu fds
 * (ctxFdOf): what a resource-typed device fd (FdRef `{ k: 'device', mk: 1 }`) chooses from
 */
export function boundDevFds(proc: Process, isIommufd: (f: File) => boolean): number[] {
  const out: number[] = [];
  const lim = proc.fdLimit;
  for (let fd = 0; fd < lim; fd++) {
    const f = proc.fdget(fd);
    if (f !== null && boundCtxFile(f) !== null && ctxFdOf(proc, fd, isIommufd) >= 0) out.push(fd);
  }
  return out;
}
