/**
 * The calls that add, move and remove names of the namespace beside mkdir/unlink/rmdir:
 * rename(2)/renameat2(2), link(2) and symlink(2) (fs/namei.c, mm/shmem.c). Vfs.rename, Vfs.link
 * and Vfs.symlink call them with the few lookups of the namespace they need (NamesOps).
 */
import { EBUSY, ENOTEMPTY, EROFS, EXDEV } from '../base/errno.js';
import { EEXIST, EINVAL, ENOENT, ENOTDIR, EPERM } from './errors.js';
import { mayCreate, mayDelete, MAY_WRITE, permission, type Cred } from './permission.js';
import { TmpfsDir, TmpfsFile, TmpfsSymlink, TmpfsWhiteout, type Tmpfs, type TmpfsNode } from './tmpfs.js';
// vfs.ts imports this module too: only its types are used here
import type { Mount, Parent, PathName, VNode } from './vfs.js';
import { dDelete, dExchange, dMove, type NamedDir } from './dentry.js';

/** renameat2 flags (include/uapi/linux/fs.h) */
export const RENAME_NOREPLACE = 1;
export const RENAME_EXCHANGE = 2;
export const RENAME_WHITEOUT = 4;

/** The lookups of the namespace these calls use (Vfs provides them) */
export interface NamesOps {
  /** filename_parentat (Vfs.parentOf) */
  parentOf(path: PathName, cred: Cred): Parent | number;
  /** the mount of the directory a Parent names */
  parentMount(p: Parent): Mount;
  /** the mount of a node found at `path` */
  mountOfNode(n: VNode, path: string): Mount;
  /** mnt_want_write refused: a read-only mount */
  readOnly(m: Mount): boolean;
  /** filename_create: the parent of a name to create, or -errno */
  create(path: PathName, wantDir: boolean, cred: Cred): Parent | number;
  /** a devtmpfs directory (Vfs's RamDirs under /dev): names are added and removed in its map */
  devDir(d: VNode): d is VNode & NamedDir & { kind: 'dir'; children: Map<string, VNode> };
  /** the shmem instance behind devtmpfs (files and links made under /dev) */
  devShm: Tmpfs;
}

/**
 * rename(2), renameat(2), renameat2(2) without the flag checks of the syscall:
 * fs/namei.c do_renameat2 and vfs_rename, mm/shmem.c shmem_rename2 (3.14 shmem_rename).
 * In order: both parents looked up; different mounts -EXDEV; "."/".."/"/" as the source
 * -EBUSY, as the target -EBUSY (-EEXIST with RENAME_NOREPLACE); a read-only mount -EROFS; no
 * source -ENOENT; NOREPLACE and a target -EEXIST; EXCHANGE without a target -ENOENT; trailing
 * slashes on a non-directory -ENOTDIR; the source an ancestor of the target's directory
 * -EINVAL, the target an ancestor of the source -ENOTEMPTY (-EINVAL with EXCHANGE); then
 * vfs_rename: the same inode under both names: nothing happens (0); may_delete of the source,
 * may_create or may_delete of the target (its kind against the source's: -ENOTDIR, -EISDIR);
 * a file system without ->rename -EPERM (sysfs: kernfs_iop_rename without syscall ops;
 * procfs; this model's devtmpfs); a directory moved to another parent needs write permission
 * on itself; mount points -EBUSY; then shmem: a non-empty directory target -ENOTEMPTY, the
 * exchange, the whiteout left at the old name (v6.12 shmem_whiteout), the target replaced.
 * Open descriptors keep their inodes: a renamed or replaced file stays readable through them.
 */
