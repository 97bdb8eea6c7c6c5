import { EEXIST, ENOMEM, ERANGE } from '../base/errno.js';
import type { Kmem } from '../mm/kmem.js';
import type { PageAllocator } from '../mm/page-alloc.js';
import { IOMMU_CACHE, IOMMU_EXEC, IOMMU_READ, IOMMU_WRITE } from './types.js';

/**
 * ARM LPAE stage-1 page tables (VMSAv7 long-descriptor format, 4 KiB granule, 32-bit
 * input address: T0SZ = 0, so the walk starts at level 1 with 4 entries), written into
 * pages from the page allocator, i.e. into the board's RAM, where the SMMU's walker
 * reads them. Descriptor bits (lower word / upper word of the 64-bit descriptor):
 *
 *   [1:0] 0b11 table/page, 0b01 block; AttrIndx [4:2]; AP[1] (unprivileged) bit 6;
 *   AP[2] (read-only) bit 7; SH [9:8]; AF bit 10; nG bit 11; output address [39:12];
 *   PXN bit 53, XN bit 54 (the 2014 driver's XN value sets both).
 *
 * Leaves are written as the 2014 arm-smmu driver wrote them: AF, SH inner-shareable,
 * AP_UNPRIV, nG, AP_RDONLY when readable but not writable, AttrIndx 1 (write-back) for
 * IOMMU_CACHE else 0 (non-cacheable), and XN|PXN per the profile:
 *   'exec-flag'  (2014): XN unless prot has IOMMU_EXEC (bit 3);
 *   'noexec-flag' (mainline): XN only when prot has IOMMU_NOEXEC (bit 3).
 * A mapping with neither READ nor WRITE (profile caps.iommuNoAccessPte):
 *   'faulting-unless-exec' (2014 arm_smmu_alloc_init_pte, drivers/iommu/arm-smmu.c): "if
 *     IOMMU_EXEC clear XN, else if neither READ nor WRITE clear the page type bits" — so an
 *     EXEC-only mapping is a VALID page with AP_RDONLY clear (AP_RDONLY is set only for READ
 *     without WRITE) and XN clear: readable, writable and executable by the master; any other
 *     no-access mapping is a faulting (invalid) descriptor "to avoid TLB fills";
 *   'not-mapped' (mainline io-pgtable-arm.c arm_lpae_map: "If no access, then nothing to
 *     do"): nothing is written, whatever bit 3 says.
 * Both report success.
 * Page sizes: 4 KiB pages (level 3), 2 MiB blocks (level 2), 1 GiB blocks (level 1).
 */
export const LPAE_PGSIZE_BITMAP = (1 << 12) | (1 << 21) | (1 << 30);

export const PTE_TYPE_TABLE = 3;
export const PTE_TYPE_PAGE = 3;
export const PTE_TYPE_BLOCK = 1;

/**
 * freeTable's copies of the level-1 and level-2 tables it scans (one per level: a scan of a
 * level-1 table calls the scan of each level-2 table it points to). Written whole before
 * each scan, read only during it; not state of any domain.
 */
const FREE_SCAN = [new Uint8Array(0), new Uint8Array(4096), new Uint8Array(4096)];
export const PTE_ATTRINDX_SHIFT = 2;
export const PTE_AP_UNPRIV = 1 << 6;
export const PTE_AP_RDONLY = 1 << 7;
export const PTE_SH_IS = 3 << 8;
export const PTE_AF = 1 << 10;
export const PTE_NG = 1 << 11;
/** upper-word bits */
export const PTE_HI_PXN = 1 << (53 - 32);
export const PTE_HI_XN = 1 << (54 - 32);

/** MAIR indices the driver programs: 0 non-cacheable, 1 write-back, 2 device */
export const MAIR_ATTR_IDX_NC = 0;
export const MAIR_ATTR_IDX_CACHE = 1;
export const MAIR_ATTR_IDX_DEV = 2;
export const MAIR0_VALUE = 0x44 | (0xff << 8) | (0x04 << 16);

const LEVEL_SHIFT = [0, 30, 21, 12];
const TWO32 = 2 ** 32;

export type ExecSemantics = 'exec-flag' | 'noexec-flag';
/** what a map without READ and WRITE writes (see the header) */
export type NoAccessRule = 'faulting-unless-exec' | 'not-mapped';

