/**
 * The compat container's reference model follows IOMMU_IOAS_MAP, IOMMU_IOAS_COPY,
 * IOMMU_IOAS_UNMAP and IOMMU_OPTION issued on the container's fd (Linux v6.12
 * drivers/iommu/iommufd/ioas.c iommufd_ioas_map/copy/unmap/option, io_pagetable.c): it used to
 * stop comparing at their first success. Now the areas they add and remove are compared with the
 * context's IOAS after every call, IOAS_UNMAP's answers are predicted, and OPTION HUGE_PAGES
 * decides whether a later UNMAP_DMA may cut an area (iommufd_vfio_unmap_dma).
 */
import { describe, expect, it } from 'vitest';
import type { Ioas, IommufdCtx } from '../../kernel-model/iommu/iommufd/index.js';
import { SETUP_PREFIX } from './arb.js';
import { execCall } from './engine.js';
import { Harness } from './harness.js';
import { IOMMUFD_REQS as I } from './program-iommufd.js';
import { VFIO_REQS, type Call } from './program.js';

const COMPAT = 'mainline+iommufd-compat';
const CT = { k: 'container' as const, i: 0 };
const P = 4096;
const ioasMap = (id: number, page: number, iova: number, length: number): Call => ({ op: 'ioctl', p: 0, fd: CT, req: I.IOMMU_IOAS_MAP, arg: { t: 'struct', type: 'iommu_ioas_map', fields: { argsz: 40, flags: 7, ioas_id: id, reserved: 0, user_va: { dma: page }, length, iova }, ptr: 'ok' } });
const ioasCopy = (dst: number, src: number, length: number, dstIova: number, srcIova: number): Call => ({ op: 'ioctl', p: 0, fd: CT, req: I.IOMMU_IOAS_COPY, arg: { t: 'struct', type: 'iommu_ioas_copy', fields: { argsz: 40, flags: 7, dst_ioas_id: dst, src_ioas_id: src, length, dst_iova: dstIova, src_iova: srcIova }, ptr: 'ok' } });
const ioasUnmap = (id: number, iova: number | string, length: number | string): Call => ({ op: 'ioctl', p: 0, fd: CT, req: I.IOMMU_IOAS_UNMAP, arg: { t: 'struct', type: 'iommu_ioas_unmap', fields: { argsz: 24, ioas_id: id, iova, length }, ptr: 'ok' } });
const hugePages = (id: number, on: number): Call => ({ op: 'ioctl', p: 0, fd: CT, req: I.IOMMU_OPTION, arg: { t: 'struct', type: 'iommu_option', fields: { argsz: 24, option_id: 1, op: 0, object_id: id, val64: on }, ptr: 'ok' } });
const unmapDma = (iova: number, size: number): Call => ({ op: 'ioctl', p: 0, fd: CT, req: VFIO_REQS.VFIO_IOMMU_UNMAP_DMA, arg: { t: 'struct', type: 'vfio_iommu_type1_dma_unmap', fields: { argsz: 24, flags: 0, iova, size }, ptr: 'ok' } });
const ioasAlloc: Call = { op: 'ioctl', p: 0, fd: CT, req: I.IOMMU_IOAS_ALLOC, arg: { t: 'struct', type: 'iommu_ioas_alloc', fields: { argsz: 12, flags: 0, out_ioas_id: 0 }, ptr: 'ok' } };

function run(calls: readonly Call[]): { h: Harness; rets: string[] } {
  const h = new Harness({ profile: COMPAT, transcript: true });
  for (const c of calls) {
    const f = execCall(h, c);
    expect(f, `${JSON.stringify(c)}: ${f?.message}`).toBeNull();
    expect(h.model.lost, `the reference model stopped comparing at ${JSON.stringify(c)}`).toBe(false);
  }
  return { h, rets: h.transcript.map((t) => t.ret) };
}
const areas = (h: Harness, id: number): number[][] => {
  const ctx = [...h.sys.iommufd!.contexts][0] as IommufdCtx;
  return (ctx.objects.get(id) as Ioas).iopt.areas.map((a) => [a.iova, a.last]);
};

describe('the compat container follows IOAS_MAP/COPY/UNMAP and IOMMU_OPTION on its context', () => {
  it('areas added and removed by id, IOAS_UNMAP predicted (whole areas, -ENOENT at a cut), on the compat IOAS and an IOAS_ALLOC one', () => {
    const { h, rets } = run([
      ...SETUP_PREFIX, // the compat IOAS 1 (TYPE1: large pages off)
      ioasMap(1, 0, 0x10000, 4 * P),
      ioasCopy(1, 1, 4 * P, 0x20000, 0x10000),
      ioasAlloc, // IOAS 4 (the bound device is object 2, its auto HWPT 3)
      ioasCopy(4, 1, 4 * P, 0x40000, 0x10000),
      ioasUnmap(1, 0x10000, 4 * P),
      ioasUnmap(1, 0x20000, P), // cuts the area: -ENOENT
      ioasUnmap(1, 0x80000, P), // nothing there: -ENOENT
      ioasUnmap(1, '0xffffffff', P), // -EOVERFLOW
      ioasUnmap(1, 0x20000, 0), // -EINVAL
      ioasUnmap(4, 0, '0xffffffffffffffff'), // everything
      ioasUnmap(4, 0, '0xffffffffffffffff'), // everything, of nothing: 0
    ]);
    expect(rets.slice(SETUP_PREFIX.length)).toEqual(['0', '0', '0', '0', '0', '-ENOENT', '-ENOENT', '-EOVERFLOW', '-EINVAL', '0', '0']);
    expect(areas(h, 1)).toEqual([[0x20000, 0x23fff]]);
    expect(areas(h, 4)).toEqual([]);
  });

  it('OPTION HUGE_PAGES decides whether UNMAP_DMA cuts an area of the compat IOAS', () => {
    // large pages back on: UNMAP_DMA of part of an area is -ENOENT (no cut), and the model says so
    const on = run([...SETUP_PREFIX, hugePages(1, 1), ioasMap(1, 0, 0x10000, 4 * P), unmapDma(0x10000, P)]);
    expect(on.rets.slice(-3)).toEqual(['0', '0', '-ENOENT']);
    expect(areas(on.h, 1)).toEqual([[0x10000, 0x13fff]]);
  });

  it('an implementation whose IOAS_MAP leaves no area is caught (the model keeps comparing after the success)', () => {
    const h = new Harness({ profile: COMPAT });
    for (const c of [...SETUP_PREFIX, ioasMap(1, 0, 0x10000, 4 * P)]) expect(execCall(h, c)).toBeNull();
    const ctx = [...h.sys.iommufd!.contexts][0] as IommufdCtx;
    (ctx.objects.get(1) as Ioas).iopt.areas.length = 0; // the area lost behind the model's back
    expect(execCall(h, ioasUnmap(1, 0x80000, P))).not.toBeNull();
  });
});
