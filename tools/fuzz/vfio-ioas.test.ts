/**
 * IOMMU_VFIO_IOAS (Linux v6.12 drivers/iommu/iommufd/vfio_compat.c iommufd_vfio_ioas) in the
 * fuzzer: the arbitraries draw it where the profile has /dev/iommu (and the 2014 profiles draw
 * as before), the reference models predict each of its answers on the compat container
 * (model-compat.ts postCompat) and on /dev/iommu (model-iommufd.ts), and keep following the compat
 * container across SET and CLEAR: the container's MAP_DMA/UNMAP_DMA act on the IOAS SET chose,
 * and after CLEAR (or the compat IOAS's destruction) the container ioctls are -ENODEV until a
 * group's SET_CONTAINER makes a new one. A short campaign executes it with success on the compat
 * container, clean; an implementation that ignores SET, or maps into the old IOAS, is caught.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IOMMUFD_PREFIX, iommufdCallArb } from './arb-iommufd.js';
import { SECOND_GROUP, SETUP_PREFIX, callArbOf, prefixOf } from './arb.js';
import { IOMMUFD_SEEDS } from './coverage/seeds.js';
import { execCall, runCampaign, runProgram } from './engine.js';
import { Harness } from './harness.js';
import { runFollowed } from './testing/follow.js';
import { IOMMUFD_REQS, IOMMUFD_STRUCTS } from './program-iommufd.js';
import { VFIO_REQS, type Call, type FdRef } from './program.js';
import type { HwptPaging, Ioas, IommufdCtx } from '../../kernel-model/iommu/iommufd/index.js';

const COMPAT = 'mainline+iommufd-compat';
const CT: FdRef = { k: 'container', i: 0 };
const IFD: FdRef = { k: 'iommufd', i: 0 };
const GET = 0, SET = 1, CLEAR = 2;

/** IOMMU_VFIO_IOAS on `fd`; `op` holds op (bits 0-15) and __reserved (bits 16-31) */
const vioas = (op: number, ioas = 0, fd: FdRef = CT, argsz = 12): Call => ({ op: 'ioctl', p: 0, fd, req: IOMMUFD_REQS.IOMMU_VFIO_IOAS, arg: { t: 'struct', type: 'iommu_vfio_ioas', fields: { argsz, ioas_id: ioas, op }, ptr: 'ok' } });
const ioasAlloc = (fd: FdRef = CT): Call => ({ op: 'ioctl', p: 0, fd, req: IOMMUFD_REQS.IOMMU_IOAS_ALLOC, arg: { t: 'struct', type: 'iommu_ioas_alloc', fields: { argsz: 12, flags: 0, out_ioas_id: 0 }, ptr: 'ok' } });
const destroy = (id: number, fd: FdRef = CT): Call => ({ op: 'ioctl', p: 0, fd, req: IOMMUFD_REQS.IOMMU_DESTROY, arg: { t: 'struct', type: 'iommu_destroy', fields: { argsz: 8, id }, ptr: 'ok' } });
const mapAt = (page: number, iova: number, size: number, fd: FdRef = CT): Call => ({
  op: 'ioctl', p: 0, fd, req: VFIO_REQS.VFIO_IOMMU_MAP_DMA,
  arg: { t: 'struct', type: 'vfio_iommu_type1_dma_map', fields: { argsz: 32, flags: 3, vaddr: { dma: page }, iova, size }, ptr: 'ok' },
});
const unmapAt = (iova: number, size: number): Call => ({ op: 'ioctl', p: 0, fd: CT, req: VFIO_REQS.VFIO_IOMMU_UNMAP_DMA, arg: { t: 'struct', type: 'vfio_iommu_type1_dma_unmap', fields: { argsz: 24, flags: 0, iova, size }, ptr: 'ok' } });
const info: Call = { op: 'ioctl', p: 0, fd: CT, req: VFIO_REQS.VFIO_IOMMU_GET_INFO, arg: { t: 'struct', type: 'vfio_iommu_type1_info', fields: { argsz: 16 }, ptr: 'ok' } };
const setIommu = (v: number): Call => ({ op: 'ioctl', p: 0, fd: CT, req: VFIO_REQS.VFIO_SET_IOMMU, arg: { t: 'int', v } });
const checkExt = (v: number): Call => ({ op: 'ioctl', p: 0, fd: CT, req: VFIO_REQS.VFIO_CHECK_EXTENSION, arg: { t: 'int', v } });
const getDeviceFd1: Call = SECOND_GROUP[2]!;

