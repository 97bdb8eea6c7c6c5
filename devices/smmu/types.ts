/**
 * Public types of the SMMU model and the result block of its resolver (shared by the
 * reference modules and accel/; no behaviour here).
 */
import type { Attrs } from '../../emulator/attrs.js';
import type { IrqLine } from '../../emulator/irq.js';
import type { Tracer } from '../../emulator/trace.js';

/**
 * Translation stages the SMMU implements (sIDR0.S1TS / S2TS / NTS; IHI 0062 sIDR0). 's1' (the
 * default) is this model's historical stage-1-only SMMU; a real MMU-400 is 's1+s2+nested'
 * (DDI 0472). Nested contexts (CBAR.TYPE 3, walk-nested.ts) need 's1+s2+nested' (sIDR0.NTS).
 */
export type SmmuStages = 's1' | 's2' | 's1+s2' | 's1+s2+nested';
export const SMMU_STAGES: readonly SmmuStages[] = ['s1', 's2', 's1+s2', 's1+s2+nested'];

export interface SmmuConfig {
  /** implemented translation stages (default 's1') */
  stages?: SmmuStages;
  /**
   * sIDR1.NUMS2CB: the first context banks that support stage 2 only. 's1': 0 (forced);
   * 's2': every bank (forced); otherwise default 0.
   */
  numS2ContextBanks?: number;
  /** size of the register region (global space = first half, context banks in the second half) */
  regSize: number;
  numContextBanks: number;
  numSmrs: number;
  /** input address size in bits (sIDR2.IAS) */
  ias: number;
  /** output address size in bits (sIDR2.OAS) */
  oas: number;
  /** global fault lines (the first #global-interrupts of the node's interrupts) */
  globalIrqs: IrqLine[];
  /** context interrupt lines, indexed by CBAR.IRPTNDX */
  contextIrqs: IrqLine[];
  /**
   * Accelerators (devices/smmu/accel/: the bulk-DMA hooks quietLookup / translateHits /
   * translateCopyRun and their memos and walk cache). Off: the SMMU offers no bulk hook, so
   * masters translate access by access; every result is the same (emulator/accel.ts).
   */
  accel: boolean;
  /** TLB size in entries (4-way set associative; default 128) */
  tlbEntries?: number;
  /** cost of a TLB hit / stream-table lookup in ns (default 2: one cycle at 500 MHz) */
  hitNs?: number;
  /** cost of one descriptor fetch in ns (default 60: one DRAM access) */
  walkNsPerLevel?: number;
  /** time the sync status (SACTIVE/GSACTIVE) stays set after a sync, in ns (default 0) */
  syncNs?: number;
  /** current virtual time (for fault records and sync delay); default: always 0 */
  now?: () => number;
  /** trace sink and guest-error sink (reserved offsets, RO writes, WO reads) */
  tracer?: Tracer | null;
  name?: string;
}

export type SmmuFaultType =
  | 'translation'
  | 'access-flag'
  | 'permission'
  | 'external'
  | 'unidentified-stream'
  | 'stream-match-conflict'
  | 's2cr-fault'
  | 'unimplemented-context-bank'
  | 'invalid-context';

export interface SmmuFaultRecord {
  time: number;
  streamId: number;
  va: number;
  attrs: Attrs;
  type: SmmuFaultType;
  /** 'context' (recorded in a context bank's FSR) or 'global' (sGFSR) */
  scope: 'context' | 'global';
  /** context bank, or -1 for global faults */
  cb: number;
  /** walk level for context faults (1-3), 0 otherwise */
  level: number;
  /** true when the fault found FSR/sGFSR already holding a fault (MULTI set, syndrome lost) */
  multi: boolean;
}

export type SmmuLookup =
  | { ok: true; pa: number; extent: number; bypass: boolean; cb: number; level: number }
  | { ok: false; fault: SmmuFaultType; cb: number; level: number };

export interface SmmuTlbEntry {
  cb: number;
  /** -1 for a global (nG=0) entry */
  asid: number;
  va: number;
  size: number;
  pa: number;
  level: number;
  perms: string;
  /** a combined entry of a nested context (walk-nested.ts): stage-2 bank, IPA, stage-2 level, stage-1 permissions (perms: both stages) */
  nested?: { s2cb: number; ipa: number; level2: number; perms1: string };
}

export interface SmmuStats {
  translations: number;
  hits: number;
  misses: number;
  walks: number;
  descriptorFetches: number;
  bypasses: number;
  contextFaults: number;
  globalFaults: number;
  /** transactions stalled or terminated untranslated because their context had a fault outstanding (SCTLR.HUPCF = 0) */
  heldUnderFault: number;
}

// result kinds of the resolver (Smmu.resolve)
export const K_BYPASS = 0;
export const K_TRANSLATED = 1;
export const K_CTX_FAULT = 2;
export const K_GLOBAL_FAULT = 3;
/** TLB miss when the resolver was asked not to walk: nothing walked, nothing recorded */
export const K_MISS = 4;
/** SCTLR.HUPCF = 0 and the context has a fault outstanding: not translated, no fault recorded (fault.ts) */
export const K_HELD = 5;

/** What the last resolve found (preallocated: no allocation per lookup). */
export class Resolved {
  pa = 0;
  /** bytes from va for which the same translation holds */
  extent = 0;
  /** cost of the lookup in ns */
  cost = 0;
  /** context bank (-1: none reached) */
  cb = -1;
  /** walk level of the leaf or of the fault */
  level = 0;
  /** FSR bit of a context fault */
  fsr = 0;
  /** sGFSR bit of a global fault */
  gfsr = 0;
  /** the fault was an external abort during the table walk (FSYNR0.PTWF) */
  ptw = false;
  /** attributes after the S2CR PRIVCFG/INSTCFG overrides */
  attrs = 0;
  /** the lookup walked the tables */
  walked = false;
  /** TLB slot of a hit */
  hitSlot = 0;
  /** TLB tag of the last walk's leaf (ASID, -1 global) */
  asid = -1;
  /** descriptor fetches of the last walk */
  fetches = 0;
  /** the context bank the stream's S2CR selected (the stage-1 bank of a nested context) */
  ctx = -1;
  /** the lookup went through a nested context (CBAR.TYPE 3): a walk inserts more than one TLB entry */
  nested = false;
  /**
   * the context fault is a stage-2 fault of a nested translation (cb = the stage-2 bank):
   * FAR records `ipa`, FSYNR0.S1CBNDX `s1cb` (fault.ts recordContext)
   */
  s2nested = false;
  ipa = 0;
  s1cb = 0;
  /** the global fault arose from a nested context's CBAR.CBNDX (sGFSYNR0.Nested) */
  gnested = false;
}

export const TWO32 = 0x1_0000_0000;
