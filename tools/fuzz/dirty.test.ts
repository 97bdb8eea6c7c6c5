/**
 * VFIO_IOMMU_DIRTY_PAGES and UNMAP_DMA with VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP in the fuzzer
 * (Linux v6.12 drivers/vfio/vfio_iommu_type1.c vfio_iommu_type1_dirty_pages,
 * vfio_iova_dirty_bitmap, update_user_bitmap, verify_bitmap_size, vfio_iommu_type1_unmap_dma):
 * drawn only where the profile's type1 has it (`type1DirtyPages`), predicted by the reference
 * model (model-dirty.ts) call by call, followed (tracking on/off, the mappings an unmap's walk
 * removed before a failed copy), and emitted as C.
 */
import { spawnSync } from 'node:child_process';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hasCrossCompiler } from '../../emulator/cpu/unicorn/testing/guest-build.js';
import { EACCES, EFAULT, EINVAL } from '../../kernel-model/base/errno.js';

/** the transcript's spelling of a result */
const I = '-EINVAL', F = '-EFAULT', A = '-EACCES', NT = '-ENOTTY';
import type { Type1Iommu } from '../../kernel-model/vfio/type1.js';
import { IOMMUFD_PREFIX } from './arb-iommufd.js';
import { DIRTY_FULL, DIRTY_PREFIX, SETUP_PREFIX, callArbOf, dirtyPagesOf, prefixArb, prefixOf } from './arb.js';
import { emitC } from './emit-c.js';
import { execCall, runCampaign } from './engine.js';
import { Harness } from './harness.js';
import { runFollowed } from './testing/follow.js';
import { checkDirtyBits, predictDirtyPages, predictUnmapBitmap, type DirtyArg, type Writable } from './model-dirty.js';
import { VFIO_IOMMU_DIRTY_PAGES, VFIO_REQS, type Call, type Value } from './program.js';

const P = 4096;
const START = 1, STOP = 2, GET = 4;
const CT = { k: 'container' as const, i: 0 };

/** VFIO_IOMMU_DIRTY_PAGES with the given fields (GET_BITMAP's defaults: [0, 4 pages), an exact bitmap in DMA page 8) */
function dirty(flags: number, o: { argsz?: number; iova?: Value; size?: Value; pgsize?: Value; bitmap_size?: Value; data?: Value; ptr?: 'ok' | 'ro' | 'null' } = {}): Call {
  const fields: Record<string, Value> = { argsz: o.argsz ?? (flags === GET ? 48 : 8), flags, iova: o.iova ?? 0, size: o.size ?? 4 * P, pgsize: o.pgsize ?? P, bitmap_size: o.bitmap_size ?? 8, data: o.data ?? { dma: 8 } };
  return { op: 'ioctl', p: 0, fd: CT, req: VFIO_IOMMU_DIRTY_PAGES, arg: { t: 'struct', type: 'vfio_iommu_type1_dirty_bitmap', fields, ptr: o.ptr ?? 'ok' } };
}
function unmapBitmap(iova: number, size: number, o: { flags?: number; argsz?: number; pgsize?: Value; bitmap_size?: Value; data?: Value } = {}): Call {
  const fields: Record<string, Value> = { argsz: o.argsz ?? 48, flags: o.flags ?? 1, iova, size, pgsize: o.pgsize ?? P, bitmap_size: o.bitmap_size ?? 8, data: o.data ?? { dma: 8 } };
  return { op: 'ioctl', p: 0, fd: CT, req: VFIO_REQS.VFIO_IOMMU_UNMAP_DMA, arg: { t: 'struct', type: 'vfio_iommu_type1_dma_unmap_bitmap', fields, ptr: 'ok' } };
}
const mapAt = (page: number, iova: number, size: number): Call => ({ op: 'ioctl', p: 0, fd: CT, req: VFIO_REQS.VFIO_IOMMU_MAP_DMA, arg: { t: 'struct', type: 'vfio_iommu_type1_dma_map', fields: { argsz: 32, flags: 3, vaddr: { dma: page }, iova, size }, ptr: 'ok' } });

/** the container's type1 instance */
const type1 = (h: Harness): Type1Iommu => [...h.sys.vfio.containers][0]!.iommuData as Type1Iommu;
/** the bytes at page `page` of P0's DMA area */
function dmaBytes(h: Harness, page: number, n: number): number[] {
  const b = new Uint8Array(n);
  h.slots[0]!.proc.mm.copyFromUser(b, 0, h.slots[0]!.dma + page * P, n);
  return [...b];
}

