import { makeAttrs, type Attrs } from '../../emulator/attrs.js';
import type { RamRegion } from '../../emulator/ram.js';
import type { Cpu } from '../../emulator/cpu/cpu.js';
import { GuestTrap } from '../../emulator/cpu/stub.js';
import { EFAULT, EINVAL, ENOMEM } from '../base/errno.js';
import { PAGE_MASK, PAGE_SHIFT, PAGE_SIZE, type MemoryHost } from './pages.js';
import { PROT_EXEC, PROT_READ, PROT_WRITE, R_NOMEM, R_PROT, R_SIGBUS, R_UNMAPPED, TASK_SIZE, VmaSpace } from './vma.js';
import { privateFilePage } from './filemap.js';

export { accessOk, MAP_PRIVATE, MAP_SHARED, MMAP_BASE, PROT_EXEC, PROT_READ, PROT_WRITE, TASK_SIZE, USER_BASE, VmaSpace, type ForkPinnedPages, type Vma, type VmaRef } from './vma.js';

/** strndupUser's page buffer (a page at most is read into it at a time) */
const strBuf = new Uint8Array(PAGE_SIZE);
/** strndupUser's reads of RAM: bytes per block */
const STR_CHUNK = 64;
/** strBuf's first n bytes, one view per length made once (a subarray per string was garbage after every path) */
const strHeads: (Uint8Array | undefined)[] = new Array<Uint8Array | undefined>(PAGE_SIZE + 1);
function strHead(n: number): Uint8Array {
  return (strHeads[n] ??= strBuf.subarray(0, n));
}

const USER_ATTRS: Attrs = makeAttrs({ priv: false, ns: true });

/** result of get_user_pages on one page */
export interface PinnedPage {
  pa: number;
  /** a VM_PFNMAP page: not refcounted, not pinned, not accounted (is_invalid_reserved_pfn) */
  reserved: boolean;
}

/**
 * mm->locked_vm + n as the kernel computes it for an RLIMIT_MEMLOCK check: unsigned long
 * arithmetic, modulo 2^32 on this 32-bit kernel. A locked_vm that went below zero (3.14 type1
 * uncharging pages another process mapped, `type1LockAcct`) is a huge number there, so every
 * check fails until it comes back (3.14 vfio_pin_pages `current->mm->locked_vm + 1 > limit`,
 * mainline vfio_pin_pages_remote and __account_locked_vm alike).
 */
export function lockedVmPlus(mm: AddressSpace, n: number): number {
  return (mm.lockedVm + n) >>> 0;
}

/** whether every cost of a CPU's table is an integer (asked once per table) */
const integerTables = new WeakMap<object, boolean>();
function integerCosts(costs: Cpu['costs']): boolean {
  let v = integerTables.get(costs);
  if (v === undefined) integerTables.set(costs, (v = Object.values(costs).every((x) => Number.isInteger(x))));
  return v;
}

/**
 * A process address space: VMAs, demand-zero anonymous pages from the kernel page
 * allocator, device mappings, user accessors (raise GuestTrap), kernel copy helpers
 * (return -EFAULT), get_user_pages pinning and locked_vm.
 */
export class AddressSpace extends VmaSpace {
  /**
   * The user accessors' translation cache (loadU/storeU), two entries as a small TLB: a user
   * page number, the RAM region and offset of its page frame, the VMA's protection. Filled
   * only for present pages of anonymous VMAs; emptied (flushTlb) by every change of the VMAs,
   * their protections or their pages. A hit does what resolve() would (same frame, same
   * protection check, no fault to take), so charges, values and faults do not depend on it:
   * it saves the VMA lookup and the bus's region lookup of every word of a guest's loops.
   */
  private tlbPage0 = -1;
  private tlbProt0 = 0;
  private tlbOff0 = 0;
  private tlbRam0: RamRegion | null = null;
  private tlbPage1 = -1;
  private tlbProt1 = 0;
  private tlbOff1 = 0;
  private tlbRam1: RamRegion | null = null;
  /** the region of the last hit (tlbLookup's second result) */
  private tlbHit: RamRegion | null = null;
  /** pages accounted as locked (mm->locked_vm; an unsigned long in the kernel: compare through lockedVmPlus) */
  lockedVm = 0;
  /** mm->pinned_vm: pages pinned long-term and accounted to this mm (iommufd's do_update_pinned counts them in every accounting mode) */
  pinnedVm = 0;
  /** pages currently pinned through this mm (statistics; the allocator has the counts) */
  pinnedThrough = 0;

  constructor(
    host: MemoryHost,
    readonly cpu: Cpu | null,
  ) {
    super(host);
  }

  protected override flushTlb(): void {
    this.tlbPage0 = -1;
    this.tlbRam0 = null;
    this.tlbPage1 = -1;
    this.tlbRam1 = null;
  }

