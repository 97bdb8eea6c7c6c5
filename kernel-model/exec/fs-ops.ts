import type { UnicornThread } from '../../emulator/cpu/unicorn/thread.js';
import { EBADF, EINVAL, ENAMETOOLONG, ENOENT, ENOSYS } from '../base/errno.js';
import type { Process } from '../process/process.js';
import { AT_EMPTY_PATH, AT_FDCWD, AT_SYMLINK_NOFOLLOW, fileStat, resolveAt, S_IFREG } from '../syscall/stat.js';
import { O_LARGEFILE } from '../uapi/constants.js';
import { FMODE_WRITE, type File } from '../vfs/file.js';
import { TmpfsFile } from '../vfs/tmpfs.js';
import { RENAME_EXCHANGE, RENAME_NOREPLACE, RENAME_WHITEOUT } from '../vfs/names.js';
import { dirFops } from '../vfs/nodes.js';
import { dirDPath } from '../vfs/dentry.js';
import type { PathName, VNode } from '../vfs/vfs.js';
import { ARM_NR as N } from './arm-nr.js';
import type { LayerEntry } from './fs-calls.js';

/**
 * The calls that change names and inodes (fs/namei.c: rename, renameat, renameat2, link,
 * linkat, symlink, symlinkat; fs/open.c: chmod, fchmod, fchmodat, fchmodat2, truncate,
 * ftruncate, truncate64, ftruncate64; kernel/sys.c: umask), decoded from the ARM registers and
 * served over the VFS (kernel-model/vfs/vfs.ts chmod/truncate, kernel-model/vfs/names.ts
 * rename/link/symlink, which say what each file system does). Where the two kernels differ the syscall host's capabilities
 * decide: `ftruncateLength`, `linkatEmptyPath` (and the VFS's `nestedSymlinkLimit`); renameat2
 * and fchmodat2 are not in 3.14's table: the entry answers -ENOSYS before these run
 * (capability `syscallTable`, syscall-era.ts).
 */

const AT_SYMLINK_FOLLOW = 0x400;
const CAP_DAC_READ_SEARCH = 2;
/** MAX_NON_LFS (include/linux/fs.h): the largest length ftruncate takes from a file opened without O_LARGEFILE */
const MAX_NON_LFS = 2 ** 31 - 1;

/**
 * getname (fs/namei.c getname_flags): the string at `ptr`; a fault -EFAULT, PATH_MAX bytes
 * without a NUL -ENAMETOOLONG, an empty one -ENOENT unless `empty` (LOOKUP_EMPTY) lets it through
 */
export function getname(proc: Process, ptr: number, empty = false): string | number {
  const s = proc.mm.strndupUser(ptr, 4096);
  if (s === -EINVAL) return -ENAMETOOLONG;
  if (typeof s === 'number') return s;
  if (s.length === 0 && !empty) return -ENOENT;
  return s;
}

/** getname then resolveAt: the pathname a (dirfd, path) pair names (a relative one with its start directory) */
function pathArg(x: LayerEntry, t: UnicornThread, dirfd: number, ptr: number): PathName | number {
  const p = getname(x.proc, ptr);
  if (typeof p === 'number') return p;
  return resolveAt(x.layer.taskOf(x.proc, t), dirfd, p, x.layer.host.vfs);
}

/**
 * the node an open file holds and the path to name it by (a tmpfs inode or a node opened by a
 * name that can change, by itself: it may have been renamed or unlinked; a directory with its
 * path now); null: no node (pipes, anonymous inodes, the console)
 */
export function nodeOfFile(x: LayerEntry, f: File): { node: VNode | null; path: string } {
  if (f.priv instanceof TmpfsFile) return { node: f.priv, path: f.path };
  if (f.dentry !== null) return { node: f.dentry.node, path: f.path };
  if (f.ops === dirFops) return { node: f.priv as VNode, path: dirDPath(f.priv as VNode, f.path) };
  if (f.path.startsWith('/')) {
    const r = x.layer.host.vfs.walk(f.path, false);
    if (typeof r !== 'number') return { node: r.node, path: r.path };
  }
  return { node: null, path: f.path };
}

/**
 * rename(old, new), renameat(olddfd, old, newdfd, new), renameat2(olddfd, old, newdfd, new,
 * flags): fs/namei.c do_renameat2 (3.14 sys_renameat). renameat2 ("vfs: add renameat2 syscall",
 * 520c8b165052, v3.15) is not in 3.14's table (the entry's -ENOSYS, capability `syscallTable`); in v6.12 flags other than RENAME_NOREPLACE, RENAME_EXCHANGE and
 * RENAME_WHITEOUT, or EXCHANGE with either of the others, are -EINVAL before the names are
 * looked at (RENAME_WHITEOUT needs no capability since v5.8). The rest is Vfs.rename.
 */
