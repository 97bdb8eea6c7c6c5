import { makeAttrs } from '../../../attrs.js';
import type { PhysicalBus } from '../../../bus.js';
import type { Prng } from '../../../prng.js';
import {
  PAGE_SIZE, PROT_EXEC, PROT_READ, PROT_WRITE,
  type AddressSpaceListener, type GuestAddressSpace, type PageBacking,
} from '../address-space.js';
import { buildInitialStack, PF_R, PF_W, PF_X, type ElfImage } from '../elf.js';

/**
 * A stand-in for the kernel model's process address space, for the backend's own tests:
 * a page table (virtual page -> physical page in board RAM, or a device page), a
 * deterministic physical page allocator over a window of board RAM, brk and a bottom-up
 * mmap area. The real one lives in kernel-model/process and implements the same
 * GuestAddressSpace interface.
 */
export const STACK_TOP = 0xbf000000;
export const STACK_SIZE = 256 * 1024;
export const MMAP_BASE = 0x40000000;

export class TestProcess implements GuestAddressSpace {
  readonly userAttrs = makeAttrs({ priv: false, ns: true });
  private pages = new Map<number, PageBacking>();
  private listeners: AddressSpaceListener[] = [];
  private nextPhys: number;
  private freePhys: number[] = [];
  brkStart = 0;
  brk = 0;
  private mmapNext = MMAP_BASE;
  /** physical pages in use (statistics) */
  physPages = 0;

  constructor(readonly bus: PhysicalBus, readonly physBase: number, readonly physSize: number) {
    this.nextPhys = physBase;
  }

  pageAt(va: number): PageBacking | null {
    return this.pages.get(Math.floor(va / PAGE_SIZE)) ?? null;
  }

  onChange(l: AddressSpaceListener): () => void {
    this.listeners.push(l);
    return () => {
      this.listeners = this.listeners.filter((x) => x !== l);
    };
  }

  ranges(): [number, number][] {
    const vpns = [...this.pages.keys()].sort((a, b) => a - b);
    const out: [number, number][] = [];
    for (const v of vpns) {
      const last = out[out.length - 1];
      if (last && last[1] === v * PAGE_SIZE) last[1] += PAGE_SIZE;
      else out.push([v * PAGE_SIZE, (v + 1) * PAGE_SIZE]);
    }
    return out;
  }

  private changed(start: number, end: number): void {
    for (const l of this.listeners) l(start, end);
  }

  private allocPhys(): number | null {
    let pa = this.freePhys.pop();
    if (pa === undefined) {
      if (this.nextPhys + PAGE_SIZE > this.physBase + this.physSize) return null;
      pa = this.nextPhys;
      this.nextPhys += PAGE_SIZE;
    }
    this.bus.fill(pa, 0, PAGE_SIZE, this.userAttrs);
    this.physPages++;
    return pa;
  }

  /** Map fresh zeroed RAM pages at [va, va+len) (existing pages keep their frame, get `prot`). */
  map(va: number, len: number, prot: number): boolean {
    const s = Math.floor(va / PAGE_SIZE);
    const e = Math.ceil((va + len) / PAGE_SIZE);
    for (let v = s; v < e; v++) {
      const old = this.pages.get(v);
      if (old) {
        this.pages.set(v, { ...old, prot: old.prot | prot });
        continue;
      }
      const pa = this.allocPhys();
      if (pa === null) return false;
      this.pages.set(v, { kind: 'ram', pa, prot });
    }
    this.changed(s * PAGE_SIZE, e * PAGE_SIZE);
    return true;
  }

  /** Map device pages (physical [pa, pa+len)) at va: a vfio region mmap. */
  mapDevice(va: number, pa: number, len: number, prot: number): void {
    const s = Math.floor(va / PAGE_SIZE);
    const n = Math.ceil(len / PAGE_SIZE);
    for (let i = 0; i < n; i++) this.pages.set(s + i, { kind: 'mmio', pa: pa + i * PAGE_SIZE, prot });
    this.changed(s * PAGE_SIZE, (s + n) * PAGE_SIZE);
  }