const ctxOf = (h: Harness): IommufdCtx => [...h.sys.iommufd!.contexts][0]!;
const areasOf = (ctx: IommufdCtx, id: number): number[][] => (ctx.objects.get(id) as Ioas).iopt.areas.map((a) => [a.iova, a.last]);
/** the u32 IOMMU_VFIO_IOAS GET wrote back at offset 4 of the scratch */
const writtenId = (h: Harness): number => {
  const b = new Uint8Array(4);
  h.slots[0]!.proc.mm.copyFromUser(b, 0, h.slots[0]!.scratch + 4, 4);
  return new DataView(b.buffer).getUint32(0, true);
};

describe('IOMMU_VFIO_IOAS: the arbitraries', () => {
  it('profiles with /dev/iommu draw it on /dev/iommu and container fds with GET/SET/CLEAR mostly, bad ops, __reserved and sizes sometimes', () => {
    const calls = fc.sample(iommufdCallArb(true), { seed: 3, numRuns: 6000 }).filter((c): c is Extract<Call, { op: 'ioctl' }> => c.op === 'ioctl' && c.req === IOMMUFD_REQS.IOMMU_VFIO_IOAS);
    expect(calls.length).toBeGreaterThan(200);
    const kinds = new Set(calls.map((c) => ('k' in c.fd ? c.fd.k : 'raw')));
    expect(kinds.has('iommufd') && kinds.has('container')).toBe(true);
    const ops = calls.map((c) => (c.arg.t === 'struct' ? Number(c.arg.fields['op']) : -1));
    const valid = ops.filter((o) => o === GET || o === SET || o === CLEAR).length;
    expect(valid / ops.length).toBeGreaterThan(0.85);
    for (const o of [GET, SET, CLEAR]) expect(ops).toContain(o);
    expect(ops.some((o) => o > 0xffff)).toBe(true); // __reserved
    expect(ops.some((o) => o > CLEAR && o <= 0xffff)).toBe(true); // an unknown op
    const ids = calls.map((c) => (c.arg.t === 'struct' ? Number(c.arg.fields['ioas_id']) : -1));
    for (const id of [1, 2, 4, 3, 0]) expect(ids).toContain(id);
    const sizes = calls.map((c) => (c.arg.t === 'struct' ? Number(c.arg.fields['argsz']) : -1));
    expect(sizes.filter((s) => s === IOMMUFD_STRUCTS.iommu_vfio_ioas.minsz).length / sizes.length).toBeGreaterThan(0.5);
    expect(sizes.some((s) => s < 12)).toBe(true);
  });

  it('the 2014 profiles never draw it: their tree is the one before it', () => {
    const old = fc.sample(callArbOf(false), { seed: 9, numRuns: 4000 });
    expect(old.some((c) => c.op === 'ioctl' && c.req === IOMMUFD_REQS.IOMMU_VFIO_IOAS)).toBe(false);
    expect(fc.sample(callArbOf(true), { seed: 9, numRuns: 4000 }).some((c) => c.op === 'ioctl' && c.req === IOMMUFD_REQS.IOMMU_VFIO_IOAS)).toBe(true);
  });
});

