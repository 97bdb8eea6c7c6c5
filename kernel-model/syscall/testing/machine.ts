import { Cpu, type CpuOptions } from '../../../emulator/cpu/cpu.js';
import type { GuestProgram, StubThread } from '../../../emulator/cpu/stub.js';
import { Scheduler } from '../../../emulator/scheduler.js';
import { KernelLog } from '../../base/klog.js';
import { makeTestMemory } from '../../process/testing/fake-pages.js';
import type { Process, ProcessOptions } from '../../process/process.js';
import { Sysfs } from '../../sysfs/sysfs.js';
import { O_CREAT, O_RDWR } from '../../uapi/index.js';
import type { GuestMain, Sys } from '../../uapi/sys.js';
import { Vfs } from '../../vfs/vfs.js';
import { SyscallLayer, type SyscallHost } from '../syscalls.js';

/** scheduler + CPU + RAM + VFS + syscall layer, without VFIO */
export function makeMachine(opts: { selectClosedFd?: 'skip' | 'ready'; maxLfsFilesize?: number; shmemSeekNegative?: 'einval' | 'enxio'; getdentsAccess?: 'access-ok-first' | 'per-record'; nestedSymlinkLimit?: number; costs?: CpuOptions['costs']; host?: Partial<Pick<SyscallHost, 'syscallTable' | 'ftruncateLength' | 'linkatEmptyPath' | 'fallocateModes'>> } = {}) {
  const sched = new Scheduler();
  const cpu = new Cpu(sched, null, { costs: opts.costs });
  const log = new KernelLog(() => sched.now);
  const mem = makeTestMemory();
  const sysfs = new Sysfs();
  const vfs = new Vfs(sysfs, { maxLfsFilesize: opts.maxLfsFilesize, shmemSeekNegative: opts.shmemSeekNegative, nestedSymlinkLimit: opts.nestedSymlinkLimit });
  const sys = new SyscallLayer({ cpu, vfs, memory: mem, log, selectClosedFd: opts.selectClosedFd, getdentsAccess: opts.getdentsAccess, ...opts.host });
  return {
    sched, cpu, log, mem, sysfs, vfs, sys,
    /** start a program; does not run the scheduler */
    start(main: GuestMain, opts: ProcessOptions = {}): { thread: StubThread; proc: Process } {
      const proc = sys.createProcess(opts);
      return { thread: sys.spawn(proc, main), proc };
    },
    run(main: GuestMain, opts: ProcessOptions = {}, within = 1_000_000_000): { thread: StubThread; proc: Process } {
      const r = this.start(main, opts);
      sched.runUntilPredicate(() => r.thread.exit !== null, { within });
      return r;
    },
  };
}
export type Machine = ReturnType<typeof makeMachine>;

/**
 * The seven ARM syscall argument registers for `args`: numbers as they are (u32), each string
 * written as a C string into user memory from `at` on and passed as its address.
 */
export function armArgs(mem: { writeCString(addr: number, s: string): void }, at: number, args: readonly (number | string)[]): Uint32Array {
  const a = new Uint32Array(7);
  args.forEach((v, i) => {
    if (typeof v === 'string') {
      mem.writeCString(at, v);
      a[i] = at;
      at += v.length + 1;
    } else a[i] = v >>> 0;
  });
  return a;
}

/**
 * A guest step: create `path` (O_CREAT | O_RDWR) and write `n` bytes to it, byte i = byte(i),
 * staged in user memory at `buf`; its fd.
 */
export function* writeNewFile(sys: Sys, buf: number, path: string, n: number, byte: (i: number) => number): GuestProgram<number> {
  const fd = yield* sys.open(path, O_CREAT | O_RDWR);
  for (let i = 0; i < n; i++) sys.mem.write8(buf + i, byte(i));
  yield* sys.write(fd, buf, n);
  return fd;
}
