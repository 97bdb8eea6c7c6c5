import type { PhysicalBus } from '../../bus.js';
import { RAM_CHUNK_MASK, RAM_CHUNK_SIZE } from '../../ram.js';
import {
  PAGE_SHIFT, PAGE_SIZE, PROT_EXEC, protToUc,
  type GuestAddressSpace, type PageBacking,
} from './address-space.js';
import { viewRead, viewWrite, type CowView } from './cow-view.js';
import { aliasedIn, CowWrites, framesAlias, sharedAround, type MappedRun } from './cow-runs.js';
import { ARMV7A, UnicornError, type ArchSpec } from './arch.js';
import {
  loadUnicorn, ucCtl,
  UC_ARM_REG_PC, UC_ARM_REG_SP,
  UC_CTL_CPU_MODEL, UC_CTL_IO_WRITE, UC_CTL_UC_PAGE_SIZE, UC_CTL_TB_REMOVE_CACHE, UC_ERR_OK, UC_HOOK_BLOCK, UC_HOOK_INTR, UC_HOOK_MEM_PROT,
  UC_HOOK_MEM_UNMAPPED,
  type CallbackProto, type NativePtr, type UnicornApi,
} from './native.js';

export { ARMV7A, UnicornError, type ArchSpec };

/**
 * Idle engines of ended processes (UnicornEngine.obtain / release), at most ENGINE_POOL_MAX:
 * host resources, never guest state (a reused engine starts pristine and unmapped).
 */
const ENGINE_POOL: UnicornEngine[] = []; // host-only: native engines to reuse, reset before reuse (no guest state)
let ENGINE_POOL_MAX = 4; // host-only: the pool's size (tests set 0 to compare runs without it)

/**
 * Regions one engine may hold. Unicorn 2.0.1 aborts the host process when its physical map
 * passes TARGET_PAGE_SIZE sections (qemu/exec.c phys_section_add's assertion). Measured with
 * ARM's default 1 KiB target pages: 1023 one-page regions map, 1030 abort; with the 4 KiB
 * pages the engine asks for (UC_CTL_UC_PAGE_SIZE): 4090 map, 5000 abort. The limit is far below
 * that because each new region costs Unicorn time growing with the regions there are: 8192
 * scattered one-page faults took 1.8 s of host time with this limit, 13.9 s with 2000 and 94 s
 * with 3800 (guest-tests/c/bigmem.c scatter). A demand fault that would pass it faults instead
 * (demandFault).
 */
export const REGION_LIMIT = 960;
/** the longest run a demand fault extends by merging (pages): bounds the unmap/remap a merge costs */
const MERGE_PAGES = 256;

/** The thread running inside uc_emu_start receives the engine's hooks. */
export interface HookClient {
  onIntr(intno: number): void;
  onBlock(address: number, size: number): void;
  onBadMem(type: number, address: number | bigint): boolean;
  onMmio(): void;
  /** after the device access (its side effects may have scheduled work) */
  afterMmio?(): void;
  /** a device access of `size` bytes through a mapping got a bus error (SIGBUS for the thread) */
  onBusError?(va: number, write: boolean, status: number, size: number): void;
}

/** A register context owner (a thread sharing the engine). */
export interface ContextOwner {
  ctx: NativePtr | null;
}

/**
 * One Unicorn engine = one guest address space (a process; its threads share it and
 * switch register contexts). Owns the native handle, the mirror of the process's
 * mappings and the native callbacks.
 */