export class LpaeS1Pgtable {
  /** physical address of the level-1 table (TTBR0) */
  pgd = -1;
  /** table pages in use (pgd included) */
  tablePages = 0;
  private readonly buf: [number, number] = [0, 0];

  constructor(
    readonly pages: PageAllocator,
    readonly kmem: Kmem,
    readonly exec: ExecSemantics,
    readonly ias = 32,
    readonly noAccessRule: NoAccessRule = exec === 'exec-flag' ? 'faulting-unless-exec' : 'not-mapped',
  ) {}

  /** allocate the pgd: 0 or -ENOMEM */
  init(): number {
    const pa = this.pages.allocPage();
    if (pa < 0) return pa;
    this.pgd = pa;
    this.tablePages = 1;
    return 0;
  }

  /** the descriptor at pa into this.buf (no allocation: teardown reads 512 entries per table) */
  private rd(pa: number): [number, number] {
    this.kmem.readPhys64Into(pa, this.buf);
    return this.buf;
  }

  private wr(pa: number, lo: number, hi: number): void {
    this.kmem.writePhys64(pa, lo, hi);
  }

  private static idx(iova: number, lvl: number): number {
    const i = Math.floor(iova / 2 ** LEVEL_SHIFT[lvl]!);
    return lvl === 1 ? i & 3 : i & 0x1ff;
  }

  private static outAddr(lo: number, hi: number): number {
    return (hi & 0xff) * TWO32 + ((lo & 0xfffff000) >>> 0);
  }

  /** the descriptor words for a leaf */
  leafBits(pa: number, prot: number, lvl: number): [number, number] {
    let lo = PTE_AF | PTE_SH_IS | PTE_AP_UNPRIV | PTE_NG;
    if (!(prot & IOMMU_WRITE) && prot & IOMMU_READ) lo |= PTE_AP_RDONLY;
    if (prot & IOMMU_CACHE) lo |= MAIR_ATTR_IDX_CACHE << PTE_ATTRINDX_SHIFT;
    let hi = 0;
    const bit3 = (prot & 8) !== 0;
    const xn = this.exec === 'exec-flag' ? !bit3 : bit3;
    if (xn) hi |= PTE_HI_XN | PTE_HI_PXN;
    lo |= lvl === 3 ? PTE_TYPE_PAGE : PTE_TYPE_BLOCK;
    lo = (lo | ((pa >>> 0) & 0xfffff000)) >>> 0;
    hi |= Math.floor(pa / TWO32) & 0xff;
    return [lo, hi];
  }

  private static levelFor(size: number): number {
    return size === 1 << 30 ? 1 : size === 1 << 21 ? 2 : 3;
  }

  private allocTable(): number {
    const pa = this.pages.allocPage();
    if (pa >= 0) this.tablePages++;
    return pa;
  }

  /** map one page/block: 0, -EEXIST, -ENOMEM, -ERANGE */
  map(iova: number, pa: number, size: number, prot: number): number {
    if (iova < 0 || iova + size > 2 ** this.ias || pa >= 2 ** 40) return -ERANGE;
    const target = LpaeS1Pgtable.levelFor(size);
    const noAccess = (prot & (IOMMU_READ | IOMMU_WRITE)) === 0;
    if (noAccess && this.noAccessRule === 'not-mapped') return 0;
    // 2014: IOMMU_EXEC wins over "no access" (the `else if`): an EXEC-only leaf stays valid
    const faulting = noAccess && !(this.exec === 'exec-flag' && (prot & IOMMU_EXEC) !== 0);
    let table = this.pgd;
    for (let lvl = 1; lvl <= 3; lvl++) {
      const ptep = table + LpaeS1Pgtable.idx(iova, lvl) * 8;
      const e = this.rd(ptep);
      const lo = e[0];
      const hi = e[1];
      if (lvl === target) {
        if ((lo & 1) !== 0) return -EEXIST;
        let [nlo, nhi] = this.leafBits(pa, prot, lvl);
        if (faulting) nlo &= ~3; // 2014: a faulting entry
        this.wr(ptep, nlo, nhi);
        return 0;
      }
      if ((lo & 1) === 0) {
        const t = this.allocTable();
        if (t < 0) return -ENOMEM;
        this.wr(ptep, ((t >>> 0) & 0xfffff000 | PTE_TYPE_TABLE) >>> 0, Math.floor(t / TWO32) & 0xff);
        table = t;
      } else if ((lo & 3) === PTE_TYPE_BLOCK) {
        return -EEXIST;
      } else {
        table = LpaeS1Pgtable.outAddr(lo, hi);
      }
    }
    return -EEXIST;
  }

