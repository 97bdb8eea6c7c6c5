/**
 * Whose mm->locked_vm type1 uncharges when a mapping's pages are unpinned (`type1LockAcct`):
 * 3.14 vfio_lock_acct(-unlocked) takes current->mm, the process making the call; mainline's
 * vfio_lock_acct(dma, -n, true) the mapping's own dma->mm. The two differ as soon as another
 * process holds the container: a fork child with the parent's fds (copy_files -> dup_fd),
 * issuing real UNMAP_DMA / MAP_DMA ioctls and closes.
 */
import { describe, expect, it } from 'vitest';
import { System } from '../../tools/system/system.js';
import {
  ENOMEM, MAP_ANONYMOUS, O_RDONLY, MAP_PRIVATE, PROT_READ, PROT_WRITE, VFIO_DMA_MAP_FLAG_READ as R, VFIO_DMA_MAP_FLAG_WRITE as W,
  VFIO_GROUP_SET_CONTAINER, VFIO_SET_IOMMU, VFIO_TYPE1_IOMMU,
} from '../uapi/index.js';
import { PL330, User, bindToVfio } from './platform/testing/user.js';

const P = 4096;
/** RLIMIT_MEMLOCK of both processes: 16 pages, and neither has CAP_IPC_LOCK */
const LIMIT = { capIpcLock: false, memlock: 16 * P };

interface Pair {
  parent: User;
  child: User;
  c: number;
  g: number;
  /** 32 pages of anonymous memory in each process */
  pbuf: number;
  cbuf: number;
}

/** the parent sets up a type1 container with the PL330's group and maps 16 pages at IOVA 0, then forks */
function forked(profile: string): Pair {
  const sys = new System({ profile });
  const parent = new User(sys, 'parent', LIMIT);
  expect(bindToVfio(parent, PL330)).toBeGreaterThan(0);
  const c = parent.open('/dev/vfio/vfio');
  const g = parent.open('/dev/vfio/0');
  parent.mem.write32(parent.page, c);
  expect(parent.ioctl(g, VFIO_GROUP_SET_CONTAINER, parent.page)).toBe(0);
  expect(parent.ioctl(c, VFIO_SET_IOMMU, VFIO_TYPE1_IOMMU)).toBe(0);
  const anon = (u: User): number => u.call('mmap2', [0, 32 * P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0]);
  const pbuf = anon(parent);
  expect(parent.mapDma(c, R | W, pbuf, 0, 16 * P)).toBe(0);
  expect(parent.proc.mm.lockedVm).toBe(16);
  const child = new User(sys, 'child', LIMIT);
  parent.proc.copyFdsTo(child.proc);
  return { parent, child, c, g, pbuf, cbuf: anon(child) };
}

const locked = (x: Pair): [number, number] => [x.parent.proc.mm.lockedVm, x.child.proc.mm.lockedVm];
/** the VmLck line's value in the process's own /proc/self/status */
const vmLck = (u: User): string => /^VmLck:\t(.*)$/m.exec(String(u.cat('/proc/self/status')))?.[1] ?? 'none';
const memlockWarnings = (x: Pair): number => x.parent.sys.kernel.log.lines().filter((l) => l.includes('RLIMIT_MEMLOCK')).length;

