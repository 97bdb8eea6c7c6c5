/**
 * The reference model's iommufd part: what /dev/iommu contexts and VFIO device cdevs a
 * program should have produced, written from the iommufd and VFIO cdev uapi rules
 * (include/uapi/linux/iommufd.h, include/uapi/linux/vfio.h, Documentation/userspace-api/iommufd.rst)
 * rather than from the implementation:
 * - object ids are the lowest free id from 1 in the context (xa_alloc over xa_limit_31b);
 * - IOMMU_IOAS_ALLOC succeeds unless flags are set (-EOPNOTSUPP);
 * - IOMMU_DESTROY of an id the context does not have is -ENOENT; a destroyed IOAS had no HWPT
 *   on it, a destroyed HWPT had no device attached, a bound device is never destroyed by it;
 * - IOMMU_IOAS_MAP/COPY add one area and never overlap an existing one; with
 *   IOMMU_IOAS_MAP_FIXED_IOVA at the requested IOVA; on an id that is not an IOAS -ENOENT;
 * - IOMMU_IOAS_UNMAP removes whole areas in IOVA order and reports their bytes; it stops
 *   (-ENOENT) at an area the range cuts; nothing to remove is -ENOENT; iova 0 with length
 *   U64_MAX removes everything (success even when empty);
 * - VFIO_DEVICE_BIND_IOMMUFD gives the device the lowest free id; a bound cdev cannot bind again;
 * - ATTACH to an IOAS uses an auto HWPT (a new one with the lowest free id, or reports the one the
 *   IOAS already has); DETACH and the cdev's close drop the attachment and the auto HWPT with
 *   its last device; closing the cdev unbinds (the device object goes);
 * - IOMMU_FAULT_QUEUE_ALLOC (v6.12 fault.c iommufd_fault_alloc) succeeds unless flags are set
 *   (-EOPNOTSUPP): a fault object with the lowest free id and a new fd, the lowest free fd
 *   number, on a fault queue file ("[iommufd-pgfault]");
 * - the fault file holds its object: IOMMU_DESTROY of it is -EBUSY while the fd is open, 0 once
 *   it is closed (nothing else can hold a fault object here: see the next rule);
 * - the fault file holds its context too (iommufd_ctx_get): a context lives while its fd, a
 *   bound device or a fault fd of it holds it; then all its objects go. A fault fd closes with
 *   close() or when its process exits (fds in fd order), and only then lets the context go. The
 *   compat container's context (/dev/vfio/vfio, which the container part of the reference model
 *   follows) is counted here while only fault fds hold it;
 * - the fault fd's own operations, on a queue nothing feeds (faults reach a queue only through
 *   an HWPT allocated with IOMMU_HWPT_FAULT_ID_VALID; a successful one stops the comparison):
 *   read of a multiple of sizeof(struct iommu_hwpt_pgfault) (40) 0, of any other count -ESPIPE
 *   (iommufd_fault_fops_read); write of a count that is not a multiple of sizeof(struct
 *   iommu_hwpt_page_response) (8) -ESPIPE, of 0 bytes 0, of a response it can read -EINVAL (no
 *   cookie was ever handed out), of one it cannot read the positive number of bytes
 *   copy_from_user left (iommufd_fault_fops_write returns it as is; at least the bytes past the
 *   first unreadable one, at most 8); pread/pwrite -ESPIPE (an anon inode file has no
 *   FMODE_PREAD/FMODE_PWRITE: ksys_pread64), but -EINVAL at a negative position (ksys_pread64 and
 *   ksys_pwrite64 check pos < 0 before they look up the fd); poll reports POLLOUT only
 *   (iommufd_fault_fops_poll); ioctls of the VFIO/iommufd type ';' -ENOTTY (no unlocked_ioctl).
 *   Counts above RW_CHECKED_MAX are left to the errno whitelist (the VFS's own checks come first).
 * - IOMMU_HWPT_ALLOC and IOMMU_IOAS_COPY: each refusal in v6.12's order, a success's id, dst_iova
 *   and areas, and an allocated HWPT that has no page table until a device attaches to it
 *   (model-iommufd-pt.ts has the rules);
 * After every call the model is compared with the live contexts (ids, types, IOAS areas, each
 * open fault object's file).
 */
import type { Process } from '../../kernel-model/process/process.js';
import type { IommufdCtx, IommufdService } from '../../kernel-model/iommu/iommufd/index.js';
import type { File } from '../../kernel-model/vfs/file.js';
import { EBUSY, EINVAL, ENOENT, ENOTTY, EOPNOTSUPP, ESPIPE } from '../../kernel-model/base/errno.js';
import { VFIO_IOMMU_MAP_DMA, VFIO_IOMMU_UNMAP_DMA } from '../../kernel-model/uapi/constants.js';
import { POLLOUT } from '../../kernel-model/uapi/constants.js';
import { IOMMU_HWPT_FAULT_ID_VALID } from '../../kernel-model/iommu/iommufd/uapi.js';
import { reqName, type IoctlArg, type Value } from './program.js';
import { CDEV_REQS as C, IOMMUFD_REQS as I } from './program-iommufd.js';
import { iommufdArgOf, vfioIoasCall, type IommufdPre } from './model-iommufd-args.js';
import { hwptOpJudge } from './model-iommufd-hwpt-ops.js';
import { copyWant, hwptAllocWant, idOf, type IoasView, type MArea, type MHwpt, type MIoas, type Want } from './model-iommufd-pt.js';
import { fv, objectDivergence, rd32, rd64, readableBytes } from './model-iommufd-util.js';

