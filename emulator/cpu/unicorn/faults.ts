import { BUS_SLAVE_ERROR } from '../../bus.js';
import type { UnicornEngine } from './engine.js';
import { completeStore, locateDataFault, withIt } from './locate.js';
import {
  UC_ARM_REG_CPSR, UC_ERR_FETCH_PROT, UC_ERR_FETCH_UNMAPPED, UC_ERR_INSN_INVALID, UC_ERR_READ_PROT,
  UC_ERR_READ_UNALIGNED, UC_ERR_READ_UNMAPPED, UC_ERR_WRITE_PROT, UC_ERR_WRITE_UNMAPPED,
} from './native.js';

/*
 * A guest thread's faults on Unicorn (UnicornThread): the fault record, the faults a Unicorn
 * error code or a device's bus error stand for, and how a fault is pinned to its instruction
 * for a signal handler.
 */

export type GuestSignal = 'SIGSEGV' | 'SIGILL' | 'SIGBUS' | 'SIGTRAP';
export const SIGNAL_NUMBERS: Record<GuestSignal, number> = { SIGILL: 4, SIGTRAP: 5, SIGBUS: 7, SIGSEGV: 11 };

export interface GuestFault {
  signal: GuestSignal;
  /** faulting data/instruction address, or null (undefined instruction) */
  address: number | null;
  /**
   * the PC at the fault: the faulting instruction when `precise`; otherwise, for a data access,
   * the first instruction of the translation block the access was made in (the PC Unicorn 2.0
   * last synced; docs/UNICORN.md "Other exceptions")
   */
  pc: number;
  access: 'read' | 'write' | 'fetch' | 'exec';
  reason: string;
  /** `pc` is the faulting instruction (a data fault located in its block: locate.ts; a fetch; an undefined instruction) */
  precise?: boolean;
  /** the fault status the CPU reports (short-descriptor DFSR/IFSR: FS bits and, for data, WnR 0x800); 0 for an undefined instruction */
  fsr?: number;
  /**
   * an asynchronous external abort (a device store's bus error, onBusError): taken after the
   * store completed, so once pinned (`precise`) the registers are those after it and the PC
   * register is on the next instruction; `pc` still names the store
   */
  asynchronous?: boolean;
  /** the access size in bytes, when known (a device access) */
  size?: number;
  /** a SIGBUS of the page-fault path (VM_FAULT_SIGBUS), not a device's external abort */
  pageFault?: boolean;
  /** the mirror could not map a page the process has (REGION_LIMIT): a host limit, not a guest fault */
  hostLimit?: boolean;
}

/**
 * A device access through a user mapping answered with a bus error (`status`: BUS_SLAVE_ERROR
 * for AXI SLVERR, e.g. the PL330's answer to a non-32-bit access; BUS_DECODE_ERROR for
 * DECERR): an external abort. Whether an external abort is synchronous is IMPLEMENTATION
 * DEFINED (ARMv7-A ARM, ARM DDI 0406C, B3.12 "External aborts"); the board's Cortex-A15 takes
 * one on a load synchronously, at the load, and one on a store to Device memory
 * asynchronously, after the store has completed from the core's view (the write response
 * comes back later): the Cortex-A7/A53/A35 TRMs' "Handling of external aborts" list the same
 * split for the same L2 design family. So:
 * - load: DFSR FS 0b01000 "synchronous external abort, non-translation" (0x008; Linux's
 *   fsr-2level.c name: "external abort on non-linefetch"), DFAR the address; the PC is the
 *   load, which a handler that returns runs again;
 * - store: DFSR FS 0b10110 "asynchronous external abort" (0x406, FS[4] is bit 10; Linux:
 *   "imprecise external abort") with WnR; taken at the next instruction boundary (the
 *   earliest the architecture allows: the store's base writeback done, the PC after it), so
 *   a handler that returns goes on after the store, which is not repeated. DFAR is UNKNOWN
 *   for an asynchronous abort (the TRMs: "the DFAR is unpredictable"); the model gives the
 *   store's address.
 * Both with ExT (DFSR bit 12) set for SLVERR, clear for DECERR: the Cortex-A TRMs' DFSR
 * "External abort type" field. The short-descriptor format: the kernels of both eras run
 * without LPAE here (arch/arm/mm/fault.c includes fsr-2level.c).
 */
