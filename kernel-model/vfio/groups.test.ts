import { describe, expect, it } from 'vitest';
import type { GuestProgram } from '../../emulator/cpu/stub.js';
import {
  EBUSY, EINVAL, MAP_ANONYMOUS, MAP_PRIVATE, O_RDWR, PROT_READ, PROT_WRITE,
  VFIO_DMA_MAP_FLAG_READ, VFIO_GROUP_GET_DEVICE_FD, VFIO_GROUP_SET_CONTAINER, VFIO_IOMMU_MAP_DMA, VFIO_SET_IOMMU, VFIO_TYPE1_IOMMU,
  type Sys,
} from '../uapi/index.js';
import { fakeDevice } from './testing/fake-iommu.js';
import { makeFixture } from './testing/fixture.js';

function* page(sys: Sys): GuestProgram<number> {
  return yield* sys.mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
}

describe('several groups in one container', () => {
  it('a group joining a container with an IOMMU is attached to it; the attach error is returned', () => {
    const fx = makeFixture();
    const dev1 = fakeDevice('2c0c0000.irq');
    const g1 = fx.iommu.addGroup(1, [dev1]);
    expect(fx.vfio.addGroupDev(dev1, fx.bus, null)).toBe(0);
    const out: unknown[] = [];
    const { thread } = fx.run(function* (sys) {
      const s = yield* page(sys);
      const c = yield* sys.open('/dev/vfio/vfio', O_RDWR);
      const ga = yield* sys.open('/dev/vfio/0', O_RDWR);
      const gb = yield* sys.open('/dev/vfio/1', O_RDWR);
      sys.mem.write32(s, c);
      out.push(yield* sys.ioctl(ga, VFIO_GROUP_SET_CONTAINER, s));
      out.push(yield* sys.ioctl(c, VFIO_SET_IOMMU, VFIO_TYPE1_IOMMU));
      // group 1 is already attached to some other domain: the IOMMU refuses
      fx.iommu.attached.set(g1, fx.iommu.domains[0]!);
      out.push(yield* sys.ioctl(gb, VFIO_GROUP_SET_CONTAINER, s));
      fx.iommu.attached.delete(g1);
      out.push(yield* sys.ioctl(gb, VFIO_GROUP_SET_CONTAINER, s));
      out.push(fx.type1!.instances[0]!.groups.map((g) => g.id));
      const st = fx.vfio.containerStates();
      expect(st).toEqual([{ id: 1, groups: [0, 1], iommu: 'vfio-iommu-type1', data: fx.type1!.instances[0] }]);
      // map, then close group 0: the container keeps its IOMMU and mappings through group 1
      sys.mem.write32(s + 64, 32);
      sys.mem.write32(s + 68, VFIO_DMA_MAP_FLAG_READ);
      sys.mem.write64(s + 72, BigInt(s));
      sys.mem.write64(s + 80, 0n);
      sys.mem.write64(s + 88, 4096n);
      out.push(yield* sys.ioctl(c, VFIO_IOMMU_MAP_DMA, s + 64));
      yield* sys.close(ga);
      out.push(fx.type1!.instances.length, fx.mem.pages.pinnedPages);
      yield* sys.close(gb);
      out.push(fx.type1!.instances.length, fx.mem.pages.pinnedPages);
      return 0;
    });
    expect(thread.exit!.trap).toBeNull();
    expect(out).toEqual([0, 0, -EBUSY, 0, [0, 1], 0, 1, 1, 0, 0]);
  });

  it('vfio_del_group_dev while a device fd is open completes at its release', () => {
    const fx = makeFixture();
    const out: unknown[] = [];
    fx.run(function* (sys) {
      const s = yield* page(sys);
      const c = yield* sys.open('/dev/vfio/vfio', O_RDWR);
      const g = yield* sys.open('/dev/vfio/0', O_RDWR);
      sys.mem.write32(s, c);
      yield* sys.ioctl(g, VFIO_GROUP_SET_CONTAINER, s);
      yield* sys.ioctl(c, VFIO_SET_IOMMU, VFIO_TYPE1_IOMMU);
      sys.mem.writeCString(s + 100, '2c0a0000.dma');
      const d = yield* sys.ioctl(g, VFIO_GROUP_GET_DEVICE_FD, s + 100);
      out.push(fx.vfio.delGroupDev(fx.dev) !== null);
      out.push(fx.vfio.groupState(0)!.devices);
      out.push(yield* sys.ioctl(g, VFIO_GROUP_GET_DEVICE_FD, s + 100)); // removing: not offered
      yield* sys.close(d);
      out.push(fx.vfio.groupState(0)!.devices);
      yield* sys.close(g);
      out.push(fx.vfio.groupState(0), fx.vfs.walk('/dev/vfio/0', true));
      return 0;
    });
    expect(out).toEqual([true, ['2c0a0000.dma'], -19, [], null, -2]);
    expect(EINVAL).toBe(22);
  });
});
