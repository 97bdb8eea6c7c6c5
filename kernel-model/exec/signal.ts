import type { Cpu } from '../../emulator/cpu/cpu.js';
import { BLOCK, type SyscallResult, type UnicornThread } from '../../emulator/cpu/unicorn/thread.js';
import { EFAULT, EINTR, EINVAL, ENOMEM, EPERM } from '../base/errno.js';
import type { Process } from '../process/process.js';
import type { SyscallLayer } from '../syscall/syscalls.js';
import { ERESTARTSYS } from '../vfs/file.js';
import { ARM_NR } from './arm-nr.js';
import { withIt } from '../../emulator/cpu/unicorn/locate.js';
import { UC_ARM_REG_CPSR, UC_ARM_REG_R0 } from '../../emulator/cpu/unicorn/native.js';
import { enterHandler, readUcontext, restartSyscall, restoreUcontext, setupSigframe, ucontextMask, ucontextStack, type FaultInfo, type FrameStack, type SendInfo } from './signal-frame.js';

/**
 * The signals of one ARM process on the Unicorn backend (kernel/signal.c): the actions
 * (rt_sigaction), each thread's blocked mask (rt_sigprocmask), the process's pending set
 * (signal->shared_pending) and each thread's own (task->pending, for tgkill/tkill), posting (send_signal / complete_signal: a fatal default action ends the process, an ignored
 * signal is dropped, a sleeping thread is interrupted), delivery at syscall return and before
 * a thread's step (get_signal / handle_signal, with arch/arm/kernel/signal.c's restart rules),
 * rt_sigsuspend/pause, sigreturn, sigaltstack. Signals 1-32 (real-time ones are refused by
 * kill, a choice). The ARM frame itself is kernel-model/exec/signal-frame.ts; kill, tgkill and
 * tkill are kernel-model/exec/kill.ts.
 */

export const SIGBUS = 7, SIGKILL = 9, SIGSEGV = 11, SIGALRM = 14, SIGCHLD = 17, SIGSTOP = 19;
const SIG_DFL = 0, SIG_IGN = 1;
/** sa_flags (arch/arm/include/uapi/asm/signal.h) */
const SA_SIGINFO = 4, SA_ONSTACK = 0x08000000, SA_RESTART = 0x10000000, SA_NODEFER = 0x40000000, SA_RESETHAND = 0x80000000;
/** sigaltstack's ss_flags (include/uapi/linux/signal.h) and MINSIGSTKSZ (arch/arm/include/uapi/asm/signal.h) */
const SS_ONSTACK = 1, SS_DISABLE = 2, SS_AUTODISARM = 0x80000000, MINSIGSTKSZ = 2048;
/** include/linux/errno.h: restart only when no handler runs */
const ERESTARTNOHAND = 514;
const sigBit = (sig: number): number => 1 << (sig - 1);
const UNBLOCKABLE = sigBit(SIGKILL) | sigBit(SIGSTOP);

export interface SigAction {
  handler: number;
  flags: number;
  restorer: number;
  /** signals 1-32 */
  mask: number;
}
const DEFAULT_ACTION: SigAction = { handler: SIG_DFL, flags: 0, restorer: 0, mask: 0 };

/**
 * The default action of a signal terminates the process (kernel/signal.c sig_kernel_ignore
 * and sig_kernel_stop sets): not SIGCHLD, SIGCONT, SIGURG, SIGWINCH (ignore) nor, by choice
 * (no job control), SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU (stop).
 */
function defaultTerminates(sig: number): boolean {
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
}

