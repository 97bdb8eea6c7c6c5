/**
 * The reference model: a small, independent description of the VFIO state a program
 * should have produced (containers, groups, device fds, DMA mappings), written from
 * the VFIO uapi rules (include/uapi/linux/vfio.h, docs/VFIO.md), not from the implementation. It follows the calls'
 * results (a successful call changes the model), predicts the outcomes the rules fix
 * (e.g. SET_IOMMU on a container without groups fails, a group cannot be opened twice,
 * MAP_DMA never succeeds over an existing mapping, UNMAP_DMA reports the bytes it removed)
 * and is compared with the implementation's inspection hooks after every call.
 */
import { E2BIG, EACCES, EBADFD, EBUSY, EFAULT, EINVAL, ENODEV, ENOENT, ENOTTY, EOPNOTSUPP, EOVERFLOW, EPERM } from '../../kernel-model/base/errno.js';
import { IOMMU_EXEC, IOMMU_READ, IOMMU_WRITE } from '../../kernel-model/iommu/types.js';
import { VFIO_TYPE1_IOMMU, VFIO_TYPE1v2_IOMMU, VFIO_UNMAP_ALL } from '../../kernel-model/uapi/constants.js';
import type { AddressSpace } from '../../kernel-model/process/mm.js';
import type { Process } from '../../kernel-model/process/process.js';
import type { Ioas, IommufdCtx } from '../../kernel-model/iommu/iommufd/index.js';
import type { File } from '../../kernel-model/vfs/file.js';
import type { Type1Iommu } from '../../kernel-model/vfio/type1.js';
import type { System } from '../system/system.js';
import { iommufdArgOf, vfioIoasCall, type IommufdPre } from './model-iommufd.js';
import { IOMMU_OPTION_HUGE_PAGES, IOMMU_OPTION_OP_SET } from '../../kernel-model/iommu/iommufd/uapi.js';
import { CDEV_REQS, IOMMUFD_REQS } from './program-iommufd.js';
import { VFIO_IOMMU_DIRTY_PAGES, VFIO_REQS as R, type FdKind, type IoctlArg, type Value } from './program.js';
import { DIRTY_START, DIRTY_STOP, UNMAP_GET_DIRTY_BITMAP, bitmapOf, checkDirtyBits, predictDirtyPages, predictUnmapBitmap, userWritable, type BitmapArg, type DirtyArg } from './model-dirty.js';

/** an iommufd request (_IO(';', 0x80 + n), no direction or size bits: iommufd_fops_ioctl's own range) */
function isIommufdReq(req: number): boolean {
  return req >>> 0 <= 0xffff && ((req >>> 8) & 0xff) === 0x3b && (req & 0xff) >= 0x80;
}

interface MMap {
  iova: number;
  size: number;
  vaddr: number;
  prot: number;
  mm: AddressSpace;
  /** UNMAP_DMA with VFIO_DMA_UNMAP_FLAG_VADDR dropped the vaddr (mainline); MAP_DMA with VADDR restores it */
  vaddrInvalid: boolean;
  /**
   * the physical page behind each page of the mapping when it was made, read from the
   * process's page tables (the pages MAP_DMA pinned; -1 where the process had none): what
   * the DMA-isolation invariant expects the SMMU to translate the IOVA page to
   */
  pa: number[];
}

/** a container user space has given an IOMMU: its groups' streams translate through its mappings */
export interface UserDomain {
  container: number;
  groups: number[];
  maps: { iova: number; size: number; prot: number; pa: ArrayLike<number> }[];
}

/** the physical address behind user address va of mm, without faulting anything in (-1: none) */
export function userPa(mm: AddressSpace, va: number): number {
  const v = mm.find(va);
  if (v === null) return -1;
  if (v.kind === 'pfn') return v.pfnBase + (va - v.start);
  const pa = v.pages ? v.pages[Math.floor((va - v.start) / PAGE)]! : -1;
  return pa < 0 ? -1 : pa;
}

/**
 * the IOVA range the SMMU driver reserves for MSIs in mainline (arm_smmu_get_resv_regions:
 * MSI_IOVA_BASE, MSI_IOVA_LENGTH; docs/VFIO.md): no MAP_DMA may cover any of it (`type1ResvRegions`)
 */
const MSI_WINDOW = [0x800_0000, 0x810_0000] as const;

interface MContainer {
  id: number;
  fds: number;
  groups: number[];
  iommu: boolean;
  /** SET_IOMMU(VFIO_TYPE1v2_IOMMU): mainline's v2 unmap rule */
  v2: boolean;
  /** mainline iommu->dirty_page_tracking: VFIO_IOMMU_DIRTY_PAGES START turned it on (model-dirty.ts) */
  dirty: boolean;
  maps: MMap[];
  /**
   * the iommufd compat container (CONFIG_IOMMUFD_VFIO_CONTAINER: /dev/vfio/vfio opens an
   * iommufd context; "The compat container" below): its file (the context is its priv)
   */
  compat: File | null;
  /**
   * compat: the context's IOAS objects the model knows, by id (the one the first SET_CONTAINER
   * makes, IOMMU_IOAS_ALLOC's; "The compat container" below)
   */
  ioases: Map<number, MIoas>;
  /** compat: an IOAS the kernel made whose id the model has not learned yet (its id 0) */
  anon: MIoas | null;
  /** compat: ictx->vfio_ioas, the IOAS the container ioctls act on (one of `ioases`, or `anon`) */
  cur: MIoas | null;
  /**
   * compat: the context may hold objects whose ids the model does not know (an HWPT_ALLOC, a
   * fault queue, a cdev bound to it): ids are not predicted, nor DESTROY of an IOAS (an HWPT
   * the model does not know may hold it)
   */
  foreign: boolean;
}

/** an IOAS of a compat container's context */
interface MIoas {
  /** its object id (0: not learned yet) */
  id: number;
  /** its areas: one per MAP_DMA (iova and size cut to 32 bits) */
  maps: MMap[];
  /** SET_IOMMU(VFIO_TYPE1_IOMMU) succeeded while it was the compat IOAS (iopt_disable_large_pages: UNMAP_DMA may cut an area) */
  noLarge: boolean;
}

interface MGroup {
  id: number;
  /** the names of its devices bound to VFIO */
  devices: string[];
  opened: boolean;
  container: number | null;
  /** the group fd's SET_CONTAINER holds a container user */
  holds: boolean;
  devFds: number;
  /** compat: the container whose context its open devices are bound to (the first GET_DEVICE_FD binds; the last close unbinds) */
  boundTo: number | null;
  /** compat: the IOAS its bound devices are attached to (the compat IOAS at the first GET_DEVICE_FD; its auto HWPT holds it) */
  attached: MIoas | null;
}

/**
 * an fd's file: what it is, and `ref`, the file's count of fds, shared by the fds of every
 * process that holds it (a fork copies the table: kernel/fork.c dup_fd takes a reference per
 * file); the file's release (vfio_fops_release, vfio_group_fops_release,
 * vfio_device_fops_release) comes with its last fd
 */
type FdObj = { kind: 'container' | 'group' | 'device'; id: number; ref: { n: number } };

export interface PreIoctl {
  map?: { flags: number; vaddr: bigint; iova: bigint; size: bigint; argsz: number };
  unmap?: { iova: bigint; size: bigint; flags: number; argsz: number };
  /** UNMAP_DMA's struct vfio_bitmap (the vfio_iommu_type1_dma_unmap_bitmap layout) */
  unmapBitmap?: BitmapArg;
  /** VFIO_IOMMU_DIRTY_PAGES's argument (at an ok pointer, or its head at a 'tail' one) */
  dirty?: DirtyArg;
  /** GET_INFO's argsz (a struct at an ok pointer) */
  infoArgsz?: number;
  /** CHECK_EXTENSION's argument */
  extension?: bigint;
  setContainer?: number | null;
  /** SET_CONTAINER's fd is open in the model's table but is not a container */
  setContainerOther?: boolean;
  /** SET_IOMMU's type argument */
  setIommuType?: bigint;
  /** an iommufd request (IOMMU_*) on a compat container: its argument as the iommufd model reads it */
  iommufd?: IommufdPre;
  /** VFIO_DEVICE_BIND_IOMMUFD naming a compat container's fd: that container */
  bindTo?: number;
}

const PAGE = 4096;

export class RefModel {
  private readonly containers = new Map<number, MContainer>();
  private readonly groups = new Map<number, MGroup>();
  private readonly fds = new Map<Process, Map<number, FdObj>>();
  private nextCid = 1;
  /** state changed outside the model's knowledge (raw syscalls on VFIO fds, sysfs rebinding): comparisons stop */
  lost = false;
  private pending: string | null = null;
  /** /dev/vfio/vfio is iommufd's compat container (the profile's `iommufd` capability) */
  private readonly compat: boolean;

  constructor(
    private readonly sys: System,
    groups: readonly { id: number; devices: string[] }[],
  ) {
    this.compat = sys.profile.caps.iommufd === 'dev-iommu+vfio-compat';
    for (const g of groups) this.groups.set(g.id, { id: g.id, devices: g.devices, opened: false, container: null, holds: false, devFds: 0, boundTo: null, attached: null });
  }

  private table(p: Process): Map<number, FdObj> {
    let t = this.fds.get(p);
    if (!t) this.fds.set(p, (t = new Map()));
    return t;
  }

  private expect(cond: boolean, msg: string): void {
    if (!cond && this.pending === null) this.pending = msg;
  }

  snapshotOpen(_p: Process, _path: string): null {
    return null;
  }

