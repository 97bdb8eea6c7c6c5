/**
 * Resource-typed device ids (Value `{ dev, mk }`: program.ts hasDevRef, arb-iommufd.ts devRef,
 * Harness.makeDev, emit-c.ts make_dev): on mainline draws IOMMU_HWPT_ALLOC's dev_id names "the
 * first or second device bound to the call's context, one bound first when it has none" (a
 * free device's cdev opened and VFIO_DEVICE_BIND_IOMMUFD to that fd), its pt_id an IOAS of that
 * context (made when it has none), as syzkaller's resources (prog/rand.go createResource); fixed
 * ids kept for a share; the 2014 trees draw none. A context the harness just made then gets HWPTs.
 */
import { describe, expect, it } from 'vitest';
import { reproUnderUnicorn } from './testing/repro.js';
import fc from 'fast-check';
import { shouldSkipUnicornTests } from '../../emulator/cpu/unicorn/testing/guest-build.js';
import { callArbOf } from './arb.js';
import { emitC } from './emit-c.js';
import { runCampaign, runProgram } from './engine.js';
import { IOMMUFD_REQS } from './program-iommufd.js';
import { hasDevRef, type Call, type Value } from './program.js';
import { FINDING_FORMAT, validateFindingFile } from './schema.js';

const I = IOMMUFD_REQS;
/**
 * IOMMU_HWPT_ALLOC successes in a 500-run campaign: 85-96 (mean 89) over seeds 1-6 x 500 runs after the HWPT nesting, size-rule and compat draws (2026-12-07): a single
 * 500-run campaign's count spreads about +-20 % around the mean (the calls' successes are a few
 * hundredths of a run's 64 calls), so a floor at a past campaign's figure broke with any draw that
 * shifts the random stream. The floor says what the test means: the calls are reached and succeed
 * at a reasonable rate; it sits about 25 % under the six seeds' mean and 20 % under their lowest. Before the
 * resource-typed device ids seed 1 had 77
 */
const FLOOR_HWPT = 68;
const made = { k: 'iommufd' as const, i: 0, mk: 1 as const };
const dev = (i: number): Value => ({ dev: i, mk: 1 });
const ioas = (i: number): Value => ({ ioas: i, mk: 1 });
const hwpt = (p: number, devId: Value, pt: Value): Call => ({ op: 'ioctl', p, fd: made, req: I.IOMMU_HWPT_ALLOC, arg: { t: 'struct', type: 'iommu_hwpt_alloc', fields: { argsz: 48, flags: 0, dev_id: devId, pt_id: pt, out_hwpt_id: 0, reserved: 0, data_type: 0, data_len: 0, data_uptr: 0, fault_id: 0 }, ptr: 'ok' } });

/**
 * P0: a made context, IOAS and device (vfio0) made by the first HWPT_ALLOC; a second on the same
 * (refs wrap); P1: a made context, vfio0 is P0's (its bind fails, the fd closed), vfio1 bound; P0
 * closes its cdev (unbound) and the next HWPT_ALLOC binds vfio0 again; a plain dev_id 7 (none)
 */
const PROG: Call[] = [hwpt(0, dev(0), ioas(0)), hwpt(0, dev(1), ioas(1)), hwpt(1, dev(0), ioas(0)), { op: 'close', p: 0, fd: { k: 'device', i: 0 } }, hwpt(0, dev(0), ioas(0)), hwpt(0, 7, ioas(0))];