export function rename(ops: NamesOps, oldPath: PathName, newPath: PathName, flags: number, cred: Cred): number {
  const op = ops.parentOf(oldPath, cred);
  if (typeof op === 'number') return op;
  const np = ops.parentOf(newPath, cred);
  if (typeof np === 'number') return np;
  const mount = ops.parentMount(op);
  if (mount !== ops.parentMount(np)) return -EXDEV;
  if (op.type !== 'norm') return -EBUSY;
  if (np.type !== 'norm') return (flags & RENAME_NOREPLACE) !== 0 ? -EEXIST : -EBUSY;
  if (ops.readOnly(mount)) return -EROFS;
  const src = op.dir.lookup(op.name);
  if (src === null) return -ENOENT;
  const dst = np.dir.lookup(np.name);
  const exchange = (flags & RENAME_EXCHANGE) !== 0;
  if ((flags & RENAME_NOREPLACE) !== 0 && dst !== null) return -EEXIST;
  if (exchange) {
    if (dst === null) return -ENOENT;
    if (dst.kind !== 'dir' && np.trailing) return -ENOTDIR;
  }
  if (src.kind !== 'dir' && (op.trailing || (!exchange && np.trailing))) return -ENOTDIR;
  // lock_rename's trap: the source above the target's directory, or the target above the source's
  const oldFull = op.path, newFull = np.path;
  const oldDirPath = oldFull.slice(0, oldFull.lastIndexOf('/')) || '/';
  const newDirPath = newFull.slice(0, newFull.lastIndexOf('/')) || '/';
  if (oldDirPath !== newDirPath) {
    if ((newDirPath + '/').startsWith(oldFull + '/')) return -EINVAL;
    if ((oldDirPath + '/').startsWith(newFull + '/')) return exchange ? -EINVAL : -ENOTEMPTY;
  }
  // vfs_rename
  if (src === dst) return 0;
  const isDir = src.kind === 'dir';
  let e = mayDelete(cred, op.dir, src, isDir);
  if (e < 0) return e;
  e = dst === null ? mayCreate(cred, np.dir, np.name) : mayDelete(cred, np.dir, dst, exchange ? dst.kind === 'dir' : isDir);
  if (e < 0) return e;
  if (ops.devDir(op.dir) && ops.devDir(np.dir)) return devRename(ops, op.dir, op.name, np.dir, np.name, src, dst, flags, cred);
  if (!(op.dir instanceof TmpfsDir) || !(np.dir instanceof TmpfsDir)) return -EPERM;
  if (op.dir !== np.dir) {
    if (isDir) {
      e = permission(cred, src, MAY_WRITE);
      if (e < 0) return e;
    }
    if (exchange && dst !== null && dst.kind === 'dir') {
      e = permission(cred, dst, MAY_WRITE);
      if (e < 0) return e;
    }
  }
  const s = src as TmpfsNode;
  const od = op.dir, nd = np.dir;
  if (exchange) {
    // simple_rename_exchange: the two names swap their inodes
    const t = dst as TmpfsNode;
    od.children.set(op.name, t);
    nd.children.set(np.name, s);
    if (s instanceof TmpfsDir) [s.parent, s.name] = [nd, np.name];
    if (t instanceof TmpfsDir) [t.parent, t.name] = [od, op.name];
    // d_exchange: files opened by either name now show the other
    dExchange(od, op.name, nd, np.name);
    return 0;
  }
  if (dst instanceof TmpfsDir && dst.children.size > 0) return -ENOTEMPTY;
  if (dst !== null) {
    // shmem_unlink of the target (its open descriptors keep it; their name is " (deleted)")
    if (dst instanceof TmpfsDir) dst.removed = true;
    else unlinkNode(dst as TmpfsFile | TmpfsSymlink | TmpfsWhiteout);
    dDelete(nd, np.name);
  }
  od.children.delete(op.name);
  // d_move: a file opened by the old name shows the new one
  dMove(od, op.name, nd, np.name);
  // RENAME_WHITEOUT: shmem_whiteout leaves a whiteout (char 0:0) at the old name, the caller's
  if ((flags & RENAME_WHITEOUT) !== 0) od.children.set(op.name, new TmpfsWhiteout(od.fs, cred.uid));
  nd.children.set(np.name, s);
  if (s instanceof TmpfsDir) [s.parent, s.name] = [nd, np.name];
  return 0;
}

/**
 * link(2), linkat(2) once the source is found (`old`, with the path it was found at; node
 * null: an open file without a node, AT_EMPTY_PATH on a pipe or an anonymous inode):
 * do_linkat's filename_create for the new name, then different mounts -EXDEV, then vfs_link:
 * may_create, a file system without ->link -EPERM (sysfs, procfs; this model's devtmpfs), a
 * directory -EPERM, an inode whose last name is gone -ENOENT; shmem_link adds the name
 */
