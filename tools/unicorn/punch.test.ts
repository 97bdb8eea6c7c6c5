import { describe, expect, it } from 'vitest';
import { guestBinary, shouldSkipUnicornTests } from '../../emulator/cpu/unicorn/testing/guest-build.js';
import { runElf } from './run.js';

/**
 * fallocate(2) on tmpfs and MADV_REMOVE on a shared file mapping from C (guest-tests/c/punch.c;
 * kernel-model/exec/fallocate.ts, vfs/tmpfs.ts, process/madvise.ts): allocation with and without
 * KEEP_SIZE, a punched hole seen by read(), SEEK_HOLE and a MAP_SHARED mapping (a MAP_PRIVATE
 * copy stays), vfs_fallocate's errors, MADV_REMOVE. The eras differ where a mode tmpfs lacks is
 * refused (`fallocateModes`). Mandatory in CI.
 */
const lines = (s: string): string[] => s.split('\n').filter((l) => l.length > 0);

describe.skipIf(shouldSkipUnicornTests())('fallocate and MADV_REMOVE on tmpfs from C (punch.c)', () => {
  for (const profile of ['rfc-v4', 'mainline']) {
    it(`${profile}: shmem_fallocate's allocate, KEEP_SIZE and PUNCH_HOLE; madvise_remove`, () => {
      const old = profile === 'rfc-v4';
      const r = runElf({ elf: guestBinary('punch'), bind: null, profile });
      expect(r.unknownSyscalls).toEqual({});
      expect(lines(r.stdout)).toEqual([
        '-- allocate',
        'fallocate 0, 100+5000: 0',
        'size 5100',
        'fallocate KEEP_SIZE at 3 pages: 0',
        'size 5100',
        'SEEK_DATA 0 (fallocated, unwritten): ENXIO',
        'pwrite at 4100: 1',
        'SEEK_DATA 0: 4096',
        'fallocate 2^44 (past s_maxbytes): EFBIG',
        'fallocate 64 MiB (the mount is full): ENOSPC',
        'size 5100',
        '-- punch',
        'shared byte 90, private page 2 byte 90',
        'PUNCH_HOLE|KEEP_SIZE 4086+4116: 0',
        'size 16384',
        'read: 4085 90, 4086 0, 4196 0, 8201 0, 8202 90',
        'SEEK_HOLE 0: 4096',
        'SEEK_DATA 4096: 8192',
        'shared: 4085 90, 4086 0, 4196 0, 8201 0',
        'private: copied page 1 68, page 2 byte 9 0',
        'PUNCH_HOLE without KEEP_SIZE: EOPNOTSUPP',
        'ZERO_RANGE: EOPNOTSUPP',
        'len 0: EINVAL',
        'offset -1: EINVAL',
        'O_RDONLY: EBADF',
        'fd 99: EBADF',
        old ? 'ZERO_RANGE on O_RDONLY: EOPNOTSUPP' : 'ZERO_RANGE on O_RDONLY: EBADF',
        'pipe: ESPIPE',
        old ? 'ZERO_RANGE on a pipe: EOPNOTSUPP' : 'ZERO_RANGE on a pipe: ESPIPE',
        'eventfd: ENODEV',
        '-- MADV_REMOVE',
        'madvise REMOVE page 3 (shared): 0',
        'SEEK_HOLE 8192: 12288',
        'read 12295 0, shared 0',
        'madvise REMOVE (private): EACCES',
        'madvise REMOVE (read-only file): EACCES',
      ]);
      expect(r.exitStatus, r.stdout).toBe(0);
    });
  }
});
