/**
 * PL330 mem-to-mem copy behind a real SMMU (4 KiB pages, 3-level LPAE tables), built
 * directly on a bus (no kernel model): the DMA path in isolation. `opts.accel` chooses the
 * PL330's and the SMMU's accelerators (default ACCEL_DEFAULT). The dma-copy benchmark
 * measures the same path with every mapping made through VFIO.
 */
import { PhysicalBus, type RamRegion } from '../../emulator/bus.js';
import { IrqLine } from '../../emulator/irq.js';
import { MasterPort } from '../../emulator/master.js';
import { Scheduler } from '../../emulator/scheduler.js';
import { Tracer } from '../../emulator/trace.js';
import { ACCEL_DEFAULT } from '../../emulator/accel.js';
import { Pl330Asm, DMAEND, DMALD, DMAST, DMASEV } from '../../devices/pl330/assembler.js';
import { makeCcr } from '../../devices/pl330/constants.js';
import { Pl330 } from '../../devices/pl330/pl330.js';
import { Smmu } from '../../devices/smmu/smmu.js';
import { bracketRatio, DMA_FULL_TRANSFERS, HostCopy } from './host.js';
import { median, nowMs, registerBench } from './registry.js';
import { programStage1Context } from '../../devices/smmu/setup.js';

export interface DmaSmmuRun {
  bytes: number;
  /** run the same transfer again on the same machine (returns host ms); the copy is checked */
  again(): number;
  hostMs: number;
  virtualNs: number;
  ok: boolean;
  smmu: Smmu;
  sched: Scheduler;
  dmac: Pl330;
  ram: RamRegion;
  tracer: Tracer;
}

/**
 * Copy `bytes` (multiple of 4 KiB) from IOVA 0 to IOVA `bytes` through the SMMU, every IOVA
 * page mapped by its own 4 KiB page descriptor; 16-byte beats x 16 as Linux programs it.
 */
export function runDmaThroughSmmu(
  bytes: number,
  now: () => number,
  opts: { accel?: boolean; trace?: boolean; bulkChunkBytes?: number; scramble?: boolean } = {},
): DmaSmmuRun {
  const pages = Math.ceil(bytes / 4096);
  bytes = pages * 4096;
  const sched = new Scheduler();
  const tracer = new Tracer(() => sched.now, opts.trace ?? false);
  const bus = new PhysicalBus();
  const RAM = 0x80000000;
  // layout: data (2 x bytes), program page, tables (pgd, l2s, l3s)
  const l3Pages = Math.ceil((2 * pages + 1) / 512);
  const l2Pages = Math.ceil(l3Pages / 512);
  const ramSize = 2 * bytes + 4096 + (1 + l2Pages + l3Pages) * 4096;
  const ramR = bus.addRam('ram', RAM, ramSize);
  const ram = ramR;
  const prog = RAM + 2 * bytes;
  const pgd = prog + 4096;
  const l2 = pgd + 4096;
  const l3 = l2 + l2Pages * 4096;
  const w64 = (pa: number, lo: number, hi: number): void => {
    ram.write64(pa - RAM, lo >>> 0, hi >>> 0);
  };
  for (let i = 0; i < l2Pages; i++) w64(pgd + 8 * i, (l2 + i * 4096) | 3, 0);
  for (let i = 0; i < l3Pages; i++) w64(l2 + 8 * i, (l3 + i * 4096) | 3, 0);
  // IOVA page i -> data page (scrambled: physical pages in a different order, as a real
  // allocator gives them) ; the program page is IOVA page 2*pages
  const total = 2 * pages;
  for (let i = 0; i < total; i++) {
    const p = opts.scramble ? (i % 2 === 0 ? i + 1 : i - 1) : i;
    w64(l3 + 8 * i, (RAM + p * 4096) | 0x743, 0); // AF, inner shareable, RW at any EL, nG
  }
  w64(l3 + 8 * total, prog | 0x743, 0);
  const smmu = new Smmu(bus, {
    regSize: 0x10000, numContextBanks: 4, numSmrs: 8, ias: 40, oas: 40,
    globalIrqs: [new IrqLine('g')], contextIrqs: [new IrqLine('c0')], now: () => sched.now, tracer,
    // the SMMU's bulk hooks go with the DMA engine's accelerators (both are accelerators)
    accel: opts.accel ?? ACCEL_DEFAULT,
  });
  programStage1Context(smmu, 1, pgd);
  const port = new MasterPort(bus, 'pl330', smmu);
  const dmac = new Pl330(
    { dataWidthBits: 128, accel: opts.accel ?? ACCEL_DEFAULT, streamId: 1, ...(opts.bulkChunkBytes ? { bulkChunkBytes: opts.bulkChunkBytes } : {}) },
    { scheduler: sched, port, eventIrqs: [new IrqLine('irq0')], abortIrq: new IrqLine('abort'), tracer },
  );
  for (let i = 0; i < bytes; i += 4) ram.write32(i, (i * 2654435761) >>> 0);
  ram.fill(bytes, 0xa5, bytes);
  const a = new Pl330Asm();
  a.mov('CCR', makeCcr({ srcBeatBytes: 16, srcBurstLen: 16 })).mov('SAR', 0).mov('DAR', bytes);
  let left = bytes / 256;
  while (left > 0) {
    if (left >= 256) {
      const outer = Math.min(256, Math.floor(left / 256));
      a.lp(1, outer).lp(0, 256).emit(DMALD()).emit(DMAST()).lpEnd().lpEnd();
      left -= outer * 256;
    } else {
      a.lp(0, left).emit(DMALD()).emit(DMAST()).lpEnd();
      left = 0;
    }
  }
  a.emit(DMASEV(0)).emit(DMAEND());
  ram.writeBytes(prog - RAM, a.toBytes());
  const once = (): number => {
    const t0 = now();
    dmac.startChannel(0, total * 4096);
    sched.runUntilIdle(1e9);
    return now() - t0;
  };
  const hostMs = once();
  let ok = true;
  if (opts.scramble) {
    for (let i = 0; i < pages && ok; i++) {
      const sp = i % 2 === 0 ? i + 1 : i - 1;
      const dp = (pages + i) % 2 === 0 ? pages + i + 1 : pages + i - 1;
      ok = Buffer.compare(ram.readBytes(sp * 4096, 4096), ram.readBytes(dp * 4096, 4096)) === 0;
    }
  } else ok = Buffer.compare(ram.readBytes(0, bytes), ram.readBytes(bytes, bytes)) === 0;
  const again = (): number => {
    ram.fill(bytes, 0x5a, bytes);
    const ms = once();
    if (Buffer.compare(ram.readBytes(0, 4096), ram.readBytes(bytes + (opts.scramble ? 4096 : 0), 4096)) !== 0 && !opts.scramble) ok = false;
    return ms;
  };
  return { bytes, again, hostMs, virtualNs: sched.now, ok, smmu, sched, dmac, ram, tracer };
}