export { iommufdArgOf, vfioIoasCall, type IommufdPre, type VfioIoasEffect } from './model-iommufd-args.js';

type MObj =
  | MIoas
  | { type: 'device'; cdev: File }
  | MHwpt
  /** `file`: the fault fd's file while it is open, null once it is closed */
  | { type: 'fault'; file: File | null };

export interface MCtx {
  file: File;
  objs: Map<number, MObj>;
  fdOpen: boolean;
  /** ictx->vfio_ioas: the IOAS id IOMMU_VFIO_IOAS SET made the compat IOAS (null: none) */
  vfioIoas: number | null;
}

interface MCdev {
  ctx: MCtx | null;
  devId: number;
  hwpt: number | null;
}

/** an open fault fd's file: the context it holds (null: one the model does not follow, a compat container's) and its object id */
interface MFault {
  ctxFile: File;
  ctx: MCtx | null;
  id: number;
}

/** sizeof(struct iommu_hwpt_pgfault) and sizeof(struct iommu_hwpt_page_response) (include/uapi/linux/iommufd.h) */
const PGFAULT_SIZE = 40;
const RESPONSE_SIZE = 8;
/** the fault fd's read/write counts the model judges; larger ones meet the VFS's checks first (vfs_read/vfs_write: access_ok, MAX_RW_COUNT) */
const RW_CHECKED_MAX = 0x10000;

const U64_MAX = 2n ** 64n - 1n;
/** the requests that change the model's state */
const STATEFUL = new Set<number>([I.IOMMU_VFIO_IOAS, I.IOMMU_IOAS_ALLOC, I.IOMMU_DESTROY, I.IOMMU_IOAS_MAP, I.IOMMU_IOAS_COPY, I.IOMMU_IOAS_UNMAP, I.IOMMU_HWPT_ALLOC, I.IOMMU_FAULT_QUEUE_ALLOC, C.VFIO_DEVICE_BIND_IOMMUFD, C.VFIO_DEVICE_ATTACH_IOMMUFD_PT]);
const ULONG_MAX = 0xffffffffn;

export class IommufdModel {
  private readonly ctxs = new Map<File, MCtx>();
  private readonly cdevs = new Map<File, MCdev>();
  /** the open fault fds' files */
  private readonly faults = new Map<File, MFault>();
  /** how many of `faults` hold a context the model does not follow */
  private foreignFaults = 0;
  private pending: string | null = null;
  lost = false;

  constructor(private readonly svc: IommufdService | null) {}

  private expect(cond: boolean, msg: string): void {
    if (!cond && this.pending === null) this.pending = msg;
  }

  private lowestFree(c: MCtx): number {
    let id = 1;
    while (c.objs.has(id)) id++;
    return id;
  }

  opened(p: Process, path: string, r: number): void {
    if (r < 0) return;
    const f = p.fdget(r);
    if (!f) return;
    if (f.ops.name === 'iommufd' && path === '/dev/iommu') this.ctxs.set(f, { file: f, objs: new Map(), fdOpen: true, vfioIoas: null });
    else if (f.ops.name === 'vfio-device' && path.startsWith('/dev/vfio/devices/')) this.cdevs.set(f, { ctx: null, devId: 0, hwpt: null });
  }

  /** before close(fd): the file it names (the close may drop the last reference) */
  fileOf(p: Process, fd: number): File | null {
    return p.fdget(fd) ?? null;
  }

  /** the last fd of a file is gone (close or exit; the model does not follow dup/fork) */
  closedFile(f: File | null): void {
    if (!f) return;
    const q = this.faults.get(f);
    if (q) {
      // iommufd_fault_fops_release: the object's and the context's references go
      this.faults.delete(f);
      if (q.ctx === null) this.foreignFaults--;
      else {
        const o = q.ctx.objs.get(q.id);
        if (o?.type === 'fault') o.file = null;
        this.maybeFree(q.ctx);
      }
      return;
    }
    const c = this.ctxs.get(f);
    if (c) {
      c.fdOpen = false;
      this.maybeFree(c);
    }
    const d = this.cdevs.get(f);
    if (d) {
      // vfio_df_unbind_iommufd: detach, unbind, drop the context reference
      this.detach(d);
      if (d.ctx) {
        d.ctx.objs.delete(d.devId);
        const ctx = d.ctx;
        d.ctx = null;
        this.maybeFree(ctx);
      }
      this.cdevs.delete(f);
    }
  }

