import { describe, expect, it } from 'vitest';
import type { Cpu } from '../../emulator/cpu/cpu.js';
import { BLOCK, type UnicornThread } from '../../emulator/cpu/unicorn/thread.js';
import { EFAULT, EINVAL, EOPNOTSUPP, EPERM } from '../base/errno.js';
import type { AddressSpace } from '../process/mm.js';
import { ARM_NR } from './arm-nr.js';
import { ERESTARTNOHAND } from './signal.js';
import { ERESTART_RESTARTBLOCK, RestartBlocks } from './signal-restart.js';
import { ClockSleeps, nsleepKind } from './time.js';

/**
 * nanosleep's restart_block (signal-restart.ts) and clock_nanosleep's sleeps (time.ts), read in
 * 3.14.4 kernel/hrtimer.c / kernel/posix-timers.c / kernel/posix-cpu-timers.c and 6.12.19
 * kernel/time/hrtimer.c / posix-timers.c / posix-cpu-timers.c / alarmtimer.c: a signal that ends
 * a relative sleep writes the time left to rmtp (the 32-bit or 64-bit timespec; a faulting write
 * -EFAULT, no block) and stores the absolute expiry (-ERESTART_RESTARTBLOCK); no time left is 0;
 * its restart keeps the block; an absolute sleep is -ERESTARTNOHAND with nothing written; the
 * clock checks come in the kernel's order.
 */
const RMTP = 0x100, RO = 0x200;

function memory(): { mm: AddressSpace; mem: Uint8Array } {
  const mem = new Uint8Array(0x400);
  const mm = {
    copyToUser: (va: number, b: Uint8Array, off: number, n: number) => { if (va >= RO) return n; mem.set(b.subarray(off, off + n), va); return 0; },
    copyFromUser: (b: Uint8Array, off: number, va: number, n: number) => { if (va >= RO) return n; b.set(mem.subarray(va, va + n), off); return 0; },
  } as unknown as AddressSpace;
  return { mm, mem };
}

/** a thread blocked in syscall `nr` with r0-r1 `args` */
function thread(nr: number, args: number[] = [0, 0], tid = 101): UnicornThread {
  return { blockedSyscall: nr, blockedArg: (i: number) => args[i] ?? 0, tid, nowNs: () => 5e9 } as unknown as UnicornThread;
}

