import type { SyscallResult, UnicornThread } from '../../emulator/cpu/unicorn/thread.js';
import { EBUSY, EFAULT, EINVAL, EPERM } from '../base/errno.js';
import { accessOk, TASK_SIZE, type AddressSpace } from '../process/mm.js';
import type { LinuxAbi } from './linux-abi.js';
import { SIGSEGV } from './signal.js';

/**
 * Restartable sequences (kernel/rseq.c, "rseq: Introduce restartable sequences system call",
 * v4.18; ARM 398, -ENOSYS in 3.14 by the era table), 6.12.19 read: each thread's registered
 * struct rseq (include/uapi/linux/rseq.h: cpu_id_start at 0, cpu_id at 4, rseq_cs at 8 (u64),
 * flags at 16, node_id at 20, mm_cid at 24, end at 28; aligned to 32, ORIG_RSEQ_SIZE 32).
 *
 * What is modelled: the registration and unregistration and their errors (sys_rseq); the
 * fields rseq_update_cpu_node_id writes on the way back to user space after a registration
 * (cpu_id_start = cpu_id = 0, node_id = 0, mm_cid = 0: one CPU, one node, and with one CPU
 * allowed the mm's concurrency ids are all 0), a write fault there SIGSEGV (force_sigsegv);
 * rseq_reset_rseq_cpu_node_id at unregistration (cpu_id RSEQ_CPU_ID_UNINITIALIZED, -1);
 * rseq_fork (a CLONE_VM child starts unregistered, a fork child keeps its parent's
 * registration, the same address in its copy of the memory) and rseq_execve (cleared).
 *
 * The abort of a critical section at signal delivery (rseq_signal_deliver ->
 * __rseq_handle_notify_resume -> rseq_ip_fixup, before the frame is built: rseqSignalDeliver,
 * called by signal.ts for a handler's signal, a fault's included): rseq_cs read and checked
 * (rseq_get_rseq_cs: below TASK_SIZE, version 0, the range without overflow, abort_ip outside
 * it, the signature word before abort_ip equal to the registration's), a PC outside
 * [start_ip, start_ip + post_commit_offset) only clears rseq_cs; inside it (with no flags in
 * rseq_cs or rseq->flags, rseq_need_restart) rseq_cs is cleared and the handler's frame
 * saves abort_ip, so sigreturn resumes there; then the ids are written again. A failure is
 * force_sigsegv: here SIGSEGV's default action.
 *
 * What is not modelled: the abort on preemption (rseq_preempt's notify-resume when the
 * scheduler switches a thread out inside its sequence): the model's scheduler switches threads
 * at time slice ends without looking at rseq_cs, so a sequence preempted between its loads and
 * its commit store is not restarted; on the board's one CPU nothing else changes the fields, so
 * a sequence only reading cpu_id behaves as on the kernel, but one relying on preemption
 * aborting it for mutual exclusion between threads is not protected. glibc 2.36 has no
 * critical sections of its own (it registers rseq for sched_getcpu's cpu_id).
 */
interface Registration {
  addr: number;
  len: number;
  sig: number;
}

const ORIG_RSEQ_SIZE = 32;
const RSEQ_FLAG_UNREGISTER = 1;
const RSEQ_CPU_ID_UNINITIALIZED = 0xffffffff;
/** offsetof(struct rseq, end): also v6.12's AT_RSEQ_FEATURE_SIZE (auxv.ts) */
export const RSEQ_END = 28;
/** __alignof__(struct rseq) (aligned(4 * sizeof(__u64))): v6.12's AT_RSEQ_ALIGN (auxv.ts) */
export const RSEQ_ALIGN = 32;

const registered = new WeakMap<UnicornThread, Registration>();

/** the thread's registration (tests, /proc): its address, length and signature, or null */
export function rseqOf(t: UnicornThread): Readonly<Registration> | null {
  return registered.get(t) ?? null;
}

/** rseq_fork: a child made without CLONE_VM keeps its parent thread's registration */
export function rseqFork(parent: UnicornThread, child: UnicornThread): void {
  const r = registered.get(parent);
  if (r !== undefined) registered.set(child, { ...r });
}

/** rseq_execve: the registration goes with the old image */
export function rseqExec(t: UnicornThread): void {
  registered.delete(t);
}

/** cpu_id_start, cpu_id, node_id, mm_cid: their offsets in struct rseq */
function writeIds(p: LinuxAbi, addr: number, cpuIdStart: number, cpuId: number): number {
  return writeIds_(p.mm, addr, cpuIdStart, cpuId);
}

