import { describe, expect, it } from 'vitest';
import {
  EBADF, EBUSY, EFAULT, EINVAL, ENODEV, ENOENT, ENOTTY, EACCES,
  MAP_ANONYMOUS, MAP_PRIVATE, O_RDWR, PROT_READ, PROT_WRITE,
  VFIO_API_VERSION, VFIO_CHECK_EXTENSION, VFIO_GET_API_VERSION, VFIO_GROUP_FLAGS_CONTAINER_SET, VFIO_GROUP_FLAGS_VIABLE,
  VFIO_GROUP_GET_DEVICE_FD, VFIO_GROUP_GET_STATUS, VFIO_GROUP_SET_CONTAINER, VFIO_GROUP_UNSET_CONTAINER,
  VFIO_IOMMU_GET_INFO, VFIO_IOMMU_MAP_DMA, VFIO_IOMMU_UNMAP_DMA, VFIO_SET_IOMMU, VFIO_SPAPR_TCE_IOMMU, VFIO_TYPE1_IOMMU,
  VFIO_DEVICE_GET_INFO, VFIO_DMA_MAP_FLAG_READ, VFIO_DMA_MAP_FLAG_WRITE,
  type Sys,
} from '../uapi/index.js';
import type { GuestProgram } from '../../emulator/cpu/stub.js';
import { fakeDevice, fakeDriver } from './testing/fake-iommu.js';
import { makeFixture, type Fixture } from './testing/fixture.js';

/** run a guest body that returns a list of observed values */
function guest(fx: Fixture, body: (sys: Sys, out: number[]) => GuestProgram<void | number>, opts = {}): number[] {
  const out: number[] = [];
  const { thread } = fx.run(function* (sys) {
    const r = yield* body(sys, out);
    return typeof r === 'number' ? r : 0;
  }, opts);
  expect(thread.exit?.hostError ?? null).toBeNull();
  expect(thread.exit?.trap ?? null).toBeNull();
  return out;
}

function* page(sys: Sys): GuestProgram<number> {
  const a = yield* sys.mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return a;
}

/** opens container and group 0, attaches, sets TYPE1; returns [container, group, scratch] */
function* setup(sys: Sys, setIommu = true): GuestProgram<[number, number, number]> {
  const s = yield* page(sys);
  const c = yield* sys.open('/dev/vfio/vfio', O_RDWR);
  const g = yield* sys.open('/dev/vfio/0', O_RDWR);
  sys.mem.write32(s, c);
  const r = yield* sys.ioctl(g, VFIO_GROUP_SET_CONTAINER, s);
  if (r !== 0) throw new Error(`SET_CONTAINER ${r}`);
  if (setIommu) {
    const r2 = yield* sys.ioctl(c, VFIO_SET_IOMMU, VFIO_TYPE1_IOMMU);
    if (r2 !== 0) throw new Error(`SET_IOMMU ${r2}`);
  }
  return [c, g, s];
}

