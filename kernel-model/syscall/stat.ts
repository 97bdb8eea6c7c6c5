/**
 * stat(2) family over the model's VFS (fs/stat.c): stat64/lstat64/fstat64/fstatat64 with the
 * ARM EABI `struct stat64` (arch/arm/include/uapi/asm/stat.h, 104 bytes) and statx with
 * `struct statx` (include/uapi/linux/stat.h, 256 bytes).
 *
 * What a node reports (choices of this model, where the file systems have no such data):
 * directories S_IFDIR, 2 links, size 0; symbolic links S_IFLNK|0777, size = length of the
 * target; device nodes S_IFCHR with their mode and their i_rdev (the memory devices of
 * kernel-model/char/mem.ts 1:minor; the other nodes 0:0, e.g. the VFIO and iommufd nodes, whose
 * real numbers are dynamic majors); sysfs attributes S_IFREG with their
 * mode and size 4096 (as sysfs reports PAGE_SIZE for every attribute); tmpfs and rootfs files their size (rootfs files their host mode bits); pipes S_IFIFO|0600;
 * anonymous inodes (eventfd, VFIO fds) mode 0600 without a type (anon_inode_inode); the
 * console fds S_IFCHR|0620, 5:1. tmpfs inodes have their link count (hard links; a directory 2 plus
 * its subdirectories), their mode and their owner (the creator's uid); a tmpfs whiteout is
 * S_IFCHR|0000. Owner root elsewhere, gid 0, times 0, st_dev 0, blksize 4096, blocks 0.
 */
import { EBADF, EFAULT, EINVAL, ENOENT, ENOTDIR } from '../base/errno.js';
import type { File } from '../vfs/file.js';
import { dirFops } from '../vfs/nodes.js';
import type { DirRef, PathName, Vfs, VNode } from '../vfs/vfs.js';
import { TmpfsDir, TmpfsFile } from '../vfs/tmpfs.js';
import { RootfsFile } from '../vfs/rootfs.js';
import type { ThreadTask } from './task.js';

export const S_IFIFO = 0o010000, S_IFCHR = 0o020000, S_IFDIR = 0o040000, S_IFREG = 0o100000, S_IFLNK = 0o120000;
export const AT_FDCWD = -100;
export const AT_SYMLINK_NOFOLLOW = 0x100;
export const AT_EMPTY_PATH = 0x1000;
/** STATX_BASIC_STATS */
const STATX_BASIC_STATS = 0x7ff;

export interface StatInfo {
  mode: number;
  nlink: number;
  size: number;
  ino: number;
  /** st_uid (0 when absent) */
  uid?: number;
  /** st_rdev as the kernel's dev_t, MKDEV(major, minor) = major << 20 | minor (0 when absent) */
  rdev?: number;
}

/** new_encode_dev (include/linux/kdev_t.h), what cp_new_stat64's huge_encode_dev gives a 32-bit dev_t */
export function newEncodeDev(dev: number): number {
  const major = dev >>> 20, minor = dev & 0xfffff;
  return ((minor & 0xff) | (major << 8) | ((minor & ~0xff) << 12)) >>> 0;
}

/** i_nlink of a node that counts its names (tmpfs), else 1 */
const nlinkOf = (n: VNode): number => ('nlink' in n && typeof n.nlink === 'number' ? n.nlink : 1);

export function nodeStat(n: VNode): StatInfo {
  const uid = n.uid ?? 0;
  switch (n.kind) {
    case 'dir': return { mode: S_IFDIR | n.mode, nlink: n instanceof TmpfsDir ? n.nlink : 2, size: 0, ino: n.ino, uid };
    case 'link': return { mode: S_IFLNK | 0o777, nlink: nlinkOf(n), size: n.target.length, ino: n.ino, uid };
    case 'chr': return { mode: S_IFCHR | n.mode, nlink: nlinkOf(n), size: 0, ino: n.ino, uid, rdev: 'rdev' in n ? n.rdev ?? 0 : 0 };
    default: return { mode: S_IFREG | n.mode, nlink: nlinkOf(n), size: n instanceof TmpfsFile || n instanceof RootfsFile ? n.size : 4096, ino: n.ino, uid };
  }
}

/** what fstat sees for an open file */
export function fileStat(vfs: Vfs, f: File): StatInfo {
  if (f.path.startsWith('anon_inode:')) return { mode: 0o600, nlink: 1, size: 0, ino: vfs.anonIno };
  // a file without a node of its own gets its number at its first fstat, in this VFS's order
  if (f.ino === 0) f.ino = vfs.nextIno();
  if (f.path === 'pipe:') return { mode: S_IFIFO | 0o600, nlink: 1, size: 0, ino: f.ino };
  // /dev/console is TTYAUX_MAJOR 5, minor 1 (drivers/tty/tty_io.c tty_init: MKDEV(TTYAUX_MAJOR, 1))
  if (f.path === '/dev/console') return { mode: S_IFCHR | 0o620, nlink: 1, size: 0, ino: f.ino, rdev: (5 << 20) | 1 };
  // an unlinked tmpfs file is still the file its descriptor holds
  if (f.priv instanceof TmpfsFile || f.priv instanceof RootfsFile || f.priv instanceof TmpfsDir) return nodeStat(f.priv);
  // so is a node opened by a name that has since moved or gone (its dentry's inode)
  if (f.dentry !== null) return nodeStat(f.dentry.node);
  const r = vfs.walk(f.path, false);
  if (typeof r === 'number') return { mode: S_IFREG | 0o600, nlink: 0, size: 0, ino: f.ino };
  return nodeStat(r.node);
}