export function busErrorFault(e: UnicornEngine, va: number, write: boolean, status: number, size?: number): GuestFault {
  const ext = status === BUS_SLAVE_ERROR ? 0x1000 : 0;
  const fsr = write ? 0x406 | 0x800 | ext : 0x008 | ext;
  return { signal: 'SIGBUS', address: va >>> 0, pc: e.reg(e.arch.pcReg), access: write ? 'write' : 'read', reason: `bus error on device ${write ? 'write' : 'read'} (status ${status})`, fsr, asynchronous: write, size };
}

/**
 * Make `f` precise when its instruction can be known, and put the PC (and, in a Thumb IT
 * block, the IT state) on it: a fetch fault's instruction is its address, an undefined
 * instruction's PC is exact, a data fault's instruction is found in its block (locate.ts).
 * The registers are already those before the instruction (Unicorn stops at the failed
 * access). False when it cannot be (the caller ends the thread as before).
 */
export function pinFault(e: UnicornEngine, f: GuestFault, blockStart: number, blockSize: number): boolean {
  if (f.hostLimit === true) return false;
  const thumb = (e.reg(UC_ARM_REG_CPSR) & (1 << 5)) !== 0;
  if (f.access === 'fetch' && f.address !== null) {
    f.pc = f.address;
  } else if (f.access === 'exec') {
    if (f.signal !== 'SIGILL') return false;
    f.pc = e.reg(e.arch.pcReg);
    f.fsr = 0;
  } else if (f.address !== null && (f.signal === 'SIGSEGV' || f.signal === 'SIGBUS')) {
    // a device bus error (SIGBUS) stops the engine inside the device callback with the
    // registers from before the access as well (measured for loads and stores, like a
    // failed access), so its instruction is found the same way, by its access's size too
    const site = locateDataFault(e, blockStart, blockSize, f.address, f.access === 'write', f.size);
    if (site === null) return false;
    f.pc = site.pc;
    if (f.asynchronous === true) {
      // the abort is taken after the store: its register effects (base writeback) are
      // made and the PC is the next instruction (onBusError)
      if (!completeStore(e, site, f.address)) return false;
      f.precise = true;
      return true;
    }
    if (thumb) e.setReg(UC_ARM_REG_CPSR, withIt(e.reg(UC_ARM_REG_CPSR), site.it));
  } else return false;
  e.setReg(e.arch.pcReg, (f.pc | (thumb ? 1 : 0)) >>> 0);
  f.precise = true;
  return true;
}

/** the fault a Unicorn error code that stopped the engine stands for (no hook described it) */
export function faultFromError(e: UnicornEngine, err: number): GuestFault {
  const pc = e.reg(e.arch.pcReg);
  switch (err) {
    case UC_ERR_READ_UNMAPPED: case UC_ERR_READ_PROT: case UC_ERR_READ_UNALIGNED:
      return { signal: 'SIGSEGV', address: null, pc, access: 'read', reason: e.api.uc_strerror(err) };
    case UC_ERR_WRITE_UNMAPPED: case UC_ERR_WRITE_PROT:
      return { signal: 'SIGSEGV', address: null, pc, access: 'write', reason: e.api.uc_strerror(err) };
    case UC_ERR_FETCH_UNMAPPED: case UC_ERR_FETCH_PROT:
      return { signal: 'SIGSEGV', address: pc, pc, access: 'fetch', reason: e.api.uc_strerror(err) };
    case UC_ERR_INSN_INVALID:
      return { signal: 'SIGILL', address: null, pc, access: 'exec', reason: 'undefined instruction' };
    default:
      return { signal: 'SIGILL', address: null, pc, access: 'exec', reason: e.api.uc_strerror(err) };
  }
}