  /** unmap the entry of `size` at iova: bytes unmapped (0 when nothing was mapped) */
  unmap(iova: number, size: number): number {
    if (iova < 0 || iova + size > 2 ** this.ias) return 0;
    const target = LpaeS1Pgtable.levelFor(size);
    let table = this.pgd;
    for (let lvl = 1; lvl <= 3; lvl++) {
      const ptep = table + LpaeS1Pgtable.idx(iova, lvl) * 8;
      const e = this.rd(ptep);
      const lo = e[0];
      const hi = e[1];
      if ((lo & 1) === 0) return 0;
      const isTable = lvl < 3 && (lo & 3) === PTE_TYPE_TABLE;
      if (lvl === target) {
        this.wr(ptep, 0, 0);
        if (isTable) this.freeTable(LpaeS1Pgtable.outAddr(lo, hi), lvl + 1);
        return size;
      }
      if (!isTable) {
        // a larger block covers iova: split it into next-level entries, then go on
        const t = this.allocTable();
        if (t < 0) return 0;
        const blockPa = LpaeS1Pgtable.outAddr(lo, hi);
        const step = 2 ** LEVEL_SHIFT[lvl + 1]!;
        const attrLo = (lo & 0xffc) & ~3;
        const attrHi = hi & ~0xff;
        for (let i = 0; i < 512; i++) {
          const opa = blockPa + i * step;
          const nlo = (attrLo | (lvl + 1 === 3 ? PTE_TYPE_PAGE : PTE_TYPE_BLOCK) | ((opa >>> 0) & 0xfffff000)) >>> 0;
          this.wr(t + i * 8, nlo, attrHi | (Math.floor(opa / TWO32) & 0xff));
        }
        this.wr(ptep, ((t >>> 0) & 0xfffff000 | PTE_TYPE_TABLE) >>> 0, Math.floor(t / TWO32) & 0xff);
        table = t;
      } else {
        table = LpaeS1Pgtable.outAddr(lo, hi);
      }
    }
    return 0;
  }

  private freeTable(pa: number, lvl: number): void {
    if (lvl < 3) {
      // the table read in one copy; a descriptor's type bits are the low bits of its first
      // byte (little-endian), the whole descriptor is read only for a table's address
      const t = FREE_SCAN[lvl]!;
      this.kmem.readPhysInto(pa, t, 4096);
      for (let i = 0; i < 512; i++) {
        if ((t[i * 8]! & 3) !== PTE_TYPE_TABLE) continue;
        const e = this.rd(pa + i * 8);
        this.freeTable(LpaeS1Pgtable.outAddr(e[0], e[1]), lvl + 1);
      }
    }
    this.pages.freePage(pa);
    this.tablePages--;
  }

  /** walk the tables in RAM */
  iovaToPhys(iova: number): number | null {
    const w = this.walk(iova);
    return w ? w.pa : null;
  }

  /** the leaf descriptor for iova: level, descriptor words, output address */
  walk(iova: number): { lvl: number; lo: number; hi: number; ptep: number; pa: number } | null {
    if (this.pgd < 0 || iova < 0 || iova >= 2 ** this.ias) return null;
    let table = this.pgd;
    for (let lvl = 1; lvl <= 3; lvl++) {
      const ptep = table + LpaeS1Pgtable.idx(iova, lvl) * 8;
      const e = this.rd(ptep);
      const lo = e[0];
      const hi = e[1];
      if ((lo & 1) === 0) return null;
      if (lvl === 3 || (lo & 3) === PTE_TYPE_BLOCK) {
        if (lvl === 3 && (lo & 3) !== PTE_TYPE_PAGE) return null;
        const bs = 2 ** LEVEL_SHIFT[lvl]!;
        const base = LpaeS1Pgtable.outAddr(lo, hi);
        const out = Math.floor(base / bs) * bs + (iova % bs);
        return { lvl, lo, hi, ptep, pa: out };
      }
      table = LpaeS1Pgtable.outAddr(lo, hi);
    }
    return null;
  }

  /** free every table page (domain destroy) */
  free(): void {
    if (this.pgd < 0) return;
    this.freeTable(this.pgd, 1);
    this.pgd = -1;
  }
}
