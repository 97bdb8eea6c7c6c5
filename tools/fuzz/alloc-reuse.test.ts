/**
 * What the harness reuses from call to call instead of allocating (docs/PERFORMANCE.md, round
 * 17) carries nothing from one call to the next: the syscall argument arrays, the isolation
 * checks' state (compareBank's verdict, the stream a message names), tlbEntries' refilled
 * object, and the group path parser that replaced a regular expression.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SECOND_GROUP, SETUP_PREFIX } from './arb.js';
import { execCall } from './engine.js';
import { Harness } from './harness.js';
import { groupPathId } from './model-fds.js';
import type { Call } from './program.js';
import { SmmuView, type TlbLeaf } from './isolation.js';
import { args1, args2, args3, args6 } from './sys-args.js';
import { mapCall } from './testing/calls.js';
import { Smmu } from '../../devices/smmu/smmu.js';
import type { Type1Iommu } from '../../kernel-model/vfio/type1.js';

/** a call that can change mappings (a close that fails with EBADF): the isolation check runs after it */
const touch: Call = { op: 'close', p: 0, fd: { raw: 999 } };

describe('allocation-free reuse leaks nothing between calls', () => {
  it('each arity has its own argument array, holding exactly the call\'s arguments', () => {
    const six = args6(1, 2, 3, 4, 5, 2 ** 31 + 7);
    expect([...six]).toEqual([1, 2, 3, 4, 5, 2 ** 31 + 7]);
    // open's mode is read only when a third argument is there (a.length): a 2-argument call
    // after a 3- or 6-argument one has length 2 and nothing of the earlier call
    const three = args3(9, 0xc0de, 2 ** 32 - 1);
    const two = args2(11, 12);
    const one = args1(13);
    expect([...two]).toEqual([11, 12]);
    expect([...one]).toEqual([13]);
    expect([...three]).toEqual([9, 0xc0de, 2 ** 32 - 1]);
    expect(new Set([one, two, three, six]).size).toBe(4);
    // refilled in place: the next call of an arity overwrites every element
    expect([...args3(0, 0, 0)]).toEqual([0, 0, 0]);
  });

  it('an ignored isolation finding does not silence the next call\'s isolation check (compareBank\'s verdict is reset)', () => {
    for (const profile of ['rfc-v4', 'mainline']) {
      const h = new Harness({ profile, ignore: new Set(['dma-missing']) });
      for (const c of [...SETUP_PREFIX, mapCall]) h.exec(c);
      const it1 = h.sys.vfio.containerStates()[0]!.data as Type1Iommu;
      // the first page leaves the SMMU tables: reported (and ignored) as missing
      expect(it1.domain.unmap(0x10000, 0x1000)).toBe(0x1000);
      expect(execCall(h, touch)).toBeNull();
      expect(h.seen.map((f) => f.sig)).toContain('dma-missing');
      // it comes back at the other page's frame: the next check compares again and finds it
      expect(it1.domain.map(0x10000, it1.dmas[0]!.pa[1]!, 0x1000, 3)).toBe(0);
      expect(execCall(h, touch)?.sig, profile).toBe('dma-wrong-page');
    }
  });

  it('an isolation finding names the stream, group and container of the bank compared', () => {
    const h = new Harness({ profile: 'rfc-v4' });
    for (const c of [...SETUP_PREFIX, mapCall]) h.exec(c);
    const it1 = h.sys.vfio.containerStates()[0]!.data as Type1Iommu;
    it1.domain.unmap(0x10000, 0x1000);
    const f = execCall(h, touch);
    expect(f?.sig).toBe('dma-missing');
    const group = it1.groups[0]!.id;
    const container = h.sys.vfio.containerStates()[0]!.id;
    expect(f?.message).toBe(`stream ${h.streamId} (group ${group}, container ${container}): iova 0x10000 is mapped (write) but context bank ${cbOf(h)} has no valid entry for it`);
  });

  it('the next finding names its own container, not the text of an earlier one', () => {
    const h = new Harness({ profile: 'rfc-v4', ignore: new Set(['dma-missing']) });
    for (const c of [...SETUP_PREFIX, mapCall]) h.exec(c);
    const first = h.sys.vfio.containerStates()[0]!;
    (first.data as Type1Iommu).domain.unmap(0x10000, 0x1000);
    expect(execCall(h, touch)).toBeNull();
    expect(h.seen.at(-1)?.message).toMatch(new RegExp(`^stream ${h.streamId} \\(group \\d+, container ${first.id}\\)`));
    // P0 exits (its container goes) and sets up again: a new container, the same stream
    h.exec({ op: 'exit', p: 0 });
    for (const c of [...SETUP_PREFIX, mapCall]) h.exec(c);
    const second = h.sys.vfio.containerStates()[0]!;
    expect(second.id).not.toBe(first.id);
    (second.data as Type1Iommu).domain.unmap(0x10000, 0x1000);
    h.setIgnore(new Set());
    expect(execCall(h, touch)?.message).toMatch(new RegExp(`^stream ${h.streamId} \\(group \\d+, container ${second.id}\\)`));
  });

  it('tlbEntries refills one object per entry: each entry is the TLB\'s own, read during the call', () => {
    const mmio = (off: number, value: number): Call => ({ op: 'mmio', p: 0, map: 0, off, width: 4, write: true, value });
    // test-dma (the second group) copies 0x10000 -> 0x11000 through the SMMU: two cached leaves
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
    ];
    const h = new Harness({ profile: 'mainline' });
    for (const c of program) expect(execCall(h, c)).toBeNull();
    const smmu = smmuOf(h);
    const view = new SmmuView(smmu, h.sys.machine.bus);
    const cb = cbOf(h);
    const got: TlbLeaf[] = [];
    view.tlbEntries(cb, (l) => got.push({ ...l }));
    const tlb = smmu.tlb;
    const want: [number, number, number][] = [];
    for (let w = 0; w < tlb.valid.length; w++) if (tlb.valid[w] !== 0 && tlb.cb[w] === cb) want.push([tlb.va[w]!, tlb.size[w]!, tlb.pa[w]!]);
    expect(want.length).toBeGreaterThanOrEqual(2);
    expect(got.map((l) => [l.va, l.size, l.pa])).toEqual(want);
    const it1 = h.sys.vfio.containerStates()[0]!.data as Type1Iommu;
    expect(new Set(got.map((l) => l.pa))).toEqual(new Set([it1.dmas[0]!.pa[0], it1.dmas[0]!.pa[1]]));
    expect(got.every((l) => l.read && l.write)).toBe(true);
  });

  it('groupPathId reads /dev/vfio/<digits> as the regular expression it replaced did', () => {
    const re = /^\/dev\/vfio\/(\d+)$/;
    const old = (p: string): number => {
      const m = re.exec(p);
      return m ? Number(m[1]) : -1;
    };
    for (const p of ['/dev/vfio/0', '/dev/vfio/12', '/dev/vfio/007', '/dev/vfio/', '/dev/vfio/vfio', '/dev/vfio/1a', '/dev/vfio/-1', '/dev/vfio/ 1', '/dev/vfio/1/', '/dev/vfio//1', 'dev/vfio/1', '/dev/vfio/' + '9'.repeat(20), '/dev/vfio/' + '1'.repeat(400), '/dev/vfio/１']) {
      expect(groupPathId(p), p).toBe(old(p));
    }
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...'/devfio0123456789x'), { maxLength: 30 }), fc.boolean(), (cs, prefixed) => {
        const p = (prefixed ? '/dev/vfio/' : '') + cs.join('');
        expect(groupPathId(p)).toBe(old(p));
      }),
    );
  });
});

function smmuOf(h: Harness): Smmu {
  return h.sys.machine.devices.map((d) => d.mmio[0]).find((m): m is Smmu => m instanceof Smmu)!;
}

/** the context bank the harness's stream translates in */
function cbOf(h: Harness): number {
  const r = new SmmuView(smmuOf(h), h.sys.machine.bus).route(h.streamId);
  if (r.kind !== 'translate') throw new Error(`stream ${h.streamId}: ${r.kind}`);
  return r.cb;
}