describe('resource-typed device ids', () => {
  it('mainline draws them for a share of HWPT_ALLOC calls, keeps fixed ids for the rest; the 2014 tree draws none', () => {
    const sample = (iommufd: boolean): Call[] => fc.sample(callArbOf(iommufd, false), { seed: 5, numRuns: 8000 });
    const hw = sample(true).filter((c) => c.op === 'ioctl' && c.req === I.IOMMU_HWPT_ALLOC);
    const withRef = hw.filter(hasDevRef).length;
    expect(hw.length).toBeGreaterThan(50);
    expect(withRef / hw.length).toBeGreaterThan(0.2);
    expect(withRef / hw.length).toBeLessThan(0.6);
    expect(sample(false).filter(hasDevRef)).toEqual([]);
  });

  it('a call naming a device of a context that has none binds a free one first; the models follow; refs resolve in id order', () => {
    const { finding, harness: h } = runProgram('mainline', PROG, { transcript: true });
    expect(finding).toBeNull();
    expect(h.transcript.map((t) => t.ret)).toEqual(['0', '0', '0', '0', '0', '-ENOENT']);
    expect(h.transcript[0]!.line).toMatch(/made: open\("\/dev\/vfio\/devices\/vfio0", 02\) = (\d+); .*ioctl\(\1, VFIO_DEVICE_BIND_IOMMUFD, &s\) = 0 \*\/ P0: .*\.dev_id = dev\[0\]!, \.pt_id = ioas\[0\]!/);
    expect(h.transcript[1]!.line).not.toContain('made');
    expect(h.transcript[2]!.line).toMatch(/vfio0", 02\) = (\d+); .*BIND_IOMMUFD, &s\) = -22; close\(\1\) = 0; open\("\/dev\/vfio\/devices\/vfio1", 02\) = (\d+); .*BIND_IOMMUFD, &s\) = 0 \*\/ P1/);
    expect(h.transcript[4]!.line).toMatch(/made: open\("\/dev\/vfio\/devices\/vfio0".*BIND_IOMMUFD, &s\) = 0 \*\/ P0/);
    expect(h.okCounts.get('made:device:VFIO_DEVICE_BIND_IOMMUFD')).toBe(3);
    expect(h.okCounts.get('iommufd:IOMMU_HWPT_ALLOC')).toBe(4);
  });

  it('with the group open through /dev/vfio/N no device is bound: the ref is 0 (-ENOENT)', () => {
    const prog: Call[] = [{ op: 'open', p: 0, path: '/dev/vfio/0', flags: 2 }, { op: 'open', p: 0, path: '/dev/vfio/1', flags: 2 }, hwpt(0, dev(0), ioas(0))];
    const { finding, harness: h } = runProgram('mainline', prog, { transcript: true });
    expect(finding).toBeNull();
    expect(h.transcript[2]!.ret).toBe('-ENOENT');
    expect(h.transcript[2]!.line).toMatch(/vfio1", 02\) = \d+; .*BIND_IOMMUFD, &s\) = -16; close/);
    expect(h.okCounts.get('made:device:VFIO_DEVICE_BIND_IOMMUFD')).toBeUndefined();
  });

  it('finding files keep the ref, and the C reproducer binds the device before the call', () => {
    const file = validateFindingFile(JSON.parse(JSON.stringify({ format: FINDING_FORMAT, version: 1, profile: 'mainline', sig: 'x', message: '', seed: 1, program: PROG, transcript: [] })));
    expect(file.program).toEqual(PROG);
    expect(() => validateFindingFile(JSON.parse(JSON.stringify({ format: FINDING_FORMAT, version: 1, profile: 'mainline', sig: 'x', message: '', seed: 1, program: [hwpt(0, { dev: 0 } as unknown as Value, 0)], transcript: [] })))).toThrow(/mk/);
    const c = emitC({ profile: 'mainline', program: PROG }).c;
    expect(c).toContain('make_dev(ioas_fd);');
    expect(c.indexOf('make_dev(ioas_fd);')).toBeLessThan(c.indexOf('dev_of(ioas_fd, 0u)'));
  });

  it('a mainline campaign allocates more HWPTs, clean', () => {
    const r = runCampaign({ profile: 'mainline', seed: 1, runs: 500 });
    expect(r.findings.map((f) => `${f.sig}: ${f.message}`)).toEqual([]);
    const ok = r.okCounts ?? {};
    expect(ok['iommufd:IOMMU_HWPT_ALLOC'] ?? 0).toBeGreaterThanOrEqual(FLOOR_HWPT);
    expect(ok['made:device:VFIO_DEVICE_BIND_IOMMUFD'] ?? 0).toBeGreaterThan(0);
  });

  it.skipIf(shouldSkipUnicornTests())('the C reproducer binds the same devices under Unicorn: every call returns what the harness returned', () => {
    const u = reproUnderUnicorn('devrepro', PROG);
    expect(u.calls).toEqual(['call 0 = 0', 'call 1 = 0', 'call 2 = 0', 'call 3 = 0', 'call 4 = 0', 'call 5 = -1']);
    expect(u.stdout).not.toContain('differs from the model');
  });
});
