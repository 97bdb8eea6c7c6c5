/**
 * The reference stage-2 table walker and the stage-2 context translation (CBAR.TYPE 0, "stage 2
 * context"): VMSAv7 long-descriptor format, 4 KiB granule, up to a 40-bit IPA (ARM IHI 0062
 * "Translation context bank address space": a stage-2 context bank's CBn_TTBCR holds the
 * VTCR-format fields and CBn_TTBR0 the stage-2 table base; ARM DDI 0406C B3.6.5 "Long-descriptor
 * translation table format descriptors" (stage-2 attributes), B3.6.6 "Control of Hyp mode and
 * stage 2 translation" (VTCR.SL0 / T0SZ), B4.1.159 VTCR).
 *
 * Like walk.ts, `walkStage2` is a pure function of the tables (reads through a DescriptorReader,
 * writes a WalkResult). `translateStage2` does what Smmu.translateContext does for a stage-1
 * context: TLB lookup, walk, statistics, TLB insertion, permission check.
 *
 * Stage-2 leaves carry no nG: they are cached with tag -1 (no ASID) in their context bank, so
 * TLBIVMID (banks whose CBAR.VMID matches), TLBIALLNSNH / STLBIALL and the bank's TLBIALL remove
 * them (tlb.ts). CBn_TLBIIPAS2 is an SMMUv2 register: on an SMMUv1 both Linux eras invalidate a
 * stage-2 context by TLBIVMID and a global sync (3.14 arm_smmu_tlb_inv_context, v6.12
 * arm_smmu_tlb_inv_context_s2 / arm_smmu_tlb_add_page_s2_v1).
 */
import { ATTR_INSTR, ATTR_WRITE, type Attrs } from '../../emulator/attrs.js';
import * as R from './regs.js';
import { CBS } from './regs.js';
import type { Smmu } from './smmu.js';
import { K_CTX_FAULT, K_MISS, K_TRANSLATED, TWO32, type Resolved } from './types.js';
import { fetchDescriptor, P_PR, P_PW, P_PX, P_UR, P_UW, P_UX, type DescriptorReader, type WalkResult } from './walk.js';

// CBn_TTBCR of a stage-2 context (VTCR format, DDI 0406C B4.1.159): T0SZ [3:0] signed, S [4]
// (must equal T0SZ[3]), SL0 [7:6]; IRGN0/ORGN0/SH0 [13:8] describe the walk's memory (not modelled)
export const VTCR_T0SZ_MASK = 0xf;
export const VTCR_S = 1 << 4;
export const VTCR_SL0_SHIFT = 6;

// stage-2 descriptor fields (DDI 0406C B3.6.2 "Memory attributes in the Long-descriptor
// translation table format descriptors", the stage 2 attribute fields of block and page descriptors): MemAttr[3:0] [5:2], HAP[2:1] [7:6] (bit 6 read, bit 7 write),
// SH [9:8], AF [10]; XN [54]
export const S2_HAP_READ = 1 << 6;
export const S2_HAP_WRITE = 1 << 7;
export const S2_AF = 1 << 10;
export const S2_HI_XN = 1 << (54 - 32);

/**
 * The decoded VTCR of a stage-2 context: (input bits n) * 4 + start level, or 0 when the fields
 * are inconsistent (a number, not an object: this runs on every stage-2 lookup).
 */
export function s2Geometry(vtcr: number): number {
  const t = vtcr & VTCR_T0SZ_MASK;
  const t0sz = t >= 8 ? t - 16 : t;
  // DDI 0406C B4.1.159: S must be T0SZ[3] (otherwise UNPREDICTABLE; here: inconsistent)
  if (((vtcr & VTCR_S) !== 0) !== t >= 8) return 0;
  const sl0 = (vtcr >>> VTCR_SL0_SHIFT) & 3;
  // B3.6.6: SL0 = 0b00 starts at level 2 with T0SZ -2..7 (up to 16 concatenated tables),
  // 0b01 at level 1 with T0SZ -8..1 (up to 2 concatenated tables); 0b1x reserved
  if (sl0 === 0 && t0sz >= -2) return (32 - t0sz) * 4 + 2;
  if (sl0 === 1 && t0sz <= 1) return (32 - t0sz) * 4 + 1;
  return 0;
}

/**
 * Walk the stage-2 tables of TTBR0 for `ipa` (0 <= ipa < 2^n, checked by the caller) starting
 * at `level` (1 or 2) with an n-bit input. Returns 0 (out holds the leaf) or the FSR bit of the
 * fault (FSR_TF, FSR_AFF, FSR_EF; out.level its level). Permissions are not checked here.
 */
