/**
 * The reference model of vfio_iommu_type1 (model.ts RefModel): the IOMMU types it offers,
 * MAP_DMA and UNMAP_DMA on a container's mappings, and dirty page tracking
 * (VFIO_IOMMU_DIRTY_PAGES, UNMAP_DMA with GET_DIRTY_BITMAP; model-dirty.ts predicts them).
 */
import { EACCES, EFAULT } from '../../kernel-model/base/errno.js';
import { IOMMU_EXEC, IOMMU_READ, IOMMU_WRITE } from '../../kernel-model/iommu/types.js';
import { VFIO_TYPE1_IOMMU, VFIO_TYPE1v2_IOMMU } from '../../kernel-model/uapi/constants.js';
import type { AddressSpace } from '../../kernel-model/process/mm.js';
import type { Process } from '../../kernel-model/process/process.js';
import { DIRTY_START, DIRTY_STOP, checkDirtyBits, predictDirtyPages, predictUnmapBitmap, userWritable, type BitmapArg } from './model-dirty.js';
import { ModelFds } from './model-fds.js';
import { PAGE, userPa, type MContainer, type MMap, type PreIoctl } from './model-state.js';

/**
 * the IOVA range the SMMU driver reserves for MSIs in mainline (arm_smmu_get_resv_regions:
 * MSI_IOVA_BASE, MSI_IOVA_LENGTH; docs/VFIO.md): no MAP_DMA may cover any of it (`type1ResvRegions`)
 */
const MSI_WINDOW = [0x800_0000, 0x810_0000] as const;

export class ModelType1 extends ModelFds {
  /**
   * VFIO_IOMMU_DIRTY_PAGES on a container with an IOMMU (model-dirty.ts predictDirtyPages):
   * the result, GET_BITMAP's bits, and the tracking state START and STOP set
   */
  protected dirtyPages(p: Process, c: MContainer, r: number, pre: PreIoctl): void {
    // vfio_iommu_type1_dirty_pages refuses TYPE1 before it reads anything
    if (!c.v2) {
      this.expect(r === -EACCES, `VFIO_IOMMU_DIRTY_PAGES on a TYPE1 (v1) container returned ${r}, not -EACCES`);
      return;
    }
    const d = pre.dirty;
    if (d) {
      const want = predictDirtyPages(d, c.v2, c.dirty, c.maps, userWritable(p.mm));
      const what = `VFIO_IOMMU_DIRTY_PAGES(flags 0x${d.flags.toString(16)}, argsz ${d.argsz}${d.flags === 4 && d.whole ? `, iova 0x${d.iova.toString(16)} size 0x${d.range.toString(16)} pgsize 0x${d.pgsize.toString(16)} bitmap 0x${d.size.toString(16)} bytes at 0x${d.data.toString(16)}` : ''})`;
      if (want.r !== null) this.expect(r === want.r, `${what} returned ${r}, the model predicts ${want.r}${c.dirty ? '' : ' (tracking is off)'}`);
      else if (want.zeroOrFault) this.expect(r === 0 || r === -EFAULT, `${what} returned ${r}, not 0 or -EFAULT (the walk)`);
      if (r === 0 && want.walk) {
        const e = checkDirtyBits(p.mm, want.walk.maps, want.walk.base, want.walk.data);
        if (e) this.expect(false, `${what}: ${e}`);
      }
    }
    // only one flag succeeds (__ffs(flags) == __fls(flags)), so a success tells which
    if (r === 0 && d && d.flags === DIRTY_START) c.dirty = true;
    else if (r === 0 && d && d.flags === DIRTY_STOP) c.dirty = false;
    else if (r === 0 && !d) this.lost = true; // a success whose flags the model did not read
  }

