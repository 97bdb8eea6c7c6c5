/**
 * The fuzzer's executor: boots a System for a profile, binds the PL330 to vfio-platform
 * the way the profile's administrator does (vfio_bind in 2014 profiles, driver_override +
 * drivers_probe in mainline), creates NPROC user processes, executes Calls through the
 * plain syscall entry (`syscalls.invoke(proc, null, ...)`: never blocks), and checks the
 * invariants after every call. A violated invariant throws FindingError.
 */
import { ATTR_NS, ATTR_WRITE } from '../../emulator/attrs.js';
import { Smmu } from '../../devices/smmu/smmu.js';
import { ERRNO_NAMES } from '../../kernel-model/base/errno.js';
import { KernelOops } from '../../kernel-model/base/oops.js';
import { GuestExit, GuestTrap } from '../../emulator/cpu/stub.js';
import type { Process } from '../../kernel-model/process/process.js';
import { TASK_SIZE } from '../../kernel-model/process/mm.js';
import type { File } from '../../kernel-model/vfs/file.js';
import type { Type1Iommu, VfioDma } from '../../kernel-model/vfio/type1.js';
import { IOMMU_READ, IOMMU_WRITE } from '../../kernel-model/iommu/types.js';
import { Group } from '../../kernel-model/iommu/core.js';
import { SmmuView, type ExpectedPage } from './isolation.js';
import { System } from '../system/system.js';
import { parseProfile } from '../../kernel-model/profile.js';
import { DMA_PAGES, NPROC } from './arb.js';
import { RefModel, type UserDomain } from './model.js';
import { devIdsOf, iommufdAttachments, iommufdBoundDevices, iommufdPins, ioasIdsOf } from './harness-iommufd.js';
import { IommufdModel } from './model-iommufd.js';
import { CONTAINER_IOMMUFD_IOCTLS, MAKE_DEV_CDEVS, makeCall, makeDevCalls, makeIoasCall } from './program-iommufd.js';
import { FD_IOCTLS, STRUCTS, VFIO_REQS, formatCall, hasDevRef, hasIoasRef, makeRefs, reqName, type Call, type FdKind, type FdRef, type IoctlArg, type Off, type PtrKind, type Value } from './program.js';

export const DEVICE = '2c0a0000.dma';
/** the second device, test-dma (devices/testdev/test-dma.ts), in an IOMMU group of its own */
export const DEVICE2 = '2c0b0000.dma';
/**
 * the fuzzer's board: the default board with test-dma enabled on stream id 2, so that both
 * kernels have two IOMMU groups (PL330 group 0, test-dma group 1) and two devices for VFIO
 */
export const FUZZ_BOARD = 'vexpress-vfio-two-groups';

/** a device the set-up binds to VFIO */
export interface FuzzDevice {
  name: string;
  group: number;
  regions: { addr: number; size: number }[];
}
const PAGE = 4096;
const O_WRONLY = 1;
const PROT_RW = 3;
const MAP_PRIVATE_ANON = 0x22;
const ERESTARTSYS = 512;
/** EACCES: mainline vfio_iommu_type1_dirty_pages on a TYPE1 (v1) container (`if (!iommu->v2) return -EACCES`); that request only */
const EACCES_ = 13;
const UNMAPPED_PTR = 0x1000;
/** constant inputs, allocated once (copyToUser only reads them) */
const ENC = new TextEncoder();
/**
 * UTF-8 of `s + end`, read only (it is copied into guest memory). The generated strings come
 * from small sets (paths, sysfs values, device names), so their encodings are kept: a cache of
 * host buffers, not model state, bounded so that a long campaign of fresh strings cannot grow it.
 */
const ENCODED = [new Map<string, Uint8Array>(), new Map<string, Uint8Array>()];
function encoded(s: string, end: '\0' | '\n'): Uint8Array {
  const m = ENCODED[end === '\0' ? 0 : 1]!;
  let b = m.get(s);
  if (b === undefined) {
    b = ENC.encode(s + end);
    if (m.size < 4096) m.set(s, b);
  }
  return b;
}
const NO_NUL = new Uint8Array(2 * PAGE - 8).fill(0x41);
/** marshal's struct buffer, reused (grown when a struct needs more) */
let MARSHAL_BUF = new Uint8Array(512);
let MARSHAL_DV = new DataView(MARSHAL_BUF.buffer);
const ZERO_PAGE = new Uint8Array(PAGE);
/** a call's name in a finding: `what`, or for an ioctl `ioctl(fd kind, REQUEST)` */
const callName = (what: string, fdKind?: string, req?: string): string => (fdKind === undefined ? what : `${what}(${fdKind}, ${req})`);
/** an eventfd count of 1, little-endian u64 */
const EVENTFD_ONE = new Uint8Array([1, 0, 0, 0, 0, 0, 0, 0]);

export interface Finding {
  /** dedup key, e.g. "region-info-leak", "rw-offset-mismatch", "oops:ioctl:VFIO_DEVICE_GET_REGION_INFO" */
  sig: string;
  message: string;
  /** index of the call that revealed it */
  step: number;
}

export class FindingError extends Error {
  constructor(readonly finding: Finding) {
    super(`${finding.sig}: ${finding.message}`);
  }
}

/** the users whose user locked_vm the iommufd check compares: root and the unprivileged P2 (uid 1000) */
const CHECKED_UIDS: readonly number[] = [0, 1000];

export interface StepRecord {
  line: string;
  ret: string;
}

interface Slot {
  proc: Process;
  scratch: number;
  ro: number;
  dma: number;
  maps: number[];
}

export interface HarnessOptions {
  profile: string;
  /** finding signatures already known: still recorded in `seen`, but do not throw */
  ignore?: ReadonlySet<string>;
  /** record a C-like transcript of every call (replay) */
  transcript?: boolean;
  /** the kernel command line instead of the default board's (tests of the reference model's rules) */
  bootargs?: string;
  /** the board (default FUZZ_BOARD); its devices DEVICE and, when enabled, DEVICE2 are bound to VFIO */
  board?: string;
}

/** the byte after the last field of each struct layout */
const STRUCT_END = new Map<string, number>(Object.entries(STRUCTS).map(([k, st]) => [k, Math.max(...st.fields.map(([, off, size]) => off + size))]));
const structEnd = (t: string): number => STRUCT_END.get(t) ?? 0;

/** errno values each call may return */
const E = (...names: string[]): Set<number> => new Set(names.map((n) => Number(Object.entries(ERRNO_NAMES).find(([, v]) => v === n)?.[0] ?? NaN)));
const ALLOWED: Record<string, Set<number>> = {
  // EEXIST: O_CREAT|O_EXCL on a path that exists (open(2); fs/namei.c open_last_lookups), as a guided
  // run's tmpfs seed can ask
  open: E('ENOENT', 'EACCES', 'EBUSY', 'ENODEV', 'ENXIO', 'EMFILE', 'EINVAL', 'ENOTDIR', 'EISDIR', 'EFAULT', 'EPERM', 'ENAMETOOLONG', 'EEXIST'),
  close: E('EBADF'),
  // ERANGE: io-pgtable-arm refuses an IOVA beyond the SMMU's input address size (Linux does the same);
  // EBADFD: mainline SET_CONTAINER with an fd that is neither a container nor an iommufd (group.c);
  // ENOENT: mainline MAP_DMA with VFIO_DMA_MAP_FLAG_VADDR where no mapping overlaps (vfio_dma_do_map)
  // iommufd (main.c, ioas.c, io_pagetable.c): E2BIG (copy_struct_from_user), EOPNOTSUPP (unknown flags),
  // EOVERFLOW (IOVA/length wrap), EMSGSIZE (IOAS_IOVA_RANGES with too small an array), EADDRINUSE (reserved IOVA)
  ioctl: E('EBADF', 'EBADFD', 'ENOTTY', 'EINVAL', 'EFAULT', 'EBUSY', 'ENODEV', 'EEXIST', 'ENOMEM', 'EPERM', 'EIO', 'EMFILE', 'ENOSPC', 'ENXIO', 'EAGAIN', 'ERANGE', 'ENOENT', 'E2BIG', 'EOPNOTSUPP', 'EOVERFLOW', 'EMSGSIZE', 'EADDRINUSE'),
  rw: E('EBADF', 'EINVAL', 'EFAULT', 'ESPIPE', 'EAGAIN', 'EIO', 'ENODEV', 'EPERM', 'ENOSPC', 'ENOENT', 'EBUSY', 'EISDIR'),
  mmap: E('EINVAL', 'EBADF', 'ENODEV', 'EACCES', 'ENOMEM', 'EPERM', 'EAGAIN'),
  munmap: E('EINVAL'),
  eventfd: E('EINVAL', 'EMFILE', 'ENOMEM'),
  poll: E('EINVAL', 'EFAULT', 'ENOMEM'),
};

/**
 * Oops signature: the call site, except for a sub-word access to a device that only
 * decodes 32-bit accesses (the PL330's APB slave answers SLVERR; Linux takes an external
 * abort). That happens in every profile, mainline included, whenever user space reads or
 * writes 1 or 2 bytes of such a register through the device fd: a documented finding, not
 * one of the review bugs, and suppressed by default (see docs/FUZZING.md).
 */
