/**
 * The 3.14 arm-smmu driver's own page-table code (drivers/iommu/arm-smmu.c of Linux 3.14.1:
 * arm_smmu_handle_mapping -> arm_smmu_alloc_init_pud / _pmd / _pte, arm_smmu_unmap,
 * arm_smmu_iova_to_phys), as built for 32-bit ARM with LPAE and 4 KiB pages (the board's
 * kernel): the CPU's page-table layout reused for a stage-1 context, pgd with 4 entries
 * (level 1), the pud folded into it, pmd tables (level 2) and pte tables (level 3). Capability
 * `smmuPgtable` 'arm-smmu-3.14'; mainline uses io-pgtable-arm instead (io-pgtable-arm.ts).
 *
 * - Page sizes: arm_smmu_ops.pgsize_bitmap = SECTION_SIZE | ARM_SMMU_PTE_CONT_SIZE | PAGE_SIZE
 *   = 2 MiB | 64 KiB | 4 KiB (0x00211000). VFIO_IOMMU_GET_INFO reports it (3.14
 *   vfio_iommu_type1_ioctl: iova_pgsizes = domain->ops->pgsize_bitmap).
 * - Every size is written as level-3 page entries, never a block: a 2 MiB map fills a whole
 *   pte table. Entry bits (arm_smmu_alloc_init_pte, stage 1): PAGE | AF | XN|PXN | AP_UNPRIV |
 *   nG | SH inner-shareable, AP_RDONLY for READ without WRITE, AttrIndx 1 with IOMMU_CACHE (else
 *   0); IOMMU_EXEC clears XN, else no READ/WRITE clears the type bits (a faulting entry;
 *   capabilities `iommuExecSemantics`, `iommuNoAccessPte`). Each run of 16 entries (64 KiB)
 *   that starts 64 KiB-aligned and lies inside the call's range gets the contiguous hint (bit
 *   52); a single entry written where the old entry had the hint or valid type bits first
 *   clears the hint on all 16 entries of its aligned run.
 * - Nothing is refused for being mapped already: a map overwrites ("re-mapping an address
 *   range without first unmapping it is not supported"); type1 checks iova_to_phys first.
 * - Unmap (arm_smmu_unmap) runs the same writer with paddr 0 and flags 0: faulting entries
 *   (type bits clear; AF, XN|PXN, AP_UNPRIV, nG, SH_IS set) whose address field counts up from
 *   0 page by page, with the contiguous hint on 64 KiB-aligned runs; missing tables are
 *   allocated for it, no table is ever freed; the driver then invalidates the context's TLB
 *   and returns `size`, also over a hole.
 * - iova_to_phys (arm_smmu_iova_to_phys): 0 only for an all-zero pgd/pmd/pte entry
 *   (pgd_none/pmd_none/pte_none); any other pte gives its address field plus the offset. So a
 *   page unmapped by a call of one page reads 0 at its page-aligned IOVA (pfn 0), but after an
 *   unmap of n pages in ONE call, page i (i > 0) reads i * 4 KiB: type1's "already mapped?"
 *   check (vfio_dma_do_map: iommu_iova_to_phys != 0 -> -EBUSY) then refuses those IOVAs. 3.14
 *   type1 unmaps PAGE_SIZE per call (vfio_unmap_unpin; capability `type1UnmapChunk` 'page'), so
 *   only iommu_map's unroll after a failed map (iommu_unmap of what it mapped, split by
 *   iommu_pgsize) issues such multi-page unmaps.
 * - Errors: a size that is not a multiple of 4 KiB -EINVAL; an IOVA outside the 32-bit input
 *   range or an output address above s1_output_size (min(32, IAS) without CONFIG_64BIT)
 *   -ERANGE; a table page that cannot be allocated -ENOMEM (from unmap too: arm_smmu_unmap
 *   returns the int as size_t, 2^32 - 12).
 *
 * arm_smmu_alloc_init_pmd passes `end` rather than `next` to arm_smmu_alloc_init_pte and
 * computes the pfn once before its loop, so a call spanning a 2 MiB (pmd) boundary would write
 * past the end of the first pte table and restart the second table at the first pfn. No call
 * does: 3.14 iommu_map and iommu_unmap split every request with iommu_pgsize into the largest
 * supported size that the (iova | paddr) alignment and the remaining length allow, so each
 * ops->map / ops->unmap covers 4 KiB, 64 KiB or 2 MiB aligned to its own size, inside one pmd
 * (the model's Domain.map/unmap split the same way). The model writes per pmd as intended.
 *
 * Not modelled: the pgd is a page here (3.14 kzalloc'ed 4 x 8 bytes); domain teardown frees
 * every table (3.14 arm_smmu_free_pmds `continue`s past an empty pmd without advancing its
 * pointer, so only the pte tables of the leading run of populated pmds are freed and the rest
 * leak).
 */
