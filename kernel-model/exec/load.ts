import { buildInitialStack, parseElf, PF_R, PF_W, PF_X, type ElfImage } from '../../emulator/cpu/unicorn/elf.js';
import type { Prng } from '../../emulator/prng.js';
import { MAP_PRIVATE, PROT_EXEC, PROT_READ, PROT_WRITE, type AddressSpace } from '../process/mm.js';
import type { File, Task } from '../vfs/file.js';
import { PAGE_SIZE } from '../process/pages.js';
import { EINVAL } from '../base/errno.js';

/** Top of the main thread's stack: TASK_SIZE (0xbf000000; STACK_TOP without randomisation) */
export const STACK_TOP = 0xbf000000;
/** The stack VMA: 8 MiB (RLIMIT_STACK), demand-zero, so only touched pages cost RAM */
export const STACK_SIZE = 8 << 20;
const MAP_ANONYMOUS = 0x20;

const segProt = (f: number): number => ((f & PF_R) ? PROT_READ : 0) | ((f & PF_W) ? PROT_WRITE : 0) | ((f & PF_X) ? PROT_EXEC : 0);

export const DEFAULT_ENVP: readonly string[] = ['PATH=/bin:/usr/bin', 'HOME=/root', 'TERM=dumb'];

/** the file an image's segments are mapped from, and the exec's task (the mmap op's context) */
export interface ImageFile {
  file: File;
  task: Task;
}

/**
 * A PT_LOAD segment the image's file cannot be mapped for: fs/binfmt_elf.c elf_map (3.14) /
 * elf_load -> elf_map (v6.12) asks vm_mmap for file offset p_offset - ELF_PAGEOFFSET(p_vaddr),
 * and vm_mmap (mm/util.c) refuses an offset that is not page aligned, -EINVAL: a segment whose
 * p_offset and p_vaddr differ modulo the page size. Past the point of no return: the exec's
 * caller kills the process (sysExecve, capability `execMapFailure`).
 */
export class ExecMapError extends Error {
  constructor(readonly errno: number, readonly vaddr: number) {
    super(`exec: PT_LOAD at 0x${vaddr.toString(16)}: file offset not congruent with the address (vm_mmap -EINVAL)`);
  }
}

/**
 * Load a static ARM ELF into `mm` (empty): PT_LOAD segments are mapped from the image's file
 * (`from`: mapFromFile), or without one become private anonymous VMAs filled through
 * copy_to_user (bss is the demand-zero rest); the program break starts after
 * the highest segment, an 8 MiB demand-zero stack VMA gets argc/argv/envp/auxv
 * (fs/binfmt_elf.c load_elf_binary, create_elf_tables). Throws ElfError for a file that is not
 * a static ARM executable, ExecMapError (from a file) for a segment vm_mmap refuses: elf_map maps
 * ELF_PAGEALIGN(p_filesz + ELF_PAGEOFFSET(p_vaddr)) bytes, none for a segment that is all bss
 * at a page start, so only the others are checked. Used by execElf and by execve().
 */
export function loadElfImage(mm: AddressSpace, elf: Uint8Array, argv: readonly string[], envp: readonly string[], prng: Prng, from: ImageFile | null = null): { img: ElfImage; brk: number; sp: number } {
  const img = parseElf(elf);
  if (from !== null) {
    const bad = img.loads.find((s) => s.filesz + (s.vaddr % PAGE_SIZE) > 0 && (s.offset - (s.vaddr % PAGE_SIZE)) % PAGE_SIZE !== 0);
    if (bad !== undefined) throw new ExecMapError(-EINVAL, bad.vaddr);
    mapFromFile(mm, img, from);
  } else copySegments(mm, img);
  const brk = Math.ceil(img.end / PAGE_SIZE) * PAGE_SIZE;
  const stack = mm.mapRegion(STACK_TOP - STACK_SIZE, STACK_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, true);
  if (typeof stack === 'number') throw new Error('exec: cannot map the stack');
  const st = buildInitialStack(img, STACK_TOP, argv, envp, prng);
  if (mm.copyToUser(st.base, st.bytes, 0, st.bytes.length) < 0) throw new Error('exec: stack copy failed');
  // mm->start_stack (fs/binfmt_elf.c load_elf_binary: bprm->p, inside the stack VMA)
  mm.startStack = st.sp;
  return { img, brk, sp: st.sp };
}

/** zeros for padzero */
const ZEROS = new Uint8Array(PAGE_SIZE);