function writeIds_(mm: AddressSpace, addr: number, cpuIdStart: number, cpuId: number): number {
  if (mm.putUser32(addr, cpuIdStart) < 0 || mm.putUser32(addr + 4, cpuId) < 0 || mm.putUser32(addr + 20, 0) < 0 || mm.putUser32(addr + 24, 0) < 0) return -EFAULT;
  return 0;
}

/**
 * rseq_signal_deliver for thread `t` about to get a handler's frame: the fixup described
 * above. False: force_sigsegv (the caller ends the process by SIGSEGV).
 */
export function rseqSignalDeliver(mm: AddressSpace, t: UnicornThread): boolean {
  const r = registered.get(t);
  if (r === undefined) return true;
  const b = new Uint8Array(32);
  const dv = new DataView(b.buffer);
  if (mm.copyFromUser(b, 0, r.addr + 8, 8) < 0) return false;
  const ptr = dv.getBigUint64(0, true);
  if (ptr !== 0n) {
    if (ptr >= BigInt(TASK_SIZE) || mm.copyFromUser(b, 0, Number(ptr), 32) < 0) return false;
    const version = dv.getUint32(0, true), csFlags = dv.getUint32(4, true);
    const start = dv.getBigUint64(8, true), off = dv.getBigUint64(16, true), abort = dv.getBigUint64(24, true);
    const top = BigInt(TASK_SIZE);
    if (start >= top || start + off >= top || abort >= top || version > 0) return false;
    // abort_ip outside the critical section (an unsigned difference, as the kernel's)
    if (abort >= start && abort - start < off) return false;
    const sig = mm.getUser32(Number(abort) - 4);
    if (sig < 0 || sig !== r.sig) return false;
    const e = t.engine;
    const pc = e.reg(e.arch.pcReg);
    const ip = BigInt((pc & ~1) >>> 0);
    // in_rseq_cs: ip - start_ip < post_commit_offset, unsigned
    const inside = ip >= start && ip - start < off;
    if (inside) {
      // rseq_need_restart: any flag of rseq_cs or of the thread's rseq is -EINVAL (deprecated)
      const flags = mm.getUser32(r.addr + 16);
      if (csFlags !== 0 || flags !== 0) return false;
    }
    if (mm.copyToUser(r.addr + 8, new Uint8Array(8), 0, 8) < 0) return false;
    if (inside) e.setReg(e.arch.pcReg, Number(abort) | (pc & 1));
  }
  return writeIds_(mm, r.addr, 0, 0) === 0;
}

/** rseq(rseq, rseq_len, flags, sig): SYSCALL_DEFINE4(rseq), the checks in its order */
export function sysRseq(p: LinuxAbi, t: UnicornThread, a: Uint32Array): SyscallResult {
  const addr = a[0]!, len = a[1]!, flags = a[2]! | 0, sig = a[3]!;
  const cur = registered.get(t);
  if ((flags & RSEQ_FLAG_UNREGISTER) !== 0) {
    if ((flags & ~RSEQ_FLAG_UNREGISTER) !== 0) return -EINVAL;
    if (cur === undefined || cur.addr !== addr) return -EINVAL;
    if (len !== cur.len) return -EINVAL;
    if (sig !== cur.sig) return -EPERM;
    const r = writeIds(p, addr, 0, RSEQ_CPU_ID_UNINITIALIZED);
    if (r < 0) return r;
    registered.delete(t);
    return 0;
  }
  if (flags !== 0) return -EINVAL;
  if (cur !== undefined) {
    if (cur.addr !== addr || cur.len !== len) return -EINVAL;
    if (cur.sig !== sig) return -EPERM;
    return -EBUSY;
  }
  // rseq_len ORIG_RSEQ_SIZE aligned to it, or longer, aligned to __alignof__(struct rseq)
  // (32 as well) and reaching offsetof(struct rseq, end)
  if (len < ORIG_RSEQ_SIZE || (addr & (RSEQ_ALIGN - 1)) !== 0 || (len !== ORIG_RSEQ_SIZE && len < RSEQ_END)) return -EINVAL;
  if (!accessOk(addr, len)) return -EFAULT;
  registered.set(t, { addr, len, sig });
  // rseq_set_notify_resume: __rseq_handle_notify_resume on the way out (regs NULL from a
  // syscall: no ip fixup) -> rseq_update_cpu_node_id; a fault there is force_sigsegv(0), here
  // SIGSEGV's default action (a handler the kernel would run for it is not)
  if (writeIds(p, addr, 0, 0) < 0) p.signals.terminate(SIGSEGV);
  return 0;
}
