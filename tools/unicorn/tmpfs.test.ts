import { describe, expect, it } from 'vitest';
import { busyboxPath, shouldSkipBusyboxTests } from '../../emulator/cpu/unicorn/testing/guest-build.js';
import { runElf, type UnicornRunResult } from './run.js';

/**
 * The writable tmpfs at /tmp (kernel-model/vfs/tmpfs.ts) seen by busybox's sh and applets:
 * open(O_CREAT|O_TRUNC|O_APPEND), write, read, stat sizes, getdents64, mkdir, unlink, rmdir.
 * Mandatory in CI.
 */
const skip = shouldSkipBusyboxTests();

function sh(script: string): UnicornRunResult {
  const elf = busyboxPath();
  if (elf === null) throw new Error('busybox not found: run tools/unicorn/fetch-busybox.sh');
  return runElf({ elf, argv0: 'sh', args: ['-c', script], maxInstructions: 50_000_000, bind: null });
}

describe.skipIf(skip)('tmpfs at /tmp under busybox', () => {
  it("sh -c 'echo x > /tmp/a; cat /tmp/a' and the rest of a file's life", () => {
    const r = sh([
      'echo x > /tmp/a; cat /tmp/a',
      'echo yz >> /tmp/a; cat /tmp/a',
      'echo new > /tmp/a; cat /tmp/a', // O_TRUNC
      'wc -c < /tmp/a',
      'mkdir /tmp/d && echo made',
      'mkdir /tmp/d 2>>/tmp/err || echo "mkdir again $?"',
      'echo in > /tmp/d/f; ls /tmp; ls /tmp/d',
      'ls -ld /tmp/d | cut -c1-10',
      'rmdir /tmp/d 2>>/tmp/err || echo "rmdir non-empty $?"',
      'rm /tmp/d/f; rmdir /tmp/d && echo removed; ls /tmp',
      'rm /tmp/a; cat /tmp/a 2>>/tmp/err || echo "gone $?"',
      'echo no 2>>/tmp/err > /sys/nothere || echo "sysfs create $?"',
      'cat /tmp/err',
    ].join('\n'));
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe([
      'x', 'x', 'yz', 'new', '4', 'made', 'mkdir again 1', 'a', 'd', 'err', 'f', 'drwxr-xr-x', 'rmdir non-empty 1', 'removed', 'a', 'err', 'gone 1', 'sysfs create 1',
      "mkdir: can't create directory '/tmp/d': File exists",
      "rmdir: '/tmp/d': Directory not empty",
      "cat: can't open '/tmp/a': No such file or directory",
      "sh: can't create /sys/nothere: Permission denied",
      '',
    ].join('\n'));
    expect(r.exitStatus).toBe(0);
    expect(r.unknownSyscalls).toEqual({});
  });
});
