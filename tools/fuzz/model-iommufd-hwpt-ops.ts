/**
 * The reference model's rules for the HWPT ioctls that change nothing on this board:
 * IOMMU_HWPT_SET_DIRTY_TRACKING, IOMMU_HWPT_GET_DIRTY_BITMAP and IOMMU_HWPT_INVALIDATE. Each
 * predicts one errno from the struct (read as written, within the size rules: the caller checks)
 * and what the id names in the context, in the order of Linux v6.12:
 *
 * - drivers/iommu/iommufd/hw_pagetable.c iommufd_hwpt_set_dirty_tracking: flags beyond
 *   IOMMU_HWPT_DIRTY_TRACKING_ENABLE -EOPNOTSUPP; hwpt_id not a paging HWPT of the context
 *   (iommufd_get_hwpt_paging -> iommufd_get_object of type IOMMUFD_OBJ_HWPT_PAGING: a missing id
 *   and another object's alike) -ENOENT; then io_pagetable.c iopt_set_dirty_tracking, which
 *   answers -EOPNOTSUPP for a domain without dirty_ops (arm-smmu v1/v2 domains have none).
 *   __reserved is not checked.
 * - iommufd_hwpt_get_dirty_bitmap: flags beyond IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR, or a
 *   non-zero __reserved, -EOPNOTSUPP; hwpt_id as above -ENOENT; then io_pagetable.c
 *   iopt_read_and_clear_dirty_data: iommufd_check_iova_range (iova + (length - 1) overflowing
 *   u64 -EOVERFLOW; iova or that last IOVA above ULONG_MAX, 32-bit here, -EOVERFLOW; iova or
 *   last + 1 off the table's iova_alignment -EINVAL; page_size 0 -EINVAL; iova or last + 1 off
 *   page_size - 1 as a mask -EINVAL), then iommu_read_and_clear_dirty: no dirty_ops, -EOPNOTSUPP.
 *   The bitmap (`data`) is never touched. The table's iova_alignment is PAGE_SIZE here: the
 *   paging HWPT's arm-smmu domain is in it (iopt_table_add_domain, the domain's smallest page;
 *   the model assumes no iommufd_access raises it, as in model-iommufd-pt.ts copyWant).
 * - iommufd_hwpt_invalidate (v6.12, before the vIOMMU rework of v6.13): __reserved
 *   -EOPNOTSUPP; entry_num with data_uptr 0 or entry_len 0 -EINVAL; hwpt_id not a nested HWPT
 *   (iommufd_get_hwpt_nested: IOMMUFD_OBJ_HWPT_NESTED, which an arm-smmu v1/v2 context never has:
 *   no domain_alloc_user) -ENOENT. entry_num is written back as 0 before every return
 *   (iommufd_ucmd_respond: its -EFAULT would win; the struct is at an ok pointer here).
 *
 * Verified in the public sources: hw_pagetable.c's three functions (torvalds/linux, a post-v6.13
 * tree) and the v6.13 vIOMMU patch's diff, whose removed lines are v6.12's iommufd_hwpt_invalidate
 * (iommufd_get_hwpt_nested). Read in 6.12.19 (docs/KERNEL.md "Kernel trees read"): the three
 * functions of hw_pagetable.c as above (iommufd_hwpt_invalidate with iommufd_get_hwpt_nested);
 * io_pagetable.c's iommufd_check_iova_range (the checks below, in this order; first taken from
 * the dirty tracking series' v6.7 review thread), iopt_read_and_clear_dirty_data calling it
 * before iommu_read_and_clear_dirty, whose -EOPNOTSUPP without dirty_ops (or without
 * read_and_clear_dirty) comes only then, and iopt_set_dirty_tracking's -EOPNOTSUPP without
 * dirty_ops; and drivers/iommu/arm/arm-smmu/ never naming dirty_ops (only arm-smmu-v3 sets
 * them). The kernel model (kernel-model/iommu/iommufd/device.ts) follows the same order.
 */
