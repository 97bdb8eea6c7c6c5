/**
 * The PL330 instruction set as ONE table (DMA-330 TRM, ARM DDI 0424, chapter 4 "Instruction
 * Set": 4.2 syntax, 4.3 one section per instruction, alphabetical).
 *
 * Each entry says, for one instruction: its encoding (`enc`/`mask` of the first byte, `not`:
 * first bytes inside the mask that are other instructions or undefined), its size in bytes,
 * its class, which threads may execute it (TRM 4.1: manager, channel or both), whether the
 * debug interface may issue it (TRM 3.4 DBGINST0: DMAGO, DMASEV, DMAKILL), its executor and
 * its disassembly. Everything that needs opcode knowledge derives from this table:
 *  - the reference executor (pl330.ts) fetches `size` bytes and runs `exec`;
 *  - the accelerators (accel/) accept loop bodies by `cls`;
 *  - the assembler (assembler.ts) encodes with `enc` (`opcode('DMALD')`), and a test checks
 *    that every encoder's output has the table's size;
 *  - the disassembler (`disassemble`, used by the `pl330-insn` trace event) uses `dis`.
 */
import type { Pl330Config } from './config.js';
import * as C from './constants.js';
import type { Pl330Thread } from './thread.js';

/** What the executor does after an instruction. */
export const Next = {
  /** pc += size, continue */
  Advance: 0,
  /** pc already updated, continue */
  Jumped: 1,
  /** waiting (event/peripheral): do not schedule */
  Block: 2,
  /** stopped/faulted */
  Stop: 3,
  /** the instruction scheduled the thread's next step itself */
  Scheduled: 4,
} as const;
export type Next = (typeof Next)[keyof typeof Next];

export type InsnClass =
  | 'control' // DMAEND, DMAKILL, DMAGO
  | 'nop' // DMANOP
  | 'barrier' // DMARMB, DMAWMB
  | 'event' // DMASEV, DMAWFE
  | 'periph' // DMAWFP, DMAFLUSHP
  | 'load' // DMALD
  | 'store' // DMAST
  | 'store-zero' // DMASTZ
  | 'load-periph' // DMALDP
  | 'store-periph' // DMASTP
  | 'loop' // DMALP, DMALPEND, DMALPFE
  | 'move'; // DMAMOV, DMAADDH, DMAADNH

/** What an executor needs from the DMAC (implemented by `Pl330`). */
export interface Pl330Core {
  readonly cfg: Pl330Config;
  readonly channels: readonly Pl330Thread[];
  /** INTEN */
  readonly inten: number;
  /** INT_EVENT_RIS */
  ris: number;
  readonly periphPending: Uint8Array;
  readonly periphLast: Uint8Array;
  fault(t: Pl330Thread, bits: number): void;
  endThread(t: Pl330Thread): void;
  kill(t: Pl330Thread): void;
  go(t: Pl330Thread, pc: number, ns: boolean): void;
  signalEvent(ev: number): void;
  invalidateIcache(): void;
  flushPeriph(p: number): void;
  ackPeriph(p: number, burst: boolean): void;
  load(t: Pl330Thread): Next;
  store(t: Pl330Thread, zero: boolean): Next;
  loopEnd(t: Pl330Thread, op: number, jump: number): Next;
}

/** a CCR size field wider than the AXI data bus (or a reserved encoding, 0b101 and up) */
const wideBeat = (x: Pl330Core, sz: number): boolean => sz > 4 || 1 << sz > x.cfg.dataWidthBits / 8;

export type Executor = (x: Pl330Core, t: Pl330Thread, b: Uint8Array, dbg: boolean) => Next;

export interface InsnDef {
  /** mnemonic without condition suffix */
  readonly name: string;
  /** first-byte encoding: b0 & mask === enc */
  readonly enc: number;
  readonly mask: number;
  /** first bytes matching enc/mask that are NOT this instruction */
  readonly not?: readonly number[];
  /** bytes, operands included */
  readonly size: 1 | 2 | 3 | 6;
  readonly cls: InsnClass;
  /** the manager thread may execute it */
  readonly mgr: boolean;
  /** a channel thread may execute it */
  readonly chan: boolean;
  /** the debug interface may issue it to: the manager only, or any thread */
  readonly dbg?: 'manager' | 'any';
  readonly exec: Executor;
  /** disassembly of one instruction (b[0..size)) */
  readonly dis: (b: ArrayLike<number>) => string;
  /** TRM section */
  readonly doc: string;
}

// ---------------------------------------------------------------- executor helpers

