import { EACCES, EEXIST, EINVAL, EISDIR, ELOOP, ENOENT, ENOTDIR, EPERM } from './errors.js';
import { EBUSY, ENOTEMPTY, EROFS, ETXTBSY } from '../base/errno.js';
import { opensForWrite, Tmpfs, TmpfsDir, TmpfsFile, TmpfsSymlink, TmpfsWhiteout } from './tmpfs.js';
import { RootfsDir, RootfsFile, type RootfsSource } from './rootfs.js';
import type { Sysfs } from '../sysfs/sysfs.js';
import { File, type DirEntry, type Task } from './file.js';
import { mayCreate, mayDelete, MAY_EXEC, MAY_READ, MAY_WRITE, permission, ROOT_CRED, type Cred } from './permission.js';
import { dirFops, pathComponents, splitPath, sysfsDir, textFops } from './nodes.js';
import { link, rename, symlink, unlinkNode, type NamesOps } from './names.js';
import { chmodNode, truncateNode } from './attr.js';
import { addDevNode, removeDevNode } from './devtmpfs.js';
import { Procfs, procIno, type PidFile, type ProcFdAnonOpen, type ProcFdinfo, type ProcfsHost, type ProcPtraceAccess } from './procfs.js';
import { dDelete, dentryPathRaw, dget, isNamedDir, namedDirPath, type Dentry, type NamedDir } from './dentry.js';
import { devSubdir, RamDir } from './ramdir.js';
import { dirRefPath, type DirRef, type PathName } from './path-name.js';

export { RamDir } from './ramdir.js';
export { dirRefPath, pathNameText, type DirRef, type PathName } from './path-name.js';

// the permission model is permission.ts, the pseudo files' operations nodes.ts, rename/link/symlink names.ts,
// chmod/truncate attr.ts, devtmpfs's driver nodes devtmpfs.ts

export { DT_CHR, DT_DIR, DT_LNK, DT_REG } from '../uapi/constants.js';

const O_ACCMODE = 3;
const O_WRONLY = 1;
const O_RDWR = 2;
const O_CREAT = 0o100;
const O_EXCL = 0o200;
const O_TRUNC = 0o1000;
const O_DIRECTORY = 0o40000;
const O_NOFOLLOW = 0o100000;

/** MAXSYMLINKS (include/linux/namei.h, 3.14 and v6.12): links one lookup follows in all */
export const MAXSYMLINKS = 40;
/** 3.14 MAX_NESTED_LINKS (include/linux/namei.h): the recursion depth of link_path_walk (`nestedSymlinkLimit`) */
export const MAX_NESTED_LINKS_3_14 = 8;

/** opens a character device or a special file: a File or -errno */
export type Opener = (flags: number, task: Task, path: string) => File | number;

export type VNode =
  | { kind: 'dir'; mode: number; ino: number; uid?: number; lookup(name: string): VNode | null; list(): DirEntry[] }
  | { kind: 'link'; ino: number; target: string; uid?: number; /** a procfs magic link (nd_jump_link): following it reaches this node, not the target text */ jump?: () => VNode; /** the name the jump lands on (the open file's dentry: its f_path) */ jumpDentry?: Dentry; /** a procfs magic link whose proc_get_link fails (proc_exe_link with no exe_file: -ENOENT): readlink and following it answer -err; lstat still finds it */ err?: number }
  | { kind: 'chr' | 'file'; mode: number; ino: number; uid?: number; open: Opener; /** a device node's i_rdev, MKDEV(major, minor) (0: none) */ rdev?: number; /** made by addDevNode (removeDevNode takes away only these) */ driver?: true };

type DirNode = VNode & { kind: 'dir' };

/**
 * the file an open made gets the dentry of the name it was found by (a magic link's: the one
 * the jump landed on): only names in tmpfs and devtmpfs directories change (dentry.ts)
 */
