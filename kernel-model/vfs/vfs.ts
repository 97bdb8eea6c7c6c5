import { latin1 } from '../base/text.js';
import { EACCES, EEXIST, EINVAL, EISDIR, ELOOP, ENOENT, ENOTDIR, EPERM } from './errors.js';
import { EBUSY, EOPNOTSUPP, ENOTEMPTY, EROFS, EXDEV } from '../base/errno.js';
import { opensForWrite, Tmpfs, TmpfsDir, TmpfsFile, TmpfsSymlink, TmpfsWhiteout, type TmpfsNode } from './tmpfs.js';
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

/** renameat2 flags (include/uapi/linux/fs.h) */
export const RENAME_NOREPLACE = 1;
export const RENAME_EXCHANGE = 2;
export const RENAME_WHITEOUT = 4;

/** MAXSYMLINKS (include/linux/namei.h, 3.14 and v6.12): links one lookup follows in all */
export const MAXSYMLINKS = 40;
/** 3.14 MAX_NESTED_LINKS (include/linux/namei.h): the recursion depth of link_path_walk (`nestedSymlinkLimit`) */
export const MAX_NESTED_LINKS_3_14 = 8;

/** the access a permission check asks for (MAY_READ, MAY_WRITE, MAY_EXEC of include/linux/fs.h) */
export const MAY_EXEC = 1, MAY_WRITE = 2, MAY_READ = 4;
const CAP_DAC_OVERRIDE = 1, CAP_DAC_READ_SEARCH = 2, CAP_FOWNER = 3;

/** the credentials a VFS operation checks: the fsuid and the effective capability set (the Process has both) */
export interface Cred {
  readonly uid: number;
  readonly capEffective: bigint;
}

/** root with every capability: what an operation without a caller (the board's setup, tests) acts as */
export const ROOT_CRED: Cred = { uid: 0, capEffective: (1n << 64n) - 1n };

const capable = (c: Cred, cap: number): boolean => (c.capEffective & (1n << BigInt(cap))) !== 0n;

/** opens a character device or a special file: a File or -errno */
export type Opener = (flags: number, task: Task, path: string) => File | number;

export type VNode =
  | { kind: 'dir'; mode: number; ino: number; uid?: number; lookup(name: string): VNode | null; list(): DirEntry[] }
  | { kind: 'link'; ino: number; target: string; uid?: number }
  | { kind: 'chr' | 'file'; mode: number; ino: number; uid?: number; open: Opener; /** a device node's i_rdev, MKDEV(major, minor) (0: none) */ rdev?: number };

type DirNode = VNode & { kind: 'dir' };

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

/** an inode's owner: tmpfs inodes their creator's, everything else root's */
export function ownerOf(n: VNode): number {
  return n.uid ?? 0;
}

/**
 * generic_permission (fs/namei.c, 3.14 and v6.12 alike): the owner's bits for the owner, else
 * the group's (every process and inode here is in group 0: in_group_p); then the capabilities:
 * directories CAP_DAC_READ_SEARCH for reading and searching, CAP_DAC_OVERRIDE for anything;
 * other files CAP_DAC_READ_SEARCH for reading, CAP_DAC_OVERRIDE for reading and writing, and
 * for executing when some x bit is set. -EACCES otherwise.
 */
export function permission(c: Cred, n: VNode, mask: number): number {
  const mode = n.kind === 'link' ? 0o777 : n.mode;
  const bits = c.uid === ownerOf(n) ? (mode >> 6) & 7 : (mode >> 3) & 7;
  if ((mask & ~bits) === 0) return 0;
  if (n.kind === 'dir') {
    if ((mask & MAY_WRITE) === 0 && capable(c, CAP_DAC_READ_SEARCH)) return 0;
    return capable(c, CAP_DAC_OVERRIDE) ? 0 : -EACCES;
  }
  if (mask === MAY_READ && capable(c, CAP_DAC_READ_SEARCH)) return 0;
  if (((mask & MAY_EXEC) === 0 || (mode & 0o111) !== 0) && capable(c, CAP_DAC_OVERRIDE)) return 0;
  return -EACCES;
}