const undef = (x: Pl330Core, t: Pl330Thread): Next => {
  x.fault(t, t.isManager ? C.FTD_UNDEF_INSTR : C.FT_UNDEF_INSTR);
  return Next.Stop;
};
const badOperand = (x: Pl330Core, t: Pl330Thread): Next => {
  x.fault(t, t.isManager ? C.FTD_OPERAND_INVALID : C.FT_OPERAND_INVALID);
  return Next.Stop;
};
/** TRM 4.3 DMASEV/DMAWFE: a non-secure thread may not use a secure event (CR3) */
const eventSecure = (x: Pl330Core, t: Pl330Thread, ev: number): boolean => t.ns && ((x.cfg.irqNs >>> ev) & 1) === 0;
/** TRM 4.3 DMAFLUSHP/DMALDP/DMASTP/DMAWFP: a non-secure channel may not use a secure peripheral (CR4) */
const periphSecure = (x: Pl330Core, t: Pl330Thread, p: number): boolean => t.ns && ((x.cfg.periphNs >>> p) & 1) === 0;
/** peripheral operand <periph>[7:3], bits [2:0] zero, below the configured count */
const periphOperand = (x: Pl330Core, b1: number): number => ((b1 & 7) !== 0 || b1 >>> 3 >= x.cfg.periphReqs ? -1 : b1 >>> 3);

/** DMALD/DMAST/DMALPEND condition (bs, x bits [1:0]): true when the instruction runs */
export function condOk(t: Pl330Thread, op: number): boolean {
  if ((op & 1) === 0) return true;
  return ((op & 2) !== 0) === t.reqBurst;
}

// ---------------------------------------------------------------- disassembly helpers

const hex = (v: number): string => `0x${(v >>> 0).toString(16)}`;
const imm32 = (b: ArrayLike<number>, i: number): number => (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)) >>> 0;
/** condition suffix of bs,x bits: '' (always), S, B; '?' for the undefined bs=1,x=0 */
const cond = (op: number): string => ((op & 1) === 0 ? ((op & 2) === 0 ? '' : '?') : (op & 2) !== 0 ? 'B' : 'S');
const periphOf = (b: ArrayLike<number>): string => ((b[1]! & 7) === 0 ? `${b[1]! >>> 3}` : `<${hex(b[1]!)}>`);

// ---------------------------------------------------------------- the table

