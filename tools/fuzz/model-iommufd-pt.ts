/**
 * The reference model's rules for IOMMU_HWPT_ALLOC and IOMMU_IOAS_COPY (model-iommufd.ts follows
 * their results with these): which errno each refusal gives, in the order Linux v6.12 checks
 * them, and what a success hands out. Written from the uapi (include/uapi/linux/iommufd.h) and
 * the order of the checks in drivers/iommu/iommufd/hw_pagetable.c iommufd_hwpt_alloc /
 * iommufd_hwpt_paging_alloc and ioas.c iommufd_ioas_copy -> io_pagetable.c iopt_get_pages,
 * iopt_map_pages (iopt_alloc_area_pages, iopt_alloc_iova, iopt_check_iova, iopt_insert_area).
 * iommufd_ioas_copy's order was read in the public ioas.c (v6.x, with the selftest's
 * iommufd_test_syz_conv_iova_id first) and struct iommu_hwpt_alloc's layout in
 * include/uapi/linux/iommufd.h (fault_id at 40, __reserved2 at 44); the order in
 * iommufd_hwpt_alloc / iommufd_hwpt_paging_alloc and iopt_alloc_iova's hole search are from
 * memory of v6.12, not re-read here (the kernel model cites the same functions). The model
 * does not call the kernel model.
 *
 * What the model knows of an IOAS: its areas (IOVA range, the user address of the first byte, and
 * whether the pages were pinned writable: IOMMU_IOAS_MAP_WRITEABLE of the IOAS_MAP that made
 * them, which IOAS_COPY's copies share), the HWPTs on it (each an arm-smmu domain: an
 * IOMMU_HWPT_ALLOC'd one has no page table until a device attaches to it, arm_smmu_map_pages
 * -ENODEV), the devices attached to them (each reserves the SMMU's software MSI window,
 * MSI_IOVA_BASE 0x8000000 + 1 MiB: iopt_table_enforce_dev_resv_regions), and `unsure` once a
 * successful IOMMU_IOAS_ALLOW_IOVAS or IOMMU_OPTION may have changed what it does not follow (the
 * allowed ranges, large pages): the map stage is then only followed, not predicted.
 */
import { EADDRINUSE, EEXIST, EFAULT, EINVAL, ENODEV, ENOENT, ENOMEM, EOPNOTSUPP, EOVERFLOW, EPERM } from '../../kernel-model/base/errno.js';

export interface MArea {
  iova: number;
  last: number;
  /** the user address of the area's first byte (iopt_area_start_byte's page offset, and what iopt_alloc_iova aligns to) */
  va: number;
  /** the pages were pinned for writing (iopt_pages.writable) */
  writable: boolean;
}

export type MIoas = { type: 'ioas'; areas: MArea[]; unsure: boolean };
/** `ready`: the domain has its page table (an auto HWPT from the start; an allocated one once a device attached to it) */
export type MHwpt = { type: 'hwpt-paging'; ioas: number; auto: boolean; ready: boolean };

const PAGE = 4096;
const ULONG_MAX = 0xffffffffn;
/** arm-smmu's software MSI window (arm_smmu_get_resv_regions: MSI_IOVA_BASE, MSI_IOVA_LENGTH) */
const MSI_START = 0x8000000;
const MSI_LAST = 0x8000000 + 0x100000 - 1;
/** the errors of filling a domain (iopt_fill_domain / iopt_fill_domains_pages): pinning (the memlock limit, pages that cannot be pinned for writing) and arm-smmu's unattached domain */
const FILL_ERRS = [-ENODEV, -ENOMEM, -EFAULT];

/** what the model knows of the context around an IOAS */
export interface IoasView {
  ioas: MIoas;
  /** the HWPTs on it */
  hwpts: MHwpt[];
  /** a device is attached to one of them (the MSI window is reserved) */
  attached: boolean;
}

/** an outcome the model predicts: one errno, success, or (`errs`) any of several */
export type Want = { ok: true } | { errs: number[] };
const err = (...e: number[]): Want => ({ errs: e });

/** a value of a u32 id field as an object id (ids above xa_limit_31b name nothing) */
export const idOf = (v: bigint): number => (v < 2n ** 31n ? Number(v) : -1);

/** iopt_table_add_domain's alignment check for a table that had none (1): every area on page boundaries, or -EADDRINUSE */
function aligned(v: IoasView): boolean {
  if (v.hwpts.length > 0) return true;
  return v.ioas.areas.every((a) => a.iova % PAGE === 0 && (a.last + 1) % PAGE === 0 && a.va % PAGE === 0);
}

