import { describe, expect, it } from 'vitest';
import { guestBinary, shouldSkipUnicornTests } from '../../emulator/cpu/unicorn/testing/guest-build.js';
import { runElf } from './run.js';

/**
 * MAP_GROWSDOWN mappings from C (guest-tests/c/growsdown.c; kernel-model/syscall/syscalls.ts
 * sysMmap, process/stack-grow.ts, capability `stackGuard`; read in 3.14.4 mm/mmap.c
 * do_mmap_pgoff / expand_stack / sys_brk, mm/memory.c check_stack_guard_page, and 6.12.19
 * mm/mmap.c do_mmap / expand_downwards / brk, include/linux/mm.h vm_start_gap). A file or a
 * shared mapping is EINVAL. A 4-page mapping grows on the CPU's write 3 pages under it: 3.14's
 * maps line hides its guard page (a page above the VMA at first; after the write the VMA is a
 * page longer, its new guard page grown by check_stack_guard_page, so the line starts at the
 * written page, as v6.12's). A mapping right below: 3.14 SIGBUS (7) at the lowest page, v6.12
 * writes it. One 16 pages below: 3.14 grows down to the page above it, SIGBUS at that guard
 * page; v6.12 refuses the first growth (1 MiB stack_guard_gap), SIGSEGV (11). brk a page
 * under it: 3.14 fine, v6.12 refused (vm_start_gap); right under it: refused in both (the page
 * sys_brk keeps free). mprotect's PROT_GROWSDOWN takes the change down to the VMA's start (its
 * top page stays writable, its second is not), skips a hole under it, is ENOMEM wholly under it
 * and EINVAL on a plain mapping; PROT_GROWSUP is EINVAL (ENOMEM unmapped), both at once EINVAL.
 */
const lines = (s: string): string[] => s.split('\n').filter((l) => l.length > 0);

describe.skipIf(shouldSkipUnicornTests())('MAP_GROWSDOWN mappings grow on faults, with the guard of each era (growsdown.c)', () => {
  for (const profile of ['rfc-v4', 'mainline']) {
    it(`EINVAL for files and shared memory, growth, a mapping below, brk under it (${profile})`, () => {
      const old = profile === 'rfc-v4';
      const r = runElf({ elf: guestBinary('growsdown'), bind: null, profile });
      expect(r.exitStatus, profile).toBe(0);
      expect(lines(r.stdout), profile).toEqual([
        'file: EINVAL',
        'shared: EINVAL',
        `mapped: maps line starts ${old ? -4 : 0} KiB under base`,
        'after a write 3 pages under it: maps line starts 12 KiB under base, reads 7',
        old ? 'mapping right below, its lowest page: signal 7, last written -4 KiB under base' : 'mapping right below, its lowest page: exit 0, last written 0 KiB under base',
        old ? 'mapping 16 pages below, down to it: signal 7, last written 60 KiB under base' : 'mapping 16 pages below, down to it: signal 11, nothing written',
        // mprotect (read in 3.14.4 mm/mprotect.c sys_mprotect, 6.12.19 do_mprotect_pkey)
        'mprotect PROT_GROWSDOWN at its third page: ok',
        'its top page, then its second: signal 11, last written -12 KiB under base',
        'mprotect PROT_GROWSDOWN from a hole under it: ok',
        'mprotect PROT_GROWSDOWN wholly under it: ENOMEM',
        'mprotect PROT_GROWSUP in it: EINVAL',
        'mprotect PROT_GROWSUP unmapped: ENOMEM',
        'mprotect both, unmapped: EINVAL',
        'mprotect PROT_GROWSDOWN, plain mapping: EINVAL',
        `brk a page under it: ${old ? 'ok' : 'refused'}`,
        'brk right under it: refused',
      ]);
      expect(r.processes.map((p) => p.status), profile).toEqual(old ? [135, 135, 139, 0] : [0, 139, 139, 0]);
      expect(r.unknownSyscalls, profile).toEqual({});
    });
  }
});
