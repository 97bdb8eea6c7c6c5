import { describe, expect, it } from 'vitest';
import { guestBinary, shouldSkipUnicornTests } from '../../emulator/cpu/unicorn/testing/guest-build.js';
import { runElf } from './run.js';

/**
 * execve of an ELF whose PT_LOAD p_offset and p_vaddr differ modulo the page size
 * (guest-tests/c/exec-misalign.c; kernel-model/exec/load.ts ExecLateError, lifecycle.ts
 * execFailedLate): elf_map's vm_mmap -EINVAL after the point of no return kills the child,
 * 3.14 by SIGKILL, v6.12 by SIGSEGV (capability `execMapFailure`); its comm is already the new
 * file's name. The congruent twin runs.
 */
const lines = (s: string): string[] => s.split('\n').filter((l) => l.length > 0);

describe.skipIf(shouldSkipUnicornTests())('exec of a segment vm_mmap refuses (exec-misalign.c)', () => {
  for (const [profile, sig] of [['rfc-v4', 9], ['mainline', 11]] as const) {
    it(`the child dies by signal ${sig} after the point of no return (${profile})`, () => {
      const r = runElf({ elf: guestBinary('exec-misalign'), bind: null, profile });
      expect(lines(r.stdout), profile).toEqual([
        'congruent: comm good, exited 42',
        `p_offset 4, p_vaddr 0x10000: comm bad, killed by signal ${sig}`,
        'not an ELF: execve -1 errno ENOEXEC',
      ]);
      expect(r.exitStatus, profile).toBe(0);
      expect(r.unknownSyscalls, profile).toEqual({});
    });
  }
});
