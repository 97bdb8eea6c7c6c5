import { describe, expect, it } from 'vitest';
import { guestBinary, shouldSkipUnicornTests } from '../../emulator/cpu/unicorn/testing/guest-build.js';
import { runElf } from './run.js';

/**
 * Stores to one file page through MAP_SHARED and MAP_PRIVATE mappings in one translation
 * block, and executable file pages rewritten while mapped (guest-tests/c/filemap-tb.c;
 * emulator/cpu/unicorn/cow-view.ts, UnicornEngine.invalidateCode; docs/UNICORN.md "Regular
 * files"). Both eras answer alike. Mandatory in CI.
 */
const lines = (s: string): string[] => s.split('\n').filter((l) => l.length > 0);

describe.skipIf(shouldSkipUnicornTests())('file page stores in one block, rewritten code (filemap-tb.c)', () => {
  for (const profile of ['rfc-v4', 'mainline']) {
    it(`${profile}: no store lost, the private copy made at its first store; new code runs after cacheflush`, () => {
      const r = runElf({ elf: guestBinary('filemap-tb'), bind: null, profile });
      expect(r.unknownSyscalls).toEqual({});
      expect(lines(r.stdout)).toEqual([
        'before: 1 1 1',
        'one block: shared load after the private store 0x2, private byte 1 0x1, byte 2 0x22',
        'second private mapping: its store 0x66, shared byte 3 0x3, its byte 4 0x4',
        'after: file bytes 1-4 0x33 0x2 0x3 0x77, private 1-3 0x1 0x22 0x55, second private 3-4 0x66 0x4',
        'before: 10',
        'shared first: private 10 0xa1, 11 0xb2, shared 11 0xc3; file 10-11 0xa1 0xc3; private now 0xa1 0xb2',
        '64-bit load before a store: 0x1716151413121110',
        '64-bit store and loads: 0x8877665544332211 0x1716151413121110, the file\'s 0x1f1e1d1c1b1a1918',
        'code: 1',
        'after pwrite: 2',
        'after a shared store: 3',
        'after pwrite, no cacheflush: 4',
        'after a child\'s store and cacheflush: 5',
      ]);
      expect(r.exitStatus, r.stdout).toBe(0);
    });
  }
});
