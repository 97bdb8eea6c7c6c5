import { UC_ARM_REG_CPSR, UC_ARM_REG_D0, UC_ARM_REG_FPSCR, UC_ARM_REG_LR, UC_ARM_REG_R0 } from '../../emulator/cpu/unicorn/native.js';
import type { UnicornThread } from '../../emulator/cpu/unicorn/thread.js';
import type { AddressSpace } from '../process/mm.js';
import type { SigAction } from './signal.js';
import type { SendInfo } from './sigqueue.js';

/**
 * The ARM side of signal delivery (arch/arm/kernel/signal.c): the signal frame a handler gets
 * on the user stack (setup_frame / setup_rt_frame: a ucontext with the sigcontext and the VFP
 * registers, preceded by a siginfo for SA_SIGINFO), the registers the handler starts with
 * (setup_return), the frame's restore by sigreturn / rt_sigreturn (restore_sigframe), and the
 * re-execution of an interrupted svc (do_signal's restart). The generic part (which signal,
 * which mask, when) is kernel-model/exec/signal.ts.
 */

/**
 * ARM struct ucontext (arch/arm/include/asm/ucontext.h): uc_flags, uc_link, uc_stack (12),
 * uc_mcontext (struct sigcontext, 21 words), uc_sigmask (128 bytes in the kernel's layout),
 * uc_regspace (the VFP block: magic, size, d0-d31, fpscr, fpexc, fpinst, fpinst2)
 */
const UC_SIGMASK = 20 + 21 * 4, UC_REGSPACE = UC_SIGMASK + 128, UC_SIZE = UC_REGSPACE + 512;
const VFP_MAGIC = 0x56465001, VFP_SIZE = 280;
/** sa_flags (arch/arm/include/uapi/asm/signal.h) */
const SA_RESTORER = 0x04000000;
/** the siginfo before the ucontext of an SA_SIGINFO frame (struct rt_sigframe) */
const RT_INFO_SIZE = 128;

/** re-execute the svc: r0 = ORIG_r0, PC back over the instruction (do_signal's restart) */
export function restartSyscall(t: UnicornThread, arg0 = t.blockedArg0): void {
  const e = t.engine;
  e.setReg(e.arch.retReg, arg0);
  const thumb = (e.reg(UC_ARM_REG_CPSR) & 0x20) !== 0;
  // a PC write's bit 0 selects the instruction set (Unicorn, as BX): keep Thumb set
  e.setReg(e.arch.pcReg, ((e.reg(e.arch.pcReg) & ~1) - (thumb ? 2 : 4) + (thumb ? 1 : 0)) >>> 0);
}

/**
 * What a synchronous fault adds to the frame (arch/arm/mm/fault.c __do_user_fault, traps.c
 * do_undefinstr: current->thread.trap_no / error_code / address, and the siginfo's si_code and
 * si_addr from force_sig_fault)
 */
export interface FaultInfo {
  code: number;
  addr: number;
  /** 14 for an abort __do_user_fault handles, 0 for one do_DataAbort reports (arm_notify_die), 6 for an undefined instruction */
  trapNo: number;
  /** the FSR of an abort */
  errorCode: number;
  /**
   * the frame's fault_address: current->thread.address, which only __do_user_fault sets (a
   * SIGSEGV's address); arm_notify_die (do_DataAbort's SIGBUS, do_undefinstr's SIGILL) leaves
   * the thread's previous value. Absent: `addr`
   */
  faultAddress?: number;
}

/** the stack a frame goes on (get_sigframe / sigsp) and the uc_stack it records (__save_altstack) */
export interface FrameStack {
  /** the frame goes below this address: the thread's SP, or the top of its alternate stack */
  top: number;
  /** uc_stack: ss_sp, ss_flags (sas_ss_flags of the interrupted SP), ss_size */
  ssSp: number;
  ssFlags: number;
  ssSize: number;
}

