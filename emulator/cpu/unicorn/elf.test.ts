import { describe, expect, it } from 'vitest';
import { Prng } from '../../prng.js';
import { decodeTimespec, encodeTimespec, encodeUtsname, UTSNAME_SIZE } from './abi.js';
import { AT_BASE, AT_CLKTCK, AT_EGID, AT_ENTRY, AT_EUID, AT_EXECFN, AT_FLAGS, AT_GID, AT_HWCAP, AT_HWCAP2, AT_NULL, AT_PAGESZ, AT_PHDR, AT_PHENT, AT_PHNUM, AT_PLATFORM, AT_RANDOM, AT_RSEQ_ALIGN, AT_RSEQ_FEATURE_SIZE, AT_SECURE, AT_UID, buildInitialStack, ElfError, parseElf, PT_INTERP, PT_LOAD } from './elf.js';
import { UnicornUnavailableError } from './native.js';

/** A minimal ELF32 ARM executable: header, `phdrs` program headers, then 16 bytes of "code". */
function makeElf(opts: { cls?: number; type?: number; machine?: number; entry?: number; phdrs?: { type: number; vaddr: number; flags: number }[] } = {}): Uint8Array {
  const phdrs = opts.phdrs ?? [{ type: PT_LOAD, vaddr: 0x10000, flags: 5 }];
  const size = 52 + 32 * phdrs.length + 16;
  const b = new Uint8Array(size);
  const dv = new DataView(b.buffer);
  b.set([0x7f, 0x45, 0x4c, 0x46, opts.cls ?? 1, 1, 1]);
  dv.setUint16(16, opts.type ?? 2, true);
  dv.setUint16(18, opts.machine ?? 40, true);
  dv.setUint32(24, opts.entry ?? 0x10035, true);
  dv.setUint32(28, 52, true);
  dv.setUint16(42, 32, true);
  dv.setUint16(44, phdrs.length, true);
  phdrs.forEach((p, i) => {
    const o = 52 + 32 * i;
    dv.setUint32(o, p.type, true);
    dv.setUint32(o + 4, 0, true); // offset: the whole file from 0
    dv.setUint32(o + 8, p.vaddr, true);
    dv.setUint32(o + 16, size, true);
    dv.setUint32(o + 20, size + 100, true); // bss
    dv.setUint32(o + 24, p.flags, true);
    dv.setUint32(o + 28, 0x1000, true);
  });
  return b;
}

describe('ELF parser', () => {
  it('parses a static ARM executable: entry (Thumb), PT_LOAD, AT_PHDR address, end', () => {
    const img = parseElf(makeElf());
    expect(img.entry).toBe(0x10035);
    expect(img.thumbEntry).toBe(true);
    expect(img.loads).toHaveLength(1);
    expect(img.phdrAddr).toBe(0x10000 + 52);
    expect(img.phnum).toBe(1);
    expect(img.end).toBe(0x10000 + 52 + 32 + 16 + 100);
  });

  it('rejects what it cannot run with an ElfError, never a host crash', () => {
    const bad: [Uint8Array, RegExp][] = [
      [new Uint8Array(10), /too short/],
      [(() => { const b = makeElf(); b[0] = 0; return b; })(), /magic/],
      [makeElf({ cls: 2 }), /ELFCLASS32/],
      [makeElf({ type: 3 }), /ET_EXEC/],
      [makeElf({ machine: 183 }), /EM_ARM/],
      [makeElf({ phdrs: [{ type: PT_INTERP, vaddr: 0, flags: 4 }, { type: PT_LOAD, vaddr: 0x10000, flags: 5 }] }), /-static/],
      [makeElf({ phdrs: [] }), /no PT_LOAD/],
    ];
    for (const [bytes, re] of bad) {
      expect(() => parseElf(bytes)).toThrow(ElfError);
      expect(() => parseElf(bytes)).toThrow(re);
    }
  });
});

