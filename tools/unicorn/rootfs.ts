import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import type { ExecFs } from '../../kernel-model/exec/linux-abi.js';

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
