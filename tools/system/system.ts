/**
 * A booted system: the board assembled from its device tree with the project's device
 * models, and the kernel model for a profile, up to the point where user programs can run
 * (VFS with sysfs/procfs/devtmpfs, syscalls, VFIO core, vfio_iommu_type1 or iommufd's compat
 * container, iommufd, vfio-platform).
 *
 * This is board assembly + kernel "init": the one place that names concrete devices
 * (through the device registry) and wires the kernel's subsystems together.
 */
import type { Cpu } from '../../emulator/cpu/cpu.js';
import type { GuestProgram } from '../../emulator/cpu/stub.js';
import type { StubThread } from '../../emulator/cpu/stub.js';
import type { DtNode } from '../../emulator/dt/types.js';
import { BoardError, DEFAULT_BOARD, loadBoardSource, Machine, parseBoard, type MachineOptions } from '../../emulator/machine.js';
import type { RunResult } from '../../emulator/scheduler.js';
import type { TraceEvent } from '../../emulator/trace.js';
import { defaultRegistry } from '../../devices/registry.js';
import { IrqCore } from '../../kernel-model/irq/core.js';
import { Kernel } from '../../kernel-model/kernel.js';
import { decodeReg, fullName } from '../../kernel-model/platform/of.js';
import { bindPageAllocator } from '../../kernel-model/process/pages.js';
import type { Process, ProcessOptions } from '../../kernel-model/process/process.js';
import { parseProfile, type Profile } from '../../kernel-model/profile.js';
import { SyscallLayer } from '../../kernel-model/syscall/syscalls.js';
import type { Sys } from '../../kernel-model/uapi/sys.js';
import { VfioAmbaDriver } from '../../kernel-model/vfio/platform/vfio-amba.js';
import { VfioPlatformDriver, type VfioPlatformDeps } from '../../kernel-model/vfio/platform/vfio-platform.js';
import { IommufdService } from '../../kernel-model/iommu/iommufd/index.js';
import { procPidStatus } from '../../kernel-model/process/proc-status.js';
import { registerMemDevices, type MemDevices } from '../../kernel-model/char/mem.js';
import { vfioIommuType1Init, type Type1Driver } from '../../kernel-model/vfio/type1.js';
import { Vfio, type VfioHost } from '../../kernel-model/vfio/vfio.js';
import { Vfs } from '../../kernel-model/vfs/vfs.js';

export interface SystemOptions {
  /** profile name (baseline, rfc-v4, mainline, mainline+iommufd-compat, patches:<list>) or a parsed profile */
  profile?: string | Profile;
  /** built-in board name or a .dts path (default vexpress-vfio) */
  board?: string;
  /** board source given directly (tests) */
  boardSource?: { text: string; file: string };
  seed?: number;
  trace?: MachineOptions['trace'];
  /** accelerator layers (emulator/accel.ts); default ACCEL_DEFAULT. CLI `--no-accel` */
  accel?: boolean;
  /**
   * the kernel command line, replacing the board's /chosen/bootargs (CLI `--bootargs`);
   * undefined: the board's
   */
  bootargs?: string;
  /** called with the assembled machine before the kernel boots (an MMIO observer: CLI --trace-mmio) */
  onMachine?: (m: Machine) => void;
  /**
   * Called at the end of each boot phase (benchmarks: tools/bench/boot.ts): 'dt-parse',
   * 'machine' (RAM, devices, wiring), 'kernel-init' (page allocator, kmalloc heap, driver
   * core, IOMMU core), 'kernel-boot' (IRQ core, platform devices, arm-smmu, host drivers),
   * 'userspace' (VFS, syscalls, VFIO core, type1, vfio-platform, settling).
   */
  phase?: (name: BootPhase) => void;
}

export type BootPhase = 'dt-parse' | 'machine' | 'kernel-init' | 'kernel-boot' | 'userspace';

export class System {
  readonly machine: Machine;
  readonly profile: Profile;
  readonly irq: IrqCore;
  readonly kernel: Kernel;
  readonly vfs: Vfs;
  readonly syscalls: SyscallLayer;
  readonly vfio: Vfio;
  readonly type1: Type1Driver | null;
  /** iommufd (profiles whose `iommufd` is not 'none'), else null */
  readonly iommufd: IommufdService | null;
  readonly vfioPlatform: VfioPlatformDriver | null;
  /** vfio-amba (profiles with `vfioAmba`), else null */
  readonly vfioAmba: VfioAmbaDriver | null;
  /** /dev/null, zero, full, random, urandom and the kernel's random pool (kernel-model/char/mem.ts) */
  readonly memDevices: MemDevices;

  /**
   * What a run's summary takes from the trace (tools/scenarios/runner.ts finishResult),
   * tallied as the events are emitted, whether or not the tracer keeps them, so that a run
   * reports the same with and without `run --trace`: the bytes the PL330 channels stored
   * (`pl330-xfer`) and the PL330 channel faults (`pl330-fault`), in emission order. Empty when
   * tracing is off.
   */
  readonly tally: { dmaStored: number; deviceFaults: TraceEvent[] } = { dmaStored: 0, deviceFaults: [] };

