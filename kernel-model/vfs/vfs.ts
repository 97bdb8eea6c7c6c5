import { latin1 } from '../base/text.js';
import { EACCES, EEXIST, EINVAL, EISDIR, ELOOP_FALLBACK, ENOENT, ENOTDIR, EPERM } from './errors.js';
import { ENOTEMPTY, EROFS } from '../base/errno.js';
import { opensForWrite, Tmpfs, TmpfsDir, TmpfsFile } from './tmpfs.js';
import { RootfsDir, type RootfsSource } from './rootfs.js';
import { stripSys, type Sysfs, type SysfsEntry } from '../sysfs/sysfs.js';
import { File, posOnlyLlseek, type DirEntry, type FileOps, type Task } from './file.js';

export const DT_CHR = 2;
export const DT_DIR = 4;
export const DT_REG = 8;
export const DT_LNK = 10;

const O_ACCMODE = 3;
const O_WRONLY = 1;
const O_RDWR = 2;
const O_CREAT = 0o100;
const O_EXCL = 0o200;
const O_TRUNC = 0o1000;
const O_DIRECTORY = 0o40000;
const O_NOFOLLOW = 0o100000;

/** opens a character device or a special file: a File or -errno */
export type Opener = (flags: number, task: Task, path: string) => File | number;

export type VNode =
  | { kind: 'dir'; mode: number; ino: number; lookup(name: string): VNode | null; list(): DirEntry[] }
  | { kind: 'link'; ino: number; target: string }
  | { kind: 'chr' | 'file'; mode: number; ino: number; open: Opener };

/** an in-memory directory (/, /dev, /dev/vfio, /proc) */
export class RamDir {
  readonly kind = 'dir' as const;
  readonly children = new Map<string, VNode>();
  /** a directory underneath (the read-only rootfs under /): names not in `children` come from it */
  fallback: (VNode & { kind: 'dir' }) | null = null;
  constructor(
    /** from its Vfs's inode counter (Vfs.nextIno) */
    readonly ino: number,
    public mode = 0o755,
  ) {}
  lookup(name: string): VNode | null {
    return this.children.get(name) ?? this.fallback?.lookup(name) ?? null;
  }
  list(): DirEntry[] {
    const own = [...this.children.keys()].map((name) => {
      const n = this.children.get(name)!;
      return { name, ino: n.ino, type: nodeType(n) };
    });
    const under = this.fallback === null ? [] : this.fallback.list().filter((e) => !this.children.has(e.name));
    return [...own, ...under].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }
}

function nodeType(n: VNode): number {
  return n.kind === 'dir' ? DT_DIR : n.kind === 'link' ? DT_LNK : n.kind === 'chr' ? DT_CHR : DT_REG;
}

function splitPath(p: string): string[] {
  return p.split('/').filter((c) => c.length > 0 && c !== '.');
}

/** "a/b/c" relative from directory "from" (both absolute) */
function relativePath(fromDir: string, to: string): string {
  const a = splitPath(fromDir);
  const b = splitPath(to);
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return [...a.slice(i).map(() => '..'), ...b.slice(i)].join('/') || '.';
}

/**
 * VFS-lite: one namespace with devtmpfs under /dev, the kernel's Sysfs tree under /sys,
 * procfs under /proc and a small writable tmpfs at /tmp (vfs/tmpfs.ts). Paths reaching
 * the VFS are absolute (the syscall layer resolves relative ones against the cwd).
 */
export class Vfs {
  /**
   * The inode numbers of this namespace's in-memory nodes and of the files that have no node
   * (pipes, anonymous inodes), in the order they are created: fs/inode.c get_next_ino, which
   * new_inode_pseudo (pipefs, anon_inodefs) and the ram file systems use. Owned by the
   * instance, so a machine's numbers depend only on what its own guest did (two machines
   * built in one host process list the same numbers).
   */
  private inoSeq = 1;
  readonly root = new RamDir(this.nextIno());
  readonly dev = new RamDir(this.nextIno());
  readonly proc = new RamDir(this.nextIno(), 0o555);
  readonly tmp: Tmpfs;
  /**
   * fs/anon_inodes.c: anon_inode_getfile gives every file the one anon_inode_inode (created at
   * boot by anon_inode_init), so fstat of an eventfd and of a VFIO device fd report the same
   * st_ino (3.14 and v6.12 alike; only anon_inode_create_getfile users get their own inode)
   */
  readonly anonIno = this.nextIno();

  nextIno(): number {
    return this.inoSeq++;
  }

