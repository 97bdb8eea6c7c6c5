/**
 * The differential check (tools/fuzz/differential.ts): the comparison of a transcript with a
 * reproducer's output, the divergence it found (a sysfs echo's bytes in the scratch buffer,
 * which the C program did not lay out as the harness does) checked through both paths, and the
 * tool itself on a few programs of a mainline campaign (Unicorn: CI, or where it runs).
 */
import { describe, expect, it } from 'vitest';
import { shouldSkipUnicornTests } from '../../emulator/cpu/unicorn/testing/guest-build.js';
import { tempDir } from '../testing/tmp.js';
import { compareRun, differential, drawPrograms } from './differential.js';
import { runProgram } from './engine.js';
import { SETUP_PREFIX } from './arb.js';
import { IOMMUFD_REQS } from './program-iommufd.js';
import type { Call } from './program.js';
import { asCallLines, reproUnderUnicorn } from './testing/repro.js';

const hwInfo = (argsz: number): Call => ({ op: 'ioctl', p: 0, fd: { k: 'iommufd', i: 0 }, req: IOMMUFD_REQS.IOMMU_GET_HW_INFO, arg: { t: 'struct', type: 'iommu_hw_info', fields: { argsz, flags: 0, dev_id: 2, data_len: 0, data_uptr: 0, out_data_type: 0, reserved: 0, out_capabilities: 0 }, ptr: 'ok' } });
/**
 * mainline seed 1's program 0 cut to what diverged: the harness's echo leaves its path in the
 * scratch buffer (Harness.echo: the path at scratch, the value at scratch + 1024), and a
 * GET_HW_INFO of size 0x68 reads past its 40 bytes (48 cleared) into the path's tail:
 * copy_struct_from_user's non-zero tail, -E2BIG. The C program's echo used its own buffer: its
 * scratch held zeros there, and the kernel went on to the device lookup (-ENOENT).
 */
const ECHO_HW_INFO: Call[] = [
  { op: 'open', p: 0, path: '/dev/iommu', flags: 2 },
  { op: 'echo', p: 0, path: '/sys/bus/platform/devices/2c0b0000.dma/driver_override', value: 'vfio-platform' },
  hwInfo(0x68),
  hwInfo(0x30),
];
const ECHO_RETS = ['0', '0', '-E2BIG', '-ENOENT'];

/**
 * mainline seed 1's program 186 cut to what diverged: a store through a read-only mapping of the
 * device kills the harness's process (GuestTrap "write not permitted by the mapping's protection
 * (r--)", not an Oops), and the worker with SIGSEGV; the emitter planned the slot's process as
 * alive (only "killed by kernel Oops" counted), so the C program ended at that call. Now the slot's
 * next call gets a fresh process in both: its open is fd 0.
 */
const RO_STORE: Call[] = [
  ...SETUP_PREFIX,
  { op: 'mmap', p: 0, fd: { k: 'device', i: 0 }, len: 0x1000, prot: 1, flags: 1, off: { region: 0, off: 0 } },
  { op: 'mmio', p: 0, map: 0, off: 0xc, width: 4, write: true, value: 6 },
  { op: 'open', p: 0, path: '/dev/vfio/vfio', flags: 2 },
];

