import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { guestBinary, shouldSkipUnicornTests } from '../../emulator/cpu/unicorn/testing/guest-build.js';
import { BLOCK } from '../../emulator/cpu/unicorn/thread.js';
import { Prng } from '../../emulator/prng.js';
import { execElf } from '../../kernel-model/exec/exec.js';
import { ARM_NR } from '../../kernel-model/exec/linux-abi.js';
import { System } from '../system/system.js';

/**
 * Robustness of the Linux ABI entry: arbitrary syscall numbers and register values from a
 * (hostile) ARM program never raise a host exception out of the kernel model; every answer
 * is a number in the Linux range (>= -4095 as a signed value, or an address) or BLOCK.
 */
it.skipIf(shouldSkipUnicornTests())('LinuxAbi: random syscalls and arguments never throw, results are Linux-shaped', () => {
  const system = new System({ profile: 'rfc-v4', seed: 3 });
  const proc = system.syscalls.createProcess({ name: 'fuzz', stdio: true });
  const arm = execElf({ layer: system.syscalls, proc, cpu: system.cpu, bus: system.machine.bus, elf: new Uint8Array(readFileSync(guestBinary('hello'))), argv: ['fuzz'], prng: new Prng(3) });
  const known = Object.values(ARM_NR).filter((n) => n !== ARM_NR.exit && n !== ARM_NR.exit_group && n !== ARM_NR.kill && n !== ARM_NR.tgkill && n !== ARM_NR.tkill);
  const arg = fc.oneof(
    fc.constantFrom(0, 1, 2, 3, 4, 8, 16, 0x1000, 0x10000, 0x40000000, 0xbefff000, 0xbf000000 - 64, 0xffffffff, 0x80000000, 0xfffff000),
    fc.integer({ min: 0, max: 4096 }),
    fc.integer({ min: 0, max: 0xffffffff }),
  );
  try {
    fc.assert(
      fc.property(fc.oneof(fc.constantFrom(...known), fc.integer({ min: 0, max: 0xfffff })), fc.array(arg, { minLength: 7, maxLength: 7 }), (nr, args) => {
        // keep sizes sane: huge lengths are legal but only slow the mirror down
        if ((nr === ARM_NR.mmap2 || nr === ARM_NR.munmap || nr === ARM_NR.mprotect) && args[1]! > 1 << 24) args[1] = 0x4000;
        const t = arm.main;
        const r = arm.abi.syscall(t, nr, Uint32Array.from(args));
        if (r === BLOCK) {
          // undo the block so the next call starts clean
          system.syscalls.taskOf(proc, t).finish();
          system.cpu.wake(t);
          return;
        }
        expect(Number.isFinite(r)).toBe(true);
        expect((r | 0) >= -4095 || r >= 0).toBe(true);
      }),
      { numRuns: 300, seed: 7 },
    );
  } finally {
    arm.engine.close();
  }
});
