/**
 * Issue 17 (VFIO core): the group and container ioctls as today's kernel answers them
 * (drivers/vfio/group.c, container.c), capability `groupIoctls`; the 2014 profiles keep the
 * 3.14 drivers/vfio/vfio.c answers. Each row names the deciding kernel function.
 */
import { describe, expect, it } from 'vitest';
import {
  EBADF, EBADFD, EINVAL, ENODEV, ENOENT,
  VFIO_API_VERSION, VFIO_CHECK_EXTENSION, VFIO_DMA_CC_IOMMU, VFIO_EEH, VFIO_GET_API_VERSION, VFIO_GROUP_GET_DEVICE_FD, VFIO_GROUP_GET_STATUS, VFIO_GROUP_UNSET_CONTAINER,
  VFIO_GROUP_SET_CONTAINER, VFIO_NOIOMMU_IOMMU, VFIO_SET_IOMMU, VFIO_SPAPR_TCE_IOMMU, VFIO_SPAPR_TCE_v2_IOMMU,
  VFIO_TYPE1_IOMMU, VFIO_TYPE1v2_IOMMU, VFIO_UNMAP_ALL, VFIO_UPDATE_VADDR,
} from '../uapi/index.js';
import { System } from '../../tools/system/system.js';
import { PL330, User, bindToVfio } from './platform/testing/user.js';

/** the PL330 on vfio, its group and a container open, nothing attached */
function opened(profile: string): { u: User; container: number; group: number; other: number } {
  const u = new User(new System({ profile }));
  expect(bindToVfio(u, PL330)).toBeGreaterThan(0);
  const container = u.open('/dev/vfio/vfio');
  const group = u.open('/dev/vfio/0');
  const other = u.open('/proc/interrupts', 0);
  expect(Math.min(container, group, other)).toBeGreaterThanOrEqual(0);
  return { u, container, group, other };
}

function setContainer(u: User, group: number, fd: number): number {
  u.mem.write32(u.page, fd >>> 0);
  return u.ioctl(group, VFIO_GROUP_SET_CONTAINER, u.page);
}

type Row = { what: string; fd: (o: ReturnType<typeof opened>) => number; attachFirst?: boolean; v314: number; mainline: number; fn: string };

const SET_CONTAINER: Row[] = [
  { what: 'a negative fd', fd: () => -1, v314: -EINVAL, mainline: -EBADF, fn: '3.14 vfio_group_ioctl `fd < 0` / mainline vfio_group_ioctl_set_container fdget' },
  { what: 'a closed fd', fd: () => 77, v314: -EBADF, mainline: -EBADF, fn: 'fdget (both)' },
  { what: 'an fd that is not a container', fd: (o) => o.other, v314: -EINVAL, mainline: -EBADFD, fn: '3.14 vfio_group_set_container f_op != &vfio_fops / mainline vfio_group_ioctl_set_container "not recognized" (no container, no iommufd)' },
  { what: 'the group fd itself', fd: (o) => o.group, v314: -EINVAL, mainline: -EBADFD, fn: 'as above' },
  { what: 'a bad fd on a group already in a container', fd: () => 77, attachFirst: true, v314: -EINVAL, mainline: -EBADF, fn: '3.14 vfio_group_set_container checks container_users before fdget / mainline fdget before vfio_group_has_iommu' },
  { what: 'a container on a group already in one', fd: (o) => o.container, attachFirst: true, v314: -EINVAL, mainline: -EINVAL, fn: 'vfio_group_set_container / vfio_group_has_iommu' },
];

describe('SET_CONTAINER (groupIoctls)', () => {
  for (const profile of ['rfc-v4', 'mainline'] as const) {
    it.each(SET_CONTAINER)(`${profile}: $what ($fn)`, (row) => {
      const o = opened(profile);
      if (row.attachFirst) expect(setContainer(o.u, o.group, o.container)).toBe(0);
      expect(setContainer(o.u, o.group, row.fd(o))).toBe(profile === 'mainline' ? row.mainline : row.v314);
    });
  }
});