describe('nanosleep\'s restart_block (hrtimer_nanosleep, hrtimer_nanosleep_restart)', () => {
  it('the time left to rmtp, 32-bit and 64-bit; the expiry kept; a faulting rmtp -EFAULT and no block; no time left 0; no rmtp: nothing written', () => {
    const { mm, mem } = memory();
    const dv = new DataView(mem.buffer);
    const rb = new RestartBlocks();
    const t = thread(ARM_NR.nanosleep);
    expect(rb.nanosleepInterrupted(t, mm, 5e9, { expires: 6.25e9, rmtp: RMTP, time64: false })).toBe(-ERESTART_RESTARTBLOCK);
    expect([dv.getInt32(RMTP, true), dv.getInt32(RMTP + 4, true)]).toEqual([1, 250e6]);
    expect(rb.get(t)).toEqual({ fn: 'nanosleep', expires: 6.25e9, rmtp: RMTP, time64: false });
    // its restart, interrupted later: the same block, the time left written again
    expect(rb.nanosleepInterrupted(t, mm, 6e9, null)).toBe(-ERESTART_RESTARTBLOCK);
    expect([dv.getInt32(RMTP, true), dv.getInt32(RMTP + 4, true)]).toEqual([0, 250e6]);
    expect(rb.get(t)).toEqual({ fn: 'nanosleep', expires: 6.25e9, rmtp: RMTP, time64: false });
    // clock_nanosleep_time64: __kernel_timespec, s64 both
    const u = thread(ARM_NR.clock_nanosleep_time64);
    expect(rb.nanosleepInterrupted(u, mm, 5e9, { expires: 8.5e9, rmtp: RMTP, time64: true })).toBe(-ERESTART_RESTARTBLOCK);
    expect([dv.getBigInt64(RMTP, true), dv.getBigInt64(RMTP + 8, true)]).toEqual([3n, 500_000_000n]);
    // a read-only rmtp: -EFAULT, the block not stored (do_no_restart_syscall stays)
    const v = thread(ARM_NR.nanosleep);
    expect(rb.nanosleepInterrupted(v, mm, 5e9, { expires: 6e9, rmtp: RO, time64: false })).toBe(-EFAULT);
    expect(rb.get(v)).toBeUndefined();
    // the timer expired as the signal came: 0, nothing stored
    expect(rb.nanosleepInterrupted(v, mm, 6e9, { expires: 6e9, rmtp: RMTP, time64: false })).toBe(0);
    expect(rb.get(v)).toBeUndefined();
    // no rmtp: the block alone
    mem.fill(0);
    expect(rb.nanosleepInterrupted(v, mm, 5e9, { expires: 6e9, rmtp: 0, time64: false })).toBe(-ERESTART_RESTARTBLOCK);
    expect(mem.every((b) => b === 0)).toBe(true);
    expect(rb.get(v)?.fn).toBe('nanosleep');
    rb.clear(v);
    expect(rb.get(v)).toBeUndefined();
  });

  it('a layer sleep a signal ends: poll\'s block or nanosleep\'s by the call, restart_syscall\'s by its block', () => {
    const { mm, mem } = memory();
    const rb = new RestartBlocks();
    const p = thread(ARM_NR.poll, [0x40, 2]);
    expect(rb.kind(p)).toBe('poll');
    expect(rb.signalled(p, mm, 5e9, 7e9)).toBe(-ERESTART_RESTARTBLOCK);
    expect(rb.get(p)).toEqual({ fn: 'poll', ufds: 0x40, nfds: 2, end: 7e9 });
    const n = thread(ARM_NR.nanosleep, [0x80, RMTP]);
    expect(rb.kind(n)).toBe('nanosleep');
    expect(rb.signalled(n, mm, 5e9, 5.5e9)).toBe(-ERESTART_RESTARTBLOCK);
    expect(new DataView(mem.buffer).getInt32(RMTP + 4, true)).toBe(500e6);
    expect(rb.get(n)).toEqual({ fn: 'nanosleep', expires: 5.5e9, rmtp: RMTP, time64: false });
    // the same thread later in restart_syscall(2) of its own: the block's restart, its fields kept
    (n as { blockedSyscall: number }).blockedSyscall = ARM_NR.restart_syscall;
    expect(rb.kind(n)).toBe('nanosleep');
    expect(rb.signalled(n, mm, 5.25e9, null)).toBe(-ERESTART_RESTARTBLOCK);
    expect(new DataView(mem.buffer).getInt32(RMTP + 4, true)).toBe(250e6);
    expect(rb.get(n)).toEqual({ fn: 'nanosleep', expires: 5.5e9, rmtp: RMTP, time64: false });
    // the svc of poll re-executed as restart_syscall (do_signal without a handler): poll's block kept
    rb.enter(p);
    expect(rb.entry(p, ARM_NR.poll)).toBe(ARM_NR.restart_syscall);
    expect(rb.signalled(p, mm, 6e9, 9e9)).toBe(-ERESTART_RESTARTBLOCK);
    expect(rb.get(p)).toEqual({ fn: 'poll', ufds: 0x40, nfds: 2, end: 7e9 });
    // the call ended there: its next svc is its own again
    expect(rb.entry(p, ARM_NR.poll)).toBe(ARM_NR.poll);
    // restart_syscall with no block, any other call: none
    expect(rb.kind(thread(ARM_NR.restart_syscall))).toBeNull();
    expect(rb.kind(thread(ARM_NR.read))).toBeNull();
  });
});