describe('initial stack', () => {
  it('lays out argc, argv, envp and auxv with deterministic AT_RANDOM bytes', () => {
    const img = parseElf(makeElf());
    const top = 0xbf000000;
    const st = buildInitialStack(img, top, ['/bin/x', 'arg1'], ['A=1'], new Prng(42));
    expect(st.sp % 16).toBe(0);
    expect(st.base).toBe(st.sp);
    expect(st.base + st.bytes.length).toBe(top);
    const dv = new DataView(st.bytes.buffer);
    const word = (va: number): number => dv.getUint32(va - st.base, true);
    const str = (va: number): string => {
      let e = va - st.base;
      while (st.bytes[e] !== 0) e++;
      return new TextDecoder().decode(st.bytes.subarray(va - st.base, e));
    };
    let p = st.sp;
    expect(word(p)).toBe(2);
    expect(str(word(p + 4))).toBe('/bin/x');
    expect(str(word(p + 8))).toBe('arg1');
    expect(word(p + 12)).toBe(0);
    expect(str(word(p + 16))).toBe('A=1');
    expect(word(p + 20)).toBe(0);
    p += 24;
    const aux = new Map<number, number>();
    for (;;) {
      const k = word(p);
      aux.set(k, word(p + 4));
      p += 8;
      if (k === AT_NULL) break;
    }
    expect(aux.get(AT_PHDR)).toBe(img.phdrAddr);
    expect(aux.get(AT_PHENT)).toBe(32);
    expect(aux.get(AT_PHNUM)).toBe(1);
    expect(aux.get(AT_PAGESZ)).toBe(4096);
    expect(aux.get(AT_ENTRY)).toBe(0x10035);
    expect(aux.get(AT_HWCAP)! & (1 << 12)).not.toBe(0); // NEON
    expect(str(aux.get(AT_PLATFORM)!)).toBe('v7l');
    const rnd = aux.get(AT_RANDOM)!;
    expect(rnd).toBe(st.randomAddr);
    const expected = new Uint8Array(16);
    new Prng(42).fill(expected);
    expect([...st.bytes.subarray(rnd - st.base, rnd - st.base + 16)]).toEqual([...expected]);
    // same seed, same image; another seed, other random bytes
    expect(buildInitialStack(img, top, ['/bin/x', 'arg1'], ['A=1'], new Prng(42)).bytes).toEqual(st.bytes);
    expect(buildInitialStack(img, top, ['/bin/x', 'arg1'], ['A=1'], new Prng(43)).bytes).not.toEqual(st.bytes);
  });

  it('puts the file name given at the top, AT_EXECFN pointing at it, envp strings below it and argv strings below those', () => {
    const img = parseElf(makeElf());
    const top = 0xbf000000;
    const st = buildInitialStack(img, top, ['x', 'arg1'], ['A=1', 'B=2'], new Prng(1), { execfn: '/proc/self/exe' });
    const dv = new DataView(st.bytes.buffer);
    const word = (va: number): number => dv.getUint32(va - st.base, true);
    const text = new TextDecoder().decode(st.bytes.subarray(word(st.sp + 4) - st.base, top - st.base));
    // __bprm_mm_init: bprm->p starts one pointer below the top
    expect(text).toBe('x\0arg1\0A=1\0B=2\0/proc/self/exe\0\0\0\0\0');
    let p = st.sp + 4 * (1 + 3 + 3);
    let execfn = 0;
    for (; word(p) !== AT_NULL; p += 8) if (word(p) === AT_EXECFN) execfn = word(p + 4);
    expect(execfn).toBe(top - 4 - '/proc/self/exe'.length - 1);
    // the platform string, then AT_RANDOM's bytes, below the strings
    expect(st.randomAddr + 16 + 4).toBeLessThanOrEqual(word(st.sp + 4));
  });
});

