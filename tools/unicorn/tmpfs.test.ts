import { describe, expect, it } from 'vitest';
import { busyboxPath, shouldSkipBusyboxTests } from '../../emulator/cpu/unicorn/testing/guest-build.js';
import { runElf, type UnicornRunResult } from './run.js';

/**
 * The writable tmpfs at /tmp (kernel-model/vfs/tmpfs.ts) seen by busybox's sh and applets:
 * open(O_CREAT|O_TRUNC|O_APPEND), write, read, stat sizes, getdents64, mkdir, unlink, rmdir;
 * mv, ln, ln -s, chmod, truncate and umask (rename, link, symlink, chmod, ftruncate64, umask).
 * Mandatory in CI.
 */
const skip = shouldSkipBusyboxTests();

function sh(script: string, profile?: string): UnicornRunResult {
  const elf = busyboxPath();
  if (elf === null) throw new Error('busybox not found: run tools/unicorn/fetch-busybox.sh');
  return runElf({ elf, argv0: 'sh', args: ['-c', script], maxInstructions: 50_000_000, bind: null, profile });
}

describe.skipIf(skip)('tmpfs at /tmp under busybox', () => {
  it('devtmpfs takes names from root in both eras: mkdir /dev/x, a file, a link, mv, rm, rmdir', () => {
    for (const profile of ['rfc-v4', 'mainline']) {
      const r = sh([
        'mkdir /dev/x && echo made',
        'echo hi > /dev/x/f && cat /dev/x/f',
        'ln -s x/f /dev/lf && cat /dev/lf',
        'mv /dev/x/f /dev/g && cat /dev/g',
        'rm /dev/lf /dev/g && rmdir /dev/x && echo removed',
        '[ -e /dev/x ] || echo gone',
      ].join('\n'), profile);
      expect(r.stdout, profile).toBe(['made', 'hi', 'hi', 'hi', 'removed', 'gone', ''].join('\n'));
      expect(r.stderr, profile).toBe('');
      expect(r.exitStatus, profile).toBe(0);
    }
  });

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

  it('mv, ln, ln -s, chmod, truncate, umask in both eras; mv across mounts and into its own subtree, ln across mounts', () => {
    for (const profile of ['rfc-v4', 'mainline']) {
      const r = sh([
        'umask; umask 077; echo x > /tmp/u; stat -c %a /tmp/u; umask 022; umask',
        'echo hello > /tmp/a',
        'mv /tmp/a /tmp/b && cat /tmp/b; [ -e /tmp/a ] || echo "a gone"',
        'ln /tmp/b /tmp/c && stat -c "%h %s" /tmp/b /tmp/c',
        'ln -s /tmp/b /tmp/s && readlink /tmp/s && cat /tmp/s && ls -l /tmp/s | cut -c1-10',
        'chmod 600 /tmp/b && ls -l /tmp/c | cut -c1-10; chmod u+x,g+r /tmp/b && stat -c %a /tmp/c',
        'truncate -s 3 /tmp/b && cat /tmp/c && echo; truncate -s 10000 /tmp/b && wc -c < /tmp/b',
        'mkdir /tmp/d; mv /tmp/c /tmp/d/ && ls /tmp/d; stat -c %h /tmp/b',
        'cd /tmp/d; mv /tmp/d /tmp/e && ls /tmp/e; pwd -P; cd /',
        'mv /tmp/e /tmp/e/x || echo "mv into itself $?"',
        'ln -s e /tmp/el; cd /tmp/el && pwd -P; cd /',
        'ln /tmp/e/c /proc/c || echo "ln across mounts $?"',
        'ln -sf /tmp/e /tmp/s; readlink /tmp/s',
        'rm /tmp/s /tmp/el; ls /tmp',
      ].join('\n'), profile);
      expect(r.stdout, profile).toBe([
        '0022', '600', '0022',
        'hello', 'a gone',
        '2 6', '2 6',
        '/tmp/b', 'hello', 'lrwxrwxrwx',
        '-rw-------', '740',
        'hel', '10000',
        'c', '2', // mv keeps the inode: still two names
        'c', '/tmp/e', // the cwd moved with its directory
        'mv into itself 1',
        '/tmp/e',
        'ln across mounts 1',
        '/tmp/e',
        'b', 'e', 'u',
        '',
      ].join('\n'));
      expect(r.stderr, profile).toBe([
        "mv: can't rename '/tmp/e': Invalid argument",
        'ln: /proc/c: Invalid cross-device link',
        '',
      ].join('\n'));
      expect(r.exitStatus, profile).toBe(0);
      expect(r.unknownSyscalls, profile).toEqual({});
    }
  });
});
