/**
 * The reference model of the iommufd compat container (model.ts RefModel; the profile's
 * `iommufd` capability 'dev-iommu+vfio-compat'): the container's ioctls and iommufd requests on
 * its fd, its IOASes, and the group ioctls that attach groups to its context.
 */
import { E2BIG, EBADFD, EBUSY, EFAULT, EINVAL, ENODEV, ENOENT, ENOTTY, EOPNOTSUPP, EOVERFLOW } from '../../kernel-model/base/errno.js';
import { VFIO_TYPE1_IOMMU, VFIO_TYPE1v2_IOMMU, VFIO_UNMAP_ALL } from '../../kernel-model/uapi/constants.js';
import type { Process } from '../../kernel-model/process/process.js';
import { vfioIoasCall, type IommufdPre } from './model-iommufd.js';
import { hwptOpWant } from './model-iommufd-hwpt-ops.js';
import { IOMMU_OPTION_HUGE_PAGES, IOMMU_OPTION_OP_SET } from '../../kernel-model/iommu/iommufd/uapi.js';
import { IOMMUFD_REQS } from './program-iommufd.js';
import { VFIO_REQS as R, type IoctlArg } from './program.js';
import { ModelType1 } from './model-type1.js';
import type { MContainer, MGroup, MIoas, MMap, PreIoctl } from './model-state.js';

export class ModelCompat extends ModelType1 {
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
  protected postCompat(p: Process, c: MContainer, req: number, r: number, pre: PreIoctl, scratch: number, arg: IoctlArg): void {
    const cur = c.cur;
    // iommufd_fops_ioctl's size rules (model-iommufd-args.ts sizeRuleErr) answered before any handler: nothing changed
    if (typeof pre.iommufd?.sizeErr === 'number') return this.expect(r === pre.iommufd.sizeErr, `iommufd request 0x${req.toString(16)} with size ${pre.iommufd.fields['argsz'] ?? '?'} on the compat container returned ${r}, the size rules answer ${pre.iommufd.sizeErr}`);
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
      case IOMMUFD_REQS.IOMMU_HWPT_SET_DIRTY_TRACKING:
      case IOMMUFD_REQS.IOMMU_HWPT_GET_DIRTY_BITMAP:
      case IOMMUFD_REQS.IOMMU_HWPT_INVALIDATE:
        // the compat container's fd is an iommufd file (iommufd_fops): the HWPT requests answer on
        // its context as on /dev/iommu (model-iommufd-hwpt-ops.ts); nothing changes
        if (pre.iommufd?.exact) this.compatHwptOp(c, req, r, pre.iommufd);
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
  protected compatIoasOf(c: MContainer, idB: bigint, what: string): MIoas | null {
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
  protected compatIoasAdd(p: Process, c: MContainer, req: number, r: number, pre: IommufdPre, scratch: number): void {
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
  protected compatIoasUnmap(p: Process, c: MContainer, r: number, pre: IommufdPre, scratch: number): void {
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
  protected compatOption(c: MContainer, r: number, pre: IommufdPre): void {
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

  /**
   * compat: HWPT_SET_DIRTY_TRACKING, GET_DIRTY_BITMAP, INVALIDATE (hwptOpWant) on the container's
   * context, whose objects the model knows only partly: its IOASes by id, and every object only
   * while compatIdsKnown. An id it cannot place (a bound group's device or auto HWPT) may be a
   * paging HWPT or not: either answer is accepted (they are often the same: flags, INVALIDATE)
   */
  protected compatHwptOp(c: MContainer, req: number, r: number, pre: IommufdPre): void {
    const F = (k: string): bigint => pre.fields[k] ?? 0n;
    const id = Number(BigInt.asUintN(32, F('hwpt_id')));
    const known = c.ioases.has(id) || this.compatIdsKnown(c);
    const not = hwptOpWant(req, F, () => (c.ioases.has(id) ? 'ioas' : undefined));
    const paging = known ? not : hwptOpWant(req, F, () => 'hwpt-paging');
    this.expect(r === not || r === paging, `HWPT request 0x${req.toString(16)} (hwpt_id ${id}) on the compat container returned ${r}, the model predicts ${not}${paging !== not ? ` or ${paging}` : ''}`);
  }

  /** compat: every object of the context is one the model knows by id (only its IOASes): new ids are predictable */
  protected compatIdsKnown(c: MContainer): boolean {
    if (c.foreign || c.anon !== null) return false;
    for (const g of this.groups.values()) if (g.boundTo === c.id) return false;
    return true;
  }

  /** the lowest id from 1 no known IOAS of the context has (xa_alloc with XA_FLAGS_ALLOC1: main.c iommufd_object_alloc_elm) */
  protected compatLowestFree(c: MContainer): number {
    let id = 1;
    while (c.ioases.has(id)) id++;
    return id;
  }

  /** compat: the id of a success's answer (a u32 at `off` of the scratch), or -1 when it cannot be read */
  protected compatRd32(p: Process, scratch: number, off: number): number {
    const b = new Uint8Array(4);
    return p.mm.copyFromUser(b, 0, scratch + off, 4) < 0 ? -1 : new DataView(b.buffer).getUint32(0, true);
  }

  /**
   * compat: the IOAS of unknown id learned as `id` (GET's answer, or a SET that succeeded on an
   * id no known IOAS has): never an id the model holds
   */
  protected compatLearn(c: MContainer, id: number): void {
    const a = c.anon!;
    this.expect(!c.ioases.has(id), `the compat IOAS made by SET_CONTAINER has id ${id}, which another IOAS of the context has`);
    a.id = id;
    c.ioases.set(id, a);
    c.anon = null;
  }

  /** compat: IOMMU_VFIO_IOAS (model-iommufd.ts vfioIoasCall) switching, clearing and reporting the compat IOAS */
  protected compatVfioIoas(p: Process, c: MContainer, r: number, pre: IommufdPre, scratch: number): void {
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
  protected compatIoasAlloc(p: Process, c: MContainer, r: number, pre: IommufdPre, scratch: number): void {
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
  protected compatDestroy(c: MContainer, r: number, pre: IommufdPre): void {
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
  protected compatRefused(what: string, c: MContainer, r: number, argsz: number, minsz: number, flags: number, allowed: number): boolean {
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

  protected compatMap(p: Process, c: MContainer, r: number, pre: PreIoctl): void {
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

  protected compatUnmap(p: Process, c: MContainer, r: number, pre: PreIoctl, scratch: number): void {
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
  protected postCompatGroup(p: Process, g: MGroup, req: number, r: number, pre: PreIoctl, scratch: number, arg: IoctlArg): void {
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
}
