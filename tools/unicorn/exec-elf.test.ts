import { describe, expect, it } from 'vitest';
import { guestBinary, shouldSkipUnicornTests } from '../../emulator/cpu/unicorn/testing/guest-build.js';
import { runElf } from './run.js';

/**
 * execve of hand-made ELF files load_elf_binary refuses (guest-tests/c/exec-elf.c;
 * kernel-model/exec/elf-exec.ts before the point of no return, load.ts ExecLateError and
 * lifecycle.ts execFailedLate after it): errnos before it (e_phentsize, a missing interpreter;
 * e_phnum and a table past the file's end by era, capability `execElfLoad`), and the signal the
 * parent's wait reports after it (capability `execMapFailure`: 3.14 load_elf_binary's own
 * signal, v6.12 SIGSEGV; `execElfLoad`: 3.14's padzero of a read-only segment's bss).
 */
const lines = (s: string): string[] => s.split('\n').filter((l) => l.length > 0);

describe.skipIf(shouldSkipUnicornTests())('execve of ELF files load_elf_binary refuses (exec-elf.c)', () => {
  // [case, 3.14's answer, v6.12's where it differs]
  const cases: [string, string, string?][] = [
    ['path of 4096 bytes', 'execve errno ENAMETOOLONG'],
    ['missing file, bad argv', 'execve errno ENOENT'],
    ['good', 'exited 42'],
    ['e_entry not word aligned', 'execve errno ENOEXEC'],
    ['e_phentsize 40', 'execve errno ENOEXEC'],
    ['PT_INTERP /nope', 'execve errno ENOENT'],
    ['e_phnum 200', 'exited 42', 'execve errno ENOEXEC'],
    ['EI_OSABI ARM FDPIC', 'exited 42', 'execve errno ENOEXEC'],
    ['e_phoff past the end', 'execve errno EIO', 'execve errno ENOEXEC'],
    ['argv string of 131071 bytes', 'exited 42'],
    ['argv string of 131072 bytes', 'execve errno E2BIG'],
    ['2000 argv strings of 64 bytes', 'exited 42', 'execve errno E2BIG'],
    ['1920 argv strings of 64 bytes', 'exited 42'],
    ['p_filesz past the end of the file', 'exited 42'],
    ['writable segment, bss past the end of the file', 'killed by signal 11'],
    ['p_filesz > p_memsz', 'killed by signal 9', 'killed by signal 11'],
    ['read-only segment with bss', 'killed by signal 11', 'exited 42'],
    ['e_entry at TASK_SIZE', 'killed by signal 11'],
    ['p_vaddr at TASK_SIZE', 'killed by signal 9', 'killed by signal 11'],
    ['no PT_LOAD', 'killed by signal 11'],
  ];
  const expected = {
    'rfc-v4': cases.map(([c, old]) => `${c}: ${old}`),
    mainline: cases.map(([c, old, now]) => `${c}: ${now ?? old}`),
  };
  for (const profile of ['rfc-v4', 'mainline'] as const) {
    it(`each case's errno or wait status (${profile})`, () => {
      const r = runElf({ elf: guestBinary('exec-elf'), bind: null, profile });
      expect(lines(r.stdout), profile).toEqual(expected[profile]);
      expect(r.exitStatus, profile).toBe(0);
      expect(r.unknownSyscalls, profile).toEqual({});
    });
  }
});
