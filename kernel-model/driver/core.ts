import type { DtNode } from '../../emulator/dt/types.js';
import { EBUSY, EEXIST, EFAULT, EINVAL, ENODEV, ENXIO, EPROBE_DEFER, errnoName } from '../base/errno.js';
import type { KernelLog } from '../base/klog.js';
import { KernelOops } from '../base/oops.js';
import { PAGE_SIZE } from '../mm/page-alloc.js';
import type { Profile } from '../profile.js';
import type { Sysfs } from '../sysfs/sysfs.js';
import type { BusType, KDevice, KDriver, Resource } from './types.js';

/**
 * The driver core (drivers/base/{bus,dd,core,platform}.c, reduced): bus types, device
 * and driver registration, matching, probe/remove, and the sysfs files administrators
 * bind with. Behaviour follows the profile's era where Linux changed it:
 *
 * - 2014 (3.14): bind_store answers -ENODEV when the device already has a driver or the
 *   probe fails; driver_probe_device returns 1 (bound) or 0 (probe failed: errors are
 *   "ignored so that the next driver can try its luck") and does not check that the
 *   device is unbound (vfio_bind relies on that; see really_probe below).
 * - mainline: bind_store answers -EBUSY for a bound device and the probe's own error;
 *   platform devices have driver_override.
 */
export class Bus implements BusType {
  readonly devices: Device[] = [];
  readonly drivers: KDriver[] = [];
  autoprobe = true;
  /**
   * the bus type's own match (struct bus_type.match), e.g. amba_match; null: the platform
   * bus's platform_match (DriverCore.match)
   */
  matchFn: ((drv: KDriver, dev: Device) => boolean) | null = null;
  /** the bus type's uevent variables (struct bus_type.uevent), e.g. amba_uevent; null: the OF modalias */
  ueventFn: ((dev: Device) => string) | null = null;
  /**
   * the directory under /sys/devices its devices live in: their parent device. The bus name
   * for the platform bus (/sys/devices/platform); an AMBA device created from the device tree
   * has the platform bus root as parent too (of_amba_device_create: `dev->dev.parent =
   * parent ? : &platform_bus`), so it is /sys/devices/platform/<name> as well
   */
  devicesDir: string;
  constructor(readonly name: string) {
    this.devicesDir = name;
  }
}

export class Device implements KDevice {
  driver: KDriver | null = null;
  drvdata: unknown = null;
  /** its driver's remove() is waiting (deviceReleaseDriver): still bound until it is done */
  releasing = false;
  /** what waits for device_lock, which the waiting remover holds: run in order when it is done */
  lockWaiters: (() => void)[] = [];
  driverOverride: string | null = null;
  iommuGroup: { readonly id: number } | null = null;
  registered = false;
  /** compatible strings of the node (of_match) */
  readonly compatible: string[];
  readonly resources: Resource[];
  /**
   * The resources and compatible strings are fixed when the device is created (from its
   * device-tree node): frozen, so that nothing can change them and the fuzzer's
   * snapshot (tools/fuzz/snapshot.ts) need not record and restore them.
   */
  constructor(
    readonly name: string,
    readonly bus: Bus,
    readonly ofNode: DtNode | null,
    resources: Resource[],
    readonly streamIds: number[],
    compatible: string[] = [],
  ) {
    for (const r of resources) Object.freeze(r);
    this.resources = Object.freeze(resources) as Resource[];
    this.compatible = Object.freeze(compatible) as string[];
  }

  /** platform_get_resource(dev, kind, n) */
  resource(kind: 'mem' | 'irq', n: number): Resource | null {
    let i = 0;
    for (const r of this.resources) {
      if (r.kind === kind) {
        if (i === n) return r;
        i++;
      }
    }
    return null;
  }

  /** platform_get_irq: the virq or -ENXIO */
  irq(n: number): number {
    const r = this.resource('irq', n);
    return r ? r.start : -ENXIO;
  }