describe('GET_DEVICE_FD (groupIoctls): the name lookup and the container checks', () => {
  const rows = [
    { what: 'an unknown name, no container', attach: false, iommu: false, name: 'nosuch', v314: -EINVAL, mainline: -ENODEV },
    { what: 'an unknown name, container without IOMMU', attach: true, iommu: false, name: 'nosuch', v314: -EINVAL, mainline: -ENODEV },
    { what: 'the device, no container', attach: false, iommu: false, name: PL330, v314: -EINVAL, mainline: -EINVAL },
    { what: 'the device, container without IOMMU', attach: true, iommu: false, name: PL330, v314: -EINVAL, mainline: -EINVAL },
    { what: 'an unknown name, container with IOMMU', attach: true, iommu: true, name: 'nosuch', v314: -ENODEV, mainline: -ENODEV },
  ];
  for (const profile of ['rfc-v4', 'mainline'] as const) {
    it.each(rows)(`${profile}: $what (3.14 vfio_group_get_device_fd: container first / mainline vfio_group_ioctl_get_device_fd -> vfio_device_get_from_name first)`, (row) => {
      const o = opened(profile);
      if (row.attach) expect(setContainer(o.u, o.group, o.container)).toBe(0);
      if (row.iommu) expect(o.u.ioctl(o.container, VFIO_SET_IOMMU, VFIO_TYPE1_IOMMU)).toBe(0);
      expect(o.u.ioctl(o.group, VFIO_GROUP_GET_DEVICE_FD, o.u.str(row.name))).toBe(profile === 'mainline' ? row.mainline : row.v314);
    });
  }
});

describe('GET_API_VERSION and CHECK_EXTENSION (mainline container.c vfio_container_ioctl_check_extension)', () => {
  it('GET_API_VERSION is VFIO_API_VERSION (0) on the container; the group fd does not know it (-ENOTTY)', () => {
    const o = opened('mainline');
    expect(o.u.ioctl(o.container, VFIO_GET_API_VERSION)).toBe(VFIO_API_VERSION);
    expect(o.u.ioctl(o.group, VFIO_GET_API_VERSION)).toBe(-25);
  });

  // no base extensions: each is asked of the registered IOMMU drivers (type1 only; no
  // spapr_tce, no noiommu driver: CONFIG_VFIO_NOIOMMU's driver registers only with
  // enable_unsafe_noiommu_mode), so the container answers what type1 answers
  const exts: [string, number, number | 'type1'][] = [
    ['VFIO_TYPE1_IOMMU', VFIO_TYPE1_IOMMU, 1],
    ['VFIO_TYPE1v2_IOMMU', VFIO_TYPE1v2_IOMMU, 1],
    ['VFIO_SPAPR_TCE_IOMMU', VFIO_SPAPR_TCE_IOMMU, 0],
    ['VFIO_DMA_CC_IOMMU', VFIO_DMA_CC_IOMMU, 'type1'],
    ['VFIO_EEH', VFIO_EEH, 0],
    ['VFIO_SPAPR_TCE_v2_IOMMU', VFIO_SPAPR_TCE_v2_IOMMU, 0],
    ['VFIO_NOIOMMU_IOMMU', VFIO_NOIOMMU_IOMMU, 0],
    ['VFIO_UNMAP_ALL', VFIO_UNMAP_ALL, 'type1'],
    ['VFIO_UPDATE_VADDR', VFIO_UPDATE_VADDR, 'type1'],
    ['unknown 42', 42, 0],
  ];
  it.each(exts)('%s (%i): before SET_IOMMU (every driver) and after (the container\'s driver)', (_n, ext, want) => {
    const o = opened('mainline');
    const type1 = o.u.sys.vfio.iommuDrivers.find((d) => d.name === 'vfio-iommu-type1')!;
    const expected = want === 'type1' ? type1.ioctl(null, null, VFIO_CHECK_EXTENSION, ext) : want;
    expect(o.u.ioctl(o.container, VFIO_CHECK_EXTENSION, ext)).toBe(expected);
    expect(setContainer(o.u, o.group, o.container)).toBe(0);
    expect(o.u.ioctl(o.container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU)).toBe(0);
    const after = o.u.ioctl(o.container, VFIO_CHECK_EXTENSION, ext);
    if (want === 'type1') expect(after).toBeGreaterThanOrEqual(0);
    else expect(after).toBe(expected);
  });
});

