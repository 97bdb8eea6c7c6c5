import type { WaitQueue } from '../../emulator/cpu/cpu.js';
import type { AddressSpace, Vma } from '../process/mm.js';
import type { Process } from '../process/process.js';
import type { Dentry } from './dentry.js';

/** returned by a blocking operation after it parked the caller: the syscall is restarted when woken */
export const ERESTARTSYS = 512;

/** f_mode bits */
export const FMODE_READ = 1;
export const FMODE_WRITE = 2;
export const FMODE_LSEEK = 4;
export const FMODE_PREAD = 8;
export const FMODE_PWRITE = 16;

/**
 * The kernel context of a syscall ("current"): the calling process, its address space,
 * and a way to sleep. A file operation that must wait calls `sleepOn(wq)` for each wait
 * queue and returns -ERESTARTSYS; the syscall layer blocks the thread and re-executes
 * the operation when a queue is woken (Linux's restart semantics, without signals).
 */
export interface Task {
  readonly proc: Process;
  readonly mm: AddressSpace;
  /** false in contexts that cannot sleep (the plain invoke entry without a thread) */
  readonly canBlock: boolean;
  sleepOn(wq: WaitQueue): void;
}

/** poll_table: a poll op registers its wait queues here (null when only the mask is wanted) */
export interface PollTable {
  wait(wq: WaitQueue): void;
}

export interface DirEntry {
  name: string;
  type: number;
  ino: number;
}

/**
 * struct file_operations, reduced. Every method returns Linux values (>= 0 or -errno).
 * `buf` arguments are user pointers: the op copies with task.mm.copyToUser/FromUser.
 */
export interface FileOps {
  readonly name: string;
  read?(f: File, task: Task, buf: number, count: number, pos: number): number;
  write?(f: File, task: Task, buf: number, count: number, pos: number): number;
  /** when absent, lseek is generic (SEEK_SET/CUR; SEEK_END with `size`) */
  llseek?(f: File, offset: number, whence: number): number;
  ioctl?(f: File, task: Task, cmd: number, arg: number): number;
  /** the VMA exists (anonymous, empty); the op makes it a device mapping or refuses */
  mmap?(f: File, task: Task, vma: Vma): number;
  poll?(f: File, pt: PollTable | null): number;
  readdir?(f: File): DirEntry[] | number;
  release?(f: File): void;
  /**
   * show_fdinfo: the lines /proc/<pid>/fdinfo/N adds after its own (fs/proc/fd.c seq_show);
   * `fdinfo` is the profile's procFdinfo (vfs/procfs.ts ProcFdinfo)
   */
  showFdinfo?(f: File, fdinfo: 'pos-flags' | 'mnt-id-ino'): string;
  /**
   * read/write never update *ppos (the file position stays where it was): Linux's
   * vfs_read/vfs_write write back whatever the driver left in *ppos, and some drivers
   * (vfio_device_fops_read/write -> vfio-platform's read/write) never touch it. Absent:
   * the position advances by the bytes transferred, as most drivers do.
   */
  readonly keepsPos?: boolean;
  /** write never updates *ppos, read does (procfs's comm_write ignores its offset; seq_read moves it) */
  readonly writeKeepsPos?: boolean;
}

/** struct file */
export class File {
  refs = 1;
  pos = 0;
  /** FMODE_* */
  mode: number;
  /**
   * the inode number fstat reports for a file without a node of its own: a pipe's (both ends
   * share the pipefs inode, set at pipe()); 0 until the VFS assigns one (syscall/stat.ts fileStat)
   */
  ino = 0;
  /** f_cred: the opener's credentials (Process.credRef) for an open(2)ed file; null for the others */
  cred: object | null = null;
  /**
   * f_path's dentry for a file opened by a name that can change (tmpfs, devtmpfs: dentry.ts):
   * its d_path follows renames and shows " (deleted)" once the name goes; null: `path` is it
   */
  dentry: Dentry | null = null;
  constructor(
    readonly ops: FileOps,
    public priv: unknown,
    /** open flags (O_NONBLOCK, O_APPEND, access mode) */
    public flags: number,
    /**
     * the path it was opened by, or "anon_inode:[eventfd]", "pipe:": what /proc/self/fd shows
     * unless a dentry or a directory that follows renames says more (procfs.ts fdPath)
     */
    readonly path: string,
  ) {
    const acc = flags & 3;
    this.mode = (acc === 0 || acc === 2 ? FMODE_READ : 0) | (acc === 1 || acc === 2 ? FMODE_WRITE : 0) | FMODE_LSEEK | FMODE_PREAD | FMODE_PWRITE;
  }

  get(): this {
    this.refs++;
    return this;
  }

  /** fput: the last reference calls release */
  put(): void {
    if (this.refs <= 0) return;
    this.refs--;
    if (this.refs === 0) this.ops.release?.(this);
  }
}

/**
 * anon_inode_getfile. The file has no pread/pwrite and, in 3.14, no lseek: 3.14 alloc_file sets
 * f_mode to the access mode only (FMODE_LSEEK, FMODE_PREAD and FMODE_PWRITE come from
 * do_dentry_open, which an anonymous inode's file never goes through); v6.12 file_init_path
 * adds FMODE_LSEEK when the fops have an llseek (`lseek`: the profile's anonInodeLseek; of the
 * anon-inode fops modelled here only eventfd's noop_llseek). A driver that wants positioned
 * I/O sets the bits itself (VFIO's device file: vfio_group_get_device_fd).
 */
export function anonInodeGetFile(name: string, ops: FileOps, priv: unknown, flags: number, lseek: 'never' | 'with-llseek' = 'never'): File {
  const f = allocFile(ops, priv, flags, `anon_inode:${name}`);
  if (lseek === 'with-llseek' && ops.llseek) f.mode |= FMODE_LSEEK;
  return f;
}

/**
 * alloc_file (3.14) / alloc_file_pseudo (v6.12): a file that did not go through
 * do_dentry_open, so f_mode is the access mode only: no FMODE_LSEEK, FMODE_PREAD or
 * FMODE_PWRITE (anonymous inodes, pipes)
 */
export function allocFile(ops: FileOps, priv: unknown, flags: number, path: string): File {
  const f = new File(ops, priv, flags, path);
  f.mode &= ~(FMODE_LSEEK | FMODE_PREAD | FMODE_PWRITE);
  return f;
}

/**
 * An llseek for files without a size: SEEK_SET and SEEK_CUR move the position, anything else
 * (SEEK_END, SEEK_DATA, SEEK_HOLE) is -EINVAL, as is a negative result. What the model's
 * sysfs/procfs text files and directories answer (their kernels' generic_file_llseek and
 * dcache_dir_lseek also take SEEK_END against i_size; not modelled).
 */
/**
 * fs/libfs.c simple_read_from_buffer: bytes [pos, pos + count) of `data`, clipped to its end,
 * copied to the user buffer; 0 at or past the end, the copy's error when it faults.
 */
export function simpleReadFromBuffer(task: Task, buf: number, count: number, pos: number, data: Uint8Array): number {
  if (pos >= data.length) return 0;
  const n = Math.min(count, data.length - pos);
  const r = task.mm.copyToUser(buf, data, pos, n);
  return r < 0 ? r : n;
}

export function posOnlyLlseek(f: File, offset: number, whence: number): number {
  const p = whence === 0 ? offset : whence === 1 ? f.pos + offset : -1;
  if (p < 0) return -22; // -EINVAL
  f.pos = p;
  return p;
}
