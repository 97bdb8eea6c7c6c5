/**
 * The exact instruction of a data fault on the Unicorn backend.
 *
 * Unicorn 2.0.1 stops a translation block at a failed data access with the guest registers as
 * they were before the faulting instruction (TCG writes every guest register back before a
 * memory access, which may fault; the instructions after it do not run: measured, see
 * locate.test.ts), but its PC register still holds the block's first instruction: the PC is
 * synced for memory hooks only from Unicorn 2.1. What the fault report lacks is which
 * instruction of the block it was.
 *
 * The locator finds it by trying each instruction of the block, in order, alone in a scratch
 * engine, with the registers the thread has now: nothing is mapped there but the block's code
 * page(s) and zero pages made on demand, except the page of the fault, so the first
 * instruction whose first access to that page is the faulting address with the same direction
 * is the one. An instruction before the faulting one ran with other register values (its
 * successors changed them); it would match only if it now happened to address the faulting
 * word, which the first-match rule then gets wrong: a documented limit. Thumb IT blocks: each
 * candidate runs with the IT state it has at its place in the block (ITAdvance from the
 * block's start and every IT instruction before it), which is also the state a handler's
 * frame must hold to resume there.
 *
 * Host-side work on a fault only (a process about to get a signal); the scratch engine is made
 * once per host process.
 */
import { UnicornEngine } from './engine.js';
import {
  UC_ARM_REG_CPSR, UC_ARM_REG_LR, UC_ARM_REG_PC, UC_ARM_REG_R0, UC_ARM_REG_SP, UC_ERR_OK, UC_HOOK_MEM_PROT, UC_HOOK_MEM_UNMAPPED,
  UC_MEM_FETCH_PROT, UC_MEM_FETCH_UNMAPPED, UC_MEM_WRITE_PROT, UC_MEM_WRITE_UNMAPPED, UC_PROT_EXEC, UC_PROT_READ, type NativePtr,
} from './native.js';

const PAGE = 0x1000;
const CPSR_T = 1 << 5;
/** CPSR.IT[1:0] (bits 26:25) and IT[7:2] (bits 15:10) */
const CPSR_IT_MASK = (3 << 25) | (0x3f << 10);

/** the IT state (ITSTATE<7:0>) held in a CPSR value */
export function itOf(cpsr: number): number {
  return (((cpsr >>> 25) & 3) | (((cpsr >>> 10) & 0x3f) << 2)) & 0xff;
}

/** `cpsr` with its IT bits set to `it` */
export function withIt(cpsr: number, it: number): number {
  return ((cpsr & ~CPSR_IT_MASK) | ((it & 3) << 25) | (((it >>> 2) & 0x3f) << 10)) >>> 0;
}

/** ARMv7-A ITAdvance(): the IT state after an instruction of an IT block */
export function itAdvance(it: number): number {
  return (it & 7) === 0 ? 0 : ((it & 0xe0) | ((it << 1) & 0x1f)) & 0xff;
}

/** one instruction of a block that may access memory: its address, size and IT state */
export interface BlockInsn {
  pc: number;
  size: number;
  /** the IT state the instruction executes under */
  it: number;
}

/**
 * The instructions of a translation block (`code`: its bytes at `start`). ARM: 4 bytes each.
 * Thumb: 16- or 32-bit by the first halfword (bits 15:11 of 0b11101, 0b11110, 0b11111 begin a
 * 32-bit encoding), with the IT state each runs under: `it0` at the block's start, an IT
 * instruction (0xBFxy, y != 0) setting it for the ones after it.
 */
export function blockInsns(code: Uint8Array, start: number, thumb: boolean, it0: number): BlockInsn[] {
  const out: BlockInsn[] = [];
  if (!thumb) {
    for (let o = 0; o + 4 <= code.length; o += 4) out.push({ pc: start + o, size: 4, it: 0 });
    return out;
  }
  let it = it0;
  for (let o = 0; o + 2 <= code.length;) {
    const hw = code[o]! | (code[o + 1]! << 8);
    const size = hw >>> 11 >= 0x1d ? 4 : 2;
    // an IT instruction makes no access (and Unicorn runs the next instruction with it): no candidate
    const isIt = size === 2 && (hw & 0xff00) === 0xbf00 && (hw & 0xf) !== 0;
    if (!isIt) out.push({ pc: start + o, size, it });
    it = isIt ? hw & 0xff : itAdvance(it);
    o += size;
  }
  return out;
}

