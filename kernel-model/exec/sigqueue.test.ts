import { describe, expect, it } from 'vitest';
import { UserCounts } from '../process/user-counts.js';
import { nextSignal, sigmask, SigPending, SI_QUEUE } from './sigqueue.js';

describe('the signal queue (kernel/signal.c next_signal, __sigqueue_alloc, collect_signal)', () => {
  it('next_signal: the first word\'s synchronous signals first, then the lowest; the second word (33-64) after every standard one', () => {
    expect(nextSignal(sigmask(2) | sigmask(11))).toBe(11); // SIGSEGV before SIGINT
    expect(nextSignal(sigmask(2) | sigmask(31))).toBe(31); // SIGSYS is synchronous too
    expect(nextSignal(sigmask(2) | sigmask(10))).toBe(2);
    expect(nextSignal(sigmask(40) | sigmask(32) | sigmask(64))).toBe(32);
    expect(nextSignal(sigmask(35) | sigmask(64))).toBe(35);
    expect(nextSignal(sigmask(64))).toBe(64);
    expect(nextSignal(sigmask(20) | sigmask(34))).toBe(20);
    expect(nextSignal(0n)).toBe(0);
  });

  it('entries per send, charged per uid up to the limit (override passes it), collected oldest first, the bit kept while one remains, flushed with their charge', () => {
    const users = new UserCounts();
    const q = new SigPending(users);
    expect(q.queue(40, { code: SI_QUEUE, pid: 5, uid: 0, value: 1 }, 1000, 2, false)).toBe(true);
    expect(q.queue(40, { code: SI_QUEUE, pid: 5, uid: 0, value: 2 }, 1000, 2, false)).toBe(true);
    expect(q.queue(40, { code: SI_QUEUE, pid: 5, uid: 0, value: 3 }, 1000, 2, false)).toBe(false);
    expect(q.queue(10, undefined, 1000, 2, true)).toBe(true);
    q.add(40);
    q.add(10);
    q.add(41); // pending without an entry (over the limit)
    expect(users.sigPending(1000)).toBe(3);
    expect(q.legacy(10)).toBe(true);
    expect(q.legacy(40)).toBe(false);
    expect(q.collect(40)?.value).toBe(1);
    expect(q.set & sigmask(40)).not.toBe(0n);
    expect(q.collect(40)?.value).toBe(2);
    expect(q.set & sigmask(40)).toBe(0n);
    expect(q.collect(41)).toBeUndefined(); // no entry: the caller gives a zeroed siginfo
    expect(q.set & sigmask(41)).toBe(0n);
    expect(users.sigPending(1000)).toBe(1);
    q.flush();
    expect([q.set, users.sigPending(1000)]).toEqual([0n, 0]);
  });
});
