import { buildInitialStack, parseElf, PF_R, PF_W, PF_X, type ElfImage } from '../../emulator/cpu/unicorn/elf.js';
import type { Prng } from '../../emulator/prng.js';
import { MAP_PRIVATE, PROT_EXEC, PROT_READ, PROT_WRITE, type AddressSpace } from '../process/mm.js';
import type { File, Task } from '../vfs/file.js';
import { PAGE_SIZE } from '../process/pages.js';
import { EEXIST, EFAULT, EINVAL, ENOMEM } from '../base/errno.js';
import { TASK_SIZE } from '../process/vma.js';
import type { ElfLoadRules } from './elf-exec.js';
import { SIGKILL, SIGSEGV } from './signal.js';

/** Top of the main thread's stack: TASK_SIZE (0xbf000000; STACK_TOP without randomisation) */
export const STACK_TOP = 0xbf000000;
/** The stack VMA: 8 MiB (RLIMIT_STACK), demand-zero, so only touched pages cost RAM */
export const STACK_SIZE = 8 << 20;
const MAP_ANONYMOUS = 0x20;

const segProt = (f: number): number => ((f & PF_R) ? PROT_READ : 0) | ((f & PF_W) ? PROT_WRITE : 0) | ((f & PF_X) ? PROT_EXEC : 0);

/**
 * the environment of the board's first program when its runner gives none (exec.ts execElf; the
 * kernel's init gets envp_init, "HOME=/" and "TERM=linux" and the boot parameters': a model
 * choice). execve's NULL envp is an empty environment instead (lifecycle.ts sysExecve)
 */
export const DEFAULT_ENVP: readonly string[] = ['PATH=/bin:/usr/bin', 'HOME=/root', 'TERM=dumb'];

/** the file an image's segments are mapped from, and the exec's task (the mmap op's context) */
export interface ImageFile {
  file: File;
  task: Task;
}

/**
 * execve failed after the point of no return (3.14 flush_old_exec, v6.12 begin_new_exec): the
 * old image is gone, the caller (lifecycle.ts sysExecve) kills the process. `errno` is what
 * load_elf_binary returns (nobody sees it); `sig314` the signal 3.14's load_elf_binary sends
 * at that failure (send_sig(SIGKILL) for most, send_sig(SIGSEGV) for padzero, force_sig(SIGSEGV)
 * for a bad entry point), to which search_binary_handler's force_sigsegv adds SIGSEGV; v6.12
 * sends nothing there and bprm_execve's force_fatal_sig(SIGSEGV) ends the process (capability
 * `execMapFailure`).
 */
export class ExecLateError extends Error {
  constructor(readonly errno: number, readonly sig314: typeof SIGKILL | typeof SIGSEGV, what: string) {
    super(`exec: ${what} (${errno}) after the point of no return`);
  }
}

function late(errno: number, sig314: typeof SIGKILL | typeof SIGSEGV, what: string): never {
  throw new ExecLateError(errno, sig314, what);
}

/**
 * Load a static ARM ELF (the board's programs: elf.ts parseElf's strict checks, ElfError) into
 * `mm` (empty): loadExecImage with the v6.12 loader's rules.
 */
export function loadElfImage(mm: AddressSpace, elf: Uint8Array, argv: readonly string[], envp: readonly string[], prng: Prng, from: ImageFile | null = null, execfn?: string): { img: ElfImage; brk: number; sp: number } {
  return loadExecImage(mm, parseElf(elf), argv, envp, prng, from, 'elf-load', execfn);
}