/**
 * setup_frame / setup_rt_frame: the frame for signal `sig` below `t`'s SP (or the top of its
 * alternate stack: `stack`, which also gives the uc_stack recorded; 8-byte aligned),
 * with SA_SIGINFO (`rt`) a siginfo (a fault's si_code and si_addr, a sender's si_errno, si_code,
 * si_pid, si_uid and si_value: `sent`, sigqueue.ts SendInfo, else si_code 0 and no more) then the
 * ucontext, else the ucontext alone; the sigcontext holds `r0` (the value r0 has now: the
 * syscall result), r1-r12, SP, LR, PC, CPSR and `oldMask`'s first word (uc_sigmask both; and a fault's trap_no, error_code
 * and fault_address), the VFP block D0-D31 and FPSCR. Returns the frame's address, or null when
 * it could not be written (the caller forces SIGSEGV, signal.c force_sigsegv).
 */
export function setupSigframe(t: UnicornThread, mm: AddressSpace, sig: number, rt: boolean, r0: number, oldMask: bigint, fault?: FaultInfo, stack?: FrameStack, sent?: SendInfo): number | null {
  const e = t.engine;
  const ucOff = rt ? RT_INFO_SIZE : 0;
  const size = ucOff + UC_SIZE + (rt ? 0 : 16);
  const sp = e.reg(e.arch.spReg);
  const frame = (((stack?.top ?? sp) - size) & ~7) >>> 0;
  const b = new Uint8Array(size);
  const dv = new DataView(b.buffer);
  if (rt) {
    dv.setInt32(0, sig, true);
    dv.setInt32(8, fault?.code ?? 0, true); // SI_USER, or the fault's code
    if (fault) dv.setUint32(12, fault.addr >>> 0, true); // si_addr
    else if (sent) {
      dv.setInt32(4, sent.errno ?? 0, true); // si_errno
      dv.setInt32(8, sent.code, true);
      dv.setInt32(12, sent.pid, true); // si_pid
      dv.setUint32(16, sent.uid >>> 0, true); // si_uid
      dv.setUint32(20, (sent.value ?? 0) >>> 0, true); // si_value (sigqueue's)
    }
  }
  const u = ucOff;
  dv.setUint32(u + 8, stack?.ssSp ?? 0, true); // uc_stack.ss_sp
  dv.setInt32(u + 12, stack?.ssFlags ?? 2, true); // ss_flags (SS_DISABLE without an alternate stack)
  dv.setUint32(u + 16, stack?.ssSize ?? 0, true); // ss_size
  const mc = u + 20;
  if (fault) {
    dv.setUint32(mc, fault.trapNo, true); // trap_no
    dv.setUint32(mc + 4, fault.errorCode >>> 0, true); // error_code
    dv.setUint32(mc + 80, (fault.faultAddress ?? fault.addr) >>> 0, true); // fault_address
  }
  dv.setUint32(mc + 8, Number(oldMask & 0xffffffffn), true); // oldmask: the first word
  dv.setUint32(mc + 12, r0 >>> 0, true);
  for (let i = 1; i < 13; i++) dv.setUint32(mc + 12 + 4 * i, e.reg(UC_ARM_REG_R0 + i), true);
  const cpsr = e.reg(UC_ARM_REG_CPSR);
  dv.setUint32(mc + 64, sp, true);
  dv.setUint32(mc + 68, e.reg(UC_ARM_REG_LR), true);
  dv.setUint32(mc + 72, e.reg(e.arch.pcReg) & ~1, true);
  dv.setUint32(mc + 76, cpsr, true);
  dv.setBigUint64(u + UC_SIGMASK, oldMask, true); // uc_sigmask: both words
  const vfp = u + UC_REGSPACE;
  dv.setUint32(vfp, VFP_MAGIC, true);
  dv.setUint32(vfp + 4, VFP_SIZE, true);
  const d2 = new Uint32Array(2);
  for (let i = 0; i < 32; i++) {
    e.api.uc_reg_read(e.uc, UC_ARM_REG_D0 + i, d2);
    dv.setUint32(vfp + 8 + 8 * i, d2[0]!, true);
    dv.setUint32(vfp + 12 + 8 * i, d2[1]!, true);
  }
  dv.setUint32(vfp + 8 + 256, e.reg(UC_ARM_REG_FPSCR), true);
  dv.setUint32(vfp + 8 + 260, 0x40000000, true); // FPEXC.EN
  return mm.copyToUser(frame, b, 0, b.length) === 0 ? frame : null;
}

