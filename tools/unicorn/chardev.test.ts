import { describe, expect, it } from 'vitest';
import { busyboxPath, guestBinary, shouldSkipBusyboxTests, shouldSkipUnicornTests } from '../../emulator/cpu/unicorn/testing/guest-build.js';
import { runElf } from './run.js';

/**
 * The memory character devices and getrandom from C (guest-tests/c/chardev.c) and from busybox,
 * in both eras (kernel-model/char/mem.ts, kernel-model/char/random.ts): 3.14 (`rfc-v4`: no
 * getrandom, /dev/random at most 512 bytes a read, a fault part way through a random read or
 * write -EFAULT) and v6.12 (`mainline`: the bytes before the fault). Mandatory in CI.
 */
const lines = (s: string): string[] => s.split('\n').filter((l) => l.length > 0);

describe.skipIf(shouldSkipUnicornTests())('memory devices and getrandom from C (chardev.c)', () => {
  it('stat, read, write, lseek and mmap of /dev/null, zero, full, random, urandom; getrandom, as each era answers them', () => {
    for (const profile of ['rfc-v4', 'mainline']) {
      const old = profile === 'rfc-v4';
      const r = runElf({ elf: guestBinary('chardev'), bind: null, profile });
      expect(r.exitStatus, profile).toBe(0);
      expect(r.unknownSyscalls, profile).toEqual({});
      const random = (name: string): string[] => [
        `-- ${name}`,
        'read 64: 64, not all zero',
        old && name === 'random' ? 'read 4096: 512' : 'read 4096: 4096',
        old ? 'read across the hole (100 + 100): EFAULT' : 'read across the hole (100 + 100): 100',
        'write 7: 7',
        old ? 'write across the hole: EFAULT' : 'write across the hole: 100',
        'lseek 50 SEEK_SET: 0',
      ];
      expect(lines(r.stdout), profile).toEqual([
        'stat /dev/null: 0 chr 0666 rdev 1:3',
        'stat /dev/zero: 0 chr 0666 rdev 1:5',
        'stat /dev/full: 0 chr 0666 rdev 1:7',
        'stat /dev/random: 0 chr 0666 rdev 1:8',
        'stat /dev/urandom: 0 chr 0666 rdev 1:9',
        '-- null',
        'read: 0',
        'write: 5',
        'write from a hole: 100',
        'lseek 100 SEEK_SET: 0',
        'lseek -5 SEEK_END: 0',
        'mmap: ENODEV',
        '-- zero',
        "read 16: 16, buf[0] 0 buf[15] 0 buf[16] 'x'",
        'read 3 pages from page 0 + 100: 4096',
        'last byte before the hole: 0',
        'read 4096 from page 1 + 100: EFAULT',
        'write: 10',
        'lseek 4096 SEEK_SET: 0',
        'mmap private ok, shared ok: 0 0',
        'after the child\'s stores: private 1 shared 2',
        'MAP_SHARED|PROT_WRITE of a read-only fd: EACCES',
        '-- full',
        'read 8: 8, buf[7] 0',
        'write: ENOSPC',
        'lseek 3 SEEK_CUR: 0',
        ...random('random'),
        ...random('urandom'),
        '-- getrandom',
        ...(old
          ? ['16 bytes', 'GRND_NONBLOCK', 'GRND_RANDOM', 'GRND_INSECURE', 'GRND_INSECURE|GRND_RANDOM', 'flag 8', '0 bytes', 'across the hole (40 + 60)', 'in the hole'].map((l) => `${l}: ENOSYS`)
          : ['16 bytes: 16', 'GRND_NONBLOCK: 16', 'GRND_RANDOM: 16', 'GRND_INSECURE: 16', 'GRND_INSECURE|GRND_RANDOM: EINVAL', 'flag 8: EINVAL', '0 bytes: 0', 'across the hole (40 + 60): 40', 'in the hole: EFAULT']),
      ]);
    }
  });
});

describe.skipIf(shouldSkipBusyboxTests())('busybox and the memory devices', () => {
  it('sh redirections to /dev/null and head -c 16 /dev/urandom | wc -c, in both eras', () => {
    const elf = busyboxPath();
    if (elf === null) throw new Error('busybox not found: run tools/unicorn/fetch-busybox.sh');
    for (const profile of ['rfc-v4', 'mainline']) {
      const r = runElf({ elf, argv0: 'busybox', args: ['sh', '-c', 'echo hi 2>/dev/null >/dev/null; echo "rc $?"; head -c 16 /dev/urandom | wc -c; ls nothere 2>/dev/null; echo "ls rc $?"; head -c 4 /dev/zero | od -An -tx1'], maxInstructions: 40_000_000, bind: null, profile });
      expect(r.stderr, profile).toBe('');
      expect(lines(r.stdout).map((l) => l.trim()), profile).toEqual(['rc 0', '16', 'ls rc 1', '00 00 00 00']);
      expect(r.exitStatus, profile).toBe(0);
      expect(r.unknownSyscalls, profile).toEqual({});
    }
  });
});
