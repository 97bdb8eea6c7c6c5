/**
 * MAP_GROWSDOWN mappings and get_user_pages below a VM_GROWSDOWN VMA, in both eras, through
 * real syscalls (mmap2, VFIO_IOMMU_MAP_DMA) of a process of the System:
 * - mmap (read in 3.14.4 mm/mmap.c do_mmap_pgoff, 6.12.19 do_mmap): MAP_GROWSDOWN only for
 *   private anonymous memory, -EINVAL otherwise; the VMA grows on faults below it as the [stack]
 *   does (stack-grow.ts, capability `stackGuard`);
 * - VFIO type1's pinning of a vaddr just below it (capability `gupStackExpand`): 3.14's
 *   find_extend_vma grows it (then the guard page's fault grows it a page further), v6.12's
 *   gup_vma_lookup does not (-EFAULT).
 */
import { describe, expect, it } from 'vitest';
import { System } from '../../tools/system/system.js';
import {
  EFAULT, EINVAL, ENOMEM, MAP_ANONYMOUS, MAP_FIXED, MAP_GROWSDOWN, MAP_PRIVATE, MAP_SHARED, O_CREAT, O_RDWR, PROT_READ, PROT_WRITE,
  VFIO_DMA_MAP_FLAG_READ as R, VFIO_DMA_MAP_FLAG_WRITE as W,
} from '../uapi/index.js';
import { PL330, User, bindToVfio, openDevice } from '../vfio/platform/testing/user.js';
import { trap } from './testing/trap.js';

const P = 4096;
const RW = PROT_READ | PROT_WRITE;
/** a MAP_GROWSDOWN mapping of 4 pages here, nothing mapped in the 1024 pages below it */
const AT = 0x60000000;

function user(profile: string): User {
  return new User(new System({ profile }), 'gd', { capIpcLock: true });
}

function growsDownAt(u: User, addr = AT): number {
  return u.call('mmap2', [addr, 4 * P, RW, MAP_PRIVATE | MAP_ANONYMOUS | MAP_GROWSDOWN | MAP_FIXED, -1, 0]);
}

const vmaStart = (u: User, va: number): number | null => u.proc.mm.find(va)?.start ?? null;

/** a type1 container holding the PL330's group */
function container(u: User): number {
  expect(bindToVfio(u, PL330)).toBeGreaterThan(0);
  return openDevice(u, PL330).container;
}

describe('MAP_GROWSDOWN (mm/mmap.c do_mmap)', () => {
  for (const profile of ['rfc-v4', 'mainline']) {
    it(`private anonymous only: a file or a shared mapping is -EINVAL; the VMA grows on a fault below it (${profile})`, () => {
      const u = user(profile);
      const fd = u.open('/tmp/gd', O_RDWR | O_CREAT);
      expect(u.call('mmap2', [0, P, PROT_READ, MAP_PRIVATE, fd, 0]), profile).toBeGreaterThan(0);
      expect(u.call('mmap2', [0, P, PROT_READ, MAP_PRIVATE | MAP_GROWSDOWN, fd, 0]), profile).toBe(-EINVAL);
      expect(u.call('mmap2', [0, P, RW, MAP_SHARED | MAP_ANONYMOUS | MAP_GROWSDOWN, -1, 0]), profile).toBe(-EINVAL);
      expect(growsDownAt(u), profile).toBe(AT);
      expect(u.proc.mm.find(AT)!.growsDown, profile).toBe(true);
      // a write 3 pages below the mapping grows it to that page; in 3.14 that page is the new
      // guard page, whose first fault grows the VMA a page further (check_stack_guard_page)
      expect(trap(() => u.proc.mm.storeU(AT - 3 * P + 8, 4, 0x1234)), profile).toBe('none');
      expect(vmaStart(u, AT), profile).toBe(profile === 'rfc-v4' ? AT - 4 * P : AT - 3 * P);
      expect(u.proc.mm.loadU(AT - 3 * P + 8, 4), profile).toBe(0x1234);
      // without the flag: no growth, SIGSEGV
      expect(u.call('mmap2', [AT + 0x1000000, 4 * P, RW, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0]), profile).toBe(AT + 0x1000000);
      expect(trap(() => u.proc.mm.storeU(AT + 0x1000000 - P, 4, 1)), profile).toBe('SIGSEGV');
    });
  }

  it('the guard of each era (stackGuard): 3.14 SIGBUS at the guard page with a mapping right below; v6.12 SIGSEGV within stack_guard_gap of it', () => {
    const old = user('rfc-v4');
    expect(old.call('mmap2', [AT - P, P, RW, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0])).toBe(AT - P);
    expect(growsDownAt(old)).toBe(AT);
    // 3.14: the lowest page is the guard page; a mapping that does not grow down ends right below
    expect(trap(() => old.proc.mm.storeU(AT + 8, 4, 1))).toBe('SIGBUS');
    expect(trap(() => old.proc.mm.storeU(AT + P + 8, 4, 1))).toBe('none');
    const now = user('mainline');
    expect(now.call('mmap2', [AT - 300 * P, P, RW, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0])).toBe(AT - 300 * P);
    expect(growsDownAt(now)).toBe(AT);
    // v6.12: no guard page; growth refused within 256 pages of the accessible mapping below
    expect(trap(() => now.proc.mm.storeU(AT + 8, 4, 1))).toBe('none');
    expect(trap(() => now.proc.mm.storeU(AT - 44 * P, 4, 1))).toBe('SIGSEGV');
    expect(trap(() => now.proc.mm.storeU(AT - 43 * P, 4, 1))).toBe('none');
    expect(vmaStart(now, AT)).toBe(AT - 43 * P);
  });
});