  constructor(
    readonly sysfs: Sysfs | null,
    /** the kernel's MAX_LFS_FILESIZE and shmem_file_llseek's negative-offset answer (the profile's `maxLfsFilesize`, `shmemSeekNegative`; default 3.14's) */
    opts: { maxLfsFilesize?: number; shmemSeekNegative?: 'einval' | 'enxio' } = {},
  ) {
    this.tmp = new Tmpfs(0o1777, opts.maxLfsFilesize, opts.shmemSeekNegative);
    this.root.children.set('dev', this.dev);
    this.root.children.set('proc', this.proc);
    this.root.children.set('tmp', this.tmp.root);
    if (sysfs) this.root.children.set('sys', sysfsDir(sysfs, ''));
  }

  /** the read-only root file system under / (vfs/rootfs.ts): its names appear beside the mounts */
  mountRootfs(src: RootfsSource): void {
    const e = src('/');
    if (e === null || e.kind !== 'dir') return;
    this.root.fallback = new RootfsDir(src, '/', e.mode, e.names);
  }

  /** is a directory on the read-only rootfs (the root itself once one is mounted)? */
  private readOnlyDir(d: VNode): boolean {
    return d instanceof RootfsDir || (d === this.root && this.root.fallback !== null);
  }

  /**
   * Walk a path. Links in the middle are always followed; the last component's link
   * only with followLast. Returns the node and its canonical absolute path, or -errno.
   */
  walk(path: string, followLast: boolean, depth = 0): { node: VNode; path: string } | number {
    if (depth > 8) return -ELOOP_FALLBACK;
    const parts = splitPath(path);
    let node: VNode = this.root;
    const stack: string[] = [];
    for (let i = 0; i < parts.length; i++) {
      const name = parts[i]!;
      if (node.kind !== 'dir') return -ENOTDIR;
      if (name === '..') {
        stack.pop();
        const r = this.walk('/' + stack.join('/'), true, depth + 1);
        if (typeof r === 'number') return r;
        node = r.node;
        continue;
      }
      const c: VNode | null = node.lookup(name);
      if (c === null) return -ENOENT;
      const last = i === parts.length - 1;
      if (c.kind === 'link' && (!last || followLast)) {
        const target = c.target.startsWith('/') ? c.target : '/' + [...stack, c.target].join('/');
        const r = this.walk(target, true, depth + 1);
        if (typeof r === 'number') return r;
        node = r.node;
        stack.length = 0;
        stack.push(...splitPath(r.path));
        continue;
      }
      node = c;
      stack.push(name);
    }
    return { node, path: '/' + stack.join('/') };
  }

  open(task: Task, path: string, flags: number): File | number {
    if (path.length === 0) return -ENOENT;
    const r = this.walk(path, (flags & O_NOFOLLOW) === 0);
    if (typeof r === 'number') {
      if (r === -ENOENT && (flags & O_CREAT) !== 0) {
        // only tmpfs creates files (fs/namei.c lookup_open -> shmem_create); the other file
        // systems here have no ->create
        const at = this.parentOf(path);
        if (typeof at === 'number') return at;
        if (this.readOnlyDir(at.dir)) return -EROFS;
        if (!(at.dir instanceof TmpfsDir)) return -EACCES;
        const f = new TmpfsFile(at.dir.fs);
        at.dir.children.set(at.name, f);
        return f.open(flags, task, at.path);
      }
      return r;
    }
    const n = r.node;
    const acc = flags & O_ACCMODE;
    // O_CREAT|O_EXCL on an existing name (fs/namei.c open_last_lookups)
    if ((flags & (O_CREAT | O_EXCL)) === (O_CREAT | O_EXCL)) return -EEXIST;
    if (n.kind === 'link') return -ELOOP_FALLBACK;
    if (n.kind === 'dir') {
      if (acc === O_WRONLY || acc === O_RDWR || (flags & O_CREAT) !== 0) return -EISDIR;
      return new File(dirFops, n, flags, r.path);
    }
    if ((flags & O_DIRECTORY) !== 0) return -ENOTDIR;
    if (task.proc.uid !== 0) {
      const wantR = acc === 0 || acc === O_RDWR;
      const wantW = acc === O_WRONLY || acc === O_RDWR;
      if ((wantR && (n.mode & 0o004) === 0) || (wantW && (n.mode & 0o002) === 0)) return -EACCES;
    }
    // O_TRUNC on a writable open of a regular file (fs/open.c handle_truncate)
    if (n instanceof TmpfsFile && (flags & O_TRUNC) !== 0 && opensForWrite(flags)) n.truncate(0);
    return n.open(flags, task, r.path);
  }

