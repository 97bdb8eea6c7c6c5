import { describe, expect, it } from 'vitest';
import { EBUSY, EINVAL, ENODEV } from '../base/errno.js';
import { bootWithFakes, sysRead, sysWrite } from '../testing/fixtures.js';
import type { Kernel } from '../kernel.js';
import type { KDevice, KDriver } from './types.js';

const DMA = '2c0a0000.dma';
/** the 2014 profiles keep the PL330 on the platform bus (the RFC's set-up) */
const D = '/sys/bus/platform';
/** mainline: the PL330 (`arm,primecell`) is an AMBA device (caps.primecellBus); the driver-core rules are the same */
const A = '/sys/bus/amba';

/** a stand-in for vfio-platform: matches nothing by compatible */
class StubDriver implements KDriver {
  readonly ofMatch: string[] = [];
  probed: string[] = [];
  removed: string[] = [];
  constructor(
    readonly name: string,
    public probeResult = 0,
  ) {}
  probe(dev: KDevice): number {
    this.probed.push(dev.name);
    return this.probeResult;
  }
  remove(dev: KDevice): void {
    this.removed.push(dev.name);
  }
}

function driverOf(k: Kernel, name: string): string | null {
  return k.driverCore.findDeviceOnAnyBus(name)?.driver?.name ?? null;
}

describe('driver core: boot state', () => {
  it('binds the PL330 to its host driver with sysfs links both ways', () => {
    const { k } = bootWithFakes('mainline');
    expect(driverOf(k, DMA)).toBe('dma-pl330');
    expect(k.sysfs.lookupNoFollow(`bus/amba/devices/${DMA}/driver`)).toEqual({ kind: 'link', target: '/sys/bus/amba/drivers/dma-pl330' });
    expect(k.sysfs.list('bus/amba/drivers/dma-pl330')).toEqual([DMA, 'bind', 'uevent', 'unbind']);
    expect(k.sysfs.list('bus/amba')).toEqual(['devices', 'drivers', 'drivers_autoprobe', 'drivers_probe', 'uevent']);
    expect(sysRead(k.sysfs, `${A}/drivers_autoprobe`)).toBe('1\n');
  });

  it('driver_override exists in mainline only (it landed in 3.16)', () => {
    expect(bootWithFakes('mainline').k.sysfs.lookup(`bus/amba/devices/${DMA}/driver_override`)).not.toBeNull();
    expect(bootWithFakes('rfc-v4').k.sysfs.lookup(`bus/platform/devices/${DMA}/driver_override`)).toBeNull();
  });
});

