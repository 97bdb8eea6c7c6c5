/**
 * Test rig for the SMMU: a bus with RAM and the SMMU mapped as on the default board, the
 * SMMU programmed through MMIO writes the way the 2014 Linux driver does, and helpers to
 * hand-build LPAE tables in RAM.
 */
import { makeAttrs } from '../../../emulator/attrs.js';
import { PhysicalBus, type RamRegion } from '../../../emulator/bus.js';
import { ACCEL_DEFAULT } from '../../../emulator/accel.js';
import { IrqLine } from '../../../emulator/irq.js';
import { Smmu, type SmmuConfig } from '../smmu.js';
import * as R from '../regs.js';

export const SMMU_BASE = 0x2b400000;
export const RAM_BASE = 0x80000000;
export const RAM_SIZE = 0x0400_0000; // 64 MiB is plenty for tests
export const CPU = makeAttrs({ priv: true });

export interface Rig {
  bus: PhysicalBus;
  ram: RamRegion;
  smmu: Smmu;
  globalIrq: IrqLine;
  ctxIrqs: IrqLine[];
  time: { now: number };
  w(off: number, v: number): void;
  r(off: number): number;
  cbw(cb: number, off: number, v: number): void;
  cbr(cb: number, off: number): number;
  /** allocate a zeroed 4 KiB table page in RAM */
  page(): number;
  wr64(pa: number, d: Desc): void;
  /** the Linux driver's device reset sequence */
  driverReset(): void;
  /** attach stream `sid` to context bank `cb` with tables at `pgd` (driver's init_context_bank + SMR/S2CR) */
  attach(sid: number, cb: number, pgd: number, opts?: AttachOpts): void;
  /** TLBIASID + global sync (arm_smmu_tlb_inv_context) */
  invContext(cb: number, asid?: number): void;
}

export interface AttachOpts {
  smr?: number;
  asid?: number;
  irptndx?: number;
  stall?: boolean;
  ttbcr?: number;
  sctlrExtra?: number;
  cfie?: boolean;
}

/** a 64-bit descriptor as [low word, high word] */
export type Desc = [number, number];

export function makeRig(cfg: Partial<SmmuConfig> = {}): Rig {
  const bus = new PhysicalBus();
  const ram = bus.addRam('ram', RAM_BASE, RAM_SIZE);
  const globalIrq = new IrqLine('smmu-global');
  const ctxIrqs = [0, 1, 2, 3].map((i) => new IrqLine(`smmu-ctx${i}`));
  const time = { now: 0 };
  const smmu = new Smmu(bus, {
    regSize: 0x10000,
    numContextBanks: 4,
    numSmrs: 8,
    ias: 40,
    oas: 40,
    globalIrqs: [globalIrq],
    contextIrqs: ctxIrqs,
    now: () => time.now,
    accel: ACCEL_DEFAULT,
    ...cfg,
  });
  bus.addMmio('smmu', SMMU_BASE, 0x10000, smmu);
  let next = RAM_BASE + 0x0010_0000;
  const w = (off: number, v: number): void => {
    bus.write(SMMU_BASE + off, 4, v >>> 0, CPU);
  };
  const r = (off: number): number => bus.read(SMMU_BASE + off, 4, CPU);
  const cbw = (cb: number, off: number, v: number): void => w(0x8000 + cb * 0x1000 + off, v);
  const cbr = (cb: number, off: number): number => r(0x8000 + cb * 0x1000 + off);
  const rig: Rig = {
    bus,
    ram,
    smmu,
    globalIrq,
    ctxIrqs,
    time,
    w,
    r,
    cbw,
    cbr,
    page() {
      const p = next;
      next += 0x1000;
      ram.fill(p - RAM_BASE, 0, 0x1000);
      return p;
    },
    wr64(pa, d) {
      bus.write(pa, 4, d[0] >>> 0, CPU);
      bus.write(pa + 4, 4, d[1] >>> 0, CPU);
    },
    driverReset() {
      w(R.GR0_SGFSR, r(R.GR0_SGFSR));
      for (let i = 0; i < 8; i++) {
        w(R.GR0_SMR + 4 * i, ~R.SMR_VALID);
        w(R.GR0_S2CR + 4 * i, R.S2CR_TYPE_BYPASS << R.S2CR_TYPE_SHIFT);
      }
      for (let i = 0; i < 4; i++) {
        cbw(i, R.CB_SCTLR, 0);
        cbw(i, R.CB_FSR, R.FSR_ALL);
      }
      w(R.GR0_STLBIALL, 0);
      w(R.GR0_TLBIALLH, 0);
      w(R.GR0_TLBIALLNSNH, 0);
      let s = r(R.GR0_SCR0);
      s |= R.SCR0_GFRE | R.SCR0_GFIE | R.SCR0_GCFGFRE | R.SCR0_GCFGFIE | (1 << 11) | (1 << 12);
      s &= ~(R.SCR0_CLIENTPD | R.SCR0_USFCFG | (1 << 13) | (3 << 14));
      w(R.GR0_STLBGSYNC, 0);
      w(R.GR0_SCR0, s);
    },
    attach(sid, cb, pgd, o = {}) {
      const asid = o.asid ?? cb;
      const irpt = o.irptndx ?? cb;
      w(0x1000 + 4 * cb, (R.CBAR_TYPE_S1_S2BYPASS << R.CBAR_TYPE_SHIFT) | (3 << 8) | (0xf << 12) | (irpt << R.CBAR_IRPTNDX_SHIFT));
      cbw(cb, R.CB_TTBR0_LO, pgd % 0x1_0000_0000);
      cbw(cb, R.CB_TTBR0_HI, Math.floor(pgd / 0x1_0000_0000) | (asid << 16));
      // EAE, SH0 inner shareable, WBWA, SL0 = 1 (as the 2014 driver writes it)
      cbw(cb, R.CB_TTBCR, o.ttbcr ?? (R.TTBCR_EAE | (3 << 12) | (1 << 10) | (1 << 8) | (1 << 6)));
      cbw(cb, R.CB_MAIR0, 0x44 | (0xff << 8) | (0x04 << 16));
      let sctlr = R.SCTLR_CFRE | R.SCTLR_M | R.SCTLR_AFE | R.SCTLR_TRE | R.SCTLR_ASIDPNE | (o.sctlrExtra ?? 0);
      if (o.cfie ?? true) sctlr |= R.SCTLR_CFIE;
      if (o.stall) sctlr |= R.SCTLR_CFCFG;
      cbw(cb, R.CB_SCTLR, sctlr);
      const idx = o.smr ?? cb;
      w(R.GR0_SMR + 4 * idx, R.SMR_VALID | sid);
      w(R.GR0_S2CR + 4 * idx, (R.S2CR_TYPE_TRANS << R.S2CR_TYPE_SHIFT) | cb);
    },
    invContext(cb, asid = cb) {
      cbw(cb, R.CB_TLBIASID, asid);
      w(R.GR0_STLBGSYNC, 0);
    },
  };
  return rig;
}

