/**
 * 2. ioctl-rate: VFIO ioctls per second through the syscall layer, on a booted system
 * with the PL330 bound to vfio-platform:
 *  - GET_REGION_INFO through `SyscallLayer.invoke` (the register-based syscall entry that
 *    the Unicorn backend and the fuzzer use) and through the generator `Sys` API of a guest
 *    program (each call is a preemption point of the stub CPU);
 *  - MAP_DMA + UNMAP_DMA pairs of one 4 KiB page (invoke entry).
 */
import {
  VFIO_DEVICE_GET_REGION_INFO,
  VFIO_DMA_MAP_FLAG_READ,
  VFIO_DMA_MAP_FLAG_WRITE,
  VFIO_IOMMU_MAP_DMA,
  VFIO_IOMMU_UNMAP_DMA,
  vfio_iommu_type1_dma_map,
  vfio_iommu_type1_dma_unmap,
  vfio_region_info,
  type GuestProgram,
  type Sys,
} from '../../kernel-model/uapi/index.js';
import type { Process } from '../../kernel-model/process/process.js';
import { Libc } from '../../guest-tests/lib/libc.js';
import { nowMs, registerBench } from './registry.js';
import { bootBound, openVfio } from './vfio-setup.js';

export interface IoctlRates {
  regionInfoInvokePerSec: number;
  regionInfoSysPerSec: number;
  mapUnmapPairsPerSec: number;
}

export function measureIoctlRates(n: number): IoctlRates {
  const { sys, groupPath } = bootBound();
  let proc: Process | null = null;
  const out: IoctlRates = { regionInfoInvokePerSec: 0, regionInfoSysPerSec: 0, mapUnmapPairsPerSec: 0 };
  let failure = '';
  const main = function* (s: Sys): GuestProgram {
    const libc = new Libc(s);
    if ((yield* libc.init(64 * 1024)) < 0) return 1;
    const m = s.mem;
    const h = yield* openVfio(s, libc, groupPath);
    if (typeof h === 'number') return 2;
    const reg = libc.malloc(vfio_region_info.minsz);
    m.write32(reg, vfio_region_info.minsz);
    m.write32(reg + vfio_region_info.index, 0);
    const page = yield* libc.mmapAnon(4096);
    const map = libc.malloc(vfio_iommu_type1_dma_map.minsz);
    m.write32(map + vfio_iommu_type1_dma_map.argsz, vfio_iommu_type1_dma_map.minsz);
    m.write32(map + vfio_iommu_type1_dma_map.flags, VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE);
    libc.write64(map + vfio_iommu_type1_dma_map.vaddr, page >>> 0);
    libc.write64(map + vfio_iommu_type1_dma_map.iova, 0x100000);
    libc.write64(map + vfio_iommu_type1_dma_map.size, 4096);
    const unmap = libc.malloc(vfio_iommu_type1_dma_unmap.minsz);
    m.write32(unmap + vfio_iommu_type1_dma_unmap.argsz, vfio_iommu_type1_dma_unmap.minsz);
    m.write32(unmap + vfio_iommu_type1_dma_unmap.flags, 0);
    libc.write64(unmap + vfio_iommu_type1_dma_unmap.iova, 0x100000);
    libc.write64(unmap + vfio_iommu_type1_dma_unmap.size, 4096);
    const sc = sys.syscalls;
    const p = proc!;
    const regionArgs = [h.device, VFIO_DEVICE_GET_REGION_INFO, reg];
    const mapArgs = [h.container, VFIO_IOMMU_MAP_DMA, map];
    const unmapArgs = [h.container, VFIO_IOMMU_UNMAP_DMA, unmap];
    // warm-up, then timed runs (best of 3)
    const timeInvoke = (args: number[], count: number): number => {
      let best = Infinity;
      for (let r = 0; r < 4; r++) {
        const t0 = nowMs();
        for (let i = 0; i < count; i++) {
          if (sc.invoke(p, null, 'ioctl', args) !== 0) failure = `ioctl ${args[1]} failed`;
        }
        const dt = nowMs() - t0;
        if (r > 0) best = Math.min(best, dt);
      }
      return count / (best / 1000);
    };
    out.regionInfoInvokePerSec = timeInvoke(regionArgs, n);
    // MAP/UNMAP pairs
    {
      let best = Infinity;
      const pairs = Math.max(1, n >> 3);
      for (let r = 0; r < 4; r++) {
        const t0 = nowMs();
        for (let i = 0; i < pairs; i++) {
          if (sc.invoke(p, null, 'ioctl', mapArgs) !== 0) failure = 'MAP_DMA failed';
          if (sc.invoke(p, null, 'ioctl', unmapArgs) !== 0) failure = 'UNMAP_DMA failed';
        }
        const dt = nowMs() - t0;
        if (r > 0) best = Math.min(best, dt);
      }
      out.mapUnmapPairsPerSec = pairs / (best / 1000);
    }
    // the generator API (a guest program's view)
    {
      let best = Infinity;
      const count = Math.max(1, n >> 2);
      for (let r = 0; r < 4; r++) {
        const t0 = nowMs();
        for (let i = 0; i < count; i++) {
          if ((yield* s.ioctl(h.device, VFIO_DEVICE_GET_REGION_INFO, reg)) !== 0) failure = 'GET_REGION_INFO failed';
        }
        const dt = nowMs() - t0;
        if (r > 0) best = Math.min(best, dt);
      }
      out.regionInfoSysPerSec = count / (best / 1000);
    }
    return 0;
  };
  const spawned = sys.spawn('ioctl-rate', main, { stdio: true, memlock: 1 << 20 });
  proc = spawned.proc;
  sys.runUntilExited([spawned.thread], 1e15, 1e9);
  if (spawned.thread.exit?.status !== 0 || failure) throw new Error(`ioctl-rate: ${failure || JSON.stringify(spawned.thread.exit)}`);
  return out;
}

registerBench({
  name: 'ioctl-rate',
  description: 'VFIO ioctls/s through the syscall layer: GET_REGION_INFO (invoke entry and Sys API), MAP_DMA+UNMAP_DMA pairs',
  run(ctx) {
    const r = measureIoctlRates(ctx.short ? 50_000 : 400_000);
    return [
      { name: 'region-info-invoke', value: r.regionInfoInvokePerSec, unit: 'ioctl/s', higherIsBetter: true, target: { op: '>=', value: 2_000_000 } },
      { name: 'region-info-sys-api', value: r.regionInfoSysPerSec, unit: 'ioctl/s', higherIsBetter: true },
      { name: 'map-unmap-pairs', value: r.mapUnmapPairsPerSec, unit: 'pairs/s', higherIsBetter: true },
    ];
  },
});
