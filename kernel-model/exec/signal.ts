import type { Cpu } from '../../emulator/cpu/cpu.js';
import { BLOCK, type SyscallResult, type UnicornThread } from '../../emulator/cpu/unicorn/thread.js';
import { EAGAIN, EFAULT, EINTR, EINVAL } from '../base/errno.js';
import { RLIMIT_SIGPENDING } from '../process/cred.js';
import type { Process } from '../process/process.js';
import type { SyscallLayer } from '../syscall/syscalls.js';
import { ERESTARTSYS } from '../vfs/file.js';
import { ARM_NR } from './arm-nr.js';
import { withIt } from '../../emulator/cpu/unicorn/locate.js';
import { UC_ARM_REG_CPSR, UC_ARM_REG_R0 } from '../../emulator/cpu/unicorn/native.js';
import { attachSigStatus } from './signal-status.js';
import { finishPollWait, restoreSavedSigmask } from './signal-usermask.js';
import { rseqSignalDeliver } from './rseq.js';
import { AltStacks } from './signal-altstack.js';
import { ERESTART_RESTARTBLOCK, RestartBlocks } from './signal-restart.js';
import { enterHandler, readUcontext, restartSyscall, restoreUcontext, setupSigframe, ucontextMask, ucontextStack, type FaultInfo, type FrameStack } from './signal-frame.js';
import { ALL_SIGNALS, nextSignal, SI_USER, sigmask, SigPending, SIGRTMIN, type SendInfo } from './sigqueue.js';

/**
 * The signals of one ARM process on the Unicorn backend (kernel/signal.c): the actions
 * (rt_sigaction), each thread's blocked mask (rt_sigprocmask), the process's pending set
 * (signal->shared_pending) and each thread's own (task->pending, for tgkill/tkill), posting (send_signal / complete_signal: a fatal default action ends the process, an ignored
 * signal is dropped, a sleeping thread is interrupted), delivery at syscall return and before
 * a thread's step (get_signal / handle_signal, with arch/arm/kernel/signal.c's restart rules),
 * rt_sigsuspend/pause, sigreturn, sigaltstack, rt_sigtimedwait and rt_sigpending
 * (signal-wait.ts); rt_sigaction and rt_sigprocmask are signal-calls.ts. Signals 1-64: the
 * real-time ones (32-64) queued once per send with their siginfo (sigqueue.ts). The ARM frame itself is kernel-model/exec/signal-frame.ts; kill,
 * tgkill, tkill, rt_sigqueueinfo and rt_tgsigqueueinfo are kernel-model/exec/kill.ts.
 */

export const SIGBUS = 7, SIGKILL = 9, SIGSEGV = 11, SIGALRM = 14, SIGCHLD = 17, SIGSTOP = 19;
export const SIG_DFL = 0, SIG_IGN = 1;
/** sa_flags (arch/arm/include/uapi/asm/signal.h) */
const SA_SIGINFO = 4, SA_RESTART = 0x10000000, SA_NODEFER = 0x40000000, SA_RESETHAND = 0x80000000;
/** include/linux/errno.h: restart only when no handler runs */
export const ERESTARTNOHAND = 514;
/** SIGKILL and SIGSTOP: never blocked */
export const UNBLOCKABLE = sigmask(SIGKILL) | sigmask(SIGSTOP);

export interface SigAction {
  handler: number;
  flags: number;
  restorer: number;
  /** sa_mask, signals 1-64 */
  mask: bigint;
}
const DEFAULT_ACTION: SigAction = { handler: SIG_DFL, flags: 0, restorer: 0, mask: 0n };

/**
 * The default action of a signal terminates the process (kernel/signal.c sig_kernel_ignore
 * and sig_kernel_stop sets): not SIGCHLD, SIGCONT, SIGURG, SIGWINCH (ignore) nor, by choice
 * (no job control), SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU (stop).
 */
export function defaultTerminates(sig: number): boolean {
  return !(sig === 17 || sig === 18 || sig === 23 || sig === 28 || (sig >= 19 && sig <= 22));
}