export const ISA: readonly InsnDef[] = [
  {
    name: 'DMAADDH', enc: 0x54, mask: 0xfd, size: 3, cls: 'move', mgr: false, chan: true, doc: 'TRM 4.3 DMAADDH',
    exec: (_x, t, b) => addImm(t, b[0]!, b[1]! | (b[2]! << 8)),
    dis: (b) => `DMAADDH ${(b[0]! & 2) !== 0 ? 'DAR' : 'SAR'}, ${hex(b[1]! | (b[2]! << 8))}`,
  },
  {
    name: 'DMAADNH', enc: 0x5c, mask: 0xfd, size: 3, cls: 'move', mgr: false, chan: true, doc: 'TRM 4.3 DMAADNH (r1p0 and later)',
    exec: (x, t, b) => (x.cfg.revision < 1 ? undef(x, t) : addImm(t, b[0]!, (0xffff0000 | b[1]! | (b[2]! << 8)) >>> 0)),
    dis: (b) => `DMAADNH ${(b[0]! & 2) !== 0 ? 'DAR' : 'SAR'}, ${hex(b[1]! | (b[2]! << 8))}`,
  },
  {
    name: 'DMAEND', enc: 0x00, mask: 0xff, size: 1, cls: 'control', mgr: true, chan: true, doc: 'TRM 4.3 DMAEND',
    exec: (x, t) => {
      // The TRM leaves a stopped thread's PC undefined. Model choice (docs/PL330.md, "DMAEND
      // and the PC"): Next.Stop skips the PC advance, so CPC/DPC keep the DMAEND's address.
      x.endThread(t);
      return Next.Stop;
    },
    dis: () => 'DMAEND',
  },
  {
    name: 'DMAFLUSHP', enc: 0x35, mask: 0xff, size: 2, cls: 'periph', mgr: true, chan: true, doc: 'TRM 4.3 DMAFLUSHP',
    exec: (x, t, b) => {
      const p = periphOperand(x, b[1]!);
      if (p < 0) return badOperand(x, t);
      if (!t.isManager && periphSecure(x, t, p)) {
        x.fault(t, C.FT_CH_PERIPH_ERR);
        return Next.Stop;
      }
      x.flushPeriph(p);
      return Next.Advance;
    },
    dis: (b) => `DMAFLUSHP ${periphOf(b)}`,
  },
  {
    name: 'DMAGO', enc: 0xa0, mask: 0xfd, size: 6, cls: 'control', mgr: true, chan: false, dbg: 'manager', doc: 'TRM 4.3 DMAGO',
    exec: (x, t, b, dbg) => {
      const ch = b[1]! & 7;
      if ((b[1]! & 0xf8) !== 0 || ch >= x.channels.length) return badOperand(x, t);
      const ns = (b[0]! & 2) !== 0;
      if (t.ns && !ns) {
        x.fault(t, C.FTD_DMAGO_ERR);
        return Next.Stop;
      }
      const target = x.channels[ch]!;
      // Choice: a DMAGO to a channel that is not stopped has no effect.
      if (target.state === C.ST_STOPPED) x.go(target, imm32(b, 2), ns);
      return dbg ? Next.Stop : Next.Advance;
    },
    dis: (b) => `DMAGO ${(b[1]! & 0xf8) === 0 ? `C${b[1]! & 7}` : `<${hex(b[1]!)}>`}, ${hex(imm32(b, 2))}${(b[0]! & 2) !== 0 ? ', ns' : ''}`,
  },
  {
    name: 'DMAKILL', enc: 0x01, mask: 0xff, size: 1, cls: 'control', mgr: true, chan: true, dbg: 'any', doc: 'TRM 4.3 DMAKILL',
    exec: (x, t) => {
      x.kill(t);
      return Next.Stop;
    },
    dis: () => 'DMAKILL',
  },
  {
    name: 'DMALD', enc: 0x04, mask: 0xfc, not: [0x06], size: 1, cls: 'load', mgr: false, chan: true, doc: 'TRM 4.3 DMALD[S|B]',
    exec: (x, t, b) => (condOk(t, b[0]!) ? x.load(t) : Next.Advance),
    dis: (b) => `DMALD${cond(b[0]!)}`,
  },
  {
    name: 'DMALDP', enc: 0x25, mask: 0xfd, size: 2, cls: 'load-periph', mgr: false, chan: true, doc: 'TRM 4.3 DMALDP<S|B>',
    exec: (x, t, b) => periphTransfer(x, t, b, true),
    dis: (b) => `DMALDP${cond(b[0]!)} ${periphOf(b)}`,
  },
  {
    name: 'DMALP', enc: 0x20, mask: 0xfd, size: 2, cls: 'loop', mgr: false, chan: true, doc: 'TRM 4.3 DMALP',
    exec: (_x, t, b) => {
      if ((b[0]! & 2) === 0) t.lc0 = b[1]!;
      else t.lc1 = b[1]!;
      return Next.Advance;
    },
    dis: (b) => `DMALP LC${(b[0]! >>> 1) & 1}, ${b[1]! + 1}`,
  },
  {
    // counted loop end (nf = 1), TRM encoding 0b001 nf 1 lc bs x
    name: 'DMALPEND', enc: 0x38, mask: 0xf8, not: [0x3a, 0x3e], size: 2, cls: 'loop', mgr: false, chan: true, doc: 'TRM 4.3 DMALPEND[S|B]',
    exec: (x, t, b) => x.loopEnd(t, b[0]!, b[1]!),
    dis: (b) => `DMALPEND${cond(b[0]!)} LC${(b[0]! >>> 2) & 1}, ${b[1]!}`,
  },
  {
    // loop forever (DMALPEND with nf = 0); the lc bit is kept but has no effect
    name: 'DMALPFE', enc: 0x28, mask: 0xf8, not: [0x29, 0x2a, 0x2b, 0x2e], size: 2, cls: 'loop', mgr: false, chan: true, doc: 'TRM 4.3 DMALPFE, DMALPEND (nf = 0)',
    exec: (x, t, b) => x.loopEnd(t, b[0]!, b[1]!),
    dis: (b) => `DMALPFE${cond(b[0]!)} LC${(b[0]! >>> 2) & 1}, ${b[1]!}`,
  },
  {
    name: 'DMAMOV', enc: 0xbc, mask: 0xff, size: 6, cls: 'move', mgr: false, chan: true, doc: 'TRM 4.3 DMAMOV',
    exec: (x, t, b) => {
      const v = imm32(b, 2);
      switch (b[1]) {
        case 0: t.sar = v; return Next.Advance;
        case 2: t.dar = v; return Next.Advance;
        case 1:
          // a non-secure channel may not program secure reads or writes (CCR [9], [23])
          if (t.ns && (((v >>> 9) & 1) === 0 || ((v >>> 23) & 1) === 0)) {
            x.fault(t, C.FT_CH_RDWR_ERR);
            return Next.Stop;
          }
          // wide-beat mode 'fault-at-dmamov' (a model choice, docs/PL330.md): a CCR whose
          // source or destination beat is wider than the data bus is refused here
          if (x.cfg.wideBeat === 'fault-at-dmamov' && (wideBeat(x, C.ccrSrcSize(v)) || wideBeat(x, C.ccrDstSize(v)))) return badOperand(x, t);
          t.ccr = v;
          return Next.Advance;
      }
      return badOperand(x, t);
    },
    dis: (b) => `DMAMOV ${['SAR', 'CCR', 'DAR'][b[1]!] ?? `<${hex(b[1]!)}>`}, ${hex(imm32(b, 2))}`,
  },
  {
    name: 'DMANOP', enc: 0x18, mask: 0xff, size: 1, cls: 'nop', mgr: true, chan: true, doc: 'TRM 4.3 DMANOP',
    exec: () => Next.Advance,
    dis: () => 'DMANOP',
  },
  {
    // transfers complete synchronously in this model: barriers only cost their cycle
    name: 'DMARMB', enc: 0x12, mask: 0xff, size: 1, cls: 'barrier', mgr: false, chan: true, doc: 'TRM 4.3 DMARMB',
    exec: () => Next.Advance,
    dis: () => 'DMARMB',
  },
  {
    name: 'DMASEV', enc: 0x34, mask: 0xff, size: 2, cls: 'event', mgr: true, chan: true, dbg: 'manager', doc: 'TRM 4.3 DMASEV',
    exec: (x, t, b, dbg) => {
      const ev = b[1]! >>> 3;
      if ((b[1]! & 7) !== 0 || ev >= x.cfg.events) return badOperand(x, t);
      if (eventSecure(x, t, ev)) {
        x.fault(t, t.isManager ? C.FTD_MGR_EVNT_ERR : C.FT_CH_EVNT_ERR);
        return Next.Stop;
      }
      x.signalEvent(ev);
      return dbg ? Next.Stop : Next.Advance;
    },
    dis: (b) => `DMASEV ${(b[1]! & 7) === 0 ? b[1]! >>> 3 : `<${hex(b[1]!)}>`}`,
  },
  {
    name: 'DMAST', enc: 0x08, mask: 0xfc, not: [0x0a], size: 1, cls: 'store', mgr: false, chan: true, doc: 'TRM 4.3 DMAST[S|B]',
    exec: (x, t, b) => (condOk(t, b[0]!) ? x.store(t, false) : Next.Advance),
    dis: (b) => `DMAST${cond(b[0]!)}`,
  },
  {
    name: 'DMASTP', enc: 0x29, mask: 0xfd, size: 2, cls: 'store-periph', mgr: false, chan: true, doc: 'TRM 4.3 DMASTP<S|B>',
    exec: (x, t, b) => periphTransfer(x, t, b, false),
    dis: (b) => `DMASTP${cond(b[0]!)} ${periphOf(b)}`,
  },
  {
    name: 'DMASTZ', enc: 0x0c, mask: 0xff, size: 1, cls: 'store-zero', mgr: false, chan: true, doc: 'TRM 4.3 DMASTZ',
    exec: (x, t) => x.store(t, true),
    dis: () => 'DMASTZ',
  },
  {
    name: 'DMAWFE', enc: 0x36, mask: 0xff, size: 2, cls: 'event', mgr: true, chan: true, doc: 'TRM 4.3 DMAWFE',
    exec: (x, t, b) => {
      const ev = b[1]! >>> 3;
      if ((b[1]! & 5) !== 0 || ev >= x.cfg.events) return badOperand(x, t);
      if (eventSecure(x, t, ev)) {
        x.fault(t, t.isManager ? C.FTD_MGR_EVNT_ERR : C.FT_CH_EVNT_ERR);
        return Next.Stop;
      }
      if ((b[1]! & 2) !== 0) x.invalidateIcache();
      // an event signalled while nobody waited (INTEN[ev] = 0) is consumed at once
      if (((x.inten >>> ev) & 1) === 0 && ((x.ris >>> ev) & 1) !== 0) {
        x.ris &= ~(1 << ev);
        return Next.Advance;
      }
      t.pc = (t.pc + 2) >>> 0; // resumes after the DMAWFE
      t.state = C.ST_WFE;
      t.wakeup = ev;
      return Next.Block;
    },
    dis: (b) => `DMAWFE ${(b[1]! & 5) === 0 ? b[1]! >>> 3 : `<${hex(b[1]!)}>`}${(b[1]! & 2) !== 0 ? ', invalid' : ''}`,
  },
  {
    name: 'DMAWFP', enc: 0x30, mask: 0xfc, not: [0x33], size: 2, cls: 'periph', mgr: false, chan: true, doc: 'TRM 4.3 DMAWFP',
    exec: (x, t, b) => {
      const op = b[0]!;
      const p = periphOperand(x, b[1]!);
      if (p < 0) return badOperand(x, t);
      if (periphSecure(x, t, p)) {
        x.fault(t, C.FT_CH_PERIPH_ERR);
        return Next.Stop;
      }
      const pend = x.periphPending[p]!;
      t.wfpPeriph = op === 0x31;
      t.wfpBurstNs = op === 0x32;
      if (pend === 0) {
        t.state = C.ST_WFP;
        t.wakeup = p;
        // re-executes the DMAWFP when the request arrives: one instruction, counted and traced
        // once (the step that re-executes it is a retry)
        t.stallRetry = true;
        return Next.Block;
      }
      t.reqBurst = op === 0x30 ? false : op === 0x32 ? true : pend === 2;
      if (x.periphLast[p]) t.reqLast = true;
      return Next.Advance;
    },
    dis: (b) => `DMAWFP ${periphOf(b)}, ${['single', 'periph', 'burst'][b[0]! & 3]}`,
  },
  {
    name: 'DMAWMB', enc: 0x13, mask: 0xff, size: 1, cls: 'barrier', mgr: false, chan: true, doc: 'TRM 4.3 DMAWMB',
    exec: () => Next.Advance,
    dis: () => 'DMAWMB',
  },
];