export class SignalState {
  /** sigaction per signal number (index 0 unused) */
  readonly actions: SigAction[] = Array.from({ length: 65 }, () => ({ ...DEFAULT_ACTION }));
  /** blocked mask of each thread (signals 1-32) */
  readonly blocked = new Map<UnicornThread, number>();
  /**
   * signals sent to this process and not delivered (bit n-1 for signal n; signal->shared_pending);
   * SIGCHLD's default action is to ignore it
   */
  pending = 0;
  /**
   * signals sent to one thread (tgkill/tkill: task->pending), not delivered; only threads with
   * some (an entry goes when its last signal is taken or its thread ends)
   */
  readonly threadPending = new Map<UnicornThread, number>();
  /**
   * the siginfo of each pending signal (the first send's: a second send of a pending signal
   * 1-31 is dropped, legacy_queue), shared and per thread; none: si_code 0, si_pid/si_uid 0
   */
  private readonly sharedInfo: (SendInfo | undefined)[] = [];
  private readonly threadInfo = new Map<UnicornThread, (SendInfo | undefined)[]>();
  /** threads woken out of a layer call with a restart code, until their next step (resume) */
  readonly interrupted = new Set<UnicornThread>();
  /** signals delivered to handlers (statistics) */
  delivered = 0;
  /**
   * each thread's alternate signal stack (task_struct sas_ss_sp, sas_ss_size, sas_ss_flags:
   * SS_AUTODISARM or 0); none: disabled (a new thread of the process starts without one)
   */
  readonly altstacks = new Map<UnicornThread, { sp: number; size: number; flags: number }>();
  /**
   * each thread's current->thread.address (arch/arm/include/asm/processor.h thread_struct): the
   * address of its last SIGSEGV, set by __do_user_fault (arch/arm/mm/fault.c) and written to
   * every fault frame's fault_address (setup_sigframe); 0 until then. A forked child inherits
   * it (dup_task_struct copies the thread_struct); a new thread here starts at 0.
   */
  readonly faultAddress = new Map<UnicornThread, number>();
  /** threads in sigsuspend/pause -> the mask to restore after the handler */
  private readonly suspended = new Map<UnicornThread, number>();
  private readonly scratch8 = new Uint8Array(8);
  private readonly scratch12 = new Uint8Array(12);

  constructor(
    private readonly p: SignalProcess,
    private readonly layer: SyscallLayer,
    private readonly cpu: Cpu,
  ) {}

  /** SS_AUTODISARM is known (capability `sigaltstackAutodisarm`, v4.7+; the syscall host's) */
  private get autodisarm(): boolean {
    return this.layer.host.sigaltstackAutodisarm ?? false;
  }

  /** on_sig_stack(sp) (include/linux/sched/signal.h; a stack growing down): false with SS_AUTODISARM */
  private onSigStack(t: UnicornThread, sp: number): boolean {
    const a = this.altstacks.get(t);
    if (a === undefined || (a.flags & SS_AUTODISARM) !== 0) return false;
    return sp > a.sp && sp - a.sp <= a.size;
  }

  /** sas_ss_flags(sp): SS_DISABLE without an alternate stack, SS_ONSTACK on it, else 0 */
  private sasFlags(t: UnicornThread, sp: number): number {
    const a = this.altstacks.get(t);
    if (a === undefined || a.size === 0) return SS_DISABLE;
    return this.onSigStack(t, sp) ? SS_ONSTACK : 0;
  }

  /**
   * Where a handler's frame goes (arch/arm/kernel/signal.c get_sigframe -> sigsp): on the
   * alternate stack's top with SA_ONSTACK when there is one and the thread is not already on it,
   * else below SP; the frame records the alternate stack (__save_altstack), which v6.12's
   * SS_AUTODISARM then disables until sigreturn restores it.
   */
  private frameStack(t: UnicornThread, act: SigAction): FrameStack {
    const sp = t.engine.reg(t.engine.arch.spReg);
    const a = this.altstacks.get(t);
    const flags = this.sasFlags(t, sp);
    const st: FrameStack = { top: sp, ssSp: a?.sp ?? 0, ssFlags: flags | (a !== undefined ? a.flags & SS_AUTODISARM : 0), ssSize: a?.size ?? 0 };
    if ((act.flags & SA_ONSTACK) !== 0 && flags === 0) st.top = (a!.sp + a!.size) >>> 0;
    if (a !== undefined && (a.flags & SS_AUTODISARM) !== 0) this.altstacks.delete(t);
    return st;
  }

