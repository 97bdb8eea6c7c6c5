/**
 * The reference model: a small, independent description of the VFIO state a program
 * should have produced (containers, groups, device fds, DMA mappings), written from
 * the VFIO uapi rules (include/uapi/linux/vfio.h, docs/VFIO.md), not from the implementation. It follows the calls'
 * results (a successful call changes the model), predicts the outcomes the rules fix
 * (e.g. SET_IOMMU on a container without groups fails, a group cannot be opened twice,
 * MAP_DMA never succeeds over an existing mapping, UNMAP_DMA reports the bytes it removed)
 * and is compared with the implementation's inspection hooks after every call.
 *
 * RefModel (this file: the ioctl dispatch, preIoctl and postIoctl) is the end of a class chain,
 * one module a responsibility: model-state.ts (the state and its types), model-fds.ts (fds,
 * processes, container and group lifetimes), model-type1.ts (type1's DMA mappings and dirty
 * tracking), model-compat.ts (the iommufd compat container), model-compare.ts (the comparison
 * with the implementation).
 */
import { EBADFD, EFAULT, EINVAL, ENODEV, ENOTTY, EPERM } from '../../kernel-model/base/errno.js';
import { VFIO_TYPE1v2_IOMMU, VFIO_UNMAP_ALL } from '../../kernel-model/uapi/constants.js';
import type { Process } from '../../kernel-model/process/process.js';
import { iommufdArgOf } from './model-iommufd.js';
import { CDEV_REQS } from './program-iommufd.js';
import { VFIO_IOMMU_DIRTY_PAGES, VFIO_REQS as R, type FdKind, type IoctlArg, type Value } from './program.js';
import { UNMAP_GET_DIRTY_BITMAP, bitmapOf, type BitmapArg } from './model-dirty.js';
import { ModelCompare } from './model-compare.js';
import type { PreIoctl } from './model-state.js';

export { userPa, type PreIoctl, type UserDomain } from './model-state.js';

/** an iommufd request (_IO(';', 0x80 + n), no direction or size bits: iommufd_fops_ioctl's own range) */
function isIommufdReq(req: number): boolean {
  return req >>> 0 <= 0xffff && ((req >>> 8) & 0xff) === 0x3b && (req & 0xff) >= 0x80;
}

type StructArg = Extract<IoctlArg, { t: 'struct' }>;

/** a struct argument's field `n` as the call passes it (0 when the program leaves it out) */
function fieldOf(arg: StructArg, val: (v: Value) => bigint, n: string): bigint {
  const v = arg.fields[n];
  return v === undefined ? 0n : val(v);
}

/** UNMAP_DMA's struct vfio_bitmap fields */
function bitmapOfArg(arg: StructArg, val: (v: Value) => bigint): BitmapArg {
  return bitmapOf((n) => fieldOf(arg, val, n));
}

/** VFIO_IOMMU_DIRTY_PAGES's argument as preIoctl records it */
function dirtyArgOf(arg: StructArg, val: (v: Value) => bigint): NonNullable<PreIoctl['dirty']> {
  const g = (n: string): bigint => fieldOf(arg, val, n);
  return { argsz: Number(BigInt.asUintN(32, g('argsz'))), flags: Number(BigInt.asUintN(32, g('flags'))), iova: g('iova'), range: g('size'), ...bitmapOf(g), whole: arg.ptr === 'ok' };
}

export class RefModel extends ModelCompare {
  /** `addr`: the argument as passed (an iommufd request's struct address on the compat container: its size rules are judged) */
  preIoctl(p: Process, _fd: number, kind: FdKind | null, req: number, arg: IoctlArg, val: (v: Value) => bigint, addr?: number): PreIoctl {
    const pre: PreIoctl = {};
    if (kind === 'container' && req === R.VFIO_SET_IOMMU && arg.t === 'int') pre.setIommuType = BigInt.asUintN(32, val(arg.v));
    if (kind === 'container' && req === R.VFIO_CHECK_EXTENSION && arg.t === 'int') pre.extension = BigInt.asUintN(32, val(arg.v));
    if (this.compat && kind === 'container' && isIommufdReq(req)) pre.iommufd = iommufdArgOf(arg, val, addr === undefined ? null : p, addr ?? 0, req);
    if (this.compat && kind === 'device' && req === CDEV_REQS.VFIO_DEVICE_BIND_IOMMUFD && arg.t === 'struct' && arg.fields['iommufd'] !== undefined) {
      const o = this.table(p).get(Number(BigInt.asIntN(32, val(arg.fields['iommufd']!))));
      if (o?.kind === 'container') pre.bindTo = o.id;
    }
    // the head (argsz, flags) of a 'tail' struct is the 8 bytes before the scratch's end: as written
    if (kind === 'container' && req === VFIO_IOMMU_DIRTY_PAGES && arg.t === 'struct' && arg.type === 'vfio_iommu_type1_dirty_bitmap' && (arg.ptr === 'ok' || arg.ptr === 'tail')) pre.dirty = dirtyArgOf(arg, val);
    if (arg.t !== 'struct' || arg.ptr !== 'ok') return pre;
    // the fields through fieldOf, not a closure over `arg` and `val`: V8 would allocate this
    // function's context for them on every call (this runs before every ioctl)
    if (kind === 'container' && req === R.VFIO_IOMMU_MAP_DMA && arg.type === 'vfio_iommu_type1_dma_map') pre.map = { flags: Number(fieldOf(arg, val, 'flags')), vaddr: fieldOf(arg, val, 'vaddr'), iova: fieldOf(arg, val, 'iova'), size: fieldOf(arg, val, 'size'), argsz: Number(fieldOf(arg, val, 'argsz')) };
    if (kind === 'container' && req === R.VFIO_IOMMU_UNMAP_DMA && (arg.type === 'vfio_iommu_type1_dma_unmap' || arg.type === 'vfio_iommu_type1_dma_unmap_bitmap')) {
      pre.unmap = { iova: fieldOf(arg, val, 'iova'), size: fieldOf(arg, val, 'size'), flags: Number(fieldOf(arg, val, 'flags')), argsz: Number(fieldOf(arg, val, 'argsz')) };
      if (arg.type === 'vfio_iommu_type1_dma_unmap_bitmap') pre.unmapBitmap = bitmapOfArg(arg, val);
    }
    if (kind === 'container' && req === R.VFIO_IOMMU_GET_INFO && arg.type === 'vfio_iommu_type1_info') pre.infoArgsz = Number(fieldOf(arg, val, 'argsz'));
    if (kind === 'group' && req === R.VFIO_GROUP_SET_CONTAINER && arg.type === 'int32') {
      const o = this.table(p).get(Number(BigInt.asIntN(32, fieldOf(arg, val, 'v'))));
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
}
