/**
 * IOMMU_HWPT_SET_DIRTY_TRACKING, IOMMU_HWPT_GET_DIRTY_BITMAP and IOMMU_HWPT_INVALIDATE in the
 * mainline fuzzer (program-iommufd.ts structs, arb-iommufd.ts hwptOpId / dirtyBitmapArg /
 * invalidateArg, model-iommufd-hwpt-ops.ts): on this board's arm-smmu v2 each ends in an error
 * after its checks (no dirty_ops, no nested HWPT), and the reference model predicts which one in
 * v6.12's order. The 2014 trees draw none.
 */
import { describe, expect, it } from 'vitest';
import { reproUnderUnicorn } from './testing/repro.js';
import fc from 'fast-check';
import { shouldSkipUnicornTests } from '../../emulator/cpu/unicorn/testing/guest-build.js';
import { callArbOf } from './arb.js';
import { emitC } from './emit-c.js';
import { runCampaign, runProgram } from './engine.js';
import { IOMMUFD_REQS } from './program-iommufd.js';
import { hasHwptRef, type Call, type FdRef, type Value } from './program.js';
import { FINDING_FORMAT, validateFindingFile } from './schema.js';
import { IommufdCtx } from '../../kernel-model/iommu/iommufd/objects.js';

const I = IOMMUFD_REQS;
const mfd: FdRef = { k: 'iommufd', i: 0, mk: 1 };
const hwpt = (i: number): Value => ({ hwpt: i, mk: 1 });
const ioas = (i: number): Value => ({ ioas: i, mk: 1 });
const io = (req: number, type: string, fields: Record<string, Value>): Call => ({ op: 'ioctl', p: 0, fd: mfd, req, arg: { t: 'struct', type: type as 'iommu_destroy', fields, ptr: 'ok' } });
const setDirty = (id: Value, flags: number): Call => io(I.IOMMU_HWPT_SET_DIRTY_TRACKING, 'iommu_hwpt_set_dirty_tracking', { argsz: 16, flags, hwpt_id: id, reserved: 0 });
const getDirty = (id: Value, f: { flags?: number; reserved?: number; iova?: Value; length?: Value; page_size?: Value } = {}): Call =>
  io(I.IOMMU_HWPT_GET_DIRTY_BITMAP, 'iommu_hwpt_get_dirty_bitmap', { argsz: 48, hwpt_id: id, flags: f.flags ?? 0, reserved: f.reserved ?? 0, iova: f.iova ?? 0x100000, length: f.length ?? 0x4000, page_size: f.page_size ?? 0x1000, data: { dma: 0 } });
const invalidate = (id: Value, f: { data_uptr?: Value; entry_len?: number; entry_num?: number; reserved?: number } = {}): Call =>
  io(I.IOMMU_HWPT_INVALIDATE, 'iommu_hwpt_invalidate', { argsz: 32, hwpt_id: id, data_uptr: f.data_uptr ?? { dma: 0 }, data_type: 0, entry_len: f.entry_len ?? 16, entry_num: f.entry_num ?? 1, reserved: f.reserved ?? 0 });

/**
 * each ioctl's outcomes on a context with one paging HWPT (made by the first ref: device 1, IOAS 2,
 * HWPT 3), with the checks' order shown by ids that would fail later checks
 */
const PROG: Call[] = [
  setDirty(hwpt(0), 1), // a paging HWPT, no dirty_ops
  setDirty(hwpt(0), 0),
  setDirty(0x7fffffff, 2), // unknown flags before the lookup
  setDirty(ioas(0), 1), // an IOAS, not a paging HWPT
  getDirty(hwpt(0)), // the range passes, no dirty_ops
  getDirty(hwpt(0), { flags: 1 }),
  getDirty(0x7fffffff, { flags: 2 }), // unknown flags before the lookup
  getDirty(0x7fffffff, { reserved: 1 }),
  getDirty(ioas(0)), // not a paging HWPT
  getDirty(hwpt(0), { iova: 0, length: 0 }), // length - 1 wraps: last U64_MAX, above ULONG_MAX
  getDirty(hwpt(0), { iova: '0x100000000' }), // iova above ULONG_MAX
  getDirty(hwpt(0), { iova: '0xfffffffffffff000', length: 0x2000 }), // iova + length - 1 overflows u64
  getDirty(hwpt(0), { iova: 0x100800, page_size: 0x800 }), // off the table's 4 KiB alignment (not off the page size)
  getDirty(hwpt(0), { page_size: 0 }),
  getDirty(hwpt(0), { page_size: 0x10000 }), // 0x104000 off a 64 KiB page
  getDirty(hwpt(0), { page_size: 0x800 }), // a smaller page size passes
  getDirty(hwpt(0), { iova: 0, length: '0x100001000' }), // last IOVA above ULONG_MAX, no u64 overflow
  invalidate(hwpt(0)), // a paging HWPT, not a nested one
  invalidate(hwpt(0), { entry_num: 0 }),
  invalidate(0x7fffffff, { reserved: 1 }),
  invalidate(0x7fffffff, { data_uptr: 0 }), // entries without an array
  invalidate(0x7fffffff, { entry_len: 0 }),
  invalidate(0x7fffffff, { entry_num: 0, data_uptr: 0, entry_len: 0 }), // no entries: the lookup
];
const RETS = [
  '-EOPNOTSUPP', '-EOPNOTSUPP', '-EOPNOTSUPP', '-ENOENT',
  '-EOPNOTSUPP', '-EOPNOTSUPP', '-EOPNOTSUPP', '-EOPNOTSUPP', '-ENOENT', '-EOVERFLOW', '-EOVERFLOW', '-EOVERFLOW', '-EINVAL', '-EINVAL', '-EINVAL', '-EOPNOTSUPP', '-EOVERFLOW',
  '-ENOENT', '-ENOENT', '-EOPNOTSUPP', '-EINVAL', '-EINVAL', '-ENOENT',
];


