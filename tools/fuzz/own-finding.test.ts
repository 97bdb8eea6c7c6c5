/**
 * A failing generated run's own finding (engine.ts ownFinding / reportOwnFinding): when the
 * shrink reports another signature than the one the run showed, the run's own finding is
 * reported too, its program cut after the failing call and reduced to the calls it needs,
 * keeping the signature (syz-repro keeps the crash title).
 */
import { describe, expect, it } from 'vitest';
import { SETUP_PREFIX } from './arb.js';
import { ownFinding, reportOwnFinding, runProgram } from './engine.js';
import { DEFAULT_SUPPRESSIONS } from './harness.js';
import type { Call } from './program.js';

const rw = (op: 'pread' | 'pwrite', off: number): Call => ({ op, p: 0, fd: { k: 'device', i: 0 }, off: { region: 0, off }, count: 4, ptr: 'ok' });
const efd: Call = { op: 'eventfd', p: 0, init: 0, flags: 0o4000 };
const getInfo: Call = { op: 'ioctl', p: 0, fd: { k: 'device', i: 0 }, req: 0x3b6b, arg: { t: 'struct', type: 'vfio_device_info', fields: { argsz: 16, flags: 0, num_regions: 0, num_irqs: 0 }, ptr: 'ok' } };

describe("a failing run's own finding", () => {
  // the run a campaign generated: set-up, two calls that do not matter, the pwrite past the
  // 2014 region (offset 0x800 scaled by 4), then a call the run never reached
  const program = [...SETUP_PREFIX, efd, getInfo, rw('pwrite', 0x800), rw('pread', 0x800)];
  const known = new Set(DEFAULT_SUPPRESSIONS);
  const first = runProgram('rfc-v4', program, { ignore: known }).finding!;

  it('rfc-v4: a pwrite Oops is kept as a pwrite Oops, cut after the call and without the calls it does not need', () => {
    expect(first.sig).toBe('oops:pwrite');
    expect(first.step).toBe(SETUP_PREFIX.length + 2);
    // the shrink reported the pread Oops (known now): the pwrite's own finding is still reported
    const after = new Set([...known, 'oops:pread']);
    const own = ownFinding('rfc-v4', program, first, after)!;
    expect(own.finding.sig).toBe('oops:pwrite');
    expect(own.program[own.program.length - 1]).toEqual(rw('pwrite', 0x800));
    // the eventfd and GET_INFO go (the set-up's calls the device fd needs stay), the unreached pread is cut
    expect(own.program).not.toContainEqual(efd);
    expect(own.program).not.toContainEqual(getInfo);
    expect(own.program).not.toContainEqual(rw('pread', 0x800));
    expect(own.program.length).toBeLessThanOrEqual(SETUP_PREFIX.length + 1);
    expect(own.syscalls).toBeGreaterThan(0);
    // it replays on its own, in a freshly booted system, to the same signature at its last call
    const again = runProgram('rfc-v4', own.program, { ignore: after }).finding!;
    expect(again.sig).toBe('oops:pwrite');
    expect(again.step).toBe(own.program.length - 1);
  });

  it('reportOwnFinding confirms it in a fresh system, adds its signature to the known set and counts its syscalls', () => {
    const after = new Set([...known, 'oops:pread']);
    const r = reportOwnFinding('rfc-v4', 7, { program, finding: first }, after)!;
    expect(r.report.sig).toBe('oops:pwrite');
    expect(r.report.seed).toBe(7);
    expect(r.report.profile).toBe('rfc-v4');
    expect(r.report.transcript.length).toBe(r.report.program.length);
    expect(after.has('oops:pwrite')).toBe(true);
    expect(r.syscalls).toBeGreaterThan(0);
  });

  it('nothing more is reported when the shrink ended at the same signature, or when the run showed nothing', () => {
    expect(ownFinding('rfc-v4', program, first, new Set([...known, 'oops:pwrite']))).toBeNull();
    expect(reportOwnFinding('rfc-v4', 7, null, new Set(known))).toBeNull();
    // mainline: the same calls show nothing (vfio_platform_write keeps the offset in the region)
    expect(runProgram('mainline', program, { ignore: known }).finding).toBeNull();
    expect(ownFinding('mainline', program, first, new Set(known))).toBeNull();
  });
});