export function sysRename(x: LayerEntry, t: UnicornThread, nr: number, a: Uint32Array): number {
  let flags = 0;
  if (nr === N.renameat2) {
    flags = a[4]! >>> 0;
    if ((flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE | RENAME_WHITEOUT)) !== 0) return -EINVAL;
    if ((flags & (RENAME_NOREPLACE | RENAME_WHITEOUT)) !== 0 && (flags & RENAME_EXCHANGE) !== 0) return -EINVAL;
  }
  const at = nr !== N.rename;
  const from = pathArg(x, t, at ? a[0]! | 0 : AT_FDCWD, at ? a[1]! : a[0]!);
  if (typeof from === 'number') return from;
  const to = pathArg(x, t, at ? a[2]! | 0 : AT_FDCWD, at ? a[3]! : a[1]!);
  if (typeof to === 'number') return to;
  return x.layer.host.vfs.rename(from, to, flags, x.proc);
}

/**
 * link(old, new) and linkat(olddfd, old, newdfd, new, flags): fs/namei.c do_linkat (3.14
 * sys_linkat). Flags other than AT_SYMLINK_FOLLOW and AT_EMPTY_PATH -EINVAL; without
 * AT_SYMLINK_FOLLOW a final symbolic link is linked itself. AT_EMPTY_PATH (capability
 * `linkatEmptyPath`): 3.14 asks CAP_DAC_READ_SEARCH of the caller before anything (-ENOENT);
 * v6.12 asks it only when the dirfd's file was opened under other credentials (its f_cred),
 * wherever a dirfd starts the lookup; with an empty old name the dirfd's file itself is the
 * source (AT_FDCWD: the cwd, a directory). The rest is Vfs.link.
 */
export function sysLink(x: LayerEntry, t: UnicornThread, nr: number, a: Uint32Array): number {
  const at = nr === N.linkat;
  const flags = at ? a[4]! | 0 : 0;
  if ((flags & ~(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH)) !== 0) return -EINVAL;
  const emptyOk = (flags & AT_EMPTY_PATH) !== 0;
  const proc = x.proc;
  const capDacReadSearch = (proc.capEffective & (1n << BigInt(CAP_DAC_READ_SEARCH))) !== 0n;
  const era = x.layer.host.linkatEmptyPath ?? 'cap-dac-read-search';
  if (emptyOk && era === 'cap-dac-read-search' && !capDacReadSearch) return -ENOENT;
  const olddfd = at ? a[0]! | 0 : AT_FDCWD;
  const oldName = getname(proc, at ? a[1]! : a[0]!, emptyOk);
  if (typeof oldName === 'number') return oldName;
  const vfs = x.layer.host.vfs;
  let old: { node: VNode | null; path: string };
  if (!oldName.startsWith('/') && olddfd !== AT_FDCWD) {
    // path_init from the dirfd: -EBADF; v6.12 LOOKUP_LINKAT_EMPTY: another opener's file needs the capability
    const f = proc.fdget(olddfd);
    if (f === null) return -EBADF;
    if (emptyOk && era === 'opener-cred-or-cap' && f.cred !== proc.credRef && !capDacReadSearch) return -ENOENT;
    if (oldName === '') old = nodeOfFile(x, f);
    else {
      const abs = resolveAt(x.layer.taskOf(proc, t), olddfd, oldName, vfs);
      if (typeof abs === 'number') return abs;
      const r = vfs.walk(abs, (flags & AT_SYMLINK_FOLLOW) !== 0, proc);
      if (typeof r === 'number') return r;
      old = r;
    }
  } else {
    if (oldName === '') {
      // an empty name with AT_FDCWD: the cwd itself, no component looked up (a directory: vfs_link's -EPERM)
      const at = proc.cwdAt ?? { node: vfs.root, path: '/' };
      old = { node: at.node, path: dirDPath(at.node, at.path) };
    } else {
      const abs = resolveAt(x.layer.taskOf(proc, t), olddfd, oldName, vfs);
      if (typeof abs === 'number') return abs;
      const r = vfs.walk(abs, (flags & AT_SYMLINK_FOLLOW) !== 0, proc);
      if (typeof r === 'number') return r;
      old = r;
    }
  }
  const to = pathArg(x, t, at ? a[2]! | 0 : AT_FDCWD, at ? a[3]! : a[1]!);
  if (typeof to === 'number') return to;
  return vfs.link(old, to, proc);
}

/**
 * symlink(target, new) and symlinkat(target, newdfd, new): fs/namei.c do_symlinkat. The
 * target is copied as it is (getname: empty -ENOENT, PATH_MAX without a NUL -ENAMETOOLONG) and
 * never resolved here; the rest is Vfs.symlink.
 */
export function sysSymlink(x: LayerEntry, t: UnicornThread, nr: number, a: Uint32Array): number {
  const target = getname(x.proc, a[0]!);
  if (typeof target === 'number') return target;
  const at = nr === N.symlinkat;
  const to = pathArg(x, t, at ? a[1]! | 0 : AT_FDCWD, at ? a[2]! : a[1]!);
  if (typeof to === 'number') return to;
  return x.layer.host.vfs.symlink(target, to, x.proc);
}

