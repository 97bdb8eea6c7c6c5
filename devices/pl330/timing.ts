/**
 * PL330 timing model: costs in cycles of the DMAC clock (`clock-frequency`, default 100 MHz =
 * 10 ns per cycle), charged on the executing thread's own timeline: the next instruction of a
 * thread is scheduled that many cycles (times the clock period) after the current one, plus
 * whatever the master port's translation stage reports (`MasterPort.takeCost()`).
 *
 * The DMA-330 TRM (ARM DDI 0424) gives no cycle table; these are the model's simplified costs
 * (docs/PL330.md, "Timing model", lists them with the deviations they imply). Both the
 * reference executor and the accelerators (accel/) charge exactly these, so a program takes
 * the same virtual time with accelerators on or off.
 */
export const TIMING = {
  /** every instruction: decode/execute */
  insnCycles: 1,
  /** an instruction-cache line fill: address phase + latency, plus one cycle per bus beat */
  icacheMissBaseCycles: 2,
  /** DMALD/DMAST/DMASTZ: AXI address phase + response latency, plus one cycle per beat */
  axiLatencyCycles: 2,
  /** DBGCMD: the debug interface is busy this many cycles before the instruction runs */
  debugCycles: 1,
  /** a stalled DMALD (MFIFO full with another channel's data) retries after this many cycles */
  stallRetryCycles: 16,
  /** watchdog: a thread stalled this long without progress is locked up */
  watchdogCycles: 1024,
} as const;

/** Cycles of one instruction-cache line fill of `lineBytes` on a bus of `busBytes`. */
export function icacheFillCycles(lineBytes: number, busBytes: number): number {
  return TIMING.icacheMissBaseCycles + Math.ceil(lineBytes / busBytes);
}

/** Cycles of the bus part of a DMALD/DMAST of `beats` beats (one beat per cycle). */
export function burstCycles(beats: number): number {
  return TIMING.axiLatencyCycles + beats;
}
