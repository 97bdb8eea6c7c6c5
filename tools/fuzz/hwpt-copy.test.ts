/**
 * IOMMU_HWPT_ALLOC and IOMMU_IOAS_COPY in the fuzzer (arb-iommufd.ts HWPT_PREFIX and the
 * success-biased draws, model-iommufd-pt.ts): the set-up with an allocated HWPT succeeds call by
 * call, each refusal and success of a hand-written program is the one the reference model
 * predicts (in v6.12's order), an injected wrong dst_iova or a HWPT_ALLOC that fills an unattached
 * domain is a model divergence, and a device replaced onto an allocated HWPT is held to the DMA
 * isolation check.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { HWPT_PREFIX } from './arb-iommufd.js';
import { HWPT_FULL, prefixOf } from './arb.js';
import { execCall, runProgram } from './engine.js';
import { Harness } from './harness.js';
import type { Call, FdRef, Value } from './program.js';
import { CDEV_REQS, IOMMUFD_REQS as I } from './program-iommufd.js';
import { IoPagetable } from '../../kernel-model/iommu/iommufd/io-pagetable.js';
import { Domain } from '../../kernel-model/iommu/core.js';
import type { Ioas, IommufdCtx } from '../../kernel-model/iommu/iommufd/index.js';

const IFD: FdRef = { k: 'iommufd', i: 0 };
const DEV: FdRef = { k: 'device', i: 0 };
const ioctl = (fd: FdRef, req: number, type: string, fields: Record<string, Value>): Call => ({ op: 'ioctl', p: 0, fd, req, arg: { t: 'struct', type: type as never, fields, ptr: 'ok' } });
const copy = (dst: number, src: number, srcIova: number, length: number, flags: number, dstIova = 0): Call =>
  ioctl(IFD, I.IOMMU_IOAS_COPY, 'iommu_ioas_copy', { argsz: 40, flags, dst_ioas_id: dst, src_ioas_id: src, length, dst_iova: dstIova, src_iova: srcIova });
const hwptAlloc = (dev: number, pt: number, flags = 0, argsz = 48, dataLen = 0): Call =>
  ioctl(IFD, I.IOMMU_HWPT_ALLOC, 'iommu_hwpt_alloc', { argsz, flags, dev_id: dev, pt_id: pt, out_hwpt_id: 0, reserved: 0, data_type: 0, data_len: dataLen, data_uptr: 0, fault_id: 0 });
const map = (ioas: number, iova: number, page: number, length: number, flags = 7): Call => ioctl(IFD, I.IOMMU_IOAS_MAP, 'iommu_ioas_map', { argsz: 40, flags, ioas_id: ioas, reserved: 0, user_va: { dma: page }, length, iova });
const attach = (pt: number): Call => ioctl(DEV, CDEV_REQS.VFIO_DEVICE_ATTACH_IOMMUFD_PT, 'vfio_device_attach_iommufd_pt', { argsz: 12, flags: 0, pt_id: pt });
const detach = (): Call => ioctl(DEV, CDEV_REQS.VFIO_DEVICE_DETACH_IOMMUFD_PT, 'vfio_device_detach_iommufd_pt', { argsz: 8, flags: 0 });
const destroy = (id: number): Call => ioctl(IFD, I.IOMMU_DESTROY, 'iommu_destroy', { argsz: 8, id });

/** the one /dev/iommu context of the harness */
const ctxOf = (h: Harness): IommufdCtx => [...h.sys.iommufd!.contexts][0]!;
const areasOf = (h: Harness, id: number): string[] => (ctxOf(h).objects.get(id) as Ioas).iopt.areas.map((a) => `${a.iova.toString(16)}-${a.last.toString(16)}`);

/** run `calls` one by one in a fresh harness; each call's return, stopping at a finding */
function steps(calls: readonly Call[]): { h: Harness; rets: number[]; finding: string | null } {
  const h = new Harness({ profile: 'mainline', transcript: true });
  const rets: number[] = [];
  for (const c of calls) {
    const f = execCall(h, c);
    rets.push(Number(h.transcript[h.transcript.length - 1]!.ret.replace(/^-E.*/, (e) => String(-(ERR[e.slice(1)] ?? 999)))));
    if (f) return { h, rets, finding: `${f.sig}: ${f.message}` };
  }
  return { h, rets, finding: null };
}
const ERR: Record<string, number> = { ENOENT: 2, EFAULT: 14, EEXIST: 17, ENODEV: 19, EINVAL: 22, ENOMEM: 12, EPERM: 1, EOPNOTSUPP: 95, EADDRINUSE: 98, EOVERFLOW: 75, EBUSY: 16 };