export function link(ops: NamesOps, old: { node: VNode | null; path: string }, newPath: PathName, cred: Cred): number {
  const at = ops.create(newPath, false, cred);
  if (typeof at === 'number') return at;
  // a file without a node here (a pipe, an anonymous inode) is on a mount of its own
  if (old.node === null || ops.mountOfNode(old.node, old.path) !== ops.parentMount(at)) return -EXDEV;
  const p = mayCreate(cred, at.dir, at.name);
  if (p < 0) return p;
  const n = old.node;
  const dev = ops.devDir(at.dir);
  if (!(at.dir instanceof TmpfsDir) && !dev) return -EPERM;
  if (n.kind === 'dir') return -EPERM;
  if (!(n instanceof TmpfsFile || n instanceof TmpfsSymlink || n instanceof TmpfsWhiteout)) return -EPERM;
  if (n.nlink === 0) return -ENOENT;
  n.nlink++;
  (at.dir as TmpfsDir).children.set(at.name, n);
  return 0;
}

/**
 * symlink(2), symlinkat(2) (fs/namei.c do_symlinkat -> vfs_symlink -> shmem_symlink): the new
 * name as filename_create finds it, may_create, a file system without ->symlink -EPERM; the
 * link is S_IFLNK|0777 whatever the umask, owned by the caller. (The syscall refused an empty
 * target, -ENOENT, and one of PATH_MAX or more, -ENAMETOOLONG, when it copied it: shmem's
 * PAGE_SIZE limit cannot be reached.)
 */
export function symlink(ops: NamesOps, target: string, newPath: PathName, cred: Cred): number {
  const at = ops.create(newPath, false, cred);
  if (typeof at === 'number') return at;
  const p = mayCreate(cred, at.dir, at.name);
  if (p < 0) return p;
  if (ops.devDir(at.dir)) {
    at.dir.children.set(at.name, new TmpfsSymlink(ops.devShm, target, cred.uid));
    return 0;
  }
  if (!(at.dir instanceof TmpfsDir)) return -EPERM;
  at.dir.children.set(at.name, new TmpfsSymlink(at.dir.fs, target, cred.uid));
  return 0;
}

/** one name of a tmpfs inode removed (shmem_unlink drop_nlink) */
export function unlinkNode(n: TmpfsFile | TmpfsSymlink | TmpfsWhiteout): void {
  if (n instanceof TmpfsFile) n.unlinked();
  else if (n.nlink > 0) n.nlink--;
}

/**
 * rename within devtmpfs (shmem_rename2 on Linux's devtmpfs; the checks before it are rename's):
 * RENAME_EXCHANGE swaps the two names, a non-empty directory target -ENOTEMPTY, a replaced
 * tmpfs-backed target loses a link, RENAME_WHITEOUT leaves a whiteout; a driver's device node
 * moves like any name (its driver keeps it bound; removeDevNode no longer finds it there)
 */
function devRename(ops: NamesOps, od: VNode & NamedDir & { children: Map<string, VNode> }, oname: string, nd: VNode & NamedDir & { children: Map<string, VNode> }, nname: string, src: VNode, dst: VNode | null, flags: number, cred: Cred): number {
  if ((flags & RENAME_EXCHANGE) !== 0) {
    od.children.set(oname, dst!);
    nd.children.set(nname, src);
    moveDevDir(src, nd, nname);
    moveDevDir(dst!, od, oname);
    dExchange(od, oname, nd, nname);
    return 0;
  }
  if (dst !== null && dst.kind === 'dir' && dst.list().length > 0) return -ENOTEMPTY;
  if (dst instanceof TmpfsFile || dst instanceof TmpfsSymlink || dst instanceof TmpfsWhiteout) unlinkNode(dst);
  if (dst !== null && ops.devDir(dst)) (dst as { removed: boolean }).removed = true;
  if (dst !== null) dDelete(nd, nname);
  od.children.delete(oname);
  dMove(od, oname, nd, nname);
  if ((flags & RENAME_WHITEOUT) !== 0) od.children.set(oname, new TmpfsWhiteout(ops.devShm, cred.uid));
  nd.children.set(nname, src);
  moveDevDir(src, nd, nname);
  return 0;
}

/** a devtmpfs directory moved: its parent and name follow (d_move) */
function moveDevDir(n: VNode, parent: NamedDir, name: string): void {
  if (n.kind !== 'dir' || (n as { devtmpfs?: boolean }).devtmpfs !== true) return;
  const d = n as unknown as { parent: NamedDir | null; name: string };
  d.parent = parent;
  d.name = name;
}
