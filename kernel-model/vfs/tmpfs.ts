/**
 * A small tmpfs (mm/shmem.c, the kernel's tmpfs, reduced): regular files, directories,
 * symbolic links and whiteouts in host memory, mounted at /tmp. Files grow on write
 * (shmem_write_begin) and by truncate (shmem_setattr: a hole, no blocks), O_TRUNC empties them
 * (do_truncate), O_APPEND writes at the end (generic_write_checks), lseek knows the size and
 * the mount's s_maxbytes (shmem_file_llseek: SEEK_SET/CUR/END through generic_file_llseek_size,
 * SEEK_DATA/SEEK_HOLE its own). An inode has a link count (shmem_link / shmem_unlink: hard
 * links; a directory counts "." and each subdirectory's ".."); a file whose last name is
 * removed stays readable through the descriptors still open on it (the inode lives until its
 * last reference). Every inode has its mode bits (chmod) and its owner (the creator's fsuid,
 * inode_init_owner; gid 0, the only group here).
 *
 * Choices of this model: the whole mount holds at most TMPFS_MAX_BYTES of file data (a full
 * tmpfs answers -ENOSPC, as a size=-limited mount does), counted in bytes; a file's data is
 * stored densely up to the last byte written (`backed`): past it, up to the size a truncate
 * gave, is a hole (reads zeros, not counted, SEEK_HOLE finds it at the next page boundary); a
 * write past `backed` fills and counts the gap (Linux would allocate only the pages written).
 * Inside [0, backed) whole pages can be holes too (`holes`: punched by fallocate
 * PUNCH_HOLE or MADV_REMOVE, or the gap an fallocate past `backed` skipped): zeros in the
 * store, not counted, seen by SEEK_HOLE; and pages can be allocated but never written
 * (`unwritten`: fallocate's pages, counted, not PageUptodate: SEEK_DATA/SEEK_HOLE see a hole
 * there, 3.14 shmem_seek_hole_data and v6.12 folio_seek_hole_data alike, until a write or a
 * fault makes them data); an unwritten page past the stored data is not stored (zeros), only
 * counted, so that fallocate far into a file costs its pages alone. The count is `backed`
 * less the holes' pages plus the unwritten pages past it (`countedBytes`).
 * An unlinked file's data leaves the account at once. Times 0.
 */
import { EFBIG, EINVAL, ENOSPC, ENXIO, EOPNOTSUPP, ETXTBSY } from '../base/errno.js';
import { File, FMODE_WRITE, type DirEntry, type FileOps, type Task } from './file.js';
import type { Dentry, NamedDir } from './dentry.js';
import { nodeType } from './ramdir.js';
import { PageCache, type FileBacking } from '../process/filemap.js';

/** the mount's capacity (bytes of file data): the "small" tmpfs of docs/UNICORN.md */
export const TMPFS_MAX_BYTES = 4 << 20;

const O_ACCMODE = 3;
const O_APPEND = 0o2000;
const PAGE = 4096;

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
    /** sb->s_maxbytes: MAX_LFS_FILESIZE (shmem_fill_super), the largest position lseek sets and the largest size truncate gives */
    readonly maxBytes = MAX_LFS_FILESIZE_3_14,
    /** shmem_file_llseek's answer to SEEK_DATA/SEEK_HOLE at a negative offset (`shmemSeekNegative`) */
    readonly seekNegative: 'einval' | 'enxio' = 'einval',
  ) {
    this.root = new TmpfsDir(this, mode, 0, null, '');
  }
}

export type TmpfsNode = TmpfsDir | TmpfsFile | TmpfsSymlink | TmpfsWhiteout;

const SEEK_SET = 0, SEEK_CUR = 1, SEEK_END = 2, SEEK_DATA = 3, SEEK_HOLE = 4;

/** vfs_setpos (fs/read_write.c): a negative position or one past `max` is -EINVAL; else the file moves */
function setPos(f: File, pos: number, max: number): number {
  if (pos < 0 || pos > max) return -EINVAL;
  f.pos = pos;
  return pos;
}