  private maybeFree(c: MCtx): void {
    if (c.fdOpen) return;
    for (const d of this.cdevs.values()) if (d.ctx === c) return;
    for (const q of this.faults.values()) if (q.ctx === c) return;
    this.ctxs.delete(c.file);
  }

  private detach(d: MCdev): void {
    if (d.hwpt === null || !d.ctx) return;
    const h = d.ctx.objs.get(d.hwpt);
    const id = d.hwpt;
    d.hwpt = null;
    if (h?.type === 'hwpt-paging' && h.auto && ![...this.cdevs.values()].some((x) => x.ctx === d.ctx && x.hwpt === id)) d.ctx.objs.delete(id);
  }

  /** state changed behind the model's back (raw syscalls, sysfs rebinding) */
  lose(): void {
    this.lost = true;
  }

  /** `addr`: the argument as passed (the struct's address), whose size rules are judged on the iommufd files (sizeRuleErr) */
  pre(p: Process, file: File | null, req: number, arg: IoctlArg, val: (v: Value) => bigint, addr?: number): IommufdPre | null {
    if (!file) return null;
    // a fault queue on an iommufd the model does not follow (the compat container's context)
    const foreign = req === I.IOMMU_FAULT_QUEUE_ALLOC && file.ops.name === 'iommufd' && !this.ctxs.has(file);
    if (!foreign && !this.ctxs.has(file) && !this.cdevs.has(file)) return null;
    const pre: IommufdPre = iommufdArgOf(arg, val, addr !== undefined && file.ops.name === 'iommufd' ? p : null, addr ?? 0, req);
    if (req === C.VFIO_DEVICE_BIND_IOMMUFD && pre.fields['iommufd'] !== undefined) pre.bindFile = p.fdget(Number(BigInt.asIntN(32, pre.fields['iommufd']))) ?? null;
    if (req === I.IOMMU_FAULT_QUEUE_ALLOC) {
      // a new fd takes the lowest number free (get_unused_fd_flags)
      let fd = 0;
      while (p.fdget(fd) !== null) fd++;
      pre.freeFd = fd;
      if (foreign) pre.foreign = true;
    }
    return pre;
  }