/**
 * setup_return: the handler runs with SP = the frame, LR = sa_restorer (glibc always sets
 * SA_RESTORER; without one LR is 0, a choice: no sigpage trampoline), r1 = &info and
 * r2 = &uc for SA_SIGINFO (`rt`), PC = the handler (bit 0: Thumb). r0 (the signal number) is
 * the caller's to set.
 */
export function enterHandler(t: UnicornThread, frame: number, rt: boolean, act: SigAction): void {
  const e = t.engine;
  e.setReg(e.arch.spReg, frame);
  e.setReg(UC_ARM_REG_LR, (act.flags & SA_RESTORER) !== 0 ? act.restorer : 0);
  if (rt) {
    e.setReg(UC_ARM_REG_R0 + 1, frame);
    e.setReg(UC_ARM_REG_R0 + 2, frame + RT_INFO_SIZE);
  }
  e.setReg(e.arch.pcReg, act.handler);
}

/** the ucontext of the frame at `t`'s SP (after the siginfo for rt_sigreturn), or null when it cannot be read */
export function readUcontext(t: UnicornThread, mm: AddressSpace, rt: boolean): DataView | null {
  const e = t.engine;
  const sp = e.reg(e.arch.spReg);
  const u = sp + (rt ? RT_INFO_SIZE : 0);
  const b = new Uint8Array(UC_SIZE);
  if (mm.copyFromUser(b, 0, u, b.length) !== 0) return null;
  return new DataView(b.buffer);
}

/** the uc_stack saved in a ucontext: ss_sp, ss_flags, ss_size */
export function ucontextStack(uc: DataView): { sp: number; flags: number; size: number } {
  return { sp: uc.getUint32(8, true), flags: uc.getUint32(12, true), size: uc.getUint32(16, true) };
}

/** the blocked mask saved in a ucontext (uc_sigmask, signals 1-64) */
export function ucontextMask(uc: DataView): bigint {
  return uc.getBigUint64(UC_SIGMASK, true);
}

/**
 * restore_sigframe: r1-r12, SP, LR, the CPSR's user flags, the VFP registers (when the block's
 * magic is there) and the PC from a ucontext; returns the saved r0 (sigreturn's result, so
 * r0 too comes back).
 */
export function restoreUcontext(t: UnicornThread, uc: DataView): number {
  const e = t.engine;
  const mc = 20;
  const cpsr = uc.getUint32(mc + 76, true);
  // user mode flags only (signal.c valid_user_regs): the mode bits stay those of the thread
  e.setReg(UC_ARM_REG_CPSR, (e.reg(UC_ARM_REG_CPSR) & 0x1f) | (cpsr & ~0x1f & ~0x1c0));
  for (let i = 1; i < 13; i++) e.setReg(UC_ARM_REG_R0 + i, uc.getUint32(mc + 12 + 4 * i, true));
  e.setReg(e.arch.spReg, uc.getUint32(mc + 64, true));
  e.setReg(UC_ARM_REG_LR, uc.getUint32(mc + 68, true));
  if (uc.getUint32(UC_REGSPACE, true) === VFP_MAGIC) {
    const d2 = new Uint32Array(2);
    for (let i = 0; i < 32; i++) {
      d2[0] = uc.getUint32(UC_REGSPACE + 8 + 8 * i, true);
      d2[1] = uc.getUint32(UC_REGSPACE + 12 + 8 * i, true);
      e.api.uc_reg_write(e.uc, UC_ARM_REG_D0 + i, d2);
    }
    e.setReg(UC_ARM_REG_FPSCR, uc.getUint32(UC_REGSPACE + 8 + 256, true));
  }
  e.setReg(e.arch.pcReg, (uc.getUint32(mc + 72, true) & ~1) | ((cpsr & 0x20) !== 0 ? 1 : 0));
  return uc.getUint32(mc + 12, true);
}
