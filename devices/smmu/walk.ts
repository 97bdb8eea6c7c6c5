/**
 * The reference stage-1 table walker: VMSAv7 long-descriptor (LPAE) format, 4 KiB granule,
 * 32-bit input address (an AArch32 LPAE context bank, ARM IHI 0062 "Translation table
 * walks" and the ARMv7-A ARM (DDI 0406C) B3.6 "Long-descriptor translation table format").
 *
 * A pure function of the tables: it reads descriptors through a `DescriptorReader` (the
 * SMMU passes one that reads the physical bus; accelerators may pass another reader but
 * never change the walk) and writes its result into a `WalkResult`. No statistics, no TLB,
 * no costs, no accelerator state: the caller (Smmu.translateContext) does those.
 */
import { BUS_OK } from '../../emulator/bus.js';
import * as R from './regs.js';
import { TWO32 } from './types.js';

/**
 * The TTBR a stage-1 input address selects (DDI 0406C B3.6.4, the T0SZ/T1SZ rules): 0 TTBR0,
 * 1 TTBR1, -1 neither (a translation fault at level 1).
 */
export function s1Select(ttbcr: number, va: number): number {
  const t0sz = ttbcr & R.TTBCR_T0SZ_MASK;
  const t1sz = (ttbcr >>> R.TTBCR_T1SZ_SHIFT) & 7;
  if (t0sz === 0 && t1sz === 0) return 0;
  if (t1sz === 0) return va >= 2 ** (32 - t0sz) ? 1 : 0;
  if (t0sz === 0) return va >= TWO32 - 2 ** (32 - t1sz) ? 1 : 0;
  if (va < 2 ** (32 - t0sz)) return 0;
  if (va >= TWO32 - 2 ** (32 - t1sz)) return 1;
  return -1;
}

/** Reads the 64-bit descriptor at physical address `pa` for walk level `level`. */
export interface DescriptorReader {
  /** out[0] = bits [31:0], out[1] = bits [63:32]; returns BUS_OK or a negative bus status */
  read64(pa: number, level: number, out: Uint32Array): number;
}

// permission bits of a walk result / TLB entry; index = (unpriv ? 3 : 0) + (write ? 1 : instr ? 2 : 0)
export const P_PR = 1;
export const P_PW = 2;
export const P_PX = 4;
export const P_UR = 8;
export const P_UW = 16;
export const P_UX = 32;

/** hierarchical restrictions from table descriptors (bit set of a walk path) */
export const RESTR_NO_UNPRIV = 1; // APTable[0]
export const RESTR_NO_WRITE = 2; // APTable[1]
export const RESTR_XN = 4; // XNTable
export const RESTR_PXN = 8; // PXNTable

/** The permission bit an access needs (P_*), from its attributes' privilege/write/instr flags. */
export function permBitFor(priv: boolean, write: boolean, instr: boolean): number {
  return 1 << ((priv ? 0 : 3) + (write ? 1 : instr ? 2 : 0));
}

export class WalkResult {
  // ---- the leaf (valid when the walk returns 0) ----
  /** input address of the first byte of the page/block */
  va = 0;
  size = 0;
  /** output address of the page/block */
  pa = 0;
  /** P_* bits */
  perms = 0;
  /** nG = 0 */
  global = false;
  attrIndx = 0;
  sh = 0;
  ns = 0;
  // ---- the walk ----
  /** level of the leaf, or of the descriptor that faulted */
  level = 0;
  /** descriptors read (a read that aborted included) */
  fetches = 0;
  /** the fault is an external abort on a descriptor read */
  ptw = false;
  // ---- the table path (what a walk cache would keep) ----
  /** address of the level-3 table the walk reached through table descriptors, -1 none */
  table3 = -1;
  /** RESTR_* accumulated down to that table */
  restr3 = 0;
  /** descriptors read before the level-3 one */
  fetches3 = 0;
  /** address of the level-1 table descriptor read (-1: the walk started at level 2) */
  a1 = -1;
  /** address of the level-2 table descriptor read (-1 none) */
  a2 = -1;
  /** raw words of those descriptors: [l1 lo, l1 hi, l2 lo, l2 hi] */
  readonly v = new Uint32Array(4);
}

