/**
 * The fuzzer's invariants catch what they claim to, and its reference model follows the kernel
 * (mainline type1 rules, the 2014 answers, the kernel command line). Split from fuzz.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { SECOND_GROUP, SETUP_PREFIX } from './arb.js';
import { execCall, runProgram } from './engine.js';
import { FindingError, Harness } from './harness.js';
import { formatCall, VFIO_REQS, type Call } from './program.js';
import type { Type1Iommu } from '../../kernel-model/vfio/type1.js';
import { Smmu } from '../../devices/smmu/smmu.js';
import { SmmuView, type Leaf } from './isolation.js';
import { mapCall, status } from './testing/calls.js';

describe('invariants catch what they claim to', () => {
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
    // (the container fops are frozen: the container file gets a patched copy)
    const file = h.slots[0]!.proc.fdget(h.resolveFd(0, { k: 'container', i: 0 }))! as { ops: { ioctl?: (...a: never[]) => number } };
    const orig = file.ops.ioctl!;
    file.ops = { ...file.ops, ioctl: (...a: never[]) => (a[2] === 0x3b7f ? -25 : orig(...a)) };
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
