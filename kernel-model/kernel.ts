import type { MachineCore } from '../emulator/board/types.js';
import type { DeviceTree, DtNode } from '../emulator/dt/types.js';
import { AmbaBus } from './amba/bus.js';
import { HwAccess } from './base/hw.js';
import { KernelLog } from './base/klog.js';
import { builtinParams } from './base/module-params.js';
import { KernelOops } from './base/oops.js';
import { KernelParams } from './base/params.js';
import { DriverCore } from './driver/core.js';
import { ArmSmmuDriver } from './drivers/arm-smmu-driver.js';
import { Pl330Driver } from './drivers/pl330.js';
import type { KernelServices } from './drivers/services.js';
import { TestDmaDriver } from './drivers/test-dma.js';
import { IommuCoreImpl } from './iommu/core.js';
import { DmaApi } from './iommu/dma-iommu.js';
import type { IrqApi } from './irq/types.js';
import { Kmem } from './mm/kmem.js';
import { LinearMap, PageAllocator } from './mm/page-alloc.js';
import { decodeReg, getProp, propStrings } from './platform/of.js';
import { PlatformBus } from './platform/platform.js';
import type { Capabilities, Profile } from './profile.js';
import { Sysfs } from './sysfs/sysfs.js';

/** RAM kept for kernel text, data and bss at the start of RAM (never allocated) */
export const KERNEL_RESERVED_BYTES = 8 << 20;

export class KernelBootError extends Error {}

/** the RAM the tree declares: the first `memory` node (device_type "memory") */
export function findMemory(tree: DeviceTree): { base: number; size: number } | null {
  const visit = (n: DtNode): { base: number; size: number } | null => {
    for (const c of n.children) {
      if (propStrings(c, 'device_type')[0] === 'memory' || c.name === 'memory') {
        const r = decodeReg(tree, c);
        if (r.length > 0) return r[0]!;
      }
    }
    return null;
  };
  return visit(tree.root);
}

/**
 * /chosen/bootargs (drivers/of/fdt.c early_init_dt_scan_chosen copies it to
 * boot_command_line); '' when the board has none (CONFIG_CMDLINE empty)
 */
export function chosenBootargs(tree: DeviceTree): string {
  const chosen = tree.root.children.find((c) => c.name === 'chosen' && c.unitAddress === null);
  if (!chosen) return '';
  const p = getProp(chosen, 'bootargs');
  if (!p) return '';
  for (const ch of p.value) if (ch.kind === 'string') return ch.value;
  return '';
}

export interface KernelOptions {
  /**
   * the kernel command line, replacing the board's /chosen/bootargs (as a boot loader that
   * sets bootargs does; CLI `--bootargs`); undefined: the board's
   */
  bootargs?: string;
}

/**
 * The Linux kernel model. Kernel code runs synchronously on the caller's stack (a
 * syscall, an IRQ handler, boot) and touches hardware only through `hw`, which charges
 * the CPU for every MMIO access.
 *
 * Boot order (boot()): platform devices from the tree (no drivers yet, so nothing
 * binds), then the arm-smmu driver (binds the SMMU: probe, reset, bus_set_iommu,
 * IOMMU groups), then the host drivers dma-pl330 and test-dma (driver_attach binds
 * every matching device). vfio drivers register later like any other driver.
 */
export class Kernel implements KernelServices {
  readonly log: KernelLog;
  readonly hw: HwAccess;
  readonly mm: { readonly pages: PageAllocator; readonly kmem: Kmem; readonly lin: LinearMap };
  readonly sysfs: Sysfs;
  readonly driverCore: DriverCore;
  readonly platformBus: PlatformBus;
  /** the AMBA bus (profiles whose `primecellBus` is 'amba'), else null */
  readonly ambaBus: AmbaBus | null;
  readonly iommu: IommuCoreImpl;
  readonly dma: DmaApi;
  readonly irq: IrqApi;
  readonly drivers: { armSmmu: ArmSmmuDriver; pl330: Pl330Driver; testDma: TestDmaDriver };
  /**
   * built-in module parameters and the command line (kernel/params.c). Read a parameter
   * with `params.bool('arm_smmu', 'disable_bypass')` / `params.uint(module, name)`; which
   * exist: kernel-model/base/module-params.ts
   */
  readonly params: KernelParams;
  booted = false;

