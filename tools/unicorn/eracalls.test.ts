import { describe, expect, it } from 'vitest';
import { guestBinary, shouldSkipUnicornTests } from '../../emulator/cpu/unicorn/testing/guest-build.js';
import { runElf } from './run.js';

/**
 * The era table and the scheduler calls from C (guest-tests/c/eracalls.c;
 * kernel-model/exec/syscall-era.ts, sched-calls.ts, rseq.ts, clone3.ts): in 3.14 (rfc-v4)
 * every number the table lacks answers ENOSYS and glibc falls back (clock_gettime64 -> 263,
 * rseq registration failed: __rseq_size 0, cpu_id -2, sched_getcpu through getcpu); in v6.12
 * (mainline) each call's answer, pselect6_time64's and ppoll_time64's timeouts, faccessat2's
 * flags (access's mode check and override creds in both eras), clone's copy_process flag checks, glibc's rseq registration (__rseq_size 32, cpu_id 0), rseq's
 * and membarrier's rules, clone3's checks, a fork-like clone3 child and a thread made by clone3.
 * Neither era counts any number as unknown.
 */
const lines = (s: string): string[] => s.split('\n').filter((l) => l.length > 0);

/** the lines both eras print alike */
const AFFINITY = [
  'sched_getaffinity(0, 128): 4, bytes 01 00 00 00, next ee',
  'sched_getaffinity len 0: EINVAL, len 6: EINVAL, len 2^29: EINVAL',
  'sched_getaffinity len 4: 4, own pid: 4, pid 99999: ESRCH, pid -1: ESRCH, bad pointer: EFAULT',
  'glibc sched_getaffinity: 0, CPU_COUNT 1, CPU 0 1',
  'getcpu: 0 cpu 0 node 0, NULLs: 0, bad pointer: EFAULT',
];