describe('dirty page tracking: the arbitraries', () => {
  it('draws VFIO_IOMMU_DIRTY_PAGES and UNMAP_DMA with a bitmap only where type1 has it (read from the profile capability)', () => {
    expect([dirtyPagesOf('rfc-v4'), dirtyPagesOf('patches:1-9'), dirtyPagesOf('baseline'), dirtyPagesOf('mainline'), dirtyPagesOf('mainline+iommufd-compat')]).toEqual([false, false, false, true, true]);
    const isDirty = (c: Call): boolean => c.op === 'ioctl' && (c.req === VFIO_IOMMU_DIRTY_PAGES || (c.arg.t === 'struct' && c.arg.type === 'vfio_iommu_type1_dma_unmap_bitmap'));
    expect(fc.sample(callArbOf(false, false), { seed: 4, numRuns: 5000 }).some(isDirty)).toBe(false);
    expect(fc.sample(callArbOf(true, false), { seed: 4, numRuns: 5000 }).some(isDirty)).toBe(false);
    // without the capability the trees are the ones they were: the same draws as the one-argument forms
    expect(fc.sample(callArbOf(false, false), { seed: 6, numRuns: 2000 })).toEqual(fc.sample(callArbOf(false), { seed: 6, numRuns: 2000 }));
    expect(fc.sample(prefixArb(false, false), { seed: 6, numRuns: 500 })).toEqual(fc.sample(prefixArb(false), { seed: 6, numRuns: 500 }));
    expect(fc.sample(prefixArb(true, true), { seed: 6, numRuns: 700 })).toContain(DIRTY_FULL);
    expect(prefixOf(DIRTY_FULL)).toBe(DIRTY_PREFIX);
    expect(DIRTY_FULL).toBeGreaterThan(SETUP_PREFIX.length + 1 + IOMMUFD_PREFIX.length);
  });

  it('with it: START/STOP/GET_BITMAP, bad flags and argsz, good and bad ranges, page sizes, bitmap sizes and pointers', () => {
    const calls = fc.sample(callArbOf(true, true), { seed: 5, numRuns: 20000 }).filter((c): c is Extract<Call, { op: 'ioctl' }> => c.op === 'ioctl');
    const dp = calls.filter((c) => c.req === VFIO_IOMMU_DIRTY_PAGES && c.arg.t === 'struct');
    const ub = calls.filter((c) => c.arg.t === 'struct' && c.arg.type === 'vfio_iommu_type1_dma_unmap_bitmap');
    expect(dp.length).toBeGreaterThan(200);
    expect(ub.length).toBeGreaterThan(100);
    const field = (c: (typeof calls)[number], k: string): Value | undefined => (c.arg.t === 'struct' ? c.arg.fields[k] : undefined);
    const flags = new Set(dp.map((c) => field(c, 'flags')));
    for (const f of [START, STOP, GET, 0, START | STOP, 8]) expect(flags.has(f), `flags ${f}`).toBe(true);
    const argsz = new Set(dp.map((c) => field(c, 'argsz')));
    for (const a of [8, 48, 7, 47, 0xffffffff]) expect(argsz.has(a), `argsz ${a}`).toBe(true);
    const pg = new Set(dp.map((c) => String(field(c, 'pgsize'))));
    for (const x of [String(P), '0', '8192', '0x100001000']) expect(pg.has(x), `pgsize ${x}`).toBe(true);
    const data = dp.map((c) => JSON.stringify(field(c, 'data')));
    for (const x of ['{"dma":0}', '{"ro":0}', '0', '4096', '3204448256', '{"dma":15,"off":4088}']) expect(data, `data ${x}`).toContain(x);
    // the exact bitmap size for the range mostly; short ones too
    const sized = dp.filter((c) => field(c, 'flags') === GET && typeof field(c, 'size') === 'number');
    const exact = sized.filter((c) => field(c, 'bitmap_size') === Math.ceil((field(c, 'size') as number) / P / 64) * 8);
    expect(exact.length / sized.length).toBeGreaterThan(0.4);
    expect(sized.some((c) => (field(c, 'bitmap_size') as number) < Math.ceil((field(c, 'size') as number) / P / 64) * 8)).toBe(true);
    expect(new Set(ub.map((c) => field(c, 'flags')))).toEqual(new Set([1, 3, 5, 0, 9]));
  });
});