  constructor(opts: SystemOptions = {}) {
    this.profile = typeof opts.profile === 'object' ? opts.profile : parseProfile(opts.profile ?? 'rfc-v4');
    const phase = opts.phase;
    const src = opts.boardSource ?? loadBoardSource(opts.board ?? DEFAULT_BOARD);
    const tree = parseBoard(src.text, src.file);
    phase?.('dt-parse');
    this.machine = new Machine(tree, defaultRegistry(), { seed: opts.seed, trace: opts.trace, accel: opts.accel });
    phase?.('machine');
    const m = this.machine;
    m.tracer.tap('pl330-xfer', (e) => (this.tally.dmaStored += Number(e.f['stored'] ?? 0)));
    m.tracer.tap('pl330-fault', (e) => this.tally.deviceFaults.push(e));
    opts.onMachine?.(m);
    const gic = findGic(m.tree.root);
    if (!gic) throw new BoardError(`${m.file}: no GIC (arm,gic-400) node: the kernel model needs one`);
    const regs = decodeReg(m.tree, gic);
    let irqCore: IrqCore | null = null;
    this.kernel = new Kernel(m, m.tree, this.profile, ({ hw, log, caps }) => {
      irqCore = new IrqCore({ hw, cpu: m.cpu, scheduler: m.scheduler, log, tracer: m.tracer, caps, gic: { distBase: regs[0]!.base, cpuBase: regs[1]!.base, ofName: fullName(gic) } });
      return irqCore;
    }, Object.freeze({ bootargs: opts.bootargs }));
    this.irq = irqCore!;
    phase?.('kernel-init');
    this.kernel.boot();
    phase?.('kernel-boot');
    const k = this.kernel;
    this.vfs = new Vfs(k.sysfs, { maxLfsFilesize: this.profile.caps.maxLfsFilesize, shmemSeekNegative: this.profile.caps.shmemSeekNegative, nestedSymlinkLimit: this.profile.caps.nestedSymlinkLimit });
    this.vfs.addProcFile('interrupts', () => this.irq.procInterrupts());
    // the option objects handed to the kernel model below are frozen: never written after
    // construction, so the fuzzer's snapshot (tools/fuzz/snapshot.ts) need not record them
    this.syscalls = new SyscallLayer(Object.freeze({ cpu: m.cpu, vfs: this.vfs, memory: Object.freeze({ pages: Object.freeze(bindPageAllocator(k.mm.pages)), bus: m.bus }), log: k.log, selectClosedFd: this.profile.caps.selectClosedFd, anonInodeLseek: this.profile.caps.anonInodeLseek, iovecImport: this.profile.caps.iovecImport,
      capLastCap: this.profile.caps.capLastCap, capAmbient: this.profile.caps.capAmbient, rlimitCpuZero: this.profile.caps.rlimitCpuZero, forkPinnedPages: this.profile.caps.forkPinnedPages,
      madviseAdvice: this.profile.caps.madviseAdvice, madviseRemoveAccess: this.profile.caps.madviseRemoveAccess,
      getdentsAccess: this.profile.caps.getdentsAccess, sigaltstackAutodisarm: this.profile.caps.sigaltstackAutodisarm,
      signalsAfterGroupExit: this.profile.caps.signalsAfterGroupExit, sigkillEntry: this.profile.caps.sigkillEntry, siginfoFromUser: this.profile.caps.siginfoFromUser,
      groupExitOnLastThread: this.profile.caps.groupExitOnLastThread, cloneFlagChecks: this.profile.caps.cloneFlagChecks,
      syscallTable: this.profile.caps.syscallTable, ftruncateLength: this.profile.caps.ftruncateLength, fallocateModes: this.profile.caps.fallocateModes, linkatEmptyPath: this.profile.caps.linkatEmptyPath,
      procFdAnonOpen: this.profile.caps.procFdAnonOpen, procFdinfo: this.profile.caps.procFdinfo, procThreadSelf: this.profile.caps.procThreadSelf, procPtraceAccess: this.profile.caps.procPtraceAccess,
      dataAbortReport: this.profile.caps.dataAbortReport, execOpenCheck: this.profile.caps.execOpenCheck,
      binfmtScript: this.profile.caps.binfmtScript, execDenyWrite: this.profile.caps.execDenyWrite,
      execMapFailure: this.profile.caps.execMapFailure, execElfLoad: this.profile.caps.execElfLoad, execAuxv: this.profile.caps.execAuxv, stackGuard: this.profile.caps.stackGuard, pselectTimeLeft: this.profile.caps.pselectTimeLeft, nanosleepRestartReset: this.profile.caps.nanosleepRestartReset,
      execArgLimit: this.profile.caps.execArgLimit, execEmptyArgv: this.profile.caps.execEmptyArgv }));
    this.vfio = new Vfio(Object.freeze<VfioHost>({
      vfs: this.vfs,
      iommu: k.iommu,
      log: k.log,
      groupOwnershipGuard: this.profile.caps.groupOwnershipGuard,
      caps: this.profile.caps,
      // BUG(): the report goes to the kernel log and the run stops there (model choice: the
      // state after a BUG that guards isolation is not one a test should run on; Linux would
      // kill the writing task and continue tainted, holding its locks)
      bug: (report) => {
        for (const l of report) k.log.log('emerg', '', l);
        m.scheduler.requestStop(`kernel BUG: ${report[report.length - 2] ?? report[1]}`);
      },
    }));
    // iommufd_init (module_init): /dev/iommu, and /dev/vfio/vfio with CONFIG_IOMMUFD_VFIO_CONTAINER,
    // where CONFIG_VFIO_CONTAINER=n leaves no vfio_iommu_type1 (the VFIO core then creates no
    // container node: VfioHost.caps.iommufd)
    const ifd = this.profile.caps.iommufd;
    this.iommufd = ifd === 'none' ? null : new IommufdService(Object.freeze({ vfs: this.vfs, iommu: k.iommu, log: k.log, params: k.params, vfioContainer: ifd === 'dev-iommu+vfio-compat' }));
    const t1 = ifd === 'dev-iommu+vfio-compat' ? null : vfioIommuType1Init(this.vfio, Object.freeze({ iommu: k.iommu, caps: this.profile.caps, log: k.log, params: k.params, pages: k.mm.pages, current: () => this.syscalls.current?.mm ?? null }));
    this.type1 = t1 === null || typeof t1 === 'number' ? null : t1;
    const deps: VfioPlatformDeps = Object.freeze({
      driverCore: k.driverCore,
      sysfs: k.sysfs,
      iommu: k.iommu,
      vfio: this.vfio,
      irq: this.irq,
      hw: k.hw,
      kmem: k.mm.kmem,
      log: k.log,
      profile: this.profile,
      cpu: m.cpu,
      params: k.params,
    });
    if (this.profile.caps.vfioPlatform) {
      const drv = new VfioPlatformDriver(deps);
      this.vfioPlatform = drv.register() === 0 ? drv : null;
    } else {
      this.vfioPlatform = null;
    }
    if (this.profile.caps.vfioAmba) {
      const drv = new VfioAmbaDriver(deps);
      this.vfioAmba = drv.register() === 0 ? drv : null;
    } else {
      this.vfioAmba = null;
    }
    // /proc/self/status (VmLck, VmPin: what type1 and iommufd charge): made last, so that the
    // inode numbers of everything above stay what they were before it existed
    this.vfs.addProcSelfFile('status', procPidStatus);
    // chr_dev_init (drivers/char/mem.c): /dev/null, zero, full, random, urandom. Made after the
    // rest, so that the inode numbers above stay what they were before they existed; the pool's
    // seed comes from the machine seed without drawing on the machine's Prng (whose stream the
    // devices and the traces already depend on)
    this.memDevices = registerMemDevices(this.vfs, this.profile.caps, (m.seed ^ 0x72616e64) >>> 0);
    // let boot-time work (GIC and SMMU programming already happened synchronously) settle
    m.scheduler.runUntilIdle(100_000);
    phase?.('userspace');
    // every field is readonly: frozen, so that the fuzzer's snapshot (tools/fuzz/snapshot.ts) need not record it
    Object.freeze(this);
  }

