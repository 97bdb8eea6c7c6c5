/**
 * A small tmpfs (mm/shmem.c, the kernel's tmpfs, reduced): regular files and directories in
 * host memory, mounted at /tmp. Files grow on write (shmem_write_begin), O_TRUNC empties them
 * (do_truncate), O_APPEND writes at the end (generic_write_checks), lseek knows the size and
 * the mount's s_maxbytes (shmem_file_llseek: SEEK_SET/CUR/END through generic_file_llseek_size,
 * SEEK_DATA/SEEK_HOLE its own). An unlinked file stays readable through the
 * descriptors still open on it (the inode lives until its last reference).
 *
 * Choices of this model: the whole mount holds at most TMPFS_MAX_BYTES of file data (a full
 * tmpfs answers -ENOSPC, as a size=-limited mount does); new files are 0644 and new directories
 * 0755 (open's and mkdir's mode arguments after a umask of 022 give exactly these for busybox);
 * owner root, times 0. Files are stored densely, so every page below the size is data: what
 * shmem_file_llseek's SEEK_DATA/SEEK_HOLE find for a file written without gaps (a file with
 * holes, written past its end, has them in Linux and none here).
 */
import { EINVAL, ENOSPC, ENXIO } from '../base/errno.js';
import { File, type DirEntry, type FileOps, type Task } from './file.js';

/** the mount's capacity (bytes of file data): the "small" tmpfs of docs/UNICORN.md */
export const TMPFS_MAX_BYTES = 4 << 20;

const O_ACCMODE = 3;
const O_APPEND = 0o2000;

/** MAX_LFS_FILESIZE of the 3.14 kernel on 32 bits (include/linux/fs.h); the profile's `maxLfsFilesize` */
export const MAX_LFS_FILESIZE_3_14 = 2 ** 43 - 1;

/** a tmpfs mount: its directories share the capacity */
export class Tmpfs {
  used = 0;
  /** inode numbers per mount, so that two runs in one host process see the same ones */
  nextIno = 2;
  readonly root: TmpfsDir;
  constructor(
    mode = 0o1777,
    /** sb->s_maxbytes: MAX_LFS_FILESIZE (shmem_fill_super), the largest position lseek sets */
    readonly maxBytes = MAX_LFS_FILESIZE_3_14,
    /** shmem_file_llseek's answer to SEEK_DATA/SEEK_HOLE at a negative offset (`shmemSeekNegative`) */
    readonly seekNegative: 'einval' | 'enxio' = 'einval',
  ) {
    this.root = new TmpfsDir(this, mode);
  }
}

const SEEK_SET = 0, SEEK_CUR = 1, SEEK_END = 2, SEEK_DATA = 3, SEEK_HOLE = 4;

/** vfs_setpos (fs/read_write.c): a negative position or one past `max` is -EINVAL; else the file moves */
function setPos(f: File, pos: number, max: number): number {
  if (pos < 0 || pos > max) return -EINVAL;
  f.pos = pos;
  return pos;
}

/** a tmpfs directory: the VFS may create in it and remove from it */
export class TmpfsDir {
  readonly kind = 'dir' as const;
  readonly ino: number;
  readonly children = new Map<string, TmpfsDir | TmpfsFile>();
  constructor(readonly fs: Tmpfs, public mode = 0o755) {
    this.ino = fs.nextIno++;
  }
  lookup(name: string): TmpfsDir | TmpfsFile | null {
    return this.children.get(name) ?? null;
  }
  /** in name order (deterministic, as RamDir) */
  list(): DirEntry[] {
    return [...this.children.keys()].sort().map((name) => {
      const n = this.children.get(name)!;
      return { name, ino: n.ino, type: n.kind === 'dir' ? 4 /* DT_DIR */ : 8 /* DT_REG */ };
    });
  }
}

