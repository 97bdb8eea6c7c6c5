import { WaitQueue, type Cpu } from '../../emulator/cpu/cpu.js';
import { EAGAIN, EBADF, EINVAL } from '../base/errno.js';
import type { Process } from '../process/process.js';
import { ERESTARTSYS, File, anonInodeGetFile, type FileOps, type PollTable, type Task } from '../vfs/file.js';

export const EFD_SEMAPHORE = 1;
export const EFD_NONBLOCK = 0o4000;
export const EFD_CLOEXEC = 0o2000000;
const POLLIN = 0x1;
const POLLOUT = 0x4;
const POLLERR = 0x8;
const ULLONG_MAX = 0xffffffffffffffffn;

/**
 * An eventfd context: a 64-bit counter with one wait queue for readers and writers.
 * Kernel code (IRQ handlers, vfio-platform) signals it with `signal(n)`.
 */
export class EventfdCtx {
  count: bigint;
  readonly wqh: WaitQueue;
  /** signals delivered by kernel code (statistics) */
  signals = 0;
  constructor(
    initval: number,
    readonly semaphore: boolean,
    readonly cpu: Cpu | null,
  ) {
    this.count = BigInt(initval >>> 0);
    this.wqh = new WaitQueue('eventfd');
  }

  wake(): void {
    if (this.cpu && this.wqh.size > 0) this.wqh.wakeAll(this.cpu);
  }

  /** eventfd_signal: adds n (saturating at ULLONG_MAX - count), wakes waiters; returns the amount added */
  signal(n = 1): number {
    let add = BigInt(n);
    if (ULLONG_MAX - this.count < add) add = ULLONG_MAX - this.count;
    this.count += add;
    this.signals++;
    this.wake();
    return Number(add);
  }

  pollMask(): number {
    let m = 0;
    if (this.count > 0n) m |= POLLIN;
    if (this.count === ULLONG_MAX) m |= POLLERR;
    if (ULLONG_MAX - 1n > this.count) m |= POLLOUT;
    return m;
  }
}

const buf8 = new Uint8Array(8);
const view8 = new DataView(buf8.buffer);

export const eventfdFops: FileOps = {
  name: 'eventfd',
  read(f: File, task: Task, buf: number, count: number): number {
    const ctx = f.priv as EventfdCtx;
    if (count < 8) return -EINVAL;
    if (ctx.count === 0n) {
      if ((f.flags & EFD_NONBLOCK) !== 0 || !task.canBlock) return -EAGAIN;
      task.sleepOn(ctx.wqh);
      return -ERESTARTSYS;
    }
    const v = ctx.semaphore ? 1n : ctx.count;
    view8.setBigUint64(0, v, true);
    const r = task.mm.copyToUser(buf, buf8, 0, 8);
    if (r < 0) return r;
    ctx.count -= v;
    ctx.wake();
    return 8;
  },
  write(f: File, task: Task, buf: number, count: number): number {
    const ctx = f.priv as EventfdCtx;
    if (count < 8) return -EINVAL;
    const r = task.mm.copyFromUser(buf8, 0, buf, 8);
    if (r < 0) return r;
    const v = view8.getBigUint64(0, true);
    if (v === ULLONG_MAX) return -EINVAL;
    if (ULLONG_MAX - ctx.count <= v) {
      if ((f.flags & EFD_NONBLOCK) !== 0 || !task.canBlock) return -EAGAIN;
      task.sleepOn(ctx.wqh);
      return -ERESTARTSYS;
    }
    ctx.count += v;
    ctx.wake();
    return 8;
  },
  poll(f: File, pt: PollTable | null): number {
    const ctx = f.priv as EventfdCtx;
    pt?.wait(ctx.wqh);
    return ctx.pollMask();
  },
  llseek(): number {
    return -29; // -ESPIPE
  },
};

/** eventfd2(initval, flags): a new fd, -EINVAL for unknown flags, -EMFILE */
export function sysEventfd(proc: Process, cpu: Cpu | null, initval: number, flags: number): number {
  if ((flags & ~(EFD_SEMAPHORE | EFD_NONBLOCK | EFD_CLOEXEC)) !== 0) return -EINVAL;
  const ctx = new EventfdCtx(initval, (flags & EFD_SEMAPHORE) !== 0, cpu);
  const f = anonInodeGetFile('[eventfd]', eventfdFops, ctx, 2 | (flags & EFD_NONBLOCK));
  const fd = proc.fdInstall(f, (flags & EFD_CLOEXEC) !== 0);
  if (fd < 0) f.put();
  return fd;
}

/** eventfd_ctx_fdget: the context behind fd of the process, or -EBADF / -EINVAL */
export function eventfdCtxFdget(proc: Process, fd: number): EventfdCtx | number {
  const f = proc.fdget(fd);
  if (f === null) return -EBADF;
  return eventfdCtxFileget(f);
}

export function eventfdCtxFileget(f: File): EventfdCtx | number {
  if (f.ops !== eventfdFops) return -EINVAL;
  return f.priv as EventfdCtx;
}
