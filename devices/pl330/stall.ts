/**
 * A PL330 thread waiting for an access the translation stage holds (an SMMU context bank in
 * stall mode: emulator/master.ts BUS_STALLED, devices/smmu/fault.ts) and what it does when
 * the stage resolves the access: fault, issue the instruction again, or complete the held
 * access as RAZ/WI. Part of the reference model (pl330.ts owns the thread state; thread.ts
 * has the stall fields).
 */
import type { MasterFault, StallOutcome } from '../../emulator/master.js';
import * as C from './constants.js';
import { Next } from './isa.js';
import type { Pl330 } from './pl330.js';
import type { Pl330Thread } from './thread.js';

/**
 * The access just made is held by the translation stage (port.stalled: an SMMU context
 * bank in stall mode, devices/smmu/fault.ts). The thread issues nothing until the stage
 * resolves it: 'terminate' ends the access with a bus error, so the thread then takes
 * `bits` (data_read_err, data_write_err, instr_fetch_err; DMA-330 TRM 3.4 FTRn), at the
 * virtual time of the resolution; 'retry' issues the access again (the instruction is
 * executed again from its start, not counted twice); 'razwi' (terminated without an abort:
 * IHI 0062 CBn_RESUME.TnR with CBn_SCTLR.CFRE = 0) executes the instruction again the same
 * way with the port completing the held access as RAZ/WI (MasterPort.completeAsRazwi,
 * armed for that step): a DMALD gets zeros for it, a DMAST's bytes for it are dropped,
 * an instruction fetch reads zeros (as an un-stalled RAZ/WI fetch does), and the thread
 * takes no fault (the AXI response is OKAY). The accesses of the instruction terminated
 * as RAZ/WI so far (t.razwiDone) stay completed on every later issue of it (a burst over
 * two pages may stall on both: the first part is not issued to the SMMU again) and are
 * forgotten when it completes, faults or the thread stops. Choice: the parts of the
 * instruction's bursts that had completed before the stall are issued again, as on 'retry'
 * (the model re-executes, it does not resume mid-burst). `counted`: the instruction was
 * counted already (a data access; a fetch stalls before). The continuation is a
 * scheduler event (no host recursion from the CPU's RESUME store into this engine).
 * Called by Pl330.step (a fetch) and by transfer.ts (DMALD, DMAST).
 */
export function awaitStall(x: Pl330, t: Pl330Thread, bits: number, counted: boolean): Next {
  if (x.deferFaults) throw new Error(`${x.name}: an access stalled while executing ahead of virtual time`);
  x.sched.cancel(t.ev);
  t.ev = null;
  t.stalledOn = bits;
  const gen = t.stallGen;
  const name = t.isManager ? `${x.name}:mgr` : `${x.name}:ch${t.id}`;
  x.port.awaitStall((outcome: StallOutcome, access: MasterFault) => {
    x.version++;
    if (t.stallGen !== gen) return;
    t.stalledOn = 0;
    if (t.state === C.ST_KILLING) {
      // DMAKILL waited for the outstanding transaction (TRM 3.3, Killing state)
      x.stop(t);
      x.updateIrqs();
      return;
    }
    t.ev = x.sched.schedule(0, () => {
      x.version++;
      t.ev = null;
      if (t.state !== C.ST_EXECUTING) return;
      if (outcome === 'terminate') {
        t.replayStore = null;
        t.razwiDone.length = 0;
        x.fault(t, bits);
        return;
      }
      // 'retry': the same instruction again; 'razwi': the same, the held access completed
      // as RAZ/WI (with any other access of it terminated so far)
      if (outcome === 'razwi') t.razwiDone.push(access);
      t.stallRetry = counted;
      if (t.razwiDone.length === 0) {
        x.step(t);
        return;
      }
      x.port.completeAsRazwi(t.razwiDone);
      try {
        x.step(t);
      } finally {
        x.port.completeAsRazwi(null);
      }
      // the instruction is over unless it stalled again
      if (t.stalledOn === 0) t.razwiDone.length = 0;
    }, `${name}:resume`);
  });
  return Next.Scheduled;
}
