/**
 * sysfs as the kernel builds it: directories, attribute files with show/store
 * callbacks, and symbolic links. The VFS (kernel-model/vfs) exposes this tree under
 * /sys; the driver core, IOMMU core and drivers populate it.
 *
 * Attribute semantics follow Linux: `show` returns the file's text (conventionally
 * ending in a newline) or a negative errno; `store` receives the bytes of one write()
 * exactly as the user wrote them (e.g. "vfio-platform\n" from `echo`), and returns the
 * number of bytes consumed or a negative errno.
 */
export interface SysfsAttr {
  show?: () => string | number;
  store?: (data: string) => number;
  /** permission bits as Linux shows them (0644, 0200, ...) */
  mode: number;
}

/**
 * Entries (and the attributes given to addFile) are frozen: nothing changes them after they
 * are made. A directory's children change only through the Sysfs methods below, which count
 * every change in `version` (the fuzzer's snapshot restores the tree's maps only when it moved:
 * tools/fuzz/snapshot.ts, `guards`); outside this file the maps are read-only.
 */
export type SysfsEntry =
  | { readonly kind: 'dir'; readonly children: ReadonlyMap<string, SysfsEntry> }
  | { readonly kind: 'file'; readonly attr: Readonly<SysfsAttr> }
  | { readonly kind: 'link'; readonly target: string };

type Dir = { readonly kind: 'dir'; readonly children: Map<string, SysfsEntry> };

const newDir = (): Dir => Object.freeze({ kind: 'dir', children: new Map<string, SysfsEntry>() });

export class Sysfs {
  readonly root: SysfsEntry & { kind: 'dir' } = newDir();
  /** changes of the tree (an entry added, replaced or removed) since construction */
  version = 0;

  /** the components of a path, without empty ones and "." (one pass, no intermediate arrays) */
  private split(path: string): string[] {
    const parts: string[] = [];
    let start = 0;
    for (let i = 0; i <= path.length; i++) {
      if (i === path.length || path.charCodeAt(i) === 0x2f) {
        if (i > start && !(i === start + 1 && path.charCodeAt(start) === 0x2e)) parts.push(path.slice(start, i));
        start = i + 1;
      }
    }
    return parts;
  }

  /** mkdir -p */
  mkdir(path: string): SysfsEntry & { kind: 'dir' } {
    const parts = this.split(path);
    return this.mkdirParts(parts, parts.length);
  }

  /** mkdir -p of the first `n` components */
  private mkdirParts(parts: readonly string[], n: number): Dir {
    let d = this.root as Dir;
    for (let i = 0; i < n; i++) {
      const part = parts[i]!;
      let c = d.children.get(part);
      if (!c) {
        c = newDir();
        d.children.set(part, c);
        this.version++;
      }
      if (c.kind !== 'dir') throw new Error(`sysfs: ${parts.slice(0, n).join('/')}: ${part} is not a directory`);
      d = c as Dir;
    }
    return d;
  }

  private parentAndName(path: string): [Dir, string] {
    const parts = this.split(path);
    const name = parts[parts.length - 1];
    if (!name) throw new Error(`sysfs: bad path ${path}`);
    return [this.mkdirParts(parts, parts.length - 1), name];
  }

  addFile(path: string, attr: SysfsAttr): void {
    const [d, name] = this.parentAndName(path);
    d.children.set(name, Object.freeze({ kind: 'file', attr: Object.freeze({ ...attr }) }));
    this.version++;
  }

  /** symlink; `target` is an absolute sysfs path like "/sys/bus/platform/drivers/pl330" */
  addLink(path: string, target: string): void {
    const [d, name] = this.parentAndName(path);
    d.children.set(name, Object.freeze({ kind: 'link', target }));
    this.version++;
  }

  remove(path: string): void {
    const parts = this.split(path);
    const name = parts.pop();
    if (!name) return;
    const d = this.lookupNoFollow(parts.join('/'));
    if (d && d.kind === 'dir' && (d as Dir).children.delete(name)) this.version++;
  }

  /** lookup relative to /sys without following the last component's link */
  lookupNoFollow(path: string): SysfsEntry | null {
    let e: SysfsEntry = this.root;
    const parts = this.split(path);
    for (let i = 0; i < parts.length; i++) {
      if (e.kind === 'link') {
        const t = this.lookup(stripSys(e.target));
        if (!t) return null;
        e = t;
      }
      if (e.kind !== 'dir') return null;
      const c: SysfsEntry | undefined = e.children.get(parts[i]!);
      if (!c) return null;
      e = c;
    }
    return e;
  }

  /** lookup relative to /sys, following links (depth-limited) */
  lookup(path: string, depth = 0): SysfsEntry | null {
    const e = this.lookupNoFollow(path);
    if (e && e.kind === 'link') {
      if (depth > 8) return null;
      return this.lookup(stripSys(e.target), depth + 1);
    }
    return e;
  }

  /** sorted directory listing */
  list(path: string): string[] | null {
    const e = this.lookup(path);
    if (!e || e.kind !== 'dir') return null;
    return [...e.children.keys()].sort();
  }
}

/** "/sys/bus/x" -> "bus/x" */
export function stripSys(p: string): string {
  return p.startsWith('/sys/') ? p.slice(5) : p === '/sys' ? '' : p;
}