export function oopsSignature(site: string, msg: string): string {
  if (/external-abort/.test(msg) && /(read|write)(8|16) slave-error/.test(msg)) return 'oops:subword-device-access';
  // 3.14 vfio_iommu_group_notifier's BUG_ON: a host driver bound to a device of a group user
  // space holds (reached through sysfs, whatever the call site)
  if (/kernel BUG at drivers\/vfio\/vfio\.c \(vfio_iommu_group_notifier/.test(msg)) return 'oops:bug:vfio_iommu_group_notifier';
  return `oops:${site}`;
}

/** signatures suppressed unless asked for (documented in docs/FUZZING.md) */
export const DEFAULT_SUPPRESSIONS: readonly string[] = ['oops:subword-device-access', 'dma-readable-without-read-flag'];

export class Harness {
  readonly sys: System;
  readonly slots: Slot[] = [];
  readonly model: RefModel;
  /** the reference model's iommufd / cdev part (model-iommufd.ts) */
  readonly imodel: IommufdModel;
  /** ioctl x result coverage: "device:VFIO_DEVICE_GET_INFO" -> {"ok", "EINVAL", ...} */
  readonly coverage = new Map<string, Set<string>>();
  /** successful calls per coverage row in this run ("iommufd:IOMMU_IOAS_MAP" -> n) */
  readonly okCounts = new Map<string, number>();
  /**
   * What `coverage` gained, as (row, result) pairs, since the snapshot (restored with the rest
   * of the harness): a campaign merges the whole `coverage` once and then only these, not
   * every row after every run.
   */
  readonly coverAdds: string[] = [];
  readonly transcript: StepRecord[] = [];
  /** every finding seen in this run (including ignored ones) */
  readonly seen: Finding[] = [];
  /** the PL330's group, stream id and regions */
  readonly group: number;
  readonly streamId: number;
  readonly regions: { addr: number; size: number }[];
  /** every device bound to VFIO by the set-up (the PL330 first) */
  readonly devices: FuzzDevice[] = [];
  private readonly smmu: Smmu | null;
  /** region file offsets are `index << 40` (capability regionOffsetEncoding), not physical addresses */
  private readonly indexOffsets: boolean;
  /** the profile has /dev/iommu: CONTAINER_IOMMUFD_IOCTLS get rows of the container's own in the coverage table */
  private readonly iommufdRows: boolean;
  /** the container's VFIO_IOMMU_DIRTY_PAGES row (profiles whose type1 has it: arb.ts dirtyPagesOf draws it there) */
  private readonly dirtyRow: boolean;
  private ignore: ReadonlySet<string>;
  /** syscalls executed by the set-up (boot, binding, the processes' mappings) */
  readonly setupSyscalls: number;
  private step = 0;
  /** a resource-typed ref's making call runs (makeResources): cover() counts it apart */
  private making = false;
  /** the IOAS ids of the context the current call's fd names (makeIoas; resolves `{ ioas }` values) */
  private ioasIds: number[] = [];
  /** the device ids bound to the context the current call's fd names (makeDev; resolves `{ dev }` values) */
  private devIds: number[] = [];
  private pendingFail: Finding | null = null;
  /** physical pages that have ever been pinned by a mapping (for the pin-count invariant) */
  private readonly everPinned = new Set<number>();
  /** checkInvariants' tables, kept across calls: pages pinned per process slot, pin count per physical page */
  private readonly perSlot = new Int32Array(NPROC);
  private readonly perPa = new Map<number, number>();
  /** checkIsolation's and compareBank's tables, kept across calls and emptied before use */
  private readonly cbOwner = new Map<number, number>();
  private readonly attached = new Set<number>();
  private readonly hit = new Map<number, boolean>();
  /** groupStreams' answer, kept while the groups' devices and stream ids are the same (streamsStill) */
  private streams: GroupStreams | null = null;
  /** type1Instances' list, refilled in place */
  private readonly insts: { id: number; it: Type1Iommu }[] = [];
  /** per process slot: v => this.value(slot, v), made once (the models' pre-ioctl hooks take it on every ioctl) */
  private readonly valueOf: readonly ((v: Value) => bigint)[] = Array.from({ length: NPROC }, (_, p) => (v: Value): bigint => this.value(p, v));
  private nextPid = 0;
  /** the SMMU's registers and tables as the isolation invariant reads them */
  private readonly view: SmmuView | null;
  /** a call that can change mappings, attachments or stream-map entries ran since the last isolation check */
  private isolationDirty = true;
  /**
   * the pinned-page check (checkPinnedFrames) is off for the rest of the run: a raw syscall
   * ran, which may have unmapped, remapped or MADV_DONTNEED'd the pinned vaddrs (user space
   * changing its own memory under a mapping: the kernel keeps the pinned pages either way)
   */
  private pinnedFramesOff = false;
  /** mappings whose vaddr was ever invalidated (mainline UNMAP_DMA with VFIO_DMA_UNMAP_FLAG_VADDR): the vaddr a later MAP_DMA gives is user space's promise, not checked */
  private readonly vaddrRevised = new Set<VfioDma>();

  constructor(readonly opts: HarnessOptions) {
    this.sys = new System({ profile: opts.profile, seed: 1, bootargs: opts.bootargs, board: opts.board ?? FUZZ_BOARD });
    this.indexOffsets = this.sys.profile.caps.regionOffsetEncoding === 'index-shift-40';
    this.iommufdRows = this.sys.profile.caps.iommufd !== 'none';
    this.dirtyRow = this.sys.profile.caps.type1DirtyPages;
    this.ignore = opts.ignore ?? new Set();
    const dev = this.sys.kernel.driverCore.findDeviceOnAnyBus(DEVICE);
    this.regions = (dev?.resources ?? []).filter((r) => r.kind === 'mem').map((r) => ({ addr: r.start, size: r.size }));
    this.streamId = dev?.streamIds[0] ?? 1;
    const smmuDev = this.sys.machine.devices.find((d) => d.mmio[0] instanceof Smmu);
    this.smmu = (smmuDev?.mmio[0] as Smmu | undefined) ?? null;
    this.view = this.smmu ? new SmmuView(this.smmu, this.sys.machine.bus) : null;
    for (const name of [DEVICE, DEVICE2]) {
      const d = this.sys.kernel.driverCore.findDeviceOnAnyBus(name);
      if (!d) continue;
      const group = this.bind(name);
      const regions = d.resources.filter((r) => r.kind === 'mem').map((r) => ({ addr: r.start, size: r.size }));
      this.devices.push({ name, group, regions });
    }
    this.group = this.devices[0]?.group ?? 0;
    for (let i = 0; i < NPROC; i++) this.slots.push(this.newSlot(i));
    // a group per device on the fuzzer's board; one group of both on the shared-group board in mainline
    const groups: { id: number; devices: string[] }[] = [];
    for (const d of this.devices) {
      const g = groups.find((x) => x.id === d.group);
      if (g) g.devices.push(d.name);
      else groups.push({ id: d.group, devices: [d.name] });
    }
    this.model = new RefModel(this.sys, groups);
    this.imodel = new IommufdModel(this.sys.iommufd);
    this.setupSyscalls = this.sys.syscalls.count;
  }

  /** the known signatures (a harness restored from a snapshot gets the campaign's current set) */
  setIgnore(ignore: ReadonlySet<string>): void {
    this.ignore = ignore;
  }

  // ---------------------------------------------------------------- set-up

  private newSlot(i: number): Slot {
    const proc = this.slotProcess(i);
    const inv = (name: 'mmap2' | 'munmap', a: number[]): number => this.sys.syscalls.invoke(proc, null, name, a);
    const scratch = inv('mmap2', [0, 3 * PAGE, PROT_RW, MAP_PRIVATE_ANON, -1, 0]);
    inv('munmap', [scratch + 2 * PAGE, PAGE]);
    const ro = inv('mmap2', [0, 2 * PAGE, 1, MAP_PRIVATE_ANON, -1, 0]);
    const dma = inv('mmap2', [0, DMA_PAGES * PAGE, PROT_RW, MAP_PRIVATE_ANON, -1, 0]);
    return { proc, scratch, ro, dma, maps: [] };
  }

  /** a new process with slot i's credentials: P0 root with CAP_IPC_LOCK; P1 root without it (RLIMIT_MEMLOCK 64 KiB); P2 an unprivileged user */
  private slotProcess(i: number): Process {
    const popts = [{}, { capIpcLock: false }, { uid: 1000 }][i]!;
    return this.sys.syscalls.createProcess({ name: `fuzz${i}.${this.nextPid++}`, ...popts });
  }

  /** echo value > path, from process `proc`; 0 or -errno */
  echo(proc: Process, scratch: number, path: string, value: string): number {
    const mem = proc.mm;
    const inv = (name: 'open' | 'write' | 'close', a: number[]): number => this.sys.syscalls.invoke(proc, null, name, a);
    const p = encoded(path, '\0');
    const v = encoded(value, '\n');
    if (mem.copyToUser(scratch, p, 0, p.length) < 0 || mem.copyToUser(scratch + 1024, v, 0, v.length) < 0) return -14;
    const fd = inv('open', [scratch, O_WRONLY]);
    if (fd < 0) return fd;
    const r = inv('write', [fd, scratch + 1024, v.length]);
    inv('close', [fd]);
    return r < 0 ? r : 0;
  }

  /** the administrator's binding (guest-tests/admin/bind.ts does the same from a guest program); returns the group number */
  private bind(DEVICE: string): number {
    const admin = this.sys.syscalls.createProcess({ name: 'admin' });
    const s = this.sys.syscalls.invoke(admin, null, 'mmap2', [0, 2 * PAGE, PROT_RW, MAP_PRIVATE_ANON, -1, 0]);
    // the device's bus: platform, or amba where the profile makes the PL330 an AMBA device (`primecellBus`)
    const bus = this.sys.kernel.driverCore.findDeviceOnAnyBus(DEVICE)?.bus.name ?? 'platform';
    const vfioDrv = bus === 'amba' ? 'vfio-amba' : 'vfio-platform';
    const devDir = `/sys/bus/${bus}/devices/${DEVICE}`;
    const drv = this.sys.kernel.driverCore.findDeviceOnAnyBus(DEVICE)?.driver?.name ?? null;
    if (this.sys.profile.caps.vfioPlatform && this.sys.profile.caps.bindMechanism === 'vfio_bind') {
      if (drv && drv !== 'vfio-platform') this.echo(admin, s, `/sys/bus/platform/drivers/${drv}/unbind`, DEVICE);
      this.echo(admin, s, '/sys/bus/platform/drivers/vfio-platform/vfio_bind', DEVICE);
    } else {
      this.echo(admin, s, `${devDir}/driver_override`, vfioDrv);
      if (drv && drv !== vfioDrv) this.echo(admin, s, `/sys/bus/${bus}/drivers/${drv}/unbind`, DEVICE);
      this.echo(admin, s, `/sys/bus/${bus}/drivers_probe`, DEVICE);
    }
    // iommufd binds need iommufd.allow_unsafe_interrupts=1 on this board (no isolated MSI:
    // iommufd_device_bind -> iommufd_allow_unsafe... -EPERM otherwise); set before the
    // post-boot snapshot, as the scenarios' administrator does
    if (this.sys.iommufd) this.echo(admin, s, '/sys/module/iommufd/parameters/allow_unsafe_interrupts', '1');
    this.sys.syscalls.exitProcess(admin);
    const g = this.sys.kernel.iommu.groupOf(this.sys.kernel.driverCore.findDeviceOnAnyBus(DEVICE)!);
    return g?.id ?? 0;
  }

  // ---------------------------------------------------------------- resolution

  private kindOf(proc: Process, fd: number): FdKind | null {
    const f = proc.fdget(fd);
    return f ? fileKind(f) : null;
  }

  resolveFd(p: number, r: FdRef): number {
    if ('raw' in r) return r.raw;
    const proc = this.slots[p]!.proc;
    // the (r.i mod n)-th of the n open fds of kind r.k, lowest fd first (proc.openFds order),
    // without building a list: called for every fd argument
    const lim = proc.fdLimit;
    let n = 0;
    for (let fd = 0; fd < lim; fd++) {
      const f = proc.fdget(fd);
      if (f !== null && (r.k === 'any' || fileKind(f) === r.k)) n++;
    }
    if (n === 0) return 1000; // never open: EBADF
    let want = r.i % n;
    for (let fd = 0; fd < lim; fd++) {
      const f = proc.fdget(fd);
      if (f !== null && (r.k === 'any' || fileKind(f) === r.k) && want-- === 0) return fd;
    }
    return 1000;
  }

  private value(p: number, v: Value): bigint {
    const s = this.slots[p]!;
    if (typeof v === 'number') return BigInt.asUintN(64, BigInt(v));
    if (typeof v === 'string') return BigInt.asUintN(64, BigInt(v));
    if ('fd' in v) return BigInt.asUintN(64, BigInt(this.resolveFd(p, v.fd)));
    if ('dma' in v) return BigInt(s.dma + v.dma * PAGE + (v.off ?? 0));
    // a resource-typed IOAS id: the call's context's (makeIoas), 0 when it has none
    if ('ioas' in v) return BigInt(this.ioasIds.length > 0 ? this.ioasIds[v.ioas % this.ioasIds.length]! : 0);
    // a resource-typed device id: one bound to the call's context (makeDev), 0 when it has none
    if ('dev' in v) return BigInt(this.devIds.length > 0 ? this.devIds[v.dev % this.devIds.length]! : 0);
    return BigInt(s.ro + v.ro * PAGE);
  }

  /** SET_CONTAINER's argument names (at an ok pointer) an fd of kind 'container' */
  private setsContainerKind(p: number, arg: IoctlArg): boolean {
    if (arg.t !== 'struct' || arg.type !== 'int32' || arg.ptr !== 'ok' || arg.fields['v'] === undefined) return false;
    const f = this.slots[p]!.proc.fdget(Number(BigInt.asIntN(32, this.value(p, arg.fields['v']))));
    return f !== null && fileKind(f) === 'container';
  }

  /**
   * The scratch pages (the harness's argument and result buffer) are still its own: private
   * anonymous memory, readable and writable. A program can take them away: a raw munmap or
   * mprotect over them, or a munmap longer than its mapping; a device mmap may then land
   * where they were. After that, what the harness writes there and reads back is not what it
   * meant: an ioctl's result copied to a device mapping reads back as the device's registers
   * (a pread of the PL330's DPC read back as its DSR, found on mainline as a false
   * rw-offset-mismatch), and a struct written to a read-only page never reaches the kernel.
   * The oracles that read the scratch judge only while this holds; the reference models stop
   * comparing when it does not (they assume the kernel saw the struct the harness wrote).
   */
  private scratchIntact(s: Slot): boolean {
    const mm = s.proc.mm;
    for (let va = s.scratch; va < s.scratch + 2 * PAGE; va += PAGE) {
      const v = mm.find(va);
      if (v === null || v.kind !== 'anon' || (v.prot & PROT_RW) !== PROT_RW) return false;
    }
    return true;
  }

  private ptr(p: number, k: PtrKind, len: number): number {
    const s = this.slots[p]!;
    switch (k) {
      case 'ok':
        return s.scratch;
      case 'null':
        return 0;
      case 'unmapped':
        return UNMAPPED_PTR;
      case 'ro':
        return s.ro;
      case 'tail':
        return s.scratch + 2 * PAGE - Math.min(8, Math.max(1, len - 1));
    }
  }

  /**
   * The regions of the device a device fd was opened for (the PL330's for any other fd). A
   * group-path device fd's file holds the vfio_device itself (vfio_device_open_file:
   * anon_inode_getfile(..., device)); a cdev fd (/dev/vfio/devices/vfioN) holds a
   * vfio_device_file whose `device` is it (vfio_device_fops_cdev_open). Reading only the first
   * shape sent every cdev fd to the PL330's regions, so the read oracle compared the second
   * device's registers with the PL330's (a false rw-offset-mismatch on mainline).
   */
  private regionsOf(proc: Process, fd: number): { addr: number; size: number }[] {
    type Dev = { dev?: { name?: string } };
    const priv = proc.fdget(fd)?.priv as (Dev & { device?: Dev }) | undefined;
    const name = (priv?.device ?? priv)?.dev?.name;
    return this.devices.find((d) => d.name === name)?.regions ?? this.regions;
  }

  /** file offset as the profile's ABI encodes it: the physical address (2014) or index << 40 (mainline) */
  offset(o: Off, regions = this.regions): number {
    if ('raw' in o) return Number(BigInt(o.raw));
    const r = regions[o.region];
    if (this.indexOffsets) return o.region * 2 ** 40 + o.off;
    // a region that does not exist: an address past the last one
    return (r ? r.addr : 0x2c0f0000 + o.region * PAGE) + o.off;
  }

  /** write an ioctl argument into the scratch buffer; returns the pointer (or the by-value int) */
  private marshal(p: number, a: IoctlArg): number {
    const s = this.slots[p]!;
    const mem = s.proc.mm;
    if (a.t === 'int') return Number(BigInt.asUintN(32, this.value(p, a.v)));
    let bytes: Uint8Array;
    let len: number;
    if (a.t === 'str') {
      bytes = a.nul ? encoded(a.s, '\0') : NO_NUL;
      len = bytes.length;
    } else if (a.t === 'bytes') {
      // in the reused buffer (its first `len` bytes), as the structs below
      len = a.b.length;
      if (len > MARSHAL_BUF.length) {
        MARSHAL_BUF = new Uint8Array(len);
        MARSHAL_DV = new DataView(MARSHAL_BUF.buffer);
      }
      bytes = MARSHAL_BUF;
      for (let i = 0; i < len; i++) bytes[i] = a.b[i]!;
    } else {
      const st = STRUCTS[a.type];
      const tail = a.tail ?? [];
      // iommufd structs can extend past their min_size (HWPT_ALLOC, GET_HW_INFO): the whole struct.
      // Built in one reused buffer (a DataView over a fresh buffer per call was ~2% of a fuzz run);
      // only its first `len` bytes are ever read, so it is cleared to that length first.
      len = Math.max(st.minsz, structEnd(a.type)) + 4 * tail.length + 8;
      if (len > MARSHAL_BUF.length) {
        MARSHAL_BUF = new Uint8Array(len);
        MARSHAL_DV = new DataView(MARSHAL_BUF.buffer);
      }
      bytes = MARSHAL_BUF;
      bytes.fill(0, 0, len);
      const dv = MARSHAL_DV;
      const fields = st.fields;
      for (let i = 0; i < fields.length; i++) {
        const f = fields[i]!;
        const v = a.fields[f[0]];
        if (v === undefined) continue;
        const off = f[1];
        // a safe integer into a 32-bit field: its low 32 bits without a BigInt round trip
        // (ToUint32 is the value mod 2^32, what BigInt.asUintN(32, ...) gives for it)
        if (f[2] === 4 && typeof v === 'number' && Number.isSafeInteger(v)) {
          dv.setUint32(off, v >>> 0, true);
          continue;
        }
        const x = this.value(p, v);
        if (f[2] === 4) dv.setUint32(off, Number(BigInt.asUintN(32, x)), true);
        else dv.setBigUint64(off, x, true);
      }
      for (let i = 0; i < tail.length; i++) dv.setUint32(st.minsz + 4 * i, Number(BigInt.asUintN(32, this.value(p, tail[i]!))), true);
    }
    // the bytes always go to the scratch buffer; the pointer may point elsewhere
    mem.copyToUser(s.scratch, bytes, 0, Math.min(len, 2 * PAGE));
    const ptr = this.ptr(p, a.ptr, len);
    if (a.ptr === 'tail') mem.copyToUser(ptr, bytes, 0, Math.min(len, s.scratch + 2 * PAGE - ptr));
    return ptr;
  }

  // ---------------------------------------------------------------- execution

  private fail(sig: string, message: string): void {
    const f: Finding = { sig, message, step: this.step };
    this.seen.push(f);
    // thrown at the end of the step, once the call's result is in the transcript
    if (!this.ignore.has(sig) && this.pendingFail === null) this.pendingFail = f;
  }

  private cover(kind: FdKind | null, what: string, ret: number): void {
    if (kind !== 'container' && kind !== 'group' && kind !== 'device' && kind !== 'iommufd' && kind !== 'fault') return;
    // FIONBIO/FIOCLEX/FIONCLEX are answered by the VFS for every fd, not by VFIO
    if (what.startsWith('FIO')) return;
    // the compat container's iommufd requests get rows of their own where /dev/iommu exists
    // and VFIO_IOMMU_DIRTY_PAGES where type1 has it (`type1DirtyPages`)
    const key = kind === 'container' && this.iommufdRows && CONTAINER_IOMMUFD_IOCTLS.includes(what) ? containerIommufdKey(what) : kind === 'container' && this.dirtyRow && what === 'VFIO_IOMMU_DIRTY_PAGES' ? 'container:VFIO_IOMMU_DIRTY_PAGES' : coverKey(kind, what);
    let set = this.coverage.get(key);
    if (!set) this.coverage.set(key, (set = new Set()));
    const v = ret >= 0 ? 'ok' : (ERRNO_NAMES[-ret] ?? String(ret));
    if (this.making) {
      // a call a resource-typed ref made (makeResources): its successes on rows of their own
      if (ret >= 0) this.okCounts.set(`made:${key}`, (this.okCounts.get(`made:${key}`) ?? 0) + 1);
      return;
    }
    if (!set.has(v)) {
      set.add(v);
      this.coverAdds.push(key, v);
    }
    if (ret >= 0) this.okCounts.set(key, (this.okCounts.get(key) ?? 0) + 1);
  }

  /** Execute one call and check every invariant. Throws FindingError. */
  exec(call: Call): void {
    // (every call but `run` names its process)
    const pi = call.op !== 'run' ? call.p % NPROC : -1;
    const s = pi >= 0 ? this.slots[pi]! : null;
    let line = '';
    let ret: number | string = 0;
    try {
      // resource-typed refs (FdRef.mk): the calls that make their fds first, in this step
      let made = s ? this.makeResources(pi, call) : '';
      // resource-typed IOAS ids ({ ioas, mk }): an IOAS made first when the fd's context has none
      if (s && hasIoasRef(call)) made += this.makeIoas(pi, call);
      // resource-typed device ids ({ dev, mk }): a device bound first when the context has none
      if (s && hasDevRef(call)) made += this.makeDev(pi, call);
      line = this.opts.transcript ? made + formatCall(call, s ? (r) => this.resolveFd(pi, r) : undefined) : '';
      ret = this.dispatch(call);
    } catch (e) {
      // a making call (makeResources) that threw: the line is the call's own
      if (this.opts.transcript && line === '') line = formatCall(call);
      if (e instanceof GuestExit && s) {
        // a raw exit()/exit_group(): the process ends normally
        ret = `exit(${e.code})`;
        this.respawn(pi);
      } else if (e instanceof GuestTrap && s) {
        // a kernel Oops kills the calling process (the kernel logged it); a user fault too
        ret = e.reason;
        this.respawn(pi);
        if (e.reason.startsWith('killed by kernel Oops')) {
          const msg = e.reason.slice('killed by kernel Oops: '.length);
          this.fail(oopsSignature(this.site(call), msg), msg);
        }
      } else {
        this.record(line, `host exception ${(e as Error).message}`);
        this.fail(`host-exception:${this.site(call)}`, (e as Error).stack ?? String(e));
        ret = 'exception';
      }
    }
    this.record(line, ret);
    if (mayChangeIsolation(call)) this.isolationDirty = true;
    if (call.op === 'run') this.checkStalls(call.ns);
    this.checkInvariants();
    this.step++;
    const f = this.pendingFail;
    if (f) {
      this.pendingFail = null;
      throw new FindingError(f);
    }
  }

  /**
   * The calls that make the fds of a call's resource-typed refs (FdRef.mk; program.ts makeRefs,
   * program-iommufd.ts makeCall) where process p has no live fd of that kind: /dev/iommu's open,
   * and for a fault fd IOMMU_FAULT_QUEUE_ALLOC on its first /dev/iommu fd (opened first when it
   * has none), each dispatched as a call of its own (the models follow it; cover() counts it on
   * `made:` rows). Returns them as a comment for the transcript line ('' when none ran, or without a
   * transcript).
   */
  private makeResources(p: number, call: Call): string {
    const refs = makeRefs(call);
    if (refs.length === 0) return '';
    const made: string[] = [];
    const make = (k: 'iommufd' | 'fault'): void => {
      if (this.hasFd(p, k)) return;
      if (k === 'fault') make('iommufd');
      if (k === 'fault' && !this.hasFd(p, 'iommufd')) return;
      const c = makeCall(p, k);
      this.making = true;
      try {
        const r = this.dispatch(c);
        // the open has no coverage row: counted here (the ioctl by cover())
        if (k === 'iommufd' && r >= 0) this.okCounts.set('made:open:/dev/iommu', (this.okCounts.get('made:open:/dev/iommu') ?? 0) + 1);
        // the text only for a transcript (exec reads the answer only then)
        if (this.opts.transcript) made.push(`${formatCall(c).replace(/^P\d+: /, '').replace(/;$/, '')} = ${r}`);
      } finally {
        this.making = false;
      }
    };
    for (const r of refs) make(r.k as 'iommufd' | 'fault');
    return made.length > 0 ? `/* made: ${made.join('; ')} */ ` : '';
  }

  /**
   * A call with resource-typed IOAS ids (Value `{ ioas, mk }`, hasIoasRef): where its fd is a live
   * /dev/iommu fd whose context has no IOAS, IOMMU_IOAS_ALLOC on that fd first (makeIoasCall,
   * dispatched like a program's call: the models follow it, cover() counts it on a `made:` row);
   * then the ids the refs resolve to (value()): that context's IOAS ids in id order (ioasIdsOf).
   * Returns the made call as a transcript comment ('' when none ran).
   */
  private makeIoas(p: number, call: Call): string {
    this.ioasIds = [];
    if (!('fd' in call)) return '';
    const fd = this.resolveFd(p, call.fd);
    const f = fd < 1000 ? this.slots[p]!.proc.fdget(fd) : null;
    if (f === null || fileKind(f) !== 'iommufd' || !this.sys.iommufd) return '';
    let made = '';
    if (ioasIdsOf(this.sys.iommufd, f).length === 0) {
      const c = makeIoasCall(p, fd);
      this.making = true;
      try {
        const r = this.dispatch(c);
        made = `/* made: ${formatCall(c).replace(/^P\d+: /, '').replace(/;$/, '')} = ${r} */ `;
      } finally {
        this.making = false;
      }
    }
    this.ioasIds = ioasIdsOf(this.sys.iommufd, f);
    return made;
  }

  /**
   * A call with resource-typed device ids (Value `{ dev, mk }`, hasDevRef): where its fd is a live
   * /dev/iommu fd whose context has no bound device, a device is bound to it first: for each cdev
   * of MAKE_DEV_CDEVS in turn, open, VFIO_DEVICE_BIND_IOMMUFD with that fd, and close when the bind
   * failed (a group open or in a container, the device open elsewhere), until a bind succeeds
   * (makeDevCalls; each dispatched like a program's call: the models follow them, cover() counts
   * the binds on a `made:` row); the bound cdev fd stays open in the process. Then the ids the
   * refs resolve to (value()): the context's device ids in id order (devIdsOf). Returns the made
   * calls as a transcript comment ('' when none ran).
   */
  private makeDev(p: number, call: Call): string {
    this.devIds = [];
    if (!('fd' in call)) return '';
    const ifd = this.resolveFd(p, call.fd);
    const f = ifd < 1000 ? this.slots[p]!.proc.fdget(ifd) : null;
    if (f === null || fileKind(f) !== 'iommufd' || !this.sys.iommufd) return '';
    const made: string[] = [];
    const run = (c: Call): number => {
      this.making = true;
      try {
        const r = this.dispatch(c);
        made.push(`${formatCall(c).replace(/^P\d+: /, '').replace(/;$/, '')} = ${r}`);
        return r;
      } finally {
        this.making = false;
      }
    };
    if (devIdsOf(this.sys.iommufd, f).length === 0) {
      for (const path of MAKE_DEV_CDEVS) {
        const dfd = run(makeDevCalls.open(p, path));
        if (dfd < 0) continue;
        if (run(makeDevCalls.bind(p, dfd, ifd)) === 0) break;
        run(makeDevCalls.close(p, dfd));
      }
    }
    this.devIds = devIdsOf(this.sys.iommufd, f);
    return made.length > 0 ? `/* made: ${made.join('; ')} */ ` : '';
  }

  /** whether process p has a live fd of kind k */
  private hasFd(p: number, k: FdKind): boolean {
    const proc = this.slots[p]!.proc;
    for (const fd of proc.openFds) {
      const f = proc.fdget(fd);
      if (f !== null && fileKind(f) === k) return true;
    }
    return false;
  }

  private record(line: string, ret: number | string): void {
    if (!this.opts.transcript) return;
    const last = this.transcript[this.transcript.length - 1];
    if (last && last.line === line && last.ret === '') return;
    this.transcript.push({ line, ret: typeof ret === 'number' ? (ret < 0 ? `-${ERRNO_NAMES[-ret] ?? -ret}` : String(ret)) : ret });
  }

  private site(c: Call): string {
    // a raw syscall's site names its number (ARM EABI): an Oops in pread64 (180) is not one in
    // an unrelated raw call, and the baseline lists them one by one
    return c.op === 'ioctl' ? `ioctl:${reqName(c.req)}` : c.op === 'raw' ? `raw:${c.nr}` : c.op;
  }

  /** the files a process's exit will release (for the iommufd model) */
  private filesOf(proc: Process): ReturnType<Process['fdget']>[] {
    return proc.openFds.map((fd) => proc.fdget(fd));
  }

  /** the models after `proc` exited; `fds` and `files`: its open fds and their files before the exit */
  private exitedModels(proc: Process, fds: readonly number[], files: readonly (File | null)[]): void {
    for (const f of files) this.imodel.closedFile(f);
    this.model.processExited(proc, (fd) => (files[fds.indexOf(fd)]?.refs ?? 0) > 0);
  }

  private respawn(p: number): void {
    this.endSlot(p);
    this.slots[p] = this.newSlot(p);
  }

  /**
   * the models after a successful close of `fd` (its file `file`, read before the close). A
   * device file the model releases may still be held by a mapping of it (a vma holds a
   * reference, in this process or, after a fork, in another): the device stays open until the
   * munmap or the exit, which the models do not follow; they stop comparing.
   */
  private closedFd(proc: Process, fd: number, kind: FdKind | null, file: File | null): void {
    const released = this.model.closed(proc, fd, kind);
    if (kind === 'device' && file !== null && file.refs > 0) {
      if (released) this.model.deviceMayOutliveFd();
      this.imodel.lose();
    }
    this.imodel.closedFile(file);
  }

  /** slot p's process exits: every file and mapping it holds goes */
  private endSlot(p: number): void {
    this.isolationDirty = true;
    const old = this.slots[p]!;
    const fds = old.proc.openFds;
    const files = this.filesOf(old.proc);
    this.sys.syscalls.exitProcess(old.proc);
    this.exitedModels(old.proc, fds, files);
  }

  /**
   * fork() of slot p into slot q (kernel/fork.c copy_process): q's process exits, and a
   * process with q's credentials and a copy of p's address space (AddressSpace.forkInto: its
   * pages copied, device mappings shared; locked_vm and pinned_vm start at 0, as dup_mmap /
   * mm_init leave them) and of p's fd table (copy_files -> dup_fd: the same files, one more
   * reference each) takes the slot, with p's scratch, read-only and DMA areas at the same
   * addresses and p's device mappings. Returns the child's pid, or -ENOMEM (the slot then
   * gets a fresh process). The reference model follows the shared files (RefModel.forked: a
   * file is released with its last fd, in either process); the iommufd model stops comparing.
   */
  private fork(p: number, q: number): number {
    const parent = this.slots[p]!;
    this.endSlot(q);
    const proc = this.slotProcess(q);
    const r = parent.proc.mm.forkInto(proc.mm, this.sys.profile.caps.forkPinnedPages);
    if (r < 0) {
      this.sys.syscalls.exitProcess(proc);
      this.slots[q] = this.newSlot(q);
      return r;
    }
    parent.proc.copyFdsTo(proc);
    this.slots[q] = { proc, scratch: parent.scratch, ro: parent.ro, dma: parent.dma, maps: parent.maps.slice() };
    this.model.forked(parent.proc, proc);
    // the iommufd model's files are not followed across processes: it stops comparing
    this.imodel.lose();
    return proc.pid;
  }

  /**
   * `what` names the call in a finding; for an ioctl, `fdKind` and `req` do (`ioctl(kind, REQ)`),
   * so that the name is built only when there is something to report (this runs after every call)
   */
  private checkRet(kind: string, ret: number, what: string, fdKind?: string, req?: string): void {
    if (!Number.isInteger(ret)) {
      const w = callName(what, fdKind, req);
      this.fail(`bad-return:${w}`, `${w} returned ${ret}`);
    } else if (ret < 0 && !ALLOWED[kind]!.has(-ret) && !(ret === -ERESTARTSYS && kind === 'rw') && !(ret === -EACCES_ && req === 'VFIO_IOMMU_DIRTY_PAGES')) {
      const w = callName(what, fdKind, req);
      this.fail(`bad-errno:${w}:${-ret}`, `${w} returned ${ret} (${ERRNO_NAMES[-ret] ?? 'not an errno'}), not a valid error for this call`);
    }
  }

  private dispatch(c: Call): number {
    const sc = this.sys.syscalls;
    if (c.op === 'run') {
      this.sys.machine.scheduler.runUntil(this.sys.now + c.ns);
      return 0;
    }
    const p = c.p % NPROC;
    const s = this.slots[p]!;
    const proc = s.proc;
    switch (c.op) {
      case 'open': {
        const b = encoded(c.path, '\0');
        if (!this.scratchIntact(s)) {
          // the path the kernel reads is not the one written: what opened is unknown
          this.model.scratchLost();
          this.imodel.lose();
        }
        proc.mm.copyToUser(s.scratch, b, 0, b.length);
        const before = this.model.snapshotOpen(proc, c.path);
        const r = sc.invoke(proc, null, 'open', [s.scratch, c.flags]);
        this.checkRet('open', r, 'open');
        this.model.opened(proc, c.path, r, before);
        this.imodel.opened(proc, c.path, r);
        return r;
      }
      case 'close': {
        const fd = this.resolveFd(p, c.fd);
        const kind = this.kindOf(proc, fd);
        const file = this.imodel.fileOf(proc, fd);
        const r = sc.invoke(proc, null, 'close', [fd]);
        this.checkRet('close', r, 'close');
        if (r === 0) this.closedFd(proc, fd, kind, file);
        return r;
      }
      case 'ioctl': {
        const fd = this.resolveFd(p, c.fd);
        const kind = this.kindOf(proc, fd);
        const intact = this.scratchIntact(s);
        if (!intact) {
          this.model.scratchLost();
          this.imodel.lose();
        }
        const arg = this.marshal(p, c.arg);
        const val = this.valueOf[p]!;
        const pre = this.model.preIoctl(proc, fd, kind, c.req, c.arg, val);
        const file = this.imodel.fileOf(proc, fd);
        const ipre = this.imodel.pre(proc, file, c.req, c.arg, val);
        const r = sc.invoke(proc, null, 'ioctl', [fd, c.req, arg]);
        const name = reqName(c.req);
        this.cover(kind, name, r);
        this.checkRet('ioctl', r, 'ioctl', kind ?? 'bad fd', name);
        const err = this.model.postIoctl(proc, fd, kind, c.req, r, pre, s.scratch, c.arg);
        if (err) this.fail(`model:${kind}:${name}`, err);
        this.imodel.post(proc, file, c.req, r, ipre, s.scratch, c.arg);
        // mainline SET_CONTAINER accepts an iommufd (vfio_group_ioctl_set_container ->
        // iommufd_vfio_compat_ioas_create): a /dev/iommu context gains an IOAS the iommufd model
        // does not follow. A VFIO container or the compat container (/dev/vfio/vfio; the
        // container part of the model follows it) leaves the /dev/iommu contexts alone.
        if (r === 0 && kind === 'group' && c.req === VFIO_REQS.VFIO_GROUP_SET_CONTAINER && !this.setsContainerKind(p, c.arg)) this.imodel.lose();
        if (r === 0 && intact && kind === 'device' && c.req === VFIO_REQS.VFIO_DEVICE_GET_REGION_INFO && c.arg.t === 'struct' && c.arg.ptr === 'ok') this.checkRegionInfo(s, this.regionsOf(proc, fd));
        return r;
      }
      case 'pread':
      case 'pwrite': {
        const fd = this.resolveFd(p, c.fd);
        const kind = this.kindOf(proc, fd);
        const regions = this.regionsOf(proc, fd);
        const pos = this.offset(c.off, regions);
        const buf = this.ptr(p, c.ptr, c.count);
        if (c.op === 'pwrite') proc.mm.copyToUser(s.scratch, ZERO_PAGE, 0, Math.min(c.count, PAGE));
        const lo = pos % 2 ** 32 >>> 0;
        const hi = Math.floor(pos / 2 ** 32) >>> 0;
        const r = sc.invoke(proc, null, c.op === 'pread' ? 'pread64' : 'pwrite64', [fd, buf, c.count, 0, lo, hi]);
        this.cover(kind, c.op === 'pread' ? 'read' : 'write', r);
        this.checkRet('rw', r, c.op);
        if (r > c.count) this.fail(`bad-return:${c.op}`, `${c.op} of ${c.count} bytes returned ${r}`);
        if (kind === 'fault') this.imodel.faultRw(proc, proc.fdget(fd), c.op, buf, c.count, r);
        if (r > 0 && kind === 'device' && c.op === 'pread' && c.ptr === 'ok' && this.scratchIntact(s)) this.checkReadOracle(s, pos, r, regions);
        return r;
      }
      case 'read':
      case 'write': {
        const fd = this.resolveFd(p, c.fd);
        const kind = this.kindOf(proc, fd);
        // eventfds are read/written 8 bytes at a time; the scratch holds a small count
        if (c.op === 'write') proc.mm.copyToUser(s.scratch, EVENTFD_ONE, 0, 8);
        const buf = this.ptr(p, c.ptr, c.count);
        const r = sc.invoke(proc, null, c.op, [fd, buf, c.count]);
        this.cover(kind, c.op, r);
        this.checkRet('rw', r, c.op);
        if (kind === 'fault') this.imodel.faultRw(proc, proc.fdget(fd), c.op, buf, c.count, r);
        return r;
      }
      case 'mmap': {
        const fd = this.resolveFd(p, c.fd);
        const kind = this.kindOf(proc, fd);
        const off = this.offset(c.off, this.regionsOf(proc, fd));
        if (off % PAGE !== 0) {
          this.cover(kind, 'mmap', -22);
          return -22; // mmap2 cannot express it: the C library returns EINVAL
        }
        const r = sc.invoke(proc, null, 'mmap2', [0, c.len, c.prot, c.flags, fd, off / PAGE]);
        this.cover(kind, 'mmap', r);
        if (r < 0) this.checkRet('mmap', r, 'mmap');
        else {
          if (r % PAGE !== 0 || r >= TASK_SIZE) this.fail('bad-return:mmap', `mmap returned 0x${r.toString(16)}`);
          s.maps.push(r);
        }
        return r;
      }
      case 'munmap': {
        if (s.maps.length === 0) return 0;
        const i = c.map % s.maps.length;
        const r = sc.invoke(proc, null, 'munmap', [s.maps[i]!, c.len]);
        this.checkRet('munmap', r, 'munmap');
        if (r === 0) s.maps.splice(i, 1);
        return r;
      }
      case 'mmio': {
        if (s.maps.length === 0) return 0;
        const va = s.maps[c.map % s.maps.length]! + c.off;
        // user loads/stores through the mapping (a fault raises SIGSEGV/SIGBUS: the process dies)
        const mem = proc.mm;
        if (c.write) mem.storeU(va, c.width, c.value >>> 0);
        else return mem.loadU(va, c.width);
        return 0;
      }
      case 'store':
        // a user store into the DMA area (a fault kills the process: GuestTrap); to a page a
        // 3.14 fork shares copy-on-write it breaks the sharing (VmaSpace.resolve -> breakCow)
        proc.mm.storeU(s.dma + (c.page % DMA_PAGES) * PAGE + (c.off & 0xffc), 4, c.value >>> 0);
        return 0;
      case 'eventfd': {
        const r = sc.invoke(proc, null, 'eventfd2', [c.init, c.flags]);
        this.checkRet('eventfd', r, 'eventfd');
        return r;
      }
      case 'efd_write': {
        const fd = this.resolveFd(p, c.fd);
        const b = new Uint8Array(8);
        new DataView(b.buffer).setBigUint64(0, BigInt(c.value), true);
        proc.mm.copyToUser(s.scratch, b, 0, 8);
        const r = sc.invoke(proc, null, 'write', [fd, s.scratch, 8]);
        this.checkRet('rw', r, 'write(eventfd)');
        // an fd reference of another kind can name a fault fd: 8 bytes are one page response
        if (this.kindOf(proc, fd) === 'fault') this.imodel.faultRw(proc, proc.fdget(fd), 'write', s.scratch, 8, r);
        return r;
      }
      case 'poll': {
        const b = new Uint8Array(8 * c.fds.length);
        const dv = new DataView(b.buffer);
        const fds = c.fds.map((f) => this.resolveFd(p, f));
        fds.forEach((fd, i) => {
          dv.setInt32(8 * i, fd, true);
          dv.setInt16(8 * i + 4, c.events & 0x7fff, true);
        });
        const intact = this.scratchIntact(s);
        proc.mm.copyToUser(s.scratch, b, 0, b.length);
        const r = sc.invoke(proc, null, 'poll', [s.scratch, c.fds.length, 0]);
        this.checkRet('poll', r, 'poll');
        // the pollfds go to and the revents come back in the scratch: judged while it is the harness's own memory
        if (r >= 0 && intact) this.imodel.polled(proc, fds, c.events & 0x7fff, s.scratch);
        return r;
      }
      case 'echo': {
        const r = this.echo(proc, s.scratch, c.path, c.value);
        // a failed write changed nothing; a bind, unbind or probe may have changed the groups
        if (r === 0) this.model.sysfsChanged();
        this.imodel.lose();
        return r;
      }
      case 'exit':
        this.respawn(p);
        return 0;
      case 'fork': {
        const q = c.into % NPROC;
        return q === p ? 0 : this.fork(p, q);
      }
      case 'raw': {
        this.pinnedFramesOff = true;
        const r = sc.invoke(proc, null, c.nr, c.args);
        if (!Number.isInteger(r)) this.fail('bad-return:raw', `syscall ${c.nr} returned ${r}`);
        // a raw close/ioctl may change VFIO state behind the model's back: resynchronise it
        this.model.resync(proc);
        this.imodel.lose();
        return r;
      }
    }
  }

  // ---------------------------------------------------------------- bug oracles

  /** GET_REGION_INFO returned 0: the struct must describe a real region of the device */
  private checkRegionInfo(s: Slot, regions: { addr: number; size: number }[]): void {
    const mem = s.proc.mm;
    const b = new Uint8Array(32);
    if (mem.copyFromUser(b, 0, s.scratch, 32) < 0) return;
    const dv = new DataView(b.buffer);
    const index = dv.getUint32(8, true);
    const size = Number(dv.getBigUint64(16, true));
    const offset = Number(dv.getBigUint64(24, true));
    const flags = dv.getUint32(4, true);
    const reg = regions[index];
    const ok = reg !== undefined && reg.size === size && offset === (this.indexOffsets ? index * 2 ** 40 : reg.addr) && (flags & ~7) === 0;
    if (!ok) {
      const hex = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
      this.fail('region-info-leak', `GET_REGION_INFO(index ${index}) succeeded with a region the device does not have (the device has ${regions.length}): flags 0x${flags.toString(16)} size 0x${size.toString(16)} offset 0x${offset.toString(16)}; bytes ${hex}`);
    }
  }

  /** a successful read of device registers must return what the registers hold at the correct address */
  private checkReadOracle(s: Slot, pos: number, n: number, regions: { addr: number; size: number }[]): void {
    let pa: number;
    if (this.indexOffsets) {
      const r = regions[Math.floor(pos / 2 ** 40)];
      if (!r) return;
      pa = r.addr + (pos % 2 ** 40);
    } else pa = pos;
    const got = new Uint8Array(n);
    if (s.proc.mm.copyFromUser(got, 0, s.scratch, n) < 0) return;
    const want = new Uint8Array(n);
    let off = 0;
    while (off < n) {
      const left = n - off;
      const a = pa + off;
      const w = left >= 4 && a % 4 === 0 ? 4 : left >= 2 && a % 2 === 0 ? 2 : 1;
      const v = this.sys.machine.bus.read(a, w, ATTR_NS);
      for (let k = 0; k < w; k++) want[off + k] = v < 0 ? 0 : (v >>> (8 * k)) & 0xff;
      off += w;
    }
    for (let k = 0; k < n; k++) {
      if (got[k] !== want[k]) {
        const hex = (x: Uint8Array): string => [...x].map((y) => y.toString(16).padStart(2, '0')).join('');
        this.fail('rw-offset-mismatch', `read of ${n} bytes at offset 0x${pos.toString(16)} returned ${hex(got)}, but the register at physical 0x${pa.toString(16)} holds ${hex(want)}`);
        return;
      }
    }
  }

  // ---------------------------------------------------------------- invariants

  /**
   * the live type1 instances, from the containers themselves (containerStates() builds a record
   * of each). One list and its entries, refilled by each call (this runs after every call): the
   * answer is valid until the next call, and its readers (the checks below) keep no part of it.
   */
  private type1Instances(): { id: number; it: Type1Iommu }[] {
    const out = this.insts;
    let n = 0;
    for (const c of this.sys.vfio.containers) {
      if (c.iommuDriver?.name !== 'vfio-iommu-type1' || !c.iommuData) continue;
      const e = out[n];
      if (e === undefined) out.push({ id: c.id, it: c.iommuData as Type1Iommu });
      else {
        e.id = c.id;
        e.it = c.iommuData as Type1Iommu;
      }
      n++;
    }
    if (out.length !== n) out.length = n;
    return out;
  }

  checkInvariants(): void {
    const insts = this.type1Instances();
    // pinned pages and locked_vm equal what the live mappings imply. Per mm: counted per
    // process slot (the only mms compared below); per page: one table kept across calls and
    // emptied here only when it holds something (most calls pin nothing; a new Map per call
    // was half of what the checks allocated, ~16 KB per run)
    const slots = this.slots;
    const perSlot = this.perSlot;
    perSlot.fill(0);
    const perPa = this.perPa;
    if (perPa.size > 0) perPa.clear();
    for (const { it } of insts) {
      for (const d of it.dmas) {
        let n = 0;
        for (let i = 0; i < d.pa.length; i++) {
          if (d.reserved[i]) continue;
          n++;
          perPa.set(d.pa[i]!, (perPa.get(d.pa[i]!) ?? 0) + 1);
          this.everPinned.add(d.pa[i]!);
        }
        for (let k = 0; k < slots.length; k++) {
          if (slots[k]!.proc.mm !== d.mm) continue;
          perSlot[k]! += n;
          if (d.vaddrInvalid) this.vaddrRevised.add(d);
          else if (!this.pinnedFramesOff && !this.vaddrRevised.has(d)) this.checkPinnedFrames(slots[k]!, d);
        }
      }
    }
    // iommufd's IOAS areas pin too (harness-iommufd.ts): pinned_vm always, locked_vm per account mode
    const ip = iommufdPins(this.sys.iommufd);
    for (const [pa, n] of ip.perPa) {
      perPa.set(pa, (perPa.get(pa) ?? 0) + n);
      this.everPinned.add(pa);
    }
    for (let k = 0; k < slots.length; k++) {
      const s = slots[k]!;
      const mm = s.proc.mm;
      const want = perSlot[k]!;
      const wantLocked = want + (ip.locked.get(mm) ?? 0);
      const wantPinned = want + (ip.pinned.get(mm) ?? 0);
      if (mm.lockedVm !== wantLocked) this.fail('locked-vm', `${s.proc.name}: locked_vm ${mm.lockedVm} pages, the live mappings account ${wantLocked}`);
      if (mm.pinnedThrough !== wantPinned) this.fail('pinned-pages', `${s.proc.name}: ${mm.pinnedThrough} pages pinned through the mm, the live mappings pin ${wantPinned}`);
      if (mm.pinnedVm !== (ip.pinned.get(mm) ?? 0)) this.fail('pinned-vm', `${s.proc.name}: pinned_vm ${mm.pinnedVm} pages, the live IOAS areas pin ${ip.pinned.get(mm) ?? 0}`);
    }
    if (this.sys.iommufd) {
      const u = this.sys.iommufd.userLockedVm;
      for (const uid of CHECKED_UIDS) if (u.get(uid) !== (ip.user.get(uid) ?? 0)) this.fail('user-locked-vm', `uid ${uid}: user locked_vm ${u.get(uid)} pages, the live IOAS areas account ${ip.user.get(uid) ?? 0}`);
    }
    const pages = this.sys.kernel.mm.pages;
    for (const pa of this.everPinned) {
      const want = perPa.get(pa) ?? 0;
      if (pages.pinCount(pa) !== want) this.fail('pin-count', `page 0x${pa.toString(16)}: pin count ${pages.pinCount(pa)}, the live mappings hold ${want}`);
    }
    if (this.isolationDirty) {
      this.isolationDirty = false;
      this.checkIsolation(insts);
      this.checkOwnership();
      this.checkIsolationIommufd();
    }
    const err = this.model.compare(insts);
    if (err) this.fail('model-divergence', err);
    const ierr = this.imodel.compare(this.model.compatContexts(), this.model);
    if (ierr) this.fail('model-divergence:iommufd', ierr);
  }

  /**
   * The pages a type1 mapping pinned are still the pages of its process at its vaddr
   * (`dma-stale-page`): what the process writes there is what the device reads. vfio_pin_pages
   * took the page each vaddr mapped at MAP_DMA time; the kernel must keep it there while the
   * mapping lives. 3.14 does not after a fork: copy_one_pte shares the pinned page
   * copy-on-write, and the parent's next write (do_wp_page: the child still maps it) gives the
   * parent a copy, so its later writes never reach the device and what the device writes is
   * seen by the child only (the GUP-after-fork problem; mainline copies a pinned page for the
   * child at fork instead, copy_present_page, commit 70e806e4e645; capability
   * forkPinnedPages). Checked for a live slot's mappings, anonymous pages present in its
   * address space; not once a raw syscall ran in the run (pinnedFramesOff) nor for a mapping
   * whose vaddr user space replaced (vaddrRevised).
   */
  private checkPinnedFrames(s: Slot, d: VfioDma): void {
    const mm = d.mm;
    const n = d.pa.length;
    for (let i = 0; i < n; i++) {
      if (d.reserved[i]) continue;
      const va = d.vaddr + i * PAGE;
      const v = mm.find(va);
      if (v === null || v.kind !== 'anon') continue;
      const now = v.pages![Math.floor((va - v.start) / PAGE)]!;
      if (now < 0 || now === d.pa[i]) continue;
      const iova = d.iova + i * PAGE;
      const how = (d.prot & IOMMU_READ) !== 0 ? 'read' : 'write';
      this.fail('dma-stale-page', `${s.proc.name}: iova 0x${iova.toString(16)} is mapped (${how}) from vaddr 0x${va.toString(16)}, whose page was pinned at 0x${d.pa[i]!.toString(16)}, but the process's page there is now 0x${now.toString(16)}: the device no longer sees the process's memory`);
      return;
    }
  }

  /**
   * Stall faults: a context bank in stall mode (the 2014 arm-smmu: CBn_SCTLR.CFCFG, see
   * `smmuContextFaultMode`) holds a faulting transaction until software writes CBn_RESUME;
   * 3.14 arm_smmu_context_fault does so from the context interrupt (RESUME terminate: VFIO
   * registers no fault handler). Once virtual time has passed (a `run` call), no transaction
   * may still be held: its master would wait forever (`stall-stuck`).
   */
  private checkStalls(ns: number): void {
    const st = this.smmu?.fault.stalled;
    if (!st || st.length === 0 || ns < 100_000) return;
    const t = st[0]!;
    this.fail('stall-stuck', `${st.length} transaction(s) still stalled after ${ns} ns: context bank ${t.cb}, stream ${(t.attrs >>> 16) & 0x7fff}, va 0x${t.va.toString(16)}, stalled since ${t.since} ns`);
  }

  /**
   * the stream ids of every IOMMU group (the device tree's masters), by group id, each list in
   * device then stream-id order without repeats. Groups, their devices and the devices' stream
   * ids change only when a device is added (boot, a probe); the answer is kept and checked
   * against them in place (streamsStill: no allocation) rather than rebuilt after every call.
   */
  private groupStreams(): GroupStreams {
    const groups = this.sys.kernel.iommu.groups();
    if (this.streams !== null && streamsStill(this.streams, groups)) return this.streams;
    return (this.streams = buildGroupStreams(groups));
  }

  /**
   * Ownership: an IOMMU group is owned by at most one of a host driver (a device of the group
   * bound to a driver that does not manage DMA itself: not vfio-platform/vfio-amba) and a user
   * space container (the VFIO group is in one). 3.14 enforces it with the BUG_ON in
   * vfio_iommu_group_notifier and the viability check of vfio_group_get_device_fd; mainline
   * with owner_cnt (iommu_device_use_default_domain refuses a host driver -EBUSY while
   * iommu_group_claim_dma_owner holds the group, and the claim fails -EPERM while a host
   * driver uses it), whose count must agree.
   */
  private checkOwnership(): void {
    const ownerCnt = this.sys.profile.caps.groupOwnershipGuard === 'refuse-bind';
    for (const g of this.sys.kernel.iommu.groups()) {
      let hosts = 0;
      for (const d of g.devices) if (isHostDriver(d.driver)) hosts++;
      const container = (this.sys.vfio.groupRef(g.id)?.container ?? null) !== null;
      // devices of the group bound to an iommufd (VFIO cdev path): iommufd_device_bind claims DMA
      // ownership per device (iommu_device_claim_dma_owner: owner_cnt counts the claims)
      const bound = iommufdBoundDevices(this.sys.iommufd, g.id);
      const user = container || bound > 0;
      if (hosts > 0 && user) {
        // the names only for the message (this check runs after most calls)
        const host = g.devices.filter((d) => isHostDriver(d.driver)).map((d) => `${d.name} (${d.driver!.name})`).join(', ');
        this.fail('ownership', `group ${g.id} is ${container ? 'in a user space container' : 'bound to an iommufd'} and its device ${host} is bound to a host driver`);
      }
      else if (ownerCnt && g instanceof Group) {
        const want = container ? 1 : bound > 0 ? bound : hosts;
        if (g.ownerCnt !== want || (g.owner !== null) !== user) this.fail('ownership', `group ${g.id}: owner_cnt ${g.ownerCnt}, owner ${g.owner === null ? 'none' : 'set'}; ${container ? 'user space holds it' : bound > 0 ? `${bound} device(s) bound to an iommufd` : `${hosts} host driver(s) use it`}`);
      }
    }
  }

  /** the implementation's own view of the user domains (when the reference model is lost) */
  private implDomains(insts: { id: number; it: Type1Iommu }[]): UserDomain[] {
    return insts.filter(({ it }) => it.groups.length > 0).map(({ id, it }) => ({ container: id, groups: it.groups.map((g) => g.id), maps: it.dmas.map((d) => ({ iova: d.iova, size: d.size, prot: d.prot, pa: d.pa })) }));
  }

  /**
   * DMA isolation: every stream id of a group in a container with an IOMMU reaches exactly
   * its container's mappings (page, physical page, write permission), and no other stream
   * reaches that container's context bank. The SMMU side is read from its registers and its
   * tables in guest RAM (isolation.ts); the expected side is the reference model's mappings
   * (the implementation's own record only while the model is lost). Runs only after calls
   * that can change mappings, attachments or the stream mapping table (`isolationDirty`).
   */
  private checkIsolation(insts: { id: number; it: Type1Iommu }[]): void {
    const view = this.view;
    if (!view) return;
    const domains = this.model.userDomains() ?? this.implDomains(insts);
    const streams = this.groupStreams();
    const cbOwner = this.cbOwner;
    const attached = this.attached;
    if (cbOwner.size > 0) cbOwner.clear();
    if (attached.size > 0) attached.clear();
    for (const dom of domains) {
      let exp: Map<number, ExpectedPage> | null = null;
      for (const gid of dom.groups) {
        attached.add(gid);
        for (const sid of streams.byId.get(gid) ?? NO_SIDS) {
          const r = view.route(sid);
          // the text only for a message (this loop runs after most calls)
          const who = (): string => `stream ${sid} (group ${gid}, container ${dom.container})`;
          if (r.kind === 'bypass') {
            this.fail('dma-unmapped', `${who()} bypasses translation (${r.why}): the device reaches all of memory`);
            continue;
          }
          exp ??= expectedPages(dom);
          if (r.kind === 'fault') {
            for (const [pg, e] of exp) {
              if (e.read || e.write) {
                this.fail('dma-missing', `${who()}: iova 0x${(pg * PAGE).toString(16)} is mapped but the stream faults (${r.why})`);
                break;
              }
            }
            continue;
          }
          const other = cbOwner.get(r.cb);
          if (other !== undefined && other !== dom.container) this.fail('dma-cross-group', `${who()} translates in context bank ${r.cb}, which container ${other}'s groups use`);
          if (other !== undefined) continue; // the same bank, already compared
          cbOwner.set(r.cb, dom.container);
          this.compareBank(view, r.cb, exp, who);
        }
      }
    }
    // streams of groups no user domain holds must stay out of the user domains' banks
    for (let gi = 0; gi < streams.ids.length; gi++) {
      const gid = streams.ids[gi]!;
      const sids = streams.lists[gi]!;
      if (attached.has(gid)) continue;
      for (const sid of sids) {
        const r = view.route(sid);
        if (r.kind === 'translate' && cbOwner.has(r.cb)) this.fail('dma-cross-group', `stream ${sid} of group ${gid} (in no user container) translates in context bank ${r.cb} of container ${cbOwner.get(r.cb)}`);
      }
    }
  }

  private compareBank(view: SmmuView, cb: number, exp: Map<number, ExpectedPage>, whoOf: () => string): void {
    const hit = this.hit;
    if (hit.size > 0) hit.clear();
    let whoText: string | null = null;
    const who = (): string => (whoText ??= whoOf());
    let bad = false;
    view.leaves(cb, (l) => {
      for (let va = l.va; va < l.va + l.size && !bad; va += PAGE) {
        const e = exp.get(va / PAGE);
        const pa = l.pa + (va - l.va);
        if (!e || (!e.read && !e.write)) {
          this.fail('dma-unmapped', `${who()} reaches iova 0x${va.toString(16)} -> 0x${pa.toString(16)}${l.write ? ' (read/write)' : ''}, which is not mapped for it${e ? ' with READ or WRITE' : ''} (context bank ${cb})`);
          bad = true;
        } else if (e.pa !== pa) {
          this.fail('dma-wrong-page', `${who()}: iova 0x${va.toString(16)} translates to 0x${pa.toString(16)}, the mapping pinned 0x${e.pa.toString(16)}`);
          bad = true;
        } else if (l.write && !e.write) {
          this.fail('dma-unmapped', `${who()} can write iova 0x${va.toString(16)}, mapped without VFIO_DMA_MAP_FLAG_WRITE`);
          bad = true;
        } else if (!e.read) {
          // LPAE stage-1 descriptors have no "write-only" or "no-read" permission: a mapping
          // without READ is still readable by the device, in every profile (io-pgtable-arm
          // maps WRITE-only as read/write). A documented finding, suppressed by default.
          this.fail('dma-readable-without-read-flag', `${who()} can read iova 0x${va.toString(16)} although the mapping was made without VFIO_DMA_MAP_FLAG_READ`);
        }
        hit.set(va / PAGE, l.write);
      }
    });
    if (bad) return;
    // the bank's TLB entries: a cached leaf is reachable until invalidated, whatever the tables
    // say now (an unmap whose TLBIASID/TLBIVA was missed or not synced)
    view.tlbEntries(cb, (l) => {
      for (let va = l.va; va < l.va + l.size && !bad; va += PAGE) {
        const e = exp.get(va / PAGE);
        const pa = l.pa + (va - l.va);
        if (!e || (!e.read && !e.write) || e.pa !== pa || (l.write && !e.write)) {
          this.fail('dma-stale-tlb', `${who()} reaches iova 0x${va.toString(16)} -> 0x${pa.toString(16)}${l.write ? ' (read/write)' : ''} through a TLB entry of context bank ${cb}, where ${!e || (!e.read && !e.write) ? 'nothing is mapped for it' : e.pa !== pa ? `the mapping pinned 0x${e.pa.toString(16)}` : 'the mapping is read-only'}`);
          bad = true;
        }
      }
    });
    if (bad) return;
    for (const [pg, e] of exp) {
      if (!e.read && !e.write) continue;
      const w = hit.get(pg);
      if (w === undefined || (e.write && !w)) {
        this.fail('dma-missing', `${who()}: iova 0x${(pg * PAGE).toString(16)} is mapped (${e.write ? 'write' : 'read'}) but context bank ${cb} has ${w === undefined ? 'no valid entry' : 'a read-only entry'} for it`);
        return;
      }
    }
  }

  /**
   * DMA isolation through iommufd: every stream of a group attached to a HWPT reaches exactly
   * the pages its IOAS areas pinned (page, physical page, write permission), read from the
   * SMMU registers and tables in guest RAM as for the containers (compareBank).
   */
  private checkIsolationIommufd(): void {
    const view = this.view;
    if (!view || !this.sys.iommufd) return;
    const atts = iommufdAttachments(this.sys.iommufd);
    if (atts.length === 0) return;
    const streams = this.groupStreams();
    for (const att of atts) {
      const exp = new Map<number, ExpectedPage>();
      for (const pg of att.pages) exp.set(pg.iova / PAGE, { pa: pg.pa, read: (pg.prot & IOMMU_READ) !== 0, write: (pg.prot & IOMMU_WRITE) !== 0 });
      for (const sid of streams.byId.get(att.group) ?? NO_SIDS) {
        const r = view.route(sid);
        const who = `stream ${sid} (group ${att.group}, iommufd HWPT ${att.hwpt})`;
        if (r.kind === 'bypass') {
          this.fail('dma-unmapped', `${who} bypasses translation (${r.why}): the device reaches all of memory`);
          continue;
        }
        if (r.kind === 'fault') {
          for (const [pg, e] of exp) {
            if (e.read || e.write) {
              this.fail('dma-missing', `${who}: iova 0x${(pg * PAGE).toString(16)} is in an IOAS area but the stream faults (${r.why})`);
              break;
            }
          }
          continue;
        }
        this.compareBank(view, r.cb, exp, () => who);
      }
    }
  }

  /**
   * Close every process's fds in an order that varies from run to run (rotated and
   * sometimes reversed by the run's length), so that iommufd contexts, cdevs, groups and
   * containers are released in every order across a campaign; then the exits.
   */
  private closeAllVaried(): void {
    for (let p = 0; p < this.slots.length; p++) {
      const s = this.slots[p]!;
      const fds = [...s.proc.openFds].sort((a, b) => a - b);
      if (fds.length < 2) continue;
      const rot = (this.step + p) % fds.length;
      const order = [...fds.slice(rot), ...fds.slice(0, rot)];
      if (((this.step >> 1) + p) & 1) order.reverse();
      for (const fd of order) {
        const kind = this.kindOf(s.proc, fd);
        const file = this.imodel.fileOf(s.proc, fd);
        let r: number;
        try {
          r = this.sys.syscalls.invoke(s.proc, null, 'close', [fd]);
        } catch (e) {
          if (!(e instanceof GuestTrap) || !e.reason.startsWith('killed by kernel Oops')) throw e;
          const msg = e.reason.slice('killed by kernel Oops: '.length);
          this.fail(oopsSignature('close', msg), msg);
          break;
        }
        if (r === 0) this.closedFd(s.proc, fd, kind, file);
        // the model after each close, as after each call (an object freed in the wrong order shows here)
        const ierr = this.imodel.compare(this.model.compatContexts(), this.model);
        if (ierr) this.fail('model-divergence:iommufd', ierr);
      }
    }
  }

  /** End of a run: every process exits; nothing may stay pinned, locked, open or attached. */
  finish(): void {
    if (this.sys.iommufd) this.closeAllVaried();
    for (let p = 0; p < this.slots.length; p++) {
      const s = this.slots[p]!;
      const fds = s.proc.openFds;
      const files = this.filesOf(s.proc);
      try {
        this.sys.syscalls.exitProcess(s.proc);
      } catch (e) {
        // an Oops in the exit-time release of the process's files is a finding too
        if (!(e instanceof GuestTrap) || !e.reason.startsWith('killed by kernel Oops')) throw e;
        const msg = e.reason.slice('killed by kernel Oops: '.length);
        this.fail(oopsSignature('exit', msg), msg);
      }
      this.exitedModels(s.proc, fds, files);
    }
    const pages = this.sys.kernel.mm.pages;
    for (const pa of this.everPinned) if (pages.pinCount(pa) !== 0) this.fail('leak-pinned', `page 0x${pa.toString(16)} still pinned (${pages.pinCount(pa)}) after every fd was closed`);
    for (const s of this.slots) if (s.proc.mm.lockedVm !== 0) this.fail('leak-locked-vm', `${s.proc.name}: locked_vm ${s.proc.mm.lockedVm} after exit`);
    for (const s of this.slots) if (s.proc.mm.pinnedVm !== 0) this.fail('leak-pinned-vm', `${s.proc.name}: pinned_vm ${s.proc.mm.pinnedVm} after exit`);
    const ifd = this.sys.iommufd;
    if (ifd && ifd.userLockedVm.total() !== 0) this.fail('leak-user-locked-vm', `user locked_vm ${ifd.userLockedVm.total()} pages after every fd was closed`);
    if (ifd && ifd.contexts.size !== 0) this.fail('leak-iommufd', `iommufd contexts still alive after every fd was closed: ${JSON.stringify([...ifd.contexts].map((c) => c.ids().map((id) => `${id}:${c.objects.get(id)!.type}`)))}`);
    const cs = this.sys.vfio.containerStates();
    const f = this.pendingFail;
    this.pendingFail = null;
    if (f) throw new FindingError(f);
    if (cs.length !== 0) this.fail('leak-container', `containers still alive after every fd was closed: ${JSON.stringify(cs.map((c) => ({ id: c.id, groups: c.groups })))}`);
    for (const d of this.devices) {
      const g = this.sys.vfio.groupState(d.group);
      if (g && (g.opened || g.containerSet || g.containerUsers !== 0 || g.openDevices.length)) this.fail('leak-group', `group ${d.group} after every fd was closed: ${JSON.stringify(g)}`);
    }
    const f2 = this.pendingFail;
    this.pendingFail = null;
    if (f2) throw new FindingError(f2);
  }

  /** syscalls executed so far (set-up included) */
  get syscalls(): number {
    return this.sys.syscalls.count;
  }

  /** syscalls executed by the run itself (after the set-up) */
  get runSyscalls(): number {
    return this.sys.syscalls.count - this.setupSyscalls;
  }
}

/** the fuzzer's kind of an open file */
function fileKind(f: File): FdKind {
  switch (f.ops.name) {
    case 'vfio-container':
      return 'container';
    case 'vfio-group':
      return 'group';
    case 'vfio-device':
      return 'device';
    case 'eventfd':
      return 'eventfd';
    case 'iommufd':
      // CONFIG_IOMMUFD_VFIO_CONTAINER: /dev/vfio/vfio is an iommufd, used as a VFIO container
      return f.path === '/dev/vfio/vfio' ? 'container' : 'iommufd';
    case 'iommufd-pgfault':
      // IOMMU_FAULT_QUEUE_ALLOC's fd (iommufd_fault_fops)
      return 'fault';
    default:
      return 'any';
  }
}

/** the pages a user domain maps, by IOVA page number */
/**
 * whether `m` (groupStreams' answer) still lists exactly the groups' stream ids: the same group
 * ids in order, each with its devices' stream ids in order without repeats. Reads only.
 */
/** the groups as groupStreams sees them */
type StreamGroups = readonly { id: number; devices: readonly { streamIds: readonly number[] }[] }[];

/** groupStreams' answer built from the groups: each group's devices' stream ids in order, without repeats */
export function buildGroupStreams(groups: StreamGroups): GroupStreams {
  const r: GroupStreams = { ids: [], lists: [], byId: new Map() };
  for (const g of groups) {
    const sids: number[] = [];
    for (const d of g.devices) for (const sid of d.streamIds) if (!sids.includes(sid)) sids.push(sid);
    r.ids.push(g.id);
    r.lists.push(sids);
    r.byId.set(g.id, sids);
  }
  return r;
}

export function streamsStill(m: GroupStreams, groups: StreamGroups): boolean {
  if (m.ids.length !== groups.length) return false;
  for (let gi = 0; gi < groups.length; gi++) {
    const g = groups[gi]!;
    if (g.id !== m.ids[gi]) return false;
    const sids = m.lists[gi]!;
    let k = 0;
    for (let di = 0; di < g.devices.length; di++) {
      const own = g.devices[di]!.streamIds;
      for (let si = 0; si < own.length; si++) {
        const sid = own[si]!;
        // a repeat of one already listed is skipped, as groupStreams skips it
        const at = sids.indexOf(sid);
        if (at >= 0 && at < k) continue;
        if (sids[k] !== sid) return false;
        k++;
      }
    }
    if (k !== sids.length) return false;
  }
  return true;
}

/** groupStreams' answer: group ids in the IOMMU core's order, each one's stream ids (parallel), and the lists by group id */
const NO_SIDS: readonly number[] = Object.freeze([]);

export interface GroupStreams {
  ids: number[];
  lists: number[][];
  byId: Map<number, number[]>;
}

function expectedPages(dom: UserDomain): Map<number, ExpectedPage> {
  const m = new Map<number, ExpectedPage>();
  for (const d of dom.maps) {
    const n = Math.ceil(d.size / PAGE);
    for (let i = 0; i < n && i < d.pa.length; i++) m.set(d.iova / PAGE + i, { pa: d.pa[i]!, read: (d.prot & IOMMU_READ) !== 0, write: (d.prot & IOMMU_WRITE) !== 0 });
  }
  return m;
}

/** requests that change neither mappings, attachments nor stream-map entries */
const ISOLATION_NEUTRAL = new Set<number>([
  VFIO_REQS.VFIO_GET_API_VERSION,
  VFIO_REQS.VFIO_CHECK_EXTENSION,
  VFIO_REQS.VFIO_GROUP_GET_STATUS,
  VFIO_REQS.VFIO_IOMMU_GET_INFO,
  VFIO_REQS.VFIO_DEVICE_GET_INFO,
  VFIO_REQS.VFIO_DEVICE_GET_REGION_INFO,
  VFIO_REQS.VFIO_DEVICE_GET_IRQ_INFO,
  VFIO_REQS.VFIO_DEVICE_SET_IRQS,
  VFIO_REQS.VFIO_DEVICE_RESET,
]);

/** a driver that does not manage DMA itself (not vfio-platform/vfio-amba): it owns its group's DMA */
function isHostDriver(drv: { name: string; driverManagedDma?: boolean } | null): boolean {
  return drv !== null && drv.driverManagedDma !== true && !drv.name.startsWith('vfio');
}

/**
 * The coverage row of (fd kind, call name): "kind:CALL", or "kind:unknown" for a call the fd
 * kind does not have. Interned per pair: building the key by concatenation made a fresh
 * string per call, which every Map lookup then had to flatten and hash.
 */
const COVER_KEYS = new Map<string, Map<string, string>>();
function coverKey(kind: 'container' | 'group' | 'device' | 'iommufd' | 'fault', what: string): string {
  let m = COVER_KEYS.get(kind);
  if (m === undefined) COVER_KEYS.set(kind, (m = new Map()));
  let key = m.get(what);
  if (key === undefined) {
    key = `${kind}:${FD_IOCTLS[kind].includes(what) ? what : 'unknown'}`;
    // bounded like `encoded`: call names come from the generator's small sets
    if (m.size < 4096) m.set(what, key);
  }
  return key;
}

/** "container:IOMMU_..." for CONTAINER_IOMMUFD_IOCTLS, interned */
const CONTAINER_IOMMUFD_KEYS = new Map<string, string>(CONTAINER_IOMMUFD_IOCTLS.map((w) => [w, `container:${w}`]));
function containerIommufdKey(what: string): string {
  return CONTAINER_IOMMUFD_KEYS.get(what)!;
}

/**
 * Can this call change what a stream id reaches? Closes, exits and forks (a fork ends the child slot's old process; a last reference
 * detaches a group and frees its mappings), container and group ioctls, sysfs writes
 * (rebinding), raw syscalls, and device writes (pwrite, write, stores through a mapping: a
 * broken read/write or mmap path may reach any address). Other calls leave the SMMU and the tables alone: the isolation
 * check skips them (a process killed by a fault sets the flag itself, in respawn).
 */
function mayChangeIsolation(c: Call): boolean {
  switch (c.op) {
    case 'close':
    case 'echo':
    case 'exit':
    case 'fork':
    case 'raw':
    case 'pwrite':
    case 'write':
      return true;
    case 'mmio':
      return c.write;
    case 'ioctl':
      return !ISOLATION_NEUTRAL.has(c.req >>> 0);
    default:
      return false;
  }
}