  opened(p: Process, path: string, r: number, _pre: null): void {
    if (path === '/dev/vfio/vfio') {
      if (r >= 0) {
        const id = this.nextCid++;
        const compat = this.compat ? p.fdget(r) : null;
        this.containers.set(id, { id, fds: 1, groups: [], iommu: false, v2: false, dirty: false, maps: [], compat, ioases: new Map(), anon: null, cur: null, foreign: false });
        this.table(p).set(r, { kind: 'container', id, ref: { n: 1 } });
      }
      return;
    }
    const m = /^\/dev\/vfio\/(\d+)$/.exec(path);
    const g = m ? this.groups.get(Number(m[1])) : undefined;
    if (!g) return;
    if (g.opened || g.container !== null) this.expect(r < 0, `open(${path}) succeeded although the group is ${g.opened ? 'already open' : 'still in a container'}`);
    if (r >= 0) {
      g.opened = true;
      this.table(p).set(r, { kind: 'group', id: g.id, ref: { n: 1 } });
    }
  }

  /** an fd closed; true when it was its file's last (the file is released), false if not or unknown */
  closed(p: Process, fd: number, _kind: FdKind | null): boolean {
    const t = this.table(p);
    const o = t.get(fd);
    if (!o) return false;
    t.delete(fd);
    if (--o.ref.n > 0) return false;
    if (o.kind === 'container') {
      const c = this.containers.get(o.id)!;
      c.fds--;
      this.maybeFree(c);
    } else if (o.kind === 'group') {
      const g = this.groups.get(o.id)!;
      g.opened = false;
      // compat: vfio_group_fops_release drops the group's context reference (its open
      // devices keep their own bindings)
      if (this.compat) this.leaveCompat(g);
      else if (g.holds) {
        g.holds = false;
        this.dropUser(g);
      }
    } else {
      const g = this.groups.get(o.id)!;
      g.devFds--;
      if (!this.compat) this.dropUser(g);
      else if (g.devFds === 0 && g.boundTo !== null) {
        // the last device fd: vfio_df_iommufd_unbind (detach, unbind, the context reference)
        const c = this.containers.get(g.boundTo);
        g.boundTo = null;
        g.attached = null;
        if (c) this.maybeFree(c);
      }
    }
    return true;
  }

  private maybeFree(c: MContainer): void {
    if (c.fds > 0 || c.groups.length > 0) return;
    if (c.compat) for (const g of this.groups.values()) if (g.boundTo === c.id) return;
    this.containers.delete(c.id);
  }

  /** compat: the group lets go of its context (UNSET_CONTAINER or the group fd's release) */
  private leaveCompat(g: MGroup): void {
    g.holds = false;
    if (g.container === null) return;
    const c = this.containers.get(g.container)!;
    c.groups = c.groups.filter((x) => x !== g.id);
    g.container = null;
    this.maybeFree(c);
  }

  private dropUser(g: MGroup): void {
    if (g.holds || g.devFds > 0 || g.container === null) return;
    const c = this.containers.get(g.container)!;
    c.groups = c.groups.filter((x) => x !== g.id);
    g.container = null;
    if (c.groups.length === 0) {
      c.iommu = false;
      c.maps = [];
      c.dirty = false;
    }
    this.maybeFree(c);
  }

  /**
   * the process exited: its fds close in fd order. `held(fd)`: the fd's file is still held by
   * the kernel after the exit (a mapping of it in another process, after a fork): a device
   * file the model releases there stays open, which the model does not follow (as
   * deviceMayOutliveFd)
   */
  processExited(p: Process, held?: (fd: number) => boolean): void {
    const t = this.table(p);
    for (const fd of [...t.keys()].sort((a, b) => a - b)) {
      const device = t.get(fd)!.kind === 'device';
      if (this.closed(p, fd, null) && device && held?.(fd)) this.lost = true;
    }
    this.fds.delete(p);
  }

  sysfsChanged(): void {
    this.lost = true;
  }

  /**
   * `child` forked from `parent` (a process with no fds yet): it holds the parent's files at
   * the same fd numbers, one more reference each; a close then releases a file only when it
   * was the file's last fd, in whichever process (`closed`)
   */
  forked(parent: Process, child: Process): void {
    const t = this.table(child);
    for (const [fd, o] of this.table(parent)) {
      o.ref.n++;
      t.set(fd, o);
    }
  }

  /**
   * A device fd was closed while the process still has mappings: a mapping of the device
   * holds a reference to its file (as a vma does in Linux), so the device stays open until
   * the munmap or the exit. The model does not follow vma references: it stops comparing.
   */
  deviceMayOutliveFd(): void {
    this.lost = true;
  }

  /**
   * The harness's scratch pages are no longer its private memory (unmapped, made read-only,
   * or replaced by another mapping): the kernel did not see the struct the call's
   * description says, and the results cannot be read back. The model stops comparing.
   */
  scratchLost(): void {
    this.lost = true;
  }

  /** a raw syscall ran: follow closed fds; anything else touching VFIO fds loses the model */
  resync(p: Process): void {
    const open = new Set(p.openFds);
    const t = this.table(p);
    for (const fd of [...t.keys()]) if (!open.has(fd)) this.closed(p, fd, null);
    for (const fd of open) {
      const f = p.fdget(fd);
      if (f && f.ops.name.startsWith('vfio') && !t.has(fd)) this.lost = true;
    }
    // a raw ioctl on a VFIO fd may have changed anything
    this.lost = true;
  }

  preIoctl(p: Process, _fd: number, kind: FdKind | null, req: number, arg: IoctlArg, val: (v: Value) => bigint): PreIoctl {
    const pre: PreIoctl = {};
    if (kind === 'container' && req === R.VFIO_SET_IOMMU && arg.t === 'int') pre.setIommuType = BigInt.asUintN(32, val(arg.v));
    if (kind === 'container' && req === R.VFIO_CHECK_EXTENSION && arg.t === 'int') pre.extension = BigInt.asUintN(32, val(arg.v));
    if (this.compat && kind === 'container' && isIommufdReq(req)) pre.iommufd = iommufdArgOf(arg, val);
    if (this.compat && kind === 'device' && req === CDEV_REQS.VFIO_DEVICE_BIND_IOMMUFD && arg.t === 'struct' && arg.fields['iommufd'] !== undefined) {
      const o = this.table(p).get(Number(BigInt.asIntN(32, val(arg.fields['iommufd']!))));
      if (o?.kind === 'container') pre.bindTo = o.id;
    }
    // the head (argsz, flags) of a 'tail' struct is the 8 bytes before the scratch's end: as written
    if (kind === 'container' && req === VFIO_IOMMU_DIRTY_PAGES && arg.t === 'struct' && arg.type === 'vfio_iommu_type1_dirty_bitmap' && (arg.ptr === 'ok' || arg.ptr === 'tail')) {
      const g = (n: string): bigint => (arg.fields[n] === undefined ? 0n : val(arg.fields[n]!));
      pre.dirty = { argsz: Number(BigInt.asUintN(32, g('argsz'))), flags: Number(BigInt.asUintN(32, g('flags'))), iova: g('iova'), range: g('size'), ...bitmapOf(g), whole: arg.ptr === 'ok' };
    }
    if (arg.t !== 'struct' || arg.ptr !== 'ok') return pre;
    const f = (n: string): bigint => (arg.fields[n] === undefined ? 0n : val(arg.fields[n]!));
    if (kind === 'container' && req === R.VFIO_IOMMU_MAP_DMA && arg.type === 'vfio_iommu_type1_dma_map') pre.map = { flags: Number(f('flags')), vaddr: f('vaddr'), iova: f('iova'), size: f('size'), argsz: Number(f('argsz')) };
    if (kind === 'container' && req === R.VFIO_IOMMU_UNMAP_DMA && (arg.type === 'vfio_iommu_type1_dma_unmap' || arg.type === 'vfio_iommu_type1_dma_unmap_bitmap')) {
      pre.unmap = { iova: f('iova'), size: f('size'), flags: Number(f('flags')), argsz: Number(f('argsz')) };
      if (arg.type === 'vfio_iommu_type1_dma_unmap_bitmap') pre.unmapBitmap = bitmapOf(f);
    }
    if (kind === 'container' && req === R.VFIO_IOMMU_GET_INFO && arg.type === 'vfio_iommu_type1_info') pre.infoArgsz = Number(f('argsz'));
    if (kind === 'group' && req === R.VFIO_GROUP_SET_CONTAINER && arg.type === 'int32') {
      const o = this.table(p).get(Number(BigInt.asIntN(32, f('v'))));
      pre.setContainer = o?.kind === 'container' ? o.id : null;
      pre.setContainerOther = o !== undefined && o.kind !== 'container';
    }
    return pre;
  }

