import type { SyscallResult, UnicornThread } from '../../emulator/cpu/unicorn/thread.js';
import { EFAULT, EINVAL, EPERM, ESRCH } from '../base/errno.js';
import type { AddressSpace } from '../process/mm.js';
import { ARM_NR as N } from './arm-nr.js';
import { sysClone3 } from './clone3.js';
import type { LinuxAbi } from './linux-abi.js';
import { findTaskByVpid } from './sys.js';
import { sysRseq } from './rseq.js';

/**
 * The scheduler's calls of the ARM entry on the board's one CPU (CPU 0, node 0; NR_CPUS 8 in
 * vexpress_defconfig of both trees, so a cpumask is one 32-bit word): sched_getaffinity (242),
 * getcpu (345), membarrier (389, v6.12 only), and the dispatch of rseq (398, rseq.ts) and clone3
 * (435, clone3.ts). The era table (syscall-era.ts) has already answered -ENOSYS for the numbers
 * the era's kernel lacks.
 */
export function serveSched(p: LinuxAbi, t: UnicornThread, nr: number, a: Uint32Array): SyscallResult {
  switch (nr) {
    case N.sched_getaffinity: return sysSchedGetaffinity(p, a[0]! | 0, a[1]!, a[2]!);
    case N.getcpu: return sysGetcpu(p.mm, a[0]!, a[1]!);
    case N.membarrier: return sysMembarrier(p.mm, a[0]! | 0, a[1]!);
    case N.rseq: return sysRseq(p, t, a);
    case N.clone3: return sysClone3(p, t, a[0]!, a[1]!);
  }
  return -EINVAL;
}

/** the bytes of the board's cpumask (cpumask_size(): BITS_TO_LONGS(NR_CPUS = 8) longs): CPU 0 */
const CPUMASK = new Uint8Array([1, 0, 0, 0]);

/**
 * sched_getaffinity(pid, len, user_mask_ptr): SYSCALL_DEFINE3(sched_getaffinity), the same
 * in 3.14.4 (kernel/sched/core.c) and 6.12.19 (kernel/sched/syscalls.c), read in both:
 * `(len * BITS_PER_BYTE) < nr_cpu_ids` -EINVAL (an unsigned int product: a len of 2^29
 * wraps to 0), len not a multiple of sizeof(unsigned long) -EINVAL, then the task (-ESRCH;
 * no LSM: security_task_getscheduler 0), the mask cpus_mask & cpu_active_mask (CPU 0), and
 * min(len, cpumask_size()) bytes copied (-EFAULT): the answer is that count. cpumask_size()
 * is BITS_TO_LONGS(NR_CPUS) longs in 3.14 and bitmap_size(large_cpumask_bits) in v6.12,
 * large_cpumask_bits NR_CPUS when NR_CPUS <= 4 * BITS_PER_LONG (include/linux/cpumask.h):
 * 4 bytes in both eras for NR_CPUS 8. The caller's bytes past the count are left alone.
 */
export function sysSchedGetaffinity(p: LinuxAbi, pid: number, len: number, ptr: number): number {
  if (Math.imul(len, 8) >>> 0 < 1) return -EINVAL;
  if ((len & 3) !== 0) return -EINVAL;
  // find_process_by_pid: 0 the caller, else find_task_by_vpid (sys.ts: any live thread, a
  // process's leader even when ended, a zombie not yet reaped)
  if (pid !== 0 && (pid < 0 || findTaskByVpid(p.layer, pid) === null)) return -ESRCH;
  const n = Math.min(len >>> 0, CPUMASK.length);
  return p.mm.copyToUser(ptr, CPUMASK, 0, n) === 0 ? n : -EFAULT;
}

/**
 * getcpu(cpup, nodep, unused) (kernel/sys.c SYSCALL_DEFINE3(getcpu), the same in 3.14.4 and
 * 6.12.19, read in both): raw_smp_processor_id() (0) to *cpup and cpu_to_node (0) to *nodep, each
 * if not NULL, both tried; either failing -EFAULT. glibc's sched_getcpu calls it when rseq's
 * cpu_id is not set (3.14).
 */