function addImm(t: Pl330Thread, op: number, add: number): Next {
  if ((op & 2) === 0) t.sar = (t.sar + add) >>> 0;
  else t.dar = (t.dar + add) >>> 0;
  return Next.Advance;
}

/** DMALDP/DMASTP: a load/store that runs when the request type matches, then acknowledges */
function periphTransfer(x: Pl330Core, t: Pl330Thread, b: Uint8Array, load: boolean): Next {
  const p = periphOperand(x, b[1]!);
  if (p < 0) return badOperand(x, t);
  if (periphSecure(x, t, p)) {
    x.fault(t, C.FT_CH_PERIPH_ERR);
    return Next.Stop;
  }
  if (t.reqBurst !== ((b[0]! & 2) !== 0)) return Next.Advance;
  const r = load ? x.load(t) : x.store(t, false);
  if (r === Next.Advance) x.ackPeriph(p, t.reqBurst);
  return r;
}

// ---------------------------------------------------------------- derived tables

/** decode table: first byte -> instruction (null: undefined encoding) */
export const DECODE: readonly (InsnDef | null)[] = (() => {
  const d = new Array<InsnDef | null>(256).fill(null);
  for (const e of ISA) {
    for (let b = 0; b < 256; b++) {
      if ((b & e.mask) !== e.enc || e.not?.includes(b)) continue;
      if (d[b] !== null) throw new Error(`pl330 isa: 0x${b.toString(16)} decodes to ${d[b]!.name} and ${e.name}`);
      d[b] = e;
    }
  }
  return d;
})();