  unmap(va: number, len: number): void {
    const s = Math.floor(va / PAGE_SIZE);
    const e = Math.ceil((va + len) / PAGE_SIZE);
    for (let v = s; v < e; v++) {
      const b = this.pages.get(v);
      if (!b) continue;
      this.pages.delete(v);
      if (b.kind === 'ram') {
        this.freePhys.push(b.pa);
        this.physPages--;
      }
    }
    this.changed(s * PAGE_SIZE, e * PAGE_SIZE);
  }

  protect(va: number, len: number, prot: number): boolean {
    const s = Math.floor(va / PAGE_SIZE);
    const e = Math.ceil((va + len) / PAGE_SIZE);
    for (let v = s; v < e; v++) if (!this.pages.has(v)) return false;
    for (let v = s; v < e; v++) this.pages.set(v, { ...this.pages.get(v)!, prot });
    this.changed(s * PAGE_SIZE, e * PAGE_SIZE);
    return true;
  }

  /** Anonymous mmap: first fit from MMAP_BASE upwards (deterministic). */
  mmapAnon(len: number, prot: number, fixedAt: number | null): number | null {
    const n = Math.ceil(len / PAGE_SIZE);
    let va = fixedAt;
    if (va === null) {
      let cand = this.mmapNext;
      for (;;) {
        let free = true;
        for (let i = 0; i < n; i++) {
          if (this.pages.has(cand / PAGE_SIZE + i)) {
            free = false;
            cand += (i + 1) * PAGE_SIZE;
            break;
          }
        }
        if (free) break;
      }
      va = cand;
    } else {
      this.unmap(va, n * PAGE_SIZE);
    }
    if (!this.map(va, n * PAGE_SIZE, prot)) return null;
    return va;
  }

  setBrk(addr: number): number {
    if (addr < this.brkStart) return this.brk;
    const oldTop = Math.ceil(this.brk / PAGE_SIZE) * PAGE_SIZE;
    const newTop = Math.ceil(addr / PAGE_SIZE) * PAGE_SIZE;
    if (newTop > oldTop && !this.map(oldTop, newTop - oldTop, PROT_READ | PROT_WRITE)) return this.brk;
    if (newTop < oldTop) this.unmap(newTop, oldTop - newTop);
    this.brk = addr;
    return addr;
  }

  /** Write bytes through the page table (loader use; bypasses protection like the kernel). */
  poke(va: number, src: Uint8Array): void {
    let off = 0;
    while (off < src.length) {
      const b = this.pageAt(va + off);
      if (!b || b.kind !== 'ram') throw new Error(`poke: 0x${(va + off).toString(16)} not RAM`);
      const inPage = (va + off) % PAGE_SIZE;
      const n = Math.min(PAGE_SIZE - inPage, src.length - off);
      this.bus.writeBlock(b.pa + inPage, src, off, n, this.userAttrs);
      off += n;
    }
  }
}

export interface LoadedProgram {
  entry: number;
  sp: number;
  randomAddr: number;
}

const segProt = (f: number): number => ((f & PF_R) ? PROT_READ : 0) | ((f & PF_W) ? PROT_WRITE : 0) | ((f & PF_X) ? PROT_EXEC : 0);

/** exec(): map the PT_LOAD segments, set brk, build the stack. */
export function loadElf(p: TestProcess, img: ElfImage, argv: readonly string[], envp: readonly string[], prng: Prng): LoadedProgram {
  for (const s of img.loads) {
    if (!p.map(s.vaddr, s.memsz, segProt(s.flags))) throw new Error('out of memory loading ELF');
    p.poke(s.vaddr, img.bytes.subarray(s.offset, s.offset + s.filesz));
  }
  p.brkStart = p.brk = Math.ceil(img.end / PAGE_SIZE) * PAGE_SIZE;
  if (!p.map(STACK_TOP - STACK_SIZE, STACK_SIZE, PROT_READ | PROT_WRITE)) throw new Error('out of memory for stack');
  const st = buildInitialStack(img, STACK_TOP, argv, envp, prng);
  p.poke(st.base, st.bytes);
  return { entry: img.entry, sp: st.sp, randomAddr: st.randomAddr };
}