  /**
   * A hit of the translation cache: va's page is cached and its VMA allows `need` (resolve()
   * would return the same frame). Returns va's offset in the RAM region left in `tlbHit`,
   * or -1 on a miss.
   */
  private tlbLookup(va: number, need: number): number {
    const pg = va >>> PAGE_SHIFT;
    if (pg === this.tlbPage0 && (this.tlbProt0 & need) !== 0) {
      this.tlbHit = this.tlbRam0;
      return this.tlbOff0 + (va & PAGE_MASK);
    }
    if (pg === this.tlbPage1 && (this.tlbProt1 & need) !== 0) {
      this.tlbHit = this.tlbRam1;
      return this.tlbOff1 + (va & PAGE_MASK);
    }
    return -1;
  }

  /** remember the frame of the page at va (pa: its address + va's offset in the page) */
  private fillTlb(va: number, prot: number, ram: RamRegion, pa: number): void {
    this.tlbPage1 = this.tlbPage0;
    this.tlbProt1 = this.tlbProt0;
    this.tlbOff1 = this.tlbOff0;
    this.tlbRam1 = this.tlbRam0;
    this.tlbPage0 = va >>> PAGE_SHIFT;
    this.tlbProt0 = prot;
    this.tlbOff0 = pa - ram.base - (va & PAGE_MASK);
    this.tlbRam0 = ram;
  }

  private trap(va: number, code: number, write: boolean): never {
    if (code === R_UNMAPPED) throw new GuestTrap('SIGSEGV', va, `${write ? 'write to' : 'read from'} unmapped address (no VMA)`);
    if (code === R_PROT) {
      const v = this.find(va)!;
      throw new GuestTrap('SIGSEGV', va, `${write ? 'write' : 'read'} not permitted by the mapping's protection (${protString(v.prot)})`);
    }
    if (code === R_NOMEM) throw new GuestTrap('SIGBUS', va, 'out of memory faulting in a page');
    if (code === R_SIGBUS) throw new GuestTrap('SIGBUS', va, `${write ? 'write to' : 'read from'} a page the fault handler refused (VM_FAULT_SIGBUS: a mapped file past its end, or a stack guard page)`);
    throw new GuestTrap('SIGBUS', va, `bus error on device mapping (status ${code})`);
  }

  // ---------------- user accessors (guest loads/stores) ----------------

  private chargeMem(): void {
    if (this.cpu) this.cpu.charge(this.cpu.costs.memAccess);
  }

  /** read `size` bytes (1,2,4) little-endian as a guest load */
  loadU(va: number, size: 1 | 2 | 4): number {
    va = va >>> 0;
    let o = (va & PAGE_MASK) + size <= PAGE_SIZE ? this.tlbLookup(va, PROT_READ) : -1;
    let ram: RamRegion | null;
    if (o >= 0) {
      ram = this.tlbHit!;
      this.chargeMem();
      return size === 4 ? ram.read32(o) : size === 2 ? ram.read16(o) : ram.read8(o);
    }
    if (((va & PAGE_MASK) + size) > PAGE_SIZE) {
      let v = 0;
      for (let i = size - 1; i >= 0; i--) v = v * 256 + this.loadU(va + i, 1);
      return v;
    }
    const pa = this.resolve(va, PROT_READ);
    if (pa < 0) this.trap(va, pa, false);
    // resolve() succeeded through find(), which leaves the VMA in `last` (one lookup per access)
    if (this.last!.kind === 'pfn') {
      if (this.cpu) this.cpu.charge(this.cpu.costs.mmioAccess);
      const r = this.host.bus.read(pa, size, USER_ATTRS);
      if (r < 0) this.trap(va, r - 10, false);
      return r;
    }
    this.chargeMem();
    ram = this.host.bus.ramAt(pa, size);
    if (ram === null) this.trap(va, -10, false);
    // a copy-on-write page (a fork's, or a private mapping's page of a file) is cached
    // read-only: a store misses and breaks the sharing in resolve()
    const lv = this.last!;
    const i = (va - lv.start) >>> PAGE_SHIFT;
    this.fillTlb(va, (lv.cow != null && lv.cow[i] === 1) || (lv.fcache != null && privateFilePage(lv, i)) ? lv.prot & ~PROT_WRITE : lv.prot, ram, pa);
    o = pa - ram.base;
    return size === 4 ? ram.read32(o) : size === 2 ? ram.read16(o) : ram.read8(o);
  }

