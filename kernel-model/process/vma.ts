import { EACCES, EINVAL, ENOMEM } from '../base/errno.js';
import { PC_SIGBUS, privateFilePage, type FileMapper } from './filemap.js';
import { dupMmap, type ForkOps, type ForkPinnedPages } from './dup-mmap.js';
import { madviseRange, MADV_DOFORK, MADV_DONTFORK, MADV_DONTNEED, type MadviseOps, type MadviseRemoveAccess } from './madvise.js';
import { PAGE_MASK, PAGE_SHIFT, PAGE_SIZE, type MemoryHost } from './pages.js';
import { growFor, guardPageFault, startGap, type StackGuard } from './stack-grow.js';
import { MAP_ANONYMOUS, MAP_SHARED, MMAP_BASE, PROT_EXEC, PROT_READ, PROT_WRITE, TASK_SIZE, USER_BASE, type ShmObject, type Vma } from './vma-types.js';

export * from './vma-types.js';
export { MADV_COLD, MADV_DODUMP, MADV_DOFORK, MADV_DONTDUMP, MADV_DONTFORK, MADV_DONTNEED, MADV_DONTNEED_LOCKED, MADV_FREE, MADV_KEEPONFORK, MADV_NORMAL, MADV_PAGEOUT, MADV_POPULATE_READ, MADV_POPULATE_WRITE, MADV_RANDOM, MADV_REMOVE, MADV_SEQUENTIAL, MADV_WILLNEED, MADV_WIPEONFORK, type MadviseRemoveAccess } from './madvise.js';

export type { ForkPinnedPages } from './dup-mmap.js';

/** resolve()'s failures */
export const R_UNMAPPED = -1;
export const R_PROT = -2;
export const R_NOMEM = -3;
/** a page wholly past the end of a mapped file (filemap.ts PC_SIGBUS) */
export const R_SIGBUS = PC_SIGBUS;

/**
 * The VMAs of a process address space and their pages (mm_struct's VMA tree and page tables):
 * mmap, munmap, mprotect, fork (dup_mmap, with 3.14's copy-on-write sharing of pinned pages),
 * madvise's VM_DONTCOPY, and the fault path that finds (or makes) the frame of an access.
 * AddressSpace (mm.ts) adds the user accessors, their translation cache, copy_{from,to}_user,
 * get_user_pages and the locked_vm counters.
 */
/** include/uapi/asm-generic/mman-common.h: mprotect's flags for a grows-down / grows-up VMA */
const PROT_GROWSDOWN = 0x01000000, PROT_GROWSUP = 0x02000000;
/** include/uapi/asm-generic/mman-common.h */
const PROT_SEM = 0x8;

export class VmaSpace implements FileMapper {
  /** mm->start_brk, mm->brk and mm->start_stack (what /proc/<pid>/maps calls [heap] and [stack]; 0: none), set by exec and brk */
  startBrk = 0;
  brk = 0;
  startStack = 0;
  /** the stack's guard (capability `stackGuard`) and rlimit(RLIMIT_STACK) (the process's; stack-grow.ts) */
  stackGuard: StackGuard = 'guard-page';
  stackLimit: () => number = () => 8 << 20;
  protected vmas: Vma[] = [];
  /**
   * the VMAs of the two latest lookups: a lookup cache, as Linux's per-thread vmacache
   * (mm/vmacache.c, 3.15-6.0) in front of the tree; a copy or compare loop alternates
   * between two mappings
   */
  protected last: Vma | null = null;
  protected prev: Vma | null = null;
  protected released = false;
  /**
   * told when a page's frame or write permission changes outside a syscall that changes the
   * VMAs (a fork sharing pages copy-on-write, a write breaking the sharing): the Unicorn
   * mirror (kernel-model/exec/space.ts) re-maps [start, end)
   */
  frameListener: ((start: number, end: number) => void) | null = null;
  /** told when instructions of [start, end) may have changed under the CPU (FileMapper.codeChanged): the mirror drops its translations */
  codeListener: ((start: number, end: number) => void) | null = null;

