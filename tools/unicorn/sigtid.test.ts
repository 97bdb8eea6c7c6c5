import { describe, expect, it } from 'vitest';
import { guestBinary, shouldSkipUnicornTests } from '../../emulator/cpu/unicorn/testing/guest-build.js';
import { runElf } from './run.js';

/**
 * Signals addressed by thread id from C (guest-tests/c/sigtid.c; kernel-model/exec/kill.ts,
 * SignalState.postThread): tgkill/tkill to one thread (its handler, SI_TKILL, si_pid), held for
 * that thread while it blocks the signal, a sleeping thread woken alone; kill() of a non-leader
 * tid reaching the thread group; do_tkill's errors and their order; signal 0. Both eras answer
 * the same (kernel/signal.c does not differ here).
 */
const lines = (s: string): string[] => s.split('\n').filter((l) => l.length > 0);

describe.skipIf(shouldSkipUnicornTests())('signals by thread id (sigtid.c)', () => {
  for (const profile of ['rfc-v4', 'mainline']) {
    it(`tgkill, tkill and kill with thread ids (${profile})`, () => {
      const r = runElf({ elf: guestBinary('sigtid'), bind: null, profile });
      expect(lines(r.stdout), profile).toEqual([
        'tgkill A 0: count 1 in A 1 code -6 pid-ok 1 uid 0',
        'tkill A 0: count 2 in A 1 code -6 pid-ok 1',
        'tgkill tid 0 EINVAL, tid -1 EINVAL, tgid 0 EINVAL, tgid -1 EINVAL',
        // do_send_specific looks the task up first: a wrong tgid is ESRCH even with a bad signal
        'tgkill wrong tgid ESRCH, wrong tgid bad sig ESRCH, bad sig EINVAL, no such tid ESRCH',
        'tkill tid 0 EINVAL, tid -5 EINVAL, bad sig EINVAL, no such tid bad sig ESRCH',
        'sig 0: tgkill 0 tkill 0 kill 0, leader: tgkill 0; count unchanged 1',
        'joined A: tkill ESRCH tgkill ESRCH kill ESRCH',
        // kill_pid_info looks the target up before the signal is checked (before: EINVAL first)
        'kill no such pid bad sig ESRCH, bad sig EINVAL',
        // thread-directed: B's own pending set, the main thread does not take it
        'tgkill B (blocking) 0: taken 0',
        // kill_pid_info -> group_send_sig_info: the group's pending set, the main thread takes it (SI_USER)
        "kill B's tid 0: taken 1 in main 1 code 0 pid-ok 1",
        'B unblocked: taken 2 in B 1 code -6',
        // dequeue_signal: E's own SIGUSR2 before the group's lower SIGUSR1
        'E unblocks both: kill 0 tgkill 0, taken in order 21',
        // do_sigaction: SIG_IGN flushes the signal from every thread's pending set
        "F's pending SIGUSR1 after SIG_IGN 0: taken 0",
        'tgkill D in read 0: read -1 EINTR, handler in D 1',
        'child: tgkill SIGTERM to the blocking thread 0, survived',
        'child: signaled 1 sig 15',
        // a zombie's task stays hashed until release_task: kill and tgkill find it (0), its exit status is kept
        // (and find_task_by_vpid for prlimit64: the zombie's limits are still read)
        'zombie: kill 0 0, SIGKILL 0, tgkill 0 0, prlimit 0 nofile 1024; reaped: exited 1 status 7, kill 0 ESRCH, prlimit ESRCH',
      ]);
      expect(r.exitStatus, profile).toBe(0);
      expect(r.unknownSyscalls, profile).toEqual({});
    });
  }
});