/** What the signal code needs of its process (LinuxAbi). */
export interface SignalProcess {
  readonly proc: Process;
  readonly threads: readonly UnicornThread[];
  /** set once the process has ended */
  readonly exit: object | null;
  /** the whole process is ending (SIGNAL_GROUP_EXIT): set by a fatal signal */
  groupExit: boolean;
  /**
   * end `th`'s sleep in a call the process serves itself (wait4/waitid, clock_nanosleep,
   * FUTEX_WAIT) without completing it; false if `th` is in none
   */
  cancelSleep(th: UnicornThread): boolean;
  /** a signal ends `th`'s sleep in clock_nanosleep (time.ts ClockSleeps.signalled): the call's result; null if `th` is not in one */
  signalSleep(th: UnicornThread): number | null;
}

export class SignalState {
  /** sigaction per signal number (index 0 unused) */
  readonly actions: SigAction[] = Array.from({ length: 65 }, () => ({ ...DEFAULT_ACTION }));
  /** blocked mask of each thread (task->blocked, signals 1-64) */
  readonly blocked = new Map<UnicornThread, bigint>();
  /** signals sent to this process and not delivered (signal->shared_pending, sigqueue.ts) */
  readonly shared: SigPending;
  /**
   * signals sent to one thread (tgkill, tkill, rt_tgsigqueueinfo: task->pending), not
   * delivered; only threads with some (an entry goes when the thread ends)
   */
  private readonly own = new Map<UnicornThread, SigPending>();
  /**
   * the own pending list of an ended leader (its group still running, or a zombie process):
   * its task is a zombie, still found by its tid (find_task_by_vpid) and still has its
   * sighand, so tgkill queues a signal there (charged, SigQ) that no thread ever takes
   * (complete_signal: PF_EXITING and PIDTYPE_PID); flush_sigqueue at release_task (flushAll)
   */
  private leaderPending: SigPending | null = null;
  /** release_task ran (flushAll): the task is gone, its sighand with it */
  private released = false;
  /**
   * TIF_SIGPENDING: the threads told to look at their pending signals (signal_wake_up by
   * complete_signal, recalc_sigpending after a dequeue or a mask change, retarget_shared_pending);
   * a thread takes a signal at a delivery point only when it has it
   */
  private readonly flagged = new Set<UnicornThread>();
  /** signal->curr_target: where complete_signal's search for a thread starts (the leader at first) */
  private currTarget: UnicornThread | null = null;
  /**
   * threads asleep in rt_sigtimedwait (signal-wait.ts): the set they wait for (these: unblocked
   * for them while they sleep; their `blocked` stays the real mask, task->real_blocked), where
   * the siginfo goes, and the deadline (null: none)
   */
  readonly waiters = new Map<UnicornThread, { set: bigint; info: number; deadline: number | null }>();
  /** threads woken out of a layer call with a restart code, until their next step (resume) */
  readonly interrupted = new Set<UnicornThread>();
  /** signals delivered to handlers (statistics) */
  delivered = 0;
  /** each thread's alternate signal stack (signal-altstack.ts) */
  private readonly alt: AltStacks;
  /**
   * each thread's current->thread.address (arch/arm/include/asm/processor.h thread_struct): the
   * address of its last SIGSEGV, set by __do_user_fault (arch/arm/mm/fault.c) and written to
   * every fault frame's fault_address (setup_sigframe); 0 until then. A forked child inherits
   * it (dup_task_struct copies the thread_struct); a new thread here starts at 0.
   */
  readonly faultAddress = new Map<UnicornThread, number>();
  /** threads in sigsuspend/pause -> the mask to restore after the handler */
  private readonly suspended = new Map<UnicornThread, bigint>();
  /** pselect6/ppoll's current->saved_sigmask with TIF_RESTORE_SIGMASK, per thread (signal-usermask.ts) */
  readonly saved = new Map<UnicornThread, bigint>();
  /** each thread's restart_block: plain poll's restart (signal-restart.ts) */
  readonly restart = new RestartBlocks();
  private readonly scratch8 = new Uint8Array(8);

  constructor(
    private readonly p: SignalProcess,
    private readonly layer: SyscallLayer,
    private readonly cpu: Cpu,
  ) {
    this.shared = new SigPending(p.proc.users);
    this.alt = new AltStacks(() => this.layer.host.sigaltstackAutodisarm ?? false);
    attachSigStatus(p, this);
  }

  /** sigaltstack (signal-altstack.ts AltStacks.sys) */
  sysSigaltstack(t: UnicornThread, ssPtr: number, oldPtr: number): number {
    return this.alt.sys(t, this.p.proc.mm, ssPtr, oldPtr);
  }

