/**
 * Resource-typed iommufd and fault fd arguments (FdRef.mk: program.ts makeRefs,
 * arb-iommufd.ts resRef, Harness.makeResources, emit-c.ts make_fd): where the profile has
 * /dev/iommu most generated iommufd ioctls, BIND's iommufd and the fault fd calls name "the
 * process's fd of that kind, made when it has none", as syzkaller's resources (a producer call
 * made before the call that consumes the resource); a share keeps plain refs (EBADF, wrong
 * files); the 2014 trees draw none. A campaign then reaches live fault fds (before: almost
 * never), the model follows the made calls, and replays and C reproducers make them too.
 */
import { describe, expect, it } from 'vitest';
import { reproUnderUnicorn } from './testing/repro.js';
import fc from 'fast-check';
import { shouldSkipUnicornTests } from '../../emulator/cpu/unicorn/testing/guest-build.js';
import { callArbOf } from './arb.js';
import { sameCallArb } from './coverage/campaign.js';
import { slots } from './coverage/tweak.js';
import { emitC } from './emit-c.js';
import { runCampaign, runProgram } from './engine.js';
import { IOMMUFD_REQS } from './program-iommufd.js';
import { makeRefs, type Call, type Off } from './program.js';
import { FINDING_FORMAT, validateFindingFile } from './schema.js';

const faultAlloc = (p: number): Call => ({ op: 'ioctl', p, fd: { k: 'iommufd', i: 0, mk: 1 }, req: IOMMUFD_REQS.IOMMU_FAULT_QUEUE_ALLOC, arg: { t: 'struct', type: 'iommu_fault_alloc', fields: { argsz: 16, flags: 0, out_fault_id: 0, out_fault_fd: 0 }, ptr: 'ok' } });