/** inode_owner_or_capable (fs/inode.c): the owner, or CAP_FOWNER */
function ownerOrCapable(c: Cred, n: VNode): boolean {
  return c.uid === ownerOf(n) || capable(c, CAP_FOWNER);
}

/**
 * may_delete (fs/namei.c, 3.14 and v6.12): write and search permission on the directory, then
 * the sticky bit (check_sticky: in a S_ISVTX directory only the file's owner, the directory's
 * owner or CAP_FOWNER may remove a name: -EPERM), then the kinds: a directory wanted and
 * something else found -ENOTDIR, the reverse -EISDIR
 */
function mayDelete(c: Cred, dir: DirNode, victim: VNode, isDir: boolean): number {
  const p = permission(c, dir, MAY_WRITE | MAY_EXEC);
  if (p < 0) return p;
  if ((dir.mode & 0o1000) !== 0 && c.uid !== ownerOf(victim) && c.uid !== ownerOf(dir) && !capable(c, CAP_FOWNER)) return -EPERM;
  if (isDir && victim.kind !== 'dir') return -ENOTDIR;
  if (!isDir && victim.kind === 'dir') return -EISDIR;
  return 0;
}

/** may_create (fs/namei.c): an existing name -EEXIST, a removed directory -ENOENT, then write and search permission */
function mayCreate(c: Cred, dir: DirNode, name: string): number {
  if (dir.lookup(name) !== null) return -EEXIST;
  if (dir instanceof TmpfsDir && dir.removed) return -ENOENT;
  return permission(c, dir, MAY_WRITE | MAY_EXEC);
}

/** the result of a path lookup (fs/namei.c path_lookupat / filename_parentat, reduced) */
export interface Lookup {
  /** the node; null when the last component does not exist (a creation puts it in `dir` as `name`) */
  node: VNode | null;
  /** the directory the last component was looked up in */
  dir: DirNode;
  /** the last component's name ("" when the lookup ended on ".", ".." or "/") */
  name: string;
  /** the canonical absolute path of the node (or of the name it would get) */
  path: string;
  /** the path ended in "/": its last component must be a directory (LOOKUP_DIRECTORY) */
  trailing: boolean;
}

/** filename_parentat's answer: the directory, the last component and its kind (LAST_NORM, LAST_DOT, LAST_DOTDOT, LAST_ROOT) */
export interface Parent {
  dir: DirNode;
  name: string;
  path: string;
  type: 'norm' | 'dot' | 'dotdot' | 'root';
  /** a "/" followed the last component */
  trailing: boolean;
}

