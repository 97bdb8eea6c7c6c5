import { copyFileSync, chmodSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { guestBinary, shouldSkipUnicornTests } from '../../emulator/cpu/unicorn/testing/guest-build.js';
import { runElf } from './run.js';

/**
 * The cwd and open files' names from C (guest-tests/c/cwd.c; kernel-model/vfs/dentry.ts,
 * vfs.ts, kernel-model/exec/open-exec.ts): a renamed and an rmdir'd cwd, relative names
 * under a directory no longer searchable, /proc/self/fd of renamed and unlinked files, and
 * execve's permission checks on a copy of the program in /tmp; the program runs as /bin/cwd
 * from a rootfs so that it can copy itself. Both eras: the same answers, but exec of an open
 * VFIO group node given an x bit (3.14 opens it first: EBUSY; v6.12 EACCES, may_open).
 * Mandatory in CI.
 */
const lines = (s: string): string[] => s.split('\n').filter((l) => l.length > 0);

describe.skipIf(shouldSkipUnicornTests())('the cwd, d_path and execve\'s checks from C (cwd.c)', () => {
  for (const profile of ['rfc-v4', 'mainline']) {
    it(`${profile}: as Linux keeps fs->pwd and f_path`, () => {
      const root = mkdtempSync(join(tmpdir(), 'vfio-cwd-'));
      mkdirSync(join(root, 'bin'));
      copyFileSync(guestBinary('cwd'), join(root, 'bin/cwd'));
      chmodSync(join(root, 'bin/cwd'), 0o755);
      const r = runElf({ elf: join(root, 'bin/cwd'), argv0: '/bin/cwd', rootfs: root, args: ['2c0a0000.dma'], profile });
      expect(r.bind?.ok, r.stdout).toBe(true);
      expect(r.exitStatus, r.stdout).toBe(0);
      expect(r.unknownSyscalls).toEqual({});
      expect(lines(r.stdout)).toEqual([
        '-- a renamed cwd',
        'mkdir /tmp/a: 0',
        'chdir /tmp/a: 0',
        'rename /tmp/a /tmp/b: 0',
        'x from the cwd: \'in a\'',
        'getcwd: /tmp/b',
        '/proc/self/cwd: /tmp/b',
        'mkdir sub: 0',
        'stat /tmp/b/sub: 0',
        '-- open files renamed and unlinked',
        'fd of f: /tmp/b/f',
        'rename f g: 0',
        'after rename: /tmp/b/g',
        'unlink g: 0',
        'after unlink: /tmp/b/g (deleted)',
        'fstat after unlink: nlink 0 size 4',
        'open /proc/self/fd/N of it: ok, same inode yes',
        'the new fd: /tmp/b/g (deleted)',
        'chdir /: 0',
        'rename /tmp/b /tmp/c: 0',
        'directory fd after rename: /tmp/c/sub',
        'openat(dirfd, "y", O_CREAT): 0',
        'stat /tmp/c/sub/y: 0',
        '-- an rmdir\'d cwd',
        'mkdir /tmp/d: 0',
        'chdir /tmp/d: 0',
        'rmdir /tmp/d: 0',
        'getcwd: ENOENT',
        '/proc/self/cwd: /tmp/d (deleted)',
        'open n O_CREAT: ENOENT',
        'mkdir m: ENOENT',
        'stat .: 0',
        '. nlink 0',
        '.. is /tmp: yes',
        'chdir ..: 0',
        'getcwd: /tmp',
        '-- relative names below a directory that is no longer searchable',
        'uid 1000: f from the cwd: \'in q\'',
        'uid 1000: /tmp/p/q/f: EACCES',
        'uid 1000: ../q/f: EACCES',
        'uid 1000: getcwd: /tmp/p/q',
        '-- execve',
        'exec 0644 as root: EACCES',
        'exec 0744 as uid 1000: EACCES',
        'exec\'d copy runs, cwd: /tmp',
        'exec in a 0700 dir as uid 1000: EACCES',
        'exec a directory: EACCES',
        'exec below a file: ENOTDIR',
        'exec a missing file: ENOENT',
        'exec a text file: ENOEXEC',
        'chdir /tmp: 0',
        'exec\'d copy runs, cwd: /tmp',
        'group open: ok',
        'chmod group 0755: 0',
        profile === 'rfc-v4' ? 'exec the open group node: EBUSY' : 'exec the open group node: EACCES',
      ]);
    });
  }
});