/** registers copied into the scratch engine: r0-r12, SP, LR */
const CORE_REGS: readonly number[] = [...Array.from({ length: 13 }, (_, i) => UC_ARM_REG_R0 + i), UC_ARM_REG_SP, UC_ARM_REG_LR];

interface Scratch {
  engine: UnicornEngine;
  /** the candidate's first access to the fault's page (or a refused store) */
  hit: { addr: number; write: boolean; size: number } | null;
  faultPage: number;
  /** zero pages mapped for the candidate's other accesses */
  mapped: number[];
}

// host-only: one scratch engine per host process, made at the first fault located (no guest state)
let scratch: Scratch | null = null;

function scratchEngine(): Scratch {
  if (scratch !== null) return scratch;
  const engine = new UnicornEngine();
  const s: Scratch = { engine, hit: null, faultPage: -1, mapped: [] };
  const cb = engine.callback(((_uc: NativePtr, type: number, address: number | bigint, size: number): boolean => {
    const addr = Number(BigInt.asUintN(32, BigInt(address)));
    const page = addr - (addr % PAGE);
    if (type === UC_MEM_FETCH_UNMAPPED || type === UC_MEM_FETCH_PROT) return false;
    if (page === s.faultPage || type === UC_MEM_WRITE_PROT || s.hit !== null) {
      s.hit ??= { addr, write: type === UC_MEM_WRITE_UNMAPPED || type === UC_MEM_WRITE_PROT, size };
      return false;
    }
    // any other data access: a zero page, so that the instruction goes on to its next access
    if (engine.api.uc_mem_map(engine.uc, page, PAGE, 7) !== UC_ERR_OK) return false;
    s.mapped.push(page);
    return true;
  }) as never, 'eventmem');
  engine.hook(UC_HOOK_MEM_UNMAPPED | UC_HOOK_MEM_PROT, cb);
  scratch = s;
  return s;
}

export interface FaultSite {
  /** the faulting instruction */
  pc: number;
  /** the IT state it executes under (Thumb; 0 otherwise) */
  it: number;
}

/**
 * Which instruction of the block at `blockStart` (`blockSize` bytes, read from `main`) made the
 * data access that faulted at `addr` (`write`: a store; `size`: its size in bytes when known, as
 * for a device access, so that an earlier access of another size to the same address does not
 * match), given the registers `main` holds now; null when no instruction's access matches (the
 * caller keeps the block's start).
 */
export function locateDataFault(main: UnicornEngine, blockStart: number, blockSize: number, addr: number, write: boolean, size?: number): FaultSite | null {
  if (blockSize <= 0 || blockSize > 4 * PAGE) return null;
  const code = new Uint8Array(blockSize);
  if (!main.read(blockStart, code)) return null;
  const cpsr = main.reg(UC_ARM_REG_CPSR);
  const thumb = (cpsr & CPSR_T) !== 0;
  const insns = blockInsns(code, blockStart, thumb, thumb ? itOf(cpsr) : 0);
  const regs = CORE_REGS.map((r) => main.reg(r));
  const s = scratchEngine();
  const e = s.engine;
  const faultPage = addr - (addr % PAGE);
  const codeFirst = blockStart - (blockStart % PAGE);
  const codeEnd = blockStart + blockSize;
  const codePages: number[] = [];
  try {
    for (let p = codeFirst; p < codeEnd; p += PAGE) {
      // the fault's own page keeps out (a store to the code's page): its bytes are not needed to
      // decode a candidate that is elsewhere
      if (p === faultPage) continue;
      const bytes = new Uint8Array(PAGE);
      if (!main.read(p, bytes)) return null;
      e.check('uc_mem_map', e.api.uc_mem_map(e.uc, p, PAGE, UC_PROT_READ | UC_PROT_EXEC));
      codePages.push(p);
      e.check('uc_mem_write', e.api.uc_mem_write(e.uc, p, bytes, PAGE));
    }
    for (const ins of insns) {
      if (ins.pc - (ins.pc % PAGE) === faultPage) continue;
      // CPSR first: its mode selects the bank SP and LR are written to
      e.setReg(UC_ARM_REG_CPSR, thumb ? withIt(cpsr, ins.it) : cpsr);
      CORE_REGS.forEach((r, i) => e.setReg(r, regs[i]!));
      s.hit = null;
      s.faultPage = faultPage;
      e.api.uc_emu_start(e.uc, (ins.pc | (thumb ? 1 : 0)) >>> 0, 0xffffffff, 0, 1);
      const h = s.hit as { addr: number; write: boolean; size: number } | null;
      for (const p of s.mapped) e.api.uc_mem_unmap(e.uc, p, PAGE);
      s.mapped.length = 0;
      if (h !== null && h.addr === addr && h.write === write && (size === undefined || h.size === size)) return { pc: ins.pc, it: ins.it };
    }
    return null;
  } finally {
    for (const p of codePages) e.api.uc_mem_unmap(e.uc, p, PAGE);
    s.faultPage = -1;
    s.hit = null;
  }
}

