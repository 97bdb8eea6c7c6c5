import { EEXIST, EINVAL, ENOMEM, ERANGE } from '../base/errno.js';
import type { Kmem } from '../mm/kmem.js';
import type { PageAllocator } from '../mm/page-alloc.js';
import { IOMMU_CACHE, IOMMU_EXEC, IOMMU_MMIO, IOMMU_PRIV, IOMMU_READ, IOMMU_WRITE } from './types.js';

/**
 * ARM LPAE stage-1 page tables (VMSAv7 long-descriptor format, 4 KiB granule, 32-bit
 * input address: T0SZ = 0, so the walk starts at level 1 with 4 entries), written into
 * pages from the page allocator, i.e. into the board's RAM, where the SMMU's walker
 * reads them. Descriptor bits (lower word / upper word of the 64-bit descriptor):
 *
 *   [1:0] 0b11 table/page, 0b01 block; AttrIndx [4:2]; AP[1] (unprivileged) bit 6;
 *   AP[2] (read-only) bit 7; SH [9:8]; AF bit 10; nG bit 11; output address [39:12];
 *   contiguous hint bit 52; PXN bit 53, XN bit 54 (both drivers' XN value sets both).
 *
 * Two writers fill such tables (capability `smmuPgtable`):
 * - `LpaeS1Pgtable` below: mainline drivers/iommu/io-pgtable-arm.c (Linux 6.12), which the
 *   arm-smmu driver has used since 4.0 (ARM_32_LPAE_S1 for this 32-bit context);
 * - `ArmSmmu314Pgtable` (kernel-model/drivers/arm-smmu-pgtable.ts): the 3.14 driver's own code
 *   in drivers/iommu/arm-smmu.c (level-3 pages only, the contiguous hint, unmap by writing
 *   faulting entries).
 * `LpaeTables` is what both share: the table pages, descriptor reads and writes, teardown.
 */

/** mainline io-pgtable-arm page sizes for a 4 KiB granule (arm_32_lpae_alloc_pgtable_s1): 4 KiB, 2 MiB, 1 GiB */
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
export const PTE_SH_OS = 2 << 8;
export const PTE_SH_IS = 3 << 8;
export const PTE_AF = 1 << 10;
export const PTE_NG = 1 << 11;
/** upper-word bits */
export const PTE_HI_CONT = 1 << (52 - 32);
export const PTE_HI_PXN = 1 << (53 - 32);
export const PTE_HI_XN = 1 << (54 - 32);

/** MAIR indices both drivers use: 0 non-cacheable, 1 write-back, 2 device (mainline adds 3) */
export const MAIR_ATTR_IDX_NC = 0;
export const MAIR_ATTR_IDX_CACHE = 1;
export const MAIR_ATTR_IDX_DEV = 2;
/** mainline ARM_LPAE_MAIR_ATTR_IDX_INC_OCACHE: inner non-cacheable, outer write-back */
export const MAIR_ATTR_IDX_INC_OCACHE = 3;
/**
 * mainline arm_64_lpae_alloc_pgtable_s1 (io-pgtable-arm.c, v6.12) MAIR: NC 0x44 at index 0,
 * WBRWA 0xff at 1, DEVICE 0x04 at 2, INC_OWBRWA 0xf4 at 3; arm_smmu_init_context_bank writes
 * its low word to MAIR0 and its high word (0) to MAIR1
 */
export const LPAE_MAIR0 = (0x44 | (0xff << 8) | (0x04 << 16) | (0xf4 << 24)) >>> 0;

const LEVEL_SHIFT = [0, 30, 21, 12];
/** 2 ** LEVEL_SHIFT[lvl]: the bytes one entry of a level-`lvl` table maps */
const LEVEL_SIZE = LEVEL_SHIFT.map((s) => 2 ** s);
const TWO32 = 2 ** 32;

export type ExecSemantics = 'exec-flag' | 'noexec-flag';
/** what a map without READ and WRITE does (capability `iommuNoAccessPte`) */
export type NoAccessRule = 'faulting-unless-exec' | 'einval';

