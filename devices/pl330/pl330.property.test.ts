import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as A from './assembler.js';
import * as R from './constants.js';
import { makeRig, RAM_BASE, ToyIommu, type Rig } from './testing/fixture.js';

const PROG = RAM_BASE + 0x1000;
const SRC = RAM_BASE + 0x10000;
const DST = RAM_BASE + 0x30000;
const RAM = 0x50000;

interface Spec {
  srcBeat: number;
  srcLen: number;
  dstBeat: number;
  n1: number;
  n0: number;
  k: number;
  fill: number[]; // filler ops in the body (barriers/NOPs)
  tail: number;
  srcOff: number;
  dstOff: number;
  chunk: number;
}

const specArb: fc.Arbitrary<Spec> = fc
  .record({
    srcBeatLog: fc.integer({ min: 0, max: 4 }),
    srcLen: fc.integer({ min: 1, max: 16 }),
    dstBeatLog: fc.integer({ min: 0, max: 4 }),
    n1: fc.integer({ min: 1, max: 4 }),
    n0: fc.integer({ min: 1, max: 12 }),
    k: fc.integer({ min: 1, max: 3 }),
    fill: fc.array(fc.constantFrom(0x12, 0x13, 0x18), { maxLength: 3 }),
    tail: fc.integer({ min: 0, max: 3 }),
    srcOff: fc.integer({ min: 0, max: 63 }),
    dstOff: fc.integer({ min: 0, max: 63 }),
    chunk: fc.constantFrom(1, 100, 4096, 65536, 1 << 20),
  })
  .map((r) => {
    const srcBeat = 1 << r.srcBeatLog;
    const burst = srcBeat * r.srcLen;
    // destination beat: the largest allowed one that divides the burst with at most 16 beats
    let dstBeat = 1 << r.dstBeatLog;
    while (dstBeat > 1 && (burst % dstBeat !== 0 || burst / dstBeat > 16)) dstBeat >>= 1;
    if (burst / dstBeat > 16) dstBeat = srcBeat;
    return { srcBeat, srcLen: r.srcLen, dstBeat, n1: r.n1, n0: r.n0, k: r.k, fill: r.fill, tail: r.tail, srcOff: r.srcOff, dstOff: r.dstOff, chunk: r.chunk };
  });

function build(s: Spec): { bytes: number[]; total: number } {
  const burst = s.srcBeat * s.srcLen;
  const ccr = R.makeCcr({ srcBeatBytes: s.srcBeat, srcBurstLen: s.srcLen, dstBeatBytes: s.dstBeat, dstBurstLen: burst / s.dstBeat });
  const a = new A.Pl330Asm().mov('CCR', ccr).mov('SAR', SRC + s.srcOff).mov('DAR', DST + s.dstOff);
  const body = (): void => {
    for (let i = 0; i < s.k; i++) a.emit(A.DMALD());
    for (const f of s.fill) a.emit([f]);
    for (let i = 0; i < s.k; i++) a.emit(A.DMAST());
  };
  a.lp(1, s.n1).lp(0, s.n0);
  body();
  a.lpEnd().lpEnd();
  if (s.tail > 0) {
    a.lp(0, s.tail);
    body();
    a.lpEnd();
  }
  a.emit(A.DMASEV(0)).emit(A.DMAEND());
  return { bytes: a.bytes, total: (s.n1 * s.n0 + s.tail) * s.k * burst };
}

/**
 * What the program moves, with realignment (transfer.ts burstBytes): only the first load and the
 * first store are partial (their beats' misalignment), every later burst is aligned and
 * whole. With more misalignment at the source than at the destination the first
 * iteration's last store finds too few bytes (st_data_unavailable); otherwise the copy
 * completes and the surplus (dst skew - src skew) is discarded at DMAEND.
 */
