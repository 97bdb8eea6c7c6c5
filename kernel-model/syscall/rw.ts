/**
 * The file I/O calls of the syscall layer: read, write, pread64, pwrite64 and lseek
 * (fs/read_write.c), readlink (fs/stat.c) and getdents64 (fs/readdir.c). SyscallLayer's
 * sysRead, sysWrite, sysLseek, sysReadlink and sysGetdents64 call them with what they need of
 * the host (the VFS, the `getdentsAccess` capability).
 */
import { EBADF, EFAULT, EINVAL, ENOTDIR, ESPIPE } from '../base/errno.js';
import { accessOk } from '../process/mm.js';
import { FMODE_LSEEK, FMODE_PREAD, FMODE_PWRITE, FMODE_READ, FMODE_WRITE } from '../vfs/file.js';
import type { PathName, Vfs } from '../vfs/vfs.js';
import type { ThreadTask } from './task.js';

const MAX_RW_COUNT = 0x7ffff000;
/** SEEK_HOLE: the largest whence sys_lseek passes on (include/uapi/linux/fs.h SEEK_MAX) */
const SEEK_MAX = 4;

/**
 * vfs_read/vfs_write's access_ok of the buffer (-EFAULT), then rw_verify_area (fs/read_write.c,
 * 3.14 and v6.12 alike): a count negative as ssize_t (32-bit on ARM) and a position whose end
 * passes LLONG_MAX are -EINVAL (no file here has FMODE_UNSIGNED_OFFSET; a position is never
 * negative: pread64 refuses one and lseek cannot set one). `ends` is given exactly by pread64;
 * for a file position (below 2^53) the sum is exact.
 */
function rwVerify(buf: number, count: number, pos: number, ends: boolean | undefined): number {
  if (!accessOk(buf, count)) return -EFAULT;
  if (count >= 0x80000000) return -EINVAL;
  if (ends ?? pos + count >= 2 ** 63) return -EINVAL;
  return 0;
}

/**
 * read(2) (pos -1: at the file position) and pread64 (pos >= 0): sys_read / sys_pread64 and
 * vfs_read (fs/read_write.c, 3.14 and v6.12 alike). In order: no file -EBADF; pread64 of a file
 * without FMODE_PREAD -ESPIPE; not open for reading -EBADF; no read method -EINVAL; the
 * buffer outside user space (access_ok) -EFAULT; rw_verify_area's -EINVAL (below); then the
 * count is capped at MAX_RW_COUNT. `posEndOverflows`: pos + count passes LLONG_MAX, computed
 * exactly by pread64 from its register pair.
 */
export function sysRead(t: ThreadTask, fd: number, buf: number, count: number, pos: number, posEndOverflows?: boolean): number {
  const f = t.proc.fdget(fd);
  if (f === null) return -EBADF;
  if (pos >= 0 && (f.mode & FMODE_PREAD) === 0) return -ESPIPE;
  if ((f.mode & FMODE_READ) === 0) return -EBADF;
  if (!f.ops.read) return -EINVAL;
  const at = pos >= 0 ? pos : f.pos;
  const v = rwVerify(buf, count, at, posEndOverflows);
  if (v < 0) return v;
  count = Math.min(count, MAX_RW_COUNT);
  const r = f.ops.read(f, t, buf, count, at);
  if (r > 0 && pos < 0 && f.ops.keepsPos !== true) f.pos += r;
  return r;
}

/** write(2) and pwrite64: sys_write / sys_pwrite64 and vfs_write, the checks of sysRead's order */
export function sysWrite(t: ThreadTask, fd: number, buf: number, count: number, pos: number, posEndOverflows?: boolean): number {
  const f = t.proc.fdget(fd);
  if (f === null) return -EBADF;
  if (pos >= 0 && (f.mode & FMODE_PWRITE) === 0) return -ESPIPE;
  if ((f.mode & FMODE_WRITE) === 0) return -EBADF;
  if (!f.ops.write) return -EINVAL;
  const at = pos >= 0 ? pos : f.pos;
  const v = rwVerify(buf, count, at, posEndOverflows);
  if (v < 0) return v;
  count = Math.min(count, MAX_RW_COUNT);
  const r = f.ops.write(f, t, buf, count, at);
  if (r > 0 && pos < 0 && f.ops.keepsPos !== true && f.ops.writeKeepsPos !== true) f.pos += r;
  return r;
}