/**
 * The directory a relative pathname starts at (fs/namei.c path_init): the process's cwd for
 * AT_FDCWD (current->fs->pwd), else the dirfd's file, which must be open (-EBADF) on a
 * directory (-ENOTDIR). The directory itself, not its path: the walk starts there and checks
 * only the directories after it.
 */
export function startDir(t: ThreadTask, vfs: Vfs, dirfd: number): DirRef | number {
  if (dirfd === AT_FDCWD) return t.proc.cwdAt ?? { node: vfs.root, path: '/' };
  const f = t.proc.fdget(dirfd);
  if (f === null) return -EBADF;
  if (f.ops !== dirFops) return -ENOTDIR;
  return { node: f.priv as DirRef['node'], path: f.path };
}

/**
 * The pathname `path` names relative to `dirfd` (AT_FDCWD: the process's cwd): an absolute
 * one as it is (path_init ignores the dirfd then, even a bad one), a relative one with the
 * directory it starts at (startDir: -EBADF, -ENOTDIR).
 */
export function resolveAt(t: ThreadTask, dirfd: number, path: string, vfs: Vfs): PathName | number {
  if (path.startsWith('/')) return path;
  const at = startDir(t, vfs, dirfd);
  return typeof at === 'number' ? at : { at, name: path };
}

/** struct stat64, ARM EABI layout */
export function encodeStat64(s: StatInfo): Uint8Array {
  const b = new Uint8Array(104);
  const dv = new DataView(b.buffer);
  dv.setUint32(12, s.ino >>> 0, true); // __st_ino
  dv.setUint32(16, s.mode, true);
  dv.setUint32(20, s.nlink, true);
  dv.setUint32(24, s.uid ?? 0, true); // st_uid
  dv.setUint32(32, newEncodeDev(s.rdev ?? 0), true); // st_rdev, an unsigned long long (cp_new_stat64)
  dv.setUint32(48, s.size % 2 ** 32, true); // st_size, a long long
  dv.setUint32(52, Math.floor(s.size / 2 ** 32), true);
  dv.setUint32(56, 4096, true); // st_blksize
  dv.setUint32(96, s.ino >>> 0, true); // st_ino
  return b;
}

/** struct statx */
export function encodeStatx(s: StatInfo): Uint8Array {
  const b = new Uint8Array(256);
  const dv = new DataView(b.buffer);
  dv.setUint32(0, STATX_BASIC_STATS, true); // stx_mask
  dv.setUint32(4, 4096, true); // stx_blksize
  dv.setUint32(16, s.nlink, true);
  dv.setUint32(20, s.uid ?? 0, true); // stx_uid
  dv.setUint16(28, s.mode, true);
  dv.setUint32(32, s.ino >>> 0, true);
  dv.setUint32(40, s.size % 2 ** 32, true); // stx_size, a __u64
  dv.setUint32(44, Math.floor(s.size / 2 ** 32), true);
  dv.setUint32(128, (s.rdev ?? 0) >>> 20, true); // stx_rdev_major (cp_statx: MAJOR)
  dv.setUint32(132, (s.rdev ?? 0) & 0xfffff, true); // stx_rdev_minor
  return b;
}

/** stat64/lstat64/fstatat64/statx by path; `flags` AT_SYMLINK_NOFOLLOW, AT_EMPTY_PATH */
export function sysStatAt(t: ThreadTask, vfs: Vfs, dirfd: number, path: string, flags: number, buf: number, layout: 'stat64' | 'statx'): number {
  if ((flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | 0x800 /* AT_NO_AUTOMOUNT */ | 0x6000 /* AT_STATX_SYNC_TYPE */)) !== 0) return -EINVAL;
  let info: StatInfo;
  if (path === '' && (flags & AT_EMPTY_PATH) !== 0) {
    // AT_EMPTY_PATH with AT_FDCWD: the cwd itself
    if (dirfd === AT_FDCWD) info = nodeStat(t.proc.cwdAt?.node ?? vfs.root);
    else {
      const f = t.proc.fdget(dirfd);
      if (f === null) return -EBADF;
      info = fileStat(vfs, f);
    }
  } else {
    if (path === '') return -2; // ENOENT
    const abs = resolveAt(t, dirfd, path, vfs);
    if (typeof abs === 'number') return abs;
    const r = vfs.walk(abs, (flags & AT_SYMLINK_NOFOLLOW) === 0, t.proc);
    if (typeof r === 'number') return r;
    info = nodeStat(r.node);
  }
  const out = layout === 'stat64' ? encodeStat64(info) : encodeStatx(info);
  return t.mm.copyToUser(buf, out, 0, out.length) < 0 ? -EFAULT : 0;
}

export function sysFstat(t: ThreadTask, vfs: Vfs, fd: number, buf: number): number {
  const f = t.proc.fdget(fd);
  if (f === null) return -EBADF;
  const out = encodeStat64(fileStat(vfs, f));
  return t.mm.copyToUser(buf, out, 0, out.length) < 0 ? -EFAULT : 0;
}
