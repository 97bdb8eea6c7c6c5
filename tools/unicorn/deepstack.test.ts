import { describe, expect, it } from 'vitest';
import { guestBinary, shouldSkipUnicornTests } from '../../emulator/cpu/unicorn/testing/guest-build.js';
import { runElf } from './run.js';

/**
 * Deep stacks and a fork of a process with a big heap under Unicorn (guest-tests/c/deepstack.c):
 * 7 MiB of the 8 MiB stack touched by recursion, on the main thread's stack or a pthread's, stays a few dozen
 * Unicorn regions (a stack's pages take the frames below the ones before them: kernel-model/exec/space.ts allocFor; the
 * mirror merges them: emulator/cpu/unicorn/engine.ts demandFault), and a fork child of a
 * process holding 4 MiB of heap in 64 runs gets its copy-on-write pages mirrored as it
 * touches them (engine.ts cowTouched), not 1024 regions at the fork; a fork child reading 16 MiB of still-shared
 * heap and then the parent reading it back stay within the region limit (still-shared pages merged into runs, a
 * write splitting off its page: emulator/cpu/unicorn/cow-runs.ts). Both eras.
 */
const lines = (s: string): string[] => s.split('\n').filter((l) => l.length > 0);

describe.skipIf(shouldSkipUnicornTests())('deep stacks and fork with a big heap (deepstack.c)', () => {
  for (const profile of ['rfc-v4', 'mainline']) {
    it(`${profile}: 7 MiB of stack in a few regions, of a thread's stack too; a fork child of a 4 MiB heap runs`, () => {
      const stack = runElf({ elf: guestBinary('deepstack'), args: ['stack'], bind: null, profile });
      expect(stack.exitStatus, stack.exitReport).toBe(0);
      // recurse(1792): frame bytes depth & 0xff and depth >> 8 summed over 1..1792, plus recurse(0)'s 0
      let sum = 0;
      for (let d = 1; d <= 1792; d++) sum += (d & 0xff) + ((d >> 8) & 0xff);
      expect(lines(stack.stdout)).toEqual([`stack: 7168 KiB, sum ${sum}`]);
      // 1792 stack pages: one region per page before (past REGION_LIMIT, 960); now a region per
      // 64 KiB RAM chunk of a run (engine.ts mapRun), about 112, plus the program's others
      expect(stack.peakRegions).toBeLessThan(200);
      // the same on a thread's 8 MiB stack (an anonymous private mapping): before, SIGSEGV at the region limit
      const thread = runElf({ elf: guestBinary('deepstack'), args: ['thread'], bind: null, profile });
      expect(thread.exitStatus, thread.exitReport).toBe(0);
      expect(lines(thread.stdout)).toEqual([`thread: 7168 KiB, sum ${sum}`]);
      expect(thread.peakRegions).toBeLessThan(200);
      const fork = runElf({ elf: guestBinary('deepstack'), args: ['fork'], bind: null, profile });
      expect(fork.exitStatus, fork.exitReport).toBe(0);
      expect(lines(fork.stdout)).toEqual(['fork: 4096 KiB of heap, child exit 0, parent\'s chunks intact']);
      // the parent: a run per chunk touched, then the pages it touches after the fork
      expect(fork.peakRegions).toBeLessThan(400);
    });

    it(`${profile}: a fork child reads 16 MiB of the parent's heap, then writes some of it; the parent's heap stays intact`, () => {
      const r = runElf({ elf: guestBinary('deepstack'), args: ['cowread'], bind: null, profile });
      expect(r.exitStatus, r.exitReport).toBe(0);
      expect(lines(r.stdout)).toEqual(['cowread: 16384 KiB of heap, child exit 0, parent\'s heap intact']);
      // 3.14: the 4096 pages are still shared when child and parent read them: before, a region each, and both
      // died past REGION_LIMIT (960); now merged into runs (cow-runs.ts; 545 measured), about two regions per 64 KiB chunk of the
      // heap (malloc's header shifts the chunks off the RAM chunks), as many as the parent held before the fork
      expect(r.peakRegionsTree).toBeLessThan(600);
    });
  }
});