describe('differential check', () => {
  const prog: Call[] = [
    { op: 'open', p: 0, path: '/dev/iommu', flags: 2 },
    { op: 'mmap', p: 0, fd: { k: 'iommufd', i: 0 }, len: 4096, prot: 3, flags: 1, off: { region: 0, off: 0 } },
    { op: 'raw', p: 0, nr: 50, args: [0, 0, 0, 0, 0, 0] },
    { op: 'close', p: 0, fd: { k: 'iommufd', i: 0 } },
  ];
  it('compares errnos and values call by call; an mmap only by success; a raw call only the ARM entry serves is a known limit', () => {
    const rets = ['3', '1234', '-ENOSYS', '0'];
    expect(compareRun(prog, rets, 'call 0 = 3\ncall 1 = -1 (errno 1610612736, ?)\ncall 2 = -1 (errno 38, ENOSYS)\ncall 3 = 0\n', 4)).toEqual({ calls: 4, divergence: null, limits: [] });
    // another value, another errno
    expect(compareRun(prog, rets, 'call 0 = 4\n', 4).divergence).toMatchObject({ call: 0, model: '3', c: '4' });
    expect(compareRun(prog, rets, 'call 0 = 3\ncall 1 = 5\ncall 2 = -1 (errno 38, ENOSYS)\ncall 3 = -1 (errno 9, EBADF)\n', 4).divergence).toMatchObject({ call: 3, model: '0', c: '-EBADF' });
    // an mmap that failed on one side only
    expect(compareRun(prog, rets, 'call 0 = 3\ncall 1 = -1 (errno 19, ENODEV)\n', 4).divergence).toMatchObject({ call: 1, c: '-ENODEV' });
    // getegid (50): the ARM entry answers it, the harness's layer does not; the comparison goes on
    const r = compareRun(prog, rets, 'call 0 = 3\ncall 1 = 5\ncall 2 = 0\ncall 3 = 0\n', 4);
    expect(r.divergence).toBeNull();
    expect(r.calls).toBe(4);
    expect(r.limits).toEqual([expect.objectContaining({ call: 2, model: '-ENOSYS', c: '0', limit: 'raw-abi-only' })]);
    // a number used as a pointer into the C program's image (0x10000..): mapped in C, -EFAULT in the harness
    const img: Call[] = [{ op: 'ioctl', p: 0, fd: { k: 'iommufd', i: 0 }, req: 0x3b70, arg: { t: 'int', v: 0x10000 } }, { op: 'raw', p: 0, nr: 91, args: [0x10000, 2, 0, 0, 0, 0] }];
    expect(compareRun(img, ['-EFAULT'], 'call 0 = -1 (errno 19, ENODEV)\n', 1).divergence).toMatchObject({ limit: 'c-image' });
    expect(compareRun(img, ['-ENODEV', '0'], 'call 0 = -1 (errno 19, ENODEV)\nNOT REPRODUCED none: the process was killed by signal 11 in call 1\n', 2).divergence).toMatchObject({ call: 1, limit: 'c-image' });
    // ... but not a pointer elsewhere
    expect(compareRun([{ ...img[0]!, arg: { t: 'int', v: 0x1000 } } as Call], ['-EFAULT'], 'call 0 = -1 (errno 19, ENODEV)\n', 1).divergence).not.toHaveProperty('limit');
    // a divergence after it is marked
    expect(compareRun(prog, rets, 'call 0 = 3\ncall 1 = 5\ncall 2 = 0\ncall 3 = -1 (errno 9, EBADF)\n', 4).divergence).toMatchObject({ call: 3, afterLimit: true });
    // the program ended before a call: a divergence at that call
    expect(compareRun(prog, rets, 'call 0 = 3\nNOT REPRODUCED none: the process was killed by signal 11 in call 1\n', 4).divergence).toMatchObject({ call: 1, c: 'the process was killed by signal 11 in call 1' });
    expect(compareRun(prog, rets, 'call 0 = 3\ncall 1 = 5\n', 2)).toEqual({ calls: 2, divergence: null, limits: [] });
    // no result where the harness answered -EAGAIN: the C call sleeps (the harness's entry never does)
    expect(compareRun(prog, ['3', '-EAGAIN'], 'call 0 = 3\n', 2).divergence).toMatchObject({ call: 1, limit: 'blocks' });
  });

  it('draws the campaign\'s programs: deterministic for a seed, with the set-up prefixes', () => {
    const a = drawPrograms('mainline', 1, 6);
    expect(a).toHaveLength(6);
    expect(drawPrograms('mainline', 1, 6)).toEqual(a);
    expect(drawPrograms('mainline', 2, 6)).not.toEqual(a);
    expect(a.some((p) => p[0]?.op === 'open')).toBe(true);
  });

  it('the harness: an echo\'s path stays in the scratch buffer, which GET_HW_INFO\'s tail reads (-E2BIG), the shorter size -ENOENT', () => {
    const { harness } = runProgram('mainline', ECHO_HW_INFO, { transcript: true });
    expect(harness.transcript.map((t) => t.ret)).toEqual(ECHO_RETS);
  });

  it.skipIf(shouldSkipUnicornTests())('the C reproducer lays the echo out as the harness does: every call returns what the harness returned', () => {
    const { calls, stdout } = reproUnderUnicorn('echohwinfo', ECHO_HW_INFO);
    expect(calls).toEqual(asCallLines(ECHO_RETS));
    expect(stdout).toMatch(/^call 2 = -1 \(errno 7\b/m);
  });

  it.skipIf(shouldSkipUnicornTests())('a store through a read-only device mapping kills the process in both (a user fault, not an Oops), and the slot\'s next call gets a fresh one', () => {
    const { harness } = runProgram('mainline', RO_STORE, { transcript: true });
    const rets = harness.transcript.map((t) => t.ret);
    expect(rets[6]).toBe("write not permitted by the mapping's protection (r--)");
    expect(rets[7]).toBe('0');
    const { stdout } = reproUnderUnicorn('rostore', RO_STORE);
    expect(stdout).toContain("call 6 = killed by signal 11, as the model's process was\ncall 7 = 0\n");
    expect(compareRun(RO_STORE, rets, stdout, RO_STORE.length)).toEqual({ calls: RO_STORE.length, divergence: null, limits: [] });
  });

  it.skipIf(shouldSkipUnicornTests())('an eventfd a raw eventfd (351) made is an eventfd of the program in both: efd_write on eventfd[0] writes to it', () => {
    // rfc-v4 seed 1's program 66: the C program did not track it (-EBADF where the harness wrote 8 bytes)
    const prog: Call[] = [
      { op: 'raw', p: 0, nr: 351, args: [0xffffffff, 2, 1, 0x7fffffff, 4, 0xfffffffe] },
      { op: 'efd_write', p: 0, fd: { k: 'eventfd', i: 0 }, value: '0x1' },
      { op: 'raw', p: 0, nr: 356, args: [0, 0x800, 0, 0, 0, 0] },
      { op: 'efd_write', p: 0, fd: { k: 'eventfd', i: 1 }, value: '0x2' },
      { op: 'close', p: 0, fd: { k: 'eventfd', i: 0 } },
      { op: 'close', p: 0, fd: { k: 'eventfd', i: 0 } },
      { op: 'efd_write', p: 0, fd: { k: 'eventfd', i: 0 }, value: '0x2' },
    ];
    const rets = runProgram('rfc-v4', prog, { transcript: true }).harness.transcript.map((t) => t.ret);
    expect(rets).toEqual(['0', '8', '1', '8', '0', '0', '-EBADF']);
    const { calls } = reproUnderUnicorn('raweventfd', prog, 'rfc-v4');
    expect(calls).toEqual(asCallLines(rets));
  });

  it.skipIf(shouldSkipUnicornTests())('the tool on four programs of mainline seed 1: each compared call by call, no divergence but the known limits', () => {
    const r = differential({ profile: 'mainline', seed: 1, n: 4, workDir: tempDir('fdiff') });
    expect(r.compared + r.refused).toBe(4);
    expect(r.compared).toBeGreaterThanOrEqual(3);
    expect(r.calls).toBeGreaterThan(60);
    expect(r.divergences.filter((d) => !d.limit)).toEqual([]);
  }, 120_000);
});
