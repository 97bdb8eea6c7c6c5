import { describe, expect, it } from 'vitest';
import { guestBinary, shouldSkipUnicornTests } from '../../emulator/cpu/unicorn/testing/guest-build.js';
import { DEFAULT_DEVICE, runElf, type UnicornRunResult } from './run.js';

/**
 * fork and a DMA-pinned buffer, end to end on the Unicorn backend (guest-tests/c/fork-dma-cow.c;
 * capability `forkPinnedPages`, kernel-model/process/fork-cow.test.ts for the model alone).
 * The parent pins a 3-page buffer with MAP_DMA (page 0 pattern A, page 1 zeros, page 2 the
 * PL330's program), forks a child that only waits on a pipe, overwrites page 0 with pattern B by
 * ordinary ARM stores, and has the PL330 copy page 0's IOVA to page 1's.
 *  - 3.14 (rfc-v4): fork shared every private page, the pinned ones too, copy-on-write (copy_one_pte); the Unicorn
 *    mirror maps page 0 read-only, the parent's first store takes a write-protection fault and
 *    do_wp_page gives the parent a copy: the device still reads the frame the child kept, the
 *    old data ("dma saw: old"). Page 1 stays shared by both processes (neither wrote it), so
 *    the child sees the device's write there too.
 *  - v6.12 (mainline): copy_present_page copied the pinned pages for the child at fork
 *    (commit 70e806e4e645); the parent's frames are the pinned ones: "dma saw: new", and the
 *    child's page 1 is its own copy, still zero.
 *  - MADV_DONTFORK (VM_DONTCOPY, what QEMU does for its guest RAM): the child gets no copy of
 *    the buffer at all, and both eras read the new data.
 *  - pinafter: the fork first, then MAP_DMA of page 0 without the WRITE flag (a read-only
 *    get_user_pages). 3.14 shared every private page at fork, and the read-only pin takes the
 *    shared frame: the parent's stores get a copy, the device reads the old data. v6.12 unshares
 *    the page for the read-only pin (commit a7f226604170; the model copied it at fork).
 */
const skip = shouldSkipUnicornTests();
const GROUP = '/dev/vfio/0';

const lines = (s: string): string[] => s.split('\n').filter((l) => l.length > 0);

type Mode = 'fork' | 'dontfork' | 'childfirst' | 'pinafter';

function run(profile: string, mode: Mode | boolean): UnicornRunResult {
  const m: Mode = mode === true ? 'dontfork' : mode === false ? 'fork' : mode;
  const r = runElf({ elf: guestBinary('fork-dma-cow'), args: [GROUP, DEFAULT_DEVICE, ...(m !== 'fork' ? [m] : [])], profile });
  const what = `${profile} ${m}: ${r.exitReport}\n${r.stdout}${r.stderr}`;
  expect(r.bind?.ok, what).toBe(true);
  expect(r.bind?.groupPath, what).toBe(GROUP);
  expect(r.exitStatus, what).toBe(0);
  expect(r.unknownSyscalls, what).toEqual({});
  // the parent and the child it reaped, both exited 0 (the administrator's binding first)
  expect(r.processes.filter((p) => p.name === 'fork-dma-cow').map((p) => p.status), what).toEqual([0, 0]);
  // the program waited for the completion interrupt (it exits 1 without it): the line was taken
  expect(r.irqTakes, what).toBeGreaterThanOrEqual(1);
  return r;
}

/** the program's lines: MAP_DMA flags per era (the 2014 EXEC flag, taken at run time), then the outcome */
function expected(profile: string, mode: Mode | boolean, dma: 'old' | 'new', child: string): string[] {
  const m: Mode = mode === true ? 'dontfork' : mode === false ? 'fork' : mode;
  return [
    profile === 'mainline' ? 'MAP_DMA 3 pages at iova 0x0: flags 0x3 (READ|WRITE)' : 'MAP_DMA 3 pages at iova 0x0: flags 0x7 (READ|WRITE|EXEC)',
    `mode: ${m}`,
    'parent: page 0 B',
    `parent: page 1 ${dma === 'old' ? 'A' : 'B'} after the DMA`,
    `dma saw: ${dma}`,
    child,
    'done',
  ];
}

describe.skipIf(skip)('guest-tests/c/fork-dma-cow.c: which frame the PL330 reads after the parent writes its pinned buffer while a fork child maps it', () => {
  it('3.14 (rfc-v4): the parent\'s write breaks the copy-on-write sharing, the device reads the old page the child kept', () => {
    const r = run('rfc-v4', false);
    // the child sees A in page 0 (the pinned frame the device read) while the parent sees B, and
    // A in page 1: one frame, shared by parent, child and the device's write
    expect(lines(r.stdout)).toEqual(expected('rfc-v4', false, 'old', 'child: page 0 A, page 1 A'));
  });

  it('v6.12 (mainline): fork copied the pinned pages for the child, the device reads the parent\'s new data', () => {
    const r = run('mainline', false);
    // the child's pages are its copies from fork time: A, and page 1 still zero
    expect(lines(r.stdout)).toEqual(expected('mainline', false, 'new', 'child: page 0 A, page 1 zero'));
  });

  it('the child writes first: in 3.14 the child\'s store gets it the copy (a copy-on-write break in a fresh engine) and the parent, last mapper of the pinned frame, writes it in place; the device reads the new data in both eras', () => {
    // rfc-v4: page 1 is still one frame for parent, child and the device's write (B)
    expect(lines(run('rfc-v4', 'childfirst').stdout)).toEqual(expected('rfc-v4', 'childfirst', 'new', 'child: page 0 C, page 1 B'));
    expect(lines(run('mainline', 'childfirst').stdout)).toEqual(expected('mainline', 'childfirst', 'new', 'child: page 0 C, page 1 zero'));
  });

  it('a read-only pin after the fork (pinafter): 3.14 pins the frame parent and child still share, so the parent\'s stores go to a copy and the device reads the old data; v6.12 pins the parent\'s own page', () => {
    const mapLine = (p: string): string =>
      p === 'mainline' ? 'MAP_DMA after the fork: page 0 flags 0x1 (READ), pages 1-2 flags 0x3 (READ|WRITE)' : 'MAP_DMA after the fork: page 0 flags 0x5 (READ|EXEC), pages 1-2 flags 0x7 (READ|WRITE|EXEC)';
    for (const [profile, dma] of [['rfc-v4', 'old'], ['mainline', 'new']] as const) {
      // the write pin of pages 1-2 broke their sharing first (FOLL_WRITE): the child's page 1 is its own, zero
      expect(lines(run(profile, 'pinafter').stdout), profile).toEqual([
        'mode: pinafter',
        mapLine(profile),
        'parent: page 0 B',
        `parent: page 1 ${dma === 'old' ? 'A' : 'B'} after the DMA`,
        `dma saw: ${dma}`,
        'child: page 0 A, page 1 zero',
        'done',
      ]);
    }
  });

  it('MADV_DONTFORK: the child gets no copy of the buffer, both eras read the new data', () => {
    for (const profile of ['rfc-v4', 'mainline']) {
      const r = run(profile, true);
      expect(lines(r.stdout), profile).toEqual(expected(profile, true, 'new', 'child: buffer not inherited'));
    }
  });
});