  /** the directory a new name would go in: its node, the last component and the canonical path */
  parentOf(path: string): { dir: VNode & { kind: 'dir' }; name: string; path: string } | number {
    const parts = splitPath(path);
    const name = parts.pop();
    if (name === undefined) return -EEXIST; // "/" itself
    if (name === '..') return -EINVAL;
    const p = this.walk('/' + parts.join('/'), true);
    if (typeof p === 'number') return p;
    if (p.node.kind !== 'dir') return -ENOTDIR;
    return { dir: p.node, name, path: (p.path === '/' ? '' : p.path) + '/' + name };
  }

  /** mkdir(2): only tmpfs directories take new entries (shmem_mkdir); elsewhere -EACCES */
  mkdir(path: string, mode: number): number {
    const at = this.parentOf(path);
    if (typeof at === 'number') return at;
    if (at.dir.lookup(at.name) !== null) return -EEXIST;
    if (this.readOnlyDir(at.dir)) return -EROFS;
    if (!(at.dir instanceof TmpfsDir)) return -EACCES;
    at.dir.children.set(at.name, new TmpfsDir(at.dir.fs, mode & 0o7777));
    return 0;
  }

  /** unlink(2) (rmdir = false) and rmdir(2) (fs/namei.c do_unlinkat, do_rmdir) */
  remove(path: string, rmdir: boolean): number {
    const at = this.parentOf(path);
    if (typeof at === 'number') return at === -EEXIST ? -EISDIR : at;
    const n = at.dir.lookup(at.name);
    if (n === null) return -ENOENT;
    if (rmdir && n.kind !== 'dir') return -ENOTDIR;
    // unlink of a directory: -EISDIR (Linux's generic answer; POSIX allows -EPERM)
    if (!rmdir && n.kind === 'dir') return -EISDIR;
    if (this.readOnlyDir(at.dir) && !(at.dir === this.root && this.root.children.has(at.name))) return -EROFS;
    if (!(at.dir instanceof TmpfsDir)) return -EACCES;
    if (n instanceof TmpfsDir && n.children.size > 0) return -ENOTEMPTY;
    if (n instanceof TmpfsFile) n.unlinked();
    at.dir.children.delete(at.name);
    return 0;
  }

  /** readlink(2): the link text, or -ENOENT / -EINVAL (not a link) */
  readlink(path: string): string | number {
    const r = this.walk(path, false);
    if (typeof r === 'number') return r;
    if (r.node.kind !== 'link') return -EINVAL;
    return r.node.target;
  }

  /** devtmpfs: create a device node (mkdir -p of its directory) */
  addDevNode(path: string, mode: number, open: Opener): number {
    const parts = splitPath(path.replace(/^\/dev\/?/, ''));
    const name = parts.pop();
    if (!name) return -EINVAL;
    let d = this.dev;
    for (const p of parts) {
      let c = d.children.get(p);
      if (!c) {
        c = new RamDir(this.nextIno());
        d.children.set(p, c);
      }
      if (!(c instanceof RamDir)) return -ENOTDIR;
      d = c;
    }
    if (d.children.has(name)) return -EEXIST;
    d.children.set(name, { kind: 'chr', mode, ino: this.nextIno(), open });
    return 0;
  }

  removeDevNode(path: string): void {
    const parts = splitPath(path.replace(/^\/dev\/?/, ''));
    const name = parts.pop();
    let d: RamDir = this.dev;
    for (const p of parts) {
      const c = d.children.get(p);
      if (!(c instanceof RamDir)) return;
      d = c;
    }
    if (name) d.children.delete(name);
  }

  /**
   * procfs /proc/self/<name>: a read-only text file about the process that opened it
   * (fs/proc/base.c: /proc/self is the opener's /proc/<pid>, and an open file stays that
   * process's), its text computed at each read. Modelled as a directory `self`, made with the
   * first such file (its inode numbers then), not as the link to a per-pid directory.
   */
  addProcSelfFile(name: string, provider: (proc: Task['proc']) => string): void {
    const found = this.proc.children.get('self');
    const self = found instanceof RamDir ? found : new RamDir(this.nextIno(), 0o555);
    if (self !== found) this.proc.children.set('self', self);
    self.children.set(name, {
      kind: 'file',
      mode: 0o444,
      ino: this.nextIno(),
      open: (flags, task) => ((flags & O_ACCMODE) !== 0 ? -EACCES : new File(textFops, { show: () => provider(task.proc) }, flags, `/proc/self/${name}`)),
    });
  }