  get sysfsPath(): string {
    return `/sys/${this.sysfsRel}`;
  }

  /** the device's directory relative to /sys */
  get sysfsRel(): string {
    return `devices/${this.bus.devicesDir}/${this.name}`;
  }
}

/**
 * Bus notifier events (BUS_NOTIFY_*). A 'bind-driver' listener may veto the probe by
 * returning a negative errno. (Mainline's refusal of a driver for a device whose group user
 * space owns is not a notifier: really_probe asks the bus's dma_configure, `dmaConfigure` below.)
 */
export type BusEvent = 'add-device' | 'del-device' | 'bind-driver' | 'bound-driver' | 'unbind-driver' | 'unbound-driver';
export type BusNotifier = (ev: BusEvent, dev: KDevice, drv: KDriver | null) => number | void;

/** sysfs_streq: equal, ignoring one trailing newline on either side */
export function sysfsStreq(a: string, b: string): boolean {
  const strip = (s: string): string => (s.endsWith('\n') ? s.slice(0, -1) : s);
  return strip(a) === strip(b);
}

export class DriverCore {
  readonly buses = new Map<string, Bus>();
  /** devices, in registration order */
  private readonly sysfsDriverDirs = new Map<KDriver, string>();
  private readonly notifiers: BusNotifier[] = [];
  /**
   * the bus's dma_configure as mainline really_probe calls it before the probe
   * (platform_dma_configure -> iommu_device_use_default_domain): 0 or -errno; set by the
   * kernel, used when caps.groupOwnershipGuard is 'refuse-bind'
   */
  dmaConfigure: ((dev: KDevice) => number) | null = null;
  /**
   * the bus's dma_cleanup (mainline platform_dma_cleanup -> iommu_device_unuse_default_domain),
   * run at unbind after ->remove and on a probe that failed after dma_configure, for the same
   * drivers dma_configure counted
   */
  dmaCleanup: ((dev: KDevice) => void) | null = null;
  /** when set, an Oops in a probe is handed here instead of propagating (boot) */
  oopsHandler: ((e: KernelOops, drv: KDriver, dev: KDevice) => void) | null = null;

  constructor(
    readonly sysfs: Sysfs,
    readonly profile: Profile,
    readonly log: KernelLog,
  ) {}

  /** bus_register_notifier (all buses) */
  registerNotifier(fn: BusNotifier): void {
    this.notifiers.push(fn);
  }

  unregisterNotifier(fn: BusNotifier): void {
    const i = this.notifiers.indexOf(fn);
    if (i >= 0) this.notifiers.splice(i, 1);
  }

  private notify(ev: BusEvent, dev: KDevice, drv: KDriver | null): number {
    for (const fn of [...this.notifiers]) {
      const r = fn(ev, dev, drv);
      if (typeof r === 'number' && r < 0) return r;
    }
    return 0;
  }

  /**
   * bus_register. `devicesDir`: the /sys/devices directory of the bus's devices (their parent;
   * default: the bus name, as the platform bus's root device "platform")
   */
  busRegister(name: string, devicesDir = name): Bus {
    const existing = this.buses.get(name);
    if (existing) return existing;
    const bus = new Bus(name);
    bus.devicesDir = devicesDir;
    this.buses.set(name, bus);
    const base = `bus/${name}`;
    this.sysfs.mkdir(`${base}/devices`);
    this.sysfs.mkdir(`${base}/drivers`);
    this.sysfs.mkdir(`devices/${devicesDir}`);
    this.sysfs.addFile(`${base}/drivers_probe`, {
      mode: 0o200,
      store: (data) => {
        const dev = this.findDevice(name, data);
        if (!dev) return -ENODEV;
        // bus_rescan_devices_helper: only devices without a driver are attached
        if (!dev.driver) {
          const r = this.deviceAttach(dev);
          if (r < 0) return r;
        }
        return data.length;
      },
    });
    this.sysfs.addFile(`${base}/drivers_autoprobe`, {
      mode: 0o644,
      show: () => `${bus.autoprobe ? 1 : 0}\n`,
      store: (data) => {
        bus.autoprobe = data[0] !== '0';
        return data.length;
      },
    });
    this.sysfs.addFile(`${base}/uevent`, { mode: 0o200, store: (d) => d.length });
    return bus;
  }

