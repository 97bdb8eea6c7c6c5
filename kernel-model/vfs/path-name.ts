/**
 * Pathnames as syscalls hand them to the VFS (vfs.ts): absolute text, or text relative to a
 * directory held like a struct path (the cwd, a dirfd; fs/namei.c path_init).
 */
import { isNamedDir, namedDirPath } from './dentry.js';
import type { VNode } from './vfs.js';

type DirNode = VNode & { kind: 'dir' };

/**
 * where a relative pathname starts (fs/namei.c path_init: current->fs->pwd, or the dirfd's
 * f_path): a directory, held like a struct path
 */
export interface DirRef {
  readonly node: DirNode;
  /** its path when it was found; a named directory's (tmpfs, devtmpfs) is computed now instead */
  readonly path: string;
}

/**
 * a pathname as a syscall hands it to the VFS: absolute text (a relative text starts at the
 * root), or text that starts at a directory when it is relative (the cwd's or a dirfd's)
 */
export type PathName = string | { readonly at: DirRef; readonly name: string };

/** the path a DirRef's directory has now (a removed named directory's as it was, without " (deleted)") */
export function dirRefPath(at: DirRef): string {
  return isNamedDir(at.node) ? namedDirPath(at.node)?.path ?? at.path : at.path;
}

/** a pathname's text made absolute against its start (for messages and for names the VFS does not hold) */
export function pathNameText(p: PathName): string {
  if (typeof p === 'string') return p;
  if (p.name.startsWith('/')) return p.name;
  const d = dirRefPath(p.at);
  return (d === '/' ? '' : d) + '/' + p.name;
}