describe('type1 locked_vm when another process unpins (type1LockAcct)', () => {
  it('3.14 (rfc-v4): the child\'s UNMAP_DMA uncharges the child, below zero; the parent stays charged and hits RLIMIT_MEMLOCK, the child too (an unsigned long)', () => {
    const x = forked('rfc-v4');
    expect(x.child.unmapDma(x.c, 0, 16 * P)).toBe(0);
    expect(x.parent.sys.type1!.instances[0]!.dmas).toHaveLength(0);
    expect(locked(x)).toEqual([16, -16]);
    // what each process reads in /proc/self/status: the child's unsigned long wrapped
    expect(vmLck(x.parent)).toBe('      64 kB');
    expect(vmLck(x.child)).toBe('4294967232 kB');
    // the pages are unpinned all the same (put_pfn): no page of the mapping keeps a pin
    expect(x.parent.proc.mm.pinnedThrough).toBe(0);
    // the parent's 16 stale pages fill its limit: its next mapping fails at the first page
    expect(x.parent.mapDma(x.c, R | W, x.pbuf, 0, P)).toBe(-ENOMEM);
    expect(memlockWarnings(x)).toBe(1);
    // the child's wrapped locked_vm + 1 passes any limit (vfio_pin_pages compares unsigned longs)
    expect(x.child.mapDma(x.c, R | W, x.cbuf, 0x100000, P)).toBe(-ENOMEM);
    expect(memlockWarnings(x)).toBe(2);
    expect(locked(x)).toEqual([16, -16]);
  });

  it('3.14 (rfc-v4): a child that maps its own pages first, then unmaps the parent\'s, pins twice its RLIMIT_MEMLOCK', () => {
    for (const [profile, second] of [['rfc-v4', 0], ['mainline', -ENOMEM]] as const) {
      const x = forked(profile);
      expect(x.child.mapDma(x.c, R | W, x.cbuf, 0x100000, 16 * P), profile).toBe(0);
      expect(x.child.unmapDma(x.c, 0, 16 * P), profile).toBe(0);
      // 3.14: the parent's 16 pages came off the child's count, which is back to 0
      expect(locked(x), profile).toEqual(profile === 'rfc-v4' ? [16, 0] : [0, 16]);
      expect(x.child.mapDma(x.c, R | W, x.cbuf + 16 * P, 0x200000, 16 * P), profile).toBe(second);
      // 32 pages pinned through the child against a 16-page limit on 3.14
      expect(x.child.proc.mm.pinnedThrough, profile).toBe(profile === 'rfc-v4' ? 32 : 16);
    }
  });

  it('mainline: the mapping\'s own mm is uncharged whoever unmaps; the parent can map again, the child is held to its limit', () => {
    const x = forked('mainline');
    expect(x.child.unmapDma(x.c, 0, 16 * P)).toBe(0);
    expect(locked(x)).toEqual([0, 0]);
    expect([vmLck(x.parent), vmLck(x.child)]).toEqual(['       0 kB', '       0 kB']);
    expect(x.parent.mapDma(x.c, R | W, x.pbuf, 0, 16 * P)).toBe(0);
    expect(x.child.mapDma(x.c, R | W, x.cbuf, 0x100000, 32 * P)).toBe(-ENOMEM);
    expect(locked(x)).toEqual([16, 0]);
  });

  it('the container\'s release by the child\'s last close: 3.14 uncharges the child, mainline the parent', () => {
    for (const [profile, want] of [['rfc-v4', [16, -16]], ['mainline', [0, 0]]] as const) {
      const x = forked(profile);
      // the parent lets go of its fds: the child's references keep the group in the container
      expect(x.parent.call('close', [x.g])).toBe(0);
      expect(x.parent.call('close', [x.c])).toBe(0);
      expect(x.parent.sys.type1!.instances).toHaveLength(1);
      // the child's close of the group fd is the last group leaving: vfio_iommu_type1_release
      expect(x.child.call('close', [x.g])).toBe(0);
      expect(x.parent.sys.type1!.instances).toHaveLength(0);
      expect(locked(x), profile).toEqual(want);
    }
  });

  it('the mapper unmapping its own mapping is uncharged in both', () => {
    for (const profile of ['rfc-v4', 'mainline']) {
      const x = forked(profile);
      expect(x.parent.unmapDma(x.c, 0, 16 * P)).toBe(0);
      expect(locked(x), profile).toEqual([0, 0]);
    }
  });

  it('a process\'s exit releases its mappings against its own mm: the counts balance to zero', () => {
    for (const profile of ['rfc-v4', 'mainline']) {
      const x = forked(profile);
      x.parent.sys.syscalls.exitProcess(x.parent.proc);
      expect(x.parent.sys.type1!.instances, profile).toHaveLength(1);
      x.parent.sys.syscalls.exitProcess(x.child.proc);
      expect(x.parent.sys.type1!.instances, profile).toHaveLength(0);
      // 3.14: the child's exit released the container, current is the child; mainline: dma->mm
      expect(locked(x), profile).toEqual(profile === 'rfc-v4' ? [16, -16] : [0, 0]);
    }
  });
});

describe('SyscallLayer.current', () => {
  it('is the calling process during a syscall, null between them (also after an exception)', () => {
    const sys = new System({ profile: 'rfc-v4' });
    const u = new User(sys, 'u');
    expect(sys.syscalls.current).toBeNull();
    let seen: unknown = 'never';
    sys.vfs.addProcFile('current-probe', () => {
      seen = sys.syscalls.current;
      return 'x\n';
    });
    const fd = u.open('/proc/current-probe', O_RDONLY);
    expect(fd).toBeGreaterThanOrEqual(0);
    expect(u.call('read', [fd, u.page + 0x800, 16])).toBe(2);
    expect(seen).toBe(u.proc);
    expect(sys.syscalls.current).toBeNull();
    // an exception out of the call (the test's own) leaves current as it was
    sys.vfs.addProcFile('throws', () => {
      throw new Error('probe');
    });
    const bad = u.open('/proc/throws', O_RDONLY);
    expect(() => u.call('read', [bad, u.page + 0x800, 16])).toThrow('probe');
    expect(sys.syscalls.current).toBeNull();
  });
});
