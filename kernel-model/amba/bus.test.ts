import { describe, expect, it } from 'vitest';
import { EBUSY, EINVAL, ENODEV } from '../base/errno.js';
import { Kernel } from '../kernel.js';
import { parseProfile } from '../profile.js';
import { defaultBoardTree, FakeIrq, fakePl330Regs, fakeSmmuRegs, makeMachine, node, sysRead, sysWrite, type RegFile } from '../testing/fixtures.js';
import { VFIO_DEVICE_FLAGS_AMBA, VFIO_DEVICE_FLAGS_PLATFORM } from '../uapi/constants.js';
import { setup, vfioDriverOf } from '../vfio/platform/testing/user.js';
import { VFIO_AMBA_DEPRECATION } from '../vfio/platform/vfio-amba.js';
import { System } from '../../tools/system/system.js';
import { AmbaDevice } from './bus.js';

const DMA = '2c0a0000.dma';
/** the PrimeCell id words of a 4 KiB window: periphid at 0xFE0..0xFEC, cell id at 0xFF0..0xFFC */
const ID_OFFSETS = [0xfe0, 0xfe4, 0xfe8, 0xfec, 0xff0, 0xff4, 0xff8, 0xffc];

/** the default board with register-file fakes; `before` may change the PL330's registers or node before boot */
function boot(profile: string, before?: (pl330: RegFile, tree: ReturnType<typeof defaultBoardTree>) => void): { k: Kernel; pl330: RegFile; readsAtPopulate: number[] } {
  const m = makeMachine();
  const smmu = fakeSmmuRegs();
  const pl330 = fakePl330Regs();
  m.bus.addMmio('smmu', 0x2b400000, 0x10000, smmu);
  m.bus.addMmio('pl330', 0x2c0a0000, 0x1000, pl330);
  const tree = defaultBoardTree();
  before?.(pl330, tree);
  const k = new Kernel(m, tree, parseProfile(profile), new FakeIrq());
  // of_platform_populate alone: what the AMBA bus reads before any driver is registered
  let readsAtPopulate: number[] = [];
  const populate = k.platformBus.populate.bind(k.platformBus);
  k.platformBus.populate = () => {
    const r = populate();
    readsAtPopulate = [...pl330.reads];
    return r;
  };
  k.boot();
  return { k, pl330, readsAtPopulate };
}

describe('which bus an arm,primecell node is on (caps.primecellBus)', () => {
  it.each([
    // [profile, bus, the kernel function that decides]
    ['mainline', 'amba', 'of_platform_bus_create -> of_amba_device_create -> amba_device_add'],
    ['rfc-v4', 'platform', 'the RFC v4 set-up: vfio_bind searches the platform bus'],
    ['patches:1-3', 'platform', 'the RFC v4 set-up'],
    ['baseline', 'platform', 'the RFC v4 set-up'],
  ] as const)('%s: the PL330 is a(n) %s device (%s)', (profile, bus, _fn) => {
    const { k } = boot(profile);
    const other = bus === 'amba' ? 'platform' : 'amba';
    expect(k.driverCore.findDevice(bus, DMA)?.driver?.name).toBe('dma-pl330');
    expect(k.driverCore.findDevice(other, DMA)).toBeNull();
    // the device directory is under the platform bus root either way (of_amba_device_create:
    // parent &platform_bus); its subsystem link names the bus
    expect(k.sysfs.lookupNoFollow(`devices/platform/${DMA}/subsystem`)).toEqual({ kind: 'link', target: `/sys/bus/${bus}` });
    expect(k.sysfs.lookupNoFollow(`bus/${bus}/devices/${DMA}`)).toEqual({ kind: 'link', target: `/sys/devices/platform/${DMA}` });
    expect(k.sysfs.lookup('bus/amba') !== null).toBe(bus === 'amba');
    // the other devices stay platform devices (the SMMU is not a PrimeCell)
    expect(k.driverCore.findDevice('platform', '2b400000.iommu')?.driver?.name).toBe('arm-smmu');
  });
});

