/**
 * Host-speed benchmark of the SMMU translation path: translations per second on TLB hits
 * and on TLB misses (full 3-level walk on every access). Run with
 *   npm run bench -- --only smmu-walk (tools/bench/smmu-walk.ts)
 * Host timing is only used to report the benchmark, never inside the model.
 */
import { ACCEL_DEFAULT } from '../../emulator/accel.js';
import { makeAttrs } from '../../emulator/attrs.js';
import { PhysicalBus } from '../../emulator/bus.js';
import { IrqLine } from '../../emulator/irq.js';
import { newTranslationResult } from '../../emulator/master.js';
import * as R from './regs.js';
import { Smmu } from './smmu.js';
import { programStage1Context } from './setup.js';

export interface SmmuBenchResult {
  hitsPerSec: number;
  missesPerSec: number;
  /** fraction of the miss-loop accesses that really walked (should be ~1) */
  walkFraction: number;
  iterations: number;
}

/** `hostNow` is the caller's host clock (tools/ own it; the model never reads one) */
export function measureSmmuThroughput(iterations: number, hostNow: () => number, accel = ACCEL_DEFAULT): SmmuBenchResult {
  const bus = new PhysicalBus();
  const RAM = 0x80000000;
  bus.addRam('ram', RAM, 0x0100_0000);
  const ctxIrq = new IrqLine('ctx');
  const smmu = new Smmu(bus, {
    regSize: 0x10000, numContextBanks: 4, numSmrs: 8, ias: 40, oas: 40,
    globalIrqs: [new IrqLine('g')], contextIrqs: [ctxIrq], accel,
  });
  const w64 = (pa: number, lo: number, hi: number) => {
    bus.write(pa, 4, lo >>> 0, 0);
    bus.write(pa + 4, 4, hi >>> 0, 0);
  };
  // tables: pgd -> one L2 -> one L3 with 512 pages (2 MiB of IOVA at 0)
  const pgd = RAM + 0x10_0000;
  const l2 = pgd + 0x1000;
  const l3 = pgd + 0x2000;
  w64(pgd, (l2 | 3) >>> 0, 0);
  w64(l2, (l3 | 3) >>> 0, 0);
  for (let i = 0; i < 512; i++) w64(l3 + 8 * i, ((RAM + 0x20_0000 + i * 0x1000) | 0x743) >>> 0, 0);
  programStage1Context(smmu, 1, pgd);
  const out = newTranslationResult();
  const attrs = makeAttrs({ streamId: 1 });

  // hits: 16 pages, all resident in a 128-entry TLB
  for (let i = 0; i < 16; i++) smmu.translate(i * 0x1000, attrs, out);
  let t0 = hostNow();
  let sink = 0;
  for (let i = 0; i < iterations; i++) {
    smmu.translate(((i & 15) << 12) | (i & 0xff0), attrs, out);
    sink += out.pa;
  }
  const hitSec = (hostNow() - t0) / 1000;

  // misses: cycle through 512 pages; each TLB set sees 16 distinct pages in turn with
  // round-robin replacement, so every access misses and walks 3 levels
  const missIters = Math.max(1, iterations >> 2);
  smmu.write(0x8000 + R.CB_TLBIALL, 4, 0, 0);
  smmu.write(0x8000 + R.CB_TLBSYNC, 4, 0, 0);
  const walks0 = smmu.stats.walks;
  t0 = hostNow();
  for (let i = 0; i < missIters; i++) {
    smmu.translate((i & 511) << 12, attrs, out);
    sink += out.pa;
  }
  const missSec = (hostNow() - t0) / 1000;
  const walkFraction = (smmu.stats.walks - walks0) / missIters;
  if (sink === -1) throw new Error('unreachable');
  return { hitsPerSec: iterations / hitSec, missesPerSec: missIters / missSec, walkFraction, iterations };
}