describe('IOMMU_VFIO_IOAS on the compat container (mainline+iommufd-compat)', () => {
  it('SET to a second IOAS: the container\'s MAP_DMA and UNMAP_DMA act on it, the first IOAS keeps its own areas; each answer predicted', () => {
    // the group's SET_CONTAINER makes IOAS 1; the device is 2, its auto HWPT 3
    const { h, rets } = runFollowed(COMPAT, [
      ...SETUP_PREFIX,
      vioas(GET),
      ioasAlloc(),
      mapAt(0, 0x10000, 0x2000),
      vioas(SET, 4),
      vioas(GET),
      // the same IOVA again: free in IOAS 4
      mapAt(1, 0x10000, 0x1000),
      mapAt(2, 0x10000, 0x1000),
      info,
      // objects that are not IOASes, and no object: -ENOENT (iommufd_get_ioas)
      vioas(SET, 2), vioas(SET, 3), vioas(SET, 9),
      vioas(3), vioas(GET | (1 << 16)), vioas(GET, 0, CT, 8),
      unmapAt(0x10000, 0x1000),
      vioas(SET, 1),
      unmapAt(0x10000, 0x2000),
    ]);
    expect(rets).toEqual([
      '0', '1', '0', '0', '2',
      '0', '0', '0', '0', '0', '0', '-EEXIST', '0',
      '-ENOENT', '-ENOENT', '-ENOENT',
      '-EOPNOTSUPP', '-EOPNOTSUPP', '-EINVAL',
      '0', '0', '0',
    ]);
    const ctx = ctxOf(h);
    expect(ctx.vfioIoas!.id).toBe(1);
    expect(areasOf(ctx, 1)).toEqual([]);
    expect(areasOf(ctx, 4)).toEqual([]);
    h.finish();
    // before the unmaps: IOAS 1 held 0x10000-0x11fff, IOAS 4 0x10000-0x10fff (read back through a second run)
    const { h: h2 } = runFollowed(COMPAT, [...SETUP_PREFIX, ioasAlloc(), mapAt(0, 0x10000, 0x2000), vioas(SET, 4), mapAt(1, 0x10000, 0x1000)]);
    expect(areasOf(ctxOf(h2), 1)).toEqual([[0x10000, 0x11fff]]);
    expect(areasOf(ctxOf(h2), 4)).toEqual([[0x10000, 0x10fff]]);
  });

  it('GET writes the compat IOAS\'s id back', () => {
    const { h } = runFollowed(COMPAT, [...SETUP_PREFIX.slice(0, 3), ioasAlloc(), vioas(SET, 2), vioas(GET)]);
    expect(writtenId(h)).toBe(2);
  });

  it('CLEAR, then the container ioctls without an IOAS: -ENODEV; a device open needs one; the next SET_CONTAINER makes a new IOAS, whose id GET tells', () => {
    const { h, rets } = runFollowed(COMPAT, [
      ...SETUP_PREFIX,
      mapAt(0, 0x10000, 0x1000),
      vioas(CLEAR),
      vioas(GET), mapAt(1, 0x20000, 0x1000), unmapAt(0x10000, 0x1000), info, setIommu(3), checkExt(4), checkExt(1),
      // the second group attaches without a compat IOAS: one is made (id 4: 1 IOAS, 2 device, 3 HWPT)
      SECOND_GROUP[0]!, SECOND_GROUP[1]!,
      vioas(GET),
      mapAt(2, 0x10000, 0x1000),
      getDeviceFd1,
      // the first IOAS is held by the first device's HWPT; the new one by the second's
      destroy(1), destroy(4),
      vioas(CLEAR),
      // a new IOAS (7: device 5 and its HWPT 6 came with the second group's device), SET (6 is that
      // HWPT) and destroyed: the compat IOAS goes with it (iommufd_object_remove)
      ioasAlloc(), vioas(SET, 6), vioas(SET, 7), destroy(7), vioas(GET), info,
    ]);
    expect(rets).toEqual([
      '0', '1', '0', '0', '2',
      '0', '0',
      '-ENODEV', '-ENODEV', '-ENODEV', '-ENODEV', '-ENODEV', '-ENODEV', '1',
      '3', '0',
      '0',
      '0',
      '4',
      '-EBUSY', '-EBUSY',
      '0',
      '0', '-ENOENT', '0', '0', '-ENODEV', '-ENODEV',
    ]);
    const ctx = ctxOf(h);
    expect(ctx.vfioIoas).toBeNull();
    expect(areasOf(ctx, 1)).toEqual([[0x10000, 0x10fff]]);
    expect(areasOf(ctx, 4)).toEqual([[0x10000, 0x10fff]]);
    h.finish();
  });

  it('a device opened after CLEAR is refused (vfio_iommufd_compat_attach_ioas: -ENODEV), and after SET it attaches to the IOAS SET chose', () => {
    const { h, rets } = runFollowed(COMPAT, [...SETUP_PREFIX.slice(0, 4), vioas(CLEAR), SETUP_PREFIX[4]!, ioasAlloc(), vioas(SET, 2), SETUP_PREFIX[4]!, destroy(2), destroy(1)]);
    expect(rets).toEqual(['0', '1', '0', '0', '0', '-ENODEV', '0', '0', '2', '-EBUSY', '0']);
    // IOAS 2 (the device's) holds its auto HWPT
    const hwpts = [...ctxOf(h).objects.values()].filter((o) => o.type === 'hwpt-paging');
    expect(hwpts.map((x) => (x as HwptPaging).ioas.id)).toEqual([2]);
    h.finish();
  });

  it('a SET_CONTAINER the model could not read (its fd read from the read-only zero page: fd 0, the container) then GET_DEVICE_FD: no host exception', () => {
    const setRo: Call = { ...(SETUP_PREFIX[2] as Extract<Call, { op: 'ioctl' }>), arg: { t: 'struct', type: 'int32', fields: { v: { fd: CT } }, ptr: 'ro' } };
    const r = runProgram(COMPAT, [SETUP_PREFIX[0]!, SETUP_PREFIX[1]!, setRo, SETUP_PREFIX[4]!], { transcript: true });
    expect(r.finding).toBeNull();
    expect(r.harness.transcript.map((t) => String(t.ret))).toEqual(['0', '1', '0', '2']);
  });

  it('a short campaign executes IOMMU_VFIO_IOAS with success on the compat container and every answer of it, clean', () => {
    // seed 2 since VFIO_IOMMU_DIRTY_PAGES joined the mainline draws (seed 7's 300 runs no longer reach EOPNOTSUPP)
    const r = runCampaign({ profile: COMPAT, seed: 2, runs: 300 });
    expect(r.findings.map((f) => `${f.sig}: ${f.message}`)).toEqual([]);
    expect(r.okCounts?.['container:IOMMU_VFIO_IOAS'] ?? 0).toBeGreaterThanOrEqual(5);
    expect(r.coverage['container:IOMMU_VFIO_IOAS']).toEqual(expect.arrayContaining(['ok', 'ENODEV', 'ENOENT', 'EOPNOTSUPP', 'EINVAL']));
    expect(r.okCounts?.['container:IOMMU_IOAS_ALLOC'] ?? 0).toBeGreaterThan(0);
  });
});