describe('amba_device_add reads the PrimeCell id by MMIO (amba_read_periphid)', () => {
  it('mainline: the eight id words at the end of the 4 KiB window are read at add time, before any driver; sysfs id, resource, uevent', () => {
    const { k, readsAtPopulate } = boot('mainline');
    expect(readsAtPopulate).toEqual(ID_OFFSETS);
    const dev = k.driverCore.findDevice('amba', DMA) as AmbaDevice;
    expect(dev).toBeInstanceOf(AmbaDevice);
    expect(dev.periphid).toBe(0x00241330);
    expect(dev.cid).toBe(0xb105f00d);
    expect(sysRead(k.sysfs, `/sys/bus/amba/devices/${DMA}/id`)).toBe('00241330\n');
    expect(sysRead(k.sysfs, `/sys/bus/amba/devices/${DMA}/resource`)).toBe('\t000000002c0a0000\t000000002c0a0fff\t0000000000000200\n');
    // amba_uevent
    expect(sysRead(k.sysfs, `/sys/bus/amba/devices/${DMA}/uevent`)).toBe('DRIVER=dma-pl330\nAMBA_ID=00241330\nMODALIAS=amba:d00241330\n');
    // dma-pl330 matched by its amba_id table {0x00041330, 0x000fffff} (amba_lookup)
    expect(k.sysfs.lookupNoFollow(`bus/amba/drivers/dma-pl330/${DMA}`)).toEqual({ kind: 'link', target: `/sys/devices/platform/${DMA}` });
  });

  it('2014 profiles: no AMBA id read at populate (a platform device); the host driver reads the ids itself at probe', () => {
    const { readsAtPopulate, pl330 } = boot('rfc-v4');
    expect(readsAtPopulate).toEqual([]);
    expect(pl330.reads.slice(0, 8)).toEqual(ID_OFFSETS); // pl330 probe's get_id
  });

  it('a cell id that is not 0xB105F00D: periphid stays 0, amba_match re-reads and refuses (-EPROBE_DEFER: no driver); fixed, drivers_probe binds', () => {
    const { k, pl330 } = boot('mainline', (regs) => regs.regs.set(0xff0, 0));
    const dev = k.driverCore.findDevice('amba', DMA) as AmbaDevice;
    expect(dev.periphid).toBe(0);
    expect(dev.driver).toBeNull();
    expect(dev.ueventSuppressed).toBe(true);
    expect(sysRead(k.sysfs, `/sys/bus/amba/devices/${DMA}/id`)).toBe('00000000\n');
    const before = pl330.reads.length;
    expect(before).toBeGreaterThan(ID_OFFSETS.length); // add time + the match of dma-pl330's registration
    pl330.regs.set(0xff0, 0x0d);
    expect(sysWrite(k.sysfs, '/sys/bus/amba/drivers_probe', `${DMA}\n`)).toBe(DMA.length + 1);
    expect(pl330.reads.slice(before, before + 8)).toEqual(ID_OFFSETS);
    expect(dev.periphid).toBe(0x00241330);
    expect(dev.ueventSuppressed).toBe(false);
    expect(dev.driver?.name).toBe('dma-pl330');
  });

  it('`arm,primecell-periphid` hard-codes the id: nothing is read at add (of_amba_device_create)', () => {
    const { k, readsAtPopulate } = boot('mainline', (_r, tree) => {
      const dma = tree.root.children.find((n) => n.name === 'dma' && n.unitAddress === '2c0a0000')!;
      dma.props.push(node('x', null, { 'arm,primecell-periphid': [0x00041330] }).props[0]!);
    });
    expect(readsAtPopulate).toEqual([]);
    expect((k.driverCore.findDevice('amba', DMA) as AmbaDevice).periphid).toBe(0x00041330);
    expect(sysRead(k.sysfs, `/sys/bus/amba/devices/${DMA}/id`)).toBe('00041330\n');
  });
});

describe('driver_override and bind on the AMBA bus (mainline amba driver_override_store, amba_match, bind_store)', () => {
  it.each([
    // [what, path, value, result, kernel function]
    ['override a bound device', 'devices/2c0a0000.dma/driver_override', 'vfio-amba\n', 10, 'driver_override_store (neither unbinds nor probes)'],
    ['override with a page of text', 'devices/2c0a0000.dma/driver_override', 'x'.repeat(4095), -EINVAL, 'driver_set_override: count >= PAGE_SIZE - 1'],
    ['bind the bound device again', 'drivers/dma-pl330/bind', `${DMA}\n`, -EBUSY, 'bind_store -> device_driver_attach'],
    ['bind an unknown device', 'drivers/dma-pl330/bind', 'nosuch.dev\n', -ENODEV, 'bind_store: bus_find_device_by_name'],
    ['unbind from a driver that does not have it', 'drivers/vfio-amba/unbind', `${DMA}\n`, -ENODEV, 'unbind_store: dev->driver != drv'],
    ['probe an unknown device', 'drivers_probe', 'nosuch.dev\n', -ENODEV, 'drivers_probe_store: bus_find_device_by_name'],
  ] as const)('%s: /sys/bus/amba/%s = %i (%s)', (_what, path, value, result, _fn) => {
    // the booted system: the PL330 bound to dma-pl330, vfio-amba registered
    const k = new System({ profile: 'mainline', seed: 1 }).kernel;
    expect(k.driverCore.findDevice('amba', DMA)?.driver?.name).toBe('dma-pl330');
    expect(sysWrite(k.sysfs, `/sys/bus/amba/${path}`, value)).toBe(result);
    expect(k.driverCore.findDevice('amba', DMA)?.driver?.name).toBe('dma-pl330');
  });

  it('vfio-amba matches nothing by id (vfio_amba_ids is empty): only driver_override + drivers_probe bind it', () => {
    const k = new System({ profile: 'mainline', seed: 1 }).kernel;
    expect(sysWrite(k.sysfs, `/sys/bus/amba/devices/${DMA}/driver_override`, 'vfio-amba\n')).toBe(10);
    expect(sysWrite(k.sysfs, `/sys/bus/amba/drivers/dma-pl330/unbind`, DMA)).toBe(DMA.length);
    expect(sysWrite(k.sysfs, '/sys/bus/amba/drivers_probe', DMA)).toBe(DMA.length);
    expect(k.driverCore.findDevice('amba', DMA)?.driver?.name).toBe('vfio-amba');
    sysWrite(k.sysfs, `/sys/bus/amba/drivers/vfio-amba/unbind`, DMA);
    sysWrite(k.sysfs, `/sys/bus/amba/devices/${DMA}/driver_override`, '\n');
    expect(sysWrite(k.sysfs, '/sys/bus/amba/drivers/vfio-amba/bind', DMA)).toBe(-ENODEV); // amba_match: no id table entry
    expect(sysWrite(k.sysfs, '/sys/bus/amba/drivers_probe', DMA)).toBe(DMA.length);
    expect(k.driverCore.findDevice('amba', DMA)?.driver?.name).toBe('dma-pl330');
    expect(sysRead(k.sysfs, `/sys/bus/amba/devices/${DMA}/driver_override`)).toBe('(null)\n');
  });
});