export class UnicornEngine {
  readonly api: UnicornApi;
  readonly uc: NativePtr;
  private readonly r32 = new Uint32Array(1);
  private readonly callbacks: NativePtr[] = [];
  private runs: MappedRun[] = [];
  private space: GuestAddressSpace | null = null;
  private bus: PhysicalBus | null = null;
  private unsubscribe: (() => void) | null = null;
  private mmioIds = new Map<number, number>(); // mmio id -> physical base of the run
  private mmioVa = new Map<number, number>(); // mmio id -> virtual base of the run
  private views = new Map<number, CowView>(); // mmio id -> copy-on-write view (cow-view.ts)
  private nextMmioId = 1;
  private mmioRead: NativePtr | null = null;
  private mmioWrite: NativePtr | null = null;
  /** device accesses made by guest code whose bus status was an error (id, status) */
  mmioErrors = 0;
  /** MMIO accesses served */
  mmioAccesses = 0;
  /** the thread inside uc_emu_start (hooks are routed to it) */
  running: HookClient | null = null;
  /** whose registers are live in the CPU; others are saved in their uc_context */
  private owner: ContextOwner | null = null;
  private contexts: NativePtr[] = [];
  private hooksInstalled = false;
  /** instruction counts of translation blocks, keyed by address + size * 2^32 (shared code) */
  readonly icount = new Map<number, number>();
  /** register context switches performed */
  contextSwitches = 0;
  closed = false;

  constructor(readonly arch: ArchSpec = ARMV7A) {
    this.api = loadUnicorn();
    const out: NativePtr[] = [null];
    this.check('uc_open', this.api.uc_open(arch.ucArch, arch.ucMode, out));
    this.uc = out[0];
    // 4 KiB target pages (ARM's default is 1 KiB, TARGET_PAGE_BITS_MIN 10): the physical map
    // then holds four times the regions (REGION_LIMIT). Unicorn 2.0.x's UC_CTL_UC_PAGE_SIZE
    // counts one bit too many (4096 gives 8 KiB pages and refuses 4 KiB mappings), so 2048 asks
    // it for 4 KiB; later versions take 4096.
    this.check('uc_ctl(page size)', this.api.uc_ctl_int(this.uc, ucCtl(UC_CTL_UC_PAGE_SIZE, 1, UC_CTL_IO_WRITE), this.api.version.startsWith('2.0') ? 2048 : 4096));
    this.check('uc_ctl(cpu model)', this.api.uc_ctl_int(this.uc, ucCtl(UC_CTL_CPU_MODEL, 1, UC_CTL_IO_WRITE), arch.cpuModel));
    arch.init(this);
    const out2: NativePtr[] = [null];
    this.check('uc_context_alloc', this.api.uc_context_alloc(this.uc, out2));
    this.pristine = out2[0];
    this.check('uc_context_save', this.api.uc_context_save(this.uc, this.pristine));
  }

  check(op: string, code: number): void {
    if (code !== UC_ERR_OK) throw new UnicornError(op, code, this.api);
  }

  private batches = new Map<Int32Array, { view: Uint32Array; ptrs: BigUint64Array; keep: unknown }>();

  /**
   * Read several registers with one native call. Returns a view valid until the next
   * readRegs() with the same `ids` array (keep `ids` constant: its native block is cached).
   */
  readRegs(ids: Int32Array): Uint32Array {
    let b = this.batches.get(ids);
    if (b === undefined) {
      b = this.api.allocRegBlock(ids.length);
      this.batches.set(ids, b);
    }
    this.check('uc_reg_read_batch', this.api.uc_reg_read_batch(this.uc, ids, b.ptrs, ids.length));
    return b.view;
  }

  reg(id: number): number {
    this.api.uc_reg_read(this.uc, id, this.r32);
    return this.r32[0]!;
  }

  setReg(id: number, v: number): void {
    this.r32[0] = v >>> 0;
    this.check('uc_reg_write', this.api.uc_reg_write(this.uc, id, this.r32));
  }

  /** Read guest virtual memory (through the mappings). Returns false on a fault. */
  read(va: number, dst: Uint8Array): boolean {
    if (dst.length === 0) return true;
    return this.api.uc_mem_read(this.uc, va, dst, dst.length) === UC_ERR_OK;
  }

