import type { UnicornThread } from '../../emulator/cpu/unicorn/thread.js';
import { EACCES, EBADF, EINVAL } from '../base/errno.js';
import { AT_EMPTY_PATH, AT_FDCWD, AT_SYMLINK_NOFOLLOW, resolveAt } from '../syscall/stat.js';
import { MAY_EXEC, permission, type Cred } from '../vfs/permission.js';
import type { VNode } from '../vfs/vfs.js';
import { ARM_NR as N } from './arm-nr.js';
import { getname, nodeOfFile } from './fs-ops.js';
import type { LayerEntry } from './fs-calls.js';

/** AT_EACCESS (include/uapi/linux/fcntl.h): check with the effective ids, not the real ones */
export const AT_EACCESS = 0x200;

/**
 * access(path, mode), faccessat(dirfd, path, mode) and faccessat2(dirfd, path, mode, flags).
 *
 * 3.14 (sys_faccessat, fs/open.c; read in 3.14.4): a mode outside R_OK|W_OK|X_OK -EINVAL, then
 * the check under override creds: fsuid/fsgid set to the real uid/gid, and the effective
 * capabilities cleared for a non-root uid, set to the permitted ones for root; then the path
 * (following links) and inode_permission.
 *
 * v6.12 (do_faccessat, fs/open.c; read in 6.12.19): the same mode check, then faccessat2's flags:
 * anything but AT_EACCESS | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH -EINVAL; AT_SYMLINK_NOFOLLOW
 * checks a final link itself, AT_EMPTY_PATH lets "" name the dirfd's file (AT_FDCWD: the cwd);
 * AT_EACCESS keeps the caller's own creds (access_need_override_creds false), else the override
 * creds as in 3.14 (access_override_creds). faccessat2 is -ENOSYS in 3.14 (the era table,
 * syscall-era.ts), so only 439 passes flags.
 *
 * The model keeps one uid per process (real = effective = fs uid; process.ts) and every process
 * and inode in group 0: AT_EACCESS changes only which capability set is checked (the effective
 * one as it is, instead of the permitted one for root / none for a non-root uid), never which
 * uid or gid. Not modelled: a noexec mount's -EACCES for X_OK on a regular file, -EROFS for W_OK
 * on a read-only mount (no such mounts here); a file without a node (pipe, eventfd, console)
 * reached by AT_EMPTY_PATH is checked as a 0600 inode of the caller's (Linux: the pipe's inode
 * is the creator's, an anonymous inode root's).
 */
export function sysAccess(x: LayerEntry, t: UnicornThread, nr: number, a: Uint32Array): number {
  const at = nr !== N.access;
  const mode = (at ? a[2]! : a[1]!) | 0;
  if ((mode & ~7) !== 0) return -EINVAL;
  const flags = nr === N.faccessat2 ? a[3]! | 0 : 0;
  if ((flags & ~(AT_EACCESS | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) !== 0) return -EINVAL;
  const proc = x.proc;
  const cred: Cred = (flags & AT_EACCESS) !== 0 ? proc : { uid: proc.uid, capEffective: proc.uid === 0 ? proc.capPermitted : 0n };
  const dirfd = at ? a[0]! | 0 : AT_FDCWD;
  const p = getname(proc, at ? a[1]! : a[0]!, (flags & AT_EMPTY_PATH) !== 0);
  if (typeof p === 'number') return p;
  const vfs = x.layer.host.vfs;
  let node: VNode;
  if (p === '') {
    if (dirfd === AT_FDCWD) node = proc.cwdAt?.node ?? vfs.root;
    else {
      const f = proc.fdget(dirfd);
      if (f === null) return -EBADF;
      const o = nodeOfFile(x, f);
      // a 0600 file of the caller's: read and write allowed, X_OK not (generic_permission: no x bit)
      if (o.node === null) return (mode & MAY_EXEC) !== 0 ? -EACCES : 0;
      node = o.node;
    }
  } else {
    const abs = resolveAt(x.layer.taskOf(proc, t), dirfd, p, vfs);
    if (typeof abs === 'number') return abs;
    const r = vfs.walk(abs, (flags & AT_SYMLINK_NOFOLLOW) === 0, proc);
    if (typeof r === 'number') return r;
    node = r.node;
  }
  // X_OK, W_OK, R_OK are MAY_EXEC, MAY_WRITE, MAY_READ's bits (include/linux/fs.h)
  return mode === 0 ? 0 : permission(cred, node, mode);
}