/**
 * lseek(2): sys_lseek and vfs_llseek (fs/read_write.c). A whence past SEEK_MAX is -EINVAL
 * before the file is asked; a file without FMODE_LSEEK or without an llseek method is not
 * seekable, -ESPIPE (3.14: vfs_llseek falls back to no_llseek; v6.12: do_dentry_open clears
 * FMODE_LSEEK when the fops have no llseek, and vfs_llseek answers -ESPIPE).
 */
export function sysLseek(t: ThreadTask, fd: number, off: number, whence: number): number {
  const f = t.proc.fdget(fd);
  if (f === null) return -EBADF;
  if (whence >>> 0 > SEEK_MAX) return -EINVAL;
  if ((f.mode & FMODE_LSEEK) === 0 || !f.ops.llseek) return -ESPIPE;
  return f.ops.llseek(f, off, whence);
}

/** readlink(2): at most `bufsiz` bytes of the link text, without a NUL; `bufsiz` <= 0 -EINVAL */
export function sysReadlink(t: ThreadTask, vfs: Vfs, path: PathName, buf: number, bufsiz: number): number {
  if (bufsiz <= 0) return -EINVAL;
  const s = vfs.readlink(path, t.proc);
  if (typeof s === 'number') return s;
  const n = Math.min(s.length, bufsiz);
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = s.charCodeAt(i) & 0xff;
  const r = t.mm.copyToUser(buf, b, 0, n);
  return r < 0 ? r : n;
}

/**
 * getdents64 (fs/readdir.c): struct linux_dirent64 records (d_ino, d_off = the position after
 * the entry, d_reclen rounded to 8, d_type, the name and its NUL) from the file's position. A
 * record that does not fit stops the listing (filldir64 -EINVAL: the call's answer when it is
 * the first). A fault while writing stops it too (filldir64's efault): the records written
 * before it are the answer (count - buf.count) and the position is at the faulting entry, as
 * iterate_dir leaves it; with none, -EFAULT. Capability `getdentsAccess`: 3.14's
 * sys_getdents64 checks access_ok(dirent, count) first, before the fd (-EFAULT even at the end
 * of the directory, and for a count reaching past user space); v6.12's filldir64 checks each
 * record as it writes it (user_write_access_begin), so the fd is looked up first and an empty
 * answer never faults. The copy is charged once for the records built (the goldens' charge).
 */
export function sysGetdents64(t: ThreadTask, getdentsAccess: 'access-ok-first' | 'per-record', fd: number, dirp: number, count: number): number {
  if (getdentsAccess === 'access-ok-first' && !accessOk(dirp, count)) return -EFAULT;
  const f = t.proc.fdget(fd);
  if (f === null) return -EBADF;
  if (!f.ops.readdir) return -ENOTDIR;
  const ents = f.ops.readdir(f);
  if (typeof ents === 'number') return ents;
  const out = new Uint8Array(Math.min(count, 65536));
  const dv = new DataView(out.buffer);
  let used = 0;
  let i = f.pos;
  const ends: number[] = [];
  for (; i < ents.length; i++) {
    const e = ents[i]!;
    const reclen = (19 + e.name.length + 1 + 7) & ~7;
    if (used + reclen > out.length) break;
    dv.setBigUint64(used, BigInt(e.ino), true);
    dv.setBigInt64(used + 8, BigInt(i + 1), true);
    dv.setUint16(used + 16, reclen, true);
    out[used + 18] = e.type;
    for (let k = 0; k < e.name.length; k++) out[used + 19 + k] = e.name.charCodeAt(k) & 0xff;
    used += reclen;
    ends.push(used);
  }
  if (used === 0 && i < ents.length) return -EINVAL;
  if (t.mm.copyToUser(dirp, out, 0, used) < 0) {
    // the records that lie wholly before the first fault were written (the copy stops at it)
    const reach = t.mm.writablePrefix(dirp, used);
    let k = 0;
    while (k < ends.length && ends[k]! <= reach) k++;
    if (k === 0) return -EFAULT;
    const bytes = ends[k - 1]!;
    // a copy refused whole (the range past user space) wrote nothing: these records go now
    t.mm.copyToUser(dirp, out, 0, bytes);
    f.pos += k;
    return bytes;
  }
  f.pos = i;
  return used;
}