  postIoctl(p: Process, fd: number, kind: FdKind | null, req: number, r: number, pre: PreIoctl, scratch: number, arg: IoctlArg): string | null {
    // a cdev bound to a compat container's context: a device object (and, attached, an HWPT) whose ids the model does not know
    if (pre.bindTo !== undefined && r === 0) {
      const c = this.containers.get(pre.bindTo);
      if (c) c.foreign = true;
    }
    const o = this.table(p).get(fd);
    if (o?.kind === 'container' && this.containers.get(o.id)!.compat) this.postCompat(p, this.containers.get(o.id)!, req, r, pre, scratch, arg);
    else if (o?.kind === 'group' && this.compat) this.postCompatGroup(p, this.groups.get(o.id)!, req, r, pre, scratch, arg);
    else if (o?.kind === 'container') {
      const c = this.containers.get(o.id)!;
      switch (req) {
        case R.VFIO_SET_IOMMU:
          if (c.groups.length === 0 || c.iommu) this.expect(r === -EINVAL, `SET_IOMMU on a container ${c.iommu ? 'whose IOMMU is already set' : 'without groups'} returned ${r}, not -EINVAL`);
          // vfio_ioctl_set_iommu: a type no driver offers (CHECK_EXTENSION <= 0) is -ENODEV
          else if (pre.setIommuType !== undefined && !this.typeOffered(pre.setIommuType)) {
            // ... but vfio_ioctl_set_iommu asks each driver's CHECK_EXTENSION(type), and mainline
            // type1 answers 1 for VFIO_UNMAP_ALL: it is tried, and vfio_iommu_type1_open refuses
            // every type but TYPE1/TYPE1v2 with -EINVAL
            const want = pre.setIommuType === BigInt(VFIO_UNMAP_ALL) && this.sys.profile.caps.type1UnmapAll ? -EINVAL : -ENODEV;
            this.expect(r === want, `SET_IOMMU(${pre.setIommuType}) returned ${r}, not ${want} (no IOMMU driver opens that type)`);
          }
          // mainline vfio_iommu_type1_attach_group: the board's wired interrupts are not
          // isolated MSIs, so an offered type is -EPERM unless the kernel's command line set
          // vfio_iommu_type1.allow_unsafe_interrupts (the default board's does)
          else if (this.sys.profile.caps.type1MsiIsolation === 'group-isolated-msi') {
            const unsafe = this.sys.kernel.params.bool('vfio_iommu_type1', 'allow_unsafe_interrupts');
            this.expect(unsafe || r === -EPERM, `SET_IOMMU returned ${r} without allow_unsafe_interrupts: mainline refuses a group without isolated MSI with -EPERM`);
            if (unsafe) this.expect(r !== -EPERM, `SET_IOMMU returned -EPERM although vfio_iommu_type1.allow_unsafe_interrupts is set`);
          }
          if (r === 0) {
            c.iommu = true;
            // TYPE1_NESTING (6, v6.12) opens as v2 too
            c.v2 = pre.setIommuType === BigInt(VFIO_TYPE1v2_IOMMU) || pre.setIommuType === 6n;
            c.dirty = false;
          }
          break;
        case VFIO_IOMMU_DIRTY_PAGES:
          // vfio_fops_unl_ioctl: without an IOMMU driver -EINVAL; 3.14 type1 has no such request (-ENOTTY)
          if (!c.iommu) this.expect(r === -EINVAL, `VFIO_IOMMU_DIRTY_PAGES on a container without an IOMMU returned ${r}, not -EINVAL`);
          else if (!this.sys.profile.caps.type1DirtyPages) this.expect(r === -ENOTTY, `VFIO_IOMMU_DIRTY_PAGES returned ${r}, not -ENOTTY (this type1 has no dirty page tracking)`);
          else this.dirtyPages(p, c, r, pre);
          break;
        case R.VFIO_IOMMU_MAP_DMA:
        case R.VFIO_IOMMU_GET_INFO:
        case R.VFIO_IOMMU_UNMAP_DMA:
          // vfio_fops_unl_ioctl: without an IOMMU driver every request but the three core ones is -EINVAL
          if (!c.iommu) this.expect(r === -EINVAL, `${req === R.VFIO_IOMMU_MAP_DMA ? 'MAP_DMA' : req === R.VFIO_IOMMU_UNMAP_DMA ? 'UNMAP_DMA' : 'IOMMU_GET_INFO'} on a container without an IOMMU returned ${r}, not -EINVAL`);
          // A 'tail' pointer puts the struct's first bytes at the end of the scratch pages; the
          // rest is read from whatever the process mapped next (the unmapped page after the
          // scratch is a hole later mmaps may fill, so it is no guard). The model cannot know
          // those bytes, and a success may also end in -EFAULT: vfio_iommu_type1_unmap_dma
          // unmaps first and then fails the copy_to_user of the result. From here on the
          // isolation check uses type1's own record.
          if ((arg as { ptr?: string }).ptr === 'tail' && (req === R.VFIO_IOMMU_MAP_DMA || req === R.VFIO_IOMMU_UNMAP_DMA) && (r === 0 || r === -EFAULT)) {
            this.lost = true;
            break;
          }
          if (r === 0 && req === R.VFIO_IOMMU_MAP_DMA && pre.map) this.applyMap(c, p.mm, pre.map);
          // UNMAP_DMA with GET_DIRTY_BITMAP (mainline): predicted, and a walk a failed copy stopped followed
          if (c.iommu && req === R.VFIO_IOMMU_UNMAP_DMA && pre.unmap && pre.unmapBitmap && (pre.unmap.flags & UNMAP_GET_DIRTY_BITMAP) !== 0 && this.sys.profile.caps.type1DirtyPages) {
            if (!this.unmapBitmap(p, c, r, pre.unmap, pre.unmapBitmap)) break;
          }
          if (r === 0 && req === R.VFIO_IOMMU_UNMAP_DMA && pre.unmap) {
            const removed = this.applyUnmap(c, pre.unmap.iova, pre.unmap.size, pre.unmap.flags);
            const b = new Uint8Array(8);
            if (p.mm.copyFromUser(b, 0, scratch + 16, 8) >= 0) {
              const got = Number(new DataView(b.buffer).getBigUint64(0, true));
              this.expect(got === removed, `UNMAP_DMA wrote back size 0x${got.toString(16)}, the model removed 0x${removed.toString(16)} bytes`);
            }
          }
          break;
        default:
          // (VFIO requests only: do_vfs_ioctl answers FIOCLEX and friends before the driver)
          if (!c.iommu && ((req >>> 8) & 0xff) === 0x3b && req !== R.VFIO_GET_API_VERSION && req !== R.VFIO_CHECK_EXTENSION) this.expect(r === -EINVAL, `ioctl 0x${req.toString(16)} on a container without an IOMMU returned ${r}, not -EINVAL`);
      }
    } else if (o?.kind === 'group') {
      const g = this.groups.get(o.id)!;
      switch (req) {
        case R.VFIO_GROUP_SET_CONTAINER:
          if (g.holds || g.devFds > 0) this.expect(r < 0, 'SET_CONTAINER succeeded on a group that already has container users');
          // an open fd that is not a container: -EINVAL while the group has container users
          // (both kernels), else 3.14 vfio_group_set_container -EINVAL / mainline
          // vfio_group_ioctl_set_container -EBADFD (neither a container nor an iommufd)
          else if (pre.setContainerOther) {
            const want = this.sys.profile.caps.groupIoctls === 'group-c' ? -EBADFD : -EINVAL;
            this.expect(r === want, `SET_CONTAINER with an fd that is not a container returned ${r}, not ${want}`);
          }
          if (r === 0) {
            if (pre.setContainer === undefined || pre.setContainer === null) {
              this.expect(false, 'SET_CONTAINER succeeded with something that is not a container fd');
              this.lost = true;
              break;
            }
            const c = this.containers.get(pre.setContainer)!;
            g.container = c.id;
            g.holds = true;
            c.groups.push(o.id);
          }
          break;
        case R.VFIO_GROUP_UNSET_CONTAINER:
          if (!g.holds && g.devFds === 0) this.expect(r < 0, 'UNSET_CONTAINER succeeded on a group in no container');
          else if (g.devFds > 0) this.expect(r < 0, 'UNSET_CONTAINER succeeded while device fds are open');
          if (r === 0) {
            g.holds = false;
            this.dropUser(g);
          }
          break;
        case R.VFIO_GROUP_GET_DEVICE_FD: {
          const c = g.container === null ? null : this.containers.get(g.container)!;
          if (!c || !c.iommu) this.expect(r < 0, `GET_DEVICE_FD succeeded on a group ${c ? 'whose container has no IOMMU' : 'in no container'}`);
          this.expectDeviceName(g, r, arg, this.sys.profile.caps.groupIoctls === 'group-c');
          if (r >= 0) {
            g.devFds++;
            this.table(p).set(r, { kind: 'device', id: o.id, ref: { n: 1 } });
          }
          break;
        }
        case R.VFIO_GROUP_GET_STATUS:
          this.expectStatus(p, g, r, arg, scratch);
          break;
      }
    }
    void kind;
    return null;
  }