function predict(s: Spec): { ok: boolean; loaded: number; stored: number } {
  const burst = s.srcBeat * s.srcLen;
  const skewS = s.srcOff % s.srcBeat;
  const skewD = s.dstOff % s.dstBeat;
  const { total } = build(s);
  if (skewS > skewD) return { ok: false, loaded: s.k * burst - skewS, stored: s.k === 1 ? 0 : (s.k - 1) * burst - skewD };
  return { ok: true, loaded: total - skewS, stored: total - skewD };
}

function run(s: Spec, accel: boolean, src: Uint8Array): { rig: Rig; mem: Uint8Array } {
  const rig = makeRig({ accel, bulkChunkBytes: s.chunk }, { ramSize: RAM });
  rig.poke(SRC, src);
  rig.ram.fill(DST - RAM_BASE, 0xcd, RAM - 0x1000 - (DST - RAM_BASE));
  const { bytes } = build(s);
  rig.poke(PROG, bytes);
  rig.go(0, PROG);
  rig.run();
  return { rig, mem: rig.ram.readBytes(0, rig.ram.size) };
}

describe('property: random valid mem-to-mem programs', () => {
  it('move exactly the predicted bytes (unaligned SAR/DAR realign after a partial first burst) and touch nothing else; accelerators on == off', () => {
    fc.assert(
      fc.property(specArb, fc.integer(), (s, seed) => {
        const p = predict(s);
        const src = new Uint8Array(0x20000 - 0x100);
        let x = seed >>> 0;
        for (let i = 0; i < src.length; i++) {
          x = (Math.imul(x, 1103515245) + 12345) >>> 0;
          src[i] = x >>> 24;
        }
        const fast = run(s, true, src);
        const step = run(s, false, src);
        // expected memory image: the copy in place, everything else untouched
        const expected = new Uint8Array(RAM);
        expected.set(build(s).bytes, PROG - RAM_BASE);
        expected.set(src, SRC - RAM_BASE);
        expected.fill(0xcd, DST - RAM_BASE, RAM - 0x1000);
        expected.set(src.subarray(s.srcOff, s.srcOff + p.stored), DST - RAM_BASE + s.dstOff);
        expect(Buffer.compare(Buffer.from(step.mem), Buffer.from(expected))).toBe(0);
        expect(Buffer.compare(Buffer.from(fast.mem), Buffer.from(expected))).toBe(0);
        for (const r of [fast.rig, step.rig]) {
          expect(r.reg(R.ftrOffset(0))).toBe(p.ok ? 0 : R.FT_ST_DATA_UNAVAILABLE);
          expect(r.reg(R.chanRegOffset(0, 'SAR'))).toBe(SRC + s.srcOff + p.loaded);
          expect(r.reg(R.chanRegOffset(0, 'DAR'))).toBe(DST + s.dstOff + p.stored);
          expect(r.reg(R.csrOffset(0)) & 0xf).toBe(p.ok ? R.ST_STOPPED : R.ST_FAULTING);
        }
        // same registers, same virtual time, same bytes through the port
        for (const off of [R.cpcOffset(0), R.chanRegOffset(0, 'LC0'), R.chanRegOffset(0, 'LC1'), R.REG_INT_EVENT_RIS]) {
          expect(fast.rig.reg(off)).toBe(step.rig.reg(off));
        }
        expect(fast.rig.sched.now).toBe(step.rig.sched.now);
        expect(fast.rig.port.bytes).toBe(step.rig.port.bytes);
        expect(fast.rig.dmac.channels[0]!.instructions).toBe(step.rig.dmac.channels[0]!.instructions);
        // the accelerators really ran (fewer scheduler events) whenever the inner loop repeats
        // (with unequal source/destination misalignment the surplus byte(s) stay in the MFIFO
        // and the accelerators decline: the reference executor runs it all)
        if (s.n0 >= 2 && s.srcOff % s.srcBeat === s.dstOff % s.dstBeat) expect(fast.rig.sched.executed).toBeLessThan(step.rig.sched.executed);
      }),
      { numRuns: 120, seed: 0x330 },
    );
  });
});

