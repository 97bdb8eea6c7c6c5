import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import { guestBinary } from '../../../emulator/cpu/unicorn/testing/guest-build.js';
import type { SyscallResult } from '../../../emulator/cpu/unicorn/thread.js';
import { Prng } from '../../../emulator/prng.js';
import { execElf } from '../../../kernel-model/exec/exec.js';
import { ARM_NR } from '../../../kernel-model/exec/linux-abi.js';
import type { ProcessOptions } from '../../../kernel-model/process/process.js';
import { System } from '../../system/system.js';

/**
 * Test helper: a process running the `hello` image on a booted System, for its ARM syscall
 * entry (the tests drive the entry directly, `arm.abi.syscall(t, nr, regs)`, without running
 * the program): `call` issues one call with up to seven register values, `open` opens a path
 * through the syscall layer, `page` is an anonymous page of the process, `writev` writes an
 * iovec array and calls writev. `popts` are the process's createProcess options.
 */
export function armProcess(profile = 'rfc-v4', popts: Omit<ProcessOptions, 'name' | 'stdio'> = {}) {
  const system = new System({ profile, seed: 3 });
  const proc = system.syscalls.createProcess({ name: 'abi', stdio: true, ...popts });
  const arm = execElf({ layer: system.syscalls, proc, cpu: system.cpu, bus: system.machine.bus, elf: new Uint8Array(readFileSync(guestBinary('hello'))), argv: ['abi'], prng: new Prng(3) });
  const t = arm.main;
  const call = (nr: number, ...regs: number[]): SyscallResult => {
    const a = new Uint32Array(7);
    regs.forEach((v, i) => {
      a[i] = v >>> 0;
    });
    return arm.abi.syscall(t, nr, a);
  };
  const open = (path: string, flags: number): number => {
    const task = system.syscalls.taskOf(proc, t);
    // the layer's method without an entry: make `proc` current as an entry would (/proc/self
    // is the current process's directory, fs/proc/self.c)
    const prev = system.syscalls.current;
    system.syscalls.current = proc;
    const fd = system.syscalls.sysOpen(task, path, flags);
    system.syscalls.current = prev;
    task.finish();
    expect(fd).toBeGreaterThanOrEqual(0);
    return fd;
  };
  const page = call(ARM_NR.mmap2, 0, 4096, 3, 0x22, 0xffffffff, 0, 0) as number;
  expect(page).toBeGreaterThan(0);
  /** writev(fd, vec, cnt) through the ARM entry, with the struct iovec array `segs` ([base, len]) written at `vec` */
  const writev = (fd: number, vec: number, segs: [number, number][], cnt = segs.length): number => {
    const b = new Uint8Array(8 * segs.length);
    const dv = new DataView(b.buffer);
    segs.forEach(([base, len], i) => {
      dv.setUint32(8 * i, base, true);
      dv.setUint32(8 * i + 4, len, true);
    });
    expect(proc.mm.copyToUser(vec, b, 0, b.length)).toBe(0);
    return call(ARM_NR.writev, fd, vec, cnt) as number;
  };
  return { system, proc, arm, t, call, open, page, writev };
}