  /**
   * The iommufd compat container's ioctls (CONFIG_IOMMUFD_VFIO_CONTAINER; the uapi answers
   * docs/PROFILES.md "The iommufd compat container" lists, Linux v6.12
   * drivers/iommu/iommufd/vfio_compat.c iommufd_vfio_ioctl). The container's state is its
   * context's IOASes (`ioases`, by id) and which of them is the compat IOAS (`cur`,
   * ictx->vfio_ioas), the one every container ioctl acts on (get_compat_ioas: -ENODEV without
   * one). The first group's SET_CONTAINER makes one when there is none
   * (iommufd_vfio_compat_ioas_create), kept when the groups leave; IOMMU_IOAS_ALLOC on the
   * container's fd makes more; IOMMU_VFIO_IOAS SET switches the compat IOAS, CLEAR leaves none
   * (a later SET_CONTAINER makes a new one), IOMMU_DESTROY of it leaves none too
   * (iommufd_object_remove clears ictx->vfio_ioas). Each IOAS's areas are the MAP_DMAs made while
   * it was the compat IOAS (the low 32 bits of iova and size: unsigned long); SET_IOMMU records
   * nothing but TYPE1's "large pages off" on the compat IOAS, which lets UNMAP_DMA cut an area.
   * Ids: a new object takes the lowest free id (xa_alloc), predicted while the model knows every
   * object of the context (no device bound to it, nothing `foreign`, no IOAS of unknown id);
   * otherwise IOAS_ALLOC's answer is taken as given (never an id the model holds) and an IOAS
   * SET_CONTAINER makes gets its id at the next GET (or at a SET that succeeds on an id no known
   * IOAS has).
   * Predicted: SET_IOMMU of another type -EINVAL, without a compat IOAS -ENODEV, TYPE1v2 0;
   * CHECK_EXTENSION TYPE1, TYPE1v2, UNMAP_ALL 1, DMA_CC_IOMMU without the IOAS -ENODEV, any
   * other 0 (VFIO_UPDATE_VADDR included); MAP_DMA with argsz < 32 or a flag other than
   * READ/WRITE -EINVAL (neither flag is accepted), without the IOAS -ENODEV, a success never
   * over an area; UNMAP_DMA with argsz < 24 or a flag other than UNMAP_FLAG_ALL -EINVAL,
   * without the IOAS -ENODEV, ALL with a non-zero iova or size -EINVAL, else everything; a
   * range removes the areas inside it in IOVA order and stops at one it cuts (-ENOENT, as
   * nothing removed), reporting the bytes removed; IOMMU_VFIO_IOAS as model-iommufd.ts
   * vfioIoasCall (GET -ENODEV or the compat IOAS's id, SET 0 or -ENOENT, CLEAR 0, __reserved or
   * another op -EOPNOTSUPP); IOMMU_IOAS_ALLOC 0 (-EOPNOTSUPP with flags) and its id; IOMMU_DESTROY
   * of an IOAS 0, or -EBUSY while a bound group's device is attached to it (its auto HWPT holds
   * it), of an id nothing has (all known) -ENOENT.
   * IOMMU_IOAS_MAP, IOMMU_IOAS_COPY, IOMMU_IOAS_UNMAP and IOMMU_OPTION on the container's fd act
   * on the IOAS they name by id (compatIoasAdd, compatIoasUnmap, compatOption: a success on the
   * IOAS of unknown id teaches its id): MAP/COPY successes add an area at the IOVA written back,
   * IOAS_UNMAP is predicted as on /dev/iommu (whole areas, -ENOENT at a cut) and followed,
   * OPTION HUGE_PAGES SET 0/1 turns the IOAS's large pages off/on (as TYPE1's SET_IOMMU).
   * Not predicted, and so the model stops comparing: an UNMAP_DMA on a TYPE1 IOAS whose ends fall
   * inside an area first splits it (iopt_cut_iova, which may refuse); a success of those four the
   * model did not read as written (a short struct, another pointer); a SET that succeeds on an id
   * the model cannot place, or a DESTROY of an id it does not know, while an IOAS of unknown id
   * lives; a second IOAS of unknown id.
   */
  private postCompat(p: Process, c: MContainer, req: number, r: number, pre: PreIoctl, scratch: number, arg: IoctlArg): void {
    const cur = c.cur;
    switch (req) {
      case R.VFIO_GET_API_VERSION:
        this.expect(r === 0, `GET_API_VERSION on the compat container returned ${r}, not VFIO_API_VERSION (0)`);
        return;
      case R.VFIO_CHECK_EXTENSION: {
        const e = pre.extension;
        if (e === undefined) return;
        if (e === BigInt(VFIO_TYPE1_IOMMU) || e === BigInt(VFIO_TYPE1v2_IOMMU) || e === BigInt(VFIO_UNMAP_ALL)) this.expect(r === 1, `CHECK_EXTENSION(${e}) on the compat container returned ${r}, not 1`);
        else if (e === 4n) this.expect(cur ? r === 0 || r === 1 : r === -ENODEV, `CHECK_EXTENSION(VFIO_DMA_CC_IOMMU) on the compat container returned ${r}${cur ? '' : ', not -ENODEV (no compat IOAS)'}`);
        else this.expect(r === 0, `CHECK_EXTENSION(${e}) on the compat container returned ${r}, not 0`);
        return;
      }
      case R.VFIO_SET_IOMMU: {
        const t = pre.setIommuType;
        if (t === undefined) return;
        if (t !== BigInt(VFIO_TYPE1_IOMMU) && t !== BigInt(VFIO_TYPE1v2_IOMMU)) this.expect(r === -EINVAL, `SET_IOMMU(${t}) on the compat container returned ${r}, not -EINVAL`);
        else if (!cur) this.expect(r === -ENODEV, `SET_IOMMU on a compat container without a compat IOAS (no group attached since it was made, or cleared, or destroyed) returned ${r}, not -ENODEV`);
        else if (t === BigInt(VFIO_TYPE1v2_IOMMU)) this.expect(r === 0, `SET_IOMMU(TYPE1v2) on the compat container returned ${r}`);
        if (r === 0 && t === BigInt(VFIO_TYPE1_IOMMU) && cur) cur.noLarge = true;
        return;
      }
      case R.VFIO_IOMMU_GET_INFO: {
        const a = pre.infoArgsz;
        if (a === undefined) return;
        if (a < 16) this.expect(r === -EINVAL, `IOMMU_GET_INFO with argsz ${a} on the compat container returned ${r}, not -EINVAL`);
        else if (!cur) this.expect(r === -ENODEV, `IOMMU_GET_INFO on a compat container without a compat IOAS returned ${r}, not -ENODEV`);
        else this.expect(r === 0, `IOMMU_GET_INFO on the compat container returned ${r}`);
        return;
      }
      case R.VFIO_IOMMU_MAP_DMA:
      case R.VFIO_IOMMU_UNMAP_DMA:
        // the tail pointer: as for type1 (postIoctl)
        if ((arg as { ptr?: string }).ptr === 'tail' && (r === 0 || r === -EFAULT)) {
          this.lost = true;
          return;
        }
        if (req === R.VFIO_IOMMU_MAP_DMA) this.compatMap(p, c, r, pre);
        else this.compatUnmap(p, c, r, pre, scratch);
        return;
      case IOMMUFD_REQS.IOMMU_VFIO_IOAS:
        if (pre.iommufd) this.compatVfioIoas(p, c, r, pre.iommufd, scratch);
        return;
      case IOMMUFD_REQS.IOMMU_IOAS_ALLOC:
        if (pre.iommufd) this.compatIoasAlloc(p, c, r, pre.iommufd, scratch);
        return;
      case IOMMUFD_REQS.IOMMU_DESTROY:
        if (pre.iommufd) this.compatDestroy(c, r, pre.iommufd);
        return;
      case IOMMUFD_REQS.IOMMU_IOAS_MAP:
      case IOMMUFD_REQS.IOMMU_IOAS_COPY:
        if (pre.iommufd) this.compatIoasAdd(p, c, req, r, pre.iommufd, scratch);
        return;
      case IOMMUFD_REQS.IOMMU_IOAS_UNMAP:
        if (pre.iommufd) this.compatIoasUnmap(p, c, r, pre.iommufd, scratch);
        return;
      case IOMMUFD_REQS.IOMMU_OPTION:
        if (pre.iommufd) this.compatOption(c, r, pre.iommufd);
        return;
      case IOMMUFD_REQS.IOMMU_IOAS_IOVA_RANGES:
      case IOMMUFD_REQS.IOMMU_GET_HW_INFO:
      case IOMMUFD_REQS.IOMMU_IOAS_ALLOW_IOVAS:
        // queries, and the IOVAs allowed (MAP_DMA's refusals are not predicted): nothing followed changes
        return;
      case IOMMUFD_REQS.IOMMU_HWPT_ALLOC:
      case IOMMUFD_REQS.IOMMU_FAULT_QUEUE_ALLOC:
        // objects whose ids the model does not follow (an HWPT holds its IOAS; the fault fd's file is the iommufd model's)
        if (r === 0) c.foreign = true;
        return;
      default:
        // iommufd_fops_ioctl hands a request below IOMMUFD_CMD_BASE (0x80) to
        // iommufd_vfio_ioctl, whose default is -ENOIOCTLCMD
        if (((req >>> 8) & 0xff) === 0x3b && (req & 0xff) < 0x80) this.expect(r === -ENOTTY, `ioctl 0x${req.toString(16)} on the compat container returned ${r}, not -ENOTTY`);
        else if (r >= 0) this.lost = true;
    }
  }

  /**
   * compat: the IOAS an iommufd request names by `id` on the compat container's context, for a
   * call that succeeded (only an IOAS accepts it: iommufd_get_ioas): a known one; the IOAS of
   * unknown id (SET_CONTAINER's), whose id is then learned; null when the model cannot place it
   * (it then stops comparing), or when no IOAS can have that id (a divergence, reported)
   */
  private compatIoasOf(c: MContainer, idB: bigint, what: string): MIoas | null {
    const id = Number(BigInt.asUintN(32, idB));
    const m = c.ioases.get(id);
    if (m) return m;
    if (c.anon !== null) {
      this.compatLearn(c, id);
      return c.ioases.get(id) ?? null;
    }
    this.expect(false, `${what} on the compat container succeeded on id ${id}, which is no IOAS of its context`);
    this.lost = true;
    return null;
  }

  /**
   * compat: IOMMU_IOAS_MAP / IOMMU_IOAS_COPY on the container's fd (v6.12 ioas.c
   * iommufd_ioas_map, iommufd_ioas_copy; io_pagetable.c iopt_map_user_pages / iopt_map_pages):
   * a success adds one area of `length` bytes to the destination IOAS at the IOVA it writes back
   * (iova at offset 32, dst_iova at 24; the requested one with IOMMU_IOAS_MAP_FIXED_IOVA), never
   * over an existing area. Errors are not predicted here (model-iommufd.ts judges them on /dev/iommu).
   */
  private compatIoasAdd(p: Process, c: MContainer, req: number, r: number, pre: IommufdPre, scratch: number): void {
    if (r !== 0) return;
    if (!pre.ok) {
      this.lost = true;
      return;
    }
    const map = req === IOMMUFD_REQS.IOMMU_IOAS_MAP;
    const what = map ? 'IOAS_MAP' : 'IOAS_COPY';
    const io = this.compatIoasOf(c, pre.fields[map ? 'ioas_id' : 'dst_ioas_id'] ?? 0n, what);
    if (!io) return;
    const b = new Uint8Array(8);
    if (p.mm.copyFromUser(b, 0, scratch + (map ? 32 : 24), 8) < 0) {
      this.lost = true;
      return;
    }
    const got = new DataView(b.buffer).getBigUint64(0, true);
    const want = pre.fields[map ? 'iova' : 'dst_iova'] ?? 0n;
    if (((pre.fields['flags'] ?? 0n) & 1n) !== 0n) this.expect(got === want, `${what} with FIXED_IOVA 0x${want.toString(16)} on the compat container reported iova 0x${got.toString(16)}`);
    const len = pre.fields['length'] ?? 0n;
    // iopt_map_pages refuses a zero length and IOVAs/lengths past ULONG_MAX (-EINVAL, -EOVERFLOW)
    this.expect(len > 0n && got + len - 1n <= 0xffffffffn, `${what} on the compat container succeeded with iova 0x${got.toString(16)} length 0x${len.toString(16)}`);
    const iova = Number(got & 0xffffffffn);
    const size = Number(len & 0xffffffffn);
    this.expect(!io.maps.some((d) => d.iova < iova + size && iova < d.iova + d.size), `${what} on the compat container succeeded at 0x${iova.toString(16)}+0x${size.toString(16)}, over an existing area of IOAS ${io.id}`);
    let i = 0;
    while (i < io.maps.length && io.maps[i]!.iova < iova) i++;
    io.maps.splice(i, 0, { iova, size, vaddr: 0, prot: 0, mm: p.mm, vaddrInvalid: false, pa: [] });
  }

