/**
 * The memory-map calls of a process on the Unicorn backend (LinuxAbi's dispatch, linux-abi.ts):
 * mmap2, munmap, mprotect and madvise are the kernel model's (SyscallLayer), and each tells the
 * CPU's mirror of the address space (space.ts ProcessGuestSpace.changed) which range may have
 * changed; brk(2) is served here on the process's mm (mm/mmap.c sys_brk).
 */
import type { SyscallResult, UnicornThread } from '../../emulator/cpu/unicorn/thread.js';
import { MAP_PRIVATE, PROT_READ, PROT_WRITE } from '../process/mm.js';
import { PAGE_SIZE } from '../process/pages.js';
import { startGap } from '../process/stack-grow.js';
import { MADV_DONTNEED, MADV_DONTNEED_LOCKED, MADV_POPULATE_READ, MADV_POPULATE_WRITE } from '../process/vma.js';
import { MAP_ANONYMOUS, MAP_FIXED } from '../uapi/constants.js';
import { ARM_NR as N } from './arm-nr.js';
import type { LinuxAbi } from './linux-abi.js';

/** mmap2, munmap, mprotect, madvise (`nr`): the layer's answer, the mirror told what changed */
export function sysMmCall(abi: LinuxAbi, t: UnicornThread, nr: number, a: Uint32Array): SyscallResult {
  const r = abi.kernel(t, nr, a as unknown as number[]);
  switch (nr) {
    case N.mmap2:
      if (typeof r === 'number' && r >= 0) abi.space.changed(r, r + a[1]!);
      else if ((a[3]! & MAP_FIXED) !== 0) abi.space.changed(a[0]!, a[0]! + a[1]!);
      return r;
    case N.munmap:
    case N.mprotect:
      abi.space.changed(a[0]!, a[0]! + a[1]!);
      return r;
    case N.madvise: {
      // the mirror drops what DONTNEED zapped and takes what POPULATE faulted in (a refused
      // range changed nothing: unaligned or past user space); REMOVE zeroes frames in place
      const adv = a[2]! | 0;
      if ((adv === MADV_DONTNEED || adv === MADV_DONTNEED_LOCKED || adv === MADV_POPULATE_READ || adv === MADV_POPULATE_WRITE) && (a[0]! & 0xfff) === 0 && a[0]! + a[1]! <= 0x1_0000_0000) abi.space.changed(a[0]!, a[0]! + a[1]!);
      return r;
    }
  }
  return r;
}

/** brk(addr) (mm/mmap.c sys_brk): the heap VMA grows or shrinks to `addr`; a request that cannot be met returns the current break */
export function sysBrk(abi: LinuxAbi, addr: number): number {
  if (addr < abi.brkStart) return abi.brk;
  const mm = abi.mm;
  const oldTop = Math.ceil(abi.brk / PAGE_SIZE) * PAGE_SIZE;
  const newTop = Math.ceil(addr / PAGE_SIZE) * PAGE_SIZE;
  if (newTop > oldTop) {
    // the new heap range and the page above it must be free: 3.14 find_vma_intersection(mm,
    // oldbrk, newbrk + PAGE_SIZE) (read in 3.14.4 mm/mmap.c sys_brk); v6.12 the next VMA's
    // vm_start_gap, stack_guard_gap below a VM_GROWSDOWN one (read in 6.12.19 mm/mmap.c brk)
    const next = mm.mappings.find((v) => v.end > oldTop);
    if (next !== undefined && startGap(next, mm.stackGuard) < newTop + PAGE_SIZE) return abi.brk;
    const r = mm.mapRegion(oldTop, newTop - oldTop, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, true);
    if (typeof r === 'number') return abi.brk;
    abi.space.changed(oldTop, newTop);
  } else if (newTop < oldTop) {
    mm.munmap(newTop, oldTop - newTop);
    abi.space.changed(newTop, oldTop);
  }
  abi.brk = addr;
  mm.brk = addr;
  return addr;
}
