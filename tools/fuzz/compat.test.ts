/**
 * Fuzzing the iommufd compat container (`mainline+iommufd-compat`: CONFIG_IOMMUFD_VFIO_CONTAINER,
 * /dev/vfio/vfio served by drivers/iommu/iommufd/vfio_compat.c): a campaign is clean and reaches
 * the container's success paths; the reference model holds the compat answers (the table of
 * docs/PROFILES.md, "The iommufd compat container"), follows the compat IOAS's areas, and
 * notices an implementation that strays from them.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { SETUP_PREFIX } from './arb.js';
import { execCall, runCampaign, runProgram, type CampaignResult } from './engine.js';
import { Harness } from './harness.js';
import { VFIO_REQS, type Call } from './program.js';
import type { IommufdCtx } from '../../kernel-model/iommu/iommufd/index.js';
import { status } from './testing/calls.js';

const PROFILE = 'mainline+iommufd-compat';

const open = (path: string): Call => ({ op: 'open', p: 0, path, flags: 2 });
const container = '/dev/vfio/vfio';
const setContainer: Call = SETUP_PREFIX[2]!;
const getDeviceFd: Call = SETUP_PREFIX[4]!;
const setIommu = (v: number): Call => ({ op: 'ioctl', p: 0, fd: { k: 'container', i: 0 }, req: VFIO_REQS.VFIO_SET_IOMMU, arg: { t: 'int', v } });
const checkExt = (v: number): Call => ({ op: 'ioctl', p: 0, fd: { k: 'container', i: 0 }, req: VFIO_REQS.VFIO_CHECK_EXTENSION, arg: { t: 'int', v } });
const mapAt = (page: number, iova: number, size: number, flags = 3): Call => ({
  op: 'ioctl', p: 0, fd: { k: 'container', i: 0 }, req: VFIO_REQS.VFIO_IOMMU_MAP_DMA,
  arg: { t: 'struct', type: 'vfio_iommu_type1_dma_map', fields: { argsz: 32, flags, vaddr: { dma: page }, iova, size }, ptr: 'ok' },
});
const unmapAt = (iova: number, size: number, flags = 0): Call => ({
  op: 'ioctl', p: 0, fd: { k: 'container', i: 0 }, req: VFIO_REQS.VFIO_IOMMU_UNMAP_DMA,
  arg: { t: 'struct', type: 'vfio_iommu_type1_dma_unmap', fields: { argsz: 24, flags, iova, size }, ptr: 'ok' },
});
const info: Call = { op: 'ioctl', p: 0, fd: { k: 'container', i: 0 }, req: VFIO_REQS.VFIO_IOMMU_GET_INFO, arg: { t: 'struct', type: 'vfio_iommu_type1_info', fields: { argsz: 16 }, ptr: 'ok' } };
const unset: Call = { op: 'ioctl', p: 0, fd: { k: 'group', i: 0 }, req: VFIO_REQS.VFIO_GROUP_UNSET_CONTAINER, arg: { t: 'int', v: 0 } };
const close = (k: 'container' | 'group' | 'device'): Call => ({ op: 'close', p: 0, fd: { k, i: 0 } });

const sigOf = (h: Harness, c: Call): string | null => execCall(h, c)?.sig ?? null;

let campaign: CampaignResult;
beforeAll(() => {
  campaign = runCampaign({ profile: PROFILE, seed: 5, runs: 120 });
});

describe('fuzzing the iommufd compat container', () => {
  it('a short campaign is clean and reaches the compat container\'s success paths', () => {
    expect(campaign.findings.map((f) => `${f.sig}: ${f.message}`)).toEqual([]);
    const ok = campaign.okCounts ?? {};
    expect(ok['group:VFIO_GROUP_SET_CONTAINER'] ?? 0).toBeGreaterThan(20);
    expect(ok['group:VFIO_GROUP_GET_DEVICE_FD'] ?? 0).toBeGreaterThan(10);
    expect(ok['container:VFIO_IOMMU_MAP_DMA'] ?? 0).toBeGreaterThan(5);
    expect(campaign.coverage['container:VFIO_IOMMU_UNMAP_DMA']).toEqual(expect.arrayContaining(['ENOENT', 'EINVAL']));
    expect(campaign.coverage['container:VFIO_SET_IOMMU']).toEqual(expect.arrayContaining(['ok', 'EINVAL']));
  });

  it('a program that follows the compat rules runs clean: each answer as the model predicts it', () => {
    const program: Call[] = [
      open(container), open('/dev/vfio/0'),
      // no group yet: no compat IOAS
      setIommu(3), mapAt(0, 0x10000, 0x1000), info, checkExt(4),
      setContainer,
      setIommu(42), setIommu(3), setIommu(3), checkExt(1), checkExt(9), checkExt(10),
      // VADDR is refused
      mapAt(0, 0x10000, 0x1000, 4),
      getDeviceFd,
      // neither READ nor WRITE passes compat's checks (prot IOMMU_CACHE alone) but not the domain's:
      // v6.12.19 arm_lpae_map_pages -EINVAL
      mapAt(0, 0x10000, 0x1000, 0), mapAt(0, 0x10000, 0x1000),
      mapAt(1, 0x20000, 0x2000), mapAt(1, 0x21000, 0x1000), status,
      // TYPE1v2: a range inside an area, nothing there, a flag other than ALL
      unmapAt(0x21000, 0x1000), unmapAt(0x40000, 0x1000), unmapAt(0x20000, 0x2000, 4),
      unmapAt(0x10000, 0x1000), unmapAt(0, 0, 2), unmapAt(0x1000, 0, 2),
      // the group lets go with its device open; the device keeps its binding
      mapAt(2, 0x30000, 0x1000), unset, unset, status, close('group'), close('container'), close('device'),
    ];
    const run = runProgram(PROFILE, program, { transcript: true });
    expect(run.finding).toBeNull();
    const rets = run.harness.transcript.map((t) => t.ret);
    expect(rets).toEqual([
      '0', '1',
      '-ENODEV', '-ENODEV', '-ENODEV', '-ENODEV',
      '0',
      '-EINVAL', '0', '0', '1', '1', '0',
      '-EINVAL',
      '2',
      '-EINVAL', '0',
      '0', '-EEXIST', '0',
      '-ENOENT', '-ENOENT', '-EINVAL',
      '0', '0', '-EINVAL',
      '0', '0', '-EINVAL', '0', '0', '0', '0',
    ]);
    expect(run.harness.sys.iommufd!.contexts.size).toBe(0);
  });

  it('the model notices an implementation that strays: an area the compat IOAS lost, a compat IOAS forgotten', () => {
    const prefix: Call[] = [open(container), open('/dev/vfio/0'), setContainer, setIommu(3), getDeviceFd, mapAt(0, 0x10000, 0x2000)];
    const ctxOf = (h: Harness): IommufdCtx => [...h.sys.iommufd!.contexts][0]!;
    const h1 = new Harness({ profile: PROFILE });
    for (const c of prefix) h1.exec(c);
    const ioas = ctxOf(h1).vfioIoas!;
    expect(ioas.iopt.areas.map((a) => [a.iova, a.last])).toEqual([[0x10000, 0x11fff]]);
    ioas.iopt.areas[0]!.last -= 0x1000;
    expect(sigOf(h1, status)).toBe('model-divergence');

    const h2 = new Harness({ profile: PROFILE });
    for (const c of prefix) h2.exec(c);
    ctxOf(h2).vfioIoas = null;
    expect(sigOf(h2, status)).toBe('model-divergence');

    // and a wrong answer: the model predicts -ENOENT for an unmap of nothing
    const h3 = new Harness({ profile: PROFILE });
    for (const c of prefix) h3.exec(c);
    const iopt = ctxOf(h3).vfioIoas!.iopt;
    const real = iopt.unmapIova.bind(iopt);
    iopt.unmapIova = (iova: number, length: number) => {
      const r = real(iova, length);
      return r.unmapped === 0 ? { rc: 0, unmapped: 0 } : r;
    };
    expect(sigOf(h3, unmapAt(0x40000, 0x1000))).toBe('model-divergence');
  });
});
