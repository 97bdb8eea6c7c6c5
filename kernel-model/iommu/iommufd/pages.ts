/**
 * iommufd's page store (Linux v6.12 drivers/iommu/iommufd/pages.c, reduced): a struct
 * iopt_pages describes a user VA range (uptr page-aligned down, npages) of one mm. Its
 * pages are pinned (pin_user_pages with FOLL_LONGTERM, FOLL_WRITE when writable) while
 * some area that uses them is filled into an iommu_domain, and unpinned when the last such
 * area is unfilled; several areas (IOMMU_IOAS_COPY, splits) share one iopt_pages, so a page
 * is pinned and accounted once however many areas and domains map it.
 *
 * Accounting (pages.c do_update_pinned, after the pins are taken; on failure the caller
 * unwinds everything it pinned):
 * - IOPT_PAGES_ACCOUNT_NONE: the mapping process had CAP_IPC_LOCK (iopt_alloc_pages);
 * - IOPT_PAGES_ACCOUNT_USER: user_struct->locked_vm of the mapping user against the
 *   mapping process's RLIMIT_MEMLOCK (incr_user_locked_vm: -ENOMEM past it);
 * - IOPT_PAGES_ACCOUNT_MM: mm->locked_vm against RLIMIT_MEMLOCK (update_mm_locked_vm ->
 *   __account_locked_vm with bypass_rlim false: -ENOMEM past it).
 * In every mode mm->pinned_vm counts the pins.
 *
 * Model reduction: the pinned PFNs are kept here (the kernel reads them back from the
 * area's storage domain or the pinned_pfns xarray), one use count per page index.
 */
import { EFAULT, ENOMEM } from '../../base/errno.js';
import { lockedVmPlus, type AddressSpace, type PinnedPage } from '../../process/mm.js';
import type { Process } from '../../process/process.js';

export const PAGE_SIZE = 4096;
export const PAGE_SHIFT = 12;

/** enum iopt_pages account_mode */
export const IOPT_PAGES_ACCOUNT_NONE = 0;
export const IOPT_PAGES_ACCOUNT_USER = 1;
export const IOPT_PAGES_ACCOUNT_MM = 2;

/** struct user_struct's locked_vm, per uid (kernel/user.c; only iommufd uses it in this model) */
export class UserLockedVm {
  constructor() {
    // every field is readonly: frozen, so that the fuzzer's snapshot (tools/fuzz/snapshot.ts) need not record it
    Object.freeze(this);
  }

  private readonly byUid = new Map<number, number>();
  get(uid: number): number {
    return this.byUid.get(uid) ?? 0;
  }
  add(uid: number, n: number): void {
    const v = this.get(uid) + n;
    if (v === 0) this.byUid.delete(uid);
    else this.byUid.set(uid, v);
  }
  /** every uid with locked pages (tests: all zero after every fd is closed) */
  total(): number {
    let t = 0;
    for (const v of this.byUid.values()) t += v;
    return t;
  }
}

const scratchPin: PinnedPage = { pa: 0, reserved: false };
const EMPTY_F64 = new Float64Array(0);
const EMPTY_U32 = new Uint32Array(0);

export class IoptPages {
  /** kref: areas and page lists holding it */
  refs = 1;
  /** physical page per index (valid while users[i] > 0); allocated at the first pin (a MAP without a domain pins nothing) */
  pfns: Float64Array = EMPTY_F64;
  /** how many filled areas hold each page index (the kernel's domains_itree coverage) */
  users: Uint32Array = EMPTY_U32;
  npinned = 0;
  lastNpinned = 0;
  constructor(
    /** pages->uptr: the user address aligned down to PAGE_SIZE */
    readonly uptr: number,
    readonly npages: number,
    readonly writable: boolean,
    public accountMode: number,
    /** source_mm, source_task (the group leader: rlimit), source_user */
    readonly mm: AddressSpace,
    readonly proc: Process,
    readonly uid: number,
    private readonly userVm: UserLockedVm,
  ) {}

  /**
   * Take a use of page indexes [first, last] (iopt_area_fill_domain's pfn_reader): pages no
   * other filled area holds are pinned from the source mm (pin_user_pages_fast; a VM_PFNMAP
   * or unmapped or, for a writable mapping, read-only page fails with -EFAULT), then the new
   * pins are accounted (do_update_pinned: -ENOMEM over the limit). On failure nothing stays
   * taken.
   */
  take(first: number, last: number): number {
    if (this.users.length === 0) {
      this.pfns = new Float64Array(this.npages);
      this.users = new Uint32Array(this.npages);
    }
    let i = first;
    let err = 0;
    const pin = scratchPin;
    for (; i <= last; i++) {
      if (this.users[i]! > 0) {
        this.users[i]!++;
        continue;
      }
      const va = this.uptr + i * PAGE_SIZE;
      // a range running past the 32-bit address space: nothing to pin there
      // pin_user_pages (v6.12 mm/gup.c gup_vma_lookup): no stack growth below a VM_GROWSDOWN VMA (mm.ts pinUserPage)
      const r = va >= 2 ** 32 ? -EFAULT : this.mm.pinUserPage(va, this.writable, pin);
      if (r < 0 || pin.reserved) {
        // pin_user_pages refuses VM_IO / VM_PFNMAP vmas (check_vma_flags): -EFAULT
        err = r < 0 ? r : -EFAULT;
        break;
      }
      this.pfns[i] = pin.pa;
      this.users[i] = 1;
      this.npinned++;
    }
    if (err === 0) err = this.updatePinned();
    if (err !== 0) {
      this.drop(first, i - 1);
      return err;
    }
    return 0;
  }

  /** drop a use of [first, last]: pages no filled area holds any more are unpinned and unaccounted (update_unpinned) */
  drop(first: number, last: number): void {
    if (this.users.length === 0) return;
    const pin = scratchPin;
    for (let i = first; i <= last; i++) {
      const u = this.users[i]!;
      if (u === 0) continue;
      this.users[i] = u - 1;
      if (u === 1) {
        pin.pa = this.pfns[i]!;
        pin.reserved = false;
        this.mm.unpinPage(pin);
        this.npinned--;
      }
    }
    this.updatePinned();
  }

  /** pages.c do_update_pinned for npinned - last_npinned */
  private updatePinned(): number {
    const delta = this.npinned - this.lastNpinned;
    if (delta === 0) return 0;
    const inc = delta > 0;
    const n = Math.abs(delta);
    const limit = Math.floor(this.proc.rlimitMemlock / PAGE_SIZE);
    if (this.accountMode === IOPT_PAGES_ACCOUNT_USER) {
      // incr_user_locked_vm / decr_user_locked_vm
      if (inc) {
        if (this.userVm.get(this.uid) + n > limit) return -ENOMEM;
        this.userVm.add(this.uid, n);
      } else this.userVm.add(this.uid, -n);
    } else if (this.accountMode === IOPT_PAGES_ACCOUNT_MM) {
      // update_mm_locked_vm -> __account_locked_vm(mm, npages, inc, task, false)
      if (inc) {
        if (lockedVmPlus(this.mm, n) > limit) return -ENOMEM;
        this.mm.lockedVm += n;
      } else this.mm.lockedVm -= n;
    }
    this.lastNpinned = this.npinned;
    this.mm.pinnedVm += inc ? n : -n;
    return 0;
  }
}
