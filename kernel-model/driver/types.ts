import type { DtNode } from '../../emulator/dt/types.js';

/**
 * Driver-core object model (include/linux/device.h, reduced to what the series needs).
 * Implemented in kernel-model/driver/; declared here so that subsystems built in
 * parallel (IOMMU core, VFIO, vfio-platform) agree on the shapes.
 */
export interface Resource {
  kind: 'mem' | 'irq';
  /** mem: physical start; irq: Linux irq number (virq) */
  start: number;
  /** mem: size in bytes; irq: 1 */
  size: number;
  /** for irq resources: trigger type as irq_get_trigger_type() reports it (IRQ_TYPE_*) */
  flags: number;
  name: string | null;
}

/**
 * The resources of one kind, in their order (what platform_get_resource(dev, kind, n) walks
 * for n = 0, 1, ...). An index loop: a device's resource array is frozen (driver/core.ts), and
 * V8's Array.prototype.filter leaves its fast path on a frozen array (about 5x slower, measured
 * on Node 20); this runs at every open of a VFIO platform device.
 */
export function resourcesOfKind(resources: readonly Resource[], kind: Resource['kind']): Resource[] {
  const out: Resource[] = [];
  for (let i = 0; i < resources.length; i++) if (resources[i]!.kind === kind) out.push(resources[i]!);
  return out;
}

export const IRQ_TYPE_EDGE_RISING = 1;
export const IRQ_TYPE_EDGE_FALLING = 2;
export const IRQ_TYPE_LEVEL_HIGH = 4;
export const IRQ_TYPE_LEVEL_LOW = 8;

export interface KDevice {
  /** Linux name, e.g. "2c0a0000.dma" */
  readonly name: string;
  readonly bus: BusType;
  readonly ofNode: DtNode | null;
  readonly resources: Resource[];
  /** stream ids from the device tree (`iommus`) */
  readonly streamIds: number[];
  driver: KDriver | null;
  /** driver private data (dev_set_drvdata) */
  drvdata: unknown;
  /** driver_override (mainline semantics); null when unset */
  driverOverride: string | null;
  /** set by the IOMMU core when the device joins a group */
  iommuGroup: { readonly id: number } | null;
  /** the device's sysfs directory relative to /sys (absent: test fakes without one) */
  readonly sysfsRel?: string;
}

export interface KDriver {
  readonly name: string;
  /** of_match_table compatibles (empty: matches nothing by compatible) */
  readonly ofMatch: readonly string[];
  /**
   * the driver manages DMA ownership itself (mainline struct device_driver.driver_managed_dma:
   * vfio bus drivers), so really_probe does not ask the IOMMU core for the default domain
   */
  readonly driverManagedDma?: boolean;
  /** 0 or -errno */
  probe(dev: KDevice): number;
  /**
   * Unbind the device. A remove() that must wait before it can finish returns a RemoveWait
   * (3.14 vfio_del_group_dev, mainline vfio_unregister_group_dev: the remover sleeps until
   * every fd of the device is released); the driver core finishes the unbind when it is done.
   */
  remove(dev: KDevice): void | RemoveWait;
}

/**
 * How a waiting remove() tells the driver core it has finished: it calls `done` once, when
 * what it waits for has happened (possibly inside another task's syscall: the model has no
 * sleeping kernel threads, see DriverCore.deviceReleaseDriver).
 */
export type RemoveWait = (done: () => void) => void;

export interface BusType {
  readonly name: string;
}
