/**
 * 1. dma-copy: a 64 MiB mem-to-mem PL330 transfer through the SMMU with 4 KiB pages, every
 * mapping made through VFIO (MAP_DMA of anonymous memory) by a guest program in one
 * process; host bytes/s of the transfer (DBGCMD write to the completion eventfd) and its
 * ratio to a plain host copy of the same size measured in the same process.
 */
import {
  EFD_CLOEXEC,
  EFD_NONBLOCK,
  MAP_SHARED,
  PROT_READ,
  PROT_WRITE,
  VFIO_DEVICE_GET_REGION_INFO,
  VFIO_DEVICE_SET_IRQS,
  VFIO_DMA_MAP_FLAG_EXEC,
  VFIO_DMA_MAP_FLAG_READ,
  VFIO_DMA_MAP_FLAG_WRITE,
  VFIO_IOMMU_MAP_DMA,
  VFIO_IRQ_SET_DATA_NONE,
  VFIO_IRQ_SET_ACTION_UNMASK,
  timeval,
  vfio_iommu_type1_dma_map,
  vfio_irq_set,
  vfio_region_info,
  type GuestProgram,
  type Sys,
} from '../../kernel-model/uapi/index.js';
import { Libc } from '../../guest-tests/lib/libc.js';
import { setIrqTrigger } from '../../guest-tests/lib/vfio.js';
import { dbgInst0, dbgInst1, dmaGo, memToMemProgram } from '../../guest-tests/lib/pl330-prog.js';
import type { Smmu } from '../../devices/smmu/smmu.js';
import { bracketRatio, DMA_FULL_TRANSFERS, HostCopy } from './host.js';
import { median, nowMs, registerBench } from './registry.js';
import { bootBound, openVfio } from './vfio-setup.js';

export interface DmaCopyResult {
  bytes: number;
  /** host ms per transfer, one per repetition */
  hostMs: number[];
  /** host copy of the same size / transfer, per repetition (host copies right before and after it) */
  ratios: number[];
  /** host ms of the bracketing host copies (two per repetition) */
  hostCopyMs: number[];
  /** virtual ns of the last transfer */
  virtualNs: number;
  ok: boolean;
  smmuWalks: number;
}