describe('property: batched stepping behind a translation stage equals step execution', () => {
  it('same memory, registers, virtual time, translation lookups and fault time (with unmapped pages)', () => {
    fc.assert(
      fc.property(specArb, fc.constantFrom(0, 7, 20), fc.option(fc.integer({ min: 0, max: 12 })), fc.boolean(), (s, cost, hole, holeInSrc) => {
        const src = new Uint8Array(0x20000 - 0x100);
        for (let i = 0; i < src.length; i++) src[i] = (i * 131 + 7) & 0xff;
        const go = (accel: boolean) => {
          const mmu = new ToyIommu(cost);
          if (hole !== null) mmu.unmappedPages.add(Math.floor(((holeInSrc ? SRC : DST) + hole * 4096) / 4096));
          const rig = makeRig({ accel, bulkChunkBytes: s.chunk }, { ramSize: RAM, translator: mmu });
          rig.poke(SRC, src);
          rig.poke(PROG, build(s).bytes);
          let abortAt = -1;
          rig.abort.connect((l) => { if (l && abortAt < 0) abortAt = rig.sched.now; });
          rig.go(0, PROG);
          rig.run();
          return { rig, mmu, abortAt };
        };
        const f = go(true);
        const st = go(false);
        expect(Buffer.compare(f.rig.ram.readBytes(0, f.rig.ram.size), st.rig.ram.readBytes(0, st.rig.ram.size))).toBe(0);
        for (const off of [R.cpcOffset(0), R.csrOffset(0), R.ftrOffset(0), R.chanRegOffset(0, 'SAR'), R.chanRegOffset(0, 'DAR'), R.chanRegOffset(0, 'LC0'), R.chanRegOffset(0, 'LC1')]) {
          expect(f.rig.reg(off)).toBe(st.rig.reg(off));
        }
        expect(f.rig.sched.now).toBe(st.rig.sched.now);
        expect(f.abortAt).toBe(st.abortAt);
        expect(f.mmu.lookups).toBe(st.mmu.lookups);
        expect(f.rig.port.bytes).toBe(st.rig.port.bytes);
        expect(f.rig.dmac.channels[0]!.instructions).toBe(st.rig.dmac.channels[0]!.instructions);
        if (hole === null && s.n0 >= 3 && s.srcBeat * s.srcLen * s.k <= 1024 && s.srcOff % s.srcBeat === s.dstOff % s.dstBeat) expect(f.rig.sched.executed).toBeLessThan(st.rig.sched.executed);
        if (hole === null) {
          const n = Math.min(64, predict(s).stored);
          expect(Array.from(f.rig.peek(DST + s.dstOff, 64))).toEqual(Array.from(src.subarray(s.srcOff, s.srcOff + n)).concat(new Array(64 - n).fill(0)));
        }
      }),
      { numRuns: 100, seed: 0x333 },
    );
  });
});

