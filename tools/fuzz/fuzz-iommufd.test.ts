/**
 * The iommufd / VFIO cdev part of the fuzzer (arb-iommufd.ts, model-iommufd.ts,
 * harness-iommufd.ts): short campaigns stay clean on mainline and reach the success paths,
 * 2014 profiles never do, every close order releases everything, and an injected pin leak
 * or a wrong object id is caught.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { IOMMUFD_PREFIX } from './arb-iommufd.js';
import { SETUP_PREFIX, iommufdOf } from './arb.js';
import { runArb, runCampaign, runProgram, unwrap, type CampaignResult } from './engine.js';
import type { Call } from './program.js';
import { IoptPages } from '../../kernel-model/iommu/iommufd/pages.js';
import { IommufdCtx } from '../../kernel-model/iommu/iommufd/objects.js';
import { ATTR_NS } from '../../emulator/attrs.js';

let mainline: CampaignResult;
beforeAll(() => {
  mainline = runCampaign({ profile: 'mainline', seed: 23, runs: 150 });
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