describe('dirty page tracking: the reference model predicts and follows each call (mainline)', () => {
  it('START, GET_BITMAP (every page of the mapping dirty), its -EINVAL and -EFAULT cases, STOP', () => {
    const { h, rets } = runFollowed('mainline', [
      ...DIRTY_PREFIX,
      dirty(GET), // [0, 4 pages): the prefix's mapping
      dirty(GET, { argsz: 47 }),
      dirty(START | STOP),
      dirty(0),
      dirty(8),
      dirty(GET, { pgsize: 2 * P }),
      dirty(GET, { pgsize: '0x100001000' }), // its low word is 4 KiB: verify_bitmap_size passes, the pgsize does not
      dirty(GET, { bitmap_size: 0 }),
      dirty(GET, { size: 64 * 64 * P, bitmap_size: 56 }), // a word short
      dirty(GET, { iova: 0x800 }),
      dirty(GET, { size: 2 * P }), // bisects the mapping
      dirty(GET, { iova: '0xfffffffffffff000', size: 2 * P }), // wraps
      dirty(GET, { data: 0xbf000000 }), // access_ok
      dirty(GET, { data: { ro: 0 } }),
      dirty(GET, { data: 0x1000 }),
      dirty(GET, { ptr: 'null' }),
      dirty(START), // again: 0
      dirty(STOP),
      dirty(GET),
      dirty(STOP), // again: 0
    ]);
    expect(rets.slice(DIRTY_PREFIX.length)).toEqual(['0', I, I, I, I, I, I, I, I, I, I, I, I, F, F, F, '0', '0', I, '0']);
    expect(type1(h).dirtyPageTracking).toBe(false);
  });

  it('GET_BITMAP over several mappings sets their bits at their offsets; an unmap with GET_DIRTY_BITMAP reports and removes, and a failed copy stops its walk', () => {
    const { h, rets } = runFollowed('mainline', [
      ...DIRTY_PREFIX, // [0, 4) pages
      mapAt(4, 6 * P, 2 * P), // [6, 8)
      mapAt(6, 20 * P, 3 * P), // [20, 23)
      dirty(GET, { size: 32 * P }),
    ]);
    expect(rets.slice(-1)).toEqual(['0']);
    // bits 0-3, 6-7, 20-22 of the bitmap in DMA page 8
    expect(dmaBytes(h, 8, 4)).toEqual([0xcf, 0x00, 0x70, 0x00]);
    const next = [
      unmapBitmap(6 * P, 2 * P, { pgsize: 2 * P }), // the bitmap's pgsize: -EINVAL
      unmapBitmap(6 * P, 2 * P, { flags: 5 }), // with VADDR: -EINVAL
      unmapBitmap(6 * P, 2 * P, { argsz: 47 }),
      unmapBitmap(0, 2 * P), // bisects: -EINVAL (TYPE1v2)
      unmapBitmap(6 * P, 2 * P, { bitmap_size: 0 }),
      unmapBitmap(6 * P, 2 * P, { data: { ro: 0 } }), // the copy faults: nothing removed, -EFAULT
      unmapBitmap(0, 8 * P, { data: { dma: 9 } }), // [0, 4) and [6, 8): 0, 8 pages written back
    ];
    for (const c of next) expect(execCall(h, c), JSON.stringify(c)).toBeNull();
    expect(h.model.lost).toBe(false);
    expect(h.transcript.slice(-next.length).map((t) => t.ret)).toEqual([I, I, I, I, I, F, '0']);
    expect(dmaBytes(h, 9, 1)).toEqual([0xcf]);
    expect(type1(h).dmas.map((d) => d.iova)).toEqual([20 * P]);
  });

  it('TYPE1 (v1) -EACCES; without an IOMMU -EINVAL; the compat container -ENOTTY', () => {
    const v1 = runFollowed('mainline', [...SETUP_PREFIX, dirty(START), dirty(GET)]);
    expect(v1.rets.slice(-2)).toEqual([A, A]);
    const none = runFollowed('mainline', [...SETUP_PREFIX.slice(0, 3), dirty(START)]);
    expect(none.rets.slice(-1)).toEqual([I]);
    const compat = runFollowed('mainline+iommufd-compat', [...DIRTY_PREFIX, dirty(GET), unmapBitmap(0, 4 * P)]);
    expect(compat.rets.slice(-3)).toEqual([NT, NT, I]); // START, GET: iommufd_vfio_ioctl -ENOIOCTLCMD; the unmap flag: -EINVAL
  });

  it('an implementation whose tracking state differs from the calls is caught', () => {
    const h = new Harness({ profile: 'mainline' });
    for (const c of DIRTY_PREFIX) expect(execCall(h, c)).toBeNull();
    type1(h).dirtyPageTracking = false; // START forgotten behind the model's back
    const f = execCall(h, dirty(GET));
    expect(f?.message).toMatch(/dirty page tracking off, model on|predicts 0/);
  });
});