/** A domain's page table as the arm-smmu driver uses it (either writer). */
export interface SmmuPgtable {
  /** physical address of the level-1 table (TTBR0) */
  readonly pgd: number;
  /** table pages in use (pgd included) */
  readonly tablePages: number;
  /** map one page of a supported size: 0 or -errno */
  map(iova: number, pa: number, size: number, prot: number): number;
  /** unmap `size` at iova: bytes unmapped */
  unmap(iova: number, size: number): number;
  /** the physical address iova translates to, null for none (the kernel's 0) */
  iovaToPhys(iova: number): number | null;
  /** free every table page (domain destroy) */
  free(): void;
}

/** The table pages of one LPAE stage-1 page table in RAM: what both writers share. */
export abstract class LpaeTables implements SmmuPgtable {
  pgd = -1;
  tablePages = 0;
  /** entries of the level-1 table (4 for a 32-bit input; a stage-2 pgd may be concatenated) */
  protected pgdEntries = 4;
  private readonly buf: [number, number] = [0, 0];

  constructor(
    readonly pages: PageAllocator,
    readonly kmem: Kmem,
  ) {}

  abstract map(iova: number, pa: number, size: number, prot: number): number;
  abstract unmap(iova: number, size: number): number;
  abstract iovaToPhys(iova: number): number | null;

  /** allocate the pgd: 0 or -ENOMEM */
  init(): number {
    const pa = this.pages.allocPage();
    if (pa < 0) return pa;
    this.pgd = pa;
    this.tablePages = 1;
    return 0;
  }

  /** the descriptor at pa into this.buf (no allocation: teardown reads 512 entries per table) */
  protected rd(pa: number): [number, number] {
    this.kmem.readPhys64Into(pa, this.buf);
    return this.buf;
  }

  protected wr(pa: number, lo: number, hi: number): void {
    this.kmem.writePhys64(pa, lo, hi);
  }

  /** a table descriptor for the table page at t (0b11 | next-level table address) */
  protected wrTable(ptep: number, t: number): void {
    this.wr(ptep, ((t >>> 0) & 0xfffff000 | PTE_TYPE_TABLE) >>> 0, Math.floor(t / TWO32) & 0xff);
  }

  protected static idx(iova: number, lvl: number): number {
    const i = Math.floor(iova / LEVEL_SIZE[lvl]!);
    return lvl === 1 ? i & 3 : i & 0x1ff;
  }

  /** the index of iova in this table's level-`lvl` table (the pgd has pgdEntries entries) */
  protected ix(iova: number, lvl: number): number {
    const i = Math.floor(iova / LEVEL_SIZE[lvl]!);
    return lvl === 1 ? i % this.pgdEntries : i & 0x1ff;
  }

  protected static outAddr(lo: number, hi: number): number {
    return (hi & 0xff) * TWO32 + ((lo & 0xfffff000) >>> 0);
  }

  protected allocTable(): number {
    const pa = this.pages.allocPage();
    if (pa >= 0) this.tablePages++;
    return pa;
  }

  /** free the level-`lvl` table at pa and every table below it */
  protected freeTable(pa: number, lvl: number): void {
    if (lvl < 3) {
      // the table read in one copy; a descriptor's type bits are the low bits of its first
      // byte (little-endian), the whole descriptor is read only for a table's address
      const t = FREE_SCAN[lvl]!;
      this.kmem.readPhysInto(pa, t, 4096);
      for (let i = 0; i < 512; i++) {
        if ((t[i * 8]! & 3) !== PTE_TYPE_TABLE) continue;
        const e = this.rd(pa + i * 8);
        this.freeTable(LpaeTables.outAddr(e[0], e[1]), lvl + 1);
      }
    }
    this.pages.freePage(pa);
    this.tablePages--;
  }

  /** free every table page (domain destroy) */
  free(): void {
    if (this.pgd < 0) return;
    this.freeTable(this.pgd, 1);
    this.pgd = -1;
  }
}