  constructor(
    readonly machine: MachineCore,
    readonly tree: DeviceTree,
    readonly profile: Profile,
    irq: IrqApi | ((ctx: { hw: HwAccess; log: KernelLog; caps: Readonly<Capabilities> }) => IrqApi),
    private readonly opts: KernelOptions = {},
  ) {
    this.log = new KernelLog(() => machine.scheduler.now, machine.tracer);
    this.params = new KernelParams(this.log, profile.caps.cmdlineRules);
    for (const d of builtinParams(profile.caps)) this.params.declare(d);
    this.hw = new HwAccess(machine.bus, machine.cpu);
    // the IRQ core needs the kernel's hw access, log and capabilities: accept a factory for it
    this.irq = typeof irq === 'function' ? irq({ hw: this.hw, log: this.log, caps: profile.caps }) : irq;
    const mem = findMemory(tree);
    if (!mem) throw new KernelBootError('device tree declares no memory node');
    let pages: PageAllocator;
    try {
      pages = new PageAllocator(machine.bus, mem.base, mem.size, KERNEL_RESERVED_BYTES);
    } catch (e) {
      // e.g. a node called "memory" without device_type = "memory": the board maps no RAM there
      throw new KernelBootError(`memory node 0x${mem.base.toString(16)}+0x${mem.size.toString(16)} is not RAM on this board: ${(e as Error).message}`);
    }
    const kmem = new Kmem(pages);
    // frozen (like `drivers` below): never written after construction, so the fuzzer's snapshot need not record it
    this.mm = Object.freeze({ pages, kmem, lin: kmem.lin });
    this.sysfs = new Sysfs();
    this.sysfs.mkdir('kernel');
    this.sysfs.mkdir('class');
    this.driverCore = new DriverCore(this.sysfs, profile, this.log);
    this.platformBus = new PlatformBus(this.driverCore, tree, this.irq);
    // amba_init (postcore_initcall: before of_platform_populate) when the kernel puts PrimeCells on the AMBA bus
    this.ambaBus = profile.caps.primecellBus === 'amba' ? new AmbaBus(this.driverCore, tree, this.irq, this.hw, this.log) : null;
    this.platformBus.amba = this.ambaBus;
    // mainline: owner_cnt (groupOwnershipGuard 'refuse-bind') and default domains (iommuDefaultDomain)
    const caps = profile.caps;
    this.iommu = new IommuCoreImpl(this.sysfs, this.log, 32, caps.iommuResvRegions, Object.freeze({ ownerCount: caps.groupOwnershipGuard === 'refuse-bind', defaultDomains: caps.iommuDefaultDomain === 'per-binding' }));
    // iommu_bus_init: group notifiers hear the driver core's bind/unbind events of their devices;
    // mainline platform_dma_configure asks the IOMMU core before a probe
    this.dma = new DmaApi(this.iommu);
    this.driverCore.registerNotifier(this.iommu.busNotifier);
    this.driverCore.dmaConfigure = (dev) => this.iommu.deviceUseDefaultDomain(dev);
    this.driverCore.dmaCleanup = (dev) => this.iommu.deviceUnuseDefaultDomain(dev);
    // arm-smmu.disable_bypass: the module parameter from the command line (module-params.ts,
    // declared when caps.smmuDisableBypassParam), read when the SMMU probes
    const smmuParam = (name: string): string | undefined =>
      name === 'arm-smmu.disable_bypass' && caps.smmuDisableBypassParam ? (this.params.bool('arm_smmu', 'disable_bypass') ? '1' : '0') : undefined;
    this.drivers = Object.freeze({ armSmmu: new ArmSmmuDriver(this, smmuParam), pl330: new Pl330Driver(this), testDma: new TestDmaDriver(this) });
  }

  now(): number {
    return this.machine.scheduler.now;
  }

  boot(): void {
    if (this.booted) return;
    this.booted = true;
    const { pages } = this.mm;
    // init/version.c linux_banner: the release per profile (capability kernelRelease)
    this.log.info('', `Linux version ${this.profile.caps.kernelRelease}-vfio-arm-emu (${this.profile.name})`);
    // start_kernel: setup_arch (the command line from /chosen/bootargs), then parse_args
    this.params.parseCommandLine(this.opts.bootargs ?? chosenBootargs(this.tree));
    this.log.info('', `Memory: ${(pages.nrFree * 4) >> 10}MiB available (${KERNEL_RESERVED_BYTES >> 10}K kernel code/data reserved)`);
    // param_sysfs_init / param_sysfs_builtin: /sys/module/<module>/parameters
    this.params.exposeSysfs(this.sysfs);
    // init_IRQ: an IRQ core with a boot step (the GIC driver) runs it before any probe
    const ic = this.irq as unknown as { boot?: () => void; booted?: boolean };
    if (typeof ic.boot === 'function' && ic.booted !== true) ic.boot();
    this.platformBus.populate();
    // an Oops in a built-in driver's probe (e.g. a node without a device model behind its
    // registers: an external abort) is logged and boot goes on with the device unbound
    this.driverCore.oopsHandler = (e, drv, dev) => {
      this.log.log('alert', '', e.message);
      this.log.log('emerg', '', `Internal error: Oops: ${e.kind} in ${drv.name} probe of ${dev.name}`);
      this.oopses.push(e);
    };
    try {
      this.driverCore.driverRegister(this.drivers.armSmmu);
      // dma-pl330: an amba_driver (module_amba_driver(pl330_driver), id table {0x00041330,
      // 0x000fffff}) where the PL330 is an AMBA device; the RFC set-up's platform driver otherwise
      this.driverCore.driverRegister(this.drivers.pl330, this.ambaBus ? 'amba' : 'platform');
      this.driverCore.driverRegister(this.drivers.testDma);
    } finally {
      this.driverCore.oopsHandler = null;
    }
  }

  /** Oopses taken at boot */
  readonly oopses: KernelOops[] = [];
}
