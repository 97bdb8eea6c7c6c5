/**
 * Resource-typed device fds (FdRef `{ k: 'device', mk: 1 }`: program.ts hasBoundDevRef,
 * arb-iommufd.ts boundDevRef / attachRes, Harness.makeBoundDev, emit-c.ts make_bound_dev /
 * bound_fd / ctx_fd): on mainline a share of VFIO_DEVICE_ATTACH/DETACH_IOMMUFD_PT draws name "the
 * first or second cdev fd of the calling process bound to the context of one of its /dev/iommu
 * fds, one bound first when it has none", ATTACH's pt_id an IOAS of the context that cdev is bound
 * to (made when it has none), as syzkaller's resources (prog/rand.go createResource); fdRef's
 * draws kept for the rest; the 2014 trees draw none.
 */
import { describe, expect, it } from 'vitest';
import { asCallLines, reproUnderUnicorn } from './testing/repro.js';
import fc from 'fast-check';
import { shouldSkipUnicornTests } from '../../emulator/cpu/unicorn/testing/guest-build.js';
import { callArbOf } from './arb.js';
import { emitC } from './emit-c.js';
import { ownFinding, runCampaign, runProgram } from './engine.js';
import { CDEV_REQS, IOMMUFD_REQS } from './program-iommufd.js';
import { hasBoundDevRef, hasIoasRef, type Call, type FdRef, type Value } from './program.js';
import { FINDING_FORMAT, validateFindingFile } from './schema.js';

const C = CDEV_REQS;
const I = IOMMUFD_REQS;
/**
 * VFIO_DEVICE_ATTACH_IOMMUFD_PT and DETACH successes in a 500-run campaign: 168-198 (mean 184)
 * and 21-38 (mean 28) over seeds 1-6 x 500 runs after the HWPT nesting, size-rule and compat draws (2026-12-07): a single
 * 500-run campaign's count spreads about +-20 % around the mean (the calls' successes are a few
 * hundredths of a run's 64 calls), so a floor at a past campaign's figure broke with any draw that
 * shifts the random stream. The floor says what the test means: the calls are reached and succeed
 * at a reasonable rate; it sits about 25 % under the six seeds' mean and 20 % under their lowest. Before the resource-typed device fds seed 1 had 166 and 11
 */
const FLOOR_ATTACH = 140;
const FLOOR_DETACH = 15;
const bdev = (i: number): FdRef => ({ k: 'device', i, mk: 1 });
const ioas = (i: number): Value => ({ ioas: i, mk: 1 });
const attach = (p: number, fd: FdRef, pt: Value): Call => ({ op: 'ioctl', p, fd, req: C.VFIO_DEVICE_ATTACH_IOMMUFD_PT, arg: { t: 'struct', type: 'vfio_device_attach_iommufd_pt', fields: { argsz: 12, flags: 0, pt_id: pt }, ptr: 'ok' } });
const detach = (p: number, fd: FdRef): Call => ({ op: 'ioctl', p, fd, req: C.VFIO_DEVICE_DETACH_IOMMUFD_PT, arg: { t: 'struct', type: 'vfio_device_detach_iommufd_pt', fields: { argsz: 8, flags: 0 }, ptr: 'ok' } });

/**
 * P0: the first ATTACH makes /dev/iommu, binds vfio0 to it and makes an empty IOAS, then attaches;
 * a second ATTACH (refs wrap: one bound cdev, one IOAS) replaces it; DETACH. P1: made context,
 * vfio0 is P0's (its bind -EINVAL, closed), vfio1 bound, attached. P0 closes its /dev/iommu fd:
 * its cdev stays bound (the context lives on) but to no context of a fd of P0's, so the ref makes
 * again: a new /dev/iommu, both devices bound elsewhere (-EINVAL): fd 1000, -EBADF. P1's DETACH.
 */
const PROG: Call[] = [attach(0, bdev(0), ioas(0)), attach(0, bdev(1), ioas(1)), detach(0, bdev(0)), attach(1, bdev(0), ioas(0)), { op: 'close', p: 0, fd: { k: 'iommufd', i: 0 } }, attach(0, bdev(0), ioas(0)), detach(1, bdev(0))];
const RETS = ['0', '0', '0', '0', '0', '-EBADF', '0'];