export function walkStage2(
  rd: DescriptorReader, ttbrLo: number, ttbrHi: number, n: number, startLevel: number, sctlr: number, ipa: number,
  out: WalkResult, d: Uint32Array, oaHi: number,
): number {
  out.fetches = 0;
  out.ptw = false;
  // no walk cache for stage 2 (accel/ records only stage-1 paths)
  out.table3 = -1;
  out.a1 = -1;
  out.a2 = -1;
  let level = startLevel;
  // address size check of the table base (TTBR0 [39:32] above sIDR2.OAS): a translation
  // fault at the start level without a fetch (choice, as for descriptors: walk.ts oaHiMask)
  if ((ttbrHi & oaHi) !== 0) {
    out.level = level;
    return R.FSR_TF;
  }
  // B3.6.6: the first table (concatenated tables included) is aligned to its size,
  // 2^(n - 27) bytes at level 1, 2^(n - 18) at level 2; never less than 8 bytes
  const x = level === 1 ? n - 27 : n - 18;
  const alignMask = x >= 12 ? 0xfff : (1 << x) - 1;
  let table = ((ttbrLo & ~alignMask) >>> 0) + (ttbrHi & 0xff) * TWO32;
  if (x > 12) table -= table % 2 ** x;
  const be = (sctlr & R.SCTLR_E) !== 0;
  for (;;) {
    const shift = level === 1 ? 30 : level === 2 ? 21 : 12;
    const idxBits = level === startLevel ? n - shift : 9;
    const idx = Math.floor(ipa / 2 ** shift) % 2 ** idxBits;
    const da = table + idx * 8;
    if (!fetchDescriptor(rd, da, level, be, d, out)) return R.FSR_EF;
    const dlo = d[0]!;
    const dhi = d[1]!;
    if ((dlo & 1) === 0) return R.FSR_TF;
    // output address above OAS: a translation fault at this level (walk.ts oaHiMask)
    if ((dhi & oaHi) !== 0) return R.FSR_TF;
    if (level < 3 && (dlo & 2) !== 0) {
      // table descriptor; at stage 2 its attribute bits [63:59] are ignored (B3.6.1)
      table = ((dlo & 0xfffff000) >>> 0) + (dhi & 0xff) * TWO32;
      level++;
      continue;
    }
    if (level === 3 && (dlo & 2) === 0) return R.FSR_TF; // reserved at level 3
    return decodeLeafS2(level, shift, ipa, dlo, dhi, sctlr, out);
  }
}

/**
 * Decode a stage-2 block/page descriptor. Returns 0 or FSR_AFF (AF = 0 and SCTLR.AFFD = 0).
 * Permissions (DDI 0406C B3.7.1 "Access permissions", stage 2: HAP[2:1]): no privilege distinction (the same
 * bits for P_P* and P_U*); HAP[1] (bit 6) allows reads, HAP[2] (bit 7) writes; an instruction
 * fetch needs XN = 0 and (choice: it is a read of the location) read permission.
 * MemAttr/SH are kept in out.attrIndx/out.sh (attrIndx = MemAttr[3:0] here; not used for
 * translation).
 */
export function decodeLeafS2(level: number, shift: number, ipa: number, dlo: number, dhi: number, sctlr: number, out: WalkResult): number {
  out.level = level;
  if ((dlo & S2_AF) === 0 && (sctlr & R.SCTLR_AFFD) === 0) return R.FSR_AFF;
  const size = 2 ** shift;
  const oaMask = level === 1 ? 0xc0000000 : level === 2 ? 0xffe00000 : 0xfffff000;
  out.pa = ((dlo & oaMask) >>> 0) + (dhi & 0xff) * TWO32;
  out.va = ipa - (ipa % size);
  out.size = size;
  out.global = true;
  out.attrIndx = (dlo >>> 2) & 0xf;
  out.ns = 1;
  out.sh = (dlo >>> 8) & 3;
  let p = 0;
  const r = (dlo & S2_HAP_READ) !== 0;
  if (r) p |= P_PR | P_UR;
  if ((dlo & S2_HAP_WRITE) !== 0) p |= P_PW | P_UW;
  if (r && (dhi & S2_HI_XN) === 0) p |= P_PX | P_UX;
  out.perms = p;
  return 0;
}

/** the permission bit a stage-2 access needs: privilege does not matter at stage 2 */
export function s2PermBit(attrs: Attrs): number {
  return (attrs & ATTR_WRITE) !== 0 ? P_PW : (attrs & ATTR_INSTR) !== 0 ? P_PX : P_PR;
}

