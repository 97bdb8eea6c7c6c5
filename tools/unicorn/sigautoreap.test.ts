import { describe, expect, it } from 'vitest';
import { guestBinary, shouldSkipUnicornTests } from '../../emulator/cpu/unicorn/testing/guest-build.js';
import { runElf } from './run.js';

/**
 * Autoreap from C (guest-tests/c/sigautoreap.c; kernel-model/exec/lifecycle.ts childEnded): a
 * parent whose SIGCHLD action is SIG_IGN or has SA_NOCLDWAIT leaves no zombie (kernel/signal.c
 * do_notify_parent's autoreap, kernel/exit.c exit_notify -> release_task), both eras alike: its
 * /proc/<pid> is gone and waitpid, asleep meanwhile, answers ECHILD. SIG_IGN sends no SIGCHLD,
 * SA_NOCLDWAIT with a handler does. A woken do_wait scans its children before it looks at the
 * pending SIGCHLD, so a handler without SA_RESTART does not turn the wait into EINTR.
 */
const lines = (s: string): string[] => s.split('\n').filter((l) => l.length > 0);

describe.skipIf(shouldSkipUnicornTests())('autoreap (sigautoreap.c)', () => {
  for (const profile of ['rfc-v4', 'mainline'] as const) {
    it(`SIG_IGN and SA_NOCLDWAIT reap at the exit: ECHILD, no /proc entry (${profile})`, () => {
      const r = runElf({ elf: guestBinary('sigautoreap'), bind: null, profile });
      expect(lines(r.stdout), profile).toEqual([
        'SIG_IGN: waitpid ECHILD, /proc ENOENT; waitpid(-1) ECHILD, /proc ENOENT; unwaited /proc ENOENT, WNOHANG ECHILD; SIGCHLD 0',
        'SA_NOCLDWAIT handler: waitpid ECHILD, /proc ENOENT; waitpid(-1) ECHILD, /proc ENOENT; unwaited /proc ENOENT, WNOHANG ECHILD; SIGCHLD 3',
        'SA_NOCLDWAIT default: waitpid ECHILD, /proc ENOENT; waitpid(-1) ECHILD, /proc ENOENT; unwaited /proc ENOENT, WNOHANG ECHILD; SIGCHLD 0',
        // the control: a zombie until waitpid reaps it
        'default: zombie /proc 0; waitpid pid status 3, /proc ENOENT',
        'handler: waitpid pid status 3, SIGCHLD 1',
      ]);
      expect(r.exitStatus, profile).toBe(0);
      expect(r.unknownSyscalls, profile).toEqual({});
    });
  }
});
