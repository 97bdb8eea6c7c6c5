import { describe, expect, it } from 'vitest';
import { guestBinary, shouldSkipUnicornTests } from '../../emulator/cpu/unicorn/testing/guest-build.js';
import { runElf } from './run.js';

/**
 * Real-time signals and the signal queue from C (guest-tests/c/sigrt.c; kernel-model/exec/
 * sigqueue.ts, signal.ts send/complete/dequeue, signal-wait.ts, kill.ts): one entry per send
 * with its siginfo, delivery order, sigwaitinfo/sigtimedwait, RLIMIT_SIGPENDING and SigQ, the
 * si_code rule of rt_sigqueueinfo/rt_tgsigqueueinfo, complete_signal's choice of thread, tgkill
 * to an exited leader. The eras answer the same but for the siginfo's copy (capability
 * `siginfoFromUser`): 3.14 copies all 128 bytes, v6.12 the first 32 and the rest only for an
 * si_code it does not know, which must then be zero (-E2BIG).
 */
const lines = (s: string): string[] => s.split('\n').filter((l) => l.length > 0);

describe.skipIf(shouldSkipUnicornTests())('real-time signals and the signal queue (sigrt.c)', () => {
  for (const profile of ['rfc-v4', 'mainline']) {
    it(`sigqueue, sigtimedwait, RLIMIT_SIGPENDING, complete_signal (${profile})`, () => {
      const whole = profile === 'rfc-v4';
      const r = runElf({ elf: guestBinary('sigrt'), bind: null, profile });
      expect(lines(r.stdout), profile).toEqual([
        'SIGRTMIN 34 SIGRTMAX 64',
        // four real-time entries and one SIGUSR1 (the second kill merged: legacy_queue)
        'queued: SigQ 5/4294967295 pending usr1 1 rt1 1 rt2 1 rt3 0',
        // sig/si_code/si_value/si_pid: the standard signal first, then the lowest real-time one, each entry in send order
        'delivered: 10/0/0/me 35/-1/2/me 35/-1/4/me 36/-1/1/me 36/-1/3/me',
        'after: SigQ 0/4294967295',
        'sigwaitinfo 37 code -1 value 77 pid-ok 1 uid 0',
        'kill rt: sigtimedwait 37 code 0 pid-ok 1',
        'empty, zero timeout: EAGAIN',
        'empty, 10ms: EAGAIN waited>=10ms 1',
        "woken by a thread's sigqueue: 37 value 99 before the timeout 1",
        'another signal: sigtimedwait EINTR, handler 1',
        'sigsetsize 4: EINVAL',
        'tv_nsec 1e9: EINVAL',
        'limit 2: sigqueue 0 0 SigQ 2/2',
        // __send_signal: over the limit a real-time signal is -EAGAIN unless SI_USER (kill: the bit alone);
        // a standard one is queued past it when si_code >= 0 (kill), else pending without its siginfo
        'over: sigqueue EAGAIN tgkill EAGAIN kill 0, standard: kill 0 sigqueue 0, SigQ 3/2',
        // collect_signal: a bit without an entry gives a zeroed siginfo (si_code 0, si_pid 0)
        'drained: 10/0/0/me 12/0/0/0 38/-1/1/me 38/-1/2/me 39/0/0/0 EAGAIN, SigQ 0/2',
        // do_rt_sigqueueinfo: si_code >= 0 or SI_TKILL only to the caller's own task id
        'rt_sigqueueinfo: self SI_USER 0 SI_TKILL 0, child SI_USER EPERM SI_TKILL EPERM SI_QUEUE 0 code 1 EPERM, pid -1 ESRCH, sig 65 EINVAL, fault EFAULT',
        // task_pid_vnr(current): a non-leader thread's tid is not the pid
        'from a non-leader thread to its own pid, SI_USER: EPERM',
        'rt_tgsigqueueinfo: self 0, child SI_USER EPERM SI_QUEUE 0, tgid 0 EINVAL, fault before EINVAL EFAULT, wrong tgid ESRCH',
        // 3.14 copy_from_user of the 128 bytes; v6.12 __copy_siginfo_from_user: 32, the other 96 only
        // for an unknown si_code, which must be zero (post_copy_siginfo_from_user)
        whole
          ? 'siginfo tail: known+tail 0, unknown+zero 0, unknown+tail 0; 32 bytes before a hole: known EFAULT, unknown EFAULT'
          : 'siginfo tail: known+tail 0, unknown+zero 0, unknown+tail E2BIG; 32 bytes before a hole: known 0, unknown EFAULT',
        'rt_tgsigqueueinfo delivered: 35/-1/1234/me',
        // complete_signal: the main thread if it wants the signal, else the first thread from curr_target
        // that does (the sleeping C, created before the sender B): not the sender at its syscall return
        "main blocks: handler in C 1 (in B 0), C's read -1 EINTR",
        "main wants it: handler in main 1, main's read EINTR",
        // the leader's own pending SIGUSR2 stays queued after its exit (flushed at release_task); do_send_specific
        // finds the zombie leader: 0, queued on its own list (SigQ), taken by nobody, SIGKILL included
        'zombie leader: SigQ 1/4294967295, tgkill SIGUSR1 0 taken 0, SigQ 2/4294967295, tgkill SIGKILL 0 survived, kill 0 taken 1',
        'leader child: exited 1 status 3',
        // dup_task_struct: a CLONE_THREAD thread starts with its creator's blocked mask
        "raw clone thread: ok, the creator's SIGUSR2 block kept 1",
        'end: SigQ 0/4294967295',
      ]);
      expect(r.exitStatus, profile).toBe(0);
      expect(r.unknownSyscalls, profile).toEqual({});
    });
  }
});