  /**
   * sigaltstack (kernel/signal.c do_sigaltstack): the old setting is taken first (ss_flags
   * sas_ss_flags(sp), with SS_AUTODISARM where set); a new one is refused while the thread runs
   * on its alternate stack (-EPERM), with a mode other than 0, SS_ONSTACK or SS_DISABLE
   * (-EINVAL; SS_AUTODISARM is a flag beside the mode where known, capability
   * `sigaltstackAutodisarm`, else -EINVAL), or smaller than MINSIGSTKSZ (-ENOMEM); SS_DISABLE
   * clears it. The old setting is written only when the call succeeds. -EFAULT for the structs
   * (ARM stack_t: ss_sp, ss_flags, ss_size).
   */
  sysSigaltstack(t: UnicornThread, ssPtr: number, oldPtr: number): number {
    const mm = this.p.proc.mm;
    const sp = t.engine.reg(t.engine.arch.spReg);
    const a = this.altstacks.get(t);
    const old = [a?.sp ?? 0, this.sasFlags(t, sp) | (a !== undefined ? a.flags & SS_AUTODISARM : 0), a?.size ?? 0];
    if (ssPtr !== 0) {
      const b = this.scratch12;
      if (mm.copyFromUser(b, 0, ssPtr, 12) !== 0) return -EFAULT;
      const dv = new DataView(b.buffer);
      let ssSp = dv.getUint32(0, true);
      const flags = dv.getUint32(4, true);
      let size = dv.getUint32(8, true);
      if (this.onSigStack(t, sp)) return -EPERM;
      const mode = this.autodisarm ? flags & ~SS_AUTODISARM : flags;
      if (mode !== 0 && mode !== SS_ONSTACK && mode !== SS_DISABLE) return -EINVAL;
      if (mode === SS_DISABLE) {
        size = 0;
        ssSp = 0;
      } else if (size < MINSIGSTKSZ) return -ENOMEM;
      if (size === 0) this.altstacks.delete(t);
      else this.altstacks.set(t, { sp: ssSp, size, flags: flags & SS_AUTODISARM });
    }
    if (oldPtr !== 0) {
      const dv = new DataView(this.scratch12.buffer);
      dv.setUint32(0, old[0]! >>> 0, true);
      dv.setUint32(4, old[1]! >>> 0, true);
      dv.setUint32(8, old[2]! >>> 0, true);
      if (mm.copyToUser(oldPtr, this.scratch12, 0, 12) !== 0) return -EFAULT;
    }
    return 0;
  }

  /** restore_altstack at sigreturn: the frame's uc_stack set again as sigaltstack would (only a fault matters) */
  private restoreAltstack(t: UnicornThread, ss: { sp: number; flags: number; size: number }): void {
    const sp = t.engine.reg(t.engine.arch.spReg);
    if (this.onSigStack(t, sp)) return;
    const mode = this.autodisarm ? ss.flags & ~SS_AUTODISARM : ss.flags;
    if (mode !== 0 && mode !== SS_ONSTACK && mode !== SS_DISABLE) return;
    if (mode === SS_DISABLE) this.altstacks.delete(t);
    else if (ss.size >= MINSIGSTKSZ) this.altstacks.set(t, { sp: ss.sp, size: ss.size, flags: ss.flags & SS_AUTODISARM });
  }

  /** setup_new_exec at execve: no alternate stack */
  resetAltstack(t: UnicornThread): void {
    this.altstacks.delete(t);
  }

  /** a signal is pending for the process or for one of its threads (the fast path's test) */
  get anyPending(): boolean {
    return this.pending !== 0 || this.threadPending.size !== 0;
  }

  /** the signals pending for `t`: its own and the process's */
  pendingFor(t: UnicornThread): number {
    return this.pending | (this.threadPending.get(t) ?? 0);
  }

  /** clear `bits` in `t`'s own pending set */
  private clearThreadPending(t: UnicornThread, bits: number): void {
    const own = (this.threadPending.get(t) ?? 0) & ~bits;
    if (own === 0) {
      this.threadPending.delete(t);
      this.threadInfo.delete(t);
    } else this.threadPending.set(t, own);
  }

