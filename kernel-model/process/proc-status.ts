/**
 * /proc/<pid>/status (fs/proc/array.c proc_pid_status), the lines the model has a value for, in
 * the kernel's order and format: task_name ("Name:\t%s", the thread's comm, Process.comm: at most
 * TASK_COMM_LEN - 1 = 15 characters; the same text as /proc/<pid>/comm without its newline), task_state's "State:\t%s" (taskState), "Tgid:\t%d", "Pid:\t%d" (the thread's:
 * the pid for /proc/<pid>/status, the tid for /proc/<pid>/task/<tid>/status and /proc/<tid>/status)
 * and "Uid:" (real, effective, saved, fs),
 * and task_mem's (fs/proc/task_mmu.c) "VmLck:\t%8lu kB" (mm->locked_vm) and "VmPin:\t%8lu kB"
 * (mm->pinned_vm), pages << (PAGE_SHIFT - 10). Both counters are unsigned long on this 32-bit
 * kernel, so a locked_vm that went below zero (3.14 type1 uncharging another process's pages,
 * `type1LockAcct`) prints as the wrapped 32-bit number, as on the board (proc_pid_status calls
 * task_mem, task_sig, task_cap in that order in 3.14 and v6.12). Of task_sig's lines
 * "SigQ:\t%lu/%lu": the signals queued for the process's user, all processes of that uid
 * together (3.14 user->sigpending, v6.12 the ucounts' UCOUNT_RLIMIT_SIGPENDING), then its
 * RLIMIT_SIGPENDING soft limit (RLIM_INFINITY printed as 4294967295), after "Threads:\t%d" and
 * before SigPnd (the thread's own pending set), ShdPnd (the process's), SigBlk (the thread's
 * blocked mask), SigIgn and SigCgt (the actions: SIG_IGN, a handler), each 16 hex digits (task_sig
 * read in a 3.x fs/proc/array.c, the one order of these lines in 3.14; v6.12's task_sig prints the
 * same lines in the same order with seq_put_decimal_ull and render_sigset_t: task_sig read in
 * 3.14.4 and 6.12.19, docs/KERNEL.md "Kernel trees read"). Then task_cap's "CapInh:", "CapPrm:", "CapEff:", "CapBnd:" and, where
 * the cred has an ambient set (v6.12, capability `capAmbient`), "CapAmb:", each set as 16 hex
 * digits (3.14 render_cap_t: "%08x" per u32 word, the high word first; v6.12
 * seq_put_hex_ll(..., 16)). The other lines of the real file (v6.12's Umask, Ngid, PPid, Gid, VmSize, VmRSS,
 * ...) are not produced: a program looks its line up by name.
 */
import { capHex, RLIMIT_SIGPENDING } from './cred.js';
import type { Process } from './process.js';

/**
 * the thread's state as task_state prints it (fs/proc/array.c get_task_state over
 * task_state_array, 3.14 and v6.12 alike for these): "R (running)" for a thread running or
 * ready to, "S (sleeping)" for one blocked (the model's waits are all interruptible:
 * TASK_INTERRUPTIBLE), "Z (zombie)" for an ended leader whose group still runs and for a
 * zombie process (EXIT_ZOMBIE). D, T, t, X and v6.12's I are states the model never has.
 */
export function taskState(p: Process, tid: number): string {
  if (!p.alive) return 'Z (zombie)';
  const th = tid === p.pid ? p.threads[0] : p.threads.find((t) => t.tid === tid);
  // a process the model runs no thread for (a test's, driven from outside) counts as running
  if (th === undefined) return 'R (running)';
  if (th.state === 'exited') return 'Z (zombie)';
  return th.state === 'blocked' ? 'S (sleeping)' : 'R (running)';
}

/** pages to kB as the kernel prints an unsigned long: (pages << 2) modulo 2^32 */
const kb = (pages: number): string => String(((pages * 4) % 2 ** 32 + 2 ** 32) % 2 ** 32).padStart(8, ' ');

/**
 * the Name: line's escaping of the comm: a backslash doubled and a newline as "\\n" (3.14
 * task_name's own loop over tcomm, read in 3.14.4; v6.12 proc_task_name's seq_escape_str with ESCAPE_SPACE |
 * ESCAPE_SPECIAL restricted to "\n\\", verified); /proc/<pid>/comm shows the bytes as they are
 */
export const escapeComm = (c: string): string => c.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');

/**
 * task_sig's render_sigset_t: the 64 signals as 16 hex digits, signals 61-64 first (signal n at
 * bit n - 1); the same text in 3.x (a loop of "%x" per 4 signals, read) and v6.12 (the same loop
 * putting hex_asc[x], read in 6.12.19)
 */
const sigHex = (set: bigint | undefined): string => (set ?? 0n).toString(16).padStart(16, '0');

/**
 * get_nr_threads (signal->nr_threads): the group's tasks not yet released. A thread other than
 * the leader is released as it exits (exit_notify autoreaps it); the leader stays counted,
 * as a zombie too, until its group is reaped (__unhash_process at release_task)
 */
function nrThreads(p: Process): number {
  return Math.max(1, p.threads.filter((t, i) => i === 0 || t.state !== 'exited').length);
}

export function procPidStatus(p: Process, tid: number = p.pid): string {
  const uid = p.uid;
  const m = p.sigMasks?.(tid);
  return (
    `Name:\t${escapeComm(p.comm(tid))}\n` +
    `State:\t${taskState(p, tid)}\n` +
    `Tgid:\t${p.pid}\n` +
    `Pid:\t${tid}\n` +
    `Uid:\t${uid}\t${uid}\t${uid}\t${uid}\n` +
    // task_mem only with an mm: a zombie (exited, not reaped) has none
    (p.alive ? `VmLck:\t${kb(p.mm.lockedVm)} kB\nVmPin:\t${kb(p.mm.pinnedVm)} kB\n` : '') +
    `Threads:\t${nrThreads(p)}\n` +
    `SigQ:\t${p.users.sigPending(p.uid)}/${p.rlimit(RLIMIT_SIGPENDING).cur}\n` +
    `SigPnd:\t${sigHex(m?.pending)}\nShdPnd:\t${sigHex(m?.shared)}\nSigBlk:\t${sigHex(m?.blocked)}\n` +
    `SigIgn:\t${sigHex(m?.ignored)}\nSigCgt:\t${sigHex(m?.caught)}\n` +
    `CapInh:\t${capHex(p.capInheritable)}\n` +
    `CapPrm:\t${capHex(p.capPermitted)}\n` +
    `CapEff:\t${capHex(p.capEffective)}\n` +
    `CapBnd:\t${capHex(p.capBounding)}\n` +
    (p.capAmbient === null ? '' : `CapAmb:\t${capHex(p.capAmbient)}\n`)
  );
}