  post(p: Process, file: File | null, req: number, r: number, pre: IommufdPre | null, scratch: number, arg: IoctlArg): void {
    if (!file) return;
    if (this.faults.has(file)) {
      // iommufd_fault_fops has no unlocked_ioctl: vfs_ioctl answers -ENOTTY (the VFS's own FIO* requests are another type)
      if (((req >>> 8) & 0xff) === 0x3b) this.expect(r === -ENOTTY, `ioctl 0x${(req >>> 0).toString(16)} on a fault fd returned ${r}, not -ENOTTY`);
      return;
    }
    if (!pre) return;
    // iommufd_fops_ioctl's size rules answered before any handler (nothing changes)
    if (typeof pre.sizeErr === 'number') return void (r !== pre.sizeErr && this.expect(false, `${reqName(req)} with size ${pre.fields['argsz'] ?? '?'} (${arg.t === 'struct' ? arg.ptr : 'int'} pointer) returned ${r}, the size rules answer ${pre.sizeErr}`));
    // (no closure over the parameters or `ctx`: V8 would allocate post's context on every call)
    // a success the model cannot follow (the struct was not where it reads it): stop comparing
    if (r >= 0 && !pre.ok && STATEFUL.has(req)) {
      this.lost = true;
      return;
    }
    if (pre.foreign) {
      // only the fault fd is followed: it holds a context the container part of the model follows
      if (r === 0 && pre.ok) this.faultOpened(p, null, file, rd32(p, scratch, 8), rd32(p, scratch, 12), pre.freeFd!);
      return;
    }
    const ctx = this.ctxs.get(file);
    if (ctx) {
      switch (req) {
        case I.IOMMU_IOAS_ALLOC:
          if (!pre.ok) break;
          if (!pre.exact) {
            /* a longer struct: -E2BIG unless its tail is zero */
          } else if (fv(pre, 'flags') !== 0n) this.expect(r === -EOPNOTSUPP, `IOAS_ALLOC with flags 0x${fv(pre, 'flags').toString(16)} returned ${r}, not -EOPNOTSUPP`);
          else this.expect(r === 0, `IOAS_ALLOC returned ${r}`);
          if (r === 0) {
            const id = rd32(p, scratch, 8);
            const want = this.lowestFree(ctx);
            this.expect(id === want, `IOAS_ALLOC gave id ${id}, the lowest free id is ${want}`);
            ctx.objs.set(id, { type: 'ioas', areas: [], unsure: false });
          }
          break;
        case I.IOMMU_DESTROY: {
          if (!pre.ok) break;
          const id = fv(pre, 'id');
          const o = id < 2n ** 31n ? ctx.objs.get(Number(id)) : undefined;
          if (!pre.exact) {
            /* E2BIG possible first */
          } else if (!o) this.expect(r === -ENOENT, `DESTROY(${id}) of an id the context does not have returned ${r}, not -ENOENT`);
          else if (o.type === 'device') this.expect(r < 0, `DESTROY(${id}) destroyed a bound device`);
          else if (o.type === 'fault') {
            // the open fault fd holds the object; closed, nothing does
            if (o.file !== null) this.expect(r === -EBUSY, `DESTROY(${id}) of a fault object whose fd is open returned ${r}, not -EBUSY`);
            else this.expect(r === 0, `DESTROY(${id}) of a fault object whose fd is closed returned ${r}`);
          }
          else if (o.type === 'ioas') {
            const used = [...ctx.objs.values()].some((x) => x.type === 'hwpt-paging' && x.ioas === Number(id));
            if (used) this.expect(r === -EBUSY, `DESTROY(${id}) of an IOAS with a HWPT returned ${r}, not -EBUSY`);
          } else if (this.hwptAttached(ctx, Number(id))) this.expect(r === -EBUSY, `DESTROY(${id}) of a HWPT with a device attached returned ${r}, not -EBUSY`);
          // an IOMMU_HWPT_ALLOC'd HWPT no device uses: nothing else holds it (iommufd_object_remove, iommufd_hwpt_paging_destroy)
          else if (o.type === 'hwpt-paging' && !o.auto) this.expect(r === 0, `DESTROY(${id}) of a HWPT no device is attached to returned ${r}`);
          if (r === 0 && o) {
            ctx.objs.delete(Number(id));
            // iommufd_object_remove: the destroyed object stops being the compat IOAS
            if (ctx.vfioIoas === Number(id)) ctx.vfioIoas = null;
          }
          break;
        }
        case I.IOMMU_IOAS_MAP: {
          if (!pre.ok) break;
          const flags = fv(pre, 'flags');
          const iova = fv(pre, 'iova');
          const len = fv(pre, 'length');
          const valid = (flags & ~7n) === 0n && fv(pre, 'reserved') === 0n && iova < ULONG_MAX && len < ULONG_MAX && (flags & 6n) !== 0n;
          const io = ioasIn(ctx, fv(pre, 'ioas_id'));
          if (pre.exact && valid && !io) this.expect(r === -ENOENT, `IOAS_MAP on id ${fv(pre, 'ioas_id')}, not an IOAS, returned ${r}, not -ENOENT`);
          // an IOMMU_HWPT_ALLOC'd HWPT on it with no page table yet: filling it fails (arm_smmu_map_pages -ENODEV)
          if (valid && io && this.hwptsOf(ctx, idOf(fv(pre, 'ioas_id'))).some((h) => !h.ready)) this.expect(r !== 0, `IOAS_MAP into IOAS ${fv(pre, 'ioas_id')} succeeded though a HWPT on it has no page table (no device attached yet)`);
          if (r === 0) this.addArea(ctx, io, (flags & 1n) !== 0n ? iova : null, rd64(p, scratch, 32), len, 'IOAS_MAP', [{ len: Number(len), va: Number(fv(pre, 'user_va') & ULONG_MAX), writable: (flags & 2n) !== 0n }]);
          break;
        }
        case I.IOMMU_IOAS_COPY: {
          if (!pre.ok) break;
          const c = this.copyWantOf(ctx, pre);
          if (pre.exact && c.want !== null) this.judge(c.want, r, `IOAS_COPY of ${fv(pre, 'src_ioas_id')}:0x${fv(pre, 'src_iova').toString(16)}+0x${fv(pre, 'length').toString(16)} to ${fv(pre, 'dst_ioas_id')}${(fv(pre, 'flags') & 1n) !== 0n ? ` at 0x${fv(pre, 'dst_iova').toString(16)}` : ''} (flags ${fv(pre, 'flags')})`);
          if (r !== 0) break;
          const got = rd64(p, scratch, 24);
          if (c.iova !== null) this.expect(got === BigInt(c.iova), `IOAS_COPY wrote back dst_iova 0x${got.toString(16)}, the model's ${(fv(pre, 'flags') & 1n) !== 0n ? 'FIXED_IOVA' : 'first fitting hole (iopt_alloc_iova)'} is 0x${c.iova.toString(16)}`);
          this.addArea(ctx, ioasIn(ctx, fv(pre, 'dst_ioas_id')), null, got, fv(pre, 'length'), 'IOAS_COPY', c.slices);
          break;
        }
        case I.IOMMU_IOAS_ALLOW_IOVAS:
        case I.IOMMU_OPTION:
          // the allowed ranges or large pages of an IOAS changed (not followed): its map stage is no longer predicted
          // (IOMMU_OPTION_HUGE_PAGES SET on an IOAS; read as written or not: then any IOAS)
          if (r !== 0) break;
          if (!pre.ok) this.unsure(ctx, null);
          else if (req === I.IOMMU_IOAS_ALLOW_IOVAS) this.unsure(ctx, fv(pre, 'ioas_id'));
          else if (fv(pre, 'option_id') === 1n && (fv(pre, 'op') & 0xffffn) === 1n) this.unsure(ctx, fv(pre, 'object_id'));
          break;
        case I.IOMMU_IOAS_UNMAP: {
          if (!pre.ok || (!pre.exact && r < 0)) break;
          const ioas = ioasIn(ctx, fv(pre, 'ioas_id'));
          if (!ioas) {
            this.expect(r === -ENOENT, `IOAS_UNMAP on id ${fv(pre, 'ioas_id')}, not an IOAS, returned ${r}, not -ENOENT`);
            break;
          }
          const iova = fv(pre, 'iova');
          const len = fv(pre, 'length');
          const all = iova === 0n && len === U64_MAX;
          if (!all && (len === 0n || iova >= ULONG_MAX || len >= ULONG_MAX || iova + len - 1n > ULONG_MAX)) {
            this.expect(r < 0, `IOAS_UNMAP of 0x${iova.toString(16)}+0x${len.toString(16)} succeeded`);
            break;
          }
          const start = all ? 0 : Number(iova);
          const last = all ? Number(ULONG_MAX) : Number(iova + len - 1n);
          let removed = 0;
          let cut = false;
          const keep: typeof ioas.areas = [];
          for (const a of ioas.areas) {
            if (cut || a.last < start || a.iova > last) keep.push(a);
            else if (a.iova < start || a.last > last) {
              cut = true;
              keep.push(a);
            } else removed += a.last - a.iova + 1;
          }
          ioas.areas = keep;
          const ok = !cut && (removed > 0 || all);
          this.expect(ok ? r === 0 : r === -ENOENT, `IOAS_UNMAP of 0x${start.toString(16)}..0x${last.toString(16)} returned ${r}, the model ${ok ? `removes 0x${removed.toString(16)} bytes` : cut ? 'stops at an area the range cuts (-ENOENT)' : 'has nothing there (-ENOENT)'}`);
          if (r === 0) {
            const got = rd64(p, scratch, 16);
            this.expect(got === BigInt(removed), `IOAS_UNMAP wrote back length 0x${got.toString(16)}, the model removed 0x${removed.toString(16)}`);
          }
          break;
        }
        case I.IOMMU_VFIO_IOAS: {
          this.vfioIoasOf(p, ctx, pre, r, scratch);
          break;
        }
        case VFIO_IOMMU_MAP_DMA:
          // the VFIO container ioctls answer on every iommufd fd (iommufd_vfio_ioctl), on the
          // compat IOAS; a MAP_DMA adds an area at the fixed IOVA (the low 32 bits of the u64
          // iova and size: unsigned long), read from the struct as written
          if (r !== 0) break;
          if (arg.t !== 'struct' || arg.ptr !== 'ok' || arg.type !== 'vfio_iommu_type1_dma_map' || fv(pre, 'argsz') < 32n) {
            this.lost = true;
            break;
          }
          this.addArea(ctx, ctx.vfioIoas === null ? null : ioasIn(ctx, BigInt(ctx.vfioIoas)), null, fv(pre, 'iova') & ULONG_MAX, fv(pre, 'size') & ULONG_MAX, 'MAP_DMA on /dev/iommu', [{ len: Number(fv(pre, 'size') & ULONG_MAX), va: Number(fv(pre, 'vaddr') & ULONG_MAX), writable: (fv(pre, 'flags') & 2n) !== 0n }]);
          break;
        case VFIO_IOMMU_UNMAP_DMA:
          // (the cuts TYPE1's SET_IOMMU allows are not followed here: the container part of the model predicts them on the compat container)
          if (r === 0) this.lost = true;
          break;
        case I.IOMMU_FAULT_QUEUE_ALLOC:
          if (!pre.ok) break;
          if (!pre.exact) {
            /* a longer struct: -E2BIG unless its tail is zero */
          } else if (fv(pre, 'flags') !== 0n) this.expect(r === -EOPNOTSUPP, `FAULT_QUEUE_ALLOC with flags 0x${fv(pre, 'flags').toString(16)} returned ${r}, not -EOPNOTSUPP`);
          else this.expect(r === 0, `FAULT_QUEUE_ALLOC returned ${r}`);
          if (r === 0) this.faultOpened(p, ctx, file, rd32(p, scratch, 8), rd32(p, scratch, 12), pre.freeFd!);
          break;
        default: { // HWPT_SET_DIRTY_TRACKING, GET_DIRTY_BITMAP, INVALIDATE: one errno each (model-iommufd-hwpt-ops.ts); null for the others
          const wrong = pre.exact ? this.hwptOpOf(req, ctx, pre, r) : null;
          if (wrong !== null) this.expect(false, wrong);
          break;
        }
        case I.IOMMU_HWPT_ALLOC:
          // an HWPT with a fault queue (IOMMU_HWPT_FAULT_ID_VALID) could deliver faults to it: not followed
          if (r === 0 && (fv(pre, 'flags') & BigInt(IOMMU_HWPT_FAULT_ID_VALID)) !== 0n) this.lost = true;
          if (pre.exact) {
            const w = this.hwptAllocWantOf(ctx, pre);
            if (w !== null) this.judge(w, r, `HWPT_ALLOC(dev ${fv(pre, 'dev_id')}, pt ${fv(pre, 'pt_id')}, flags ${fv(pre, 'flags')})`);
          }
          if (r === 0 && pre.ok) {
            const id = rd32(p, scratch, 16);
            const want = this.lowestFree(ctx);
            this.expect(id === want, `HWPT_ALLOC gave id ${id}, the lowest free id is ${want}`);
            const io = Number(fv(pre, 'pt_id'));
            this.expect(ioasIn(ctx, fv(pre, 'pt_id')) !== null, `HWPT_ALLOC succeeded on pt_id ${io}, not an IOAS of the context`);
            // no device attached: the arm-smmu domain has no page table until one is
            ctx.objs.set(id, { type: 'hwpt-paging', ioas: io, auto: false, ready: false });
          }
          break;
      }
      void arg;
      return;
    }
    const d = this.cdevs.get(file);
    if (!d) return;
    switch (req) {
      case C.VFIO_DEVICE_BIND_IOMMUFD: {
        if (d.ctx) this.expect(r < 0, 'BIND_IOMMUFD succeeded on a cdev that is already bound');
        const target = pre.bindFile ? this.ctxs.get(pre.bindFile) : undefined;
        if (r === 0 && pre.ok) {
          if (!target) {
            // a compat container (/dev/vfio/vfio is an iommufd there) is one the model does not follow
            if (pre.bindFile?.ops.name !== 'iommufd') this.expect(false, 'BIND_IOMMUFD succeeded with an fd that is not an iommufd the model knows');
            this.lost = true;
            break;
          }
          const id = rd32(p, scratch, 12);
          const want = this.lowestFree(target);
          this.expect(id === want, `BIND_IOMMUFD gave out_devid ${id}, the lowest free id is ${want}`);
          target.objs.set(id, { type: 'device', cdev: file });
          d.ctx = target;
          d.devId = id;
        } else if (r === 0) this.lost = true;
        break;
      }
      case C.VFIO_DEVICE_ATTACH_IOMMUFD_PT: {
        if (!d.ctx) {
          this.expect(r < 0, 'ATTACH_IOMMUFD_PT succeeded on an unbound cdev');
          break;
        }
        if (r !== 0) break;
        const ctx2 = d.ctx;
        const pt = Number(fv(pre, 'pt_id'));
        const o = ctx2.objs.get(pt);
        const got = rd32(p, scratch, 8);
        const prev = d.hwpt;
        if (o?.type === 'hwpt-paging') {
          this.expect(got === pt, `ATTACH_IOMMUFD_PT(${pt}) to a HWPT reported ${got}`);
          // the attach finalises the domain (arm_smmu_attach_dev -> arm_smmu_init_domain_context: its page table)
          o.ready = true;
        }
        else if (o?.type === 'ioas') {
          const g = ctx2.objs.get(got);
          if (g === undefined) {
            const want = this.lowestFree(ctx2);
            this.expect(got === want, `ATTACH_IOMMUFD_PT(IOAS ${pt}) created HWPT ${got}, the lowest free id is ${want}`);
            ctx2.objs.set(got, { type: 'hwpt-paging', ioas: pt, auto: true, ready: true });
          } else this.expect(g.type === 'hwpt-paging' && g.ioas === pt, `ATTACH_IOMMUFD_PT(IOAS ${pt}) reported ${got}, not a HWPT of that IOAS`);
        } else this.expect(false, `ATTACH_IOMMUFD_PT(${pt}) succeeded on an id that is neither an IOAS nor a HWPT`);
        if (prev !== null && prev !== got) this.detach(d);
        d.hwpt = got;
        break;
      }
      case C.VFIO_DEVICE_DETACH_IOMMUFD_PT:
        if (r === 0) this.detach(d);
        break;
    }
  }