/**
 * Translation in stage-2 context bank cb (SCTLR.M set, checked by the caller): TLB, walk,
 * permission check; the same result protocol as Smmu.translateContext (res fields, K_*).
 */
export function translateStage2(s: Smmu, cb: number, ipa: number, attrs: Attrs, useTlb: boolean, fill: boolean, walk: boolean, reader: DescriptorReader): number {
  return stage2Lookup(s, cb, ipa, s2PermBit(attrs), useTlb, fill, walk, reader, s.res, s.wr, s.d64, true);
}

/**
 * translateStage2 with explicit result blocks (r, wr, descriptor buffer d) and permission
 * bit: a nested translation (walk-nested.ts) translates its IPAs with its own blocks while the
 * stage-1 walk holds Smmu.res/wr. `primary`: this is the transaction's lookup (counts a TLB
 * hit or miss in the statistics when `fill`); a nested context's stage-2 lookups count only
 * their walks and descriptor fetches. permBit 0: no permission check (the caller checks).
 */
export function stage2Lookup(
  s: Smmu, cb: number, ipa: number, permBit: number, useTlb: boolean, fill: boolean, walk: boolean, reader: DescriptorReader,
  r: Resolved, wr: WalkResult, d: Uint32Array, primary: boolean,
): number {
  const c = s.c;
  const o = cb * s.cbSlots;
  const g = s2Geometry(c[o + CBS.TTBCR]!);
  const n = g >>> 2;
  if (g === 0 || !(ipa >= 0 && ipa < 2 ** n)) {
    // an IPA outside the input range, or an inconsistent VTCR (SL0 / T0SZ / S): a stage-2
    // translation fault at level 1 (DDI 0406C B3.6.6)
    r.level = 1;
    r.fsr = R.FSR_TF;
    return K_CTX_FAULT;
  }
  const tlb = s.tlb;
  if (useTlb) {
    const w = tlb.lookup(cb, -1, ipa);
    if (w >= 0) {
      if (fill && primary) s.stats.hits++;
      if (permBit !== 0 && (tlb.perms[w]! & permBit) === 0) {
        r.level = tlb.level[w]!;
        r.fsr = R.FSR_PF;
        return K_CTX_FAULT;
      }
      const base = tlb.va[w]!;
      r.pa = tlb.pa[w]! + (ipa - base);
      r.extent = base + tlb.size[w]! - ipa;
      r.hitSlot = w;
      return K_TRANSLATED;
    }
    if (fill && primary) s.stats.misses++;
    if (!walk) return K_MISS;
  }
  r.walked = true;
  const sctlr = c[o + CBS.SCTLR]!;
  const st = walkStage2(reader, c[o + CBS.TTBR0_LO]!, c[o + CBS.TTBR0_HI]!, n, g & 3, sctlr, ipa, wr, d, s.oaHi);
  return settleWalk(s, r, wr, st, fill, cb, -1, ipa, permBit);
}

/**
 * The end of a stage-1 (smmu.ts) or stage-2 walk of `addr` in bank cb: its cost (walkNs per
 * descriptor read) and level in r, counted in the statistics when `fill`; a walk fault (st, an
 * FSR) reported with its PTW flag; else the entry cached under `asid` (-1: global, or stage 2)
 * BEFORE the permission check, since permission faults come from cached entries as well while
 * translation, access-flag and external faults are not cached; then a permission fault when
 * the entry lacks permBit (0: no check, the caller checks), or the output and its extent.
 */
export function settleWalk(s: Smmu, r: Resolved, wr: WalkResult, st: number, fill: boolean, cb: number, asid: number, addr: number, permBit: number): number {
  r.cost += wr.fetches * s.walkNs;
  r.level = wr.level;
  r.fetches = wr.fetches;
  if (fill) {
    s.stats.walks++;
    s.stats.descriptorFetches += wr.fetches;
  }
  if (st !== 0) {
    r.ptw = wr.ptw;
    r.fsr = st;
    return K_CTX_FAULT;
  }
  r.asid = asid;
  if (fill) s.tlb.insert(cb, asid, addr, wr.va, wr.size, wr.pa, wr.perms, wr.level);
  if (permBit !== 0 && (wr.perms & permBit) === 0) {
    r.fsr = R.FSR_PF;
    return K_CTX_FAULT;
  }
  r.pa = wr.pa + (addr - wr.va);
  r.extent = wr.va + wr.size - addr;
  return K_TRANSLATED;
}
