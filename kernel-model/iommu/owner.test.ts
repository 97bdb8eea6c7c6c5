/**
 * Issue 17 (IOMMU core and arm-smmu as today): owner_cnt (drivers/iommu/iommu.c
 * iommu_device_use_default_domain / iommu_group_claim_dma_owner), default domains
 * (iommu_group_alloc_default_domain, arm_smmu_def_domain_type), the blocking domain while user
 * space owns a group, and disable_bypass (arm_smmu_device_reset, s2cr_init_val). Each row
 * names the errno and the kernel function deciding it; the 2014 answer is 3.14's.
 */
import { describe, expect, it } from 'vitest';
import { EBUSY, EPERM, VFIO_GROUP_SET_CONTAINER, VFIO_SET_IOMMU, VFIO_TYPE1_IOMMU } from '../uapi/index.js';
import { loadBoardSource } from '../../emulator/machine.js';
import { System } from '../../tools/system/system.js';
import { PL330, User, bindToVfio } from '../vfio/platform/testing/user.js';
import type { Group } from './core.js';

const TDMA = '2c0b0000.dma';
/** GR0 offsets (IHI 0062) */
const SMMU = 0x2b400000;
const S2CR = (i: number): number => SMMU + 0xc00 + 4 * i;
const SCR0_USFCFG = 1 << 10;

function groupOf(sys: System, dev: string): Group {
  const g = sys.kernel.iommu.groups().find((x) => x.devices.some((d) => d.name === dev));
  if (!g) throw new Error(`no group for ${dev}`);
  return g;
}

function setContainer(u: User, group: number, container: number): number {
  u.mem.write32(u.page, container >>> 0);
  return u.ioctl(group, VFIO_GROUP_SET_CONTAINER, u.page);
}

/** the S2CR TYPE field [17:16] of every stream-map entry the SMMU has */
function s2crTypes(sys: System, n = 2): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push((sys.machine.bus.read(S2CR(i), 4, 0) >>> 16) & 3);
  return out;
}

