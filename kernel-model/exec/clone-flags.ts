import { EINVAL } from '../base/errno.js';

/**
 * copy_process's checks of the clone flags (kernel/fork.c), made for clone (120) and clone3
 * (435) alike before the model's clone does anything (lifecycle.ts sysClone; clone3.ts calls it).
 * Read in 3.14.4 (do_fork -> copy_process) and in 6.12.19 (kernel_clone -> copy_process):
 * - both: CLONE_NEWNS with CLONE_FS, CLONE_NEWUSER with CLONE_FS (a new namespace cannot share
 *   fs_struct), CLONE_THREAD without CLONE_SIGHAND, CLONE_SIGHAND without CLONE_VM: -EINVAL;
 * - a new pid or user namespace (CLONE_NEWPID, CLONE_NEWUSER) may not share the thread group:
 *   3.14 refuses it with CLONE_SIGHAND, v6.12 only with CLONE_THREAD (capability
 *   `cloneFlagChecks`); the other half of that check, a caller whose pid_ns_for_children is not
 *   its own pid namespace, never holds here (no setns/unshare in the model);
 * - v6.12 only: CLONE_PIDFD with CLONE_DETACHED (copy_process), and CLONE_PIDFD with
 *   CLONE_PARENT_SETTID when pidfd and parent_tid are the same pointer (kernel_clone: always so
 *   for clone, whose args.pidfd is parent_tidptr); 3.14 has no CLONE_PIDFD (the bit is ignored).
 * CLONE_PARENT from init (SIGNAL_UNKILLABLE) is lifecycle.ts sysFork's. The CSIGNAL bits are the
 * exit signal, never flags here (v6.12 clone masks them off; in 3.14 no checked flag is among them).
 * Returns 0 or -EINVAL.
 */
export type CloneFlagChecks = '3.14' | '6.12';

export const CLONE_VM = 0x100, CLONE_FS = 0x200, CLONE_SIGHAND = 0x800, CLONE_PIDFD = 0x1000;
export const CLONE_THREAD = 0x10000, CLONE_NEWNS = 0x20000, CLONE_PARENT_SETTID = 0x100000;
export const CLONE_DETACHED = 0x400000, CLONE_NEWUSER = 0x10000000, CLONE_NEWPID = 0x20000000;

/** `samePidfdParentTid`: args.pidfd === args.parent_tid (true for clone; clone3 compares its two fields) */
export function cloneFlagsValid(era: CloneFlagChecks, flags: number, samePidfdParentTid: boolean): number {
  const has = (f: number): boolean => (flags & f) !== 0;
  if (has(CLONE_NEWNS) && has(CLONE_FS)) return -EINVAL;
  if (has(CLONE_NEWUSER) && has(CLONE_FS)) return -EINVAL;
  if (has(CLONE_THREAD) && !has(CLONE_SIGHAND)) return -EINVAL;
  if (has(CLONE_SIGHAND) && !has(CLONE_VM)) return -EINVAL;
  if (has(era === '3.14' ? CLONE_SIGHAND : CLONE_THREAD) && has(CLONE_NEWUSER | CLONE_NEWPID)) return -EINVAL;
  if (era === '6.12' && has(CLONE_PIDFD) && (has(CLONE_DETACHED) || (has(CLONE_PARENT_SETTID) && samePidfdParentTid))) return -EINVAL;
  return 0;
}
