import type { UnicornThread } from '../../emulator/cpu/unicorn/thread.js';
import { EBADF, EFBIG, EINVAL, ENODEV, EOPNOTSUPP, ESPIPE } from '../base/errno.js';
import { fileStat, S_IFIFO, S_IFREG } from '../syscall/stat.js';
import { FMODE_WRITE } from '../vfs/file.js';
import { FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE, TmpfsFile } from '../vfs/tmpfs.js';
import type { LayerEntry } from './fs-calls.js';

/**
 * fallocate(fd, mode, offset, len): ARM EABI nr 352, the generic sys_fallocate in both eras (no
 * ARM wrapper: the two 64-bit arguments fall on the even register pairs r2:r3 and r4:r5, low
 * word first, as ftruncate64's length in r2:r3; fs-ops.ts sysTruncate). vfs_fallocate (v6.12
 * fs/open.c; 3.14 do_fallocate), in its order: offset < 0 or len <= 0 -EINVAL; a mode asking
 * more than KEEP_SIZE | PUNCH_HOLE -EOPNOTSUPP (3.14's mask; v6.12 lets ZERO_RANGE,
 * COLLAPSE_RANGE, INSERT_RANGE and UNSHARE_RANGE through to shmem_fallocate, which answers
 * -EOPNOTSUPP for them after the checks below: the model answers them here, so a v6.12 caller
 * asking one of them on a read-only descriptor or a pipe gets -EOPNOTSUPP instead of -EBADF /
 * -ESPIPE, and v6.12's -EINVAL for COLLAPSE_RANGE or INSERT_RANGE combined with other bits is
 * not modelled); PUNCH_HOLE without KEEP_SIZE -EOPNOTSUPP; no file -EBADF; a file not open
 * for writing -EBADF; a pipe -ESPIPE; not a regular file -ENODEV (3.14 lets a directory
 * through, but no directory is open for writing); offset + len past the super block's
 * s_maxbytes -EFBIG; a file system without ->fallocate -EOPNOTSUPP (sysfs, procfs); a tmpfs
 * file: shmem_fallocate (kernel-model/vfs/tmpfs.ts TmpfsFile.fallocate). IS_APPEND,
 * IS_IMMUTABLE (-EPERM) and IS_SWAPFILE (-ETXTBSY) cannot hold here: the model has no inode
 * attributes and no swap.
 */
export function sysFallocate(x: LayerEntry, _t: UnicornThread, _nr: number, a: Uint32Array): number {
  const mode = a[1]! | 0;
  const offset = (a[3]! | 0) * 2 ** 32 + a[2]!;
  const len = (a[5]! | 0) * 2 ** 32 + a[4]!;
  if (offset < 0 || len <= 0) return -EINVAL;
  if ((mode & ~(FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE)) !== 0) return -EOPNOTSUPP;
  if ((mode & FALLOC_FL_PUNCH_HOLE) !== 0 && (mode & FALLOC_FL_KEEP_SIZE) === 0) return -EOPNOTSUPP;
  const f = x.proc.fdget(a[0]! | 0);
  if (f === null || (f.mode & FMODE_WRITE) === 0) return -EBADF;
  const type = fileStat(x.layer.host.vfs, f).mode & 0o170000;
  if (type === S_IFIFO) return -ESPIPE;
  if (type !== S_IFREG) return -ENODEV;
  if (!(f.priv instanceof TmpfsFile)) return -EOPNOTSUPP;
  if (offset + len > f.priv.fs.maxBytes) return -EFBIG;
  return f.priv.fallocate(mode, offset, len);
}