/**
 * Mainline io-pgtable-arm (drivers/iommu/io-pgtable-arm.c, Linux 6.12; the checks quoted are in
 * 6.12.19) for ARM_32_LPAE_S1:
 *
 * - map (arm_lpae_map_pages -> __arm_lpae_map -> arm_lpae_init_pte): a page size outside the
 *   bitmap -EINVAL; an IOVA at or above 2^ias or an output address at or above 2^oas -ERANGE;
 *   then a prot with neither IOMMU_READ nor IOMMU_WRITE -EINVAL (capability
 *   `iommuNoAccessPte` 'einval'); 4 KiB pages at level 3, 2 MiB / 1 GiB blocks at levels 2 / 1;
 *   a leaf already there -EEXIST ("We require an unmap first"); where the block goes but a
 *   table is (say one emptied by unmapping the 4 KiB pages it held), the table is unhooked,
 *   the walk caches flushed (io_pgtable_tlb_flush_walk) and the table pages freed
 *   (__arm_lpae_unmap at that level), then the block is written;
 * - leaf attributes (arm_lpae_prot_to_pte, stage 1): nG; AP_RDONLY for READ without WRITE;
 *   AP_UNPRIV unless IOMMU_PRIV; AttrIndx 2 (device) for IOMMU_MMIO, else 1 (write-back) for
 *   IOMMU_CACHE, else 0 (non-cacheable); SH inner-shareable with IOMMU_CACHE, else
 *   outer-shareable; XN|PXN per bit 3 (capability `iommuExecSemantics`: mainline IOMMU_NOEXEC);
 *   AF;
 * - unmap (__arm_lpae_unmap): nothing there 0; a whole leaf or table of the asked size is
 *   cleared: a leaf reported to the driver (io_pgtable_tlb_add_page: TLBIVAL, synced by the
 *   caller's iotlb_sync), a table's walks flushed (io_pgtable_tlb_flush_walk) and its pages
 *   freed; part of a block splits it into next-level entries (arm_lpae_split_blk_unmap, still
 *   in 6.12; removed in 6.13);
 * - iova_to_phys (arm_lpae_iova_to_phys): the leaf's address plus the offset, or none.
 *
 * With `noAccessRule` 'faulting-unless-exec' (no profile pairs it with this writer) a no-access
 * map writes a faulting leaf unless bit 3 is IOMMU_EXEC, as the 2014 driver did.
 */
export class LpaeS1Pgtable extends LpaeTables {
  constructor(
    pages: PageAllocator,
    kmem: Kmem,
    readonly exec: ExecSemantics,
    /** cfg->ias: input address bits (min(va_size, 32) for ARM_32_LPAE_S1) */
    readonly ias = 32,
    readonly noAccessRule: NoAccessRule = 'einval',
    /** cfg->oas: output address bits (min(ipa_size, 40) for ARM_32_LPAE_S1) */
    readonly oas = 40,
    /**
     * io_pgtable_tlb_flush_walk (the driver's tlb_flush_walk, arm_smmu_tlb_inv_walk_s1): after a
     * table was unhooked, before its pages are freed
     */
    readonly flushWalk: ((iova: number, size: number) => void) | null = null,
    /**
     * io_pgtable_tlb_add_page (the driver's tlb_add_page, arm_smmu_tlb_add_page_s1): for each
     * leaf an unmap cleared, its IOVA and size; the sync comes with the caller's iotlb_sync
     */
    readonly addPage: ((iova: number, size: number) => void) | null = null,
  ) {
    super(pages, kmem);
  }

  /** the descriptor words for a leaf (arm_lpae_prot_to_pte, then __arm_lpae_init_pte's type and address) */
  leafBits(pa: number, prot: number, lvl: number): [number, number] {
    let lo = PTE_AF | PTE_NG;
    if (!(prot & IOMMU_WRITE) && prot & IOMMU_READ) lo |= PTE_AP_RDONLY;
    if (!(prot & IOMMU_PRIV)) lo |= PTE_AP_UNPRIV;
    if (prot & IOMMU_MMIO) lo |= MAIR_ATTR_IDX_DEV << PTE_ATTRINDX_SHIFT;
    else if (prot & IOMMU_CACHE) lo |= MAIR_ATTR_IDX_CACHE << PTE_ATTRINDX_SHIFT;
    lo |= prot & IOMMU_CACHE ? PTE_SH_IS : PTE_SH_OS;
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
    return size === 1 << 30 ? 1 : size === 1 << 21 ? 2 : size === 1 << 12 ? 3 : -1;
  }