  /** a thread ended: its own pending signals go (kernel/exit.c __exit_signal: flush_sigqueue(&tsk->pending)) */
  threadGone(t: UnicornThread): void {
    this.clearThreadPending(t, -1);
  }

  /** `t` sleeps in rt_sigsuspend/pause */
  isSuspended(t: UnicornThread): boolean {
    return this.suspended.has(t);
  }

  /**
   * copy_sighand at fork: the child gets the actions, and its thread `child` the blocked mask
   * of the forking thread `t`; pending signals are not inherited
   */
  forkInto(into: SignalState, t: UnicornThread, child: UnicornThread): void {
    for (let i = 0; i < this.actions.length; i++) into.actions[i] = { ...this.actions[i]! };
    into.blocked.set(child, this.blocked.get(t) ?? 0);
    // the alternate stack too (copy_process resets it only for a thread sharing the mm)
    const a = this.altstacks.get(t);
    if (a !== undefined) into.altstacks.set(child, { ...a });
    const fa = this.faultAddress.get(t);
    if (fa !== undefined) into.faultAddress.set(child, fa);
  }

  /** flush_signal_handlers at execve: caught signals go back to the default action (ignored stay ignored) */
  flushHandlers(): void {
    for (const act of this.actions) if (act.handler !== SIG_IGN) Object.assign(act, DEFAULT_ACTION);
  }

  /**
   * Post `sig` to this process (kernel/signal.c send_signal / complete_signal): SIGKILL, or a
   * signal whose action is the default "terminate" and that some thread does not block, ends
   * the process now; an ignored signal (SIG_IGN, or a default action of ignore: SIGCHLD,
   * SIGCONT, SIGURG, SIGWINCH, and by choice the stop signals, no job control) is dropped;
   * otherwise it is pending for the process, and one thread sleeping in an interruptible call
   * without blocking it is interrupted: a call of the syscall layer (pipe read/write, poll,
   * select, nanosleep, device waits) gives up with a restart code and deliver() makes it
   * -EINTR or, for -ERESTARTSYS under SA_RESTART, re-executes it after the handler (poll and
   * select are -EINTR even with SA_RESTART, as Linux's -ERESTARTNOHAND); sigsuspend/pause
   * always return -EINTR; wait4/futex/clock_nanosleep served here are -EINTR without
   * SA_RESTART and go on with it (the handler runs when they return, a choice: Linux would
   * restart them). Signals 1-32 only (real-time ones are refused by kill).
   */
  post(sig: number, info?: SendInfo): void {
    if (this.p.exit !== null || sig < 1 || sig > 32) return;
    const bit = sigBit(sig);
    const act = this.actions[sig]!;
    const live = this.p.threads.filter((th) => th.state !== 'exited' && th.exitInfo === null);
    if (live.length === 0) return;
    if (sig === SIGKILL || (act.handler === SIG_DFL && defaultTerminates(sig))) {
      if (sig !== SIGKILL && live.every((th) => ((this.blocked.get(th) ?? 0) & bit) !== 0)) {
        if ((this.pending & bit) === 0) this.sharedInfo[sig] = info;
        this.pending |= bit;
        return;
      }
      this.terminate(sig);
      return;
    }
    if (act.handler === SIG_IGN || act.handler === SIG_DFL) return;
    if ((this.pending & bit) === 0) this.sharedInfo[sig] = info;
    this.pending |= bit;
    for (const th of live) {
      if (((this.blocked.get(th) ?? 0) & bit) !== 0 || th.state !== 'blocked') continue;
      if (this.interrupt(th, (act.flags & SA_RESTART) !== 0)) break;
    }
  }