  /** Write guest virtual memory. Returns false on a fault. */
  write(va: number, src: Uint8Array): boolean {
    if (src.length === 0) return true;
    return this.api.uc_mem_write(this.uc, va, src, src.length) === UC_ERR_OK;
  }

  /** Register a native callback owned by this engine (freed on close). */
  callback(fn: (...args: never[]) => unknown, proto: CallbackProto): NativePtr {
    const cb = this.api.register(fn, proto);
    this.callbacks.push(cb);
    return cb;
  }

  hook(type: number, cb: NativePtr, begin = 1, end = 0): void {
    const hh: NativePtr[] = [0];
    this.check('uc_hook_add', this.api.uc_hook_add(this.uc, hh, type, cb, 0, begin, end));
  }

  /** Install the engine-wide hooks once; they dispatch to `running`. */
  installHooks(): void {
    if (this.hooksInstalled) return;
    this.hooksInstalled = true;
    this.hook(UC_HOOK_INTR, this.callback(((_uc: NativePtr, intno: number) => this.running?.onIntr(intno)) as never, 'hookintr'));
    this.hook(UC_HOOK_BLOCK, this.callback(((_uc: NativePtr, a: number, size: number) => this.running?.onBlock(a, size)) as never, 'hookcode'));
    this.hook(UC_HOOK_MEM_UNMAPPED | UC_HOOK_MEM_PROT, this.callback(((_uc: NativePtr, type: number, a: number | bigint) => this.running?.onBadMem(type, a) ?? false) as never, 'eventmem'));
  }

  /**
   * Make `t`'s registers the live ones: save the current owner's registers into its
   * context and restore `t`'s (a thread with no context yet inherits the live registers,
   * which is what clone() wants).
   */
  switchTo(t: ContextOwner): void {
    const cur = this.owner;
    if (cur === t) return;
    if (cur !== null) {
      if (cur.ctx === null) cur.ctx = this.newContext();
      this.check('uc_context_save', this.api.uc_context_save(this.uc, cur.ctx));
    }
    if (t.ctx !== null) this.check('uc_context_restore', this.api.uc_context_restore(this.uc, t.ctx));
    if (cur !== null) this.contextSwitches++;
    this.owner = t;
  }

  /** true when `t`'s registers are the live ones */
  owns(t: ContextOwner): boolean {
    return this.owner === t;
  }

  private newContext(): NativePtr {
    const out: NativePtr[] = [null];
    this.check('uc_context_alloc', this.api.uc_context_alloc(this.uc, out));
    this.contexts.push(out[0]);
    return out[0];
  }

  // ------------------------------------------------------------------ address space mirror

  /** Mirror `space` into the engine; RAM pages point into `bus`'s RAM buffers (zero copy). */
  attach(space: GuestAddressSpace, bus: PhysicalBus): void {
    if (this.space !== null) throw new Error('engine: address space already attached');
    this.space = space;
    this.bus = bus;
    // the device access callbacks are registered once per engine (a pooled engine keeps them)
    this.mmioRead ??= this.callback(((_uc: NativePtr, offset: number | bigint, size: number, ud: number | bigint): number | bigint => {
      const view = this.views.get(Number(ud));
      if (view !== undefined) return viewRead(view, this.bus!, Number(offset), size);
      const pa = this.mmioIds.get(Number(ud))! + Number(offset);
      this.mmioAccesses++;
      this.running?.onMmio();
      const v = this.bus!.read(pa, size, this.space!.userAttrs);
      this.running?.afterMmio?.();
      if (v < 0) {
        // A bus error on a device load: SIGBUS for the thread (the load itself reads 0; the
        // engine stops there, with the registers from before the load: UnicornThread.pinFault)
        this.mmioErrors++;
        this.running?.onBusError?.(this.mmioVa.get(Number(ud))! + Number(offset), false, v, size);
        return 0;
      }
      return v;
    }) as never, 'mmio_read');
    this.mmioWrite ??= this.callback(((_uc: NativePtr, offset: number | bigint, size: number, value: number | bigint, ud: number | bigint): void => {
      const view = this.views.get(Number(ud));
      if (view !== undefined) {
        if (viewWrite(view, this.bus!, Number(offset), size, value)) this.cow.queueView(view);
        return;
      }
      const pa = this.mmioIds.get(Number(ud))! + Number(offset);
      this.mmioAccesses++;
      this.running?.onMmio();
      const st = this.bus!.write(pa, size, Number(BigInt.asUintN(32, BigInt(value))), this.space!.userAttrs);
      this.running?.afterMmio?.();
      if (st < 0) {
        this.mmioErrors++;
        this.running?.onBusError?.(this.mmioVa.get(Number(ud))! + Number(offset), true, st, size);
      }
    }) as never, 'mmio_write');
    for (const [s, e] of space.ranges()) this.sync(s, e);
    const offCode = space.onCodeChange?.((s, e) => this.invalidateCode(s, e));
    const offMap = space.onChange((s, e) => (this.held !== null ? this.held.push([s, e]) : this.sync(s, e)));
    this.unsubscribe = () => {
      offMap();
      offCode?.();
    };
  }