  /** map one page/block: 0, -EINVAL, -EEXIST, -ENOMEM, -ERANGE */
  map(iova: number, pa: number, size: number, prot: number): number {
    const target = LpaeS1Pgtable.levelFor(size);
    if (target < 0) return -EINVAL;
    if (iova < 0 || iova >= 2 ** this.ias || pa >= 2 ** this.oas) return -ERANGE;
    const noAccess = (prot & (IOMMU_READ | IOMMU_WRITE)) === 0;
    // arm_lpae_map_pages in 6.12.19: -EINVAL. io-pgtable-arm used to return 0 here ("If no
    // access, then nothing to do", arm_lpae_map and the first arm_lpae_map_pages). A copy of
    // io-pgtable-arm.c that predates 6.12.19's stable changes to this file (no
    // arm_lpae_max_entries, single-entry __arm_lpae_clear_pte) but includes iommu-pages.h (6.11+)
    // already has the -EINVAL, so v6.12 itself most likely has it; the commit was not found.
    if (noAccess && this.noAccessRule === 'einval') return -EINVAL;
    // 2014 rule: IOMMU_EXEC wins over "no access" (the `else if`): an EXEC-only leaf stays valid
    const faulting = noAccess && !(this.exec === 'exec-flag' && (prot & IOMMU_EXEC) !== 0);
    let table = this.pgd;
    for (let lvl = 1; lvl <= 3; lvl++) {
      const ptep = table + this.ix(iova, lvl) * 8;
      const e = this.rd(ptep);
      const lo = e[0];
      const hi = e[1];
      if (lvl === target) {
        const type = lo & 3;
        // iopte_leaf: a page at level 3, a block above
        if (type === (lvl === 3 ? PTE_TYPE_PAGE : PTE_TYPE_BLOCK)) return -EEXIST;
        // arm_lpae_init_pte: a table where the block goes is unmapped and freed first
        if (lvl < 3 && type === PTE_TYPE_TABLE) {
          this.wr(ptep, 0, 0);
          this.flushWalk?.(iova, size);
          this.freeTable(LpaeTables.outAddr(lo, hi), lvl + 1);
        }
        let [nlo, nhi] = this.leafBits(pa, prot, lvl);
        if (faulting) nlo &= ~3;
        this.wr(ptep, nlo, nhi);
        return 0;
      }
      // (`!pte` in __arm_lpae_map: this writer leaves no other invalid entry behind)
      if ((lo & 1) === 0) {
        const t = this.allocTable();
        if (t < 0) return -ENOMEM;
        this.wrTable(ptep, t);
        table = t;
      } else if ((lo & 3) === PTE_TYPE_BLOCK) {
        return -EEXIST;
      } else {
        table = LpaeTables.outAddr(lo, hi);
      }
    }
    return -EEXIST;
  }

