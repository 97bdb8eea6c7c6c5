import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { guestBinary, shouldSkipUnicornTests } from '../../emulator/cpu/unicorn/testing/guest-build.js';
import { CROSS_LIBC_DIR } from './rootfs.js';
import { runElf } from './run.js';

/**
 * A dynamically linked program (guest-tests/c/hello-dyn.c: a PIE, PT_INTERP
 * /lib/ld-linux-armhf.so.3, libc.so.6) runs with the host's cross C library as the guest's /lib
 * (run.ts crossLibc; Debian's libc6-armhf-cross, which CI installs: .ci/steps.sh system-deps):
 * the kernel loads the program and the loader (kernel-model/exec/load.ts), the loader opens,
 * maps and relocates libc.so.6 through the model's syscalls, and main runs, once as the run's
 * first program and once after its execve of itself. Outside CI the test
 * skips without the directory; in CI it runs (and fails without it).
 */
const skip = shouldSkipUnicornTests() || (!process.env['CI'] && !existsSync(`${CROSS_LIBC_DIR}/ld-linux-armhf.so.3`));

describe.skipIf(skip)('a dynamically linked program (hello-dyn.c)', () => {
  for (const profile of ['rfc-v4', 'mainline'] as const) {
    it(`runs with ld.so and libc.so.6 from the cross C library (${profile})`, () => {
      const r = runElf({ elf: guestBinary('hello-dyn'), argv0: '/bin/hello-dyn', bind: null, profile, crossLibc: CROSS_LIBC_DIR });
      // the program at ELF_ET_DYN_BASE (3.14 0x2a000000, v6.12 0x400000; its p_align is a page),
      // the loader in the mmap area; the same after its execve of itself (lifecycle.ts
      // sysExecve: the program and the loader again)
      const where = `AT_BASE 0x40000000, main in the page at ${profile === 'mainline' ? '0x400000' : '0x2a000000'}\n`;
      expect(r.stdout, profile).toBe(`hello from a dynamically linked program (first)\n${where}hello from a dynamically linked program (again)\n${where}`);
      expect(r.exitStatus, profile).toBe(0);
      expect(r.unknownSyscalls, profile).toEqual({});
    });
  }
});