/**
 * IOMMU_HWPT_ALLOC (v6.12 iommufd_hwpt_alloc): __reserved -EOPNOTSUPP; data_type NONE with a
 * data_len, or another type without one, -EINVAL; dev_id not a device -ENOENT; pt_id naming
 * nothing -EINVAL; an IOAS: iommufd_hwpt_paging_alloc (flags or driver data without
 * ops->domain_alloc_user, which arm-smmu v1/v2 lacks, -EOPNOTSUPP), then iopt_table_add_domain
 * without attaching (immediate_attach false): an empty IOAS takes the domain; with areas the
 * first one's fill fails (arm_smmu_map_pages: no page table before an attach, -ENODEV; or its
 * pinning: -ENOMEM, -EFAULT), after -EADDRINUSE for areas off page boundaries in an IOAS that had
 * no domain; a paging HWPT (a nesting parent): iommufd_hwpt_nested_alloc without
 * ops->domain_alloc_user -EOPNOTSUPP; any other object -EINVAL. null: not predicted (an IOAS the
 * model is unsure of).
 */
export function hwptAllocWant(F: (k: string) => bigint, obj: (id: number) => { type: string } | undefined, view: (id: number) => IoasView | null): Want | null {
  if (F('reserved') !== 0n) return err(-EOPNOTSUPP);
  const dataType = F('data_type');
  const dataLen = F('data_len');
  if ((dataType === 0n && dataLen !== 0n) || (dataType !== 0n && dataLen === 0n)) return err(-EINVAL);
  if (obj(idOf(F('dev_id')))?.type !== 'device') return err(-ENOENT);
  const ptId = idOf(F('pt_id'));
  const pt = obj(ptId);
  if (pt === undefined) return err(-EINVAL);
  if (pt.type === 'hwpt-paging') return err(-EOPNOTSUPP);
  if (pt.type !== 'ioas') return err(-EINVAL);
  if (F('flags') !== 0n || dataLen !== 0n) return err(-EOPNOTSUPP);
  const v = view(ptId)!;
  if (v.ioas.unsure) return null;
  if (v.ioas.areas.length === 0) return { ok: true };
  if (!aligned(v)) return err(-EADDRINUSE);
  return err(...FILL_ERRS);
}

/** a slice of the source a copy maps: one per source area it covers (iopt_get_pages' list), each a new area */
export interface CopySlice {
  len: number;
  va: number;
  writable: boolean;
}

/**
 * what IOAS_COPY is predicted to do: `want` the result (null: not predicted, an IOAS the model is
 * unsure of), `iova` where a success maps (null: not predicted), `slices` what it maps (empty
 * when it cannot succeed)
 */
export interface CopyWant {
  want: Want | null;
  iova: number | null;
  slices: CopySlice[];
}