  /**
   * Drop the blocks translated from [start, end): instructions there changed without a store
   * of this CPU (which Unicorn notices itself): the kernel wrote a mapped file's page, or
   * another process stored through its mapping and asked for the instruction cache
   * (cacheflush). The RAM runs of the range are mirrored again (sync): measured with 2.0.1,
   * UC_CTL_TB_REMOVE_CACHE over the range alone left the old block running
   * (guest-tests/c/filemap-tb.c "after pwrite"); a new mapping is a new RAM block, which no
   * old translation names. Called from a system call (the interrupt hook, outside any block)
   * or while the engine is stopped.
   */
  invalidateCode(start: number, end: number): void {
    this.icount.clear();
    if (!this.runs.some((r) => r.kind === 'ram' && r.start < end && r.end > start)) return;
    if (this.hasCowWrites) this.applyCowWrites();
    this.sync(start, end);
  }

  /** Re-derive the mappings of [start, end) from the address space. */
  sync(start: number, end: number): void {
    const space = this.space!;
    this.icount.clear(); // code may have changed under these addresses
    start = Math.floor(start / PAGE_SIZE) * PAGE_SIZE;
    end = Math.ceil(end / PAGE_SIZE) * PAGE_SIZE;
    // unmap every run touching the range, widening the range to cover them
    const keep: MappedRun[] = [];
    for (const r of this.runs) {
      if (r.end <= start || r.start >= end) {
        keep.push(r);
        continue;
      }
      this.unmapRun(r);
      if (r.id !== 0) {
        this.mmioIds.delete(r.id);
        this.mmioVa.delete(r.id);
        this.views.delete(r.id);
      }
      start = Math.min(start, r.start);
      end = Math.max(end, r.end);
    }
    this.runs = keep;
    const kept = keep.length;
    // map page runs: contiguous virtual pages with the same kind/prot and contiguous physical pages
    let runStart = -1;
    let first: PageBacking | null = null;
    let firstSolo = false;
    let prevPa = 0;
    const flush = (va: number): void => {
      if (first !== null) this.mapRun(runStart, va, first);
      first = null;
    };
    for (let va = start; va < end; va += PAGE_SIZE) {
      const b = space.pageAt(va);
      // a data page shared copy-on-write is mirrored once the CPU touches it (lazyCow)
      if (b === null || (b.kind === 'ram' && b.cow === true && (b.prot & PROT_EXEC) === 0 && !this.cowTouched.has(va))) {
        flush(va);
        continue;
      }
      if (this.cowTouched.size > 0 && !(b.kind === 'ram' && b.cow === true)) this.cowTouched.delete(va);
      // shared pages merge with shared pages (cow-runs.ts); an executable one (its store makes its region writable in
      // place), or one whose frame is mirrored at another address too (a view), is a run of its own
      const solo = b.kind === 'ram' && b.cow === true && ((b.prot & PROT_EXEC) !== 0 || this.aliased(va, b.pa));
      if (first !== null && !solo && !firstSolo && b.kind === 'ram' && first.kind === 'ram' && b.prot === first.prot && b.pa === prevPa + PAGE_SIZE && (b.cow === true) === (first.cow === true)) {
        prevPa = b.pa;
        continue;
      }
      flush(va);
      first = b;
      firstSolo = solo;
      runStart = va;
      prevPa = b.pa;
    }
    flush(end);
    // a copy-on-write page mirrored before another mapping of its frame was: now a view
    const again: number[] = [];
    const cows = this.runs.filter((r) => r.cow === true);
    for (const n of cows.length > 0 ? this.runs.slice(kept) : []) {
      if (n.kind === 'mmio' && !this.views.has(n.id)) continue;
      for (const c of cows) {
        if (framesAlias(c, n) && !again.includes(c.start)) again.push(c.start);
      }
    }
    this.runs.sort((a, b) => a.start - b.start);
    this.peakRuns = Math.max(this.peakRuns, this.runs.length);
    for (const va of again) this.sync(va, va + PAGE_SIZE);
  }

