import { describe, expect, it } from 'vitest';
import { PhysicalBus } from '../../emulator/bus.js';
import { EFAULT, EINTR, EINVAL } from '../base/errno.js';
import { AddressSpace, MAP_PRIVATE, PROT_READ, PROT_WRITE } from '../process/mm.js';
import { FakePageAllocator } from '../process/testing/fake-pages.js';
import { System } from '../../tools/system/system.js';
import { User } from '../vfio/platform/testing/user.js';
import { copyRemaining, timeLeftRecord } from './select-time.js';

/**
 * The time left select / pselect6 / ppoll write back (select-time.ts; 3.14.4
 * poll_select_copy_remaining, 6.12.19 poll_select_finish): its three layouts, the zero timeout
 * and STICKY_TIMEOUTS that write nothing, a faulting write that makes -ERESTARTNOHAND -EINTR.
 */
const ERESTARTNOHAND = 514;
const TS = 0x40000000;

function space(): AddressSpace {
  const bus = new PhysicalBus();
  bus.addRam('ram', 0x80000000, 1 << 20);
  const mm = new AddressSpace({ pages: new FakePageAllocator(bus, 0x80000000, 1 << 20), bus }, null);
  if (typeof mm.mapRegion(TS, 2 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | 0x20, true) === 'number') throw new Error('map');
  return mm;
}

const words = (mm: AddressSpace, n: number): number[] => Array.from({ length: n }, (_, i) => mm.loadU(TS + 4 * i, 4));

describe('the time left written back (select-time.ts copyRemaining)', () => {
  it('end_time less now, as a timeval (usec, truncated), a 32-bit timespec or a 64-bit __kernel_timespec; negative is zero', () => {
    const mm = space();
    // 3 s timeout at t = 1 s, now t = 2.2500017 s: 1.7499983 s left
    expect(copyRemaining(mm, 2_250_001_700, timeLeftRecord(TS, 'timeval', 'select', 1e9, 3e9), 5)).toBe(5);
    expect(words(mm, 2)).toEqual([1, 749_998]);
    expect(copyRemaining(mm, 2_250_001_700, timeLeftRecord(TS, 'timespec32', 'ppoll', 1e9, 3e9), 0)).toBe(0);
    expect(words(mm, 2)).toEqual([1, 749_998_300]);
    expect(copyRemaining(mm, 2_250_001_700, timeLeftRecord(TS, 'timespec64', 'pselect', 1e9, 3e9), 0)).toBe(0);
    expect(words(mm, 4)).toEqual([1, 0, 749_998_300, 0]);
    // past the end: zero (rts.tv_sec < 0)
    expect(copyRemaining(mm, 9e9, timeLeftRecord(TS, 'timespec64', 'ppoll', 1e9, 3e9), -EINVAL)).toBe(-EINVAL);
    expect(words(mm, 4)).toEqual([0, 0, 0, 0]);
  });

  it('a zero timeout is not written (nor without a timeout); STICKY_TIMEOUTS writes nothing and makes -ERESTARTNOHAND -EINTR', () => {
    const mm = space();
    mm.storeU(TS, 4, 0x1111);
    expect(copyRemaining(mm, 5e9, timeLeftRecord(TS, 'timespec32', 'ppoll', 1e9, 0), -ERESTARTNOHAND)).toBe(-ERESTARTNOHAND);
    expect(copyRemaining(mm, 5e9, null, -ERESTARTNOHAND)).toBe(-ERESTARTNOHAND);
    expect(copyRemaining(mm, 1e9, timeLeftRecord(TS, 'timespec32', 'ppoll', 1e9, 3e9), -ERESTARTNOHAND, true)).toBe(-EINTR);
    expect(copyRemaining(mm, 1e9, timeLeftRecord(TS, 'timespec32', 'ppoll', 1e9, 3e9), 2, true)).toBe(2);
    expect(words(mm, 1)).toEqual([0x1111]);
  });

  it('a write that faults: -ERESTARTNOHAND becomes -EINTR (no restart with a stale timeout), any other result stays', () => {
    const mm = space();
    expect(mm.mprotect(TS, 4096, PROT_READ)).toBe(0);
    const rec = timeLeftRecord(TS, 'timeval', 'select', 0, 1e9);
    expect(copyRemaining(mm, 0, rec, -ERESTARTNOHAND)).toBe(-EINTR);
    expect(copyRemaining(mm, 0, rec, 1)).toBe(1);
    expect(copyRemaining(mm, 0, rec, -EFAULT)).toBe(-EFAULT);
    // the timeout across the end of a writable page into an unmapped one
    expect(copyRemaining(mm, 0, timeLeftRecord(TS + 2 * 4096 - 4, 'timeval', 'select', 0, 1e9), -ERESTARTNOHAND)).toBe(-EINTR);
  });
});

describe('select(2) reads its timeval before core_sys_select checks n (sys_select / kern_select)', () => {
  for (const profile of ['rfc-v4', 'mainline']) {
    it(`a negative n with an unreadable timeval: -EFAULT; a readable one: -EINVAL (${profile})`, () => {
      const u = new User(new System({ profile }), 'sel');
      expect(u.call('_newselect', [-1, 0, 0, 0, 16])).toBe(-EFAULT);
      expect(u.call('_newselect', [-1, 0, 0, 0, 0])).toBe(-EINVAL);
      u.mem.write32(u.page, 1);
      u.mem.write32(u.page + 4, 0);
      expect(u.call('_newselect', [-1, 0, 0, 0, u.page])).toBe(-EINVAL);
    });
  }
});
