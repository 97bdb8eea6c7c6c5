import { describe, expect, it } from 'vitest';
import { guestBinary, shouldSkipUnicornTests } from '../../emulator/cpu/unicorn/testing/guest-build.js';
import { runElf } from './run.js';

/**
 * Plain poll(2)'s restart through restart_block from C (guest-tests/c/pollrestart.c;
 * kernel-model/exec/signal-restart.ts; read in 3.14.4 and 6.12.19 fs/select.c sys_poll /
 * do_restart_poll, kernel/signal.c sys_restart_syscall, arch/arm/kernel/signal.c do_signal,
 * entry-common.S ret_fast_syscall), both eras alike: restart_syscall(2) with nothing to restart
 * is EINTR; an ignored signal restarts poll for the time left only (300 ms in all, not 400),
 * after which restart_syscall(2) polls until the same end (0 at once); a handler, even with
 * SA_RESTART, makes it EINTR, and its sigreturn leaves restart_syscall(2) EINTR.
 */
const lines = (s: string): string[] => s.split('\n').filter((l) => l.length > 0);

describe.skipIf(shouldSkipUnicornTests())('poll restarts for the time left through restart_block (pollrestart.c)', () => {
  for (const profile of ['rfc-v4', 'mainline']) {
    it(`restart_syscall EINTR, the time left after an ignored signal, EINTR after a handler (${profile})`, () => {
      const r = runElf({ elf: guestBinary('pollrestart'), bind: null, profile });
      expect(r.exitStatus, profile).toBe(0);
      expect(lines(r.stdout), profile).toEqual([
        'restart_syscall first: -1 EINTR',
        'poll 300 ms, signal at 100 ms: 0 ok, handler 0, waited 300 ms: as asked',
        'restart_syscall after it: 0 ok, waited none',
        'poll 300 ms, signal at 100 ms: -1 EINTR, handler 1, waited 100 ms: as asked',
        'restart_syscall after it: -1 EINTR, waited none',
      ]);
      expect(r.unknownSyscalls, profile).toEqual({});
    });
  }
});
