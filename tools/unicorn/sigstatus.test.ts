import { describe, expect, it } from 'vitest';
import { guestBinary, shouldSkipUnicornTests } from '../../emulator/cpu/unicorn/testing/guest-build.js';
import { runElf } from './run.js';

/**
 * /proc/<pid>/status's signal lines from C (guest-tests/c/sigstatus.c; kernel-model/process/
 * proc-status.ts, kernel-model/exec/signal-status.ts): fs/proc/array.c task_sig's Threads, SigQ,
 * SigPnd (the thread's own pending set: tgkill's SIGUSR2, 0x800), ShdPnd (the process's: kill's
 * SIGUSR1, 0x200), SigBlk, SigIgn (SIGPIPE, 0x1000) and SigCgt (SIGINT, 0x2), each 16 hex digits,
 * in that order before CapInh, both eras alike. A forked zombie keeps its blocked mask and
 * actions (not the parent's pending signals: fork does not inherit them).
 */
const lines = (s: string): string[] => s.split('\n').filter((l) => l.length > 0);

describe.skipIf(shouldSkipUnicornTests())('/proc/<pid>/status signal lines (sigstatus.c)', () => {
  for (const profile of ['rfc-v4', 'mainline'] as const) {
    it(`Threads, SigPnd, ShdPnd, SigBlk, SigIgn, SigCgt (${profile})`, () => {
      const r = runElf({ elf: guestBinary('sigstatus'), bind: null, profile });
      expect(lines(r.stdout), profile).toEqual([
        'order Threads SigQ SigPnd ShdPnd SigBlk SigIgn SigCgt CapInh: yes',
        'start: SigPnd 0000000000000000 ShdPnd 0000000000000000 SigBlk 0000000000000000 SigIgn 00000000 SigCgt 00000000',
        'set: SigPnd 0000000000000800 ShdPnd 0000000000000200 SigBlk 0000000000000a00 SigIgn 00001000 SigCgt 00000002',
        'two threads: Threads 2',
        'zombie: Threads 1 SigPnd 0000000000000000 ShdPnd 0000000000000000 SigBlk 0000000000000a00 SigIgn 00001000 SigCgt 00000002',
      ]);
      expect(r.exitStatus, profile).toBe(0);
      expect(r.unknownSyscalls, profile).toEqual({});
    });
  }
});
