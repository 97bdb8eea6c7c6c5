/**
 * Issue 23: the VFIO device cdev (capability `vfioDeviceCdev`, drivers/vfio/device_cdev.c,
 * vfio_main.c, group.c, iommufd.c of v6.12) against a recording iommufd. Each error row names
 * the kernel function that decides it.
 */
import { describe, expect, it } from 'vitest';
import { EBADF, EBADFD, EBUSY, EFAULT, EINVAL, ENODEV, ENOENT, EPERM } from '../base/errno.js';
import { UserMemory } from '../process/user-memory.js';
import type { Process } from '../process/process.js';
import {
  MAP_ANONYMOUS, MAP_PRIVATE, MAP_SHARED, O_RDWR, PROT_READ, PROT_WRITE, VFIO_DEVICE_ATTACH_IOMMUFD_PT, VFIO_DEVICE_BIND_IOMMUFD,
  VFIO_DEVICE_DETACH_IOMMUFD_PT, VFIO_DEVICE_GET_INFO, VFIO_GROUP_GET_DEVICE_FD, VFIO_GROUP_SET_CONTAINER, VFIO_SET_IOMMU,
  VFIO_TYPE1v2_IOMMU, vfio_device_attach_iommufd_pt, vfio_device_bind_iommufd, vfio_device_detach_iommufd_pt, vfio_device_info,
  type SyscallName,
} from '../uapi/index.js';
import { VFIO_DEV_MAJOR } from './device-cdev.js';
import { FakeIommufd } from './testing/fake-iommufd.js';
import { fakeDevice, fakeDriver } from './testing/fake-iommu.js';
import { makeFixture, type Fixture } from './testing/fixture.js';

const DEV = '2c0a0000.dma';

class U {
  readonly proc: Process;
  readonly mem: UserMemory;
  readonly page: number;
  /** a read-only page: copy_from_user works, copy_to_user faults */
  readonly ro: number;
  constructor(readonly f: Fixture) {
    this.proc = f.sys.createProcess({ name: 'cdev' });
    this.mem = new UserMemory(this.proc.mm);
    this.page = this.call('mmap2', [0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0]);
    this.ro = this.call('mmap2', [0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0]);
  }
  call(name: SyscallName, args: readonly number[]): number {
    return this.f.sys.invoke(this.proc, null, name, args);
  }
  open(path: string, flags = O_RDWR): number {
    const p = this.page + 0x800;
    this.mem.writeCString(p, path);
    return this.call('open', [p, flags]);
  }
  close(fd: number): number {
    return this.call('close', [fd]);
  }
  ioctl(fd: number, cmd: number, arg: number): number {
    return this.call('ioctl', [fd, cmd, arg]);
  }
  /** write 32-bit words at `at` (the read-only page is made writable for it) */
  words(at: number, ws: readonly number[]): number {
    const ro = at >= this.ro && at < this.ro + 4096;
    if (ro) this.call('mprotect', [this.ro, 4096, PROT_READ | PROT_WRITE]);
    ws.forEach((w, i) => this.mem.write32(at + 4 * i, w >>> 0));
    if (ro) this.call('mprotect', [this.ro, 4096, PROT_READ]);
    return at;
  }
  bind(fd: number, iommufd: number, o: { argsz?: number; flags?: number; at?: number } = {}): number {
    const a = this.words(o.at ?? this.page, [o.argsz ?? vfio_device_bind_iommufd.minsz, o.flags ?? 0, iommufd, 0xffffffff]);
    return this.ioctl(fd, VFIO_DEVICE_BIND_IOMMUFD, a);
  }
  attach(fd: number, ptId: number, o: { argsz?: number; flags?: number; at?: number } = {}): number {
    const a = this.words(o.at ?? this.page, [o.argsz ?? vfio_device_attach_iommufd_pt.minsz, o.flags ?? 0, ptId]);
    return this.ioctl(fd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, a);
  }
  detach(fd: number, o: { argsz?: number; flags?: number } = {}): number {
    const a = this.words(this.page, [o.argsz ?? vfio_device_detach_iommufd_pt.minsz, o.flags ?? 0]);
    return this.ioctl(fd, VFIO_DEVICE_DETACH_IOMMUFD_PT, a);
  }
  info(fd: number): number {
    this.words(this.page, [vfio_device_info.minsz, 0, 0, 0]);
    return this.ioctl(fd, VFIO_DEVICE_GET_INFO, this.page);
  }
  readFile(path: string): string | number {
    const fd = this.open(path, 0);
    if (fd < 0) return fd;
    const n = this.call('read', [fd, this.page + 0x400, 256]);
    this.close(fd);
    return n < 0 ? n : new TextDecoder().decode(this.mem.readBytes(this.page + 0x400, n));
  }
  /** the group path up to a device fd (type1v2 container) */
  groupDevice(): { container: number; group: number; device: number } {
    const container = this.open('/dev/vfio/vfio');
    const group = this.open('/dev/vfio/0');
    this.mem.write32(this.page, container);
    expect(this.ioctl(group, VFIO_GROUP_SET_CONTAINER, this.page)).toBe(0);
    expect(this.ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU)).toBe(0);
    this.mem.writeCString(this.page + 0x800, DEV);
    const device = this.ioctl(group, VFIO_GROUP_GET_DEVICE_FD, this.page + 0x800);
    return { container, group, device };
  }
}