export function sysGetcpu(mm: AddressSpace, cpup: number, nodep: number): number {
  let err = 0;
  if (cpup !== 0) err |= mm.putUser32(cpup, 0);
  if (nodep !== 0) err |= mm.putUser32(nodep, 0);
  return err !== 0 ? -EFAULT : 0;
}

// include/uapi/linux/membarrier.h
export const MEMBARRIER_CMD_QUERY = 0, MEMBARRIER_CMD_GLOBAL = 1, MEMBARRIER_CMD_GLOBAL_EXPEDITED = 2;
export const MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED = 4, MEMBARRIER_CMD_PRIVATE_EXPEDITED = 8;
export const MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED = 16, MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE = 32;
export const MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE = 64, MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ = 128;
export const MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_RSEQ = 256, MEMBARRIER_CMD_GET_REGISTRATIONS = 512;
const MEMBARRIER_CMD_FLAG_CPU = 1;
/**
 * MEMBARRIER_CMD_BITMASK of the board's kernel: every command; ARM selects
 * ARCH_HAS_MEMBARRIER_SYNC_CORE and HAVE_RSEQ (6.12.19 arch/arm/Kconfig), CONFIG_RSEQ
 * defaults to y; no nohz_full, so GLOBAL stays
 */
const MEMBARRIER_CMD_BITMASK = 0x3ff;

/**
 * mm->membarrier_state, as the registration commands that set it (GET_REGISTRATIONS answers
 * them): per address space. dup_mm's copy of the mm_struct keeps it for a fork child
 * (membarrierFork); membarrier_exec_mmap clears it at execve (membarrierExec).
 */
const registrations = new WeakMap<AddressSpace, number>();

export function membarrierFork(from: AddressSpace, to: AddressSpace): void {
  const r = registrations.get(from);
  if (r !== undefined) registrations.set(to, r);
}

export function membarrierExec(mm: AddressSpace): void {
  registrations.delete(mm);
}

/**
 * membarrier(cmd, flags, cpu_id) (kernel/sched/membarrier.c SYSCALL_DEFINE3(membarrier),
 * 6.12.19 read; v4.3, 3.14 -ENOSYS by the era table) on one online CPU: flags other than 0
 * -EINVAL (PRIVATE_EXPEDITED_RSEQ also takes MEMBARRIER_CMD_FLAG_CPU); QUERY the command
 * mask; GLOBAL 0 (no synchronize_rcu with one CPU); GLOBAL_EXPEDITED 0 (num_online_cpus() ==
 * 1); the REGISTER_* commands record the registration (membarrier_register_global_expedited,
 * membarrier_register_private_expedited: 0, again 0); the PRIVATE_EXPEDITED* commands -EPERM
 * unless this mm registered for them (membarrier_private_expedited), else 0 (one CPU: no IPI
 * to send; SYNC_CORE's IPIs go to no other CPU); GET_REGISTRATIONS the REGISTER_* commands
 * done; anything else -EINVAL. On one CPU no barrier has anything to order.
 */
export function sysMembarrier(mm: AddressSpace, cmd: number, flags: number): number {
  if (cmd === MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ ? flags !== 0 && flags !== MEMBARRIER_CMD_FLAG_CPU : flags !== 0) return -EINVAL;
  const reg = registrations.get(mm) ?? 0;
  switch (cmd) {
    case MEMBARRIER_CMD_QUERY: return MEMBARRIER_CMD_BITMASK;
    case MEMBARRIER_CMD_GLOBAL: case MEMBARRIER_CMD_GLOBAL_EXPEDITED: return 0;
    case MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED: case MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED:
    case MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE: case MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_RSEQ:
      registrations.set(mm, reg | cmd);
      return 0;
    // the private commands are each one bit below their REGISTER_* command
    case MEMBARRIER_CMD_PRIVATE_EXPEDITED: case MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE: case MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ:
      return (reg & (cmd << 1)) !== 0 ? 0 : -EPERM;
    case MEMBARRIER_CMD_GET_REGISTRATIONS: return reg;
  }
  return -EINVAL;
}
