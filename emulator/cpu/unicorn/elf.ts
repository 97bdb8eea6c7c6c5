import type { Prng } from '../../prng.js';

/**
 * Pure parser for static 32-bit little-endian ARM ELF executables, and the builder of the
 * initial process stack (argc, argv, envp, auxv) as the Linux ELF loader lays it out.
 * No memory is touched here: the caller maps the segments and writes the stack image.
 */
export const PT_LOAD = 1;
export const PT_INTERP = 3;
export const PT_TLS = 7;
export const PF_X = 1;
export const PF_W = 2;
export const PF_R = 4;
export const EM_ARM = 40;

export interface ElfSegment {
  vaddr: number;
  memsz: number;
  filesz: number;
  offset: number;
  /** PF_R | PF_W | PF_X */
  flags: number;
  align: number;
}

export interface ElfSymbol {
  name: string;
  value: number;
  size: number;
}

export interface ElfImage {
  entry: number;
  /** true when the entry point is Thumb code (odd address) */
  thumbEntry: boolean;
  phoff: number;
  phentsize: number;
  phnum: number;
  /** virtual address of the program headers in the loaded image (for AT_PHDR) */
  phdrAddr: number;
  loads: ElfSegment[];
  /** end of the highest PT_LOAD (initial program break, page aligned by the caller) */
  end: number;
  /** function/object symbols from .symtab, if present */
  symbols: ElfSymbol[];
  bytes: Uint8Array;
}

export class ElfError extends Error {
  constructor(msg: string) {
    super(`ELF: ${msg}`);
    this.name = 'ElfError';
  }
}

export function parseElf(bytes: Uint8Array): ElfImage {
  if (bytes.length < 52) throw new ElfError('file too short');
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (dv.getUint32(0, false) !== 0x7f454c46) throw new ElfError('bad magic');
  if (bytes[4] !== 1) throw new ElfError('not ELFCLASS32 (AArch64 images are not supported yet)');
  if (bytes[5] !== 1) throw new ElfError('not little-endian');
  const type = dv.getUint16(16, true);
  if (type !== 2) throw new ElfError(`e_type ${type}: only static ET_EXEC executables are supported`);
  const machine = dv.getUint16(18, true);
  if (machine !== EM_ARM) throw new ElfError(`e_machine ${machine} is not EM_ARM`);
  const entry = dv.getUint32(24, true);
  const phoff = dv.getUint32(28, true);
  const shoff = dv.getUint32(32, true);
  const phentsize = dv.getUint16(42, true);
  const phnum = dv.getUint16(44, true);
  const shentsize = dv.getUint16(46, true);
  const shnum = dv.getUint16(48, true);
  if (phentsize < 32 || phoff + phnum * phentsize > bytes.length) throw new ElfError('program headers out of file');
  const loads: ElfSegment[] = [];
  let end = 0;
  for (let i = 0; i < phnum; i++) {
    const o = phoff + i * phentsize;
    const ptype = dv.getUint32(o, true);
    if (ptype === PT_INTERP) throw new ElfError('dynamically linked (PT_INTERP): build with -static');
    if (ptype !== PT_LOAD) continue;
    const seg: ElfSegment = {
      offset: dv.getUint32(o + 4, true),
      vaddr: dv.getUint32(o + 8, true),
      filesz: dv.getUint32(o + 16, true),
      memsz: dv.getUint32(o + 20, true),
      flags: dv.getUint32(o + 24, true),
      align: dv.getUint32(o + 28, true),
    };
    if (seg.filesz > seg.memsz || seg.offset + seg.filesz > bytes.length) throw new ElfError(`PT_LOAD ${i} out of file`);
    if (seg.vaddr + seg.memsz > 0x1_0000_0000) throw new ElfError(`PT_LOAD ${i} beyond 4 GiB`);
    loads.push(seg);
    end = Math.max(end, seg.vaddr + seg.memsz);
  }
  if (loads.length === 0) throw new ElfError('no PT_LOAD segment');
  // AT_PHDR: the program headers' address inside the segment that contains them in the file.
  let phdrAddr = 0;
  for (const s of loads) {
    if (phoff >= s.offset && phoff + phnum * phentsize <= s.offset + s.filesz) {
      phdrAddr = s.vaddr + (phoff - s.offset);
      break;
    }
  }
  return {
    entry,
    thumbEntry: (entry & 1) === 1,
    phoff,
    phentsize,
    phnum,
    phdrAddr,
    loads,
    end,
    symbols: readSymbols(bytes, dv, shoff, shentsize, shnum),
    bytes,
  };
}