  /**
   * Post `sig` to thread `th` alone (tgkill/tkill: kernel/signal.c do_send_sig_info with
   * PIDTYPE_PID -> send_signal_locked, the signal on the thread's own pending list, then
   * complete_signal): prepare_signal's sig_ignored drops an ignored signal (SIG_IGN, or a
   * default action of ignore) unless `th` blocks it (a blocked signal is never ignored: the
   * handler may change before it is unblocked); SIGKILL, or a default "terminate" `th` does not
   * block, ends the whole process now (complete_signal's sig_fatal: the group exits); otherwise
   * it waits in `th`'s own set and, when `th` does not block it, wakes `th` alone out of an
   * interruptible sleep (signal_wake_up(t)); no other thread takes it (complete_signal returns
   * for PIDTYPE_PID when the target does not want it). A thread that has ended takes nothing
   * (do_send_specific pretends it died after receiving it).
   */
  postThread(th: UnicornThread, sig: number, info: SendInfo): void {
    if (this.p.exit !== null || sig < 1 || sig > 32) return;
    if (th.state === 'exited' || th.exitInfo !== null) return;
    const bit = sigBit(sig);
    const act = this.actions[sig]!;
    const blocked = sig !== SIGKILL && ((this.blocked.get(th) ?? 0) & bit) !== 0;
    if (!blocked && sig !== SIGKILL && (act.handler === SIG_IGN || (act.handler === SIG_DFL && !defaultTerminates(sig)))) return;
    if (!blocked && (sig === SIGKILL || act.handler === SIG_DFL)) {
      this.terminate(sig);
      return;
    }
    const own = this.threadPending.get(th) ?? 0;
    if ((own & bit) !== 0) return; // legacy_queue: already pending, this one is dropped
    this.threadPending.set(th, own | bit);
    let infos = this.threadInfo.get(th);
    if (infos === undefined) this.threadInfo.set(th, (infos = []));
    infos[sig] = info;
    if (!blocked && th.state === 'blocked') this.interrupt(th, (act.flags & SA_RESTART) !== 0);
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
    const task = this.layer.taskOf(this.p.proc, th);
    if (task.restarting && !this.suspended.has(th)) {
      // asleep in a call of the syscall layer (pipe read/write, poll, select, nanosleep, a
      // device's wait): signal_pending makes the wait give up with -ERESTARTSYS (pipe_read,
      // wait_event_interruptible) or -ERESTARTNOHAND (do_sys_poll, core_sys_select, and
      // nanosleep's -ERESTART_RESTARTBLOCK, which behaves the same with a handler);
      // deliver() turns it into -EINTR or a restart (arch/arm/kernel/signal.c do_signal)
      const nr = th.blockedSyscall;
      const noHand = nr === ARM_NR.poll || nr === ARM_NR._newselect || nr === ARM_NR.ppoll || nr === ARM_NR.pselect6 || nr === ARM_NR.nanosleep;
      task.finish();
      th.completeSyscall(noHand ? -ERESTARTNOHAND : -ERESTARTSYS);
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
    const interrupted = r0 === -ERESTARTSYS || r0 === -ERESTARTNOHAND;
    const d = !this.anyPending ? null : this.deliver(t, r0, false);
    if (d !== null && t.exitInfo === null) e.setReg(e.arch.retReg, d);
    else if (d === null && interrupted && t.exitInfo === null) restartSyscall(t);
  }

  /**
   * Deliver the lowest pending signal `t` does not block, from its own pending set first, then
   * the process's (kernel/signal.c dequeue_signal: next_signal(&tsk->pending) before
   * &tsk->signal->shared_pending; get_signal + handle_signal): a
   * default action ends the process or drops it; a handler gets the ARM signal frame on the
   * user stack (signal-frame.ts setupSigframe) with r0 = signal number, and runs with the
   * mask gaining sa_mask and the signal (not with SA_NODEFER); SA_RESETHAND resets the
   * handler to SIG_DFL once this one is entered. `r0` is the value r0 has now (the syscall result), saved in the frame. Returns
   * the new r0, or null when nothing was delivered.
   */
  deliver(t: UnicornThread, r0: number, inSyscall: boolean): number | null {
    const blocked = this.blocked.get(t) ?? 0;
    const own = (this.threadPending.get(t) ?? 0) & ~blocked;
    const ready = own !== 0 ? own : this.pending & ~blocked;
    if (ready === 0) return null;
    const sig = 32 - Math.clz32(ready & -ready);
    const bit = sigBit(sig);
    let info: SendInfo | undefined;
    if (own !== 0) {
      info = this.threadInfo.get(t)?.[sig];
      this.clearThreadPending(t, bit);
    } else {
      info = this.sharedInfo[sig];
      this.sharedInfo[sig] = undefined;
      this.pending &= ~bit;
    }
    const act = this.actions[sig]!;
    if (act.handler === SIG_IGN) return null;
    if (act.handler === SIG_DFL) {
      if (defaultTerminates(sig)) this.terminate(sig);
      return null;
    }
    // a sleeping call the signal interrupted (arch/arm/kernel/signal.c handle_signal):
    // -ERESTARTSYS with SA_RESTART re-executes the svc after the handler (PC back over it,
    // r0 = ORIG_r0, both saved in the frame); otherwise, and always for -ERESTARTNOHAND
    // (poll, select), the call returns -EINTR
    if ((r0 | 0) === -ERESTARTSYS && (act.flags & SA_RESTART) !== 0) {
      restartSyscall(t);
      r0 = t.blockedArg0;
    } else if ((r0 | 0) === -ERESTARTSYS || (r0 | 0) === -ERESTARTNOHAND) r0 = -EINTR;
    const rt = (act.flags & SA_SIGINFO) !== 0;
    const oldMask = this.suspended.get(t) ?? blocked;
    this.suspended.delete(t);
    const frame = setupSigframe(t, this.p.proc.mm, sig, rt, r0, oldMask, undefined, this.frameStack(t, act), info);
    if (frame === null) {
      // no room for the frame: force SIGSEGV (signal.c force_sigsegv)
      this.terminate(SIGSEGV);
      return null;
    }
    this.blocked.set(t, (blocked | act.mask | ((act.flags & SA_NODEFER) !== 0 ? 0 : bit)) & ~UNBLOCKABLE);
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
    const bit = sigBit(sig);
    const blocked = this.blocked.get(t) ?? 0;
    if ((blocked & bit) !== 0 || act.handler === SIG_IGN) {
      act.handler = SIG_DFL;
      this.blocked.set(t, blocked & ~bit);
      return false;
    }
    if (act.handler === SIG_DFL) return false;
    const rt = (act.flags & SA_SIGINFO) !== 0;
    const e = t.engine;
    const frame = setupSigframe(t, this.p.proc.mm, sig, rt, e.reg(UC_ARM_REG_R0), blocked, fault, this.frameStack(t, act));
    // no room for the frame: force_sigsegv, the default action
    if (frame === null) return false;
    this.blocked.set(t, (blocked | act.mask | ((act.flags & SA_NODEFER) !== 0 ? 0 : bit)) & ~UNBLOCKABLE);
    e.setReg(UC_ARM_REG_CPSR, withIt(e.reg(UC_ARM_REG_CPSR), 0));
    enterHandler(t, frame, rt, act);
    e.setReg(UC_ARM_REG_R0, sig);
    if ((act.flags & SA_RESETHAND) !== 0) act.handler = SIG_DFL;
    this.delivered++;
    return true;
  }

  /** rt_sigreturn / sigreturn (restore_sigframe): registers, VFP and mask from the frame at SP */
  sysSigreturn(t: UnicornThread, rt: boolean): SyscallResult {
    const uc = readUcontext(t, this.p.proc.mm, rt);
    if (uc === null) {
      this.terminate(SIGSEGV);
      return 0;
    }
    this.blocked.set(t, ucontextMask(uc) & ~UNBLOCKABLE);
    const r0 = restoreUcontext(t, uc);
    this.restoreAltstack(t, ucontextStack(uc));
    t.requestStop();
    return r0;
  }

  /** rt_sigaction (kernel/signal.c do_sigaction; ARM struct sigaction: handler, flags, restorer, mask[2]) */
  sysSigaction(sig: number, act: number, oact: number, setsize: number): number {
    if (setsize !== 8) return -EINVAL;
    if (sig < 1 || sig > 64) return -EINVAL;
    const mm = this.p.proc.mm;
    const cur = this.actions[sig]!;
    if (oact !== 0) {
      const b = new Uint8Array(20);
      const dv = new DataView(b.buffer);
      dv.setUint32(0, cur.handler, true);
      dv.setUint32(4, cur.flags, true);
      dv.setUint32(8, cur.restorer, true);
      dv.setUint32(12, cur.mask >>> 0, true);
      if (mm.copyToUser(oact, b, 0, b.length) !== 0) return -EFAULT;
    }
    if (act !== 0) {
      if (sig === SIGKILL || sig === SIGSTOP) return -EINVAL;
      const b = new Uint8Array(20);
      if (mm.copyFromUser(b, 0, act, b.length) !== 0) return -EFAULT;
      const dv = new DataView(b.buffer);
      cur.handler = dv.getUint32(0, true);
      cur.flags = dv.getUint32(4, true);
      cur.restorer = dv.getUint32(8, true);
      cur.mask = dv.getUint32(12, true) & ~UNBLOCKABLE;
      // POSIX: setting SIG_IGN (or SIG_DFL of an ignored-by-default signal) discards it pending,
      // the process's and every thread's (do_sigaction: flush_sigqueue_mask on shared_pending
      // and on each thread's pending)
      if (sig <= 32 && (cur.handler === SIG_IGN || (cur.handler === SIG_DFL && !defaultTerminates(sig)))) {
        this.pending &= ~sigBit(sig);
        for (const th of [...this.threadPending.keys()]) this.clearThreadPending(th, sigBit(sig));
      }
    }
    return 0;
  }

  /** rt_sigprocmask (SIG_BLOCK 0, SIG_UNBLOCK 1, SIG_SETMASK 2); SIGKILL and SIGSTOP cannot be blocked */
  sysSigprocmask(t: UnicornThread, how: number, set: number, oset: number, setsize: number): number {
    if (setsize !== 8) return -EINVAL;
    const mm = this.p.proc.mm;
    const cur = this.blocked.get(t) ?? 0;
    let next = cur;
    if (set !== 0) {
      if (mm.copyFromUser(this.scratch8, 0, set, this.scratch8.length) !== 0) return -EFAULT;
      const m = new DataView(this.scratch8.buffer).getUint32(0, true);
      if (how === 0) next = cur | m;
      else if (how === 1) next = cur & ~m;
      else if (how === 2) next = m;
      else return -EINVAL;
    }
    if (oset !== 0) {
      const b = new Uint8Array(8);
      new DataView(b.buffer).setUint32(0, cur >>> 0, true);
      if (mm.copyToUser(oset, b, 0, b.length) !== 0) return -EFAULT;
    }
    this.blocked.set(t, next & ~UNBLOCKABLE);
    // a now-unblocked fatal signal that was held pending ends the process at once
    const fatal = this.pendingFor(t) & ~(next & ~UNBLOCKABLE);
    if (fatal !== 0) {
      const sig = 32 - Math.clz32(fatal & -fatal);
      if (this.actions[sig]!.handler === SIG_DFL && defaultTerminates(sig)) {
        this.pending &= ~sigBit(sig);
        this.clearThreadPending(t, sigBit(sig));
        this.terminate(sig);
      }
    }
    return 0;
  }

  /** rt_sigsuspend / pause (`maskPtr` null): sleep with the given mask until a signal is delivered; -EINTR */
  sysSigsuspend(t: UnicornThread, maskPtr: number | null, setsize: number): SyscallResult {
    if (setsize !== 8) return -EINVAL;
    if (this.suspended.has(t)) {
      // re-presented without a signal (a spurious wake): keep sleeping
      this.cpu.block(t);
      return BLOCK;
    }
    const old = this.blocked.get(t) ?? 0;
    if (maskPtr !== null) {
      if (this.p.proc.mm.copyFromUser(this.scratch8, 0, maskPtr, this.scratch8.length) !== 0) return -EFAULT;
      this.blocked.set(t, new DataView(this.scratch8.buffer).getUint32(0, true) & ~UNBLOCKABLE);
    }
    this.suspended.set(t, old);
    if ((this.pendingFor(t) & ~(this.blocked.get(t) ?? 0)) !== 0) return -EINTR;
    this.cpu.block(t);
    return BLOCK;
  }
}