describe('container ioctls', () => {
  it('GET_API_VERSION, CHECK_EXTENSION, unknown request', () => {
    const fx = makeFixture('rfc-v4');
    const out = guest(fx, function* (sys, o) {
      const c = yield* sys.open('/dev/vfio/vfio', O_RDWR);
      o.push(yield* sys.ioctl(c, VFIO_GET_API_VERSION));
      o.push(yield* sys.ioctl(c, VFIO_CHECK_EXTENSION, VFIO_TYPE1_IOMMU));
      o.push(yield* sys.ioctl(c, VFIO_CHECK_EXTENSION, VFIO_SPAPR_TCE_IOMMU));
      o.push(yield* sys.ioctl(c, VFIO_CHECK_EXTENSION, 77));
      o.push(yield* sys.ioctl(c, 0x3b99));
      o.push(yield* sys.ioctl(c, 0x1234));
      o.push(yield* sys.ioctl(c, VFIO_IOMMU_MAP_DMA, 0));
    });
    // vfio_fops_unl_ioctl: without an IOMMU driver every other request is -EINVAL (its
    // `long ret = -EINVAL;`), an unknown one as much as an IOMMU one; never -ENOTTY
    expect(out).toEqual([VFIO_API_VERSION, 1, 0, 0, -EINVAL, -EINVAL, -EINVAL]);
  });

  it.each([
    ['baseline (no 03): type1 not registered', 'baseline', 0],
    ['patches:1,2 (no 03)', 'patches:1-2', 0],
    ['patches:3 (03 only)', 'patches:3', 1],
    ['rfc-v4', 'rfc-v4', 1],
    ['mainline', 'mainline', 1],
  ])('CHECK_EXTENSION(TYPE1) with %s', (_n, profile, want) => {
    const fx = makeFixture(profile);
    const out = guest(fx, function* (sys, o) {
      const c = yield* sys.open('/dev/vfio/vfio', O_RDWR);
      o.push(yield* sys.ioctl(c, VFIO_CHECK_EXTENSION, VFIO_TYPE1_IOMMU));
    });
    expect(out).toEqual([want]);
    expect(fx.type1 === null).toBe(want === 0);
  });

  it('without patch 03, SET_IOMMU(TYPE1) has no backend: -ENODEV (vfio_ioctl_set_iommu)', () => {
    const fx = makeFixture('baseline');
    const out = guest(fx, function* (sys, o) {
      const [c] = yield* setup(sys, false);
      o.push(yield* sys.ioctl(c, VFIO_SET_IOMMU, VFIO_TYPE1_IOMMU));
    });
    expect(out).toEqual([-ENODEV]);
  });

  it('SET_IOMMU: no group -EINVAL, unknown type -ENODEV, twice -EINVAL, then GET_INFO', () => {
    const fx = makeFixture();
    const out = guest(fx, function* (sys, o) {
      const c0 = yield* sys.open('/dev/vfio/vfio', O_RDWR);
      o.push(yield* sys.ioctl(c0, VFIO_SET_IOMMU, VFIO_TYPE1_IOMMU));
      const [c, , s] = yield* setup(sys, false);
      o.push(yield* sys.ioctl(c, VFIO_SET_IOMMU, 42));
      o.push(yield* sys.ioctl(c, VFIO_SET_IOMMU, VFIO_TYPE1_IOMMU));
      o.push(yield* sys.ioctl(c, VFIO_SET_IOMMU, VFIO_TYPE1_IOMMU));
      sys.mem.write32(s, 16);
      sys.mem.write32(s + 4, 0xffffffff);
      o.push(yield* sys.ioctl(c, VFIO_IOMMU_GET_INFO, s));
      o.push(sys.mem.read32(s + 4), sys.mem.read32(s + 8));
      sys.mem.write32(s, 15);
      o.push(yield* sys.ioctl(c, VFIO_IOMMU_GET_INFO, s));
      o.push(yield* sys.ioctl(c, VFIO_IOMMU_GET_INFO, 0x1000));
      o.push(yield* sys.ioctl(c, 0x3b80));
    });
    // the unknown type: vfio_ioctl_set_iommu's `ret = -ENODEV` when no driver offers it; with
    // type1 set, an unknown request reaches vfio_iommu_type1_ioctl: -ENOTTY
    expect(out).toEqual([-EINVAL, -ENODEV, 0, -EINVAL, 0, 0, 0x40201000, -EINVAL, -EFAULT, -ENOTTY]);
  });
});

