import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SETUP_PREFIX, programArb } from './arb.js';
import { harnessSnapshot, runCampaign, runProgram } from './engine.js';
import { FindingError, Harness, type Finding } from './harness.js';
import type { Call } from './program.js';
import type { IrqDesc } from '../../kernel-model/irq/desc.js';
import { GraphSnapshot, IndexRecord, SnapshotUnsupported } from './snapshot.js';
import { graphDigest } from './snapshot-digest.js';
import { System } from '../system/system.js';
import { runDmaThroughSmmu } from '../bench/dma-smmu.js';
import { PhysicalBus } from '../../emulator/bus.js';
import { MasterPort, newTranslationResult } from '../../emulator/master.js';
import { Scheduler } from '../../emulator/scheduler.js';
import { DMAEND, DMALD, DMAST, Pl330Asm } from '../../devices/pl330/assembler.js';
import { makeCcr } from '../../devices/pl330/constants.js';
import { Pl330 } from '../../devices/pl330/pl330.js';
import * as A from '../../devices/pl330/assembler.js';
import * as R from '../../devices/pl330/constants.js';
import { makeAttrs } from '../../emulator/attrs.js';
import { accelParts } from '../../devices/smmu/accel/index.js';

/** run a program on a harness (already in its post-set-up state); first finding or null */
function exec(h: Harness, program: readonly Call[]): Finding | null {
  try {
    for (const c of program) h.exec(c);
    h.finish();
  } catch (e) {
    if (e instanceof FindingError) return e.finding;
    throw e;
  }
  return null;
}

function programs(seed: number, n: number): Call[][] {
  return fc.sample(programArb(24), { seed, numRuns: n }).map((p, i) => (i % 2 === 0 ? [...SETUP_PREFIX, ...p] : p));
}

