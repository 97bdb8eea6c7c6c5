import { describe, expect, it } from 'vitest';
import { guestBinary, shouldSkipUnicornTests } from '../../emulator/cpu/unicorn/testing/guest-build.js';
import { runElf } from './run.js';

/**
 * Signals to a zombie from C (guest-tests/c/sigzombie.c; kernel-model/exec/signal.ts send and
 * flushAll, kill.ts, lifecycle.ts releaseTask): kill, sigqueue and tgkill to an exited child not
 * yet reaped answer 0 in both eras; 3.14 queues the signal (prepare_signal's "nothing to do"),
 * v6.12 drops it once SIGNAL_GROUP_EXIT is set, which every process exit sets there, a child
 * whose only thread left by exit(2) included (do_exit's synchronize_group_exit; capability
 * `signalsAfterGroupExit`, `groupExitOnLastThread`, which also decides whose code wait reports
 * when every thread leaves by exit(2): 3.14 the leader's, v6.12 the last thread's). Queued entries,
 * and those pending at the exit, stay charged (SigQ) until the reap (release_task); kill()'s
 * SIGKILL has an entry in 3.14 only (capability `sigkillEntry`).
 */
const lines = (s: string): string[] => s.split('\n').filter((l) => l.length > 0);

describe.skipIf(shouldSkipUnicornTests())('signals to a zombie (sigzombie.c)', () => {
  for (const [profile, after] of [['rfc-v4', 'queued'], ['mainline', 'dropped']] as const) {
    it(`queued until the reap; after a group exit ${after} (${profile})`, () => {
      const r = runElf({ elf: guestBinary('sigzombie'), bind: null, profile });
      const q = after === 'queued';
      expect(lines(r.stdout), profile).toEqual([
        'start: SigQ 0',
        // __exit_signal frees the pending entry at release_task, not at the exit
        'pending at exit: SigQ 1, the zombie\'s SigQ 1; reaped status 0, SigQ 0',
        // sigqueue's entry, kill's SIGUSR1 (SI_USER: an entry), tgkill's on the leader's own list
        `exit_group zombie: sigqueue 0 kill 0 tgkill 0 probe 0, SigQ ${q ? 3 : 0} (zombie's ${q ? 3 : 0}); reaped 3, SigQ 0, kill ESRCH`,
        // exit(2) of the only thread: 3.14 never sets SIGNAL_GROUP_EXIT (queued); v6.12's
        // synchronize_group_exit sets it at the exit (dropped)
        `exit(2) zombie: sigqueue 0 kill 0, SigQ ${q ? 2 : 0}; reaped 4, SigQ 0`,
        // the SIGTERM's entry stays on shared_pending (complete_signal sends SIGKILL to the threads)
        `killed zombie: kill 0, SigQ 1, sigqueue 0, SigQ ${q ? 2 : 1}; reaped signal 15, SigQ 0`,
        // 3.14's __send_signal queues kill()'s SIGKILL (capability `sigkillEntry`), v6.12 does not
        `SIGKILLed zombie: kill 0, SigQ ${q ? 1 : 0} (zombie's ${q ? 1 : 0}); reaped signal 9, SigQ 0`,
        // tgkill's SIGKILL on the leader's own list after the group exit: 3.14 queues it, v6.12 drops it
        `tgkill SIGKILL to an exit_group zombie: 0, SigQ ${q ? 1 : 0} (zombie's ${q ? 1 : 0}); reaped 6, SigQ 0`,
        // every thread by exit(2), the leader (5) first: 3.14 no flag, the leader's exit_code; v6.12's
        // synchronize_group_exit sets it with the last thread's code (capability `groupExitOnLastThread`)
        `leader's exit(2) then the last thread's: sigqueue 0, SigQ ${q ? 1 : 0}; reaped ${q ? 5 : 7}, SigQ 0`,
      ]);
      expect(r.exitStatus, profile).toBe(0);
      expect(r.unknownSyscalls, profile).toEqual({});
    });
  }
});