  /**
   * UNMAP_DMA with GET_DIRTY_BITMAP (struct at an ok pointer; model-dirty.ts predictUnmapBitmap):
   * the result and the bits; a walk a failed copy stopped removes the mappings reported before
   * it. Returns whether the success path (applyUnmap and the size written back) is to follow.
   */
  protected unmapBitmap(p: Process, c: MContainer, r: number, u: NonNullable<PreIoctl['unmap']>, b: BitmapArg): boolean {
    const want = predictUnmapBitmap(u.argsz, u.flags, u.iova, u.size, b, c.v2, c.dirty, c.maps, userWritable(p.mm));
    const what = `UNMAP_DMA(GET_DIRTY_BITMAP, flags 0x${u.flags.toString(16)}, argsz ${u.argsz}, iova 0x${u.iova.toString(16)} size 0x${u.size.toString(16)}, pgsize 0x${b.pgsize.toString(16)} bitmap 0x${b.size.toString(16)} bytes at 0x${b.data.toString(16)})`;
    if (want.r !== null) this.expect(r === want.r, `${what} returned ${r}, the model predicts ${want.r}${c.dirty ? '' : ' (tracking is off)'}`);
    else this.expect(r === 0 || r === -EFAULT, `${what} returned ${r}, not 0 or -EFAULT (the walk)`);
    if (r === 0 && want.walk) {
      const e = checkDirtyBits(p.mm, want.walk.maps, want.walk.base, want.walk.data);
      if (e) this.expect(false, `${what}: ${e}`);
    }
    if (r !== -EFAULT) return true;
    // a failed copy in the walk: the mappings reported before it are gone, the size is not written back
    if (want.r === null) {
      this.lost = true;
      return false;
    }
    if (want.r === -EFAULT) {
      const gone = new Set(want.removed);
      c.maps = c.maps.filter((m) => !gone.has(m));
    }
    return false;
  }

  /** the IOMMU types vfio_iommu_type1 offers (its CHECK_EXTENSION): TYPE1, and TYPE1v2 with `type1v2` */
  protected typeOffered(t: bigint): boolean {
    const caps = this.sys.profile.caps;
    return t === BigInt(VFIO_TYPE1_IOMMU) || (t === BigInt(VFIO_TYPE1v2_IOMMU) && caps.type1v2) || (t === 6n && caps.type1Nesting);
  }

  protected protOf(flags: number): number {
    const c = this.sys.profile.caps;
    let prot = 0;
    if (flags & 1) prot |= IOMMU_READ;
    if (flags & 2) prot |= IOMMU_WRITE;
    if (c.dmaMapBit2 === 'exec' && flags & 4) prot |= IOMMU_EXEC;
    return prot;
  }

  protected applyMap(c: MContainer, mm: AddressSpace, m: NonNullable<PreIoctl['map']>): void {
    const iova = Number(m.iova);
    const size = Number(m.size);
    const vaddr = Number(m.vaddr);
    const caps = this.sys.profile.caps;
    if (caps.dmaMapBit2 === 'vaddr' && m.flags & 4) {
      // VFIO_DMA_MAP_FLAG_VADDR restores the vaddr of exactly one mapping whose vaddr was invalidated
      const d = c.maps.find((x) => x.iova === iova && x.size === size);
      this.expect(d !== undefined, `MAP_DMA(VADDR) succeeded without a mapping at 0x${iova.toString(16)}+0x${size.toString(16)}`);
      if (d) {
        this.expect(d.vaddrInvalid, `MAP_DMA(VADDR) succeeded on the mapping at 0x${iova.toString(16)} whose vaddr was never invalidated`);
        d.vaddr = vaddr;
        d.vaddrInvalid = false;
        // from another process (a fork's): the mapping is that mm's now (vfio_change_dma_owner)
        d.mm = mm;
      }
      return;
    }
    this.expect(!c.maps.some((d) => d.iova < iova + size && iova < d.iova + d.size), `MAP_DMA succeeded over an existing mapping at iova 0x${iova.toString(16)}`);
    if (caps.type1ResvRegions && caps.iommuResvRegions) this.expect(iova + size <= MSI_WINDOW[0] || iova >= MSI_WINDOW[1], `MAP_DMA succeeded at 0x${iova.toString(16)}+0x${size.toString(16)}, over the SMMU's reserved MSI window`);
    const pa: number[] = [];
    for (let off = 0; off < size && off < 2 ** 31; off += PAGE) pa.push(userPa(mm, vaddr + off));
    const n: MMap = { iova, size, vaddr, prot: this.protOf(m.flags), mm, vaddrInvalid: false, pa };
    let i = 0;
    while (i < c.maps.length && c.maps[i]!.iova < iova) i++;
    c.maps.splice(i, 0, n);
    // mainline vfio_dma_do_map keeps one mapping per MAP_DMA (`type1MergeMappings`)
    if (!this.sys.profile.caps.type1MergeMappings) return;
    const join = (a: MMap, b: MMap): boolean => a.iova + a.size === b.iova && a.vaddr + a.size === b.vaddr && a.prot === b.prot && a.mm === b.mm;
    const right = c.maps[i + 1];
    if (right && join(n, right)) {
      n.size += right.size;
      n.pa = n.pa.concat(right.pa);
      c.maps.splice(i + 1, 1);
    }
    const left = c.maps[i - 1];
    if (left && join(left, n)) {
      left.size += n.size;
      left.pa = left.pa.concat(n.pa);
      c.maps.splice(i, 1);
    }
  }