function readSymbols(bytes: Uint8Array, dv: DataView, shoff: number, shentsize: number, shnum: number): ElfSymbol[] {
  const out: ElfSymbol[] = [];
  if (shoff === 0 || shentsize < 40 || shoff + shnum * shentsize > bytes.length) return out;
  for (let i = 0; i < shnum; i++) {
    const o = shoff + i * shentsize;
    if (dv.getUint32(o + 4, true) !== 2 /* SHT_SYMTAB */) continue;
    const off = dv.getUint32(o + 16, true);
    const size = dv.getUint32(o + 20, true);
    const link = dv.getUint32(o + 24, true);
    const lo = shoff + link * shentsize;
    if (link >= shnum) continue;
    const stroff = dv.getUint32(lo + 16, true);
    const strsz = dv.getUint32(lo + 20, true);
    if (off + size > bytes.length || stroff + strsz > bytes.length) continue;
    const dec = new TextDecoder();
    for (let s = off; s + 16 <= off + size; s += 16) {
      const nameOff = dv.getUint32(s, true);
      const info = bytes[s + 12]!;
      const t = info & 0xf;
      if (t !== 1 && t !== 2) continue; // STT_OBJECT, STT_FUNC
      let e = stroff + nameOff;
      while (e < stroff + strsz && bytes[e] !== 0) e++;
      out.push({ name: dec.decode(bytes.subarray(stroff + nameOff, e)), value: dv.getUint32(s + 4, true), size: dv.getUint32(s + 8, true) });
    }
  }
  return out;
}

/** The symbol containing `addr` (Thumb bit ignored), or null. */
export function symbolAt(img: ElfImage, addr: number): ElfSymbol | null {
  for (const s of img.symbols) {
    const v = s.value & ~1;
    if (addr >= v && addr < v + Math.max(s.size, 1)) return s;
  }
  return null;
}

// auxv keys (linux/auxvec.h)
export const AT_NULL = 0;
export const AT_PHDR = 3;
export const AT_PHENT = 4;
export const AT_PHNUM = 5;
export const AT_PAGESZ = 6;
export const AT_BASE = 7;
export const AT_FLAGS = 8;
export const AT_ENTRY = 9;
export const AT_UID = 11;
export const AT_EUID = 12;
export const AT_GID = 13;
export const AT_EGID = 14;
export const AT_PLATFORM = 15;
export const AT_HWCAP = 16;
export const AT_CLKTCK = 17;
export const AT_SECURE = 23;
export const AT_RANDOM = 25;
export const AT_HWCAP2 = 26;
export const AT_RSEQ_FEATURE_SIZE = 27;
export const AT_RSEQ_ALIGN = 28;
export const AT_EXECFN = 31;

/**
 * HWCAP bits for a Cortex-A15 with VFPv4 + NEON (asm/hwcap.h): SWP HALF THUMB FAST_MULT
 * VFP EDSP NEON VFPv3 TLS VFPv4 IDIVA IDIVT VFPD32 LPAE. Not HWCAP_EVTSTRM (bit 21), in either
 * era: the arch timer driver sets it (drivers/clocksource/arm_arch_timer.c
 * arch_timer_configure_evtstream -> arch_timer_evtstrm_enable -> elf_hwcap |= HWCAP_EVTSTRM; 3.14.4
 * in arch/arm/include/asm/arch_timer.h, 6.12.19 through arch_timer_set_evtstrm_feature, both read),
 * and CONFIG_ARM_ARCH_TIMER_EVTSTREAM is on in both vexpress_defconfigs (drivers/clocksource/Kconfig
 * "default y if ARM_ARCH_TIMER", selected by HAVE_ARM_ARCH_TIMER=y), but the driver probes only
 * from an "arm,armv7-timer" device tree node (CLOCKSOURCE_OF_DECLARE / TIMER_OF_DECLARE), and the
 * board's device trees (emulator/boards/*.dts) have none.
 */