  /**
   * compat: IOMMU_IOAS_UNMAP on the container's fd (v6.12 ioas.c iommufd_ioas_unmap,
   * io_pagetable.c iopt_unmap_iova / iopt_unmap_all): iova 0 with length U64_MAX removes every
   * area (0, even with none); otherwise IOVAs and lengths of ULONG_MAX or more -EOVERFLOW, a
   * zero length -EINVAL, a range whose last byte wraps -EOVERFLOW; the areas inside the range go
   * in IOVA order, the first one the range cuts stops the walk with -ENOENT (those removed before
   * it stay removed), nothing removed is -ENOENT; the bytes removed are written back at offset 16.
   * No cut is made here (only VFIO's UNMAP_DMA cuts a TYPE1 IOAS: iommufd_vfio_unmap_dma). An IOAS
   * the model cannot place (an id it does not know while the IOAS of unknown id lives) is not
   * predicted; a success there stops the comparison.
   */
  private compatIoasUnmap(p: Process, c: MContainer, r: number, pre: IommufdPre, scratch: number): void {
    if (!pre.ok) {
      if (r === 0) this.lost = true;
      return;
    }
    // a longer struct with a non-zero tail (copy_struct_from_user): nothing done
    if (!pre.exact && r === -E2BIG) return;
    const id = Number(BigInt.asUintN(32, pre.fields['ioas_id'] ?? 0n));
    let io = c.ioases.get(id) ?? null;
    if (!io) {
      if (r === 0) io = this.compatIoasOf(c, BigInt(id), 'IOAS_UNMAP');
      else if (c.anon === null && this.compatIdsKnown(c)) this.expect(r === -ENOENT, `IOAS_UNMAP on id ${id} of the compat container's context, no IOAS, returned ${r}, not -ENOENT`);
      if (!io) return;
    }
    const iovaB = pre.fields['iova'] ?? 0n;
    const lenB = pre.fields['length'] ?? 0n;
    const all = iovaB === 0n && lenB === 2n ** 64n - 1n;
    let want: number;
    let removed = 0;
    if (all) {
      for (const d of io.maps) removed += d.size;
      io.maps = [];
      want = 0;
    } else if (iovaB >= 0xffffffffn || lenB >= 0xffffffffn) want = -EOVERFLOW;
    else if (lenB === 0n) want = -EINVAL;
    else if (iovaB + lenB - 1n > 0xffffffffn) want = -EOVERFLOW;
    else {
      const start = Number(iovaB);
      const last = Number(iovaB + lenB - 1n);
      let cut = false;
      const keep: MMap[] = [];
      for (const d of io.maps) {
        const dLast = d.iova + d.size - 1;
        if (cut || dLast < start || d.iova > last) keep.push(d);
        else if (d.iova < start || dLast > last) {
          cut = true;
          keep.push(d);
        } else removed += d.size;
      }
      io.maps = keep;
      want = !cut && removed > 0 ? 0 : -ENOENT;
    }
    if (pre.exact) this.expect(r === want, `IOAS_UNMAP of 0x${iovaB.toString(16)}+0x${lenB.toString(16)} on IOAS ${io.id} of the compat container returned ${r}, the model ${want === 0 ? `removes 0x${removed.toString(16)} bytes` : `predicts ${want}`}`);
    else if (r !== want) this.lost = true;
    if (r !== 0) return;
    const b = new Uint8Array(8);
    if (p.mm.copyFromUser(b, 0, scratch + 16, 8) >= 0) {
      const got = new DataView(b.buffer).getBigUint64(0, true);
      this.expect(got === BigInt(removed), `IOAS_UNMAP on the compat container wrote back length 0x${got.toString(16)}, the model removed 0x${removed.toString(16)} bytes`);
    }
  }

  /**
   * compat: IOMMU_OPTION on the container's fd (v6.12 ioas.c iommufd_option, iommufd_ioas_option):
   * a successful SET of IOMMU_OPTION_HUGE_PAGES on an IOAS turns its large pages off (val64 0:
   * iopt_disable_large_pages, as SET_IOMMU(TYPE1) does, so UNMAP_DMA may cut its areas) or on
   * (1: iopt_enable_large_pages); GET and IOMMU_OPTION_RLIMIT_MODE (the context's accounting)
   * change nothing the model follows
   */
  private compatOption(c: MContainer, r: number, pre: IommufdPre): void {
    if (r !== 0) return;
    if (!pre.ok) {
      this.lost = true;
      return;
    }
    const option = pre.fields['option_id'] ?? 0n;
    const op = (pre.fields['op'] ?? 0n) & 0xffffn;
    if (option !== BigInt(IOMMU_OPTION_HUGE_PAGES) || op !== BigInt(IOMMU_OPTION_OP_SET)) return;
    const io = this.compatIoasOf(c, pre.fields['object_id'] ?? 0n, 'IOMMU_OPTION(HUGE_PAGES)');
    if (io) io.noLarge = (pre.fields['val64'] ?? 0n) === 0n;
  }

  /** compat: every object of the context is one the model knows by id (only its IOASes): new ids are predictable */
  private compatIdsKnown(c: MContainer): boolean {
    if (c.foreign || c.anon !== null) return false;
    for (const g of this.groups.values()) if (g.boundTo === c.id) return false;
    return true;
  }

  /** the lowest id from 1 no known IOAS of the context has (xa_alloc with XA_FLAGS_ALLOC1: main.c iommufd_object_alloc_elm) */
  private compatLowestFree(c: MContainer): number {
    let id = 1;
    while (c.ioases.has(id)) id++;
    return id;
  }

  /** compat: the id of a success's answer (a u32 at `off` of the scratch), or -1 when it cannot be read */
  private compatRd32(p: Process, scratch: number, off: number): number {
    const b = new Uint8Array(4);
    return p.mm.copyFromUser(b, 0, scratch + off, 4) < 0 ? -1 : new DataView(b.buffer).getUint32(0, true);
  }

  /**
   * compat: the IOAS of unknown id learned as `id` (GET's answer, or a SET that succeeded on an
   * id no known IOAS has): never an id the model holds
   */
  private compatLearn(c: MContainer, id: number): void {
    const a = c.anon!;
    this.expect(!c.ioases.has(id), `the compat IOAS made by SET_CONTAINER has id ${id}, which another IOAS of the context has`);
    a.id = id;
    c.ioases.set(id, a);
    c.anon = null;
  }

  /** compat: IOMMU_VFIO_IOAS (model-iommufd.ts vfioIoasCall) switching, clearing and reporting the compat IOAS */
  private compatVfioIoas(p: Process, c: MContainer, r: number, pre: IommufdPre, scratch: number): void {
    const cur = c.cur === null ? null : c.cur.id === 0 ? 'unknown' : c.cur.id;
    // an id no known IOAS has may still be the IOAS of unknown id: SET's answer is then not predicted
    const isIoas = (id: bigint): boolean | null => (id < 2n ** 31n && c.ioases.has(Number(id)) ? true : c.anon !== null ? null : false);
    const e = vfioIoasCall((ok, msg) => this.expect(ok, msg), cur, pre, r, (off) => this.compatRd32(p, scratch, off), isIoas);
    if (e === null) {
      // a success the model did not read (a longer struct, another pointer): not followed
      if (r === 0 && !pre.ok) this.lost = true;
      return;
    }
    if (e.op === 'get') {
      if (c.cur !== null && c.cur.id === 0) this.compatLearn(c, e.id);
    } else if (e.op === 'set') {
      if (!c.ioases.has(e.id)) this.compatLearn(c, e.id);
      c.cur = c.ioases.get(e.id)!;
    } else c.cur = null;
  }

  /** compat: IOMMU_IOAS_ALLOC on the container's fd (ioas.c iommufd_ioas_alloc_ioctl): flags -EOPNOTSUPP, else a new IOAS */
  private compatIoasAlloc(p: Process, c: MContainer, r: number, pre: IommufdPre, scratch: number): void {
    if (pre.exact) {
      const flags = pre.fields['flags'] ?? 0n;
      this.expect(flags !== 0n ? r === -EOPNOTSUPP : r === 0, `IOAS_ALLOC with flags 0x${flags.toString(16)} on the compat container returned ${r}, not ${flags !== 0n ? '-EOPNOTSUPP' : '0'}`);
    }
    if (r !== 0) return;
    if (!pre.ok) {
      this.lost = true;
      return;
    }
    const id = this.compatRd32(p, scratch, 8);
    if (this.compatIdsKnown(c)) {
      const want = this.compatLowestFree(c);
      this.expect(id === want, `IOAS_ALLOC on the compat container gave id ${id}, the lowest free id is ${want}`);
    } else this.expect(!c.ioases.has(id), `IOAS_ALLOC on the compat container gave id ${id}, which another IOAS of the context has`);
    c.ioases.set(id, { id, maps: [], noLarge: false });
  }

  /**
   * compat: IOMMU_DESTROY on the container's fd (main.c iommufd_destroy, iommufd_object_remove):
   * an IOAS goes unless an HWPT holds it (-EBUSY: a bound group's device attached to it, or,
   * `foreign`, one the model does not know); the compat IOAS destroyed leaves none
   */
  private compatDestroy(c: MContainer, r: number, pre: IommufdPre): void {
    const idB = BigInt.asUintN(32, pre.fields['id'] ?? 0n);
    const id = Number(idB);
    const m = c.ioases.get(id);
    if (pre.exact) {
      if (m) {
        let held = false;
        for (const g of this.groups.values()) if (g.boundTo === c.id && g.attached === m) held = true;
        if (held) this.expect(r === -EBUSY, `DESTROY(${id}) of an IOAS a bound device is attached to returned ${r}, not -EBUSY`);
        else if (!c.foreign) this.expect(r === 0, `DESTROY(${id}) of an IOAS nothing holds returned ${r}`);
      } else if (this.compatIdsKnown(c)) this.expect(r === -ENOENT, `DESTROY(${id}) of an id the compat container's context does not have returned ${r}, not -ENOENT`);
    }
    if (r !== 0) return;
    if (!pre.ok) {
      this.lost = true;
      return;
    }
    if (m) {
      c.ioases.delete(id);
      if (c.cur === m) c.cur = null;
    } else if (c.anon !== null) this.lost = true; // it may have been the IOAS of unknown id
  }