  bus(name: string): Bus | null {
    return this.buses.get(name) ?? null;
  }

  /** bus_find_device_by_name (sysfs_streq semantics) */
  findDevice(busName: string, name: string): Device | null {
    const bus = this.buses.get(busName);
    if (!bus) return null;
    for (const d of bus.devices) if (sysfsStreq(d.name, name)) return d;
    return null;
  }

  /**
   * a device by name on whichever bus has it (buses in registration order: platform, then amba).
   * Not a kernel function: for tools and tests that name a device without caring whether the
   * profile made it a platform or an AMBA device (`primecellBus`)
   */
  findDeviceOnAnyBus(name: string): Device | null {
    for (const b of this.buses.keys()) {
      const d = this.findDevice(b, name);
      if (d) return d;
    }
    return null;
  }

  findDriver(busName: string, name: string): KDriver | null {
    const bus = this.buses.get(busName);
    if (!bus) return null;
    for (const d of bus.drivers) if (d.name === name) return d;
    return null;
  }

  /** sysfs directory of a registered driver ("bus/platform/drivers/<name>", relative to /sys) */
  driverSysfsDir(drv: KDriver): string | null {
    return this.sysfsDriverDirs.get(drv) ?? null;
  }

  /** the platform bus match (platform_match): driver_override first, then OF, then name */
  match(drv: KDriver, dev: KDevice): boolean {
    if (dev instanceof Device && dev.bus.matchFn) return dev.bus.matchFn(drv, dev);
    if (this.profile.caps.driverOverride && dev.driverOverride !== null) return dev.driverOverride === drv.name;
    const compat = dev instanceof Device ? dev.compatible : [];
    for (const c of compat) if (drv.ofMatch.includes(c)) return true;
    return dev.name === drv.name;
  }

  // ---------------------------------------------------------------- devices

  deviceAdd(dev: Device): number {
    const bus = dev.bus;
    if (bus.devices.some((d) => d.name === dev.name)) return -EEXIST;
    bus.devices.push(dev);
    dev.registered = true;
    const p = dev.sysfsRel;
    this.sysfs.mkdir(p);
    this.sysfs.addLink(`${p}/subsystem`, `/sys/bus/${bus.name}`);
    this.sysfs.addFile(`${p}/uevent`, { mode: 0o644, show: () => this.uevent(dev), store: (d) => d.length });
    this.sysfs.addFile(`${p}/modalias`, { mode: 0o444, show: () => this.modalias(dev) });
    if (this.profile.caps.driverOverride) {
      this.sysfs.addFile(`${p}/driver_override`, {
        mode: 0o644,
        show: () => `${dev.driverOverride ?? '(null)'}\n`,
        store: (data) => this.driverOverrideStore(dev, data),
      });
    }
    this.sysfs.addLink(`bus/${bus.name}/devices/${dev.name}`, `/sys/${p}`);
    this.notify('add-device', dev, null);
    if (bus.autoprobe) this.deviceAttach(dev);
    return 0;
  }

  deviceDel(dev: Device): void {
    if (dev.driver) this.deviceReleaseDriver(dev);
    const bus = dev.bus;
    const i = bus.devices.indexOf(dev);
    if (i >= 0) bus.devices.splice(i, 1);
    dev.registered = false;
    this.notify('del-device', dev, null);
    this.sysfs.remove(`bus/${bus.name}/devices/${dev.name}`);
    this.sysfs.remove(dev.sysfsRel);
  }

