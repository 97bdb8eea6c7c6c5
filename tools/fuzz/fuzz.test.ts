import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '../cli/args.js';
import type { CliIo } from '../cli/main.js';
import { SECOND_GROUP, SETUP_PREFIX } from './arb.js';
import { ATTR_NS } from '../../emulator/attrs.js';
import { InputError } from '../cli/outputs.js';
import { CONTAINER_IOMMUFD_IOCTLS } from './program-iommufd.js';
import { coverageRows, FINDING_FORMAT, Progress, runFuzzCommand, Timeline, type FindingFile } from './cli.js';
import { execCall, runCampaign, runProgram, type CampaignResult } from './engine.js';
import { FindingError, Harness } from './harness.js';
import { formatCall, VFIO_REQS, type Call } from './program.js';
import { fuzzRateCurve, fuzzRateDetail } from './bench.js';
import type { Type1Iommu } from '../../kernel-model/vfio/type1.js';
import { Smmu } from '../../devices/smmu/smmu.js';
import { SmmuView, type Leaf } from './isolation.js';

/** the fixed budget of the acceptance tests: same seed and runs for both profiles */
const BUDGET = { seed: 9, runs: 120 };

function fakeIo(files: Record<string, string> = {}): CliIo & { stdout: string; stderr: string; files: Record<string, string> } {
  const io = {
    stdout: '',
    stderr: '',
    files,
    out: (s: string) => void (io.stdout += s),
    err: (s: string) => void (io.stderr += s),
    writeFile: (p: string, d: string | Iterable<string>) => void (files[p] = typeof d === 'string' ? d : [...d].join('')),
    readFile: (p: string) => {
      if (!(p in files)) throw new Error(`ENOENT: ${p}`);
      return files[p]!;
    },
    isTTY: false,
  };
  return io;
}

let rfc: CampaignResult;
let mainline: CampaignResult;

beforeAll(() => {
  rfc = runCampaign({ profile: 'rfc-v4', ...BUDGET });
  mainline = runCampaign({ profile: 'mainline', ...BUDGET });
});