describe('vfio-amba (mainline drivers/vfio/platform/vfio_amba.c)', () => {
  it.each([
    // [profile, VFIO bus driver, GET_INFO flags, regions, irqs, kernel function]
    ['mainline', 'vfio-amba', VFIO_DEVICE_FLAGS_AMBA, 1, 5, 'vfio_amba_init_dev: VFIO_DEVICE_FLAGS_AMBA, get_amba_resource (index 0 only), get_amba_irq'],
    ['rfc-v4', 'vfio-platform', VFIO_DEVICE_FLAGS_PLATFORM, 1, 5, 'patch 04 vfio_platform_ioctl GET_INFO (unchanged)'],
  ] as const)('%s: bound to %s, GET_INFO flags %i, %i region(s), %i irq(s) (%s)', (profile, drv, flags, regions, irqs, _fn) => {
    const { sys, u, device } = setup(profile);
    expect(sys.kernel.driverCore.findDeviceOnAnyBus(DMA)?.driver?.name).toBe(drv);
    expect(vfioDriverOf(sys).name).toBe(drv);
    expect(u.deviceInfo(device)).toEqual({ ret: 0, flags, numRegions: regions, numIrqs: irqs });
  });

  it('mainline: the device name is vfio-amba-<periphid> (irq handler names), region 0 at offset 0, the DEPRECATION line once, the IOMMU group through the AMBA bus', () => {
    const { sys, u, device } = setup('mainline');
    const k = sys.kernel;
    expect(u.regionInfo(device, 0)).toMatchObject({ ret: 0, size: 0x1000n, offset: 0n });
    expect(u.regionInfo(device, 1).ret).toBe(-EINVAL); // one region: get_amba_resource(1) is NULL
    expect(vfioDriverOf(sys).inspect()[0]!.device).toBe(DMA);
    expect([...vfioDriverOf(sys).devices.values()][0]!.name).toBe('vfio-amba-00241330');
    expect(sys.irq.procInterrupts()).toMatch(/vfio-irq\[\d+\]\(vfio-amba-00241330\)/);
    expect(k.log.lines().filter((l) => l.includes(VFIO_AMBA_DEPRECATION))).toEqual([expect.stringMatching(new RegExp(`vfio-amba ${DMA.replace('.', '\\.')}: ${VFIO_AMBA_DEPRECATION}$`))]);
    // arm-smmu serves the AMBA bus too (mainline: bus_iommu_probe over iommu_buses[])
    expect(k.iommu.present('amba')).toBe(true);
    expect(k.sysfs.lookupNoFollow(`devices/platform/${DMA}/iommu_group`)).toEqual({ kind: 'link', target: '/sys/kernel/iommu_groups/0' });
  });

  it('2014 profiles: no vfio-amba, no AMBA bus', () => {
    for (const profile of ['rfc-v4', 'patches:1-10', 'baseline']) {
      const { sys } = setup(profile === 'baseline' ? 'patches:1-4' : profile);
      expect(sys.vfioAmba, profile).toBeNull();
      expect(sys.kernel.ambaBus, profile).toBeNull();
      expect(sys.kernel.sysfs.lookup('bus/amba'), profile).toBeNull();
    }
  });
});