  /** procfs: a read-only text file whose contents a provider computes at read time */
  addProcFile(name: string, provider: () => string): void {
    this.proc.children.set(name, {
      kind: 'file',
      mode: 0o444,
      ino: this.nextIno(),
      open: (flags) => ((flags & O_ACCMODE) !== 0 ? -EACCES : new File(textFops, { show: provider }, flags, `/proc/${name}`)),
    });
  }
}

// ---------------- directory and text files ----------------

export const dirFops: FileOps = {
  name: 'dir',
  llseek: posOnlyLlseek,
  read: () => -EISDIR,
  write: () => -EISDIR,
  readdir(f: File): DirEntry[] {
    const n = f.priv as VNode & { kind: 'dir' };
    return [{ name: '.', ino: n.ino, type: DT_DIR }, { name: '..', ino: 1, type: DT_DIR }, ...n.list()];
  },
};

interface TextPriv {
  show?: () => string | number;
  store?: (data: string) => number;
}

function bytesOf(s: string): Uint8Array {
  const b = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i) & 0xff;
  return b;
}

/** a file whose text is produced by show() at each read and whose writes go to store() */
export const textFops: FileOps = {
  name: 'text',
  llseek: posOnlyLlseek,
  read(f, task, buf, count, pos) {
    const p = f.priv as TextPriv;
    if (!p.show) return -EACCES;
    const t = p.show();
    if (typeof t === 'number') return t < 0 ? t : -EINVAL;
    const b = bytesOf(t);
    if (pos >= b.length) return 0;
    const n = Math.min(count, b.length - pos);
    const r = task.mm.copyToUser(buf, b, pos, n);
    return r < 0 ? r : n;
  },
  write(f, task, buf, count) {
    const p = f.priv as TextPriv;
    if (!p.store) return -EACCES;
    // sysfs hands at most PAGE_SIZE - 1 bytes to store()
    const n = Math.min(count, 4095);
    const b = new Uint8Array(n);
    const r = task.mm.copyFromUser(b, 0, buf, n);
    if (r < 0) return r;
    return p.store(latin1(b));
  },
};

// ---------------- sysfs adapter ----------------

function sysfsDir(sysfs: Sysfs, path: string): VNode {
  return {
    kind: 'dir',
    mode: 0o755,
    ino: hashIno(path),
    lookup(name: string): VNode | null {
      const p = path ? `${path}/${name}` : name;
      const e = sysfs.lookupNoFollow(p);
      return e ? sysfsNode(sysfs, p, e) : null;
    },
    list(): DirEntry[] {
      const e = sysfs.lookup(path);
      if (!e || e.kind !== 'dir') return [];
      return [...e.children.keys()].sort().map((name) => {
        const c = e.children.get(name)!;
        const p = path ? `${path}/${name}` : name;
        return { name, ino: hashIno(p), type: c.kind === 'dir' ? DT_DIR : c.kind === 'link' ? DT_LNK : DT_REG };
      });
    },
  };
}

function sysfsNode(sysfs: Sysfs, path: string, e: SysfsEntry): VNode {
  if (e.kind === 'dir') return sysfsDir(sysfs, path);
  if (e.kind === 'link') {
    // sysfs shows links relative to the link's directory, as Linux does
    const dir = '/sys/' + path.split('/').slice(0, -1).join('/');
    return { kind: 'link', ino: hashIno(path), target: relativePath(dir, '/sys/' + stripSys(e.target)) };
  }
  const attr = e.attr;
  return {
    kind: 'file',
    mode: attr.mode,
    ino: hashIno(path),
    open: (flags) => {
      const acc = flags & O_ACCMODE;
      // kernfs: reading needs show(), writing needs store(), whatever the caller's capabilities
      if ((acc === 0 || acc === O_RDWR) && !attr.show) return -EACCES;
      if ((acc === O_WRONLY || acc === O_RDWR) && !attr.store) return -EACCES;
      return new File(textFops, attr, flags, `/sys/${path}`);
    },
  };
}

function hashIno(p: string): number {
  let h = 2166136261;
  for (let i = 0; i < p.length; i++) h = Math.imul(h ^ p.charCodeAt(i), 16777619) >>> 0;
  return (h % 1_000_000) + 100_000;
}

export { EPERM };