describe('snapshot/restore of the fuzz harness', () => {
  for (const profile of ['rfc-v4', 'mainline']) {
    it(`${profile}: after arbitrary runs, restore gives back the snapshot state exactly (object graph and every RAM byte)`, () => {
      const h = new Harness({ profile, transcript: true });
      const snap = harnessSnapshot(h);
      // a guarded part changed while its owner's version stayed would throw
      snap.verifyGuards = true;
      const ram = h.sys.machine.ram[0]!;
      // the digest covers every allocated RAM chunk's bytes and which chunks are allocated
      const d0 = graphDigest([h]);
      const chunks0 = ram.chunksPresent;
      let dirtied = 0;
      // and a fork: the child process, its copied pages and the shared files are gone after the restore
      const fork: Call[] = [...SETUP_PREFIX, { op: 'fork', p: 0, into: 1 }, { op: 'close', p: 0, fd: { k: 'group', i: 0 } }];
      for (const p of [...programs(11, 8), fork]) {
        exec(h, p);
        dirtied += ram.dirtyPages().length;
        expect(graphDigest([h])).not.toBe(d0); // the run changed the state
        snap.restore();
        expect(graphDigest([h])).toBe(d0);
        expect(ram.chunksPresent).toBe(chunks0);
      }
      expect(dirtied).toBeGreaterThan(0);
    });

    it(`${profile}: programs give identical transcripts, findings, virtual time and syscall counts on a restored and a freshly booted harness`, () => {
      const h = new Harness({ profile, transcript: true });
      const snap = harnessSnapshot(h);
      let findings = 0;
      // seed 34: the rfc-v4 programs include a finding, and three of them fork (the fork op changed the arbitraries again)
      for (const p of programs(34, 8)) {
        snap.restore();
        const f1 = exec(h, p);
        const fresh = runProgram(profile, p, { transcript: true });
        expect(h.transcript).toEqual(fresh.harness.transcript);
        expect(f1).toEqual(fresh.finding);
        expect(h.sys.now).toBe(fresh.harness.sys.now);
        expect(h.runSyscalls).toBe(fresh.harness.runSyscalls);
        expect([...h.coverage.entries()].map(([k, v]) => [k, [...v]])).toEqual([...fresh.harness.coverage.entries()].map(([k, v]) => [k, [...v]]));
        if (f1) findings++;
      }
      if (profile === 'rfc-v4') expect(findings).toBeGreaterThan(0);
    });
  }

  it('a campaign gives the same findings, runs, syscall count and coverage with snapshots as with a boot per run', () => {
    const a = runCampaign({ profile: 'rfc-v4', seed: 3, runs: 30, reuse: true });
    const b = runCampaign({ profile: 'rfc-v4', seed: 3, runs: 30, reuse: false });
    expect(a.runs).toBe(b.runs);
    expect(a.execs).toBe(b.execs);
    expect(a.coverage).toEqual(b.coverage);
    expect(a.findings.map((f) => [f.sig, f.program, f.transcript])).toEqual(b.findings.map((f) => [f.sig, f.program, f.transcript]));
  });

  it('the sysfs tree is restored through its guard: only when Sysfs counted a change, and a change it did not count is caught in verification mode', () => {
    const h = new Harness({ profile: 'mainline' });
    const snap = harnessSnapshot(h);
    const sysfs = h.sys.kernel.sysfs;
    expect(snap.guardedSize).toBeGreaterThan(20); // the directories' maps
    snap.verifyGuards = true;
    const d0 = graphDigest([h]);
    // runs with sysfs rebinding (unbind and bind change the driver links) and without
    const unbind: Call = { op: 'echo', p: 0, path: '/sys/bus/amba/drivers/vfio-amba/unbind', value: '2c0a0000.dma' };
    let moved = 0;
    for (const p of [...programs(5, 6), [unbind], [...SETUP_PREFIX, unbind]]) {
      const v = sysfs.version;
      exec(h, p);
      if (sysfs.version !== v) moved++;
      snap.restore();
      expect(graphDigest([h])).toBe(d0);
    }
    expect(moved).toBeGreaterThan(0);
    expect(snap.guardOf(sysfs).restores).toBe(moved);
    // entries are frozen; a directory map changed behind Sysfs's back is found (and would not be restored)
    expect(() => ((sysfs.lookup('bus') as { kind: string }).kind = 'file')).toThrow(TypeError);
    const dir = sysfs.lookup('bus/platform/drivers') as unknown as { children: Map<string, unknown> };
    dir.children.delete('vfio-platform');
    expect(() => snap.restore()).toThrow(/guard/);
  });

  for (const profile of ['rfc-v4', 'mainline']) {
    it(`${profile}: the IRQ descriptors are restored through their guards: a descriptor only when IrqCore counted a change of it, and a change it did not count is caught in verification mode`, () => {
      const h = new Harness({ profile });
      const snap = harnessSnapshot(h);
      const irq = h.sys.irq;
      const descs = irq.descriptors() as IrqDesc[];
      expect(descs.length).toBeGreaterThan(profile === 'rfc-v4' ? 100 : 5); // 3.14's legacy domain: a descriptor per GIC ID
      for (const d of descs) expect(snap.guardOf(d).records).toBe(2 + d.actions.length); // itself, its action list, each action
      snap.verifyGuards = true;
      const d0 = graphDigest([h]);
      const moved = new Map<IrqDesc, number>();
      // the programs open and close the devices: VFIO's request_irq/free_irq, the SMMU's context interrupt
      for (const p of [...programs(5, 6), ...programs(21, 4)]) {
        const v = descs.map((d) => d.version);
        exec(h, p);
        descs.forEach((d, i) => {
          if (d.version !== v[i]) moved.set(d, (moved.get(d) ?? 0) + 1);
        });
        snap.restore();
        expect(graphDigest([h])).toBe(d0);
      }
      expect(moved.size).toBeGreaterThan(0);
      for (const d of descs) expect(snap.guardOf(d).restores).toBe(moved.get(d) ?? 0);
      if (profile === 'rfc-v4') expect(moved.size).toBeLessThan(descs.length / 10); // a run touches a few lines
      // each way IrqCore changes a descriptor is counted, and restored (verification mode: a
      // change it did not count throws); the flow handler is called as the IRQ entry would
      const line = descs.find((d) => d.actions.length === 0 && d.hwirq >= 32)!;
      const flow = irq as unknown as { handleFasteoi(d: IrqDesc, iar: number): void };
      const dev = {};
      // a line with a handler after set-up (the SMMU's global fault interrupt)
      const used = descs.find((d) => d.actions.length > 0)!;
      const changes: [string, IrqDesc, () => void][] = [
        ['disable_irq', line, () => irq.disableIrq(line.irq)],
        ['enable_irq', line, () => irq.enableIrq(line.irq)],
        ['request_irq', line, () => expect(irq.requestIrq(line.irq, () => 1, 0x80, 'test', dev)).toBe(0)],
        ['free_irq', used, () => expect(irq.freeIrq(used.irq, used.actions[0]!.devId)).not.toBe(null)],
        ['irq_set_irq_type', line, () => expect(irq.irqSetIrqType(line.irq, 1)).toBe(0)],
        ['handle_fasteoi_irq', line, () => flow.handleFasteoi(line, line.hwirq)],
      ];
      // 3.14 programs another type given at mapping time (v6.12 refuses a mismatch: no change)
      if (profile === 'rfc-v4') changes.push(['irq_of_parse_and_map', line, () => expect(irq.irqOfParse([0, line.hwirq - 32, line.trigger === 1 ? 4 : 1])).toBe(line.irq)]);
      for (const [what, desc, change] of changes) {
        const d = graphDigest([desc]);
        change();
        expect(graphDigest([desc]), what).not.toBe(d);
        snap.restore();
        expect(graphDigest([h]), what).toBe(d0);
      }
      irq.requestIrq(line.irq, () => 1, 0, 'test', dev);
      irq.freeIrq(line.irq, dev);
      snap.restore();
      expect(graphDigest([h])).toBe(d0);
      // the paths that change a descriptor without the helpers (mask, unmask, set type): a
      // snapshot with two shared handlers on one line and another line disabled twice
      const shared = descs.filter((d) => d.actions.length === 0 && d.hwirq >= 32)[1]!;
      for (const id of [1, 2]) expect(irq.requestIrq(shared.irq, () => 1, 0x80, 'shared', id)).toBe(0);
      irq.disableIrq(line.irq);
      const snap2 = harnessSnapshot(h);
      snap2.verifyGuards = true;
      const d1 = graphDigest([h]);
      const bare: [string, IrqDesc, () => void][] = [
        ['enable_irq, depth 2', line, () => irq.enableIrq(line.irq)],
        ['request_irq, shared', shared, () => expect(irq.requestIrq(shared.irq, () => 1, 0x80, 'shared', 3)).toBe(0)],
        ['free_irq, one of two', shared, () => expect(irq.freeIrq(shared.irq, 1)).toBe('shared')],
        ['handle_fasteoi_irq, handled', shared, () => flow.handleFasteoi(shared, shared.hwirq)],
      ];
      for (const [what, desc, change] of bare) {
        const d = graphDigest([desc]);
        change();
        expect(graphDigest([desc]), what).not.toBe(d);
        snap2.restore();
        expect(graphDigest([h]), what).toBe(d1);
      }
      // a descriptor changed behind IrqCore's back is found (and would not be restored)
      line.count++;
      expect(() => snap2.restore()).toThrow(/guard/);
    });
  }

  it('a PL330 is restored through its guard: only when one of its ways in counted a change, including scheduler events pending at snapshot time', () => {
    const h = new Harness({ profile: 'mainline' });
    const dmac = h.sys.machine.devices.flatMap((d) => ('dmac' in d && d.dmac instanceof Pl330 ? [d.dmac] : []))[0]!;
    const sched = h.sys.machine.scheduler;
    const at = makeAttrs({});
    const pc = h.sys.machine.ram[0]!.base; // a DMAEND (0x00) or whatever the page holds: the thread runs
    const snap = harnessSnapshot(h);
    expect(snap.guardOf(dmac).records).toBeGreaterThan(30); // the controller, its threads, FIFOs, register store
    snap.verifyGuards = true;
    const d0 = graphDigest([h]);
    const changes: [string, () => void][] = [
      ['register write', () => dmac.write(R.REG_INTEN, 4, 1, at)],
      ['channel started and run', () => (dmac.startChannel(0, pc), sched.runUntilIdle(1000))],
      ['peripheral request', () => dmac.peripheralRequest(0, 'burst')],
      ['reset', () => dmac.reset()],
      ['fault delivered (the loop accelerator\'s deferred fault events call it)', () => dmac.fault(dmac.channels[0]!, 1)],
    ];
    for (const [what, change] of changes) {
      const d = graphDigest([dmac]);
      change();
      expect(graphDigest([dmac]), what).not.toBe(d);
      snap.restore();
      expect(graphDigest([h]), what).toBe(d0);
    }
    expect(snap.guardOf(dmac).restores).toBe(changes.length);
    // scheduler events registered before the snapshot change the controller when they run:
    // a thread step, a debug instruction (DMASEV on the manager)
    const pending: [string, () => void][] = [
      ['thread step', () => dmac.startChannel(0, pc)],
      ['debug instruction', () => (dmac.write(R.REG_INTEN, 4, 1, at), dmac.write(R.REG_DBGINST0, 4, A.debugInst(A.DMASEV(0))[0], at), dmac.write(R.REG_DBGCMD, 4, 0, at))],
    ];
    for (const [what, before] of pending) {
      snap.restore();
      before();
      const s = harnessSnapshot(h);
      s.verifyGuards = true;
      const d1 = graphDigest([h]);
      const v = graphDigest([dmac]);
      sched.runUntilIdle(1000);
      expect(graphDigest([dmac]), what).not.toBe(v);
      s.restore();
      expect(graphDigest([h]), what).toBe(d1);
      expect(s.guardOf(dmac).restores, what).toBe(1);
    }
    // the controller changed behind its ways in is found (and would not be restored)
    const s = harnessSnapshot(h);
    s.verifyGuards = true;
    dmac.channels[0]!.lc0++;
    expect(() => s.restore()).toThrow(/guard/);
  });

  for (const scramble of [false, true]) {
    it(`the SMMU's accelerators and the PL330 are restored through their guards after a copy through the SMMU (scrambled pages ${scramble})`, () => {
      const run = runDmaThroughSmmu(8 * 4096, () => 0, { accel: true, scramble });
      const bus = (run.dmac as unknown as { port: { bus: PhysicalBus } }).port.bus;
      const region = bus.ramAt(0x80000000, 1)!;
      const parts = accelParts(run.smmu);
      expect(parts.length).toBe(2); // the quiet path, the copy runner
      const roots = [run.smmu, run.dmac, run.sched];
      const snap = new GraphSnapshot(roots, [region], [], [], [], undefined, [...parts, { owner: run.dmac, root: run.dmac }]);
      snap.verifyGuards = true;
      const d0 = graphDigest(roots);
      for (let i = 0; i < 2; i++) {
        run.again();
        expect(graphDigest(roots)).not.toBe(d0);
        snap.restore();
        expect(graphDigest(roots)).toBe(d0);
      }
      for (const p of parts) expect(snap.guardOf(p.owner).restores).toBe(2);
      // each hook into the quiet path on its own: the access the copy's first load makes
      const smmu = run.smmu;
      const at = makeAttrs({ streamId: 1 });
      const out = newTranslationResult();
      const quiet = parts[0]!.owner;
      const hooks: [string, () => void][] = [
        ['quietLookup', () => smmu.quietLookup!(0, at, out)],
        ['translateHits', () => smmu.translateHits!(0, at, 1, out)],
      ];
      for (const [what, hook] of hooks) {
        const n = snap.guardOf(quiet).restores;
        const d = graphDigest([quiet]);
        hook();
        expect(graphDigest([quiet]), what).not.toBe(d);
        snap.restore();
        expect(graphDigest(roots), what).toBe(d0);
        expect(snap.guardOf(quiet).restores, what).toBeGreaterThan(n);
      }
      // the translate() that replays a quietLookup made before the snapshot (it drops the walk it remembered)
      expect(smmu.quietLookup!(0, at, out)).toBe(true);
      const snap2 = new GraphSnapshot(roots, [region], [], [], [], undefined, [...parts, { owner: run.dmac, root: run.dmac }]);
      snap2.verifyGuards = true;
      const d2 = graphDigest(roots);
      smmu.translate(0, at, out);
      snap2.restore();
      expect(graphDigest(roots)).toBe(d2);
      expect(snap2.guardOf(quiet).restores).toBe(1);
      // an accelerator's state changed behind its hooks is found (and would not be restored)
      for (const p of parts) {
        const o = p.root as { version: number };
        const keys = Object.keys(o).filter((k) => typeof (o as unknown as Record<string, unknown>)[k] === 'number' && k !== 'version');
        (o as unknown as Record<string, number>)[keys[0]!]! += 1;
        expect(() => snap2.restore()).toThrow(/guard/);
        o.version++;
        snap2.restore();
      }
    });
  }

  it('every writer of RAM records the pages it wrote (bus, page allocator, kmalloc heap, user stores)', () => {
    const sys = new System({ profile: 'mainline' });
    const ram = sys.machine.ram[0]!;
    const { pages, kmem } = sys.kernel.mm;
    const page = (pa: number): number => (pa - ram.base) >>> 12;
    // each check starts a new record (snapshot) and looks at the pages recorded since
    const check = (name: string, pa: number, write: () => void, span = 1): void => {
      ram.snapshot();
      write();
      expect(ram.dirtyPages(), name).toEqual(Array.from({ length: span }, (_, i) => page(pa) + i));
    };
    const pa = pages.allocPage();
    // zeros written into never-written RAM change nothing and allocate nothing: give the
    // pages contents first so that the allocator's zeroing is a real write
    const pa2 = pages.allocPages(1);
    sys.machine.bus.fill(pa, 0x5a, 4096, 0);
    sys.machine.bus.fill(pa2, 0x5a, 8192, 0);
    check('allocPage (zeroing)', pa, () => {
      pages.freePage(pa);
      expect(pages.allocPage()).toBe(pa);
    });
    pages.freePages(pa2, 1);
    check('allocPages(1)', pa2, () => pages.allocPages(1), 2);
    check('bus.write', pa, () => sys.machine.bus.write(pa + 8, 4, 1, 0));
    check('bus.write64', pa, () => sys.machine.bus.write64(pa + 8, 1, 2, 0));
    check('bus.writeBlock', pa, () => sys.machine.bus.writeBlock(pa + 4094, new Uint8Array(4), 0, 4, 0), 2);
    check('bus.fill', pa, () => sys.machine.bus.fill(pa, 7, 16, 0));
    const kva = kmem.lin.paToKva(pa);
    check('kmem.write8', pa, () => kmem.write8(kva + 1, 1));
    check('kmem.write16', pa, () => kmem.write16(kva + 2, 1));
    check('kmem.write32', pa, () => kmem.write32(kva + 4, 1));
    check('kmem.write64', pa, () => kmem.write64(kva + 8, 1));
    check('kmem.writeBytes', pa, () => kmem.writeBytes(kva + 16, new Uint8Array([1, 2])));
    check('kmem.writePhys64', pa, () => kmem.writePhys64(pa + 24, 1, 2));
    const proc = sys.syscalls.createProcess({ name: 'p' });
    const va = sys.syscalls.invoke(proc, null, 'mmap2', [0, 4096, 3, 0x22, -1, 0]);
    proc.mm.storeU(va, 4, 1); // faults the page in
    ram.snapshot();
    proc.mm.storeU(va + 4, 4, 2);
    proc.mm.storeU(va + 8, 2, 2);
    proc.mm.storeU(va + 10, 1, 2);
    const dirty = ram.dirtyPages();
    expect(dirty.length, 'user stores').toBe(1);
    expect(ram.read8(dirty[0]! * 4096 + 4)).toBe(2);
  });

  it('the page allocator records every page whose state, reference or pin count it changes', () => {
    const sys = new System({ profile: 'mainline' });
    const pages = sys.kernel.mm.pages;
    const rec = new IndexRecord(pages.nrPages);
    pages.touched = rec;
    const ram = sys.machine.ram[0]!;
    const idx = (pa: number): number => (pa - ram.base) >>> 12;
    const check = (name: string, pa: number, change: () => void, span = 1): void => {
      for (const i of rec.list) rec.flags[i] = 0;
      rec.list.length = 0;
      change();
      expect(rec.list, name).toEqual(Array.from({ length: span }, (_, i) => idx(pa) + i));
    };
    const pa = pages.allocPage();
    check('freePage', pa, () => pages.freePage(pa));
    check('allocPage', pa, () => expect(pages.allocPage()).toBe(pa));
    check('getPage', pa, () => pages.getPage(pa));
    check('putPage', pa, () => pages.putPage(pa));
    check('pinPage', pa, () => pages.pinPage(pa));
    check('unpinPage', pa, () => pages.unpinPage(pa));
    const pa2 = pages.allocPages(1);
    pages.freePages(pa2, 1);
    check('allocPages(1)', pa2, () => pages.allocPages(1), 2);
    // a snapshot restores exactly the recorded pages
    const snapPages = new Uint32Array(pages.perPageArrays()[1]!);
    const snap = new GraphSnapshot([], [], [], [], [{ arrays: pages.perPageArrays(), owner: pages }]);
    pages.pinPage(pa);
    pages.freePages(pa2, 1);
    snap.restore();
    expect(new Uint32Array(pages.perPageArrays()[1]!)).toEqual(snapPages);
    expect(pages.pinCount(pa)).toBe(0);
    expect(pages.isAllocated(pa2)).toBe(true);
  });

  for (const accel of [true, false]) {
    for (const scramble of [false, true]) {
      it(`PL330 copies behind the SMMU record every RAM page they change (accelerators ${accel ? "on" : "off"}, scrambled pages ${scramble})`, () => {
        const run = runDmaThroughSmmu(8 * 4096, () => 0, { accel, scramble });
        const bus = (run.dmac as unknown as { port: { bus: PhysicalBus } }).port.bus;
        const region = bus.ramAt(0x80000000, 1)!;
        region.fill(run.bytes, 0x77, run.bytes);
        const before = region.readBytes(0, region.size);
        region.snapshot();
        run.again();
        const recorded = new Set(region.dirtyPages());
        let changed = 0;
        for (let p = 0; p < region.size / 4096; p++) {
          const a = before.subarray(p * 4096, (p + 1) * 4096);
          const b = region.readBytes(p * 4096, 4096);
          if (Buffer.compare(a, b) !== 0) {
            changed++;
            expect(recorded.has(p), `page ${p} changed without a record`).toBe(true);
          }
        }
        expect(changed).toBe(8);
      });
    }
  }

  it('PL330 bulk copies without an IOMMU record the pages they write', () => {
    const sched = new Scheduler();
    const bus = new PhysicalBus();
    const base = 0x80000000;
    const bytes = 4 * 4096;
    const region = bus.addRam('ram', base, 2 * bytes + 4096);
    const dmac = new Pl330({ dataWidthBits: 128, accel: true }, { scheduler: sched, port: new MasterPort(bus, 'pl330', null), eventIrqs: [], abortIrq: null });
    region.fill(0, 0x42, bytes);
    const a = new Pl330Asm();
    a.mov('CCR', makeCcr({ srcBeatBytes: 16, srcBurstLen: 16 })).mov('SAR', base).mov('DAR', base + bytes);
    a.lp(0, bytes / 256).emit(DMALD()).emit(DMAST()).lpEnd();
    a.emit(DMAEND());
    region.writeBytes(2 * bytes, a.toBytes());
    region.snapshot();
    dmac.startChannel(0, base + 2 * bytes);
    sched.runUntilIdle(1e8);
    expect(region.read8(bytes + 5)).toBe(0x42);
    expect(region.dirtyPages()).toEqual([4, 5, 6, 7]);
  });

  it('restores objects, arrays, maps, sets and buffers in place and drops what was added', () => {
    const inner = { x: 1 };
    const root = { n: 1, s: 'a', arr: [1, inner], m: new Map([['k', inner]]), set: new Set([1]), u8: new Uint8Array([1, 2, 3]), dict: { a: 1 } as Record<string, number> };
    const snap = new GraphSnapshot([root], []);
    const d0 = graphDigest([root]);
    root.n = 2;
    root.s = 'b';
    inner.x = 5;
    root.arr.push(7);
    root.m.set('z', { x: 9 });
    root.m.delete('k');
    root.set.add(2);
    root.u8[1] = 9;
    root.dict.b = 2;
    expect(graphDigest([root])).not.toBe(d0);
    snap.restore();
    expect(graphDigest([root])).toBe(d0);
    expect(root).toEqual({ n: 1, s: 'a', arr: [1, { x: 1 }], m: new Map([['k', { x: 1 }]]), set: new Set([1]), u8: new Uint8Array([1, 2, 3]), dict: { a: 1 } });
    expect(root.arr[1]).toBe(inner);
    // -0 and 0 are told apart
    const z = { a: 0, arr: [0] };
    const zs = new GraphSnapshot([z], []);
    z.a = -0;
    z.arr[0] = -0;
    zs.restore();
    expect(Object.is(z.a, 0) && Object.is(z.arr[0], 0)).toBe(true);
    // map values too, both ways (an unchanged map holding 0 is left as it is)
    const mz = { m: new Map<string, number>([['a', 0], ['b', -0]]) };
    const ms = new GraphSnapshot([mz], []);
    const before = [...mz.m];
    ms.restore();
    expect([...mz.m]).toEqual(before);
    mz.m.set('a', -0);
    mz.m.set('b', 0);
    ms.restore();
    expect(Object.is(mz.m.get('a'), 0) && Object.is(mz.m.get('b'), -0)).toBe(true);
    // frozen objects and arrays cannot change and are not recorded; a frozen Map's entries can, and are
    const fz = { o: Object.freeze({ a: 1 }), a: Object.freeze([1, 2]), m: Object.freeze(new Map([['k', 1]])) };
    const fs = new GraphSnapshot([fz], []);
    expect(fs.size).toBe(2); // fz and the map
    fz.m.set('k', 2);
    fs.restore();
    expect(fz.m.get('k')).toBe(1);
    // a frozen object's own properties are constant, what they point to is not: an unfrozen
    // object held by a frozen one is recorded and restored
    const held = { n: 1, list: [1] };
    const table = Object.freeze({ op: (): number => 1, held });
    const ts = new GraphSnapshot([{ table }], []);
    expect(ts.recordedObjects().map((r) => r.o)).not.toContain(table);
    held.n = 2;
    held.list.push(2);
    ts.restore();
    expect(held).toEqual({ n: 1, list: [1] });
  });

  it("the harness's constant operation and option tables are frozen, so the snapshot does not record them; what they reference still is", () => {
    const h = new Harness({ profile: 'mainline' });
    const snap = harnessSnapshot(h);
    const recorded = new Set(snap.recordedObjects().map((r) => r.o));
    const sys = h.sys;
    const cdev = sys.vfio.cdev as unknown as { fops: object; host: { iommufd: object } };
    const constant: [string, object][] = [
      ['vfio containerFops', sys.vfio.containerFops],
      ['vfio groupFops', sys.vfio.groupFops],
      ['vfio deviceFops', sys.vfio.deviceFops],
      ['vfio cdev fops', cdev.fops],
      ['vfio cdev host', cdev.host],
      ['vfio cdev iommufd API', cdev.host.iommufd],
      ['vfio host', sys.vfio.host],
      ['vfio-platform ops', sys.vfioPlatform!.ops],
      ['vfio-amba ops', sys.vfioAmba!.ops],
      ['vfio-platform ofMatch', sys.vfioPlatform!.ofMatch],
      ['syscall host', sys.syscalls.host],
      ['syscall host memory', sys.syscalls.host.memory],
      ['kernel drivers', sys.kernel.drivers],
      ['kernel mm', sys.kernel.mm],
      ['arm-smmu ofMatch', sys.kernel.drivers.armSmmu.ofMatch],
      ['cpu costs', sys.machine.cpu.costs],
      ['mem devices', sys.memDevices],
      // class instances whose fields are all readonly
      ['System', sys],
      ['Machine', sys.machine],
      ['cpu clock', sys.machine.cpu.clock],
      ['arm-smmu driver', sys.kernel.drivers.armSmmu],
      ['type1 driver', sys.type1!],
      ['vfio cdev', sys.vfio.cdev!],
      ['vfio-platform common', (sys.vfioPlatform as unknown as { common: object }).common],
    ];
    for (const [name, o] of constant) {
      expect(Object.isFrozen(o), name).toBe(true);
      expect(recorded.has(o), name).toBe(false);
    }
    // the stateful objects those tables reference are recorded as before
    expect(recorded.has(sys.vfs)).toBe(true);
    expect(recorded.has(sys.kernel.iommu)).toBe(true);
    expect(recorded.has(sys.syscalls)).toBe(true);
    expect(recorded.has(sys.machine.cpu)).toBe(true);
    expect(recorded.has(sys.kernel.drivers.armSmmu.instances)).toBe(true);
    // and a change to one of them is restored
    const cpu = sys.machine.cpu as unknown as Record<string, unknown>;
    const key = Object.keys(cpu).find((k) => typeof cpu[k] === 'number' && Object.getOwnPropertyDescriptor(cpu, k)!.writable)!;
    const v0 = cpu[key];
    cpu[key] = (v0 as number) + 12345;
    snap.restore();
    expect(cpu[key]).toBe(v0);
  });

  it('leaves the parts constantsOf names alone, and restores the rest of their owner', () => {
    const table = [{ name: 'A', reset: 1 }];
    const owner = { table, state: 1 };
    const snap = new GraphSnapshot([{ owner }], [], [], [], [], (o) => (o === owner ? [table] : null));
    table[0]!.reset = 7; // a "constant" changed anyway: left as it is (the exactness tests digest the whole graph)
    owner.state = 2;
    snap.restore();
    expect(owner.state).toBe(1);
    expect(table[0]!.reset).toBe(7);
  });

  it('leaves read-only properties alone and still drops added keys of a plain object holding one', () => {
    const root: Record<string, unknown> = { a: 1 };
    Object.defineProperty(root, 'ro', { value: 5, enumerable: true, writable: false });
    const snap = new GraphSnapshot([root], []);
    root.a = 2;
    root.added = 3;
    snap.restore();
    expect(root).toEqual({ a: 1, ro: 5 });
  });

  it('refuses a graph holding a generator (its state cannot be captured)', () => {
    function* g(): Generator<number> {
      yield 1;
    }
    expect(() => new GraphSnapshot([{ it: g() }], [])).toThrow(SnapshotUnsupported);
  });
});