  /** setup_new_exec at execve: no alternate stack */
  resetAltstack(t: UnicornThread): void {
    this.alt.stacks.delete(t);
  }

  /** a signal is pending for the process or for one of its live threads (the fast path's test) */
  get anyPending(): boolean {
    return this.shared.set !== 0n || this.own.size !== 0;
  }

  /** the signals pending for `t`: its own and the process's */
  pendingFor(t: UnicornThread): bigint {
    return this.shared.set | (this.own.get(t)?.set ?? 0n);
  }

  /** `t`'s own pending set (task->pending.signal): a live thread's, or the ended leader's kept list */
  ownPendingOf(t: UnicornThread): bigint {
    return this.own.get(t)?.set ?? (t === this.p.threads[0] ? this.leaderPending?.set : undefined) ?? 0n;
  }

  /** `t`'s blocked mask */
  blockedOf(t: UnicornThread): bigint {
    return this.blocked.get(t) ?? 0n;
  }

  /** `t`'s own pending list (made on first use) */
  private ownOf(t: UnicornThread): SigPending {
    if (t.state === 'exited' && t === this.p.threads[0]) return (this.leaderPending ??= new SigPending(this.p.proc.users));
    let q = this.own.get(t);
    if (q === undefined) this.own.set(t, (q = new SigPending(this.p.proc.users)));
    return q;
  }

  /**
   * a thread ended (kernel/exit.c): exit_signals hands the shared signals it could have taken
   * to another thread (retarget_shared_pending); release_task -> __exit_signal flushes its own
   * list (flush_sigqueue(&tsk->pending)) at once for a thread, at the reap for the leader
   * (the zombie leader keeps it: leaderPending)
   */
  threadGone(t: UnicornThread): void {
    if (this.flagged.delete(t)) this.retarget(t, this.shared.set & ~this.blockedOf(t));
    this.waiters.delete(t);
    const q = this.own.get(t);
    if (q === undefined) return;
    this.own.delete(t);
    // the leader's task stays (a zombie) until release_task, with its list: kept past the
    // group's end too, until the reap (flushAll)
    if (t === this.p.threads[0] && this.leaderPending === null) this.leaderPending = q;
    else q.flush();
  }

  /**
   * release_task (kernel/exit.c, 3.14 and v6.12, verified): the reap of the zombie, or its
   * autoreap when nobody will wait for it. __exit_signal frees every queued entry then
   * (flush_sigqueue of the leader's list and, group_dead, of shared_pending): signals pending
   * at the exit, or queued on the zombie afterwards, stay charged to its user (SigQ) until
   * here. Nothing is queued after it (the task is unhashed: kill finds no process).
   */
  flushAll(): void {
    this.released = true;
    this.shared.flush();
    for (const q of this.own.values()) q.flush();
    this.own.clear();
    this.leaderPending?.flush();
    this.leaderPending = null;
    this.flagged.clear();
  }

  /** `t` sleeps in rt_sigsuspend/pause */
  isSuspended(t: UnicornThread): boolean {
    return this.suspended.has(t);
  }

  /** signal_pending(t): TIF_SIGPENDING, `t` told of a signal it does not block */
  sigpending(t: UnicornThread): boolean {
    return this.flagged.has(t);
  }

  /**
   * copy_sighand at fork: the child gets the actions, and its thread `child` the blocked mask
   * of the forking thread `t`; pending signals are not inherited
   */
  forkInto(into: SignalState, t: UnicornThread, child: UnicornThread): void {
    for (let i = 0; i < this.actions.length; i++) into.actions[i] = { ...this.actions[i]! };
    into.blocked.set(child, this.blockedOf(t));
    // the alternate stack too (copy_process resets it only for a thread sharing the mm)
    const a = this.alt.stacks.get(t);
    if (a !== undefined) into.alt.stacks.set(child, { ...a });
    const fa = this.faultAddress.get(t);
    if (fa !== undefined) into.faultAddress.set(child, fa);
  }

  /** flush_signal_handlers at execve: caught signals go back to the default action (ignored stay ignored) */
  flushHandlers(): void {
    for (const act of this.actions) if (act.handler !== SIG_IGN) Object.assign(act, DEFAULT_ACTION);
  }