/**
 * chmod(path, mode), fchmod(fd, mode), fchmodat(dfd, path, mode), fchmodat2(dfd, path, mode,
 * flags): fs/open.c do_fchmodat / vfs_fchmod -> chmod_common. chmod and fchmodat follow a final
 * symbolic link; fchmodat2 (v6.12 only: 3.14's answer is the era table's -ENOSYS, syscall-era.ts) takes
 * AT_SYMLINK_NOFOLLOW and AT_EMPTY_PATH, other flags -EINVAL. fchmod of a file without a node
 * of its own (a pipe, an anonymous inode, the console) is answered 0 and changes nothing here
 * (Linux changes that pseudo inode's mode). The rest is Vfs.chmod.
 */
export function sysChmod(x: LayerEntry, t: UnicornThread, nr: number, a: Uint32Array): number {
  const vfs = x.layer.host.vfs;
  const proc = x.proc;
  if (nr === N.fchmod) {
    const f = proc.fdget(a[0]! | 0);
    if (f === null) return -EBADF;
    const o = nodeOfFile(x, f);
    return o.node === null ? 0 : vfs.chmod(o.node, o.path, a[1]! & 0xffff, proc);
  }
  let flags = 0;
  if (nr === N.fchmodat2) {
    flags = a[3]! | 0;
    if ((flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) !== 0) return -EINVAL;
  }
  const at = nr !== N.chmod;
  const dirfd = at ? a[0]! | 0 : AT_FDCWD;
  const mode = (at ? a[2]! : a[1]!) & 0xffff;
  const p = getname(proc, at ? a[1]! : a[0]!, (flags & AT_EMPTY_PATH) !== 0);
  if (typeof p === 'number') return p;
  if (p === '') {
    // AT_EMPTY_PATH: the dirfd's file (AT_FDCWD: the cwd)
    if (dirfd === AT_FDCWD) {
      const at = proc.cwdAt ?? { node: vfs.root, path: '/' };
      return vfs.chmod(at.node, dirDPath(at.node, at.path), mode, proc);
    }
    const f = proc.fdget(dirfd);
    if (f === null) return -EBADF;
    const o = nodeOfFile(x, f);
    return o.node === null ? 0 : vfs.chmod(o.node, o.path, mode, proc);
  }
  const abs = resolveAt(x.layer.taskOf(proc, t), dirfd, p, vfs);
  if (typeof abs === 'number') return abs;
  const r = vfs.walk(abs, (flags & AT_SYMLINK_NOFOLLOW) === 0, proc);
  if (typeof r === 'number') return r;
  return vfs.chmod(r.node, r.path, mode, proc);
}

/**
 * truncate(path, long), truncate64(path, loff_t), ftruncate(fd, length), ftruncate64(fd,
 * loff_t): fs/open.c do_sys_truncate / do_sys_ftruncate. The 64-bit lengths come in the even
 * register pair r2:r3 (EABI: a 64-bit argument after a 32-bit one skips r1; low word first).
 * A negative length is -EINVAL before anything else; ftruncate's 32-bit length is an unsigned
 * long in 3.14 and an off_t in v6.12 (capability `ftruncateLength`). The fd forms: no file
 * -EBADF; not a regular file, or not open for writing, -EINVAL (not -EISDIR or -EBADF); the
 * 32-bit form past MAX_NON_LFS on a file opened without O_LARGEFILE -EINVAL; then do_truncate
 * (tmpfs sets the size, sysfs and procfs files keep theirs). The path forms: Vfs.truncate.
 */
export function sysTruncate(x: LayerEntry, t: UnicornThread, nr: number, a: Uint32Array): number {
  const long = nr === N.truncate64 || nr === N.ftruncate64;
  let len: number;
  if (long) len = (a[3]! | 0) * 2 ** 32 + a[2]!;
  else if (nr === N.ftruncate && (x.layer.host.ftruncateLength ?? 'unsigned-long') === 'unsigned-long') len = a[1]! >>> 0;
  else len = a[1]! | 0;
  if (len < 0) return -EINVAL;
  const vfs = x.layer.host.vfs;
  const proc = x.proc;
  if (nr === N.ftruncate || nr === N.ftruncate64) {
    const f = proc.fdget(a[0]! | 0);
    if (f === null) return -EBADF;
    if ((fileStat(vfs, f).mode & 0o170000) !== S_IFREG || (f.mode & FMODE_WRITE) === 0) return -EINVAL;
    if (!long && len > MAX_NON_LFS && (f.flags & O_LARGEFILE) === 0) return -EINVAL;
    return f.priv instanceof TmpfsFile ? f.priv.setSize(len) : 0;
  }
  const abs = pathArg(x, t, AT_FDCWD, a[0]!);
  if (typeof abs === 'number') return abs;
  const r = vfs.walk(abs, true, proc);
  if (typeof r === 'number') return r;
  return vfs.truncate(r.node, r.path, len, proc);
}

/** umask(mask) (kernel/sys.c): the process's umask becomes mask & 0777; the old one is returned */
export function sysUmask(proc: Process, mask: number): number {
  const old = proc.umask;
  proc.umask = mask & 0o777;
  return old;
}