  /** unmap the entry of `size` at iova: bytes unmapped (0 when nothing was mapped) */
  unmap(iova: number, size: number): number {
    const target = LpaeS1Pgtable.levelFor(size);
    if (target < 0 || iova < 0 || iova >= 2 ** this.ias) return 0;
    let table = this.pgd;
    for (let lvl = 1; lvl <= 3; lvl++) {
      const ptep = table + this.ix(iova, lvl) * 8;
      const e = this.rd(ptep);
      const lo = e[0];
      const hi = e[1];
      if ((lo & 1) === 0) return 0;
      const isTable = lvl < 3 && (lo & 3) === PTE_TYPE_TABLE;
      if (lvl === target) {
        this.wr(ptep, 0, 0);
        if (isTable) {
          // __arm_lpae_unmap, a non-leaf entry of the size: "Also flush any partial walks"
          this.flushWalk?.(iova, size);
          this.freeTable(LpaeTables.outAddr(lo, hi), lvl + 1);
        } else {
          this.addPage?.(iova, size);
        }
        return size;
      }
      if (!isTable) {
        // a larger block covers iova: split it into next-level entries, then go on
        const t = this.allocTable();
        if (t < 0) return 0;
        const blockPa = LpaeTables.outAddr(lo, hi);
        const step = LEVEL_SIZE[lvl + 1]!;
        const attrLo = (lo & 0xffc) & ~3;
        const attrHi = hi & ~0xff;
        for (let i = 0; i < 512; i++) {
          const opa = blockPa + i * step;
          const nlo = (attrLo | (lvl + 1 === 3 ? PTE_TYPE_PAGE : PTE_TYPE_BLOCK) | ((opa >>> 0) & 0xfffff000)) >>> 0;
          this.wr(t + i * 8, nlo, attrHi | (Math.floor(opa / TWO32) & 0xff));
        }
        this.wrTable(ptep, t);
        table = t;
      } else {
        table = LpaeTables.outAddr(lo, hi);
      }
    }
    return 0;
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
      const ptep = table + this.ix(iova, lvl) * 8;
      const e = this.rd(ptep);
      const lo = e[0];
      const hi = e[1];
      if ((lo & 1) === 0) return null;
      if (lvl === 3 || (lo & 3) === PTE_TYPE_BLOCK) {
        if (lvl === 3 && (lo & 3) !== PTE_TYPE_PAGE) return null;
        const bs = LEVEL_SIZE[lvl]!;
        const base = LpaeTables.outAddr(lo, hi);
        const out = Math.floor(base / bs) * bs + (iova % bs);
        return { lvl, lo, hi, ptep, pa: out };
      }
      table = LpaeTables.outAddr(lo, hi);
    }
    return null;
  }
}

/** ARM_LPAE_VTCR fields v6.12 arm_smmu_lpae_vtcr writes (drivers/iommu/arm/arm-smmu/arm-smmu.h) */
export const VTCR_RES1 = 1 << 31;
export const VTCR_PS_SHIFT = 16;
export const VTCR_SL0_SHIFT = 6;
/** stage-2 leaf fields (io-pgtable-arm.c ARM_LPAE_PTE_HAP_READ / _WRITE, ARM_LPAE_PTE_MEMATTR_OIWB / _NC / _DEV) */
export const PTE_HAP_READ = 1 << 6;
export const PTE_HAP_WRITE = 2 << 6;
export const PTE_MEMATTR_OIWB = 0xf << 2;
export const PTE_MEMATTR_NC = 0x5 << 2;
export const PTE_MEMATTR_DEV = 0x1 << 2;

/**
 * Mainline io-pgtable-arm for ARM_32_LPAE_S2 (arm_32_lpae_alloc_pgtable_s2: ias and oas at most 40,
 * page sizes 4 KiB | 2 MiB | 1 GiB, then arm_64_lpae_alloc_pgtable_s2), what v6.12
 * arm_smmu_init_domain_context allocates for a stage-2 domain (ias = sIDR2.IAS, oas = sIDR2.OAS):
 *
 * - geometry: with a 4 KiB granule an ias of 31..39 bits starts at level 1 with 2^(ias - 30)
 *   entries; ias 40 would start at level 0 with 2 entries, which arm_64_lpae_alloc_pgtable_s2
 *   concatenates ("if the pgd is small enough, concatenate", at most ARM_LPAE_S2_MAX_CONCAT_PAGES)
 *   into a level-1 pgd of 1024 entries (8 KiB, naturally aligned: an order-1 allocation). So the
 *   walk always starts at level 1: VTCR.SL0 = ~(start_level + 1) & 3 = 1, T0SZ = 64 - ias;
 * - leaf attributes (arm_lpae_prot_to_pte, stage 2): HAP_READ per IOMMU_READ, HAP_WRITE per
 *   IOMMU_WRITE (no nG, no AP); MEMATTR_DEV with IOMMU_MMIO, else OIWB with IOMMU_CACHE, else NC;
 *   SH inner-shareable with IOMMU_CACHE, else outer-shareable; XN (3 << 53) with IOMMU_NOEXEC; AF;
 * - map/unmap/iova_to_phys as for stage 1 (the same __arm_lpae_map / __arm_lpae_unmap).
 */