function setup(profile = 'mainline'): { f: Fixture; u: U; fake: FakeIommufd; cdev: number; iommufd: number } {
  let fake: FakeIommufd | null = null;
  const f = makeFixture(profile, { iommufd: (vfs) => (fake = new FakeIommufd(vfs)) });
  const u = new U(f);
  u.call('mprotect', [u.ro, 4096, PROT_READ]);
  const cdev = u.open('/dev/vfio/devices/vfio0');
  const iommufd = u.open('/dev/iommu');
  return { f, u, fake: fake!, cdev, iommufd };
}

describe('the cdev node and its sysfs class device (vfio_device_add, vfio_device_devnode)', () => {
  it('mainline: /dev/vfio/devices/vfio0 and vfio-dev/vfio0 with dev MAJOR:index; rfc-v4: none', () => {
    const { u, cdev } = setup();
    expect(cdev).toBeGreaterThanOrEqual(0);
    expect(u.readFile(`/sys/devices/platform/${DEV}/vfio-dev/vfio0/dev`)).toBe(`${VFIO_DEV_MAJOR}:0\n`);
    expect(u.readFile('/sys/class/vfio-dev/vfio0/dev')).toBe(`${VFIO_DEV_MAJOR}:0\n`);
    const old = setup('rfc-v4');
    expect(old.cdev).toBe(-2);
    expect(old.u.readFile(`/sys/devices/platform/${DEV}/vfio-dev/vfio0/dev`)).toBe(-2);
  });

  it('numbering is the lowest free index (vfio.device_ida); unregister removes node and sysfs, the index is freed at the last release', () => {
    const { f, u, cdev } = setup();
    const b = fakeDevice('2c0b0000.b');
    const c = fakeDevice('2c0c0000.c');
    f.iommu.addGroup(1, [b]);
    f.iommu.addGroup(2, [c]);
    b.driver = fakeDriver('vfio-platform');
    c.driver = fakeDriver('vfio-platform');
    expect(f.vfio.addGroupDev(b, f.bus, {})).toBe(0);
    expect(u.readFile(`/sys/devices/platform/${b.name}/vfio-dev/vfio1/dev`)).toBe(`${VFIO_DEV_MAJOR}:1\n`);
    // vfio_unregister_group_dev with the cdev fd open: the node goes, the index stays taken
    f.vfio.delGroupDev(f.dev);
    expect(u.open('/dev/vfio/devices/vfio0')).toBe(-2);
    expect(u.readFile(`/sys/devices/platform/${DEV}/vfio-dev/vfio0/dev`)).toBe(-2);
    expect(f.vfio.addGroupDev(c, f.bus, {})).toBe(0);
    expect(u.readFile(`/sys/devices/platform/${c.name}/vfio-dev/vfio2/dev`)).toBe(`${VFIO_DEV_MAJOR}:2\n`);
    // the last cdev file closed: device released, index 0 free again
    expect(u.close(cdev)).toBe(0);
    f.vfio.delGroupDev(c);
    expect(f.vfio.addGroupDev(c, f.bus, {})).toBe(0);
    expect(u.readFile(`/sys/devices/platform/${c.name}/vfio-dev/vfio0/dev`)).toBe(`${VFIO_DEV_MAJOR}:0\n`);
  });
});