  /** whether a device of the context is attached to HWPT `id` */
  private hwptAttached(ctx: MCtx, id: number): boolean {
    for (const d of this.cdevs.values()) if (d.ctx === ctx && d.hwpt === id) return true;
    return false;
  }

  // post's rules that take closures: made here, per call of these requests only
  private copyWantOf(ctx: MCtx, pre: IommufdPre): ReturnType<typeof copyWant> {
    return copyWant((k) => fv(pre, k), (id) => this.viewOf(ctx, id));
  }

  private hwptAllocWantOf(ctx: MCtx, pre: IommufdPre): Want | null {
    return hwptAllocWant((k) => fv(pre, k), (id) => ctx.objs.get(id), (id) => this.viewOf(ctx, id));
  }

  private hwptOpOf(req: number, ctx: MCtx, pre: IommufdPre, r: number): string | null {
    return hwptOpJudge(req, (k) => fv(pre, k), ctx.objs, r);
  }

  private vfioIoasOf(p: Process, ctx: MCtx, pre: IommufdPre, r: number, scratch: number): void {
    const e = vfioIoasCall((c, m) => this.expect(c, m), ctx.vfioIoas, pre, r, (off) => rd32(p, scratch, off), (id) => ioasIn(ctx, id) !== null);
    if (e?.op === 'set') ctx.vfioIoas = e.id;
    else if (e?.op === 'clear') ctx.vfioIoas = null;
  }

