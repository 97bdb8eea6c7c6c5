/**
 * Names that follow renames and removals: the part of struct dentry and d_path (3.14
 * fs/dcache.c, v6.12 fs/d_path.c) the model needs for the directories whose names user space
 * changes (tmpfs and devtmpfs) and for the files opened in them.
 *
 * - A directory there keeps its own place (`NamedDir`: parent, name, removed; a mount's root
 *   its mount point): it is its own dentry, as a directory has one name. The process's cwd
 *   and an open directory hold the directory itself (struct path), and its path text is
 *   computed when asked (`namedDirPath`).
 * - A file opened by name there gets a `Dentry`: the directory and name it was found under.
 *   One per (directory, name, inode), kept in the directory's `dcache` while it is that
 *   name's (d_lookup's hash): rename moves it (d_move), unlink and a replacing rename unhash
 *   it (d_delete: `deleted`), so the file's d_path is its current name, or the name it had
 *   with " (deleted)" appended (d_path: d_unlinked).
 * - The other directories (the root, sysfs, procfs, the read-only rootfs) never change
 *   names: the path a lookup found them at stays theirs.
 */
import type { VNode } from './vfs.js';

/** a directory that knows its parent and its name (tmpfs, devtmpfs, and the mounts' roots) */
export interface NamedDir {
  readonly parent: NamedDir | null;
  readonly name: string;
  /** rmdir'd (IS_DEADDIR, d_unlinked) */
  readonly removed: boolean;
  /** the path it is mounted at when it is a mount's root ("/", "/dev", "/tmp", "/proc"), else null */
  readonly mountPoint: string | null;
  /** the dentries of files opened under this directory, by name (null until the first) */
  dcache: Map<string, Dentry> | null;
}

/** is `n` a directory that follows its renames (TmpfsDir, RamDir) */
export function isNamedDir(n: VNode | NamedDir): n is VNode & NamedDir {
  return (n as Partial<NamedDir>).mountPoint !== undefined;
}

/**
 * the path of a named directory (prepend_path: its name and its parents' up to a mount's
 * root, then the mount point) and whether it or a directory above it was removed
 * (d_unlinked); null when it hangs under no mount (a detached tree)
 */
export function namedDirPath(d: NamedDir): { path: string; unlinked: boolean } | null {
  let path = '';
  let unlinked = false;
  let x: NamedDir = d;
  while (x.mountPoint === null) {
    if (x.removed) unlinked = true;
    if (x.parent === null) return null;
    path = '/' + x.name + path;
    x = x.parent;
  }
  return { path: x.mountPoint === '/' ? path || '/' : x.mountPoint + path, unlinked };
}

/** a file's name in a named directory (struct dentry, reduced) */
export class Dentry {
  /** unhashed: its name was removed or taken by a rename over it (d_delete / d_unlinked) */
  deleted = false;
  constructor(
    public parent: NamedDir,
    public name: string,
    readonly node: VNode,
  ) {}
}

/**
 * the dentry of `node` under `dir` as `name` (d_lookup, else d_alloc): the one already in the
 * directory's dcache when it is this node's, else a new one put there
 */
export function dget(dir: NamedDir, name: string, node: VNode): Dentry {
  const have = dir.dcache?.get(name);
  if (have !== undefined && have.node === node) return have;
  const d = new Dentry(dir, name, node);
  (dir.dcache ??= new Map()).set(name, d);
  return d;
}

/** the name `name` of `dir` went (unlink, rmdir, a rename over it): its dentry is unhashed (d_delete) */
export function dDelete(dir: NamedDir, name: string): void {
  const d = dir.dcache?.get(name);
  if (d === undefined) return;
  d.deleted = true;
  dir.dcache!.delete(name);
}

/** rename moved `oname` of `od` to `nname` of `nd` (d_move; the target's dentry was deleted before) */
export function dMove(od: NamedDir, oname: string, nd: NamedDir, nname: string): void {
  const d = od.dcache?.get(oname);
  if (d === undefined) return;
  od.dcache!.delete(oname);
  d.parent = nd;
  d.name = nname;
  (nd.dcache ??= new Map()).set(nname, d);
}

/** RENAME_EXCHANGE swapped the two names (d_exchange) */
export function dExchange(od: NamedDir, oname: string, nd: NamedDir, nname: string): void {
  const a = od.dcache?.get(oname);
  const b = nd.dcache?.get(nname);
  if (a !== undefined) od.dcache!.delete(oname);
  if (b !== undefined) nd.dcache!.delete(nname);
  if (a !== undefined) {
    a.parent = nd;
    a.name = nname;
    (nd.dcache ??= new Map()).set(nname, a);
  }
  if (b !== undefined) {
    b.parent = od;
    b.name = oname;
    (od.dcache ??= new Map()).set(oname, b);
  }
}

/** the path of a dentry, without " (deleted)" (its directory's path and its name) */
export function dentryPathRaw(d: Dentry): string {
  const dir = namedDirPath(d.parent);
  const base = dir === null ? '' : dir.path === '/' ? '' : dir.path;
  return `${base}/${d.name}`;
}

/** d_path of a file's dentry: its path, " (deleted)" appended once its name went */
export function dentryPath(d: Dentry): string {
  const p = dentryPathRaw(d);
  return d.deleted || (namedDirPath(d.parent)?.unlinked ?? true) ? `${p} (deleted)` : p;
}

/**
 * d_path of a directory a struct path holds (an open directory, the cwd): a named directory's
 * current path, " (deleted)" once removed; any other its path as found (`found`)
 */
export function dirDPath(node: VNode, found: string): string {
  if (!isNamedDir(node)) return found;
  const p = namedDirPath(node);
  if (p === null) return found;
  return p.unlinked ? `${p.path} (deleted)` : p.path;
}
