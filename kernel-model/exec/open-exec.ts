/**
 * The open of the image execve runs (3.14 fs/exec.c do_open_exec, v6.12 do_open_execat):
 * do_filp_open of the pathname with LOOKUP_FOLLOW, as the caller, from its cwd for a relative
 * one, so the walk's search permission (may_lookup: -EACCES), -ENOENT, -ENOTDIR and -ELOOP
 * come first; then may_open with MAY_EXEC: inode_permission, where root (CAP_DAC_OVERRIDE)
 * needs at least one x bit on a file (generic_permission), and the profile's
 * `execOpenCheck` for what is not a regular file. The bytes: a tmpfs file's data, a rootfs
 * file's; a name the namespace does not hold (-ENOENT from the walk) is asked of the run's
 * exec file system (the programs a test or the runner provides, busybox as /bin/sh), which
 * counts as root's 0755 files.
 */
import { EACCES, ENOENT, ENOEXEC } from '../base/errno.js';
import { dentryPathRaw, dget, isNamedDir, type Dentry } from '../vfs/dentry.js';
import type { File, Task } from '../vfs/file.js';
import { openExecFsImage, type ExecFsFile } from './image-file.js';
import { MAY_EXEC, permission, ROOT_CRED, type Cred } from '../vfs/permission.js';
import { RootfsFile } from '../vfs/rootfs.js';
import { TmpfsFile } from '../vfs/tmpfs.js';
import { pathNameText, type PathName, type Vfs } from '../vfs/vfs.js';

/** the profile's execOpenCheck (capabilities-syscall.ts) */
export type ExecOpenCheck = 'open-then-isreg' | 'may-open';

/** an image found for execve: its bytes and the path /proc/<pid>/exe will show */
export interface ExecImage {
  bytes: Uint8Array;
  /** the file's path (the walk's: links resolved), or the name given when the exec file system served it */
  path: string;
  /** the tmpfs inode, whose writing an execution denies (deny_write_access); null for the others */
  node: TmpfsFile | null;
  /**
   * the dentry of the name the file was found by, under tmpfs or devtmpfs (the file's f_path,
   * which becomes mm->exe_file: /proc/<pid>/exe follows its renames); null elsewhere
   */
  dentry: Dentry | null;
  /** open the file the segments are mapped from (bprm->file, read-only; image-file.ts) */
  open: () => File | number;
}

export interface OpenExecEnv {
  vfs: Vfs;
  task: Task;
  check: ExecOpenCheck;
  /** the run's exec file system: images by absolute path, or -errno */
  execFs: ((path: string) => Uint8Array | number) | null;
  /** the caller's own running image (what its /proc/<pid>/exe names), when it has one; `file` the one its segments map */
  running: { path: string; bytes: Uint8Array; node: TmpfsFile | null; file: File | null } | null;
  /** the exec file system's images as files (LinuxAbi.execImages) */
  images: Map<string, ExecFsFile>;
}

const O_RDONLY = 0;

/**
 * find and check the image `name` names (see the module comment); -errno in the kernel's
 * order: the walk, then may_open, then (3.14) a non-regular file's open and !S_ISREG. The
 * caller parses it (-ENOEXEC from the binary handler).
 */
export function openExec(env: OpenExecEnv, name: PathName): ExecImage | number {
  const cred = env.task.proc;
  const r = env.vfs.lookup(name, false, cred);
  if (typeof r === 'number' && r !== -ENOENT) return r;
  if (typeof r !== 'number' && r.node !== null && r.node.kind === 'link' && /^\/proc\/[^/]+\/exe$/.test(r.path)) {
    // proc_exe_link: nd_jump_link to the executable itself (no search of its directories).
    // An executable with a dentry (tmpfs, devtmpfs) is reached through the link's jump: the
    // same inode however it was renamed or unlinked since; one found elsewhere by its path;
    // the caller's own is its running image, which the exec file system need not hold; no
    // exe_file (a zombie's, a stub-CPU process's): proc_exe_link's -ENOENT
    if (r.node.err !== undefined) return -r.node.err;
    if (r.node.jump !== undefined) {
      return imageAt(env, name, cred);
    }
    const target = r.node.target;
    const run = env.running;
    if (run !== null && run.path === target) return { bytes: run.bytes, path: target, node: run.node, dentry: null, open: () => (run.file !== null ? run.file.get() : openExecFsImage(env.images, target, run.bytes)) };
    return imageAt(env, target, ROOT_CRED);
  }
  return imageAt(env, name, cred);
}

/** the image at `name`, its directories searched as `dirCred`, the file checked as the caller */
function imageAt(env: OpenExecEnv, name: PathName, dirCred: Cred): ExecImage | number {
  const r = env.vfs.lookup(name, true, dirCred);
  if (typeof r === 'number' && r !== -ENOENT) return r;
  if (typeof r === 'number' || r.node === null) {
    // not in the namespace: the run's exec file system
    const text = pathNameText(name);
    const bytes = env.execFs === null ? -ENOENT : env.execFs(text);
    return typeof bytes === 'number' ? bytes : { bytes, path: text, node: null, dentry: null, open: () => openExecFsImage(env.images, text, bytes) };
  }
  const n = r.node;
  // v6.12 may_open: a directory, device, fifo or socket with MAY_EXEC -EACCES, before the permission
  if (env.check === 'may-open' && n.kind !== 'file') return -EACCES;
  // may_open -> inode_permission(MAY_EXEC): search for a directory; an x bit for a file, root's too
  const perm = permission(env.task.proc, n, MAY_EXEC);
  if (perm < 0) return perm;
  if (n.kind !== 'file') {
    // 3.14 do_open_exec: do_filp_open opened it (a device's open runs, its error wins), then
    // !S_ISREG -EACCES (fput releases the file)
    if (n.kind === 'chr') {
      const f = n.open(O_RDONLY, env.task, r.path);
      if (typeof f === 'number') return f;
      f.put();
    }
    return -EACCES;
  }
  if (n instanceof TmpfsFile) {
    const bytes = n.contents();
    // the name it was found by (a jump's landing name, else the directory's entry: d_lookup)
    const dentry = r.dentry ?? (r.name !== '' && isNamedDir(r.dir) ? dget(r.dir, r.name, n) : null);
    // bprm->file's f_path is that name: the mapped segments' maps lines follow its renames
    const open = (): File | number => {
      const f = n.open(O_RDONLY, env.task, r.path);
      if (typeof f !== 'number') f.dentry = dentry;
      return f;
    };
    return { bytes, path: dentry !== null ? dentryPathRaw(dentry) : r.path, node: n, dentry, open };
  }
  if (n instanceof RootfsFile) return { bytes: n.data(), path: r.path, node: null, dentry: null, open: () => n.open(O_RDONLY, env.task, r.path) };
  // sysfs and procfs files given an x bit: their text is no binary format the model knows
  return -ENOEXEC;
}
