/**
 * The in-memory directories of the VFS (/, /dev and devtmpfs's directories, /proc's root): a
 * name -> node map with an optional directory underneath and computed entries (vfs.ts).
 */
import { DT_CHR, DT_DIR, DT_LNK, DT_REG } from '../uapi/constants.js';
import type { Dentry, NamedDir } from './dentry.js';
import type { DirEntry } from './file.js';
import type { VNode } from './vfs.js';

/**
 * an in-memory directory (/, /dev, /dev/vfio, /proc); a devtmpfs one keeps its parent and name
 * (dentry.ts NamedDir: its path follows renames within /dev)
 */
export class RamDir implements NamedDir {
  readonly kind = 'dir' as const;
  readonly children = new Map<string, VNode>();
  /** the directory holding it (null: a mount's root) and its name there */
  parent: RamDir | null = null;
  name = '';
  /** rmdir'd (devtmpfs: simple_rmdir; IS_DEADDIR) */
  removed = false;
  /** the mount point of a mount's root ("/", "/dev", "/proc"), else null */
  mountPoint: string | null = null;
  /** dentry.ts: the dentries of the files opened under it */
  dcache: Map<string, Dentry> | null = null;
  /** a directory underneath (the read-only rootfs under /): names not in `children` come from it */
  fallback: (VNode & { kind: 'dir' }) | null = null;
  /** entries computed at lookup, listed after `children` in their own order (/proc: procfs.ts Procfs) */
  dynamic: { lookup(name: string): VNode | null; list(): DirEntry[] } | null = null;
  constructor(
    /** from its Vfs's inode counter (Vfs.nextIno) */
    readonly ino: number,
    public mode = 0o755,
    /** a devtmpfs directory (/dev and the directories below it): user space may add and remove names */
    readonly devtmpfs = false,
    /** i_uid of a directory mkdir made in /dev (the creator's fsuid); the others are root's */
    public uid?: number,
  ) {}
  lookup(name: string): VNode | null {
    return this.children.get(name) ?? this.fallback?.lookup(name) ?? this.dynamic?.lookup(name) ?? null;
  }
  list(): DirEntry[] {
    if (this.dynamic !== null) return [...this.own(), ...this.dynamic.list()];
    const own = this.own();
    const under = this.fallback === null ? [] : this.fallback.list().filter((e) => !this.children.has(e.name));
    return [...own, ...under].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }
  /** the entries of `children`, by name */
  private own(): DirEntry[] {
    const own = [...this.children.keys()].map((name) => {
      const n = this.children.get(name)!;
      return { name, ino: n.ino, type: nodeType(n) };
    });
    return own.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }
}

/** a node's d_type in a directory listing */
export function nodeType(n: VNode): number {
  return n.kind === 'dir' ? DT_DIR : n.kind === 'link' ? DT_LNK : n.kind === 'chr' ? DT_CHR : DT_REG;
}

/** a devtmpfs directory made under `parent` as `name` (it keeps both: dentry.ts) */
export function devSubdir(parent: RamDir, name: string, d: RamDir): RamDir {
  d.parent = parent;
  d.name = name;
  return d;
}

