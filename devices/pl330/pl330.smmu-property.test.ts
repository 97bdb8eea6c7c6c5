/**
 * Equivalence of the PL330's batched execution behind the real SMMU model (bulk translation
 * hooks: page-run segments, in-batch quiet page changes) with step-by-step execution:
 * memory, DMAC registers, virtual time, abort time, SMMU statistics, TLB contents (order
 * included), fault records and registers, trace digest. Random mem-to-mem programs over
 * randomly mapped 4 KiB pages (scrambled, read-only, unmapped), random TLB sizes and costs,
 * tracing on and off; the SMMU with its accelerators (devices/smmu/accel/) on and off. Also
 * in stall mode (RESUME retry / terminate), with CBn_SCTLR.CFRE = 0 (an immediate or a
 * RESUME-terminated fault completes as RAZ/WI) and through a nested context (CBAR type 3: the
 * stage-1 tables, their descriptors and the output are IPAs translated by a stage-2 bank, with
 * holes at stage 2 under data, table and program pages).
 * (Crosses layers: a test may build fixtures from any part.)
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { makeAttrs } from '../../emulator/attrs.js';
import { PhysicalBus } from '../../emulator/bus.js';
import { IrqLine } from '../../emulator/irq.js';
import { MasterPort } from '../../emulator/master.js';
import { Scheduler } from '../../emulator/scheduler.js';
import { Tracer } from '../../emulator/trace.js';
import * as SR from '../smmu/regs.js';
import { Smmu } from '../smmu/smmu.js';
import * as A from './assembler.js';
import * as R from './constants.js';
import { Pl330 } from './pl330.js';

const RAM = 0x80000000;
const RAM_SIZE = 0x80000; // 512 KiB: 128 pages
const DATA_PAGES = 96; // physical pages RAM[0..96) hold data; tables and program above
const IOVA_SRC = 0x10000; // 16 IOVA pages of source
const IOVA_DST = 0x30000; // 16 IOVA pages of destination
const IOVA_PROG = 0x5000;
const PGD = RAM + 0x70000;
const L2 = PGD + 0x1000;
const L3 = PGD + 0x2000;
const PROG_PA = RAM + 0x6f000;
/** nested mode: the program's IOVA lies in another 2 MiB region (its own level-3 table L3B) */
const IOVA_PROG_NESTED = 0x205000;
const L3B = PGD + 0x3000;
/** nested mode: stage-2 tables (VTCR T0SZ 0, SL0 1: a 32-bit IPA starting at level 1); IPA = PA - RAM + IPA_BASE */
const S2PGD = RAM + 0x78000;
const S2L2 = S2PGD + 0x1000;
const S2L3 = S2PGD + 0x2000;
const IPA_BASE = 0x4000_0000;
const VTCR_32_L1 = ((1 << 31) | (1 << 6)) >>> 0;
/** nested mode: the stage-2 bank and the nested stage-1 bank (NUMS2CB = 1) */
const S2CB = 0;
const S1CB = 1;
const CPU = makeAttrs({ priv: true });

interface Spec {
  srcBeat: number;
  srcLen: number;
  dstBeat: number;
  n1: number;
  n0: number;
  k: number;
  fill: number[];
  srcOff: number;
  dstOff: number;
  chunk: number;
  tlbEntries: number;
  hitNs: number;
  walkNs: number;
  trace: boolean;
  /**
   * IOVA page -> physical data page, or -1 unmapped, -2 read-only (mapped to page 95),
   * -3 the level-3 table page itself (writable: the DMA rewrites its own page table),
   * -4 an alias of the page of IOVA page (i ^ 16) (source and destination overlap),
   * -5 the level-2 table page (writable)
   */
  map: number[];
  /** second run of the same program (TLB warm) */
  twice: boolean;
  /** per IOVA page (0..31): [XOR into the leaf's low word, OR into its high word] */
  bits?: [number, number][];
  /** CCR SrcProt/DstProt (default 2: non-secure, unprivileged) */
  prot?: number;
  /** RAM to overwrite before the run: [byte offset in RAM, 64-bit words (lo, hi pairs)] */
  patch?: [number, number[]][];
  /**
   * stall mode (SCTLR.CFCFG = 1) with a fault handler run `handlerNs` after the context
   * interrupt rises: reads FSR/FAR, writes FSR back and RESUME: 'terminate' always;
   * 'retry' maps an unmapped faulting page (to physical page 88) and retries, terminates
   * any other fault
   */
  stall?: 'terminate' | 'retry';
  handlerNs?: number;
  /**
   * another component's periodic event (as the CPU's in a full system): every tickNs, at
   * most 60 times, it records what it can see of the DMA (time, SAR/DAR, port bytes,
   * instructions, SMMU translations, a checksum of the data pages); a batch running past
   * it would show there
   */
  tickNs?: number;
  /** CBn_SCTLR.CFRE clear (every bank): a terminated fault, at once or by RESUME, is RAZ/WI */
  cfre0?: boolean;
  /**
   * a nested context (stages "s1+s2+nested"): stage-1 bank 1 (CBAR type 3, CBNDX 0) over
   * stage-2 bank 0, which maps IPA_BASE + x to RAM + x
   */
  nested?: boolean;
  /**
   * nested mode: stage-2 holes [target, kind]: target 0..31 = the physical page of IOVA page
   * `target` (when mapped), 32..35 = the program page, PGD, L2, L3; kind -1 unmapped at stage 2,
   * -2 read-only at stage 2
   */
  s2holes?: [number, number][];
}

