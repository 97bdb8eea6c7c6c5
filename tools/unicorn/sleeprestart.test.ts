import { describe, expect, it } from 'vitest';
import { guestBinary, shouldSkipUnicornTests } from '../../emulator/cpu/unicorn/testing/guest-build.js';
import { runElf } from './run.js';

/**
 * nanosleep(2) / clock_nanosleep(2) restart through restart_block from C (guest-tests/c/
 * sleeprestart.c; kernel-model/exec/signal-restart.ts, time.ts, sleep-calls.ts; read in 3.14.4
 * kernel/hrtimer.c and kernel/posix-timers.c, 6.12.19 kernel/time/hrtimer.c and
 * kernel/time/posix-timers.c, both eras' kernel/signal.c sys_restart_syscall and
 * arch/arm/kernel/signal.c do_signal): an ignored signal restarts a relative sleep for the time
 * left only (300 ms in all, not 400) with the time left written to rem at the interruption; a
 * handler, even with SA_RESTART, makes it EINTR with the time left in rem, and its sigreturn
 * leaves restart_syscall(2) EINTR; a read-only rem is EFAULT; an absolute sleep restarts as
 * itself to the same end, EINTR with a handler. The eras differ in restart_syscall(2) after a
 * plain nanosleep (v6.12 resets the block: capability `nanosleepRestartReset`). poll and select
 * (glibc's pselect6) presented again after a wake-up, with no fd ready and a signal pending, do not
 * sleep again (fs/select.c do_poll / do_select): EINTR at once with a handler.
 */
const lines = (s: string): string[] => s.split('\n').filter((l) => l.length > 0);

const expected = (profile: string): string[] => [
  'restart_syscall first: -1 EINTR',
  'nanosleep(2) 300 ms, signal at 100 ms: 0 ok, handler 0, waited 300 ms: as asked, rem about 200 ms',
  'restart_syscall after it: 0 ok, waited none',
  'nanosleep(2) 300 ms, signal at 100 ms: -1 EINTR, handler 1, waited 100 ms: as asked, rem about 200 ms',
  'restart_syscall after it: -1 EINTR, waited none',
  'nanosleep(2) 300 ms, read-only rem, signal at 100 ms: -1 EFAULT, handler 1, waited 100 ms: as asked, rem untouched',
  'restart_syscall after it: -1 EINTR, waited none',
  'libc nanosleep 300 ms, signal at 100 ms: 0 ok, handler 0, waited 300 ms: as asked, rem -',
  'restart_syscall after it: 0 ok, waited none',
  'libc nanosleep 300 ms, signal at 100 ms: -1 EINTR, handler 1, waited 100 ms: as asked, rem about 200 ms',
  'restart_syscall after it: -1 EINTR, waited none',
  'clock_nanosleep TIMER_ABSTIME +300 ms, signal at 100 ms: 0, handler 0, waited 300 ms: as asked',
  'clock_nanosleep TIMER_ABSTIME +300 ms, signal at 100 ms: EINTR, handler 1, waited 100 ms: as asked',
  'nanosleep(2) 300 ms, signal at 100 ms: 0 ok, handler 0, waited 300 ms: as asked, rem about 200 ms',
  // 3.14: the nanosleep block stays (its expiry past: 0 at once); v6.12's nanosleep reset it
  `restart_syscall after it and a 10 ms nanosleep: ${profile === 'mainline' ? '-1 EINTR' : '0 ok'}, waited none`,
  // presented again after a wake-up with no fd ready and the signal pending: no sleep
  'poll 300 ms, woken by a write drained at once, signal then: -1 EINTR, handler 1, waited 100 ms: as asked',
  'restart_syscall after it: -1 EINTR, waited none',
  'poll 300 ms, woken by a write drained at once, signal then: 0 ok, handler 0, waited 300 ms: as asked',
  'restart_syscall after it: 0 ok, waited none',
  'select 300 ms, woken by a write drained at once, signal then: -1 EINTR, handler 1, waited 100 ms: as asked',
  'select 300 ms, woken by a write drained at once, signal then: 0 ok, handler 0, waited 300 ms: as asked',
  'clock_nanosleep(MONOTONIC_RAW, 1 ms): -1 EOPNOTSUPP',
  'clock_nanosleep(THREAD_CPUTIME_ID, 1 ms): -1 EOPNOTSUPP',
  'clock_nanosleep(PROCESS_CPUTIME_ID, 1 ms): 0 ok',
  'clock_nanosleep(BOOTTIME, 1 ms): 0 ok',
  'clock_nanosleep(10, 1 ms): -1 EINVAL',
  'clock_nanosleep(own thread CPU clock, 1 ms): -1 EINVAL',
];

describe.skipIf(shouldSkipUnicornTests())('nanosleep / clock_nanosleep restart through restart_block (sleeprestart.c)', () => {
  for (const profile of ['rfc-v4', 'mainline']) {
    it(`the time left after an ignored signal, EINTR and rem after a handler, EFAULT, TIMER_ABSTIME, the clocks (${profile})`, () => {
      const r = runElf({ elf: guestBinary('sleeprestart'), bind: null, profile });
      expect(r.exitStatus, profile).toBe(0);
      expect(lines(r.stdout), profile).toEqual(expected(profile));
      expect(r.unknownSyscalls, profile).toEqual({});
    });
  }
});