/**
 * a tmpfs directory: the VFS may create in it, remove from it and rename across it; it keeps
 * its parent and name (dentry.ts NamedDir: its path follows renames)
 */
export class TmpfsDir implements NamedDir {
  readonly kind = 'dir' as const;
  readonly ino: number;
  readonly children = new Map<string, TmpfsNode>();
  /** rmdir'd (IS_DEADDIR): nothing can be created in it, its link count is 0 */
  removed = false;
  /** the mount point when this is a mounted tmpfs's root (the Vfs sets "/tmp") */
  mountPoint: string | null = null;
  /** dentry.ts: the dentries of the files opened under it */
  dcache: Map<string, Dentry> | null = null;
  constructor(
    readonly fs: Tmpfs,
    public mode = 0o755,
    /** i_uid: the creator's fsuid (inode_init_owner) */
    public uid = 0,
    /** the directory holding this one (a directory has one name); null for the mount's root */
    public parent: TmpfsDir | null = null,
    /** its name there */
    public name = '',
  ) {
    this.ino = fs.nextIno++;
  }
  /** i_nlink: 2 ("." and the parent's entry) plus one ".." per subdirectory (shmem_mkdir inc_nlink) */
  get nlink(): number {
    if (this.removed) return 0;
    let n = 2;
    for (const c of this.children.values()) if (c instanceof TmpfsDir) n++;
    return n;
  }
  lookup(name: string): TmpfsNode | null {
    return this.children.get(name) ?? null;
  }
  /** in name order (deterministic, as RamDir) */
  list(): DirEntry[] {
    return [...this.children.keys()].sort().map((name) => {
      const n = this.children.get(name)!;
      return { name, ino: n.ino, type: nodeType(n) };
    });
  }
}

/** a tmpfs symbolic link (shmem_symlink): its target text, mode S_IFLNK|0777 */
export class TmpfsSymlink {
  readonly kind = 'link' as const;
  readonly ino: number;
  readonly mode = 0o777;
  nlink = 1;
  constructor(readonly fs: Tmpfs, readonly target: string, public uid = 0) {
    this.ino = fs.nextIno++;
  }
}

/**
 * A whiteout (v6.12 shmem_whiteout, RENAME_WHITEOUT): a character device 0:0 with mode 0
 * (WHITEOUT_MODE, WHITEOUT_DEV). Opening it looks up char device 0:0, which nothing
 * registers: -ENXIO (chrdev_open).
 */
export class TmpfsWhiteout {
  readonly kind = 'chr' as const;
  readonly ino: number;
  mode = 0;
  nlink = 1;
  constructor(readonly fs: Tmpfs, public uid = 0) {
    this.ino = fs.nextIno++;
  }
  open = (): number => -ENXIO;
}

/** a tmpfs regular file; while a process maps it, its page cache (filemap.ts) holds the mapped pages */
export class TmpfsFile implements FileBacking {
  readonly kind = 'file' as const;
  readonly ino: number;
  /** bytes [0, backed) are stored in `data`; [backed, size) is a hole */
  data = new Uint8Array(0);
  backed = 0;
  size = 0;
  /** whole pages below `backed` that are holes (zeros in `data`, not counted): punched, or skipped by fallocate */
  readonly holes = new Set<number>();
  /** pages allocated by fallocate and not written since (counted; a hole to SEEK_DATA/SEEK_HOLE) */
  readonly unwritten = new Set<number>();
  /** i_nlink: its names (hard links); 0 once the last is removed */
  nlink = 1;
  /**
   * i_writecount: > 0 the files open for writing (get_write_access), < 0 the running images
   * that deny writing (deny_write_access: execve's, 3.14 and v6.12 before 2a010c412853;
   * kernel-model/exec/lifecycle.ts)
   */
  writecount = 0;
  /** the page cache while a VMA maps the file (a page with a frame there is held by the frame), else null */
  cache: PageCache | null = null;
  constructor(readonly fs: Tmpfs, public mode = 0o644, public uid = 0) {
    this.ino = fs.nextIno++;
  }