/**
 * fs/binfmt_elf.c load_elf_binary's segments (3.14 elf_map + set_brk/padzero; v6.12 elf_load,
 * the same mappings): each PT_LOAD with file bytes is a MAP_PRIVATE|MAP_FIXED mapping of the
 * image's file from ELF_PAGESTART(p_vaddr) for its file size, at file offset
 * p_offset - ELF_PAGEOFFSET(p_vaddr), with the segment's protection (a later segment's mapping
 * replaces a page an earlier one mapped, as MAP_FIXED does); text is the page cache's frames,
 * read-only, shared by every process running the file; data is the file's until written
 * (copy on write). The bss: the rest of the last file page is zeroed (padzero: a write, so that
 * page is copied; v6.12 only when the segment is writable, as here), the pages after it are
 * anonymous (set_brk / vm_brk_flags). Model choice: the pages of the read-only segments are
 * faulted in at exec (the kernel faults them at first use): a first exec of a file gets its
 * frames in order, and the Unicorn mirror maps such a run as one region.
 */
function mapFromFile(mm: AddressSpace, img: ElfImage, from: ImageFile): void {
  const f = from.file;
  for (const s of img.loads) {
    const prot = segProt(s.flags);
    const start = s.vaddr - (s.vaddr % PAGE_SIZE);
    const fileEnd = Math.ceil((s.vaddr + s.filesz) / PAGE_SIZE) * PAGE_SIZE;
    const memEnd = Math.ceil((s.vaddr + s.memsz) / PAGE_SIZE) * PAGE_SIZE;
    if (s.filesz > 0) {
      const v = mm.mapRegion(start, fileEnd - start, prot, MAP_PRIVATE, true, (s.offset - (s.vaddr - start)) / PAGE_SIZE);
      if (typeof v === 'number') throw new Error(`exec: cannot map 0x${start.toString(16)}: ${v}`);
      if (f.ops.mmap!(f, from.task, v) < 0) throw new Error('exec: the image cannot be mapped');
      f.get();
      v.ref = { get: () => void f.get(), put: () => f.put() };
      v.file = f;
      const end = s.vaddr + s.filesz;
      if (s.memsz > s.filesz && (end % PAGE_SIZE) !== 0 && (prot & PROT_WRITE) !== 0) {
        if (mm.copyToUser(end, ZEROS, 0, PAGE_SIZE - (end % PAGE_SIZE)) < 0) throw new Error('exec: padzero failed');
      }
      if ((prot & PROT_WRITE) === 0 && (prot & PROT_READ) !== 0) {
        for (let va = start; va < fileEnd; va += PAGE_SIZE) mm.faultIn(va, PROT_READ);
      }
    }
    const anon = s.filesz > 0 ? fileEnd : start;
    if (memEnd > anon) {
      const r = mm.mapRegion(anon, memEnd - anon, prot, MAP_PRIVATE | MAP_ANONYMOUS, true);
      if (typeof r === 'number') throw new Error(`exec: cannot map 0x${anon.toString(16)}: ${r}`);
    }
  }
}

/** the segments as private anonymous memory filled by copy_to_user (an image without a file to map) */
function copySegments(mm: AddressSpace, img: ElfImage): void {
  // pages of all segments, with the union of the protections of the segments sharing a page
  const pageProt = new Map<number, number>();
  for (const s of img.loads) {
    const first = Math.floor(s.vaddr / PAGE_SIZE);
    const last = Math.ceil((s.vaddr + s.memsz) / PAGE_SIZE);
    for (let p = first; p < last; p++) pageProt.set(p, (pageProt.get(p) ?? 0) | segProt(s.flags));
  }
  const pages = [...pageProt.keys()].sort((x, y) => x - y);
  // map writable first (the loader writes through copy_to_user), then set the final protections
  forRuns(pages, () => 0, (p0, n) => {
    const r = mm.mapRegion(p0 * PAGE_SIZE, n * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, true);
    if (typeof r === 'number') throw new Error(`exec: cannot map 0x${(p0 * PAGE_SIZE).toString(16)}: ${r}`);
  });
  for (const s of img.loads) {
    if (s.filesz > 0 && mm.copyToUser(s.vaddr, img.bytes, s.offset, s.filesz) < 0) throw new Error('exec: segment copy failed');
  }
  forRuns(pages, (p) => pageProt.get(p)!, (p0, n, prot) => {
    if (prot !== (PROT_READ | PROT_WRITE)) mm.mprotect(p0 * PAGE_SIZE, n * PAGE_SIZE, prot);
  });
}

/** call fn for each run of consecutive page numbers with the same key */
function forRuns(pages: number[], key: (p: number) => number, fn: (first: number, count: number, key: number) => void): void {
  let i = 0;
  while (i < pages.length) {
    const p0 = pages[i]!;
    const k = key(p0);
    let n = 1;
    while (i + n < pages.length && pages[i + n] === p0 + n && key(pages[i + n]!) === k) n++;
    fn(p0, n, k);
    i += n;
  }
}