describe('GET_STATUS viability (mainline vfio_group_ioctl_get_status: has_iommu, else DMA ownership)', () => {
  const status = (u: User, group: number): number => {
    u.mem.write32(u.page + 0x100, 8);
    expect(u.ioctl(group, VFIO_GROUP_GET_STATUS, u.page + 0x100)).toBe(0);
    return u.mem.read32(u.page + 0x104);
  };
  it('a group left by its iommufd while its device stays bound (ownership claimed by iommufd_device_bind): not viable, as Linux reports it', () => {
    const sys = new System({ profile: 'mainline' });
    const u = new User(sys);
    expect(u.echo('/sys/module/iommufd/parameters/allow_unsafe_interrupts', '1')).toBe(2);
    expect(bindToVfio(u, PL330)).toBeGreaterThan(0);
    const ictx = u.open('/dev/iommu');
    const group = u.open('/dev/vfio/0');
    expect(status(u, group)).toBe(1); // VIABLE: nothing claims the group
    expect(setContainer(u, group, ictx)).toBe(0);
    expect(status(u, group)).toBe(3); // CONTAINER_SET | VIABLE
    expect(u.ioctl(group, VFIO_GROUP_GET_DEVICE_FD, u.str(PL330))).toBeGreaterThan(0);
    expect(u.ioctl(group, VFIO_GROUP_UNSET_CONTAINER)).toBe(0);
    // the device's iommufd binding still claims DMA ownership: neither flag
    expect(status(u, group)).toBe(0);
  });
});

describe('the last device of a group going away (vfio_device_remove_group)', () => {
  it.each([
    ['mainline', { status: -ENODEV, hostBind: true, unset: -EINVAL, reopen: -ENOENT, setContainer: -ENODEV }],
    ['rfc-v4', { status: 0, hostBind: false, unset: 0, reopen: -16, setContainer: -EINVAL }],
  ] as const)('%s: the group fd still open in a container', (profile, want) => {
    const sys = new System({ profile });
    const u = new User(sys);
    expect(bindToVfio(u, PL330)).toBeGreaterThan(0);
    const bus = profile === 'mainline' ? 'amba' : 'platform';
    const vfioDrv = profile === 'mainline' ? 'vfio-amba' : 'vfio-platform';
    const container = u.open('/dev/vfio/vfio');
    const group = u.open('/dev/vfio/0');
    expect(setContainer(u, group, container)).toBe(0);
    expect(u.ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1_IOMMU)).toBe(0);
    // the driver goes (no device fd is open, so the unbind does not wait)
    expect(u.echo(`/sys/bus/${bus}/drivers/${vfioDrv}/unbind`, PL330)).toBe(PL330.length + 1);
    u.mem.write32(u.page + 0x100, 8);
    expect(u.ioctl(group, VFIO_GROUP_GET_STATUS, u.page + 0x100)).toBe(want.status);
    if (profile === 'mainline') {
      // revoked: detached from the container (DMA ownership released), so a host driver may bind
      expect(u.echo(`/sys/bus/amba/devices/${PL330}/driver_override`, '')).toBeGreaterThan(0);
      expect(u.echo(`/sys/bus/amba/drivers/dma-pl330/bind`, PL330)).toBe(PL330.length + 1);
    }
    expect(setContainer(u, group, container)).toBe(want.setContainer);
    expect(u.ioctl(group, VFIO_GROUP_UNSET_CONTAINER)).toBe(want.unset);
    expect(u.open('/dev/vfio/0')).toBe(want.reopen);
  });
});

describe('GET_DEVICE_FD takes its fd first (mainline vfio_group_ioctl_get_device_fd: get_unused_fd_flags before vfio_device_open_file)', () => {
  it.each([
    ['mainline', -24],
    ['rfc-v4', -EINVAL],
  ] as const)('%s: no free fd and no container: %s', (profile, want) => {
    const u = new User(new System({ profile }), 'test', { nofile: 8 });
    expect(bindToVfio(u, PL330)).toBeGreaterThan(0);
    const group = u.open('/dev/vfio/0');
    expect(group).toBeGreaterThanOrEqual(0);
    while (u.open('/proc/interrupts', 0) >= 0) {
      /* fill the table */
    }
    // the name is found; mainline's EMFILE comes before the missing container's -EINVAL
    expect(u.ioctl(group, VFIO_GROUP_GET_DEVICE_FD, u.str(PL330))).toBe(want);
  });
});
