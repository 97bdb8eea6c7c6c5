/**
 * fork: two processes holding the same container (the files, the memory, the reference model
 * following the shared files). Split from fuzz.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { SETUP_PREFIX } from './arb.js';
import { execCall, runProgram } from './engine.js';
import { Harness } from './harness.js';
import { formatCall, VFIO_REQS, type Call } from './program.js';
import type { Type1Iommu } from '../../kernel-model/vfio/type1.js';

describe('fork: two processes holding the same container', () => {
  const map4: Call = { op: 'ioctl', p: 0, fd: { k: 'container', i: 0 }, req: VFIO_REQS.VFIO_IOMMU_MAP_DMA, arg: { t: 'struct', type: 'vfio_iommu_type1_dma_map', fields: { argsz: 32, flags: 3, vaddr: { dma: 0 }, iova: 0, size: 0x4000 }, ptr: 'ok' } };
  const unmapBy = (p: number, flags = 0): Call => ({ op: 'ioctl', p, fd: { k: 'container', i: 0 }, req: VFIO_REQS.VFIO_IOMMU_UNMAP_DMA, arg: { t: 'struct', type: 'vfio_iommu_type1_dma_unmap', fields: { argsz: 24, flags, iova: 0, size: 0x4000 }, ptr: 'ok' } });
  const fork: Call = { op: 'fork', p: 0, into: 1 };

  it('the child gets the parent\'s files and memory at the same addresses; the slot\'s old process is gone', () => {
    const h = new Harness({ profile: 'mainline' });
    for (const c of [...SETUP_PREFIX, map4]) h.exec(c);
    const old = h.slots[1]!.proc;
    h.exec(fork);
    const [parent, child] = [h.slots[0]!, h.slots[1]!];
    expect(old.alive).toBe(false);
    expect(child.proc.openFds).toEqual(parent.proc.openFds);
    for (const fd of parent.proc.openFds) expect(child.proc.fdget(fd)).toBe(parent.proc.fdget(fd));
    expect([child.scratch, child.dma]).toEqual([parent.scratch, parent.dma]);
    // P1's credentials: no CAP_IPC_LOCK; locked_vm starts at 0
    expect([child.proc.capIpcLock, child.proc.mm.lockedVm, parent.proc.mm.lockedVm]).toEqual([false, 0, 4]);
    expect(formatCall(fork)).toBe('P0: fork(); /* the child is P1 */');
  });

  it('rfc-v4: the child\'s UNMAP_DMA of the parent\'s mapping is a locked-vm finding (3.14 vfio_lock_acct on current->mm); mainline runs clean', () => {
    const r = runProgram('rfc-v4', [...SETUP_PREFIX, map4, fork, unmapBy(1)]);
    expect(r.finding?.sig).toBe('locked-vm');
    expect(r.finding?.message).toMatch(/fuzz0\.\d+: locked_vm 4 pages, the live mappings account 0/);
    expect(runProgram('mainline', [...SETUP_PREFIX, map4, fork, unmapBy(1)]).finding).toBeNull();
  });

  it('the parent\'s close of its fds does not release what the child still holds; the child\'s exit does', () => {
    const h = new Harness({ profile: 'mainline' });
    for (const c of [...SETUP_PREFIX, map4, fork]) h.exec(c);
    const it1 = h.sys.vfio.containerStates()[0]!.data as Type1Iommu;
    for (const k of ['device', 'group', 'container'] as const) h.exec({ op: 'close', p: 0, fd: { k, i: 0 } });
    expect(h.slots[0]!.proc.openFds.length).toBe(0);
    expect(it1.pinnedPages).toBe(4);
    h.exec({ op: 'exit', p: 1 });
    expect(it1.released).toBe(true);
    expect(() => h.finish()).not.toThrow();
  });

  it('mainline: the child takes the mapping over with VADDR (vfio_change_dma_owner), then its unmap uncharges it', () => {
    const h = new Harness({ profile: 'mainline' });
    for (const c of [...SETUP_PREFIX, map4, fork, unmapBy(0, 4)]) h.exec(c);
    const remap: Call = { op: 'ioctl', p: 1, fd: { k: 'container', i: 0 }, req: VFIO_REQS.VFIO_IOMMU_MAP_DMA, arg: { t: 'struct', type: 'vfio_iommu_type1_dma_map', fields: { argsz: 32, flags: 4, vaddr: { dma: 0 }, iova: 0, size: 0x4000 }, ptr: 'ok' } };
    expect(execCall(h, remap)).toBeNull();
    expect([h.slots[0]!.proc.mm.lockedVm, h.slots[1]!.proc.mm.lockedVm]).toEqual([0, 4]);
    expect(execCall(h, unmapBy(1))).toBeNull();
    expect(h.slots[1]!.proc.mm.lockedVm).toBe(0);
    expect(() => h.finish()).not.toThrow();
  });

  it('the reference model follows the shared files: it keeps comparing, and a release comes with the last fd in either process', () => {
    const h = new Harness({ profile: 'mainline', transcript: true });
    for (const c of [...SETUP_PREFIX, map4, fork]) h.exec(c);
    // the parent lets go of everything: nothing is released, the child's fds hold it all
    for (const k of ['device', 'group', 'container'] as const) expect(execCall(h, { op: 'close', p: 0, fd: { k, i: 0 } })).toBeNull();
    expect(h.model.lost).toBe(false);
    // the group is still open (the child's fd): a second open is refused, as the model predicts
    const reopen: Call = { op: 'open', p: 0, path: '/dev/vfio/0', flags: 2 };
    expect(execCall(h, reopen)).toBeNull();
    expect(h.transcript.at(-1)!.ret).toBe('-EBUSY');
    // the child's device fd and unmap work on the container the parent made
    expect(execCall(h, { op: 'ioctl', p: 1, fd: { k: 'group', i: 0 }, req: VFIO_REQS.VFIO_GROUP_GET_DEVICE_FD, arg: { t: 'str', s: '2c0a0000.dma', nul: true, ptr: 'ok' } })).toBeNull();
    expect(execCall(h, unmapBy(1))).toBeNull();
    expect(h.model.lost).toBe(false);
    // the child's closes release them: the model and the kernel agree at each step
    for (const k of ['device', 'device', 'group', 'container'] as const) expect(execCall(h, { op: 'close', p: 1, fd: { k, i: 0 } })).toBeNull();
    expect(h.sys.vfio.containerStates()).toHaveLength(0);
    expect(h.model.lost).toBe(false);
    expect(() => h.finish()).not.toThrow();
  });

  it('a device file another process\'s mapping still holds is not released at the exit that drops its last fd (found by a campaign): the model stops comparing', () => {
    const mmapDev: Call = { op: 'mmap', p: 0, fd: { k: 'device', i: 0 }, len: 0x1000, prot: 3, flags: 1, off: { region: 0, off: 0 } };
    const program: Call[] = [...SETUP_PREFIX, fork, mmapDev, { op: 'close', p: 0, fd: { k: 'device', i: 0 } }, fork];
    for (const profile of ['rfc-v4', 'mainline']) {
      const r = runProgram(profile, program);
      expect(r.finding, profile).toBeNull();
      // P0's mapping holds the device open after P1's exit took its last fd
      expect(r.harness.model.lost, profile).toBe(true);
    }
  });

  it('fork into the caller\'s own slot does nothing', () => {
    const h = new Harness({ profile: 'mainline' });
    for (const c of SETUP_PREFIX) h.exec(c);
    const p0 = h.slots[0]!.proc;
    h.exec({ op: 'fork', p: 0, into: 0 });
    expect(h.slots[0]!.proc).toBe(p0);
  });
});
