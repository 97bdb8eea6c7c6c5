import { describe, expect, it } from 'vitest';
import { testElf } from '../../emulator/cpu/unicorn/testing/elf-image.js';
import { EACCES, EIO, ELIBBAD, ENOENT, ENOEXEC } from '../base/errno.js';
import { readExecElf, type ElfLoadRules } from './elf-exec.js';

/**
 * fs/binfmt_elf.c load_elf_binary before the point of no return (elf-exec.ts readExecElf):
 * the errno of each check, by era where they differ (capability `execElfLoad`).
 */

/** a static ARM ET_EXEC: one PT_LOAD R+X at 0x10000 from offset 0 (0x100 bytes), a second header slot (PT_NULL), "/lib/ld.so" at 0x80 */
function elf(): Uint8Array {
  const b = testElf({ size: 0x100, entry: 0x10080, phnum: 2, phdrs: [{ offset: 0, vaddr: 0x10000, filesz: 0x100, memsz: 0x100, flags: 5 }] });
  b.set(new TextEncoder().encode('/lib/ld.so\0'), 0x80);
  return b;
}
const set32 = (b: Uint8Array, o: number, v: number): Uint8Array => (new DataView(b.buffer).setUint32(o, v, true), b);
const set16 = (b: Uint8Array, o: number, v: number): Uint8Array => (new DataView(b.buffer).setUint16(o, v, true), b);
/** the second header a PT_INTERP at `off` of `len` bytes */
const withInterp = (off = 0x80, len = 11): Uint8Array => set32(set32(set32(elf(), 84, 3), 88, off), 100, len);
const none = (): number => -ENOENT;
const both = ['inline', 'elf-load'] as const;
const errno = (r: ReturnType<typeof readExecElf>): number => (typeof r === 'number' ? r : 0);

describe('load_elf_binary before the point of no return (readExecElf)', () => {
  it('the header: magic, e_type, elf_check_arch; no EI_CLASS or EI_DATA check; a short file reads as zeros', () => {
    for (const rules of both) {
      expect(errno(readExecElf(elf(), rules, none)), rules).toBe(0);
      const dyn = readExecElf(set16(elf(), 16, 3), rules, none);
      expect(typeof dyn !== 'number' && [dyn.type, dyn.interp], 'ET_DYN: loaded (load.ts)').toEqual([3, null]);
      expect(errno(readExecElf(set16(elf(), 16, 1), rules, none))).toBe(-ENOEXEC);
      expect(errno(readExecElf(set16(elf(), 18, 3), rules, none))).toBe(-ENOEXEC);
      expect(errno(readExecElf(set32(elf(), 24, 0x10082), rules, none)), 'entry & 3').toBe(-ENOEXEC);
      expect(errno(readExecElf(set32(elf(), 24, 0x10081), rules, none)), 'Thumb entry').toBe(0);
      expect(errno(readExecElf(set32(elf(), 36, 0x08), rules, none)), 'APCS-26 without EABI').toBe(-ENOEXEC);
      expect(errno(readExecElf(set32(elf(), 36, 0x05000008), rules, none)), 'EABI5: flags not read').toBe(0);
      const c = elf();
      c[4] = 2;
      c[5] = 2;
      expect(errno(readExecElf(c, rules, none)), 'EI_CLASS, EI_DATA').toBe(0);
      expect(errno(readExecElf(elf().subarray(0, 40), rules, none)), 'e_phentsize reads 0').toBe(-ENOEXEC);
    }
    const f = elf();
    f[7] = 65;
    expect([errno(readExecElf(f, 'inline', none)), errno(readExecElf(f, 'elf-load', none))]).toEqual([0, -ENOEXEC]);
  });

  it('the program headers: e_phentsize, the count, the table in the file', () => {
    for (const rules of both) {
      expect(errno(readExecElf(set16(elf(), 42, 40), rules, none))).toBe(-ENOEXEC);
      expect(errno(readExecElf(set16(elf(), 42, 16), rules, none))).toBe(-ENOEXEC);
      expect(errno(readExecElf(set16(elf(), 44, 0), rules, none))).toBe(-ENOEXEC);
    }
    const big = new Uint8Array(52 + 2049 * 32);
    big.set(elf());
    const n = (k: number): Uint8Array => set16(big.slice(), 44, k);
    expect([128, 129, 2048, 2049].map((k) => errno(readExecElf(n(k), 'inline', none)))).toEqual([0, 0, 0, -ENOEXEC]);
    expect([128, 129, 2048, 2049].map((k) => errno(readExecElf(n(k), 'elf-load', none)))).toEqual([0, -ENOEXEC, -ENOEXEC, -ENOEXEC]);
    const past = set32(elf(), 28, 0xf0);
    expect([errno(readExecElf(past, 'inline', none)), errno(readExecElf(past, 'elf-load', none))]).toEqual([-EIO, -ENOEXEC]);
  });

  it('PT_INTERP: its size, its bytes, the NUL, open_exec\'s errno, the interpreter\'s header', () => {
    const ld = set16(elf(), 16, 3);
    const open = (bytes: Uint8Array | number) => (p: string): Uint8Array | number => (p === '/lib/ld.so' ? bytes : -ENOENT);
    for (const rules of both) {
      expect(errno(readExecElf(withInterp(0x80, 1), rules, none))).toBe(-ENOEXEC);
      expect(errno(readExecElf(withInterp(0x80, 4097), rules, none))).toBe(-ENOEXEC);
      expect(errno(readExecElf(withInterp(0xf8, 11), rules, none))).toBe(-EIO);
      expect(errno(readExecElf(withInterp(0x80, 10), rules, none)), 'no NUL at the end').toBe(-ENOEXEC);
      expect(errno(readExecElf(withInterp(), rules, none))).toBe(-ENOENT);
      expect(errno(readExecElf(withInterp(), rules, open(-EACCES)))).toBe(-EACCES);
      expect(errno(readExecElf(withInterp(), rules, open(new Uint8Array(40))))).toBe(-EIO);
      expect(errno(readExecElf(withInterp(), rules, open(new Uint8Array(0x100)))), 'no ELF').toBe(-ELIBBAD);
      expect(errno(readExecElf(withInterp(), rules, open(set16(ld.slice(), 18, 62)))), 'x86-64').toBe(-ELIBBAD);
      const good = readExecElf(withInterp(), rules, open(ld));
      expect(typeof good !== 'number' && good.interp, 'a good one: loaded (load.ts)').toEqual({ path: '/lib/ld.so', bytes: ld });
    }
    // 3.14 reads BINPRM_BUF_SIZE (128) bytes of it, v6.12 the 52 of the header
    const short = ld.slice(0, 120);
    expect([errno(readExecElf(withInterp(), 'inline', open(short))), errno(readExecElf(withInterp(), 'elf-load', open(short)))]).toEqual([-EIO, 0]);
    // v6.12 reads its program headers here (-ELIBBAD); 3.14 only after the point of no return
    // (load_elf_interp: a kill, load.ts)
    const badPh = set16(ld.slice(), 42, 40);
    const r = (rules: ElfLoadRules): number => errno(readExecElf(withInterp(), rules, open(badPh)));
    expect([r('inline'), r('elf-load')]).toEqual([0, -ELIBBAD]);
  });
});
