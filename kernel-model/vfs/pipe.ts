/**
 * Anonymous pipes (fs/pipe.c): pipe2(2) with a 64 KiB ring (PIPE_DEF_BUFFERS = 16 pages),
 * blocking and O_NONBLOCK reads and writes, poll, EOF when the last writer is gone and -EPIPE
 * when the last reader is gone.
 *
 * Deviations, by choice of this model:
 * - A blocking write larger than PIPE_BUF that finds the pipe only partly free writes what
 *   fits and returns that count (pipe_write would sleep until it has written everything). The
 *   model's blocking protocol re-executes a whole syscall after a wake-up, so a call cannot
 *   keep partial progress; glibc's stdio and busybox loop on short writes. A write of at most
 *   PIPE_BUF bytes stays atomic: it waits until the whole of it fits.
 * - -EPIPE is returned without raising SIGPIPE (the model has no signal delivery yet).
 */
import { WaitQueue, type Cpu } from '../../emulator/cpu/cpu.js';
import { EAGAIN, EPIPE, ESPIPE } from '../base/errno.js';
import { O_NONBLOCK, POLLERR, POLLHUP, POLLIN, POLLOUT, POLLRDNORM, POLLWRNORM } from '../uapi/constants.js';
import { allocFile, ERESTARTSYS, type File, type FileOps, type PollTable, type Task } from './file.js';

/** include/uapi/linux/limits.h */
export const PIPE_BUF = 4096;
/** PIPE_DEF_BUFFERS * PAGE_SIZE */
export const PIPE_SIZE = 65536;

export class Pipe {
  readonly buf = new Uint8Array(PIPE_SIZE);
  head = 0;
  len = 0;
  readers = 1;
  writers = 1;
  /** pipe->rd_wait: readers sleep here, writers wake it */
  readonly rdWait = new WaitQueue('pipe-rd');
  /** pipe->wr_wait */
  readonly wrWait = new WaitQueue('pipe-wr');
  constructor(readonly cpu: Cpu) {}
}

function pipeRead(f: File, task: Task, ubuf: number, count: number): number {
  const p = f.priv as Pipe;
  if (count === 0) return 0;
  if (p.len === 0) {
    if (p.writers === 0) return 0;
    if ((f.flags & O_NONBLOCK) !== 0 || !task.canBlock) return -EAGAIN;
    task.sleepOn(p.rdWait);
    return -ERESTARTSYS;
  }
  const n = Math.min(count, p.len);
  // at most two copies: the ring's tail part, then its start
  const first = Math.min(n, PIPE_SIZE - p.head);
  let r = task.mm.copyToUser(ubuf, p.buf.subarray(p.head, p.head + first), 0, first);
  if (r === 0 && n > first) r = task.mm.copyToUser(ubuf + first, p.buf.subarray(0, n - first), 0, n - first);
  if (r < 0) return r;
  p.head = (p.head + n) % PIPE_SIZE;
  p.len -= n;
  p.wrWait.wakeAll(p.cpu);
  return n;
}

function pipeWrite(f: File, task: Task, ubuf: number, count: number): number {
  const p = f.priv as Pipe;
  if (p.readers === 0) return -EPIPE;
  if (count === 0) return 0;
  const free = PIPE_SIZE - p.len;
  // pipe_write: a write of at most PIPE_BUF bytes is atomic
  const fits = count <= PIPE_BUF ? (free >= count ? count : 0) : free;
  if (fits === 0) {
    if ((f.flags & O_NONBLOCK) !== 0 || !task.canBlock) return -EAGAIN;
    task.sleepOn(p.wrWait);
    return -ERESTARTSYS;
  }
  const n = Math.min(count, fits);
  const tail = (p.head + p.len) % PIPE_SIZE;
  const first = Math.min(n, PIPE_SIZE - tail);
  let r = task.mm.copyFromUser(p.buf.subarray(tail, tail + first), 0, ubuf, first);
  if (r === 0 && n > first) r = task.mm.copyFromUser(p.buf.subarray(0, n - first), 0, ubuf + first, n - first);
  if (r < 0) return r;
  p.len += n;
  p.rdWait.wakeAll(p.cpu);
  return n;
}

const readOps: FileOps = {
  name: 'pipe',
  keepsPos: true,
  read: (f, task, buf, count) => pipeRead(f, task, buf, count),
  llseek: () => -ESPIPE, // no_llseek
  poll(f, pt: PollTable | null) {
    const p = f.priv as Pipe;
    pt?.wait(p.rdWait);
    // pipe_poll: readable when not empty; POLLHUP when there is no writer
    return (p.len > 0 ? POLLIN | POLLRDNORM : 0) | (p.writers === 0 ? POLLHUP : 0);
  },
  release(f) {
    const p = f.priv as Pipe;
    p.readers--;
    p.wrWait.wakeAll(p.cpu);
  },
};

const writeOps: FileOps = {
  name: 'pipe',
  keepsPos: true,
  write: (f, task, buf, count) => pipeWrite(f, task, buf, count),
  llseek: () => -ESPIPE,
  poll(f, pt: PollTable | null) {
    const p = f.priv as Pipe;
    pt?.wait(p.wrWait);
    // pipe_poll: writable while not full; POLLERR when there is no reader
    return (p.len < PIPE_SIZE ? POLLOUT | POLLWRNORM : 0) | (p.readers === 0 ? POLLERR : 0);
  },
  release(f) {
    const p = f.priv as Pipe;
    p.writers--;
    p.rdWait.wakeAll(p.cpu);
  },
};

/**
 * create_pipe_files: [read end, write end], both with O_NONBLOCK from `flags`. Neither end has
 * FMODE_PREAD/FMODE_PWRITE/FMODE_LSEEK (3.14 alloc_file; v6.12 alloc_file_pseudo): pread,
 * pwrite and lseek are -ESPIPE.
 */
export function createPipeFiles(cpu: Cpu, flags: number): [File, File] {
  const p = new Pipe(cpu);
  const nb = flags & O_NONBLOCK;
  return [allocFile(readOps, p, nb | 0 /* O_RDONLY */, 'pipe:'), allocFile(writeOps, p, nb | 1 /* O_WRONLY */, 'pipe:')];
}
