import type { UnicornThread } from '../../emulator/cpu/unicorn/thread.js';
import { EFAULT, EINVAL, ENOMEM, EPERM } from '../base/errno.js';
import type { AddressSpace } from '../process/mm.js';
import type { SigAction } from './signal.js';
import type { FrameStack } from './signal-frame.js';

/** sigaltstack's ss_flags (include/uapi/linux/signal.h) and MINSIGSTKSZ (arch/arm/include/uapi/asm/signal.h) */
const SS_ONSTACK = 1, SS_DISABLE = 2, SS_AUTODISARM = 0x80000000, MINSIGSTKSZ = 2048;
/** sa_flags' SA_ONSTACK (arch/arm/include/uapi/asm/signal.h) */
const SA_ONSTACK = 0x08000000;

/**
 * The alternate signal stacks of one process's threads (kernel/signal.c do_sigaltstack,
 * __save_altstack, restore_altstack; arch/arm/kernel/signal.c get_sigframe): SignalState's.
 */
export class AltStacks {
  /**
   * each thread's alternate signal stack (task_struct sas_ss_sp, sas_ss_size, sas_ss_flags:
   * SS_AUTODISARM or 0); none: disabled (a new thread of the process starts without one)
   */
  readonly stacks = new Map<UnicornThread, { sp: number; size: number; flags: number }>();
  private readonly scratch12 = new Uint8Array(12);

  /** `known`: SS_AUTODISARM is known (the syscall host's `sigaltstackAutodisarm`) */
  constructor(private readonly known: () => boolean) {}

  /** SS_AUTODISARM is known (capability `sigaltstackAutodisarm`, v4.7+; the syscall host's) */
  private get autodisarm(): boolean {
    return this.known();
  }

  /** on_sig_stack(sp) (include/linux/sched/signal.h; a stack growing down): false with SS_AUTODISARM */
  private onSigStack(t: UnicornThread, sp: number): boolean {
    const a = this.stacks.get(t);
    if (a === undefined || (a.flags & SS_AUTODISARM) !== 0) return false;
    return sp > a.sp && sp - a.sp <= a.size;
  }

  /** sas_ss_flags(sp): SS_DISABLE without an alternate stack, SS_ONSTACK on it, else 0 */
  private sasFlags(t: UnicornThread, sp: number): number {
    const a = this.stacks.get(t);
    if (a === undefined || a.size === 0) return SS_DISABLE;
    return this.onSigStack(t, sp) ? SS_ONSTACK : 0;
  }

  /**
   * Where a handler's frame goes (arch/arm/kernel/signal.c get_sigframe -> sigsp): on the
   * alternate stack's top with SA_ONSTACK when there is one and the thread is not already on it,
   * else below SP; the frame records the alternate stack (__save_altstack), which v6.12's
   * SS_AUTODISARM then disables until sigreturn restores it.
   */
  frameStack(t: UnicornThread, act: SigAction): FrameStack {
    const sp = t.engine.reg(t.engine.arch.spReg);
    const a = this.stacks.get(t);
    const flags = this.sasFlags(t, sp);
    const st: FrameStack = { top: sp, ssSp: a?.sp ?? 0, ssFlags: flags | (a !== undefined ? a.flags & SS_AUTODISARM : 0), ssSize: a?.size ?? 0 };
    if ((act.flags & SA_ONSTACK) !== 0 && flags === 0) st.top = (a!.sp + a!.size) >>> 0;
    if (a !== undefined && (a.flags & SS_AUTODISARM) !== 0) this.stacks.delete(t);
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
  sys(t: UnicornThread, mm: AddressSpace, ssPtr: number, oldPtr: number): number {
    const sp = t.engine.reg(t.engine.arch.spReg);
    const a = this.stacks.get(t);
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
      if (size === 0) this.stacks.delete(t);
      else this.stacks.set(t, { sp: ssSp, size, flags: flags & SS_AUTODISARM });
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
  restore(t: UnicornThread, ss: { sp: number; flags: number; size: number }): void {
    const sp = t.engine.reg(t.engine.arch.spReg);
    if (this.onSigStack(t, sp)) return;
    const mode = this.autodisarm ? ss.flags & ~SS_AUTODISARM : ss.flags;
    if (mode !== 0 && mode !== SS_ONSTACK && mode !== SS_DISABLE) return;
    if (mode === SS_DISABLE) this.stacks.delete(t);
    else if (ss.size >= MINSIGSTKSZ) this.stacks.set(t, { sp: ss.sp, size: ss.size, flags: ss.flags & SS_AUTODISARM });
  }
}
