/**
 * The fuzzer's executor, first layer (harness.ts has the whole picture): the state, the set-up
 * (boot, binding, the processes and their areas) and the resolution of a call's symbolic
 * arguments (fd references, values, pointers, offsets, struct marshalling). Split from
 * harness.ts (pure move; members the other layers use are protected).
 */
import { Smmu } from '../../devices/smmu/smmu.js';
import { ERRNO_NAMES } from '../../kernel-model/base/errno.js';
import type { Process } from '../../kernel-model/process/process.js';
import type { File } from '../../kernel-model/vfs/file.js';
import type { Type1Iommu, VfioDma } from '../../kernel-model/vfio/type1.js';
import { SmmuView } from './isolation.js';
import { System } from '../system/system.js';
import { DMA_PAGES, NPROC } from './arb.js';
import { RefModel } from './model.js';
import { boundDevFds } from './harness-iommufd.js';
import { IommufdModel } from './model-iommufd.js';
import { STRUCTS, isBoundDevRef, type FdKind, type FdRef, type IoctlArg, type Off, type PtrKind, type Value } from './program.js';

import type { GroupStreams } from './harness.js';

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
export const PAGE = 4096;
const O_WRONLY = 1;
const PROT_RW = 3;
const MAP_PRIVATE_ANON = 0x22;
export const ERESTARTSYS = 512;
/** EACCES: mainline vfio_iommu_type1_dirty_pages on a TYPE1 (v1) container (`if (!iommu->v2) return -EACCES`); that request only */
export const EACCES_ = 13;
const UNMAPPED_PTR = 0x1000;
/** constant inputs, allocated once (copyToUser only reads them) */
const ENC = new TextEncoder();
/**
 * UTF-8 of `s + end`, read only (it is copied into guest memory). The generated strings come
 * from small sets (paths, sysfs values, device names), so their encodings are kept: a cache of
 * host buffers, not model state, bounded so that a long campaign of fresh strings cannot grow it.
 */
const ENCODED = [new Map<string, Uint8Array>(), new Map<string, Uint8Array>()];
export function encoded(s: string, end: '\0' | '\n'): Uint8Array {
  const m = ENCODED[end === '\0' ? 0 : 1]!;
  let b = m.get(s);
  if (b === undefined) {
    b = ENC.encode(s + end);
    if (m.size < 4096) m.set(s, b);
  }
  return b;
}
/** marshal's tail of a struct without one (shared: not a fresh [] per call) */
const NO_TAIL: readonly Value[] = Object.freeze([]);
const NO_NUL = new Uint8Array(2 * PAGE - 8).fill(0x41);
/** marshal's struct buffer, reused (grown when a struct needs more) */
let MARSHAL_BUF = new Uint8Array(512);
let MARSHAL_DV = new DataView(MARSHAL_BUF.buffer);
export const ZERO_PAGE = new Uint8Array(PAGE);
/** a call's name in a finding: `what`, or for an ioctl `ioctl(fd kind, REQUEST)` */
export const callName = (what: string, fdKind?: string, req?: string): string => (fdKind === undefined ? what : `${what}(${fdKind}, ${req})`);
/** an eventfd count of 1, little-endian u64 */
export const EVENTFD_ONE = new Uint8Array([1, 0, 0, 0, 0, 0, 0, 0]);

/** BigInt(i) for the small values most fields hold (argsz, flags, ids, fds): shared, as BigInts are immutable */
const SMALL_U64: readonly bigint[] = Array.from({ length: 4096 }, (_, i) => BigInt(i));
/** a number as the u64 a field holds (BigInt.asUintN(64, BigInt(n))); a small one without a new BigInt (values resolves every field of every struct, the models again) */
export function u64(n: number): bigint {
  return n >= 0 && n < 4096 && (n | 0) === n ? SMALL_U64[n]! : BigInt.asUintN(64, BigInt(n));
}

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
export const CHECKED_UIDS: readonly number[] = [0, 1000];

export interface StepRecord {
  line: string;
  ret: string;
}