const restore: (() => void)[] = [];
afterEach(() => {
  while (restore.length) restore.pop()!();
});

describe('IOMMU_HWPT_ALLOC and IOMMU_IOAS_COPY: draws and the reference model', () => {
  it('HWPT_PREFIX (prefix number HWPT_FULL): every call succeeds, HWPT 3 is an allocated one that DETACH leaves and DESTROY then frees', () => {
    expect(prefixOf(HWPT_FULL)).toBe(HWPT_PREFIX);
    const { h, rets, finding } = steps(HWPT_PREFIX);
    expect(finding).toBeNull();
    // open (fd 0, 1), bind, IOAS 2, HWPT 3 allocated, attached to it, 4 pages mapped, IOAS 4 and 5
    expect(rets).toEqual([0, 1, 0, 0, 0, 0, 0, 0, 0]);
    const ctx = ctxOf(h);
    expect(ctx.ids().map((i) => `${i}:${ctx.objects.get(i)!.type}`)).toEqual(['1:device', '2:ioas', '3:hwpt-paging', '4:ioas', '5:ioas']);
    expect(areasOf(h, 2)).toEqual(['100000-103fff']);
    const more = [detach(), destroy(3), destroy(2)];
    const rets2 = more.map((c) => (expect(execCall(h, c)).toBeNull(), h.transcript[h.transcript.length - 1]!.ret));
    // DETACH keeps a HWPT user space allocated; DESTROY of it succeeds (the model predicts 0), then the IOAS goes too
    expect(rets2).toEqual(['0', '0', '0']);
    expect(ctx.ids()).toEqual([1, 4, 5]);
  });

  it("each refusal and success is the model's prediction, in v6.12's order: COPY's dst_iova, areas, reserved MSI window, -EEXIST / -EPERM / -ENOENT; HWPT_ALLOC's -ENODEV on a mapped IOAS, -EOPNOTSUPP on a HWPT", () => {
    const program: [Call, number][] = [
      // IOAS 4 empty, no HWPT: a table aligned to 1; the kernel picks the first hole from PAGE_SIZE, aligned to 4 KiB (the source's user address)
      [copy(4, 2, 0x101000, 0x2000, 6), 0],
      [copy(4, 2, 0x100000, 0x1000, 7, 0x1000), -ERR.EEXIST!],
      // IOAS 2 has a device attached: the SMMU's MSI window is reserved
      [copy(2, 2, 0x100000, 0x1000, 7, 0x8000000), -ERR.EINVAL!],
      [copy(2, 2, 0x100000, 0x1000, 6), 0],
      [copy(2, 2, 0x103000, 0x2000, 6), -ERR.ENOENT!],
      [copy(9, 2, 0x100000, 0x1000, 6), -ERR.ENOENT!],
      [copy(4, 2, 0x100000, 0x1000, 8 | 6), -ERR.EOPNOTSUPP!],
      [copy(4, 2, 0x100000, 0x1000, 1, 0x5000), -ERR.EINVAL!],
      [copy(4, 2, 0x100000, 0, 6), -ERR.EINVAL!],
      // pages mapped read-only cannot be copied WRITEABLE (iopt_insert_area)
      [map(4, 0x10000, 8, 0x1000, 5), 0],
      [copy(2, 4, 0x10000, 0x1000, 6), -ERR.EPERM!],
      [copy(2, 4, 0x10000, 0x1000, 4), 0],
      // HWPT_ALLOC: on a mapped IOAS the unattached domain cannot be filled; a HWPT as pt_id is a nesting parent arm-smmu cannot nest
      [hwptAlloc(1, 4), -ERR.ENODEV!],
      [hwptAlloc(1, 3), -ERR.EOPNOTSUPP!],
      [hwptAlloc(1, 99), -ERR.EINVAL!],
      [hwptAlloc(9, 2), -ERR.ENOENT!],
      [hwptAlloc(1, 2, 1), -ERR.EOPNOTSUPP!],
      // size 24: data_type / data_len / fault_id are zero-filled
      [hwptAlloc(1, 5, 0, 24), 0],
      // HWPT 6 (on HWPT_PREFIX's IOAS 5) has no page table yet: nothing can be filled into IOAS 5
      [copy(5, 2, 0x100000, 0x1000, 6), -ERR.ENODEV!],
      [map(5, 0x200000, 0, 0x1000), -ERR.ENODEV!],
      [destroy(5), -ERR.EBUSY!],
      // replace HWPT 3 by HWPT 6 (its domain finalised), then map and copy into IOAS 5
      [attach(6), 0],
      [map(5, 0x200000, 0, 0x2000), 0],
      [copy(5, 2, 0x102000, 0x2000, 7, 0x300000), 0],
      [destroy(3), 0],
      // a size that cuts data_len after its first byte: the kernel reads that byte (data_len 4: -EINVAL), not 0
      [hwptAlloc(1, 4, 0, 29, 0x104), -ERR.EINVAL!],
      // a size of 24 leaves data_len out (read as 0): the fill of IOAS 4's areas fails
      [hwptAlloc(1, 4, 0, 24, 8), -ERR.ENODEV!],
    ];
    const { h, rets, finding } = steps([...HWPT_PREFIX, ...program.map(([c]) => c)]);
    expect(finding).toBeNull();
    expect(rets.slice(HWPT_PREFIX.length)).toEqual(program.map(([, r]) => r));
    expect(areasOf(h, 4)).toEqual(['1000-2fff', '10000-10fff']);
    expect(areasOf(h, 2)).toEqual(['1000-1fff', '2000-2fff', '100000-103fff']);
    expect(areasOf(h, 5)).toEqual(['200000-201fff', '300000-301fff']);
  });

  it('an injected IOVA allocation one page off is a model divergence at the COPY (its dst_iova)', () => {
    const alloc = IoPagetable.prototype.allocIova;
    restore.push(() => (IoPagetable.prototype.allocIova = alloc));
    IoPagetable.prototype.allocIova = function (this: IoPagetable, uptr: number, length: number): number {
      const r = alloc.call(this, uptr, length);
      return r < 0 ? r : r + 0x1000;
    };
    const { rets, finding } = steps([...HWPT_PREFIX, copy(4, 2, 0x101000, 0x2000, 6)]);
    expect(rets[rets.length - 1]).toBe(0);
    expect(finding).toMatch(/^model-divergence:iommufd: IOAS_COPY wrote back dst_iova 0x2000, .*0x1000/);
  });

  it('an injected HWPT_ALLOC that takes a mapped IOAS without filling the new domain is a model divergence', () => {
    const add = IoPagetable.prototype.addDomain;
    restore.push(() => (IoPagetable.prototype.addDomain = add));
    IoPagetable.prototype.addDomain = function (this: IoPagetable, d: Domain): number {
      (this.domains as Domain[]).push(d);
      return 0;
    };
    const { rets, finding } = steps([...HWPT_PREFIX.slice(0, 4), map(2, 0x100000, 0, 0x1000), hwptAlloc(1, 2)]);
    expect(rets[rets.length - 1]).toBe(0);
    expect(finding).toMatch(/^model-divergence:iommufd: HWPT_ALLOC\(dev 1, pt 2, flags 0\) returned 0, the model predicts -19/);
  });

  it('a device replaced onto an allocated HWPT is held to the DMA isolation check (an injected wrong page is found at the IOAS_MAP)', () => {
    const calls = [...HWPT_PREFIX, hwptAlloc(1, 4), attach(6)];
    const { h, finding } = steps(calls);
    expect(finding).toBeNull();
    const m = Domain.prototype.map;
    restore.push(() => (Domain.prototype.map = m));
    Domain.prototype.map = function (this: Domain, iova: number, pa: number, size: number, prot: number): number {
      return m.call(this, iova, pa + 0x1000, size, prot);
    };
    const f = execCall(h, map(4, 0x400000, 2, 0x1000));
    expect(f?.sig).toMatch(/^dma-/);
    expect(f?.message).toMatch(/HWPT 6/);
  });

  it('the whole program runs clean through the end-of-run release (runProgram)', () => {
    const { finding } = runProgram('mainline', [...HWPT_PREFIX, copy(4, 2, 0x100000, 0x4000, 7, 0x200000), hwptAlloc(1, 2), detach(), destroy(3)]);
    expect(finding).toBeNull();
  });
});
