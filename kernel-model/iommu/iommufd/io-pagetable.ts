/**
 * struct io_pagetable (Linux v6.12 drivers/iommu/iommufd/io_pagetable.c, reduced): an
 * IOAS's IOVA space. Areas map an IOVA range to a slice of an iopt_pages; reserved ranges
 * (each with an owner: a domain's aperture, a device's reserved regions) and the allowed
 * list (IOMMU_IOAS_ALLOW_IOVAS) constrain it; the attached iommu_domains (iopt->domains)
 * receive every area's pages, pinned once per iopt_pages (pages.ts).
 *
 * The IOVA space is `unsigned long`: 32 bits on this ARM board, so ULONG_MAX is 0xffffffff.
 * Areas, reserved and allowed ranges are few: sorted arrays stand in for the interval trees.
 */
import { EADDRINUSE, EBUSY, EEXIST, EINVAL, ENOENT, ENOSPC, EOVERFLOW, EPERM } from '../../base/errno.js';
import type { Domain } from '../core.js';
import { PAGE_SIZE, type IoptPages } from './pages.js';

export const ULONG_MAX = 0xffffffff;

export interface IovaRangeLast {
  start: number;
  last: number;
}

interface Reserved extends IovaRangeLast {
  owner: unknown;
}

export class IoptArea {
  /** set once the area is filled (kernel: area->pages non-NULL after iopt_map_pages) */
  pages: IoptPages | null = null;
  constructor(
    readonly iopt: IoPagetable,
    public iova: number,
    public last: number,
    readonly srcPages: IoptPages,
    /** byte offset of the area's first IOVA inside its pages (pages->uptr based) */
    public startByte: number,
    readonly prot: number,
  ) {}
  get length(): number {
    return this.last - this.iova + 1;
  }
  get firstIndex(): number {
    return Math.floor(this.startByte / PAGE_SIZE);
  }
  get lastIndex(): number {
    return Math.floor((this.startByte + this.length - 1) / PAGE_SIZE);
  }
  get pageOffset(): number {
    return this.startByte % PAGE_SIZE;
  }
  /** iopt_area_start_byte: the pages byte offset of an IOVA inside the area */
  startByteOf(iova: number): number {
    return this.startByte + (iova - this.iova);
  }
}

/** one element of a pages list (struct iopt_pages_list) */
export interface PagesElm {
  pages: IoptPages;
  startByte: number;
  length: number;
}

