import type { PhysicalBus } from '../../emulator/bus.js';
import type { Cpu } from '../../emulator/cpu/cpu.js';
import { buildInitialStack, parseElf, PF_R, PF_W, PF_X, type ElfImage } from '../../emulator/cpu/unicorn/elf.js';
import { UnicornEngine } from '../../emulator/cpu/unicorn/engine.js';
import { UnicornThread } from '../../emulator/cpu/unicorn/thread.js';
import type { Prng } from '../../emulator/prng.js';
import type { Tracer } from '../../emulator/trace.js';
import type { KernelLog } from '../base/klog.js';
import { MAP_PRIVATE, PROT_EXEC, PROT_READ, PROT_WRITE } from '../process/mm.js';
import { PAGE_SIZE } from '../process/pages.js';
import type { Process } from '../process/process.js';
import type { SyscallLayer } from '../syscall/syscalls.js';
import { LinuxAbi } from './linux-abi.js';
import { ProcessGuestSpace } from './space.js';

/** Top of the main thread's stack (below TASK_SIZE 0xc0000000, like Linux's randomisation-free layout) */
export const STACK_TOP = 0xbf000000;
/** The stack VMA: 8 MiB (RLIMIT_STACK), demand-zero, so only touched pages cost RAM */
export const STACK_SIZE = 8 << 20;
const MAP_ANONYMOUS = 0x20;

export interface ExecOptions {
  layer: SyscallLayer;
  proc: Process;
  cpu: Cpu;
  bus: PhysicalBus;
  /** the ELF file's bytes (a static ARM ET_EXEC) */
  elf: Uint8Array;
  argv: readonly string[];
  envp?: readonly string[];
  /** AT_RANDOM, getrandom */
  prng: Prng;
  tracer?: Tracer | null;
  log?: KernelLog | null;
  /** host batching limit in instructions (default 10,000; invisible to the program) */
  quantum?: number;
  /** time slice in instructions (default 10,000) */
  timeslice?: number;
  /** cycles per instruction (default 1) */
  cpi?: number;
}

/** An ARM Linux program running as a kernel-model process on the Unicorn backend. */
export interface ArmProcess {
  proc: Process;
  engine: UnicornEngine;
  space: ProcessGuestSpace;
  abi: LinuxAbi;
  main: UnicornThread;
  image: ElfImage;
}

const segProt = (f: number): number => ((f & PF_R) ? PROT_READ : 0) | ((f & PF_W) ? PROT_WRITE : 0) | ((f & PF_X) ? PROT_EXEC : 0);

/**
 * execve() of a static ARM ELF into a fresh kernel-model process: PT_LOAD segments become
 * private anonymous VMAs filled through copy_to_user (bss is the demand-zero rest), the
 * program break starts after the highest segment, an 8 MiB demand-zero stack VMA gets
 * argc/argv/envp/auxv, and a Unicorn engine mirrors the address space (ProcessGuestSpace).
 * The main thread (tid = pid) is added to the CPU's run queue.
 *
 * Throws ElfError for a file that is not a static ARM executable, UnicornUnavailableError
 * without libunicorn2.
 */
export function execElf(o: ExecOptions): ArmProcess {
  const img = parseElf(o.elf);
  const mm = o.proc.mm;
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
  const argv = o.argv.length > 0 ? o.argv : [o.proc.name];
  const st = buildInitialStack(img, STACK_TOP, argv, o.envp ?? ['PATH=/bin:/usr/bin', 'HOME=/root', 'TERM=dumb'], o.prng.fork(1));
  if (mm.copyToUser(st.base, st.bytes, 0, st.bytes.length) < 0) throw new Error('exec: stack copy failed');

  const space = new ProcessGuestSpace(mm);
  const engine = new UnicornEngine();
  engine.attach(space, o.bus);
  const exe = argv[0]!.startsWith('/') ? argv[0]! : `/bin/${argv[0]}`;
  const abi = new LinuxAbi({ layer: o.layer, proc: o.proc, space, cpu: o.cpu, prng: o.prng.fork(2), exe, brk, log: o.log ?? null, tracer: o.tracer ?? null });
  const main = new UnicornThread(o.proc.pid, o.proc.name, engine, abi, img.entry, st.sp, { tracer: o.tracer ?? null, quantum: o.quantum, timeslice: o.timeslice, cpi: o.cpi, chargeSyscalls: false });
  abi.adopt(main);
  o.cpu.addThread(main);
  return { proc: o.proc, engine, space, abi, main, image: img };
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