/**
 * Complete the store at `site` as the CPU had when its device access was answered with a bus
 * error taken asynchronously (UnicornThread.pinFault): Unicorn stopped before the instruction's
 * register effects, so the instruction runs once more in the scratch engine, with `main`'s
 * registers and a zero page in place of the fault's page (the device saw the access already;
 * nothing of this run reaches it), and r0-r12, SP, LR, the PC after the instruction and the
 * CPSR (its IT state advanced) are copied back into `main`. False when that run fails.
 */
export function completeStore(main: UnicornEngine, site: FaultSite, addr: number): boolean {
  const cpsr = main.reg(UC_ARM_REG_CPSR);
  const thumb = (cpsr & CPSR_T) !== 0;
  const regs = CORE_REGS.map((r) => main.reg(r));
  const s = scratchEngine();
  const e = s.engine;
  const faultPage = addr - (addr % PAGE);
  const pages: number[] = [];
  try {
    const map = (p: number, bytes: Uint8Array | null): boolean => {
      if (pages.includes(p)) return true;
      if (e.api.uc_mem_map(e.uc, p, PAGE, 7) !== UC_ERR_OK) return false;
      pages.push(p);
      return bytes === null || e.api.uc_mem_write(e.uc, p, bytes, PAGE) === UC_ERR_OK;
    };
    // the instruction's own bytes (a 32-bit Thumb instruction may cross a page)
    for (let p = site.pc - (site.pc % PAGE); p < site.pc + 4; p += PAGE) {
      if (p === faultPage) return false;
      const bytes = new Uint8Array(PAGE);
      if (!main.read(p, bytes) || !map(p, bytes)) return false;
    }
    if (!map(faultPage, null)) return false;
    e.setReg(UC_ARM_REG_CPSR, thumb ? withIt(cpsr, site.it) : cpsr);
    CORE_REGS.forEach((r, i) => e.setReg(r, regs[i]!));
    s.hit = null;
    s.faultPage = -1;
    const err = e.api.uc_emu_start(e.uc, (site.pc | (thumb ? 1 : 0)) >>> 0, 0xffffffff, 0, 1);
    for (const p of s.mapped) e.api.uc_mem_unmap(e.uc, p, PAGE);
    s.mapped.length = 0;
    if (err !== UC_ERR_OK || s.hit !== null) return false;
    const after = CORE_REGS.map((r) => e.reg(r));
    const pc = e.reg(UC_ARM_REG_PC);
    const cpsrAfter = e.reg(UC_ARM_REG_CPSR);
    // CPSR first (its mode selects the bank SP and LR go to); a PC write's bit 0 keeps Thumb
    main.setReg(UC_ARM_REG_CPSR, cpsrAfter);
    CORE_REGS.forEach((r, i) => main.setReg(r, after[i]!));
    main.setReg(UC_ARM_REG_PC, (pc | (thumb ? 1 : 0)) >>> 0);
    return true;
  } finally {
    for (const p of pages) e.api.uc_mem_unmap(e.uc, p, PAGE);
    s.hit = null;
  }
}