/**
 * load_elf_binary after the point of no return (fs/binfmt_elf.c; the image checked by
 * elf-exec.ts readExecElf or elf.ts parseElf): the PT_LOAD segments are mapped from the image's
 * file (`from`: mapFromFile), or without one become private anonymous VMAs filled through
 * copy_to_user (bss is the demand-zero rest); the entry point must be below TASK_SIZE
 * (BAD_ADDR: 3.14 force_sig(SIGSEGV), v6.12 -EINVAL); the program break starts after the
 * highest segment; the stack VMA (8 MiB, demand-zero, up to STACK_TOP; its bottom raised above
 * a segment mapped inside that range, which in the kernel lies below the stack setup_arg_pages
 * made) gets argc/argv/envp/auxv (create_elf_tables; `execfn`: bprm->filename, the name as
 * given to execve, the string AT_EXECFN points at: elf.ts buildInitialStack). A failure is an
 * ExecLateError.
 * Model choices: the kernel maps the stack (setup_arg_pages) before the segments and its VMA is
 * the argument pages plus 128 KiB (fs/exec.c setup_arg_pages: stack_expand = 131072 below the
 * VMA's start while that fits RLIMIT_STACK; 3.14 as vm_start - stack_expand, v6.12 as vm_end -
 * (stack size + stack_expand); read in 3.14.4 and 6.12.19, docs/KERNEL.md "Kernel trees read").
 * The model takes the page of the AT_RANDOM bytes as the VMA's start: the kernel's (bprm->p's
 * page at setup_arg_pages) or the page below it, as create_elf_tables writes the platform string
 * and those bytes below bprm->p later; a segment over the pages the
 * initial stack is written to is a create_elf_tables failure here, -EFAULT (a read-only
 * segment there makes put_user fail in the kernel too; over a writable one the kernel would go
 * on with the argument strings replaced by the file's bytes: not modelled).
 */
export function loadExecImage(mm: AddressSpace, img: ElfImage, argv: readonly string[], envp: readonly string[], prng: Prng, from: ImageFile | null, rules: ElfLoadRules, execfn?: string): { img: ElfImage; brk: number; sp: number } {
  const st = buildInitialStack(img, STACK_TOP, argv, envp, prng, execfn !== undefined ? { execfn } : {});
  // the kernel's stack VMA when the segments are mapped: the argument pages and 128 KiB below
  const kstackLow = ((st.randomAddr & ~PAGE_MASK) >>> 0) - 0x20000;
  const ranges = from !== null ? mapFromFile(mm, img, from, rules, kstackLow) : copySegments(mm, img);
  if (img.entry >= TASK_SIZE) late(-EINVAL, SIGSEGV, 'entry point beyond TASK_SIZE');
  const contentLow = (st.base & ~PAGE_MASK) >>> 0;
  let low = STACK_TOP - STACK_SIZE;
  for (const [a, b] of ranges) {
    if (a >= STACK_TOP || b <= low) continue;
    if (b > contentLow) late(-EFAULT, SIGKILL, 'a segment over the initial stack');
    low = b;
  }
  const stack = mm.mapRegion(low, STACK_TOP - low, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, true);
  if (typeof stack === 'number') late(stack, SIGKILL, 'cannot map the stack');
  if (mm.copyToUser(st.base, st.bytes, 0, st.bytes.length) < 0) late(-EFAULT, SIGKILL, 'create_elf_tables: stack copy failed');
  // mm->start_stack (fs/binfmt_elf.c load_elf_binary: bprm->p, inside the stack VMA)
  mm.startStack = st.sp;
  const brk = Math.ceil(img.end / PAGE_SIZE) * PAGE_SIZE;
  return { img, brk, sp: st.sp };
}

/** zeros for padzero */
const ZEROS = new Uint8Array(PAGE_SIZE);
const PAGE_MASK = PAGE_SIZE - 1;

