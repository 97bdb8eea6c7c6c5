import { describe, expect, it } from 'vitest';
import { PhysicalBus } from '../../emulator/bus.js';
import { testElf } from '../../emulator/cpu/unicorn/testing/elf-image.js';
import { Prng } from '../../emulator/prng.js';
import { AddressSpace } from '../process/mm.js';
import { FakePageAllocator } from '../process/testing/fake-pages.js';
import type { Process } from '../process/process.js';
import type { Task } from '../vfs/file.js';
import { openExecFsImage, type ExecFsFile } from './image-file.js';
import { ENOENT } from '../base/errno.js';
import { readExecElf, type ElfLoadRules, type ExecElf } from './elf-exec.js';
import { ExecLateError, loadElfImage, loadExecImage, STACK_SIZE, STACK_TOP } from './load.js';
import { SIGKILL, SIGSEGV } from './signal.js';

const RAM = 0x80000000;

/**
 * A static ARM ET_EXEC: text at 0x10000 (offset 0, 0x1800 bytes, R+X, the headers in it),
 * data at 0x12100 (offset 0x2100, 0x100 bytes of file, 0x2000 in memory: bss after it, RW),
 * then 0x200 bytes of 0xee
 */
function tinyElf(): Uint8Array {
  const b = testElf({
    size: 0x2400,
    entry: 0x10100,
    phdrs: [
      { offset: 0, vaddr: 0x10000, filesz: 0x1800, memsz: 0x1800, flags: 5 },
      { offset: 0x2100, vaddr: 0x12100, filesz: 0x100, memsz: 0x2000, flags: 6 },
    ],
  });
  for (let i = 0x100; i < 0x1800; i++) b[i] = i & 0xff;
  for (let i = 0x2100; i < 0x2200; i++) b[i] = 0xd0;
  // the file's bytes after the data segment's (a section table): a mapping shows them but for padzero
  b.fill(0xee, 0x2200);
  return b;
}

function setup() {
  const bus = new PhysicalBus();
  bus.addRam('ram', RAM, 1 << 24);
  const pages = new FakePageAllocator(bus, RAM, 1 << 24);
  const mk = (): { mm: AddressSpace; task: Task } => {
    const mm = new AddressSpace({ pages, bus }, null);
    return { mm, task: { proc: null as unknown as Process, mm, canBlock: false, sleepOn: () => {} } };
  };
  return { pages, mk };
}

describe('exec maps PT_LOAD segments from the image file (fs/binfmt_elf.c elf_map)', () => {
  it('text is the page cache\'s frames, shared by a second exec; data copy on write; bss zeroed by padzero and anonymous after', () => {
    const { pages, mk } = setup();
    const elf = tinyElf();
    const images = new Map<string, ExecFsFile>();
    const a = mk();
    const fa = openExecFsImage(images, '/bin/tiny', elf);
    loadElfImage(a.mm, elf, ['tiny'], [], new Prng(1), { file: fa, task: a.task });
    const afterFirst = pages.allocs;
    const b = mk();
    const fb = openExecFsImage(images, '/bin/tiny', elf);
    loadElfImage(b.mm, elf, ['tiny'], [], new Prng(1), { file: fb, task: b.task });
    const text = (mm: AddressSpace): number[] => [0x10000, 0x11000].map((va) => mm.mappings.find((v) => v.start <= va && va < v.end)!.pages![(va - mm.find(va)!.start) >>> 12]!);
    // the same frames: the second exec copied no text (it allocated only its stack and data pages)
    expect(text(b.mm)).toEqual(text(a.mm));
    expect(pages.allocs - afterFirst).toBeLessThan(afterFirst);
    // the VMAs name the file, with the offset of their first page
    const names = a.mm.mappings.map((v) => [v.start.toString(16), v.prot, v.file?.path ?? null, v.pgoff]);
    expect(names.slice(0, 3)).toEqual([['10000', 5, '/bin/tiny', 0], ['12000', 3, '/bin/tiny', 2], ['13000', 3, null, 0]]);
    // the file's bytes; padzero cleared the data page after the segment's file bytes
    expect(a.mm.loadU(0x10104, 1)).toBe(4);
    expect(a.mm.loadU(0x12100, 1)).toBe(0xd0);
    expect(a.mm.loadU(0x121ff, 1)).toBe(0xd0);
    expect(a.mm.loadU(0x12200, 1)).toBe(0);
    expect(a.mm.loadU(0x13000, 1)).toBe(0);
    // data: each process's own once written
    a.mm.storeU(0x12100, 1, 0x11);
    expect(b.mm.loadU(0x12100, 1)).toBe(0xd0);
    // text is read-only
    expect(() => a.mm.storeU(0x10100, 1, 0)).toThrow(/not permitted/);
    // the cache goes with the last mapping
    a.mm.releaseAll();
    expect(images.get('/bin/tiny')!.cache).not.toBeNull();
    b.mm.releaseAll();
    expect(images.get('/bin/tiny')!.cache).toBeNull();
  });

  it('without a file the segments are copied (private anonymous memory)', () => {
    const { mk } = setup();
    const a = mk();
    loadElfImage(a.mm, tinyElf(), ['tiny'], [], new Prng(1));
    expect(a.mm.mappings.every((v) => v.file == null)).toBe(true);
    expect(a.mm.loadU(0x12100, 1)).toBe(0xd0);
    expect(a.mm.loadU(0x12200, 1)).toBe(0);
  });
});