const specArb: fc.Arbitrary<Spec> = fc
  .record({
    srcBeatLog: fc.integer({ min: 0, max: 4 }),
    srcLen: fc.integer({ min: 1, max: 16 }),
    dstBeatLog: fc.integer({ min: 0, max: 4 }),
    n1: fc.integer({ min: 1, max: 4 }),
    n0: fc.integer({ min: 1, max: 40 }),
    k: fc.integer({ min: 1, max: 2 }),
    fill: fc.array(fc.constantFrom(0x12, 0x13, 0x18), { maxLength: 2 }),
    srcOff: fc.constantFrom(0, 0, 16, 255, 4000),
    dstOff: fc.constantFrom(0, 0, 32, 100, 4064),
    chunk: fc.constantFrom(256, 4096, 65536, 1 << 20),
    tlbEntries: fc.constantFrom(4, 8, 128),
    hitNs: fc.constantFrom(0, 2, 5),
    walkNs: fc.constantFrom(0, 60),
    trace: fc.boolean(),
    perm: fc.array(fc.integer({ min: 0, max: 1000 }), { minLength: 32, maxLength: 32 }),
    holes: fc.array(fc.tuple(fc.integer({ min: 0, max: 31 }), fc.constantFrom(-1, -2, -3, -3, -4, -4)), { maxLength: 3 }),
    twice: fc.boolean(),
    tickNs: fc.option(fc.integer({ min: 150, max: 12_000 }), { nil: undefined, freq: 2 }),
  })
  .map((r) => {
    const srcBeat = 1 << r.srcBeatLog;
    const burst = srcBeat * r.srcLen;
    let dstBeat = 1 << r.dstBeatLog;
    while (dstBeat > 1 && (burst % dstBeat !== 0 || burst / dstBeat > 16)) dstBeat >>= 1;
    if (burst / dstBeat > 16) dstBeat = srcBeat;
    // 32 IOVA pages (16 src + 16 dst) onto distinct physical pages in a random order
    const pool = Array.from({ length: 90 }, (_, i) => i);
    const map: number[] = [];
    for (let i = 0; i < 32; i++) map.push(pool.splice(r.perm[i]! % pool.length, 1)[0]!);
    for (const [p, kind] of r.holes) map[p] = kind;
    return { srcBeat, srcLen: r.srcLen, dstBeat, n1: r.n1, n0: r.n0, k: r.k, fill: r.fill, srcOff: r.srcOff, dstOff: r.dstOff, chunk: r.chunk, tlbEntries: r.tlbEntries, hitNs: r.hitNs, walkNs: r.walkNs, trace: r.trace, map, twice: r.twice, tickNs: r.tickNs };
  });

function program(s: Spec): number[] {
  const burst = s.srcBeat * s.srcLen;
  const ccr = R.makeCcr({ srcBeatBytes: s.srcBeat, srcBurstLen: s.srcLen, dstBeatBytes: s.dstBeat, dstBurstLen: burst / s.dstBeat, srcProt: s.prot ?? 2, dstProt: s.prot ?? 2 });
  const a = new A.Pl330Asm().mov('CCR', ccr).mov('SAR', IOVA_SRC + s.srcOff).mov('DAR', IOVA_DST + s.dstOff);
  a.lp(1, s.n1).lp(0, s.n0);
  for (let i = 0; i < s.k; i++) a.emit(A.DMALD());
  for (const f of s.fill) a.emit([f]);
  for (let i = 0; i < s.k; i++) a.emit(A.DMAST());
  a.lpEnd().lpEnd();
  a.emit(A.DMASEV(0)).emit(A.DMAEND());
  return a.bytes;
}