  /** sig_handler_ignored: SIG_IGN, or SIG_DFL of a signal whose default is to ignore it */
  ignoredAction(sig: number): boolean {
    const h = this.actions[sig]!.handler;
    return h === SIG_IGN || (h === SIG_DFL && !defaultTerminates(sig));
  }

  /** flush_sigqueue_mask of `sig` on the process's pending list and on each thread's (do_sigaction) */
  discardPending(sig: number): void {
    this.shared.flush(sigmask(sig));
    for (const [th, q] of [...this.own]) {
      q.flush(sigmask(sig));
      if (q.set === 0n) this.own.delete(th);
    }
  }

  /** a group-directed signal (kill, SIGCHLD, SIGALRM) to the process: send() to its leader */
  post(sig: number, info?: SendInfo): number {
    return this.send(sig, info, this.p.threads[0] ?? null, true);
  }

  /** a thread-directed signal (tgkill, tkill, rt_tgsigqueueinfo) to `th` */
  postThread(th: UnicornThread, sig: number, info: SendInfo): number {
    return this.send(sig, info, th, false);
  }

  /**
   * Send `sig` (kernel/signal.c __send_signal / v6.12 __send_signal_locked) to task `target`
   * (the thread a pid names), on the process's shared list when `group` (kill,
   * rt_sigqueueinfo: PIDTYPE_TGID) or on the thread's own (tgkill: PIDTYPE_PID). prepare_signal's
   * sig_ignored drops an ignored signal (SIG_IGN, or a default action of ignore: SIGCHLD,
   * SIGCONT, SIGURG, SIGWINCH, and by choice the stop signals, no job control) unless the target
   * blocks it; legacy_queue drops a standard signal (below SIGRTMIN) already pending there; an
   * entry with the siginfo is queued (sigqueue.ts; SIGKILL: only one with a siginfo, in 3.14: `sigkillEntry`) and charged to the target's
   * user: __sigqueue_alloc refuses it over RLIMIT_SIGPENDING unless override_rlimit (a standard
   * signal from the kernel or with si_code >= 0: kill), and then a real-time signal whose
   * si_code is not SI_USER (sigqueue, tgkill's SI_TKILL) fails -EAGAIN while any other is
   * pending without its siginfo (kill's real-time signal: it is delivered with a zeroed one).
   * complete_signal then picks the thread to tell. `info` undefined: a signal of the kernel
   * (the model's SIGCHLD, SIGALRM; si_code 0). prepare_signal first: once the group exit has
   * begun (SIGNAL_GROUP_EXIT, `groupExit`), v6.12 drops the signal and 3.14 goes on (capability
   * `signalsAfterGroupExit`), so a zombie (exited, not reaped: its sighand stays until
   * release_task) still queues in 3.14: sig_ignored with its actions and blocked mask, charged
   * to its user, complete_signal telling nobody (wants_signal: PF_EXITING); in v6.12 every
   * zombie has the flag (synchronize_group_exit at the last thread's exit, lifecycle.ts
   * threadExited, capability `groupExitOnLastThread`). Freed at the reap (flushAll). 0 or -EAGAIN.
   */
  send(sig: number, info: SendInfo | undefined, target: UnicornThread | null, group: boolean): number {
    if (this.released || target === null || sig < 1 || sig > 64) return 0;
    if (this.p.groupExit && this.layer.host.signalsAfterGroupExit === 'dropped') return 0;
    if (sig !== SIGKILL && (this.blockedOf(target) & sigmask(sig)) === 0n && this.ignoredAction(sig)) return 0;
    const pending = group ? this.shared : this.ownOf(target);
    if (pending.legacy(sig)) return 0;
    // a user-space SIGKILL (with a siginfo) is queued in 3.14 only (capability `sigkillEntry`)
    if (sig !== SIGKILL || (info !== undefined && (this.layer.host.sigkillEntry ?? 'queued') === 'queued')) {
      const override = sig < SIGRTMIN && (info === undefined || info.code >= 0);
      const ok = pending.queue(sig, info, this.p.proc.uid, this.p.proc.rlimit(RLIMIT_SIGPENDING).cur, override);
      if (!ok && info !== undefined && sig >= SIGRTMIN && info.code !== SI_USER) return -EAGAIN;
    }
    pending.add(sig);
    this.complete(sig, target, group);
    return 0;
  }

