import { EM_ARM, PT_INTERP, PT_LOAD, type ElfImage, type ElfSegment } from '../../emulator/cpu/unicorn/elf.js';
import { EIO, ELIBBAD, ENOEXEC } from '../base/errno.js';

/**
 * The checks fs/binfmt_elf.c load_elf_binary makes of an ELF image before the point of no
 * return (3.14 flush_old_exec, v6.12 begin_new_exec): each failure is an errno execve returns
 * with the caller's image intact. What execve does after the point of no return is load.ts
 * (loadExecImage).
 *
 * The generation of load_elf_binary (profile capability `execElfLoad`):
 * 'inline' (3.14): the program headers are read inline: e_phnum 1..65536/sizeof(elf_phdr)
 *   (2048), a short kernel_read of them -EIO; no FDPIC check (verified in a 3.x copy of
 *   fs/binfmt_elf.c);
 * 'elf-load' (v6.12): load_elf_phdrs: the table's size 1..ELF_MIN_ALIGN (4096 bytes: e_phnum
 *   up to 128), a short elf_read -ENOEXEC (load_elf_phdrs returns NULL, retval stays -ENOEXEC);
 *   arch/arm/include/asm/elf.h elf_check_fdpic: EI_OSABI ELFOSABI_ARM_FDPIC (65) -ENOEXEC
 *   (verified in a 6.x copy).
 */
export type ElfLoadRules = 'inline' | 'elf-load';

/** an exec image as load_elf_binary found it: its header, every PT_LOAD in file order */
export interface ExecElf extends ElfImage {
  /** e_type: ET_EXEC (2) or ET_DYN (3) */
  type: number;
  /** the interpreter PT_INTERP named (its checks before the point of no return passed), or null */
  interp: { path: string; bytes: Uint8Array } | null;
}

/** the interpreter named by PT_INTERP, opened as open_exec does: its bytes, or a negative errno */
export type OpenInterp = (path: string) => Uint8Array | number;

export const ET_EXEC = 2, ET_DYN = 3;
const EHDR = 52, PHENT = 32;
/** PATH_MAX (include/uapi/linux/limits.h) */
const PATH_MAX = 4096;
/** BINPRM_BUF_SIZE: 128 in 3.14, 256 in v6.12; both hold an Elf32_Ehdr */
const EF_ARM_EABI_MASK = 0xff000000, EF_ARM_APCS_26 = 0x08;
const ELFOSABI_ARM_FDPIC = 65;