import { EINVAL, ENOENT, EOPNOTSUPP, EOVERFLOW } from '../../kernel-model/base/errno.js';
import { IOMMU_HWPT_GET_DIRTY_BITMAP, IOMMU_HWPT_INVALIDATE, IOMMU_HWPT_SET_DIRTY_TRACKING } from '../../kernel-model/iommu/iommufd/uapi.js';

const U64 = 2n ** 64n - 1n;
const ULONG_MAX = 0xffffffffn;
/** the io_pagetable's iova_alignment once an arm-smmu domain is in it (4 KiB granule) */
const TABLE_ALIGN = 4096n;

/** the request names the rules apply to */
export const HWPT_OP_REQS = new Set<number>([IOMMU_HWPT_SET_DIRTY_TRACKING, IOMMU_HWPT_GET_DIRTY_BITMAP, IOMMU_HWPT_INVALIDATE]);

/**
 * the errno (negative) the request answers; `F` the struct's fields, `typeOf` what an id names in
 * the context ('hwpt-paging', 'ioas', ...; undefined: nothing)
 */
export function hwptOpWant(req: number, F: (k: string) => bigint, typeOf: (id: bigint) => string | undefined): number {
  const paging = (): boolean => typeOf(F('hwpt_id')) === 'hwpt-paging';
  if (req === IOMMU_HWPT_SET_DIRTY_TRACKING) {
    if ((F('flags') & ~1n) !== 0n) return -EOPNOTSUPP;
    return paging() ? -EOPNOTSUPP : -ENOENT;
  }
  if (req === IOMMU_HWPT_GET_DIRTY_BITMAP) {
    if ((F('flags') & ~1n) !== 0n || F('reserved') !== 0n) return -EOPNOTSUPP;
    if (!paging()) return -ENOENT;
    return checkIovaRange(F('iova'), F('length'), F('page_size')) ?? -EOPNOTSUPP;
  }
  // IOMMU_HWPT_INVALIDATE
  if (F('reserved') !== 0n) return -EOPNOTSUPP;
  if (F('entry_num') !== 0n && (F('data_uptr') === 0n || F('entry_len') === 0n)) return -EINVAL;
  return -ENOENT;
}

/** io_pagetable.c iommufd_check_iova_range (u64 arithmetic; null: the range passes) */
function checkIovaRange(iova: bigint, length: bigint, pageSize: bigint): number | null {
  const last = iova + ((length - 1n) & U64);
  if (last > U64) return -EOVERFLOW;
  if (iova > ULONG_MAX || last > ULONG_MAX) return -EOVERFLOW;
  const end = (last + 1n) & U64;
  if ((iova & (TABLE_ALIGN - 1n)) !== 0n || (end & (TABLE_ALIGN - 1n)) !== 0n) return -EINVAL;
  if (pageSize === 0n) return -EINVAL;
  const m = (pageSize - 1n) & U64;
  if ((iova & m) !== 0n || (end & m) !== 0n) return -EINVAL;
  return null;
}

const NAMES: Record<number, string> = { [IOMMU_HWPT_SET_DIRTY_TRACKING]: 'HWPT_SET_DIRTY_TRACKING', [IOMMU_HWPT_GET_DIRTY_BITMAP]: 'HWPT_GET_DIRTY_BITMAP', [IOMMU_HWPT_INVALIDATE]: 'HWPT_INVALIDATE' };

/** a divergence's message when `r` is not what hwptOpWant predicts (null: as predicted, or not one of these requests) */
export function hwptOpJudge(req: number, F: (k: string) => bigint, objs: ReadonlyMap<number, { type: string }>, r: number): string | null {
  if (!HWPT_OP_REQS.has(req)) return null;
  const typeOf = (id: bigint): string | undefined => (id < 2n ** 31n ? objs.get(Number(id))?.type : undefined);
  const want = hwptOpWant(req, F, typeOf);
  if (r === want) return null;
  const id = F('hwpt_id');
  return `${NAMES[req]}(hwpt_id ${id}: ${typeOf(id) ?? 'no object'}, flags 0x${F('flags').toString(16)}) returned ${r}, the model predicts ${want}`;
}