describe('property: unaligned and fixed-address bursts (realignment), accelerators on == off', () => {
  it('random beat sizes, lengths, increment modes, unaligned SAR/DAR and wide-beat modes: same memory, registers, time and faults', () => {
    fc.assert(
      fc.property(
        fc.record({
          sLog: fc.integer({ min: 0, max: 5 }), sLen: fc.integer({ min: 1, max: 16 }), dLog: fc.integer({ min: 0, max: 5 }), dLen: fc.integer({ min: 1, max: 16 }),
          sInc: fc.boolean(), dInc: fc.boolean(), srcOff: fc.integer({ min: 0, max: 31 }), dstOff: fc.integer({ min: 0, max: 31 }),
          n0: fc.integer({ min: 1, max: 20 }), width: fc.constantFrom(32, 64, 128) as fc.Arbitrary<32 | 64 | 128>,
          wideBeat: fc.constantFrom('fault-at-access', 'fault-at-dmamov', 'narrow') as fc.Arbitrary<'fault-at-access' | 'fault-at-dmamov' | 'narrow'>,
          realign: fc.boolean(),
        }),
        (r) => {
          const ccr = (R.makeCcr({ srcBeatBytes: 1, srcBurstLen: r.sLen, dstBeatBytes: 1, dstBurstLen: r.dLen, srcInc: r.sInc, dstInc: r.dInc }) | (r.sLog << 1) | (r.dLog << 15)) >>> 0;
          const a = new A.Pl330Asm().mov('CCR', ccr).mov('SAR', SRC + r.srcOff).mov('DAR', DST + r.dstOff);
          // optionally one realigning burst pair before the loop
          if (r.realign) a.emit(A.DMALD()).emit(A.DMAST());
          a.lp(0, r.n0).emit(A.DMALD()).emit(A.DMAST()).lpEnd().emit(A.DMASEV(0)).emit(A.DMAEND());
          const go = (accel: boolean) => {
            const rig = makeRig({ accel, dataWidthBits: r.width, wideBeat: r.wideBeat }, { ramSize: RAM });
            const src = new Uint8Array(0x4000);
            for (let i = 0; i < src.length; i++) src[i] = (i * 37 + 11) & 0xff;
            rig.poke(SRC, src);
            rig.poke(PROG, a.bytes);
            rig.go(0, PROG);
            rig.run();
            return rig;
          };
          const f = go(true);
          const st = go(false);
          expect(Buffer.compare(f.ram.readBytes(0, f.ram.size), st.ram.readBytes(0, st.ram.size))).toBe(0);
          for (const off of [R.cpcOffset(0), R.csrOffset(0), R.ftrOffset(0), R.chanRegOffset(0, 'SAR'), R.chanRegOffset(0, 'DAR'), R.chanRegOffset(0, 'LC0'), R.REG_INT_EVENT_RIS]) {
            expect(f.reg(off)).toBe(st.reg(off));
          }
          expect(f.sched.now).toBe(st.sched.now);
          expect(f.port.bytes).toBe(st.port.bytes);
          expect(f.dmac.channels[0]!.instructions).toBe(st.dmac.channels[0]!.instructions);
        },
      ),
      { numRuns: 200, seed: 0x334 },
    );
  });
});

describe('property: hostile input never throws on the host', () => {
  it('random byte strings as programs (manager via boot and channels)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 96 }), fc.integer({ min: 0, max: 7 }), fc.boolean(), (prog, ch, boot) => {
        const rig = makeRig(boot ? { bootEn: true, bootAddr: PROG, mgrNsAtReset: false } : {}, { ramSize: RAM });
        rig.poke(PROG, prog);
        rig.poke(SRC, new Uint8Array(64).fill(7));
        if (boot) rig.dmac.reset();
        else rig.go(ch, PROG);
        const r = rig.sched.runUntilPredicate(() => !rig.dmac.busy, { maxEvents: 3000, within: 10_000_000 });
        expect(['predicate', 'event-limit', 'time-limit', 'idle']).toContain(r.reason);
        // the abort line mirrors the fault registers
        expect(rig.abort.level).toBe(rig.reg(R.REG_FSRC) !== 0 || rig.reg(R.REG_FSRD) !== 0);
        for (let c = 0; c < 8; c++) rig.kill(c);
        rig.kill();
        expect(rig.abort.level).toBe(false);
      }),
      { numRuns: 300, seed: 0x331 },
    );
  });

  it('random register writes and debug instructions', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 0x3ff }), fc.integer({ min: 0, max: 0xffffffff })), { maxLength: 40 }), (writes) => {
        const rig = makeRig({}, { ramSize: RAM });
        for (const [w, v] of writes) {
          rig.wreg(w * 4, v);
          rig.sched.runUntilIdle(200);
          rig.reg(w * 4);
        }
        expect(rig.reg(R.REG_CR0)).toBe(makeRig().reg(R.REG_CR0));
      }),
      { numRuns: 150, seed: 0x332 },
    );
  });
});
