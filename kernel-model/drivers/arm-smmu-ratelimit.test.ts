import { describe, expect, it } from 'vitest';
import { KernelLog } from '../base/klog.js';
import { HZ } from '../irq/spurious.js';
import { Ratelimit } from './arm-smmu-ratelimit.js';

const JIFFY_NS = 1e9 / HZ;

/** which of the calls at the given jiffies may print, for a burst of 2 in 10 jiffies */
function pattern(reset: 'zero' | 'jiffies', calls: number[]): boolean[] {
  const rs = new Ratelimit('f', reset, 10, 2);
  const log = new KernelLog(() => 0);
  return calls.map((j) => rs.allow(log, j * JIFFY_NS));
}

describe('___ratelimit (lib/ratelimit.c): the interval after a reset', () => {
  // calls at jiffies 1, 2, 3 (third suppressed), 12 (interval over: reset, prints), 13, 22, 23
  const calls = [1, 2, 3, 12, 13, 22, 23];
  it('v6.12: begin = jiffies at the reset, so the window restarts at 12 and ends before 23', () => {
    expect(pattern('jiffies', calls)).toEqual([true, true, false, true, true, false, true]);
  });
  it('3.14: begin = 0 at the reset, so the call at 13 starts the window, and 22, 23 fall inside it', () => {
    expect(pattern('zero', calls)).toEqual([true, true, false, true, true, false, false]);
  });
});