  /** another mirror of this engine maps frame `pa` (a RAM run or a copy-on-write view), at an address other than `va` */
  private aliased(va: number, pa: number): boolean {
    return aliasedIn(this.runs, this.isView, va, pa);
  }

  private readonly isView = (id: number): boolean => this.views.has(id);

  private mapRun(va: number, vend: number, b: PageBacking): void {
    // past the limit pages stay unmapped: their first access is a refused demand fault
    if (this.runs.length >= REGION_LIMIT) {
      this.regionLimitHit = true;
      return;
    }
    const len = vend - va;
    let id = 0;
    if (b.kind === 'ram' && b.cow === true && (b.prot & PROT_EXEC) === 0 && len === PAGE_SIZE && this.aliased(va, b.pa)) {
      // a copy-on-write page whose frame is mirrored at another address too: a view (cow-view.ts)
      id = this.nextMmioId++;
      this.views.set(id, { va, pa: b.pa, image: null });
      this.check('uc_mmio_map', this.api.uc_mmio_map(this.uc, va, len, this.mmioRead, id, this.mmioWrite, id));
    } else if (b.kind === 'ram') {
      const ram = this.bus!.ramAt(b.pa, len);
      if (ram === null) throw new Error(`engine: pa 0x${b.pa.toString(16)}+0x${len.toString(16)} is not board RAM`);
      // sparse RAM (emulator/ram.ts): each chunk is its own host buffer, so a run is mapped
      // one piece per chunk, each onto the chunk's pinned (allocated, never dropped) memory
      let off = b.pa - ram.base;
      let v = va;
      while (v < vend) {
        const n = Math.min(vend - v, RAM_CHUNK_SIZE - (off & RAM_CHUNK_MASK));
        this.check('uc_mem_map_ptr', this.api.uc_mem_map_ptr(this.uc, v, n, protToUc(b.prot), ram.pin(off, n)));
        this.runs.push({ start: v, end: v + n, kind: b.kind, id: 0, pa: ram.base + off, cow: b.cow === true && (b.prot & PROT_EXEC) === 0 ? true : undefined });
        v += n;
        off += n;
      }
      return;
    } else {
      id = this.nextMmioId++;
      this.mmioIds.set(id, b.pa);
      this.mmioVa.set(id, va);
      // uc_mmio_map has no permission argument: device pages are mapped read/write; a
      // PROT_READ-only device mapping is enforced afterwards with uc_mem_protect.
      this.check('uc_mmio_map', this.api.uc_mmio_map(this.uc, va, len, this.mmioRead, id, this.mmioWrite, id));
      if ((b.prot & 3) !== 3) this.check('uc_mem_protect', this.api.uc_mem_protect(this.uc, va, len, protToUc(b.prot)));
    }
    this.runs.push({ start: va, end: vend, kind: 'mmio', id, pa: b.pa });
  }

