import { describe, expect, it } from 'vitest';
import { EINVAL } from '../base/errno.js';
import { POLLIN } from '../uapi/constants.js';
import { ERESTARTSYS } from '../vfs/file.js';
import type { ThreadTask } from './task.js';
import { nanosleepUntil, sysNanosleep, sysPoll, sysSelect } from './wait.js';

/**
 * signal_pending(current) in the waits of poll, select and nanosleep (wait.ts; read in 3.14.4 and
 * 6.12.19 fs/select.c do_poll / do_select / core_sys_select, kernel/(time/)hrtimer.c
 * do_nanosleep): a pending signal ends the call after the scan instead of sleeping, a zero
 * timeout included (-ERESTARTNOHAND: the caller turns poll's and nanosleep's into
 * -ERESTART_RESTARTBLOCK, kernel-model/exec/sleep-calls.ts); a ready fd is reported rather than
 * the signal; nanosleep's deadline is kept for the restart_block; a restarted sleep
 * (nanosleepUntil) ends at the kept absolute end.
 */
const ERESTARTNOHAND = 514;

/** a task whose fd 3 is ready for reading when `ready`, other fds closed; user memory: `mem` */
function task(signalPending: boolean, ready = false, mem: Uint8Array = new Uint8Array(64)): ThreadTask {
  const file = { ops: { poll: () => (ready ? POLLIN : 0) } };
  const t = {
    proc: { rlimitNofile: 1024, fdget: (fd: number) => (fd === 3 ? file : null) },
    mm: {
      copyFromUser: (b: Uint8Array, off: number, va: number, n: number) => { b.set(mem.subarray(va, va + n), off); return 0; },
      copyToUser: (va: number, b: Uint8Array, off: number, n: number) => { mem.set(b.subarray(off, off + n), va); return 0; },
    },
    restarting: false,
    deadline: null as number | null,
    timeLeft: null,
    canBlock: true,
    signalPending,
    unqueue: () => {},
  };
  return t as unknown as ThreadTask;
}

/** user memory with one pollfd {fd 3, POLLIN} at 0 */
function pollfds(): Uint8Array {
  const m = new Uint8Array(64);
  const dv = new DataView(m.buffer);
  dv.setInt32(0, 3, true);
  dv.setInt16(4, POLLIN, true);
  return m;
}

describe('a signal pending at a presentation of poll / select / nanosleep', () => {
  const now = 5e9;
  const clock = (): number => now;

  it('poll: -ERESTARTNOHAND instead of sleeping, a zero timeout too; a ready fd reported instead; none pending: sleeps as before', () => {
    const a = task(true, false, pollfds());
    expect(sysPoll(a, clock, 0, 1, 300)).toBe(-ERESTARTNOHAND);
    // the end sys_poll keeps in the restart_block
    expect(a.deadline).toBe(now + 300e6);
    expect(sysPoll(task(true, false, pollfds()), clock, 0, 1, 0)).toBe(-ERESTARTNOHAND);
    expect(sysPoll(task(true, false, pollfds()), clock, 0, 1, -1)).toBe(-ERESTARTNOHAND);
    const m = pollfds();
    expect(sysPoll(task(true, true, m), clock, 0, 1, 300)).toBe(1);
    expect(new DataView(m.buffer).getInt16(6, true)).toBe(POLLIN);
    expect(sysPoll(task(false, false, pollfds()), clock, 0, 1, 300)).toBe(-ERESTARTSYS);
    expect(sysPoll(task(false, false, pollfds()), clock, 0, 1, 0)).toBe(0);
    // do_restart_poll's poll until the kept end: the same check
    expect(sysPoll(task(true, false, pollfds()), clock, 0, 1, -1, 7e9)).toBe(-ERESTARTNOHAND);
  });

  it('select: core_sys_select\'s -ERESTARTNOHAND, a zero timeout too, the fd sets left; a ready fd reported instead', () => {
    // readfds at 8 with fd 3 set; a timeval {0, 0} at 16
    const m = new Uint8Array(64);
    m[8] = 1 << 3;
    expect(sysSelect(task(true, false, m), clock, 4, 8, 0, 0, 16)).toBe(-ERESTARTNOHAND);
    expect(m[8]).toBe(1 << 3);
    expect(sysSelect(task(true, false, m), clock, 4, 8, 0, 0, 0)).toBe(-ERESTARTNOHAND);
    expect(sysSelect(task(true, true, m), clock, 4, 8, 0, 0, 16)).toBe(1);
    expect(m[8]).toBe(1 << 3);
    m[8] = 1 << 3;
    expect(sysSelect(task(false, false, m), clock, 4, 8, 0, 0, 16)).toBe(0);
    expect(m[8]).toBe(0);
  });

  it('nanosleep: -ERESTARTNOHAND with the expiry kept, after the checks; no time asked: 0; restarted: until the kept end', () => {
    const m = new Uint8Array(64);
    const dv = new DataView(m.buffer);
    dv.setInt32(0, 0, true);
    dv.setInt32(4, 300e6, true);
    const a = task(true, false, m);
    expect(sysNanosleep(a, clock, 0, 0)).toBe(-ERESTARTNOHAND);
    expect(a.deadline).toBe(now + 300e6);
    expect(sysNanosleep(task(false, false, m), clock, 0, 0)).toBe(-ERESTARTSYS);
    dv.setInt32(4, 1e9, true);
    expect(sysNanosleep(task(true, false, m), clock, 0, 0)).toBe(-EINVAL);
    dv.setInt32(4, 0, true);
    expect(sysNanosleep(task(true, false, m), clock, 0, 0)).toBe(0);
    // hrtimer_nanosleep_restart: the absolute end, not a new time from now
    const b = task(false);
    expect(nanosleepUntil(b, clock, 7e9)).toBe(-ERESTARTSYS);
    expect(b.deadline).toBe(7e9);
    expect(nanosleepUntil(task(true), clock, 7e9)).toBe(-ERESTARTNOHAND);
    expect(nanosleepUntil(task(true), clock, 4e9)).toBe(0);
  });
});
