/**
 * The IOMMU-group scenarios: the diagnosis each profile gives, field by field (the
 * regression suite checks outcome, output and digest against the goldens).
 */
import { describe, expect, it } from 'vitest';
import './index.js';
import { sysWrite } from '../../kernel-model/testing/fixtures.js';
import { System } from '../system/system.js';
import { runPl330 } from './pl330.js';
import { getScenario } from './registry.js';
import { adminBind } from './runner.js';

const run = (name: string, profile: string) => getScenario(name)!.run({ profile, board: 'vexpress-vfio', seed: 1 });

describe('bind-while-owned', () => {
  it('2014: the host driver binds, then the vfio group notifier BUGs and the machine stops with the report', () => {
    const r = run('bind-while-owned', 'rfc-v4');
    expect(r.outcome).toBe('bug:group-notifier');
    const log = r.kernelLog.join('\n');
    expect(log).toMatch(/------------\[ cut here \]------------\n.*kernel BUG at drivers\/vfio\/vfio.c!\n.*Internal error: Oops - BUG: 0 \[#1\] ARM\n.*PC is at vfio_iommu_group_notifier/);
    expect(log).toMatch(/BUG_ON\(vfio_group_nb_verify\(group, dev\)\): device 2c0a0000.dma, group 0 \(container_users 1\) bound to driver dma-pl330/);
    // the probe ran before the notifier (BOUND_DRIVER comes after really_probe's probe)
    expect(r.kernelLog.filter((l) => /Loaded driver for PL330/.test(l))).toHaveLength(2);
    expect(r.faults.some((f) => f.kind === 'stopped' && /kernel BUG/.test(f.detail))).toBe(true);
    expect(r.output.some((l) => l.startsWith('[machine stopped: kernel BUG'))).toBe(true);
    expect(r.output.some((l) => /dma-pl330\/bind/.test(l))).toBe(false); // the write never returned
  });

  it('mainline: unbinding the group\'s last VFIO device revokes the group (vfio_device_remove_group): the host driver binds and probes, the owner\'s group fd answers -ENODEV, nothing else logged', () => {
    const r = run('bind-while-owned', 'mainline');
    expect(r.outcome).toBe('bound:group-revoked');
    expect(r.output).toContain('# echo 2c0a0000.dma > /sys/bus/amba/drivers/dma-pl330/bind: ok'); // mainline: the PL330 is an AMBA device
    expect(r.output).toContain('owner: GET_STATUS -ENODEV');
    expect(r.kernelLog.filter((l) => /Loaded driver for PL330/.test(l))).toHaveLength(2);
    expect(r.kernelLog.some((l) => /BUG/.test(l))).toBe(false);
    expect(r.faults).toEqual([]);
  });
});

describe('shared-stream-id', () => {
  it('2014: two groups; the host DMA translates in the user\'s context bank and lands in the user\'s page; two SMRs for stream 1 raise SMCF', () => {
    const r = run('shared-stream-id', 'rfc-v4');
    expect(r.outcome).toBe('hole:shared-stream-id');
    expect(r.output).toContain('[iommu groups: 0: 2c0a0000.dma; 1: 2c0b0000.dma]');
    expect(r.output.some((l) => /the host's DMA went through my IOVA space/.test(l))).toBe(true);
    expect(r.output.some((l) => /^\[trace: host DMA of 2c0b0000.dma: smmu-walk sid 1 va 0x80800000 cb 0 pa 0x/.test(l))).toBe(true);
    expect(r.output.some((l) => /STATUS 0x104 ERROR \(code 1\)/.test(l))).toBe(true);
    expect(r.kernelLog.some((l) => /Unexpected global fault, this could be serious/.test(l))).toBe(true);
    expect(r.kernelLog.some((l) => /GFSR 0x00000004,/.test(l))).toBe(true);
  });

  it('mainline: one group, not viable while the host driver holds dma1, the host DMA untranslated; both on vfio: one SMR, the copy works', () => {
    const r = run('shared-stream-id', 'mainline');
    expect(r.outcome).toBe('isolated:one-group');
    expect(r.output).toContain('[iommu groups: 0: 2c0a0000.dma 2c0b0000.dma]');
    expect(r.output).toContain('user: /dev/vfio/0: not viable (not all devices bound for vfio)');
    expect(r.output.some((l) => /smmu-walk/.test(l))).toBe(false);
    expect(r.kernelLog.some((l) => /global fault/.test(l))).toBe(false);
  });
});

describe('group-not-viable is a mainline story', () => {
  it('mainline: not viable; rfc-v4: a group per master, the program passes', () => {
    expect(run('group-not-viable', 'mainline').outcome).toBe('stop:not-viable');
    const r = run('group-not-viable', 'rfc-v4');
    expect(r.expected).toBe('pass');
    expect(r.outcome).toBe('pass');
  });
});

describe('the guard fires only for a group in use', () => {
  it('a group nobody holds: both kernels let the host driver bind back (no BUG, no -EBUSY)', () => {
    for (const profile of ['rfc-v4', 'mainline']) {
      const sys = new System({ profile, seed: 1 });
      adminBind(sys, '2c0a0000.dma');
      const sysfs = sys.kernel.sysfs;
      // mainline: an AMBA device bound to vfio-amba (caps.primecellBus, caps.vfioAmba)
      const [bus, vfio] = sys.profile.caps.primecellBus === 'amba' ? ['amba', 'vfio-amba'] : ['platform', 'vfio-platform'];
      expect(sysWrite(sysfs, `/sys/bus/${bus}/drivers/${vfio}/unbind`, '2c0a0000.dma\n'), profile).toBeGreaterThan(0);
      if (sys.profile.caps.driverOverride) sysWrite(sysfs, `/sys/bus/${bus}/devices/2c0a0000.dma/driver_override`, '\n');
      expect(sysWrite(sysfs, `/sys/bus/${bus}/drivers/dma-pl330/bind`, '2c0a0000.dma\n'), profile).toBeGreaterThan(0);
      expect(sys.kernel.driverCore.findDevice(bus, '2c0a0000.dma')!.driver?.name).toBe('dma-pl330');
      expect(sys.kernel.log.grep(/kernel BUG/)).toHaveLength(0);
      expect(sys.machine.scheduler.stopRequested).toBeNull();
    }
  });
});

describe('the generic-binding board', () => {
  it('vexpress-vfio-iommus: mainline runs pl330-vfio-test; the 2014 kernel finds no SMMU master, so no group', () => {
    const m = runPl330({ profile: 'mainline', board: 'vexpress-vfio-iommus', seed: 1 });
    expect(m.outcome).toBe('pass');
    const r = runPl330({ profile: 'rfc-v4', board: 'vexpress-vfio-iommus', seed: 1 });
    expect(r.outcome).toBe('stop:no-group');
    expect(r.kernelLog.some((l) => /arm-smmu 2b400000.iommu: registered 0 master devices/.test(l))).toBe(true);
    expect(r.kernelLog.some((l) => /VFIO: No IOMMU group for device 2c0a0000.dma/.test(l))).toBe(true);
  });
});