  /**
   * The CPU stores at `va`, on a page mirrored read-only (UC_HOOK_MEM_WRITE_PROT). For a page
   * shared copy-on-write (PageBacking.cow): true, the store goes ahead into the shared frame,
   * and the sharing is broken at the next safe point (applyCowWrites), which gives the old
   * frame its bytes back (cow-runs.ts CowWrites). The engine is not stopped here: uc_emu_stop from this hook makes Unicorn 2.0 run the storing
   * instruction again when the engine is started next, and a second STREX (the
   * compare-and-swap of glibc's locks) then compares against the value the first one stored
   * and fails, so the CAS returns the lock as held (a parent hung in futex after a fork, every
   * private page shared). The engine stops instead in the block hook of the next translation
   * block (UnicornThread.onBlock: stopping there keeps that block from executing), and the
   * thread applies the writes then, or at a system call (UnicornThread.onIntr), whichever
   * comes first. False: a real protection fault.
   */
  cowWrite(va: number): boolean {
    return this.cow.store(va);
  }

  /** stores into copy-on-write pages not yet given to the address space (cow-runs.ts) */
  private readonly cow = new CowWrites({
    space: () => this.space,
    bus: () => this.bus,
    protectPage: (va, prot) => this.check('uc_mem_protect', this.api.uc_mem_protect(this.uc, va, PAGE_SIZE, protToUc(prot))),
    hold: () => {
      this.held = [];
    },
    resync: (va) => {
      const held = this.held ?? [];
      this.held = null;
      if (this.space === null) return;
      const b = this.space.pageAt(va);
      let [lo, hi] = b === null ? [va, va + PAGE_SIZE] : this.mergeRange(va, b);
      for (const [s, e] of held) {
        if (s <= hi && e >= lo) [lo, hi] = [Math.min(lo, s), Math.max(hi, e)];
        else this.sync(s, e);
      }
      this.sync(lo, hi);
    },
  });

  /** the address space's changes noted while the copy-on-write stores are applied (CowHost.hold), or null */
  private held: [number, number][] | null = null;

  get hasCowWrites(): boolean {
    return this.cow.any;
  }

  /** the address space's write fault for each page the CPU stored to since the last call (cow-runs.ts CowWrites.apply); outside the memory hooks */
  applyCowWrites(): void {
    this.cow.apply();
  }

  /**
   * Demand paging from the UNMAPPED hooks: ask the address space to materialise the page
   * of `va` and mirror it. True: the access is retried by Unicorn (a mapping added from
   * inside the hook is found when the hook returns true).
   */
  demandFault(va: number, access: 'read' | 'write' | 'fetch'): boolean {
    const space = this.space;
    this.busFault = false;
    if (space === null || space.fault === undefined) return false;
    const r = space.fault(va, access);
    if (r !== true) {
      this.busFault = r === 'SIGBUS';
      return false;
    }
    const page = va - (va % PAGE_SIZE);
    const b = space.pageAt(page);
    if (b === null) return false;
    if (b.kind === 'ram' && b.cow === true) this.cowTouched.add(page);
    let [lo, hi] = this.mergeRange(page, b);
    if (b.kind === 'ram' && b.cow === true && (b.prot & PROT_EXEC) === 0) {
      // the still-shared pages that continue it in its RAM chunk come with it (cow-runs.ts sharedAround)
      const ram = this.bus!.ramAt(b.pa, PAGE_SIZE)!;
      const [alo, ahi] = sharedAround(space, page, b, ram.base + ((b.pa - ram.base) & ~RAM_CHUNK_MASK), (v, pa) => this.cowTouched.has(v) || this.aliased(v, pa));
      for (let v = alo; v < ahi; v += PAGE_SIZE) this.cowTouched.add(v);
      lo = Math.min(lo, alo);
      hi = Math.max(hi, ahi);
    }
    if (lo === page && hi === page + PAGE_SIZE && this.runs.length >= REGION_LIMIT) {
      // a new region would pass what Unicorn 2.0 holds (its assertion aborts the host process):
      // the access faults instead, and the report says why
      this.regionLimitHit = true;
      return false;
    }
    this.sync(lo, hi);
    this.demandFaults++;
    return true;
  }