describe('IOMMU_HWPT_SET_DIRTY_TRACKING, GET_DIRTY_BITMAP, INVALIDATE in the mainline programs', () => {
  it('mainline draws each, the hwpt_id mostly a HWPT ref, flags and ranges around the checks; the 2014 tree draws none', () => {
    // on /dev/iommu fds (the container's draws, since 2026-12-07, take fixed ids: fuzz-size-rules.test.ts)
    const of = (req: number) => (c: Call): boolean => c.op === 'ioctl' && c.req === req && !('k' in c.fd && c.fd.k === 'container');
    const all = fc.sample(callArbOf(true, false), { seed: 5, numRuns: 40000 });
    const reqs = [I.IOMMU_HWPT_SET_DIRTY_TRACKING, I.IOMMU_HWPT_GET_DIRTY_BITMAP, I.IOMMU_HWPT_INVALIDATE];
    const calls = reqs.map((r) => all.filter(of(r)));
    // one each of the 31 /dev/iommu request draws (so the other requests' shares, and the
    // floors of the campaigns that count their successes, stay about where they were)
    for (const cs of calls) expect(cs.length).toBeGreaterThan(60);
    for (const cs of calls) {
      // hwptOpId: 3 in 4 a HWPT ref
      expect(cs.filter(hasHwptRef).length / cs.length).toBeGreaterThan(0.65);
      expect(cs.filter(hasHwptRef).length / cs.length).toBeLessThan(0.85);
    }
    const field = (c: Call, k: string): Value | undefined => (c.op === 'ioctl' && c.arg.t === 'struct' ? c.arg.fields[k] : undefined);
    const flagsBad = calls[0]!.filter((c) => typeof field(c, 'flags') === 'number' && (field(c, 'flags') as number) > 1).length / calls[0]!.length;
    expect(flagsBad).toBeGreaterThan(0.04);
    expect(flagsBad).toBeLessThan(0.25);
    expect(calls[1]!.some((c) => field(c, 'page_size') === 0)).toBe(true);
    expect(calls[1]!.some((c) => field(c, 'length') === 0)).toBe(true);
    expect(calls[2]!.some((c) => field(c, 'entry_num') === 0xffffffff)).toBe(true);
    const old = fc.sample(callArbOf(false, false), { seed: 5, numRuns: 20000 });
    expect(old.filter((c) => reqs.some((r) => of(r)(c)))).toEqual([]);
  });

  it('each ioctl\'s outcomes on this board, in v6.12\'s order; the model predicts every one', () => {
    const { finding, harness: h } = runProgram('mainline', PROG, { transcript: true });
    expect(finding).toBeNull();
    expect(h.transcript.map((t) => t.ret)).toEqual(RETS);
    expect(h.transcript[0]!.line).toMatch(/made: .*IOMMU_HWPT_ALLOC, &s\) = 0 \*\/ P0: struct iommu_hwpt_set_dirty_tracking s = \{ \.argsz = 0x10, \.flags = 1, \.hwpt_id = hwpt\[0\]!, \.reserved = 0 \}; ioctl\(0 \/\* iommufd\[0\]! \*\/, IOMMU_HWPT_SET_DIRTY_TRACKING, &s\);/);
    expect(h.transcript[4]!.line).toContain('struct iommu_hwpt_get_dirty_bitmap s = { .argsz = 0x30, .hwpt_id = hwpt[0]!, .flags = 0, .reserved = 0, .iova = 0x100000, .length = 0x4000, .page_size = 0x1000, .data = dma_area + 0 * 4096 }; ioctl(0 /* iommufd[0]! */, IOMMU_HWPT_GET_DIRTY_BITMAP, &s);');
    expect(h.transcript[17]!.line).toContain('struct iommu_hwpt_invalidate s = { .argsz = 0x20, .hwpt_id = hwpt[0]!, .data_uptr = dma_area + 0 * 4096, .data_type = 0, .entry_len = 0x10, .entry_num = 1, .reserved = 0 }; ioctl(0 /* iommufd[0]! */, IOMMU_HWPT_INVALIDATE, &s);');
  });

  it('a kernel answer the model does not predict is caught at the call (an injected lookup that misses a live paging HWPT)', () => {
    const get = IommufdCtx.prototype.get;
    try {
      IommufdCtx.prototype.get = function (this: IommufdCtx, ...a: Parameters<typeof get>) {
        return a[1] === 'hwpt-paging' ? null : get.apply(this, a);
      } as typeof get;
      const { finding } = runProgram('mainline', PROG);
      expect(finding?.step).toBe(0);
      expect(finding?.sig).toBe('model-divergence:iommufd');
      expect(finding?.message).toMatch(/SET_DIRTY_TRACKING\(hwpt_id \d+: hwpt-paging, flags 0x1\) returned -2, the model predicts -95/);
    } finally {
      IommufdCtx.prototype.get = get;
    }
  });

  it('finding files keep the structs and refs, and the C reproducer writes each field at its offset', () => {
    const file = (program: unknown): unknown => JSON.parse(JSON.stringify({ format: FINDING_FORMAT, version: 1, profile: 'mainline', sig: 'x', message: '', seed: 1, program, transcript: [] }));
    expect(validateFindingFile(file(PROG)).program).toEqual(PROG);
    expect(() => validateFindingFile(file([io(I.IOMMU_HWPT_GET_DIRTY_BITMAP, 'iommu_hwpt_get_dirty_bitmap', { argsz: 48, hwpt_id: 3, bogus: 1 })]))).toThrow(/bogus/);
    const c = emitC({ profile: 'mainline', program: PROG }).c;
    expect(c).toContain('/* struct iommu_hwpt_set_dirty_tracking */');
    expect(c).toContain('*(uint32_t *)(scratch + 8) = (uint32_t)(uint64_t)hwpt_of(ioas_fd, 0u); /* hwpt_id */');
    expect(c).toContain('*(uint64_t *)(scratch + 32) = (uint64_t)0x1000ULL; /* page_size */');
    expect(c).toContain('*(uint64_t *)(scratch + 40) = (uint64_t)(uint64_t)(uintptr_t)(dma_area + 0 * PAGE); /* data */');
    expect(c).toContain('*(uint32_t *)(scratch + 24) = (uint32_t)0x1ULL; /* entry_num */');
    expect(c).toMatch(/0x3b8bu \/\* IOMMU_HWPT_SET_DIRTY_TRACKING \*\//);
    expect(c).toMatch(/0x3b8cu \/\* IOMMU_HWPT_GET_DIRTY_BITMAP \*\//);
    expect(c).toMatch(/0x3b8du \/\* IOMMU_HWPT_INVALIDATE \*\//);
  });

  it('a short mainline campaign is clean and meets each ioctl\'s main errors', () => {
    const r = runCampaign({ profile: 'mainline', seed: 1, runs: 300 });
    expect(r.findings.map((f) => `${f.sig}: ${f.message}`)).toEqual([]);
    const errs = (call: string): string[] => r.coverage[`iommufd:${call}`] ?? [];
    expect(errs('IOMMU_HWPT_SET_DIRTY_TRACKING')).toEqual(expect.arrayContaining(['ENOENT', 'EOPNOTSUPP']));
    expect(errs('IOMMU_HWPT_GET_DIRTY_BITMAP')).toEqual(expect.arrayContaining(['ENOENT', 'EOPNOTSUPP', 'EINVAL', 'EOVERFLOW']));
    expect(errs('IOMMU_HWPT_INVALIDATE')).toEqual(expect.arrayContaining(['ENOENT', 'EINVAL']));
    for (const k of ['IOMMU_HWPT_SET_DIRTY_TRACKING', 'IOMMU_HWPT_GET_DIRTY_BITMAP', 'IOMMU_HWPT_INVALIDATE']) expect(errs(k)).not.toContain('ok');
  });

  it.skipIf(shouldSkipUnicornTests())('the C reproducer returns what the harness returned under Unicorn', () => {
    const { calls, stdout } = reproUnderUnicorn('hwptops', PROG);
    expect(calls).toEqual(RETS.map((r, i) => `call ${i} = ${r.startsWith('-') ? -1 : r}`));
    expect(stdout).not.toContain('differs from the model');
    // errno too: EOPNOTSUPP 95, ENOENT 2, EOVERFLOW 75, EINVAL 22
    expect(stdout).toMatch(/^call 9 = -1 \(errno 75\b/m);
    expect(stdout).toMatch(/^call 3 = -1 \(errno 2\b/m);
  });
});