export interface Slot {
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
export const ALLOWED: Record<string, Set<number>> = {
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

export abstract class HarnessBase {
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
  protected readonly smmu: Smmu | null;
  /** region file offsets are `index << 40` (capability regionOffsetEncoding), not physical addresses */
  protected readonly indexOffsets: boolean;
  /** the profile has /dev/iommu: CONTAINER_IOMMUFD_IOCTLS get rows of the container's own in the coverage table */
  protected readonly iommufdRows: boolean;
  /** the container's VFIO_IOMMU_DIRTY_PAGES row (profiles whose type1 has it: arb.ts dirtyPagesOf draws it there) */
  protected readonly dirtyRow: boolean;
  protected ignore: ReadonlySet<string>;
  /** syscalls executed by the set-up (boot, binding, the processes' mappings) */
  readonly setupSyscalls: number;
  protected step = 0;
  /** a resource-typed ref's making call runs (makeResources): cover() counts it apart */
  protected making = false;
  /** the IOAS ids of the context the current call's fd names (makeIoas; resolves `{ ioas }` values) */
  protected ioasIds: number[] = [];
  /** the device ids bound to the context the current call's fd names (makeDev; resolves `{ dev }` values) */
  protected devIds: number[] = [];
  /** the paging HWPT ids of the context the current call's fd names (makeHwpt; resolves `{ hwpt }` values) */
  protected hwptIds: number[] = [];
  protected pendingFail: Finding | null = null;
  /** physical pages that have ever been pinned by a mapping (for the pin-count invariant) */
  protected readonly everPinned = new Set<number>();
  /** checkInvariants' table, kept across calls: pages pinned per process slot (the pin count per physical page: harness.ts PER_PA) */
  protected readonly perSlot = new Int32Array(NPROC);
  /**
   * compareBank's table of the pages the bank reaches, a new one per bank compared that has
   * any (a young Map that dies young: emptying a long-lived one makes V8 allocate its new
   * table in the old space, docs/PERFORMANCE.md round 18)
   */
  protected hit = new Map<number, boolean>();
  /** groupStreams' answer, kept while the groups' devices and stream ids are the same (streamsStill) */
  protected streams: GroupStreams | null = null;
  /** type1Instances' list, refilled in place */
  protected readonly insts: { id: number; it: Type1Iommu }[] = [];
  /** per process slot: v => this.value(slot, v), made once (the models' pre-ioctl hooks take it on every ioctl) */
  protected readonly valueOf: readonly ((v: Value) => bigint)[] = Array.from({ length: NPROC }, (_, p) => (v: Value): bigint => this.value(p, v));
  protected nextPid = 0;
  /** the SMMU's registers and tables as the isolation invariant reads them */
  protected readonly view: SmmuView | null;
  /** a call that can change mappings, attachments or stream-map entries ran since the last isolation check */
  protected isolationDirty = true;
  /**
   * the pinned-page check (checkPinnedFrames) is off for the rest of the run: a raw syscall
   * ran, which may have unmapped, remapped or MADV_DONTNEED'd the pinned vaddrs (user space
   * changing its own memory under a mapping: the kernel keeps the pinned pages either way)
   */
  protected pinnedFramesOff = false;
  /** mappings whose vaddr was ever invalidated (mainline UNMAP_DMA with VFIO_DMA_UNMAP_FLAG_VADDR): the vaddr a later MAP_DMA gives is user space's promise, not checked */
  protected readonly vaddrRevised = new Set<VfioDma>();

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

  protected newSlot(i: number): Slot {
    const proc = this.slotProcess(i);
    const inv = (name: 'mmap2' | 'munmap', a: number[]): number => this.sys.syscalls.invoke(proc, null, name, a);
    const scratch = inv('mmap2', [0, 3 * PAGE, PROT_RW, MAP_PRIVATE_ANON, -1, 0]);
    inv('munmap', [scratch + 2 * PAGE, PAGE]);
    const ro = inv('mmap2', [0, 2 * PAGE, 1, MAP_PRIVATE_ANON, -1, 0]);
    const dma = inv('mmap2', [0, DMA_PAGES * PAGE, PROT_RW, MAP_PRIVATE_ANON, -1, 0]);
    return { proc, scratch, ro, dma, maps: [] };
  }

  /** a new process with slot i's credentials: P0 root with CAP_IPC_LOCK; P1 root without it (RLIMIT_MEMLOCK 64 KiB); P2 an unprivileged user */
  protected slotProcess(i: number): Process {
    const name = `fuzz${i}.${this.nextPid++}`;
    // the options as literals (no array of them and no spread per process: respawn and fork run this)
    return this.sys.syscalls.createProcess(i === 0 ? { name } : i === 1 ? { name, capIpcLock: false } : { name, uid: 1000 });
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
  protected bind(DEVICE: string): number {
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

  protected kindOf(proc: Process, fd: number): FdKind | null {
    const f = proc.fdget(fd);
    return f ? fileKind(f) : null;
  }

  resolveFd(p: number, r: FdRef): number {
    if ('raw' in r) return r.raw;
    const proc = this.slots[p]!.proc;
    // a resource-typed device fd: the i-th (modulo) bound cdev fd (makeBoundDev), 1000 when none
    if (r.mk === 1 && isBoundDevRef(r)) {
      const bound = boundDevFds(proc, isIommufdFile);
      return bound.length > 0 ? bound[r.i % bound.length]! : 1000;
    }
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

  protected value(p: number, v: Value): bigint {
    const s = this.slots[p]!;
    if (typeof v === 'number') return u64(v);
    if (typeof v === 'string') return BigInt.asUintN(64, BigInt(v));
    if ('fd' in v) return u64(this.resolveFd(p, v.fd));
    if ('dma' in v) return BigInt(s.dma + v.dma * PAGE + (v.off ?? 0));
    // a resource-typed IOAS id: the call's context's (makeIoas), 0 when it has none
    if ('ioas' in v) return BigInt(this.ioasIds.length > 0 ? this.ioasIds[v.ioas % this.ioasIds.length]! : 0);
    // a resource-typed device id: one bound to the call's context (makeDev), 0 when it has none
    if ('dev' in v) return BigInt(this.devIds.length > 0 ? this.devIds[v.dev % this.devIds.length]! : 0);
    // a resource-typed HWPT id: a paging HWPT of the call's context (makeHwpt), 0 when it has none
    if ('hwpt' in v) return BigInt(this.hwptIds.length > 0 ? this.hwptIds[v.hwpt % this.hwptIds.length]! : 0);
    return BigInt(s.ro + v.ro * PAGE);
  }

  /** SET_CONTAINER's argument names (at an ok pointer) an fd of kind 'container' */
  protected setsContainerKind(p: number, arg: IoctlArg): boolean {
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
  protected scratchIntact(s: Slot): boolean {
    const mm = s.proc.mm;
    for (let va = s.scratch; va < s.scratch + 2 * PAGE; va += PAGE) {
      const v = mm.find(va);
      if (v === null || v.kind !== 'anon' || (v.prot & PROT_RW) !== PROT_RW) return false;
    }
    return true;
  }

  protected ptr(p: number, k: PtrKind, len: number): number {
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
  protected regionsOf(proc: Process, fd: number): { addr: number; size: number }[] {
    type Dev = { dev?: { name?: string } };
    const priv = proc.fdget(fd)?.priv as (Dev & { device?: Dev }) | undefined;
    const name = (priv?.device ?? priv)?.dev?.name;
    // (a loop, not find with a closure over `name`: this runs for every pread/pwrite/mmap)
    const devs = this.devices;
    for (let i = 0; i < devs.length; i++) if (devs[i]!.name === name) return devs[i]!.regions;
    return this.regions;
  }

  /**
   * file offset as the profile's ABI encodes it: the physical address (2014) or index << 40
   * (mainline). A double: exact below 2^53 (what the draws give; offset64 and offsetWords are
   * exact for every value a finding file can hold)
   */
  offset(o: Off, regions = this.regions): number {
    if ('raw' in o) return Number(BigInt(o.raw));
    const r = regions[o.region];
    if (this.indexOffsets) return o.region * 2 ** 40 + o.off;
    // a region that does not exist: an address past the last one
    return (r ? r.addr : 0x2c0f0000 + o.region * PAGE) + o.off;
  }

  /** the offset as the 64-bit loff_t the C reproducer passes (offset, without a double's rounding) */
  offset64(o: Off, regions = this.regions): bigint {
    if ('raw' in o) return BigInt.asUintN(64, BigInt(o.raw));
    if (this.indexOffsets) return BigInt.asUintN(64, (BigInt(o.region) << 40n) + BigInt(o.off));
    return BigInt(this.offset(o, regions));
  }

  /** offset64's low and high words (pread64/pwrite64's register pair), set in offLo/offHi without a BigInt for a region offset */
  protected offsetWords(o: Off, regions = this.regions): void {
    if ('raw' in o) {
      const b = this.offset64(o);
      this.offLo = Number(b & 0xffffffffn);
      this.offHi = Number(b >> 32n);
    } else if (this.indexOffsets) {
      // off < 2^32 (the schema): index << 40 only reaches the high word
      this.offLo = o.off >>> 0;
      this.offHi = (o.region * 256) >>> 0;
    } else {
      const n = this.offset(o, regions);
      this.offLo = n % 2 ** 32 >>> 0;
      this.offHi = Math.floor(n / 2 ** 32) >>> 0;
    }
  }

  /** offsetWords' result */
  protected offLo = 0;
  protected offHi = 0;

  /** write an ioctl argument into the scratch buffer; returns the pointer (or the by-value int) */
  protected marshal(p: number, a: IoctlArg): number {
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
      const tail = a.tail ?? NO_TAIL;
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
}

/** a /dev/iommu file (fileKind 'iommufd': not the compat container's /dev/vfio/vfio) */
export const isIommufdFile = (f: File): boolean => fileKind(f) === 'iommufd';

/** the fuzzer's kind of an open file */
export function fileKind(f: File): FdKind {
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