  /** FAULT_QUEUE_ALLOC succeeded: the object (ctx null: a context the model does not follow) and its fd */
  private faultOpened(p: Process, ctx: MCtx | null, ctxFile: File, id: number, fd: number, freeFd: number): void {
    this.expect(fd === freeFd, `FAULT_QUEUE_ALLOC answered fd ${fd}, the lowest free fd is ${freeFd}`);
    const f = fd >= 0 ? p.fdget(fd) : null;
    if (f === null || f.ops.name !== 'iommufd-pgfault' || this.faults.has(f)) {
      this.expect(false, `FAULT_QUEUE_ALLOC answered fd ${fd}, which is ${f === null ? 'not open' : this.faults.has(f) ? 'an older fault fd' : `a ${f.ops.name} file`}, not a new fault queue`);
      this.lost = true;
      return;
    }
    if (ctx !== null) {
      const want = this.lowestFree(ctx);
      this.expect(id === want, `FAULT_QUEUE_ALLOC gave id ${id}, the lowest free id is ${want}`);
      ctx.objs.set(id, { type: 'fault', file: f });
    } else this.foreignFaults++;
    this.faults.set(f, { ctxFile, ctx, id });
  }

  /**
   * read/write/pread/pwrite (`op`) of `count` bytes at user address `buf` on an open file
   * returned `r`: judged for the fault fds (the module comment's rules)
   */
  faultRw(p: Process, file: File | null, op: 'read' | 'write' | 'pread' | 'pwrite', buf: number, count: number, r: number, negPos = false): void {
    if (file === null || !this.faults.has(file) || count > RW_CHECKED_MAX) return;
    if (op === 'pread' || op === 'pwrite') {
      const want = negPos ? -EINVAL : -ESPIPE;
      this.expect(r === want, `${op} of a fault fd${negPos ? ' at a negative position' : ''} returned ${r}, not ${negPos ? '-EINVAL' : '-ESPIPE'}`);
      return;
    }
    if (op === 'read') {
      const want = count % PGFAULT_SIZE === 0 ? 0 : -ESPIPE;
      this.expect(r === want, `read of ${count} bytes from a fault fd (nothing queued) returned ${r}, not ${want}`);
      return;
    }
    if (count % RESPONSE_SIZE !== 0) this.expect(r === -ESPIPE, `write of ${count} bytes to a fault fd returned ${r}, not -ESPIPE`);
    else if (count === 0) this.expect(r === 0, `write of 0 bytes to a fault fd returned ${r}`);
    else {
      // the first response: read whole (-EINVAL: no cookie was handed out), or the bytes left uncopied
      const ok = readableBytes(p, buf, RESPONSE_SIZE);
      if (ok === RESPONSE_SIZE) this.expect(r === -EINVAL, `write of a readable response to a fault fd returned ${r}, not -EINVAL (no fault was delivered)`);
      else this.expect(r >= RESPONSE_SIZE - ok && r <= RESPONSE_SIZE, `write of a response with ${ok} readable bytes to a fault fd returned ${r}, not the ${RESPONSE_SIZE - ok}..${RESPONSE_SIZE} bytes copy_from_user left`);
    }
  }