  // ---- FileBacking (filemap.ts): shmem_fault's view of the file ----
  fileSize(): number {
    return this.size;
  }
  /** shmem_getpage allocating the page: the bytes up to its end are stored and counted (-ENOSPC: SIGBUS) */
  reservePage(idx: number): number {
    const r = this.reserve(Math.max(idx * PAGE, Math.min(this.size, (idx + 1) * PAGE)), idx * PAGE);
    // the fault zeroes a fallocated page and marks it uptodate (shmem_get_folio_gfp's `clear:`)
    if (r === 0) this.unwritten.delete(idx);
    return r;
  }
  /** MADV_REMOVE (madvise.ts): vfs_fallocate(PUNCH_HOLE | KEEP_SIZE) of the mapped file */
  punchHole(offset: number, len: number): number {
    return this.fallocate(FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, offset, len);
  }
  readPage(idx: number, dst: Uint8Array): void {
    const from = idx * PAGE;
    if (from < this.backed) dst.set(this.data.subarray(from, Math.min(this.backed, from + PAGE)));
  }
  writeBackPage(idx: number, src: Uint8Array): void {
    const from = idx * PAGE;
    if (from < this.backed) this.data.set(src.subarray(0, Math.min(this.backed - from, PAGE)), from);
  }
  detached(): void {
    this.cache = null;
  }

  /** the file's bytes (0 .. size) as read() gives them: an exec's image (open-exec.ts) */
  contents(): Uint8Array {
    const bytes = new Uint8Array(this.size);
    bytes.set(this.data.subarray(0, Math.min(this.backed, this.size)));
    const c = this.cache;
    if (c !== null) {
      for (const [idx, pa] of c.frames) {
        const off = idx * PAGE;
        if (off < this.size) c.copyFrame(pa, 0, bytes, off, Math.min(PAGE, this.size - off), false);
      }
    }
    return bytes;
  }

  /**
   * read() or write() of [pos, pos + len) while the file is mapped: page by page, a page with a
   * frame in the cache through the frame (what every mapping sees), the others through the
   * stored bytes (reads: zeros in the hole). Returns the bytes done, or -EFAULT when none.
   */
  xferMapped(task: Task, buf: number, pos: number, len: number, toUser: boolean): number {
    const c = this.cache!;
    let done = 0;
    while (done < len) {
      const p = pos + done;
      const idx = Math.floor(p / PAGE);
      const off = p - idx * PAGE;
      const k = Math.min(PAGE - off, len - done);
      const pa = c.frames.get(idx);
      let r: number;
      if (pa !== undefined) {
        if (toUser) {
          c.copyFrame(pa, off, XFER, 0, k, false);
          r = task.mm.copyToUser(buf + done, XFER, 0, k);
        } else {
          r = task.mm.copyFromUser(XFER, 0, buf + done, k);
          if (r >= 0) c.copyFrame(pa, off, XFER, 0, k, true);
        }
      } else if (!toUser) {
        r = task.mm.copyFromUser(this.data, p, buf + done, k);
      } else {
        const stored = Math.max(0, Math.min(k, this.backed - p));
        r = stored > 0 ? task.mm.copyToUser(buf + done, this.data, p, stored) : 0;
        if (r >= 0 && stored < k) r = task.mm.copyToUser(buf + done + stored, ZEROS, 0, k - stored);
      }
      if (r < 0) return done > 0 ? done : r;
      done += k;
    }
    return done;
  }

  /**
   * do_dentry_open (fs/open.c, 3.14 and v6.12): a regular file opened for writing takes write
   * access (3.14 __get_file_write_access -> get_write_access; v6.12 file_get_write_access ->
   * get_write_access): -ETXTBSY while an execution denies it; released at the last fput
   */
  open = (flags: number, _task: Task, path: string): File | number => {
    const f = new File(tmpfsFops, this, flags, path);
    if ((f.mode & FMODE_WRITE) !== 0) {
      if (this.writecount < 0) return -ETXTBSY;
      this.writecount++;
    }
    return f;
  };

  /** deny_write_access (include/linux/fs.h): -ETXTBSY while open for writing, else one more denial */
  denyWrite(): number {
    if (this.writecount > 0) return -ETXTBSY;
    this.writecount--;
    return 0;
  }

