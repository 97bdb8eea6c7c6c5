/**
 * The device nodes drivers add to and remove from devtmpfs (/dev): drivers/base/devtmpfs.c
 * devtmpfs_create_node / handle_create (the node and the directories above it) and
 * devtmpfs_delete_node / handle_remove (only the driver's own nodes go; function names from
 * memory, the behaviour as vfs.ts had it). Vfs.addDevNode and
 * Vfs.removeDevNode call them; the names user space makes under /dev are vfs.ts's and
 * names.ts's.
 */
import { EEXIST, EINVAL, ENOTDIR } from './errors.js';
import { dDelete } from './dentry.js';
import { splitPath } from './nodes.js';
import { devSubdir, RamDir } from './ramdir.js';
// vfs.ts imports this module too: only its types are used here
import type { Opener, Vfs } from './vfs.js';

/** what these calls use of the namespace: /dev and the inode numbers */
type DevNs = Pick<Vfs, 'dev' | 'nextIno'>;

/** devtmpfs: create a device node (mkdir -p of its directory); a name taken -EEXIST */
export function addDevNode(ns: DevNs, path: string, mode: number, open: Opener, rdev: number): number {
  const parts = splitPath(path.replace(/^\/dev\/?/, ''));
  const name = parts.pop();
  if (!name) return -EINVAL;
  let d = ns.dev;
  for (const p of parts) {
    let c = d.children.get(p);
    if (!c) {
      c = devSubdir(d, p, new RamDir(ns.nextIno(), 0o755, true));
      d.children.set(p, c);
    }
    if (!(c instanceof RamDir)) return -ENOTDIR;
    d = c;
  }
  if (d.children.has(name)) return -EEXIST;
  d.children.set(name, { kind: 'chr', mode, ino: ns.nextIno(), open, rdev, driver: true });
  return 0;
}

/** devtmpfs: remove a device node a driver made (and a directory one made); anything else stays */
export function removeDevNode(ns: DevNs, path: string): void {
  const parts = splitPath(path.replace(/^\/dev\/?/, ''));
  const name = parts.pop();
  let d: RamDir = ns.dev;
  for (const p of parts) {
    const c = d.children.get(p);
    if (!(c instanceof RamDir)) return;
    d = c;
  }
  const n = name ? d.children.get(name) : undefined;
  // devtmpfs handle_remove: only a node of the driver's (dev_mynode), or a directory it made (not a user's mkdir)
  if (n !== undefined && ((n.kind === 'chr' && n.driver === true) || (n instanceof RamDir && n.uid === undefined))) {
    d.children.delete(name!);
    // the open files of a removed node show its name with " (deleted)" (d_delete)
    if (n instanceof RamDir) n.removed = true;
    dDelete(d, name!);
  }
}