  storeU(va: number, size: 1 | 2 | 4, value: number): void {
    va = va >>> 0;
    let o = (va & PAGE_MASK) + size <= PAGE_SIZE ? this.tlbLookup(va, PROT_WRITE) : -1;
    let ram: RamRegion | null;
    if (o >= 0) {
      ram = this.tlbHit!;
      this.chargeMem();
      if (size === 4) ram.write32(o, value >>> 0);
      else if (size === 2) ram.write16(o, value & 0xffff);
      else ram.write8(o, value & 0xff);
      return;
    }
    if (((va & PAGE_MASK) + size) > PAGE_SIZE) {
      for (let i = 0; i < size; i++) this.storeU(va + i, 1, Math.floor(value / 2 ** (8 * i)) & 0xff);
      return;
    }
    const pa = this.resolve(va, PROT_WRITE);
    if (pa < 0) this.trap(va, pa, true);
    // resolve() succeeded through find(), which leaves the VMA in `last` (one lookup per access)
    if (this.last!.kind === 'pfn') {
      if (this.cpu) this.cpu.charge(this.cpu.costs.mmioAccess);
      const st = this.host.bus.write(pa, size, value >>> 0, USER_ATTRS);
      if (st < 0) this.trap(va, st - 10, true);
      return;
    }
    this.chargeMem();
    ram = this.host.bus.ramAt(pa, size);
    if (ram === null) this.trap(va, -10, true);
    this.fillTlb(va, this.last!.prot, ram, pa);
    o = pa - ram.base;
    if (size === 4) ram.write32(o, value >>> 0);
    else if (size === 2) ram.write16(o, value & 0xffff);
    else ram.write8(o, value & 0xff);
  }

  // ---------------- kernel helpers: copy_{from,to}_user ----------------

  private chargeCopy(len: number): void {
    if (this.cpu) this.cpu.charge(this.cpu.costs.copyPer64 * Math.ceil(len / 64));
  }

  /**
   * `n` copies of one byte each (chargeCopy(1) n times): one charge of their sum when every
   * cost of the table is an integer (the charged cycles are then integers and sum exactly in
   * any grouping), else one by one as before
   */
  private chargeByteCopies(n: number): void {
    const cpu = this.cpu;
    if (!cpu || n <= 0) return;
    const c = cpu.costs.copyPer64;
    if (integerCosts(cpu.costs)) cpu.charge(c * n);
    else for (let j = n; j > 0; j--) cpu.charge(c);
  }

  /**
   * Copy len bytes between user memory at va and buf[off..]. Returns 0 or -EFAULT (bytes
   * before the faulting page are transferred, as in Linux). `user` true: raise GuestTrap
   * instead of -EFAULT (guest bulk accessors).
   */
  copy(va: number, buf: Uint8Array, off: number, len: number, toUser: boolean, user = false): number {
    va = va >>> 0;
    if (len === 0) return 0;
    if (va + len > TASK_SIZE || va + len < va) {
      if (user) this.trap(va, R_UNMAPPED, toUser);
      return -EFAULT;
    }
    this.chargeCopy(len);
    while (len > 0) {
      const n = Math.min(len, PAGE_SIZE - (va & PAGE_MASK));
      const pa = this.resolve(va, toUser ? PROT_WRITE : PROT_READ);
      if (pa < 0) {
        if (user) this.trap(va, pa, toUser);
        return -EFAULT;
      }
      const st = toUser
        ? this.host.bus.writeBlock(pa, buf, off, n, USER_ATTRS)
        : this.host.bus.readBlock(pa, buf, off, n, USER_ATTRS);
      if (st < 0) {
        if (user) this.trap(va, st - 10, toUser);
        return -EFAULT;
      }
      va += n;
      off += n;
      len -= n;
    }
    return 0;
  }

  copyFromUser(dst: Uint8Array, dstOff: number, va: number, len: number): number {
    return this.copy(va, dst, dstOff, len, false);
  }

  copyToUser(va: number, src: Uint8Array, srcOff: number, len: number): number {
    return this.copy(va, src, srcOff, len, true);
  }

  private scratch4 = new Uint8Array(8);
  private scratchView = new DataView(this.scratch4.buffer);

  /** get_user of a u32: value >= 0, or -EFAULT (distinguishable: values are unsigned) */
  getUser32(va: number): number {
    const r = this.copy(va, this.scratch4, 0, 4, false);
    return r < 0 ? r : this.scratchView.getUint32(0, true);
  }

  putUser32(va: number, v: number): number {
    this.scratchView.setUint32(0, v >>> 0, true);
    return this.copy(va, this.scratch4, 0, 4, true);
  }