describe('before VFIO_DEVICE_BIND_IOMMUFD (vfio_device_fops: df->access_granted)', () => {
  it.each([
    { what: 'GET_INFO', run: (u: U, fd: number) => u.info(fd) },
    { what: 'ATTACH_IOMMUFD_PT', run: (u: U, fd: number) => u.attach(fd, 1) },
    { what: 'DETACH_IOMMUFD_PT', run: (u: U, fd: number) => u.detach(fd) },
    { what: 'read', run: (u: U, fd: number) => u.call('read', [fd, u.page, 4]) },
    { what: 'mmap', run: (u: U, fd: number) => u.call('mmap2', [0, 4096, PROT_READ, MAP_SHARED, fd, 0]) },
  ])('$what is -EINVAL (vfio_device_fops_unl_ioctl / _read / _mmap)', ({ run }) => {
    const { u, cdev } = setup();
    expect(run(u, cdev)).toBe(-EINVAL);
  });
});

type BindRow = { what: string; fn: string; expect: number; run: (s: ReturnType<typeof setup>) => number; after?: (s: ReturnType<typeof setup>) => void };

const BIND: BindRow[] = [
  { what: 'an unmapped argument', fn: 'vfio_df_ioctl_bind_iommufd copy_from_user', expect: -EFAULT, run: ({ u, cdev }) => u.ioctl(cdev, VFIO_DEVICE_BIND_IOMMUFD, 0x10) },
  { what: 'argsz below minsz', fn: 'vfio_df_ioctl_bind_iommufd bind.argsz < minsz', expect: -EINVAL, run: ({ u, cdev, iommufd }) => u.bind(cdev, iommufd, { argsz: 15 }) },
  { what: 'a flag', fn: 'vfio_df_ioctl_bind_iommufd bind.flags', expect: -EINVAL, run: ({ u, cdev, iommufd }) => u.bind(cdev, iommufd, { flags: 1 }) },
  { what: 'a negative iommufd', fn: 'vfio_df_ioctl_bind_iommufd bind.iommufd < 0', expect: -EINVAL, run: ({ u, cdev }) => u.bind(cdev, -1) },
  { what: 'a closed fd', fn: 'iommufd_ctx_from_fd fget', expect: -EBADF, run: ({ u, cdev }) => u.bind(cdev, 77) },
  { what: 'an fd that is not /dev/iommu', fn: 'iommufd_ctx_from_fd f_op != &iommufd_fops', expect: -EBADFD, run: ({ u, cdev }) => u.bind(cdev, cdev) },
  {
    what: 'the group open', fn: 'vfio_device_block_group (group->opened_file)', expect: -EBUSY,
    run: ({ u, cdev, iommufd }) => (u.open('/dev/vfio/0') >= 0 ? u.bind(cdev, iommufd) : -999),
  },
  {
    what: 'the same fd bound twice', fn: 'vfio_df_ioctl_bind_iommufd df->access_granted', expect: -EINVAL,
    run: ({ u, cdev, iommufd }) => (u.bind(cdev, iommufd) === 0 ? u.bind(cdev, iommufd) : -999),
  },
  {
    what: 'a second cdev fd while the first is bound', fn: 'vfio_df_open: open_count != 0 && !df->group', expect: -EINVAL,
    run: ({ u, cdev, iommufd }) => (u.bind(cdev, iommufd) === 0 ? u.bind(u.open('/dev/vfio/devices/vfio0'), iommufd) : -999),
  },
  {
    what: 'iommufd refusing the device', fn: 'vfio_iommufd_physical_bind -> iommufd_device_bind', expect: -EPERM,
    run: (s) => { s.fake.bindError = -EPERM; return s.u.bind(s.cdev, s.iommufd); },
    after: ({ u, cdev }) => expect(u.info(cdev)).toBe(-EINVAL),
  },
  {
    what: 'the driver open_device failing', fn: 'vfio_df_device_first_open: ops->open_device, then vfio_df_iommufd_unbind', expect: -ENODEV,
    run: (s) => { s.f.bus.openError = -ENODEV; return s.u.bind(s.cdev, s.iommufd); },
    after: ({ fake }) => expect([fake.events, fake.refs]).toEqual([['bind 2c0a0000.dma', 'unbind 2c0a0000.dma'], 1]),
  },
  {
    what: 'an out_devid that cannot be written', fn: 'vfio_df_ioctl_bind_iommufd copy_to_user(out_devid) -> vfio_df_close', expect: -EFAULT,
    run: ({ u, cdev, iommufd }) => u.bind(cdev, iommufd, { at: u.ro }),
    after: ({ f, u, cdev, iommufd, fake }) => {
      expect([f.bus.opens, f.bus.releases, fake.bound.size]).toEqual([1, 1, 0]);
      expect(u.bind(cdev, iommufd)).toBe(0);
    },
  },
  {
    what: 'a device fd of the group path', fn: 'vfio_df_ioctl_bind_iommufd: df->group', expect: -EINVAL,
    run: ({ u, iommufd }) => u.bind(u.groupDevice().device, iommufd),
  },
];