function run(s: Spec, accel: boolean, smmuAccel = accel) {
  const nested = s.nested === true;
  /** what stage 1 holds for a physical address: the IPA in nested mode */
  const ipa = (pa: number): number => (nested ? pa - RAM + IPA_BASE : pa);
  const progIova = nested ? IOVA_PROG_NESTED : IOVA_PROG;
  const sched = new Scheduler();
  const tracer = new Tracer(() => sched.now, s.trace);
  const bus = new PhysicalBus();
  const ram = bus.addRam('ram', RAM, RAM_SIZE);
  for (let i = 0; i < DATA_PAGES * 4096; i++) ram.write8(i, (i * 131 + (i >>> 12) * 7 + 3) & 0xff);
  const w64 = (pa: number, lo: number, hi = 0): void => {
    ram.write64(pa - RAM, lo >>> 0, hi >>> 0);
  };
  for (const [off, words] of s.patch ?? []) {
    for (let i = 0; i < words.length; i += 2) w64(RAM + off + 4 * i, words[i]!, words[i + 1]!);
  }
  w64(PGD, ipa(L2) | 3);
  w64(L2, ipa(L3) | 3);
  const leaf = (pa: number, ro: boolean): number => (ipa(pa) | 0x743 | (ro ? 0x80 : 0)) >>> 0; // AF, SH, nG, AP[1] unprivileged access, page; AP[2]=ro
  for (let i = 0; i < 32; i++) {
    const m = s.map[i]!;
    const iova = i < 16 ? IOVA_SRC + i * 4096 : IOVA_DST + (i - 16) * 4096;
    if (m === -1) continue;
    let pa = RAM + m * 4096;
    if (m === -2) pa = RAM + 95 * 4096;
    else if (m === -3) pa = L3;
    else if (m === -5) pa = L2;
    else if (m === -4) {
      const o = s.map[i ^ 16]!;
      pa = o >= 0 ? RAM + o * 4096 : RAM + 89 * 4096;
    }
    const b = s.bits?.[i] ?? [0, 0];
    w64(L3 + 8 * (iova >>> 12), (leaf(pa, m === -2) ^ b[0]) >>> 0, b[1]);
  }
  if (nested) {
    w64(L2 + 8, ipa(L3B) | 3);
    w64(L3B + 8 * ((IOVA_PROG_NESTED >>> 12) % 512), leaf(PROG_PA, true));
    // stage 2: IPA_BASE + x -> RAM + x for the whole RAM, then the holes
    w64(S2PGD + 8, S2L2 | 3);
    w64(S2L2, S2L3 | 3);
    const s2leaf = (pa: number, ro: boolean): number => (pa | 0x7ff) ^ (ro ? 0x80 : 0); // page, MemAttr, HAP[2:1] = rw (ro: HAP[2] clear), SH, AF
    for (let p = 0; p < RAM_SIZE / 4096; p++) w64(S2L3 + 8 * p, s2leaf(RAM + p * 4096, false));
    for (const [target, kind] of s.s2holes ?? []) {
      const m = target < 32 ? s.map[target]! : [111, 112, 113, 114][target - 32]!;
      if (m < 0) continue;
      w64(S2L3 + 8 * m, kind === -1 ? 0 : s2leaf(RAM + m * 4096, true));
    }
  } else w64(L3 + 8 * (IOVA_PROG >>> 12), leaf(PROG_PA, true));
  ram.writeBytes(PROG_PA - RAM, program(s));
  const ctxIrq = new IrqLine('ctx');
  const smmu = new Smmu(bus, {
    regSize: 0x10000, numContextBanks: 4, numSmrs: 8, ias: 40, oas: 40,
    globalIrqs: [new IrqLine('g')], contextIrqs: [ctxIrq], tlbEntries: s.tlbEntries, hitNs: s.hitNs, walkNsPerLevel: s.walkNs,
    now: () => sched.now, tracer, accel: smmuAccel, ...(nested ? { stages: 's1+s2+nested' as const, numS2ContextBanks: 1 } : {}),
  });
  const sctlr = (SR.SCTLR_M | SR.SCTLR_CFIE | (s.cfre0 ? 0 : SR.SCTLR_CFRE) | (s.stall ? SR.SCTLR_CFCFG : 0)) >>> 0;
  /** the banks in use (the stage-1 bank first) */
  const banks = nested ? [S1CB, S2CB] : [0];
  smmu.write(SR.GR0_SMR, 4, (SR.SMR_VALID | 1) >>> 0, CPU);
  smmu.write(SR.GR0_S2CR, 4, banks[0]!, CPU);
  if (nested) {
    smmu.write(0x1000 + 4 * S2CB, 4, (SR.CBAR_TYPE_S2 << SR.CBAR_TYPE_SHIFT) | 5, CPU); // VMID 5
    smmu.write(0x8000 + 0x1000 * S2CB + SR.CB_TTBR0_LO, 4, S2PGD, CPU);
    smmu.write(0x8000 + 0x1000 * S2CB + SR.CB_TTBCR, 4, VTCR_32_L1, CPU);
    smmu.write(0x8000 + 0x1000 * S2CB + SR.CB_SCTLR, 4, sctlr, CPU);
    smmu.write(0x1000 + 4 * S1CB, 4, (SR.CBAR_TYPE_NESTED << SR.CBAR_TYPE_SHIFT) | (S2CB << SR.CBAR_CBNDX_SHIFT), CPU);
  } else smmu.write(0x1000, 4, SR.CBAR_TYPE_S1_S2BYPASS << SR.CBAR_TYPE_SHIFT, CPU);
  const s1 = 0x8000 + 0x1000 * banks[0]!;
  smmu.write(s1 + SR.CB_TTBR0_LO, 4, ipa(PGD), CPU);
  smmu.write(s1 + SR.CB_TTBCR, 4, SR.TTBCR_EAE >>> 0, CPU);
  smmu.write(s1 + SR.CB_SCTLR, 4, sctlr, CPU);
  smmu.write(SR.GR0_SCR0, 4, 0, CPU);
  let ctxIrqAt = -1;
  const resumes: number[] = [];
  ctxIrq.connect((l) => {
    if (l && ctxIrqAt < 0) ctxIrqAt = sched.now;
    if (!l || s.stall === undefined) return;
    // the CPU's fault handler, later in virtual time (as arm_smmu_context_fault), for every bank
    sched.schedule(s.handlerNs ?? 1000, () => {
      for (const cb of banks) {
        const base = 0x8000 + 0x1000 * cb;
        const fsr = smmu.read(base + SR.CB_FSR, 4, CPU);
        if ((fsr & SR.FSR_SS) === 0) continue;
        const far = smmu.read(base + SR.CB_FAR_LO, 4, CPU);
        let resume = SR.RESUME_TERMINATE;
        if (s.stall === 'retry' && (fsr & SR.FSR_TF) !== 0) {
          if (cb === S2CB && nested) {
            // a stage-2 translation fault (FAR: the IPA): map the IPA page back at stage 2
            const p = Math.floor((far - IPA_BASE) / 4096);
            if (far >= IPA_BASE && p < RAM_SIZE / 4096 && ram.read32(S2L3 + 8 * p - RAM) === 0) {
              w64(S2L3 + 8 * p, (RAM + p * 4096) | 0x7ff);
              resume = 0;
            }
          } else if (far < 0x100000 && ram.read32(L3 + 8 * (far >>> 12) - RAM) === 0) {
            w64(L3 + 8 * (far >>> 12), leaf(RAM + 88 * 4096, false));
            resume = 0;
          }
        }
        smmu.write(base + SR.CB_FSR, 4, fsr, CPU);
        smmu.write(base + SR.CB_RESUME, 4, resume, CPU);
        resumes.push(sched.now, cb, resume);
      }
    }, 'handler');
  });
  const port = new MasterPort(bus, 'pl330', smmu);
  const abort = new IrqLine('abort');
  let abortAt = -1;
  abort.connect((l) => { if (l && abortAt < 0) abortAt = sched.now; });
  const dmac = new Pl330({ accel, bulkChunkBytes: s.chunk, streamId: 1 }, { scheduler: sched, port, eventIrqs: [new IrqLine('irq0')], abortIrq: abort, tracer, name: 'dma0' });
  const ticks: number[] = [];
  if (s.tickNs !== undefined) {
    const tickNs = s.tickNs;
    let n = 0;
    const tick = (): void => {
      let sum = 0;
      for (let o = 0; o < DATA_PAGES * 4096; o += 508) sum = (sum * 31 + ram.read32(o)) >>> 0;
      ticks.push(sched.now, dmac.read(R.chanRegOffset(0, 'SAR'), 4, CPU), dmac.read(R.chanRegOffset(0, 'DAR'), 4, CPU), port.bytes,
        dmac.channels[0]!.instructions, smmu.stats.translations, sum);
      if (++n < 60) sched.schedule(tickNs, tick, 'tick');
    };
    sched.schedule(tickNs, tick, 'tick');
  }
  const runs = s.twice ? 2 : 1;
  for (let r = 0; r < runs; r++) {
    dmac.startChannel(0, progIova);
    sched.runUntilIdle(500_000);
  }
  const regs = [R.cpcOffset(0), R.csrOffset(0), R.ftrOffset(0), R.chanRegOffset(0, 'SAR'), R.chanRegOffset(0, 'DAR'), R.chanRegOffset(0, 'LC0'), R.chanRegOffset(0, 'LC1'), R.REG_INT_EVENT_RIS].map((o) => dmac.read(o, 4, CPU));
  const cbRegs = banks.flatMap((cb) => [SR.CB_FSR, SR.CB_FAR_LO, SR.CB_FAR_HI, SR.CB_FSYNR0].map((o) => smmu.read(0x8000 + 0x1000 * cb + o, 4, CPU)));
  const stalls = [smmu.fault.stalls, smmu.fault.retries, smmu.fault.terminations, smmu.fault.razwiTerminations, smmu.fault.stalled.length];
  return {
    mem: ram.readBytes(0, ram.size), regs, cbRegs, now: sched.now, abortAt, ctxIrqAt, resumes, stalls, stats: { ...smmu.stats }, tlb: smmu.dumpTlb(), faults: smmu.faults(),
    digest: tracer.digest(), events: tracer.events.length, bytes: port.bytes, insns: dmac.channels[0]!.instructions, executed: sched.executed, ticks,
  };
}

type RunResult = ReturnType<typeof run>;