/** a tmpfs regular file */
export class TmpfsFile {
  readonly kind = 'file' as const;
  readonly ino: number;
  data = new Uint8Array(0);
  size = 0;
  constructor(readonly fs: Tmpfs, public mode = 0o644) {
    this.ino = fs.nextIno++;
  }

  open = (flags: number, _task: Task, path: string): File => new File(tmpfsFops, this, flags, path);

  /** no name left: the data stays for the open descriptors, off the mount's account */
  private detached = false;
  unlinked(): void {
    if (!this.detached) this.fs.used -= this.size;
    this.detached = true;
  }

  /** truncate to `len` bytes (only shrinking is needed here: O_TRUNC) */
  truncate(len: number): void {
    if (len >= this.size) return;
    if (!this.detached) this.fs.used -= this.size - len;
    this.data.fill(0, len, this.size);
    this.size = len;
  }

  /** make room for `end` bytes: -ENOSPC past the mount's capacity */
  private reserve(end: number): number {
    if (end <= this.size) return 0;
    if (!this.detached && this.fs.used + (end - this.size) > TMPFS_MAX_BYTES) return -ENOSPC;
    if (end > this.data.length) {
      const d = new Uint8Array(Math.max(end, this.data.length * 2, 256));
      d.set(this.data.subarray(0, this.size));
      this.data = d;
    }
    if (!this.detached) this.fs.used += end - this.size;
    this.size = end;
    return 0;
  }

  write(task: Task, buf: number, count: number, pos: number): number {
    if (count === 0) return 0;
    const r = this.reserve(pos + count);
    if (r < 0) return r;
    const c = task.mm.copyFromUser(this.data, pos, buf, count);
    return c < 0 ? c : count;
  }
}

export const tmpfsFops: FileOps = {
  name: 'tmpfs',
  read(f, task, buf, count, pos) {
    const n = f.priv as TmpfsFile;
    if (pos >= n.size) return 0;
    const len = Math.min(count, n.size - pos);
    const r = task.mm.copyToUser(buf, n.data, pos, len);
    return r < 0 ? r : len;
  },
  write(f, task, buf, count, pos) {
    const n = f.priv as TmpfsFile;
    // O_APPEND: every write goes to the end; the position follows it (the layer adds the count)
    if ((f.flags & O_APPEND) !== 0) {
      pos = n.size;
      f.pos = pos;
    }
    return n.write(task, buf, count, pos);
  },
  /**
   * shmem_file_llseek (mm/shmem.c, 3.14 and v6.12): SEEK_SET/CUR/END through
   * generic_file_llseek_size with MAX_LFS_FILESIZE (SEEK_CUR by 0 returns the position
   * unchecked); SEEK_DATA and SEEK_HOLE its own: a negative offset -EINVAL (3.14) or -ENXIO
   * (v6.12; `shmemSeekNegative`), one at or past the size -ENXIO, else the data is at the
   * offset and the hole at the size (no holes here); the result through vfs_setpos. The
   * syscall refused a whence past SEEK_MAX before.
   */
  llseek(f, offset, whence) {
    const n = f.priv as TmpfsFile;
    const max = n.fs.maxBytes;
    switch (whence) {
      case SEEK_SET:
        return setPos(f, offset, max);
      case SEEK_CUR:
        return offset === 0 ? f.pos : setPos(f, f.pos + offset, max);
      case SEEK_END:
        return setPos(f, n.size + offset, max);
      case SEEK_DATA:
      case SEEK_HOLE:
        if (offset < 0) return n.fs.seekNegative === 'enxio' ? -ENXIO : -EINVAL;
        if (offset >= n.size) return -ENXIO;
        return setPos(f, whence === SEEK_DATA ? offset : n.size, max);
      default:
        return -EINVAL;
    }
  },
};

/** does an open with these flags write? */
export function opensForWrite(flags: number): boolean {
  const acc = flags & O_ACCMODE;
  return acc === 1 || acc === 2;
}
