import type { SyscallResult, UnicornThread } from '../../emulator/cpu/unicorn/thread.js';
import { E2BIG, EFAULT, EINVAL } from '../base/errno.js';
import { accessOk } from '../process/mm.js';
import { PAGE_SIZE } from '../process/pages.js';
import { sysClone } from './lifecycle.js';
import { CLONE_DETACHED, CLONE_PIDFD, CLONE_SIGHAND, CLONE_THREAD, cloneFlagsValid } from './clone-flags.js';
import type { LinuxAbi } from './linux-abi.js';
import { SIG_DFL, SIG_IGN } from './signal.js';

/**
 * clone3(uargs, size) (ARM 435; kernel/fork.c, "fork: add clone3", v5.3; -ENOSYS in 3.14 by
 * the era table), 6.12.19 read: SYSCALL_DEFINE2(clone3) -> copy_clone_args_from_user ->
 * clone3_args_valid -> kernel_clone, the same work as clone (lifecycle.ts sysClone: a thread
 * with CLONE_THREAD, else a process) for the flags the model's clone supports.
 *
 * struct clone_args (include/uapi/linux/sched.h), u64 fields: flags 0, pidfd 8, child_tid 16,
 * parent_tid 24, exit_signal 32, stack 40, stack_size 48, tls 56 (CLONE_ARGS_SIZE_VER0 64),
 * set_tid 64, set_tid_size 72 (VER1 80), cgroup 80 (VER2 88 = sizeof). Pointers and the stack
 * are the low 32 bits (u64_to_user_ptr, unsigned long on this 32-bit kernel).
 *
 * Choices (not modelled; the model's clone ignores them too, or cannot give them): set_tid
 * (a chosen pid; alloc_pid would need CAP_CHECKPOINT_RESTORE and a free number) and
 * CLONE_PIDFD (no pidfds) answer -EINVAL after the kernel's own checks; CLONE_INTO_CGROUP is
 * checked as the kernel does, then -EINVAL (no cgroups); the exit signal of a process child is
 * SIGCHLD whatever exit_signal says (sysFork's choice for clone); the namespace flags pass
 * copy_process's checks (clone-flags.ts, shared with clone) and are then ignored as clone
 * ignores them.
 */
const CLONE_ARGS_SIZE_VER0 = 64, CLONE_ARGS_SIZE_VER2 = 88, MAX_PID_NS_LEVEL = 32;
const CSIGNAL = 0xff, CLONE_NEWTIME = 0x80, CLONE_PARENT = 0x8000;
/** the high word of flags: CLONE_CLEAR_SIGHAND 1 << 32, CLONE_INTO_CGROUP 1 << 33 */
const HI_CLEAR_SIGHAND = 1, HI_INTO_CGROUP = 2;
const NSIG = 64;

export function sysClone3(p: LinuxAbi, t: UnicornThread, uargs: number, size: number): SyscallResult {
  // copy_clone_args_from_user
  if (size > PAGE_SIZE) return -E2BIG;
  if (size < CLONE_ARGS_SIZE_VER0) return -EINVAL;
  const b = new Uint8Array(CLONE_ARGS_SIZE_VER2);
  // copy_struct_from_user: a tail beyond the kernel's struct must be zero (check_zeroed_user:
  // -EFAULT, else -E2BIG), then the known part is copied (-EFAULT)
  if (size > CLONE_ARGS_SIZE_VER2) {
    const tail = new Uint8Array(size - CLONE_ARGS_SIZE_VER2);
    if (p.mm.copyFromUser(tail, 0, uargs + CLONE_ARGS_SIZE_VER2, tail.length) < 0) return -EFAULT;
    if (tail.some((x) => x !== 0)) return -E2BIG;
  }
  if (p.mm.copyFromUser(b, 0, uargs, Math.min(size, CLONE_ARGS_SIZE_VER2)) < 0) return -EFAULT;
  const v = new DataView(b.buffer);
  const lo = (off: number): number => v.getUint32(off, true);
  const hi = (off: number): number => v.getUint32(off + 4, true);
  const u64 = (off: number): bigint => v.getBigUint64(off, true);
  const setTid = u64(64), setTidSize = u64(72);
  if (setTidSize > BigInt(MAX_PID_NS_LEVEL)) return -EINVAL;
  if (setTid === 0n && setTidSize > 0n) return -EINVAL;
  if (setTid !== 0n && setTidSize === 0n) return -EINVAL;
  // the higher bits of exit_signal unset and a valid signal
  const exitSignal = u64(32);
  if ((exitSignal & ~BigInt(CSIGNAL)) !== 0n || exitSignal > BigInt(NSIG)) return -EINVAL;
  const flags = lo(0), flagsHi = hi(0);
  if ((flagsHi & HI_INTO_CGROUP) !== 0 && (u64(80) > 0x7fffffffn || size < CLONE_ARGS_SIZE_VER2)) return -EINVAL;
  if (setTid !== 0n && p.mm.copyFromUser(new Uint8Array(Number(setTidSize) * 4), 0, lo(64), Number(setTidSize) * 4) < 0) return -EFAULT;
  // clone3_args_valid: no unknown flags; CLONE_DETACHED and the CSIGNAL bits (but
  // CLONE_NEWTIME) are not flags here; SIGHAND with CLEAR_SIGHAND; an exit signal for a thread
  // or a CLONE_PARENT child; clone3_stack_valid
  if ((flagsHi & ~(HI_CLEAR_SIGHAND | HI_INTO_CGROUP)) !== 0) return -EINVAL;
  if ((flags & (CLONE_DETACHED | (CSIGNAL & ~CLONE_NEWTIME))) !== 0) return -EINVAL;
  if ((flags & CLONE_SIGHAND) !== 0 && (flagsHi & HI_CLEAR_SIGHAND) !== 0) return -EINVAL;
  if ((flags & (CLONE_THREAD | CLONE_PARENT)) !== 0 && exitSignal !== 0n) return -EINVAL;
  let stack = lo(40);
  const stackSize = lo(48);
  if (stack === 0) {
    if (stackSize > 0) return -EINVAL;
  } else {
    if (stackSize === 0 || !accessOk(stack, stackSize)) return -EINVAL;
    // the stack grows down: the child starts at its top
    stack = (stack + stackSize) >>> 0;
  }
  // copy_process's flag checks (clone-flags.ts, with clone's), then the model's choices (above)
  const bad = cloneFlagsValid(p.layer.host.cloneFlagChecks ?? '3.14', flags, u64(8) === u64(24));
  if (bad !== 0) return bad;
  if (setTid !== 0n || (flags & CLONE_PIDFD) !== 0 || (flagsHi & HI_INTO_CGROUP) !== 0) return -EINVAL;
  // kernel_clone with clone's register form (flags, newsp, parent_tid, tls, child_tid)
  const r = sysClone(p, t, new Uint32Array([flags, stack, lo(24), lo(56), lo(16)]));
  if ((flagsHi & HI_CLEAR_SIGHAND) !== 0 && typeof r === 'number' && r > 0) {
    // copy_sighand: flush_signal_handlers(tsk, 0): every handler but SIG_IGN back to SIG_DFL,
    // its flags and mask cleared
    const child = p.children.find((c) => c.proc.pid === r);
    if (child !== undefined) {
      for (const act of child.signals.actions) {
        if (act.handler !== SIG_IGN) act.handler = SIG_DFL;
        act.flags = 0;
        act.mask = 0n;
      }
    }
  }
  return r;
}