/** Boot, bind, map through VFIO, run `reps` transfers of `bytes`; host time of each. */
export function runDmaCopy(bytes: number, reps: number): DmaCopyResult {
  const { sys, groupPath } = bootBound();
  const hostMs: number[] = [];
  const ratios: number[] = [];
  const hostCopyMs: number[] = [];
  const host = new HostCopy(bytes);
  let virtualNs = 0;
  let ok = true;
  let failure = '';
  const main = function* (s: Sys): GuestProgram {
    const libc = new Libc(s);
    if ((yield* libc.init(256 * 1024)) < 0) return 1;
    const m = s.mem;
    const h = yield* openVfio(s, libc, groupPath);
    if (typeof h === 'number') return 2;
    const progBytes = 4096 * Math.ceil((64 + 16 * Math.ceil(bytes / 65536)) / 4096);
    const areas = [{ len: bytes, iova: 0, vaddr: 0 }, { len: bytes, iova: bytes, vaddr: 0 }, { len: progBytes, iova: 2 * bytes, vaddr: 0 }];
    for (const a of areas) {
      a.vaddr = yield* libc.mmapAnon(a.len);
      if (a.vaddr < 0) return 3;
      const map = libc.malloc(vfio_iommu_type1_dma_map.minsz);
      m.write32(map + vfio_iommu_type1_dma_map.argsz, vfio_iommu_type1_dma_map.minsz);
      // the program area is fetched by the DMAC: executable (the RFC's EXEC flag, rfc-v4)
      m.write32(map + vfio_iommu_type1_dma_map.flags, VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE | (a === areas[2] ? VFIO_DMA_MAP_FLAG_EXEC : 0));
      libc.write64(map + vfio_iommu_type1_dma_map.vaddr, a.vaddr >>> 0);
      libc.write64(map + vfio_iommu_type1_dma_map.iova, a.iova);
      libc.write64(map + vfio_iommu_type1_dma_map.size, a.len);
      if ((yield* s.ioctl(h.container, VFIO_IOMMU_MAP_DMA, map)) !== 0) return 4;
    }
    const [src, dst, inst] = areas as [typeof areas[0], typeof areas[0], typeof areas[0]];
    const reg = libc.malloc(vfio_region_info.minsz);
    m.write32(reg, vfio_region_info.minsz);
    m.write32(reg + vfio_region_info.index, 0);
    if ((yield* s.ioctl(h.device, VFIO_DEVICE_GET_REGION_INFO, reg)) !== 0) return 5;
    const base = yield* s.mmap(0, libc.read64(reg + vfio_region_info.size), PROT_READ | PROT_WRITE, MAP_SHARED, h.device, libc.read64(reg + vfio_region_info.offset));
    if (base < 0) return 6;
    const irqfd = yield* s.eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if ((yield* setIrqTrigger(s, libc, h.device, 0, irqfd)) !== 0) return 7;
    // source data in 1 MiB blocks (a generator, not a per-word loop)
    const block = new Uint8Array(1 << 20);
    let x = 0x12345678;
    for (let off = 0; off < bytes; off += block.length) {
      const n = Math.min(block.length, bytes - off);
      for (let i = 0; i < n; i += 4) {
        x = (Math.imul(x, 1103515245) + 12345) >>> 0;
        block[i] = x >>> 24;
        block[i + 1] = x >>> 16;
        block[i + 2] = x >>> 8;
        block[i + 3] = x;
      }
      m.writeBytes(src.vaddr + off, block.subarray(0, n));
    }
    m.writeBytes(inst.vaddr, Uint8Array.from(memToMemProgram({ src: src.iova, dst: dst.iova, size: bytes, burstBytes: 16, burstLen: 16, event: 0 }).bytes));
    const reg32 = (off: number): number => (base + off) >>> 0;
    const tv = libc.malloc(timeval.size);
    const fdset = libc.malloc(128);
    const ebuf = libc.malloc(8);
    for (let r = 0; r < reps; r++) {
      if (r === 0 || r === reps - 1) m.fill(dst.vaddr, 0, bytes);
      m.write32(reg32(0x020), 1); // INTEN: event 0
      const go = dmaGo(0, inst.iova, true);
      const before = host.time();
      const t0 = nowMs();
      const v0 = sys.now;
      m.write32(reg32(0xd08), dbgInst0(go, 'manager'));
      m.write32(reg32(0xd0c), dbgInst1(go));
      m.write32(reg32(0xd04), 0);
      m.fill(fdset, 0, 128);
      m.write32(fdset + 4 * (irqfd >> 5), 1 << (irqfd & 31));
      m.write32(tv + timeval.tv_sec, 10);
      m.write32(tv + timeval.tv_usec, 0);
      const sel = yield* s.select(irqfd + 1, fdset, 0, 0, tv);
      const dma = nowMs() - t0;
      const after = host.time();
      hostMs.push(dma);
      ratios.push(bracketRatio(before, dma, after));
      hostCopyMs.push(before, after);
      virtualNs = sys.now - v0;
      if (sel <= 0) {
        failure = `no completion interrupt: select ${sel}, CSR0 0x${m.read32(reg32(0x100)).toString(16)}, FSRC 0x${m.read32(reg32(0x034)).toString(16)}, FTR0 0x${m.read32(reg32(0x040)).toString(16)}`;
        return 8;
      }
      yield* s.read(irqfd, ebuf, 8);
      m.write32(reg32(0x02c), 1); // INTCLR
      // VFIO automasks the level interrupt: unmask for the next repetition
      const um = libc.malloc(vfio_irq_set.minsz);
      m.write32(um + vfio_irq_set.argsz, vfio_irq_set.minsz);
      m.write32(um + vfio_irq_set.flags, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_UNMASK);
      m.write32(um + vfio_irq_set.index, 0);
      m.write32(um + vfio_irq_set.start, 0);
      m.write32(um + vfio_irq_set.count, 1);
      yield* s.ioctl(h.device, VFIO_DEVICE_SET_IRQS, um);
      // verify the first and the last transfer (the others only cost benchmark time)
      if (r !== 0 && r !== reps - 1) continue;
      for (let off = 0; off < bytes && ok; off += 1 << 20) {
        const n = Math.min(1 << 20, bytes - off);
        if (Buffer.compare(m.readBytes(src.vaddr + off, n), m.readBytes(dst.vaddr + off, n)) !== 0) ok = false;
      }
    }
    return 0;
  };
  const { thread } = sys.spawn('dma-copy', main, { stdio: true, memlock: 2 * bytes + (16 << 20) });
  const res = sys.runUntilExited([thread], 100_000_000_000, 1_000_000_000);
  if (thread.exit?.status !== 0) throw new Error(`dma-copy guest program failed: exit ${JSON.stringify(thread.exit)} (${res.reason}) ${failure}`);
  const smmu = sys.machine.deviceByLabel('smmu')?.mmio[0] as Smmu | undefined;
  return { bytes, hostMs, ratios, hostCopyMs, virtualNs, ok, smmuWalks: smmu?.stats.walks ?? -1 };
}