  /**
   * strndup_user(va, n): the string, or -EFAULT (unreadable) / -EINVAL (no NUL within
   * n bytes, Linux's answer for a too-long string).
   *
   * The model reads the string as a byte-at-a-time copy_from_user: each byte examined is
   * charged as one copy (copyPer64, as chargeCopy(1)), and the first unreadable byte ends it
   * with -EFAULT. That is what the loop below charges and answers; it reads a page's run of RAM
   * in one block and scans it for the NUL instead of one copy() per byte. Bytes outside RAM (a
   * device mapping's registers) are still read one bus access at a time, as before: reading
   * past the NUL there could have side effects.
   */
  strndupUser(va: number, n: number): string | number {
    va = va >>> 0;
    let s = '';
    let i = 0;
    const buf = strBuf;
    while (i < n) {
      const a = va + i;
      // copy()'s order for the byte at a: the TASK_SIZE limit (no charge), the charge, the page
      if (a + 1 > TASK_SIZE) return -EFAULT;
      this.chargeCopy(1);
      const pa = this.resolve(a, PROT_READ);
      if (pa < 0) return -EFAULT;
      // the rest of the string's bytes in this page, at most
      const m = Math.min(n - i, PAGE_SIZE - (a & PAGE_MASK), TASK_SIZE - a);
      const ram = this.host.bus.ramAt(pa, m);
      if (ram === null) {
        if (this.host.bus.readBlock(pa, buf, 0, 1, USER_ATTRS) < 0) return -EFAULT;
        if (buf[0] === 0) return s;
        s += String.fromCharCode(buf[0]!);
        i++;
        continue;
      }
      // the first NUL among the m bytes, read STR_CHUNK bytes at a time (RAM reads have no side
      // effects, so reading less of the page than before changes nothing but the host's work:
      // a path is a few dozen bytes, the page's run up to 4 KiB)
      const off = pa - ram.base;
      let k = -1;
      for (let got = 0; got < m; ) {
        const c = Math.min(STR_CHUNK, m - got);
        ram.readBlock(off + got, buf, got, c);
        // a 0 found past the c bytes read is a stale byte of the buffer
        const z = buf.indexOf(0, got);
        got += c;
        if (z >= 0 && z < got) {
          k = z;
          break;
        }
      }
      // the bytes examined after the first: each one copy of one byte, charged in the same order
      this.chargeByteCopies(k >= 0 ? k : m - 1);
      if (k >= 0) return s + String.fromCharCode.apply(null, strHead(k) as unknown as number[]);
      s += String.fromCharCode.apply(null, strHead(m) as unknown as number[]);
      i += m;
    }
    return -EINVAL;
  }


  // ---------------- get_user_pages ----------------

  /**
   * Pin the page at va (get_user_pages with FOLL_WRITE when `write`): faults it in,
   * takes a reference and a pin. Device (VM_PFNMAP) pages are returned as reserved
   * (neither referenced nor pinned nor accounted). Returns -EFAULT when the address is
   * unmapped or the VMA does not allow the access. The VMA lookup (capability `gupStackExpand`,
   * the caller's): `expandStack` true is 3.14's find_extend_vma (read in 3.14.4 mm/memory.c
   * __get_user_pages, mm/mmap.c find_extend_vma / expand_stack; VFIO type1's
   * get_user_pages_fast is mm/util.c's fallback to get_user_pages on ARM): an address below a
   * VM_GROWSDOWN VMA grows it as a fault there would (findForFault, stack-grow.ts growFor), then
   * the fault of the page, the stack's guard page included (check_stack_guard_page's
   * VM_FAULT_SIGBUS: -EFAULT); false is v6.12's gup_vma_lookup (read in 6.12.19 mm/gup.c
   * __get_user_pages, fixup_user_fault): vma_lookup, never a growth, -EFAULT below the stack
   * (its rate-limited pr_warn "GUP no longer grows the stack" is not modelled).
   */
  pinUserPage(va: number, write: boolean, out: PinnedPage, expandStack = false): number {
    va = va >>> 0;
    const v = expandStack ? this.findForFault(va) : this.find(va);
    if (v === null) return -EFAULT;
    if ((v.prot & PROT_READ) === 0 || (write && (v.prot & PROT_WRITE) === 0)) return -EFAULT;
    if (v.kind === 'pfn') {
      out.pa = (v.pfnBase + (va - v.start)) & ~PAGE_MASK;
      out.reserved = true;
      return 0;
    }
    // FOLL_WRITE faults the page in for writing: a page shared copy-on-write is broken first
    const pa = this.resolve(va, write ? PROT_WRITE : PROT_READ);
    if (pa < 0) return pa === R_NOMEM ? -ENOMEM : -EFAULT;
    const page = pa - (va & PAGE_MASK);
    this.host.pages.pin(page);
    this.pinnedThrough++;
    out.pa = page;
    out.reserved = false;
    return 0;
  }

  /** undo pinUserPage (put_page after unpin); the mm need not be the pinning one */
  unpinPage(p: PinnedPage): void {
    if (p.reserved) return;
    this.host.pages.unpin(p.pa);
    this.pinnedThrough--;
  }
}

export function protString(p: number): string {
  return `${p & PROT_READ ? 'r' : '-'}${p & PROT_WRITE ? 'w' : '-'}${p & PROT_EXEC ? 'x' : '-'}`;
}