  codeChanged(start: number, end: number): void {
    this.codeListener?.(start, end);
  }

  constructor(readonly host: MemoryHost) {}

  get mappings(): readonly Vma[] {
    return this.vmas;
  }

  find(va: number): Vma | null {
    const l = this.last;
    if (l !== null && va >= l.start && va < l.end) return l;
    const p = this.prev;
    if (p !== null && va >= p.start && va < p.end) {
      this.prev = l;
      this.last = p;
      return p;
    }
    const vs = this.vmas;
    let lo = 0;
    let hi = vs.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const v = vs[mid]!;
      if (va < v.start) hi = mid - 1;
      else if (va >= v.end) lo = mid + 1;
      else {
        this.prev = l;
        this.last = v;
        return v;
      }
    }
    return null;
  }

  /**
   * first-fit search for a free range of len bytes at or above MMAP_BASE. With the guard gap
   * (capability `stackGuard` 'guard-gap'), a VM_GROWSDOWN VMA counts from stack_guard_gap below
   * its start (vm_start_gap, read in 6.12.19 mm/mmap.c unmapped_area / include/linux/mm.h); 3.14
   * counts from vm_start (read in 3.14.4 mm/mmap.c unmapped_area)
   */
  getUnmappedArea(len: number): number {
    let addr = MMAP_BASE;
    for (const v of this.vmas) {
      if (v.end <= addr) continue;
      if (startGap(v, this.stackGuard) >= addr + len) break;
      addr = v.end;
    }
    return addr + len <= TASK_SIZE ? addr : -ENOMEM;
  }

  /**
   * Create a VMA (do_mmap core). addr/len page aligned, checked by the caller. With
   * `fixed`, existing mappings in the range are unmapped first.
   */
  mapRegion(addr: number, len: number, prot: number, flags: number, fixed: boolean, pgoff = 0): Vma | number {
    if (this.released) return -ENOMEM;
    let start = addr;
    if (fixed) {
      if (addr < USER_BASE || addr + len > TASK_SIZE) return -ENOMEM;
      this.munmap(addr, len);
    } else {
      start = this.getUnmappedArea(len);
      if (start < 0) return start;
    }
    const pages = new Float64Array(len >>> PAGE_SHIFT).fill(-1);
    // mmap_region: a shared anonymous mapping is backed by a shmem object (shmem_zero_setup)
    const shm: ShmObject | null = (flags & (MAP_SHARED | MAP_ANONYMOUS)) === (MAP_SHARED | MAP_ANONYMOUS) ? { pages, refs: 1, mappers: [] } : null;
    const v: Vma = {
      start,
      end: start + len,
      prot,
      flags,
      kind: 'anon',
      pages,
      pfnBase: 0,
      pgoff,
      ref: null,
      shm,
      vmShared: (flags & MAP_SHARED) !== 0,
    };
    shm?.mappers.push({ space: this, v });
    this.insert(v);
    return v;
  }

  /** remap_pfn_range over a whole VMA: it becomes a device mapping of [pa, pa+len) */
  remapPfnRange(v: Vma, pa: number): void {
    this.flushTlb();
    this.dropPages(v, 0, (v.end - v.start) >>> PAGE_SHIFT);
    v.kind = 'pfn';
    v.pages = null;
    v.cow = null;
    this.shmPut(v);
    v.pfnBase = pa;
  }

  private insert(v: Vma): void {
    this.flushTlb();
    const vs = this.vmas;
    let i = 0;
    while (i < vs.length && vs[i]!.start < v.start) i++;
    vs.splice(i, 0, v);
  }

  private dropPages(v: Vma, from: number, to: number): void {
    this.flushTlb();
    const ps = v.pages;
    if (ps === null || v.shm != null) return; // a shared object's frames are the object's (shmPut)
    if (v.fcache != null) {
      // a file mapping: the cache's frames stay the cache's; a private copy is the VMA's
      const own = v.own ?? null;
      for (let i = from; i < to; i++) {
        if (own !== null && own[i] === 1) {
          own[i] = 0;
          this.host.pages.put(ps[i]!);
        }
        ps[i] = -1;
      }
      return;
    }
    const cow = v.cow ?? null;
    for (let i = from; i < to; i++) {
      const pa = ps[i]!;
      if (pa >= 0) {
        if (cow !== null && cow[i] === 1) {
          cow[i] = 0;
          this.unshare(pa);
        }
        this.host.pages.put(pa);
        ps[i] = -1;
      }
    }
  }

  /** the VMA lets go of its shared anonymous object; the last reference frees the object's frames */
  private shmPut(v: Vma): void {
    const o = v.shm;
    if (o == null) return;
    v.shm = null;
    const i = o.mappers.findIndex((m) => m.v === v);
    if (i >= 0) o.mappers.splice(i, 1);
    if (--o.refs > 0) return;
    const ps = o.pages;
    for (let i = 0; i < ps.length; i++) {
      const pa = ps[i]!;
      if (pa >= 0) {
        this.host.pages.put(pa);
        ps[i] = -1;
      }
    }
  }

  /** one mapper fewer of a copy-on-write shared frame (its page_mapcount) */
  private unshare(pa: number): void {
    const sh = this.host.pages.sharers;
    if (sh === undefined) return;
    const n = sh.get(pa) ?? 1;
    if (n > 2) sh.set(pa, n - 1);
    else sh.delete(pa);
  }

  /** split v at addr (page aligned, strictly inside); returns the upper part */
  private split(v: Vma, addr: number): Vma {
    this.flushTlb();
    const idx = (addr - v.start) >>> PAGE_SHIFT;
    const upper: Vma = {
      start: addr,
      end: v.end,
      prot: v.prot,
      flags: v.flags,
      kind: v.kind,
      // a shared object's pieces keep viewing the object's frames (one more reference)
      pages: v.pages ? (v.shm != null ? v.pages.subarray(idx) : v.pages.slice(idx)) : null,
      pfnBase: v.kind === 'pfn' ? v.pfnBase + (addr - v.start) : 0,
      pgoff: v.pgoff + idx,
      ref: v.ref,
      cow: v.cow ? v.cow.slice(idx) : null,
      dontCopy: v.dontCopy,
      wipeOnFork: v.wipeOnFork,
      vmShared: v.vmShared,
      growsDown: v.growsDown,
      shm: v.shm ?? null,
      file: v.file ?? null,
      own: v.own ? v.own.slice(idx) : null,
    };
    if (v.shm != null) {
      v.shm.refs++;
      v.shm.mappers.push({ space: this, v: upper });
    }
    v.fcache?.attach(this, upper);
    if (v.pages) v.pages = v.shm != null ? v.pages.subarray(0, idx) : v.pages.slice(0, idx);
    if (v.cow) v.cow = v.cow.slice(0, idx);
    if (v.own) v.own = v.own.slice(0, idx);
    v.end = addr;
    v.ref?.get();
    this.insert(upper);
    return upper;
  }

  /** VMAs fully inside [start, end) after splitting at the boundaries */
  private carve(start: number, end: number): Vma[] {
    for (const v of [...this.vmas]) {
      if (v.start < start && v.end > start) this.split(v, start);
    }
    for (const v of [...this.vmas]) {
      if (v.start < end && v.end > end) this.split(v, end);
    }
    return this.vmas.filter((v) => v.start >= start && v.end <= end);
  }

  munmap(addr: number, len: number): number {
    const end = addr + Math.ceil(len / PAGE_SIZE) * PAGE_SIZE;
    if ((addr & PAGE_MASK) !== 0 || len <= 0 || end > TASK_SIZE) return -EINVAL;
    const gone = this.carve(addr, end);
    for (const v of gone) this.removeVma(v);
    return 0;
  }

  private removeVma(v: Vma): void {
    this.flushTlb();
    this.dropPages(v, 0, v.pages ? v.pages.length : 0);
    this.shmPut(v);
    v.fcache?.detach(v);
    const i = this.vmas.indexOf(v);
    if (i >= 0) this.vmas.splice(i, 1);
    if (this.last === v) this.last = null;
    if (this.prev === v) this.prev = null;
    v.ref?.put();
    v.ref = null;
  }

  mprotect(addr: number, len: number, prot: number): number {
    // PROT_GROWSDOWN / PROT_GROWSUP, both eras (read in 3.14.4 mm/mprotect.c sys_mprotect and
    // 6.12.19 do_mprotect_pkey): both at once -EINVAL before any other check; taken off prot
    const grows = prot & (PROT_GROWSDOWN | PROT_GROWSUP);
    if (grows === (PROT_GROWSDOWN | PROT_GROWSUP)) return -EINVAL;
    prot &= ~(PROT_GROWSDOWN | PROT_GROWSUP);
    if ((addr & PAGE_MASK) !== 0) return -EINVAL;
    // a zero length succeeds before the prot bits are looked at, and arch_validate_prot (the
    // generic one: ARM has none of its own) allows PROT_SEM, which changes nothing (read in
    // 3.14.4 mm/mprotect.c sys_mprotect and include/linux/mman.h; 6.12.19 do_mprotect_pkey)
    if (len === 0) return 0;
    if ((prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC | PROT_SEM)) !== 0) return -EINVAL;
    prot &= ~PROT_SEM;
    const end = addr + Math.ceil(len / PAGE_SIZE) * PAGE_SIZE;
    if (grows !== 0) {
      // find_vma(start) (v6.12: vma_find(start, end)): the first VMA ending above it, -ENOMEM
      // without one. PROT_GROWSDOWN: it must begin below the end (-ENOMEM), the change starts at
      // its vm_start (a hole under `addr` above it is skipped), and it must be VM_GROWSDOWN
      // (-EINVAL). PROT_GROWSUP: it must hold `addr` (-ENOMEM), then VM_GROWSUP, which ARM has
      // not (VM_NONE): -EINVAL
      let v: Vma | undefined;
      for (const w of this.vmas) if (w.end > addr) { v = w; break; }
      if (v === undefined) return -ENOMEM;
      if (grows === PROT_GROWSUP) return v.start > addr ? -ENOMEM : -EINVAL;
      if (v.start >= end) return -ENOMEM;
      if (v.growsDown !== true) return -EINVAL;
      addr = v.start;
    }
    // every page of the range must be mapped (-ENOMEM otherwise), checked before changing anything
    let cur = addr;
    for (const v of this.vmas) {
      if (v.end <= cur) continue;
      if (v.start > cur) break;
      cur = v.end;
      if (cur >= end) break;
    }
    if (cur < end) return -ENOMEM;
    // mprotect_fixup's VM_MAY* test (mm/mprotect.c, 3.14 and v6.12): a MAP_SHARED mapping of a
    // file not opened for writing has no VM_MAYWRITE (do_mmap cleared it): -EACCES. Choice:
    // checked before any VMA changes (Linux has changed the VMAs before the refusing one)
    if ((prot & PROT_WRITE) !== 0) {
      for (const v of this.vmas) {
        if (v.end > addr && v.start < end && v.fcache != null && (v.flags & MAP_SHARED) !== 0 && v.vmShared !== true) return -EACCES;
      }
    }
    for (const v of this.carve(addr, end)) v.prot = prot;
    this.flushTlb();
    return 0;
  }

  /** dup_mmap (kernel/fork.c): dup-mmap.ts dupMmap says what each VMA becomes in `child` */
  forkInto(child: VmaSpace, pinned: ForkPinnedPages = 'copy'): number {
    return dupMmap(this.forkOps(), child.forkOps(), pinned);
  }

  /** dup-mmap.ts's view of this space (the parent's and the child's) */
  protected forkOps(): ForkOps {
    return {
      space: this,
      vmas: this.vmas,
      host: this.host,
      insert: (v) => this.insert(v),
      copyFrame: (src, dst) => this.copyFrame(src, dst),
      wrprotected: () => {
        // the parent's shared pages lost their write permission (ptep_set_wrprotect)
        this.flushTlb();
        for (const v of this.vmas) if (v.cow) this.frameListener?.(v.start, v.end);
      },
    };
  }

  /** copy one page frame to another (copy_user_highpage: a fork's copy, a copy-on-write break) */
  private copyFrame(src: number, dst: number): void {
    const rs = this.host.bus.ramAt(src, PAGE_SIZE)!;
    const rd = this.host.bus.ramAt(dst, PAGE_SIZE)!;
    rd.copyFrom(dst - rd.base, rs, src - rs.base, PAGE_SIZE);
  }

  /**
   * madvise(2) on [addr, addr + len): madvise.ts (madviseRange) says what each advice does in
   * each era; it reaches the VMA tree and the page tables through `madviseOps`.
   */
  madvise(addr: number, len: number, advice: number, removeNeeds: MadviseRemoveAccess = 'vm-maywrite'): number {
    return madviseRange(this.ops ??= this.madviseOps(), addr, len, advice, removeNeeds);
  }

  /** madvise.ts's view of this space, made at the first madvise (most processes never call it) */
  private ops: MadviseOps | null = null;

  private madviseOps(): MadviseOps {
    return {
      vmas: () => this.vmas,
      find: (va) => this.find(va),
      carve: (s, e) => this.carve(s, e),
      dropPages: (v, from, to) => this.dropPages(v, from, to),
      resolve: (va, need) => this.resolve(va, need),
      zeroFrame: (pa) => {
        const ram = this.host.bus.ramAt(pa, PAGE_SIZE)!;
        ram.fill(pa - ram.base, 0, PAGE_SIZE);
      },
    };
  }

  /**
   * How many bytes from `va` (up to `len`) a kernel write to user memory reaches before its
   * first fault: whole pages that resolve writable (faulted in as a write would), capped at
   * TASK_SIZE (access_ok). getdents64 keeps the records written before a fault.
   */
  writablePrefix(va: number, len: number): number {
    va = va >>> 0;
    let n = 0;
    while (n < len) {
      const a = va + n;
      if (a >= TASK_SIZE) break;
      if (this.resolve(a, PROT_WRITE) < 0) break;
      n += PAGE_SIZE - (a & PAGE_MASK);
    }
    return Math.min(n, len, Math.max(0, TASK_SIZE - va));
  }

  /** madvise MADV_DONTFORK (on) / MADV_DOFORK: VM_DONTCOPY, a fork child does not get the range (madvise) */
  setDontCopy(addr: number, len: number, on: boolean): number {
    return this.madvise(addr, len, on ? MADV_DONTFORK : MADV_DOFORK);
  }

  /**
   * madvise MADV_DONTNEED (3.14 mm/madvise.c madvise_dontneed -> zap_page_range; v6.12
   * madvise_dontneed_single_vma, the same for these mappings): the pages of [addr, addr + len)
   * leave the process's page tables. Its next access to a private anonymous page finds a new
   * zero page: the old frame is put, freed unless a pin or another mapper still holds it (a
   * fork's copy-on-write sharer; a type1 DMA mapping's pin, whose frame stays the device's while
   * the process reads zeros there: user space dropping its own buffer, which the kernel does not
   * prevent). A MAP_SHARED anonymous page stays in its shmem object and comes back with its
   * data. -EINVAL: addr not page aligned, or a VM_PFNMAP (device) VMA in the range (3.14
   * `vma->vm_flags & (VM_LOCKED|VM_HUGETLB|VM_PFNMAP)`, v6.12 madvise_dontneed_free_valid_vma;
   * madvise's loop stops there, the VMAs before it already zapped); -ENOMEM when part of the
   * range is unmapped (the mapped parts are still zapped, sys_madvise's unmapped_error).
   */
  dontNeed(addr: number, len: number): number {
    return this.madvise(addr, len, MADV_DONTNEED);
  }

  /**
   * A write to page `idx` of `v`, shared copy-on-write (do_wp_page): the only mapper left
   * writes the frame in place (reuse_swap_page: page_mapcount 1); otherwise the writer gets a
   * copy and the other mappers keep the frame, and any pin on it. Returns the frame the write
   * goes to, or R_NOMEM.
   */
  private breakCow(v: Vma, idx: number): number {
    const ps = v.pages!;
    const old = ps[idx]!;
    const sh = this.host.pages.sharers;
    let pa = old;
    if (sh !== undefined && (sh.get(old) ?? 1) > 1) {
      pa = this.host.pages.allocZeroed();
      if (pa < 0) return R_NOMEM;
      this.copyFrame(old, pa);
      ps[idx] = pa;
      this.unshare(old);
      this.host.pages.put(old);
    }
    v.cow![idx] = 0;
    this.flushTlb();
    const va = v.start + idx * PAGE_SIZE;
    this.frameListener?.(va, va + PAGE_SIZE);
    return pa;
  }

  /**
   * The first write to page `idx` of a MAP_PRIVATE file mapping (mm/memory.c do_wp_page, or
   * do_cow_fault when not yet mapped): the VMA gets its own anonymous copy of the file's frame.
   * Returns the copy's frame, or R_NOMEM.
   */
  private copyFilePage(v: Vma, idx: number): number {
    const ps = v.pages!;
    const pa = this.host.pages.allocZeroed();
    if (pa < 0) return R_NOMEM;
    this.copyFrame(ps[idx]!, pa);
    ps[idx] = pa;
    (v.own ??= new Uint8Array(ps.length))[idx] = 1;
    this.flushTlb();
    const va = v.start + idx * PAGE_SIZE;
    this.frameListener?.(va, va + PAGE_SIZE);
    return pa;
  }

  /**
   * The file of `v` shrank (filemap.ts PageCache.truncate): its pages from `fromIdx` leave the
   * page tables, private copies too (unmap_mapping_range, even_cows); the next access faults,
   * SIGBUS past the end
   */
  zapFile(v: Vma, fromIdx: number): void {
    const n = v.pages !== null ? v.pages.length : 0;
    if (fromIdx >= n) return;
    this.dropPages(v, fromIdx, n);
    this.frameListener?.(v.start + fromIdx * PAGE_SIZE, v.end);
  }

  /** filemap.ts punchCache: pages [from, to) of v leave the page tables, its private copies stay (no even_cows) */
  punchFile(v: Vma, from: number, to: number): void {
    const ps = v.pages;
    if (ps === null) return;
    this.flushTlb();
    const own = v.own ?? null;
    for (let i = from; i < Math.min(to, ps.length); i++) if (own === null || own[i] !== 1) ps[i] = -1;
    this.frameListener?.(v.start + from * PAGE_SIZE, v.start + to * PAGE_SIZE);
  }

  /** the CPU wrote the present page at va, mapped read-only because it is shared copy-on-write: break the sharing (true), else false */
  writeFault(va: number): boolean {
    const v = this.find(va >>> 0);
    if (v === null || v.kind !== 'anon' || (v.prot & PROT_WRITE) === 0) return false;
    const idx = ((va >>> 0) - v.start) >>> PAGE_SHIFT;
    if (v.pages![idx]! >= 0 && privateFilePage(v, idx)) return this.copyFilePage(v, idx) >= 0;
    if (!v.cow || v.cow[idx] !== 1) return false;
    return this.breakCow(v, idx) >= 0;
  }

  /** whether the page at va is shared copy-on-write (mapped without write permission for now) */
  isCow(va: number): boolean {
    const v = this.find(va >>> 0);
    if (v === null) return false;
    const idx = ((va >>> 0) - v.start) >>> PAGE_SHIFT;
    return (v.cow != null && v.cow[idx] === 1) || (v.fcache != null && v.pages![idx]! >= 0 && privateFilePage(v, idx));
  }

  /** execve (fs/exec.c exec_mmap): drop every mapping; the address space stays usable for the new image */
  unmapAll(): void {
    for (const v of [...this.vmas]) this.removeVma(v);
  }

  /** unmap everything (exit_mmap) */
  releaseAll(): void {
    for (const v of [...this.vmas]) this.removeVma(v);
    this.released = true;
  }

  /** a change of the VMAs, their protections or their pages: AddressSpace empties its translation cache */
  protected flushTlb(): void {}

  /** the fault path for an access `need` at va (the Unicorn mirror's demand faults): resolve() */
  faultIn(va: number, need: number): number {
    return this.resolve(va >>> 0, need);
  }

  /** find_vma for a fault at va: its VMA, or the stack grown down to it (stack-grow.ts growFor); null: SIGSEGV */
  findForFault(va: number): Vma | null {
    const v = this.find(va);
    if (v !== null || growFor(this.vmas, va, this.stackGuard, this.stackLimit()) === null) return v;
    this.flushTlb();
    return this.find(va);
  }

  /** 3.14 check_stack_guard_page before the not-present page at va of `v` is faulted in; false: SIGBUS */
  stackGuardOk(v: Vma, va: number): boolean {
    if (v.growsDown !== true || this.stackGuard !== 'guard-page' || va - v.start >= PAGE_SIZE) return true;
    this.flushTlb();
    return guardPageFault(this.vmas, v, this.stackLimit());
  }

  /** pa for an access `need` (PROT_*) at va, faulting pages in, the stack grown: pa >= 0 or R_UNMAPPED / R_PROT / R_NOMEM / R_SIGBUS */
  protected resolve(va: number, need: number): number {
    const v = this.findForFault(va);
    if (v === null) return R_UNMAPPED;
    if ((v.prot & need) !== need) return R_PROT;
    if (v.kind === 'pfn') return v.pfnBase + (va - v.start);
    if (v.growsDown === true && v.pages![(va - v.start) >>> PAGE_SHIFT]! < 0 && !this.stackGuardOk(v, va)) return R_SIGBUS;
    const idx = (va - v.start) >>> PAGE_SHIFT;
    const ps = v.pages!;
    let pa = ps[idx]!;
    if (v.fcache != null) {
      if (pa < 0) {
        // shmem_fault / filemap_fault: the cache's frame (SIGBUS past the end of the file)
        pa = v.fcache.frame(v.pgoff + idx);
        if (pa < 0) return pa;
        ps[idx] = pa;
      }
      // a write to a private mapping's page of the file: do_cow_fault / do_wp_page copy it
      if ((need & PROT_WRITE) !== 0 && privateFilePage(v, idx)) pa = this.copyFilePage(v, idx);
      return pa < 0 ? pa : pa + (va & PAGE_MASK);
    }
    if (pa < 0) {
      pa = this.host.pages.allocZeroed();
      if (pa < 0) return R_NOMEM;
      ps[idx] = pa;
    } else if ((need & PROT_WRITE) !== 0 && v.cow != null && v.cow[idx] === 1) {
      pa = this.breakCow(v, idx);
      if (pa < 0) return pa;
    }
    return pa + (va & PAGE_MASK);
  }
}
