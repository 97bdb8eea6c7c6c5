/**
 * Ownership and the second group (issue 22): host drivers against group users, two groups in
 * one container, per-device groups in 2014, stall faults. Split from fuzz.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { SECOND_GROUP, SETUP_PREFIX } from './arb.js';
import { ATTR_NS } from '../../emulator/attrs.js';
import { FindingError, Harness } from './harness.js';
import { VFIO_REQS, type Call } from './program.js';
import { Smmu } from '../../devices/smmu/smmu.js';
import { SmmuView, type Leaf } from './isolation.js';
import { mapCall, status } from './testing/calls.js';

describe('ownership and the second group (issue 22)', () => {
  const echo = (path: string, value: string): Call => ({ op: 'echo', p: 0, path, value });
  function run(profile: string, calls: Call[]): { sig: string | null; h: Harness } {
    const h = new Harness({ profile, transcript: true });
    for (const c of calls) {
      try {
        h.exec(c);
      } catch (e) {
        if (e instanceof FindingError) return { sig: e.finding.sig, h };
        throw e;
      }
    }
    return { sig: null, h };
  }

  const touch: Call = { op: 'close', p: 0, fd: { raw: 999 } };
  /** the host driver bound to the PL330 while its group is in a container (the AMBA bus in mainline) */
  const bindHost = (bus: string, vfio: string): Call[] => [
    ...SETUP_PREFIX.slice(0, 3),
    echo(`/sys/bus/${bus}/drivers/${vfio}/unbind`, '2c0a0000.dma'),
    echo(`/sys/bus/${bus}/devices/2c0a0000.dma/driver_override`, ''),
    echo(`/sys/bus/${bus}/drivers/dma-pl330/bind`, '2c0a0000.dma'),
  ];

  it('binding a host driver into a group user space holds: the 3.14 BUG_ON; mainline revokes the group with its last VFIO device, so the bind goes through and GET_STATUS is -ENODEV (AMBA paths)', () => {
    const old = run('rfc-v4', bindHost('platform', 'vfio-platform'));
    expect(old.sig).toBe('oops:bug:vfio_iommu_group_notifier');
    const ml = run('mainline', [...bindHost('amba', 'vfio-amba'), status]);
    expect(ml.sig).toBeNull();
    expect(ml.h.transcript.map((t) => t.ret)).toEqual(['0', '1', '0', '0', '0', '0', '-ENODEV']);
  });

  it('the ownership invariant catches a group held by both a host driver and a container, and a wrong owner_cnt', () => {
    const a = run('mainline', SETUP_PREFIX.slice(0, 3));
    expect(a.sig).toBeNull();
    const dev = a.h.sys.kernel.driverCore.findDeviceOnAnyBus('2c0a0000.dma')!;
    (dev as { driver: unknown }).driver = a.h.sys.kernel.drivers.pl330; // bound behind the IOMMU core's back
    expect(run2(a.h, touch)).toBe('ownership');
    const b = run('mainline', SETUP_PREFIX.slice(0, 3));
    expect(b.sig).toBeNull();
    (b.h.sys.kernel.iommu.groupOf(b.h.sys.kernel.driverCore.findDeviceOnAnyBus('2c0a0000.dma')!) as { ownerCnt: number }).ownerCnt = 0;
    expect(run2(b.h, touch)).toBe('ownership');
  });

  it('two groups in one container: both streams translate through its mappings; a stream of a free group in its bank is caught', () => {
    for (const profile of ['rfc-v4', 'mainline']) {
      const { sig, h } = run(profile, [...SETUP_PREFIX, ...SECOND_GROUP, mapCall, touch]);
      expect(sig, profile).toBeNull();
      expect(h.devices.map((d) => d.group)).toEqual([0, 1]);
      const smmu = h.sys.machine.devices.find((d) => d.mmio[0] instanceof Smmu)!.mmio[0] as Smmu;
      const view = new SmmuView(smmu, h.sys.machine.bus);
      for (const sid of [1, 2]) {
        const r = view.route(sid);
        expect(r.kind, `${profile} stream ${sid}`).toBe('translate');
        const leaves: Leaf[] = [];
        if (r.kind === 'translate') view.leaves(r.cb, (l) => leaves.push(l));
        expect(leaves.map((l) => l.va)).toEqual([0x10000, 0x11000]);
      }
    }
    // rfc-v4, only the PL330's group attached: stream 2 forged into its context bank
    const { sig, h } = run('rfc-v4', [...SETUP_PREFIX, mapCall]);
    expect(sig).toBeNull();
    const smmu = h.sys.machine.devices.find((d) => d.mmio[0] instanceof Smmu)!.mmio[0] as Smmu;
    const cb = (new SmmuView(smmu, h.sys.machine.bus).route(1) as { cb: number }).cb;
    smmu.write(0xc00 + 4 * 7, 4, cb, ATTR_NS); // S2CR7: translate in that bank
    smmu.write(0x800 + 4 * 7, 4, 0x8000_0002, ATTR_NS); // SMR7: valid, stream 2
    expect(run2(h, touch)).toBe('dma-cross-group');
  });
});