/** bytes of the transfer whose virtual time both accelerator modes must agree on */
export const DMA_REFERENCE_BYTES = 1 << 20;

registerBench({
  name: 'dma-copy',
  description: 'PL330 mem-to-mem copy through the SMMU (4 KiB pages, mapped with VFIO MAP_DMA): host bytes/s and ratio to a host copy; 64 MiB with accelerators, 4 MiB without',
  accelModes: true,
  run(ctx) {
    // without accelerators every instruction is a scheduler event: a smaller transfer keeps
    // the run short; throughput (bytes/s) stays comparable
    const bytes = ctx.accel ? (ctx.short ? 16 << 20 : 64 << 20) : ctx.short ? DMA_REFERENCE_BYTES : 4 << 20;
    const reps = ctx.accel ? (ctx.short ? 6 : DMA_FULL_TRANSFERS) : ctx.short ? 2 : 4;
    const r = runDmaCopy(bytes, reps);
    if (!r.ok) throw new Error('dma-copy: destination differs from source');
    // the first transfers warm the JIT up: the figures are medians of the second half (the
    // runner reports the median across process repetitions); see host.ts DMA_FULL_TRANSFERS
    const w = Math.floor(reps / 2);
    const dmaBps = bytes / (median(r.hostMs.slice(w)) / 1000);
    const hostBps = bytes / (median(r.hostCopyMs.slice(2 * w)) / 1000);
    // the same 1 MiB transfer (freshly booted, first transfer) in every mode: its virtual
    // time must not depend on the accelerators
    const refNs = runDmaCopy(DMA_REFERENCE_BYTES, 1).virtualNs;
    return [
      { name: 'throughput', value: dmaBps / 1e6, unit: 'MB/s', higherIsBetter: true, note: `${bytes >> 20} MiB transfers` },
      { name: 'ratio-to-host-copy', value: median(r.ratios.slice(w)), unit: 'x', higherIsBetter: true, note: 'host copy of the same size right before and after each transfer, same process', ...(ctx.accel ? { target: { op: '>=', value: 0.6 } as const } : {}) },
      ...(ctx.accel && !ctx.short ? [{ name: 'ratio-transfers-6-11', value: median(r.ratios.slice(6, 12)), unit: 'x', higherIsBetter: true, note: 'the window of 12-transfer runs (until 2026-12-03): V8 is still compiling the DMA path there' }] : []),
      { name: 'host-copy', value: hostBps / 1e6, unit: 'MB/s', higherIsBetter: true },
      { name: 'virtual-time', value: r.virtualNs / 1e6, unit: 'ms', higherIsBetter: false, note: `the last ${bytes >> 20} MiB transfer` },
      { name: 'virtual-time-1MiB', value: refNs / 1e6, unit: 'ms', higherIsBetter: false, sameInAllModes: true },
    ];
  },
});
