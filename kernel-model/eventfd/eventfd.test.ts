import { describe, expect, it } from 'vitest';
import type { GuestProgram } from '../../emulator/cpu/stub.js';
import { makeMachine } from '../syscall/testing/machine.js';
import {
  EAGAIN, EBADF, EINVAL, ESPIPE, EFD_CLOEXEC, EFD_NONBLOCK, EFD_SEMAPHORE,
  MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE, type Sys,
} from '../uapi/index.js';
import { eventfdCtxFdget, EventfdCtx } from './eventfd.js';

function* scratch(sys: Sys): GuestProgram<number> {
  return yield* sys.mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
}
function* put(sys: Sys, fd: number, s: number, v: bigint, count = 8): GuestProgram<number> {
  sys.mem.write64(s, v);
  return yield* sys.write(fd, s, count);
}
function* get(sys: Sys, fd: number, s: number, count = 8): GuestProgram<[number, bigint]> {
  sys.mem.write64(s, 0xaaaaaaaaaaaaaaaan);
  const r = yield* sys.read(fd, s, count);
  return [r, sys.mem.read64(s)];
}

describe('eventfd', () => {
  it('counter semantics, EAGAIN, short buffers, 2^64-1 and overflow', () => {
    const m = makeMachine();
    const out: unknown[] = [];
    const { thread } = m.run(function* (sys) {
      const proc = [...m.sys.processes.values()][0]!;
      const s = yield* scratch(sys);
      const e = yield* sys.eventfd(5, EFD_NONBLOCK | EFD_CLOEXEC);
      out.push(e, proc.fdEntry(e)!.cloexec);
      out.push(yield* put(sys, e, s, 3n));
      out.push(yield* get(sys, e, s));
      out.push(yield* get(sys, e, s));
      out.push(yield* put(sys, e, s, 1n, 4), yield* get(sys, e, s, 7));
      out.push(yield* put(sys, e, s, 0xffffffffffffffffn));
      out.push(yield* put(sys, e, s, 0xfffffffffffffffen));
      out.push(yield* put(sys, e, s, 1n)); // would reach ULLONG_MAX: EAGAIN
      out.push(yield* get(sys, e, s));
      out.push(yield* sys.lseek(e, 0, 0));
      out.push(yield* sys.eventfd(0, 0x40));
      yield* sys.close(e);
      out.push(yield* sys.read(e, s, 8));
      return 0;
    });
    expect(thread.exit!.code).toBe(0);
    expect(out).toEqual([
      0, true,
      8, [8, 8n], [-EAGAIN, 0xaaaaaaaaaaaaaaaan],
      -EINVAL, [-EINVAL, 0xaaaaaaaaaaaaaaaan],
      -EINVAL, 8, -EAGAIN, [8, 0xfffffffffffffffen],
      -ESPIPE, -EINVAL, -EBADF,
    ]);
  });

  it('semaphore mode reads 1 at a time', () => {
    const m = makeMachine();
    const out: unknown[] = [];
    m.run(function* (sys) {
      const s = yield* scratch(sys);
      const e = yield* sys.eventfd(2, EFD_SEMAPHORE | EFD_NONBLOCK);
      out.push((yield* get(sys, e, s))[1], (yield* get(sys, e, s))[1], (yield* get(sys, e, s))[0]);
      return 0;
    });
    expect(out).toEqual([1n, 1n, -EAGAIN]);
  });

  it('a blocking read sleeps in virtual time until a kernel-side eventfd_signal', () => {
    const m = makeMachine();
    let ctx: EventfdCtx | null = null;
    const out: unknown[] = [];
    const { proc } = m.start(function* (sys) {
      const s = yield* scratch(sys);
      const e = yield* sys.eventfd(0, 0);
      const c = eventfdCtxFdget(proc, e);
      ctx = c as EventfdCtx;
      out.push(yield* get(sys, e, s), m.sched.now);
      return 0;
    });
    m.sched.runUntil(1_000_000);
    expect(out).toEqual([]);
    expect(ctx!.wqh.size).toBe(1);
    m.sched.schedule(500_000, () => ctx!.signal(3), 'irq');
    m.sched.runUntilIdle();
    expect(out).toEqual([[8, 3n], 1_500_000]);
    expect(ctx!.wqh.size).toBe(0);
  });

  it('a blocked writer (counter full) wakes when another thread reads', () => {
    const m = makeMachine();
    const out: unknown[] = [];
    let e = -1;
    const { proc } = m.start(function* (sys) {
      const s = yield* scratch(sys);
      e = yield* sys.eventfd(0, 0);
      out.push(yield* put(sys, e, s, 0xfffffffffffffffen));
      out.push(yield* put(sys, e, s, 5n), 'writer done');
      return 0;
    });
    m.sched.runUntil(100_000);
    m.sys.spawn(proc, function* (sys) {
      const s = yield* scratch(sys);
      out.push('reader');
      out.push(yield* get(sys, e, s));
      return 0;
    });
    m.sched.runUntilIdle();
    expect(out).toEqual([8, 'reader', [8, 0xfffffffffffffffen], 8, 'writer done']);
    expect(eventfdCtxFdget(proc, e)).toBe(-EBADF); // process exited: fds closed
  });
});