describe('driver core: mainline binding through sysfs', () => {
  it('unbind + driver_override + drivers_probe moves the device to another driver', () => {
    const { k } = bootWithFakes('mainline');
    const vfio = new StubDriver('vfio-platform');
    expect(k.driverCore.driverRegister(vfio, 'amba')).toBe(0);
    expect(vfio.probed).toEqual([]); // no match by compatible
    expect(sysRead(k.sysfs, `${A}/devices/${DMA}/driver_override`)).toBe('(null)\n');
    expect(sysWrite(k.sysfs, `${A}/devices/${DMA}/driver_override`, 'vfio-platform\n')).toBe(14);
    expect(sysRead(k.sysfs, `${A}/devices/${DMA}/driver_override`)).toBe('vfio-platform\n');
    // setting the override neither unbinds nor probes
    expect(driverOf(k, DMA)).toBe('dma-pl330');
    expect(sysWrite(k.sysfs, `${A}/devices/${DMA}/driver/unbind`, `${DMA}\n`)).toBe(DMA.length + 1);
    expect(driverOf(k, DMA)).toBeNull();
    expect(k.sysfs.lookupNoFollow(`bus/amba/drivers/dma-pl330/${DMA}`)).toBeNull();
    expect(sysWrite(k.sysfs, `${A}/drivers_probe`, `${DMA}\n`)).toBe(DMA.length + 1);
    expect(driverOf(k, DMA)).toBe('vfio-platform');
    expect(vfio.probed).toEqual([DMA]);
    expect(k.sysfs.list('bus/amba/drivers/vfio-platform')).toContain(DMA);
  });

  it('an override naming a missing driver blocks binding; clearing restores matching', () => {
    const { k } = bootWithFakes('mainline');
    sysWrite(k.sysfs, `${A}/devices/${DMA}/driver_override`, 'nosuchdriver\n');
    sysWrite(k.sysfs, `${A}/drivers/dma-pl330/unbind`, DMA);
    expect(sysWrite(k.sysfs, `${A}/drivers_probe`, DMA)).toBe(DMA.length);
    expect(driverOf(k, DMA)).toBeNull();
    expect(sysWrite(k.sysfs, `${A}/drivers/dma-pl330/bind`, DMA)).toBe(-ENODEV);
    // an empty write ("echo > file" sends "\n") clears
    expect(sysWrite(k.sysfs, `${A}/devices/${DMA}/driver_override`, '\n')).toBe(1);
    expect(sysRead(k.sysfs, `${A}/devices/${DMA}/driver_override`)).toBe('(null)\n');
    sysWrite(k.sysfs, `${A}/drivers_probe`, `${DMA}\n`);
    expect(driverOf(k, DMA)).toBe('dma-pl330');
  });

  it('driver_override is cut at the first newline and refuses page-sized input', () => {
    const { k } = bootWithFakes('mainline');
    expect(sysWrite(k.sysfs, `${A}/devices/${DMA}/driver_override`, 'abc\ndef\n')).toBe(8);
    expect(sysRead(k.sysfs, `${A}/devices/${DMA}/driver_override`)).toBe('abc\n');
    expect(sysWrite(k.sysfs, `${A}/devices/${DMA}/driver_override`, 'x'.repeat(4095))).toBe(-EINVAL);
    expect(sysWrite(k.sysfs, `${A}/devices/${DMA}/driver_override`, 'x'.repeat(4094))).toBe(4094);
  });

  it('bind/unbind files: errors as Linux', () => {
    const { k } = bootWithFakes('mainline');
    expect(sysWrite(k.sysfs, `${A}/drivers/dma-pl330/bind`, 'nosuch.dev\n')).toBe(-ENODEV);
    expect(sysWrite(k.sysfs, `${A}/drivers/dma-pl330/bind`, `${DMA}\n`)).toBe(-EBUSY);
    expect(sysWrite(k.sysfs, `${A}/drivers/dma-pl330/unbind`, 'nosuch.dev\n')).toBe(-ENODEV);
    const other = new StubDriver('other');
    k.driverCore.driverRegister(other, 'amba');
    expect(sysWrite(k.sysfs, `${A}/drivers/other/unbind`, `${DMA}\n`)).toBe(-ENODEV);
    expect(driverOf(k, DMA)).toBe('dma-pl330');
    // a driver that does not match cannot be bound with bind
    sysWrite(k.sysfs, `${A}/drivers/dma-pl330/unbind`, `${DMA}\n`);
    expect(sysWrite(k.sysfs, `${A}/drivers/other/bind`, `${DMA}\n`)).toBe(-ENODEV);
    expect(sysWrite(k.sysfs, `${A}/drivers/dma-pl330/bind`, `${DMA}\n`)).toBe(DMA.length + 1);
    expect(driverOf(k, DMA)).toBe('dma-pl330');
    // "name\n\n" is not the device's name
    sysWrite(k.sysfs, `${A}/drivers/dma-pl330/unbind`, `${DMA}\n`);
    expect(sysWrite(k.sysfs, `${A}/drivers/dma-pl330/bind`, `${DMA}\n\n`)).toBe(-ENODEV);
  });

  it('a probe error propagates to the bind write (mainline) and leaves the device unbound', () => {
    const { k } = bootWithFakes('mainline');
    const bad = new StubDriver('bad', -EINVAL);
    k.driverCore.driverRegister(bad, 'amba');
    sysWrite(k.sysfs, `${A}/devices/${DMA}/driver_override`, 'bad\n');
    sysWrite(k.sysfs, `${A}/drivers/dma-pl330/unbind`, DMA);
    expect(sysWrite(k.sysfs, `${A}/drivers/bad/bind`, DMA)).toBe(-EINVAL);
    expect(driverOf(k, DMA)).toBeNull();
    expect(k.sysfs.lookupNoFollow(`bus/amba/devices/${DMA}/driver`)).toBeNull();
    // mainline call_driver_probe: dev_err(dev, "probe with driver %s failed with error %d")
    expect(k.log.grep(/bad 2c0a0000.dma: probe with driver bad failed with error -22/).length).toBe(1);
    expect(k.log.grep(/probe of 2c0a0000.dma failed/).length).toBe(0);
  });

  it('drivers_autoprobe 0 keeps new drivers from binding; unregister unbinds and removes the directory', () => {
    const { k } = bootWithFakes('mainline');
    sysWrite(k.sysfs, `${A}/drivers/dma-pl330/unbind`, DMA);
    sysWrite(k.sysfs, `${A}/drivers_autoprobe`, '0\n');
    k.driverCore.driverUnregister(k.drivers.pl330);
    expect(k.sysfs.lookup('bus/amba/drivers/dma-pl330')).toBeNull();
    k.driverCore.driverRegister(k.drivers.pl330, 'amba');
    expect(driverOf(k, DMA)).toBeNull();
    sysWrite(k.sysfs, `${A}/drivers_autoprobe`, '1\n');
    k.driverCore.driverUnregister(k.drivers.pl330);
    k.driverCore.driverRegister(k.drivers.pl330, 'amba');
    expect(driverOf(k, DMA)).toBe('dma-pl330');
    k.driverCore.driverUnregister(k.drivers.pl330);
    expect(driverOf(k, DMA)).toBeNull();
    expect(k.driverCore.driverRegister(k.drivers.testDma)).toBeLessThan(0); // already registered: -EBUSY
  });
});