export const HWCAP_CORTEX_A15 = (1 << 0) | (1 << 1) | (1 << 2) | (1 << 4) | (1 << 6) | (1 << 7) | (1 << 12) | (1 << 13) | (1 << 15) | (1 << 16) | (1 << 17) | (1 << 18) | (1 << 19) | (1 << 20);

export interface StackImage {
  /** initial SP (points at argc) */
  sp: number;
  /** lowest address written; the bytes cover [base, top) */
  base: number;
  bytes: Uint8Array;
  /** address of the 16 AT_RANDOM bytes */
  randomAddr: number;
  /** the lowest argument string's address (argv[0]'s): bprm->p when setup_arg_pages runs, mm->arg_start */
  argStart: number;
}

/** the exec'ing task's ids as create_elf_tables writes them (cred->uid, euid, gid, egid) */
export interface AuxCred {
  uid: number;
  euid: number;
  gid: number;
  egid: number;
}

/** what buildInitialStack's auxiliary vector holds beyond the image's own values */
export interface StackOptions {
  /** ELF_PLATFORM's string (default "v7l") */
  platform?: string;
  /** ELF_HWCAP (default HWCAP_CORTEX_A15) */
  hwcap?: number;
  /** ELF_HWCAP2: AT_HWCAP2 is written only with it (v6.12) */
  hwcap2?: number;
  /** AT_RSEQ_FEATURE_SIZE and AT_RSEQ_ALIGN: written only with it (v6.12 CONFIG_RSEQ) */
  rseq?: { featureSize: number; align: number };
  /** AT_UID/AT_EUID/AT_GID/AT_EGID (default all 0, root) */
  cred?: AuxCred;
  /** AT_SECURE (default 0) */
  secure?: number;
  pageSize?: number;
  /** bprm->filename, the string AT_EXECFN points at */
  execfn?: string;
}

/**
 * Build the initial stack below `top` (exclusive), as fs/exec.c and fs/binfmt_elf.c
 * create_elf_tables lay it out (3.14 and v6.12 alike). From high to low addresses: one
 * pointer's width left free (__bprm_mm_init: bprm->p = vm_end - sizeof(void *)); the file name
 * as given to execve (`opts.execfn`, do_execve_common / do_execveat_common copy it first,
 * copy_strings_kernel / copy_string_kernel, and keep its address as bprm->exec, the value of
 * AT_EXECFN); the envp strings, then the argv strings below them (copy_strings, each array
 * copied from its last string down, so envp[0] and argv[0] are the lowest of theirs); from
 * there aligned down to 16 bytes (arch_align_stack, without its randomisation: the model has
 * no ASLR), the platform string, the 16 AT_RANDOM bytes just below it, then auxv, envp[],
 * argv[] and argc, with SP 16-byte aligned at argc (STACK_ROUND; ARM EABI requires 8).
 * Without `opts.execfn` (host tests) the name is argv[0], else "a.out".
 * The auxiliary vector is create_elf_tables' (fs/binfmt_elf.c, read in 3.14.4 / 6.12.19), in its
 * order: AT_HWCAP, AT_PAGESZ, AT_CLKTCK, AT_PHDR, AT_PHENT, AT_PHNUM, AT_BASE, AT_FLAGS (0: no
 * binfmt_misc, so no v6.12 AT_FLAGS_PRESERVE_ARGV0), AT_ENTRY, AT_UID, AT_EUID, AT_GID, AT_EGID
 * (`opts.cred`, the exec'ing task's current_cred(); default root), AT_SECURE (`opts.secure`:
 * 3.14 security_bprm_secureexec, v6.12 bprm->secureexec), AT_RANDOM, AT_HWCAP2 (only with
 * `opts.hwcap2`: #ifdef ELF_HWCAP2, which ARM's asm/hwcap.h defines in v6.12, not in 3.14),
 * AT_EXECFN, AT_PLATFORM (ARM has no ELF_BASE_PLATFORM, so no AT_BASE_PLATFORM; no AT_EXECFD:
 * binfmt_misc only), then AT_RSEQ_FEATURE_SIZE and AT_RSEQ_ALIGN (only with `opts.rseq`: v6.12
 * #ifdef CONFIG_RSEQ), and AT_NULL. Their number moves SP (STACK_ROUND below AT_RANDOM). ARM's
 * ARCH_DLINFO, which would come first, exists only in v6.12 with CONFIG_VDSO (AT_SYSINFO_EHDR,
 * the vDSO's address): the model has no vDSO, so it is left out (a model limit: the C library
 * finds no vDSO and makes the time calls as system calls).
 */