describe('ABI encoders', () => {
  it('round-trips timespecs (32-bit and time64) and rejects bad tv_nsec', () => {
    for (const ns of [0, 1, 999_999_999, 1_000_000_000, 2_500_000, 1_400_000_000_123_456_789]) {
      for (const t64 of [false, true]) {
        if (!t64 && ns > 2 ** 31 * 1e9) continue;
        const d = decodeTimespec(encodeTimespec(ns, t64), t64);
        expect(d === null ? null : Math.abs(d - ns)).toBeLessThan(1024); // float rounding at 1e18
      }
    }
    const bad = new Uint8Array(8);
    new DataView(bad.buffer).setInt32(4, 1_000_000_000, true);
    expect(decodeTimespec(bad, false)).toBeNull();
    // time64 on a 32-bit kernel (get_timespec64): the padding word above tv_nsec is dropped, the
    // low word is the long (a negative one is -EINVAL)
    const t64 = new Uint8Array(16);
    const v = new DataView(t64.buffer);
    v.setBigInt64(0, 2n, true);
    v.setUint32(8, 5, true);
    v.setUint32(12, 0xffffffff, true);
    expect(decodeTimespec(t64, true)).toBe(2e9 + 5);
    v.setUint32(8, 0xffffffff, true);
    v.setUint32(12, 0, true);
    expect(decodeTimespec(t64, true)).toBeNull();
  });

  it('encodes struct utsname as six 65-byte NUL-padded fields', () => {
    const u = encodeUtsname({ sysname: 'Linux', nodename: 'n', release: '3.17.0', version: 'v', machine: 'armv7l', domainname: 'd' });
    expect(u.length).toBe(UTSNAME_SIZE);
    expect(new TextDecoder().decode(u.subarray(0, 5))).toBe('Linux');
    expect(u[5]).toBe(0);
    expect(new TextDecoder().decode(u.subarray(4 * 65, 4 * 65 + 6))).toBe('armv7l');
  });

  it('names the missing package when libunicorn cannot be loaded', () => {
    expect(new UnicornUnavailableError('dlopen failed').message).toMatch(/^libunicorn2 not found: apt-get install libunicorn2/);
  });

  /** the pairs after envp's NULL, in order, AT_NULL's included */
  const pairsOf = (st: ReturnType<typeof buildInitialStack>, argc: number, envc: number): [number, number][] => {
    const dv = new DataView(st.bytes.buffer);
    const out: [number, number][] = [];
    for (let o = st.sp - st.base + 4 * (argc + envc + 3); ; o += 8) {
      out.push([dv.getUint32(o, true), dv.getUint32(o + 4, true)]);
      if (out[out.length - 1]![0] === AT_NULL) return out;
    }
  };

  it("writes create_elf_tables' pairs in its order; AT_HWCAP2 and the rseq pairs only when given; the size moves SP", () => {
    const img = parseElf(makeElf());
    const top = 0xbf000000;
    const cred = { uid: 1000, euid: 1001, gid: 5, egid: 6 };
    const old = buildInitialStack(img, top, ['x'], ['A=1'], new Prng(1), { cred, secure: 1 });
    // fs/binfmt_elf.c create_elf_tables, read in 3.14.4 (ARM: no ELF_HWCAP2, no ARCH_DLINFO)
    const head = [AT_HWCAP, AT_PAGESZ, AT_CLKTCK, AT_PHDR, AT_PHENT, AT_PHNUM, AT_BASE, AT_FLAGS, AT_ENTRY, AT_UID, AT_EUID, AT_GID, AT_EGID, AT_SECURE, AT_RANDOM];
    expect(pairsOf(old, 1, 1).map(([k]) => k)).toEqual([...head, AT_EXECFN, AT_PLATFORM, AT_NULL]);
    const v = new Map(pairsOf(old, 1, 1));
    expect([v.get(AT_FLAGS), v.get(AT_UID), v.get(AT_EUID), v.get(AT_GID), v.get(AT_EGID), v.get(AT_SECURE), v.get(AT_CLKTCK), v.get(AT_BASE)]).toEqual([0, 1000, 1001, 5, 6, 1, 100, 0]);
    // read in 6.12.19: AT_HWCAP2 after AT_RANDOM, CONFIG_RSEQ's two after AT_PLATFORM
    const now = buildInitialStack(img, top, ['x'], ['A=1'], new Prng(1), { hwcap2: 0x10, rseq: { featureSize: 28, align: 32 } });
    const nowPairs = pairsOf(now, 1, 1);
    expect(nowPairs.map(([k]) => k)).toEqual([...head, AT_HWCAP2, AT_EXECFN, AT_PLATFORM, AT_RSEQ_FEATURE_SIZE, AT_RSEQ_ALIGN, AT_NULL]);
    expect(nowPairs.slice(15, 16)).toEqual([[AT_HWCAP2, 0x10]]);
    expect(nowPairs.slice(18, 20)).toEqual([[AT_RSEQ_FEATURE_SIZE, 28], [AT_RSEQ_ALIGN, 32]]);
    // the default credentials: root
    expect(new Map(nowPairs).get(AT_UID)).toBe(0);
    // the strings and AT_RANDOM stay; SP is STACK_ROUND's: (AT_RANDOM - 4 * (items + 2 * pairs)) & ~15
    expect(now.randomAddr).toBe(old.randomAddr);
    expect(old.sp).toBe(((old.randomAddr - 4 * (5 + 2 * 18)) & ~15) >>> 0);
    expect(now.sp).toBe(((now.randomAddr - 4 * (5 + 2 * 21)) & ~15) >>> 0);
    expect(now.sp).toBeLessThan(old.sp);
  });
});
