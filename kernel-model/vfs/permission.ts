/**
 * The permission model of the VFS: the credentials an operation checks and the checks of
 * fs/namei.c (generic_permission, may_delete, may_create) and fs/inode.c
 * (inode_owner_or_capable), 3.14 and v6.12 alike. vfs.ts and the syscalls over it call them.
 */
import { EACCES, EEXIST, EISDIR, ENOENT, ENOTDIR, EPERM } from './errors.js';
import { isNamedDir } from './dentry.js';
// vfs.ts imports this module too: only its types are used here
import type { VNode } from './vfs.js';

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

type DirNode = VNode & { kind: 'dir' };

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
export function ownerOrCapable(c: Cred, n: VNode): boolean {
  return c.uid === ownerOf(n) || capable(c, CAP_FOWNER);
}

/**
 * may_delete (fs/namei.c, 3.14 and v6.12): write and search permission on the directory, then
 * the sticky bit (check_sticky: in a S_ISVTX directory only the file's owner, the directory's
 * owner or CAP_FOWNER may remove a name: -EPERM), then the kinds: a directory wanted and
 * something else found -ENOTDIR, the reverse -EISDIR
 */
export function mayDelete(c: Cred, dir: DirNode, victim: VNode, isDir: boolean): number {
  const p = permission(c, dir, MAY_WRITE | MAY_EXEC);
  if (p < 0) return p;
  if ((dir.mode & 0o1000) !== 0 && c.uid !== ownerOf(victim) && c.uid !== ownerOf(dir) && !capable(c, CAP_FOWNER)) return -EPERM;
  if (isDir && victim.kind !== 'dir') return -ENOTDIR;
  if (!isDir && victim.kind === 'dir') return -EISDIR;
  return 0;
}

/**
 * may_create (fs/namei.c): an existing name -EEXIST, a removed directory -ENOENT (IS_DEADDIR:
 * a cwd that was rmdir'd takes no new names), then write and search permission
 */
export function mayCreate(c: Cred, dir: DirNode, name: string): number {
  if (dir.lookup(name) !== null) return -EEXIST;
  if (isNamedDir(dir) && dir.removed) return -ENOENT;
  return permission(c, dir, MAY_WRITE | MAY_EXEC);
}
