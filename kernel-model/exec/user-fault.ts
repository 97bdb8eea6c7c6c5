/**
 * A CPU fault of a process on the Unicorn backend as the signal Linux's ARM fault handlers force
 * (arch/arm/mm/fault.c __do_user_fault, do_DataAbort; arch/arm/kernel/traps.c do_undefinstr),
 * with the siginfo and thread fields a handler sees (SignalState.forceFault). LinuxAbi.onFault
 * calls it; false means the default action (the thread dies).
 */
import { SIGNAL_NUMBERS, type GuestFault, type UnicornThread } from '../../emulator/cpu/unicorn/thread.js';
import type { KernelLog } from '../base/klog.js';
import type { AddressSpace } from '../process/mm.js';
import { dataAbortReport, externalAbortInfo } from './fsr.js';
import { SIGBUS, SIGSEGV, type SignalState } from './signal.js';

/** si_code values of a fault (include/uapi/asm-generic/siginfo.h) */
const SEGV_MAPERR = 1, SEGV_ACCERR = 2, ILL_ILLOPC = 1, BUS_ADRERR = 2;

export function userFault(s: SignalState, mm: AddressSpace, t: UnicornThread, f: GuestFault, era: '3.14' | '6.12', log: KernelLog | null): boolean {
  if (f.signal === 'SIGSEGV' && f.address !== null) {
    const code = mm.find(f.address >>> 0) === null ? SEGV_MAPERR : SEGV_ACCERR;
    // __do_user_fault: tsk->thread.address, error_code, trap_no, then force_sig_fault
    s.faultAddress.set(t, f.address >>> 0);
    return s.forceFault(t, SIGSEGV, { code, addr: f.address, trapNo: 14, errorCode: f.fsr ?? 0 });
  }
  if (f.signal === 'SIGBUS' && f.address !== null && f.pageFault === true) {
    // do_page_fault's VM_FAULT_SIGBUS (a page of a mapped file past its end, or 3.14's stack
    // guard page above a mapping: stack-grow.ts): __do_user_fault(addr, fsr, SIGBUS,
    // BUS_ADRERR): as a SIGSEGV's, trap_no 14
    s.faultAddress.set(t, f.address >>> 0);
    return s.forceFault(t, SIGBUS, { code: BUS_ADRERR, addr: f.address, trapNo: 14, errorCode: f.fsr ?? 0 });
  }
  if (f.signal === 'SIGBUS' && f.address !== null && f.fsr !== undefined) {
    // a device access's external abort (UnicornThread.onBusError: the FSR says synchronous
    // or not): do_DataAbort finds do_bad in fsr_info, prints "Unhandled fault" whether or
    // not a handler waits, and arm_notify_die sets error_code = the FSR and trap_no = 0
    // (thread.address kept) and forces inf->sig with inf->code and si_addr = the DFAR
    const inf = externalAbortInfo(f.fsr);
    if (inf === null) return false;
    for (const line of dataAbortReport(era, inf, f.fsr, f.address)) log?.log('alert', '', line);
    return s.forceFault(t, inf.sig, { code: inf.code, addr: f.address, trapNo: 0, errorCode: f.fsr, faultAddress: s.faultAddress.get(t) ?? 0 });
  }
  // do_undefinstr: arm_notify_die(..., SIGILL, ILL_ILLOPC, pc, 0, 6): thread.address kept
  if (f.signal === 'SIGILL') return s.forceFault(t, SIGNAL_NUMBERS.SIGILL, { code: ILL_ILLOPC, addr: f.pc, trapNo: 6, errorCode: 0, faultAddress: s.faultAddress.get(t) ?? 0 });
  return false;
}