describe('dirty page tracking: model-dirty.ts predictions on their own', () => {
  const yes: Writable = () => 'yes';
  const arg = (o: Partial<DirtyArg>): DirtyArg => ({ argsz: 48, flags: GET, iova: 0n, range: 8n * 4096n, pgsize: 4096n, size: 8n, data: 0x40000000n, whole: true, ...o });
  it('GET_BITMAP: each -EINVAL check, the walk, the unpredicted 32-page offsets', () => {
    const maps = [{ iova: 0, size: 4 * P }, { iova: 40 * P, size: P }];
    expect(predictDirtyPages(arg({}), true, true, maps, yes).r).toBe(0);
    expect(predictDirtyPages(arg({}), false, true, maps, yes).r).toBe(-EACCES);
    expect(predictDirtyPages(arg({}), true, false, maps, yes).r).toBe(-EINVAL);
    expect(predictDirtyPages(arg({ size: 0n }), true, true, maps, yes).r).toBe(-EINVAL);
    expect(predictDirtyPages(arg({ size: 2n ** 28n + 8n }), true, true, maps, yes).r).toBe(-EINVAL);
    expect(predictDirtyPages(arg({ range: 2n * 4096n }), true, true, maps, yes).r).toBe(-EINVAL);
    expect(predictDirtyPages(arg({}), true, true, maps, () => 'no').r).toBe(-EFAULT);
    // a mapping 40 pages after the base: where a 32-bit kernel writes its bits is not predicted
    expect(predictDirtyPages(arg({ range: 64n * 4096n }), true, true, maps, yes)).toEqual({ r: null, zeroOrFault: true });
    expect(predictDirtyPages(arg({ flags: START, argsz: 8, whole: false }), true, false, maps, yes).r).toBe(0);
    expect(predictDirtyPages(arg({ whole: false }), true, true, maps, yes).r).toBe(null);
  });
  it('UNMAP with GET_DIRTY_BITMAP: a failed copy keeps the mappings not yet reported; TYPE1 stops at one starting before the range', () => {
    const maps = [{ iova: 0, size: 4 * P }, { iova: 6 * P, size: 2 * P }];
    const b = { pgsize: 4096n, size: 8n, data: 0x40000000n };
    let n = 0;
    const second: Writable = () => (n++ === 0 ? 'yes' : 'no');
    const p = predictUnmapBitmap(48, 1, 0n, 8n * 4096n, b, true, true, maps, second);
    expect([p.r, p.removed]).toEqual([-EFAULT, [maps[0]]]);
    expect(predictUnmapBitmap(48, 1, 2n * 4096n, 8n * 4096n, b, false, true, maps, yes)).toMatchObject({ r: 0, removed: [] });
    expect(predictUnmapBitmap(48, 1, 2n * 4096n, 8n * 4096n, b, true, true, maps, yes).r).toBe(-EINVAL);
  });
  it('checkDirtyBits names the first page whose bit is clear', () => {
    const mem = new Uint8Array([0x0f, 0, 0, 0]);
    const mm = { copyFromUser: (dst: Uint8Array, o: number, _va: number, n: number) => (dst.set(mem.subarray(0, n), o), 0) } as unknown as Parameters<typeof checkDirtyBits>[0];
    expect(checkDirtyBits(mm, [{ iova: 0, size: 4 * P }], 0n, 0n)).toBeNull();
    expect(checkDirtyBits(mm, [{ iova: 0, size: 5 * P }], 0n, 0n)).toMatch(/bit 4 clear/);
  });
});

describe('dirty page tracking: campaigns and reproducers', () => {
  it('a short mainline campaign draws it, reaches its successes and is clean', () => {
    const r = runCampaign({ profile: 'mainline', seed: 2, runs: 60 });
    expect(r.findings).toEqual([]);
    expect(r.coverage['container:VFIO_IOMMU_DIRTY_PAGES']).toContain('ok');
  });
  it('emit-c writes VFIO_IOMMU_DIRTY_PAGES by number and the bitmap fields at their offsets; the reproducer compiles', () => {
    const r = emitC({ profile: 'mainline', program: [...DIRTY_PREFIX, dirty(GET, { data: { dma: 15, off: 0xff8 } }), unmapBitmap(0, 4 * P)] });
    expect(r.sig).toBeNull();
    expect(r.c).toContain('0x3b75u /* VFIO_IOMMU_DIRTY_PAGES */');
    expect(r.c).toContain('*(uint64_t *)(scratch + 40) = (uint64_t)(uint64_t)(uintptr_t)(dma_area + 15 * PAGE + 0xff8); /* data */');
    expect(r.c).toContain('*(uint64_t *)(scratch + 24) = (uint64_t)0x1000ULL; /* pgsize */');
    if (!hasCrossCompiler()) return;
    const out = spawnSync('arm-linux-gnueabihf-gcc', ['-fsyntax-only', '-Wall', '-Wextra', '-Werror', '-x', 'c', '-'], { input: r.c, encoding: 'utf8' });
    expect(out.stderr).toBe('');
    expect(out.status).toBe(0);
  });
});