describe('IOMMU_VFIO_IOAS on /dev/iommu (mainline)', () => {
  it('GET, SET, CLEAR predicted; the VFIO MAP_DMA on the /dev/iommu fd lands in the IOAS SET chose; DESTROY of it clears it', () => {
    const { h, rets } = runFollowed('mainline', [
      ...IOMMUFD_PREFIX,
      vioas(GET, 0, IFD), mapAt(8, 0x200000, 0x1000, IFD),
      // device 1 and HWPT 3 are not IOASes
      vioas(SET, 1, IFD), vioas(SET, 3, IFD), vioas(SET, 2, IFD), vioas(GET, 0, IFD),
      mapAt(8, 0x200000, 0x1000, IFD),
      ioasAlloc(IFD), vioas(SET, 4, IFD), mapAt(9, 0x200000, 0x2000, IFD),
      vioas(4, 0, IFD), vioas(CLEAR | (2 << 16), 0, IFD),
      destroy(4, IFD), vioas(GET, 0, IFD), vioas(SET, 4, IFD), vioas(SET, 2, IFD), vioas(CLEAR, 0, IFD), vioas(GET, 0, IFD),
    ]);
    expect(rets).toEqual([
      '0', '1', '0', '0', '0', '0',
      '-ENODEV', '-ENODEV',
      '-ENOENT', '-ENOENT', '0', '0',
      '0',
      '0', '0', '0',
      '-EOPNOTSUPP', '-EOPNOTSUPP',
      '0', '-ENODEV', '-ENOENT', '0', '0', '-ENODEV',
    ]);
    expect(areasOf(ctxOf(h), 2)).toEqual([[0x100000, 0x103fff], [0x200000, 0x200fff]]);
    expect(ctxOf(h).vfioIoas).toBeNull();
    h.finish();
  });
});