// ---- descriptor builders (LPAE long descriptors) ----
export interface LeafOpts {
  /** AP[2] read-only */
  ro?: boolean;
  /** AP[1] unprivileged access (default true, as the driver writes it) */
  unpriv?: boolean;
  xn?: boolean;
  pxn?: boolean;
  af?: boolean;
  ng?: boolean;
  attrIndx?: number;
}

function leafBits(o: LeafOpts): Desc {
  let lo = ((o.attrIndx ?? 1) & 7) << 2;
  lo |= 3 << 8; // inner shareable
  if (o.unpriv ?? true) lo |= 1 << 6;
  if (o.ro) lo |= 1 << 7;
  if (o.af ?? true) lo |= 1 << 10;
  if (o.ng ?? true) lo |= 1 << 11;
  let hi = 0;
  if (o.pxn) hi |= 1 << 21;
  if (o.xn) hi |= 1 << 22;
  return [lo, hi];
}

const split = (pa: number): [number, number] => [pa % 0x1_0000_0000, Math.floor(pa / 0x1_0000_0000)];

/**
 * A fresh level-1 table whose first entry points at a level-2 table whose first entry points
 * at a level-3 table: the chain that maps VA 0 .. 2 MiB, leaves left to the caller.
 */
export function l3Chain(rig: Rig): { pgd: number; l2: number; l3: number } {
  const pgd = rig.page();
  const l2 = rig.page();
  const l3 = rig.page();
  rig.wr64(ent(pgd, 0), tableDesc(l2));
  rig.wr64(ent(l2, 0), tableDesc(l3));
  return { pgd, l2, l3 };
}

export function pageDesc(pa: number, o: LeafOpts = {}): Desc {
  const [l, h] = leafBits(o);
  const [plo, phi] = split(pa);
  return [((plo & 0xfffff000) | l | 3) >>> 0, (h | (phi & 0xff)) >>> 0];
}

export function blockDesc(pa: number, o: LeafOpts = {}): Desc {
  const [l, h] = leafBits(o);
  const [plo, phi] = split(pa);
  return [((plo & 0xffe00000) | l | 1) >>> 0, (h | (phi & 0xff)) >>> 0];
}

export interface TableOpts {
  /** APTable[0]: no unprivileged access below */
  noUnpriv?: boolean;
  /** APTable[1]: no write access below */
  noWrite?: boolean;
  xnTable?: boolean;
  pxnTable?: boolean;
}

export function tableDesc(pa: number, o: TableOpts = {}): Desc {
  const [plo, phi] = split(pa);
  let hi = phi & 0xff;
  if (o.pxnTable) hi |= 1 << 27;
  if (o.xnTable) hi |= 1 << 28;
  if (o.noUnpriv) hi |= 1 << 29;
  if (o.noWrite) hi |= 1 << 30;
  return [((plo & 0xfffff000) | 3) >>> 0, hi >>> 0];
}

/** descriptor address of index `idx` in table `t` */
export const ent = (t: number, idx: number): number => t + idx * 8;