describe('clock_nanosleep (time.ts ClockSleeps)', () => {
  function sleeps(opts: { pending?: boolean; reset?: boolean; caps?: bigint } = {}) {
    const { mm, mem } = memory();
    const restart = new RestartBlocks();
    let blocked: number | null = null;
    const cpu = { scheduler: { now: 5e9 }, block: (_t: UnicornThread, d: number) => { blocked = d; } } as unknown as Cpu;
    const p = {
      proc: { capEffective: opts.caps ?? 0n },
      signals: { sigpending: () => opts.pending ?? false, restart },
      nanosleepRestartReset: opts.reset ?? false,
      clockOffset: (id: number) => (id === 10 || id === 3 ? null : id === 0 ? 1e18 : 0),
    };
    const s = new ClockSleeps(mm, cpu, p);
    const dv = new DataView(mem.buffer);
    // a request of 300 ms at 0x10 (32-bit) and 0x20 (64-bit)
    dv.setInt32(0x14, 300e6, true);
    dv.setInt32(0x28, 300e6, true);
    return { s, restart, mem, dv, cpu, blocked: () => blocked };
  }
  const a = (id: number, flags: number, req: number, rmtp: number) => new Uint32Array([id >>> 0, flags, req, rmtp]);

  it('the clocks: no k_clock -EINVAL, no nsleep -EOPNOTSUPP, both before the request is read; the own thread CPU clock -EINVAL; alarm without CAP_WAKE_ALARM -EPERM', () => {
    expect(nsleepKind(4)).toBe('none');
    expect(nsleepKind(3)).toBe('none');
    expect(nsleepKind(2)).toBe('cpu');
    expect(nsleepKind(11)).toBe('hrtimer');
    expect(nsleepKind(12)).toBe('invalid');
    // a dynamic (fd) clock, ((~fd) << 3) | CLOCKFD: fd 0 is -5; a process CPU clock of pid 1: (~1 << 3) | 2
    expect(nsleepKind(-5)).toBe('none');
    expect(nsleepKind(~1 * 8 + 2)).toBe('cpu');
    const { s } = sleeps();
    const t = thread(-1);
    // an unreadable request is -EFAULT; the clock is checked first
    expect(s.sysClockNanosleep(t, false, a(1, 0, RO, 0))).toBe(-EFAULT);
    expect(s.sysClockNanosleep(t, false, a(10, 0, RO, 0))).toBe(-EINVAL);
    expect(s.sysClockNanosleep(t, false, a(5, 0, RO, 0))).toBe(-EOPNOTSUPP);
    expect(s.sysClockNanosleep(t, false, a(-2, 0, 0x10, 0))).toBe(-EINVAL);
    expect(s.sysClockNanosleep(t, false, a(~101 * 8 + 6, 0, 0x10, 0))).toBe(-EINVAL);
    expect(s.sysClockNanosleep(t, false, a(8, 0, 0x10, 0))).toBe(-EPERM);
    expect(sleeps({ caps: 1n << 35n }).s.sysClockNanosleep(t, false, a(8, 0, 0x10, 0))).toBe(BLOCK);
  });

  it('a signal ends a relative sleep with the time left and the block; an absolute one -ERESTARTNOHAND, nothing written', () => {
    const x = sleeps();
    const t = thread(ARM_NR.clock_nanosleep);
    expect(x.s.sysClockNanosleep(t, true, a(1, 0, 0x20, RMTP))).toBe(BLOCK);
    expect(x.blocked()).toBe(5.3e9);
    (x.cpu.scheduler as { now: number }).now = 5.1e9;
    expect(x.s.signalled(t, x.restart)).toBe(-ERESTART_RESTARTBLOCK);
    expect(x.dv.getBigInt64(RMTP + 8, true)).toBe(200_000_000n);
    expect(x.restart.get(t)).toEqual({ fn: 'nanosleep', expires: 5.3e9, rmtp: RMTP, time64: true });
    expect(x.s.has(t)).toBe(false);
    expect(x.s.signalled(t, x.restart)).toBeNull();
    // TIMER_ABSTIME on CLOCK_REALTIME (offset 1e18): until 1e18 + 5.3e9 less the offset
    const y = sleeps();
    y.dv.setInt32(0x10, 1e9, true);
    const u = thread(ARM_NR.clock_nanosleep);
    y.mem.fill(7, RMTP, RMTP + 8);
    const abs = new Uint32Array([0, 1, 0x10, RMTP]);
    // request 1 s + 300 ms as an absolute time of a clock whose offset is 1e18: already past
    expect(y.s.sysClockNanosleep(u, false, abs)).toBe(0);
    const z = sleeps();
    expect(z.s.sysClockNanosleep(u, false, a(1, 1, 0x10, RMTP))).toBe(0);
    z.dv.setInt32(0x10, 6, true);
    expect(z.s.sysClockNanosleep(u, false, a(1, 1, 0x10, RMTP))).toBe(BLOCK);
    z.mem.fill(7, RMTP, RMTP + 8);
    expect(z.s.signalled(u, z.restart)).toBe(-ERESTARTNOHAND);
    expect([...z.mem.subarray(RMTP, RMTP + 8)]).toEqual([7, 7, 7, 7, 7, 7, 7, 7]);
    expect(z.restart.get(u)).toBeUndefined();
  });

  it('a signal already pending: no sleep, the same ends; v6.12 resets the block once the request is valid, 3.14 does not', () => {
    const x = sleeps({ pending: true });
    const t = thread(ARM_NR.clock_nanosleep);
    expect(x.s.sysClockNanosleep(t, false, a(1, 0, 0x10, RMTP))).toBe(-ERESTART_RESTARTBLOCK);
    expect(x.blocked()).toBeNull();
    expect(x.dv.getInt32(RMTP + 4, true)).toBe(300e6);
    expect(x.s.sysClockNanosleep(t, false, a(1, 1, 0x10, RMTP))).toBe(0);
    x.dv.setInt32(0x10, 6, true);
    expect(x.s.sysClockNanosleep(t, false, a(1, 1, 0x10, RMTP))).toBe(-ERESTARTNOHAND);
    // the block left by the first call: 3.14 keeps it, v6.12 resets it (not on an invalid request)
    const old = sleeps({ reset: false });
    old.restart.setPoll(t, 1, 1, null);
    old.s.sysClockNanosleep(t, false, a(1, 0, 0x10, 0));
    expect(old.restart.get(t)?.fn).toBe('poll');
    const v612 = sleeps({ reset: true });
    v612.restart.setPoll(t, 1, 1, null);
    v612.dv.setInt32(0x14, 1e9, true);
    expect(v612.s.sysClockNanosleep(t, false, a(1, 0, 0x10, 0))).toBe(-EINVAL);
    expect(v612.restart.get(t)?.fn).toBe('poll');
    v612.dv.setInt32(0x14, 300e6, true);
    v612.s.sysClockNanosleep(t, false, a(1, 0, 0x10, 0));
    expect(v612.restart.get(t)).toBeUndefined();
  });
});