registerBench({
  name: 'dma-direct',
  description: 'the DMA path alone: PL330 copy through a directly programmed SMMU (4 KiB pages, no kernel model); 64 MiB with accelerators, 4 MiB without',
  accelModes: true,
  run(ctx) {
    const bytes = ctx.accel ? (ctx.short ? 16 << 20 : 64 << 20) : ctx.short ? 1 << 20 : 4 << 20;
    const r = runDmaThroughSmmu(bytes, nowMs, { accel: ctx.accel });
    const host = new HostCopy(bytes);
    const ms: number[] = [];
    const ratios: number[] = [];
    const hostMs: number[] = [];
    for (let i = 0; i < (ctx.accel ? (ctx.short ? 4 : DMA_FULL_TRANSFERS) : ctx.short ? 1 : 3); i++) {
      // a host copy of the same size right before and right after each transfer
      const before = host.time();
      const dma = r.again();
      const after = host.time();
      ms.push(dma);
      hostMs.push(before, after);
      ratios.push(bracketRatio(before, dma, after));
    }
    if (!r.ok) throw new Error('dma-direct: destination differs from source');
    // the first transfers warm the JIT up: the figures are the medians of the second half
    // (host.ts DMA_FULL_TRANSFERS)
    const warm = ms.length >> 1;
    const dmaBps = bytes / (median(ms.slice(warm)) / 1000);
    // the same 1 MiB transfer (first run, cold TLB) in every mode: same virtual time
    const refNs = bytes === 1 << 20 ? r.virtualNs : runDmaThroughSmmu(1 << 20, nowMs, { accel: ctx.accel }).virtualNs;
    return [
      { name: 'throughput', value: dmaBps / 1e6, unit: 'MB/s', higherIsBetter: true, note: `${bytes >> 20} MiB transfers` },
      { name: 'ratio-to-host-copy', value: median(ratios.slice(warm)), unit: 'x', higherIsBetter: true, note: 'host copy of the same size right before and after each transfer, same process', ...(ctx.accel ? { target: { op: '>=', value: 0.6 } as const } : {}) },
      { name: 'host-copy', value: bytes / (median(hostMs.slice(2 * warm)) / 1000) / 1e6, unit: 'MB/s', higherIsBetter: true },
      { name: 'virtual-time-1MiB', value: refNs / 1e6, unit: 'ms', higherIsBetter: false, sameInAllModes: true },
    ];
  },
});

/** transfer sizes of dma-sizes (bytes) */
export const DMA_SIZES = [4 << 10, 64 << 10, 1 << 20, 16 << 20, 64 << 20, 256 << 20];

const sizeName = (b: number): string => (b >= 1 << 20 ? `${b >> 20}MiB` : `${b >> 10}KiB`);

/**
 * Least-squares line t = fixed + perByte x bytes through (bytes, ms) points, and the largest
 * relative distance of a point of at least `fromBytes` from it (0 for a perfectly linear cost).
 */
