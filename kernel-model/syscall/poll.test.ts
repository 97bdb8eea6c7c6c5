import { describe, expect, it } from 'vitest';
import type { GuestProgram } from '../../emulator/cpu/stub.js';
import { EventfdCtx, eventfdCtxFdget } from '../eventfd/eventfd.js';
import {
  EBADF, EINVAL, ENOSYS, EAGAIN, EFAULT, MAP_ANONYMOUS, MAP_PRIVATE, NR, POLLIN, POLLNVAL, POLLOUT, PROT_READ, PROT_WRITE, EFD_NONBLOCK,
  type Sys,
} from '../uapi/index.js';
import { ERESTARTSYS } from '../vfs/file.js';
import { makeMachine } from './testing/machine.js';
import type { Cpu, GuestThread, RunOutcome, ThreadState } from '../../emulator/cpu/cpu.js';

const MS = 1_000_000;

function* scratch(sys: Sys): GuestProgram<number> {
  return yield* sys.mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
}

describe('poll', () => {
  it('times out in virtual time; POLLNVAL for a closed fd; fd -1 ignored', () => {
    const m = makeMachine();
    const out: unknown[] = [];
    m.run(function* (sys) {
      const s = yield* scratch(sys);
      const e = yield* sys.eventfd(0, 0);
      sys.mem.write32(s, e);
      sys.mem.write16(s + 4, POLLIN);
      sys.mem.write32(s + 8, -1);
      sys.mem.write16(s + 12, POLLIN);
      const t0 = m.sched.now;
      out.push(yield* sys.poll(s, 2, 10));
      out.push(m.sched.now - t0 >= 10 * MS, m.sched.now - t0 < 11 * MS);
      out.push(yield* sys.poll(s, 1, 0));
      sys.mem.write32(s, 7);
      out.push(yield* sys.poll(s, 1, -1), sys.mem.read16(s + 6));
      out.push(yield* sys.poll(0x1000, 1, 0));
      out.push(yield* sys.poll(s, 5000, 0));
      return 0;
    });
    expect(out).toEqual([0, true, true, 0, 1, POLLNVAL, -EFAULT, -EINVAL]);
  });

  it('is woken by an interrupt handler that signals the eventfd during the wait', () => {
    const m = makeMachine();
    let ctx: EventfdCtx | null = null;
    let handled = 0;
    m.cpu.setIrqEntry(() => {
      handled++;
      ctx!.signal(1);
      m.cpu.irqInput(false);
    });
    const out: unknown[] = [];
    const { proc } = m.start(function* (sys) {
      const s = yield* scratch(sys);
      const e = yield* sys.eventfd(0, 0);
      ctx = eventfdCtxFdget(proc, e) as EventfdCtx;
      sys.mem.write32(s, e);
      sys.mem.write16(s + 4, POLLIN | POLLOUT);
      m.sched.schedule(3 * MS, () => m.cpu.irqInput(true), 'device irq');
      sys.mem.write16(s + 4, POLLIN);
      out.push(yield* sys.poll(s, 1, 1000), sys.mem.read16(s + 6), Math.floor(m.sched.now / MS));
      return 0;
    });
    m.sched.runUntilIdle();
    expect(handled).toBe(1);
    expect(out).toEqual([1, POLLIN, 3]);
  });
});

describe('select', () => {
  it('fd_set bitmaps in process memory, remaining timeout written back, EBADF, EINVAL', () => {
    const m = makeMachine();
    const out: unknown[] = [];
    const { proc } = m.start(function* (sys) {
      const s = yield* scratch(sys);
      const fds: number[] = [];
      for (let i = 0; i < 3; i++) fds.push(yield* sys.eventfd(0, EFD_NONBLOCK));
      const ctx = eventfdCtxFdget(proc, fds[2]!) as EventfdCtx;
      m.sched.schedule(2 * MS, () => ctx.signal(1), 'signal');
      sys.mem.write32(s, (1 << fds[0]!) | (1 << fds[2]!)); // readfds
      sys.mem.write32(s + 16, 5); // timeval: 5 s
      sys.mem.write32(s + 20, 0);
      out.push(yield* sys.select(fds[2]! + 1, s, 0, 0, s + 16));
      out.push(sys.mem.read32(s), sys.mem.read32(s + 16), sys.mem.read32(s + 20));
      // writable: eventfds are writable at once
      sys.mem.write32(s + 4, 1 << fds[1]!);
      out.push(yield* sys.select(fds[1]! + 1, 0, s + 4, 0, 0), sys.mem.read32(s + 4));
      sys.mem.write32(s, 1 << 9);
      sys.mem.write32(s + 16, 0);
      out.push(yield* sys.select(10, s, 0, 0, s + 16));
      out.push(yield* sys.select(-1, 0, 0, 0, 0));
      sys.mem.write32(s + 16, 0);
      sys.mem.write32(s + 20, 1500);
      const t0 = m.sched.now;
      out.push(yield* sys.select(0, 0, 0, 0, s + 16), m.sched.now - t0 >= 1_500_000);
      return 0;
    });
    m.sched.runUntilIdle();
    expect(out).toEqual([1, 1 << 2, 4, 998000, 1, 1 << 1, -EBADF, -EINVAL, 0, true]);
  });
});

