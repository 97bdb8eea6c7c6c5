import type { Cpu } from '../../emulator/cpu/cpu.js';
import { decodeTimespec } from '../../emulator/cpu/unicorn/abi.js';
import { BLOCK, type SyscallResult, type UnicornThread } from '../../emulator/cpu/unicorn/thread.js';
import { EACCES, EBADF, EFAULT, EINVAL, ENOENT, ENOTDIR, ERANGE } from '../base/errno.js';
import type { Process } from '../process/process.js';
import { accessOk, TASK_SIZE } from '../process/mm.js';
import { FMODE_WRITE } from '../vfs/file.js';
import { AT_FDCWD, AT_SYMLINK_NOFOLLOW, resolveAt, sysStatAt } from '../syscall/stat.js';
import { MAY_EXEC, permission } from '../vfs/permission.js';
import { dirFops } from '../vfs/nodes.js';
import type { DirRef } from '../vfs/vfs.js';
import type { SyscallLayer } from '../syscall/syscalls.js';
import type { ThreadTask } from '../syscall/task.js';
import { NR as UNR } from '../uapi/constants.js';
import { ARM_NR as N } from './arm-nr.js';
import { ERESTARTNOHAND, type SignalState } from './signal.js';
import { finishPollWait, setUserSigmask, signalLetThrough } from './signal-usermask.js';
import { timeLeftRecord, type TimeLeft } from '../syscall/select-time.js';

/**
 * The file system calls of the ARM entry that the kernel model's syscall layer does not take
 * as they are: their register arguments (`a`) decoded, then served by the layer or over the
 * VFS. A relative path starts at the dirfd's directory (the *at forms) or at the process's cwd
 * (fs/namei.c path_init; kernel-model/syscall/stat.ts resolveAt): open/openat
 * (fs/open.c), readlink/readlinkat (fs/stat.c; /proc/<pid>/exe through procfs), getcwd
 * (fs/d_path.c), chdir/fchdir (fs/open.c; access/faccessat(2): access.ts), mkdir(at)/unlink(at)/rmdir
 * (fs/namei.c), stat64/lstat64/fstatat64/statx (fs/stat.c). The fd forms: _llseek and writev
 * (fs/read_write.c), pselect6 and ppoll (fs/select.c: timespec timeouts; the signal mask for
 * the wait: signal-usermask.ts).
 */

/** How these calls reach the kernel model (LinuxAbi): the layer, the calling process, the layer's restart protocol. */
export interface LayerEntry {
  readonly layer: SyscallLayer;
  readonly proc: Process;
  readonly cpu: Cpu;
  /** layer.invoke, with its blocking protocol (-ERESTARTSYS: BLOCK) and faults mapped to the thread */
  kernel(t: UnicornThread, nr: number, args: readonly number[]): SyscallResult;
  /** a layer sys_* method called directly, with invoke's restart protocol */
  restartable(t: UnicornThread, fn: (task: ThreadTask) => number): SyscallResult;
  /** the process's signals (pselect6/ppoll's mask) */
  readonly signals: SignalState;
}

/** timespec timeouts of pselect6/ppoll(_time64), decoded at once (one call at a time) */
const scratch8 = new Uint8Array(8);
const scratch16 = new Uint8Array(16);

/** open(path, flags, mode) / openat(dirfd, path, flags, mode) */
export function sysOpen(x: LayerEntry, t: UnicornThread, nr: number, a: Uint32Array): SyscallResult {
  // absolute paths go to the layer as they are; a relative one starts at the dirfd's
  // directory or the cwd (fs/namei.c path_init)
  const at = nr === N.openat;
  const pathPtr = at ? a[1]! : a[0]!;
  const flags = at ? a[2]! : a[1]!;
  const p = x.proc.mm.strndupUser(pathPtr, 4096);
  if (typeof p === 'string' && p.length > 0 && !p.startsWith('/')) {
    const abs = resolveAt(x.layer.taskOf(x.proc, t), at ? a[0]! | 0 : AT_FDCWD, p, x.layer.host.vfs);
    if (typeof abs === 'number') return abs;
    return x.restartable(t, (task) => x.layer.sysOpen(task, abs, flags, at ? a[3]! : a[2]!));
  }
  return x.kernel(t, UNR.open, [pathPtr, flags, at ? a[3]! : a[2]!]);
}