  /**
   * The pages to mirror for page `page` (backing `b`): with the RAM run before or after it when the page continues it
   * (the same protection, the next frame, both shared copy-on-write or neither), up to MERGE_PAGES: a heap touched
   * upwards, a stack downwards (its frames: kernel-model/exec/space.ts allocFor) or a fork's shared pages read in
   * order is a few regions. Data pages only: a run of code may hold the block being translated when its next page
   * faults in.
   */
  private mergeRange(page: number, b: PageBacking): [number, number] {
    let [lo, hi] = [page, page + PAGE_SIZE];
    if (b.kind !== 'ram' || (b.prot & PROT_EXEC) !== 0) return [lo, hi];
    for (const r of this.runs) {
      if (r.kind !== 'ram') continue;
      if (r.end === page && page + PAGE_SIZE - r.start <= MERGE_PAGES * PAGE_SIZE && this.continues(page - PAGE_SIZE, b)) lo = r.start;
      else if (r.start === page + PAGE_SIZE && r.end - page <= MERGE_PAGES * PAGE_SIZE && this.continues(page + PAGE_SIZE, b, -1)) hi = r.end;
    }
    return [lo, hi];
  }

  /** the page at `va` is RAM with `b`'s protection and copy-on-write state, on the frame before (dir 1) or after (dir -1) b's */
  private continues(va: number, b: PageBacking, dir = 1): boolean {
    const n = this.space!.pageAt(va);
    return n !== null && n.kind === 'ram' && (n.cow === true) === (b.kind === 'ram' && b.cow === true) && n.prot === b.prot && n.pa === b.pa - dir * PAGE_SIZE;
  }

  /**
   * The non-executable copy-on-write pages the CPU touched: a fork's pages are mirrored when first touched, not at the
   * fork, merged into runs (mergeRange; cow-runs.ts). A write to one not yet mirrored breaks the sharing in the fault
   * (fault(va, 'write')), so the copy merges with private runs.
   */
  private cowTouched = new Set<number>();

  /** the last demand fault was refused with SIGBUS (a page of a mapped file past its end: GuestAddressSpace.fault) */
  busFault = false;

  /** a demand fault was refused because the mirror had REGION_LIMIT regions (the fault report says so) */
  regionLimitHit = false;

  /** pages mirrored by demand faults (statistics) */
  demandFaults = 0;

  /** the most Unicorn regions the mirror held (statistics) */
  peakRuns = 0;

  /** number of Unicorn regions mirroring the address space (statistics, tests) */
  get mappedRuns(): number {
    return this.runs.length;
  }

  /**
   * An engine for a new process (a fork child, or a program's first image): an idle one from
   * the pool when there is one, else a new one. Host-side only: Unicorn 2.0's machine set-up
   * (at an engine's first mapping or context: uc_open itself is lazy) costs ~7 ms, about half
   * of a fork + exec + wait round. A reused engine starts from the CPU state it had right after
   * set-up (its pristine context: registers, VFP, CP15, the exclusive monitor) with nothing
   * mapped, and the blocks translated for the previous process were invalidated before their
   * memory was unmapped (detach), so what the guest sees does not depend on the pool.
   * `holder`: who may release it.
   */
  static obtain(holder: object, arch: ArchSpec = ARMV7A): UnicornEngine {
    let e: UnicornEngine | undefined;
    for (let i = ENGINE_POOL.length - 1; i >= 0; i--) {
      if (ENGINE_POOL[i]!.arch !== arch) continue;
      e = ENGINE_POOL.splice(i, 1)[0]!;
      break;
    }
    if (e === undefined) e = new UnicornEngine(arch);
    else e.reuse();
    e.holder = holder;
    return e;
  }

