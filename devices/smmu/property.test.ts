/**
 * Property test: for random tables and random addresses, the SMMU's walker agrees with an
 * independent reference decoder written here (BigInt descriptors, read from a plain map of
 * what the test wrote, not from the bus), with the accelerators on and off.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { makeAttrs } from '../../emulator/attrs.js';
import { BUS_OK } from '../../emulator/bus.js';
import { newTranslationResult } from '../../emulator/master.js';
import * as R from './regs.js';
import { makeRig, RAM_BASE, RAM_SIZE } from './testing/rig.js';

type RefResult = { ok: true; pa: number } | { ok: false; fault: string; level: number };

const HOLE = 0x1000_0000; // nothing decodes here
const IDX = [0, 1, 2, 3, 7, 511];

/** the reference: VMSAv7 LPAE stage 1, 4 KiB granule, TTBR0 only (TTBR1 region disabled by EPD1) */
function refTranslate(
  mem: (addr: number) => bigint | null,
  ttbr0: number,
  t0sz: number,
  affd: boolean,
  va: number,
  a: { write: boolean; instr: boolean; priv: boolean },
): RefResult {
  const n = 32 - t0sz;
  if (va >= 2 ** n) return { ok: false, fault: 'translation', level: 1 };
  let level = n > 30 ? 1 : 2;
  const align = level === 1 ? 5 - t0sz : 14 - t0sz;
  let base = ttbr0 - (ttbr0 % 2 ** align);
  let noUnpriv = 0n;
  let noWrite = 0n;
  let xnTable = 0n;
  let pxnTable = 0n;
  const bit = (d: bigint, i: number): bigint => (d >> BigInt(i)) & 1n;
  for (;;) {
    const shift = 12 + 9 * (3 - level);
    const top = level === 1 || (level === 2 && n <= 30) ? n : shift + 9;
    const index = Math.floor(va / 2 ** shift) % 2 ** (top - shift);
    const d = mem(base + 8 * index);
    if (d === null) return { ok: false, fault: 'external', level };
    if (bit(d, 0) === 0n) return { ok: false, fault: 'translation', level };
    const isTable = level < 3 && bit(d, 1) === 1n;
    if (isTable) {
      noUnpriv |= bit(d, 61);
      noWrite |= bit(d, 62);
      xnTable |= bit(d, 60);
      pxnTable |= bit(d, 59);
      base = Number(d & 0xff_ffff_f000n);
      level += 1;
      continue;
    }
    if (level === 3 && bit(d, 1) === 0n) return { ok: false, fault: 'translation', level };
    if (bit(d, 10) === 0n && !affd) return { ok: false, fault: 'access-flag', level };
    const readOnly = bit(d, 7) === 1n || noWrite === 1n;
    const el0 = bit(d, 6) === 1n && noUnpriv === 0n;
    const xn = bit(d, 54) === 1n || xnTable === 1n;
    const pxn = bit(d, 53) === 1n || pxnTable === 1n;
    let allowed: boolean;
    if (a.write) allowed = !readOnly && (a.priv || el0);
    else if (a.instr) allowed = (a.priv || el0) && !xn && !(a.priv && pxn);
    else allowed = a.priv || el0;
    if (!allowed) return { ok: false, fault: 'permission', level };
    const size = 2 ** shift;
    const oaMask = ((1n << 40n) - 1n) & ~(BigInt(size) - 1n);
    return { ok: true, pa: Number(d & oaMask) + (va % size) };
  }
}

