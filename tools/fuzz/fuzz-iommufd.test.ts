/**
 * The iommufd / VFIO cdev part of the fuzzer (arb-iommufd.ts, model-iommufd.ts,
 * harness-iommufd.ts): short campaigns stay clean on mainline and reach the success paths,
 * 2014 profiles never do, every close order releases everything, and an injected pin leak
 * or a wrong object id is caught. IOMMU_FAULT_QUEUE_ALLOC and its fault fd: generated and
 * followed by the model in a campaign, each answer of a hand-written program, the context's
 * life while a fault fd holds it (compat container included), and injected faults of the fault
 * file's release and read caught.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { IOMMUFD_PREFIX } from './arb-iommufd.js';
import { SETUP_PREFIX, iommufdOf } from './arb.js';
import { execCall, runArb, runCampaign, runProgram, unwrap, type CampaignResult } from './engine.js';
import { Harness } from './harness.js';
import { makeRefs, type Call, type FdRef } from './program.js';
import { IOMMUFD_REQS } from './program-iommufd.js';
import { IoptPages } from '../../kernel-model/iommu/iommufd/pages.js';
import { IommufdCtx } from '../../kernel-model/iommu/iommufd/objects.js';
import { IOMMUFD_FAULT_FOPS, type IommufdFault } from '../../kernel-model/iommu/iommufd/fault.js';
import { ATTR_NS } from '../../emulator/attrs.js';

let mainline: CampaignResult;
beforeAll(() => {
  // seed 2 since the iommufd and fault fd arguments are resource-typed (FdRef.mk: BIND's iommufd is
  // mostly the process's own, made when it has none; seed 12's 150 runs no longer reach BIND's EBADF);
  // seed 12 since HWPT_ALLOC and IOAS_COPY draw success-biased arguments and HWPT_PREFIX joined the
  // prefixes (seed 2's 150 runs no longer reach BIND's EBADF); seed 2 since VFIO_IOMMU_DIRTY_PAGES joined
  // the mainline draws (seed 36's no longer reached IOAS_UNMAP's ENOENT); seed 36 since IOMMU_VFIO_IOAS
  // did (seed 23's no longer reached IOAS_MAP's EFAULT)
  mainline = runCampaign({ profile: 'mainline', seed: 2, runs: 150 });
});

const restore: (() => void)[] = [];
afterEach(() => {
  while (restore.length) restore.pop()!();
});

describe('iommufd fuzzing: mainline', () => {
  it('a short campaign is clean and reaches BIND, ATTACH and IOAS_MAP success', () => {
    expect(mainline.findings.map((f) => `${f.sig}: ${f.message}`)).toEqual([]);
    const ok = mainline.okCounts ?? {};
    expect(ok['device:VFIO_DEVICE_BIND_IOMMUFD'] ?? 0).toBeGreaterThan(20);
    expect(ok['device:VFIO_DEVICE_ATTACH_IOMMUFD_PT'] ?? 0).toBeGreaterThan(10);
    expect(ok['iommufd:IOMMU_IOAS_MAP'] ?? 0).toBeGreaterThan(10);
    expect(ok['iommufd:IOMMU_IOAS_ALLOC'] ?? 0).toBeGreaterThan(20);
    // HWPT_ALLOC (HWPT_PREFIX's and generated ones) and IOAS_COPY, each predicted by the model
    expect(ok['iommufd:IOMMU_HWPT_ALLOC'] ?? 0).toBeGreaterThan(10);
    expect(ok['iommufd:IOMMU_IOAS_COPY'] ?? 0).toBeGreaterThan(0);
    expect(mainline.coverage['iommufd:IOMMU_IOAS_UNMAP']).toEqual(expect.arrayContaining(['ENOENT']));
    // and the error paths of the new calls
    expect(mainline.coverage['iommufd:IOMMU_IOAS_MAP']).toEqual(expect.arrayContaining(['ENOENT', 'EINVAL', 'EFAULT']));
    expect(mainline.coverage['device:VFIO_DEVICE_BIND_IOMMUFD']).toEqual(expect.arrayContaining(['ok', 'EBADF']));
  });

  it('the happy path pins, and every close order (and plain exit) releases every pin and object', () => {
    const closeI: Call = { op: 'close', p: 0, fd: { k: 'iommufd', i: 0 } };
    const closeD: Call = { op: 'close', p: 0, fd: { k: 'device', i: 0 } };
    const detach: Call = { op: 'ioctl', p: 0, fd: { k: 'device', i: 0 }, req: 0x3b78, arg: { t: 'struct', type: 'vfio_device_detach_iommufd_pt', fields: { argsz: 8, flags: 0 }, ptr: 'ok' } };
    const unmap: Call = { op: 'ioctl', p: 0, fd: { k: 'iommufd', i: 0 }, req: 0x3b86, arg: { t: 'struct', type: 'iommu_ioas_unmap', fields: { argsz: 24, ioas_id: 2, iova: 0x100000, length: 0x4000 }, ptr: 'ok' } };
    for (const tail of [[], [closeI], [closeD], [closeI, closeD], [closeD, closeI], [detach, closeI], [unmap, closeD], [{ op: 'exit', p: 0 } as Call]]) {
      const { finding, harness } = runProgram('mainline', [...IOMMUFD_PREFIX, ...tail], { transcript: true });
      expect(finding, JSON.stringify(tail)).toBeNull();
      // the prefix's calls all succeeded: bind, IOAS 2, attach, 4 pages mapped
      expect(harness.transcript.slice(0, IOMMUFD_PREFIX.length).map((t) => t.ret)).toEqual(['0', '1', '0', '0', '0', '0']);
      expect(harness.sys.iommufd!.contexts.size).toBe(0);
      expect(harness.sys.iommufd!.userLockedVm.total()).toBe(0);
    }
    // while mapped, the pins are visible to the invariant's accounting
    const { harness } = runProgram('mainline', IOMMUFD_PREFIX.slice(0, 6));
    expect(harness.slots[0]!.proc.mm.pinnedVm).toBe(0); // finish() ran: released
  });

  it('exclusion: with the group path holding the device, BIND_IOMMUFD fails, and the run stays clean', () => {
    const group: Call[] = [
      { op: 'open', p: 0, path: '/dev/vfio/vfio', flags: 2 },
      { op: 'open', p: 0, path: '/dev/vfio/0', flags: 2 },
      { op: 'ioctl', p: 0, fd: { k: 'group', i: 0 }, req: 0x3b68, arg: { t: 'struct', type: 'int32', fields: { v: { fd: { k: 'container', i: 0 } } }, ptr: 'ok' } },
      { op: 'ioctl', p: 0, fd: { k: 'container', i: 0 }, req: 0x3b66, arg: { t: 'int', v: 1 } },
      { op: 'ioctl', p: 0, fd: { k: 'group', i: 0 }, req: 0x3b6a, arg: { t: 'str', s: '2c0a0000.dma', nul: true, ptr: 'ok' } },
    ];
    const { finding, harness } = runProgram('mainline', [...group, ...IOMMUFD_PREFIX.slice(0, 3)], { transcript: true });
    expect(finding).toBeNull();
    const bind = harness.transcript.find((t) => /BIND_IOMMUFD/.test(t.line))!;
    expect(bind.ret).toMatch(/^-E/);
  });

  it('an injected pin leak (IOAS pages never unpinned) is caught at the end of the run', () => {
    const drop = IoptPages.prototype.drop;
    restore.push(() => (IoptPages.prototype.drop = drop));
    IoptPages.prototype.drop = function () {};
    const { finding } = runProgram('mainline', IOMMUFD_PREFIX);
    expect(finding?.sig).toMatch(/^(leak-pinned|leak-pinned-vm|leak-user-locked-vm|pinned-pages|pin-count|pinned-vm|user-locked-vm)$/);
  });

  it('an injected leak in an unmap is caught at the call', () => {
    const drop = IoptPages.prototype.drop;
    restore.push(() => (IoptPages.prototype.drop = drop));
    IoptPages.prototype.drop = function () {};
    const unmap: Call = { op: 'ioctl', p: 0, fd: { k: 'iommufd', i: 0 }, req: 0x3b86, arg: { t: 'struct', type: 'iommu_ioas_unmap', fields: { argsz: 24, ioas_id: 2, iova: 0x100000, length: 0x4000 }, ptr: 'ok' } };
    const { finding } = runProgram('mainline', [...IOMMUFD_PREFIX, unmap]);
    expect(finding?.step).toBe(IOMMUFD_PREFIX.length);
    expect(finding?.sig).toMatch(/^(pinned-pages|pin-count|pinned-vm|user-locked-vm)$/);
  });

  it('the model catches object ids handed out against the xarray rule', () => {
    const reserve = IommufdCtx.prototype.reserve;
    restore.push(() => (IommufdCtx.prototype.reserve = reserve));
    // the unpatched rule is clean (the happy-path test); here ids start at 5
    IommufdCtx.prototype.reserve = function (this: IommufdCtx, obj) {
      let id = 5;
      while (this.objects.has(id)) id++;
      obj.id = id;
      (this as unknown as { pending: Set<number> }).pending.add(id);
      return id;
    };
    const { finding } = runProgram('mainline', IOMMUFD_PREFIX.slice(0, 4));
    expect(finding?.sig).toBe('model-divergence:iommufd');
    expect(finding?.message).toMatch(/lowest free id is 1/);
  });

  it("the model's comparison names a divergent object set, a divergent IOAS and, of two divergent objects, the lowest id", () => {
    const nop: Call = { op: 'run', ns: 1000 };
    const live = (): { h: Harness; ctx: IommufdCtx } => {
      const h = new Harness({ profile: 'mainline' });
      for (const c of IOMMUFD_PREFIX) expect(execCall(h, c)).toBeNull();
      expect(execCall(h, nop)).toBeNull();
      return { h, ctx: [...h.sys.iommufd!.contexts][0]! };
    };
    // an object the model did not see created
    let { h, ctx } = live();
    const ioas = ctx.objects.get(2)!;
    ctx.objects.set(7, ioas);
    let f = execCall(h, nop);
    expect(f?.sig).toBe('model-divergence:iommufd');
    expect(f?.message).toBe('iommufd objects [1:device,2:ioas,3:hwpt-paging,7:ioas], the model has [1:device,2:ioas,3:hwpt-paging]');
    // the same number of objects under another id
    ({ h, ctx } = live());
    ctx.objects.set(7, ctx.objects.get(2)!);
    ctx.objects.delete(2);
    expect(execCall(h, nop)?.message).toBe('iommufd objects [1:device,3:hwpt-paging,7:ioas], the model has [1:device,2:ioas,3:hwpt-paging]');
    // an area the model did not see change
    ({ h, ctx } = live());
    const area = (ctx.objects.get(2) as unknown as { iopt: { areas: { last: number }[] } }).iopt.areas[0]!;
    area.last += 0x1000;
    f = execCall(h, nop);
    expect(f?.sig).toBe('model-divergence:iommufd');
    expect(f?.message).toBe('IOAS 2: areas [100000-104fff], the model has [100000-103fff]');
    // the device and the IOAS swapped, the table in the order 3, 2, 1: the auto HWPT (3) now sits
    // on the device, ids 1 and 2 have the wrong types; the lowest id's divergence is named
    ({ h, ctx } = live());
    const dev = ctx.objects.get(1)!;
    const io = ctx.objects.get(2)!;
    const hwpt = ctx.objects.get(3)!;
    ctx.objects.clear();
    ctx.objects.set(3, hwpt);
    ctx.objects.set(2, dev);
    ctx.objects.set(1, io);
    expect(execCall(h, nop)?.message).toBe('iommufd object 1 is a ioas, the model has a device');
  });

  it("a read through the second device's cdev fd is checked against that device's registers", () => {
    // found by `fuzz --profile mainline --seed 1 --time 10` (slice seed 280): the oracle took
    // every cdev fd for the PL330 at 0x2c0a0000 and reported the second DMAC's DSR as a
    // wrong read (rw-offset-mismatch)
    const bind: Call = { op: 'ioctl', p: 0, fd: { k: 'device', i: 0 }, req: 0x3b76, arg: { t: 'struct', type: 'vfio_device_bind_iommufd', fields: { argsz: 16, flags: 0, iommufd: { fd: { k: 'iommufd', i: 0 } }, out_devid: 0 }, ptr: 'ok' } };
    const program: Call[] = [
      ...IOMMUFD_PREFIX.slice(0, 6),
      { op: 'close', p: 0, fd: { k: 'device', i: 0 } },
      { op: 'open', p: 0, path: '/dev/vfio/devices/vfio1', flags: 2 },
      bind,
      { op: 'pread', p: 0, fd: { k: 'device', i: 0 }, off: { region: 0, off: 0 }, count: 4, ptr: 'ok' },
    ];
    const { finding, harness } = runProgram('mainline', program, { transcript: true });
    expect(finding).toBeNull();
    expect(harness.transcript.map((t) => t.ret).slice(-3)).toEqual(['1', '0', '4']);
    // the two devices' registers differ here, so reading the wrong one is a finding
    const bus = harness.sys.machine.bus;
    expect(bus.read(0x2c0b0000, 4, ATTR_NS)).not.toBe(bus.read(0x2c0a0000, 4, ATTR_NS));
  });
});

describe('iommufd fuzzing: 2014 profiles', () => {
  it('rfc-v4 has no /dev/iommu: the new calls never succeed', () => {
    const r = runCampaign({ profile: 'rfc-v4', seed: 23, runs: 40 });
    const ok = r.okCounts ?? {};
    expect(Object.keys(ok).filter((k) => k.startsWith('iommufd:'))).toEqual([]);
    expect(ok['device:VFIO_DEVICE_BIND_IOMMUFD'] ?? 0).toBe(0);
    expect(ok['device:VFIO_DEVICE_ATTACH_IOMMUFD_PT'] ?? 0).toBe(0);
    const { harness } = runProgram('rfc-v4', IOMMUFD_PREFIX.slice(0, 2), { transcript: true });
    expect(harness.transcript.map((t) => t.ret)).toEqual(['-ENOENT', '-ENOENT']);
  });

  it('the 2014 profiles draw no iommufd set-up and the iommufd calls at a token weight; mainline draws both as before', () => {
    expect([iommufdOf('rfc-v4'), iommufdOf('patches:1-9'), iommufdOf('baseline'), iommufdOf('mainline')]).toEqual([false, false, false, true]);
    const isIommufd = (c: Call): boolean =>
      (c.op === 'open' && (c.path === '/dev/iommu' || c.path.startsWith('/dev/vfio/devices'))) || ('fd' in c && typeof c.fd === 'object' && 'k' in c.fd && c.fd.k === 'iommufd');
    const draw = (iommufd: boolean) => {
      let iommufdPrefix = 0;
      let wholeGroup = 0;
      let calls = 0;
      let iommufdCalls = 0;
      for (const [n, cmds] of fc.sample(runArb(64, iommufd), { seed: 7, numRuns: 400 })) {
        if (n > SETUP_PREFIX.length) iommufdPrefix++;
        if (n === SETUP_PREFIX.length) wholeGroup++;
        for (const c of cmds) {
          calls++;
          if (isIommufd(unwrap(c))) iommufdCalls++;
        }
      }
      return { iommufdPrefix, wholeGroup, share: iommufdCalls / calls };
    };
    const old = draw(true);
    const y2014 = draw(false);
    // mainline: about a third of the runs start on the iommufd path
    expect(old.iommufdPrefix).toBeGreaterThan(400 / 5);
    // 2014: none do, and over half start with the whole group set-up (1:1 whole or a part, the part can be whole)
    expect(y2014.iommufdPrefix).toBe(0);
    expect(y2014.wholeGroup).toBeGreaterThan(200);
    // the iommufd/cdev calls: weight 1 instead of 14 of the call mix, still drawn
    expect(y2014.share).toBeGreaterThan(0);
    expect(y2014.share).toBeLessThan(old.share / 5);
  });
});

// ------------------------------------------------------------------ IOMMU_FAULT_QUEUE_ALLOC

const IFD: FdRef = { k: 'iommufd', i: 0 };
const FQ: FdRef = { k: 'fault', i: 0 };
const faultAlloc = (flags = 0, fd: FdRef = IFD): Call => ({ op: 'ioctl', p: 0, fd, req: IOMMUFD_REQS.IOMMU_FAULT_QUEUE_ALLOC, arg: { t: 'struct', type: 'iommu_fault_alloc', fields: { argsz: 16, flags, out_fault_id: 0, out_fault_fd: 0 }, ptr: 'ok' } });
const destroy = (id: number): Call => ({ op: 'ioctl', p: 0, fd: IFD, req: IOMMUFD_REQS.IOMMU_DESTROY, arg: { t: 'struct', type: 'iommu_destroy', fields: { argsz: 8, id }, ptr: 'ok' } });
const isFaultAlloc = (c: Call): boolean => c.op === 'ioctl' && c.req === IOMMUFD_REQS.IOMMU_FAULT_QUEUE_ALLOC;

describe('iommufd fuzzing: IOMMU_FAULT_QUEUE_ALLOC and the fault fd', () => {
  let fq: CampaignResult;
  beforeAll(() => {
    // seed 8 since HWPT_ALLOC / IOAS_COPY's draws and HWPT_PREFIX changed the mainline programs (seed
    // 13's 600 runs no longer drew a FAULT_QUEUE_ALLOC with flags); seed 13 since VFIO_IOMMU_DIRTY_PAGES
    // joined the mainline draws (seed 7's 600 runs gave 5 fault queues); seed 7 since IOMMU_VFIO_IOAS did
    // (seed 14's gave 8)
    fq = runCampaign({ profile: 'mainline', seed: 8, runs: 600 });
  });

  it('a campaign generates it (flags mostly 0), runs it and the calls on the fault fds, and the model follows them clean', () => {
    expect(fq.findings.map((f) => `${f.sig}: ${f.message}`)).toEqual([]);
    expect(fq.okCounts?.['iommufd:IOMMU_FAULT_QUEUE_ALLOC'] ?? 0).toBeGreaterThanOrEqual(10);
    // a non-zero flags word is refused
    expect(fq.coverage['iommufd:IOMMU_FAULT_QUEUE_ALLOC']).toEqual(expect.arrayContaining(['ok', 'EOPNOTSUPP']));
    // the fault fds were reached by read/write and by an ioctl (the coverage row of the fd kind `fault`)
    expect(Object.keys(fq.coverage).filter((k) => k.startsWith('fault:')).sort()).toEqual(['fault:read', 'fault:unknown', 'fault:write']);
  });

  it('a hand-written program gets each answer the model predicts: ids, fds, DESTROY -EBUSY then 0, read/write/pread/poll/ioctl on the fault fd', () => {
    const program: Call[] = [
      ...IOMMUFD_PREFIX, // ids 1 device, 2 IOAS, 3 auto HWPT; fds 0 iommufd, 1 cdev
      faultAlloc(1),
      faultAlloc(),
      destroy(4),
      { op: 'read', p: 0, fd: FQ, count: 80, ptr: 'ok' },
      { op: 'read', p: 0, fd: FQ, count: 41, ptr: 'ok' },
      { op: 'write', p: 0, fd: FQ, count: 8, ptr: 'ok' },
      { op: 'write', p: 0, fd: FQ, count: 16, ptr: 'unmapped' },
      { op: 'write', p: 0, fd: FQ, count: 12, ptr: 'ok' },
      { op: 'write', p: 0, fd: FQ, count: 0, ptr: 'ok' },
      { op: 'pread', p: 0, fd: FQ, off: { region: 0, off: 0 }, count: 40, ptr: 'ok' },
      { op: 'poll', p: 0, fds: [FQ], events: 5 },
      { op: 'ioctl', p: 0, fd: FQ, req: IOMMUFD_REQS.IOMMU_DESTROY, arg: { t: 'int', v: 0 } },
      { op: 'close', p: 0, fd: FQ },
      destroy(4),
      faultAlloc(),
    ];
    const { finding, harness } = runProgram('mainline', program, { transcript: true });
    expect(finding).toBeNull();
    expect(harness.transcript.slice(IOMMUFD_PREFIX.length).map((t) => t.ret)).toEqual([
      '-EOPNOTSUPP',
      '0',
      '-EBUSY', // the open fault fd holds the object
      '0', // nothing queued
      '-ESPIPE', // not a multiple of struct iommu_hwpt_pgfault
      '-EINVAL', // a response with a cookie nobody was given
      '8', // a response it cannot read: copy_from_user's remainder, positive
      '-ESPIPE',
      '0',
      '-ESPIPE', // no FMODE_PREAD
      '1', // POLLOUT
      '-ENOTTY',
      '0',
      '0', // the fd closed, DESTROY works
      '0', // id 4 again, fd 2 again
    ]);
    expect(harness.transcript[IOMMUFD_PREFIX.length + 1]!.line).toMatch(/IOMMU_FAULT_QUEUE_ALLOC/);
  });

  it('the context lives while a fault fd holds it, whatever closes first, and goes at exit', () => {
    for (const profile of ['mainline', 'mainline+iommufd-compat']) {
      // the compat container is an iommufd too: its fault fd holds the context the container part of the model follows
      const ctxFd: FdRef = profile === 'mainline' ? IFD : { k: 'container', i: 0 };
      const open: Call = { op: 'open', p: 0, path: profile === 'mainline' ? '/dev/iommu' : '/dev/vfio/vfio', flags: 2 };
      const cases: [Call[], number[]][] = [
        // [calls after open + alloc, live contexts after each]
        [[{ op: 'close', p: 0, fd: ctxFd }, { op: 'read', p: 0, fd: FQ, count: 40, ptr: 'ok' }, { op: 'close', p: 0, fd: FQ }], [1, 1, 0]],
        [[{ op: 'close', p: 0, fd: FQ }, { op: 'close', p: 0, fd: ctxFd }], [1, 0]],
        [[{ op: 'close', p: 0, fd: ctxFd }, { op: 'exit', p: 0 }], [1, 0]],
      ];
      for (const [tail, live] of cases) {
        const h = new Harness({ profile, transcript: true });
        for (const c of [open, faultAlloc(0, ctxFd)]) expect(execCall(h, c)).toBeNull();
        expect(h.transcript.map((t) => t.ret)).toEqual(['0', '0']);
        tail.forEach((c, i) => {
          expect(execCall(h, c), `${profile} ${JSON.stringify(c)}`).toBeNull();
          expect(h.sys.iommufd!.contexts.size, `${profile} after ${JSON.stringify(c)}`).toBe(live[i]);
        });
        h.finish();
      }
    }
  });

  it("an injected leak of the context reference in the fault file's release is found by a campaign, in a program with the call", () => {
    const release = IOMMUFD_FAULT_FOPS.release;
    restore.push(() => (IOMMUFD_FAULT_FOPS.release = release));
    IOMMUFD_FAULT_FOPS.release = (f) => {
      (f.priv as IommufdFault).users--; // the object's reference goes, the context's (iommufd_ctx_put) does not
    };
    const r = runCampaign({ profile: 'mainline', seed: 7, runs: 200 });
    expect(r.findings.length).toBeGreaterThan(0);
    const f = r.findings[0]!;
    expect(f.sig).toMatch(/^(model-divergence:iommufd|leak-iommufd)$/);
    // the call, or a fault fd a resource-typed ref made (FdRef.mk: the shrink may keep only that)
    expect(f.program.some((c) => isFaultAlloc(c) || makeRefs(c).some((r) => r.k === 'fault'))).toBe(true);
  });

  it("an injected leak of the object reference in the fault file's release shows at the DESTROY after the close", () => {
    const release = IOMMUFD_FAULT_FOPS.release;
    restore.push(() => (IOMMUFD_FAULT_FOPS.release = release));
    IOMMUFD_FAULT_FOPS.release = (f) => {
      const fault = f.priv as IommufdFault;
      fault.ictx.svc.ctxPut(fault.ictx); // the context's reference goes, the object's does not
    };
    const program: Call[] = [{ op: 'open', p: 0, path: '/dev/iommu', flags: 2 }, faultAlloc(), { op: 'close', p: 0, fd: FQ }, destroy(1)];
    const { finding } = runProgram('mainline', program);
    expect(finding?.sig).toBe('model-divergence:iommufd');
    expect(finding?.step).toBe(3);
    expect(finding?.message).toMatch(/DESTROY\(1\) of a fault object whose fd is closed returned -16/);
  });

  it('an injected read that ignores the 40-byte record size is caught at that read', () => {
    const read = IOMMUFD_FAULT_FOPS.read;
    restore.push(() => (IOMMUFD_FAULT_FOPS.read = read));
    IOMMUFD_FAULT_FOPS.read = () => 0;
    const program: Call[] = [{ op: 'open', p: 0, path: '/dev/iommu', flags: 2 }, faultAlloc(), { op: 'read', p: 0, fd: FQ, count: 40, ptr: 'ok' }, { op: 'read', p: 0, fd: FQ, count: 12, ptr: 'ok' }];
    const { finding } = runProgram('mainline', program);
    expect(finding?.sig).toBe('model-divergence:iommufd');
    expect(finding?.step).toBe(3);
  });
});