  /**
   * wants_signal (kernel/signal.c): `t` does not block `sig` (a thread in rt_sigtimedwait not
   * the signals it waits for), is not exiting, and for a signal other than SIGKILL is the one
   * running (task_curr) or not yet told of a pending signal (!signal_pending)
   */
  private wants(sig: number, t: UnicornThread): boolean {
    const w = this.waiters.get(t);
    const blocked = this.blockedOf(t) & ~(w?.set ?? 0n);
    if ((blocked & sigmask(sig)) !== 0n || t.state === 'exited' || t.exitInfo !== null) return false;
    return sig === SIGKILL || t === this.layer.currentThread || !this.flagged.has(t);
  }

  /**
   * complete_signal (kernel/signal.c, 3.14 and v6.12): the target itself if it wants the
   * signal; else, for a thread-directed signal or a group of one thread, nobody (it waits on
   * the list); else the first thread that wants it from signal->curr_target on, in thread
   * order (none: the threads able to take it already have a signal pending and will see it).
   * A fatal signal (SIGKILL, or a default action that terminates) ends the whole group at once
   * unless the chosen thread only waits for it in rt_sigtimedwait with it blocked
   * (real_blocked); otherwise signal_wake_up tells the chosen thread (TIF_SIGPENDING) and
   * wakes it from an interruptible sleep.
   */
  private complete(sig: number, p: UnicornThread, group: boolean): void {
    let t: UnicornThread | null = null;
    const threads = this.p.threads;
    if (this.wants(sig, p)) t = p;
    // thread_group_empty: the leader stays on the list as a zombie, the other threads go
    else if (!group || threads.filter((th, i) => i === 0 || th.state !== 'exited').length <= 1) return;
    else {
      const start = Math.max(0, threads.indexOf(this.currTarget ?? threads[0]!));
      for (let k = 0; k < threads.length && t === null; k++) {
        const c = threads[(start + k) % threads.length]!;
        if (this.wants(sig, c)) t = c;
      }
      if (t === null) return;
      this.currTarget = t;
    }
    const act = this.actions[sig]!;
    const realBlocked = this.waiters.has(t) ? this.blockedOf(t) : 0n;
    if ((sig === SIGKILL || (act.handler === SIG_DFL && defaultTerminates(sig))) && !this.p.groupExit && (realBlocked & sigmask(sig)) === 0n) {
      this.terminate(sig);
      return;
    }
    this.wakeUp(t, (act.flags & SA_RESTART) !== 0);
  }

  /** signal_wake_up: `t` is told (TIF_SIGPENDING) and woken from an interruptible sleep */
  private wakeUp(t: UnicornThread, restart: boolean): void {
    this.flagged.add(t);
    if (t.state === 'blocked') this.interrupt(t, restart);
  }

  /** recalc_sigpending on `t` (the current thread): told while a signal it does not block is pending */
  recalc(t: UnicornThread): void {
    if ((this.pendingFor(t) & ~this.blockedOf(t)) !== 0n) this.flagged.add(t);
    else this.flagged.delete(t);
  }

  /**
   * retarget_shared_pending: the shared signals `which` that `t` will not take (it blocks them
   * now, or it is exiting) go to the other threads in order: each live one that does not block
   * some of them is woken (unless already told), until none is left
   */
  private retarget(t: UnicornThread, which: bigint): void {
    const threads = this.p.threads;
    const i = threads.indexOf(t);
    for (let k = 1; k < threads.length && which !== 0n; k++) {
      const u = threads[(i + k) % threads.length]!;
      if (u.state === 'exited' || u.exitInfo !== null) continue;
      const blocked = this.blockedOf(u);
      if ((which & ~blocked) === 0n) continue;
      which &= blocked;
      if (!this.flagged.has(u)) this.wakeUp(u, false);
    }
  }

  /**
   * set_current_blocked (rt_sigprocmask, sigreturn, sigsuspend): a thread told of pending
   * signals hands the shared ones it now blocks to the others (retarget_shared_pending), then
   * recalc_sigpending
   */
  setBlocked(t: UnicornThread, mask: bigint): void {
    const next = mask & ~UNBLOCKABLE;
    if (this.flagged.has(t)) this.retarget(t, this.shared.set & next & ~this.blockedOf(t));
    this.blocked.set(t, next);
    this.recalc(t);
  }

