/**
 * Issue 23: the VFIO device cdev on a booted system with iommufd (mainline): node and sysfs
 * created when vfio-amba registers the PL330 and removed when it lets go, the bind claiming DMA
 * ownership for iommufd, the device ioctls and the register mmap through the cdev, and the
 * group path's device fd refusing BIND_IOMMUFD.
 */
import { describe, expect, it } from 'vitest';
import { EBUSY, EINVAL, ENOENT } from '../base/errno.js';
import { MAP_SHARED, PROT_READ, PROT_WRITE, VFIO_DEVICE_BIND_IOMMUFD, VFIO_DEVICE_FLAGS_AMBA, vfio_device_bind_iommufd, IOMMU_IOAS_ALLOC, VFIO_GROUP_GET_DEVICE_FD, VFIO_GROUP_SET_CONTAINER } from '../uapi/index.js';
import { System } from '../../tools/system/system.js';
import { VFIO_DEV_MAJOR } from './device-cdev.js';
import { PL330, User, bindToVfio, openDevice } from './platform/testing/user.js';

const SYSDEV = `/sys/bus/amba/devices/${PL330}`;
const CDEV = '/dev/vfio/devices/vfio0';

function bound(): User {
  const u = new User(new System({ profile: 'mainline' }));
  expect(bindToVfio(u, PL330)).toBeGreaterThan(0);
  expect(u.echo('/sys/module/iommufd/parameters/allow_unsafe_interrupts', '1')).toBe(2);
  return u;
}

function readText(u: User, path: string): string | number {
  const fd = u.open(path, 0);
  if (fd < 0) return fd;
  const n = u.call('read', [fd, u.page + 0x800, 128]);
  u.call('close', [fd]);
  return n < 0 ? n : new TextDecoder().decode(u.mem.readBytes(u.page + 0x800, n));
}

function bind(u: User, device: number, iommufd: number): number {
  const a = u.page;
  u.mem.write32(a + vfio_device_bind_iommufd.argsz, vfio_device_bind_iommufd.minsz);
  u.mem.write32(a + vfio_device_bind_iommufd.flags, 0);
  u.mem.write32(a + vfio_device_bind_iommufd.iommufd, iommufd);
  return u.ioctl(device, VFIO_DEVICE_BIND_IOMMUFD, a);
}

describe('VFIO device cdev on the booted mainline system', () => {
  it('appears with the binding (vfio-dev/vfio0, dev 245:0) and goes with the unbinding; none in rfc-v4', () => {
    const u = new User(new System({ profile: 'mainline' }));
    expect(u.open(CDEV)).toBe(-ENOENT);
    expect(bindToVfio(u, PL330)).toBeGreaterThan(0);
    expect(readText(u, `${SYSDEV}/vfio-dev/vfio0/dev`)).toBe(`${VFIO_DEV_MAJOR}:0\n`);
    expect(u.readlink('/sys/class/vfio-dev/vfio0')).toMatch(new RegExp(`devices/platform/${PL330}/vfio-dev/vfio0$`));
    const fd = u.open(CDEV);
    expect(fd).toBeGreaterThanOrEqual(0);
    u.call('close', [fd]);
    expect(u.echo('/sys/bus/amba/drivers/vfio-amba/unbind', PL330)).toBeGreaterThan(0);
    expect(u.open(CDEV)).toBe(-ENOENT);
    // devtmpfs delete_path: the empty directory goes with its last node
    expect(u.open('/dev/vfio/devices', 0)).toBe(-ENOENT);
    expect(readText(u, `${SYSDEV}/vfio-dev/vfio0/dev`)).toBe(-ENOENT);
    const old = new User(new System({ profile: 'rfc-v4' }));
    expect(bindToVfio(old, PL330)).toBeGreaterThan(0);
    expect(old.open(CDEV)).toBe(-ENOENT);
  });

  it('bound: GET_INFO reports AMBA, the registers map; DMA ownership is iommufd\'s (the host driver\'s bind is refused) until the fd closes', () => {
    const u = bound();
    const dev = u.open(CDEV);
    const ifd = u.open('/dev/iommu');
    expect(u.deviceInfo(dev).ret).toBe(-EINVAL);
    expect(bind(u, dev, ifd)).toBe(0);
    const info = u.deviceInfo(dev);
    expect([info.ret, info.flags & VFIO_DEVICE_FLAGS_AMBA, info.numRegions]).toEqual([0, VFIO_DEVICE_FLAGS_AMBA, 1]);
    const regs = u.call('mmap2', [0, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, dev, 0]);
    expect(regs).toBeGreaterThan(0);
    // the IOMMU group is owned for user-space DMA (iommu_device_claim_dma_owner at iommufd_device_bind)
    expect(u.echo('/sys/bus/amba/drivers/vfio-amba/unbind', PL330)).toBeGreaterThan(0);
    expect(u.echo(`${SYSDEV}/driver_override`, '')).toBe(1);
    expect(u.echo('/sys/bus/amba/drivers/dma-pl330/bind', PL330)).toBe(-EBUSY);
    // the fd closed, the mapping still holds the file (vm_file): still owned
    u.call('close', [dev]);
    expect(u.echo('/sys/bus/amba/drivers/dma-pl330/bind', PL330)).toBe(-EBUSY);
    // the last reference goes with the munmap: unbound from iommufd, ownership released, the host driver binds
    expect(u.call('munmap', [regs, 4096])).toBe(0);
    expect(u.echo('/sys/bus/amba/drivers/dma-pl330/bind', PL330)).toBeGreaterThan(0);
    expect(u.ioctl(ifd, IOMMU_IOAS_ALLOC, u.page + 0x100)).toBeLessThan(0); // the iommufd still answers
  });

  it('the group path\'s device fd answers BIND_IOMMUFD with -EINVAL (vfio_df_ioctl_bind_iommufd: df->group); the cdev bind meanwhile is -EBUSY', () => {
    const u = bound();
    const { device } = openDevice(u, PL330);
    const ifd = u.open('/dev/iommu');
    expect(bind(u, device, ifd)).toBe(-EINVAL);
    expect(bind(u, u.open(CDEV), ifd)).toBe(-EBUSY);
  });

  it('a device opened through a group attached to an iommufd, the group fd then closed: the cdev bind is -EINVAL (vfio_df_open: open already), not -EBUSY (no file reference holds the group)', () => {
    const u = bound();
    expect(u.echo('/sys/module/iommufd/parameters/allow_unsafe_interrupts', '1')).toBe(2);
    const ifd = u.open('/dev/iommu');
    const group = u.open('/dev/vfio/0');
    u.mem.write32(u.page + 0x100, ifd);
    expect(u.ioctl(group, VFIO_GROUP_SET_CONTAINER, u.page + 0x100)).toBe(0);
    expect(u.ioctl(group, VFIO_GROUP_GET_DEVICE_FD, u.str(PL330))).toBeGreaterThan(0);
    const cdev = u.open(CDEV);
    expect(bind(u, cdev, ifd)).toBe(-EBUSY); // the group fd is open
    expect(u.call('close', [group])).toBe(0);
    expect(bind(u, cdev, ifd)).toBe(-EINVAL);
  });
});
