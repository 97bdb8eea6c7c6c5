import { describe, expect, it } from 'vitest';
import { ERESTARTSYS } from '../vfs/file.js';
import type { ThreadTask } from './task.js';
import { sysPoll } from './wait.js';

/**
 * do_restart_poll's poll until the end time a signal's restart kept (read in 3.14.4 and 6.12.19
 * fs/select.c do_restart_poll; wait.ts sysPoll's `end`; the restart itself is
 * kernel-model/exec/signal-restart.ts, tools/unicorn/pollrestart.test.ts): the end is absolute, not
 * a timeout counted from now; a past end times out at once, null waits with no deadline.
 */
function task(canBlock = true): ThreadTask {
  const t = {
    proc: { rlimitNofile: 1024, fdget: () => null },
    mm: { copyFromUser: () => 0, copyToUser: () => 0 },
    restarting: false,
    deadline: null as number | null,
    canBlock,
    unqueue: () => {},
  };
  return t as unknown as ThreadTask;
}

describe('poll restarted through restart_block (do_restart_poll)', () => {
  it('waits until the kept end, not for a new timeout; a past end times out at once; null: no deadline', () => {
    const now = 5e9;
    const clock = (): number => now;
    // the end still ahead: the sleep's deadline is that end itself
    const a = task();
    expect(sysPoll(a, clock, 0x1000, 0, -1, 7e9)).toBe(-ERESTARTSYS);
    expect(a.deadline).toBe(7e9);
    // the same call woken at the end (the layer re-presents it): timed out, 0
    a.restarting = true;
    expect(sysPoll(a, () => 7e9, 0x1000, 0, -1, 7e9)).toBe(0);
    // an end already past: one round, 0 at once (the timeout argument is not used)
    const b = task();
    expect(sysPoll(b, clock, 0x1000, 0, 300, 4e9)).toBe(0);
    // has_timeout 0: a sleep with no deadline
    const c = task();
    expect(sysPoll(c, clock, 0x1000, 0, 0, null)).toBe(-ERESTARTSYS);
    expect(c.deadline).toBeNull();
    // plain poll as before: its timeout counted from now
    const d = task();
    expect(sysPoll(d, clock, 0x1000, 0, 300)).toBe(-ERESTARTSYS);
    expect(d.deadline).toBe(now + 300e6);
  });
});
