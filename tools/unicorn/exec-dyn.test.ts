import { describe, expect, it } from 'vitest';
import { guestBinary, shouldSkipUnicornTests } from '../../emulator/cpu/unicorn/testing/guest-build.js';
import { runElf } from './run.js';

/**
 * execve of hand-made ET_DYN images and of images with an interpreter (guest-tests/c/exec-dyn.c;
 * kernel-model/exec/load.ts mainPlacement, loadElfInterp): where each image and interpreter
 * go (the address the first code runs at, brk, AT_PHDR, AT_ENTRY, AT_BASE), by era
 * (capability `execElfLoad`: 3.14's ELF_ET_DYN_BASE for every ET_DYN; v6.12's mmap placement
 * for one without interpreter and p_align for one with), and the interpreter's checks before
 * and after the point of no return.
 */
const lines = (s: string): string[] => s.split('\n').filter((l) => l.length > 0);
const at = (code: number, brk: number, phdr: number, entry: number, base: number): string =>
  `code at 0x${code.toString(16)} brk 0x${brk.toString(16)} AT_PHDR 0x${phdr.toString(16)} AT_ENTRY 0x${entry.toString(16)} AT_BASE 0x${base.toString(16)}, exited 42`;
/** the images' one PT_LOAD: the whole file, 0x1038 bytes: brk two pages after the load address */
const img = (load: number, base = 0, run = load): string => at(run + 0x1000, load + 0x2000, load + 0x34, load + 0x1000, base);
/** ELF_ET_DYN_BASE: 3.14 2 * TASK_SIZE / 3 in 32 bits (0x2a000000), v6.12 0x400000 (load.ts) */
const ET_DYN_BASE = 0x2a000000, ET_DYN_BASE_612 = 0x400000, MMAP = 0x40000000;

describe.skipIf(shouldSkipUnicornTests())('execve of ET_DYN images and interpreters (exec-dyn.c)', () => {
  // [case, 3.14's answer, v6.12's where it differs]
  const cases: [string, string, string?][] = [
    ['static PIE', img(ET_DYN_BASE), img(MMAP)],
    ['static PIE, p_align 64 KiB', img(ET_DYN_BASE), img(MMAP)],
    ['ET_EXEC with an interpreter', img(0x10000, MMAP, MMAP)],
    ['ET_DYN with an interpreter', img(ET_DYN_BASE, MMAP, MMAP), img(ET_DYN_BASE_612, MMAP, MMAP)],
    ['ET_DYN with an interpreter, p_align 64 KiB', img(ET_DYN_BASE, MMAP, MMAP), img(ET_DYN_BASE_612, MMAP, MMAP)],
    ['interpreter not ELF', 'execve errno ELIBBAD'],
    ['interpreter without an x bit', 'execve errno EACCES'],
    ['interpreter a directory', 'execve errno EACCES'],
    ['interpreter ET_REL', 'killed by signal 11'],
    ['interpreter e_phentsize 40', 'killed by signal 11', 'execve errno ELIBBAD'],
    // deny_write_access on open_exec(interpreter): 3.14 only (capability execDenyWrite)
    ['interpreter open for writing', 'execve errno ETXTBSY', img(0x10000, MMAP, MMAP)],
    ['interpreter no longer open for writing', img(0x10000, MMAP, MMAP)],
    ['interpreter opened for writing after the runs', 'yes'],
  ];
  const expected = {
    'rfc-v4': cases.map(([c, old]) => `${c}: ${old}`),
    mainline: cases.map(([c, old, now]) => `${c}: ${now ?? old}`),
  };
  for (const profile of ['rfc-v4', 'mainline'] as const) {
    it(`each image's placement and auxv, or the errno or signal (${profile})`, () => {
      const r = runElf({ elf: guestBinary('exec-dyn'), bind: null, profile });
      expect(lines(r.stdout), profile).toEqual(expected[profile]);
      expect(r.exitStatus, profile).toBe(0);
      expect(r.unknownSyscalls, profile).toEqual({});
    });
  }
});