// weighted so that walks usually reach a leaf: mostly valid descriptors, AF mostly set,
// table pointers mostly into the pool of table pages
const descArb = fc.record({
  type: fc.oneof({ weight: 5, arbitrary: fc.constant(3) }, { weight: 3, arbitrary: fc.constant(1) }, { weight: 2, arbitrary: fc.constantFrom(0, 2) }),
  attrLo: fc.integer({ min: 0, max: 0x3ff }),
  af: fc.oneof({ weight: 9, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
  hiAttr: fc.integer({ min: 0, max: 0xfff }),
  target: fc.oneof({ weight: 16, arbitrary: fc.integer({ min: 0, max: 6 }) }, { weight: 1, arbitrary: fc.constant(7) }, { weight: 3, arbitrary: fc.constantFrom(8, 9) }),
  rnd: fc.integer({ min: 0, max: 0xfffff }),
  rndHi: fc.integer({ min: 0, max: 0xff }),
});

/** 8 table pages, each with a descriptor at every index of IDX */
const tablesArb = fc.array(fc.array(descArb, { minLength: IDX.length, maxLength: IDX.length }), { minLength: 8, maxLength: 8 });

const accessArb = fc.record({
  i1: fc.integer({ min: 0, max: 3 }),
  /** keep the address inside the TTBR0 region most of the time */
  inRange: fc.oneof({ weight: 9, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
  i2: fc.constantFrom(...IDX),
  i3: fc.constantFrom(...IDX),
  off: fc.integer({ min: 0, max: 0xfff }),
  write: fc.boolean(),
  instr: fc.boolean(),
  priv: fc.boolean(),
});

describe.each([true, false])('SMMU walker vs reference decoder (accel %s)', (accel) => {
  it('agrees on random tables and addresses (output address or fault type and level)', () => {
    // with the accelerators, each access is first looked up quietly (the bulk-DMA hook), so
    // that the translate() after it replays that walk
    const rig = makeRig({ accel });
    rig.driverReset();
    const pool: number[] = [];
    for (let i = 0; i < 8; i++) pool.push(rig.page());
    const written: number[] = [];
    const SID = 3;
    fc.assert(
      fc.property(tablesArb, fc.array(accessArb, { minLength: 1, maxLength: 12 }), fc.integer({ min: 0, max: 3 }), fc.boolean(), fc.integer({ min: 0, max: 31 }), (tables, accesses, t0sz, affd, junk) => {
        // clear what the previous run wrote
        for (const a of written) rig.wr64(a, [0, 0]);
        written.length = 0;
        const shadow = new Map<number, bigint>();
        tables.forEach((entries, t) => {
          entries.forEach((d, k) => {
            const idx = IDX[k]!;
            const target = d.target <= 6 ? pool[d.target + 1]! : d.target === 7 ? HOLE : d.rndHi * 2 ** 32 + d.rnd * 4096;
            const lo = ((target % 2 ** 32) & 0xfffff000) | (((d.attrLo & ~0x100) | (d.af ? 0x100 : 0)) << 2) | d.type;
            const hi = (Math.floor(target / 2 ** 32) & 0xff) | (d.hiAttr << 20);
            const addr = pool[t]! + idx * 8;
            rig.wr64(addr, [lo >>> 0, hi >>> 0]);
            written.push(addr);
            shadow.set(addr, (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0));
          });
        });
        const mem = (addr: number): bigint | null =>
          addr >= RAM_BASE && addr + 8 <= RAM_BASE + RAM_SIZE ? (shadow.get(addr) ?? 0n) : null;
        const pgd = pool[0]!;
        rig.attach(SID, 1, pgd, {
          ttbcr: (R.TTBCR_EAE | R.TTBCR_EPD1 | t0sz) >>> 0,
          sctlrExtra: affd ? R.SCTLR_AFFD : 0,
        });
        // low TTBR bits below the table alignment are ignored by the walk
        rig.cbw(1, R.CB_TTBR0_LO, pgd + junk);
        rig.w(R.GR0_STLBIALL, 0);
        rig.w(R.GR0_STLBGSYNC, 0);
        for (const ac of accesses) {
          let va = ac.i1 * 2 ** 30 + ac.i2 * 2 ** 21 + ac.i3 * 4096 + ac.off;
          if (ac.inRange) va %= 2 ** (32 - t0sz);
          const attrs = makeAttrs({ streamId: SID, write: ac.write, instr: ac.instr && !ac.write, priv: ac.priv });
          const ref = refTranslate(mem, pgd + junk, t0sz, affd, va, { write: ac.write, instr: ac.instr && !ac.write, priv: ac.priv });
          const got = rig.smmu.translateNoSideEffects(SID, va, attrs);
          if (ref.ok) {
            expect(got).toMatchObject({ ok: true, pa: ref.pa });
          } else {
            expect(got).toMatchObject({ ok: false, fault: ref.fault, level: ref.level });
          }
          // the real path (with TLB and fault registers) agrees too
          rig.cbw(1, R.CB_FSR, R.FSR_ALL);
          const out = newTranslationResult();
          if (accel) {
            const q = newTranslationResult();
            if (rig.smmu.quietLookup!(va, attrs, q)) expect([ref.ok, q.pa]).toEqual([true, ref.ok ? ref.pa : -1]);
          }
          rig.smmu.translate(va, attrs, out);
          if (ref.ok) {
            expect(out.status).toBe(BUS_OK);
            expect(out.pa).toBe(ref.pa);
          } else {
            const bitFor: Record<string, number> = { translation: R.FSR_TF, 'access-flag': R.FSR_AFF, permission: R.FSR_PF, external: R.FSR_EF };
            expect(rig.cbr(1, R.CB_FSR)).toBe(bitFor[ref.fault]);
            expect(rig.cbr(1, R.CB_FSYNR0) & 3).toBe(ref.level);
            expect(rig.cbr(1, R.CB_FAR_LO)).toBe(va);
          }
        }
      }),
      { numRuns: 300, seed: 0x5eed },
    );
  });
});