  /**
   * dequeue_signal: the next signal of `allowed` from `t`'s own list, else from the process's
   * (next_signal: synchronous first, then the lowest), with its siginfo (collect_signal); then
   * recalc_sigpending. null when none.
   */
  dequeue(t: UnicornThread, allowed: bigint): { sig: number; info: SendInfo | undefined } | null {
    const own = this.own.get(t);
    let from: SigPending | undefined = own;
    let sig = own !== undefined ? nextSignal(own.set & allowed) : 0;
    if (sig === 0) {
      from = this.shared;
      sig = nextSignal(this.shared.set & allowed);
    }
    if (sig === 0) {
      this.recalc(t);
      return null;
    }
    const info = from!.collect(sig);
    if (own !== undefined && from === own && own.set === 0n) this.own.delete(t);
    this.recalc(t);
    return { sig, info };
  }

  /** end every thread of the process by `sig` (the exit status is 128 + sig) */
  terminate(sig: number): void {
    this.p.groupExit = true;
    for (const th of this.p.threads) {
      if (th.state === 'exited' || th.exitInfo !== null) continue;
      th.exitSignal(sig);
      // a sleeping thread is woken to leave: it ends when it is next picked
      if (th.state === 'blocked') this.cpu.wake(th);
    }
  }

  /** wake a thread sleeping in a layer call, wait4/futex/clock_nanosleep or sigsuspend; false if it is not in one */
  private interrupt(th: UnicornThread, restart: boolean): boolean {
    if (this.waiters.has(th)) {
      // rt_sigtimedwait: presented again, it takes the signal or answers -EINTR (signal-wait.ts)
      this.cpu.wake(th);
      return true;
    }
    const task = this.layer.taskOf(this.p.proc, th);
    if (task.restarting && !this.suspended.has(th)) {
      // asleep in a call of the syscall layer (pipe read/write, poll, select, nanosleep, a
      // device's wait): signal_pending makes the wait give up with -ERESTARTSYS (pipe_read,
      // wait_event_interruptible) or -ERESTARTNOHAND (core_sys_select), or plain poll's and
      // nanosleep's -ERESTART_RESTARTBLOCK with the end kept in the restart_block (nanosleep:
      // the time left written to rmtp; signal-restart.ts); deliver() turns it into -EINTR or a
      // restart (arch/arm/kernel/signal.c do_signal)
      const nr = th.blockedSyscall;
      const noHand = nr === ARM_NR._newselect || nr === ARM_NR.ppoll || nr === ARM_NR.pselect6 || nr === ARM_NR.ppoll_time64 || nr === ARM_NR.pselect6_time64;
      let code = this.restart.kind(th) !== null ? this.restart.signalled(th, this.p.proc.mm, this.cpu.scheduler.now, task.deadline) : noHand ? -ERESTARTNOHAND : -ERESTARTSYS;
      task.finish();
      // select / pselect6 / ppoll: the time left written back now, the mask as the era orders it
      // (signal-usermask.ts finishPollWait; maybe -EINTR: a faulting write forbids the restart)
      const rec = task.timeLeft;
      if (rec !== null) {
        task.timeLeft = null;
        code = finishPollWait(this, this.p.proc.mm, th, rec, this.cpu.scheduler.now, code, this.layer.host.pselectTimeLeft ?? 'copy-first');
      }
      th.completeSyscall(code);
      this.interrupted.add(th);
      this.cpu.wake(th);
      return true;
    }
    // clock_nanosleep(_time64) (time.ts): hrtimer_nanosleep's end, SA_RESTART or not: the time
    // left and the restart_block (-ERESTART_RESTARTBLOCK), or an absolute sleep's -ERESTARTNOHAND
    const slept = this.suspended.has(th) ? null : this.p.signalSleep(th);
    if (slept !== null) {
      th.completeSyscall(slept);
      this.interrupted.add(th);
      this.cpu.wake(th);
      return true;
    }
    if (this.suspended.has(th)) {
      // the entry stays: deliver() puts its mask in the frame and removes it
    } else if (restart) {
      return false;
    } else if (!this.p.cancelSleep(th)) return false;
    th.completeSyscall(-EINTR);
    this.cpu.wake(th);
    return true;
  }

