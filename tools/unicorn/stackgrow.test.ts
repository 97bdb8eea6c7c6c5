import { describe, expect, it } from 'vitest';
import { guestBinary, shouldSkipUnicornTests } from '../../emulator/cpu/unicorn/testing/guest-build.js';
import { runElf } from './run.js';

/**
 * The [stack] VMA grows on faults below it (guest-tests/c/stackgrow.c; kernel-model/process/
 * stack-grow.ts, capability `stackGuard`; fs/exec.c setup_arg_pages, mm/mmap.c expand_stack,
 * read in 3.14.4 and 6.12.19). It starts as the argument pages and 128 KiB below them (3.14's
 * maps line a page shorter: show_map_vma hides the guard page); its maps line follows the
 * lowest page written, by the CPU or by the kernel (read() into a buffer 512 KiB down); a fork
 * child with RLIMIT_STACK at 256 KiB or 6 MiB dies by SIGSEGV (11) with the lowest page written
 * exactly that far under the stack's end. Towards a page mapped 2 MiB under the stack: 3.14
 * writes down to the page above the mapping's guard page and dies by SIGBUS (7,
 * check_stack_guard_page: the mapping ends right under the guard page), also for a PROT_NONE
 * mapping; v6.12 stops 1 MiB (stack_guard_gap) above an accessible mapping with SIGSEGV, and
 * down to a PROT_NONE one (not vma_is_accessible), dying when it writes into it.
 */
const lines = (s: string): string[] => s.split('\n').filter((l) => l.length > 0);

describe.skipIf(shouldSkipUnicornTests())('the stack VMA grows on faults, within RLIMIT_STACK and the guard (stackgrow.c)', () => {
  for (const profile of ['rfc-v4', 'mainline']) {
    it(`maps before and after, a kernel write below, RLIMIT_STACK, a mapping below (${profile})`, () => {
      const old = profile === 'rfc-v4';
      const r = runElf({ elf: guestBinary('stackgrow'), bind: null, profile });
      expect(r.exitStatus, profile).toBe(0);
      expect(lines(r.stdout), profile).toEqual([
        `before: [stack] ${old ? 131072 : 135168} bytes, end 0xbf000000`,
        'rlimit 256 KiB: signal 11, lowest page written - base = 0 KiB',
        'rlimit 6 MiB: signal 11, lowest page written - base = 0 KiB',
        old ? 'mapping below: signal 7, lowest page written - base = 4 KiB' : 'mapping below: signal 11, lowest page written - base = 1024 KiB',
        old ? 'PROT_NONE mapping below: signal 7, lowest page written - base = 4 KiB' : 'PROT_NONE mapping below: signal 11, lowest page written - base = 0 KiB',
        'read into 512 KiB below: 8, grew 1',
        'after 4 MiB: end same 1, start - lowest page written = 0, grew 1',
      ]);
      expect(r.processes.map((p) => p.status), profile).toEqual(old ? [139, 139, 135, 135, 0] : [139, 139, 139, 139, 0]);
      expect(r.unknownSyscalls, profile).toEqual({});
    });
  }
});
