/**
 * A read-only root file system from a source the board assembly provides (a host directory in
 * tools/unicorn/rootfs.ts; the kernel model sees only this interface): its directories, regular
 * files and symbolic links appear under / beside devtmpfs, procfs, sysfs and tmpfs (which
 * shadow names of the same spelling, as mounts over the root's directories do).
 *
 * Read-only as a file system mounted `ro` (fs/namei.c mnt_want_write -> -EROFS): opening a
 * file for writing, creating, mkdir, unlink and rmdir in it are -EROFS. Symbolic links are
 * resolved by the VFS in the guest's namespace (an absolute target names a guest path, so
 * nothing leads outside the root). Inode numbers hash the path (stable across runs).
 */
import { EINVAL, EROFS } from '../base/errno.js';
import { File, type DirEntry, type FileOps, simpleReadFromBuffer } from './file.js';
import { PageCache, type FileBacking } from '../process/filemap.js';

/**
 * the mount's page caches of the files processes map, by path (filemap.ts; the model's rootfs
 * nodes are made at each lookup, the cache is the inode's: one per file)
 */
export type RootfsCaches = Map<string, PageCache>;

/** what the source says about one path ("/bin/sh", "/" for the root): null when absent */
export type RootfsEntry =
  | { kind: 'dir'; mode: number; names: readonly string[] }
  | { kind: 'file'; mode: number; bytes: () => Uint8Array }
  | { kind: 'link'; target: string };

export type RootfsSource = (path: string) => RootfsEntry | null;

const O_ACCMODE = 3;

function hashIno(p: string): number {
  let h = 2166136261;
  for (let i = 0; i < p.length; i++) h = Math.imul(h ^ p.charCodeAt(i), 16777619) >>> 0;
  return (h % 1_000_000) + 2_000_000;
}

/** a rootfs directory node */
export class RootfsDir {
  readonly kind = 'dir' as const;
  readonly ino: number;
  constructor(readonly src: RootfsSource, readonly path: string, readonly mode: number, private readonly names: readonly string[], readonly caches: RootfsCaches = new Map()) {
    this.ino = hashIno(path);
  }
  lookup(name: string): RootfsDir | RootfsFile | { kind: 'link'; ino: number; target: string } | null {
    return rootfsNode(this.src, this.path === '/' ? `/${name}` : `${this.path}/${name}`, this.caches);
  }
  list(): DirEntry[] {
    const out: DirEntry[] = [];
    for (const name of [...this.names].sort()) {
      const n = this.lookup(name);
      if (n !== null) out.push({ name, ino: n.ino, type: n.kind === 'dir' ? 4 : n.kind === 'link' ? 10 : 8 });
    }
    return out;
  }
}

/** a rootfs regular file: readable, never writable */
export class RootfsFile implements FileBacking {
  readonly kind = 'file' as const;
  readonly ino: number;
  constructor(readonly path: string, readonly mode: number, private readonly bytes: () => Uint8Array, readonly caches: RootfsCaches = new Map()) {
    this.ino = hashIno(path);
  }
  // ---- FileBacking (filemap.ts): filemap_fault's view of the file; never written ----
  fileSize(): number {
    return this.size;
  }
  readPage(idx: number, dst: Uint8Array): void {
    const d = this.bytes();
    const from = idx * 4096;
    if (from < d.length) dst.set(d.subarray(from, Math.min(d.length, from + 4096)));
  }
  detached(): void {
    this.caches.delete(this.path);
  }
  get size(): number {
    return this.bytes().length;
  }
  data(): Uint8Array {
    return this.bytes();
  }
  open = (flags: number, _task: unknown, path: string): File | number => ((flags & O_ACCMODE) !== 0 ? -EROFS : new File(rootfsFops, this, flags, path));
}

export function rootfsNode(src: RootfsSource, path: string, caches: RootfsCaches = new Map()): RootfsDir | RootfsFile | { kind: 'link'; ino: number; target: string } | null {
  const e = src(path);
  if (e === null) return null;
  if (e.kind === 'dir') return new RootfsDir(src, path, e.mode, e.names, caches);
  if (e.kind === 'link') return { kind: 'link', ino: hashIno(path), target: e.target };
  return new RootfsFile(path, e.mode, e.bytes, caches);
}

export const rootfsFops: FileOps = {
  name: 'rootfs',
  read(f, task, buf, count, pos) {
    const d = (f.priv as RootfsFile).data();
    return simpleReadFromBuffer(task, buf, count, pos, d);
  },
  write: () => -EROFS,
  /**
   * generic_file_readonly_mmap's effect (mm/filemap.c): the file's pages through its page cache
   * (filemap_fault), one per file whoever maps it. The rootfs is never written, so the frames
   * hold the file's bytes; do_mmap refused MAP_SHARED+PROT_WRITE on the O_RDONLY file before.
   */
  mmap(f, task, v) {
    const n = f.priv as RootfsFile;
    let c = n.caches.get(n.path);
    if (c === undefined) {
      c = new PageCache(task.mm.host, n);
      n.caches.set(n.path, c);
    }
    c.attach(task.mm, v);
    return 0;
  },
  llseek(f, offset, whence) {
    const size = (f.priv as RootfsFile).size;
    const p = whence === 0 ? offset : whence === 1 ? f.pos + offset : whence === 2 ? size + offset : -1;
    if (whence < 0 || whence > 2 || p < 0) return -EINVAL;
    f.pos = p;
    return p;
  },
};
