import { AT_BASE, AT_ENTRY, AT_PHDR, buildInitialStack, parseElf, PF_R, PF_W, PF_X, type ElfImage, type ElfSegment, type StackImage, type StackOptions } from '../../emulator/cpu/unicorn/elf.js';
import type { Prng } from '../../emulator/prng.js';
import { MAP_PRIVATE, PROT_EXEC, PROT_READ, PROT_WRITE, type AddressSpace } from '../process/mm.js';
import type { File, Task } from '../vfs/file.js';
import { PAGE_SIZE } from '../process/pages.js';
import { EEXIST, EFAULT, EINVAL, ENOMEM } from '../base/errno.js';
import { TASK_SIZE, USER_BASE } from '../process/vma.js';
import { ET_DYN, ET_EXEC, readInterpElf, type ElfLoadRules } from './elf-exec.js';
import { SIGKILL, SIGSEGV } from './signal.js';

/** Top of the main thread's stack: TASK_SIZE (0xbf000000; STACK_TOP without randomisation) */
export const STACK_TOP = 0xbf000000;
/** RLIMIT_STACK's default soft limit, 8 MiB (_STK_LIM): how far the stack VMA may grow */
export const STACK_SIZE = 8 << 20;
const MAP_ANONYMOUS = 0x20;

const segProt = (f: number): number => ((f & PF_R) ? PROT_READ : 0) | ((f & PF_W) ? PROT_WRITE : 0) | ((f & PF_X) ? PROT_EXEC : 0);

/**
 * the environment of the board's first program when its runner gives none (exec.ts execElf; the
 * kernel's init gets envp_init, "HOME=/" and "TERM=linux" and the boot parameters': a model
 * choice). execve's NULL envp is an empty environment instead (lifecycle.ts sysExecve)
 */
export const DEFAULT_ENVP: readonly string[] = ['PATH=/bin:/usr/bin', 'HOME=/root', 'TERM=dumb'];