function roundupPow2(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

/** 1 << __ffs64(x): the lowest set bit */
function lowestBit(x: number): number {
  let b = 1;
  while (b <= x && x % (b * 2) === 0) b *= 2;
  return b;
}

/** ALIGN(x, a) for a power of two */
function alignUp(x: number, a: number): number {
  return Math.ceil(x / a) * a;
}

export class IoPagetable {
  /** sorted by iova */
  readonly areas: IoptArea[] = [];
  /** sorted by start */
  reserved: Reserved[] = [];
  /** sorted by start; empty: everything allowed */
  allowed: IovaRangeLast[] = [];
  /** iopt->domains (index order = next_domain_id order, compacted on removal) */
  readonly domains: Domain[] = [];
  /** iopt_init_table: 1 (software table: any alignment) */
  iovaAlignment = 1;
  disableLargePages = false;

  // ---------------- lookups ----------------

  private areaIntersecting(start: number, last: number): IoptArea | null {
    for (const a of this.areas) {
      if (a.iova > last) break;
      if (a.last >= start) return a;
    }
    return null;
  }

  private reservedIntersecting(start: number, last: number): Reserved | null {
    for (const r of this.reserved) if (r.start <= last && r.last >= start) return r;
    return null;
  }

  private allowedIntersecting(start: number, last: number): IovaRangeLast | null {
    for (const r of this.allowed) if (r.start <= last && r.last >= start) return r;
    return null;
  }

  /** the holes of the reserved ranges over [0, ULONG_MAX] (IOMMU_IOAS_IOVA_RANGES, interval_tree_for_each_span) */
  holes(): IovaRangeLast[] {
    const out: IovaRangeLast[] = [];
    let cur = 0;
    let done = false;
    for (const r of this.mergedReserved()) {
      if (r.start > cur) out.push({ start: cur, last: r.start - 1 });
      if (r.last >= ULONG_MAX) {
        done = true;
        break;
      }
      cur = Math.max(cur, r.last + 1);
    }
    if (!done) out.push({ start: cur, last: ULONG_MAX });
    return out;
  }

  private mergedReserved(): IovaRangeLast[] {
    const out: IovaRangeLast[] = [];
    for (const r of this.reserved) {
      const top = out[out.length - 1];
      if (top && r.start <= top.last + 1) top.last = Math.max(top.last, r.last);
      else out.push({ start: r.start, last: r.last });
    }
    return out;
  }

  // ---------------- IOVA allocation and checks ----------------

  /** iopt_check_iova: alignment -EINVAL, overflow -EOVERFLOW, reserved -EINVAL, existing area -EEXIST */
  checkIova(iova: number, length: number): number {
    if (iova % this.iovaAlignment !== 0) return -EINVAL;
    const last = iova + length - 1;
    if (last > ULONG_MAX) return -EOVERFLOW;
    if (this.reservedIntersecting(iova, last)) return -EINVAL;
    if (this.areaIntersecting(iova, last)) return -EEXIST;
    return 0;
  }

  /**
   * iopt_alloc_iova: the first IOVA (never 0: the allowed spans start at PAGE_SIZE) in an
   * allowed range, outside reserved ranges and areas, aligned to min(roundup_pow_of_two(length),
   * the lowest set bit of uptr) with uptr's page offset kept; -EOVERFLOW for a length of 0 or
   * >= ULONG_MAX / 2, -EINVAL when that alignment is below the table's, -ENOSPC when none fits
   */
  allocIova(uptr: number, length: number): number {
    const pageOffset = uptr % PAGE_SIZE;
    if (length === 0 || length >= Math.floor(ULONG_MAX / 2)) return -EOVERFLOW;
    const align = uptr === 0 ? roundupPow2(length) : Math.min(roundupPow2(length), lowestBit(uptr));
    if (align < this.iovaAlignment) return -EINVAL;
    const lo = PAGE_SIZE;
    const hi = ULONG_MAX - PAGE_SIZE;
    const spans: IovaRangeLast[] = this.allowed.length === 0 ? [{ start: lo, last: hi }] : this.allowed.map((r) => ({ start: Math.max(r.start, lo), last: Math.min(r.last, hi) })).filter((r) => r.start <= r.last);
    const used: IovaRangeLast[] = [...this.reserved.map((r) => ({ start: r.start, last: r.last })), ...this.areas.map((a) => ({ start: a.iova, last: a.last }))].sort((a, b) => a.start - b.start);
    const fits = (s: number, l: number): number | null => {
      if (l - s < length - 1) return null;
      // ALIGN(start, iova_alignment) | page_offset
      const st = orBits(alignUp(s, align), pageOffset);
      if (st > l || l - st < length - 1) return null;
      return st;
    };
    for (const sp of spans) {
      if (fits(sp.start, sp.last) === null) continue;
      let cur = sp.start;
      for (const u of used) {
        if (u.last < cur) continue;
        if (u.start > sp.last) break;
        if (u.start > cur) {
          const r = fits(cur, u.start - 1);
          if (r !== null) return r;
        }
        cur = Math.max(cur, u.last + 1);
        if (cur > sp.last) break;
      }
      if (cur <= sp.last) {
        const r = fits(cur, sp.last);
        if (r !== null) return r;
      }
    }
    return -ENOSPC;
  }

  // ---------------- areas ----------------

  /**
   * iopt_map_pages: iopt_alloc_area_pages (length aligned and non-zero -EINVAL, then
   * iopt_alloc_iova or iopt_check_iova, then iopt_insert_area per element: -EPERM for a
   * writable mapping of read-only pages, -EINVAL for a page offset below the alignment),
   * then iopt_fill_domains_pages (pins and maps into every domain; failure undoes all).
   * Each element's pages reference moves into its area. Returns the IOVA or -errno.
   */
  mapPages(list: readonly PagesElm[], length: number, iova: number | null, prot: number): number {
    if (length % this.iovaAlignment !== 0 || length === 0) return -EINVAL;
    let dst: number;
    if (iova === null) {
      const first = list[0]!;
      dst = this.allocIova(first.pages.uptr + first.startByte, length);
      if (dst < 0) return dst;
    } else {
      const r = this.checkIova(iova, length);
      if (r) return r;
      dst = iova;
    }
    const made: IoptArea[] = [];
    let cur = dst;
    let err = 0;
    for (const elm of list) {
      if ((prot & IOMMU_WRITE_BIT) !== 0 && !elm.pages.writable) {
        err = -EPERM;
        break;
      }
      if ((elm.startByte % PAGE_SIZE) % this.iovaAlignment !== 0) {
        err = -EINVAL;
        break;
      }
      const last = cur + elm.length - 1;
      if (last > ULONG_MAX) {
        err = -EOVERFLOW;
        break;
      }
      made.push(new IoptArea(this, cur, last, elm.pages, elm.startByte, prot));
      cur += elm.length;
    }
    if (err) return err;
    // iopt_fill_domains_pages: every area into every domain, all or nothing
    let k = 0;
    for (; k < made.length; k++) {
      err = this.fillAreaAll(made[k]!);
      if (err) break;
    }
    if (err) {
      for (let j = 0; j < k; j++) this.unfillAreaAll(made[j]!);
      return err;
    }
    for (const a of made) {
      a.pages = a.srcPages;
      a.srcPages.refs++;
      this.insertArea(a);
    }
    return dst;
  }

  private insertArea(a: IoptArea): void {
    let i = 0;
    while (i < this.areas.length && this.areas[i]!.iova < a.iova) i++;
    this.areas.splice(i, 0, a);
  }

  /** iova of page index `idx` of a (page-aligned: a domain is attached) area */
  private iovaOfIndex(a: IoptArea, idx: number): number {
    return a.iova - a.pageOffset + (idx - a.firstIndex) * PAGE_SIZE;
  }

  /** iopt_area_fill_domains: pin the area's pages once, map them into every domain */
  private fillAreaAll(a: IoptArea): number {
    if (this.domains.length === 0) return 0;
    const r = a.srcPages.take(a.firstIndex, a.lastIndex);
    if (r) return r;
    for (let d = 0; d < this.domains.length; d++) {
      const m = this.mapArea(a, this.domains[d]!);
      if (m) {
        for (let e = 0; e < d; e++) this.domains[e]!.unmap(a.iova, a.length);
        a.srcPages.drop(a.firstIndex, a.lastIndex);
        return m;
      }
    }
    return 0;
  }

  private unfillAreaAll(a: IoptArea): void {
    if (this.domains.length === 0) return;
    // unmap must precede unpin (__iopt_area_unfill_domain)
    for (const d of this.domains) d.unmap(a.iova, a.length);
    a.srcPages.drop(a.firstIndex, a.lastIndex);
  }

  /**
   * batch_to_domain: contiguous PFN runs in one iommu_map (the driver picks the page sizes),
   * or page by page with disable_large_pages (batch_iommu_map_small). IOMMU_CACHE etc. in prot.
   */
  private mapArea(a: IoptArea, d: Domain): number {
    const p = a.srcPages;
    const first = a.firstIndex;
    const last = a.lastIndex;
    let i = first;
    while (i <= last) {
      let j = i;
      if (!this.disableLargePages) while (j < last && p.pfns[j + 1] === p.pfns[j]! + PAGE_SIZE) j++;
      const r = d.map(this.iovaOfIndex(a, i), p.pfns[i]!, (j - i + 1) * PAGE_SIZE, a.prot);
      if (r) {
        if (i > first) d.unmap(a.iova, (i - first) * PAGE_SIZE);
        return r;
      }
      i = j + 1;
    }
    return 0;
  }

  /**
   * iopt_unmap_iova_range over [start, last]: every area inside is unmapped, unpinned and
   * freed in IOVA order; an area sticking out of the range stops the walk with -ENOENT (areas
   * already removed stay removed); nothing found -ENOENT. Returns bytes unmapped or -errno.
   */
  unmapRange(start: number, last: number): { rc: number; unmapped: number } {
    let unmapped = 0;
    for (;;) {
      const a = this.areaIntersecting(start, last);
      if (a === null) break;
      if (a.pages === null) return { rc: -EBUSY, unmapped };
      if (a.iova < start || a.last > last) return { rc: -ENOENT, unmapped };
      this.removeArea(a);
      unmapped += a.length;
    }
    return { rc: unmapped > 0 ? 0 : -ENOENT, unmapped };
  }

  private removeArea(a: IoptArea): void {
    this.areas.splice(this.areas.indexOf(a), 1);
    this.unfillAreaAll(a);
    a.pages = null;
    a.srcPages.refs--;
  }

  /** iopt_unmap_iova: length 0 -EINVAL, overflow -EOVERFLOW */
  unmapIova(iova: number, length: number): { rc: number; unmapped: number } {
    if (length === 0) return { rc: -EINVAL, unmapped: 0 };
    if (iova + length - 1 > ULONG_MAX) return { rc: -EOVERFLOW, unmapped: 0 };
    return this.unmapRange(iova, iova + length - 1);
  }

  /** iopt_unmap_all: an empty table is success */
  unmapAll(): { rc: number; unmapped: number } {
    const r = this.unmapRange(0, ULONG_MAX);
    return r.rc === -ENOENT ? { rc: 0, unmapped: r.unmapped } : r;
  }

  /**
   * iopt_get_pages: the page slices under [iova, iova + length - 1], which contiguous areas
   * must cover exactly from iova (-ENOENT otherwise); length 0 -EINVAL, overflow -EOVERFLOW
   */
  getPages(iova: number, length: number): PagesElm[] | number {
    if (length === 0) return -EINVAL;
    const lastIova = iova + length - 1;
    if (lastIova > ULONG_MAX) return -EOVERFLOW;
    const out: PagesElm[] = [];
    let cur = iova;
    for (;;) {
      const a = this.areaIntersecting(cur, cur);
      if (a === null || a.pages === null || (out.length > 0 && a.iova !== cur)) return -ENOENT;
      const l = Math.min(lastIova, a.last);
      out.push({ pages: a.pages, startByte: a.startByteOf(cur), length: l - cur + 1 });
      if (l === lastIova) break;
      cur = l + 1;
    }
    return out;
  }

  /**
   * iopt_area_split at iova (VFIO compat, type1 v1 unmap inside a mapping): no split at an
   * area's ends; -EBUSY for an unfilled area; -EINVAL when the new start is unaligned or a
   * domain could hold large pages (storage domain and large pages enabled)
   */
  cutIova(iovas: readonly number[]): number {
    for (const iova of iovas) {
      const a = this.areaIntersecting(iova, iova);
      if (a === null) continue;
      if (iova === a.iova || iova === a.last) continue;
      if (a.pages === null) return -EBUSY;
      const ns = iova + 1;
      if (ns % this.iovaAlignment !== 0 || a.startByteOf(ns) % this.iovaAlignment !== 0) return -EINVAL;
      if (this.domains.length > 0 && !this.disableLargePages) return -EINVAL;
      const rhs = new IoptArea(this, ns, a.last, a.srcPages, a.startByteOf(ns), a.prot);
      rhs.pages = a.pages;
      a.srcPages.refs++;
      a.last = iova;
      this.insertArea(rhs);
    }
    return 0;
  }

  // ---------------- reserved and allowed ranges ----------------

  /** iopt_reserve_iova: -EADDRINUSE when an area or an allowed range intersects */
  reserveIova(start: number, last: number, owner: unknown): number {
    if (this.areaIntersecting(start, last) || this.allowedIntersecting(start, last)) return -EADDRINUSE;
    let i = 0;
    while (i < this.reserved.length && this.reserved[i]!.start <= start) i++;
    this.reserved.splice(i, 0, { start, last, owner });
    return 0;
  }

  /** iopt_remove_reserved_iova */
  removeReservedIova(owner: unknown): void {
    this.reserved = this.reserved.filter((r) => r.owner !== owner);
  }

  /** iopt_set_allow_iova: the new list replaces the old unless a range meets a reserved one (-EADDRINUSE) */
  setAllowIova(list: IovaRangeLast[]): number {
    for (const r of list) if (this.reservedIntersecting(r.start, r.last)) return -EADDRINUSE;
    this.allowed = [...list].sort((a, b) => a.start - b.start);
    return 0;
  }

  // ---------------- domains ----------------

  /** iopt_check_iova_alignment: every area conforms (-EADDRINUSE) */
  private checkAlignment(align: number): number {
    for (const a of this.areas) if (a.iova % align !== 0 || a.length % align !== 0 || a.pageOffset % align !== 0) return -EADDRINUSE;
    return 0;
  }

  /**
   * iopt_table_add_domain: the alignment becomes the domain's smallest page (above PAGE_SIZE
   * -EINVAL; existing areas must conform, -EADDRINUSE); IOVA outside the aperture reserved
   * (nothing to reserve below 0 or above 2^32 - 1 for this board's 32-bit IAS and 32-bit
   * unsigned long); then every area is pinned and mapped into it (iopt_fill_domain), all or
   * nothing.
   */
  addDomain(d: Domain): number {
    if (this.domains.includes(d)) return -EEXIST;
    const minPage = d.pgsizeBitmap & -d.pgsizeBitmap;
    const align = Math.max(minPage, this.iovaAlignment);
    if (align > PAGE_SIZE) return -EINVAL;
    if (align !== this.iovaAlignment) {
      const r = this.checkAlignment(align);
      if (r) return r;
    }
    const apertureEnd = 2 ** (d.ias ?? 32) - 1;
    if (apertureEnd < ULONG_MAX) {
      const r = this.reserveIova(apertureEnd + 1, ULONG_MAX, d);
      if (r) return r;
    }
    const first = this.domains.length === 0;
    const filled: IoptArea[] = [];
    let err = 0;
    for (const a of this.areas) {
      if (a.pages === null) continue;
      if (first) {
        err = a.srcPages.take(a.firstIndex, a.lastIndex);
        if (err) break;
      }
      err = this.mapArea(a, d);
      if (err) {
        if (first) a.srcPages.drop(a.firstIndex, a.lastIndex);
        break;
      }
      filled.push(a);
    }
    if (err) {
      for (const a of filled) {
        d.unmap(a.iova, a.length);
        if (first) a.srcPages.drop(a.firstIndex, a.lastIndex);
      }
      this.removeReservedIova(d);
      return err;
    }
    this.iovaAlignment = align;
    this.domains.push(d);
    return 0;
  }

  /**
   * iopt_table_remove_domain: the last entry takes the removed one's index; every area is
   * unmapped from it and, when it was the last domain, unpinned (iopt_unfill_domain); its
   * reserved ranges go; the alignment is recomputed (iopt_calculate_iova_alignment)
   */
  removeDomain(d: Domain): void {
    const i = this.domains.indexOf(d);
    if (i < 0) return;
    const tail = this.domains.pop()!;
    if (tail !== d) this.domains[i] = tail;
    const last = this.domains.length === 0;
    for (const a of this.areas) {
      if (a.pages === null) continue;
      d.unmap(a.iova, a.length);
      if (last) a.srcPages.drop(a.firstIndex, a.lastIndex);
    }
    this.removeReservedIova(d);
    this.calculateAlignment();
  }

  /** iopt_calculate_iova_alignment: PAGE_SIZE with large pages disabled, else 1, raised to each domain's smallest page */
  private calculateAlignment(): number {
    let align = this.disableLargePages ? PAGE_SIZE : 1;
    for (const d of this.domains) align = Math.max(align, d.pgsizeBitmap & -d.pgsizeBitmap);
    if (align > this.iovaAlignment) {
      const r = this.checkAlignment(align);
      if (r) return r;
    }
    this.iovaAlignment = align;
    return 0;
  }

  /** iopt_disable_large_pages: -EINVAL once a domain holds mappings */
  disableLarge(): number {
    if (this.disableLargePages) return 0;
    if (this.domains.length > 0 && this.areas.length > 0) return -EINVAL;
    this.disableLargePages = true;
    const r = this.calculateAlignment();
    if (r) this.disableLargePages = false;
    return r;
  }

  /** iopt_enable_large_pages */
  enableLarge(): void {
    this.disableLargePages = false;
    this.calculateAlignment();
  }
}

const IOMMU_WRITE_BIT = 1 << 1;

/** x | y for non-negative numbers up to 2^53 (y < 2^12) */
function orBits(x: number, y: number): number {
  const lowX = x % PAGE_SIZE;
  return x - lowX + ((lowX | y) >>> 0);
}
