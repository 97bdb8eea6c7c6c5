import type { DeviceTree, DtNode } from '../../emulator/dt/types.js';
import type { AmbaBus } from '../amba/bus.js';
import type { DriverCore, Bus } from '../driver/core.js';
import { Device } from '../driver/core.js';
import type { Resource } from '../driver/types.js';
import type { IrqApi } from '../irq/types.js';
import { decodeReg, getProp, irqResources, isAvailable, linuxDeviceName, propStrings } from './of.js';

/**
 * The platform bus populated from the device tree (of_platform_populate, reduced):
 * every available child of the root (and of `simple-bus` nodes) with a `compatible`
 * becomes a platform device in tree order, except interrupt controllers (initialised
 * by the IRQ core, never bound to a driver, as mainline marks them OF_POPULATED) and
 * `memory`/`cpus`/`chosen`/`aliases`.
 *
 * `arm,primecell` nodes: of_platform_bus_create hands them to of_amba_device_create (an AMBA
 * device, kernel-model/amba/bus.ts) when the kernel has an AMBA bus, i.e. when the profile's
 * `primecellBus` is 'amba' (mainline): the kernel then sets `amba`. The 2014 profiles keep
 * them on the platform bus, as the RFC v4 series' set-up had them (its vfio_bind looked the
 * device up on the platform bus only; "Bind to ARM AMBA devices" is a TODO of the cover
 * letter). NOTE: 3.14's of_platform_bus_create already created AMBA devices for
 * `arm,primecell` nodes; the model keeps the RFC's set-up for the 2014 profiles on purpose
 * (docs/PROFILES.md, "AMBA bus and vfio-amba"). `busFor()` is the one place that decides.
 */
export class PlatformBus {
  readonly bus: Bus;
  /** device tree node -> device */
  readonly byNode = new Map<DtNode, Device>();

  constructor(
    readonly core: DriverCore,
    readonly tree: DeviceTree,
    readonly irq: IrqApi,
  ) {
    this.bus = core.busRegister('platform');
  }

  /** the AMBA bus, when the kernel has one (`primecellBus` 'amba'); set by the kernel before populate() */
  amba: AmbaBus | null = null;

  /** of_platform_bus_create: `of_device_is_compatible(bus, "arm,primecell")` -> of_amba_device_create */
  busFor(node: DtNode): Bus {
    if (this.amba !== null && propStrings(node, 'compatible').includes('arm,primecell')) return this.amba.bus;
    return this.bus;
  }

  /** create devices for the tree (not bound yet if no driver is registered) */
  populate(): Device[] {
    const out: Device[] = [];
    const visit = (parent: DtNode): void => {
      for (const n of parent.children) {
        if (!isAvailable(n)) continue;
        if (['memory', 'cpus', 'chosen', 'aliases'].includes(n.name)) continue;
        const compat = propStrings(n, 'compatible');
        if (compat.length === 0) continue;
        if (getProp(n, 'interrupt-controller')) continue;
        const dev = this.createDevice(n);
        if (dev) out.push(dev);
        if (compat.includes('simple-bus')) visit(n);
      }
    };
    visit(this.tree.root);
    return out;
  }

  createDevice(node: DtNode): Device | null {
    if (this.amba !== null && this.busFor(node) === this.amba.bus) {
      const adev = this.amba.createDevice(node);
      if (adev) this.byNode.set(node, adev);
      return adev;
    }
    const name = linuxDeviceName(this.tree, node);
    const res: Resource[] = decodeReg(this.tree, node).map((r) => ({
      kind: 'mem' as const, start: r.base, size: r.size, flags: 0, name: null,
    }));
    const regNames = propStrings(node, 'reg-names');
    res.forEach((r, i) => (r.name = regNames[i] ?? null));
    res.push(...irqResources(this.tree, node, this.irq));
    // stream ids are filled in by the IOMMU driver, which decides which binding it reads
    // (drivers/arm-smmu-of.ts: 3.14 mmu-masters, mainline iommus or legacy mmu-masters)
    const dev = new Device(name, this.bus, node, res, [], propStrings(node, 'compatible'));
    const r = this.core.deviceAdd(dev);
    if (r < 0) return null;
    this.byNode.set(node, dev);
    return dev;
  }

}
