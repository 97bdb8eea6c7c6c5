/**
 * The fd-table calls (fs/file.c, fs/fcntl.c, fs/pipe.c): pipe2, dup, dup2/dup3 and fcntl;
 * SyscallLayer (syscalls.ts) dispatches them here.
 */
import { EBADF, EFAULT, EINVAL } from '../base/errno.js';
import type { Cpu } from '../../emulator/cpu/cpu.js';
import { O_CLOEXEC, O_NONBLOCK } from '../uapi/constants.js';
import { createPipeFiles } from '../vfs/pipe.js';
import type { Vfs } from '../vfs/vfs.js';
import type { ThreadTask } from './task.js';

/** include/uapi/asm-generic/fcntl.h */
const F_DUPFD = 0, F_GETFD = 1, F_SETFD = 2, F_GETFL = 3, F_SETFL = 4, F_DUPFD_CLOEXEC = 1030, FD_CLOEXEC = 1;
const O_APPEND = 0o2000;

/** what pipe2 needs of the kernel: the CPU (wait queues) and the VFS (pipefs inode numbers) */
export interface PipeHost {
  readonly cpu: Cpu;
  readonly vfs: Vfs;
}

/** pipe2(2) (fs/pipe.c do_pipe2): flags O_CLOEXEC | O_NONBLOCK, else -EINVAL; two fds written to `fdsPtr` */
export function sysPipe2(host: PipeHost, t: ThreadTask, fdsPtr: number, flags: number): number {
  if ((flags & ~(O_CLOEXEC | O_NONBLOCK)) !== 0) return -EINVAL;
  const [rd, wr] = createPipeFiles(host.cpu, flags);
  // fs/pipe.c get_pipe_inode: one pipefs inode (new_inode_pseudo -> get_next_ino) for both ends
  rd.ino = wr.ino = host.vfs.nextIno();
  const cloexec = (flags & O_CLOEXEC) !== 0;
  const r = t.proc.fdInstall(rd, cloexec);
  if (r < 0) {
    rd.put();
    wr.put();
    return r;
  }
  const w = t.proc.fdInstall(wr, cloexec);
  if (w < 0) {
    t.proc.close(r);
    wr.put();
    return w;
  }
  const b = new Uint8Array(8);
  const dv = new DataView(b.buffer);
  dv.setInt32(0, r, true);
  dv.setInt32(4, w, true);
  if (t.mm.copyToUser(fdsPtr, b, 0, 8) < 0) {
    // do_pipe2: the fds are not installed when the copy fails
    t.proc.close(r);
    t.proc.close(w);
    return -EFAULT;
  }
  return 0;
}

/** dup(2): the lowest free fd, close-on-exec clear */
export function sysDup(t: ThreadTask, fd: number): number {
  const f = t.proc.fdget(fd);
  if (f === null) return -EBADF;
  const r = t.proc.fdInstall(f.get(), false);
  if (r < 0) f.put();
  return r;
}

/**
 * dup2/dup3 (fs/file.c ksys_dup3, do_dup2): dup3 refuses flags other than O_CLOEXEC and
 * oldfd == newfd (-EINVAL); dup2 with oldfd == newfd returns newfd when it is open.
 */
export function sysDup3(t: ThreadTask, oldfd: number, newfd: number, flags: number, isDup2: boolean): number {
  if (!isDup2 && (flags & ~O_CLOEXEC) !== 0) return -EINVAL;
  const f = t.proc.fdget(oldfd);
  if (oldfd === newfd) {
    if (isDup2) return f === null ? -EBADF : newfd;
    return -EINVAL;
  }
  if (f === null) return -EBADF;
  if (newfd < 0) return -EBADF;
  const r = t.proc.fdInstallFrom(f.get(), newfd, (flags & O_CLOEXEC) !== 0, true);
  if (r < 0) f.put();
  return r;
}

/**
 * fcntl/fcntl64 (fs/fcntl.c do_fcntl): F_DUPFD, F_DUPFD_CLOEXEC, F_GETFD/F_SETFD
 * (FD_CLOEXEC), F_GETFL/F_SETFL (only O_APPEND and O_NONBLOCK change: SETFL_MASK without
 * O_DIRECT/O_NOATIME/FASYNC, which no file here supports). Other commands: -EINVAL.
 */
export function sysFcntl(t: ThreadTask, fd: number, cmd: number, arg: number): number {
  const e = t.proc.fdEntry(fd);
  if (e === null) return -EBADF;
  switch (cmd) {
    case F_DUPFD:
    case F_DUPFD_CLOEXEC: {
      const min = arg | 0;
      if (min < 0) return -EINVAL;
      const r = t.proc.fdInstallFrom(e.file.get(), min, cmd === F_DUPFD_CLOEXEC, false);
      if (r < 0) e.file.put();
      return r;
    }
    case F_GETFD:
      return e.cloexec ? FD_CLOEXEC : 0;
    case F_SETFD:
      e.cloexec = (arg & FD_CLOEXEC) !== 0;
      return 0;
    case F_GETFL:
      return e.file.flags;
    case F_SETFL: {
      const mask = O_APPEND | O_NONBLOCK;
      e.file.flags = (e.file.flags & ~mask) | (arg & mask);
      return 0;
    }
    default:
      return -EINVAL;
  }
}