describe('group ioctls', () => {
  it('open rules: ENOENT for unknown group, -EBUSY when already open, EACCES for non-root', () => {
    const fx = makeFixture();
    const out = guest(fx, function* (sys, o) {
      o.push(yield* sys.open('/dev/vfio/7', O_RDWR));
      const g = yield* sys.open('/dev/vfio/0', O_RDWR);
      o.push(g >= 0 ? 1 : g);
      o.push(yield* sys.open('/dev/vfio/0', O_RDWR));
      yield* sys.close(g);
      const g2 = yield* sys.open('/dev/vfio/0', O_RDWR);
      o.push(g2 >= 0 ? 1 : g2);
    });
    expect(out).toEqual([-ENOENT, 1, -EBUSY, 1]);
    const out2 = guest(fx, function* (sys, o) {
      o.push(yield* sys.open('/dev/vfio/0', O_RDWR));
      const c = yield* sys.open('/dev/vfio/vfio', O_RDWR);
      o.push(c >= 0 ? 1 : c);
    }, { uid: 1000 });
    expect(out2).toEqual([-EACCES, 1]);
  });

  it('GET_STATUS: viability and CONTAINER_SET; argsz and fault errors', () => {
    const other = fakeDevice('2c0b0000.dma');
    const fx = makeFixture('rfc-v4', { extraDevices: [other] });
    const out = guest(fx, function* (sys, o) {
      const s = yield* page(sys);
      const g = yield* sys.open('/dev/vfio/0', O_RDWR);
      sys.mem.write32(s, 8);
      o.push(yield* sys.ioctl(g, VFIO_GROUP_GET_STATUS, s), sys.mem.read32(s + 4));
      other.driver = fakeDriver('pl330'); // a sibling bound to a host driver: not viable
      o.push(yield* sys.ioctl(g, VFIO_GROUP_GET_STATUS, s), sys.mem.read32(s + 4));
      other.driver = null;
      const c = yield* sys.open('/dev/vfio/vfio', O_RDWR);
      sys.mem.write32(s + 64, c);
      o.push(yield* sys.ioctl(g, VFIO_GROUP_SET_CONTAINER, s + 64));
      o.push(yield* sys.ioctl(g, VFIO_GROUP_GET_STATUS, s), sys.mem.read32(s + 4));
      sys.mem.write32(s, 7);
      o.push(yield* sys.ioctl(g, VFIO_GROUP_GET_STATUS, s));
      o.push(yield* sys.ioctl(g, VFIO_GROUP_GET_STATUS, 0));
      sys.mem.write32(s, 100); // larger argsz accepted, minsz written back
      sys.mem.write32(s + 8, 0xdeadbeef);
      o.push(yield* sys.ioctl(g, VFIO_GROUP_GET_STATUS, s), sys.mem.read32(s + 8));
      o.push(yield* sys.ioctl(g, 0x3b64));
    });
    expect(out).toEqual([
      0, VFIO_GROUP_FLAGS_VIABLE,
      0, 0,
      0,
      0, VFIO_GROUP_FLAGS_VIABLE | VFIO_GROUP_FLAGS_CONTAINER_SET,
      -EINVAL, -EFAULT,
      0, 0xdeadbeef,
      -ENOTTY,
    ]);
  });

  it('SET_CONTAINER error paths', () => {
    const fx = makeFixture();
    const out = guest(fx, function* (sys, o) {
      const s = yield* page(sys);
      const g = yield* sys.open('/dev/vfio/0', O_RDWR);
      const c = yield* sys.open('/dev/vfio/vfio', O_RDWR);
      o.push(yield* sys.ioctl(g, VFIO_GROUP_SET_CONTAINER, 0x1000)); // fault
      sys.mem.write32(s, -1);
      o.push(yield* sys.ioctl(g, VFIO_GROUP_SET_CONTAINER, s)); // fd < 0
      sys.mem.write32(s, 99);
      o.push(yield* sys.ioctl(g, VFIO_GROUP_SET_CONTAINER, s)); // not open
      sys.mem.write32(s, g);
      o.push(yield* sys.ioctl(g, VFIO_GROUP_SET_CONTAINER, s)); // not a container
      sys.mem.write32(s, c);
      o.push(yield* sys.ioctl(g, VFIO_GROUP_SET_CONTAINER, s));
      o.push(yield* sys.ioctl(g, VFIO_GROUP_SET_CONTAINER, s)); // already has users
    });
    expect(out).toEqual([-EFAULT, -EINVAL, -EBADF, -EINVAL, 0, -EINVAL]);
  });

  it('UNSET_CONTAINER: -EINVAL without container, -EBUSY with an open device fd, 0 after close', () => {
    const fx = makeFixture();
    const out = guest(fx, function* (sys, o) {
      const g0 = yield* sys.open('/dev/vfio/0', O_RDWR);
      o.push(yield* sys.ioctl(g0, VFIO_GROUP_UNSET_CONTAINER));
      yield* sys.close(g0);
      const [c, g, s] = yield* setup(sys);
      sys.mem.writeCString(s + 100, '2c0a0000.dma');
      const d = yield* sys.ioctl(g, VFIO_GROUP_GET_DEVICE_FD, s + 100);
      o.push(d >= 0 ? 1 : d);
      o.push(yield* sys.ioctl(g, VFIO_GROUP_UNSET_CONTAINER));
      yield* sys.close(d);
      o.push(yield* sys.ioctl(g, VFIO_GROUP_UNSET_CONTAINER));
      o.push(yield* sys.ioctl(g, VFIO_GROUP_UNSET_CONTAINER));
      // the container lost its only group: the IOMMU backend was released
      o.push(yield* sys.ioctl(c, VFIO_IOMMU_GET_INFO, s));
    });
    expect(out).toEqual([-EINVAL, 1, -EBUSY, 0, -EINVAL, -EINVAL]);
    expect(fx.iommu.domains.length).toBe(0);
  });

  it('GET_DEVICE_FD rules', () => {
    const other = fakeDevice('2c0b0000.dma');
    const fx = makeFixture('rfc-v4', { extraDevices: [other] });
    const out = guest(fx, function* (sys, o) {
      const s = yield* page(sys);
      sys.mem.writeCString(s + 100, '2c0a0000.dma');
      const g = yield* sys.open('/dev/vfio/0', O_RDWR);
      o.push(yield* sys.ioctl(g, VFIO_GROUP_GET_DEVICE_FD, s + 100)); // no container
      const c = yield* sys.open('/dev/vfio/vfio', O_RDWR);
      sys.mem.write32(s, c);
      yield* sys.ioctl(g, VFIO_GROUP_SET_CONTAINER, s);
      o.push(yield* sys.ioctl(g, VFIO_GROUP_GET_DEVICE_FD, s + 100)); // no IOMMU
      yield* sys.ioctl(c, VFIO_SET_IOMMU, VFIO_TYPE1_IOMMU);
      other.driver = fakeDriver('pl330');
      o.push(yield* sys.ioctl(g, VFIO_GROUP_GET_DEVICE_FD, s + 100)); // not viable
      other.driver = null;
      sys.mem.writeCString(s + 200, 'nosuch.dev');
      o.push(yield* sys.ioctl(g, VFIO_GROUP_GET_DEVICE_FD, s + 200)); // -ENODEV
      o.push(yield* sys.ioctl(g, VFIO_GROUP_GET_DEVICE_FD, 0x2000)); // fault
      sys.mem.fill(s + 0, 0x41, 4096); // no NUL within PAGE_SIZE bytes: strndup_user says -EINVAL
      o.push(yield* sys.ioctl(g, VFIO_GROUP_GET_DEVICE_FD, s));
      sys.mem.writeCString(s + 100, '2c0a0000.dma');
      fx.bus.openError = -EBUSY;
      o.push(yield* sys.ioctl(g, VFIO_GROUP_GET_DEVICE_FD, s + 100)); // bus driver's error
      fx.bus.openError = 0;
      const d1 = yield* sys.ioctl(g, VFIO_GROUP_GET_DEVICE_FD, s + 100);
      const d2 = yield* sys.ioctl(g, VFIO_GROUP_GET_DEVICE_FD, s + 100);
      o.push(d1, d2);
      o.push(fx.vfio.groupState(0)!.containerUsers);
      o.push(yield* sys.ioctl(d1, VFIO_DEVICE_GET_INFO, s), yield* sys.ioctl(d1, 0x3b90));
      o.push(yield* sys.read(d1, s, 4), yield* sys.write(d1, s, 4));
    });
    expect(out).toEqual([-EINVAL, -EINVAL, -EINVAL, -ENODEV, -EFAULT, -EINVAL, -EBUSY, 2, 3, 3, 0, -ENOTTY, -EINVAL, -EINVAL]);
    // process exit closed everything: two opens, two releases, no container users left
    expect(fx.bus.opens).toBe(2);
    expect(fx.bus.releases).toBe(2);
    expect(fx.vfio.groupState(0)).toMatchObject({ containerUsers: 0, opened: false, containerSet: false });
  });

  it('release ordering: device fds keep the group in the container after the group fd closes', () => {
    const fx = makeFixture();
    let stateMid: unknown = null;
    const out = guest(fx, function* (sys, o) {
      const [c, g, s] = yield* setup(sys);
      sys.mem.writeCString(s + 100, '2c0a0000.dma');
      const d = yield* sys.ioctl(g, VFIO_GROUP_GET_DEVICE_FD, s + 100);
      // map one page
      sys.mem.write32(s + 512, 32);
      sys.mem.write32(s + 516, VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE);
      sys.mem.write64(s + 520, BigInt(s));
      sys.mem.write64(s + 528, 0n);
      sys.mem.write64(s + 536, 4096n);
      o.push(yield* sys.ioctl(c, VFIO_IOMMU_MAP_DMA, s + 512));
      yield* sys.close(g);
      yield* sys.close(c);
      stateMid = fx.vfio.groupState(0);
      // the group is still attached: reopening it is -EBUSY
      o.push(yield* sys.open('/dev/vfio/0', O_RDWR));
      o.push(fx.mem.pages.pinnedPages);
      yield* sys.close(d);
      o.push(fx.mem.pages.pinnedPages);
      const g2 = yield* sys.open('/dev/vfio/0', O_RDWR);
      o.push(g2 >= 0 ? 1 : g2);
    });
    expect(stateMid).toMatchObject({ opened: false, containerSet: true, containerUsers: 1 });
    expect(out).toEqual([0, -EBUSY, 1, 0, 1]);
    expect(fx.vfio.containers.size).toBe(0);
    expect(fx.iommu.domains.length).toBe(0);
  });

  it('groups appear and disappear with bus-driver registration', () => {
    const fx = makeFixture('rfc-v4', { register: false });
    expect(fx.vfs.walk('/dev/vfio/0', true)).toBe(-ENOENT);
    expect(fx.vfio.addGroupDev(fakeDevice('orphan'), fx.bus, null)).toBe(-EINVAL);
    expect(fx.vfio.addGroupDev(fx.dev, fx.bus, 1)).toBe(0);
    expect(fx.vfio.addGroupDev(fx.dev, fx.bus, 1)).toBe(-EBUSY);
    expect(typeof fx.vfs.walk('/dev/vfio/0', true)).toBe('object');
    expect(fx.vfio.delGroupDev(fx.dev)).toBe(1);
    expect(fx.vfs.walk('/dev/vfio/0', true)).toBe(-ENOENT);
  });
});