  /**
   * what MAP_DMA (argsz >= 32, flags READ|WRITE) and UNMAP_DMA (argsz >= 24, flags ALL) check
   * first: -EINVAL, then -ENODEV without the compat IOAS; true when that decided the answer
   */
  private compatRefused(what: string, c: MContainer, r: number, argsz: number, minsz: number, flags: number, allowed: number): boolean {
    if (argsz < minsz || (flags & ~allowed) !== 0) {
      this.expect(r === -EINVAL, `${what} with argsz ${argsz}, flags 0x${flags.toString(16)} on the compat container returned ${r}, not -EINVAL`);
      return true;
    }
    if (!c.cur) {
      this.expect(r === -ENODEV, `${what} on a compat container without a compat IOAS returned ${r}, not -ENODEV`);
      return true;
    }
    return false;
  }

  private compatMap(p: Process, c: MContainer, r: number, pre: PreIoctl): void {
    const m = pre.map;
    if (!m || this.compatRefused('MAP_DMA', c, r, m.argsz, 32, m.flags, 3) || r !== 0) return;
    // into the compat IOAS (get_compat_ioas), whichever IOMMU_VFIO_IOAS SET last made it
    const io = c.cur!;
    const iova = Number(m.iova & 0xffffffffn);
    const size = Number(m.size & 0xffffffffn);
    this.expect(size > 0 && !io.maps.some((d) => d.iova < iova + size && iova < d.iova + d.size), `MAP_DMA succeeded at 0x${iova.toString(16)}+0x${size.toString(16)} on the compat container, over an existing area of its compat IOAS`);
    let i = 0;
    while (i < io.maps.length && io.maps[i]!.iova < iova) i++;
    io.maps.splice(i, 0, { iova, size, vaddr: Number(m.vaddr & 0xffffffffn), prot: this.protOf(m.flags & 3), mm: p.mm, vaddrInvalid: false, pa: [] });
  }

  private compatUnmap(p: Process, c: MContainer, r: number, pre: PreIoctl, scratch: number): void {
    const u = pre.unmap;
    if (!u || this.compatRefused('UNMAP_DMA', c, r, u.argsz, 24, u.flags, 2)) return;
    const io = c.cur!;
    let removed = 0;
    let want: number;
    if (u.flags & 2) {
      if (u.iova !== 0n || u.size !== 0n) {
        this.expect(r === -EINVAL, `UNMAP_DMA(FLAG_ALL) with a non-zero iova or size on the compat container returned ${r}, not -EINVAL`);
        return;
      }
      for (const d of io.maps) removed += d.size;
      io.maps = [];
      want = 0;
    } else {
      const iova = Number(u.iova & 0xffffffffn);
      const size = Number(u.size & 0xffffffffn);
      if (io.noLarge) {
        const cuts = iova !== 0 ? [(iova + size - 1) >>> 0, (iova - 1) >>> 0] : [(iova + size - 1) >>> 0];
        if (cuts.some((x) => io.maps.some((d) => d.iova <= x && x < d.iova + d.size - 1))) {
          this.lost = true;
          return;
        }
      }
      if (size === 0) {
        this.expect(r === -EINVAL, `UNMAP_DMA of size 0 on the compat container returned ${r}, not -EINVAL`);
        return;
      }
      const last = iova + size - 1;
      if (last > 0xffffffff) {
        this.expect(r === -EOVERFLOW, `UNMAP_DMA of 0x${iova.toString(16)}+0x${size.toString(16)} on the compat container returned ${r}, not -EOVERFLOW`);
        return;
      }
      let cut = false;
      const keep: MMap[] = [];
      for (const d of io.maps) {
        const dLast = d.iova + d.size - 1;
        if (cut || dLast < iova || d.iova > last) keep.push(d);
        else if (d.iova < iova || dLast > last) {
          cut = true;
          keep.push(d);
        } else removed += d.size;
      }
      io.maps = keep;
      want = !cut && removed > 0 ? 0 : -ENOENT;
    }
    this.expect(r === want, `UNMAP_DMA on the compat container returned ${r}, the model ${want === 0 ? `removes 0x${removed.toString(16)} bytes` : 'has nothing there or stops at an area the range cuts (-ENOENT)'}`);
    const b = new Uint8Array(8);
    if (p.mm.copyFromUser(b, 0, scratch + 16, 8) >= 0) {
      const got = Number(new DataView(b.buffer).getBigUint64(0, true));
      this.expect(got === removed, `UNMAP_DMA on the compat container wrote back size 0x${got.toString(16)}, the model removed 0x${removed.toString(16)} bytes`);
    }
  }

  /**
   * A group's ioctls when /dev/vfio/vfio is the compat container (mainline
   * vfio_group_ioctl_set_container's iommufd branch, drivers/vfio/group.c and iommufd.c): a
   * group attaches to the context (group->iommufd), which makes the compat IOAS; it needs no
   * SET_IOMMU before GET_DEVICE_FD, whose first open of a device binds it to the context
   * (iommufd_device_bind) and attaches it to the compat IOAS; UNSET_CONTAINER and the group
   * fd's release drop the group's reference whatever its open devices, which keep their own
   * binding until their last fd closes; no container users are counted.
   */
  private postCompatGroup(p: Process, g: MGroup, req: number, r: number, pre: PreIoctl, scratch: number, arg: IoctlArg): void {
    switch (req) {
      case R.VFIO_GROUP_SET_CONTAINER:
        if (g.container !== null) this.expect(r < 0, 'SET_CONTAINER succeeded on a group already attached to a compat container');
        else if (pre.setContainerOther) this.expect(r === -EBADFD, `SET_CONTAINER with an fd that is neither a container nor an iommufd returned ${r}, not -EBADFD`);
        else if (pre.setContainer !== undefined && pre.setContainer !== null) this.expect(r === 0, `SET_CONTAINER of a free group to the compat container returned ${r}`);
        if (r === 0) {
          const c = pre.setContainer === undefined || pre.setContainer === null ? undefined : this.containers.get(pre.setContainer);
          if (!c) {
            // an iommufd the model does not follow (/dev/iommu)
            this.lost = true;
            return;
          }
          // iommufd_vfio_compat_ioas_create: a new IOAS becomes the compat IOAS unless there is
          // one (its id reserved and freed again: no trace)
          if (c.cur === null) {
            const io: MIoas = { id: 0, maps: [], noLarge: false };
            if (this.compatIdsKnown(c)) {
              io.id = this.compatLowestFree(c);
              c.ioases.set(io.id, io);
            } else if (c.anon !== null) this.lost = true; // a second IOAS whose id the model does not know
            else c.anon = io;
            c.cur = io;
          }
          g.container = c.id;
          g.holds = true;
          c.groups.push(g.id);
        }
        return;
      case R.VFIO_GROUP_UNSET_CONTAINER:
        this.expect(g.container !== null ? r === 0 : r === -EINVAL, `UNSET_CONTAINER on a group ${g.container !== null ? 'attached to a compat container' : 'in no container'} returned ${r}`);
        if (r === 0) this.leaveCompat(g);
        return;
      case R.VFIO_GROUP_GET_DEVICE_FD: {
        if (g.container === null) this.expect(r < 0, 'GET_DEVICE_FD succeeded on a group attached to no compat container');
        // the first open attaches the device to the compat IOAS (vfio_df_group_open ->
        // vfio_iommufd_compat_attach_ioas -> iommufd_vfio_compat_ioas_get_id: -ENODEV without one,
        // after IOMMU_VFIO_IOAS CLEAR or the IOAS's destruction; the bind before it may refuse first)
        else if (g.devFds === 0 && this.containers.get(g.container)?.cur === null) this.expect(r < 0, 'GET_DEVICE_FD opened a device whose compat container has no compat IOAS to attach it to');
        this.expectDeviceName(g, r, arg, true);
        if (r >= 0) {
          // a device already open stays bound where it was; a group whose devices would be
          // bound to two contexts (re-attached elsewhere meanwhile) is not followed
          if (g.devFds === 0) {
            g.boundTo = g.container;
            // (no container: a success the model did not expect, reported above, or a SET_CONTAINER it lost track of)
            g.attached = g.container === null ? null : (this.containers.get(g.container)?.cur ?? null);
          } else if (g.boundTo !== g.container) this.lost = true;
          g.devFds++;
          this.table(p).set(r, { kind: 'device', id: g.id, ref: { n: 1 } });
        }
        return;
      }
      case R.VFIO_GROUP_GET_STATUS:
        // vfio_group_ioctl_get_status: CONTAINER_SET from vfio_group_has_iommu (group->iommufd)
        this.expectStatus(p, g, r, arg, scratch);
        return;
    }
  }

  /**
   * GET_DEVICE_FD's name: only a NUL-terminated name of one of the group's devices opens one;
   * `lookedUpFirst` (mainline vfio_group_ioctl_get_device_fd: vfio_device_get_from_name before
   * any container check) makes another name -ENODEV
   */
  private expectDeviceName(g: MGroup, r: number, arg: IoctlArg, lookedUpFirst: boolean): void {
    if (arg.t !== 'str') return;
    const mine = g.devices.includes(arg.s);
    if (!mine || !arg.nul) this.expect(r < 0, `GET_DEVICE_FD("${arg.s.slice(0, 32)}") on group ${g.id} returned a device fd`);
    if (lookedUpFirst && arg.ptr === 'ok' && arg.nul && arg.s.length < 4096 && !mine) this.expect(r === -ENODEV, `GET_DEVICE_FD("${arg.s.slice(0, 32)}") returned ${r}, not -ENODEV (the name is looked up first)`);
  }

