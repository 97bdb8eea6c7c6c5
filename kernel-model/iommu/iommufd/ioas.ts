/**
 * The IOAS ioctls (Linux v6.12 drivers/iommu/iommufd/ioas.c) and the user-pages entry of
 * io_pagetable.c (iopt_map_user_pages). Field offsets are those of include/uapi/linux/iommufd.h.
 * `unsigned long` and user pointers are 32 bits on this board: ULONG_MAX is 0xffffffff and
 * u64_to_user_ptr keeps the low 32 bits of a u64.
 */
import { EBUSY, EFAULT, EINVAL, EMSGSIZE, ENOENT, EOPNOTSUPP, EOVERFLOW, EPERM } from '../../base/errno.js';
import type { Task } from '../../vfs/file.js';
import { IOMMU_CACHE, IOMMU_READ, IOMMU_WRITE } from '../types.js';
import { ULONG_MAX, type IovaRangeLast, type IoPagetable } from './io-pagetable.js';
import { ucmdRespond, type Ucmd } from './main.js';
import { Ioas, type IommufdCtx } from './objects.js';
import { IOPT_PAGES_ACCOUNT_MM, IOPT_PAGES_ACCOUNT_NONE, IOPT_PAGES_ACCOUNT_USER, IoptPages, PAGE_SIZE } from './pages.js';
import { IOMMU_IOAS_MAP_FIXED_IOVA, IOMMU_IOAS_MAP_READABLE, IOMMU_IOAS_MAP_WRITEABLE, IOMMU_OPTION_OP_GET, IOMMU_OPTION_OP_SET } from './uapi.js';

const MAP_FLAGS = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_WRITEABLE | IOMMU_IOAS_MAP_READABLE;
const ULONG_MAX_B = BigInt(ULONG_MAX);
const U64_MAX = 2n ** 64n - 1n;
/** SIZE_MAX - PAGE_SIZE on a 32-bit kernel */
const SIZE_MAX_MINUS_PAGE = ULONG_MAX - PAGE_SIZE;

/** conv_iommu_prot: IOMMU_CACHE always (bind required IOMMU_CAP_CACHE_COHERENCY), WRITE and READ from the flags */
export function convIommuProt(flags: number): number {
  let prot = IOMMU_CACHE;
  if (flags & IOMMU_IOAS_MAP_WRITEABLE) prot |= IOMMU_WRITE;
  if (flags & IOMMU_IOAS_MAP_READABLE) prot |= IOMMU_READ;
  return prot;
}

/** u64_to_user_ptr on a 32-bit kernel */
function userPtr(v: bigint): number {
  return Number(v & 0xffffffffn);
}

/**
 * iopt_map_user_pages: iopt_alloc_pages (length 0 or above SIZE_MAX - PAGE_SIZE -EINVAL; the
 * accounting mode NONE with CAP_IPC_LOCK, else USER, turned into MM when the context
 * accounts per process), then iopt_map_pages (io-pagetable.ts). Returns the IOVA or -errno.
 */
export function ioptMapUserPages(ictx: IommufdCtx, task: Task, iopt: IoPagetable, iova: number | null, uptr: number, length: number, prot: number): number {
  if (length > SIZE_MAX_MINUS_PAGE || length === 0) return -EINVAL;
  const base = uptr - (uptr % PAGE_SIZE);
  const npages = Math.ceil((length + (uptr - base)) / PAGE_SIZE);
  const proc = task.proc;
  let mode = proc.capIpcLock ? IOPT_PAGES_ACCOUNT_NONE : IOPT_PAGES_ACCOUNT_USER;
  if (ictx.accountMode === IOPT_PAGES_ACCOUNT_MM && mode === IOPT_PAGES_ACCOUNT_USER) mode = IOPT_PAGES_ACCOUNT_MM;
  const pages = new IoptPages(base, npages, (prot & IOMMU_WRITE) !== 0, mode, task.mm, proc, proc.uid, ictx.svc.userLockedVm);
  const r = iopt.mapPages([{ pages, startByte: uptr - base, length }], length, iova, prot);
  // the list's reference (iopt_put_pages): areas took their own
  pages.refs--;
  return r;
}

/** iommufd_ioas_alloc_ioctl: flags (offset 4) -EOPNOTSUPP; out_ioas_id at 8; a failed copy-out aborts the object */
export function ioasAllocIoctl(u: Ucmd): number {
  if (u.dv.getUint32(4, true) !== 0) return -EOPNOTSUPP;
  const ioas = new Ioas();
  u.ictx.reserve(ioas);
  u.dv.setUint32(8, ioas.id, true);
  const rc = ucmdRespond(u, 12);
  if (rc) {
    u.ictx.abort(ioas);
    return rc;
  }
  u.ictx.finalize(ioas);
  return 0;
}

/**
 * iommufd_ioas_iova_ranges: __reserved (12) -EOPNOTSUPP; unknown IOAS -ENOENT; the holes of
 * the reserved ranges go to allowed_iovas (16) while num_iovas (8) has room (-EFAULT),
 * num_iovas becomes the total and out_iova_alignment (24) the table's alignment; the struct
 * is copied back, then -EMSGSIZE when the array was too short
 */