  /**
   * The process of `holder` (obtain) has ended: its engine goes back to the pool, unmapped and
   * detached from the address space (or is closed when the pool is full). A no-op for another
   * holder (a process whose engine was already released and given to another) and when closed.
   */
  release(holder: object): void {
    if (this.closed || this.holder !== holder) return;
    this.holder = null;
    if (ENGINE_POOL.length >= ENGINE_POOL_MAX || this.running !== null) {
      this.close();
      return;
    }
    this.detach();
    ENGINE_POOL.push(this);
  }

  /** set how many idle engines the pool keeps (closing those above it); returns the previous limit (tests: 0 = no reuse) */
  static poolLimit(n: number): number {
    const prev = ENGINE_POOL_MAX;
    ENGINE_POOL_MAX = n;
    while (ENGINE_POOL.length > n) ENGINE_POOL.shift()!.close();
    return prev;
  }

  /** who obtained the engine (obtain), null while pooled or when made with `new` */
  private holder: object | null = null;
  /** the CPU state right after set-up (arch.init), restored when the engine is reused */
  private pristine: NativePtr | null = null;

  /**
   * Unmap one Unicorn region. A RAM region's translated blocks are invalidated first
   * (UC_CTL_TB_REMOVE_CACHE while the pages are still mapped): Unicorn 2.0's uc_mem_unmap only
   * flushes the TLB, and it finds a block by its guest address and the RAM address of its page,
   * which a later mapping may be given again, so a block of code no longer mapped could run for
   * new code at the same address (seen with pooled engines: a process ran a block of the
   * previous one's and faulted). Never called from a memory hook (sync is not, but for pages
   * nothing maps yet); from the interrupt hook it runs outside any block.
   */
  private unmapRun(r: MappedRun): void {
    if (r.kind === 'ram') this.check('uc_ctl(tb remove cache)', this.api.uc_ctl_range(this.uc, ucCtl(UC_CTL_TB_REMOVE_CACHE, 2, UC_CTL_IO_WRITE), r.start, r.end));
    this.check('uc_mem_unmap', this.api.uc_mem_unmap(this.uc, r.start, r.end - r.start));
  }

  /**
   * Drop the mirror: every Unicorn region unmapped (unmapRun), the address space and bus
   * forgotten, the threads' contexts freed. (A whole UC_CTL_TB_FLUSH instead costs ~65 ms in
   * 2.0.1.)
   */
  private detach(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
    for (const r of this.runs) this.unmapRun(r);
    this.runs = [];
    this.mmioIds.clear();
    this.mmioVa.clear();
    this.views.clear();
    this.cow.clear();
    this.held = null;
    this.cowTouched.clear();
    this.space = null;
    this.bus = null;
    this.running = null;
    this.owner = null;
    for (const c of this.contexts) this.api.uc_context_free(c);
    this.contexts.length = 0;
    this.icount.clear();
  }

  /** a pooled engine taken again: pristine CPU state, fresh statistics */
  private reuse(): void {
    this.check('uc_context_restore', this.api.uc_context_restore(this.uc, this.pristine));
    this.mmioErrors = 0;
    this.mmioAccesses = 0;
    this.demandFaults = this.peakRuns = 0;
    this.regionLimitHit = false;
    this.contextSwitches = 0;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribe?.();
    for (const c of this.contexts) this.api.uc_context_free(c);
    this.contexts.length = 0;
    if (this.pristine !== null) this.api.uc_context_free(this.pristine);
    this.pristine = null;
    this.api.uc_close(this.uc);
    for (const cb of this.callbacks) this.api.unregister(cb);
    this.callbacks.length = 0;
  }
}

export { PAGE_SHIFT, UC_ARM_REG_SP as SP_REG, UC_ARM_REG_PC as PC_REG };