describe('VFIO_DEVICE_BIND_IOMMUFD errors', () => {
  it.each(BIND)('$what: $expect ($fn)', (row) => {
    const s = setup();
    expect(row.run(s)).toBe(row.expect);
    row.after?.(s);
  });

  it('success: out_devid is the iommufd object id; the device ioctls work; close unbinds and drops the context reference', () => {
    const { f, u, cdev, iommufd, fake } = setup();
    expect(u.bind(cdev, iommufd)).toBe(0);
    expect(fake.refs).toBe(2);
    expect(u.mem.read32(u.page + vfio_device_bind_iommufd.out_devid)).toBe(3);
    expect(u.info(cdev)).toBe(0);
    expect(f.bus.opens).toBe(1);
    expect(u.attach(cdev, 1)).toBe(0);
    // closing /dev/iommu first: the bound device keeps its context reference (iommufd_ctx_from_fd)
    expect(u.close(iommufd)).toBe(0);
    expect(fake.refs).toBe(1);
    expect(u.close(cdev)).toBe(0);
    expect(fake.events).toEqual(['bind 2c0a0000.dma', 'attach 2c0a0000.dma 1', 'detach 2c0a0000.dma', 'unbind 2c0a0000.dma']);
    expect([f.bus.releases, fake.refs]).toEqual([1, 0]);
  });
});