/** the batched run must match step execution in every observable named here */
function expectSameAsStep(f: RunResult, st: RunResult, fields: ReadonlyArray<keyof RunResult>): void {
  for (const k of fields) {
    if (k === 'mem') expect(Buffer.compare(Buffer.from(f.mem), Buffer.from(st.mem)), 'mem').toBe(0);
    else expect(f[k], String(k)).toEqual(st[k]);
  }
}

describe('property: PL330 behind the SMMU, batched == step execution', () => {
  it('memory, registers, time, SMMU statistics/TLB/faults and traces are identical', () => {
    fc.assert(
      fc.property(specArb, (s) => {
        const f = run(s, true);
        const st = run(s, false);
        const all = ['mem', 'regs', 'cbRegs', 'now', 'abortAt', 'ctxIrqAt', 'stats', 'tlb', 'faults', 'events', 'digest', 'bytes', 'insns', 'ticks'] as const;
        expectSameAsStep(f, st, all);
        // the SMMU's accelerators off (no bulk hooks): the DMA engine's batches translate access by access
        expectSameAsStep(run(s, true, false), st, all);
      }),
      { numRuns: 250, seed: 0x5330 },
    );
  });

  it('long page-aligned copies with varied descriptor bits (the run\'s committed-miss path and its leaf memo) are identical', () => {
    // whole 16-page copies in big batches, so that most page changes miss the TLB inside one
    // run with the walk cache valid; leaves differ in nG, AP[2:1], XN and PXN (AP[1] only
    // matters to unprivileged accesses, AP[2] to writes), and at most one page has a
    // faulting leaf (AF clear, no unprivileged access, read-only)
    const bitArb = fc.tuple(
      fc.constantFrom(0, 0, 0, 0, 0, 0x800, 0x40, 0x840),
      fc.constantFrom(0, 0, 0, 0, 0, 1 << 22, 1 << 21, (1 << 22) | (1 << 21)),
    );
    const arb = fc.record({
      perm: fc.array(fc.integer({ min: 0, max: 1000 }), { minLength: 32, maxLength: 32 }),
      bits: fc.array(bitArb, { minLength: 32, maxLength: 32 }),
      srcRo: fc.array(fc.boolean(), { minLength: 16, maxLength: 16 }),
      bad: fc.array(fc.tuple(fc.integer({ min: 0, max: 31 }), fc.constantFrom(0x400, 0x40, 0x80)), { maxLength: 1 }),
      priv: fc.boolean(),
      holes: fc.array(fc.tuple(fc.integer({ min: 0, max: 31 }), fc.constantFrom(-1, -2, -4)), { maxLength: 2 }),
      tlbEntries: fc.constantFrom(4, 8, 128),
      chunk: fc.constantFrom(16384, 65536, 1 << 20),
      walkNs: fc.constantFrom(0, 60),
      srcOff: fc.constantFrom(0, 0, 256),
      dstOff: fc.constantFrom(0, 0, 512),
      twice: fc.boolean(),
      tickNs: fc.option(fc.integer({ min: 300, max: 40_000 }), { nil: undefined }),
    });
    fc.assert(
      fc.property(arb, (r) => {
        const pool = Array.from({ length: 90 }, (_, i) => i);
        const map: number[] = [];
        for (let i = 0; i < 32; i++) map.push(pool.splice(r.perm[i]! % pool.length, 1)[0]!);
        for (const [p, kind] of r.holes) map[p] = kind;
        const n0 = r.srcOff === 0 && r.dstOff === 0 ? 16 : 15;
        const bits = r.bits.map(([lo, hi], i): [number, number] => [
          (r.priv ? lo : lo & ~0x40) | (i < 16 && r.srcRo[i] ? 0x80 : 0), hi]);
        for (const [p, b] of r.bad) bits[p]![0] = (bits[p]![0] & ~b) | b;
        const s: Spec = { srcBeat: 16, srcLen: 16, dstBeat: 16, n1: 16, n0, k: 1, fill: [], srcOff: r.srcOff, dstOff: r.dstOff, chunk: r.chunk,
          tlbEntries: r.tlbEntries, hitNs: 2, walkNs: r.walkNs, trace: false, map, twice: r.twice, bits, prot: r.priv ? 3 : 2, tickNs: r.tickNs };
        const f = run(s, true);
        const st = run(s, false);
        expectSameAsStep(f, st, ['mem', 'regs', 'cbRegs', 'now', 'abortAt', 'ctxIrqAt', 'stats', 'tlb', 'faults', 'bytes', 'insns', 'ticks']);
      }),
      { numRuns: 120, seed: 0x5331 },
    );
  });

  it('a faulting leaf in the middle of a long run (AF clear, no unprivileged access, read-only destination) stops it as step execution does', () => {
    const map = Array.from({ length: 32 }, (_, i) => (i * 37) % 90);
    for (const [page, bit] of [[5, 0x400], [7, 0x40], [16 + 9, 0x80], [3, 0x800]] as const) {
      const bits = Array.from({ length: 32 }, (): [number, number] => [0, 0]);
      bits[page] = [bit, 0];
      const s: Spec = { srcBeat: 16, srcLen: 16, dstBeat: 16, n1: 16, n0: 16, k: 1, fill: [], srcOff: 0, dstOff: 0, chunk: 65536, tlbEntries: 128, hitNs: 2, walkNs: 60, trace: false, map, twice: false, bits };
      const f = run(s, true);
      const st = run(s, false);
      expectSameAsStep(f, st, ['mem', 'regs', 'cbRegs', 'now', 'abortAt', 'stats', 'tlb', 'faults']);
      expect(f.faults.length).toBe(bit === 0x800 ? 0 : 1);
    }
  });

  it('a DMA that rewrites its own page table: later walks see the new descriptors, as in step execution', () => {
    // destination IOVA page 1 is the level-3 table page itself; the destination starts 256
    // bytes before it, so the store of iteration 1 (inside the batch) writes the table's
    // first 256 bytes from source bytes 256..511 (physical page 0), whose second half holds
    // valid leaf descriptors remapping the source IOVA pages. The walks of source pages 1.. come after
    // that store, inside the same batch, and must read the new descriptors.
    const map = Array.from({ length: 32 }, (_, i) => i);
    map[17] = -3;
    const words: number[] = [];
    for (let j = 0; j < 16; j++) words.push((RAM + ((j * 7 + 40) % 88) * 4096) | 0x743, 0);
    for (const walkNs of [0, 60]) {
      const s: Spec = {
        srcBeat: 16, srcLen: 16, dstBeat: 16, n1: 2, n0: 64, k: 1, fill: [0x12], srcOff: 0, dstOff: 4096 - 256, chunk: 65536,
        tlbEntries: 128, hitNs: 2, walkNs, trace: false, map, twice: false, patch: [[384, words]],
      };
      const f = run(s, true);
      const st = run(s, false);
      expectSameAsStep(f, st, ['mem', 'now', 'stats', 'tlb', 'faults', 'regs', 'insns']);
      // the remap took effect: source IOVA page 1 was read from physical page (1*7+40)%88
      const tl = f.tlb.find((e) => e.va === IOVA_SRC + 0x1000);
      expect(tl?.pa).toBe(RAM + 47 * 4096);
    }
  });

  it('a DMA that rewrites its level-3 table while the walk cache holds it (same batch)', () => {
    // 128-byte bursts, 32 per page, inner loops of 32 iterations (iteration 0 of each runs
    // on the step path). Source page 1 is walked at iteration 8 (a batch: walk cache filled);
    // destination IOVA page 1 is the level-3 table: the store of iteration 33 (a batch)
    // writes its source descriptors from physical page 1 bytes 3200..3327 (valid leaves
    // remapping the source pages); the walk of source page 2 at iteration 40, in the same
    // batch, must read the new descriptor
    const map = Array.from({ length: 32 }, (_, i) => i);
    map[17] = -3;
    const words: number[] = [];
    for (let j = 0; j < 16; j++) words.push((RAM + ((j * 7 + 40) % 88) * 4096) | 0x743, 0);
    const s: Spec = {
      srcBeat: 16, srcLen: 8, dstBeat: 16, n1: 3, n0: 32, k: 1, fill: [], srcOff: 3072, dstOff: 0, chunk: 65536,
      tlbEntries: 128, hitNs: 2, walkNs: 60, trace: false, map, twice: false, patch: [[4096 + 3200, words]],
    };
    const f = run(s, true);
    const st = run(s, false);
    expectSameAsStep(f, st, ['mem', 'now', 'stats', 'tlb', 'faults', 'regs']);
    expect(f.tlb.find((e) => e.va === IOVA_SRC + 0x2000)?.pa).toBe(RAM + 54 * 4096);
  });

  it('a page-aligned DMA that rewrites its level-3 table in one batch: the next page pair walks the new descriptors', () => {
    // page-aligned 256-byte bursts over 16 pages in 1 MiB chunks (the SMMU's page-pair loop,
    // pairRun); destination IOVA page k is the level-3 table: the page pair k writes
    // it whole from physical page k, which holds the same table with the source pages
    // remapped; the walk of source page k + 1 must read the new descriptor. (k = 8 with 4
    // TLB entries: the TLB is full, so the pairs before it are the SMMU's bulk page pairs
    // (bulkGroups), which must stop before the pair writing the table.)
    for (const k of [2, 8]) {
      const map = Array.from({ length: 32 }, (_, i) => i);
      map[16 + k] = -3;
      const words: number[] = [];
      for (let idx = 0; idx < 512; idx++) {
        let lo = 0;
        if (idx === IOVA_PROG >>> 12) lo = PROG_PA | 0x7c3;
        else if (idx >= IOVA_SRC >>> 12 && idx < (IOVA_SRC >>> 12) + 16) lo = (RAM + (((idx - (IOVA_SRC >>> 12)) * 7 + 40) % 88) * 4096) | 0x743;
        else if (idx >= IOVA_DST >>> 12 && idx < (IOVA_DST >>> 12) + 16) lo = (idx === (IOVA_DST >>> 12) + k ? L3 : RAM + (idx - (IOVA_DST >>> 12) + 16) * 4096) | 0x743;
        words.push(lo >>> 0, 0);
      }
      for (const tlbEntries of [4, 8, 128]) {
        const s: Spec = {
          srcBeat: 16, srcLen: 16, dstBeat: 16, n1: 16, n0: 16, k: 1, fill: [], srcOff: 0, dstOff: 0, chunk: 1 << 20,
          tlbEntries, hitNs: 2, walkNs: 60, trace: false, map, twice: false, patch: [[k * 4096, words]],
        };
        const f = run(s, true);
        const st = run(s, false);
        expectSameAsStep(f, st, ['mem', 'now', 'stats', 'tlb', 'faults', 'regs', 'insns']);
        expect(f.faults.length).toBe(0);
        expect(f.tlb.find((e) => e.va === IOVA_SRC + 0xf000)?.pa).toBe(RAM + ((15 * 7 + 40) % 88) * 4096);
      }
    }
  });

  it('a DMA that invalidates its level-2 descriptor: walks in later batches see it (walk cache revalidated)', () => {
    // destination IOVA page 1 is the level-2 table page. The source starts 512 bytes before
    // the end of source page 0, so source page 1 is walked (in a batch: walk cache filled) at
    // iteration 2; the store of iteration 3 writes the first 256 bytes of the level-2 table
    // from source page 1 bytes 256..511 (physical page 1), whose first word (zero) replaces
    // the level-2 descriptor of the source region: the walk of source page 2 (iteration 18,
    // a later batch with small chunks) must fault at level 2
    const map = Array.from({ length: 32 }, (_, i) => i);
    map[17] = -5;
    for (const chunk of [256, 4096, 65536]) {
      const s: Spec = {
        srcBeat: 16, srcLen: 16, dstBeat: 16, n1: 2, n0: 64, k: 1, fill: [], srcOff: 4096 - 512, dstOff: 4096 - 768, chunk,
        tlbEntries: 128, hitNs: 2, walkNs: 60, trace: false, map, twice: false, patch: [[4096 + 256, [0, 0]]],
      };
      const f = run(s, true);
      const st = run(s, false);
      expectSameAsStep(f, st, ['mem', 'now', 'stats', 'tlb', 'faults', 'regs', 'abortAt']);
      expect(f.faults[0]?.va).toBe(IOVA_SRC + 0x2000);
      expect(f.faults[0]?.level).toBe(2);
    }
  });

  it('stall mode (SCTLR.CFCFG): terminated and retried stalls give identical results batched and stepped', () => {
    fc.assert(
      fc.property(specArb, fc.constantFrom('terminate' as const, 'retry' as const), fc.constantFrom(0, 1000, 25_000), (s0, stall, handlerNs) => {
        const s: Spec = { ...s0, stall, handlerNs };
        const f = run(s, true);
        const st = run(s, false);
        const all = ['mem', 'regs', 'cbRegs', 'now', 'abortAt', 'ctxIrqAt', 'resumes', 'stats', 'tlb', 'faults', 'events', 'digest', 'bytes', 'insns'] as const;
        expectSameAsStep(f, st, all);
        expectSameAsStep(run(s, true, false), st, all);
        // the bus error reaches the DMA only after the handler resumed the stalled access (an
        // abort without any context fault is the program's own, e.g. st_data_unavailable when
        // an unaligned source realigns: AXI realignment, transfer.ts)
        if (st.abortAt >= 0 && st.ctxIrqAt >= 0) expect(st.abortAt).toBeGreaterThanOrEqual(st.ctxIrqAt + handlerNs);
      }),
      { numRuns: 150, seed: 0x5332 },
    );
  });

  it('stall mode: the data_read_err arrives when RESUME terminates, not when the fault happens; retry completes the copy', () => {
    const map = Array.from({ length: 32 }, (_, i) => (i * 37) % 90);
    map[3] = -1; // source IOVA page 3 unmapped
    const base: Spec = { srcBeat: 16, srcLen: 16, dstBeat: 16, n1: 16, n0: 16, k: 1, fill: [], srcOff: 0, dstOff: 0, chunk: 65536, tlbEntries: 128, hitNs: 2, walkNs: 60, trace: false, map, twice: false };
    const term = run(base, false);
    expect(term.regs[2]).toBe(R.FT_DATA_READ_ERR);
    const stalled = run({ ...base, stall: 'terminate', handlerNs: 50_000 }, false);
    expect(stalled.regs[2]).toBe(R.FT_DATA_READ_ERR);
    expect(stalled.ctxIrqAt).toBe(term.ctxIrqAt);
    expect(stalled.abortAt).toBe(stalled.resumes[0]);
    expect(stalled.abortAt - term.abortAt).toBeGreaterThanOrEqual(50_000);
    const retried = run({ ...base, stall: 'retry', handlerNs: 50_000 }, false);
    expect(retried.regs[2]).toBe(0); // no fault: the handler mapped the page and retried
    expect(retried.resumes.slice(1, 3)).toEqual([0, 0]); // bank 0, TnR = 0
    const dp = map[16 + 3]! * 4096;
    expect(Buffer.compare(Buffer.from(retried.mem.subarray(88 * 4096, 89 * 4096)), Buffer.from(retried.mem.subarray(dp, dp + 4096)))).toBe(0);
  });

  it('CFRE = 0 (immediate and RESUME-terminated RAZ/WI) and nested contexts with stage-2 holes: identical results batched and stepped', () => {
    const holeArb = fc.array(fc.tuple(fc.integer({ min: 0, max: 35 }), fc.constantFrom(-1, -2)), { maxLength: 2 });
    fc.assert(
      fc.property(
        specArb,
        fc.constantFrom(undefined, 'terminate' as const, 'terminate' as const, 'retry' as const),
        fc.boolean(),
        fc.boolean(),
        holeArb,
        fc.constantFrom(0, 1000, 25_000),
        (s0, stall, cfre0, nested, s2holes, handlerNs) => {
          const s: Spec = { ...s0, stall, handlerNs, cfre0, nested, s2holes };
          const f = run(s, true);
          const st = run(s, false);
          const all = ['mem', 'regs', 'cbRegs', 'now', 'abortAt', 'ctxIrqAt', 'resumes', 'stalls', 'stats', 'tlb', 'faults', 'events', 'digest', 'bytes', 'insns', 'ticks'] as const;
          expectSameAsStep(f, st, all);
          expectSameAsStep(run(s, true, false), st, all);
          // nothing is left held once the handler has run
          expect(st.stalls[4]).toBe(0);
          // with CFRE = 0 no SMMU fault reaches the DMA as an error: a fault bit in FTR is the
          // program's own (st_data_unavailable, mfifo_err, ...), never data_*_err / instr_fetch_err
          if (cfre0) expect(st.regs[2]! & (R.FT_DATA_READ_ERR | R.FT_DATA_WRITE_ERR | R.FT_INSTR_FETCH_ERR)).toBe(0);
        },
      ),
      { numRuns: 150, seed: 0x5333 },
    );
  });

  it('stall mode with CFRE = 0: RESUME terminate completes the held read as zeros and drops the held write; no abort; the faults stay recorded', () => {
    const map = Array.from({ length: 32 }, (_, i) => (i * 37) % 90);
    map[3] = -1; // source IOVA page 3 unmapped: the load stalls
    map[16 + 6] = -2; // destination IOVA page 6 read-only: the store stalls (permission)
    const base: Spec = { srcBeat: 16, srcLen: 16, dstBeat: 16, n1: 16, n0: 16, k: 1, fill: [], srcOff: 0, dstOff: 0, chunk: 65536, tlbEntries: 128, hitNs: 2, walkNs: 60, trace: true, map, twice: false, stall: 'terminate', handlerNs: 20_000, cfre0: true };
    for (const accel of [false, true]) {
      const r = run(base, accel);
      expect(r.regs[2], 'FTR').toBe(0);
      expect(r.regs[1]! & 0xf, 'CSR: stopped').toBe(R.ST_STOPPED);
      expect(r.regs[7]! & 1, 'the program ran to its DMASEV').toBe(1);
      expect(r.abortAt).toBe(-1);
      // each of the 16 bursts of either page stalls (a transaction translates on its own: the
      // RAZ/WI completes the held one only) and is ended by RESUME terminate as RAZ/WI
      expect(r.stalls).toEqual([32, 0, 32, 32, 0]);
      expect(r.faults.map((x) => [x.type, x.va])).toEqual([
        ...Array.from({ length: 16 }, (_, i) => ['translation', IOVA_SRC + 0x3000 + 256 * i]),
        ...Array.from({ length: 16 }, (_, i) => ['permission', IOVA_DST + 0x6000 + 256 * i]),
      ]);
      expect(r.resumes.filter((_, i) => i % 3 === 2)).toEqual(Array.from({ length: 32 }, () => SR.RESUME_TERMINATE));
      // destination page 3 got zeros (the held read), page 6 (read-only page 95) is unchanged
      const d3 = map[16 + 3]! * 4096;
      expect(r.mem.subarray(d3, d3 + 4096).every((b) => b === 0)).toBe(true);
      const d4 = map[16 + 4]! * 4096;
      const s4 = map[4]! * 4096;
      expect(Buffer.compare(Buffer.from(r.mem.subarray(d4, d4 + 4096)), Buffer.from(r.mem.subarray(s4, s4 + 4096)))).toBe(0);
      // the read-only page (physical page 95, never written otherwise) still holds its initial bytes
      expect(r.mem.subarray(95 * 4096, 96 * 4096).every((b, i) => b === ((95 * 4096 + i) * 131 + 95 * 7 + 3) % 256)).toBe(true);
    }
    // with CFRE = 1 the same RESUME gives the bus error: data_read_err at the first one
    const err = run({ ...base, cfre0: false }, false);
    expect(err.regs[2]).toBe(R.FT_DATA_READ_ERR);
    expect(err.abortAt).toBe(err.resumes[0]);
    expect(err.stalls).toEqual([1, 0, 1, 0, 0]);
  });

  it('stall mode with CFRE = 0: a store burst over two faulting pages completes after one RESUME per part (the first part is not issued again)', () => {
    // destination IOVA pages 5 and 6 read-only; 256-byte bursts from 128 bytes before page 6: every
    // burst of page 5 holds once, the burst across 5/6 holds twice (its page-5 part, then its page-6 part)
    const map = Array.from({ length: 32 }, (_, i) => (i * 37) % 90);
    map[16 + 5] = -2;
    map[16 + 6] = -2;
    const s: Spec = { srcBeat: 16, srcLen: 16, dstBeat: 16, n1: 1, n0: 2, k: 1, fill: [], srcOff: 0, dstOff: 0x6000 - 128, chunk: 65536, tlbEntries: 128, hitNs: 2, walkNs: 60, trace: true, map, twice: false, stall: 'terminate', handlerNs: 1000, cfre0: true };
    const st = run(s, false);
    expectSameAsStep(run(s, true), st, ['mem', 'regs', 'cbRegs', 'now', 'abortAt', 'resumes', 'stalls', 'stats', 'tlb', 'faults', 'digest']);
    expect(st.regs[2]).toBe(0);
    expect(st.faults.map((x) => x.va)).toEqual([IOVA_DST + 0x6000 - 128, IOVA_DST + 0x6000, IOVA_DST + 0x6000 + 128]);
    expect(st.stalls).toEqual([3, 0, 3, 3, 0]);
  });

  describe('a PL330 DMA through a nested context (CBAR type 3 over a stage-2 bank)', () => {
    const map = Array.from({ length: 32 }, (_, i) => (i * 37) % 90);
    const base: Spec = { srcBeat: 16, srcLen: 16, dstBeat: 16, n1: 16, n0: 16, k: 1, fill: [], srcOff: 0, dstOff: 0, chunk: 65536, tlbEntries: 128, hitNs: 2, walkNs: 60, trace: true, map, twice: false, nested: true };
    const all = ['mem', 'regs', 'cbRegs', 'now', 'abortAt', 'ctxIrqAt', 'resumes', 'stalls', 'stats', 'tlb', 'faults', 'events', 'digest', 'bytes', 'insns'] as const;
    /** cbRegs of the nested run: stage-1 bank (FSR, FAR lo, FAR hi, FSYNR0), then the stage-2 bank */
    const bankRegs = (r: RunResult, cb: number): number[] => r.cbRegs.slice(cb === S1CB ? 0 : 4, cb === S1CB ? 4 : 8);
    const same = (s: Spec): RunResult => {
      const st = run(s, false);
      expectSameAsStep(run(s, true), st, all);
      expectSameAsStep(run(s, true, false), st, all);
      return st;
    };

    it('both stages mapped: the copy completes; combined TLB entries; identical with accelerators on and off', () => {
      const r = same(base);
      expect(r.regs[2]).toBe(0);
      expect(r.faults).toEqual([]);
      for (let p = 0; p < 16; p++) {
        const sp = map[p]! * 4096;
        const dp = map[16 + p]! * 4096;
        expect(Buffer.compare(Buffer.from(r.mem.subarray(sp, sp + 4096)), Buffer.from(r.mem.subarray(dp, dp + 4096)))).toBe(0);
      }
      // every stage-1 entry is a combined VA -> PA entry of bank 1 naming stage-2 bank 0
      const src0 = r.tlb.find((e) => e.cb === S1CB && e.va === IOVA_SRC);
      expect(src0?.pa).toBe(RAM + map[0]! * 4096);
      expect(src0?.nested).toMatchObject({ s2cb: S2CB, ipa: IPA_BASE + map[0]! * 4096, level2: 3 });
      // a stage-1 walk per page (program + 16 + 16) and a stage-2 walk per stage-2 page first seen
      expect(r.stats.walks).toBeGreaterThan(33);
    });

    it('a stage-2 fault on the output (source data page unmapped at stage 2): recorded in the stage-2 bank, data_read_err, the abort interrupt', () => {
      const r = same({ ...base, s2holes: [[5, -1]] });
      expect(r.regs[2]).toBe(R.FT_DATA_READ_ERR);
      expect(r.abortAt).toBeGreaterThanOrEqual(0);
      expect(r.faults.map((x) => [x.type, x.cb, x.va])).toEqual([['translation', S2CB, IOVA_SRC + 0x5000]]);
      const [fsr, farLo, farHi, fsynr0] = bankRegs(r, S2CB);
      expect(fsr).toBe(SR.FSR_TF);
      expect([farLo, farHi]).toEqual([IPA_BASE + map[5]! * 4096, 0]); // the IPA
      expect((fsynr0! >>> SR.FSYNR0_S1CBNDX_SHIFT) & 0xff).toBe(S1CB);
      expect(fsynr0! & (SR.FSYNR0_PTWF | 3)).toBe(3); // level 3, not during the stage-1 walk
      expect(bankRegs(r, S1CB)[0]).toBe(0);
    });

    it('a stage-2 permission fault on the output of a store (destination page read-only at stage 2): data_write_err', () => {
      const r = same({ ...base, s2holes: [[16 + 2, -2]] });
      expect(r.regs[2]).toBe(R.FT_DATA_WRITE_ERR);
      expect(r.abortAt).toBeGreaterThanOrEqual(0);
      expect(r.faults.map((x) => [x.type, x.cb, x.va])).toEqual([['permission', S2CB, IOVA_DST + 0x2000]]);
      const [fsr, farLo, , fsynr0] = bankRegs(r, S2CB);
      expect(fsr).toBe(SR.FSR_PF);
      expect(farLo).toBe(IPA_BASE + map[16 + 2]! * 4096);
      expect(fsynr0! & SR.FSYNR0_WNR).toBe(SR.FSYNR0_WNR);
    });

    it('a stage-2 fault during the stage-1 walk (the level-3 table page unmapped at stage 2): PTWF, FAR = the descriptor\'s IPA, data_read_err', () => {
      const r = same({ ...base, s2holes: [[35, -1]] });
      expect(r.regs[2]).toBe(R.FT_DATA_READ_ERR);
      expect(r.abortAt).toBeGreaterThanOrEqual(0);
      expect(r.faults.map((x) => [x.type, x.cb, x.va])).toEqual([['translation', S2CB, IOVA_SRC]]);
      const [fsr, farLo, , fsynr0] = bankRegs(r, S2CB);
      expect(fsr).toBe(SR.FSR_TF);
      expect(farLo).toBe(IPA_BASE + (L3 - RAM) + 8 * (IOVA_SRC >>> 12));
      expect(fsynr0! & SR.FSYNR0_PTWF).toBe(SR.FSYNR0_PTWF);
      expect((fsynr0! >>> SR.FSYNR0_S1CBNDX_SHIFT) & 0xff).toBe(S1CB);
      expect(r.insns).toBeGreaterThan(0); // the program (its own level-3 table) ran up to the load
    });

    it('stall mode in the stage-2 bank: retry after the handler maps the IPA; CFRE = 0 terminate completes as RAZ/WI', () => {
      const retried = same({ ...base, s2holes: [[5, -1]], stall: 'retry' });
      expect(retried.regs[2]).toBe(0);
      expect(retried.resumes.slice(1, 3)).toEqual([S2CB, 0]);
      const d5 = map[16 + 5]! * 4096;
      const s5 = map[5]! * 4096;
      expect(Buffer.compare(Buffer.from(retried.mem.subarray(d5, d5 + 4096)), Buffer.from(retried.mem.subarray(s5, s5 + 4096)))).toBe(0);
      const razwi = same({ ...base, s2holes: [[5, -1]], stall: 'terminate', cfre0: true });
      expect(razwi.regs[2]).toBe(0);
      expect(razwi.abortAt).toBe(-1);
      expect(razwi.stalls).toEqual([16, 0, 16, 16, 0]); // one per burst of the page
      expect(razwi.mem.subarray(d5, d5 + 4096).every((b) => b === 0)).toBe(true);
    });
  });

  it('stall mode: a channel waiting for a held access stays Executing; DMAKILL leaves it Killing until RESUME ends the access', () => {
    const sched = new Scheduler();
    const bus = new PhysicalBus();
    const ram = bus.addRam('ram', RAM, RAM_SIZE);
    const w64 = (pa: number, lo: number): void => {
      ram.write64(pa - RAM, lo >>> 0, 0);
    };
    w64(PGD, L2 | 3);
    w64(L2, L3 | 3);
    w64(L3 + 8 * (IOVA_PROG >>> 12), (PROG_PA | 0x743) >>> 0);
    const prog = new A.Pl330Asm().mov('CCR', R.makeCcr({ srcBeatBytes: 16, srcBurstLen: 16, srcProt: 2, dstProt: 2 })).mov('SAR', IOVA_SRC).mov('DAR', IOVA_DST)
      .emit(A.DMALD()).emit(A.DMAST()).emit(A.DMAEND()).bytes;
    ram.writeBytes(PROG_PA - RAM, prog);
    const ctxIrq = new IrqLine('ctx');
    const smmu = new Smmu(bus, { regSize: 0x10000, numContextBanks: 4, numSmrs: 8, ias: 40, oas: 40, globalIrqs: [new IrqLine('g')], contextIrqs: [ctxIrq], now: () => sched.now, accel: true });
    smmu.write(SR.GR0_SMR, 4, (SR.SMR_VALID | 1) >>> 0, CPU);
    smmu.write(SR.GR0_S2CR, 4, 0, CPU);
    smmu.write(0x1000, 4, SR.CBAR_TYPE_S1_S2BYPASS << SR.CBAR_TYPE_SHIFT, CPU);
    smmu.write(0x8000 + SR.CB_TTBR0_LO, 4, PGD, CPU);
    smmu.write(0x8000 + SR.CB_TTBCR, 4, SR.TTBCR_EAE >>> 0, CPU);
    smmu.write(0x8000 + SR.CB_SCTLR, 4, (SR.SCTLR_M | SR.SCTLR_CFIE | SR.SCTLR_CFRE | SR.SCTLR_CFCFG) >>> 0, CPU);
    smmu.write(SR.GR0_SCR0, 4, 0, CPU);
    const abort = new IrqLine('abort');
    const dmac = new Pl330({ accel: true, streamId: 1 }, { scheduler: sched, port: new MasterPort(bus, 'pl330', smmu), eventIrqs: [new IrqLine('irq0')], abortIrq: abort, tracer: null, name: 'dma0' });
    dmac.startChannel(0, IOVA_PROG);
    expect(sched.runUntilIdle(100_000).reason).toBe('idle');
    const csr = (): number => dmac.read(R.csrOffset(0), 4, CPU) & 0xf;
    // the load from the unmapped source is held: no fault, the thread still executing
    expect(ctxIrq.level).toBe(true);
    expect(csr()).toBe(R.ST_EXECUTING);
    expect(dmac.read(R.ftrOffset(0), 4, CPU)).toBe(0);
    expect(smmu.fault.stalled.length).toBe(1);
    dmac.kill(dmac.channels[0]!);
    expect(csr()).toBe(R.ST_KILLING);
    sched.runUntilIdle(100_000);
    expect(csr()).toBe(R.ST_KILLING);
    smmu.write(0x8000 + SR.CB_FSR, 4, smmu.read(0x8000 + SR.CB_FSR, 4, CPU), CPU);
    smmu.write(0x8000 + SR.CB_RESUME, 4, SR.RESUME_TERMINATE, CPU);
    sched.runUntilIdle(100_000);
    expect(csr()).toBe(R.ST_STOPPED);
    expect(dmac.read(R.ftrOffset(0), 4, CPU)).toBe(0);
    expect(abort.level).toBe(false);
  });

  it('a fully mapped page-aligned copy really batches (fewer scheduler events) and copies the data', () => {
    const map = Array.from({ length: 32 }, (_, i) => (i * 37) % 90);
    const s: Spec = { srcBeat: 16, srcLen: 16, dstBeat: 16, n1: 16, n0: 16, k: 1, fill: [], srcOff: 0, dstOff: 0, chunk: 65536, tlbEntries: 128, hitNs: 2, walkNs: 60, trace: false, map, twice: false };
    const f = run(s, true);
    const st = run(s, false);
    expect(f.executed * 5).toBeLessThan(st.executed);
    expect(f.stats).toEqual(st.stats);
    expect(f.stats.walks).toBe(1 + 16 + 16); // program page + 16 source + 16 destination pages
    for (let p = 0; p < 16; p++) {
      const sp = map[p]! * 4096;
      const dp = map[16 + p]! * 4096;
      expect(Buffer.compare(Buffer.from(f.mem.subarray(sp, sp + 4096)), Buffer.from(f.mem.subarray(dp, dp + 4096)))).toBe(0);
    }
  });
});