import { EINVAL, ENOMEM, ERANGE } from '../base/errno.js';
import {
  LpaeTables, PTE_AF, PTE_AP_RDONLY, PTE_AP_UNPRIV, PTE_HI_CONT, PTE_HI_PXN, PTE_HI_XN, PTE_NG, PTE_SH_IS, PTE_TYPE_PAGE,
  MAIR_ATTR_IDX_CACHE, PTE_ATTRINDX_SHIFT, type ExecSemantics, type NoAccessRule,
} from '../iommu/io-pgtable-arm.js';
import { IOMMU_CACHE, IOMMU_EXEC, IOMMU_READ, IOMMU_WRITE } from '../iommu/types.js';
import type { Kmem } from '../mm/kmem.js';
import type { PageAllocator } from '../mm/page-alloc.js';

/** 3.14 arm_smmu_ops.pgsize_bitmap on 32-bit ARM LPAE, 4 KiB pages: SECTION_SIZE | ARM_SMMU_PTE_CONT_SIZE | PAGE_SIZE */
export const ARM_SMMU_314_PGSIZE_BITMAP = (1 << 21) | (1 << 16) | (1 << 12);
/** 3.14 arm_smmu_init_context_bank MAIR0: NC 0x44 at index 0, WBRWA 0xff at 1, DEVICE 0x04 at 2 */
export const ARM_SMMU_314_MAIR0 = 0x44 | (0xff << 8) | (0x04 << 16);

const PAGE = 4096;
/** ARM_SMMU_PTE_CONT_ENTRIES for 4 KiB pages */
const CONT_ENTRIES = 16;
const CONT_SIZE = CONT_ENTRIES * PAGE;
const TWO32 = 2 ** 32;
const SECTION = 2 ** 21;
const PGDIR = 2 ** 30;
/** the pteval of arm_smmu_unmap (flags 0): type bits cleared, XN set */
const FAULT_LO = PTE_AF | PTE_AP_UNPRIV | PTE_NG | PTE_SH_IS;
const FAULT_HI = PTE_HI_XN | PTE_HI_PXN;
/** 3.14 stage-2 pte fields: ARM_SMMU_PTE_HAP_READ / _WRITE (HAP[2:1] at [7:6]), MEMATTR_OIWB 0xf / _NC 0x5 at [5:2] */
export const S2_PTE_HAP_READ = 1 << 6;
export const S2_PTE_HAP_WRITE = 2 << 6;
export const S2_PTE_MEMATTR_OIWB = 0xf << 2;
export const S2_PTE_MEMATTR_NC = 0x5 << 2;
/** arm_smmu_unmap's pteval (flags 0) in a stage-2 context: HAP_FAULT, MEMATTR_NC, type bits cleared */
const S2_FAULT_LO = PTE_AF | S2_PTE_MEMATTR_NC | PTE_SH_IS;

export class ArmSmmu314Pgtable extends LpaeTables {
  constructor(
    pages: PageAllocator,
    kmem: Kmem,
    readonly exec: ExecSemantics,
    /** s1_output_size: min(32, IAS) on a 32-bit kernel */
    readonly oas = 32,
    readonly noAccessRule: NoAccessRule = 'faulting-unless-exec',
  ) {
    super(pages, kmem);
    this.outputBits = oas;
  }

