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
 * Then the time left each call writes into its timeout (kernel-model/syscall/select-time.ts:
 * 3.14.4 poll_select_copy_remaining, 6.12.19 poll_select_finish) and the one era difference,
 * 3.14's pselect6 writing it before it restores the mask (capability `pselectTimeLeft`).
 */
const lines = (s: string): string[] => s.split('\n').filter((l) => l.length > 0);
const none = 'handler 0 (mask in it: sig 0 hup 0; frame: sig 0 usr2 0 hup 0)';
const ran = 'handler 1 (mask in it: sig 1 hup 1; frame: sig 1 usr2 1 hup 0)';
const after = (pending: number): string => `after: blocked sig 1 usr2 1 hup 0, pending ${pending}`;

describe.skipIf(shouldSkipUnicornTests())('pselect6/ppoll wait with the mask they are given (pmask.c)', () => {
  for (const profile of ['rfc-v4', 'mainline']) {
    it(`EINTR for a signal the call's mask lets through, the caller's mask in the frame and after, a ready fd first, an ignored signal restarts, the checks' order, the time left written back (${profile})`, () => {
      const r = runElf({ elf: guestBinary('pmask'), bind: null, profile });
      const old = profile === 'rfc-v4';
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
        // the time left written back (select-time.ts): SIGALRM 1 s into 3 s leaves 2 s, select's timeval too
        `ppoll 3 s, SIGALRM at 1 s: -1 EINTR, ${ran}, ${after(0)}`,
        'ppoll 3 s, SIGALRM at 1 s: left 2000 ms',
        `pselect6 3 s, SIGALRM at 1 s: -1 EINTR, ${ran}, ${after(0)}`,
        'pselect6 3 s, SIGALRM at 1 s: left 2000 ms',
        'select 3 s, SIGALRM at 1 s: -1 EINTR, handler 1, left 2000 ms',
        // an expiry leaves zero, a ready fd all of it
        `ppoll 50 ms expires: 0 ok, ${none}, ${after(0)}`,
        'ppoll 50 ms expires: left 0 ms',
        `pselect6 5 s, ready fd: 1 ok, ${none}, ${after(0)}`,
        'pselect6 5 s, ready fd: left 5000 ms',
        // read-only timeouts: a zero one is never written (the ignored URG restarts the call); a
        // non-zero one fails the write, so no restart: EINTR. 3.14's pselect6 writes before it
        // decides on the mask: the caller's comes back at once, URG / USR1 stay pending, no
        // handler; its ppoll and v6.12's both deliver first (capability `pselectTimeLeft`)
        `ppoll read-only zero timeout, ignored URG: 0 ok, ${none}, ${after(0)}`,
        `ppoll read-only timeout, ignored URG: -1 EINTR, ${none}, ${after(0)}`,
        `pselect6 read-only timeout, ignored URG: -1 EINTR, ${none}, ${after(old ? 1 : 0)}`,
        `ppoll read-only timeout, USR1: -1 EINTR, ${ran}, ${after(0)}`,
        `pselect6 read-only timeout, USR1: -1 EINTR, ${old ? none : ran}, ${after(old ? 1 : 0)}`,
        // 3.14: the USR1 left pending runs its handler once unblocked
        `unblocked after: 0 ok, ${old ? 'handler 1 (mask in it: sig 1 hup 0; frame: sig 0 usr2 1 hup 0)' : none}, ${after(0)}`,
        // a thread asleep with a read-only timeout, woken by an ignored URG: EINTR, and with no
        // handler the caller's mask back (do_signal's restore_saved_sigmask)
        'thread ppoll read-only timeout, URG from another thread: -1 EINTR, after: blocked urg 1 usr2 1 hup 0',
      ]);
      expect(r.unknownSyscalls, profile).toEqual({});
    });
  }
});
