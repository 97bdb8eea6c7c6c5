/**
 * The benchmarks' workloads are correct (no timing is asserted: machines are noisy).
 */
import { describe, expect, it } from 'vitest';
import { runDmaCopy } from './dma-copy.js';
import { linearFit, runDmaThroughSmmu } from './dma-smmu.js';
import { measureIoctlRates } from './ioctl-rate.js';
import { measureBoot } from './boot.js';
import { decodeFigures, encodeFigures, formatFigureValue, listBenches, skippedFigure } from './registry.js';
import { coverageFigures, mainlineFigures, rateFigures } from './fuzz-coverage.js';
import type { CoverageBenchOutput, ModeResult } from '../fuzz/coverage/bench-main.js';
import { steadyRate } from './fuzz.js';
import { chaseCycle, memoryLatencyNs } from './host.js';
import './index.js';

/** a fuzz-cov-bench output of rfc-v4 with the given [random, guided] results for seeds 1, 2, ... */
function covOut(syscalls: number, seeds: [ModeResult, ModeResult][]): CoverageBenchOutput {
  return { profile: 'rfc-v4', syscalls, kernelModelSites: 4000, iommufdSites: 700, seeds: seeds.map(([random, guided], i) => ({ seed: i + 1, random, guided })) };
}

describe('bench workloads', () => {
  it('registers the issue-11 benchmarks', () => {
    const names = listBenches().map((b) => b.name);
    for (const n of ['dma-copy', 'ioctl-rate', 'smmu-walk', 'memory', 'unicorn', 'dma-direct', 'host-copy', 'cli-startup', 'dma-sizes', 'fuzz-rate', 'fuzz-jobs', 'fuzz-coverage']) expect(names).toContain(n);
  });

  it('fuzz-jobs: the steady rate is read off one campaign\'s timeline from the first point at or after the warm-up', () => {
    const tl: [number, number][] = [[5, 10], [1000, 100], [15_200, 1000], [20_000, 1500], [35_200, 3000]];
    expect(steadyRate(tl, 15_000)).toBeCloseTo(2000 / 20, 9);
    expect(steadyRate(tl, 0)).toBeCloseTo(2990 / 35.195, 9);
    expect(steadyRate(tl, 35_200)).toBeNaN();
    expect(steadyRate(tl, 40_000)).toBeNaN();
    expect(steadyRate([], 0)).toBeNaN();
  });

  it('fuzz-coverage: medians over seeds, the gain in %, per finding guided/random of the median syscalls (not found = Infinity)', () => {
    const mode = (kernelModel: number, foundAt: Record<string, number>) => ({ kernelModel, iommufd: 0, all: kernelModel, genExecs: 100, runs: 5, corpus: 0, foundAt });
    const out = covOut(100, [
      [mode(100, { a: 10, b: 50 }), mode(120, { a: 5 })],
      [mode(110, { a: 30 }), mode(110, { a: 20, b: 40 })],
      [mode(90, { a: 20, b: 60 }), mode(130, { a: 40, b: 30 })],
    ]);
    const f = Object.fromEntries(coverageFigures(out, ['a', 'b']).map((x) => [x.name, x.value]));
    expect(f['km-branches-random']).toBe(100);
    expect(f['km-branches-guided']).toBe(120);
    expect(f['km-branch-gain']).toBeCloseTo(20);
    expect(f['to-find/a']).toBe(1); // medians 20 and 20
    expect(f['to-find/b']).toBe(40 / 60); // random [50, inf, 60] -> 60; guided [inf, 40, 30] -> 40
    expect(f['findings-found-sooner']).toBe(1);
    // the target is the full mode's; --short's few seeds give a smoke figure without it
    const target = (smoke: boolean) => coverageFigures(out, ['a', 'b'], smoke).find((x) => x.name === 'findings-found-sooner')!.target;
    expect(target(false)).toEqual({ op: '>=', value: 2 });
    expect(target(true)).toBeUndefined();
  });

  it('fuzz-coverage mainline: medians over seeds of kernel-model and iommufd sites reached per mode, and both gains', () => {
    const mode = (kernelModel: number, iommufd: number) => ({ kernelModel, iommufd, all: kernelModel, genExecs: 100, runs: 5, corpus: 0, foundAt: {} });
    const out = { ...covOut(40_000, [[mode(2000, 400), mode(2400, 500)], [mode(1900, 300), mode(2300, 450)], [mode(2100, 350), mode(2200, 600)]]), profile: 'mainline' };
    const figs = mainlineFigures(out);
    const f = Object.fromEntries(figs.map((x) => [x.name, x.value]));
    expect(f['mainline/km-branches-random']).toBe(2000);
    expect(f['mainline/km-branches-guided']).toBe(2300);
    expect(f['mainline/km-branch-gain']).toBeCloseTo(15);
    expect(f['mainline/iommufd-branches-random']).toBe(350);
    expect(f['mainline/iommufd-branches-guided']).toBe(500);
    expect(f['mainline/iommufd-branch-gain']).toBeCloseTo((150 / 350) * 100);
    expect(figs[0]!.note).toContain('700 in kernel-model/iommu/iommufd');
  });

  it('fuzz-coverage rates: runs showing a finding per 10,000 generated syscalls, summed over seeds; guided/random; how many guided hits more often', () => {
    const mode = (genExecs: number, hitRuns: Record<string, number>) => ({ kernelModel: 0, iommufd: 0, all: 0, genExecs, runs: 5, corpus: 0, foundAt: {}, hitRuns });
    const out = covOut(20_000, [
      [mode(20_000, { a: 4, b: 2 }), mode(10_000, { a: 6 })],
      [mode(20_000, { a: 6, c: 1 }), mode(10_000, { a: 4, b: 1, c: 1 })],
    ]);
    const figs = rateFigures(out, ['a', 'b', 'c']);
    const f = Object.fromEntries(figs.map((x) => [x.name, x.value]));
    expect(f['rate/a']).toBeCloseTo(5 / 2.5, 9); // random 10 hits / 40,000 -> 2.5; guided 10 / 20,000 -> 5
    expect(f['rate/b']).toBeCloseTo(0.5 / 0.5, 9); // random 2 / 40,000, guided 1 / 20,000: equal, not more often
    expect(f['rate/c']).toBeCloseTo(0.5 / 0.25, 9);
    expect(figs.find((x) => x.name === 'rate/a')!.note).toBe('runs showing it per 10,000 syscalls: random 2.50, guided 5.00');
    expect(f['findings-hit-more-often']).toBe(2);
    expect(figs.find((x) => x.name === 'findings-hit-more-often')!.target).toEqual({ op: '>=', value: 3 });
    expect(rateFigures(out, ['a'], true).find((x) => x.name === 'findings-hit-more-often')!.target).toBeUndefined();
    // a finding random never hit: guided/random is Infinity when guided did, 1 when neither did
    expect(rateFigures(out, ['d']).find((x) => x.name === 'rate/d')!.value).toBe(1);
    const onlyGuided = covOut(20_000, [[mode(20_000, {}), mode(10_000, { e: 1 })]]);
    expect(rateFigures(onlyGuided, ['e']).find((x) => x.name === 'rate/e')!.value).toBe(Infinity);
  });

  it('figures cross the child -> runner line with their non-finite values (Infinity, NaN), and the table prints them', () => {
    const figs = [
      { name: 'a', value: Infinity, unit: 'x', higherIsBetter: true },
      { name: 'b', value: -Infinity, unit: 'x', higherIsBetter: true },
      skippedFigure('c', 'ms', 'no backend'),
      { name: 'd', value: 0.125, unit: 'x', higherIsBetter: true, note: 'n' },
    ];
    const back = decodeFigures(encodeFigures(figs));
    expect(back.map((f) => f.value)).toEqual([Infinity, -Infinity, NaN, 0.125]);
    expect(back[2]).toMatchObject({ skipped: true, note: 'no backend' });
    expect(back[3]).toEqual(figs[3]);
    expect(JSON.parse(JSON.stringify([figs[0]]))[0].value).toBeNull(); // what the plain line lost
    expect(() => decodeFigures('[{"name":"x","value":null}]')).toThrow(/figure x has value null/);
    expect(() => decodeFigures('{}')).toThrow(/not a list of figures/);
    expect([Infinity, NaN, 1234.5, 0.012345].map(formatFigureValue)).toEqual(['Infinity', 'NaN', '1235', '0.01235']);
  });

  it('host memory-latency control: one cycle through every slot, so each load depends on the last and none repeats early', () => {
    for (const n of [1, 2, 7, 4096]) {
      const next = chaseCycle(n);
      const seen = new Uint8Array(n);
      let p = 0;
      for (let i = 0; i < n; i++) {
        expect(seen[p]).toBe(0);
        seen[p] = 1;
        p = next[p]!;
      }
      expect(p).toBe(0);
    }
    expect([...chaseCycle(4096)]).toEqual([...chaseCycle(4096)]);
    expect(memoryLatencyNs(1 << 12, 1 << 12)).toBeGreaterThan(0);
  });

  it('boot: System reports its boot phases in order, once each, and the first process runs to exit 0', () => {
    const s = measureBoot('mainline');
    expect(Object.keys(s.phases)).toEqual(['dt-parse', 'machine', 'kernel-init', 'kernel-boot', 'userspace']);
    for (const v of Object.values(s.phases)) expect(v).toBeGreaterThanOrEqual(0);
    const sum = Object.values(s.phases).reduce((a, b) => a + b, 0);
    expect(sum).toBeLessThanOrEqual(s.totalMs + 1e-6);
    expect(listBenches().map((b) => b.name)).toContain('boot');
  });

  it('the DMA benchmarks run with accelerators on and off', () => {
    for (const n of ['dma-copy', 'dma-direct']) expect(listBenches().find((b) => b.name === n)?.accelModes).toBe(true);
  });

  it('dma-direct: the copy through the SMMU is right, and batched == step (time, SMMU statistics)', () => {
    let t = 0;
    const clock = (): number => t++;
    const fast = runDmaThroughSmmu(256 << 10, clock, { accel: true, scramble: true });
    const step = runDmaThroughSmmu(256 << 10, clock, { accel: false, scramble: true });
    expect(fast.ok).toBe(true);
    expect(step.ok).toBe(true);
    expect(fast.virtualNs).toBe(step.virtualNs);
    expect(fast.smmu.stats).toEqual(step.smmu.stats);
    expect(fast.smmu.dumpTlb()).toEqual(step.smmu.dumpTlb());
    expect(fast.smmu.stats.walks).toBe(1 + 2 * 64); // program page + 64 source + 64 destination pages
  });

  it('dma-copy: a VFIO-mapped transfer completes with the destination equal to the source', () => {
    const r = runDmaCopy(256 << 10, 2);
    expect(r.ok).toBe(true);
    expect(r.hostMs.length).toBe(2);
    // every transfer is bracketed by two host copies of the same size
    expect(r.hostCopyMs.length).toBe(4);
    expect(r.ratios.length).toBe(2);
    for (const x of r.ratios) expect(x).toBeGreaterThan(0);
    expect(r.virtualNs).toBeGreaterThan(0);
    expect(r.smmuWalks).toBeGreaterThan(2 * 64); // at least the first transfer walks every page
  });

  it('ioctl-rate: the ioctls succeed (rates are positive)', () => {
    const r = measureIoctlRates(200);
    expect(r.regionInfoInvokePerSec).toBeGreaterThan(0);
    expect(r.regionInfoSysPerSec).toBeGreaterThan(0);
    expect(r.mapUnmapPairsPerSec).toBeGreaterThan(0);
  });

  it('dma-sizes linearity: the least-squares line and the deviation of the large sizes from it', () => {
    const line = [4096, 1 << 20, 16 << 20, 256 << 20].map((b): [number, number] => [b, 0.03 + b * 1e-7]);
    const f = linearFit(line, 1 << 20);
    expect(f.fixedMs).toBeCloseTo(0.03, 9);
    expect(f.msPerByte).toBeCloseTo(1e-7, 15);
    expect(f.maxDev).toBeLessThan(1e-9);
    // 16 MiB twice as slow as the line: a clear deviation
    const bent = line.map(([b, t]): [number, number] => [b, b === 16 << 20 ? 2 * t : t]);
    expect(linearFit(bent, 1 << 20).maxDev).toBeGreaterThan(0.5);
  });
});