describe('owner_cnt (groupOwnershipGuard refuse-bind)', () => {
  type Row = { what: string; profile: 'rfc-v4' | 'mainline'; expect: number; fn: string; run: (u: User) => number };
  const rows: Row[] = [
    {
      what: 'SET_CONTAINER on a group whose other device is still bound to its host driver (not viable)',
      profile: 'mainline',
      expect: -EPERM,
      fn: 'vfio_container_attach_group -> iommu_group_claim_dma_owner: owner_cnt != 0 (test-dma uses the default domain)',
      run: (u) => {
        expect(bindToVfio(u, PL330)).toBeGreaterThan(0);
        return setContainer(u, u.open('/dev/vfio/0'), u.open('/dev/vfio/vfio'));
      },
    },
    {
      what: 'the same in 3.14: the claim does not exist, the group joins the container',
      profile: 'rfc-v4',
      expect: 0,
      fn: '3.14 vfio_group_set_container (viability is checked at GET_DEVICE_FD only)',
      run: (u) => {
        expect(bindToVfio(u, PL330)).toBeGreaterThan(0);
        return setContainer(u, u.open('/dev/vfio/0'), u.open('/dev/vfio/vfio'));
      },
    },
    {
      what: 'binding test-dma again while user space owns the group',
      profile: 'mainline',
      expect: -EBUSY,
      fn: 'really_probe -> platform_dma_configure -> iommu_device_use_default_domain: owner set',
      run: (u) => {
        expect(bindToVfio(u, PL330)).toBeGreaterThan(0);
        expect(bindToVfio(u, TDMA)).toBeGreaterThan(0);
        expect(setContainer(u, u.open('/dev/vfio/0'), u.open('/dev/vfio/vfio'))).toBe(0);
        expect(u.echo(`/sys/bus/platform/devices/${TDMA}/driver_override`, '')).toBeGreaterThan(0);
        expect(u.echo('/sys/bus/platform/drivers/vfio-platform/unbind', TDMA)).toBeGreaterThan(0);
        return u.echo('/sys/bus/platform/drivers/test-dma/bind', TDMA);
      },
    },
    {
      what: 'binding test-dma after the group was released (container closed)',
      profile: 'mainline',
      expect: TDMA.length + 1,
      fn: 'iommu_group_release_dma_owner (vfio_container_detach_group) resets owner_cnt, then iommu_device_use_default_domain counts the driver',
      run: (u) => {
        expect(bindToVfio(u, PL330)).toBeGreaterThan(0);
        expect(bindToVfio(u, TDMA)).toBeGreaterThan(0);
        const group = u.open('/dev/vfio/0');
        expect(setContainer(u, group, u.open('/dev/vfio/vfio'))).toBe(0);
        expect(u.call('close', [group])).toBe(0);
        expect(u.echo(`/sys/bus/platform/devices/${TDMA}/driver_override`, '')).toBeGreaterThan(0);
        expect(u.echo('/sys/bus/platform/drivers/vfio-platform/unbind', TDMA)).toBeGreaterThan(0);
        return u.echo('/sys/bus/platform/drivers/test-dma/bind', TDMA);
      },
    },
  ];
  it.each(rows)('$profile: $what: $expect ($fn)', (row) => {
    const u = new User(new System({ profile: row.profile, board: 'vexpress-vfio-shared-group' }));
    expect(row.run(u)).toBe(row.expect);
  });

  it('mainline counts the host drivers bound to a group and drops them at unbind; vfio-platform (driver_managed_dma) is not counted', () => {
    const u = new User(new System({ profile: 'mainline', board: 'vexpress-vfio-shared-group' }));
    const g = groupOf(u.sys, PL330);
    expect(g.devices.map((d) => d.name)).toEqual([PL330, TDMA]);
    // dma-pl330 and test-dma at boot
    expect(g.ownerCnt).toBe(2);
    expect(bindToVfio(u, PL330)).toBeGreaterThan(0);
    expect(g.ownerCnt).toBe(1);
    expect(bindToVfio(u, TDMA)).toBeGreaterThan(0);
    expect(g.ownerCnt).toBe(0);
    const group = u.open('/dev/vfio/0');
    expect(setContainer(u, group, u.open('/dev/vfio/vfio'))).toBe(0);
    // the claim: one owner
    expect([g.ownerCnt, g.owner !== null]).toEqual([1, true]);
    u.call('close', [group]);
    expect([g.ownerCnt, g.owner]).toEqual([0, null]);
  });

  it('3.14 keeps no count (the group notifier BUG_ON guards instead)', () => {
    const sys = new System({ profile: 'rfc-v4', board: 'vexpress-vfio-shared-group' });
    expect(groupOf(sys, PL330).ownerCnt).toBe(0);
  });
});