/** which mount a canonical path is on: the four mounted file systems by their mount point, else the root */
export type Mount = 'tmp' | 'dev' | 'proc' | 'sys' | 'root';

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
  /** modes chmod gave sysfs nodes (kernfs_iop_setattr keeps them in the kernfs node), by path below /sys */
  readonly sysfsModes = new Map<string, number>();
  /** how deep symbolic links in the middle of a path may nest (`nestedSymlinkLimit`: 3.14 8, v6.12 MAXSYMLINKS) */
  readonly nestedSymlinkLimit: number;

  nextIno(): number {
    return this.inoSeq++;
  }

  constructor(
    readonly sysfs: Sysfs | null,
    /**
     * the kernel's MAX_LFS_FILESIZE and shmem_file_llseek's negative-offset answer (the profile's
     * `maxLfsFilesize`, `shmemSeekNegative`), the nesting of symbolic links (`nestedSymlinkLimit`);
     * defaults 3.14's
     */
    opts: { maxLfsFilesize?: number; shmemSeekNegative?: 'einval' | 'enxio'; nestedSymlinkLimit?: number } = {},
  ) {
    this.tmp = new Tmpfs(0o1777, opts.maxLfsFilesize, opts.shmemSeekNegative);
    this.nestedSymlinkLimit = opts.nestedSymlinkLimit ?? MAX_NESTED_LINKS_3_14;
    this.root.children.set('dev', this.dev);
    this.root.children.set('proc', this.proc);
    this.root.children.set('tmp', this.tmp.root);
    if (sysfs) this.root.children.set('sys', sysfsDir(sysfs, '', this.sysfsModes));
  }

  /** the read-only root file system under / (vfs/rootfs.ts): its names appear beside the mounts */
  mountRootfs(src: RootfsSource): void {
    const e = src('/');
    if (e === null || e.kind !== 'dir') return;
    this.root.fallback = new RootfsDir(src, '/', e.mode, e.names);
  }

  /** the mount a canonical absolute path is on */
  mountOf(path: string): Mount {
    const first = splitPath(path)[0];
    if (first === 'tmp' || first === 'dev' || first === 'proc' || (first === 'sys' && this.sysfs !== null)) return first;
    return 'root';
  }

  /** the mount of a node found at `path` (a tmpfs node by what it is: its path may be stale after a rename) */
  private mountOfNode(n: VNode, path: string): Mount {
    return n instanceof TmpfsFile || n instanceof TmpfsDir || n instanceof TmpfsSymlink || n instanceof TmpfsWhiteout ? 'tmp' : this.mountOf(path);
  }

  /** the mount of the directory a Parent names (filename_parentat's path.mnt) */
  private parentMount(p: Parent): Mount {
    return this.mountOf(p.path.slice(0, p.path.length - p.name.length - 1) || '/');
  }

  /** mnt_want_write: the root is read-only once a rootfs is mounted */
  private readOnly(m: Mount): boolean {
    return m === 'root' && this.root.fallback !== null;
  }

  /**
   * Walk `comps` from directory `dir` (whose canonical path is `stack`): link_path_walk and
   * the last component's lookup (fs/namei.c). A symbolic link in the middle of the path is
   * followed at one more level of nesting (3.14 nested_symlink: -ELOOP at MAX_NESTED_LINKS
   * levels, `nestedSymlinkLimit`; v6.12 has no limit but the total), the last one when
   * `followLast` or a trailing "/" asks, at the same level (path_lookupat's loop); every link
   * followed counts against MAXSYMLINKS (3.14 follow_link, v6.12 pick_link: the 41st is
   * -ELOOP). A relative target is walked from the link's directory, an absolute one from the
   * root. `final`: the last of `comps` is the path's last component (false: it is a parent).
   */
  private walkFrom(dir: DirNode, stack: string[], comps: readonly string[], trailing: boolean, followLast: boolean, final: boolean, depth: number, w: { links: number }): Lookup | number {
    let node: VNode = dir;
    let parent: DirNode = dir;
    let name = '';
    for (let i = 0; i < comps.length; i++) {
      const c = comps[i]!;
      const last = i === comps.length - 1;
      if (node.kind !== 'dir') return -ENOTDIR;
      const d: DirNode = node;
      if (c === '.') {
        name = '';
        continue;
      }
      if (c === '..') {
        stack.pop();
        const up = this.walkFrom(this.root, [], [...stack], false, true, true, 0, { links: 0 });
        if (typeof up === 'number') return up;
        if (up.node === null) return -ENOENT;
        node = up.node;
        name = '';
        continue;
      }
      const child = d.lookup(c);
      if (child === null) {
        if (!last || !final) return -ENOENT;
        return { node: null, dir: d, name: c, path: '/' + [...stack, c].join('/'), trailing };
      }
      const endOfPath = last && final;
      if (child.kind === 'link' && (!endOfPath || followLast || trailing)) {
        if (!endOfPath && depth >= this.nestedSymlinkLimit) return -ELOOP;
        if (w.links >= MAXSYMLINKS) return -ELOOP;
        w.links++;
        const t = child.target;
        if (t.length === 0) return -ENOENT;
        const tc = t.split('/').filter((x) => x.length > 0);
        const abs = t.startsWith('/');
        const r = this.walkFrom(abs ? this.root : d, abs ? [] : [...stack], tc, t.endsWith('/') && tc.length > 0, true, true, endOfPath ? depth : depth + 1, w);
        if (typeof r === 'number') return r;
        if (r.node === null) {
          if (!endOfPath) return -ENOENT;
          return { ...r, trailing: r.trailing || trailing };
        }
        node = r.node;
        parent = r.dir;
        name = r.name;
        stack = splitPath(r.path);
        continue;
      }
      node = child;
      parent = d;
      name = c;
      stack.push(c);
    }
    if ((trailing || !final) && node.kind !== 'dir') return -ENOTDIR;
    return { node, dir: parent, name, path: '/' + stack.join('/'), trailing };
  }

  /** look a path up: its node (null: the last component is missing, its directory exists) or -errno */
  lookup(path: string, followLast: boolean): Lookup | number {
    const comps = path.split('/').filter((c) => c.length > 0);
    return this.walkFrom(this.root, [], comps, path.endsWith('/') && comps.length > 0, followLast, true, 0, { links: 0 });
  }

  /**
   * Walk a path. Links in the middle are always followed; the last component's link
   * only with followLast (or a trailing "/"). Returns the node and its canonical absolute
   * path, or -errno.
   */
  walk(path: string, followLast: boolean): { node: VNode; path: string } | number {
    const r = this.lookup(path, followLast);
    if (typeof r === 'number') return r;
    if (r.node === null) return -ENOENT;
    return { node: r.node, path: r.path };
  }

  /**
   * filename_parentat: the directory a path's last component is in (links on the way followed),
   * the component and its kind; -ENOENT / -ENOTDIR / -ELOOP from the walk
   */
  parentOf(path: string): Parent | number {
    const comps = path.split('/').filter((c) => c.length > 0);
    const trailing = path.endsWith('/') && comps.length > 0;
    const last = comps.pop();
    const r = this.walkFrom(this.root, [], comps, false, true, false, 0, { links: 0 });
    if (typeof r === 'number') return r;
    const dir = r.node as DirNode;
    const type = last === undefined ? 'root' : last === '.' ? 'dot' : last === '..' ? 'dotdot' : 'norm';
    const name = type === 'norm' ? last! : '';
    return { dir, name, path: (r.path === '/' ? '' : r.path) + '/' + name, type, trailing };
  }

  open(task: Task, path: string, flags: number, mode = 0o666): File | number {
    if (path.length === 0) return -ENOENT;
    const cred = task.proc;
    const creat = (flags & O_CREAT) !== 0;
    // build_open_flags: O_CREAT|O_EXCL implies O_NOFOLLOW
    const excl = creat && (flags & O_EXCL) !== 0;
    const r = this.lookup(path, (flags & O_NOFOLLOW) === 0 && !excl);
    if (typeof r === 'number') return r;
    if (r.node === null) {
      if (!creat) return -ENOENT;
      // open_last_lookups: a trailing "/" and O_CREAT -EISDIR
      if (r.trailing) return -EISDIR;
      // only tmpfs creates files (fs/namei.c lookup_open -> shmem_create); the other file
      // systems here have no ->create
      if (this.readOnly(this.mountOf(r.path))) return -EROFS;
      const perm = mayCreate(cred, r.dir, r.name);
      if (perm < 0) return perm;
      if (!(r.dir instanceof TmpfsDir)) return -EACCES;
      // lookup_open: the mode less the umask (S_IALLUGO), owner the caller's fsuid
      const f = new TmpfsFile(r.dir.fs, mode & 0o7777 & ~task.proc.umask, cred.uid);
      r.dir.children.set(r.name, f);
      return f.open(flags, task, r.path);
    }
    const n = r.node;
    const acc = flags & O_ACCMODE;
    // O_CREAT|O_EXCL on an existing name (fs/namei.c open_last_lookups)
    if (excl) return -EEXIST;
    // O_NOFOLLOW on a final symbolic link (do_open / may_open: -ELOOP)
    if (n.kind === 'link') return -ELOOP;
    if (n.kind === 'dir') {
      if (acc === O_WRONLY || acc === O_RDWR || creat) return -EISDIR;
      const p = permission(cred, n, MAY_READ);
      if (p < 0) return p;
      return new File(dirFops, n, flags, r.path);
    }
    if ((flags & O_DIRECTORY) !== 0) return -ENOTDIR;
    // may_open -> inode_permission with the access asked for
    const want = (acc === 0 || acc === O_RDWR ? MAY_READ : 0) | (acc === O_WRONLY || acc === O_RDWR ? MAY_WRITE : 0);
    const p = permission(cred, n, want);
    if (p < 0) return p;
    // O_TRUNC on a writable open of a regular file (fs/open.c handle_truncate)
    if (n instanceof TmpfsFile && (flags & O_TRUNC) !== 0 && opensForWrite(flags)) n.truncate(0);
    return n.open(flags, task, r.path);
  }

  /**
   * filename_create (fs/namei.c): the parent; ".", ".." or "/" last -EEXIST; the name taken
   * -EEXIST; a trailing "/" when no directory is made -ENOENT; then a read-only mount -EROFS
   * (mnt_want_write's answer waits for these)
   */
  private create(path: string, wantDir: boolean): Parent | number {
    const at = this.parentOf(path);
    if (typeof at === 'number') return at;
    if (at.type !== 'norm') return -EEXIST;
    if (at.dir.lookup(at.name) !== null) return -EEXIST;
    if (at.trailing && !wantDir) return -ENOENT;
    if (this.readOnly(this.parentMount(at))) return -EROFS;
    return at;
  }

  /**
   * mkdir(2) (do_mkdirat -> vfs_mkdir): `mode` is the caller's after its umask; only tmpfs
   * directories take new entries (shmem_mkdir); sysfs and procfs have no mkdir for user space
   * (kernfs_iop_mkdir without syscall ops, proc_root without ->mkdir: -EPERM), nor has this
   * model's devtmpfs (Linux's is a shmem and would take it)
   */
  mkdir(path: string, mode: number, cred: Cred = ROOT_CRED): number {
    const at = this.create(path, true);
    if (typeof at === 'number') return at;
    const p = mayCreate(cred, at.dir, at.name);
    if (p < 0) return p;
    if (!(at.dir instanceof TmpfsDir)) return -EPERM;
    at.dir.children.set(at.name, new TmpfsDir(at.dir.fs, mode & 0o7777, cred.uid, at.dir, at.name));
    return 0;
  }

  /**
   * unlink(2) (rmdir = false) and rmdir(2): fs/namei.c do_unlinkat, do_rmdir. rmdir of "." is
   * -EINVAL, of ".." -ENOTEMPTY, of "/" -EBUSY; unlink of any of them -EISDIR; then the mount
   * (-EROFS), the name (-ENOENT), unlink with a trailing "/" of a non-directory -ENOTDIR, then
   * may_delete, then the file system: only tmpfs removes names (the others -EPERM: no
   * ->unlink / ->rmdir for user space), a non-empty directory -ENOTEMPTY
   */
  remove(path: string, rmdir: boolean, cred: Cred = ROOT_CRED): number {
    const at = this.parentOf(path);
    if (typeof at === 'number') return at;
    if (at.type !== 'norm') return rmdir ? (at.type === 'dot' ? -EINVAL : at.type === 'dotdot' ? -ENOTEMPTY : -EBUSY) : -EISDIR;
    if (this.readOnly(this.parentMount(at))) return -EROFS;
    const n = at.dir.lookup(at.name);
    if (n === null) return -ENOENT;
    if (!rmdir && at.trailing && n.kind !== 'dir') return -ENOTDIR;
    const d = mayDelete(cred, at.dir, n, rmdir);
    if (d < 0) return d;
    // a mount point (the names /dev, /proc, /sys, /tmp in the root): -EBUSY
    if (at.dir === this.root && this.root.children.has(at.name)) return -EBUSY;
    if (!(at.dir instanceof TmpfsDir)) return -EPERM;
    if (n instanceof TmpfsDir) {
      if (n.children.size > 0) return -ENOTEMPTY;
      n.removed = true;
    }
    if (n instanceof TmpfsFile || n instanceof TmpfsSymlink || n instanceof TmpfsWhiteout) unlinkNode(n);
    at.dir.children.delete(at.name);
    return 0;
  }

  /**
   * rename(2), renameat(2), renameat2(2) without the flag checks of the syscall:
   * fs/namei.c do_renameat2 and vfs_rename, mm/shmem.c shmem_rename2 (3.14 shmem_rename).
   * In order: both parents looked up; different mounts -EXDEV; "."/".."/"/" as the source
   * -EBUSY, as the target -EBUSY (-EEXIST with RENAME_NOREPLACE); a read-only mount -EROFS; no
   * source -ENOENT; NOREPLACE and a target -EEXIST; EXCHANGE without a target -ENOENT; trailing
   * slashes on a non-directory -ENOTDIR; the source an ancestor of the target's directory
   * -EINVAL, the target an ancestor of the source -ENOTEMPTY (-EINVAL with EXCHANGE); then
   * vfs_rename: the same inode under both names: nothing happens (0); may_delete of the source,
   * may_create or may_delete of the target (its kind against the source's: -ENOTDIR, -EISDIR);
   * a file system without ->rename -EPERM (sysfs: kernfs_iop_rename without syscall ops;
   * procfs; this model's devtmpfs); a directory moved to another parent needs write permission
   * on itself; mount points -EBUSY; then shmem: a non-empty directory target -ENOTEMPTY, the
   * exchange, the whiteout left at the old name (v6.12 shmem_whiteout), the target replaced.
   * Open descriptors keep their inodes: a renamed or replaced file stays readable through them.
   */
  rename(oldPath: string, newPath: string, flags: number, cred: Cred = ROOT_CRED): number {
    const op = this.parentOf(oldPath);
    if (typeof op === 'number') return op;
    const np = this.parentOf(newPath);
    if (typeof np === 'number') return np;
    const mount = this.parentMount(op);
    if (mount !== this.parentMount(np)) return -EXDEV;
    if (op.type !== 'norm') return -EBUSY;
    if (np.type !== 'norm') return (flags & RENAME_NOREPLACE) !== 0 ? -EEXIST : -EBUSY;
    if (this.readOnly(mount)) return -EROFS;
    const src = op.dir.lookup(op.name);
    if (src === null) return -ENOENT;
    const dst = np.dir.lookup(np.name);
    const exchange = (flags & RENAME_EXCHANGE) !== 0;
    if ((flags & RENAME_NOREPLACE) !== 0 && dst !== null) return -EEXIST;
    if (exchange) {
      if (dst === null) return -ENOENT;
      if (dst.kind !== 'dir' && np.trailing) return -ENOTDIR;
    }
    if (src.kind !== 'dir' && (op.trailing || (!exchange && np.trailing))) return -ENOTDIR;
    // lock_rename's trap: the source above the target's directory, or the target above the source's
    const oldFull = op.path, newFull = np.path;
    const oldDirPath = oldFull.slice(0, oldFull.lastIndexOf('/')) || '/';
    const newDirPath = newFull.slice(0, newFull.lastIndexOf('/')) || '/';
    if (oldDirPath !== newDirPath) {
      if ((newDirPath + '/').startsWith(oldFull + '/')) return -EINVAL;
      if ((oldDirPath + '/').startsWith(newFull + '/')) return exchange ? -EINVAL : -ENOTEMPTY;
    }
    // vfs_rename
    if (src === dst) return 0;
    const isDir = src.kind === 'dir';
    let e = mayDelete(cred, op.dir, src, isDir);
    if (e < 0) return e;
    e = dst === null ? mayCreate(cred, np.dir, np.name) : mayDelete(cred, np.dir, dst, exchange ? dst.kind === 'dir' : isDir);
    if (e < 0) return e;
    if (!(op.dir instanceof TmpfsDir) || !(np.dir instanceof TmpfsDir)) return -EPERM;
    if (op.dir !== np.dir) {
      if (isDir) {
        e = permission(cred, src, MAY_WRITE);
        if (e < 0) return e;
      }
      if (exchange && dst !== null && dst.kind === 'dir') {
        e = permission(cred, dst, MAY_WRITE);
        if (e < 0) return e;
      }
    }
    const s = src as TmpfsNode;
    const od = op.dir, nd = np.dir;
    if (exchange) {
      // simple_rename_exchange: the two names swap their inodes
      const t = dst as TmpfsNode;
      od.children.set(op.name, t);
      nd.children.set(np.name, s);
      if (s instanceof TmpfsDir) [s.parent, s.name] = [nd, np.name];
      if (t instanceof TmpfsDir) [t.parent, t.name] = [od, op.name];
      return 0;
    }
    if (dst instanceof TmpfsDir && dst.children.size > 0) return -ENOTEMPTY;
    if (dst !== null) {
      // shmem_unlink of the target (its open descriptors keep it)
      if (dst instanceof TmpfsDir) dst.removed = true;
      else unlinkNode(dst as TmpfsFile | TmpfsSymlink | TmpfsWhiteout);
    }
    od.children.delete(op.name);
    // RENAME_WHITEOUT: shmem_whiteout leaves a whiteout (char 0:0) at the old name, the caller's
    if ((flags & RENAME_WHITEOUT) !== 0) od.children.set(op.name, new TmpfsWhiteout(od.fs, cred.uid));
    nd.children.set(np.name, s);
    if (s instanceof TmpfsDir) [s.parent, s.name] = [nd, np.name];
    return 0;
  }

  /**
   * link(2), linkat(2) once the source is found (`old`, with the path it was found at; node
   * null: an open file without a node, AT_EMPTY_PATH on a pipe or an anonymous inode):
   * do_linkat's filename_create for the new name, then different mounts -EXDEV, then vfs_link:
   * may_create, a file system without ->link -EPERM (sysfs, procfs; this model's devtmpfs), a
   * directory -EPERM, an inode whose last name is gone -ENOENT; shmem_link adds the name
   */
  link(old: { node: VNode | null; path: string }, newPath: string, cred: Cred = ROOT_CRED): number {
    const at = this.create(newPath, false);
    if (typeof at === 'number') return at;
    // a file without a node here (a pipe, an anonymous inode) is on a mount of its own
    if (old.node === null || this.mountOfNode(old.node, old.path) !== this.parentMount(at)) return -EXDEV;
    const p = mayCreate(cred, at.dir, at.name);
    if (p < 0) return p;
    const n = old.node;
    if (!(at.dir instanceof TmpfsDir)) return -EPERM;
    if (n.kind === 'dir') return -EPERM;
    if (!(n instanceof TmpfsFile || n instanceof TmpfsSymlink || n instanceof TmpfsWhiteout)) return -EPERM;
    if (n.nlink === 0) return -ENOENT;
    n.nlink++;
    at.dir.children.set(at.name, n);
    return 0;
  }

  /**
   * symlink(2), symlinkat(2) (fs/namei.c do_symlinkat -> vfs_symlink -> shmem_symlink): the new
   * name as filename_create finds it, may_create, a file system without ->symlink -EPERM; the
   * link is S_IFLNK|0777 whatever the umask, owned by the caller. (The syscall refused an empty
   * target, -ENOENT, and one of PATH_MAX or more, -ENAMETOOLONG, when it copied it: shmem's
   * PAGE_SIZE limit cannot be reached.)
   */
  symlink(target: string, newPath: string, cred: Cred = ROOT_CRED): number {
    const at = this.create(newPath, false);
    if (typeof at === 'number') return at;
    const p = mayCreate(cred, at.dir, at.name);
    if (p < 0) return p;
    if (!(at.dir instanceof TmpfsDir)) return -EPERM;
    at.dir.children.set(at.name, new TmpfsSymlink(at.dir.fs, target, cred.uid));
    return 0;
  }

  /**
   * chmod_common (fs/open.c) -> notify_change (fs/attr.c) -> the file system's setattr, for a
   * node found at `path`: a read-only mount -EROFS; a symbolic link (fchmodat2 with
   * AT_SYMLINK_NOFOLLOW) -EOPNOTSUPP (v6.12 notify_change, "attr: block mode changes of
   * symlinks", v6.6); not the owner and no CAP_FOWNER -EPERM (setattr_prepare); procfs's
   * /proc/self entries -EPERM (proc_setattr); elsewhere the mode bits (S_IALLUGO) are the new
   * ones: tmpfs (shmem_setattr), sysfs (kernfs_iop_setattr keeps them), devtmpfs and the rest
   * of procfs (simple_setattr, proc_notify_change)
   */
  chmod(node: VNode, path: string, mode: number, cred: Cred = ROOT_CRED): number {
    const m = this.mountOfNode(node, path);
    if (this.readOnly(m)) return -EROFS;
    if (node.kind === 'link') return -EOPNOTSUPP;
    if (!ownerOrCapable(cred, node)) return -EPERM;
    const bits = mode & 0o7777;
    if (m === 'proc' && /^\/proc\/self(\/|$)/.test(path)) return -EPERM;
    if (m === 'sys') {
      this.sysfsModes.set(path.replace(/^\/sys\/?/, ''), bits);
      return 0;
    }
    (node as { mode: number }).mode = bits;
    return 0;
  }

  /**
   * vfs_truncate (fs/open.c) for a node found at `path` (truncate(2), truncate64(2); the syscall
   * refused a negative length): a directory -EISDIR, anything else but a regular file -EINVAL,
   * a read-only mount -EROFS, no write permission -EACCES, then do_truncate: tmpfs sets the size
   * (shmem_setattr; past s_maxbytes -EFBIG); sysfs and procfs files take it and keep theirs
   * (kernfs_iop_setattr "ignores size changes", proc_setattr / proc_notify_change)
   */
  truncate(node: VNode, path: string, len: number, cred: Cred = ROOT_CRED): number {
    if (node.kind === 'dir') return -EISDIR;
    if (node.kind !== 'file') return -EINVAL;
    if (this.readOnly(this.mountOfNode(node, path))) return -EROFS;
    const p = permission(cred, node, MAY_WRITE);
    if (p < 0) return p;
    return node instanceof TmpfsFile ? node.setSize(len) : 0;
  }

  /** readlink(2): the link text, or -ENOENT / -EINVAL (not a link) */
  readlink(path: string): string | number {
    const r = this.walk(path, false);
    if (typeof r === 'number') return r;
    if (r.node.kind !== 'link') return -EINVAL;
    return r.node.target;
  }


  /** devtmpfs: create a device node (mkdir -p of its directory) */
  addDevNode(path: string, mode: number, open: Opener, rdev = 0): number {
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
    d.children.set(name, { kind: 'chr', mode, ino: this.nextIno(), open, rdev });
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

/** one name of a tmpfs inode removed (shmem_unlink drop_nlink) */
function unlinkNode(n: TmpfsFile | TmpfsSymlink | TmpfsWhiteout): void {
  if (n instanceof TmpfsFile) n.unlinked();
  else if (n.nlink > 0) n.nlink--;
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

function sysfsDir(sysfs: Sysfs, path: string, modes: ReadonlyMap<string, number>): VNode {
  return {
    kind: 'dir',
    mode: modes.get(path) ?? 0o755,
    ino: hashIno(path),
    lookup(name: string): VNode | null {
      const p = path ? `${path}/${name}` : name;
      const e = sysfs.lookupNoFollow(p);
      return e ? sysfsNode(sysfs, p, e, modes) : null;
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

function sysfsNode(sysfs: Sysfs, path: string, e: SysfsEntry, modes: ReadonlyMap<string, number>): VNode {
  if (e.kind === 'dir') return sysfsDir(sysfs, path, modes);
  if (e.kind === 'link') {
    // sysfs shows links relative to the link's directory, as Linux does
    const dir = '/sys/' + path.split('/').slice(0, -1).join('/');
    return { kind: 'link', ino: hashIno(path), target: relativePath(dir, '/sys/' + stripSys(e.target)) };
  }
  const attr = e.attr;
  return {
    kind: 'file',
    mode: modes.get(path) ?? attr.mode,
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