  /** poll() returned: the revents (int16 at 8 * i + 6 of `scratch`) of each fault fd among `fds` */
  polled(p: Process, fds: readonly number[], events: number, scratch: number): void {
    if (this.faults.size === 0) return;
    for (let i = 0; i < fds.length; i++) {
      const f = p.fdget(fds[i]!);
      if (f === null || !this.faults.has(f)) continue;
      const b = new Uint8Array(2);
      if (p.mm.copyFromUser(b, 0, scratch + 8 * i + 6, 2) < 0) return;
      const got = b[0]! | (b[1]! << 8);
      const want = events & POLLOUT;
      this.expect(got === want, `poll of a fault fd (events 0x${events.toString(16)}) reported revents 0x${got.toString(16)}, not 0x${want.toString(16)} (POLLOUT only: nothing is queued)`);
    }
  }

  /**
   * a successful IOAS_MAP / IOAS_COPY / MAP_DMA: one area per slice of the source (an IOAS_COPY over
   * several areas makes one per area, iopt_alloc_area_pages), from `got` on
   */
  private addArea(ctx: MCtx, ioas: MIoas | null, fixed: bigint | null, got: bigint, len: bigint, what: string, slices: readonly { len: number; va: number; writable: boolean }[]): void {
    if (!ioas) {
      this.expect(false, `${what} succeeded on an id that is not an IOAS`);
      this.lost = true;
      return;
    }
    if (fixed !== null) this.expect(got === fixed, `${what} with FIXED_IOVA 0x${fixed.toString(16)} reported iova 0x${got.toString(16)}`);
    const iova = Number(got);
    const last = iova + Number(len) - 1;
    this.expect(!ioas.areas.some((a) => a.iova <= last && iova <= a.last), `${what} succeeded at 0x${iova.toString(16)}..0x${last.toString(16)}, over an existing area`);
    let at = iova;
    for (const sl of slices) {
      const area: MArea = { iova: at, last: at + sl.len - 1, va: sl.va, writable: sl.writable };
      let i = 0;
      while (i < ioas.areas.length && ioas.areas[i]!.iova < at) i++;
      ioas.areas.splice(i, 0, area);
      at += sl.len;
    }
    void ctx;
  }