/** the auxiliary vector's entries an exec adds to the image's (auxv.ts execAuxOptions; default: 3.14's, root) */
export type AuxOptions = Omit<StackOptions, 'execfn'>;

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
export function loadElfImage(mm: AddressSpace, elf: Uint8Array, argv: readonly string[], envp: readonly string[], prng: Prng, from: ImageFile | null = null, execfn?: string, aux: AuxOptions = {}): { img: ElfImage; brk: number; sp: number } {
  return loadExecImage(mm, parseElf(elf), argv, envp, prng, from, 'elf-load', execfn, null, aux);
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
 * given to execve, the string AT_EXECFN points at: elf.ts buildInitialStack; `aux`: the
 * vector's era entries and the task's credentials, auxv.ts execAuxOptions). An ET_DYN is
 * mapped at its load bias (mainPlacement) and an interpreter after it (`dyn`, loadElfInterp):
 * the thread starts at the interpreter's entry point; AT_PHDR and AT_ENTRY carry the program's
 * bias (create_elf_tables: 3.14 load_addr + e_phoff and e_entry + load_bias, v6.12 phdr_addr
 * and e_entry with it), AT_BASE the interpreter's load address (0 without one or for an
 * ET_EXEC interpreter). AT_PHDR's segment: the model's (the PT_LOAD holding the whole table),
 * for both eras (3.14 uses the first PT_LOAD's p_vaddr - p_offset, v6.12 the PT_LOAD holding
 * e_phoff, 0da1d5002745 "fs/binfmt_elf: Fix AT_PHDR for unusual ELF files", v5.18 (id and
 * title checked in the linux-kernel archive, the release from memory; both read in 3.14.4 /
 * 6.12.19): the same for the usual layout). A failure is an ExecLateError.
 * Model choices: the kernel maps the stack (setup_arg_pages) before the segments and its VMA is
 * the argument pages plus 128 KiB (fs/exec.c setup_arg_pages: stack_expand = 131072 below the
 * VMA's start while that fits RLIMIT_STACK; 3.14 as vm_start - stack_expand, v6.12 as vm_end -
 * (stack size + stack_expand); read in 3.14.4 and 6.12.19, docs/KERNEL.md "Kernel trees read").
 * The VMA's start when the segments are mapped is taken as the kernel's: the page of the lowest
 * argument string (the copy_strings of argv[0] extended the VMA from __bprm_mm_init's one page
 * down to that page; bprm->p at setup_arg_pages) less stack_expand (the argument pages are far
 * below RLIMIT_STACK here), without arch_align_stack's or STACK_TOP's randomisation (the model
 * has none); create_elf_tables writes the platform string, AT_RANDOM and the vectors below
 * bprm->p afterwards, inside those 128 KiB. RLIMIT_STACK (the soft limit, page aligned down)
 * caps it: when the argument pages and 128 KiB are more, the VMA starts that far under the top
 * (3.14 vm_end - rlim_stack, v6.12 the min of the two sizes). The model maps the VMA there, with
 * VM_GROWSDOWN: faults below it grow it (kernel-model/process/stack-grow.ts). A segment over the pages the
 * initial stack is written to is a create_elf_tables failure here, -EFAULT (a read-only
 * segment there makes put_user fail in the kernel too; over a writable one the kernel would go
 * on with the argument strings replaced by the file's bytes: not modelled).
 */
export function loadExecImage(mm: AddressSpace, img: ElfImage, argv: readonly string[], envp: readonly string[], prng: Prng, from: ImageFile | null, rules: ElfLoadRules, execfn?: string, dyn: DynLoad | null = null, aux: AuxOptions = {}): { img: ElfImage; brk: number; sp: number } {
  const st = buildInitialStack(img, STACK_TOP, argv, envp, prng, execfn !== undefined ? { ...aux, execfn } : aux);
  // the kernel's stack VMA when the segments are mapped: the argument pages and 128 KiB below,
  // within RLIMIT_STACK (fs/exec.c setup_arg_pages, read in 3.14.4 / 6.12.19: rlimit & PAGE_MASK;
  // 3.14 vm_end - rlim_stack when stack_size + stack_expand is over it, v6.12 the min of the two)
  const argPage = (st.argStart & ~PAGE_MASK) >>> 0;
  const rlimStack = (mm.stackLimit() & ~PAGE_MASK) >>> 0;
  const kstackLow = Math.min(STACK_TOP - argPage + 0x20000 > rlimStack ? STACK_TOP - rlimStack : argPage - 0x20000, argPage);
  let ranges: [number, number][];
  let bias = 0, entry = img.entry, base = 0;
  if (from === null) ranges = copySegments(mm, img);
  else {
    let m: ReturnType<typeof mapFromFile>;
    try {
      m = mapFromFile(mm, img.loads, from, rules, kstackLow, mainPlacement(img, dyn, rules), false);
    } catch (e) {
      // out_free_dentry: fput(interpreter)
      dyn?.interp?.from.file.put();
      throw e;
    }
    ranges = m.ranges;
    bias = m.bias;
    entry = (img.entry + bias) >>> 0;
    if (dyn?.interp != null) {
      const it = loadElfInterp(mm, dyn.interp, rules, kstackLow, bias);
      ranges = ranges.concat(it.ranges);
      base = it.base;
      entry = it.entry;
    }
  }
  if (entry >= TASK_SIZE) late(-EINVAL, SIGSEGV, 'entry point beyond TASK_SIZE');
  const contentLow = (st.base & ~PAGE_MASK) >>> 0;
  let low = kstackLow;
  for (const [a, b] of ranges) {
    if (a >= STACK_TOP || b <= low) continue;
    if (b > contentLow) late(-EFAULT, SIGKILL, 'a segment over the initial stack');
    low = b;
  }
  const stack = mm.mapRegion(low, STACK_TOP - low, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, true);
  if (typeof stack === 'number') late(stack, SIGKILL, 'cannot map the stack');
  // VM_STACK_FLAGS: VM_GROWSDOWN (kernel-model/process/stack-grow.ts)
  stack.growsDown = true;
  // create_elf_tables: AT_PHDR and AT_ENTRY with the load bias, AT_BASE the interpreter's
  if (bias !== 0 || base !== 0) {
    patchAux(st, argv.length, envp.length, AT_PHDR, (img.phdrAddr + bias) >>> 0);
    patchAux(st, argv.length, envp.length, AT_ENTRY, (img.entry + bias) >>> 0);
    patchAux(st, argv.length, envp.length, AT_BASE, base);
  }
  if (mm.copyToUser(st.base, st.bytes, 0, st.bytes.length) < 0) late(-EFAULT, SIGKILL, 'create_elf_tables: stack copy failed');
  // mm->start_stack (fs/binfmt_elf.c load_elf_binary: bprm->p, inside the stack VMA)
  mm.startStack = st.sp;
  // set_brk (3.14) / mm->start_brk = ELF_PAGEALIGN(elf_brk) (v6.12): after the image's highest
  // segment, with its load bias; v6.12 moves it (ELF_ET_DYN_BASE for an ET_DYN without
  // interpreter, or a page further, then arch_randomize_brk) only under PF_RANDOMIZE with
  // randomize_va_space > 1 (read in 3.14.4 / 6.12.19): the model has no ASLR, so both eras leave
  // it there. 11854fe263eb "binfmt_elf: Move brk for static PIE even if ASLR disabled"
  // (v6.15-rc7, in the 6.12.y stable review of 2025-05, after 6.12.19; checked in the
  // linux-kernel archive) moves a static PIE's without ASLR too: not modelled. Model consequence, from reading, not run: a v6.12 static PIE sits
  // at the model's bottom-up mmap base, so an mmap made before the heap grows lands right after
  // its break and stops brk (the kernel's top-down mmap leaves room)
  const brk = Math.ceil((img.end + bias) / PAGE_SIZE) * PAGE_SIZE;
  return { img: bias === 0 && entry === img.entry ? img : { ...img, entry, thumbEntry: (entry & 1) === 1 }, brk, sp: st.sp };
}

/** an exec of an ET_DYN or of an image with an interpreter (readExecElf's ExecElf) */
export interface DynLoad {
  /** e_type: ET_EXEC 2, ET_DYN 3 */
  type: number;
  /** the interpreter's bytes and its file, opened (bprm->interpreter); null without PT_INTERP */
  interp: { bytes: Uint8Array; from: ImageFile } | null;
}

/** auxv's value of `key` in a stack image buildInitialStack made, replaced */
function patchAux(st: StackImage, argc: number, envc: number, key: number, value: number): void {
  const dv = new DataView(st.bytes.buffer, st.bytes.byteOffset, st.bytes.byteLength);
  for (let o = st.sp - st.base + 4 * (argc + envc + 3); o + 8 <= st.bytes.length; o += 8) {
    const k = dv.getUint32(o, true);
    if (k === 0) return;
    if (k === key) dv.setUint32(o + 4, value >>> 0, true);
  }
}

/**
 * ELF_ET_DYN_BASE (arch/arm/include/asm/elf.h, read in 3.14.4 / 6.12.19): 3.14 `(2 * TASK_SIZE /
 * 3)` in 32-bit unsigned long arithmetic, where 2 * 0xbf000000 wraps to 0x7e000000, so 0x2a000000
 * (TASK_SIZE: arch/arm/include/asm/memory.h, PAGE_OFFSET - 16 MiB, read in 3.14.4); v6.12
 * 0x400000 ("arm: move ELF_ET_DYN_BASE to 4MB": the title seen in a kernel.org post-receive
 * notice, as a backport; its mainline id not found, v4.13 with eab09532d400 from memory)
 */
const ET_DYN_BASE_314 = Math.floor(((2 * TASK_SIZE) >>> 0) / 3), ET_DYN_BASE_612 = 0x400000;

/**
 * where the first PT_LOAD goes (fs/binfmt_elf.c load_elf_binary; read in 3.14.4 / 6.12.19):
 * - ET_EXEC: at p_vaddr, MAP_FIXED (3.14) or MAP_FIXED_NOREPLACE (v6.12), load_bias 0;
 * - ET_DYN, 3.14 (ARM selects ARCH_BINFMT_ELF_RANDOMIZE_PIE, arch/arm/Kconfig; without
 *   PF_RANDOMIZE, as the model has no ASLR, load_elf_binary keeps the non-zero bias): load_bias
 *   ELF_PAGESTART(ELF_ET_DYN_BASE - p_vaddr), with or without an interpreter; elf_map maps the
 *   first segment alone (its total_size argument is 0 in load_elf_binary: only load_elf_interp
 *   computes total_mapping_size in 3.14) with that address as a hint;
 * - ET_DYN with an interpreter, v6.12: ELF_ET_DYN_BASE aligned down to maximum_alignment (the
 *   largest power-of-two p_align of the PT_LOADs, at least a page), MAP_FIXED_NOREPLACE
 *   (eab09532d400 "binfmt_elf: use ELF_ET_DYN_BASE only for PIE", v4.13-rc1; ce81bb256a22
 *   "fs/binfmt_elf: use PT_LOAD p_align values for suitable start address", 2020-10, v5.10:
 *   ids and titles checked in the linux-kernel archive, eab09532d400's release too, ce81bb256a22's
 *   from its date; the code read in 6.12.19);
 * - ET_DYN without one (a static PIE, or ld.so run as a program), v6.12: load_bias 0, so the
 *   first mapping goes where mmap puts total_mapping_size bytes; with a p_align above a page
 *   that address aligned down and MAP_FIXED_NOREPLACE (3545deff0ec7 "binfmt_elf: Honor
 *   PT_LOAD alignment for static PIE", v6.11: the execve-v6.11-rc1 pull, checked in the
 *   linux-kernel archive; the code read in 6.12.19's load_elf_binary).
 * The model's mmap places bottom-up from MMAP_BASE (vma.ts getUnmappedArea; the kernel's
 * default layout is top-down below the stack: the model's choice for every mmap).
 * total_mapping_size 0 (v6.12): -EINVAL.
 */
function mainPlacement(img: ElfImage, dyn: DynLoad | null, rules: ElfLoadRules): Placement {
  if (dyn === null || dyn.type !== ET_DYN) return { how: rules === 'inline' ? 'fixed' : 'noreplace', bias: 0, total: 0 };
  const first = img.loads[0];
  if (first === undefined) return { how: 'fixed', bias: 0, total: 0 };
  if (rules === 'inline') return { how: 'hint', bias: pageStart(ET_DYN_BASE_314 - first.vaddr), total: 0 };
  const total = totalMappingSize(img.loads);
  if (total === 0) late(-EINVAL, SIGSEGV, 'total_mapping_size 0');
  const align = maximumAlignment(img.loads);
  if (dyn.interp !== null) {
    const b = align !== 0 ? (ET_DYN_BASE_612 & ~(align - 1)) >>> 0 : ET_DYN_BASE_612;
    return { how: 'noreplace', bias: pageStart(b - first.vaddr), total };
  }
  return { how: align > PAGE_SIZE ? 'aligned' : 'hint', bias: pageStart(0 - first.vaddr), total, align };
}

const pageStart = (v: number): number => (v & ~PAGE_MASK) >>> 0;
const pageAlign = (v: number): number => ((v + PAGE_MASK) & ~PAGE_MASK) >>> 0;

/** total_mapping_size: from the first PT_LOAD's page to the last one's p_vaddr + p_memsz (32-bit) */
function totalMappingSize(loads: readonly ElfSegment[]): number {
  if (loads.length === 0) return 0;
  const a = loads[0]!, b = loads[loads.length - 1]!;
  return (b.vaddr + b.memsz - pageStart(a.vaddr)) >>> 0;
}

/** maximum_alignment: the largest power-of-two p_align of the PT_LOADs, ELF_PAGEALIGN'd (0 without one) */
function maximumAlignment(loads: readonly ElfSegment[]): number {
  let a = 0;
  for (const s of loads) if (s.align !== 0 && (s.align & (s.align - 1)) === 0) a = Math.max(a, s.align);
  return pageAlign(a);
}

/**
 * how a loader places the first PT_LOAD (the others follow it MAP_FIXED at the same bias):
 * 'fixed' (MAP_FIXED at bias + p_vaddr), 'noreplace' (MAP_FIXED_NOREPLACE: -EEXIST over a
 * mapping or the stack), 'hint' (get_unmapped_area of `total` bytes, or of the first segment's
 * own mapping for a `total` of 0, with bias + p_vaddr as a hint), 'aligned' (get_unmapped_area of `total` bytes, that address aligned down to `align`,
 * then MAP_FIXED_NOREPLACE)
 */
interface Placement {
  how: 'fixed' | 'noreplace' | 'hint' | 'aligned';
  bias: number;
  total: number;
  align?: number;
}

/** a range of the address space no VMA overlaps */
function rangeFree(mm: AddressSpace, a: number, len: number): boolean {
  return mm.mappings.every((v) => v.end <= a || v.start >= a + len);
}

/**
 * get_unmapped_area (mm/mmap.c; arch/arm/mm/mmap.c arch_get_unmapped_area): a hint is taken
 * when the range is free and below TASK_SIZE, else the model's search (vma.ts). Model choice:
 * a hint below the lowest user address is no hint (the kernel rounds it up to mmap_min_addr).
 */
function unmappedArea(mm: AddressSpace, hint: number, len: number): number {
  if (len > TASK_SIZE) return -ENOMEM;
  if (hint >= USER_BASE && hint <= TASK_SIZE - len && rangeFree(mm, hint, len)) return hint;
  return mm.getUnmappedArea(len);
}

/**
 * fs/binfmt_elf.c load_elf_interp after load_elf_binary has mapped the program (3.x and 6.x
 * copies read): the interpreter's header and program headers (elf-exec.ts readInterpElf: 3.14
 * reads the headers here), total_mapping_size (0: -EINVAL); its first PT_LOAD MAP_FIXED for an
 * ET_EXEC, else where mmap puts total_mapping_size bytes, with p_vaddr as a hint for an ET_DYN
 * after an ET_EXEC program, none (load_addr = -p_vaddr) after an ET_DYN one ("no_base"); the
 * rest MAP_FIXED at the same load_addr; each segment's address, sizes and end checked after
 * its mapping with the load address (-ENOMEM); bss as the program's (3.14 one padzero and
 * vm_brk at the end; v6.12 elf_load per segment). The entry point is load_addr + its e_entry
 * (AT_BASE load_addr, 0 for an ET_EXEC). Every failure is fatal: 3.14 force_sig(SIGSEGV),
 * v6.12 bprm_execve's SIGSEGV. The file reference the loader held is dropped (fput), the
 * mappings keep theirs.
 */
function loadElfInterp(mm: AddressSpace, it: { bytes: Uint8Array; from: ImageFile }, rules: ElfLoadRules, kstackLow: number, mainBias: number): { ranges: [number, number][]; base: number; entry: number } {
  try {
    const ie = readInterpElf(it.bytes, rules);
    if (typeof ie === 'number') late(ie, SIGSEGV, 'load_elf_interp: a bad interpreter header');
    const first = ie.loads[0];
    const total = totalMappingSize(ie.loads);
    if (first === undefined || total === 0) late(-EINVAL, SIGSEGV, 'load_elf_interp: total_mapping_size 0');
    const how: Placement = ie.type === ET_EXEC ? { how: 'fixed', bias: 0, total: 0 } : { how: 'hint', bias: mainBias !== 0 ? (0 - first.vaddr) >>> 0 : 0, total };
    const m = mapFromFile(mm, ie.loads, it.from, rules, kstackLow, how, true);
    const base = ie.type === ET_EXEC ? 0 : m.bias;
    const entry = (base + ie.entry) >>> 0;
    if (entry >= TASK_SIZE) late(-EINVAL, SIGSEGV, 'the interpreter\'s entry point beyond TASK_SIZE');
    return { ranges: m.ranges, base, entry };
  } catch (e) {
    if (e instanceof ExecLateError) throw new ExecLateError(e.errno, SIGSEGV, `load_elf_interp: ${e.message}`);
    throw e;
  } finally {
    it.from.file.put();
  }
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
 * one region. The first PT_LOAD is placed as `place` says (mainPlacement), the others follow
 * at the same bias; `interp`: load_elf_interp's variant (its load address, its checks). Returns
 * the ranges mapped and the bias.
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
 *   work"; p_vaddr without the load bias); 3.14 send_sig(SIGKILL). load_elf_interp checks the
 *   address with its load address, -ENOMEM.
 * - an ET_DYN's first mapping: no room for total_mapping_size bytes, -ENOMEM; v6.12's
 *   MAP_FIXED_NOREPLACE of it (with an interpreter, or a p_align above a page) over a mapping
 *   or the stack, -EEXIST.
 * 3.14's set_brk between segments maps the bss from the running maxima of p_vaddr + p_filesz
 * and p_vaddr + p_memsz; the model maps each segment's own (the same for segments in address
 * order).
 */
function mapFromFile(mm: AddressSpace, loads: readonly ElfSegment[], from: ImageFile, rules: ElfLoadRules, kstackLow: number, place: Placement, interp: boolean): { ranges: [number, number][]; bias: number } {
  const f = from.file;
  const ranges: [number, number][] = [];
  let first = true;
  let bias = place.bias;
  let elfBss = 0, elfBrk = 0, padded = -1;
  for (const s of loads) {
    const prot = segProt(s.flags);
    const off = s.vaddr & PAGE_MASK;
    let start = pageStart(bias + s.vaddr);
    const size = rules === 'inline' || s.filesz > 0 ? ((s.filesz + off + PAGE_MASK) & ~PAGE_MASK) >>> 0 : 0;
    if (first && (place.how === 'hint' || place.how === 'aligned') && size > 0) {
      // the first mapping of an ET_DYN: total_mapping_size bytes where mmap puts them (elf_map;
      // the rest past this segment is unmapped again), the load bias moved by as much
      const len = place.total !== 0 ? pageAlign(place.total) : size;
      let at = unmappedArea(mm, place.how === 'hint' ? start : 0, len);
      if (at < 0) late(at, SIGKILL, 'no room for the image (get_unmapped_area)');
      if (place.how === 'aligned') {
        at = (at & ~((place.align ?? PAGE_SIZE) - 1)) >>> 0;
        if (!rangeFree(mm, at, len)) late(-EEXIST, SIGKILL, 'the aligned image over a mapping (MAP_FIXED_NOREPLACE)');
      }
      // load_elf_binary: load_bias += map_addr - ELF_PAGESTART(load_bias + vaddr); load_elf_interp:
      // load_addr = map_addr - ELF_PAGESTART(vaddr)
      bias = interp ? (at - pageStart(s.vaddr)) >>> 0 : (bias + at - start) >>> 0;
      start = at;
    }
    const va = (bias + s.vaddr) >>> 0;
    if (size > 0) {
      const fileOff = (s.offset - off) >>> 0;
      if ((fileOff & PAGE_MASK) !== 0 || fileOff + size > 0x1_0000_0000) late(-EINVAL, SIGKILL, `PT_LOAD at 0x${s.vaddr.toString(16)}: file offset not congruent with the address (vm_mmap)`);
      if (size > TASK_SIZE || start > TASK_SIZE - size) late(-ENOMEM, SIGKILL, `PT_LOAD at 0x${va.toString(16)} past TASK_SIZE`);
      if (first && place.how === 'noreplace') {
        const len = Math.max(size, pageAlign(place.total));
        if ((start < STACK_TOP && start + len > kstackLow) || !rangeFree(mm, start, len)) late(-EEXIST, SIGKILL, 'first PT_LOAD over the stack (MAP_FIXED_NOREPLACE)');
      }
      const v = mm.mapRegion(start, size, prot, MAP_PRIVATE, true, fileOff / PAGE_SIZE);
      if (typeof v === 'number') late(v, SIGKILL, `cannot map 0x${start.toString(16)}`);
      const e = f.ops.mmap!(f, from.task, v);
      if (e < 0) late(e, SIGKILL, 'the image cannot be mapped');
      f.get();
      v.ref = { get: () => void f.get(), put: () => f.put() };
      v.file = f;
      ranges.push([start, start + size]);
      const end = va + s.filesz;
      if (s.memsz > s.filesz && (end & PAGE_MASK) !== 0 && (prot & PROT_WRITE) !== 0) {
        if (mm.copyToUser(end, ZEROS, 0, PAGE_SIZE - (end & PAGE_MASK)) >= 0) padded = end;
        else if (rules === 'elf-load') late(-EFAULT, SIGSEGV, 'padzero of a writable segment faulted');
      }
      if ((prot & PROT_WRITE) === 0 && (prot & PROT_READ) !== 0) {
        for (let p = start; p < start + size; p += PAGE_SIZE) mm.faultIn(p, PROT_READ);
      }
    }
    const anon = size > 0 ? start + size : start;
    const memEnd = Math.ceil((va + s.memsz) / PAGE_SIZE) * PAGE_SIZE;
    if (memEnd > anon) {
      if (memEnd > TASK_SIZE) late(-ENOMEM, SIGKILL, `bss at 0x${anon.toString(16)} past TASK_SIZE`);
      const r = mm.mapRegion(anon, memEnd - anon, prot, MAP_PRIVATE | MAP_ANONYMOUS, true);
      if (typeof r === 'number') late(r, SIGKILL, `cannot map the bss at 0x${anon.toString(16)}`);
      ranges.push([anon, memEnd]);
    }
    // load_elf_binary checks p_vaddr without the bias (-EINVAL), load_elf_interp with it (-ENOMEM)
    const k = interp ? va : s.vaddr;
    if (k >= TASK_SIZE || s.filesz > s.memsz || s.memsz > TASK_SIZE || TASK_SIZE - s.memsz < k) late(interp ? -ENOMEM : -EINVAL, SIGKILL, `PT_LOAD at 0x${s.vaddr.toString(16)}: beyond TASK_SIZE or p_filesz > p_memsz`);
    elfBss = Math.max(elfBss, va + s.filesz);
    elfBrk = Math.max(elfBrk, va + s.memsz);
    first = false;
  }
  if (rules === 'inline' && elfBss !== elfBrk && (elfBss & PAGE_MASK) !== 0 && padded !== elfBss) {
    if (mm.copyToUser(elfBss, ZEROS, 0, PAGE_SIZE - (elfBss & PAGE_MASK)) < 0) late(-EFAULT, SIGSEGV, 'padzero faulted');
  }
  return { ranges, bias };
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