/** roundup_pow_of_two */
function pow2(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

/** 1 << __ffs(x), x > 0 */
function lowBit(x: number): number {
  let b = 1;
  while (x % (b * 2) === 0) b *= 2;
  return b;
}

/**
 * iopt_alloc_iova (v6.12 io_pagetable.c): the alignment min(roundup_pow_of_two(length), the
 * lowest set bit of the user address) (roundup_pow_of_two(length) for address 0), the user
 * address's page offset kept; the first hole of the reserved ranges and the areas, within
 * [PAGE_SIZE, ULONG_MAX - PAGE_SIZE], where ALIGN(start) | page_offset still leaves `length`
 * bytes (__alloc_iova_check_range). -EOVERFLOW for a length of ULONG_MAX / 2 or more, -EINVAL
 * for an alignment below the table's; null when no hole fits (-ENOSPC, not drawn here).
 */
export function allocIovaWant(v: IoasView, uptr: number, length: number, tableAlign: number): number | { err: number } | null {
  if (length === 0 || length >= Math.floor(Number(ULONG_MAX) / 2)) return { err: -EOVERFLOW };
  const align = uptr === 0 ? pow2(length) : Math.min(pow2(length), lowBit(uptr));
  if (align < tableAlign) return { err: -EINVAL };
  const off = uptr % PAGE;
  const used = v.ioas.areas.map((a) => ({ s: a.iova, l: a.last }));
  if (v.attached) used.push({ s: MSI_START, l: MSI_LAST });
  used.sort((a, b) => a.s - b.s);
  const hi = Number(ULONG_MAX) - PAGE;
  const fit = (s: number, l: number): number | null => {
    const st = Math.ceil(s / align) * align;
    const a = st - (st % PAGE) + ((st % PAGE) | off);
    return a >= l || l - a < length - 1 ? null : a;
  };
  let cur = PAGE;
  for (const u of used) {
    if (u.l < cur) continue;
    if (u.s > cur) {
      const a = fit(cur, Math.min(u.s - 1, hi));
      if (a !== null) return a;
    }
    cur = Math.max(cur, u.l + 1);
    if (cur > hi) return null;
  }
  return fit(cur, hi);
}

/**
 * IOMMU_IOAS_COPY (v6.12 iommufd_ioas_copy): unknown flags -EOPNOTSUPP; length, src_iova or
 * dst_iova >= ULONG_MAX -EOVERFLOW; neither READABLE nor WRITEABLE -EINVAL; src_ioas_id not an
 * IOAS -ENOENT; iopt_get_pages: length 0 -EINVAL, the range past ULONG_MAX -EOVERFLOW, not covered
 * by contiguous areas from src_iova -ENOENT; dst_ioas_id not an IOAS -ENOENT; then iopt_map_pages
 * into it (iopt_alloc_area_pages): a length off the table's alignment (a page once it has a
 * domain) -EINVAL; FIXED_IOVA: iopt_check_iova (dst_iova off the alignment -EINVAL, past
 * ULONG_MAX -EOVERFLOW, in a reserved range -EINVAL, over an area -EEXIST), else
 * iopt_alloc_iova; per source slice iopt_insert_area (WRITEABLE of pages pinned read-only -EPERM,
 * a page offset off the alignment -EINVAL); then the fill of the destination's domains
 * (iopt_fill_domains_pages: an IOAS with an HWPT that has no page table always fails, -ENODEV;
 * pinning can fail, -ENOMEM / -EFAULT). null: not predicted (an IOAS the model is unsure of).
 */
export function copyWant(F: (k: string) => bigint, view: (id: number) => IoasView | null): CopyWant {
  const no = (...e: number[]): CopyWant => ({ want: err(...e), iova: null, slices: [] });
  const flags = F('flags');
  if ((flags & ~7n) !== 0n) return no(-EOPNOTSUPP);
  const length = F('length');
  const srcIova = F('src_iova');
  const dstIova = F('dst_iova');
  if (length >= ULONG_MAX || srcIova >= ULONG_MAX || dstIova >= ULONG_MAX) return no(-EOVERFLOW);
  if ((flags & 6n) === 0n) return no(-EINVAL);
  const src = view(idOf(F('src_ioas_id')));
  if (src === null) return no(-ENOENT);
  if (length === 0n) return no(-EINVAL);
  if (srcIova + length - 1n > ULONG_MAX) return no(-EOVERFLOW);
  // the source slices: contiguous areas from src_iova to its last byte
  const last = Number(srcIova + length - 1n);
  const slices: CopySlice[] = [];
  let cur = Number(srcIova);
  for (;;) {
    const a = src.ioas.areas.find((x) => x.iova <= cur && cur <= x.last);
    if (a === undefined || (slices.length > 0 && a.iova !== cur)) return no(-ENOENT);
    const end = Math.min(a.last, last);
    slices.push({ len: end - cur + 1, va: a.va + (cur - a.iova), writable: a.writable });
    if (end === last) break;
    cur = end + 1;
  }
  const dst = view(idOf(F('dst_ioas_id')));
  if (dst === null) return no(-ENOENT);
  const fixed = (flags & 1n) !== 0n ? Number(dstIova) : null;
  if (dst.ioas.unsure) return { want: null, iova: fixed, slices };
  const len = Number(length);
  const tableAlign = dst.hwpts.length > 0 ? PAGE : 1;
  if (len % tableAlign !== 0) return no(-EINVAL);
  let iova: number;
  if (fixed !== null) {
    const dl = fixed + len - 1;
    if (fixed % tableAlign !== 0) return no(-EINVAL);
    if (dl > Number(ULONG_MAX)) return no(-EOVERFLOW);
    if (dst.attached && fixed <= MSI_LAST && dl >= MSI_START) return no(-EINVAL);
    if (dst.ioas.areas.some((a) => a.iova <= dl && fixed <= a.last)) return no(-EEXIST);
    iova = fixed;
  } else {
    const at = allocIovaWant(dst, slices[0]!.va, len, tableAlign);
    if (at === null) return { want: null, iova: null, slices };
    if (typeof at !== 'number') return no(at.err);
    iova = at;
  }
  const writable = (flags & 2n) !== 0n;
  for (const sl of slices) {
    if (writable && !sl.writable) return no(-EPERM);
    if ((sl.va % PAGE) % tableAlign !== 0) return no(-EINVAL);
  }
  if (dst.hwpts.some((h) => !h.ready)) return no(-ENODEV);
  // into domains the pages are pinned (when no domain of the source pinned them: the memlock limit, pages that cannot be pinned for writing)
  return { want: dst.hwpts.length > 0 && src.hwpts.length === 0 ? { errs: [0, -ENOMEM, -EFAULT] } : { ok: true }, iova, slices };
}