describe('get_user_pages below a VM_GROWSDOWN VMA (gupStackExpand): VFIO type1 MAP_DMA', () => {
  it('3.14 (rfc-v4): find_extend_vma grows the VMA to the page, whose guard-page fault grows it one more; the page is pinned', () => {
    const u = user('rfc-v4');
    const c = container(u);
    expect(growsDownAt(u)).toBe(AT);
    expect(u.mapDma(c, R | W, AT - P, 0, P)).toBe(0);
    expect(vmaStart(u, AT)).toBe(AT - 2 * P);
    expect(u.proc.mm.pinnedThrough).toBe(1);
    // five pages below: grown there too
    expect(u.mapDma(c, R | W, AT - 7 * P, 0x10000, P)).toBe(0);
    expect(vmaStart(u, AT)).toBe(AT - 8 * P);
  });

  it('v6.12 (mainline): gup_vma_lookup does not grow it: -EFAULT, the VMA as it was, nothing pinned', () => {
    const u = user('mainline');
    const c = container(u);
    expect(growsDownAt(u)).toBe(AT);
    expect(u.mapDma(c, R | W, AT - P, 0, P)).toBe(-EFAULT);
    expect(vmaStart(u, AT)).toBe(AT);
    expect(u.proc.mm.pinnedThrough).toBe(0);
    // inside the VMA it pins as ever
    expect(u.mapDma(c, R | W, AT, 0, P)).toBe(0);
    expect(u.proc.mm.pinnedThrough).toBe(1);
  });

  it('3.14: expand_stack refuses the page a mapping below ends at; check_stack_guard_page refuses the guard page right above one (VM_FAULT_SIGBUS): -EFAULT', () => {
    const u = user('rfc-v4');
    const c = container(u);
    expect(u.call('mmap2', [AT - 3 * P, P, RW, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0])).toBe(AT - 3 * P);
    expect(growsDownAt(u)).toBe(AT);
    expect(u.mapDma(c, R | W, AT - 2 * P, 0, P)).toBe(-EFAULT);
    expect(vmaStart(u, AT)).toBe(AT);
    // a page higher: grown to it, and its guard-page fault grows the VMA down to the mapping (expand_downwards)
    expect(u.mapDma(c, R | W, AT - P, 0, P)).toBe(0);
    expect(vmaStart(u, AT)).toBe(AT - 2 * P);
    // the new guard page, right above the mapping: VM_FAULT_SIGBUS, -EFAULT
    expect(u.mapDma(c, R | W, AT - 2 * P, 0x10000, P)).toBe(-EFAULT);
    expect(u.proc.mm.pinnedThrough).toBe(1);
  });
});