describe('per-device groups in 2014 (issue 22)', () => {
  it('the shared-group board: rfc-v4 gives each master its own group, and the shared stream id lets the free group into the user bank (dma-cross-group); mainline makes one group, clean', () => {
    const open = (h: Harness, calls: Call[]): string | null => {
      for (const c of calls) {
        const s = run2(h, c);
        if (s) return s;
      }
      return null;
    };
    const old = new Harness({ profile: 'rfc-v4', board: 'vexpress-vfio-shared-group' });
    expect(old.devices.map((d) => d.group)).toEqual([0, 1]);
    expect(open(old, SETUP_PREFIX)).toBe('dma-cross-group');
    const ml = new Harness({ profile: 'mainline', board: 'vexpress-vfio-shared-group' });
    expect(ml.devices.map((d) => d.group)).toEqual([0, 0]);
    expect(open(ml, [...SETUP_PREFIX, { op: 'ioctl', p: 0, fd: { k: 'group', i: 0 }, req: VFIO_REQS.VFIO_GROUP_GET_DEVICE_FD, arg: { t: 'str', s: '2c0b0000.dma', nul: true, ptr: 'ok' } }])).toBeNull();
  });
});

describe('stall faults (issue 22)', () => {
  it('test-dma copying from an unmapped IOVA: a stalled transaction in rfc-v4, resumed by the context fault handler; terminated at once in mainline', () => {
    const mmio = (off: number, value: number): Call => ({ op: 'mmio', p: 0, map: 0, off, width: 4, write: true, value });
    for (const [profile, stalls] of [['rfc-v4', 1], ['mainline', 0]] as const) {
      const h = new Harness({ profile, transcript: true });
      const calls: Call[] = [
        ...SETUP_PREFIX,
        ...SECOND_GROUP,
        { op: 'mmap', p: 0, fd: { k: 'device', i: 1 }, len: 0x1000, prot: 3, flags: 1, off: { region: 0, off: 0 } },
        mmio(0, 0x40000), // SRC: unmapped
        mmio(4, 0x50000), // DST: unmapped
        mmio(8, 0x40), // LEN
        mmio(0xc, 1), // start
      ];
      for (const c of calls) h.exec(c);
      expect(h.transcript.at(-5)!.ret, profile).toMatch(/^\d+$/);
      const smmu = h.sys.machine.devices.find((d) => d.mmio[0] instanceof Smmu)!.mmio[0] as Smmu;
      h.exec({ op: 'run', ns: 1_000_000 });
      expect(smmu.fault.stalls, profile).toBe(stalls);
      expect(smmu.fault.stalled.length).toBe(0);
      expect(h.sys.kernel.drivers.armSmmu.first!.contextFaults.length, profile).toBeGreaterThan(0);
      // a transaction nobody resumes (forged: held without a fault the driver saw) is reported
      smmu.fault.stalled.push({ cb: 0, va: 0x40000, attrs: 2 << 16, since: h.sys.now, listener: null });
      expect(run2(h, { op: 'run', ns: 1_000_000 })).toBe('stall-stuck');
    }
  });
});

function run2(h: Harness, c: Call): string | null {
  try {
    h.exec(c);
    return null;
  } catch (e) {
    if (e instanceof FindingError) return e.finding.sig;
    throw e;
  }
}
