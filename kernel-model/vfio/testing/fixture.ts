import { Cpu } from '../../../emulator/cpu/cpu.js';
import type { StubThread } from '../../../emulator/cpu/stub.js';
import { Scheduler } from '../../../emulator/scheduler.js';
import { KernelLog } from '../../base/klog.js';
import type { KDevice } from '../../driver/types.js';
import { makeTestMemory } from '../../process/testing/fake-pages.js';
import type { ProcessOptions, Process } from '../../process/process.js';
import { parseProfile, type Profile } from '../../profile.js';
import { Sysfs } from '../../sysfs/sysfs.js';
import { SyscallLayer } from '../../syscall/syscalls.js';
import type { GuestMain } from '../../uapi/sys.js';
import type { Task } from '../../vfs/file.js';
import { Vfs } from '../../vfs/vfs.js';
import { Type1Driver, vfioIommuType1Init } from '../type1.js';
import type { VfioDeviceOps, VfioIommufd } from '../types.js';
import { Vfio } from '../vfio.js';
import { FakeIommu, fakeDevice, fakeDriver } from './fake-iommu.js';

/** A recording vfio bus driver standing in for vfio-platform. */
export class FakeVfioBusDriver implements VfioDeviceOps {
  readonly name = 'fake-vfio';
  opens = 0;
  releases = 0;
  openError = 0;
  open(): number {
    if (this.openError) return this.openError;
    this.opens++;
    return 0;
  }
  release(): void {
    this.releases++;
  }
  ioctl(_d: unknown, _t: Task, cmd: number): number {
    return cmd === 0x3b6b ? 0 : -25;
  }
}

export interface Fixture {
  sched: Scheduler;
  cpu: Cpu;
  log: KernelLog;
  mem: ReturnType<typeof makeTestMemory>;
  sysfs: Sysfs;
  vfs: Vfs;
  sys: SyscallLayer;
  iommu: FakeIommu;
  vfio: Vfio;
  type1: Type1Driver | null;
  profile: Profile;
  bus: FakeVfioBusDriver;
  dev: KDevice;
  /** run a guest program in a new process to completion; returns the thread and process */
  run(main: GuestMain, opts?: ProcessOptions, withinNs?: number): { thread: StubThread; proc: Process };
}

/**
 * A small machine for VFIO tests: a 16 MiB RAM bus with a fake page allocator, a fake
 * IOMMU with group 0 holding device "2c0a0000.dma" (registered with VFIO through a fake
 * bus driver unless register = false), and type1 initialised per profile.
 */
export function makeFixture(profileName = 'rfc-v4', o: { register?: boolean; buses?: string[]; extraDevices?: KDevice[]; allowUnsafeInterrupts?: boolean; iommufd?: (vfs: Vfs) => VfioIommufd } = {}): Fixture {
  const sched = new Scheduler();
  const cpu = new Cpu(sched);
  const log = new KernelLog(() => sched.now);
  const mem = makeTestMemory();
  const sysfs = new Sysfs();
  const vfs = new Vfs(sysfs);
  const sys = new SyscallLayer({ cpu, vfs, memory: mem, log });
  const iommu = new FakeIommu(o.buses ?? ['platform']);
  const dev = fakeDevice('2c0a0000.dma');
  iommu.addGroup(0, [dev, ...(o.extraDevices ?? [])]);
  const profile = parseProfile(profileName);
  const vfio = new Vfio({ vfs, iommu, log, caps: profile.caps, iommufd: o.iommufd?.(vfs) });
  // vfio_iommu_type1.allow_unsafe_interrupts=1 unless told otherwise, as the default board's
  // bootargs set it (mainline refuses the fake group's wired-interrupt devices without it)
  const t1 = vfioIommuType1Init(vfio, { iommu, caps: profile.caps, log, allowUnsafeInterrupts: o.allowUnsafeInterrupts ?? true, current: () => sys.current?.mm ?? null });
  const bus = new FakeVfioBusDriver();
  if (o.register ?? true) {
    dev.driver = fakeDriver('vfio-platform');
    vfio.addGroupDev(dev, bus, { dev });
  }
  return {
    sched, cpu, log, mem, sysfs, vfs, sys, iommu, vfio, profile, bus, dev,
    type1: typeof t1 === 'number' ? null : t1,
    run(main, opts = {}, withinNs = 1_000_000_000) {
      const proc = sys.createProcess(opts);
      const thread = sys.spawn(proc, main);
      sched.runUntilPredicate(() => thread.exit !== null, { within: withinNs });
      return { thread, proc };
    },
  };
}