  private modalias(dev: Device): string {
    if (!dev.ofNode) return `${dev.bus.name}:${dev.name}\n`;
    return `of:N${dev.ofNode.name}T<NULL>${dev.compatible.map((c) => `C${c}`).join('')}\n`;
  }

  private uevent(dev: Device): string {
    if (dev.bus.ueventFn) return (dev.driver ? `DRIVER=${dev.driver.name}\n` : '') + dev.bus.ueventFn(dev);
    let s = '';
    if (dev.driver) s += `DRIVER=${dev.driver.name}\n`;
    if (dev.ofNode) s += `OF_NAME=${dev.ofNode.name}\n`;
    s += `MODALIAS=${this.modalias(dev)}`;
    return s;
  }

  /** driver_override_store (mainline): neither unbinds nor probes */
  private driverOverrideStore(dev: KDevice, data: string): number {
    // keep room for the newline sysfs show adds
    if (data.length >= PAGE_SIZE - 1) return -EINVAL;
    let s = data;
    const nul = s.indexOf('\0');
    if (nul >= 0) s = s.slice(0, nul);
    const nl = s.indexOf('\n');
    if (nl >= 0) s = s.slice(0, nl);
    dev.driverOverride = s.length > 0 ? s : null;
    return data.length;
  }

  // ---------------------------------------------------------------- drivers

  /** driver_register: 0 or -EBUSY (name taken, as Linux reports it) */
  driverRegister(drv: KDriver, busName = 'platform'): number {
    const bus = this.buses.get(busName);
    if (!bus) return -EINVAL;
    if (bus.drivers.some((d) => d.name === drv.name)) {
      this.log.err('', `Error: Driver '${drv.name}' is already registered, aborting...`);
      return -EBUSY;
    }
    bus.drivers.push(drv);
    const dir = `bus/${busName}/drivers/${drv.name}`;
    this.sysfsDriverDirs.set(drv, dir);
    this.sysfs.mkdir(dir);
    this.sysfs.addFile(`${dir}/uevent`, { mode: 0o200, store: (d) => d.length });
    this.sysfs.addFile(`${dir}/bind`, { mode: 0o200, store: (data) => this.bindStore(bus, drv, data) });
    this.sysfs.addFile(`${dir}/unbind`, { mode: 0o200, store: (data) => this.unbindStore(bus, drv, data) });
    if (bus.autoprobe) this.driverAttach(drv, bus);
    return 0;
  }

  /** driver_unregister: unbinds every device of the driver, removes its sysfs directory */
  driverUnregister(drv: KDriver): void {
    for (const bus of this.buses.values()) {
      const i = bus.drivers.indexOf(drv);
      if (i < 0) continue;
      for (const dev of [...bus.devices]) if (dev.driver === drv) this.deviceReleaseDriver(dev);
      bus.drivers.splice(i, 1);
      const dir = this.sysfsDriverDirs.get(drv);
      if (dir) this.sysfs.remove(dir);
      this.sysfsDriverDirs.delete(drv);
    }
  }

  private bindStore(bus: Bus, drv: KDriver, data: string): number {
    const dev = this.findDevice(bus.name, data);
    if (!dev || !this.match(drv, dev)) return -ENODEV;
    // bind_store (drivers/base/bus.c): a device that already has a driver is refused
    if (dev.driver) return this.profile.caps.bindBoundDevice === 'ebusy' ? -EBUSY : -ENODEV;
    const r = this.driverProbeDeviceInternal(drv, dev);
    return r > 0 ? data.length : r === 0 ? -ENODEV : r;
  }

  private unbindStore(bus: Bus, drv: KDriver, data: string): number {
    const dev = this.findDevice(bus.name, data);
    if (!dev || dev.driver !== drv) return -ENODEV;
    this.deviceReleaseDriver(dev);
    return data.length;
  }

  // ---------------------------------------------------------------- binding