export function linearFit(points: [number, number][], fromBytes: number): { fixedMs: number; msPerByte: number; maxDev: number } {
  const n = points.length;
  let sx = 0;
  let sy = 0;
  for (const [x, y] of points) {
    sx += x;
    sy += y;
  }
  const mx = sx / n;
  const my = sy / n;
  let sxy = 0;
  let sxx = 0;
  for (const [x, y] of points) {
    sxy += (x - mx) * (y - my);
    sxx += (x - mx) * (x - mx);
  }
  const msPerByte = sxx > 0 ? sxy / sxx : 0;
  const fixedMs = my - msPerByte * mx;
  let maxDev = 0;
  for (const [x, y] of points) {
    if (x < fromBytes) continue;
    const fit = fixedMs + msPerByte * x;
    maxDev = Math.max(maxDev, Math.abs(y - fit) / fit);
  }
  return { fixedMs, msPerByte, maxDev };
}

/**
 * dma-sizes: the dma-direct transfer for 4 KiB .. 256 MiB (16 MiB in short mode): host ms
 * per transfer (median of the warm repetitions), host ns per KiB (constant when the cost is
 * linear in the size), the same-process ratio to the host copy, and the virtual time; then
 * the linearity summary: a least-squares line through (size, host ms) over all sizes (its
 * fixed cost per transfer and its ns per KiB), the largest distance of a size >= 1 MiB from
 * that line, and the same line for the bracketing host copies (what the machine's memory
 * does at each size), and virtual ns per KiB at the smallest and largest size.
 */
registerBench({
  name: 'dma-sizes',
  description: 'dma-direct for 4 KiB .. 256 MiB: host time per transfer and per KiB (linearity), ratio to a bracketing host copy, virtual time',
  run(ctx) {
    const out = [];
    const dmaPts: [number, number][] = [];
    const hostPts: [number, number][] = [];
    const virt: number[] = [];
    const sizes = DMA_SIZES.filter((b) => !ctx.short || b <= 16 << 20);
    for (const bytes of sizes) {
      const r = runDmaThroughSmmu(bytes, nowMs, { accel: ctx.accel });
      const host = new HostCopy(bytes);
      // enough repetitions that the small sizes are not one timer tick
      const reps = Math.max(6, Math.min(400, Math.round((64 << 20) / bytes)));
      const ms: number[] = [];
      const ratios: number[] = [];
      const hms: number[] = [];
      for (let i = 0; i < reps; i++) {
        const before = host.time();
        const dma = r.again();
        const after = host.time();
        ms.push(dma);
        hms.push((before + after) / 2);
        ratios.push(bracketRatio(before, dma, after));
      }
      if (!r.ok) throw new Error(`dma-sizes: ${bytes} bytes: destination differs from source`);
      const w = reps >> 1;
      const t = median(ms.slice(w));
      dmaPts.push([bytes, t]);
      hostPts.push([bytes, median(hms.slice(w))]);
      virt.push(r.virtualNs);
      const n = sizeName(bytes);
      out.push(
        { name: `time-${n}`, value: t, unit: 'ms', higherIsBetter: false },
        { name: `ns-per-KiB-${n}`, value: (t * 1e6) / (bytes / 1024), unit: 'ns/KiB', higherIsBetter: false },
        { name: `ratio-${n}`, value: median(ratios.slice(w)), unit: 'x', higherIsBetter: true },
        { name: `virtual-${n}`, value: r.virtualNs / 1e6, unit: 'ms', higherIsBetter: false, note: 'virtual time of the first transfer' },
      );
    }
    const fit = linearFit(dmaPts, 1 << 20);
    const hfit = linearFit(hostPts, 1 << 20);
    const last = sizes.length - 1;
    out.push(
      { name: 'fit-fixed-us', value: fit.fixedMs * 1000, unit: 'us', higherIsBetter: false, note: 'least-squares line through (size, host ms), all sizes: cost per transfer independent of size' },
      { name: 'fit-ns-per-KiB', value: (fit.msPerByte * 1e6) * 1024, unit: 'ns/KiB', higherIsBetter: false, note: 'slope of that line' },
      { name: 'fit-max-deviation', value: fit.maxDev, unit: 'x', higherIsBetter: false, note: 'largest |time - line| / line over sizes >= 1 MiB: 0 when linear' },
      { name: 'host-copy-fit-ns-per-KiB', value: (hfit.msPerByte * 1e6) * 1024, unit: 'ns/KiB', higherIsBetter: false, note: 'the bracketing host copies, same fit' },
      { name: 'host-copy-fit-max-deviation', value: hfit.maxDev, unit: 'x', higherIsBetter: false, note: 'how linear the host copy itself is on this machine' },
      { name: 'virtual-ns-per-KiB-smallest', value: virt[0]! / (sizes[0]! / 1024), unit: 'ns/KiB', higherIsBetter: false },
      { name: 'virtual-ns-per-KiB-largest', value: virt[last]! / (sizes[last]! / 1024), unit: 'ns/KiB', higherIsBetter: false },
    );
    return out;
  },
});