/** readlink(path, buf, size) / readlinkat(dirfd, path, buf, size); /proc/<pid>/exe is procfs's link (vfs/procfs.ts) */
export function sysReadlink(x: LayerEntry, t: UnicornThread, nr: number, a: Uint32Array): SyscallResult {
  const pathPtr = nr === N.readlink ? a[0]! : a[1]!;
  const buf = nr === N.readlink ? a[1]! : a[2]!;
  const size = nr === N.readlink ? a[2]! : a[3]!;
  const p = x.proc.mm.strndupUser(pathPtr, 4096);
  if (typeof p === 'number') return p;
  if (p.length > 0 && !p.startsWith('/')) {
    const abs = resolveAt(x.layer.taskOf(x.proc, t), nr === N.readlinkat ? a[0]! | 0 : AT_FDCWD, p, x.layer.host.vfs);
    if (typeof abs === 'number') return abs;
    return x.layer.sysReadlink(x.layer.taskOf(x.proc, t), abs, buf, size);
  }
  return x.kernel(t, UNR.readlink, [pathPtr, buf, size]);
}

/**
 * sys_getcwd(buf, size) (3.14 fs/dcache.c, v6.12 fs/d_path.c, alike): the cwd's current path
 * (it follows renames), -ENOENT once the directory was removed (d_unlinked), -ERANGE when the
 * path and its NUL do not fit, else its length including the NUL
 */
export function sysGetcwd(x: LayerEntry, a: Uint32Array): number {
  const p = x.proc.cwdPath;
  if (p === null) return -ENOENT;
  const b = new TextEncoder().encode(p + '\0');
  if (b.length > a[1]!) return -ERANGE;
  return x.proc.mm.copyToUser(a[0]!, b, 0, b.length) === 0 ? b.length : -EFAULT;
}

/**
 * chdir(path) / fchdir(fd) (fs/open.c, 3.14 and v6.12): the directory (chdir: the path walked
 * as the caller, following links; fchdir: the open file's, -EBADF, a non-directory -ENOTDIR)
 * needs search permission (inode_permission MAY_EXEC | MAY_CHDIR), then becomes the cwd
 * itself (set_fs_pwd: the directory, not its path; a removed directory is taken too)
 */
export function sysChdir(x: LayerEntry, t: UnicornThread, nr: number, a: Uint32Array): number {
  let dir: DirRef;
  if (nr === N.chdir) {
    const p = x.proc.mm.strndupUser(a[0]!, 4096);
    if (typeof p === 'number') return p;
    if (p.length === 0) return -ENOENT;
    const name = resolveAt(x.layer.taskOf(x.proc, t), AT_FDCWD, p, x.layer.host.vfs);
    if (typeof name === 'number') return name;
    const r = x.layer.host.vfs.walk(name, true, x.proc);
    if (typeof r === 'number') return r;
    if (r.node.kind !== 'dir') return -ENOTDIR;
    dir = { node: r.node, path: r.path };
  } else {
    const f = x.proc.fdget(a[0]! | 0);
    if (f === null) return -EBADF;
    if (f.ops !== dirFops) return -ENOTDIR;
    dir = { node: f.priv as DirRef['node'], path: f.path };
  }
  const perm = permission(x.proc, dir.node, MAY_EXEC);
  if (perm < 0) return perm;
  x.proc.cwdAt = dir;
  return 0;
}

/**
 * mkdir, mkdirat, unlink, unlinkat, rmdir: fs/namei.c do_mkdirat / do_unlinkat / do_rmdir
 * over the VFS (only tmpfs takes changes); unlinkat's AT_REMOVEDIR (0x200) makes it rmdir,
 * other flags are -EINVAL
 */