describe('driver core: 2014 semantics', () => {
  it('bind of a bound device is -ENODEV; a failed probe is -ENODEV', () => {
    const { k } = bootWithFakes('baseline');
    expect(sysWrite(k.sysfs, `${D}/drivers/dma-pl330/bind`, `${DMA}\n`)).toBe(-ENODEV);
    const bad = new StubDriver(DMA, -EINVAL); // matches by name
    k.driverCore.driverRegister(bad);
    sysWrite(k.sysfs, `${D}/drivers/dma-pl330/unbind`, DMA);
    expect(sysWrite(k.sysfs, `${D}/drivers/${DMA}/bind`, DMA)).toBe(-ENODEV);
  });

  it('driver_probe_device is exported only with patch 01; it returns 1 / 0 / -ENODEV', () => {
    expect(bootWithFakes('baseline').k.driverCore.driverProbeDevice).toBeNull();
    const { k } = bootWithFakes('rfc-v4');
    const dpd = k.driverCore.driverProbeDevice!;
    const vfio = new StubDriver('vfio-platform');
    k.driverCore.driverRegister(vfio);
    const dev = k.driverCore.findDevice('platform', DMA)!;
    sysWrite(k.sysfs, `${D}/drivers/dma-pl330/unbind`, DMA);
    expect(dpd(vfio, dev)).toBe(1); // binds without a bus match
    expect(driverOf(k, DMA)).toBe('vfio-platform');
    sysWrite(k.sysfs, `${D}/drivers/vfio-platform/unbind`, DMA);
    vfio.probeResult = -EINVAL;
    expect(dpd(vfio, dev)).toBe(0);
    expect(driverOf(k, DMA)).toBeNull();
  });

  it('driver_probe_device on a device that already has a driver: the 2014 failure path drops the binding', () => {
    const { k } = bootWithFakes('rfc-v4');
    const vfio = new StubDriver('vfio-platform');
    k.driverCore.driverRegister(vfio);
    const dev = k.driverCore.findDevice('platform', DMA)!;
    expect(k.driverCore.driverProbeDevice!(vfio, dev)).toBe(0);
    expect(vfio.probed).toEqual([]);
    expect(dev.driver).toBeNull();
    expect(k.log.grep(/driver_sysfs_add\(2c0a0000.dma\) failed/).length).toBe(1);
  });
});

describe('driver core: bus notifiers', () => {
  it('reports bind/unbind events in order and lets bind-driver veto a probe', () => {
    const { k } = bootWithFakes('mainline');
    const events: string[] = [];
    let veto = false;
    k.driverCore.registerNotifier((ev, dev, drv) => {
      events.push(`${ev} ${dev.name} ${drv?.name ?? '-'}`);
      return veto && ev === 'bind-driver' ? -EBUSY : undefined;
    });
    sysWrite(k.sysfs, `${A}/drivers/dma-pl330/unbind`, DMA);
    sysWrite(k.sysfs, `${A}/drivers/dma-pl330/bind`, DMA);
    expect(events).toEqual([
      `unbind-driver ${DMA} dma-pl330`, `unbound-driver ${DMA} dma-pl330`,
      `bind-driver ${DMA} dma-pl330`, `bound-driver ${DMA} dma-pl330`,
    ]);
    sysWrite(k.sysfs, `${A}/drivers/dma-pl330/unbind`, DMA);
    veto = true;
    expect(sysWrite(k.sysfs, `${A}/drivers/dma-pl330/bind`, DMA)).toBe(-EBUSY);
    expect(driverOf(k, DMA)).toBeNull();
    expect(k.drivers.pl330.hosts.length).toBe(0); // probe never ran
  });
});