  /** allow_write_access: one denial ends */
  allowWrite(): void {
    if (this.writecount < 0) this.writecount++;
  }

  /** one name removed (shmem_unlink drop_nlink); the last: the data stays for the open descriptors, off the mount's account */
  unlinked(): void {
    if (this.nlink === 0) return;
    this.nlink--;
    if (this.nlink === 0) this.fs.used -= this.countedBytes;
  }

  /** the bytes this file counts against the mount: the stored ones less the holes' pages, plus the unwritten pages past them */
  get countedBytes(): number {
    const top = Math.ceil(this.backed / PAGE);
    let beyond = 0;
    for (const idx of this.unwritten) if (idx >= top) beyond++;
    return this.backed - this.holes.size * PAGE + beyond * PAGE;
  }

  /** run `change`, then charge or credit the mount with the change of countedBytes */
  private account(change: () => void): void {
    const before = this.countedBytes;
    change();
    if (this.counted) this.fs.used -= before - this.countedBytes;
  }

  /**
   * `backed` becomes `to` (at most the present one): the pages past it leave `holes` and
   * a hole page cut in two ends the stored data at its start, trailing hole pages are dropped;
   * the store is zeroed past the new end (the caller accounts)
   */
  private shrinkBacked(to: number): void {
    let end = to;
    if (end % PAGE !== 0 && this.holes.has(Math.floor(end / PAGE))) end = Math.floor(end / PAGE) * PAGE;
    for (const idx of [...this.holes]) if ((idx + 1) * PAGE > end) this.holes.delete(idx);
    while (end > 0 && end % PAGE === 0 && this.holes.delete(end / PAGE - 1)) end -= PAGE;
    this.data.fill(0, end, this.backed);
    this.backed = end;
  }

  private get counted(): boolean {
    return this.nlink > 0;
  }

  /**
   * shmem_setattr's size change (do_truncate -> notify_change): inode_newsize_ok refuses a size
   * past s_maxbytes (-EFBIG); growing leaves a hole (no blocks, never -ENOSPC), shrinking drops
   * the data past the new size (truncate_setsize)
   */
  setSize(len: number): number {
    if (len > this.fs.maxBytes) return -EFBIG;
    // truncate_setsize: the pages wholly past a smaller size go, fallocated ones past the old size too
    if (len < this.size) {
      this.account(() => {
        if (len < this.backed) this.shrinkBacked(len);
        for (const idx of [...this.unwritten]) if (idx >= Math.ceil(len / PAGE)) this.unwritten.delete(idx);
      });
    }
    const shrunk = len < this.size;
    this.size = len;
    // truncate_setsize -> truncate_pagecache: the mappings lose the pages past the new end
    if (shrunk && this.cache !== null) this.cache.truncate(len);
    return 0;
  }

  /** truncate to `len` bytes at most (O_TRUNC: 0) */
  truncate(len: number): void {
    if (len < this.size) this.setSize(len);
  }

  /**
   * store bytes [from, end) (a write's or a fault's): the hole pages they touch are counted
   * again, and bytes up to `end` stored; -ENOSPC past the mount's capacity; the gap from
   * `backed` is filled and counted; `grow` false keeps the size (fallocate KEEP_SIZE)
   */
  reserve(end: number, from = end, grow = true): number {
    let refill = 0;
    if (this.holes.size > 0) for (let i = Math.floor(from / PAGE); i * PAGE < Math.min(end, this.backed); i++) if (this.holes.has(i)) refill++;
    if (end <= this.backed && refill === 0) return 0;
    // unwritten pages past the stored data that the new end takes in were counted already
    const top = Math.ceil(this.backed / PAGE);
    let absorbed = 0;
    for (const idx of this.unwritten) if (idx >= top && idx * PAGE < end) absorbed++;
    const extra = Math.max(0, end - this.backed) + (refill - absorbed) * PAGE;
    if (this.counted && extra > 0 && this.fs.used + extra > TMPFS_MAX_BYTES) return -ENOSPC;
    if (refill > 0) for (let i = Math.floor(from / PAGE); i * PAGE < Math.min(end, this.backed); i++) this.holes.delete(i);
    if (end > this.data.length) {
      const d = new Uint8Array(Math.max(end, this.data.length * 2, 256));
      d.set(this.data.subarray(0, this.backed));
      this.data = d;
    }
    if (this.counted) this.fs.used += extra;
    if (end > this.backed) this.backed = end;
    if (grow && end > this.size) this.size = end;
    return 0;
  }