/** instruction size by first byte (0 = undefined encoding) */
export const INSN_SIZE: Uint8Array = Uint8Array.from(DECODE, (e) => (e === null ? 0 : e.size));

export function pl330InsnSize(b0: number): number {
  return INSN_SIZE[b0 & 0xff]!;
}

const BY_NAME = new Map(ISA.map((e) => [e.name, e]));

/** the table entry of a mnemonic (throws for an unknown one: a programming error) */
export function insn(name: string): InsnDef {
  const e = BY_NAME.get(name);
  if (!e) throw new Error(`pl330 isa: no instruction ${name}`);
  return e;
}

/** Text of the instruction at b[0..]; an undefined first byte gives `.byte 0x..`. */
export function disassemble(b: ArrayLike<number>): string {
  const e = DECODE[b[0]! & 0xff];
  return e ? e.dis(b) : `.byte ${hex(b[0]! & 0xff)}`;
}

/** Whole program: one line per instruction, `addr: text`. */
export function disassembleProgram(bytes: ArrayLike<number>, base = 0): string[] {
  const out: string[] = [];
  for (let i = 0; i < bytes.length; ) {
    const n = Math.max(1, INSN_SIZE[bytes[i]! & 0xff]!);
    const sl = Array.prototype.slice.call(bytes, i, i + n) as number[];
    out.push(`${hex(base + i)}: ${sl.length < n ? `.byte ${sl.map(hex).join(', ')}` : disassemble(sl)}`);
    i += n;
  }
  return out;
}