const u16 = (b: Uint8Array, o: number): number => (o + 2 <= b.length ? b[o]! | (b[o + 1]! << 8) : 0);
const u32 = (b: Uint8Array, o: number): number => (o + 4 <= b.length ? (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0 : 0);

/**
 * arch/arm/kernel/elf.c elf_check_arch (verified, the same in 3.x and 6.x copies): EM_ARM; an
 * odd entry needs HWCAP_THUMB (the model's CPU has it), an even one must be word aligned; an
 * image without an EABI version may not ask for APCS-26 (no HWCAP_26BIT) and its VFP float
 * format needs HWCAP_VFP (present). No EI_CLASS or EI_DATA check: binfmt_elf compares the four
 * magic bytes only. v6.12 also refuses an FDPIC image (elf_check_fdpic, EI_OSABI 65).
 */
function elfCheckArch(h: Uint8Array, rules: ElfLoadRules): boolean {
  if (u16(h, 18) !== EM_ARM) return false;
  const entry = u32(h, 24);
  if ((entry & 1) === 0 && (entry & 3) !== 0) return false;
  const eflags = u32(h, 36);
  if ((eflags & EF_ARM_EABI_MASK) === 0 && (eflags & EF_ARM_APCS_26) !== 0) return false;
  if (rules === 'elf-load' && h[7] === ELFOSABI_ARM_FDPIC) return false;
  return true;
}

const isElf = (h: Uint8Array): boolean => h[0] === 0x7f && h[1] === 0x45 && h[2] === 0x4c && h[3] === 0x46;

/**
 * the program header table: 3.14 load_elf_binary / v6.12 load_elf_phdrs (rules above):
 * e_phentsize must be sizeof(struct elf_phdr), -ENOEXEC; the count's limits, -ENOEXEC; the
 * table read from the file at e_phoff, short: 3.14 -EIO, v6.12 -ENOEXEC
 */
function readPhdrs(h: Uint8Array, file: Uint8Array, rules: ElfLoadRules, bad: number): Uint8Array | number {
  if (u16(h, 42) !== PHENT) return -bad;
  const phnum = u16(h, 44);
  const size = phnum * PHENT;
  if (rules === 'inline' ? phnum < 1 || phnum > 65536 / PHENT : size === 0 || size > 65536 || size > 4096) return -bad;
  const phoff = u32(h, 28);
  if (phoff + size > file.length) return rules === 'inline' ? -EIO : -bad;
  return file.subarray(phoff, phoff + size);
}

/**
 * load_elf_binary before the point of no return, in its order (fs/binfmt_elf.c; 3.14 read in a
 * 3.x copy, v6.12 in a 6.x copy): the header is bprm->buf (the file's first bytes, the rest
 * zero: a short file reads as zeros), its magic, e_type ET_EXEC or ET_DYN, elf_check_arch, the
 * program headers (readPhdrs), then the first PT_INTERP: p_filesz 2..PATH_MAX (-ENOEXEC), its
 * bytes in the file (short: -EIO), NUL-terminated (-ENOEXEC), open_exec of the name (its errno:
 * -ENOENT for a missing interpreter), its header read (3.14 BINPRM_BUF_SIZE 128 bytes, v6.12
 * sizeof(Elf32_Ehdr) 52; short: -EIO), then -ELIBBAD for an interpreter without the ELF magic,
 * failing elf_check_arch or (v6.12) load_elf_phdrs. An ET_DYN image and an image with an
 * interpreter go on to the loader (load.ts: the ET_DYN's load_bias, load_elf_interp).
 * Nothing else is checked before the point of no return: p_filesz > p_memsz, addresses, file
 * ranges past the end of the file and a missing PT_LOAD are the loader's business afterwards
 * (load.ts), as in the kernel.
 */
export function readExecElf(file: Uint8Array, rules: ElfLoadRules, openInterp: OpenInterp): ExecElf | number {
  const h = file.length >= EHDR ? file : padTo(file, EHDR);
  if (!isElf(h)) return -ENOEXEC;
  const type = u16(h, 16);
  if (type !== ET_EXEC && type !== ET_DYN) return -ENOEXEC;
  if (!elfCheckArch(h, rules)) return -ENOEXEC;
  const ph = readPhdrs(h, file, rules, ENOEXEC);
  if (typeof ph === 'number') return ph;
  const phnum = ph.length / PHENT;
  let interp: ExecElf['interp'] = null;
  for (let i = 0; i < phnum; i++) {
    if (u32(ph, i * PHENT) !== PT_INTERP) continue;
    const r = checkInterp(file, ph.subarray(i * PHENT), rules, openInterp);
    if (typeof r === 'number') return r;
    // the first PT_INTERP only (load_elf_binary's loop breaks there)
    interp = r;
    break;
  }
  return { ...elfLoads(h, ph), type, interp, bytes: file };
}

function padTo(b: Uint8Array, n: number): Uint8Array {
  const out = new Uint8Array(n);
  out.set(b);
  return out;
}

/** load_elf_binary's PT_INTERP handling up to the interpreter's checks (readExecElf): the interpreter when they pass */
function checkInterp(file: Uint8Array, p: Uint8Array, rules: ElfLoadRules, openInterp: OpenInterp): { path: string; bytes: Uint8Array } | number {
  const off = u32(p, 4), filesz = u32(p, 16);
  if (filesz > PATH_MAX || filesz < 2) return -ENOEXEC;
  if (off + filesz > file.length) return -EIO;
  if (file[off + filesz - 1] !== 0) return -ENOEXEC;
  let e = off;
  while (file[e] !== 0) e++;
  const name = new TextDecoder().decode(file.subarray(off, e));
  const ib = openInterp(name);
  if (typeof ib === 'number') return ib;
  // 3.14 kernel_read(interpreter, 0, bprm->buf, BINPRM_BUF_SIZE) / v6.12 elf_read of the header
  if (ib.length < (rules === 'inline' ? 128 : EHDR)) return -EIO;
  if (!isElf(ib) || !elfCheckArch(ib, rules)) return -ELIBBAD;
  // v6.12 load_elf_phdrs of the interpreter (retval -ELIBBAD); 3.14 reads them later, in
  // load_elf_interp after the point of no return (not reached: interpreters are not loaded)
  if (rules === 'elf-load' && typeof readPhdrs(ib, ib, rules, ELIBBAD) === 'number') return -ELIBBAD;
  return { path: name, bytes: ib };
}

/**
 * the interpreter's header and PT_LOADs as fs/binfmt_elf.c load_elf_interp checks them after
 * the point of no return (3.x and 6.x copies read): e_type ET_EXEC or ET_DYN, elf_check_arch;
 * 3.14 then reads its program headers there (e_phentsize, 1..2048 headers, at most
 * ELF_MIN_ALIGN bytes, a short read -EIO), v6.12 read them before (load_elf_phdrs, readExecElf).
 * A failure is load_elf_interp's error: ~0UL (-EPERM as a value: "goto out" with error
 * unchanged) or -EIO; load_elf_binary then kills (load.ts).
 */
export function readInterpElf(ib: Uint8Array, rules: ElfLoadRules): ExecElf | number {
  const h = ib.length >= EHDR ? ib : padTo(ib, EHDR);
  const type = u16(h, 16);
  if (type !== ET_EXEC && type !== ET_DYN) return -1;
  if (!isElf(h) || !elfCheckArch(h, rules)) return -1;
  const ph = readPhdrs(h, ib, 'inline', 1);
  if (typeof ph === 'number') return ph === -EIO ? -EIO : -1;
  if (ph.length > 4096) return -1;
  const img = elfLoads(h, ph);
  return { ...img, type, interp: null, bytes: ib };
}

/** the PT_LOADs of a header and its program header table, and where the table lies in memory (AT_PHDR) */
function elfLoads(h: Uint8Array, ph: Uint8Array): Omit<ExecElf, 'type' | 'interp' | 'bytes'> {
  const phnum = ph.length / PHENT;
  const loads: ElfSegment[] = [];
  let end = 0;
  for (let i = 0; i < phnum; i++) {
    const o = i * PHENT;
    if (u32(ph, o) !== PT_LOAD) continue;
    const s: ElfSegment = { offset: u32(ph, o + 4), vaddr: u32(ph, o + 8), filesz: u32(ph, o + 16), memsz: u32(ph, o + 20), flags: u32(ph, o + 24), align: u32(ph, o + 28) };
    loads.push(s);
    end = Math.max(end, s.vaddr + s.memsz);
  }
  const entry = u32(h, 24);
  const phoff = u32(h, 28);
  // AT_PHDR as the model computed it before (elf.ts parseElf): the segment holding the whole table
  let phdrAddr = 0;
  for (const s of loads) {
    if (phoff >= s.offset && phoff + phnum * PHENT <= s.offset + s.filesz) {
      phdrAddr = (s.vaddr + (phoff - s.offset)) >>> 0;
      break;
    }
  }
  return { entry, thumbEntry: (entry & 1) === 1, phoff, phentsize: PHENT, phnum, phdrAddr, loads, end, symbols: [] };
}