  /** the output address limit in bits (oas, or s2_output_size for a stage-2 context) */
  private outputBits: number;

  /**
   * The stage the writer fills: arm_smmu_handle_mapping passes `stage = root_cfg->cbar ==
   * CBAR_TYPE_S2_TRANS ? 2 : 1`; the driver sets it when the domain's context is initialised
   * (arm_smmu_init_domain_context; capability `smmuStageChoice`). A stage-2 table has the same
   * layout here: 3.14 writes TTBCR T0SZ 0, SL0 1 for both stages (a 4-entry level-1 table).
   */
  stage: 1 | 2 = 1;

  /**
   * arm_smmu_handle_mapping's stage and output limit: stage 1 s1_output_size (the constructor's
   * oas), stage 2 s2_output_size (min(PHYS_MASK_SHIFT = 40, OAS) on a 32-bit LPAE kernel)
   */
  setStage(stage: 1 | 2, s2OutputSize: number): void {
    this.stage = stage;
    if (stage === 2) this.outputBits = s2OutputSize;
  }

  /**
   * arm_smmu_alloc_init_pte's pteval (without the contiguous hint): stage 1 AP_UNPRIV | nG,
   * AP_RDONLY for READ without WRITE, AttrIndx 1 with IOMMU_CACHE; stage 2 HAP_FAULT | HAP_READ
   * per READ | HAP_WRITE per WRITE, MEMATTR_OIWB with IOMMU_CACHE else MEMATTR_NC
   */
  private pteval(prot: number): [number, number] {
    let lo = PTE_TYPE_PAGE | PTE_AF | PTE_SH_IS;
    let hi = PTE_HI_XN | PTE_HI_PXN;
    if (this.stage === 1) {
      lo |= PTE_AP_UNPRIV | PTE_NG;
      if (!(prot & IOMMU_WRITE) && prot & IOMMU_READ) lo |= PTE_AP_RDONLY;
      if (prot & IOMMU_CACHE) lo |= MAIR_ATTR_IDX_CACHE << PTE_ATTRINDX_SHIFT;
    } else {
      if (prot & IOMMU_READ) lo |= S2_PTE_HAP_READ;
      if (prot & IOMMU_WRITE) lo |= S2_PTE_HAP_WRITE;
      lo |= prot & IOMMU_CACHE ? S2_PTE_MEMATTR_OIWB : S2_PTE_MEMATTR_NC;
    }
    const bit3 = (prot & IOMMU_EXEC) !== 0;
    // "If no access, create a faulting entry": EXEC clears XN, else no READ/WRITE clears the type
    if (this.exec === 'exec-flag' ? bit3 : !bit3) hi = 0;
    if (!(this.exec === 'exec-flag' && bit3) && !(prot & (IOMMU_READ | IOMMU_WRITE))) lo &= ~3;
    return [lo, hi];
  }

  /** arm_smmu_map -> arm_smmu_handle_mapping: 0 or -errno */
  map(iova: number, pa: number, size: number, prot: number): number {
    if (size % PAGE !== 0) return -EINVAL;
    if (iova < 0 || iova >= TWO32 || pa < 0 || pa >= 2 ** this.outputBits) return -ERANGE;
    if (this.noAccessRule === 'einval' && !(prot & (IOMMU_READ | IOMMU_WRITE))) return -EINVAL;
    const [lo, hi] = this.pteval(prot);
    return this.handleMapping(iova, pa, size, lo, hi);
  }

  /** arm_smmu_unmap: the writer with paddr 0, flags 0; `size`, or an error as size_t */
  unmap(iova: number, size: number): number {
    if (size % PAGE !== 0) return TWO32 - EINVAL;
    if (iova < 0 || iova >= TWO32) return TWO32 - ERANGE;
    const r = this.handleMapping(iova, 0, size, this.stage === 1 ? FAULT_LO : S2_FAULT_LO, FAULT_HI);
    return r < 0 ? TWO32 + r : size;
  }

