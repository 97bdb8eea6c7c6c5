/**
 * The fuzzer's `store` call and the pinned-page invariant (`dma-stale-page`, Harness
 * checkPinnedFrames): the page a type1 mapping pinned must stay the page its process has at the
 * mapping's vaddr. 3.14 breaks it after a fork (copy_one_pte shares every private page, the
 * pinned one too, copy-on-write; the parent's write gets a copy: capability forkPinnedPages
 * 'cow-shared'), and with a read-only pin taken after the fork;
 * mainline copies a pinned page for the child at fork (copy_present_page). The C reproducer
 * shows the same with the PL330 on the Unicorn backend (tools/fuzz/emit-c.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { SETUP_PREFIX } from './arb.js';
import { runProgram } from './engine.js';
import { DEFAULT_SUPPRESSIONS, Harness } from './harness.js';
import { VFIO_REQS, formatCall, type Call } from './program.js';
import { validateFindingFile } from './schema.js';
import type { Type1Iommu } from '../../kernel-model/vfio/type1.js';

const map = (flags: number, page = 0, iova = 0, pages = 1): Call => ({
  op: 'ioctl',
  p: 0,
  fd: { k: 'container', i: 0 },
  req: VFIO_REQS.VFIO_IOMMU_MAP_DMA,
  arg: { t: 'struct', type: 'vfio_iommu_type1_dma_map', fields: { argsz: 32, flags, vaddr: { dma: page }, iova, size: pages * 4096 }, ptr: 'ok' },
});
const fork: Call = { op: 'fork', p: 0, into: 1 };
const store = (p: number, page = 0, value = 0x5ca1ab1e): Call => ({ op: 'store', p, page, off: 0x800, value });
// 3.14's locked_vm accounting after a fork (locked-vm, leak-locked-vm) is found at the end of these runs too
const ignore = new Set([...DEFAULT_SUPPRESSIONS, 'locked-vm', 'leak-locked-vm']);
const run = (profile: string, calls: Call[]) => runProgram(profile, [...SETUP_PREFIX, ...calls], { ignore });
const sig = (profile: string, calls: Call[]): string | null => run(profile, calls).finding?.sig ?? null;

describe('the store call and dma-stale-page', () => {
  it('rfc-v4: MAP_DMA, fork, then the parent\'s store: the pinned page is no longer the parent\'s, named with its slot, iova and pages', () => {
    const r = run('rfc-v4', [map(3), fork, store(0)]);
    expect(r.finding?.sig).toBe('dma-stale-page');
    expect(r.finding!.message).toMatch(/^fuzz0\.\d+: iova 0x0 is mapped \(read\) from vaddr 0x[0-9a-f]+, whose page was pinned at 0x([0-9a-f]+), but the process's page there is now 0x(?!\1)[0-9a-f]+: the device no longer sees the process's memory$/);
    // the store went to the parent's new page; the pinned page (the child's) kept its old bytes
    const h = r.harness;
    const p0 = h.slots[0]!;
    expect(p0.proc.mm.loadU(p0.dma + 0x800, 4)).toBe(0x5ca1ab1e);
    expect(h.slots[1]!.proc.mm.loadU(p0.dma + 0x800, 4)).toBe(0);
  });

  it('the same in every 2014 profile with type1; mainline (the pinned page copied for the child at fork) runs clean and the parent writes the pinned page', () => {
    for (const p of ['patches:1-7', 'patches:1-9']) expect(sig(p, [map(3), fork, store(0)]), p).toBe('dma-stale-page');
    expect(sig('mainline', [map(3), fork, store(0)])).toBeNull();
    // call by call (runProgram ends the processes at the end of a run): the parent's store went to the pinned page
    const h = new Harness({ profile: 'mainline', ignore });
    for (const c of [...SETUP_PREFIX, map(3), fork, store(0)]) h.exec(c);
    const p0 = h.slots[0]!;
    expect(p0.proc.mm.loadU(p0.dma + 0x800, 4)).toBe(0x5ca1ab1e);
    expect(h.slots[1]!.proc.mm.loadU(p0.dma + 0x800, 4)).toBe(0);
    // and the pinned page holds it (what the device reads)
    const t1 = h.sys.vfio.containerStates().find((c) => c.iommu === 'vfio-iommu-type1')!.data as Type1Iommu;
    const pa = t1.dmas[0]!.pa[0]! + 0x800;
    const ram = h.sys.machine.bus.ramAt(pa, 4)!;
    expect(ram.read32(pa - ram.base)).toBe(0x5ca1ab1e);
  });

  it('a read-only MAP_DMA after the fork: 3.14 pins the frame parent and child still share (every private page is shared at fork), and the parent\'s next store leaves it; a READ|WRITE pin breaks the sharing first; mainline runs clean', () => {
    const touch = store(0, 0, 0x11111111); // the page must exist at the fork to be shared
    expect(run('rfc-v4', [touch, fork, map(1), store(0)]).finding!.message).toMatch(/: iova 0x0 is mapped \(read\) from vaddr /);
    expect(sig('mainline', [touch, fork, map(1), store(0)])).toBeNull();
    expect(sig('rfc-v4', [touch, fork, map(3), store(0)])).toBeNull();
    // a page untouched at the fork is each process's own demand-zero page: nothing shared
    expect(sig('rfc-v4', [fork, map(1), store(0)])).toBeNull();
  });

  it('a write-only mapping is named "(write)" (the C probe then has the device write)', () => {
    expect(run('rfc-v4', [map(2, 0, 0x10000), fork, store(0)]).finding!.message).toMatch(/: iova 0x10000 is mapped \(write\) from vaddr /);
  });

  it('rfc-v4 controls that keep the pinned page the parent\'s: the store before the fork, the child\'s store, a store to a page not mapped, the child\'s exit before the parent\'s store (the last mapper writes in place), the child\'s store first', () => {
    expect(sig('rfc-v4', [map(3), store(0), fork])).toBeNull();
    expect(sig('rfc-v4', [map(3), fork, store(1)])).toBeNull();
    expect(sig('rfc-v4', [map(3), fork, store(0, 1)])).toBeNull();
    expect(sig('rfc-v4', [map(3), fork, { op: 'exit', p: 1 }, store(0)])).toBeNull();
    expect(sig('rfc-v4', [map(3), fork, store(1), store(0)])).toBeNull();
    // and a later page of a longer mapping is found like the first
    expect(run('rfc-v4', [map(3, 2, 0x20000, 4), fork, store(0, 5)]).finding!.message).toMatch(/: iova 0x23000 is mapped \(read\) from vaddr /);
  });

  it('after a raw syscall the check is off for the run (user space may have remapped its own memory under the mapping)', () => {
    expect(sig('rfc-v4', [{ op: 'raw', p: 2, nr: 20, args: [0, 0, 0, 0, 0, 0] }, map(3), fork, store(0)])).toBeNull();
  });

  it('formats as a line of C, and finding files validate its fields (a page of the DMA area, a word-aligned offset)', () => {
    expect(formatCall(store(2, 3, 0xdeadbeef))).toBe('P2: *(uint32_t *)(dma_area + 3 * 4096 + 0x800) = 0xdeadbeef;');
    const file = (c: Record<string, unknown>): unknown => ({ format: 'vfio-arm-emu-fuzz-finding', version: 1, profile: 'rfc-v4', sig: 'x', program: [c] });
    expect(() => validateFindingFile(file({ op: 'store', p: 0, page: 15, off: 4092, value: 0xffffffff }))).not.toThrow();
    expect(() => validateFindingFile(file({ op: 'store', p: 0, page: 16, off: 0, value: 0 }))).toThrow(/program\[0\]\.page: expected a whole number 0\.\.15/);
    expect(() => validateFindingFile(file({ op: 'store', p: 0, page: 0, off: 2, value: 0 }))).toThrow(/program\[0\]\.off: expected a multiple of 4/);
  });
});
