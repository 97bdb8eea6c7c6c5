/**
 * Issue 23: the cdev + iommufd program closing its fds while a transfer is in flight, in every
 * order of iommufd, device cdev and eventfd (then munmap of the buffers): nothing stays pinned,
 * no IOVA still reaches RAM, the DMA stops, no iommufd context is left (the device cdev's release detaches and unbinds the
 * device: vfio_df_unbind_iommufd; the IOAS goes with the last iommufd reference).
 */
import { describe, expect, it } from 'vitest';
import { runPl330Iommufd } from './cdev.js';
import { permutations, pl330Of } from './pl330.js';

const ITEMS = ['iommufd', 'device', 'eventfd'] as const;

describe('cdev + iommufd: close in flight', () => {
  it.each(permutations(ITEMS).map((o) => [o.join(',')]))('order %s: no page pinned, no IOVA mapped, the DMA stopped', (order) => {
    const size = 256 * 1024;
    const r = runPl330Iommufd({
      profile: 'mainline', board: 'vexpress-vfio', seed: 1, size, name: 'close-in-flight-iommufd', expected: 'pass',
      variant: { closeInFlight: [...(order.split(',') as Array<(typeof ITEMS)[number]>), 'munmap'] },
    });
    expect(r.exitStatus).toBe(0);
    const sys = r.system;
    sys.machine.scheduler.runUntilIdle(1_000_000);
    const pages = sys.kernel.mm.pages;
    let pinned = 0;
    for (let pa = pages.ramBase; pa < pages.ramBase + pages.ramSize; pa += 4096) pinned += pages.pinCount(pa);
    const pl = pl330Of(sys);
    const smmu = sys.machine.devices.find((d) => d.iommu)!.iommu!.stage as unknown as {
      translateNoSideEffects(sid: number, va: number, attrs: number): { ok: boolean; pa?: number };
    };
    let stillMapped = 0;
    for (let iova = 0; iova < 2 * size + 4096; iova += 4096) {
      const t = smmu.translateNoSideEffects(pl.stream ?? 0, iova, 0);
      if (t.ok && sys.machine.bus.ramAt(t.pa ?? iova, 1) !== null) stillMapped++;
    }
    const dmac = (sys.machine.deviceByName(pl.name) as unknown as { dmac: { busy: boolean } }).dmac;
    // every iommufd context is gone (the bind's iommufd_ctx_from_fd reference dropped at release)
    const contexts = sys.iommufd?.contexts.size ?? -1;
    expect({ pinned, stillMapped, busy: dmac.busy, contexts }).toEqual({ pinned: 0, stillMapped: 0, busy: false, contexts: 0 });
  });
});