  /** arm_smmu_handle_mapping's walk: per pgd entry (1 GiB; the pud is folded), then per pmd (2 MiB) */
  private handleMapping(iova: number, pa: number, size: number, lo: number, hi: number): number {
    const end = iova + size;
    let addr = iova;
    let phys = pa;
    while (addr < end) {
      const next = Math.min(end, (Math.floor(addr / PGDIR) + 1) * PGDIR);
      // arm_smmu_alloc_init_pmd: pud_none (the pgd entry) -> a zeroed pmd table, pud_populate
      const pudp = this.pgd + LpaeTables.idx(addr, 1) * 8;
      const e = this.rd(pudp);
      let pmdTable: number;
      if (e[0] === 0 && e[1] === 0) {
        pmdTable = this.allocTable();
        if (pmdTable < 0) return -ENOMEM;
        this.wrTable(pudp, pmdTable);
      } else {
        pmdTable = LpaeTables.outAddr(e[0], e[1]);
      }
      while (addr < next) {
        const pmdNext = Math.min(next, (Math.floor(addr / SECTION) + 1) * SECTION);
        const r = this.allocInitPte(pmdTable + LpaeTables.idx(addr, 2) * 8, addr, pmdNext, phys, lo, hi);
        if (r < 0) return r;
        phys += pmdNext - addr;
        addr = pmdNext;
      }
    }
    return 0;
  }

  /** arm_smmu_alloc_init_pte over [addr, end), inside the pmd at pmdp */
  private allocInitPte(pmdp: number, addr: number, end: number, phys: number, lo: number, hi: number): number {
    const e = this.rd(pmdp);
    let table: number;
    if (e[0] === 0 && e[1] === 0) {
      // pmd_none -> alloc_page(__GFP_ZERO), pmd_populate
      table = this.allocTable();
      if (table < 0) return -ENOMEM;
      this.wrTable(pmdp, table);
    } else {
      table = LpaeTables.outAddr(e[0], e[1]);
    }
    let i = LpaeTables.idx(addr, 3);
    let pa = phys;
    while (addr < end) {
      let n = 1;
      let h = hi & ~PTE_HI_CONT;
      if (addr % CONT_SIZE === 0 && addr + CONT_SIZE <= end) {
        n = CONT_ENTRIES;
        h |= PTE_HI_CONT;
      } else {
        const old = this.rd(table + i * 8);
        if ((old[0] & 3) !== 0 || (old[1] & PTE_HI_CONT) !== 0) {
          // a partial overwrite of a contiguous run: the hint goes from all of its 16 entries
          const start = table + (i & ~(CONT_ENTRIES - 1)) * 8;
          for (let j = 0; j < CONT_ENTRIES; j++) {
            const c = this.rd(start + j * 8);
            this.wr(start + j * 8, c[0], c[1] & ~PTE_HI_CONT);
          }
        }
      }
      for (; n > 0; n--) {
        // pfn_pte(pfn, pteval): the page's address ORed into the attributes
        this.wr(table + i * 8, (lo | ((pa >>> 0) & 0xfffff000)) >>> 0, (h | (Math.floor(pa / TWO32) & 0xff)) >>> 0);
        i++;
        pa += PAGE;
        addr += PAGE;
      }
    }
    return 0;
  }

  /** arm_smmu_iova_to_phys: only all-zero entries are "none"; the kernel's 0 is null */
  iovaToPhys(iova: number): number | null {
    if (this.pgd < 0 || iova < 0 || iova >= TWO32) return null;
    let table = this.pgd;
    for (let lvl = 1; lvl <= 3; lvl++) {
      const e = this.rd(table + LpaeTables.idx(iova, lvl) * 8);
      if (e[0] === 0 && e[1] === 0) return null;
      table = LpaeTables.outAddr(e[0], e[1]);
    }
    const pa = table + (iova % PAGE);
    return pa === 0 ? null : pa;
  }
}
