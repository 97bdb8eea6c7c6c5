import { buildInitialStack, parseElf, PF_R, PF_W, PF_X, type ElfImage } from '../../emulator/cpu/unicorn/elf.js';
import type { Prng } from '../../emulator/prng.js';
import { MAP_PRIVATE, PROT_EXEC, PROT_READ, PROT_WRITE, type AddressSpace } from '../process/mm.js';
import { PAGE_SIZE } from '../process/pages.js';

/** Top of the main thread's stack: TASK_SIZE (0xbf000000; STACK_TOP without randomisation) */
export const STACK_TOP = 0xbf000000;
/** The stack VMA: 8 MiB (RLIMIT_STACK), demand-zero, so only touched pages cost RAM */
export const STACK_SIZE = 8 << 20;
const MAP_ANONYMOUS = 0x20;

const segProt = (f: number): number => ((f & PF_R) ? PROT_READ : 0) | ((f & PF_W) ? PROT_WRITE : 0) | ((f & PF_X) ? PROT_EXEC : 0);

export const DEFAULT_ENVP: readonly string[] = ['PATH=/bin:/usr/bin', 'HOME=/root', 'TERM=dumb'];

/**
 * Load a static ARM ELF into `mm` (empty): PT_LOAD segments become private anonymous VMAs
 * filled through copy_to_user (bss is the demand-zero rest), the program break starts after
 * the highest segment, an 8 MiB demand-zero stack VMA gets argc/argv/envp/auxv
 * (fs/binfmt_elf.c load_elf_binary, create_elf_tables). Throws ElfError for a file that is not
 * a static ARM executable. Used by execElf and by execve().
 */
export function loadElfImage(mm: AddressSpace, elf: Uint8Array, argv: readonly string[], envp: readonly string[], prng: Prng): { img: ElfImage; brk: number; sp: number } {
  const img = parseElf(elf);
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
  const brk = Math.ceil(img.end / PAGE_SIZE) * PAGE_SIZE;
  const stack = mm.mapRegion(STACK_TOP - STACK_SIZE, STACK_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, true);
  if (typeof stack === 'number') throw new Error('exec: cannot map the stack');
  const st = buildInitialStack(img, STACK_TOP, argv, envp, prng);
  if (mm.copyToUser(st.base, st.bytes, 0, st.bytes.length) < 0) throw new Error('exec: stack copy failed');
  // mm->start_stack (fs/binfmt_elf.c load_elf_binary: bprm->p, inside the stack VMA)
  mm.startStack = st.sp;
  return { img, brk, sp: st.sp };
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