export class LpaeS2Pgtable extends LpaeS1Pgtable {
  /** log2 of the pgd's pages */
  readonly pgdOrder: number;

  constructor(
    pages: PageAllocator,
    kmem: Kmem,
    exec: ExecSemantics,
    ias: number,
    noAccessRule: NoAccessRule,
    oas: number,
    flushWalk: ((iova: number, size: number) => void) | null,
    addPage: ((iova: number, size: number) => void) | null,
  ) {
    super(pages, kmem, exec, ias, noAccessRule, oas, flushWalk, addPage);
    this.pgdEntries = 2 ** (ias - 30);
    this.pgdOrder = Math.max(0, Math.log2((this.pgdEntries * 8) / 4096));
  }

  /** the pgd (__arm_lpae_alloc_pages of ARM_LPAE_PGD_SIZE): 0 or -ENOMEM */
  override init(): number {
    const pa = this.pages.allocPages(this.pgdOrder);
    if (pa < 0) return pa;
    this.pgd = pa;
    this.tablePages = 1 << this.pgdOrder;
    return 0;
  }

  /** arm_lpae_prot_to_pte for a stage-2 format, then __arm_lpae_init_pte's type and address */
  override leafBits(pa: number, prot: number, lvl: number): [number, number] {
    let lo = PTE_AF;
    if (prot & IOMMU_READ) lo |= PTE_HAP_READ;
    if (prot & IOMMU_WRITE) lo |= PTE_HAP_WRITE;
    if (prot & IOMMU_MMIO) lo |= PTE_MEMATTR_DEV;
    else lo |= prot & IOMMU_CACHE ? PTE_MEMATTR_OIWB : PTE_MEMATTR_NC;
    lo |= prot & IOMMU_CACHE ? PTE_SH_IS : PTE_SH_OS;
    const bit3 = (prot & 8) !== 0;
    const xn = this.exec === 'exec-flag' ? !bit3 : bit3;
    // ARM_LPAE_PTE_XN is 3 << 53 for every format; bit 53 is ignored at stage 2
    let hi = xn ? PTE_HI_XN | PTE_HI_PXN : 0;
    lo |= lvl === 3 ? PTE_TYPE_PAGE : PTE_TYPE_BLOCK;
    lo = (lo | ((pa >>> 0) & 0xfffff000)) >>> 0;
    hi |= Math.floor(pa / TWO32) & 0xff;
    return [lo, hi];
  }

  /**
   * arm_smmu_lpae_vtcr of the io-pgtable's vtcr (arm_64_lpae_alloc_pgtable_s2): RES1, PS (oas:
   * 32 -> 0, 36 -> 1, 40 -> 2), TG0 4K (0), SH0/ORGN0/IRGN0 inner-shareable write-back with a
   * coherent walk else outer-shareable non-cacheable, SL0 1, T0SZ = 64 - ias in the 6-bit field
   */
  vtcr(coherentWalk: boolean): number {
    const ps = this.oas <= 32 ? 0 : this.oas <= 36 ? 1 : 2;
    const walk = coherentWalk ? (3 << 12) | (1 << 10) | (1 << 8) : 2 << 12;
    return (VTCR_RES1 | (ps << VTCR_PS_SHIFT) | walk | (1 << VTCR_SL0_SHIFT) | (64 - this.ias)) >>> 0;
  }

  /** free every table page: the tables below each pgd entry, then the pgd's pages */
  override free(): void {
    if (this.pgd < 0) return;
    for (let i = 0; i < this.pgdEntries; i++) {
      const e = this.rd(this.pgd + i * 8);
      if ((e[0] & 3) === PTE_TYPE_TABLE) this.freeTable(LpaeTables.outAddr(e[0], e[1]), 2);
    }
    this.pages.freePages(this.pgd, this.pgdOrder);
    this.tablePages -= 1 << this.pgdOrder;
    this.pgd = -1;
  }
}
