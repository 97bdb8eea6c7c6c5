import type { PhysicalBus } from '../../emulator/bus.js';
import type { Cpu } from '../../emulator/cpu/cpu.js';
import { ElfError, PT_INTERP, type ElfImage } from '../../emulator/cpu/unicorn/elf.js';
import { UnicornEngine } from '../../emulator/cpu/unicorn/engine.js';
import { UnicornThread } from '../../emulator/cpu/unicorn/thread.js';
import type { Prng } from '../../emulator/prng.js';
import type { Tracer } from '../../emulator/trace.js';
import type { KernelLog } from '../base/klog.js';
import type { Process } from '../process/process.js';
import type { SyscallLayer } from '../syscall/syscalls.js';
import { LinuxAbi, type ExecFs } from './linux-abi.js';
import { execAuxOptions } from './auxv.js';
import { DEFAULT_ENVP, loadElfImage, loadExecImage } from './load.js';
import { readExecElf } from './elf-exec.js';
import { openExec, type ExecImage, type OpenExecEnv } from './open-exec.js';
import { ProcessGuestSpace } from './space.js';
import { openExecFsImage, type ExecFsFile } from './image-file.js';
import type { File, Task } from '../vfs/file.js';

export { DEFAULT_ENVP, loadElfImage, STACK_SIZE, STACK_TOP } from './load.js';

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
  /** the executables execve() can run (null: only /proc/self/exe) */
  execFs?: ExecFs | null;
  /**
   * the image's file in the namespace (a rootfs file opened read-only), its segments mapped
   * from it; absent: the image is the exec file system's file at its path (image-file.ts)
   */
  file?: File | null;
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

/**
 * execve() of a static ARM ELF into a fresh kernel-model process: PT_LOAD segments are mapped
 * from the image's file (load.ts mapFromFile; bss is the demand-zero rest), the
 * program break starts after the highest segment, an 8 MiB demand-zero stack VMA gets
 * argc/argv/envp/auxv, and a Unicorn engine mirrors the address space (ProcessGuestSpace).
 * The main thread (tid = pid) is added to the CPU's run queue.
 *
 * Throws ElfError for a file that is not a static ARM executable, UnicornUnavailableError
 * without libunicorn2.
 */
export function execElf(o: ExecOptions): ArmProcess {
  const argv = o.argv.length > 0 ? o.argv : [o.proc.name];
  const exe = argv[0]!.startsWith('/') ? argv[0]! : `/bin/${argv[0]}`;
  const images = new Map<string, ExecFsFile>();
  const file = o.file ?? openExecFsImage(images, exe, o.elf);
  const task: Task = { proc: o.proc, mm: o.proc.mm, canBlock: false, sleepOn: () => {} };
  // AT_EXECFN: the path executed, as the kernel's first program gets it (init/main.c
  // run_init_process -> kernel_execve(init_filename): bprm->filename)
  const { img, brk, sp } = isDynamic(o.elf) ? loadDynamic(o, task, images, file, argv, exe) : loadElfImage(o.proc.mm, o.elf, argv, o.envp ?? DEFAULT_ENVP, o.prng.fork(1), { file, task }, exe, execAuxOptions(o.layer.host.execAuxv ?? '3.14', o.proc));
  const space = new ProcessGuestSpace(o.proc.mm);
  const engine = UnicornEngine.obtain(o.proc);
  engine.attach(space, o.bus);
  const abi = new LinuxAbi({ layer: o.layer, proc: o.proc, space, cpu: o.cpu, prng: o.prng.fork(2), exeFile: file, brk, log: o.log ?? null, tracer: o.tracer ?? null, bus: o.bus, exeBytes: o.elf, execFs: o.execFs ?? null, execImages: images });
  const main = new UnicornThread(o.proc.pid, o.proc.name, engine, abi, img.entry, sp, { tracer: o.tracer ?? null, quantum: o.quantum, timeslice: o.timeslice, cpi: o.cpi, chargeSyscalls: false });
  abi.adopt(main);
  // comm: kbasename of the path executed (3.14 setup_new_exec, v6.12 begin_new_exec), as
  // sysExecve sets it (the thread keeps the name it was created with: a host label)
  o.proc.execComm(exe.slice(exe.lastIndexOf('/') + 1));
  o.cpu.addThread(main);
  return { proc: o.proc, engine, space, abi, main, image: img };
}

/** an ET_DYN or an image with a PT_INTERP (elf.ts parseElf takes static ET_EXEC images only) */
function isDynamic(b: Uint8Array): boolean {
  if (b.length < 52) return false;
  if (b[16] === 3 && b[17] === 0) return true;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const phoff = dv.getUint32(28, true), phnum = dv.getUint16(44, true);
  for (let i = 0; i < phnum && phoff + 32 * i + 4 <= b.length; i++) if (dv.getUint32(phoff + 32 * i, true) === PT_INTERP) return true;
  return false;
}

/**
 * the first program as execve loads a PIE or a dynamically linked image (elf-exec.ts
 * readExecElf with the profile's execElfLoad, its interpreter opened as open_exec does: the
 * namespace, then the exec file system; load.ts loadExecImage): an errno before the point of
 * no return is an ElfError, one after it an ExecLateError
 */
function loadDynamic(o: ExecOptions, task: Task, images: Map<string, ExecFsFile>, file: File, argv: readonly string[], exe: string): ReturnType<typeof loadElfImage> {
  const host = o.layer.host;
  const rules = host.execElfLoad ?? 'inline';
  const env: OpenExecEnv = { vfs: host.vfs, task, check: host.execOpenCheck ?? 'open-then-isreg', execFs: o.execFs ?? null, running: null, images };
  let interp: ExecImage | null = null;
  // the interpreter's open failed: its name goes into the error (a dynamically linked program run without its loader)
  let interpFailed: string | null = null;
  const elf = readExecElf(o.elf, rules, (path) => {
    const it = openExec(env, path);
    if (typeof it === 'number') {
      interpFailed = path;
      return it;
    }
    interp = it;
    return it.bytes;
  });
  if (typeof elf === 'number') throw new ElfError(`execve of ${exe}: errno ${-elf}${interpFailed !== null ? ` (opening its interpreter ${interpFailed as string})` : ''}`);
  const ii = interp as ExecImage | null;
  const ifile = elf.interp !== null && ii !== null ? ii.open() : null;
  if (typeof ifile === 'number') throw new ElfError(`execve of ${exe}: the interpreter: errno ${-ifile}`);
  const dyn = { type: elf.type, interp: ifile !== null ? { bytes: elf.interp!.bytes, from: { file: ifile, task } } : null };
  return loadExecImage(o.proc.mm, elf, argv, o.envp ?? DEFAULT_ENVP, o.prng.fork(1), { file, task }, rules, exe, dyn, execAuxOptions(host.execAuxv ?? '3.14', o.proc));
}