/**
 * The address size check (the mask walkStage1/walkStage2 take as `oaHi`): the bits of a
 * descriptor's high word ([39:32] of its output address) above an `oas`-bit output size
 * (sIDR2.OAS, the `arm,oas` property: 32, 36 or 40). A table or block/page descriptor whose
 * output address has such a bit set cannot be used: DDI 0406C B3.6 (VMSAv7 LPAE) defines
 * 40-bit output addresses only; ARMv8 (DDI 0487, "Address size fault") faults such a
 * descriptor at its level, and SMMUv2 (IHI 0062 C/D) added CBn_FSR.ASF to report it. The
 * SMMUv1 CBn_FSR has no address size bit (TF, AFF, PF, EF, TLBMCF, TLBLKF, SS, MULTI) and the
 * IHI 0062 text on it was not available here: choice, the walk stops with a translation
 * fault (FSR.TF) at the descriptor's level, FAR = the input address (docs/SMMU.md).
 */
export function oaHiMask(oas: number): number {
  return oas >= 40 ? 0 : (0xff << (oas - 32)) & 0xff;
}

export function bswap32(x: number): number {
  return (((x & 0xff) << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | (x >>> 24)) >>> 0;
}

/**
 * One descriptor fetch of a walk (stage 1 or 2): reads the 64-bit descriptor at `da` into
 * d[0] (low word) and d[1] (high word), byte-swapped when SCTLR.E asks for big-endian tables,
 * and counts it in `out`. False: the read got an error (an external abort on the walk,
 * out.ptw set; the caller answers FSR_EF).
 */
export function fetchDescriptor(rd: DescriptorReader, da: number, level: number, be: boolean, d: Uint32Array, out: WalkResult): boolean {
  const st = rd.read64(da, level, d);
  out.fetches++;
  out.level = level;
  if (st !== BUS_OK) {
    // a descriptor read that decodes nothing or gets an error: external abort on the walk
    out.ptw = true;
    return false;
  }
  if (be) {
    // SCTLR.E: big-endian translation tables
    const t = d[0]!;
    d[0] = bswap32(d[1]!);
    d[1] = bswap32(t);
  }
  return true;
}

/**
 * Walk the tables of one TTBR for `va` (0 <= va < 2^32, inside the TTBR's region: the
 * caller selects the TTBR and checks EPDn). `txsz` is T0SZ or T1SZ. Returns 0 (out holds
 * the leaf) or the FSR bit of the fault (FSR_TF, FSR_AFF, FSR_EF; out.level is its level).
 * Permissions are not checked here: out.perms says what the leaf allows.
 * `oaHi`: the bits of a descriptor's output address [39:32] (descriptor bits [39:32]) above
 * the implemented output size (oaHiMask; 0 with a 40-bit OAS): a table or leaf descriptor
 * with one of them set is an address size fault, reported as a translation fault
 * (FSR_TF) at that level (see oaHiMask); so is a TTBR with one of them set (at the start
 * level, nothing read). A nested context's stage 1 outputs IPAs: its mask is sIDR2.IAS's.
 */
export function walkStage1(
  rd: DescriptorReader, ttbrLo: number, ttbrHi: number, txsz: number, sctlr: number, va: number,
  out: WalkResult, d: Uint32Array, oaHi: number,
): number {
  out.fetches = 0;
  out.ptw = false;
  out.table3 = -1;
  out.a1 = -1;
  out.a2 = -1;
  const n = 32 - txsz; // input region size in bits
  // IHI 0062 / DDI 0406C B3.6.6: an input region of more than 2^30 bytes starts at level 1
  // (2 or 4 entries, table aligned to 2^(5-TxSZ)), otherwise at level 2 (aligned to 2^(14-TxSZ))
  let level = n > 30 ? 1 : 2;
  // address size check of the table base: TTBRn [39:32] above the output size (sIDR2.OAS; for
  // the stage 1 of a nested context the IPA size, sIDR2.IAS: the caller passes that mask) is a
  // translation fault at the start level without a fetch (choice, as for descriptors: oaHiMask)
  if ((ttbrHi & oaHi) !== 0) {
    out.level = level;
    return R.FSR_TF;
  }
  const x = level === 1 ? 5 - txsz : 14 - txsz;
  let table = ((ttbrLo & ~((1 << x) - 1)) >>> 0) + (ttbrHi & 0xff) * TWO32;
  let restr = 0;
  const be = (sctlr & R.SCTLR_E) !== 0;
  for (;;) {
    const shift = level === 1 ? 30 : level === 2 ? 21 : 12;
    const idxBits = level === 1 ? n - 30 : level === 2 && n <= 30 ? n - 21 : 9;
    const idx = (va >>> shift) & ((1 << idxBits) - 1); // va < 2^32 (checked by the caller)
    const da = table + idx * 8;
    if (!fetchDescriptor(rd, da, level, be, d, out)) return R.FSR_EF;
    const dlo = d[0]!;
    const dhi = d[1]!;
    if ((dlo & 1) === 0) return R.FSR_TF;
    if ((dhi & oaHi) !== 0) return R.FSR_TF; // output address above OAS
    if (level < 3 && (dlo & 2) !== 0) {
      // table descriptor: NSTable [63], APTable [62:61], XNTable [60], PXNTable [59]
      if ((dhi & (1 << 29)) !== 0) restr |= RESTR_NO_UNPRIV;
      if ((dhi & (1 << 30)) !== 0) restr |= RESTR_NO_WRITE;
      if ((dhi & (1 << 28)) !== 0) restr |= RESTR_XN;
      if ((dhi & (1 << 27)) !== 0) restr |= RESTR_PXN;
      const j = level === 1 ? 0 : 2;
      if (level === 1) out.a1 = da;
      else out.a2 = da;
      out.v[j] = d[0]!;
      out.v[j + 1] = d[1]!;
      table = ((dlo & 0xfffff000) >>> 0) + (dhi & 0xff) * TWO32;
      level++;
      if (level === 3) {
        out.table3 = table;
        out.restr3 = restr;
        out.fetches3 = out.fetches;
      }
      continue;
    }
    if (level === 3 && (dlo & 2) === 0) return R.FSR_TF; // 0b01 is reserved at level 3
    // block (levels 1-2) or page (level 3)
    return decodeLeaf(level, shift, va, dlo, dhi, sctlr, restr, out);
  }
}

/**
 * Decode a block/page descriptor (valid, of the right type; byte order already fixed) at
 * `level` into out's leaf fields. Returns 0, or FSR_AFF for an access-flag fault
 * (AF = 0 and SCTLR.AFFD = 0). The contiguous hint (upper attribute bit 52, which the 3.14
 * driver sets on 64 KiB runs) is not used: it only permits an implementation to cache the
 * run as one TLB entry (ARM DDI 0406C.c, Long-descriptor format attributes: "Contiguous
 * hint"), and this TLB caches each page, so the results are those of an implementation that
 * ignores it.
 */
export function decodeLeaf(level: number, shift: number, va: number, dlo: number, dhi: number, sctlr: number, restr: number, out: WalkResult): number {
  out.level = level;
  if ((dlo & (1 << 10)) === 0 && (sctlr & R.SCTLR_AFFD) === 0) return R.FSR_AFF;
  const size = 1 << shift; // shift <= 30
  const oaMask = level === 1 ? 0xc0000000 : level === 2 ? 0xffe00000 : 0xfffff000;
  out.pa = ((dlo & oaMask) >>> 0) + (dhi & 0xff) * TWO32; // 40-bit output, bits [47:40] ignored
  out.va = va - (va % size);
  out.size = size;
  out.global = (dlo & (1 << 11)) === 0;
  out.attrIndx = (dlo >>> 2) & 7;
  out.ns = (dlo >>> 5) & 1;
  out.sh = (dlo >>> 8) & 3;
  // AP[2:1] = descriptor bits [7:6]: bit 6 unprivileged access, bit 7 read-only
  const ro = (dlo & (1 << 7)) !== 0 || (restr & RESTR_NO_WRITE) !== 0;
  const unpriv = (dlo & (1 << 6)) !== 0 && (restr & RESTR_NO_UNPRIV) === 0;
  const xn = (dhi & (1 << 22)) !== 0 || (restr & RESTR_XN) !== 0;
  const pxn = (dhi & (1 << 21)) !== 0 || (restr & RESTR_PXN) !== 0;
  let p = P_PR;
  if (!ro) p |= P_PW;
  if (unpriv) {
    p |= P_UR;
    if (!ro) p |= P_UW;
  }
  // instruction fetches need read permission at that privilege; XN forbids both,
  // PXN only privileged fetches. SCTLR.WXN: writable => XN; UWXN: PL0-writable => PXN.
  let px = !xn && !pxn;
  let ux = !xn && unpriv;
  if ((sctlr & R.SCTLR_WXN) !== 0 && !ro) {
    px = false;
    ux = false;
  }
  if ((sctlr & R.SCTLR_UWXN) !== 0 && unpriv && !ro) px = false;
  if (px) p |= P_PX;
  if (ux) p |= P_UX;
  out.perms = p;
  return 0;
}