  /**
   * driver_probe_device as exported by patch 01 (null when the profile does not export
   * it). 2014 semantics: -ENODEV for an unregistered device, 1 when bound, 0 when the
   * driver's probe failed. It does NOT check whether the device already has a driver.
   */
  get driverProbeDevice(): ((drv: KDriver, dev: KDevice) => number) | null {
    if (!this.profile.caps.driverProbeDeviceExported) return null;
    return (drv, dev) => {
      // its callers hold device_lock (patch 04's vfio_bind_store): while a remover waits
      // holding it, the probe runs once the unbind is done (deviceReleaseDriver's model
      // choice: the writer does not sleep); the result it will have on the unbound device
      // is not known yet, and the store answers as for a bound one
      if (dev instanceof Device && dev.releasing) {
        dev.lockWaiters.push(() => void this.driverProbeDeviceInternal(drv, dev));
        return 1;
      }
      return this.driverProbeDeviceInternal(drv, dev);
    };
  }

  private driverProbeDeviceInternal(drv: KDriver, dev: KDevice): number {
    if (!(dev instanceof Device) || !dev.registered) return -ENODEV;
    const r = this.reallyProbe(dev, drv);
    if (r === 0) return 1;
    if (this.profile.caps.probeErrors === 'returned') return r;
    return 0; // 3.14: "Ignore errors returned by ->probe so that the next driver can try its luck"
  }

  /**
   * really_probe: link into sysfs, call probe, undo on failure. Returns 0 or the probe's
   * -errno (the callers translate per era).
   */
  private reallyProbe(dev: Device, drv: KDriver): number {
    const dir = this.sysfsDriverDirs.get(drv);
    if (dev.driver !== null) {
      // Only reachable through the exported driver_probe_device (vfio_bind): Linux's
      // driver_sysfs_add fails on the existing "driver" link; the failure path then
      // clears dev->driver and removes the links, leaving the previous driver's own
      // state untouched. Reproduced as the 2014 kernel behaved.
      this.log.err('', `driver: ${dev.name}: driver_sysfs_add(${dev.name}) failed`);
      if (dir) this.sysfs.remove(`${dir}/${dev.name}`);
      this.sysfs.remove(`${dev.sysfsRel}/driver`);
      dev.driver = null;
      dev.drvdata = null;
      return -EEXIST;
    }
    const veto = this.notify('bind-driver', dev, drv);
    if (veto < 0) return veto;
    // mainline really_probe: dev->bus->dma_configure() before driver_sysfs_add and the probe;
    // a driver that does not manage DMA itself gets -EBUSY while user space owns the group
    // (iommu_device_use_default_domain). No message: bind_store returns the error. In 3.14
    // nothing checks here; vfio's group notifier runs after the probe (BUG_ON, vfio.ts).
    const dmaCounted = this.dmaCounted(drv);
    if (dmaCounted && this.dmaConfigure !== null) {
      const r = this.dmaConfigure(dev);
      if (r < 0) return r;
    }
    dev.driver = drv;
    if (dir) this.sysfs.addLink(`${dir}/${dev.name}`, dev.sysfsPath);
    this.sysfs.addLink(`${dev.sysfsRel}/driver`, `/sys/${dir ?? `bus/${dev.bus.name}/drivers/${drv.name}`}`);
    let r: number;
    try {
      r = drv.probe(dev);
    } catch (e) {
      // an Oops in probe: undo the binding; the syscall boundary handles it, or the
      // oopsHandler (set during boot) records it and the probe counts as failed
      if (!(e instanceof KernelOops)) throw e;
      if (dmaCounted) this.dmaCleanup?.(dev);
      this.unlink(dev, drv);
      if (!this.oopsHandler) throw e;
      this.oopsHandler(e, drv, dev);
      return -EFAULT;
    }
    if (r !== 0) {
      // mainline really_probe probe_failed -> dev->bus->dma_cleanup
      if (dmaCounted) this.dmaCleanup?.(dev);
      this.unlink(dev, drv);
      if (r === -EPROBE_DEFER) this.log.info(`${drv.name} ${dev.name}`, `Driver ${drv.name} requests probe deferral`);
      else if (r !== -ENODEV && r !== -ENXIO) {
        // `probeFailureMessage`: 3.14 really_probe's printk / mainline call_driver_probe's dev_err
        if (this.profile.caps.probeFailureMessage === 'call-driver-probe') this.log.err(`${drv.name} ${dev.name}`, `probe with driver ${drv.name} failed with error ${r}`);
        else this.log.warn('', `${drv.name}: probe of ${dev.name} failed with error ${r}`);
      }
      return r;
    }
    this.notify('bound-driver', dev, drv);
    return 0;
  }