describe('acceptance: the review bugs of RFC v4', () => {
  it('rfc-v4: rediscovers the GET_REGION_INFO out-of-bounds read and the read/write offset scaling, shrunk', () => {
    const sigs = rfc.findings.map((f) => f.sig);
    expect(sigs).toContain('region-info-leak');
    expect(sigs).toContain('rw-offset-mismatch');
    const leak = rfc.findings.find((f) => f.sig === 'region-info-leak')!;
    const rw = rfc.findings.find((f) => f.sig === 'rw-offset-mismatch')!;
    // shrunk: the five set-up calls and the one that shows the bug
    expect(leak.program.length).toBeLessThanOrEqual(SETUP_PREFIX.length + 1);
    expect(rw.program.length).toBeLessThanOrEqual(SETUP_PREFIX.length + 1);
    expect(leak.transcript.at(-1)!.line).toMatch(/VFIO_DEVICE_GET_REGION_INFO/);
    expect(rw.transcript.at(-1)!.line).toMatch(/pread\(/);
    expect(rw.message).toMatch(/returned [0-9a-f]+, but the register at physical 0x2c0a[0-9a-f]{4} holds/);
  });

  it('mainline runs the same budget clean', () => {
    expect(mainline.findings).toEqual([]);
    expect(mainline.runs).toBe(BUDGET.runs);
    expect(mainline.execs).toBeGreaterThan(BUDGET.runs * 10);
  });

  it('every finding replays to the same signature, deterministically', () => {
    for (const f of rfc.findings) {
      // suppressing what the campaign suppressed when it confirmed the finding (fuzz --replay does too)
      const ignore = new Set(f.suppressed);
      const a = runProgram('rfc-v4', f.program, { transcript: true, ignore });
      const b = runProgram('rfc-v4', f.program, { transcript: true, ignore });
      expect(a.finding?.sig).toBe(f.sig);
      expect(a.harness.transcript).toEqual(b.harness.transcript);
      // and the same program is clean on mainline, where the bugs are fixed
      const m = runProgram('mainline', f.program);
      expect(m.finding?.sig ?? null).not.toBe(f.sig);
    }
  });

  it('the oracles judge only while the scratch pages are the harness\'s own: a device mapping where they were is not a finding (mainline, found by a campaign)', () => {
    // munmap(0, 0x40000001) takes the scratch away and the device's mmap lands where it was:
    // the pread's 4 bytes (DPC) go to the device mapping and read back as DSR
    const clobber: Call[] = [
      { op: 'open', p: 0, path: '/dev/iommu', flags: 2 },
      { op: 'open', p: 0, path: '/dev/vfio/devices/vfio0', flags: 2 },
      {
        op: 'ioctl', p: 0, fd: { k: 'device', i: 0 }, req: 15222,
        arg: { t: 'struct', type: 'vfio_device_bind_iommufd', fields: { argsz: 16, flags: 0, iommufd: { fd: { k: 'iommufd', i: 0 } }, out_devid: 0 }, ptr: 'ok' },
      },
      { op: 'raw', p: 0, nr: 91, args: [0, 0x40000001, 0, 0, 0, 0] },
      { op: 'mmap', p: 0, fd: { k: 'device', i: 0 }, len: 4096, prot: 3, flags: 1, off: { region: 0, off: 0 } },
    ];
    const pread: Call = { op: 'pread', p: 0, fd: { k: 'device', i: 0 }, off: { region: 0, off: 4 }, count: 4, ptr: 'ok' };
    const run = runProgram('mainline', [...clobber, pread], { transcript: true });
    expect(run.harness.transcript.map((t) => t.ret)).toEqual(['0', '1', '0', '0', '1073741824', '4']);
    expect(run.finding).toBeNull();
    // GET_REGION_INFO's result lands in the device's registers too: no region-info-leak either
    const info: Call = {
      op: 'ioctl', p: 0, fd: { k: 'device', i: 0 }, req: VFIO_REQS.VFIO_DEVICE_GET_REGION_INFO,
      arg: { t: 'struct', type: 'vfio_region_info', fields: { argsz: 32, flags: 0, index: 0, resv: 0, size: 0, offset: 0 }, ptr: 'ok' },
    };
    expect(runProgram('mainline', [...clobber, info]).finding).toBeNull();
    // on rfc-v4 the oracle still judges a pread through an intact scratch (review finding 2),
    // and stops judging once the scratch is taken away
    const rw = rfc.findings.find((f) => f.sig === 'rw-offset-mismatch')!;
    expect(runProgram('rfc-v4', rw.program).finding?.sig).toBe('rw-offset-mismatch');
    const last = rw.program.at(-1) as Extract<Call, { op: 'pread' | 'pwrite' }>;
    expect(last.op).toBe('pread');
    const taken: Call[] = [...rw.program.slice(0, -1), clobber[3]!, { ...clobber[4]!, fd: last.fd } as Call, last];
    const quiet = runProgram('rfc-v4', taken, { transcript: true });
    expect(quiet.harness.transcript.at(-2)!.ret).toBe('1073741824');
    expect(quiet.finding).toBeNull();
  });

  it('reaches every ioctl of the container, group and device fds, with success and error returns', () => {
    const cov: Record<string, string[]> = {};
    for (const c of [rfc.coverage, mainline.coverage]) for (const [k, v] of Object.entries(c)) cov[k] = [...new Set([...(cov[k] ?? []), ...v])];
    const rows = coverageRows(cov);
    for (const r of rows) {
      // the iommufd and fault rows are checked by fuzz-iommufd.test.ts's campaign (success counts per call)
      if (r.fd === 'iommufd' || r.fd === 'fault') continue;
      expect(r.ok || r.errors.length > 0, `${r.fd} ${r.call} never reached`).toBe(true);
      // GET_API_VERSION and CHECK_EXTENSION take their argument by value and cannot fail
      if (r.call !== 'VFIO_GET_API_VERSION' && r.call !== 'VFIO_CHECK_EXTENSION') expect(r.errors.length, `${r.fd} ${r.call}: no error return reached`).toBeGreaterThan(0);
      // VFIO_DEVICE_RESET cannot succeed: the PL330 has no reset handler (documented); unknown requests never succeed;
      // nor do iommufd requests on a VFIO container (mainline's; they succeed on the compat container: compat.test.ts)
      if (r.call !== 'VFIO_DEVICE_RESET' && r.call !== 'unknown' && !(r.fd === 'container' && CONTAINER_IOMMUFD_IOCTLS.includes(r.call))) expect(r.ok, `${r.fd} ${r.call}: no success reached`).toBe(true);
    }
  });
});

describe('invariants catch what they claim to', () => {
  const mapCall: Call = {
    op: 'ioctl',
    p: 0,
    fd: { k: 'container', i: 0 },
    req: VFIO_REQS.VFIO_IOMMU_MAP_DMA,
    arg: { t: 'struct', type: 'vfio_iommu_type1_dma_map', fields: { argsz: 32, flags: 3, vaddr: { dma: 0 }, iova: 0x10000, size: 0x2000 }, ptr: 'ok' },
  };
  const status: Call = { op: 'ioctl', p: 0, fd: { k: 'group', i: 0 }, req: VFIO_REQS.VFIO_GROUP_GET_STATUS, arg: { t: 'struct', type: 'vfio_group_status', fields: { argsz: 8 }, ptr: 'ok' } };
  /** a call of the kind that can change mappings (a close; this one fails with EBADF): the DMA-isolation check runs after it */
  const touch: Call = { op: 'close', p: 0, fd: { raw: 999 } };

  function mapped(profile: string): Harness {
    const h = new Harness({ profile });
    for (const c of [...SETUP_PREFIX, mapCall]) h.exec(c);
    return h;
  }

  const sigOf = (h: Harness, c: Call): string | null => execCall(h, c)?.sig ?? null;

  it('a clean sequence with a live mapping passes, and closing everything returns the pins to zero', () => {
    const h = mapped('mainline');
    const it1 = h.sys.vfio.containerStates()[0]!.data as Type1Iommu;
    expect(it1.pinnedPages).toBe(2);
    expect(h.slots[0]!.proc.mm.lockedVm).toBe(2);
    expect(() => h.finish()).not.toThrow();
  });

  it('an ioctl returning an errno it may not, or no integer, is reported under the fd kind and request', () => {
    const h = mapped('rfc-v4');
    const sc = h.sys.syscalls;
    const invoke = sc.invoke.bind(sc);
    let answer = -10; // ECHILD: no ioctl answers it
    sc.invoke = (proc, t, name, a) => (name === 'ioctl' ? answer : invoke(proc, t, name, a));
    expect(sigOf(h, status)).toBe('bad-errno:ioctl(group, VFIO_GROUP_GET_STATUS):10');
    expect(sigOf(h, { ...status, fd: { raw: 999 } })).toBe('bad-errno:ioctl(bad fd, VFIO_GROUP_GET_STATUS):10');
    answer = 0.5;
    const f = execCall(h, status);
    expect(f?.sig).toBe('bad-return:ioctl(group, VFIO_GROUP_GET_STATUS)');
    expect(f?.message).toBe('ioctl(group, VFIO_GROUP_GET_STATUS) returned 0.5');
    // an errno the call may return is no finding
    answer = -22;
    expect(sigOf(h, status)).toBeNull();
  });

  it('locked_vm that disagrees with the mappings is reported', () => {
    const h = mapped('mainline');
    h.slots[0]!.proc.mm.lockedVm += 1;
    expect(sigOf(h, status)).toBe('locked-vm');
  });

  it('a mapping missing from the SMMU tables is reported as a DMA invariant violation', () => {
    const h = mapped('rfc-v4');
    const it1 = h.sys.vfio.containerStates()[0]!.data as Type1Iommu;
    it1.domain.unmap(0x10000, 0x1000);
    expect(sigOf(h, touch)).toBe('dma-missing');
  });

  it('DMA isolation is read from the SMMU registers and its tables in RAM: the stream reaches exactly the mapped pages', () => {
    for (const profile of ['rfc-v4', 'mainline']) {
      const h = mapped(profile);
      const smmu = h.sys.machine.devices.find((d) => d.mmio[0] instanceof Smmu)!.mmio[0] as Smmu;
      const view = new SmmuView(smmu, h.sys.machine.bus);
      const r = view.route(h.streamId);
      expect(r.kind).toBe('translate');
      const leaves: Leaf[] = [];
      if (r.kind === 'translate') view.leaves(r.cb, (l) => leaves.push(l));
      const it1 = h.sys.vfio.containerStates()[0]!.data as Type1Iommu;
      expect(leaves.map((l) => [l.va, l.size, l.pa, l.write])).toEqual([0, 1].map((i) => [0x10000 + i * 0x1000, 0x1000, it1.dmas[0]!.pa[i], true]));
      // the group leaves its container (close everything of P0): its stream no longer translates there
      h.exec({ op: 'exit', p: 0 });
      expect(view.route(h.streamId).kind).not.toBe('translate');
    }
  });

  it('a deliberately broken isolation (arm-smmu skips one stream-map entry update at attach) is caught by the invariant', () => {
    for (const [profile, sig] of [['rfc-v4', 'dma-unmapped'], ['mainline', 'dma-missing']] as const) {
      const h = new Harness({ profile });
      h.sys.kernel.drivers.armSmmu.first!.testSkipStreamMapUpdates = 1;
      let found: string | null = null;
      for (const c of [...SETUP_PREFIX, mapCall]) {
        found = sigOf(h, c);
        if (found) break;
      }
      expect(found, profile).toBe(sig);
    }
  });

  it('a missed TLB invalidation (arm-smmu leaves out the unmap\'s TLBIASID) is caught: the device still reaches the page through its TLB', () => {
    const R = VFIO_REQS;
    const mmio = (off: number, value: number): Call => ({ op: 'mmio', p: 0, map: 0, off, width: 4, write: true, value });
    const unmap: Call = { op: 'ioctl', p: 0, fd: { k: 'container', i: 0 }, req: R.VFIO_IOMMU_UNMAP_DMA, arg: { t: 'struct', type: 'vfio_iommu_type1_dma_unmap', fields: { argsz: 24, flags: 0, iova: 0x10000, size: 0x2000 }, ptr: 'ok' } };
    // test-dma (the second group, same container) copies 0x10000 -> 0x11000 through the SMMU,
    // which caches both pages' leaves; then both pages are unmapped
    const program: Call[] = [
      ...SETUP_PREFIX,
      ...SECOND_GROUP,
      mapCall,
      { op: 'mmap', p: 0, fd: { k: 'device', i: 1 }, len: 0x1000, prot: 3, flags: 1, off: { region: 0, off: 0 } },
      mmio(0, 0x10000),
      mmio(4, 0x11000),
      mmio(8, 0x40),
      mmio(0xc, 1),
      { op: 'run', ns: 100_000 },
      unmap,
    ];
    for (const profile of ['rfc-v4', 'mainline']) {
      // as the kernel runs it: the unmap invalidates the context's TLB entries, nothing to report
      expect(runProgram(profile, program).finding, profile).toBeNull();
      const h = new Harness({ profile });
      h.sys.kernel.drivers.armSmmu.first!.testSkipTlbInvalidations = 1000;
      const sigs = program.map((c) => sigOf(h, c));
      // the copy went through the SMMU and filled its TLB; the unmap is where the stale entries show
      const smmu = h.sys.machine.devices.map((d) => d.mmio[0]).find((m): m is Smmu => m instanceof Smmu)!;
      expect(smmu.stats.walks, profile).toBeGreaterThan(0);
      expect(sigs.slice(0, -1).every((x) => x === null), profile).toBe(true);
      expect(sigs.at(-1), profile).toBe('dma-stale-tlb');
    }
  });

  it('a mapping the model does not expect is a model divergence', () => {
    const h = mapped('mainline');
    const it1 = h.sys.vfio.containerStates()[0]!.data as Type1Iommu;
    it1.dmas[0]!.iova += 0x1000;
    expect(sigOf(h, touch)).toMatch(/^(model-divergence|dma-)/);
  });

  it('the model follows mainline type1 (issue 17): separate adjacent mappings, v1/v2 unmap rules, UNMAP_FLAG_ALL', () => {
    const prefix = SETUP_PREFIX.slice(0, 3);
    const setIommu = (v: number): Call => ({ op: 'ioctl', p: 0, fd: { k: 'container', i: 0 }, req: VFIO_REQS.VFIO_SET_IOMMU, arg: { t: 'int', v } });
    const mapAt = (page: number, iova: number, size: number): Call => ({ ...mapCall, arg: { t: 'struct', type: 'vfio_iommu_type1_dma_map', fields: { argsz: 32, flags: 3, vaddr: { dma: page }, iova, size }, ptr: 'ok' } });
    const unmapAt = (iova: number, size: number, flags = 0): Call => ({ op: 'ioctl', p: 0, fd: { k: 'container', i: 0 }, req: VFIO_REQS.VFIO_IOMMU_UNMAP_DMA, arg: { t: 'struct', type: 'vfio_iommu_type1_dma_unmap', fields: { argsz: 24, flags, iova, size }, ptr: 'ok' } });
    const body = [mapAt(0, 0x10000, 0x1000), mapAt(1, 0x11000, 0x1000), mapAt(2, 0x20000, 0x2000), unmapAt(0x21000, 0x1000), unmapAt(0x10000, 0x1000), unmapAt(0x20000, 0x1000), unmapAt(0, 0, 2)];
    for (const type of [1, 3]) {
      for (const profile of ['rfc-v4', 'mainline']) {
        if (profile === 'rfc-v4' && type === 3) continue;
        expect(runProgram(profile, [...prefix, setIommu(type), ...body]).finding, `${profile} type ${type}`).toBeNull();
      }
    }
    // the model notices a 2014-style merge under mainline
    const h = new Harness({ profile: 'mainline' });
    for (const c of [...prefix, setIommu(1), mapAt(0, 0x10000, 0x1000), mapAt(1, 0x11000, 0x1000)]) h.exec(c);
    expect(h.sys.vfio.containerStates()[0]!.data).toBeDefined();
    const it1 = h.sys.vfio.containerStates()[0]!.data as Type1Iommu;
    expect(it1.mappings().length).toBe(2);
    const [a, b] = [it1.dmas[0]!, it1.dmas[1]!];
    a.pa = Float64Array.from([...a.pa, ...b.pa]);
    a.reserved = Uint8Array.from([...a.reserved, ...b.reserved]);
    a.size += b.size;
    it1.dmas.splice(1, 1);
    expect(sigOf(h, status)).toMatch(/^(model-divergence|dma-)/);
  });

  it('the model follows mainline VADDR and the MSI window (issue 17): invalidate, refused re-invalidation, restore, a window MAP refused', () => {
    const prefix = SETUP_PREFIX.slice(0, 3);
    const setIommu: Call = { op: 'ioctl', p: 0, fd: { k: 'container', i: 0 }, req: VFIO_REQS.VFIO_SET_IOMMU, arg: { t: 'int', v: 3 } };
    const mapAt = (page: number, iova: number, size: number, flags = 3): Call => ({ ...mapCall, arg: { t: 'struct', type: 'vfio_iommu_type1_dma_map', fields: { argsz: 32, flags, vaddr: { dma: page }, iova, size }, ptr: 'ok' } });
    const unmapAt = (iova: number, size: number, flags = 0): Call => ({ op: 'ioctl', p: 0, fd: { k: 'container', i: 0 }, req: VFIO_REQS.VFIO_IOMMU_UNMAP_DMA, arg: { t: 'struct', type: 'vfio_iommu_type1_dma_unmap', fields: { argsz: 24, flags, iova, size }, ptr: 'ok' } });
    const body = [mapAt(0, 0x10000, 0x2000), mapAt(2, 0x20000, 0x1000), unmapAt(0x10000, 0x2000, 4), unmapAt(0, 0, 6), mapAt(4, 0x10000, 0x2000, 4), mapAt(4, 0x10000, 0x2000, 4), unmapAt(0, 0, 6), mapAt(0, 0x800_0000, 0x1000), mapAt(0, 0x7ff_f000, 0x1000), unmapAt(0, 0, 2)];
    for (const profile of ['rfc-v4', 'mainline']) {
      const pre = profile === 'mainline' ? [...prefix, setIommu] : SETUP_PREFIX.slice(0, 4);
      expect(runProgram(profile, [...pre, ...body]).finding, profile).toBeNull();
    }
    // the model notices a vaddr left valid by UNMAP(VADDR)
    const h = new Harness({ profile: 'mainline' });
    for (const c of [...prefix, setIommu, mapAt(0, 0x10000, 0x1000), unmapAt(0x10000, 0x1000, 4)]) h.exec(c);
    const it1 = h.sys.vfio.containerStates()[0]!.data as Type1Iommu;
    expect(it1.mappings()[0]!.vaddrInvalid).toBe(true);
    it1.dmas[0]!.vaddrInvalid = false;
    expect(sigOf(h, status)).toBe('model-divergence');
  });

  it('the model holds the exact 2014 answers: SET_IOMMU of a type no driver offers -ENODEV, container requests without a driver -EINVAL', () => {
    const prefix = SETUP_PREFIX.slice(0, 3); // container + group attached, no SET_IOMMU
    const setIommu = (v: number): Call => ({ op: 'ioctl', p: 0, fd: { k: 'container', i: 0 }, req: VFIO_REQS.VFIO_SET_IOMMU, arg: { t: 'int', v } });
    const info: Call = { op: 'ioctl', p: 0, fd: { k: 'container', i: 0 }, req: VFIO_REQS.VFIO_IOMMU_GET_INFO, arg: { t: 'struct', type: 'vfio_iommu_type1_info', fields: { argsz: 16 }, ptr: 'ok' } };
    const unknown: Call = { op: 'ioctl', p: 0, fd: { k: 'container', i: 0 }, req: 0x3b7f, arg: { t: 'int', v: 0 } };
    for (const profile of ['rfc-v4', 'mainline']) {
      expect(runProgram(profile, [...prefix, setIommu(42), info, unknown, setIommu(3), setIommu(1)]).finding, profile).toBeNull();
    }
    // the model notices a wrong answer: make the container answer -ENOTTY for unknown requests
    const h = new Harness({ profile: 'rfc-v4' });
    for (const c of prefix) h.exec(c);
    const fops = h.sys.vfio.containerFops as { ioctl?: (...a: never[]) => number };
    const orig = fops.ioctl!;
    fops.ioctl = ((...a: never[]) => (a[2] === 0x3b7f ? -25 : orig(...a))) as typeof fops.ioctl;
    expect(sigOf(h, unknown)).toBe('model-divergence');
  });

  it('the model reads group and container state off the implementation\'s own objects: an open device, a group list, the IOMMU backend', () => {
    // (model.compare reads groupRef/containers/dmas, not the groupState()/containerStates() records)
    const tamper: ((h: Harness) => void)[] = [
      (h) => {
        for (const d of h.sys.vfio.groupRef(0)!.devices) (d as { openCount: number }).openCount = 0;
      },
      (h) => {
        const c = [...h.sys.vfio.containers][0]!;
        (c.groups as unknown[]).length = 0;
      },
      (h) => {
        const c = [...h.sys.vfio.containers][0]!;
        c.iommuDriver = null;
      },
      (h) => {
        const it1 = h.sys.vfio.containerStates()[0]!.data as Type1Iommu;
        it1.dmas[0]!.size += 0x1000;
      },
    ];
    for (const [i, t] of tamper.entries()) {
      // (without the IOMMU backend a mapping's pins would be reported first: no mapping there)
      const h = i === 2 ? new Harness({ profile: 'rfc-v4' }) : mapped('rfc-v4');
      if (i === 2) for (const c of SETUP_PREFIX) h.exec(c);
      expect(sigOf(h, status), `untampered ${i}`).toBeNull();
      t(h);
      let sig: string | null = null;
      let msg = '';
      try {
        h.exec(status);
      } catch (e) {
        if (!(e instanceof FindingError)) throw e;
        sig = e.finding.sig;
        msg = e.finding.message;
      }
      expect(sig, `tamper ${i}`).toBe('model-divergence');
      expect(msg).toMatch([/^group 0: implementation .*"openDevices":0/, /^container \d+: groups \[\] vs model \[0\]/, /^container \d+: IOMMU unset, model set/, /^container \d+: mappings \[10000\+3000@/][i]!);
    }
  });

    it('the C-like rendering names the calls', () => {
    expect(formatCall(mapCall)).toBe('P0: struct vfio_iommu_type1_dma_map s = { .argsz = 0x20, .flags = 3, .vaddr = dma_area + 0 * 4096, .iova = 0x10000, .size = 0x2000 }; ioctl(container[0], VFIO_IOMMU_MAP_DMA, &s);');
  });
});

describe('CLI', () => {
  it('--replay reproduces a finding file and prints the calls as C', () => {
    const f = rfc.findings.find((x) => x.sig === 'region-info-leak')!;
    const file: FindingFile = { format: FINDING_FORMAT, version: 1, profile: 'rfc-v4', sig: f.sig, message: f.message, seed: f.seed, program: f.program, transcript: f.transcript };
    const io = fakeIo({ 'leak.json': JSON.stringify(file) });
    expect(runFuzzCommand(['--replay', 'leak.json'], io)).toBe(1);
    expect(io.stdout).toMatch(/ioctl\(2 \/\* (device\[0\]|2) \*\/, VFIO_DEVICE_GET_REGION_INFO, &s\);/);
    expect(io.stdout).toMatch(/REPRODUCED: region-info-leak/);
    const io2 = fakeIo({ 'leak.json': JSON.stringify(file) });
    runFuzzCommand(['--replay', 'leak.json'], io2);
    expect(io2.stdout).toBe(io.stdout);
    // the same program on mainline does not reproduce
    const io3 = fakeIo({ 'leak.json': JSON.stringify({ ...file, profile: 'mainline' }) });
    expect(runFuzzCommand(['--replay', 'leak.json'], io3)).toBe(0);
    expect(io3.stdout).toMatch(/not reproduced/);
    // a campaign's round seeds are signed 32-bit numbers: a negative one is a valid file
    const io4 = fakeIo({ 'leak.json': JSON.stringify({ ...file, seed: -1640531526 }) });
    expect(runFuzzCommand(['--replay', 'leak.json'], io4)).toBe(1);
  });

  it('--replay suppresses what the campaign suppressed when it confirmed the finding (the file\'s `suppressed` list, its own signature excepted)', () => {
    // MAP_DMA with EXEC alone is a known rfc-v4 finding (dma-unmapped) on the way to the exit's locked_vm one
    const program: Call[] = [...SETUP_PREFIX, { op: 'fork', p: 0, into: 1 }, { op: 'ioctl', p: 0, fd: { k: 'container', i: 0 }, req: VFIO_REQS.VFIO_IOMMU_MAP_DMA, arg: { t: 'struct', type: 'vfio_iommu_type1_dma_map', fields: { argsz: 32, flags: 4, vaddr: { dma: 0 }, iova: 0, size: 0x1000 }, ptr: 'ok' } }];
    const file: FindingFile = { format: FINDING_FORMAT, version: 1, profile: 'rfc-v4', sig: 'leak-locked-vm', message: '', seed: 1, program, transcript: [] };
    const io = fakeIo({ 'f.json': JSON.stringify({ ...file, suppressed: ['dma-unmapped', 'leak-locked-vm'] }) });
    expect(runFuzzCommand(['--replay', 'f.json'], io)).toBe(1);
    expect(io.stdout).toMatch(/REPRODUCED: leak-locked-vm/);
    const bare = fakeIo({ 'f.json': JSON.stringify(file) });
    runFuzzCommand(['--replay', 'f.json'], bare);
    expect(bare.stdout).toMatch(/DIFFERENT FINDING: dma-unmapped/);
    // a malformed list is a schema error naming the field
    const bad = fakeIo({ 'f.json': JSON.stringify({ ...file, suppressed: ['x', 3] }) });
    expect(() => runFuzzCommand(['--replay', 'f.json'], bad)).toThrow(/suppressed\[1\]/);
  });

  it('usage errors', () => {
    const io = fakeIo();
    expect(() => runFuzzCommand(['--runs', '5', '--time', '5'], io)).toThrow(UsageError);
    expect(() => runFuzzCommand(['--shard', '2/2'], io)).toThrow(UsageError);
    expect(() => runFuzzCommand(['--bogus'], io)).toThrow(UsageError);
    expect(() => runFuzzCommand(['--profile', 'nonsense'], io)).toThrow(UsageError);
    expect(() => runFuzzCommand(['--replay', 'missing.json'], io)).toThrow(InputError);
    // the counters exist only in the coverage build (dist/cov/fuzz-cov.js), not from source
    expect(() => runFuzzCommand(['--coverage', '--runs', '1'], io)).toThrow(/--coverage needs the coverage build/);
  });

  it('a campaign writes replayable finding files and a coverage summary; shards merge to the whole', () => {
    const io = fakeIo();
    const code = runFuzzCommand(['--profile', 'rfc-v4', '--runs', '10', '--out', 'out', '--json', '--no-baseline'], io, { mkdir: () => {} });
    const whole = JSON.parse(io.stdout) as { runs: number; execs: number; findings: { sig: string; file: string; known: boolean }[]; coverage: { fd: string; call: string; ok: boolean; errors: string[] }[] };
    expect(whole.runs).toBe(10);
    expect(whole.findings.length).toBeGreaterThan(0);
    // --no-baseline: every finding is new, exit 1
    expect(code).toBe(1);
    expect(whole.findings.every((f) => !f.known)).toBe(true);
    // the same campaign against the committed baseline: the review findings are known, exit 0
    const io2 = fakeIo();
    expect(runFuzzCommand(['--profile', 'rfc-v4', '--runs', '10', '--out', 'out', '--json'], io2, { mkdir: () => {} })).toBe(0);
    const based = JSON.parse(io2.stdout) as { findings: { sig: string; known: boolean }[]; baseline: { known: string[]; new: string[] } };
    expect(based.findings.map((f) => f.sig)).toEqual(whole.findings.map((f) => f.sig));
    expect(based.findings.every((f) => f.known)).toBe(true);
    expect(based.baseline.new).toEqual([]);
    // a baseline that lacks one of them: that one is new, exit 1 (signature-matched, not counted)
    const [first, ...others] = based.findings.map((f) => f.sig);
    const partial = { schema: 'vfio-arm-emu/fuzz-baseline/1', profiles: { 'patches:1-10': others.map((sig) => ({ sig, why: 'test' })) } };
    const io3 = fakeIo({ 'b.json': JSON.stringify(partial) });
    expect(runFuzzCommand(['--profile', 'rfc-v4', '--runs', '10', '--out', 'out', '--baseline', 'b.json'], io3, { mkdir: () => {} })).toBe(1);
    expect(io3.stdout).toContain(`${first} [NEW]`);
    expect(io3.stdout).toContain(`${others.length} known finding(s) (baseline b.json), 1 new: ${first}`);
    for (const f of whole.findings) {
      expect(f.file).toMatch(/^out\/rfc-v4-.*\.json$/);
      const file = JSON.parse(io.files[f.file]!) as FindingFile;
      expect(runProgram(file.profile, file.program).finding?.sig).toBe(f.sig);
    }
    expect(whole.coverage.map((r) => `${r.fd}:${r.call}`)).toContain('device:VFIO_DEVICE_GET_REGION_INFO');
    // shards of a mainline campaign merge to the unsharded result
    const run = (extra: string[]): typeof whole => {
      const o = fakeIo();
      expect(runFuzzCommand(['--profile', 'mainline', '--runs', '40', '--json', ...extra], o, { mkdir: () => {} })).toBe(0);
      return JSON.parse(o.stdout) as typeof whole;
    };
    const all = run([]);
    const parts = [run(['--shard', '0/2']), run(['--shard', '1/2'])];
    expect(parts[0]!.runs + parts[1]!.runs).toBe(40);
    expect(parts[0]!.execs + parts[1]!.execs).toBe(all.execs);
    const merged = all.coverage.map((r) => {
      const a = parts[0]!.coverage.find((x) => x.fd === r.fd && x.call === r.call)!;
      const b = parts[1]!.coverage.find((x) => x.fd === r.fd && x.call === r.call)!;
      return { ...r, ok: a.ok || b.ok, errors: [...new Set([...a.errors, ...b.errors])].sort() };
    });
    expect(merged).toEqual(all.coverage.map((r) => ({ ...r, errors: [...r.errors].sort() })));
  });

  it('finding files are written as the slices end, not at the end of the campaign (a campaign stopped early keeps them)', () => {
    // the order of the CLI's writes and progress lines
    const log: string[] = [];
    const io = fakeIo();
    const write = io.writeFile;
    io.writeFile = (p, d) => {
      log.push(`write ${p}`);
      write(p, d);
    };
    io.err = (x) => void log.push(`err ${x.trim()}`);
    let dirs = 0;
    expect(runFuzzCommand(['--profile', 'rfc-v4', '--runs', '100', '--out', 'early'], io, { mkdir: () => void dirs++, workerFile: null })).toBe(0);
    const firstWrite = log.findIndex((l) => /^write early\/rfc-v4-.*\.json$/.test(l));
    const lastProgress = log.map((l) => l.startsWith('err fuzz: ')).lastIndexOf(true);
    expect(firstWrite).toBeGreaterThanOrEqual(0);
    expect(log[lastProgress]).toMatch(/^err fuzz: 100%/);
    // written while slices were still running: before the progress lines of later slices
    expect(firstWrite).toBeLessThan(lastProgress);
    expect(dirs).toBe(1);
    // one file (and its C reproducer) per signature, each written once: slices arrive in order in one job
    const jsons = log.filter((l) => /^write early\/.*\.json$/.test(l));
    expect(new Set(jsons).size).toBe(jsons.length);
    // the summary lists the files, and each holds the merged finding of its signature
    for (const j of jsons) expect(io.stdout).toContain(j.slice('write '.length));
  });

  it('a finding file that cannot be written mid-campaign (a full disk): a note, the campaign goes on, the finding stays in the summary', () => {
    const io = fakeIo();
    let fails = 0;
    io.writeFile = (p) => {
      fails++;
      throw Object.assign(new Error(`ENOSPC: no space left on device, open '${p}'`), { code: 'ENOSPC' });
    };
    expect(runFuzzCommand(['--profile', 'rfc-v4', '--runs', '50', '--out', 'full', '--json'], io, { mkdir: () => {}, workerFile: null })).toBe(0);
    const out = JSON.parse(io.stdout) as { runs: number; findings: { sig: string; file: string | null; reproducer: string | null }[] };
    expect(out.runs).toBe(50);
    expect(out.findings.length).toBeGreaterThan(0);
    expect(out.findings.every((f) => f.file === null && f.reproducer === null)).toBe(true);
    expect(fails).toBeGreaterThanOrEqual(out.findings.length);
    expect(io.stderr).toMatch(/^fuzz: cannot write finding file full\/rfc-v4-.*\.json: ENOSPC; the finding stays in the summary$/m);
    // anything else thrown is a bug, not the disk: it still ends the campaign
    const bad = fakeIo();
    bad.writeFile = () => {
      throw new TypeError('not a disk problem');
    };
    expect(() => runFuzzCommand(['--profile', 'rfc-v4', '--runs', '25', '--out', 'x'], bad, { mkdir: () => {}, workerFile: null })).toThrow(/not a disk problem/);
  });

  it('--json has the timeline: syscalls so far at the first slice result of each host second', () => {
    const t = new Timeline();
    t.add(100, 10);
    t.add(50, 500);
    t.add(30, 1000);
    t.add(5, 3500.4);
    t.add(1, 3999);
    t.add(2, 4000);
    expect(t.points).toEqual([[10, 100], [1000, 180], [3500, 185], [4000, 188]]);
    // a --time campaign on a clock that advances 0.3 s per reading: the points are in distinct
    // seconds, increasing, and end at or below the campaign's syscalls
    let clock = 0;
    const io = fakeIo();
    expect(runFuzzCommand(['--profile', 'mainline', '--time', '3', '--json'], io, { mkdir: () => {}, workerFile: null, now: () => (clock += 300) })).toBe(0);
    const out = JSON.parse(io.stdout) as { execs: number; timeline: [number, number][]; peakRssMb: number };
    // this process's peak resident set so far, in MiB
    expect(out.peakRssMb).toBeGreaterThan(1);
    expect(out.peakRssMb).toBeLessThanOrEqual(process.resourceUsage().maxRSS / 1024 + 0.1);
    expect(out.timeline.length).toBeGreaterThanOrEqual(3);
    const secs = out.timeline.map(([ms]) => Math.floor(ms / 1000));
    expect(new Set(secs).size).toBe(secs.length);
    for (let i = 1; i < out.timeline.length; i++) {
      expect(out.timeline[i]![0]).toBeGreaterThan(out.timeline[i - 1]![0]);
      expect(out.timeline[i]![1]).toBeGreaterThan(out.timeline[i - 1]![1]);
    }
    expect(out.timeline.at(-1)![1]).toBeLessThanOrEqual(out.execs);
    expect(out.timeline[0]![1]).toBeGreaterThan(0);
  });

  describe('--jobs with the bundled worker', () => {
    let dir: string;
    beforeAll(async () => {
      // a directory directly under the repository, like dist/, so the bundle finds emulator/boards
      mkdirSync('.scratch', { recursive: true });
      dir = resolve('.scratch');
      await build({ entryPoints: ['tools/fuzz/worker.ts'], outfile: join(dir, `fuzz-worker-${process.pid}.js`), bundle: true, platform: 'node', format: 'esm', target: 'node20', external: ['koffi'], logLevel: 'error', banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" } });
    });
    afterAll(() => rmSync(join(dir, `fuzz-worker-${process.pid}.js`), { force: true }));

    it('two jobs (child processes) give the same merged result as one in-process job', () => {
      const run = (jobs: string, workerFile: string | null): { runs: number; execs: number; findings: { sig: string; calls: string[] }[]; coverage: unknown } => {
        const io = fakeIo();
        runFuzzCommand(['--profile', 'mainline', '--runs', '30', '--json', '--jobs', jobs], io, { mkdir: () => {}, workerFile });
        const j = JSON.parse(io.stdout);
        return { runs: j.runs, execs: j.execs, findings: j.findings, coverage: j.coverage };
      };
      const one = run('1', null);
      const two = run('2', join(dir, `fuzz-worker-${process.pid}.js`));
      expect(two).toEqual(one);
      expect(readFileSync(join(dir, `fuzz-worker-${process.pid}.js`), 'utf8').length).toBeGreaterThan(1000);
    });
  });
});

describe('bench', () => {
  it('fuzzRateDetail reports syscalls and runs per second', () => {
    const r = fuzzRateDetail({ runs: 4, warmupRuns: 2 });
    expect(r.runs).toBe(4);
    expect(r.execs).toBeGreaterThan(4 * 5);
    expect(r.execsPerSec).toBeGreaterThan(0);
    expect(r.execsPerSec).toBeCloseTo(r.execs / (r.ms / 1000), 6);
  });

  it('fuzzRateCurve measures the same runs cold and after the warm-up', () => {
    const c = fuzzRateCurve(4, 12, 'mainline', 2);
    expect(c.cold.runs).toBe(4);
    expect(c.steady.runs).toBe(4);
    // the same seed-1 programs both times: only the JIT's state differs
    expect(c.steady.execs).toBe(c.cold.execs);
    expect(c.steady.execsPerSec).toBeGreaterThan(0);
  });
});

describe('progress output (issue 18)', () => {
  it('counts unique findings, and prints 100% once even when slices finish after --time ran out', () => {
    const io = fakeIo();
    const p = new Progress(io, 0, 1000);
    p.update(25, ['a', 'a', 'b'], 500);
    p.update(25, ['a', 'b', 'b', 'b'], 1000);
    // workers still finishing their slices after the time is up
    p.update(25, ['a'], 1200);
    p.update(25, ['c'], 1300);
    p.end();
    const lines = io.stderr.trim().split('\n');
    expect(lines).toEqual(['fuzz: 50% (25 runs, 2 unique findings so far)', 'fuzz: 100% (50 runs, 2 unique findings so far)']);
  });

  it('a --jobs count beyond the host CPUs runs one worker per CPU, with a note', () => {
    const io = fakeIo();
    runFuzzCommand(['--runs', '1', '--jobs', '8', '--profile', 'mainline'], io, { cpus: 2, workerFile: null, mkdir: () => {} });
    expect(io.stderr).toMatch(/fuzz: --jobs 8 on a host with 2 CPU\(s\): running 2 worker\(s\)/);
  });
});

describe('the reference model follows the kernel command line (mainline isolated MSI)', () => {
  // the happy-path prefix up to SET_IOMMU: clean whatever the command line, because the model
  // expects what vfio_iommu_type1_attach_group answers for the booted kernel's parameters
  it.each([
    ['mainline', 'vfio_platform.reset_required=0', '-EPERM'],
    ['mainline', 'vfio_platform.reset_required=0 vfio_iommu_type1.allow_unsafe_interrupts=1', '0'],
    ['rfc-v4', '', '0'],
  ] as const)('%s --bootargs %j: SET_IOMMU %s, no finding', (profile, bootargs, want) => {
    const { finding, harness } = runProgram(profile, SETUP_PREFIX.slice(0, 4), { bootargs, transcript: true });
    expect(finding).toBeNull();
    expect(harness.transcript.find((t) => /VFIO_SET_IOMMU/.test(t.line))!.ret).toBe(want);
  });
});

describe('ownership and the second group (issue 22)', () => {
  const echo = (path: string, value: string): Call => ({ op: 'echo', p: 0, path, value });
  function run(profile: string, calls: Call[]): { sig: string | null; h: Harness } {
    const h = new Harness({ profile, transcript: true });
    for (const c of calls) {
      try {
        h.exec(c);
      } catch (e) {
        if (e instanceof FindingError) return { sig: e.finding.sig, h };
        throw e;
      }
    }
    return { sig: null, h };
  }

  const status: Call = { op: 'ioctl', p: 0, fd: { k: 'group', i: 0 }, req: VFIO_REQS.VFIO_GROUP_GET_STATUS, arg: { t: 'struct', type: 'vfio_group_status', fields: { argsz: 8 }, ptr: 'ok' } };
  const touch: Call = { op: 'close', p: 0, fd: { raw: 999 } };
  const mapCall: Call = {
    op: 'ioctl',
    p: 0,
    fd: { k: 'container', i: 0 },
    req: VFIO_REQS.VFIO_IOMMU_MAP_DMA,
    arg: { t: 'struct', type: 'vfio_iommu_type1_dma_map', fields: { argsz: 32, flags: 3, vaddr: { dma: 0 }, iova: 0x10000, size: 0x2000 }, ptr: 'ok' },
  };
  /** the host driver bound to the PL330 while its group is in a container (the AMBA bus in mainline) */
  const bindHost = (bus: string, vfio: string): Call[] => [
    ...SETUP_PREFIX.slice(0, 3),
    echo(`/sys/bus/${bus}/drivers/${vfio}/unbind`, '2c0a0000.dma'),
    echo(`/sys/bus/${bus}/devices/2c0a0000.dma/driver_override`, ''),
    echo(`/sys/bus/${bus}/drivers/dma-pl330/bind`, '2c0a0000.dma'),
  ];

  it('binding a host driver into a group user space holds: the 3.14 BUG_ON; mainline revokes the group with its last VFIO device, so the bind goes through and GET_STATUS is -ENODEV (AMBA paths)', () => {
    const old = run('rfc-v4', bindHost('platform', 'vfio-platform'));
    expect(old.sig).toBe('oops:bug:vfio_iommu_group_notifier');
    const ml = run('mainline', [...bindHost('amba', 'vfio-amba'), status]);
    expect(ml.sig).toBeNull();
    expect(ml.h.transcript.map((t) => t.ret)).toEqual(['0', '1', '0', '0', '0', '0', '-ENODEV']);
  });

  it('the ownership invariant catches a group held by both a host driver and a container, and a wrong owner_cnt', () => {
    const a = run('mainline', SETUP_PREFIX.slice(0, 3));
    expect(a.sig).toBeNull();
    const dev = a.h.sys.kernel.driverCore.findDeviceOnAnyBus('2c0a0000.dma')!;
    (dev as { driver: unknown }).driver = a.h.sys.kernel.drivers.pl330; // bound behind the IOMMU core's back
    expect(run2(a.h, touch)).toBe('ownership');
    const b = run('mainline', SETUP_PREFIX.slice(0, 3));
    expect(b.sig).toBeNull();
    (b.h.sys.kernel.iommu.groupOf(b.h.sys.kernel.driverCore.findDeviceOnAnyBus('2c0a0000.dma')!) as { ownerCnt: number }).ownerCnt = 0;
    expect(run2(b.h, touch)).toBe('ownership');
  });

  it('two groups in one container: both streams translate through its mappings; a stream of a free group in its bank is caught', () => {
    for (const profile of ['rfc-v4', 'mainline']) {
      const { sig, h } = run(profile, [...SETUP_PREFIX, ...SECOND_GROUP, mapCall, touch]);
      expect(sig, profile).toBeNull();
      expect(h.devices.map((d) => d.group)).toEqual([0, 1]);
      const smmu = h.sys.machine.devices.find((d) => d.mmio[0] instanceof Smmu)!.mmio[0] as Smmu;
      const view = new SmmuView(smmu, h.sys.machine.bus);
      for (const sid of [1, 2]) {
        const r = view.route(sid);
        expect(r.kind, `${profile} stream ${sid}`).toBe('translate');
        const leaves: Leaf[] = [];
        if (r.kind === 'translate') view.leaves(r.cb, (l) => leaves.push(l));
        expect(leaves.map((l) => l.va)).toEqual([0x10000, 0x11000]);
      }
    }
    // rfc-v4, only the PL330's group attached: stream 2 forged into its context bank
    const { sig, h } = run('rfc-v4', [...SETUP_PREFIX, mapCall]);
    expect(sig).toBeNull();
    const smmu = h.sys.machine.devices.find((d) => d.mmio[0] instanceof Smmu)!.mmio[0] as Smmu;
    const cb = (new SmmuView(smmu, h.sys.machine.bus).route(1) as { cb: number }).cb;
    smmu.write(0xc00 + 4 * 7, 4, cb, ATTR_NS); // S2CR7: translate in that bank
    smmu.write(0x800 + 4 * 7, 4, 0x8000_0002, ATTR_NS); // SMR7: valid, stream 2
    expect(run2(h, touch)).toBe('dma-cross-group');
  });
});

describe('per-device groups in 2014 (issue 22)', () => {
  it('the shared-group board: rfc-v4 gives each master its own group, and the shared stream id lets the free group into the user bank (dma-cross-group); mainline makes one group, clean', () => {
    const open = (h: Harness, calls: Call[]): string | null => {
      for (const c of calls) {
        const s = run2(h, c);
        if (s) return s;
      }
      return null;
    };
    const old = new Harness({ profile: 'rfc-v4', board: 'vexpress-vfio-shared-group' });
    expect(old.devices.map((d) => d.group)).toEqual([0, 1]);
    expect(open(old, SETUP_PREFIX)).toBe('dma-cross-group');
    const ml = new Harness({ profile: 'mainline', board: 'vexpress-vfio-shared-group' });
    expect(ml.devices.map((d) => d.group)).toEqual([0, 0]);
    expect(open(ml, [...SETUP_PREFIX, { op: 'ioctl', p: 0, fd: { k: 'group', i: 0 }, req: VFIO_REQS.VFIO_GROUP_GET_DEVICE_FD, arg: { t: 'str', s: '2c0b0000.dma', nul: true, ptr: 'ok' } }])).toBeNull();
  });
});

describe('stall faults (issue 22)', () => {
  it('test-dma copying from an unmapped IOVA: a stalled transaction in rfc-v4, resumed by the context fault handler; terminated at once in mainline', () => {
    const mmio = (off: number, value: number): Call => ({ op: 'mmio', p: 0, map: 0, off, width: 4, write: true, value });
    for (const [profile, stalls] of [['rfc-v4', 1], ['mainline', 0]] as const) {
      const h = new Harness({ profile, transcript: true });
      const calls: Call[] = [
        ...SETUP_PREFIX,
        ...SECOND_GROUP,
        { op: 'mmap', p: 0, fd: { k: 'device', i: 1 }, len: 0x1000, prot: 3, flags: 1, off: { region: 0, off: 0 } },
        mmio(0, 0x40000), // SRC: unmapped
        mmio(4, 0x50000), // DST: unmapped
        mmio(8, 0x40), // LEN
        mmio(0xc, 1), // start
      ];
      for (const c of calls) h.exec(c);
      expect(h.transcript.at(-5)!.ret, profile).toMatch(/^\d+$/);
      const smmu = h.sys.machine.devices.find((d) => d.mmio[0] instanceof Smmu)!.mmio[0] as Smmu;
      h.exec({ op: 'run', ns: 1_000_000 });
      expect(smmu.fault.stalls, profile).toBe(stalls);
      expect(smmu.fault.stalled.length).toBe(0);
      expect(h.sys.kernel.drivers.armSmmu.first!.contextFaults.length, profile).toBeGreaterThan(0);
      // a transaction nobody resumes (forged: held without a fault the driver saw) is reported
      smmu.fault.stalled.push({ cb: 0, va: 0x40000, attrs: 2 << 16, since: h.sys.now, listener: null });
      expect(run2(h, { op: 'run', ns: 1_000_000 })).toBe('stall-stuck');
    }
  });
});

function run2(h: Harness, c: Call): string | null {
  try {
    h.exec(c);
    return null;
  } catch (e) {
    if (e instanceof FindingError) return e.finding.sig;
    throw e;
  }
}

describe('fork: two processes holding the same container', () => {
  const map4: Call = { op: 'ioctl', p: 0, fd: { k: 'container', i: 0 }, req: VFIO_REQS.VFIO_IOMMU_MAP_DMA, arg: { t: 'struct', type: 'vfio_iommu_type1_dma_map', fields: { argsz: 32, flags: 3, vaddr: { dma: 0 }, iova: 0, size: 0x4000 }, ptr: 'ok' } };
  const unmapBy = (p: number, flags = 0): Call => ({ op: 'ioctl', p, fd: { k: 'container', i: 0 }, req: VFIO_REQS.VFIO_IOMMU_UNMAP_DMA, arg: { t: 'struct', type: 'vfio_iommu_type1_dma_unmap', fields: { argsz: 24, flags, iova: 0, size: 0x4000 }, ptr: 'ok' } });
  const fork: Call = { op: 'fork', p: 0, into: 1 };

  it('the child gets the parent\'s files and memory at the same addresses; the slot\'s old process is gone', () => {
    const h = new Harness({ profile: 'mainline' });
    for (const c of [...SETUP_PREFIX, map4]) h.exec(c);
    const old = h.slots[1]!.proc;
    h.exec(fork);
    const [parent, child] = [h.slots[0]!, h.slots[1]!];
    expect(old.alive).toBe(false);
    expect(child.proc.openFds).toEqual(parent.proc.openFds);
    for (const fd of parent.proc.openFds) expect(child.proc.fdget(fd)).toBe(parent.proc.fdget(fd));
    expect([child.scratch, child.dma]).toEqual([parent.scratch, parent.dma]);
    // P1's credentials: no CAP_IPC_LOCK; locked_vm starts at 0
    expect([child.proc.capIpcLock, child.proc.mm.lockedVm, parent.proc.mm.lockedVm]).toEqual([false, 0, 4]);
    expect(formatCall(fork)).toBe('P0: fork(); /* the child is P1 */');
  });

  it('rfc-v4: the child\'s UNMAP_DMA of the parent\'s mapping is a locked-vm finding (3.14 vfio_lock_acct on current->mm); mainline runs clean', () => {
    const r = runProgram('rfc-v4', [...SETUP_PREFIX, map4, fork, unmapBy(1)]);
    expect(r.finding?.sig).toBe('locked-vm');
    expect(r.finding?.message).toMatch(/fuzz0\.\d+: locked_vm 4 pages, the live mappings account 0/);
    expect(runProgram('mainline', [...SETUP_PREFIX, map4, fork, unmapBy(1)]).finding).toBeNull();
  });

  it('the parent\'s close of its fds does not release what the child still holds; the child\'s exit does', () => {
    const h = new Harness({ profile: 'mainline' });
    for (const c of [...SETUP_PREFIX, map4, fork]) h.exec(c);
    const it1 = h.sys.vfio.containerStates()[0]!.data as Type1Iommu;
    for (const k of ['device', 'group', 'container'] as const) h.exec({ op: 'close', p: 0, fd: { k, i: 0 } });
    expect(h.slots[0]!.proc.openFds.length).toBe(0);
    expect(it1.pinnedPages).toBe(4);
    h.exec({ op: 'exit', p: 1 });
    expect(it1.released).toBe(true);
    expect(() => h.finish()).not.toThrow();
  });

  it('mainline: the child takes the mapping over with VADDR (vfio_change_dma_owner), then its unmap uncharges it', () => {
    const h = new Harness({ profile: 'mainline' });
    for (const c of [...SETUP_PREFIX, map4, fork, unmapBy(0, 4)]) h.exec(c);
    const remap: Call = { op: 'ioctl', p: 1, fd: { k: 'container', i: 0 }, req: VFIO_REQS.VFIO_IOMMU_MAP_DMA, arg: { t: 'struct', type: 'vfio_iommu_type1_dma_map', fields: { argsz: 32, flags: 4, vaddr: { dma: 0 }, iova: 0, size: 0x4000 }, ptr: 'ok' } };
    expect(execCall(h, remap)).toBeNull();
    expect([h.slots[0]!.proc.mm.lockedVm, h.slots[1]!.proc.mm.lockedVm]).toEqual([0, 4]);
    expect(execCall(h, unmapBy(1))).toBeNull();
    expect(h.slots[1]!.proc.mm.lockedVm).toBe(0);
    expect(() => h.finish()).not.toThrow();
  });

  it('the reference model follows the shared files: it keeps comparing, and a release comes with the last fd in either process', () => {
    const h = new Harness({ profile: 'mainline', transcript: true });
    for (const c of [...SETUP_PREFIX, map4, fork]) h.exec(c);
    // the parent lets go of everything: nothing is released, the child's fds hold it all
    for (const k of ['device', 'group', 'container'] as const) expect(execCall(h, { op: 'close', p: 0, fd: { k, i: 0 } })).toBeNull();
    expect(h.model.lost).toBe(false);
    // the group is still open (the child's fd): a second open is refused, as the model predicts
    const reopen: Call = { op: 'open', p: 0, path: '/dev/vfio/0', flags: 2 };
    expect(execCall(h, reopen)).toBeNull();
    expect(h.transcript.at(-1)!.ret).toBe('-EBUSY');
    // the child's device fd and unmap work on the container the parent made
    expect(execCall(h, { op: 'ioctl', p: 1, fd: { k: 'group', i: 0 }, req: VFIO_REQS.VFIO_GROUP_GET_DEVICE_FD, arg: { t: 'str', s: '2c0a0000.dma', nul: true, ptr: 'ok' } })).toBeNull();
    expect(execCall(h, unmapBy(1))).toBeNull();
    expect(h.model.lost).toBe(false);
    // the child's closes release them: the model and the kernel agree at each step
    for (const k of ['device', 'device', 'group', 'container'] as const) expect(execCall(h, { op: 'close', p: 1, fd: { k, i: 0 } })).toBeNull();
    expect(h.sys.vfio.containerStates()).toHaveLength(0);
    expect(h.model.lost).toBe(false);
    expect(() => h.finish()).not.toThrow();
  });

  it('a device file another process\'s mapping still holds is not released at the exit that drops its last fd (found by a campaign): the model stops comparing', () => {
    const mmapDev: Call = { op: 'mmap', p: 0, fd: { k: 'device', i: 0 }, len: 0x1000, prot: 3, flags: 1, off: { region: 0, off: 0 } };
    const program: Call[] = [...SETUP_PREFIX, fork, mmapDev, { op: 'close', p: 0, fd: { k: 'device', i: 0 } }, fork];
    for (const profile of ['rfc-v4', 'mainline']) {
      const r = runProgram(profile, program);
      expect(r.finding, profile).toBeNull();
      // P0's mapping holds the device open after P1's exit took its last fd
      expect(r.harness.model.lost, profile).toBe(true);
    }
  });

  it('fork into the caller\'s own slot does nothing', () => {
    const h = new Harness({ profile: 'mainline' });
    for (const c of SETUP_PREFIX) h.exec(c);
    const p0 = h.slots[0]!.proc;
    h.exec({ op: 'fork', p: 0, into: 0 });
    expect(h.slots[0]!.proc).toBe(p0);
  });
});