  /** the HWPTs on IOAS `id` */
  private hwptsOf(ctx: MCtx, id: number): MHwpt[] {
    const out: MHwpt[] = [];
    for (const o of ctx.objs.values()) if (o.type === 'hwpt-paging' && o.ioas === id) out.push(o);
    return out;
  }

  /** what model-iommufd-pt.ts's rules read of IOAS `id` (null: not an IOAS of the context) */
  private viewOf(ctx: MCtx, id: number): IoasView | null {
    const o = ctx.objs.get(id);
    if (o?.type !== 'ioas') return null;
    const hwpts = this.hwptsOf(ctx, id);
    let attached = false;
    for (const d of this.cdevs.values()) {
      if (d.ctx !== ctx || d.hwpt === null) continue;
      const h = ctx.objs.get(d.hwpt);
      if (h?.type === 'hwpt-paging' && h.ioas === id) attached = true;
    }
    return { ioas: o, hwpts, attached };
  }

  /** a predicted outcome against the result */
  private judge(w: Want, r: number, what: string): void {
    if ('ok' in w) this.expect(r === 0, `${what} returned ${r}, the model predicts success`);
    else this.expect(w.errs.includes(r), `${what} returned ${r}, the model predicts ${w.errs.join(' or ')}`);
  }

  /** IOAS `id` (null: whichever, every IOAS of the context) may do what the model no longer predicts */
  private unsure(ctx: MCtx, id: bigint | null): void {
    for (const [k, o] of ctx.objs) if (o.type === 'ioas' && (id === null || idOf(id) === k)) o.unsure = true;
  }

  /**
   * compare with the live contexts; a message on divergence. `compat`: the live contexts that
   * are compat containers (/dev/vfio/vfio with CONFIG_IOMMUFD_VFIO_CONTAINER), which the
   * container part of the reference model follows (RefModel.compatContexts); `containers`: that
   * part of the model, asked whether the compat container of a context a fault fd holds is
   * still alive there (if not, the context counts here: only fault fds hold it)
   */
  compare(compat = 0, containers: { compatAlive(f: File): boolean } | null = null): string | null {
    const pend = this.pending;
    this.pending = null;
    if (this.lost || !this.svc) return null;
    if (pend) return pend;
    // compat containers the container part of the model has let go, whose contexts fault fds still hold
    let held = 0;
    if (this.foreignFaults > 0) {
      const seen = new Set<File>();
      for (const q of this.faults.values()) {
        if (q.ctx !== null || seen.has(q.ctxFile)) continue;
        seen.add(q.ctxFile);
        if (containers === null || !containers.compatAlive(q.ctxFile)) held++;
      }
    }
    if (this.svc.contexts.size !== this.ctxs.size + compat + held) return `${this.svc.contexts.size} live iommufd contexts, the model has ${this.ctxs.size}${compat ? ` and ${compat} compat container(s)` : ''}${held ? ` and ${held} context(s) only fault fds hold` : ''}`;
    // (no Map iterator when there is no context: this runs after every call)
    if (this.ctxs.size > 0) for (const [f, mc] of this.ctxs) {
      const real = f.priv as IommufdCtx;
      if (!this.svc.contexts.has(real)) return `the model's iommufd context of ${f.path} is not alive`;
      // the same ids (as sets: both are keyed by id), checked without sorting or joining them
      // (this runs after every call; the lists are built only for the message)
      let sameIds = real.objects.size === mc.objs.size;
      if (sameIds) for (const id of real.objects.keys()) if (!mc.objs.has(id)) sameIds = false;
      if (!sameIds) {
        const ids = real.ids();
        const mids = [...mc.objs.keys()].sort((a, b) => a - b);
        return `iommufd objects [${ids.map((i) => `${i}:${real.objects.get(i)!.type}`)}], the model has [${mids.map((i) => `${i}:${mc.objs.get(i)!.type}`)}]`;
      }
      const vfio = real.vfioIoas === null ? null : real.vfioIoas.id;
      if (vfio !== mc.vfioIoas) return `iommufd context of ${f.path}: compat IOAS ${vfio ?? 'none'}, the model has ${mc.vfioIoas ?? 'none'}`;
      // any divergence (in the Map's order, no sort); if there is one, the lowest id's is reported, as xa_for_each meets it
      if (objectDivergence(real, mc, real.objects.keys()) !== null) return objectDivergence(real, mc, real.ids());
    }
    return null;
  }
}

/** the IOAS object `id` names in the context (null: none) */
function ioasIn(ctx: MCtx, id: bigint): MIoas | null {
  const o = id < 2n ** 31n ? ctx.objs.get(Number(id)) : undefined;
  return o?.type === 'ioas' ? o : null;
}
