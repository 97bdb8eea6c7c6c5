import type { DeviceTree, DtNode } from '../../emulator/dt/types.js';
import type { HwAccess } from '../base/hw.js';
import type { KernelLog } from '../base/klog.js';
import { KernelOops } from '../base/oops.js';
import type { Bus, DriverCore } from '../driver/core.js';
import { Device } from '../driver/core.js';
import type { KDriver, Resource } from '../driver/types.js';
import type { IrqApi } from '../irq/types.js';
import { decodeReg, irqResources, linuxDeviceName, propStrings, propU32 } from '../platform/of.js';

/**
 * The AMBA bus (drivers/amba/bus.c, reduced), for the profiles whose `primecellBus` is 'amba'
 * (mainline): of_platform_bus_create (drivers/of/platform.c) hands every `arm,primecell` node
 * to of_amba_device_create, which builds an amba_device and registers it with
 * amba_device_add.
 *
 * - Name: of_amba_device_create names the device with of_device_make_bus_id when the caller
 *   gives no bus id (the device-tree case), exactly as a platform device: "2c0a0000.dma".
 * - Parent: `dev->dev.parent = parent ? : &platform_bus`, so the device directory is
 *   /sys/devices/platform/<name> (the bus's `devicesDir`), with /sys/bus/amba/devices/<name>
 *   linking to it.
 * - Resources: ONE memory resource, the node's first `reg` (of_address_to_resource(node, 0,
 *   &dev->res)), and up to AMBA_NR_IRQS (9) interrupts, dev->irq[i] (of_amba_device_decode_irq;
 *   mainline decodes them at amba_probe time, the model at creation: same values, since the
 *   interrupt controller is up before any device is created). These are what vfio-amba's
 *   get_amba_resource (index 0 only) and get_amba_irq (irq[i], 0 = none) hand out.
 * - Peripheral id: `arm,primecell-periphid` in the node hard-codes it (of_amba_device_create);
 *   otherwise amba_device_add reads it: amba_read_periphid ioremaps the resource and reads the
 *   four peripheral id bytes at size - 0x20 + 4*i and the four PrimeCell id bytes at size -
 *   0x10 + 4*i (bits 7:0 of each word; the end of the region, 0xFE0..0xFFC for a 4 KiB
 *   PrimeCell). The id is kept only when the cell id is AMBA_CID 0xB105F00D (or CORESIGHT_CID
 *   0xB105900D). Which call reads it: mainline amba_device_add calls amba_read_periphid at add
 *   time when the id is not hard-coded (since "ARM: 9220/1: amba: Remove deferred device
 *   addition", commit f2d3b9a46e0e, v6.0); if that read fails the device is added anyway with
 *   uevents suppressed and amba_match retries the read (under periphid_lock) before it
 *   matches, mapping a failure to -EPROBE_DEFER (no match). 3.14's amba_device_add ->
 *   amba_device_try_add read it at add time too. On this board the PL330 is clocked and out
 *   of reset at boot, so the read happens in amba_device_add.
 * - sysfs: `id` ("%08x\n" of periphid), `resource`, `driver_override` (amba_dev_attrs).
 * - Matching (amba_match): the id retry above, then driver_override when set (only the named
 *   driver matches), else the driver's amba_id table (amba_lookup: (periphid & mask) == id).
 * - uevent (amba_uevent): AMBA_ID=%08x and MODALIAS=amba:d%08X.
 * - Before a probe, amba_dma_configure does what platform_dma_configure does (of_dma_configure,
 *   then iommu_device_use_default_domain unless the driver has driver_managed_dma): the
 *   driver core's shared dmaConfigure hook.
 */

/** AMBA_CID, include/linux/amba/bus.h */
export const AMBA_CID = 0xb105f00d;
/** CORESIGHT_CID, include/linux/amba/bus.h */
export const CORESIGHT_CID = 0xb105900d;
/** AMBA_NR_IRQS, include/linux/amba/bus.h */
export const AMBA_NR_IRQS = 9;

/** struct amba_id: a driver matches a device when (periphid & mask) == id */
export interface AmbaId {
  readonly id: number;
  readonly mask: number;
}

/** struct amba_driver: a driver with an amba_id table (the table ends at mask 0 in C; here the array's end) */
export interface AmbaDriver extends KDriver {
  readonly ambaIds: readonly AmbaId[];
}

export function isAmbaDriver(drv: KDriver): drv is AmbaDriver {
  return Array.isArray((drv as Partial<AmbaDriver>).ambaIds);
}

/** struct amba_device */
export class AmbaDevice extends Device {
  /** the peripheral id (0: not read yet, or the read failed) */
  periphid = 0;
  /** the PrimeCell id as read (0 when not read) */
  cid = 0;
  /** amba_device_add's read failed: uevents suppressed until amba_match reads the id */
  ueventSuppressed = false;
}

