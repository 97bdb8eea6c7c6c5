/**
 * Resource-typed HWPT ids (Value `{ hwpt, mk }`: program.ts hasHwptRef, arb-iommufd.ts hwptRef,
 * Harness.makeHwpt, emit-c-runtime-res.ts hwpt_of / make_hwpt): on mainline a share of ATTACH's
 * pt_id and IOMMU_DESTROY's id name "the first or second paging HWPT of the call's context, one
 * made when it has none" (IOMMU_HWPT_ALLOC answers out_hwpt_id; VFIO_DEVICE_ATTACH_IOMMUFD_PT
 * writes the attached HWPT's id back into pt_id); and the C view keys the IOAS and device tables by
 * open file, so a raw dup of a /dev/iommu fd names the same context in both (emit-c-runtime.ts
 * raw_fds, track_dup). The 2014 trees draw none.
 */
import { describe, expect, it } from 'vitest';
import { asCallLines, reproUnderUnicorn } from './testing/repro.js';
import fc from 'fast-check';
import { shouldSkipUnicornTests } from '../../emulator/cpu/unicorn/testing/guest-build.js';
import { callArbOf } from './arb.js';
import { emitC } from './emit-c.js';
import { ownFinding, runCampaign, runProgram } from './engine.js';
import { CDEV_REQS, IOMMUFD_REQS } from './program-iommufd.js';
import { hasHwptRef, type Call, type FdRef, type Value } from './program.js';
import { FINDING_FORMAT, validateFindingFile } from './schema.js';

const C = CDEV_REQS;
const I = IOMMUFD_REQS;
const bdev = (i: number): FdRef => ({ k: 'device', i, mk: 1 });
const mfd: FdRef = { k: 'iommufd', i: 0, mk: 1 };
const ioas = (i: number): Value => ({ ioas: i, mk: 1 });
const hwpt = (i: number): Value => ({ hwpt: i, mk: 1 });
const attach = (fd: FdRef, pt: Value): Call => ({ op: 'ioctl', p: 0, fd, req: C.VFIO_DEVICE_ATTACH_IOMMUFD_PT, arg: { t: 'struct', type: 'vfio_device_attach_iommufd_pt', fields: { argsz: 12, flags: 0, pt_id: pt }, ptr: 'ok' } });
const detach = (fd: FdRef): Call => ({ op: 'ioctl', p: 0, fd, req: C.VFIO_DEVICE_DETACH_IOMMUFD_PT, arg: { t: 'struct', type: 'vfio_device_detach_iommufd_pt', fields: { argsz: 8, flags: 0 }, ptr: 'ok' } });
const destroy = (fd: FdRef, id: Value): Call => ({ op: 'ioctl', p: 0, fd, req: I.IOMMU_DESTROY, arg: { t: 'struct', type: 'iommu_destroy', fields: { argsz: 8, id }, ptr: 'ok' } });

/**
 * ATTACH to hwpt[0]! makes /dev/iommu, binds vfio0 (device 1), makes IOAS 2 and HWPT_ALLOCs HWPT 3
 * on it, attaches; DESTROY of it -EBUSY; an ATTACH to IOAS 2 replaces it with an auto domain (4);
 * DESTROY hwpt[0]! is then HWPT 3 (free: 0), again HWPT 4 (attached: -EBUSY); DETACH takes the auto
 * domain with it; DESTROY hwpt[1]! makes a HWPT again (IOAS 3, HWPT 4) and destroys it
 */
const PROG: Call[] = [attach(bdev(0), hwpt(0)), destroy(mfd, hwpt(0)), attach(bdev(0), ioas(0)), destroy(mfd, hwpt(0)), destroy(mfd, hwpt(0)), detach(bdev(0)), destroy(mfd, hwpt(1))];
const RETS = ['0', '-EBUSY', '0', '0', '-EBUSY', '0', '0'];

/**
 * /dev/iommu opened (fd 0) and dup'd by a raw dup (fd 1); vfio0 bound through the dup; HWPT_ALLOC
 * on fd 0 names that device (no bind made) and makes IOAS 2; the original closed; ATTACH on the
 * bound cdev to hwpt[0]! resolves in that context through fd 1 (HWPT 3); DESTROY of ioas[0]! on
 * fd 1: IOAS 2, which HWPT 3 holds (-EBUSY)
 */
const DUP: Call[] = [
  { op: 'open', p: 0, path: '/dev/iommu', flags: 2 },
  { op: 'raw', p: 0, nr: 41, args: [0, 0, 0, 0, 0, 0] },
  { op: 'open', p: 0, path: '/dev/vfio/devices/vfio0', flags: 2 },
  { op: 'ioctl', p: 0, fd: { k: 'device', i: 0 }, req: C.VFIO_DEVICE_BIND_IOMMUFD, arg: { t: 'struct', type: 'vfio_device_bind_iommufd', fields: { argsz: 16, flags: 0, iommufd: 1, out_devid: 0 }, ptr: 'ok' } },
  { op: 'ioctl', p: 0, fd: { raw: 0 }, req: I.IOMMU_HWPT_ALLOC, arg: { t: 'struct', type: 'iommu_hwpt_alloc', fields: { argsz: 48, flags: 0, dev_id: { dev: 0, mk: 1 }, pt_id: ioas(0), out_hwpt_id: 0, reserved: 0, data_type: 0, data_len: 0, data_uptr: 0, fault_id: 0 }, ptr: 'ok' } },
  { op: 'close', p: 0, fd: { raw: 0 } },
  attach(bdev(0), hwpt(0)),
  destroy({ raw: 1 }, ioas(0)),
];
const DUP_RETS = ['0', '1', '2', '0', '0', '0', '0', '-EBUSY'];