  /** GET_STATUS: VFIO_GROUP_FLAGS_CONTAINER_SET says whether the group is in a container */
  private expectStatus(p: Process, g: MGroup, r: number, arg: IoctlArg, scratch: number): void {
    if (r !== 0 || arg.t !== 'struct' || arg.ptr !== 'ok') return;
    const b = new Uint8Array(4);
    if (p.mm.copyFromUser(b, 0, scratch + 4, 4) < 0) return;
    const flags = new DataView(b.buffer).getUint32(0, true);
    this.expect(((flags & 2) !== 0) === (g.container !== null), `GET_STATUS flags 0x${flags.toString(16)} but the group is ${g.container !== null ? '' : 'not '}in a container`);
  }

  /**
   * VFIO_IOMMU_DIRTY_PAGES on a container with an IOMMU (model-dirty.ts predictDirtyPages):
   * the result, GET_BITMAP's bits, and the tracking state START and STOP set
   */
  private dirtyPages(p: Process, c: MContainer, r: number, pre: PreIoctl): void {
    // vfio_iommu_type1_dirty_pages refuses TYPE1 before it reads anything
    if (!c.v2) {
      this.expect(r === -EACCES, `VFIO_IOMMU_DIRTY_PAGES on a TYPE1 (v1) container returned ${r}, not -EACCES`);
      return;
    }
    const d = pre.dirty;
    if (d) {
      const want = predictDirtyPages(d, c.v2, c.dirty, c.maps, userWritable(p.mm));
      const what = `VFIO_IOMMU_DIRTY_PAGES(flags 0x${d.flags.toString(16)}, argsz ${d.argsz}${d.flags === 4 && d.whole ? `, iova 0x${d.iova.toString(16)} size 0x${d.range.toString(16)} pgsize 0x${d.pgsize.toString(16)} bitmap 0x${d.size.toString(16)} bytes at 0x${d.data.toString(16)}` : ''})`;
      if (want.r !== null) this.expect(r === want.r, `${what} returned ${r}, the model predicts ${want.r}${c.dirty ? '' : ' (tracking is off)'}`);
      else if (want.zeroOrFault) this.expect(r === 0 || r === -EFAULT, `${what} returned ${r}, not 0 or -EFAULT (the walk)`);
      if (r === 0 && want.walk) {
        const e = checkDirtyBits(p.mm, want.walk.maps, want.walk.base, want.walk.data);
        if (e) this.expect(false, `${what}: ${e}`);
      }
    }
    // only one flag succeeds (__ffs(flags) == __fls(flags)), so a success tells which
    if (r === 0 && d && d.flags === DIRTY_START) c.dirty = true;
    else if (r === 0 && d && d.flags === DIRTY_STOP) c.dirty = false;
    else if (r === 0 && !d) this.lost = true; // a success whose flags the model did not read
  }

  /**
   * UNMAP_DMA with GET_DIRTY_BITMAP (struct at an ok pointer; model-dirty.ts predictUnmapBitmap):
   * the result and the bits; a walk a failed copy stopped removes the mappings reported before
   * it. Returns whether the success path (applyUnmap and the size written back) is to follow.
   */
  private unmapBitmap(p: Process, c: MContainer, r: number, u: NonNullable<PreIoctl['unmap']>, b: BitmapArg): boolean {
    const want = predictUnmapBitmap(u.argsz, u.flags, u.iova, u.size, b, c.v2, c.dirty, c.maps, userWritable(p.mm));
    const what = `UNMAP_DMA(GET_DIRTY_BITMAP, flags 0x${u.flags.toString(16)}, argsz ${u.argsz}, iova 0x${u.iova.toString(16)} size 0x${u.size.toString(16)}, pgsize 0x${b.pgsize.toString(16)} bitmap 0x${b.size.toString(16)} bytes at 0x${b.data.toString(16)})`;
    if (want.r !== null) this.expect(r === want.r, `${what} returned ${r}, the model predicts ${want.r}${c.dirty ? '' : ' (tracking is off)'}`);
    else this.expect(r === 0 || r === -EFAULT, `${what} returned ${r}, not 0 or -EFAULT (the walk)`);
    if (r === 0 && want.walk) {
      const e = checkDirtyBits(p.mm, want.walk.maps, want.walk.base, want.walk.data);
      if (e) this.expect(false, `${what}: ${e}`);
    }
    if (r !== -EFAULT) return true;
    // a failed copy in the walk: the mappings reported before it are gone, the size is not written back
    if (want.r === null) {
      this.lost = true;
      return false;
    }
    if (want.r === -EFAULT) {
      const gone = new Set(want.removed);
      c.maps = c.maps.filter((m) => !gone.has(m));
    }
    return false;
  }

  /** the IOMMU types vfio_iommu_type1 offers (its CHECK_EXTENSION): TYPE1, and TYPE1v2 with `type1v2` */
  private typeOffered(t: bigint): boolean {
    const caps = this.sys.profile.caps;
    return t === BigInt(VFIO_TYPE1_IOMMU) || (t === BigInt(VFIO_TYPE1v2_IOMMU) && caps.type1v2) || (t === 6n && caps.type1Nesting);
  }

  private protOf(flags: number): number {
    const c = this.sys.profile.caps;
    let prot = 0;
    if (flags & 1) prot |= IOMMU_READ;
    if (flags & 2) prot |= IOMMU_WRITE;
    if (c.dmaMapBit2 === 'exec' && flags & 4) prot |= IOMMU_EXEC;
    return prot;
  }

  private applyMap(c: MContainer, mm: AddressSpace, m: NonNullable<PreIoctl['map']>): void {
    const iova = Number(m.iova);
    const size = Number(m.size);
    const vaddr = Number(m.vaddr);
    const caps = this.sys.profile.caps;
    if (caps.dmaMapBit2 === 'vaddr' && m.flags & 4) {
      // VFIO_DMA_MAP_FLAG_VADDR restores the vaddr of exactly one mapping whose vaddr was invalidated
      const d = c.maps.find((x) => x.iova === iova && x.size === size);
      this.expect(d !== undefined, `MAP_DMA(VADDR) succeeded without a mapping at 0x${iova.toString(16)}+0x${size.toString(16)}`);
      if (d) {
        this.expect(d.vaddrInvalid, `MAP_DMA(VADDR) succeeded on the mapping at 0x${iova.toString(16)} whose vaddr was never invalidated`);
        d.vaddr = vaddr;
        d.vaddrInvalid = false;
        // from another process (a fork's): the mapping is that mm's now (vfio_change_dma_owner)
        d.mm = mm;
      }
      return;
    }
    this.expect(!c.maps.some((d) => d.iova < iova + size && iova < d.iova + d.size), `MAP_DMA succeeded over an existing mapping at iova 0x${iova.toString(16)}`);
    if (caps.type1ResvRegions && caps.iommuResvRegions) this.expect(iova + size <= MSI_WINDOW[0] || iova >= MSI_WINDOW[1], `MAP_DMA succeeded at 0x${iova.toString(16)}+0x${size.toString(16)}, over the SMMU's reserved MSI window`);
    const pa: number[] = [];
    for (let off = 0; off < size && off < 2 ** 31; off += PAGE) pa.push(userPa(mm, vaddr + off));
    const n: MMap = { iova, size, vaddr, prot: this.protOf(m.flags), mm, vaddrInvalid: false, pa };
    let i = 0;
    while (i < c.maps.length && c.maps[i]!.iova < iova) i++;
    c.maps.splice(i, 0, n);
    // mainline vfio_dma_do_map keeps one mapping per MAP_DMA (`type1MergeMappings`)
    if (!this.sys.profile.caps.type1MergeMappings) return;
    const join = (a: MMap, b: MMap): boolean => a.iova + a.size === b.iova && a.vaddr + a.size === b.vaddr && a.prot === b.prot && a.mm === b.mm;
    const right = c.maps[i + 1];
    if (right && join(n, right)) {
      n.size += right.size;
      n.pa = n.pa.concat(right.pa);
      c.maps.splice(i + 1, 1);
    }
    const left = c.maps[i - 1];
    if (left && join(left, n)) {
      left.size += n.size;
      left.pa = left.pa.concat(n.pa);
      c.maps.splice(i, 1);
    }
  }

  private applyUnmap(c: MContainer, iovaB: bigint, sizeB: bigint, flags: number): number {
    const caps = this.sys.profile.caps;
    // UNMAP_FLAG_ALL (mainline, `type1UnmapAll`): only with iova = size = 0, removes everything
    const all = caps.type1UnmapAll && (flags & 2) !== 0;
    // VFIO_DMA_UNMAP_FLAG_VADDR (mainline): the same walk, but the mappings stay and lose their vaddr
    const invalidate = caps.dmaMapBit2 === 'vaddr' && (flags & 4) !== 0;
    if (all) this.expect(iovaB === 0n && sizeB === 0n, 'UNMAP_DMA(FLAG_ALL) succeeded with a non-zero iova or size');
    const start = all ? 0 : Number(iovaB);
    const end = all ? 2 ** 53 : Number(iovaB + sizeB > 2n ** 53n ? 2n ** 53n : iovaB + sizeB);
    if (caps.type1UnmapRule === 'whole-mappings') {
      // the uapi rules of today's type1: whole mappings only; v2 never splits (a
      // straddling request fails), v1 removes the mappings whose first IOVA it covers and
      // stops at a mapping starting before the request
      if (c.v2 && !all) this.expect(!c.maps.some((d) => (d.iova < start && d.iova + d.size > start) || (d.iova < end && d.iova + d.size > end)), `UNMAP_DMA on a TYPE1v2 container succeeded splitting a mapping (0x${start.toString(16)}..0x${end.toString(16)})`);
      let removed = 0;
      const out: MMap[] = [];
      let stop = false;
      for (const d of c.maps) {
        if (stop || d.iova + d.size <= start || d.iova >= end) {
          out.push(d);
          continue;
        }
        if (!c.v2 && d.iova < start) {
          stop = true;
          out.push(d);
          continue;
        }
        removed += d.size;
        if (invalidate) {
          this.expect(!d.vaddrInvalid, `UNMAP_DMA(VADDR) succeeded reaching the mapping at 0x${d.iova.toString(16)} whose vaddr was already invalid`);
          d.vaddrInvalid = true;
          out.push(d);
        }
      }
      c.maps = out;
      return removed;
    }
    let removed = 0;
    const out: MMap[] = [];
    for (const d of c.maps) {
      const dEnd = d.iova + d.size;
      if (dEnd <= start || d.iova >= end) {
        out.push(d);
        continue;
      }
      const from = Math.max(start, d.iova);
      const to = Math.min(end, dEnd);
      removed += to - from;
      if (from > d.iova) out.push({ ...d, size: from - d.iova, pa: d.pa.slice(0, Math.ceil((from - d.iova) / PAGE)) });
      if (to < dEnd) out.push({ ...d, iova: to, size: dEnd - to, vaddr: d.vaddr + (to - d.iova), pa: d.pa.slice(Math.floor((to - d.iova) / PAGE)) });
    }
    c.maps = out;
    return removed;
  }

