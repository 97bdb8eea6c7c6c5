import { describe, expect, it } from 'vitest';
import { guestBinary, GUEST_C_DIR, shouldSkipUnicornTests } from '../../emulator/cpu/unicorn/testing/guest-build.js';
import { runElf } from './run.js';

/**
 * Processes on the Unicorn backend (kernel-model/exec/linux-abi.ts): fork, execve from the
 * run's exec file system, exit/wait4/waitid statuses, getppid. Skipped only on a developer
 * machine without libunicorn2 or the cross compiler; in CI (CI set) they must run.
 */
const skip = shouldSkipUnicornTests();
const lines = (s: string): string[] => s.split('\n').filter((l) => l.length > 0);

describe.skipIf(skip)('processes on the Unicorn backend', () => {
  it('fork copies memory and shares fds, a child execs another program, statuses through wait4/waitpid/waitid', () => {
    const r = runElf({ elf: guestBinary('fork'), bind: null, execFiles: { '/bin/hello': guestBinary('hello'), '/etc/not-elf': `${GUEST_C_DIR}/fork.c` } });
    expect(r.exitStatus).toBe(0);
    expect(lines(r.stdout)).toEqual([
      'child said: ppid-ok 1 global 42',
      'waitpid same pid 1, parent global 1',
      'child 1: exited 3',
      'hello from hello (argc=2)',
      'wait4 any 1',
      'exec hello: exited 0',
      'WNOHANG 0',
      'waitid 0 signo 17 code 1 pid 1 status 15',
      'execve missing -1 ENOENT',
      'execve not-elf -1 ENOEXEC',
      'wait none -1 ECHILD',
    ]);
    expect(r.unknownSyscalls).toEqual({});
    expect(r.processes.map((p) => p.status)).toEqual([3, 0, 128 + 15, 0]);
  });
});