  /**
   * mainline platform_dma_configure/platform_dma_cleanup use the IOMMU default domain for a
   * driver without driver_managed_dma (vfio drivers set it); 3.14 has neither
   */
  private dmaCounted(drv: KDriver): boolean {
    return this.profile.caps.groupOwnershipGuard === 'refuse-bind' && drv.driverManagedDma !== true;
  }

  private unlink(dev: Device, drv: KDriver): void {
    const dir = this.sysfsDriverDirs.get(drv);
    if (dir) this.sysfs.remove(`${dir}/${dev.name}`);
    this.sysfs.remove(`${dev.sysfsRel}/driver`);
    dev.driver = null;
    dev.drvdata = null;
  }

  /** device_attach: try every driver of the bus in registration order; 1 bound, 0 none */
  deviceAttach(dev: KDevice): number {
    if (!(dev instanceof Device) || !dev.registered) return -ENODEV;
    if (dev.driver) return 1;
    for (const drv of dev.bus.drivers) {
      if (!this.match(drv, dev)) continue;
      const r = this.reallyProbe(dev, drv);
      if (r === 0) return 1;
    }
    return 0;
  }

  /** driver_attach: bind the driver to every unbound matching device (bus order) */
  driverAttach(drv: KDriver, bus?: Bus): number {
    const b = bus ?? [...this.buses.values()].find((x) => x.drivers.includes(drv));
    if (!b) return -EINVAL;
    for (const dev of b.devices) {
      if (dev.driver || !this.match(drv, dev)) continue;
      this.reallyProbe(dev, drv);
    }
    return 0;
  }

  /**
   * device_release_driver: remove() and unlink. A remove() that waits (RemoveWait: VFIO's,
   * while the device's fds are open) leaves the device bound to its driver until it is done,
   * as __device_release_driver clears dev->driver only after drv->remove returns; meanwhile
   * Linux's writer sleeps holding device_lock, so binds and probes of the device find it bound
   * and a second unbind waits too. Model choice: the writer does not sleep (the store returns
   * at once, as a call left blocked in a background thread does for syzkaller's executor);
   * the unbind completes inside the release that ends the wait, and then what waited for the
   * device's lock (`lockWaiters`: patch 04's vfio_bind) runs. bind_store and drivers_probe
   * look at dev->driver before taking the lock, and find the device bound.
   */
  deviceReleaseDriver(dev: KDevice): void {
    if (!(dev instanceof Device)) return;
    const drv = dev.driver;
    if (!drv || dev.releasing) return;
    this.notify('unbind-driver', dev, drv);
    const wait = drv.remove(dev);
    const finish = (): void => {
      dev.releasing = false;
      // mainline __device_release_driver: dev->bus->dma_cleanup after the remove
      if (this.dmaCounted(drv)) this.dmaCleanup?.(dev);
      this.unlink(dev, drv);
      this.notify('unbound-driver', dev, drv);
      // device_unlock: the writers that waited for the lock go on, in order
      for (const w of dev.lockWaiters.splice(0)) w();
    };
    if (typeof wait !== 'function') {
      finish();
      return;
    }
    dev.releasing = true;
    wait(finish);
  }

  describe(ret: number): string {
    return errnoName(ret);
  }
}