describe('VFIO_DEVICE_ATTACH_IOMMUFD_PT / DETACH_IOMMUFD_PT errors', () => {
  const bound = (): ReturnType<typeof setup> => {
    const s = setup();
    expect(s.u.bind(s.cdev, s.iommufd)).toBe(0);
    return s;
  };
  it.each([
    { what: 'an unmapped argument', fn: 'vfio_df_ioctl_attach_pt copy_from_user', expect: -EFAULT, run: ({ u, cdev }: ReturnType<typeof setup>) => u.ioctl(cdev, VFIO_DEVICE_ATTACH_IOMMUFD_PT, 0x10) },
    { what: 'argsz below minsz', fn: 'vfio_df_ioctl_attach_pt attach.argsz < minsz', expect: -EINVAL, run: ({ u, cdev }: ReturnType<typeof setup>) => u.attach(cdev, 1, { argsz: 11 }) },
    { what: 'a flag', fn: 'vfio_df_ioctl_attach_pt attach.flags (v6.12: no PASID flag)', expect: -EINVAL, run: ({ u, cdev }: ReturnType<typeof setup>) => u.attach(cdev, 1, { flags: 1 }) },
    { what: 'an unknown pt_id', fn: 'vfio_iommufd_physical_attach_ioas -> iommufd_device_attach', expect: -ENOENT, run: ({ u, cdev }: ReturnType<typeof setup>) => u.attach(cdev, 99) },
    { what: 'a pt_id that cannot be written back', fn: 'vfio_df_ioctl_attach_pt copy_to_user(pt_id) -> detach_ioas', expect: -EFAULT, run: ({ u, cdev }: ReturnType<typeof setup>) => u.attach(cdev, 1, { at: u.ro }) },
    { what: 'DETACH: an unmapped argument', fn: 'vfio_df_ioctl_detach_pt copy_from_user', expect: -EFAULT, run: ({ u, cdev }: ReturnType<typeof setup>) => u.ioctl(cdev, VFIO_DEVICE_DETACH_IOMMUFD_PT, 0x10) },
    { what: 'DETACH: argsz below minsz', fn: 'vfio_df_ioctl_detach_pt detach.argsz < minsz', expect: -EINVAL, run: ({ u, cdev }: ReturnType<typeof setup>) => u.detach(cdev, { argsz: 7 }) },
    { what: 'DETACH: a flag', fn: 'vfio_df_ioctl_detach_pt detach.flags', expect: -EINVAL, run: ({ u, cdev }: ReturnType<typeof setup>) => u.detach(cdev, { flags: 1 }) },
    { what: 'DETACH when not attached', fn: 'vfio_iommufd_physical_detach_ioas: nothing to do', expect: 0, run: ({ u, cdev }: ReturnType<typeof setup>) => u.detach(cdev) },
  ])('$what: $expect ($fn)', (row) => {
    const s = bound();
    expect(row.run(s)).toBe(row.expect);
    expect(s.fake.attached.size).toBe(0);
  });

  it('attach writes back the attached id (the HWPT made for an IOAS); a second attach replaces; detach detaches', () => {
    const { u, cdev, fake } = bound();
    expect(u.attach(cdev, 1)).toBe(0);
    expect(u.mem.read32(u.page + vfio_device_attach_iommufd_pt.pt_id)).toBe(fake.hwpt);
    expect(u.attach(cdev, fake.hwpt)).toBe(0);
    expect(u.detach(cdev)).toBe(0);
    expect(fake.events).toEqual(['bind 2c0a0000.dma', 'attach 2c0a0000.dma 1', 'replace 2c0a0000.dma 2', 'detach 2c0a0000.dma']);
  });
});

describe('exclusion between the group path and the cdev path', () => {
  it('a cdev-bound device blocks the group open (vfio_group_fops_open: cdev_device_open_cnt), until its fd is closed', () => {
    const { u, cdev, iommufd } = setup();
    expect(u.bind(cdev, iommufd)).toBe(0);
    expect(u.open('/dev/vfio/0')).toBe(-EBUSY);
    expect(u.close(cdev)).toBe(0);
    expect(u.open('/dev/vfio/0')).toBeGreaterThanOrEqual(0);
  });

  it('an unbound cdev fd blocks nothing; device fds of the group path keep blocking the bind after the group fd is closed', () => {
    const { u, cdev, iommufd } = setup();
    const g = u.groupDevice();
    expect(g.device).toBeGreaterThanOrEqual(0);
    expect(u.close(g.group)).toBe(0);
    expect(u.bind(cdev, iommufd)).toBe(-EBUSY);
    expect(u.close(g.device)).toBe(0);
    expect(u.bind(cdev, iommufd)).toBe(0);
  });
});
