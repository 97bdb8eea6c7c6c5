import { describe, expect, it } from 'vitest';
import { guestBinary, shouldSkipUnicornTests } from '../../emulator/cpu/unicorn/testing/guest-build.js';
import { runElf } from './run.js';

/**
 * pselect6 and ppoll with a signal mask from C (guest-tests/c/pmask.c; kernel-model/exec/
 * signal-usermask.ts, fs-calls.ts withSigmask): both eras alike (3.14.4 fs/select.c, 6.12.19
 * set_user_sigmask / poll_select_finish). The program blocks USR1, USR2, ALRM and URG; the
 * calls' mask blocks USR2 and HUP. Each line: the call's result, the handler's runs, the mask
 * inside the handler (the signal and HUP: the call's mask), the frame's saved mask (the
 * caller's: USR1/ALRM and USR2, not HUP), then the mask after the call and the signal pending.
 */
const lines = (s: string): string[] => s.split('\n').filter((l) => l.length > 0);
const none = 'handler 0 (mask in it: sig 0 hup 0; frame: sig 0 usr2 0 hup 0)';
const ran = 'handler 1 (mask in it: sig 1 hup 1; frame: sig 1 usr2 1 hup 0)';
const after = (pending: number): string => `after: blocked sig 1 usr2 1 hup 0, pending ${pending}`;

describe.skipIf(shouldSkipUnicornTests())('pselect6/ppoll wait with the mask they are given (pmask.c)', () => {
  for (const profile of ['rfc-v4', 'mainline']) {
    it(`EINTR for a signal the call's mask lets through, the caller's mask in the frame and after, a ready fd first, an ignored signal restarts, the checks' order (${profile})`, () => {
      const r = runElf({ elf: guestBinary('pmask'), bind: null, profile });
      expect(r.exitStatus, profile).toBe(0);
      expect(lines(r.stdout), profile).toEqual([
        // pending before the call (glibc's wrappers, the raw calls, a zero timeout): at once
        `ppoll pending: -1 EINTR, ${ran}, ${after(0)}`,
        `pselect pending: -1 EINTR, ${ran}, ${after(0)}`,
        `ppoll pending, zero timeout: -1 EINTR, ${ran}, ${after(0)}`,
        `pselect6 raw pending: -1 EINTR, ${ran}, ${after(0)}`,
        // asleep without a timeout, SIGALRM (blocked by the caller) wakes it
        `ppoll asleep, SIGALRM: -1 EINTR, ${ran}, ${after(0)}`,
        `pselect asleep, SIGALRM: -1 EINTR, ${ran}, ${after(0)}`,
        // a ready fd: the count, the caller's mask back at once, the signal still pending
        `ppoll ready fd: 1 ok, ${none}, ${after(1)}`,
        `pselect ready fd: 1 ok, ${none}, ${after(1)}`,
        `ppoll no mask: 0 ok, ${none}, ${after(1)}`,
        `ppoll caller's mask: 0 ok, ${none}, ${after(1)}`,
        'unblocked: 0 ok, handler 1 (mask in it: sig 1 hup 0; frame: sig 0 usr2 1 hup 0), after: blocked sig 1 usr2 1 hup 0, pending 0',
        `ppoll both block USR2: 0 ok, ${none}, ${after(1)}`,
        // SIGURG's default action ignores it: dequeued, no handler, the call restarts and times out
        `ppoll ignored URG: 0 ok, ${none}, ${after(0)}`,
        `ppoll size 4: -1 EINVAL, ${none}, ${after(0)}`,
        `ppoll size 16: -1 EINVAL, ${none}, ${after(0)}`,
        `ppoll bad mask: -1 EFAULT, ${none}, ${after(0)}`,
        `ppoll bad timeout before size: -1 EFAULT, ${none}, ${after(0)}`,
        `ppoll invalid timeout before size: -1 EINVAL, ${none}, ${after(0)}`,
        `pselect6 size 4: -1 EINVAL, ${none}, ${after(0)}`,
        `pselect6 bad mask: -1 EFAULT, ${none}, ${after(0)}`,
        `pselect6 bad pack before timeout: -1 EFAULT, ${none}, ${after(0)}`,
        `pselect6 invalid timeout before size: -1 EINVAL, ${none}, ${after(0)}`,
        `pselect6 NULL mask size 3: 0 ok, ${none}, ${after(0)}`,
        `ppoll NULL mask size 3: 0 ok, ${none}, ${after(0)}`,
      ]);
      expect(r.unknownSyscalls, profile).toEqual({});
    });
  }
});
