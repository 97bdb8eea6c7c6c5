/**
 * The harness's per-call tables without Map churn (round 15, docs/PERFORMANCE.md): pin-counts.ts
 * (PageCounts, SmallCounts) answer as the Maps they replace, and program.ts refFlags answers as
 * the five walks it replaces (makeRefs, hasBoundDevRef, hasHwptRef, hasIoasRef, hasDevRef), and
 * harness-base.ts u64 as BigInt.asUintN(64, BigInt(n)), and cover-rows.ts's interned rows are the
 * keys the harness built per call before.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { PageCounts, SmallCounts } from './pin-counts.js';
import { u64 } from './harness-base.js';
import { coverRow } from './cover-rows.js';
import { CONTAINER_IOMMUFD_IOCTLS } from './program-iommufd.js';
import { FD_IOCTLS } from './program.js';
import { callArbOf } from './arb.js';
import { REF_BOUND_DEV, REF_DEV, REF_HWPT, REF_IOAS, REF_MAKE, hasBoundDevRef, makeRefs, refFlags, type Call } from './program.js';

/** a check: pages (of a small set, so that they repeat) and their pin increments */
const check = fc.array(fc.tuple(fc.integer({ min: 0, max: 150 }), fc.integer({ min: 1, max: 3 })), { maxLength: 40 });

describe('PageCounts', () => {
  it('answers as a Map emptied before each check, across checks and past its first capacity', () => {
    fc.assert(
      fc.property(fc.array(check, { minLength: 1, maxLength: 12 }), (checks) => {
        const pc = new PageCounts();
        for (const adds of checks) {
          pc.begin();
          const m = new Map<number, number>();
          for (const [pg, n] of adds) {
            const pa = 0x80000000 + pg * 4096;
            pc.add(pa, n);
            m.set(pa, (m.get(pa) ?? 0) + n);
          }
          // every page ever counted (and some never counted) reads what this check's Map holds
          for (let pg = 0; pg <= 160; pg++) {
            const pa = 0x80000000 + pg * 4096;
            if (pc.get(pa) !== (m.get(pa) ?? 0)) return false;
          }
        }
        return true;
      }),
      { seed: 15, numRuns: 300 },
    );
  });
});

describe('SmallCounts', () => {
  it('answers as a Map emptied at each reset (undefined for a key not counted)', () => {
    const keys = [{}, {}, {}, {}];
    fc.assert(
      fc.property(fc.array(fc.array(fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 5 })), { maxLength: 12 }), { minLength: 1, maxLength: 6 }), (rounds) => {
        const sc = new SmallCounts<object>();
        for (const adds of rounds) {
          sc.reset();
          const m = new Map<object, number>();
          for (const [k, n] of adds) {
            sc.add(keys[k]!, n);
            m.set(keys[k]!, (m.get(keys[k]!) ?? 0) + n);
          }
          for (const k of keys) if (sc.get(k) !== m.get(k)) return false;
        }
        return true;
      }),
      { seed: 15, numRuns: 300 },
    );
  });
});

describe('refFlags', () => {
  it('answers as makeRefs, hasBoundDevRef and a plain walk of the struct fields for drawn calls of both eras', () => {
    // the ids' rule stated here on its own (has*Ref are refFlags' bits): a struct field holding
    // an object with that key
    const field = (c: Call, key: string): boolean => c.op === 'ioctl' && c.arg.t === 'struct' && Object.values(c.arg.fields).some((v) => typeof v === 'object' && v !== null && key in v);
    const want = (c: Call): number =>
      (makeRefs(c).length > 0 ? REF_MAKE : 0) | (hasBoundDevRef(c) ? REF_BOUND_DEV : 0) | (field(c, 'hwpt') ? REF_HWPT : 0) | (field(c, 'ioas') ? REF_IOAS : 0) | (field(c, 'dev') ? REF_DEV : 0);
    const seen = new Set<number>();
    for (const [iommufd, dirty] of [[true, false], [false, true], [false, false]] as const) {
      for (const c of fc.sample(callArbOf(iommufd, dirty), { seed: 15, numRuns: 6000 })) {
        expect(refFlags(c), JSON.stringify(c)).toBe(want(c));
        seen.add(refFlags(c));
      }
    }
    // the sample reaches each bit (else the comparison proves little)
    for (const bit of [REF_MAKE, REF_BOUND_DEV, REF_HWPT, REF_IOAS, REF_DEV]) expect([...seen].some((f) => (f & bit) !== 0), `bit ${bit}`).toBe(true);
  });
});

describe('u64', () => {
  it('is BigInt.asUintN(64, BigInt(n)) for integers around its table and far from it, and throws where BigInt does', () => {
    const ns = [0, -0, 1, 4095, 4096, 4097, -1, -4096, 2 ** 31, -(2 ** 31), 2 ** 32, 2 ** 53 - 1, -(2 ** 53 - 1)];
    for (const n of ns) expect(u64(n)).toBe(BigInt.asUintN(64, BigInt(n)));
    fc.assert(fc.property(fc.oneof(fc.integer({ min: -5000, max: 5000 }), fc.maxSafeInteger(), fc.maxSafeNat()), (n) => u64(n) === BigInt.asUintN(64, BigInt(n))), { seed: 15, numRuns: 2000 });
    expect(() => u64(1.5)).toThrow(RangeError);
    expect(() => u64(NaN)).toThrow(RangeError);
  });
});

describe('coverRow', () => {
  /** the key as harness-exec.ts cover() built it per call before it was interned */
  const before = (kind: 'container' | 'group' | 'device' | 'iommufd' | 'fault', what: string, iommufdRows: boolean, dirtyRow: boolean): string | null => {
    if (what.startsWith('FIO')) return null;
    if (kind === 'container' && iommufdRows && CONTAINER_IOMMUFD_IOCTLS.includes(what)) return `container:${what}`;
    if (kind === 'container' && dirtyRow && what === 'VFIO_IOMMU_DIRTY_PAGES') return 'container:VFIO_IOMMU_DIRTY_PAGES';
    return `${kind}:${FD_IOCTLS[kind].includes(what) ? what : 'unknown'}`;
  };
  it('gives the key built per call before, and its made: key, for every kind, name and flag pair (asked twice: the interned answer too)', () => {
    const kinds = ['container', 'group', 'device', 'iommufd', 'fault'] as const;
    const names = new Set<string>(['read', 'write', 'mmap', 'FIONBIO', 'FIOCLEX', 'NOT_A_REQUEST', 'VFIO_IOMMU_DIRTY_PAGES', ...CONTAINER_IOMMUFD_IOCTLS]);
    for (const k of kinds) for (const w of FD_IOCTLS[k]) names.add(w);
    let container = 0;
    for (let round = 0; round < 2; round++) {
      for (const what of names) {
        for (const kind of kinds) {
          for (const [iommufdRows, dirtyRow] of [[false, false], [false, true], [true, false], [true, true]] as const) {
            const want = before(kind, what, iommufdRows, dirtyRow);
            const row = coverRow(kind, what, iommufdRows, dirtyRow);
            expect(row === null ? null : row.key, `${kind} ${what} ${iommufdRows} ${dirtyRow}`).toBe(want);
            if (row !== null) expect(row.made).toBe(`made:${want}`);
            if (row !== null && kind === 'container' && row.key !== 'container:unknown' && !FD_IOCTLS.container.includes(what)) container++;
          }
        }
      }
    }
    // the flag-dependent container rows were reached
    expect(container).toBeGreaterThan(0);
  });
});