describe('resource-typed iommufd and fault fds', () => {
  it('mainline draws them for most iommufd and fault fd calls, keeps a share of plain refs; the 2014 tree draws none', () => {
    const sample = (iommufd: boolean): Call[] => fc.sample(callArbOf(iommufd, false), { seed: 5, numRuns: 4000 });
    const onIommufd = (c: Call): boolean => 'fd' in c && !('raw' in c.fd) && (c.fd.k === 'iommufd' || c.fd.k === 'fault');
    const main = sample(true).filter(onIommufd);
    const made = main.filter((c) => makeRefs(c).length > 0).length;
    expect(main.length).toBeGreaterThan(300);
    expect(made / main.length).toBeGreaterThan(0.5);
    // the plain refs stay: calls on no such fd, closed ones, wrong kinds
    expect(made / main.length).toBeLessThan(0.9);
    expect(sample(false).filter((c) => makeRefs(c).length > 0)).toEqual([]);
  });

  it("the guided campaign's mutant of an ioctl on a resource-typed fd keeps the fd; on a plain one re-draws it", () => {
    const made = faultAlloc(0);
    const plain: Call = { op: 'ioctl', p: 0, fd: { k: 'iommufd', i: 0 }, req: IOMMUFD_REQS.IOMMU_FAULT_QUEUE_ALLOC, arg: { t: 'int', v: 0 } };
    const m1 = fc.sample(sameCallArb(made)!, { seed: 3, numRuns: 200 });
    expect(m1.every((c) => 'fd' in c && JSON.stringify(c.fd) === JSON.stringify({ k: 'iommufd', i: 0, mk: 1 }))).toBe(true);
    const m2 = fc.sample(sameCallArb(plain)!, { seed: 3, numRuns: 200 });
    expect(new Set(m2.map((c) => ('fd' in c ? JSON.stringify(c.fd) : ''))).size).toBeGreaterThan(3);
  });

  it('a call with a resource-typed fault fd in a process with no /dev/iommu makes both, the model follows, and the plain ref still gets EBADF', () => {
    const prog: Call[] = [
      // a plain ref first: no fault fd in P0
      { op: 'read', p: 0, fd: { k: 'fault', i: 0 }, count: 40, ptr: 'ok' },
      { op: 'read', p: 0, fd: { k: 'fault', i: 0, mk: 1 }, count: 40, ptr: 'ok' },
      { op: 'write', p: 0, fd: { k: 'fault', i: 1, mk: 1 }, count: 0, ptr: 'ok' },
      // a second FAULT_QUEUE_ALLOC on the made context (ids: fault 1, then 2)
      faultAlloc(0),
      { op: 'ioctl', p: 1, fd: { k: 'iommufd', i: 0, mk: 1 }, req: IOMMUFD_REQS.IOMMU_IOAS_ALLOC, arg: { t: 'struct', type: 'iommu_ioas_alloc', fields: { argsz: 12, flags: 0, out_ioas_id: 0 }, ptr: 'ok' } },
    ];
    const { finding, harness: h } = runProgram('mainline', prog, { transcript: true });
    expect(finding).toBeNull();
    const rets = h.transcript.map((t) => t.ret);
    expect(rets).toEqual(['-EBADF', '0', '0', '0', '0']);
    expect(h.transcript[1]!.line).toMatch(/made: open\("\/dev\/iommu", 02\) = \d+; .*ioctl\(iommufd\[0\], IOMMU_FAULT_QUEUE_ALLOC, &s\) = 0 \*\/ P0: read\(\d+ \/\* fault\[0\]! \*\//);
    // nothing made where the process has the fd already
    expect(h.transcript[2]!.line).not.toContain('made');
    expect(h.transcript[4]!.line).toContain('made: open("/dev/iommu"');
    expect(h.okCounts.get('made:iommufd:IOMMU_FAULT_QUEUE_ALLOC')).toBe(1);
    expect(h.okCounts.get('made:open:/dev/iommu')).toBe(2);
    // the program's own FAULT_QUEUE_ALLOC counted on its row, the made one apart
    expect(h.okCounts.get('iommufd:IOMMU_FAULT_QUEUE_ALLOC')).toBe(1);
  });

  it('pread/pwrite of a fault fd at a negative position is -EINVAL (ksys_pwrite64 checks pos first), elsewhere -ESPIPE; the loff_t is passed exactly', () => {
    // a guided campaign's finding (seed 777): pwrite at REGION_OFFSET(2^23) = 2^63, which the
    // reference model judged -ESPIPE; ksys_pread64/ksys_pwrite64 return -EINVAL for pos < 0
    // before they look the fd up, and a fault fd's file has no FMODE_PWRITE after that
    const at = (op: 'pread' | 'pwrite', off: Off): Call => ({ op, p: 0, fd: { k: 'fault', i: 0, mk: 1 }, off, count: 8, ptr: 'ok' });
    const prog: Call[] = [
      at('pwrite', { region: 1 << 23, off: 0 }),
      at('pread', { raw: '0x8000000000000000' }),
      at('pread', { raw: '0xffffffffffffffff' }),
      // the largest positive loff_t: a double would round it up to 2^63 (negative)
      at('pwrite', { raw: '0x7fffffffffffffff' }),
      at('pread', { region: 0xffff, off: 0xfff }),
    ];
    const { finding, harness: h } = runProgram('mainline', prog, { transcript: true });
    expect(finding).toBeNull();
    expect(h.transcript.map((t) => t.ret)).toEqual(['-EINVAL', '-EINVAL', '-EINVAL', '-ESPIPE', '-ESPIPE']);
    // the C reproducer passes the same 64-bit values
    const c = emitC({ profile: 'mainline', program: prog }).c;
    expect(c).toContain('(off_t)0x8000000000000000ULL');
    expect(c).toContain('(off_t)0xffffffffffffffffULL');
    expect(c).toContain('(off_t)0x7fffffffffffffffULL');
    expect(c).toContain('(off_t)0xffff0000000fffULL');
  });

  it("the guided campaign's value mutation keeps a region index the finding file's schema takes", () => {
    const call: Call = { op: 'pwrite', p: 0, fd: { k: 'fault', i: 0, mk: 1 }, off: { region: 0, off: 0 }, count: 8, ptr: 'ok' };
    const slot = slots(call).find((s) => s.v === 0 && JSON.stringify(s.put(0xffffffff)).includes('"region"') && (s.put(7) as { off: { region: number } }).off.region === 7)!;
    for (const v of [0xffffffff, 1 << 23, 0x10000, 0x10001, 0x80000000]) {
      const mutant = slot.put(v);
      const file = { format: FINDING_FORMAT, version: 1, profile: 'mainline', sig: 'x', message: '', seed: 1, program: [mutant], transcript: [] };
      expect(() => validateFindingFile(JSON.parse(JSON.stringify(file)))).not.toThrow();
    }
  });

  it('finding files keep the ref, and the C reproducer makes the fds before the call', () => {
    const prog: Call[] = [{ op: 'poll', p: 0, fds: [{ k: 'fault', i: 0, mk: 1 }], events: 5 }];
    const file = validateFindingFile(JSON.parse(JSON.stringify({ format: FINDING_FORMAT, version: 1, profile: 'mainline', sig: 'x', message: '', seed: 1, program: prog, transcript: [] })));
    expect(file.program).toEqual(prog);
    const c = emitC({ profile: 'mainline', program: prog }).c;
    expect(c).toContain('make_fd(K_FAULT);');
    expect(c.indexOf('make_fd(K_FAULT);')).toBeLessThan(c.indexOf('poll(p, 1, 0)'));
    expect(c).toContain('static void make_fd(int kind)');
  });

  it('a mainline campaign reaches live fault fds and many more FAULT_QUEUE_ALLOC successes, clean', () => {
    // seed 1, 150 runs: before the resource-typed refs 2 FAULT_QUEUE_ALLOC successes and no
    // successful read or write of a fault fd; with them 25, 2 and 6 (2026-12-07); with the
    // resource-typed device fds of ATTACH/DETACH (their draws shift the stream) 25, 0 and 4
    const r = runCampaign({ profile: 'mainline', seed: 1, runs: 150 });
    expect(r.findings.map((f) => `${f.sig}: ${f.message}`)).toEqual([]);
    const ok = r.okCounts ?? {};
    expect(ok['iommufd:IOMMU_FAULT_QUEUE_ALLOC'] ?? 0).toBeGreaterThanOrEqual(15);
    expect((ok['fault:read'] ?? 0) + (ok['fault:write'] ?? 0)).toBeGreaterThanOrEqual(3);
    expect(ok['made:iommufd:IOMMU_FAULT_QUEUE_ALLOC'] ?? 0).toBeGreaterThan(0);
  });

  it.skipIf(shouldSkipUnicornTests())('the C reproducer makes the same fds under Unicorn: every call returns what the harness returned', () => {
    const prog: Call[] = [
      { op: 'read', p: 0, fd: { k: 'fault', i: 0 }, count: 40, ptr: 'ok' },
      { op: 'read', p: 0, fd: { k: 'fault', i: 0, mk: 1 }, count: 40, ptr: 'ok' },
      { op: 'write', p: 0, fd: { k: 'fault', i: 1, mk: 1 }, count: 0, ptr: 'ok' },
      { op: 'poll', p: 1, fds: [{ k: 'fault', i: 0, mk: 1 }], events: 5 },
      { op: 'ioctl', p: 2, fd: { k: 'iommufd', i: 0, mk: 1 }, req: IOMMUFD_REQS.IOMMU_IOAS_ALLOC, arg: { t: 'struct', type: 'iommu_ioas_alloc', fields: { argsz: 12, flags: 0, out_ioas_id: 0 }, ptr: 'ok' } },
      // 64-bit positions: negative (-EINVAL) and the largest positive one (-ESPIPE)
      { op: 'pwrite', p: 0, fd: { k: 'fault', i: 0, mk: 1 }, off: { region: 1 << 23, off: 0 }, count: 8, ptr: 'ok' },
      { op: 'pread', p: 0, fd: { k: 'fault', i: 0, mk: 1 }, off: { raw: '0x7fffffffffffffff' }, count: 8, ptr: 'ok' },
    ];
    const u = reproUnderUnicorn('mkrepro', prog);
    expect(u.calls).toEqual(['call 0 = -1', 'call 1 = 0', 'call 2 = 0', 'call 3 = 1', 'call 4 = 0', 'call 5 = -1', 'call 6 = -1']);
    expect(u.stdout).toMatch(/^call 5 = -1 \(errno 22\b/m);
    expect(u.stdout).toMatch(/^call 6 = -1 \(errno 29\b/m);
    expect(u.stdout).not.toContain('differs from the model');
  });
});
