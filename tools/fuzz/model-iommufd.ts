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
 * - a context lives while its fd or a bound device holds it; then all its objects go.
 * After every call the model is compared with the live contexts (ids, types, IOAS areas).
 */
import type { Process } from '../../kernel-model/process/process.js';
import type { IommufdCtx, IommufdService, Ioas, HwptPaging } from '../../kernel-model/iommu/iommufd/index.js';
import type { File } from '../../kernel-model/vfs/file.js';
import { EBUSY, ENOENT, EOPNOTSUPP } from '../../kernel-model/base/errno.js';
import type { IoctlArg, Value } from './program.js';
import { CDEV_REQS as C, IOMMUFD_REQS as I, IOMMUFD_STRUCTS } from './program-iommufd.js';

type MObj = { type: 'ioas'; areas: { iova: number; last: number }[] } | { type: 'device'; cdev: File } | { type: 'hwpt-paging'; ioas: number; auto: boolean };

interface MCtx {
  file: File;
  objs: Map<number, MObj>;
  fdOpen: boolean;
}

interface MCdev {
  ctx: MCtx | null;
  devId: number;
  hwpt: number | null;
}

const U64_MAX = 2n ** 64n - 1n;
/** the requests that change the model's state */
const STATEFUL = new Set<number>([I.IOMMU_IOAS_ALLOC, I.IOMMU_DESTROY, I.IOMMU_IOAS_MAP, I.IOMMU_IOAS_COPY, I.IOMMU_IOAS_UNMAP, I.IOMMU_HWPT_ALLOC, C.VFIO_DEVICE_BIND_IOMMUFD, C.VFIO_DEVICE_ATTACH_IOMMUFD_PT]);
const ULONG_MAX = 0xffffffffn;

export interface IommufdPre {
  fields: Record<string, bigint>;
  /** the argument is a struct within the size rules (min_size..sizeof, pointer ok): errors are predicted */
  exact: boolean;
  /** the struct is read as written (pointer ok, size >= min_size; a longer one had a zero tail if the call succeeded): successes are followed */
  ok: boolean;
  /** for BIND: the iommufd file the fd field names */
  bindFile?: File | null;
}