  /** the VFIO bus drivers loaded (vfio-platform, vfio-amba) */
  get vfioBusDrivers(): VfioPlatformDriver[] {
    const out: VfioPlatformDriver[] = [];
    if (this.vfioPlatform) out.push(this.vfioPlatform);
    if (this.vfioAmba) out.push(this.vfioAmba);
    return out;
  }

  /** interrupts delivered to user space for a device, by whichever VFIO bus driver has it */
  vfioSignalled(device: string): number {
    let n = 0;
    for (const d of this.vfioBusDrivers) n += d.signalled.get(device) ?? 0;
    return n;
  }

  get cpu(): Cpu {
    return this.machine.cpu;
  }

  get now(): number {
    return this.machine.scheduler.now;
  }

  /** Start a guest program as a new process (root, CAP_IPC_LOCK unless told otherwise). */
  spawn(name: string, main: (sys: Sys) => GuestProgram, popts: ProcessOptions = {}): { proc: Process; thread: StubThread } {
    const proc = this.syscalls.createProcess({ name, ...popts });
    const thread = this.syscalls.spawn(proc, main, name);
    return { proc, thread };
  }

  /** Run until the threads have exited, the machine stops, or the virtual-time limit. */
  runUntilExited(threads: readonly StubThread[], withinNs = 10_000_000_000, maxEvents = 50_000_000): RunResult {
    return this.machine.scheduler.runUntilPredicate(() => threads.every((t) => t.exit !== null), { within: withinNs, maxEvents });
  }
}

function findGic(root: DtNode): DtNode | null {
  const stack: DtNode[] = [root];
  while (stack.length) {
    const n = stack.shift()!;
    const compat = n.props.find((p) => p.name === 'compatible');
    if (compat && compat.value.some((c) => c.kind === 'string' && (c.value === 'arm,gic-400' || c.value === 'arm,cortex-a15-gic'))) return n;
    stack.push(...n.children);
  }
  return null;
}