  /**
   * Before a step of `t` whose call was interrupted or with signals pending (LinuxAbi's
   * beforeResume checks that first): deliver one, or, when the call was interrupted but no
   * handler runs (another thread took the signal, or it was dropped), restart the call
   * (do_signal without a handler: every restart code restarts).
   */
  resume(t: UnicornThread): void {
    this.interrupted.delete(t);
    const e = t.engine;
    const r0 = e.reg(e.arch.retReg) | 0;
    const interrupted = r0 === -ERESTARTSYS || r0 === -ERESTARTNOHAND || r0 === -ERESTART_RESTARTBLOCK;
    const d = !this.anyPending ? null : this.deliver(t, r0, false);
    if (d !== null && t.exitInfo === null) e.setReg(e.arch.retReg, d);
    // no handler: do_signal's restore_saved_sigmask (also after a pselect6/ppoll whose
    // -ERESTARTNOHAND became -EINTR, select-time.ts), then the restart of a restart code
    else if (d === null && t.exitInfo === null) {
      restoreSavedSigmask(this, t);
      if (interrupted) restartSyscall(t);
      // -ERESTART_RESTARTBLOCK: ret_fast_syscall re-enters as restart_syscall (signal-restart.ts)
      if (r0 === -ERESTART_RESTARTBLOCK) this.restart.enter(t);
    }
  }

  /**
   * Deliver a pending signal to `t` when it has been told of one (TIF_SIGPENDING; get_signal +
   * handle_signal): dequeue_signal's next one it does not block, its own list before the
   * process's; an ignored one is dropped and the next taken; a default action ends the process;
   * a handler gets the ARM signal frame on the user stack (signal-frame.ts setupSigframe) with
   * r0 = signal number and the siginfo the signal was queued with, and runs with the mask
   * gaining sa_mask and the signal (not with SA_NODEFER); SA_RESETHAND resets the handler to
   * SIG_DFL once this one is entered. `r0` is the value r0 has now (the syscall result), saved
   * in the frame. Returns the new r0, or null when nothing was delivered.
   */
  deliver(t: UnicornThread, r0: number, inSyscall: boolean): number | null {
    if (!this.flagged.has(t)) return null;
    const blocked = this.blockedOf(t);
    let got: { sig: number; info: SendInfo | undefined } | null;
    let act: SigAction;
    for (;;) {
      got = this.dequeue(t, ~blocked & ALL_SIGNALS);
      if (got === null) return null;
      act = this.actions[got.sig]!;
      if (act.handler === SIG_DFL && defaultTerminates(got.sig)) {
        this.terminate(got.sig);
        return null;
      }
      if (act.handler !== SIG_IGN && act.handler !== SIG_DFL) break;
    }
    const { sig, info } = got;
    const bit = sigmask(sig);
    // a sleeping call the signal interrupted (arch/arm/kernel/signal.c handle_signal):
    // -ERESTARTSYS with SA_RESTART re-executes the svc after the handler (PC back over it,
    // r0 = ORIG_r0, both saved in the frame); otherwise, and always for -ERESTARTNOHAND
    // (select) and -ERESTART_RESTARTBLOCK (poll), the call returns -EINTR
    if ((r0 | 0) === -ERESTARTSYS && (act.flags & SA_RESTART) !== 0) {
      restartSyscall(t);
      r0 = t.blockedArg0;
    } else if ((r0 | 0) === -ERESTARTSYS || (r0 | 0) === -ERESTARTNOHAND || (r0 | 0) === -ERESTART_RESTARTBLOCK) r0 = -EINTR;
    const rt = (act.flags & SA_SIGINFO) !== 0;
    // sigmask_to_save: saved_sigmask under TIF_RESTORE_SIGMASK (sigsuspend, pselect6/ppoll)
    const oldMask = this.saved.get(t) ?? this.suspended.get(t) ?? blocked;
    this.suspended.delete(t);
    this.saved.delete(t);
    // rseq_signal_deliver before the frame (rseq.ts): a critical section aborts to abort_ip
    if (!rseqSignalDeliver(this.p.proc.mm, t)) { this.terminate(SIGSEGV); return null; }
    const frame = setupSigframe(t, this.p.proc.mm, sig, rt, r0, oldMask, undefined, this.alt.frameStack(t, act), info);
    if (frame === null) {
      // no room for the frame: force SIGSEGV (signal.c force_sigsegv)
      this.terminate(SIGSEGV);
      return null;
    }
    this.setBlocked(t, blocked | act.mask | ((act.flags & SA_NODEFER) !== 0 ? 0n : bit));
    enterHandler(t, frame, rt, act);
    // SA_RESETHAND (SA_ONESHOT): kernel/signal.c get_signal copies the action for the handler
    // it is about to run, then sets the stored sa_handler to SIG_DFL; flags, restorer and
    // sa_mask stay (rt_sigaction reads them back)
    if ((act.flags & SA_RESETHAND) !== 0) act.handler = SIG_DFL;
    if (inSyscall) t.requestStop();
    this.delivered++;
    return sig;
  }

