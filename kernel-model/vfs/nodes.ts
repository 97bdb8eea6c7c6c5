/**
 * The nodes behind the VFS's pseudo files: the file operations of directories (getdents64
 * over a node's listing) and of text files whose contents a show() computes at each read and
 * a store() takes at each write (procfs, sysfs attributes), and the adapter that presents the
 * kernel's Sysfs tree as VNodes under /sys (kernfs: names, modes, links, inode numbers).
 */
import { latin1 } from '../base/text.js';
import { EACCES, EINVAL, EISDIR, ENOENT } from './errors.js';
import { isNamedDir } from './dentry.js';
import { stripSys, type Sysfs, type SysfsEntry } from '../sysfs/sysfs.js';
import { DT_DIR, DT_LNK, DT_REG, O_ACCMODE, O_RDWR, O_WRONLY } from '../uapi/constants.js';
import { File, posOnlyLlseek, type DirEntry, type FileOps, simpleReadFromBuffer } from './file.js';
// vfs.ts imports this module too: only its types are used here
import type { VNode } from './vfs.js';

/** a path's components, without empty ones and "." */
export function splitPath(p: string): string[] {
  return pathComponents(p, true);
}

/**
 * a path's non-empty components (without "." too when `dropDot`): what
 * `p.split('/').filter(...)` gives, in one pass without the intermediate array (every path
 * lookup of open(2) runs it)
 */
export function pathComponents(p: string, dropDot = false): string[] {
  const out: string[] = [];
  let start = 0;
  const n = p.length;
  for (let i = 0; i <= n; i++) {
    if (i < n && p.charCodeAt(i) !== 47) continue;
    if (i > start && !(dropDot && i === start + 1 && p.charCodeAt(start) === 46)) out.push(p.slice(start, i));
    start = i + 1;
  }
  return out;
}

/** "a/b/c" relative from directory "from" (both absolute) */
function relativePath(fromDir: string, to: string): string {
  const a = splitPath(fromDir);
  const b = splitPath(to);
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return [...a.slice(i).map(() => '..'), ...b.slice(i)].join('/') || '.';
}

// ---------------- directory and text files ----------------

export const dirFops: FileOps = {
  name: 'dir',
  llseek: posOnlyLlseek,
  read: () => -EISDIR,
  write: () => -EISDIR,
  readdir(f: File): DirEntry[] | number {
    const n = f.priv as VNode & { kind: 'dir' };
    // fs/readdir.c iterate_dir (3.14 and v6.12): res = -ENOENT and the file system's iterate is
    // not called when IS_DEADDIR(inode), i.e. for an rmdir'd directory still open (or the cwd)
    if (isNamedDir(n) && n.removed) return -ENOENT;
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
    return simpleReadFromBuffer(task, buf, count, pos, b);
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

export function sysfsDir(sysfs: Sysfs, path: string, modes: ReadonlyMap<string, number>): VNode {
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