describe('where mmap places a mapping above a VM_GROWSDOWN VMA\'s gap (get_unmapped_area)', () => {
  it('3.14 counts from vm_start; v6.12 from vm_start_gap, stack_guard_gap (256 pages) below it', () => {
    for (const [profile, want] of [['rfc-v4', 'below'], ['mainline', 'above']] as const) {
      const u = user(profile);
      // a free range of 300 pages with a MAP_GROWSDOWN mapping on top
      const base = u.call('mmap2', [0, 304 * P, RW, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0]);
      expect(u.call('munmap', [base, 300 * P]), profile).toBe(0);
      expect(u.call('mmap2', [base + 300 * P, 4 * P, RW, MAP_PRIVATE | MAP_ANONYMOUS | MAP_GROWSDOWN | MAP_FIXED, -1, 0]), profile).toBe(base + 300 * P);
      // 10 pages fit below the gap in both; 100 pages only below the VMA's start
      expect(u.call('mmap2', [0, 10 * P, RW, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0]), profile).toBe(base);
      const r = u.call('mmap2', [0, 100 * P, RW, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0]);
      expect(r, profile).toBe(want === 'below' ? base + 10 * P : base + 304 * P);
    }
  });
});

describe("mprotect's PROT_GROWSDOWN / PROT_GROWSUP (mm/mprotect.c)", () => {
  const GD = 0x01000000, GU = 0x02000000;
  for (const profile of ['rfc-v4', 'mainline']) {
    it(`PROT_GROWSDOWN from the VMA's start, -ENOMEM under it, -EINVAL on a plain VMA; PROT_GROWSUP -EINVAL; both -EINVAL first (${profile})`, () => {
      // read in 3.14.4 mm/mprotect.c sys_mprotect and 6.12.19 do_mprotect_pkey
      const u = user(profile);
      expect(growsDownAt(u), profile).toBe(AT);
      const mm = u.proc.mm;
      expect(u.call('mprotect', [AT + 2 * P, P, PROT_READ | GD]), profile).toBe(0);
      // the change covers [vm_start, end): the two pages under the asked one too, not the top one
      expect([AT, AT + P, AT + 2 * P, AT + 3 * P].map((va) => mm.find(va)?.prot), profile).toEqual([PROT_READ, PROT_READ, PROT_READ, RW]);
      // a hole under the VMA is skipped (start becomes vm_start), an end at or under it is -ENOMEM
      expect(u.call('mprotect', [AT - 2 * P, 3 * P, RW | GD]), profile).toBe(0);
      expect(mm.find(AT)?.prot, profile).toBe(RW);
      expect(mm.find(AT - P), profile).toBeNull();
      expect(u.call('mprotect', [AT - 2 * P, 2 * P, PROT_READ | GD]), profile).toBe(-ENOMEM);
      // ARM has no VM_GROWSUP: -EINVAL where the address is mapped, -ENOMEM where not
      expect(u.call('mprotect', [AT, P, PROT_READ | GU]), profile).toBe(-EINVAL);
      expect(u.call('mprotect', [AT - 2 * P, P, PROT_READ | GU]), profile).toBe(-ENOMEM);
      // both at once: -EINVAL before the address is looked at (unmapped here: -ENOMEM otherwise)
      expect(u.call('mprotect', [AT - 2 * P, P, PROT_READ | GD | GU]), profile).toBe(-EINVAL);
      expect(mm.find(AT + 3 * P)?.prot, profile).toBe(RW);
      // a VMA that does not grow down
      const plain = u.call('mmap2', [0, P, RW, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0]);
      expect(u.call('mprotect', [plain, P, PROT_READ | GD]), profile).toBe(-EINVAL);
      expect(mm.find(plain)?.prot, profile).toBe(RW);
    });

    it(`mprotect's order: a zero length is 0 before the prot bits; PROT_SEM accepted and not kept; another bit -EINVAL (${profile})`, () => {
      // read in 3.14.4 mm/mprotect.c sys_mprotect (arch_validate_prot, include/linux/mman.h) and 6.12.19 do_mprotect_pkey
      const u = user(profile);
      const mm = u.proc.mm;
      const PROT_SEM = 0x8;
      const plain = u.call('mmap2', [0, P, RW, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0]);
      expect(u.call('mprotect', [plain, 0, 0x40]), profile).toBe(0);
      expect(u.call('mprotect', [plain + 1, 0, PROT_READ]), profile).toBe(-EINVAL);
      expect(u.call('mprotect', [plain, P, PROT_READ | PROT_SEM]), profile).toBe(0);
      expect(mm.find(plain)?.prot, profile).toBe(PROT_READ);
      expect(u.call('mprotect', [plain, P, RW | 0x40]), profile).toBe(-EINVAL);
      expect(mm.find(plain)?.prot, profile).toBe(PROT_READ);
    });
  }
});
