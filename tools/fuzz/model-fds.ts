/**
 * The reference model's fd and process bookkeeping (model.ts RefModel): opens of
 * /dev/vfio/vfio and the group nodes, closes and the files' releases, forks and exits,
 * the container and group lifetimes they end, and the checks of a group's GET_DEVICE_FD name
 * and GET_STATUS flags.
 */
import { ENODEV } from '../../kernel-model/base/errno.js';
import type { Process } from '../../kernel-model/process/process.js';
import type { FdKind, IoctlArg } from './program.js';
import { ModelState, type MContainer, type MGroup } from './model-state.js';

export class ModelFds extends ModelState {
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
    const id = groupPathId(path);
    const g = id >= 0 ? this.groups.get(id) : undefined;
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

  protected maybeFree(c: MContainer): void {
    if (c.fds > 0 || c.groups.length > 0) return;
    if (c.compat) for (const g of this.groups.values()) if (g.boundTo === c.id) return;
    this.containers.delete(c.id);
  }

  /** compat: the group lets go of its context (UNSET_CONTAINER or the group fd's release) */
  protected leaveCompat(g: MGroup): void {
    g.holds = false;
    if (g.container === null) return;
    const c = this.containers.get(g.container)!;
    c.groups = c.groups.filter((x) => x !== g.id);
    g.container = null;
    this.maybeFree(c);
  }

  protected dropUser(g: MGroup): void {
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

  /**
   * GET_DEVICE_FD's name: only a NUL-terminated name of one of the group's devices opens one;
   * `lookedUpFirst` (mainline vfio_group_ioctl_get_device_fd: vfio_device_get_from_name before
   * any container check) makes another name -ENODEV
   */
  protected expectDeviceName(g: MGroup, r: number, arg: IoctlArg, lookedUpFirst: boolean): void {
    if (arg.t !== 'str') return;
    const mine = g.devices.includes(arg.s);
    if (!mine || !arg.nul) this.expect(r < 0, `GET_DEVICE_FD("${arg.s.slice(0, 32)}") on group ${g.id} returned a device fd`);
    if (lookedUpFirst && arg.ptr === 'ok' && arg.nul && arg.s.length < 4096 && !mine) this.expect(r === -ENODEV, `GET_DEVICE_FD("${arg.s.slice(0, 32)}") returned ${r}, not -ENODEV (the name is looked up first)`);
  }

  /** GET_STATUS: VFIO_GROUP_FLAGS_CONTAINER_SET says whether the group is in a container */
  protected expectStatus(p: Process, g: MGroup, r: number, arg: IoctlArg, scratch: number): void {
    if (r !== 0 || arg.t !== 'struct' || arg.ptr !== 'ok') return;
    const b = new Uint8Array(4);
    if (p.mm.copyFromUser(b, 0, scratch + 4, 4) < 0) return;
    const flags = new DataView(b.buffer).getUint32(0, true);
    this.expect(((flags & 2) !== 0) === (g.container !== null), `GET_STATUS flags 0x${flags.toString(16)} but the group is ${g.container !== null ? '' : 'not '}in a container`);
  }
}

const GROUP_DIR = '/dev/vfio/';

/**
 * The group number of a path `/dev/vfio/<decimal digits>` (what /^\/dev\/vfio\/(\d+)$/ matched,
 * its digits as Number() reads them), -1 for any other path: without the match array a regular
 * expression built for every open
 */
export function groupPathId(path: string): number {
  const n = path.length;
  if (n <= GROUP_DIR.length || !path.startsWith(GROUP_DIR)) return -1;
  let v = 0;
  for (let i = GROUP_DIR.length; i < n; i++) {
    const c = path.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  // up to 15 digits the sum is exact; more, as Number() rounds the decimal text
  return n - GROUP_DIR.length <= 15 ? v : Number(path.slice(GROUP_DIR.length));
}
