/**
 * Property: SET_IRQS with arbitrary headers on the 2014 driver (patches 09 and 10) through
 * the real stack. The header checks of patch 09 decide -EINVAL exactly; a header that
 * passes them reaches the action handlers, whose results stay within the errnos the
 * posted code can return; the only kernel faults are the loopbacks: at patch 10 on an irq
 * without a trigger (eventfd_signal(NULL)), at patch 09 every one (eventfd_signal on the
 * irq struct, the dev_id mismatch), and they happen exactly then.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EBADF, EFAULT, EFD_NONBLOCK, EINVAL, ENOTTY } from '../../uapi/index.js';
import { setup, vfioDriverOf } from './testing/user.js';

const NUM_IRQS = 5;

function headerValid(argsz: number, flags: number, index: number, start: number, count: number): boolean {
  if (argsz < 20) return false;
  if (index >= NUM_IRQS) return false;
  if (start !== 0 || count > 1) return false;
  if (count === 0 && (!(flags & 1) || !(flags & 0x20))) return false;
  if (flags & ~0x3f) return false;
  return true;
}

describe('SET_IRQS header validation (property)', () => {
  it.each([['patches:1-9', 9], ['rfc-v4', 10]])('%s', (profile, level) => {
    const { sys, u, device } = setup(profile);
    const efd = u.call('eventfd2', [0, EFD_NONBLOCK]);
    const header = fc.record({
      argsz: fc.oneof({ arbitrary: fc.constant(24), weight: 6 }, { arbitrary: fc.integer({ min: 0, max: 40 }), weight: 1 }),
      flags: fc.oneof(
        { arbitrary: fc.constantFrom(0x21, 0x22, 0x24, 0x09, 0x0a, 0x0c, 0x11, 0x12, 0x14), weight: 6 },
        { arbitrary: fc.integer({ min: 0, max: 0x7f }), weight: 2 },
        { arbitrary: fc.integer({ min: 0, max: 0xffffffff }), weight: 1 },
      ),
      index: fc.oneof({ arbitrary: fc.integer({ min: 0, max: NUM_IRQS - 1 }), weight: 6 }, { arbitrary: fc.integer({ min: 0, max: 0xffffffff }), weight: 1 }),
      start: fc.oneof({ arbitrary: fc.constant(0), weight: 6 }, { arbitrary: fc.integer({ min: 0, max: 0xffffffff }), weight: 1 }),
      count: fc.oneof({ arbitrary: fc.constantFrom(0, 1, 1), weight: 6 }, { arbitrary: fc.integer({ min: 0, max: 0xffffffff }), weight: 1 }),
      data: fc.constantFrom<'efd' | 'one' | 'zero' | 'minus1' | 'badfd'>('efd', 'one', 'zero', 'minus1', 'badfd'),
    });
    const seen = { invalid: 0, valid: 0, ok: 0, oops: 0 };
    fc.assert(
      fc.property(header, (h) => {
        const fdVal = h.data === 'efd' ? efd : h.data === 'one' ? 1 : h.data === 'zero' ? 0 : h.data === 'minus1' ? -1 : 99;
        const valid = headerValid(h.argsz, h.flags, h.index, h.start, h.count);
        const irq = valid ? vfioDriverOf(sys).inspect()[0]!.irqs[h.index]! : null;
        // patch 10 loopback without a trigger: DATA_NONE, or DATA_BOOL whose first byte is 1
        const loop = (h.flags & 0x38) === 0x20 && h.count === 1 && ((h.flags & 7) === 1 || ((h.flags & 7) === 2 && (fdVal & 0xff) === 1));
        // patch 09: every loopback runs eventfd_signal on the irq struct (dev_id mismatch)
        const oops = valid && loop && (level === 9 || !irq!.trigger);
        let r: number | null = null;
        let thrown: unknown = null;
        try {
          r = u.setIrqs(device, h.flags, h.index, h.start, h.count, { fd: fdVal }, h.argsz);
        } catch (e) {
          thrown = e;
        }
        seen[valid ? 'valid' : 'invalid']++;
        if (oops) {
          seen.oops++;
          expect(String(thrown)).toMatch(level === 9 ? /NULL pointer dereference at virtual address 0x00000001: __wake_up_common/ : /NULL pointer dereference at virtual address 0x00000010: eventfd_signal/);
          return;
        }
        expect(thrown).toBeNull();
        if (r === 0) seen.ok++;
        if (!valid) expect(r).toBe(-EINVAL);
        else expect([0, -EINVAL, -ENOTTY, -EFAULT, -EBADF]).toContain(r);
        // MASK/UNMASK are not implemented at 09
        if (valid && level === 9 && (h.flags & 0x38) !== 0x20) expect(r).toBe(-ENOTTY);
      }),
      { numRuns: 300, seed: 8 },
    );
    // the generators reach every branch of the oracle
    expect(seen.invalid).toBeGreaterThan(20);
    expect(seen.valid).toBeGreaterThan(20);
    expect(seen.ok).toBeGreaterThan(5);
    expect(seen.oops).toBeGreaterThan(0);
  });
});
