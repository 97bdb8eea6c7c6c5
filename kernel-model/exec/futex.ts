import type { Cpu } from '../../emulator/cpu/cpu.js';
import { decodeTimespec } from '../../emulator/cpu/unicorn/abi.js';
import { BLOCK, type SyscallResult, type UnicornThread } from '../../emulator/cpu/unicorn/thread.js';
import { EAGAIN, EFAULT, EINVAL, ENOSYS, ETIMEDOUT } from '../base/errno.js';
import type { AddressSpace } from '../process/mm.js';
import { REALTIME_EPOCH_NS } from './time.js';

/**
 * The futexes of one ARM process on the Unicorn backend (kernel/futex/waitwake.c futex_wait /
 * futex_wake, kernel/futex/syscalls.c do_futex): a FIFO wait queue per user address of this
 * process (FUTEX_PRIVATE_FLAG accepted; the table is the process's own) for FUTEX_WAIT/WAKE
 * and their _BITSET forms (the bitset is not read), with FUTEX_CLOCK_REALTIME; timeouts in
 * virtual time. A waker completes the waiter's call with 0 (`completeSyscall`); a timeout
 * makes the re-presented call -ETIMEDOUT. Other ops: -ENOSYS.
 */

const FUTEX_WAIT = 0, FUTEX_WAKE = 1, FUTEX_WAIT_BITSET = 9, FUTEX_WAKE_BITSET = 10;
const FUTEX_PRIVATE = 128, FUTEX_CLOCK_REALTIME = 256;

interface FutexWait {
  uaddr: number;
  deadline: number | null;
}

export class FutexTable {
  private readonly queues = new Map<number, UnicornThread[]>();
  private readonly waits = new Map<UnicornThread, FutexWait>();
  private readonly scratch8 = new Uint8Array(8);
  private readonly scratch16 = new Uint8Array(16);

  constructor(
    private readonly mm: AddressSpace,
    private readonly cpu: Cpu,
  ) {}

  /** `t` is asleep in FUTEX_WAIT */
  has(t: UnicornThread): boolean {
    return this.waits.has(t);
  }

  /** futex(uaddr, op, val, timeout, uaddr2, val3) */
  sysFutex(t: UnicornThread, time64: boolean, a: Uint32Array): SyscallResult {
    const uaddr = a[0]!;
    const op = a[1]! & ~(FUTEX_PRIVATE | FUTEX_CLOCK_REALTIME);
    const realtime = (a[1]! & FUTEX_CLOCK_REALTIME) !== 0;
    if (op === FUTEX_WAKE || op === FUTEX_WAKE_BITSET) return this.wake(uaddr, a[2]!);
    if (op !== FUTEX_WAIT && op !== FUTEX_WAIT_BITSET) return -ENOSYS;
    const w = this.waits.get(t);
    if (w !== undefined) {
      // re-presented: only a timeout wakes a futex waiter without completing its call
      if (w.deadline !== null && this.cpu.scheduler.now >= w.deadline) {
        this.unqueue(t);
        return -ETIMEDOUT;
      }
      this.cpu.block(t, w.deadline);
      return BLOCK;
    }
    const v = this.mm.getUser32(uaddr);
    if (v < 0) return v;
    if (v !== a[2]) return -EAGAIN;
    let deadline: number | null = null;
    if (a[3] !== 0) {
      const b = time64 ? this.scratch16 : this.scratch8;
      if (this.mm.copyFromUser(b, 0, a[3]!, b.length) !== 0) return -EFAULT;
      const d = decodeTimespec(b, time64);
      if (d === null) return -EINVAL;
      // FUTEX_WAIT: relative; FUTEX_WAIT_BITSET: absolute on CLOCK_MONOTONIC (or REALTIME)
      deadline = op === FUTEX_WAIT ? t.nowNs() + d : d - (realtime ? REALTIME_EPOCH_NS : 0);
      if (deadline <= this.cpu.scheduler.now) return -ETIMEDOUT;
    }
    let q = this.queues.get(uaddr);
    if (q === undefined) this.queues.set(uaddr, (q = []));
    q.push(t);
    this.waits.set(t, { uaddr, deadline });
    this.cpu.block(t, deadline);
    return BLOCK;
  }

  /** FUTEX_WAKE: complete the calls of up to `n` waiters on `uaddr`, first come first; the number woken */
  wake(uaddr: number, n: number): number {
    const q = this.queues.get(uaddr);
    if (q === undefined) return 0;
    let woken = 0;
    while (q.length > 0 && woken < n) {
      const w = q.shift()!;
      this.waits.delete(w);
      w.completeSyscall(0);
      this.cpu.wake(w);
      woken++;
    }
    if (q.length === 0) this.queues.delete(uaddr);
    return woken;
  }

  /** take `t` off its wait queue (timeout, signal, thread exit); nothing if it is not waiting */
  unqueue(t: UnicornThread): void {
    const w = this.waits.get(t);
    if (w === undefined) return;
    this.waits.delete(t);
    const q = this.queues.get(w.uaddr);
    if (q) {
      const i = q.indexOf(t);
      if (i >= 0) q.splice(i, 1);
      if (q.length === 0) this.queues.delete(w.uaddr);
    }
  }
}