export function sysMkdirUnlink(x: LayerEntry, t: UnicornThread, nr: number, a: Uint32Array): number {
  const at = nr === N.mkdirat || nr === N.unlinkat;
  const p = x.proc.mm.strndupUser(at ? a[1]! : a[0]!, 4096);
  if (typeof p === 'number') return p;
  if (p.length === 0) return -ENOENT;
  const vfs = x.layer.host.vfs;
  const abs = resolveAt(x.layer.taskOf(x.proc, t), at ? a[0]! | 0 : AT_FDCWD, p, vfs);
  if (typeof abs === 'number') return abs;
  // do_mkdirat: the mode's permission and sticky bits less the process's umask
  if (nr === N.mkdir || nr === N.mkdirat) return vfs.mkdir(abs, (at ? a[2]! : a[1]!) & 0o1777 & ~x.proc.umask, x.proc);
  if (nr === N.unlinkat && (a[2]! & ~0x200) !== 0) return -EINVAL;
  return vfs.remove(abs, nr === N.rmdir || (nr === N.unlinkat && (a[2]! & 0x200) !== 0), x.proc);
}

/** stat64, lstat64, fstatat64, statx (kernel-model/syscall/stat.ts: EABI struct stat64, struct statx) */
export function sysStat(x: LayerEntry, t: UnicornThread, nr: number, a: Uint32Array): number {
  const at = nr === N.fstatat64 || nr === N.statx;
  const p = x.proc.mm.strndupUser(at ? a[1]! : a[0]!, 4096);
  if (typeof p === 'number') return p;
  const flags = nr === N.lstat64 ? AT_SYMLINK_NOFOLLOW : at ? a[nr === N.statx ? 2 : 3]! | 0 : 0;
  const buf = nr === N.statx ? a[4]! : at ? a[2]! : a[1]!;
  return sysStatAt(x.layer.taskOf(x.proc, t), x.layer.host.vfs, at ? a[0]! | 0 : AT_FDCWD, p, flags, buf, nr === N.statx ? 'statx' : 'stat64');
}

/**
 * _llseek(fd, offset_high, offset_low, loff_t *result, whence): SYSCALL_DEFINE5(llseek)
 * (fs/read_write.c, 3.14 and v6.12 alike): the fd first (-EBADF), then whence > SEEK_MAX
 * (-EINVAL), then vfs_llseek with the 64-bit offset `(loff_t)offset_high << 32 | offset_low`
 * (signed: glibc's lseek64(fd, -1, SEEK_CUR) passes 0xffffffff, 0xffffffff), and a position
 * >= 0 is written to *result as a loff_t (-EFAULT if it cannot be; the file has moved by then,
 * as in Linux). sysLseek does the first three in that order; offsets are JS numbers, exact to
 * 2^53. Not modelled: a file's s_maxbytes (MAX_LFS_FILESIZE, 2^43 - 1 on 32-bit 3.14), past
 * which generic_file_llseek refuses a position.
 */
export function sysLlseek(x: LayerEntry, t: UnicornThread, a: Uint32Array): SyscallResult {
  const offset = (a[1]! | 0) * 2 ** 32 + a[2]!;
  const r = x.restartable(t, (task) => x.layer.sysLseek(task, a[0]! | 0, offset, a[4]! | 0));
  if (typeof r !== 'number' || r < 0) return r;
  const dv = new DataView(scratch8.buffer);
  dv.setUint32(0, r % 2 ** 32, true);
  dv.setUint32(4, Math.floor(r / 2 ** 32), true);
  return x.proc.mm.copyToUser(a[3]!, scratch8, 0, 8) === 0 ? 0 : -EFAULT;
}

/**
 * writev(fd, iov, iovcnt): one layer write per non-empty iovec (each charged); a write that
 * would block after some bytes were written ends the call with that count
 */