  /**
   * the containers with an IOMMU and their groups (vfio_iommu_type1_attach_group has put
   * the groups' streams in the container's domain): null while the model is lost
   */
  userDomains(): UserDomain[] | null {
    if (this.lost) return null;
    const out: UserDomain[] = [];
    // (a compat container's IOAS: the isolation check reads iommufd's attachments)
    for (const c of this.containers.values()) if (c.compat === null && c.iommu && c.groups.length > 0) out.push({ container: c.id, groups: c.groups, maps: c.maps });
    return out;
  }

  /** compare with the implementation; a message on divergence */
  compare(insts: { id: number; it: Type1Iommu }[]): string | null {
    const pend = this.pending;
    this.pending = null;
    if (this.lost) return null;
    if (pend) return pend;
    // read from the implementation's own objects (groupRef, containers, dmas): this runs after
    // every call, and groupState()/containerStates()/mappings() build new objects each time;
    // those are only called to word a difference
    const vfio = this.sys.vfio;
    if (this.compat) return this.compareCompat();
    for (const g of this.groups.values()) {
      const real = vfio.groupRef(g.id);
      if (!real) continue;
      const users = (g.holds ? 1 : 0) + g.devFds;
      let open = false;
      for (const d of real.devices) if (d.openCount > 0) open = true;
      if (real.opened !== g.opened || (real.container !== null) !== (g.container !== null) || real.containerUsers !== users || open !== g.devFds > 0) {
        const st = vfio.groupState(g.id)!;
        return `group ${g.id}: implementation ${JSON.stringify({ opened: st.opened, containerSet: st.containerSet, users: st.containerUsers, openDevices: st.openDevices.length })}, model ${JSON.stringify({ opened: g.opened, containerSet: g.container !== null, users, deviceFds: g.devFds })}`;
      }
    }
    if (vfio.containers.size !== this.containers.size) return `${vfio.containers.size} live containers, the model has ${this.containers.size}`;
    for (const rc of vfio.containers) {
      const mc = this.containers.get(rc.id);
      if (!mc) return `container ${rc.id} is alive, the model freed it`;
      let same = rc.groups.length === mc.groups.length;
      for (let i = 0; same && i < rc.groups.length; i++) same = rc.groups[i]!.id === mc.groups[i];
      if (!same) return `container ${rc.id}: groups [${rc.groups.map((x) => x.id)}] vs model [${mc.groups}]`;
      if ((rc.iommuDriver !== null) !== mc.iommu) return `container ${rc.id}: IOMMU ${rc.iommuDriver?.name ?? 'unset'}, model ${mc.iommu ? 'set' : 'unset'}`;
      let inst: Type1Iommu | null = null;
      for (const x of insts) {
        if (x.id !== rc.id) continue;
        inst = x.it;
        break;
      }
      if ((inst !== null && inst.dirtyPageTracking) !== mc.dirty) return `container ${rc.id}: dirty page tracking ${inst !== null && inst.dirtyPageTracking ? 'on' : 'off'}, model ${mc.dirty ? 'on' : 'off'}`;
      // compared field by field; the text only on a difference
      if (!sameMappings(inst ? inst.dmas : NO_MAPPINGS, mc.maps)) {
        const real = inst ? inst.mappings() : [];
        const a = real.map((m) => `${m.iova.toString(16)}+${m.size.toString(16)}@${m.vaddr.toString(16)}${m.vaddrInvalid ? '!' : ''}/${m.prot}`).join(' ');
        const b = mc.maps.map((m) => `${m.iova.toString(16)}+${m.size.toString(16)}@${m.vaddr.toString(16)}${m.vaddrInvalid ? '!' : ''}/${m.prot}`).join(' ');
        if (a !== b) return `container ${rc.id}: mappings [${a}] vs model [${b}]`;
      }
    }
    return null;
  }

  /** the live iommufd contexts the compat containers are (the iommufd model counts them with its own) */
  compatContexts(): number {
    let n = 0;
    for (const c of this.containers.values()) if (c.compat !== null) n++;
    return n;
  }

  /**
   * Is the compat container of file `f` alive in the model? (A fault fd made on it holds its
   * context after the model let the container go: the iommufd model counts that context then.)
   */
  compatAlive(f: File): boolean {
    for (const c of this.containers.values()) if (c.compat === f) return true;
    return false;
  }

  /** compare() when /dev/vfio/vfio is the compat container: groups, contexts, compat IOAS areas */
  private compareCompat(): string | null {
    const vfio = this.sys.vfio;
    const svc = this.sys.iommufd;
    const ctxOf = (id: number | null): IommufdCtx | null => (id === null ? null : (this.containers.get(id)?.compat?.priv as IommufdCtx | undefined) ?? null);
    for (const g of this.groups.values()) {
      const real = vfio.groupRef(g.id);
      if (!real) continue;
      let open = false;
      for (const d of real.devices) if (d.openCount > 0) open = true;
      if (real.opened !== g.opened || real.iommufd !== ctxOf(g.container) || real.containerUsers !== 0 || open !== g.devFds > 0) {
        return `group ${g.id}: implementation ${JSON.stringify({ opened: real.opened, iommufd: real.iommufd !== null, users: real.containerUsers, openDevices: open })}, model ${JSON.stringify({ opened: g.opened, container: g.container, deviceFds: g.devFds })}`;
      }
    }
    if (vfio.containers.size !== 0) return `${vfio.containers.size} live VFIO containers with the compat container`;
    for (const c of this.containers.values()) {
      const ctx = c.compat!.priv as IommufdCtx;
      if (!svc || !svc.contexts.has(ctx)) return `the compat container ${c.id} (${c.compat!.path}) is alive in the model, its iommufd context is not`;
      const ioas = ctx.vfioIoas;
      if ((ioas !== null) !== (c.cur !== null)) return `compat container ${c.id}: compat IOAS ${ioas !== null ? `present (${ioas.id})` : 'absent'}, the model has it ${c.cur !== null ? 'present' : 'absent'}`;
      if (ioas !== null && c.cur!.id !== 0 && ioas.id !== c.cur!.id) return `compat container ${c.id}: the compat IOAS is ${ioas.id}, the model's is ${c.cur!.id}`;
      // every IOAS of the context is one the model knows (or the one whose id it has not learned)
      let n = 0;
      for (const o of ctx.objects.values()) if (o.type === 'ioas') n++;
      if (n !== c.ioases.size + (c.anon !== null ? 1 : 0)) return `compat container ${c.id}: ${n} IOAS(es) in its context, the model has ${c.ioases.size}${c.anon !== null ? ' and one of unknown id' : ''}`;
      for (const m of c.ioases.values()) {
        const o = ctx.objects.get(m.id);
        if (o === undefined || o.type !== 'ioas') return `compat container ${c.id}: the model's IOAS ${m.id} is ${o === undefined ? 'not in the context' : `a ${o.type}`}`;
        const d = compatAreasDiffer(c.id, m.id, (o as Ioas).iopt.areas, m.maps);
        if (d !== null) return d;
      }
      if (c.anon !== null && c.cur === c.anon) {
        const d = compatAreasDiffer(c.id, ioas!.id, ioas!.iopt.areas, c.anon.maps);
        if (d !== null) return d;
      }
    }
    return null;
  }
}

const NO_MAPPINGS: readonly MappingFields[] = Object.freeze([]);

/** compat: an IOAS's areas against the model's (the same [iova, last] in order), a message if they differ */
function compatAreasDiffer(container: number, id: number, areas: readonly { iova: number; last: number }[], maps: readonly MMap[]): string | null {
  let same = areas.length === maps.length;
  for (let i = 0; same && i < areas.length; i++) same = areas[i]!.iova === maps[i]!.iova && areas[i]!.last === maps[i]!.iova + maps[i]!.size - 1;
  if (same) return null;
  const a = areas.map((x) => `${x.iova.toString(16)}-${x.last.toString(16)}`).join(' ');
  const b = maps.map((x) => `${x.iova.toString(16)}-${(x.iova + x.size - 1).toString(16)}`).join(' ');
  return `compat container ${container}: IOAS ${id} areas [${a}], the model has [${b}]`;
}


type MappingFields = Pick<MMap, 'iova' | 'size' | 'vaddr' | 'prot' | 'vaddrInvalid'>;

/** the same mappings in the same order (what comparing their `iova+size@vaddr!/prot` texts tells) */
function sameMappings(a: readonly MappingFields[], b: readonly MappingFields[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x.iova !== y.iova || x.size !== y.size || x.vaddr !== y.vaddr || x.prot !== y.prot || x.vaddrInvalid !== y.vaddrInvalid) return false;
  }
  return true;
}