/**
 * fs/binfmt_elf.c load_elf_binary's segments (3.14 elf_map + set_brk/padzero; v6.12 elf_load,
 * the same mappings), in file order: each PT_LOAD with file bytes is a MAP_PRIVATE|MAP_FIXED
 * mapping of the image's file from ELF_PAGESTART(p_vaddr) for ELF_PAGEALIGN(p_filesz +
 * ELF_PAGEOFFSET(p_vaddr)) bytes (32-bit arithmetic) at file offset p_offset -
 * ELF_PAGEOFFSET(p_vaddr), with the segment's protection (3.14 elf_map maps whenever that size
 * is not 0, v6.12 elf_load only for p_filesz > 0). A later segment's mapping replaces a page an
 * earlier one mapped, as MAP_FIXED does; text is the page cache's frames, read-only, shared by
 * every process running the file; data is the file's until written (copy on write); pages past
 * the file's end are mapped and give SIGBUS when touched (the kernel does not check p_offset +
 * p_filesz against the file's size). The bss: the rest of the last file page is zeroed
 * (padzero), the pages after it are anonymous (set_brk / vm_brk_flags). Model choice: the
 * pages of the read-only segments are faulted in at exec (the kernel faults them at first use):
 * a first exec of a file gets its frames in order, and the Unicorn mirror maps such a run as
 * one region. Returns the ranges mapped.
 *
 * Failures, in the kernel's order, each an ExecLateError:
 * - vm_mmap (mm/util.c): a file offset that is not page aligned or whose end wraps, -EINVAL;
 *   get_unmapped_area (mm/mmap.c): a length above TASK_SIZE or an end past it, -ENOMEM; the
 *   model's lowest user address (vma.ts USER_BASE, 0x10000) refuses a mapping below it,
 *   -ENOMEM (the kernel's mmap_min_addr does not stop root: not modelled). 3.14: send_sig(SIGKILL)
 *   (verified in a 3.x copy).
 * - v6.12: the first PT_LOAD of an ET_EXEC is mapped MAP_FIXED_NOREPLACE: -EEXIST over the
 *   stack setup_arg_pages made (verified in a 6.x copy; the stack's extent as above).
 * - padzero's clear_user fault: v6.12 elf_load (f9c0a39d9530, "Only report padzero() errors
 *   when PROT_WRITE", v6.7) per segment, -EFAULT only for a writable one; 3.14 ignores the
 *   clear_user between segments and checks one padzero at the end of the highest file part,
 *   if there is bss after it, whatever the protection: send_sig(SIGSEGV), -EFAULT (a
 *   read-only segment with a partial last page and bss: killed by SIGSEGV in 3.14, runs in
 *   v6.12; capability `execElfLoad`).
 * - the bss mapping (vm_brk / vm_brk_flags) past TASK_SIZE, -ENOMEM; 3.14 set_brk:
 *   send_sig(SIGKILL).
 * - after each segment's mapping (both eras): p_vaddr at or above TASK_SIZE, p_filesz >
 *   p_memsz, p_memsz above TASK_SIZE or p_vaddr + p_memsz past it, -EINVAL ("set_brk can never
 *   work"); 3.14 send_sig(SIGKILL).
 * 3.14's set_brk between segments maps the bss from the running maxima of p_vaddr + p_filesz
 * and p_vaddr + p_memsz; the model maps each segment's own (the same for segments in address
 * order).
 */
