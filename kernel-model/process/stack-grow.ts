import { PAGE_MASK, PAGE_SHIFT, PAGE_SIZE } from './pages.js';
import type { Vma } from './vma.js';

/**
 * How a VM_GROWSDOWN VMA (the main thread's [stack], kernel-model/exec/load.ts) keeps its
 * distance from the mapping below it (capability `stackGuard`):
 * - 'guard-page' (3.14; read in 3.14.4 mm/mmap.c expand_stack / expand_downwards /
 *   acct_stack_growth, mm/memory.c check_stack_guard_page / do_anonymous_page,
 *   arch/arm/mm/fault.c __do_page_fault, fs/proc/task_mmu.c show_map_vma,
 *   include/linux/mm.h stack_guard_page_start): the VMA's lowest page is its guard page. A
 *   fault below the VMA grows it down to the page (expand_stack: refused, SIGSEGV, when the
 *   mapping below ends right there and does not grow down itself, or past RLIMIT_STACK). The
 *   first fault on the guard page (do_anonymous_page: the page not yet present) first grows
 *   the VMA a page further (expand_downwards, its failure ignored), or, when a mapping that
 *   does not grow down ends right below, fails with VM_FAULT_SIGBUS: SIGBUS (BUS_ADRERR).
 *   /proc/<pid>/maps starts the VMA a page higher unless a growing-down VMA ends below it.
 *   (Mainline later made that SIGBUS a SIGSEGV, "vm: make stack guard page errors return
 *   VM_FAULT_SIGSEGV rather than SIGBUS", v3.19, and 4.12 replaced the guard page by the gap;
 *   both from memory, not checked, nor whether a later 3.14.y took the first: the model
 *   follows 3.14.4 as read.)
 * - 'guard-gap' (v4.12+ stack_guard_gap; read in 6.12.19 mm/mmap.c expand_downwards /
 *   acct_stack_growth, `stack_guard_gap = 256UL<<PAGE_SHIFT`, mm/memory.c
 *   lock_mm_and_find_vma, arch/arm/mm/fault.c do_page_fault): no guard page; a fault below
 *   the VMA grows it unless the mapping below (one that does not grow down and is accessible:
 *   vma_is_accessible, any of read/write/exec) ends less than 256 pages (1 MiB) below the
 *   faulting page, or past RLIMIT_STACK: SIGSEGV (SEGV_MAPERR). maps shows the VMA as it is.
 * In both, the limit is the VMA's size from its end to the page (size > rlimit(RLIMIT_STACK):
 * -ENOMEM), checked at each growth (a lower limit set later stops the next growth, the VMA
 * already grown stays), and the page must lie at or above FIRST_USER_ADDRESS / mmap_min_addr
 * (the model's lowest user address, USER_BASE: a model limit).
 */
export type StackGuard = 'guard-page' | 'guard-gap';

/** v6.12 mm/mmap.c stack_guard_gap's default: 256 pages */
export const STACK_GUARD_GAP = 256 * PAGE_SIZE;

const USER_BASE = 0x10000;
const PROT_ACCESS = 7;

/**
 * expand_stack (`direct` false: the fault path's, 3.14's refusal of a page a mapping below
 * ends at) or expand_downwards (`direct`: 3.14 check_stack_guard_page's call): grow `vmas[i]`
 * (VM_GROWSDOWN) down to the page of `addr`. False: refused (-ENOMEM / -EPERM).
 */
export function expandDown(vmas: readonly Vma[], i: number, addr: number, guard: StackGuard, limit: number, direct = false): boolean {
  const v = vmas[i]!;
  const page = ((addr >>> 0) & ~PAGE_MASK) >>> 0;
  if (page < USER_BASE) return false;
  const prev = i > 0 ? vmas[i - 1]! : null;
  if (prev !== null && prev.growsDown !== true) {
    if (guard === 'guard-page') {
      if (!direct && prev.end === page) return false;
    } else if ((prev.prot & PROT_ACCESS) !== 0 && page - prev.end < STACK_GUARD_GAP) return false;
  }
  if (page >= v.start) return true;
  if (v.end - page > limit) return false; // acct_stack_growth: size > rlimit(RLIMIT_STACK)
  const n = (v.start - page) >>> PAGE_SHIFT;
  const len = (v.end - page) >>> PAGE_SHIFT;
  const ps = new Float64Array(len).fill(-1);
  ps.set(v.pages!, n);
  v.pages = ps;
  if (v.cow != null) {
    const c = new Uint8Array(len);
    c.set(v.cow, n);
    v.cow = c;
  }
  v.start = page;
  return true;
}

/**
 * The VMA a fault at `va` (in no VMA) grows into (the first VMA above it, when it grows down:
 * find_vma + VM_GROWSDOWN; expandDown), or null: SIGSEGV
 */
export function growFor(vmas: readonly Vma[], va: number, guard: StackGuard, limit: number): Vma | null {
  let i = 0;
  while (i < vmas.length && vmas[i]!.end <= va) i++;
  if (i === vmas.length || vmas[i]!.growsDown !== true) return null;
  return expandDown(vmas, i, va, guard, limit) ? vmas[i]! : null;
}

/**
 * 3.14 check_stack_guard_page for a fault on the not-present lowest page of `v` (VM_GROWSDOWN):
 * false (VM_FAULT_SIGBUS) when a mapping that does not grow down ends right below; otherwise
 * the VMA grows a page further if it may (expand_downwards; a refusal is ignored), true
 */
export function guardPageFault(vmas: readonly Vma[], v: Vma, limit: number): boolean {
  const i = vmas.indexOf(v);
  const prev = i > 0 ? vmas[i - 1]! : null;
  if (prev !== null && prev.end === v.start) return prev.growsDown === true;
  expandDown(vmas, i, v.start - PAGE_SIZE, 'guard-page', limit, true);
  return true;
}

/** vm_start_gap: where the free space above a mapping below `v` must end (6.12: a VM_GROWSDOWN VMA's start less the gap, 0 if that wraps) */
export function startGap(v: Vma, guard: StackGuard): number {
  return guard === 'guard-gap' && v.growsDown === true ? Math.max(0, v.start - STACK_GUARD_GAP) : v.start;
}

/** what /proc/<pid>/maps prints as the start of `v` (3.14 show_map_vma hides the guard page) */
export function shownStart(vmas: readonly Vma[], v: Vma, guard: StackGuard): number {
  if (guard !== 'guard-page' || v.growsDown !== true) return v.start;
  const i = vmas.indexOf(v);
  const prev = i > 0 ? vmas[i - 1]! : null;
  return prev !== null && prev.end === v.start && prev.growsDown === true ? v.start : v.start + PAGE_SIZE;
}
