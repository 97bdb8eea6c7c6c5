import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SETUP_PREFIX, programArb } from './arb.js';
import { harnessSnapshot } from './engine.js';
import { FindingError, Harness } from './harness.js';
import { SmmuView, type Leaf } from './isolation.js';
import { VFIO_REQS, type Call } from './program.js';
import { Smmu } from '../../devices/smmu/smmu.js';

const mapCall = (iova: number, size: number, flags: number): Call => ({
  op: 'ioctl',
  p: 0,
  fd: { k: 'container', i: 0 },
  req: VFIO_REQS.VFIO_IOMMU_MAP_DMA,
  arg: { t: 'struct', type: 'vfio_iommu_type1_dma_map', fields: { argsz: 32, flags, vaddr: { dma: 0 }, iova, size }, ptr: 'ok' },
});

describe('the DMA-isolation walk', () => {
  for (const profile of ['rfc-v4', 'mainline']) {
    it(`${profile}: reading the tables from RAM in place enumerates the same leaves as one bus read per descriptor`, () => {
      const h = new Harness({ profile });
      const snap = harnessSnapshot(h);
      const smmu = h.sys.machine.devices.find((d) => d.mmio[0] instanceof Smmu)!.mmio[0] as Smmu;
      const fast = new SmmuView(smmu, h.sys.machine.bus);
      const slow = new SmmuView(smmu, h.sys.machine.bus);
      slow.tablesViaBus = true;
      const all = (v: SmmuView): [number, number, number, number, boolean][] => {
        const out: [number, number, number, number, boolean][] = [];
        for (let cb = 0; cb < smmu.numCb; cb++) v.leaves(cb, (l: Leaf) => out.push([cb, l.va, l.size, l.pa, l.write]));
        return out;
      };
      let compared = 0;
      let leaves = 0;
      const progs = fc.sample(programArb(24), { seed: 19, numRuns: 12 });
      progs.forEach((p, i) => {
        snap.restore();
        // mappings of several sizes and permissions first, so that the tables have leaves
        const prog = [...SETUP_PREFIX, mapCall(0x10000, 0x2000, 3), mapCall(0x200000 * (1 + (i % 3)), 0x1000 * (1 + i), 1 + (i % 3)), ...p];
        for (const c of prog) {
          try {
            h.exec(c);
          } catch (e) {
            if (!(e instanceof FindingError)) throw e;
          }
          const a = all(fast);
          expect(a).toEqual(all(slow));
          compared++;
          leaves += a.length;
        }
      });
      expect(compared).toBeGreaterThan(100);
      expect(leaves).toBeGreaterThan(100);
    });
  }
});