export function sysWritev(x: LayerEntry, t: UnicornThread, a: Uint32Array): SyscallResult {
  // 3.14 fs/read_write.c do_writev -> vfs_writev: the fd, then its mode, before the vector
  const f = x.proc.fdget(a[0]! | 0);
  if (f === null) return -EBADF;
  if ((f.mode & FMODE_WRITE) === 0) return -EBADF;
  if (!f.ops.write) return -EINVAL;
  // No segments is 0, more than UIO_MAXIOV -EINVAL (both kernels). Then, before anything is
  // written (`iovecImport`): 3.14 rw_copy_check_uvector copies the array in at once (-EFAULT),
  // then per segment a negative ssize_t length -EINVAL and a range access_ok refuses (past
  // TASK_SIZE, or wrapping) -EFAULT; v6.12 import_iovec: copy_iovec_from_user's access_ok of
  // the array, then element by element its read (-EFAULT) and a negative length -EINVAL, and
  // only then __import_iovec's access_ok of every segment. A pointer below TASK_SIZE that is
  // not mapped passes both and fails in its write. (Both cap the total at MAX_RW_COUNT by
  // shortening segments, which no model file can reach.)
  const cnt = a[2]!;
  if (cnt === 0) return 0;
  if (cnt > 1024) return -EINVAL;
  const iov = new Uint8Array(cnt * 8);
  const dv = new DataView(iov.buffer);
  if (x.layer.host.iovecImport === 'import-iovec') {
    if (!accessOk(a[1]!, iov.length)) return -EFAULT;
    for (let i = 0; i < cnt; i++) {
      if (x.proc.mm.copyFromUser(iov, i * 8, a[1]! + i * 8, 8) !== 0) return -EFAULT;
      if (dv.getInt32(i * 8 + 4, true) < 0) return -EINVAL;
    }
    for (let i = 0; i < cnt; i++) if (dv.getUint32(i * 8, true) + dv.getUint32(i * 8 + 4, true) > TASK_SIZE) return -EFAULT;
  } else {
    if (x.proc.mm.copyFromUser(iov, 0, a[1]!, iov.length) !== 0) return -EFAULT;
    for (let i = 0; i < cnt; i++) {
      const base = dv.getUint32(i * 8, true);
      const len = dv.getInt32(i * 8 + 4, true);
      if (len < 0) return -EINVAL;
      if (base + len > TASK_SIZE) return -EFAULT;
    }
  }
  let total = 0;
  for (let i = 0; i < cnt; i++) {
    const len = dv.getUint32(i * 8 + 4, true);
    if (len === 0) continue;
    const r = x.kernel(t, N.write, [a[0]!, dv.getUint32(i * 8, true), len]);
    if (r === BLOCK) {
      if (total === 0) return BLOCK;
      x.layer.taskOf(x.proc, t).finish();
      x.cpu.wake(t);
      return total;
    }
    if (r < 0) return total > 0 ? total : r;
    total += r;
    if (r < len) break;
  }
  return total;
}

/**
 * The timeout of pselect6/ppoll (struct old_timespec32: get_old_timespec32) or of
 * pselect6_time64/ppoll_time64 (struct __kernel_timespec: get_timespec64, which on 32-bit ARM
 * keeps the low 32 bits of the 64-bit tv_nsec as the long, "In 32-bit mode, this drops the
 * padding"; read in 6.12.19 kernel/time/time.c), then poll_select_set_timeout's
 * timespec64_valid (-EINVAL: tv_sec < 0, tv_nsec outside [0, 1e9); fs/select.c, read in
 * 6.12.19). Nanoseconds, -EFAULT or -EINVAL.
 */
function userTimeout(x: LayerEntry, tsp: number, time64: boolean): number {
  if (!time64) {
    if (x.proc.mm.copyFromUser(scratch8, 0, tsp, 8) !== 0) return -EFAULT;
    return decodeTimespec(scratch8, false) ?? -EINVAL;
  }
  if (x.proc.mm.copyFromUser(scratch16, 0, tsp, 16) !== 0) return -EFAULT;
  return decodeTimespec(scratch16, true) ?? -EINVAL;
}

/**
 * pselect6(n, inp, outp, exp, struct timespec *tsp, sigmask-pack) and, v6.12 only (the era
 * table), pselect6_time64 with a struct __kernel_timespec: both do_pselect (fs/select.c, read in
 * 6.12.19: sys_pselect6 is ARM's 413, sys_pselect6_time32 its 335; 3.14.4's sys_pselect6 takes
 * the 32-bit timespec). The pack { sigset_t *p; size_t size } is read first (3.14 access_ok +
 * __get_user, v6.12 get_sigset_argpack: -EFAULT), then the timeout, then the mask
 * (withSigmask); the time left is written back at the end (withSigmask, select-time.ts).
 */