  write(task: Task, buf: number, count: number, pos: number): number {
    if (count === 0) return 0;
    const r = this.reserve(pos + count, pos);
    if (r < 0) return r;
    // shmem_write_end: the pages written are uptodate (a fallocated page becomes data)
    if (this.unwritten.size > 0) for (let i = Math.floor(pos / PAGE); i * PAGE < pos + count; i++) this.unwritten.delete(i);
    if (this.cache !== null) return this.xferMapped(task, buf, pos, count, false);
    const c = task.mm.copyFromUser(this.data, pos, buf, count);
    return c < 0 ? c : count;
  }

  /** the end of the stored data rounded up to a page (the hole after it starts there), at most the size */
  get dataEnd(): number {
    return Math.min(Math.ceil(this.backed / PAGE) * PAGE, this.size);
  }

  /** is page `idx` (below dataEnd) data to SEEK_DATA / SEEK_HOLE: present and uptodate */
  isDataPage(idx: number): boolean {
    return !this.holes.has(idx) && !this.unwritten.has(idx);
  }

  /**
   * shmem_fallocate (mm/shmem.c, 3.14 and v6.12) after vfs_fallocate's checks (exec/fallocate.ts):
   * modes other than KEEP_SIZE and PUNCH_HOLE -EOPNOTSUPP. PUNCH_HOLE (with KEEP_SIZE):
   * unmap_mapping_range of the whole pages from every mapping, without even_cows ("hole-punching
   * leaves COWed pages"), then shmem_truncate_range: the whole pages leave the page cache and the
   * account, the partial pages at the ends are zeroed in place (every mapping sees it). Else
   * the pages of [offset, offset + len) are allocated (counted; those not yet stored stay
   * !PageUptodate: zeros, a hole to lseek) and, without KEEP_SIZE, the size grows to
   * offset + len (i_size_write); a mount without room for them -ENOSPC with nothing changed
   * (3.14 and v6.12 undo the pages this call allocated: shmem_undo_range(..., true)).
   */
  fallocate(mode: number, offset: number, len: number): number {
    if ((mode & ~(FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE)) !== 0) return -EOPNOTSUPP;
    const end = offset + len;
    if ((mode & FALLOC_FL_PUNCH_HOLE) !== 0) {
      this.punch(offset, end);
      return 0;
    }
    const first = Math.floor(offset / PAGE);
    const last = Math.ceil(end / PAGE);
    // "avoid a swapstorm if len is impossible to satisfy": more pages than the mount holds
    if (last - first > TMPFS_MAX_BYTES / PAGE) return -ENOSPC;
    // the pages to count: the holes in the range below the stored end, the range's pages past it not yet allocated
    const top = Math.ceil(this.backed / PAGE);
    let need = 0;
    for (let i = first; i < last; i++) if (i < top ? this.holes.has(i) : !this.unwritten.has(i)) need += PAGE;
    if (this.counted && this.fs.used + need > TMPFS_MAX_BYTES) return -ENOSPC;
    this.account(() => {
      for (let i = first; i < last; i++) {
        if (i >= top || this.holes.delete(i)) this.unwritten.add(i);
      }
    });
    if ((mode & FALLOC_FL_KEEP_SIZE) === 0 && end > this.size) this.size = end;
    return 0;
  }

