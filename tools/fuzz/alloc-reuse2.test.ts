/**
 * The isolation check's refilled scratch (docs/PERFORMANCE.md, round 17b) carries nothing from
 * one call to the next: expectedPages' map and page objects, userDomains' answer, and
 * implDomains' answer with its groups arrays.
 */
import { describe, expect, it } from 'vitest';
import { SETUP_PREFIX } from './arb.js';
import { Harness, expectedPages } from './harness.js';
import type { UserDomain } from './model-state.js';
import { mapCall } from './testing/calls.js';
import type { Type1Iommu } from '../../kernel-model/vfio/type1.js';

const R = 1;
const W = 2;

/** a map's pages as plain triples, in the map's order */
function pages(m: Map<number, { pa: number; read: boolean; write: boolean }>): [number, number, boolean, boolean][] {
  return [...m].map(([pg, e]) => [pg, e.pa, e.read, e.write]);
}

type Insts = { id: number; it: Type1Iommu }[];

function implDomains(h: Harness, insts: Insts): readonly UserDomain[] {
  return (h as unknown as { implDomains(i: Insts): readonly UserDomain[] }).implDomains(insts);
}

describe('the isolation check\'s refilled scratch leaks nothing between calls', () => {
  it('expectedPages holds exactly the domain\'s pages, whatever the domain before it held', () => {
    const a: UserDomain = { container: 1, groups: [1], maps: [{ iova: 0x10000, size: 0x3000, prot: R | W, pa: [0x80000000, 0x80001000, 0x80002000] }] };
    const b: UserDomain = { container: 2, groups: [2], maps: [{ iova: 0x20000, size: 0x1000, prot: R, pa: [0x90000000] }] };
    expect(pages(expectedPages(a))).toEqual([
      [0x10, 0x80000000, true, true],
      [0x11, 0x80001000, true, true],
      [0x12, 0x80002000, true, true],
    ]);
    // fewer pages, other permissions: nothing of a's pages or of their fields is left
    expect(pages(expectedPages(b))).toEqual([[0x20, 0x90000000, true, false]]);
    // a write-only mapping after a read-only one: each field refilled
    const c: UserDomain = { container: 3, groups: [3], maps: [{ iova: 0x20000, size: 0x2000, prot: W, pa: [0x70000000, 0x70001000] }] };
    expect(pages(expectedPages(c))).toEqual([
      [0x20, 0x70000000, false, true],
      [0x21, 0x70001000, false, true],
    ]);
    expect(pages(expectedPages({ container: 4, groups: [], maps: [] }))).toEqual([]);
  });

  it('userDomains answers only the containers that hold groups now', () => {
    const h = new Harness({ profile: 'mainline' });
    for (const c of [...SETUP_PREFIX, mapCall]) h.exec(c);
    const cid = h.sys.vfio.containerStates()[0]!.id;
    const first = h.model.userDomains()!.map((d) => ({ container: d.container, groups: [...d.groups], maps: d.maps.length }));
    expect(first).toHaveLength(1);
    expect(first[0]!.container).toBe(cid);
    expect(first[0]!.maps).toBe(1);
    // P0 exits: its container goes, and the next answer is empty
    h.exec({ op: 'exit', p: 0 });
    expect(h.model.userDomains()).toEqual([]);
  });

  it('implDomains answers each call\'s containers and groups only, and leaves the implementation\'s lists alone', () => {
    const h = new Harness({ profile: 'mainline' });
    for (const c of [...SETUP_PREFIX, mapCall]) h.exec(c);
    const st = h.sys.vfio.containerStates()[0]!;
    const it1 = st.data as Type1Iommu;
    const gid = it1.groups[0]!.id;
    const empty = { groups: [], dmas: [] } as unknown as Type1Iommu;
    const two = { groups: [{ id: 7 }, { id: 8 }], dmas: [] } as unknown as Type1Iommu;
    const d1 = implDomains(h, [{ id: 5, it: two }, { id: st.id, it: it1 }]).map((d) => ({ container: d.container, groups: [...d.groups], maps: d.maps }));
    expect(d1).toEqual([
      { container: 5, groups: [7, 8], maps: [] },
      { container: st.id, groups: [gid], maps: it1.dmas },
    ]);
    // (its pooled objects are its own: the reference model's domain lists are not refilled)
    expect(h.model.userDomains()!.map((d) => [...d.groups])).toEqual([[gid]]);
    // one container, its group list shorter than the pooled object's last one
    const d2 = implDomains(h, [{ id: st.id, it: it1 }, { id: 9, it: empty }]).map((d) => ({ container: d.container, groups: [...d.groups], maps: d.maps }));
    expect(d2).toEqual([{ container: st.id, groups: [gid], maps: it1.dmas }]);
    // the reference model's domain still names the container's own group list, unchanged
    expect(h.model.userDomains()!.map((d) => [...d.groups])).toEqual([[gid]]);
    expect(it1.groups.map((g) => g.id)).toEqual([gid]);
  });
});