describe('select and a close by another thread', () => {
  // the fds are checked on entry only (fs/select.c max_select_fd); the re-scan after the wake-up
  // meets the closed fd: 3.14 skips it, mainline reports it ready (EPOLLNVAL in every set)
  for (const [mode, expected] of [['skip', [1, 1 << 1]], ['ready', [2, (1 << 0) | (1 << 1)]]] as const) {
    it(`a select asleep when a sibling closes one of its fds: ${mode}`, () => {
      const m = makeMachine({ selectClosedFd: mode });
      const out: number[] = [];
      const proc = m.sys.createProcess();
      const fds: number[] = [];
      m.sys.spawn(proc, function* (sys) {
        const s = yield* scratch(sys);
        fds.push(yield* sys.eventfd(0, EFD_NONBLOCK), yield* sys.eventfd(0, EFD_NONBLOCK));
        sys.mem.write32(s, (1 << fds[0]!) | (1 << fds[1]!));
        sys.mem.write32(s + 16, 5);
        sys.mem.write32(s + 20, 0);
        out.push(yield* sys.select(fds[1]! + 1, s, 0, 0, s + 16), sys.mem.read32(s));
        return 0;
      });
      m.sched.runUntil(1 * MS);
      expect(fds).toEqual([0, 1]);
      // the sibling closes fds[0] while the select sleeps, then fds[1] is signalled
      m.sys.spawn(proc, function* (sys) {
        out.push(yield* sys.close(fds[0]!));
        return 0;
      });
      m.sched.runUntil(2 * MS);
      (eventfdCtxFdget(proc, fds[1]!) as EventfdCtx).signal(1);
      m.sched.runUntilIdle();
      expect(out).toEqual([0, ...expected]);
    });
  }
});

describe('nanosleep and getpid', () => {
  it('sleeps in virtual time; rejects bad timespec', () => {
    const m = makeMachine();
    const out: unknown[] = [];
    m.run(function* (sys) {
      const s = yield* scratch(sys);
      sys.mem.write32(s, 0);
      sys.mem.write32(s + 4, 5 * MS);
      const t0 = m.sched.now;
      out.push(yield* sys.nanosleep(s, 0), m.sched.now - t0 >= 5 * MS);
      sys.mem.write32(s + 4, 1_000_000_000);
      out.push(yield* sys.nanosleep(s, 0));
      out.push(yield* sys.nanosleep(0x1000, 0));
      out.push(yield* sys.getpid());
      return 0;
    });
    expect(out).toEqual([0, true, -EINVAL, -EFAULT, 100]);
  });
});

/** a register-style thread that drives the plain invoke entry like a Unicorn backend would */
class InvokeThread implements GuestThread {
  state: ThreadState = 'runnable';
  results: number[] = [];
  constructor(readonly tid: number, readonly name: string, private script: [number, number[]][], private m: ReturnType<typeof makeMachine>, private proc: import('../process/process.js').Process) {}
  run(_cpu: Cpu): RunOutcome {
    while (this.script.length > 0) {
      const [nr, args] = this.script[0]!;
      const r = this.m.sys.invoke(this.proc, this, nr, args);
      if (r === -ERESTARTSYS) return 'blocked';
      this.results.push(r);
      this.script.shift();
      return 'yield';
    }
    return 'exited';
  }
}

describe('plain invoke entry (register-based backends)', () => {
  it('shares the implementation, blocks with -ERESTARTSYS and completes on re-execution', () => {
    const m = makeMachine();
    const proc = m.sys.createProcess();
    const buf = proc.mm.mapRegion(0, 4096, 3, MAP_PRIVATE | MAP_ANONYMOUS, false);
    const va = typeof buf === 'number' ? 0 : buf.start;
    const th = new InvokeThread(1, 'inv', [
      [NR.getpid, []],
      [NR.eventfd2, [0, 0]],
      [NR.read, [0, va, 8]],
      [NR.read, [0, va, 4]],
      [9999, []],
    ], m, proc);
    proc.threads.push(th);
    m.cpu.addThread(th);
    m.sched.runUntil(2 * MS);
    expect(th.results).toEqual([proc.pid, 0]);
    expect(th.state).toBe('blocked');
    (eventfdCtxFdget(proc, 0) as EventfdCtx).signal(42);
    m.sched.runUntilIdle();
    expect(th.results).toEqual([proc.pid, 0, 8, -EINVAL, -ENOSYS]);
    expect(proc.mm.loadU(va, 4)).toBe(42);
    expect(-EAGAIN).toBeLessThan(0);
  });

  it('serves dup, dup2, dup3 and fcntl F_DUPFD by number, as the ARM ABI does (the fuzzer\'s raw calls): the new fd shares the open file', () => {
    const m = makeMachine();
    const proc = m.sys.createProcess();
    const e = m.sys.invoke(proc, null, NR.eventfd2, [0, 0]);
    expect(e).toBe(0);
    expect(m.sys.invoke(proc, null, NR.dup, [e])).toBe(1);
    expect(m.sys.invoke(proc, null, NR.dup2, [e, 5])).toBe(5);
    expect(m.sys.invoke(proc, null, NR.dup3, [e, 6, 0])).toBe(6);
    // F_DUPFD (0): the lowest free fd from 3
    expect(m.sys.invoke(proc, null, NR.fcntl64, [e, 0, 3])).toBe(3);
    for (const fd of [1, 3, 5, 6]) expect(proc.fdget(fd)).toBe(proc.fdget(e));
    expect(m.sys.invoke(proc, null, NR.dup, [40])).toBe(-EBADF);
  });
});