  /** PUNCH_HOLE of [offset, end): see fallocate */
  private punch(offset: number, end: number): void {
    const first = Math.ceil(offset / PAGE);
    const last = Math.floor(end / PAGE);
    this.cache?.punch(first, last);
    // the partial pages: zeroed where they are stored, and in their frames
    const zero = (a: number, b: number): void => {
      if (a >= b) return;
      this.data.fill(0, Math.min(a, this.backed), Math.min(b, this.backed));
      this.cache?.zeroRange(a, b);
    };
    if (first > last) zero(offset, end);
    else {
      zero(offset, first * PAGE);
      zero(last * PAGE, end);
    }
    if (first >= last) return;
    const top = Math.ceil(this.backed / PAGE);
    this.account(() => {
      for (const idx of [...this.unwritten]) if (idx >= first && idx < last) this.unwritten.delete(idx);
      if (first >= top) return;
      for (let i = first; i < Math.min(last, top); i++) {
        if ((i + 1) * PAGE <= this.backed) this.holes.add(i);
        this.data.fill(0, i * PAGE, Math.min((i + 1) * PAGE, this.backed));
      }
      // the last stored page punched whole (or trailing holes): the stored data ends earlier
      this.shrinkBacked(last >= top ? Math.min(this.backed, first * PAGE) : this.backed);
    });
  }
}

/** include/uapi/linux/falloc.h */
export const FALLOC_FL_KEEP_SIZE = 0x01, FALLOC_FL_PUNCH_HOLE = 0x02;

/** `n` zero bytes, shared (reads of a hole) */
const ZEROS = new Uint8Array(PAGE);
/** host-only: a page bounce buffer between user memory and a page-cache frame (xferMapped) */
const XFER = new Uint8Array(PAGE);

export const tmpfsFops: FileOps = {
  name: 'tmpfs',
  /** __fput: put_write_access for a file opened for writing (3.14 and v6.12 fs/file_table.c) */
  release(f) {
    if ((f.mode & FMODE_WRITE) !== 0) (f.priv as TmpfsFile).writecount--;
  },
  read(f, task, buf, count, pos) {
    const n = f.priv as TmpfsFile;
    if (pos >= n.size) return 0;
    const len = Math.min(count, n.size - pos);
    if (n.cache !== null) return n.xferMapped(task, buf, pos, len, true);
    // the stored part, then the hole's zeros
    const stored = Math.max(0, Math.min(len, n.backed - pos));
    if (stored > 0) {
      const r = task.mm.copyToUser(buf, n.data, pos, stored);
      if (r < 0) return r;
    }
    for (let done = stored; done < len; ) {
      const k = Math.min(PAGE, len - done);
      const r = task.mm.copyToUser(buf + done, ZEROS, 0, k);
      if (r < 0) return done > 0 ? done : r;
      done += k;
    }
    return len;
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
   * shmem_mmap (mm/shmem.c, 3.14 and v6.12): the VMA maps the file's pages (shmem_vm_ops:
   * shmem_fault); do_mmap checked the access modes before (syscalls.ts sysMmap)
   */
  mmap(f, task, v) {
    const n = f.priv as TmpfsFile;
    (n.cache ??= new PageCache(task.mm.host, n)).attach(task.mm, v);
    return 0;
  },
  /**
   * shmem_file_llseek (mm/shmem.c, 3.14 and v6.12): SEEK_SET/CUR/END through
   * generic_file_llseek_size with MAX_LFS_FILESIZE (SEEK_CUR by 0 returns the position
   * unchecked); SEEK_DATA and SEEK_HOLE its own: a negative offset -EINVAL (3.14) or -ENXIO
   * (v6.12; `shmemSeekNegative`), one at or past the size -ENXIO; data is the stored pages, the
   * hole starts after them (at the size for a file written without gaps); the result through
   * vfs_setpos. The syscall refused a whence past SEEK_MAX before.
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
      case SEEK_HOLE: {
        if (offset < 0) return n.fs.seekNegative === 'enxio' ? -ENXIO : -EINVAL;
        if (offset >= n.size) return -ENXIO;
        const end = n.dataEnd;
        // page by page below dataEnd: a hole or a fallocated, unwritten page is no data
        let idx = Math.floor(offset / PAGE);
        const top = Math.ceil(end / PAGE);
        const wantData = whence === SEEK_DATA;
        while (idx < top && n.isDataPage(idx) !== wantData) idx++;
        if (idx >= top) return wantData ? -ENXIO : setPos(f, Math.max(offset, end), max);
        return setPos(f, Math.max(offset, idx * PAGE), max);
      }
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