describe.skipIf(shouldSkipUnicornTests())('syscalls by era, sched_getaffinity, rseq, membarrier, clone3 (eracalls.c)', () => {
  it('3.14 (rfc-v4): every call the table lacks ENOSYS, glibc falls back', () => {
    const r = runElf({ elf: guestBinary('eracalls'), bind: null, profile: 'rfc-v4' });
    expect(r.exitStatus).toBe(0);
    expect(r.unknownSyscalls).toEqual({});
    const e = 'ENOSYS';
    expect(lines(r.stdout)).toEqual([
      ...['renameat2 382', 'getrandom 384', 'membarrier 389', 'statx 397', 'rseq 398 (NULL)', 'clock_gettime64 403', 'clock_nanosleep_time64 407',
        'pselect6_time64 413', 'ppoll_time64 414', 'rt_sigtimedwait_time64 421', 'futex_time64 422', 'clone3 435 (size 0)', 'faccessat2 439', 'fchmodat2 452'].map((n) => `${n}: ${e}`),
      `pselect6_time64: readable ${e}, p 1 q 1, empty 1 ms ${e}, nsec 1e9 ${e}, sec -1 ${e}, padding ${e}, bad pointer ${e}`,
      `ppoll_time64: readable ${e} revents 0, empty 1 ms ${e} revents 0, nsec 1e9 ${e}, sec -1 ${e}, padding ${e}, bad pointer ${e}`,
      // sys_faccessat: mode & ~S_IRWXO -EINVAL; override creds: root checks its permitted set
      'access mode 8: EINVAL, faccessat mode 8: EINVAL',
      `faccessat2: flag 0x8000 ${e}, mode 8 ${e}, dangling link ${e}, NOFOLLOW ${e}, "" ${e}, EMPTY_PATH dir ${e} pipe ${e} fd 99 ${e}`,
      `mode 000 without DAC caps (capset 0): access 0, faccessat2 ${e}, AT_EACCESS ${e}, open EACCES; caps back: AT_EACCESS ${e}`,
      // copy_process (3.14.4): the namespace check keys on CLONE_SIGHAND; CLONE_PIDFD and CLONE_DETACHED are unknown bits, ignored
      'clone: THREAD without SIGHAND EINVAL, SIGHAND without VM EINVAL, NEWNS|FS EINVAL, NEWUSER|FS EINVAL',
      'clone: SIGHAND|NEWPID EINVAL, THREAD|NEWPID EINVAL, PIDFD|DETACHED child 3, PIDFD|PARENT_SETTID child 3, SIGCHLD child 3',
      ...AFFINITY,
      // glibc 2.36: registration failed, RSEQ_CPU_ID_REGISTRATION_FAILED; sched_getcpu asks getcpu (345)
      '__rseq_size 0, cpu_id -2, cpu_id_start 0, sched_getcpu 0',
      `rseq same: ${e}, other area: ${e}, other sig: ${e}, flags 2: ${e}`,
      `unregister: other area ${e}, len 64 ${e}, sig ${e}, flags 3 ${e}`,
      `unregister: ${e}, cpu_id -2, cpu_id_start 0`,
      `unregister again: ${e}, sched_getcpu 0`,
      `register: misaligned ${e}, len 16 ${e}, kernel address ${e}`,
      `register mine: ${e}, cpu_id_start 5555 cpu_id 5555 node_id 5555 mm_cid 5555`,
      `fork child: rseq mine ${e}`,
      `glibc's while mine is registered: ${e}; unregister mine: ${e}; glibc's again: ${e}, cpu_id -2, mine's cpu_id 21845`,
      `pthread: cpu_id -2, sched_getcpu 0, rseq again: ${e}`,
      // nothing registered: the kernel never looks at rseq_cs
      'rseq critical section: no signal committed, a signal inside committed (handler ran 1), rseq_cs after 0',
      'rseq bad signature: exit 0',
      `membarrier: QUERY ${e}, GLOBAL ${e}, GLOBAL_EXPEDITED ${e}, bad cmd ${e}, flags ${e}`,
      `membarrier: PRIVATE_EXPEDITED unregistered ${e}, RSEQ with FLAG_CPU ${e}, RSEQ flags 2 ${e}`,
      `membarrier: REGISTER_PRIVATE_EXPEDITED ${e} twice ${e}, PRIVATE_EXPEDITED ${e}, REGISTER_RSEQ ${e}, RSEQ with FLAG_CPU ${e}, GET_REGISTRATIONS ${e}`,
      `fork child: GET_REGISTRATIONS ${e}, PRIVATE_EXPEDITED ${e}`,
      `clone3: size 4097 ${e}, size 63 ${e}, NULL ${e}, nonzero tail ${e}`,
      `clone3: exit_signal 65 ${e}, CSIGNAL in flags ${e}, thread with exit_signal ${e}, stack without size ${e}, size without stack ${e}, SIGHAND|CLEAR_SIGHAND ${e}, unknown flag ${e}`,
      // waitpid of -1: ECHILD, so "waitpid ok" compares -1 with -1
      `clone3 fork: ${e}, parent_tid ok 0, waitpid ok 1, status 0`,
      `clone3 fork: ${e}, parent_tid ok 0, waitpid ok 1, status 0`,
      `clone3 thread: ${e}, ran with its own tid 0, on the given stack's top half 0`,
      'pthread_create: 0, joined 42',
    ]);
    // glibc's fallbacks: clock_gettime64 then clock_gettime, getcpu for sched_getcpu
    expect(r.syscallsByNr['263']).toBe(1);
    expect(r.syscallsByNr['345']).toBe(6);
  });

  it('v6.12 (mainline): each call answered, rseq registered by glibc, membarrier, clone3', () => {
    const r = runElf({ elf: guestBinary('eracalls'), bind: null, profile: 'mainline' });
    expect(r.exitStatus).toBe(0);
    expect(r.unknownSyscalls).toEqual({});
    expect(lines(r.stdout)).toEqual([
      'renameat2 382: ENOENT',
      'getrandom 384: 0',
      // MEMBARRIER_CMD_BITMASK with SYNC_CORE (ARM) and RSEQ
      'membarrier 389: 1023',
      'statx 397: 0',
      'rseq 398 (NULL): EINVAL',
      'clock_gettime64 403: 0',
      'clock_nanosleep_time64 407: 0',
      'pselect6_time64 413: 0',
      'ppoll_time64 414: 0',
      'rt_sigtimedwait_time64 421: EAGAIN',
      'futex_time64 422: 0',
      'clone3 435 (size 0): EINVAL',
      'faccessat2 439: 0',
      'fchmodat2 452: ENOENT',
      // fs/select.c do_pselect / sys_ppoll with get_timespec64: the padding above tv_nsec dropped on 32-bit
      'pselect6_time64: readable 1, p 1 q 0, empty 1 ms 0, nsec 1e9 EINVAL, sec -1 EINVAL, padding 0, bad pointer EFAULT',
      'ppoll_time64: readable 1 revents 1, empty 1 ms 0 revents 0, nsec 1e9 EINVAL, sec -1 EINVAL, padding 0, bad pointer EFAULT',
      // do_faccessat: the mode, then the flags (-EINVAL); NOFOLLOW checks the link itself; "" needs AT_EMPTY_PATH
      'access mode 8: EINVAL, faccessat mode 8: EINVAL',
      'faccessat2: flag 0x8000 EINVAL, mode 8 EINVAL, dangling link ENOENT, NOFOLLOW 0, "" ENOENT, EMPTY_PATH dir 0 pipe 0 fd 99 EBADF',
      // access_override_creds: root's permitted set; AT_EACCESS: the effective set, as open checks
      'mode 000 without DAC caps (capset 0): access 0, faccessat2 0, AT_EACCESS EACCES, open EACCES; caps back: AT_EACCESS 0',
      // copy_process (6.12.19): the namespace check keys on CLONE_THREAD; CLONE_PIDFD's checks (kernel_clone: pidfd == parent_tid for clone)
      'clone: THREAD without SIGHAND EINVAL, SIGHAND without VM EINVAL, NEWNS|FS EINVAL, NEWUSER|FS EINVAL',
      'clone: SIGHAND|NEWPID child 3, THREAD|NEWPID EINVAL, PIDFD|DETACHED EINVAL, PIDFD|PARENT_SETTID EINVAL, SIGCHLD child 3',
      ...AFFINITY,
      '__rseq_size 32, cpu_id 0, cpu_id_start 0, sched_getcpu 0',
      'rseq same: EBUSY, other area: EINVAL, other sig: EPERM, flags 2: EINVAL',
      'unregister: other area EINVAL, len 64 EINVAL, sig EPERM, flags 3 EINVAL',
      // rseq_reset_rseq_cpu_node_id: RSEQ_CPU_ID_UNINITIALIZED
      'unregister: 0, cpu_id -1, cpu_id_start 0',
      'unregister again: EINVAL, sched_getcpu 0',
      'register: misaligned EINVAL, len 16 EINVAL, kernel address EFAULT',
      'register mine: 0, cpu_id_start 0 cpu_id 0 node_id 0 mm_cid 0',
      // rseq_fork: a fork child keeps the registration
      'fork child: rseq mine EBUSY',
      "glibc's while mine is registered: EINVAL; unregister mine: 0; glibc's again: 0, cpu_id 0, mine's cpu_id -1",
      // glibc registers each new thread's own area
      'pthread: cpu_id 0, sched_getcpu 0, rseq again: EBUSY',
      // rseq_signal_deliver -> rseq_ip_fixup: the handler's frame returns to abort_ip, rseq_cs cleared
      'rseq critical section: no signal committed, a signal inside aborted (handler ran 1), rseq_cs after 0',
      // rseq_get_rseq_cs: the word before abort_ip is not the registration's signature
      'rseq bad signature: signal 11',
      'membarrier: QUERY 1023, GLOBAL 0, GLOBAL_EXPEDITED 0, bad cmd EINVAL, flags EINVAL',
      'membarrier: PRIVATE_EXPEDITED unregistered EPERM, RSEQ with FLAG_CPU EPERM, RSEQ flags 2 EINVAL',
      'membarrier: REGISTER_PRIVATE_EXPEDITED 0 twice 0, PRIVATE_EXPEDITED 0, REGISTER_RSEQ 0, RSEQ with FLAG_CPU 0, GET_REGISTRATIONS 272',
      // dup_mm copies membarrier_state
      'fork child: GET_REGISTRATIONS 272, PRIVATE_EXPEDITED 0',
      'clone3: size 4097 E2BIG, size 63 EINVAL, NULL EFAULT, nonzero tail E2BIG',
      'clone3: exit_signal 65 EINVAL, CSIGNAL in flags EINVAL, thread with exit_signal EINVAL, stack without size EINVAL, size without stack EINVAL, SIGHAND|CLEAR_SIGHAND EINVAL, unknown flag EINVAL',
      'clone3 child: SIGUSR1 handler, SIGUSR2 ignored',
      'clone3 fork: pid, parent_tid ok 1, waitpid ok 1, status 7',
      // flush_signal_handlers(tsk, 0): a handler back to default, SIG_IGN kept
      'clone3 child (CLEAR_SIGHAND): SIGUSR1 default, SIGUSR2 ignored',
      'clone3 fork: pid, parent_tid ok 1, waitpid ok 1, status 7',
      'clone3 thread: tid, ran with its own tid 1, on the given stack\'s top half 1',
      'pthread_create: 0, joined 42',
    ]);
    // no fallback: clock_gettime64 only; sched_getcpu reads rseq's cpu_id (getcpu only the program's own calls and the unregistered window)
    expect(r.syscallsByNr['263']).toBeUndefined();
  });

  it('glibc 2.36 on ARM makes a pthread with clone, not clone3 (no ARM clone3 wrapper), in both eras', () => {
    for (const profile of ['rfc-v4', 'mainline']) {
      const r = runElf({ elf: guestBinary('threads'), bind: null, profile });
      expect(r.exitStatus, profile).toBe(0);
      expect(r.syscallsByNr['435'], profile).toBeUndefined();
      expect(r.syscallsByNr['120'], profile).toBeGreaterThan(0);
      // v6.12: glibc registers rseq for the main thread and each pthread; 3.14: tried once (ENOSYS), no pthread tries again
      if (profile === 'mainline') expect(r.syscallsByNr['398'], profile).toBe(1 + r.syscallsByNr['120']!);
      expect(r.unknownSyscalls, profile).toEqual({});
    }
  });
});
