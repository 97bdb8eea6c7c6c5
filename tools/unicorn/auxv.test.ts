import { describe, expect, it } from 'vitest';
import { guestBinary, shouldSkipUnicornTests } from '../../emulator/cpu/unicorn/testing/guest-build.js';
import { runElf } from './run.js';

/**
 * The initial stack's auxiliary vector in each era (guest-tests/c/auxv.c; fs/binfmt_elf.c
 * create_elf_tables, read in 3.14.4 / 6.12.19; kernel-model/exec/auxv.ts, capability
 * `execAuxv`; emulator/cpu/unicorn/elf.ts buildInitialStack): the kernel's order, AT_FLAGS 0,
 * 3.14's 17 pairs, v6.12's 20 (AT_HWCAP2 0 after AT_RANDOM, AT_RSEQ_FEATURE_SIZE 28 and
 * AT_RSEQ_ALIGN 32 after AT_PLATFORM; no vDSO, so no AT_SYSINFO_EHDR), the strings' places
 * (argv[0] "auxv" with the runner's three environment strings: the file name 45 bytes above
 * argv[0], the platform string and AT_RANDOM below the 16-byte aligned top of the strings), the
 * padding STACK_ROUND leaves between AT_NULL and AT_RANDOM (3.14: none, v6.12: 8 bytes), and a
 * child that setuid(1000)s and execve's itself: AT_UID and AT_EUID 1000, AT_SECURE 0.
 */
const lines = (s: string): string[] => s.split('\n').filter((l) => l.length > 0);

const pairs = (era: '3.14' | '6.12'): string[] => [
  // HWCAP_CORTEX_A15: SWP HALF THUMB FAST_MULT VFP EDSP NEON VFPv3 TLS VFPv4 IDIVA IDIVT VFPD32 LPAE
  'AT_HWCAP (16) = 0x1fb0d7',
  'AT_PAGESZ (6) = 4096',
  'AT_CLKTCK (17) = 100',
  'AT_PHDR (3) = ehdr+52',
  'AT_PHENT (4) = 32',
  'AT_PHNUM (5) = e_phnum',
  'AT_BASE (7) = 0',
  'AT_FLAGS (8) = 0',
  'AT_ENTRY (9) = e_entry',
  'AT_UID (11) = 0',
  'AT_EUID (12) = 0',
  'AT_GID (13) = 0',
  'AT_EGID (14) = 0',
  'AT_SECURE (23) = 0',
  'AT_RANDOM (25) = argv0-25',
  ...(era === '6.12' ? ['AT_HWCAP2 (26) = 0x0'] : []),
  "AT_EXECFN (31) = argv0+45 '/bin/auxv'",
  "AT_PLATFORM (15) = argv0-9 'v7l'",
  ...(era === '6.12' ? ['AT_RSEQ_FEATURE_SIZE (27) = 28', 'AT_RSEQ_ALIGN (28) = 32'] : []),
];

const CHILD = [
  'child AT_UID 1000',
  'child AT_EUID 1000',
  'child AT_GID 0',
  'child AT_EGID 0',
  'child AT_SECURE 0',
  'child getuid 1000 geteuid 1000',
  'child status 0x0',
];

describe.skipIf(shouldSkipUnicornTests())('the auxiliary vector by era (auxv.c)', () => {
  it("3.14 (rfc-v4): create_elf_tables' 17 pairs, no AT_HWCAP2, no rseq entries", () => {
    const r = runElf({ elf: guestBinary('auxv'), bind: null, profile: 'rfc-v4' });
    expect(lines(r.stdout)).toEqual([
      ...pairs('3.14'),
      // 7 words of argc/argv/envp and 18 pairs: 172 bytes, AT_RANDOM at 0xbeffffac: SP 0xbeffff00
      "pairs 17, AT_NULL end to AT_RANDOM 0, argc's address mod 16: 0",
      'getauxval agrees 1, getauxval(AT_RSEQ_FEATURE_SIZE) ENOENT',
      ...CHILD,
    ]);
    expect(r.exitStatus).toBe(0);
    expect(r.unknownSyscalls).toEqual({});
  });

  it('v6.12 (mainline): 20 pairs with AT_HWCAP2 and AT_RSEQ_FEATURE_SIZE / AT_RSEQ_ALIGN', () => {
    const r = runElf({ elf: guestBinary('auxv'), bind: null, profile: 'mainline' });
    expect(lines(r.stdout)).toEqual([
      ...pairs('6.12'),
      // 7 words and 21 pairs: 196 bytes below 0xbeffffac, rounded down to 0xbefffee0
      "pairs 20, AT_NULL end to AT_RANDOM 8, argc's address mod 16: 0",
      'getauxval agrees 1, getauxval(AT_RSEQ_FEATURE_SIZE) 28',
      ...CHILD,
    ]);
    expect(r.exitStatus).toBe(0);
    expect(r.unknownSyscalls).toEqual({});
  });
});