describe('load_elf_binary after the point of no return (fs/binfmt_elf.c; load.ts loadExecImage)', () => {
  /** tinyElf with its text segment at `va` (file offset congruent) and entry `entry` */
  const image = (rules: ElfLoadRules, va: number, entry = va + 0x100): ExecElf => {
    const b = tinyElf();
    const dv = new DataView(b.buffer);
    dv.setUint32(24, entry, true);
    dv.setUint32(52 + 8, va, true);
    const e = readExecElf(b, rules, () => -ENOENT);
    if (typeof e === 'number') throw new Error(`readExecElf ${e}`);
    return e;
  };
  const load = (rules: ElfLoadRules, img: ExecElf, argv: readonly string[] = ['tiny']): { mm: AddressSpace } => {
    const { mk } = setup();
    const a = mk();
    const f = openExecFsImage(new Map(), '/bin/tiny', img.bytes);
    loadExecImage(a.mm, img, argv, [], new Prng(1), { file: f, task: a.task }, rules);
    return a;
  };
  const failure = (fn: () => unknown): ExecLateError => {
    try {
      fn();
    } catch (e) {
      if (e instanceof ExecLateError) return e;
      throw e;
    }
    throw new Error('loaded');
  };

  it('an entry point at TASK_SIZE: BAD_ADDR, -EINVAL (3.14 force_sig(SIGSEGV))', () => {
    for (const rules of ['inline', 'elf-load'] as const) {
      const e = failure(() => load(rules, image(rules, 0x10000, 0xbf000000)));
      expect([e.errno, e.sig314]).toEqual([-22, SIGSEGV]);
    }
  });

  it('a first PT_LOAD in the 128 KiB under the initial stack: 3.14 MAP_FIXED maps it (the stack VMA starts above it), v6.12 MAP_FIXED_NOREPLACE -EEXIST', () => {
    const va = STACK_TOP - 0x10000;
    const a = load('inline', image('inline', va));
    expect(a.mm.loadU(va + 0x104, 1)).toBe(4);
    const stack = a.mm.find(STACK_TOP - 1)!;
    expect(stack.start).toBe(va + 0x2000);
    expect([failure(() => load('elf-load', image('elf-load', va))).errno]).toEqual([-17]);
    // lower, within RLIMIT_STACK (8 MiB) of the top: both eras map it and the stack VMA starts
    // where it would without it (setup_arg_pages), growing down towards it (stack-grow.ts)
    const low = STACK_TOP - STACK_SIZE + 0x100000;
    const b = load('elf-load', image('elf-load', low));
    const plain = load('elf-load', image('elf-load', 0x10000));
    expect(b.mm.find(STACK_TOP - 1)!.start).toBe(plain.mm.find(STACK_TOP - 1)!.start);
    expect(b.mm.find(STACK_TOP - 1)!.growsDown).toBe(true);
    expect(b.mm.find(STACK_TOP - 1)!.start).toBeGreaterThan(low + 0x2000);
  });

  it('the stack VMA: the argument pages and 128 KiB, VM_GROWSDOWN; within RLIMIT_STACK under the top when that is lower (setup_arg_pages)', () => {
    const a = load('elf-load', image('elf-load', 0x10000));
    const v = a.mm.find(STACK_TOP - 1)!;
    expect([STACK_TOP - v.start, v.growsDown]).toEqual([0x21000, true]);
    const { mk } = setup();
    const b = mk();
    b.mm.stackLimit = () => 0x18000 + 0x123; // rlimit & PAGE_MASK: 96 KiB
    const img = image('elf-load', 0x10000);
    loadExecImage(b.mm, img, ['tiny'], [], new Prng(1), { file: openExecFsImage(new Map(), '/bin/tiny', img.bytes), task: b.task }, 'elf-load');
    expect(STACK_TOP - b.mm.find(STACK_TOP - 1)!.start).toBe(0x18000);
  });

  it('v6.12: the stack VMA MAP_FIXED_NOREPLACE meets starts 128 KiB under the page of argv[0]\'s string (setup_arg_pages), not under AT_RANDOM\'s page', () => {
    // argv[0] of 2041 bytes: it and AT_EXECFN's copy (the same name) end the strings 8 bytes
    // into the page under STACK_TOP; the platform string and AT_RANDOM fall in the page below
    const argv = ['x'.repeat(2041)];
    const kstack = STACK_TOP - 0x1000 - 0x20000;
    // the text segment (two pages) right under that start: mapped
    const a = load('elf-load', image('elf-load', kstack - 0x2000), argv);
    expect(a.mm.loadU(kstack - 0x2000 + 0x104, 1)).toBe(4);
    // a page higher it meets the stack: -EEXIST
    expect([failure(() => load('elf-load', image('elf-load', kstack - 0x1000), argv)).errno]).toEqual([-17]);
  });

  it('a segment over the pages the initial stack is written to: create_elf_tables -EFAULT (3.14 send_sig(SIGKILL))', () => {
    // read-only text there: the copy of the stack faults
    const e = failure(() => load('inline', image('inline', STACK_TOP - 0x2000)));
    expect([e.errno, e.sig314]).toEqual([-14, SIGKILL]);
    // writable bss there: refused too (model choice, load.ts loadExecImage)
    const img = image('inline', 0x10000);
    img.loads[1] = { ...img.loads[1]!, vaddr: STACK_TOP - 0x3f00, memsz: 0x3000 };
    const w = failure(() => load('inline', img));
    expect([w.errno, w.sig314]).toEqual([-14, SIGKILL]);
  });
});
