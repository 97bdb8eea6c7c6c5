/**
 * The attribute changes of a node the VFS found by path: chmod(2)'s family (fs/open.c
 * chmod_common -> fs/attr.c notify_change -> the file system's setattr) and truncate(2)'s
 * (fs/open.c vfs_truncate -> do_truncate). Vfs.chmod and Vfs.truncate call them with the
 * namespace's mount lookups (names.ts NamesOps, the part these need).
 */
import { EOPNOTSUPP, EROFS, ETXTBSY } from '../base/errno.js';
import { EINVAL, EISDIR, EPERM } from './errors.js';
import type { NamesOps } from './names.js';
import { MAY_WRITE, ownerOrCapable, permission, type Cred } from './permission.js';
import { TmpfsFile } from './tmpfs.js';
// vfs.ts imports this module too: only its types are used here
import type { VNode } from './vfs.js';

/** the namespace's lookups these calls use (Vfs's NamesOps) */
export type AttrOps = Pick<NamesOps, 'mountOfNode' | 'readOnly'>;

/**
 * chmod_common (fs/open.c) -> notify_change (fs/attr.c) -> the file system's setattr, for a
 * node found at `path`: a read-only mount -EROFS; a symbolic link (fchmodat2 with
 * AT_SYMLINK_NOFOLLOW) -EOPNOTSUPP (v6.12 notify_change, "attr: block mode changes of
 * symlinks", v6.6); not the owner and no CAP_FOWNER -EPERM (setattr_prepare); procfs's
 * /proc/self entries -EPERM (proc_setattr); elsewhere the mode bits (S_IALLUGO) are the new
 * ones: tmpfs (shmem_setattr), sysfs (kernfs_iop_setattr keeps them), devtmpfs and the rest
 * of procfs (simple_setattr, proc_notify_change)
 */
export function chmodNode(ns: AttrOps, sysfsModes: Map<string, number>, node: VNode, path: string, mode: number, cred: Cred): number {
  const m = ns.mountOfNode(node, path);
  if (ns.readOnly(m)) return -EROFS;
  if (node.kind === 'link') return -EOPNOTSUPP;
  if (!ownerOrCapable(cred, node)) return -EPERM;
  const bits = mode & 0o7777;
  if (m === 'proc' && /^\/proc\/(self|[0-9]+)(\/|$)/.test(path)) return -EPERM;
  if (m === 'sys') {
    sysfsModes.set(path.replace(/^\/sys\/?/, ''), bits);
    return 0;
  }
  (node as { mode: number }).mode = bits;
  return 0;
}

/**
 * vfs_truncate (fs/open.c) for a node found at `path` (truncate(2), truncate64(2); the syscall
 * refused a negative length): a directory -EISDIR, anything else but a regular file -EINVAL,
 * a read-only mount -EROFS, no write permission -EACCES, then do_truncate: tmpfs sets the size
 * (shmem_setattr; past s_maxbytes -EFBIG); sysfs and procfs files take it and keep theirs
 * (kernfs_iop_setattr "ignores size changes", proc_setattr / proc_notify_change)
 */
export function truncateNode(ns: AttrOps, node: VNode, path: string, len: number, cred: Cred): number {
  if (node.kind === 'dir') return -EISDIR;
  if (node.kind !== 'file') return -EINVAL;
  if (ns.readOnly(ns.mountOfNode(node, path))) return -EROFS;
  const p = permission(cred, node, MAY_WRITE);
  if (p < 0) return p;
  // get_write_access (3.14 do_sys_truncate, v6.12 vfs_truncate): -ETXTBSY while it runs
  if (node instanceof TmpfsFile && node.writecount < 0) return -ETXTBSY;
  return node instanceof TmpfsFile ? node.setSize(len) : 0;
}