function withDentry(f: File | number, r: Lookup, n: VNode): File | number {
  if (typeof f === 'number') return f;
  if (r.dentry !== undefined) f.dentry = r.dentry;
  else if (r.name !== '' && isNamedDir(r.dir)) f.dentry = dget(r.dir, r.name, n);
  return f;
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
  /** the walk ended on a procfs magic link's file: the name it was opened by (nd_jump_link's path) */
  dentry?: Dentry;
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
 * the VFS are absolute texts, or relative ones with the directory they start at (`PathName`:
 * the syscall layer gives the cwd's or the dirfd's directory, path_init).
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
  readonly dev = new RamDir(this.nextIno(), 0o755, true);
  readonly proc = new RamDir(this.nextIno(), 0o555);
  readonly tmp: Tmpfs;
  /**
   * devtmpfs is a shmem (or ramfs) instance (drivers/base/devtmpfs.c): the data, inode numbers and
   * space of the regular files and symbolic links user space makes under /dev (its directories
   * stay RamDirs beside the driver's nodes)
   */
  readonly devShm: Tmpfs;
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
    this.devShm = new Tmpfs(0o755, opts.maxLfsFilesize, opts.shmemSeekNegative);
    this.nestedSymlinkLimit = opts.nestedSymlinkLimit ?? MAX_NESTED_LINKS_3_14;
    this.root.mountPoint = '/';
    this.dev.mountPoint = '/dev';
    this.proc.mountPoint = '/proc';
    this.tmp.root.mountPoint = '/tmp';
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
    if (n instanceof TmpfsFile || n instanceof TmpfsDir || n instanceof TmpfsSymlink || n instanceof TmpfsWhiteout) return n.fs === this.tmp ? 'tmp' : 'dev';
    return this.mountOf(path);
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
   * Every directory a component is looked up in must be searchable by `cred` (link_path_walk's
   * may_lookup -> inode_permission(MAY_EXEC) at the top of each component, ".", ".." and the
   * last included, 3.14 and v6.12): -EACCES, after the -ENOTDIR of a non-directory and before
   * the component's own -ENOENT.
   */
  private walkFrom(dir: DirNode, stack: string[], comps: readonly string[], trailing: boolean, followLast: boolean, final: boolean, depth: number, w: { links: number }, cred: Cred): Lookup | number {
    let node: VNode = dir;
    let parent: DirNode = dir;
    let name = '';
    // the name a magic link landed on (the last component's only)
    let dentry: Dentry | undefined;
    for (let i = 0; i < comps.length; i++) {
      const c = comps[i]!;
      const last = i === comps.length - 1;
      if (node.kind !== 'dir') return -ENOTDIR;
      const d: DirNode = node;
      // may_lookup (fs/namei.c): search permission on the directory, no allocation
      const perm = permission(cred, d, MAY_EXEC);
      if (perm < 0) return perm;
      dentry = undefined;
      if (c === '.') {
        name = '';
        continue;
      }
      if (c === '..') {
        stack.pop();
        name = '';
        // follow_dotdot: a directory that knows its parent goes to it (a removed one too: its
        // d_parent stays); at a mount's root and in the directories whose names never change,
        // the parent is found again by its path; the directories above are not checked (ROOT_CRED)
        if (isNamedDir(d) && d.parent !== null) {
          node = d.parent as unknown as DirNode;
          continue;
        }
        const up = this.walkFrom(this.root, [], [...stack], false, true, true, 0, { links: 0 }, ROOT_CRED);
        if (typeof up === 'number') return up;
        if (up.node === null) return -ENOENT;
        node = up.node;
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
        if (child.err !== undefined) return -child.err; // proc_pid_get_link refused it (procfs.ts)
        if (child.jump !== undefined) {
          // proc_fd_link / nd_jump_link: the walk lands on the open file itself, at the path
          // it was opened by (its dentry's; a named directory's own)
          node = child.jump();
          const jd = child.jumpDentry;
          if (jd !== undefined) {
            dentry = jd;
            parent = jd.parent as unknown as DirNode;
            name = jd.name;
            stack = splitPath(dentryPathRaw(jd));
          } else if (isNamedDir(node)) {
            parent = node as DirNode;
            name = '';
            stack = splitPath(namedDirPath(node)?.path ?? '/');
          } else {
            parent = d;
            name = c;
            stack.push(c);
          }
          continue;
        }
        const t = child.target;
        if (t.length === 0) return -ENOENT;
        const tc = pathComponents(t);
        const abs = t.startsWith('/');
        const r = this.walkFrom(abs ? this.root : d, abs ? [] : [...stack], tc, t.endsWith('/') && tc.length > 0, true, true, endOfPath ? depth : depth + 1, w, cred);
        if (typeof r === 'number') return r;
        if (r.node === null) {
          if (!endOfPath) return -ENOENT;
          return { ...r, trailing: r.trailing || trailing };
        }
        node = r.node;
        parent = r.dir;
        name = r.name;
        dentry = r.dentry;
        stack = splitPath(r.path);
        continue;
      }
      node = child;
      parent = d;
      name = c;
      stack.push(c);
    }
    if ((trailing || !final) && node.kind !== 'dir') return -ENOTDIR;
    return { node, dir: parent, name, path: '/' + stack.join('/'), trailing, dentry };
  }

  /**
   * where a pathname's walk starts (fs/namei.c path_init): the root for an absolute one (and
   * for a relative text given without a directory), else the directory it is relative to,
   * whose current path gives the names ".." goes back through
   */
  private startOf(p: PathName): { dir: DirNode; stack: string[]; text: string } {
    if (typeof p === 'string') return { dir: this.root, stack: [], text: p };
    if (p.name.startsWith('/')) return { dir: this.root, stack: [], text: p.name };
    return { dir: p.at.node, stack: splitPath(dirRefPath(p.at)), text: p.name };
  }

  /**
   * look a path up: its node (null: the last component is missing, its directory exists) or
   * -errno; `cred` is the caller's (every directory on the way needs its search permission),
   * root for the model's own lookups. A relative pathname starts at its directory (the cwd or
   * a dirfd's): only that directory and the ones after it are searched, as Linux's walk from
   * current->fs->pwd does.
   */
  lookup(path: PathName, followLast: boolean, cred: Cred = ROOT_CRED): Lookup | number {
    const st = this.startOf(path);
    const comps = pathComponents(st.text);
    return this.walkFrom(st.dir, st.stack, comps, st.text.endsWith('/') && comps.length > 0, followLast, true, 0, { links: 0 }, cred);
  }

  /**
   * Walk a path. Links in the middle are always followed; the last component's link
   * only with followLast (or a trailing "/"). Returns the node and its canonical absolute
   * path, or -errno. `cred`: as lookup's.
   */
  walk(path: PathName, followLast: boolean, cred: Cred = ROOT_CRED): { node: VNode; path: string } | number {
    const r = this.lookup(path, followLast, cred);
    if (typeof r === 'number') return r;
    if (r.node === null) return -ENOENT;
    return { node: r.node, path: r.path };
  }

  /**
   * filename_parentat: the directory a path's last component is in (links on the way followed),
   * the component and its kind; -ENOENT / -ENOTDIR / -ELOOP from the walk, -EACCES when a
   * directory on the way or the last component's own directory is not searchable by `cred`
   * (link_path_walk runs may_lookup before it sees that a component is the last)
   */
  parentOf(path: PathName, cred: Cred = ROOT_CRED): Parent | number {
    const st = this.startOf(path);
    const comps = pathComponents(st.text);
    const trailing = st.text.endsWith('/') && comps.length > 0;
    const last = comps.pop();
    const r = this.walkFrom(st.dir, st.stack, comps, false, true, false, 0, { links: 0 }, cred);
    if (typeof r === 'number') return r;
    const dir = r.node as DirNode;
    if (last !== undefined) {
      const perm = permission(cred, dir, MAY_EXEC);
      if (perm < 0) return perm;
    }
    // a relative pathname without components ("", "."-less) names its start directory
    const type = last === undefined ? (st.dir === this.root ? 'root' : 'dot') : last === '.' ? 'dot' : last === '..' ? 'dotdot' : 'norm';
    const name = type === 'norm' ? last! : '';
    return { dir, name, path: (r.path === '/' ? '' : r.path) + '/' + name, type, trailing };
  }

  /**
   * open(2) over the namespace (fs/namei.c path_openat, do_last / open_last_lookups, may_open).
   * A file opened under a tmpfs or devtmpfs directory gets the dentry of the name it was found
   * by (dentry.ts), so its d_path follows renames and shows " (deleted)" once the name goes.
   */
  open(task: Task, path: PathName, flags: number, mode = 0o666): File | number {
    if ((typeof path === 'string' ? path : path.name).length === 0) return -ENOENT;
    const cred = task.proc;
    const creat = (flags & O_CREAT) !== 0;
    // build_open_flags: O_CREAT|O_EXCL implies O_NOFOLLOW
    const excl = creat && (flags & O_EXCL) !== 0;
    const r = this.lookup(path, (flags & O_NOFOLLOW) === 0 && !excl, cred);
    if (typeof r === 'number') return r;
    if (r.node === null) {
      if (!creat) return -ENOENT;
      // open_last_lookups: a trailing "/" and O_CREAT -EISDIR
      if (r.trailing) return -EISDIR;
      // tmpfs and devtmpfs create files (fs/namei.c lookup_open -> shmem_create); the other
      // file systems here have no ->create
      if (this.readOnly(this.mountOf(r.path))) return -EROFS;
      const perm = mayCreate(cred, r.dir, r.name);
      if (perm < 0) return perm;
      const dev = r.dir instanceof RamDir && r.dir.devtmpfs;
      if (!(r.dir instanceof TmpfsDir) && !dev) return -EACCES;
      // lookup_open: the mode less the umask (S_IALLUGO), owner the caller's fsuid
      const f = new TmpfsFile(r.dir instanceof TmpfsDir ? r.dir.fs : this.devShm, mode & 0o7777 & ~task.proc.umask, cred.uid);
      (r.dir as TmpfsDir | RamDir).children.set(r.name, f);
      return withDentry(f.open(flags, task, r.path), r, f);
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
    // the file system's open (do_dentry_open: a tmpfs file's write access, -ETXTBSY while it
    // runs), then O_TRUNC on a writable open of a regular file (fs/namei.c do_last ->
    // handle_truncate, after vfs_open)
    const f = n.open(flags, task, r.path);
    if (typeof f !== 'number' && n instanceof TmpfsFile && (flags & O_TRUNC) !== 0 && opensForWrite(flags)) n.truncate(0);
    return withDentry(f, r, n);
  }

  /**
   * filename_create (fs/namei.c): the parent; ".", ".." or "/" last -EEXIST; the name taken
   * -EEXIST; a trailing "/" when no directory is made -ENOENT; then a read-only mount -EROFS
   * (mnt_want_write's answer waits for these)
   */
  private create(path: PathName, wantDir: boolean, cred: Cred): Parent | number {
    const at = this.parentOf(path, cred);
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
  mkdir(path: PathName, mode: number, cred: Cred = ROOT_CRED): number {
    const at = this.create(path, true, cred);
    if (typeof at === 'number') return at;
    const p = mayCreate(cred, at.dir, at.name);
    if (p < 0) return p;
    // devtmpfs (shmem_mkdir in Linux): a RamDir owned by the caller
    if (at.dir instanceof RamDir && at.dir.devtmpfs) {
      at.dir.children.set(at.name, devSubdir(at.dir, at.name, new RamDir(this.nextIno(), mode & 0o7777, true, cred.uid)));
      return 0;
    }
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
  remove(path: PathName, rmdir: boolean, cred: Cred = ROOT_CRED): number {
    const at = this.parentOf(path, cred);
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
    if (at.dir instanceof RamDir && at.dir.devtmpfs) {
      // devtmpfs (shmem_unlink / simple_rmdir): the name goes; a driver's device node stays bound
      // to its driver, its open files keep working, a later open by path is -ENOENT
      if (n instanceof RamDir && n.children.size > 0) return -ENOTEMPTY;
      if (n instanceof RamDir) n.removed = true;
      if (n instanceof TmpfsFile || n instanceof TmpfsSymlink || n instanceof TmpfsWhiteout) unlinkNode(n);
      at.dir.children.delete(at.name);
      dDelete(at.dir, at.name);
      return 0;
    }
    if (!(at.dir instanceof TmpfsDir)) return -EPERM;
    if (n instanceof TmpfsDir) {
      if (n.children.size > 0) return -ENOTEMPTY;
      n.removed = true;
    }
    if (n instanceof TmpfsFile || n instanceof TmpfsSymlink || n instanceof TmpfsWhiteout) unlinkNode(n);
    at.dir.children.delete(at.name);
    // d_delete: a file opened by this name shows it with " (deleted)" from now on
    dDelete(at.dir, at.name);
    return 0;
  }

  /**
   * rename(2), renameat(2), renameat2(2) without the flag checks of the syscall: names.ts
   * `rename` (fs/namei.c do_renameat2 and vfs_rename, mm/shmem.c shmem_rename2) says the order
   * of the checks. Open descriptors keep their inodes.
   */
  rename(oldPath: PathName, newPath: PathName, flags: number, cred: Cred = ROOT_CRED): number {
    return rename(this.names ??= this.namesOps(), oldPath, newPath, flags, cred);
  }

  /**
   * link(2), linkat(2) once the source is found (`old`, with the path it was found at; node
   * null: an open file without a node): names.ts `link` (do_linkat, vfs_link, shmem_link)
   */
  link(old: { node: VNode | null; path: string }, newPath: PathName, cred: Cred = ROOT_CRED): number {
    return link(this.names ??= this.namesOps(), old, newPath, cred);
  }

  /** symlink(2), symlinkat(2): names.ts `symlink` (do_symlinkat -> vfs_symlink -> shmem_symlink) */
  symlink(target: string, newPath: PathName, cred: Cred = ROOT_CRED): number {
    return symlink(this.names ??= this.namesOps(), target, newPath, cred);
  }

  /** names.ts's view of this namespace (attr.ts uses part of it), made at the first rename, link, symlink, chmod or truncate */
  private names: NamesOps | null = null;

  private namesOps(): NamesOps {
    return {
      parentOf: (p, c) => this.parentOf(p, c),
      parentMount: (p) => this.parentMount(p),
      mountOfNode: (n, p) => this.mountOfNode(n, p),
      readOnly: (m) => this.readOnly(m),
      create: (p, wantDir, c) => this.create(p, wantDir, c),
      devDir: (d): d is RamDir => d instanceof RamDir && d.devtmpfs,
      devShm: this.devShm,
    };
  }

  /** chmod(2) and its family for a node found at `path`: attr.ts `chmodNode` (chmod_common -> notify_change) */
  chmod(node: VNode, path: string, mode: number, cred: Cred = ROOT_CRED): number {
    return chmodNode(this.names ??= this.namesOps(), this.sysfsModes, node, path, mode, cred);
  }

  /** truncate(2), truncate64(2) for a node found at `path`: attr.ts `truncateNode` (vfs_truncate) */
  truncate(node: VNode, path: string, len: number, cred: Cred = ROOT_CRED): number {
    return truncateNode(this.names ??= this.namesOps(), node, path, len, cred);
  }

  /** readlink(2): the link text, or -ENOENT / -EACCES / -EINVAL (not a link) */
  readlink(path: PathName, cred: Cred = ROOT_CRED): string | number {
    const r = this.walk(path, false, cred);
    if (typeof r === 'number') return r;
    if (r.node.kind !== 'link') return -EINVAL;
    return r.node.err !== undefined ? -r.node.err : r.node.target; // proc_pid_readlink's refusal (procfs.ts)
  }


  /** devtmpfs: create a device node (mkdir -p of its directory): devtmpfs.ts `addDevNode` */
  addDevNode(path: string, mode: number, open: Opener, rdev = 0): number {
    return addDevNode(this, path, mode, open, rdev);
  }

  /** devtmpfs: remove a driver's device node: devtmpfs.ts `removeDevNode` */
  removeDevNode(path: string): void {
    removeDevNode(this, path);
  }

  /**
   * procfs /proc/<pid>/<name> for every process (so /proc/self/<name> through the link): a
   * read-only text file about the process whose directory it is (fs/proc/base.c
   * tgid_base_stuff; an open file stays that process's), its text computed at each read. The
   * first call makes /proc/self and takes its inode number, each call one for the file (the
   * numbers the old /proc/self directory and its files had, so later inodes keep theirs).
   */
  addProcSelfFile(name: string, provider: (proc: Task['proc'], tid: number) => string): void {
    if (this.procSelfIno === 0) this.procSelfIno = this.nextIno();
    this.procPidFiles.set(name, { provider, ino: this.nextIno() });
  }

  /**
   * the inode number of an open file as fstat shows it (syscall/stat.ts fileStat, without
   * giving a number to a file that has none yet): an anonymous inode's, a tmpfs or rootfs
   * file's node's, else the node at its path's
   */
  private fileIno(f: File): number {
    if (f.path.startsWith('anon_inode:')) return this.anonIno;
    if (f.priv instanceof TmpfsFile || f.priv instanceof RootfsFile || f.priv instanceof TmpfsDir) return f.priv.ino;
    if (f.dentry !== null) return f.dentry.node.ino;
    const r = f.path.startsWith('/') ? this.walk(f.path, false) : -ENOENT;
    return typeof r === 'number' ? f.ino : r.node.ino;
  }

  /** the per-process files addProcSelfFile registered, and the /proc/self link's inode (0: none yet) */
  private readonly procPidFiles = new Map<string, PidFile>();
  private procSelfIno = 0;

  /**
   * give /proc its per-process entries (procfs.ts) from the process table, per the profile's procfs capabilities; the syscall layer binds its own
   */
  bindProcesses(host: ProcfsHost, anonOpen: ProcFdAnonOpen = 'anon-inode-fops', fdinfo: ProcFdinfo = 'pos-flags', threadSelf = false, ptraceAccess: ProcPtraceAccess = 'read-realcreds'): void {
    const mnt = (f: File): Mount => (f.priv instanceof TmpfsFile || f.priv instanceof TmpfsDir ? 'tmp' : this.mountOf(f.path));
    const pf = new Procfs(host, anonOpen, this.procPidFiles, () => this.procSelfIno || procIno(0, 'self'), (f) => this.fileIno(f), fdinfo, mnt, threadSelf, ptraceAccess);
    this.proc.dynamic = pf;
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