  /**
   * A synchronous fault of `t` whose instruction is known (arch/arm/mm/fault.c
   * __do_user_fault and do_DataAbort, traps.c do_undefinstr, then force_sig_fault ->
   * force_sig_info): its handler runs with the fault's siginfo (si_code, si_addr) and the
   * frame's trap_no, error_code and fault_address; the frame's PC is the faulting
   * instruction, so a handler that returns runs it again. A blocked or ignored signal is
   * forced to its default action (the handler reset to SIG_DFL, the signal unblocked), as is a
   * default handler: false, and the thread dies of the fault as before. The handler starts with
   * the IT state cleared (setup_return).
   */
  forceFault(t: UnicornThread, sig: number, fault: FaultInfo): boolean {
    const act = this.actions[sig]!;
    const bit = sigmask(sig);
    const blocked = this.blockedOf(t);
    if ((blocked & bit) !== 0n || act.handler === SIG_IGN) {
      act.handler = SIG_DFL;
      this.blocked.set(t, blocked & ~bit);
      return false;
    }
    if (act.handler === SIG_DFL) return false;
    const rt = (act.flags & SA_SIGINFO) !== 0;
    const e = t.engine;
    if (!rseqSignalDeliver(this.p.proc.mm, t)) return false; // rseq_signal_deliver: force_sigsegv
    const frame = setupSigframe(t, this.p.proc.mm, sig, rt, e.reg(UC_ARM_REG_R0), blocked, fault, this.alt.frameStack(t, act));
    // no room for the frame: force_sigsegv, the default action
    if (frame === null) return false;
    this.setBlocked(t, blocked | act.mask | ((act.flags & SA_NODEFER) !== 0 ? 0n : bit));
    e.setReg(UC_ARM_REG_CPSR, withIt(e.reg(UC_ARM_REG_CPSR), 0));
    enterHandler(t, frame, rt, act);
    e.setReg(UC_ARM_REG_R0, sig);
    if ((act.flags & SA_RESETHAND) !== 0) act.handler = SIG_DFL;
    this.delivered++;
    return true;
  }

  /** rt_sigreturn / sigreturn (restore_sigframe): registers, VFP and mask from the frame at SP */
  sysSigreturn(t: UnicornThread, rt: boolean): SyscallResult {
    // restart_block.fn = do_no_restart_syscall (read in 3.14.4 and 6.12.19 arch/arm/kernel/signal.c)
    this.restart.clear(t);
    const uc = readUcontext(t, this.p.proc.mm, rt);
    if (uc === null) {
      this.terminate(SIGSEGV);
      return 0;
    }
    this.setBlocked(t, ucontextMask(uc));
    const r0 = restoreUcontext(t, uc);
    this.alt.restore(t, ucontextStack(uc));
    t.requestStop();
    return r0;
  }

  /** rt_sigsuspend / pause (`maskPtr` null): sleep with the given mask until a signal is delivered; -EINTR */
  sysSigsuspend(t: UnicornThread, maskPtr: number | null, setsize: number): SyscallResult {
    if (setsize !== 8) return -EINVAL;
    if (this.suspended.has(t)) {
      // re-presented without a signal (a spurious wake): keep sleeping
      this.cpu.block(t);
      return BLOCK;
    }
    const old = this.blockedOf(t);
    if (maskPtr !== null) {
      if (this.p.proc.mm.copyFromUser(this.scratch8, 0, maskPtr, this.scratch8.length) !== 0) return -EFAULT;
      this.setBlocked(t, new DataView(this.scratch8.buffer).getBigUint64(0, true));
    }
    this.suspended.set(t, old);
    if (this.flagged.has(t)) return -EINTR;
    this.cpu.block(t);
    return BLOCK;
  }
}