describe('IOMMU_VFIO_IOAS: the coverage seed', () => {
  it.each(['mainline', COMPAT])('%s: the seed runs with both models comparing to its end (seeds.test.ts checks its errnos)', (profile) => {
    const seed = IOMMUFD_SEEDS.filter((x) => x.calls.some((c) => c.op === 'ioctl' && c.req === IOMMUFD_REQS.IOMMU_VFIO_IOAS));
    expect(seed.length).toBe(1);
    const { h, rets } = runFollowed(profile, [...prefixOf(seed[0]!.n), ...seed[0]!.calls]);
    expect(rets.slice(IOMMUFD_PREFIX.length)).toEqual(['-ENODEV', '-ENODEV', '-ENOENT', '0', '0', '0', '0', '0', '0', '0', '0', '-ENODEV', '-EOPNOTSUPP', '-EOPNOTSUPP', '0', '0', '-ENODEV']);
    h.finish();
  });
});

describe('IOMMU_VFIO_IOAS: the models notice an implementation that strays', () => {
  it('a SET the context ignores, a MAP_DMA into the old IOAS, a GET that reports another id: model-divergence', () => {
    const prefix = [...SETUP_PREFIX, ioasAlloc()];
    const sig = (h: Harness, c: Call): string | null => execCall(h, c)?.sig ?? null;

    const h1 = new Harness({ profile: COMPAT });
    for (const c of prefix) h1.exec(c);
    const ctx1 = ctxOf(h1);
    const old = ctx1.vfioIoas;
    expect(sig(h1, vioas(SET, 4))).toBeNull();
    ctx1.vfioIoas = old; // the SET undone behind the model's back
    expect(sig(h1, vioas(GET))).toBe('model-divergence');

    // the compat IOAS switched, but MAP_DMA still maps into the first IOAS
    const h2 = new Harness({ profile: COMPAT });
    for (const c of prefix) h2.exec(c);
    const ctx2 = ctxOf(h2);
    const first = ctx2.vfioIoas!;
    h2.exec(vioas(SET, 4));
    const second = ctx2.vfioIoas!;
    Object.defineProperty(ctx2, 'vfioIoas', { get: () => first, set: () => {}, configurable: true });
    expect(second.id).toBe(4);
    expect(sig(h2, mapAt(0, 0x10000, 0x1000))).toBe('model-divergence');

    // /dev/iommu: GET writes back another id
    const h3 = new Harness({ profile: 'mainline' });
    for (const c of [...IOMMUFD_PREFIX, ioasAlloc(IFD), vioas(SET, 2, IFD)]) h3.exec(c);
    const ctx3 = [...h3.sys.iommufd!.contexts][0]!;
    ctx3.vfioIoas = ctx3.objects.get(4) as Ioas;
    expect(sig(h3, vioas(GET, 0, IFD))).toBe('model-divergence:iommufd');
  });
});