export function sysPselect6(x: LayerEntry, t: UnicornThread, a: Uint32Array, time64 = false): SyscallResult {
  let mp = 0, msize = 0;
  if (a[5] !== 0) {
    if (x.proc.mm.copyFromUser(scratch8, 0, a[5]!, 8) !== 0) return -EFAULT;
    const dv = new DataView(scratch8.buffer);
    mp = dv.getUint32(0, true);
    msize = dv.getUint32(4, true);
  }
  let ns: number | null = null;
  if (a[4] !== 0) {
    const r = userTimeout(x, a[4]!, time64);
    if (r < 0) return r;
    ns = r;
  }
  const rec = ns === null ? null : timeLeftRecord(a[4]!, time64 ? 'timespec64' : 'timespec32', 'pselect', x.cpu.scheduler.now, ns);
  return withSigmask(x, t, mp, msize, rec, (now) => x.restartable(t, (task) => x.layer.sysSelect(task, a[0]! | 0, a[1]!, a[2]!, a[3]!, 0, now ? 0 : ns)));
}

/**
 * ppoll(fds, nfds, struct timespec *tsp, sigmask, sigsetsize) and, v6.12 only, ppoll_time64
 * (struct __kernel_timespec: sys_ppoll is ARM's 414, sys_ppoll_time32 its 336; fs/select.c,
 * read in 3.14.4 / 6.12.19): poll with the timeout in ms (rounded up), read before the mask
 * (withSigmask), the time left written back at the end (its nanoseconds' end_time)
 */
export function sysPpoll(x: LayerEntry, t: UnicornThread, a: Uint32Array, time64 = false): SyscallResult {
  let ms = -1;
  let rec: TimeLeft | null = null;
  if (a[2] !== 0) {
    const ns = userTimeout(x, a[2]!, time64);
    if (ns < 0) return ns;
    ms = Math.ceil(ns / 1e6);
    rec = timeLeftRecord(a[2]!, time64 ? 'timespec64' : 'timespec32', 'ppoll', x.cpu.scheduler.now, ns);
  }
  return withSigmask(x, t, a[3]!, a[4]!, rec, (now) => x.kernel(t, N.poll, [a[0]!, a[1]!, now ? 0 : ms]));
}

/**
 * The wait of pselect6/ppoll with the caller's mask (signal-usermask.ts): set at the first
 * presentation of the call (not when a wake re-presents it); a signal already pending that the
 * mask lets through makes the wait one poll round (`now`: do_select / do_poll check
 * signal_pending before sleeping) that ends with -ERESTARTNOHAND when no fd is ready
 * (core_sys_select, do_poll); any other end of the call restores the caller's mask
 * (poll_select_finish), -ERESTARTNOHAND leaves it to the delivery (LinuxAbi.syscall,
 * SignalState.deliver / resume). The time left goes back into the timeout `rec` (kept in the
 * task from the first presentation, once the mask is set: select-time.ts) at the end, or when a
 * signal ends the sleep (SignalState's interrupt), in the era's order against the mask
 * (signal-usermask.ts finishPollWait).
 */
function withSigmask(x: LayerEntry, t: UnicornThread, maskPtr: number, size: number, rec: TimeLeft | null, wait: (now: boolean) => SyscallResult): SyscallResult {
  const s = x.signals;
  const task = x.layer.taskOf(x.proc, t);
  let now = false;
  if (!task.restarting) {
    if (maskPtr !== 0) {
      const e = setUserSigmask(s, x.proc.mm, t, maskPtr, size);
      if (e !== 0) return e;
      now = signalLetThrough(s, t);
    }
    task.timeLeft = rec;
  }
  // signal_pending at each presentation, a NULL mask too: do_select / do_poll give up before
  // they sleep (wait.ts), -ERESTARTNOHAND (sleep-calls.ts)
  task.signalPending = s.sigpending(t);
  let r = wait(now);
  if (r === BLOCK) return r;
  if (now && r === 0) r = -ERESTARTNOHAND;
  const left = task.timeLeft;
  task.timeLeft = null;
  return finishPollWait(s, x.proc.mm, t, left, x.cpu.scheduler.now, r, x.layer.host.pselectTimeLeft ?? 'copy-first');
}