export class IommufdModel {
  private readonly ctxs = new Map<File, MCtx>();
  private readonly cdevs = new Map<File, MCdev>();
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
    if (f.ops.name === 'iommufd' && path === '/dev/iommu') this.ctxs.set(f, { file: f, objs: new Map(), fdOpen: true });
    else if (f.ops.name === 'vfio-device' && path.startsWith('/dev/vfio/devices/')) this.cdevs.set(f, { ctx: null, devId: 0, hwpt: null });
  }

  /** before close(fd): the file it names (the close may drop the last reference) */
  fileOf(p: Process, fd: number): File | null {
    return p.fdget(fd) ?? null;
  }

  /** the last fd of a file is gone (close or exit; the model does not follow dup/fork) */
  closedFile(f: File | null): void {
    if (!f) return;
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

  pre(p: Process, file: File | null, req: number, arg: IoctlArg, val: (v: Value) => bigint): IommufdPre | null {
    if (!file || (!this.ctxs.has(file) && !this.cdevs.has(file))) return null;
    if (arg.t !== 'struct') return { fields: {}, exact: false, ok: false };
    const st = IOMMUFD_STRUCTS[arg.type as keyof typeof IOMMUFD_STRUCTS];
    const fields: Record<string, bigint> = {};
    for (const [k, v] of Object.entries(arg.fields)) fields[k] = val(v);
    const size = Number(fields['argsz'] ?? 0n);
    const end = st ? Math.max(...st.fields.map(([, o, s]) => o + s)) : 0;
    const exact = st !== undefined && arg.ptr === 'ok' && size >= st.minsz && size <= end;
    const ok = st !== undefined && arg.ptr === 'ok' && size >= st.minsz;
    const pre: IommufdPre = { fields, exact, ok };
    if (req === C.VFIO_DEVICE_BIND_IOMMUFD && fields['iommufd'] !== undefined) pre.bindFile = p.fdget(Number(BigInt.asIntN(32, fields['iommufd']))) ?? null;
    return pre;
  }

  post(p: Process, file: File | null, req: number, r: number, pre: IommufdPre | null, scratch: number, arg: IoctlArg): void {
    if (!file || !pre) return;
    const rd32 = (off: number): number => {
      const b = new Uint8Array(4);
      return p.mm.copyFromUser(b, 0, scratch + off, 4) < 0 ? -1 : new DataView(b.buffer).getUint32(0, true);
    };
    const rd64 = (off: number): bigint => {
      const b = new Uint8Array(8);
      return p.mm.copyFromUser(b, 0, scratch + off, 8) < 0 ? -1n : new DataView(b.buffer).getBigUint64(0, true);
    };
    const F = (k: string): bigint => pre.fields[k] ?? 0n;
    // a success the model cannot follow (the struct was not where it reads it): stop comparing
    if (r >= 0 && !pre.ok && STATEFUL.has(req)) {
      this.lost = true;
      return;
    }
    const ctx = this.ctxs.get(file);
    if (ctx) {
      const ioasOf = (id: bigint): Extract<MObj, { type: 'ioas' }> | null => {
        const o = id < 2n ** 31n ? ctx.objs.get(Number(id)) : undefined;
        return o?.type === 'ioas' ? o : null;
      };
      switch (req) {
        case I.IOMMU_IOAS_ALLOC:
          if (!pre.ok) break;
          if (!pre.exact) {
            /* a longer struct: -E2BIG unless its tail is zero */
          } else if (F('flags') !== 0n) this.expect(r === -EOPNOTSUPP, `IOAS_ALLOC with flags 0x${F('flags').toString(16)} returned ${r}, not -EOPNOTSUPP`);
          else this.expect(r === 0, `IOAS_ALLOC returned ${r}`);
          if (r === 0) {
            const id = rd32(8);
            const want = this.lowestFree(ctx);
            this.expect(id === want, `IOAS_ALLOC gave id ${id}, the lowest free id is ${want}`);
            ctx.objs.set(id, { type: 'ioas', areas: [] });
          }
          break;
        case I.IOMMU_DESTROY: {
          if (!pre.ok) break;
          const id = F('id');
          const o = id < 2n ** 31n ? ctx.objs.get(Number(id)) : undefined;
          if (!pre.exact) {
            /* E2BIG possible first */
          } else if (!o) this.expect(r === -ENOENT, `DESTROY(${id}) of an id the context does not have returned ${r}, not -ENOENT`);
          else if (o.type === 'device') this.expect(r < 0, `DESTROY(${id}) destroyed a bound device`);
          else if (o.type === 'ioas') {
            const used = [...ctx.objs.values()].some((x) => x.type === 'hwpt-paging' && x.ioas === Number(id));
            if (used) this.expect(r === -EBUSY, `DESTROY(${id}) of an IOAS with a HWPT returned ${r}, not -EBUSY`);
          } else if ([...this.cdevs.values()].some((d) => d.ctx === ctx && d.hwpt === Number(id))) this.expect(r === -EBUSY, `DESTROY(${id}) of a HWPT with a device attached returned ${r}, not -EBUSY`);
          if (r === 0 && o) ctx.objs.delete(Number(id));
          break;
        }
        case I.IOMMU_IOAS_MAP: {
          if (!pre.ok) break;
          const flags = F('flags');
          const iova = F('iova');
          const len = F('length');
          const valid = (flags & ~7n) === 0n && F('reserved') === 0n && iova < ULONG_MAX && len < ULONG_MAX && (flags & 6n) !== 0n;
          if (pre.exact && valid && !ioasOf(F('ioas_id'))) this.expect(r === -ENOENT, `IOAS_MAP on id ${F('ioas_id')}, not an IOAS, returned ${r}, not -ENOENT`);
          if (r === 0) this.addArea(ctx, ioasOf(F('ioas_id')), (flags & 1n) !== 0n ? iova : null, rd64(32), len, 'IOAS_MAP');
          break;
        }
        case I.IOMMU_IOAS_COPY:
          if (pre.ok && r === 0) this.addArea(ctx, ioasOf(F('dst_ioas_id')), (F('flags') & 1n) !== 0n ? F('dst_iova') : null, rd64(24), F('length'), 'IOAS_COPY');
          break;
        case I.IOMMU_IOAS_UNMAP: {
          if (!pre.ok || (!pre.exact && r < 0)) break;
          const ioas = ioasOf(F('ioas_id'));
          if (!ioas) {
            this.expect(r === -ENOENT, `IOAS_UNMAP on id ${F('ioas_id')}, not an IOAS, returned ${r}, not -ENOENT`);
            break;
          }
          const iova = F('iova');
          const len = F('length');
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
            const got = rd64(16);
            this.expect(got === BigInt(removed), `IOAS_UNMAP wrote back length 0x${got.toString(16)}, the model removed 0x${removed.toString(16)}`);
          }
          break;
        }
        case I.IOMMU_HWPT_ALLOC:
          if (r === 0 && pre.ok) {
            const id = rd32(16);
            const want = this.lowestFree(ctx);
            this.expect(id === want, `HWPT_ALLOC gave id ${id}, the lowest free id is ${want}`);
            const io = Number(F('pt_id'));
            this.expect(ioasOf(F('pt_id')) !== null, `HWPT_ALLOC succeeded on pt_id ${io}, not an IOAS of the context`);
            ctx.objs.set(id, { type: 'hwpt-paging', ioas: io, auto: false });
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
          const id = rd32(12);
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
        const pt = Number(F('pt_id'));
        const o = ctx2.objs.get(pt);
        const got = rd32(8);
        const prev = d.hwpt;
        if (o?.type === 'hwpt-paging') this.expect(got === pt, `ATTACH_IOMMUFD_PT(${pt}) to a HWPT reported ${got}`);
        else if (o?.type === 'ioas') {
          const g = ctx2.objs.get(got);
          if (g === undefined) {
            const want = this.lowestFree(ctx2);
            this.expect(got === want, `ATTACH_IOMMUFD_PT(IOAS ${pt}) created HWPT ${got}, the lowest free id is ${want}`);
            ctx2.objs.set(got, { type: 'hwpt-paging', ioas: pt, auto: true });
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

  private addArea(ctx: MCtx, ioas: Extract<MObj, { type: 'ioas' }> | null, fixed: bigint | null, got: bigint, len: bigint, what: string): void {
    if (!ioas) {
      this.expect(false, `${what} succeeded on an id that is not an IOAS`);
      this.lost = true;
      return;
    }
    if (fixed !== null) this.expect(got === fixed, `${what} with FIXED_IOVA 0x${fixed.toString(16)} reported iova 0x${got.toString(16)}`);
    const iova = Number(got);
    const last = iova + Number(len) - 1;
    this.expect(!ioas.areas.some((a) => a.iova <= last && iova <= a.last), `${what} succeeded at 0x${iova.toString(16)}..0x${last.toString(16)}, over an existing area`);
    let i = 0;
    while (i < ioas.areas.length && ioas.areas[i]!.iova < iova) i++;
    ioas.areas.splice(i, 0, { iova, last });
    void ctx;
  }

  /**
   * compare with the live contexts; a message on divergence. `compat`: the live contexts that
   * are compat containers (/dev/vfio/vfio with CONFIG_IOMMUFD_VFIO_CONTAINER), which the
   * container part of the reference model follows (RefModel.compatContexts)
   */
  compare(compat = 0): string | null {
    const pend = this.pending;
    this.pending = null;
    if (this.lost || !this.svc) return null;
    if (pend) return pend;
    if (this.svc.contexts.size !== this.ctxs.size + compat) return `${this.svc.contexts.size} live iommufd contexts, the model has ${this.ctxs.size}${compat ? ` and ${compat} compat container(s)` : ''}`;
    for (const [f, mc] of this.ctxs) {
      const real = f.priv as IommufdCtx;
      if (!this.svc.contexts.has(real)) return `the model's iommufd context of ${f.path} is not alive`;
      const ids = real.ids();
      const mids = [...mc.objs.keys()].sort((a, b) => a - b);
      if (ids.join() !== mids.join()) return `iommufd objects [${ids.map((i) => `${i}:${real.objects.get(i)!.type}`)}], the model has [${mids.map((i) => `${i}:${mc.objs.get(i)!.type}`)}]`;
      for (const id of ids) {
        const o = real.objects.get(id)!;
        const m = mc.objs.get(id)!;
        if (o.type !== m.type) return `iommufd object ${id} is a ${o.type}, the model has a ${m.type}`;
        if (m.type === 'ioas') {
          const a = (o as Ioas).iopt.areas.map((x) => `${x.iova.toString(16)}-${x.last.toString(16)}`).join(' ');
          const b = m.areas.map((x) => `${x.iova.toString(16)}-${x.last.toString(16)}`).join(' ');
          if (a !== b) return `IOAS ${id}: areas [${a}], the model has [${b}]`;
        }
        if (m.type === 'hwpt-paging' && (o as HwptPaging).ioas !== real.objects.get(m.ioas)) return `HWPT ${id} is on another IOAS than the model's ${m.ioas}`;
      }
    }
    return null;
  }
}
