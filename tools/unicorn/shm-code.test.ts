import { describe, expect, it } from 'vitest';
import { guestBinary, shouldSkipUnicornTests } from '../../emulator/cpu/unicorn/testing/guest-build.js';
import { runElf } from './run.js';

/**
 * Code another process writes into an executable MAP_SHARED anonymous page and cacheflushes
 * (guest-tests/c/shm-code.c; kernel-model/process/filemap.ts sysCacheflush / shmCodeWritten,
 * vma.ts ShmObject.mappers, UnicornEngine.invalidateCode): the A15's broadcast, physically
 * tagged I-cache maintenance reaches the parent's mapping of the frame. Both eras alike.
 */
const lines = (s: string): string[] => s.split('\n').filter((l) => l.length > 0);

describe.skipIf(shouldSkipUnicornTests())('rewritten code in a shared anonymous page (shm-code.c)', () => {
  for (const profile of ['rfc-v4', 'mainline']) {
    it(`${profile}: the parent runs a fork child's new instructions after its cacheflush`, () => {
      const r = runElf({ elf: guestBinary('shm-code'), bind: null, profile });
      expect(r.unknownSyscalls).toEqual({});
      expect(lines(r.stdout)).toEqual([
        'code: 1',
        'own store and cacheflush: 2',
        "a child's store and cacheflush: 3",
        'read+exec: 3',
        "a child's store through a mapping without exec, cacheflush: 4",
        'again: 5',
      ]);
      expect(r.exitStatus, r.stdout).toBe(0);
    });
  }
});