function mapFromFile(mm: AddressSpace, img: ElfImage, from: ImageFile, rules: ElfLoadRules, kstackLow: number): [number, number][] {
  const f = from.file;
  const ranges: [number, number][] = [];
  let first = true;
  let elfBss = 0, elfBrk = 0, padded = -1;
  for (const s of img.loads) {
    const prot = segProt(s.flags);
    const off = s.vaddr & PAGE_MASK;
    const start = s.vaddr - off;
    const size = rules === 'inline' || s.filesz > 0 ? ((s.filesz + off + PAGE_MASK) & ~PAGE_MASK) >>> 0 : 0;
    if (size > 0) {
      const fileOff = (s.offset - off) >>> 0;
      if ((fileOff & PAGE_MASK) !== 0 || fileOff + size > 0x1_0000_0000) late(-EINVAL, SIGKILL, `PT_LOAD at 0x${s.vaddr.toString(16)}: file offset not congruent with the address (vm_mmap)`);
      if (size > TASK_SIZE || start > TASK_SIZE - size) late(-ENOMEM, SIGKILL, `PT_LOAD at 0x${s.vaddr.toString(16)} past TASK_SIZE`);
      if (rules === 'elf-load' && first && start < STACK_TOP && start + size > kstackLow) late(-EEXIST, SIGKILL, 'first PT_LOAD over the stack (MAP_FIXED_NOREPLACE)');
      const v = mm.mapRegion(start, size, prot, MAP_PRIVATE, true, fileOff / PAGE_SIZE);
      if (typeof v === 'number') late(v, SIGKILL, `cannot map 0x${start.toString(16)}`);
      const e = f.ops.mmap!(f, from.task, v);
      if (e < 0) late(e, SIGKILL, 'the image cannot be mapped');
      f.get();
      v.ref = { get: () => void f.get(), put: () => f.put() };
      v.file = f;
      ranges.push([start, start + size]);
      const end = s.vaddr + s.filesz;
      if (s.memsz > s.filesz && (end & PAGE_MASK) !== 0 && (prot & PROT_WRITE) !== 0) {
        if (mm.copyToUser(end, ZEROS, 0, PAGE_SIZE - (end & PAGE_MASK)) >= 0) padded = end;
        else if (rules === 'elf-load') late(-EFAULT, SIGSEGV, 'padzero of a writable segment faulted');
      }
      if ((prot & PROT_WRITE) === 0 && (prot & PROT_READ) !== 0) {
        for (let va = start; va < start + size; va += PAGE_SIZE) mm.faultIn(va, PROT_READ);
      }
    }
    const anon = size > 0 ? start + size : start;
    const memEnd = Math.ceil((s.vaddr + s.memsz) / PAGE_SIZE) * PAGE_SIZE;
    if (memEnd > anon) {
      if (memEnd > TASK_SIZE) late(-ENOMEM, SIGKILL, `bss at 0x${anon.toString(16)} past TASK_SIZE`);
      const r = mm.mapRegion(anon, memEnd - anon, prot, MAP_PRIVATE | MAP_ANONYMOUS, true);
      if (typeof r === 'number') late(r, SIGKILL, `cannot map the bss at 0x${anon.toString(16)}`);
      ranges.push([anon, memEnd]);
    }
    if (s.vaddr >= TASK_SIZE || s.filesz > s.memsz || s.memsz > TASK_SIZE || TASK_SIZE - s.memsz < s.vaddr) late(-EINVAL, SIGKILL, `PT_LOAD at 0x${s.vaddr.toString(16)}: beyond TASK_SIZE or p_filesz > p_memsz`);
    elfBss = Math.max(elfBss, s.vaddr + s.filesz);
    elfBrk = Math.max(elfBrk, s.vaddr + s.memsz);
    first = false;
  }
  if (rules === 'inline' && elfBss !== elfBrk && (elfBss & PAGE_MASK) !== 0 && padded !== elfBss) {
    if (mm.copyToUser(elfBss, ZEROS, 0, PAGE_SIZE - (elfBss & PAGE_MASK)) < 0) late(-EFAULT, SIGSEGV, 'padzero faulted');
  }
  return ranges;
}

/** the segments as private anonymous memory filled by copy_to_user (an image without a file to map) */
function copySegments(mm: AddressSpace, img: ElfImage): [number, number][] {
  // pages of all segments, with the union of the protections of the segments sharing a page
  const pageProt = new Map<number, number>();
  for (const s of img.loads) {
    const first = Math.floor(s.vaddr / PAGE_SIZE);
    const last = Math.ceil((s.vaddr + s.memsz) / PAGE_SIZE);
    for (let p = first; p < last; p++) pageProt.set(p, (pageProt.get(p) ?? 0) | segProt(s.flags));
  }
  const pages = [...pageProt.keys()].sort((x, y) => x - y);
  const ranges: [number, number][] = [];
  // map writable first (the loader writes through copy_to_user), then set the final protections
  forRuns(pages, () => 0, (p0, n) => {
    const r = mm.mapRegion(p0 * PAGE_SIZE, n * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, true);
    if (typeof r === 'number') late(r, SIGKILL, `cannot map 0x${(p0 * PAGE_SIZE).toString(16)}`);
    ranges.push([p0 * PAGE_SIZE, (p0 + n) * PAGE_SIZE]);
  });
  for (const s of img.loads) {
    if (s.filesz > 0 && mm.copyToUser(s.vaddr, img.bytes, s.offset, s.filesz) < 0) late(-EFAULT, SIGKILL, 'segment copy failed');
  }
  forRuns(pages, (p) => pageProt.get(p)!, (p0, n, prot) => {
    if (prot !== (PROT_READ | PROT_WRITE)) mm.mprotect(p0 * PAGE_SIZE, n * PAGE_SIZE, prot);
  });
  return ranges;
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
