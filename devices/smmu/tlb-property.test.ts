/**
 * Property: random sequences of table changes, accesses, TLB maintenance and syncs agree
 * with a reference model of the architected "stale until invalidated and synced"
 * behaviour. Four pages in distinct TLB sets, so nothing is ever evicted and the cached
 * state is exactly determined by the operations. Accelerators on (through the bulk hooks)
 * and off.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { makeAttrs } from '../../emulator/attrs.js';
import { BUS_OK } from '../../emulator/bus.js';
import { newTranslationResult } from '../../emulator/master.js';
import * as R from './regs.js';
import { ent, l3Chain, makeRig, pageDesc } from './testing/rig.js';

const ASID = 5;
const PAGES = [1, 2, 3, 4];

type Op =
  | { k: 'map'; p: number; target: number; global: boolean }
  | { k: 'unmap'; p: number }
  | { k: 'access'; p: number }
  | { k: 'tlbiva'; p: number; asid: number }
  | { k: 'tlbiasid'; asid: number }
  | { k: 'tlbiall' }
  | { k: 'cbsync' }
  | { k: 'gsync' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ k: fc.constant('map' as const), p: fc.constantFrom(...PAGES), target: fc.integer({ min: 0, max: 15 }), global: fc.boolean() }),
  fc.record({ k: fc.constant('unmap' as const), p: fc.constantFrom(...PAGES) }),
  { weight: 3, arbitrary: fc.record({ k: fc.constant('access' as const), p: fc.constantFrom(...PAGES) }) },
  fc.record({ k: fc.constant('tlbiva' as const), p: fc.constantFrom(...PAGES), asid: fc.constantFrom(ASID, ASID + 1) }),
  fc.record({ k: fc.constant('tlbiasid' as const), asid: fc.constantFrom(ASID, ASID + 1) }),
  fc.record({ k: fc.constant('tlbiall' as const) }),
  fc.record({ k: fc.constant('cbsync' as const) }),
  fc.record({ k: fc.constant('gsync' as const) }),
);

interface Pte {
  pa: number;
  global: boolean;
}

describe.each([true, false])('SMMU TLB vs reference invalidation model (accel %s)', (accel) => {
  it('accesses see exactly the translations the architected TLB rules allow', () => {
    // with the accelerators every access goes through the bulk hooks first: a hit probe
    // (translateHits with count 0) and a quiet lookup, then the (replaying) translate()
    const rig = makeRig({ accel });
    rig.driverReset();
    const { pgd, l3 } = l3Chain(rig);
    rig.attach(1, 0, pgd, { asid: ASID, cfie: false });
    const attrs = makeAttrs({ streamId: 1 });
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 1, maxLength: 40 }), (ops) => {
        // clean start: empty tables and TLB
        for (const p of PAGES) rig.wr64(ent(l3, p), [0, 0]);
        rig.w(R.GR0_STLBIALL, 0);
        rig.w(R.GR0_STLBGSYNC, 0);
        const table = new Map<number, Pte>();
        const cached = new Map<number, Pte>();
        let pending: ((c: Map<number, Pte>) => void)[] = [];
        for (const op of ops) {
          switch (op.k) {
            case 'map': {
              const pte = { pa: 0x8100_0000 + op.target * 0x1000, global: op.global };
              table.set(op.p, pte);
              rig.wr64(ent(l3, op.p), pageDesc(pte.pa, { ng: !op.global }));
              break;
            }
            case 'unmap':
              table.delete(op.p);
              rig.wr64(ent(l3, op.p), [0, 0]);
              break;
            case 'access': {
              let want: Pte | undefined = cached.get(op.p);
              if (want === undefined) {
                want = table.get(op.p);
                if (want !== undefined) cached.set(op.p, want);
              }
              const out = newTranslationResult();
              if (accel) {
                const h = newTranslationResult();
                if (rig.smmu.translateHits!(op.p * 0x1000 + 0x10, attrs, 0, h)) expect(h.pa).toBe(want?.pa === undefined ? -1 : want.pa + 0x10);
                if (rig.smmu.quietLookup!(op.p * 0x1000 + 0x10, attrs, h)) expect(h.pa).toBe(want?.pa === undefined ? -1 : want.pa + 0x10);
              }
              rig.smmu.translate(op.p * 0x1000 + 0x10, attrs, out);
              if (want === undefined) expect(out.status).not.toBe(BUS_OK);
              else expect([out.status, out.pa]).toEqual([BUS_OK, want.pa + 0x10]);
              rig.cbw(0, R.CB_FSR, R.FSR_ALL);
              break;
            }
            case 'tlbiva': {
              const { p, asid } = op;
              rig.cbw(0, R.CB_TLBIVA, (p * 0x1000) | asid);
              pending.push((c) => {
                const e = c.get(p);
                if (e && (e.global || asid === ASID)) c.delete(p);
              });
              break;
            }
            case 'tlbiasid': {
              const { asid } = op;
              rig.cbw(0, R.CB_TLBIASID, asid);
              pending.push((c) => {
                if (asid !== ASID) return;
                for (const [p, e] of [...c]) if (!e.global) c.delete(p);
              });
              break;
            }
            case 'tlbiall':
              rig.cbw(0, R.CB_TLBIALL, 0);
              pending.push((c) => c.clear());
              break;
            case 'cbsync':
              rig.cbw(0, R.CB_TLBSYNC, 0);
              for (const f of pending) f(cached);
              pending = [];
              break;
            case 'gsync':
              rig.w(R.GR0_STLBGSYNC, 0);
              for (const f of pending) f(cached);
              pending = [];
              break;
          }
        }
        expect(rig.smmu.dumpTlb().length).toBe(cached.size);
      }),
      { numRuns: 300, seed: 0x71b },
    );
  });
});