export function buildInitialStack(img: ElfImage, top: number, argv: readonly string[], envp: readonly string[], prng: Prng, opts: StackOptions = {}): StackImage {
  const enc = new TextEncoder();
  const platform = enc.encode((opts.platform ?? 'v7l') + '\0');
  const execfn = opts.execfn ?? argv[0] ?? 'a.out';
  // ascending addresses: argv strings, envp strings, the file name
  const strs = [...argv, ...envp, execfn].map((s) => enc.encode(s + '\0'));
  let strBytes = 0;
  for (const s of strs) strBytes += s.length;
  const random = new Uint8Array(16);
  prng.fill(random);
  const nPtrs = 1 + argv.length + 1 + envp.length + 1;
  // the vector's entries and AT_NULL (create_elf_tables: ei_index after "advance past the AT_NULL entry")
  const auxCount = 17 + (opts.hwcap2 !== undefined ? 1 : 0) + (opts.rseq !== undefined ? 2 : 0) + 1;
  // total size: pointers + auxv + random + strings, rounded
  const vecBytes = (nPtrs + auxCount * 2) * 4;
  const stringsBase = (top - 4 - strBytes) >>> 0;
  const platformAddr = (((stringsBase & ~15) >>> 0) - platform.length) >>> 0;
  const randomAddr = (platformAddr - 16) >>> 0;
  const sp = ((randomAddr - vecBytes) & ~15) >>> 0;
  const base = sp;
  const bytes = new Uint8Array(top - base);
  const dv = new DataView(bytes.buffer);
  const addrs: number[] = [];
  let p = stringsBase;
  for (const s of strs) {
    bytes.set(s, p - base);
    addrs.push(p);
    p += s.length;
  }
  bytes.set(platform, platformAddr - base);
  bytes.set(random, randomAddr - base);
  const argAddrs = addrs.slice(0, argv.length);
  const envAddrs = addrs.slice(argv.length, argv.length + envp.length);
  const execfnAddr = addrs[argv.length + envp.length]!;
  const cred = opts.cred ?? { uid: 0, euid: 0, gid: 0, egid: 0 };
  // create_elf_tables' NEW_AUX_ENT order (read in 3.14.4 / 6.12.19)
  const auxv: [number, number][] = [
    [AT_HWCAP, opts.hwcap ?? HWCAP_CORTEX_A15], [AT_PAGESZ, opts.pageSize ?? 4096], [AT_CLKTCK, 100],
    [AT_PHDR, img.phdrAddr], [AT_PHENT, img.phentsize], [AT_PHNUM, img.phnum], [AT_BASE, 0], [AT_FLAGS, 0], [AT_ENTRY, img.entry],
    [AT_UID, cred.uid], [AT_EUID, cred.euid], [AT_GID, cred.gid], [AT_EGID, cred.egid], [AT_SECURE, opts.secure ?? 0],
    [AT_RANDOM, randomAddr],
  ];
  if (opts.hwcap2 !== undefined) auxv.push([AT_HWCAP2, opts.hwcap2]);
  auxv.push([AT_EXECFN, execfnAddr], [AT_PLATFORM, platformAddr]);
  if (opts.rseq !== undefined) auxv.push([AT_RSEQ_FEATURE_SIZE, opts.rseq.featureSize], [AT_RSEQ_ALIGN, opts.rseq.align]);
  if (auxv.length + 1 !== auxCount) throw new ElfError('internal: auxv size');
  let w = sp - base;
  const put = (v: number): void => {
    dv.setUint32(w, v >>> 0, true);
    w += 4;
  };
  put(argv.length);
  for (const a of argAddrs) put(a);
  put(0);
  for (const e of envAddrs) put(e);
  put(0);
  for (const [k, v] of auxv) {
    put(k);
    put(v);
  }
  put(AT_NULL);
  put(0);
  if (base + w > randomAddr) throw new ElfError('internal: stack vectors overlap AT_RANDOM');
  return { sp, base, bytes, randomAddr, argStart: stringsBase };
}