  protected applyUnmap(c: MContainer, iovaB: bigint, sizeB: bigint, flags: number): number {
    const caps = this.sys.profile.caps;
    // UNMAP_FLAG_ALL (mainline, `type1UnmapAll`): only with iova = size = 0, removes everything
    const all = caps.type1UnmapAll && (flags & 2) !== 0;
    // VFIO_DMA_UNMAP_FLAG_VADDR (mainline): the same walk, but the mappings stay and lose their vaddr
    const invalidate = caps.dmaMapBit2 === 'vaddr' && (flags & 4) !== 0;
    if (all) this.expect(iovaB === 0n && sizeB === 0n, 'UNMAP_DMA(FLAG_ALL) succeeded with a non-zero iova or size');
    const start = all ? 0 : Number(iovaB);
    const end = all ? 2 ** 53 : Number(iovaB + sizeB > 2n ** 53n ? 2n ** 53n : iovaB + sizeB);
    if (caps.type1UnmapRule === 'whole-mappings') {
      // the uapi rules of today's type1: whole mappings only; v2 never splits (a
      // straddling request fails), v1 removes the mappings whose first IOVA it covers and
      // stops at a mapping starting before the request
      if (c.v2 && !all) this.expect(!c.maps.some((d) => (d.iova < start && d.iova + d.size > start) || (d.iova < end && d.iova + d.size > end)), `UNMAP_DMA on a TYPE1v2 container succeeded splitting a mapping (0x${start.toString(16)}..0x${end.toString(16)})`);
      let removed = 0;
      const out: MMap[] = [];
      let stop = false;
      for (const d of c.maps) {
        if (stop || d.iova + d.size <= start || d.iova >= end) {
          out.push(d);
          continue;
        }
        if (!c.v2 && d.iova < start) {
          stop = true;
          out.push(d);
          continue;
        }
        removed += d.size;
        if (invalidate) {
          this.expect(!d.vaddrInvalid, `UNMAP_DMA(VADDR) succeeded reaching the mapping at 0x${d.iova.toString(16)} whose vaddr was already invalid`);
          d.vaddrInvalid = true;
          out.push(d);
        }
      }
      c.maps = out;
      return removed;
    }
    let removed = 0;
    const out: MMap[] = [];
    for (const d of c.maps) {
      const dEnd = d.iova + d.size;
      if (dEnd <= start || d.iova >= end) {
        out.push(d);
        continue;
      }
      const from = Math.max(start, d.iova);
      const to = Math.min(end, dEnd);
      removed += to - from;
      if (from > d.iova) out.push({ ...d, size: from - d.iova, pa: d.pa.slice(0, Math.ceil((from - d.iova) / PAGE)) });
      if (to < dEnd) out.push({ ...d, iova: to, size: dEnd - to, vaddr: d.vaddr + (to - d.iova), pa: d.pa.slice(Math.floor((to - d.iova) / PAGE)) });
    }
    c.maps = out;
    return removed;
  }
}
