/**
 * PL330 (CoreLink DMA-330) architectural constants: register offsets, thread states,
 * fault bits, CCR fields. Values follow the DMA-330 TRM (ARM DDI 0424): 3.3 register summary,
 * 3.4 register descriptions (DSR/CSR states, FTRD/FTR fault types, CCR).
 */

// ---- register offsets ----
export const REG_DSR = 0x000;
export const REG_DPC = 0x004;
export const REG_INTEN = 0x020;
export const REG_INT_EVENT_RIS = 0x024;
export const REG_INTMIS = 0x028;
export const REG_INTCLR = 0x02c;
export const REG_FSRD = 0x030;
export const REG_FSRC = 0x034;
export const REG_FTRD = 0x038;
export const REG_FTR0 = 0x040;
export const REG_CSR0 = 0x100;
export const REG_CPC0 = 0x104;
export const REG_SAR0 = 0x400;
export const REG_DAR0 = 0x404;
export const REG_CCR0 = 0x408;
export const REG_LC0_0 = 0x40c;
export const REG_LC1_0 = 0x410;
export const REG_DBGSTATUS = 0xd00;
export const REG_DBGCMD = 0xd04;
export const REG_DBGINST0 = 0xd08;
export const REG_DBGINST1 = 0xd0c;
export const REG_CR0 = 0xe00;
export const REG_CR1 = 0xe04;
export const REG_CR2 = 0xe08;
export const REG_CR3 = 0xe0c;
export const REG_CR4 = 0xe10;
export const REG_CRD = 0xe14;
export const REG_WD = 0xe80;
export const REG_PERIPH_ID0 = 0xfe0;
export const REG_PCELL_ID0 = 0xff0;

export const csrOffset = (ch: number): number => REG_CSR0 + 8 * ch;
export const cpcOffset = (ch: number): number => REG_CPC0 + 8 * ch;
export const ftrOffset = (ch: number): number => REG_FTR0 + 4 * ch;
export const chanRegOffset = (ch: number, reg: 'SAR' | 'DAR' | 'CCR' | 'LC0' | 'LC1'): number =>
  0x400 + 0x20 * ch + { SAR: 0, DAR: 4, CCR: 8, LC0: 0xc, LC1: 0x10 }[reg];

// ---- thread states (DSR/CSR [3:0]) ----
export const ST_STOPPED = 0x0;
export const ST_EXECUTING = 0x1;
export const ST_CACHE_MISS = 0x2;
export const ST_UPDATING_PC = 0x3;
export const ST_WFE = 0x4;
export const ST_BARRIER = 0x5;
export const ST_QUEUE_BUSY = 0x6;
export const ST_WFP = 0x7;
export const ST_KILLING = 0x8;
export const ST_COMPLETING = 0x9;
export const ST_FAULT_COMPLETING = 0xe;
export const ST_FAULTING = 0xf;

// ---- channel fault type (FTRn) ----
export const FT_UNDEF_INSTR = 1 << 0;
export const FT_OPERAND_INVALID = 1 << 1;
export const FT_CH_EVNT_ERR = 1 << 5;
export const FT_CH_PERIPH_ERR = 1 << 6;
export const FT_CH_RDWR_ERR = 1 << 7;
export const FT_MFIFO_ERR = 1 << 12;
export const FT_ST_DATA_UNAVAILABLE = 1 << 13;
export const FT_INSTR_FETCH_ERR = 1 << 16;
export const FT_DATA_WRITE_ERR = 1 << 17;
export const FT_DATA_READ_ERR = 1 << 18;
export const FT_DBG_INSTR = 1 << 30;
export const FT_LOCKUP_ERR = 1 << 31;
// ---- manager fault type (FTRD) ----
export const FTD_UNDEF_INSTR = 1 << 0;
export const FTD_OPERAND_INVALID = 1 << 1;
export const FTD_DMAGO_ERR = 1 << 4;
export const FTD_MGR_EVNT_ERR = 1 << 5;
export const FTD_INSTR_FETCH_ERR = 1 << 16;
export const FTD_DBG_INSTR = 1 << 30;

// ---- CCR fields ----
export const CCR_RESET = 0x00800200;
export const ccrSrcInc = (c: number): boolean => (c & 1) !== 0;
export const ccrSrcSize = (c: number): number => (c >>> 1) & 7;
export const ccrSrcLen = (c: number): number => ((c >>> 4) & 0xf) + 1;
export const ccrSrcProt = (c: number): number => (c >>> 8) & 7;
export const ccrDstInc = (c: number): boolean => ((c >>> 14) & 1) !== 0;
export const ccrDstSize = (c: number): number => (c >>> 15) & 7;
export const ccrDstLen = (c: number): number => ((c >>> 18) & 0xf) + 1;
export const ccrDstProt = (c: number): number => (c >>> 22) & 7;
export const ccrEndianSwap = (c: number): number => (c >>> 28) & 7;

export interface CcrFields {
  srcInc?: boolean;
  /** bytes per source beat: 1, 2, 4, 8, 16 */
  srcBeatBytes?: number;
  srcBurstLen?: number;
  /** AxPROT bits [2:0]: bit0 privileged, bit1 non-secure, bit2 instruction */
  srcProt?: number;
  srcCache?: number;
  dstInc?: boolean;
  dstBeatBytes?: number;
  dstBurstLen?: number;
  dstProt?: number;
  dstCache?: number;
  /** endian swap size code (0 none, 1 16-bit, 2 32-bit, 3 64-bit, 4 128-bit) */
  endianSwap?: number;
}

const log2 = (n: number): number => 31 - Math.clz32(n);

/** Build a CCR value (defaults: incrementing 4-byte single beats, non-secure unprivileged data). */
export function makeCcr(f: CcrFields = {}): number {
  const sb = f.srcBeatBytes ?? 4;
  const db = f.dstBeatBytes ?? sb;
  const sl = f.srcBurstLen ?? 1;
  const dl = f.dstBurstLen ?? sl;
  return (
    ((f.srcInc ?? true) ? 1 : 0) |
    (log2(sb) << 1) |
    ((sl - 1) << 4) |
    ((f.srcProt ?? 2) << 8) |
    ((f.srcCache ?? 0) << 11) |
    ((f.dstInc ?? true) ? 1 << 14 : 0) |
    (log2(db) << 15) |
    ((dl - 1) << 18) |
    ((f.dstProt ?? 2) << 22) |
    ((f.dstCache ?? 0) << 25) |
    ((f.endianSwap ?? 0) << 28)
  ) >>> 0;
}
