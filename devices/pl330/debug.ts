/**
 * The PL330's debug instruction interface (DMA-330 TRM, ARM DDI 0424, 3.4 DBGCMD, DBGINST0,
 * DBGINST1, DBGSTATUS): a DBGCMD write latches the instruction held in DBGINST0/1 and, after
 * the debug latency, runs it on the manager or on the channel DBGINST0 names. Part of the
 * reference model (pl330.ts owns the state; regs.ts routes DBGCMD writes here).
 */
import * as C from './constants.js';
import { DECODE, Next } from './isa.js';
import type { Pl330 } from './pl330.js';
import type { Pl330Thread } from './thread.js';
import { TIMING } from './timing.js';

/**
 * DBGCMD write: 0b00 executes DBGINST0/1 after the debug latency; other values are
 * reserved and ignored, as is a command while the interface is busy (software polls
 * DBGSTATUS first).
 */
export function debugCommand(x: Pl330, v: number): void {
  if ((v & 3) !== 0 || x.debugBusy) return;
  x.debugBusy = true;
  const i0 = x.regs.store[x.sDbg0]!;
  const i1 = x.regs.store[x.sDbg1]!;
  x.dbgEv = x.sched.schedule(TIMING.debugCycles * x.periodNs, () => debugExec(x, i0, i1), `${x.name}:dbg`);
}

/** TRM 3.4 DBGINST0/DBGINST1: the latched instruction runs on the manager or channel [10:8] */
function debugExec(x: Pl330, i0: number, i1: number): void {
  x.version++;
  x.debugBusy = false;
  x.dbgEv = null;
  const toChannel = (i0 & 1) !== 0;
  const chn = (i0 >>> 8) & 7;
  const b = x.insn;
  b[0] = (i0 >>> 16) & 0xff;
  b[1] = (i0 >>> 24) & 0xff;
  b[2] = i1 & 0xff;
  b[3] = (i1 >>> 8) & 0xff;
  b[4] = (i1 >>> 16) & 0xff;
  b[5] = (i1 >>> 24) & 0xff;
  let t: Pl330Thread;
  if (toChannel) {
    const c = x.channels[chn];
    if (!c) return; // no such channel: nothing to address
    t = c;
  } else t = x.manager;
  const op = b[0]!;
  const d = DECODE[op];
  // allowed: manager DMAGO, DMASEV, DMAKILL; channel DMAKILL (the table's `dbg`)
  const allowed = d !== null && d !== undefined && (d.dbg === 'any' || (d.dbg === 'manager' && !toChannel));
  if (x.tracer?.enabled) x.tracer.emit(x.name, 'pl330-dbg', { thread: t.id, op, allowed });
  if (!allowed) {
    x.fault(t, t.isManager ? C.FTD_UNDEF_INSTR | C.FTD_DBG_INSTR : C.FT_UNDEF_INSTR | C.FT_DBG_INSTR);
    return;
  }
  const kill = d.name === 'DMAKILL';
  if (!kill && t.faulted) return;
  x.cycles = 0;
  const r = x.execute(t, b, true);
  if (r === Next.Stop && t.state === C.ST_FAULTING && !kill) {
    t.ftr |= t.isManager ? C.FTD_DBG_INSTR : C.FT_DBG_INSTR;
  }
}