export function ioasIovaRanges(u: Ucmd): number {
  const dv = u.dv;
  if (dv.getUint32(12, true) !== 0) return -EOPNOTSUPP;
  const ioas = u.ictx.getIoas(dv.getUint32(4, true));
  if (ioas === null) return -ENOENT;
  const max = dv.getUint32(8, true);
  const ranges = userPtr(dv.getBigUint64(16, true));
  let num = 0;
  const elm = new Uint8Array(16);
  const ev = new DataView(elm.buffer);
  for (const h of ioas.iopt.holes()) {
    if (num < max) {
      ev.setBigUint64(0, BigInt(h.start), true);
      ev.setBigUint64(8, BigInt(h.last), true);
      if (u.task.mm.copyToUser(ranges + 16 * num, elm, 0, 16) < 0) return -EFAULT;
    }
    num++;
  }
  dv.setUint32(8, num, true);
  dv.setBigUint64(24, BigInt(ioas.iopt.iovaAlignment), true);
  const rc = ucmdRespond(u, 32);
  if (rc) return rc;
  return num > max ? -EMSGSIZE : 0;
}

/**
 * iommufd_ioas_allow_iovas: __reserved (12) -EOPNOTSUPP; unknown IOAS -ENOENT;
 * iommufd_ioas_load_iovas reads num_iovas (8) ranges from allowed_iovas (16): -EFAULT,
 * start >= last -EINVAL, a range meeting an earlier one -EINVAL; iopt_set_allow_iova
 * replaces the list unless a range meets a reserved one (-EADDRINUSE)
 */
export function ioasAllowIovas(u: Ucmd): number {
  const dv = u.dv;
  if (dv.getUint32(12, true) !== 0) return -EOPNOTSUPP;
  const ioas = u.ictx.getIoas(dv.getUint32(4, true));
  if (ioas === null) return -ENOENT;
  const num = dv.getUint32(8, true);
  const ptr = userPtr(dv.getBigUint64(16, true));
  const list: IovaRangeLast[] = [];
  const elm = new Uint8Array(16);
  const ev = new DataView(elm.buffer);
  for (let i = 0; i < num; i++) {
    if (u.task.mm.copyFromUser(elm, 0, ptr + 16 * i, 16) < 0) return -EFAULT;
    const s = ev.getBigUint64(0, true);
    const l = ev.getBigUint64(8, true);
    if (s >= l) return -EINVAL;
    // the interval tree nodes are unsigned long: 32 bits here
    const start = Number(s & ULONG_MAX_B);
    const last = Number(l & ULONG_MAX_B);
    if (list.some((r) => r.start <= last && r.last >= start)) return -EINVAL;
    list.push({ start, last });
  }
  return ioas.iopt.setAllowIova(list);
}

/**
 * iommufd_ioas_map: unknown flags or __reserved (12) -EOPNOTSUPP; iova (32) or length (24)
 * >= ULONG_MAX -EOVERFLOW; neither WRITEABLE nor READABLE -EINVAL; unknown IOAS -ENOENT;
 * then iopt_map_user_pages at iova (FIXED_IOVA) or an allocated IOVA, written back at 32
 */
export function ioasMap(u: Ucmd): number {
  const dv = u.dv;
  const flags = dv.getUint32(4, true);
  if ((flags & ~MAP_FLAGS) !== 0 || dv.getUint32(12, true) !== 0) return -EOPNOTSUPP;
  const iovaB = dv.getBigUint64(32, true);
  const lengthB = dv.getBigUint64(24, true);
  if (iovaB >= ULONG_MAX_B || lengthB >= ULONG_MAX_B) return -EOVERFLOW;
  if ((flags & (IOMMU_IOAS_MAP_WRITEABLE | IOMMU_IOAS_MAP_READABLE)) === 0) return -EINVAL;
  const ioas = u.ictx.getIoas(dv.getUint32(8, true));
  if (ioas === null) return -ENOENT;
  const fixed = (flags & IOMMU_IOAS_MAP_FIXED_IOVA) !== 0;
  const r = ioptMapUserPages(u.ictx, u.task, ioas.iopt, fixed ? Number(iovaB) : null, userPtr(dv.getBigUint64(16, true)), Number(lengthB), convIommuProt(flags));
  if (r < 0) return r;
  dv.setBigUint64(32, BigInt(r), true);
  return ucmdRespond(u, 40);
}

/**
 * iommufd_ioas_copy: unknown flags -EOPNOTSUPP; length (16), src_iova (32) or dst_iova (24)
 * >= ULONG_MAX -EOVERFLOW; neither WRITEABLE nor READABLE -EINVAL; unknown source IOAS
 * (12) -ENOENT; iopt_get_pages of the source range (-EINVAL, -EOVERFLOW, -ENOENT unless
 * contiguous areas cover it); unknown destination IOAS (8) -ENOENT; iopt_map_pages of the
 * same pages (shared: pinned once) at dst_iova or an allocated IOVA (written back at 24)
 */
