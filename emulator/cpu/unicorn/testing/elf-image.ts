/**
 * Test images: a static 32-bit little-endian ARM executable built field by field (the ELF
 * header, Elf32_Phdr entries; System V ABI gABI "ELF Header" and "Program Header", ARM ELF ABI
 * for EM_ARM and the EABI version 5 e_flags), for the loader's and exec's tests.
 */

/** one Elf32_Phdr (p_paddr = p_vaddr) */
export interface TestPhdr {
  /** p_type (default PT_LOAD, 1) */
  type?: number;
  offset: number;
  vaddr: number;
  filesz: number;
  memsz: number;
  /** p_flags: PF_X 1, PF_W 2, PF_R 4 */
  flags: number;
  /** p_align (default 0x1000) */
  align?: number;
}

export interface TestElf {
  /** the file's size in bytes (zero-filled past what is written) */
  size: number;
  entry: number;
  phdrs: readonly TestPhdr[];
  /** e_phnum when it should differ from phdrs.length (unused slots stay zero: PT_NULL) */
  phnum?: number;
  /** e_ehsize (default 52); 0 leaves the field zero as some hand-built images do */
  ehsize?: number;
  /** e_version (default 1) */
  version?: number;
}

/** ET_EXEC, EM_ARM, EABI5 e_flags, program headers at 52 (32 bytes each) */
export function testElf(o: TestElf): Uint8Array {
  const b = new Uint8Array(o.size);
  const dv = new DataView(b.buffer);
  b.set([0x7f, 0x45, 0x4c, 0x46, 1, 1, 1]);
  dv.setUint16(16, 2, true); // ET_EXEC
  dv.setUint16(18, 40, true); // EM_ARM
  dv.setUint32(20, o.version ?? 1, true);
  dv.setUint32(24, o.entry, true);
  dv.setUint32(28, 52, true); // e_phoff
  dv.setUint32(36, 0x05000400, true); // EF_ARM_EABI_VER5 | EF_ARM_ABI_FLOAT_HARD
  dv.setUint16(40, o.ehsize ?? 52, true);
  dv.setUint16(42, 32, true); // e_phentsize
  dv.setUint16(44, o.phnum ?? o.phdrs.length, true);
  o.phdrs.forEach((p, i) => {
    const at = 52 + i * 32;
    dv.setUint32(at, p.type ?? 1, true);
    dv.setUint32(at + 4, p.offset, true);
    dv.setUint32(at + 8, p.vaddr, true);
    dv.setUint32(at + 12, p.vaddr, true);
    dv.setUint32(at + 16, p.filesz, true);
    dv.setUint32(at + 20, p.memsz, true);
    dv.setUint32(at + 24, p.flags, true);
    dv.setUint32(at + 28, p.align ?? 0x1000, true);
  });
  return b;
}