describe('resource-typed device fds (ATTACH/DETACH_IOMMUFD_PT)', () => {
  it('mainline draws them for a share of ATTACH and DETACH calls, ATTACH then most often on an IOAS ref; the 2014 tree draws none', () => {
    const sample = (iommufd: boolean): Call[] => fc.sample(callArbOf(iommufd, false), { seed: 5, numRuns: 8000 });
    const isAD = (c: Call): boolean => c.op === 'ioctl' && (c.req === C.VFIO_DEVICE_ATTACH_IOMMUFD_PT || c.req === C.VFIO_DEVICE_DETACH_IOMMUFD_PT);
    const ad = sample(true).filter(isAD);
    const withRef = ad.filter(hasBoundDevRef);
    expect(ad.length).toBeGreaterThan(100);
    expect(withRef.length / ad.length).toBeGreaterThan(0.25);
    expect(withRef.length / ad.length).toBeLessThan(0.5);
    const att = withRef.filter((c) => c.op === 'ioctl' && c.req === C.VFIO_DEVICE_ATTACH_IOMMUFD_PT);
    // attachRes: an IOAS ref three draws in six (the HWPT refs two, fixed ids one); > 0.6 held only while the sample's stream favoured it
    expect(att.filter(hasIoasRef).length / att.length).toBeGreaterThan(0.35);
    expect(sample(false).filter(hasBoundDevRef)).toEqual([]);
  });

  it('an ATTACH on a process without a bound cdev makes /dev/iommu, binds a free device and attaches it to an IOAS of that context; the models follow', () => {
    const { finding, harness: h } = runProgram('mainline', PROG, { transcript: true });
    expect(finding).toBeNull();
    expect(h.transcript.map((t) => t.ret)).toEqual(RETS);
    const l = h.transcript.map((t) => t.line);
    expect(l[0]).toMatch(/^\/\* made: open\("\/dev\/iommu", 02\) = (\d+); open\("\/dev\/vfio\/devices\/vfio0", 02\) = (\d+); .*\.iommufd = \1, .*ioctl\(\2, VFIO_DEVICE_BIND_IOMMUFD, &s\) = 0 \*\/ \/\* made: .*ioctl\(\1, IOMMU_IOAS_ALLOC, &s\) = 0 \*\/ P0: .*\.pt_id = ioas\[0\]! \}; ioctl\(\2 \/\* device\[0\]! \*\/, VFIO_DEVICE_ATTACH_IOMMUFD_PT/);
    expect(l[1]).not.toContain('made');
    expect(l[3]).toMatch(/vfio0", 02\) = (\d+); .*BIND_IOMMUFD, &s\) = -22; close\(\1\) = 0; open\("\/dev\/vfio\/devices\/vfio1", 02\) = (\d+); .*BIND_IOMMUFD, &s\) = 0 \*\/ \/\* made: .*IOMMU_IOAS_ALLOC, &s\) = 0 \*\/ P1/);
    expect(l[5]).toMatch(/made: open\("\/dev\/iommu".*vfio0.*= -22; close.*vfio1.*= -22; close\(\d+\) = 0 \*\/ P0: .*ioctl\(1000 \/\* device\[0\]! \*\/, VFIO_DEVICE_ATTACH/);
    expect(h.okCounts.get('made:device:VFIO_DEVICE_BIND_IOMMUFD')).toBe(2);
    expect(h.okCounts.get('made:open:/dev/iommu')).toBe(3);
    expect(h.okCounts.get('made:iommufd:IOMMU_IOAS_ALLOC')).toBe(2);
    expect(h.okCounts.get('device:VFIO_DEVICE_ATTACH_IOMMUFD_PT')).toBe(3);
    expect(h.okCounts.get('device:VFIO_DEVICE_DETACH_IOMMUFD_PT')).toBe(2);
  });

  it('the pt_id resolves in the context the cdev is bound to, not in the first /dev/iommu fd of the process', () => {
    // P0 opens /dev/iommu (A) and allocates IOAS 1 in it; a second /dev/iommu (B) gets IOASes 1, 2;
    // the program binds vfio0 to B: ATTACH to ioas[1]! is B's IOAS 2 (A has only IOAS 1: -ENOENT there)
    const alloc = (i: number): Call => ({ op: 'ioctl', p: 0, fd: { k: 'iommufd', i }, req: I.IOMMU_IOAS_ALLOC, arg: { t: 'struct', type: 'iommu_ioas_alloc', fields: { argsz: 12, flags: 0, out_ioas_id: 0 }, ptr: 'ok' } });
    const prog: Call[] = [
      { op: 'open', p: 0, path: '/dev/iommu', flags: 2 },
      { op: 'open', p: 0, path: '/dev/iommu', flags: 2 },
      alloc(0),
      alloc(1),
      alloc(1),
      { op: 'open', p: 0, path: '/dev/vfio/devices/vfio0', flags: 2 },
      { op: 'ioctl', p: 0, fd: { k: 'device', i: 0 }, req: C.VFIO_DEVICE_BIND_IOMMUFD, arg: { t: 'struct', type: 'vfio_device_bind_iommufd', fields: { argsz: 16, flags: 0, iommufd: { fd: { k: 'iommufd', i: 1 } }, out_devid: 0 }, ptr: 'ok' } },
      attach(0, bdev(0), ioas(1)),
    ];
    const { finding, harness: h } = runProgram('mainline', prog, { transcript: true });
    expect(finding).toBeNull();
    expect(h.transcript.map((t) => t.ret)).toEqual(['0', '1', '0', '0', '0', '2', '0', '0']);
    expect(h.transcript[7]!.line).not.toContain('made');
    const c = emitC({ profile: 'mainline', program: prog }).c;
    expect(c).toContain('ioas_fd = ctx_fd(bound_fd(0u));');
  });

  it('with both groups open through /dev/vfio/N no device can be bound: the ref is fd 1000 (-EBADF), as no fd', () => {
    const prog: Call[] = [{ op: 'open', p: 0, path: '/dev/vfio/0', flags: 2 }, { op: 'open', p: 0, path: '/dev/vfio/1', flags: 2 }, attach(0, bdev(0), ioas(0)), detach(0, bdev(1))];
    const { finding, harness: h } = runProgram('mainline', prog, { transcript: true });
    expect(finding).toBeNull();
    expect(h.transcript.map((t) => t.ret)).toEqual(['0', '1', '-EBADF', '-EBADF']);
    // vfio_df_ioctl_bind_iommufd -> vfio_device_block_group: -EBUSY while the group is open
    expect(h.transcript[2]!.line).toMatch(/vfio0", 02\) = \d+; .*BIND_IOMMUFD, &s\) = -16; close.*vfio1", 02\) = \d+; .*BIND_IOMMUFD, &s\) = -16; close/);
    expect(h.okCounts.get('made:device:VFIO_DEVICE_BIND_IOMMUFD')).toBeUndefined();
  });

  it('finding files keep the ref (mk on device fds only with the kinds it is defined for), and the C reproducer binds before the call', () => {
    const file = (program: unknown): unknown => JSON.parse(JSON.stringify({ format: FINDING_FORMAT, version: 1, profile: 'mainline', sig: 'x', message: '', seed: 1, program, transcript: [] }));
    expect(validateFindingFile(file(PROG)).program).toEqual(PROG);
    expect(() => validateFindingFile(file([detach(0, { k: 'group', i: 0, mk: 1 })]))).toThrow(/program\[0\]\.fd\.k: unknown resource-typed fd kind/);
    const c = emitC({ profile: 'mainline', program: PROG }).c;
    const at = c.indexOf('make_bound_dev();');
    expect(at).toBeGreaterThan(0);
    expect(at).toBeLessThan(c.indexOf('ioas_fd = ctx_fd(bound_fd(0u));'));
    expect(c.indexOf('ioas_fd = ctx_fd(bound_fd(0u));')).toBeLessThan(c.indexOf('make_ioas(ioas_fd);'));
    expect(c).toMatch(/rc = ret\(ioctl\(bound_fd\(0u\), 0x[0-9a-f]+u \/\* VFIO_DEVICE_ATTACH_IOMMUFD_PT/);
  });

  it('a mainline campaign attaches more, clean', () => {
    const r = runCampaign({ profile: 'mainline', seed: 1, runs: 500 });
    expect(r.findings.map((f) => `${f.sig}: ${f.message}`)).toEqual([]);
    const ok = r.okCounts ?? {};
    expect(ok['device:VFIO_DEVICE_ATTACH_IOMMUFD_PT'] ?? 0).toBeGreaterThanOrEqual(FLOOR_ATTACH);
    expect(ok['device:VFIO_DEVICE_DETACH_IOMMUFD_PT'] ?? 0).toBeGreaterThanOrEqual(FLOOR_DETACH);
    expect(ok['made:device:VFIO_DEVICE_BIND_IOMMUFD'] ?? 0).toBeGreaterThan(0);
  });

  it('a finding on resource refs shrinks to a program that still reproduces, its refs resolving', () => {
    // HWPT_ALLOC on dev/IOAS refs, ATTACH and a map on refs, then a 1-byte pread of the bound cdev
    // (the subword access Oops, not suppressed here): the reduction keeps the pread, whose ref
    // makes and binds what the dropped calls had made
    const made = { k: 'iommufd' as const, i: 0, mk: 1 as const };
    const hwpt: Call = { op: 'ioctl', p: 0, fd: made, req: I.IOMMU_HWPT_ALLOC, arg: { t: 'struct', type: 'iommu_hwpt_alloc', fields: { argsz: 48, flags: 0, dev_id: { dev: 0, mk: 1 }, pt_id: ioas(0), out_hwpt_id: 0, reserved: 0, data_type: 0, data_len: 0, data_uptr: 0, fault_id: 0 }, ptr: 'ok' } };
    const map: Call = { op: 'ioctl', p: 0, fd: made, req: I.IOMMU_IOAS_MAP, arg: { t: 'struct', type: 'iommu_ioas_map', fields: { argsz: 40, flags: 7, ioas_id: ioas(1), reserved: 0, user_va: { dma: 0 }, length: 0x4000, iova: 0x100000 }, ptr: 'ok' } };
    const pread: Call = { op: 'pread', p: 0, fd: bdev(0), off: { region: 0, off: 0 }, count: 1, ptr: 'ok' };
    const program = [hwpt, attach(0, bdev(0), ioas(0)), map, detach(0, bdev(1)), pread];
    const none = new Set<string>();
    const first = runProgram('mainline', program, { ignore: none, transcript: true });
    // (the map -ENODEV: the HWPT_ALLOC'd HWPT on that IOAS has no page table, no device attached to it)
    expect(first.harness.transcript.slice(0, 4).map((t) => t.ret)).toEqual(['0', '0', '-ENODEV', '0']);
    expect(first.finding?.sig).toBe('oops:subword-device-access');
    expect(first.finding?.step).toBe(4);
    const own = ownFinding('mainline', program, first.finding!, none)!;
    expect(own.program).toEqual([pread]);
    const again = runProgram('mainline', own.program, { ignore: none, transcript: true });
    expect(again.finding?.sig).toBe('oops:subword-device-access');
    // the shrunk pread's ref resolved to a cdev it bound, not to no fd (1000)
    expect(again.harness.transcript[0]!.line).toMatch(/made: open\("\/dev\/iommu".*VFIO_DEVICE_BIND_IOMMUFD, &s\) = 0 \*\/ P0: pread\((\d+) \/\* device\[0\]! \*\//);
    expect(again.harness.transcript[0]!.line).not.toContain('pread(1000');
  });

  it.skipIf(shouldSkipUnicornTests())('the C reproducer resolves the same fds and ids under Unicorn: every call returns what the harness returned', () => {
    const u = reproUnderUnicorn('attachrepro', PROG);
    expect(u.calls).toEqual(asCallLines(RETS));
    // the failing ATTACH's errno is the harness's
    expect(u.stdout).toMatch(/^call 5 = -1 \(errno 9\b/m);
    expect(u.stdout).not.toContain('differs from the model');
  });
});