export function ioasCopy(u: Ucmd): number {
  const dv = u.dv;
  const flags = dv.getUint32(4, true);
  if ((flags & ~MAP_FLAGS) !== 0) return -EOPNOTSUPP;
  const length = dv.getBigUint64(16, true);
  const dstIova = dv.getBigUint64(24, true);
  const srcIova = dv.getBigUint64(32, true);
  if (length >= ULONG_MAX_B || srcIova >= ULONG_MAX_B || dstIova >= ULONG_MAX_B) return -EOVERFLOW;
  if ((flags & (IOMMU_IOAS_MAP_WRITEABLE | IOMMU_IOAS_MAP_READABLE)) === 0) return -EINVAL;
  const src = u.ictx.getIoas(dv.getUint32(12, true));
  if (src === null) return -ENOENT;
  const list = src.iopt.getPages(Number(srcIova), Number(length));
  if (typeof list === 'number') return list;
  const dst = u.ictx.getIoas(dv.getUint32(8, true));
  if (dst === null) return -ENOENT;
  const fixed = (flags & IOMMU_IOAS_MAP_FIXED_IOVA) !== 0;
  const r = dst.iopt.mapPages(list, Number(length), fixed ? Number(dstIova) : null, convIommuProt(flags));
  if (r < 0) return r;
  dv.setBigUint64(24, BigInt(r), true);
  return ucmdRespond(u, 40);
}

/**
 * iommufd_ioas_unmap: unknown IOAS (4) -ENOENT; iova 0 with length U64_MAX unmaps all;
 * else iova (8) or length (16) >= ULONG_MAX -EOVERFLOW and iopt_unmap_iova (-EINVAL for
 * length 0, -EOVERFLOW, -ENOENT when nothing is mapped there or an area sticks out); the
 * bytes unmapped go back in length
 */
export function ioasUnmap(u: Ucmd): number {
  const dv = u.dv;
  const ioas = u.ictx.getIoas(dv.getUint32(4, true));
  if (ioas === null) return -ENOENT;
  const iova = dv.getBigUint64(8, true);
  const length = dv.getBigUint64(16, true);
  let r: { rc: number; unmapped: number };
  if (iova === 0n && length === U64_MAX) r = ioas.iopt.unmapAll();
  else {
    if (iova >= ULONG_MAX_B || length >= ULONG_MAX_B) return -EOVERFLOW;
    r = ioas.iopt.unmapIova(Number(iova), Number(length));
  }
  if (r.rc) return r.rc;
  dv.setBigUint64(16, BigInt(r.unmapped), true);
  return ucmdRespond(u, 24);
}

/**
 * iommufd_option_rlimit_mode: object_id (12) -EOPNOTSUPP; GET: val64 (16) = 1 for per-process
 * accounting; SET: without CAP_SYS_RESOURCE -EPERM, with any object in the context -EBUSY,
 * val64 0 (user) or 1 (process) else -EINVAL; another op -EOPNOTSUPP
 */
export function optionRlimitMode(u: Ucmd): number {
  const dv = u.dv;
  const ictx = u.ictx;
  if (dv.getUint32(12, true) !== 0) return -EOPNOTSUPP;
  const op = dv.getUint16(8, true);
  if (op === IOMMU_OPTION_OP_GET) {
    dv.setBigUint64(16, ictx.accountMode === IOPT_PAGES_ACCOUNT_MM ? 1n : 0n, true);
    return 0;
  }
  if (op === IOMMU_OPTION_OP_SET) {
    if (!ictx.svc.capableSysResource(u.task.proc)) return -EPERM;
    if (ictx.objects.size > 0) return -EBUSY;
    const v = dv.getBigUint64(16, true);
    if (v === 0n) ictx.accountMode = IOPT_PAGES_ACCOUNT_USER;
    else if (v === 1n) ictx.accountMode = IOPT_PAGES_ACCOUNT_MM;
    else return -EINVAL;
    return 0;
  }
  return -EOPNOTSUPP;
}

/**
 * iommufd_ioas_option (HUGE_PAGES, per IOAS): unknown IOAS (object_id) -ENOENT; GET: 1 unless
 * large pages are disabled; SET 0: iopt_disable_large_pages (-EINVAL once a domain holds
 * mappings), 1: iopt_enable_large_pages, else -EINVAL; another op -EOPNOTSUPP
 */
export function ioasOption(u: Ucmd): number {
  const dv = u.dv;
  const ioas = u.ictx.getIoas(dv.getUint32(12, true));
  if (ioas === null) return -ENOENT;
  const op = dv.getUint16(8, true);
  if (op === IOMMU_OPTION_OP_GET) {
    dv.setBigUint64(16, ioas.iopt.disableLargePages ? 0n : 1n, true);
    return 0;
  }
  if (op === IOMMU_OPTION_OP_SET) {
    const v = dv.getBigUint64(16, true);
    if (v === 0n) return ioas.iopt.disableLarge();
    if (v === 1n) {
      ioas.iopt.enableLarge();
      return 0;
    }
    return -EINVAL;
  }
  return -EOPNOTSUPP;
}
