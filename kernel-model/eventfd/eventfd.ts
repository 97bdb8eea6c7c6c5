import { WaitQueue, type Cpu } from '../../emulator/cpu/cpu.js';
import { EAGAIN, EBADF, EINVAL } from '../base/errno.js';
import { KernelOops } from '../base/oops.js';
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
  /**
   * kernel-side consumers woken with the readers (mainline virqfd: an eventfd that
   * unmasks or masks an interrupt when signalled); called in registration order
   */
  readonly kernelListeners: Array<() => void> = [];
  /** v6.12 ctx->id (do_eventfd's ida_alloc from eventfd_ida), shown in fdinfo; -1: none */
  id = -1;
  /** the allocator `id` came from, to give it back at release */
  ida: EventfdIda | null = null;
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
    if (this.kernelListeners.length > 0) for (const l of [...this.kernelListeners]) l();
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
  // noop_llseek (fs/eventfd.c eventfd_fops, 3.14 and v6.12): the position, unchanged. Reached
  // only when the file has FMODE_LSEEK, i.e. in mainline (anonInodeGetFile); 3.14 -ESPIPE
  llseek(f: File): number {
    return f.pos;
  },
  release(f: File): void {
    const ctx = f.priv as EventfdCtx;
    if (ctx.ida !== null && ctx.id >= 0) ctx.ida.free(ctx.id);
  },
  /**
   * eventfd_show_fdinfo (CONFIG_PROC_FS; 3.14 and v6.12): the count as "eventfd-count:" in hex
   * padded to 16 columns; v6.12 also "eventfd-id:" and "eventfd-semaphore:" (0 or 1)
   */
  showFdinfo(f: File, fdinfo: 'pos-flags' | 'mnt-id-ino'): string {
    const ctx = f.priv as EventfdCtx;
    const out = `eventfd-count: ${ctx.count.toString(16).padStart(16, ' ')}\n`;
    return fdinfo === 'pos-flags' ? out : `${out}eventfd-id: ${ctx.id}\neventfd-semaphore: ${ctx.semaphore ? 1 : 0}\n`;
  },
};

/**
 * fs/eventfd.c eventfd_ida (v6.12; "eventfd: present id to userspace via fdinfo", v5.2): the
 * lowest free id from 0 (ida_alloc). One per kernel instance (the syscall layer owns it); an id
 * goes back when the file is released (Linux: when the context's last reference goes, which a
 * kernel user such as an irqfd can delay; the model frees it with the file).
 */
export class EventfdIda {
  constructor() {
    // every field is readonly: frozen, so that the fuzzer's snapshot (tools/fuzz/snapshot.ts) need not record it
    Object.freeze(this);
  }

  private readonly used = new Set<number>();
  alloc(): number {
    let id = 0;
    while (this.used.has(id)) id++;
    this.used.add(id);
    return id;
  }
  free(id: number): void {
    this.used.delete(id);
  }
}