/** amba_lookup: the first table entry the device's periphid matches */
export function ambaLookup(table: readonly AmbaId[], dev: AmbaDevice): AmbaId | null {
  for (const e of table) if (((dev.periphid & e.mask) >>> 0) === e.id >>> 0) return e;
  return null;
}

export class AmbaBus {
  readonly bus: Bus;
  /** id reads done by MMIO (statistics and tests) */
  idReads = 0;

  constructor(
    readonly core: DriverCore,
    readonly tree: DeviceTree,
    readonly irq: IrqApi,
    readonly hw: HwAccess,
    readonly log: KernelLog,
  ) {
    // amba_init: bus_register(&amba_bustype); devices of the tree are children of the
    // platform bus root, so their directories are under /sys/devices/platform
    this.bus = core.busRegister('amba', 'platform');
    this.bus.matchFn = (drv, dev) => this.match(drv, dev);
    this.bus.ueventFn = (dev) => {
      const id = dev instanceof AmbaDevice ? dev.periphid : 0;
      return `AMBA_ID=${hex8(id)}\nMODALIAS=amba:d${hex8(id).toUpperCase()}\n`;
    };
  }

  /** of_amba_device_create + amba_device_add; null when the node has no register window or the add fails */
  createDevice(node: DtNode): AmbaDevice | null {
    const regs = decodeReg(this.tree, node);
    if (regs.length === 0) return null; // of_address_to_resource fails: "amba: of_amba_device_create() failed"
    const name = linuxDeviceName(this.tree, node);
    const res: Resource[] = [{ kind: 'mem', start: regs[0]!.base, size: regs[0]!.size, flags: 0, name }];
    res.push(...irqResources(this.tree, node, this.irq).slice(0, AMBA_NR_IRQS).filter((r) => r.start > 0));
    const dev = new AmbaDevice(name, this.bus, node, res, [], propStrings(node, 'compatible'));
    // "Allow the HW Peripheral ID to be overridden" (of_amba_device_create)
    const hard = propU32(this.tree, node, 'arm,primecell-periphid');
    if (hard !== null) dev.periphid = hard >>> 0;
    // amba_device_add: read the id unless hard-coded; a failed read suppresses uevents
    if (dev.periphid === 0 && this.readPeriphid(dev) < 0) dev.ueventSuppressed = true;
    const r = this.core.deviceAdd(dev);
    if (r < 0) return null;
    const p = dev.sysfsRel;
    this.core.sysfs.addFile(`${p}/id`, { mode: 0o444, show: () => `${hex8(dev.periphid)}\n` });
    const r0 = dev.resources[0]!;
    this.core.sysfs.addFile(`${p}/resource`, { mode: 0o444, show: () => `\t${hex16(r0.start)}\t${hex16(r0.start + r0.size - 1)}\t${hex16(0x200)}\n` });
    return dev;
  }

  /**
   * amba_read_periphid: the id words at the end of the resource, by MMIO. 0 when the cell id
   * is a PrimeCell's and the periphid non-zero, else -ENODEV (-19). Model choice: a bus error
   * (no device behind the window) is an external abort in Linux (an Oops in amba_device_add);
   * the model logs it and treats it as a failed read, so boot goes on.
   */
  readPeriphid(dev: AmbaDevice): number {
    const r = dev.resources[0]!;
    const end = r.start + r.size;
    let pid = 0;
    let cid = 0;
    try {
      this.idReads++;
      for (let i = 0; i < 4; i++) pid |= (this.hw.readl(end - 0x20 + 4 * i) & 0xff) << (8 * i);
      for (let i = 0; i < 4; i++) cid |= (this.hw.readl(end - 0x10 + 4 * i) & 0xff) << (8 * i);
    } catch (e) {
      if (!(e instanceof KernelOops)) throw e;
      this.log.err(`amba ${dev.name}`, `${e.message} while reading the PrimeCell id (external abort)`);
      return -19;
    }
    pid >>>= 0;
    cid >>>= 0;
    if (cid === AMBA_CID || cid === CORESIGHT_CID) {
      dev.periphid = pid;
      dev.cid = cid;
    }
    return dev.periphid === 0 ? -19 : 0;
  }

  /** amba_match */
  private match(drv: KDriver, dev: Device): boolean {
    if (!(dev instanceof AmbaDevice)) return false;
    if (dev.periphid === 0) {
      // amba_match: read again (periphid_lock); any failure is -EPROBE_DEFER, i.e. no match now
      if (this.readPeriphid(dev) < 0) return false;
      dev.ueventSuppressed = false;
    }
    if (dev.driverOverride !== null) return dev.driverOverride === drv.name;
    return isAmbaDriver(drv) && ambaLookup(drv.ambaIds, dev) !== null;
  }
}

function hex8(v: number): string {
  return (v >>> 0).toString(16).padStart(8, '0');
}

function hex16(v: number): string {
  return v.toString(16).padStart(16, '0');
}