/**
 * IOMMU_DESTROY and ATTACH successes in a 500-run campaign: 11-21 (mean 15.5) and 168-198 (mean
 * 184) over seeds 1-6 x 500 runs after the HWPT nesting, size-rule and compat draws (2026-12-07): a single
 * 500-run campaign's count spreads about +-20 % around the mean (the calls' successes are a few
 * hundredths of a run's 64 calls), so a floor at a past campaign's figure broke with any draw that
 * shifts the random stream. The floor says what the test means: the calls are reached and succeed
 * at a reasonable rate; it sits about 25 % under the six seeds' mean and 20 % under their lowest. With the fixed ids only seed 1 had 3 DESTROYs
 */
const FLOOR_DESTROY = 8;
const FLOOR_ATTACH = 140;

describe('resource-typed HWPT ids (ATTACH pt_id, IOMMU_DESTROY id)', () => {
  it('mainline draws them for a share of ATTACH (bound cdev refs) and DESTROY calls; the 2014 tree draws none', () => {
    const sample = (iommufd: boolean): Call[] => fc.sample(callArbOf(iommufd, false), { seed: 5, numRuns: 40000 });
    const of = (req: number) => (c: Call): boolean => c.op === 'ioctl' && c.req === req;
    const all = sample(true);
    const att = all.filter(of(C.VFIO_DEVICE_ATTACH_IOMMUFD_PT));
    // (the container's IOMMU_DESTROY, mainline+iommufd-compat's, draws fixed ids)
    const des = all.filter(of(I.IOMMU_DESTROY)).filter((c) => c.op === 'ioctl' && ('raw' in c.fd || c.fd.k !== 'container'));
    expect(att.length).toBeGreaterThan(150);
    expect(des.length).toBeGreaterThan(150);
    // ATTACH: 3 in 8 on a bound cdev ref, of those 1 in 3 a HWPT ref (about 1 in 8)
    expect(att.filter(hasHwptRef).length / att.length).toBeGreaterThan(0.07);
    expect(att.filter(hasHwptRef).length / att.length).toBeLessThan(0.2);
    // DESTROY on /dev/iommu: 1 in 4 a HWPT ref
    expect(des.filter(hasHwptRef).length / des.length).toBeGreaterThan(0.15);
    expect(des.filter(hasHwptRef).length / des.length).toBeLessThan(0.35);
    expect(sample(false).filter(hasHwptRef)).toEqual([]);
  });

  it('a HWPT ref makes one when the context has none (a device bound, a fresh IOAS, HWPT_ALLOC), and resolves to HWPT_ALLOC\'s and ATTACH\'s auto domains in id order; the models follow', () => {
    const { finding, harness: h } = runProgram('mainline', PROG, { transcript: true });
    expect(finding).toBeNull();
    expect(h.transcript.map((t) => t.ret)).toEqual(RETS);
    const l = h.transcript.map((t) => t.line);
    expect(l[0]).toMatch(/^\/\* made: open\("\/dev\/iommu", 02\) = (\d+); open\("\/dev\/vfio\/devices\/vfio0", 02\) = (\d+); .*BIND_IOMMUFD, &s\) = 0 \*\/ \/\* made: .*ioctl\(\1, IOMMU_IOAS_ALLOC, &s\) = 0; .*\.dev_id = 1, \.pt_id = 2, .*ioctl\(\1, IOMMU_HWPT_ALLOC, &s\) = 0 \*\/ P0: .*\.pt_id = hwpt\[0\]! \}; ioctl\(\2 \/\* device\[0\]! \*\/, VFIO_DEVICE_ATTACH_IOMMUFD_PT/);
    for (const i of [1, 2, 3, 4, 5]) expect(l[i]).not.toContain('made');
    // after DETACH took the auto domain, no HWPT: made again on a fresh IOAS (3)
    expect(l[6]).toMatch(/made: .*IOMMU_IOAS_ALLOC, &s\) = 0; .*\.dev_id = 1, \.pt_id = 3, .*IOMMU_HWPT_ALLOC, &s\) = 0 \*\/ P0: .*\.id = hwpt\[1\]!/);
    expect(h.okCounts.get('made:iommufd:IOMMU_HWPT_ALLOC')).toBe(2);
    expect(h.okCounts.get('iommufd:IOMMU_DESTROY')).toBe(2);
    expect(h.okCounts.get('device:VFIO_DEVICE_ATTACH_IOMMUFD_PT')).toBe(2);
  });

  it('a HWPT ref on a fd that names no context is 0 and makes nothing', () => {
    const { finding, harness: h } = runProgram('mainline', [destroy({ raw: 7 }, hwpt(0))], { transcript: true });
    expect(finding).toBeNull();
    expect(h.transcript[0]!.ret).toBe('-EBADF');
    expect(h.transcript[0]!.line).not.toContain('made');
  });

  it('finding files keep the ref, and the C reproducer makes the HWPT before the call and probes the context for its ids', () => {
    const file = (program: unknown): unknown => JSON.parse(JSON.stringify({ format: FINDING_FORMAT, version: 1, profile: 'mainline', sig: 'x', message: '', seed: 1, program, transcript: [] }));
    expect(validateFindingFile(file(PROG)).program).toEqual(PROG);
    expect(() => validateFindingFile(file([destroy(mfd, { hwpt: 0, mk: 2 } as unknown as Value)]))).toThrow(/program\[0\]\.arg\.fields\.id\.mk/);
    const c = emitC({ profile: 'mainline', program: PROG }).c;
    expect(c).toContain('make_hwpt(ioas_fd);');
    expect(c.indexOf('ioas_fd = ctx_fd(bound_fd(0u));')).toBeLessThan(c.indexOf('make_hwpt(ioas_fd);'));
    expect(c).toContain('hwpt_of(ioas_fd, 1u)');
    expect(c).toMatch(/0x[0-9a-f]+u \/\* IOMMU_HWPT_GET_DIRTY_BITMAP \*\//);
  });

  it('a dup of /dev/iommu names the same context: a bind through the dup is the original\'s device, and after the original\'s close the refs resolve through the dup', () => {
    const { finding, harness: h } = runProgram('mainline', DUP, { transcript: true });
    expect(finding).toBeNull();
    expect(h.transcript.map((t) => t.ret)).toEqual(DUP_RETS);
    // HWPT_ALLOC on fd 0: the device bound through fd 1 (no bind made), an IOAS made
    expect(h.transcript[4]!.line).not.toContain('BIND');
    expect(h.transcript[6]!.line).not.toContain('made');
    expect(h.okCounts.get('made:device:VFIO_DEVICE_BIND_IOMMUFD')).toBeUndefined();
    const c = emitC({ profile: 'mainline', program: DUP }).c;
    expect(c).toContain('raw_fds(41, 0x0u, 0x0u, rc);');
  });

  it('a mainline campaign destroys more, clean', () => {
    const r = runCampaign({ profile: 'mainline', seed: 1, runs: 500 });
    expect(r.findings.map((f) => `${f.sig}: ${f.message}`)).toEqual([]);
    const ok = r.okCounts ?? {};
    expect(ok['iommufd:IOMMU_DESTROY'] ?? 0).toBeGreaterThanOrEqual(FLOOR_DESTROY);
    expect(ok['device:VFIO_DEVICE_ATTACH_IOMMUFD_PT'] ?? 0).toBeGreaterThanOrEqual(FLOOR_ATTACH);
    expect(ok['made:iommufd:IOMMU_HWPT_ALLOC'] ?? 0).toBeGreaterThan(0);
  });

  it('a finding after HWPT refs shrinks to a program that still reproduces, the made HWPTs dropped with the calls that named them', () => {
    // ATTACH to a made HWPT, DESTROY of a second ref's, DETACH, then a 1-byte pread of the bound
    // cdev (the subword access Oops, not suppressed here): the reduction keeps the pread alone
    const pread: Call = { op: 'pread', p: 0, fd: bdev(0), off: { region: 0, off: 0 }, count: 1, ptr: 'ok' };
    const program = [attach(bdev(0), hwpt(0)), destroy(mfd, hwpt(1)), detach(bdev(0)), pread];
    const none = new Set<string>();
    const first = runProgram('mainline', program, { ignore: none, transcript: true });
    // (hwpt[1]! wraps to the one HWPT, attached: -EBUSY)
    expect(first.harness.transcript.slice(0, 3).map((t) => t.ret)).toEqual(['0', '-EBUSY', '0']);
    expect(first.finding?.sig).toBe('oops:subword-device-access');
    const own = ownFinding('mainline', program, first.finding!, none)!;
    expect(own.program).toEqual([pread]);
    expect(runProgram('mainline', own.program, { ignore: none }).finding?.sig).toBe('oops:subword-device-access');
  });

  it.skipIf(shouldSkipUnicornTests())('the C reproducer resolves the same HWPTs under Unicorn: every call returns what the harness returned', () => {
    const { calls, stdout } = reproUnderUnicorn('hwptrepro', PROG);
    expect(calls).toEqual(asCallLines(RETS));
    expect(stdout).toMatch(/^call 1 = -1 \(errno 16\b/m);
    expect(stdout).not.toContain('differs from the model');
  });

  it.skipIf(shouldSkipUnicornTests())('the C reproducer of the dup program resolves through the dup under Unicorn as the harness does: every call returns what the harness returned', () => {
    const { calls, stdout } = reproUnderUnicorn('duprepro', DUP);
    expect(calls).toEqual(asCallLines(DUP_RETS));
    expect(stdout).not.toContain('differs from the model');
  });
});