/** eventfd2(initval, flags): a new fd, -EINVAL for unknown flags, -EMFILE */
export function sysEventfd(proc: Process, cpu: Cpu | null, initval: number, flags: number, lseek: 'never' | 'with-llseek' = 'never', ida: EventfdIda | null = null): number {
  if ((flags & ~(EFD_SEMAPHORE | EFD_NONBLOCK | EFD_CLOEXEC)) !== 0) return -EINVAL;
  const ctx = new EventfdCtx(initval, (flags & EFD_SEMAPHORE) !== 0, cpu);
  if (ida !== null) {
    ctx.ida = ida;
    ctx.id = ida.alloc();
  }
  const f = anonInodeGetFile('[eventfd]', eventfdFops, ctx, 2 | (flags & EFD_NONBLOCK), lseek);
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

// ------------------------------------------------------------------ eventfd_signal on raw kernel memory

/**
 * struct eventfd_ctx (3.14 fs/eventfd.c) as laid out on the modelled board: 32-bit ARM,
 * uniprocessor (CONFIG_SMP=n), no spinlock debugging (model choice, stated in
 * docs/VFIO.md). `struct kref { atomic_t refcount; }` is 4 bytes; wait_queue_head_t
 * (include/linux/wait.h: `spinlock_t lock; struct list_head task_list;`) follows, and its
 * spinlock_t is EMPTY on UP without CONFIG_DEBUG_SPINLOCK / CONFIG_DEBUG_LOCK_ALLOC
 * (include/linux/spinlock_types_up.h: `typedef struct { } arch_spinlock_t;`, and
 * spinlock_types.h's raw_spinlock_t adds nothing else there), so task_list.next sits at 4
 * and .prev at 8; `__u64 count` is 8-byte aligned (ARM EABI) at 16; `unsigned int
 * flags` at 24; sizeof 32.
 */
export const EVENTFD_CTX = { kref: 0, wqhLock: 4, taskList: 4, count: 16, flags: 24, size: 32 } as const;
/** wait_queue_t (3.14 include/linux/wait.h struct __wait_queue): flags, private, func, task_list */
export const WAIT_QUEUE_T = { flags: 0, private: 4, func: 8, taskList: 12 } as const;

/** the kernel's view of memory: loads/stores at kernel virtual addresses that Oops outside the linear map (kernel-model/mm/kmem.ts) */
export interface KernelMemory {
  read32(kva: number): number;
  write32(kva: number, v: number): void;
  /** whether kva is mapped (the linear map), i.e. an instruction fetch there would not abort */
  isMapped?(kva: number): boolean;
}

function at<T>(fn: string, access: () => T): T {
  try {
    return access();
  } catch (e) {
    if (e instanceof KernelOops && e.backtrace.length === 0) throw new KernelOops(e.kind, e.address, `${fn}: ${e.detail}`, [fn]);
    throw e;
  }
}

/**
 * 3.14 fs/eventfd.c eventfd_signal(ctx, n), run on whatever bytes lie at `ctx` (a kernel
 * address), access by access, for the callers that hand it something that is not an
 * eventfd context (patch 09's handler, patch 10's handler with a NULL trigger):
 *
 *  1. spin_lock_irqsave(&ctx->wqh.lock): on UP only local_irq_save + preempt_disable, no
 *     memory access;
 *  2. `if (ULLONG_MAX - ctx->count < n)` reads the u64 at ctx+16, `ctx->count += n`
 *     writes it back (the wrong object's fields are incremented);
 *  3. waitqueue_active(&ctx->wqh) = !list_empty: reads task_list.next at ctx+4 and
 *     compares it with ctx+4;
 *  4. when "active", wake_up_locked_poll -> __wake_up_locked_key -> __wake_up_common:
 *     list_for_each_entry_safe(curr, next, &q->task_list, task_list) takes
 *     curr = head->next - 12, loads next from curr->task_list.next (= *head->next), then
 *     curr->flags and curr->func, and calls curr->func. The model has no kernel text: a
 *     call to an address outside the linear map is an instruction abort there; a call
 *     into the linear map (heap bytes as code) is reported as a BUG at that address
 *     (model limit: real hardware would execute the bytes).
 *
 * A load or store outside the linear map raises the KernelOops of `mem` (a paging
 * request, "NULL pointer dereference" below 4096), with the backtrace
 * [function, ...callers]. Returns n when nothing faulted.
 */
export function eventfdSignalAt(mem: KernelMemory, ctx: number, n: number, callers: readonly string[]): number {
  try {
    const c = ctx >>> 0;
    const countAt = (c + EVENTFD_CTX.count) >>> 0;
    const lo = at('eventfd_signal', () => mem.read32(countAt));
    const hi = at('eventfd_signal', () => mem.read32((countAt + 4) >>> 0));
    const count = (BigInt(hi) << 32n) | BigInt(lo);
    let add = BigInt(n);
    if (ULLONG_MAX - count < add) add = ULLONG_MAX - count;
    const next = count + add;
    at('eventfd_signal', () => mem.write32(countAt, Number(next & 0xffffffffn)));
    at('eventfd_signal', () => mem.write32((countAt + 4) >>> 0, Number((next >> 32n) & 0xffffffffn)));
    const head = (c + EVENTFD_CTX.taskList) >>> 0;
    const first = at('eventfd_signal', () => mem.read32(head)); // waitqueue_active
    if (first === head) return Number(add);
    const wake = ['__wake_up_common', '__wake_up_locked_key', 'eventfd_signal'];
    const curr = (first - WAIT_QUEUE_T.taskList) >>> 0;
    const atWake = <T>(access: () => T): T => {
      try {
        return access();
      } catch (e) {
        if (e instanceof KernelOops && e.backtrace.length === 0) {
          throw new KernelOops(e.kind, e.address, `__wake_up_common walks ctx->wqh.task_list from 0x${head.toString(16)} (next = 0x${first.toString(16).padStart(8, '0')}): ${e.detail}`, wake);
        }
        throw e;
      }
    };
    atWake(() => mem.read32(first)); // next = list_entry(curr->task_list.next)
    atWake(() => mem.read32(curr)); // curr->flags
    const func = atWake(() => mem.read32((curr + WAIT_QUEUE_T.func) >>> 0));
    if (mem.isMapped?.(func) === true) {
      throw new KernelOops('bug', func, `__wake_up_common calls curr->func = 0x${func.toString(16).padStart(8, '0')}, an address in the kernel heap (the model executes no kernel data)`, wake);
    }
    throw new KernelOops('paging-request', func, `__wake_up_common calls curr->func = 0x${func.toString(16).padStart(8, '0')} (wait_queue_t at 0x${curr.toString(16).padStart(8, '0')}): instruction abort`, [`0x${func.toString(16).padStart(8, '0')}`, ...wake]);
  } catch (e) {
    if (e instanceof KernelOops) throw e.withCallers(callers);
    throw e;
  }
}
