import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync, realpathSync, statSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import type { ExecFs } from '../../kernel-model/exec/linux-abi.js';
import type { RootfsEntry, RootfsSource } from '../../kernel-model/vfs/rootfs.js';

const ENOENT = 2, EACCES = 13;

export interface HostExecFsOptions {
  /** a host directory served read-only as the root of the programs execve() can run */
  rootfs?: string | null;
  /** Debian's busybox-static: /bin/busybox and /bin/sh resolve to it (when the rootfs has neither) */
  busybox?: string | null;
  /** more guest paths -> host files (tests) */
  files?: Readonly<Record<string, string>>;
}

/**
 * The file system execve() reads programs from, built from host files (tools/ only: the
 * kernel model sees an ExecFs function). Lookup order: `files`, the rootfs directory (a
 * path that leaves it through `..` or a host symlink is -ENOENT), then busybox for
 * /bin/busybox and /bin/sh. A directory or unreadable file is -EACCES (fs/exec.c
 * do_open_execat: S_ISREG). Files are read once and cached (the run is deterministic: the
 * host directory must not change during it).
 */
export function hostExecFs(o: HostExecFsOptions): ExecFs {
  const cache = new Map<string, Uint8Array | number>();
  const root = o.rootfs ? realpathSync(resolve(o.rootfs)) : null;
  const read = (host: string): Uint8Array | number => {
    let c = cache.get(host);
    if (c !== undefined) return c;
    try {
      c = statSync(host).isFile() ? new Uint8Array(readFileSync(host)) : -EACCES;
    } catch {
      c = -ENOENT;
    }
    cache.set(host, c);
    return c;
  };
  return (path: string): Uint8Array | number => {
    const f = o.files?.[path];
    if (f !== undefined) return read(f);
    if (root !== null) {
      const host = join(root, path);
      if (existsSync(host)) {
        const real = realpathSync(host);
        if (real !== root && !real.startsWith(root + sep)) return -ENOENT;
        return read(real);
      }
    }
    if (o.busybox && (path === '/bin/busybox' || path === '/bin/sh')) return read(o.busybox);
    return -ENOENT;
  };
}

/**
 * The same host directory as the read-only root file system of the VFS (kernel-model/vfs/rootfs.ts):
 * what open/read/stat/getdents64/readlink see. Paths come from the VFS one component at a time
 * (it resolves `..` and symbolic links itself, in the guest's namespace), so a lookup never
 * leaves the directory; host symbolic links are shown as links, their text unchanged. Anything
 * but directories, regular files and links (sockets, fifos, devices) is absent. Answers are
 * cached: the directory must not change during the run.
 */
export function hostRootfs(dir: string): RootfsSource {
  const root = realpathSync(resolve(dir));
  const cache = new Map<string, RootfsEntry | null>();
  return (path: string): RootfsEntry | null => {
    let e = cache.get(path);
    if (e !== undefined) return e;
    e = null;
    if (!path.split('/').includes('..')) {
      const host = join(root, path);
      try {
        const st = lstatSync(host);
        if (st.isDirectory()) e = { kind: 'dir', mode: st.mode & 0o7777, names: readdirSync(host).sort() };
        else if (st.isSymbolicLink()) e = { kind: 'link', target: readlinkSync(host) };
        else if (st.isFile()) {
          let bytes: Uint8Array | null = null;
          e = { kind: 'file', mode: st.mode & 0o7777, bytes: () => (bytes ??= new Uint8Array(readFileSync(host))) };
        }
      } catch {
        e = null;
      }
    }
    cache.set(path, e);
    return e;
  };
}

/**
 * Debian's cross C library for armhf (libc6-armhf-cross: /usr/arm-linux-gnueabihf/lib, the
 * default) as the guest's /lib, over `base` (a rootfs, or an empty root): what a dynamically
 * linked program needs, PT_INTERP /lib/ld-linux-armhf.so.3, and libc.so.6 and the rest on
 * ld.so's search path (its built-in system directories end with /lib and /usr/lib). Read from
 * the host at run time (hostRootfs: cached, so the directory must not change during a run),
 * never committed. null when the directory is absent.
 */
export function crossLibcRootfs(base: RootfsSource | null, libDir = CROSS_LIBC_DIR): RootfsSource | null {
  if (!existsSync(libDir) || !statSync(libDir).isDirectory()) return null;
  const lib = hostRootfs(libDir);
  return (path: string): RootfsEntry | null => {
    if (path === '/lib' || path.startsWith('/lib/')) return lib(path.slice(4) || '/');
    const e: RootfsEntry | null = base !== null ? base(path) : path === '/' ? { kind: 'dir', mode: 0o755, names: [] } : null;
    if (path !== '/' || e === null || e.kind !== 'dir') return e;
    return e.names.includes('lib') ? e : { ...e, names: [...e.names, 'lib'].sort() };
  };
}

/** where libc6-armhf-cross puts the armhf loader and libraries */
export const CROSS_LIBC_DIR = '/usr/arm-linux-gnueabihf/lib';