describe('default domains and disable_bypass (smmuBypass, iommuDefaultDomain)', () => {
  it('legacy binding: mainline puts each group in an IDENTITY default domain (S2CR bypass) with sCR0.USFCFG set; 3.14 programs nothing until attach', () => {
    const m = new System({ profile: 'mainline' });
    const g = groupOf(m, PL330);
    expect(g.defaultDomain).toBe('identity');
    // stream-map entry 0 holds the PL330's stream: BYPASS (1); the unused entries FAULT (2)
    expect(s2crTypes(m, 3)).toEqual([1, 2, 2]);
    expect(m.machine.bus.read(SMMU, 4, 0) & SCR0_USFCFG).toBe(SCR0_USFCFG);
    const r = new System({ profile: 'rfc-v4' });
    expect(groupOf(r, PL330).defaultDomain).toBeNull();
    expect(s2crTypes(r, 3)).toEqual([1, 1, 1]);
    expect(r.machine.bus.read(SMMU, 4, 0) & SCR0_USFCFG).toBe(0);
  });

  it('mainline: the claim moves the group to its blocking domain (S2CR fault), type1 to its domain (TRANS), release back to the default', () => {
    const u = new User(new System({ profile: 'mainline' }));
    expect(bindToVfio(u, PL330)).toBeGreaterThan(0);
    const container = u.open('/dev/vfio/vfio');
    const group = u.open('/dev/vfio/0');
    expect(setContainer(u, group, container)).toBe(0);
    expect(s2crTypes(u.sys, 1)).toEqual([2]);
    expect(u.ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1_IOMMU)).toBe(0);
    expect(s2crTypes(u.sys, 1)).toEqual([0]);
    u.call('close', [group]);
    u.call('close', [container]);
    expect(s2crTypes(u.sys, 1)).toEqual([1]);
  });

  it('a DMA from a stream in its blocking domain faults (S2CR fault: sGFSR.USF) and arm_smmu_global_fault reports it in mainline; 3.14 lets it through untranslated', () => {
    for (const profile of ['mainline', 'rfc-v4'] as const) {
      const u = new User(new System({ profile, board: 'vexpress-vfio-shared-group' }));
      expect(bindToVfio(u, PL330)).toBeGreaterThan(0);
      expect(bindToVfio(u, TDMA)).toBeGreaterThan(0);
      // 3.14 gives each master its own group: the test DMA's is group 1
      expect(setContainer(u, u.open(profile === 'mainline' ? '/dev/vfio/0' : '/dev/vfio/1'), u.open('/dev/vfio/vfio'))).toBe(0);
      // the device started behind the kernel's back (as a user's mmap of its registers would)
      const bus = u.sys.machine.bus;
      const ram = 0x80000000 + (64 << 20);
      bus.write(0x2c0b0000 + 0x00, 4, ram, 0);
      bus.write(0x2c0b0000 + 0x04, 4, ram + 0x1000, 0);
      bus.write(0x2c0b0000 + 0x08, 4, 64, 0);
      bus.write(0x2c0b0000 + 0x0c, 4, 1, 0);
      u.sys.machine.scheduler.runUntil(u.sys.machine.scheduler.now + 1_000_000);
      const status = bus.read(0x2c0b0000 + 0x10, 4, 0);
      const blocked = u.sys.kernel.log.grep(/Blocked unknown Stream ID 0x1; boot with "arm-smmu.disable_bypass=0"/).length;
      if (profile === 'mainline') expect([status & 6, blocked]).toEqual([4, 1]);
      else expect([status & 6, blocked]).toEqual([2, 0]);
    }
  });

  it('generic binding (iommus): mainline gives the group a translating DMA default domain; the host DMA API hands out IOVAs and the host selftest passes through it', () => {
    // the iommus board with its second DMA master (test-dma, stream id 1 like the PL330) enabled
    const src = loadBoardSource('vexpress-vfio-iommus');
    const text = src.text.replace(/(iommus = <&smmu 0x1>;\s*)status = "disabled";/, '$1status = "okay";');
    expect(text).not.toBe(src.text);
    const sys = new System({ profile: 'mainline', boardSource: { ...src, text } });
    const g = groupOf(sys, TDMA);
    expect(g.defaultDomain).not.toBeNull();
    expect(g.defaultDomain).not.toBe('identity');
    const u = new User(sys);
    const show = (): string => {
      const fd = u.open(`/sys/devices/platform/${TDMA}/selftest`, 0);
      const n = u.call('read', [fd, u.page + 0x800, 200]);
      u.call('close', [fd]);
      return new TextDecoder().decode(u.mem.readBytes(u.page + 0x800, n));
    };
    // dma-iommu allocates top down below the 32-bit DMA mask: the last pages of the 4 GiB space
    expect(show()).toMatch(/^src 0xfffff000 dst 0xffffe000 len 256 idle/);
    expect(u.echo(`/sys/devices/platform/${TDMA}/selftest`, '1')).toBe(2);
    sys.machine.scheduler.runUntil(sys.machine.scheduler.now + 1_000_000);
    expect(show()).toMatch(/ ok\n$/);
  });
});
