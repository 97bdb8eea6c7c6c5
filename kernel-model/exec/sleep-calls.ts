import type { SyscallResult, UnicornThread } from '../../emulator/cpu/unicorn/thread.js';
import { EINTR } from '../base/errno.js';
import type { LayerEntry } from './fs-calls.js';
import { ERESTARTNOHAND } from './signal.js';
import { ERESTART_RESTARTBLOCK } from './signal-restart.js';

/**
 * Plain poll(2), nanosleep(2) and restart_syscall(2) on the syscall layer's waits (wait.ts),
 * with signal_pending checked at each presentation (ThreadTask.signalPending) and the thread's
 * restart_block (signal-restart.ts). Read in 3.14.4 and 6.12.19: fs/select.c sys_poll /
 * do_restart_poll / do_poll, kernel/(time/)hrtimer.c sys_nanosleep(_time32) /
 * hrtimer_nanosleep / do_nanosleep / hrtimer_nanosleep_restart, kernel/signal.c
 * sys_restart_syscall. A signal that arrives while the call sleeps is SignalState's interrupt;
 * these are the ends at a presentation: a signal already pending (do_poll / do_nanosleep do not
 * sleep then), or the end of the sleep.
 */
export interface SleepEntry extends LayerEntry {
  /** v6.12's nanosleep / clock_nanosleep set restart_block.fn = do_no_restart_syscall once their arguments are checked (profile capability) */
  readonly nanosleepRestartReset: boolean;
}

/** poll(ufds, nfds, timeout_msecs): do_poll's signal end becomes sys_poll's restart_block, -ERESTART_RESTARTBLOCK */
export function sysPollCall(x: LayerEntry, t: UnicornThread, a: Uint32Array): SyscallResult {
  let end: number | null = null;
  const pending = x.signals.sigpending(t);
  const r = x.restartable(t, (task) => {
    task.signalPending = pending;
    const r = x.layer.sysPoll(task, a[0]!, a[1]!, a[2]! | 0);
    end = task.deadline;
    return r;
  });
  if (r !== -ERESTARTNOHAND) return r;
  x.signals.restart.setPoll(t, a[0]!, a[1]!, end);
  return -ERESTART_RESTARTBLOCK;
}

/** _newselect: the layer's select with signal_pending (core_sys_select's -ERESTARTNOHAND) */
export function sysSelectCall(x: LayerEntry, t: UnicornThread, nr: number, a: Uint32Array): SyscallResult {
  x.layer.taskOf(x.proc, t).signalPending = x.signals.sigpending(t);
  return x.kernel(t, nr, a as unknown as number[]);
}

/**
 * nanosleep(rqtp, rmtp): 3.14's sys_nanosleep, v6.12's sys_nanosleep_time32 (ARM's 162, the
 * 32-bit struct timespec both ways); v6.12 resets restart_block once rqtp is read and valid; a
 * signal pending at a presentation ends the sleep as one arriving during it would
 */
export function sysNanosleepCall(x: SleepEntry, t: UnicornThread, a: Uint32Array): SyscallResult {
  const task = x.layer.taskOf(x.proc, t);
  const first = !task.restarting;
  let expires = 0;
  const pending = x.signals.sigpending(t);
  const r = x.restartable(t, (task) => {
    task.signalPending = pending;
    const r = x.layer.sysNanosleep(task, a[0]!, a[1]!);
    expires = task.deadline ?? 0;
    return r;
  });
  // -EFAULT / -EINVAL: rqtp unreadable or invalid, before the reset (the layer's only errors)
  if (first && x.nanosleepRestartReset && (typeof r !== 'number' || r >= 0 || r === -ERESTARTNOHAND)) x.signals.restart.clear(t);
  if (r !== -ERESTARTNOHAND) return r;
  return x.signals.restart.nanosleepInterrupted(t, x.proc.mm, x.cpu.scheduler.now, { expires, rmtp: a[1]!, time64: false });
}

/**
 * restart_syscall() (kernel/signal.c sys_restart_syscall): restart_block.fn. do_restart_poll polls
 * until the kept end, hrtimer_nanosleep_restart sleeps until the kept expiry (its signal end:
 * rmtp written again, the same block, -ERESTART_RESTARTBLOCK), do_no_restart_syscall is -EINTR
 */
export function sysRestartSyscall(x: LayerEntry, t: UnicornThread): SyscallResult {
  const rb = x.signals.restart.get(t);
  if (rb === undefined) {
    t.charge(x.cpu.costs.syscall);
    return -EINTR;
  }
  const pending = x.signals.sigpending(t);
  if (rb.fn === 'poll') {
    const r = x.restartable(t, (task) => {
      task.signalPending = pending;
      return x.layer.sysPoll(task, rb.ufds, rb.nfds, -1, rb.end);
    });
    return r === -ERESTARTNOHAND ? -ERESTART_RESTARTBLOCK : r;
  }
  const r = x.restartable(t, (task) => {
    task.signalPending = pending;
    return x.layer.sysNanosleepUntil(task, rb.expires);
  });
  if (r !== -ERESTARTNOHAND) return r;
  return x.signals.restart.nanosleepInterrupted(t, x.proc.mm, x.cpu.scheduler.now, null);
}
