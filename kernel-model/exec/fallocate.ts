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
 * more than KEEP_SIZE | PUNCH_HOLE -EOPNOTSUPP, except, with capability `fallocateModes`
 * 'shmem' (v6.12), ZERO_RANGE and UNSHARE_RANGE (with or without KEEP_SIZE) and a lone
 * COLLAPSE_RANGE or INSERT_RANGE, which pass vfs_fallocate's mask and reach shmem_fallocate's
 * -EOPNOTSUPP after the checks below. v6.12's vfs_fallocate (read in 6.12.19; 3.14.4's
 * do_fallocate read too) switches on the mode bits ("fs: sort out the fallocate mode vs flag
 * mess", Christoph Hellwig, 2024: title from memory): a bit outside the modes and KEEP_SIZE,
 * two mode bits at once, and COLLAPSE_RANGE / INSERT_RANGE with KEEP_SIZE are -EOPNOTSUPP, as
 * the model answers. PUNCH_HOLE without KEEP_SIZE -EOPNOTSUPP; no file -EBADF; a file not open
 * for writing -EBADF; a pipe -ESPIPE; not a regular file -ENODEV (3.14 lets a directory
 * through, v6.12 answers a directory -EISDIR, but no directory is open for writing); offset + len past the super block's
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
  const other = mode & ~(FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE);
  const toShmem = other !== 0 && (x.layer.host.fallocateModes ?? 'vfs-mask') === 'shmem' && shmemRefuses(mode);
  if (other !== 0 && !toShmem) return -EOPNOTSUPP;
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

const FALLOC_FL_COLLAPSE_RANGE = 0x08, FALLOC_FL_ZERO_RANGE = 0x10, FALLOC_FL_INSERT_RANGE = 0x20, FALLOC_FL_UNSHARE_RANGE = 0x40;

/** v6.12: a mode vfs_fallocate passes that shmem_fallocate refuses (see sysFallocate) */
function shmemRefuses(mode: number): boolean {
  const m = mode & ~FALLOC_FL_KEEP_SIZE;
  if (m === FALLOC_FL_ZERO_RANGE || m === FALLOC_FL_UNSHARE_RANGE) return true;
  return (m === FALLOC_FL_COLLAPSE_RANGE || m === FALLOC_FL_INSERT_RANGE) && m === mode;
}
